/*
 * check_settle.c - settlement (R17): bills per closed period, late usage
 * and reversals, failure fees, a failing on_bill, bad input, all or
 * nothing under allocation failure (R8).  Each test name cites the rule
 * it shows; amounts are worked out by hand in the comments.
 *
 * Volume-tier adjustments (R14) went to check_settle_volume.c, payment
 * and suspension (R18) to check_settle_suspend.c; the helpers the three
 * share (USD, D, evrec, keep_event, charge, settle, check_line, billed,
 * email_tariff, volume_tariff) to support/settle.h.  The order
 * settlement takes an account's rows in is check_settle_order.c's.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "billrec.h" /* billrec, keep_bill */
#include "settle.h"

/* ---------------------------------------------------------------- helpers */

/* A bill's sums are its lines' sums. */
static void check_sums(const quota_bill *b)
{
	int64_t amount = 0, total = 0;
	uint32_t i;

	for (i = 0; i < b->nlines; i++) {
		amount += b->lines[i].amount_micros;
		total += b->lines[i].rounded_micros;
	}
	ck_assert_int_eq(b->amount_micros, amount);
	ck_assert_int_eq(b->total_micros, total);
}

/* ------------------------------------------------------------------- R17 */

/*
 * Daily settlement of an email service: one bill a day, amounts exact,
 * rounded to the cent half up, debited from the balance.
 *   day 1: 100 emails       =  28,000 micros -> 0.03 USD
 *   day 2: 3 x 125 emails   = 105,000 micros -> 0.11 USD (half up)
 *   day 3: 18 emails        =   5,040 micros -> 0.01 USD
 */
START_TEST(test_r17_daily_email_one_bill_per_day)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1), bal = USD(100);
	static const int64_t units[3] = {100, 375, 18};
	static const int64_t exact[3] = {28000, 105000, 5040};
	static const int64_t cents[3] = {30000, 110000, 10000};
	quota_money m;
	billrec br;
	int i;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(100), d1), QUOTA_OK);
	charge(a, email, 100, d1 + 10 * TU_HOUR, NULL);
	/* Same hour twice: the second goes through the ledger's cache. */
	charge(a, email, 125, d1 + TU_DAY + 9 * TU_HOUR, NULL);
	charge(a, email, 125, d1 + TU_DAY + 9 * TU_HOUR + 1800, NULL);
	charge(a, email, 125, d1 + TU_DAY + 15 * TU_HOUR, NULL);
	charge(a, email, 18, d1 + 2 * TU_DAY + 23 * TU_HOUR + 3599, NULL);

	/* Nothing complete yet: nothing billed. */
	ck_assert_int_eq(settle(a, d1 + TU_DAY - 1, &br), 0);
	ck_assert_int_eq(br.n, 0);
	ck_assert_int_eq(billed(a), 0);
	ck_assert_int_eq(quota_account_balance(a), USD(100));

	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 3);
	ck_assert_int_eq(br.n, 3);
	for (i = 0; i < 3; i++) {
		const quota_bill *b = &br.b[i];

		bal -= cents[i];
		ck_assert_ptr_eq(b->account, a);
		ck_assert_uint_eq(b->seq, (uint64_t)i + 1);
		ck_assert_int_eq(b->period_start, d1 + i * TU_DAY);
		ck_assert_int_eq(b->period_end, d1 + (i + 1) * TU_DAY);
		ck_assert_int_eq(b->status, QUOTA_BILL_PAID);
		ck_assert_uint_eq(b->nlines, 1);
		check_line(&b->lines[0], email, QUOTA_LINE_USAGE, 0, units[i],
			   exact[i], exact[i], cents[i]);
		check_sums(b);
		ck_assert_int_eq(b->balance_micros, bal);
	}
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.balance_micros, USD(100) - 150000);
	ck_assert_int_eq(m.billed_micros, 30000 + 110000 + 10000);
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_int_eq(m.suspended, 0);

	/* The same now again, or a now inside day 4: nothing new. */
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 0);
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY + 12 * TU_HOUR, &br), 0);
	ck_assert_int_eq(billed(a), 150000);

	/* Day 4's usage is the next bill, numbered on. */
	charge(a, email, 1, d1 + 3 * TU_DAY + TU_HOUR, NULL);
	ck_assert_int_eq(settle(a, d1 + 5 * TU_DAY, &br), 1);
	ck_assert_uint_eq(br.b[0].seq, 4);
	ck_assert_int_eq(br.b[0].period_start, d1 + 3 * TU_DAY);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 1, 280, 280,
		   0);
	ck_assert_int_eq(br.b[0].total_micros, 0);
	quota_ctx_free(c);
}
END_TEST

