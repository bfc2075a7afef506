package pktbuild

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EtherType values.
const (
	EtherTypeIPv4       uint16 = 0x0800
	EtherTypeARP        uint16 = 0x0806
	EtherTypeVLAN       uint16 = 0x8100 // 802.1Q C-tag
	EtherTypeQinQ       uint16 = 0x88a8 // 802.1ad S-tag
	EtherTypeQinQOld    uint16 = 0x9100 // pre-standard QinQ
	EtherTypeIPv6       uint16 = 0x86dd
	EtherTypePPPoE      uint16 = 0x8864 // PPPoE session stage
	EtherTypeMPLS       uint16 = 0x8847
	EtherTypeMPLSMcast  uint16 = 0x8848
	EtherTypeLLDP       uint16 = 0x88cc
	PPPProtoIPv4        uint16 = 0x0021
	PPPProtoIPv6        uint16 = 0x0057
	SLLHost             uint16 = 0 // packet types of SLL/SLL2 (PACKET_*)
	SLLBroadcast        uint16 = 1
	SLLMulticast        uint16 = 2
	SLLOtherHost        uint16 = 3
	SLLOutgoing         uint16 = 4
	ARPHRDEther         uint16 = 1
	NullFamilyIPv4      uint32 = 2
	NullFamilyIPv6BSD   uint32 = 24
	NullFamilyIPv6BSD28 uint32 = 28 // FreeBSD
	NullFamilyIPv6Apple uint32 = 30 // Darwin
)

// Default MAC addresses used when Ethernet's are zero.
var (
	defaultDst = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	defaultSrc = [6]byte{0x02, 0, 0, 0, 0, 0x01}
)

// Ethernet is an Ethernet II header (14 bytes). Zero MACs are replaced by
// fixed locally administered addresses; a zero Type comes from the next
// layer.
type Ethernet struct {
	Dst, Src [6]byte
	Type     uint16
}

func (e Ethernet) encode(c *context, payload []byte) ([]byte, error) {
	typ := e.Type
	if typ == 0 {
		var err error
		if typ, err = nextEtherType(c, "Ethernet.Type"); err != nil {
			return nil, err
		}
	}
	dst, src := e.Dst, e.Src
	if dst == ([6]byte{}) {
		dst = defaultDst
	}
	if src == ([6]byte{}) {
		src = defaultSrc
	}
	h := make([]byte, 14)
	copy(h, dst[:])
	copy(h[6:], src[:])
	be16(h[12:], typ)
	return prepend(h, payload), nil
}

// VLAN is an 802.1Q tag (or an 802.1ad / 0x9100 tag when TPID says so):
// the tag's TPID is written by the layer before it, its TCI and the inner
// EtherType by this one.
type VLAN struct {
	TPID uint16 // 0 means EtherTypeVLAN
	ID   uint16 // VLAN id, 0..4095
	PCP  uint8  // priority, 0..7
	DEI  bool
	Type uint16 // inner EtherType; 0 means from the next layer
}

func (v VLAN) etherType() uint16 {
	if v.TPID == 0 {
		return EtherTypeVLAN
	}
	return v.TPID
}

func (v VLAN) encode(c *context, payload []byte) ([]byte, error) {
	if v.ID > 0x0fff || v.PCP > 7 {
		return nil, fmt.Errorf("VLAN id %d (max 4095) / PCP %d (max 7): %w", v.ID, v.PCP, ErrInvalid)
	}
	typ := v.Type
	if typ == 0 {
		var err error
		if typ, err = nextEtherType(c, "VLAN.Type"); err != nil {
			return nil, err
		}
	}
	tci := uint16(v.PCP)<<13 | v.ID
	if v.DEI {
		tci |= 1 << 12
	}
	h := make([]byte, 4)
	be16(h, tci)
	be16(h[2:], typ)
	return prepend(h, payload), nil
}

// PPPoE is a PPPoE session header (6 bytes) and the PPP protocol field (2).
type PPPoE struct {
	SessionID uint16
	Proto     uint16 // PPP protocol; 0 means IPv4/IPv6 from the next layer
}

func (PPPoE) etherType() uint16 { return EtherTypePPPoE }

func (p PPPoE) encode(c *context, payload []byte) ([]byte, error) {
	proto := p.Proto
	if proto == 0 {
		switch c.next.(type) {
		case IPv4:
			proto = PPPProtoIPv4
		case IPv6:
			proto = PPPProtoIPv6
		default:
			return nil, fmt.Errorf("cannot infer PPPoE.Proto from next layer %T; set it: %w", c.next, ErrInvalid)
		}
	}
	h := make([]byte, 8)
	h[0] = 0x11 // version 1, type 1
	be16(h[2:], p.SessionID)
	be16(h[4:], uint16(2+len(payload))) // PPP protocol + payload
	be16(h[6:], proto)
	return prepend(h, payload), nil
}

// MPLS is one label stack entry (4 bytes). The bottom-of-stack bit is set
// when the next layer is not MPLS.
type MPLS struct {
	Label     uint32 // 20 bits
	TC        uint8  // traffic class, 0..7
	TTL       uint8  // 0 means 64
	Multicast bool   // the EtherType in front of the stack is 0x8848
}

func (m MPLS) etherType() uint16 {
	if m.Multicast {
		return EtherTypeMPLSMcast
	}
	return EtherTypeMPLS
}

