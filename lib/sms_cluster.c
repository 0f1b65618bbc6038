/*
 * sms_cluster.c - skipping the UAX #29 walk where no segment can end
 * (issue 16, DESIGN.md §3).
 *
 * The default UCS-2 count only needs the cluster boundaries near the
 * places where a segment fills up: every cluster that ends within the
 * room left in the current segment is placed there whatever its extent,
 * so a stretch of text that fits the room only adds its UTF-16 units.
 * The walk may resume after such a stretch at an ASCII code point: a
 * cluster starts before it unless it is printable and follows a Prepend
 * (GB4, GB5, GB9b; quota__sms_skip_walk checks the Prepend; CR LF may be
 * split here, sms.c's §3 note, so an LF after a CR starts one too), and the
 * state after it is its own property alone.  quota__sms_skip finds the
 * farthest such ASCII code point within the room, counting units and
 * checking UTF-8 64 bytes at a time (32-byte vectors at the AVX2 level,
 * by table look-ups on nibbles; 16-byte ones at the SSE2 level, the
 * x86-64 baseline, and a byte at a time elsewhere and under
 * QUOTA_NO_SIMD, by the rules themselves; tests/check_sms_simd.c holds
 * every level against the definition).
 */
#include "sms_vec.h"
#include "grapheme_dfa.h"

#include <string.h>

/* Per 64-byte block: bit j for byte j. */
typedef struct blk {
	uint64_t ascii; /* below 0x80 */
	uint64_t cont;  /* 0x80..0xBF */
	uint64_t four;  /* F0 and above: lead of a surrogate pair */
	bool bad;       /* invalid UTF-8 seen (or a sequence cut by the end
			 * of the text, which the zero padding shows) */
} blk;

/*
 * Validity as a rule per byte given the three before it (the ones before
 * the start count as ASCII: the caller starts at a code point): a byte is
 * a continuation exactly when a lead before it asks for one; C0, C1 and
 * F5..FF never occur; after E0 a continuation is A0..BF (not overlong),
 * after ED 80..9F (not a surrogate), after F0 90..BF, after F4 80..8F (not
 * above U+10FFFF).
 */
typedef union skip_carry {
	unsigned char last[3]; /* the 3 bytes before, latest last */
#ifdef SMS_X86
	__m128i v16;
	__m256i v32;
#endif
} skip_carry;

static inline __attribute__((always_inline)) void
blk_portable(const unsigned char *s, skip_carry *cy, blk *b)
{
	unsigned char *l = cy->last;
	unsigned p1 = l[2], p2 = l[1], p3 = l[0];

	b->ascii = b->cont = b->four = 0;
	for (unsigned j = 0; j < 64; j++) {
		unsigned x = s[j];
		bool cont = (x & 0xC0u) == 0x80u;
		bool req = p1 >= 0xC0u || p2 >= 0xE0u || p3 >= 0xF0u;

		b->bad |= cont != req || x == 0xC0u || x == 0xC1u ||
			  x >= 0xF5u || (p1 == 0xE0u && x < 0xA0u) ||
			  (p1 == 0xEDu && x >= 0xA0u) ||
			  (p1 == 0xF0u && x < 0x90u) ||
			  (p1 == 0xF4u && x >= 0x90u);
		b->ascii |= (uint64_t)(x < 0x80u) << j;
		b->cont |= (uint64_t)cont << j;
		b->four |= (uint64_t)(x >= 0xF0u) << j;
		p3 = p2;
		p2 = p1;
		p1 = x;
	}
	l[0] = (unsigned char)p3;
	l[1] = (unsigned char)p2;
	l[2] = (unsigned char)p1;
}

#ifdef SMS_X86
/* The same rules on 16 bytes at a time, on the bytes xor 0x80 so that
 * signed compares order them as unsigned ones (ASCII -128..-1, 80..BF
 * 0..63, C0.. 64..); cy->v16 holds the 16 bytes before, so xored. */
