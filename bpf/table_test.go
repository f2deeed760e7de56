package bpf

import (
	"net/netip"
	"testing"
)

// manyAddrs returns n distinct IPv4 and IPv6 destinations from the
// benchmarking ranges.
func manyAddrs(n int) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, n)
	for i := range n {
		if i%2 == 0 {
			out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 8430))
		} else {
			a := [16]byte{0x20, 0x01, 0x00, 0x02}
			a[14], a[15] = byte(i>>8), byte(i)
			out = append(out, netip.AddrPortFrom(netip.AddrFrom16(a), uint16(8430+i%3)))
		}
	}
	return out
}

func TestAddrTablePlacesEveryKey(t *testing.T) {
	addrs := manyAddrs(maxKeys)
	rs, err := Compile(Config{Channels: []Channel{{ID: 1, Addrs: addrs}}})
	if err != nil {
		t.Fatalf("compile %d addresses: %v", len(addrs), err)
	}
	if len(rs.table.placed) != len(addrs) {
		t.Fatalf("%d keys placed, want %d", len(rs.table.placed), len(addrs))
	}
	slots := map[uint16]bool{}
	for _, p := range rs.table.placed {
		if slots[p.slot] {
			t.Fatalf("slot %d used twice", p.slot)
		}
		slots[p.slot] = true
		home := addrHash(rs.table.seed, p.key) & (addrSlots - 1)
		if d := (uint32(p.slot) - home) & (addrSlots - 1); d >= addrProbes {
			t.Errorf("key %+v in slot %d, %d probes from its home %d", p.key, p.slot, d+1, home)
		}
		if p.rule.entry != tableRule {
			t.Errorf("key %+v points at entry %d, want %d", p.key, p.rule.entry, tableRule)
		}
	}
	again, err := Compile(Config{Channels: []Channel{{ID: 1, Addrs: addrs}}})
	if err != nil {
		t.Fatal(err)
	}
	if again.table.seed != rs.table.seed {
		t.Fatalf("seed %d, then %d: the table is not deterministic", rs.table.seed, again.table.seed)
	}
	for i := range rs.table.placed {
		if again.table.placed[i].slot != rs.table.placed[i].slot || again.table.placed[i].key != rs.table.placed[i].key {
			t.Fatalf("placement %d differs between two compilations", i)
		}
	}
}

func TestCompileRejectsTooManyKeys(t *testing.T) {
	if _, err := Compile(Config{Channels: []Channel{{ID: 1, Addrs: manyAddrs(maxKeys + 1)}}}); err == nil {
		t.Fatalf("compiled %d keys, the limit is %d", maxKeys+1, maxKeys)
	}
}
