package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/internal/testdata"
)

// TestIngestMatchesOracle ingests every shared capture with `flowsql ingest`
// into a fresh store and compares the stored flows, summed per unordered
// address pair and protocol (the finest level at which oriented flows
// without source ports and tshark's unidirectional 5-tuples agree), with the
// oracle, plus the file's IP packet and byte totals. Damaged files must
// store their good records and make ingest report the error and exit 1.
func TestIngestMatchesOracle(t *testing.T) {
	dir, names := testdata.Captures(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sum, flows := testdata.ReadAdjustedOracle(t, dir, name)
			want := testdata.ByPair(flows)
			wantPackets, wantBytes := sum.IPv4Packets+sum.IPv6Packets, sum.IPBytes

			db := t.TempDir()
			code, stdout, stderr := runCLI(t, "--db", db, "ingest", filepath.Join(dir, name))
			damaged := sum.TsharkExitCode != 0
			switch {
			case damaged && code == 0:
				t.Fatalf("ingest of a damaged file exited 0; tshark says %q\nstdout: %s", sum.TsharkError, stdout)
			case damaged && !strings.Contains(stderr, name):
				t.Fatalf("ingest error does not name the file: %q", stderr)
			case !damaged && code != 0:
				t.Fatalf("ingest exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if sum.TotalPackets == 0 && damaged {
				return // unreadable file: rejected, nothing to store
			}

			got, nonIP, parseErrs := storedByPair(t, db)
			var gotPackets, gotBytes uint64
			for k, tot := range got {
				gotPackets += tot.Packets
				gotBytes += tot.Bytes
				if w := want[k]; w != tot {
					t.Errorf("%v <-> %v proto %d: stored %+v, oracle %+v", k.A, k.B, k.Proto, tot, w)
				}
			}
			for k, w := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("%v <-> %v proto %d: missing, oracle %+v", k.A, k.B, k.Proto, w)
				}
			}
			if gotPackets != wantPackets || gotBytes != wantBytes {
				t.Errorf("IP totals: stored %d packets %d bytes, oracle %d packets %d bytes",
					gotPackets, gotBytes, wantPackets, wantBytes)
			}
			if wantNon := sum.TotalPackets - wantPackets; nonIP+parseErrs != wantNon {
				t.Errorf("non-IP + parse errors = %d + %d, oracle non-IP %d", nonIP, parseErrs, wantNon)
			}
		})
	}
}
