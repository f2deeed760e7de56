package nmsg

import (
	"hash/crc32"
	"math/bits"
)

// castagnoli uses the CPU's CRC32 instruction where there is one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C returns the CRC-32C (Castagnoli) of b.
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// WireCRC returns the value libnmsg stores for a CRC: htonl(crc) read as a
// little-endian host integer, i.e. the CRC byte-swapped. Both payload_crcs
// and a fragment's crc are stored this way.
func WireCRC(b []byte) uint32 { return bits.ReverseBytes32(CRC32C(b)) }
