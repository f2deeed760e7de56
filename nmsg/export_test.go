package nmsg

// Uvarint exposes the inline varint decoder to the external tests.
var Uvarint = uvarint

// ParsePayloadBoth parses b with the fast path for the canonical layout
// and with the general parser.
func ParsePayloadBoth(b []byte) (fast Payload, ok bool, general Payload, err error) {
	ok = parseCanonical(b, &fast)
	err = parseGeneric(b, &general)
	return fast, ok, general, err
}
