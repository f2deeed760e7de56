package pipeline

// entry is one identity in a dedupe window. It holds no pointers, so the
// garbage collector never scans the (large) entry array.
type entry struct {
	h1, h2 uint64
	first  int64  // channel clock (ns) when the identity entered the window
	rec    uint64 // shard-local number of the record holding the stored payload
	idx    uint32 // its ordinal in that record
	dups   uint32 // suppressed duplicates (payload mode) or later sightings (rrset mode)
}

// rrExtra is what rrset mode keeps beside an entry to write its EXPIRATION.
type rrExtra struct {
	msg           []byte // the INSERTION message (dnsdedupe fields)
	tFirst, tLast int64  // observation times (Unix s)
}

// table is a bounded dedupe window: entries in a FIFO ordered by the time
// they entered (the clock is monotonic, so this is also expiry order) and
// an index from the first hash to the entry's sequence number.
//
// The FIFO is a queue of fixed-size chunks rather than one ring that
// doubles: growing a ring copies every live entry into new memory (and
// the kernel faults in every page of it), while a chunk whose entries have
// all left is kept and reused for new ones, so a window of steady size
// allocates nothing.
type table struct {
	index  *index
	chunks [][]entry   // chunks[i] holds sequence numbers base + i·chunk …
	extras [][]rrExtra // rrset mode: beside chunks
	spare  [][]entry   // chunks to reuse
	spareX [][]rrExtra
	base   uint64 // first sequence number of chunks[0]
	chunk  uint64 // entries per chunk: 1 << shift
	shift  uint
	head   uint64 // sequence number of the oldest entry
	tail   uint64 // sequence number of the next entry
	max    int
	withRR bool
	sink   uint32 // keeps reindex's loads from being optimized away
}

// maxChunk is the most entries a chunk holds (640 KiB of entries).
const maxChunk = 1 << 14

func newTable(max int, withRR bool) *table {
	shift := uint(10)
	for 1<<shift < max && 1<<shift < maxChunk {
		shift++
	}
	return &table{index: newIndex(1 << shift), chunk: 1 << shift, shift: shift, max: max, withRR: withRR}
}

func (t *table) len() int { return int(t.tail - t.head) }

func (t *table) full() bool { return t.len() >= t.max }

// at returns where live entry seq lies: its chunk and its place there.
func (t *table) at(seq uint64) (int, uint64) {
	return int((seq - t.base) >> t.shift), seq & (t.chunk - 1)
}

func (t *table) entry(seq uint64) *entry {
	c, i := t.at(seq)
	return &t.chunks[c][i]
}

// oldest returns the oldest entry; the table must not be empty. It is
// always in the first chunk.
func (t *table) oldest() *entry { return &t.chunks[0][t.head-t.base] }

// live reports whether the entry whose sequence number has the low 32
// bits seq is in the window (modular arithmetic: the window holds fewer
// than 2³² entries), and returns its full sequence number.
func (t *table) live(seq uint32) (uint64, bool) {
	d := seq - uint32(t.head)
	return t.head + uint64(d), d < uint32(t.tail-t.head)
}

// lookup returns the entry with hashes (h1, h2); collide reports that a
// live entry has h1 with another h2 (the caller then stores the payload
// without tracking it).
func (t *table) lookup(h1, h2 uint64) (e *entry, x *rrExtra, collide bool) {
	var seq uint64
	_, ok := t.index.probe(h1, func(s uint32) bool {
		var live bool
		seq, live = t.live(s)
		return live && t.entry(seq).h1 == h1
	})
	if !ok {
		return nil, nil, false
	}
	c, i := t.at(seq)
	e = &t.chunks[c][i]
	if e.h2 != h2 {
		return nil, nil, true
	}
	if t.withRR {
		x = &t.extras[c][i]
	}
	return e, x, false
}

// insert adds e (the caller made room: !full()).
func (t *table) insert(e entry, x rrExtra) {
	c, i := t.at(t.tail)
	if c == len(t.chunks) {
		t.addChunk()
	}
	t.chunks[c][i] = e
	if t.withRR {
		t.extras[c][i] = x
	}
	seq := uint32(t.tail)
	t.tail++
	if t.index.full() {
		t.reindex()
	} else {
		t.index.put(e.h1, seq)
	}
}

func (t *table) addChunk() {
	if n := len(t.spare); n > 0 {
		t.chunks, t.spare = append(t.chunks, t.spare[n-1]), t.spare[:n-1]
	} else {
		t.chunks = append(t.chunks, make([]entry, t.chunk))
	}
	if !t.withRR {
		return
	}
	if n := len(t.spareX); n > 0 {
		t.extras, t.spareX = append(t.extras, t.spareX[n-1]), t.spareX[:n-1]
	} else {
		t.extras = append(t.extras, make([]rrExtra, t.chunk))
	}
}

// pop removes the oldest entry and returns it. Its index slot goes stale.
func (t *table) pop() (entry, rrExtra) {
	i := t.head - t.base
	e := t.chunks[0][i]
	var x rrExtra
	if t.withRR {
		x = t.extras[0][i]
		t.extras[0][i] = rrExtra{}
	}
	t.head++
	if t.head-t.base == t.chunk {
		// The first chunk is empty: keep one for reuse (the window
		// grows back by that much at most before it shrinks again),
		// free the others.
		if len(t.spare) == 0 {
			t.spare = append(t.spare, t.chunks[0])
		}
		t.chunks = append(t.chunks[:0], t.chunks[1:]...)
		if t.withRR {
			if len(t.spareX) == 0 {
				t.spareX = append(t.spareX, t.extras[0])
			}
			t.extras = append(t.extras[:0], t.extras[1:]...)
		}
		t.base += t.chunk
	}
	return e, x
}

// reindex rebuilds the index from the live entries. The slots they go to
// are scattered over a table far larger than the caches, so it works in
// groups: it first loads the home slots of a group (independent loads, whose
// cache misses the CPU overlaps), then fills them, instead of taking one
// miss after another.
func (t *table) reindex() {
	t.index.reset(max(t.len(), int(t.chunk)))
	x := t.index
	const group = 16
	var acc uint32
	for s := t.head; s != t.tail; {
		end := s + min(group, t.tail-s)
		for g := s; g != end; g++ {
			acc += x.slots[t.entry(g).h1&x.mask].tag
		}
		for ; s != end; s++ {
			x.put(t.entry(s).h1, uint32(s))
		}
	}
	t.sink = acc
}

// touch loads the index slot of h1 (and the entry it names, when the tag
// matches and the entry is live) and returns a value derived from them.
// The shard touches a whole batch before processing it: the loads are
// independent, so the CPU overlaps their cache misses instead of taking
// them one after another during processing.
func (t *table) touch(h1 uint64) uint64 {
	x := t.index
	s := x.slots[h1&x.mask]
	if s.tag == tagOf(h1) {
		if seq, ok := t.live(s.seq); ok {
			return t.entry(seq).h2
		}
	}
	return uint64(s.seq)
}
