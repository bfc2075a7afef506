package sql

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file turns the text of literals into values and back. Parsers return
// a human-readable reason ("" on success) that becomes an Error's Hint.

// parseUint parses a decimal uint64.
func parseUint(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// netipReason extracts the reason from a net/netip parse error, whose text
// is `ParseAddr("x"): reason`.
func netipReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// parseAddr parses an IPv4 or IPv6 address without zone.
func parseAddr(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, netipReason(err)
	}
	if a.Zone() != "" {
		return netip.Addr{}, "zones are not allowed"
	}
	return a, ""
}

// parsePrefix parses a CIDR prefix whose host bits are zero. When only the
// host bits are wrong it also returns the masked prefix as a suggestion.
func parsePrefix(s string) (p netip.Prefix, reason, suggestion string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return netip.Prefix{}, "missing /length", ""
	}
	a, reason := parseAddr(s[:i])
	if reason != "" {
		return netip.Prefix{}, reason, ""
	}
	bitsText := s[i+1:]
	bits, ok := parseUint(bitsText)
	if !allDigits(bitsText) || !ok || len(bitsText) > 3 {
		return netip.Prefix{}, fmt.Sprintf("bad prefix length %q", bitsText), ""
	}
	family := "IPv4"
	if a.Is6() {
		family = "IPv6"
	}
	if bits > uint64(a.BitLen()) {
		return netip.Prefix{}, fmt.Sprintf("prefix length %d is out of range for %s (0-%d)", bits, family, a.BitLen()), ""
	}
	p = netip.PrefixFrom(a, int(bits))
	if m := p.Masked(); m != p {
		return netip.Prefix{}, "host bits are set", m.String()
	}
	return p, "", ""
}

// Duration units, largest first, as written in queries.
var durationUnits = [...]struct {
	unit string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
}

const unitsHint = "units are s, m, h, d and w, as in 30s, 5m, 1h30m, 7d"

// parseDuration parses an unsigned duration: one or more <digits><unit>
// terms, such as 30s, 1h30m or 7d. A day is 24h and a week 7d.
func parseDuration(s string) (time.Duration, string) {
	if s == "" {
		return 0, "missing value; " + unitsHint
	}
	var total time.Duration
	for s != "" {
		n := 0
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 0 {
			return 0, fmt.Sprintf("expected digits before %q; %s", s, unitsHint)
		}
		v, ok := parseUint(s[:n])
		s = s[n:]
		u := 0
		for u < len(s) && !isDigit(s[u]) {
			u++
		}
		unit := s[:u]
		s = s[u:]
		if unit == "" {
			return 0, "missing unit; " + unitsHint
		}
		var scale time.Duration
		for _, du := range durationUnits {
			if du.unit == unit {
				scale = du.d
			}
		}
		if scale == 0 {
			return 0, fmt.Sprintf("unknown unit %q; %s", unit, unitsHint)
		}
		if !ok || v > uint64(math.MaxInt64/scale) || total > math.MaxInt64-time.Duration(v)*scale {
			return 0, "duration too large"
		}
		total += time.Duration(v) * scale
	}
	return total, ""
}

// formatDuration writes a non-negative whole-second duration in canonical
// form: "7d" for whole days, otherwise hours, minutes and seconds with zero
// terms left out ("36h", "1h30m"; "0s" for zero). Weeks are written as days.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	const day = 24 * time.Hour
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	var b []byte
	for _, du := range durationUnits[2:] {
		if q := d / du.d; q > 0 {
			b = strconv.AppendInt(b, int64(q), 10)
			b = append(b, du.unit...)
			d -= q * du.d
		}
	}
	return string(b)
}

// timeLayouts are the accepted absolute time layouts, tried in order. A
// fractional second is accepted after the seconds of any of them. Without a
// zone the time is UTC.
var timeLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04 Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02Z07:00",
	"2006-01-02",
}

const timeHint = "write a time as 2025-03-10, '2025-03-10 11:00', '2025-03-10 11:00:05+01:00' or 2025-03-10T11:00:00Z (UTC unless a zone is given)"

// parseTime parses an absolute time in one of timeLayouts, or with a
// trailing " UTC". The result is in UTC.
func parseTime(s string) (time.Time, string) {
	s = strings.TrimSpace(s)
	if t, ok := strings.CutSuffix(s, " UTC"); ok {
		s = strings.TrimSpace(t) + "Z"
	}
	reason := ""
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			t = t.UTC()
			if t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, "year out of range (1-9999)"
			}
			return t, ""
		}
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" && reason == "" {
			reason = strings.TrimPrefix(pe.Message, ": ")
		}
	}
	if reason != "" {
		return time.Time{}, reason + "; " + timeHint
	}
	return time.Time{}, timeHint
}

// formatTime writes t as RFC 3339 in UTC, with as many fractional digits as needed.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// protocols maps IP protocol numbers to the names written in queries. The
// first name of a number is its canonical one.
var protocols = [...]struct {
	num  uint8
	name string
}{
	{1, "icmp"}, {2, "igmp"}, {4, "ipip"}, {6, "tcp"}, {8, "egp"}, {17, "udp"},
	{41, "ipv6"}, {46, "rsvp"}, {47, "gre"}, {50, "esp"}, {51, "ah"},
	{58, "icmpv6"}, {88, "eigrp"}, {89, "ospf"}, {103, "pim"}, {112, "vrrp"},
	{115, "l2tp"}, {132, "sctp"}, {136, "udplite"},
	// aliases
	{4, "ipencap"}, {58, "ipv6-icmp"}, {58, "icmp6"}, {89, "ospfigp"},
}

// ProtoName returns the canonical name of IP protocol p ("tcp", "icmpv6",
// ...), or its decimal number when it has no name in the dialect.
func ProtoName(p uint8) string {
	for _, e := range protocols {
		if e.num == p {
			return e.name
		}
	}
	return strconv.Itoa(int(p))
}

// LookupProto returns the IP protocol number of a protocol name
// (case-insensitive), e.g. 6 for "tcp" and 58 for "icmpv6" or "ipv6-icmp".
func LookupProto(name string) (uint8, bool) {
	for _, e := range protocols {
		if strings.EqualFold(e.name, name) {
			return e.num, true
		}
	}
	return 0, false
}

// protoNames lists all protocol names, for suggestions.
func protoNames() []string {
	names := make([]string, len(protocols))
	for i, e := range protocols {
		names[i] = e.name
	}
	return names
}

// unquote returns the content of a quoted string token (quotes removed,
// doubled quotes made single).
func unquote(raw string) string {
	if len(raw) < 2 {
		return raw
	}
	q := raw[:1]
	return strings.ReplaceAll(raw[1:len(raw)-1], q+q, q)
}

// quoteString writes s as a single-quoted SQL string.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteName writes a name (alias) bare when it lexes as one identifier, and
// double-quoted otherwise.
func quoteName(s string) string {
	if isBareName(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// isBareName reports whether s, written without quotes, lexes back as one
// identifier token with the same text.
func isBareName(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '_') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordChar(s[i]) || s[i] == ':' || s[i] == '/' {
			return false
		}
	}
	return !isKeyword(s)
}
