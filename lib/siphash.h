/*
 * siphash.h - SipHash (Aumasson and Bernstein, 2012), the keyed hash of
 * every table keyed by strings a caller chooses (ids, idempotency keys):
 * with a secret per-context key, nobody who does not know it can pick
 * strings that fall in the same slots (DESIGN §7).
 */
#ifndef QUOTA_SIPHASH_H
#define QUOTA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* A 128-bit SipHash key, as two little-endian 64-bit words. */
typedef struct quota__hkey {
	uint64_t k0, k1;
} quota__hkey;

/* The key of 16 bytes, read little-endian as the reference does. */
void quota__hkey_set(quota__hkey *k, const uint8_t bytes[16]);

/* A fresh random key from the system (getrandom(2) where there is one),
 * else one mixed from the time, the clock and addresses: never fails. */
void quota__hkey_random(quota__hkey *k, const void *addr);

/* SipHash-c-d of n bytes at p, 64-bit output (for the test vectors). */
uint64_t quota__siphash(const quota__hkey *k, int c, int d, const void *p,
			size_t n);

/* SipHash-1-3, what the tables use: fast enough for the charge path. */
uint64_t quota__siphash13(const quota__hkey *k, const void *p, size_t n);

#endif
