package nmsg

import (
	"errors"
	"fmt"
)

// Kinds of damage the codec detects. Every Error wraps one of them, so
// callers test with errors.Is.
var (
	ErrBadMagic           = errors.New("incorrect magic number")
	ErrBadVersion         = errors.New("unsupported protocol version")
	ErrTooLarge           = errors.New("container larger than 1 MiB")
	ErrTruncated          = errors.New("truncated container")
	ErrDatagramLength     = errors.New("datagram length does not match its header")
	ErrMalformed          = errors.New("malformed container")
	ErrMalformedPayload   = errors.New("malformed payload")
	ErrCRCMismatch        = errors.New("payload CRC mismatch")
	ErrInflate            = errors.New("zlib inflate failed")
	ErrFragmentRejected   = errors.New("fragment rejected")
	ErrFragmentInconsist  = errors.New("fragment set inconsistent")
	ErrFragmentIncomplete = errors.New("fragment set incomplete")
	ErrFragmentExpired    = errors.New("fragment set expired")
	ErrFragmentEvicted    = errors.New("fragment set evicted: pending memory cap reached")
	ErrHeaderless         = errors.New("headerless zlib datagram")
)

// Error describes damage found in the input: where (the byte offset of the
// container in its stream, or -1 for datagrams), what kind (one of the Err*
// values above, matched by errors.Is) and the detail. A Fatal error ends
// the stream: nothing after it can be framed. Every other error leaves the
// reader usable.
type Error struct {
	Offset int64
	Kind   error
	Detail string
	Fatal  bool
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Offset >= 0 {
		s = fmt.Sprintf("offset %d: %s", e.Offset, s)
	}
	return s
}

// Unwrap returns the kind of damage.
func (e *Error) Unwrap() error { return e.Kind }

func newError(off int64, kind error, format string, args ...any) *Error {
	d := format
	if len(args) > 0 {
		d = fmt.Sprintf(format, args...)
	}
	return &Error{Offset: off, Kind: kind, Detail: d}
}
