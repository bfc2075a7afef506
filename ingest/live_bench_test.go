package ingest

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/flowsql/flowsql/capture"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
	"github.com/flowsql/flowsql/internal/testdata"
)

// Live capture per packet, on real traffic (goprobe_default.pcap.gz, laid
// out by the kernel filter in a looping MockRing). One op is one packet.
// The baselines are in the same benchmark:
//
//	ring                    MockRing.NextPacket alone (the block walker)
//	ring+decode+aggregate   what the file path does per packet
//	live                    the live loop (liveRing.step): the above plus
//	                        its counters and the per-packet handshake
//	                        with Tick (live.go)
//
//	go test ./ingest -run '^$' -bench BenchmarkLivePacket -count 10 | tee live.txt
//	benchstat -col /path live.txt
func BenchmarkLivePacket(b *testing.B) {
	m := corpusRing(b, "goprobe_default.pcap.gz")
	var pr PacketRing = mockPacketRing{m}
	b.Run("path=ring", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := pr.NextPacket(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=ring+decode+aggregate", func(b *testing.B) {
		a, err := NewAggregator(b.Context(), "eth0", discardSink{}, Options{Live: true})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		dec := NewDecoder(DecoderOptions{})
		var p Packet
		add := func() {
			data, info, err := pr.NextPacket()
			if err != nil {
				b.Fatal(err)
			}
			switch dec.Decode(data, info, &p) {
			case ResultIP:
				err = a.Add(info.Timestamp, &p)
			case ResultNonIP:
				err = a.AddNonIP(info.Timestamp)
			default:
				err = a.AddParseError(info.Timestamp)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		for range m.Len() { // first pass: rotations and table growth
			add()
		}
		b.ReportAllocs()
		for b.Loop() {
			add()
		}
	})
	b.Run("path=live", func(b *testing.B) {
		r := benchLiveRing(b, pr)
		step := func() {
			data, info, err := pr.NextPacket()
			if err != nil {
				b.Fatal(err)
			}
			if err := r.step(data, info); err != nil {
				b.Fatal(err)
			}
		}
		for range m.Len() {
			step()
		}
		b.ReportAllocs()
		for b.Loop() {
			step()
		}
	})
}

// BenchmarkLiveFootprint measures the memory of one interface's live
// capture holding 100k IPv4 flows in its open block (the ring, 8 MiB of
// kernel memory by default, is not included: see the probe's RSS in
// bench/live.sh). One op counts 100k packets of 100k new flows into a
// fresh aggregator. Metrics: heap-MiB in use after GC with the block
// open, and B/flow.
func BenchmarkLiveFootprint(b *testing.B) {
	const flows = 100_000
	frames := make([]capture.MockFrame, flows)
	for i := range frames {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		frames[i] = capture.MockFrame{
			Data:      pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: src, Dst: hostA}, pb.UDP{SrcPort: 40000, DstPort: 53}, pb.Payload(make([]byte, 30))),
			Timestamp: baseSec*1e9 + int64(i)*1e3,
		}
	}
	// Looping: each op reads the 100k packets once more.
	m, err := capture.NewMockRing(frames, capture.MockOptions{Link: capture.LinkEthernet, Filter: true, Loop: true})
	if err != nil {
		b.Fatal(err)
	}
	frames = nil
	var heap uint64
	b.ReportAllocs()
	for b.Loop() {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		r := benchLiveRing(b, mockPacketRing{m})
		for range flows {
			data, info, err := m.NextPacket()
			if err != nil {
				b.Fatal(err)
			}
			if err := r.step(data, info); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		heap = ms1.HeapInuse - ms0.HeapInuse
		if _, _, n := r.agg.liveOpen(); n != flows {
			b.Fatalf("%d flows open, want %d", n, flows)
		}
		_ = r.agg.Close()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(heap)/flows, "B/flow")
}

// mockPacketRing gives a MockRing the PacketRing methods it lacks.
type mockPacketRing struct{ *capture.MockRing }

func (mockPacketRing) Stats() capture.RingStats { return capture.RingStats{} }
func (mockPacketRing) Close() error             { return nil }

// benchLiveRing returns a live ring reading pr into an aggregator that
// discards its blocks; the benchmark closes nothing but the aggregator.
func benchLiveRing(b *testing.B, pr PacketRing) *liveRing {
	b.Helper()
	a, err := NewAggregator(context.Background(), "eth0", discardSink{}, Options{Live: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	return newLiveRing(context.Background(), "eth0", pr, a, NewDecoder(DecoderOptions{}), slog.New(slog.DiscardHandler))
}

// corpusRing lays a shared capture out in a looping mock ring through the
// kernel filter, as a live ring would hold it.
func corpusRing(b *testing.B, name string) *capture.MockRing {
	b.Helper()
	src, err := capture.OpenFile(filepath.Join(testdata.PcapDir(b), name))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	m, err := capture.NewMockRingFromSource(src, capture.MockOptions{Filter: true, Loop: true})
	if err != nil {
		b.Fatal(err)
	}
	return m
}
