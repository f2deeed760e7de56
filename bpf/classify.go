package bpf

import "encoding/binary"

// Verdict is the pre-filter's decision on one frame.
type Verdict struct {
	Drop    bool
	Reason  Reason
	Channel uint32 // channel ID, 0 for no configured channel
	// Payloads is the number of payloads read: all of a dropped
	// container's; of a passed one, those up to its first allowed payload,
	// or all of them if the channel's rule has CountPayloads.
	Payloads int
}

// frameInfo mirrors struct sc_frame.
type frameInfo struct {
	l4, udpLen uint32
	port, vlan uint16
	hasVLAN    bool
	family     uint8
	addr       [16]byte
}

const (
	l3None = iota
	l3UDP
	l3Other
	l3Opaque
)

// Classify is the reference classifier: it decides frame exactly as the
// kernel programs do (a frame is the Ethernet frame as XDP sees it; vlan
// and hasVLAN give an 802.1Q tag delivered as metadata). rs may be nil (no
// configuration loaded: everything passes). It never allocates.
func Classify(frame []byte, vlan uint16, hasVLAN bool, rs *Ruleset) Verdict {
	n := uint32(len(frame))
	var f frameInfo
	l3 := l3None
	proto, off := parseVLANs(frame, &f, vlan, hasVLAN)
	switch proto {
	case 0x0800:
		l3 = parseIPv4(frame, &off, &f)
	case 0x86dd:
		l3 = parseIPv6(frame, &off, &f)
	}
	var rule *compiledRule
	if rs != nil && f.hasVLAN {
		rule = rs.vlans[f.vlan]
	}
	if l3 == l3UDP {
		if off+8 > n {
			l3 = l3None
		} else {
			f.l4 = off
			f.port = binary.BigEndian.Uint16(frame[off+2:])
			f.udpLen = uint32(binary.BigEndian.Uint16(frame[off+4:]))
		}
	}
	if rs != nil && rule == nil && l3 == l3UDP {
		rule = rs.addrs[addrKey{family: f.family, port: f.port, addr: f.addr}]
	}
	v := Verdict{}
	switch l3 {
	case l3UDP:
		data := f.l4 + 8
		if f.udpLen < 12 || data+4 > n || string(frame[data:data+4]) != "NMSG" {
			v.Reason = notNMSG(rule)
			break
		}
		if rule == nil {
			if rs != nil && rs.dropUnconfigured {
				v.Reason = ReasonDropDefault
			} else {
				v.Reason = ReasonPass
			}
			break
		}
		switch {
		case rule.action == PassAll && rule.flags&flagCountPayloads == 0:
			v.Reason = ReasonPass
		case rule.action == DropAll && rule.flags&flagCountPayloads == 0:
			v.Reason = ReasonDrop
		default:
			v.Reason, v.Payloads = classifyNMSG(frame, &f, rule)
		}
	case l3Other:
		v.Reason = notNMSG(rule)
	case l3Opaque:
		v.Reason = ReasonOpaque
	default:
		v.Reason = ReasonNotNMSG
	}
	if rule != nil {
		v.Channel = rule.id
	}
	v.Drop = v.Reason.Drops()
	return v
}

func notNMSG(r *compiledRule) Reason {
	if r != nil && r.flags&flagDropNotNMSG != 0 {
		return ReasonDropDefault
	}
	return ReasonNotNMSG
}

// parseVLANs mirrors parse_vlans: it returns the ethertype after at most two
// tags in total (metadata tag included), or 0, and the offset after them.
func parseVLANs(frame []byte, f *frameInfo, vlan uint16, hasVLAN bool) (uint16, uint32) {
	n := uint32(len(frame))
	tags := 0
	if hasVLAN {
		tags = 1
		f.vlan = vlan & 0x0fff
		f.hasVLAN = true
	}
	if n < 14 {
		return 0, 0
	}
	proto := binary.BigEndian.Uint16(frame[12:])
	off := uint32(14)
	for range 2 {
		if proto != 0x8100 && proto != 0x88a8 {
			return proto, off
		}
		if tags >= 2 || off+4 > n {
			return 0, off
		}
		tags++
		if proto == 0x8100 {
			f.vlan = binary.BigEndian.Uint16(frame[off:]) & 0x0fff
			f.hasVLAN = true
		}
		proto = binary.BigEndian.Uint16(frame[off+2:])
		off += 4
	}
	if proto == 0x8100 || proto == 0x88a8 {
		return 0, off
	}
	return proto, off
}

func parseIPv4(frame []byte, off *uint32, f *frameInfo) int {
	o := *off
	if o+20 > uint32(len(frame)) {
		return l3None
	}
	ihl := uint32(frame[o]&0x0f) * 4
	if frame[o]>>4 != 4 || ihl < 20 {
		return l3None
	}
	f.family = 4
	copy(f.addr[:4], frame[o+16:o+20])
	if binary.BigEndian.Uint16(frame[o+6:])&0x3fff != 0 {
		return l3Opaque
	}
	if frame[o+9] != 17 {
		return l3Other
	}
	*off = o + ihl
	return l3UDP
}

