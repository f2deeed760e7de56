package spool

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// run is the committer: the one goroutine that writes, fsyncs, seals and
// evicts. It commits when CommitInterval passed since the oldest pending
// item was queued, when CommitBytes are pending, or at once for Sync, Seal
// and Close.
func (s *Spool) run() {
	defer close(s.done)
	house := time.NewTicker(s.housekeepingInterval())
	defer house.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.err != nil {
			s.mu.Unlock()
			return
		}
		var work [][]item
		wait := time.Duration(-1)
		if s.pendingItems > 0 {
			age := time.Since(s.oldest)
			if s.urgent > 0 || s.closing || s.pendingBytes >= s.opts.CommitBytes || age >= s.opts.CommitInterval {
				work = s.takeLocked()
			} else {
				wait = s.opts.CommitInterval - age
			}
		}
		stop := s.closing && work == nil
		s.mu.Unlock()
		if work != nil {
			if err := s.commit(work); err != nil {
				s.fail(err)
				return
			}
			continue
		}
		if stop {
			return
		}
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-s.kick:
		case <-timer.C:
		case <-house.C:
			if err := s.housekeeping(); err != nil {
				s.fail(err)
				return
			}
		}
		timer.Stop()
	}
}

func (s *Spool) housekeepingInterval() time.Duration {
	d := time.Second
	for _, b := range []time.Duration{s.opts.SegmentAge / 4, s.opts.MaxAge / 4} {
		if b > 0 && b < d {
			d = b
		}
	}
	return max(d, 10*time.Millisecond)
}

// housekeeping seals segments past their age bound and applies retention.
func (s *Spool) housekeeping() error {
	s.mu.Lock()
	now := time.Now().UnixNano()
	for _, c := range s.chans {
		if c.cur != nil && now-c.cur.created >= int64(s.opts.SegmentAge) {
			s.queueSealLocked(c)
		}
	}
	s.mu.Unlock()
	return s.enforceRetention()
}

// takeLocked removes every queued item, per channel in order.
func (s *Spool) takeLocked() [][]item {
	var work [][]item
	for _, c := range s.chans {
		if len(c.queue) > 0 {
			work = append(work, c.queue)
			c.queue, c.spare = c.spare, nil
		}
	}
	s.pendingBytes, s.pendingItems = 0, 0
	return work
}

// fail makes err the sticky error: the writer stops loudly.
func (s *Spool) fail(err error) {
	s.log.Error("spool writer stopped", "dir", s.dir, "err", err)
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("spool writer stopped: %w", err)
	}
	s.signalLocked()
	s.mu.Unlock()
}

// commit writes and fsyncs the queued items, segment by segment, and
// publishes each segment's new durable length as soon as its fsync returns.
func (s *Spool) commit(work [][]item) error {
	for _, items := range work {
		for i := 0; i < len(items); {
			g := items[i].seg
			j := i
			for j < len(items) && items[j].seg == g && !items[j].seal {
				j++
			}
			if j > i {
				if err := s.writeBatch(g, items[i:j]); err != nil {
					return err
				}
				s.published(g, items[i:j])
			}
			if j < len(items) && items[j].seal && items[j].seg == g {
				if err := s.seal(g); err != nil {
					return err
				}
				j++
			}
			i = j
		}
		ch := items[0].seg.id.Channel
		clear(items)
		s.mu.Lock()
		if c := s.chans[ch]; c != nil && c.spare == nil {
			c.spare = items[:0]
		}
		s.mu.Unlock()
	}
	return s.enforceRetention()
}

// published records that items were made durable in g.
func (s *Spool) published(g *segment, items []item) {
	s.mu.Lock()
	c := s.chans[g.id.Channel]
	for i := range items {
		it := &items[i]
		g.records++
		g.payloads += uint64(it.rec.payloads)
		if it.rec.first != 0 && (g.first == 0 || it.rec.first < g.first) {
			g.first = it.rec.first
		}
		if it.rec.last > g.last {
			g.last = it.rec.last
		}
		s.stats.DurableBytes += uint64(len(it.frame))
		c.durable = it.lsn
	}
	g.size = g.off
	s.stats.Durable += uint64(len(items))
	s.stats.Commits++
	s.signalLocked()
	s.mu.Unlock()
	for i := range items {
		s.bufs.put(items[i].frame)
		items[i].frame = nil
	}
}

