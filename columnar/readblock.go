package columnar

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ReadBlock reads every column of a stored block back into a Block, rows in
// storage order. It is for tools, exports and tests that want whole rows;
// queries read only the columns they need with ReadColumn. A damaged chunk
// gives the error ReadColumn gives.
func (db *DB) ReadBlock(ctx context.Context, meta *BlockMeta, mem memory.Allocator) (*Block, error) {
	b := &Block{Iface: meta.Iface, Start: meta.Start, End: meta.End, NonIP: meta.NonIP, ParseErrors: meta.ParseErrors}
	var u64 []uint64
	for _, id := range Columns() {
		col, err := db.ReadColumn(ctx, meta, id, mem)
		if err != nil {
			return nil, err
		}
		if col.Len() != meta.Rows {
			n := col.Len()
			col.Release()
			return nil, corruptf(db.chunkPath(meta), -1, "block %q@%d: column %s has %d rows, index says %d", meta.Iface, meta.Start, id, n, meta.Rows)
		}
		switch id {
		case ColSIP, ColDIP:
			dst := make([][16]byte, meta.Rows)
			for i := range dst {
				dst[i] = col.Addr(i)
			}
			if id == ColSIP {
				b.SIP = dst
			} else {
				b.DIP = dst
			}
		default:
			u64 = col.AppendUint64s(u64[:0])
			switch id {
			case ColDPort:
				b.DPort = make([]uint16, len(u64))
				for i, v := range u64 {
					b.DPort[i] = uint16(v)
				}
			case ColProto:
				b.Proto = make([]uint8, len(u64))
				for i, v := range u64 {
					b.Proto[i] = uint8(v)
				}
			case ColBytesIn:
				b.BytesIn = append([]uint64(nil), u64...)
			case ColBytesOut:
				b.BytesOut = append([]uint64(nil), u64...)
			case ColPacketsIn:
				b.PacketsIn = append([]uint64(nil), u64...)
			case ColPacketsOut:
				b.PacketsOut = append([]uint64(nil), u64...)
			}
		}
		col.Release()
	}
	return b, nil
}
