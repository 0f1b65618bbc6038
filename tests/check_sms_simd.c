/*
 * check_sms_simd.c - the fast SMS counting paths of issue 16 (one pass,
 * plain runs, SSE2/AVX2 kernels) against a one-code-point-at-a-time
 * reference written here from DESIGN.md §3, on random texts of every
 * class, every length around the vector widths, and invalid UTF-8, under
 * every dispatch level this CPU can be forced to (quota__sms_force_simd).
 */
#include "quota.h"
#include "testutil.h"
#include "sms_int.h"
#include "grapheme_dfa.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reference */

typedef struct rpk {
	int64_t cap, fill, segs, total;
} rpk;

static void rput(rpk *p, int64_t cost)
{
	p->total += cost;
	if (p->fill + cost > p->cap) {
		p->segs++;
		p->fill = cost;
	} else {
		p->fill += cost;
	}
}

/* GSM septets of cp with the default tables (23.038 table 0): 1, 2 or 0. */
static int ref_gsm(uint32_t cp)
{
	uint32_t lm, sm;

	quota__sms_nat_masks(cp, &lm, &sm);
	return (lm & 1) ? 1 : (sm & 1) ? 2 : 0;
}

static int ref_count(const unsigned char *s, size_t len, quota_sms_info *info)
{
	bool gsm = true;
	size_t i;
	uint32_t cp;

	memset(info, 0, sizeof *info);
	info->segments = 1;
	for (i = 0; i < len;) {
		size_t n = quota__u8dec(s, len, i, &cp);
		if (!n) {
			info->error_offset = i;
			return QUOTA_EENCODING;
		}
		gsm = gsm && ref_gsm(cp);
		i += n;
	}
	if (gsm) {
		rpk p = {QUOTA__SMS_GSM_CONCAT, 0, 1, 0};
		for (i = 0; i < len; i += quota__u8dec(s, len, i, &cp))
			rput(&p, ref_gsm((quota__u8dec(s, len, i, &cp), cp)));
		info->encoding = QUOTA_SMS_GSM7;
		info->units = p.total;
		info->segments = p.total <= QUOTA__SMS_GSM_SINGLE ? 1 : p.segs;
		return QUOTA_OK;
	}
	/* UCS-2: clusters by UAX #29, CR LF breakable, a cluster larger than
	 * a segment split between code points. */
	rpk p = {QUOTA__SMS_UCS2_CONCAT, 0, 1, 0};
	quota__gb_state st = QUOTA__GB_STATE_INIT;
	size_t start = 0;
	int64_t cost = 0;
	bool prev_cr = false;
	for (i = 0; i <= len;) {
		bool brk = i == len;
		size_t n = 0;
		if (i < len) {
			n = quota__u8dec(s, len, i, &cp);
			brk = quota__gb_break(&st, quota__gb_prop(cp)) ||
			      (prev_cr && cp == 0x0A);
			prev_cr = cp == 0x0D;
		}
		if (brk && i > 0) {
			if (cost <= p.cap) {
				rput(&p, cost);
			} else {
				for (size_t j = start; j < i;) {
					uint32_t c2;
					size_t m = quota__u8dec(s, len, j, &c2);
					rput(&p, c2 > 0xFFFF ? 2 : 1);
					j += m;
				}
			}
			start = i;
			cost = 0;
		}
		if (i == len)
			break;
		cost += cp > 0xFFFF ? 2 : 1;
		i += n;
	}
	info->encoding = QUOTA_SMS_UCS2;
	info->units = p.total;
	info->segments = p.total <= QUOTA__SMS_UCS2_SINGLE ? 1 : p.segs;
	return QUOTA_OK;
}

/* ------------------------------------------------------------ generator */

