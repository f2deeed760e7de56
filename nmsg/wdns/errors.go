package wdns

import "errors"

// Errors of message parsing. Each carries the wdns_res name wdns would
// report, so that a caller counting failures can tell them apart.
var (
	// ErrShort: the message is shorter than its 12-octet header (wdns_res_len).
	ErrShort = errors.New("message shorter than header")
	// ErrOutOfBounds: a name or record runs past the end (wdns_res_out_of_bounds).
	ErrOutOfBounds = errors.New("out of bounds")
	// ErrCompressionPointer: a pointer that does not point strictly backwards
	// (wdns_res_invalid_compression_pointer). This also rules out loops.
	ErrCompressionPointer = errors.New("invalid compression pointer")
	// ErrLengthOctet: a label length octet 64..191 (wdns_res_invalid_length_octet).
	ErrLengthOctet = errors.New("invalid length octet")
	// ErrNameOverflow: a decompressed name longer than 255 octets (wdns_res_name_overflow).
	ErrNameOverflow = errors.New("name overflow")
	// ErrOverflow: rdlength past the end of the message (wdns_res_overflow).
	ErrOverflow = errors.New("rdata overflow")
	// ErrParse: a record too short for its fixed fields, or rdata that does
	// not match its type's layout (wdns_res_parse_error).
	ErrParse = errors.New("parse error")
)
