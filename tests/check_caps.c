/*
 * check_caps.c - R9 send caps, from providers' rules (DESIGN.md R9) with
 * exact dates and numbers: per category and account-wide, per day and
 * month in the account's calendar, counting free and package units, 0
 * refusing everything, and each cap taken away leaving the others.  Each
 * test name cites the rule it shows.
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"

START_TEST(test_r9_cap_category_day_and_month)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "a");
	int64_t d1 = tu_utc(2024, 7, 1, 10, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 100),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH,
					       150),
			 QUOTA_OK);
	charge_ok(a, sms, 60, d1, &r);
	charge_refused(a, sms, 50, d1, QUOTA_ECAP);
	charge_ok(a, sms, 40, d1 + 13 * TU_HOUR + 59 * 60, &r);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY, d1), 100);
	charge_refused(a, sms, 1, tu_utc(2024, 7, 1, 23, 59, 59), QUOTA_ECAP);
	/* Other categories have no cap. */
	charge_ok(a, email, 1000, d1, &r);
	/* A new day. */
	charge_ok(a, sms, 1, tu_utc(2024, 7, 2, 0, 0, 0), &r);
	/* Month: 101 so far; 50 more would be 151. */
	charge_refused(a, sms, 50, tu_utc(2024, 7, 3, 0, 0, 0), QUOTA_ECAP);
	charge_ok(a, sms, 49, tu_utc(2024, 7, 3, 0, 0, 0), &r);
	charge_refused(a, sms, 1, tu_utc(2024, 7, 31, 23, 59, 59), QUOTA_ECAP);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_MONTH, d1),
			 150);
	/* Late report into a day that still has room but a full month. */
	charge_refused(a, sms, 1, tu_utc(2024, 7, 20, 0, 0, 0), QUOTA_ECAP);
	charge_ok(a, sms, 1, tu_utc(2024, 8, 1, 0, 0, 0), &r);
	charge_ok(a, sms, 1, tu_utc(2024, 6, 30, 23, 59, 59), &r);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 6, 1, 0, 0, 0)),
			 1);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r9_cap_all_categories)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "a");
	int64_t d1 = tu_utc(2024, 7, 1, 10, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       100),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 250),
			 QUOTA_OK);
	charge_ok(a, sms, 60, d1, &r);
	charge_ok(a, email, 40, d1, &r);
	charge_refused(a, email, 1, d1, QUOTA_ECAP);
	charge_refused(a, sms, 1, d1, QUOTA_ECAP);
	ck_assert_int_eq(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_DAY, d1),
			 100);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY, d1), 60);
	charge_ok(a, email, 100, d1 + TU_DAY, &r);
	charge_refused(a, sms, 51, d1 + 2 * TU_DAY, QUOTA_ECAP);
	charge_ok(a, sms, 50, d1 + 2 * TU_DAY, &r);
	ck_assert_int_eq(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					    d1),
			 250);
	/* Removing the caps (units < 0). */
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       -1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, -1),
			 QUOTA_OK);
	charge_ok(a, sms, 1000, d1, &r);
	quota_ctx_free(c);
}
END_TEST

/* R9: a cap taken away leaves every other in force, on the fast path
 * too (it asks one flag, "some cap is set", then the caps themselves):
 * the account-wide one beside the last category's (63, which once shared
 * a bit with QUOTA_ALL), and one category's beside another's. */
