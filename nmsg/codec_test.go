package nmsg_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

var (
	senderA = netip.MustParseAddrPort("198.18.0.1:40000")
	senderB = netip.MustParseAddrPort("198.18.0.2:40000")
	t0      = time.Unix(1700000000, 0)
)

// payloads returns n payloads of alternating types with messages of the
// given size.
func payloads(n, size int) []nmsg.Payload {
	out := make([]nmsg.Payload, n)
	for i := range out {
		msg := bytes.Repeat([]byte{byte(i)}, size)
		binary.BigEndian.PutUint32(msg, uint32(i))
		out[i] = nmsg.Payload{Vid: uint32(1 + i%2), Msgtype: uint32(1 + i%7), TimeSec: int64(1519311169 + i), TimeNsec: uint32(i), Source: 0xa1ba02cf, Message: msg, HasMessage: true}
	}
	return out
}

// encode writes pls with opts and returns each container as written.
func encode(t testing.TB, opts nmsg.WriterOptions, pls []nmsg.Payload) [][]byte {
	t.Helper()
	var c collector
	w := nmsg.NewWriter(&c, opts)
	for i := range pls {
		if err := w.Write(&pls[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return c.writes
}

// collector records each Write as one datagram.
type collector struct{ writes [][]byte }

func (c *collector) Write(b []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), b...))
	return len(b), nil
}

func samePayloads(t *testing.T, got []nmsg.Payload, want []nmsg.Payload) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d payloads, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Vid != w.Vid || g.Msgtype != w.Msgtype || g.TimeSec != w.TimeSec || g.TimeNsec != w.TimeNsec ||
			g.Source != w.Source || !bytes.Equal(g.Message, w.Message) {
			t.Fatalf("payload %d differs: %+v vs %+v", i, g, w)
		}
	}
}

// datagrams feeds containers to one decoder as datagrams from src.
func datagrams(t *testing.T, d *nmsg.Decoder, src netip.AddrPort, cs [][]byte) ([]nmsg.Payload, []error) {
	t.Helper()
	var out []nmsg.Payload
	var errs []error
	for _, c := range cs {
		pls, err := d.Datagram(src, c, t0)
		if err != nil {
			errs = append(errs, err)
		}
		for i := range pls {
			out = append(out, pls[i].Clone())
		}
	}
	return out, errs
}

func TestRoundTripFlagCombinations(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts nmsg.WriterOptions
		n    int
		size int
		frag bool
	}{
		{"plain", nmsg.WriterOptions{ContainerSize: nmsg.DatagramSize}, 200, 100, false},
		{"zlib", nmsg.WriterOptions{ContainerSize: nmsg.DatagramSize, Zlib: true}, 200, 100, false},
		{"fragment", nmsg.WriterOptions{ContainerSize: 512}, 1, 5000, true},
		{"zlib+fragment", nmsg.WriterOptions{ContainerSize: 512, Zlib: true}, 1, 50000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pls := payloads(tc.n, tc.size)
			if tc.name == "zlib+fragment" {
				// Incompressible bytes, so the compressed body still needs fragments.
				for i := range pls[0].Message {
					pls[0].Message[i] = byte(i*7919 + i*i*31)
				}
			}
			cs := encode(t, tc.opts, pls)
			for _, c := range cs {
				if len(c) > max(tc.opts.ContainerSize, 512) {
					t.Fatalf("container of %d bytes exceeds %d", len(c), tc.opts.ContainerSize)
				}
				if tc.frag != (c[4]&nmsg.FlagFragment != 0) {
					t.Fatalf("flags %#x", c[4])
				}
				if tc.opts.Zlib != (c[4]&nmsg.FlagZlib != 0) {
					t.Fatalf("flags %#x", c[4])
				}
			}
			d := nmsg.NewDecoder()
			got, errs := datagrams(t, d, senderA, cs)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			samePayloads(t, got, pls)
		})
	}
}

