package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg/msgmod"
)

// ddRow is what the tests compare of an SIE/dnsdedupe payload.
type ddRow struct {
	Type      string
	RRname    string
	RRtype    string
	Bailiwick string
	Count     int
	Rdata     int
	First     string
	Last      string
	IP        string
}

func (r ddRow) String() string {
	return fmt.Sprintf("%s %s/%s bw=%s count=%d rdata=%d %s..%s %s", r.Type, r.RRname, r.RRtype, r.Bailiwick, r.Count, r.Rdata, r.First, r.Last, r.IP)
}

// ddRows prints the stored payloads with msgmod (as nmsgtool -J does) and
// reads the fields back, so the test also checks that the INSERTIONs and
// EXPIRATIONs decode as SIE/dnsdedupe.
func ddRows(t *testing.T, got []stored) []ddRow {
	t.Helper()
	var pr msgmod.Printer
	var rows []ddRow
	for _, s := range got {
		line, err := pr.AppendJSON(nil, &s.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Mname   string
			Message struct {
				Type       string
				Count      int
				TimeFirst  string `json:"time_first"`
				TimeLast   string `json:"time_last"`
				ResponseIP string `json:"response_ip"`
				Bailiwick  string
				RRname     string
				RRtype     string
				Rdata      []string
			}
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if v.Mname != "dnsdedupe" {
			t.Fatalf("not dnsdedupe: %s", line)
		}
		m := v.Message
		rows = append(rows, ddRow{m.Type, m.RRname, m.RRtype, m.Bailiwick, m.Count, len(m.Rdata),
			strings.TrimPrefix(m.TimeFirst, "2023-07-13 "), strings.TrimPrefix(m.TimeLast, "2023-07-13 "), m.ResponseIP})
	}
	return rows
}

// The five responses of dnsqr-pcap.nmsg (see its .pres beside it), and the
// RRsets each yields under the bailiwick rule of split. Every response is
// from 2023-07-13; the first at 17:41:09, the others at 17:41:10.
//
//  1. icann.org/A from 192.5.5.241 (a root server): a referral (AA clear,
//     no answer, 6 NS for org. in authority): bailiwick = parent of org. =
//     ".". RRsets: org./NS (6 rdata), then the 12 glue records of the
//     additional section, each its own RRset: {a0,a2,c0}.org.afilias-nst.info
//     and {b0,b2,d0}.org.afilias-nst.org, A then AAAA, in wire order.
//  2. domaintools.com/A from 192.35.51.30 (a com server): a referral:
//     bailiwick com. RRsets: domaintools.com./NS (4), then the NSEC3 and
//     RRSIG of CK0POJMG874LJREF7EFN8430QVIT8BSM.com. and of
//     0F3T32FIGQL49H4PTGVF4JHKU448L2QG.com.
//  3. fsi.io/TXT from 208.94.148.13: authoritative, nothing in authority:
//     bailiwick = the answer's owner, fsi.io. RRsets: fsi.io./TXT and
//     fsi.io./RRSIG (1).
//  4. does.not.exist.fsi.io/A, NXDOMAIN from the same server: SOA fsi.io.
//     in authority: bailiwick fsi.io. RRsets: fsi.io./SOA, fsi.io./RRSIG
//     (the SOA's and the NSEC's signatures join one RRset: 2 rdata, a
//     different rdata set from response 3's), fsi.io./NSEC,
//     autodiscover.exch.fsi.io./NSEC and its RRSIG.
//  5. domaintools.com/SOA from 198.51.44.4: authoritative answer only:
//     bailiwick domaintools.com. RRset: domaintools.com./SOA.
//
// 26 RRsets, no two alike.
var dnsqrInsertions = []ddRow{
	{"INSERTION", "org.", "NS", ".", 1, 6, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "a0.org.afilias-nst.info.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "a0.org.afilias-nst.info.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "a2.org.afilias-nst.info.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "a2.org.afilias-nst.info.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "b0.org.afilias-nst.org.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "b0.org.afilias-nst.org.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "b2.org.afilias-nst.org.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "b2.org.afilias-nst.org.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "c0.org.afilias-nst.info.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "c0.org.afilias-nst.info.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "d0.org.afilias-nst.org.", "A", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "d0.org.afilias-nst.org.", "AAAA", ".", 1, 1, "17:41:09", "17:41:09", "192.5.5.241"},
	{"INSERTION", "domaintools.com.", "NS", "com.", 1, 4, "17:41:10", "17:41:10", "192.35.51.30"},
	{"INSERTION", "CK0POJMG874LJREF7EFN8430QVIT8BSM.com.", "NSEC3", "com.", 1, 1, "17:41:10", "17:41:10", "192.35.51.30"},
	{"INSERTION", "CK0POJMG874LJREF7EFN8430QVIT8BSM.com.", "RRSIG", "com.", 1, 1, "17:41:10", "17:41:10", "192.35.51.30"},
	{"INSERTION", "0F3T32FIGQL49H4PTGVF4JHKU448L2QG.com.", "NSEC3", "com.", 1, 1, "17:41:10", "17:41:10", "192.35.51.30"},
	{"INSERTION", "0F3T32FIGQL49H4PTGVF4JHKU448L2QG.com.", "RRSIG", "com.", 1, 1, "17:41:10", "17:41:10", "192.35.51.30"},
	{"INSERTION", "fsi.io.", "TXT", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "fsi.io.", "RRSIG", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "fsi.io.", "SOA", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "fsi.io.", "RRSIG", "fsi.io.", 1, 2, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "fsi.io.", "NSEC", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "autodiscover.exch.fsi.io.", "NSEC", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "autodiscover.exch.fsi.io.", "RRSIG", "fsi.io.", 1, 1, "17:41:10", "17:41:10", "208.94.148.13"},
	{"INSERTION", "domaintools.com.", "SOA", "domaintools.com.", 1, 1, "17:41:10", "17:41:10", "198.51.44.4"},
}

// expirations returns the EXPIRATIONs of rows with count n.
func expirations(rows []ddRow, n int) []ddRow {
	var out []ddRow
	for _, r := range rows {
		r.Type, r.Count, r.IP = "EXPIRATION", n, ""
		out = append(out, r)
	}
	return out
}

func compareRows(t *testing.T, have, want []ddRow) {
	t.Helper()
	for i := range max(len(have), len(want)) {
		var h, w string
		if i < len(have) {
			h = have[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if h != w {
			t.Errorf("row %d:\nhave %s\nwant %s", i, h, w)
		}
	}
}

func TestRRsetDedupeDNSQR(t *testing.T) {
	file := testvectors.Path(t, "nmsgtool", "dnsqr-pcap.nmsg")

	t.Run("twice in the window", func(t *testing.T) {
		// The second pass sees every RRset again: nothing new is
		// inserted, and at the end each leaves with count 2 (time_first
		// and time_last equal: the same responses).
		st, got := runPipeline(t, Config{Channel: 202, Shards: 1, Dedupe: DedupeRRset}, func(r *Reader) {
			feedFile(t, r, file)
			feedFile(t, r, file)
		})
		want := append(append([]ddRow(nil), dnsqrInsertions...), expirations(dnsqrInsertions, 2)...)
		compareRows(t, ddRows(t, got), want)
		if st.Payloads != 10 || st.Deduped != 26 || st.Stored != 52 || st.Filtered != 0 || st.Rejected != 0 {
			t.Errorf("stats %+v", st)
		}
		// The EXPIRATIONs carry the clock when they left: the last
		// dnsqr payload's time, 17:41:10.821594.
		for _, s := range got[26:] {
			if s.TimeSec != 1689270070 || s.TimeNsec != 821594000 {
				t.Fatalf("EXPIRATION at %d.%09d", s.TimeSec, s.TimeNsec)
			}
		}
	})

	t.Run("one second window", func(t *testing.T) {
		// Response 1 is read at 17:41:09.408, response 2 at 17:41:10.587:
		// the clock has moved 1.18 s, so response 1's 13 RRsets leave
		// (count 1) before response 2's are inserted; the rest leave at
		// the end of the input.
		cfg := Config{Channel: 202, Shards: 1, Dedupe: DedupeRRset, Window: time.Second}
		_, got := runPipeline(t, cfg, func(r *Reader) { feedFile(t, r, file) })
		var want []ddRow
		want = append(want, dnsqrInsertions[:13]...)
		want = append(want, expirations(dnsqrInsertions[:13], 1)...)
		want = append(want, dnsqrInsertions[13:]...)
		want = append(want, expirations(dnsqrInsertions[13:], 1)...)
		compareRows(t, ddRows(t, got), want)
	})

	t.Run("sharded", func(t *testing.T) {
		// With 4 shards each identity still lives in one shard: the same
		// 26 INSERTIONs and 26 EXPIRATIONs, in another order.
		st, got := runPipeline(t, Config{Channel: 202, Shards: 4, Dedupe: DedupeRRset}, func(r *Reader) {
			feedFile(t, r, file)
			feedFile(t, r, file)
		})
		have := map[string]int{}
		for _, r := range ddRows(t, got) {
			have[r.String()]++
		}
		for _, r := range append(append([]ddRow(nil), dnsqrInsertions...), expirations(dnsqrInsertions, 2)...) {
			if have[r.String()] != 1 {
				t.Errorf("%s stored %d times", r, have[r.String()])
			}
		}
		if st.Stored != 52 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestRRsetDedupeDNSSEC: the three responses of dnssec-pcap.nmsg come from
// a recursive resolver (127.0.0.1; flags qr rd ra, AA clear) and each has
// an answer: by rule 5 no bailiwick can be derived from them, so nothing
// is emitted and all three are counted.
func TestRRsetDedupeDNSSEC(t *testing.T) {
	file := testvectors.Path(t, "nmsgtool", "dnssec-pcap.nmsg")
	st, got := runPipeline(t, Config{Channel: 202, Shards: 1, Dedupe: DedupeRRset}, func(r *Reader) { feedFile(t, r, file) })
	rr := st.Readers[0].RRset
	if len(got) != 0 || rr.Responses != 3 || rr.NoBailiwick != 3 || st.Filtered != 3 {
		t.Fatalf("stored %d, stats %+v", len(got), st)
	}
}
