package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Wire form of partial aggregates (see the package doc for the schema).
const (
	wireVersion = "flowsql-partial-v1"
	metaPlan    = "flowsql.partial"
	metaSketch  = "flowsql.sketch"
	metaStats   = "flowsql.stats"
	statePrefix = "state:"
	stringGuess = 16 // bytes assumed per name when sizing batches
)

var addrWireType = &arrow.FixedSizeBinaryType{ByteWidth: 16}

// wireType returns the Arrow type of a key column in partials.
func wireType(t Type) arrow.DataType {
	switch t {
	case TypeTime:
		return arrow.PrimitiveTypes.Int64
	case TypeString:
		return arrow.BinaryTypes.String
	case TypeAddr:
		return addrWireType
	case TypePort:
		return arrow.PrimitiveTypes.Uint16
	case TypeProto:
		return arrow.PrimitiveTypes.Uint8
	}
	return arrow.PrimitiveTypes.Uint64
}

// partialFields returns the fields of the plan's partial schema.
func (p *Plan) partialFields() []arrow.Field {
	var f []arrow.Field
	for _, k := range p.keys {
		f = append(f, arrow.Field{Name: k.expr, Type: wireType(k.typ)})
	}
	for _, s := range p.states {
		t := arrow.DataType(arrow.PrimitiveTypes.Uint64)
		if s.kind == stDistinct {
			t = arrow.BinaryTypes.Binary
		}
		f = append(f, arrow.Field{Name: statePrefix + s.String(), Type: t})
	}
	return f
}

// wireStats is Stats as JSON in the schema metadata.
type wireStats struct {
	Stats
	Warnings []wireWarning `json:"Warnings"`
}

type wireWarning struct {
	Iface  string
	Start  time.Time
	File   string
	Offset int64
	Err    string
}

func encodeStats(s Stats) string {
	w := wireStats{Stats: s}
	w.Stats.Warnings = nil
	for _, x := range s.Warnings {
		w.Warnings = append(w.Warnings, wireWarning{x.Iface, x.Start, x.File, x.Offset, x.Err.Error()})
	}
	b, _ := json.Marshal(w)
	return string(b)
}

func decodeStats(s string) (Stats, error) {
	var w wireStats
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return Stats{}, err
	}
	st := w.Stats
	for _, x := range w.Warnings {
		st.Warnings = append(st.Warnings, Warning{x.Iface, x.Start, x.File, x.Offset, errors.New(x.Err)})
	}
	return st, nil
}

// ToRecords encodes the partial as Arrow record batches of about
// maxBatchBytes each (DefaultBatchBytes when <= 0), for another process
// to merge with Plan.MergeRecords. There is always at least one batch, so
// the schema and its metadata (plan signature, sketch version, stats)
// travel even without rows. The caller releases the batches.
func (x *Partial) ToRecords(mem memory.Allocator, maxBatchBytes int) ([]arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if maxBatchBytes <= 0 {
		maxBatchBytes = DefaultBatchBytes
	}
	p := x.p
	md := arrow.NewMetadata([]string{metaPlan, metaSketch, metaStats}, []string{p.signature(), sketchVersion, encodeStats(x.Stats)})
	schema := arrow.NewSchema(p.partialFields(), &md)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var out []arrow.RecordBatch
	size, rows := 0, 0
	flush := func() {
		out = append(out, b.NewRecordBatch())
		size, rows = 0, 0
	}
	fixed := 0
	for _, f := range schema.Fields() {
		if fw, ok := f.Type.(arrow.FixedWidthDataType); ok {
			fixed += fw.BitWidth() / 8
		} else if f.Type.ID() == arrow.STRING {
			fixed += stringGuess
		}
	}
	emit := func(words []uint64, t *groupTable, g int) {
		for k := range p.keys {
			appendWireKey(b.Field(k), p, x, words, k)
		}
		size += fixed
		for i, s := range p.states {
			fb := b.Field(len(p.keys) + i)
			if s.kind == stDistinct {
				enc := t.sk[i][g].appendTo(nil)
				fb.(*array.BinaryBuilder).Append(enc)
				size += len(enc)
			} else {
				fb.(*array.Uint64Builder).Append(t.vals[i][g])
			}
		}
		if rows++; size >= maxBatchBytes {
			flush()
		}
	}
	if p.agg {
		for _, t := range x.table.parts {
			for g := 0; g < t.n; g++ {
				emit(t.key(g), t, g)
			}
		}
	} else {
		for _, r := range x.rows.ordered() {
			emit(r, nil, -1)
		}
	}
	if rows > 0 || len(out) == 0 {
		flush()
	}
	return out, nil
}

