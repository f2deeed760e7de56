package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/msgmod"
	"github.com/siecap/siecap/pipeline"
	"github.com/siecap/siecap/spool"
)

func newSpoolCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spool",
		Short: "List and export the spool, through the running daemon or offline; verify a spool directory",
		Long: `ls and export ask the running daemon (--addr, $SIECAP_ADDR, or its default
socket ` + ctl.DefaultSocket + `) and print the same as they do with
--spool DIR, which reads a spool directory no daemon holds. verify reads a
directory only.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSpoolExportCommand(), newSpoolLsCommand(), newSpoolVerifyCommand())
	return cmd
}

type exportOptions struct {
	dir        string
	channel    uint32
	from, to   string
	format     string
	withCounts bool
	out        string
	conn       clientOptions
}

func newSpoolExportCommand() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --channel N [--spool DIR] [flags]",
		Short: "Write a channel's payloads as NMSG or nmsgtool JSON",
		Long: `export writes the payloads of channel N stored in the spool, in the order
they were stored, as nmsgtool -J JSON lines (the default) or as an NMSG
file (1 MiB containers with payload CRCs, no sequence numbers). --from and
--to (RFC 3339 or Unix seconds) select payloads by their own time, in the
half-open range [from, to).

--with-counts (JSON only) adds "duplicates":N to every line: how many
identical payloads the payload dedupe suppressed in favour of this one.

Without --spool the running daemon streams it from its spool, up to what
is durable (damage it meets is in its log); with --spool DIR it is read
from a directory no daemon holds. Both write the same, except that a
running daemon's counts lack the duplicates of payloads still inside their
dedupe window (they are recorded when it closes). Exit status: 0; 1
when a record is damaged (offline: what precedes it is written) or the
daemon cannot be reached; 2 on usage errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("channel") {
				return usageError("spool export: --channel is required")
			}
			return runExport(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "spool", "", "read the spool `DIR`ectory offline instead of asking the daemon")
	f.Uint32Var(&o.channel, "channel", 0, "channel `N`")
	f.StringVar(&o.from, "from", "", "first payload `time` (RFC 3339 or Unix seconds)")
	f.StringVar(&o.to, "to", "", "end `time`, exclusive")
	f.StringVar(&o.format, "format", "json", "output `format`: json or nmsg")
	f.BoolVar(&o.withCounts, "with-counts", false, "add each payload's suppressed duplicates (json)")
	f.StringVarP(&o.out, "output", "o", "", "write to `FILE` instead of standard output")
	o.conn.registerConn(cmd)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"json", "nmsg"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// offline reports whether a spool command reads the directory dir itself
// (--spool) rather than asking the daemon.
func offline(cmd *cobra.Command, dir string) (bool, error) {
	if dir == "" {
		return false, nil
	}
	if cmd.Flags().Changed("addr") {
		return false, usageError("%s: --spool and --addr exclude each other", cmd.CommandPath())
	}
	return true, nil
}

// daemonError says what failed in asking the daemon, and how to do
// without it.
func daemonError(what string, err error) error {
	var ae *ctl.APIError
	if errors.As(err, &ae) {
		return &exitError{code: 1, err: fmt.Errorf("%s: %w", what, err)}
	}
	return &exitError{code: 1, err: fmt.Errorf("%s: ask the daemon: %w (--spool DIR reads a spool directory offline)", what, err)}
}

// parseTime parses RFC 3339 or Unix seconds with up to nine decimals
// (parsed exactly, not through a float).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err == nil && len(frac) <= 9 && strings.Trim(frac, "0123456789") == "" && !strings.HasPrefix(sec, "+") {
		ns := int64(0)
		if frac != "" {
			ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if strings.HasPrefix(sec, "-") {
			ns = -ns
		}
		return time.Unix(n, ns).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor Unix seconds", s)
}

type countKey struct {
	seg spool.SegmentID
	off int64
	idx uint32
}

