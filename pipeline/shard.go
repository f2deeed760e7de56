package pipeline

import (
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/ring"
	"github.com/siecap/siecap/spool"
)

// ShardStats are one shard's counters.
type ShardStats struct {
	Deduped        uint64 // payloads suppressed (payload mode) or RRset sightings counted (rrset mode)
	Appended       uint64 // payloads in records handed to the spool
	Stored         uint64 // payloads in records the spool reported durable
	Failed         uint64 // payloads lost because the spool stopped
	ExpiredEarly   uint64 // entries that left the window early because the shard was full
	Untracked      uint64 // payloads stored without a dedupe entry (64-bit hash collision)
	Counts         uint64 // dedupe counts written into record metadata
	Insertions     uint64 // SIE/dnsdedupe INSERTIONs stored (rrset mode)
	Expirations    uint64 // SIE/dnsdedupe EXPIRATIONs stored (rrset mode)
	Records        uint64
	ContainerBytes uint64 // NMSG bytes before compression
	RecordBytes    uint64 // zstd bytes
	Entries        uint64 // entries in the window now
}

// recPos is where an appended record lies.
type recPos struct {
	seg spool.SegmentID
	off int64
	ok  bool // false: the append failed
}

// pending is a record appended but not yet known durable.
type pending struct{ lsn, payloads uint64 }

// shard owns one share of the channel's dedupe state and cuts its own
// records. Everything but mu's fields is touched by its goroutine only.
type shard struct {
	p     *Pipeline
	rings []*ring.Ring[*Batch]
	wake  chan struct{} // readers: a batch was pushed
	space chan struct{} // blocking readers: a ring was drained
	tab   *table
	clock int64

	// The open record.
	w       *nmsg.Writer
	out     appendBuf
	est     int
	n       uint32
	first   int64
	last    int64
	started time.Time
	meta    []byte
	recNo   uint64 // number of the open record, from 1
	posBase uint64 // record number of pos[0]
	pos     []recPos
	enc     *zstd.Encoder
	zbuf    []byte
	scratch []byte
	pl      nmsg.Payload // the item being processed
	xpl     nmsg.Payload // an EXPIRATION being stored
	err     error
	sink    uint64 // keeps the batch's touches from being optimized away

	st ShardStats // owned by the shard goroutine

	mu   sync.Mutex
	pend []pending
	snap ShardStats
}

type appendBuf struct{ b []byte }

func (a *appendBuf) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func newShard(p *Pipeline, rings []*ring.Ring[*Batch]) (*shard, error) {
	opts := []zstd.EOption{zstd.WithEncoderLevel(p.cfg.Level), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false)} // the spool frames every record with a CRC-32C
	if p.cfg.RawLiterals { // at SpeedFastest only (Config.fill)
		opts = append(opts, zstd.WithNoEntropyCompression(true))
	}
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, err
	}
	s := &shard{p: p, rings: rings, wake: make(chan struct{}, 1), space: make(chan struct{}, 1),
		enc: enc, recNo: 1, posBase: 1}
	s.w = nmsg.NewWriter(&s.out, nmsg.WriterOptions{OmitCRCs: true})
	if p.cfg.Dedupe != DedupeNone {
		s.tab = newTable(p.cfg.MaxEntries/p.cfg.Shards, p.cfg.Dedupe == DedupeRRset)
	}
	return s, nil
}

// signal wakes the shard (non-blocking).
func (s *shard) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *shard) run() {
	defer s.p.wg.Done()
	tick := time.NewTicker(max(s.p.cfg.FlushInterval/4, time.Millisecond))
	defer tick.Stop()
	buf := make([]*Batch, 16)
	for {
		got, done := false, true
		for _, rg := range s.rings {
			closed := rg.Stats().Closed
			n := rg.TryPopBatch(buf)
			for _, b := range buf[:n] {
				s.batch(b)
				putBatch(b)
			}
			clear(buf[:n])
			if n > 0 {
				got = true
			}
			if !closed || n == len(buf) {
				done = false
			}
		}
		if got {
			select {
			case s.space <- struct{}{}:
			default:
			}
			s.publish()
			continue
		}
		if done {
			break
		}
		if s.n > 0 && time.Since(s.started) >= s.p.cfg.FlushInterval {
			s.flushRecord()
			s.publish()
		}
		select {
		case <-s.wake:
		case <-tick.C:
		}
	}
	s.finish()
	s.enc.Close()
}

