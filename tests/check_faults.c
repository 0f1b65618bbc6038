/*
 * check_faults.c - allocation-failure sweep (STYLE 19).
 *
 * A scripted scenario (context, categories, tiered tariffs, accounts,
 * packages, caps, charges over several days and months so the period
 * counter tables grow, late reports, quotes) is run with allocation N
 * failing, for N = 1, 2, ... until the scenario runs without reaching N:
 *
 *   - single: only the Nth allocation fails; the call that hit it must
 *     fail with QUOTA_ENOMEM (with a message) leaving its objects'
 *     observable state unchanged, and is then retried.  Every other call
 *     returns what it returned in a run without faults, with the same
 *     receipt, and the final state equals that run's.
 *   - persistent: every allocation from the Nth on fails; the scenario
 *     stops at the first QUOTA_ENOMEM (state unchanged).
 *
 * Either way quota_ctx_free() must then leave zero live blocks.
 *
 * Issue 4: the scenario also makes keyed charges and their replays,
 * reservations (keyed or not) committed in part, released (with a failure
 * fee) or left to time out, account and context ticks, reversals, small
 * key windows (keys forgotten), an event hook (failing every third event),
 * low-quota alerts and expiry warnings.  A call that fails with
 * QUOTA_ENOMEM stores no key (its retry is not a replay), takes no hold id
 * and delivers no event: the run's events equal the fault-free run's.
 *
 * Issue 5: a catalog offer, top-ups and credit limits, package purchases,
 * hourly and daily settlements (some accounts get suspended and resumed),
 * and CSV reports.  The bills a run delivers and the CSV bytes it writes
 * equal the fault-free run's; snapshots include the account's money.
 *
 * Issue 13: pruning (quota_account_prune) now and then, after which late
 * charges and reports reaching before the horizon are refused alike.
 *
 * Issue 15 (r25_r27_steps): per-reason failure fees on a tariff, kept
 * receipts, reversals by receipt id (of a charge and of a commit),
 * releases with a reason, and blocking: a blocked account refuses
 * charges, quotes, reservations and purchases (QUOTA_EBLOCKED) while a
 * hold taken before is committed, top-ups and settlement go on; then it
 * is unblocked.
 *
 * R26: the context loads Europe/Berlin from the system's tz database and
 * two accounts follow it, across its spring-forward day.
 *
 * The R8 sweep of keyed calls at a new hour went to check_faults_keyed.c,
 * the R23 auto-renewal sweep to check_faults_renewal.c; the three share
 * no helpers.
 */
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

/* ------------------------------------------------------------ scenario */

