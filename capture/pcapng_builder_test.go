package capture

import "encoding/binary"

// ngFile builds pcapng files by hand, block by block, in a chosen byte order
// (which may change at every section header).
type ngFile struct {
	bo  binary.AppendByteOrder
	buf []byte
}

// ngOption is one option: code and raw value (padded on output).
type ngOption struct {
	code uint16
	val  []byte
}

// appendOpts encodes opts followed by opt_endofopt (when any were given).
func (f *ngFile) appendOpts(dst []byte, opts []ngOption) []byte {
	for _, o := range opts {
		dst = f.bo.AppendUint16(dst, o.code)
		dst = f.bo.AppendUint16(dst, uint16(len(o.val)))
		dst = append(dst, o.val...)
		for len(dst)%4 != 0 {
			dst = append(dst, 0)
		}
	}
	if len(opts) > 0 {
		dst = append(dst, 0, 0, 0, 0)
	}
	return dst
}

// block appends a block with a correct length and trailer.
func (f *ngFile) block(typ uint32, body []byte) *ngFile {
	n := uint32(12 + len(body))
	f.buf = f.bo.AppendUint32(f.buf, typ)
	f.buf = f.bo.AppendUint32(f.buf, n)
	f.buf = append(f.buf, body...)
	f.buf = f.bo.AppendUint32(f.buf, n)
	return f
}

// shb starts a section in byte order bo.
func (f *ngFile) shb(bo binary.AppendByteOrder, major, minor uint16, opts ...ngOption) *ngFile {
	f.bo = bo
	var b []byte
	b = bo.AppendUint32(b, ngByteOrderMagic)
	b = bo.AppendUint16(b, major)
	b = bo.AppendUint16(b, minor)
	b = bo.AppendUint64(b, ^uint64(0)) // section length unknown
	return f.block(ngBlockSHB, f.appendOpts(b, opts))
}

func (f *ngFile) idb(link LinkType, snap uint32, opts ...ngOption) *ngFile {
	var b []byte
	b = f.bo.AppendUint16(b, uint16(link))
	b = f.bo.AppendUint16(b, 0)
	b = f.bo.AppendUint32(b, snap)
	return f.block(ngBlockIDB, f.appendOpts(b, opts))
}

// ngPad4 appends data padded to a multiple of 4 bytes.
func ngPad4(dst, data []byte) []byte {
	dst = append(dst, data...)
	for len(dst)%4 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

func (f *ngFile) epb(ifid uint32, ts uint64, origLen uint32, data []byte, opts ...ngOption) *ngFile {
	var b []byte
	b = f.bo.AppendUint32(b, ifid)
	b = f.bo.AppendUint32(b, uint32(ts>>32))
	b = f.bo.AppendUint32(b, uint32(ts))
	b = f.bo.AppendUint32(b, uint32(len(data)))
	b = f.bo.AppendUint32(b, origLen)
	return f.block(ngBlockEPB, f.appendOpts(ngPad4(b, data), opts))
}

func (f *ngFile) opb(ifid uint16, ts uint64, origLen uint32, data []byte, opts ...ngOption) *ngFile {
	var b []byte
	b = f.bo.AppendUint16(b, ifid)
	b = f.bo.AppendUint16(b, 0) // drops
	b = f.bo.AppendUint32(b, uint32(ts>>32))
	b = f.bo.AppendUint32(b, uint32(ts))
	b = f.bo.AppendUint32(b, uint32(len(data)))
	b = f.bo.AppendUint32(b, origLen)
	return f.block(ngBlockOPB, f.appendOpts(ngPad4(b, data), opts))
}

func (f *ngFile) spb(origLen uint32, data []byte) *ngFile {
	b := f.bo.AppendUint32(nil, origLen)
	return f.block(ngBlockSPB, ngPad4(b, data))
}

// u32opt and u64opt build numeric option values in the section's order.
func (f *ngFile) u32opt(code uint16, v uint32) ngOption {
	return ngOption{code, f.bo.AppendUint32(nil, v)}
}

func (f *ngFile) u64opt(code uint16, v uint64) ngOption {
	return ngOption{code, f.bo.AppendUint64(nil, v)}
}
