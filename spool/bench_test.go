package spool

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDurableWrite measures the durable write rate (MB/s) with the
// default group commit (100 ms or 4 MiB, fdatasync per batch) on the test
// directory's file system: the clock stops only after Sync returned, so
// every byte counted is on disk. "sync-each" calls Sync after every record
// (one writer, no batching: bound by fsync latency).
func BenchmarkDurableWrite(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
		wait bool
	}{{"1MiB", 1 << 20, false}, {"64KiB", 64 << 10, false}, {"64KiB-sync-each", 64 << 10, true}} {
		b.Run(c.name, func(b *testing.B) {
			s := openTest(b, b.TempDir(), Options{Node: 1, Logger: quietLogger()})
			recs := make([]Record, 8)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range recs {
				data := make([]byte, c.size-recordFixed-frameHeaderSize-16)
				for j := range data {
					data[j] = byte(rng.Uint32()) // incompressible, like zstd output
				}
				recs[i] = Record{First: testBase, Last: testBase, Payloads: 100, Meta: make([]byte, 16), Data: data}
			}
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tk, err := s.Append(1, recs[i%len(recs)])
				if err != nil {
					b.Fatal(err)
				}
				if c.wait {
					if err := s.Sync(context.Background()); err != nil {
						b.Fatal(err)
					}
					if s.DurableLSN(1) < tk.LSN {
						b.Fatal("record not durable after Sync")
					}
				}
			}
			if err := s.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(st.Commits)/b.Elapsed().Seconds(), "fsyncs/s")
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

const fillDirEnv = "SIECAP_SPOOL_TEST_FILL_DIR"

// fillChild appends 1 MiB records to one channel until its open segment is
// within a record of the default segment size, prints "FULL" once all are
// durable, and waits to be killed.
func fillChild(dir string) int {
	s, err := Open(dir, Options{Node: 1, Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill open:", err)
		return 3
	}
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 1<<20-recordFixed-frameHeaderSize)
	for i := uint64(1); ; i++ {
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		tk, err := s.Append(1, Record{First: testBase.Add(time.Duration(i) * time.Second), Last: testBase.Add(time.Duration(i) * time.Second), Payloads: 500, Data: data})
		if err != nil {
			fmt.Fprintln(os.Stderr, "fill append:", err)
			return 5
		}
		if tk.Offset+2*tk.Len > s.opts.SegmentBytes {
			break
		}
	}
	if err := s.Sync(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "fill sync:", err)
		return 6
	}
	fmt.Println("FULL")
	select {}
}

// BenchmarkRecoverFullSegment measures Open after a writer was killed with
// SIGKILL holding a full (64 MiB) open segment: the walk of every record's
// CRC, the footer write and its fsync. The killed writer's directory is
// copied afresh (page cache warm, as after a real SIGKILL) for each Open.
func BenchmarkRecoverFullSegment(b *testing.B) {
	tmpl := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fillDirEnv+"="+tmpl)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "FULL\n" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("fill writer: %q %v: %s", line, err, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		b.Fatal(err)
	}
	cmd.Wait()
	var segName string
	var segSize int64
	ents, _ := os.ReadDir(tmpl)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segExt) {
			segName = e.Name()
			fi, _ := e.Info()
			segSize = fi.Size()
		}
	}
	if segName == "" {
		b.Fatal("the killed writer left no segment")
	}
	b.SetBytes(segSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		copyFile(b, filepath.Join(tmpl, segName), filepath.Join(dir, segName))
		b.StartTimer()
		s, err := Open(dir, Options{Node: 1, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if r := s.Recovery(); r.Resealed != 1 || r.Quarantined != 0 {
			b.Fatalf("recovery: %+v", r)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