/* R10-R12 calls of account i on day d at `at`. */
static void hold_steps(run *r, int i, int d, int64_t at)
{
	quota_account *a = r->acc[i];
	char key[32], rkey[32], ckey[32];

	snprintf(key, sizeof key, "ch-%d-%d", d, i);
	snprintf(rkey, sizeof rkey, "rs-%d-%d", d, i);
	snprintf(ckey, sizeof ckey, "cm-%d-%d", d, i);
	/* A keyed charge and its replay (a sms.notify, and a click). */
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[1], 5 + d % 7, at + 5, key, &rcpt_), NOCHECK);
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[1], 5 + d % 7, at + 5, key, &rcpt_), NOCHECK);
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[4], 2, at + 6, ckey, &rcpt_), NOCHECK);
	/* A reservation, keyed every other day, and its replay. */
	STEP(r, i, at, 1,
	     reserve_k(r, i, r->cat[d % 2 ? 0 : 3], 3 + d % 4, at + 7,
		       TU_HOUR, d % 2 ? rkey : NULL, &rcpt_),
	     NOCHECK);
	if (d % 2)
		STEP(r, i, at, 1,
		     reserve_k(r, i, r->cat[0], 3 + d % 4, at + 7, TU_HOUR,
			       rkey, &rcpt_),
		     NOCHECK);
	switch (d % 4) {
	case 0: /* delivered in part */
		STEP(r, i, at, 1,
		     quota_commit(a, r->hold[i], 1 + d % 3, d % 8 ? NULL : rkey,
				  &rcpt_),
		     NOCHECK);
		break;
	case 1: /* failed: the failure fee */
		STEP(r, i, at, 1, quota_release(a, r->hold[i], NULL, &rcpt_),
		     NOCHECK);
		break;
	case 2: /* delivered whole, keyed: later reversed */
		snprintf(ckey, sizeof ckey, "cm2-%d-%d", d, i);
		STEP(r, i, at, 1,
		     quota_commit(a, r->hold[i], 3 + d % 4, ckey, &rcpt_),
		     NOCHECK);
		STEP(r, i, at, 1, quota_reverse(a, ckey, at + 60, &rcpt_),
		     NOCHECK);
		break;
	default: /* no report: the tick releases it */
		break;
	}
	STEP(r, i, at, 0, tick(r, i, at + 2 * TU_HOUR), NOCHECK);
	/* A late failure report on the keyed charge, some days. */
	if (d % 3 == 0)
		STEP(r, i, at, 1, quota_reverse(a, key, at + 3 * TU_DAY, &rcpt_),
		     NOCHECK);
	if (d % 9 == 4)
		STEP(r, i, at, 0,
		     quota_account_set_key_window(a, 2 + (uint32_t)(d % 3),
						  10 * TU_DAY),
		     NOCHECK);
}

/* ------------------------------------------- issue 15: R25 and R27 calls */

/* R27: fees per failure reason on the sms tariff (before it is in use):
 * a carrier rejection dearer than the failure fee, an invalid number
 * free, the expired reason set and dropped again. */
static void r27_config_steps(run *r)
{
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0],
						 QUOTA_FAIL_REJECTED, 400),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(
		     r->tar[0], QUOTA_FAIL_INVALID_NUMBER, 0),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0], QUOTA_FAIL_EXPIRED,
						 90),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0], QUOTA_FAIL_EXPIRED,
						 -1),
	     NOCHECK);
}

/* R27: a keyless charge; its kept receipt id (0 if not kept). */
static int charge_rid(run *r, int i, uint32_t cat, int64_t units, int64_t at,
		      quota_receipt *rcpt)
{
	int rc = charge(r->acc[i], cat, units, at, 0, rcpt);

	if (rc == QUOTA_OK)
		r->rid[i] = rcpt->receipt_id;
	return rc;
}

/* A keyless reservation remembered as the account's R27 hold. */
static int reserve_r(run *r, int i, uint32_t cat, int64_t units, int64_t at,
		     quota_receipt *rcpt)
{
	int rc = reserve_k(r, i, cat, units, at, TU_DAY, NULL, rcpt);

	r->rhold[i] = rc == QUOTA_OK ? r->hold[i] : 0;
	return rc;
}

/* 1 if blocked, 0 if not (the reason and time read too). */
static int blocked(const quota_account *a)
{
	const char *why = NULL;
	int64_t since = 0;
	int rc = quota_account_blocked(a, &why, &since);

	ck_assert(rc == 1 ? since != 0 : why == NULL && since == 0);
	return rc;
}

