/* The payload walk: the top-level protobuf fields of an Nmsg body.
 *
 * The first field is decoded from its first 8 bytes (in XDP straight from
 * the packet), so a container whose first payload is allowed costs no
 * copy. Otherwise the
 * whole body is copied once, with one helper call, into a per-CPU scratch
 * buffer, and bpf_loop walks the copy: each iteration decodes several fields
 * on a fast path (one 8-byte load per field: a one-byte key, a varint of up
 * to 7 bytes or a length of up to 2 bytes, a payload starting 08 <vid> 10
 * <msgtype> with both below 128) and at most one field on the general path
 * (sc_walk_slow), which reads a SC_WINDOW-byte window and decodes it byte by
 * byte with the exact rules. The fast path only takes fields whose decoding
 * it is sure of and leaves the rest to the general path, so both give the
 * same result.
 *
 * Offsets are scalars masked to the buffer; no packet pointer is advanced.
 * The walk's scalars live in the scratch map value, where the verifier
 * cannot track them: every iteration starts from the same verifier state,
 * so the callback is verified once (or, on kernels that iterate callbacks,
 * converges at once).
 *
 * The hardened build (SC_HARDENED) always copies the body and decodes one
 * field per iteration in the global functions sc_field and sc_varint,
 * with the exact rules; the callback only judges the payload against the
 * rule (see walk_step). */
#ifndef SIECAP_WALK_H
#define SIECAP_WALK_H

#include "parsing.h"

#define SC_W_RUNNING 0
#define SC_W_DONE 1      /* every field read */
#define SC_W_ALLOWED 2   /* a payload is allowed */
#define SC_W_PARTIAL 3   /* a payload does not start with vid and msgtype */
#define SC_W_MALFORMED 4 /* bad protobuf */

/* Fields decoded per bpf_loop iteration on the fast path: XDP unrolls
 * more; the socket filter stays small, because Linux 6.1 charges a socket
 * filter against net.core.optmem_max (20 KiB by default: about 2,550
 * instructions) and refuses a larger one. */
#define SC_FAST_FIELDS_XDP 16
#define SC_FAST_FIELDS_SKB 2

/* Offsets into the scratch buffer are masked to SC_BUF_MASK; any UDP body
 * (at most 65,517 bytes) fits, with room for a window's bytes after it. */
#define SC_BUF_MASK 0xffff
#define SC_BUF_SIZE (SC_BUF_MASK + 1 + SC_WINDOW)

/* A walk's position and results, kept in registers. */
struct sc_pos {
	sc_word o;       /* next field, from the body's start */
	sc_word npay;
	sc_word decided;
	sc_word state;
	sc_word judge;   /* walk_slow read a payload's vid and mt for the rule */
	sc_word vid;     /* below 256, or 256 */
	sc_word mt;      /* below 256, or 256 */
};

/* One CPU's scratch value: the walk's state and the copy of the body. */
struct sc_scratch {
	__u32 off;     /* next field, from the body's start */
	__u32 end;     /* body length */
	__u32 npay;    /* payloads read */
	__u32 state;   /* SC_W_* */
	__u32 decided; /* SC_W_ALLOWED or SC_W_PARTIAL once decided, else 0 */
	__u32 left;    /* fields the walk may still read */
	__u32 busy;    /* a walk on this CPU is using buf */
	__u32 _pad;
	struct sc_pos pos; /* sc_field's */
	__u8 buf[SC_BUF_SIZE];
};

/* bpf_loop's context: the pointers, which the verifier tracks on the
 * stack. */
struct sc_walk {
	const struct sc_rule *rule;
	struct sc_scratch *s;
	__u32 idx; /* s's key in the scratch map */
};

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

/* rule_denies_small is rule_denies for vid < 128 and msgtype < 128: user
 * space also sets a listed vendor's bits in pairs (see writeTable), so one
 * bit decides. */
static __always_inline bool rule_denies_small(const struct sc_rule *r, __u64 vid, __u64 mt)
{
	__u64 bit = vid << 8 | mt;
	bool listed;

	sc_opaque(bit);
	listed = (r->pairs[(bit >> 6) & 511] >> (bit & 63)) & 1;
	return listed ^ (r->action == SC_A_ALLOW);
}

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

#ifdef SC_HARDENED
#define SC_VARINT_ERR (~0ULL)

