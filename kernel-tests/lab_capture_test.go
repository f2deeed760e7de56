package kerneltests

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/capture"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/nmsg"
)

// labChannels are the channels the capture tests feed.
var labChannels = []int{202, 204, 207, 300}

// upCaptureLab brings up a lab with a unique prefix, removed when the test
// ends.
func upCaptureLab(t testing.TB, chans []int) *lab.Lab {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw)
	l, err := lab.Up(lab.Config{Channels: chans, StateDir: t.TempDir()})
	testutil.SkipOnPermission(t, err, "create lab")
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}

// feedHandler decodes every NMSG datagram a capture socket reads, as the
// pipeline will: one decoder per socket, no locks.
type feedHandler struct {
	dec       *nmsg.Decoder
	datagrams map[int]uint64 // by VLAN id, -1 untagged
	payloads  map[int]uint64
	other     uint64
	errors    uint64
	packets   atomic.Uint64 // readable while the reader runs
}

func newFeedHandler() *feedHandler {
	return &feedHandler{dec: nmsg.NewDecoder(), datagrams: map[int]uint64{}, payloads: map[int]uint64{}}
}

func (h *feedHandler) HandlePacket(p *capture.Packet) {
	h.packets.Add(1)
	f := p.Data
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14] != 0x45 || f[23] != 17 ||
		binary.BigEndian.Uint16(f[36:]) != lab.ChannelPort {
		h.other++
		return
	}
	ulen := int(binary.BigEndian.Uint16(f[38:]))
	if 34+ulen > len(f) || ulen < 8 {
		h.other++
		return
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(f[26:30])), binary.BigEndian.Uint16(f[34:]))
	pls, err := h.dec.Datagram(src, f[42:34+ulen], p.Timestamp)
	if err != nil {
		h.errors++
	}
	vlan := -1
	if p.HasVLAN {
		vlan = int(p.VLAN)
	}
	h.datagrams[vlan]++
	h.payloads[vlan] += uint64(len(pls))
}

// labCapture is a capture on the appliance's SIE link with a feedHandler
// per socket.
type labCapture struct {
	c        *capture.Capture
	handlers []*feedHandler
}

func startLabCapture(t testing.TB, l *lab.Lab, cfg capture.Config) *labCapture {
	t.Helper()
	cfg.Interface = l.Names.SIELink
	lc := &labCapture{}
	err := l.Appliance.Do(func() (err error) {
		lc.c, err = capture.Start(cfg, func(int) capture.Handler {
			h := newFeedHandler()
			lc.handlers = append(lc.handlers, h)
			return h
		})
		return err
	})
	if err != nil {
		t.Fatalf("start capture: %v", err)
	}
	t.Cleanup(func() { lc.c.Close() })
	return lc
}

func (lc *labCapture) seen() uint64 {
	var n uint64
	for _, h := range lc.handlers {
		n += h.packets.Load()
	}
	return n
}

// total sums the handlers; call it after Close.
func (lc *labCapture) total() (datagrams, payloads map[int]uint64, other, errs uint64, st nmsg.Stats) {
	datagrams, payloads = map[int]uint64{}, map[int]uint64{}
	for _, h := range lc.handlers {
		for k, v := range h.datagrams {
			datagrams[k] += v
		}
		for k, v := range h.payloads {
			payloads[k] += v
		}
		other += h.other
		errs += h.errors
		h.dec.Flush()
		s := h.dec.Stats
		st.Payloads += s.Payloads
		st.SequenceLost += s.SequenceLost
		st.SequenceResets += s.SequenceResets
		st.FragmentSetsDone += s.FragmentSetsDone
		st.FragmentSetsExpired += s.FragmentSetsExpired
		st.Fragments += s.Fragments
		st.CRCFailures += s.CRCFailures
		st.Malformed += s.Malformed
	}
	return
}

