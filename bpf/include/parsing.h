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

/* sc_load reads n bytes at off, which is past the Ethernet header. In XDP
 * a read of constant size within the linear part of the frame is a plain
 * packet access (no helper call); anything else, including the fragments
 * of a multi-buffer frame, goes through bpf_xdp_load_bytes. */
static __always_inline long sc_load(void *ctx, bool xdp, __u32 off, void *buf, __u32 n)
{
	if (xdp) {
		if (__builtin_constant_p(n) && off <= 0x3fff) {
			struct xdp_md *x = ctx;
			void *data = (void *)(long)x->data;
			void *data_end = (void *)(long)x->data_end;
			void *p = data + off;

			if (p + n <= data_end) {
				__builtin_memcpy(buf, p, n);
				return 0;
			}
		}
		return bpf_xdp_load_bytes(ctx, off, buf, n);
	}
	return bpf_skb_load_bytes(ctx, off - skb_data_offset, buf, n);
}

/* sc_load_ethertype reads the Ethernet header's type field. The socket
 * filter reads it relative to the MAC header, which is always linear. */
static __always_inline long sc_load_ethertype(void *ctx, bool xdp, __be16 *proto)
{
	if (xdp)
		return bpf_xdp_load_bytes(ctx, 12, proto, 2);
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

/* ---- The payload walk ----
 *
 * The walk reads the top-level protobuf fields of an Nmsg body one per
 * bpf_loop iteration. Each step copies a SC_WINDOW-byte window at a scalar
 * offset into three registers and decodes varints from them by shifting:
 * no packet pointer and no variable stack offset is involved, so the
 * verifier checks one iteration once, and the program loads with CAP_BPF
 * alone. */

struct sc_walk {
	void *ctx;
	const struct sc_rule *rule;
	__u32 off;
	__u32 end;
	__u32 npay;
	__u32 state;
	__u32 decided; /* SC_W_ALLOWED or SC_W_PARTIAL once decided, else 0 */
	__u32 count;   /* keep walking after the decision, only counting */
};

#define SC_W_RUNNING 0
#define SC_W_DONE 1      /* every field read, every payload denied */
#define SC_W_ALLOWED 2   /* a payload is allowed: stop */
#define SC_W_PARTIAL 3   /* a payload does not start with vid and msgtype */
#define SC_W_MALFORMED 4 /* bad protobuf */

static __always_inline __u32 win_byte(__u64 w0, __u64 w1, __u64 w2, __u32 i)
{
	__u64 w = i < 8 ? w0 : (i < 16 ? w1 : w2);

	return (w >> ((i & 7) * 8)) & 0xff;
}

/* win_varint decodes a varint of at most max bytes at *pos, within avail
 * bytes. Returns 0, or -1 if it is longer or runs past avail. */
static __always_inline int win_varint(__u64 w0, __u64 w1, __u64 w2, __u32 avail, __u32 *pos,
				      __u64 *val, int max)
{
	__u64 v = 0;
	__u32 p = *pos;

#pragma unroll
	for (int k = 0; k < 10; k++) {
		__u32 b;

		if (k >= max || p >= avail)
			return -1;
		b = win_byte(w0, w1, w2, p);
		p++;
		v |= (__u64)(b & 0x7f) << (7 * k);
		if (!(b & 0x80)) {
			*pos = p;
			*val = v;
			return 0;
		}
	}
	return -1;
}

/* sc_opaque hides a value's range from the compiler, so that a mask
 * written after it stays in the program: Linux 6.1's verifier needs the
 * mask to bound a map value index that the compiler knows is in range. */
#define sc_opaque(x) asm volatile("" : "+r"(x))

static __always_inline bool rule_denies(const struct sc_rule *r, __u64 vid, __u64 mt)
{
	bool listed = false;

	if (vid < 256) {
		__u64 vi = vid;

		sc_opaque(vi);
		if (r->vid_all[(vi >> 6) & 3] & (1ULL << (vi & 63))) {
			listed = true;
		} else if (mt < 256) {
			__u64 bit = vid << 8 | mt;

			sc_opaque(bit);
			listed = (r->pairs[(bit >> 6) & 1023] >> (bit & 63)) & 1;
		}
	}
	return r->action == SC_A_ALLOW ? !listed : listed;
}

static __always_inline long walk_step(struct sc_walk *w, bool xdp)
{
	__u64 b[3] = {0, 0, 0};
	__u32 off = w->off, end = w->end, avail, pos = 0;
	__u64 key, v;

	if (off >= end) {
		w->state = off == end ? SC_W_DONE : SC_W_MALFORMED;
		return 1;
	}
	avail = end - off;
	if (avail > SC_WINDOW)
		avail = SC_WINDOW;
	/* Give the verifier an explicit range for the read's size: Linux
	 * 6.1 does not derive one from the comparisons above. */
	{
		__u32 n1 = avail - 1;

		sc_opaque(n1);
		if (n1 >= SC_WINDOW || sc_load(w->ctx, xdp, off, b, n1 + 1) < 0) {
			w->state = SC_W_MALFORMED;
			return 1;
		}
	}
	if (win_varint(b[0], b[1], b[2], avail, &pos, &key, 5) < 0 || (key >> 3) == 0)
		goto malformed;
	switch (key & 7) {
	case 0:
		if (win_varint(b[0], b[1], b[2], avail, &pos, &v, 10) < 0)
			goto malformed;
		break;
	case 1:
		pos += 8;
		break;
	case 5:
		pos += 4;
		break;
	case 2: {
		__u64 len;
		__u32 body;

		if (win_varint(b[0], b[1], b[2], avail, &pos, &len, 5) < 0)
			goto malformed;
		if (len > end - off - pos)
			goto malformed;
		body = pos;
		pos += (__u32)len;
		if (key == 0x0a) {
			__u64 vid, mt, k1, k2;
			__u32 q = body, lim = body + (__u32)len;

			if (lim > avail)
				lim = avail;
			w->npay++;
			if (w->decided || w->rule->action < SC_A_ALLOW)
				goto next;
			if (win_varint(b[0], b[1], b[2], lim, &q, &k1, 1) < 0 || k1 != 0x08 ||
			    win_varint(b[0], b[1], b[2], lim, &q, &vid, 5) < 0 ||
			    win_varint(b[0], b[1], b[2], lim, &q, &k2, 1) < 0 || k2 != 0x10 ||
			    win_varint(b[0], b[1], b[2], lim, &q, &mt, 5) < 0)
				w->decided = SC_W_PARTIAL;
			else if (!rule_denies(w->rule, vid, mt))
				w->decided = SC_W_ALLOWED;
			if (w->decided && !w->count) {
				w->state = w->decided;
				return 1;
			}
		}
		break;
	}
	default:
		goto malformed;
	}
next:
	if (pos > end - off)
		goto malformed;
	w->off = off + pos;
	return 0;
malformed:
	w->state = SC_W_MALFORMED;
	return 1;
}

#endif
