/* BPF-only parsing helpers over a header cursor.
 *
 * The same code serves the XDP program and the socket filter: every read
 * goes through sc_load(), which is bpf_xdp_load_bytes() in XDP (it follows
 * the fragments of multi-buffer frames) and bpf_skb_load_bytes() in the
 * socket filter (it follows the skb's pages). Offsets are scalars relative to
 * the start of the Ethernet frame; no packet pointer is ever advanced, so the
 * verifier's state stays small (see the payload walk below).
 */
#ifndef SIECAP_PARSING_H
#define SIECAP_PARSING_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "shared.h"

/* SC_DIRECT: the programs read the packet directly where they can. The
 * hardened build (SC_HARDENED, for loaders without CAP_PERFMON) reads it
 * only through helpers: without CAP_PERFMON the verifier applies its
 * Spectre v1 rules and refuses a packet pointer plus a register, which the
 * direct reads need wherever an offset is not a constant. */
#ifdef SC_HARDENED
#define SC_DIRECT 0
#else
#define SC_DIRECT 1
#endif

/* sc_word is the width of values the compiler may spill: 8 bytes in the
 * hardened build, which is compiled for -mcpu=v2 (no 32-bit
 * subregisters) so that every spill is 8 bytes wide: without CAP_PERFMON
 * the verifier of Linux 6.1 refuses any store narrower than 8 bytes into
 * a stack slot that holds a spilled register. */
#ifdef SC_HARDENED
typedef __u64 sc_word;
#else
typedef __u32 sc_word;
#endif

#define SC_ETH_P_8021Q 0x8100
#define SC_ETH_P_8021AD 0x88A8

/* Where skb->data starts relative to the Ethernet header in the socket
 * filter: 0 on an AF_PACKET SOCK_RAW socket (the data starts at the MAC
 * header), ETH_HLEN under BPF_PROG_TEST_RUN (the data starts after it). Set
 * at load time. */
volatile const __u32 skb_data_offset = 0;

/* hdr_cursor: the program context and the frame's length. */
struct hdr_cursor {
	void *ctx;
	__u32 len;  /* frame length from the Ethernet header */
	__u32 off;  /* current offset */
};

/* sc_u64 loads 8 bytes at p with one instruction: clang-14 would load an
 * unaligned-looking pointer byte by byte. Unaligned loads are fine on the
 * JITs that run these programs (x86-64, arm64), and the verifier allows
 * them without BPF_F_STRICT_ALIGNMENT. */
#define sc_u64(p) (*(const __u64 *)__builtin_assume_aligned((p), 8))

/* sc_load_bytes reads n bytes at off with the helper. */
static __always_inline long sc_load_bytes(void *ctx, bool xdp, __u32 off, void *buf, __u32 n)
{
	if (xdp)
		return bpf_xdp_load_bytes(ctx, off, buf, n);
	return bpf_skb_load_bytes(ctx, off - skb_data_offset, buf, n);
}

/* sc_load reads n bytes at off, which is past the Ethernet header. In XDP
 * a read of constant size within the linear part of the frame is a plain
 * packet access (no helper call); anything else, including the fragments
 * of a multi-buffer frame, goes through bpf_xdp_load_bytes. */
static __always_inline long sc_load(void *ctx, bool xdp, __u32 off, void *buf, __u32 n)
{
	if (xdp && SC_DIRECT) {
		if (__builtin_constant_p(n) && off <= 0x3fff) {
			struct xdp_md *x = ctx;
			void *data = (void *)(long)x->data;
			void *data_end = (void *)(long)x->data_end;
			void *p = data + off;

			if (p + n <= data_end) {
				/* Word loads: unaligned packet access is fine
				 * on the JITs that run XDP, and clang would
				 * otherwise copy byte by byte. */
				__builtin_memcpy(buf, __builtin_assume_aligned(p, 8), n);
				return 0;
			}
		}
	}
	return sc_load_bytes(ctx, xdp, off, buf, n);
}

/* sc_load_window reads min(n, SC_WINDOW) bytes at off into b (the rest of
 * b is zero or the packet's next bytes): in XDP three plain loads when
 * the window is in the linear part. */
