package pktbuild

import (
	"fmt"
	"net/netip"
)

// IP protocol numbers (IPv4 protocol / IPv6 Next Header).
const (
	ProtoHopByHop uint8 = 0
	ProtoICMP     uint8 = 1
	ProtoIPIP     uint8 = 4
	ProtoTCP      uint8 = 6
	ProtoUDP      uint8 = 17
	ProtoIPv6     uint8 = 41
	ProtoRouting  uint8 = 43
	ProtoFragment uint8 = 44
	ProtoGRE      uint8 = 47
	ProtoESP      uint8 = 50
	ProtoAH       uint8 = 51
	ProtoICMPv6   uint8 = 58
	ProtoNoNext   uint8 = 59
	ProtoDstOpts  uint8 = 60
	ProtoMobility uint8 = 135
	ProtoSCTP     uint8 = 132
)

// IPv4 is an IPv4 header with options. Addresses must be IPv4 (the zero
// Addr means 0.0.0.0). A zero Proto comes from the next layer (it stays 0
// when there is none).
type IPv4 struct {
	Src, Dst   netip.Addr
	TOS        uint8
	ID         uint16
	DF, MF     bool   // don't fragment, more fragments
	FragOffset uint16 // in 8-byte units, 0..8191
	TTL        uint8  // 0 means 64
	Proto      uint8
	Options    []byte // zero-padded to a multiple of 4, at most 40 bytes
	// IHL and TotalLength, when non-zero, are written instead of the
	// computed header length (in 4-byte words) and total length: for
	// malformed headers.
	IHL         uint8
	TotalLength uint16
}

func (IPv4) etherType() uint16 { return EtherTypeIPv4 }
func (IPv4) ipProto() uint8    { return ProtoIPIP }

func addr4(a netip.Addr, field string) ([4]byte, error) {
	switch {
	case !a.IsValid():
		return [4]byte{}, nil
	case a.Is4():
		return a.As4(), nil
	}
	return [4]byte{}, fmt.Errorf("%s %v is not an IPv4 address: %w", field, a, ErrInvalid)
}

func (ip IPv4) encode(c *context, payload []byte) ([]byte, error) {
	src, err := addr4(ip.Src, "IPv4.Src")
	if err != nil {
		return nil, err
	}
	dst, err := addr4(ip.Dst, "IPv4.Dst")
	if err != nil {
		return nil, err
	}
	proto := ip.Proto
	if proto == 0 && c.next != nil {
		if proto, err = nextIPProto(c, "IPv4.Proto"); err != nil {
			return nil, err
		}
	}
	if len(ip.Options) > 40 || ip.FragOffset > 0x1fff || ip.IHL > 15 {
		return nil, fmt.Errorf("IPv4 options %d bytes (max 40), fragment offset %d (max 8191), IHL %d (max 15): %w",
			len(ip.Options), ip.FragOffset, ip.IHL, ErrInvalid)
	}
	hl := 20 + (len(ip.Options)+3)/4*4
	total := hl + len(payload)
	if total > 0xffff && ip.TotalLength == 0 {
		return nil, fmt.Errorf("IPv4 datagram of %d bytes (max 65535): %w", total, ErrInvalid)
	}
	h := make([]byte, hl)
	h[0] = 0x40 | byte(cmp0(ip.IHL, uint8(hl/4)))
	h[1] = ip.TOS
	be16(h[2:], cmp0(ip.TotalLength, uint16(total)))
	be16(h[4:], ip.ID)
	frag := ip.FragOffset
	if ip.DF {
		frag |= 0x4000
	}
	if ip.MF {
		frag |= 0x2000
	}
	be16(h[6:], frag)
	h[8] = cmp0(ip.TTL, 64)
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	copy(h[20:], ip.Options)
	be16(h[10:], checksum(0, h))
	return prepend(h, payload), nil
}

// IPv6 is the fixed IPv6 header (40 bytes). The zero Addr means ::; IPv4
// addresses are written IPv4-mapped. A zero NextHeader comes from the next
// layer, or is 59 (no next header) when there is none.
type IPv6 struct {
	Src, Dst     netip.Addr
	TrafficClass uint8
	FlowLabel    uint32 // 20 bits
	HopLimit     uint8  // 0 means 64
	NextHeader   uint8
	// PayloadLength, when non-zero, is written instead of the computed one.
	PayloadLength uint16
}

func (IPv6) etherType() uint16 { return EtherTypeIPv6 }
func (IPv6) ipProto() uint8    { return ProtoIPv6 }

