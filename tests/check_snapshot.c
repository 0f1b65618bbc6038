/*
 * check_snapshot.c - account snapshots (DESIGN §5): quota_account_snapshot,
 * quota_account_load, quota_account_reset, quota_free.
 *
 * Invariants: snapshot(load(snapshot(a))) == snapshot(a) byte for byte
 * for an account in every kind of state (packages of several priorities
 * and expiries, charges in several hours, days and months, free tiers,
 * caps, holds open and resolved, keys in the window, reversed ones too,
 * settlement with a bill outstanding, suspension, alerts, expiry
 * warnings, top-ups and credit limits); every query answers the same on
 * the copy; the same further calls on the original and the copy give the
 * same receipts and the same snapshots.  Bad input: every truncation and
 * every single-bit flip is refused (QUOTA_ECORRUPT, or QUOTA_EVERSION for
 * the major version byte) and creates nothing; a newer major is
 * QUOTA_EVERSION; an unknown tariff QUOTA_ENOTFOUND; an existing id
 * QUOTA_EEXISTS.  Allocation failure N, for every N, in all three calls:
 * QUOTA_ENOMEM and nothing changed, nothing leaked.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"

#define T0 tu_utc(2024, 5, 15, 10, 0, 0)
#define ACCT "acme"

/* A context as the scenario's: allocator, categories, tariffs. */
typedef struct world {
	tu_alloc al;
	quota_ctx *ctx;
	uint32_t sms, email, push;
	quota_tariff *grad, *vol, *life;
} world;

static void world_init(world *w, int with_vol)
{
	tu_alloc_init(&w->al);
	ck_assert_int_eq(quota_ctx_new_with(&w->al.a, &w->ctx), QUOTA_OK);
	w->sms = add_cat(w->ctx, "sms");
	w->email = add_cat(w->ctx, "email");
	w->push = add_cat(w->ctx, "push");
	w->grad = add_tariff(w->ctx, "grad");
	ck_assert_int_eq(quota_tariff_add_tier(w->grad, 300, 20000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(w->grad, 1000, 15000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(w->grad, QUOTA_UNLIMITED, 9000),
			 0);
	ck_assert_int_eq(quota_tariff_set_free(w->grad, 100, QUOTA_PERIOD_MONTH),
			 0);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(w->grad, 20), 0);
	ck_assert_int_eq(quota_tariff_set_failure_fee(w->grad, 700), 0);
	w->vol = NULL;
	if (with_vol) {
		w->vol = add_tariff(w->ctx, "vol");
		ck_assert_int_eq(quota_tariff_set_mode(w->vol, QUOTA_VOLUME), 0);
		ck_assert_int_eq(quota_tariff_add_tier(w->vol, 50, 3000), 0);
		ck_assert_int_eq(
			quota_tariff_add_tier(w->vol, QUOTA_UNLIMITED, 1000), 0);
	}
	w->life = add_tariff(w->ctx, "life");
	ck_assert_int_eq(quota_tariff_add_tier(w->life, QUOTA_UNLIMITED, 4000),
			 0);
	ck_assert_int_eq(
		quota_tariff_set_free(w->life, 50, QUOTA_PERIOD_LIFETIME), 0);
}

static void world_free(world *w)
{
	quota_ctx_free(w->ctx);
	ck_assert_int_eq(w->al.live_blocks, 0);
	ck_assert_int_eq(w->al.bad_frees, 0);
}

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	return quota_charge(a, &u, r);
}

static int reserve(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		   int64_t timeout, const char *key, quota_receipt *r,
		   uint64_t *id)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	return quota_reserve(a, &u, timeout, r, id);
}

/*
 * The scenario: an account in every kind of state.  stage 0 stops
 * before settlement (nothing owed), 1 goes on to a bill left outstanding
 * and a suspended account.
 */
