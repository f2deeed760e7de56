package spool

import "testing"

func TestBufPoolReusesFittingBuffers(t *testing.T) {
	p := bufPool{limit: 1 << 20}
	small, large := p.get(5000), p.get(300<<10)
	if cap(small) != 8<<10 || cap(large) != 512<<10 {
		t.Fatalf("new buffers: caps %d and %d, want 8 KiB and 512 KiB (rounded up)", cap(small), cap(large))
	}
	p.put(large)
	p.put(small) // last in, too small for the next request
	b := p.get(400 << 10)
	if cap(b) != 512<<10 {
		t.Fatalf("get(400 KiB) with a 512 KiB buffer idle: cap %d", cap(b))
	}
	if len(p.free) != 1 || cap(p.free[0]) != 8<<10 {
		t.Fatalf("the small buffer was not kept: %d idle", len(p.free))
	}
	if got := p.get(100); cap(got) != 8<<10 {
		t.Fatalf("get(100): cap %d, want the idle 8 KiB buffer", cap(got))
	}
	if p.bytes != 0 || len(p.free) != 0 {
		t.Fatalf("pool not empty: %d bytes in %d buffers", p.bytes, len(p.free))
	}
}

func TestBufPoolLimit(t *testing.T) {
	p := bufPool{limit: 1 << 20}
	a, b, c := p.get(300<<10), p.get(300<<10), p.get(100<<10) // 512, 512, 128 KiB
	p.put(c)
	p.put(a)
	p.put(b) // over the limit: the 128 KiB buffer makes room
	if p.bytes != 1<<20 || len(p.free) != 2 {
		t.Fatalf("idle: %d bytes in %d buffers, want 1 MiB in 2", p.bytes, len(p.free))
	}
	p.put(make([]byte, 0, 64<<10)) // smaller than every idle buffer: dropped
	if p.bytes != 1<<20 || len(p.free) != 2 {
		t.Fatalf("idle after a small put: %d bytes in %d buffers", p.bytes, len(p.free))
	}
}

func TestBufPoolDropsBuffersLargerThanTheLimit(t *testing.T) {
	p := bufPool{limit: 1 << 20}
	p.put(p.get(300 << 10)) // 512 KiB, kept
	p.put(p.get(1<<20 + 1)) // 2 MiB: larger than the limit
	if p.bytes != 512<<10 || len(p.free) != 1 {
		t.Fatalf("idle: %d bytes in %d buffers, want the 512 KiB buffer kept", p.bytes, len(p.free))
	}
}
