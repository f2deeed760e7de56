package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

// siecap runs the command line in-process and returns its outputs and exit
// status.
func siecap(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// codecVectors are the vector files of the codec (the per-type files are
// checked by the message modules' own tests).
func codecVectors(t *testing.T) []string {
	dir := testvectors.Path(t, "nmsgtool")
	all, _ := filepath.Glob(filepath.Join(dir, "*.nmsg"))
	var files []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.Base(f), "types-") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no vectors in %s", dir)
	}
	return files
}

func TestDumpMatchesNmsgtool(t *testing.T) {
	all, _ := filepath.Glob(filepath.Join(testvectors.Path(t, "nmsgtool"), "*.nmsg"))
	for _, f := range all {
		base := strings.TrimSuffix(f, ".nmsg")
		t.Run(filepath.Base(base), func(t *testing.T) {
			for _, mode := range []struct{ flag, ext string }{{"-J", ".json"}, {"--pres", ".pres"}} {
				want, err := os.ReadFile(base + mode.ext)
				if os.IsNotExist(err) {
					continue
				}
				out, errs, code := siecap(t, nil, "dump", mode.flag, f)
				if code != 0 || errs != "" {
					t.Fatalf("%s: exit %d, stderr %q", mode.flag, code, errs)
				}
				if out != string(want) {
					t.Errorf("%s output differs from nmsgtool's: %s", mode.flag, lineDiff(out, string(want)))
				}
			}
		})
	}
}

// lineDiff describes the first differing line.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + trunc(gl) + "\nwant: " + trunc(wl)
		}
	}
	return "same lines"
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDumpJSONRoundTrip checks JSON → NMSG → JSON identity for every
// vector's JSON, and that nmsgtool's own inputs give its own files' bytes.
func TestDumpJSONRoundTrip(t *testing.T) {
	tmp := t.TempDir()
	for _, f := range codecVectors(t) {
		js := strings.TrimSuffix(f, ".nmsg") + ".json"
		t.Run(filepath.Base(js), func(t *testing.T) {
			out := filepath.Join(tmp, filepath.Base(f))
			if _, errs, code := siecap(t, nil, "dump", "--from-json", "-w", out, js); code != 0 {
				t.Fatalf("from-json: exit %d: %s", code, errs)
			}
			got, errs, code := siecap(t, nil, "dump", out)
			if code != 0 {
				t.Fatalf("dump: exit %d: %s", code, errs)
			}
			want, _ := os.ReadFile(js)
			if got != string(want) {
				t.Errorf("round trip differs: %s", lineDiff(got, string(want)))
			}
		})
	}
	pairs := map[string]string{
		"dedupe.json":    "dedupe-plain.nmsg",
		"newdomain.json": "newdomain-plain.nmsg",
		"mixed.json":     "mixed-plain.nmsg",
	}
	types, _ := filepath.Glob(filepath.Join(testvectors.Path(t, "inputs"), "types-*.json"))
	for _, in := range types {
		pairs[filepath.Base(in)] = strings.TrimSuffix(filepath.Base(in), ".json") + ".nmsg"
	}
	for in, file := range pairs {
		t.Run(in, func(t *testing.T) {
			out, errs, code := siecap(t, nil, "dump", "--from-json", "-w", "-", testvectors.Path(t, "inputs", in))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			want := testvectors.Read(t, "nmsgtool", file)
			if out != string(want) {
				t.Errorf("%s → NMSG: %d bytes differ from nmsgtool's %s (%d bytes)", in, len(out), file, len(want))
			}
		})
	}
}

// TestDumpJSONContainerSplit: 16,000 payloads from JSON are packed into
// nmsgtool's 7446/7446/1108 containers, byte for byte.
func TestDumpJSONContainerSplit(t *testing.T) {
	out, errs, code := siecap(t, nil, "dump", "--from-json", "-w", "-", testvectors.Path(t, "nmsgtool", "dedupe-16000-multi.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := testvectors.Read(t, "nmsgtool", "dedupe-16000-multi.nmsg"); out != string(want) {
		t.Fatalf("%d bytes differ from nmsgtool's %d", len(out), len(want))
	}
}

func TestDumpExitStatus(t *testing.T) {
	plain := testvectors.Read(t, "nmsgtool", "dedupe-16000-multi.nmsg")
	for _, tc := range []struct {
		name     string
		input    []byte
		args     []string
		code     int
		lines    int // JSON lines expected on stdout (-1: do not check)
		stderrRe string
	}{
		{name: "clean", input: plain, code: 0, lines: 16000},
		{name: "truncated last container", input: plain[:len(plain)-100], code: 1, lines: 14892, stderrRe: "truncated"},
		{name: "trailing garbage", input: append(append([]byte(nil), plain...), "garbage"...), code: 1, lines: 16000, stderrRe: "offset 2252830: incorrect magic number"},
		{name: "truncated header", input: append(append([]byte(nil), plain...), "NMS"...), code: 1, lines: 16000, stderrRe: "truncated"},
		{name: "exact multiple recovered", input: testvectors.Read(t, "quirks", "frag-exact-multiple-lost.nmsg"), code: 0, lines: 1},
		{name: "last mismatch", input: testvectors.Read(t, "quirks", "frag-last-mismatch.nmsg"), code: 1, lines: 0, stderrRe: "inconsistent"},
		{name: "current past last", input: testvectors.Read(t, "quirks", "frag-current-gt-last.nmsg"), code: 1, lines: 0, stderrRe: "current 5000 exceeds last 1"},
		{name: "headerless datagram read as a file", input: testvectors.Read(t, "quirks", "encode-big-zlib-udp.bin"), code: 1, lines: 0, stderrRe: "offset 0: incorrect magic number"},
		{name: "incomplete fragment set", input: firstContainers(t, testvectors.Read(t, "nmsgtool", "frag-udp.nmsg"), 3), code: 1, lines: 0, stderrRe: "1 fragment sets incomplete"},
		{name: "truncated inside a fragment set", input: testvectors.Read(t, "nmsgtool", "frag-udp.nmsg")[:1000], code: 1, lines: 0, stderrRe: "1 fragment sets left incomplete"},
		{name: "usage", args: []string{"dump", "--bogus"}, code: 2, lines: 0},
		{name: "no input", args: []string{"dump"}, code: 2, lines: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"dump", "-"}
			}
			out, errs, code := siecap(t, tc.input, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			if n := strings.Count(out, "\n"); tc.lines >= 0 && n != tc.lines {
				t.Errorf("%d lines on stdout, want %d", n, tc.lines)
			}
			if tc.stderrRe != "" && !strings.Contains(errs, tc.stderrRe) {
				t.Errorf("stderr %q lacks %q", errs, tc.stderrRe)
			}
		})
	}
}

