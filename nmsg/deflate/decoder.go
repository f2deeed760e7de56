package deflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// Errors of Decoder.InflateZlib. Each error returned wraps one of them.
var (
	ErrCorrupt  = errors.New("corrupt deflate stream")
	ErrTooLong  = errors.New("stream inflates past the output buffer")
	ErrShort    = errors.New("stream inflates short of the output buffer")
	ErrChecksum = errors.New("zlib checksum mismatch")
)

// Decoding tables: a root table indexed by the next rootBits bits of the
// input, whose entries either decode a symbol or point to a subtable for
// the rest of a longer codeword (as in zlib and libdeflate).
const (
	litRootBits  = 10
	distRootBits = 8
	preRootBits  = 7
	// Room for the root table and every subtable a complete code can
	// need: zlib's "enough" for 286 and 30 symbols of up to 15 bits with
	// these root sizes.
	litTableSize  = 1334
	distTableSize = 402
)

// A table entry packs:
//
//	bits 0–4   codeword bits to consume at this level
//	bits 8–12  extra bits after the codeword (subtable entries: its index bits)
//	bit 13     literal
//	bit 14     end of block
//	bit 15     pointer to a subtable
//	bit 7      invalid codeword
//	bits 16–31 literal byte, length or distance base, or subtable start
const (
	entryLiteral = 1 << 13
	entryEOB     = 1 << 14
	entrySub     = 1 << 15
	entryInvalid = 1 << 7
)

// Decoder inflates zlib streams into a buffer of the expected size. Its
// tables are reused from one stream to the next, so inflating allocates
// nothing. It is not safe for concurrent use.
type Decoder struct {
	lit  [litTableSize]uint32
	dist [distTableSize]uint32
	pre  [1 << preRootBits]uint32
	lens [numLitLen + numDist]uint8
	tb   tableBuilder
}

// fixed holds the decoding tables of the fixed Huffman codes.
var fixed = sync.OnceValue(func() *Decoder {
	d := new(Decoder)
	lit, dist := fixedLitLenLens(), fixedDistLens()
	if !d.tb.build(d.lit[:], lit[:], litRootBits, litLenEntry, true) || !d.tb.build(d.dist[:], dist[:], distRootBits, distEntry, true) {
		panic("deflate: fixed Huffman tables do not build")
	}
	return d
})

