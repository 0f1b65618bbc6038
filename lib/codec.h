/*
 * codec.h - the byte layer of every libquota format (quota_journal(5)):
 * little-endian fixed-width integers, LEB128 varints (zigzag for signed
 * values), length-prefixed strings and CRC-32C (Castagnoli).  Journal
 * records and snapshots are written and read only through these, so
 * both formats share one set of rules and one set of bounds checks.
 *
 * Writers append to a growable buffer; a writer whose allocation failed
 * remembers it (fail) and ignores later puts, so an encoder checks once
 * at the end.  Readers never read past their end: a read past it sets
 * bad and yields zero, and the decoder checks bad once (QUOTA_ECORRUPT).
 */
#ifndef QUOTA_CODEC_H
#define QUOTA_CODEC_H

#include "quota_int.h"
#include "siphash.h" /* quota__le64 */

#include <string.h>

/* CRC-32C of n bytes, continuing from crc (0 to start). */
uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

/* The table of the byte-a-step CRC-32C (codec.c), for quota__crc_bytes. */
extern const uint32_t quota__crc_tab[256];

/* Does this processor have the SSE4.2 crc32 instruction?  Asked at run
 * time: the library runs on any x86-64. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(QUOTA_NO_SIMD)
#define QUOTA__HW_CRC 1
static inline bool quota__crc_hw(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static inline bool quota__crc_hw(void)
{
	return false;
}
#endif

/* A whole word into the CRC register with the crc32 instruction, the
 * register kept 64 bits wide between words (crc32q clears the top half):
 * no move to clear it before each; a word just loaded may be read by the
 * instruction itself ("rm"). */
#ifdef QUOTA__HW_CRC
static inline __attribute__((always_inline)) uint64_t
quota__crc32q(uint64_t c, uint64_t w)
{
	__asm__("crc32q %1, %0" : "+r"(c) : "rm"(w));
	return c;
}
#endif

/* n (0..8) bytes of w, low first, into the CRC register crc: with the
 * crc32 instruction if hw (the caller asked quota__crc_hw), else a byte a
 * step.  The instruction is written out rather than taken from
 * <nmmintrin.h>, so that a caller needs no target attribute and one body
 * serves both. */
static inline __attribute__((always_inline)) uint32_t
quota__crc_bytes(uint32_t crc, uint64_t w, unsigned n, const bool hw)
{
#ifdef QUOTA__HW_CRC
	if (hw) {
		uint64_t c = crc;

		if (n == 8)
			return (uint32_t)quota__crc32q(c, w);
		if (n & 4) {
			uint32_t c32 = (uint32_t)c;

			__asm__("crc32l %1, %0" : "+r"(c32) : "r"((uint32_t)w));
			c = c32;
			w >>= 32;
		}
		if (n & 2) {
			uint32_t c32 = (uint32_t)c;

			__asm__("crc32w %1, %0" : "+r"(c32) : "r"((uint16_t)w));
			c = c32;
			w >>= 16;
		}
		if (n & 1) {
			uint32_t c32 = (uint32_t)c;

			__asm__("crc32b %1, %0" : "+r"(c32) : "r"((uint8_t)w));
			c = c32;
		}
		return (uint32_t)c;
	}
#endif
	(void)hw;
	for (unsigned i = 0; i < n; i++)
		crc = quota__crc_tab[(crc ^ (uint8_t)(w >> (8 * i))) & 0xFF] ^
		      (crc >> 8);
	return crc;
}

/* A whole word into the CRC register: quota__crc32q with the instruction
 * (hw), else a byte a step. */
static inline __attribute__((always_inline)) uint64_t
quota__crc_word(uint64_t c, uint64_t w, const bool hw)
{
#ifdef QUOTA__HW_CRC
	if (hw)
		return quota__crc32q(c, w);
#endif
	return quota__crc_bytes((uint32_t)c, w, 8, hw);
}

/* ------------------------------------------------------------- writer */

typedef struct quota__wbuf {
	const quota__mem *mem; /* NULL: fixed buffer, never grown */
	uint8_t *p;
	size_t n, cap;
	bool fail; /* an allocation failed or a fixed buffer overflowed */
} quota__wbuf;

