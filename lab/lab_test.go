package lab_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/vishvananda/netns"
)

func TestPairCarriesUDP(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin)
	p, err := lab.NewPair(lab.PairConfig{MTU: 9000})
	testutil.SkipOnPermission(t, err, "create veth pair")
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	var rx *net.UDPConn
	err = p.B.NS.Do(func() (err error) {
		rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.B.Addr.Addr().AsSlice(), Port: 8430})
		return err
	})
	if err != nil {
		t.Fatalf("listen in B: %v", err)
	}
	defer rx.Close()
	var tx *net.UDPConn
	err = p.A.NS.Do(func() (err error) {
		tx, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: p.B.Addr.Addr().AsSlice(), Port: 8430})
		return err
	})
	if err != nil {
		t.Fatalf("dial from A: %v", err)
	}
	defer tx.Close()
	msg := bytes.Repeat([]byte{0x5a}, 8000) // needs the 9000-byte MTU
	buf := make([]byte, 9000)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := tx.Write(msg); err != nil {
			t.Fatalf("send: %v", err)
		}
		rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := rx.ReadFromUDP(buf)
		if err == nil {
			if !bytes.Equal(buf[:n], msg) {
				t.Fatalf("received %d bytes, want the 8000 sent", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no datagram within 5s: %v", err)
		}
	}
}

func TestCloseRemovesNamespaces(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin)
	p, err := lab.NewPair(lab.PairConfig{})
	testutil.SkipOnPermission(t, err, "create veth pair")
	name := p.A.NS.Name
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if h, err := netns.GetFromName(name); err == nil {
		h.Close()
		t.Fatalf("namespace %s still exists after Close", name)
	}
}

func TestRejectsAddressOutsideBenchmarkRange(t *testing.T) {
	_, err := lab.NewPair(lab.PairConfig{AddrA: netip.MustParsePrefix("10.0.0.1/24")})
	if err == nil {
		t.Fatal("NewPair accepted 10.0.0.1")
	}
}
