package spool

import "sync"

// bufPool recycles frame buffers between Append and the committer, so a
// steady stream of records does not allocate. It keeps at most 2 × MaxPending
// bytes of idle buffers (sync.Pool would drop megabyte buffers at every GC).
type bufPool struct {
	mu    sync.Mutex // leaf lock, see LOCKS.md
	free  [][]byte
	bytes int64
	limit int64
}

func (p *bufPool) get(n int) []byte {
	p.mu.Lock()
	for len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.bytes -= int64(cap(b))
		if cap(b) >= n {
			p.mu.Unlock()
			return b[:0]
		}
	}
	p.mu.Unlock()
	return make([]byte, 0, n)
}

func (p *bufPool) put(b []byte) {
	p.mu.Lock()
	if p.bytes+int64(cap(b)) <= p.limit {
		p.free = append(p.free, b[:0])
		p.bytes += int64(cap(b))
	}
	p.mu.Unlock()
}
