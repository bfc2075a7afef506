package sql

import (
	"strings"
	"testing"
)

func TestColumns(t *testing.T) {
	want := "time:time iface:string host:string sip:addr dip:addr dport:port proto:proto " +
		"bytes_in:counter bytes_out:counter packets_in:counter packets_out:counter " +
		"bytes:counter:virtual packets:counter:virtual"
	var got []string
	for _, c := range Columns() {
		s := c.Name() + ":" + c.Type().String()
		if c.Virtual() {
			s += ":virtual"
		}
		got = append(got, s)
		if !c.IsValid() {
			t.Errorf("%v not valid", c)
		}
		if back, ok := ColumnByName(strings.ToUpper(c.Name())); !ok || back != c {
			t.Errorf("ColumnByName(%q) = %v, %v", strings.ToUpper(c.Name()), back, ok)
		}
	}
	if g := strings.Join(got, " "); g != want {
		t.Errorf("Columns:\n got %s\nwant %s", g, want)
	}
	cols := Columns()
	cols[0] = ColPackets // the caller owns the slice
	if Columns()[0] != ColTime {
		t.Error("Columns returned shared storage")
	}
	if _, ok := ColumnByName("flows"); ok {
		t.Error("flows is not a column")
	}
	var zero Column
	if zero.IsValid() || zero.Name() != "invalid" || zero.Type() != TypeInvalid || zero.Virtual() {
		t.Errorf("zero Column: %v %v %v", zero.Name(), zero.Type(), zero.Virtual())
	}
	if Column(200).IsValid() || Type(99).String() != "invalid" || AggFunc(0).String() != "invalid" {
		t.Error("out-of-range enum values must be invalid")
	}
}

func TestProtocols(t *testing.T) {
	for _, e := range protocols {
		p, ok := LookupProto(strings.ToUpper(e.name))
		if !ok || p != e.num {
			t.Errorf("LookupProto(%q) = %d, %v; want %d", e.name, p, ok, e.num)
		}
		// The canonical name of a number maps back to it.
		if back, ok := LookupProto(ProtoName(e.num)); !ok || back != e.num {
			t.Errorf("ProtoName(%d) = %q does not map back", e.num, ProtoName(e.num))
		}
	}
	for num, name := range map[uint8]string{6: "tcp", 17: "udp", 58: "icmpv6", 4: "ipip", 0: "0", 253: "253"} {
		if got := ProtoName(num); got != name {
			t.Errorf("ProtoName(%d) = %q, want %q", num, got, name)
		}
	}
	if _, ok := LookupProto("6"); ok {
		t.Error("LookupProto takes names only")
	}
}

func TestAggFuncNames(t *testing.T) {
	want := map[AggFunc]string{AggCount: "count", AggCountDistinct: "count", AggSum: "sum", AggMin: "min", AggMax: "max", AggAvg: "avg"}
	for f, name := range want {
		if f.String() != name {
			t.Errorf("%d: %q, want %q", f, f.String(), name)
		}
	}
	for _, name := range functionNames {
		if _, ok := aggByName(name); !ok && name != "bucket" {
			t.Errorf("function %q is listed but unknown", name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"dip", "dip", 0}, {"DIP", "dip", 0}, {"dipp", "dip", 1},
		{"dpi", "dip", 1}, // transposition
		{"sip", "dip", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"bytesin", "bytes_in", 1}, {"protcol", "protocol", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	cols := columnNames()
	tests := []struct{ word, want string }{
		{"dipp", "dip"}, {"DPORT", "dport"}, {"dprot", "dport"}, {"packet", "packets"},
		{"bytes_inn", "bytes_in"}, {"src", "sip"}, {"SRC_IP", "sip"}, {"protcol", "proto"},
		{"destination", "dip"}, {"x", ""}, {"zzzz", ""}, {"", ""}, {"completely_unrelated", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, cols, columnSynonyms); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	for _, syn := range []map[string]string{columnSynonyms, functionSynonyms} {
		for k, v := range syn {
			if _, isCol := ColumnByName(v); !isCol {
				if _, isAgg := aggByName(v); !isAgg && v != "bucket" {
					t.Errorf("synonym %q -> %q names nothing", k, v)
				}
			}
		}
	}
}
