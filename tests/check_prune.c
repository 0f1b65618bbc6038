/*
 * check_prune.c - pruning and retention (DESIGN §7): quota_account_prune,
 * quota_account_pruned_before, quota_account_set_retention.
 *
 * The rules these tests pin (quota_account_prune(3)): the cut is the
 * account's horizon, `before` moved back to the first unsettled period,
 * the earliest usage settlement has not taken in, the earliest open hold
 * and the account clock; reports and look-ups reaching before it fail
 * with QUOTA_EPRUNED, and so does usage before it; what is left reports,
 * caps and bills exactly as without pruning; memory goes down; replay of
 * the journal reproduces the same snapshot bytes.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "journal_world.h"

#define OK(expr) TU_OK(NULL, expr)

uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

#define T0 INT64_C(1704067200) /* 2024-01-01 00:00:00 UTC */

typedef struct pw {
	tu_alloc al;
	quota_ctx *ctx;
	uint32_t sms, email;
	quota_tariff *grad, *vol;
} pw;

/* The configuration; log (or NULL): a recording store set first. */
static void pw_init_log(pw *w, jw_log *log)
{
	tu_alloc_init(&w->al);
	OK(quota_ctx_new_with(&w->al.a, &w->ctx));
	if (log) {
		tu_journal_skip(w->ctx); /* its own store */
		jw_record(w->ctx, log);
	}
	OK(quota_category_add(w->ctx, "sms", &w->sms));
	OK(quota_category_add(w->ctx, "email", &w->email));
	OK(quota_tariff_new(w->ctx, "grad", &w->grad));
	OK(quota_tariff_add_tier(w->grad, 1000, 5000));
	OK(quota_tariff_add_tier(w->grad, QUOTA_UNLIMITED, 3000));
	OK(quota_tariff_set_free(w->grad, 20, QUOTA_PERIOD_MONTH));
	OK(quota_tariff_new(w->ctx, "vol", &w->vol));
	OK(quota_tariff_set_mode(w->vol, QUOTA_VOLUME));
	OK(quota_tariff_add_tier(w->vol, 500, 900));
	OK(quota_tariff_add_tier(w->vol, QUOTA_UNLIMITED, 400));
}

static void pw_init(pw *w)
{
	pw_init_log(w, NULL);
}

static void pw_free(pw *w)
{
	quota_ctx_free(w->ctx);
	ck_assert_int_eq(w->al.live_blocks, 0);
}

static quota_account *acct(pw *w, const char *id)
{
	quota_account *a;

	OK(quota_account_new(w->ctx, id, &a));
	OK(quota_account_set_tariff(a, w->sms, w->grad));
	OK(quota_account_set_tariff(a, w->email, w->vol));
	OK(quota_account_topup(a, INT64_C(1000000000000), T0));
	return a;
}

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  const char *key)
{
	quota_usage u = {.category = cat, .units = units, .at = at, .key = key};
	quota_receipt r;

	return quota_charge(a, &u, &r);
}

/* `days` days of traffic from T0: sms every hour, email every 6 hours. */
static void traffic(pw *w, quota_account *a, int days)
{
	int64_t h;

	for (h = 0; h < days * 24; h++) {
		OK(charge(a, w->sms, 1 + h % 7, T0 + h * TU_HOUR + 60, NULL));
		if (h % 6 == 0)
			OK(charge(a, w->email, 10 + h % 5,
				  T0 + h * TU_HOUR + 120, NULL));
	}
}

static int64_t billed;
static int on_bill(const quota_bill *b, void *ud)
{
	(void)ud;
	billed += b->total_micros;
	return 0;
}

#define MAXROWS 4096
typedef struct coll {
	int n;
	quota_report_row rows[MAXROWS];
} coll;

static int coll_fn(const quota_report_row *r, void *ud)
{
	coll *c = ud;

	ck_assert_int_lt(c->n, MAXROWS);
	c->rows[c->n++] = *r;
	return 0;
}

static int report(const quota_account *a, int period, int64_t from,
		  int64_t to, coll *c)
{
	memset(c, 0, sizeof *c);
	return quota_report(a, period, from, to, coll_fn, c);
}

