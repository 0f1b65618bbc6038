/*
 * sms_simd.c - the vector kernels of the SMS counter (issue 16) and their
 * run-time dispatch: SSE2 (the x86-64 baseline), AVX2 when the CPU has it
 * (functions built with target("avx2"), chosen by __builtin_cpu_supports,
 * so the library itself is built without -march and runs on any x86-64),
 * and the portable loop, which QUOTA_NO_SIMD selects and every other path
 * must agree with (tests/check_sms_simd.c).  On AArch64, NEON (make
 * check-neon, part of make check, cross-builds check_sms_simd and
 * check_sms and runs them under qemu-aarch64: tests/neon.mk).  Each kind
 * of run has one driver, the loop written once (plain_drive here,
 * gsm_drive in sms_gsm.c: always_inline, instantiated per target so that
 * the level's masks function is inlined with the target's instructions);
 * a level supplies only the masks of a block.  What the kernels share is
 * in sms_vec.h.
 *
 * The kernel here finds runs of "plain" text for the UCS-2 counter and
 * packs them into segments itself (quota__sms_plain_pack): code points
 * whose Grapheme_Cluster_Break property is Other (Extended_Pictographic or
 * not), CR, LF, LV or LVT, so that each is a cluster of its own unless the
 * code point before the run is a Prepend (GB9b), an L (GB6) or a ZWJ
 * (GB11; the caller checks these before the run; CR LF is breakable in
 * SMS counting, see sms.c): inside a run none of them joins the next (LV /
 * LVT join only V or T, which are not in the set), so the grapheme
 * analysis is skipped for them.  The cluster open before the run and every
 * code point of the run but the last are placed as items of 1 or 2 UTF-16
 * units (a surrogate pair is never split, §3); the last stays open, since
 * a mark after the run may join it, and the caller sets its state from it.
 * Packing inside the kernel means a run is never cut where a segment ends
 * (issue 16: emoji text used to take one call per segment): a block whose
 * units fit in the current segment is added in one step, and in a block
 * where a segment ends the item that opens the next one is found by rank
 * (plain_block).  The tail shorter than a block runs as a block of its
 * own from a zero-padded copy.  The set is chosen by lead byte (and at
 * most three bytes after it) so that vectors can test it:
 *   printable ASCII 20..7E, LF and CR;
 *   C2 A0..BF but A9 AD AE (U+00A0..00BF, Latin-1 signs such as the
 *   pound, the inverted question mark and the degree sign: c2_plain) and
 *   E2 80 90..A7, E2 80 B0..BB (U+2010..2027, U+2030..203B: dashes,
 *   curly quotes, the bullet, the ellipsis, the per mille sign: e2_plain);
 *   the vector levels add these to a block's masks where its run would
 *   stop (odd_patch);
 *   C3 xx (U+00C0..00FF); CE..D1 xx (U+0380..047F, Greek, basic Cyrillic);
 *   E4..E9 xx xx (U+4000..9FFF, CJK ideographs);
 *   EB..EC xx xx (U+B000..CFFF, Hangul syllables), EA B0..BF xx and
 *   ED 80..9D xx (U+AC00..AFFF, U+D000..D77F, Hangul syllables too);
 *   E3 xx xx for U+3000..30FF but a few (e3_plain: CJK punctuation, kana);
 *   EF BC..BD xx (U+FF00..FF7F, fullwidth forms);
 *   F0 9F xx xx for most emoji (f0_plain; 2 UTF-16 units each).
 * All are valid UTF-8 whenever each lead is followed by its continuation
 * bytes (no overlong form, no surrogate).
 * check_sms_simd.c checks the property of every code point in the set.
 */
#include "sms_vec.h"

#include <string.h>

/* ---------------------------------------------------------- dispatch */

int quota__sms_level = -1; /* resolved on first use (sms_int.h) */

static int sms_detect(void)
{
#if defined(SMS_X86)
	__builtin_cpu_init();
	/* popcnt too: the AVX2 kernels here, sms_gsm.c's and
	 * sms_cluster.c's are built with it, quota__sms_pop (every AVX2
	 * processor has it; a virtual one may mask it) */
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
		return QUOTA__SMS_AVX2;
	return QUOTA__SMS_SSE2;
#elif defined(SMS_NEON)
	return QUOTA__SMS_NEON;
#else
	return QUOTA__SMS_PORTABLE;
#endif
}

