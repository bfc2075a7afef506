package gen_test

import (
	"context"
	"slices"
	"testing"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// collect returns every block of cfg, each a copy.
func collect(t testing.TB, cfg gen.Config) []*columnar.Block {
	t.Helper()
	var w collector
	if _, err := gen.Generate(context.Background(), &w, cfg, nil); err != nil {
		t.Fatalf("generate: %v", err)
	}
	return w.blocks
}

// collector is a BlockWriter that keeps copies of the blocks.
type collector struct{ blocks []*columnar.Block }

func (c *collector) Write(_ context.Context, b *columnar.Block) error {
	cp := *b
	cp.SIP, cp.DIP, cp.DPort, cp.Proto = slices.Clone(b.SIP), slices.Clone(b.DIP), slices.Clone(b.DPort), slices.Clone(b.Proto)
	cp.BytesIn, cp.BytesOut = slices.Clone(b.BytesIn), slices.Clone(b.BytesOut)
	cp.PacketsIn, cp.PacketsOut = slices.Clone(b.PacketsIn), slices.Clone(b.PacketsOut)
	c.blocks = append(c.blocks, &cp)
	return nil
}

// rowKey is the store's key of a row.
type rowKey struct {
	sip, dip [16]byte
	dport    uint16
	proto    uint8
}

func keyOf(b *columnar.Block, i int) rowKey {
	return rowKey{b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i]}
}

// sameBlock reports whether two blocks are equal in every field.
func sameBlock(a, b *columnar.Block) bool {
	return a.Iface == b.Iface && a.Start == b.Start && a.End == b.End &&
		a.NonIP == b.NonIP && a.ParseErrors == b.ParseErrors &&
		slices.Equal(a.SIP, b.SIP) && slices.Equal(a.DIP, b.DIP) &&
		slices.Equal(a.DPort, b.DPort) && slices.Equal(a.Proto, b.Proto) &&
		slices.Equal(a.BytesIn, b.BytesIn) && slices.Equal(a.BytesOut, b.BytesOut) &&
		slices.Equal(a.PacketsIn, b.PacketsIn) && slices.Equal(a.PacketsOut, b.PacketsOut)
}