static quota_account *build(world *w, int stage)
{
	quota_account *a = add_acct(w->ctx, ACCT);
	quota_receipt r;
	uint64_t hid[8];
	char key[32];
	int i;

	ck_assert_int_eq(quota_account_set_utc_offset(a, 2 * 3600), 0);
	ck_assert_int_eq(quota_account_set_tariff(a, w->sms, w->grad), 0);
	ck_assert_int_eq(quota_account_set_tariff(a, w->email, w->vol), 0);
	ck_assert_int_eq(quota_account_set_tariff(a, w->push, w->life), 0);
	ck_assert_int_eq(quota_account_set_cap(a, w->sms, QUOTA_PERIOD_DAY,
					       5000), 0);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 100000), 0);
	ck_assert_int_eq(quota_account_set_overage(a, w->push,
						   QUOTA_OVERAGE_STOP), 0);
	ck_assert_int_eq(quota_account_set_key_window(a, 1000, 40 * TU_DAY), 0);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_DAY,
						      10000, QUOTA_ROUND_HALF_EVEN),
			 0);
	ck_assert_int_eq(quota_account_topup(a, 3000000, T0 - TU_DAY), 0);
	ck_assert_int_eq(quota_account_set_credit_limit(a, 200000), 0);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 3 * TU_DAY), 0);
	add_pkg(a, "p1", QUOTA_MASK(w->sms), 500, T0 - TU_DAY, T0 + 30 * TU_DAY,
		0, 0);
	add_pkg(a, "p2", QUOTA_MASK(w->sms) | QUOTA_MASK(w->email), 1000, T0,
		T0 + 60 * TU_DAY, 0, 1);
	add_pkg(a, "promo", QUOTA_MASK(w->sms), 200, T0 + 2 * TU_DAY,
		QUOTA_NEVER, 0, -1);
	add_pkg(a, "push", QUOTA_MASK(w->push), 50, T0, T0 + 10 * TU_DAY,
		QUOTA_PACKAGE_STOP, 0);
	add_pkg(a, "old", QUOTA_MASK(w->email), 100, T0 - 10 * TU_DAY,
		T0 - TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0), 0);
	ck_assert_int_eq(quota_account_add_alert(a, w->sms, 300,
						 QUOTA_ALERT_UNITS), 0);
	ck_assert_int_eq(quota_account_add_alert(a, w->email, 50,
						 QUOTA_ALERT_PERCENT), 0);
	/* Charges over hours, days and a month boundary. */
	for (i = 0; i < 40; i++) {
		int64_t at = T0 + i * 7 * TU_HOUR + i * 13 * 60;
		uint32_t cat = i % 3 == 0 ? w->sms : i % 3 == 1 ? w->email
							      : w->push;
		int64_t units = cat == w->push ? 3 : 5 + (i * 37) % 90;

		snprintf(key, sizeof key, "c-%d", i);
		ck_assert_int_eq(charge(a, cat, units, at,
					i % 4 ? key : NULL, &r), 0);
	}
	/* A late report for a day already passed. */
	ck_assert_int_eq(charge(a, w->sms, 11, T0 + 3600, "late", &r), 0);
	/* Holds: committed whole, in part, released (fee), left open, one
	 * to time out. */
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof key, "h-%d", i);
		ck_assert_int_eq(reserve(a, i % 2 ? w->email : w->sms,
					 40 + 10 * i, T0 + 12 * TU_DAY + i * 60,
					 i == 5 ? 600 : 3 * TU_DAY,
					 i % 2 ? key : NULL, &r, &hid[i]),
				 0);
	}
	ck_assert_int_eq(quota_commit(a, hid[0], 40, NULL, &r), 0);
	ck_assert_int_eq(quota_commit(a, hid[1], 20, "commit-1", &r), 0);
	ck_assert_int_eq(quota_release(a, hid[2], "release-2", &r), 0);
	ck_assert_int_eq(quota_account_tick(a, T0 + 12 * TU_DAY + 3600), 1);
	/* Reversals, by key: a charge and a commit. */
	ck_assert_int_eq(quota_reverse(a, "c-1", T0 + 12 * TU_DAY, &r), 0);
	ck_assert_int_eq(quota_reverse(a, "commit-1", T0 + 12 * TU_DAY, &r), 0);
	/* Into the next month. */
	ck_assert_int_eq(charge(a, w->sms, 900, T0 + 20 * TU_DAY, "big", &r),
			 0);
	ck_assert_int_eq(charge(a, w->email, 70, T0 + 20 * TU_DAY + 60, NULL,
				&r), 0);
	if (stage < 1)
		return a;
	/* Settle what is complete: the bills eat the balance, then one
	 * cannot be paid and the account is suspended. */
	ck_assert_int_ge(quota_settle(a, T0 + 15 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(charge(a, w->sms, 2500, T0 + 16 * TU_DAY, "huge", &r),
			 0);
	ck_assert_int_ge(quota_settle(a, T0 + 22 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(quota_account_suspended(a), 1);
	return a;
}

static void snap(const quota_account *a, void **p, size_t *n)
{
	ck_assert_int_eq(quota_account_snapshot(a, p, n), QUOTA_OK);
	ck_assert_ptr_nonnull(*p);
	ck_assert_uint_gt(*n, 14);
}

static void assert_same_snap(const quota_account *x, const quota_account *y)
{
	void *p, *q;
	size_t n, m;

	snap(x, &p, &n);
	snap(y, &q, &m);
	ck_assert_uint_eq(n, m);
	ck_assert_msg(memcmp(p, q, n) == 0, "snapshots differ");
	quota_free(quota_account_ctx(x), p);
	quota_free(quota_account_ctx(y), q);
}

/* Receipts equal, package lines by package id, a replay as a replay. */
static void assert_same_receipt(const quota_receipt *x, const quota_receipt *y)
{
	receipts_agree(x, y, true);
	ck_assert_int_eq(x->replayed, y->replayed);
}

typedef struct sbuf {
	char b[65536];
	size_t n;
} sbuf;

static int sbuf_write(const char *s, size_t n, void *ud)
{
	sbuf *b = ud;

	if (n > sizeof b->b - b->n)
		return 1;
	memcpy(b->b + b->n, s, n);
	b->n += n;
	return 0;
}

/* Every query answers the same on x and y. */
static void assert_same_queries(const quota_account *x, const quota_account *y)
{
	static const int periods[3] = {QUOTA_PERIOD_HOUR, QUOTA_PERIOD_DAY,
				       QUOTA_PERIOD_MONTH};
	int64_t times[4] = {T0 - TU_DAY, T0 + 5 * TU_DAY, T0 + 13 * TU_DAY,
			    T0 + 40 * TU_DAY};
	static tu_snap s1, s2;
	static sbuf c1, c2;
	uint32_t i;
	int j;

	tu_snap_take(&s1, x, times, 4);
	tu_snap_take(&s2, y, times, 4);
	TU_ASSERT_SNAP_EQ(&s1, &s2);
	ck_assert_uint_eq(quota_account_package_count(x),
			  quota_account_package_count(y));
	for (i = 0; i < quota_account_package_count(x); i++) {
		quota_package_spec p, q;

		ck_assert_int_eq(quota_package_get_spec(
					 quota_account_package_at(x, i), &p), 0);
		ck_assert_int_eq(quota_package_get_spec(
					 quota_account_package_at(y, i), &q), 0);
		ck_assert_str_eq(p.id, q.id);
		ck_assert_int_eq(p.units, q.units);
		ck_assert_int_eq(p.expires_at, q.expires_at);
	}
	for (j = 0; j < 3; j++) {
		c1.n = c2.n = 0;
		ck_assert_int_eq(quota_report_csv(x, periods[j], T0 - 30 * TU_DAY,
						  T0 + 90 * TU_DAY, sbuf_write,
						  &c1), 0);
		ck_assert_int_eq(quota_report_csv(y, periods[j], T0 - 30 * TU_DAY,
						  T0 + 90 * TU_DAY, sbuf_write,
						  &c2), 0);
		ck_assert_uint_eq(c1.n, c2.n);
		ck_assert(memcmp(c1.b, c2.b, c1.n) == 0);
	}
}

/* The same calls on x and y: equal results and receipts throughout. */
static void same_ops(quota_account *x, quota_account *y, const world *w)
{
	quota_account *acc[2] = {x, y};
	quota_receipt r[2];
	int64_t v[2];
	uint64_t hid[2][4];
	int k, i;

#define BOTH(expr)                                                    \
	do {                                                          \
		for (k = 0; k < 2; k++) {                             \
			quota_account *a = acc[k];                    \
			memset(&r[k], 0, sizeof r[k]);                \
			v[k] = (expr);                                \
		}                                                     \
		ck_assert_int_eq(v[0], v[1]);                         \
		assert_same_receipt(&r[0], &r[1]);                    \
	} while (0)

	BOTH(quota_account_topup(a, 5000000, T0 + 23 * TU_DAY));
	BOTH(charge(a, w->sms, 30, T0 + 23 * TU_DAY, "again-1", &r[k]));
	BOTH(charge(a, w->sms, 30, T0 + 23 * TU_DAY, "again-1", &r[k]));
	BOTH(charge(a, w->sms, 7, T0 + 3 * TU_DAY, "c-3", &r[k])); /* replay */
	BOTH(charge(a, w->email, 12, T0 + 23 * TU_DAY + 5, NULL, &r[k]));
	BOTH(charge(a, w->push, 60, T0 + 23 * TU_DAY, NULL, &r[k]));
	BOTH(charge(a, w->push, 2, T0 + 5 * TU_DAY, NULL, &r[k]));
	for (i = 0; i < 4; i++)
		BOTH(reserve(a, i % 2 ? w->email : w->sms, 25 + i,
			     T0 + 23 * TU_DAY + 100 * i, 7200, NULL, &r[k],
			     &hid[k][i]));
	BOTH(quota_commit(a, hid[k][0], 25, NULL, &r[k]));
	BOTH(quota_commit(a, hid[k][1], 3, "cm", &r[k]));
	BOTH(quota_release(a, hid[k][2], NULL, &r[k]));
	BOTH(quota_commit(a, 4, 10, NULL, &r[k])); /* open since the build */
	BOTH(quota_account_tick(a, T0 + 24 * TU_DAY));
	BOTH(quota_reverse(a, "c-5", T0 + 24 * TU_DAY, &r[k]));
	BOTH(quota_reverse(a, "cm", T0 + 24 * TU_DAY, &r[k]));
	BOTH(quota_reverse(a, "c-1", T0 + 24 * TU_DAY, &r[k])); /* twice */
	BOTH(quota_settle(a, T0 + 26 * TU_DAY, NULL, NULL));
	BOTH(charge(a, w->sms, 3000, T0 + 45 * TU_DAY, NULL, &r[k]));
	BOTH(charge(a, w->email, 400, T0 + 45 * TU_DAY + 3600, "e", &r[k]));
	BOTH(quota_account_tick(a, T0 + 70 * TU_DAY));
	BOTH(quota_settle(a, T0 + 75 * TU_DAY, NULL, NULL));
	BOTH(charge(a, w->sms, 5, T0 + 75 * TU_DAY, NULL, &r[k]));
#undef BOTH
}

/* A copy of a in a context of its own (w2), through a snapshot. */
static quota_account *copy_of(const quota_account *a, world *w2)
{
	quota_account *b = NULL;
	void *p;
	size_t n;

	snap(a, &p, &n);
	ck_assert_int_eq(quota_account_load(w2->ctx, p, n, &b), QUOTA_OK);
	ck_assert_ptr_nonnull(b);
	quota_free(quota_account_ctx(a), p);
	return b;
}

START_TEST(test_roundtrip_byte_for_byte)
{
	int stage = _i;
	world w, w2;
	quota_account *a, *b;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, stage);
	b = copy_of(a, &w2);
	assert_same_snap(a, b);
	assert_same_queries(a, b);
	ck_assert_str_eq(quota_account_id(b), ACCT);
	world_free(&w);
	world_free(&w2);
}
END_TEST

START_TEST(test_same_calls_same_receipts_and_snapshots)
{
	int stage = _i;
	world w, w2;
	quota_account *a, *b;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, stage);
	b = copy_of(a, &w2);
	same_ops(a, b, &w);
	assert_same_queries(a, b);
	assert_same_snap(a, b);
	world_free(&w);
	world_free(&w2);
}
END_TEST

static int ev_count;
static int count_events(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	ev_count++;
	return 0;
}

/* With an event hook: loading fires nothing; the copy then raises the
 * same events for the same calls. */
START_TEST(test_events_after_load)
{
	world w, w2;
	quota_account *a, *b;
	int before, ea, eb;
	quota_receipt r;

	world_init(&w, 1);
	world_init(&w2, 1);
	ck_assert_int_eq(quota_ctx_set_event_hook(w.ctx, count_events, NULL), 0);
	ck_assert_int_eq(quota_ctx_set_event_hook(w2.ctx, count_events, NULL),
			 0);
	a = build(&w, 1);
	before = ev_count;
	b = copy_of(a, &w2);
	ck_assert_int_eq(ev_count, before);
	ev_count = 0;
	ck_assert_int_eq(charge(a, w.sms, 600, T0 + 21 * TU_DAY, NULL, &r),
			 QUOTA_ESUSPENDED);
	ck_assert_int_eq(quota_account_topup(a, INT64_C(900000000000), T0 + 21 * TU_DAY), 0);
	ck_assert_int_eq(charge(a, w.sms, 600, T0 + 21 * TU_DAY, NULL, &r), 0);
	ck_assert_int_ge(quota_account_tick(a, T0 + 90 * TU_DAY), 0);
	ea = ev_count;
	ev_count = 0;
	ck_assert_int_eq(charge(b, w2.sms, 600, T0 + 21 * TU_DAY, NULL, &r),
			 QUOTA_ESUSPENDED);
	ck_assert_int_eq(quota_account_topup(b, INT64_C(900000000000), T0 + 21 * TU_DAY), 0);
	ck_assert_int_eq(charge(b, w2.sms, 600, T0 + 21 * TU_DAY, NULL, &r), 0);
	ck_assert_int_ge(quota_account_tick(b, T0 + 90 * TU_DAY), 0);
	eb = ev_count;
	ck_assert_int_gt(ea, 0);
	ck_assert_int_eq(ea, eb);
	assert_same_snap(a, b);
	world_free(&w);
	world_free(&w2);
}
END_TEST

/* §5, R21: an account's snapshot is the same whether or not an event
 * hook is set: a low-quota alert crossed with a hook (disarmed, its event
 * fired) and without one (no tracking) snapshot alike, before and after
 * the alert is lifted again, so a replay without the hook compares
 * equal to the live account with it. */
START_TEST(test_snapshot_same_with_or_without_hook)
{
	quota_ctx *c[2];
	quota_account *a[2];
	quota_receipt r;
	int i;

	ev_count = 0;
	for (i = 0; i < 2; i++) {
		uint32_t sms;

		c[i] = new_ctx();
		if (i)
			ck_assert_int_eq(quota_ctx_set_event_hook(
						 c[i], count_events, NULL),
					 QUOTA_OK);
		sms = add_cat(c[i], "sms");
		a[i] = add_acct(c[i], "a");
		add_pkg(a[i], "p", QUOTA_MASK(sms), 10, T0 - TU_DAY,
			T0 + 30 * TU_DAY, 0, 0);
		ck_assert_int_eq(quota_account_tick(a[i], T0), QUOTA_OK);
		ck_assert_int_eq(quota_account_add_alert(a[i], sms, 5,
							 QUOTA_ALERT_UNITS),
				 QUOTA_OK);
		ck_assert_int_eq(charge(a[i], sms, 6, T0 + 10, NULL, &r),
				 QUOTA_OK);
	}
	ck_assert_int_eq(ev_count, 1); /* the hooked one's LOW_QUOTA */
	assert_same_snap(a[0], a[1]);
	for (i = 0; i < 2; i++)
		add_pkg(a[i], "q", QUOTA_MASK(0), 10, T0 - TU_DAY,
			T0 + 30 * TU_DAY, 0, 0);
	assert_same_snap(a[0], a[1]);
	quota_ctx_free(c[0]);
	quota_ctx_free(c[1]);
}
END_TEST

/* reset: back to an earlier state in place; the handle stays valid, the
 * sequence number comes from the snapshot, the unsynced mark goes. */
START_TEST(test_reset_in_place)
{
	world w, w2;
	quota_account *a, *b, *found;
	void *early;
	size_t n;
	quota_receipt r;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, 0);
	snap(a, &early, &n);
	b = copy_of(a, &w2);
	ck_assert_int_eq(charge(a, w.sms, 77, T0 + 22 * TU_DAY, "x", &r), 0);
	ck_assert_int_ge(quota_settle(a, T0 + 25 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(quota_account_reset(a, early, n), QUOTA_OK);
	ck_assert_int_eq(quota_account_find(w.ctx, ACCT, &found), 0);
	ck_assert_ptr_eq(found, a);
	ck_assert_str_eq(quota_account_id(a), ACCT);
	assert_same_snap(a, b);
	assert_same_queries(a, b);
	same_ops(a, b, &w);
	assert_same_snap(a, b);
	/* Another account's snapshot is refused. */
	{
		quota_account *o = add_acct(w.ctx, "other");
		void *p;
		size_t m;

		snap(o, &p, &m);
		ck_assert_int_eq(quota_account_reset(a, p, m), QUOTA_EINVAL);
		quota_free(w.ctx, p);
	}
	quota_free(w.ctx, early);
	world_free(&w);
	world_free(&w2);
}
END_TEST

START_TEST(test_empty_account_roundtrip)
{
	world w, w2;
	quota_account *a, *b;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = add_acct(w.ctx, "empty");
	b = copy_of(a, &w2);
	assert_same_snap(a, b);
	world_free(&w);
	world_free(&w2);
}
END_TEST

START_TEST(test_bad_arguments)
{
	world w;
	quota_account *a, *out = (quota_account *)&w;
	void *p = &w;
	size_t n = 5;

	world_init(&w, 1);
	a = build(&w, 0);
	ck_assert_int_eq(quota_account_snapshot(NULL, &p, &n), QUOTA_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(quota_account_snapshot(a, NULL, &n), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_snapshot(a, &p, NULL), QUOTA_EINVAL);
	snap(a, &p, &n);
	ck_assert_int_eq(quota_account_load(NULL, p, n, &out), QUOTA_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(quota_account_load(w.ctx, NULL, n, &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_load(w.ctx, p, n, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_reset(NULL, p, n), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_reset(a, NULL, n), QUOTA_EINVAL);
	/* The id exists already. */
	ck_assert_int_eq(quota_account_load(w.ctx, p, n, &out), QUOTA_EEXISTS);
	ck_assert_ptr_null(out);
	quota_free(w.ctx, p);
	quota_free(w.ctx, NULL);
	quota_free(NULL, NULL);
	world_free(&w);
}
END_TEST

/* lib/codec.h: the snapshot's checksum. */
uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

/* Rewrite the header's length and CRC after editing the body. */
static void reseal(uint8_t *p, size_t n)
{
	uint32_t len = (uint32_t)(n - 14), crc;

	crc = quota__crc32c(0, p + 14, n - 14);
	for (int i = 0; i < 4; i++) {
		p[6 + i] = (uint8_t)(len >> (8 * i));
		p[10 + i] = (uint8_t)(crc >> (8 * i));
	}
}

START_TEST(test_truncations_and_bit_flips)
{
	world w, w2;
	quota_account *a, *out;
	uint8_t *p, *q;
	size_t n, i, step = tu_quick() ? 5 : 1;
	long blocks;
	int bit, rc;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, 1);
	snap(a, (void **)&p, &n);
	q = malloc(n);
	ck_assert_ptr_nonnull(q);
	blocks = w2.al.live_blocks;
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(quota_account_load(w2.ctx, p, i, &out),
				 QUOTA_ECORRUPT);
		ck_assert_ptr_null(out);
	}
	/* Trailing bytes. */
	memcpy(q, p, n);
	ck_assert_int_eq(quota_account_load(w2.ctx, p, n - 1, &out),
			 QUOTA_ECORRUPT);
	for (i = 0; i < n; i += step) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(q, p, n);
			q[i] ^= (uint8_t)(1u << bit);
			rc = quota_account_load(w2.ctx, q, n, &out);
			if (i == 4 && bit > 0)
				ck_assert_int_eq(rc, QUOTA_EVERSION);
			else if (i == 5 && q[5] > 5) /* a newer minor */
				ck_assert_int_eq(rc, QUOTA_OK);
			else if (i == 5) /* an older minor: the sections
					    after it are trailing bytes */
				ck_assert_int_eq(rc, QUOTA_ECORRUPT);
			else
				ck_assert_int_eq(rc, QUOTA_ECORRUPT);
			if (rc == QUOTA_OK) {
				void *s2;
				size_t n2;

				snap(out, &s2, &n2);
				ck_assert_uint_eq(n2, n);
				ck_assert(memcmp(s2, p, n) == 0);
				quota_free(w2.ctx, s2);
				quota_ctx_free(w2.ctx);
				world_init(&w2, 1);
				blocks = w2.al.live_blocks;
			}
			if (i == 5 && rc != QUOTA_OK) {
				/* Decoded to the end (the context keeps the
				 * scratch a whole account grew): a fresh one. */
				quota_ctx_free(w2.ctx);
				world_init(&w2, 1);
				blocks = w2.al.live_blocks;
			}
			ck_assert_int_eq(w2.al.live_blocks, blocks);
		}
	}
	ck_assert_int_eq(quota_account_find(w2.ctx, ACCT, &out),
			 QUOTA_ENOTFOUND);
	/* A newer major version. */
	memcpy(q, p, n);
	q[4] = 2;
	ck_assert_int_eq(quota_account_load(w2.ctx, q, n, &out),
			 QUOTA_EVERSION);
	/* A well-sealed body with garbage after it. */
	{
		uint8_t *t = malloc(n + 1);

		memcpy(t, p, n);
		t[n] = 0;
		reseal(t, n + 1);
		ck_assert_int_eq(quota_account_load(w2.ctx, t, n + 1, &out),
				 QUOTA_ECORRUPT);
		t[5] = 200; /* a newer minor may add fields: accepted */
		ck_assert_int_eq(quota_account_load(w2.ctx, t, n + 1, &out),
				 QUOTA_OK);
		free(t);
	}
	free(q);
	quota_free(w.ctx, p);
	world_free(&w);
	world_free(&w2);
}
END_TEST

/* Resealed bodies with one byte changed: whatever happens, no crash, no
 * leak, and an accepted one re-encodes to a fixpoint. */
START_TEST(test_resealed_mutations)
{
	world w, w2;
	quota_account *a, *out;
	uint8_t *p, *q;
	size_t n, i, step = tu_quick() ? 7 : 1;
	int v;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, 1);
	snap(a, (void **)&p, &n);
	q = malloc(n);
	for (i = 14; i < n; i += step) {
		for (v = 0; v < 3; v++) {
			static const uint8_t vals[3] = {0x00, 0x7f, 0xff};
			int rc;

			memcpy(q, p, n);
			q[i] = vals[v];
			reseal(q, n);
			rc = quota_account_load(w2.ctx, q, n, &out);
			ck_assert(rc == QUOTA_OK || rc == QUOTA_ECORRUPT ||
				  rc == QUOTA_ENOTFOUND);
			if (rc == QUOTA_OK) {
				void *s1, *s2;
				size_t n1, n2;
				quota_account *o2;
				world w3;

				snap(out, &s1, &n1);
				world_init(&w3, 1);
				ck_assert_int_eq(quota_account_load(w3.ctx, s1,
								    n1, &o2),
						 0);
				snap(o2, &s2, &n2);
				ck_assert_uint_eq(n1, n2);
				ck_assert(memcmp(s1, s2, n1) == 0);
				quota_free(w2.ctx, s1);
				quota_free(w3.ctx, s2);
				world_free(&w3);
				world_free(&w2);
				world_init(&w2, 1);
			}
		}
	}
	free(q);
	quota_free(w.ctx, p);
	world_free(&w);
	world_free(&w2);
}
END_TEST

START_TEST(test_unknown_tariff_and_category)
{
	world w, w2;
	quota_account *a, *out;
	void *p;
	size_t n;

	world_init(&w, 1);
	world_init(&w2, 0); /* no tariff "vol" */
	a = build(&w, 0);
	snap(a, &p, &n);
	ck_assert_int_eq(quota_account_load(w2.ctx, p, n, &out),
			 QUOTA_ENOTFOUND);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w2.ctx), "vol"));
	ck_assert_int_eq(quota_account_find(w2.ctx, ACCT, &out),
			 QUOTA_ENOTFOUND);
	world_free(&w2);
	/* A context whose categories are named otherwise. */
	{
		quota_ctx *c = new_ctx();

		add_cat(c, "sms");
		add_cat(c, "mail");
		ck_assert_int_eq(quota_account_load(c, p, n, &out),
				 QUOTA_ENOTFOUND);
		quota_ctx_free(c);
	}
	quota_free(w.ctx, p);
	world_free(&w);
}
END_TEST