START_TEST(test_r17_rounding_mode_and_minor_unit)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_tariff *t = email_tariff(c);
	quota_account *a = add_acct(c, "even"), *b = add_acct(c, "down");
	int64_t d1 = D(2024, 5, 1);
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(b, email, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_DAY,
						      10000,
						      QUOTA_ROUND_HALF_EVEN),
			 QUOTA_OK);
	/* Whole dollars, toward zero. */
	ck_assert_int_eq(quota_account_set_settlement(b, QUOTA_PERIOD_DAY,
						      USD(1),
						      QUOTA_ROUND_DOWN),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(10), d1), QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(b, USD(10), d1), QUOTA_OK);
	charge(a, email, 375, d1 + TU_HOUR, NULL); /* 105,000 */
	charge(b, email, 7000, d1 + TU_HOUR, NULL); /* 1,960,000 */

	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 375, 105000,
		   105000, 100000);
	ck_assert_int_eq(quota_account_balance(a), USD(10) - 100000);
	ck_assert_int_eq(settle(b, d1 + TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 7000,
		   1960000, 1960000, USD(1));
	ck_assert_int_eq(quota_account_balance(b), USD(9));
	quota_ctx_free(c);
}
END_TEST

/*
 * Hourly settlement of SMS in UTC+8: bills per local hour, periods in
 * UTC.  0.05 USD a segment.  Local 09:15 3, 09:40 2, 10:05 1, 12:59 4;
 * settled at local 13:00 (05:00 UTC): hours 9, 10 and 12.
 */
START_TEST(test_r17_hourly_sms_utc_offset)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_tariff *t = add_tariff(c, "sms");
	quota_account *a = add_acct(c, "cn");
	const int32_t off = 8 * 3600;
	/* Local 2024-05-01 00:00 in UTC+8 is 2024-04-30 16:00 UTC. */
	int64_t l0 = D(2024, 5, 1) - off;
	static const int64_t hours[3] = {9, 10, 12}, units[3] = {5, 1, 4};
	billrec br;
	int i;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(a, off), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_HOUR,
						      10000,
						      QUOTA_ROUND_HALF_UP),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(5), l0), QUOTA_OK);
	charge(a, sms, 3, l0 + 9 * TU_HOUR + 15 * 60, NULL);
	charge(a, sms, 2, l0 + 9 * TU_HOUR + 40 * 60, NULL);
	charge(a, sms, 1, l0 + 10 * TU_HOUR + 5 * 60, NULL);
	charge(a, sms, 4, l0 + 12 * TU_HOUR + 59 * 60, NULL);
	charge(a, sms, 7, l0 + 13 * TU_HOUR + 10 * 60, NULL);

	ck_assert_int_eq(l0 + 13 * TU_HOUR, tu_utc(2024, 5, 1, 5, 0, 0));
	ck_assert_int_eq(settle(a, l0 + 13 * TU_HOUR, &br), 3);
	for (i = 0; i < 3; i++) {
		const quota_bill *b = &br.b[i];

		ck_assert_int_eq(b->period_start, l0 + hours[i] * TU_HOUR);
		ck_assert_int_eq(b->period_end, l0 + (hours[i] + 1) * TU_HOUR);
		ck_assert_uint_eq(b->nlines, 1);
		check_line(&b->lines[0], sms, QUOTA_LINE_USAGE, 0, units[i],
			   units[i] * 50000, units[i] * 50000,
			   units[i] * 50000);
		check_sums(b);
	}
	ck_assert_int_eq(br.b[0].period_start, tu_utc(2024, 5, 1, 1, 0, 0));
	ck_assert_int_eq(quota_account_balance(a), USD(5) - 10 * 50000);

	/* Hour 13 is open until 14:00 local. */
	ck_assert_int_eq(settle(a, l0 + 14 * TU_HOUR - 1, &br), 0);
	ck_assert_int_eq(settle(a, l0 + 14 * TU_HOUR, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, l0 + 13 * TU_HOUR);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 7, 350000,
		   350000, 350000);
	quota_ctx_free(c);
}
END_TEST

