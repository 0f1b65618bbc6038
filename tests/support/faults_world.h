/*
 * faults_world.h - what the allocation-failure sweep of STYLE 19 runs on
 * (check_faults.c: the single and persistent sweeps,
 * check_faults_reference.c: the fault-free run): the run and what the
 * reference run did at every step, the world compared around a call that
 * failed (each account's snapshot and the tariffs' quotes), the
 * receipts compared with the reference run's, STEP, and the calls the
 * scenario makes.  The scenario itself and run_once are in
 * faults_scenario.h.
 */
#ifndef QUOTA_TEST_FAULTS_WORLD_H
#define QUOTA_TEST_FAULTS_WORLD_H

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define NCAT 5
#define NTAR 3
#define NACC 6
#define MAXSTEPS 8192

enum { MODE_REF = 0, MODE_SINGLE = 1, MODE_PERSISTENT = 2 };

typedef struct run {
	tu_alloc al;
	int mode;
	quota_ctx *ctx;
	uint32_t cat[NCAT];
	quota_tariff *tar[NTAR];
	int ntar;
	quota_account *acc[NACC];
	int nacc;
	int step;
	int enomem;
	int aborted;
	uint64_t hold[NACC]; /* the account's last hold */
	long events, hook_failed;
	quota_offer *offer;  /* issue 5: a catalog entry */
	long bills;          /* bills delivered by quota_settle */
	int64_t billed;      /* their totals */
	long report_bytes;   /* CSV written by quota_report_csv */
	/* Issue 15 (R25, R27): the last kept receipt id of a keyless charge
	 * and the last keyless hold of each account. */
	uint64_t rid[NACC], rhold[NACC];
	quota_zone *zone;    /* R26: Europe/Berlin, for two accounts */
} run;

/* What the reference run (no faults) did at every step. */
static int ref_rc[MAXSTEPS];
static quota_receipt ref_receipt[MAXSTEPS];
/* Package ids of its receipt lines, copied: the run's packages are gone. */
static char ref_ids[MAXSTEPS][QUOTA_RECEIPT_LINES][32];
static int ref_nsteps;
static long ref_events, ref_hook_failed, ref_bills, ref_report_bytes;
static int64_t ref_billed;

static const char *const cat_names[NCAT] = {
	"sms.verify", "sms.notify", "sms.marketing", "email", "rich.click"};
static const char *const tariff_names[NTAR] = {"sms", "email", "click"};
static const char *const acct_names[NACC] = {"acme",	 "globex", "initech",
					     "umbrella", "hooli",  "stark"};
static const int32_t acct_offsets[NACC] = {0,	  3600,	    -18000,
					   32400, 19800, -36000};

#define T_REF tu_utc(2024, 2, 10, 12, 0, 0)
#define T_END tu_utc(2024, 4, 1, 0, 0, 0)

/* ------------------------------------------------------------- the world */

#define NPROBE 4
static const int64_t probe_v[NPROBE] = {0, 500, 999, 20000};
static const int64_t probe_n[NPROBE] = {1, 700, 2, 10};

typedef struct world {
	uint32_t ncat;
	int nsnap;
	tu_snap snap[NACC];
	int prc[NTAR][NPROBE];
	int64_t pcost[NTAR][NPROBE];
} world;

static world w_before, w_after, w_ref_end, w_end;

/* acct < 0: every account at two fixed times; else that one at `at`. */
static void world_take(const run *r, world *w, int acct, int64_t at)
{
	int i, k;

	w->ncat = r->ctx ? quota_category_count(r->ctx) : 0;
	for (i = 0; i < r->ntar; i++)
		for (k = 0; k < NPROBE; k++) {
			w->pcost[i][k] = -1;
			w->prc[i][k] = quota_tariff_price(
				r->tar[i], probe_v[k], probe_n[k],
				&w->pcost[i][k]);
		}
	if (acct >= 0) {
		int64_t t[2];

		t[0] = at;
		t[1] = T_REF;
		w->nsnap = 1;
		tu_snap_take(&w->snap[0], r->acc[acct], t, 2);
	} else {
		int64_t t[3] = {T_REF, T_END, tu_utc(2024, 3, 3, 3, 3, 3)};

		w->nsnap = r->nacc;
		for (i = 0; i < r->nacc; i++)
			tu_snap_take(&w->snap[i], r->acc[i], t, 3);
	}
}

