package pipeline

import (
	"math/rand/v2"
	"testing"
)

// TestTableAgainstMap runs the dedupe window through inserts, lookups and
// expiries that make it take and give back chunks and its index fill and
// be rebuilt many times, and checks every lookup against a Go map of the
// live entries.
func TestTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Small chunks, so that many come and go.
	tab := &table{index: newIndex(1024), chunk: 1 << 10, shift: 10, max: 1 << 20}
	model := map[uint64]uint64{} // h1 → h2 of the live entries
	var fifo []uint64            // h1 in insertion order
	live := 0
	keys := make([]uint64, 0, 1<<16)
	for step := range 600000 {
		// The window's size wanders between 5,000 and 35,000 entries.
		target := 20000 + int(15000*sinApprox(float64(step)/100000))
		for live > target {
			e, _ := tab.pop()
			if want := fifo[len(fifo)-live]; e.h1 != want {
				t.Fatalf("step %d: popped %x, want %x", step, e.h1, want)
			}
			delete(model, e.h1)
			live--
		}
		var h1 uint64
		if len(keys) > 0 && rng.IntN(3) == 0 {
			h1 = keys[rng.IntN(len(keys))] // often expired already, sometimes live
		} else {
			h1 = rng.Uint64()
			if len(keys) < cap(keys) {
				keys = append(keys, h1)
			} else {
				keys[rng.IntN(len(keys))] = h1
			}
		}
		h2 := h1 * 31
		e, _, collide := tab.lookup(h1, h2)
		_, inModel := model[h1]
		if (e != nil) != inModel || collide {
			t.Fatalf("step %d: lookup %x found %v (collide %v), model %v", step, h1, e != nil, collide, inModel)
		}
		if e == nil {
			tab.insert(entry{h1: h1, h2: h2}, rrExtra{})
			model[h1] = h2
			fifo = append(fifo, h1)
			live++
		}
		if tab.len() != live {
			t.Fatalf("step %d: table holds %d, model %d", step, tab.len(), live)
		}
	}
	if tab.base < 100*tab.chunk {
		t.Fatalf("only %d chunks came and went", tab.base/tab.chunk)
	}
}

// sinApprox is a triangle wave in [-1, 1].
func sinApprox(x float64) float64 {
	f := x - float64(int(x))
	if f < 0.5 {
		return 4*f - 1
	}
	return 3 - 4*f
}
