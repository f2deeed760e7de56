package nmsg

// Uvarint exposes the inline varint decoder to the external tests.
var Uvarint = uvarint
