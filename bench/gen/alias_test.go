package gen

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAliasTable draws from tables of several shapes and compares the
// frequencies with the weights.
func TestAliasTable(t *testing.T) {
	for name, w := range map[string][]float64{
		"one":     {3},
		"zeros":   {0, 1, 0, 2, 0},
		"zipf100": zipfWeights(100, 1.1),
		"flat":    {1, 1, 1, 1, 1, 1, 1},
		"skewed":  {1000, 1, 1, 1},
	} {
		tab := newAliasTable(w)
		var sum float64
		for _, x := range w {
			sum += x
		}
		const n = 400_000
		counts := make([]int, len(w))
		r := rand.New(rand.NewPCG(1, 2))
		for range n {
			counts[tab.draw(r.Uint64())]++
		}
		for i, c := range counts {
			want := w[i] / sum * n
			if w[i] == 0 && c != 0 {
				t.Errorf("%s: weight 0 at %d drawn %d times", name, i, c)
			}
			// Five standard deviations of a binomial count.
			if tol := 5*math.Sqrt(want) + 1; math.Abs(float64(c)-want) > tol {
				t.Errorf("%s: index %d drawn %d times, want %.0f ± %.0f", name, i, c, want, tol)
			}
		}
	}
}

// TestTables checks the constants the package doc quotes against the
// tables they summarise.
func TestTables(t *testing.T) {
	var infra, infraUDP float64
	for _, s := range infraTable {
		infra += s.weight
		if s.class == classUDP {
			infraUDP += s.weight
		}
		if len(s.servers) != len(s.weights) {
			t.Errorf("infra service %d: %d servers, %d weights", s.port, len(s.servers), len(s.weights))
		}
	}
	if infra != infraPerMille || infraUDP != 135 {
		t.Errorf("infraTable weighs %v per mille (%v UDP), want %d (135)", infra, infraUDP, infraPerMille)
	}
	var all, high, tcp float64
	for _, s := range serviceTable {
		all += s.weight
		if s.port == portHigh {
			high += s.weight
		}
		if s.class == classTCP {
			tcp += s.weight
		}
	}
	if all != 1000 || high != 61 || tcp != 832 {
		t.Errorf("serviceTable weighs %v with %v of high ports and %v of TCP, want 1000, 61 and 832", all, high, tcp)
	}
	for _, top := range topTable {
		found := false
		for _, s := range serviceTable {
			found = found || s.port == top.port && s.class == top.class
		}
		if !found {
			t.Errorf("topTable entry %d/%d is not in serviceTable", top.port, top.class)
		}
	}
}

func TestRandomHighPort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	low := 0
	for range 100_000 {
		p := randomHighPort(r.Uint64())
		if p < 1024 {
			t.Fatalf("port %d below 1024", p)
		}
		if p < 16384 {
			low++
		}
	}
	// Density ~ 1/sqrt: P(p < 1024 + x) = sqrt(x / 64512).
	if got, want := float64(low)/100_000, math.Sqrt(15360.0/64512); math.Abs(got-want) > 0.01 {
		t.Errorf("share of ports below 16384: %.3f, want %.3f", got, want)
	}
}