static uint64_t rng = 0x243F6A8885A308D3u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static size_t put_cp(unsigned char *b, uint32_t cp)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Code points of each class, with the edges of the plain set. */
static uint32_t pick(int cls)
{
	static const uint32_t gsm2[] = {0xE9, 0xFC, 0xC7, 0xA3, 0xBF, 0x394,
					0x3A9, 0xDF, '\n', '\r', 0x0C};
	static const uint32_t ext[] = {'[', ']', '{', '}', '~', '^', '|',
				       '\\', 0x20AC, 0x0C};
	static const uint32_t rare[] = {0xE7, 0x2019, 0x60, 0x7F, 0x1, 0xAD,
					0x3000, 0x3029, 0x302A, 0x302F, 0x3030,
					0x3099,
					0x3031, 0x303D, 0x303E, 0x3098, 0x309A,
					0x309B, 0x30FF, 0x3100, 0xFF0C, 0xFF9E,
					0xFEFF, 0xFF7F, 0xFF80,
					0xA9, 0xBF, 0xC0, 0xFF, 0x37F, 0x380,
					0x9F, 0xA0, 0xA8, 0xAA, 0xAC, 0xAE,
					0xAF, 0xB0, 0xA3, 0x200F, 0x2010,
					0x2019, 0x2027, 0x2028, 0x202F,
					0x2030, 0x203B, 0x203C, 0x2040,
					0x47F, 0x480, 0x483, 0x3FFF, 0x4000,
					0x9FFF, 0xA000, 0x3002, 0x3099, 0x600,
					0xFEFF, 0xFE0F};
	static const uint32_t clu[] = {0x200D, 0x1F468, 0x1F469, 0x1F3FD,
				       0x1F1EB, 0x1F1F7, 0x301, 0x308, 0x915,
				       0x94D, 0x937, 0x93F, 0x1100, 0x1161,
				       0x11A8, 0xAC00, 0xAC01, 0xB000, 0xC5B4,
				       0xCFFF, 0xD000, 0x1160, 0x600, 0xFE0F,
				       0xABFF, 0xD77F, 0xD780, 0xD7A3, 0xD7B0,
				       0xD7FB, 0x11A8,
				       0x2764, '\r', '\n', 0xE0020};

	static const uint32_t joiners[] = {0x301, 0x3099, 0x200D, 0x93F,
					   0xFE0F, 0x1F3FD, 0x483, 0x302A,
					   0x1161, 0x11A8, 0x1100, 0x600};

	switch (cls) {
	case 0: /* GSM ASCII */
		return rnd(10) ? 'a' + rnd(26) : ' ';
	case 1: /* GSM with extension and Latin-1 */
		return rnd(8) == 0 ? ext[rnd(10)] : rnd(6) == 0 ? gsm2[rnd(11)]
							       : 0x20 + rnd(64);
	case 2: /* CJK, Korean */
		return rnd(10) ? (rnd(4) ? 0x4E00 + rnd(0x5200)
					 : 0xAC00 + rnd(0x2BA4))
			       : rnd(2) ? 0x3000 + rnd(0x100) : 0xFF00 + rnd(0x100);
	case 3: /* Cyrillic / Greek */
		return rnd(8) == 0 ? ' ' : rnd(2) ? 0x400 + rnd(0x80)
						  : 0x370 + rnd(0x90);
	case 4: /* emoji */
		return rnd(3) ? (rnd(2) ? 0x1F300 + rnd(0x400)
					: 0x1F900 + rnd(0x100))
			      : 'a' + rnd(26);
	case 5: /* clusters */
		return clu[rnd(sizeof clu / sizeof *clu)];
	case 6: /* plain characters with joiners after them */
		return rnd(3) ? pick((int)rnd(4)) : joiners[rnd(12)];
	default: /* anything, the plain set's edges */
		return rnd(3) ? rare[rnd(sizeof rare / sizeof *rare)]
			      : 0x20 + rnd(0x3000);
	}
}

/* A text of about `want` bytes: mostly class cls, a few of others. */
static size_t gen(unsigned char *b, size_t want, int cls)
{
	size_t n = 0;
	while (n < want) {
		int c = rnd(20) == 0 ? (int)rnd(8) : cls;
		n += put_cp(b + n, pick(c));
	}
	if (rnd(8) == 0 && n) { /* invalid UTF-8 somewhere */
		static const unsigned char bad[] = {0x80, 0xC0, 0xC1, 0xE0,
						    0xED, 0xF5, 0xFF, 0xF4};
		b[rnd((uint32_t)n)] = bad[rnd(8)];
	}
	if (rnd(8) == 0 && n) /* cut inside a code point */
		n -= 1;
	return n;
}

static void check_one(const unsigned char *b, size_t n, int level,
		      const char *what)
{
	quota_sms_info got, want;
	const unsigned char *t = tu_exact(b, n);
	int rg = quota_sms_count((const char *)t, n, NULL, &got);
	int rw = ref_count(b, n, &want);

	if (rg != rw || got.encoding != want.encoding ||
	    got.units != want.units || got.segments != want.segments ||
	    got.error_offset != want.error_offset) {
		fprintf(stderr, "level %d %s len %zu: rc %d/%d enc %d/%d "
			"units %lld/%lld segs %lld/%lld off %zu/%zu\n",
			level, what, n, rg, rw, got.encoding, want.encoding,
			(long long)got.units, (long long)want.units,
			(long long)got.segments, (long long)want.segments,
			got.error_offset, want.error_offset);
		ck_abort_msg("fast path differs from the reference");
	}
}

/* Every level this machine can run: 0 portable, 1 SSE2, 2 AVX2, 3 NEON. */
static int levels(int *lv)
{
	int k = 0;
	for (int l = QUOTA__SMS_PORTABLE; l <= QUOTA__SMS_NEON; l++)
		if (quota__sms_force_simd(l) == l)
			lv[k++] = l;
	quota__sms_force_simd(-1);
	return k;
}

