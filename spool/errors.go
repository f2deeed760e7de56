package spool

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrLocked is returned when another process holds the spool directory's
	// lock (a writer excludes every other writer and offline reader).
	ErrLocked = errors.New("spool directory is locked")
	// ErrClosed is returned by calls on a closed Spool.
	ErrClosed = errors.New("spool is closed")
	// ErrCorrupt marks bytes that fail a checksum or a structural check.
	ErrCorrupt = errors.New("corrupt spool data")
	// ErrShort marks bytes that end before the structure they start.
	ErrShort = errors.New("short spool data")
	// ErrTooLarge is returned by Append for a record above Options.MaxRecordBytes.
	ErrTooLarge = errors.New("record too large")
	// ErrEvicted is returned by readers for a segment that retention removed
	// (its loss is recorded in the loss ledger).
	ErrEvicted = errors.New("segment evicted")
	// ErrNotFound is returned for a segment id the spool does not hold.
	ErrNotFound = errors.New("segment not found")
)

// CorruptError locates damage: the segment file and the byte offset of the
// frame that failed. It unwraps to ErrCorrupt.
type CorruptError struct {
	Segment string // segment file name
	Offset  int64  // byte offset of the bad frame
	Reason  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("segment %s offset %d: %s", e.Segment, e.Offset, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
