package wdns

import "fmt"

// Section numbers a message section (WDNS_MSG_SEC_*).
type Section int

// The four sections of a DNS message.
const (
	SectionQuestion Section = iota
	SectionAnswer
	SectionAuthority
	SectionAdditional
)

// headerLen is WDNS_LEN_HEADER.
const headerLen = 12

// Question is one entry of the question section.
type Question struct {
	Name        []byte // uncompressed wire-format name, case kept
	Type, Class uint16
}

// RR is one resource record. Names inside the rdata of the types wdns knows
// (NS, CNAME, SOA, MX, RRSIG, NSEC, SRV, ...) are decompressed, as
// wdns_parse_message stores them; other rdata is copied as is.
type RR struct {
	Name        []byte
	Type, Class uint16
	TTL         uint32
	Rdata       []byte
}

// RRset is the records of one section sharing name (compared without case),
// type and class, as wdns groups them: the name as in the first record, the
// lowest TTL of the records, the rdata in order.
type RRset struct {
	Name        []byte
	Type, Class uint16
	TTL         uint32
	Rdata       [][]byte
}

// EDNS is the OPT pseudo-record, as wdns keeps it.
type EDNS struct {
	UDPSize uint16 // the OPT record's class
	Version uint8
	Flags   uint16 // 0x8000 is DO
	// Options is the OPT rdata. HasOptions is false only for an OPT record
	// in the question section, which has no rdata at all; JSON then leaves
	// out "options".
	Options    []byte
	HasOptions bool
}

// Message is a DNS message parsed as wdns_parse_message parses it.
//
// The sections hold the records in wire order; RRsets groups them as wdns
// does for JSON. An OPT record, in whichever section, becomes EDNS and is
// not counted in its section (the header counts printed are the records
// kept). Parsing stops without error where the message ends on a record
// boundary, even if the header counts more records.
//
// A Message can be reused: Parse overwrites it, and keeps its slices and
// buffers for the next message, so that parsing allocates nothing once they
// have grown.
type Message struct {
	ID    uint16
	Flags uint16 // the whole second header word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode
	// Rcode is the header rcode OR-ed with the OPT record's extended rcode
	// octet shifted left by 8, as wdns computes it (RFC 6891 says by 4).
	Rcode      uint16
	Question   []Question
	Answer     []RR
	Authority  []RR
	Additional []RR
	EDNS       *EDNS

	// Parse's scratch space: the EDNS EDNS points to, the buffer holding
	// every decompressed name and rdata, and the records being read.
	edns  EDNS
	arena []byte
	recs  []rec
}

// rec is a record being parsed: spans of the arena until parsing ends, so
// that the arena may grow.
type rec struct {
	sec         int
	name, rdata span
	typ, class  uint16
	ttl         uint32
	hasRdata    bool
}

type span struct{ off, end int }

// Opcode returns the header opcode.
func (m *Message) Opcode() uint8 { return uint8(m.Flags>>11) & 0xf }

// Records returns the records of an answer, authority or additional section.
func (m *Message) Records(s Section) []RR {
	switch s {
	case SectionAnswer:
		return m.Answer
	case SectionAuthority:
		return m.Authority
	case SectionAdditional:
		return m.Additional
	}
	return nil
}

// RRsets groups the records of an answer, authority or additional section
// as wdns's _wdns_insert_rr_rrset_array does: each record joins the most
// recent RRset with the same name (ASCII case-insensitive), type and class.
func (m *Message) RRsets(s Section) []RRset {
	var sets []RRset
	for _, rr := range m.Records(s) {
		found := false
		for i := len(sets) - 1; i >= 0; i-- {
			set := &sets[i]
			if set.Type == rr.Type && set.Class == rr.Class && len(set.Name) == len(rr.Name) && equalFoldASCII(set.Name, rr.Name) {
				set.Rdata = append(set.Rdata, rr.Rdata)
				if rr.TTL < set.TTL {
					set.TTL = rr.TTL
				}
				found = true
				break
			}
		}
		if !found {
			sets = append(sets, RRset{Name: rr.Name, Type: rr.Type, Class: rr.Class, TTL: rr.TTL, Rdata: [][]byte{rr.Rdata}})
		}
	}
	return sets
}

// equalFoldASCII compares like wdns_downcase_name then memcmp: only A-Z fold.
func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x |= 0x20
		}
		if y >= 'A' && y <= 'Z' {
			y |= 0x20
		}
		if x != y {
			return false
		}
	}
	return true
}

// ParseMessage parses a DNS message as wdns_parse_message does, including
// its leniency (see Message) and its checks: every name is decompressed
// with bounds, length-octet and 255-octet checks, compression pointers must
// point strictly backwards (so no loop is possible), and the rdata of every
// known type must match its layout exactly. It returns a new Message; Parse
// reuses one.
func ParseMessage(msg []byte) (*Message, error) {
	m := new(Message)
	if err := m.Parse(msg); err != nil {
		return nil, err
	}
	return m, nil
}

// Parse parses msg into m as ParseMessage does, reusing m's slices and
// buffers: names, rdata and records of the message m held before (and
// m.EDNS) are overwritten. Once they have grown to the size of the
// messages parsed, Parse does not allocate. On error m holds no message.
func (m *Message) Parse(msg []byte) error {
	if err := m.parse(msg); err != nil {
		m.reset()
		countMessageError(err)
		return err
	}
	counters.messagesParsed.Add(1)
	return nil
}

// reset empties m, keeping its storage.
func (m *Message) reset() {
	m.ID, m.Flags, m.Rcode = 0, 0, 0
	m.Question = m.Question[:0]
	m.Answer = m.Answer[:0]
	m.Authority = m.Authority[:0]
	m.Additional = m.Additional[:0]
	m.EDNS = nil
}

