/*
 * check_report.c - usage reports (R22): quota_report, quota_report_csv and
 * quota_report_csv_file, against receipts the tests sum themselves.  Each
 * test name cites R22 (and the other rule it leans on).
 *
 * The rules these tests pin (quota_report(3)): an hour belongs to a
 * report when its UTC start is in [from, to); a row's start and end are
 * its whole local period; rows come by start, category id, then free,
 * packages in the order added, pay-as-you-go, fees; rows with no units
 * and no cost are left out; a reversal takes its units out of the hour of
 * the charge; a FEE row's units are the units released.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"

#define OK(a, expr)                                                            \
	do {                                                                   \
		int rc_ = (expr);                                              \
		ck_assert_msg(rc_ == QUOTA_OK, "%s: %s (%s)", #expr,           \
			      quota_err_name(rc_),                             \
			      quota_errmsg(quota_account_ctx(a)));             \
	} while (0)

/* ------------------------------------------------------------ collectors */

#define MAXROWS 512

/* quota_report's callback: keeps the rows; returns stop_rc on row stop_at. */
typedef struct coll {
	int n;
	int stop_at;
	int stop_rc;
	quota_report_row rows[MAXROWS];
} coll;

static int coll_fn(const quota_report_row *r, void *ud)
{
	coll *c = ud;

	ck_assert_int_lt(c->n, MAXROWS);
	c->rows[c->n++] = *r;
	return c->stop_at && c->n == c->stop_at ? c->stop_rc : 0;
}

static int report(const quota_account *a, int period, int64_t from,
		  int64_t to, coll *c)
{
	memset(c, 0, sizeof *c);
	return quota_report(a, period, from, to, coll_fn, c);
}

/* quota_report_csv's writer: the text, one line per call checked, and a
 * failure (return fail_rc) on call fail_at. */
typedef struct sbuf {
	size_t n;
	int calls;
	int fail_at;
	int fail_rc;
	char s[65536];
} sbuf;

static int sbuf_write(const char *buf, size_t len, void *ud)
{
	sbuf *b = ud;

	b->calls++;
	if (b->fail_at && b->calls == b->fail_at)
		return b->fail_rc;
	/* A row at a time: one whole line per call. */
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(buf[len - 1], '\n');
	ck_assert_ptr_eq(memchr(buf, '\n', len), buf + len - 1);
	ck_assert_uint_lt(b->n + len, sizeof b->s);
	memcpy(b->s + b->n, buf, len);
	b->n += len;
	b->s[b->n] = '\0';
	return 0;
}

static int csv(const quota_account *a, int period, int64_t from, int64_t to,
	       sbuf *b)
{
	memset(b, 0, sizeof *b);
	return quota_report_csv(a, period, from, to, sbuf_write, b);
}

#define HEADER \
	"account,period,start,end,category,source,package,units,cost_micros\n"

static void expect_row(const quota_report_row *r, const quota_account *a,
		       int period, int64_t start, int64_t end, uint32_t cat,
		       int32_t source, const quota_package *pk, int64_t units,
		       int64_t cost)
{
	ck_assert_ptr_eq(r->account, a);
	ck_assert_int_eq(r->period, period);
	ck_assert_int_eq(r->start, start);
	ck_assert_int_eq(r->end, end);
	ck_assert_uint_eq(r->category, cat);
	ck_assert_int_eq(r->source, source);
	ck_assert_ptr_eq(r->package, pk);
	ck_assert_int_eq(r->units, units);
	ck_assert_int_eq(r->cost_micros, cost);
}

static int64_t charge(quota_account *a, uint32_t cat, int64_t units,
		      int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	OK(a, quota_charge(a, &u, r));
	return r->units;
}

/* ------------------------------------------------------------- scenario */

/*
 * An account with a monthly free allowance of 10 sms, two sms packages
 * (B added first, A expiring sooner so it burns first, R3), sms
 * pay-as-you-go at 0.02 and mail with no tariff; charges over two days.
 * Receipts are summed per category and source as they come.
 */
#define D1 tu_utc(2024, 5, 1, 0, 0, 0)

typedef struct scen {
	quota_ctx *c;
	quota_account *a;
	uint32_t sms, mail;
	quota_package *pa, *pb;
	int64_t free[2], pkg[2], payg[2], cost[2];
	int64_t pk_a, pk_b; /* receipt units per package */
} scen;

