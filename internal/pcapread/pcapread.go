package pcapread

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Datagram is one UDP datagram of a capture.
type Datagram struct {
	Src, Dst netip.AddrPort
	VLAN     uint16
	HasVLAN  bool
	Time     time.Time
	Payload  []byte
}

// Stats counts what the reader saw and skipped.
type Stats struct {
	Packets     uint64 // packets read from the capture
	Datagrams   uint64 // UDP datagrams returned
	Skipped     uint64 // packets that are not UDP over IP
	Fragments   uint64 // IP fragments seen
	Reassembled uint64 // datagrams reassembled from IP fragments
	Damaged     uint64 // packets that did not decode or reassemble
}

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// Reader returns the UDP datagrams of a capture, in capture order.
type Reader struct {
	Stats Stats
	src   packetSource
	v4    *ip4defrag.IPv4Defragmenter
	v6    *ip6defrag.IPv6Defragmenter
}

// NewReader opens a pcap or pcapng stream.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("read capture header: %w", err)
	}
	var src packetSource
	if bytes.Equal(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("open pcapng: %w", err)
		}
		src = ng
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open pcap: %w", err)
		}
		src = pr
	}
	return &Reader{src: src, v4: ip4defrag.NewIPv4Defragmenter(), v6: ip6defrag.NewIPv6Defragmenter()}, nil
}

// Next returns the next UDP datagram, or io.EOF at the end of the capture.
func (r *Reader) Next() (Datagram, error) {
	for {
		data, ci, err := r.src.ReadPacketData()
		if err != nil {
			if err == io.EOF {
				return Datagram{}, io.EOF
			}
			return Datagram{}, fmt.Errorf("read packet %d: %w", r.Stats.Packets+1, err)
		}
		r.Stats.Packets++
		d, ok := r.decode(data, ci)
		if ok {
			r.Stats.Datagrams++
			return d, nil
		}
	}
}

func (r *Reader) decode(data []byte, ci gopacket.CaptureInfo) (Datagram, bool) {
	pkt := gopacket.NewPacket(data, r.src.LinkType(), gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	d := Datagram{Time: ci.Timestamp}
	for _, l := range pkt.Layers() {
		if q, ok := l.(*layers.Dot1Q); ok {
			d.VLAN, d.HasVLAN = q.VLANIdentifier, true // the innermost tag wins
		}
	}
	var udp *layers.UDP
	var src, dst netip.Addr
	switch {
	case pkt.Layer(layers.LayerTypeIPv4) != nil:
		ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			r.Stats.Fragments++
			full, err := r.v4.DefragIPv4WithTimestamp(ip, ci.Timestamp)
			if err != nil {
				r.Stats.Damaged++
				return d, false
			}
			if full == nil {
				return d, false
			}
			r.Stats.Reassembled++
			udp = decodeUDP(full.Payload)
		} else if l := pkt.Layer(layers.LayerTypeUDP); l != nil {
			udp = l.(*layers.UDP)
		}
	case pkt.Layer(layers.LayerTypeIPv6) != nil:
		ip := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		if fl := pkt.Layer(layers.LayerTypeIPv6Fragment); fl != nil {
			r.Stats.Fragments++
			full := r.v6.DefragIPv6(ip, fl.(*layers.IPv6Fragment))
			if full == nil {
				return d, false
			}
			r.Stats.Reassembled++
			udp = decodeUDP(full.Payload)
		} else if l := pkt.Layer(layers.LayerTypeUDP); l != nil {
			udp = l.(*layers.UDP)
		}
	default:
		r.Stats.Skipped++
		return d, false
	}
	if udp == nil {
		if pkt.ErrorLayer() != nil {
			r.Stats.Damaged++
		} else {
			r.Stats.Skipped++
		}
		return d, false
	}
	d.Src = netip.AddrPortFrom(src.Unmap(), uint16(udp.SrcPort))
	d.Dst = netip.AddrPortFrom(dst.Unmap(), uint16(udp.DstPort))
	d.Payload = udp.Payload
	return d, true
}

func decodeUDP(b []byte) *layers.UDP {
	var udp layers.UDP
	if err := udp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return nil
	}
	return &udp
}
