//go:build !unix

package columnar

import "os"

// mapFile maps nothing on this platform: reads use ReadAt.
func mapFile(*os.File, int64) ([]byte, error) { return nil, nil }

func unmapFile([]byte) error { return nil }