/* sc_varint is win_varint in a global function, for the hardened build:
 * the verifier checks its paths once, and its caller sees one unknown
 * result instead of a path per varint length. Without CAP_PERFMON the
 * verifier prunes no path whose scalars differ (it must check the Spectre
 * masks of every one; Linux 6.1 hardly prunes at all), so the inline
 * decoder's paths would multiply past its limit. a packs avail, the
 * position and max; returns the value's low 48 bits and the position
 * after it (bits 48..55), or SC_VARINT_ERR. */
__attribute__((noinline)) __u64 sc_varint(__u64 w0, __u64 w1, __u64 w2, __u64 a)
{
	__u32 avail = a & 0xff, pos = (a >> 8) & 0xff, max = (a >> 16) & 0xff, sh;
	__u64 lo, hi, v = 0;

	if (pos >= avail || pos >= SC_WINDOW)
		return SC_VARINT_ERR;
	/* The window from pos on, in two words, with no branch per byte:
	 * without pruning, the verifier would follow every combination of
	 * a per-byte word choice. (x << 1) << (63 - sh) is x << (64 - sh),
	 * and 0 for sh = 0, where a shift by 64 would be undefined. */
	sh = (pos & 7) * 8;
	if (pos < 8) {
		lo = w0 >> sh | (w1 << 1) << (63 - sh);
		hi = w1 >> sh | (w2 << 1) << (63 - sh);
	} else if (pos < 16) {
		lo = w1 >> sh | (w2 << 1) << (63 - sh);
		hi = w2 >> sh;
	} else {
		lo = w2 >> sh;
		hi = 0;
	}
	avail -= pos;
#pragma unroll
	for (int k = 0; k < 10; k++) {
		__u64 b;

		if (k >= max || k >= avail)
			return SC_VARINT_ERR;
		b = (k < 8 ? lo >> (8 * k) : hi >> (8 * (k - 8))) & 0xff;
		v |= (b & 0x7f) << (7 * k);
		if (!(b & 0x80))
			return (v & 0xffffffffffffULL) | (__u64)((pos + k + 1) & 0xff) << 48;
	}
	return SC_VARINT_ERR;
}

static __always_inline int field_varint(__u64 w0, __u64 w1, __u64 w2, __u32 avail, __u32 *pos,
					__u64 *val, int max)
{
	__u64 r = sc_varint(w0, w1, w2, (avail & 0xff) | (__u64)(*pos & 0xff) << 8 | (__u64)max << 16);

	if (r == SC_VARINT_ERR)
		return -1;
	*pos = (r >> 48) & 0xff;
	*val = r & 0xffffffffffffULL;
	return 0;
}
#else
#define field_varint win_varint
#endif

/* walk_fast decodes the field at p->o from its first 8 bytes v, of which
 * rem are the body's (the rest is garbage). With classify, a payload's
 * vendor and type decide (allow says how the rule's list counts). Returns
 * the field's length, or 0 if it is not one of the fast shapes (walk_slow
 * decides it). */
static __always_inline __u32 walk_fast(const struct sc_rule *r, struct sc_pos *p, __u64 v, __u32 rem,
				       bool classify)
{
	__u32 k = v & 0xff, pos, len;

	if (k == 0x0a) {
		/* A payload: a length of one or two bytes. */
		__u32 b1 = (v >> 8) & 0xff;

		if (b1 < 0x80) {
			len = b1;
			pos = 2;
		} else {
			__u32 b2 = (v >> 16) & 0xff;

			if (b2 & 0x80)
				return 0;
			len = (b1 & 0x7f) | b2 << 7;
			pos = 3;
		}
		if (pos + len > rem)
			return 0;
		if (classify) {
			__u64 x = v >> (8 * pos);

			if (len < 4 || (x & 0x80ff80ff) != 0x00100008)
				return 0;
			if (!rule_denies_small(r, (x >> 8) & 0x7f, (x >> 24) & 0x7f))
				p->decided = SC_W_ALLOWED;
		}
		p->npay++;
		return pos + len;
	}
	if (k - 8 >= 0x80 - 8)
		return 0; /* a key of more than one byte, or field number 0 */
	switch (k & 7) {
	case 0: {
		/* Find the varint's last byte with a chain of predictable
		 * branches: the next field's offset then does not wait for
		 * this field's bytes (a computed length would make every
		 * field wait for the previous one's load). */
		__u32 lo = v >> 8, hi = v >> 40;

		if (!(lo & 0x80))
			pos = 2;
		else if (!(lo & 0x8000))
			pos = 3;
		else if (!(lo & 0x800000))
			pos = 4;
		else if (!(lo & 0x80000000))
			pos = 5;
		else if (!(hi & 0x80))
			pos = 6;
		else if (!(hi & 0x8000))
			pos = 7;
		else if (!(hi & 0x800000))
			pos = 8;
		else
			return 0;
		break;
	}
	case 1:
		pos = 9;
		break;
	case 2: {
		__u32 b1 = (v >> 8) & 0xff;

		if (b1 >= 0x80)
			return 0;
		pos = 2 + b1;
		break;
	}
	case 5:
		pos = 5;
		break;
	default:
		return 0;
	}
	if (pos > rem)
		return 0;
	return pos;
}

