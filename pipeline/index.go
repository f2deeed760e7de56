package pipeline

// index finds a dedupe entry by its first content hash. It is hand-written
// rather than a Go map because the window is a FIFO with one insert and one
// expiry per payload, and each map operation on a table far larger than
// the CPU caches is a cache miss: a map needs three per payload (lookup,
// insert, delete at expiry), and its deletions leave tombstones that
// lengthen probes. Here a slot holds a 32-bit tag of the hash and the low
// 32 bits of the entry's sequence number in the FIFO (so the FIFO's ring
// can grow without touching the index); expiry does not touch the index
// at all. A slot is stale when its sequence number no longer names a live
// entry with that hash (the caller checks, reading the entry it needs
// anyway); when live and stale slots fill half the table, it is rebuilt
// from the live entries. Open addressing with linear probing; the hash's
// low bits pick the home slot (the high bits pick the shard).
type index struct {
	slots []islot
	mask  uint64
	used  int // live and stale slots
}

type islot struct{ tag, seq uint32 } // tag 0: empty

func newIndex(live int) *index {
	x := &index{}
	x.reset(live)
	return x
}

func tagOf(h uint64) uint32 {
	t := uint32(h >> 32)
	if t == 0 {
		return 1
	}
	return t
}

// probe calls match for each slot whose tag matches h, in probe order,
// until match returns true (found: the sequence number) or an empty slot
// ends the cluster.
func (x *index) probe(h uint64, match func(seq uint32) bool) (uint32, bool) {
	tag := tagOf(h)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s.tag == 0 {
			return 0, false
		}
		if s.tag == tag && match(s.seq) {
			return s.seq, true
		}
	}
}

// full reports whether one more slot would fill half the table.
func (x *index) full() bool { return 2*(x.used+1) > len(x.slots) }

// put records h for sequence number seq.
func (x *index) put(h uint64, seq uint32) {
	i := h & x.mask
	for x.slots[i].tag != 0 {
		i = (i + 1) & x.mask
	}
	x.slots[i] = islot{tag: tagOf(h), seq: seq}
	x.used++
}

// reset empties the index, sized for live entries.
func (x *index) reset(live int) {
	n := 1024
	for n < 4*live {
		n <<= 1
	}
	if n != len(x.slots) {
		x.slots = make([]islot, n)
		x.mask = uint64(n - 1)
	}
	// Also a new table is cleared: memory fresh from the kernel is not
	// yet mapped, and the rebuild (which loads slots before it stores
	// them) would otherwise take two page faults on every page, a read
	// that maps the shared zero page and a write that copies it, instead
	// of the one this sequential pass takes. It clears in pieces: clear
	// of one large slice is a single call that cannot be preempted, and a
	// garbage collector starting meanwhile would spin on an idle CPU until
	// it returns (tens of milliseconds, page faults included).
	const piece = 64 << 10 // slots
	for i := 0; i < len(x.slots); i += piece {
		clear(x.slots[i:min(i+piece, len(x.slots))])
	}
	x.used = 0
}