/* Fail allocation N, for every N, in each of the three calls. */
START_TEST(test_allocation_failures)
{
	world w, w2;
	quota_account *a, *b = NULL, *out;
	void *ref, *early, *p;
	size_t nref, nearly, n;
	long blocks, N;
	int rc;

	world_init(&w, 1);
	world_init(&w2, 1);
	a = build(&w, 0);
	snap(a, &early, &nearly);
	quota_account_tick(a, T0 + 13 * TU_DAY);
	ck_assert_int_ge(quota_settle(a, T0 + 22 * TU_DAY, NULL, NULL), 1);
	snap(a, &ref, &nref);

	/* quota_account_snapshot */
	for (N = 1;; N++) {
		blocks = w.al.live_blocks;
		tu_alloc_fail_in(&w.al, N);
		rc = quota_account_snapshot(a, &p, &n);
		tu_alloc_disarm(&w.al);
		if (rc == QUOTA_OK) {
			ck_assert_uint_eq(n, nref);
			ck_assert(memcmp(p, ref, n) == 0);
			quota_free(w.ctx, p);
			break;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_ptr_null(p);
		ck_assert_int_eq(w.al.live_blocks, blocks);
		assert_same_snap(a, a);
	}
	ck_assert_int_gt(N, 1);
	/* quota_account_load */
	for (N = 1;; N++) {
		blocks = w2.al.live_blocks;
		tu_alloc_fail_in(&w2.al, N);
		rc = quota_account_load(w2.ctx, ref, nref, &b);
		tu_alloc_disarm(&w2.al);
		if (rc == QUOTA_OK)
			break;
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_ptr_null(b);
		ck_assert_int_eq(quota_account_find(w2.ctx, ACCT, &out),
				 QUOTA_ENOTFOUND);
		/* Only the context's account registry may have grown (its
		 * capacity, freed with the context). */
		ck_assert_int_le(w2.al.live_blocks, blocks + 2);
	}
	assert_same_snap(a, b);
	/* quota_account_reset, to the earlier state and back */
	for (N = 1;; N++) {
		tu_alloc_fail_in(&w2.al, N);
		rc = quota_account_reset(b, early, nearly);
		tu_alloc_disarm(&w2.al);
		if (rc == QUOTA_OK)
			break;
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		assert_same_snap(a, b);
	}
	snap(b, &p, &n);
	ck_assert_uint_eq(n, nearly);
	ck_assert(memcmp(p, early, n) == 0);
	quota_free(w2.ctx, p);
	ck_assert_int_eq(quota_account_reset(b, ref, nref), QUOTA_OK);
	assert_same_snap(a, b);
	quota_free(w.ctx, ref);
	quota_free(w.ctx, early);
	world_free(&w);
	world_free(&w2);
}
END_TEST

/*
 * Not a test of the library: with SNAPSHOT_SEEDS=DIR set, write the
 * scenario's snapshots there (the fuzz seed corpus, tests/fuzz/corpus/
 * snapshot, was made this way).
 */
START_TEST(test_write_seeds)
{
	const char *dir = getenv("SNAPSHOT_SEEDS");
	world w;
	int stage;

	if (!dir)
		return;
	for (stage = 0; stage < 3; stage++) {
		quota_account *a;
		char path[512];
		void *p;
		size_t n;
		FILE *f;

		world_init(&w, 1);
		a = stage == 2 ? add_acct(w.ctx, ACCT) : build(&w, stage);
		snap(a, &p, &n);
		snprintf(path, sizeof path, "%s/seed-%d.qsnp", dir, stage);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(p, 1, n, f), n);
		fclose(f);
		quota_free(w.ctx, p);
		world_free(&w);
	}
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *rt = tcase_create("roundtrip");
	TCase *bad = tcase_create("bad_input");
	TCase *fault = tcase_create("faults");

	tcase_set_timeout(rt, 120);
	tcase_set_timeout(bad, 600);
	tcase_set_timeout(fault, 600);
	tcase_add_loop_test(rt, test_roundtrip_byte_for_byte, 0, 2);
	tcase_add_loop_test(rt, test_same_calls_same_receipts_and_snapshots, 0,
			    2);
	tcase_add_test(rt, test_events_after_load);
	tcase_add_test(rt, test_snapshot_same_with_or_without_hook);
	tcase_add_test(rt, test_reset_in_place);
	tcase_add_test(rt, test_empty_account_roundtrip);
	tcase_add_test(bad, test_bad_arguments);
	tcase_add_test(bad, test_truncations_and_bit_flips);
	tcase_add_test(bad, test_resealed_mutations);
	tcase_add_test(bad, test_unknown_tariff_and_category);
	tcase_add_test(fault, test_allocation_failures);
	tcase_add_test(fault, test_write_seeds);
	suite_add_tcase(s, rt);
	suite_add_tcase(s, bad);
	suite_add_tcase(s, fault);
	return s;
}

int main(void)
{
	return tu_run(snapshot_suite());
}
