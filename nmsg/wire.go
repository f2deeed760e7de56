package nmsg

import "math/bits"

// Wire returns the serialized NmsgPayload that p was decoded from and the
// CRC-32C of its message, so that a payload can be carried in its wire
// form and written again with Writer.WriteWire without being serialized
// or checksummed a second time. ok is false when p was not decoded or was
// changed since (see Payload.wire). The decoder computes the CRC of every
// payload, also when the container carried none. raw aliases the decoder's
// buffer.
func (p *Payload) Wire() (raw []byte, crc uint32, ok bool) {
	c := p.cached()
	if c == nil {
		return nil, 0, false
	}
	return c.raw, c.crc, true
}

// WriteWire adds a payload in its serialized form, as Payload.Wire returns
// it: raw is an NmsgPayload message and crc the CRC-32C (not byte-swapped)
// of the message it carries. The bytes are copied as they are and not
// checked: the caller vouches that raw and crc belong together. Containers
// are packed as Write packs them.
func (w *Writer) WriteWire(raw []byte, crc uint32) error {
	return w.add(raw, nil, bits.ReverseBytes32(crc))
}
