package capture

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// slowCut is a plain-Go model of the kernel filters, written from the
// filter notes in bpf.go and not from the BPF program: 0 when the kernel
// drops the frame, else how many bytes it stores (the cut capped at the
// frame length). The differential tests compare it with the real program
// run in x/net/bpf's VM.
func slowCut(link LinkType, f []byte) int {
	n := len(f)
	whole := n
	l3, version := slowL3(link, f)
	cut := func(c int) int { return min(c, n) }
	switch version {
	case 4:
		if n <= l3 {
			return whole
		}
		ihl := int(f[l3]&0x0f) * 4
		return cut(l3 + max(ihl, 20) + FilterTransportBytes)
	case 6:
		if n <= l3+6 {
			return whole
		}
		nh, p := f[l3+6], l3+40
		for range filterMaxIPv6Ext {
			switch nh {
			case 0, 43, 60:
				if n <= p+1 {
					return whole
				}
				nh, p = f[p], p+(int(f[p+1])+1)*8
			case 44:
				if n <= p {
					return whole
				}
				nh, p = f[p], p+8
			default:
				return cut(p + FilterTransportBytes)
			}
		}
		return cut(p + FilterTransportBytes)
	}
	return 0
}

// slowL3 finds where the filter expects the IP header of frame f: its
// offset and the IP version the link layer announces (0 when the filter
// drops the frame).
func slowL3(link LinkType, f []byte) (l3, version int) {
	n := len(f)
	be16 := func(at int) (int, bool) {
		if at+2 > n {
			return 0, false
		}
		return int(binary.BigEndian.Uint16(f[at:])), true
	}
	if link == LinkEthernet {
		pos := 12 // ethertype position
		et, ok := be16(pos)
		for tags := 0; ok && (et == 0x8100 || et == 0x88a8 || et == 0x9100); tags++ {
			if tags == filterMaxVLAN {
				return 0, 0
			}
			pos += 4
			et, ok = be16(pos)
		}
		switch {
		case !ok:
			return 0, 0
		case et == 0x0800:
			l3, version = pos+2, 4
		case et == 0x86dd:
			l3, version = pos+2, 6
		case et == 0x8864:
			proto, ok := be16(pos + 8)
			switch {
			case !ok:
				return 0, 0
			case proto == 0x0021:
				l3, version = pos+10, 4
			case proto == 0x0057:
				l3, version = pos+10, 6
			default:
				return 0, 0
			}
		case et == 0x8847 || et == 0x8848:
			p := pos + 2
			for labels := 0; ; labels++ {
				if labels == filterMaxMPLS || p+3 > n {
					return 0, 0
				}
				bottom := f[p+2]&1 == 1
				p += 4
				if bottom {
					break
				}
			}
			if p >= n {
				return 0, 0
			}
			l3, version = p, int(f[p]>>4)
		default:
			return 0, 0
		}
	} else {
		if n == 0 {
			return 0, 0
		}
		version = int(f[0] >> 4)
	}
	return l3, version
}

// filterVMs holds one VM per link type for the differential tests.
func filterVMs(t testing.TB) map[LinkType]*bpf.VM {
	vms := map[LinkType]*bpf.VM{}
	for _, link := range []LinkType{LinkEthernet, LinkRaw} {
		prog, err := KernelFilter(link)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		vms[link] = vm
	}
	return vms
}

// checkAgainstSlowCut runs the filter VM and slowCut over frame.
func checkAgainstSlowCut(t *testing.T, vm *bpf.VM, link LinkType, frame []byte) {
	got, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	got = min(got, len(frame))
	if want := slowCut(link, frame); got != want {
		t.Fatalf("link %d frame %x: filter stores %d bytes, model %d", link, frame, got, want)
	}
}

// TestKernelFilterMatchesModel checks the programs against slowCut on the
// hand-built frames and every prefix of them (cut-short frames).
func TestKernelFilterMatchesModel(t *testing.T) {
	vms := filterVMs(t)
	tcp := tfTCP(1234, 80, 40)
	v4 := tfIPv4(protoTCP, 2, tcp)
	v6 := tfIPv6(protoUDP, []tfExt{{0, 16}, {60, 8}, {43, 24}, {44, 8}}, tfUDP(5, 6, 30))
	frames := [][]byte{
		tfEth(bpfEtherIPv4, v4),
		tfEth(bpfEtherIPv6, v6, bpfEtherQinQ, bpfEtherVLAN),
		tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv6, v6), bpfEtherVLAN),
		tfEth(bpfEtherMPLS, tfMPLS(3, v4)),
		tfEth(0x0806, tfARP()),
	}
	for _, f := range frames {
		for i := range len(f) + 1 {
			checkAgainstSlowCut(t, vms[LinkEthernet], LinkEthernet, f[:i])
		}
	}
	for _, f := range [][]byte{v4, v6} {
		for i := range len(f) + 1 {
			checkAgainstSlowCut(t, vms[LinkRaw], LinkRaw, f[:i])
		}
	}
}

// FuzzKernelFilter compares the kernel filters with slowCut on arbitrary
// frames. Seeds: the hand-built frames of the filter tests.
func FuzzKernelFilter(f *testing.F) {
	tcp := tfTCP(1234, 80, 4)
	f.Add(true, tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 1, tcp), bpfEtherVLAN))
	f.Add(true, tfEth(bpfEtherIPv6, tfIPv6(protoTCP, []tfExt{{0, 8}, {44, 8}}, tcp)))
	f.Add(true, tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv4, tfIPv4(protoUDP, 0, tfUDP(1, 2, 3)))))
	f.Add(true, tfEth(bpfEtherMPLS, tfMPLS(2, tfIPv6(protoTCP, nil, tcp))))
	f.Add(true, tfEth(0x0806, tfARP()))
	f.Add(false, tfIPv6(protoTCP, []tfExt{{60, 16}}, tcp))
	f.Add(false, tfIPv4(protoICMP, 0, make([]byte, 8)))
	vms := filterVMs(f)
	f.Fuzz(func(t *testing.T, ether bool, frame []byte) {
		link := LinkRaw
		if ether {
			link = LinkEthernet
		}
		checkAgainstSlowCut(t, vms[link], link, frame)
	})
}
