package deflate

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

func TestAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 5<<20)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	// All 0xff bytes are the worst case for the sums' growth.
	ff := make([]byte, 5<<20)
	for i := range ff {
		ff[i] = 0xff
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 100, 5552, 65536, 1 << 20, 4 << 20, 4<<20 + 3, 5 << 20} {
		for _, b := range [][]byte{buf[:n], ff[:n], buf[3 : 3+n/2]} {
			if got, want := Adler32(b), adler32.Checksum(b); got != want {
				t.Errorf("%d bytes: %08x, want %08x", len(b), got, want)
			}
		}
	}
}

// FuzzAdler32 checks Adler32 against hash/adler32.
func FuzzAdler32(f *testing.F) {
	f.Add([]byte("Wikipedia"))
	f.Add(bytes.Repeat([]byte{0xff}, 100000))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Adler32(b), adler32.Checksum(b); got != want {
			t.Fatalf("%08x, want %08x", got, want)
		}
	})
}

func BenchmarkAdler32(b *testing.B) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Adler32(buf)
	}
}