/* Make room for need more bytes (grows by doubling). */
bool quota__wbuf_room_slow(quota__wbuf *w, size_t need);
static inline bool quota__wbuf_room(quota__wbuf *w, size_t need)
{
	if (w->fail)
		return false;
	return need <= w->cap - w->n || quota__wbuf_room_slow(w, need);
}
void quota__wbuf_free(quota__wbuf *w);

/* Each put loads the end once into a local and stores it back once: a
 * byte store may alias the buffer struct, which would otherwise be read
 * again after every byte. */
static inline void quota__put_u8(quota__wbuf *w, uint8_t v)
{
	if (quota__wbuf_room(w, 1))
		w->p[w->n++] = v;
}
static inline void quota__put_u32(quota__wbuf *w, uint32_t v)
{
	if (quota__wbuf_room(w, 4)) {
		uint8_t *p = w->p + w->n;

		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
		w->n += 4;
	}
}
static inline void quota__put_u64(quota__wbuf *w, uint64_t v)
{
	if (quota__wbuf_room(w, 8)) {
		uint8_t *p = w->p + w->n;

		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (8 * i));
		w->n += 8;
	}
}
/* Unsigned LEB128: 7 bits a byte, low first, high bit = more. */
static inline uint8_t *quota__uv_at(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}
static inline void quota__put_uv(quota__wbuf *w, uint64_t v)
{
	if (quota__wbuf_room(w, 10)) {
		uint8_t *b = w->p, *p = quota__uv_at(b + w->n, v);

		w->n = (size_t)(p - b);
	}
}
/* Signed: zigzag (0, -1, 1, -2 ... as 0, 1, 2, 3 ...), then LEB128. */
static inline void quota__put_sv(quota__wbuf *w, int64_t v)
{
	quota__put_uv(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
static inline void quota__put_bytes(quota__wbuf *w, const void *s, size_t n)
{
	if (n && quota__wbuf_room(w, n)) {
		memcpy(w->p + w->n, s, n);
		w->n += n;
	}
}
/*
 * Cursor writing, for an encoder that asks for room once for several
 * values (quota__wbuf_at) and writes them through a local pointer, then
 * hands the end back (quota__wbuf_end): the same bytes as the puts.
 */
static inline uint8_t *quota__sv_at(uint8_t *p, int64_t v)
{
	return quota__uv_at(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
/* A string of 4 to 16 bytes (ids and keys, mostly) by two overlapping
 * copies of 4 or 8 bytes in line, as a short memcpy does, where a call
 * of memcpy with its length unknown was a tenth of a fast record (issue
 * 10); exactly s[0..n) is read and p[0..n) written either way. */
static inline __attribute__((always_inline)) uint8_t *
quota__strn_at(uint8_t *p, const char *s, size_t n)
{
	p = quota__uv_at(p, n);
	if (__builtin_expect(n - 4 <= 12, 1)) {
		if (n >= 8) {
			memcpy(p, s, 8);
			memcpy(p + n - 8, s + n - 8, 8);
		} else {
			memcpy(p, s, 4);
			memcpy(p + n - 4, s + n - 4, 4);
		}
	} else if (n) {
		memcpy(p, s, n);
	}
	return p + n;
}
/* Room for need more bytes: the cursor there, or NULL (w->fail). */
static inline uint8_t *quota__wbuf_at(quota__wbuf *w, size_t need)
{
	return quota__wbuf_room(w, need) ? w->p + w->n : NULL;
}
static inline void quota__wbuf_end(quota__wbuf *w, uint8_t *p)
{
	w->n = (size_t)(p - w->p);
}
/* At most the bytes of a varint. */
#define QUOTA__UV_MAX 10

/* v stored at p as 8 little-endian bytes (quota__le64, siphash.h,
 * reads them back). */
static inline void quota__store_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
#endif
}
/* The CRC register c over n bytes at p, 8 a step (quota__crc_bytes).
 * room: the buffer may be read 8 bytes past p + n (a record in the
 * context's buffer), so the tail is one load, its bytes past n left in
 * the word: quota__crc_bytes reads the low r bytes only (the instruction
 * of 4, 2 and 1 bytes, or the byte loop); else, when there are 8 bytes
 * at least, the tail is the top of the last 8 (issue 10: replay
 * checksums every record it reads, and a byte loop was a third of that),
 * and only a shorter run is copied byte by byte.  p moves on with the
 * words (r bytes left), one register fewer than an index. */
static inline __attribute__((always_inline)) uint32_t
quota__crc_run(uint32_t c, const uint8_t *p, size_t n, const bool hw,
	       const bool room)
{
	size_t r = n;
	uint64_t v = 0;

#ifdef QUOTA__HW_CRC
	if (hw) {
		/* The register kept 64 bits wide across the words (crc32q
		 * clears the top half), each word read by the instruction
		 * itself: two instructions a word fewer (issue 10). */
		uint64_t c64 = c;

		for (; r >= 8; r -= 8, p += 8)
			c64 = quota__crc32q(c64, quota__le64(p));
		c = (uint32_t)c64;
	} else
#endif
		for (; r >= 8; r -= 8, p += 8)
			c = quota__crc_bytes(c, quota__le64(p), 8, hw);
	if (!r)
		return c;
	if (room) {
		v = quota__le64(p);
	} else if (n >= 8) {
		v = quota__le64(p + r - 8) >> (8 * (8 - r));
	} else {
		for (size_t k = 0; k < r; k++)
			v |= (uint64_t)p[k] << (8 * k);
	}
	return quota__crc_bytes(c, v, (unsigned)r, hw);
}
/* The CRC-32C of a short record at p in line (room as above).  hw:
 * quota__crc_hw(), a constant in each caller's copy. */
static inline __attribute__((always_inline)) uint32_t
quota__crc32c_room(const uint8_t *p, size_t n, const bool hw)
{
	return ~quota__crc_run(0xFFFFFFFFu, p, n, hw, true);
}

/* The CRC register's start from which k zero bytes (k < 8) lead to the
 * CRC-32C's, 0xFFFFFFFF (codec.c). */
extern const uint32_t quota__crc_pre[8];

/*
 * The CRC-32C of n bytes at p, whose 8 bytes before are the caller's
 * to overwrite (a record's frame, written after): with the crc32
 * instruction (hw), they are set to 0 and the CRC runs from the k =
 * -n mod 8 of them before p, from quota__crc_pre[k], so in whole words
 * with no tail to split into 4, 2 and 1 bytes (issue 10: the tail was a
 * third of a fast record's CRC).  Else quota__crc32c_room.
 */
static inline __attribute__((always_inline)) uint32_t
quota__crc32c_front(uint8_t *p, size_t n, const bool hw)
{
#ifdef QUOTA__HW_CRC
	if (hw) {
		size_t k = (0 - n) & 7;
		const uint8_t *q = p - k;
		uint64_t c = quota__crc_pre[k];

		quota__store_le64(p - 8, 0);
		for (size_t r = n + k; r; r -= 8, q += 8)
			c = quota__crc32q(c, quota__le64(q));
		return ~(uint32_t)c;
	}
#endif
	return quota__crc32c_room(p, n, hw);
}

/* A signed value as a varint's: zigzag (0, -1, 1, -2 ... as 0, 1, 2, 3). */
static inline uint64_t quota__zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
/* Does z, a time zigzagged, take 5 bytes (every second from 1974 to 2514
 * does)? */
static inline bool quota__time5(uint64_t z)
{
	return z - (UINT64_C(1) << 28) <
	       (UINT64_C(1) << 35) - (UINT64_C(1) << 28);
}
/* The 7-bit groups of z below 2^28 one to a byte, low first, their top
 * bits clear: a varint's bytes less their continuation bits.  Moved apart
 * a bit at a time, adding the bits from group i up doubles them (a shift
 * by one), so that each step is an and and an add, where a mask and shift
 * per group took twice that (issue 10). */
static inline uint64_t quota__groups7(uint64_t z)
{
	z += z & ~UINT64_C(0x7F);
	z += z & ~UINT64_C(0x7FFF);
	z += z & ~UINT64_C(0x7FFFFF);
	return z;
}
/* Such a time's 5 bytes in a word, low first: the fifth group one step
 * more. */
static inline uint64_t quota__time_word(uint64_t z)
{
	z = quota__groups7(z);
	z += z & ~UINT64_C(0x7FFFFFFF);
	return z | 0x80808080;
}
/*
 * A time as quota__sv_at writes it (§5, issue 10: the fast paths'
 * records).  Every second from 1974 to 2514 zigzags to 5 bytes, written
 * here in one store with no loop (room for 8 bytes past p); other times
 * a byte at a time.
 */
static inline __attribute__((always_inline)) uint8_t *
quota__time_at(uint8_t *p, int64_t t)
{
	uint64_t z = quota__zigzag(t);

	if (__builtin_expect(quota__time5(z), 1)) {
		quota__store_le64(p, quota__time_word(z));
		return p + 5;
	}
	return quota__uv_at(p, z);
}
/*
 * A value below 2^28 as quota__uv_at writes it, in a word: its b + 1 (1
 * to 4) bytes, low first, zero above (issue 10: the fast record's
 * sequence number, made in registers), with no loop.
 */
static inline __attribute__((always_inline)) uint64_t
quota__uv4_word(uint64_t v, unsigned *b)
{
	/* the bytes after the first: (index of the top bit) / 7, which
	 * times 37 over 256 is up to 27 */
	*b = (unsigned)(63 - __builtin_clzll(v | 1)) * 37 >> 8;
	/* the continuation bits: every byte's but the last's */
	return quota__groups7(v) | UINT64_C(0x808080) >> (24 - 8 * *b);
}

/* A string of n bytes: varint length, then the bytes. */
static inline void quota__put_strn(quota__wbuf *w, const char *s, size_t n)
{
	if (quota__wbuf_room(w, 10 + n)) {
		uint8_t *b = w->p, *p = quota__uv_at(b + w->n, n);

		if (n)
			memcpy(p, s, n);
		w->n = (size_t)(p + n - b);
	}
}
/* A string; NULL is written as length 0. */
static inline void quota__put_str(quota__wbuf *w, const char *s)
{
	quota__put_strn(w, s, s ? strlen(s) : 0);
}

/* ------------------------------------------------------------- reader */

typedef struct quota__rbuf {
	const uint8_t *p;
	size_t n, off;
	bool bad; /* read past the end, or a malformed value */
} quota__rbuf;

static inline uint8_t quota__get_u8(quota__rbuf *r)
{
	if (r->bad || r->n - r->off < 1) {
		r->bad = true;
		return 0;
	}
	return r->p[r->off++];
}
static inline uint32_t quota__get_u32(quota__rbuf *r)
{
	const uint8_t *p;

	if (r->bad || r->n - r->off < 4) {
		r->bad = true;
		return 0;
	}
	/* through one pointer, so the compiler merges the four byte loads
	 * into one (issue 10: every record's checksum) */
	p = r->p + r->off;
	r->off += 4;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t quota__get_u64(quota__rbuf *r)
{
	uint64_t v = 0;

	if (r->bad || r->n - r->off < 8) {
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[r->off++] << (8 * i);
	return v;
}
/* LEB128 of at most 10 bytes; an overlong or unterminated one is bad. */
uint64_t quota__get_uv_slow(quota__rbuf *r);
static inline uint64_t quota__get_uv(quota__rbuf *r)
{
	/* Most values are one byte; replay reads millions of them. */
	if (__builtin_expect(r->off < r->n && !r->bad, 1)) {
		uint8_t b = r->p[r->off];

		if (b < 0x80) {
			r->off++;
			return b;
		}
	}
	return quota__get_uv_slow(r);
}
static inline int64_t quota__get_sv(quota__rbuf *r)
{
	uint64_t u = quota__get_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}
/* A varint no larger than max (else bad). */
static inline uint64_t quota__get_uv_max(quota__rbuf *r, uint64_t max)
{
	uint64_t v = quota__get_uv(r);

	if (v > max) {
		r->bad = true;
		return 0;
	}
	return v;
}
/* A string of at most max bytes, copied NUL-terminated into out (room:
 * max + 1).  Returns its length. */
static inline size_t quota__get_str(quota__rbuf *r, char *out, size_t max)
{
	size_t n = (size_t)quota__get_uv_max(r, max);

	if (r->bad || r->n - r->off < n) {
		r->bad = true;
		out[0] = '\0';
		return 0;
	}
	if (!n) { /* no key, mostly: no calls (issue 10) */
		out[0] = '\0';
		return 0;
	}
	if (memchr(r->p + r->off, 0, n)) { /* ids and keys hold no NUL */
		r->bad = true;
		out[0] = '\0';
		return 0;
	}
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
	return n;
}

#endif /* QUOTA_CODEC_H */
