package nmsg

import (
	"container/list"
	"fmt"
	"math/bits"
	"net/netip"
	"time"
)

// Fragment reassembly limits.
const (
	// DefaultFragmentTimeout is how long an incomplete set waits for its
	// missing fragments (libnmsg's NMSG_FRAG_GC_INTERVAL).
	DefaultFragmentTimeout = 30 * time.Second
	// DefaultFragmentMemory caps the bytes held by pending sets.
	DefaultFragmentMemory = 64 << 20
	// MaxFragments bounds last+1. Writers cut at least 474 bytes per
	// fragment (go-nmsg; libnmsg cuts bufsz-32 ≥ 480) and a container is
	// at most 1 MiB, so real sets have at most 2,213 fragments.
	MaxFragments = 4096
)

type fragKey struct {
	src netip.AddrPort
	id  uint32
	crc uint32
}

type fragSet struct {
	key    fragKey
	last   uint32
	chunks [][]byte
	have   uint32
	bytes  int
	hasCRC bool
	zlib   bool
	first  time.Time
	elem   *list.Element
}

// Reassembler puts fragmented containers back together, keyed by sender,
// fragment id and crc as libnmsg does. Fragments may come in any order;
// duplicates are ignored. It also completes sets in libnmsg's exact-multiple
// layout (last names a fragment that was never sent) when the fragment crc
// proves the set whole, and go-nmsg's layout (an extra empty fragment).
// A Reassembler is used by one goroutine.
type Reassembler struct {
	Timeout   time.Duration // incomplete sets expire after this long
	MaxMemory int           // bytes held by pending sets at most
	Stats     *Stats

	sets    map[fragKey]*fragSet
	order   list.List // of *fragSet, oldest first
	pending int
	out     []byte

	// done remembers recently completed sets, so that a fragment arriving
	// after its set was completed (go-nmsg's trailing empty fragment after
	// an exact-multiple recovery, or a duplicate) is ignored instead of
	// opening a set that can only expire.
	done      map[fragKey]time.Time
	doneOrder []fragKey
}

// maxDone bounds the memory of completed sets.
const maxDone = 4096

// NewReassembler returns a Reassembler with the default limits counting
// into stats.
func NewReassembler(stats *Stats) *Reassembler {
	return &Reassembler{Timeout: DefaultFragmentTimeout, MaxMemory: DefaultFragmentMemory, Stats: stats}
}

// Pending returns the number of incomplete sets held.
func (r *Reassembler) Pending() int { return len(r.sets) }