static bool sms_available(int level)
{
	switch (level) {
	case QUOTA__SMS_PORTABLE:
		return true;
#if defined(SMS_X86)
	case QUOTA__SMS_SSE2:
		return true;
	case QUOTA__SMS_AVX2:
		return sms_detect() == QUOTA__SMS_AVX2;
#elif defined(SMS_NEON)
	case QUOTA__SMS_NEON:
		return true;
#endif
	default:
		return false;
	}
}

int quota__sms_resolve(void)
{
	int l = sms_detect();

	__atomic_store_n(&quota__sms_level, l, __ATOMIC_RELAXED);
	return l;
}

int quota__sms_force_simd(int level)
{
	if (level < 0 || !sms_available(level))
		level = sms_detect();
	__atomic_store_n(&quota__sms_level, level, __ATOMIC_RELAXED);
	return level;
}

/* ------------------------------------------------- plain runs: portable */

/* E3 b1 b2 (U+3000..3FFF) is plain for CJK punctuation, Hiragana and
 * Katakana (U+3000..30FF) but for U+302A..302F, U+3099..309A (Extend) and
 * U+3030, U+303D (Extended_Pictographic). */
static inline bool e3_plain(unsigned b1, unsigned b2)
{
	return b1 == 0x81u || b1 == 0x83u ||
	       (b1 == 0x82u && b2 != 0x99u && b2 != 0x9Au) ||
	       (b1 == 0x80u && (b2 <= 0xA9u || (b2 >= 0xB1u && b2 != 0xBDu)));
}

/* C2 b1: U+00A0..00BF, GCB Other, but the soft hyphen U+00AD (Control)
 * and U+00A9, U+00AE (Extended_Pictographic, kept out of the set as
 * U+3030 is).  Without them a text in UCS-2 with a pound sign or an
 * inverted question mark left the kernel at each (issue 16: about a
 * quarter of the gsm_rare class's instructions). */
static inline bool c2_plain(unsigned b1)
{
	return b1 - 0xA0u <= 0xBFu - 0xA0u && b1 != 0xA9u && b1 != 0xADu &&
	       b1 != 0xAEu;
}

/* E2 80 b2: U+2010..2027 and U+2030..203B, GCB Other, not
 * Extended_Pictographic (U+203C is), nor the line and paragraph
 * separators and the bidirectional controls U+2028..202E (Control).
 * Curly quotes and dashes are what most often turn a text to UCS-2. */
static inline bool e2_plain(unsigned b1, unsigned b2)
{
	return b1 == 0x80u && (b2 - 0x90u <= 0xA7u - 0x90u ||
			       b2 - 0xB0u <= 0xBBu - 0xB0u);
}

/* F0 9F b2 b3: U+1F300..1F67F but the skin tone modifiers U+1F3FB..1F3FF
 * (Extend), U+1F680..1F6FF and U+1F900..1F9FF: emoji, all GCB Other. */
static inline bool f0_plain(unsigned b2, unsigned b3)
{
	return b2 - 0x8Cu <= 0x9Bu - 0x8Cu ? (b2 != 0x8Fu || b3 - 0xBBu > 4u)
					    : b2 - 0xA4u <= 3u;
}

/* Place an item of 1 or 2 UTF-16 units, as sms.c's pk_put: it goes whole
 * to the next segment when it does not fit (a surrogate pair is never
 * split, §3). */
static inline void fput(quota__sms_fill *f, int64_t cost)
{
	f->total += cost;
	if (f->fill + cost > f->cap) {
		f->segs++;
		f->fill = cost;
	} else {
		f->fill += cost;
	}
}

/* One code point at a time: the reference the vector driver must agree
 * with, and the whole path under QUOTA_NO_SIMD (out of line, as the
 * levels below: inlined in quota__sms_plain_pack, the registers it uses
 * were saved at every call of the AVX2 level too). */