func runExport(cmd *cobra.Command, o exportOptions) error {
	from, err := parseTime(o.from)
	if err != nil {
		return usageError("spool export: --from: %v", err)
	}
	to, err := parseTime(o.to)
	if err != nil {
		return usageError("spool export: --to: %v", err)
	}
	if o.format != "json" && o.format != "nmsg" {
		return usageError("spool export: --format must be json or nmsg")
	}
	if o.withCounts && o.format != "json" {
		return usageError("spool export: --with-counts needs --format json")
	}
	local, err := offline(cmd, o.dir)
	if err != nil {
		return err
	}
	if !local {
		if o.channel > ctl.MaxChannel {
			return usageError("spool export: --channel must be 0 to %d", ctl.MaxChannel)
		}
		c, err := o.conn.client()
		if err != nil {
			return err
		}
		defer c.Close()
		dst, closeOut, err := openOutput(cmd, o.out)
		if err != nil {
			return err
		}
		defer closeOut()
		q := ctl.ExportQuery{Channel: uint16(o.channel), From: from, To: to, Format: ctl.ExportFormat(o.format), WithCounts: o.withCounts}
		if _, err := c.Export(cmd.Context(), q, dst); err != nil {
			return daemonError("spool export", err)
		}
		return closeOut()
	}

	stderr := cmd.ErrOrStderr()
	warn := func(err error) { fmt.Fprintf(stderr, "siecap: spool export: %v\n", err) }
	rd, err := spool.OpenReader(o.dir)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("spool export: %w", err)}
	}
	defer rd.Close()
	var counts map[countKey]uint64
	damaged := false
	if o.withCounts {
		counts, damaged = duplicateCounts(rd, o.channel, warn)
	}
	var aliases *nmsg.Aliases
	if o.format == "json" {
		if aliases, err = nmsg.LoadAliases(); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("spool export: load aliases: %w", err)}
		}
	}
	dst, closeOut, err := openOutput(cmd, o.out)
	if err != nil {
		return err
	}
	defer closeOut()
	bad, outErr := exportTo(dst, rd, o.channel, from, to, o.format, counts, aliases, warn)
	if outErr != nil {
		return &exitError{code: 1, err: fmt.Errorf("spool export: write output: %w", outErr)}
	}
	if err := closeOut(); err != nil {
		return err
	}
	if damaged || bad {
		return &exitError{code: 1}
	}
	return nil
}

// openOutput opens export's output: the file path, or standard output for
// "" and "-". closeOut closes the file (once) and reports its error.
func openOutput(cmd *cobra.Command, path string) (w io.Writer, closeOut func() error, err error) {
	if path == "" || path == "-" {
		return cmd.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, &exitError{code: 1, err: fmt.Errorf("spool export: create output: %w", err)}
	}
	var once sync.Once
	return f, func() error {
		var cerr error
		once.Do(func() { cerr = f.Close() })
		if cerr != nil {
			return &exitError{code: 1, err: fmt.Errorf("spool export: write output: %w", cerr)}
		}
		return nil
	}, nil
}

// duplicateCounts reads the dedupe counts in the metadata of channel ch's
// records: how many duplicates each stored payload stands for. Damage is
// reported through warn and returned as damaged.
func duplicateCounts(src recordSource, ch uint32, warn func(error)) (counts map[countKey]uint64, damaged bool) {
	counts = map[countKey]uint64{}
	it := src.Records(ch, time.Time{}, time.Time{})
	defer it.Close()
	for it.Next() {
		if err := pipeline.ParseCounts(it.Record().Meta, func(c pipeline.Count) {
			counts[countKey{c.Segment, c.Offset, c.Index}] += c.Duplicates
		}); err != nil {
			seg, off := it.Position()
			warn(fmt.Errorf("segment %s offset %d: %w", seg, off, err))
			damaged = true
		}
	}
	if err := it.Err(); err != nil {
		warn(err)
		damaged = true
	}
	return counts, damaged
}

