/*
 * siphash.h - SipHash (Aumasson and Bernstein, 2012), the keyed hash of
 * every table keyed by strings a caller chooses (ids, idempotency keys):
 * with a secret per-context key, nobody who does not know it can pick
 * strings that fall in the same slots (DESIGN §7).
 */
#ifndef QUOTA_SIPHASH_H
#define QUOTA_SIPHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* getrandom(2): Linux (glibc 2.25, musl 1.1.20) and FreeBSD 12. */
#if (defined(__linux__) || defined(__FreeBSD__)) && defined(__has_include)
#if __has_include(<sys/random.h>) && __has_include(<unistd.h>)
#include <sys/random.h>
#include <unistd.h>
#define QUOTA__HAVE_GETRANDOM 1
#endif
#endif

/* A 128-bit SipHash key, as two little-endian 64-bit words. */
typedef struct quota__hkey {
	uint64_t k0, k1;
} quota__hkey;

/* SipHash-c-d of n bytes at p, 64-bit output (for the test vectors). */
uint64_t quota__siphash(const quota__hkey *k, int c, int d, const void *p,
			size_t n);

/* ------------------------------------------------------------------ */
/* SipHash-1-3 is inline: a keyed charge hashes its key before it can
 * fetch the key's slot, and a call costs about 2 ns of that (make bench). */

#define QUOTA__ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define QUOTA__SIPROUND(v0, v1, v2, v3)                                       \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = QUOTA__ROTL(v1, 13);                                      \
		v1 ^= v0;                                                      \
		v0 = QUOTA__ROTL(v0, 32);                                      \
		v2 += v3;                                                      \
		v3 = QUOTA__ROTL(v3, 16);                                      \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = QUOTA__ROTL(v3, 21);                                      \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = QUOTA__ROTL(v1, 17);                                      \
		v1 ^= v2;                                                      \
		v2 = QUOTA__ROTL(v2, 32);                                      \
	} while (0)

/* The words are little-endian whatever the host's byte order, so a
 * given key and string hash alike everywhere (the test vectors hold). */
static inline uint64_t quota__le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
#else
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
#endif
}

/* The last word: the 0..7 bytes left over, and the length's low byte in
 * the top byte. */
static inline uint64_t quota__sip_last(const unsigned char *p, size_t n)
{
	uint64_t b = (uint64_t)n << 56;

	switch (n & 7) {
	case 7:
		b |= (uint64_t)p[6] << 48; /* fall through */
	case 6:
		b |= (uint64_t)p[5] << 40; /* fall through */
	case 5:
		b |= (uint64_t)p[4] << 32; /* fall through */
	case 4:
		b |= (uint64_t)p[3] << 24; /* fall through */
	case 3:
		b |= (uint64_t)p[2] << 16; /* fall through */
	case 2:
		b |= (uint64_t)p[1] << 8; /* fall through */
	case 1:
		b |= (uint64_t)p[0];
		break;
	default:
		break;
	}
	return b;
}

/*
 * SipHash-1-3, what the tables use: fast enough for the charge path.
 * *hi gets the OR of the bytes hashed (the length byte left out), which
 * costs nothing more since the words hashed are the bytes: a keyed charge
 * validates and hashes its key in this one pass (R11, issue 16), and
 * only a key with a high bit set goes on to the UTF-8 check.
 */
static inline __attribute__((always_inline)) uint64_t
quota__siphash13_or(const quota__hkey *k, const void *p, size_t n,
		    uint64_t *hi)
{
	const unsigned char *s = p, *end = s + (n & ~(size_t)7);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k->k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k->k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k->k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k->k1;
	uint64_t m, or = 0;

	for (; s != end; s += 8) {
		m = quota__le64(s);
		or |= m;
		v3 ^= m;
		QUOTA__SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = quota__sip_last(s, n);
	*hi = or | (m & UINT64_C(0x00ffffffffffffff));
	v3 ^= m;
	QUOTA__SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	QUOTA__SIPROUND(v0, v1, v2, v3);
	QUOTA__SIPROUND(v0, v1, v2, v3);
	QUOTA__SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint64_t quota__siphash13(const quota__hkey *k, const void *p,
					size_t n)
{
	uint64_t hi;

	return quota__siphash13_or(k, p, n, &hi);
}

/* The same, also telling whether the n bytes are all ASCII. */
static inline uint64_t quota__siphash13_ascii(const quota__hkey *k,
					      const void *p, size_t n,
					      bool *ascii)
{
	uint64_t hi, h = quota__siphash13_or(k, p, n, &hi);

	*ascii = !(hi & UINT64_C(0x8080808080808080));
	return h;
}

/* The key of 16 bytes, read little-endian as the reference does. */
static inline void quota__hkey_set(quota__hkey *k, const uint8_t bytes[16])
{
	k->k0 = quota__le64(bytes);
	k->k1 = quota__le64(bytes + 8);
}

/*
 * A fresh random key: a new context's (ctx.c), and that of
 * libquota-sqlite's set of account ids (inline, so that the store
 * library draws its own).  getrandom(2) does not allocate or open a
 * file (no descriptor to leak, nothing outside the context's allocator)
 * and does not block once the system has booted.  Without it, or if it
 * fails (an old kernel, a seccomp filter), the time, the processor clock,
 * the process id and addresses (ASLR) are mixed: weaker, yet still not
 * something a client on the other side of the gateway can guess.
 */
static inline void quota__hkey_random(quota__hkey *k, const void *addr)
{
	static const quota__hkey mix = {UINT64_C(0x9E3779B97F4A7C15),
					UINT64_C(0xBF58476D1CE4E5B9)};
	uint64_t w[6];
	uint8_t b[16];

#ifdef QUOTA__HAVE_GETRANDOM
	if (getrandom(b, sizeof b, GRND_NONBLOCK) == (ssize_t)sizeof b) {
		quota__hkey_set(k, b);
		return;
	}
#endif
	memset(w, 0, sizeof w);
	w[0] = (uint64_t)time(NULL);
	w[1] = (uint64_t)clock();
	w[2] = (uint64_t)(uintptr_t)addr;
	w[3] = (uint64_t)(uintptr_t)&w;
	w[4] = (uint64_t)(uintptr_t)&quota__hkey_random;
#ifdef QUOTA__HAVE_GETRANDOM
	w[5] = (uint64_t)getpid();
#endif
	k->k0 = quota__siphash13(&mix, w, sizeof w);
	w[5] ^= k->k0;
	k->k1 = quota__siphash13(&mix, w, sizeof w);
	(void)b;
}

#endif
