package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/lab"
)

// The demo: `siecap demo` (what `make demo` runs) brings up a lab, runs
// the daemon on its built-in configuration against a synthetic feed,
// shows siecap top, stops everything in the data path's order and
// reconciles every payload the generator sent.

type demoOptions struct {
	seconds int
	pps     string
	prefix  string
	dir     string
	keep    bool
}

func newDemoCommand() *cobra.Command {
	o := demoOptions{seconds: 30}
	if s := os.Getenv("DEMO_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil {
			o.seconds = n
		}
	}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the appliance on its built-in configuration against a synthetic SIE feed and reconcile every payload (root)",
		Long: `demo shows the appliance at work in a network-namespace lab (a unique prefix,
removed at the end):

 1. siecap lab up: an SIE switch and an appliance joined by a veth pair
    carrying the built-in configuration's four channels;
 2. siecap run --builtin in the appliance's namespace, on the lab's SIE link
    (SIECAP_INTERFACES), with its spool and control socket in a work
    directory: channel 208 is dropped in the kernel, 204 loses its
    SIE/newdomain payloads by rule, 202 and 204 are deduped, 207 is stored
    whole;
 3. siecap gen feeding the four channels with --pps datagrams per second in
    all, and siecap top for --seconds ($DEMO_SECONDS, default 30);
 4. then the generator stops, the capture drains, the daemon gets SIGTERM
    (it drains and seals the spool), and the demo prints the drop counters
    of every place, the first lines of siecap spool export, removes the lab
    and the work directory (--keep leaves the directory) and, last:

    demo: sent N payloads, kernel-dropped N, filtered N, stored N, deduped N, lost N

sent must equal the sum of the other five: demo exits 1 when it does not.
An interrupt (Ctrl-C) stops everything and cleans up as well (exit 130).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.seconds < 1 || o.seconds > 3600 {
				return usageError("demo: --seconds must be 1 to 3600")
			}
			pps, err := parseRate(o.pps)
			if err != nil || pps <= 0 {
				return usageError("demo: --pps: want a positive rate")
			}
			if o.prefix == "" {
				o.prefix = lab.UniquePrefix()
			}
			if len(o.prefix) > lab.MaxPrefixLen {
				return usageError("demo: --prefix: at most %d bytes", lab.MaxPrefixLen)
			}
			return runDemo(cmd, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.seconds, "seconds", o.seconds, "feed and show siecap top for `N` seconds ($DEMO_SECONDS)")
	f.StringVar(&o.pps, "pps", "5000", "generator `RATE` in datagrams per second over all channels")
	f.StringVar(&o.prefix, "prefix", "", "name the lab's namespaces with `P` (default: sc and 6 random hex digits)")
	f.StringVar(&o.dir, "dir", "/var/tmp", "make the work directory (spool, socket, logs) in `DIR`")
	f.BoolVar(&o.keep, "keep", false, "keep the work directory with the spool and the logs")
	return cmd
}

// demo is one run's state; cleanup stops and removes whatever of it
// exists, so every way out (success, failure, interrupt) goes through it.
type demo struct {
	o        demoOptions
	out, err io.Writer
	self     string // this binary: the children run its commands
	cfg      *config.Config
	chans    []int

	work, stateDir, spoolDir, sock, readyFile string

	lock             *os.File // flock held while the demo runs
	lab              *lab.Lab
	daemon, gen, top *child
	genOut           bytes.Buffer
	client           *ctl.Client

	interrupted atomic.Bool // first interrupt: stop and clean up
	hurry       atomic.Bool // second interrupt: do not wait for anything
}

func runDemo(cmd *cobra.Command, o demoOptions) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: find own executable: %w", err)
	}
	d := &demo{o: o, out: cmd.OutOrStdout(), err: cmd.ErrOrStderr(), self: self, cfg: config.Default()}
	for _, c := range d.cfg.Channels {
		d.chans = append(d.chans, int(c.Number))
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for range sigs {
			if d.interrupted.Swap(true) {
				d.hurry.Store(true)
				continue
			}
			fmt.Fprintln(d.err, "\ndemo: interrupted: stopping everything and cleaning up (interrupt again not to wait)")
			cancel()
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()

	sum, err := d.run(ctx)
	d.cleanup()
	if d.interrupted.Load() {
		return &exitError{code: 130, err: errors.New("demo: interrupted")}
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(d.out, sum.line())
	if !sum.balanced() {
		return &exitError{code: 1, err: fmt.Errorf("demo: the payloads do not add up: sent %d, accounted for %d", sum.Sent, sum.accounted())}
	}
	return nil
}

// run does everything up to the report; cleanup follows it.
func (d *demo) run(ctx context.Context) (tally, error) {
	d.removeStale()
	var err error
	if d.work, err = os.MkdirTemp(d.o.dir, demoDirPattern); err != nil {
		return tally{}, fmt.Errorf("make work directory: %w", err)
	}
	if d.lock, err = lockDir(d.work); err != nil {
		return tally{}, err
	}
	d.stateDir, d.spoolDir = filepath.Join(d.work, "lab"), filepath.Join(d.work, "spool")
	d.sock, d.readyFile = filepath.Join(d.work, "siecap.sock"), filepath.Join(d.work, "ready")

	d.say("siecap lab up --prefix %s --channels %s", d.o.prefix, formatChannels(d.chans))
	d.lab, err = lab.Up(lab.Config{Prefix: d.o.prefix, Channels: d.chans, StateDir: d.stateDir})
	if err != nil {
		return tally{}, fmt.Errorf("lab up: %w", err)
	}
	d.say("  namespaces %s; SIE link %s -> %s (MTU %d)", strings.Join(d.lab.Names.Namespaces(), " "),
		d.lab.Names.SwitchLink, d.lab.Names.SIELink, d.lab.MTU)
	if err := d.startDaemon(ctx); err != nil {
		return tally{}, err
	}
	softnet0 := softnetDrops()

	d.say("siecap gen --prefix %s --pps %s (channels %s)", d.o.prefix, d.o.pps, formatChannels(d.chans))
	genLog, err := os.Create(filepath.Join(d.work, "gen.log"))
	if err != nil {
		return tally{}, fmt.Errorf("create generator log: %w", err)
	}
	defer genLog.Close()
	d.gen, err = d.start("generator", nil, nil, &d.genOut, genLog, "gen", "--prefix", d.o.prefix, "--state-dir", d.stateDir,
		"--channels", formatChannels(d.chans), "--pps", d.o.pps, "--duration", fmt.Sprintf("%ds", d.o.seconds+600), "--json")
	if err != nil {
		return tally{}, err
	}
	d.say("siecap top --addr %s --seconds %d", d.sock, d.o.seconds)
	if d.top, err = d.start("siecap top", nil, nil, d.out, d.err, "top", "--addr", d.sock, "--seconds", strconv.Itoa(d.o.seconds)); err != nil {
		return tally{}, err
	}
	select {
	case <-d.top.done:
		if d.top.err != nil {
			d.say("siecap top: %v", d.top.err)
		}
	case <-d.gen.done:
		return tally{}, fmt.Errorf("generator stopped early: %v (%s)", d.gen.err, tailOf(filepath.Join(d.work, "gen.log")))
	case <-d.daemon.done:
		return tally{}, fmt.Errorf("daemon stopped early: %v\n%s", d.daemon.err, tailOf(filepath.Join(d.work, "daemon.log")))
	case <-ctx.Done():
		return tally{}, ctx.Err()
	}

	d.say("stopping the generator (SIGINT)")
	feed, err := d.stopGenerator()
	if err != nil {
		return tally{}, err
	}
	sent := map[uint16]uint64{}
	for _, c := range feed.Channels {
		sent[uint16(c.Channel)] = c.Payloads
	}
	d.say("waiting for the capture to drain")
	final, err := d.drain(ctx, sent)
	if err != nil {
		return tally{}, err
	}
	metrics, err := d.client.Metrics(ctx)
	if err != nil {
		return tally{}, fmt.Errorf("read metrics: %w", err)
	}
	links, err := d.linkCounters()
	if err != nil {
		return tally{}, err
	}
	softnet := softnetDrops() - softnet0

	d.say("stopping the daemon (SIGTERM: it drains the rings and seals the spool)")
	start := time.Now()
	if err := d.daemon.stop(syscall.SIGTERM, 60*time.Second, &d.hurry); err != nil {
		return tally{}, fmt.Errorf("daemon: %w\n%s", err, tailOf(filepath.Join(d.work, "daemon.log")))
	}
	d.say("  daemon exited in %s", time.Since(start).Round(time.Millisecond))

	sp, err := readSpool(d.spoolDir)
	if err != nil {
		return tally{}, err
	}
	rep := report{feed: feed, chans: final, metrics: metrics, links: links, softnet: softnet, spool: sp, names: d.lab.Names,
		genCPU: d.gen.cpu(), daemonCPU: d.daemon.cpu()}
	sum := rep.print(d.out)
	d.showExport()
	printLegend(d.out)
	return sum, nil
}

// startDaemon runs siecap run --builtin in the appliance's namespace and
// waits until it is ready.
func (d *demo) startDaemon(ctx context.Context) error {
	log, err := os.Create(filepath.Join(d.work, "daemon.log"))
	if err != nil {
		return fmt.Errorf("create daemon log: %w", err)
	}
	defer log.Close() // the child has its own descriptor
	iface := d.lab.Names.SIELink
	d.say("SIECAP_INTERFACES=%s siecap run --builtin --spool-dir %s --socket %s", iface, d.spoolDir, d.sock)
	d.say("  in netns %s, logging to %s", d.lab.Names.ApplianceNS, log.Name())
	d.daemon, err = d.start("daemon", d.lab.Appliance, []string{config.EnvName("interfaces") + "=" + iface}, log, log,
		"run", "--builtin", "--spool-dir", d.spoolDir, "--socket", d.sock, "--ready-file", d.readyFile)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := os.Stat(d.readyFile); err == nil {
			break
		}
		select {
		case <-d.daemon.done:
			return fmt.Errorf("daemon failed to start: %v\n%s", d.daemon.err, tailOf(log.Name()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon not ready after 60 s\n%s", tailOf(log.Name()))
		}
	}
	if d.client, err = ctl.NewClient(d.sock, ctl.ClientOptions{}); err != nil {
		return fmt.Errorf("connect to daemon: %w", err)
	}
	st, err := d.client.Status(ctx)
	if err != nil {
		return fmt.Errorf("daemon status: %w", err)
	}
	for _, i := range st.Interfaces {
		d.say("  daemon ready: interface %s, kernel filter %s, %d capture sockets", i.Name, i.FilterName(), i.Sockets)
	}
	for _, c := range d.cfg.Channels {
		d.say("  channel %d: %s", c.Number, describeChannel(c))
	}
	return nil
}

func describeChannel(c config.Channel) string {
	var rule string
	switch c.Rules.Action {
	case config.DropAll:
		if c.Rules.CountPayloads {
			return "dropped in the kernel, which counts the payloads it drops"
		}
		return "dropped in the kernel"
	case config.Deny, config.Allow:
		names := make([]string, len(c.Rules.Types))
		for i, t := range c.Rules.Types {
			names[i] = t.String()
		}
		rule = fmt.Sprintf("%s %s", c.Rules.Action, strings.Join(names, ","))
	default:
		rule = "everything passes"
	}
	return fmt.Sprintf("%s, dedupe %s", rule, c.Dedupe)
}

// stopGenerator interrupts siecap gen and reads what it sent.
func (d *demo) stopGenerator() (*lab.FeedStats, error) {
	err := d.gen.stop(os.Interrupt, 30*time.Second, &d.hurry)
	var st lab.FeedStats
	if jerr := json.Unmarshal(d.genOut.Bytes(), &st); jerr != nil {
		return nil, fmt.Errorf("read what the generator sent: %w (%v; %s)", jerr, err, tailOf(filepath.Join(d.work, "gen.log")))
	}
	if err != nil {
		return nil, fmt.Errorf("generator: %w (%s)", err, tailOf(filepath.Join(d.work, "gen.log")))
	}
	return &st, nil
}

// drain polls the daemon until every payload sent is counted by the
// kernel filter or the pipelines and everything captured is accounted for
// (stored durably, filtered, deduped or lost), or until the counters stop
// moving for a few seconds (something was lost before it could be
// counted), and returns the last counters.
func (d *demo) drain(ctx context.Context, sent map[uint16]uint64) (ctl.Channels, error) {
	const still = 5 * time.Second
	deadline := time.Now().Add(2 * time.Minute)
	var last uint64
	lastChange := time.Now()
	for {
		chs, err := d.client.Channels(ctx)
		if err != nil {
			return chs, fmt.Errorf("read channel counters: %w", err)
		}
		if drained(chs, sent) {
			return chs, nil
		}
		var sig uint64
		for _, c := range chs.Channels {
			for _, v := range c.Counters {
				sig += v
			}
		}
		if sig != last {
			last, lastChange = sig, time.Now()
		}
		if time.Since(lastChange) > still || time.Now().After(deadline) || d.hurry.Load() {
			d.say("  counters still after %s: not every payload sent reached a counter", still)
			return chs, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func drained(chs ctl.Channels, sent map[uint16]uint64) bool {
	for _, c := range chs.Channels {
		k := c.Counters
		if k["kernel_dropped"]+k["captured"] < sent[c.Number] || k["captured"] != k["filtered"]+k["deduped"]+k["stored"]+k["lost"] {
			return false
		}
	}
	return true
}

// linkCounters reads the SIE link's two ends.
func (d *demo) linkCounters() (map[string]lab.LinkCounters, error) {
	out := map[string]lab.LinkCounters{}
	for _, e := range []struct {
		ns   *lab.Namespace
		name string
	}{{d.lab.Switch.NS, d.lab.Names.SwitchLink}, {d.lab.Appliance, d.lab.Names.SIELink}} {
		c, err := lab.LinkCountersOf(e.ns, e.name)
		if err != nil {
			return nil, fmt.Errorf("read link counters: %w", err)
		}
		out[e.name] = c
	}
	return out, nil
}

// showExport prints the first lines siecap spool export writes of the
// channel with a filtered message type.
func (d *demo) showExport() {
	ch := d.chans[0]
	for _, c := range d.cfg.Channels {
		if c.Rules.Action == config.Deny {
			ch = int(c.Number)
		}
	}
	const lines, width = 3, 160
	fmt.Fprintf(d.out, "\n$ siecap spool export --spool %s --channel %d | head -%d\n", d.spoolDir, ch, lines)
	c := exec.Command(d.self, "spool", "export", "--spool", d.spoolDir, "--channel", strconv.Itoa(ch))
	c.Env = childEnv(nil)
	c.Stderr = d.err
	r, err := c.StdoutPipe()
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		fmt.Fprintf(d.out, "demo: spool export: %v\n", err)
		return
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 0; n < lines && sc.Scan(); n++ {
		line := sc.Text()
		if len(line) > width {
			line = line[:width] + " …"
		}
		fmt.Fprintln(d.out, line)
	}
	_ = c.Process.Kill()
	_ = c.Wait()
}

// cleanup stops what still runs (generator first, then the daemon) and
// removes the lab and, unless kept, the work directory.
func (d *demo) cleanup() {
	if d.top != nil {
		_ = d.top.stop(syscall.SIGTERM, 5*time.Second, &d.hurry)
	}
	if d.gen != nil {
		_ = d.gen.stop(os.Interrupt, 30*time.Second, &d.hurry)
	}
	if d.client != nil {
		d.client.Close()
	}
	if d.daemon != nil {
		if err := d.daemon.stop(syscall.SIGTERM, 60*time.Second, &d.hurry); err != nil {
			fmt.Fprintf(d.err, "demo: daemon: %v\n", err)
		}
	}
	if d.lab != nil {
		d.lab.Keep()
		d.lab.Close()
		removed, err := lab.Down(d.o.prefix, d.stateDir)
		if err != nil {
			fmt.Fprintf(d.err, "demo: lab down: %v (remove it with: siecap lab down --prefix %s)\n", err, d.o.prefix)
		}
		d.say("lab %s removed (%d namespaces)", d.o.prefix, strings.Count(strings.Join(removed, "\n"), "netns "))
		if st, err := lab.StatusOf(d.o.prefix, d.stateDir); err == nil && st.Exists() {
			fmt.Fprintf(d.err, "demo: lab %s still exists: run siecap lab down --prefix %s\n", d.o.prefix, d.o.prefix)
		}
	}
	if d.work == "" {
		return
	}
	if d.lock != nil {
		os.Remove(d.lock.Name())
		d.lock.Close()
	}
	if d.o.keep {
		d.say("work directory kept: %s (spool %s; siecap spool export --spool %s --channel N)", d.work, d.spoolDir, d.spoolDir)
		return
	}
	if err := os.RemoveAll(d.work); err != nil {
		fmt.Fprintf(d.err, "demo: remove work directory: %v\n", err)
		return
	}
	d.say("work directory %s removed", d.work)
}

// demoDirPattern names the work directories; each holds a lock file that
// its demo keeps locked while it runs.
const demoDirPattern = "siecap-demo-"

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock work directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock work directory %s: %w", dir, err)
	}
	return f, nil
}

// removeStale removes what a demo that was killed (SIGKILL, a crash)
// left in the parent directory: the labs named in its work directory and
// the directory itself. A directory whose lock is held belongs to a demo
// that still runs; a kept one (--keep) has no lock file left.
func (d *demo) removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(d.o.dir, demoDirPattern+"*"))
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
			continue
		}
		f, err := lockDir(dir)
		if err != nil {
			continue
		}
		states, _ := filepath.Glob(filepath.Join(dir, "lab", "lab-*.json"))
		for _, st := range states {
			prefix := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(st), "lab-"), ".json")
			if removed, err := lab.Down(prefix, filepath.Dir(st)); err == nil && len(removed) > 0 {
				d.say("removed lab %s left by an earlier demo", prefix)
			}
		}
		f.Close()
		if err := os.RemoveAll(dir); err == nil {
			d.say("removed %s left by an earlier demo", dir)
		}
	}
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "demo: "+format+"\n", args...)
}

// child is a process the demo runs.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited; err is then set
	err  error
}

// start runs this binary with args as a child in its own process group
// (an interrupt reaches the demo, which stops the children in order),
// inside ns when given. The child gets SIGTERM if the demo dies.
func (d *demo) start(name string, ns *lab.Namespace, env []string, stdout, stderr io.Writer, args ...string) (*child, error) {
	c := &child{name: name, cmd: exec.Command(d.self, args...), done: make(chan struct{})}
	c.cmd.Env = childEnv(env)
	c.cmd.Stdout, c.cmd.Stderr = stdout, stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	var err error
	if ns != nil {
		// The child inherits the network namespace of the thread that
		// forks it.
		err = ns.Do(c.cmd.Start)
	} else {
		err = c.cmd.Start()
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// stop sends sig (unless the child has exited), waits up to grace (not
// at all once hurry is set) and then kills it. It returns how the child
// ended: nil for exit status 0.
func (c *child) stop(sig os.Signal, grace time.Duration, hurry *atomic.Bool) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for deadline := time.Now().Add(grace); ; {
		select {
		case <-c.done:
			return c.err
		case <-t.C:
		}
		if hurry.Load() || time.Now().After(deadline) {
			_ = c.cmd.Process.Kill()
			<-c.done
			return fmt.Errorf("%s killed after %s without exiting: %w", c.name, grace, c.err)
		}
	}
}

// cpu returns the CPU time (user+sys) of a child that has exited.
func (c *child) cpu() time.Duration {
	ps := c.cmd.ProcessState
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// childEnv is the demo's environment without SIECAP_* variables (they
// would change the built-in configuration or the daemon the CLI talks
// to), plus extra.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// tailOf returns the last lines of a log file.
func tailOf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return path + ":\n" + strings.Join(lines, "\n")
}

// softnetDrops sums the dropped column of /proc/net/softnet_stat: packets
// the kernel dropped because a CPU's input backlog was full (host-wide).
func softnetDrops() uint64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	var n uint64
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) > 1 {
			v, _ := strconv.ParseUint(f[1], 16, 64)
			n += v
		}
	}
	return n
}