static __always_inline long sc_load_window(void *ctx, bool xdp, __u32 off, __u32 n, __u64 b[3])
{
	sc_word n1 = (n < SC_WINDOW ? n : SC_WINDOW) - 1;

	if (xdp && SC_DIRECT && off <= 0x3fff) {
		struct xdp_md *x = ctx;
		void *data = (void *)(long)x->data;
		void *data_end = (void *)(long)x->data_end;
		void *p = data + off;

		if (p + SC_WINDOW <= data_end) {
			b[0] = sc_u64(p);
			b[1] = sc_u64(p + 8);
			b[2] = sc_u64(p + 16);
			return 0;
		}
	}
	/* Give the verifier an explicit range for the read's size: Linux
	 * 6.1 does not derive one from the comparison above. */
	asm volatile("" : "+r"(n1));
	if (n1 >= SC_WINDOW)
		return -1;
	return sc_load_bytes(ctx, xdp, off, b, n1 + 1);
}

/* sc_load_ethertype reads the Ethernet header's type field. The socket
 * filter reads it relative to the MAC header, which is always linear. */
static __always_inline long sc_load_ethertype(void *ctx, bool xdp, __be16 *proto)
{
	if (xdp) {
		struct xdp_md *x = ctx;
		void *data = (void *)(long)x->data;
		void *data_end = (void *)(long)x->data_end;

		if (SC_DIRECT && data + ETH_HLEN <= data_end) {
			*proto = *(__be16 *)(data + 12);
			return 0;
		}
		return bpf_xdp_load_bytes(ctx, 12, proto, 2);
	}
	return bpf_skb_load_bytes_relative(ctx, 12, proto, 2, BPF_HDR_START_MAC);
}

/* Result of parsing the frame's headers. */
struct sc_frame {
	__u32 l4;       /* UDP header offset */
	__u32 udp_len;  /* UDP length field */
	__u16 port;     /* destination port, host order */
	__u16 vlan;     /* channel VLAN id, valid if has_vlan */
	__u8 has_vlan;
	__u8 family;    /* 4 or 6 */
	__u8 l3_kind;   /* SC_L3_* */
	__u8 _pad;
	__u8 addr[16];  /* destination address */
};

#define SC_L3_NONE 0   /* not IP, or truncated: not NMSG */
#define SC_L3_UDP 1    /* a UDP header at l4 */
#define SC_L3_OTHER 2  /* IP but not UDP: not NMSG */
#define SC_L3_OPAQUE 3 /* IP fragment or IPv6 extension header: opaque */

/* parse_vlans reads up to two tags in total, counting a tag delivered as
 * metadata (outermost) and inline tags. The channel is the innermost 802.1Q
 * tag; 802.1ad tags are skipped. Returns the ethertype after the tags, or 0
 * if there are more tags than that. */
static __always_inline __u16 parse_vlans(struct hdr_cursor *c, bool xdp, struct sc_frame *f,
					 __u16 meta_proto, __u16 meta_tci, bool has_meta)
{
	__u16 tags = 0;
	__be16 proto;

	if (has_meta) {
		tags = 1;
		if (meta_proto != SC_ETH_P_8021AD) {
			f->vlan = meta_tci & 0x0fff;
			f->has_vlan = 1;
		}
	}
	if (c->len < ETH_HLEN || sc_load_ethertype(c->ctx, xdp, &proto) < 0)
		return 0;
	c->off = ETH_HLEN;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		__u16 p = bpf_ntohs(proto);
		__be16 tag[2];

		if (p != SC_ETH_P_8021Q && p != SC_ETH_P_8021AD)
			return p;
		if (tags >= 2 || c->off + 4 > c->len || sc_load(c->ctx, xdp, c->off, tag, 4) < 0)
			return 0;
		tags++;
		if (p == SC_ETH_P_8021Q) {
			f->vlan = bpf_ntohs(tag[0]) & 0x0fff;
			f->has_vlan = 1;
		}
		proto = tag[1];
		c->off += 4;
	}
	{
		__u16 p = bpf_ntohs(proto);
		if (p == SC_ETH_P_8021Q || p == SC_ETH_P_8021AD)
			return 0;
		return p;
	}
}

struct sc_iphdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct sc_ipv6hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline int parse_ipv4(struct hdr_cursor *c, bool xdp, struct sc_frame *f)
{
	struct sc_iphdr ip;
	__u32 ihl;

	if (c->off + sizeof(ip) > c->len || sc_load(c->ctx, xdp, c->off, &ip, sizeof(ip)) < 0)
		return SC_L3_NONE;
	ihl = (ip.ver_ihl & 0x0f) * 4;
	if ((ip.ver_ihl >> 4) != 4 || ihl < sizeof(ip))
		return SC_L3_NONE;
	f->family = 4;
	__builtin_memcpy(f->addr, ip.daddr, 4);
	if (ip.frag_off & bpf_htons(0x3fff))
		return SC_L3_OPAQUE;
	if (ip.protocol != IPPROTO_UDP)
		return SC_L3_OTHER;
	c->off += ihl;
	return SC_L3_UDP;
}

