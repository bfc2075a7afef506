package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// recordStarts walks a well-formed capture independently of the reader and
// returns the offset of every record (pcap) or block (pcapng), the end of
// the file last, and for each record whether it holds a packet.
func recordStarts(t *testing.T, b []byte) (starts []int, isPkt []bool) {
	t.Helper()
	if binary.LittleEndian.Uint32(b) == ngBlockSHB {
		var bo binary.ByteOrder = binary.LittleEndian
		for off := 0; off < len(b); {
			typ := binary.LittleEndian.Uint32(b[off:])
			if typ == ngBlockSHB {
				if binary.LittleEndian.Uint32(b[off+8:]) == ngByteOrderMagic {
					bo = binary.LittleEndian
				} else {
					bo = binary.BigEndian
				}
			}
			typ = bo.Uint32(b[off:])
			starts = append(starts, off)
			isPkt = append(isPkt, typ == ngBlockEPB || typ == ngBlockSPB || typ == ngBlockOPB)
			off += int(bo.Uint32(b[off+4:]))
		}
		return append(starts, len(b)), isPkt
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(b) == pcapMagicMicro || binary.BigEndian.Uint32(b) == pcapMagicNano {
		bo = binary.BigEndian
	}
	for off := pcapHdrLen; off < len(b); off += pcapRecHdrLen + int(bo.Uint32(b[off+8:])) {
		starts = append(starts, off)
		isPkt = append(isPkt, true)
	}
	return append(starts, len(b)), isPkt
}

// corruptionFiles are real captures of each kind used by the corruption
// tests: LE and BE pcap, nanosecond pcap, pcapng with several interfaces.
var corruptionFiles = []string{
	"flowtest_icmp.pcap",
	"pcapplusplus_nanosecs_big_endian.pcap",
	"slimcap_big_endian_truncated.pcap",
	"pcapplusplus_pcapng_eth_sll_truncated.pcapng",
	"pcapplusplus_many_interfaces.pcapng",
	"ndpi_sites_multi_interface.pcapng",
}

// TestCutEverywhere cuts real files at every byte of their first records
// and at every record boundary. A cut at a boundary is a clean end after
// the records before it; a cut inside record i yields the packets before it
// and ErrTruncated naming record i and its offset.
func TestCutEverywhere(t *testing.T) {
	for _, name := range corruptionFiles {
		t.Run(name, func(t *testing.T) {
			b := readTestFile(t, name)
			want, err := readBytes(t, b)
			if err != nil {
				t.Fatal(err)
			}
			starts, isPkt := recordStarts(t, b)
			ng := binary.LittleEndian.Uint32(b) == ngBlockSHB
			cuts := map[int]bool{}
			for c := 0; c < len(b) && c < 2048; c++ {
				cuts[c] = true
			}
			for _, s := range starts {
				for _, d := range []int{-1, 0, 1, 8, 17} {
					if c := s + d; c >= 0 && c <= len(b) {
						cuts[c] = true
					}
				}
			}
			for c := range cuts {
				checkCut(t, b, c, starts, isPkt, want, ng)
			}
		})
	}
}

func checkCut(t *testing.T, b []byte, c int, starts []int, isPkt []bool, want []pkt, ng bool) {
	t.Helper()
	// Odd cuts use a small read buffer, so records also go through the
	// owned-buffer path.
	bufSize := DefaultFileBufferSize
	if c%2 == 1 {
		bufSize = minFileBufferSize
	}
	got, err := readBytes(t, b[:c], WithBufferSize(bufSize))
	// Find the record the cut falls in (or the boundary it hits).
	i := 0
	for i < len(starts)-1 && starts[i+1] <= c {
		i++
	}
	npkt := 0
	for _, p := range isPkt[:min(i, len(isPkt))] {
		if p {
			npkt++
		}
	}
	comparePkts(t, got, want[:min(npkt, len(want))])
	hdrEnd := pcapHdrLen
	if ng {
		hdrEnd = starts[1] // end of the first SHB
	}
	switch {
	case c == len(b):
		if err != nil {
			t.Fatalf("cut at end: %v", err)
		}
	case c < hdrEnd:
		fe := fileErr(t, err, ErrTruncated)
		wantRec := int64(0)
		if ng && c >= 4 {
			wantRec = 1
		}
		if fe.Record != wantRec || fe.Offset != 0 {
			t.Fatalf("cut at %d in file header: record %d offset %d", c, fe.Record, fe.Offset)
		}
	case c == starts[i]:
		if err != nil {
			t.Fatalf("cut at record boundary %d: %v", c, err)
		}
	default:
		fe := fileErr(t, err, ErrTruncated)
		wantRec := int64(i + 1) // pcap: records after the header; pcapng: blocks
		if fe.Record != wantRec || fe.Offset != int64(starts[i]) {
			t.Fatalf("cut at %d inside record %d at %d: got record %d offset %d (%v)",
				c, wantRec, starts[i], fe.Record, fe.Offset, err)
		}
	}
}

// TestFlipBytes flips every byte of the first records of real files. The
// packets before the damaged record must come back unchanged; an error may
// only name the damaged record or a later one; nothing panics.
func TestFlipBytes(t *testing.T) {
	for _, name := range corruptionFiles {
		t.Run(name, func(t *testing.T) {
			b := readTestFile(t, name)
			starts, isPkt := recordStarts(t, b)
			// Keep the records that start in the first 16 KiB, to bound
			// the test's time.
			for len(starts) > 2 && starts[len(starts)-2] > 16<<10 {
				starts, isPkt = starts[:len(starts)-1], isPkt[:len(isPkt)-1]
			}
			b = b[:starts[len(starts)-1]]
			want, err := readBytes(t, b)
			if err != nil {
				t.Fatal(err)
			}
			ng := binary.LittleEndian.Uint32(b) == ngBlockSHB
			bad := bytes.Clone(b)
			for p := 0; p < len(b) && p < 1024; p++ {
				for _, x := range []byte{0x01, 0x80, 0xff} {
					bad[p] = b[p] ^ x
					got, err := readBytes(t, bad)
					bad[p] = b[p]
					i := 0 // index in starts of the record holding byte p
					for i < len(starts)-1 && starts[i+1] <= p {
						i++
					}
					if (!ng && p < pcapHdrLen) || (ng && p < 4) {
						continue // file header or magic: only "no panic" is required
					}
					npkt := 0
					for _, isp := range isPkt[:i] {
						if isp {
							npkt++
						}
					}
					if len(got) < npkt {
						t.Fatalf("flip %#x at %d: %d packets, want at least %d (%v)", x, p, len(got), npkt, err)
					}
					comparePkts(t, got[:npkt], want[:npkt])
					var fe *FileError
					if err != nil && (!errors.As(err, &fe) || fe.Record < int64(i+1)) {
						t.Fatalf("flip %#x at %d (record %d): error %v", x, p, i+1, err)
					}
				}
			}
		})
	}
}

// TestPcapRecordDamage: targeted damage of a real pcap's record header.
func TestPcapRecordDamage(t *testing.T) {
	b := readTestFile(t, "flowtest_icmp.pcap")
	want, err := readBytes(t, b)
	if err != nil {
		t.Fatal(err)
	}
	starts, _ := recordStarts(t, b)
	for k := range len(starts) - 1 {
		bad := bytes.Clone(b)
		binary.LittleEndian.PutUint32(bad[starts[k]+8:], 0x00400001) // caplen 4 MiB + 1
		got, err := readBytes(t, bad)
		fe := fileErr(t, err, ErrCorrupt)
		if fe.Record != int64(k+1) || fe.Offset != int64(starts[k]) {
			t.Fatalf("record %d: error at record %d offset %d", k+1, fe.Record, fe.Offset)
		}
		comparePkts(t, got, want[:k])
	}
}
