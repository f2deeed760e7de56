package pipeline

import (
	"net/netip"
	"sync"
	"time"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/ring"
)

// Reader is the capture side of a Pipeline: one per capture socket (or
// input file stream), driven by exactly one goroutine. It never blocks on
// the shards unless the Pipeline was configured Blocking.
type Reader struct {
	p     *Pipeline
	index int
	dec   *nmsg.Decoder
	rings []*ring.Ring[*Batch] // one per shard
	cur   []*Batch             // batch being filled, per shard
	clock int64                // high-water mark of payload time (ns)
	wall  int64                // receive time of the datagram being decoded (ns; 0 for files)
	rr    rrsetSplitter
	emit  func(obs *nmsg.Payload, h1, h2 uint64)

	lastFlush  time.Time
	lastExpire time.Time

	// Owned by the reader goroutine; published into snap under mu.
	st   ReaderStats
	mu   sync.Mutex
	snap ReaderStats
}

// maxSkew is how far ahead of the receive time a live payload's time may
// move the dedupe clock.
const maxSkew = 5 * time.Minute

// ReaderStats are one reader's counters.
type ReaderStats struct {
	Decoder        nmsg.Stats // containers, payloads decoded, damage by reason
	Payloads       uint64     // payloads decoded (before the rules)
	Filtered       uint64     // payloads the rules refused (and, in rrset mode, dnsqr without a usable response)
	Dropped        uint64     // payloads lost because a shard's ring was full
	DroppedBatches uint64
	Batches        uint64 // batches handed to shards
	Frames         uint64 // frames given to Frame
	NotUDP         uint64 // frames that were not a whole UDP datagram (skipped)
	BadFrames      uint64 // frames with damaged headers
	FutureTime     uint64 // live payloads dated more than 5 minutes after their receive time (clock clamped)
	RRset          RRsetStats
}

func newReader(p *Pipeline, rings []*ring.Ring[*Batch]) *Reader {
	r := &Reader{p: p, dec: nmsg.NewDecoder(), rings: rings, cur: make([]*Batch, len(rings))}
	r.emit = func(obs *nmsg.Payload, h1, h2 uint64) { r.add(obs, obs.Message, nil, 0, h1, h2, true) }
	return r
}

// Decoder returns the reader's decoder, for an nmsg.Reader over a file
// (nmsg.NewReaderWith); its payloads then go to Add.
func (r *Reader) Decoder() *nmsg.Decoder { return r.dec }

// Datagram decodes one UDP datagram received from src at now and routes
// its payloads. The datagram may be reused when it returns. The error is
// the decoder's (already counted in the decoder's Stats).
func (r *Reader) Datagram(src netip.AddrPort, b []byte, now time.Time) error {
	pls, err := r.dec.Datagram(src, b, now)
	r.wall = now.UnixNano()
	for i := range pls {
		r.Add(&pls[i])
	}
	r.wall = 0
	r.tick(now)
	return err
}

// Idle is for the reader's goroutine to call when no datagram came for a
// while (capture calls it after an empty poll interval): it hands over the
// batches being filled and expires stale fragment sets, as Datagram does,
// so that what was read is stored even when traffic stops.
func (r *Reader) Idle(now time.Time) { r.tick(now) }

func (r *Reader) tick(now time.Time) {
	if now.Sub(r.lastExpire) >= time.Second {
		// Expired fragment sets are counted in the decoder's Stats.
		_ = r.dec.Expire(now)
		r.lastExpire = now
	}
	if now.Sub(r.lastFlush) >= r.p.cfg.FlushInterval/4 {
		r.Flush()
		r.lastFlush = now
	}
}

