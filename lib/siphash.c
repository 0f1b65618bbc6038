/*
 * siphash.c - SipHash-c-d with a 64-bit output, from the description in
 * "SipHash: a fast short-input PRF" (Aumasson, Bernstein, 2012).  The
 * tables use SipHash-1-3 (one compression round per 8-byte word, three
 * finalization rounds), as Python and Rust's standard maps do: ample
 * against collision flooding, where the hash output is never shown.  It
 * is inline in siphash.h; the generic one here is what the reference
 * vectors (2-4) check it against.
 */
#include "siphash.h"

#include <string.h>
#include <time.h>

/* getrandom(2): Linux (glibc 2.25, musl 1.1.20) and FreeBSD 12. */
#if (defined(__linux__) || defined(__FreeBSD__)) && defined(__has_include)
#if __has_include(<sys/random.h>) && __has_include(<unistd.h>)
#include <sys/random.h>
#include <unistd.h>
#define HAVE_GETRANDOM 1
#endif
#endif

void quota__hkey_set(quota__hkey *k, const uint8_t bytes[16])
{
	k->k0 = quota__le64(bytes);
	k->k1 = quota__le64(bytes + 8);
}

uint64_t quota__siphash(const quota__hkey *k, int c, int d, const void *p,
			size_t n)
{
	const unsigned char *s = p, *end = s + (n & ~(size_t)7);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k->k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k->k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k->k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k->k1;
	uint64_t m;
	int i;

	for (; s != end; s += 8) {
		m = quota__le64(s);
		v3 ^= m;
		for (i = 0; i < c; i++)
			QUOTA__SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = quota__sip_last(s, n);
	v3 ^= m;
	for (i = 0; i < c; i++)
		QUOTA__SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (i = 0; i < d; i++)
		QUOTA__SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The seed of a new context.  getrandom(2) does not allocate or open a
 * file (no descriptor to leak, nothing outside the context's allocator)
 * and does not block once the system has booted.  Without it, or if it
 * fails (an old kernel, a seccomp filter), the time, the processor clock,
 * the process id and addresses (ASLR) are mixed: weaker, yet still not
 * something a client on the other side of the gateway can guess.
 */
void quota__hkey_random(quota__hkey *k, const void *addr)
{
	static const quota__hkey mix = {UINT64_C(0x9E3779B97F4A7C15),
					UINT64_C(0xBF58476D1CE4E5B9)};
	uint64_t w[6];
	uint8_t b[16];

#ifdef HAVE_GETRANDOM
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
#ifdef HAVE_GETRANDOM
	w[5] = (uint64_t)getpid();
#endif
	k->k0 = quota__siphash13(&mix, w, sizeof w);
	w[5] ^= k->k0;
	k->k1 = quota__siphash13(&mix, w, sizeof w);
	(void)b;
}