func appendWireKey(fb array.Builder, p *Plan, x *Partial, words []uint64, k int) {
	l := &p.layout
	switch p.keys[k].typ {
	case TypeTime:
		fb.(*array.Int64Builder).Append(int64(l.get(words, k)))
	case TypeString:
		fb.(*array.StringBuilder).Append(x.strs.at(uint32(l.get(words, k))))
	case TypeAddr:
		var a u128
		if p.agg {
			a = x.addrs.at(uint32(l.get(words, k)))
		} else {
			a = l.get128(words, k)
		}
		v := a.bytes()
		fb.(*array.FixedSizeBinaryBuilder).Append(v[:])
	case TypePort:
		fb.(*array.Uint16Builder).Append(uint16(l.get(words, k)))
	case TypeProto:
		fb.(*array.Uint8Builder).Append(uint8(l.get(words, k)))
	default:
		fb.(*array.Uint64Builder).Append(l.get(words, k))
	}
}

// MergeRecords decodes partial aggregates made by ToRecords (of this plan
// or one with the same signature, on any host) and merges them into one
// new partial. Batches of another plan, sketch version or schema, and
// damaged values, give an error wrapping ErrPartial or ErrPlanMismatch.
// The batches are not released.
func (p *Plan) MergeRecords(recs ...arrow.RecordBatch) (*Partial, error) {
	x := p.newPartial(newBudget(p.opts.MemoryBudget))
	want := p.partialFields()
	seenStats := map[string]bool{}
	for ri, rec := range recs {
		if err := checkWireSchema(p, rec.Schema(), want); err != nil {
			x.Release()
			return nil, fmt.Errorf("record batch %d: %w", ri, err)
		}
		if s, ok := rec.Schema().Metadata().GetValue(metaStats); ok && !seenStats[s] {
			// Every batch of one ToRecords call repeats the same stats.
			seenStats[s] = true
			st, err := decodeStats(s)
			if err != nil {
				x.Release()
				return nil, fmt.Errorf("%w: record batch %d: stats: %v", ErrPartial, ri, err)
			}
			x.Stats.add(&st)
		}
		if err := x.mergeRecord(rec, ri); err != nil {
			x.Release()
			return nil, fmt.Errorf("%w: record batch %d: %v", ErrPartial, ri, err)
		}
	}
	x.Stats.Groups = x.len()
	return x, nil
}

func checkWireSchema(p *Plan, s *arrow.Schema, want []arrow.Field) error {
	md := s.Metadata()
	sig, _ := md.GetValue(metaPlan)
	if sig != p.signature() {
		return fmt.Errorf("%w: batch of %q, plan is %q", ErrPlanMismatch, sig, p.signature())
	}
	if v, _ := md.GetValue(metaSketch); v != sketchVersion {
		return fmt.Errorf("%w: sketch version %q, this build uses %q", ErrPartial, v, sketchVersion)
	}
	if s.NumFields() != len(want) {
		return fmt.Errorf("%w: %d columns, want %d", ErrPartial, s.NumFields(), len(want))
	}
	for i, f := range s.Fields() {
		if f.Name != want[i].Name || !arrow.TypeEqual(f.Type, want[i].Type) {
			return fmt.Errorf("%w: column %d is %s %s, want %s %s", ErrPartial, i, f.Name, f.Type, want[i].Name, want[i].Type)
		}
	}
	return nil
}