/*
 * Late usage: a charge timestamped in a settled period is billed as a
 * late line of the next bill, and a reversal of a settled charge as a
 * negative late line (a credit).  Email at 280 micros.
 */
START_TEST(test_r17_late_usage_and_reversal_credit)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1), bal = USD(10);
	quota_receipt r;
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(10), d1), QUOTA_OK);
	charge(a, email, 1000, d1 + 10 * TU_HOUR, "m1"); /* 280,000 */
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 1000,
		   280000, 280000, 280000);
	bal -= 280000;

	/* A late report for day 1, and day 2's own usage. */
	charge(a, email, 500, d1 + 12 * TU_HOUR, NULL); /* 140,000 */
	charge(a, email, 100, d1 + TU_DAY + 10 * TU_HOUR, NULL); /* 28,000 */
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, d1 + TU_DAY);
	ck_assert_int_eq(br.b[0].period_end, d1 + 2 * TU_DAY);
	ck_assert_uint_eq(br.b[0].nlines, 2);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 100, 28000,
		   28000, 30000);
	check_line(&br.b[0].lines[1], email, QUOTA_LINE_USAGE, 1, 500, 140000,
		   140000, 140000);
	check_sums(&br.b[0]);
	bal -= 170000;
	ck_assert_int_eq(br.b[0].balance_micros, bal);

	/* Day 1's first charge fails late: credited in the next bill, which
	 * has nothing else, so it covers the last complete period (day 3). */
	ck_assert_int_eq(quota_reverse(a, "m1", d1 + 2 * TU_DAY + 8 * TU_HOUR,
				       &r),
			 QUOTA_OK);
	ck_assert_int_eq(settle(a, d1 + 4 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, d1 + 3 * TU_DAY);
	ck_assert_int_eq(br.b[0].period_end, d1 + 4 * TU_DAY);
	ck_assert_uint_eq(br.b[0].nlines, 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 1, -1000,
		   -280000, -280000, -280000);
	ck_assert_int_eq(br.b[0].total_micros, -280000);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_PAID);
	bal += 280000;
	ck_assert_int_eq(br.b[0].balance_micros, bal);
	ck_assert_int_eq(quota_account_balance(a), bal);
	ck_assert_int_eq(billed(a), 280000 + 170000 - 280000);
	ck_assert_int_eq(settle(a, d1 + 4 * TU_DAY, &br), 0);
	quota_ctx_free(c);
}
END_TEST

/*
 * Late lines go on the first bill a settlement makes (quota_settle(3)):
 * a period with rows but no line of its own (units from a package only)
 * does not date them.  Day 1's payg charge is reversed on day 2; days 2
 * and 3 draw only from a package; day 4 has payg usage.  Settled at the
 * end of day 3: the credit alone, for the last complete period (day 3,
 * not day 2, whose package rows came first).  The same again with day 4
 * settled in one go: the credit joins day 4's bill, one bill.
 */
