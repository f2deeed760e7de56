package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
)

// On-disk layout of a segment file (all integers little endian):
//
//	header  64 bytes: magic "SIECAPSG", version u16, header size u16, node u32,
//	        channel u32, reserved u32, seq u64, created unix ns i64,
//	        20 reserved bytes, CRC-32C of the first 60 bytes.
//	frames  16-byte frame header (body length u32, CRC-32C u32, batch start u64)
//	        and a body whose first byte is its kind: a record (see record.go)
//	        or the footer.
//	footer  the last frame of a sealed segment (see Footer).
//
// The batch start of a frame is the offset of the first frame written in the
// same group commit: everything from a batch start on was written after the
// previous fsync completed. Recovery uses it to tell a torn tail (damage
// inside the last, unsynced batch) from corruption (a later batch follows).

const (
	headerSize      = 64
	frameHeaderSize = 16
	footerBodySize  = 64
	footerSize      = frameHeaderSize + footerBodySize
	formatVersion   = 1

	kindRecord = 1
	kindFooter = 2

	// maxFrameBody bounds a frame body when parsing untrusted bytes.
	maxFrameBody = 64 << 20

	segExt = ".seg"
	tmpExt = ".tmp"
)

var (
	segMagic   = [8]byte{'S', 'I', 'E', 'C', 'A', 'P', 'S', 'G'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	le         = binary.LittleEndian
)

// SegmentID names a segment uniquely across the fleet: the node (blade) that
// captured it, the channel and a per-(node, channel) sequence number.
type SegmentID struct {
	Node    uint32
	Channel uint32
	Seq     uint64
}

// String returns the fixed-width form used as the file name stem, which
// sorts by node, channel and sequence.
func (id SegmentID) String() string {
	return fmt.Sprintf("%08x-%08x-%016x", id.Node, id.Channel, id.Seq)
}

func (id SegmentID) fileName() string { return id.String() + segExt }

// ParseSegmentID parses the form String returns; a ".seg" suffix is accepted.
func ParseSegmentID(s string) (SegmentID, error) {
	s = strings.TrimSuffix(s, segExt)
	var id SegmentID
	if len(s) != 8+1+8+1+16 || s[8] != '-' || s[17] != '-' {
		return id, fmt.Errorf("parse segment id %q: bad form", s)
	}
	var n, c uint32
	var q uint64
	if _, err := fmt.Sscanf(s, "%08x-%08x-%016x", &n, &c, &q); err != nil {
		return id, fmt.Errorf("parse segment id %q: %w", s, err)
	}
	id = SegmentID{Node: n, Channel: c, Seq: q}
	if id.String() != s {
		return SegmentID{}, fmt.Errorf("parse segment id %q: not canonical", s)
	}
	return id, nil
}

// less orders ids by node, channel, sequence.
func (id SegmentID) less(o SegmentID) bool {
	if id.Node != o.Node {
		return id.Node < o.Node
	}
	if id.Channel != o.Channel {
		return id.Channel < o.Channel
	}
	return id.Seq < o.Seq
}

// State is the life-cycle state of a segment.
type State uint8

// Segment states.
const (
	StateOpen        State = iota + 1 // being appended to; readable up to its durable length
	StateSealed                       // immutable, ends with a footer
	StateQuarantined                  // moved to quarantine/ after corruption was found
)

func (s State) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateSealed:
		return "sealed"
	case StateQuarantined:
		return "quarantined"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// SegmentInfo describes one segment, as listed by Segments.
type SegmentInfo struct {
	ID       SegmentID
	State    State
	Bytes    int64 // durable length (open), file size (sealed, quarantined)
	Records  uint64
	Payloads uint64
	First    time.Time // earliest payload time of its records (zero if none)
	Last     time.Time // latest payload time of its records
	Created  time.Time
	Sealed   time.Time // zero unless sealed
}

// Header is a segment's opening block.
type Header struct {
	Version uint16
	ID      SegmentID
	Created time.Time
}

func encodeHeader(id SegmentID, created time.Time) []byte {
	b := make([]byte, headerSize)
	copy(b, segMagic[:])
	le.PutUint16(b[8:], formatVersion)
	le.PutUint16(b[10:], headerSize)
	le.PutUint32(b[12:], id.Node)
	le.PutUint32(b[16:], id.Channel)
	le.PutUint64(b[24:], id.Seq)
	le.PutUint64(b[32:], uint64(toNS(created)))
	le.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	return b
}

// ParseHeader parses a segment header from the first 64 bytes of b.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < headerSize {
		return h, fmt.Errorf("parse segment header: %w", ErrShort)
	}
	if [8]byte(b[:8]) != segMagic {
		return h, fmt.Errorf("parse segment header: bad magic: %w", ErrCorrupt)
	}
	if crc32.Checksum(b[:60], castagnoli) != le.Uint32(b[60:]) {
		return h, fmt.Errorf("parse segment header: checksum mismatch: %w", ErrCorrupt)
	}
	h.Version = le.Uint16(b[8:])
	if h.Version != formatVersion {
		return h, fmt.Errorf("parse segment header: unknown version %d: %w", h.Version, ErrCorrupt)
	}
	if le.Uint16(b[10:]) != headerSize {
		return h, fmt.Errorf("parse segment header: header size %d: %w", le.Uint16(b[10:]), ErrCorrupt)
	}
	h.ID = SegmentID{Node: le.Uint32(b[12:]), Channel: le.Uint32(b[16:]), Seq: le.Uint64(b[24:])}
	h.Created = fromNS(int64(le.Uint64(b[32:])))
	return h, nil
}

