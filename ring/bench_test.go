package ring

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// item stands for what siecap passes through a ring: a reference to a batch.
type item struct{ _ [64]byte }

const benchCap = 1024

// BenchmarkHandoff moves b.N references from a producer goroutine to a
// consumer goroutine, through a Ring and, in the same run, through a buffered
// channel of the same capacity. ns/op is nanoseconds per element. A producer
// that finds the ring full yields and retries (the benchmark measures
// throughput, not drop behaviour); a channel send simply blocks.
func BenchmarkHandoff(b *testing.B) {
	b.Run("ring/single", func(b *testing.B) { benchRing(b, 1) })
	b.Run("chan/single", func(b *testing.B) { benchChan(b, 1) })
	b.Run("ring/batch64", func(b *testing.B) { benchRing(b, 64) })
	b.Run("chan/batch64", func(b *testing.B) { benchChan(b, 64) })
}

func benchRing(b *testing.B, batch int) {
	r := mustNew[*item](b, benchCap)
	it := &item{}
	src := make([]*item, batch)
	for i := range src {
		src[i] = it
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	go func() {
		for sent := 0; sent < b.N; {
			var n int
			if batch == 1 {
				if r.TryPush(it) {
					n = 1
				}
			} else {
				n = r.PushBatch(src[:min(batch, b.N-sent)])
			}
			if n == 0 {
				runtime.Gosched()
			}
			sent += n
		}
		r.Close()
	}()
	got := 0
	if batch == 1 {
		for {
			if _, err := r.Pop(ctx); err != nil {
				break
			}
			got++
		}
	} else {
		dst := make([]*item, batch)
		for {
			n, err := r.PopBatch(ctx, dst)
			if err != nil {
				break
			}
			got += n
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0)
	if got != b.N {
		b.Fatalf("received %d of %d", got, b.N)
	}
	st := r.Stats()
	b.ReportMetric(float64(st.Drops)/float64(b.N), "refused/op")
	b.ReportMetric(float64(st.Parks)/float64(b.N), "parks/op")
}

func benchChan(b *testing.B, batch int) {
	ch := make(chan *item, benchCap)
	it := &item{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	go func() {
		// A channel has no batch operation: a batch is that many sends.
		for sent := 0; sent < b.N; sent += batch {
			for range min(batch, b.N-sent) {
				ch <- it
			}
		}
		close(ch)
	}()
	got := 0
	for range ch {
		got++
	}
	b.StopTimer()
	reportCPU(b, cpu0)
	if got != b.N {
		b.Fatalf("received %d of %d", got, b.N)
	}
}