// recordSource is a spool, open for writing or read-only.
type recordSource interface {
	Records(ch uint32, from, to time.Time) *spool.Iter
}

// exportTo writes the payloads of channel ch whose time lies in [from, to)
// (zero: unbounded), in the order they were stored, to dst: nmsgtool JSON
// lines (with "duplicates" from counts when counts is not nil) or NMSG.
// Damage in the spool is reported through warn and returned as damaged;
// err is an output error.
func exportTo(dst io.Writer, src recordSource, ch uint32, from, to time.Time, format string, counts map[countKey]uint64, aliases *nmsg.Aliases, warn func(error)) (damaged bool, err error) {
	bw := bufio.NewWriterSize(dst, 1<<20)
	var nw *nmsg.Writer
	pr := msgmod.Printer{Aliases: aliases}
	if format == "nmsg" {
		nw = nmsg.NewWriter(bw, nmsg.WriterOptions{})
	}
	dec, err := spool.NewDecoder(0)
	if err != nil {
		return false, fmt.Errorf("create decoder: %w", err)
	}
	defer dec.Close()
	fromNS, toNS := from.UnixNano(), to.UnixNano()
	var line []byte
	var outErr error
	it := src.Records(ch, from, to)
	defer it.Close()
records:
	for it.Next() {
		rec := it.Record()
		seg, off := it.Position()
		data, err := dec.Decode(rec)
		if err != nil {
			warn(fmt.Errorf("segment %s offset %d: %w", seg, off, err))
			damaged = true
			continue
		}
		nr := nmsg.NewReader(bytes.NewReader(data))
		for idx := uint32(0); ; idx++ {
			p, err := nr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				warn(fmt.Errorf("segment %s offset %d: %w", seg, off, err))
				damaged = true
				break
			}
			t := p.TimeSec*1e9 + int64(p.TimeNsec)
			if !from.IsZero() && t < fromNS || !to.IsZero() && t >= toNS {
				continue
			}
			if nw != nil {
				outErr = nw.Write(p)
			} else {
				if line, outErr = pr.AppendJSON(line[:0], p); outErr == nil {
					if counts != nil {
						line = appendDuplicates(line, counts[countKey{seg, off, idx}])
					}
					_, outErr = bw.Write(line)
				}
			}
			if outErr != nil {
				break records
			}
		}
	}
	if err := it.Err(); err != nil {
		warn(err)
		damaged = true
	}
	if nw != nil && outErr == nil {
		outErr = nw.Flush()
	}
	if outErr == nil {
		outErr = bw.Flush()
	}
	return damaged, outErr
}

// appendDuplicates inserts "duplicates":n before the closing brace of a
// JSON line.
func appendDuplicates(line []byte, n uint64) []byte {
	end := bytes.LastIndexByte(line, '}')
	if end < 0 {
		return line
	}
	tail := string(line[end:])
	line = append(line[:end], `,"duplicates":`...)
	line = strconv.AppendUint(line, n, 10)
	return append(line, tail...)
}

