package nmsg

import "encoding/binary"

// Header sizes and limits (libnmsg nmsg/constants.h).
const (
	HeaderSize       = 10      // magic, flags, version, length
	ProtocolVersion  = 2       // the only version siecap reads and writes
	MaxContainerSize = 1 << 20 // NMSG_WBUFSZ_MAX: largest container body and inflated body
	MinContainerSize = 512     // NMSG_WBUFSZ_MIN
	DatagramSize     = 8192    // NMSG_WBUFSZ_JUMBO: nmsgtool's default socket container size
	EtherSize        = 1280    // NMSG_WBUFSZ_ETHER
)

// Header flags.
const (
	FlagZlib     = 0x01
	FlagFragment = 0x02
)

var magic = [4]byte{'N', 'M', 'S', 'G'}

// Header is the fixed 10-byte container header.
type Header struct {
	Flags   uint8
	Version uint8
	Length  uint32 // length of the body that follows
}

// ParseHeader parses the 10-byte header at the start of b. It checks the
// magic, the version and the 1 MiB body limit, so a caller never allocates
// for a hostile length.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrTruncated
	}
	if b[0] != magic[0] || b[1] != magic[1] || b[2] != magic[2] || b[3] != magic[3] {
		return Header{}, ErrBadMagic
	}
	h := Header{Flags: b[4], Version: b[5], Length: binary.BigEndian.Uint32(b[6:10])}
	if h.Version != ProtocolVersion {
		return h, ErrBadVersion
	}
	if h.Length > MaxContainerSize {
		return h, ErrTooLarge
	}
	return h, nil
}

// AppendHeader appends a version-2 header with the given flags and body length.
func AppendHeader(dst []byte, flags uint8, length int) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, flags, ProtocolVersion)
	return binary.BigEndian.AppendUint32(dst, uint32(length))
}
