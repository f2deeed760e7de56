package spool

import (
	"fmt"
	"hash/crc32"
	"time"
)

// Record body layout (after the 16-byte frame header):
//
//	kind u8 (=1), flags u8 (=0), meta length u16, payloads u32,
//	first payload time i64 (Unix ns), last payload time i64,
//	meta bytes, data bytes (one zstd frame; opaque to the spool).
const recordFixed = 24

// MaxMeta is the largest metadata blob a record can carry.
const MaxMeta = 1<<16 - 1

// Record is what the pipeline stores: one self-contained zstd frame (Data,
// compressed by the caller; the spool never looks inside) and its metadata.
// Records returned by readers alias the reader's buffers until its next call.
type Record struct {
	First    time.Time // time of the earliest payload in Data
	Last     time.Time // time of the latest payload in Data
	Payloads uint32    // number of payloads in Data
	Meta     []byte    // opaque to the spool (e.g. dedupe counts), ≤ MaxMeta bytes
	Data     []byte    // one zstd frame
}

// Overlaps reports whether the record's payload time range [First, Last]
// meets the half-open range [from, to); a zero from or to is unbounded.
func (r *Record) Overlaps(from, to time.Time) bool {
	if !to.IsZero() && !r.First.IsZero() && !r.First.Before(to) {
		return false
	}
	if !from.IsZero() && !r.Last.IsZero() && r.Last.Before(from) {
		return false
	}
	return true
}

// frameLen is the size of r's frame on disk.
func frameLen(r *Record) int {
	return frameHeaderSize + recordFixed + len(r.Meta) + len(r.Data)
}

// appendFrame appends r's frame to dst and returns it with the CRC-32C of
// the body alone; finishFrame completes the frame once its batch start is
// known (at commit time), without hashing the body again.
func appendFrame(dst []byte, r *Record) ([]byte, uint32) {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeaderSize+recordFixed)...)
	h := dst[start:]
	body := h[frameHeaderSize:]
	body[0] = kindRecord
	le.PutUint16(body[2:], uint16(len(r.Meta)))
	le.PutUint32(body[4:], r.Payloads)
	le.PutUint64(body[8:], uint64(toNS(r.First)))
	le.PutUint64(body[16:], uint64(toNS(r.Last)))
	dst = append(dst, r.Meta...)
	dst = append(dst, r.Data...)
	b := dst[start:]
	le.PutUint32(b, uint32(len(b)-frameHeaderSize))
	return dst, crc32.Checksum(b[frameHeaderSize:], castagnoli)
}

// finishFrame sets the batch start and final CRC of a frame whose body
// checksum is bodyCRC.
func finishFrame(b []byte, bodyCRC uint32, batch int64) {
	putFrameHeader(b, bodyCRC, batch)
}

// putFrameHeader writes the frame header of b (whose body follows it) given
// the CRC-32C of the body. The frame CRC is CRC-32C(body ‖ length ‖ batch).
func putFrameHeader(b []byte, bodyCRC uint32, batch int64) {
	le.PutUint32(b[0:], uint32(len(b)-frameHeaderSize))
	le.PutUint64(b[8:], uint64(batch))
	le.PutUint32(b[4:], frameCRC(bodyCRC, b[0:4], b[8:16]))
}

// frameCRC extends the body's CRC with the length and batch start fields
// (slices of the frame header, so nothing is allocated).
func frameCRC(bodyCRC uint32, length, batch []byte) uint32 {
	return crc32.Update(crc32.Update(bodyCRC, castagnoli, length), castagnoli, batch)
}

// frame is a parsed frame; body aliases the input.
type frame struct {
	batch int64
	body  []byte
}

type frameHead struct {
	length uint32
	crc    uint32
	batch  int64
}

func readFrameHead(b []byte) frameHead {
	return frameHead{length: le.Uint32(b), crc: le.Uint32(b[4:]), batch: int64(le.Uint64(b[8:]))}
}

// plausible is check without the error, for scanning candidates.
func (h frameHead) plausible(off int64) bool {
	return h.length != 0 && h.length <= maxFrameBody && h.batch >= headerSize && h.batch <= off
}

// check validates the fields of a frame header found at offset off; off < 0
// skips the offset-dependent checks.
func (h frameHead) check(off int64) error {
	if h.length == 0 || h.length > maxFrameBody {
		return fmt.Errorf("frame length %d: %w", h.length, ErrCorrupt)
	}
	if off >= 0 && (h.batch < headerSize || h.batch > off) {
		return fmt.Errorf("batch start %d at offset %d: %w", h.batch, off, ErrCorrupt)
	}
	return nil
}

func (h frameHead) verify(head, body []byte) error {
	if frameCRC(crc32.Checksum(body, castagnoli), head[0:4], head[8:16]) != h.crc {
		return fmt.Errorf("frame checksum mismatch: %w", ErrCorrupt)
	}
	return nil
}

// parseFrame parses one frame from the start of b and returns it and its
// total size.
func parseFrame(b []byte) (frame, int, error) {
	if len(b) < frameHeaderSize {
		return frame{}, 0, ErrShort
	}
	h := readFrameHead(b)
	if err := h.check(-1); err != nil {
		return frame{}, 0, err
	}
	n := frameHeaderSize + int(h.length)
	if len(b) < n {
		return frame{}, 0, ErrShort
	}
	if err := h.verify(b[:frameHeaderSize], b[frameHeaderSize:n]); err != nil {
		return frame{}, 0, err
	}
	return frame{batch: h.batch, body: b[frameHeaderSize:n]}, n, nil
}

// ParseRecord parses a record frame from the start of b (as read from a
// segment at a record's offset) and returns the record, aliasing b, and the
// frame's size.
func ParseRecord(b []byte) (Record, int, error) {
	fr, n, err := parseFrame(b)
	if err != nil {
		return Record{}, 0, fmt.Errorf("parse record: %w", err)
	}
	r, err := parseRecordBody(fr.body)
	if err != nil {
		return Record{}, 0, err
	}
	return r, n, nil
}

func parseRecordBody(body []byte) (Record, error) {
	var r Record
	if body[0] != kindRecord {
		return r, fmt.Errorf("parse record: kind %d: %w", body[0], ErrCorrupt)
	}
	if len(body) < recordFixed {
		return r, fmt.Errorf("parse record: body size %d: %w", len(body), ErrCorrupt)
	}
	if body[1] != 0 {
		return r, fmt.Errorf("parse record: flags %#x: %w", body[1], ErrCorrupt)
	}
	ml := int(le.Uint16(body[2:]))
	if recordFixed+ml > len(body) {
		return r, fmt.Errorf("parse record: meta length %d: %w", ml, ErrCorrupt)
	}
	r.Payloads = le.Uint32(body[4:])
	r.First = fromNS(int64(le.Uint64(body[8:])))
	r.Last = fromNS(int64(le.Uint64(body[16:])))
	r.Meta = body[recordFixed : recordFixed+ml : recordFixed+ml]
	r.Data = body[recordFixed+ml:]
	return r, nil
}
