package pipeline

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// TestWireFormKept feeds decoded payloads (which travel to the shard in
// their wire form) from a container with CRCs and one without, one of
// them carrying a field siecap does not know, and checks that the stored
// containers list no CRCs (the spool checks each record with its own
// CRC-32C; export writes them again) and that the payloads' bytes are
// stored as they came and decode.
func TestWireFormKept(t *testing.T) {
	msgs := []string{"first", "with an unknown field", "third"}
	unknown := nmsg.AppendPayload(nil, payloadAt(1700000001, 2, 1, msgs[1]))
	unknown = protowire.AppendTag(unknown, 15, protowire.VarintType)
	unknown = protowire.AppendVarint(unknown, 12345)
	raws := [][]byte{
		nmsg.AppendPayload(nil, payloadAt(1700000000, 2, 1, msgs[0])),
		unknown,
		nmsg.AppendPayload(nil, payloadAt(1700000002, 1, 4, msgs[2])),
	}
	// container packs raws[i:j], with their CRCs or without.
	container := func(i, j int, withCRCs bool) []byte {
		var body []byte
		for _, r := range raws[i:j] {
			body = protowire.AppendTag(body, 1, protowire.BytesType)
			body = protowire.AppendBytes(body, r)
		}
		for _, m := range msgs[i:j] {
			if withCRCs {
				body = protowire.AppendTag(body, 2, protowire.VarintType)
				body = protowire.AppendVarint(body, uint64(nmsg.WireCRC([]byte(m))))
			}
		}
		return append(nmsg.AppendHeader(nil, 0, len(body)), body...)
	}
	src := netip.MustParseAddrPort("198.18.0.1:5000")
	for _, mode := range []Mode{DedupePayload, DedupeNone} {
		dir := t.TempDir()
		sp, err := spool.Open(dir, spool.Options{CommitInterval: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(sp, Config{Channel: 3, Shards: 1, Dedupe: mode, Blocking: true})
		if err != nil {
			t.Fatal(err)
		}
		r := p.Reader(0)
		now := time.Unix(1700000003, 0)
		if err := r.Datagram(src, container(0, 2, true), now); err != nil {
			t.Fatal(err)
		}
		if err := r.Datagram(src, container(2, 3, false), now); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		eachContainer(t, dir, 3, func(body []byte) {
			var pls [][]byte
			var crcs []uint32
			for b := body; len(b) > 0; {
				num, typ, n := protowire.ConsumeTag(b)
				if n < 0 {
					t.Fatalf("stored container: %v", protowire.ParseError(n))
				}
				b = b[n:]
				switch {
				case num == 1 && typ == protowire.BytesType:
					v, m := protowire.ConsumeBytes(b)
					pls, b = append(pls, v), b[m:]
				case num == 2 && typ == protowire.VarintType:
					v, m := protowire.ConsumeVarint(b)
					crcs, b = append(crcs, uint32(v)), b[m:]
				default:
					t.Fatalf("stored container has field %d", num)
				}
			}
			if len(crcs) != 0 {
				t.Fatalf("stored container: %d payloads, %d CRCs", len(pls), len(crcs))
			}
			for i, pl := range pls {
				c := nmsg.AppendHeader(nil, 0, 0)
				c = protowire.AppendTag(c, 1, protowire.BytesType)
				c = protowire.AppendBytes(c, pl)
				if _, err := nmsg.NewDecoder().Datagram(netip.AddrPort{}, fixLength(c), time.Time{}); err != nil {
					t.Fatalf("stored payload %d: %v", i, err)
				}
				got = append(got, pl)
			}
		})
		if len(got) != len(raws) {
			t.Fatalf("%v: stored %d payloads, want %d", mode, len(got), len(raws))
		}
		for i := range raws {
			if !bytes.Equal(got[i], raws[i]) {
				t.Errorf("%v: payload %d stored as %x, want %x", mode, i, got[i], raws[i])
			}
		}
	}
}

// fixLength sets the length in a container's header.
func fixLength(c []byte) []byte {
	n := len(c) - nmsg.HeaderSize
	c[6], c[7], c[8], c[9] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return c
}

// eachContainer calls fn with the body of every container in channel
// ch's records.
func eachContainer(t *testing.T, dir string, ch uint32, fn func(body []byte)) {
	t.Helper()
	eachRecord(t, dir, ch, func(_ spool.Record, _ spool.SegmentID, _ int64, data []byte) {
		for len(data) > 0 {
			h, err := nmsg.ParseHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			fn(data[nmsg.HeaderSize : nmsg.HeaderSize+int(h.Length)])
			data = data[nmsg.HeaderSize+int(h.Length):]
		}
	})
}