static void scen_charge(scen *s, uint32_t cat, int64_t units, int64_t at)
{
	quota_receipt r;
	uint32_t i;

	charge(s->a, cat, units, at, NULL, &r);
	s->free[cat] += r.free_units;
	s->pkg[cat] += r.package_units;
	s->payg[cat] += r.payg_units;
	s->cost[cat] += r.payg_cost_micros;
	for (i = 0; i < r.nlines; i++) {
		if (r.lines[i].package == s->pa)
			s->pk_a += r.lines[i].units;
		if (r.lines[i].package == s->pb)
			s->pk_b += r.lines[i].units;
	}
}

static void scen_setup(scen *s, const quota_allocator *al)
{
	quota_tariff *t = NULL;

	memset(s, 0, sizeof *s);
	ck_assert_int_eq(quota_ctx_new_with(al, &s->c), QUOTA_OK);
	s->sms = add_cat(s->c, "sms");
	s->mail = add_cat(s->c, "mail");
	ck_assert_uint_eq(s->sms, 0);
	ck_assert_uint_eq(s->mail, 1);
	s->a = add_acct(s->c, "acme");
	ck_assert_int_eq(quota_tariff_new(s->c, "std", &t), QUOTA_OK);
	OK(s->a, quota_tariff_set_free(t, 10, QUOTA_PERIOD_MONTH));
	OK(s->a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 20000));
	OK(s->a, quota_account_set_tariff(s->a, s->sms, t));
	s->pb = add_pkg(s->a, "B", QUOTA_MASK(s->sms), 50, D1 - 10 * TU_DAY,
			D1 + 60 * TU_DAY, 0, 0);
	s->pa = add_pkg(s->a, "A", QUOTA_MASK(s->sms), 100, D1 - 10 * TU_DAY,
			D1 + 30 * TU_DAY, 0, 0);
	scen_charge(s, s->sms, 4, D1 + 9 * TU_HOUR + 600);     /* free 4 */
	scen_charge(s, s->sms, 10, D1 + 9 * TU_HOUR + 3000);   /* free 6, A 4 */
	scen_charge(s, s->sms, 96, D1 + 10 * TU_HOUR + 300);   /* A 96 */
	scen_charge(s, s->mail, 3, D1 + 11 * TU_HOUR);         /* payg 3, 0 */
	scen_charge(s, s->sms, 60, D1 + 13 * TU_HOUR);         /* B 50, payg 10 */
	scen_charge(s, s->sms, 5, D1 + TU_DAY + 8 * TU_HOUR);  /* payg 5 */
	/* What the receipts said, by hand, so the sums below mean something. */
	ck_assert_int_eq(s->free[s->sms], 10);
	ck_assert_int_eq(s->pk_a, 100);
	ck_assert_int_eq(s->pk_b, 50);
	ck_assert_int_eq(s->payg[s->sms], 15);
	ck_assert_int_eq(s->cost[s->sms], 300000);
	ck_assert_int_eq(s->payg[s->mail], 3);
	ck_assert_int_eq(s->cost[s->mail], 0);
}

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

/* Offsets west of UTC, with minutes, and with seconds. */
START_TEST(test_r22_csv_offsets_with_minutes_and_seconds)
{
	static const struct {
		int32_t off;
		const char *id;
		const char *want;
	} cases[] = {
		{0, "utc",
		 "utc,hour,2024-05-01T12:00:00+00:00,"
		 "2024-05-01T13:00:00+00:00,sms,payg,,1,0\n"},
		{-12600, "nfld", /* 08:30 local: the 08:00 hour */
		 "nfld,hour,2024-05-01T08:00:00-03:30,"
		 "2024-05-01T09:00:00-03:30,sms,payg,,1,0\n"},
		{20700, "npt",
		 "npt,hour,2024-05-01T17:00:00+05:45,"
		 "2024-05-01T18:00:00+05:45,sms,payg,,1,0\n"},
		{3661, "odd",
		 "odd,hour,2024-05-01T13:00:00+01:01:01,"
		 "2024-05-01T14:00:00+01:01:01,sms,payg,,1,0\n"},
		{-18 * 3600, "w18",
		 "w18,day,2024-04-30T00:00:00-18:00,"
		 "2024-05-01T00:00:00-18:00,sms,payg,,1,0\n"},
	};
	int64_t at = tu_utc(2024, 5, 1, 12, 0, 0);
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		quota_account *a = add_acct(ctx, cases[i].id);
		int period = cases[i].off == -18 * 3600 ? QUOTA_PERIOD_DAY
							 : QUOTA_PERIOD_HOUR;
		quota_receipt r;
		char want[512];
		coll c;
		sbuf b;

		OK(a, quota_account_set_utc_offset(a, cases[i].off));
		charge(a, sms, 1, at, NULL, &r);
		OK(a, report(a, period, at - TU_DAY, at + TU_DAY, &c));
		ck_assert_int_eq(c.n, 1);
		ck_assert_int_le(c.rows[0].start, at);
		ck_assert_int_gt(c.rows[0].end, at);
		ck_assert_int_eq(c.rows[0].end - c.rows[0].start,
				 period == QUOTA_PERIOD_DAY ? TU_DAY : TU_HOUR);
		/* The local period starts on a local hour (or day). */
		ck_assert_int_eq(
			(c.rows[0].start + cases[i].off) %
				(period == QUOTA_PERIOD_DAY ? TU_DAY : TU_HOUR),
			0);
		OK(a, csv(a, period, at - TU_DAY, at + TU_DAY, &b));
		snprintf(want, sizeof want, "%s%s", HEADER, cases[i].want);
		ck_assert_str_eq(b.s, want);
	}
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
 * The exact CSV of a small case: fields with a comma, a quote or a line
 * break are quoted (RFC 4180) with quotes doubled; one write per line.
 */
