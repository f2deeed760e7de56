// Package nmsg is siecap's NMSG codec: containers (plain, zlib, fragmented),
// payloads with their CRC-32C, fragment reassembly, sequence-loss tracking,
// the container writer, and nmsgtool's alias files.
//
// The wire format is the one libnmsg and nmsgtool speak (protocol version 2):
// a 10-byte header (magic "NMSG", flags, version, body length) followed by a
// protobuf Nmsg or NmsgFragment body, optionally zlib-compressed.
//
// Hot-path rules: reading a container and walking its payloads does not
// allocate per payload. A Payload returned by a Reader or by Container.Next
// aliases the reader's buffers and is valid only until the next call; callers
// that keep it copy it with Payload.Clone. Message bodies are decoded and
// printed by the sub-package msgmod; DNS names, rdata and messages by wdns.
//
// This package imports nothing else of the project but its zlib codec,
// nmsg/deflate: every stage of siecap shares it.
package nmsg
