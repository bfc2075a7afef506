package columnar

// Block is one interface's flow table for one rotation interval, laid out as
// columns: row i of every slice describes the same flow. It is what the
// ingest side hands to DB.Write; the store owns none of its slices after Write
// returns.
//
// Addresses are 16-byte values: IPv6 as is, IPv4 in IPv4-mapped form
// (::ffff:a.b.c.d), the layout of netip.Addr.As16. The source port is not
// stored (DESIGN §2): a row is (sip, dip, dport, proto) with the counters of
// both directions as seen from the interface.
type Block struct {
	Iface string // interface name; non-empty, at most 255 bytes
	Start int64  // block start, Unix seconds, aligned to the rotation interval
	End   int64  // block end (exclusive), Unix seconds; End > Start

	SIP        [][16]byte
	DIP        [][16]byte
	DPort      []uint16
	Proto      []uint8
	BytesIn    []uint64
	BytesOut   []uint64
	PacketsIn  []uint64
	PacketsOut []uint64

	// Interface counters for the interval: frames that were not IP, and
	// frames too short or malformed to read an IP header. They are stored
	// with the block even when it has no rows.
	NonIP       uint64
	ParseErrors uint64
}

// Len reports the number of rows.
func (b *Block) Len() int { return len(b.SIP) }

// Append adds one row.
func (b *Block) Append(sip, dip [16]byte, dport uint16, proto uint8, bytesIn, bytesOut, pktsIn, pktsOut uint64) {
	b.SIP = append(b.SIP, sip)
	b.DIP = append(b.DIP, dip)
	b.DPort = append(b.DPort, dport)
	b.Proto = append(b.Proto, proto)
	b.BytesIn = append(b.BytesIn, bytesIn)
	b.BytesOut = append(b.BytesOut, bytesOut)
	b.PacketsIn = append(b.PacketsIn, pktsIn)
	b.PacketsOut = append(b.PacketsOut, pktsOut)
}

// Reset empties the block, keeping the capacity of its slices.
func (b *Block) Reset() {
	*b = Block{
		SIP: b.SIP[:0], DIP: b.DIP[:0], DPort: b.DPort[:0], Proto: b.Proto[:0],
		BytesIn: b.BytesIn[:0], BytesOut: b.BytesOut[:0],
		PacketsIn: b.PacketsIn[:0], PacketsOut: b.PacketsOut[:0],
	}
}