/* walk_slow decodes the field at p->o from the window b0..b2 (the next
 * min(rem, SC_WINDOW) bytes are the body's) with the exact rules; with
 * classify, a payload's vendor and type go to p->vid and p->mt for the
 * rule (p->judge). Returns the field's length, or 0 with p->state set to
 * SC_W_MALFORMED. */
static __always_inline __u32 walk_slow(bool classify, struct sc_pos *p, __u64 b0, __u64 b1,
				       __u64 b2, __u32 rem)
{
	__u32 avail = rem < SC_WINDOW ? rem : SC_WINDOW, pos = 0;
	__u64 key, v;

	if (field_varint(b0, b1, b2, avail, &pos, &key, 5) < 0 || (key >> 3) == 0)
		goto malformed;
	switch (key & 7) {
	case 0:
		if (field_varint(b0, b1, b2, avail, &pos, &v, 10) < 0)
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

		if (field_varint(b0, b1, b2, avail, &pos, &len, 5) < 0)
			goto malformed;
		if (len > rem - pos)
			goto malformed;
		body = pos;
		pos += (__u32)len;
		if (key != 0x0a)
			break;
		p->npay++;
		if (!p->decided && classify) {
			__u64 vid, mt, k1, k2;
			__u32 q = body, lim = body + (__u32)len;

			if (lim > avail)
				lim = avail;
			if (field_varint(b0, b1, b2, lim, &q, &k1, 1) < 0 || k1 != 0x08 ||
			    field_varint(b0, b1, b2, lim, &q, &vid, 5) < 0 ||
			    field_varint(b0, b1, b2, lim, &q, &k2, 1) < 0 || k2 != 0x10 ||
			    field_varint(b0, b1, b2, lim, &q, &mt, 5) < 0)
				p->decided = SC_W_PARTIAL;
			else {
				p->judge = 1;
				p->vid = vid < 256 ? vid : 256;
				p->mt = mt < 256 ? mt : 256;
			}
		}
		break;
	}
	default:
		goto malformed;
	}
	if (pos > rem)
		goto malformed;
	return pos;
malformed:
	p->state = SC_W_MALFORMED;
	return 0;
}

static __always_inline __u64 buf_u64(const struct sc_scratch *s, __u32 o)
{
	sc_opaque(o);
	o &= SC_BUF_MASK;
	return sc_u64(&s->buf[o]);
}

/* walk_field decodes the field at s->off with walk_slow and updates s,
 * leaving a payload for the rule to judge in p. Returns 0 if the walk
 * stops there (s->state set). */
static __always_inline int walk_field(struct sc_scratch *s, bool classify, struct sc_pos *p)
{
	__u32 o, end, n;

	o = s->off;
	end = s->end;
	if (o >= end) {
		s->state = o == end ? SC_W_DONE : SC_W_MALFORMED;
		return 0;
	}
	p->o = o;
	p->npay = s->npay;
	p->decided = s->decided;
	p->state = SC_W_RUNNING;
	p->judge = 0;
	p->vid = 0;
	p->mt = 0;
	n = walk_slow(classify, p, buf_u64(s, o), buf_u64(s, o + 8), buf_u64(s, o + 16), end - o);
	if (!n) {
		s->state = p->state;
		return 0;
	}
	s->off = o + n;
	s->npay = p->npay;
	s->decided = p->decided;
	return 1;
}

