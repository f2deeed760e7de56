//go:build ignore

/* siecap's kernel pre-filter: one parser compiled into an XDP program
 * (multi-buffer, for jumbo frames), its device-bound variant that reads the
 * VLAN tag a NIC stripped, and a socket filter for AF_PACKET sockets. */

#include "include/parsing.h"

char LICENSE[] SEC("license") = "GPL";

/* The channel map: VLAN ids, destination address/port pairs and the
 * defaults entry, each mapping to a rule. User space builds a whole new map
 * for every change and swaps it into channels[0] with one update, so a
 * packet (which fetches the inner map once) sees either the old set or the
 * new one. */
struct chan_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_MAX_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sc_chan_key);
	__type(value, struct sc_rule);
};

/* The template of the inner maps. Declaring it as a map makes clang-14 emit
 * the full key and value types into BTF (it leaves them forward-declared
 * when they are reached only through __array); programs never use it, so
 * the loader never creates it. */
struct chan_map channels_template SEC(".maps");

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


static long walk_xdp(__u32 i, void *data)
{
	return walk_step(data, true);
}

static long walk_skb(__u32 i, void *data)
{
	return walk_step(data, false);
}

static __always_inline const struct sc_rule *lookup_vlan(void *chans, __u16 vlan)
{
	struct sc_chan_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.kind = SC_K_VLAN;
	k.vlan = vlan;
	return bpf_map_lookup_elem(chans, &k);
}

static __always_inline const struct sc_rule *lookup_addr(void *chans, const struct sc_frame *f)
{
	struct sc_chan_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.kind = SC_K_ADDR;
	k.family = f->family;
	k.port = f->port;
	__builtin_memcpy(k.addr, f->addr, 16);
	return bpf_map_lookup_elem(chans, &k);
}

static __always_inline bool drop_unconfigured(void *chans)
{
	struct sc_chan_key k;
	const struct sc_rule *d;

	if (!chans)
		return false;
	__builtin_memset(&k, 0, sizeof(k));
	k.kind = SC_K_DEFAULTS;
	d = bpf_map_lookup_elem(chans, &k);
	return d && (d->flags & SC_F_DROP_UNCONFIGURED);
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

	struct sc_walk w = {
		.ctx = c->ctx,
		.rule = rule,
		.off = data + 10,
		.end = data + 10 + n,
		.count = rule->flags & SC_F_COUNT_PAYLOADS,
	};
	bpf_loop(SC_MAX_FIELDS, xdp ? (void *)walk_xdp : (void *)walk_skb, &w, 0);
	*npay = w.npay;
	/* A decision stands whatever the counting walk finds after it. */
	if (w.decided)
		w.state = w.decided;
	if (w.state == SC_W_RUNNING)
		w.state = w.off == w.end ? SC_W_DONE : SC_W_PARTIAL;
	switch (w.state) {
	case SC_W_DONE:
		if (rule->action == SC_A_PASS_ALL)
			return SC_V_PASS;
		return w.npay || rule->action == SC_A_DROP_ALL ? SC_V_DROP : SC_V_PASS;
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
	__u32 zero = 0, verdict, npay = 0, slot;
	void *chans;
	int l3 = SC_L3_NONE;
	__u16 proto;

	__builtin_memset(&f, 0, sizeof(f));
	chans = bpf_map_lookup_elem(&channels, &zero);
	proto = parse_vlans(&c, xdp, &f, meta_proto, meta_tci, has_meta);
	if (proto == ETH_P_IP)
		l3 = parse_ipv4(&c, xdp, &f);
	else if (proto == ETH_P_IPV6)
		l3 = parse_ipv6(&c, xdp, &f);
	if (chans && f.has_vlan)
		rule = lookup_vlan(chans, f.vlan);
	if (l3 == SC_L3_UDP && parse_udp(&c, xdp, &f) < 0)
		l3 = SC_L3_NONE;
	if (chans && !rule && l3 == SC_L3_UDP)
		rule = lookup_addr(chans, &f);

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
			verdict = drop_unconfigured(chans) ? SC_V_DROP_DEFAULT : SC_V_PASS;
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