// writeBatch writes items at the end of g as one batch and fsyncs it. On
// ENOSPC it cuts the file back, evicts the oldest sealed segment and tries
// again; with nothing left to evict, or on any other error, it fails.
func (s *Spool) writeBatch(g *segment, items []item) error {
	if g.f == nil {
		if err := s.create(g); err != nil {
			return err
		}
	}
	start := g.off
	for {
		off, crc := start, g.crc
		var err error
		for i := range items {
			fr := items[i].frame
			finishFrame(fr, items[i].bodyCRC, start)
			if _, err = g.f.WriteAt(fr, off); err != nil {
				break
			}
			crc = crc32.Update(crc, castagnoli, fr)
			off += int64(len(fr))
		}
		if err == nil {
			err = fdatasync(g.f)
		}
		if err == nil {
			g.off, g.crc = off, crc
			return nil
		}
		if err := s.retryNoSpace(g, start, err); err != nil {
			return err
		}
	}
}

// retryNoSpace handles a failed write or fsync of g at start: for ENOSPC it
// cuts g back to start and evicts one sealed segment (nil: try again).
func (s *Spool) retryNoSpace(g *segment, start int64, err error) error {
	werr := fmt.Errorf("write segment %s: %w", g.id, err)
	if !errors.Is(err, syscall.ENOSPC) {
		return werr
	}
	if terr := g.f.Truncate(start); terr != nil {
		return fmt.Errorf("%w (and truncate: %v)", werr, terr)
	}
	ok, eerr := s.evictOne(LossNoSpace, g.id)
	if eerr != nil {
		return fmt.Errorf("%w (and evict: %v)", werr, eerr)
	}
	if !ok {
		return fmt.Errorf("%w: no sealed segment left to evict", werr)
	}
	s.mu.Lock()
	s.stats.NoSpaceRetries++
	s.mu.Unlock()
	return nil
}

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// create makes g's file: header into a temporary file, fsync, rename,
// fsync of the directory. Only then is g listed.
func (s *Spool) create(g *segment) error {
	final := filepath.Join(s.dir, g.id.fileName())
	tmp := final + tmpExt
	hdr := encodeHeader(g.id, fromNS(g.created))
	for {
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("create segment %s: %w", g.id, err)
		}
		_, err = f.WriteAt(hdr, 0)
		if err == nil {
			err = fdatasync(f)
		}
		if err == nil {
			if err = os.Rename(tmp, final); err == nil {
				err = syncDir(s.dir)
			}
		}
		if err == nil {
			g.f, g.off, g.crc = f, headerSize, crc32.Checksum(hdr, castagnoli)
			s.mu.Lock()
			g.size = headerSize
			s.segs[g.id] = g
			s.signalLocked()
			s.mu.Unlock()
			return nil
		}
		f.Close()
		os.Remove(tmp)
		if !errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("create segment %s: %w", g.id, err)
		}
		ok, eerr := s.evictOne(LossNoSpace, g.id)
		if eerr != nil {
			return fmt.Errorf("create segment %s: %w (and evict: %v)", g.id, err, eerr)
		}
		if !ok {
			return fmt.Errorf("create segment %s: %w: no sealed segment left to evict", g.id, err)
		}
	}
}

// seal writes g's footer and fsyncs it; g becomes immutable.
func (s *Spool) seal(g *segment) error {
	if g.f == nil {
		if err := s.create(g); err != nil {
			return err
		}
	}
	s.mu.Lock()
	f := Footer{Records: g.records, Payloads: g.payloads, First: fromNS(g.first), Last: fromNS(g.last),
		Sealed: time.Now(), Offset: g.off, Checksum: g.crc}
	s.mu.Unlock()
	b := encodeFooter(f)
	for {
		_, err := g.f.WriteAt(b, g.off)
		if err == nil {
			err = fdatasync(g.f)
		}
		if err == nil {
			break
		}
		if err := s.retryNoSpace(g, g.off, err); err != nil {
			return err
		}
	}
	if err := g.f.Close(); err != nil {
		return fmt.Errorf("close segment %s: %w", g.id, err)
	}
	g.f = nil
	s.mu.Lock()
	g.state, g.size, g.sealed = StateSealed, g.off+footerSize, toNS(f.Sealed)
	s.stats.Sealed++
	s.signalLocked()
	s.mu.Unlock()
	return nil
}