func TestFragmentsAnyOrderWithDuplicates(t *testing.T) {
	pls := payloads(1, 3000)
	cs := encode(t, nmsg.WriterOptions{ContainerSize: 512}, pls)
	if len(cs) < 4 {
		t.Fatalf("%d fragments", len(cs))
	}
	shuffled := [][]byte{cs[3], cs[0], cs[0], cs[2]}
	shuffled = append(shuffled, cs[4:]...)
	shuffled = append(shuffled, cs[1], cs[1])
	d := nmsg.NewDecoder()
	got, errs := datagrams(t, d, senderA, shuffled)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	samePayloads(t, got, pls)
	if d.Stats.FragmentDuplicates != 2 || d.Stats.FragmentSetsDone != 1 {
		t.Errorf("stats: %+v", d.Stats)
	}
}

func TestFragmentsKeyedBySender(t *testing.T) {
	pls := payloads(1, 2000)
	cs := encode(t, nmsg.WriterOptions{ContainerSize: 512}, pls)
	d := nmsg.NewDecoder()
	// Half the set from each sender: neither completes.
	for i, c := range cs {
		src := senderA
		if i%2 == 1 {
			src = senderB
		}
		if pls, err := d.Datagram(src, c, t0); err != nil || len(pls) != 0 {
			t.Fatalf("fragment %d: %d payloads, %v", i, len(pls), err)
		}
	}
	if d.Frags.Pending() != 2 {
		t.Fatalf("pending %d, want 2", d.Frags.Pending())
	}
	if err := d.Expire(t0.Add(nmsg.DefaultFragmentTimeout)); !errors.Is(err, nmsg.ErrFragmentExpired) {
		t.Fatalf("expire: %v", err)
	}
	if d.Frags.Pending() != 0 || d.Stats.FragmentSetsExpired != 2 {
		t.Errorf("pending %d, expired %d", d.Frags.Pending(), d.Stats.FragmentSetsExpired)
	}
}

// fragmentContainer builds a FRAGMENT container by hand.
func fragmentContainer(flags uint8, f nmsg.Fragment) []byte {
	b := nmsg.AppendHeader(nil, flags|nmsg.FlagFragment, 0)
	b = nmsg.AppendFragment(b, f)
	binary.BigEndian.PutUint32(b[6:], uint32(len(b)-nmsg.HeaderSize))
	return b
}

// body serializes pls as an Nmsg body through the writer.
func body(t *testing.T, pls []nmsg.Payload) []byte {
	cs := encode(t, nmsg.WriterOptions{}, pls)
	if len(cs) != 1 {
		t.Fatalf("%d containers", len(cs))
	}
	return cs[0][nmsg.HeaderSize:]
}