#define PREV(x, p, k) \
	_mm_or_si128(_mm_slli_si128(x, k), _mm_srli_si128(p, 16 - (k)))
#define GT(x, c) _mm_cmpgt_epi8(x, _mm_set1_epi8(c))
#define LT(x, c) _mm_cmplt_epi8(x, _mm_set1_epi8(c))
#define EQ(x, c) _mm_cmpeq_epi8(x, _mm_set1_epi8(c))
static inline __attribute__((always_inline)) void
blk_sse2(const unsigned char *s, skip_carry *cy, blk *b)
{
	__m128i err = _mm_setzero_si128(), p = cy->v16;
	uint64_t asc = 0, cont = 0, four = 0;

	for (unsigned j = 0; j < 64; j += 16) {
		__m128i x = _mm_xor_si128(
			_mm_loadu_si128((const __m128i *)(const void *)(s + j)),
			_mm_set1_epi8(-128));
		__m128i p1 = PREV(x, p, 1), p2 = PREV(x, p, 2),
			p3 = PREV(x, p, 3);
		__m128i c = _mm_and_si128(GT(x, -1), LT(x, 64));
		__m128i req = _mm_or_si128(_mm_or_si128(GT(p1, 63), GT(p2, 95)),
					   GT(p3, 111));
		__m128i lta0 = LT(x, 32), lt90 = LT(x, 16), f0 = GT(x, 111);
		__m128i e = _mm_xor_si128(c, req);

		/* C0, C1 (64, 65) and F5..FF */
		e = _mm_or_si128(e, EQ(_mm_and_si128(x, _mm_set1_epi8(-2)), 64));
		e = _mm_or_si128(e, GT(x, 116));
		/* after E0 (96), ED (109), F0 (112), F4 (116) */
		e = _mm_or_si128(e, _mm_and_si128(lta0, EQ(p1, 96)));
		e = _mm_or_si128(e, _mm_andnot_si128(lta0, EQ(p1, 109)));
		e = _mm_or_si128(e, _mm_and_si128(lt90, EQ(p1, 112)));
		e = _mm_or_si128(e, _mm_andnot_si128(lt90, EQ(p1, 116)));
		err = _mm_or_si128(err, e);
		asc |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << j;
		cont |= (uint64_t)(unsigned)_mm_movemask_epi8(c) << j;
		four |= (uint64_t)(unsigned)_mm_movemask_epi8(f0) << j;
		p = x;
	}
	cy->v16 = p;
	b->ascii = asc;
	b->cont = cont;
	b->four = four;
	b->bad |= _mm_movemask_epi8(err) != 0;
}
#undef EQ
#undef LT
#undef GT
#undef PREV

/*
 * The same on 32 bytes at a time, by another method (issue 16: the rules
 * above cost the clusters class a third of its instructions): Keiser and
 * Lemire's look-up ("Validating UTF-8 in less than one instruction per
 * byte", 2021).  Whether a byte may follow the one before it is a
 * property of three nibbles, the high and low of the byte before and the
 * high of this one: each looks up the error kinds it allows (vpshufb),
 * and a pair is wrong where all three allow the same kind.  A
 * continuation after a continuation is such a kind; it is right exactly
 * where the byte two or three back is a 3- or 4-byte lead, which is
 * checked apart.  Bytes as they are (the carry holds the 32 before, 0 at
 * the start: ASCII).  A C0, C1 or F5..FF byte is seen with the byte after
 * it, so at a block's last byte, where the room ends in that block, this
 * level may stop the skip before it (QUOTA__SKIP_TO) where the rules give
 * up (QUOTA__SKIP_BAD): the bytes before the stop are valid either way
 * (sms_int.h), and the walk after it reports the bad byte.
 */
