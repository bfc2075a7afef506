package main

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowsql/flowsql/sql"
)

// FuzzQueryErrorCaret feeds arbitrary query text to the parser: every
// *sql.Error must point at a line of the text, and the caret padding must
// end within that line (or just past its end), so the error rendering
// never panics or points nowhere.
func FuzzQueryErrorCaret(f *testing.F) {
	for _, s := range []string{
		"SELECT dipp, sum(bytes) GROUP BY dipp",
		"SELECT sip,\n\tsum(bytes)\nWHERE dport = 99999 GROUP BY sip",
		"select",
		"SELECT é FROM x",
		"SELECT sip WHERE sip = 10.0.0.0/33\r\n",
		"EXPLAIN SELECT * WHERE time >= 24h",
		"SELECT sip FROM 'eth0\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, err := sql.Parse(text)
		var se *sql.Error
		if !errors.As(err, &se) || !se.Pos.IsValid() {
			return
		}
		line, pad, ok := caretLines(text, se.Pos)
		if !ok {
			t.Fatalf("error %q at %v has no line in %q", se, se.Pos, text)
		}
		if strings.Contains(line, "\n") || strings.Trim(pad, " \t") != "" {
			t.Fatalf("bad caret for %q: line %q pad %q", text, line, pad)
		}
		if n, max := utf8.RuneCountInString(pad), utf8.RuneCountInString(line); n > max {
			t.Fatalf("caret at %d past the end of %q (%d runes), error %q", n, line, max, se)
		}
	})
}