func TestExactMultipleLayouts(t *testing.T) {
	pls := payloads(1, 10)
	b := body(t, pls)
	// Pad the body with an unknown field so it is exactly 3 chunks of 16.
	if len(b)%2 == 1 {
		b = append(b, 0x78, 0x80, 0x00) // field 15, varint 0 in two bytes: skipped by readers
	}
	for len(b)%16 != 0 || len(b) < 48 {
		b = append(b, 0x78, 0x00) // field 15, varint 0
	}
	chunks := len(b) / 16
	crc := nmsg.WireCRC(b)
	piece := func(i, last int) []byte {
		end := min((i+1)*16, len(b))
		return fragmentContainer(0, nmsg.Fragment{ID: 0xdeadbeef, Current: uint32(i), Last: uint32(last), Data: b[min(i*16, len(b)):end], CRC: crc, HasCRC: true})
	}
	t.Run("libnmsg last piece never sent", func(t *testing.T) {
		var cs [][]byte
		for i := range chunks {
			cs = append(cs, piece(i, chunks))
		}
		d := nmsg.NewDecoder()
		got, errs := datagrams(t, d, senderA, cs)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		samePayloads(t, got, pls)
		if d.Stats.FragmentSetsRecovered != 1 {
			t.Errorf("recovered %d", d.Stats.FragmentSetsRecovered)
		}
	})
	t.Run("go-nmsg extra empty piece", func(t *testing.T) {
		var cs [][]byte
		for i := range chunks + 1 {
			cs = append(cs, piece(i, chunks))
		}
		// The empty piece first: the set is then complete only with all.
		cs[0], cs[chunks] = cs[chunks], cs[0]
		d := nmsg.NewDecoder()
		got, errs := datagrams(t, d, senderA, cs)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		samePayloads(t, got, pls)
		if d.Frags.Pending() != 0 || d.Stats.FragmentSetsRecovered != 0 {
			t.Errorf("pending %d, recovered %d", d.Frags.Pending(), d.Stats.FragmentSetsRecovered)
		}
	})
	t.Run("go-nmsg extra empty piece last", func(t *testing.T) {
		var cs [][]byte
		for i := range chunks + 1 {
			cs = append(cs, piece(i, chunks))
		}
		d := nmsg.NewDecoder()
		got, errs := datagrams(t, d, senderA, cs)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		samePayloads(t, got, pls)
		// Recovered early, the late empty piece is a duplicate, not a new set.
		if d.Frags.Pending() != 0 || d.Stats.FragmentDuplicates != 1 {
			t.Errorf("pending %d, duplicates %d", d.Frags.Pending(), d.Stats.FragmentDuplicates)
		}
	})
	t.Run("missing piece without crc", func(t *testing.T) {
		d := nmsg.NewDecoder()
		for i := range chunks {
			c := fragmentContainer(0, nmsg.Fragment{ID: 1, Current: uint32(i), Last: uint32(chunks), Data: b[i*16 : (i+1)*16]})
			if pls, err := d.Datagram(senderA, c, t0); err != nil || len(pls) != 0 {
				t.Fatalf("piece %d: %d payloads, %v", i, len(pls), err)
			}
		}
		if err := d.Flush(); !errors.Is(err, nmsg.ErrFragmentIncomplete) {
			t.Fatalf("flush: %v", err)
		}
	})
}

func TestWriterFragmentLast(t *testing.T) {
	// Grow a payload until the packed container is an exact multiple of
	// the chunk size: the writer must then say last = pieces-1.
	const bufsz = 512
	for size := 1000; size < 1600; size++ {
		pls := payloads(1, size)
		cs := encode(t, nmsg.WriterOptions{ContainerSize: bufsz}, pls)
		var total int
		var last uint32
		for i, c := range cs {
			f, err := nmsg.ParseFragment(c[nmsg.HeaderSize:])
			if err != nil {
				t.Fatal(err)
			}
			if f.Current != uint32(i) {
				t.Fatalf("current %d at %d", f.Current, i)
			}
			total += len(f.Data)
			last = f.Last
		}
		if int(last) != len(cs)-1 {
			t.Fatalf("size %d: last %d with %d pieces", size, last, len(cs))
		}
		d := nmsg.NewDecoder()
		got, errs := datagrams(t, d, senderA, cs)
		if len(errs) > 0 || len(got) != 1 {
			t.Fatalf("size %d: %v", size, errs)
		}
		if total%(bufsz-32) == 0 {
			return // the exact multiple was covered
		}
	}
	t.Fatal("no size gave an exact multiple")
}