START_TEST(test_s3_plain_set_is_gcb_other_cr_lf_lv_lvt)
{
	static const uint32_t r[][2] = {{0x20, 0x7E}, {0xC0, 0xFF},
					{0x380, 0x47F}, {0x4000, 0x9FFF},
					{0xA0, 0xA8}, {0xAA, 0xAC},
					{0xAF, 0xBF}};
	for (size_t k = 0; k < sizeof r / sizeof r[0]; k++)
		for (uint32_t cp = r[k][0]; cp <= r[k][1]; cp++)
			ck_assert_uint_eq(quota__gb_prop(cp), QUOTA__GB_OTHER);
	for (uint32_t cp = 0xB000; cp <= 0xCFFF; cp++) {
		unsigned p = quota__gb_prop(cp);
		ck_assert(p == QUOTA__GB_LV || p == QUOTA__GB_LVT);
	}
	/* C2 xx and E2 80 xx (issue 16: U+00A0..00BF but A9 AD AE,
	 * U+2010..2027 and U+2030..203B), E3 xx xx, EF xx xx
	 * and F0 9F xx xx: what the portable kernel takes is GCB Other
	 * (Extended_Pictographic or not).  An 'a' after the code point
	 * makes it one the kernel places (the last of a run stays open), so
	 * its units show in the packer. */
	quota__sms_force_simd(QUOTA__SMS_PORTABLE);
	for (uint32_t cp = 0x80; cp <= 0x1FFFF; cp++) {
		unsigned char b[8];
		quota__sms_fill f = {67, 0, 1, 0};
		int64_t open = 0;
		size_t l = 0, n = put_cp(b, cp);

		b[n] = 'a';
		if (quota__sms_plain_pack(b, n + 1, &f, &open, &l) != n + 1)
			continue;
		ck_assert_uint_eq(l, n);
		ck_assert_int_eq(open, 1);
		ck_assert_int_eq(f.total, cp > 0xFFFF ? 2 : 1);
		if (b[0] == 0xEA || b[0] == 0xED) {
			unsigned p = quota__gb_prop(cp);
			ck_assert_msg(p == QUOTA__GB_LV || p == QUOTA__GB_LVT,
				      "U+%04X", cp);
		}
		if (b[0] == 0xC2)
			ck_assert_msg(quota__gb_prop(cp) == QUOTA__GB_OTHER &&
					      cp >= 0xA0,
				      "U+%04X", cp);
		if (b[0] == 0xE2)
			ck_assert_msg(quota__gb_prop(cp) == QUOTA__GB_OTHER &&
					      cp >= 0x2010 && cp <= 0x203B,
				      "U+%04X", cp);
		if (b[0] == 0xE3 || b[0] == 0xEF || b[0] == 0xF0)
			ck_assert_msg((quota__gb_prop(cp) & 0x0F) ==
					      QUOTA__GB_OTHER,
				      "U+%04X", cp);
	}
	quota__sms_force_simd(-1);
	ck_assert_uint_eq(quota__gb_prop(0x0A), QUOTA__GB_LF);
	ck_assert_uint_eq(quota__gb_prop(0x0D), QUOTA__GB_CR);
}
END_TEST

/* A text of plain code points of every width (ASCII, C2 and C3 xx, CJK,
 * emoji; U+00A9, U+00AD and U+00AE, not plain, among them),
 * more emoji when `emo`, sometimes with one code point that is not plain
 * or is cut, for the packing kernels. */
static size_t gen_plain(unsigned char *b, size_t want, bool emo)
{
	size_t n = 0;

	while (n < want) {
		uint32_t r = rnd(10), cp;

		if (emo)
			cp = r < 6 ? 0x1F600 + rnd(0x40) : 'a' + rnd(26);
		else
			cp = r < 4 ? 'a' + rnd(26)
				: r < 6 ? (rnd(3) ? 0xA0 + rnd(0x60) : 0x2008 + rnd(0x40))
				: r < 8 ? 0x4E00 + rnd(0x1000) : 0x1F300 + rnd(0x80);
		n += put_cp(b + n, cp);
	}
	if (rnd(4) == 0 && n) /* one not plain, or invalid */
		n += put_cp(b + n, rnd(2) ? 0x301 : 0x1F3FB);
	if (rnd(4) == 0 && n >= 3) /* cut inside a code point, or not */
		n -= rnd(4);
	return n;
}

/* The packing a run must leave: the open cluster (*open units) and each
 * code point of s[0..r) but the last placed one at a time (as rput);
 * returns the last one's offset, *open its units. */
static size_t ref_pack(const unsigned char *s, size_t r, quota__sms_fill *f,
		       int64_t *open)
{
	rpk p = {f->cap, f->fill, f->segs, f->total};
	size_t i = 0, last = 0;
	uint32_t cp;
	int64_t pend = *open;

	while (i < r) {
		size_t m = quota__u8dec(s, r, i, &cp);

		ck_assert_uint_gt(m, 0);
		if (pend)
			rput(&p, pend);
		pend = cp > 0xFFFF ? 2 : 1;
		last = i;
		i += m;
	}
	*f = (quota__sms_fill){p.cap, p.fill, p.segs, p.total};
	*open = pend;
	return last;
}

/* A packer state with the current segment anywhere, often one unit
 * short of full (an emoji there goes whole to the next segment), at
 * times with a small capacity so that segments end in every block. */
static quota__sms_fill gen_fill(void)
{
	quota__sms_fill f = {67, 0, 1 + rnd(3), 0};

	if (rnd(4) == 0)
		f.cap = 2 + rnd(20);
	switch (rnd(4)) {
	case 0:
		f.fill = f.cap - 1;
		break;
	case 1:
		f.fill = f.cap - rnd(3);
		break;
	default:
		f.fill = rnd((uint32_t)f.cap + 1);
	}
	f.total = f.fill + (f.segs - 1) * f.cap;
	return f;
}

/* issue 16: each level's kernels (plain runs packed into the segments,
 * GSM 1-septet runs) find the same runs and pack them as placing one code
 * point at a time does; texts in buffers of their own size, so that ASan
 * sees a read past the end. */
