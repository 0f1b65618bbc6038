/*
 * check_calendar.c - the library's own calendar (lib/calendar.c,
 * lib/counters.c): civil dates, days and months in a fixed UTC offset,
 * checked against known dates and against the independent helpers in
 * tests/support (written separately, civil-from-days).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "testutil.h"

START_TEST(test_calendar_known_dates)
{
	int64_t y;
	unsigned m, d;

	ck_assert_int_eq(quota__days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(quota__days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(quota__days_from_civil(2024, 2, 29), 19782);
	ck_assert_int_eq(quota__days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(quota__days_from_civil(1, 1, 1), -719162);
	quota__civil_from_days(19782, &y, &m, &d);
	ck_assert(y == 2024 && m == 2 && d == 29);
	quota__civil_from_days(-719162, &y, &m, &d);
	ck_assert(y == 1 && m == 1 && d == 1);
	/* R4 dates: 2024-05-01 00:00 UTC is 1714521600. */
	ck_assert_int_eq(quota__days_from_civil(2024, 5, 1) * 86400,
			 INT64_C(1714521600));
}
END_TEST

/* Every day from year 1 to 9999 round-trips and agrees with the helper. */
START_TEST(test_calendar_round_trip_whole_range)
{
	int64_t lo = quota__days_from_civil(1, 1, 1);
	int64_t hi = quota__days_from_civil(10000, 1, 1);
	int64_t z, step = getenv("QUOTA_TEST_QUICK") ? 37 : 1;

	for (z = lo; z < hi; z += step) {
		int64_t y, ty;
		unsigned m, d;
		int tm, td;

		quota__civil_from_days(z, &y, &m, &d);
		tu_civil_from_days(z, &ty, &tm, &td);
		ck_assert(y == ty && (int)m == tm && (int)d == td);
		ck_assert_int_eq(quota__days_from_civil(y, m, d), z);
		ck_assert_int_eq(quota__month_of_day(z), y * 12 + (m - 1));
	}
}
END_TEST

/* Days are floor division, also before 1970 and with negative offsets. */
START_TEST(test_calendar_day_of_floor)
{
	ck_assert_int_eq(quota__day_of(0), 0);
	ck_assert_int_eq(quota__day_of(86399), 0);
	ck_assert_int_eq(quota__day_of(86400), 1);
	ck_assert_int_eq(quota__day_of(-1), -1);
	ck_assert_int_eq(quota__day_of(-86400), -1);
	ck_assert_int_eq(quota__day_of(-86401), -2);
	ck_assert_int_eq(quota__day_of(QUOTA_TIME_MIN),
			 quota__days_from_civil(1, 1, 1));
}
END_TEST

/* R9/R13/R15 periods follow the account's UTC offset: 2024-05-31 20:00 UTC
 * is already June 1st at UTC+8 but still May 31st at UTC-5. */
START_TEST(test_calendar_account_offset_periods)
{
	quota_ctx *ctx;
	quota_account *a;
	uint32_t cat;
	quota_usage u = {0};
	int64_t at = tu_utc(2024, 5, 31, 20, 0, 0);

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &cat), 0);
	ck_assert_int_eq(quota_account_new(ctx, "east", &a), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(a, 8 * 3600), 0);
	u.category = cat;
	u.units = 3;
	u.at = at;
	ck_assert_int_eq(quota_charge(a, &u, NULL), 0);
	/* Counted in June (local), not in May. */
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 6, 10, 0, 0, 0)),
			 3);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 5, 10, 0, 0, 0)),
			 0);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 5, 31, 16, 0, 0)),
			 3);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 5, 31, 15, 59, 59)),
			 0);
	ck_assert_int_eq(quota_account_set_utc_offset(a, -18 * 3600 - 1),
			 QUOTA_EINVAL);
	quota_ctx_free(ctx);
}
END_TEST

/* The offset is set before usage: afterwards a different one would move
 * counted usage to other local hours and days, and is refused (R9, R17);
 * the same one again is a no-op.  Holds count as usage. */
START_TEST(test_calendar_offset_fixed_once_used)
{
	quota_ctx *ctx;
	quota_account *a, *b;
	uint32_t cat;
	quota_usage u = {0};
	quota_receipt r;
	uint64_t hold;
	int64_t at = tu_utc(2024, 5, 31, 20, 0, 0);

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &cat), 0);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), 0);
	ck_assert_int_eq(quota_account_new(ctx, "b", &b), 0);
	/* Before usage: any number of changes. */
	ck_assert_int_eq(quota_account_set_utc_offset(a, 8 * 3600), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(a, -5 * 3600), 0);
	u.category = cat;
	u.units = 1;
	u.at = at;
	ck_assert_int_eq(quota_charge(a, &u, &r), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(a, 8 * 3600),
			 QUOTA_EINVAL);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(ctx), "before charging"));
	ck_assert_int_eq(quota_account_set_utc_offset(a, -5 * 3600), 0);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 5, 31, 12, 0, 0)),
			 1);
	/* A hold is usage too, and stays so once released, although no
	 * ledger row was booked (quota_account_new(3)). */
	ck_assert_int_eq(quota_reserve(b, &u, 60, &r, &hold), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(b, 3600), QUOTA_EINVAL);
	ck_assert_int_eq(quota_release(b, hold, NULL, &r), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(b, 3600), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_utc_offset(b, 0), 0);
	quota_ctx_free(ctx);
}
END_TEST

/* The one-entry month cache gives the same answer as a fresh computation
 * for days visited in any order. */
START_TEST(test_calendar_month_cache_random_order)
{
	quota_ctx *ctx;
	quota_account *a;
	uint64_t s = 12345;
	int i, n = getenv("QUOTA_TEST_QUICK") ? 20000 : 200000;

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_account_new(ctx, "x", &a), 0);
	for (i = 0; i < n; i++) {
		int64_t day;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		day = (int64_t)(s % 3000000) - 1000000;
		if (i % 3)
			day = (day % 90) + 19000; /* revisit nearby months */
		ck_assert_int_eq(quota__account_month(a, day),
				 quota__month_of_day(day));
	}
	quota_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("calendar");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_calendar_known_dates);
	tcase_add_test(tc, test_calendar_round_trip_whole_range);
	tcase_add_test(tc, test_calendar_day_of_floor);
	tcase_add_test(tc, test_calendar_account_offset_periods);
	tcase_add_test(tc, test_calendar_offset_fixed_once_used);
	tcase_add_test(tc, test_calendar_month_cache_random_order);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
