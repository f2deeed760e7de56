package spool

import (
	"math/bits"
	"sync"
)

// bufPool recycles frame buffers between Append and the committer, so a
// steady stream of records does not allocate. It keeps at most 2 × MaxPending
// bytes of idle buffers (sync.Pool would drop megabyte buffers at every GC).
//
// Records vary in size (a zstd frame is as long as its data compresses), so
// get takes any idle buffer large enough rather than only the last one put,
// and a new buffer is rounded up to a power of two: the buffers settle at a
// size that holds the frames that follow.
type bufPool struct {
	mu    sync.Mutex // leaf lock, see LOCKS.md
	free  [][]byte
	bytes int64
	limit int64
}

// minBuf is the smallest buffer the pool makes.
const minBuf = 4 << 10

func (p *bufPool) get(n int) []byte {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if cap(p.free[i]) >= n {
			b := p.take(i)
			p.mu.Unlock()
			return b[:0]
		}
	}
	p.mu.Unlock()
	size := minBuf
	if n > minBuf {
		size = 1 << bits.Len(uint(n-1))
	}
	return make([]byte, 0, size)
}

// take removes idle buffer i and returns it; p.mu is held.
func (p *bufPool) take(i int) []byte {
	b := p.free[i]
	last := len(p.free) - 1
	p.free[i] = p.free[last]
	p.free[last] = nil
	p.free = p.free[:last]
	p.bytes -= int64(cap(b))
	return b
}

// put keeps b for reuse while the idle buffers stay within the limit; when
// they would not, it drops the smallest idle buffer, or b if that is
// smaller. A buffer larger than the whole limit is dropped at once, without
// emptying the pool for it.
func (p *bufPool) put(b []byte) {
	if int64(cap(b)) > p.limit {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.bytes+int64(cap(b)) > p.limit && len(p.free) > 0 {
		small := 0
		for i := range p.free {
			if cap(p.free[i]) < cap(p.free[small]) {
				small = i
			}
		}
		if cap(p.free[small]) >= cap(b) {
			return
		}
		p.take(small)
	}
	if p.bytes+int64(cap(b)) <= p.limit {
		p.free = append(p.free, b[:0])
		p.bytes += int64(cap(b))
	}
}
