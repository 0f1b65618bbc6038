/*
 * fuzz_tzif.c - libFuzzer target for the TZif decoder (R26, STYLE 20):
 * quota_zone_from_tzif, then the lookups a zoned account makes.
 *
 * Invariants: no crash, no leak (the allocator counts blocks); a refused
 * input creates no zone and leaves nothing allocated beyond the context;
 * an accepted zone's offsets are within +-18 h and hold over the interval
 * the lookup reports; the first instant of a local time reaches it; an
 * account in the zone charges, reports and settles across the time range
 * without crashing.
 *
 *   clang -fsanitize=fuzzer,address,undefined ...   (make fuzz-tzif)
 *   without -fsanitize=fuzzer, standalone.c replays the seed corpus.
 */
#include "quota.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_alloc.h"

static int on_row(const quota_report_row *r, void *ud)
{
	(void)ud;
	CHECK(r->start <= r->end);
	return 0;
}

/* Instants across the range libquota takes, and near the input's own
 * numbers (transitions are where the bugs would be). */
static int64_t instant(const uint8_t *d, size_t n, unsigned i)
{
	static const int64_t fixed[] = {
		QUOTA_TIME_MIN, QUOTA_TIME_MIN + 86399, -2208988800, -1,
		0, 1711846800, 1729990800, 2147483647, 4102444800,
		QUOTA_TIME_MAX - 1};
	uint64_t v = 0;
	size_t k;

	if (i < sizeof fixed / sizeof *fixed)
		return fixed[i];
	for (k = 0; k < 8 && n; k++)
		v = v << 8 | d[(i * 7 + k) % n];
	return QUOTA_TIME_MIN +
	       (int64_t)(v % (uint64_t)(QUOTA_TIME_MAX - QUOTA_TIME_MIN));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quota_allocator al = {QUOTA_ALLOCATOR_VERSION, NULL, f_malloc, f_realloc,
			      f_free};
	quota_ctx *ctx;
	quota_zone *z = NULL, *z2;
	quota_account *a;
	quota_tariff *t;
	uint32_t cat;
	unsigned i;
	long base;
	int rc;

	live = 0;
	CHECK(quota_ctx_new_with(&al, &ctx) == QUOTA_OK);
	base = live;
	rc = quota_zone_from_tzif(ctx, "fuzz", data, size, &z);
	if (rc != QUOTA_OK) {
		CHECK(rc == QUOTA_ECORRUPT || rc == QUOTA_EINVAL ||
		      rc == QUOTA_ENOMEM);
		CHECK(z == NULL && live == base);
		CHECK(quota_zone_find(ctx, "fuzz", &z2) == QUOTA_ENOTFOUND);
		quota_ctx_free(ctx);
		CHECK(live == 0);
		return 0;
	}
	for (i = 0; i < 40; i++) {
		int64_t at = instant(data, size, i), lo, hi, l, s;
		int32_t off;

		CHECK(quota_zone_offset(z, at, &off) == QUOTA_OK);
		CHECK(off >= -QUOTA__OFF_MAX && off <= QUOTA__OFF_MAX);
		CHECK(quota__tz_offset(&z->tz, at, &lo, &hi) == off);
		CHECK(lo <= at && at < hi);
		if (hi < INT64_MAX)
			CHECK(quota__tz_offset(&z->tz, hi - 1, &lo, &l) == off);
		/* The start of at's local day: reaches it, and not after at. */
		l = quota__floor_div(at + off, 86400) * 86400;
		s = quota__tz_local_start(&z->tz, l);
		CHECK(s + quota__tz_offset(&z->tz, s, &lo, &hi) >= l);
		CHECK(s <= at);
	}
	/* An account in the zone: charges, reports and settlement. */
	CHECK(quota_category_add(ctx, "sms", &cat) == QUOTA_OK);
	CHECK(quota_tariff_new(ctx, "t", &t) == QUOTA_OK);
	CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000) == QUOTA_OK);
	CHECK(quota_tariff_set_free(t, 3, QUOTA_PERIOD_DAY) == QUOTA_OK);
	CHECK(quota_account_new(ctx, "a", &a) == QUOTA_OK);
	CHECK(quota_account_set_tariff(a, cat, t) == QUOTA_OK);
	CHECK(quota_account_set_zone(a, z) == QUOTA_OK);
	CHECK(quota_account_set_settlement(a, QUOTA_PERIOD_HOUR, 10000,
					   QUOTA_ROUND_HALF_UP) == QUOTA_OK);
	CHECK(quota_account_set_cap(a, cat, QUOTA_PERIOD_DAY, 50) == QUOTA_OK);
	for (i = 0; i < 24; i++) {
		quota_usage u = {.category = cat, .units = 1 + i % 5,
				 .at = instant(data, size, 10 + i)};
		quota_receipt r;

		if (i % 3 == 1) /* around the transition of the last one */
			u.at = instant(data, size, 9 + i) / 3600 * 3600 + 1800;
		if (u.at >= QUOTA_TIME_MAX)
			u.at = QUOTA_TIME_MAX - 1;
		rc = quota_charge(a, &u, &r);
		CHECK(rc == QUOTA_OK || rc == QUOTA_ECAP);
	}
	CHECK(quota_report(a, QUOTA_PERIOD_HOUR, QUOTA_TIME_MIN,
			   QUOTA_TIME_MAX, on_row, NULL) == QUOTA_OK);
	CHECK(quota_report(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN,
			   QUOTA_TIME_MAX, on_row, NULL) == QUOTA_OK);
	CHECK(quota_settle(a, QUOTA_TIME_MAX - 1, NULL, NULL) >= 0);
	quota_ctx_free(ctx);
	CHECK(live == 0);
	return 0;
}
