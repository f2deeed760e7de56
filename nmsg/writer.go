package nmsg

import (
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// WriterOptions configure a Writer. The zero value writes 1 MiB containers
// without compression or sequence numbers: nmsgtool's file output.
type WriterOptions struct {
	// ContainerSize is the largest container written, clamped to
	// [MinContainerSize, MaxContainerSize]; 0 means MaxContainerSize.
	// Use DatagramSize (8192) for UDP outputs, as nmsgtool does.
	ContainerSize int
	// Zlib compresses each container (flag ZLIB) at ZlibLevel (0: 6).
	Zlib      bool
	ZlibLevel int
	// Sequence numbers each container and stamps SequenceID (random when
	// 0), as libnmsg's socket outputs do.
	Sequence   bool
	SequenceID uint64
	// Unbuffered writes one payload per container.
	Unbuffered bool
	// OmitCRCs leaves out the payload_crcs field (optional in NMSG: a
	// reader then checks nothing per payload), for stores that checksum
	// what they hold themselves, as the spool does per record. The CRCs
	// are random bytes to a compressor: about 5 bytes a payload that it
	// spends time on and cannot shrink.
	OmitCRCs bool
}

// Writer packs payloads into containers and writes each container (or each
// fragment of an oversize one) with a single Write call, so a net.Conn
// receives one container per datagram. Containers are packed by libnmsg's
// size estimate, so for the same payloads the bytes equal nmsgtool's. An
// oversize container is fragmented with a correct last (libnmsg's
// exact-multiple bug is not reproduced) and a compressed container is never
// sent without its header.
type Writer struct {
	w     io.Writer
	opts  WriterOptions
	bufsz int

	// buf is the open container as it will be written: HeaderSize bytes
	// reserved for the header, then the payload fields; Flush appends the
	// CRCs and sequence fields and fills in the header. Building it in
	// place saves a copy of every payload.
	buf   []byte
	crcs  []uint32 // wire CRCs of the payloads in buf
	estsz int
	seq   uint32

	packed []byte // zlib container
	def    deflater

	containers uint64
	fragments  uint64
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	bufsz := opts.ContainerSize
	switch {
	case bufsz == 0 || bufsz > MaxContainerSize:
		bufsz = MaxContainerSize
	case bufsz < MinContainerSize:
		bufsz = MinContainerSize
	}
	if opts.ZlibLevel == 0 {
		opts.ZlibLevel = ZlibLevel
	}
	if opts.Sequence && opts.SequenceID == 0 {
		opts.SequenceID = rand.Uint64()
	}
	return &Writer{w: w, opts: opts, bufsz: bufsz, estsz: HeaderSize, def: deflater{level: opts.ZlibLevel}}
}

// Containers returns the number of containers written (fragments count
// once per fragment).
func (w *Writer) Containers() uint64 { return w.containers + w.fragments }

// Write adds p to the open container, writing the container first when p
// would not fit.
func (w *Writer) Write(p *Payload) error {
	if c := p.cached(); c != nil {
		return w.add(c.raw, nil, bits.ReverseBytes32(c.crc))
	}
	return w.add(nil, p, WireCRC(p.Message))
}

// add adds one payload, serialized (raw) or to serialize (p), whose
// message has the wire CRC wcrc.
func (w *Writer) add(raw []byte, p *Payload, wcrc uint32) error {
	npLen := len(raw)
	if p != nil {
		npLen = payloadSize(p)
	}
	// libnmsg nmsg_container_add: a container that holds something is
	// full when the estimate plus this payload comes within 32 bytes of
	// the buffer size.
	if w.estsz != HeaderSize && w.estsz+npLen+32 >= w.bufsz {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(w.buf) == 0 {
		w.buf = append(w.buf[:0], make([]byte, HeaderSize)...)
	}
	switch {
	case npLen < 1<<7:
		w.buf = append(w.buf, byte(fieldPayloads<<3|protowire.BytesType), byte(npLen))
	case npLen < 1<<14:
		w.buf = append(w.buf, byte(fieldPayloads<<3|protowire.BytesType), byte(npLen)|0x80, byte(npLen>>7))
	default:
		w.buf = append(w.buf, byte(fieldPayloads<<3|protowire.BytesType))
		w.buf = protowire.AppendVarint(w.buf, uint64(npLen))
	}
	if p != nil {
		w.buf = AppendPayload(w.buf, p)
	} else {
		w.buf = append(w.buf, raw...)
	}
	w.crcs = append(w.crcs, wcrc)
	w.estsz += npLen + 2 + 6
	if npLen >= 1<<7 {
		w.estsz++
	}
	if npLen >= 1<<14 {
		w.estsz++
	}
	if npLen >= 1<<21 {
		w.estsz++
	}
	if w.opts.Unbuffered || w.estsz+w.seqsz() > w.bufsz {
		return w.Flush()
	}
	return nil
}

func (w *Writer) seqsz() int {
	if w.opts.Sequence {
		return 6 + 12
	}
	return 0
}

// Flush writes the open container, if it holds any payload.
func (w *Writer) Flush() error {
	if len(w.crcs) == 0 {
		return nil
	}
	b := w.buf
	if !w.opts.OmitCRCs {
		b = appendCRCs(b, w.crcs)
	}
	if w.opts.Sequence {
		b = protowire.AppendTag(b, fieldSequence, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(w.seq))
		b = protowire.AppendTag(b, fieldSequenceID, protowire.VarintType)
		b = protowire.AppendVarint(b, w.opts.SequenceID)
		w.seq++
	}
	w.buf, w.crcs, w.estsz = b[:0], w.crcs[:0], HeaderSize

	out, flags := b, uint8(0)
	if w.opts.Zlib {
		var err error
		w.packed, err = w.def.deflate(append(w.packed[:0], b[:HeaderSize]...), b[HeaderSize:])
		if err != nil {
			return err
		}
		out, flags = w.packed, FlagZlib
	}
	if len(out) > w.bufsz {
		return w.writeFragments(flags, out[HeaderSize:])
	}
	copy(out, magic[:])
	out[4], out[5] = flags, ProtocolVersion
	putLength(out)
	if _, err := w.w.Write(out); err != nil {
		return fmt.Errorf("write container: %w", err)
	}
	w.containers++
	return nil
}

// appendCRCs appends a payload_crcs field (tag and varint) per CRC. Every
// CRC of a container is written here, so the varints are encoded inline
// rather than by protowire.AppendVarint.
func appendCRCs(b []byte, crcs []uint32) []byte {
	b = slices.Grow(b, 6*len(crcs))
	for _, c := range crcs {
		switch {
		case c < 1<<7:
			b = append(b, fieldPayloadCRCs<<3, byte(c))
		case c < 1<<14:
			b = append(b, fieldPayloadCRCs<<3, byte(c)|0x80, byte(c>>7))
		case c < 1<<21:
			b = append(b, fieldPayloadCRCs<<3, byte(c)|0x80, byte(c>>7)|0x80, byte(c>>14))
		case c < 1<<28:
			b = append(b, fieldPayloadCRCs<<3, byte(c)|0x80, byte(c>>7)|0x80, byte(c>>14)|0x80, byte(c>>21))
		default:
			b = append(b, fieldPayloadCRCs<<3, byte(c)|0x80, byte(c>>7)|0x80, byte(c>>14)|0x80, byte(c>>21)|0x80, byte(c>>28))
		}
	}
	return b
}

// payloadSize returns the length of AppendPayload(nil, p).
func payloadSize(p *Payload) int {
	n := 1 + protowire.SizeVarint(uint64(p.Vid)) + 1 + protowire.SizeVarint(uint64(p.Msgtype)) +
		1 + protowire.SizeVarint(uint64(p.TimeSec)) + 1 + 4
	if p.HasMessage || len(p.Message) > 0 {
		n += 1 + protowire.SizeBytes(len(p.Message))
	}
	for _, v := range [...]uint32{p.Source, p.Operator, p.Group} {
		if v != 0 {
			n += 1 + protowire.SizeVarint(uint64(v))
		}
	}
	return n
}

// writeFragments cuts packed into chunks of bufsz-32 bytes, each sent as a
// FRAGMENT container carrying the id, its index, the index of the last
// chunk and the CRC of the whole packed container.
func (w *Writer) writeFragments(flags uint8, packed []byte) error {
	var out []byte
	chunk := w.bufsz - 32
	last := (len(packed) - 1) / chunk
	id := rand.Uint32()
	crc := WireCRC(packed)
	for cur := 0; cur <= last; cur++ {
		data := packed[cur*chunk : min((cur+1)*chunk, len(packed))]
		out = AppendHeader(out[:0], flags|FlagFragment, 0)
		out = AppendFragment(out, Fragment{ID: id, Current: uint32(cur), Last: uint32(last), Data: data, CRC: crc, HasCRC: true})
		putLength(out)
		if _, err := w.w.Write(out); err != nil {
			return fmt.Errorf("write fragment %d/%d: %w", cur, last, err)
		}
		w.fragments++
	}
	return nil
}

func putLength(container []byte) {
	n := uint32(len(container) - HeaderSize)
	container[6], container[7], container[8], container[9] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

// AppendPayload appends the NmsgPayload serialization of p, fields in tag
// order as protobuf-c writes them. Source, operator and group are written
// when non-zero.
func AppendPayload(b []byte, p *Payload) []byte {
	b = protowire.AppendTag(b, fieldVid, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(p.Vid))
	b = protowire.AppendTag(b, fieldMsgtype, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(p.Msgtype))
	b = protowire.AppendTag(b, fieldTimeSec, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(p.TimeSec))
	b = protowire.AppendTag(b, fieldTimeNsec, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, p.TimeNsec)
	if p.HasMessage || len(p.Message) > 0 {
		b = protowire.AppendTag(b, fieldPayload, protowire.BytesType)
		b = protowire.AppendBytes(b, p.Message)
	}
	for _, f := range [...]struct {
		num protowire.Number
		v   uint32
	}{{fieldSource, p.Source}, {fieldOperator, p.Operator}, {fieldGroup, p.Group}} {
		if f.v != 0 {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(f.v))
		}
	}
	return b
}

// AppendFragment appends the NmsgFragment serialization of f.
func AppendFragment(b []byte, f Fragment) []byte {
	b = protowire.AppendTag(b, fieldFragID, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(f.ID))
	b = protowire.AppendTag(b, fieldFragCurrent, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(f.Current))
	b = protowire.AppendTag(b, fieldFragLast, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(f.Last))
	b = protowire.AppendTag(b, fieldFragData, protowire.BytesType)
	b = protowire.AppendBytes(b, f.Data)
	if f.HasCRC {
		b = protowire.AppendTag(b, fieldFragCRC, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(f.CRC))
	}
	return b
}
