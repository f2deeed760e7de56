package deflate

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The match finder hashes 4 bytes into chains through the window. It finds
// no 3-byte matches: on NMSG containers they cost more than they save
// (they displace longer matches that start a byte later).
const (
	hashBits   = 15
	windowMask = windowSize - 1
	minSearch  = 4 // shortest match searched for
)

// Block splitting, after libdeflate: a block is at least minBlock bytes
// (unless the input ends), ends near softMaxBlock, and otherwise ends
// where the statistics of its latest symbols part from the block's.
const (
	minBlock        = 10000
	softMaxBlock    = 300000
	checkEvery      = 4096 // bytes between block split checks
	obsPerCheck     = 512  // libdeflate's unit for the split threshold
	numObsTypes     = 10
	literalObsTypes = 8
)

// params tune the matcher. At each position it looks at up to depth
// earlier positions with the same hash, at most longDepth more once it
// has a match of long bytes (deeper candidates rarely beat such a match),
// and stops at a match of nice bytes. While the match found is shorter
// than lazy it also searches the next position (lazy evaluation), with
// half the depth, a quarter once the match is good long.
type params struct {
	depth, nice, lazy, good, long, longDepth int
}

// levels map zlib's levels 1–9 to matcher settings; lazy 0 is greedy.
// Level 6 is tuned on SIE containers: C zlib's level 6 size within 1% at
// about a third of its CPU time (docs/benchmarks.md).
var levels = [10]params{
	1: {depth: 4, nice: 32, lazy: 0, good: 4, long: 16, longDepth: 2},
	2: {depth: 8, nice: 32, lazy: 0, good: 4, long: 16, longDepth: 4},
	3: {depth: 16, nice: 64, lazy: 0, good: 4, long: 16, longDepth: 4},
	4: {depth: 16, nice: 64, lazy: 6, good: 4, long: 16, longDepth: 4},
	5: {depth: 32, nice: 128, lazy: 6, good: 4, long: 16, longDepth: 8},
	6: {depth: 48, nice: 128, lazy: 6, good: 4, long: 16, longDepth: 8},
	7: {depth: 96, nice: 258, lazy: 16, good: 8, long: 32, longDepth: 16},
	8: {depth: 256, nice: 258, lazy: 258, good: 16, long: 258, longDepth: 256},
	9: {depth: 1024, nice: 258, lazy: 258, good: 32, long: 258, longDepth: 1024},
}

// DefaultLevel is the level NewEncoder uses for a level out of range.
const DefaultLevel = 6

// seq is a run of literals followed by a match (length 0: end of block).
type seq struct {
	litrun uint32
	length uint16
	dist   uint16
}

// Encoder compresses whole buffers into zlib streams (RFC 1950 around RFC
// 1951 deflate). It keeps its tables between calls and allocates only to
// grow them, so compressing one NMSG container after another makes no
// garbage. It is not safe for concurrent use.
type Encoder struct {
	p params

	// Match finder. head holds, per hash, the latest position plus base;
	// base moves past every input by more than the window, so entries left
	// from earlier inputs are out of reach without clearing the table.
	// prev holds, per position (modulo the window), the distance back to
	// the previous position with the same hash, 0 if none is in reach.
	head [1 << hashBits]int32
	prev [windowSize]uint16
	base int32
	src  unsafe.Pointer // the input being compressed, n bytes
	n    int

	seqs     []seq
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32
	obs      [numObsTypes]uint32 // block split statistics at the last check
	nObs     uint32

	hb       huffBuilder
	litLens  [288]uint8
	litCodes [288]uint16
	dstLens  [32]uint8
	dstCodes [32]uint16
	preFreq  [numPrecode]uint32
	preLens  [numPrecode]uint8
	preCodes [numPrecode]uint16
	items    [numLitLen + numDist]uint32
	nItems   int
	nLit     int
	nDst     int
	nPre     int

	bw bitWriter
}

// NewEncoder returns an Encoder for level 1 (fastest) to 9 (smallest);
// other values mean DefaultLevel.
func NewEncoder(level int) *Encoder {
	if level < 1 || level > 9 {
		level = DefaultLevel
	}
	return &Encoder{p: levels[level], base: windowSize + 1}
}

