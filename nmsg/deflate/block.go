package deflate

import (
	"encoding/binary"
	"slices"
)

// maxLitLenBits limits literal/length codewords to 14 bits (deflate allows
// 15), as libdeflate does: four literals then fit the 64-bit bit buffer
// between flushes. It costs next to nothing in size.
const maxLitLenBits = 14

// Block types (BTYPE).
const (
	blockStored  = 0
	blockFixed   = 1
	blockDynamic = 2
)

// bitWriter appends bits LSB first.
type bitWriter struct {
	out   []byte
	bits  uint64
	nbits uint
}

// put adds the n low bits of v (n <= 32).
func (w *bitWriter) put(v uint32, n uint) {
	w.bits |= uint64(v) << (w.nbits & 63)
	w.nbits += n
	if w.nbits >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.bits))
		w.bits >>= 32
		w.nbits -= 32
	}
}

// align pads to a byte boundary and writes out every pending bit.
func (w *bitWriter) align() {
	for w.nbits > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= min(w.nbits, 8)
	}
	w.bits, w.nbits = 0, 0
}

func (w *bitWriter) finish() []byte {
	w.align()
	return w.out
}

var (
	fixedLit                      = fixedLitLenLens()
	fixedDist                     = fixedDistLens()
	fixedLitCodes, fixedDistCodes = func() (l [288]uint16, d [32]uint16) {
		canonicalCodes(fixedLit[:], l[:])
		canonicalCodes(fixedDist[:], d[:])
		return l, d
	}()
)

// flushBlock writes block (whose symbols are seqs and the frequencies
// gathered) as the cheapest of a dynamic, fixed or stored block.
func (e *Encoder) flushBlock(block []byte, seqs []seq, final bool) {
	e.litFreq[endOfBlock]++
	e.hb.build(e.litFreq[:], e.litLens[:numLitLen], e.litCodes[:numLitLen], maxLitLenBits)
	e.hb.build(e.distFreq[:], e.dstLens[:numDist], e.dstCodes[:numDist], maxCodeBits)
	e.precodeHeader()

	dynamic := uint64(5 + 5 + 4 + 3*e.nPre)
	for s, f := range e.preFreq {
		dynamic += uint64(f) * uint64(e.preLens[s]+precodeExtra[s])
	}
	var fixed uint64
	for s := range numLitLen {
		f := uint64(e.litFreq[s])
		extra := uint64(0)
		if s > endOfBlock {
			extra = uint64(lengthExtra[s-257])
		}
		dynamic += f * (uint64(e.litLens[s]) + extra)
		fixed += f * (uint64(fixedLit[s]) + extra)
	}
	for s := range numDist {
		f := uint64(e.distFreq[s])
		dynamic += f * uint64(e.dstLens[s]+distExtra[s])
		fixed += f * uint64(5+distExtra[s])
	}
	stored := uint64((-(e.bw.nbits + 3))&7) + 32 + 40*uint64((len(block)+0xfffe)/0xffff-1) + 8*uint64(len(block))
	if len(block) == 0 {
		stored = 1 << 62 // a final empty block: fixed is 10 bits
	}

	bfinal := uint32(0)
	if final {
		bfinal = 1
	}
	switch {
	case dynamic < min(fixed, stored):
		e.bw.out = slices.Grow(e.bw.out, int(dynamic/8)+16)
		e.bw.put(bfinal|blockDynamic<<1, 3)
		e.writeHeader()
		e.writeSeqs(block, seqs, e.litLens[:], e.litCodes[:], e.dstLens[:], e.dstCodes[:])
	case fixed <= stored:
		e.bw.out = slices.Grow(e.bw.out, int(fixed/8)+16)
		e.bw.put(bfinal|blockFixed<<1, 3)
		e.writeSeqs(block, seqs, fixedLit[:], fixedLitCodes[:], fixedDist[:], fixedDistCodes[:])
	default:
		e.writeStored(block, bfinal)
	}
}

// precodeExtra is the number of extra bits after each precode symbol.
var precodeExtra = [numPrecode]uint8{16: 2, 17: 3, 18: 7}

// precodeHeader run-length codes the litlen and distance code lengths
// with the precode (RFC 1951 §3.2.7) into e.items and builds the precode.
func (e *Encoder) precodeHeader() {
	e.nLit = numLitLen
	for e.nLit > 257 && e.litLens[e.nLit-1] == 0 {
		e.nLit--
	}
	e.nDst = numDist
	for e.nDst > 1 && e.dstLens[e.nDst-1] == 0 {
		e.nDst--
	}
	var all [numLitLen + numDist]uint8
	n := copy(all[:], e.litLens[:e.nLit])
	n += copy(all[n:], e.dstLens[:e.nDst])
	lens := all[:n]
	clear(e.preFreq[:])
	k := 0
	add := func(sym, extra uint32) {
		e.items[k] = sym | extra<<5
		e.preFreq[sym]++
		k++
	}
	for i := 0; i < len(lens); {
		l := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				add(18, uint32(r-11))
				run -= r
			}
			if run >= 3 {
				add(17, uint32(run-3))
				run = 0
			}
		} else if run >= 4 {
			add(uint32(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				add(16, uint32(r-3))
				run -= r
			}
		}
		for ; run > 0; run-- {
			add(uint32(l), 0)
		}
	}
	e.nItems = k
	e.hb.build(e.preFreq[:], e.preLens[:], e.preCodes[:], maxPreBits)
	e.nPre = numPrecode
	for e.nPre > 4 && e.preLens[precodeOrder[e.nPre-1]] == 0 {
		e.nPre--
	}
}