enum {
	UV_SHORT = 0x01,     /* a lead, then no continuation */
	UV_LONG = 0x02,      /* ASCII, then a continuation */
	UV_OVER3 = 0x04,     /* E0 80..9F */
	UV_LARGE = 0x08,     /* F4 90..BF, F5.. 90..BF */
	UV_SURR = 0x10,      /* ED A0..BF */
	UV_OVER2 = 0x20,     /* C0, C1 */
	UV_LARGE80 = 0x40,   /* F5.. 80..8F; F0 80..8F (overlong) */
	UV_TWO = 0x80,       /* a continuation, then one */
	UV_CARRY = UV_SHORT | UV_LONG | UV_TWO
};

__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) void
blk_avx2(const unsigned char *s, skip_carry *cy, blk *b)
{
	/* by the high nibble of the byte before */
	const __m256i t1 = _mm256_setr_epi8(QUOTA__R16(
		UV_LONG, UV_LONG, UV_LONG, UV_LONG, UV_LONG, UV_LONG, UV_LONG,
		UV_LONG, (char)UV_TWO, (char)UV_TWO, (char)UV_TWO, (char)UV_TWO,
		UV_SHORT | UV_OVER2, UV_SHORT, UV_SHORT | UV_OVER3 | UV_SURR,
		UV_SHORT | UV_LARGE | UV_LARGE80));
	/* by the low nibble of the byte before */
	const __m256i t2 = _mm256_setr_epi8(QUOTA__R16(
		(char)(UV_CARRY | UV_OVER3 | UV_OVER2 | UV_LARGE80),
		(char)(UV_CARRY | UV_OVER2), (char)UV_CARRY, (char)UV_CARRY,
		(char)(UV_CARRY | UV_LARGE),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80 | UV_SURR),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80),
		(char)(UV_CARRY | UV_LARGE | UV_LARGE80)));
	/* by the high nibble of the byte */
	const __m256i t3 = _mm256_setr_epi8(QUOTA__R16(
		UV_SHORT, UV_SHORT, UV_SHORT, UV_SHORT, UV_SHORT, UV_SHORT,
		UV_SHORT, UV_SHORT,
		(char)(UV_LONG | UV_OVER2 | UV_TWO | UV_OVER3 | UV_LARGE80),
		(char)(UV_LONG | UV_OVER2 | UV_TWO | UV_OVER3 | UV_LARGE),
		(char)(UV_LONG | UV_OVER2 | UV_TWO | UV_SURR | UV_LARGE),
		(char)(UV_LONG | UV_OVER2 | UV_TWO | UV_SURR | UV_LARGE),
		UV_SHORT, UV_SHORT, UV_SHORT, UV_SHORT));
	__m256i err = _mm256_setzero_si256(), p = cy->v32;
	uint64_t high = 0, cont = 0, four = 0;

	/* both halves in line: gcc kept the loop, with its shifts by j
	 * (clusters 2 % fewer instructions) */
	_Pragma("GCC unroll 2")
	for (unsigned j = 0; j < 64; j += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(s + j));
		/* per lane, the 16 bytes before it (p's high lane before
		 * the low one) for the byte shifts */
		__m256i pp = _mm256_permute2x128_si256(p, x, 0x21);
		__m256i p1 = _mm256_alignr_epi8(x, pp, 15),
			p2 = _mm256_alignr_epi8(x, pp, 14),
			p3 = _mm256_alignr_epi8(x, pp, 13);
		__m256i k = _mm256_and_si256(
			_mm256_and_si256(quota__nib_hi32(p1, t1),
					 quota__nib_lo32(p1, t2)),
			quota__nib_hi32(x, t3));
		/* a third or fourth byte: E0.. two back, F0.. three back
		 * (their bit 7 left set by the saturating subtractions) */
		__m256i must = _mm256_and_si256(
			_mm256_or_si256(
				_mm256_subs_epu8(p2, _mm256_set1_epi8(0xE0 - 0x80)),
				_mm256_subs_epu8(p3, _mm256_set1_epi8(0xF0 - 0x80))),
			_mm256_set1_epi8((char)0x80));

		err = _mm256_or_si256(err, _mm256_xor_si256(must, k));
		high |= (uint64_t)(uint32_t)_mm256_movemask_epi8(x) << j;
		/* 80..BF: below C0 as signed bytes */
		cont |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
				_mm256_cmpgt_epi8(_mm256_set1_epi8((char)0xC0), x))
			<< j;
		/* F0..FF, and ASCII: above EF as signed bytes */
		four |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
				_mm256_cmpgt_epi8(x, _mm256_set1_epi8((char)0xEF)))
			<< j;
		p = x;
	}
	cy->v32 = p;
	b->ascii = ~high;
	b->cont = cont;
	b->four = four & high;
	b->bad |= !_mm256_testz_si256(err, err);
}
#endif

