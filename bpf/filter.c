//go:build ignore

/* siecap's kernel pre-filter: one parser compiled into an XDP program
 * (multi-buffer, for jumbo frames), its device-bound variant that reads the
 * VLAN tag a NIC stripped, and a socket filter for AF_PACKET sockets. */

#include "include/walk.h"

char LICENSE[] SEC("license") = "GPL";


/* The channel table (see shared.h): the directory, the address hash
 * table and the rules. User space builds a whole new table for every change
 * and swaps it into channels[0] with one update, so a packet (which fetches
 * the table once) sees either the old set or the new one. */
struct chan_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_ENTRIES);
	__type(key, __u32);
	__type(value, union sc_entry);
};

/* A BTF anchor: clang-14 emits a type that the programs reach only
 * through pointers as a forward declaration if it meets the pointer first
 * (through __array, or a local of a function), and the loader needs the
 * inner maps' value type complete to size them; bpf2go generates the Go
 * twins from it too. A member by value is always emitted complete, and a
 * map's value type is emitted when the map is, so this map's value keeps
 * union sc_entry (and all it holds) complete. Programs never use it, so
 * the loader never creates it. */
struct sc_btf_anchor {
	union sc_entry entry;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_btf_anchor);
} btf_anchor SEC(".maps");

_Static_assert(sizeof(union sc_entry) == sizeof(struct sc_rule), "rules set the entry size");
_Static_assert(sizeof(struct sc_dir) == sizeof(struct sc_rule), "the directory fills an entry");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct chan_map);
} channels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct sc_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SC_MAX_DISCOVERY);
	__type(key, struct sc_disc_key);
	__type(value, struct sc_disc_val);
} discovery SEC(".maps");

/* Scratch buffers of the payload walk: entry CPU for XDP, scratch_cpus +
 * CPU for the socket filter (a socket filter run in process context can be
 * interrupted by XDP on the same CPU; the busy flag covers the rest). Load
 * sizes the map to the possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sc_scratch);
} scratch SEC(".maps");

volatile const __u32 scratch_cpus = 1;

#ifdef SC_HARDENED
/* sc_field decodes the field at the walk's offset in scratch entry idx
 * (see walk_step). Returns 0 if the walk stops there; otherwise 1, with
 * bit 1 set and the payload's vid and mt in bits 16..24 and 32..40 for
 * the rule to judge. */
__attribute__((noinline)) __u64 sc_field(__u32 idx, __u32 classify)
{
	struct sc_scratch *s = bpf_map_lookup_elem(&scratch, &idx);
	struct sc_pos *p;

	if (!s)
		return 0;
	p = &s->pos;
	if (!walk_field(s, classify, p))
		return 0;
	return 1 | (__u64)(p->judge & 1) << 1 | (__u64)(p->vid & 0x1ff) << 16 | (__u64)(p->mt & 0x1ff) << 32;
}
#endif

static long walk_cb_xdp(__u32 i, void *ctx)
{
	return walk_loop(ctx, SC_FAST_FIELDS_XDP);
}

static long walk_cb_skb(__u32 i, void *ctx)
{
	return walk_loop(ctx, SC_FAST_FIELDS_SKB);
}

/* rule_at returns the rule of entry e, or NULL if e names no rule. */
static __always_inline const struct sc_rule *rule_at(void *chans, __u32 e)
{
#ifdef SC_HARDENED
	/* One lookup, whose NULL the caller tests once: without CAP_PERFMON
	 * the verifier also follows, as if mispredicted, every branch whose
	 * outcome it knows, and Linux before 6.17 refuses the dereference
	 * of a pointer it knows to be NULL even there. A key past the map's
	 * end finds nothing. */
	sc_word k = e >= SC_E_RULE && e < SC_ENTRIES ? e : SC_ENTRIES;

	return bpf_map_lookup_elem(chans, &k);
#else
	const union sc_entry *v;

	if (e < SC_E_RULE || e >= SC_ENTRIES)
		return NULL;
	v = bpf_map_lookup_elem(chans, &e);
	return v ? &v->rule : NULL;
#endif
}

