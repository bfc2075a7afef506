package columnar

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "ti": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pi": 1 << 50, "pib": 1 << 50, "pb": 1e15,
}

// ParseSize reads a byte size such as "10GiB", "500MB", "1.5g" or "4096".
// Units are case-insensitive: KiB, MiB, GiB, TiB, PiB are powers of 1024,
// kB, MB, GB, TB, PB powers of 1000, and a bare K, M, G, T, P means the
// power of 1024 (as du and ls print). No unit means bytes.
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	mult, ok := sizeUnits[strings.ToLower(strings.TrimSpace(unit))]
	if num == "" || !ok {
		return 0, fmt.Errorf("%w: %q (want a number and a unit such as 500MB or 10GiB)", ErrBadSize, s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrBadSize, s, err)
	}
	b := math.Round(v * mult)
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%w: %q exceeds %d bytes", ErrBadSize, s, int64(math.MaxInt64))
	}
	return int64(b), nil
}

var ageUnits = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// ParseAge reads an age such as "30d", "12h", "2w", "90m" or "1d12h". Units
// are s, m, h, d (24 h) and w (7 d); "0" means zero.
func ParseAge(s string) (time.Duration, error) {
	rest := strings.TrimSpace(s)
	if rest == "0" {
		return 0, nil
	}
	if rest == "" {
		return 0, fmt.Errorf("%w: empty (want e.g. 30d or 12h)", ErrBadAge)
	}
	var total float64
	for rest != "" {
		num, tail := splitNumber(rest)
		i := 0
		for i < len(tail) && (tail[i] < '0' || tail[i] > '9') && tail[i] != '.' {
			i++
		}
		unit, ok := ageUnits[strings.ToLower(tail[:i])]
		if num == "" || !ok {
			return 0, fmt.Errorf("%w: %q (want a number and a unit s, m, h, d or w, e.g. 30d)", ErrBadAge, s)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q: %v", ErrBadAge, s, err)
		}
		total += v * float64(unit)
		rest = tail[i:]
	}
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("%w: %q is too long", ErrBadAge, s)
	}
	return time.Duration(math.Round(total)), nil
}

// splitNumber splits a leading unsigned decimal number (digits and at most
// one '.') from the rest.
func splitNumber(s string) (num, rest string) {
	i, dot := 0, false
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' && !dot) {
		dot = dot || s[i] == '.'
		i++
	}
	return s[:i], s[i:]
}