static __attribute__((noinline)) size_t
plain_portable(const unsigned char *s, size_t n, quota__sms_fill *out,
	       int64_t *open, size_t *last)
{
	quota__sms_fill f = *out;
	size_t j = 0;
	int64_t pend = *open; /* units of what is open, not placed */

	while (j < n) {
		unsigned c = s[j];
		size_t w;

		if (c - 0x20u <= 0x7Eu - 0x20u || c == 0x0Au || c == 0x0Du)
			w = 1;
		else if ((c == 0xC3u || c - 0xCEu <= 3u ||
			  (c == 0xC2u && n - j >= 2 && c2_plain(s[j + 1]))) &&
			 n - j >= 2 && (s[j + 1] & 0xC0u) == 0x80u)
			w = 2;
		else if ((c - 0xE4u <= 5u || c - 0xEBu <= 1u ||
			  (c == 0xE2u && n - j >= 3 && e2_plain(s[j + 1], s[j + 2])) ||
			  (c == 0xE3u && n - j >= 3 && e3_plain(s[j + 1], s[j + 2])) ||
			  (c == 0xEFu && n - j >= 2 && s[j + 1] - 0xBCu <= 1u) ||
			  (c == 0xEAu && n - j >= 2 && s[j + 1] - 0xB0u <= 0xFu) ||
			  (c == 0xEDu && n - j >= 2 && s[j + 1] - 0x80u <= 0x1Du)) &&
			 n - j >= 3 && (s[j + 1] & 0xC0u) == 0x80u &&
			 (s[j + 2] & 0xC0u) == 0x80u)
			w = 3;
		else if (c == 0xF0u && n - j >= 4 && s[j + 1] == 0x9Fu &&
			 f0_plain(s[j + 2], s[j + 3]) &&
			 (s[j + 2] & 0xC0u) == 0x80u && (s[j + 3] & 0xC0u) == 0x80u)
			w = 4;
		else
			break;
		if (pend)
			fput(&f, pend);
		pend = w == 4 ? 2 : 1;
		*last = j;
		j += w;
	}
	if (j) {
		*out = f;
		*open = pend;
	}
	return j;
}

/* --------------------------------------------- plain runs: vector driver */

#if defined(SMS_X86) || defined(SMS_NEON)
/* The bytes of a plain code point at p that the block masks leave out
 * (c2_plain, e2_plain: testing them in the masks of every block cost
 * other scripts 3 to 4 %; plain_block tests the byte where a run stops
 * and odd_patch adds them), 0 if there is none; p[0..2] readable. */
static inline size_t odd_plain(const unsigned char *p)
{
	if (p[0] == 0xC2u)
		return c2_plain(p[1]) ? 2 : 0;
	return p[0] == 0xE2u && e2_plain(p[1], p[2]) ? 3 : 0;
}

/*
 * The plain code points the masks leave out (odd_plain), added to a
 * block's leads (*lead, *l2, *l3), its expected continuation bytes (exp)
 * with them, where its run would stop (err: the bytes that are neither a
 * lead nor where one is expected); returns the bytes where the run stops
 * then.  A
 * block of text in UCS-2 with a pound sign, an inverted question mark or
 * a curly quote is read once, not once more after each (issue 16: the
 * gsm_rare class started a block over at each, or read the text one code
 * point at a time where they came close together).  Out of line, and
 * given copies of the block's masks (the masks themselves passed by
 * address cost every block: CJK 6.47 instructions a byte, not 6.38): a
 * block where a run stops pays a test of the byte there (C2 or E2), and
 * only such a byte a call.
 */
static __attribute__((noinline)) uint64_t
odd_patch(const unsigned char *t, uint64_t err, uint64_t cont, uint64_t all,
	  uint64_t exp, uint64_t *lead, uint64_t *l2, uint64_t *l3)
{
	while (err) {
		uint64_t q = err & (0 - err);
		size_t w;

		if ((exp & q) || !(w = odd_plain(t + __builtin_ctzll(err))))
			break; /* not a lead where one may start */
		*lead |= q;
		if (w == 2) {
			*l2 |= q;
			exp |= q << 1;
		} else {
			*l3 |= q;
			exp |= (q << 1) | (q << 2);
		}
		err = (~(*lead | cont) | (cont ^ exp)) & all;
	}
	return err;
}

