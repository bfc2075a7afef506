package capture

import (
	"errors"
	"testing"

	"golang.org/x/net/bpf"
)

// runFilter runs the kernel filter for link over frame in x/net/bpf's VM
// and returns what the kernel would store: 0 for a rejected frame, else the
// program's result capped at the frame length (tpacket_rcv does the same).
func runFilter(t testing.TB, link LinkType, frame []byte) int {
	t.Helper()
	prog, err := KernelFilter(link)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("VM run: %v", err)
	}
	return min(n, len(frame))
}

const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
	protoESP  = 50
)

func TestKernelFilterEthernet(t *testing.T) {
	tcp := tfTCP(40000, 443, 1000)
	udp := tfUDP(40000, 53, 100)
	v4 := tfIPv4(protoTCP, 0, tcp)
	v6 := tfIPv6(protoTCP, nil, tcp)
	const ethIP4TCP = 14 + 20 + FilterTransportBytes // 48
	cases := []struct {
		name  string
		frame []byte
		want  int // stored bytes; 0 = rejected
	}{
		{"ipv4 tcp", tfEth(bpfEtherIPv4, v4), ethIP4TCP},
		{"ipv4 udp", tfEth(bpfEtherIPv4, tfIPv4(protoUDP, 0, udp)), ethIP4TCP},
		{"ipv4 icmp", tfEth(bpfEtherIPv4, tfIPv4(protoICMP, 0, make([]byte, 64))), ethIP4TCP},
		{"ipv4 options", tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 3, tcp)), ethIP4TCP + 12},
		{"ipv4 max options", tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 10, tcp)), ethIP4TCP + 40},
		{"ipv4 short packet kept whole", tfEth(bpfEtherIPv4, tfIPv4(protoUDP, 0, tfUDP(1, 2, 0))), 14 + 20 + 8},
		{"ipv6 tcp", tfEth(bpfEtherIPv6, v6), 14 + 40 + 14},
		{"ipv6 udp", tfEth(bpfEtherIPv6, tfIPv6(protoUDP, nil, udp)), 14 + 40 + 14},
		{"vlan ipv4", tfEth(bpfEtherIPv4, v4, bpfEtherVLAN), ethIP4TCP + 4},
		{"qinq ipv4", tfEth(bpfEtherIPv4, v4, bpfEtherQinQ, bpfEtherVLAN), ethIP4TCP + 8},
		{"old qinq ipv6", tfEth(bpfEtherIPv6, v6, bpfEtherQinQOld, bpfEtherVLAN), 14 + 8 + 40 + 14},
		{"8 tags", tfEth(bpfEtherIPv4, v4, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN,
			bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN), ethIP4TCP + 32},
		{"9 tags rejected", tfEth(bpfEtherIPv4, v4, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN,
			bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN, bpfEtherVLAN), 0},
		{"pppoe ipv4", tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv4, v4)), ethIP4TCP + 8},
		{"pppoe ipv6", tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv6, v6)), 14 + 8 + 40 + 14},
		{"vlan pppoe ipv4", tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv4, v4), bpfEtherVLAN), ethIP4TCP + 12},
		{"pppoe lcp rejected", tfEth(bpfEtherPPPoE, tfPPPoE(0xc021, make([]byte, 20))), 0},
		{"pppoe discovery rejected", tfEth(0x8863, tfPPPoE(bpfPPPIPv4, v4)), 0},
		{"mpls ipv4", tfEth(bpfEtherMPLS, tfMPLS(1, v4)), ethIP4TCP + 4},
		{"mpls 3 labels ipv6", tfEth(bpfEtherMPLS, tfMPLS(3, v6)), 14 + 12 + 40 + 14},
		{"vlan mpls ipv4", tfEth(bpfEtherMPLS, tfMPLS(2, v4), bpfEtherVLAN), ethIP4TCP + 12},
		{"mpls ethernet pseudowire rejected", tfEth(bpfEtherMPLS, tfMPLS(1, make([]byte, 60))), 0},
		{"arp rejected", tfEth(0x0806, tfARP()), 0},
		{"vlan arp rejected", tfEth(0x0806, tfARP(), bpfEtherVLAN), 0},
		{"lldp rejected", tfEth(0x88cc, make([]byte, 40)), 0},
		{"802.3 length frame rejected", tfEth(46, make([]byte, 46)), 0},
		{"runt rejected", make([]byte, 10), 0},
		{"ethertype only, kept whole", tfEth(bpfEtherIPv4, nil), 14},
		{"ipv6 truncated fixed header kept whole", tfEth(bpfEtherIPv6, v6[:5]), 19},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runFilter(t, LinkEthernet, c.frame); got != c.want {
				t.Errorf("stored %d bytes of a %d-byte frame, want %d", got, len(c.frame), c.want)
			}
		})
	}
}

