package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/internal/pcapread"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/msgmod"
)

type dumpOptions struct {
	json     bool
	pres     bool
	write    string
	zlib     bool
	level    int
	fromJSON bool
	vid      string
	msgtype  string
	pcap     bool
	stats    bool
	sample   bool
}

func newDumpCommand() *cobra.Command {
	var o dumpOptions
	cmd := &cobra.Command{
		Use:   "dump [flags] FILE...",
		Short: "Read NMSG and print it as nmsgtool does (JSON or presentation), or rewrite it",
		Long: `dump reads NMSG files ("-" is standard input) and writes one JSON object per
payload exactly as "nmsgtool -r FILE -J -" does, or the presentation format
of "nmsgtool -o -" with --pres, or NMSG again with -w.

Exit status: 0 when every container was read (payloads dropped for a CRC
mismatch are warned about, as nmsgtool does); 1 on any rejected, malformed
or truncated container or fragment, trailing garbage, or a fragment set
still incomplete at the end of the input; 2 on usage errors.`,
		Example: `  siecap dump ch204.nmsg
  siecap dump --pres --vid SIE --msgtype dnsdedupe ch204.nmsg
  siecap dump --pcap --stats capture.pcap
  siecap dump --from-json -w out.nmsg -z in.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !o.sample {
				return usageError("dump: no input files (use - for standard input)")
			}
			return runDump(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.json, "json", "J", false, "write one JSON object per payload (the default)")
	f.BoolVar(&o.pres, "pres", false, "write nmsgtool's presentation format")
	f.StringVarP(&o.write, "write", "w", "", "write NMSG to `FILE` (1 MiB containers; - for standard output)")
	f.BoolVarP(&o.zlib, "zlib", "z", false, "compress the NMSG written with -w")
	f.IntVar(&o.level, "zlib-level", nmsg.ZlibLevel, "deflate `level` for -z, 1 (fastest) to 9 (smallest); 6 is within 1% of C zlib's default size, 7 smaller")
	f.BoolVar(&o.fromJSON, "from-json", false, "read nmsgtool's JSON lines instead of NMSG")
	f.StringVar(&o.vid, "vid", "", "keep only payloads of this vendor (`name or number`)")
	f.StringVar(&o.msgtype, "msgtype", "", "keep only payloads of this message type (`name or number`; alone, implies --vid base)")
	f.BoolVar(&o.pcap, "pcap", false, "the inputs are pcap files of NMSG over UDP")
	f.BoolVar(&o.stats, "stats", false, "print counters to standard error at the end")
	f.BoolVar(&o.sample, "sample", false, "read the bundled sample file (a few SIE/dnsdedupe payloads)")
	return cmd
}

// output is where dump sends payloads.
type output interface {
	write(p *nmsg.Payload) error
	close() error
}

type textOutput struct {
	w    *bufio.Writer
	p    msgmod.Printer
	pres bool
	buf  []byte
}

func (o *textOutput) write(p *nmsg.Payload) error {
	var err error
	if o.pres {
		o.buf, err = o.p.AppendPres(o.buf[:0], p)
	} else {
		o.buf, err = o.p.AppendJSON(o.buf[:0], p)
	}
	if err != nil {
		return err
	}
	_, err = o.w.Write(o.buf)
	return err
}

func (o *textOutput) close() error { return o.w.Flush() }

type nmsgOutput struct {
	bw *bufio.Writer
	w  *nmsg.Writer
	f  *os.File
}

func (o *nmsgOutput) write(p *nmsg.Payload) error { return o.w.Write(p) }

func (o *nmsgOutput) close() error {
	err := o.w.Flush()
	if ferr := o.bw.Flush(); err == nil {
		err = ferr
	}
	if o.f != nil {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// dumpRun holds one dump invocation's state.
type dumpRun struct {
	stdin   io.Reader
	stderr  io.Writer
	out     output
	dec     *nmsg.Decoder
	pcap    pcapread.Stats
	damaged bool
	jsonErr uint64
}

func (d *dumpRun) warn(name string, err error) {
	fmt.Fprintf(d.stderr, "siecap: dump: %s: %v\n", name, err)
}

func runDump(cmd *cobra.Command, o dumpOptions, args []string) error {
	if o.json && o.pres {
		return usageError("dump: --json and --pres exclude each other")
	}
	if o.zlib && o.write == "" {
		return usageError("dump: -z needs -w")
	}
	if o.level < 1 || o.level > 9 {
		return usageError("dump: --zlib-level must be 1 to 9")
	}
	if o.fromJSON && o.pcap {
		return usageError("dump: --from-json and --pcap exclude each other")
	}
	filter, err := payloadFilter(o.vid, o.msgtype)
	if err != nil {
		return usageError("dump: %v", err)
	}
	aliases, err := nmsg.LoadAliases()
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("dump: load aliases: %w", err)}
	}
	d := &dumpRun{stdin: cmd.InOrStdin(), stderr: cmd.ErrOrStderr(), dec: nmsg.NewDecoder()}
	d.dec.Filter = filter
	if o.write != "" {
		var dst io.Writer = cmd.OutOrStdout()
		var f *os.File
		if o.write != "-" {
			if f, err = os.Create(o.write); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("dump: create output: %w", err)}
			}
			dst = f
		}
		bw := bufio.NewWriterSize(dst, 1<<20)
		d.out = &nmsgOutput{bw: bw, f: f, w: nmsg.NewWriter(bw, nmsg.WriterOptions{Zlib: o.zlib, ZlibLevel: o.level})}
	} else {
		d.out = &textOutput{w: bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10), p: msgmod.Printer{Aliases: aliases}, pres: o.pres}
	}
	if o.sample {
		args = append([]string{sampleName}, args...)
	}
	var outErr error
	for _, name := range args {
		if outErr = d.input(name, o, aliases); outErr != nil {
			break
		}
	}
	if err := d.out.close(); err != nil && outErr == nil {
		outErr = err
	}
	if o.stats {
		d.printStats()
	}
	if outErr != nil {
		return &exitError{code: 1, err: fmt.Errorf("dump: write output: %w", outErr)}
	}
	if d.damaged {
		return &exitError{code: 1}
	}
	return nil
}

// input reads one input. It returns only output errors; input damage is
// warned about and remembered.
func (d *dumpRun) input(name string, o dumpOptions, aliases *nmsg.Aliases) error {
	r, closeFn, err := openInput(name, d.stdin)
	if err != nil {
		d.warn(name, err)
		d.damaged = true
		return nil
	}
	defer closeFn()
	switch {
	case o.fromJSON:
		return d.readJSON(name, r, aliases)
	case o.pcap:
		return d.readPcap(name, r)
	default:
		return d.readNmsg(name, r)
	}
}

func (d *dumpRun) readNmsg(name string, r io.Reader) error {
	nr := nmsg.NewReaderWith(r, d.dec)
	for {
		p, err := nr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			d.warn(name, err)
			if !errors.Is(err, nmsg.ErrCRCMismatch) {
				d.damaged = true
			}
			var e *nmsg.Error
			if errors.As(err, &e) && e.Fatal || !errors.As(err, &e) {
				return nil
			}
			continue
		}
		if err := d.out.write(p); err != nil {
			return err
		}
	}
}

func (d *dumpRun) readPcap(name string, r io.Reader) error {
	pr, err := pcapread.NewReader(r)
	if err != nil {
		d.warn(name, err)
		d.damaged = true
		return nil
	}
	defer func() { addPcapStats(&d.pcap, &pr.Stats) }()
	for {
		dg, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.warn(name, err)
			d.damaged = true
			break
		}
		pls, err := d.dec.Datagram(dg.Src, dg.Payload, dg.Time)
		if err != nil {
			d.warn(name, fmt.Errorf("packet %d from %s: %w", pr.Stats.Packets, dg.Src, err))
			if !errors.Is(err, nmsg.ErrCRCMismatch) {
				d.damaged = true
			}
		}
		for i := range pls {
			if err := d.out.write(&pls[i]); err != nil {
				return err
			}
		}
	}
	if err := d.dec.Flush(); err != nil {
		d.warn(name, err)
		d.damaged = true
	}
	return nil
}

func (d *dumpRun) readJSON(name string, r io.Reader, aliases *nmsg.Aliases) error {
	jr := msgmod.JSONReader{Aliases: aliases}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 2*nmsg.MaxContainerSize+(1<<20))
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		p, err := jr.ParseLine(b)
		if err != nil {
			d.warn(name, fmt.Errorf("line %d: %w", line, err))
			d.damaged = true
			d.jsonErr++
			continue
		}
		if d.dec.Filter != nil && !d.dec.Filter(p.Vid, p.Msgtype) {
			continue
		}
		d.dec.Stats.Payloads++
		if err := d.out.write(&p); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		d.warn(name, fmt.Errorf("line %d: %w", line+1, err))
		d.damaged = true
	}
	return nil
}

func openInput(name string, stdin io.Reader) (io.Reader, func(), error) {
	switch name {
	case "-":
		return stdin, func() {}, nil
	case sampleName:
		return sampleReader(), func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("open input: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// payloadFilter resolves --vid/--msgtype as nmsgtool resolves -V/-T.
func payloadFilter(vid, msgtype string) (func(vid, msgtype uint32) bool, error) {
	if vid == "" && msgtype == "" {
		return nil, nil
	}
	if msgtype == "" {
		return nil, fmt.Errorf("--vid needs --msgtype")
	}
	if vid == "" {
		vid = "base"
	}
	v, vok := parseUint32(vid)
	t, tok := parseUint32(msgtype)
	if !vok {
		id, ok := msgmod.VendorID(vid)
		if !ok {
			return nil, fmt.Errorf("unknown vendor %q", vid)
		}
		v = id
	}
	if !tok {
		mod, err := msgmod.LookupName(msgmod.VendorName(v), msgtype)
		if err != nil {
			return nil, fmt.Errorf("resolve message type: %w", err)
		}
		t = mod.Msgtype
	}
	return func(pv, pt uint32) bool { return pv == v && pt == t }, nil
}

func parseUint32(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 0, 32)
	return uint32(n), err == nil
}

func (d *dumpRun) printStats() {
	s := &d.dec.Stats
	w := d.stderr
	fmt.Fprintf(w, "containers: %d\n", s.Containers)
	fmt.Fprintf(w, "payloads: %d\n", s.Payloads)
	fmt.Fprintf(w, "crc failures: %d\n", s.CRCFailures)
	fmt.Fprintf(w, "fragments: %d (sets reassembled %d, recovered %d, expired %d, rejected %d, discarded %d, evicted %d, duplicates %d)\n",
		s.Fragments, s.FragmentSetsDone, s.FragmentSetsRecovered, s.FragmentSetsExpired, s.FragmentsRejected,
		s.FragmentSetsDiscarded, s.FragmentSetsEvicted, s.FragmentDuplicates)
	fmt.Fprintf(w, "sequence lost: %d (resets %d)\n", s.SequenceLost, s.SequenceResets)
	fmt.Fprintf(w, "malformed: %d (containers %d, payloads %d, headers %d, too large %d, truncated %d, inflate %d, json lines %d)\n",
		s.Malformed+s.MalformedPayload+s.BadHeader+s.TooLarge+s.Truncated+s.InflateErrors+d.jsonErr,
		s.Malformed, s.MalformedPayload, s.BadHeader, s.TooLarge, s.Truncated, s.InflateErrors, d.jsonErr)
	if s.Headerless > 0 {
		fmt.Fprintf(w, "headerless datagrams recovered: %d\n", s.Headerless)
	}
	if d.pcap.Packets > 0 {
		fmt.Fprintf(w, "pcap: packets %d, udp datagrams %d, skipped %d, ip fragments %d, reassembled %d, damaged %d\n",
			d.pcap.Packets, d.pcap.Datagrams, d.pcap.Skipped, d.pcap.Fragments, d.pcap.Reassembled, d.pcap.Damaged)
	}
}

func addPcapStats(dst, s *pcapread.Stats) {
	dst.Packets += s.Packets
	dst.Datagrams += s.Datagrams
	dst.Skipped += s.Skipped
	dst.Fragments += s.Fragments
	dst.Reassembled += s.Reassembled
	dst.Damaged += s.Damaged
}
