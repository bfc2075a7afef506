package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// mergeRecord merges one record batch of partial aggregates (schema
// already checked) into x. Batch ri keeps its rows in order after those
// of earlier batches.
func (x *Partial) mergeRecord(rec arrow.RecordBatch, ri int) error {
	p := x.p
	cols := rec.Columns()
	for i, c := range cols {
		if c.NullN() != 0 {
			return fmt.Errorf("column %d (%s) has %d nulls", i, rec.ColumnName(i), c.NullN())
		}
	}
	key := make([]uint64, p.layout.nk)
	for r := 0; r < int(rec.NumRows()); r++ {
		clear(key)
		for k := range p.keys {
			if err := x.wireKey(cols[k], r, k, key); err != nil {
				return fmt.Errorf("row %d: %v", r, err)
			}
		}
		if !p.agg {
			if err := x.rows.appendRow(ri, key); err != nil {
				return err
			}
			continue
		}
		t, g, err := x.table.find(key)
		if err != nil {
			return err
		}
		for i, s := range p.states {
			c := cols[len(p.keys)+i]
			if s.kind == stDistinct {
				sk, err := decodeSketch(c.(*array.Binary).Value(r))
				if err != nil {
					return fmt.Errorf("row %d: %s: %v", r, s, err)
				}
				if err := t.reserveSketches(t.sk[i][g].merge(&sk)); err != nil {
					return err
				}
				continue
			}
			v := c.(*array.Uint64).Value(r)
			switch s.kind {
			case stCount, stSum:
				t.vals[i][g] += v
			case stMin:
				t.vals[i][g] = min(t.vals[i][g], v)
			case stMax:
				t.vals[i][g] = max(t.vals[i][g], v)
			}
		}
	}
	return nil
}

// wireKey decodes key k of row r into the packed key.
func (x *Partial) wireKey(c arrow.Array, r, k int, key []uint64) error {
	p := x.p
	l := &p.layout
	switch p.keys[k].typ {
	case TypeTime:
		v := c.(*array.Int64).Value(r)
		if v < 0 {
			return fmt.Errorf("%s is negative: %d", p.keys[k].expr, v)
		}
		l.put(key, k, uint64(v))
	case TypeString:
		l.put(key, k, uint64(x.strs.intern(c.(*array.String).Value(r))))
	case TypeAddr:
		b := c.(*array.FixedSizeBinary).Value(r)
		a := u128{be64(b), be64(b[8:])}
		if !p.agg {
			l.put128(key, k, a)
			return nil
		}
		id, err := x.addrs.intern(a)
		if err != nil {
			return err
		}
		l.put(key, k, uint64(id))
	case TypePort:
		l.put(key, k, uint64(c.(*array.Uint16).Value(r)))
	case TypeProto:
		l.put(key, k, uint64(c.(*array.Uint8).Value(r)))
	default:
		l.put(key, k, c.(*array.Uint64).Value(r))
	}
	return nil
}

// appendRow adds one listed row of block b (rows of partials from other
// stores use their batch number).
func (s *rowSet) appendRow(b int, row []uint64) error {
	if s.top != nil {
		if s.top.offer(row) {
			if err := s.reserve(int64(8*s.nk + 4)); err != nil {
				return err
			}
		}
		s.n = len(s.top.idx)
		return nil
	}
	c := s.chunkFor(b)
	if s.p.limit >= 0 && int64(len(c.words)/max(s.nk, 1)) >= s.p.limit {
		return nil
	}
	if err := s.reserve(int64(8 * s.nk)); err != nil {
		return err
	}
	c.words = append(c.words, row...)
	s.n++
	return nil
}
