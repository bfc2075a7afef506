package ingest

// Orientation (DESIGN §2): a stored flow's sip is the client, dip the server
// and dport the server's port. For a packet (src, dst, sport, dport):
//
//  1. if the flow (src, dst, dport) exists in the current block, src is the
//     client; else if (dst, src, sport) exists, src is the server;
//  2. else the same two checks in the previous block's table: a flow keeps
//     its orientation while it stays active across blocks;
//  3. else the packet opens a new flow and senderIsClient decides.
//
// "Previous block" means the block of the interval just before the current
// one. The aggregator keeps that table (read-only; the writer goroutine is
// reading it at the same time) until the next rotation, instead of carrying
// a separate orientation set: the lookup costs nothing for packets of flows
// already in the current block, and no memory beyond the double buffer. A
// flow silent for a whole interval (or across a gap with no packets at all)
// is decided afresh.

// The rules use protoTCP, protoICMP and protoICMPv6 of decode_ip.go.

// TCP flag bits.
const (
	tcpSYN = 0x02
	tcpACK = 0x10
)

// ephemeralPortMin is the first port of the IANA dynamic range (and Linux's
// default ip_local_port_range starts close to it): such a port is a client's.
const ephemeralPortMin = 32768

// role is what a packet says about its sender.
type role uint8

const (
	roleUnknown role = iota
	roleClient       // the sender opened the conversation
	roleServer       // the sender answers
)

// icmpRole classifies ICMP (IPv4) message types: requests come from the
// client; replies and errors (destination unreachable 3, source quench 4,
// redirect 5, time exceeded 11, parameter problem 12) from the server side.
func icmpRole(typ uint8) role {
	switch typ {
	case 8, 10, 13, 15, 17, 42: // echo, router solicitation, timestamp, info, mask, extended echo
		return roleClient
	case 0, 3, 4, 5, 11, 12, 14, 16, 18, 43: // their replies and the errors
		return roleServer
	}
	return roleUnknown
}

// icmp6Role classifies ICMPv6 message types: echo request 128, router
// solicitation 133, neighbour solicitation 135, node information query 139
// and extended echo request 160 come from the client; errors 1-4 and the
// replies 129, 140 and 161 from the server side. Other types (router and
// neighbour advertisements, MLD, redirect) fall through to the next rules.
func icmp6Role(typ uint8) role {
	switch typ {
	case 128, 133, 135, 139, 160:
		return roleClient
	case 1, 2, 3, 4, 129, 140, 161:
		return roleServer
	}
	return roleUnknown
}

// packetRole applies the first two rules for a new flow: TCP SYN without ACK
// is sent by the client, SYN-ACK by the server; then the ICMP type.
func packetRole(p *Packet) role {
	if !p.HasTransport {
		return roleUnknown
	}
	switch p.Proto {
	case protoTCP:
		if p.TCPFlags&tcpSYN != 0 {
			if p.TCPFlags&tcpACK != 0 {
				return roleServer
			}
			return roleClient
		}
	case protoICMP:
		return icmpRole(p.ICMPType)
	case protoICMPv6:
		return icmp6Role(p.ICMPType)
	}
	return roleUnknown
}

// portsSayClient applies the port rule: an ephemeral port (32768 and up)
// is a client port when the other is not; otherwise the lower port is the
// server's, and equal ports (including the 0/0 of portless protocols such
// as GRE or ESP) make the sender the client.
func portsSayClient(sport, dport uint16) bool {
	sEph, dEph := sport >= ephemeralPortMin, dport >= ephemeralPortMin
	if sEph != dEph {
		return sEph
	}
	return dport <= sport
}

// senderIsClient decides the orientation of a packet that opens a new flow:
// TCP SYN / SYN-ACK, then the ICMP type, then a broadcast or multicast
// destination (the sender is the client), then the ports.
func senderIsClient(p *Packet, dstGroup bool) bool {
	switch packetRole(p) {
	case roleClient:
		return true
	case roleServer:
		return false
	}
	if dstGroup {
		return true
	}
	return portsSayClient(p.SrcPort, p.DstPort)
}

// group4 reports whether an IPv4 address (big-endian value) is the limited
// broadcast 255.255.255.255 or multicast (224.0.0.0/4).
func group4(a uint32) bool {
	return a>>28 == 0xe || a == 0xffffffff
}

// group6 reports whether an IPv6 address is multicast (ff00::/8).
func group6(a *[16]byte) bool {
	return a[0] == 0xff
}
