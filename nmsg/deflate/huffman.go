package deflate

import (
	"math/bits"
	"slices"
)

// huffBuilder builds length-limited canonical Huffman codes without
// allocating: its scratch space is sized for the largest alphabet.
type huffBuilder struct {
	sorted [numLitLen]uint64 // freq<<16 | symbol, then the tree
	syms   [numLitLen]uint16 // symbols by increasing frequency
	count  [maxCodeBits + 1]uint32
}

// build sets lens[s] for every symbol of freq (0 for unused symbols), no
// code longer than maxBits, and codes[s] to its codeword, bit-reversed for
// the LSB-first bit order of deflate. At least two symbols get a code, so
// that every code is complete (decoders reject most incomplete codes).
func (h *huffBuilder) build(freq []uint32, lens []uint8, codes []uint16, maxBits int) {
	n := 0
	for s, f := range freq {
		lens[s] = 0
		if f != 0 {
			h.sorted[n] = uint64(f)<<16 | uint64(s)
			n++
		}
	}
	switch n {
	case 0:
		lens[0], lens[1] = 1, 1
	case 1:
		s := int(h.sorted[0] & 0xffff)
		other := 0
		if s == 0 {
			other = 1
		}
		lens[s], lens[other] = 1, 1
	default:
		a := h.sorted[:n]
		slices.Sort(a)
		for i, v := range a {
			h.syms[i] = uint16(v)
		}
		h.lengths(a, maxBits)
		// Lengths go to symbols from the most frequent (last) down.
		j := n
		for l := 1; l <= maxBits; l++ {
			for k := h.count[l]; k > 0; k-- {
				j--
				lens[h.syms[j]] = uint8(l)
			}
		}
	}
	canonicalCodes(lens, codes)
}

// lengths computes optimal code lengths for the sorted frequencies in
// place (Moffat and Katajainen's algorithm), then limits them to maxBits,
// leaving in h.count the number of codes of each length.
func (h *huffBuilder) lengths(a []uint64, maxBits int) {
	n := len(a)
	for i := range a {
		a[i] >>= 16
	}
	// Phase 1: build the tree; internal nodes point at their parents.
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Phase 2: depths of the internal nodes.
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	// Phase 3: count the leaves at each depth, clamped to maxBits.
	clear(h.count[:])
	avail, used, depth := 1, 0, 0
	root = n - 2
	for avail > 0 {
		for root >= 0 && int(a[root]) == depth {
			used++
			root--
		}
		h.count[min(depth, maxBits)] += uint32(avail - used)
		avail, used = 2*used, 0
		depth++
	}
	// Restore the Kraft equality after clamping: take a leaf from the
	// longest length and move a shorter one down a level.
	var total uint32
	for l := maxBits; l > 0; l-- {
		total += h.count[l] << (maxBits - l)
	}
	for total != 1<<maxBits {
		h.count[maxBits]--
		for l := maxBits - 1; l > 0; l-- {
			if h.count[l] != 0 {
				h.count[l]--
				h.count[l+1] += 2
				break
			}
		}
		total--
	}
}

// canonicalCodes assigns the canonical codewords of lens (RFC 1951
// §3.2.2), bit-reversed.
func canonicalCodes(lens []uint8, codes []uint16) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeBits + 2]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			codes[s] = bits.Reverse16(next[l]) >> (16 - l)
			next[l]++
		}
	}
}
