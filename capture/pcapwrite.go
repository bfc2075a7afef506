package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// PcapWriter writes a classic little-endian pcap file (version 2.4), in
// microsecond or nanosecond resolution; the layout is in pcap.go. It does
// no buffering of its own: wrap w in a bufio.Writer for many small packets.
// It is not safe for concurrent use.
type PcapWriter struct {
	w       io.Writer
	snaplen uint32
	nano    bool
	hdr     [pcapRecHdrLen]byte
	err     error // sticky write error
}

// NewPcapWriter writes the pcap file header to w and returns a writer for
// its records. snaplen 0 means 262144, the usual tcpdump default. With
// nanosecond set, timestamps keep nanoseconds; otherwise they are truncated
// to microseconds.
func NewPcapWriter(w io.Writer, link LinkType, snaplen uint32, nanosecond bool) (*PcapWriter, error) {
	if snaplen == 0 {
		snaplen = capLenFloor
	}
	if snaplen > capLenHard {
		return nil, fmt.Errorf("capture: pcap writer: snap length %d exceeds limit %d", snaplen, capLenHard)
	}
	magic := uint32(pcapMagicMicro)
	if nanosecond {
		magic = pcapMagicNano
	}
	var h [pcapHdrLen]byte
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], pcapVersionMaj)
	binary.LittleEndian.PutUint16(h[6:], pcapVersionMin)
	// thiszone and sigfigs stay 0.
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("capture: pcap writer: writing file header: %w", err)
	}
	return &PcapWriter{w: w, snaplen: snaplen, nano: nanosecond}, nil
}

// WritePacket writes one record. ts is the time in Unix nanoseconds, from
// 1970 to early 2106 (the range of pcap's unsigned 32-bit seconds). data is
// cut to the snap length, like a capture would; origLen is the length on the
// wire, 0 meaning len(data), and may not be below the captured length. It
// allocates nothing. After a write error every call returns that error.
func (p *PcapWriter) WritePacket(ts int64, data []byte, origLen uint32) error {
	if p.err != nil {
		return p.err
	}
	if uint64(len(data)) > uint64(p.snaplen) {
		data = data[:p.snaplen]
	}
	capLen := uint32(len(data))
	if origLen == 0 {
		origLen = capLen
	}
	if origLen < capLen {
		return fmt.Errorf("capture: pcap writer: original length %d below captured length %d", origLen, capLen)
	}
	if ts < 0 || ts/1e9 > 0xffffffff {
		return fmt.Errorf("capture: pcap writer: timestamp %d ns outside pcap's range [0, 2^32 s)", ts)
	}
	frac := uint32(ts % 1e9)
	if !p.nano {
		frac /= 1e3
	}
	binary.LittleEndian.PutUint32(p.hdr[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(p.hdr[4:], frac)
	binary.LittleEndian.PutUint32(p.hdr[8:], capLen)
	binary.LittleEndian.PutUint32(p.hdr[12:], origLen)
	if _, err := p.w.Write(p.hdr[:]); err != nil {
		p.err = fmt.Errorf("capture: pcap writer: writing record header: %w", err)
		return p.err
	}
	if _, err := p.w.Write(data); err != nil {
		p.err = fmt.Errorf("capture: pcap writer: writing record data: %w", err)
		return p.err
	}
	return nil
}
