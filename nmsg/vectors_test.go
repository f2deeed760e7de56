package nmsg_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

// readAll reads every payload of a stream, cloning them, and returns the
// payloads, the non-fatal errors and the final error (nil at a clean EOF).
func readAll(t testing.TB, data []byte) (*nmsg.Reader, []nmsg.Payload, []error, error) {
	t.Helper()
	r := nmsg.NewReader(bytes.NewReader(data))
	var pls []nmsg.Payload
	var errs []error
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r, pls, errs, nil
		}
		if err != nil {
			var e *nmsg.Error
			if errors.As(err, &e) && e.Fatal {
				return r, pls, errs, err
			}
			errs = append(errs, err)
			continue
		}
		pls = append(pls, p.Clone())
	}
}

func countLines(b []byte) int { return bytes.Count(b, []byte("\n")) }

func TestReadVectors(t *testing.T) {
	dir := testvectors.Path(t, "nmsgtool")
	files, err := filepath.Glob(filepath.Join(dir, "*.nmsg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vector files in %s: %v", dir, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			js, err := os.ReadFile(strings.TrimSuffix(f, ".nmsg") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			r, pls, errs, ferr := readAll(t, data)
			if ferr != nil || len(errs) > 0 {
				t.Fatalf("read: fatal %v, errors %v", ferr, errs)
			}
			if want := countLines(js); len(pls) != want {
				t.Errorf("payloads %d, json lines %d", len(pls), want)
			}
			if d := r.Stats.Damage(); d != 0 || r.Stats.CRCFailures != 0 {
				t.Errorf("damage %d, crc failures %d: %s", d, r.Stats.CRCFailures, r.Stats.String())
			}
		})
	}
}