// Add takes one fragment that arrived in a container with header flags
// flags. f.Data is copied. When the fragment completes its set, Add returns
// the reassembled packed container (inflate it when zlib is true), valid
// until the next call.
func (r *Reassembler) Add(src netip.AddrPort, flags uint8, f Fragment, now time.Time) (packed []byte, zlib, done bool, err error) {
	if r.sets == nil {
		r.sets = make(map[fragKey]*fragSet)
	}
	st := r.Stats
	r.Expire(now)
	if f.Last >= MaxFragments {
		st.FragmentsRejected++
		return nil, false, false, fmt.Errorf("%w: last %d exceeds %d fragments", ErrFragmentRejected, f.Last, MaxFragments-1)
	}
	if f.Current > f.Last {
		st.FragmentsRejected++
		return nil, false, false, fmt.Errorf("%w: current %d exceeds last %d (id %08x)", ErrFragmentRejected, f.Current, f.Last, f.ID)
	}
	key := fragKey{src: src, id: f.ID, crc: f.CRC}
	if t, ok := r.done[key]; ok && now.Sub(t) < r.Timeout {
		st.FragmentDuplicates++
		return nil, false, false, nil
	}
	s := r.sets[key]
	if s != nil && s.last != f.Last {
		r.drop(s)
		st.FragmentsRejected++
		st.FragmentSetsDiscarded++
		return nil, false, false, fmt.Errorf("%w: id %08x says last %d, earlier fragments said %d", ErrFragmentInconsist, f.ID, f.Last, s.last)
	}
	if s == nil {
		s = &fragSet{key: key, last: f.Last, chunks: make([][]byte, f.Last+1), hasCRC: f.HasCRC, first: now}
		s.elem = r.order.PushBack(s)
		r.sets[key] = s
	}
	if s.chunks[f.Current] != nil {
		st.FragmentDuplicates++
		return nil, false, false, nil
	}
	if s.bytes+len(f.Data) > MaxContainerSize {
		r.drop(s)
		st.FragmentsRejected++
		st.FragmentSetsDiscarded++
		return nil, false, false, fmt.Errorf("%w: set %08x grows past %d bytes", ErrTooLarge, f.ID, MaxContainerSize)
	}
	for r.pending+len(f.Data) > r.MaxMemory && r.order.Len() > 0 {
		old := r.order.Front().Value.(*fragSet)
		if old == s {
			break
		}
		r.drop(old)
		st.FragmentSetsEvicted++
	}
	s.chunks[f.Current] = append(make([]byte, 0, len(f.Data)), f.Data...)
	s.have++
	s.bytes += len(f.Data)
	r.pending += len(f.Data)
	s.zlib = flags&FlagZlib != 0 // the latest header decides, as in libnmsg
	st.Fragments++

	switch {
	case s.have == s.last+1:
		st.FragmentSetsDone++
	case s.have == s.last && s.chunks[s.last] == nil && r.exactMultiple(s):
		st.FragmentSetsDone++
		st.FragmentSetsRecovered++
	default:
		return nil, false, false, nil
	}
	r.out = r.out[:0]
	for _, c := range s.chunks {
		r.out = append(r.out, c...)
	}
	if s.hasCRC && bits.ReverseBytes32(CRC32C(r.out)) != s.key.crc {
		st.FragmentCRCMismatch++
	}
	zlib = s.zlib
	r.drop(s)
	r.remember(key, now)
	return r.out, zlib, true, nil
}

// exactMultiple reports whether s is a complete libnmsg set whose packed
// size was an exact multiple of the chunk size: every piece but the
// promised last one is present and full-size, and the fragment crc matches
// their concatenation.
func (r *Reassembler) exactMultiple(s *fragSet) bool {
	if !s.hasCRC || s.last == 0 {
		return false
	}
	size := len(s.chunks[0])
	if size == 0 {
		return false
	}
	r.out = r.out[:0]
	for _, c := range s.chunks[:s.last] {
		if len(c) != size {
			return false
		}
		r.out = append(r.out, c...)
	}
	return bits.ReverseBytes32(CRC32C(r.out)) == s.key.crc
}

// Expire drops the sets that have waited longer than the timeout and
// returns how many it dropped; each is counted as expired.
func (r *Reassembler) Expire(now time.Time) int {
	n := 0
	for r.order.Len() > 0 {
		s := r.order.Front().Value.(*fragSet)
		if now.Sub(s.first) < r.Timeout {
			break
		}
		r.drop(s)
		r.Stats.FragmentSetsExpired++
		n++
	}
	return n
}

// Flush drops every pending set (the input ended), counting each as
// expired, and returns how many it dropped.
func (r *Reassembler) Flush() int {
	n := r.order.Len()
	for r.order.Len() > 0 {
		r.drop(r.order.Front().Value.(*fragSet))
	}
	r.Stats.FragmentSetsExpired += uint64(n)
	return n
}

func (r *Reassembler) remember(key fragKey, now time.Time) {
	if r.done == nil {
		r.done = make(map[fragKey]time.Time)
	}
	if len(r.doneOrder) >= maxDone {
		delete(r.done, r.doneOrder[0])
		r.doneOrder = r.doneOrder[1:]
	}
	r.done[key] = now
	r.doneOrder = append(r.doneOrder, key)
}

func (r *Reassembler) drop(s *fragSet) {
	r.order.Remove(s.elem)
	delete(r.sets, s.key)
	r.pending -= s.bytes
}