/* R25 and R27 calls of account i on day d at `at`. */
static void r25_r27_steps(run *r, int i, int d, int64_t at)
{
	quota_account *a = r->acc[i];
	int64_t t = at + 1000;

	/* R27: even accounts keep receipts from day 0; odd ones from day
	 * 3, and every account turns it off and on again now and then. */
	if ((d == 0 && i % 2 == 0) || (d == 3 && i % 2))
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 1), NOCHECK);
	if (d % 11 == 7)
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 0), NOCHECK);
	if (d % 11 == 8)
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 1), NOCHECK);
	/* The rest on every third day of an account, to keep the sweep's
	 * time. */
	if ((d + i) % 3)
		return;
	/* A keyless charge, reversed by its receipt id some days (0 when
	 * receipts are not kept: QUOTA_EINVAL). */
	STEP(r, i, t, 1, charge_rid(r, i, r->cat[d % 2], 4 + d % 5, t, &rcpt_),
	     NOCHECK);
	if (d % 3 != 2)
		STEP(r, i, t, 1, quota_reverse_receipt(a, r->rid[i], t + 5, &rcpt_),
		     NOCHECK);
	/* A keyless hold: released with a reason (0..5 and a host's own 9),
	 * or committed and then reversed by its hold id. */
	STEP(r, i, t, 1, reserve_r(r, i, r->cat[0], 2 + d % 3, t + 10, &rcpt_),
	     NOCHECK);
	if (d % 2)
		STEP(r, i, t, 1,
		     quota_release_reason(a, r->rhold[i],
					  d % 7 == 6 ? 9 : d % 6, NULL, &rcpt_),
		     NOCHECK);
	else {
		STEP(r, i, t, 1,
		     quota_commit(a, r->rhold[i], 1 + d % 2, NULL, &rcpt_),
		     NOCHECK);
		STEP(r, i, t, 1,
		     quota_reverse_receipt(a, r->rhold[i], t + 20, &rcpt_),
		     NOCHECK);
	}
	/* R25: some of those days a block with a hold open; new business
	 * is refused, earlier business and money go on; unblocked again. */
	if (d % 4 != i % 4)
		return;
	STEP(r, i, t, 1, reserve_r(r, i, r->cat[3], 5, t + 30, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0,
	     quota_account_block(a, i % 2 ? "non-compliant content" : NULL,
				 t + 40),
	     NOCHECK);
	STEP(r, i, t, 0, quota_account_block(a, "again", t + 41), NOCHECK);
	STEP(r, i, t, 0, blocked(a), NOCHECK);
	STEP(r, i, t, 1, charge(a, r->cat[0], 3, t + 50, 0, &rcpt_), NOCHECK);
	STEP(r, i, t, 1, charge(a, r->cat[4], 3, t + 50, 1, &rcpt_), NOCHECK);
	STEP(r, i, t, 1,
	     reserve_k(r, i, r->cat[0], 3, t + 50, TU_HOUR, NULL, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0, buy(r, i, t + 60), NOCHECK);
	STEP(r, i, t, 1, quota_commit(a, r->rhold[i], 4, NULL, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0, quota_account_topup(a, 1000, t + 70), NOCHECK);
	if (i % 2) /* the hourly ones (daily ones settle at a day's end) */
		STEP(r, i, t, 0, settle(r, i, t + 80), NOCHECK);
	STEP(r, i, t, 0, tick(r, i, t + 90), NOCHECK);
	STEP(r, i, t, 0, quota_account_unblock(a, t + 100), NOCHECK);
	STEP(r, i, t, 0, quota_account_unblock(a, t + 101), NOCHECK);
	STEP(r, i, t, 0, blocked(a), NOCHECK);
}

static void scenario(run *r, int days)
{
	int i, k, d;
	char id[64];

	STEP(r, -1, 0, 0, quota_ctx_new_with(&r->al.a, &r->ctx), {
		ck_assert_ptr_null(r->ctx);
		ck_assert_int_eq(r->al.live_blocks, 0);
	});
	STEP(r, -1, 0, 0, quota_ctx_set_event_hook(r->ctx, hook, r), NOCHECK);
	for (i = 0; i < NCAT; i++)
		STEP(r, -1, 0, 0,
		     quota_category_add(r->ctx, cat_names[i], &r->cat[i]),
		     ck_assert(notfound_category(r, cat_names[i])));
	for (i = 0; i < NTAR; i++) {
		quota_tariff *t = NULL;

		STEP(r, -1, 0, 0, quota_tariff_new(r->ctx, tariff_names[i], &t),
		     {
			     ck_assert_ptr_null(t);
			     ck_assert(notfound_tariff(r, tariff_names[i]));
		     });
		r->tar[r->ntar++] = t;
	}
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], 1000, 8000), NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], 10000, 6000),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], QUOTA_UNLIMITED, 4000),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_free(r->tar[0], 50, QUOTA_PERIOD_DAY),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[1], 10000, 100), NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[1], QUOTA_UNLIMITED, 50),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_mode(r->tar[1], QUOTA_VOLUME),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_free(r->tar[1], 2000, QUOTA_PERIOD_LIFETIME),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_free_daily_limit(r->tar[1], 200),
	     NOCHECK);
	for (k = 0; k < 20; k++)
		STEP(r, -1, 0, 0,
		     quota_tariff_add_tier(r->tar[2], 100 * (k + 1), 1000 - 40 * k),
		     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_failure_fee(r->tar[0], 150),
	     NOCHECK);
	r27_config_steps(r);
	{
		quota_offer_spec os;

		memset(&os, 0, sizeof os);
		os.id = "promo-200";
		os.categories = QUOTA_MASK(r->cat[0]) | QUOTA_MASK(r->cat[3]);
		os.units = 200;
		os.price_micros = 900000;
		os.valid_days = 9;
		os.valid_months = 1;
		STEP(r, -1, 0, 0, quota_offer_add(r->ctx, &os, &r->offer), {
			ck_assert_ptr_null(r->offer);
			ck_assert(notfound_offer(r, "promo-200"));
		});
	}

	/* R26: the system's Berlin (the scenario crosses 2024-03-31, a day
	 * of 23 hours there), read and decoded under the faults. */
	STEP(r, -1, 0, 0, quota_zone_load(r->ctx, "Europe/Berlin", &r->zone), {
		quota_zone *z_;

		ck_assert_ptr_null(r->zone);
		ck_assert_int_eq(quota_zone_find(r->ctx, "Europe/Berlin", &z_),
				 QUOTA_ENOTFOUND);
	});

	for (i = 0; i < NACC; i++) {
		quota_account *a = NULL;

		STEP(r, -1, 0, 0, quota_account_new(r->ctx, acct_names[i], &a), {
			ck_assert_ptr_null(a);
			ck_assert(notfound_account(r, acct_names[i]));
		});
		r->acc[r->nacc++] = a;
		STEP(r, i, T_REF, 0,
		     quota_account_set_utc_offset(a, acct_offsets[i]), NOCHECK);
		if (i == 1 || i == 4) /* R26: these follow Berlin's rules */
			STEP(r, i, T_REF, 0, quota_account_set_zone(a, r->zone),
			     NOCHECK);
		for (k = 0; k < 3; k++)
			STEP(r, i, T_REF, 0,
			     quota_account_set_tariff(a, r->cat[k], r->tar[0]),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_tariff(a, r->cat[3], r->tar[1]), NOCHECK);
		if (i % 2 == 0)
			STEP(r, i, T_REF, 0,
			     quota_account_set_tariff(a, r->cat[4], r->tar[2]),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_cap(a, r->cat[0], QUOTA_PERIOD_DAY, 400),
		     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					   6000),
		     NOCHECK);
		if (i % 2 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_overage(a, r->cat[2],
						       QUOTA_OVERAGE_STOP),
			     NOCHECK);
		/* R11 windows: small ones forget keys by count and age. */
		if (i % 3 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_key_window(a, 4, 30 * TU_DAY),
			     NOCHECK);
		else if (i % 3 == 2)
			STEP(r, i, T_REF, 0,
			     quota_account_set_key_window(a, 1000, 3 * TU_DAY),
			     NOCHECK);
		/* R21 */
		STEP(r, i, T_REF, 0,
		     quota_account_set_expiry_warning(a, 2 * TU_DAY), NOCHECK);
		/* R17-R19: hourly or daily settlement, some credit, a first
		 * top-up small enough that some accounts get suspended. */
		STEP(r, i, T_REF, 0,
		     quota_account_set_settlement(
			     a, i % 2 ? QUOTA_PERIOD_HOUR : QUOTA_PERIOD_DAY,
			     i % 3 ? 10000 : 1000000, i % 4),
		     NOCHECK);
		if (i % 3 == 0)
			STEP(r, i, T_REF, 0,
			     quota_account_set_credit_limit(a, 3000000),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_topup(a, 400000 * (i + 1), T_REF), NOCHECK);
		/* R24: gift money, some of it expiring, and some accounts
		 * paying cash first (purchases on credit too). */
		STEP(r, i, T_REF, 0,
		     quota_gift_grant(a, 300000 * (i + 1),
				      i % 2 ? QUOTA_NEVER : T_REF + 20 * TU_DAY,
				      T_REF),
		     NOCHECK);
		if (i % 2 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_pay_order(
				     a, QUOTA_PAY_CASH_FIRST,
				     QUOTA_PAY_CREDIT_PURCHASES),
			     NOCHECK);
		for (k = 0; k < 3; k++)
			STEP(r, i, T_REF, 0,
			     quota_account_add_alert(a, r->cat[k % 2],
						     k == 2 ? 50 : 10 + 10 * k,
						     k == 1 ? QUOTA_ALERT_UNITS
							    : QUOTA_ALERT_PERCENT),
			     NOCHECK);
		/* acme gets many packages so its table grows several times */
		for (k = 0; k < (i == 0 ? 12 : 2 + i); k++) {
			int64_t eff = tu_utc(2024, 1, 10, 0, 0, 0) +
				      (k - 3) * 5 * TU_DAY;
			int64_t exp = k % 5 == 4 ? QUOTA_NEVER
						 : eff + (30 + 10 * k) * TU_DAY;
			uint64_t mask = k % 3 == 0
						? QUOTA_MASK(r->cat[0]) |
							  QUOTA_MASK(r->cat[1])
					: k % 3 == 1 ? QUOTA_MASK(r->cat[2])
						     : QUOTA_MASK(r->cat[3]) |
							       QUOTA_MASK(r->cat[4]);

			snprintf(id, sizeof id, "%s-pkg-%02d", acct_names[i], k);
			STEP(r, i, eff, 0,
			     add_package(r->acc[i], id, mask, 100 + 37 * k, eff,
					 exp,
					 k == 7 ? QUOTA_PACKAGE_STOP : 0,
					 k % 3 - 1),
			     ck_assert(notfound_package(r->acc[i], id)));
		}
	}

	/* ~1.5 days apart: the counters see many days and three months. */
	for (d = 0; d < days; d++) {
		int64_t base = tu_utc(2024, 1, 25, 6, 0, 0) + d * 37 * TU_HOUR;

		for (i = 0; i < NACC; i++) {
			quota_account *a = r->acc[i];
			int64_t at = base + i * TU_HOUR;
			int64_t late = at - 20 * TU_DAY;

			STEP(r, i, at, 1,
			     charge(a, r->cat[0], 10 + (d * 7 + i) % 90, at, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[3], 150 + 10 * (d % 5), at, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[2], 30 + d % 50, at + 60, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[4], 40 + 13 * i, at + 120, 1,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[4], 40 + 13 * i, at + 120, 0,
				    &rcpt_),
			     NOCHECK);
			if (d % 5 == 2)
				STEP(r, i, late, 1,
				     charge(a, r->cat[1], 25, late, 0, &rcpt_),
				     NOCHECK);
			hold_steps(r, i, d, at);
			if (r->aborted) /* STEP returned from hold_steps */
				return;
			r25_r27_steps(r, i, d, at);
			if (r->aborted)
				return;
			if (d % 4 == 1)
				STEP(r, i, at, 0, buy(r, i, at + 300), NOCHECK);
			if (d % 3 == 2)
				STEP(r, i, at, 0, settle(r, i, at + 400),
				     NOCHECK);
			if (d % 5 == 4)
				STEP(r, i, at, 0,
				     quota_account_topup(a, 1500000, at),
				     NOCHECK);
			if (d % 6 == 1) /* R24: grants that expire in 3 days */
				STEP(r, i, at, 0,
				     quota_gift_grant(a, 700000,
						      at + 3 * TU_DAY, at),
				     NOCHECK);
			/* §7: pruning (a failed one drops nothing); later
			 * late charges and reports before it: QUOTA_EPRUNED. */
			if (d % 9 == 8)
				STEP(r, i, at, 0,
				     quota_account_prune(
					     a, at - 12 * TU_DAY,
					     i % 2 ? QUOTA_PRUNE_ALL
						   : QUOTA_PRUNE_LEDGER),
				     NOCHECK);
			if (d % 7 == 3)
				STEP(r, i, at, 0,
				     quota_report_csv(a,
						      d % 2 ? QUOTA_PERIOD_HOUR
							    : QUOTA_PERIOD_DAY,
						      at - 10 * TU_DAY, at,
						      count_bytes, r),
				     NOCHECK);
		}
		if (d % 6 == 5)
			STEP(r, -1, 0, 0, tick(r, -1, base + 30 * TU_HOUR),
			     NOCHECK);
	}
}

