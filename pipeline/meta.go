package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/siecap/siecap/spool"
)

// Record metadata (spool.Record.Meta) written by the payload dedupe:
//
//	version u8 (=1), then zero or more counts, each six uvarints:
//	node, channel, segment sequence, record offset, ordinal, duplicates
//
// A count says that the payload at ordinal (0-based, in decode order) of
// the record at (segment, offset) had that many identical payloads
// suppressed while it was in the window. A count always follows its
// payload's record in the channel's order.
const metaVersion = 1

// maxMeta bounds the metadata a shard accumulates before it cuts a record.
const maxMeta = 32 << 10

// ErrBadMeta marks record metadata that does not parse.
var ErrBadMeta = errors.New("bad record metadata")

// Count is one dedupe count from record metadata.
type Count struct {
	Segment    spool.SegmentID
	Offset     int64
	Index      uint32
	Duplicates uint64
}

// appendCount appends c to meta (starting it with the version octet).
func appendCount(meta []byte, c Count) []byte {
	if len(meta) == 0 {
		meta = append(meta, metaVersion)
	}
	meta = binary.AppendUvarint(meta, uint64(c.Segment.Node))
	meta = binary.AppendUvarint(meta, uint64(c.Segment.Channel))
	meta = binary.AppendUvarint(meta, c.Segment.Seq)
	meta = binary.AppendUvarint(meta, uint64(c.Offset))
	meta = binary.AppendUvarint(meta, uint64(c.Index))
	return binary.AppendUvarint(meta, c.Duplicates)
}

// ParseCounts calls fn for every count in a record's metadata. Empty
// metadata holds none. Metadata that does not parse returns an error
// wrapping ErrBadMeta (fn may have been called for the counts before the
// damage).
func ParseCounts(meta []byte, fn func(Count)) error {
	if len(meta) == 0 {
		return nil
	}
	if meta[0] != metaVersion {
		return fmt.Errorf("parse counts: version %d: %w", meta[0], ErrBadMeta)
	}
	b := meta[1:]
	var v [6]uint64
	for len(b) > 0 {
		for i := range v {
			x, n := binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("parse counts: truncated or overlong varint at octet %d: %w", len(meta)-len(b), ErrBadMeta)
			}
			v[i] = x
			b = b[n:]
		}
		if v[0] > 1<<32-1 || v[1] > 1<<32-1 || v[3] > 1<<63-1 || v[4] > 1<<32-1 {
			return fmt.Errorf("parse counts: field out of range: %w", ErrBadMeta)
		}
		fn(Count{Segment: spool.SegmentID{Node: uint32(v[0]), Channel: uint32(v[1]), Seq: v[2]},
			Offset: int64(v[3]), Index: uint32(v[4]), Duplicates: v[5]})
	}
	return nil
}