START_TEST(test_s3_plain_run_kernels_agree)
{
	int lv[4], nl = levels(lv);
	unsigned char b[400];
	uint8_t gsm_ascii[128], two11[0x800];

	for (uint32_t c = 0; c < 128; c++)
		gsm_ascii[c] = (uint8_t)ref_gsm(c);
	for (uint32_t c = 0; c < 0x800; c++)
		two11[c] = (uint8_t)(c >= 0x80 ? ref_gsm(c) : 0);

	for (int it = 0; it < 40000; it++) {
		size_t n = it & 1 ? gen(b, rnd(120), (int)rnd(8))
				  : gen_plain(b, rnd(160), rnd(2)),
		       r0 = 0, l0 = 999, g0 = 0, gk0 = 0, ge0 = 0;
		quota__sms_fill f0 = gen_fill(), want = f0, got0 = f0;
		/* the cluster open before the run: none, 1 or 2 units, or
		 * a larger one (a letter with marks, an emoji sequence) */
		int64_t o0 = rnd(2) ? (int64_t)rnd(3) : 1 + rnd((uint32_t)f0.cap),
			wanto = o0, goto0 = o0;
		/* what is left of the GSM segment: often little or nothing,
		 * so that extension characters end runs */
		int64_t room = rnd(2) ? (int64_t)rnd(154) : (int64_t)rnd(8) - 2;
		unsigned char *t = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(t);
		memcpy(t, b, n);
		for (int x = 0; x < nl; x++) {
			size_t k = 0, e = 0, l = 999, r;
			quota__sms_fill f = f0;
			int64_t o = o0;

			quota__sms_force_simd(lv[x]);
			r = quota__sms_plain_pack(t, n, &f, &o, &l);
			if (x == 0) {
				r0 = r, l0 = l, got0 = f, goto0 = o;
				if (r)
					ck_assert_uint_eq(ref_pack(t, r, &want,
								   &wanto),
							  l);
				else
					ck_assert_uint_eq(l, 999);
				ck_assert_int_eq(o, wanto);
				ck_assert_int_eq(f.fill, want.fill);
				ck_assert_int_eq(f.segs, want.segs);
				ck_assert_int_eq(f.total, want.total);
				g0 = quota__sms_gsm_run(t, n, gsm_ascii, two11,
							room, &gk0, &ge0);
				continue;
			}
			ck_assert_uint_eq(r, r0);
			ck_assert_uint_eq(l, l0);
			ck_assert_int_eq(o, goto0);
			ck_assert_int_eq(f.cap, got0.cap);
			ck_assert_int_eq(f.fill, got0.fill);
			ck_assert_int_eq(f.segs, got0.segs);
			ck_assert_int_eq(f.total, got0.total);
			ck_assert_uint_eq(quota__sms_gsm_run(t, n, gsm_ascii,
							     two11, room, &k, &e),
					  g0);
			ck_assert_uint_eq(k, gk0);
			ck_assert_uint_eq(e, ge0);
		}
		free(t);
	}
	quota__sms_force_simd(-1);
}
END_TEST

/* issue 16: quota_sms_count (one pass, plain runs, vector kernels) equals
 * the one-code-point-at-a-time reference on every class and length. */
START_TEST(test_s3_fast_paths_match_one_char_reference)
{
	int lv[4], nl = levels(lv);
	static unsigned char b[2048];
	char what[32];

	ck_assert_int_ge(nl, 1);
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(QUOTA_NO_SIMD)
	/* make check-neon: the NEON kernels are among the levels compared */
	ck_assert_int_eq(lv[nl - 1], QUOTA__SMS_NEON);
#endif
	for (int x = 0; x < nl; x++) {
		quota__sms_force_simd(lv[x]);
		ck_assert_int_eq(quota__sms_simd_level(), lv[x]);
		for (int cls = 0; cls < 8; cls++) {
			snprintf(what, sizeof what, "class %d", cls);
			/* every length up to past two AVX2 vectors */
			for (size_t want = 0; want <= 72; want++)
				for (int rep = 0; rep < 6; rep++)
					check_one(b, gen(b, want, cls), lv[x],
						  what);
			/* across segment boundaries */
			for (int rep = 0; rep < 400; rep++)
				check_one(b, gen(b, rnd(1400), cls), lv[x],
					  what);
		}
		/* a GSM text meeting one non-GSM character anywhere */
		for (int rep = 0; rep < 2000; rep++) {
			size_t n = gen(b, rnd(700), rnd(2)), at;
			if (n < 4)
				continue;
			at = rnd((uint32_t)n - 3);
			while (at && (b[at] & 0xC0) == 0x80)
				at--;
			n = at + put_cp(b + at, pick(rnd(2) ? 7 : 6));
			n += gen(b + n, rnd(300), rnd(2));
			check_one(b, n, lv[x], "gsm+1");
		}
		/* emoji runs from every phase of a segment (a prefix of k
		 * units before them: GSM, CJK, or joined by a mark), the run
		 * ending at the end of the text, before a mark that joins
		 * its last code point, or cut inside a code point */
		for (size_t k = 0; k < 140; k++) {
			static const uint32_t pre[] = {'a', 0x4E2D, 0x301,
						       0x1F600};
			static const uint32_t post[] = {0x1F3FB, 0x301, 0x200D,
							'a', 0xFE0F};
			for (int rep = 0; rep < 8; rep++) {
				size_t n = 0;
				for (size_t j = 0; j < k; j++)
					n += put_cp(b + n, pre[rep & 3]);
				n += gen_plain(b + n, rnd(300), true);
				if (rep & 4)
					n += put_cp(b + n, post[rnd(5)]);
				check_one(b, n, lv[x], "emoji phase");
			}
		}
	}
	quota__sms_force_simd(-1);
}
END_TEST

