// Package bpf is siecap's kernel pre-filter: eBPF programs that drop NMSG
// traffic nobody subscribed to before it costs anything, and count exactly
// what they dropped.
//
// # Programs
//
// One parser (filter.c, include/parsing.h, include/walk.h) is compiled into
// three programs that share the maps. Minimum kernels:
//
//   - siecap_xdp, an xdp.frags program (multi-buffer, so it attaches at MTU
//     9000 where drivers support it: i40e, ice, mlx5, veth). Linux 6.1.
//   - siecap_xdp_vlanmeta, its device-bound variant that reads a VLAN tag the
//     NIC stripped through the bpf_xdp_metadata_rx_vlan_tag kfunc. Linux 6.8;
//     AttachXDP falls back to siecap_xdp where it cannot load. Linux 6.12
//     and 6.18 oops when the bound device is unregistered while such a
//     program is loaded: detach it before removing the interface.
//   - siecap_socket, a socket filter for AF_PACKET SOCK_RAW capture sockets,
//     for every driver at every MTU (ixgbe refuses native XDP at MTU 9000).
//     The VLAN tag comes from __sk_buff->vlan_tci. Linux 6.1. Linux before
//     6.9 charges a socket filter to the socket's option memory and refuses
//     one larger than net.core.optmem_max (20 KiB by default on 6.1: about
//     2,550 instructions), so this program is kept small (it unrolls less
//     of the payload walk than XDP); a test holds it under 2,450.
//
// The programs use nothing newer than 6.1 (bpf_loop, bpf_xdp_load_bytes,
// bpf_xdp_get_buff_len, BTF maps, map-in-map, global functions), are
// compiled for -mcpu=v3 (no ISA v4) and need no tcx.
//
// # Builds
//
// filter.c is compiled twice (gen.go), and Load picks by the loading
// thread's capabilities (Options.Build overrides):
//
//   - the direct build, for a loader holding CAP_PERFMON or CAP_SYS_ADMIN
//     beside CAP_BPF: it reads headers straight from the packet, decodes
//     several fields per bpf_loop iteration, and keeps its state in
//     registers;
//   - the hardened build (-DSC_HARDENED), for a loader holding CAP_BPF
//     alone, as the packaged systemd unit grants. Without CAP_PERFMON the
//     verifier applies its Spectre mitigations: it refuses a packet
//     pointer plus a register, refuses a pointer addition whose masking
//     differs between the paths that reach it, follows as mispredicted
//     every branch whose outcome it knows (Linux before 6.17 then refuses
//     to dereference even a pointer it knows to be NULL), prunes no path
//     whose scalars differ, and on Linux 6.1 refuses a store narrower
//     than 8 bytes over a spilled register. So this build reads the
//     packet only through bpf_xdp_load_bytes and bpf_skb_load_bytes,
//     decides in global functions that the verifier checks once from
//     unknown scalar arguments (sc_decide_xdp and sc_decide_skb take the
//     parsed frame packed in scalars; sc_count; sc_field decodes one
//     field per bpf_loop iteration from the scratch copy, sc_varint one
//     varint), tests every pointer that may be NULL once, where it is
//     fetched, and is compiled for -mcpu=v2 so that every spill is 8
//     bytes wide. Its verdicts and counters are the direct build's (the
//     kernel tests run both against the reference); it costs more per
//     frame (docs/benchmarks.md). Filter.Build says which one is loaded,
//     and the daemon reports it.
//
// The number of states the verifier explores for the direct build varies
// from kernel to kernel, even between point releases (docs/benchmarks.md
// has the counts). If a kernel's verifier refuses it, Load with BuildAuto
// loads the hardened build instead, and Filter.Fallback returns the
// refusal, which the daemon logs as a warning.
//
// # Classification
//
// A frame's channel is its innermost 802.1Q VLAN tag (an outer 802.1ad tag
// is skipped; at most two tags in total, a metadata tag counting as the
// outermost) when that VLAN is configured, else its IPv4 or IPv6
// destination address and UDP port. For a UDP datagram that starts with the
// NMSG magic on a channel, the channel's Rule decides: PassAll, DropAll, or
// an Allow or Deny list of (vendor, message type) pairs. For a list, the
// header must be valid (version 2, known flags, length matching the
// datagram); containers flagged ZLIB or FRAGMENT pass as opaque; otherwise
// the program walks the container's top-level protobuf fields and reads
// each payload's vendor id and message type (expected as the payload's
// first two fields, as every NMSG encoder writes them). The walk stops at
// the first allowed payload and the container passes; the
// container is dropped only when every field was read and every payload is
// denied. A payload it cannot read makes the container pass (Partial), bad
// protobuf makes it pass (Malformed): user space then filters payload by
// payload, so a wanted payload is never dropped with an unwanted neighbour.
// IP fragments and IPv6 extension headers pass (Opaque). Traffic that is not
// NMSG, or NMSG on no configured channel, passes unless
// Rule.DropNotNMSG or Config.DropUnconfigured says otherwise; traffic that
// is not IP (ARP) always passes. NMSG on no configured channel is recorded
// in the discovery LRU map.
//
// The walk reads at most 1,024 fields (more make the container Partial).
// The first field is decoded from its first 8 bytes (in XDP straight from
// the packet, in the socket filter with one 8-byte load), so a container
// whose first payload is allowed costs no copy; otherwise the body is
// copied once into a per-CPU scratch buffer (map scratch: one entry per
// possible CPU for XDP, one for the socket filter) with one helper call,
// and bpf_loop walks the copy, several fields per iteration on a fast path
// that takes the common field shapes (one-byte keys, varints of up to 7
// bytes, lengths of up to 2 bytes, payloads that start 08 <vid> 10
// <msgtype> with both below 128) and hands every other field to a general
// decoder. Both give the same result; the tests check them against the
// reference on random protobuf.
//
// Classify is a pure-Go reference classifier with exactly these semantics;
// the kernel tests compare the two on random and mutated frames.
//
// # Counters
//
// Per-CPU counters per channel and verdict (Reason): packets, bytes and the
// payloads the program read. Counters reads them summed over CPUs.
//
// Payload counts are exact for every container an Allow or Deny list drops
// (the walk read all of them). Without Rule.CountPayloads the program reads
// no payload on PassAll and DropAll channels (their payload counters stay
// 0) and stops a list's walk at the first allowed payload. With
// Rule.CountPayloads, a per-channel flag that is off by default because it
// costs the walk of every container (see docs/benchmarks.md), the program
// walks every flags-0 container on the channel to its end and counts its
// top-level payload fields (0a), also after a list's decision, so every
// dropped and every passed container's payloads are counted. A DropAll
// channel with CountPayloads drops only what it counted: ZLIB and FRAGMENT
// containers, bad headers and containers it cannot walk pass to user space
// (Opaque, Malformed, Partial), so "payloads dropped by the kernel" is
// exact. The reference classifier counts the same way (Verdict.Payloads).
//
// # Atomic rule changes
//
// All channel and rule state lives in one array map, the channel table,
// held in slot 0 of an ARRAY_OF_MAPS: entry 0 is a directory (the rule entry
// of every VLAN id, indexed directly, the defaults' flags and the seed of
// the address hash), the next 16 entries an open-addressing hash table of
// destination address/port keys (4,096 slots, at most 8 probes; Compile
// picks the seed), and one entry per channel holds its rule. A program
// fetches the table once per frame and does every lookup in it: a directory
// read for a VLAN, a hash and usually one probe for an address, and no
// kernel hashing of long keys. Update builds a complete new inner map from a
// Ruleset and installs it with one BPF_MAP_UPDATE_ELEM on the outer map: a
// frame that started before the swap holds (under RCU) the old map and sees
// only the old rules; a frame that starts after it sees only the new ones.
// No state is shared between the two maps, so no frame can see half of
// each. The kernel also waits for running programs (synchronize_rcu) before
// a map-in-map update returns, so once Update returns no frame uses the old
// set; Update then closes it. Counters are indexed by slots that Update
// assigns per channel ID and keeps across updates, so no count is lost.
//
// # Lifetimes
//
// Load returns a Filter owning its programs, maps and attachments; Close
// detaches every XDP link and socket filter it made and releases all file
// descriptors. Filter methods are safe for concurrent use.
package bpf
