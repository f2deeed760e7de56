package ctl

import "testing"

// BenchmarkSubscriberOffer measures what a tail client costs the capture
// path per payload offered: sampled out by the rate limit (the common
// case), and taken then dropped or queued.
func BenchmarkSubscriberOffer(b *testing.B) {
	line := []byte(`{"time":"2026-11-26 23:00:00.000000000","vname":"SIE","mname":"dnsdedupe","message":{}}`)
	render := func(dst []byte) []byte { return append(dst, line...) }
	b.Run("sampled", func(b *testing.B) {
		s := NewSubscriber(204, 1, 1024)
		s.tokens = 0
		b.ReportAllocs()
		for b.Loop() {
			s.Offer(render)
		}
	})
	b.Run("taken", func(b *testing.B) {
		s := NewSubscriber(204, 1<<30, 1024)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for buf := range s.q {
				s.put(buf)
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			s.Offer(render)
		}
		b.StopTimer()
		close(s.q)
		<-done
	})
}
