package capture

import (
	"errors"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// newGzipReader returns a reader of the decompressed stream of r
// (concatenated members are read as one stream). klauspost/compress is used
// rather than compress/gzip: on the corpus's gzip capture it decompresses
// about 1.3x faster with a tenth of the allocations (BenchmarkGunzip*).
func newGzipReader(r io.Reader) (io.ReadCloser, error) {
	return gzip.NewReader(r)
}

// isGzipCorrupt reports whether err says the gzip stream is damaged.
func isGzipCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce)
}
