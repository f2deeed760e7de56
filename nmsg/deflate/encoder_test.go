package deflate_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/deflate"
)

const windowSize = 1 << 15

// containers returns NMSG container bodies of SIE/dnsdedupe payloads (the
// bench-data generator), the input this encoder is tuned for: one of 1 MiB
// (several blocks and a CRC tail) and one 8 KiB datagram's.
func containers(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, size := range []int{nmsg.MaxContainerSize, nmsg.DatagramSize} {
		var c collect
		w := nmsg.NewWriter(&c, nmsg.WriterOptions{ContainerSize: size})
		g := synth.NewDedupe(7, 1764115200)
		var p nmsg.Payload
		var buf []byte
		for len(c.bodies) == 0 {
			buf = g.Next(&p, buf[:0])
			if err := w.Write(&p); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, c.bodies[0])
	}
	return out
}

type collect struct{ bodies [][]byte }

func (c *collect) Write(b []byte) (int, error) {
	c.bodies = append(c.bodies, append([]byte(nil), b[nmsg.HeaderSize:]...))
	return len(b), nil
}

// inputs covers the encoder's edges: empty and tiny inputs, the end of the
// input inside a match, runs longer than a match, incompressible data
// (stored blocks, and more than 64 KiB of it), distances at the edge of
// the window, and real containers.
func inputs(t testing.TB) map[string][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 200000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("siecap NMSG container, zlib stream; "), 3000)
	window := append(append(append([]byte{}, random[:windowSize-3]...), random[:300]...), random[:windowSize+10]...)
	mixed := append(append(append([]byte{}, text[:50000]...), random[:80000]...), text[:70000]...)
	in := map[string][]byte{
		"empty":      {},
		"one":        {'x'},
		"three":      []byte("abc"),
		"four":       []byte("abcd"),
		"repeat5":    []byte("abcdeabcde"),
		"zeros":      make([]byte, 100000),
		"run":        bytes.Repeat([]byte{7}, 1000),
		"random":     random,
		"text":       text,
		"window":     window,
		"mixed":      mixed,
		"short tail": append(bytes.Repeat([]byte("0123456789"), 100), "01234"...),
	}
	for i, c := range containers(t) {
		in["container"+string(rune('0'+i))] = c
	}
	return in
}

func inflate(t testing.TB, z []byte) []byte {
	t.Helper()
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatalf("zlib header: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// TestEncoderRoundTrip decodes every level's output of every input with
// the standard library's zlib reader, reusing one Encoder per level so
// that the tables carry over from one input to the next.
func TestEncoderRoundTrip(t *testing.T) {
	in := inputs(t)
	for level := 1; level <= 9; level++ {
		e := deflate.NewEncoder(level)
		for pass := range 2 {
			for name, src := range in {
				z := e.AppendZlib([]byte("prefix"), src)
				if !bytes.HasPrefix(z, []byte("prefix")) {
					t.Fatalf("level %d %s: dst prefix lost", level, name)
				}
				if got := inflate(t, z[6:]); !bytes.Equal(got, src) {
					t.Fatalf("level %d pass %d %s: round trip differs (%d bytes, want %d)", level, pass, name, len(got), len(src))
				}
			}
		}
	}
}

// TestEncoderStoredBlocks checks that incompressible input costs no more
// than stored blocks do.
func TestEncoderStoredBlocks(t *testing.T) {
	src := inputs(t)["random"]
	z := deflate.NewEncoder(deflate.DefaultLevel).AppendZlib(nil, src)
	if limit := len(src) + 5*(len(src)/65535+1) + 6; len(z) > limit {
		t.Errorf("%d random bytes compress to %d, more than stored blocks (%d)", len(src), len(z), limit)
	}
}

// TestEncoderCZlib decompresses the output with C zlib (python3's zlib
// module), the library libnmsg and nmsgtool inflate with.
func TestEncoderCZlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 (for C zlib) is not installed")
	}
	dir := t.TempDir()
	e := deflate.NewEncoder(deflate.DefaultLevel)
	var names []string
	for name, src := range inputs(t) {
		file := filepath.Join(dir, filepath.Base(name))
		names = append(names, file)
		if err := os.WriteFile(file+".raw", src, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file+".z", e.AppendZlib(nil, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import sys, zlib
for name in sys.argv[1:]:
    raw = open(name + ".raw", "rb").read()
    got = zlib.decompress(open(name + ".z", "rb").read())
    if got != raw:
        sys.exit(name + ": C zlib inflates something else")
`
	out, err := exec.Command(py, append([]string{"-c", script}, names...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, out)
	}
}

// FuzzEncoder round-trips arbitrary input, split in two to exercise the
// tables left over from a previous input.
func FuzzEncoder(f *testing.F) {
	f.Add([]byte("abcabcabcabcd"), uint8(6), uint16(5))
	f.Add(bytes.Repeat([]byte{0}, 300), uint8(1), uint16(0))
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 40), uint8(9), uint16(33))
	f.Fuzz(func(t *testing.T, data []byte, level uint8, cut uint16) {
		e := deflate.NewEncoder(int(level%10) + 1)
		k := int(cut) % (len(data) + 1)
		for _, src := range [][]byte{data[:k], data[k:], data} {
			if got := inflate(t, e.AppendZlib(nil, src)); !bytes.Equal(got, src) {
				t.Fatalf("round trip differs: %d bytes, want %d", len(got), len(src))
			}
		}
	})
}

// BenchmarkEncoder compresses a 1 MiB SIE container.
func BenchmarkEncoder(b *testing.B) {
	src := containers(b)[0]
	e := deflate.NewEncoder(deflate.DefaultLevel)
	var dst []byte
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dst = e.AppendZlib(dst[:0], src)
	}
	b.ReportMetric(float64(len(dst))/float64(len(src)), "ratio")
}