START_TEST(test_r22_csv_exact_text_and_quoting)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	uint32_t rich = add_cat(ctx, "rich,\"click\"");
	quota_account *a = add_acct(ctx, "a,\"b\"");
	quota_account *lf = add_acct(ctx, "line\r\nbreak");
	quota_tariff *t = add_tariff(ctx, "t");
	int64_t T = tu_utc(2024, 5, 1, 9, 0, 0);
	int64_t day = tu_utc(2024, 5, 1, 0, 0, 0);
	quota_receipt r;
	sbuf b;

	OK(a, quota_tariff_set_free(t, 2, QUOTA_PERIOD_DAY));
	OK(a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 10000));
	OK(a, quota_account_set_tariff(a, sms, t));
	add_pkg(a, "p,1", QUOTA_MASK(sms), 3, T - TU_DAY, T + TU_DAY, 0, 0);
	charge(a, sms, 5, T, NULL, &r);       /* free 2, p,1 3 */
	charge(a, sms, 4, T + 60, NULL, &r);  /* payg 4 */
	charge(a, rich, 1, T + 120, NULL, &r); /* payg 1, no tariff */

	OK(a, csv(a, QUOTA_PERIOD_DAY, day, day + TU_DAY, &b));
	ck_assert_str_eq(b.s,
		"account,period,start,end,category,source,package,units,"
		"cost_micros\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,free,,2,0\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,package,\"p,1\",3,0\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,payg,,4,40000\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,\"rich,\"\"click\"\"\",payg,,1,0\n");
	ck_assert_int_eq(b.calls, 5); /* the header, then a row at a time */

	/* CR LF inside a field is quoted, not a line end (the writer sees
	 * one call per row, so its one-line check is skipped here). */
	charge(lf, sms, 7, T, NULL, &r);
	memset(&b, 0, sizeof b);
	{
		FILE *f = tmpfile();
		char got[1024];
		size_t n;

		ck_assert_ptr_nonnull(f);
		OK(lf, quota_report_csv_file(lf, QUOTA_PERIOD_HOUR, day,
					     day + TU_DAY, f));
		rewind(f);
		n = fread(got, 1, sizeof got - 1, f);
		got[n] = '\0';
		fclose(f);
		ck_assert_str_eq(got,
			HEADER
			"\"line\r\nbreak\",hour,2024-05-01T09:00:00+00:00,"
			"2024-05-01T10:00:00+00:00,sms,payg,,7,0\n");
	}

	/* No usage in the range: the header alone. */
	OK(a, csv(a, QUOTA_PERIOD_MONTH, day - 60 * TU_DAY, day, &b));
	ck_assert_str_eq(b.s, HEADER);
	ck_assert_int_eq(b.calls, 1);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * The longest fields, every byte a quote (so every byte doubled): still
 * one whole line per write (sbuf_write checks), quoted right.
 */
