//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Socket plumbing for Ring: interface lookup, filters and ring setup on an
// AF_PACKET socket. Every function returns errors naming the interface.

// htons converts v to network byte order, as sockaddr_ll and socket()
// expect protocol numbers.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// ifaceInfo returns the index and hardware type (ARPHRD_*) of iface, as
// seen from fd's network namespace.
func ifaceInfo(fd int, iface string) (index int, hwType uint16, err error) {
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, 0, fmt.Errorf("capture: interface name %q: %w", iface, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, 0, fmt.Errorf("capture: interface %q: %w", iface, err)
	}
	index = int(int32(ifr.Uint32()))
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, 0, fmt.Errorf("capture: interface %q: hardware type: %w", iface, err)
	}
	// ifr_hwaddr is a struct sockaddr: sa_family holds the ARPHRD_ type.
	return index, ifr.Uint16(), nil
}

// linkForHWType maps an interface hardware type to the link type of the
// frames a SOCK_RAW packet socket reads from it. loopback is set for
// loopback devices, where the kernel shows every packet twice (outgoing,
// then incoming) and the ring keeps only the incoming copy.
func linkForHWType(hw uint16) (link LinkType, loopback bool, err error) {
	switch hw {
	case unix.ARPHRD_ETHER:
		return LinkEthernet, false, nil
	case unix.ARPHRD_LOOPBACK:
		return LinkEthernet, true, nil // Linux loopback frames carry an Ethernet header
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_PPP,
		unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT:
		return LinkRaw, false, nil // tun, WireGuard, PPP, ipip, sit: the IP header comes first
	}
	return 0, false, fmt.Errorf("%w: hardware type %d", ErrUnsupportedLink, hw)
}

// attachFilter assembles prog and attaches it to fd (SO_ATTACH_FILTER),
// replacing any filter attached before.
func attachFilter(fd int, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assembling the filter: %w", err)
	}
	ins := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		ins[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(ins)), Filter: unsafe.SliceData(ins)}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("attaching the filter: %w", err)
	}
	return nil
}

// dropAllFilter returns a filter that rejects every packet. It guards a
// fanout socket between bind and joining its group (see openSocket).
func dropAllFilter() []bpf.Instruction { return []bpf.Instruction{bpf.RetConstant{Val: 0}} }

// ringSetup is what openSocket builds; Ring owns it after OpenRing.
type ringSetup struct {
	fd       int
	mem      []byte
	link     LinkType
	loopback bool
	ignored  bool // PACKET_IGNORE_OUTGOING took effect on a loopback device
}

// openSocket opens an AF_PACKET socket on iface with a TPACKET_V3 ring
// and the kernel filter. The order matters:
//
//  1. socket(AF_PACKET, SOCK_RAW, 0): protocol 0 registers no packet
//     hook, so the socket receives nothing at all until bind; there is
//     nothing unfiltered to drain.
//  2. the filter (SO_ATTACH_FILTER), PACKET_VERSION = TPACKET_V3, the
//     ring (PACKET_RX_RING) and its mmap.
//  3. bind to the interface with ETH_P_ALL: from here packets flow,
//     through the filter, into the ring.
//  4. promiscuous membership and fanout. A fanout socket must be bound
//     before it joins its group, and until it joins it would receive
//     packets the group also receives; so it binds with a drop-all filter
//     and attaches the real one only after joining.
//
// On error it closes what it opened.
func openSocket(iface string, o RingOptions) (s ringSetup, err error) {
	s.fd = -1
	defer func() {
		if err != nil {
			if s.mem != nil {
				_ = unix.Munmap(s.mem)
			}
			if s.fd >= 0 {
				_ = unix.Close(s.fd)
			}
			err = fmt.Errorf("capture: opening a ring on %q: %w", iface, err)
		}
	}()
	if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			return s, fmt.Errorf("AF_PACKET socket needs CAP_NET_RAW: %w", err)
		}
		return s, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	index, hw, err := ifaceInfo(s.fd, iface)
	if err != nil {
		return s, err
	}
	if s.link, s.loopback, err = linkForHWType(hw); err != nil {
		return s, err
	}
	prog, err := KernelFilter(s.link)
	if err != nil {
		return s, err
	}
	first := prog
	if o.Fanout {
		first = dropAllFilter()
	}
	if err := attachFilter(s.fd, first); err != nil {
		return s, err
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return s, fmt.Errorf("PACKET_VERSION TPACKET_V3: %w", err)
	}
	if s.loopback {
		// Linux >= 4.20; older kernels fall back to skipping the copies.
		s.ignored = unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1) == nil
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(o.BlockSize),
		Block_nr:       uint32(o.NumBlocks),
		Frame_size:     uint32(o.FrameSize),
		Frame_nr:       uint32(o.BlockSize/o.FrameSize) * uint32(o.NumBlocks),
		Retire_blk_tov: uint32(o.RetireTimeout.Milliseconds()),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return s, fmt.Errorf("PACKET_RX_RING %d x %d bytes: %w", o.NumBlocks, o.BlockSize, err)
	}
	size := o.BlockSize * o.NumBlocks
	if s.mem, err = unix.Mmap(s.fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		s.mem = nil
		return s, fmt.Errorf("mmap of the %d-byte ring: %w", size, err)
	}
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}
	if err := unix.Bind(s.fd, &sa); err != nil {
		return s, fmt.Errorf("bind: %w", err)
	}
	if o.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return s, fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	if o.Fanout {
		arg := int(o.FanoutGroup) | unix.PACKET_FANOUT_HASH<<16
		if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			return s, fmt.Errorf("joining fanout group %d: %w", o.FanoutGroup, err)
		}
		if err := attachFilter(s.fd, prog); err != nil {
			return s, err
		}
	}
	return s, nil
}

// readStats reads and clears the kernel's counters of fd.
func readStats(fd int) (RingStats, error) {
	st, err := unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return RingStats{}, err
	}
	return RingStats{Packets: uint64(st.Packets), Drops: uint64(st.Drops), FreezeQueueCount: uint64(st.Freeze_q_cnt)}, nil
}