/* Issue 16: popcount takes the popcnt instruction when the processor
 * has it (asked at run time) and the portable sum otherwise; both give
 * the count a bit at a time gives, on edges and random words. */
START_TEST(test_i16_popcount_runtime_and_portable_agree)
{
	uint64_t x = UINT64_C(0x9E3779B97F4A7C15);

	for (int i = 0; i < 100000; i++) {
		uint64_t w = i < 65 ? (i == 64 ? ~UINT64_C(0) : (UINT64_C(1) << i) - 1)
				    : x;
		unsigned want = 0;

		for (uint64_t v = w; v; v >>= 1)
			want += (unsigned)(v & 1);
		ck_assert_uint_eq(quota__popcount64(w), want);
		ck_assert_uint_eq(quota__popcount64_sw(w), want);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
}
END_TEST

/* Issue 16: the state machine of lib/grapheme_dfa.h (the UCS-2 count's
 * rules) is quota__gb_break, step by step: from every state it has, on
 * every property byte, the same break (CR LF breakable, as SMS counts)
 * and the same next state; the states the counter sets by hand (fresh,
 * after a plain run or a GSM character) are all in it. */
START_TEST(test_i16_gb_dfa_is_the_uax29_rules)
{
	int rows = 0;

	for (unsigned a = 0; a < 15; a++)
		for (uint8_t e = 0; e < 3; e++)
			for (uint8_t r = 0; r < 3; r++) {
				unsigned row = quota__gb_dfa_enc[a][e][r];
				quota__gb_state from = {(uint8_t)(a == 14 ? 0xFF : a),
							e, r};

				if (row == 0xFFFF)
					continue;
				rows++;
				ck_assert_uint_eq(row & 31, 0);
				ck_assert_uint_lt(row >> 5, QUOTA__GB_DFA_STATES);
				ck_assert_uint_eq(quota__gb_dfa_prev[row >> 5],
						  from.prev);
				for (unsigned prop = 0; prop < 32; prop++) {
					quota__gb_state st = from;
					unsigned got, to;
					bool brk;

					if ((prop & 0x0F) > QUOTA__GB_LVT)
						continue;
					brk = quota__gb_break(&st, prop) ||
					      (from.prev == QUOTA__GB_CR &&
					       (prop & 0x0F) == QUOTA__GB_LF);
					got = quota__gb_dfa[row + prop];
					to = quota__gb_dfa_enc[st.prev == 0xFF ? 14 : st.prev]
							      [st.emoji][st.ri];
					ck_assert_uint_ne(to, 0xFFFF);
					ck_assert_uint_eq(got & 1u, brk);
					ck_assert_uint_eq(got & ~31u, to);
				}
			}
	ck_assert_int_eq(rows, QUOTA__GB_DFA_STATES);
	ck_assert_uint_eq(quota__gb_dfa_enc[14][0][0], 0); /* fresh */
	for (unsigned a = 0; a <= QUOTA__GB_LVT; a++)
		for (unsigned e = 0; e < 2; e++)
			ck_assert_uint_ne(quota__gb_dfa_enc[a][e][0], 0xFFFF);
}
END_TEST

/* A cluster-heavy text of about `want` bytes: the benchmark's clusters
 * (tests/bench_sms.c), single cluster code points, now and then a
 * cluster larger than a segment (a letter with 80 marks, a ZWJ chain,
 * 90 regional indicators), plain runs, and invalid or cut UTF-8. */
static size_t gen_clusters(unsigned char *b, size_t want)
{
	static const char *const atoms[] = {
		"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
		"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
		"\xF0\x9F\x91\xA7",
		"\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", "\xE2\x9D\xA4\xEF\xB8\x8F",
		"e\xCC\x81", "n\xCC\x83",
		"\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4"
		"\xE0\xA5\x87 ",
		"\xE1\x84\x80\xE1\x85\xA1", " ", "ok ", "\r\n",
		"\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7\xE0\xA4\xBF"};
	size_t n = 0;

	while (n < want) {
		unsigned k = rnd(40);

		if (k < 24) {
			const char *a = atoms[rnd(sizeof atoms / sizeof *atoms)];
			memcpy(b + n, a, strlen(a));
			n += strlen(a);
		} else if (k < 34) {
			n += put_cp(b + n, pick(rnd(4) ? 5 : (int)rnd(8)));
		} else if (k < 38) {
			n += put_cp(b + n, pick((int)rnd(5))); /* plain-ish */
		} else if (k == 38 && rnd(4) == 0) {
			unsigned m = 60 + rnd(40);
			uint32_t j = rnd(3);

			n += put_cp(b + n, j == 0 ? 'a' : j == 1 ? 0x1F468 : 0x1F1EB);
			for (unsigned q = 0; q < m; q++) {
				if (j == 0)
					n += put_cp(b + n, 0x300 + rnd(0x40));
				else if (j == 1)
					n += put_cp(b + n, q & 1 ? 0x1F469 : 0x200D);
				else
					n += put_cp(b + n, 0x1F1E6 + rnd(26));
			}
		}
	}
	if (rnd(10) == 0 && n) { /* invalid UTF-8 somewhere */
		static const unsigned char bad[] = {0x80, 0xC0, 0xC1, 0xE0,
						    0xED, 0xF5, 0xFF, 0xF4};
		b[rnd((uint32_t)n)] = bad[rnd(8)];
	}
	if (rnd(10) == 0 && n) /* cut inside a code point */
		n -= 1 + rnd(3 < n ? 3 : (uint32_t)n);
	return n;
}

/* Issue 16: the UCS-2 count of cluster-heavy text (the state machine,
 * the code points found 32 bytes at a time, the branchless placing,
 * runs handed to the kernels and back) equals the one-code-point-at-a-
 * time reference, at every length near the 32-byte windows and across
 * many segments, under every dispatch level. */
START_TEST(test_i16_cluster_text_matches_one_char_reference)
{
	int lv[4], nl = levels(lv);
	static unsigned char b[8192];

	for (int x = 0; x < nl; x++) {
		quota__sms_force_simd(lv[x]);
		for (size_t want = 0; want <= 100; want++)
			for (int rep = 0; rep < 20; rep++)
				check_one(b, gen_clusters(b, want), lv[x],
					  "clusters short");
		for (int rep = 0; rep < 3000; rep++)
			check_one(b, gen_clusters(b, rnd(6000)), lv[x],
				  "clusters");
	}
	quota__sms_force_simd(-1);
}
END_TEST

/* Issue 16: the UCS-2 count decodes 2- to 4-byte code points by whole
 * words (quota__u8dec4, sms_int.h); every lead byte with every byte
 * after it and the edges of the continuation range in the next two,
 * inside a UCS-2 text (and at its end, cut), counts or fails as the
 * reference does. */
START_TEST(test_i16_every_lead_and_next_byte_as_reference)
{
	static const unsigned char edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F,
					     0x90, 0x9F, 0xA0, 0xBF, 0xC0,
					     0xF0, 0xFF};
	static const unsigned char last[] = {0x41, 0x80, 0xBF};
	unsigned char b[16];

	for (unsigned c = 0x80; c <= 0xFF; c++)
		for (unsigned b1 = 0; b1 <= 0xFF; b1++)
			for (unsigned k = 0; k < sizeof edge * sizeof last; k++) {
				size_t n = 0;

				n += put_cp(b + n, 0x4E2D); /* UCS-2 from here */
				b[n++] = (unsigned char)c;
				b[n++] = (unsigned char)b1;
				b[n++] = edge[k % sizeof edge];
				b[n++] = last[k / sizeof edge];
				n += put_cp(b + n, 0x301);
				b[n++] = 'x';
				check_one(b, n, -1, "lead");
				check_one(b, 3 + 1 + rnd(4), -1, "lead cut");
			}
}
END_TEST