func TestHostileFragments(t *testing.T) {
	d := nmsg.NewDecoder()
	_, err := d.Datagram(senderA, fragmentContainer(0, nmsg.Fragment{ID: 9, Current: 5, Last: 1, Data: []byte("x")}), t0)
	if !errors.Is(err, nmsg.ErrFragmentRejected) {
		t.Fatalf("current > last: %v", err)
	}
	_, err = d.Datagram(senderA, fragmentContainer(0, nmsg.Fragment{ID: 9, Current: 0, Last: 1 << 30, Data: []byte("x")}), t0)
	if !errors.Is(err, nmsg.ErrFragmentRejected) {
		t.Fatalf("huge last: %v", err)
	}
	if _, err := d.Datagram(senderA, fragmentContainer(0, nmsg.Fragment{ID: 7, Current: 0, Last: 2, Data: []byte("x")}), t0); err != nil {
		t.Fatal(err)
	}
	_, err = d.Datagram(senderA, fragmentContainer(0, nmsg.Fragment{ID: 7, Current: 1, Last: 3, Data: []byte("y")}), t0)
	if !errors.Is(err, nmsg.ErrFragmentInconsist) {
		t.Fatalf("last mismatch: %v", err)
	}
	if d.Frags.Pending() != 0 || d.Stats.FragmentSetsDiscarded != 1 || d.Stats.FragmentsRejected != 3 {
		t.Errorf("pending %d, stats %+v", d.Frags.Pending(), d.Stats)
	}
}

func TestFragmentMemoryCap(t *testing.T) {
	d := nmsg.NewDecoder()
	d.Frags.MaxMemory = 10000
	chunk := bytes.Repeat([]byte{1}, 1000)
	for id := range uint32(30) {
		if _, err := d.Datagram(senderA, fragmentContainer(0, nmsg.Fragment{ID: id, Current: 0, Last: 1, Data: chunk}), t0); err != nil {
			t.Fatal(err)
		}
	}
	if d.Frags.Pending() > 10 || d.Stats.FragmentSetsEvicted != 20 {
		t.Errorf("pending %d, evicted %d", d.Frags.Pending(), d.Stats.FragmentSetsEvicted)
	}
}

func TestSequenceTracking(t *testing.T) {
	var st nmsg.Stats
	tr := nmsg.NewSequenceTracker(&st)
	id := uint64(0x0123456789abcdef)
	for _, s := range []uint32{0, 1, 2, 5} {
		tr.Observe(senderA, id, s, t0)
	}
	if st.SequenceLost != 2 {
		t.Fatalf("lost %d after 0,1,2,5; want 2", st.SequenceLost)
	}
	tr.Observe(senderA, id, 3, t0) // late: reset, nothing counted
	tr.Observe(senderA, id, 4, t0)
	tr.Observe(senderA, id+1, 100, t0) // new sender instance: reset
	tr.Observe(senderA, id+1, 101+nmsg.MaxSequenceGap+1, t0)
	tr.Observe(senderA, id+1, 102+nmsg.MaxSequenceGap+1, t0)
	if st.SequenceLost != 2 || st.SequenceResets != 3 {
		t.Fatalf("lost %d resets %d; want 2, 3", st.SequenceLost, st.SequenceResets)
	}
	tr.Observe(senderA, id+1, 102+nmsg.MaxSequenceGap+1+nmsg.MaxSequenceGap+1, t0) // exactly the cap: counted
	if st.SequenceLost != 2+nmsg.MaxSequenceGap {
		t.Fatalf("lost %d", st.SequenceLost)
	}
	// Wraparound counts as a small gap.
	tr.Observe(senderB, id, ^uint32(0)-1, t0)
	tr.Observe(senderB, id, 1, t0)
	if st.SequenceLost != 2+nmsg.MaxSequenceGap+2 {
		t.Fatalf("lost %d after wraparound", st.SequenceLost)
	}
	// Idle senders are forgotten.
	tr.Observe(senderA, id, 0, t0.Add(nmsg.DefaultSequenceIdle*2))
	if tr.Senders() != 1 {
		t.Fatalf("%d senders after idle expiry", tr.Senders())
	}
}

func TestSequenceOverDatagrams(t *testing.T) {
	cs := encode(t, nmsg.WriterOptions{ContainerSize: 600, Sequence: true}, payloads(40, 100))
	if len(cs) < 8 {
		t.Fatalf("%d containers", len(cs))
	}
	d := nmsg.NewDecoder()
	_, errs := datagrams(t, d, senderA, append(cs[:3:3], cs[5:]...))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if d.Stats.SequenceLost != 2 {
		t.Fatalf("lost %d, want 2", d.Stats.SequenceLost)
	}
}