static int csv_null(const char *buf, size_t len, void *ud)
{
	(void)buf;
	(void)len;
	(void)ud;
	return 0;
}

static void snap_eq(const quota_account *x, const quota_account *y);

/* ------------------------------------------------------------- memory */

START_TEST(test_prune_year_of_hourly_rows_frees_memory)
{
	pw w;
	quota_account *a;
	int64_t end = T0 + 365 * TU_DAY;
	size_t before, after;

	pw_init(&w);
	a = acct(&w, "a");
	traffic(&w, a, 365);
	ck_assert_int_ge(quota_settle(a, end, NULL, NULL), 1);
	before = w.al.live_bytes;
	OK(quota_account_prune(a, end - 7 * TU_DAY, QUOTA_PRUNE_ALL));
	after = w.al.live_bytes;
	fprintf(stderr,
		"check_prune: a year of hourly usage: %zu bytes, %zu after "
		"pruning all but 7 days\n",
		before, after);
	ck_assert_int_eq(quota_account_pruned_before(a), end - 7 * TU_DAY);
	ck_assert_uint_lt(after * 10, before); /* > 90 % freed */
	pw_free(&w);
}
END_TEST

/* ------------------------------------------------------------ reports */

START_TEST(test_reports_over_pruned_span_refused_kept_span_same)
{
	pw w;
	quota_account *a;
	static coll c1, c2;
	int64_t cut = T0 + 30 * TU_DAY, end = T0 + 60 * TU_DAY, jan;

	pw_init(&w);
	a = acct(&w, "a");
	traffic(&w, a, 60);
	ck_assert_int_ge(quota_settle(a, end, NULL, NULL), 1);
	OK(report(a, QUOTA_PERIOD_DAY, cut, end, &c1));
	ck_assert_int_gt(c1.n, 0);
	jan = quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, T0);
	ck_assert_int_gt(jan, 0);
	ck_assert_int_eq(quota_account_pruned_before(a), INT64_MIN);
	OK(quota_account_prune(a, cut, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), cut);
	/* A span reaching before the horizon: refused, nothing emitted. */
	ck_assert_int_eq(report(a, QUOTA_PERIOD_DAY, T0, end, &c2),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(c2.n, 0);
	ck_assert_int_eq(report(a, QUOTA_PERIOD_HOUR, cut - 1, end, &c2),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(quota_report_csv(a, QUOTA_PERIOD_MONTH, T0, end,
					  csv_null, NULL),
			 QUOTA_EPRUNED);
	ck_assert_str_eq(quota_strerror(QUOTA_EPRUNED),
			 "span reaches data pruned from the account");
	ck_assert_str_eq(quota_err_name(QUOTA_EPRUNED), "QUOTA_EPRUNED");
	/* The kept span: the same rows. */
	OK(report(a, QUOTA_PERIOD_DAY, cut, end, &c2));
	ck_assert_int_eq(c1.n, c2.n);
	for (int i = 0; i < c1.n; i++) {
		const quota_report_row *x = &c1.rows[i], *y = &c2.rows[i];

		ck_assert(x->start == y->start && x->end == y->end &&
			  x->category == y->category &&
			  x->source == y->source && x->package == y->package &&
			  x->units == y->units &&
			  x->cost_micros == y->cost_micros);
	}
	/* Look-ups of pruned periods: the code, negative. */
	ck_assert_int_eq(quota_account_used(a, w.sms, QUOTA_PERIOD_DAY,
					    T0 + TU_DAY),
			 QUOTA_EPRUNED);
	/* January ends after the horizon (January 31): kept. */
	ck_assert_int_eq(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					    T0 + TU_DAY),
			 jan);
	OK(quota_account_prune(a, T0 + 31 * TU_DAY, QUOTA_PRUNE_COUNTERS));
	ck_assert_int_eq(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					    T0 + TU_DAY),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(quota_account_free_used(a, w.sms, T0 + TU_DAY),
			 QUOTA_EPRUNED);
	ck_assert_int_gt(quota_account_used(a, w.sms, QUOTA_PERIOD_DAY,
					    end - TU_DAY),
			 0);
	pw_free(&w);
}
END_TEST

