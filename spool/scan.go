package spool

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// scanResult is what a walk over a segment's frames found.
type scanResult struct {
	header    Header
	headerErr error // the header is unreadable: nothing else is valid

	end      int64 // end of the valid prefix (after the footer when sealed)
	records  uint64
	payloads uint64
	first    int64 // Unix ns, 0 if no records
	last     int64
	crc      uint32 // CRC-32C of the valid record prefix (footer excluded)

	sealed bool
	footer Footer

	bad       *CorruptError // first bad frame, nil if none
	corrupt   bool          // bad is corruption (not a torn tail)
	cutFrames int           // torn tail: valid frames of the last batch after bad
}

// damage returns the finding as an error, nil for a clean or torn segment.
func (r *scanResult) damage() error {
	if r.headerErr != nil {
		return r.headerErr
	}
	if r.corrupt {
		return r.bad
	}
	return nil
}

func (r *scanResult) addRecord(rec *Record) {
	r.records++
	r.payloads += uint64(rec.Payloads)
	if f := toNS(rec.First); f != 0 && (r.first == 0 || f < r.first) {
		r.first = f
	}
	if l := toNS(rec.Last); l != 0 && l > r.last {
		r.last = l
	}
}

// scanSegment walks every frame of the segment in ra (size bytes), checking
// each CRC, and calls visit (if not nil) for each valid record. At the first
// bad frame it decides between a torn tail and corruption: the tail is torn
// when no valid frame after it belongs to a later batch, because a batch is
// only written after the previous one was fsynced. A sealed segment's footer
// is checked against what the walk counted.
func scanSegment(ra io.ReaderAt, size int64, name string, visit func(off int64, rec *Record) error) (scanResult, error) {
	var res scanResult
	hb := make([]byte, headerSize)
	if size < headerSize {
		res.headerErr = &CorruptError{Segment: name, Offset: 0, Reason: fmt.Sprintf("file of %d bytes has no header", size)}
		return res, nil
	}
	if _, err := ra.ReadAt(hb, 0); err != nil {
		return res, fmt.Errorf("read header of %s: %w", name, err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		res.headerErr = &CorruptError{Segment: name, Offset: 0, Reason: err.Error()}
		return res, nil
	}
	res.header = h
	res.crc = crc32.Checksum(hb, castagnoli)
	off := int64(headerSize)
	br := bufio.NewReaderSize(io.NewSectionReader(ra, off, size-off), int(min(size-off+16, 256<<10)))
	head := make([]byte, frameHeaderSize)
	var body []byte
	bad := func(reason string) {
		res.bad = &CorruptError{Segment: name, Offset: off, Reason: reason}
	}
walk:
	for off < size {
		if size-off < frameHeaderSize {
			bad("short frame header")
			break
		}
		if _, err := io.ReadFull(br, head); err != nil {
			return res, fmt.Errorf("read %s at %d: %w", name, off, err)
		}
		fh := readFrameHead(head)
		if err := fh.check(off); err != nil {
			bad(err.Error())
			break
		}
		if off+frameHeaderSize+int64(fh.length) > size {
			bad(fmt.Sprintf("frame of %d bytes runs past end of file", fh.length))
			break
		}
		if cap(body) < int(fh.length) {
			body = make([]byte, fh.length)
		}
		body = body[:fh.length]
		if _, err := io.ReadFull(br, body); err != nil {
			return res, fmt.Errorf("read %s at %d: %w", name, off, err)
		}
		if err := fh.verify(head, body); err != nil {
			bad(err.Error())
			break
		}
		switch body[0] {
		case kindRecord:
			rec, err := parseRecordBody(body)
			if err != nil {
				bad(err.Error())
				break walk
			}
			res.addRecord(&rec)
			if visit != nil {
				if err := visit(off, &rec); err != nil {
					return res, err
				}
			}
			res.crc = crc32.Update(res.crc, castagnoli, head)
			res.crc = crc32.Update(res.crc, castagnoli, body)
			off += frameHeaderSize + int64(fh.length)
		case kindFooter:
			f, err := parseFooterBody(frame{batch: fh.batch, body: body})
			if err != nil {
				bad(err.Error())
				break walk
			}
			if reason := footerMismatch(&f, &res, off, size); reason != "" {
				bad(reason)
				res.corrupt = true // a footer is written after its records were synced
				res.end = off
				return res, nil
			}
			res.sealed, res.footer = true, f
			off += footerSize
			break walk
		default:
			bad(fmt.Sprintf("frame kind %d", body[0]))
			break walk
		}
	}
	res.end = off
	if res.bad != nil {
		later, same, err := laterBatch(ra, res.bad.Offset, size)
		if err != nil {
			return res, fmt.Errorf("scan %s: %w", name, err)
		}
		res.cutFrames = same
		if later >= 0 {
			res.corrupt = true
			res.bad.Reason += fmt.Sprintf(" (a later batch follows at offset %d)", later)
		}
	}
	return res, nil
}

func footerMismatch(f *Footer, res *scanResult, off, size int64) string {
	switch {
	case f.Offset != off:
		return fmt.Sprintf("footer offset %d at %d", f.Offset, off)
	case off+footerSize != size:
		return fmt.Sprintf("%d bytes after the footer", size-off-footerSize)
	case f.Records != res.records || f.Payloads != res.payloads:
		return fmt.Sprintf("footer counts %d records/%d payloads, segment holds %d/%d", f.Records, f.Payloads, res.records, res.payloads)
	case toNS(f.First) != res.first || toNS(f.Last) != res.last:
		return "footer time range differs from the records'"
	case f.Checksum != res.crc:
		return fmt.Sprintf("segment checksum %08x, footer says %08x", res.crc, f.Checksum)
	}
	return ""
}

// laterBatch searches (bad, size) for a valid frame whose batch started
// after bad, and returns its offset, or -1 if there is none; it also counts
// the valid frames of bad's own batch found after bad (they are cut with a
// torn tail). Candidates are filtered on cheap header checks before their
// CRC is computed.
func laterBatch(ra io.ReaderAt, bad, size int64) (later int64, sameBatch int, err error) {
	w := window{ra: ra, size: size}
	for off := bad + 1; off+frameHeaderSize <= size; off++ {
		b, err := w.at(off)
		if err != nil {
			return -1, sameBatch, err
		}
		fh := readFrameHead(b)
		end := off + frameHeaderSize + int64(fh.length)
		if !fh.plausible(off) || end > size {
			continue
		}
		if len(b) > frameHeaderSize {
			if k := b[frameHeaderSize]; k != kindRecord && k != kindFooter {
				continue
			}
		}
		fb := make([]byte, end-off)
		if _, err := ra.ReadAt(fb, off); err != nil {
			return -1, sameBatch, fmt.Errorf("read at %d: %w", off, err)
		}
		if fh.verify(fb[:frameHeaderSize], fb[frameHeaderSize:]) != nil {
			continue
		}
		if fh.batch > bad {
			return off, sameBatch, nil
		}
		sameBatch++
		off = end - 1
	}
	return -1, sameBatch, nil
}

// window is a sliding read buffer over a ReaderAt.
type window struct {
	ra   io.ReaderAt
	size int64
	base int64
	buf  []byte
}

// at returns the bytes from off on: at least a frame header and kind byte,
// or up to the end of the file.
func (w *window) at(off int64) ([]byte, error) {
	const need = frameHeaderSize + 1
	if off < w.base || off+need > w.base+int64(len(w.buf)) {
		n := min(int64(1<<20), w.size-off)
		if int64(cap(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		w.buf = w.buf[:n]
		if _, err := w.ra.ReadAt(w.buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read at %d: %w", off, err)
		}
		w.base = off
	}
	return w.buf[off-w.base:], nil
}

// tailFooter reads the footer at the end of a segment of size bytes, if it
// has a valid one.
func tailFooter(ra io.ReaderAt, size int64) (Footer, bool) {
	if size < headerSize+footerSize {
		return Footer{}, false
	}
	b := make([]byte, footerSize)
	if _, err := ra.ReadAt(b, size-footerSize); err != nil {
		return Footer{}, false
	}
	f, err := ParseFooter(b)
	if err != nil || f.Offset != size-footerSize {
		return Footer{}, false
	}
	return f, true
}

// infoFromFooter builds the listing of a sealed segment.
func infoFromFooter(h Header, f Footer, size int64) SegmentInfo {
	return SegmentInfo{
		ID: h.ID, State: StateSealed, Bytes: size,
		Records: f.Records, Payloads: f.Payloads, First: f.First, Last: f.Last,
		Created: h.Created, Sealed: f.Sealed,
	}
}

// infoFromScan builds the listing of a scanned segment.
func infoFromScan(res *scanResult, state State) SegmentInfo {
	info := SegmentInfo{
		ID: res.header.ID, State: state, Bytes: res.end,
		Records: res.records, Payloads: res.payloads,
		First: fromNS(res.first), Last: fromNS(res.last), Created: res.header.Created,
	}
	if res.sealed {
		info.State, info.Sealed = StateSealed, res.footer.Sealed
	}
	return info
}
