/*
 * check_scenario.c - scenario tests taken from providers' rules
 * (DESIGN.md R2-R7, R13-R15, R20; R9's caps in check_caps.c) with exact
 * dates and numbers.  Each test name cites the rule it shows.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"

/* ------------------------------------------------------- the test helpers */

START_TEST(test_testutil_calendar)
{
	int64_t z, y;
	int m, d;

	ck_assert_int_eq(tu_utc(1970, 1, 1, 0, 0, 0), 0);
	ck_assert_int_eq(tu_utc(2024, 5, 1, 0, 0, 0), INT64_C(1714521600));
	ck_assert_int_eq(tu_utc(2000, 3, 1, 0, 0, 0), INT64_C(951868800));
	ck_assert_int_eq(tu_utc(1, 1, 1, 0, 0, 0), QUOTA_TIME_MIN);
	ck_assert_int_eq(tu_utc(10000, 1, 1, 0, 0, 0), QUOTA_TIME_MAX);
	ck_assert_int_eq(tu_day_index(-1, 0), -1);
	ck_assert_int_eq(tu_day_index(tu_utc(2024, 5, 1, 23, 0, 0), 3600),
			 tu_days_from_civil(2024, 5, 2));
	ck_assert_int_eq(tu_month_index(tu_utc(2024, 4, 30, 22, 0, 0), 7200),
			 2024 * 12 + 4);
	for (z = -800000; z < 3000000; z += 997) {
		tu_civil_from_days(z, &y, &m, &d);
		ck_assert_int_eq(tu_days_from_civil(y, m, d), z);
	}
}
END_TEST

/* ------------------------------------------------------------------- R4 */

/* One account per window of the provider's example, so each shows alone. */
static void r4_setup(quota_ctx *c, const char *acct_id, quota_account **out,
		     uint32_t *sms)
{
	quota_tariff *t;
	quota_account *a;
	char tname[64];

	*sms = 0;
	if (quota_category_find(c, "sms", sms) != QUOTA_OK)
		*sms = add_cat(c, "sms");
	snprintf(tname, sizeof tname, "payg-%s", acct_id);
	t = add_tariff(c, tname);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 7000),
			 QUOTA_OK);
	a = add_acct(c, acct_id);
	ck_assert_int_eq(quota_account_set_tariff(a, *sms, t), QUOTA_OK);
	add_pkg(a, "A", QUOTA_MASK(*sms), 10000, tu_utc(2024, 5, 1, 0, 0, 0),
		tu_utc(2025, 5, 1, 0, 0, 0), 0, 0);
	add_pkg(a, "B", QUOTA_MASK(*sms), 100000, tu_utc(2024, 5, 10, 0, 0, 0),
		tu_utc(2025, 5, 10, 0, 0, 0), 0, 0);
	*out = a;
}

