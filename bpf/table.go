package bpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// The kernel's channel table (include/shared.h): one array map of
// rule-sized entries. Entry 0 is the directory (a rule entry per VLAN id,
// the defaults' flags and the address hash's seed), entries
// tableAddr..tableRule-1 hold an open-addressing hash table of destination
// address/port keys, and each channel's rule has an entry from tableRule
// on. A frame costs a directory read and a few probes instead of a kernel
// hash of a 24-byte key.
const (
	tableDir       = 0
	tableAddr      = 1
	addrPerEntry   = 256
	addrBits       = 12
	addrSlots      = 1 << addrBits
	addrProbes     = 8
	tableRule      = tableAddr + addrSlots/addrPerEntry
	tableEntries   = tableRule + maxSlots - 1
	addrSeedTrials = 256
)

// addrHash is sc_addr_hash: it hashes the address as four little-endian
// words (the byte order the BPF programs load them in).
func addrHash(seed uint32, k addrKey) uint32 {
	le := binary.LittleEndian
	h := (seed ^ (uint32(k.port)<<8 | uint32(k.family))) * 0x27220a95
	h ^= le.Uint32(k.addr[0:])*0x9e3779b1 ^ le.Uint32(k.addr[4:])*0x85ebca77 ^
		le.Uint32(k.addr[8:])*0xc2b2ae3d ^ le.Uint32(k.addr[12:])*0x27d4eb2f
	return h >> (32 - addrBits)
}

// placedAddr is an address key in its slot of the hash table.
type placedAddr struct {
	slot uint16
	key  addrKey
	rule *compiledRule
}

// addrTable is the hash table's contents: the seed that places every key
// within addrProbes probes of its home slot, and where each key went.
type addrTable struct {
	seed   uint32
	placed []placedAddr
}

// buildAddrTable places the keys by linear probing, trying seeds until each
// key lands within addrProbes slots of its home. Keys are placed in a fixed
// order, so a Config always gives the same table.
func buildAddrTable(addrs map[addrKey]*compiledRule) (addrTable, error) {
	keys := make([]addrKey, 0, len(addrs))
	for k := range addrs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b addrKey) int {
		if a.family != b.family {
			return int(a.family) - int(b.family)
		}
		if a.port != b.port {
			return int(a.port) - int(b.port)
		}
		return bytes.Compare(a.addr[:], b.addr[:])
	})
	var used [addrSlots]bool
	placed := make([]placedAddr, 0, len(keys))
seeds:
	for seed := uint32(0); seed < addrSeedTrials; seed++ {
		clear(used[:])
		placed = placed[:0]
		for _, k := range keys {
			h := addrHash(seed, k)
			ok := false
			for p := range uint32(addrProbes) {
				s := (h + p) & (addrSlots - 1)
				if !used[s] {
					used[s], ok = true, true
					placed = append(placed, placedAddr{slot: uint16(s), key: k, rule: addrs[k]})
					break
				}
			}
			if !ok {
				continue seeds
			}
		}
		return addrTable{seed: seed, placed: placed}, nil
	}
	return addrTable{}, fmt.Errorf("%w: cannot place %d addresses in the kernel's table of %d slots", ErrConfig, len(keys), addrSlots)
}
