package ingest

import "testing"

// FuzzAggregatorModel compares the aggregator with the reference model on
// random streams chosen by the fuzzer: seed, length, interval, local
// networks and live mode.
func FuzzAggregatorModel(f *testing.F) {
	f.Add(uint64(1), uint16(500), uint8(10), uint8(0), false)
	f.Add(uint64(2), uint16(3000), uint8(1), uint8(2), true)
	f.Add(uint64(3), uint16(60000), uint8(200), uint8(3), false)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, ivSec uint8, local uint8, live bool) {
		iv := int64(ivSec)
		if iv == 0 {
			iv = 300
		}
		checkAgainstModel(t, seed, int(n), iv, modelLocals[int(local)%len(modelLocals)], live)
	})
}
