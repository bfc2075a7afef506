package sql

import (
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// Compare runs with benchstat (golang.org/x/perf/cmd/benchstat):
//
//	go test ./sql -run '^$' -bench . -count 10 > new.txt
//	benchstat old.txt new.txt
//
// BenchmarkLex is the floor (tokenizing only) and BenchmarkNewParserAndParse
// the cost of building a Parser per call, which is why Parse shares one.

// typicalQuery is the kind of query DESIGN §1 expects: top talkers over a
// day on two interfaces, filtered by protocol, port range and prefix.
const typicalQuery = `SELECT sip, dip, dport, sum(bytes) AS total, count(*) FROM eth0, eth1 ` +
	`WHERE time >= -24h AND proto = tcp AND dport BETWEEN 1 AND 1023 AND dip IN (10.0.0.0/8, 2001:db8::/32) ` +
	`GROUP BY sip, dip, dport ORDER BY total DESC LIMIT 10`

func BenchmarkParse(b *testing.B) {
	p, err := NewParser()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(typicalQuery)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(typicalQuery); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseError measures the error path (a misspelt column, which
// runs the suggestion search).
func BenchmarkParseError(b *testing.B) {
	p, err := NewParser()
	if err != nil {
		b.Fatal(err)
	}
	const q = `SELECT sip, sum(bytes) FROM eth0 WHERE dipp = 10.1.2.3 GROUP BY sip`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(q); err == nil {
			b.Fatal("no error")
		}
	}
}

// BenchmarkLex is the baseline: tokenizing the same query without parsing.
func BenchmarkLex(b *testing.B) {
	b.SetBytes(int64(len(typicalQuery)))
	b.ReportAllocs()
	tokens := 0
	for b.Loop() {
		sc := &scanner{src: typicalQuery, pos: Pos{Line: 1, Col: 1}}
		tokens = 0
		for {
			tok, err := sc.Next()
			if err != nil {
				b.Fatal(err)
			}
			if tok.Type == lexer.EOF {
				break
			}
			tokens++
		}
	}
	b.ReportMetric(float64(tokens), "tokens/op")
}

// BenchmarkNewParser is the one-off cost of building the grammar.
func BenchmarkNewParser(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewParser(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewParserAndParse is the cost per query if no Parser were shared.
func BenchmarkNewParserAndParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewParser()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Parse(typicalQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkString(b *testing.B) {
	s, err := Parse(typicalQuery)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.String()
	}
}
