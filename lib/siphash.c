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