/* UTF-16 units of the code points starting in the bits of b below bit j
 * (j < 64). */
static inline __attribute__((always_inline)) int64_t
units_below(const blk *b, unsigned j, bool hw)
{
	uint64_t m = (UINT64_C(1) << j) - 1;

	return quota__sms_pop(~b->cont & m, hw) + quota__sms_pop(b->four & m, hw);
}

/* The search, once per level (always_inline: each instantiation gets its
 * level's block function inlined, with its instructions). */
typedef void (*blkfn)(const unsigned char *, skip_carry *, blk *);

static inline __attribute__((always_inline)) int
skip_drive(const unsigned char *s, size_t n, int64_t room, size_t *at,
	   int64_t *units, const skip_carry *init, blkfn blkf, bool hw)
{
	skip_carry cy = *init;
	unsigned char pad[64];
	size_t base = 0, best = 0;
	int64_t u = 0, bestu = 0;
	bool found = false;
	blk b = {0, 0, 0, false};

	for (;;) {
		size_t k = n - base < 64 ? n - base : 64;
		const unsigned char *q = s + base;
		uint64_t live = k == 64 ? ~UINT64_C(0) : (UINT64_C(1) << k) - 1;
		int64_t bu;

		if (k < 64) {
			/* zeros after the end: a cut sequence shows as bad */
			memset(pad, 0, sizeof pad);
			memcpy(pad, q, k);
			q = pad;
		}
		blkf(q, &cy, &b);
		if (b.bad)
			return QUOTA__SKIP_BAD;
		b.ascii &= live;
		b.cont |= ~live;
		b.four &= live;
		bu = quota__sms_pop(~b.cont, hw) + quota__sms_pop(b.four, hw);
		if (u + bu <= room) {
			if (b.ascii) {
				unsigned j = 63u - (unsigned)__builtin_clzll(b.ascii);
				best = base + j;
				bestu = u + units_below(&b, j, hw);
				found = true;
			}
			u += bu;
			base += k;
			if (base >= n) {
				/* A sequence cut by the end of a text that
				 * ends with a whole block: zeros after it. */
				if (k == 64) {
					memset(pad, 0, sizeof pad);
					blkf(pad, &cy, &b);
					if (b.bad)
						return QUOTA__SKIP_BAD;
				}
				*at = n;
				*units = u;
				return QUOTA__SKIP_END;
			}
			continue;
		}
		/* The room ends in this block: the bytes whose offset is
		 * within it are a prefix of the block (offsets only grow);
		 * its last ASCII code point, if any, else an earlier
		 * block's.  A few ASCII bytes (cluster text, where the skip
		 * runs most) are tried from the last down; more (text
		 * mixed with ASCII words), the prefix's last byte t is
		 * searched for first and the bits after it cleared. */
		uint64_t a = b.ascii;
		if (quota__sms_pop(a, hw) > 3) {
			unsigned t = 0;
			for (unsigned w = 32; w; w >>= 1)
				if (u + units_below(&b, t + w, hw) <= room)
					t += w;
			/* bits 0..t (2 << 63 wraps to 0: all of them) */
			a &= (UINT64_C(2) << t) - 1;
		}
		while (a) {
			unsigned j = 63u - (unsigned)__builtin_clzll(a);
			int64_t ju = u + units_below(&b, j, hw);

			if (ju <= room) {
				best = base + j;
				bestu = ju;
				found = true;
				break;
			}
			a ^= UINT64_C(1) << j;
		}
		break;
	}
	if (!found)
		return QUOTA__SKIP_NONE;
	*at = best;
	*units = bestu;
	return QUOTA__SKIP_TO;
}