START_TEST(test_r17_late_lines_on_first_bill_with_lines)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_tariff *t = email_tariff(c);
	quota_account *a = add_acct(c, "shop"), *b = add_acct(c, "shop-2");
	int64_t d1 = D(2024, 5, 1);
	quota_package_spec ps = {.id = "P1", .units = 100,
				 .effective_at = d1 + TU_DAY,
				 .expires_at = d1 + 30 * TU_DAY};
	quota_package *p;
	quota_receipt r;
	billrec br;
	int i;

	ps.categories = QUOTA_MASK(email);
	for (i = 0; i < 2; i++) {
		quota_account *x = i ? b : a;

		ck_assert_int_eq(quota_account_set_tariff(x, email, t),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_topup(x, USD(10), d1), QUOTA_OK);
		charge(x, email, 1000, d1 + 10 * TU_HOUR, "m1"); /* 280,000 */
		ck_assert_int_eq(settle(x, d1 + TU_DAY, &br), 1);
		ck_assert_int_eq(quota_package_add(x, &ps, &p), QUOTA_OK);
		ck_assert_int_eq(quota_reverse(x, "m1", d1 + TU_DAY + 5, &r),
				 QUOTA_OK);
		charge(x, email, 3, d1 + TU_DAY + 10, NULL);     /* package */
		charge(x, email, 3, d1 + 2 * TU_DAY + 10, NULL); /* package */
	}
	/* a: settled at the end of day 3 */
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, d1 + 2 * TU_DAY);
	ck_assert_int_eq(br.b[0].period_end, d1 + 3 * TU_DAY);
	ck_assert_uint_eq(br.b[0].nlines, 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 1, -1000,
		   -280000, -280000, -280000);
	/* b: the package's 94 left and 10 payg on day 4, settled with days 2
	 * and 3: one bill, day 4's, with its line and the credit */
	charge(b, email, 104, d1 + 3 * TU_DAY + 10, NULL); /* 10 x 280 */
	ck_assert_int_eq(settle(b, d1 + 4 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, d1 + 3 * TU_DAY);
	ck_assert_int_eq(br.b[0].period_end, d1 + 4 * TU_DAY);
	ck_assert_uint_eq(br.b[0].nlines, 2);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 10, 2800,
		   2800, 0);
	check_line(&br.b[0].lines[1], email, QUOTA_LINE_USAGE, 1, -1000,
		   -280000, -280000, -280000);
	check_sums(&br.b[0]);
	quota_ctx_free(c);
}
END_TEST

/*
 * In a time zone with hourly periods, late lines alone are billed for the
 * last complete hour (R17, R26): settled at local midnight, the day
 * before's last hour (23:00 to 24:00), not an empty span at midnight (a
 * zone's hour numbers are not contiguous across days).  Berlin, +02:00
 * in May.
 */
START_TEST(test_r26_zone_hourly_late_lines_last_hour)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	uint8_t tz[256];
	size_t n = tu_tzif_rule(tz, 3600, TU_BERLIN_RULE);
	quota_zone *z;
	/* 2024-05-01 00:00 in Berlin */
	int64_t mid = D(2024, 5, 1) - 2 * TU_HOUR;
	quota_receipt r;
	billrec br;

	ck_assert_int_eq(quota_zone_from_tzif(c, "Europe/Berlin", tz, n, &z),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_zone(a, z), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_HOUR,
						      10000,
						      QUOTA_ROUND_HALF_UP),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(10), mid), QUOTA_OK);
	charge(a, email, 1000, mid + 10, "m1");
	ck_assert_int_eq(settle(a, mid + TU_HOUR, &br), 1);
	ck_assert_int_eq(quota_reverse(a, "m1", mid + TU_HOUR + 5, &r),
			 QUOTA_OK);
	ck_assert_int_eq(settle(a, mid + TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, mid + TU_DAY - TU_HOUR);
	ck_assert_int_eq(br.b[0].period_end, mid + TU_DAY);
	ck_assert_uint_eq(br.b[0].nlines, 1);
	ck_assert_int_eq(br.b[0].lines[0].late, 1);
	quota_ctx_free(c);
}
END_TEST

/*
 * The ledger's hot-path cache must not hide a late charge in an hour that
 * settlement has taken in (hourly periods, no hook: the fast path).
 */
START_TEST(test_r17_late_charge_in_cached_hour_is_billed)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t h10 = tu_utc(2024, 5, 1, 10, 0, 0);
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_HOUR,
						      1, QUOTA_ROUND_HALF_UP),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(1), h10), QUOTA_OK);
	charge(a, email, 10, h10 + 600, NULL);
	charge(a, email, 20, h10 + 1200, NULL); /* cached hour */
	ck_assert_int_eq(settle(a, h10 + TU_HOUR, &br), 1);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 30, 8400,
		   8400, 8400);
	charge(a, email, 5, h10 + 1800, NULL); /* late, same hour */
	charge(a, email, 1, h10 + TU_HOUR + 60, NULL);
	ck_assert_int_eq(settle(a, h10 + 2 * TU_HOUR, &br), 1);
	ck_assert_uint_eq(br.b[0].nlines, 2);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 1, 280, 280,
		   280);
	check_line(&br.b[0].lines[1], email, QUOTA_LINE_USAGE, 1, 5, 1400,
		   1400, 1400);
	ck_assert_int_eq(billed(a), 36 * 280);
	quota_ctx_free(c);
}
END_TEST