/* Run the scenario once in the given mode; return allocations failed. */
static long run_once(run *r, int mode, long n, int days)
{
	memset(r, 0, sizeof *r);
	tu_alloc_init(&r->al);
	r->mode = mode;
	if (mode == MODE_SINGLE)
		tu_alloc_fail_in(&r->al, n);
	else if (mode == MODE_PERSISTENT) {
		r->al.fail_at = n;
		r->al.fail_rest = 1;
	}
	scenario(r, days);
	if (mode == MODE_REF) {
		ref_nsteps = r->step;
		ref_events = r->events;
		ref_hook_failed = r->hook_failed;
		ref_bills = r->bills;
		ref_billed = r->billed;
		ref_report_bytes = r->report_bytes;
		ck_assert_uint_eq(quota_ctx_hook_failures(r->ctx),
				  (uint64_t)r->hook_failed);
		world_take(r, &w_ref_end, -1, 0);
	} else if (!r->aborted) {
		ck_assert_int_eq(r->step, ref_nsteps);
		ck_assert_msg(r->events == ref_events,
			      "N=%ld: %ld events, fault-free run %ld", n,
			      r->events, ref_events);
		ck_assert_uint_eq(quota_ctx_hook_failures(r->ctx),
				  (uint64_t)ref_hook_failed);
		ck_assert_int_eq(r->bills, ref_bills);
		ck_assert_int_eq(r->billed, ref_billed);
		ck_assert_int_eq(r->report_bytes, ref_report_bytes);
		tu_alloc_disarm(&r->al);
		world_take(r, &w_end, -1, 0);
		world_assert_eq(r, &w_ref_end, &w_end);
	}
	quota_ctx_free(r->ctx);
	ck_assert_msg(r->al.live_blocks == 0,
		      "N=%ld: %ld blocks (%zu bytes) leaked", n,
		      r->al.live_blocks, r->al.live_bytes);
	ck_assert_int_eq(r->al.bad_frees, 0);
	return r->al.failures;
}

