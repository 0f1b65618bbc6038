/*
 * sms_gsm.c - the GSM-7 runs of the SMS counter (issue 16): the longest
 * prefix of a text made of GSM characters that fit the room left, found
 * a block at a time (SSE2, AVX2 when the CPU has it, NEON on AArch64:
 * sms_vec.h) with the run-time level of sms_simd.c
 * (quota__sms_simd_level), or a byte at a time under QUOTA_NO_SIMD;
 * tests/check_sms_simd.c holds every level against the portable loop.
 * As the plain runs, one driver (gsm_drive, always_inline) instantiated
 * per target; a level supplies only the masks of a block.
 */
#define QUOTA__SMS_VEC_SET1 1 /* sms_vec.h: plain constants */
#include "sms_vec.h"

/*
 * The longest prefix of s[0..n) made of whole GSM characters of one
 * septet (ascii[c] == 1 for ASCII; 2-byte sequences with a C2..CF lead
 * and two11[payload] == 1) and ASCII extension characters (ascii[c] ==
 * 2: ESC + code) that end within `room` septets of the run's start, so
 * that no segment ends before one and none is split: the caller packs
 * the run as 1-septet characters (issue 16: gsm_ext text stopped at
 * every extension character).  Returns its bytes; *sept gets its
 * septets, *esc its extension characters.  The euro sign (3 bytes),
 * anything not GSM and invalid UTF-8 end the run; the caller takes
 * those one at a time.
 */
static size_t gsm_portable(const unsigned char *s, size_t n,
			   const uint8_t *ascii, const uint8_t *two11,
			   int64_t room, size_t *sept, size_t *esc)
{
	size_t j = 0, k = 0, e = 0;

	while (j < n) {
		unsigned c = s[j];

		if (c < 0x80u && ascii[c] == 1) {
			j++;
		} else if (c < 0x80u && ascii[c] == 2 &&
			   (int64_t)k + 2 <= room) {
			j++;
			k++;
			e++;
		} else if (c - 0xC2u <= 0xCFu - 0xC2u && n - j >= 2 &&
			   (s[j + 1] & 0xC0u) == 0x80u &&
			   two11[((c & 0x1Fu) << 6) | (s[j + 1] & 0x3Fu)] == 1) {
			j += 2;
		} else {
			break;
		}
		k++;
	}
	*sept = k;
	*esc = e;
	return j;
}

#if defined(SMS_X86) || defined(SMS_NEON)
/* One block of W <= 32 bytes for the GSM run as bit masks, bit j = byte
 * j: ok 1-septet ASCII (LF and CR too), ext ASCII extension characters
 * (FF [ \\ ] ^ { | } ~), cont continuation bytes, lead C2..CF (2-byte
 * code points, looked up in two11 by gsm_block). */
typedef struct gmask {
	uint64_t ok, ext, cont, lead;
} gmask;

/* The whole GSM characters of the run from the block's start (see
 * gsm_portable; `room` is what is left of it): returns their bytes, *k
 * their septets, *e their extension characters, *stop when what follows
 * is not one (rather than a code point cut by the block's end). */
static inline __attribute__((always_inline)) size_t
gsm_block(const unsigned char *s, const gmask *g, unsigned W,
	  const uint8_t *two11, int64_t room, size_t *k, size_t *e, bool *stop,
	  bool hw)
{
	uint64_t all = low_bits(W);
	uint64_t err = ((~(g->ok | g->ext | g->cont | g->lead)) |
			(g->cont ^ (g->lead << 1))) & all;
	unsigned p = err ? (unsigned)__builtin_ctzll(err) : W;
	uint64_t below = low_bits(p), start, m;
	unsigned L, end;

	/* leads whose continuation is in the block: look them up */
	for (m = g->lead & (below >> 1); m; m &= m - 1) {
		unsigned j = (unsigned)__builtin_ctzll(m);
		if (two11[((s[j] & 0x1Fu) << 6) | (s[j + 1] & 0x3Fu)] != 1) {
			p = j;
			err = 1;
			below = (UINT64_C(1) << p) - 1;
			break;
		}
	}
	*stop = err != 0;
	start = (g->ok | g->ext | g->lead) & below;
	if (!start) {
		*k = *e = 0;
		return 0;
	}
	L = 63u - (unsigned)__builtin_clzll(start);
	end = L + ((g->lead >> L) & 1 ? 2u : 1u);
	if (end > p) {
		start &= ~(UINT64_C(1) << L);
		end = L;
	}
	/* the first extension character past the room ends the run */
	for (m = g->ext & start; m; m &= m - 1) {
		unsigned j = (unsigned)__builtin_ctzll(m);
		uint64_t upto = (UINT64_C(2) << j) - 1;

		if (quota__sms_pop(start & upto, hw) +
			    quota__sms_pop(g->ext & start & upto, hw) > room) {
			start &= upto >> 1;
			end = j;
			*stop = true;
			break;
		}
	}
	*e = quota__sms_pop(g->ext & start, hw);
	*k = quota__sms_pop(start, hw) + *e;
	return end;
}

