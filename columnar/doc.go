// Package columnar is flowsql's flow store: blocks of flows (one interface,
// one rotation interval) kept as Arrow IPC column chunks in per-interface,
// per-day data files, indexed by a bbolt database. FORMAT.md describes every
// byte; in short:
//
//	<db>/index.db                         bbolt: blocks/<iface>/<start> -> BlockMeta
//	<db>/writer.lock                      flock held by the one read-write DB
//	<db>/data/<iface>/<YYYYMMDD>.fsc      header <16b> | frame | frame | ...
//	frame = header <32b: magic, version, column, part, encoding, codec,
//	        rows, block start, length, crc32c> | Arrow IPC stream | pad to 8
//
// A block is ten to twelve parts: sorted dictionaries (from format v2 an
// IPv4 part, byte-stream-split, and a 16-byte part) and codes of sip and
// dip (in v3 sip's as runs: rows per code), then dport, proto and the four
// counters at their narrowest width (from v2 byte-stream-split when wider
// than a byte: byte k of value i at k*n + i). Rows are sorted by (sip,
// dip). From v4 the values of dip and the byte counters are pages of 8192
// rows, one frame each, so a read of one sip's run of rows
// (ReadColumnRows) reads the pages holding it. Write appends the chunks, fsyncs, then commits the index entry in
// one transaction (the commit point); Open truncates what a crash left
// past the committed length.
//
// One writer process and any number of reader processes share a folder: a
// read-write Open holds the folder's writer lock (writer.lock, flock) until
// Close, so a second writer fails at once with ErrLocked, and recovery runs
// only under it; Options.ReadOnly opens take no lock and change nothing
// (ErrNoStore if there is no store). No DB keeps index.db open: each
// operation opens it for one transaction, read-only for reads and
// read-write for a commit, so a reader waits at most for one commit and
// the writer for one reader's transaction. Readers see only committed,
// durable blocks; bytes past a file's committed length are an append in
// flight, which a read-only Check does not call damage.
//
// The query side selects blocks with DB.Blocks (pruning on BlockMeta's
// statistics), reads sip/dip dictionaries alone with DB.ReadDict to skip
// blocks that lack an address, and reads only the columns it needs with
// DB.ReadColumn. Every damaged byte surfaces as an error wrapping ErrCorrupt
// that names the file and offset; the other blocks stay readable.
package columnar