/*
 * One block of W <= 64 bytes as bit masks, bit j = byte j (an ISA's masks
 * function fills it; bytes past the block are looked at only to classify
 * the leads inside it): asc printable ASCII, LF and CR; cont continuation
 * bytes; l2 / l3 / l4 leads of plain 2-, 3- and 4-byte code points.
 */
typedef struct pmask {
	uint64_t asc, cont, l2, l3, l4;
} pmask;

/* The position of the set bit of rank k (0 for the lowest) of x, which
 * has more than k bits set, all below bit W (W bytes a block): a binary
 * search on popcounts, its steps unrolled and without branches (each
 * step's way is the data's: a branch there was mispredicted about every
 * other time, where a segment ends in emoji text). */
static inline __attribute__((always_inline)) unsigned
nth_bit(uint64_t x, unsigned k, unsigned W, bool hw)
{
	unsigned pos = 0;

	_Pragma("GCC unroll 8")
	for (unsigned w = W / 2; w; w >>= 1) {
		unsigned c = quota__sms_pop(x & ((UINT64_C(1) << w) - 1), hw);
		unsigned up = 0u - (unsigned)(k >= c); /* all ones: go up */

		k -= c & up;
		x >>= w & up;
		pos += w & up;
	}
	return pos;
}

/*
 * Pack one block: the whole plain code points from its start (each lead
 * followed by exactly its continuation bytes, up to the first byte that
 * is neither) are placed into *f after the pending item (*pend units, 0
 * for none: the cluster open before the run, then the last code point so
 * far), but the block's last one, which becomes the pending item (*last
 * its offset, base + bit): whether the run ends after it is known only
 * later.  A code point cut by the block's end is left to the next block.
 * Returns the bytes taken; *stop when something not plain follows them.
 * t: the block's bytes, W + 3 of them readable (odd_plain reads up to
 * t[W + 1] where a run would stop at t[W - 1]).
 *
 * The units of the block's code points are the bits of u: a lead's bit
 * and, for the second unit of a pair, the bit after it (a continuation
 * byte's).  When they fit in the current segment they are added at once,
 * and a run of 1-unit items crosses a boundary by subtraction (pk_run);
 * in a block with a surrogate pair (or a pending cluster of 2 units or
 * more) where a segment ends, the item that opens the next segment is
 * found by rank (nth_bit), not by walking the items (issue 16).
 */
static inline __attribute__((always_inline)) size_t
plain_block(const unsigned char *t, const pmask *m, unsigned W, size_t base,
	    quota__sms_fill *f, int64_t *pend, size_t *last, bool *stop,
	    bool hw)
{
	uint64_t all = low_bits(W), l2 = m->l2, l3 = m->l3;
	uint64_t lead = m->asc | l2 | l3 | m->l4;
	uint64_t exp = (l2 << 1) | (l3 << 1) | (l3 << 2) |
		       (m->l4 << 1) | (m->l4 << 2) | (m->l4 << 3);
	uint64_t err = (~(lead | m->cont) | (m->cont ^ exp)) & all;
	uint64_t start, body, bit, u;
	unsigned p, L, end;
	int64_t add;

	if (err && (t[__builtin_ctzll(err)] & 0xDFu) == 0xC2u) { /* C2, E2 */
		uint64_t cl = lead, c2 = l2, c3 = l3;

		err = odd_patch(t, err, m->cont, all, exp, &cl, &c2, &c3);
		lead = cl;
		l2 = c2;
		l3 = c3;
	}
	p = err ? (unsigned)__builtin_ctzll(err) : W;
	start = lead & low_bits(p);

	*stop = err != 0;
	if (!start)
		return 0;
	L = 63u - (unsigned)__builtin_clzll(start);
	end = L + ((m->asc >> L) & 1 ? 1u
		   : (l2 >> L) & 1    ? 2u
		   : (l3 >> L) & 1    ? 3u
				      : 4u);
	if (end > p) { /* the last code point is cut: leave it */
		start &= ~(UINT64_C(1) << L);
		end = L;
		if (!start)
			return 0;
		L = 63u - (unsigned)__builtin_clzll(start);
	}
	bit = UINT64_C(1) << L;
	body = start & ~bit;
	u = body | ((body & m->l4) << 1);
	add = *pend + quota__sms_pop(u, hw);
	if (f->fill + add <= f->cap) {
		/* no segment ends inside */
		f->fill += add;
		f->total += add;
	} else if (*pend < 2 && !(body & m->l4)) {
		/* 1-unit items only: pk_run */
		f->fill += add;
		f->total += add;
		while (f->fill > f->cap) {
			f->segs++;
			f->fill -= f->cap;
		}
	} else {
		/* A segment ends where a surrogate pair may straddle it: the
		 * unit of rank `room` in u is the first that does not fit,
		 * and the item holding it opens the next segment, whole, as
		 * pk_put places it. */
		uint64_t below;
		unsigned q;

		if (*pend)
			fput(f, *pend);
		while (f->fill + quota__sms_pop(u, hw) > f->cap) {
			q = nth_bit(u, (unsigned)(f->cap - f->fill), W, hw);
			q -= !((body >> q) & 1); /* a pair's second unit */
			below = u & ((UINT64_C(1) << q) - 1);
			f->total += quota__sms_pop(below, hw);
			f->segs++;
			f->fill = 0;
			u &= ~below;
		}
		f->fill += quota__sms_pop(u, hw);
		f->total += quota__sms_pop(u, hw);
	}
	*pend = 1 + (int64_t)((m->l4 & bit) != 0);
	*last = base + L;
	return end;
}

