package main

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

// TestDaemonEndToEnd runs the daemon on the appliance end of a veth pair:
// the kernel filter, capture, pipelines, spool and control API, all real.
// Datagrams of three channels come from the peer: one stored whole, one
// dropped in the kernel, one whose SIE/newdomain payloads are filtered (in
// the kernel for containers holding only them, in user space for mixed
// ones). Every payload must be accounted for at its place, the control API
// must show it, a rule replaced through the API must reach the kernel, and
// /readyz must fail once the capture interface is gone.
func TestDaemonEndToEnd(t *testing.T) {
	p := vethPair(t, 9000, 7)
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl", "siecap.sock")
	cfgText := fmt.Sprintf(`interfaces = [%q]
[capture]
sockets = 2
promisc = false
[spool]
dir = %q
commit_interval = "20ms"
[control]
socket = %q

[[channel]]
number = 7
vlan = 0
addresses = ["198.18.7.2/8430"]
dedupe = "none"

[[channel]]
number = 8
vlan = 0
addresses = ["198.18.7.2/8431"]
rules = { action = "drop" }

[[channel]]
number = 9
vlan = 0
addresses = ["198.18.7.2/8432"]
dedupe = "none"
rules = { action = "deny", types = ["SIE:newdomain"] }
`, p.B.Link, filepath.Join(dir, "spool"), sock)
	d, err := startDaemon(t, p.B.NS, cfgText)
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	if d.ifaces[0].filter != "xdp" {
		t.Errorf("filter on veth: %s, want native XDP", d.ifaces[0].filter)
	}

	sender := newUDPSender(t, p.A.NS, p.A.Addr.Addr())
	to := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(p.B.Addr.Addr(), port) }
	send := func(port uint16, pls []nmsg.Payload, unbuffered bool) uint64 {
		t.Helper()
		return sender.send(to(port), pls, 0, unbuffered)
	}
	dedupe := synth.NewDedupe(7, 1764115200)
	dedupe.RepeatShare = 0
	newdomain := synth.NewNewDomain(9, 1764115200)
	send(8430, generate(300, dedupe), false)
	// A channel dropped whole is dropped on its address alone, before any
	// payload is read: the kernel counts its packets.
	dropped8 := send(8431, generate(200, dedupe), false)
	mixed := generate(100, dedupe)
	for i, nd := range generate(100, newdomain) {
		mixed = append(mixed[:2*i+1], append([]nmsg.Payload{nd}, mixed[2*i+1:]...)...)
	}
	send(8432, mixed, false)
	send(8432, generate(50, newdomain), true) // one newdomain payload per container: the kernel drops them

	c, err := ctl.NewClient(sock, ctl.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := map[uint16]map[string]uint64{
		7: {"stored": 300, "captured": 300, "kernel_dropped": 0, "kernel_drop_packets": 0, "lost_ring_full": 0, "lost_spool": 0},
		8: {"stored": 0, "captured": 0, "kernel_dropped_packets": dropped8, "kernel_drop_packets": dropped8},
		9: {"stored": 100, "filtered": 100, "kernel_dropped": 50, "kernel_drop_packets": 50},
	}
	waitCounters(t, "after the first datagrams", func() (ctl.Channels, error) { return c.Channels(ctx) }, want)
	if ok, detail, err := c.Ready(ctx); err != nil || !ok {
		t.Fatalf("readyz: %v %s %v", ok, detail, err)
	}
	// The stored payloads, exported through the API while the daemon runs.
	var exported strings.Builder
	if _, err := c.Export(ctx, ctl.ExportQuery{Channel: 7, Format: ctl.ExportJSON}, &exported); err != nil {
		t.Fatalf("export: %v", err)
	}
	if n := strings.Count(exported.String(), "\n"); n != 300 || !strings.Contains(exported.String(), `"mname":"dnsdedupe"`) {
		t.Errorf("exported %d JSON lines of channel 7, want 300", n)
	}
	// The CLI over the same socket.
	if out, errs, code := siecap(t, nil, "channels", "--addr", sock); code != 0 ||
		!strings.Contains(out, "CHANNEL") || !strings.Contains(out, "300") {
		t.Errorf("siecap channels: exit %d, %q, %q", code, out, errs)
	}
	if out, errs, code := siecap(t, nil, "status", "--addr", sock, "--format", "json"); code != 0 || !strings.Contains(out, `"filter": "xdp"`) {
		t.Errorf("siecap status: exit %d, %q, %q", code, out, errs)
	}
	if out, errs, code := siecap(t, nil, "top", "--addr", sock, "--seconds", "2"); code != 0 || !strings.Contains(out, "channel 7 ") {
		t.Errorf("siecap top: exit %d, %q, %q", code, out, errs)
	}
	metrics, err := c.Metrics(ctx)
	if err != nil || !strings.Contains(metrics, `siecap_stored_payloads_total{channel="7"} 300`) ||
		!strings.Contains(metrics, `siecap_kernel_dropped_payloads_total{channel="9"} 50`) ||
		!strings.Contains(metrics, `siecap_kernel_packets_total{channel="9",verdict="drop"} 50`) ||
		!strings.Contains(metrics, `siecap_kernel_packets_total{channel="7",verdict="malformed"} 0`) ||
		!strings.Contains(metrics, `siecap_lost_payloads_by_cause_total{channel="7",cause="ring_full"} 0`) ||
		!strings.Contains(metrics, `siecap_spool_segments{state="open"} 2`) || !strings.Contains(metrics, "siecap_spool_ledger_payloads_total 0\n") ||
		!strings.Contains(metrics, "siecap_spool_bytes ") ||
		!strings.Contains(metrics, `siecap_ring_capacity_batches{channel="7",reader="1",shard="0"} 64`) ||
		!strings.Contains(metrics, `siecap_ring_batches{channel="7",reader="0",shard="0"} 0`) {
		t.Errorf("metrics (%v):\n%s", err, metrics)
	}

	// Live tail of channel 7: payloads as they are decoded. Datagrams go
	// out in small bursts until the tail has its lines (it subscribes when
	// the server takes the request).
	tailed := make(chan int, 1)
	go func() {
		n := 0
		err := c.Tail(ctx, 7, ctl.TailOptions{Count: 10}, func(line []byte) error {
			if strings.Contains(string(line), `"mname":"dnsdedupe"`) {
				n++
			}
			return nil
		})
		if err != nil {
			t.Errorf("tail: %v", err)
		}
		tailed <- n
	}()
	extra := 0
	var lines int
tail:
	for deadline := time.Now().Add(20 * time.Second); ; {
		select {
		case lines = <-tailed:
			break tail
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("tail got no payloads")
		}
		send(8430, generate(20, dedupe), false)
		extra += 20
		time.Sleep(100 * time.Millisecond)
	}
	if lines != 10 {
		t.Errorf("tail: %d dnsdedupe lines, want 10", lines)
	}
	want[7]["stored"], want[7]["captured"] = uint64(300+extra), uint64(300+extra)

	// Replace the rules through the API: channel 7 is now dropped in the
	// kernel.
	rs, err := c.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs.Channels {
		if rs.Channels[i].Channel == 7 {
			rs.Channels[i].Action, rs.Channels[i].Types = "drop", nil
		}
	}
	if _, err := c.SetRules(ctx, rs); err != nil {
		t.Fatalf("set rules: %v", err)
	}
	want[7]["kernel_dropped_packets"] = send(8430, generate(60, dedupe), false)
	want[7]["kernel_drop_packets"] = want[7]["kernel_dropped_packets"]
	waitCounters(t, "after the rule change", func() (ctl.Channels, error) { return c.Channels(ctx) }, want)

	// The capture interface disappears: not ready any more.
	if err := p.B.NS.Do(func() error {
		l, err := p.B.NS.Netlink().LinkByName(p.B.Link)
		if err != nil {
			return err
		}
		return p.B.NS.Netlink().LinkDel(l)
	}); err != nil {
		t.Fatalf("delete interface: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		ok, _, err := c.Ready(ctx)
		if err == nil && !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %v (%v) after the interface went away", ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := d.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// Everything stored is in the spool, sealed.
	stored := spooledPayloads(t, filepath.Join(dir, "spool"))
	if stored[7] != uint64(300+extra) || stored[9] != 100 || stored[8] != 0 {
		t.Errorf("spool holds %v payloads by channel, want 7:%d 9:100", stored, 300+extra)
	}
}