static int scenario_days(void)
{
	return tu_quick() ? 8 : 40;
}

static run R;

START_TEST(test_fault_sweep_single_failure)
{
	long n, total, surfaced = 0;

	run_once(&R, MODE_REF, 0, scenario_days());
	total = R.al.attempts;
	ck_assert_int_gt(total, 30);
	for (n = 1;; n++) {
		long failed = run_once(&R, MODE_SINGLE, n, scenario_days());

		if (failed == 0)
			break;
		ck_assert_int_eq(failed, 1);
		ck_assert_int_le(R.enomem, 1);
		surfaced += R.enomem;
		ck_assert_int_le(n, total + 1);
	}
	ck_assert_int_eq(n, total + 1);
	fprintf(stderr,
		"check_faults: single: %ld allocations, %ld failures "
		"surfaced as QUOTA_ENOMEM, %d steps\n",
		total, surfaced, ref_nsteps);
}
END_TEST

START_TEST(test_fault_sweep_persistent_failure)
{
	long n, total, stopped = 0;

	run_once(&R, MODE_REF, 0, scenario_days());
	total = R.al.attempts;
	for (n = 1;; n++) {
		long failed = run_once(&R, MODE_PERSISTENT, n, scenario_days());

		if (failed == 0)
			break;
		stopped += R.aborted;
		ck_assert_int_le(n, total + 1);
	}
	ck_assert_int_eq(n, total + 1);
	fprintf(stderr,
		"check_faults: persistent: %ld allocations, %ld runs "
		"stopped by QUOTA_ENOMEM\n",
		total, stopped);
}
END_TEST

