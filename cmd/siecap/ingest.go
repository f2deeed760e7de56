package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/pipeline"
	"github.com/siecap/siecap/spool"
)

// ingestGCPercent is the garbage collector's target for ingest (GOGC in
// the environment wins). Ingest's heap is mostly the dedupe window, which
// grows while a file is read and holds no pointers, so a collection finds
// next to nothing to free; yet each one first stops the shard goroutine to
// scan its stack, and the zstd encoder's loops can hold that off for tens
// of milliseconds while the idle processor spins in the runtime waiting.
// At 400 rather than 100 the 2,000,000-payload benchmark file takes 2
// collections instead of 7, for about 8 MB more peak memory (see
// docs/benchmarks.md).
const ingestGCPercent = 400

type ingestOptions struct {
	spool       string
	channel     uint32
	node        uint32
	dedupe      string
	window      time.Duration
	maxEntries  int
	shards      int
	level       string
	rawLiterals bool
	flush       time.Duration
	stats       bool
}

func newIngestCommand() *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest --spool DIR --channel N [flags] FILE...",
		Short: "Run NMSG files through the pipeline (filter, dedupe, repack, zstd) into a spool",
		Long: `ingest reads NMSG files ("-" is standard input) and runs their payloads
through the same pipeline as live capture: dedupe, repacking into NMSG
containers and zstd compression, into spool records of channel N. It waits
until every record is durable and seals the segments before it exits. Its
last line is

  ingest: payloads <n>, stored <n>, deduped <n>, filtered <n>, rejected <n>

payloads counts the payloads decoded; stored those in durable records (in
rrset mode: the SIE/dnsdedupe payloads written); deduped the duplicates
suppressed (with their counts in the records' metadata) or the RRset
sightings folded into counts; filtered those no rule or dedupe mode wanted;
rejected the damage events (bad containers, CRC failures, unparsable DNS).

With one shard (the default) the spool holds the payloads in input order.

Exit status: 0 when everything was read and stored; 1 on damaged input (as
siecap dump) or a spool error; 2 on usage errors.`,
		Example: `  siecap ingest --spool /var/spool/siecap --channel 204 ch204.nmsg
  siecap ingest --spool DIR --channel 202 --dedupe rrset dnsqr.nmsg`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.spool == "" {
				return usageError("ingest: --spool is required")
			}
			if !cmd.Flags().Changed("channel") {
				return usageError("ingest: --channel is required")
			}
			if len(args) == 0 {
				return usageError("ingest: no input files (use - for standard input)")
			}
			return runIngest(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.spool, "spool", "", "spool `DIR`ectory")
	f.Uint32Var(&o.channel, "channel", 0, "channel `N` the payloads belong to")
	f.Uint32Var(&o.node, "node", 0, "node id written into new segment ids")
	f.StringVar(&o.dedupe, "dedupe", "payload", "dedupe `mode`: payload, rrset or none")
	f.DurationVar(&o.window, "window", 60*time.Second, "dedupe window in payload time")
	f.IntVar(&o.maxEntries, "max-entries", 0, "dedupe entries kept at most (0: the pipeline default)")
	f.IntVar(&o.shards, "shards", 1, "dedupe/compress shards (more than one interleaves records)")
	f.StringVar(&o.level, "zstd-level", "fastest", "zstd `level`: fastest, default, better or best")
	f.BoolVar(&o.rawLiterals, "zstd-raw-literals", false, "at level fastest, store literals without Huffman coding (about 5% more bytes, a few % less CPU)")
	f.DurationVar(&o.flush, "flush", time.Second, "cut a record at most this long after its first payload")
	f.BoolVar(&o.stats, "stats", false, "print the pipeline's counters to standard error")
	return cmd
}

func parseZstdLevel(s string) (zstd.EncoderLevel, error) {
	ok, l := zstd.EncoderLevelFromString(strings.ToLower(s))
	if !ok {
		return 0, fmt.Errorf("unknown zstd level %q (fastest, default, better, best)", s)
	}
	return l, nil
}