// softnetDrops sums the "dropped" column of /proc/net/softnet_stat: frames
// the per-CPU backlog refused (machine-wide, not per namespace).
func softnetDrops(t testing.TB) uint64 {
	f, err := os.Open("/proc/net/softnet_stat")
	if err != nil {
		t.Fatalf("read softnet_stat: %v", err)
	}
	defer f.Close()
	var n uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 {
			v, _ := strconv.ParseUint(fields[1], 16, 64)
			n += v
		}
	}
	return n
}

// places are the counters where a frame of the feed can be dropped on its
// way from the TX ring to a capture handler.
type places struct {
	switchTx, sieRx lab.LinkCounters
	softnet         uint64
}

func readPlaces(t testing.TB, l *lab.Lab) places {
	t.Helper()
	var p places
	var err error
	if p.switchTx, err = lab.LinkCountersOf(l.Switch.NS, l.Names.SwitchLink); err != nil {
		t.Fatal(err)
	}
	if p.sieRx, err = lab.LinkCountersOf(l.Appliance, l.Names.SIELink); err != nil {
		t.Fatal(err)
	}
	p.softnet = softnetDrops(t)
	return p
}

// dropReport is every drop between the TX ring and the handlers.
type dropReport struct {
	TXWrongFormat, TXSendErrors  uint64
	VethTxDropped, VethRxDropped uint64
	Softnet                      uint64 // machine-wide: an upper bound for this feed
	Socket                       uint64
	Filter                       uint64 // kernel filter verdicts that drop (intended)
}

func (d dropReport) sumExceptSoftnet() uint64 {
	return d.TXWrongFormat + d.VethTxDropped + d.VethRxDropped + d.Socket
}

func (d dropReport) String() string {
	return fmt.Sprintf("tx-ring wrong-format %d, send errors %d, veth tx %d, veth rx %d, softnet %d, socket %d, filter %d",
		d.TXWrongFormat, d.TXSendErrors, d.VethTxDropped, d.VethRxDropped, d.Softnet, d.Socket, d.Filter)
}

func drops(before, after places, st *lab.FeedStats, cs capture.Stats) dropReport {
	return dropReport{
		TXWrongFormat: st.TX.WrongFormat,
		TXSendErrors:  st.TX.SendErrors,
		VethTxDropped: after.switchTx.TxDropped - before.switchTx.TxDropped,
		VethRxDropped: after.sieRx.RxDropped - before.sieRx.RxDropped,
		Softnet:       after.softnet - before.softnet,
		Socket:        cs.Total.Drops,
	}
}

// waitCaptured polls until the capture saw want frames or drops explain
// the rest, or 5 s passed.
func waitCaptured(lc *labCapture, want uint64) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st, _ := lc.c.Stats()
		if lc.seen()+st.Total.Drops >= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reconcile checks that every frame sent was received or dropped at a
// named place, and returns the drops.
func reconcile(t *testing.T, l *lab.Lab, lc *labCapture, before places, st *lab.FeedStats, filtered uint64) dropReport {
	t.Helper()
	tot := st.Total()
	waitCaptured(lc, tot.Frames-filtered)
	after := readPlaces(t, l)
	if err := lc.c.Close(); err != nil {
		t.Fatalf("close capture: %v", err)
	}
	cs, err := lc.c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	d := drops(before, after, st, cs)
	d.Filter = filtered
	got := cs.Total.Received + d.sumExceptSoftnet() + filtered
	switch {
	case got == tot.Frames:
	case got < tot.Frames && tot.Frames-got <= d.Softnet:
		t.Logf("%d frames dropped in the softnet backlog", tot.Frames-got)
	default:
		t.Errorf("sent %d frames; received %d + drops %d = %d: %d unexplained (%s)",
			tot.Frames, cs.Total.Received, got-cs.Total.Received, got, int64(tot.Frames)-int64(got), d)
	}
	return d
}

func feed(t *testing.T, l *lab.Lab, cfg lab.FeedConfig) *lab.FeedStats {
	t.Helper()
	st, err := l.Feed(context.Background(), cfg)
	if err != nil {
		t.Fatalf("feed: %v", err)
	}
	return st
}