START_TEST(test_r22_csv_longest_fields_one_write_per_row)
{
	char acct[QUOTA_ID_MAX + 1], cat[QUOTA_CATEGORY_NAME_MAX + 1];
	char pkg[QUOTA_ID_MAX + 1], want[2048], *p = want;
	quota_ctx *ctx = new_ctx();
	quota_account *a;
	uint32_t c;
	int64_t T = tu_utc(2024, 5, 2, 9, 0, 0); /* May 1 local */
	quota_receipt r;
	sbuf b;
	int i;

	memset(acct, '"', QUOTA_ID_MAX);
	acct[QUOTA_ID_MAX] = '\0';
	memset(pkg, '"', QUOTA_ID_MAX);
	pkg[QUOTA_ID_MAX] = '\0';
	pkg[0] = ','; /* differs from the account id */
	memset(cat, '"', QUOTA_CATEGORY_NAME_MAX);
	cat[QUOTA_CATEGORY_NAME_MAX] = '\0';
	c = add_cat(ctx, cat);
	a = add_acct(ctx, acct);
	OK(a, quota_account_set_utc_offset(a, -(12 * 3600 + 34 * 60 + 56)));
	add_pkg(a, pkg, QUOTA_MASK(c), INT64_C(1000000000000000000),
		T - TU_DAY, T + TU_DAY, 0, 0);
	charge(a, c, INT64_C(999999999999999999), T, NULL, &r);
	OK(a, csv(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN, QUOTA_TIME_MAX, &b));
	ck_assert_int_eq(b.calls, 2);

	p += sprintf(p, "%s\"", HEADER);
	for (i = 0; i < QUOTA_ID_MAX; i++)
		p += sprintf(p, "\"\"");
	p += sprintf(p, "\",month,2024-05-01T00:00:00-12:34:56,"
		     "2024-06-01T00:00:00-12:34:56,\"");
	for (i = 0; i < QUOTA_CATEGORY_NAME_MAX; i++)
		p += sprintf(p, "\"\"");
	p += sprintf(p, "\",package,\",");
	for (i = 1; i < QUOTA_ID_MAX; i++)
		p += sprintf(p, "\"\"");
	sprintf(p, "\",999999999999999999,0\n");
	ck_assert_str_eq(b.s, want);
	quota_ctx_free(ctx);
}
END_TEST

/* A writer that fails stops the CSV at once: QUOTA_ESTORE. */
START_TEST(test_r22_csv_writer_failure_is_estore)
{
	scen s;
	sbuf b;
	int k;

	scen_setup(&s, NULL);
	for (k = 1; k <= 7; k++) {
		memset(&b, 0, sizeof b);
		b.fail_at = k;
		b.fail_rc = k == 3 ? QUOTA_EINVAL : 1; /* any non-zero */
		ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1,
						  D1 + 2 * TU_DAY, sbuf_write,
						  &b),
				 QUOTA_ESTORE);
		ck_assert_int_eq(b.calls, k); /* nothing after the failure */
		ck_assert_str_ne(quota_errmsg(s.c), "");
	}
	/* Header + 6 rows: a failure on call 8 is never reached. */
	memset(&b, 0, sizeof b);
	b.fail_at = 8;
	OK(s.a, quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1, D1 + 2 * TU_DAY,
				 sbuf_write, &b));
	ck_assert_int_eq(b.calls, 7);
	quota_ctx_free(s.c);
}
END_TEST

/* quota_report_csv_file: the same text as the writer; a stream that
 * cannot be written is QUOTA_ESTORE. */
START_TEST(test_r22_csv_file_round_trip_and_write_errors)
{
	scen s;
	sbuf b;
	FILE *f;
	char *got;
	size_t n;

	scen_setup(&s, NULL);
	OK(s.a, csv(s.a, QUOTA_PERIOD_HOUR, D1, D1 + 2 * TU_DAY, &b));
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	OK(s.a, quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR, D1,
				      D1 + 2 * TU_DAY, f));
	rewind(f);
	got = calloc(1, sizeof b.s);
	ck_assert_ptr_nonnull(got);
	n = fread(got, 1, sizeof b.s - 1, f);
	fclose(f);
	ck_assert_uint_eq(n, b.n);
	ck_assert_str_eq(got, b.s);
	free(got);
	ck_assert_ptr_nonnull(strstr(b.s, "acme,hour,2024-05-01T13:00:00+00:00,"
				     "2024-05-01T14:00:00+00:00,sms,payg,,"
				     "10,200000\n"));

	/* A stream open for reading: fwrite fails. */
	f = fopen("/dev/null", "r");
	if (f) {
		ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR,
						       D1, D1 + 2 * TU_DAY,
						       f),
				 QUOTA_ESTORE);
		ck_assert_str_ne(quota_errmsg(s.c), "");
		fclose(f);
	}
	/* A full device: buffered writes succeed, the flush fails. */
	f = fopen("/dev/full", "w");
	if (f) {
		ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR,
						       D1, D1 + 2 * TU_DAY,
						       f),
				 QUOTA_ESTORE);
		fclose(f);
	}
	quota_ctx_free(s.c);
}
END_TEST