START_TEST(test_r4_provider_example)
{
	quota_ctx *c = new_ctx();
	quota_account *a, *w1, *w3;
	quota_receipt r;
	uint32_t sms;

	/* Window 05-01 .. 05-09: only A covers; beyond 10,000 is PAYG. */
	r4_setup(c, "window1", &w1, &sms);
	ck_assert_int_eq(quota_account_remaining(w1, sms,
						 tu_utc(2024, 5, 1, 0, 0, 0)),
			 10000);
	ck_assert_int_eq(quota_account_remaining(w1, sms,
						 tu_utc(2024, 5, 9, 23, 59, 59)),
			 10000);
	charge_ok(w1, sms, 10500, tu_utc(2024, 5, 5, 12, 0, 0), &r);
	expect_totals(&r, 10500, 0, 10000, 500, 500 * 7000);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "A", 10000);
	expect_payg_line(&r, 1, 0, 500, 7000);
	ck_assert_int_eq(remaining_of(w1, "A"), 0);
	ck_assert_int_eq(remaining_of(w1, "B"), 100000);
	ck_assert_int_eq(status_of(w1, "B", tu_utc(2024, 5, 5, 12, 0, 0)),
			 QUOTA_PACKAGE_PENDING);

	/* Window 05-10 .. 2025-04-30: A then B; beyond 110,000 is PAYG. */
	r4_setup(c, "window2", &a, &sms);
	charge_ok(a, sms, 4000, tu_utc(2024, 5, 1, 0, 0, 0), &r);
	expect_totals(&r, 4000, 0, 4000, 0, 0);
	expect_nlines(&r, 1);
	expect_pkg_line(&r, 0, "A", 4000);
	ck_assert_int_eq(quota_account_remaining(a, sms,
						 tu_utc(2024, 5, 9, 23, 59, 59)),
			 6000);
	ck_assert_int_eq(quota_account_remaining(a, sms,
						 tu_utc(2024, 5, 10, 0, 0, 0)),
			 106000);
	charge_ok(a, sms, 10000, tu_utc(2024, 5, 10, 0, 0, 0), &r);
	expect_totals(&r, 10000, 0, 10000, 0, 0);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "A", 6000);
	expect_pkg_line(&r, 1, "B", 4000);
	charge_ok(a, sms, 90000, tu_utc(2024, 12, 31, 18, 0, 0), &r);
	expect_totals(&r, 90000, 0, 90000, 0, 0);
	expect_pkg_line(&r, 0, "B", 90000);
	ck_assert_int_eq(quota_account_remaining(a, sms,
						 tu_utc(2025, 4, 30, 0, 0, 0)),
			 6000);
	charge_ok(a, sms, 6010, tu_utc(2025, 4, 30, 23, 59, 59), &r);
	expect_totals(&r, 6010, 0, 6000, 10, 10 * 7000);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "B", 6000);
	expect_payg_line(&r, 1, 0, 10, 7000);
	/* 110,000 units came from packages in total; the rest was PAYG. */
	ck_assert_int_eq(remaining_of(a, "A"), 0);
	ck_assert_int_eq(remaining_of(a, "B"), 0);
	ck_assert_int_eq(status_of(a, "A", tu_utc(2025, 4, 30, 0, 0, 0)),
			 QUOTA_PACKAGE_EXHAUSTED);

	/* Window 2025-05-01 .. 05-09: only B. */
	r4_setup(c, "window3", &w3, &sms);
	ck_assert_int_eq(quota_account_remaining(w3, sms,
						 tu_utc(2025, 4, 30, 23, 59, 59)),
			 110000);
	ck_assert_int_eq(quota_account_remaining(w3, sms,
						 tu_utc(2025, 5, 1, 0, 0, 0)),
			 100000);
	charge_ok(w3, sms, 100, tu_utc(2025, 5, 1, 0, 0, 0), &r);
	expect_totals(&r, 100, 0, 100, 0, 0);
	expect_nlines(&r, 1);
	expect_pkg_line(&r, 0, "B", 100);
	ck_assert_int_eq(remaining_of(w3, "A"), 10000);
	ck_assert_int_eq(status_of(w3, "A", tu_utc(2025, 5, 1, 0, 0, 0)),
			 QUOTA_PACKAGE_EXPIRED);
	ck_assert_int_eq(status_of(w3, "B", tu_utc(2025, 5, 9, 23, 59, 59)),
			 QUOTA_PACKAGE_ACTIVE);

	/* From 2025-05-10 everything is pay-as-you-go. */
	ck_assert_int_eq(quota_account_remaining(w3, sms,
						 tu_utc(2025, 5, 10, 0, 0, 0)),
			 0);
	charge_ok(w3, sms, 50, tu_utc(2025, 5, 10, 0, 0, 0), &r);
	expect_totals(&r, 50, 0, 0, 50, 50 * 7000);
	expect_nlines(&r, 1);
	expect_payg_line(&r, 0, 0, 50, 7000);
	ck_assert_int_eq(remaining_of(w3, "A"), 10000);
	ck_assert_int_eq(remaining_of(w3, "B"), 99900);
	ck_assert_int_eq(status_of(w3, "B", tu_utc(2025, 5, 10, 0, 0, 0)),
			 QUOTA_PACKAGE_EXPIRED);
	quota_ctx_free(c);
}
END_TEST

