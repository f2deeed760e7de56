package deflate_test

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/siecap/siecap/nmsg/deflate"
)

// stdZlib compresses src with the standard library at level (which
// includes stored and Huffman-only blocks).
func stdZlib(t testing.TB, src []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return b.Bytes()
}

// TestDecoderRoundTrip inflates the streams of this package's encoder and
// of the standard library's at every level.
func TestDecoderRoundTrip(t *testing.T) {
	var d deflate.Decoder
	for name, src := range inputs(t) {
		streams := map[string][]byte{"ours": deflate.NewEncoder(6).AppendZlib(nil, src)}
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 6, flate.BestCompression} {
			streams["std"+string(rune('0'+level+2))] = stdZlib(t, src, level)
		}
		for sn, z := range streams {
			out := make([]byte, len(src))
			if err := d.InflateZlib(out, z); err != nil {
				t.Fatalf("%s %s: %v", name, sn, err)
			}
			if !bytes.Equal(out, src) {
				t.Fatalf("%s %s: inflates to something else", name, sn)
			}
		}
	}
}

// TestDecoderCZlib inflates streams C zlib (python3's zlib module) wrote
// at levels 1, 6 and 9, as nmsgtool's are.
func TestDecoderCZlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 (for C zlib) is not installed")
	}
	dir := t.TempDir()
	in := inputs(t)
	var names []string
	for name, src := range in {
		file := filepath.Join(dir, filepath.Base(name))
		names = append(names, file)
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import sys, zlib
for name in sys.argv[1:]:
    raw = open(name, "rb").read()
    for level in (1, 6, 9):
        open(name + "." + str(level), "wb").write(zlib.compress(raw, level))
`
	if out, err := exec.Command(py, append([]string{"-c", script}, names...)...).CombinedOutput(); err != nil {
		t.Fatalf("python3: %v: %s", err, out)
	}
	var d deflate.Decoder
	for _, file := range names {
		src, _ := os.ReadFile(file)
		for _, level := range []string{"1", "6", "9"} {
			z, err := os.ReadFile(file + "." + level)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]byte, len(src))
			if err := d.InflateZlib(out, z); err != nil || !bytes.Equal(out, src) {
				t.Fatalf("%s level %s: %v", file, level, err)
			}
		}
	}
}

// TestDecoderErrors checks that damage is refused with the right error
// and that the output buffer bounds the inflated size.
func TestDecoderErrors(t *testing.T) {
	src := inputs(t)["container0"]
	z := deflate.NewEncoder(6).AppendZlib(nil, src)
	var d deflate.Decoder
	check := func(name string, out, z []byte, want error) {
		t.Helper()
		if err := d.InflateZlib(out, z); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	check("short buffer", make([]byte, len(src)-1), z, deflate.ErrTooLong)
	check("long buffer", make([]byte, len(src)+1), z, deflate.ErrShort)
	check("truncated", make([]byte, len(src)), z[:len(z)/2], deflate.ErrCorrupt)
	check("no checksum", make([]byte, len(src)), z[:len(z)-4], deflate.ErrCorrupt)
	bad := append([]byte(nil), z...)
	bad[len(bad)-1] ^= 1
	check("checksum", make([]byte, len(src)), bad, deflate.ErrChecksum)
	check("header", make([]byte, len(src)), append([]byte{0x78, 0x9d}, z[2:]...), deflate.ErrCorrupt)
	check("dictionary", make([]byte, len(src)), append([]byte{0x78, 0xbb}, z[2:]...), deflate.ErrCorrupt)
	check("empty", nil, nil, deflate.ErrCorrupt)
	// Block type 3.
	check("block type", make([]byte, 1), []byte{0x78, 0x9c, 0x07, 0, 0, 0, 0, 0}, deflate.ErrCorrupt)
	// A stored block whose NLEN is not the complement of LEN.
	check("stored", make([]byte, 1), []byte{0x78, 0x9c, 0x01, 0x01, 0x00, 0xfe, 0xfe, 'x', 0, 0, 0, 0}, deflate.ErrCorrupt)
	// A fixed block with a distance before the start of the output:
	// literal 'a', then length 3 at distance 2.
	check("distance", make([]byte, 4), fixedBlock(t, func(w *bitw) {
		w.put(0x30+'a', 8, true)
		w.put(0b0000001, 7, true) // length 3
		w.put(1, 5, true)         // distance 2
	}), deflate.ErrCorrupt)
	// A fixed block using literal/length symbol 286.
	check("symbol 286", make([]byte, 4), fixedBlock(t, func(w *bitw) {
		w.put(0b11000110, 8, true)
	}), deflate.ErrCorrupt)
	// A dynamic block whose literal/length code is over-subscribed.
	check("code", make([]byte, 4), []byte{0x78, 0x9c, 0x05, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, deflate.ErrCorrupt)
}

// bitw writes bits LSB first, Huffman codes MSB first.
type bitw struct {
	b []byte
	n uint
}

func (w *bitw) put(v uint32, n uint, huffman bool) {
	for i := range n {
		bit := v >> i & 1
		if huffman {
			bit = v >> (n - 1 - i) & 1
		}
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(bit) << (w.n % 8)
		w.n++
	}
}

// fixedBlock returns a zlib stream of one final fixed-Huffman block with
// the symbols body writes, then the end of block and a zero checksum.
func fixedBlock(t *testing.T, body func(*bitw)) []byte {
	var w bitw
	w.put(1, 1, false)
	w.put(1, 2, false)
	body(&w)
	w.put(0, 7, true)
	return binary.BigEndian.AppendUint32(append([]byte{0x78, 0x9c}, w.b...), 0)
}

// FuzzDecoder inflates arbitrary streams into a buffer of the size the
// standard library inflates them to (or of the fuzzed size), and checks
// that both agree: the same bytes, or both refuse.
func FuzzDecoder(f *testing.F) {
	for _, src := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("abcdefgh"), 100), inputs(f)["text"][:3000]} {
		f.Add(deflate.NewEncoder(6).AppendZlib(nil, src), uint16(len(src)))
		f.Add(stdZlib(f, src, flate.BestSpeed), uint16(len(src)))
		f.Add(stdZlib(f, src, flate.NoCompression), uint16(len(src)))
	}
	var d deflate.Decoder
	f.Fuzz(func(t *testing.T, z []byte, size uint16) {
		want, werr := stdInflate(z)
		n := int(size)
		if werr == nil {
			n = len(want)
		}
		out := make([]byte, n)
		err := d.InflateZlib(out, z)
		if werr == nil && err != nil {
			t.Fatalf("refused a stream the standard library inflates: %v", err)
		}
		if werr == nil && !bytes.Equal(out, want) {
			t.Fatalf("inflates to something else than the standard library")
		}
		if werr != nil && err == nil {
			t.Fatalf("accepted a stream the standard library refuses (%v)", werr)
		}
	})
}

func stdInflate(z []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = out.ReadFrom(r)
	return out.Bytes(), err
}