func zlibBody(t *testing.T, declared uint32, content []byte) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, declared)
	zw := zlib.NewWriter(&buf)
	zw.Write(content)
	zw.Close()
	return buf.Bytes()
}

func container(flags uint8, body []byte) []byte {
	return append(nmsg.AppendHeader(nil, flags, len(body)), body...)
}

func TestZlibLimits(t *testing.T) {
	b := body(t, payloads(3, 50))
	for _, tc := range []struct {
		name string
		body []byte
		kind error
	}{
		{"declared too large", zlibBody(t, nmsg.MaxContainerSize+1, b), nmsg.ErrTooLarge},
		{"declared shorter than actual", zlibBody(t, uint32(len(b)-1), b), nmsg.ErrTooLarge},
		{"declared longer than actual", zlibBody(t, uint32(len(b)+1), b), nmsg.ErrInflate},
		{"bomb", zlibBody(t, 1000, make([]byte, 4<<20)), nmsg.ErrTooLarge},
		{"not zlib", append([]byte{0, 0, 0, 10}, "garbage!!"...), nmsg.ErrInflate},
		{"no length", []byte{0x78}, nmsg.ErrInflate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := nmsg.NewDecoder()
			_, err := d.Datagram(senderA, container(nmsg.FlagZlib, tc.body), t0)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
		})
	}
	t.Run("exact", func(t *testing.T) {
		d := nmsg.NewDecoder()
		pls, err := d.Datagram(senderA, container(nmsg.FlagZlib, zlibBody(t, uint32(len(b)), b)), t0)
		if err != nil || len(pls) != 3 {
			t.Fatalf("%d payloads, %v", len(pls), err)
		}
	})
}

func TestHeaderChecks(t *testing.T) {
	good := container(0, body(t, payloads(2, 10)))
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		dg   []byte
		kind error
	}{
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), nmsg.ErrBadMagic},
		{"version 1", mut(func(b []byte) []byte { b[5] = 1; return b }), nmsg.ErrBadVersion},
		{"longer than header says", append(mut(func(b []byte) []byte { return b }), 0), nmsg.ErrDatagramLength},
		{"shorter than header says", good[:len(good)-1], nmsg.ErrDatagramLength},
		{"over 1 MiB", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[6:], nmsg.MaxContainerSize+1); return b }), nmsg.ErrTooLarge},
		{"short", good[:7], nmsg.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := nmsg.NewDecoder()
			pls, err := d.Datagram(senderA, tc.dg, t0)
			if !errors.Is(err, tc.kind) || len(pls) != 0 {
				t.Fatalf("got %d payloads, %v; want %v", len(pls), err, tc.kind)
			}
			if d.Stats.Damage() == 0 {
				t.Errorf("not counted: %+v", d.Stats)
			}
		})
	}
}

func TestCRCs(t *testing.T) {
	pls := payloads(3, 40)
	c := encode(t, nmsg.WriterOptions{}, pls)[0]
	// Corrupt the middle payload's message.
	i := bytes.Index(c, pls[1].Message)
	c[i+10] ^= 1
	d := nmsg.NewDecoder()
	got, err := d.Datagram(senderA, c, t0)
	if !errors.Is(err, nmsg.ErrCRCMismatch) || len(got) != 2 || d.Stats.CRCFailures != 1 {
		t.Fatalf("%d payloads, %v, %+v", len(got), err, d.Stats)
	}
	if !bytes.Equal(got[0].Message, pls[0].Message) || !bytes.Equal(got[1].Message, pls[2].Message) {
		t.Fatal("wrong payloads kept")
	}
	if nmsg.CRC32C([]byte("123456789")) != 0xE3069283 {
		t.Fatal("CRC-32C check value")
	}
}

