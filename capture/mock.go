package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/net/bpf"
)

// MockFrame is one frame fed to a MockRing: the bytes as they were on the
// wire (with any VLAN tags) and what the kernel would know about them.
type MockFrame struct {
	Data      []byte
	OrigLen   uint32    // length on the wire; 0 means len(Data)
	Timestamp int64     // Unix nanoseconds
	Dir       Direction // DirOutbound is stored as PACKET_OUTGOING
	// VLANOffloaded says the frame's outer VLAN tag was already moved out
	// of Data, as in a packet read from a Ring; OrigLen (which must then be
	// set) counts it. The mock marks the packet TP_STATUS_VLAN_VALID.
	VLANOffloaded bool
}

// MockOptions configures a MockRing. The zero value stores Ethernet frames
// whole in 1 MiB blocks and reads them once.
type MockOptions struct {
	// Link is the frames' link type (LinkEthernet or LinkRaw for the
	// filter and VLAN offload; any type otherwise). NewMockRingFromSource
	// takes it from the source and ignores this field.
	Link LinkType
	// BlockSize is the size of one block: a multiple of 8, at least 116
	// (default DefaultRingBlockSize). Unlike the kernel, a mock accepts
	// blocks smaller than a page, so tests can spread a few frames over many
	// blocks.
	BlockSize int
	// MaxPacketsPerBlock closes a block after this many packets (0: when
	// the next packet does not fit, as the kernel does).
	MaxPacketsPerBlock int
	// Filter runs the Ring's kernel filter (KernelFilter(Link)) over every
	// frame in x/net/bpf's VM: rejected frames are left out and the others
	// are cut to the filter's length, as in a live Ring.
	Filter bool
	// OffloadVLAN moves the outer 802.1Q / 802.1ad tag of Ethernet frames
	// into the packet header (tp_vlan_tci, TP_STATUS_VLAN_VALID) and out of
	// the frame, as the kernel's receive path does before packet sockets
	// see a frame. It happens before the filter, as in the kernel.
	OffloadVLAN bool
	// Loop replays the frames forever instead of returning io.EOF after
	// the last one.
	Loop bool
}

// MockRing replays frames through an in-memory TPACKET_V3 ring laid out
// byte for byte as the kernel lays out a live one, and reads them back
// with the same block walker as Ring. It implements Source and builds on
// every platform.
//
// All frames are laid out when the mock is made; the "kernel" side then
// only hands blocks to the reader (TP_STATUS_USER) once the reader has
// returned them (TP_STATUS_KERNEL), in ring order. It is not safe for
// concurrent use.
type MockRing struct {
	rd      ringReader
	handed  int // blocks handed to the reader in this pass
	packets int // packets laid out
	loop    bool
	closed  bool
	ifaces  []Interface
}

// NewMockRing lays frames out in a ring according to opts.
func NewMockRing(frames []MockFrame, opts MockOptions) (*MockRing, error) {
	b, err := newMockBuilder(opts)
	if err != nil {
		return nil, err
	}
	for i := range frames {
		if err := b.frame(&frames[i]); err != nil {
			return nil, fmt.Errorf("capture: mock ring: frame %d: %w", i, err)
		}
	}
	return b.finish(opts)
}

// NewMockRingFromSource reads every packet of src (until io.EOF) into a
// mock ring, taking the link type, timestamps, original lengths and
// directions from src. All packets must share one link type. src is not
// closed.
func NewMockRingFromSource(src Source, opts MockOptions) (*MockRing, error) {
	var b *mockBuilder
	for n := 0; ; n++ {
		data, info, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("capture: mock ring: reading packet %d: %w", n, err)
		}
		if b == nil {
			opts.Link = info.Link
			if b, err = newMockBuilder(opts); err != nil {
				return nil, err
			}
		}
		if info.Link != opts.Link {
			return nil, fmt.Errorf("%w: mock ring: packet %d has link type %d, ring has %d",
				ErrUnsupportedLink, n, info.Link, opts.Link)
		}
		f := MockFrame{Data: data, OrigLen: info.OrigLen, Timestamp: info.Timestamp, Dir: info.Dir,
			VLANOffloaded: info.VLANOffloaded}
		if err := b.frame(&f); err != nil {
			return nil, fmt.Errorf("capture: mock ring: packet %d: %w", n, err)
		}
	}
	if b == nil {
		var err error
		if b, err = newMockBuilder(opts); err != nil {
			return nil, err
		}
	}
	return b.finish(opts)
}

// mockBuilder turns MockFrames into mockPackets and lays them out.
type mockBuilder struct {
	w       mockWriter
	link    LinkType
	vm      *bpf.VM // nil without MockOptions.Filter
	offload bool
	packets int
}

func newMockBuilder(opts MockOptions) (*mockBuilder, error) {
	bs := opts.BlockSize
	if bs == 0 {
		bs = DefaultRingBlockSize
	}
	if bs < tpMinBlock || bs%8 != 0 || bs > maxRingBlockSize {
		return nil, fmt.Errorf("%w: mock block size %d: want a multiple of 8 in [%d, %d]",
			ErrRingOptions, bs, tpMinBlock, maxRingBlockSize)
	}
	if opts.MaxPacketsPerBlock < 0 {
		return nil, fmt.Errorf("%w: mock MaxPacketsPerBlock %d is negative", ErrRingOptions, opts.MaxPacketsPerBlock)
	}
	b := &mockBuilder{
		w:       mockWriter{blockSize: uint32(bs), maxPkts: uint32(min(uint64(opts.MaxPacketsPerBlock), 1<<31))},
		link:    opts.Link,
		offload: opts.OffloadVLAN && opts.Link == LinkEthernet,
	}
	if opts.Filter {
		prog, err := KernelFilter(opts.Link)
		if err != nil {
			return nil, err
		}
		if b.vm, err = bpf.NewVM(prog); err != nil {
			return nil, fmt.Errorf("capture: mock ring: loading the filter: %w", err)
		}
	}
	return b, nil
}

