package gen_test

import (
	"cmp"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// Plausibility of the generated traffic: the shares the package doc
// promises, measured on six hours of one interface.

// sixHours is Monday 08:00-14:00 at 5,000 flows a block: 72 blocks.
var sixHours = gen.Config{Seed: 3, Start: gen.DefaultStart.Add(8 * time.Hour), Duration: 6 * time.Hour, FlowsPerBlock: 5000}

// rowStats are counts over every row of a dataset.
type rowStats struct {
	rows, v4                 int
	ports                    map[uint16]int
	protos                   map[uint8]int
	sipBytes                 map[[16]byte]uint64
	bytesIn, bytesOut, bytes uint64
	packets                  []uint64
}

func statsOf(blocks []*columnar.Block) *rowStats {
	s := &rowStats{ports: map[uint16]int{}, protos: map[uint8]int{}, sipBytes: map[[16]byte]uint64{}}
	for _, b := range blocks {
		for i := range b.Len() {
			s.rows++
			if netip.AddrFrom16(b.SIP[i]).Is4In6() {
				s.v4++
			}
			s.ports[b.DPort[i]]++
			s.protos[b.Proto[i]]++
			s.sipBytes[b.SIP[i]] += b.BytesIn[i] + b.BytesOut[i]
			s.bytesIn += b.BytesIn[i]
			s.bytesOut += b.BytesOut[i]
			s.packets = append(s.packets, b.PacketsIn[i]+b.PacketsOut[i])
		}
	}
	s.bytes = s.bytesIn + s.bytesOut
	return s
}

func (s *rowStats) share(n int) float64 { return float64(n) / float64(s.rows) }

// topPorts returns the ports by row count, most common first.
func (s *rowStats) topPorts() []uint16 {
	var ps []uint16
	for p := range s.ports {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b uint16) int { return cmp.Or(cmp.Compare(s.ports[b], s.ports[a]), cmp.Compare(a, b)) })
	return ps
}

func TestDistributionPorts(t *testing.T) {
	s := statsOf(collect(t, sixHours))
	top := s.topPorts()
	if top[0] != 443 && top[0] != 80 {
		t.Errorf("top port %d (%.1f%% of rows), want 443 or 80", top[0], 100*s.share(s.ports[top[0]]))
	}
	if !slices.Contains(top[:5], 53) {
		t.Errorf("top 5 ports %v lack DNS", top[:5])
	}
	if n := len(s.ports); n < 500 {
		t.Errorf("%d distinct ports, want a long tail of high ports (>= 500)", n)
	}
	t.Logf("top ports %v, 443 has %.1f%%", top[:10], 100*s.share(s.ports[443]))
}

func TestDistributionProtocols(t *testing.T) {
	s := statsOf(collect(t, sixHours))
	tcp, udp, icmp := s.share(s.protos[6]), s.share(s.protos[17]), s.share(s.protos[1]+s.protos[58])
	if tcp < 0.70 || tcp > 0.80 || udp < 0.17 || udp > 0.27 || icmp < 0.015 || icmp > 0.045 {
		t.Errorf("TCP/UDP/ICMP = %.3f/%.3f/%.3f, want about 0.75/0.22/0.03", tcp, udp, icmp)
	}
	t.Logf("TCP/UDP/ICMP = %.3f/%.3f/%.3f", tcp, udp, icmp)
	if s.protos[6]+s.protos[17]+s.protos[1]+s.protos[58] != s.rows {
		t.Errorf("other protocols: %v", s.protos)
	}
	if v4 := s.share(s.v4); v4 < 0.6 || v4 > 0.8 {
		t.Errorf("IPv4 share %.3f, want 0.6..0.8", v4)
	}
}

