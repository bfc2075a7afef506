package main

import (
	"bytes"
	"context"
	"net/netip"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/internal/testdata"
)

// runCLI runs one flowsql command line in-process and returns its exit
// status and output.
func runCLI(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// storedByPair reads every stored row of the store in dir and sums packets
// and bytes per unordered address pair and protocol, with the interface
// counters.
func storedByPair(t testing.TB, dir string) (pairs map[testdata.PairKey]testdata.Totals, nonIP, parseErrors uint64) {
	t.Helper()
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		t.Fatalf("blocks: %v", err)
	}
	pairs = make(map[testdata.PairKey]testdata.Totals)
	for i := range metas {
		nonIP += metas[i].NonIP
		parseErrors += metas[i].ParseErrors
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			t.Fatalf("read block %s@%d: %v", metas[i].Iface, metas[i].Start, err)
		}
		for r := 0; r < b.Len(); r++ {
			k := testdata.MakePairKey(netip.AddrFrom16(b.SIP[r]), netip.AddrFrom16(b.DIP[r]), b.Proto[r])
			tot := pairs[k]
			tot.Packets += b.PacketsIn[r] + b.PacketsOut[r]
			tot.Bytes += b.BytesIn[r] + b.BytesOut[r]
			pairs[k] = tot
		}
	}
	return pairs, nonIP, parseErrors
}