func newSpoolLsCommand() *cobra.Command {
	var dir string
	var o clientOptions
	cmd := &cobra.Command{
		Use:   "ls [--spool DIR]",
		Short: "List the spool's segments and loss ledger",
		Long: `ls lists the spool's segments (open, sealed, quarantined) and its loss
ledger: from the running daemon, or with --spool DIR from a spool directory
no daemon holds. Both print the same; --format json prints
{"segments": [...], "ledger": [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			local, err := offline(cmd, dir)
			if err != nil {
				return err
			}
			if err := o.checkFormat(); err != nil {
				return err
			}
			var info ctl.SpoolInfo
			if local {
				rd, err := spool.OpenReader(dir)
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("spool ls: %w", err)}
				}
				defer rd.Close()
				if info, err = spoolInfo(rd); err != nil {
					return &exitError{code: 1, err: fmt.Errorf("spool ls: %w", err)}
				}
			} else {
				c, err := o.client()
				if err != nil {
					return err
				}
				defer c.Close()
				if info, err = c.Spool(cmd.Context()); err != nil {
					return daemonError("spool ls", err)
				}
			}
			if err := printSpool(cmd.OutOrStdout(), info, o.format); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("spool ls: %w", err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "spool", "", "read the spool `DIR`ectory offline instead of asking the daemon")
	o.register(cmd)
	return cmd
}

// spoolLister is a spool, open for writing or read-only.
type spoolLister interface {
	Segments() ([]spool.SegmentInfo, error)
	Losses() ([]spool.LossEntry, error)
}

// spoolInfo lists a spool's segments and loss ledger in the control API's
// form (Dir and MaxBytes are the caller's).
func spoolInfo(sp spoolLister) (ctl.SpoolInfo, error) {
	info := ctl.SpoolInfo{Segments: []ctl.SegmentInfo{}, Ledger: []ctl.LossEntry{}}
	segs, err := sp.Segments()
	if err != nil {
		return info, err
	}
	for _, s := range segs {
		info.UsedBytes += s.Bytes
		info.Segments = append(info.Segments, ctl.SegmentInfo{
			ID: s.ID.String(), Channel: uint16(s.ID.Channel), State: s.State.String(), Bytes: s.Bytes,
			Records: s.Records, Payloads: s.Payloads, First: s.First, Last: s.Last,
		})
	}
	losses, err := sp.Losses()
	if err != nil {
		return info, err
	}
	for _, l := range losses {
		info.Ledger = append(info.Ledger, ctl.LossEntry{
			At: l.At, Reason: l.Reason.String(), Segment: l.Segment.String(), Bytes: l.Bytes,
			Records: l.Records, Payloads: l.Payloads, First: l.First, Last: l.Last, Detail: l.Detail,
		})
	}
	return info, nil
}

// printSpool writes what spool ls shows: the segments and the loss
// ledger, as a table or JSON; the same whether they came from the daemon
// or the directory.
func printSpool(w io.Writer, info ctl.SpoolInfo, format string) error {
	if format == "json" {
		return printJSON(w, struct {
			Segments []ctl.SegmentInfo `json:"segments"`
			Ledger   []ctl.LossEntry   `json:"ledger"`
		}{info.Segments, info.Ledger})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEGMENT\tSTATE\tBYTES\tRECORDS\tPAYLOADS\tFIRST\tLAST")
	for _, s := range info.Segments {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.ID, s.State, s.Bytes, s.Records, s.Payloads, fmtTime(s.First), fmtTime(s.Last))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range info.Ledger {
		if _, err := fmt.Fprintf(w, "loss: %s %s %s bytes %d records %d payloads %d %s..%s %s\n",
			fmtTime(l.At), l.Reason, l.Segment, l.Bytes, l.Records, l.Payloads, fmtTime(l.First), fmtTime(l.Last), l.Detail); err != nil {
			return err
		}
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func newSpoolVerifyCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "verify --spool DIR",
		Short: "Check every record CRC and sealed footer of a spool directory, read-only",
		Long: `verify checks a spool directory without changing it: every record's CRC,
every sealed segment's footer and whole-segment checksum, the headers and the
loss ledger. It prints one line per finding (segment, offset, what). A torn
tail on an unsealed segment is a note, not damage.

Exit status: 0 when nothing is damaged; 1 otherwise; 2 on usage or I/O
errors (including a writer holding the directory).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError("spool verify: --spool is required")
			}
			rep, err := spool.Verify(dir)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("spool verify: %w", err)}
			}
			out := cmd.OutOrStdout()
			for _, f := range rep.Findings {
				fmt.Fprintln(out, f.String())
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "verify: %d segments (sealed %d, open %d), %d records, %d quarantined, %d findings\n",
				rep.Segments, rep.Sealed, rep.Open, rep.Records, rep.Quarantined, len(rep.Findings))
			if rep.Damaged() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "spool", "", "spool `DIR`ectory")
	return cmd
}
