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
	raw    []byte // the serialized NmsgPayload as read
	crc    uint32 // CRC-32C of Message, when hasCRC
	hasCRC bool
	snap   envelope
}

type envelope struct {
	vid, msgtype, nsec, source, operator, group uint32
	sec                                         int64
	msg                                         *byte
	msgLen                                      int
	hasMessage                                  bool
}

func (p *Payload) envelope() envelope {
	e := envelope{vid: p.Vid, msgtype: p.Msgtype, nsec: p.TimeNsec, source: p.Source, operator: p.Operator,
		group: p.Group, sec: p.TimeSec, msgLen: len(p.Message), hasMessage: p.HasMessage}
	if len(p.Message) > 0 {
		e.msg = &p.Message[0]
	}
	return e
}

// cached returns the decoder's cache when it still describes p.
func (p *Payload) cached() *wireCache {
	if p.wire.raw == nil || p.wire.snap != p.envelope() {
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