// TestWriterReproducesNmsgtool re-frames the payloads of files nmsgtool
// wrote and expects the very same bytes: packing, CRCs and field order
// follow libnmsg.
func TestWriterReproducesNmsgtool(t *testing.T) {
	dir := testvectors.Path(t, "nmsgtool")
	files, _ := filepath.Glob(filepath.Join(dir, "*.nmsg"))
	for _, f := range files {
		name := filepath.Base(f)
		opts := nmsg.WriterOptions{}
		switch {
		case strings.Contains(name, "zlib"), strings.HasPrefix(name, "frag-"), strings.HasPrefix(name, "udp-seq"):
			continue // compressed bytes differ between zlib builds; socket captures carry random ids
		case strings.Contains(name, "unbuffered"):
			opts.Unbuffered = true
		}
		t.Run(name, func(t *testing.T) {
			data, _ := os.ReadFile(f)
			_, pls, errs, ferr := readAll(t, data)
			if ferr != nil || len(errs) > 0 {
				t.Fatalf("read: %v %v", ferr, errs)
			}
			var out bytes.Buffer
			w := nmsg.NewWriter(&out, opts)
			for i := range pls {
				if err := w.Write(&pls[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Errorf("re-framed %d bytes differ from nmsgtool's %d (first difference at %d)", out.Len(), len(data), firstDiff(out.Bytes(), data))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestZlibVectorsMatchPlain(t *testing.T) {
	for _, pair := range [][2]string{
		{"dedupe-zlib.nmsg", "dedupe-plain.nmsg"},
		{"mixed-unbuffered-zlib.nmsg", "mixed-unbuffered.nmsg"},
		{"dedupe-16000-multi-zlib.nmsg", "dedupe-16000-multi.nmsg"},
		{"frag-udp-zlib.nmsg", "frag-udp.nmsg"},
		{"udp-seq-zlib.nmsg", "udp-seq.nmsg"},
	} {
		t.Run(pair[0], func(t *testing.T) {
			_, z, errs, err := readAll(t, testvectors.Read(t, "nmsgtool", pair[0]))
			if err != nil || len(errs) > 0 {
				t.Fatalf("read %s: %v %v", pair[0], err, errs)
			}
			_, p, _, _ := readAll(t, testvectors.Read(t, "nmsgtool", pair[1]))
			if len(z) != len(p) {
				t.Fatalf("%d payloads, plain has %d", len(z), len(p))
			}
			for i := range z {
				if z[i].Vid != p[i].Vid || z[i].Msgtype != p[i].Msgtype || !bytes.Equal(z[i].Message, p[i].Message) {
					t.Fatalf("payload %d differs", i)
				}
			}
		})
	}
}

func TestFragmentVectors(t *testing.T) {
	for _, tc := range []struct {
		file      string
		sets      uint64
		payloads  int
		seqLost   uint64
		recovered uint64
	}{
		{"frag-udp.nmsg", 1, 0, 0, 0},
		{"frag-udp-zlib.nmsg", 1, 0, 0, 0},
		{"frag-udp-encode.nmsg", 1, 1, 0, 0},
		{"udp-seq.nmsg", 0, 400, 0, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, pls, errs, err := readAll(t, testvectors.Read(t, "nmsgtool", tc.file))
			if err != nil || len(errs) > 0 {
				t.Fatalf("read: %v %v", err, errs)
			}
			if r.Stats.FragmentSetsDone != tc.sets {
				t.Errorf("sets reassembled %d, want %d", r.Stats.FragmentSetsDone, tc.sets)
			}
			if tc.payloads > 0 && len(pls) != tc.payloads {
				t.Errorf("payloads %d, want %d", len(pls), tc.payloads)
			}
			if r.Stats.SequenceLost != tc.seqLost {
				t.Errorf("sequence lost %d", r.Stats.SequenceLost)
			}
		})
	}
}

func TestQuirks(t *testing.T) {
	t.Run("exact-multiple", func(t *testing.T) {
		r, pls, errs, err := readAll(t, testvectors.Read(t, "quirks", "frag-exact-multiple-lost.nmsg"))
		if err != nil || len(errs) > 0 {
			t.Fatalf("read: %v %v", err, errs)
		}
		if r.Stats.FragmentSetsRecovered != 1 || len(pls) != 1 {
			t.Fatalf("recovered %d sets, %d payloads; want 1, 1", r.Stats.FragmentSetsRecovered, len(pls))
		}
	})
	t.Run("last-mismatch", func(t *testing.T) {
		r, _, errs, err := readAll(t, testvectors.Read(t, "quirks", "frag-last-mismatch.nmsg"))
		if err != nil || len(errs) != 1 || !errors.Is(errs[0], nmsg.ErrFragmentInconsist) {
			t.Fatalf("want one inconsistency error, got %v %v", err, errs)
		}
		if r.Stats.FragmentSetsDiscarded != 1 {
			t.Errorf("discarded %d", r.Stats.FragmentSetsDiscarded)
		}
	})
	t.Run("current-gt-last", func(t *testing.T) {
		r, _, errs, err := readAll(t, testvectors.Read(t, "quirks", "frag-current-gt-last.nmsg"))
		if err != nil || len(errs) != 1 || !errors.Is(errs[0], nmsg.ErrFragmentRejected) {
			t.Fatalf("want one rejection, got %v %v", err, errs)
		}
		if r.Stats.FragmentsRejected != 1 {
			t.Errorf("rejected %d", r.Stats.FragmentsRejected)
		}
	})
	t.Run("headerless-as-file", func(t *testing.T) {
		_, _, _, err := readAll(t, testvectors.Read(t, "quirks", "encode-big-zlib-udp.bin"))
		var e *nmsg.Error
		if !errors.As(err, &e) || !errors.Is(err, nmsg.ErrBadMagic) || e.Offset != 0 {
			t.Fatalf("want bad magic at offset 0, got %v", err)
		}
	})
	t.Run("headerless-as-datagram", func(t *testing.T) {
		d := nmsg.NewDecoder()
		pls, err := d.Datagram(netip.MustParseAddrPort("198.18.0.1:8430"), testvectors.Read(t, "quirks", "encode-big-zlib-udp.bin"), time.Now())
		if err != nil || len(pls) != 1 || d.Stats.Headerless != 1 {
			t.Fatalf("got %d payloads, err %v, headerless %d", len(pls), err, d.Stats.Headerless)
		}
	})
}
