package nmsg

// Uvarint exposes the inline varint decoder to the external tests.
var Uvarint = uvarint

// Adler32 exposes the checksum used for zlib streams.
var Adler32 = adler32