static void world_assert_eq(const run *r, const world *x, const world *y)
{
	int i, k;

	ck_assert_uint_eq(x->ncat, y->ncat);
	ck_assert_int_eq(x->nsnap, y->nsnap);
	for (i = 0; i < x->nsnap; i++)
		TU_ASSERT_SNAP_EQ(&x->snap[i], &y->snap[i]);
	for (i = 0; i < r->ntar; i++)
		for (k = 0; k < NPROBE; k++)
			ck_assert_msg(x->prc[i][k] == y->prc[i][k] &&
					      x->pcost[i][k] == y->pcost[i][k],
				      "tariff %d price probe %d changed", i, k);
}

/* The same receipt as the reference run's (packages compared by id). */
static void receipt_assert_eq(const quota_receipt *x, const quota_receipt *y,
			      int step)
{
	/* y is the reference receipt: its package_id now points to ref_ids */
	uint32_t i;

	ck_assert_msg(x->units == y->units && x->free_units == y->free_units &&
			      x->package_units == y->package_units &&
			      x->payg_units == y->payg_units &&
			      x->payg_cost_micros == y->payg_cost_micros &&
			      x->category == y->category && x->at == y->at &&
			      x->nlines == y->nlines &&
			      x->lines_total == y->lines_total &&
			      x->kind == y->kind && x->replayed == y->replayed &&
			      x->hold_id == y->hold_id &&
			      x->fee_micros == y->fee_micros &&
			      x->forfeited_units == y->forfeited_units,
		      "step %d: receipt totals differ from the fault-free run",
		      step);
	for (i = 0; i < x->nlines && i < QUOTA_RECEIPT_LINES; i++) {
		const quota_receipt_line *a = &x->lines[i], *b = &y->lines[i];

		ck_assert_msg(a->source == b->source && a->tier == b->tier &&
				      a->units == b->units &&
				      a->unit_price_micros ==
					      b->unit_price_micros &&
				      a->cost_micros == b->cost_micros,
			      "step %d: receipt line %u differs", step, i);
		if (a->source == QUOTA_SOURCE_PACKAGE) {
			ck_assert_ptr_nonnull(a->package_id);
			ck_assert_str_eq(a->package_id, ref_ids[step][i]);
		}
	}
}

/* ------------------------------------------------------------- one step */

/*
 * Run `call`; on QUOTA_ENOMEM check that an allocation failed, that a
 * message was left, that nothing observable changed (and `failcheck`),
 * then retry (single) or stop the scenario (persistent).  Then the result
 * must be the reference run's.
 */
#define STEP(r, acct, at, is_charge, call, failcheck)                          \
	do {                                                                   \
		quota_receipt rcpt_;                                           \
		int rc_;                                                       \
		for (;;) {                                                     \
			long f0_ = (r)->al.failures;                           \
			int armed_ = (r)->mode != MODE_REF &&                  \
				     ((r)->al.fail_rest ||                     \
				      (r)->al.fail_at > (r)->al.attempts);     \
			if (armed_ && (r)->ctx)                                \
				world_take((r), &w_before, (acct), (at));      \
			memset(&rcpt_, 0x33, sizeof rcpt_);                    \
			rc_ = (call);                                          \
			if (rc_ != QUOTA_ENOMEM)                               \
				break;                                         \
			ck_assert_msg((r)->al.failures > f0_,                  \
				      "step %d: ENOMEM but no allocation "     \
				      "failed",                                \
				      (r)->step);                              \
			if ((r)->ctx) {                                        \
				ck_assert_msg(quota_errmsg((r)->ctx)[0],       \
					      "step %d: empty errmsg",         \
					      (r)->step);                      \
				world_take((r), &w_after, (acct), (at));       \
				world_assert_eq((r), &w_before, &w_after);     \
			}                                                      \
			if (is_charge)                                         \
				ck_assert_msg(tu_receipt_is_zero(&rcpt_),      \
					      "step %d: receipt not zeroed",   \
					      (r)->step);                      \
			failcheck;                                             \
			(r)->enomem++;                                         \
			if ((r)->mode == MODE_PERSISTENT) {                    \
				(r)->aborted = 1;                              \
				return;                                        \
			}                                                      \
		}                                                              \
		ck_assert_int_lt((r)->step, MAXSTEPS);                         \
		if ((r)->mode == MODE_REF) {                                   \
			ref_rc[(r)->step] = rc_;                               \
			if (is_charge)                                         \
				ref_keep((r)->step, &rcpt_);                   \
		} else {                                                       \
			ck_assert_msg(rc_ == ref_rc[(r)->step],                \
				      "step %d: %s, fault-free run gave %s",   \
				      (r)->step, quota_err_name(rc_),          \
				      quota_err_name(ref_rc[(r)->step]));      \
			if (is_charge && rc_ == QUOTA_OK)                      \
				receipt_assert_eq(&rcpt_,                      \
						  &ref_receipt[(r)->step],     \
						  (r)->step);                  \
		}                                                              \
		(r)->step++;                                                   \
	} while (0)