// InflateZlib inflates the zlib stream src into out, which it must fill
// exactly, and checks the stream's Adler-32. It never writes past
// len(out): a stream that would is refused with ErrTooLong as soon as it
// tries, so the size of out bounds the work and memory a hostile stream
// can cost. Bytes after the checksum are ignored.
func (d *Decoder) InflateZlib(out, src []byte) error {
	if len(src) < 2 {
		return fmt.Errorf("%w: zlib stream of %d bytes", ErrCorrupt, len(src))
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 {
		return fmt.Errorf("%w: bad zlib header %02x%02x", ErrCorrupt, cmf, flg)
	}
	if flg&0x20 != 0 {
		return fmt.Errorf("%w: zlib stream wants a preset dictionary", ErrCorrupt)
	}
	end, err := d.inflate(out, src[2:])
	if err != nil {
		return err
	}
	tail := src[2+end:]
	if len(tail) < 4 {
		return fmt.Errorf("%w: zlib stream lacks its checksum", ErrCorrupt)
	}
	if binary.BigEndian.Uint32(tail) != Adler32(out) {
		return ErrChecksum
	}
	return nil
}

// bitReader reads a deflate stream LSB first through a 64-bit buffer.
// While 8 bytes of input remain it refills with one load (the bits above
// nbits are then the next input bits, and reloading them changes
// nothing); near the end it reads byte by byte, and past the end it feeds
// zero bytes, counted in over, which the caller checks.
type bitReader struct {
	in    []byte
	pos   int
	buf   uint64
	nbits uint
	over  int
}

func (r *bitReader) refill() {
	if r.pos+8 <= len(r.in) {
		r.buf |= binary.LittleEndian.Uint64(r.in[r.pos:]) << (r.nbits & 63)
		r.pos += int(63-r.nbits) >> 3
		r.nbits |= 56
		return
	}
	for r.nbits <= 56 {
		if r.pos < len(r.in) {
			r.buf |= uint64(r.in[r.pos]) << (r.nbits & 63)
			r.pos++
		} else {
			r.over++
		}
		r.nbits += 8
	}
}

// bits returns the next n (<= 32) bits without consuming them.
func (r *bitReader) bits(n uint) uint32 { return uint32(r.buf) & (1<<n - 1) }

func (r *bitReader) consume(n uint) {
	r.buf >>= n & 63
	r.nbits -= n
}

// overrun reports whether bits past the end of the input were consumed.
func (r *bitReader) overrun() bool { return r.over > int(r.nbits>>3) }

// bytePos returns the offset of the first input byte not yet consumed,
// after dropping the bits up to a byte boundary.
func (r *bitReader) bytePos() int {
	r.consume(r.nbits & 7)
	return r.pos + r.over - int(r.nbits>>3)
}

// inflate decodes the raw deflate stream in into out and returns the
// length of the stream.
func (d *Decoder) inflate(out, in []byte) (int, error) {
	r := bitReader{in: in}
	o := 0
	for {
		r.refill()
		final := r.bits(1)
		typ := r.bits(3) >> 1
		r.consume(3)
		var err error
		switch typ {
		case blockStored:
			o, err = d.stored(&r, out, o)
		case blockFixed:
			f := fixed()
			o, err = d.huffman(&r, out, o, &f.lit, &f.dist)
		case blockDynamic:
			if err = d.readHeader(&r); err == nil {
				o, err = d.huffman(&r, out, o, &d.lit, &d.dist)
			}
		default:
			err = fmt.Errorf("%w: block type 3", ErrCorrupt)
		}
		if err != nil {
			return 0, err
		}
		if r.overrun() {
			return 0, fmt.Errorf("%w: stream truncated", ErrCorrupt)
		}
		if final == 1 {
			break
		}
	}
	if o != len(out) {
		return 0, fmt.Errorf("%w: %d bytes, want %d", ErrShort, o, len(out))
	}
	return r.bytePos(), nil
}

func (d *Decoder) stored(r *bitReader, out []byte, o int) (int, error) {
	p := r.bytePos()
	if p+4 > len(r.in) {
		return 0, fmt.Errorf("%w: stored block truncated", ErrCorrupt)
	}
	n := int(binary.LittleEndian.Uint16(r.in[p:]))
	if binary.LittleEndian.Uint16(r.in[p+2:]) != ^uint16(n) {
		return 0, fmt.Errorf("%w: stored block length check", ErrCorrupt)
	}
	p += 4
	if p+n > len(r.in) {
		return 0, fmt.Errorf("%w: stored block truncated", ErrCorrupt)
	}
	if o+n > len(out) {
		return 0, ErrTooLong
	}
	copy(out[o:], r.in[p:p+n])
	*r = bitReader{in: r.in, pos: p + n}
	return o + n, nil
}

// readHeader reads the code lengths of a dynamic block and builds its
// tables.
func (d *Decoder) readHeader(r *bitReader) error {
	r.refill()
	nlit := int(r.bits(5)) + 257
	r.consume(5)
	ndist := int(r.bits(5)) + 1
	r.consume(5)
	npre := int(r.bits(4)) + 4
	r.consume(4)
	if nlit > numLitLen || ndist > numDist {
		return fmt.Errorf("%w: %d literal/length and %d distance codes", ErrCorrupt, nlit, ndist)
	}
	var preLens [numPrecode]uint8
	for i := range npre {
		if i%16 == 0 {
			r.refill()
		}
		preLens[precodeOrder[i]] = uint8(r.bits(3))
		r.consume(3)
	}
	if !d.tb.build(d.pre[:], preLens[:], preRootBits, preEntry, false) {
		return fmt.Errorf("%w: bad code length code", ErrCorrupt)
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		r.refill()
		e := d.pre[r.bits(preRootBits)]
		if e&entryInvalid != 0 {
			return fmt.Errorf("%w: bad code length symbol", ErrCorrupt)
		}
		r.consume(uint(e & 31))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("%w: repeat of no code length", ErrCorrupt)
			}
			val, rep = lens[i-1], 3+int(r.bits(2))
			r.consume(2)
		case 17:
			rep = 3 + int(r.bits(3))
			r.consume(3)
		default:
			rep = 11 + int(r.bits(7))
			r.consume(7)
		}
		if i+rep > len(lens) {
			return fmt.Errorf("%w: code lengths overflow", ErrCorrupt)
		}
		for k := range rep {
			lens[i+k] = val
		}
		i += rep
	}
	if r.overrun() {
		return fmt.Errorf("%w: stream truncated", ErrCorrupt)
	}
	if lens[endOfBlock] == 0 {
		return fmt.Errorf("%w: no end-of-block code", ErrCorrupt)
	}
	if !d.tb.build(d.lit[:], lens[:nlit], litRootBits, litLenEntry, true) {
		return fmt.Errorf("%w: bad literal/length code", ErrCorrupt)
	}
	if !d.tb.build(d.dist[:], lens[nlit:], distRootBits, distEntry, true) {
		return fmt.Errorf("%w: bad distance code", ErrCorrupt)
	}
	return nil
}

