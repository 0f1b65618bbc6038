/*
 * check_report.c - usage reports (R22), the rows: quota_report's hour,
 * day and month rows against receipts the tests sum themselves, the
 * window that selects hours, charges on the fast path, local days and
 * months, reversals and fee rows, a year of hours, the calendar's ends.
 * Each test name cites R22 (and the other rule it leans on).
 *
 * The rules these tests pin (quota_report(3)): an hour belongs to a
 * report when its UTC start is in [from, to); a row's start and end are
 * its whole local period; rows come by start, category id, then free,
 * packages in the order added, pay-as-you-go, fees; rows with no units
 * and no cost are left out; a reversal takes its units out of the hour of
 * the charge; a FEE row's units are the units released.
 *
 * The rest of R22 went to check_report_csv.c (quota_report_csv and
 * quota_report_csv_file: the exact text, quoting, offsets, a failing
 * writer or stream) and check_report_errors.c (a callback that stops,
 * bad arguments, allocation failures); the helpers the three share (OK,
 * coll, report, sbuf, csv, HEADER, expect_row, charge, the scenario scen)
 * to support/report.h.
 */
#include <check.h>

#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "report.h"

/* ---------------------------------------------------------------- helpers */

/* Rows summed per category and source equal the receipts. */
static void expect_totals(const scen *s, const coll *c)
{
	int64_t fr[2] = {0, 0}, pk[2] = {0, 0}, pg[2] = {0, 0}, co[2] = {0, 0};
	int64_t pa = 0, pb = 0;
	int i;

	for (i = 0; i < c->n; i++) {
		const quota_report_row *r = &c->rows[i];

		ck_assert_uint_lt(r->category, 2);
		switch (r->source) {
		case QUOTA_SOURCE_FREE:
			fr[r->category] += r->units;
			break;
		case QUOTA_SOURCE_PACKAGE:
			pk[r->category] += r->units;
			pa += r->package == s->pa ? r->units : 0;
			pb += r->package == s->pb ? r->units : 0;
			break;
		case QUOTA_SOURCE_PAYG:
			pg[r->category] += r->units;
			break;
		default:
			ck_abort_msg("unexpected source %d", (int)r->source);
		}
		co[r->category] += r->cost_micros;
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(fr[i], s->free[i]);
		ck_assert_int_eq(pk[i], s->pkg[i]);
		ck_assert_int_eq(pg[i], s->payg[i]);
		ck_assert_int_eq(co[i], s->cost[i]);
	}
	ck_assert_int_eq(pa, s->pk_a);
	ck_assert_int_eq(pb, s->pk_b);
}

/* Rows are in (start, category, source order) and never all zero. */
static void expect_sorted(const coll *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		const quota_report_row *r = &c->rows[i];

		ck_assert(r->units != 0 || r->cost_micros != 0);
		ck_assert(r->start < r->end);
		ck_assert((r->source == QUOTA_SOURCE_PACKAGE) ==
			  (r->package != NULL));
		if (i) {
			const quota_report_row *p = &c->rows[i - 1];

			ck_assert(p->start <= r->start);
			/* QUOTA_SOURCE_* values are in report order. */
			if (p->start == r->start) {
				ck_assert(p->category <= r->category);
				if (p->category == r->category)
					ck_assert(p->source <= r->source);
			}
		}
	}
}

/* ------------------------------------------------------------------ R22 */

