package msgmod

import (
	"path/filepath"
	"testing"

	"github.com/siecap/siecap/nmsg"
)

func benchPayloads(b *testing.B, file string) []nmsg.Payload {
	pls := readPayloads(b, filepath.Join(vectorsDir(b), "nmsgtool", file))
	if len(pls) == 0 {
		b.Fatal("no payloads")
	}
	return pls
}

func benchAppend(b *testing.B, pls []nmsg.Payload, fn func(*Printer, []byte, *nmsg.Payload) ([]byte, error)) {
	p := &Printer{}
	buf := make([]byte, 0, 1<<16)
	var bytes int64
	for i := range pls {
		out, err := fn(p, buf[:0], &pls[i])
		if err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(out))
	}
	b.SetBytes(bytes / int64(len(pls)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _ = fn(p, buf[:0], &pls[i%len(pls)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}

// BenchmarkAppendJSONDnsdedupe prints 16000 SIE dnsdedupe payloads as JSON: the
// hot path of a channel 204 export; it must not allocate.
func BenchmarkAppendJSONDnsdedupe(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dedupe-16000-multi.nmsg"), (*Printer).AppendJSON)
}

// BenchmarkAppendPresDnsdedupe is the presentation form of the same.
func BenchmarkAppendPresDnsdedupe(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dedupe-16000-multi.nmsg"), (*Printer).AppendPres)
}

// BenchmarkAppendJSONDnsqr prints base dnsqr payloads (captured queries
// and responses, parsed and printed as DNS messages); it must not
// allocate.
func BenchmarkAppendJSONDnsqr(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dnsqr-pcap.nmsg"), (*Printer).AppendJSON)
}

// BenchmarkAppendPresDnsqr is the presentation form of the same.
func BenchmarkAppendPresDnsqr(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dnsqr-pcap.nmsg"), (*Printer).AppendPres)
}

// BenchmarkAppendJSONAllTypes prints one mixed run of every message type.
func BenchmarkAppendJSONAllTypes(b *testing.B) {
	benchAppend(b, benchPayloads(b, "types-all-zlib.nmsg"), (*Printer).AppendJSON)
}

// BenchmarkAppendPresAllTypes is the presentation form of the same.
func BenchmarkAppendPresAllTypes(b *testing.B) {
	benchAppend(b, benchPayloads(b, "types-all-zlib.nmsg"), (*Printer).AppendPres)
}

// BenchmarkParseLineDnsdedupe reads nmsgtool JSON lines back.
func BenchmarkParseLineDnsdedupe(b *testing.B) {
	lines := readLinesB(b, filepath.Join(vectorsDir(b), "nmsgtool", "dedupe-plain.json"))
	r := &JSONReader{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.ParseLine(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestAppendNoAlloc holds the zero-allocation promise of the hot paths:
// dnsdedupe and dnsqr payloads (whose DNS messages parse into the
// Printer's reused wdns.Message), in JSON and presentation form.
func TestAppendNoAlloc(t *testing.T) {
	for _, file := range []string{"dedupe-plain.nmsg", "dnsqr-pcap.nmsg", "dnssec-pcap.nmsg"} {
		pls := readPayloads(t, filepath.Join(vectorsDir(t), "nmsgtool", file))
		for _, form := range []struct {
			name string
			fn   func(*Printer, []byte, *nmsg.Payload) ([]byte, error)
		}{{"AppendJSON", (*Printer).AppendJSON}, {"AppendPres", (*Printer).AppendPres}} {
			p := &Printer{}
			buf := make([]byte, 0, 1<<16)
			for i := range pls {
				buf, _ = form.fn(p, buf[:0], &pls[i])
			}
			for i := range pls {
				n := testing.AllocsPerRun(100, func() {
					buf, _ = form.fn(p, buf[:0], &pls[i])
				})
				if n != 0 {
					t.Errorf("%s payload %d: %.1f allocations per %s", file, i, n, form.name)
				}
			}
		}
	}
}
