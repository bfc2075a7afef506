package ingest

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/internal/testdata"
)

// Decode and aggregate real traffic: goprobe_default.pcap.gz (38.6k frames
// of many encapsulations, most cut at 128 bytes, ~2.4k flows), loaded into
// memory first. One op is one frame. "decode" is the decoder alone, the
// baseline for "decode+aggregate", which adds Aggregator.Add (or the
// non-IP counters); the difference is the aggregation's share.
//
//	go test -run '^$' -bench 'DecodeAggregate' -count 10 ./ingest | tee new.txt
//	benchstat old.txt new.txt

type memFrame struct {
	data []byte
	info capture.PacketInfo
}

func loadCorpusFrames(b *testing.B, name string) []memFrame {
	b.Helper()
	src, err := capture.OpenFile(filepath.Join(testdata.PcapDir(b), name))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var frames []memFrame
	for {
		data, info, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, memFrame{data: append([]byte(nil), data...), info: info})
	}
}

// discardSink drops blocks.
type discardSink struct{}

func (discardSink) Write(context.Context, *columnar.Block) error { return nil }

func BenchmarkDecodeAggregate(b *testing.B) {
	frames := loadCorpusFrames(b, "goprobe_default.pcap.gz")
	b.Run("decode", func(b *testing.B) {
		dec := NewDecoder(DecoderOptions{})
		var p Packet
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f := &frames[i]
			dec.Decode(f.data, f.info, &p)
			if i++; i == len(frames) {
				i = 0
			}
		}
	})
	b.Run("decode+aggregate", func(b *testing.B) {
		dec := NewDecoder(DecoderOptions{})
		a, err := NewAggregator(b.Context(), "eth0", discardSink{}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		var p Packet
		add := func(f *memFrame) error {
			switch dec.Decode(f.data, f.info, &p) {
			case ResultIP:
				return a.Add(f.info.Timestamp, &p)
			case ResultNonIP:
				return a.AddNonIP(f.info.Timestamp)
			}
			return a.AddParseError(f.info.Timestamp)
		}
		for i := range frames { // first pass: rotations and table growth
			if err := add(&frames[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := add(&frames[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(frames) {
				i = 0
			}
		}
	})
}
