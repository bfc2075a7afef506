package sql

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// lexAll returns "Type:value@line:col" for every token of src, or the error.
func lexAll(src string) ([]string, error) {
	sc := &scanner{src: src, pos: Pos{Line: 1, Col: 1}}
	names := lexer.SymbolsByRune(lexDef{})
	var out []string
	for {
		tok, err := sc.Next()
		if err != nil {
			return out, err
		}
		if tok.EOF() {
			return out, nil
		}
		out = append(out, names[tok.Type]+":"+tok.Value+"@"+posOf(tok.Pos).String())
	}
}

func TestLexTokens(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"SELECT sip", "Keyword:SELECT@1:1 Ident:sip@1:8"},
		{"select From wHeRe", "Keyword:select@1:1 Keyword:From@1:8 Keyword:wHeRe@1:13"},
		{"eth0 ens3f0.100 ipv6-icmp _x a--b", "Ident:eth0@1:1 Ident:ens3f0.100@1:6 Ident:ipv6-icmp@1:17 Ident:_x@1:27 Ident:a--b@1:30"},
		{"0 80 18446744073709551615", "Number:0@1:1 Number:80@1:3 Number:18446744073709551615@1:6"},
		{"30s 1h30m -24h -0s 1w", "Duration:30s@1:1 Duration:1h30m@1:5 Duration:-24h@1:11 Duration:-0s@1:16 Duration:1w@1:20"},
		{"10.1.2.3 ::1 :: fe80::1 ::ffff:1.2.3.4 DEAD::beef", "Addr:10.1.2.3@1:1 Addr:::1@1:10 Addr:::@1:14 Addr:fe80::1@1:17 Addr:::ffff:1.2.3.4@1:25 Addr:DEAD::beef@1:40"},
		{"10.0.0.0/8 ::/0 2001:db8::/32 fe80::/10", "Prefix:10.0.0.0/8@1:1 Prefix:::/0@1:12 Prefix:2001:db8::/32@1:17 Prefix:fe80::/10@1:31"},
		{"2025-03-10 2025-03-10T11:00:00Z", "Time:2025-03-10@1:1 Time:2025-03-10T11:00:00Z@1:12"},
		{`'a' "b c" 'it''s' ''`, `String:'a'@1:1 String:"b c"@1:5 String:'it''s'@1:11 String:''@1:19`},
		{"= != <> < <= > >=", "Op:=@1:1 Op:!=@1:3 Op:<>@1:6 Op:<@1:9 Op:<=@1:11 Op:>@1:14 Op:>=@1:16"},
		{"count(*),x;", "Ident:count@1:1 Punct:(@1:6 Punct:*@1:7 Punct:)@1:8 Punct:,@1:9 Ident:x@1:10 Punct:;@1:11"},
		{"sip=10.1.2.3", "Ident:sip@1:1 Op:=@1:4 Addr:10.1.2.3@1:5"},
		{"time>=-24h", "Ident:time@1:1 Op:>=@1:5 Duration:-24h@1:7"},
		{"a -- comment\n\tb --", "Ident:a@1:1 Ident:b@2:2"},
		{"'é' x", "String:'é'@1:1 Ident:x@1:5"},
		{"'a\nb' c", "String:'a\nb'@1:1 Ident:c@2:4"},
		{"", ""},
		{"   \n  ", ""},
	}
	for _, tt := range tests {
		got, err := lexAll(tt.src)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, g, tt.want)
		}
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		src  string
		kind error
		pos  string
		msg  string // substring of the message
	}{
		{"10.0.0.256", ErrBadLiteral, "1:1", `bad IPv4 address "10.0.0.256"`},
		{"x 1.2.3", ErrBadLiteral, "1:3", "IPv4 address too short"},
		{"2001:db8::zz", ErrBadLiteral, "1:1", "bad IPv6 address"},
		{"1.5", ErrBadLiteral, "1:1", `bad number "1.5"`},
		{"10.0.0.0/33", ErrBadLiteral, "1:1", "out of range for IPv4"},
		{"10.0.0.1/24", ErrBadLiteral, "1:1", "host bits are set"},
		{"ab/8", ErrBadLiteral, "1:1", `bad prefix "ab/8"`},
		{"-1.2.3.4", ErrBadLiteral, "1:1", "only durations take a sign"},
		{"-5", ErrBadLiteral, "1:1", "negative number"},
		{"99999999999999999999", ErrBadLiteral, "1:1", "too large"},
		{"5x", ErrBadLiteral, "1:1", `unknown unit "x"`},
		{"5h3", ErrBadLiteral, "1:1", "missing unit"},
		{"2025-02-30", ErrBadLiteral, "1:1", "day out of range"},
		{"eth0:1", ErrSyntax, "1:1", "unexpected ':'"},
		{"'open", ErrSyntax, "1:1", "unterminated string"},
		{"a ! b", ErrSyntax, "1:3", "unexpected character '!'"},
		{"a - b", ErrSyntax, "1:3", "unexpected character '-'"},
		{"a\n  @", ErrSyntax, "2:3", "unexpected character '@'"},
		{"x ü", ErrSyntax, "1:3", "unexpected character 'ü'"},
		{strings.Repeat("(", MaxNesting+1), ErrTooComplex, "1:101", "parentheses nested deeper"},
		{strings.Repeat("NOT ", MaxNesting+1), ErrTooComplex, "1:401", "NOTs in a row"},
		{strings.Repeat("NOT (", MaxNesting+1), ErrTooComplex, "1:501", "NOTs in a row"},
	}
	for _, tt := range tests {
		_, err := lexAll(tt.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: got %v, want *Error", tt.src, err)
			continue
		}
		if !errors.Is(err, tt.kind) || e.Pos.String() != tt.pos || !strings.Contains(e.Error(), tt.msg) {
			t.Errorf("%q: got %v (kind %v, at %s), want kind %v at %s containing %q", tt.src, err, e.Kind, e.Pos, tt.kind, tt.pos, tt.msg)
		}
	}
}

// TestLexReader checks the io.Reader entry point of the lexer.Definition.
func TestLexReader(t *testing.T) {
	l, err := lexDef{}.Lex("", strings.NewReader("SELECT sip"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := lexer.ConsumeAll(l)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 3 || tokens[1].Value != "sip" || !tokens[2].EOF() {
		t.Fatalf("got %v", tokens)
	}
	if _, err := (lexDef{}).Lex("", errReader{}); err == nil {
		t.Fatal("read error not reported")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestLexNoAllocs holds the lexer to zero allocations per query: tokens are
// substrings of the input.
func TestLexNoAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(1000, func() {
		sc := scanner{src: typicalQuery, pos: Pos{Line: 1, Col: 1}}
		for {
			tok, err := sc.Next()
			if err != nil || tok.EOF() {
				return
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("lexing allocates %v times per query, want 0", allocs)
	}
}