/* Hour, day and month rows of the scenario, exactly, and their totals. */
START_TEST(test_r22_scenario_hour_day_month_rows_and_totals)
{
	scen s;
	coll c;
	const quota_account *a;
	int64_t H = TU_HOUR, June = tu_utc(2024, 6, 1, 0, 0, 0);
	tu_snap before, after;

	scen_setup(&s, NULL);
	a = s.a;
	tu_snap_take1(&before, a, D1);

	OK(a, report(a, QUOTA_PERIOD_HOUR, D1, D1 + 2 * TU_DAY, &c));
	ck_assert_int_eq(c.n, 7);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_HOUR, D1 + 9 * H, D1 + 10 * H,
		   s.sms, QUOTA_SOURCE_FREE, NULL, 10, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_HOUR, D1 + 9 * H, D1 + 10 * H,
		   s.sms, QUOTA_SOURCE_PACKAGE, s.pa, 4, 0);
	expect_row(&c.rows[2], a, QUOTA_PERIOD_HOUR, D1 + 10 * H, D1 + 11 * H,
		   s.sms, QUOTA_SOURCE_PACKAGE, s.pa, 96, 0);
	expect_row(&c.rows[3], a, QUOTA_PERIOD_HOUR, D1 + 11 * H, D1 + 12 * H,
		   s.mail, QUOTA_SOURCE_PAYG, NULL, 3, 0);
	expect_row(&c.rows[4], a, QUOTA_PERIOD_HOUR, D1 + 13 * H, D1 + 14 * H,
		   s.sms, QUOTA_SOURCE_PACKAGE, s.pb, 50, 0);
	expect_row(&c.rows[5], a, QUOTA_PERIOD_HOUR, D1 + 13 * H, D1 + 14 * H,
		   s.sms, QUOTA_SOURCE_PAYG, NULL, 10, 200000);
	expect_row(&c.rows[6], a, QUOTA_PERIOD_HOUR, D1 + 32 * H, D1 + 33 * H,
		   s.sms, QUOTA_SOURCE_PAYG, NULL, 5, 100000);
	expect_totals(&s, &c);
	expect_sorted(&c);

	/* Packages in the order added (B before A), not in burn order. */
	OK(a, report(a, QUOTA_PERIOD_DAY, D1, D1 + 2 * TU_DAY, &c));
	ck_assert_int_eq(c.n, 6);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.sms,
		   QUOTA_SOURCE_FREE, NULL, 10, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.sms,
		   QUOTA_SOURCE_PACKAGE, s.pb, 50, 0);
	expect_row(&c.rows[2], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.sms,
		   QUOTA_SOURCE_PACKAGE, s.pa, 100, 0);
	expect_row(&c.rows[3], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.sms,
		   QUOTA_SOURCE_PAYG, NULL, 10, 200000);
	expect_row(&c.rows[4], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.mail,
		   QUOTA_SOURCE_PAYG, NULL, 3, 0);
	expect_row(&c.rows[5], a, QUOTA_PERIOD_DAY, D1 + TU_DAY,
		   D1 + 2 * TU_DAY, s.sms, QUOTA_SOURCE_PAYG, NULL, 5, 100000);
	expect_totals(&s, &c);
	expect_sorted(&c);

	OK(a, report(a, QUOTA_PERIOD_MONTH, D1, June, &c));
	ck_assert_int_eq(c.n, 5);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_MONTH, D1, June, s.sms,
		   QUOTA_SOURCE_FREE, NULL, 10, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_MONTH, D1, June, s.sms,
		   QUOTA_SOURCE_PACKAGE, s.pb, 50, 0);
	expect_row(&c.rows[2], a, QUOTA_PERIOD_MONTH, D1, June, s.sms,
		   QUOTA_SOURCE_PACKAGE, s.pa, 100, 0);
	expect_row(&c.rows[3], a, QUOTA_PERIOD_MONTH, D1, June, s.sms,
		   QUOTA_SOURCE_PAYG, NULL, 15, 300000);
	expect_row(&c.rows[4], a, QUOTA_PERIOD_MONTH, D1, June, s.mail,
		   QUOTA_SOURCE_PAYG, NULL, 3, 0);
	expect_totals(&s, &c);

	/* The whole time range gives the same month rows. */
	OK(a, report(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN, QUOTA_TIME_MAX, &c));
	ck_assert_int_eq(c.n, 5);
	expect_totals(&s, &c);

	ck_assert_str_eq(quota_errmsg(s.c), "");
	/* A report changes nothing observable (R8). */
	tu_snap_take1(&after, a, D1);
	TU_ASSERT_SNAP_EQ(&before, &after);
	quota_ctx_free(s.c);
}
END_TEST

/*
 * An hour is in the report when it starts in [from, to); a row still
 * spans its whole period.
 */