// AppendZlib appends the zlib stream of src to dst.
func (e *Encoder) AppendZlib(dst, src []byte) []byte {
	// CMF 0x78: deflate with a 32 KiB window; FLG 0x9c: default level, no
	// dictionary, check bits. C zlib writes this header by default.
	dst = append(dst, 0x78, 0x9c)
	dst = e.AppendDeflate(dst, src)
	return binary.BigEndian.AppendUint32(dst, Adler32(src))
}

// AppendDeflate appends the raw deflate stream of src to dst.
func (e *Encoder) AppendDeflate(dst, src []byte) []byte {
	if int64(e.base)+int64(len(src))+2*windowSize > 1<<31-1 {
		clear(e.head[:])
		e.base = windowSize + 1
	}
	e.bw = bitWriter{out: dst}
	e.src, e.n = unsafe.Pointer(unsafe.SliceData(src)), len(src)
	e.compress(src)
	e.src, e.n = nil, 0
	e.base += int32(len(src)) + windowSize + 1
	out := e.bw.finish()
	e.bw = bitWriter{}
	return out
}

// compress parses src into literals and matches, block by block, and
// writes each block.
func (e *Encoder) compress(src []byte) {
	n := len(src)
	if cap(e.seqs) < softMaxBlock/minSearch+maxMatch+2 {
		e.seqs = make([]seq, softMaxBlock/minSearch+maxMatch+2)
	}
	lazy, good := e.p.lazy, e.p.good
	i := 0
	for {
		start := i
		end := min(n, i+softMaxBlock)
		e.startBlock()
		nextCheck := i + minBlock
		seqs := e.seqs[:cap(e.seqs)]
		ns := 0
		litrun := uint32(0)
		for i < end {
			if i+minSearch > n {
				e.litFreq[src[i]]++
				litrun++
				i++
				continue
			}
			curLen, curDist := e.longestMatch(i, minSearch-1, e.p.depth)
			if curLen == 0 {
				e.litFreq[src[i]]++
				litrun++
				i++
			} else {
				// Lazy evaluation: while a longer match starts one byte
				// later, emit a literal and take that one instead.
				s := i        // where the match starts
				next := i + 1 // the first position not yet in the hash chains
				for curLen < lazy && s+1+minSearch <= n {
					depth := e.p.depth >> 1
					if curLen >= good {
						depth >>= 1
					}
					nextLen, nextDist := e.longestMatch(s+1, curLen, depth)
					next = s + 2
					if nextLen == 0 {
						break
					}
					e.litFreq[src[s]]++
					litrun++
					s++
					curLen, curDist = nextLen, nextDist
				}
				seqs[ns] = seq{litrun: litrun, length: uint16(curLen), dist: uint16(curDist)}
				ns++
				litrun = 0
				e.litFreq[257+int(lengthSlot[curLen])]++
				e.distFreq[distSlot(uint32(curDist))]++
				i = s + curLen
				e.insert(next, i)
			}
			if i >= nextCheck {
				nextCheck = i + checkEvery
				if n-i >= minBlock && e.endBlockCheck(i-start) {
					break
				}
			}
		}
		seqs[ns] = seq{litrun: litrun}
		e.flushBlock(src[start:i], seqs[:ns+1], i == n)
		if i == n {
			return
		}
	}
}

func (e *Encoder) startBlock() {
	clear(e.litFreq[:])
	clear(e.distFreq[:])
	clear(e.obs[:])
	e.nObs = 0
}

// obsType is libdeflate's observation type of a literal: its top two bits
// and its low bit.
var obsType = func() (t [256]uint8) {
	for b := range t {
		t[b] = uint8((b>>5)&6 | b&1)
	}
	return t
}()

// observe sums the block's symbol counts by observation type: the eight
// literal types, then matches shorter than 9 bytes, then longer ones.
func (e *Encoder) observe(o *[numObsTypes]uint32) {
	*o = [numObsTypes]uint32{}
	for b, f := range e.litFreq[:256] {
		o[obsType[b]] += f
	}
	short := 257 + int(lengthSlot[9])
	for _, f := range e.litFreq[257:short] {
		o[literalObsTypes] += f
	}
	for _, f := range e.litFreq[short:numLitLen] {
		o[literalObsTypes+1] += f
	}
}