// Entries of the three alphabets, without the codeword length.
func litLenEntry(sym int) uint32 {
	switch {
	case sym < 256:
		return entryLiteral | uint32(sym)<<16
	case sym == endOfBlock:
		return entryEOB
	case sym < numLitLen:
		s := sym - 257
		return uint32(lengthExtra[s])<<8 | uint32(lengthBase[s])<<16
	}
	return entryInvalid // 286, 287: only in the fixed code
}

func distEntry(sym int) uint32 {
	if sym < numDist {
		return uint32(distExtra[sym])<<8 | uint32(distBase[sym])<<16
	}
	return entryInvalid // 30, 31: only in the fixed code
}

func preEntry(sym int) uint32 { return uint32(sym) << 16 }

// fastSlack is the output room the fast loop needs per step: a match of
// 258 bytes copied 8 at a time, or three literals.
const fastSlack = maxMatch + 8

// huffman decodes the symbols of a Huffman block up to its end. The fast
// loop runs while 8 input bytes and fastSlack output bytes remain: one
// refill then covers a literal/length codeword with its extra bits and a
// distance codeword with its (at most 48 bits), or three literals, and
// matches are copied 8 bytes at a time. The rest goes byte by byte.
func (d *Decoder) huffman(r *bitReader, out []byte, o int, lit *[litTableSize]uint32, dist *[distTableSize]uint32) (int, error) {
	in := r.in
	pos, buf, nbits := r.pos, r.buf, r.nbits
	for pos+8 <= len(in) && o+fastSlack <= len(out) {
		buf |= binary.LittleEndian.Uint64(in[pos:]) << (nbits & 63)
		pos += int(63-nbits) >> 3
		nbits |= 56
		e := lit[buf&(1<<litRootBits-1)]
		if e&entryLiteral != 0 {
			// Up to three literals from the root table per refill.
			for k := 0; ; k++ {
				buf >>= e & 31
				nbits -= uint(e & 31)
				out[o] = byte(e >> 16)
				o++
				e = lit[buf&(1<<litRootBits-1)]
				if k == 2 || e&entryLiteral == 0 {
					break
				}
			}
			continue
		}
		if e&entrySub != 0 {
			buf >>= litRootBits
			nbits -= litRootBits
			e = lit[e>>16+uint32(buf)&(1<<(e>>8&31)-1)]
			if e&entryLiteral != 0 {
				buf >>= e & 31
				nbits -= uint(e & 31)
				out[o] = byte(e >> 16)
				o++
				continue
			}
		}
		if e&(entryEOB|entryInvalid) != 0 {
			buf >>= e & 31
			nbits -= uint(e & 31)
			r.pos, r.buf, r.nbits = pos, buf, nbits
			if e&entryInvalid != 0 {
				return 0, fmt.Errorf("%w: bad literal/length symbol", ErrCorrupt)
			}
			return o, nil
		}
		n, extra := e&31, e>>8&31
		length := int(e>>16 + uint32(buf>>n)&(1<<extra-1))
		buf >>= n + extra
		nbits -= uint(n + extra)
		e = dist[buf&(1<<distRootBits-1)]
		if e&entrySub != 0 {
			buf >>= distRootBits
			nbits -= distRootBits
			e = dist[e>>16+uint32(buf)&(1<<(e>>8&31)-1)]
		}
		if e&entryInvalid != 0 {
			return 0, fmt.Errorf("%w: bad distance symbol", ErrCorrupt)
		}
		n, extra = e&31, e>>8&31
		dst := int(e>>16 + uint32(buf>>n)&(1<<extra-1))
		buf >>= n + extra
		nbits -= uint(n + extra)
		if dst > o {
			return 0, fmt.Errorf("%w: distance %d past the start of the output", ErrCorrupt, dst)
		}
		from := o - dst
		switch {
		case dst >= 8:
			for k := 0; k < length; k += 8 {
				binary.LittleEndian.PutUint64(out[o+k:], binary.LittleEndian.Uint64(out[from+k:]))
			}
		case dst == 1:
			v := uint64(out[from]) * 0x0101010101010101
			for k := 0; k < length; k += 8 {
				binary.LittleEndian.PutUint64(out[o+k:], v)
			}
		default:
			for k := range length {
				out[o+k] = out[from+k]
			}
		}
		o += length
	}
	r.pos, r.buf, r.nbits = pos, buf, nbits
	return d.huffmanTail(r, out, o, lit, dist)
}

