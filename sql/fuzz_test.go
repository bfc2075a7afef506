package sql

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input makes Parse panic or fail internally, that
// every error is an *Error positioned inside the input, and that every
// query that parses round-trips: its canonical text parses to the same AST
// (positions aside) and formats to the same text. Seeds are the inputs of
// testdata/parse.txt plus the extras below.
//
//	go test ./sql -run '^$' -fuzz FuzzParse -fuzztime 20s
func FuzzParse(f *testing.F) {
	for _, c := range readGolden(f, "testdata/parse.txt") {
		f.Add(c.input)
	}
	for _, s := range []string{
		// lexer edge cases
		"SELECT sip WHERE sip = ::", "SELECT sip WHERE sip = :", "SELECT sip WHERE sip = 1::",
		"SELECT sip WHERE time >= -0s", "SELECT sip WHERE time >= 0000-01-01",
		"SELECT 'a''b' FROM \"x\"\"y\"", "SELECT sip -- comment only",
		"SELECT sip WHERE ((((sip = 1.2.3.4))))", "SELECT sip WHERE NOT NOT NOT sip = ::1",
		"SELECT sip AS \"a b\" ORDER BY \"a b\"", "SELECT sip FROM 'flows'",
		"select\n\tsip\r\nfrom\teth0", "SELECT sip WHERE host = 'é\n'",
	} {
		f.Add(s)
	}
	p, err := NewParser()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input string) {
		s, err := p.Parse(input)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %v (%T) is not *Error", input, err, err)
			}
			if errors.Is(err, ErrInternal) {
				t.Fatalf("%q: %v", input, err)
			}
			if len(input) <= MaxQueryLen && (e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.Offset < 0 || e.Pos.Offset > len(input)) {
				t.Fatalf("%q: error position %+v outside the input: %v", input, e.Pos, err)
			}
			if e.Pos.Col > utf8.RuneCountInString(input)+1 {
				t.Fatalf("%q: error column %d beyond the input: %v", input, e.Pos.Col, err)
			}
			return
		}
		text := s.String()
		s2, err := p.Parse(text)
		if err != nil {
			t.Fatalf("%q parsed, but its canonical text %q does not: %v", input, text, err)
		}
		if text2 := s2.String(); text2 != text {
			t.Fatalf("canonical text of %q is not stable:\n%s\n%s", input, text, text2)
		}
		stripPositions(s)
		stripPositions(s2)
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip of %q changed the AST:\n%s\n%s", input, dump(s), dump(s2))
		}
	})
}