START_TEST(test_r22_window_selects_hours_by_their_start)
{
	scen s;
	coll c;
	const quota_account *a;

	scen_setup(&s, NULL);
	a = s.a;
	/* 09:00 starts before from, 11:00 at to: only 10:00. */
	OK(a, report(a, QUOTA_PERIOD_HOUR, D1 + 9 * TU_HOUR + 1800,
		     D1 + 11 * TU_HOUR, &c));
	ck_assert_int_eq(c.n, 1);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_HOUR, D1 + 10 * TU_HOUR,
		   D1 + 11 * TU_HOUR, s.sms, QUOTA_SOURCE_PACKAGE, s.pa, 96,
		   0);
	/* Part of a day: that part's usage, the day's bounds. */
	OK(a, report(a, QUOTA_PERIOD_DAY, D1 + 10 * TU_HOUR, D1 + 12 * TU_HOUR,
		     &c));
	ck_assert_int_eq(c.n, 2);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.sms,
		   QUOTA_SOURCE_PACKAGE, s.pa, 96, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY, s.mail,
		   QUOTA_SOURCE_PAYG, NULL, 3, 0);
	/* The second day alone. */
	OK(a, report(a, QUOTA_PERIOD_MONTH, D1 + TU_DAY, D1 + 2 * TU_DAY, &c));
	ck_assert_int_eq(c.n, 1);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_MONTH, D1,
		   tu_utc(2024, 6, 1, 0, 0, 0), s.sms, QUOTA_SOURCE_PAYG, NULL,
		   5, 100000);
	/* Nothing before the first charge: no rows, no callback. */
	OK(a, report(a, QUOTA_PERIOD_DAY, D1 - 30 * TU_DAY, D1, &c));
	ck_assert_int_eq(c.n, 0);
	quota_ctx_free(s.c);
}
END_TEST

/*
 * Charges in the hour the account last charged go through the fast path
 * and wait in the category's record: a report sees them, and charges
 * after a report are seen by the next one.
 */
START_TEST(test_r22_report_sees_fast_path_charges_between_reports)
{
	scen s;
	coll c;
	const quota_account *a;
	int64_t d2 = D1 + TU_DAY;
	int k;

	scen_setup(&s, NULL);
	a = s.a;
	OK(a, report(a, QUOTA_PERIOD_DAY, d2, d2 + TU_DAY, &c));
	ck_assert_int_eq(c.n, 1);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, d2, d2 + TU_DAY, s.sms,
		   QUOTA_SOURCE_PAYG, NULL, 5, 100000);
	for (k = 0; k < 3; k++) {
		scen_charge(&s, s.sms, 1, d2 + 8 * TU_HOUR + 60 * (k + 1));
		OK(a, report(a, QUOTA_PERIOD_DAY, d2, d2 + TU_DAY, &c));
		ck_assert_int_eq(c.n, 1);
		expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, d2, d2 + TU_DAY,
			   s.sms, QUOTA_SOURCE_PAYG, NULL, 6 + k,
			   (6 + k) * 20000);
	}
	/* A late charge into an older hour, then the cached hour again. */
	scen_charge(&s, s.mail, 2, D1 + 11 * TU_HOUR + 5);
	scen_charge(&s, s.sms, 1, d2 + 8 * TU_HOUR + 900);
	OK(a, report(a, QUOTA_PERIOD_HOUR, D1, d2 + TU_DAY, &c));
	expect_totals(&s, &c);
	expect_sorted(&c);
	OK(a, report(a, QUOTA_PERIOD_MONTH, D1, d2 + TU_DAY, &c));
	expect_totals(&s, &c);
	quota_ctx_free(s.c);
}
END_TEST

