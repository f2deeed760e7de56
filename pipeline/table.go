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

// table is a bounded dedupe window: entries in a FIFO ring ordered by the
// time they entered (the clock is monotonic, so this is also expiry order)
// and an index from the first hash to the entry's sequence number. Entry
// number seq lies at ring position seq mod len(ents).
type table struct {
	index  *index
	ents   []entry // ring, power-of-two length
	extra  []rrExtra
	head   uint64 // sequence number of the oldest entry
	tail   uint64 // sequence number of the next entry
	max    int
	withRR bool
	sink   uint32 // keeps reindex's loads from being optimized away
}

func newTable(max int, withRR bool) *table {
	n := 1024
	for n < max && n < 1<<16 {
		n <<= 1
	}
	t := &table{index: newIndex(n), ents: make([]entry, n), max: max, withRR: withRR}
	if withRR {
		t.extra = make([]rrExtra, n)
	}
	return t
}

func (t *table) len() int { return int(t.tail - t.head) }

func (t *table) full() bool { return t.len() >= t.max }

func (t *table) at(seq uint64) uint64 { return seq & uint64(len(t.ents)-1) }

// oldest returns the oldest entry; the table must not be empty.
func (t *table) oldest() *entry { return &t.ents[t.at(t.head)] }

// live reports whether the entry whose sequence number has the low 32
// bits seq is in the window (modular arithmetic: the window holds fewer
// than 2³² entries).
func (t *table) live(seq uint32) bool {
	return seq-uint32(t.head) < uint32(t.tail-t.head)
}

// lookup returns the entry with hashes (h1, h2); collide reports that a
// live entry has h1 with another h2 (the caller then stores the payload
// without tracking it).
func (t *table) lookup(h1, h2 uint64) (e *entry, x *rrExtra, collide bool) {
	seq, ok := t.index.probe(h1, func(seq uint32) bool {
		return t.live(seq) && t.ents[t.at(uint64(seq))].h1 == h1
	})
	if !ok {
		return nil, nil, false
	}
	pos := t.at(uint64(seq))
	e = &t.ents[pos]
	if e.h2 != h2 {
		return nil, nil, true
	}
	if t.withRR {
		x = &t.extra[pos]
	}
	return e, x, false
}

// insert adds e (the caller made room: !full()).
func (t *table) insert(e entry, x rrExtra) {
	if t.len() == len(t.ents) {
		t.grow()
	}
	pos := t.at(t.tail)
	t.ents[pos] = e
	if t.withRR {
		t.extra[pos] = x
	}
	seq := uint32(t.tail)
	t.tail++
	if t.index.full() {
		t.reindex()
	} else {
		t.index.put(e.h1, seq)
	}
}

// pop removes the oldest entry and returns it. Its index slot goes stale.
func (t *table) pop() (entry, rrExtra) {
	pos := t.at(t.head)
	e := t.ents[pos]
	var x rrExtra
	if t.withRR {
		x = t.extra[pos]
		t.extra[pos] = rrExtra{}
	}
	t.head++
	return e, x
}

// reindex rebuilds the index from the live entries. The slots they go to
// are scattered over a table far larger than the caches, so it works in
// groups: it first loads the home slots of a group (independent loads, whose
// cache misses the CPU overlaps), then fills them, instead of taking one
// miss after another.
func (t *table) reindex() {
	t.index.reset(max(t.len(), len(t.ents)/4))
	x := t.index
	const group = 16
	var acc uint32
	for s := t.head; s != t.tail; {
		end := s + min(group, t.tail-s)
		for g := s; g != end; g++ {
			acc += x.slots[t.ents[t.at(g)].h1&x.mask].tag
		}
		for ; s != end; s++ {
			x.put(t.ents[t.at(s)].h1, uint32(s))
		}
	}
	t.sink = acc
}

// grow doubles the ring. The index names entries by sequence number, so
// it stays as it is.
func (t *table) grow() {
	n := len(t.ents) * 2
	ents := make([]entry, n)
	var extra []rrExtra
	if t.withRR {
		extra = make([]rrExtra, n)
	}
	for s := t.head; s != t.tail; s++ {
		ents[s&uint64(n-1)] = t.ents[t.at(s)]
		if t.withRR {
			extra[s&uint64(n-1)] = t.extra[t.at(s)]
		}
	}
	t.ents, t.extra = ents, extra
}

// touch loads the index slot of h1 (and the entry it names, when the tag
// matches) and returns a value derived from them. The shard touches a
// whole batch before processing it: the loads are independent, so the CPU
// overlaps their cache misses instead of taking them one after another
// during processing.
func (t *table) touch(h1 uint64) uint64 {
	x := t.index
	s := x.slots[h1&x.mask]
	if s.tag == tagOf(h1) {
		return t.ents[t.at(uint64(s.seq))].h2
	}
	return uint64(s.seq)
}
