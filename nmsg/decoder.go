package nmsg

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Decoder turns containers into payloads: it inflates, reassembles
// fragments, verifies payload CRCs and tracks sequence numbers, counting
// everything in Stats. The payloads it returns alias its buffers and are
// valid until its next call. A Decoder is used by one goroutine; the
// capture path gives each reader goroutine its own.
type Decoder struct {
	Stats Stats
	Frags *Reassembler
	Seq   *SequenceTracker
	// Filter, when set, keeps only payloads it returns true for; the
	// others are not returned and not counted as payloads.
	Filter func(vid, msgtype uint32) bool

	body     bodyDecoder
	inf      inflater
	payloads []Payload
}

// NewDecoder returns a Decoder with default fragment and sequence limits.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Frags = NewReassembler(&d.Stats)
	d.Seq = NewSequenceTracker(&d.Stats)
	return d
}

// Datagram decodes one UDP datagram from src, which must hold exactly one
// container (10 + length bytes). A datagram that lacks the header but
// holds a ZLIB body (4-byte length and a zlib stream: what libnmsg sends
// when compression makes an oversize container fit) is recognised,
// recovered and counted in Stats.Headerless.
func (d *Decoder) Datagram(src netip.AddrPort, b []byte, now time.Time) ([]Payload, error) {
	d.payloads = d.payloads[:0]
	h, err := ParseHeader(b)
	if err != nil {
		if errors.Is(err, ErrBadMagic) && looksHeaderless(b) {
			d.Stats.Containers++
			d.Stats.Bytes += uint64(len(b))
			return d.decodeBody(src, FlagZlib, b, -1, now, true)
		}
		return nil, d.headerError(-1, err, h, len(b))
	}
	if len(b) != HeaderSize+int(h.Length) {
		d.Stats.Malformed++
		return nil, newError(-1, ErrDatagramLength, "datagram of %d bytes, header declares %d+%d", len(b), HeaderSize, h.Length)
	}
	return d.Container(src, h, b[HeaderSize:], -1, now)
}

// Container decodes one container body read from src at stream offset off
// (-1 for datagrams).
func (d *Decoder) Container(src netip.AddrPort, h Header, body []byte, off int64, now time.Time) ([]Payload, error) {
	d.payloads = d.payloads[:0]
	d.Stats.Containers++
	d.Stats.Bytes += uint64(HeaderSize + len(body))
	if h.Flags&FlagFragment != 0 {
		f, err := ParseFragment(body)
		if err != nil {
			d.Stats.FragmentsRejected++
			return nil, &Error{Offset: off, Kind: ErrFragmentRejected, Detail: err.Error()}
		}
		packed, zlib, done, err := d.Frags.Add(src, h.Flags, f, now)
		if err != nil {
			var kind error = ErrFragmentRejected
			for _, k := range []error{ErrFragmentInconsist, ErrTooLarge} {
				if errors.Is(err, k) {
					kind = k
				}
			}
			return nil, &Error{Offset: off, Kind: kind, Detail: err.Error()}
		}
		if !done {
			return nil, nil
		}
		flags := uint8(0)
		if zlib {
			flags = FlagZlib
		}
		return d.decodeBody(src, flags, packed, off, now, false)
	}
	return d.decodeBody(src, h.Flags, body, off, now, false)
}

func (d *Decoder) decodeBody(src netip.AddrPort, flags uint8, body []byte, off int64, now time.Time, headerless bool) ([]Payload, error) {
	if flags&FlagZlib != 0 {
		out, err := d.inf.inflate(body)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				d.Stats.TooLarge++
				return nil, &Error{Offset: off, Kind: ErrTooLarge, Detail: err.Error()}
			}
			d.Stats.InflateErrors++
			return nil, &Error{Offset: off, Kind: ErrInflate, Detail: err.Error()}
		}
		body = out
	}
	if headerless {
		d.Stats.Headerless++
	}
	pls, info, badCRC, badPayload, err := d.body.decode(d.payloads[:0], body)
	if err != nil {
		d.Stats.Malformed++
		d.payloads = pls[:0]
		return nil, &Error{Offset: off, Kind: ErrMalformed, Detail: err.Error()}
	}
	if info.HasCRCs && len(d.body.crcs) != info.Payloads {
		d.Stats.CRCCountMismatch++
	}
	if info.HasSequence && info.HasSequenceID && d.Seq != nil {
		d.Seq.Observe(src, info.SequenceID, info.Sequence, now)
	}
	if d.Filter != nil {
		w := 0
		for i := range pls {
			if d.Filter(pls[i].Vid, pls[i].Msgtype) {
				pls[w] = pls[i]
				w++
			}
		}
		pls = pls[:w]
	}
	d.payloads = pls
	d.Stats.Payloads += uint64(len(pls))
	d.Stats.CRCFailures += uint64(badCRC)
	d.Stats.MalformedPayload += uint64(badPayload)
	switch {
	case badPayload > 0:
		return pls, newError(off, ErrMalformedPayload, "%d of %d payloads dropped", badPayload, info.Payloads)
	case badCRC > 0:
		return pls, newError(off, ErrCRCMismatch, "%d of %d payloads dropped", badCRC, info.Payloads)
	}
	return pls, nil
}

func (d *Decoder) headerError(off int64, err error, h Header, n int) *Error {
	switch {
	case errors.Is(err, ErrTruncated):
		d.Stats.Truncated++
		return newError(off, ErrTruncated, "%d bytes, header needs %d", n, HeaderSize)
	case errors.Is(err, ErrTooLarge):
		d.Stats.TooLarge++
		return newError(off, ErrTooLarge, "header declares %d bytes", h.Length)
	case errors.Is(err, ErrBadVersion):
		d.Stats.BadHeader++
		return newError(off, ErrBadVersion, "version %d", h.Version)
	default:
		d.Stats.BadHeader++
		return &Error{Offset: off, Kind: err}
	}
}

// Flush resolves the pending fragment sets at the end of the input: each
// is counted as expired. It returns an error when any was pending.
func (d *Decoder) Flush() error {
	if n := d.Frags.Flush(); n > 0 {
		return newError(-1, ErrFragmentIncomplete, "%d fragment sets incomplete at the end of the input", n)
	}
	return nil
}

// Expire drops fragment sets older than the timeout (live input calls it
// periodically) and returns an error naming how many were lost.
func (d *Decoder) Expire(now time.Time) error {
	if n := d.Frags.Expire(now); n > 0 {
		return newError(-1, ErrFragmentExpired, "%d fragment sets expired", n)
	}
	return nil
}

// looksHeaderless reports whether b is a ZLIB body without its header: a
// plausible 4-byte length and a zlib stream header (CMF/FLG check).
func looksHeaderless(b []byte) bool {
	if len(b) < 6 {
		return false
	}
	ulen := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	cmf, flg := b[4], b[5]
	return ulen > 0 && ulen <= MaxContainerSize && cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

// String returns a one-line summary of the counters.
func (s *Stats) String() string {
	return fmt.Sprintf("containers %d, payloads %d, crc failures %d, fragments %d (sets reassembled %d, recovered %d, expired %d, rejected %d, discarded %d), sequence lost %d, malformed %d",
		s.Containers, s.Payloads, s.CRCFailures, s.Fragments, s.FragmentSetsDone, s.FragmentSetsRecovered,
		s.FragmentSetsExpired, s.FragmentsRejected, s.FragmentSetsDiscarded, s.SequenceLost,
		s.Malformed+s.MalformedPayload+s.BadHeader+s.TooLarge+s.Truncated+s.InflateErrors)
}
