/*
 * check_tariff.c - tariff tiers and modes (R13, R14), one-shot pricing
 * with quota_tariff_price, and the rules for building a tariff.
 */
#include <check.h>
#include <stdlib.h>

#include "quota.h"
#include "testutil.h"

static quota_ctx *ctx;
static quota_tariff *t;

static void setup(void)
{
	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_tariff_new(ctx, "sms", &t), 0);
	/* 0.05 up to 1,000, 0.04 up to 10,000, 0.03 beyond. */
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000, 50000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, 10000, 40000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 30000), 0);
}

static void teardown(void)
{
	quota_ctx_free(ctx);
}

static int64_t price(int64_t before, int64_t units)
{
	int64_t c = -1;

	ck_assert_int_eq(quota_tariff_price(t, before, units, &c), 0);
	return c;
}

/* R14 graduated: each position priced at its own tier; tier i covers
 * (up_to[i-1], up_to[i]]. */
START_TEST(test_r14_graduated_positions)
{
	ck_assert_int_eq(price(0, 1), 50000);
	ck_assert_int_eq(price(999, 1), 50000);  /* position 1000 */
	ck_assert_int_eq(price(1000, 1), 40000); /* position 1001 */
	ck_assert_int_eq(price(990, 20), 10 * 50000 + 10 * 40000);
	ck_assert_int_eq(price(0, 20000),
			 1000 * 50000 + 9000 * 40000 + INT64_C(10000) * 30000);
}
END_TEST

/* R14 volume (one-shot): every unit at the tier the total reaches. */
START_TEST(test_r14_volume_total_reaches)
{
	ck_assert_int_eq(quota_tariff_set_mode(t, QUOTA_VOLUME), 0);
	ck_assert_int_eq(price(990, 10), 10 * 50000);  /* reaches 1000 */
	ck_assert_int_eq(price(990, 11), 11 * 40000);  /* reaches 1001 */
	ck_assert_int_eq(price(0, 20000), INT64_C(20000) * 30000);
}
END_TEST

/* Positions beyond the last finite tier keep its price. */
START_TEST(test_r13_last_finite_tier_extends)
{
	quota_tariff *u;
	int64_t c;

	ck_assert_int_eq(quota_tariff_new(ctx, "capped", &u), 0);
	ck_assert_int_eq(quota_tariff_add_tier(u, 10, 7), 0);
	ck_assert_int_eq(quota_tariff_price(u, 5, 10, &c), 0);
	ck_assert_int_eq(c, 70);
	ck_assert_int_eq(quota_tariff_new(ctx, "empty", &u), 0);
	ck_assert_int_eq(quota_tariff_price(u, 0, 10, &c), 0);
	ck_assert_int_eq(c, 0);
}
END_TEST

START_TEST(test_tariff_building_rules)
{
	quota_tariff *u;
	int64_t c = 5;

	ck_assert_int_eq(quota_tariff_add_tier(t, 20000, 1), QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(ctx), "");
	ck_assert_int_eq(quota_tariff_new(ctx, "sms", &u), QUOTA_EEXISTS);
	ck_assert_ptr_null(u);
	ck_assert_int_eq(quota_tariff_new(ctx, "t2", &u), 0);
	ck_assert_int_eq(quota_tariff_add_tier(u, 0, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_add_tier(u, 10, -1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_add_tier(u, 10, 1), 0);
	ck_assert_int_eq(quota_tariff_add_tier(u, 10, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_add_tier(u, 9, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_mode(u, 7), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_free(u, -1, QUOTA_PERIOD_DAY),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_free(u, 1, 99), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(u, -1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_price(u, -1, 1, &c), QUOTA_EINVAL);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(quota_tariff_price(u, 0, 0, &c), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_find(ctx, "t2", &u), 0);
	ck_assert_str_eq(quota_tariff_name(u), "t2");
	ck_assert_int_eq(quota_tariff_find(ctx, "nope", &u), QUOTA_ENOTFOUND);
	ck_assert_ptr_null(u);
}
END_TEST

/* At most 32 tiers. */
START_TEST(test_tariff_tier_limit)
{
	quota_tariff *u;
	int i;

	ck_assert_int_eq(quota_tariff_new(ctx, "many", &u), 0);
	for (i = 1; i <= 32; i++)
		ck_assert_int_eq(quota_tariff_add_tier(u, i * 10, i), 0);
	ck_assert_int_eq(quota_tariff_add_tier(u, 1000, 1), QUOTA_EOVERFLOW);
}
END_TEST

/* Money is overflow-checked: units * price and the sum of tiers. */
START_TEST(test_tariff_price_overflow)
{
	quota_tariff *u;
	int64_t c;

	ck_assert_int_eq(quota_tariff_new(ctx, "dear", &u), 0);
	ck_assert_int_eq(quota_tariff_add_tier(u, QUOTA_UNLIMITED,
					       INT64_C(1) << 40),
			 0);
	ck_assert_int_eq(quota_tariff_price(u, 0, INT64_C(1) << 22, &c), 0);
	ck_assert_int_eq(quota_tariff_price(u, 0, INT64_C(1) << 23 << 1, &c),
			 QUOTA_EOVERFLOW);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(quota_tariff_price(t, INT64_MAX - 5, 10, &c),
			 QUOTA_EOVERFLOW);
}
END_TEST

/* Exhaustive cross-check of graduated pricing against a unit-by-unit sum
 * over small ranges. */
START_TEST(test_r13_graduated_matches_unit_sum)
{
	int64_t before, n;

	for (before = 980; before < 1020; before++)
		for (n = 1; n < 30; n++) {
			int64_t k, sum = 0;

			for (k = before + 1; k <= before + n; k++)
				sum += k <= 1000 ? 50000 : k <= 10000 ? 40000
								    : 30000;
			ck_assert_int_eq(price(before, n), sum);
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tariff");
	TCase *tc = tcase_create("tariff");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_r14_graduated_positions);
	tcase_add_test(tc, test_r14_volume_total_reaches);
	tcase_add_test(tc, test_r13_last_finite_tier_extends);
	tcase_add_test(tc, test_tariff_building_rules);
	tcase_add_test(tc, test_tariff_tier_limit);
	tcase_add_test(tc, test_tariff_price_overflow);
	tcase_add_test(tc, test_r13_graduated_matches_unit_sum);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
