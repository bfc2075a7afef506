package capture

import (
	"math/rand/v2"
	"testing"
)

// Ring reader benchmarks on a MockRing replaying frames in a loop, through
// the same block walker as a live Ring. One op is one packet.
//
// The baseline is in the same benchmark: tier=copy reads each packet with
// AppendPacket into a reused buffer (what a reader that keeps the bytes
// pays), tier=zerocopy with NextPacket. frames=cut replays what a live
// ring holds (the kernel filter's cut), frames=whole the full frames, where
// the copy costs most. Compare with
//
//	go test ./capture -run '^$' -bench BenchmarkMockRing -count 10 > ring.txt
//	benchstat -col /tier ring.txt
func BenchmarkMockRing(b *testing.B) {
	frames := mockBenchFrames(4096)
	for _, fr := range []struct {
		name   string
		filter bool
	}{{"cut", true}, {"whole", false}} {
		m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet, Filter: fr.filter, Loop: true})
		if err != nil {
			b.Fatal(err)
		}
		var stored int64
		for range m.Len() {
			_, info, err := m.NextPacket()
			if err != nil {
				b.Fatal(err)
			}
			stored += int64(info.CapLen)
		}
		perPacket := stored / int64(m.Len())
		b.Run("frames="+fr.name+"/tier=zerocopy", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(perPacket)
			var sum uint32
			for b.Loop() {
				data, info, err := m.NextPacket()
				if err != nil {
					b.Fatal(err)
				}
				sum += uint32(len(data)) + info.OrigLen
			}
			b.ReportMetric(float64(perPacket), "B/packet")
			_ = sum
		})
		b.Run("frames="+fr.name+"/tier=copy", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(perPacket)
			buf := make([]byte, 0, 2048)
			var sum uint32
			for b.Loop() {
				var info PacketInfo
				var err error
				buf, info, err = m.AppendPacket(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				sum += uint32(len(buf)) + info.OrigLen
			}
			b.ReportMetric(float64(perPacket), "B/packet")
			_ = sum
		})
	}
}

// mockBenchFrames returns n frames with a fixed seed: a third small
// (ACK-sized), a third full-size, the rest in between; IPv4 and IPv6,
// TCP and UDP, some VLAN-tagged.
func mockBenchFrames(n int) []MockFrame {
	rng := rand.New(rand.NewPCG(1, 2))
	frames := make([]MockFrame, n)
	for i := range frames {
		var payload int
		switch rng.IntN(3) {
		case 0:
			payload = 0
		case 1:
			payload = 1400
		default:
			payload = 100 + rng.IntN(900)
		}
		var l4 []byte
		proto := uint8(protoTCP)
		if rng.IntN(4) == 0 {
			proto, l4 = protoUDP, tfUDP(uint16(rng.Uint32()), 53, payload)
		} else {
			l4 = tfTCP(uint16(rng.Uint32()), 443, payload)
		}
		var frame []byte
		if rng.IntN(5) == 0 {
			frame = tfEth(bpfEtherIPv6, tfIPv6(proto, nil, l4))
		} else {
			frame = tfEth(bpfEtherIPv4, tfIPv4(proto, 0, l4))
		}
		if rng.IntN(10) == 0 {
			frame = tfEth(bpfEtherIPv4, tfIPv4(proto, 0, l4), bpfEtherVLAN)
		}
		frames[i] = MockFrame{Data: frame, Timestamp: int64(i) * 1000}
	}
	return frames
}
