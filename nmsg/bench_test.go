package nmsg_test

import (
	"bytes"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

var benchInput struct {
	once          sync.Once
	plain, zlib   []byte
	payloads      int
	payloadsBytes int
}

// benchFiles makes 200,000 synthetic SIE/dnsdedupe payloads (the same
// generator as make bench-data) as a plain and a zlib NMSG stream.
func benchFiles(b *testing.B) ([]byte, []byte, int) {
	benchInput.once.Do(func() {
		const n = 200000
		var plain, zlib bytes.Buffer
		wp := nmsg.NewWriter(&plain, nmsg.WriterOptions{})
		wz := nmsg.NewWriter(&zlib, nmsg.WriterOptions{Zlib: true})
		g := synth.NewDedupe(2024, 1764115200)
		var p nmsg.Payload
		var buf []byte
		for range n {
			buf = g.Next(&p, buf[:0])
			wp.Write(&p)
			wz.Write(&p)
		}
		wp.Flush()
		wz.Flush()
		benchInput.plain, benchInput.zlib, benchInput.payloads = plain.Bytes(), zlib.Bytes(), n
	})
	return benchInput.plain, benchInput.zlib, benchInput.payloads
}

// benchRead reads every payload of data, optionally re-framing them.
func benchRead(b *testing.B, data []byte, n int, out *nmsg.Writer) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	d := nmsg.NewDecoder()
	br := bytes.NewReader(data)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		br.Reset(data)
		r := nmsg.NewReaderWith(br, d)
		got := 0
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
			if out != nil {
				if err := out.Write(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		if got != n {
			b.Fatalf("%d payloads, want %d", got, n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/payload")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/payload")
}

// BenchmarkReadPlain: framing and CRC check of every payload.
func BenchmarkReadPlain(b *testing.B) {
	plain, _, n := benchFiles(b)
	benchRead(b, plain, n, nil)
}

// BenchmarkReadZlib: inflate, framing and CRC.
func BenchmarkReadZlib(b *testing.B) {
	_, zlib, n := benchFiles(b)
	benchRead(b, zlib, n, nil)
}

// BenchmarkReframe: what "siecap dump -w" does per payload.
func BenchmarkReframe(b *testing.B) {
	plain, _, n := benchFiles(b)
	benchRead(b, plain, n, nmsg.NewWriter(io.Discard, nmsg.WriterOptions{}))
}

// BenchmarkReframeZlib: what "siecap dump -z -w" does per payload.
func BenchmarkReframeZlib(b *testing.B) {
	plain, _, n := benchFiles(b)
	benchRead(b, plain, n, nmsg.NewWriter(io.Discard, nmsg.WriterOptions{Zlib: true}))
}

// TestReadPathAllocations checks that reading and re-framing allocate
// nothing per payload once the buffers have grown.
func TestReadPathAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count needs the synthetic input")
	}
	var plain, zlib bytes.Buffer
	wp := nmsg.NewWriter(&plain, nmsg.WriterOptions{})
	wz := nmsg.NewWriter(&zlib, nmsg.WriterOptions{Zlib: true})
	g := synth.NewDedupe(1, 1764115200)
	var p nmsg.Payload
	var buf []byte
	for range 20000 {
		buf = g.Next(&p, buf[:0])
		wp.Write(&p)
		wz.Write(&p)
	}
	wp.Flush()
	wz.Flush()
	for name, data := range map[string][]byte{"plain": plain.Bytes(), "zlib": zlib.Bytes()} {
		d := nmsg.NewDecoder()
		w := nmsg.NewWriter(io.Discard, nmsg.WriterOptions{})
		br := bytes.NewReader(data)
		pass := func() {
			br.Reset(data)
			r := nmsg.NewReaderWith(br, d)
			for {
				p, err := r.Next()
				if err != nil {
					break
				}
				w.Write(p)
			}
		}
		pass() // grow the buffers
		// A Reader (with its bufio buffer) is made per pass and the zlib
		// reader resets per container: a handful of allocations per
		// stream or container, none per payload.
		if a := testing.AllocsPerRun(5, pass); a > 20 {
			t.Errorf("%s: %.0f allocations for 20,000 payloads", name, a)
		}
	}
}
