package testdata

import (
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
)

func flow(src, dst string, sport, dport uint16, proto uint8, packets, bytes uint64) Flow {
	return Flow{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), SrcPort: sport, DstPort: dport,
		Proto: proto, Packets: packets, Bytes: bytes}
}

func TestByFlow(t *testing.T) {
	a := flow("10.0.0.1", "10.0.0.2", 1, 2, 17, 3, 300)
	b := flow("10.0.0.2", "10.0.0.1", 2, 1, 17, 1, 50)
	got := ByFlow([]Flow{a, b, a})
	want := map[FlowKey]Totals{a.Key(): {6, 600}, b.Key(): {1, 50}}
	if len(got) != len(want) || got[a.Key()] != want[a.Key()] || got[b.Key()] != want[b.Key()] {
		t.Errorf("ByFlow = %v, want %v", got, want)
	}
	if p := ByPair([]Flow{a, b}); len(p) != 1 || p[MakePairKey(a.Src, a.Dst, 17)] != (Totals{4, 350}) {
		t.Errorf("ByPair = %v", p)
	}
}

func TestMoveToNonIP(t *testing.T) {
	v4 := flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 2, 200)
	v6 := flow("2001:db8::1", "2001:db8::2", 80, 1234, 6, 1, 90)
	base := Summary{TotalPackets: 5, IPv4Packets: 2, IPv6Packets: 1, NonIPPackets: 2, IPBytes: 290}
	flows := []Flow{v4, v6}

	sum := base
	got, err := MoveToNonIP(&sum, flows, flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 1, 120))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Flow{flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 1, 80), v6}; !slices.Equal(got, want) {
		t.Errorf("partial: flows %v, want %v", got, want)
	}
	if want := (Summary{TotalPackets: 5, IPv4Packets: 1, IPv6Packets: 1, NonIPPackets: 3, IPBytes: 170}); sum != want {
		t.Errorf("partial: summary %+v, want %+v", sum, want)
	}
	if !slices.Equal(flows, []Flow{v4, v6}) {
		t.Errorf("input flows modified: %v", flows)
	}

	sum = base
	got, err = MoveToNonIP(&sum, flows, v6)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Flow{v4}; !slices.Equal(got, want) {
		t.Errorf("whole flow: flows %v, want %v", got, want)
	}
	if want := (Summary{TotalPackets: 5, IPv4Packets: 2, IPv6Packets: 0, NonIPPackets: 3, IPBytes: 200}); sum != want {
		t.Errorf("whole flow: summary %+v, want %+v", sum, want)
	}

	for name, row := range map[string]Flow{
		"other port":      flow("10.0.0.1", "10.0.0.2", 53, 998, 17, 1, 100),
		"reversed":        flow("10.0.0.2", "10.0.0.1", 999, 53, 17, 1, 100),
		"too many":        flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 3, 200),
		"too many bytes":  flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 1, 201),
		"bytes left over": flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 2, 199),
		"no packets left": flow("10.0.0.1", "10.0.0.2", 53, 999, 17, 1, 200),
	} {
		sum := base
		got, err := MoveToNonIP(&sum, flows, row)
		if err == nil || sum != base || !slices.Equal(got, flows) {
			t.Errorf("%s: err %v, summary %+v, flows %v; want an error and no change", name, err, sum, got)
		}
	}
}

func TestRootRelativeEnv(t *testing.T) {
	root, ok := repoRoot()
	if !ok {
		t.Skip("no go.mod above the package")
	}
	t.Setenv(EnvVar, filepath.Join("..", "elsewhere"))
	if dir, _ := Root(); dir != filepath.Join(filepath.Dir(root), "elsewhere") {
		t.Errorf("Root() = %q, want %q (relative to the repository root %s)", dir, filepath.Join(filepath.Dir(root), "elsewhere"), root)
	}
}

// TestReadOracle reads every shared capture's oracle and checks that the
// flows add up to the summary's IP counts.
func TestReadOracle(t *testing.T) {
	dir, names := Captures(t)
	if len(names) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, name := range names {
		sum, flows := ReadOracle(t, dir, name)
		var tot Totals
		for _, f := range flows {
			tot = tot.Add(f.Packets, f.Bytes)
		}
		if tot.Packets != sum.IPv4Packets+sum.IPv6Packets || tot.Bytes != sum.IPBytes {
			t.Errorf("%s: flows sum to %+v; summary %d IPv4 + %d IPv6 packets, %d bytes",
				name, tot, sum.IPv4Packets, sum.IPv6Packets, sum.IPBytes)
		}
		if sum.CapturedBytes > sum.TotalBytes || sum.TotalPackets != sum.IPv4Packets+sum.IPv6Packets+sum.NonIPPackets {
			t.Errorf("%s: inconsistent summary %+v", name, sum)
		}
	}
}
