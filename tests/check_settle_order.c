/*
 * check_settle_order.c - settlement (R17, R14) takes an account's dirty
 * ledger rows in one order, late rows first and then by hour, whatever
 * order the charges came in.  settle.c puts the usual day (rows by hour
 * already) in order by insertion and leaves a day that would take it
 * too many moves to qsort; both must give the same bills.  Two accounts
 * charged the same usage, one in time order (a few rows out of place:
 * the categories within an hour, the late rows behind the day's) and one
 * in reverse (every pair out of place: qsort), get equal bills, whose
 * amounts are worked out by hand below.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "billrec.h" /* billrec, keep_bill */

#define HOURS 24
#define LATE 1 /* hours of day 1 reported late */

static void charge(quota_account *a, uint32_t cat, int64_t units,
		   int64_t at)
{
	quota_usage u = {.category = cat, .units = units, .at = at};
	quota_receipt r;

	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
}

/* The usage of hour h of the day starting at day: 10 SMS, 100 emails,
 * the SMS first (a higher category number: out of order within the
 * hour, which the insertion puts right). */
static void hour_usage(quota_account *a, uint32_t sms, uint32_t email,
		       int64_t day, int h)
{
	charge(a, sms, 10, day + h * TU_HOUR + 60);
	charge(a, email, 100, day + h * TU_HOUR + 120);
}

static void day_usage(quota_account *a, uint32_t sms, uint32_t email,
		      int64_t day, int reverse)
{
	int h;

	for (h = 0; h < HOURS; h++)
		hour_usage(a, sms, email, day, reverse ? HOURS - 1 - h : h);
}

static void settle(quota_account *a, int64_t now, billrec *br)
{
	memset(br, 0, sizeof *br);
	ck_assert_int_eq(quota_settle(a, now, keep_bill, br), 1);
	ck_assert_int_eq(br->n, 1);
}

static void same_bill(const quota_bill *x, const quota_bill *y)
{
	uint32_t i;

	ck_assert_int_eq(x->period_start, y->period_start);
	ck_assert_int_eq(x->period_end, y->period_end);
	ck_assert_int_eq(x->status, y->status);
	ck_assert_uint_eq(x->nlines, y->nlines);
	ck_assert_int_eq(x->amount_micros, y->amount_micros);
	ck_assert_int_eq(x->total_micros, y->total_micros);
	ck_assert_int_eq(x->balance_micros, y->balance_micros);
	for (i = 0; i < x->nlines; i++) {
		const quota_bill_line *p = &x->lines[i], *q = &y->lines[i];

		ck_assert_uint_eq(p->category, q->category);
		ck_assert_int_eq(p->kind, q->kind);
		ck_assert_int_eq(p->late, q->late);
		ck_assert_int_eq(p->units, q->units);
		ck_assert_int_eq(p->receipts_micros, q->receipts_micros);
		ck_assert_int_eq(p->amount_micros, q->amount_micros);
		ck_assert_int_eq(p->adjustment_micros, q->adjustment_micros);
		ck_assert_int_eq(p->rounded_micros, q->rounded_micros);
	}
}

/* The units of bill b's line of (category, late), 0 if it has none. */
static int64_t line_units(const quota_bill *b, uint32_t cat, int32_t late)
{
	uint32_t i;

	for (i = 0; i < b->nlines; i++)
		if (b->lines[i].category == cat && b->lines[i].late == late &&
		    b->lines[i].kind == QUOTA_LINE_USAGE)
			return b->lines[i].units;
	return 0;
}

/*
 * SMS on an R14 volume tariff (up to 1,000 a month at 0.05 USD), email at
 * 0.00028 USD.  Day 1: 24 hours of 10 SMS and 100 emails = 240 SMS
 * (12,000,000 micros) and 2,400 emails (672,000).  Day 2: the same, and
 * hour 0 of day 1 again, reported late: 10 SMS (500,000) and 100 emails
 * (28,000) on late lines; the month stays under 1,000 SMS, so no volume
 * adjustment.
 */
START_TEST(test_r17_rows_in_any_order_give_the_same_bills)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email"), sms = add_cat(c, "sms");
	quota_tariff *te = add_tariff(c, "email"), *ts = add_tariff(c, "sms");
	int64_t d1 = tu_utc(2024, 5, 1, 0, 0, 0), d2 = d1 + TU_DAY;
	quota_account *a[2];
	billrec br[2][2];
	int k, h;

	ck_assert_int_eq(quota_tariff_add_tier(te, QUOTA_UNLIMITED, 280),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(ts, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ts, 1000, 50000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ts, QUOTA_UNLIMITED, 30000),
			 QUOTA_OK);
	a[0] = add_acct(c, "in-order");
	a[1] = add_acct(c, "reversed");
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(quota_account_set_tariff(a[k], email, te),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(a[k], sms, ts),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_topup(a[k], 100000000, d1),
				 QUOTA_OK);
		day_usage(a[k], sms, email, d1, k);
		settle(a[k], d2, &br[k][0]);
	}
	/* Day 2's own usage and day 1's late hour: in order, the late
	 * hour's rows sit behind the day's and each moves past all of
	 * them, fewer moves in all than settle.c allows (8 a row);
	 * reversed, the late hour comes first but the rest are the wrong
	 * way round (qsort). */
	day_usage(a[0], sms, email, d2, 0);
	for (h = 0; h < LATE; h++)
		hour_usage(a[0], sms, email, d1, h);
	for (h = LATE - 1; h >= 0; h--)
		hour_usage(a[1], sms, email, d1, h);
	day_usage(a[1], sms, email, d2, 1);
	for (k = 0; k < 2; k++)
		settle(a[k], d2 + TU_DAY, &br[k][1]);

	for (k = 0; k < 2; k++)
		same_bill(&br[0][k].b[0], &br[1][k].b[0]);
	ck_assert_int_eq(br[0][0].b[0].amount_micros, 12000000 + 672000);
	ck_assert_int_eq(line_units(&br[0][0].b[0], sms, 0), 240);
	ck_assert_int_eq(line_units(&br[0][0].b[0], email, 0), 2400);
	ck_assert_int_eq(br[0][1].b[0].amount_micros,
			 12000000 + 672000 + 500000 + 28000);
	ck_assert_int_eq(line_units(&br[0][1].b[0], sms, 0), 240);
	ck_assert_int_eq(line_units(&br[0][1].b[0], email, 0), 2400);
	ck_assert_int_eq(line_units(&br[0][1].b[0], sms, 1), 10);
	ck_assert_int_eq(line_units(&br[0][1].b[0], email, 1), 100);
	quota_ctx_free(c);
}
END_TEST

static Suite *settle_order_suite(void)
{
	Suite *s = suite_create("settle_order");
	TCase *r17 = tcase_create("r17");

	tcase_add_test(r17, test_r17_rows_in_any_order_give_the_same_bills);
	suite_add_tcase(s, r17);
	return s;
}

int main(void)
{
	return tu_run(settle_order_suite());
}