#ifdef SC_HARDENED
/* The hardened build decodes a field in sc_field, a global function (in
 * filter.c, beside the scratch map it fetches by w->idx: a global
 * function's pointer arguments are plain memory to the verifier, which
 * without CAP_PERFMON refuses variable offsets into them). The rule
 * judges the payload here, where w->rule is a map value. */
__u64 sc_field(__u32 idx, __u32 classify);

static __always_inline int walk_step(struct sc_walk *w)
{
	__u64 r = sc_field(w->idx, w->rule->action >= SC_A_ALLOW);

	if (!r)
		return 0;
	if ((r & 2) && !rule_denies(w->rule, (r >> 16) & 0x1ff, (r >> 32) & 0x1ff))
		w->s->decided = SC_W_ALLOWED;
	return 1;
}
#else
/* sc_walk_slow decodes the field at s->off with walk_field and judges
 * it. Returns 0 if the walk stops there. A global function: the verifier
 * checks it once, not at each of the fast loop's call sites. */
__attribute__((noinline)) int sc_walk_slow(const struct sc_rule *r, struct sc_scratch *s)
{
	struct sc_pos p;

	if (!r || !s || !walk_field(s, r->action >= SC_A_ALLOW, &p))
		return 0;
	if (p.judge && !rule_denies(r, p.vid, p.mt))
		s->decided = SC_W_ALLOWED;
	return 1;
}

static __always_inline int walk_step(struct sc_walk *w)
{
	return sc_walk_slow(w->rule, w->s);
}
#endif

static __always_inline void pos_store(struct sc_scratch *s, const struct sc_pos *p)
{
	s->off = p->o;
	s->npay = p->npay;
	s->decided = p->decided;
	s->state = p->state;
}

/* walk_run is one bpf_loop iteration with more than fast fields left: up
 * to fast fields on the fast path, then, if the
 * fast path stopped at a field it does not take, that field with
 * sc_walk_slow. The fast loop makes no call, so its values stay in
 * registers. Returns 1 when the walk stops. */
static __always_inline long walk_run(struct sc_walk *w, bool classify, int fast)
{
	struct sc_scratch *s = w->s;
	const struct sc_rule *r = w->rule;
	struct sc_pos p = {.o = s->off, .npay = s->npay, .decided = s->decided};
	__u32 end = s->end, n, nf;

#pragma unroll
	for (nf = 0; nf < fast; nf++) {
		if (p.o >= end) {
			p.state = p.o == end ? SC_W_DONE : SC_W_MALFORMED;
			goto stop;
		}
		n = walk_fast(r, &p, buf_u64(s, p.o), end - p.o, classify);
		if (!n)
			break;
		p.o += n;
		if (classify && p.decided) {
			nf++;
			goto decided;
		}
	}
	s->left -= nf;
	pos_store(s, &p);
	if (nf == fast)
		return 0;
	/* The field the fast path left. */
	if (!walk_step(w))
		return 1;
	s->left--;
	if (s->decided && !(r->flags & SC_F_COUNT_PAYLOADS)) {
		s->state = s->decided;
		return 1;
	}
	return 0;
decided:
	s->left -= nf;
	if (!(r->flags & SC_F_COUNT_PAYLOADS))
		p.state = p.decided;
	pos_store(s, &p);
	return p.state != SC_W_RUNNING;
stop:
	pos_store(s, &p);
	return 1;
}

/* walk_tail is one bpf_loop iteration near the field limit: one field. */
static __always_inline long walk_tail(struct sc_walk *w)
{
	struct sc_scratch *s = w->s;

	if (!s->left)
		return 1; /* still running: the caller decides */
	if (!walk_step(w))
		return 1;
	s->left--;
	if (s->decided && !(w->rule->flags & SC_F_COUNT_PAYLOADS)) {
		s->state = s->decided;
		return 1;
	}
	return 0;
}

static __always_inline long walk_loop(struct sc_walk *w, int fast)
{
	struct sc_scratch *s = w->s;

	if (!SC_DIRECT)
		return walk_tail(w);

	if (s->left <= fast)
		return walk_tail(w);
	if (!s->decided && w->rule->action >= SC_A_ALLOW)
		return walk_run(w, true, fast);
	return walk_run(w, false, fast);
}

#endif
