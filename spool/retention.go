package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// enforceRetention evicts the oldest sealed segments while the spool is over
// its byte budget, then every sealed segment older than MaxAge. It runs on
// the committer after each commit and on the housekeeping tick.
func (s *Spool) enforceRetention() error {
	for {
		s.mu.Lock()
		var total int64
		for _, g := range s.segs {
			total += g.size
		}
		var reason LossReason
		victim := s.oldestSealedLocked(SegmentID{}, false)
		switch {
		case victim == nil:
		case s.opts.MaxBytes > 0 && total > s.opts.MaxBytes:
			reason = LossBudget
		case s.opts.MaxAge > 0 && time.Now().UnixNano()-victim.sealed > int64(s.opts.MaxAge):
			reason = LossAge
		}
		if reason == 0 {
			s.mu.Unlock()
			return nil
		}
		delete(s.segs, victim.id)
		s.mu.Unlock()
		if err := s.evict(victim, reason); err != nil {
			return err
		}
	}
}

// oldestSealedLocked returns the sealed segment sealed first (ties by id),
// skipping except when skip is set.
func (s *Spool) oldestSealedLocked(except SegmentID, skip bool) *segment {
	var v *segment
	for id, g := range s.segs {
		if g.state != StateSealed || (skip && id == except) {
			continue
		}
		if v == nil || g.sealed < v.sealed || (g.sealed == v.sealed && id.less(v.id)) {
			v = g
		}
	}
	return v
}

// evictOne evicts the oldest sealed segment other than except. It reports
// false when there is none.
func (s *Spool) evictOne(reason LossReason, except SegmentID) (bool, error) {
	s.mu.Lock()
	v := s.oldestSealedLocked(except, true)
	if v != nil {
		delete(s.segs, v.id)
	}
	s.mu.Unlock()
	if v == nil {
		return false, nil
	}
	return true, s.evict(v, reason)
}

// evict records v in the loss ledger and removes its file (v is already out
// of the index). The entry is written first so no loss goes unrecorded; on
// a full disk the file is removed first to make room for the entry.
func (s *Spool) evict(v *segment, reason LossReason) error {
	s.mu.Lock()
	e := LossEntry{At: time.Now(), Reason: reason, Segment: v.id, Bytes: v.size, Records: v.records,
		Payloads: v.payloads, First: fromNS(v.first), Last: fromNS(v.last)}
	s.mu.Unlock()
	path := filepath.Join(s.dir, v.id.fileName())
	err := s.ldg.append(&e)
	removed := false
	if errors.Is(err, syscall.ENOSPC) {
		if rerr := os.Remove(path); rerr != nil {
			return fmt.Errorf("evict segment %s: %w", v.id, rerr)
		}
		removed = true
		err = s.ldg.append(&e)
	}
	if err != nil {
		return fmt.Errorf("evict segment %s: %w", v.id, err)
	}
	if !removed {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("evict segment %s: %w", v.id, err)
		}
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("evict segment %s: %w", v.id, err)
	}
	s.log.Warn("spool segment evicted", "segment", v.id.String(), "reason", reason.String(), "bytes", v.size,
		"first", e.First, "last", e.Last)
	s.mu.Lock()
	s.stats.Evicted++
	s.stats.EvictedBytes += uint64(v.size)
	s.signalLocked()
	s.mu.Unlock()
	return nil
}
