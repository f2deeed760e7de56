package deflate

import (
	"encoding/binary"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func cpuT() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZLevels(t *testing.T) {
	b, err := os.ReadFile("/tmp/zl/bodies.bin")
	if err != nil {
		t.Skip()
	}
	var bodies [][]byte
	for len(b) > 0 {
		n := binary.LittleEndian.Uint32(b)
		bodies = append(bodies, b[4:4+n])
		b = b[4+n:]
	}
	nb, _ := strconv.Atoi(os.Getenv("NB"))
	bodies = bodies[:nb]
	for lv := 1; lv <= 9; lv++ {
		e := NewEncoder(lv)
		var out []byte
		best := time.Hour
		total := 0
		for range 3 {
			total = 0
			t0 := cpuT()
			for _, b := range bodies {
				out = e.AppendZlib(out[:0], b)
				total += len(out)
			}
			best = min(best, cpuT()-t0)
		}
		t.Logf("level %d: %d bytes, %.3f CPU-s", lv, total, best.Seconds())
	}
}
