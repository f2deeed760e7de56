package nmsg

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/siecap/siecap/nmsg/deflate"
)

// ZlibLevel is the default deflate level (1 fastest to 9 smallest) of the
// package's own encoder, nmsg/deflate. At 6 its output on SIE containers
// is within 1% of C zlib's at level 6 (nmsgtool's setting) in a third of
// the CPU time; see docs/benchmarks.md.
const ZlibLevel = deflate.DefaultLevel

// inflater inflates ZLIB bodies (a 4-byte big-endian uncompressed length,
// then a zlib stream) into a reused buffer with nmsg/deflate, which
// decodes straight into that buffer and stops at its declared size.
type inflater struct {
	dec *deflate.Decoder
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
	if z.dec == nil {
		z.dec = new(deflate.Decoder)
	}
	if cap(z.out) < int(ulen) {
		z.out = make([]byte, ulen, max(int(ulen), 64<<10))
	}
	out := z.out[:ulen]
	switch err := z.dec.InflateZlib(out, body[4:]); {
	case err == nil:
		return out, nil
	case errors.Is(err, deflate.ErrTooLong):
		return nil, fmt.Errorf("%w: inflates past its declared %d bytes", ErrTooLarge, ulen)
	case errors.Is(err, deflate.ErrShort):
		return nil, fmt.Errorf("%w: %v (declared %d)", ErrInflate, err, ulen)
	default:
		return nil, fmt.Errorf("%w: %v", ErrInflate, err)
	}
}

// deflater compresses container bodies into ZLIB bodies with nmsg/deflate,
// reusing its state.
type deflater struct {
	level int
	enc   *deflate.Encoder
}

// deflate appends the ZLIB body of src (length prefix and zlib stream) to dst.
func (z *deflater) deflate(dst, src []byte) ([]byte, error) {
	if z.enc == nil {
		z.enc = deflate.NewEncoder(z.level)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(src)))
	return z.enc.AppendZlib(dst, src), nil
}
