//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/internal/netnstest"
	"golang.org/x/sys/unix"
)

// Traffic for the live probe tests, and the two views of it that are
// compared: the flows the store holds and the frames tcpdump saw.

// liveKey is a stored flow's key; liveVal its counters.
type liveKey struct {
	sip, dip netip.Addr
	dport    uint16
	proto    uint8
}

func (k liveKey) String() string {
	return fmt.Sprintf("%v -> %v dport %d proto %d", k.sip, k.dip, k.dport, k.proto)
}

type liveVal struct{ pin, pout, bin, bout uint64 }

func (v liveVal) packets() uint64 { return v.pin + v.pout }

// storedFlows sums every block of the store in dir per flow (blocks of
// one interface, or of all when iface is "").
func storedFlows(t *testing.T, dir, iface string) (map[liveKey]liveVal, []columnar.BlockMeta) {
	t.Helper()
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	defer db.Close()
	var sel columnar.Selector
	if iface != "" {
		sel.Ifaces = []string{iface}
	}
	metas, err := db.Blocks(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	out := map[liveKey]liveVal{}
	for i := range metas {
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			t.Fatalf("block %s@%d: %v", metas[i].Iface, metas[i].Start, err)
		}
		for r := range b.Len() {
			k := liveKey{netip.AddrFrom16(b.SIP[r]).Unmap(), netip.AddrFrom16(b.DIP[r]).Unmap(), b.DPort[r], b.Proto[r]}
			v := out[k]
			v.pin += b.PacketsIn[r]
			v.pout += b.PacketsOut[r]
			v.bin += b.BytesIn[r]
			v.bout += b.BytesOut[r]
			out[k] = v
		}
	}
	return out, metas
}

// udpSink opens a UDP socket on addr:port in ns that reads and discards,
// so that datagrams to it draw no ICMP error.
func udpSink(t *testing.T, ns *netnstest.NS, addr netip.Addr, port uint16) {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() (err error) {
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, port)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
}

// udpSender is a UDP socket in a namespace sending from src to dst.
type udpSender struct{ c *net.UDPConn }

func newUDPSender(t *testing.T, ns *netnstest.NS, src, dst netip.Addr, port uint16) *udpSender {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() (err error) {
		c, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, port)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &udpSender{c: c}
}

// send sends n datagrams of size payload bytes, in bursts of burst every
// pause (pause 0: as fast as the socket takes them). It returns how many
// were sent.
func (s *udpSender) send(t *testing.T, n, size, burst int, pause time.Duration) int {
	t.Helper()
	sent, err := s.trySend(n, size, burst, pause)
	if err != nil {
		t.Fatalf("udp send %d: %v", sent, err)
	}
	return sent
}

// trySend is send for goroutines other than the test's.
func (s *udpSender) trySend(n, size, burst int, pause time.Duration) (int, error) {
	payload := make([]byte, size)
	sent := 0
	for sent < n {
		for i := 0; i < burst && sent < n; i++ {
			if _, err := s.c.Write(payload); err != nil {
				return sent, err
			}
			sent++
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	return sent, nil
}

// tcpExchange opens one TCP connection from client (in nsC) to server:port
// (a listener in nsS), sends req bytes, receives resp bytes and closes.
func tcpExchange(t *testing.T, nsS, nsC *netnstest.NS, server, client netip.Addr, port uint16, req, resp int) {
	t.Helper()
	var ln net.Listener
	if err := nsS.Do(func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(server, port).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	var srvErr error
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr = err
			return
		}
		defer c.Close()
		if n, err := io.Copy(io.Discard, io.LimitReader(c, int64(req))); err != nil || n != int64(req) {
			srvErr = errors.Join(err, errors.New("short request"))
			return
		}
		_, srvErr = c.Write(make([]byte, resp))
	})
	var conn net.Conn
	if err := nsC.Do(func() (err error) {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(client, 0)), Timeout: 5 * time.Second}
		conn, err = d.Dial("tcp", netip.AddrPortFrom(server, port).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(make([]byte, req)); err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, conn)
	if err != nil || got != int64(resp) {
		t.Fatalf("tcp response: %d bytes, %v", got, err)
	}
	_ = conn.Close()
	wg.Wait()
	if srvErr != nil {
		t.Fatal(srvErr)
	}
}

// rawSender sends whole frames through an AF_PACKET socket on iface in ns.
type rawSender struct {
	fd int
	sa unix.SockaddrLinklayer
}

func newRawSender(t *testing.T, ns *netnstest.NS, iface string) *rawSender {
	t.Helper()
	s := &rawSender{fd: -1}
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		s.fd, s.sa = fd, unix.SockaddrLinklayer{Ifindex: ifc.Index}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(s.fd) })
	return s
}

func (s *rawSender) send(t *testing.T, frame []byte) {
	t.Helper()
	for {
		err := unix.Sendto(s.fd, frame, 0, &s.sa)
		if err == unix.ENOBUFS {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("raw send: %v", err)
		}
		return
	}
}

// seenFrame is one frame of a tcpdump capture: its wire length and outer
// IP addresses and protocol (zero Addr for non-IP frames).
type seenFrame struct {
	wire     uint64
	src, dst netip.Addr
	proto    uint8
}

// readPcapFrames reads a tcpdump capture.
func readPcapFrames(t *testing.T, file string) []seenFrame {
	t.Helper()
	src, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []seenFrame
	for {
		data, info, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		f := seenFrame{wire: uint64(info.OrigLen)}
		f.src, f.dst, f.proto = outerIP(data)
		out = append(out, f)
	}
}

// outerIP reads the addresses and protocol of an Ethernet frame with at
// most one VLAN tag (all the tests send), not using the decoder under test.
func outerIP(d []byte) (src, dst netip.Addr, proto uint8) {
	if len(d) < 14 {
		return
	}
	et, off := binary.BigEndian.Uint16(d[12:]), 14
	if et == 0x8100 && len(d) >= 18 {
		et, off = binary.BigEndian.Uint16(d[16:]), 18
	}
	ip := d[off:]
	switch {
	case et == 0x0800 && len(ip) >= 20:
		return netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20])), ip[9]
	case et == 0x86dd && len(ip) >= 40:
		return netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40])), ip[6]
	}
	return
}

// pairVal sums the frames between two addresses with one protocol, as
// seen from the side local: frames from local are out.
func pairVal(frames []seenFrame, local, remote netip.Addr, proto uint8) liveVal {
	var v liveVal
	for _, f := range frames {
		switch {
		case f.proto != proto:
		case f.src == local && f.dst == remote:
			v.pout++
			v.bout += f.wire
		case f.src == remote && f.dst == local:
			v.pin++
			v.bin += f.wire
		}
	}
	return v
}