/*
 * The run from s[0..n) with block masks from `masks` (W bytes a block,
 * reading 3 bytes beyond it): the loop of every vector level, written
 * once and instantiated per target (always_inline, so that `masks` is
 * inlined into each instantiation, with the target's instructions).  The
 * tail shorter than a block and its look-ahead is copied into a zeroed
 * buffer and run as one or two more blocks, each starting before the
 * text's end, so that the buffer holds its look-ahead: a 0x00 byte is
 * not plain, so the padding ends the run there, and a code point cut by
 * the end of the text is neither a whole one nor plain (the caller
 * reports it).
 */
static inline __attribute__((always_inline)) size_t
plain_drive(const unsigned char *s, size_t n, quota__sms_fill *out,
	    int64_t *open, size_t *last, unsigned W,
	    void (*masks)(const unsigned char *, pmask *), bool hw)
{
	quota__sms_fill f = *out;
	int64_t pend = *open;
	size_t j = 0, adv;
	bool stop = false;
	pmask m;

	while (n - j >= W + 3) {
		masks(s + j, &m);
		adv = plain_block(s + j, &m, W, j, &f, &pend, last, &stop, hw);
		j += adv;
		if (stop || adv == 0)
			goto done;
	}
	if (j < n) {
		/* t <= W + 2 bytes, and each block starts at o < t, so
		 * that its W + 3 bytes are inside b */
		unsigned char b[2 * 64 + 8];
		size_t t = n - j, o = 0;

		memset(b, 0, sizeof b);
		memcpy(b, s + j, t);
		do {
			masks(b + o, &m);
			adv = plain_block(b + o, &m, W, j + o, &f, &pend, last,
					  &stop, hw);
			o += adv;
			/* b is zero past the text; !adv without stop cannot
			 * happen, as a block starts at a lead: tested all
			 * the same */
		} while (!stop && adv && o < t);
		j += o;
	}
done:
	if (j) {
		*out = f;
		*open = pend;
	}
	return j;
}
#endif

#ifdef SMS_X86
/*
 * The masks of a 16-byte block.  Most blocks need only part of the work:
 * one of ASCII alone has no other lead nor continuation byte, one without
 * a byte in E3..F0 no 3- or 4-byte lead, one without F0 no 4-byte lead;
 * the tests are cheaper than what they skip (Latin, Cyrillic and Greek
 * text never reads the bytes after a lead).
 */
