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

// BenchmarkAppendJSONDnsdedupe prints SIE dnsdedupe payloads as JSON: the
// hot path of a channel 204 export; it must not allocate.
func BenchmarkAppendJSONDnsdedupe(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dedupe-plain.nmsg"), (*Printer).AppendJSON)
}

// BenchmarkAppendPresDnsdedupe is the presentation form of the same.
func BenchmarkAppendPresDnsdedupe(b *testing.B) {
	benchAppend(b, benchPayloads(b, "dedupe-plain.nmsg"), (*Printer).AppendPres)
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

// TestAppendJSONDnsdedupeNoAlloc holds the zero-allocation promise of the
// dnsdedupe hot path.
func TestAppendJSONDnsdedupeNoAlloc(t *testing.T) {
	pls := readPayloads(t, filepath.Join(vectorsDir(t), "nmsgtool", "dedupe-plain.nmsg"))
	p := &Printer{}
	buf := make([]byte, 0, 1<<16)
	for i := range pls {
		buf, _ = p.AppendJSON(buf[:0], &pls[i])
	}
	for i := range pls {
		n := testing.AllocsPerRun(100, func() {
			buf, _ = p.AppendJSON(buf[:0], &pls[i])
		})
		if n != 0 {
			t.Errorf("payload %d: %.1f allocations per AppendJSON", i, n)
		}
	}
}
