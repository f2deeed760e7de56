// Package deflate is siecap's zlib codec (RFC 1950 streams of RFC 1951
// deflate) for NMSG container bodies: whole buffers in, whole buffers out,
// no allocation once warm.
//
// The Encoder is tuned for SIE containers, where no Go library reaches C
// zlib's ratio at its speed: a hash-chain match finder with lazy
// evaluation (4-byte hashes, deeper search than zlib's level 6 but cut
// short once a long match is found), libdeflate's block splitting, and
// optimal length-limited Huffman codes per block (dynamic, fixed or stored,
// whichever is smallest). The output is standard: C zlib, nmsgtool and
// compress/zlib read it.
//
// The Decoder inflates into a buffer of the size the container declares
// and never writes past it, so a hostile stream costs at most that much
// work. It decodes with two-level tables, a 64-bit bit buffer refilled a
// word at a time, up to three literals per refill and matches copied eight
// bytes at a time.
package deflate