static inline __attribute__((always_inline)) void
masks_sse2(const unsigned char *s, pmask *m)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i n1, n2, n3, e3, ef, f0;

	m->asc = (unsigned)_mm_movemask_epi8(
		_mm_or_si128(rng16(v, 0x20, 0x7E),
			     _mm_or_si128(eq16(v, 0x0A), eq16(v, 0x0D))));
	m->cont = m->l2 = m->l3 = m->l4 = 0;
	if (!_mm_movemask_epi8(v))
		return;
	m->cont = (unsigned)_mm_movemask_epi8(rng16(v, 0x80, 0xBF));
	m->l2 = (unsigned)_mm_movemask_epi8(
		_mm_or_si128(eq16(v, 0xC3), rng16(v, 0xCE, 0xD1)));
	if (!_mm_movemask_epi8(rng16(v, 0xE3, 0xF0)))
		return;
	n1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 1));
	n2 = _mm_loadu_si128((const __m128i *)(const void *)(s + 2));
	e3 = _mm_and_si128(
		eq16(v, 0xE3),
		_mm_or_si128(
			_mm_or_si128(eq16(n1, 0x81), eq16(n1, 0x83)),
			_mm_or_si128(
				_mm_andnot_si128(_mm_or_si128(eq16(n2, 0x99),
							      eq16(n2, 0x9A)),
						 eq16(n1, 0x82)),
				_mm_and_si128(
					eq16(n1, 0x80),
					_mm_or_si128(rng16(n2, 0x80, 0xA9),
						     _mm_andnot_si128(
							     eq16(n2, 0xBD),
							     rng16(n2, 0xB1, 0xBF)))))));
	ef = _mm_or_si128(
		_mm_and_si128(eq16(v, 0xEF), rng16(n1, 0xBC, 0xBD)),
		_mm_or_si128(_mm_and_si128(eq16(v, 0xEA), rng16(n1, 0xB0, 0xBF)),
			     _mm_and_si128(eq16(v, 0xED), rng16(n1, 0x80, 0x9D))));
	m->l3 = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(rng16(v, 0xE4, 0xE9), rng16(v, 0xEB, 0xEC)),
		_mm_or_si128(e3, ef)));
	f0 = eq16(v, 0xF0);
	if (!_mm_movemask_epi8(f0))
		return;
	n3 = _mm_loadu_si128((const __m128i *)(const void *)(s + 3));
	f0 = _mm_and_si128(
		_mm_and_si128(f0, eq16(n1, 0x9F)),
		_mm_or_si128(_mm_andnot_si128(_mm_and_si128(eq16(n2, 0x8F),
							    rng16(n3, 0xBB, 0xBF)),
					      rng16(n2, 0x8C, 0x9B)),
			     rng16(n2, 0xA4, 0xA7)));
	m->l4 = (unsigned)_mm_movemask_epi8(f0);
}

static __attribute__((noinline)) size_t
plain_sse2(const unsigned char *s, size_t n, quota__sms_fill *f,
	   int64_t *open, size_t *last)
{
	return plain_drive(s, n, f, open, last, 16, masks_sse2, false);
}

/*
 * The masks of a 32-byte block as masks_sse2 computes them, the byte
 * classes looked up by nibble (vpshufb: a class is the AND of what the
 * high and the low nibble allow) instead of one comparison or range per
 * lead and continuation value (issue 16: cjk and emoji text spent two
 * thirds of their time in this function).  Lead classes, bits of c:
 *   01 20..6F, 02 70..7E, 04 0A 0D: printable ASCII, LF and CR;
 *   08 80..BF continuation; 10 C3 CE CF, 20 D0 D1: plain 2-byte leads;
 *   40 E4..E9 EB EC: plain 3-byte leads whatever follows;
 *   80 E3 EA ED EF: plain 3-byte leads for some second (and, after E3,
 *      third) bytes, told by a second lookup on the bytes after them.
 * F0 is compared.
 */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) void