/* R2: usage timestamped before a package's effective_at, reported late. */
START_TEST(test_r2_late_report_not_covered)
{
	quota_ctx *c = new_ctx();
	quota_account *a;
	quota_receipt r;
	uint32_t sms;

	r4_setup(c, "late", &a, &sms);
	/* The day before A starts, reported after A and B are active. */
	charge_ok(a, sms, 20, tu_utc(2024, 6, 1, 0, 0, 0), &r);
	expect_totals(&r, 20, 0, 20, 0, 0);
	charge_ok(a, sms, 5, tu_utc(2024, 4, 30, 23, 59, 59), &r);
	expect_totals(&r, 5, 0, 0, 5, 5 * 7000);
	/* 05-09 usage is covered by A but never by B. */
	charge_ok(a, sms, 9990, tu_utc(2024, 5, 9, 12, 0, 0), &r);
	expect_totals(&r, 9990, 0, 9980, 10, 10 * 7000);
	expect_pkg_line(&r, 0, "A", 9980);
	ck_assert_int_eq(remaining_of(a, "B"), 100000);
	/* Exactly at effective_at it is covered. */
	charge_ok(a, sms, 1, tu_utc(2024, 5, 10, 0, 0, 0), &r);
	expect_pkg_line(&r, 0, "B", 1);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------- R3 */

START_TEST(test_r3_soonest_expiry_first)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 1, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "X30", QUOTA_MASK(sms), 10, t0, t0 + 30 * TU_DAY, 0, 0);
	add_pkg(a, "Y10", QUOTA_MASK(sms), 10, t0, t0 + 10 * TU_DAY, 0, 0);
	add_pkg(a, "Z20", QUOTA_MASK(sms), 10, t0, t0 + 20 * TU_DAY, 0, 0);
	charge_ok(a, sms, 25, t0 + TU_DAY, &r);
	expect_totals(&r, 25, 0, 25, 0, 0);
	expect_nlines(&r, 3);
	expect_pkg_line(&r, 0, "Y10", 10);
	expect_pkg_line(&r, 1, "Z20", 10);
	expect_pkg_line(&r, 2, "X30", 5);
	/* A charge may span packages and pay-as-you-go (no tariff: price 0). */
	charge_ok(a, sms, 7, t0 + TU_DAY, &r);
	expect_totals(&r, 7, 0, 5, 2, 0);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "X30", 5);
	expect_payg_line(&r, 1, 0, 2, 0);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r3_priority_before_expiry)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 1, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "p0-exp10", QUOTA_MASK(sms), 10, t0, t0 + 10 * TU_DAY, 0, 0);
	add_pkg(a, "p-1-exp60", QUOTA_MASK(sms), 10, t0, t0 + 60 * TU_DAY, 0,
		-1);
	add_pkg(a, "p5-exp5", QUOTA_MASK(sms), 10, t0, t0 + 5 * TU_DAY, 0, 5);
	add_pkg(a, "p0-never", QUOTA_MASK(sms), 10, t0, QUOTA_NEVER, 0, 0);
	add_pkg(a, "p-1-never", QUOTA_MASK(sms), 10, t0, QUOTA_NEVER, 0, -1);
	charge_ok(a, sms, 50, t0 + TU_DAY, &r);
	expect_totals(&r, 50, 0, 50, 0, 0);
	expect_nlines(&r, 5);
	expect_pkg_line(&r, 0, "p-1-exp60", 10);
	expect_pkg_line(&r, 1, "p-1-never", 10);
	expect_pkg_line(&r, 2, "p0-exp10", 10);
	expect_pkg_line(&r, 3, "p0-never", 10);
	expect_pkg_line(&r, 4, "p5-exp5", 10);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r3_never_expiring_last)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 1, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "never", QUOTA_MASK(sms), 10, t0 - 5 * TU_DAY, QUOTA_NEVER,
		0, 0);
	add_pkg(a, "far", QUOTA_MASK(sms), 10, t0,
		tu_utc(9999, 12, 31, 23, 59, 59), 0, 0);
	charge_ok(a, sms, 15, t0, &r);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "far", 10);
	expect_pkg_line(&r, 1, "never", 5);
	ck_assert_int_eq(status_of(a, "never", tu_utc(9999, 12, 31, 0, 0, 0)),
			 QUOTA_PACKAGE_ACTIVE);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r3_ties_effective_then_add_order)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 1, 1, 0, 0, 0), exp = t0 + 30 * TU_DAY;
	quota_receipt r;

	add_pkg(a, "late-eff", QUOTA_MASK(sms), 10, t0 + 2 * TU_DAY, exp, 0, 0);
	add_pkg(a, "first", QUOTA_MASK(sms), 10, t0, exp, 0, 0);
	add_pkg(a, "second", QUOTA_MASK(sms), 10, t0, exp, 0, 0);
	add_pkg(a, "mid-eff", QUOTA_MASK(sms), 10, t0 + TU_DAY, exp, 0, 0);
	charge_ok(a, sms, 40, t0 + 3 * TU_DAY, &r);
	expect_nlines(&r, 4);
	expect_pkg_line(&r, 0, "first", 10);
	expect_pkg_line(&r, 1, "second", 10);
	expect_pkg_line(&r, 2, "mid-eff", 10);
	expect_pkg_line(&r, 3, "late-eff", 10);
	quota_ctx_free(c);
}
END_TEST

/* R5: packages bought together share their interval: add order decides. */
START_TEST(test_r5_bought_together)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t eff = tu_utc(2024, 3, 1, 0, 0, 0);
	int64_t exp = tu_utc(2025, 3, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "order-1", QUOTA_MASK(sms), 1000, eff, exp, 0, 0);
	add_pkg(a, "order-2", QUOTA_MASK(sms), 1000, eff, exp, 0, 0);
	add_pkg(a, "order-3", QUOTA_MASK(sms), 1000, eff, exp, 0, 0);
	ck_assert_int_eq(quota_account_remaining(a, sms, eff), 3000);
	charge_ok(a, sms, 2500, eff + TU_HOUR, &r);
	expect_nlines(&r, 3);
	expect_pkg_line(&r, 0, "order-1", 1000);
	expect_pkg_line(&r, 1, "order-2", 1000);
	expect_pkg_line(&r, 2, "order-3", 500);
	ck_assert_int_eq(status_of(a, "order-1", eff), QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(status_of(a, "order-3", eff), QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(status_of(a, "order-3", exp), QUOTA_PACKAGE_EXPIRED);
	quota_ctx_free(c);
}
END_TEST

/* R6: a package covers only its categories. */
START_TEST(test_r6_category_masks)
{
	quota_ctx *c = new_ctx();
	uint32_t verify = add_cat(c, "sms.verify");
	uint32_t notify = add_cat(c, "sms.notify");
	uint32_t mkt = add_cat(c, "sms.marketing");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 2, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "marketing", QUOTA_MASK(mkt), 1000, t0, t0 + 90 * TU_DAY, 0,
		0);
	add_pkg(a, "general", QUOTA_MASK(verify) | QUOTA_MASK(notify), 500, t0,
		t0 + 365 * TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_remaining(a, verify, t0), 500);
	ck_assert_int_eq(quota_account_remaining(a, notify, t0), 500);
	ck_assert_int_eq(quota_account_remaining(a, mkt, t0), 1000);
	charge_ok(a, verify, 100, t0, &r);
	expect_nlines(&r, 1);
	expect_pkg_line(&r, 0, "general", 100);
	charge_ok(a, notify, 50, t0, &r);
	expect_pkg_line(&r, 0, "general", 50);
	/* The marketing package is never drawn for verification. */
	charge_ok(a, verify, 400, t0, &r);
	expect_totals(&r, 400, 0, 350, 50, 0);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "general", 350);
	ck_assert_int_eq(remaining_of(a, "marketing"), 1000);
	ck_assert_int_eq(quota_account_remaining(a, verify, t0), 0);
	ck_assert_int_eq(quota_account_remaining(a, mkt, t0), 1000);
	charge_ok(a, mkt, 10, t0, &r);
	expect_pkg_line(&r, 0, "marketing", 10);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------- R7 */