/* UTC +8: days and months are local; CSV times carry +08:00. */
START_TEST(test_r22_utc_offset_days_and_months_are_local)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	quota_account *a = add_acct(ctx, "o8");
	quota_tariff *t = add_tariff(ctx, "t");
	int64_t may31_2330 = tu_utc(2024, 5, 31, 15, 30, 0); /* local */
	int64_t jun1_0030 = tu_utc(2024, 5, 31, 16, 30, 0);
	int64_t local_may31 = tu_utc(2024, 5, 30, 16, 0, 0); /* 00:00 +8 */
	int64_t local_jun1 = tu_utc(2024, 5, 31, 16, 0, 0);
	int64_t local_jun2 = tu_utc(2024, 6, 1, 16, 0, 0);
	quota_receipt r;
	coll c;
	sbuf b;

	OK(a, quota_account_set_utc_offset(a, 8 * 3600));
	OK(a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000));
	OK(a, quota_account_set_tariff(a, sms, t));
	charge(a, sms, 2, may31_2330, NULL, &r);
	charge(a, sms, 3, jun1_0030, NULL, &r);

	OK(a, report(a, QUOTA_PERIOD_DAY, tu_utc(2024, 5, 1, 0, 0, 0),
		     tu_utc(2024, 7, 1, 0, 0, 0), &c));
	ck_assert_int_eq(c.n, 2);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, local_may31, local_jun1,
		   sms, QUOTA_SOURCE_PAYG, NULL, 2, 2000);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_DAY, local_jun1, local_jun2,
		   sms, QUOTA_SOURCE_PAYG, NULL, 3, 3000);
	OK(a, report(a, QUOTA_PERIOD_MONTH, tu_utc(2024, 5, 1, 0, 0, 0),
		     tu_utc(2024, 7, 1, 0, 0, 0), &c));
	ck_assert_int_eq(c.n, 2);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_MONTH,
		   tu_utc(2024, 4, 30, 16, 0, 0), local_jun1, sms,
		   QUOTA_SOURCE_PAYG, NULL, 2, 2000);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_MONTH, local_jun1,
		   tu_utc(2024, 6, 30, 16, 0, 0), sms, QUOTA_SOURCE_PAYG, NULL,
		   3, 3000);
	/* Local midnight as from: the second local day only. */
	OK(a, report(a, QUOTA_PERIOD_DAY, local_jun1, local_jun2, &c));
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.rows[0].units, 3);
	/* The hour of 23:30 local starts at 23:00 local. */
	OK(a, report(a, QUOTA_PERIOD_HOUR, local_may31, local_jun2, &c));
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(c.rows[0].start, tu_utc(2024, 5, 31, 15, 0, 0));
	ck_assert_int_eq(c.rows[1].start, tu_utc(2024, 5, 31, 16, 0, 0));

	OK(a, csv(a, QUOTA_PERIOD_DAY, tu_utc(2024, 5, 1, 0, 0, 0),
		  tu_utc(2024, 7, 1, 0, 0, 0), &b));
	ck_assert_str_eq(b.s,
		HEADER
		"o8,day,2024-05-31T00:00:00+08:00,2024-06-01T00:00:00+08:00,"
		"sms,payg,,2,2000\n"
		"o8,day,2024-06-01T00:00:00+08:00,2024-06-02T00:00:00+08:00,"
		"sms,payg,,3,3000\n");
	OK(a, csv(a, QUOTA_PERIOD_MONTH, tu_utc(2024, 5, 1, 0, 0, 0),
		  tu_utc(2024, 7, 1, 0, 0, 0), &b));
	ck_assert_str_eq(b.s,
		HEADER
		"o8,month,2024-05-01T00:00:00+08:00,2024-06-01T00:00:00+08:00,"
		"sms,payg,,2,2000\n"
		"o8,month,2024-06-01T00:00:00+08:00,2024-07-01T00:00:00+08:00,"
		"sms,payg,,3,3000\n");
	OK(a, csv(a, QUOTA_PERIOD_HOUR, local_may31, local_jun2, &b));
	ck_assert_str_eq(b.s,
		HEADER
		"o8,hour,2024-05-31T23:00:00+08:00,2024-06-01T00:00:00+08:00,"
		"sms,payg,,2,2000\n"
		"o8,hour,2024-06-01T00:00:00+08:00,2024-06-01T01:00:00+08:00,"
		"sms,payg,,3,3000\n");
	quota_ctx_free(ctx);
}
END_TEST

/* Reversals (R12) take their units and cost out of the charge's hour;
 * a released hold with a failure fee (R10) gives a fee row. */