/* A callback returning non-zero stops the report: QUOTA_ESTORE. */
START_TEST(test_r22_callback_stop_is_estore)
{
	scen s;
	coll c;

	scen_setup(&s, NULL);
	memset(&c, 0, sizeof c);
	c.stop_at = 2;
	c.stop_rc = 1;
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1,
				      D1 + 2 * TU_DAY, coll_fn, &c),
			 QUOTA_ESTORE);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	/* A QUOTA_ code from the callback is ESTORE too. */
	memset(&c, 0, sizeof c);
	c.stop_at = 1;
	c.stop_rc = QUOTA_ENOTFOUND;
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_HOUR, D1,
				      D1 + 2 * TU_DAY, coll_fn, &c),
			 QUOTA_ESTORE);
	ck_assert_int_eq(c.n, 1);
	/* The next call succeeds and clears the message. */
	OK(s.a, report(s.a, QUOTA_PERIOD_HOUR, D1, D1 + 2 * TU_DAY, &c));
	ck_assert_int_eq(c.n, 7);
	ck_assert_str_eq(quota_errmsg(s.c), "");
	quota_ctx_free(s.c);
}
END_TEST

/* Bad arguments: EINVAL with a message, no callback, no writer call. */
START_TEST(test_r22_bad_input_einval)
{
	static const int bad_periods[] = {QUOTA_PERIOD_LIFETIME, 0, -1, 5, 99};
	scen s;
	coll c;
	sbuf b;
	size_t i;
	FILE *f;

	scen_setup(&s, NULL);
	memset(&c, 0, sizeof c);
	memset(&b, 0, sizeof b);
	ck_assert_int_eq(quota_report(NULL, QUOTA_PERIOD_DAY, D1, D1 + 1,
				      coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv(NULL, QUOTA_PERIOD_DAY, D1, D1 + 1,
					  sbuf_write, &b),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv_file(NULL, QUOTA_PERIOD_DAY, D1,
					       D1 + 1, stdout),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv_file(NULL, QUOTA_PERIOD_DAY, D1,
					       D1 + 1, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY,
				      NULL, &c),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1,
					  D1 + TU_DAY, NULL, &b),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_DAY, D1,
					       D1 + TU_DAY, NULL),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	for (i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++) {
		ck_assert_int_eq(quota_report(s.a, bad_periods[i], D1,
					      D1 + TU_DAY, coll_fn, &c),
				 QUOTA_EINVAL);
		ck_assert_str_ne(quota_errmsg(s.c), "");
		ck_assert_int_eq(quota_report_csv(s.a, bad_periods[i], D1,
						  D1 + TU_DAY, sbuf_write, &b),
				 QUOTA_EINVAL);
	}
	/* from >= to, and times out of range. */
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1, D1, coll_fn,
				      &c),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1 + 1, D1,
				      coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_HOUR, D1, D1 - 5,
					  sbuf_write, &b),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY,
				      QUOTA_TIME_MIN - 1, D1, coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1,
				      QUOTA_TIME_MAX + 1, coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, INT64_MIN,
				      INT64_MAX, coll_fn, &c),
			 QUOTA_EINVAL);
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_LIFETIME, D1,
					       D1 + TU_DAY, f),
			 QUOTA_EINVAL);
	ck_assert_int_eq(ftell(f), 0); /* not even the header */
	fclose(f);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(b.calls, 0);
	/* to is exclusive: QUOTA_TIME_MAX itself is a valid end. */
	OK(s.a, report(s.a, QUOTA_PERIOD_DAY, QUOTA_TIME_MIN, QUOTA_TIME_MAX,
		       &c));
	ck_assert_int_eq(c.n, 6);
	quota_ctx_free(s.c);
}
END_TEST

/*
 * Fault injection (STYLE 19): fail allocation N of a report for every N
 * until it succeeds; each failure is QUOTA_ENOMEM before any row or
 * header went out, and nothing leaks.
 */