static int skip_portable(const unsigned char *s, size_t n, int64_t room,
			 size_t *at, int64_t *units)
{
	skip_carry cy;

	memset(&cy, 0, sizeof cy);
	return skip_drive(s, n, room, at, units, &cy, blk_portable, false);
}

#ifdef SMS_X86
/* The bytes before the start count as ASCII (0 xor 0x80). */
static int skip_sse2(const unsigned char *s, size_t n, int64_t room,
		     size_t *at, int64_t *units)
{
	skip_carry cy;

	cy.v16 = _mm_set1_epi8(-128);
	return skip_drive(s, n, room, at, units, &cy, blk_sse2, false);
}

__attribute__((target("avx2,popcnt"))) static int
skip_avx2(const unsigned char *s, size_t n, int64_t room, size_t *at,
	  int64_t *units)
{
	skip_carry cy;

	cy.v32 = _mm256_setzero_si256(); /* ASCII before the start */
	return skip_drive(s, n, room, at, units, &cy, blk_avx2, true);
}
#endif

/* The level's skip; inline in both callers below (the walk's one call
 * less: about 30 instructions a skip). */
static inline __attribute__((always_inline)) int
skip_level(const unsigned char *s, size_t n, int64_t room, size_t *at,
	   int64_t *units)
{
	switch (quota__sms_simd_level()) {
#ifdef SMS_X86
	case QUOTA__SMS_AVX2:
		return skip_avx2(s, n, room, at, units);
	case QUOTA__SMS_SSE2:
		return skip_sse2(s, n, room, at, units);
#endif
	default:
		return skip_portable(s, n, room, at, units);
	}
}

int quota__sms_skip(const unsigned char *s, size_t n, int64_t room,
		    size_t *at, int64_t *units)
{
	return skip_level(s, n, room, at, units);
}

/* sms_int.h; the resume point is an ASCII code point (see the top). */
bool quota__sms_skip_walk(const unsigned char *s, size_t len, size_t *i,
			  quota__sms_walk *u)
{
	int64_t room = QUOTA__SMS_UCS2_CONCAT - u->fill - u->cost, units;
	size_t at, j;
	int r;

	if (room < 0)
		return true;
	r = skip_level(s + *i, len - *i, room, &at, &units);
	if (r == QUOTA__SKIP_BAD || r == QUOTA__SKIP_NONE)
		return r == QUOTA__SKIP_NONE;
	at += *i;
	/* GB9b: printable ASCII stays with a Prepend before it */
	if (at < len && s[at] >= 0x20 && s[at] != 0x7F && at > 0 &&
	    s[at - 1] >= 0x80) {
		uint32_t cp;
		for (j = at - 1; (s[j] & 0xC0u) == 0x80u; j--)
			;
		quota__u8dec(s, len, j, &cp);
		if ((quota__gb_prop_valid(cp) & 0x0F) == QUOTA__GB_PREPEND)
			return true;
	}
	u->fill += u->cost + units;
	u->total += u->cost + units;
	u->cost = 0;
	*i = at;
	if (at < len) {
		u->start = at;
		u->cost = 1;
		u->row = quota__gb_dfa_enc[quota__gb_prop_valid(s[at]) & 0x0F]
					  [0][0];
		*i = at + 1;
	}
	return true;
}