// Footer closes a sealed segment. Its frame is the last footerSize bytes of
// the file and its batch start is its own offset.
type Footer struct {
	Records  uint64
	Payloads uint64
	First    time.Time
	Last     time.Time
	Sealed   time.Time
	Offset   int64  // offset of the footer frame = length of the sealed data
	Checksum uint32 // CRC-32C of the bytes [0, Offset)
}

func encodeFooter(f Footer) []byte {
	b := make([]byte, footerSize)
	body := b[frameHeaderSize:]
	body[0] = kindFooter
	le.PutUint64(body[8:], f.Records)
	le.PutUint64(body[16:], f.Payloads)
	le.PutUint64(body[24:], uint64(toNS(f.First)))
	le.PutUint64(body[32:], uint64(toNS(f.Last)))
	le.PutUint64(body[40:], uint64(toNS(f.Sealed)))
	le.PutUint64(body[48:], uint64(f.Offset))
	le.PutUint32(body[56:], f.Checksum)
	putFrameHeader(b, crc32.Checksum(body, castagnoli), f.Offset)
	return b
}

// ParseFooter parses a footer frame (frame header included) from the start
// of b.
func ParseFooter(b []byte) (Footer, error) {
	var f Footer
	fr, _, err := parseFrame(b)
	if err != nil {
		return f, fmt.Errorf("parse footer: %w", err)
	}
	return parseFooterBody(fr)
}

func parseFooterBody(fr frame) (Footer, error) {
	var f Footer
	body := fr.body
	if body[0] != kindFooter {
		return f, fmt.Errorf("parse footer: kind %d: %w", body[0], ErrCorrupt)
	}
	if len(body) != footerBodySize {
		return f, fmt.Errorf("parse footer: body size %d: %w", len(body), ErrCorrupt)
	}
	f.Records = le.Uint64(body[8:])
	f.Payloads = le.Uint64(body[16:])
	f.First = fromNS(int64(le.Uint64(body[24:])))
	f.Last = fromNS(int64(le.Uint64(body[32:])))
	f.Sealed = fromNS(int64(le.Uint64(body[40:])))
	f.Offset = int64(le.Uint64(body[48:]))
	f.Checksum = le.Uint32(body[56:])
	if f.Offset != fr.batch || f.Offset < headerSize {
		return f, fmt.Errorf("parse footer: offset %d, batch start %d: %w", f.Offset, fr.batch, ErrCorrupt)
	}
	return f, nil
}

// toNS maps a time to Unix nanoseconds, the zero time to 0.
func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNS is the inverse of toNS.
func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