START_TEST(test_r22_reversal_removes_units_release_fee_row)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	quota_account *a = add_acct(ctx, "r");
	quota_tariff *t = add_tariff(ctx, "t");
	int64_t T = tu_utc(2024, 5, 1, 10, 5, 0);
	int64_t H10 = tu_utc(2024, 5, 1, 10, 0, 0), H = TU_HOUR;
	int64_t day = tu_utc(2024, 5, 1, 0, 0, 0);
	quota_usage u = {.category = sms, .units = 4, .at = T + 3 * H};
	quota_package *p;
	quota_receipt r;
	uint64_t hid = 0;
	coll c;
	sbuf b;

	OK(a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000));
	OK(a, quota_tariff_set_failure_fee(t, 500));
	OK(a, quota_account_set_tariff(a, sms, t));
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T - TU_DAY, T + 30 * TU_DAY,
		    0, 0);
	charge(a, sms, 4, T, "k1", &r);         /* P 4 */
	charge(a, sms, 2, T + 600, NULL, &r);   /* P 2 */
	charge(a, sms, 12, T + 1200, "k2", &r); /* P 4, payg 8 */
	ck_assert_int_eq(r.payg_cost_micros, 8000);
	charge(a, sms, 3, T + 2 * H, "k3", &r); /* payg 3 */

	OK(a, report(a, QUOTA_PERIOD_HOUR, day, day + TU_DAY, &c));
	ck_assert_int_eq(c.n, 3);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_HOUR, H10, H10 + H, sms,
		   QUOTA_SOURCE_PACKAGE, p, 10, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_HOUR, H10, H10 + H, sms,
		   QUOTA_SOURCE_PAYG, NULL, 8, 8000);
	expect_row(&c.rows[2], a, QUOTA_PERIOD_HOUR, H10 + 2 * H,
		   H10 + 3 * H, sms, QUOTA_SOURCE_PAYG, NULL, 3, 3000);

	/* k1 leaves its hour; k3 empties its hour, which drops out. */
	OK(a, quota_reverse(a, "k1", T + 2 * H + 100, &r));
	OK(a, quota_reverse(a, "k3", T + 2 * H + 100, &r));
	ck_assert_int_eq(r.payg_cost_micros, 3000);
	OK(a, report(a, QUOTA_PERIOD_HOUR, day, day + TU_DAY, &c));
	ck_assert_int_eq(c.n, 2);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_HOUR, H10, H10 + H, sms,
		   QUOTA_SOURCE_PACKAGE, p, 6, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_HOUR, H10, H10 + H, sms,
		   QUOTA_SOURCE_PAYG, NULL, 8, 8000);

	/* A hold released with a fee: a FEE row of the released units and
	 * the fee, in the hold's hour; nothing else of it stays. */
	OK(a, quota_reserve(a, &u, 600, &r, &hid));
	ck_assert_int_eq(r.package_units, 4);
	OK(a, quota_release(a, hid, NULL, &r));
	ck_assert_int_eq(r.fee_micros, 2000);
	ck_assert_int_eq(quota_package_remaining(p), 4);
	OK(a, report(a, QUOTA_PERIOD_HOUR, day, day + TU_DAY, &c));
	ck_assert_int_eq(c.n, 3);
	expect_row(&c.rows[2], a, QUOTA_PERIOD_HOUR, H10 + 3 * H,
		   H10 + 4 * H, sms, QUOTA_SOURCE_FEE, NULL, 4, 2000);
	expect_sorted(&c);

	/* A committed hold is charged usage, like a charge. */
	u.units = 5;
	u.at = T + 3 * H + 60;
	OK(a, quota_reserve(a, &u, 600, &r, &hid));
	OK(a, quota_commit(a, hid, 3, NULL, &r));
	ck_assert_int_eq(r.package_units, 3);

	OK(a, csv(a, QUOTA_PERIOD_DAY, day, day + TU_DAY, &b));
	ck_assert_str_eq(b.s,
		HEADER
		"r,day,2024-05-01T00:00:00+00:00,2024-05-02T00:00:00+00:00,"
		"sms,package,P,9,0\n"
		"r,day,2024-05-01T00:00:00+00:00,2024-05-02T00:00:00+00:00,"
		"sms,payg,,8,8000\n"
		"r,day,2024-05-01T00:00:00+00:00,2024-05-02T00:00:00+00:00,"
		"sms,fee,,4,2000\n");

	/* Reversing k2 too: its payg row goes, P keeps the plain charge and
	 * the commit. */
	OK(a, quota_reverse(a, "k2", T + 4 * H, &r));
	OK(a, report(a, QUOTA_PERIOD_DAY, day, day + TU_DAY, &c));
	ck_assert_int_eq(c.n, 2);
	expect_row(&c.rows[0], a, QUOTA_PERIOD_DAY, day, day + TU_DAY, sms,
		   QUOTA_SOURCE_PACKAGE, p, 5, 0);
	expect_row(&c.rows[1], a, QUOTA_PERIOD_DAY, day, day + TU_DAY, sms,
		   QUOTA_SOURCE_FEE, NULL, 4, 2000);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * A year of hourly traffic: one row per hour, day and month, totals equal
 * the receipts.  (Sort-and-merge: a year of hours is quick.)
 */