static uint8_t ex_ascii[128], ex_two11[0x800];

/* One sequence s[0..k) amid 'a's, at offsets across the edges of 16-,
 * 32- and 64-byte blocks, and in a text that ends with it: every level's
 * plain run and GSM run (with room for an extension character and
 * without) as the portable one's. */
static void plain_agree_at(const unsigned char *seq, size_t k, const int *lv,
			   int nl)
{
	static const size_t at[] = {0, 14, 30, 31, 47, 61, 62, 63};

	for (size_t x0 = 0; x0 < sizeof at / sizeof at[0]; x0++) {
		unsigned char b[80];
		size_t off = at[x0];
		quota__sms_fill f0 = {67, 5, 1, 5};
		int64_t o0 = 1, room = (int64_t)(off & 1) + (int64_t)off + 1;
		size_t l0 = 0, r0, g0, gk0, ge0, n = x0 & 1 ? off + k : 70;
		const unsigned char *t;

		memset(b, 'a', sizeof b);
		memcpy(b + off, seq, k);
		t = tu_exact(b, n);
		quota__sms_force_simd(QUOTA__SMS_PORTABLE);
		r0 = quota__sms_plain_pack(t, n, &f0, &o0, &l0);
		g0 = quota__sms_gsm_run(t, n, ex_ascii, ex_two11, room, &gk0,
					&ge0);
		for (int x = 0; x < nl; x++) {
			quota__sms_fill f = {67, 5, 1, 5};
			int64_t o = 1;
			size_t l = 0, r, g, gk, ge;

			quota__sms_force_simd(lv[x]);
			r = quota__sms_plain_pack(t, n, &f, &o, &l);
			g = quota__sms_gsm_run(t, n, ex_ascii, ex_two11, room,
					       &gk, &ge);
			/* not ck_assert: Check records every passing one,
			 * and there are millions */
			if (r != r0 || l != l0 || o != o0 || f.fill != f0.fill ||
			    f.segs != f0.segs || f.total != f0.total ||
			    g != g0 || gk != gk0 || ge != ge0)
				ck_abort_msg("level %d: %02X %02X %02X %02X (%zu) "
					     "at %zu", lv[x], seq[0],
					     k > 1 ? seq[1] : 0, k > 2 ? seq[2] : 0,
					     k > 3 ? seq[3] : 0, k, off);
		}
	}
}

/* Issue 16: the AVX2 kernels classify bytes by table lookups on their
 * nibbles; every lead byte with every continuation byte (and a few
 * that are not) after it, up to four bytes, makes the same run on every
 * level as on the portable one. */
