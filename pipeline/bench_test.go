package pipeline

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// benchPayloads makes n dnsdedupe-sized payloads (~110 octets), 30% of
// them repeating one of the last 50,000 within the window, 20,000 per
// second of payload time (the shape of the bench-data file).
func benchPayloads(n int) []nmsg.Payload {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]nmsg.Payload, n)
	var recent [][]byte
	for i := range out {
		var msg []byte
		if len(recent) > 0 && rng.IntN(10) < 3 {
			msg = recent[rng.IntN(len(recent))]
		} else {
			msg = make([]byte, 90+rng.IntN(40))
			for j := range msg { // text-like: 16 letters, compressible
				msg[j] = 'a' + byte(rng.IntN(16))
			}
			if len(recent) < 50000 {
				recent = append(recent, msg)
			} else {
				recent[rng.IntN(len(recent))] = msg
			}
		}
		t := int64(1700000000e9) + int64(i)*50000
		out[i] = nmsg.Payload{Vid: 2, Msgtype: 1, TimeSec: t / 1e9, TimeNsec: uint32(t % 1e9), Message: msg, HasMessage: true}
	}
	return out
}

// BenchmarkPipelinePayload: reader → payload dedupe → repack → zstd →
// spool with fsync, one shard; reports payloads per second.
func BenchmarkPipelinePayload(b *testing.B) {
	pls := benchPayloads(200000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		sp, err := spool.Open(dir, spool.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p, err := New(sp, Config{Channel: 1, Shards: 1, Blocking: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r := p.Reader(0)
		for i := range pls {
			r.Add(&pls[i])
		}
		r.Close()
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if st := p.Stats(); st.Stored+st.Deduped != uint64(len(pls)) {
			b.Fatalf("stats %+v", st)
		}
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(len(pls))*float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}

// BenchmarkRRsetSplit: the reader side of rrset dedupe (dnsqr protobuf,
// IP/UDP, DNS parse, bailiwick, INSERTION encoding) on the dnsqr vector.
func BenchmarkRRsetSplit(b *testing.B) {
	f, err := os.Open(testvectors.Path(b, "nmsgtool", "dnsqr-pcap.nmsg"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var pls []nmsg.Payload
	nr := nmsg.NewReader(f)
	for {
		p, err := nr.Next()
		if err != nil {
			break
		}
		pls = append(pls, p.Clone())
	}
	h := newHasher()
	var sp rrsetSplitter
	n := 0
	emit := func(*nmsg.Payload, uint64, uint64) { n++ }
	b.ReportAllocs()
	for b.Loop() {
		for i := range pls {
			sp.split(h, &pls[i], emit)
		}
	}
	b.ReportMetric(float64(len(pls))*float64(b.N)/b.Elapsed().Seconds(), "responses/s")
}
