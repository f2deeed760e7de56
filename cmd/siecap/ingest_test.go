package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

var ingestLine = regexp.MustCompile(`(?m)^ingest: payloads (\d+), stored (\d+), deduped (\d+), filtered (\d+), rejected (\d+)\n\z`)

// ingestCounts parses the last line of ingest's output.
func ingestCounts(t *testing.T, out string) (payloads, stored, deduped, filtered, rejected uint64) {
	t.Helper()
	m := ingestLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ingest summary as the last line of %q", out)
	}
	var v [5]uint64
	for i := range v {
		v[i], _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	return v[0], v[1], v[2], v[3], v[4]
}

// allVectors is every NMSG vector, the damaged quirks included.
func allVectors(t *testing.T) []string {
	dir := testvectors.Require(t)
	a, _ := filepath.Glob(filepath.Join(dir, "nmsgtool", "*.nmsg"))
	q, _ := filepath.Glob(filepath.Join(dir, "quirks", "*.nmsg"))
	return append(a, q...)
}

// TestIngestExportMatchesDump: with --dedupe none, exporting a file's
// spool as JSON gives exactly what dump -J prints for the file, and
// exporting as NMSG gives a file that dump prints the same way; ingest
// exits as dump does (1 on damaged input).
func TestIngestExportMatchesDump(t *testing.T) {
	for _, f := range allVectors(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, _, dumpCode := siecap(t, nil, "dump", "-J", f)
			dir := t.TempDir()
			out, errs, code := siecap(t, nil, "ingest", "--spool", dir, "--channel", "9", "--dedupe", "none", f)
			if code != dumpCode {
				t.Fatalf("ingest exit %d, dump exit %d; stderr %q", code, dumpCode, errs)
			}
			payloads, stored, deduped, filtered, _ := ingestCounts(t, out)
			lines := uint64(strings.Count(want, "\n"))
			if payloads != lines || stored != lines || deduped != 0 || filtered != 0 {
				t.Fatalf("%s for %d payloads", out, lines)
			}
			got, errs, code := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "9")
			if code != 0 || errs != "" {
				t.Fatalf("export exit %d, stderr %q", code, errs)
			}
			if got != want {
				t.Fatalf("export differs from dump -J: %s", lineDiff(got, want))
			}
			nm := filepath.Join(t.TempDir(), "out.nmsg")
			if _, errs, code := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "9", "--format", "nmsg", "-o", nm); code != 0 {
				t.Fatalf("export nmsg exit %d: %s", code, errs)
			}
			again, _, code := siecap(t, nil, "dump", "-J", nm)
			if code != 0 || again != want {
				t.Fatalf("exported NMSG (exit %d) prints differently: %s", code, lineDiff(again, want))
			}
			checkCRCs(t, nm)
		})
	}
}

// checkCRCs checks that every container of the NMSG file name lists one
// payload CRC per payload (the spool stores none; export writes them).
func checkCRCs(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) > 0 {
		h, err := nmsg.ParseHeader(b)
		if err != nil || h.Flags != 0 || len(b) < nmsg.HeaderSize+int(h.Length) {
			t.Fatalf("exported container: header %+v, %v", h, err)
		}
		body := b[nmsg.HeaderSize : nmsg.HeaderSize+int(h.Length)]
		b = b[nmsg.HeaderSize+int(h.Length):]
		var payloads, crcs int
		for len(body) > 0 {
			num, typ, n := protowire.ConsumeTag(body)
			if n < 0 {
				t.Fatalf("exported container: %v", protowire.ParseError(n))
			}
			body = body[n:]
			switch num {
			case 1:
				payloads++
			case 2:
				crcs++
			}
			m := protowire.ConsumeFieldValue(num, typ, body)
			if m < 0 {
				t.Fatalf("exported container: %v", protowire.ParseError(m))
			}
			body = body[m:]
		}
		if payloads == 0 || crcs != payloads {
			t.Fatalf("exported container: %d payloads, %d CRCs", payloads, crcs)
		}
	}
}

// TestIngestAccountsForEveryPayload runs every vector through the payload
// dedupe into one channel: each payload dump prints is stored, or
// suppressed as a duplicate and counted against a stored one; damage is
// counted as rejected.
func TestIngestAccountsForEveryPayload(t *testing.T) {
	files := allVectors(t)
	all, _, _ := siecap(t, nil, append([]string{"dump", "-J"}, files...)...)
	dir := t.TempDir()
	out, _, code := siecap(t, nil, append([]string{"ingest", "--spool", dir, "--channel", "204"}, files...)...)
	if code != 1 {
		t.Fatalf("ingest of damaged quirks exited %d", code)
	}
	payloads, stored, deduped, filtered, rejected := ingestCounts(t, out)
	if lines := uint64(strings.Count(all, "\n")); payloads != lines {
		t.Fatalf("ingest read %d payloads, dump printed %d", payloads, lines)
	}
	if payloads != stored+deduped+filtered || deduped == 0 || rejected == 0 {
		t.Fatalf("unaccounted: %s", out)
	}
	exp, errs, code := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "204", "--with-counts")
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(exp, "\n"), "\n")
	if uint64(len(lines)) != stored {
		t.Fatalf("exported %d payloads, ingest stored %d", len(lines), stored)
	}
	dupRE := regexp.MustCompile(`,"duplicates":(\d+)}$`)
	var dups uint64
	seen := map[string]bool{}
	for _, l := range lines {
		m := dupRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("no count on %q", l)
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		dups += n
		seen[strings.TrimSuffix(l, m[0])+"}"] = true
	}
	if dups != deduped {
		t.Fatalf("counts add up to %d, ingest deduped %d", dups, deduped)
	}
	// Every line dump printed is among the stored ones (the window is
	// 60 s of payload time; the vectors' duplicates lie within it).
	for _, l := range strings.Split(strings.TrimSuffix(all, "\n"), "\n") {
		if !seen[l] {
			t.Fatalf("payload lost: %s", l)
		}
	}
}