/* One block at q of W bytes (masks: its masks) of the GSM run, added to
 * *total and *ext; *adv its bytes.  True when the run ends in it. */
static inline __attribute__((always_inline)) bool
gsm_step(const unsigned char *q, unsigned W,
	 void (*masks)(const unsigned char *, gmask *), const uint8_t *two11,
	 int64_t room, size_t *total, size_t *ext, size_t *adv, bool hw)
{
	uint64_t all = low_bits(W);
	size_t k, e;
	bool stop;
	gmask g;

	masks(q, &g);
	if (g.ok == all) { /* plain ASCII: the common block */
		*total += W;
		*adv = W;
		return false;
	}
	*adv = gsm_block(q, &g, W, two11, room - (int64_t)*total, &k, &e,
			 &stop, hw);
	*total += k;
	*ext += e;
	return stop || *adv == 0;
}

/* The GSM run's loop for every vector level, as sms_simd.c's
 * plain_drive: `masks` gives a block's masks.  At the AVX2 level blocks
 * are of 64 bytes and `half`, when not NULL, gives the masks of Wh = W /
 * 2 bytes: such a block starts the run, takes what is left after the
 * long ones when it fills it, and the tail, so that texts that are not
 * GSM, short texts and the ends of texts are not run as 64 bytes of
 * which most are not looked at.  The tail shorter than a block runs as
 * one more block from a zero-padded copy (0x00 is not GSM, so the
 * padding ends the run there), rather than a byte at a time (issue 16:
 * the tail of every message cost as much as a tenth of the gsm class's
 * time). */
static inline __attribute__((always_inline)) size_t
gsm_drive(const unsigned char *s, size_t n, const uint8_t *two11,
	  int64_t room, size_t *sept, size_t *esc, unsigned W,
	  void (*masks)(const unsigned char *, gmask *), unsigned Wh,
	  void (*half)(const unsigned char *, gmask *), bool hw)
{
	size_t j = 0, total = 0, ext = 0, adv;

	/* first a half block: a text that is not GSM mostly ends the run
	 * at its first code point */
	if (half && n >= W) {
		bool end = gsm_step(s, Wh, half, two11, room, &total, &ext,
				    &adv, hw);

		j = adv;
		if (end)
			goto done;
	}
	while (n - j >= W) {
		bool end = gsm_step(s + j, W, masks, two11, room, &total, &ext,
				    &adv, hw);

		j += adv;
		if (end)
			goto done;
	}
	if (half && n - j >= Wh) {
		bool end = gsm_step(s + j, Wh, half, two11, room, &total, &ext,
				    &adv, hw);

		j += adv;
		if (end)
			goto done;
	}
	if (j < n) {
		unsigned char b[64];

		memset(b, 0, sizeof b);
		memcpy(b, s + j, n - j);
		gsm_step(b, half ? Wh : W, half ? half : masks, two11, room,
			 &total, &ext, &adv, hw);
		j += adv;
	}
done:
	*sept = total;
	*esc = ext;
	return j;
}
#endif

#ifdef SMS_X86
static inline __attribute__((always_inline)) void
gmasks_sse2(const unsigned char *s, gmask *g)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i ext = _mm_or_si128(rng16(v, 0x5B, 0x5E), rng16(v, 0x7B, 0x7E));
	__m128i bad = _mm_or_si128(ext, eq16(v, 0x60));

	g->ok = (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_andnot_si128(bad, rng16(v, 0x20, 0x7E)),
			     _mm_or_si128(eq16(v, 0x0A), eq16(v, 0x0D))));
	g->ext = (unsigned)_mm_movemask_epi8(_mm_or_si128(ext, eq16(v, 0x0C)));
	g->cont = (unsigned)_mm_movemask_epi8(rng16(v, 0x80, 0xBF));
	g->lead = (unsigned)_mm_movemask_epi8(rng16(v, 0xC2, 0xCF));
}

static size_t gsm_sse2(const unsigned char *s, size_t n, const uint8_t *two11,
		       int64_t room, size_t *sept, size_t *esc)
{
	return gsm_drive(s, n, two11, room, sept, esc, 16, gmasks_sse2, 0, NULL,
			 false);
}

