package ingest

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/flowsql/flowsql/capture"
)

// Synthetic traffic for the flow-table benchmarks: nFlows flows with a
// realistic mix, and a packet stream that picks flows uniformly at random
// (the worst case for caches, and what a busy aggregation point sees).
//
//   - 90% IPv4, 10% IPv6; clients in 10.0.0.0/8 (2001:db8::/32), servers
//     from a pool of nFlows/8 public addresses (many clients, fewer servers);
//   - TCP 75% (443, 80, 22, 8080 or a random port), UDP 22% (53, 123, 443,
//     random), ICMP/ICMPv6 echo 3%; client ports ephemeral;
//   - 60% of the stream's packets go client->server, 40% back; sizes from
//     60 to 1514 bytes.

// synthFlow is one flow's two directions.
type synthFlow struct{ c2s, s2c Packet }

// synthStream returns the flows' opening packets (client->server, with SYN
// for TCP) and a stream of nPkts packets of those flows.
func synthStream(nFlows, nPkts int, seed uint64) (open, stream []Packet) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	nServers := max(nFlows/8, 1)
	servers4 := make([]uint32, nServers)
	servers6 := make([][16]byte, nServers)
	for i := range servers4 {
		servers4[i] = 0x0b000000 + r.Uint32N(0xd0000000) // 11.0.0.0 ..: public-looking
		servers6[i] = [16]byte{0x2a, 0x00, 0x14, 0x50}
		binary.BigEndian.PutUint64(servers6[i][8:], r.Uint64())
	}
	flows := make([]synthFlow, nFlows)
	for i := range flows {
		var p Packet
		s := r.IntN(nServers)
		if r.IntN(10) != 0 {
			p.IPv4 = true
			p.Src = mapped4(0x0a000000 | r.Uint32N(1<<24))
			p.Dst = mapped4(servers4[s])
		} else {
			p.Src = [16]byte{0x20, 0x01, 0x0d, 0xb8}
			binary.BigEndian.PutUint64(p.Src[8:], r.Uint64())
			p.Dst = servers6[s]
		}
		p.HasTransport = true
		sport := uint16(32768 + r.IntN(28232))
		switch x := r.IntN(100); {
		case x < 75:
			p.Proto = protoTCP
			p.SrcPort, p.DstPort = sport, []uint16{443, 443, 443, 80, 22, 8080, uint16(1 + r.IntN(65535))}[r.IntN(7)]
		case x < 97:
			p.Proto = protoUDP
			p.SrcPort, p.DstPort = sport, []uint16{53, 53, 123, 443, uint16(1 + r.IntN(65535))}[r.IntN(5)]
		default:
			p.Proto = protoICMP
			p.ICMPType = 8
			if !p.IPv4 {
				p.Proto, p.ICMPType = protoICMPv6, 128
			}
		}
		c2s, s2c := p, p
		s2c.Src, s2c.Dst, s2c.SrcPort, s2c.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
		switch p.Proto {
		case protoTCP:
			c2s.TCPFlags, s2c.TCPFlags = tcpACK, tcpACK
		case protoICMP:
			s2c.ICMPType = 0
		case protoICMPv6:
			s2c.ICMPType = 129
		}
		flows[i] = synthFlow{c2s: c2s, s2c: s2c}
		o := c2s
		if o.Proto == protoTCP {
			o.TCPFlags = tcpSYN
		}
		o.Len = 74
		open = append(open, o)
	}
	stream = make([]Packet, nPkts)
	for i := range stream {
		f := &flows[r.IntN(nFlows)]
		if r.IntN(10) < 6 {
			stream[i] = f.c2s
		} else {
			stream[i] = f.s2c
		}
		stream[i].Len = uint32(60 + r.IntN(1455))
		stream[i].Dir = capture.DirUnknown
	}
	return open, stream
}