func TestKernelFilterIPv6Extensions(t *testing.T) {
	tcp := tfTCP(40000, 443, 500)
	hbh := tfExt{bpfIPv6HopByHop, 8}
	dst := tfExt{bpfIPv6DestOpts, 24}
	rt := tfExt{bpfIPv6Routing, 40}
	frag := tfExt{bpfIPv6Fragment, 8}
	base := 14 + 40 + FilterTransportBytes
	cases := []struct {
		name string
		exts []tfExt
		l4   uint8
		want int
	}{
		{"hop-by-hop", []tfExt{hbh}, protoTCP, base + 8},
		{"hbh dst routing frag", []tfExt{hbh, dst, rt, frag}, protoTCP, base + 8 + 24 + 40 + 8},
		{"fragment only", []tfExt{frag}, protoUDP, base + 8},
		{"esp after dst", []tfExt{dst}, protoESP, base + 24},
		{"8 headers walked", []tfExt{hbh, dst, rt, dst, rt, dst, rt, frag}, protoTCP, base + 8 + 3*24 + 3*40 + 8},
		// A ninth header is not walked: the cut stops at it, and the
		// decoder counts the packet with port 0.
		{"9 headers cut at the ninth", []tfExt{hbh, dst, rt, dst, rt, dst, rt, dst, frag},
			protoTCP, base + 8 + 4*24 + 3*40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := tfEth(bpfEtherIPv6, tfIPv6(c.l4, c.exts, tcp))
			if got := runFilter(t, LinkEthernet, frame); got != c.want {
				t.Errorf("stored %d bytes of %d, want %d", got, len(frame), c.want)
			}
		})
	}
	t.Run("extension header cut short is kept whole", func(t *testing.T) {
		frame := tfEth(bpfEtherIPv6, tfIPv6(protoTCP, []tfExt{hbh, rt}, tcp))
		frame = frame[:14+40+8+1] // inside the routing header's first byte
		if got := runFilter(t, LinkEthernet, frame); got != len(frame) {
			t.Errorf("stored %d bytes of %d, want all", got, len(frame))
		}
	})
	t.Run("extension length past the frame", func(t *testing.T) {
		frame := tfEth(bpfEtherIPv6, tfIPv6(protoTCP, []tfExt{hbh, hbh}, tfTCP(1, 2, 0)))
		frame[14+40+1] = 255 // first header claims 2048 bytes
		if got := runFilter(t, LinkEthernet, frame); got != len(frame) {
			t.Errorf("stored %d bytes of %d, want all", got, len(frame))
		}
	})
}

func TestKernelFilterRawIP(t *testing.T) {
	tcp := tfTCP(1, 2, 100)
	cases := []struct {
		name  string
		frame []byte
		want  int
	}{
		{"ipv4", tfIPv4(protoTCP, 0, tcp), 20 + 14},
		{"ipv4 options", tfIPv4(protoTCP, 2, tcp), 28 + 14},
		{"ipv6 frag", tfIPv6(protoTCP, []tfExt{{bpfIPv6Fragment, 8}}, tcp), 48 + 14},
		{"version 5 rejected", append([]byte{0x50}, make([]byte, 40)...), 0},
		{"empty rejected", nil, 0},
		{"one byte ipv4 kept whole", []byte{0x45}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runFilter(t, LinkRaw, c.frame); got != c.want {
				t.Errorf("stored %d bytes of %d, want %d", got, len(c.frame), c.want)
			}
		})
	}
}

func TestKernelFilterPrograms(t *testing.T) {
	for _, link := range []LinkType{LinkEthernet, LinkRaw} {
		prog, err := KernelFilter(link)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := bpf.Assemble(prog)
		if err != nil {
			t.Fatalf("link %d: assemble: %v", link, err)
		}
		if len(raw) > bpfMaxInstructions {
			t.Errorf("link %d: %d instructions, kernel limit %d", link, len(raw), bpfMaxInstructions)
		}
		t.Logf("link %d: %d instructions", link, len(raw))
	}
	if _, err := KernelFilter(LinkSLL); !errors.Is(err, ErrUnsupportedLink) {
		t.Errorf("KernelFilter(LinkSLL) = %v, want ErrUnsupportedLink", err)
	}
}

func TestBPFAsmRejectsBadJumps(t *testing.T) {
	var a bpfAsm
	l := a.label()
	a.jump(l)
	if _, err := a.program(); err == nil {
		t.Error("unplaced label accepted")
	}
	var b bpfAsm
	far := b.label()
	b.jumpIf(bpf.JumpEqual, 1, far, bpfNext)
	for range 300 {
		b.emit(bpf.TAX{})
	}
	b.place(far)
	b.emit(bpf.RetA{})
	if _, err := b.program(); err == nil {
		t.Error("conditional jump over 300 instructions accepted")
	}
}