START_TEST(test_r22_allocation_failure_sweep)
{
	static const int periods[] = {QUOTA_PERIOD_HOUR, QUOTA_PERIOD_DAY,
				      QUOTA_PERIOD_MONTH};
	tu_alloc al;
	scen s;
	coll c, ref;
	sbuf b, bref;
	size_t p;
	long n;

	tu_alloc_init(&al);
	scen_setup(&s, &al.a);
	for (p = 0; p < 3; p++) {
		long failures = 0;

		OK(s.a, report(s.a, periods[p], D1, D1 + 2 * TU_DAY, &ref));
		for (n = 1;; n++) {
			int rc;

			ck_assert_int_lt(n, 100);
			memset(&c, 0, sizeof c);
			tu_alloc_fail_in(&al, n);
			rc = quota_report(s.a, periods[p], D1, D1 + 2 * TU_DAY,
					  coll_fn, &c);
			tu_alloc_disarm(&al);
			if (rc == QUOTA_OK)
				break;
			failures++;
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			ck_assert_int_eq(c.n, 0);
			ck_assert_str_ne(quota_errmsg(s.c), "");
		}
		ck_assert_int_gt(failures, 0);
		ck_assert_int_eq(c.n, ref.n);
		for (n = 0; n < ref.n; n++) {
			const quota_report_row *x = &ref.rows[n];

			expect_row(&c.rows[n], x->account, x->period, x->start,
				   x->end, x->category, x->source, x->package,
				   x->units, x->cost_micros);
		}

		OK(s.a, csv(s.a, periods[p], D1, D1 + 2 * TU_DAY, &bref));
		for (n = 1;; n++) {
			int rc;

			ck_assert_int_lt(n, 100);
			memset(&b, 0, sizeof b);
			tu_alloc_fail_in(&al, n);
			rc = quota_report_csv(s.a, periods[p], D1,
					      D1 + 2 * TU_DAY, sbuf_write, &b);
			tu_alloc_disarm(&al);
			if (rc == QUOTA_OK)
				break;
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			ck_assert_int_eq(b.calls, 0); /* not even the header */
		}
		ck_assert_str_eq(b.s, bref.s);
	}
	/* No usage: nothing to allocate. */
	tu_alloc_fail_all(&al);
	OK(s.a, report(s.a, QUOTA_PERIOD_DAY, D1 - TU_DAY, D1, &c));
	ck_assert_int_eq(c.n, 0);
	tu_alloc_disarm(&al);
	quota_ctx_free(s.c);
	ck_assert_int_eq(al.live_blocks, 0);
	ck_assert_uint_eq(al.live_bytes, 0);
	ck_assert_int_eq(al.bad_frees, 0);
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
	quota_ctx_free(ctx);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *rows = tcase_create("r22_rows");
	TCase *csvt = tcase_create("r22_csv");
	TCase *errs = tcase_create("r22_errors");

	tcase_set_timeout(rows, 60);
	tcase_add_test(rows, test_r22_scenario_hour_day_month_rows_and_totals);
	tcase_add_test(rows, test_r22_window_selects_hours_by_their_start);
	tcase_add_test(rows, test_r22_report_sees_fast_path_charges_between_reports);
	tcase_add_test(rows, test_r22_utc_offset_days_and_months_are_local);
	tcase_add_test(rows, test_r22_reversal_removes_units_release_fee_row);
	tcase_add_test(rows, test_r22_year_of_hours_rows_per_period);
	tcase_add_test(rows, test_r22_hour_rows_over_many_hours);
	tcase_add_test(rows, test_r22_calendar_limits);
	tcase_add_test(csvt, test_r22_csv_offsets_with_minutes_and_seconds);
	tcase_add_test(csvt, test_r22_csv_exact_text_and_quoting);
	tcase_add_test(csvt, test_r22_csv_longest_fields_one_write_per_row);
	tcase_add_test(csvt, test_r22_csv_writer_failure_is_estore);
	tcase_add_test(csvt, test_r22_csv_file_round_trip_and_write_errors);
	tcase_add_test(errs, test_r22_callback_stop_is_estore);
	tcase_add_test(errs, test_r22_bad_input_einval);
	tcase_add_test(errs, test_r22_allocation_failure_sweep);
	suite_add_tcase(s, rows);
	suite_add_tcase(s, csvt);
	suite_add_tcase(s, errs);
	return s;
}

int main(void)
{
	return tu_run(report_suite());
}
