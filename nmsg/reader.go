package nmsg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Reader reads payloads from a stream of containers: an NMSG file, standard
// input, or UDP datagrams written back to back. Fragments are reassembled
// across the stream and pending sets are resolved when it ends (no timeout
// applies to a file). Sequence numbers are tracked as for one sender.
type Reader struct {
	*Decoder

	r       *bufio.Reader
	off     int64
	buf     []byte
	pending []Payload
	i       int
	fatal   error
	flushed bool
}

// NewReader returns a Reader over r with a fresh Decoder.
func NewReader(r io.Reader) *Reader { return NewReaderWith(r, NewDecoder()) }

// NewReaderWith returns a Reader over r that decodes with d, so several
// streams read one after another share its counters and filter. Fragment
// sets do not span streams: each Reader resolves its pending sets at its end.
func NewReaderWith(r io.Reader, d *Decoder) *Reader {
	return &Reader{Decoder: d, r: bufio.NewReaderSize(r, 256<<10)}
}

// Offset returns the stream offset of the next container to be read.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next payload, valid until the next call. At the end of
// the stream it returns io.EOF. Damage comes back as an *Error: when its
// Fatal field is false, Next may be called again and reading goes on with
// the next container; a fatal error (bad magic, truncation, a hostile
// length) ends the stream and is returned again by every later call.
func (r *Reader) Next() (*Payload, error) {
	for r.i >= len(r.pending) {
		if r.fatal != nil {
			return nil, r.fatal
		}
		pls, err := r.readContainer()
		r.pending, r.i = pls, 0
		if err != nil {
			return nil, err
		}
	}
	p := &r.pending[r.i]
	r.i++
	return p, nil
}

// readContainer reads and decodes the next container.
func (r *Reader) readContainer() ([]Payload, error) {
	off := r.off
	var hdr [HeaderSize]byte
	n, err := io.ReadFull(r.r, hdr[:])
	switch {
	case n == 0 && err == io.EOF:
		return r.end()
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		r.fatal = &Error{Offset: off, Kind: err, Fatal: true}
		return nil, r.fatal
	}
	if err != nil {
		// A partial header: check the magic first, so garbage after the
		// last container reads as garbage, not as truncation.
		if !hasMagicPrefix(hdr[:n]) {
			r.Stats.BadHeader++
			return nil, r.setFatal(&Error{Offset: off, Kind: ErrBadMagic, Detail: "trailing garbage"})
		}
		r.Stats.Truncated++
		return nil, r.setFatal(newError(off, ErrTruncated, "%d bytes of a header", n))
	}
	h, err := ParseHeader(hdr[:])
	if err != nil {
		return nil, r.setFatal(r.headerError(off, err, h, n))
	}
	if cap(r.buf) < int(h.Length) {
		r.buf = make([]byte, h.Length)
	}
	body := r.buf[:h.Length]
	m, err := io.ReadFull(r.r, body)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			r.Stats.Truncated++
			return nil, r.setFatal(newError(off, ErrTruncated, "%d of %d body bytes", m, h.Length))
		}
		return nil, r.setFatal(&Error{Offset: off, Kind: err})
	}
	r.off += int64(HeaderSize + m)
	return r.Container(netip.AddrPort{}, h, body, off, time.Time{})
}

func (r *Reader) end() ([]Payload, error) {
	r.fatal = io.EOF
	if !r.flushed {
		r.flushed = true
		if err := r.Flush(); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Offset = r.off
			}
			return nil, err
		}
	}
	return nil, io.EOF
}

func (r *Reader) setFatal(e *Error) error {
	e.Fatal = true
	r.fatal = e
	// Pending fragment sets can no longer complete: resolve them now, so
	// they are counted.
	if !r.flushed {
		r.flushed = true
		if n := r.Frags.Flush(); n > 0 {
			e.Detail += fmt.Sprintf(" (%d fragment sets left incomplete)", n)
		}
	}
	return e
}

func hasMagicPrefix(b []byte) bool {
	for i := range b {
		if i >= len(magic) {
			break
		}
		if b[i] != magic[i] {
			return false
		}
	}
	return true
}
