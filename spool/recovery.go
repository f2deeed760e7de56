package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const quarantineDir = "quarantine"

// recover brings the directory to a consistent state before the committer
// starts:
//
//   - evictions recorded in the ledger whose file survived a crash are
//     completed, and unfinished new-segment files (*.tmp) are removed;
//   - a segment with a valid footer at its end is sealed and trusted (Verify
//     checks its records and checksum);
//   - every other segment is walked: a torn tail is cut (with a LossTorn
//     ledger entry when whole records followed the damage), then the segment
//     is sealed; corruption (a bad frame with a later batch after it) or an
//     unreadable header moves the segment to quarantine/ with a LossCorrupt
//     ledger entry.
//
// Appends always go to new segments, so recovery never appends to an old one.
func (s *Spool) recover() error {
	start := time.Now()
	ldg, losses, err := openLedger(s.dir)
	if err != nil {
		return err
	}
	s.ldg = ldg
	rep := &s.recovery
	evicted := map[SegmentID]bool{}
	maxSeq := map[uint32]uint64{}
	see := func(id SegmentID) {
		if id.Node == s.opts.Node && id.Seq > maxSeq[id.Channel] {
			maxSeq[id.Channel] = id.Seq
		}
	}
	for _, e := range losses {
		see(e.Segment)
		if e.Reason == LossBudget || e.Reason == LossAge || e.Reason == LossNoSpace {
			evicted[e.Segment] = true
		}
	}
	if qs, err := os.ReadDir(filepath.Join(s.dir, quarantineDir)); err == nil {
		for _, q := range qs {
			if id, err := ParseSegmentID(q.Name()); err == nil {
				see(id)
			}
		}
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list spool directory: %w", err)
	}
	var unsealed []string
	for _, de := range ents {
		name := de.Name()
		path := filepath.Join(s.dir, name)
		if strings.HasSuffix(name, segExt+tmpExt) {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove unfinished segment: %w", err)
			}
			rep.TempRemoved++
			continue
		}
		if !strings.HasSuffix(name, segExt) {
			continue
		}
		id, err := ParseSegmentID(name)
		if err != nil {
			s.log.Warn("spool: file with a segment suffix but no segment name left alone", "file", name)
			continue
		}
		see(id)
		rep.Segments++
		if evicted[id] {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("complete eviction of %s: %w", id, err)
			}
			rep.Segments--
			continue
		}
		info, ok, err := sealedInfo(path, id)
		if err != nil {
			return err
		}
		if !ok {
			unsealed = append(unsealed, name)
			continue
		}
		s.segs[id] = &segment{id: id, state: StateSealed, size: info.Bytes, records: info.Records,
			payloads: info.Payloads, first: toNS(info.First), last: toNS(info.Last),
			created: toNS(info.Created), sealed: toNS(info.Sealed)}
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	sort.Strings(unsealed)
	for _, name := range unsealed {
		if err := s.recoverSegment(name); err != nil {
			return err
		}
	}
	for ch, q := range maxSeq {
		s.chanLocked(ch).nextSeq = q + 1
	}
	if err := s.enforceRetention(); err != nil {
		return err
	}
	rep.Duration = time.Since(start)
	if rep.Truncated+rep.Quarantined+rep.TempRemoved+rep.Resealed > 0 {
		s.log.Info("spool recovered", "dir", s.dir, "segments", rep.Segments, "resealed", rep.Resealed,
			"truncated", rep.Truncated, "truncated_bytes", rep.TruncatedBytes, "quarantined", rep.Quarantined,
			"duration", rep.Duration)
	}
	return nil
}

// sealedInfo reports whether the segment at path ends with a valid footer
// under a valid header naming id.
func sealedInfo(path string, id SegmentID) (SegmentInfo, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return SegmentInfo{}, false, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return SegmentInfo{}, false, fmt.Errorf("stat segment: %w", err)
	}
	ft, ok := tailFooter(f, st.Size())
	if !ok {
		return SegmentInfo{}, false, nil
	}
	hb := make([]byte, headerSize)
	if _, err := f.ReadAt(hb, 0); err != nil {
		return SegmentInfo{}, false, nil
	}
	h, err := ParseHeader(hb)
	if err != nil || h.ID != id {
		return SegmentInfo{}, false, nil
	}
	return infoFromFooter(h, ft, st.Size()), true, nil
}

// recoverSegment walks one unsealed segment, cuts a torn tail and seals it,
// or quarantines it.
func (s *Spool) recoverSegment(name string) error {
	path := filepath.Join(s.dir, name)
	id, _ := ParseSegmentID(name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat segment: %w", err)
	}
	s.recovery.Scanned++
	res, err := scanSegment(f, st.Size(), name, nil)
	if err != nil {
		f.Close()
		return err
	}
	if res.headerErr == nil && res.header.ID != id {
		res.headerErr = &CorruptError{Segment: name, Reason: fmt.Sprintf("header names segment %s", res.header.ID)}
	}
	if derr := res.damage(); derr != nil {
		f.Close()
		return s.quarantine(name, id, st.Size(), &res, derr)
	}
	if res.sealed { // footer valid but the file did not end with it: cannot happen after damage() == nil
		f.Close()
		return fmt.Errorf("recover segment %s: sealed segment not recognised", name)
	}
	if res.end < st.Size() {
		if err := f.Truncate(res.end); err != nil {
			f.Close()
			return fmt.Errorf("truncate torn tail of %s: %w", name, err)
		}
		if res.cutFrames > 0 {
			// Whole records followed the damage in the last batch: a power loss
			// that persisted pages out of order, so they were never reported
			// durable, unless the disk lost synced bytes. Either way, say so.
			e := LossEntry{At: time.Now(), Reason: LossTorn, Segment: id, Bytes: st.Size() - res.end,
				Records: uint64(res.cutFrames), Detail: fmt.Sprintf("torn tail cut at offset %d: %s", res.end, res.bad.Reason)}
			if err := s.ldg.append(&e); err != nil {
				f.Close()
				return fmt.Errorf("recover segment %s: %w", name, err)
			}
		}
		s.recovery.Truncated++
		s.recovery.TruncatedBytes += st.Size() - res.end
		s.log.Warn("spool: torn tail cut", "segment", name, "offset", res.end, "bytes", st.Size()-res.end,
			"reason", res.bad.Reason)
	}
	g := &segment{id: id, state: StateOpen, size: res.end, records: res.records, payloads: res.payloads,
		first: res.first, last: res.last, created: toNS(res.header.Created), f: f, off: res.end, crc: res.crc}
	s.segs[id] = g
	if err := s.seal(g); err != nil {
		return err
	}
	s.recovery.Resealed++
	return nil
}

// quarantine records a damaged segment in the loss ledger and moves it to
// quarantine/.
func (s *Spool) quarantine(name string, id SegmentID, size int64, res *scanResult, why error) error {
	e := LossEntry{At: time.Now(), Reason: LossCorrupt, Segment: id, Bytes: size, Records: res.records,
		Payloads: res.payloads, First: fromNS(res.first), Last: fromNS(res.last), Detail: why.Error()}
	if err := s.ldg.append(&e); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	q := filepath.Join(s.dir, quarantineDir, name)
	if err := os.Rename(filepath.Join(s.dir, name), q); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	if err := syncDir(filepath.Join(s.dir, quarantineDir)); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.recovery.Quarantined++
	s.log.Error("spool: corrupt segment quarantined", "segment", name, "err", why)
	return nil
}
