package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSubscriberRateLimit(t *testing.T) {
	s := NewSubscriber(1, 10, 100) // 10/s, burst 1
	t0 := time.Now()
	s.last = t0
	s.tokens = 1
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {0, false}, {50 * time.Millisecond, false}, {100 * time.Millisecond, true}, {10 * time.Second, true}, {10 * time.Second, false}}
	for i, st := range steps {
		if got := s.take(t0.Add(st.at)); got != st.want {
			t.Errorf("step %d at %v: take = %v, want %v", i, st.at, got, st.want)
		}
	}
}

func TestSubscriberNeverBlocks(t *testing.T) {
	s := NewSubscriber(1, 1_000_000, 4)
	rendered := 0
	for range 1000 {
		s.Offer(func(dst []byte) []byte { rendered++; return append(dst, "{}"...) })
	}
	st := s.Stats()
	if st.Offered != 1000 || st.Queued != 4 || st.Queued+st.Sampled+st.Dropped != st.Offered || st.Dropped == 0 {
		t.Errorf("stats %+v, want 1000 offered, 4 queued, the rest sampled or dropped", st)
	}
	if rendered != int(st.Queued) {
		t.Errorf("rendered %d payloads for %d queued: rendering must be skipped for dropped ones", rendered, st.Queued)
	}
	s.closed.Store(true)
	if s.Offer(func(dst []byte) []byte { return dst }) || s.Stats().Offered != 1000 {
		t.Error("a closed subscriber took a payload")
	}
}

// publishUntil offers payloads to channel ch until cond holds.
func publishUntil(t *testing.T, d *fakeDaemon, ch uint16, size int, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, func() bool {
		d.publish(ch, 10, size)
		return cond()
	})
}

func TestTailNDJSON(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{})
	c := unixClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	var lines []string
	go func() {
		errc <- c.Tail(ctx, 204, TailOptions{Count: 25}, func(line []byte) error {
			lines = append(lines, string(line))
			return nil
		})
	}()
	waitFor(t, "the subscription", func() bool { return d.subscribers(204) == 1 })
	done := false
	for !done {
		d.publish(204, 10, 16)
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("Tail: %v", err)
			}
			done = true
		case <-time.After(5 * time.Millisecond):
		}
	}
	if len(lines) != 25 {
		t.Fatalf("got %d lines, want 25", len(lines))
	}
	for i, l := range lines {
		var v struct{ Seq int }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("line %d %q: %v", i, l, err)
		}
	}
	waitFor(t, "the unsubscription", func() bool { return d.subscribers(204) == 0 })

	var ae *APIError
	if err := c.Tail(ctx, 207, TailOptions{}, func([]byte) error { return nil }); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("tail of an unknown channel: %v, want 404", err)
	}
	for _, p := range []string{"/api/v1/channels/x/tail", "/api/v1/channels/204/tail?format=nmsg", "/api/v1/channels/204/tail?rate=0"} {
		if code, _ := rawGet(t, s, p); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 400 or 422", p, code)
		}
	}
}

func TestTailSSE(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{TailRate: 5, TailBuffer: 100})
	c := unixClient(t, s)
	resp, err := c.hc.Get(c.base + "/api/v1/channels/202/tail?sse&count=3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	done := make(chan struct{})
	var events []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if l := sc.Text(); l != "" {
				events = append(events, l)
			}
		}
	}()
	waitFor(t, "the subscription", func() bool { return d.subscribers(202) == 1 })
	publishUntil(t, d, 202, 8, "the stream's end", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	data, drops := 0, 0
	for _, e := range events {
		switch {
		case strings.HasPrefix(e, "data: {\"seq\""):
			data++
		case e == "event: drops":
			drops++
		}
	}
	// At 5 payloads/s most of what was offered is sampled out, and the
	// stream says so.
	if data != 3 || drops == 0 || !strings.HasPrefix(events[0], ": siecap tail of channel 202") {
		t.Errorf("events %q: want 3 data lines and a drops event", events)
	}
}

// TestTailSlowClient checks that a client that stops reading costs the
// daemon nothing but counted drops, and is cut off after the write
// timeout.
func TestTailSlowClient(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{TailRate: 1_000_000, TailBuffer: 16, WriteTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("unix", s.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ask for a tail and never read the reply.
	fmt.Fprintf(conn, "GET /api/v1/channels/204/tail HTTP/1.1\r\nHost: siecap\r\n\r\n")
	waitFor(t, "the subscription", func() bool { return d.subscribers(204) == 1 })
	d.mu.Lock()
	sub := d.subs[204][0]
	d.mu.Unlock()

	// Offer until the queue overflows; every Offer returns at once
	// whatever the client does.
	publishUntil(t, d, 204, 4096, "drops", func() bool { return sub.Stats().Dropped > 0 })
	st := sub.Stats()
	if st.Queued+st.Sampled+st.Dropped != st.Offered {
		t.Errorf("stats %+v do not add up", st)
	}
	// The server gives up on the client after the write timeout and the
	// subscription ends.
	publishUntil(t, d, 204, 4096, "the slow client's disconnection", func() bool { return d.subscribers(204) == 0 })

	code, body := rawGet(t, s, "/metrics")
	if code != 200 || !strings.Contains(body, `siecap_ctl_tail_payloads_total{result="dropped"} `) ||
		strings.Contains(body, `siecap_ctl_tail_payloads_total{result="dropped"} 0`+"\n") {
		t.Errorf("metrics do not count the drops:\n%s", body)
	}
}

// TestTailQuietChannel checks that a tail answers at once even when the
// channel carries nothing.
func TestTailQuietChannel(t *testing.T) {
	s := startServer(t, newFakeDaemon().backend(), Options{})
	c := unixClient(t, s)
	c.hc.Transport.(*http.Transport).ResponseHeaderTimeout = 5 * time.Second
	resp, err := c.hc.Get(c.base + "/api/v1/channels/204/tail")
	if err != nil {
		t.Fatalf("tail of a quiet channel: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("tail of a quiet channel: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestTailClientLimit(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{TailClients: 1})
	c := unixClient(t, s)
	resp, err := c.hc.Get(c.base + "/api/v1/channels/204/tail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if code, body := rawGet(t, s, "/api/v1/channels/202/tail"); code != http.StatusServiceUnavailable || !strings.Contains(body, "already 1 tail clients") {
		t.Errorf("second tail client: %d %q, want 503", code, body)
	}
	if d.subscribers(202) != 0 {
		t.Error("the refused client was subscribed")
	}
}
