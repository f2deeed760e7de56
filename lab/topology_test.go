package lab_test

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
)

// upLab brings up a lab with a unique prefix and its state in a temporary
// directory, removed when the test ends.
func upLab(t *testing.T, cfg lab.Config) *lab.Lab {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin)
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	l, err := lab.Up(cfg)
	testutil.SkipOnPermission(t, err, "create lab")
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}

func TestLabUpStatusDown(t *testing.T) {
	dir := t.TempDir()
	l := upLab(t, lab.Config{Channels: []int{202, 300, 511}, StateDir: dir})
	st, err := lab.StatusOf(l.Prefix, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.StateFile == "" {
		t.Fatal("no state file")
	}
	for n, ok := range st.Namespaces {
		if !ok {
			t.Errorf("namespace %s missing", n)
		}
	}
	if len(st.Links) != 4 {
		t.Fatalf("%d links, want 4: %+v", len(st.Links), st.Links)
	}
	for _, ls := range st.Links {
		if !ls.Up {
			t.Errorf("link %s down", ls.Name)
		}
		switch ls.Name {
		case l.Names.SIELink, l.Names.SwitchLink:
			if ls.MTU != 9000 || ls.Addrs != 3 {
				t.Errorf("SIE link %s: MTU %d, %d addresses; want 9000, 3", ls.Name, ls.MTU, ls.Addrs)
			}
		case l.Names.UplinkLink:
			if ls.Qdisc != "tbf 100000000 bit/s" {
				t.Errorf("uplink qdisc %q, want tbf at 100 Mbit/s", ls.Qdisc)
			}
		}
	}
	if got := lab.ChannelBroadcast(300).String(); got != "198.19.44.255" {
		t.Errorf("channel 300 broadcast %s, want 198.19.44.255", got)
	}

	// Channel 511's broadcast reaches a UDP socket in the appliance.
	ch := 511
	var rx *net.UDPConn
	err = l.Appliance.Do(func() (err error) {
		rx, err = net.ListenUDP("udp4", &net.UDPAddr{Port: lab.ChannelPort})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var tx *net.UDPConn
	err = l.Switch.NS.Do(func() (err error) {
		tx, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: lab.ChannelBroadcast(ch).AsSlice(), Port: lab.ChannelPort})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	buf := make([]byte, 9000)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := tx.Write(make([]byte, 8000)); err != nil {
			t.Fatalf("send broadcast: %v", err)
		}
		rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := rx.ReadFromUDP(buf)
		if err == nil {
			if n != 8000 || from.IP.String() != "198.19.255.1" {
				t.Fatalf("received %d bytes from %v, want 8000 from 198.19.255.1", n, from)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast within 5s: %v", err)
		}
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	requireGone(t, l.Prefix, dir)
}

func requireGone(t *testing.T, prefix, dir string) {
	t.Helper()
	st, err := lab.StatusOf(prefix, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists() || len(st.Links) != 0 {
		t.Fatalf("lab %s still exists: %+v", prefix, st)
	}
	// No link of the lab is left in this namespace either (a veth whose
	// peer namespace vanished would stay behind here only if it were
	// created here).
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if len(i.Name) > len(prefix) && i.Name[:len(prefix)] == prefix {
			t.Fatalf("link %s left behind", i.Name)
		}
	}
}

// TestDownAfterCrash leaves a lab behind as a crashed process would, with
// and without its state file, and removes it with Down.
func TestDownAfterCrash(t *testing.T) {
	for _, keepState := range []bool{true, false} {
		dir := t.TempDir()
		l := upLab(t, lab.Config{Channels: []int{1}, StateDir: dir})
		l.Keep()
		if err := l.Close(); err != nil { // releases handles only
			t.Fatal(err)
		}
		if !keepState {
			if err := os.Remove(l.StateFile); err != nil {
				t.Fatal(err)
			}
		}
		st, err := lab.StatusOf(l.Prefix, dir)
		if err != nil || !st.Exists() || len(st.Links) != 4 {
			t.Fatalf("after release: %+v, %v", st, err)
		}
		removed, err := lab.Down(l.Prefix, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := 3
		if keepState {
			want = 4
		}
		if len(removed) != want {
			t.Errorf("Down removed %v, want %d items", removed, want)
		}
		requireGone(t, l.Prefix, dir)
	}
}

func TestUpRejectsBadConfig(t *testing.T) {
	for _, cfg := range []lab.Config{
		{Prefix: "much-too-long-prefix"},
		{Channels: []int{0}},
		{Channels: []int{512}},
	} {
		cfg.StateDir = t.TempDir()
		if l, err := lab.Up(cfg); err == nil {
			l.Close()
			t.Errorf("Up(%+v) accepted", cfg)
		}
	}
}