/* sc_addr_hash is the address table's hash; bpf/table.go has its twin.
 * Multiply-shift: each word (and the seeded port and family) is
 * multiplied by its own odd constant, the products are XORed, and the top
 * SC_ADDR_BITS bits are the home slot. The products are independent, so
 * the CPU computes them side by side, and no finalizer follows: the top
 * bits of a product already depend on every bit of its word. */
static __always_inline __u32 sc_addr_hash(__u32 seed, const __u32 w[4], __u16 port, __u8 family)
{
	__u32 h = (seed ^ ((__u32)port << 8 | family)) * 0x27220a95;

	h ^= w[0] * 0x9e3779b1 ^ w[1] * 0x85ebca77 ^ w[2] * 0xc2b2ae3d ^ w[3] * 0x27d4eb2f;
	return h >> (32 - SC_ADDR_BITS);
}

/* addr_entry returns the rule entry of the frame's destination address
 * and port, or 0. */
static __always_inline __u32 addr_entry(void *chans, const struct sc_dir *dir, const struct sc_frame *f)
{
	__u32 w[4], h;
	__u64 a0, a1;
	sc_word key;

	__builtin_memcpy(w, f->addr, 16);
	__builtin_memcpy(&a0, f->addr, 8);
	__builtin_memcpy(&a1, f->addr + 8, 8);
	h = sc_addr_hash(dir->seed, w, f->port, f->family);
	/* A loop, not unrolled: a frame seldom needs a second probe, and the
	 * socket filter must stay small. The hardened build unrolls it:
	 * without CAP_PERFMON the verifiers of Linux 6.1 and 6.12 lose the
	 * counter's bound and report an infinite loop. */
#ifdef SC_HARDENED
#pragma unroll
#else
#pragma clang loop unroll(disable)
#endif
	for (int p = 0; p < SC_ADDR_PROBES; p++) {
		__u32 s = (h + p) & (SC_ADDR_SLOTS - 1);
		const union sc_entry *v;
		const struct sc_addr_slot *sl;

		/* One key for every probe, 8 bytes wide in the hardened build
		 * (see sc_word; the map reads the low 4 bytes of this
		 * little-endian word). */
		key = SC_E_ADDR + s / SC_ADDR_PER_ENTRY;
		v = bpf_map_lookup_elem(chans, &key);

		if (!v)
			return 0;
		sl = &v->addr[s % SC_ADDR_PER_ENTRY];
		if (!sl->family)
			return 0;
		if (sl->family == f->family && sl->port == f->port &&
		    sc_u64(sl->addr) == a0 && sc_u64(sl->addr + 8) == a1)
			return sl->entry;
	}
	return 0;
}

static __always_inline void discover(const struct sc_frame *f, __u32 len)
{
	struct sc_disc_key k;
	struct sc_disc_val *v, nv = {1, len};

	__builtin_memset(&k, 0, sizeof(k));
	k.vlan = f->vlan;
	k.has_vlan = f->has_vlan;
	k.family = f->family;
	k.port = f->port;
	__builtin_memcpy(k.addr, f->addr, 16);
	v = bpf_map_lookup_elem(&discovery, &k);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
		return;
	}
	bpf_map_update_elem(&discovery, &k, &nv, BPF_NOEXIST);
}

static __always_inline __u32 not_nmsg(const struct sc_rule *rule)
{
	return rule && (rule->flags & SC_F_DROP_NOT_NMSG) ? SC_V_DROP_DEFAULT : SC_V_NOT_NMSG;
}

/* classify_nmsg decides a UDP datagram whose payload starts with the NMSG
 * magic on a channel with an allow or deny rule, or with a pass-all or
 * drop-all rule that counts payloads (SC_F_COUNT_PAYLOADS). */
