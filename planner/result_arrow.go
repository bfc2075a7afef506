package planner

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Arrow form of results (the CLI's --format arrow, Flight): one field per
// column, named like it, typed
//
//	time   timestamp[s, tz=UTC]
//	string utf8
//	addr   utf8, the address as text (IPv4 dotted, IPv6 RFC 5952)
//	port   uint16
//	proto  uint8 (the protocol number)
//	uint   uint64
//	float  float64
//
// nullable only where Column.Null is set.

// arrowType returns the Arrow type of a result column type.
func arrowType(t Type) arrow.DataType {
	switch t {
	case TypeTime:
		return &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}
	case TypeString, TypeAddr:
		return arrow.BinaryTypes.String
	case TypePort:
		return arrow.PrimitiveTypes.Uint16
	case TypeProto:
		return arrow.PrimitiveTypes.Uint8
	case TypeFloat:
		return arrow.PrimitiveTypes.Float64
	}
	return arrow.PrimitiveTypes.Uint64
}

// Schema returns the Arrow schema of the result.
func (r *Result) Schema() *arrow.Schema {
	f := make([]arrow.Field, len(r.Columns))
	for i, c := range r.Columns {
		f[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: c.Null != nil}
	}
	return arrow.NewSchema(f, nil)
}

// Records returns the result as Arrow record batches of at most about
// maxBatchBytes each (DefaultBatchBytes when <= 0), at least one batch.
// The caller releases them.
func (r *Result) Records(mem memory.Allocator, maxBatchBytes int) ([]arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if maxBatchBytes <= 0 {
		maxBatchBytes = DefaultBatchBytes
	}
	schema := r.Schema()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var out []arrow.RecordBatch
	size, rows := 0, 0
	for i := range r.NumRows() {
		for j := range r.Columns {
			size += appendResult(b.Field(j), &r.Columns[j], i)
		}
		if rows++; size >= maxBatchBytes {
			out = append(out, b.NewRecordBatch())
			size, rows = 0, 0
		}
	}
	if rows > 0 || len(out) == 0 {
		out = append(out, b.NewRecordBatch())
	}
	return out, nil
}

// RecordReader returns a reader over Records. The caller releases it.
func (r *Result) RecordReader(mem memory.Allocator, maxBatchBytes int) (array.RecordReader, error) {
	recs, err := r.Records(mem, maxBatchBytes)
	if err != nil {
		return nil, err
	}
	rdr, err := array.NewRecordReader(r.Schema(), recs)
	for _, rec := range recs {
		rec.Release()
	}
	return rdr, err
}

// appendResult appends row i of c and returns its approximate size.
func appendResult(fb array.Builder, c *Column, i int) int {
	if c.IsNull(i) {
		fb.AppendNull()
		return 1
	}
	switch c.Type {
	case TypeTime:
		fb.(*array.TimestampBuilder).Append(arrow.Timestamp(c.Times[i]))
		return 8
	case TypeString:
		fb.(*array.StringBuilder).Append(c.Strings[i])
		return 4 + len(c.Strings[i])
	case TypeAddr:
		s := c.Addrs[i].String()
		fb.(*array.StringBuilder).Append(s)
		return 4 + len(s)
	case TypePort:
		fb.(*array.Uint16Builder).Append(uint16(c.Uints[i]))
		return 2
	case TypeProto:
		fb.(*array.Uint8Builder).Append(uint8(c.Uints[i]))
		return 1
	case TypeFloat:
		fb.(*array.Float64Builder).Append(c.Floats[i])
		return 8
	}
	fb.(*array.Uint64Builder).Append(c.Uints[i])
	return 8
}