// batch processes one batch.
func (s *shard) batch(b *Batch) {
	mode := s.p.cfg.Dedupe
	if s.tab != nil {
		var acc uint64
		for i := range b.items {
			acc += s.tab.touch(b.items[i].h1)
		}
		s.sink = acc
	}
	for i := range b.items {
		it := &b.items[i]
		if it.clock > s.clock {
			s.clock = it.clock
		}
		if mode == DedupeNone || mode == DedupeRRset && !it.rrset {
			s.writeItem(b, it)
			continue
		}
		s.expire()
		e, x, collide := s.tab.lookup(it.h1, it.h2)
		if e != nil {
			e.dups++
			s.st.Deduped++
			if x != nil {
				x.tFirst, x.tLast = min(x.tFirst, it.sec), max(x.tLast, it.sec)
			}
			continue
		}
		if collide {
			s.st.Untracked++
			s.writeItem(b, it)
			continue
		}
		if s.tab.full() {
			s.st.ExpiredEarly++
			s.leave()
		}
		rec, idx := s.writeItem(b, it)
		var rx rrExtra
		if mode == DedupeRRset {
			s.st.Insertions++
			rx = rrExtra{msg: append([]byte(nil), b.bytes(it)...), tFirst: it.sec, tLast: it.sec}
		}
		s.tab.insert(entry{h1: it.h1, h2: it.h2, first: s.clock, rec: rec, idx: idx}, rx)
	}
	if s.n > 0 && time.Since(s.started) >= s.p.cfg.FlushInterval {
		s.flushRecord()
	}
}

// expire lets every entry whose window has passed leave.
func (s *shard) expire() {
	w := int64(s.p.cfg.Window)
	for s.tab.len() > 0 && s.clock-s.tab.oldest().first >= w {
		s.leave()
	}
}

// leave removes the oldest entry, recording its count (payload mode) or
// storing its EXPIRATION (rrset mode).
func (s *shard) leave() {
	if s.p.cfg.Dedupe == DedupeRRset {
		e, x := s.tab.pop()
		s.scratch = appendExpiration(s.scratch[:0], x.msg, e.dups+1, x.tFirst, x.tLast)
		s.xpl = nmsg.Payload{Vid: nmsg.VendorSIE, Msgtype: msgtypeDNSDedupe, TimeSec: s.clock / 1e9,
			TimeNsec: uint32(s.clock % 1e9), Message: s.scratch, HasMessage: true}
		s.st.Expirations++
		s.write(&s.xpl)
		return
	}
	if e := s.tab.oldest(); e.dups > 0 && e.rec == s.recNo {
		s.flushRecord() // its position must be known
	}
	e, _ := s.tab.pop()
	if e.dups == 0 {
		return
	}
	pos := s.pos[e.rec-s.posBase]
	if !pos.ok {
		return // its record was lost with the spool (counted in Failed)
	}
	s.meta = appendCount(s.meta, Count{Segment: pos.seg, Offset: pos.off, Index: e.idx, Duplicates: uint64(e.dups)})
	s.st.Counts++
	if len(s.meta) >= maxMeta {
		s.flushRecord()
	}
}

// writeItem adds a batch item to the open record and returns its place:
// the record number and its ordinal there.
func (s *shard) writeItem(b *Batch, it *item) (rec uint64, idx uint32) {
	rec, idx = s.place(int(it.msgLen), it.sec*1e9+int64(it.nsec))
	var err error
	if it.wire {
		err = s.w.WriteWire(b.bytes(it), it.crc)
	} else {
		b.payload(it, &s.pl)
		err = s.w.Write(&s.pl)
	}
	// The buffer never fails and the record stays under the writer's
	// container size, so writing only buffers.
	if err != nil {
		s.fail(err)
	}
	return rec, idx
}