/* ----------------------------------------- the current period, caps */

START_TEST(test_current_period_caps_free_tiers_unchanged)
{
	pw w;
	quota_account *a, *b;
	int64_t now = T0 + 75 * TU_DAY + 5 * TU_HOUR; /* mid-March */
	quota_usage u = {.units = 5, .at = now + 60};
	quota_receipt ra, rb;
	int i;

	pw_init(&w);
	a = acct(&w, "a");
	b = acct(&w, "b");
	for (i = 0; i < 2; i++) {
		quota_account *x = i ? b : a;

		OK(quota_account_set_cap(x, w.sms, QUOTA_PERIOD_DAY, 4000));
		OK(quota_account_set_cap(x, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					 1000000));
		traffic(&w, x, 75);
		OK(charge(x, w.sms, 40, now, NULL));
		OK(charge(x, w.email, 40, now, NULL));
		ck_assert_int_ge(quota_settle(x, now, NULL, NULL), 0);
	}
	/* Asked far ahead: the horizon stops at the first unsettled period
	 * and the clock; the current day and month keep their counters. */
	OK(quota_account_prune(a, now + 365 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_le(quota_account_pruned_before(a), now);
	ck_assert_int_gt(quota_account_pruned_before(a), now - TU_DAY);
	ck_assert_int_eq(quota_account_used(a, w.sms, QUOTA_PERIOD_DAY, now),
			 quota_account_used(b, w.sms, QUOTA_PERIOD_DAY, now));
	ck_assert_int_eq(
		quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, now),
		quota_account_used(b, QUOTA_ALL, QUOTA_PERIOD_MONTH, now));
	ck_assert_int_eq(quota_account_free_used(a, w.sms, now),
			 quota_account_free_used(b, w.sms, now));
	/* The next charges price (tiers, free units) the same. */
	for (i = 0; i < 3; i++) {
		u.category = i == 1 ? w.email : w.sms;
		u.units = 300 + 700 * i;
		OK(quota_charge(a, &u, &ra));
		OK(quota_charge(b, &u, &rb));
		ck_assert_int_eq(ra.free_units, rb.free_units);
		ck_assert_int_eq(ra.payg_cost_micros, rb.payg_cost_micros);
	}
	/* The cap still counts the day. */
	u.category = w.sms;
	u.units = 4000;
	ck_assert_int_eq(quota_charge(a, &u, &ra), QUOTA_ECAP);
	ck_assert_int_eq(quota_charge(b, &u, &rb), QUOTA_ECAP);
	pw_free(&w);
}
END_TEST

/* ----------------------------------- unsettled periods, bills the same */

START_TEST(test_unsettled_periods_are_never_pruned)
{
	pw w;
	quota_account *a;
	static coll c;
	int64_t settled = T0 + 10 * TU_DAY;

	pw_init(&w);
	a = acct(&w, "a");
	traffic(&w, a, 20);
	ck_assert_int_ge(quota_settle(a, settled, NULL, NULL), 1);
	/* Nothing settled yet would be the horizon INT64_MIN; here the
	 * first unsettled day. */
	OK(quota_account_prune(a, T0 + 19 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), settled);
	OK(report(a, QUOTA_PERIOD_DAY, settled, T0 + 20 * TU_DAY, &c));
	ck_assert_int_gt(c.n, 0);
	pw_free(&w);
}
END_TEST

START_TEST(test_never_settled_prunes_nothing)
{
	pw w;
	quota_account *a;

	pw_init(&w);
	a = acct(&w, "a");
	traffic(&w, a, 3);
	OK(quota_account_prune(a, T0 + 3 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), INT64_MIN);
	pw_free(&w);
}
END_TEST

START_TEST(test_settlement_after_pruning_bills_the_same)
{
	pw w;
	quota_account *a, *b;
	int64_t t1 = T0 + 45 * TU_DAY, t2 = T0 + 100 * TU_DAY, ba, bb;

	pw_init(&w);
	a = acct(&w, "a");
	b = acct(&w, "b");
	traffic(&w, a, 100);
	traffic(&w, b, 100);
	billed = 0;
	ck_assert_int_ge(quota_settle(a, t1, on_bill, NULL), 1);
	OK(quota_account_prune(a, t1 - 3 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_ge(quota_settle(a, t2, on_bill, NULL), 1);
	ba = billed;
	billed = 0;
	ck_assert_int_ge(quota_settle(b, t1, on_bill, NULL), 1);
	ck_assert_int_ge(quota_settle(b, t2, on_bill, NULL), 1);
	bb = billed;
	ck_assert_int_eq(ba, bb);
	pw_free(&w);
}
END_TEST

/* --------------------------------- holds, late usage, reversals, keys */

START_TEST(test_open_hold_keeps_its_period_late_usage_refused)
{
	pw w;
	quota_account *a;
	quota_usage u = {.units = 5, .at = T0 + 3 * TU_DAY + 100};
	quota_receipt r;
	uint64_t id;

	pw_init(&w);
	a = acct(&w, "a");
	u.category = w.sms;
	OK(quota_reserve(a, &u, 100 * TU_DAY, &r, &id));
	OK(charge(a, w.sms, 3, T0 + TU_DAY, "early"));
	traffic(&w, a, 30);
	ck_assert_int_ge(quota_settle(a, T0 + 30 * TU_DAY, NULL, NULL), 1);
	OK(quota_account_prune(a, T0 + 25 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), u.at);
	OK(quota_commit(a, id, 4, NULL, &r));
	/* The commit booked its hour (late); once settled, everything goes
	 * up to 25 days. */
	OK(quota_account_prune(a, T0 + 25 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), u.at); /* kept */
	ck_assert_int_ge(quota_settle(a, T0 + 30 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 25 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), T0 + 25 * TU_DAY);
	/* Usage and reversals before the horizon: refused. */
	ck_assert_int_eq(charge(a, w.sms, 1, T0 + 2 * TU_DAY, NULL),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(quota_quote(a,
				     &(quota_usage){.category = w.sms,
						    .units = 1,
						    .at = T0 + 2 * TU_DAY},
				     &r),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(quota_reverse(a, "early", T0 + 26 * TU_DAY, &r),
			 QUOTA_EPRUNED);
	OK(charge(a, w.sms, 1, T0 + 26 * TU_DAY, NULL));
	pw_free(&w);
}
END_TEST

/* A category whose newest day was reversed to 0 keeps, after pruning,
 * the days of its month: the snapshot still loads (and replays). */
START_TEST(test_reversed_current_day_snapshot_loads)
{
	pw w, w2;
	quota_account *a, *b;
	quota_receipt r;
	int64_t mar = T0 + 60 * TU_DAY; /* 2024-03-01 */
	void *p;
	size_t n;

	pw_init(&w);
	a = acct(&w, "a");
	OK(charge(a, w.email, 30, mar + 2 * TU_DAY, NULL));
	OK(charge(a, w.email, 40, mar + 4 * TU_DAY, "k"));
	OK(quota_reverse(a, "k", mar + 4 * TU_DAY + 60, &r));
	OK(charge(a, w.sms, 1, mar + 11 * TU_DAY, NULL));
	ck_assert_int_ge(quota_settle(a, mar + 11 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, mar + 9 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), mar + 9 * TU_DAY);
	ck_assert_int_eq(quota_account_used(a, w.email, QUOTA_PERIOD_MONTH,
					    mar + 11 * TU_DAY),
			 30);
	OK(quota_account_snapshot(a, &p, &n));
	pw_init(&w2);
	OK(quota_account_load(w2.ctx, p, n, &b));
	snap_eq(a, b);
	quota_free(w.ctx, p);
	pw_free(&w2);
	pw_free(&w);
}
END_TEST

START_TEST(test_bad_input)
{
	pw w;
	quota_account *a;

	pw_init(&w);
	a = acct(&w, "a");
	ck_assert_int_eq(quota_account_prune(NULL, T0, QUOTA_PRUNE_ALL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_prune(a, T0, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_prune(a, T0, 16), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_prune(a, QUOTA_TIME_MAX, 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_retention(NULL, 1, 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_retention(a, -1, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_retention(a, 10, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_retention(a, 10, 16),
			 QUOTA_EINVAL);
	OK(quota_account_set_retention(a, 0, 0));
	ck_assert_int_eq(quota_account_pruned_before(NULL), INT64_MIN);
	pw_free(&w);
}
END_TEST

/* -------------------------------------------------- journal and replay */

static void snap_eq(const quota_account *x, const quota_account *y)
{
	void *p, *q;
	size_t n, m;

	OK(quota_account_snapshot(x, &p, &n));
	OK(quota_account_snapshot(y, &q, &m));
	ck_assert_uint_eq(n, m);
	ck_assert(memcmp(p, q, n) == 0);
	quota_free(quota_account_ctx(x), p);
	quota_free(quota_account_ctx(y), q);
}

START_TEST(test_replay_reproduces_snapshot_bytes)
{
	pw w, w2;
	jw_log log;
	quota_account *a, *a2;
	size_t i;
	void *p;
	size_t n;

	memset(&log, 0, sizeof log);
	pw_init_log(&w, &log);
	a = acct(&w, "a");
	OK(quota_account_set_retention(a, 20 * TU_DAY,
				       QUOTA_PRUNE_LEDGER |
					       QUOTA_PRUNE_COUNTERS));
	traffic(&w, a, 40);
	ck_assert_int_ge(quota_settle(a, T0 + 35 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(quota_account_pruned_before(a), T0 + 15 * TU_DAY);
	OK(quota_account_prune(a, T0 + 33 * TU_DAY, QUOTA_PRUNE_BILLS));
	/* the snapshot round-trips, horizon and retention included */
	OK(quota_account_snapshot(a, &p, &n));
	pw_init(&w2);
	OK(quota_account_load(w2.ctx, p, n, &a2));
	snap_eq(a, a2);
	quota_free(w.ctx, p);
	pw_free(&w2);
	/* replay in check mode into a fresh context */
	OK(quota_ctx_new(&w2.ctx));
	tu_journal_skip(w2.ctx);
	for (i = 0; i < log.n; i++) {
		int rc = quota_journal_apply(w2.ctx, log.r[i].p, log.r[i].n,
					     QUOTA_JOURNAL_CHECK);

		ck_assert_msg(rc == QUOTA_OK, "record %zu: %s", i,
			      quota_errmsg(w2.ctx));
	}
	OK(quota_account_find(w2.ctx, "a", &a2));
	snap_eq(a, a2);
	/* a prune record whose counts differ is refused */
	{
		jw_rec *last = &log.r[log.n - 1];
		quota_ctx *c3;
		unsigned char *q = malloc(last->n);

		ck_assert_ptr_nonnull(q);
		memcpy(q, last->p, last->n);
		q[last->n - 1] ^= 1; /* the volume months dropped */
		{
			/* reseal: CRC-32C of the body at bytes 4..7 */
			uint32_t crc = quota__crc32c(0, q + 8, last->n - 8);

			for (int k = 0; k < 4; k++)
				q[4 + k] = (unsigned char)(crc >> (8 * k));
		}
		OK(quota_ctx_new(&c3));
		tu_journal_skip(c3);
		for (i = 0; i + 1 < log.n; i++)
			OK(quota_journal_apply(c3, log.r[i].p, log.r[i].n, 0));
		ck_assert_int_eq(quota_journal_apply(c3, q, last->n, 0),
				 QUOTA_ECORRUPT);
		quota_ctx_free(c3);
		free(q);
	}
	quota_ctx_free(w2.ctx);
	pw_free(&w);
	jw_log_free(&log);
}
END_TEST

/* A hold of a new month reserved and released leaves the current record
 * on a day and month with nothing in them; pruning into the month before,
 * whose counter stays, keeps that month's days, so the snapshot loads. */
START_TEST(test_current_record_moved_on_snapshot_loads)
{
	pw w, w2;
	quota_account *a, *a2;
	quota_usage u = {.units = 3, .at = T0 + 32 * TU_DAY};
	quota_receipt r;
	uint64_t id;
	void *p;
	size_t n;

	pw_init(&w);
	a = acct(&w, "a");
	OK(charge(a, w.sms, 5, T0 + 9 * TU_DAY, NULL));
	u.category = w.sms;
	OK(quota_reserve(a, &u, 600, &r, &id));
	OK(quota_release(a, id, NULL, &r));
	ck_assert_int_ge(quota_settle(a, T0 + 33 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 28 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), T0 + 28 * TU_DAY);
	ck_assert_int_eq(quota_account_used(a, w.sms, QUOTA_PERIOD_MONTH,
					    T0 + 9 * TU_DAY),
			 5);
	OK(quota_account_snapshot(a, &p, &n));
	pw_init(&w2);
	OK(quota_account_load(w2.ctx, p, n, &a2));
	snap_eq(a, a2);
	quota_free(w.ctx, p);
	pw_free(&w2);
	pw_free(&w);
}
END_TEST

/* §5: an account loaded from a snapshot prunes what the live one did, so
 * the prune record after the snapshot replays (check mode compares what
 * is dropped): the live account's current record sits on an empty month
 * and its table holds zeros, the loaded one's does not. */
START_TEST(test_loaded_account_replays_prune_record)
{
	pw w, w2;
	jw_log log;
	quota_account *a, *a2;
	quota_usage u = {.units = 3, .at = T0 + 61 * TU_DAY};
	quota_receipt r;
	uint64_t id, seq, rs;
	char rid[QUOTA_ID_MAX + 1];
	void *p;
	size_t n, i;

	memset(&log, 0, sizeof log);
	pw_init_log(&w, &log);
	a = acct(&w, "a");
	OK(charge(a, w.sms, 5, T0 + 9 * TU_DAY, "k"));
	OK(charge(a, w.sms, 2, T0 + 12 * TU_DAY, NULL));
	u.category = w.sms;
	OK(quota_reserve(a, &u, 600, &r, &id));
	OK(quota_release(a, id, NULL, &r));
	ck_assert_int_ge(quota_settle(a, T0 + 62 * TU_DAY, NULL, NULL), 0);
	OK(quota_reverse(a, "k", T0 + 62 * TU_DAY, &r)); /* a zero stays */
	ck_assert_int_ge(quota_settle(a, T0 + 62 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_snapshot(a, &p, &n));
	seq = quota_account_seq(a);
	OK(quota_account_prune(a, T0 + 45 * TU_DAY, QUOTA_PRUNE_ALL));
	ck_assert_int_eq(quota_account_pruned_before(a), T0 + 45 * TU_DAY);
	pw_init(&w2);
	tu_journal_skip(w2.ctx); /* records applied here are not its own */
	OK(quota_account_load(w2.ctx, p, n, &a2));
	quota_free(w.ctx, p);
	for (i = 0; i < log.n; i++) {
		if (!log.r[i].account || strcmp(log.r[i].account, "a") != 0)
			continue;
		OK(quota_journal_peek(w2.ctx, log.r[i].p, log.r[i].n, rid,
				      &rs));
		if (rs <= seq)
			continue;
		ck_assert_msg(quota_journal_apply(w2.ctx, log.r[i].p,
						  log.r[i].n,
						  QUOTA_JOURNAL_CHECK) ==
				      QUOTA_OK,
			      "record %llu: %s", (unsigned long long)rs,
			      quota_errmsg(w2.ctx));
	}
	snap_eq(a, a2);
	pw_free(&w2);
	pw_free(&w);
	jw_log_free(&log);
}
END_TEST

/* Retention runs after every account's settlement in quota_ctx_settle,
 * with a store (one quota_settle per account) or without (all or
 * nothing): the same horizon either way, also when nothing was left to
 * settle but the clock moved on. */
START_TEST(test_ctx_settle_retention_same_with_and_without_store)
{
	pw w[2];
	jw_log log;
	quota_account *a[2];
	int k;

	memset(&log, 0, sizeof log);
	pw_init(&w[0]);
	OK(quota_ctx_set_store(w[0].ctx, NULL)); /* none, also journaled */
	pw_init_log(&w[1], &log);
	for (k = 0; k < 2; k++) {
		a[k] = acct(&w[k], "a");
		OK(quota_account_set_retention(a[k], 2 * TU_DAY,
					       QUOTA_PRUNE_ALL));
		OK(charge(a[k], w[k].sms, 30, T0 + TU_HOUR, NULL));
		ck_assert_int_ge(quota_ctx_settle(w[k].ctx, T0 + 5 * TU_DAY,
						  NULL, NULL),
				 0);
		ck_assert_int_eq(quota_account_pruned_before(a[k]),
				 T0 + TU_HOUR);
		OK(charge(a[k], w[k].sms, 30, T0 + 5 * TU_DAY + TU_HOUR,
			  NULL));
		ck_assert_int_eq(quota_ctx_settle(w[k].ctx,
						  T0 + 5 * TU_DAY + 2 * TU_HOUR,
						  NULL, NULL),
				 0);
		ck_assert_int_eq(quota_account_pruned_before(a[k]),
				 T0 + 3 * TU_DAY);
	}
	pw_free(&w[0]);
	pw_free(&w[1]);
	jw_log_free(&log);
}
END_TEST

/* ----------------------------------------------------- fault injection */

START_TEST(test_prune_alloc_failure_sweep)
{
	long n;
	int rc;

	for (n = 1;; n++) {
		pw w;
		quota_account *a;
		void *p, *q;
		size_t np, nq;

		pw_init(&w);
		a = acct(&w, "a");
		traffic(&w, a, 70);
		ck_assert_int_ge(quota_settle(a, T0 + 65 * TU_DAY, NULL, NULL),
				 1);
		OK(quota_account_snapshot(a, &p, &np));
		tu_alloc_fail_in(&w.al, n);
		rc = quota_account_prune(a, T0 + 40 * TU_DAY, QUOTA_PRUNE_ALL);
		tu_alloc_disarm(&w.al);
		if (rc == QUOTA_OK) {
			ck_assert_int_eq(quota_account_pruned_before(a),
					 T0 + 40 * TU_DAY);
			quota_free(w.ctx, p);
			pw_free(&w);
			break;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert(quota_errmsg(w.ctx)[0]);
		OK(quota_account_snapshot(a, &q, &nq));
		ck_assert_uint_eq(np, nq);
		ck_assert(memcmp(p, q, np) == 0);
		quota_free(w.ctx, p);
		quota_free(w.ctx, q);
		pw_free(&w);
	}
	ck_assert_int_gt(n, 1);
}
END_TEST

static int fail_append(void *ud, const char *account, uint64_t seq,
		       const void *rec, size_t len)
{
	int *mode = ud;

	(void)account;
	(void)seq;
	(void)rec;
	(void)len;
	return *mode;
}

START_TEST(test_prune_store_failure_changes_nothing)
{
	static const int modes[] = {QUOTA_ESTORE, QUOTA_ECONFLICT,
				    QUOTA_EUNKNOWN};
	size_t m;

	for (m = 0; m < 3; m++) {
		pw w;
		quota_account *a;
		quota_store st = QUOTA_STORE_INIT;
		int mode = QUOTA_OK;
		void *p, *q;
		size_t np, nq;

		pw_init(&w);
		tu_journal_skip(w.ctx);
		st.ud = &mode;
		st.append = fail_append;
		OK(quota_ctx_set_store(w.ctx, &st));
		a = acct(&w, "a");
		traffic(&w, a, 40);
		ck_assert_int_ge(quota_settle(a, T0 + 35 * TU_DAY, NULL, NULL),
				 1);
		OK(quota_account_snapshot(a, &p, &np));
		mode = modes[m];
		ck_assert_int_eq(quota_account_prune(a, T0 + 30 * TU_DAY,
						     QUOTA_PRUNE_ALL),
				 modes[m]);
		ck_assert_int_eq(quota_account_set_retention(a, TU_DAY, 1),
				 m == 2 ? QUOTA_EUNSYNCED : modes[m]);
		ck_assert_int_eq(quota_account_pruned_before(a), INT64_MIN);
		mode = QUOTA_OK;
		if (m == 2) { /* unknown: the account waits to re-sync */
			OK(quota_account_reset(a, p, np));
		}
		OK(quota_account_snapshot(a, &q, &nq));
		ck_assert_uint_eq(np, nq);
		ck_assert(memcmp(p, q, np) == 0);
		quota_free(w.ctx, p);
		quota_free(w.ctx, q);
		pw_free(&w);
	}
}
END_TEST

/* ----------------------------------------------------------- retention */

/* A year of one charge a minute, settled daily, 30 days kept: memory
 * stays under RETAIN_BOUND bytes. */
#define RETAIN_BOUND (size_t)(320 * 1024)

static size_t year_by_minute(int64_t retain, size_t *peak_late)
{
	pw w;
	quota_account *a;
	int64_t m, day = 0;
	size_t live;

	pw_init(&w);
	a = acct(&w, "a");
	if (retain)
		OK(quota_account_set_retention(a, retain, QUOTA_PRUNE_ALL));
	*peak_late = 0;
	for (m = 0; m < 365 * 24 * 60; m++) {
		int64_t at = T0 + m * 60;

		OK(charge(a, m % 3 ? w.sms : w.email, 1 + m % 3, at, NULL));
		if ((m + 1) % (24 * 60) == 0) {
			day++;
			ck_assert_int_ge(quota_settle(a, T0 + day * TU_DAY,
						      NULL, NULL),
					 0);
			if (day > 60 && w.al.live_bytes > *peak_late)
				*peak_late = w.al.live_bytes;
		}
	}
	live = w.al.live_bytes;
	if (retain)
		ck_assert_int_eq(quota_account_pruned_before(a),
				 T0 + 365 * TU_DAY - retain);
	pw_free(&w);
	return live;
}

START_TEST(test_retention_year_by_minute_bounded)
{
	size_t kept, all, peak, peak_all;

	if (tu_quick())
		return;
	kept = year_by_minute(30 * TU_DAY, &peak);
	all = year_by_minute(0, &peak_all);
	fprintf(stderr,
		"check_prune: a year of one charge a minute, daily "
		"settlement: %zu bytes without retention, %zu with 30 days "
		"(peak after day 60: %zu; bound %zu)\n",
		all, kept, peak, RETAIN_BOUND);
	ck_assert_uint_lt(peak, RETAIN_BOUND);
	ck_assert_uint_lt(kept * 5, all);
}
END_TEST

static Suite *prune_suite(void)
{
	Suite *s = suite_create("prune");
	TCase *tc = tcase_create("prune");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_prune_year_of_hourly_rows_frees_memory);
	tcase_add_test(tc,
		       test_reports_over_pruned_span_refused_kept_span_same);
	tcase_add_test(tc, test_current_period_caps_free_tiers_unchanged);
	tcase_add_test(tc, test_unsettled_periods_are_never_pruned);
	tcase_add_test(tc, test_never_settled_prunes_nothing);
	tcase_add_test(tc, test_settlement_after_pruning_bills_the_same);
	tcase_add_test(tc, test_open_hold_keeps_its_period_late_usage_refused);
	tcase_add_test(tc, test_reversed_current_day_snapshot_loads);
	tcase_add_test(tc, test_current_record_moved_on_snapshot_loads);
	tcase_add_test(tc, test_loaded_account_replays_prune_record);
	tcase_add_test(tc, test_ctx_settle_retention_same_with_and_without_store);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_replay_reproduces_snapshot_bytes);
	tcase_add_test(tc, test_prune_alloc_failure_sweep);
	tcase_add_test(tc, test_prune_store_failure_changes_nothing);
	tcase_add_test(tc, test_retention_year_by_minute_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(prune_suite());
}
