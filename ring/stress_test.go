package ring

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// pace burns a little CPU or yields, so that the two sides of a ring run at
// different and changing speeds.
func pace(rng *rand.Rand, mode int) {
	switch mode {
	case 0: // full speed
	case 1: // slow: busy work
		x := 0
		for i := range rng.IntN(200) {
			x += i
		}
		sink.Store(uint64(x))
	case 2: // very slow now and then: give up the CPU
		if rng.IntN(64) == 0 {
			runtime.Gosched()
		}
	case 3: // sleep now and then, so the other side parks or fills the ring
		if rng.IntN(4096) == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

var sink atomic.Uint64

// TestStress pushes millions of sequence numbers through a small ring with
// the producer and the consumer changing speed every few thousand elements,
// mixing single and batch operations, and checks that every element arrives
// exactly once and in order unless the producer was told it was dropped, and
// that the counters agree with what both sides saw.
func TestStress(t *testing.T) {
	total := 4_000_000
	if testing.Short() {
		total = 200_000
	}
	r := mustNew[uint64](t, 256)
	dropped := make([]bool, total)
	received := make([]bool, total)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() { // consumer
		rng := rand.New(rand.NewPCG(2, 2))
		buf := make([]uint64, 64)
		next := uint64(0)
		count := 0
		mode := 0
		check := func(v uint64) error {
			if v < next || v >= uint64(total) {
				return errors.New("element out of order or out of range")
			}
			received[v] = true
			next = v + 1
			count++
			return nil
		}
		for i := 0; ; i++ {
			if i%5000 == 0 {
				mode = rng.IntN(4)
			}
			pace(rng, mode)
			if i%2 == 0 {
				v, err := r.Pop(ctx)
				if errors.Is(err, ErrClosed) {
					done <- result{count, nil}
					return
				}
				if err != nil {
					done <- result{count, err}
					return
				}
				if err := check(v); err != nil {
					done <- result{count, err}
					return
				}
				continue
			}
			n, err := r.PopBatch(ctx, buf[:1+rng.IntN(len(buf))])
			if errors.Is(err, ErrClosed) {
				done <- result{count, nil}
				return
			}
			if err != nil {
				done <- result{count, err}
				return
			}
			for _, v := range buf[:n] {
				if err := check(v); err != nil {
					done <- result{count, err}
					return
				}
			}
		}
	}()

	// Producer.
	rng := rand.New(rand.NewPCG(1, 1))
	batch := make([]uint64, 64)
	drops, refused := 0, 0 // elements lost; pushes refused (each counts as a ring drop)
	mode, nextSwitch := 0, 0
	for seq := 0; seq < total; {
		if seq >= nextSwitch {
			mode, nextSwitch = rng.IntN(4), seq+7000
		}
		pace(rng, mode)
		if rng.IntN(4) != 0 {
			// In the slower modes the producer retries a refused push a few
			// times after yielding, so most elements get through while the
			// ring still overflows now and then.
			ok := r.TryPush(uint64(seq))
			for try := 0; !ok && mode != 0 && try < 3; try++ {
				refused++
				runtime.Gosched()
				ok = r.TryPush(uint64(seq))
			}
			if !ok {
				refused++
				dropped[seq] = true
				drops++
			}
			seq++
			continue
		}
		n := min(1+rng.IntN(len(batch)), total-seq)
		for i := range n {
			batch[i] = uint64(seq + i)
		}
		pushed := r.PushBatch(batch[:n])
		for i := pushed; i < n; i++ {
			dropped[seq+i] = true
			drops++
			refused++
		}
		seq += n
	}
	r.Close()

	res := <-done
	if res.err != nil {
		t.Fatalf("consumer after %d elements: %v", res.n, res.err)
	}
	for i := range total {
		if dropped[i] == received[i] {
			t.Fatalf("element %d: dropped=%v received=%v", i, dropped[i], received[i])
		}
	}
	st := r.Stats()
	if res.n+drops != total || st.Drops != uint64(refused) || st.Pushes != uint64(total-drops) ||
		st.Pops != uint64(res.n) || st.Len != 0 {
		t.Fatalf("received %d, dropped %d of %d, refused %d; stats %+v", res.n, drops, total, refused, st)
	}
	if st.Parks == 0 || drops == 0 {
		t.Fatalf("the run exercised neither parking nor overflow: stats %+v", st)
	}
	t.Logf("%d elements: %d received, %d dropped (%d refused pushes), %d parks, %d wakeups", total, res.n, drops, refused, st.Parks, st.Wakeups)
}

// TestPingPongWakeups bounces one element at a time between two goroutines
// through two rings, so that each side parks on almost every round. A lost
// wakeup would leave both sides asleep forever; the context deadline turns
// that into a failure.
func TestPingPongWakeups(t *testing.T) {
	rounds := 200_000
	if raceEnabled || testing.Short() {
		rounds = 50_000
	}
	ping := mustNew[int](t, 2)
	pong := mustNew[int](t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	echoErr := make(chan error, 1)
	go func() {
		buf := make([]int, 2)
		for i := 0; ; i++ {
			var v int
			if i%2 == 0 {
				var err error
				if v, err = ping.Pop(ctx); err != nil {
					echoErr <- err
					return
				}
			} else {
				n, err := ping.PopBatch(ctx, buf)
				if err != nil {
					echoErr <- err
					return
				}
				if n != 1 {
					echoErr <- errors.New("more than one element in flight")
					return
				}
				v = buf[0]
			}
			if !pong.TryPush(v + 1) {
				echoErr <- errors.New("pong ring full")
				return
			}
		}
	}()

	for i := 0; i < rounds; i += 2 {
		if !ping.TryPush(i) {
			t.Fatal("ping ring full")
		}
		v, err := pong.Pop(ctx)
		if err != nil {
			t.Fatalf("round %d: %v (a lost wakeup leaves both sides parked)", i, err)
		}
		if v != i+1 {
			t.Fatalf("round %d: got %d", i, v)
		}
	}
	ping.Close()
	if err := <-echoErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("echo side: %v", err)
	}
	ps, qs := ping.Stats(), pong.Stats()
	if ps.Drops != 0 || qs.Drops != 0 {
		t.Fatalf("drops in ping-pong: %+v %+v", ps, qs)
	}
	t.Logf("%d rounds: ping parks %d wakeups %d, pong parks %d wakeups %d",
		rounds/2, ps.Parks, ps.Wakeups, qs.Parks, qs.Wakeups)
}
