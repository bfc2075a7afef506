package main

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/ingest"
	"github.com/spf13/cobra"
)

// sampleCapture is real traffic recorded between two network namespaces by
// scripts/make-sample-capture: HTTP over IPv4 and IPv6, a UDP service,
// pings and refused TCP connections, seen from the client host's eth0.
//
//go:embed sample.pcap.gz
var sampleCapture []byte

// demoIface names the sample's interface in the store.
const demoIface = "demo-eth0"

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Ingest the embedded sample capture into the store and show what it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context())
		},
	}
}

func (a *app) demo(ctx context.Context) error {
	db, err := columnar.Open(ctx, a.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	blocks, err := db.Blocks(ctx, columnar.Selector{Ifaces: []string{demoIface}})
	if err != nil {
		return err
	}
	if len(blocks) == 0 {
		fmt.Fprintf(a.stdout, "ingesting the embedded sample capture (%s gzipped) into %s as interface %s\n",
			humanBytes(uint64(len(sampleCapture))), a.db, demoIface)
		if err := ingestSample(ctx, db, a); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "the sample is already in %s as interface %s\n", a.db, demoIface)
	}
	fmt.Fprintf(a.stdout, "\n$ flowsql list --db %s\n", a.db)
	sums, err := db.Summary(ctx)
	if err != nil {
		return err
	}
	writeSummaryTable(a, sums)

	fmt.Fprintf(a.stdout, "\nwho talked to whom on %s, on which port, how much (top conversations by bytes):\n", demoIface)
	return a.topConversations(ctx, db, demoIface, 10)
}

// ingestSample writes the embedded capture to a temporary file and ingests
// it like `flowsql ingest --iface demo-eth0 FILE` would.
func ingestSample(ctx context.Context, db *columnar.DB, a *app) error {
	dir, err := os.MkdirTemp("", "flowsql-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sample.pcap.gz")
	if err := os.WriteFile(path, sampleCapture, 0o600); err != nil {
		return err
	}
	chain := capture.NewChain([]capture.ChainItem{{Path: path, Name: demoIface}})
	defer chain.Close()
	stats, err := ingest.IngestSource(ctx, chain, db, ingest.Options{Iface: demoIface})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if errs := chain.Errors(); len(errs) > 0 {
		return fmt.Errorf("demo: reading the sample: %w", errs[0])
	}
	a.printIngestStats(stats, 0)
	return nil
}

// conversation is one (client, server, port, protocol) with its totals.
type conversation struct {
	sip, dip                                 [16]byte
	dport                                    uint16
	proto                                    uint8
	bytesIn, bytesOut, packetsIn, packetsOut uint64
}

// topConversations sums an interface's stored rows per conversation and
// prints the n largest by bytes.
func (a *app) topConversations(ctx context.Context, db *columnar.DB, iface string, n int) error {
	metas, err := db.Blocks(ctx, columnar.Selector{Ifaces: []string{iface}})
	if err != nil {
		return err
	}
	type key struct {
		sip, dip [16]byte
		dport    uint16
		proto    uint8
	}
	sums := make(map[key]*conversation)
	for i := range metas {
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			return err
		}
		for r := 0; r < b.Len(); r++ {
			k := key{b.SIP[r], b.DIP[r], b.DPort[r], b.Proto[r]}
			c := sums[k]
			if c == nil {
				c = &conversation{sip: k.sip, dip: k.dip, dport: k.dport, proto: k.proto}
				sums[k] = c
			}
			c.bytesIn += b.BytesIn[r]
			c.bytesOut += b.BytesOut[r]
			c.packetsIn += b.PacketsIn[r]
			c.packetsOut += b.PacketsOut[r]
		}
	}
	convs := make([]*conversation, 0, len(sums))
	for _, c := range sums {
		convs = append(convs, c)
	}
	slices.SortFunc(convs, func(x, y *conversation) int {
		if c := cmp.Compare(y.bytesIn+y.bytesOut, x.bytesIn+x.bytesOut); c != 0 {
			return c
		}
		if c := bytes.Compare(x.sip[:], y.sip[:]); c != 0 {
			return c
		}
		return bytes.Compare(x.dip[:], y.dip[:])
	})
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SIP (client)\tDIP (server)\tDPORT\tPROTO\tBYTES OUT\tBYTES IN\tPACKETS OUT\tPACKETS IN")
	for i, c := range convs {
		if i == n {
			break
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\n", addrString(c.sip), addrString(c.dip), c.dport, protoName(c.proto),
			humanBytes(c.bytesOut), humanBytes(c.bytesIn), c.packetsOut, c.packetsIn)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "(%d conversations in %d blocks; out = sent by the capturing host)\n", len(convs), len(metas))
	return nil
}

// addrString prints a stored 16-byte address, IPv4 without the ::ffff: prefix.
func addrString(a [16]byte) string { return netip.AddrFrom16(a).Unmap().String() }

// protoName names the common IP protocols, else prints the number.
func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	}
	return fmt.Sprint(p)
}
