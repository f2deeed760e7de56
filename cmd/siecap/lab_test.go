package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

// TestLabGenReplayCommands drives lab up, status, gen, replay and down the
// way an operator would, in a lab with a unique prefix.
func TestLabGenReplayCommands(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw)
	p, dir := lab.UniquePrefix(), t.TempDir()
	t.Cleanup(func() {
		if _, err := lab.Down(p, dir); err != nil {
			t.Error(err)
		}
	})
	common := []string{"--prefix", p, "--state-dir", dir}
	_, errs, code := siecap(t, nil, append([]string{"lab", "up", "--channels", "202,300-301"}, common...)...)
	if code != 0 {
		if strings.Contains(errs, "operation not permitted") {
			t.Skipf("missing privilege for network namespaces: %s", errs)
		}
		t.Fatalf("lab up: exit %d: %s", code, errs)
	}
	out, errs, code := siecap(t, nil, append([]string{"lab", "status"}, common...)...)
	if code != 0 || !strings.Contains(out, p+"-sie") || !strings.Contains(out, "tbf 100000000 bit/s") {
		t.Fatalf("lab status: exit %d:\n%s%s", code, out, errs)
	}

	out, errs, code = siecap(t, nil, append([]string{"gen", "--count", "300", "--pps", "20k", "--json", "--mix", "dnsdedupe=1,newdomain=1,dnsqr=1"}, common...)...)
	if code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errs)
	}
	var st lab.FeedStats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("gen --json: %v\n%s", err, out)
	}
	var chans []int
	for _, c := range st.Channels {
		chans = append(chans, c.Channel)
		if c.Datagrams != 100 || c.Payloads == 0 || c.VLAN != c.Channel {
			t.Errorf("gen channel %d: %+v", c.Channel, c)
		}
	}
	if !slices.Equal(chans, []int{202, 300, 301}) {
		t.Errorf("gen sent on %v, want the lab's 202, 300, 301", chans)
	}

	file := filepath.Join(dir, "feed.nmsg")
	writeSynthFile(t, file, 3000)
	out, errs, code = siecap(t, nil, append([]string{"replay", file, "--channel", "301", "--pps", "0", "--quiet"}, common...)...)
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errs)
	}
	row := ""
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "301 ") {
			row = line
		}
	}
	if f := strings.Fields(row); len(f) < 5 || f[4] != "3000" {
		t.Fatalf("replay: want 3000 payloads on channel 301:\n%s", out)
	}

	if _, errs, code = siecap(t, nil, append([]string{"lab", "down"}, common...)...); code != 0 {
		t.Fatalf("lab down: exit %d: %s", code, errs)
	}
	if out, _, code = siecap(t, nil, append([]string{"lab", "status"}, common...)...); code != 3 {
		t.Fatalf("lab status after down: exit %d, want 3:\n%s", code, out)
	}
}

func writeSynthFile(t *testing.T, name string, n int) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := nmsg.NewWriter(f, nmsg.WriterOptions{})
	g := synth.NewMixed(3, 1767225600, synth.DefaultMix, 0.3, 20000)
	var p nmsg.Payload
	var buf []byte
	for range n {
		buf = g.Next(&p, buf[:0])
		if err := w.Write(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestParseChannelsAndRates(t *testing.T) {
	got, err := parseChannels("202, 300-302,511")
	if err != nil || !slices.Equal(got, []int{202, 300, 301, 302, 511}) {
		t.Fatalf("parseChannels = %v, %v", got, err)
	}
	for _, bad := range []string{"0", "512", "a", "5-3", ""} {
		if _, err := parseChannels(bad); err == nil {
			t.Errorf("parseChannels(%q) accepted", bad)
		}
	}
	for in, want := range map[string]float64{"100Mbit": 1e8, "2.5G": 2.5e9, "400k": 4e5, "1e6": 1e6, "0": 0} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseRate("-1"); err == nil {
		t.Error("parseRate(-1) accepted")
	}
}
