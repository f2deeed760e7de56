package deflate

import "encoding/binary"

// Adler32 returns the Adler-32 checksum of p (RFC 1950). It is hand-written
// because hash/adler32 adds byte by byte in one dependency chain, which was
// the slowest part of reading compressed NMSG after inflate itself. This
// one works on eight bytes at a time within a 64-bit word: the even and odd
// bytes are spread into four 16-bit lanes each, and one multiplication per
// lane group yields the sum of the bytes or their sum weighted 8..1 (s2
// gains 8·s1 plus that weighted sum per word). The modulus is taken every
// 4 MiB, which 64-bit sums allow.
func Adler32(p []byte) uint32 {
	const (
		mod   = 65521
		lanes = 0x00ff00ff00ff00ff
		ones  = 0x0001000100010001
		wEven = 8<<48 | 6<<32 | 4<<16 | 2 // weights of bytes 0, 2, 4, 6
		wOdd  = 7<<48 | 5<<32 | 3<<16 | 1 // weights of bytes 1, 3, 5, 7
	)
	s1, s2 := uint64(1), uint64(0)
	for len(p) > 0 {
		q := p[:min(len(p), 4<<20)]
		p = p[len(q):]
		for len(q) >= 16 {
			x, y := binary.LittleEndian.Uint64(q), binary.LittleEndian.Uint64(q[8:])
			xe, xo := x&lanes, (x>>8)&lanes
			ye, yo := y&lanes, (y>>8)&lanes
			xs := ((xe + xo) * ones) >> 48
			s2 += 16*s1 + 8*xs + (xe*wEven)>>48 + (xo*wOdd)>>48 + (ye*wEven)>>48 + (yo*wOdd)>>48
			s1 += xs + ((ye+yo)*ones)>>48
			q = q[16:]
		}
		for len(q) >= 8 {
			x := binary.LittleEndian.Uint64(q)
			even, odd := x&lanes, (x>>8)&lanes
			s2 += 8*s1 + (even*wEven)>>48 + (odd*wOdd)>>48
			s1 += ((even + odd) * ones) >> 48
			q = q[8:]
		}
		for _, b := range q {
			s1 += uint64(b)
			s2 += s1
		}
		s1 %= mod
		s2 %= mod
	}
	return uint32(s2<<16 | s1)
}
