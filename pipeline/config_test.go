package pipeline

import (
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Raw literals are an option of level fastest only: asked for at another
// level they are refused, not silently left out.
func TestConfigRawLiterals(t *testing.T) {
	for _, tc := range []struct {
		level zstd.EncoderLevel
		ok    bool
	}{{0, true}, {zstd.SpeedFastest, true}, {zstd.SpeedDefault, false}, {zstd.SpeedBestCompression, false}} {
		c := Config{RawLiterals: true, Level: tc.level}
		err := c.fill()
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "raw literals")) {
			t.Errorf("raw literals at level %v: %v, want ok %v", tc.level, err, tc.ok)
		}
	}
}