START_TEST(test_i16_plain_kernels_every_sequence)
{
	static const unsigned char other[] = {0x00, 0x41, 0x7F, 0xC0, 0xE3, 0xFF};
	unsigned char q[4];
	int lv[4], nl = levels(lv);
	/* under valgrind, every third second and third byte */
	unsigned step = tu_quick() ? 3 : 1;

	for (uint32_t c = 0; c < 128; c++)
		ex_ascii[c] = (uint8_t)ref_gsm(c);
	for (uint32_t c = 0; c < 0x800; c++)
		ex_two11[c] = (uint8_t)(c >= 0x80 ? ref_gsm(c) : 0);
	for (unsigned a = 0; a <= 0xFF; a++) {
		q[0] = (unsigned char)a;
		plain_agree_at(q, 1, lv, nl);
		for (unsigned b = 0x80; b < 0xC0 + sizeof other; b += step) {
			q[1] = (unsigned char)(b < 0xC0 ? b : other[b - 0xC0]);
			plain_agree_at(q, 2, lv, nl);
			for (unsigned c = 0x80; a >= 0xE0 && c < 0xC0 + sizeof other;
			     c += step) {
				q[2] = (unsigned char)(c < 0xC0 ? c : other[c - 0xC0]);
				plain_agree_at(q, 3, lv, nl);
				/* the fourth byte matters to the kernels
				 * after F0 9F only (skin tones): elsewhere
				 * its edges, so that qemu runs this in time */
				bool all4 = a == 0xF0 && q[1] == 0x9F;
				for (unsigned d = 0x80; a >= 0xF0 && a <= 0xF4 &&
							d < 0xC0 + sizeof other;
				     d = all4 || d >= 0xBF ? d + 1 : 0xBF) {
					q[3] = (unsigned char)(d < 0xC0 ? d : other[d - 0xC0]);
					plain_agree_at(q, 4, lv, nl);
				}
			}
		}
	}
	quota__sms_force_simd(-1);
}
END_TEST

/* Issue 16: quota__sms_skip (lib/sms_cluster.c) against its definition,
 * on one text from s[0]: the whole text when its UTF-16 units fit the
 * room and it is valid UTF-8; else the farthest ASCII byte whose offset
 * in units fits, with valid UTF-8 before it.  Invalid UTF-8 is never
 * passed over: the skip gives up, or stops at an ASCII byte before it
 * (whose units and farthest place are then not checked); valid text is
 * never given up on. */
static void skip_as_defined(const unsigned char *s, size_t n, int64_t room,
			    int level)
{
	size_t at = 0, bad, best = SIZE_MAX;
	int64_t units = -1, u = 0, bestu = 0;
	bool valid = quota__utf8_valid((const char *)s, n, &bad);
	const unsigned char *t = tu_exact(s, n);
	int r = quota__sms_skip(t, n, room, &at, &units);

	if (!valid && r == QUOTA__SKIP_END)
		ck_abort_msg("level %d len %zu: END on invalid UTF-8", level, n);
	if (valid && r == QUOTA__SKIP_BAD)
		ck_abort_msg("level %d len %zu: BAD on valid UTF-8", level, n);
	if (r == QUOTA__SKIP_BAD)
		return;
	for (size_t i = 0; i <= n && u <= room; i++) {
		if (i < n && !valid && i >= bad)
			break;
		if (i == n || ((s[i] & 0xC0u) != 0x80u && s[i] < 0x80u))
			if (u <= room) {
				best = i;
				bestu = u;
			}
		if (i < n)
			u += (s[i] & 0xC0u) != 0x80u ? 1 + (s[i] >= 0xF0u) : 0;
	}
	if (valid && u <= room && best == n) {
		if (r != QUOTA__SKIP_END || at != n || units != bestu)
			ck_abort_msg("level %d len %zu room %lld: want END %lld, "
				     "got %d at %zu units %lld", level, n,
				     (long long)room, (long long)bestu, r, at,
				     (long long)units);
		return;
	}
	if (best == n) /* the end is not a stop but in valid text */
		best = SIZE_MAX;
	if (r == QUOTA__SKIP_NONE && best != SIZE_MAX && valid)
		ck_abort_msg("level %d len %zu room %lld: NONE, want %zu",
			     level, n, (long long)room, best);
	if (r == QUOTA__SKIP_TO &&
	    (at >= n || s[at] >= 0x80u || (valid && at != best) ||
	     (!valid && at >= bad) || units != (valid ? bestu : units)))
		ck_abort_msg("level %d len %zu room %lld: TO %zu units %lld, "
			     "want %zu units %lld", level, n, (long long)room,
			     at, (long long)units, best, (long long)bestu);
	if (r == QUOTA__SKIP_TO && !valid) {
		size_t b2;
		if (!quota__utf8_valid((const char *)s, at, &b2))
			ck_abort_msg("level %d: skipped invalid UTF-8", level);
	}
}