START_TEST(test_r7_stop_policy)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 8, 1, 0, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_overage(a, sms, QUOTA_OVERAGE_STOP),
			 QUOTA_OK);
	charge_refused(a, sms, 1, t0, QUOTA_EEXHAUSTED);
	add_pkg(a, "P", QUOTA_MASK(sms), 100, t0, t0 + 30 * TU_DAY, 0, 0);
	/* Refused whole: not 100 from the package and 50 refused. */
	charge_refused(a, sms, 150, t0, QUOTA_EEXHAUSTED);
	ck_assert_int_eq(remaining_of(a, "P"), 100);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY, t0), 0);
	charge_ok(a, sms, 100, t0, &r);
	expect_totals(&r, 100, 0, 100, 0, 0);
	charge_refused(a, sms, 1, t0, QUOTA_EEXHAUSTED);
	/* The quote says the same and changes nothing. */
	{
		quota_usage u = {.category = sms, .units = 1, .at = t0};

		ck_assert_int_eq(quota_quote(a, &u, &r), QUOTA_EEXHAUSTED);
		ck_assert(tu_receipt_is_zero(&r));
	}
	/* Other categories keep the default PAYG. */
	charge_ok(a, email, 5, t0, &r);
	expect_totals(&r, 5, 0, 0, 5, 0);
	ck_assert_int_eq(quota_account_set_overage(a, sms, QUOTA_OVERAGE_PAYG),
			 QUOTA_OK);
	charge_ok(a, sms, 1, t0, &r);
	expect_totals(&r, 1, 0, 0, 1, 0);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r7_stop_policy_free_allowance_suffices)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	int64_t t0 = tu_utc(2024, 8, 1, 10, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 10, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 100),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_overage(a, sms, QUOTA_OVERAGE_STOP),
			 QUOTA_OK);
	charge_refused(a, sms, 11, t0, QUOTA_EEXHAUSTED);
	charge_ok(a, sms, 10, t0, &r);
	expect_totals(&r, 10, 10, 0, 0, 0);
	charge_refused(a, sms, 1, t0, QUOTA_EEXHAUSTED);
	charge_ok(a, sms, 1, t0 + TU_DAY, &r);
	expect_totals(&r, 1, 1, 0, 0, 0);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r7_stop_flag_package)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "a");
	int64_t eff = tu_utc(2024, 8, 1, 0, 0, 0);
	int64_t exp = tu_utc(2024, 9, 1, 0, 0, 0);
	quota_receipt r;

	add_pkg(a, "S", QUOTA_MASK(sms), 100, eff, exp, QUOTA_PACKAGE_STOP, 0);
	/* Before effective_at the flag does not apply (late report). */
	charge_ok(a, sms, 3, eff - 1, &r);
	expect_totals(&r, 3, 0, 0, 3, 0);
	/* While unexpired, beyond the package is refused whole. */
	charge_refused(a, sms, 150, eff, QUOTA_EEXHAUSTED);
	ck_assert_int_eq(remaining_of(a, "S"), 100);
	charge_ok(a, sms, 100, tu_utc(2024, 8, 5, 0, 0, 0), &r);
	expect_totals(&r, 100, 0, 100, 0, 0);
	/* Exhausted but unexpired: still STOP. */
	charge_refused(a, sms, 1, tu_utc(2024, 8, 31, 23, 59, 59),
		       QUOTA_EEXHAUSTED);
	/* Another package covering sms is still drawn. */
	add_pkg(a, "plain", QUOTA_MASK(sms), 5, eff, QUOTA_NEVER, 0, 0);
	charge_ok(a, sms, 5, tu_utc(2024, 8, 20, 0, 0, 0), &r);
	expect_pkg_line(&r, 0, "plain", 5);
	charge_refused(a, sms, 1, tu_utc(2024, 8, 20, 0, 0, 0),
		       QUOTA_EEXHAUSTED);
	/* Categories outside its mask are not affected. */
	charge_ok(a, email, 7, tu_utc(2024, 8, 20, 0, 0, 0), &r);
	expect_totals(&r, 7, 0, 0, 7, 0);
	/* From expires_at on, PAYG again. */
	charge_ok(a, sms, 2, exp, &r);
	expect_totals(&r, 2, 0, 0, 2, 0);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------ R13 / R14 */

