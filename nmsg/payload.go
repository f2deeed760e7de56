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
}

// Clone returns a copy of p whose Message no longer aliases any buffer.
func (p *Payload) Clone() Payload {
	c := *p
	if p.Message != nil {
		c.Message = append([]byte(nil), p.Message...)
	}
	return c
}