// TestLabFeedReconciles sends a feed of known size through the lab into a
// capture of two sockets and accounts for every frame and payload.
func TestLabFeedReconciles(t *testing.T) {
	l := upCaptureLab(t, labChannels)
	lc := startLabCapture(t, l, capture.Config{})
	before := readPlaces(t, l)
	st := feed(t, l, lab.FeedConfig{Count: 20000, PPS: 10000, Duration: 30 * time.Second, Pool: 128, RepeatShare: 0.3, Seed: 4})
	d := reconcile(t, l, lc, before, st, 0)
	datagrams, payloads, other, errs, ds := lc.total()
	t.Logf("sent %d datagrams (%d payloads); drops: %s", st.Total().Datagrams, st.Total().Payloads, d)
	if other != 0 || errs != 0 {
		t.Errorf("%d frames not of the feed, %d decode errors", other, errs)
	}
	if d.sumExceptSoftnet()+d.Softnet == 0 {
		for _, c := range st.Channels {
			if datagrams[c.Channel] != c.Datagrams || payloads[c.Channel] != c.Payloads {
				t.Errorf("channel %d: received %d datagrams / %d payloads, sent %d / %d",
					c.Channel, datagrams[c.Channel], payloads[c.Channel], c.Datagrams, c.Payloads)
			}
		}
		if ds.SequenceLost != 0 {
			t.Errorf("sequence loss %d without a drop", ds.SequenceLost)
		}
	}
	// Down leaves no namespace, link or state file.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ls, err := lab.StatusOf(l.Prefix, filepath.Dir(l.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if ls.Exists() || len(ls.Links) != 0 {
		t.Errorf("lab %s left behind: %+v", l.Prefix, ls)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, l.Prefix) {
			t.Errorf("link %s left behind in the host namespace", i.Name)
		}
	}
}

// TestLabFragmentingFeedSequence sends IP-fragmented datagrams (MTU 1500)
// that also carry NMSG fragment sets through two sockets with the default
// hash+defrag fanout: no sequence loss, every fragment set reassembled.
func TestLabFragmentingFeedSequence(t *testing.T) {
	l := upCaptureLab(t, labChannels)
	lc := startLabCapture(t, l, capture.Config{Sockets: 2})
	before := readPlaces(t, l)
	mix := mustMixK("dnsqr=1,dnsdedupe=1")
	st := feed(t, l, lab.FeedConfig{Count: 4000, PPS: 30000, Duration: 30 * time.Second, MTU: 1500,
		ContainerSize: 4096, LargeShare: 0.3, Mix: mix, Seed: 5})
	tot := st.Total()
	if tot.Frames <= tot.Datagrams {
		t.Fatalf("%d frames for %d datagrams: the feed was not IP-fragmented", tot.Frames, tot.Datagrams)
	}
	// The capture sees reassembled datagrams: reconcile datagrams.
	waitCaptured(lc, tot.Datagrams)
	after := readPlaces(t, l)
	if err := lc.c.Close(); err != nil {
		t.Fatal(err)
	}
	cs, _ := lc.c.Stats()
	d := drops(before, after, st, cs)
	datagrams, payloads, other, errs, ds := lc.total()
	var gotD, gotP uint64
	for _, c := range st.Channels {
		gotD += datagrams[c.Channel]
		gotP += payloads[c.Channel]
	}
	t.Logf("sent %d datagrams in %d frames, %d payloads; received %d datagrams, %d payloads; nmsg fragments %d, sets %d; drops: %s",
		tot.Datagrams, tot.Frames, tot.Payloads, gotD, gotP, ds.Fragments, ds.FragmentSetsDone, d)
	if other != 0 || errs != 0 {
		t.Errorf("%d frames not of the feed, %d decode errors", other, errs)
	}
	if d.sumExceptSoftnet()+d.Softnet != 0 {
		t.Skipf("the kernel dropped frames (%s): sequence loss cannot be judged on this run", d)
	}
	if gotD != tot.Datagrams || gotP != tot.Payloads {
		t.Errorf("received %d datagrams, %d payloads; sent %d, %d", gotD, gotP, tot.Datagrams, tot.Payloads)
	}
	if ds.SequenceLost != 0 || ds.SequenceResets != 0 {
		t.Errorf("sequence lost %d, resets %d; want 0", ds.SequenceLost, ds.SequenceResets)
	}
	if ds.FragmentSetsDone == 0 || ds.FragmentSetsExpired != 0 {
		t.Errorf("fragment sets reassembled %d, expired %d; want some and 0", ds.FragmentSetsDone, ds.FragmentSetsExpired)
	}
}

