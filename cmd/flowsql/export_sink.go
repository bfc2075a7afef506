package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/internal/parquet"
	"github.com/flowsql/flowsql/planner"
)

// parquetRowGroupRows bounds a Parquet row group; the writer holds one
// row group's encoded pages in memory.
const parquetRowGroupRows = 1 << 20

// exportSink writes results to one file in one format. Write may be called
// many times with results of the same schema; Close finishes the file
// (footer) but does not close the underlying writer.
type exportSink interface {
	Write(res *planner.Result) error
	Close() error
}

func newExportSink(format, compression string, w io.Writer) (exportSink, error) {
	switch format {
	case "csv":
		if compression != "" && compression != "none" {
			return nil, fmt.Errorf("--compression %q: csv is written uncompressed", compression)
		}
		return &csvSink{w: bufio.NewWriterSize(w, 256<<10)}, nil
	case "arrow":
		var opts []ipc.Option
		switch compression {
		case "", "none":
		case "zstd":
			opts = append(opts, ipc.WithZstd())
		case "lz4":
			opts = append(opts, ipc.WithLZ4())
		default:
			return nil, fmt.Errorf("--compression %q: arrow takes none, zstd or lz4", compression)
		}
		return &arrowSink{w: w, opts: opts}, nil
	case "parquet":
		codec := parquet.Zstd
		switch compression {
		case "", "zstd":
		case "snappy":
			codec = parquet.Snappy
		case "none":
			codec = parquet.Uncompressed
		default:
			return nil, fmt.Errorf("--compression %q: parquet takes zstd, snappy or none", compression)
		}
		return &parquetSink{w: w, codec: codec}, nil
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}

// csvSink writes the query command's CSV, with one header.
type csvSink struct {
	w      *bufio.Writer
	header bool
}

func (s *csvSink) Write(res *planner.Result) error {
	err := writeCSV(s.w, res, !s.header)
	s.header = true
	return err
}

func (s *csvSink) Close() error {
	if !s.header {
		return errors.New("no result to write")
	}
	return s.w.Flush()
}

// eachRecord calls fn with the result's record batches, then releases them.
func eachRecord(res *planner.Result, fn func(arrow.RecordBatch) error) error {
	recs, err := res.Records(memory.DefaultAllocator, 0)
	if err != nil {
		return err
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// checkSchema refuses a result whose schema differs from the file's.
func checkSchema(have, got *arrow.Schema) error {
	if !have.Equal(got) {
		return fmt.Errorf("result schema changed between runs: %s, then %s", have, got)
	}
	return nil
}

// arrowSink writes an Arrow IPC file.
type arrowSink struct {
	w      io.Writer
	opts   []ipc.Option
	fw     *ipc.FileWriter
	schema *arrow.Schema
}

func (s *arrowSink) Write(res *planner.Result) error {
	schema := res.Schema()
	if s.fw == nil {
		fw, err := ipc.NewFileWriter(s.w, append([]ipc.Option{ipc.WithSchema(schema)}, s.opts...)...)
		if err != nil {
			return err
		}
		s.fw, s.schema = fw, schema
	} else if err := checkSchema(s.schema, schema); err != nil {
		return err
	}
	return eachRecord(res, s.fw.Write)
}

func (s *arrowSink) Close() error {
	if s.fw == nil {
		return errors.New("no result to write")
	}
	return s.fw.Close()
}

// parquetSink writes a Parquet file (internal/parquet: timestamps in
// milliseconds, adjusted to UTC; statistics per column chunk; the Arrow
// schema in the footer).
type parquetSink struct {
	w      io.Writer
	codec  parquet.Codec
	fw     *parquet.Writer
	schema *arrow.Schema
}

func (s *parquetSink) Write(res *planner.Result) error {
	schema := res.Schema()
	if s.fw == nil {
		fw, err := parquet.NewWriter(s.w, schema, parquet.Options{Codec: s.codec, RowGroupRows: parquetRowGroupRows, CreatedBy: "flowsql"})
		if err != nil {
			return err
		}
		s.fw, s.schema = fw, schema
	} else if err := checkSchema(s.schema, schema); err != nil {
		return err
	}
	return eachRecord(res, s.fw.Write)
}

func (s *parquetSink) Close() error {
	if s.fw == nil {
		return errors.New("no result to write")
	}
	return s.fw.Close()
}

// output is the destination file of an export: a temporary file next to
// OUT, renamed over it by commit, or stdout for "-".
type output struct {
	w     *bufio.Writer
	f     *os.File // nil for stdout
	path  string
	tmp   string
	size  int64 // after commit; -1 for stdout
	done  bool
	flush func() error
}

func createOutput(path string, a *app) (*output, error) {
	if path == "-" {
		bw := bufio.NewWriterSize(a.stdout, 256<<10)
		return &output{w: bw, size: -1, flush: bw.Flush}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	return &output{w: bw, f: f, path: path, tmp: f.Name(), flush: bw.Flush}, nil
}

// commit flushes the file, syncs it and renames it to its name.
func (o *output) commit() error {
	if err := o.flush(); err != nil {
		return err
	}
	if o.f == nil {
		o.done = true
		return nil
	}
	if err := o.f.Sync(); err != nil {
		return err
	}
	fi, err := o.f.Stat()
	if err != nil {
		return err
	}
	if err := o.f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(o.tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(o.tmp, o.path); err != nil {
		return err
	}
	o.size, o.done = fi.Size(), true
	return nil
}

// abort removes the temporary file of an export that did not commit.
func (o *output) abort() {
	if o.done || o.f == nil {
		return
	}
	o.f.Close()
	os.Remove(o.tmp)
}
