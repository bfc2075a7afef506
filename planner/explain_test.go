package planner

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// TestExplainGolden checks EXPLAIN output (and planning errors) against
// testdata/*.txt. Regenerate with: go test ./planner -run TestExplainGolden -rewrite
//
// Format: comment lines (#) and blank lines between cases; a case is the
// query (one line), a line "----", then the output up to the next blank
// line: the EXPLAIN text, or "error: " and the planning error.
func TestExplainGolden(t *testing.T) {
	db := openSmall(t)
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files in testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			lines := strings.Split(string(data), "\n")
			for i := 0; i < len(lines); i++ {
				l := lines[i]
				if l == "" || strings.HasPrefix(l, "#") {
					out.WriteString(l + "\n")
					continue
				}
				q := l
				if i+1 >= len(lines) || lines[i+1] != "----" {
					t.Fatalf("%s:%d: query not followed by ----", file, i+1)
				}
				i += 2
				var want []string
				for ; i < len(lines) && lines[i] != ""; i++ {
					want = append(want, lines[i])
				}
				got := explainCase(t, db, q)
				out.WriteString(q + "\n----\n" + got + "\n")
				if i < len(lines) {
					out.WriteString("\n")
				}
				if !*rewrite && got != strings.Join(want, "\n") {
					t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", file, q, got, strings.Join(want, "\n"))
				}
			}
			if *rewrite {
				if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func explainCase(t *testing.T, db *columnar.DB, q string) string {
	stmt, err := sql.Parse(q)
	if err != nil {
		return "error: " + err.Error()
	}
	p, err := Prepare(stmt, testOptions(t))
	if err != nil {
		return "error: " + err.Error()
	}
	text, err := p.Explain(t.Context(), db)
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimRight(text, "\n")
}
