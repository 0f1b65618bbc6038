/*
 * quota_int.h - private declarations shared between lib/ files.
 * Nothing here is exported; helpers are named quota__x.
 */
#ifndef QUOTA_INT_H
#define QUOTA_INT_H

#include "quota.h"

#include <stdarg.h>
#include <stdbool.h>

/* ------------------------------------------------------------ allocation */

typedef struct quota__mem {
	void *ud;
	void *(*malloc_fn)(void *ud, size_t size);
	void *(*realloc_fn)(void *ud, void *ptr, size_t size);
	void (*free_fn)(void *ud, void *ptr);
} quota__mem;

void quota__mem_init(quota__mem *m, const quota_allocator *a);
void *quota__malloc(const quota__mem *m, size_t size);
void *quota__calloc(const quota__mem *m, size_t n, size_t size);
void *quota__realloc(const quota__mem *m, void *p, size_t size);
/* Grow *p to hold at least need elements of size; doubles.  Inline for
 * the common case, room already there: plans check several arrays. */
int quota__grow_to(const quota__mem *m, void **p, size_t *cap, size_t need,
		   size_t size);
static inline int quota__grow(const quota__mem *m, void **p, size_t *cap,
			      size_t need, size_t size)
{
	return need <= *cap ? 0 : quota__grow_to(m, p, cap, need, size);
}
/* The same for a 4-byte count of room (§7: the account's own arrays,
 * whose counts are 4 bytes); a count that would pass UINT32_MAX is
 * recorded as UINT32_MAX, less room than there is. */
static inline int quota__grow32(const quota__mem *m, void **p, uint32_t *cap,
				size_t need, size_t size)
{
	size_t c = *cap;
	int rc;

	if (need <= c)
		return 0;
	if (need > UINT32_MAX)
		return QUOTA_ENOMEM;
	if (!(rc = quota__grow_to(m, p, &c, need, size)))
		*cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	return rc;
}
void quota__free(const quota__mem *m, void *p);
char *quota__strdup(const quota__mem *m, const char *s);

/* ---------------------------------------------------------------- errors */

#define QUOTA__ERRMSG_MAX 256

/* Record what went wrong on ctx and return rc (so: return quota__err(...)). */
int quota__err(quota_ctx *ctx, int rc, const char *fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* Forget the last error (successful calls on ctx). */
void quota__ok(quota_ctx *ctx);

/* ------------------------------------------------------------------ utf8 */

/*
 * Validate UTF-8 (no overlongs, surrogates or values above U+10FFFF).
 * Returns true if valid; else false and *bad_offset is the offset of the
 * first byte of the bad sequence.
 */
bool quota__utf8_valid(const char *s, size_t len, size_t *bad_offset);

/*
 * Decode one code point at s[i] (i < len).  Returns the sequence length
 * (1-4), or 0 if the bytes at i are not a valid UTF-8 sequence (overlong,
 * surrogate, > U+10FFFF, truncated, stray continuation).  The one UTF-8
 * decoder: quota__utf8_valid and the SMS counter both use it, so their
 * error offsets agree.
 */
static inline size_t quota__u8dec(const unsigned char *s, size_t len, size_t i,
				  uint32_t *cp)
{
	unsigned c = s[i];
	size_t n;
	uint32_t v, min;

	*cp = c;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1;
		v = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		v = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len - i <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		unsigned b = s[i + k];
		if ((b & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (b & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n + 1;
}


/* Checked arithmetic: return true on overflow. */
static inline bool quota__add_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}
static inline bool quota__mul_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

/* Bits set in x, portably (a dozen instructions). */
static inline unsigned quota__popcount64_sw(uint64_t x)
{
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) +
	    ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* Bits set in x.  Issue 16: the library is built for any x86-64, so the
 * popcnt instruction is used when the processor has it, asked at run
 * time (a load and a test of the compiler's cpu model, as quota__crc_hw
 * does), never assumed from build flags. */
static inline unsigned quota__popcount64(uint64_t x)
{
#if defined(__POPCNT__)
	return (unsigned)__builtin_popcountll(x);
#else
#if defined(__x86_64__) && defined(__GNUC__) && !defined(QUOTA_NO_SIMD)
	if (__builtin_cpu_supports("popcnt")) {
		uint64_t r;

		__asm__("popcntq %1, %0" : "=r"(r) : "rm"(x) : "cc");
		return (unsigned)r;
	}
#endif
	return quota__popcount64_sw(x);
#endif
}

#endif /* QUOTA_INT_H */
