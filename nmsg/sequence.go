package nmsg

import (
	"net/netip"
	"time"
)

// Sequence tracking constants (libnmsg nmsg/input_seqsrc.c, private.h).
const (
	// MaxSequenceGap is the largest jump counted as lost containers; a
	// larger one (or a step backwards) resets the tracker.
	MaxSequenceGap = 1048576
	// DefaultSequenceIdle is how long a silent sender is remembered.
	DefaultSequenceIdle = 120 * time.Second
)

type seqState struct {
	id       uint64
	expected uint32
	seen     time.Time
}

// SequenceTracker counts lost containers per sender from the sequence
// numbers socket outputs put in each container, exactly as libnmsg does:
// a new sender or a new sequence_id counts nothing; otherwise a gap of at
// most MaxSequenceGap is counted as lost, a larger or backward step resets.
// A SequenceTracker is used by one goroutine.
type SequenceTracker struct {
	Idle  time.Duration
	Stats *Stats

	senders map[netip.AddrPort]*seqState
	lastGC  time.Time
}

// NewSequenceTracker returns a tracker with the default idle expiry.
func NewSequenceTracker(stats *Stats) *SequenceTracker {
	return &SequenceTracker{Idle: DefaultSequenceIdle, Stats: stats}
}

// Observe records a container's sequence number and returns the number of
// containers lost before it.
func (t *SequenceTracker) Observe(src netip.AddrPort, id uint64, seq uint32, now time.Time) uint64 {
	if t.senders == nil {
		t.senders = make(map[netip.AddrPort]*seqState)
		t.lastGC = now
	}
	if now.Sub(t.lastGC) >= t.Idle {
		t.gc(now)
	}
	s := t.senders[src]
	if s == nil {
		t.senders[src] = &seqState{id: id, expected: seq + 1, seen: now}
		return 0
	}
	var lost uint64
	switch delta := seq - s.expected; {
	case s.id != id:
		s.id = id
		t.Stats.SequenceResets++
	case delta == 0:
	case delta <= MaxSequenceGap:
		lost = uint64(delta)
		t.Stats.SequenceLost += lost
	default:
		t.Stats.SequenceResets++
	}
	s.expected = seq + 1
	s.seen = now
	return lost
}

// Senders returns the number of senders tracked.
func (t *SequenceTracker) Senders() int { return len(t.senders) }

func (t *SequenceTracker) gc(now time.Time) {
	for k, s := range t.senders {
		if now.Sub(s.seen) >= t.Idle {
			delete(t.senders, k)
		}
	}
	t.lastGC = now
}