func (e *Encoder) writeHeader() {
	w := &e.bw
	w.put(uint32(e.nLit-257), 5)
	w.put(uint32(e.nDst-1), 5)
	w.put(uint32(e.nPre-4), 4)
	for _, s := range precodeOrder[:e.nPre] {
		w.put(uint32(e.preLens[s]), 3)
	}
	for _, it := range e.items[:e.nItems] {
		s := it & 31
		w.put(uint32(e.preCodes[s]), uint(e.preLens[s]))
		if x := precodeExtra[s]; x != 0 {
			w.put(it>>5, uint(x))
		}
	}
}

// writeSeqs writes the literals and matches of seqs with the given codes,
// then the end of block. The bit buffer is kept in locals and flushed a
// word at a time: this is the inner loop of the encoder's output. Shift
// counts are masked (they never exceed 63) so that the compiler emits
// plain shifts.
func (e *Encoder) writeSeqs(block []byte, seqs []seq, litLens []uint8, litCodes []uint16, dstLens []uint8, dstCodes []uint16) {
	var litTab [288]uint32 // codeword | length<<16
	for s := range numLitLen {
		litTab[s] = uint32(litCodes[s]) | uint32(litLens[s])<<16
	}
	var lenTab [maxMatch + 1]uint32 // codeword and extra bits | total length<<24
	for l := minMatch; l <= maxMatch; l++ {
		slot := lengthSlot[l]
		c := litTab[257+int(slot)]
		cl := c >> 16
		lenTab[l] = (c&0xffff | uint32(l-int(lengthBase[slot]))<<cl) | (cl+uint32(lengthExtra[slot]))<<24
	}
	var dstTab [numDist]uint32
	for s := range numDist {
		dstTab[s] = uint32(dstCodes[s]) | uint32(dstLens[s])<<16
	}

	w := &e.bw
	out := w.out[:cap(w.out)]
	pos := len(w.out)
	bitbuf, nb := w.bits, w.nbits
	binary.LittleEndian.PutUint64(out[pos:], bitbuf)
	pos += int(nb >> 3)
	bitbuf >>= nb & 56
	nb &= 7
	p := 0
	for _, sq := range seqs {
		lits := block[p : p+int(sq.litrun)]
		p += int(sq.litrun)
		for len(lits) > 0 {
			k := min(len(lits), 4)
			for _, b := range lits[:k] {
				c := litTab[b]
				bitbuf |= uint64(c&0xffff) << (nb & 63)
				nb += uint(c >> 16)
			}
			binary.LittleEndian.PutUint64(out[pos:], bitbuf)
			pos += int(nb >> 3)
			bitbuf >>= nb & 56
			nb &= 7
			lits = lits[k:]
		}
		if sq.length == 0 {
			break
		}
		p += int(sq.length)
		c := lenTab[sq.length]
		bitbuf |= uint64(c&0xffffff) << (nb & 63)
		nb += uint(c >> 24)
		d := uint32(sq.dist)
		slot := distSlot(d)
		c = dstTab[slot]
		bitbuf |= uint64(c&0xffff) << (nb & 63)
		nb += uint(c >> 16)
		bitbuf |= uint64(d-uint32(distBase[slot])) << (nb & 63)
		nb += uint(distExtra[slot])
		binary.LittleEndian.PutUint64(out[pos:], bitbuf)
		pos += int(nb >> 3)
		bitbuf >>= nb & 56
		nb &= 7
	}
	c := litTab[endOfBlock]
	bitbuf |= uint64(c&0xffff) << (nb & 63)
	nb += uint(c >> 16)
	w.out = out[:pos]
	w.bits, w.nbits = bitbuf, nb
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= 8
	}
}

// writeStored writes block as stored blocks of at most 65535 bytes.
func (e *Encoder) writeStored(block []byte, bfinal uint32) {
	for {
		n := min(len(block), 0xffff)
		last := uint32(0)
		if n == len(block) {
			last = bfinal
		}
		e.bw.put(last|blockStored<<1, 3)
		e.bw.align()
		e.bw.out = binary.LittleEndian.AppendUint16(e.bw.out, uint16(n))
		e.bw.out = binary.LittleEndian.AppendUint16(e.bw.out, ^uint16(n))
		e.bw.out = append(e.bw.out, block[:n]...)
		block = block[n:]
		if len(block) == 0 {
			return
		}
	}
}
