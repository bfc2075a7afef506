// Command mkpcap writes a large pcap for ingest benchmarks by replaying a
// real capture N times back to back. Packets keep the source's order, bytes
// and lengths (real traffic's mix of packets and flows) but get new, evenly
// spaced timestamps at -pps packets per second of capture time, so the
// result spans a known number of blocks whatever the source's clock did.
//
//	go run ./bench/cmd/mkpcap -src ../shared/testdata/pcap/goprobe_default.pcap.gz -repeat 200 -out /tmp/big.pcap
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowsql/flowsql/capture"
)

func main() {
	src := flag.String("src", "", "capture to replay (pcap or pcapng, gzip too)")
	out := flag.String("out", "", "pcap to write")
	repeat := flag.Int("repeat", 100, "number of copies")
	pps := flag.Int64("pps", 2000, "packets per second of capture time")
	flag.Parse()
	if *src == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	n, err := replay(*src, *out, *repeat, *pps)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkpcap: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d packets\n", *out, n)
}

type record struct {
	data []byte
	orig uint32
}

func replay(srcPath, outPath string, repeat int, pps int64) (int, error) {
	if pps <= 0 {
		return 0, fmt.Errorf("-pps must be positive")
	}
	src, err := capture.OpenFile(srcPath)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var recs []record
	var link capture.LinkType
	for {
		data, info, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			link = info.Link
		} else if info.Link != link {
			continue // keep one link type: a pcap has one
		}
		recs = append(recs, record{append([]byte(nil), data...), info.OrigLen})
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("%s holds no packets", srcPath)
	}
	f, err := os.Create(outPath)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := capture.NewPcapWriter(bw, link, 262144, true)
	if err != nil {
		f.Close()
		return 0, err
	}
	const start = int64(1741564800) * 1e9 // 2025-03-10 00:00 UTC
	n := 0
	for r := 0; r < repeat; r++ {
		for _, rec := range recs {
			ts := start + int64(n)*1e9/pps
			if err := w.WritePacket(ts, rec.data, rec.orig); err != nil {
				f.Close()
				return n, err
			}
			n++
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}