static __always_inline __u32 classify_nmsg(struct hdr_cursor *c, bool xdp, const struct sc_frame *f,
					   const struct sc_rule *rule, __u32 *npay)
{
	__u32 data = f->l4 + 8;
	__u8 hdr[10];
	__u32 n;

	if (f->udp_len < 18 || f->l4 + f->udp_len > c->len ||
	    sc_load(c->ctx, xdp, data, hdr, sizeof(hdr)) < 0)
		return SC_V_MALFORMED;
	n = (__u32)hdr[6] << 24 | (__u32)hdr[7] << 16 | (__u32)hdr[8] << 8 | hdr[9];
	if (hdr[5] != 2 || (hdr[4] & ~3) || n != f->udp_len - 18)
		return SC_V_MALFORMED;
	if (hdr[4])
		return SC_V_OPAQUE;

	struct sc_pos p = {};
	__u32 body = data + 10, left = SC_MAX_FIELDS;
	bool count = rule->flags & SC_F_COUNT_PAYLOADS;

	if (n == 0) {
		p.state = SC_W_DONE;
		goto decide;
	}
	/* The first field from its first 8 bytes (in XDP straight from the
	 * packet): a container whose first payload decides costs no copy.
	 * The hardened build walks every field from the copy: its verifier
	 * would check the walk below once for each way this one ends. */
	if (!SC_DIRECT)
		goto copy;
	{
		__u64 v = 0;
		long err = -1;
		__u32 k;

		if (xdp && body <= 0x3fff) {
			struct xdp_md *x = c->ctx;
			void *pkt = (void *)(long)x->data + body;

			if (pkt + 8 <= (void *)(long)x->data_end) {
				v = sc_u64(pkt);
				err = 0;
			}
		} else if (!xdp && body + 8 <= c->len) {
			err = sc_load_bytes(c->ctx, false, body, &v, 8);
		}
		if (!err && (k = walk_fast(rule, &p, v, n, rule->action >= SC_A_ALLOW))) {
			p.o = k;
			left--;
			if (p.decided && !count) {
				p.state = p.decided;
				goto decide;
			}
			if (p.o == n) {
				p.state = SC_W_DONE;
				goto decide;
			}
		}
	}
	/* The rest, from a copy of the body. */
copy:
	{
		__u32 idx = bpf_get_smp_processor_id() + (xdp ? 0 : scratch_cpus);
		sc_word n1 = n - 1;
		struct sc_scratch *s = bpf_map_lookup_elem(&scratch, &idx);
		struct sc_walk w = {.rule = rule, .s = s, .idx = idx};

		sc_opaque(n1);
		if (!s || s->busy || n1 >= SC_BUF_MASK) {
			p.state = SC_W_PARTIAL;
			goto decide;
		}
		s->busy = 1;
		if (sc_load_bytes(c->ctx, xdp, body, s->buf, n1 + 1) < 0) {
			s->busy = 0;
			return SC_V_MALFORMED;
		}
		s->off = p.o;
		s->end = n;
		s->npay = p.npay;
		s->decided = p.decided;
		s->state = SC_W_RUNNING;
		s->left = left;
		bpf_loop(SC_MAX_FIELDS, xdp ? (void *)walk_cb_xdp : (void *)walk_cb_skb, &w, 0);
		p.o = s->off;
		p.npay = s->npay;
		p.decided = s->decided;
		p.state = s->state;
		s->busy = 0;
	}
decide:
	*npay = p.npay;
	/* A decision stands whatever the counting walk finds after it. */
	if (p.decided)
		p.state = p.decided;
	if (p.state == SC_W_RUNNING)
		p.state = p.o == n ? SC_W_DONE : SC_W_PARTIAL;
	switch (p.state) {
	case SC_W_DONE:
		if (rule->action == SC_A_PASS_ALL)
			return SC_V_PASS;
		return p.npay || rule->action == SC_A_DROP_ALL ? SC_V_DROP : SC_V_PASS;
	case SC_W_ALLOWED:
		return SC_V_PASS;
	case SC_W_PARTIAL:
		return SC_V_PARTIAL;
	}
	return SC_V_MALFORMED;
}

/* count adds a frame to the counters of slot and verdict. */
static __always_inline int count(__u32 slot, __u32 verdict, __u32 len, __u32 npay)
{
	struct sc_counters *cnt;

	if (slot >= SC_MAX_SLOTS)
		slot = 0;
	cnt = bpf_map_lookup_elem(&counters, &slot);
	if (cnt) {
		verdict &= 7;
		cnt->packets[verdict]++;
		cnt->bytes[verdict] += len;
		cnt->payloads[verdict] += npay;
	}
	return 0;
}

#ifdef SC_HARDENED
/* In the hardened build, a global function: the verifier sees its
 * arguments as unknown scalars, while at an inline counter update it
 * would see a constant verdict on some paths and a computed one on
 * others, and without CAP_PERFMON it refuses one pointer addition that
 * is sanitised two ways. */
