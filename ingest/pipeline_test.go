package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
)

func TestIngestSourceMatchesModel(t *testing.T) {
	eth := capture.LinkEthernet
	ifs := []capture.Interface{{Name: "eth0", Link: eth}, {Link: eth}, {Name: "eth0", Link: eth}, {Name: "wlan0", Link: eth}, {Link: eth}}
	names := []string{"eth0", "trace.pcapng-1", "eth0", "wlan0", "trace.pcapng-4"}
	for seed := uint64(1); seed <= 5; seed++ {
		c := newPipelineCase(seed, 20_000, 30, ifs, names)
		sink := &blockSink{}
		st, err := IngestSource(context.Background(), c.src, sink, Options{DefaultName: "trace.pcapng", Interval: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c.check(t, st, sink)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// TestIngestSourceIfaceOverride: Options.Iface puts every interface in one
// table.
func TestIngestSourceIfaceOverride(t *testing.T) {
	ifs := []capture.Interface{{Name: "eth0", Link: capture.LinkEthernet}, {Name: "eth1", Link: capture.LinkEthernet}}
	c := newPipelineCase(11, 5_000, 60, ifs, []string{"uplink", "uplink"})
	sink := &blockSink{}
	st, err := IngestSource(context.Background(), c.src, sink, Options{Iface: "uplink", Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, st, sink)
}

// TestIngestSourceReadError: a source failing half-way returns ErrRead with
// its error, after every packet before the failure is in the store.
func TestIngestSourceReadError(t *testing.T) {
	ifs := []capture.Interface{{Name: "eth0", Link: capture.LinkEthernet}}
	c := newPipelineCase(5, 10_000, 10, ifs, []string{"eth0"})
	cause := fmt.Errorf("record 10001 at offset 123456: %w", capture.ErrTruncated)
	c.src.endErr = cause
	sink := &blockSink{}
	st, err := IngestSource(context.Background(), c.src, sink, Options{Interval: 10 * time.Second})
	if !errors.Is(err, ErrRead) || !errors.Is(err, capture.ErrTruncated) {
		t.Fatalf("IngestSource: %v, want ErrRead wrapping the source's error", err)
	}
	c.check(t, st, sink)
}

// TestIngestSourceSinkError: a failing sink stops reading with ErrWrite;
// the blocks committed before the failure stay and are counted.
func TestIngestSourceSinkError(t *testing.T) {
	ifs := []capture.Interface{{Name: "eth0", Link: capture.LinkEthernet}}
	c := newPipelineCase(6, 20_000, 10, ifs, []string{"eth0"})
	sink := &blockSink{failAt: 4}
	st, err := IngestSource(context.Background(), c.src, sink, Options{Interval: 10 * time.Second})
	if !errors.Is(err, ErrWrite) {
		t.Fatalf("IngestSource: %v, want ErrWrite", err)
	}
	if st.Packets >= uint64(len(c.src.frames)) {
		t.Errorf("read all %d packets after the sink failed", st.Packets)
	}
	got := sink.got()
	if len(got) != 3 || st.Blocks != 3 {
		t.Fatalf("%d blocks committed, Stats say %d; want 3", len(got), st.Blocks)
	}
	compareBlocks(t, got, c.blocks["eth0"][:3])
}

func TestIngestSourceCancel(t *testing.T) {
	ifs := []capture.Interface{{Name: "eth0", Link: capture.LinkEthernet}}
	c := newPipelineCase(7, 50_000, 10, ifs, []string{"eth0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls int
	sink := &blockSink{}
	st, err := IngestSource(ctx, c.src, sink, Options{Interval: 10 * time.Second, ProgressEvery: time.Nanosecond,
		Progress: func(s Stats) {
			calls++
			if s.Packets >= 10_000 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("IngestSource: %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrWrite) {
		t.Errorf("cancellation also reported as a write failure: %v", err)
	}
	if st.Packets > 10_000+ctxCheckEvery || st.Packets < 10_000 {
		t.Errorf("read %d packets; cancelled at 10000, checked every %d", st.Packets, ctxCheckEvery)
	}
	if calls == 0 {
		t.Errorf("Progress never called")
	}
	// Whatever was written is whole: each block equals the model's.
	got := sink.got()
	compareBlocks(t, got, c.blocks["eth0"][:min(len(got), len(c.blocks["eth0"]))])
}

func TestIngestSourceProgress(t *testing.T) {
	ifs := []capture.Interface{{Name: "eth0", Link: capture.LinkEthernet}}
	c := newPipelineCase(8, 30_000, 10, ifs, []string{"eth0"})
	var seen []uint64
	_, err := IngestSource(context.Background(), c.src, &blockSink{}, Options{ProgressEvery: time.Nanosecond,
		Progress: func(s Stats) { seen = append(seen, s.Packets) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 5 || !slices.IsSorted(seen) || seen[0] == 0 {
		t.Errorf("progress packets %v: want several increasing calls", seen)
	}
}

func TestIngestSourceNamingErrors(t *testing.T) {
	frames := []frame{frameOf(&event{res: ResultNonIP})}
	frames[0].info.Link = capture.LinkEthernet
	long := string(make([]byte, 253))
	cases := []struct {
		name string
		ifs  []capture.Interface
		opts Options
		idx  int
		want error
	}{
		{"unnamed without default", []capture.Interface{{}}, Options{}, 0, ErrBadIface},
		{"index beyond interfaces", []capture.Interface{{Name: "eth0"}}, Options{}, 1, ErrBadIface},
		{"negative index", []capture.Interface{{Name: "eth0"}}, Options{}, -1, ErrBadIface},
		{"suffix makes the name too long", []capture.Interface{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}, Options{DefaultName: long}, 10, ErrBadIface},
		{"bad Iface option", nil, Options{Iface: string(make([]byte, 256))}, 0, ErrBadIface},
		{"bad interval", nil, Options{Interval: time.Millisecond}, 0, ErrBadInterval},
	}
	for _, c := range cases {
		f := frames[0]
		f.info.Iface = c.idx
		src := &frameSource{ifs: c.ifs, frames: []frame{f}}
		_, err := IngestSource(context.Background(), src, &blockSink{}, c.opts)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := IngestSource(context.Background(), &frameSource{}, nil, Options{}); !errors.Is(err, ErrNoSink) {
		t.Errorf("nil sink: %v", err)
	}
}

// TestIngestPcapFile goes through the real file reader: a pcap written with
// capture.PcapWriter, whole and then cut inside its last record.
func TestIngestPcapFile(t *testing.T) {
	ifs := []capture.Interface{{Link: capture.LinkEthernet}}
	c := newPipelineCase(9, 5_000, 60, ifs, []string{"capture.pcap"})
	path := filepath.Join(t.TempDir(), "capture.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewPcapWriter(fh, capture.LinkEthernet, 65535, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.src.frames {
		if err := w.WritePacket(f.info.Timestamp, f.data, f.info.OrigLen); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	ingestFile := func(path string) (Stats, error, *blockSink) {
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		sink := &blockSink{}
		st, err := IngestSource(context.Background(), src, sink, Options{DefaultName: "capture.pcap", Interval: time.Minute})
		return st, err, sink
	}
	// The file carries no direction: the model's packets have Dir unknown.
	for i := range c.src.frames {
		c.src.frames[i].info.Dir = capture.DirUnknown
	}
	c.expect(60)
	st, err, sink := ingestFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, st, sink)

	// Cut the file inside its last record: every other packet still counts.
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-3); err != nil {
		t.Fatal(err)
	}
	c.src.frames = c.src.frames[:len(c.src.frames)-1]
	c.expect(60)
	st, err, sink = ingestFile(path)
	if !errors.Is(err, ErrRead) || !errors.Is(err, capture.ErrTruncated) {
		t.Fatalf("cut file: %v, want ErrRead wrapping capture.ErrTruncated", err)
	}
	c.check(t, st, sink)
}
