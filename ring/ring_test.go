package ring

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestNewCapacity(t *testing.T) {
	for _, c := range []struct {
		capacity int
		ok       bool
	}{
		{0, false}, {-4, false}, {3, false}, {6, false}, {MaxCapacity + 1, false}, {MaxCapacity * 2, false},
		{1, true}, {2, true}, {64, true}, {1024, true},
	} {
		r, err := New[int](c.capacity)
		if (err == nil) != c.ok {
			t.Errorf("New(%d): err = %v, want ok=%v", c.capacity, err, c.ok)
			continue
		}
		if err == nil && r.Cap() != c.capacity {
			t.Errorf("New(%d).Cap() = %d", c.capacity, r.Cap())
		}
	}
}

func mustNew[T any](t testing.TB, capacity int) *Ring[T] {
	t.Helper()
	r, err := New[T](capacity)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPushPopOrderAndDrops(t *testing.T) {
	r := mustNew[int](t, 4)
	for i := range 4 {
		if !r.TryPush(i) {
			t.Fatalf("push %d refused on a ring with room", i)
		}
	}
	if r.TryPush(99) {
		t.Fatal("push accepted on a full ring")
	}
	if st := r.Stats(); st.Drops != 1 || st.Pushes != 4 || st.Len != 4 || st.Capacity != 4 {
		t.Fatalf("stats after overflow = %+v", st)
	}
	// Wrap around several times, interleaving pushes and pops.
	next := 0
	for round := 4; round < 1000; round++ {
		v, ok := r.TryPop()
		if !ok || v != next {
			t.Fatalf("pop = %d,%v want %d", v, ok, next)
		}
		next++
		if !r.TryPush(round) {
			t.Fatalf("push %d refused after a pop", round)
		}
	}
	for ; next < 1000; next++ {
		v, ok := r.TryPop()
		if !ok || v != next {
			t.Fatalf("drain pop = %d,%v want %d", v, ok, next)
		}
	}
	if _, ok := r.TryPop(); ok {
		t.Fatal("pop from an empty ring succeeded")
	}
	st := r.Stats()
	if st.Pushes != 1000 || st.Pops != 1000 || st.Drops != 1 || st.Len != 0 {
		t.Fatalf("final stats = %+v", st)
	}
}

func TestBatchWrapAndPartial(t *testing.T) {
	r := mustNew[int](t, 8)
	src := []int{0, 1, 2, 3, 4, 5}
	if n := r.PushBatch(src); n != 6 {
		t.Fatalf("PushBatch = %d, want 6", n)
	}
	dst := make([]int, 4)
	if n := r.TryPopBatch(dst); n != 4 || dst[0] != 0 || dst[3] != 3 {
		t.Fatalf("TryPopBatch = %d %v", n, dst)
	}
	// 2 left (4,5); room for 6: push 8 so that 6 fit (wrapping) and 2 drop.
	if n := r.PushBatch([]int{6, 7, 8, 9, 10, 11, 12, 13}); n != 6 {
		t.Fatalf("PushBatch on 6 free slots = %d, want 6", n)
	}
	if st := r.Stats(); st.Drops != 2 || st.Len != 8 {
		t.Fatalf("stats = %+v, want 2 drops and 8 queued", st)
	}
	got := make([]int, 16)
	n := r.TryPopBatch(got)
	want := []int{4, 5, 6, 7, 8, 9, 10, 11}
	if n != len(want) {
		t.Fatalf("TryPopBatch = %d, want %d", n, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batch = %v, want %v", got[:n], want)
		}
	}
	if n := r.TryPopBatch(got); n != 0 {
		t.Fatalf("TryPopBatch on empty ring = %d", n)
	}
	if n := r.PushBatch(nil); n != 0 {
		t.Fatalf("PushBatch(nil) = %d", n)
	}
}

// TestPoppedSlotsReleased checks that the ring does not keep popped elements
// reachable: a finalizer on a popped object must run.
func TestPoppedSlotsReleased(t *testing.T) {
	r := mustNew[*[64]byte](t, 4)
	freed := make(chan struct{})
	func() {
		obj := new([64]byte)
		runtime.SetFinalizer(obj, func(*[64]byte) { close(freed) })
		r.TryPush(obj)
		dst := make([]*[64]byte, 1)
		if r.TryPopBatch(dst) != 1 {
			t.Fatal("pop failed")
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("popped element still reachable through the ring")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseDrains(t *testing.T) {
	r := mustNew[int](t, 16)
	for i := range 10 {
		r.TryPush(i)
	}
	r.Close()
	if r.TryPush(100) {
		t.Fatal("push after Close accepted")
	}
	ctx := context.Background()
	for i := range 5 {
		v, err := r.Pop(ctx)
		if err != nil || v != i {
			t.Fatalf("Pop = %d, %v; want %d", v, err, i)
		}
	}
	dst := make([]int, 8)
	n, err := r.PopBatch(ctx, dst)
	if err != nil || n != 5 || dst[0] != 5 || dst[4] != 9 {
		t.Fatalf("PopBatch = %d, %v, %v", n, err, dst[:n])
	}
	if _, err := r.Pop(ctx); !errors.Is(err, ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Pop on drained closed ring: err = %v, want ErrClosed", err)
	}
	if _, err := r.PopBatch(ctx, dst); !errors.Is(err, ErrClosed) {
		t.Fatalf("PopBatch on drained closed ring: err = %v, want ErrClosed", err)
	}
	if st := r.Stats(); !st.Closed || st.Drops != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestCloseWakesParkedConsumer(t *testing.T) {
	r := mustNew[int](t, 4)
	done := make(chan error, 1)
	go func() {
		_, err := r.Pop(context.Background())
		done <- err
	}()
	waitParked(t, r, 1)
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Pop after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the parked consumer")
	}
}

func TestPopContext(t *testing.T) {
	r := mustNew[int](t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.PopBatch(ctx, make([]int, 4))
		done <- err
	}()
	waitParked(t, r, 1)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("PopBatch after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not wake the parked consumer")
	}
	// The ring still works after an abandoned wait.
	r.TryPush(7)
	if v, err := r.Pop(context.Background()); err != nil || v != 7 {
		t.Fatalf("Pop = %d, %v", v, err)
	}
}

func TestParkedConsumerWoken(t *testing.T) {
	r := mustNew[int](t, 4)
	got := make(chan int, 1)
	go func() {
		v, err := r.Pop(context.Background())
		if err != nil {
			v = -1
		}
		got <- v
	}()
	waitParked(t, r, 1)
	r.TryPush(42)
	select {
	case v := <-got:
		if v != 42 {
			t.Fatalf("Pop = %d, want 42", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("push did not wake the parked consumer")
	}
	if st := r.Stats(); st.Wakeups < 1 {
		t.Fatalf("stats = %+v, want a wakeup", st)
	}
}

// waitParked polls until the consumer has parked at least n times.
func waitParked[T any](t *testing.T, r *Ring[T], n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Parks < n {
		if time.Now().After(deadline) {
			t.Fatal("consumer never parked")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNoAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts are not meaningful under coverage or the race detector")
	}
	r := mustNew[*int](t, 64)
	x := new(int)
	batch := make([]*int, 64)
	for i := range batch {
		batch[i] = x
	}
	dst := make([]*int, 64)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		r.TryPush(x)
		if _, err := r.Pop(ctx); err != nil {
			t.Fatal(err)
		}
		r.PushBatch(batch)
		if _, err := r.PopBatch(ctx, dst); err != nil {
			t.Fatal(err)
		}
		r.TryPush(x)
		r.TryPop()
	})
	if allocs != 0 {
		t.Fatalf("push/pop allocate %.1f times per round, want 0", allocs)
	}
}