func (m *Message) parse(msg []byte) error {
	m.reset()
	if len(msg) < headerLen {
		return fmt.Errorf("parse message of %d octets: %w", len(msg), ErrShort)
	}
	m.ID = be16(msg[0:])
	m.Flags = be16(msg[2:])
	m.Rcode = m.Flags & 0xf
	var counts [4]uint16
	for i := range counts {
		counts[i] = be16(msg[4+2*i:])
	}
	// One buffer holds every decompressed name and rdata; records keep
	// offsets into it until parsing ends, so that growth is safe.
	arena := m.arena[:0]
	if cap(arena) < 2*len(msg) {
		arena = make([]byte, 0, 2*len(msg))
	}
	recs := m.recs[:0]
	if cap(recs) == 0 {
		recs = make([]rec, 0, 8)
	}
	defer func() { m.arena, m.recs = arena[:0], recs[:0] }()
	p := headerLen
	var edns *EDNS
	var ednsRdata span
	for sec := 0; sec < 4; sec++ {
		for n := 0; n < int(counts[sec]); n++ {
			if p == len(msg) {
				goto done
			}
			var r rec
			r.sec = sec
			var err error
			nameOff := len(arena)
			arena, err = unpackName(arena, msg, p)
			if err != nil {
				return fmt.Errorf("parse message record %d of section %d: %w", n, sec, err)
			}
			r.name = span{nameOff, len(arena)}
			q := skipName(msg, p)
			if q+4 > len(msg) || (sec != 0 && q+10 > len(msg)) {
				return fmt.Errorf("parse message record %d of section %d: fixed fields: %w", n, sec, ErrParse)
			}
			r.typ = be16(msg[q:])
			r.class = be16(msg[q+2:])
			q += 4
			if sec != 0 {
				r.ttl = be32(msg[q:])
				rdlen := int(be16(msg[q+4:]))
				q += 6
				if q+rdlen > len(msg) {
					return fmt.Errorf("parse message record %d of section %d: rdlength %d: %w", n, sec, rdlen, ErrOverflow)
				}
				rdOff := len(arena)
				arena, err = parseRdata(arena, msg, q, rdlen, r.typ, r.class)
				if err != nil {
					return fmt.Errorf("parse message record %d of section %d: %s rdata: %w", n, sec, TypeString(r.typ), err)
				}
				r.rdata = span{rdOff, len(arena)}
				r.hasRdata = true
				q += rdlen
			}
			p = q
			if r.typ == TypeOPT {
				// _wdns_parse_edns: the last OPT record wins; extended
				// rcode bits accumulate.
				m.edns = EDNS{
					UDPSize:    r.class,
					Version:    uint8(r.ttl >> 16),
					Flags:      uint16(r.ttl),
					HasOptions: r.hasRdata,
				}
				edns = &m.edns
				ednsRdata = r.rdata
				m.Rcode |= uint16(r.ttl>>16) & 0xff00
				continue
			}
			recs = append(recs, r)
		}
	}
done:
	if edns != nil {
		if edns.HasOptions {
			edns.Options = arena[ednsRdata.off:ednsRdata.end:ednsRdata.end]
		}
		m.EDNS = edns
	}
	for _, r := range recs {
		name := arena[r.name.off:r.name.end:r.name.end]
		if r.sec == 0 {
			m.Question = append(m.Question, Question{Name: name, Type: r.typ, Class: r.class})
			continue
		}
		rr := RR{Name: name, Type: r.typ, Class: r.class, TTL: r.ttl, Rdata: arena[r.rdata.off:r.rdata.end:r.rdata.end]}
		switch r.sec {
		case 1:
			m.Answer = append(m.Answer, rr)
		case 2:
			m.Authority = append(m.Authority, rr)
		case 3:
			m.Additional = append(m.Additional, rr)
		}
	}
	return nil
}

// unpackName is wdns_unpack_name: it appends the decompressed name that
// starts at msg[off] to dst. A compression pointer must point before its
// own first octet, so pointers cannot loop. Where wdns would read the octet
// just past the message (a name or pointer cut by the end), this reports
// ErrOutOfBounds instead.
func unpackName(dst, msg []byte, off int) ([]byte, error) {
	start := len(dst)
	total := 0
	src := off
	if src >= len(msg) {
		return dst[:start], ErrOutOfBounds
	}
	for {
		if src >= len(msg) {
			return dst[:start], ErrOutOfBounds
		}
		c := int(msg[src])
		src++
		if c == 0 {
			break
		}
		switch {
		case c >= 192:
			if src >= len(msg) {
				return dst[:start], ErrOutOfBounds
			}
			ptr := (c&63)<<8 | int(msg[src])
			if ptr >= src-1 {
				return dst[:start], ErrCompressionPointer
			}
			src = ptr
		case c <= 63:
			total++
			if total >= MaxNameLen {
				return dst[:start], ErrNameOverflow
			}
			total += c
			if total >= MaxNameLen {
				return dst[:start], ErrNameOverflow
			}
			if src+c > len(msg) {
				return dst[:start], ErrOutOfBounds
			}
			dst = append(dst, byte(c))
			dst = append(dst, msg[src:src+c]...)
			src += c
		default:
			return dst[:start], ErrLengthOctet
		}
	}
	return append(dst, 0), nil
}

// skipName is wdns_skip_name for a name unpackName accepted: the offset one
// past the name as it sits at msg[off] (a pointer ends it).
func skipName(msg []byte, off int) int {
	src := off
	for src < len(msg) {
		c := int(msg[src])
		if c == 0 {
			break
		}
		if c >= 192 {
			src++
			break
		}
		src += c + 1
	}
	src++
	if src > len(msg) {
		src = len(msg)
	}
	return src
}