START_TEST(test_i16_skip_as_defined)
{
	int lv[4], nl = levels(lv);
	static unsigned char b[1024];
	static const int cls[] = {5, 6, 4, 7, 2};

	for (int x = 0; x < nl; x++) {
		quota__sms_force_simd(lv[x]);
		for (int rep = 0; rep < 3000; rep++) {
			size_t want = rep < 1000 ? (size_t)rep % 200
						 : (size_t)rnd(900);
			size_t n = gen(b, want, cls[rep % 5]);
			int64_t all = 0;

			for (size_t i = 0; i < n; i++)
				all += (b[i] & 0xC0u) != 0x80u ? 1 + (b[i] >= 0xF0u) : 0;
			for (int k = 0; k < 6; k++)
				skip_as_defined(b, n, k < 3 ? all - 1 + k
							    : (int64_t)rnd((uint32_t)all + 1),
						lv[x]);
		}
		/* every lead byte and its continuations cut by the end of a
		 * text at every length around the 64-byte blocks */
		for (size_t n = 56; n <= 136; n++)
			for (unsigned a = 0xC0; a <= 0xFF; a++)
				for (unsigned k = 1; k <= 3; k++) {
					memset(b, ' ', n);
					b[n - k] = (unsigned char)a;
					for (unsigned j = 1; j < k; j++)
						b[n - k + j] = 0x9F;
					skip_as_defined(b, n, 1000, lv[x]);
					skip_as_defined(b, n, (int64_t)n / 2, lv[x]);
				}
		/* every lead byte and second byte as a whole sequence inside
		 * the room, at offsets on both sides of the block edges: the
		 * second byte's bounds after E0, ED, F0 and F4 (overlong,
		 * surrogate, above U+10FFFF) are only seen there */
		static const size_t off[] = {0, 1, 29, 61, 62, 63, 64, 65, 95,
					     126, 127, 128};
		/* the bounds' edges, and a byte on either side of the
		 * continuation range */
		static const unsigned char sec[] = {0x7F, 0x80, 0x8F, 0x90,
						    0x9F, 0xA0, 0xBF, 0xC0};
		for (unsigned a = 0xC0; a <= 0xFF; a++)
			for (size_t ci = 0; ci < sizeof sec; ci++)
				for (size_t o = 0; o < sizeof off / sizeof *off;
				     o++) {
					const unsigned c = sec[ci];
					const size_t n = 160;
					unsigned len = a >= 0xF0 ? 4 : a >= 0xE0 ? 3 : 2;

					memset(b, 'a', n);
					b[off[o]] = (unsigned char)a;
					b[off[o] + 1] = (unsigned char)c;
					for (unsigned j = 2; j < len; j++)
						b[off[o] + j] = 0x80;
					skip_as_defined(b, n, 1000, lv[x]);
					skip_as_defined(b, n, 150, lv[x]);
				}
		/* bytes that are never UTF-8 at a block's last byte and
		 * about it, with the room ending in that block or not (the
		 * AVX2 level sees them with the byte after: sms_cluster.c) */
		static const unsigned char never[] = {0xC0, 0xC1, 0xF5, 0xFF};
		for (size_t ni = 0; ni < sizeof never; ni++)
			for (size_t o = 61; o <= 65; o++)
				for (int64_t rm = 20; rm <= 1000; rm += 490) {
					memset(b, 'a', 128);
					b[o] = never[ni];
					skip_as_defined(b, 128, rm, lv[x]);
					skip_as_defined(b, o + 1, rm, lv[x]);
				}
		/* the third and fourth bytes of 3- and 4-byte sequences
		 * (a valid second byte), each a continuation or not: the
		 * AVX2 level tells these by the lead two or three back */
		static const unsigned char lead[] = {0xE0, 0xE1, 0xED, 0xEF,
						     0xF0, 0xF3, 0xF4};
		static const unsigned char tail[] = {0x00, 0x41, 0x7F, 0x80,
						     0xBF, 0xC0, 0xE1, 0xF0};
		for (size_t li = 0; li < sizeof lead; li++)
			for (size_t c3 = 0; c3 < sizeof tail; c3++)
				for (size_t c4 = 0; c4 < sizeof tail; c4++)
					for (size_t o = 0;
					     o < sizeof off / sizeof *off; o++) {
						const unsigned a = lead[li];
						const size_t n = 160;

						memset(b, 'a', n);
						b[off[o]] = (unsigned char)a;
						b[off[o] + 1] = a == 0xE0   ? 0xA0
								: a == 0xF0 ? 0x90
									    : 0x80;
						b[off[o] + 2] = tail[c3];
						if (a >= 0xF0)
							b[off[o] + 3] = tail[c4];
						else if (c4)
							continue;
						skip_as_defined(b, n, 1000, lv[x]);
						skip_as_defined(b, n, 150, lv[x]);
					}
	}
	quota__sms_force_simd(-1);
}
END_TEST

static Suite *simd_suite(void)
{
	Suite *s = suite_create("sms_simd");
	TCase *tc = tcase_create("fast");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_s3_plain_set_is_gcb_other_cr_lf_lv_lvt);
	tcase_add_test(tc, test_s3_plain_run_kernels_agree);
	tcase_add_test(tc, test_s3_fast_paths_match_one_char_reference);
	tcase_add_test(tc, test_i16_popcount_runtime_and_portable_agree);
	tcase_add_test(tc, test_i16_gb_dfa_is_the_uax29_rules);
	tcase_add_test(tc, test_i16_cluster_text_matches_one_char_reference);
	tcase_add_test(tc, test_i16_every_lead_and_next_byte_as_reference);
	tcase_add_test(tc, test_i16_plain_kernels_every_sequence);
	tcase_add_test(tc, test_i16_skip_as_defined);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(simd_suite());
}
