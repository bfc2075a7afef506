package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/planner"
)

// writeArrowStream writes the result as an Arrow IPC stream (schema, then
// record batches of at most planner.DefaultBatchBytes), the form
// pyarrow.ipc.open_stream and DuckDB's arrow readers take. Column types are
// those of planner.Result.Schema: timestamp[s, UTC], utf8 (names and
// addresses), uint16 ports, uint8 protocols, uint64 counters, float64.
func writeArrowStream(w io.Writer, res *planner.Result) error {
	rdr, err := res.RecordReader(memory.DefaultAllocator, 0)
	if err != nil {
		return err
	}
	defer rdr.Release()
	iw := ipc.NewWriter(w, ipc.WithSchema(rdr.Schema()))
	for rdr.Next() {
		if err := iw.Write(rdr.RecordBatch()); err != nil {
			iw.Close()
			return err
		}
	}
	if err := rdr.Err(); err != nil {
		iw.Close()
		return err
	}
	return iw.Close()
}

// printWarnings prints each damaged block a query skipped on stderr: which
// block, the data file and offset, and what was wrong.
func (a *app) printWarnings(ws []planner.Warning) {
	for _, w := range ws {
		msg := fmt.Sprintf("flowsql: warning: skipped damaged block %s %s UTC", w.Iface, timeUTC(w.Start.Unix()))
		errText := "unknown error"
		if w.Err != nil {
			errText = w.Err.Error()
		}
		if w.File != "" && !strings.Contains(errText, w.File) {
			msg += fmt.Sprintf(" (file %s, offset %d)", w.File, w.Offset)
		}
		fmt.Fprintf(a.stderr, "%s: %s\n", msg, errText)
	}
}

// queryStats is the JSON line --stats prints on stderr.
type queryStats struct {
	PlannerMS       float64  `json:"planner_ms"` // Prepare done; Execute, merge, order and limit
	OutputMS        float64  `json:"output_ms"`  // formatting and writing the result
	Rows            int      `json:"rows"`
	Groups          int      `json:"groups"` // with top_n, the candidates checked, not all groups
	TopN            bool     `json:"top_n"`  // ran as a threshold top-N (planner/topk.go)
	BlocksTotal     int      `json:"blocks_total"`
	BlocksRead      int      `json:"blocks_read"`
	BlocksFromStats int      `json:"blocks_from_stats"`
	PrunedTime      int      `json:"pruned_time"`
	PrunedIface     int      `json:"pruned_iface"`
	PrunedStats     int      `json:"pruned_stats"`
	PrunedDict      int      `json:"pruned_dict"`
	BlocksDamaged   int      `json:"blocks_damaged"`
	PastLimit       int      `json:"past_limit"` // blocks not read: earlier ones held LIMIT rows
	ChunksRead      int      `json:"chunks_read"`
	BytesRead       int64    `json:"bytes_read"`
	ColumnsRead     []string `json:"columns_read"`
	RowsScanned     int64    `json:"rows_scanned"`
	RowsMatched     int64    `json:"rows_matched"`
	PeakMemory      int64    `json:"peak_memory"`
}

func (a *app) printStats(res *planner.Result, planned, output time.Duration) {
	st := &res.Stats
	qs := queryStats{
		PlannerMS: ms(planned), OutputMS: ms(output), Rows: res.NumRows(), Groups: st.Groups, TopN: st.TopN,
		BlocksTotal: st.BlocksTotal, BlocksRead: st.BlocksRead, BlocksFromStats: st.BlocksFromStats,
		PrunedTime: st.PrunedTime, PrunedIface: st.PrunedIface, PrunedStats: st.PrunedStats, PrunedDict: st.PrunedDict,
		BlocksDamaged: st.BlocksDamaged, PastLimit: st.PastLimit, ChunksRead: st.ChunksRead, BytesRead: st.BytesRead, ColumnsRead: st.ColumnsRead,
		RowsScanned: st.RowsScanned, RowsMatched: st.RowsMatched, PeakMemory: st.PeakMemory,
	}
	b, err := json.Marshal(qs)
	if err != nil {
		return
	}
	fmt.Fprintf(a.stderr, "%s\n", b)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
