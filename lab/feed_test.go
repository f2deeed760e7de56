package lab_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/nmsg"
)

// packetReceiver is a plain AF_PACKET socket on the appliance's SIE link
// that joins a fanout group of its own with the DEFRAG flag, so the kernel
// hands it IP-fragmented datagrams reassembled, and reads the VLAN id from
// auxdata.
type packetReceiver struct {
	fd int
	mu sync.Mutex
	// per channel (from the destination address)
	datagrams, payloads map[int]uint64
	vlans               map[int]map[int]uint64 // channel -> vlan id (-1 none) -> datagrams
	stats               nmsg.Stats
	other               uint64 // frames that are not NMSG datagrams to port 8430
	badSums             uint64 // IPv4 header or UDP checksum wrong
	done                chan struct{}
}

func newPacketReceiver(t *testing.T, l *lab.Lab) *packetReceiver {
	t.Helper()
	r := &packetReceiver{datagrams: map[int]uint64{}, payloads: map[int]uint64{},
		vlans: map[int]map[int]uint64{}, done: make(chan struct{})}
	err := l.Appliance.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		r.fd = fd
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 256<<20); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			return err
		}
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000}); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: l.SIE.Index}); err != nil {
			return err
		}
		fanout := (unix.PACKET_FANOUT_HASH | unix.PACKET_FANOUT_FLAG_DEFRAG) << 16
		return unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, fanout|int(uint16(l.SIE.Index+4242)))
	})
	if err != nil {
		t.Fatalf("open packet receiver: %v", err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return r
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// run reads until stop is closed and then until the socket is idle.
func (r *packetReceiver) run(stop <-chan struct{}) {
	defer close(r.done)
	dec := nmsg.NewDecoder()
	buf := make([]byte, 70000)
	oob := make([]byte, 256)
	stopping := false
	for {
		n, oobn, _, _, err := unix.Recvmsg(r.fd, buf, oob, 0)
		if err != nil {
			select {
			case <-stop:
				if stopping {
					r.mu.Lock()
					r.stats = dec.Stats
					r.mu.Unlock()
					return
				}
				stopping = true // one more idle timeout
			default:
			}
			continue
		}
		vlan := -1
		if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, cm := range cms {
				if cm.Header.Level == unix.SOL_PACKET && cm.Header.Type == unix.PACKET_AUXDATA && len(cm.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
					aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&cm.Data[0]))
					if aux.Status&unix.TP_STATUS_VLAN_VALID != 0 {
						vlan = int(aux.Vlan_tci & 0xfff)
					}
				}
			}
		}
		f := buf[:n]
		// The kernel strips the tag before AF_PACKET: an IPv4 frame.
		if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != 17 || binary.BigEndian.Uint16(f[36:]) != lab.ChannelPort {
			r.mu.Lock()
			r.other++
			r.mu.Unlock()
			continue
		}
		dst := netip.AddrFrom4([4]byte(f[30:34]))
		ch := int(dst.As4()[1]-18)<<8 | int(dst.As4()[2])
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(f[26:30])), binary.BigEndian.Uint16(f[34:]))
		ulen := int(binary.BigEndian.Uint16(f[38:]))
		if !checksumsOK(f[14 : 34+ulen]) {
			r.mu.Lock()
			r.badSums++
			r.mu.Unlock()
		}
		pls, _ := dec.Datagram(src, f[42:14+20+ulen], time.Now())
		r.mu.Lock()
		r.datagrams[ch]++
		r.payloads[ch] += uint64(len(pls))
		if r.vlans[ch] == nil {
			r.vlans[ch] = map[int]uint64{}
		}
		r.vlans[ch][vlan]++
		r.mu.Unlock()
	}
}

// feedAndReceive sends cfg's feed while r reads, and returns what was sent.
func feedAndReceive(t *testing.T, l *lab.Lab, r *packetReceiver, cfg lab.FeedConfig) *lab.FeedStats {
	t.Helper()
	stop := make(chan struct{})
	go r.run(stop)
	st, err := l.Feed(context.Background(), cfg)
	close(stop)
	<-r.done
	if err != nil {
		t.Fatalf("feed: %v", err)
	}
	return st
}