START_TEST(test_r9_cap_removed_leaves_the_others)
{
	quota_ctx *c = new_ctx();
	quota_account *a = add_acct(c, "a");
	int64_t d1 = tu_utc(2024, 7, 1, 10, 0, 0);
	quota_receipt r;
	uint32_t cat[64];
	char name[8];
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof name, "c%d", i);
		cat[i] = add_cat(c, name);
	}
	ck_assert_int_eq(quota_account_set_cap(a, cat[63], QUOTA_PERIOD_DAY,
					       5),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, cat[1], QUOTA_PERIOD_DAY, 3),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       100),
			 QUOTA_OK);
	/* first charges: the general path; the rest of each category's in
	 * this hour take the fast path */
	charge_ok(a, cat[63], 5, d1, &r);
	charge_ok(a, cat[1], 3, d1, &r);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       -1),
			 QUOTA_OK);
	charge_refused(a, cat[63], 1, d1, QUOTA_ECAP);
	ck_assert_int_eq(quota_account_set_cap(a, cat[63], QUOTA_PERIOD_DAY,
					       -1),
			 QUOTA_OK);
	charge_ok(a, cat[63], 1, d1, &r);
	charge_refused(a, cat[1], 1, d1, QUOTA_ECAP);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 9),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, cat[1], QUOTA_PERIOD_DAY,
					       -1),
			 QUOTA_OK);
	charge_refused(a, cat[2], 1, d1, QUOTA_ECAP); /* 9 of 9 this month */
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, -1),
			 QUOTA_OK);
	charge_ok(a, cat[1], 1000, d1, &r);
	charge_ok(a, cat[63], 1000, d1, &r);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r9_cap_counts_package_and_free_units)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	int64_t d1 = tu_utc(2024, 7, 1, 10, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 5, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 1000, d1 - TU_DAY, QUOTA_NEVER, 0, 0);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 20),
			 QUOTA_OK);
	charge_ok(a, sms, 20, d1, &r);
	expect_totals(&r, 20, 5, 15, 0, 0);
	/* The package still has 985 units, the cap refuses anyway. */
	charge_refused(a, sms, 1, d1, QUOTA_ECAP);
	ck_assert_int_eq(remaining_of(a, "P"), 985);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r9_cap_zero_refuses_everything)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t d1 = tu_utc(2024, 7, 1, 10, 0, 0);
	quota_receipt r;

	add_pkg(a, "P", QUOTA_MASK(sms), 1000, d1 - TU_DAY, QUOTA_NEVER, 0, 0);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH, 0),
			 QUOTA_OK);
	charge_refused(a, sms, 1, d1, QUOTA_ECAP);
	charge_refused(a, sms, 1, d1 + 400 * TU_DAY, QUOTA_ECAP);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH, -5),
			 QUOTA_OK);
	charge_ok(a, sms, 1, d1, &r);
	quota_ctx_free(c);
}
END_TEST

/* Days and months are calendar periods in the account's UTC offset. */
START_TEST(test_r9_cap_periods_in_utc_offset)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *tokyo = add_acct(c, "tokyo");
	quota_receipt r;

	/* UTC-5: the local day 07-01 runs 07-01 05:00 .. 07-02 05:00 UTC. */
	ck_assert_int_eq(quota_account_set_utc_offset(a, -5 * 3600), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 10),
			 QUOTA_OK);
	charge_ok(a, sms, 10, tu_utc(2024, 7, 1, 5, 0, 0), &r);
	charge_refused(a, sms, 1, tu_utc(2024, 7, 2, 4, 59, 59), QUOTA_ECAP);
	charge_ok(a, sms, 1, tu_utc(2024, 7, 1, 4, 59, 59), &r);
	charge_ok(a, sms, 10, tu_utc(2024, 7, 2, 5, 0, 0), &r);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 7, 1, 12, 0, 0)),
			 10);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 7, 1, 3, 0, 0)),
			 1);

	/* UTC+9: 03-31 20:00 UTC is already April in Tokyo. */
	ck_assert_int_eq(quota_account_set_utc_offset(tokyo, 9 * 3600),
			 QUOTA_OK);
	charge_ok(tokyo, sms, 7, tu_utc(2024, 3, 31, 20, 0, 0), &r);
	ck_assert_int_eq(quota_account_used(tokyo, sms, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 4, 15, 0, 0, 0)),
			 7);
	ck_assert_int_eq(quota_account_used(tokyo, sms, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 3, 31, 14, 59, 59)),
			 0);
	ck_assert_int_eq(quota_account_used(tokyo, sms, QUOTA_PERIOD_DAY,
					    tu_utc(2024, 3, 31, 15, 0, 0)),
			 7);
	quota_ctx_free(c);
}
END_TEST

static Suite *caps_suite(void)
{
	Suite *s = suite_create("caps");
	TCase *tc = tcase_create("r9");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_r9_cap_category_day_and_month);
	tcase_add_test(tc, test_r9_cap_all_categories);
	tcase_add_test(tc, test_r9_cap_removed_leaves_the_others);
	tcase_add_test(tc, test_r9_cap_counts_package_and_free_units);
	tcase_add_test(tc, test_r9_cap_zero_refuses_everything);
	tcase_add_test(tc, test_r9_cap_periods_in_utc_offset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(caps_suite());
}
