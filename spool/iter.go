package spool

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Iter walks one channel's records in append order (segment sequence, then
// offset), yielding those whose time range overlaps [from, to). It reads
// only durable bytes and checks every record's CRC: it never returns a
// corrupt record, it stops with an error naming the segment and offset.
//
// Next returns false at the durable end of the channel; Err is then nil.
// Calling Next again later continues with whatever has become durable since,
// so a follower waits on Spool.Progress and calls Next again.
type Iter struct {
	cat      catalog
	ch       uint32
	from, to time.Time

	seg     *SegmentReader
	off     int64
	lastSeq uint64 // segments with Seq ≤ lastSeq are done
	head    [frameHeaderSize]byte
	buf     []byte
	rec     Record
	recOff  int64
	err     error
}

// Next advances to the next matching record.
func (it *Iter) Next() bool {
	for it.err == nil {
		if it.seg == nil && !it.openNext() {
			return false
		}
		size, state, err := it.seg.Size()
		if err != nil {
			it.err = err
			return false
		}
		limit := size
		if state == StateSealed {
			limit = size - footerSize
		}
		if it.off >= limit {
			if state != StateSealed {
				if d := it.cat.damage(it.seg.id); d != nil {
					it.err = d
				}
				return false
			}
			it.lastSeq = it.seg.id.Seq
			it.seg.Close()
			it.seg = nil
			continue
		}
		if !it.read(limit) {
			return false
		}
		if it.rec.Overlaps(it.from, it.to) {
			return true
		}
	}
	return false
}

// openNext opens the channel's next segment that may hold matching records.
func (it *Iter) openNext() bool {
	for _, info := range it.cat.segmentList() {
		if info.ID.Channel != it.ch || info.ID.Seq <= it.lastSeq {
			continue
		}
		if info.State == StateSealed && !segmentOverlaps(info, it.from, it.to) {
			it.lastSeq = info.ID.Seq
			continue
		}
		r, err := openSegment(it.cat, info.ID)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("segment %s: %w", info.ID, ErrEvicted)
		}
		if err != nil {
			it.err = err
			return false
		}
		it.seg, it.off = r, headerSize
		return true
	}
	return false
}

func segmentOverlaps(info SegmentInfo, from, to time.Time) bool {
	if info.Records == 0 {
		return false
	}
	r := Record{First: info.First, Last: info.Last}
	return r.Overlaps(from, to)
}

// read reads and checks the frame at it.off (below limit).
func (it *Iter) read(limit int64) bool {
	bad := func(reason string) bool {
		it.err = &CorruptError{Segment: it.seg.id.fileName(), Offset: it.off, Reason: reason}
		return false
	}
	if limit-it.off < frameHeaderSize {
		return bad("short frame header")
	}
	if _, err := it.seg.f.ReadAt(it.head[:], it.off); err != nil {
		it.err = fmt.Errorf("read segment %s: %w", it.seg.id, err)
		return false
	}
	fh := readFrameHead(it.head[:])
	if err := fh.check(it.off); err != nil {
		return bad(err.Error())
	}
	n := int64(fh.length)
	if it.off+frameHeaderSize+n > limit {
		return bad("frame runs past the durable length")
	}
	if int64(cap(it.buf)) < n {
		it.buf = make([]byte, n)
	}
	body := it.buf[:n]
	if _, err := it.seg.f.ReadAt(body, it.off+frameHeaderSize); err != nil && !errors.Is(err, io.EOF) {
		it.err = fmt.Errorf("read segment %s: %w", it.seg.id, err)
		return false
	}
	if err := fh.verify(it.head[:], body); err != nil {
		return bad(err.Error())
	}
	rec, err := parseRecordBody(body)
	if err != nil {
		return bad(err.Error())
	}
	it.rec, it.recOff = rec, it.off
	it.off += frameHeaderSize + n
	return true
}

// Record returns the current record; its slices are valid until Next.
func (it *Iter) Record() *Record { return &it.rec }

// Position returns the current record's segment and frame offset.
func (it *Iter) Position() (SegmentID, int64) {
	if it.seg == nil {
		return SegmentID{}, 0
	}
	return it.seg.id, it.recOff
}

// Err returns the error that stopped the iteration, nil at the end.
func (it *Iter) Err() error { return it.err }

// Close releases the open segment.
func (it *Iter) Close() error {
	if it.seg != nil {
		err := it.seg.Close()
		it.seg = nil
		return err
	}
	return nil
}