func TestDistributionHeavyTails(t *testing.T) {
	s := statsOf(collect(t, sixHours))
	// Top 1% of talkers (clients by bytes) hold a large share of bytes.
	var talkers []uint64
	for _, b := range s.sipBytes {
		talkers = append(talkers, b)
	}
	slices.SortFunc(talkers, func(a, b uint64) int { return cmp.Compare(b, a) })
	var top uint64
	for _, b := range talkers[:max(1, len(talkers)/100)] {
		top += b
	}
	share := float64(top) / float64(s.bytes)
	t.Logf("top 1%% of %d talkers: %.2f of bytes; IPv4 rows %.3f", len(talkers), share, s.share(s.v4))
	if share < 0.4 {
		t.Errorf("top 1%% of %d talkers hold %.2f of bytes, want >= 0.4", len(talkers), share)
	}
	// Many small flows, a few huge ones.
	slices.Sort(s.packets)
	median, p99, maxp := s.packets[len(s.packets)/2], s.packets[len(s.packets)*99/100], s.packets[len(s.packets)-1]
	if median > 30 || p99 < 20*median || maxp < 10_000*median {
		t.Errorf("packets per row: median %d, p99 %d, max %d; want median <= 30, p99 >= 20x and max >= 10000x the median", median, p99, maxp)
	}
	t.Logf("packets per row: median %d, p99 %d, max %d; bytes in/out %.1f", median, p99, maxp, float64(s.bytesIn)/float64(s.bytesOut))
	// Downloads: the interface receives most bytes.
	if s.bytesIn < 3*s.bytesOut {
		t.Errorf("bytes in %d, out %d: want in >= 3x out", s.bytesIn, s.bytesOut)
	}
}

// TestPersistence checks that about Persist of each block's rows continue
// a flow of the previous block, and fewer without long-lived flows.
func TestPersistence(t *testing.T) {
	repeat := func(cfg gen.Config) float64 {
		blocks := collect(t, cfg)
		var rep, rows int
		for i := 1; i < len(blocks); i++ {
			prev := make(map[rowKey]bool, blocks[i-1].Len())
			for r := range blocks[i-1].Len() {
				prev[keyOf(blocks[i-1], r)] = true
			}
			for r := range blocks[i].Len() {
				if prev[keyOf(blocks[i], r)] {
					rep++
				}
			}
			rows += blocks[i].Len()
		}
		return float64(rep) / float64(rows)
	}
	cfg := sixHours
	cfg.Duration = 2 * time.Hour
	with := repeat(cfg)
	cfg.Persist = -1
	without := repeat(cfg)
	if with < 0.25 || with > 0.45 || with < without+0.15 {
		t.Errorf("rows repeating a key of the previous block: %.3f with long-lived flows, %.3f without; want >= 0.25 and 0.15 more", with, without)
	}
	t.Logf("repeated keys: %.3f with long-lived flows, %.3f without", with, without)
}

// TestDiurnal checks the daily and weekly activity curve.
func TestDiurnal(t *testing.T) {
	cfg := gen.Config{Seed: 5, Duration: 6 * 24 * time.Hour, Interval: time.Hour, FlowsPerBlock: 1000}
	blocks := collect(t, cfg) // Monday to Saturday, hourly
	at := func(day, hour int) *columnar.Block { return blocks[day*24+hour] }
	night, day := at(0, 2), at(0, 14)
	if r := float64(day.Len()) / float64(night.Len()); r < 2.5 || r > 3.5 {
		t.Errorf("rows at 14:00 / 02:00 = %d/%d = %.2f, want about 3", day.Len(), night.Len(), r)
	}
	// Flows are bigger by day too: volume 0.6+0.4*activity, 1.2 vs 0.8.
	webMedian := func(b *columnar.Block) uint64 {
		var p []uint64
		for i := range b.Len() {
			if b.DPort[i] == 443 && b.Proto[i] == 6 {
				p = append(p, b.PacketsIn[i]+b.PacketsOut[i])
			}
		}
		slices.Sort(p)
		return p[len(p)/2]
	}
	if d, n := webMedian(day), webMedian(night); float64(d) < 1.2*float64(n) {
		t.Errorf("median packets of HTTPS flows: %d at 14:00, %d at 02:00; want >= 1.2x by day", d, n)
	}
	var monday, saturday int
	for h := range 24 {
		monday += at(0, h).Len()
		saturday += at(5, h).Len()
	}
	if r := float64(saturday) / float64(monday); r < 0.6 || r > 0.8 {
		t.Errorf("rows Saturday / Monday = %d/%d = %.2f, want about 0.7", saturday, monday, r)
	}
}