static quota_tariff *three_tiers(quota_ctx *c, const char *name, int mode)
{
	quota_tariff *t = add_tariff(c, name);

	ck_assert_int_eq(quota_tariff_add_tier(t, 100, 10000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000, 8000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 5000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(t, mode), QUOTA_OK);
	return t;
}

START_TEST(test_r13_graduated_package_and_free_count_toward_volume)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = three_tiers(c, "tiers", QUOTA_GRADUATED);
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 50, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 30, tu_utc(2024, 3, 1, 0, 0, 0),
		tu_utc(2024, 4, 1, 0, 0, 0), 0, 0);
	/* 50 free + 30 package: PAYG positions 81..200. */
	charge_ok(a, sms, 200, tu_utc(2024, 3, 5, 0, 0, 0), &r);
	expect_totals(&r, 200, 50, 30, 120, 20 * 10000 + 100 * 8000);
	expect_nlines(&r, 4);
	expect_free_line(&r, 0, 50);
	expect_pkg_line(&r, 1, "P", 30);
	expect_payg_line(&r, 2, 0, 20, 10000);
	expect_payg_line(&r, 3, 1, 100, 8000);
	/* Positions 201..1100. */
	charge_ok(a, sms, 900, tu_utc(2024, 3, 20, 0, 0, 0), &r);
	expect_totals(&r, 900, 0, 0, 900, 800 * 8000 + 100 * 5000);
	expect_nlines(&r, 2);
	expect_payg_line(&r, 0, 1, 800, 8000);
	expect_payg_line(&r, 1, 2, 100, 5000);
	/* A late report in the same month continues the month's volume. */
	charge_ok(a, sms, 10, tu_utc(2024, 3, 1, 0, 0, 0), &r);
	expect_totals(&r, 10, 0, 0, 10, 10 * 5000);
	expect_payg_line(&r, 0, 2, 10, 5000);
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_MONTH,
					    tu_utc(2024, 3, 31, 0, 0, 0)),
			 1110);
	/* A new month starts from position 1 with a new free allowance. */
	charge_ok(a, sms, 10, tu_utc(2024, 4, 1, 0, 0, 0), &r);
	expect_totals(&r, 10, 10, 0, 0, 0);
	expect_nlines(&r, 1);
	expect_free_line(&r, 0, 10);
	charge_ok(a, sms, 100, tu_utc(2024, 4, 2, 0, 0, 0), &r);
	expect_totals(&r, 100, 40, 0, 60, 50 * 10000 + 10 * 8000);
	expect_nlines(&r, 3);
	expect_free_line(&r, 0, 40);
	expect_payg_line(&r, 1, 0, 50, 10000);
	expect_payg_line(&r, 2, 1, 10, 8000);
	ck_assert_int_eq(quota_account_free_used(a, sms,
						 tu_utc(2024, 4, 30, 0, 0, 0)),
			 50);
	ck_assert_int_eq(quota_account_free_used(a, sms,
						 tu_utc(2024, 3, 30, 0, 0, 0)),
			 50);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r13_beyond_last_finite_tier)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	quota_receipt r;
	int64_t cost = -1;

	ck_assert_int_eq(quota_tariff_add_tier(t, 100, 30), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, 200, 20), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	charge_ok(a, sms, 150, tu_utc(2024, 1, 10, 0, 0, 0), &r);
	expect_totals(&r, 150, 0, 0, 150, 100 * 30 + 50 * 20);
	/* Positions 151..250: 50 in tier 1, then beyond at tier 1's price. */
	charge_ok(a, sms, 100, tu_utc(2024, 1, 11, 0, 0, 0), &r);
	expect_totals(&r, 100, 0, 0, 100, 100 * 20);
	ck_assert_int_eq(quota_tariff_price(t, 250, 10, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 200);
	ck_assert_int_eq(quota_tariff_price(t, 0, 250, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 100 * 30 + 150 * 20);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r14_volume_mode_one_shot)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *vol = three_tiers(c, "vol", QUOTA_VOLUME);
	quota_tariff *grad = three_tiers(c, "grad", QUOTA_GRADUATED);
	quota_receipt r;
	int64_t cost = -1;

	ck_assert_int_eq(quota_tariff_price(vol, 0, 150, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 150 * 8000);
	ck_assert_int_eq(quota_tariff_price(grad, 0, 150, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 100 * 10000 + 50 * 8000);
	ck_assert_int_eq(quota_tariff_price(vol, 900, 200, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 200 * 5000);
	ck_assert_int_eq(quota_tariff_price(vol, 0, 100, &cost), QUOTA_OK);
	ck_assert_int_eq(cost, 100 * 10000);

	ck_assert_int_eq(quota_account_set_tariff(a, sms, vol), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 30, tu_utc(2024, 5, 1, 0, 0, 0),
		QUOTA_NEVER, 0, 0);
	/* 30 package + 70 PAYG: the volume reached is 100 -> tier 0. */
	charge_ok(a, sms, 100, tu_utc(2024, 5, 1, 0, 0, 0), &r);
	expect_totals(&r, 100, 0, 30, 70, 70 * 10000);
	expect_nlines(&r, 2);
	expect_pkg_line(&r, 0, "P", 30);
	expect_payg_line(&r, 1, 0, 70, 10000);
	/* 150 reached -> all 50 at tier 1. */
	charge_ok(a, sms, 50, tu_utc(2024, 5, 2, 0, 0, 0), &r);
	expect_totals(&r, 50, 0, 0, 50, 50 * 8000);
	expect_nlines(&r, 1);
	expect_payg_line(&r, 0, 1, 50, 8000);
	/* 1,150 reached -> all 1,000 at tier 2. */
	charge_ok(a, sms, 1000, tu_utc(2024, 5, 3, 0, 0, 0), &r);
	expect_totals(&r, 1000, 0, 0, 1000, 1000 * 5000);
	expect_payg_line(&r, 0, 2, 1000, 5000);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ R15 */

/* One provider: 2,000 free emails in total, at most 200 a day. */
START_TEST(test_r15_lifetime_free_with_daily_limit)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "email");
	quota_receipt r;
	int day;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 100),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 2000, QUOTA_PERIOD_LIFETIME),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(t, 200), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, t), QUOTA_OK);

	charge_ok(a, email, 150, tu_utc(2024, 6, 1, 9, 0, 0), &r);
	expect_totals(&r, 150, 150, 0, 0, 0);
	expect_nlines(&r, 1);
	expect_free_line(&r, 0, 150);
	charge_ok(a, email, 100, tu_utc(2024, 6, 1, 18, 0, 0), &r);
	expect_totals(&r, 100, 50, 0, 50, 50 * 100);
	expect_nlines(&r, 2);
	expect_free_line(&r, 0, 50);
	expect_payg_line(&r, 1, 0, 50, 100);
	for (day = 2; day <= 10; day++) {
		charge_ok(a, email, 500, tu_utc(2024, 6, day, 12, 0, 0), &r);
		expect_totals(&r, 500, 200, 0, 300, 300 * 100);
	}
	ck_assert_int_eq(quota_account_free_used(a, email,
						 tu_utc(2024, 6, 1, 0, 0, 0)),
			 2000);
	/* 2,000 used: nothing free on a fresh day, nor next year. */
	charge_ok(a, email, 10, tu_utc(2024, 6, 11, 0, 0, 0), &r);
	expect_totals(&r, 10, 0, 0, 10, 1000);
	charge_ok(a, email, 10, tu_utc(2025, 1, 11, 0, 0, 0), &r);
	expect_totals(&r, 10, 0, 0, 10, 1000);
	/* Nor for a late report before the first use. */
	charge_ok(a, email, 10, tu_utc(2024, 5, 1, 0, 0, 0), &r);
	expect_totals(&r, 10, 0, 0, 10, 1000);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r15_daily_free_allowance)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "daily");
	int64_t d1 = tu_utc(2024, 6, 1, 9, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 100, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 1000, d1 - TU_DAY, QUOTA_NEVER, 0, 0);
	/* Free is used before packages (R1, R15). */
	charge_ok(a, sms, 150, d1, &r);
	expect_totals(&r, 150, 100, 50, 0, 0);
	expect_nlines(&r, 2);
	expect_free_line(&r, 0, 100);
	expect_pkg_line(&r, 1, "P", 50);
	charge_ok(a, sms, 30, d1 + TU_DAY, &r);
	expect_totals(&r, 30, 30, 0, 0, 0);
	ck_assert_int_eq(quota_account_free_used(a, sms, d1), 100);
	ck_assert_int_eq(quota_account_free_used(a, sms, d1 + TU_DAY), 30);
	ck_assert_int_eq(quota_account_free_used(a, sms, d1 + 2 * TU_DAY), 0);
	/* A late report to day 1 finds no free units left there. */
	charge_ok(a, sms, 5, d1 - 8 * TU_HOUR, &r);
	expect_totals(&r, 5, 0, 5, 0, 0);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r15_monthly_free_with_daily_limit)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "monthly");
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 1000, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(t, 300), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	charge_ok(a, sms, 500, tu_utc(2024, 2, 1, 0, 0, 0), &r);
	expect_totals(&r, 500, 300, 0, 200, 0);
	charge_ok(a, sms, 500, tu_utc(2024, 2, 2, 0, 0, 0), &r);
	expect_totals(&r, 500, 300, 0, 200, 0);
	charge_ok(a, sms, 500, tu_utc(2024, 2, 3, 0, 0, 0), &r);
	expect_totals(&r, 500, 300, 0, 200, 0);
	charge_ok(a, sms, 500, tu_utc(2024, 2, 29, 23, 59, 59), &r);
	expect_totals(&r, 500, 100, 0, 400, 0);
	ck_assert_int_eq(quota_account_free_used(a, sms,
						 tu_utc(2024, 2, 15, 0, 0, 0)),
			 1000);
	charge_ok(a, sms, 500, tu_utc(2024, 3, 1, 0, 0, 0), &r);
	expect_totals(&r, 500, 300, 0, 200, 0);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ R20 */

