package pipeline

import (
	"hash/maphash"
	"sync"

	"github.com/siecap/siecap/nmsg"
)

// item is one payload in a Batch: its envelope, where its bytes lie in
// Batch.data, its content hash and the channel clock when it was read.
// A payload the decoder read is carried in its wire form (the serialized
// NmsgPayload and the CRC-32C of its message), so that the shard writes it
// into its container as it came, without serializing or checksumming it
// again; an RRset observation (or a payload built by a caller) carries
// its message, and the shard serializes it.
type item struct {
	vid, msgtype, nsec      uint32
	source, operator, group uint32
	off, n                  uint32 // the bytes in Batch.data: the wire form, or the message
	msgLen                  uint32 // length of the message
	crc                     uint32 // wire form: CRC-32C of the message
	wire                    bool   // the bytes are the wire form
	hasMsg                  bool
	rrset                   bool // an RRset observation (rrset mode), not a payload read
	sec                     int64
	clock                   int64 // channel high-water mark of payload time (ns)
	h1, h2                  uint64
}

// Batch carries payloads copied out of packets from a reader to a shard.
// Batches are pooled: a shard returns each one once it has processed it.
type Batch struct {
	items []item
	data  []byte
}

var batchPool = sync.Pool{New: func() any { return &Batch{} }}

func getBatch() *Batch { return batchPool.Get().(*Batch) }

func putBatch(b *Batch) {
	b.items = b.items[:0]
	b.data = b.data[:0]
	batchPool.Put(b)
}

// bytes returns the item's bytes (its wire form or its message); they
// alias the batch.
func (b *Batch) bytes(it *item) []byte { return b.data[it.off : it.off+it.n : it.off+it.n] }

// payload fills p with item it, which must not be in wire form;
// p.Message aliases the batch.
func (b *Batch) payload(it *item, p *nmsg.Payload) {
	*p = nmsg.Payload{Vid: it.vid, Msgtype: it.msgtype, TimeSec: it.sec, TimeNsec: it.nsec,
		Source: it.source, Operator: it.operator, Group: it.group, HasMessage: it.hasMsg}
	if it.n > 0 {
		p.Message = b.bytes(it)
	}
}

// hasher computes the two 64-bit keyed hashes that identify content.
type hasher struct{ s1, s2 maphash.Seed }

func newHasher() hasher { return hasher{maphash.MakeSeed(), maphash.MakeSeed()} }

// payload hashes vid, msgtype and message.
func (h hasher) payload(vid, msgtype uint32, msg []byte) (uint64, uint64) {
	t := uint64(vid)<<32 | uint64(msgtype)
	a := maphash.Bytes(h.s1, msg) ^ mix(t)
	b := maphash.Bytes(h.s2, msg) ^ mix(t^0x9e3779b97f4a7c15)
	return mix(a), b
}

// payloadCRC is payload for a message whose CRC-32C the decoder has
// already computed: the second hash is that CRC and the message's length
// instead of a second pass of maphash over the bytes. The CRC is not
// keyed, but an identity still needs the keyed 64-bit first hash to
// match, which a sender cannot aim at without the seed.
func (h hasher) payloadCRC(vid, msgtype uint32, msg []byte, crc uint32) (uint64, uint64) {
	t := uint64(vid)<<32 | uint64(msgtype)
	a := maphash.Bytes(h.s1, msg) ^ mix(t)
	b := mix(uint64(crc)<<32|uint64(len(msg))) ^ mix(t^0x9e3779b97f4a7c15)
	return mix(a), b
}

// bytes hashes a canonical key.
func (h hasher) bytes(key []byte) (uint64, uint64) {
	return maphash.Bytes(h.s1, key), maphash.Bytes(h.s2, key)
}

// mix is a 64-bit finalizer (splitmix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// shardOf maps a hash to one of k shards.
func shardOf(h uint64, k int) int { return int((h >> 32) * uint64(k) >> 32) }
