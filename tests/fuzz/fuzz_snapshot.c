/*
 * fuzz_snapshot.c - libFuzzer target for quota_account_load and
 * quota_account_reset (DESIGN §5, STYLE 20).
 *
 * The input is a snapshot, loaded into a context with the categories and
 * tariffs of tests/check_snapshot.c's scenario (the seeds come from it).
 * The CRC is checked before anything else, so the first input byte, when
 * odd, asks for the rest to be sealed first (length and CRC-32C written
 * into its header): then the decoder's own checks are what is fuzzed.
 * Invariants: no crash, no leak (the allocator counts blocks); a refused
 * load creates nothing and a refused reset changes nothing (the
 * account's snapshot is the same); an accepted snapshot re-encodes to a
 * fixpoint (load(snapshot(x)) snapshots to the same bytes) and resetting
 * an account of that id to it gives those bytes too.
 *
 *   clang -fsanitize=fuzzer,address,undefined ...   (make fuzz-snapshot)
 *   without -fsanitize=fuzzer, standalone.c replays the seed corpus.
 */
#include "quota.h"
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_alloc.h"

static quota_ctx *new_world(void)
{
	quota_allocator al = {QUOTA_ALLOCATOR_VERSION, NULL, f_malloc,
			      f_realloc, f_free};
	quota_tariff *t;
	quota_ctx *c;
	uint32_t id;

	CHECK(quota_ctx_new_with(&al, &c) == 0);
	CHECK(quota_category_add(c, "sms", &id) == 0);
	CHECK(quota_category_add(c, "email", &id) == 0);
	CHECK(quota_category_add(c, "push", &id) == 0);
	CHECK(quota_tariff_new(c, "grad", &t) == 0);
	CHECK(quota_tariff_add_tier(t, 300, 20000) == 0);
	CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 9000) == 0);
	CHECK(quota_tariff_set_free(t, 100, QUOTA_PERIOD_MONTH) == 0);
	CHECK(quota_tariff_set_free_daily_limit(t, 20) == 0);
	CHECK(quota_tariff_new(c, "vol", &t) == 0);
	CHECK(quota_tariff_set_mode(t, QUOTA_VOLUME) == 0);
	CHECK(quota_tariff_add_tier(t, 50, 3000) == 0);
	CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000) == 0);
	CHECK(quota_tariff_new(c, "life", &t) == 0);
	CHECK(quota_tariff_set_free(t, 50, QUOTA_PERIOD_LIFETIME) == 0);
	return c;
}

static void same_snapshot(const quota_account *a, const void *p, size_t n)
{
	void *s;
	size_t m;

	CHECK(quota_account_snapshot(a, &s, &m) == 0);
	CHECK(m == n && memcmp(s, p, n) == 0);
	quota_free(quota_account_ctx(a), s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quota_ctx *c, *c2;
	quota_account *a = NULL, *b = NULL, *other;
	uint8_t *buf;
	void *s1, *s0;
	size_t n, n1, n0;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	buf = malloc(n ? n : 1);
	CHECK(buf);
	memcpy(buf, data + 1, n);
	if ((data[0] & 1) && n >= 14) {
		uint32_t len = (uint32_t)(n - 14);
		uint32_t crc = quota__crc32c(0, buf + 14, n - 14);

		for (int i = 0; i < 4; i++) {
			buf[6 + i] = (uint8_t)(len >> (8 * i));
			buf[10 + i] = (uint8_t)(crc >> (8 * i));
		}
	}
	c = new_world();
	rc = quota_account_load(c, buf, n, &a);
	CHECK(rc == QUOTA_OK || rc == QUOTA_ECORRUPT || rc == QUOTA_EVERSION ||
	      rc == QUOTA_ENOTFOUND);
	if (rc) {
		CHECK(!a && quota_ctx_hook_failures(c) == 0);
		/* A refused reset changes nothing. */
		CHECK(quota_account_new(c, "acme", &other) == 0);
		CHECK(quota_account_snapshot(other, &s0, &n0) == 0);
		rc = quota_account_reset(other, buf, n);
		CHECK(rc != QUOTA_OK);
		same_snapshot(other, s0, n0);
		quota_free(c, s0);
	} else {
		CHECK(a);
		CHECK(quota_account_snapshot(a, &s1, &n1) == 0);
		/* The fixpoint, by load into another context ... */
		c2 = new_world();
		CHECK(quota_account_load(c2, s1, n1, &b) == 0);
		same_snapshot(b, s1, n1);
		/* ... and by reset of an account of the same id. */
		CHECK(quota_account_reset(b, buf, n) == 0);
		same_snapshot(b, s1, n1);
		CHECK(quota_account_reset(a, s1, n1) == 0);
		same_snapshot(a, s1, n1);
		quota_free(c, s1);
		quota_ctx_free(c2);
	}
	quota_ctx_free(c);
	CHECK(live == 0);
	free(buf);
	return 0;
}
