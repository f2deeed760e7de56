/* Types and constants shared by the BPF programs and user space.
 *
 * Every struct is fixed-width and explicitly padded: bpf2go generates the Go
 * twins of these structs from the object's BTF, and a Go test checks that
 * both sides agree on sizes and offsets.
 */
#ifndef SIECAP_SHARED_H
#define SIECAP_SHARED_H

#include <linux/types.h>

/* Counter slots: slot 0 holds traffic on no configured channel. */
#define SC_MAX_SLOTS 512
/* VLAN and address/port keys of all channels together, at most. */
#define SC_MAX_KEYS 1023
/* Discovery entries (LRU). */
#define SC_MAX_DISCOVERY 4096
/* Protobuf fields walked per container before giving up (PARTIAL). */
#define SC_MAX_FIELDS 1024
/* Bytes read per walk step: key(5) + len(5) + 08 vid(5) 10 msgtype(5). */
#define SC_WINDOW 24

/* Verdicts: the second index of the counters. */
enum sc_verdict {
	SC_V_PASS = 0,         /* NMSG passed by the channel's rule */
	SC_V_DROP = 1,         /* NMSG dropped by the channel's rule */
	SC_V_OPAQUE = 2,       /* ZLIB/FRAGMENT container, IP fragment, IPv6 extension header: passed */
	SC_V_PARTIAL = 3,      /* not every payload could be read: passed */
	SC_V_MALFORMED = 4,    /* NMSG magic, but a bad header or protobuf: passed */
	SC_V_NOT_NMSG = 5,     /* not NMSG: passed */
	SC_V_DROP_DEFAULT = 6, /* dropped by a setting (unconfigured NMSG, or not NMSG on a channel) */
	SC_V_COUNT = 7,
};

/* Channel rule actions. */
enum sc_action {
	SC_A_PASS_ALL = 0,
	SC_A_DROP_ALL = 1,
	SC_A_ALLOW = 2, /* pass payloads whose (vid, msgtype) is listed */
	SC_A_DENY = 3,  /* drop payloads whose (vid, msgtype) is listed */
};

/* sc_rule.flags and sc_dir.flags */
#define SC_F_DROP_NOT_NMSG 0x01    /* drop IP traffic on this channel that is not NMSG */
#define SC_F_DROP_UNCONFIGURED 0x02 /* (directory) drop NMSG on no configured channel */
#define SC_F_COUNT_PAYLOADS 0x04    /* walk every flags-0 container to count its payloads */

/* Value of a rule entry of the channel table: which counters a channel
 * uses and its rule. The (vid, msgtype) set is a bitmap over vid < 256 and
 * msgtype < 256; vid_all marks vendors listed without a type (all their
 * types). */
struct sc_rule {
	__u32 slot;   /* counter slot, 1..SC_MAX_SLOTS-1 */
	__u8 action;  /* enum sc_action */
	__u8 flags;   /* SC_F_* */
	__u16 _pad;
	__u64 vid_all[4];
	__u64 pairs[1024];
};

/* The channel table is one ARRAY map whose values are sc_rule-sized
 * entries: entry 0 is the directory (struct sc_dir), entries
 * SC_E_ADDR..SC_E_RULE-1 hold the address hash table (SC_ADDR_PER_ENTRY
 * struct sc_addr_slot each), and entries from SC_E_RULE on hold the rules.
 * A frame costs one directory read and, for an address, a few probes: no
 * hashing of long keys in the kernel. */
#define SC_E_DIR 0
#define SC_E_ADDR 1
#define SC_ADDR_PER_ENTRY 256
#define SC_ADDR_BITS 12
#define SC_ADDR_SLOTS (1 << SC_ADDR_BITS)
#define SC_ADDR_PROBES 8
#define SC_E_RULE (SC_E_ADDR + SC_ADDR_SLOTS / SC_ADDR_PER_ENTRY)
#define SC_ENTRIES (SC_E_RULE + SC_MAX_SLOTS - 1)

/* The directory: a frame's VLAN indexes vlan[] directly. */
struct sc_dir {
	__u16 vlan[4096]; /* rule entry of the VLAN's channel, 0 if none */
	__u32 flags;      /* SC_F_DROP_UNCONFIGURED */
	__u32 seed;       /* of the address hash (sc_addr_hash) */
	__u8 _pad[sizeof(struct sc_rule) - 8192 - 8];
};

/* One slot of the address hash table (linear probing, at most
 * SC_ADDR_PROBES probes from a key's home slot; family 0 marks an empty
 * slot and ends a probe sequence). */
struct sc_addr_slot {
	__u8 addr[16]; /* destination address; IPv4 in the first 4 bytes */
	__u16 port;    /* UDP destination port, host byte order */
	__u8 family;   /* 4 or 6; 0: empty */
	__u8 _pad;
	__u16 entry;   /* rule entry of the channel */
	__u16 _pad2;
};

/* One entry of the channel table. */
union sc_entry {
	struct sc_rule rule;
	struct sc_dir dir;
	struct sc_addr_slot addr[SC_ADDR_PER_ENTRY];
};

/* Per-CPU counters of one slot, indexed by enum sc_verdict. Payloads counts
 * the payloads (top-level 0a fields) the program read: every payload of a
 * dropped container; for a passed container, those up to its first allowed
 * payload, or all of them with SC_F_COUNT_PAYLOADS. */
struct sc_counters {
	__u64 packets[8];
	__u64 bytes[8];
	__u64 payloads[8];
};

/* Key of the discovery map: NMSG seen on no configured channel. */
struct sc_disc_key {
	__u16 vlan;    /* VLAN id, valid if has_vlan */
	__u8 has_vlan;
	__u8 family;   /* 4 or 6 */
	__u16 port;    /* UDP destination port, host byte order */
	__u16 _pad;
	__u8 addr[16];
};

struct sc_disc_val {
	__u64 packets;
	__u64 bytes;
};

#endif