// write adds p to the open record.
func (s *shard) write(p *nmsg.Payload) {
	s.place(len(p.Message), p.TimeSec*1e9+int64(p.TimeNsec))
	if err := s.w.Write(p); err != nil {
		s.fail(err)
	}
}

// place makes room in the open record for a payload with a message of n
// bytes dated t (ns), cutting the record first when the payload would not
// fit, and returns the payload's place: the record number and its
// ordinal there.
func (s *shard) place(n int, t int64) (rec uint64, idx uint32) {
	sz := n + 64 // over-estimates the payload's share of its container
	if s.n > 0 && s.est+sz > s.p.cfg.RecordBytes {
		s.flushRecord()
	}
	if s.n == 0 {
		s.started = time.Now()
		s.first, s.last = t, t
	}
	rec, idx = s.recNo, s.n
	s.est += sz
	s.n++
	s.first, s.last = min(s.first, t), max(s.last, t)
	return rec, idx
}

// flushRecord compresses the open record and appends it to the spool.
func (s *shard) flushRecord() {
	if s.n == 0 && len(s.meta) == 0 {
		return
	}
	if err := s.w.Flush(); err != nil {
		s.fail(err)
	}
	s.st.ContainerBytes += uint64(len(s.out.b))
	pos := recPos{}
	if s.err == nil {
		s.zbuf = s.enc.EncodeAll(s.out.b, s.zbuf[:0])
		rec := spool.Record{Payloads: s.n, Meta: s.meta, Data: s.zbuf}
		if s.n > 0 {
			rec.First, rec.Last = time.Unix(0, s.first).UTC(), time.Unix(0, s.last).UTC()
		}
		t, err := s.p.sp.Append(s.p.cfg.Channel, rec)
		if err != nil {
			s.fail(err)
		} else {
			pos = recPos{seg: t.Segment, off: t.Offset, ok: true}
			s.st.Appended += uint64(s.n)
			s.st.Records++
			s.st.RecordBytes += uint64(len(s.zbuf))
			s.mu.Lock()
			s.pend = append(s.pend, pending{lsn: t.LSN, payloads: uint64(s.n)})
			s.mu.Unlock()
		}
	}
	if !pos.ok {
		s.st.Failed += uint64(s.n)
	}
	s.pos = append(s.pos, pos)
	s.recNo++
	s.out.b, s.est, s.n, s.meta = s.out.b[:0], 0, 0, s.meta[:0]
	// Forget the positions no entry refers to any more.
	keep := s.recNo
	if s.tab != nil && s.tab.len() > 0 {
		keep = s.tab.oldest().rec
	}
	if drop := int(keep - s.posBase); drop > 0 && drop <= len(s.pos) && drop > len(s.pos)/2 {
		s.pos = append(s.pos[:0], s.pos[drop:]...)
		s.posBase = keep
	}
}

func (s *shard) fail(err error) {
	if s.err == nil {
		s.err = err
		s.p.fail(err)
	}
}

// finish stores what is left when every reader is done: the open record,
// then every entry's count or EXPIRATION.
func (s *shard) finish() {
	s.flushRecord()
	if s.tab != nil {
		for s.tab.len() > 0 {
			s.leave()
		}
	}
	s.flushRecord()
	s.publish()
}

func (s *shard) publish() {
	if s.tab != nil {
		s.st.Entries = uint64(s.tab.len())
	}
	s.mu.Lock()
	stored := s.snap.Stored
	s.snap = s.st
	s.snap.Stored = stored
	s.mu.Unlock()
}

// stats returns the shard's counters, moving records the spool has made
// durable (up to lsn) into Stored.
func (s *shard) stats(lsn uint64) ShardStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for ; i < len(s.pend) && s.pend[i].lsn <= lsn; i++ {
		s.snap.Stored += s.pend[i].payloads
	}
	s.pend = s.pend[i:]
	return s.snap
}