func (ip IPv6) encode(c *context, payload []byte) ([]byte, error) {
	if ip.FlowLabel > 0xfffff {
		return nil, fmt.Errorf("IPv6 flow label %#x (max 0xfffff): %w", ip.FlowLabel, ErrInvalid)
	}
	if len(payload) > 0xffff && ip.PayloadLength == 0 {
		return nil, fmt.Errorf("IPv6 payload of %d bytes (max 65535): %w", len(payload), ErrInvalid)
	}
	nh, err := nextHeader(c, ip.NextHeader, "IPv6.NextHeader")
	if err != nil {
		return nil, err
	}
	h := make([]byte, 40)
	be32(h, 6<<28|uint32(ip.TrafficClass)<<20|ip.FlowLabel)
	be16(h[4:], cmp0(ip.PayloadLength, uint16(len(payload))))
	h[6] = nh
	h[7] = cmp0(ip.HopLimit, 64)
	s, d := ip.Src.As16(), ip.Dst.As16()
	if !ip.Src.IsValid() {
		s = [16]byte{}
	}
	if !ip.Dst.IsValid() {
		d = [16]byte{}
	}
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return prepend(h, payload), nil
}

// nextHeader resolves an IPv6 Next Header field: nh itself when non-zero,
// else the next layer's protocol, else 59.
func nextHeader(c *context, nh uint8, field string) (uint8, error) {
	if nh != 0 {
		return nh, nil
	}
	if c.next == nil {
		return ProtoNoNext, nil
	}
	return nextIPProto(c, field)
}

// IPv6Ext is an IPv6 extension header with the common layout (Next Header,
// length in 8-byte units, data): hop-by-hop (0), routing (43), destination
// options (60), mobility (135) or any other. Data follows the two fixed
// bytes and is padded to a multiple of 8 (with a PadN option for hop-by-hop
// and destination options).
type IPv6Ext struct {
	Type       uint8 // ProtoHopByHop, ProtoRouting, ProtoDstOpts, ...
	NextHeader uint8 // 0 means from the next layer (59 when none)
	Data       []byte
}

func (e IPv6Ext) ipProto() uint8 { return e.Type }

func (e IPv6Ext) encode(c *context, payload []byte) ([]byte, error) {
	n := (2 + len(e.Data) + 7) / 8 * 8
	if n > 2048 {
		return nil, fmt.Errorf("IPv6 extension header of %d bytes (max 2048): %w", n, ErrInvalid)
	}
	nh, err := nextHeader(c, e.NextHeader, "IPv6Ext.NextHeader")
	if err != nil {
		return nil, err
	}
	h := make([]byte, n)
	h[0] = nh
	h[1] = byte(n/8 - 1)
	copy(h[2:], e.Data)
	if pad := n - 2 - len(e.Data); pad > 1 && (e.Type == ProtoHopByHop || e.Type == ProtoDstOpts) {
		h[2+len(e.Data)] = 1 // PadN; a single byte of padding is Pad1 (0)
		h[3+len(e.Data)] = byte(pad - 2)
	}
	return prepend(h, payload), nil
}

// IPv6Frag is an IPv6 Fragment header (8 bytes).
type IPv6Frag struct {
	NextHeader uint8  // 0 means from the next layer (59 when none)
	Offset     uint16 // in 8-byte units, 0..8191
	More       bool
	ID         uint32
}

func (IPv6Frag) ipProto() uint8 { return ProtoFragment }

func (f IPv6Frag) encode(c *context, payload []byte) ([]byte, error) {
	if f.Offset > 0x1fff {
		return nil, fmt.Errorf("IPv6 fragment offset %d (max 8191): %w", f.Offset, ErrInvalid)
	}
	nh, err := nextHeader(c, f.NextHeader, "IPv6Frag.NextHeader")
	if err != nil {
		return nil, err
	}
	h := make([]byte, 8)
	h[0] = nh
	v := f.Offset << 3
	if f.More {
		v |= 1
	}
	be16(h[2:], v)
	be32(h[4:], f.ID)
	return prepend(h, payload), nil
}

// AH is an IP Authentication Header (RFC 4302), for IPv4 or IPv6.
type AH struct {
	NextHeader uint8 // 0 means from the next layer (59 when none)
	SPI, Seq   uint32
	ICV        []byte // nil means 12 zero bytes; length a multiple of 4
}

func (AH) ipProto() uint8 { return ProtoAH }

func (a AH) encode(c *context, payload []byte) ([]byte, error) {
	icv := a.ICV
	if icv == nil {
		icv = make([]byte, 12)
	}
	n := 12 + len(icv)
	if len(icv)%4 != 0 || n/4-2 > 255 {
		return nil, fmt.Errorf("AH ICV of %d bytes (a multiple of 4 up to 1008): %w", len(icv), ErrInvalid)
	}
	nh, err := nextHeader(c, a.NextHeader, "AH.NextHeader")
	if err != nil {
		return nil, err
	}
	h := make([]byte, n)
	h[0] = nh
	h[1] = byte(n/4 - 2)
	be32(h[4:], a.SPI)
	be32(h[8:], a.Seq)
	copy(h[12:], icv)
	return prepend(h, payload), nil
}

// ESP is the clear part of an Encapsulating Security Payload header (SPI
// and sequence number); follow it with a Payload standing for the
// encrypted data.
type ESP struct{ SPI, Seq uint32 }

func (ESP) ipProto() uint8 { return ProtoESP }

func (e ESP) encode(_ *context, payload []byte) ([]byte, error) {
	h := make([]byte, 8)
	be32(h, e.SPI)
	be32(h[4:], e.Seq)
	return prepend(h, payload), nil
}