/*
 * The GSM masks of a 32-byte block as gmasks_sse2 computes them, the
 * ASCII classes looked up by nibble as in sms_simd.c's masks_avx2 (issue
 * 16: one range or comparison per class cost more than the rest of the
 * block),
 * bits of c: 01 20..4F, 02 50..5F but 5B..5E, 04 61..6F, 08 70..7A,
 * 10 LF CR: one septet; 20 5B..5E 7B..7E, 40 FF: extension characters.
 * Continuation bytes and C2..CF leads by signed comparison.
 */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) void
gmasks_avx2(const unsigned char *s, gmask *g)
{
	const __m256i ghi = _mm256_setr_epi8(QUOTA__R16(
		0x50, 0, 0x01, 0x01, 0x01, 0x22, 0x04, 0x28,
		0, 0, 0, 0, 0, 0, 0, 0));
	const __m256i glo = _mm256_setr_epi8(QUOTA__R16(
		0x0B, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F,
		0x0F, 0x0F, 0x1F, 0x25, 0x65, 0x35, 0x25, 0x07));
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
	__m256i c = _mm256_and_si256(quota__nib_hi32(v, ghi), quota__nib_lo32(v, glo));

	g->ok = any32(c, 0x1F);
	g->ext = any32(c, 0x60);
	g->cont = g->lead = 0;
	if (!_mm256_movemask_epi8(v))
		return;
	g->cont = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpgt_epi8(_mm256_set1_epi8((char)0xC0), v));
	g->lead = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
		_mm256_cmpgt_epi8(v, _mm256_set1_epi8((char)0xC1)),
		_mm256_cmpgt_epi8(_mm256_set1_epi8((char)0xD0), v)));
}

/* Two 32-byte blocks as one of 64 bytes, as masks64_avx2: a block of
 * Latin text with a letter outside ASCII goes through gsm_block, whose
 * work is mostly per block, not per byte. */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) void
gmasks64_avx2(const unsigned char *s, gmask *g)
{
	gmask h;

	gmasks_avx2(s, g);
	gmasks_avx2(s + 32, &h);
	g->ok |= h.ok << 32;
	g->ext |= h.ext << 32;
	g->cont |= h.cont << 32;
	g->lead |= h.lead << 32;
}

__attribute__((target("avx2,popcnt"))) static size_t
gsm_avx2(const unsigned char *s, size_t n, const uint8_t *two11, int64_t room,
	 size_t *sept, size_t *esc)
{
	return gsm_drive(s, n, two11, room, sept, esc, 64, gmasks64_avx2, 32,
			 gmasks_avx2, true);
}
#endif

#ifdef SMS_NEON
/* As gmasks_sse2. */
static inline __attribute__((always_inline)) void
gmasks_neon(const unsigned char *s, gmask *g)
{
	uint8x16_t v = vld1q_u8(s);
	uint8x16_t ext = vorrq_u8(nrng(v, 0x5B, 0x5E), nrng(v, 0x7B, 0x7E));
	uint8x16_t bad = vorrq_u8(ext, neq(v, 0x60));

	g->ok = nmask(vorrq_u8(vbicq_u8(nrng(v, 0x20, 0x7E), bad),
			       vorrq_u8(neq(v, 0x0A), neq(v, 0x0D))));
	g->ext = nmask(vorrq_u8(ext, neq(v, 0x0C)));
	g->cont = nmask(nrng(v, 0x80, 0xBF));
	g->lead = nmask(nrng(v, 0xC2, 0xCF));
}

static size_t gsm_neon(const unsigned char *s, size_t n, const uint8_t *two11,
		       int64_t room, size_t *sept, size_t *esc)
{
	return gsm_drive(s, n, two11, room, sept, esc, 16, gmasks_neon, 0, NULL,
			 false);
}
#endif

size_t quota__sms_gsm_run(const unsigned char *s, size_t n,
			  const uint8_t *ascii, const uint8_t *two11,
			  int64_t room, size_t *sept, size_t *esc)
{
	switch (quota__sms_simd_level()) {
#ifdef SMS_X86
	case QUOTA__SMS_AVX2:
		return gsm_avx2(s, n, two11, room, sept, esc);
	case QUOTA__SMS_SSE2:
		return gsm_sse2(s, n, two11, room, sept, esc);
#endif
#ifdef SMS_NEON
	case QUOTA__SMS_NEON:
		return gsm_neon(s, n, two11, room, sept, esc);
#endif
	default:
		return gsm_portable(s, n, ascii, two11, room, sept, esc);
	}
}
