package ring

import (
	"context"
	"fmt"
	"math/bits"
	"os"
	"sync/atomic"
)

// ErrClosed is returned by Pop and PopBatch once the ring is closed and
// drained. It wraps os.ErrClosed.
var ErrClosed = fmt.Errorf("ring: %w", os.ErrClosed)

// cacheLine is the padding unit. 128 bytes covers the adjacent-line
// prefetcher of x86 (which pulls cache lines in pairs) as well as 128-byte
// lines elsewhere.
const cacheLine = 128

// MaxCapacity is the largest capacity New accepts.
const MaxCapacity = 1 << 30

// Ring is a bounded lock-free single-producer single-consumer queue of T.
// Its zero value is not usable; create rings with New.
type Ring[T any] struct {
	// Read-only after New.
	buf  []T
	mask uint64
	wake chan struct{}
	_    [cacheLine - 8*5]byte

	// Producer side: written only by the producer.
	tail      atomic.Uint64 // elements published
	headCache uint64        // producer's last view of head
	drops     atomic.Uint64
	signals   atomic.Uint64
	_         [cacheLine - 8*4]byte

	// Consumer side: written only by the consumer.
	head      atomic.Uint64 // elements consumed
	tailCache uint64        // consumer's last view of tail
	parks     atomic.Uint64
	_         [cacheLine - 8*3]byte

	// Shared flags: written by the consumer when it parks and by Close.
	sleeping atomic.Uint32
	closed   atomic.Bool
	_        [cacheLine - 8]byte
}

// New returns an empty ring that holds up to capacity elements. capacity
// must be a power of two between 1 and MaxCapacity.
func New[T any](capacity int) (*Ring[T], error) {
	if capacity < 1 || capacity > MaxCapacity || bits.OnesCount(uint(capacity)) != 1 {
		return nil, fmt.Errorf("create ring: capacity %d is not a power of two in [1, %d]", capacity, MaxCapacity)
	}
	return &Ring[T]{
		buf:  make([]T, capacity),
		mask: uint64(capacity - 1),
		wake: make(chan struct{}, 1),
	}, nil
}

// Cap returns the capacity of the ring.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// Len returns the number of elements in the ring. It is exact when called by
// the producer or the consumer while the other side is idle, and a snapshot
// otherwise.
func (r *Ring[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load()
	return int(min(t-h, uint64(len(r.buf))))
}

// TryPush appends v if there is room and reports whether it did. When the
// ring is full or closed it counts a drop and returns false. It never
// blocks. Only the producer may call it.
func (r *Ring[T]) TryPush(v T) bool {
	t := r.tail.Load() // own counter: no other writer
	if t-r.headCache == uint64(len(r.buf)) {
		r.headCache = r.head.Load()
		if t-r.headCache == uint64(len(r.buf)) {
			r.drops.Add(1)
			return false
		}
	}
	if r.closed.Load() {
		r.drops.Add(1)
		return false
	}
	r.buf[t&r.mask] = v
	r.tail.Store(t + 1)
	if r.sleeping.Load() != 0 {
		r.signal()
	}
	return true
}

// PushBatch appends as many elements of vs as fit, in order, publishes them
// at once and returns how many it pushed. The rest are counted as drops. It
// never blocks. Only the producer may call it.
func (r *Ring[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	if r.closed.Load() {
		r.drops.Add(uint64(len(vs)))
		return 0
	}
	t := r.tail.Load()
	size := uint64(len(r.buf))
	free := size - (t - r.headCache)
	if free < uint64(len(vs)) {
		r.headCache = r.head.Load()
		free = size - (t - r.headCache)
	}
	n := min(uint64(len(vs)), free)
	if n < uint64(len(vs)) {
		r.drops.Add(uint64(len(vs)) - n)
	}
	if n == 0 {
		return 0
	}
	// Copy in at most two runs: up to the end of the array, then from 0.
	start := t & r.mask
	first := min(n, size-start)
	copy(r.buf[start:start+first], vs[:first])
	copy(r.buf[:n-first], vs[first:n])
	r.tail.Store(t + n)
	if r.sleeping.Load() != 0 {
		r.signal()
	}
	return int(n)
}

// signal hands the parked consumer a wakeup token. The channel has room for
// one token; if one is already waiting, the consumer will see it anyway.
func (r *Ring[T]) signal() {
	select {
	case r.wake <- struct{}{}:
		r.signals.Add(1)
	default:
	}
}

// Close marks the ring closed: later pushes are dropped, and the consumer,
// after receiving every element pushed before Close, gets ErrClosed. Only the
// producer may call it (or another goroutine once the producer has stopped
// for good). Closing twice is harmless.
func (r *Ring[T]) Close() {
	r.closed.Store(true)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// TryPop removes and returns the oldest element, if any. It never blocks.
// Only the consumer may call it.
func (r *Ring[T]) TryPop() (v T, ok bool) {
	h := r.head.Load() // own counter: no other writer
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return v, false
		}
	}
	slot := &r.buf[h&r.mask]
	v = *slot
	var zero T
	*slot = zero
	r.head.Store(h + 1)
	return v, true
}

// TryPopBatch moves up to len(dst) of the oldest elements into dst and
// returns how many it moved. It never blocks. Only the consumer may call it.
func (r *Ring[T]) TryPopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	h := r.head.Load()
	if r.tailCache-h < uint64(len(dst)) {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return 0
		}
	}
	n := min(uint64(len(dst)), r.tailCache-h)
	size := uint64(len(r.buf))
	start := h & r.mask
	first := min(n, size-start)
	copy(dst[:first], r.buf[start:start+first])
	clear(r.buf[start : start+first])
	copy(dst[first:n], r.buf[:n-first])
	clear(r.buf[:n-first])
	r.head.Store(h + n)
	return int(n)
}

