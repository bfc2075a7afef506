package columnar

import "unsafe"

// Views of typed slices as their little-endian bytes (every platform Go and
// Arrow support here is little-endian; Arrow IPC buffers are too). The
// returned slices alias the input.

func addrBytes(v [][16]byte) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*16)
}

func uint16Bytes(v []uint16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*2)
}

func uint32Bytes(v []uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*4)
}

func uint64Bytes(v []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*8)
}
