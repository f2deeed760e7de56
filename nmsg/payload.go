package nmsg

// Vendor ids (libnmsg nmsg/vendors.h).
const (
	VendorBase = 1
	VendorSIE  = 2
)

// Payload is one NMSG payload: the envelope fields of NmsgPayload and the
// serialized vendor message they carry. Source, Operator and Group are 0 when
// absent (0 means "unset" everywhere in libnmsg).
type Payload struct {
	Vid      uint32
	Msgtype  uint32
	TimeSec  int64
	TimeNsec uint32
	Source   uint32
	Operator uint32
	Group    uint32
	// Message is the serialized vendor message (NmsgPayload field 5). It
	// may alias a reader's buffer: see the package documentation.
	Message []byte
	// HasMessage records whether field 5 was present (an absent and an
	// empty message print differently).
	HasMessage bool

	// wire caches what the decoder read, so that a Writer re-framing an
	// unchanged payload copies its serialized bytes and reuses the CRC the
	// decoder verified instead of computing both again. It is used only
	// while every field above still holds the value it was decoded with
	// (Message compared by address and length: change a message by
	// assigning a new slice, not by writing into the old one).
	wire wireCache
}

type wireCache struct {
	raw  []byte // the serialized NmsgPayload as read
	crc  uint32 // CRC-32C of Message, computed by the decoder for every payload
	snap envelope
}

type envelope struct {
	vid, msgtype, nsec, source, operator, group uint32
	sec                                         int64
	msg                                         *byte
	msgLen                                      int
	hasMessage                                  bool
}

// snapshot records the envelope in the wire cache, field by field (a
// struct assignment goes through a temporary and a typed copy).
func (p *Payload) snapshot() {
	s := &p.wire.snap
	s.vid, s.msgtype, s.nsec, s.source, s.operator, s.group = p.Vid, p.Msgtype, p.TimeNsec, p.Source, p.Operator, p.Group
	s.sec, s.msgLen, s.hasMessage = p.TimeSec, len(p.Message), p.HasMessage
	s.msg = nil
	if len(p.Message) > 0 {
		s.msg = &p.Message[0]
	}
}

// cached returns the decoder's cache when it still describes p. The fields
// are compared one by one: comparing whole envelopes calls memequal, a
// fifth of the cost of re-framing a payload.
func (p *Payload) cached() *wireCache {
	s := &p.wire.snap
	if p.wire.raw == nil || s.vid != p.Vid || s.msgtype != p.Msgtype || s.sec != p.TimeSec || s.nsec != p.TimeNsec ||
		s.source != p.Source || s.operator != p.Operator || s.group != p.Group || s.msgLen != len(p.Message) ||
		s.hasMessage != p.HasMessage || s.msgLen > 0 && s.msg != &p.Message[0] {
		return nil
	}
	return &p.wire
}

// Clone returns a copy of p whose Message no longer aliases any buffer.
func (p *Payload) Clone() Payload {
	c := *p
	c.wire = wireCache{}
	if p.Message != nil {
		c.Message = append([]byte(nil), p.Message...)
	}
	return c
}