// huffmanTail decodes the end of a block symbol by symbol, checking the
// input and output bounds at each.
func (d *Decoder) huffmanTail(r *bitReader, out []byte, o int, lit *[litTableSize]uint32, dist *[distTableSize]uint32) (int, error) {
	for {
		r.refill()
		if r.over > 8 {
			// More zero bytes past the end than the buffer holds: some
			// were consumed.
			return 0, fmt.Errorf("%w: stream truncated", ErrCorrupt)
		}
		e := lit[r.bits(litRootBits)]
		if e&entrySub != 0 {
			r.consume(litRootBits)
			e = lit[e>>16+r.bits(uint(e>>8)&31)]
		}
		r.consume(uint(e & 31))
		if e&entryLiteral != 0 {
			if o >= len(out) {
				return 0, ErrTooLong
			}
			out[o] = byte(e >> 16)
			o++
			continue
		}
		if e&(entryEOB|entryInvalid) != 0 {
			if e&entryInvalid != 0 {
				return 0, fmt.Errorf("%w: bad literal/length symbol", ErrCorrupt)
			}
			return o, nil
		}
		extra := uint(e>>8) & 31
		length := int(e>>16 + r.bits(extra))
		r.consume(extra)
		e = dist[r.bits(distRootBits)]
		if e&entrySub != 0 {
			r.consume(distRootBits)
			e = dist[e>>16+r.bits(uint(e>>8)&31)]
		}
		if e&entryInvalid != 0 {
			return 0, fmt.Errorf("%w: bad distance symbol", ErrCorrupt)
		}
		r.consume(uint(e & 31))
		extra = uint(e>>8) & 31
		dst := int(e>>16 + r.bits(extra))
		r.consume(extra)
		if dst > o {
			return 0, fmt.Errorf("%w: distance %d past the start of the output", ErrCorrupt, dst)
		}
		if o+length > len(out) {
			return 0, ErrTooLong
		}
		for k := range length {
			out[o+k] = out[o+k-dst]
		}
		o += length
	}
}

