package nmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
)

// ZlibLevel is the default deflate level of klauspost/compress, which
// siecap uses for zlib. Its levels trade differently from C zlib's: on SIE
// containers level 6 is about 4% larger than C zlib's default (level 6)
// and three times as fast; level 7 is 1.2% larger, level 8 the same size at
// a third of level 6's speed (see docs/benchmarks.md).
const ZlibLevel = 6

// inflater inflates ZLIB bodies (a 4-byte big-endian uncompressed length,
// then a zlib stream) into a reused buffer. It reads the zlib framing
// itself and inflates the deflate stream with klauspost/compress's flate
// (faster than the standard library's), then checks the stream's Adler-32
// with adler32 below: the stock zlib reader's checksum is the slowest part
// of reading compressed NMSG after inflate itself.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser
	out []byte
}

// inflate returns the inflated body, valid until the next call. It refuses
// a declared length over MaxContainerSize before allocating anything, and
// any stream whose actual length differs from the declared one (as libnmsg
// demands).
func (z *inflater) inflate(body []byte) ([]byte, error) {
	if len(body) < 4 {
		return nil, fmt.Errorf("%w: body of %d bytes has no length prefix", ErrInflate, len(body))
	}
	ulen := binary.BigEndian.Uint32(body[:4])
	if ulen > MaxContainerSize {
		return nil, fmt.Errorf("%w: declared inflated size %d", ErrTooLarge, ulen)
	}
	if cap(z.out) < int(ulen) {
		z.out = make([]byte, ulen, max(int(ulen), 64<<10))
	}
	out := z.out[:ulen]
	stream := body[4:]
	if len(stream) < 2+4 {
		return nil, fmt.Errorf("%w: zlib stream of %d bytes", ErrInflate, len(stream))
	}
	cmf, flg := stream[0], stream[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 {
		return nil, fmt.Errorf("%w: bad zlib header %02x%02x", ErrInflate, cmf, flg)
	}
	if flg&0x20 != 0 {
		return nil, fmt.Errorf("%w: zlib stream wants a preset dictionary", ErrInflate)
	}
	z.src.Reset(stream[2:])
	if z.zr == nil {
		z.zr = flate.NewReader(&z.src)
	} else if err := z.zr.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInflate, err)
	}
	n, err := io.ReadFull(z.zr, out)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: inflated %d bytes, header declares %d", ErrInflate, n, ulen)
		}
		return nil, fmt.Errorf("%w: %v", ErrInflate, err)
	}
	// The deflate stream must end exactly here.
	var one [1]byte
	m, err := z.zr.Read(one[:])
	if m > 0 {
		return nil, fmt.Errorf("%w: inflates past its declared %d bytes", ErrTooLarge, ulen)
	}
	if err != io.EOF {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, fmt.Errorf("%w: %v", ErrInflate, err)
	}
	// The flate reader reads byte by byte from a bytes.Reader and so stops
	// at the end of the deflate stream: the Adler-32 trailer follows.
	var sum [4]byte
	if _, err := io.ReadFull(&z.src, sum[:]); err != nil {
		return nil, fmt.Errorf("%w: zlib stream lacks its checksum", ErrInflate)
	}
	if binary.BigEndian.Uint32(sum[:]) != adler32(out) {
		return nil, fmt.Errorf("%w: zlib checksum mismatch", ErrInflate)
	}
	return out, nil
}

// adler32 returns the Adler-32 checksum of p. It is hand-written because
// hash/adler32 adds byte by byte in one dependency chain; this folds eight
// bytes per step into both sums (s2 gains 8·s1 plus the bytes weighted 8..1)
// and takes the modulus only every 4 MiB, which 64-bit sums allow.
func adler32(p []byte) uint32 {
	const mod = 65521
	s1, s2 := uint64(1), uint64(0)
	for len(p) > 0 {
		q := p[:min(len(p), 4<<20)]
		p = p[len(q):]
		for len(q) >= 8 {
			b0, b1, b2, b3 := uint64(q[0]), uint64(q[1]), uint64(q[2]), uint64(q[3])
			b4, b5, b6, b7 := uint64(q[4]), uint64(q[5]), uint64(q[6]), uint64(q[7])
			s2 += 8*s1 + 8*b0 + 7*b1 + 6*b2 + 5*b3 + 4*b4 + 3*b5 + 2*b6 + b7
			s1 += b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7
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

// deflater compresses container bodies into ZLIB bodies, reusing its state.
type deflater struct {
	level int
	zw    *zlib.Writer
	out   appendWriter
}

// deflate appends the ZLIB body of src (length prefix and zlib stream) to dst.
func (z *deflater) deflate(dst, src []byte) ([]byte, error) {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(src)))
	z.out.b = dst
	if z.zw == nil {
		zw, err := zlib.NewWriterLevel(&z.out, z.level)
		if err != nil {
			return nil, fmt.Errorf("create zlib writer: %w", err)
		}
		z.zw = zw
	} else {
		z.zw.Reset(&z.out)
	}
	if _, err := z.zw.Write(src); err != nil {
		return nil, fmt.Errorf("deflate container: %w", err)
	}
	if err := z.zw.Close(); err != nil {
		return nil, fmt.Errorf("deflate container: %w", err)
	}
	dst = z.out.b
	z.out.b = nil
	return dst, nil
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
