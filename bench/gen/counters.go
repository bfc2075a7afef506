package gen

import (
	"math"
	"math/rand/v2"
)

// counters are one row's counters, as the interface sees them: out is sent
// by the client side (internal hosts), in is received.
type counters struct {
	bytesIn, bytesOut, pktsIn, pktsOut uint64
}

func (c *counters) add(o counters) {
	c.bytesIn += o.bytesIn
	c.bytesOut += o.bytesOut
	c.pktsIn += o.pktsIn
	c.pktsOut += o.pktsOut
}

// Frame sizes at the link layer (Ethernet header included, FCS not).
const (
	tcpHeader  = 66     // Ethernet 14 + IPv4 20 + TCP 20 + timestamps 12
	udpHeader  = 42     // Ethernet 14 + IPv4 20 + UDP 8
	v6Extra    = 20     // an IPv6 header is 20 bytes longer than IPv4's
	maxFrame   = 1514   // MTU 1500 + Ethernet 14
	quicFrame  = 1392   // QUIC's usual largest datagram (1350) in a frame
	quicAck    = 82     // a QUIC datagram carrying only an ACK
	minFrame   = 60     // the Ethernet minimum
	synFrame   = 74     // SYN with MSS, SACK, timestamps, window scale
	pingFrame  = 98     // ping's default 56 data bytes over IPv4
	ntpFrame   = 90     // 48 bytes of NTP over UDP/IPv4
	maxPktRate = 40_000 // packets per second a flow direction may reach
	heavyAlpha = 1.15   // Pareto tail of transfer sizes
)

// countModel holds what a draw of counters needs beyond the random stream.
type countModel struct {
	r       *rand.Rand
	maxPkts float64 // per direction per block: maxPktRate x interval
	pings   uint64  // echo requests of a one-per-second monitor over a block
}

// lognormal returns median*exp(sigma*N(0,1)).
func (m *countModel) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*m.r.NormFloat64())
}

// pareto returns scale*U^(-1/alpha), U uniform in (0, 1].
func (m *countModel) pareto(scale, alpha float64) float64 {
	return scale * math.Pow(1-m.r.Float64(), -1/alpha)
}

// chance reports true with probability perMille/1000.
func (m *countModel) chance(perMille int) bool { return m.r.IntN(1000) < perMille }

// packets draws a heavy-tailed packet count: a lognormal body and, with
// probability heavy per mille, a Pareto tail from scale up, times vol.
func (m *countModel) packets(median, sigma float64, heavy int, scale, vol float64) float64 {
	p := m.lognormal(median, sigma)
	if m.chance(heavy) {
		p = m.pareto(scale, heavyAlpha)
	}
	return math.Min(math.Max(p*vol, 1), m.maxPkts)
}

// split divides p packets between the two directions, at least one each.
func split(p, inShare float64) (in, out uint64) {
	in = uint64(math.Max(math.Round(p*inShare), 1))
	out = uint64(math.Max(math.Round(p*(1-inShare)), 1))
	return in, out
}

// payload draws n frames of mean size around median, bounded by the
// header and the largest frame.
func (m *countModel) frames(n uint64, hdr, median, sigma, maxf float64) uint64 {
	if n == 0 {
		return 0
	}
	size := math.Min(math.Max(hdr+m.lognormal(median, sigma), math.Max(hdr, minFrame)), maxf)
	return uint64(float64(n) * size)
}

