//go:build linux

// Command blast sends UDP frames through an AF_PACKET socket at a given
// rate, for the live-capture benchmark (bench/live.sh). Frames are built
// whole (Ethernet, IPv4, UDP) and sent in batches with sendmmsg(2); the
// source address cycles through -flows addresses of 10.200.0.0/16 so that
// the capture sees that many flows.
//
//	blast -iface vethB -dstmac 02:..:01 -dst 10.77.9.9 -rate 200000 -duration 5s
//
// It prints "sent N packets in D: R packets/s". Run it only inside a test
// namespace: it floods the interface it is given.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	var (
		iface    = flag.String("iface", "", "interface to send on (required)")
		dstMAC   = flag.String("dstmac", "", "destination MAC (required)")
		dst      = flag.String("dst", "10.77.9.9", "destination IPv4 address")
		rate     = flag.Int("rate", 0, "packets per second (0: as fast as possible)")
		duration = flag.Duration("duration", 5*time.Second, "how long to send")
		count    = flag.Int("count", 0, "stop after this many packets (0: no limit)")
		size     = flag.Int("size", 18, "UDP payload bytes (18 makes a 60-byte frame)")
		flows    = flag.Int("flows", 256, "distinct source addresses (flows), 1..65536")
	)
	flag.Parse()
	if err := run(*iface, *dstMAC, *dst, *rate, *duration, *count, *size, *flows); err != nil {
		fmt.Fprintln(os.Stderr, "blast:", err)
		os.Exit(1)
	}
}

// mmsghdr is struct mmsghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

const batch = 64

func run(ifname, dstMAC, dstIP string, rate int, duration time.Duration, count, size, flows int) error {
	ifc, err := net.InterfaceByName(ifname)
	if err != nil {
		return err
	}
	dmac, err := net.ParseMAC(dstMAC)
	if err != nil {
		return err
	}
	dip, err := netip.ParseAddr(dstIP)
	if err != nil || !dip.Is4() {
		return fmt.Errorf("-dst %q: want an IPv4 address", dstIP)
	}
	if flows < 1 || flows > 65536 || size < 0 || size > 1472 {
		return fmt.Errorf("-flows 1..65536 and -size 0..1472")
	}
	frames := make([][]byte, flows)
	for i := range frames {
		frames[i] = frame(dmac, ifc.HardwareAddr, [4]byte{10, 200, byte(i >> 8), byte(i)}, dip.As4(), size)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: receives nothing
	if err != nil {
		return fmt.Errorf("AF_PACKET socket (root needed): %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index}); err != nil {
		return fmt.Errorf("bind %s: %w", ifname, err)
	}
	var (
		iov  [batch]unix.Iovec
		msgs [batch]mmsghdr
		sent int
		next int
	)
	start := time.Now()
	end := start.Add(duration)
	for time.Now().Before(end) && (count == 0 || sent < count) {
		n := batch
		if count > 0 {
			n = min(n, count-sent)
		}
		for i := range n {
			f := frames[next]
			next = (next + 1) % len(frames)
			iov[i] = unix.Iovec{Base: &f[0]}
			iov[i].SetLen(len(f))
			msgs[i] = mmsghdr{hdr: unix.Msghdr{Iov: &iov[i], Iovlen: 1}}
		}
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(n), 0, 0, 0)
		switch {
		case errno == unix.ENOBUFS || errno == unix.EAGAIN:
			time.Sleep(50 * time.Microsecond)
			continue
		case errno != 0:
			return fmt.Errorf("sendmmsg: %w", errno)
		}
		sent += int(r)
		if rate > 0 { // pace: batch k leaves at k*batch/rate
			due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
	}
	took := time.Since(start)
	fmt.Printf("sent %d packets in %v: %.0f packets/s\n", sent, took.Round(time.Millisecond), float64(sent)/took.Seconds())
	return nil
}

// frame builds an Ethernet/IPv4/UDP frame with a valid IP checksum (UDP
// checksum 0: none, allowed for IPv4).
func frame(dst, src net.HardwareAddr, sip, dip [4]byte, size int) []byte {
	f := make([]byte, 14+20+8+size)
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+size))
	copy(ip[12:], sip[:])
	copy(ip[16:], dip[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 9)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+size))
	return f
}
