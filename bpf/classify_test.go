package bpf

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// udpFrame builds an untagged IPv4/UDP frame to dst carrying payload.
func udpFrame(dst netip.AddrPort, payload []byte) []byte {
	f := make([]byte, 14+20+8, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14] = 0x45
	binary.BigEndian.PutUint16(f[16:], uint16(28+len(payload)))
	f[23] = 17
	a := dst.Addr().As4()
	copy(f[30:], a[:])
	binary.BigEndian.PutUint16(f[36:], dst.Port())
	binary.BigEndian.PutUint16(f[38:], uint16(8+len(payload)))
	return append(f, payload...)
}

// vector1 is nmsg.md's vector 1: payloads 2/1 then 1/7.
var vector1, _ = hex.DecodeString("4e4d534700020000002c0a190802100118c1b2bbd40525249c491e2a02500138cf85e88d0a0a0f08011007180125000000002a021001")

func TestClassifyRules(t *testing.T) {
	dst := netip.MustParseAddrPort("198.18.32.255:8430")
	frame := udpFrame(dst, vector1)
	for _, tc := range []struct {
		name string
		rule Rule
		want Verdict
	}{
		{"allow first", Rule{Action: Allow, Types: []Type{{Vendor: 2, MsgType: 1}}}, Verdict{Reason: ReasonPass, Channel: 7, Payloads: 1}},
		{"allow second", Rule{Action: Allow, Types: []Type{{Vendor: 1, MsgType: 7}}}, Verdict{Reason: ReasonPass, Channel: 7, Payloads: 2}},
		{"allow none", Rule{Action: Allow, Types: []Type{{Vendor: 2, MsgType: 5}}}, Verdict{Drop: true, Reason: ReasonDrop, Channel: 7, Payloads: 2}},
		{"deny both", Rule{Action: Deny, Types: []Type{{Vendor: 2, MsgType: 1}, {Vendor: 1, AnyType: true}}}, Verdict{Drop: true, Reason: ReasonDrop, Channel: 7, Payloads: 2}},
		{"deny one", Rule{Action: Deny, Types: []Type{{Vendor: 2, MsgType: 1}}}, Verdict{Reason: ReasonPass, Channel: 7, Payloads: 2}},
		{"drop all", Rule{Action: DropAll}, Verdict{Drop: true, Reason: ReasonDrop, Channel: 7}},
		{"pass all", Rule{Action: PassAll}, Verdict{Reason: ReasonPass, Channel: 7}},
		{"drop all counted", Rule{Action: DropAll, CountPayloads: true}, Verdict{Drop: true, Reason: ReasonDrop, Channel: 7, Payloads: 2}},
		{"pass all counted", Rule{Action: PassAll, CountPayloads: true}, Verdict{Reason: ReasonPass, Channel: 7, Payloads: 2}},
		{"allow first counted", Rule{Action: Allow, Types: []Type{{Vendor: 2, MsgType: 1}}, CountPayloads: true}, Verdict{Reason: ReasonPass, Channel: 7, Payloads: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Compile(Config{Channels: []Channel{{ID: 7, Addrs: []netip.AddrPort{dst}, Rule: tc.rule}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := Classify(frame, 0, false, rs); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := Classify(frame, 0, false, nil); got != (Verdict{Reason: ReasonPass}) {
		t.Fatalf("no config: %+v", got)
	}
}

func TestClassifyMetadataVLAN(t *testing.T) {
	rs, err := Compile(Config{Channels: []Channel{{ID: 3, VLANs: []uint16{204}, Rule: Rule{Action: DropAll}}}})
	if err != nil {
		t.Fatal(err)
	}
	frame := udpFrame(netip.MustParseAddrPort("198.18.0.2:8430"), vector1)
	if got := Classify(frame, 204, true, rs); !got.Drop || got.Channel != 3 {
		t.Fatalf("metadata tag 204: %+v", got)
	}
	if got := Classify(frame, 205, true, rs); got.Drop || got.Channel != 0 {
		t.Fatalf("metadata tag 205: %+v", got)
	}
}

func TestCompileRejects(t *testing.T) {
	ap := netip.MustParseAddrPort("198.18.0.1:8430")
	for name, cfg := range map[string]Config{
		"id 0":         {Channels: []Channel{{ID: 0}}},
		"duplicate id": {Channels: []Channel{{ID: 1}, {ID: 1}}},
		"vlan 0":       {Channels: []Channel{{ID: 1, VLANs: []uint16{0}}}},
		"vlan 4095":    {Channels: []Channel{{ID: 1, VLANs: []uint16{4095}}}},
		"shared vlan":  {Channels: []Channel{{ID: 1, VLANs: []uint16{5}}, {ID: 2, VLANs: []uint16{5}}}},
		"shared addr":  {Channels: []Channel{{ID: 1, Addrs: []netip.AddrPort{ap}}, {ID: 2, Addrs: []netip.AddrPort{ap}}}},
		"bad action":   {Channels: []Channel{{ID: 1, Rule: Rule{Action: 9}}}},
	} {
		if _, err := Compile(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Compile returned %v, want ErrConfig", name, err)
		}
	}
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	rs, err := Compile(Config{Channels: []Channel{{ID: 1, VLANs: []uint16{9}, Rule: Rule{Action: Allow}}}})
	if err != nil {
		t.Fatal(err)
	}
	frame := udpFrame(netip.MustParseAddrPort("198.18.0.2:8430"), vector1)
	if n := testing.AllocsPerRun(100, func() { Classify(frame, 9, true, rs) }); n != 0 {
		t.Fatalf("Classify allocates %v times per call", n)
	}
}

// FuzzClassify feeds arbitrary frames to the reference classifier: it must
// never panic, and its verdict must be self-consistent.
func FuzzClassify(f *testing.F) {
	dst := netip.MustParseAddrPort("198.18.32.255:8430")
	f.Add(udpFrame(dst, vector1), uint16(0), false)
	f.Add(udpFrame(dst, vector1), uint16(100), true)
	rs, err := Compile(Config{Channels: []Channel{
		{ID: 1, VLANs: []uint16{100}, Rule: Rule{Action: Deny, Types: []Type{{Vendor: 2, MsgType: 1}}}},
		{ID: 2, Addrs: []netip.AddrPort{dst}, Rule: Rule{Action: Allow, Types: []Type{{Vendor: 1, MsgType: 7}}, DropNotNMSG: true}},
	}, DropUnconfigured: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, frame []byte, vlan uint16, hasVLAN bool) {
		v := Classify(frame, vlan, hasVLAN, rs)
		if v.Drop != v.Reason.Drops() || v.Reason >= NumReasons || v.Payloads < 0 || v.Payloads > len(frame) {
			t.Fatalf("inconsistent verdict %+v", v)
		}
		if v.Channel != 0 && v.Channel != 1 && v.Channel != 2 {
			t.Fatalf("unknown channel in %+v", v)
		}
	})
}