// frame applies VLAN offload and the filter to f, as the kernel would,
// and lays the result out.
func (b *mockBuilder) frame(f *MockFrame) error {
	data := f.Data
	wire := f.OrigLen
	if wire == 0 {
		wire = uint32(min(uint64(len(data)), 1<<32-1))
	}
	p := mockPacket{wireLen: wire, ts: f.Timestamp}
	if f.Dir == DirOutbound {
		p.pktType = tpPktOutgoing
	}
	if f.VLANOffloaded {
		if wire < uint32(min(uint64(len(data)), 1<<32-1))+tpVLANTagLen {
			return fmt.Errorf("%w: VLAN-offloaded frame of %d bytes has OrigLen %d, want at least %d",
				ErrRingOptions, len(data), wire, len(data)+tpVLANTagLen)
		}
		p.status |= tpStatusVLANValid
		p.wireLen = wire - tpVLANTagLen
	}
	switch b.link {
	case LinkEthernet:
		p.hatype, p.macLen = 1, 14 // ARPHRD_ETHER
		if len(data) >= 14 {
			p.srcMAC = data[6:12]
			p.proto = binary.BigEndian.Uint16(data[12:])
		}
		if b.offload && !f.VLANOffloaded && len(data) >= 18 && (p.proto == bpfEtherVLAN || p.proto == bpfEtherQinQ) {
			tci := binary.BigEndian.Uint16(data[14:])
			stripped := make([]byte, 0, len(data)-tpVLANTagLen)
			stripped = append(append(stripped, data[:12]...), data[16:]...)
			data = stripped
			p.status |= tpStatusVLANValid | tpStatusVLANTPIDValid
			p.vlanTCI, p.vlanTPID = tci, p.proto
			p.proto = binary.BigEndian.Uint16(data[12:])
			p.wireLen = max(wire, tpVLANTagLen) - tpVLANTagLen
		}
	case LinkRaw, LinkRawBSD, LinkIPv4, LinkIPv6:
		p.hatype = 0xfffe // ARPHRD_NONE
		if len(data) > 0 && data[0]>>4 == 6 {
			p.proto = bpfEtherIPv6
		} else {
			p.proto = bpfEtherIPv4
		}
	}
	if b.vm != nil {
		n, err := b.vm.Run(data)
		if err != nil {
			return fmt.Errorf("running the filter: %w", err)
		}
		if n == 0 {
			return nil
		}
		data = data[:min(n, len(data))]
	}
	p.data = data
	if err := b.w.add(p); err != nil {
		return err
	}
	b.packets++
	return nil
}

// finish closes the last block and makes the MockRing.
func (b *mockBuilder) finish(opts MockOptions) (*MockRing, error) {
	b.w.closeBlock()
	m := &MockRing{
		packets: b.packets,
		loop:    opts.Loop && b.packets > 0,
		ifaces:  []Interface{{Name: "mock", Link: b.link, TsResolution: 1e9}},
	}
	if b.w.nblocks == 0 {
		b.w.openBlock() // an empty ring still has one (empty) block
		b.w.closeBlock()
	}
	if err := m.rd.initRing(b.w.mem, b.w.blockSize, b.w.nblocks, b.link); err != nil {
		return nil, err
	}
	return m, nil
}

// NextPacket returns the next packet; see Source. The data slice points
// into the ring and is valid until the next call to NextPacket,
// AppendPacket or Close. After the last frame it returns io.EOF, unless
// the mock loops; after Close it returns ErrRingClosed. A corrupt block
// yields an error wrapping ErrRingCorrupt, and reading goes on with the
// next block. Reading a packet allocates nothing.
func (m *MockRing) NextPacket() ([]byte, PacketInfo, error) {
	if m.closed {
		return nil, PacketInfo{}, ErrRingClosed
	}
	for {
		data, info, ready, err := m.rd.next()
		if ready {
			return data, info, err
		}
		// The reader waits for block cur: play the kernel and hand it over.
		if m.handed == m.rd.numBlocks {
			if !m.loop {
				return nil, PacketInfo{}, io.EOF
			}
			m.handed = 0
		}
		blockStatus(m.rd.block(m.rd.cur)).Store(tpStatusUser)
		m.handed++
	}
}

// AppendPacket reads the next packet like NextPacket but appends its bytes
// to dst (the copy tier); the returned slice belongs to the caller.
func (m *MockRing) AppendPacket(dst []byte) ([]byte, PacketInfo, error) {
	data, info, err := m.NextPacket()
	if err != nil {
		return dst, info, err
	}
	return append(dst, data...), info, nil
}

// Interfaces returns the mock's one interface, named "mock". The slice is
// shared and must not be modified.
func (m *MockRing) Interfaces() []Interface { return m.ifaces[:1:1] }

// Len returns the number of packets in one pass over the ring (frames
// rejected by the filter are not counted).
func (m *MockRing) Len() int { return m.packets }

// Close releases the ring; later reads return ErrRingClosed.
func (m *MockRing) Close() error {
	m.closed = true
	m.rd.mem = nil
	return nil
}