func runIngest(cmd *cobra.Command, o ingestOptions, args []string) error {
	mode, err := pipeline.ParseMode(o.dedupe)
	if err != nil {
		return usageError("ingest: %v", err)
	}
	level, err := parseZstdLevel(o.level)
	if err != nil {
		return usageError("ingest: %v", err)
	}
	if o.shards < 1 || o.shards > 64 {
		return usageError("ingest: --shards must be 1 to 64")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(ingestGCPercent)
	}
	stderr := cmd.ErrOrStderr()
	sp, err := spool.Open(o.spool, spool.Options{Node: o.node})
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("ingest: open spool: %w", err)}
	}
	p, err := pipeline.New(sp, pipeline.Config{Channel: o.channel, Dedupe: mode, Window: o.window,
		MaxEntries: o.maxEntries, Shards: o.shards, Level: level, RawLiterals: o.rawLiterals, FlushInterval: o.flush, Blocking: true})
	if err != nil {
		sp.Close()
		return usageError("ingest: %v", err)
	}
	r := p.Reader(0)
	damaged := false
	for _, name := range args {
		if ingestFile(cmd, r, name) {
			damaged = true
		}
		if p.Err() != nil {
			break
		}
	}
	r.Close()
	perr := p.Close()
	serr := sp.Close()
	st := p.Stats()
	if o.stats {
		printIngestStats(stderr, &st)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "ingest: payloads %d, stored %d, deduped %d, filtered %d, rejected %d\n",
		st.Payloads, st.Stored, st.Deduped, st.Filtered+st.Dropped, st.Rejected)
	switch {
	case perr != nil:
		return &exitError{code: 1, err: fmt.Errorf("ingest: %w", perr)}
	case serr != nil:
		return &exitError{code: 1, err: fmt.Errorf("ingest: close spool: %w", serr)}
	case damaged:
		return &exitError{code: 1}
	}
	return nil
}

// ingestFile feeds one input to r and reports whether it was damaged.
func ingestFile(cmd *cobra.Command, r *pipeline.Reader, name string) bool {
	warn := func(err error) { fmt.Fprintf(cmd.ErrOrStderr(), "siecap: ingest: %s: %v\n", name, err) }
	in, closeFn, err := openInput(name, cmd.InOrStdin())
	if err != nil {
		warn(err)
		return true
	}
	defer closeFn()
	damaged := false
	nr := nmsg.NewReaderWith(in, r.Decoder())
	for {
		pl, err := nr.Next()
		if err == io.EOF {
			return damaged
		}
		if err != nil {
			warn(err)
			if !errors.Is(err, nmsg.ErrCRCMismatch) {
				damaged = true
			}
			var e *nmsg.Error
			if !errors.As(err, &e) || e.Fatal {
				return damaged
			}
			continue
		}
		r.Add(pl)
	}
}

func printIngestStats(w io.Writer, st *pipeline.Stats) {
	fmt.Fprintf(w, "payloads: %d (filtered %d, dropped %d, deduped %d, appended %d, stored %d, failed %d)\n",
		st.Payloads, st.Filtered, st.Dropped, st.Deduped, st.Appended, st.Stored, st.Failed)
	fmt.Fprintf(w, "dedupe: expired early %d\n", st.ExpiredEarly)
	for i, r := range st.Readers {
		fmt.Fprintf(w, "reader %d: %s\n", i, r.Decoder.String())
		if rr := r.RRset; rr.DNSQR > 0 {
			fmt.Fprintf(w, "reader %d: rrset: dnsqr %d (bad %d), responses %d (parse errors %d, not responses %d, no bailiwick %d), out of bailiwick %d, observations %d\n",
				i, rr.DNSQR, rr.BadDNSQR, rr.Responses, rr.ParseErrors, rr.NotResponse, rr.NoBailiwick, rr.OutOfBailiwick, rr.RRsets)
		}
	}
	for i, s := range st.Shards {
		fmt.Fprintf(w, "shard %d: records %d, containers %d bytes, zstd %d bytes, counts %d, insertions %d, expirations %d, untracked %d\n",
			i, s.Records, s.ContainerBytes, s.RecordBytes, s.Counts, s.Insertions, s.Expirations, s.Untracked)
	}
}
