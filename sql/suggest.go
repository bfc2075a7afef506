package sql

import (
	"maps"
	"slices"
	"strings"
)

// editDistance returns the optimal-string-alignment distance between a and
// b (Levenshtein plus adjacent transpositions), comparing bytes without case.
// It is only used on the error path.
func editDistance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	// Three rows: two back (for transpositions), previous and current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// maxDistance is how far a word may be from a candidate to be suggested:
// one edit for short words, two up to eight letters, three beyond.
func maxDistance(word string) int {
	switch n := len(word); {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// suggest returns the candidate nearest to word, or "" when none is near
// enough. synonyms maps other tools' names to candidates; a word equal or
// near to a synonym suggests its target. On ties the earlier candidate wins.
func suggest(word string, candidates []string, synonyms map[string]string) string {
	if word == "" {
		return ""
	}
	if t, ok := synonyms[strings.ToLower(word)]; ok {
		return t
	}
	limit := maxDistance(word)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestD && d < len(word) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	// A near miss of a synonym ("protcol") still points at its target. Walk
	// the synonyms in a fixed order so the answer does not depend on map order.
	for _, k := range slices.Sorted(maps.Keys(synonyms)) {
		if d := editDistance(word, k); d < bestD && d < len(word) {
			best, bestD = synonyms[k], d
		}
	}
	return best
}

// columnNames returns the names of all columns, for suggestions.
func columnNames() []string {
	names := make([]string, 0, numColumns)
	for _, c := range Columns() {
		names = append(names, c.Name())
	}
	return names
}
