package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/ with the current output")

// Golden files hold command lines and their expected output:
//
//	# a comment, kept by -rewrite
//	$ query --format csv "SELECT sip, sum(bytes) GROUP BY sip"
//	sip,sum(bytes)
//	...
//	stderr: a line written to stderr
//	exit: 1
//
// A command line starts with "$ "; words are split at blanks, and double
// quotes group a word (\" is a quote, \n a line break). Every command runs
// in-process with --db set to the fixture store. stdout comes first, then
// stderr lines, then the exit status when it is not 0. Output that changes
// from run to run (elapsed times, the explain clock) is masked.

// goldenCase is one command of a golden file.
type goldenCase struct {
	comments []string
	cmd      string
	output   string
}

func parseGolden(t *testing.T, text string) (header string, cases []goldenCase) {
	t.Helper()
	var pending, out, head []string
	flush := func() {
		if len(cases) > 0 {
			cases[len(cases)-1].output = strings.TrimRight(strings.Join(out, "\n"), "\n")
		}
		out = nil
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "$ "):
			flush()
			cases = append(cases, goldenCase{comments: pending, cmd: line[2:]})
			pending = nil
		case strings.HasPrefix(line, "#"):
			pending = append(pending, line)
		case len(cases) == 0:
			if strings.TrimSpace(line) != "" {
				t.Fatalf("golden file: output %q before the first command", line)
			}
			head = append(head, pending...)
			head = append(head, line)
			pending = nil
		default:
			out = append(out, pending...)
			pending = nil
			out = append(out, line)
		}
	}
	flush()
	if len(head) > 0 {
		header = strings.Join(head, "\n") + "\n"
	}
	return header, cases
}

// splitArgs splits a golden command line into arguments.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			switch line[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			default:
				cur.WriteByte(line[i])
			}
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

var goldenMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`took [0-9.]+ m?s`), "took <elapsed>"},
	{regexp.MustCompile(`(?m)^now: +.*$`), "now:        <now>"},
}

// runGolden runs one command against db and renders its output.
func runGolden(t *testing.T, db, cmd string) string {
	t.Helper()
	args, err := splitArgs(cmd)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, append([]string{"--db", db}, args...)...)
	var b strings.Builder
	b.WriteString(stdout)
	if stdout != "" && !strings.HasSuffix(stdout, "\n") {
		b.WriteString("\n")
	}
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if l != "" {
			b.WriteString("stderr: " + l + "\n")
		}
	}
	if code != 0 {
		fmt.Fprintf(&b, "exit: %d\n", code)
	}
	s := strings.TrimRight(b.String(), "\n")
	for _, m := range goldenMasks {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = m.re.ReplaceAllString(l, m.with)
		}
		s = strings.Join(lines, "\n")
	}
	return s
}

// testGolden runs every command of testdata/name against db and compares
// (or, with -rewrite, rewrites) the outputs.
func testGolden(t *testing.T, name, db string) {
	path := filepath.Join("testdata", name)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, cases := parseGolden(t, string(text))
	if len(cases) == 0 {
		t.Fatalf("%s has no commands", path)
	}
	var out strings.Builder
	out.WriteString(header)
	for i, c := range cases {
		got := runGolden(t, db, c.cmd)
		if !*rewrite && got != c.output {
			t.Errorf("%s: $ %s\n--- got:\n%s\n--- want:\n%s", path, c.cmd, got, c.output)
		}
		if i > 0 {
			out.WriteString("\n")
		}
		for _, l := range c.comments {
			out.WriteString(l + "\n")
		}
		out.WriteString("$ " + c.cmd + "\n")
		if got != "" {
			out.WriteString(got + "\n")
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQueryGolden checks the table, csv and json formats, the shorthand,
// EXPLAIN and error rendering on the fixture store
// (go test ./cmd/flowsql -run QueryGolden -rewrite regenerates them).
func TestQueryGolden(t *testing.T) {
	testGolden(t, "query.txt", fixtureStore(t))
}
