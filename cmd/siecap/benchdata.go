package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/msgmod"
)

func newBenchdataCommand() *cobra.Command {
	var dir string
	var count int
	var seed uint64
	cmd := &cobra.Command{
		Use:    "benchdata --out DIR",
		Short:  "Write the benchmark input files (dedupe-2m.json, .nmsg, -zlib.nmsg) from a fixed seed",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError("benchdata: --out is required")
			}
			return writeBenchData(cmd, dir, count, seed)
		},
	}
	cmd.Flags().StringVar(&dir, "out", "", "write the files into `DIR`")
	cmd.Flags().IntVar(&count, "count", 2000000, "payloads to generate")
	cmd.Flags().Uint64Var(&seed, "seed", 2024, "generator seed")
	return cmd
}

func writeBenchData(cmd *cobra.Command, dir string, count int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benchdata: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("dedupe-%s", humanCount(count)))
	type sink struct {
		f  *os.File
		bw *bufio.Writer
		w  *nmsg.Writer
	}
	var sinks []*sink
	for _, z := range []bool{false, true} {
		name := base + ".nmsg"
		if z {
			name = base + "-zlib.nmsg"
		}
		f, err := os.Create(name)
		if err != nil {
			return fmt.Errorf("benchdata: %w", err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		sinks = append(sinks, &sink{f: f, bw: bw, w: nmsg.NewWriter(bw, nmsg.WriterOptions{Zlib: z})})
	}
	jf, err := os.Create(base + ".json")
	if err != nil {
		return fmt.Errorf("benchdata: %w", err)
	}
	jw := bufio.NewWriterSize(jf, 1<<20)
	var pr msgmod.Printer
	g := synth.NewDedupe(seed, sampleStart)
	var p nmsg.Payload
	var buf, line []byte
	for range count {
		buf = g.Next(&p, buf[:0])
		for _, s := range sinks {
			if err := s.w.Write(&p); err != nil {
				return fmt.Errorf("benchdata: %w", err)
			}
		}
		if line, err = pr.AppendJSON(line[:0], &p); err != nil {
			return fmt.Errorf("benchdata: %w", err)
		}
		jw.Write(line)
	}
	for _, s := range sinks {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("benchdata: %w", err)
		}
		if err := s.bw.Flush(); err != nil {
			return fmt.Errorf("benchdata: %w", err)
		}
		if err := s.f.Close(); err != nil {
			return fmt.Errorf("benchdata: %w", err)
		}
	}
	if err := jw.Flush(); err != nil {
		return fmt.Errorf("benchdata: %w", err)
	}
	if err := jf.Close(); err != nil {
		return fmt.Errorf("benchdata: %w", err)
	}
	cmd.Printf("benchdata: %d payloads in %s.{json,nmsg} and %s-zlib.nmsg\n", count, base, base)
	return nil
}

func humanCount(n int) string {
	switch {
	case n%1000000 == 0:
		return fmt.Sprintf("%dm", n/1000000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