// tableBuilder builds decoding tables from code lengths.
type tableBuilder struct {
	count  [maxCodeBits + 1]uint16
	offs   [maxCodeBits + 2]uint16
	sorted [numLitLen + numDist]uint16
	subLen [1 << litRootBits]uint8 // longest codeword below each root entry
	subAt  [1 << litRootBits]uint16
}

// build fills table (root of rootBits, then subtables) for the code of
// lens, with entry(sym) giving each symbol's entry. It returns false for
// an over-subscribed code, and for an incomplete one unless sparse is set
// and the code is empty or a single codeword of one bit (as zlib allows
// for literal/length and distance codes); entries that no codeword
// reaches are invalid.
func (b *tableBuilder) build(table []uint32, lens []uint8, rootBits uint, entry func(int) uint32, sparse bool) bool {
	clear(b.count[:])
	for _, l := range lens {
		b.count[l]++
	}
	b.count[0] = 0
	left := 1
	maxLen := 0
	for l := 1; l <= maxCodeBits; l++ {
		left = left<<1 - int(b.count[l])
		if left < 0 {
			return false
		}
		if b.count[l] != 0 {
			maxLen = l
		}
	}
	if left > 0 {
		if !sparse || maxLen > 1 {
			return false
		}
		for i := range table[:1<<rootBits] {
			table[i] = entryInvalid
		}
	}
	// Sort the symbols by codeword length, then value: canonical order.
	b.offs[1] = 0
	for l := 1; l <= maxCodeBits; l++ {
		b.offs[l+1] = b.offs[l] + b.count[l]
	}
	for s, l := range lens {
		if l != 0 {
			b.sorted[b.offs[l]] = uint16(s)
			b.offs[l]++
		}
	}
	rootSize := 1 << rootBits
	clear(b.subLen[:rootSize])
	code := 0 // canonical codeword of the current symbol
	idx := 0  // index into sorted
	// First the codes that fit the root table, then, per root prefix, a
	// subtable as long as the longest codeword under it needs.
	for l := 1; l <= maxLen; l++ {
		for k := 0; k < int(b.count[l]); k++ {
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			if uint(l) <= rootBits {
				e := entry(int(b.sorted[idx])) | uint32(l)
				for i := rev; i < rootSize; i += 1 << l {
					table[i] = e
				}
			} else {
				p := rev & (rootSize - 1)
				b.subLen[p] = uint8(l)
			}
			code++
			idx++
		}
		code <<= 1
	}
	next := rootSize
	for p := range rootSize {
		if sl := uint(b.subLen[p]); sl != 0 {
			sub := sl - rootBits
			if next+1<<sub > len(table) {
				return false
			}
			b.subAt[p] = uint16(next)
			table[p] = entrySub | uint32(sub)<<8 | uint32(next)<<16 | uint32(rootBits)
			for i := range table[next : next+1<<sub] {
				table[next+i] = entryInvalid
			}
			next += 1 << sub
		}
	}
	code, idx = 0, 0
	for l := 1; l <= maxLen; l++ {
		for k := 0; k < int(b.count[l]); k++ {
			if uint(l) > rootBits {
				rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
				p := rev & (rootSize - 1)
				sub := uint(b.subLen[p]) - rootBits
				e := entry(int(b.sorted[idx])) | uint32(l-int(rootBits))
				at := int(b.subAt[p])
				for i := rev >> rootBits; i < 1<<sub; i += 1 << (l - int(rootBits)) {
					table[at+i] = e
				}
			}
			code++
			idx++
		}
		code <<= 1
	}
	return true
}