// TestOmitCRCs: without CRCs a container round-trips and is smaller by
// one payload_crcs field per payload; a corrupted message then goes
// undetected by the codec (the store that omits them must check).
func TestOmitCRCs(t *testing.T) {
	pls := payloads(3, 40)
	with := encode(t, nmsg.WriterOptions{}, pls)[0]
	c := encode(t, nmsg.WriterOptions{OmitCRCs: true}, pls)[0]
	crcBytes := 0
	for _, p := range pls {
		crcBytes += 1 + protowire.SizeVarint(uint64(nmsg.WireCRC(p.Message)))
	}
	if len(with)-len(c) != crcBytes {
		t.Fatalf("container %d bytes, with CRCs %d, CRC fields %d", len(c), len(with), crcBytes)
	}
	d := nmsg.NewDecoder()
	got, err := d.Datagram(senderA, c, t0)
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, got, pls)
}

func TestReaderStream(t *testing.T) {
	pls := payloads(500, 300)
	var buf bytes.Buffer
	w := nmsg.NewWriter(&buf, nmsg.WriterOptions{ContainerSize: 4096})
	for i := range pls {
		w.Write(&pls[i])
	}
	w.Flush()
	r := nmsg.NewReader(&buf)
	var got []nmsg.Payload
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Clone())
	}
	samePayloads(t, got, pls)
	if r.Stats.Containers != w.Containers() {
		t.Errorf("read %d containers, wrote %d", r.Stats.Containers, w.Containers())
	}
}

func TestAliases(t *testing.T) {
	tab, err := nmsg.ParseAliases(bytes.NewBufferString("# operators\n\n1 FSI\n0x81 dns_parse_failure\n  \n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := tab.Name(129); n != "dns_parse_failure" {
		t.Errorf("129 → %q", n)
	}
	if v, ok := tab.Lookup("fsi"); !ok || v != 1 {
		t.Errorf("fsi → %d %v", v, ok)
	}
	if _, err := nmsg.ParseAliases(bytes.NewBufferString("1 FSI\nbogus\n")); err == nil || !bytes.Contains([]byte(err.Error()), []byte("line 2")) {
		t.Errorf("bad line: %v", err)
	}
}

func ExampleWriter() {
	var c collector
	w := nmsg.NewWriter(&c, nmsg.WriterOptions{ContainerSize: nmsg.DatagramSize, Sequence: true, SequenceID: 1})
	p := nmsg.Payload{Vid: nmsg.VendorSIE, Msgtype: 1, TimeSec: 1519311169, Message: []byte{0x50, 0x01}, HasMessage: true}
	w.Write(&p)
	w.Flush()
	fmt.Printf("%d container of %d bytes\n", len(c.writes), len(c.writes[0]))
	// Output: 1 container of 41 bytes
}

func TestChannels(t *testing.T) {
	ch, err := nmsg.ParseChannels(bytes.NewBufferString(`# SIE channels
ch204 198.18.204.255/8430
ch202 198.18.202.255/8430..8437

ch42 198.18.42.255/8430 198.18.42.255/9430
ch42 2001:db8::ff/8430
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch["ch204"]) != 1 || len(ch["ch202"]) != 8 || len(ch["ch42"]) != 3 {
		t.Fatalf("parsed %v", ch)
	}
	if ch["ch202"][7] != netip.MustParseAddrPort("198.18.202.255:8437") {
		t.Errorf("range end %v", ch["ch202"][7])
	}
	for _, bad := range []string{"ch1\n", "ch1 198.18.0.1\n", "ch1 198.18.0.1/8430..8400\n", "ch1 198.18.0.1/1..100\n", "ch1 nothost/1\n"} {
		if _, err := nmsg.ParseChannels(bytes.NewBufferString("ch0 198.18.0.255/8430\n" + bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
