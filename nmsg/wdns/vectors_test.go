package wdns_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"

	"github.com/siecap/siecap/internal/testvectors"
)

// vectorsDir finds ../shared/vectors/nmsgtool beside the module root.
func vectorsDir(t testing.TB) string { return testvectors.Path(t, "nmsgtool") }

// jsonLines calls fn with every payload object of every .json vector.
func jsonLines(t *testing.T, fn func(file string, msg map[string]json.RawMessage)) {
	dir := vectorsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no json vectors in %s: %v", dir, err)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var top struct {
				Message map[string]json.RawMessage `json:"message"`
			}
			if err := json.Unmarshal(sc.Bytes(), &top); err != nil {
				continue // some vectors hold invalid UTF-8 on purpose
			}
			fn(filepath.Base(f), top.Message)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// messagePairs maps a field holding a base64 DNS message to the field
// holding its JSON form.
var messagePairs = map[string]string{
	"query":            "query_json",
	"response":         "response_json",
	"query_message":    "query_json",
	"response_message": "response_json",
}

// TestVectorMessages checks AppendMessageJSON against every query_json and
// response_json of the vectors, and AppendMessageText against the message
// text of the matching .pres file.
func TestVectorMessages(t *testing.T) {
	dir := vectorsDir(t)
	pres := map[string][]byte{}
	checked, checkedText, nulls := 0, 0, 0
	jsonLines(t, func(file string, m map[string]json.RawMessage) {
		for wireField, jsonField := range messagePairs {
			raw, ok := m[wireField]
			want, ok2 := m[jsonField]
			if !ok || !ok2 {
				continue
			}
			var b64 string
			if json.Unmarshal(raw, &b64) != nil {
				continue
			}
			wire, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatalf("%s %s: %v", file, wireField, err)
			}
			got, err := wdns.AppendMessageJSON(nil, wire)
			if err != nil {
				got = []byte("null")
				nulls++
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s:\n got %s\nwant %s", file, jsonField, got, want)
			}
			checked++

			pf := strings.TrimSuffix(file, ".json") + ".pres"
			p, ok := pres[pf]
			if !ok {
				p, _ = os.ReadFile(filepath.Join(dir, pf))
				pres[pf] = p
			}
			if p == nil {
				continue
			}
			text, err := wdns.AppendMessageText(nil, wire)
			var block string
			if err != nil {
				block = wireField + ": <PARSE ERROR>\n"
			} else {
				block = wireField + ": [" + strconv.Itoa(len(wire)) + " octets]\n" + string(text) + "---\n"
			}
			if !bytes.Contains(p, []byte(block)) {
				t.Errorf("%s: %s text not in pres:\n%s", pf, wireField, block)
			}
			checkedText++
		}
	})
	if checked == 0 {
		t.Fatal("no DNS messages found in the vectors")
	}
	t.Logf("%d message JSON objects (%d null), %d message texts match", checked, nulls, checkedText)
}

// TestVectorRdata round-trips every rdata string of the vectors:
// ParseRdata then AppendRdata gives the same text back.
func TestVectorRdata(t *testing.T) {
	n := 0
	seen := map[string]bool{}
	var walk func(file string, v any)
	walk = func(file string, v any) {
		switch x := v.(type) {
		case map[string]any:
			ts, _ := x["rrtype"].(string)
			cs, _ := x["rrclass"].(string)
			rd, _ := x["rdata"].([]any)
			if ts != "" && cs != "" {
				rrtype, err1 := wdns.ParseType(ts)
				rrclass, err2 := wdns.ParseClass(cs)
				if err1 != nil {
					t.Errorf("%s: ParseType(%q): %v", file, ts, err1)
				}
				if err1 == nil && err2 == nil {
					for _, r := range rd {
						s, ok := r.(string)
						key := ts + " " + cs + " " + s
						if !ok || seen[key] {
							continue
						}
						seen[key] = true
						wire, err := wdns.ParseRdata(rrtype, rrclass, s)
						if err != nil {
							t.Errorf("%s: ParseRdata(%s, %s, %q): %v", file, ts, cs, s, err)
							continue
						}
						if got := wdns.AppendRdata(nil, rrtype, rrclass, wire); string(got) != s {
							t.Errorf("%s: %s %s rdata round trip:\n got %q\nwant %q", file, ts, cs, got, s)
						}
						n++
					}
				}
			}
			for _, e := range x {
				walk(file, e)
			}
		case []any:
			for _, e := range x {
				walk(file, e)
			}
		}
	}
	jsonLines(t, func(file string, m map[string]json.RawMessage) {
		for _, raw := range m {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				walk(file, map[string]any{"": v})
			}
		}
		// The message object itself (dns, dnsdedupe, newdomain fields).
		obj := map[string]any{}
		for k, raw := range m {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				obj[k] = v
			}
		}
		walk(file, obj)
	})
	if n == 0 {
		t.Fatal("no rdata found in the vectors")
	}
	t.Logf("%d distinct rdata strings round-trip", n)
}