// TestLabVLANIDsReachCapture checks the VLAN id of every captured frame
// for tags sent inline and as metadata.
func TestLabVLANIDsReachCapture(t *testing.T) {
	l := upCaptureLab(t, labChannels)
	for _, mode := range []lab.VLANMode{lab.VLANInline, lab.VLANMetadata} {
		t.Run(mode.String(), func(t *testing.T) {
			lc := startLabCapture(t, l, capture.Config{})
			before := readPlaces(t, l)
			st := feed(t, l, lab.FeedConfig{Count: 2000, PPS: 20000, Duration: 30 * time.Second, VLAN: mode, Pool: 32, Seed: 6})
			d := reconcile(t, l, lc, before, st, 0)
			datagrams, _, _, _, _ := lc.total()
			for _, c := range st.Channels {
				if got := datagrams[c.Channel]; got != c.Datagrams && d.sumExceptSoftnet()+d.Softnet == 0 {
					t.Errorf("channel %d: %d datagrams with VLAN id %d, sent %d (all VLAN counts: %v)", c.Channel, got, c.Channel, c.Datagrams, datagrams)
				}
			}
			if n := datagrams[-1]; n != 0 {
				t.Errorf("%d datagrams arrived untagged", n)
			}
		})
	}
}

// TestLabKernelFilterDropsHalf drops half the channels with the kernel
// socket filter: their datagrams are counted by the filter, the others
// reach the capture.
func TestLabKernelFilterDropsHalf(t *testing.T) {
	l := upCaptureLab(t, labChannels)
	f := loadFilter(t, bpf.Options{})
	if err := f.Update(mustCompile(t, halfDropConfig(labChannels))); err != nil {
		t.Fatal(err)
	}
	lc := startLabCapture(t, l, capture.Config{Filter: f.SocketProgram()})
	before := readPlaces(t, l)
	st := feed(t, l, lab.FeedConfig{Count: 8000, PPS: 40000, Duration: 30 * time.Second, Pool: 64, Seed: 7})
	ctrs, err := f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	var filtered uint64
	for i, c := range st.Channels {
		got := ctrs[uint32(c.Channel)][bpf.ReasonDrop].Packets
		if i%2 == 1 {
			if got != c.Datagrams {
				t.Errorf("channel %d: filter dropped %d, sent %d", c.Channel, got, c.Datagrams)
			}
			filtered += got
		} else if got != 0 {
			t.Errorf("channel %d: filter dropped %d of a passed channel", c.Channel, got)
		}
	}
	d := reconcile(t, l, lc, before, st, filtered)
	datagrams, _, _, _, _ := lc.total()
	t.Logf("drops: %s", d)
	for i, c := range st.Channels {
		if i%2 == 1 && datagrams[c.Channel] != 0 {
			t.Errorf("channel %d: %d datagrams of a dropped channel reached the capture", c.Channel, datagrams[c.Channel])
		}
	}
}

// halfDropConfig passes the even-indexed channels and drops the others.
func halfDropConfig(chans []int) bpf.Config {
	var cfg bpf.Config
	for i, ch := range chans {
		r := bpf.Rule{Action: bpf.PassAll}
		if i%2 == 1 {
			r.Action = bpf.DropAll
		}
		cfg.Channels = append(cfg.Channels, bpf.Channel{ID: uint32(ch), VLANs: []uint16{uint16(ch)}, Rule: r})
	}
	return cfg
}

func mustCompile(t testing.TB, cfg bpf.Config) *bpf.Ruleset {
	t.Helper()
	rs, err := bpf.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
