package msgmod

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

// vectorsDir returns ../shared/vectors relative to the module root, or
// skips the test.
func vectorsDir(t testing.TB) string { return testvectors.Require(t) }

// readPayloads reads every payload of an NMSG file with the codec's own
// reader (fragments reassembled, zlib inflated), copied out.
func readPayloads(t testing.TB, path string) []nmsg.Payload {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := nmsg.NewReader(f)
	var out []nmsg.Payload
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		out = append(out, p.Clone())
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
