package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/siecap/siecap/internal/testvectors"
	"github.com/siecap/siecap/nmsg"
)

// containers splits a stream into its containers.
func containers(t *testing.T, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		h, err := nmsg.ParseHeader(b)
		if err != nil {
			t.Fatalf("parse header: %v", err)
		}
		n := nmsg.HeaderSize + int(h.Length)
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

type pcapBuilder struct {
	t  *testing.T
	w  *pcapgo.Writer
	ts time.Time
}

func (p *pcapBuilder) write(ls ...gopacket.SerializableLayer) {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		p.t.Fatalf("serialize: %v", err)
	}
	p.ts = p.ts.Add(time.Millisecond)
	b := buf.Bytes()
	if err := p.w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		p.t.Fatal(err)
	}
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// udp4 writes a datagram as a VLAN-tagged IPv4 frame, cut into IP
// fragments of at most mtu bytes of IP payload when it does not fit.
func (p *pcapBuilder) udp4(src, dst string, vlan uint16, payload []byte, mtu int) {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q}
	q := &layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst), Id: 77}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 8430}
	_ = udp.SetNetworkLayerForChecksum(ip)
	ubuf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(ubuf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, udp, gopacket.Payload(payload)); err != nil {
		p.t.Fatal(err)
	}
	dg := ubuf.Bytes()
	if len(dg) <= mtu {
		p.write(eth, q, ip, gopacket.Payload(dg))
		return
	}
	step := mtu &^ 7
	for off := 0; off < len(dg); off += step {
		end := min(off+step, len(dg))
		frag := *ip
		frag.FragOffset = uint16(off / 8)
		if end < len(dg) {
			frag.Flags = layers.IPv4MoreFragments
		}
		p.write(eth, q, &frag, gopacket.Payload(dg[off:end]))
	}
}

func (p *pcapBuilder) udp6(src, dst string, payload []byte) {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	udp := &layers.UDP{SrcPort: 40001, DstPort: 8430}
	_ = udp.SetNetworkLayerForChecksum(ip)
	p.write(eth, ip, udp, gopacket.Payload(payload))
}

// TestDumpPcap wraps nmsgtool's UDP captures in Ethernet/VLAN/IPv4 (IP
// fragmented) and IPv6 frames and expects the same JSON as from the
// containers themselves.
func TestDumpPcap(t *testing.T) {
	frag := containers(t, testvectors.Read(t, "nmsgtool", "frag-udp.nmsg"))
	seq := containers(t, testvectors.Read(t, "nmsgtool", "udp-seq.nmsg"))
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	pb := &pcapBuilder{t: t, w: w, ts: time.Unix(1700000000, 0)}
	for _, c := range frag {
		pb.udp6("2001:db8::1", "2001:db8::ff", c)
	}
	for _, c := range seq {
		pb.udp4("198.18.204.1", "198.18.204.255", 204, c, 1480)
	}
	pb.udp4("198.18.204.1", "198.18.204.255", 204, []byte("not nmsg at all"), 1480)
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := siecap(t, nil, "dump", "--pcap", "--stats", path)
	want := string(testvectors.Read(t, "nmsgtool", "frag-udp.json")) + string(testvectors.Read(t, "nmsgtool", "udp-seq.json"))
	if out != want {
		t.Errorf("pcap dump differs: %s", lineDiff(out, want))
	}
	// The stray datagram is not NMSG: counted, exit 1.
	if code != 1 || !strings.Contains(errs, "incorrect magic number") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	for _, s := range []string{"sequence lost: 0", "sets reassembled 1", "ip fragments 42, reassembled 7"} {
		if !strings.Contains(errs, s) {
			t.Errorf("stats lack %q:\n%s", s, errs)
		}
	}
}
