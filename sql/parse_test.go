package sql

import (
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt with the actual output")

// goldenCase is one case of a golden file: comment lines, the input (one or
// more lines), "----", then the expected output up to a blank line.
type goldenCase struct {
	line     int // line of the input's first line, for messages
	comments []string
	input    string
	output   string
}

// readGolden parses the golden file format described at the top of
// testdata/parse.txt.
func readGolden(t testing.TB, path string) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []goldenCase
	var cur goldenCase
	var in, out []string
	state := 0 // 0: before input, 1: input, 2: output
	flush := func() {
		if state == 2 {
			cur.input = strings.Join(in, "\n")
			cur.output = strings.Join(out, "\n")
			cases = append(cases, cur)
		}
		cur, in, out, state = goldenCase{}, nil, nil, 0
	}
	for i, l := range lines {
		switch {
		case state == 0 && strings.HasPrefix(l, "#"):
			cur.comments = append(cur.comments, l)
		case state == 0 && l == "":
			if len(cur.comments) > 0 {
				cur.comments = append(cur.comments, l) // keeps paragraphs of comments
			}
		case state == 0 && l == "----": // empty query
			cur.line, state = i+1, 2
		case state == 0 || state == 1 && l != "----":
			if state == 0 {
				cur.line = i + 1
			}
			state = 1
			in = append(in, l)
		case state == 1:
			state = 2
		case l == "":
			flush()
		default:
			out = append(out, l)
		}
	}
	if state == 1 {
		t.Fatalf("%s:%d: input without ---- line", path, cur.line)
	}
	flush()
	return cases
}

// writeGolden writes cases back in the same format.
func writeGolden(t testing.TB, path string, cases []goldenCase) {
	t.Helper()
	var b strings.Builder
	for i, c := range cases {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, cm := range c.comments {
			b.WriteString(cm + "\n")
		}
		if c.input != "" {
			b.WriteString(c.input + "\n")
		}
		b.WriteString("----\n" + c.output + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// render is the golden output for one input: the canonical SQL and the AST
// dump, or the error text and kind.
func render(input string) string {
	s, err := Parse(input)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return "error (not *Error): " + err.Error()
		}
		return "error: " + e.Error() + "\nkind: " + e.Kind.Error()
	}
	return "sql: " + s.String() + "\n" + strings.TrimRight(dump(s), "\n")
}

func TestParseGolden(t *testing.T) {
	const path = "testdata/parse.txt"
	cases := readGolden(t, path)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for i := range cases {
		c := &cases[i]
		got := render(c.input)
		if *rewrite {
			c.output = got
			continue
		}
		if got != c.output {
			t.Errorf("%s:%d: %q\ngot:\n%s\nwant:\n%s", path, c.line, c.input, got, c.output)
		}
		if !strings.HasPrefix(got, "error") {
			checkRoundTrip(t, c.input)
		}
	}
	if *rewrite {
		writeGolden(t, path, cases)
	}
}

// checkRoundTrip asserts that input parses, that its canonical text parses
// to the same AST (positions aside), and that the canonical text is a fixed
// point of formatting.
func checkRoundTrip(t *testing.T, input string) {
	t.Helper()
	s1, err := Parse(input)
	if err != nil {
		t.Fatalf("parse %q: %v", input, err)
	}
	text := s1.String()
	s2, err := Parse(text)
	if err != nil {
		t.Fatalf("re-parse of %q (from %q): %v", text, input, err)
	}
	if text2 := s2.String(); text2 != text {
		t.Fatalf("canonical text not stable:\n%s\n%s", text, text2)
	}
	stripPositions(s1)
	stripPositions(s2)
	if !reflect.DeepEqual(s1, s2) {
		t.Fatalf("round trip of %q changed the AST:\n%s\n%s", input, dump(s1), dump(s2))
	}
}