#define NOCHECK ((void)0)

static void ref_keep(int step, const quota_receipt *rc)
{
	uint32_t i;

	ref_receipt[step] = *rc;
	for (i = 0; i < rc->nlines && i < QUOTA_RECEIPT_LINES; i++) {
		ref_ids[step][i][0] = '\0';
		if (rc->lines[i].source == QUOTA_SOURCE_PACKAGE &&
		    rc->lines[i].package_id)
			snprintf(ref_ids[step][i], sizeof ref_ids[step][i],
				 "%s", rc->lines[i].package_id);
		ref_receipt[step].lines[i].package_id = NULL;
		ref_receipt[step].lines[i].package = NULL;
	}
}

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  int quote, quota_receipt *rcpt)
{
	quota_usage u = {.category = cat, .units = units, .at = at};

	return quote ? quota_quote(a, &u, rcpt) : quota_charge(a, &u, rcpt);
}

static int charge_k(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		    const char *key, quota_receipt *rcpt)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	return quota_charge(a, &u, rcpt);
}

static int reserve_k(run *r, int i, uint32_t cat, int64_t units, int64_t at,
		     int64_t timeout, const char *key, quota_receipt *rcpt)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	uint64_t h = 99;
	int rc = quota_reserve(r->acc[i], &u, timeout, rcpt, &h);

	if (rc == QUOTA_OK)
		r->hold[i] = h;
	else
		ck_assert_uint_eq(h, 0);
	return rc;
}

/* quota_account_tick / quota_ctx_tick as an int code or count. */
static int tick(run *r, int i, int64_t now)
{
	int64_t n = i < 0 ? quota_ctx_tick(r->ctx, now)
			  : quota_account_tick(r->acc[i], now);

	ck_assert_int_lt(n, 1000);
	return (int)n;
}

static int hook(const quota_event *e, void *ud)
{
	run *r = ud;

	ck_assert_ptr_nonnull(e);
	r->events++;
	if (r->events % 3 == 0) {
		r->hook_failed++;
		return 1;
	}
	return 0;
}

static int add_package(quota_account *a, const char *id, uint64_t mask,
		       int64_t units, int64_t eff, int64_t exp, uint32_t flags,
		       int32_t prio)
{
	quota_package_spec s;
	quota_package *p = NULL;
	int rc;

	memset(&s, 0, sizeof s);
	s.id = id;
	s.categories = mask;
	s.units = units;
	s.effective_at = eff;
	s.expires_at = exp;
	s.price_micros = units * 5000;
	s.flags = flags;
	s.priority = prio;
	rc = quota_package_add(a, &s, &p);
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

static int on_bill(const quota_bill *b, void *ud)
{
	run *r = ud;

	r->bills++;
	r->billed += b->total_micros;
	return 0;
}

static int settle(run *r, int i, int64_t now)
{
	int64_t n = quota_settle(r->acc[i], now, on_bill, r);

	ck_assert_int_lt(n, 100000);
	return (int)n;
}

static int count_bytes(const char *buf, size_t len, void *ud)
{
	run *r = ud;

	(void)buf;
	r->report_bytes += (long)len;
	return 0;
}

static int buy(run *r, int i, int64_t at)
{
	quota_purchase pu;
	int rc = quota_package_buy(r->acc[i], r->offer, 1 + i % 2, NULL, at,
				   NULL, &pu);

	if (rc == QUOTA_OK)
		ck_assert_ptr_nonnull(pu.package);
	return rc;
}

static int notfound_offer(const run *r, const char *id)
{
	quota_offer *o = NULL;

	return quota_offer_find(r->ctx, id, &o) == QUOTA_ENOTFOUND;
}

static int notfound_category(const run *r, const char *name)
{
	uint32_t id;

	return quota_category_find(r->ctx, name, &id) == QUOTA_ENOTFOUND;
}

static int notfound_tariff(const run *r, const char *name)
{
	quota_tariff *t = NULL;

	return quota_tariff_find(r->ctx, name, &t) == QUOTA_ENOTFOUND;
}

static int notfound_account(const run *r, const char *name)
{
	quota_account *a = NULL;

	return quota_account_find(r->ctx, name, &a) == QUOTA_ENOTFOUND;
}

static int notfound_package(const quota_account *a, const char *id)
{
	quota_package *p = NULL;

	return quota_package_find(a, id, &p) == QUOTA_ENOTFOUND;
}

#endif /* QUOTA_TEST_FAULTS_WORLD_H */