// firstContainers returns the first n containers of a stream.
func firstContainers(t *testing.T, b []byte, n int) []byte {
	off := 0
	for range n {
		h, err := nmsg.ParseHeader(b[off:])
		if err != nil {
			t.Fatalf("parse header at %d: %v", off, err)
		}
		off += nmsg.HeaderSize + int(h.Length)
	}
	return b[:off]
}

func TestDumpCRCMismatchWarnsOnly(t *testing.T) {
	data := append([]byte(nil), testvectors.Read(t, "nmsgtool", "dedupe-plain.nmsg")...)
	// Flip a byte inside the first payload's message (an rrname byte).
	i := bytes.Index(data, []byte("telekomza"))
	if i < 0 {
		t.Fatal("marker not found in dedupe-plain.nmsg")
	}
	data[i] ^= 0x20
	out, errs, code := siecap(t, data, "dump", "--stats", "-")
	if code != 0 {
		t.Fatalf("exit %d, want 0: %s", code, errs)
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("%d payloads printed, want 4 of 5", n)
	}
	if !strings.Contains(errs, "payload CRC mismatch") || !strings.Contains(errs, "crc failures: 1") {
		t.Errorf("stderr lacks the warning or the count: %q", errs)
	}
}

func TestDumpFilter(t *testing.T) {
	mixed := testvectors.Path(t, "nmsgtool", "mixed-plain.nmsg")
	want := ""
	for _, l := range strings.SplitAfter(string(testvectors.Read(t, "nmsgtool", "mixed-plain.json")), "\n") {
		if strings.Contains(l, `"mname":"newdomain"`) {
			want += l
		}
	}
	for _, args := range [][]string{{"--vid", "SIE", "--msgtype", "newdomain"}, {"--vid", "2", "--msgtype", "5"}} {
		out, errs, code := siecap(t, nil, append(append([]string{"dump"}, args...), mixed)...)
		if code != 0 || out != want || want == "" {
			t.Errorf("%v: exit %d, %d bytes (want %d): %s", args, code, len(out), len(want), errs)
		}
	}
	if _, _, code := siecap(t, nil, "dump", "--vid", "SIE", mixed); code != 2 {
		t.Errorf("--vid alone: exit %d, want 2", code)
	}
}

func TestDumpSample(t *testing.T) {
	out, errs, code := siecap(t, nil, "dump", "--sample", "--stats")
	if code != 0 || strings.Count(out, "\n") != 12 || !strings.Contains(errs, "payloads: 12") {
		t.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
}

func TestDumpAliasNames(t *testing.T) {
	dir := t.TempDir()
	op := filepath.Join(dir, "nmsg.opalias")
	gr := filepath.Join(dir, "nmsg.gralias")
	os.WriteFile(op, []byte("# operators\n1 FSI\n"), 0o644)
	os.WriteFile(gr, []byte("\n129 dns_parse_failure\n"), 0o644)
	t.Setenv("NMSG_OPALIAS_FILE", op)
	t.Setenv("NMSG_GRALIAS_FILE", gr)
	var buf bytes.Buffer
	w := nmsg.NewWriter(&buf, nmsg.WriterOptions{})
	w.Write(&nmsg.Payload{Vid: 2, Msgtype: 1, TimeSec: 1519311169, Operator: 1, Group: 129, Message: []byte{0x50, 0x01}, HasMessage: true})
	w.Write(&nmsg.Payload{Vid: 2, Msgtype: 1, TimeSec: 1519311169, Operator: 7, Group: 130, Message: []byte{0x50, 0x01}, HasMessage: true})
	w.Flush()
	out, errs, code := siecap(t, buf.Bytes(), "dump", "-")
	if code != 0 || !strings.Contains(out, `"operator":"FSI","group":"dns_parse_failure"`) || !strings.Contains(out, `"operator":7,"group":130`) {
		t.Errorf("exit %d, stderr %q, out %s", code, errs, out)
	}
	out, _, _ = siecap(t, buf.Bytes(), "dump", "--pres", "-")
	if !strings.Contains(out, "[FSI] [dns_parse_failure] \n") {
		t.Errorf("pres header lacks the names: %s", out)
	}
}