__attribute__((noinline)) int sc_count(__u32 slot, __u32 verdict, __u32 len, __u32 npay)
{
	return count(slot, verdict, len, npay);
}
#else
#define sc_count count
#endif

/* is_nmsg reports whether a UDP datagram starts with the NMSG magic. */
static __always_inline bool is_nmsg(void *ctx, bool xdp, __u32 len, const struct sc_frame *f)
{
	__u8 magic[4];
	__u32 data = f->l4 + 8;

	return f->udp_len >= 12 && data + 4 <= len && sc_load(ctx, xdp, data, magic, 4) == 0 &&
	       magic[0] == 'N' && magic[1] == 'M' && magic[2] == 'S' && magic[3] == 'G';
}

/* verdict_none decides a frame on no configured channel; dflags are the
 * directory's flags (0 without a table). */
static __always_inline __u32 verdict_none(void *ctx, bool xdp, __u32 len, const struct sc_frame *f,
					  int l3, __u32 dflags)
{
	switch (l3) {
	case SC_L3_UDP:
		if (!is_nmsg(ctx, xdp, len, f))
			return SC_V_NOT_NMSG;
		discover(f, len);
		return dflags & SC_F_DROP_UNCONFIGURED ? SC_V_DROP_DEFAULT : SC_V_PASS;
	case SC_L3_OPAQUE:
		return SC_V_OPAQUE;
	}
	return SC_V_NOT_NMSG;
}

/* verdict_rule decides a frame on the channel of rule. */
static __always_inline __u32 verdict_rule(void *ctx, bool xdp, __u32 len, const struct sc_frame *f,
					  int l3, const struct sc_rule *rule, __u32 *npay)
{
	struct hdr_cursor c = {.ctx = ctx, .len = len};

	switch (l3) {
	case SC_L3_UDP:
		if (!is_nmsg(ctx, xdp, len, f))
			return not_nmsg(rule);
		if (rule->action == SC_A_PASS_ALL && !(rule->flags & SC_F_COUNT_PAYLOADS))
			return SC_V_PASS;
		if (rule->action == SC_A_DROP_ALL && !(rule->flags & SC_F_COUNT_PAYLOADS))
			return SC_V_DROP;
		return classify_nmsg(&c, xdp, f, rule, npay);
	case SC_L3_OTHER:
		return not_nmsg(rule);
	case SC_L3_OPAQUE:
		return SC_V_OPAQUE;
	}
	return SC_V_NOT_NMSG;
}

/* decide classifies a parsed frame against the current channel table,
 * counts it and returns true if it is to be dropped. Every pointer that
 * may be NULL is tested once, where it is fetched (see rule_at). */
static __always_inline bool decide(void *ctx, bool xdp, __u32 len, const struct sc_frame *f, int l3)
{
	const union sc_entry *d;
	const struct sc_rule *rule;
	__u32 zero = 0, verdict, npay = 0, slot = 0, dflags = 0, e = 0;
	void *chans;

	chans = bpf_map_lookup_elem(&channels, &zero);
	if (!chans)
		goto none;
	d = bpf_map_lookup_elem(chans, &zero);
	if (!d)
		goto none;
	dflags = d->dir.flags;
	if (f->has_vlan)
		e = d->dir.vlan[f->vlan & 0x0fff];
	if (!e && l3 == SC_L3_UDP)
		e = addr_entry(chans, &d->dir, f);
	rule = rule_at(chans, e);
	if (!rule)
		goto none;
	verdict = verdict_rule(ctx, xdp, len, f, l3, rule, &npay);
	slot = rule->slot;
	goto count;
none:
	verdict = verdict_none(ctx, xdp, len, f, l3, dflags);
count:
	sc_count(slot, verdict, len, npay);
	return verdict == SC_V_DROP || verdict == SC_V_DROP_DEFAULT;
}

#ifdef SC_HARDENED
/* The hardened build decides in a global function, which the verifier
 * checks once from a clean state: the frame arrives packed in scalars
 * (a global function takes no pointer but the context), so the parser's
 * many paths do not multiply the decision's. */