func (m MPLS) encode(c *context, payload []byte) ([]byte, error) {
	if m.Label > 0xfffff || m.TC > 7 {
		return nil, fmt.Errorf("MPLS label %d (max 1048575) / TC %d (max 7): %w", m.Label, m.TC, ErrInvalid)
	}
	ttl := m.TTL
	if ttl == 0 {
		ttl = 64
	}
	v := m.Label<<12 | uint32(m.TC)<<9 | uint32(ttl)
	if _, more := c.next.(MPLS); !more {
		v |= 1 << 8
	}
	h := make([]byte, 4)
	be32(h, v)
	return prepend(h, payload), nil
}

// SLL is a Linux cooked capture v1 header (16 bytes); use it as the first
// layer of frames for capture.LinkSLL.
type SLL struct {
	PacketType uint16 // SLLHost, ..., SLLOutgoing
	HAType     uint16 // ARPHRD_ type; 0 means ARPHRDEther
	AddrLen    uint16 // 0 means 6
	Addr       [8]byte
	Proto      uint16 // EtherType; 0 means from the next layer
}

func (s SLL) encode(c *context, payload []byte) ([]byte, error) {
	proto, err := sllProto(c, s.Proto, "SLL.Proto")
	if err != nil {
		return nil, err
	}
	h := make([]byte, 16)
	be16(h, s.PacketType)
	be16(h[2:], cmp0(s.HAType, ARPHRDEther))
	be16(h[4:], cmp0(s.AddrLen, 6))
	copy(h[6:14], s.Addr[:])
	be16(h[14:], proto)
	return prepend(h, payload), nil
}

// SLL2 is a Linux cooked capture v2 header (20 bytes); use it as the first
// layer of frames for capture.LinkSLL2.
type SLL2 struct {
	Proto      uint16 // EtherType; 0 means from the next layer
	IfIndex    uint32
	HAType     uint16 // 0 means ARPHRDEther
	PacketType uint8
	AddrLen    uint8 // 0 means 6
	Addr       [8]byte
}

func (s SLL2) encode(c *context, payload []byte) ([]byte, error) {
	proto, err := sllProto(c, s.Proto, "SLL2.Proto")
	if err != nil {
		return nil, err
	}
	h := make([]byte, 20)
	be16(h, proto)
	be32(h[4:], s.IfIndex)
	be16(h[8:], cmp0(s.HAType, ARPHRDEther))
	h[10] = s.PacketType
	h[11] = cmp0(s.AddrLen, 6)
	copy(h[12:], s.Addr[:])
	return prepend(h, payload), nil
}

func sllProto(c *context, proto uint16, field string) (uint16, error) {
	if proto != 0 {
		return proto, nil
	}
	return nextEtherType(c, field)
}

func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Null is the 4-byte BSD loopback header of capture.LinkNull, in host byte
// order: little-endian unless BigEndian. A zero Family comes from the next
// layer (2 for IPv4, 30, Darwin's AF_INET6, for IPv6).
type Null struct {
	Family    uint32
	BigEndian bool
}

func (n Null) encode(c *context, payload []byte) ([]byte, error) {
	fam, err := nullFamily(c, n.Family, NullFamilyIPv6Apple)
	if err != nil {
		return nil, err
	}
	h := make([]byte, 4)
	if n.BigEndian {
		binary.BigEndian.PutUint32(h, fam)
	} else {
		binary.LittleEndian.PutUint32(h, fam)
	}
	return prepend(h, payload), nil
}

// Loop is the 4-byte OpenBSD loopback header of capture.LinkLoop, in
// network byte order. A zero Family comes from the next layer (2 for IPv4,
// 24 for IPv6).
type Loop struct{ Family uint32 }

func (l Loop) encode(c *context, payload []byte) ([]byte, error) {
	fam, err := nullFamily(c, l.Family, NullFamilyIPv6BSD)
	if err != nil {
		return nil, err
	}
	h := make([]byte, 4)
	binary.BigEndian.PutUint32(h, fam)
	return prepend(h, payload), nil
}

func nullFamily(c *context, fam, v6 uint32) (uint32, error) {
	if fam != 0 {
		return fam, nil
	}
	switch c.next.(type) {
	case IPv4:
		return NullFamilyIPv4, nil
	case IPv6:
		return v6, nil
	}
	return 0, fmt.Errorf("cannot infer the address family from next layer %T; set it: %w", c.next, ErrInvalid)
}

// ARP is an Ethernet/IPv4 ARP message (28 bytes): a non-IP frame.
type ARP struct {
	Op                   uint16 // 1 request, 2 reply; 0 means 1
	SenderMAC, TargetMAC [6]byte
	SenderIP, TargetIP   netip.Addr // IPv4; zero Addr means 0.0.0.0
}

func (ARP) etherType() uint16 { return EtherTypeARP }

func (a ARP) encode(_ *context, payload []byte) ([]byte, error) {
	sip, err := addr4(a.SenderIP, "ARP.SenderIP")
	if err != nil {
		return nil, err
	}
	tip, err := addr4(a.TargetIP, "ARP.TargetIP")
	if err != nil {
		return nil, err
	}
	h := make([]byte, 28)
	be16(h, 1)          // hardware type Ethernet
	be16(h[2:], 0x0800) // protocol IPv4
	h[4], h[5] = 6, 4
	be16(h[6:], cmp0(a.Op, 1))
	copy(h[8:], a.SenderMAC[:])
	copy(h[14:], sip[:])
	copy(h[18:], a.TargetMAC[:])
	copy(h[24:], tip[:])
	return prepend(h, payload), nil
}
