package columnar

import (
	"fmt"
	"testing"
)

// BenchmarkUnsplit unsplits the byte planes of one 20,000-row block
// (the bench/gen block size) of each counter width with the word-at-a-time
// kernels (kernel=word) and with the byte-at-a-time reference
// unsplitBytes (kernel=byte, the baseline), reporting ns per value.
//
//	go test -run='^$' -bench=Unsplit -count=6 ./columnar/ > new.txt
//	go tool benchstat -col /kernel new.txt
func BenchmarkUnsplit(b *testing.B) {
	const n = 20_000
	for _, w := range []int{2, 4, 8} {
		data := make([]byte, n*w)
		for i := range data {
			data[i] = byte(i * 7)
		}
		planes := appendSplit(nil, data, w)
		dst := make([]byte, n*w)
		for _, k := range []struct {
			name string
			f    func(dst, planes []byte, n, w int)
		}{{"word", unsplit}, {"byte", unsplitBytes}} {
			b.Run(fmt.Sprintf("width=%d/kernel=%s", w, k.name), func(b *testing.B) {
				b.SetBytes(int64(n * w))
				b.ReportAllocs()
				for b.Loop() {
					k.f(dst, planes, n, w)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
			})
		}
	}
}