/* A released hold's failure fee is billed on a fee line; a partial
 * commit bills what was used. */
START_TEST(test_r17_failure_fee_line)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_tariff *t = email_tariff(c);
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	quota_usage u = {.category = email, .units = 10,
			 .at = d1 + 10 * TU_HOUR};
	quota_receipt r;
	uint64_t h1, h2;
	billrec br;

	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 1000), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(1), d1), QUOTA_OK);
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h1), QUOTA_OK);
	ck_assert_int_eq(quota_release(a, h1, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 10000);
	u.units = 20;
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h2), QUOTA_OK);
	ck_assert_int_eq(quota_commit(a, h2, 15, NULL, &r), QUOTA_OK);
	charge(a, email, 100, d1 + 11 * TU_HOUR, NULL);

	/* 115 emails = 32,200 -> 0.03 USD; fee 10 x 1,000 = 0.01 USD. */
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	ck_assert_uint_eq(br.b[0].nlines, 2);
	check_line(&br.b[0].lines[0], email, QUOTA_LINE_USAGE, 0, 115, 32200,
		   32200, 30000);
	check_line(&br.b[0].lines[1], email, QUOTA_LINE_FEE, 0, 10, 10000,
		   10000, 10000);
	check_sums(&br.b[0]);
	ck_assert_int_eq(br.b[0].total_micros, 40000);
	ck_assert_int_eq(quota_account_balance(a), USD(1) - 40000);
	quota_ctx_free(c);
}
END_TEST

/* Categories of a bill come in category order, one line each. */
START_TEST(test_r17_one_line_per_category_in_order)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms"), email = add_cat(c, "email");
	quota_tariff *t = add_tariff(c, "sms");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	billrec br;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(1), d1), QUOTA_OK);
	charge(a, email, 10, d1 + TU_HOUR, NULL);
	charge(a, sms, 2, d1 + 2 * TU_HOUR, NULL);
	charge(a, email, 10, d1 + 3 * TU_HOUR, NULL);
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	ck_assert_uint_eq(br.b[0].nlines, 2);
	check_line(&br.b[0].lines[0], sms, QUOTA_LINE_USAGE, 0, 2, 100000,
		   100000, 100000);
	check_line(&br.b[0].lines[1], email, QUOTA_LINE_USAGE, 0, 20, 5600,
		   5600, 10000);
	quota_ctx_free(c);
}
END_TEST

/* --------------------------------------------------------------- R8 (R17) */

/*
 * A context with two accounts' worth of history: a first settlement,
 * then late usage, a reversal and two more days, so the settlement under
 * test has late lines, volume adjustments, an unpaid bill and events.
 *   email (280 micros), sms (volume: 0.05 up to 1,000, then 0.03).
 */
static quota_ctx *fault_scene(tu_alloc *al, evrec *ev, quota_account **out)
{
	quota_ctx *c = NULL;
	quota_account *a;
	quota_tariff *vt;
	uint32_t email, sms;
	int64_t d1 = D(2024, 5, 1);
	quota_receipt r;

	ck_assert_int_eq(quota_ctx_new_with(&al->a, &c), QUOTA_OK);
	email = add_cat(c, "email");
	sms = add_cat(c, "sms");
	vt = volume_tariff(c, "vol");
	a = add_acct(c, "shop");
	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, vt), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, keep_event, ev),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(16), d1), QUOTA_OK);
	charge(a, email, 1000, d1 + TU_HOUR, NULL);
	charge(a, sms, 300, d1 + 2 * TU_HOUR, "s1");
	ck_assert_int_eq(quota_settle(a, d1 + TU_DAY, NULL, NULL), 1);
	charge(a, email, 100, d1 + 3 * TU_HOUR, NULL);  /* late */
	charge(a, sms, 200, d1 + 4 * TU_HOUR, NULL);    /* late */
	charge(a, email, 50, d1 + TU_DAY + TU_HOUR, NULL);
	charge(a, sms, 600, d1 + TU_DAY + 2 * TU_HOUR, NULL);
	charge(a, email, 10, d1 + 2 * TU_DAY + TU_HOUR, "e3");
	charge(a, sms, 100, d1 + 2 * TU_DAY + 2 * TU_HOUR, NULL);
	charge(a, email, 7, d1 + 2 * TU_DAY + 3 * TU_HOUR, NULL);
	ck_assert_int_eq(quota_reverse(a, "e3", d1 + 2 * TU_DAY + 5 * TU_HOUR,
				       &r),
			 QUOTA_OK);
	charge(a, email, 3, d1 + 3 * TU_DAY + TU_HOUR, NULL); /* still open */
	*out = a;
	return c;
}

