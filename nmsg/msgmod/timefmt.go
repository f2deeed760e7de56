package msgmod

import (
	"encoding/binary"
	"slices"
	"time"
)

// Hot path, hand-written: every payload prints its own time and a
// dnsdedupe payload two to four more, so dates are formatted here with a
// per-Printer cache of the last day's "YYYY-MM-DD" (consecutive payloads
// share it) and the clock from a two-digit table, instead of through
// time.Time. Times outside 1970..9999 go the slow way, through time.

// maxFastSec is 10000-01-01 00:00:00 UTC: below it (and from 0) the year
// has exactly four digits.
const maxFastSec = 253402300800

// digits2 holds "00" to "99".
var digits2 = func() (t [200]byte) {
	for i := range 100 {
		t[2*i], t[2*i+1] = byte('0'+i/10), byte('0'+i%10)
	}
	return t
}()

// appendNano9 writes v < 1e9 as nine digits, zero-padded.
func appendNano9(dst []byte, v uint32) []byte {
	a := v / 10000000
	r := v - a*10000000
	b := r / 100000
	r -= b * 100000
	c := r / 1000
	r -= c * 1000
	d := r / 10
	e := r - d*10
	return append(dst, digits2[2*a], digits2[2*a+1], digits2[2*b], digits2[2*b+1],
		digits2[2*c], digits2[2*c+1], digits2[2*d], digits2[2*d+1], byte('0'+e))
}

// dayCache remembers the text of one day: "YYYY-MM-" and "DD" as
// little-endian words.
type dayCache struct {
	day    uint64
	ok     bool
	ym, dd uint64
}

// pairs holds "00" to "99" as little-endian 16-bit words.
var pairs = func() (t [100]uint64) {
	for i := range t {
		t[i] = uint64(digits2[2*i]) | uint64(digits2[2*i+1])<<8
	}
	return t
}()

// appendDateTimeFast writes "YYYY-MM-DD HH:MM:SS" (UTC) for 0 <= sec <
// maxFastSec, as three 8-octet stores cut to 19.
func (c *dayCache) appendDateTimeFast(dst []byte, sec uint64) []byte {
	day, s := sec/86400, sec%86400
	if day != c.day || !c.ok {
		t := civilText(day)
		c.ym = binary.LittleEndian.Uint64(t[:8])
		c.dd = uint64(t[8]) | uint64(t[9])<<8
		c.day, c.ok = day, true
	}
	h := s / 3600
	s -= h * 3600
	mi := s / 60
	s -= mi * 60
	n := len(dst)
	dst = slices.Grow(dst, 24)
	out := dst[n : n+24]
	binary.LittleEndian.PutUint64(out, c.ym)
	binary.LittleEndian.PutUint64(out[8:], c.dd|' '<<16|pairs[h]<<24|':'<<40|pairs[mi]<<48)
	binary.LittleEndian.PutUint64(out[16:], ':'|pairs[s]<<8)
	return dst[:n+19]
}

// civilText is the "YYYY-MM-DD" of a day counted from 1970-01-01 (a year
// below 10000), by the civil_from_days algorithm of H. Hinnant.
func civilText(days uint64) (t [10]byte) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	hi, lo := y/100, y%100
	t[0], t[1] = digits2[2*hi], digits2[2*hi+1]
	t[2], t[3] = digits2[2*lo], digits2[2*lo+1]
	t[4] = '-'
	t[5], t[6] = digits2[2*m], digits2[2*m+1]
	t[7] = '-'
	t[8], t[9] = digits2[2*d], digits2[2*d+1]
	return t
}

// appendTimeSlow is the time.Time form of the date writers, for any sec:
// the year as yearDigits writes it, then "-MM-DD HH:MM:SS".
func appendTimeSlow(dst []byte, sec int64, year func([]byte, int) []byte) []byte {
	t := time.Unix(sec, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = year(dst, y)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, ' ')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	return appendDigits(dst, s, 2)
}