func parseIPv6(frame []byte, off *uint32, f *frameInfo) int {
	o := *off
	if o+40 > uint32(len(frame)) {
		return l3None
	}
	if frame[o]>>4 != 6 {
		return l3None
	}
	f.family = 6
	copy(f.addr[:], frame[o+24:o+40])
	switch frame[o+6] {
	case 17:
		*off = o + 40
		return l3UDP
	case 0, 43, 44, 51, 60, 135, 139, 140:
		return l3Opaque
	}
	return l3Other
}

func classifyNMSG(frame []byte, f *frameInfo, r *compiledRule) (Reason, int) {
	n := uint32(len(frame))
	data := f.l4 + 8
	if f.udpLen < 18 || f.l4+f.udpLen > n {
		return ReasonMalformed, 0
	}
	hdr := frame[data : data+10]
	body := binary.BigEndian.Uint32(hdr[6:])
	if hdr[5] != 2 || hdr[4]&^3 != 0 || body != f.udpLen-18 {
		return ReasonMalformed, 0
	}
	if hdr[4] != 0 {
		return ReasonOpaque, 0
	}
	w := walk{frame: frame, rule: r, off: data + 10, end: data + 10 + body, count: r.flags&flagCountPayloads != 0}
	for i := 0; i < maxFields && w.state == walkRunning; i++ {
		w.step()
	}
	// A decision stands whatever the counting walk finds after it.
	if w.decided != 0 {
		w.state = w.decided
	}
	if w.state == walkRunning {
		if w.off == w.end {
			w.state = walkDone
		} else {
			w.state = walkPartial
		}
	}
	switch w.state {
	case walkDone:
		if r.action != PassAll && (w.npay > 0 || r.action == DropAll) {
			return ReasonDrop, w.npay
		}
		return ReasonPass, w.npay
	case walkAllowed:
		return ReasonPass, w.npay
	case walkPartial:
		return ReasonPartial, w.npay
	}
	return ReasonMalformed, w.npay
}

const (
	walkRunning = iota
	walkDone
	walkAllowed
	walkPartial
	walkMalformed
)

// walk mirrors struct sc_walk and walk_step: one top-level protobuf field
// per step, decoded from a window of at most 24 bytes.
type walk struct {
	frame    []byte
	rule     *compiledRule
	off, end uint32
	npay     int
	state    int
	decided  int  // walkAllowed or walkPartial once decided, else 0
	count    bool // keep walking after the decision, only counting
}

// varint mirrors win_varint over win[:avail].
func varint(win []byte, avail uint32, pos *uint32, max int) (uint64, bool) {
	var v uint64
	p := *pos
	for k := 0; k < 10; k++ {
		if k >= max || p >= avail {
			return 0, false
		}
		b := win[p]
		p++
		v |= uint64(b&0x7f) << (7 * k)
		if b&0x80 == 0 {
			*pos = p
			return v, true
		}
	}
	return 0, false
}

func (w *walk) step() {
	off, end := w.off, w.end
	if off >= end {
		if off == end {
			w.state = walkDone
		} else {
			w.state = walkMalformed
		}
		return
	}
	avail := min(end-off, window)
	win := w.frame[off : off+avail]
	var pos uint32
	key, ok := varint(win, avail, &pos, 5)
	if !ok || key>>3 == 0 {
		w.state = walkMalformed
		return
	}
	switch key & 7 {
	case 0:
		if _, ok := varint(win, avail, &pos, 10); !ok {
			w.state = walkMalformed
			return
		}
	case 1:
		pos += 8
	case 5:
		pos += 4
	case 2:
		l, ok := varint(win, avail, &pos, 5)
		if !ok || l > uint64(end-off-pos) {
			w.state = walkMalformed
			return
		}
		body := pos
		pos += uint32(l)
		if key == 0x0a {
			q, lim := body, min(body+uint32(l), avail)
			w.npay++
			if w.decided != 0 || w.rule.action < Allow {
				break
			}
			k1, ok1 := varint(win, lim, &q, 1)
			vid, ok2 := uint64(0), false
			k2, ok3 := uint64(0), false
			mt, ok4 := uint64(0), false
			if ok1 && k1 == 0x08 {
				vid, ok2 = varint(win, lim, &q, 5)
			}
			if ok2 {
				k2, ok3 = varint(win, lim, &q, 1)
			}
			if ok3 && k2 == 0x10 {
				mt, ok4 = varint(win, lim, &q, 5)
			}
			if !ok4 {
				w.decided = walkPartial
			} else if !w.rule.denies(vid, mt) {
				w.decided = walkAllowed
			}
			if w.decided != 0 && !w.count {
				w.state = w.decided
				return
			}
		}
	default:
		w.state = walkMalformed
		return
	}
	if pos > end-off {
		w.state = walkMalformed
		return
	}
	w.off = off + pos
}