static void check_same_bills(const billrec *x, const billrec *y)
{
	int i;
	uint32_t k;

	ck_assert_int_eq(x->n, y->n);
	for (i = 0; i < x->n; i++) {
		const quota_bill *p = &x->b[i], *q = &y->b[i];

		ck_assert_uint_eq(p->seq, q->seq);
		ck_assert_int_eq(p->period_start, q->period_start);
		ck_assert_int_eq(p->period_end, q->period_end);
		ck_assert_int_eq(p->status, q->status);
		ck_assert_int_eq(p->amount_micros, q->amount_micros);
		ck_assert_int_eq(p->total_micros, q->total_micros);
		ck_assert_int_eq(p->balance_micros, q->balance_micros);
		ck_assert_uint_eq(p->nlines, q->nlines);
		for (k = 0; k < p->nlines; k++)
			ck_assert_int_eq(memcmp(&p->lines[k], &q->lines[k],
						sizeof p->lines[k]),
					 0);
	}
}

/* The first settlement of an account: it grows the unpaid-bill list, the
 * volume months and the event buffer for the first time. */
static quota_ctx *first_scene(tu_alloc *al, evrec *ev, quota_account **out)
{
	quota_ctx *c = NULL;
	quota_account *a;
	uint32_t email, sms;
	int64_t d1 = D(2024, 5, 1);

	ck_assert_int_eq(quota_ctx_new_with(&al->a, &c), QUOTA_OK);
	email = add_cat(c, "email");
	sms = add_cat(c, "sms");
	a = add_acct(c, "shop");
	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms,
						  volume_tariff(c, "vol")),
			 QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, keep_event, ev),
			 QUOTA_OK);
	charge(a, email, 1000, d1 + TU_HOUR, NULL);
	charge(a, sms, 900, d1 + 2 * TU_HOUR, NULL);
	charge(a, sms, 200, d1 + TU_DAY + TU_HOUR, NULL);
	*out = a;
	return c;
}

typedef quota_ctx *(*scene_fn)(tu_alloc *, evrec *, quota_account **);

/*
 * STYLE 19: build the scene, fail allocation k of quota_settle for k = 1,
 * 2, ... until it succeeds.  Each failure is QUOTA_ENOMEM with no bill, no
 * event and the money as it was, and a settlement after it gives the
 * reference bills (ref, settled with no failure); nothing leaks.  Returns
 * the number of failures.
 */
