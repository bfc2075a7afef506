package capture

import (
	"encoding/binary"
)

// Hand-built frames for the filter, mock-ring and live-ring tests. They are
// well formed (lengths and IPv4 checksums right) so the kernel's IP stack
// does not complain when they are injected on a veth.

var (
	tfSrcMAC = [6]byte{0x02, 0xf1, 0x05, 0, 0, 1}
	tfDstMAC = [6]byte{0x02, 0xf1, 0x05, 0, 0, 2}
	tfSrcIP4 = [4]byte{10, 99, 0, 1}
	tfDstIP4 = [4]byte{10, 99, 0, 2}
	tfSrcIP6 = [16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	tfDstIP6 = [16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

// tfEth wraps payload in an Ethernet header with the given ethertype,
// preceded by one VLAN tag per TPID in tags (outermost first).
func tfEth(etype uint16, payload []byte, tags ...uint16) []byte {
	b := make([]byte, 0, 14+4*len(tags)+len(payload))
	b = append(b, tfDstMAC[:]...)
	b = append(b, tfSrcMAC[:]...)
	for i, tpid := range tags {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // TCI: VLAN 100, 101...
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, payload...)
}

// tfPPPoE returns a PPPoE session header and PPP protocol before payload.
func tfPPPoE(proto uint16, payload []byte) []byte {
	b := []byte{0x11, 0x00, 0x12, 0x34} // ver/type, code 0 (session), session id
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(payload)))
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(b, payload...)
}

// tfMPLS returns n MPLS labels (bottom of stack on the last) before payload.
func tfMPLS(n int, payload []byte) []byte {
	var b []byte
	for i := range n {
		v := uint32(1000+i)<<12 | 64 // label, TC 0, TTL 64
		if i == n-1 {
			v |= 1 << 8
		}
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, payload...)
}

// tfIPv4 returns an IPv4 header with optWords 4-byte option words (NOPs)
// carrying l4 as protocol proto.
func tfIPv4(proto uint8, optWords int, l4 []byte) []byte {
	hl := 20 + 4*optWords
	b := make([]byte, hl, hl+len(l4))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(hl+len(l4)))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	b[8], b[9] = 64, proto
	copy(b[12:], tfSrcIP4[:])
	copy(b[16:], tfDstIP4[:])
	for i := 20; i < hl; i++ {
		b[i] = 1 // NOP
	}
	var sum uint32
	for i := 0; i < hl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	return append(b, l4...)
}

// tfExt is one IPv6 extension header: its type and total length in bytes
// (a multiple of 8; fragment headers are always 8).
type tfExt struct {
	typ uint8
	len int
}

// tfIPv6 returns an IPv6 header, the extension headers exts and l4 as
// protocol proto.
func tfIPv6(proto uint8, exts []tfExt, l4 []byte) []byte {
	b := make([]byte, 40, 40+len(l4)+64)
	b[0] = 0x60
	b[7] = 64
	copy(b[8:], tfSrcIP6[:])
	copy(b[24:], tfDstIP6[:])
	nh := &b[6]
	for _, e := range exts {
		*nh = e.typ
		h := make([]byte, e.len)
		if e.typ != bpfIPv6Fragment {
			h[1] = byte(e.len/8 - 1)
		}
		b = append(b, h...)
		nh = &b[len(b)-e.len]
	}
	*nh = proto
	b = append(b, l4...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return b
}

// tfTCP returns a 20-byte TCP header (SYN) and n payload bytes.
func tfTCP(sport, dport uint16, n int) []byte {
	b := make([]byte, 20+n)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12], b[13] = 5<<4, 0x02
	return b
}

// tfUDP returns an 8-byte UDP header and n payload bytes.
func tfUDP(sport, dport uint16, n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	return b
}

// tfARP returns an ARP request payload (ethertype 0x0806).
func tfARP() []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	b = append(b, tfSrcMAC[:]...)
	b = append(b, tfSrcIP4[:]...)
	b = append(b, make([]byte, 6)...)
	return append(b, tfDstIP4[:]...)
}