START_TEST(test_r22_year_of_hours_rows_per_period)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	quota_account *a = add_acct(ctx, "y");
	quota_tariff *t = add_tariff(ctx, "t");
	int64_t start = tu_utc(2024, 1, 1, 0, 0, 0);
	int64_t days = tu_quick() ? 62 : 366, h, units = 0, cost = 0;
	int64_t hu = 0, hc = 0, du = 0, dc = 0;
	int64_t months = tu_quick() ? 3 : 12;
	coll *c = malloc(sizeof *c);
	quota_receipt r;
	int i;

	ck_assert_ptr_nonnull(c);
	OK(a, quota_account_set_utc_offset(a, -5 * 3600));
	OK(a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 7));
	OK(a, quota_account_set_tariff(a, sms, t));
	for (h = 0; h < days * 24; h++) {
		charge(a, sms, 1 + h % 5, start + h * TU_HOUR + 1, NULL, &r);
		units += r.units;
		cost += r.payg_cost_micros;
	}
	/* HOUR is counted through the callback without keeping rows. */
	{
		int64_t from = start + 5 * TU_HOUR; /* local Jan 1, 00:00 */
		int64_t to = from + days * TU_DAY;

		OK(a, report(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN,
			     QUOTA_TIME_MAX, c));
		ck_assert_int_eq(c->n, months + 1); /* + the last UTC hours */
		for (i = 0; i < c->n; i++) {
			hu += c->rows[i].units;
			hc += c->rows[i].cost_micros;
		}
		ck_assert_int_eq(hu, units);
		ck_assert_int_eq(hc, cost);
		OK(a, report(a, QUOTA_PERIOD_DAY, from, to, c));
		ck_assert_int_eq(c->n, days);
		for (i = 0; i < c->n; i++) {
			ck_assert_int_eq(c->rows[i].start, from + i * TU_DAY);
			du += c->rows[i].units;
			dc += c->rows[i].cost_micros;
		}
		/* The first 5 UTC hours are local Dec 31: out (5
		 * consecutive h, so units 1..5). */
		ck_assert_int_eq(du, units - (1 + 2 + 3 + 4 + 5));
		ck_assert_int_eq(dc, cost - 7 * 15);
	}
	free(c);
	quota_ctx_free(ctx);
}
END_TEST

static int count_fn(const quota_report_row *r, void *ud)
{
	int64_t *k = ud;

	ck_assert_int_eq(r->end - r->start, TU_HOUR);
	k[0]++;
	k[1] += r->units;
	return 0;
}

/* HOUR over a year: one row per charged hour. */
START_TEST(test_r22_hour_rows_over_many_hours)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	uint32_t mail = add_cat(ctx, "mail");
	quota_account *a = add_acct(ctx, "h");
	int64_t start = tu_utc(2023, 12, 31, 0, 0, 0);
	int64_t hours = tu_quick() ? 24 * 20 : 24 * 366, h;
	int64_t k[2] = {0, 0};
	quota_receipt r;

	/* Charged newest first for mail: rows come out sorted anyway. */
	for (h = 0; h < hours; h++) {
		charge(a, sms, 2, start + h * TU_HOUR + 7, NULL, &r);
		charge(a, mail, 1, start + (hours - 1 - h) * TU_HOUR, NULL, &r);
	}
	ck_assert_int_eq(quota_report(a, QUOTA_PERIOD_HOUR, start,
				      start + hours * TU_HOUR, count_fn, k),
			 QUOTA_OK);
	ck_assert_int_eq(k[0], 2 * hours);
	ck_assert_int_eq(k[1], 3 * hours);
	quota_ctx_free(ctx);
}
END_TEST