func TestSpoolExportTimeRange(t *testing.T) {
	f := testvectors.Path(t, "nmsgtool", "dedupe-16000-multi.nmsg")
	dir := t.TempDir()
	if out, errs, code := siecap(t, nil, "ingest", "--spool", dir, "--channel", "1", "--dedupe", "none", f); code != 0 {
		t.Fatalf("ingest: %s %s", out, errs)
	}
	full, _, _ := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "1")
	lines := strings.Split(strings.TrimSuffix(full, "\n"), "\n")
	// Cut at the 25th and 75th percentiles of the distinct payload
	// times, the first as RFC 3339, the second as Unix seconds.
	tm := func(l string) string { return l[9:38] } // "YYYY-MM-DD HH:MM:SS.nnnnnnnnn"
	var times []string
	for _, l := range lines {
		times = append(times, tm(l))
	}
	slices.Sort(times)
	times = slices.Compact(times)
	lo, hi := times[len(times)/4], times[3*len(times)/4]
	from := strings.Replace(lo, " ", "T", 1) + "Z"
	got, errs, code := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "1", "--from", from, "--to", unixOf(t, hi))
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	var want []string
	for _, l := range lines {
		if x := tm(l); x >= lo && x < hi {
			want = append(want, l)
		}
	}
	if got != strings.Join(want, "\n")+"\n" || len(want) < 100 || len(want) > len(lines)-100 {
		t.Fatalf("range export: %d lines, want %d of %d", strings.Count(got, "\n"), len(want), len(lines))
	}
}

func unixOf(t *testing.T, s string) string {
	t.Helper()
	tt, err := parseTime(strings.Replace(s, " ", "T", 1) + "Z")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d.%09d", tt.Unix(), tt.Nanosecond())
}

func TestSpoolVerifyAndLs(t *testing.T) {
	f := testvectors.Path(t, "nmsgtool", "dedupe-16000-multi.nmsg")
	dir := t.TempDir()
	if _, errs, code := siecap(t, nil, "ingest", "--spool", dir, "--channel", "204", f); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	ls, _, code := siecap(t, nil, "spool", "ls", "--spool", dir)
	if code != 0 || !strings.Contains(ls, "00000000-000000cc-0000000000000001  sealed") {
		t.Fatalf("ls exit %d:\n%s", code, ls)
	}
	if out, errs, code := siecap(t, nil, "spool", "verify", "--spool", dir); code != 0 || out != "" {
		t.Fatalf("verify of a clean spool: exit %d, %q %q", code, out, errs)
	}
	seg := filepath.Join(dir, "00000000-000000cc-0000000000000001.seg")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := siecap(t, nil, "spool", "verify", "--spool", dir)
	if code != 1 || !strings.Contains(out, "00000000-000000cc-0000000000000001.seg offset ") {
		t.Fatalf("verify of a damaged spool: exit %d, %q", code, out)
	}
	if _, _, code := siecap(t, nil, "spool", "export", "--spool", dir, "--channel", "204"); code != 1 {
		t.Fatalf("export of a damaged record exited %d", code)
	}
	if _, _, code := siecap(t, nil, "spool", "verify", "--spool", filepath.Join(dir, "nope")); code != 2 {
		t.Fatalf("verify of a missing directory exited %d", code)
	}
}

func TestIngestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ingest", "--channel", "1", "x.nmsg"},
		{"ingest", "--spool", "d", "x.nmsg"},
		{"ingest", "--spool", "d", "--channel", "1"},
		{"ingest", "--spool", "d", "--channel", "1", "--dedupe", "bogus", "x"},
		{"spool", "export", "--spool", "d"},
		{"spool", "export", "--spool", "d", "--channel", "1", "--format", "xml"},
		{"spool", "export", "--spool", "d", "--channel", "1", "--from", "yesterday"},
		{"spool", "export", "--spool", "d", "--channel", "1", "--format", "nmsg", "--with-counts"},
		{"spool", "verify"},
	} {
		if _, errs, code := siecap(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d (%s)", args, code, errs)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"1519311169":                     "2018-02-22T14:52:49Z",
		"1519311169.5":                   "2018-02-22T14:52:49.5Z",
		"1519311169.017523047":           "2018-02-22T14:52:49.017523047Z",
		"2018-02-22T17:47:42.017523047Z": "2018-02-22T17:47:42.017523047Z",
		"2018-02-22T18:47:42+01:00":      "2018-02-22T17:47:42Z",
	} {
		got, err := parseTime(in)
		if err != nil || got.UTC().Format(time.RFC3339Nano) != want {
			t.Errorf("parseTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "1.2.3", "1519311169.0123456789", "+5", "12e3"} {
		if _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}
