package nmsg_test

import (
	"bytes"
	"testing"

	"github.com/siecap/siecap/nmsg"
)

// TestWireRoundTrip decodes containers and writes their payloads again
// from the wire form: the containers must come out byte for byte as
// writing the payloads themselves makes them. A payload changed after
// decoding has no wire form.
func TestWireRoundTrip(t *testing.T) {
	pls := payloads(300, 200)
	want := encode(t, nmsg.WriterOptions{ContainerSize: 8192}, pls)
	var c collector
	w := nmsg.NewWriter(&c, nmsg.WriterOptions{ContainerSize: 8192})
	d := nmsg.NewDecoder()
	for _, ct := range want {
		got, err := d.Datagram(senderA, ct, t0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			raw, crc, ok := got[i].Wire()
			if !ok || crc != nmsg.CRC32C(got[i].Message) {
				t.Fatalf("wire form: ok %v, crc %08x of %08x", ok, crc, nmsg.CRC32C(got[i].Message))
			}
			if !bytes.Equal(raw, nmsg.AppendPayload(nil, &got[i])) {
				t.Fatalf("wire form %x differs from the payload's serialization", raw)
			}
			if err := w.WriteWire(raw, crc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(c.writes) != len(want) {
		t.Fatalf("%d containers, want %d", len(c.writes), len(want))
	}
	for i := range want {
		if !bytes.Equal(c.writes[i], want[i]) {
			t.Fatalf("container %d differs", i)
		}
	}

	got, err := d.Datagram(senderA, want[0], t0)
	if err != nil {
		t.Fatal(err)
	}
	got[0].TimeSec++
	if _, _, ok := got[0].Wire(); ok {
		t.Error("a changed payload still has a wire form")
	}
	if _, _, ok := pls[0].Wire(); ok {
		t.Error("a payload that was never decoded has a wire form")
	}
}
