package spool

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Decoder decompresses record data (one zstd frame each) into a buffer it
// reuses, so a reader walking many records does not allocate per record.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	d   *zstd.Decoder
	buf []byte
}

// NewDecoder returns a Decoder refusing frames that expand beyond maxSize
// bytes (0: 64 MiB).
func NewDecoder(maxSize uint64) (*Decoder, error) {
	if maxSize == 0 {
		maxSize = 64 << 20
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSize))
	if err != nil {
		return nil, fmt.Errorf("create zstd decoder: %w", err)
	}
	return &Decoder{d: d}, nil
}

// Decode returns r's decompressed data, valid until the next Decode.
func (d *Decoder) Decode(r *Record) ([]byte, error) {
	out, err := d.d.DecodeAll(r.Data, d.buf[:0])
	if err != nil {
		return nil, fmt.Errorf("decompress record: %w", err)
	}
	d.buf = out
	return out, nil
}

// Close releases the decoder.
func (d *Decoder) Close() { d.d.Close() }
