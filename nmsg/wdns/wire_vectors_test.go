package wdns_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg/wdns"
)

// payload is the part of an NMSG payload these tests need.
type payload struct {
	vid, msgtype uint64
	body         []byte
}

// readPayloads walks the containers of an .nmsg vector (plain or zlib; a
// fragmented container ends the walk) and returns its payloads in order.
func readPayloads(t *testing.T, b []byte) []payload {
	t.Helper()
	var out []payload
	for len(b) >= 10 {
		if string(b[:4]) != "NMSG" {
			t.Fatalf("bad magic")
		}
		flags := b[4]
		n := int(binary.BigEndian.Uint32(b[6:10]))
		body := b[10 : 10+n]
		b = b[10+n:]
		if flags&2 != 0 {
			break
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
		for len(body) > 0 {
			num, typ, l := protowire.ConsumeTag(body)
			body = body[l:]
			if num == 1 && typ == protowire.BytesType {
				pb, l := protowire.ConsumeBytes(body)
				body = body[l:]
				var p payload
				for len(pb) > 0 {
					fn, ft, l := protowire.ConsumeTag(pb)
					pb = pb[l:]
					switch {
					case fn == 1 && ft == protowire.VarintType:
						p.vid, l = protowire.ConsumeVarint(pb)
					case fn == 2 && ft == protowire.VarintType:
						p.msgtype, l = protowire.ConsumeVarint(pb)
					case fn == 5 && ft == protowire.BytesType:
						p.body, l = protowire.ConsumeBytes(pb)
					default:
						l = protowire.ConsumeFieldValue(fn, ft, pb)
					}
					pb = pb[l:]
				}
				out = append(out, p)
				continue
			}
			body = body[protowire.ConsumeFieldValue(num, typ, body):]
		}
	}
	return out
}

// rrFields are the protobuf field numbers of rrname, rrtype, rrclass and
// rdata in the message types that carry one RRset.
var rrFields = map[[2]uint64][4]protowire.Number{
	{1, 7}: {1, 2, 3, 5}, // base dns
	{2, 1}: {1, 2, 3, 5}, // SIE dnsdedupe
	{2, 5}: {3, 4, 5, 7}, // SIE newdomain
}

// TestVectorWireRdata prints the wire rdata and rrname of every dns,
// dnsdedupe and newdomain payload of the vectors (and the response message
// of the SIE ones) and compares them with nmsgtool's JSON output for the
// same payload; the printed rdata must parse back to the same wire.
func TestVectorWireRdata(t *testing.T) {
	dir := vectorsDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.nmsg"))
	checked, parsed, responses := 0, 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pls := readPayloads(t, raw)
		jf, err := os.Open(f[:len(f)-len(".nmsg")] + ".json")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(jf)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for i := 0; sc.Scan() && i < len(pls); i++ {
			p := pls[i]
			fields, ok := rrFields[[2]uint64{p.vid, p.msgtype}]
			if !ok {
				continue
			}
			var top struct {
				Message struct {
					Rrname   *string   `json:"rrname"`
					Rdata    []*string `json:"rdata"`
					Response *string   `json:"response"`
				} `json:"message"`
			}
			if err := json.Unmarshal(sc.Bytes(), &top); err != nil {
				continue
			}
			var name []byte
			var rrtype, rrclass uint64
			var rdata [][]byte
			var response []byte
			for b := p.body; len(b) > 0; {
				num, typ, l := protowire.ConsumeTag(b)
				b = b[l:]
				switch {
				case num == fields[0] && typ == protowire.BytesType:
					name, l = protowire.ConsumeBytes(b)
				case num == fields[1] && typ == protowire.VarintType:
					rrtype, l = protowire.ConsumeVarint(b)
				case num == fields[2] && typ == protowire.VarintType:
					rrclass, l = protowire.ConsumeVarint(b)
				case p.vid == 2 && num == 15 && typ == protowire.BytesType:
					response, l = protowire.ConsumeBytes(b)
				case num == fields[3] && typ == protowire.BytesType:
					var rd []byte
					rd, l = protowire.ConsumeBytes(b)
					rdata = append(rdata, rd)
				default:
					l = protowire.ConsumeFieldValue(num, typ, b)
				}
				b = b[l:]
			}
			if response != nil && top.Message.Response != nil {
				text, err := wdns.AppendMessageText(nil, response)
				if err != nil {
					text = []byte("<PARSE ERROR>")
				}
				if string(text) != *top.Message.Response {
					t.Errorf("%s #%d response:\n got %q\nwant %q", filepath.Base(f), i, text, *top.Message.Response)
				}
				responses++
			}
			if top.Message.Rrname != nil && len(name) > 0 {
				if got := string(wdns.AppendDomain(nil, name)); got != *top.Message.Rrname {
					t.Errorf("%s #%d rrname: got %q want %q", filepath.Base(f), i, got, *top.Message.Rrname)
				}
			}
			if len(rdata) != len(top.Message.Rdata) {
				t.Errorf("%s #%d: %d rdata on the wire, %d in JSON", filepath.Base(f), i, len(rdata), len(top.Message.Rdata))
				continue
			}
			for j, rd := range rdata {
				if top.Message.Rdata[j] == nil {
					continue
				}
				got := string(wdns.AppendRdata(nil, uint16(rrtype), uint16(rrclass), rd))
				if got != *top.Message.Rdata[j] {
					t.Errorf("%s #%d rdata %d (type %d class %d % x):\n got %q\nwant %q", filepath.Base(f), i, j, rrtype, rrclass, rd, got, *top.Message.Rdata[j])
				}
				checked++
				// ParseRdata gives back the wire nmsgtool stored, except
				// where the text loses information (a class mismatch).
				if got == "" && len(rd) > 0 {
					continue
				}
				back, err := wdns.ParseRdata(uint16(rrtype), uint16(rrclass), got)
				if err != nil || !bytes.Equal(back, rd) {
					t.Errorf("%s #%d rdata %d: ParseRdata(%q) = % x, %v; want % x", filepath.Base(f), i, j, got, back, err, rd)
				}
				parsed++
			}
		}
		jf.Close()
	}
	if checked == 0 {
		t.Fatal("no rdata found in the .nmsg vectors")
	}
	t.Logf("%d wire rdata print as nmsgtool's JSON shows them; %d parse back to the same wire; %d SIE responses match", checked, parsed, responses)
}
