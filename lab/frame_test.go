package lab

import (
	"math/rand/v2"
	"testing"
)

func naiveSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// TestChecksumPieces checks csum against the byte-pair definition, and
// that sums of pieces at odd and even offsets combine to the whole's.
func TestChecksumPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(9000))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) > 0 && rng.IntN(4) == 0 {
			for i := range b {
				b[i] = 0xff
			}
		}
		want := naiveSum(b)
		if got := fold16(csum(b)); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("csum of %d bytes = %#04x, want %#04x", len(b), got, want)
		}
		cut1 := rng.IntN(len(b) + 1)
		cut2 := cut1 + rng.IntN(len(b)-cut1+1)
		s := addFold(addFold(csum(b[:cut1]), sumAt(csum(b[cut1:cut2]), cut1)), sumAt(csum(b[cut2:]), cut2))
		if got := fold16(s); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("pieces %d/%d/%d sum to %#04x, want %#04x", cut1, cut2-cut1, len(b)-cut2, got, want)
		}
	}
}

func BenchmarkChecksum8000(b *testing.B) {
	buf := make([]byte, 8000)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		csum(buf)
	}
}