// endBlockCheck compares the symbols since the last check with the
// block's before it and says whether to end the block here: libdeflate's
// heuristic, the sum of the absolute differences of the observation
// types, scaled, plus a term that grows with the block length.
func (e *Encoder) endBlockCheck(blockLen int) bool {
	var all [numObsTypes]uint32
	e.observe(&all)
	var nAll uint32
	for _, v := range all {
		nAll += v
	}
	nNew := nAll - e.nObs
	if e.nObs > 0 && nNew > 0 {
		var delta uint64
		for k := range all {
			expected := uint64(e.obs[k]) * uint64(nNew)
			actual := uint64(all[k]-e.obs[k]) * uint64(e.nObs)
			if actual > expected {
				delta += actual - expected
			} else {
				delta += expected - actual
			}
		}
		// libdeflate, per 512 new observations:
		// delta + blockLen/4096·nObs >= 200·nObs.
		if delta*obsPerCheck/uint64(nNew)+uint64(blockLen/4096)*uint64(e.nObs) >= 200*uint64(e.nObs) {
			return true
		}
	}
	e.obs, e.nObs = all, nAll
	return false
}

func hash4(v uint32) uint32 { return (v * 0x1e35a7bd) >> (32 - hashBits) }

// longestMatch adds position p to the hash chains and returns the longest
// match there that is longer than best (length 0 if none), looking at up
// to depth candidates. p+4 <= e.n.
func (e *Encoder) longestMatch(p, best, depth int) (length, dist int) {
	cur := int32(p) + e.base
	pp := unsafe.Add(e.src, p)
	v := load32(pp, 0)
	h := hash4(v)
	d := int(cur - e.head[h])
	e.head[h] = cur
	if d >= windowSize {
		d = 0
	}
	e.prev[p&windowMask] = uint16(d)
	maxLen := min(maxMatch, e.n-p)
	nice := min(e.p.nice, maxLen)
	if best >= nice || d == 0 {
		return 0, 0
	}
	bestIn := best
	// A candidate can beat best only if it agrees with p on the four
	// bytes ending at index best: those are compared first.
	off := max(best-3, 0)
	want := load32(pp, off)
	for {
		qp := unsafe.Add(pp, -d)
		next := int(e.prev[(p-d)&windowMask])
		if load32(qp, off) == want && load32(qp, 0) == v {
			if l := matchLen(qp, pp, maxLen); l > best {
				best, dist = l, d
				if l >= nice {
					break
				}
				off = best - 3
				want = load32(pp, off)
				if best >= e.p.long {
					depth = min(depth, e.p.longDepth)
				}
			}
		}
		depth--
		d += next
		if next == 0 || d >= windowSize || depth <= 0 {
			break
		}
	}
	if best > bestIn {
		return best, dist
	}
	return 0, 0
}

// matchLen returns how many bytes at q and p agree, at most maxLen; the
// first four are known to. p+maxLen is within the input.
func matchLen(q, p unsafe.Pointer, maxLen int) int {
	l := 4
	for l+8 <= maxLen {
		if x := load64(p, l) ^ load64(q, l); x != 0 {
			return l + bits.TrailingZeros64(x)>>3
		}
		l += 8
	}
	for l < maxLen && *(*byte)(unsafe.Add(p, l)) == *(*byte)(unsafe.Add(q, l)) {
		l++
	}
	return l
}

// insert adds positions p..end-1 to the hash chains.
func (e *Encoder) insert(p, end int) {
	end = min(end, e.n-3)
	if p >= end {
		return
	}
	sp := e.src
	cur := int32(p) + e.base
	for ; p < end; p++ {
		h := hash4(load32(sp, p))
		d := cur - e.head[h]
		if d >= windowSize {
			d = 0
		}
		e.prev[p&windowMask] = uint16(d)
		e.head[h] = cur
		cur++
	}
}