START_TEST(test_r20_package_status)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t t0 = tu_utc(2024, 1, 1, 0, 0, 0);
	quota_package *p, *n;
	quota_receipt r;
	quota_package_spec s;

	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, t0 + TU_DAY, t0 + 2 * TU_DAY,
		    0, 0);
	n = add_pkg(a, "N", QUOTA_MASK(sms), 10, t0, QUOTA_NEVER, 0, 0);
	ck_assert_int_eq(quota_package_status(p, t0), QUOTA_PACKAGE_PENDING);
	ck_assert_int_eq(quota_package_status(p, t0 + TU_DAY - 1),
			 QUOTA_PACKAGE_PENDING);
	ck_assert_int_eq(quota_package_status(p, t0 + TU_DAY),
			 QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(p, t0 + 2 * TU_DAY - 1),
			 QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(p, t0 + 2 * TU_DAY),
			 QUOTA_PACKAGE_EXPIRED);
	ck_assert_int_eq(quota_package_status(n, QUOTA_TIME_MAX - 1),
			 QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(NULL, t0), -1);
	ck_assert_int_eq(quota_package_get_spec(p, &s), QUOTA_OK);
	ck_assert_str_eq(s.id, "P");
	ck_assert_int_eq(s.units, 10);
	ck_assert_int_eq(s.effective_at, t0 + TU_DAY);
	ck_assert_int_eq(s.expires_at, t0 + 2 * TU_DAY);
	ck_assert(s.categories == QUOTA_MASK(sms));

	/* Exhausted: shown whatever the time, even after expiry. */
	charge_ok(a, sms, 10, t0 + TU_DAY, &r);
	expect_pkg_line(&r, 0, "P", 10);
	ck_assert_ptr_eq(r.lines[0].package, p);
	ck_assert_int_eq(quota_package_remaining(p), 0);
	ck_assert_int_eq(quota_package_status(p, t0 + TU_DAY),
			 QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(quota_package_status(p, t0 + 5 * TU_DAY),
			 QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(quota_package_status(p, t0), QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(quota_package_status(n, t0 + TU_DAY),
			 QUOTA_PACKAGE_ACTIVE);
	ck_assert_uint_eq(quota_account_package_count(a), 2);
	ck_assert_ptr_eq(quota_account_package_at(a, 0), p);
	ck_assert_ptr_eq(quota_account_package_at(a, 1), n);
	ck_assert_ptr_null(quota_account_package_at(a, 2));
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------ receipt and quote */

START_TEST(test_receipt_lines_free_packages_payg_tiers)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = three_tiers(c, "t", QUOTA_GRADUATED);
	int64_t t0 = tu_utc(2024, 9, 1, 0, 0, 0);
	quota_receipt r;

	ck_assert_int_eq(quota_tariff_set_free(t, 5, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "second", QUOTA_MASK(sms), 20, t0, t0 + 20 * TU_DAY, 0, 0);
	add_pkg(a, "first", QUOTA_MASK(sms), 10, t0, t0 + 10 * TU_DAY, 0, 0);
	/* 5 free, 10 first, 20 second, positions 36..1100 PAYG. */
	charge_ok(a, sms, 1100, t0, &r);
	expect_totals(&r, 1100, 5, 30, 1065,
		      65 * 10000 + 900 * 8000 + 100 * 5000);
	expect_nlines(&r, 6);
	expect_free_line(&r, 0, 5);
	expect_pkg_line(&r, 1, "first", 10);
	expect_pkg_line(&r, 2, "second", 20);
	expect_payg_line(&r, 3, 0, 65, 10000);
	expect_payg_line(&r, 4, 1, 900, 8000);
	expect_payg_line(&r, 5, 2, 100, 5000);
	/* The receipt may be NULL. */
	{
		quota_usage u = {.category = sms, .units = 1, .at = t0};

		ck_assert_int_eq(quota_charge(a, &u, NULL), QUOTA_OK);
		ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_DAY,
						    t0),
				 1101);
	}
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_receipt_more_sources_than_lines)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = three_tiers(c, "t", QUOTA_GRADUATED);
	int64_t t0 = tu_utc(2024, 9, 1, 0, 0, 0);
	quota_receipt r;
	char id[16];
	int i;

	ck_assert_int_eq(quota_tariff_set_free(t, 1, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "p%02d", i);
		add_pkg(a, id, QUOTA_MASK(sms), 1, t0, t0 + (i + 1) * TU_DAY, 0,
			0);
	}
	charge_ok(a, sms, 121, t0, &r);
	/* 1 free + 20 packages + PAYG positions 22..121 in two tiers. */
	expect_totals(&r, 121, 1, 20, 100, 79 * 10000 + 21 * 8000);
	ck_assert_uint_eq(r.nlines, QUOTA_RECEIPT_LINES);
	ck_assert_uint_eq(r.lines_total, 1 + 20 + 2);
	expect_free_line(&r, 0, 1);
	for (i = 0; i < QUOTA_RECEIPT_LINES - 1; i++) {
		snprintf(id, sizeof id, "p%02d", i);
		expect_pkg_line(&r, (uint32_t)i + 1, id, 1);
	}
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_quote_matches_charge_and_changes_nothing)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = three_tiers(c, "t", QUOTA_GRADUATED);
	int64_t t0 = tu_utc(2024, 9, 1, 0, 0, 0);
	quota_receipt q, r;
	quota_usage u = {.category = sms, .units = 150, .at = t0};
	tu_snap before, after;
	uint32_t i;

	ck_assert_int_eq(quota_tariff_set_free(t, 5, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 20, t0, t0 + 20 * TU_DAY, 0, 0);
	tu_snap_take1(&before, a, t0);
	ck_assert_int_eq(quota_quote(a, &u, &q), QUOTA_OK);
	ck_assert_int_eq(quota_quote(a, &u, &q), QUOTA_OK);
	tu_snap_take1(&after, a, t0);
	TU_ASSERT_SNAP_EQ(&before, &after);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	expect_totals(&q, r.units, r.free_units, r.package_units, r.payg_units,
		      r.payg_cost_micros);
	ck_assert_uint_eq(q.nlines, r.nlines);
	ck_assert_uint_eq(q.lines_total, r.lines_total);
	for (i = 0; i < q.nlines; i++) {
		ck_assert_int_eq(q.lines[i].source, r.lines[i].source);
		ck_assert_int_eq(q.lines[i].units, r.lines[i].units);
		ck_assert_int_eq(q.lines[i].cost_micros, r.lines[i].cost_micros);
		ck_assert_ptr_eq(q.lines[i].package, r.lines[i].package);
	}
	expect_totals(&r, 150, 5, 20, 125, 75 * 10000 + 50 * 8000);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_errmsg_empty_after_success)
{
	quota_ctx *c = new_ctx();
	uint32_t id;

	ck_assert_str_eq(quota_errmsg(c), "");
	ck_assert_int_eq(quota_category_add(c, "", &id), QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(c), "");
	ck_assert_int_eq(quota_category_add(c, "sms", &id), QUOTA_OK);
	ck_assert_str_eq(quota_errmsg(c), "");
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(quota_category_add(c, "email", &id), QUOTA_OK);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(quota_category_find(c, "sms", &id), QUOTA_OK);
	ck_assert_uint_eq(id, 0);
	ck_assert_str_eq(quota_category_name(c, 1), "email");
	ck_assert_ptr_null(quota_category_name(c, 2));
	ck_assert_uint_eq(quota_category_count(c), 2);
	quota_ctx_free(c);
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("rules");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_testutil_calendar);
	tcase_add_test(tc, test_r4_provider_example);
	tcase_add_test(tc, test_r2_late_report_not_covered);
	tcase_add_test(tc, test_r3_soonest_expiry_first);
	tcase_add_test(tc, test_r3_priority_before_expiry);
	tcase_add_test(tc, test_r3_never_expiring_last);
	tcase_add_test(tc, test_r3_ties_effective_then_add_order);
	tcase_add_test(tc, test_r5_bought_together);
	tcase_add_test(tc, test_r6_category_masks);
	tcase_add_test(tc, test_r7_stop_policy);
	tcase_add_test(tc, test_r7_stop_policy_free_allowance_suffices);
	tcase_add_test(tc, test_r7_stop_flag_package);
	tcase_add_test(tc, test_r13_graduated_package_and_free_count_toward_volume);
	tcase_add_test(tc, test_r13_beyond_last_finite_tier);
	tcase_add_test(tc, test_r14_volume_mode_one_shot);
	tcase_add_test(tc, test_r15_lifetime_free_with_daily_limit);
	tcase_add_test(tc, test_r15_daily_free_allowance);
	tcase_add_test(tc, test_r15_monthly_free_with_daily_limit);
	tcase_add_test(tc, test_r20_package_status);
	tcase_add_test(tc, test_receipt_lines_free_packages_payg_tiers);
	tcase_add_test(tc, test_receipt_more_sources_than_lines);
	tcase_add_test(tc, test_quote_matches_charge_and_changes_nothing);
	tcase_add_test(tc, test_errmsg_empty_after_success);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(scenario_suite());
}