// Add routes one decoded payload (copying what it keeps).
func (r *Reader) Add(p *nmsg.Payload) {
	r.st.Payloads++
	if t := p.TimeSec*1e9 + int64(p.TimeNsec); t > r.clock {
		// A live payload dated far in the future (a sender's clock)
		// would otherwise end every dedupe window at once.
		if r.wall != 0 && t > r.wall+int64(maxSkew) {
			r.st.FutureTime++
			t = max(r.clock, r.wall+int64(maxSkew))
		}
		r.clock = t
	}
	if !r.p.rules.Load().Pass(p.Vid, p.Msgtype) {
		r.st.Filtered++
		return
	}
	if obs := r.p.cfg.Observe; obs != nil {
		obs(r.index, p)
	}
	switch {
	case r.p.cfg.Dedupe == DedupeRRset && p.Vid == nmsg.VendorBase && p.Msgtype == msgtypeDNSQR:
		if r.rr.split(r.p.hash, p, r.emit) == 0 {
			r.st.Filtered++
		}
	default:
		var h1, h2 uint64
		raw, crc, ok := p.Wire()
		if ok {
			h1, h2 = r.p.hash.payloadCRC(p.Vid, p.Msgtype, p.Message, crc)
		} else {
			h1, h2 = r.p.hash.payload(p.Vid, p.Msgtype, p.Message)
		}
		r.add(p, p.Message, raw, crc, h1, h2, false)
	}
}

// add copies one payload with message msg into the batch of its shard:
// its wire form raw (with the message's CRC) when the decoder kept one
// (see item), else its fields.
func (r *Reader) add(p *nmsg.Payload, msg, raw []byte, crc uint32, h1, h2 uint64, rrset bool) {
	k := shardOf(h1, len(r.rings))
	b := r.cur[k]
	if b == nil {
		b = getBatch()
		r.cur[k] = b
	}
	it := item{vid: p.Vid, msgtype: p.Msgtype, nsec: p.TimeNsec, source: p.Source, operator: p.Operator,
		group: p.Group, off: uint32(len(b.data)), msgLen: uint32(len(msg)), hasMsg: p.HasMessage || len(msg) > 0,
		rrset: rrset, sec: p.TimeSec, clock: r.clock, h1: h1, h2: h2}
	if raw != nil {
		it.wire, it.crc = true, crc
		b.data = append(b.data, raw...)
	} else {
		b.data = append(b.data, msg...)
	}
	it.n = uint32(len(b.data)) - it.off
	b.items = append(b.items, it)
	if len(b.items) >= r.p.cfg.BatchPayloads || len(b.data) >= r.p.cfg.BatchBytes {
		r.push(k)
	}
}

// push hands shard k its current batch: dropped and counted when the ring
// is full (or waits for room when Blocking).
func (r *Reader) push(k int) {
	b := r.cur[k]
	r.cur[k] = nil
	sh := r.p.shards[k]
	for !r.rings[k].TryPush(b) {
		if !r.p.cfg.Blocking {
			r.st.Dropped += uint64(len(b.items))
			r.st.DroppedBatches++
			putBatch(b)
			r.publish()
			return
		}
		<-sh.space
	}
	r.st.Batches++
	sh.signal()
	r.publish()
}

// Flush hands every partly filled batch to its shard. Datagram does this
// every quarter of the flush interval; a capture reader that sees no
// traffic calls it from its poll loop.
func (r *Reader) Flush() {
	for k, b := range r.cur {
		if b != nil && len(b.items) > 0 {
			r.push(k)
		}
	}
	r.publish()
}

// Close flushes and tells the shards this reader is done. The reader must
// not be used afterwards.
func (r *Reader) Close() {
	r.Flush()
	for _, rg := range r.rings {
		rg.Close()
	}
	for _, sh := range r.p.shards {
		sh.signal()
	}
}

func (r *Reader) publish() {
	r.mu.Lock()
	r.snap = r.st
	r.snap.Decoder = r.dec.Stats
	r.snap.RRset = r.rr.st
	r.mu.Unlock()
}

// Stats returns the reader's counters as of its last batch.
func (r *Reader) Stats() ReaderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}
