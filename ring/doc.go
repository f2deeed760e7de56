// Package ring is the bounded handoff between siecap's capture readers and
// its dedupe/compress shards: a lock-free single-producer single-consumer
// ring, generic over the element type (in siecap a reference to a pooled
// batch).
//
// # Contract
//
// Exactly one goroutine pushes (TryPush, PushBatch, Close) and exactly one
// goroutine pops (TryPop, Pop, PopBatch, TryPopBatch) at a time; Stats may be
// called from anywhere. The race detector reports a violation of this
// contract, because the two sides keep plain (non-atomic) cached copies of
// each other's index.
//
// The producer never blocks: when the ring is full, TryPush returns false and
// counts a drop, and PushBatch pushes what fits and counts the rest as drops.
// The consumer never spins: when the ring is empty, Pop and PopBatch park the
// goroutine on a channel until the producer publishes an element, the ring is
// closed, or the context ends. Close tells the consumer that no more elements
// will come; it still receives everything pushed before Close, then ErrClosed.
// Popped slots are zeroed so the ring does not keep batches alive for the
// garbage collector.
//
// # Memory ordering
//
// The ring holds a power-of-two array of slots and two free-running 64-bit
// counters: tail (written only by the producer: the number of elements ever
// published) and head (written only by the consumer: the number of elements
// ever consumed). Slot i lives at index i & (cap-1). The counters never wrap
// in practice (2^64 elements), so tail-head is the fill level and the ring is
// full when tail-head == cap.
//
// Go's sync/atomic operations are sequentially consistent: they all appear in
// one total order consistent with each goroutine's program order, and a load
// that observes a store synchronizes with it (the store happens before
// everything after the load), per the Go memory model.
//
// Publish: the producer writes the element into slot tail&mask with a plain
// store, then atomically stores tail+1. Consume: the consumer atomically loads
// tail; every slot below the loaded value was written before the store it
// observed, so reading those slots with plain loads is race-free. After
// reading (and zeroing) slots it atomically stores the new head. Reuse: the
// producer writes slot i only after an atomic load of head shows head > i-cap,
// i.e. after the consumer's store that followed its last read of that slot, so
// the producer's write cannot overlap the consumer's read. Each side caches
// the other's counter in a plain field and reloads it only when the cached
// value says the ring is full (producer) or empty (consumer), which keeps
// the shared cache lines from bouncing on every element. The counters sit on
// cache lines of their own (padding) so the two sides never false-share.
//
// Parking: an idle consumer must sleep without the producer paying for a
// wakeup on every push. The handshake uses a flag, sleeping, and a wake
// channel of capacity one:
//
//	consumer:                           producer (per publish):
//	  C1 sleeping.Store(1)                P1 tail.Store(t+1)
//	  C2 if tail.Load() != head: retry    P2 if sleeping.Load() == 1:
//	  C3 <-wake (or context done)              non-blocking send on wake
//	  C4 sleeping.Store(0)
//
// No wakeup is lost. Suppose the consumer blocks in C3 on an element the
// producer published in P1. Then its load in C2 did not see P1's store, so C2
// precedes P1 in the total order. C1 precedes C2 and P1 precedes P2 in program
// order, hence C1 precedes P2 and P2 observes sleeping == 1 (C4 of this
// round comes after C3, which has not returned), so the producer sends on
// wake. The channel has capacity one and the send never blocks: either it
// deposits a token that C3 receives, or a token is already there, which C3
// receives just the same. Whichever way the interleaving goes, either the
// consumer sees the element in C2 or the producer sees the flag in P2 (this
// is Dekker's argument, which sequential consistency makes valid). A token
// left over from an earlier round only causes a spurious wakeup: the consumer
// loops and rechecks. Close sets closed and then sends a token
// unconditionally; the consumer checks closed after C1 the same way it checks
// tail, so a Close cannot be missed either, and because the producer's last
// tail store precedes its closed store, a consumer that sees closed also sees
// every element, which it drains before returning ErrClosed.
//
// The producer's fast path costs one plain slot write, one atomic store of
// tail and one atomic load of the sleeping flag (a read of a cache line that
// the consumer writes only when it parks). No path allocates.
package ring