masks_avx2(const unsigned char *s, pmask *m)
{
	const __m256i lead_hi = _mm256_setr_epi8(QUOTA__R16(
		0x04, 0, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, /* 0..7 */
		0x08, 0x08, 0x08, 0x08, 0x10, 0x20, (char)0xC0, 0));
	const __m256i lead_lo = _mm256_setr_epi8(QUOTA__R16(
		0x2B, 0x2B, 0x0B, 0x1B | (char)0x80, 0x4B, 0x4B, 0x4B, 0x4B,
		0x4B, 0x4B, 0x0F | (char)0x80, 0x4B, 0x4B,
		0x0F | (char)0x80, 0x1B, 0x19 | (char)0x80));
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
	__m256i c, n1, n2, n3, k, f0;
	uint64_t cond;

	if (!_mm256_movemask_epi8(v)) { /* ASCII: see masks_sse2 */
		m->asc = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
			_mm256_cmpgt_epi8(v, _mm256_set1_epi8(0x1F)),
			_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x0A)),
					_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x0D)))));
		m->asc &= ~(uint64_t)(uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F)));
		m->cont = m->l2 = m->l3 = m->l4 = 0;
		return;
	}
	c = _mm256_and_si256(quota__nib_hi32(v, lead_hi), quota__nib_lo32(v, lead_lo));
	m->asc = any32(c, 0x07);
	m->cont = any32(c, 0x08);
	m->l2 = any32(c, 0x30);
	m->l3 = any32(c, 0x40);
	m->l4 = 0;
	cond = (uint32_t)_mm256_movemask_epi8(c);
	if (cond) {
		/*
		 * Which second bytes each conditional lead allows (by its low
		 * nibble: E3 -> 07, EA -> 08, ED -> 50, EF -> 20), and the
		 * second byte's class: 01 81 83; 02 80 and 04 82 (E3: the
		 * third byte decides); 08 B0..BF; 10 80..8F; 40 90..9D;
		 * 20 BC BD.
		 */
		const __m256i sel = _mm256_setr_epi8(QUOTA__R16(
			0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0x50, 0, 0x20));
		const __m256i s_hi = _mm256_setr_epi8(QUOTA__R16(
			0, 0, 0, 0, 0, 0, 0, 0, 0x17, 0x40, 0, 0x28, 0, 0, 0, 0));
		const __m256i s_lo = _mm256_setr_epi8(QUOTA__R16(
			0x5A, 0x59, 0x5C, 0x59, 0x58, 0x58, 0x58, 0x58,
			0x58, 0x58, 0x58, 0x58, 0x78, 0x78, 0x18, 0x18));
		/* Third byte after E3 80 (01: 80..9F; 02: A0..A9; 04:
		 * B1..BF but BD) and after E3 82 (08: 80..8F A0..BF; 10:
		 * 90..9F but 99 9A). */
		const __m256i t_hi = _mm256_setr_epi8(QUOTA__R16(
			0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x11, 0x0A, 0x0C, 0, 0, 0, 0));
		const __m256i t_lo = _mm256_setr_epi8(QUOTA__R16(
			0x1B, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F,
			0x1F, 0x0F, 0x0D, 0x1D, 0x1D, 0x19, 0x1D, 0x1D));
		uint64_t direct, e380, e382;

		n1 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 1));
		n2 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 2));
		k = _mm256_and_si256(_mm256_and_si256(quota__nib_lo32(v, sel),
						      quota__nib_hi32(n1, s_hi)),
				     quota__nib_lo32(n1, s_lo));
		direct = any32(k, 0x79);
		e380 = any32(k, 0x02);
		e382 = any32(k, 0x04);
		if (e380 | e382) {
			__m256i t = _mm256_and_si256(quota__nib_hi32(n2, t_hi),
						     quota__nib_lo32(n2, t_lo));
			direct |= (e380 & any32(t, 0x07)) |
				  (e382 & any32(t, 0x18));
		}
		m->l3 |= cond & direct;
	}
	f0 = eq32(v, 0xF0);
	if (!_mm256_movemask_epi8(f0))
		return;
	n1 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 1));
	n2 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 2));
	n3 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 3));
	f0 = _mm256_and_si256(
		_mm256_and_si256(f0, eq32(n1, 0x9F)),
		_mm256_or_si256(
			_mm256_andnot_si256(_mm256_and_si256(eq32(n2, 0x8F),
							     rng32(n3, 0xBB, 0xBF)),
					    rng32(n2, 0x8C, 0x9B)),
			rng32(n2, 0xA4, 0xA7)));
	m->l4 = (uint32_t)_mm256_movemask_epi8(f0);
}

/* Two 32-byte blocks as one of 64 bytes: packing a block costs about as
 * much as its masks, and long runs (cjk, emoji) pack half as many
 * (issue 16). */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) void