static __always_inline bool decide_packed(void *ctx, bool xdp, __u64 a0, __u64 a1, __u64 geom,
					  __u64 key)
{
	struct sc_frame f;

	__builtin_memset(&f, 0, sizeof(f));
	f.l4 = geom & 0xffff;
	f.udp_len = (geom >> 32) & 0xffff;
	f.family = (geom >> 48) & 0xff;
	f.port = (key >> 32) & 0xffff;
	f.vlan = (key >> 48) & 0x0fff;
	f.has_vlan = (key >> 60) & 1;
	__builtin_memcpy(f.addr, &a0, 8);
	__builtin_memcpy(f.addr + 8, &a1, 8);
	return decide(ctx, xdp, key & 0xffffffff, &f, (geom >> 56) & 0xff);
}

__attribute__((noinline)) int sc_decide_xdp(struct xdp_md *ctx, __u64 a0, __u64 a1, __u64 geom, __u64 key)
{
	return decide_packed(ctx, true, a0, a1, geom, key);
}

__attribute__((noinline)) int sc_decide_skb(struct __sk_buff *ctx, __u64 a0, __u64 a1, __u64 geom, __u64 key)
{
	return decide_packed(ctx, false, a0, a1, geom, key);
}
#endif

/* classify parses the frame's headers and returns true if it is to be
 * dropped. */
static __always_inline bool classify(void *ctx, bool xdp, __u32 len, __u16 meta_proto,
				     __u16 meta_tci, bool has_meta)
{
	struct hdr_cursor c = {.ctx = ctx, .len = len};
	struct sc_frame f;
	int l3 = -1;
	__u16 proto;

	__builtin_memset(&f, 0, sizeof(f));
	if (SC_DIRECT && xdp && !has_meta)
		l3 = parse_xdp_fast(ctx, &f);
	if (l3 < 0) {
		__builtin_memset(&f, 0, sizeof(f));
		l3 = SC_L3_NONE;
		proto = parse_vlans(&c, xdp, &f, meta_proto, meta_tci, has_meta);
		if (proto == ETH_P_IP)
			l3 = parse_ipv4(&c, xdp, &f);
		else if (proto == ETH_P_IPV6)
			l3 = parse_ipv6(&c, xdp, &f);
		if (l3 == SC_L3_UDP && parse_udp(&c, xdp, &f) < 0)
			l3 = SC_L3_NONE;
	}
#ifdef SC_HARDENED
	{
		__u64 a0, a1, geom, key;

		__builtin_memcpy(&a0, f.addr, 8);
		__builtin_memcpy(&a1, f.addr + 8, 8);
		geom = (__u64)(f.l4 & 0xffff) | (__u64)f.udp_len << 32 | (__u64)f.family << 48 |
		       (__u64)(l3 & 0xff) << 56;
		key = len | (__u64)f.port << 32 | (__u64)(f.vlan & 0x0fff) << 48 | (__u64)(f.has_vlan & 1) << 60;
		if (xdp)
			return sc_decide_xdp(ctx, a0, a1, geom, key);
		return sc_decide_skb(ctx, a0, a1, geom, key);
	}
#else
	return decide(ctx, xdp, len, &f, l3);
#endif
}

SEC("xdp.frags")
int siecap_xdp(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);

	return classify(ctx, true, len, 0, 0, false) ? XDP_DROP : XDP_PASS;
}

extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

/* Device-bound variant (Linux 6.8+): the VLAN tag a NIC stripped comes from
 * the driver's metadata. Loaded only on request, bound to one ifindex. */
SEC("xdp.frags")
int siecap_xdp_vlanmeta(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__be16 proto = 0;
	__u16 tci = 0;
	bool has = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0;

	return classify(ctx, true, len, bpf_ntohs(proto), tci, has) ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int siecap_socket(struct __sk_buff *skb)
{
	__u32 len = skb->len + skb_data_offset;
	bool has = skb->vlan_present;

	return classify(skb, false, len, bpf_ntohs(skb->vlan_proto), skb->vlan_tci, has) ? 0 : skb->len;
}

/* Baselines for the benchmarks: the cheapest programs of each type. */
SEC("xdp.frags")
int baseline_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("socket")
int baseline_socket(struct __sk_buff *skb)
{
	return skb->len;
}
