package ctl

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Subscriber is one tail client as the daemon sees it: the daemon offers
// it the payloads of its channel and never waits for it. A token bucket
// holds it to its rate (payloads beyond it are sampled out) and a bounded
// queue absorbs bursts (payloads that find it full are dropped); both are
// counted.
type Subscriber struct {
	channel uint16
	q       chan []byte
	pool    sync.Pool

	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time

	closed  atomic.Bool
	offered atomic.Uint64
	queued  atomic.Uint64
	sampled atomic.Uint64
	dropped atomic.Uint64
}

// NewSubscriber returns a subscriber to channel that takes at most rate
// payloads per second (bursts of up to a tenth of a second's worth, at
// least one) and queues up to queue of them.
func NewSubscriber(channel uint16, rate, queue int) *Subscriber {
	rate = max(rate, 1)
	burst := max(float64(rate)/10, 1)
	return &Subscriber{
		channel: channel, q: make(chan []byte, max(queue, 1)),
		rate: float64(rate), burst: burst, tokens: burst, last: time.Now(),
	}
}

// Channel returns the channel the subscriber watches.
func (s *Subscriber) Channel() uint16 { return s.channel }

// Offer offers the subscriber one payload; render appends the payload's
// nmsgtool-style JSON object (no newline) to dst and returns it. Offer
// never blocks and calls render only for a payload the subscriber takes,
// so the daemon's cost per client is bounded by the client's rate. It
// reports whether the payload was taken. Safe for concurrent use.
func (s *Subscriber) Offer(render func(dst []byte) []byte) bool {
	if s.closed.Load() {
		return false
	}
	s.offered.Add(1)
	if !s.take(time.Now()) {
		s.sampled.Add(1)
		return false
	}
	if len(s.q) == cap(s.q) {
		s.dropped.Add(1)
		return false
	}
	var buf []byte
	if b, ok := s.pool.Get().(*[]byte); ok {
		buf = (*b)[:0]
	}
	buf = render(buf)
	select {
	case s.q <- buf:
		s.queued.Add(1)
		return true
	default: // another goroutine filled the queue meanwhile
		s.dropped.Add(1)
		s.put(buf)
		return false
	}
}

// Closed reports whether the client has gone; the daemon may stop offering.
func (s *Subscriber) Closed() bool { return s.closed.Load() }

func (s *Subscriber) take(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = min(s.burst, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	s.last = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

func (s *Subscriber) put(b []byte) {
	if cap(b) <= 64<<10 {
		s.pool.Put(&b)
	}
}

// TailStats are a subscriber's counters.
type TailStats struct {
	Offered uint64 `json:"offered"` // payloads the daemon offered
	Queued  uint64 `json:"queued"`  // taken for the client
	Sampled uint64 `json:"sampled"` // left out to keep to the rate
	Dropped uint64 `json:"dropped"` // the client's queue was full
}

// Stats returns the counters.
func (s *Subscriber) Stats() TailStats {
	return TailStats{Offered: s.offered.Load(), Queued: s.queued.Load(), Sampled: s.sampled.Load(), Dropped: s.dropped.Load()}
}

// tailStats are the server's totals over tail clients, gone and present.
type tailStats struct {
	mu      sync.Mutex
	active  map[*Subscriber]struct{}
	gone    TailStats
	clients uint64
}

// add registers s unless limit clients are connected.
func (t *tailStats) add(s *Subscriber, limit int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.active) >= limit {
		return false
	}
	if t.active == nil {
		t.active = map[*Subscriber]struct{}{}
	}
	t.active[s] = struct{}{}
	t.clients++
	return true
}

func (t *tailStats) remove(s *Subscriber) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.active, s)
	st := s.Stats()
	t.gone.Offered += st.Offered
	t.gone.Queued += st.Queued
	t.gone.Sampled += st.Sampled
	t.gone.Dropped += st.Dropped
}

// totals returns the counters over every client and the number connected.
func (t *tailStats) totals() (TailStats, int, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := t.gone
	for s := range t.active {
		st := s.Stats()
		sum.Offered += st.Offered
		sum.Queued += st.Queued
		sum.Sampled += st.Sampled
		sum.Dropped += st.Dropped
	}
	return sum, len(t.active), t.clients
}

// keepalive is how often an idle stream gets a comment (server-sent
// events) or an empty line (NDJSON), which also finds clients that went
// away.
const keepalive = 15 * time.Second

