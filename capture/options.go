package capture

// FileOption configures a file source opened with Open or OpenFile.
type FileOption func(*fileConfig)

// fileConfig holds the settings of a file source; newFileConfig fills in defaults.
type fileConfig struct {
	bufSize int
}

// Buffer size bounds. Records that fit in the read buffer are handed out
// without copying; bigger ones are copied into a buffer the source owns.
const (
	// DefaultFileBufferSize is the size of the read buffer of a file source.
	DefaultFileBufferSize = 256 << 10
	minFileBufferSize     = 4 << 10
	maxFileBufferSize     = 64 << 20
)

func newFileConfig(opts []FileOption) fileConfig {
	c := fileConfig{bufSize: DefaultFileBufferSize}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	c.bufSize = min(max(c.bufSize, minFileBufferSize), maxFileBufferSize)
	return c
}

// WithBufferSize sets the read buffer size in bytes (default
// DefaultFileBufferSize, clamped to [4 KiB, 64 MiB]). Records that fit in the
// buffer are returned without a copy.
func WithBufferSize(n int) FileOption {
	return func(c *fileConfig) { c.bufSize = n }
}