// draw returns the counters of one connection of service profile prof.
// vol scales the volume of the profiles that follow the time of day.
func (m *countModel) draw(prof profile, class uint8, v6 bool, vol float64) counters {
	x := 0.0
	if v6 {
		x = v6Extra
	}
	// hdr is the smallest frame of the flow: a bare ACK for TCP, a UDP
	// header for datagrams, and for QUIC an ACK-only datagram.
	hdr, full, ack := tcpHeader+x, float64(maxFrame), tcpHeader+x
	if class == classUDP {
		hdr, full, ack = udpHeader+x, quicFrame, quicAck+x
	}
	var c counters
	switch prof {
	case profWeb, profUpload:
		p := m.packets(12, 1.3, 20, 200, vol)
		c.pktsIn, c.pktsOut = split(p, 0.62)
		// Data frames fill up as transfers grow; requests are small.
		fill := 1 - 1/(1+float64(c.pktsIn)/12)
		c.bytesIn = uint64(float64(c.pktsIn) * (ack + (full-ack)*fill*(0.85+0.15*m.r.Float64())))
		c.bytesOut = uint64(float64(c.pktsOut)*ack + math.Min(m.lognormal(450, 0.8)*(1+float64(c.pktsOut)/100), float64(c.pktsOut)*(full-ack)))
		if prof == profUpload || m.chance(40) {
			c.bytesIn, c.bytesOut, c.pktsIn, c.pktsOut = c.bytesOut, c.bytesIn, c.pktsOut, c.pktsIn
		}
	case profBulk:
		p := m.packets(6, 1.6, 40, 100, vol)
		c.pktsIn, c.pktsOut = split(p, 0.6)
		c.bytesIn = m.frames(c.pktsIn, hdr, 900, 0.6, full)
		c.bytesOut = m.frames(c.pktsOut, hdr, 60, 1.0, full)
		if m.chance(300) {
			c.bytesIn, c.bytesOut, c.pktsIn, c.pktsOut = c.bytesOut, c.bytesIn, c.pktsOut, c.pktsIn
		}
	case profInteractive:
		p := m.packets(60, 1.6, 10, 2000, vol)
		c.pktsIn, c.pktsOut = split(p, 0.55)
		c.bytesIn = m.frames(c.pktsIn, hdr, 120, 1.0, full)
		c.bytesOut = m.frames(c.pktsOut, hdr, 60, 0.6, full)
	case profQuery:
		p := m.packets(16, 1.2, 10, 500, vol)
		c.pktsIn, c.pktsOut = split(p, 0.5)
		c.bytesIn = m.frames(c.pktsIn, hdr, 500, 1.0, full)
		c.bytesOut = m.frames(c.pktsOut, hdr, 150, 0.7, full)
	case profTunnel:
		p := m.packets(400, 1.5, 50, 5000, vol)
		c.pktsIn, c.pktsOut = split(p, 0.55)
		c.bytesIn = m.frames(c.pktsIn, hdr, 600, 0.6, full)
		c.bytesOut = m.frames(c.pktsOut, hdr, 300, 0.6, full)
	case profDNS:
		q := uint64(1)
		for q < 8 && m.chance(500) {
			q++
		}
		c.pktsOut, c.pktsIn = q, q
		if m.chance(20) {
			c.pktsIn = 0 // the resolver did not answer
		}
		c.bytesOut = m.frames(c.pktsOut, hdr, 40, 0.2, full)
		c.bytesIn = m.frames(c.pktsIn, hdr, 120, 0.6, full)
	case profNTP:
		c.pktsOut, c.pktsIn = 1, 1
		c.bytesOut, c.bytesIn = ntpFrame+uint64(x), ntpFrame+uint64(x)
	case profLog:
		c.pktsOut = uint64(m.packets(20, 1.5, 0, 0, vol))
		c.bytesOut = m.frames(c.pktsOut, hdr, 180, 0.5, full)
	case profSTUN:
		c.pktsOut = uint64(1 + m.r.IntN(4))
		c.pktsIn = c.pktsOut
		c.bytesOut = m.frames(c.pktsOut, hdr, 40, 0.5, full)
		c.bytesIn = m.frames(c.pktsIn, hdr, 60, 0.5, full)
	case profICMP:
		c.pktsOut = uint64(1 + m.r.IntN(5))
		if m.chance(50) { // a monitor pinging once a second
			c.pktsOut = m.pings
		}
		if !m.chance(50) { // answered
			c.pktsIn = c.pktsOut
		}
		c.bytesOut, c.bytesIn = c.pktsOut*(pingFrame+uint64(x)), c.pktsIn*(pingFrame+uint64(x))
	case profScan:
		c.pktsIn = uint64(1 + m.r.IntN(2)) // SYN and maybe a retry
		c.bytesIn = c.pktsIn * (minFrame + uint64(x))
		if m.chance(300) { // RST from a closed port
			c.pktsOut, c.bytesOut = 1, minFrame+uint64(x)
		}
	case profBlocked:
		c.pktsOut = uint64(1 + m.r.IntN(3)) // SYN and its retries
		c.bytesOut = c.pktsOut * (synFrame + uint64(x))
	}
	return c
}

// scaled returns c with its packets multiplied by f and its bytes following
// at the same mean frame size; a direction that had packets keeps at least
// one.
func (c counters) scaled(f, maxPkts float64) counters {
	dir := func(p, b uint64) (uint64, uint64) {
		if p == 0 {
			return 0, 0
		}
		np := math.Min(math.Max(math.Round(float64(p)*f), 1), maxPkts)
		return uint64(np), uint64(np * float64(b) / float64(p))
	}
	var o counters
	o.pktsIn, o.bytesIn = dir(c.pktsIn, c.bytesIn)
	o.pktsOut, o.bytesOut = dir(c.pktsOut, c.bytesOut)
	return o
}