/* No ENOMEM and no leak when nothing fails, for a context used and freed
 * repeatedly (the counting allocator itself is sane). */
START_TEST(test_fault_free_run_no_leak)
{
	long count[32] = {0};
	int i;

	run_once(&R, MODE_REF, 0, scenario_days());
	for (i = 0; i < ref_nsteps; i++)
		if (ref_rc[i] <= 0 && ref_rc[i] > -32)
			count[-ref_rc[i]]++;
		else if (ref_rc[i] > 0) /* ticks: holds released */
			count[0]++;
	fprintf(stderr,
		"check_faults: scenario of %d steps: %ld ok, %ld ECAP, "
		"%ld EEXHAUSTED, %ld ENOTFOUND, %ld ERESOLVED, %ld ESUSPENDED, "
		"%ld EFUNDS, %ld EPRUNED, %ld EBLOCKED, %ld EREVERSED, "
		"%ld EINVAL; %ld events (%ld hook failures); "
		"%ld bills, %ld CSV bytes\n",
		ref_nsteps, count[0], count[-QUOTA_ECAP],
		count[-QUOTA_EEXHAUSTED], count[-QUOTA_ENOTFOUND],
		count[-QUOTA_ERESOLVED], count[-QUOTA_ESUSPENDED],
		count[-QUOTA_EFUNDS], count[-QUOTA_EPRUNED],
		count[-QUOTA_EBLOCKED], count[-QUOTA_EREVERSED],
		count[-QUOTA_EINVAL], ref_events, ref_hook_failed, ref_bills,
		ref_report_bytes);
	ck_assert_int_eq(count[0] + count[-QUOTA_ECAP] +
				 count[-QUOTA_EEXHAUSTED] +
				 count[-QUOTA_ENOTFOUND] +
				 count[-QUOTA_ERESOLVED] +
				 count[-QUOTA_ESUSPENDED] +
				 count[-QUOTA_EFUNDS] + count[-QUOTA_EPRUNED] +
				 count[-QUOTA_EBLOCKED] +
				 count[-QUOTA_EREVERSED] + count[-QUOTA_EINVAL],
			 ref_nsteps);
	/* Issue 15: the blocked accounts refused new business (R25). */
	ck_assert_int_gt(count[-QUOTA_EBLOCKED], 0);
	ck_assert_int_gt(ref_bills, 0);
	if (!tu_quick()) /* the 8-day quick run ends before any suspension */
		ck_assert_int_gt(count[-QUOTA_ESUSPENDED], 0);
	ck_assert_int_gt(count[0], ref_nsteps * 3 / 4);
	ck_assert_int_gt(ref_events, 0);
	ck_assert_int_eq(R.enomem, 0);
	ck_assert_int_eq(R.al.failures, 0);
	ck_assert_int_gt((long)R.al.peak_bytes, 0);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_fault_free_run_no_leak);
	tcase_add_test(tc, test_fault_sweep_single_failure);
	tcase_add_test(tc, test_fault_sweep_persistent_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_suite());
}