masks64_avx2(const unsigned char *s, pmask *m)
{
	pmask h;

	masks_avx2(s, m);
	masks_avx2(s + 32, &h);
	m->asc |= h.asc << 32;
	m->cont |= h.cont << 32;
	m->l2 |= h.l2 << 32;
	m->l3 |= h.l3 << 32;
	m->l4 |= h.l4 << 32;
}

__attribute__((target("avx2,popcnt"))) static size_t
plain_avx2(const unsigned char *s, size_t n, quota__sms_fill *f, int64_t *open,
	   size_t *last)
{
	return plain_drive(s, n, f, open, last, 64, masks64_avx2, true);
}
#endif

#ifdef SMS_NEON
/* As masks_sse2, the same early exits (run under qemu-aarch64 by make
 * check-neon). */
static inline __attribute__((always_inline)) void
masks_neon(const unsigned char *s, pmask *m)
{
	uint8x16_t v = vld1q_u8(s), n1, n2, n3, e3, ef, f0;

	m->asc = nmask(vorrq_u8(nrng(v, 0x20, 0x7E),
				vorrq_u8(neq(v, 0x0A), neq(v, 0x0D))));
	m->cont = m->l2 = m->l3 = m->l4 = 0;
	if (vmaxvq_u8(v) < 0x80)
		return;
	m->cont = nmask(nrng(v, 0x80, 0xBF));
	m->l2 = nmask(vorrq_u8(neq(v, 0xC3), nrng(v, 0xCE, 0xD1)));
	if (!vmaxvq_u8(nrng(v, 0xE3, 0xF0)))
		return;
	n1 = vld1q_u8(s + 1);
	n2 = vld1q_u8(s + 2);
	e3 = vandq_u8(
		neq(v, 0xE3),
		vorrq_u8(vorrq_u8(neq(n1, 0x81), neq(n1, 0x83)),
			 vorrq_u8(vbicq_u8(neq(n1, 0x82),
					   vorrq_u8(neq(n2, 0x99), neq(n2, 0x9A))),
				  vandq_u8(neq(n1, 0x80),
					   vorrq_u8(nrng(n2, 0x80, 0xA9),
						    vbicq_u8(nrng(n2, 0xB1, 0xBF),
							     neq(n2, 0xBD)))))));
	ef = vorrq_u8(
		vandq_u8(neq(v, 0xEF), nrng(n1, 0xBC, 0xBD)),
		vorrq_u8(vandq_u8(neq(v, 0xEA), nrng(n1, 0xB0, 0xBF)),
			 vandq_u8(neq(v, 0xED), nrng(n1, 0x80, 0x9D))));
	m->l3 = nmask(vorrq_u8(vorrq_u8(nrng(v, 0xE4, 0xE9), nrng(v, 0xEB, 0xEC)),
			       vorrq_u8(e3, ef)));
	f0 = neq(v, 0xF0);
	if (!vmaxvq_u8(f0))
		return;
	n3 = vld1q_u8(s + 3);
	f0 = vandq_u8(
		vandq_u8(f0, neq(n1, 0x9F)),
		vorrq_u8(vbicq_u8(nrng(n2, 0x8C, 0x9B),
				  vandq_u8(neq(n2, 0x8F), nrng(n3, 0xBB, 0xBF))),
			 nrng(n2, 0xA4, 0xA7)));
	m->l4 = nmask(f0);
}

static __attribute__((noinline)) size_t
plain_neon(const unsigned char *s, size_t n, quota__sms_fill *f,
	   int64_t *open, size_t *last)
{
	return plain_drive(s, n, f, open, last, 16, masks_neon, false);
}
#endif

size_t quota__sms_plain_pack(const unsigned char *s, size_t n,
			     quota__sms_fill *f, int64_t *open, size_t *last)
{
	switch (quota__sms_simd_level()) {
#ifdef SMS_X86
	case QUOTA__SMS_AVX2:
		return plain_avx2(s, n, f, open, last);
	case QUOTA__SMS_SSE2:
		return plain_sse2(s, n, f, open, last);
#endif
#ifdef SMS_NEON
	case QUOTA__SMS_NEON:
		return plain_neon(s, n, f, open, last);
#endif
	default:
		return plain_portable(s, n, f, open, last);
	}
}
