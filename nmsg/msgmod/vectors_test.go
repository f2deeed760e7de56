package msgmod

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

// vectorsDir returns ../shared/vectors relative to the module root, or
// skips the test.
func vectorsDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("../shared/vectors not present")
		}
		dir = parent
	}
	v := filepath.Join(dir, "..", "shared", "vectors")
	if _, err := os.Stat(v); err != nil {
		t.Skip("../shared/vectors not present")
	}
	return v
}

// readPayloads is a small test-only NMSG file reader: plain, zlib and
// fragmented containers (fragments reassembled by id), payloads copied out.
func readPayloads(t testing.TB, path string) []nmsg.Payload {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []nmsg.Payload
	frags := map[uint32]map[uint32][]byte{}
	for len(data) >= 10 {
		if string(data[:4]) != "NMSG" {
			t.Fatalf("%s: bad magic", path)
		}
		flags := data[4]
		n := int(binary.BigEndian.Uint32(data[6:10]))
		body := data[10 : 10+n]
		data = data[10+n:]
		if flags&2 != 0 {
			var id, cur, last uint32
			var chunk []byte
			walkFields(t, body, func(num protowire.Number, v uint64, b []byte) {
				switch num {
				case 1:
					id = uint32(v)
				case 2:
					cur = uint32(v)
				case 3:
					last = uint32(v)
				case 4:
					chunk = b
				}
			})
			if frags[id] == nil {
				frags[id] = map[uint32][]byte{}
			}
			frags[id][cur] = chunk
			if uint32(len(frags[id])) != last+1 {
				continue
			}
			var whole []byte
			for i := uint32(0); i <= last; i++ {
				whole = append(whole, frags[id][i]...)
			}
			delete(frags, id)
			body = whole
		}
		if flags&1 != 0 {
			zr, err := zlib.NewReader(bytes.NewReader(body[4:]))
			if err != nil {
				t.Fatal(err)
			}
			body, err = io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
		}
		walkFields(t, body, func(num protowire.Number, _ uint64, b []byte) {
			if num != 1 {
				return
			}
			var p nmsg.Payload
			walkFields(t, b, func(num protowire.Number, v uint64, b []byte) {
				switch num {
				case 1:
					p.Vid = uint32(v)
				case 2:
					p.Msgtype = uint32(v)
				case 3:
					p.TimeSec = int64(v)
				case 4:
					p.TimeNsec = uint32(v)
				case 5:
					p.Message = append([]byte{}, b...)
					p.HasMessage = true
				case 7:
					p.Source = uint32(v)
				case 8:
					p.Operator = uint32(v)
				case 9:
					p.Group = uint32(v)
				}
			})
			out = append(out, p)
		})
	}
	return out
}

func walkFields(t testing.TB, b []byte, fn func(protowire.Number, uint64, []byte)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal("bad tag")
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				t.Fatal("bad varint")
			}
			fn(num, v, nil)
			b = b[n:]
		case protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				t.Fatal("bad fixed32")
			}
			fn(num, uint64(v), nil)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatal("bad bytes")
			}
			fn(num, 0, v)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				t.Fatal("bad field")
			}
			b = b[n:]
		}
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g := strings.SplitAfter(string(got), "\n")
	w := strings.SplitAfter(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			c := 0
			for c < len(gl) && c < len(wl) && gl[c] == wl[c] {
				c++
			}
			from := max(0, c-60)
			return fmt.Sprintf("line %d col %d:\n got: %q\nwant: %q", i+1, c, clip(gl, from), clip(wl, from))
		}
	}
	return "identical"
}

func clip(s string, from int) string {
	if from > len(s) {
		return ""
	}
	s = s[from:]
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func vectorFiles(t *testing.T, ext string) []string {
	dir := filepath.Join(vectorsDir(t), "nmsgtool")
	files, err := filepath.Glob(filepath.Join(dir, "*.nmsg"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if _, err := os.Stat(strings.TrimSuffix(f, ".nmsg") + ext); err == nil {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func testVectorOutput(t *testing.T, ext string, appendFn func(p *Printer, dst []byte, pl *nmsg.Payload) ([]byte, error)) {
	for _, f := range vectorFiles(t, ext) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".nmsg") + ext)
			if err != nil {
				t.Fatal(err)
			}
			p := &Printer{}
			var got []byte
			pls := readPayloads(t, f)
			for i := range pls {
				got, err = appendFn(p, got, &pls[i])
				if err != nil {
					t.Fatalf("payload %d: %v", i, err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s%s differs: %s", name, ext, firstDiff(got, want))
			}
		})
	}
}

func TestVectorsJSON(t *testing.T) {
	testVectorOutput(t, ".json", (*Printer).AppendJSON)
}

func TestVectorsPres(t *testing.T) {
	testVectorOutput(t, ".pres", (*Printer).AppendPres)
}