// tail streams a channel's live payloads: NDJSON (chunked) by default,
// server-sent events with ?sse or "Accept: text/event-stream". An NDJSON
// stream opens with an empty line and carries one every 15 s when idle;
// readers skip empty lines. ?rate=
// lowers the payloads per second below the server's limit; ?count= ends
// the stream after that many payloads.
func (s *Server) tail(ctx *fasthttp.RequestCtx) {
	if s.backend.Tail == nil {
		writeError(ctx, fasthttp.StatusNotImplemented, "tail is not available")
		return
	}
	ch, err := parseChannel(ctx.UserValue("n"))
	if err != nil {
		writeErr(ctx, err)
		return
	}
	args := ctx.QueryArgs()
	if f := string(args.Peek("format")); f != "" && f != "json" {
		writeError(ctx, fasthttp.StatusBadRequest, "format: want json")
		return
	}
	rate := s.opts.TailRate
	if v := args.Peek("rate"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			writeError(ctx, fasthttp.StatusBadRequest, "rate: want a positive integer")
			return
		}
		rate = min(rate, n)
	}
	count := 0
	if v := args.Peek("count"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			writeError(ctx, fasthttp.StatusBadRequest, "count: want a positive integer")
			return
		}
		count = n
	}
	sse := args.Has("sse") || string(ctx.Request.Header.Peek(fasthttp.HeaderAccept)) == "text/event-stream"

	sub := NewSubscriber(ch, rate, s.opts.TailBuffer)
	if !s.tails.add(sub, s.opts.TailClients) {
		writeError(ctx, fasthttp.StatusServiceUnavailable, fmt.Sprintf("already %d tail clients", s.opts.TailClients))
		return
	}
	cancel, err := s.backend.Tail.Subscribe(ch, sub)
	if err != nil {
		s.tails.remove(sub)
		writeErr(ctx, err)
		return
	}
	if sse {
		ctx.SetContentType("text/event-stream")
		ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-cache")
	} else {
		ctx.SetContentType("application/x-ndjson")
	}
	// Only values copied out of ctx reach the stream writer, which runs
	// after the handler has returned.
	st := stream{conn: ctx.Conn(), timeout: s.opts.WriteTimeout, done: s.done}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.tails.remove(sub)
		defer cancel()
		defer sub.closed.Store(true)
		st.tail(w, sub, sse, count)
	})
}

// stream is what a stream writer may use: the connection (for write
// deadlines), the write timeout and the server's done channel.
type stream struct {
	conn    net.Conn
	timeout time.Duration
	done    <-chan struct{}
}

// flush writes out w with a fresh write deadline.
func (st stream) flush(w *bufio.Writer) error {
	if st.conn != nil {
		_ = st.conn.SetWriteDeadline(time.Now().Add(st.timeout))
	}
	return w.Flush()
}

func (st stream) tail(w *bufio.Writer, sub *Subscriber, sse bool, count int) {
	tick := time.NewTicker(keepalive)
	defer tick.Stop()
	// Open the stream at once: fasthttp sends the headers with the first
	// body bytes, and a quiet channel may have none for a long time.
	if sse {
		w.WriteString(": siecap tail of channel " + strconv.Itoa(int(sub.channel)) + "\n\n")
	} else {
		w.WriteByte('\n')
	}
	if err := st.flush(w); err != nil {
		return
	}
	var reported TailStats
	sent := 0
	for {
		select {
		case <-st.done:
			return
		case <-tick.C:
			// A keepalive also finds clients that went away.
			if sse {
				w.WriteString(": keepalive\n\n")
			} else {
				w.WriteByte('\n')
			}
			if err := st.flush(w); err != nil {
				return
			}
			continue
		case b := <-sub.q:
			writeLine(w, b, sse)
			sub.put(b)
			sent++
		}
		// Write what else is queued, then flush once.
	drain:
		for count == 0 || sent < count {
			select {
			case b := <-sub.q:
				writeLine(w, b, sse)
				sub.put(b)
				sent++
			default:
				break drain
			}
		}
		if sse {
			if now := sub.Stats(); now.Sampled != reported.Sampled || now.Dropped != reported.Dropped {
				fmt.Fprintf(w, "event: drops\ndata: {\"sampled\":%d,\"dropped\":%d}\n\n", now.Sampled, now.Dropped)
				reported = now
			}
		}
		if err := st.flush(w); err != nil {
			return
		}
		if count > 0 && sent >= count {
			return
		}
	}
}

func writeLine(w *bufio.Writer, b []byte, sse bool) {
	if sse {
		w.WriteString("data: ")
	}
	w.Write(b)
	if sse {
		w.WriteString("\n\n")
	} else {
		w.WriteByte('\n')
	}
}
