/*
 * sms_vec.h - what the vector kernels of the SMS counter share (issue 16):
 * the levels this build can have (SMS_X86: SSE2, and AVX2 in functions
 * built with target("avx2"); SMS_NEON on AArch64; neither under
 * QUOTA_NO_SIMD, where the portable loops run alone), the comparisons of
 * 16 or 32 bytes against a value or a range, the nibble look-ups
 * (vpshufb), and the bits of a block.  Included by sms_simd.c (the plain
 * runs and the dispatch), sms_gsm.c (the GSM runs) and sms_cluster.c
 * (the skip over cluster text); static inline, so each is built with its
 * caller's target.
 */
#ifndef QUOTA_SMS_VEC_H
#define QUOTA_SMS_VEC_H

#include "sms_int.h"

#if !defined(QUOTA_NO_SIMD) && (defined(__x86_64__) || defined(_M_X64)) && \
	defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define SMS_X86 1
#include <immintrin.h>
#endif
#if !defined(QUOTA_NO_SIMD) && defined(__aarch64__) && defined(__ARM_NEON)
#define SMS_NEON 1
#include <arm_neon.h>
#endif

#if defined(SMS_X86) || defined(SMS_NEON)
/* Bits 0 to n - 1 (n <= 64: a block's or a prefix's bytes). */
static inline uint64_t low_bits(unsigned n)
{
	return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}
#endif

#ifdef SMS_X86
/* v in [lo, hi], unsigned: v - lo (modulo 256) at most hi - lo, three
 * instructions where a comparison at each end took five */
static inline __m128i rng16(__m128i v, unsigned char lo, unsigned char hi)
{
	__m128i d = _mm_sub_epi8(v, _mm_set1_epi8((char)lo));

	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)(hi - lo))),
			      d);
}

/* v == c */
static inline __m128i eq16(__m128i v, unsigned char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8((char)c));
}

/*
 * 32 bytes of c, a value the compiler cannot see through: GCC 12 rebuilds
 * a constant vector from an immediate inside a loop (movabs, vmovq,
 * vpbroadcastq: three instructions, two of them on the shuffle port)
 * each time it is used, once the loop's vector registers run out; this
 * one it computes once before the loop and, when registers run out,
 * reads from the stack as an operand.  The constants of the AVX2 plain
 * kernel (sms_simd.c) and of the cluster skip (sms_cluster.c).
 */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) __m256i
k32(char c)
{
	__m256i k = _mm256_set1_epi8(c);

	__asm__("" : "+x"(k));
	return k;
}

/* The helpers' constants: k32's, or plain ones in a file that defines
 * QUOTA__SMS_VEC_SET1 before it includes this header (sms_gsm.c: its
 * loop keeps its few constants in registers, and k32's cost it about 30
 * instructions a call, computed before the loop however short the
 * text). */
#ifdef QUOTA__SMS_VEC_SET1
#define QUOTA__K32(c) _mm256_set1_epi8(c)
#else
#define QUOTA__K32(c) k32(c)
#endif

/* as rng16 */
__attribute__((target("avx2"))) static inline __m256i
rng32(__m256i v, unsigned char lo, unsigned char hi)
{
	__m256i d = _mm256_sub_epi8(v, QUOTA__K32((char)lo));

	return _mm256_cmpeq_epi8(
		_mm256_min_epu8(d, QUOTA__K32((char)(hi - lo))), d);
}

__attribute__((target("avx2"))) static inline __m256i
eq32(__m256i v, unsigned char c)
{
	return _mm256_cmpeq_epi8(v, QUOTA__K32((char)c));
}

/* Bits of the 32 bytes where x & bits is not zero: one bit shifted to
 * bit 7 of its byte (vpsllw moves no other byte's bit there), or a
 * saturating add that carries any of several to it; two or three
 * instructions where a comparison with zero took four. */
__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) uint64_t
any32(__m256i x, char bits)
{
	unsigned b = (unsigned char)bits;

	if ((b & (b - 1)) == 0)
		return (uint32_t)_mm256_movemask_epi8(
			_mm256_slli_epi16(x, 7 - __builtin_ctz(b)));
	return (uint32_t)_mm256_movemask_epi8(_mm256_adds_epu8(
		_mm256_and_si256(x, QUOTA__K32(bits)), QUOTA__K32(0x7F)));
}

/*
 * A 16-entry table given for both 128-bit lanes, and a table looked up
 * by the high or the low nibble of each of 32 bytes (vpshufb reads the
 * low 4 bits of an index byte and zeroes a byte whose index has bit 7
 * set, hence the masks): the AVX2 byte classes of the plain and GSM
 * runs and of the skip's UTF-8 check.
 */
#define QUOTA__R16(...) __VA_ARGS__, __VA_ARGS__

__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) __m256i
quota__nib_hi32(__m256i v, __m256i t)
{
	return _mm256_shuffle_epi8(
		t, _mm256_and_si256(_mm256_srli_epi16(v, 4), QUOTA__K32(0x0F)));
}

__attribute__((target("avx2"))) static inline
__attribute__((always_inline)) __m256i
quota__nib_lo32(__m256i v, __m256i t)
{
	return _mm256_shuffle_epi8(t, _mm256_and_si256(v, QUOTA__K32(0x0F)));
}
#endif

#ifdef SMS_NEON
/* 16 comparison lanes (0xFF / 0) to a 16-bit mask, as SSE2's movemask. */
static inline uint64_t nmask(uint8x16_t m)
{
	static const uint8_t wb[16] = {1, 2, 4, 8, 16, 32, 64, 128,
				       1, 2, 4, 8, 16, 32, 64, 128};
	uint8x16_t t = vandq_u8(m, vld1q_u8(wb));

	return (uint64_t)vaddv_u8(vget_low_u8(t)) |
	       ((uint64_t)vaddv_u8(vget_high_u8(t)) << 8);
}

static inline uint8x16_t nrng(uint8x16_t v, uint8_t lo, uint8_t hi)
{
	return vandq_u8(vcgeq_u8(v, vdupq_n_u8(lo)), vcleq_u8(v, vdupq_n_u8(hi)));
}

static inline uint8x16_t neq(uint8x16_t v, uint8_t c)
{
	return vceqq_u8(v, vdupq_n_u8(c));
}
#endif

#endif /* QUOTA_SMS_VEC_H */
