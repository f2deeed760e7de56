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

/* The template of the inner maps. Declaring it as a map makes clang-14 emit
 * the full key and value types into BTF (it leaves them forward-declared
 * when they are reached only through __array); programs never use it, so
 * the loader never creates it. */
struct chan_map channels_template SEC(".maps");

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

static long walk_cb_xdp(__u32 i, void *ctx)
{
	return walk_loop(ctx, SC_FAST_FIELDS_XDP);
}

static long walk_cb_skb(__u32 i, void *ctx)
{
	return walk_loop(ctx, SC_FAST_FIELDS_SKB);
}

static __always_inline const struct sc_rule *rule_at(void *chans, __u32 e)
{
	const union sc_entry *v;

	if (e < SC_E_RULE || e >= SC_ENTRIES)
		return NULL;
	v = bpf_map_lookup_elem(chans, &e);
	return v ? &v->rule : NULL;
}

static __always_inline const struct sc_rule *lookup_vlan(void *chans, const struct sc_dir *dir,
							 __u16 vlan)
{
	return rule_at(chans, dir->vlan[vlan & 0x0fff]);
}

/* sc_addr_hash is the address table's hash; bpf/table.go has its twin.
 * Each word is multiplied on its own (the products are independent, so
 * the CPU computes them side by side), then murmur3's finalizer spreads
 * every bit over the slot index. */
static __always_inline __u32 sc_addr_hash(__u32 seed, const __u32 w[4], __u16 port, __u8 family)
{
	__u32 h = seed ^ ((__u32)port << 8 | family);

	h ^= w[0] * 0x9e3779b1 ^ w[1] * 0x85ebca77 ^ w[2] * 0xc2b2ae3d ^ w[3] * 0x27d4eb2f;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

static __always_inline const struct sc_rule *lookup_addr(void *chans, const struct sc_dir *dir,
							 const struct sc_frame *f)
{
	__u32 w[4], h;
	__u64 a0, a1;

	__builtin_memcpy(w, f->addr, 16);
	__builtin_memcpy(&a0, f->addr, 8);
	__builtin_memcpy(&a1, f->addr + 8, 8);
	h = sc_addr_hash(dir->seed, w, f->port, f->family);
	/* A loop, not unrolled: a frame seldom needs a second probe, and the
	 * socket filter must stay small. */
#pragma clang loop unroll(disable)
	for (int p = 0; p < SC_ADDR_PROBES; p++) {
		__u32 s = (h + p) & (SC_ADDR_SLOTS - 1);
		__u32 e = SC_E_ADDR + s / SC_ADDR_PER_ENTRY;
		const union sc_entry *v = bpf_map_lookup_elem(chans, &e);
		const struct sc_addr_slot *sl;

		if (!v)
			return NULL;
		sl = &v->addr[s % SC_ADDR_PER_ENTRY];
		if (!sl->family)
			return NULL;
		if (sl->family == f->family && sl->port == f->port &&
		    sc_u64(sl->addr) == a0 && sc_u64(sl->addr + 8) == a1)
			return rule_at(chans, sl->entry);
	}
	return NULL;
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
	 * packet): a container whose first payload decides costs no copy. */
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
	{
		__u32 idx = bpf_get_smp_processor_id() + (xdp ? 0 : scratch_cpus), n1 = n - 1;
		struct sc_scratch *s = bpf_map_lookup_elem(&scratch, &idx);
		struct sc_walk w = {.rule = rule, .s = s};

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

/* classify returns true if the frame is to be dropped. */
static __always_inline bool classify(void *ctx, bool xdp, __u32 len, __u16 meta_proto,
				     __u16 meta_tci, bool has_meta)
{
	struct hdr_cursor c = {.ctx = ctx, .len = len};
	struct sc_frame f;
	const struct sc_rule *rule = NULL;
	struct sc_counters *cnt;
	const struct sc_dir *dir = NULL;
	__u32 zero = 0, verdict, npay = 0, slot;
	void *chans;
	int l3 = -1;
	__u16 proto;

	__builtin_memset(&f, 0, sizeof(f));
	chans = bpf_map_lookup_elem(&channels, &zero);
	if (chans) {
		const union sc_entry *v = bpf_map_lookup_elem(chans, &zero);

		dir = v ? &v->dir : NULL;
	}
	if (xdp && !has_meta)
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
	if (dir && f.has_vlan)
		rule = lookup_vlan(chans, dir, f.vlan);
	if (dir && !rule && l3 == SC_L3_UDP)
		rule = lookup_addr(chans, dir, &f);

	switch (l3) {
	case SC_L3_UDP: {
		__u8 magic[4];
		__u32 data = f.l4 + 8;

		if (f.udp_len < 12 || data + 4 > len || sc_load(ctx, xdp, data, magic, 4) < 0 ||
		    magic[0] != 'N' || magic[1] != 'M' || magic[2] != 'S' || magic[3] != 'G') {
			verdict = not_nmsg(rule);
			break;
		}
		if (!rule) {
			discover(&f, len);
			verdict = dir && (dir->flags & SC_F_DROP_UNCONFIGURED) ? SC_V_DROP_DEFAULT : SC_V_PASS;
			break;
		}
		if (rule->action == SC_A_PASS_ALL && !(rule->flags & SC_F_COUNT_PAYLOADS))
			verdict = SC_V_PASS;
		else if (rule->action == SC_A_DROP_ALL && !(rule->flags & SC_F_COUNT_PAYLOADS))
			verdict = SC_V_DROP;
		else
			verdict = classify_nmsg(&c, xdp, &f, rule, &npay);
		break;
	}
	case SC_L3_OTHER:
		verdict = not_nmsg(rule);
		break;
	case SC_L3_OPAQUE:
		verdict = SC_V_OPAQUE;
		break;
	default:
		verdict = SC_V_NOT_NMSG;
	}

	slot = rule ? rule->slot : 0;
	if (slot >= SC_MAX_SLOTS)
		slot = 0;
	cnt = bpf_map_lookup_elem(&counters, &slot);
	if (cnt) {
		verdict &= 7;
		cnt->packets[verdict]++;
		cnt->bytes[verdict] += len;
		cnt->payloads[verdict] += npay;
	}
	return verdict == SC_V_DROP || verdict == SC_V_DROP_DEFAULT;
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
