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
/* Keys in one channel map: VLAN ids plus address/port pairs plus defaults. */
#define SC_MAX_KEYS 1024
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

/* sc_rule.flags */
#define SC_F_DROP_NOT_NMSG 0x01    /* drop IP traffic on this channel that is not NMSG */
#define SC_F_DROP_UNCONFIGURED 0x02 /* (defaults entry) drop NMSG on no configured channel */
#define SC_F_COUNT_PAYLOADS 0x04    /* walk every flags-0 container to count its payloads */

/* sc_chan_key.kind */
#define SC_K_VLAN 1
#define SC_K_ADDR 2
#define SC_K_DEFAULTS 3

/* Key of the channel map. Unused fields are zero. */
struct sc_chan_key {
	__u8 kind;
	__u8 family;  /* 4 or 6 for SC_K_ADDR */
	__u16 port;   /* UDP destination port, host byte order */
	__u16 vlan;   /* VLAN id for SC_K_VLAN */
	__u16 _pad;
	__u8 addr[16]; /* destination address; IPv4 in the first 4 bytes */
};

/* Value of the channel map: which counters a channel uses and its rule.
 * The (vid, msgtype) set is a bitmap over vid < 256 and msgtype < 256;
 * vid_all marks vendors listed without a type (all their types). */
struct sc_rule {
	__u32 slot;   /* counter slot, 1..SC_MAX_SLOTS-1 */
	__u8 action;  /* enum sc_action */
	__u8 flags;   /* SC_F_* */
	__u16 _pad;
	__u64 vid_all[4];
	__u64 pairs[1024];
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