/* The calendar's ends: year 0 local (offset -18 h at QUOTA_TIME_MIN) and
 * year 10000 local (+18 h just before QUOTA_TIME_MAX). */
START_TEST(test_r22_calendar_limits)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	quota_account *w = add_acct(ctx, "w");
	quota_account *e = add_acct(ctx, "e");
	quota_usage u = {.category = sms, .units = 1};
	quota_receipt r;
	sbuf b;

	OK(w, quota_account_set_utc_offset(w, -18 * 3600));
	OK(e, quota_account_set_utc_offset(e, 18 * 3600));
	u.at = QUOTA_TIME_MIN;
	OK(w, quota_charge(w, &u, &r));
	u.at = QUOTA_TIME_MAX - 1;
	OK(e, quota_charge(e, &u, &r));
	/* The west hour starts before QUOTA_TIME_MIN's day in local time. */
	OK(w, csv(w, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN, QUOTA_TIME_MAX, &b));
	ck_assert_str_eq(b.s,
		HEADER
		"w,month,0000-12-01T00:00:00-18:00,0001-01-01T00:00:00-18:00,"
		"sms,payg,,1,0\n");
	OK(e, csv(e, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN, QUOTA_TIME_MAX, &b));
	ck_assert_str_eq(b.s,
		HEADER
		"e,month,10000-01-01T00:00:00+18:00,10000-02-01T00:00:00+18:00,"
		"sms,payg,,1,0\n");
	/* An offset of part of an hour: the local hour of usage at
	 * QUOTA_TIME_MIN starts before it, and from QUOTA_TIME_MIN reports
	 * it all the same (it reported nothing: no from could). */
	{
		quota_account *h = add_acct(ctx, "h");

		OK(h, quota_account_set_utc_offset(h, 5 * 3600 + 1800));
		u.at = QUOTA_TIME_MIN;
		u.units = 2;
		OK(h, quota_charge(h, &u, &r));
		OK(h, csv(h, QUOTA_PERIOD_HOUR, QUOTA_TIME_MIN, QUOTA_TIME_MAX,
			  &b));
		ck_assert_str_eq(b.s,
			HEADER
			"h,hour,0001-01-01T05:00:00+05:30,"
			"0001-01-01T06:00:00+05:30,sms,payg,,2,0\n");
		OK(h, csv(h, QUOTA_PERIOD_DAY, QUOTA_TIME_MIN, QUOTA_TIME_MAX,
			  &b));
		ck_assert_ptr_nonnull(strstr(b.s, ",sms,payg,,2,0\n"));
		/* a later from leaves it out, as the page says */
		OK(h, csv(h, QUOTA_PERIOD_HOUR, QUOTA_TIME_MIN + 1,
			  QUOTA_TIME_MAX, &b));
		ck_assert_str_eq(b.s, HEADER);
	}
	quota_ctx_free(ctx);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *rows = tcase_create("r22_rows");

	tcase_set_timeout(rows, 60);
	tcase_add_test(rows, test_r22_scenario_hour_day_month_rows_and_totals);
	tcase_add_test(rows, test_r22_window_selects_hours_by_their_start);
	tcase_add_test(rows, test_r22_report_sees_fast_path_charges_between_reports);
	tcase_add_test(rows, test_r22_utc_offset_days_and_months_are_local);
	tcase_add_test(rows, test_r22_reversal_removes_units_release_fee_row);
	tcase_add_test(rows, test_r22_year_of_hours_rows_per_period);
	tcase_add_test(rows, test_r22_hour_rows_over_many_hours);
	tcase_add_test(rows, test_r22_calendar_limits);
	suite_add_tcase(s, rows);
	return s;
}

int main(void)
{
	return tu_run(report_suite());
}
