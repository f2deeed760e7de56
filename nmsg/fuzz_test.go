package nmsg_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

// addVectorSeeds adds the reference vectors as seeds when they are present.
func addVectorSeeds(f *testing.F, split bool) {
	dir := testvectors.Dir()
	if dir == "" {
		return
	}
	for _, pattern := range []string{"nmsgtool/*.nmsg", "quirks/*.nmsg", "quirks/*.bin"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil || len(b) > 64<<10 {
				continue
			}
			if !split {
				f.Add(b)
				continue
			}
			for len(b) >= nmsg.HeaderSize {
				h, err := nmsg.ParseHeader(b)
				n := nmsg.HeaderSize + int(h.Length)
				if err != nil || n > len(b) {
					f.Add(b)
					break
				}
				f.Add(b[:n])
				b = b[n:]
			}
		}
	}
}

func madeSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, opts := range []nmsg.WriterOptions{
		{},
		{Zlib: true},
		{ContainerSize: 512},
		{ContainerSize: 512, Zlib: true, Sequence: true, SequenceID: 7},
	} {
		var c collector
		w := nmsg.NewWriter(&c, opts)
		for _, p := range payloads(3, 300) {
			w.Write(&p)
		}
		w.Flush()
		seeds = append(seeds, c.writes...)
	}
	return seeds
}

// FuzzReader feeds arbitrary streams to the stream reader: it must never
// panic, must end, and must account for what it rejects.
func FuzzReader(f *testing.F) {
	for _, s := range madeSeeds(f) {
		f.Add(s)
	}
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := nmsg.NewReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			var e *nmsg.Error
			if err != nil {
				if !errors.As(err, &e) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				if e.Fatal {
					break
				}
			}
			if i > 1<<20 {
				t.Fatal("reader does not end")
			}
		}
		if r.Stats.Payloads > 0 && r.Stats.Containers == 0 {
			t.Fatal("payloads without containers")
		}
	})
}

// FuzzDatagram feeds arbitrary datagrams, several of them from one sender
// so fragment sets and sequence state carry over.
func FuzzDatagram(f *testing.F) {
	for _, s := range madeSeeds(f) {
		f.Add(s)
	}
	addVectorSeeds(f, true)
	d := nmsg.NewDecoder()
	d.Frags.MaxMemory = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		pls, err := d.Datagram(senderA, data, t0)
		if err == nil && d.Stats.Damage() > 0 && len(pls) == 0 && len(data) < nmsg.HeaderSize {
			t.Fatal("damage without an error")
		}
		for _, p := range pls {
			if p.Vid == ^uint32(0) {
				t.Fatal("malformed payload returned")
			}
		}
	})
}

// FuzzReassembler drives the reassembler with arbitrary fragment fields.
func FuzzReassembler(f *testing.F) {
	f.Add(uint32(1), uint32(0), uint32(2), []byte("abc"), uint32(0), true, uint8(0))
	f.Add(uint32(1), uint32(5), uint32(1), []byte("x"), uint32(9), false, uint8(1))
	f.Add(uint32(2), uint32(4095), uint32(4095), []byte{}, uint32(0), true, uint8(3))
	var st nmsg.Stats
	r := nmsg.NewReassembler(&st)
	r.MaxMemory = 1 << 16
	f.Fuzz(func(t *testing.T, id, cur, last uint32, data []byte, crc uint32, hasCRC bool, flags uint8) {
		fr := nmsg.Fragment{ID: id % 4, Current: cur % 8, Last: last % 8, Data: data, CRC: crc % 2, HasCRC: hasCRC}
		packed, _, done, err := r.Add(senderA, flags, fr, t0)
		if done && err != nil {
			t.Fatal("done with an error")
		}
		if done && len(packed) > nmsg.MaxContainerSize {
			t.Fatal("oversize reassembly")
		}
		if r.Pending() > 4*2 {
			t.Fatalf("%d pending sets", r.Pending())
		}
	})
}

// FuzzParseFragment checks the fragment parser on arbitrary bodies.
func FuzzParseFragment(f *testing.F) {
	f.Add(nmsg.AppendFragment(nil, nmsg.Fragment{ID: 1, Current: 0, Last: 1, Data: []byte("abc"), CRC: 5, HasCRC: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := nmsg.ParseFragment(b)
		if err != nil {
			return
		}
		again := nmsg.AppendFragment(nil, fr)
		fr2, err := nmsg.ParseFragment(again)
		if err != nil || fr2.ID != fr.ID || fr2.Current != fr.Current || fr2.Last != fr.Last || !bytes.Equal(fr2.Data, fr.Data) {
			t.Fatalf("re-encoded fragment differs: %v", err)
		}
	})
}

// FuzzUvarint checks the inline varint decoder against protowire's.
func FuzzUvarint(f *testing.F) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1519311169, 1 << 35, ^uint64(0)} {
		f.Add(protowire.AppendVarint(nil, v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := nmsg.Uvarint(b)
		w, m := protowire.ConsumeVarint(b)
		if n != m || (n > 0 && v != w) {
			t.Fatalf("uvarint(%x) = %d, %d; protowire: %d, %d", b, v, n, w, m)
		}
	})
}

// FuzzParsePayload checks the fast path for the canonical NmsgPayload
// layout against the general parser: whatever the fast path accepts, the
// general parser accepts with the same fields.
func FuzzParsePayload(f *testing.F) {
	for _, p := range payloads(5, 40) {
		f.Add(nmsg.AppendPayload(nil, &p))
	}
	p := nmsg.Payload{Vid: 2, Msgtype: 1, TimeSec: 1 << 40, TimeNsec: 7, Source: 1, Message: []byte("x"), HasMessage: true}
	f.Add(nmsg.AppendPayload(nil, &p))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok, general, err := nmsg.ParsePayloadBoth(b)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path accepts %x, the general parser refuses: %v", b, err)
		}
		if fast.Vid != general.Vid || fast.Msgtype != general.Msgtype || fast.TimeSec != general.TimeSec ||
			fast.TimeNsec != general.TimeNsec || fast.Source != general.Source || fast.Operator != general.Operator ||
			fast.Group != general.Group || fast.HasMessage != general.HasMessage || !bytes.Equal(fast.Message, general.Message) {
			t.Fatalf("%x: fast path %+v, general %+v", b, fast, general)
		}
	})
}