static long fault_loop(scene_fn scene, int64_t now, int64_t nbills,
		       billrec *ref)
{
	quota_money m0, m1, mref;
	quota_account *a;
	quota_ctx *c;
	billrec br;
	tu_alloc al;
	evrec ev;
	int64_t n;
	long k, failed = 0;
	int nev, refev;

	tu_alloc_init(&al);
	memset(&ev, 0, sizeof ev);
	c = scene(&al, &ev, &a);
	nev = ev.n;
	ck_assert_int_eq(settle(a, now, ref), nbills);
	ck_assert_int_eq(quota_account_money(a, &mref), QUOTA_OK);
	refev = ev.n - nev;
	quota_ctx_free(c);
	ck_assert_int_eq(al.live_blocks, 0);

	for (k = 1; k < 1000; k++) {
		tu_alloc_init(&al);
		memset(&ev, 0, sizeof ev);
		c = scene(&al, &ev, &a);
		nev = ev.n;
		ck_assert_int_eq(quota_account_money(a, &m0), QUOTA_OK);
		tu_alloc_fail_in(&al, k);
		n = settle(a, now, &br);
		tu_alloc_disarm(&al);
		if (n == QUOTA_ENOMEM) {
			failed++;
			ck_assert_int_eq(br.n, 0);
			ck_assert_int_eq(ev.n, nev);
			ck_assert_str_ne(quota_errmsg(c), "");
			ck_assert_int_eq(quota_account_money(a, &m1), QUOTA_OK);
			ck_assert_int_eq(memcmp(&m0, &m1, sizeof m0), 0);
			n = settle(a, now, &br);
		}
		ck_assert_int_eq(n, nbills);
		check_same_bills(ref, &br);
		ck_assert_int_eq(ev.n - nev, refev);
		ck_assert_int_eq(quota_account_money(a, &m1), QUOTA_OK);
		ck_assert_int_eq(memcmp(&mref, &m1, sizeof m1), 0);
		ck_assert_int_eq(settle(a, now, &br), 0);
		quota_ctx_free(c);
		ck_assert_int_eq(al.live_blocks, 0);
		ck_assert_int_eq(al.bad_frees, 0);
		if (failed < k)
			break; /* the k-th allocation was past the call */
	}
	return failed;
}

START_TEST(test_r8_settle_all_or_nothing_under_allocation_failure)
{
	billrec ref;

	/* Late lines, volume adjustments, an unpaid bill: 5 allocations. */
	ck_assert_int_ge(fault_loop(fault_scene, D(2024, 5, 4) + 2 * TU_HOUR,
				    2, &ref),
			 5);
	/* Worked out: day 2 has the late lines and goes unpaid. */
	ck_assert_int_eq(ref.b[0].period_start, D(2024, 5, 2));
	ck_assert_uint_eq(ref.b[0].nlines, 4);
	check_line(&ref.l[0][0], 0, QUOTA_LINE_USAGE, 0, 50, 14000, 14000,
		   10000);
	check_line(&ref.l[0][1], 0, QUOTA_LINE_USAGE, 1, 100, 28000, 28000,
		   30000);
	/* sms late: volume 500 -> 25 USD, 15 billed: 10 (its receipt);
	 * then 1,100 -> 33 USD: 8 more. */
	check_line(&ref.l[0][2], 1, QUOTA_LINE_USAGE, 0, 600, USD(18), USD(8),
		   USD(8));
	check_line(&ref.l[0][3], 1, QUOTA_LINE_USAGE, 1, 200, USD(10),
		   USD(10), USD(10));
	ck_assert_int_eq(ref.b[0].status, QUOTA_BILL_OUTSTANDING);
	/* Day 3: email 10 - 10 + 7 = 7 (1,960 -> 0), sms 100 -> 3 USD. */
	ck_assert_int_eq(ref.b[1].period_start, D(2024, 5, 3));
	ck_assert_uint_eq(ref.b[1].nlines, 2);
	check_line(&ref.l[1][0], 0, QUOTA_LINE_USAGE, 0, 7, 1960, 1960, 0);
	check_line(&ref.l[1][1], 1, QUOTA_LINE_USAGE, 0, 100, USD(3), USD(3),
		   USD(3));
	ck_assert_int_eq(ref.b[1].status, QUOTA_BILL_OUTSTANDING);

	/* A first settlement also makes room (volume months, events): 7
	 * allocations, each failed in turn. */
	ck_assert_int_ge(fault_loop(first_scene, D(2024, 5, 3), 2, &ref), 7);
	check_line(&ref.l[0][1], 1, QUOTA_LINE_USAGE, 0, 900, USD(45),
		   USD(45), USD(45));
	/* 1,100 x 0.03 = 33 USD for the month: 12 back. */
	check_line(&ref.l[1][0], 1, QUOTA_LINE_USAGE, 0, 200, USD(6),
		   -USD(12), -USD(12));
}
END_TEST

/* A period whose usage was all reversed before settlement has no bill;
 * its rows are taken in all the same. */
