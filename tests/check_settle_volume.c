/*
 * check_settle_volume.c - settlement with volume tiers (R14): the
 * month's pay-as-you-go units all priced at the tier the month's volume
 * reaches, each bill carrying the difference; package units that move
 * the tier (R13); failure fees that do not count toward the volume.
 * Each test name cites the rule it shows; amounts are worked out by hand
 * in the comments.
 *
 * Bills themselves (R17) and all or nothing (R8) are in check_settle.c,
 * payment and suspension (R18) in check_settle_suspend.c; the helpers
 * the three share in support/settle.h.
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "billrec.h" /* billrec, keep_bill */
#include "settle.h"

/* ------------------------------------------------------------------- R14 */

/*
 * Volume tiers: the month's pay-as-you-go units are all priced at the
 * tier the month's volume reaches; each bill carries the difference.
 *   day 1: 300 + 500 units, receipts 15 + 25 = 40 USD (tier 1); bill 40.
 *   day 2: 500 units, receipt 500 x 0.03 = 15 USD (volume 1,300: tier 2);
 *          month price 1,300 x 0.03 = 39 USD, billed 40 so far: -1 USD,
 *          an adjustment of -16 USD.
 *   day 3: 100 units, receipt 3 USD; month 1,400 x 0.03 = 42: bill 3.
 * June starts again at tier 1.
 */
START_TEST(test_r14_volume_month_adjustment)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "vol");
	int64_t d1 = D(2024, 5, 1), sum = 0;
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, sms,
						  volume_tariff(c, "vol")),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(100), d1), QUOTA_OK);
	ck_assert_int_eq(charge(a, sms, 300, d1 + TU_HOUR, NULL), USD(15));
	ck_assert_int_eq(charge(a, sms, 500, d1 + 2 * TU_HOUR, NULL), USD(25));
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 800, USD(40),
		   USD(40), USD(40));
	sum += br.b[0].amount_micros;

	ck_assert_int_eq(charge(a, sms, 500, d1 + TU_DAY + TU_HOUR, NULL),
			 USD(15));
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 500, USD(15),
		   -USD(1), -USD(1));
	ck_assert_int_eq(br.b[0].lines[0].adjustment_micros, -USD(16));
	ck_assert_int_eq(br.b[0].total_micros, -USD(1));
	sum += br.b[0].amount_micros;
	ck_assert_int_eq(sum, 1300 * 30000);

	ck_assert_int_eq(charge(a, sms, 100, d1 + 2 * TU_DAY + TU_HOUR, NULL),
			 USD(3));
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 100, USD(3),
		   USD(3), USD(3));
	sum += br.b[0].amount_micros;
	ck_assert_int_eq(sum, 1400 * 30000);
	ck_assert_int_eq(quota_account_balance(a), USD(100) - USD(42));

	/* A new month: its own volume. */
	ck_assert_int_eq(charge(a, sms, 100, D(2024, 6, 1) + TU_HOUR, NULL),
			 USD(5));
	ck_assert_int_eq(settle(a, D(2024, 6, 2), &br), 1);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 100, USD(5),
		   USD(5), USD(5));
	ck_assert_int_eq(billed(a), USD(47));
	quota_ctx_free(c);
}
END_TEST

/*
 * R13 with R14: package units raise the month's volume, so they can move
 * the pay-as-you-go units already billed to a cheaper tier: a line with
 * no units or receipts, only the adjustment.  Several days settled at
 * once price the month after each day, so each bill still carries its
 * own day's difference.
 */
START_TEST(test_r14_package_units_move_the_tier)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "vol");
	int64_t d1 = D(2024, 5, 1);
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, sms,
						  volume_tariff(c, "vol")),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(100), d1), QUOTA_OK);
	ck_assert_int_eq(charge(a, sms, 800, d1 + TU_HOUR, NULL), USD(40));
	add_pkg(a, "P", QUOTA_MASK(sms), 500, d1 + TU_DAY, QUOTA_NEVER, 0, 0);
	ck_assert_int_eq(charge(a, sms, 500, d1 + TU_DAY + TU_HOUR, NULL), 0);
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 2);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 800, USD(40),
		   USD(40), USD(40));
	/* 800 x 0.03 = 24 USD for the month: 16 back. */
	ck_assert_uint_eq(br.b[1].nlines, 1);
	check_line(&br.b[1].lines[0], sms, QUOTA_LINE_USAGE, 0, 0, 0, -USD(16),
		   -USD(16));
	ck_assert_int_eq(quota_account_balance(a), USD(100) - USD(24));
	quota_ctx_free(c);
}
END_TEST

/*
 * Failure fees are not usage: released units add nothing to the month's
 * volume.  900 units at 0.05 = 45 USD stay in tier 1 although 200 more
 * were reserved and released (fee 200 x 100 micros); the release alone
 * on day 2 leaves empty usage rows, which make no line.
 */
START_TEST(test_r14_fees_do_not_count_toward_volume)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_tariff *t = volume_tariff(c, "vol");
	quota_account *a = add_acct(c, "vol");
	int64_t d1 = D(2024, 5, 1);
	quota_usage u = {.category = sms, .units = 200,
			 .at = d1 + TU_DAY + TU_HOUR};
	quota_receipt r;
	uint64_t hid;
	billrec br;

	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 100), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(100), d1), QUOTA_OK);
	ck_assert_int_eq(charge(a, sms, 900, d1 + TU_HOUR, NULL), USD(45));
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &hid), QUOTA_OK);
	ck_assert_int_eq(quota_release(a, hid, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 2);
	ck_assert_uint_eq(br.b[0].nlines, 1);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 900, USD(45),
		   USD(45), USD(45));
	ck_assert_uint_eq(br.b[1].nlines, 1);
	check_line(&br.b[1].lines[0], sms, QUOTA_LINE_FEE, 0, 200, 20000,
		   20000, 20000);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *settle_volume_suite(void)
{
	Suite *s = suite_create("settle_volume");
	TCase *r14 = tcase_create("r14");

	tcase_add_test(r14, test_r14_volume_month_adjustment);
	tcase_add_test(r14, test_r14_package_units_move_the_tier);
	tcase_add_test(r14, test_r14_fees_do_not_count_toward_volume);
	suite_add_tcase(s, r14);
	return s;
}

int main(void)
{
	return tu_run(settle_volume_suite());
}