func checkReceived(t *testing.T, st *lab.FeedStats, r *packetReceiver, wantVLAN func(ch int) int) {
	t.Helper()
	for _, c := range st.Channels {
		if c.Datagrams == 0 || c.Payloads == 0 {
			t.Errorf("channel %d: sent nothing: %+v", c.Channel, c)
		}
		if got := r.datagrams[c.Channel]; got != c.Datagrams {
			t.Errorf("channel %d: received %d datagrams, sent %d", c.Channel, got, c.Datagrams)
		}
		if got := r.payloads[c.Channel]; got != c.Payloads {
			t.Errorf("channel %d: decoded %d payloads, sent %d", c.Channel, got, c.Payloads)
		}
		want := wantVLAN(c.Channel)
		if v := r.vlans[c.Channel]; len(v) != 1 || v[want] != c.Datagrams {
			t.Errorf("channel %d: VLAN ids %v, want all %d", c.Channel, v, want)
		}
	}
	if d := r.stats.Damage(); d != 0 || r.stats.SequenceLost != 0 {
		t.Errorf("decoder saw damage or loss: %s", r.stats.String())
	}
	if r.badSums != 0 {
		t.Errorf("%d datagrams with a wrong IPv4 or UDP checksum", r.badSums)
	}
	if r.other != 0 {
		t.Errorf("%d frames that are not the feed's", r.other)
	}
}

func TestFeedDecodesWithVLANs(t *testing.T) {
	l := upLab(t, lab.Config{Channels: []int{202, 204, 300}})
	for _, tc := range []struct {
		name string
		cfg  lab.FeedConfig
		vlan func(int) int
	}{
		{"inline", lab.FeedConfig{VLAN: lab.VLANInline}, func(ch int) int { return ch }},
		{"metadata", lab.FeedConfig{VLAN: lab.VLANMetadata}, func(ch int) int { return ch }},
		{"none", lab.FeedConfig{VLAN: lab.VLANNone}, func(int) int { return -1 }},
		{"zlib", lab.FeedConfig{Zlib: true}, func(ch int) int { return ch }},
		{"ip-fragments", lab.FeedConfig{MTU: 1500}, func(ch int) int { return ch }},
		{"nmsg-fragments", lab.FeedConfig{ContainerSize: 1400, Mix: mixDNSQR, LargeShare: 0.2}, func(ch int) int { return ch }},
		{"pool", lab.FeedConfig{Pool: 50, MTU: 1500}, func(ch int) int { return ch }},
		// Small pools: the TX ring holds a whole cycle through them, so
		// the container bodies stay in place and only headers and
		// sequence numbers are written again.
		{"pool-in-ring", lab.FeedConfig{Pool: 4}, func(ch int) int { return ch }},
		// tc egress moves the tag of these: the ring's bytes must stay.
		{"pool-in-ring-metadata", lab.FeedConfig{Pool: 4, VLAN: lab.VLANMetadata}, func(ch int) int { return ch }},
		// Two TX rings on two threads share the channels (and the
		// count), in small send batches.
		{"tx-rings", lab.FeedConfig{TXRings: 2, TXBatch: 8}, func(ch int) int { return ch }},
		{"tx-rings-pool", lab.FeedConfig{TXRings: 2, Pool: 4}, func(ch int) int { return ch }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPacketReceiver(t, l)
			cfg := tc.cfg
			cfg.Count, cfg.PPS, cfg.Duration, cfg.Seed, cfg.RepeatShare = 600, 20000, 10*time.Second, 1, 0.3
			st := feedAndReceive(t, l, r, cfg)
			checkReceived(t, st, r, tc.vlan)
			tot := st.Total()
			t.Logf("%s: %d datagrams, %d frames, %d payloads, %d bytes", tc.name, tot.Datagrams, tot.Frames, tot.Payloads, tot.Bytes)
			if tc.cfg.TXRings > 1 && tot.Datagrams != cfg.Count {
				t.Errorf("%d TX rings sent %d datagrams, want the count %d", tc.cfg.TXRings, tot.Datagrams, cfg.Count)
			}
			if tc.name == "ip-fragments" && tot.Frames <= tot.Datagrams {
				t.Errorf("MTU 1500: %d frames for %d datagrams, want IP fragments", tot.Frames, tot.Datagrams)
			}
			if tc.cfg.Pool > 0 && st.TX.Kept < tot.Frames/2 {
				t.Errorf("%d of %d frames found their body in place, want most", st.TX.Kept, tot.Frames)
			}
			if tc.name == "nmsg-fragments" && r.stats.FragmentSetsDone == 0 {
				t.Errorf("no NMSG fragment set reassembled: %s", r.stats.String())
			}
		})
	}
}

var mixDNSQR = mustMix("dnsqr=1")

// checksumsOK verifies the IPv4 header checksum and the UDP checksum of
// an unfragmented (or reassembled) IPv4/UDP packet.
func checksumsOK(ip []byte) bool {
	sum := func(s uint32, b []byte) uint32 {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
		return s
	}
	fold := func(s uint32) uint16 {
		for s > 0xffff {
			s = s>>16 + s&0xffff
		}
		return uint16(s)
	}
	if fold(sum(0, ip[:20])) != 0xffff {
		return false
	}
	udp := ip[20:]
	s := sum(0, ip[12:20]) + 17 + uint32(len(udp))
	return fold(sum(s, udp)) == 0xffff
}