START_TEST(test_r17_period_netting_to_zero_has_no_bill)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	quota_receipt r;
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	charge(a, email, 100, d1 + TU_HOUR, "k");
	ck_assert_int_eq(quota_reverse(a, "k", d1 + 2 * TU_HOUR, &r),
			 QUOTA_OK);
	charge(a, email, 100, d1 + TU_DAY + TU_HOUR, NULL);
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].period_start, d1 + TU_DAY);
	ck_assert_uint_eq(br.b[0].seq, 1);
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 0);
	ck_assert_int_eq(billed(a), 30000);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------- callbacks */

/* A failing on_bill is counted; the settlement stands. */
START_TEST(test_r17_failing_on_bill_counted_settlement_stands)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(1), d1), QUOTA_OK);
	charge(a, email, 1000, d1 + TU_HOUR, NULL);
	charge(a, email, 1000, d1 + TU_DAY + TU_HOUR, NULL);
	memset(&br, 0, sizeof br);
	br.rc = -1;
	ck_assert_int_eq(quota_settle(a, d1 + 2 * TU_DAY, keep_bill, &br), 2);
	ck_assert_int_eq(br.n, 2);
	ck_assert_uint_eq(quota_ctx_hook_failures(c), 2);
	ck_assert_int_eq(quota_account_balance(a), USD(1) - 560000);
	ck_assert_int_eq(billed(a), 560000);
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 0);
	/* NULL on_bill: bills are made all the same. */
	charge(a, email, 10, d1 + 2 * TU_DAY + TU_HOUR, NULL);
	ck_assert_int_eq(quota_settle(a, d1 + 3 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(billed(a), 560000 + 0);
	ck_assert_uint_eq(quota_ctx_hook_failures(c), 2);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------- bad input */

START_TEST(test_r17_bad_input)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	static const int64_t bad[] = {QUOTA_TIME_MAX, QUOTA_TIME_MIN - 1,
				      INT64_MIN, INT64_MAX};
	quota_money m0, m1;
	billrec br;
	size_t i;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	charge(a, email, 1000, d1 + TU_HOUR, NULL);
	ck_assert_int_eq(quota_account_money(a, &m0), QUOTA_OK);
	ck_assert_int_eq(quota_settle(NULL, d1 + TU_DAY, keep_bill, &br),
			 QUOTA_EINVAL);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(settle(a, bad[i], &br), QUOTA_EINVAL);
		ck_assert_int_eq(br.n, 0);
		ck_assert_str_ne(quota_errmsg(c), "");
	}
	ck_assert_int_eq(quota_account_money(a, &m1), QUOTA_OK);
	ck_assert_int_eq(memcmp(&m0, &m1, sizeof m0), 0);
	/* Nothing was taken in: the bill is still there. */
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	ck_assert_str_eq(quota_errmsg(c), "");
	/* An account with no usage at all: no bill. */
	ck_assert_int_eq(settle(add_acct(c, "idle"), d1 + TU_DAY, &br), 0);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *settle_suite(void)
{
	Suite *s = suite_create("settle");
	TCase *r17 = tcase_create("r17");
	TCase *r8 = tcase_create("r8");

	tcase_add_test(r17, test_r17_daily_email_one_bill_per_day);
	tcase_add_test(r17, test_r17_rounding_mode_and_minor_unit);
	tcase_add_test(r17, test_r17_hourly_sms_utc_offset);
	tcase_add_test(r17, test_r17_late_usage_and_reversal_credit);
	tcase_add_test(r17, test_r17_late_lines_on_first_bill_with_lines);
	tcase_add_test(r17, test_r26_zone_hourly_late_lines_last_hour);
	tcase_add_test(r17, test_r17_late_charge_in_cached_hour_is_billed);
	tcase_add_test(r17, test_r17_failure_fee_line);
	tcase_add_test(r17, test_r17_one_line_per_category_in_order);
	tcase_add_test(r17, test_r17_failing_on_bill_counted_settlement_stands);
	tcase_add_test(r17, test_r17_bad_input);
	tcase_add_test(r17, test_r17_period_netting_to_zero_has_no_bill);
	tcase_add_test(r8, test_r8_settle_all_or_nothing_under_allocation_failure);
	tcase_set_timeout(r8, 60);
	suite_add_tcase(s, r17);
	suite_add_tcase(s, r8);
	return s;
}

int main(void)
{
	return tu_run(settle_suite());
}