static __always_inline int parse_ipv6(struct hdr_cursor *c, bool xdp, struct sc_frame *f)
{
	struct sc_ipv6hdr ip6;

	if (c->off + sizeof(ip6) > c->len || sc_load(c->ctx, xdp, c->off, &ip6, sizeof(ip6)) < 0)
		return SC_L3_NONE;
	if ((bpf_ntohl(ip6.ver_tc_flow) >> 28) != 6)
		return SC_L3_NONE;
	f->family = 6;
	__builtin_memcpy(f->addr, ip6.daddr, 16);
	switch (ip6.nexthdr) {
	case IPPROTO_UDP:
		c->off += sizeof(ip6);
		return SC_L3_UDP;
	case 0:   /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return SC_L3_OPAQUE;
	}
	return SC_L3_OTHER;
}

/* The XDP fast path: the common frames (no tag or one 802.1Q tag, IPv4
 * without options or IPv6) parsed at constant offsets after a single bounds
 * check, with no helper call, so the compiler keeps everything in
 * registers. It gives the generic parser's result; any other frame returns
 * -1 and takes the generic parser. */
#define SC_FAST_HDR 80

static __always_inline int fast_ipv4(void *data, __u32 l3, struct sc_frame *f)
{
	const struct sc_iphdr *ip = data + l3;
	const __be16 *udp = data + l3 + sizeof(*ip);

	if (ip->ver_ihl != 0x45)
		return -1;
	f->family = 4;
	__builtin_memcpy(f->addr, ip->daddr, 4);
	if (ip->frag_off & bpf_htons(0x3fff))
		return SC_L3_OPAQUE;
	if (ip->protocol != IPPROTO_UDP)
		return SC_L3_OTHER;
	f->l4 = l3 + sizeof(*ip);
	f->port = bpf_ntohs(udp[1]);
	f->udp_len = bpf_ntohs(udp[2]);
	return SC_L3_UDP;
}

static __always_inline int fast_ipv6(void *data, __u32 l3, struct sc_frame *f)
{
	const struct sc_ipv6hdr *ip6 = data + l3;
	const __be16 *udp = data + l3 + sizeof(*ip6);

	if ((ip6->ver_tc_flow & bpf_htonl(0xf0000000)) != bpf_htonl(0x60000000) ||
	    ip6->nexthdr != IPPROTO_UDP)
		return -1;
	f->family = 6;
	__builtin_memcpy(f->addr, ip6->daddr, 16);
	f->l4 = l3 + sizeof(*ip6);
	f->port = bpf_ntohs(udp[1]);
	f->udp_len = bpf_ntohs(udp[2]);
	return SC_L3_UDP;
}

static __always_inline int fast_l3(void *data, __be16 proto, __u32 l3, struct sc_frame *f)
{
	if (proto == bpf_htons(ETH_P_IP))
		return fast_ipv4(data, l3, f);
	if (proto == bpf_htons(ETH_P_IPV6))
		return fast_ipv6(data, l3, f);
	if (proto == bpf_htons(SC_ETH_P_8021Q) || proto == bpf_htons(SC_ETH_P_8021AD))
		return -1;
	return SC_L3_NONE;
}

static __always_inline int parse_xdp_fast(struct xdp_md *x, struct sc_frame *f)
{
	void *data = (void *)(long)x->data;
	void *data_end = (void *)(long)x->data_end;
	__be16 proto;

	if (data + SC_FAST_HDR > data_end)
		return -1;
	proto = *(__be16 *)(data + 12);
	if (proto != bpf_htons(SC_ETH_P_8021Q))
		return fast_l3(data, proto, ETH_HLEN, f);
	f->vlan = bpf_ntohs(*(__be16 *)(data + 14)) & 0x0fff;
	f->has_vlan = 1;
	return fast_l3(data, *(__be16 *)(data + 16), ETH_HLEN + 4, f);
}

/* parse_udp reads the UDP header at the cursor. */
static __always_inline int parse_udp(struct hdr_cursor *c, bool xdp, struct sc_frame *f)
{
	__be16 udp[4];

	if (c->off + 8 > c->len || sc_load(c->ctx, xdp, c->off, udp, 8) < 0)
		return -1;
	f->l4 = c->off;
	f->port = bpf_ntohs(udp[1]);
	f->udp_len = bpf_ntohs(udp[2]);
	c->off += 8;
	return 0;
}

#endif