// Pop removes and returns the oldest element, parking the goroutine while
// the ring is empty. It returns ErrClosed once the ring is closed and
// drained, or the context's error when ctx ends first. Only the consumer may
// call it.
func (r *Ring[T]) Pop(ctx context.Context) (T, error) {
	for {
		if v, ok := r.TryPop(); ok {
			return v, nil
		}
		if err := r.park(ctx); err != nil {
			var zero T
			return zero, err
		}
	}
}

// PopBatch waits until at least one element is available, then moves up to
// len(dst) of the oldest elements into dst and returns how many it moved. It
// returns ErrClosed once the ring is closed and drained, or the context's
// error when ctx ends first. Only the consumer may call it.
func (r *Ring[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	for {
		if n := r.TryPopBatch(dst); n > 0 {
			return n, nil
		}
		if err := r.park(ctx); err != nil {
			return 0, err
		}
	}
}

// park sleeps until the producer may have published something, the ring is
// closed, or ctx ends. It returns nil when the caller should retry, and
// ErrClosed or ctx.Err() when it should give up. See the package
// documentation for why no wakeup is lost.
func (r *Ring[T]) park(ctx context.Context) error {
	r.sleeping.Store(1)
	h := r.head.Load()
	if r.tail.Load() != h {
		r.sleeping.Store(0)
		return nil
	}
	if r.closed.Load() {
		r.sleeping.Store(0)
		// The producer's last tail store precedes its closed store: a
		// final look at tail sees every element pushed before Close.
		if r.tail.Load() != h {
			return nil
		}
		return ErrClosed
	}
	r.parks.Add(1)
	select {
	case <-r.wake:
		r.sleeping.Store(0)
		return nil
	case <-ctx.Done():
		r.sleeping.Store(0)
		return ctx.Err()
	}
}

// Stats is a snapshot of a ring's counters.
type Stats struct {
	Capacity int
	Len      int    // elements waiting (fill level)
	Pushes   uint64 // elements published
	Pops     uint64 // elements consumed
	Drops    uint64 // elements refused because the ring was full or closed
	Parks    uint64 // times the consumer went to sleep on an empty ring
	Wakeups  uint64 // wakeup tokens the producer handed a parked consumer
	Closed   bool
}

// Stats returns a snapshot of the ring's counters. Any goroutine may call it.
func (r *Ring[T]) Stats() Stats {
	h := r.head.Load()
	t := r.tail.Load()
	return Stats{
		Capacity: len(r.buf),
		Len:      int(min(t-h, uint64(len(r.buf)))),
		Pushes:   t,
		Pops:     h,
		Drops:    r.drops.Load(),
		Parks:    r.parks.Load(),
		Wakeups:  r.signals.Load(),
		Closed:   r.closed.Load(),
	}
}
