/*
 * check_prune_packages.c - pruning packages (DESIGN §7, issue 13):
 * quota_account_prune and retention with QUOTA_PRUNE_PACKAGES.
 *
 * The rules these tests pin (quota_account_prune(3)): a package expired
 * at the horizon or exhausted goes, unless a ledger row left after the
 * prune or an open hold names it, or it is an exhausted STOP package
 * still in force (R7); the others keep their order (R3) and handles;
 * keys that drew from a dropped package still replay their receipt (a
 * line without a package) and cannot be reversed (QUOTA_EPRUNED);
 * snapshots and the journal rebuild the same bytes; a refused prune
 * (memory, store) changes nothing.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "journal_world.h"

uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

#define OK(expr) TU_OK(NULL, expr)

#define T0 INT64_C(1704067200) /* 2024-01-01 00:00:00 UTC */
#define PKGS (QUOTA_PRUNE_LEDGER | QUOTA_PRUNE_PACKAGES)

typedef struct pw {
	tu_alloc al;
	quota_ctx *ctx;
	uint32_t sms;
	quota_tariff *t;
} pw;

static void pw_init_log(pw *w, jw_log *log)
{
	tu_alloc_init(&w->al);
	OK(quota_ctx_new_with(&w->al.a, &w->ctx));
	if (log) {
		tu_journal_skip(w->ctx); /* its own store */
		jw_record(w->ctx, log);
	}
	OK(quota_category_add(w->ctx, "sms", &w->sms));
	OK(quota_tariff_new(w->ctx, "std", &w->t));
	OK(quota_tariff_add_tier(w->t, QUOTA_UNLIMITED, 1000));
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

static quota_package *pkg(quota_account *a, uint32_t cat, const char *id,
			  int64_t units, int64_t eff, int64_t exp,
			  uint32_t flags)
{
	quota_package_spec s = {.id = id,
				.categories = QUOTA_MASK(cat),
				.units = units,
				.effective_at = eff,
				.expires_at = exp,
				.flags = flags};
	quota_package *p;

	OK(quota_package_add(a, &s, &p));
	return p;
}

static int charge_r(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		    const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at, .key = key};

	return quota_charge(a, &u, r);
}

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  const char *key)
{
	quota_receipt r;

	return charge_r(a, cat, units, at, key, &r);
}

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

/*
 * The account of most tests: A (100 units, 10 days) and B (50, 20 days)
 * used up in the first days, by a keyed charge drawing from both (k1)
 * and one drawing from B alone (k2); C (1000 units, a year) drawn by k3
 * and a unit a day for 40 days; settled up to day 40.
 */
static quota_account *world(pw *w, const char *id)
{
	quota_account *a;
	int d;

	OK(quota_account_new(w->ctx, id, &a));
	OK(quota_account_set_tariff(a, w->sms, w->t));
	OK(quota_account_topup(a, INT64_C(1000000000), T0));
	OK(quota_account_set_key_window(a, 1000, 1000 * TU_DAY));
	pkg(a, w->sms, "A", 100, T0, T0 + 10 * TU_DAY, 0);
	pkg(a, w->sms, "B", 50, T0, T0 + 20 * TU_DAY, 0);
	pkg(a, w->sms, "C", 1000, T0, T0 + 365 * TU_DAY, 0);
	OK(charge(a, w->sms, 120, T0 + TU_HOUR, "k1"));   /* A 100, B 20 */
	OK(charge(a, w->sms, 30, T0 + 2 * TU_DAY, "k2")); /* B 30 */
	OK(charge(a, w->sms, 10, T0 + 3 * TU_DAY, "k3")); /* C 10 */
	for (d = 4; d < 40; d++)
		OK(charge(a, w->sms, 1, T0 + d * TU_DAY + 60, NULL));
	ck_assert_int_ge(quota_settle(a, T0 + 40 * TU_DAY, NULL, NULL), 0);
	return a;
}

static void check_pruned(pw *w, quota_account *a)
{
	quota_package *c, *p;
	quota_receipt r;

	ck_assert_uint_eq(quota_account_package_count(a), 1);
	c = quota_account_package_at(a, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(quota_account_package_at(a, 1));
	OK(quota_package_find(a, "C", &p));
	ck_assert_ptr_eq(p, c);
	ck_assert_int_eq(quota_package_find(a, "A", &p), QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_package_find(a, "B", &p), QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_package_remaining(c), 1000 - 10 - 36);
	/* k1 drew from A and B, both gone: the receipt stands, no package */
	OK(charge_r(a, w->sms, 120, T0 + TU_HOUR, "k1", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(r.units, 120);
	ck_assert_int_eq(r.package_units, 120);
	ck_assert_uint_eq(r.nlines, 2);
	ck_assert_int_eq(r.lines[0].source, QUOTA_SOURCE_PACKAGE);
	ck_assert_ptr_null(r.lines[0].package);
	ck_assert_ptr_null(r.lines[0].package_id);
	ck_assert_int_eq(r.lines[0].units, 100);
	ck_assert_int_eq(r.lines[1].units, 20);
	/* k2 (one package, the compact record): the same */
	OK(charge_r(a, w->sms, 30, T0 + 2 * TU_DAY, "k2", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_uint_eq(r.nlines, 1);
	ck_assert_ptr_null(r.lines[0].package);
	ck_assert_int_eq(r.lines[0].units, 30);
	/* k3 names C, renumbered: still C */
	OK(charge_r(a, w->sms, 10, T0 + 3 * TU_DAY, "k3", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_ptr_eq(r.lines[0].package, c);
	ck_assert_str_eq(r.lines[0].package_id, "C");
	ck_assert_int_eq(quota_charge(a, &(quota_usage){.category = w->sms,
							.units = 31,
							.at = T0 + 2 * TU_DAY,
							.key = "k2"},
				      &r),
			 QUOTA_EKEYCONFLICT);
	/* their usage is before the horizon: no reversal */
	ck_assert_int_eq(quota_reverse(a, "k2", T0 + 41 * TU_DAY, &r),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(quota_account_remaining(a, w->sms, T0 + 41 * TU_DAY),
			 954);
}

START_TEST(test_expired_and_exhausted_go_keys_replay)
{
	pw w;
	quota_account *a;
	quota_package *c;
	quota_receipt r;

	pw_init(&w);
	a = world(&w, "a");
	ck_assert_uint_eq(quota_account_package_count(a), 3);
	c = quota_account_package_at(a, 2);
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_int_eq(quota_account_pruned_before(a), T0 + 35 * TU_DAY);
	ck_assert_ptr_eq(quota_account_package_at(a, 0), c);
	check_pruned(&w, a);
	/* pruning again drops nothing more */
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	/* a new package after the prune: added last, id reusable */
	pkg(a, w.sms, "A", 5, T0 + 41 * TU_DAY, T0 + 50 * TU_DAY, 0);
	ck_assert_uint_eq(quota_account_package_count(a), 2);
	OK(charge_r(a, w.sms, 7, T0 + 42 * TU_DAY, "k4", &r));
	/* R3: A expires first: 5 from it, 2 from C */
	ck_assert_uint_eq(r.nlines, 2);
	ck_assert_str_eq(r.lines[0].package_id, "A");
	ck_assert_int_eq(r.lines[0].units, 5);
	ck_assert_ptr_eq(r.lines[1].package, c);
	OK(charge_r(a, w.sms, 7, T0 + 42 * TU_DAY, "k4", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_str_eq(r.lines[0].package_id, "A");
	OK(quota_reverse(a, "k4", T0 + 42 * TU_DAY + 60, &r));
	ck_assert_int_eq(quota_package_remaining(c), 954);
	pw_free(&w);
}
END_TEST

/* A category past the small index (more than 4 packages, two priority
 * groups, STOP ones): what is left burns in R3 order after the prune,
 * and the state round-trips through a snapshot. */
START_TEST(test_full_index_prune_keeps_r3)
{
	pw w, w2;
	quota_account *a, *b;
	quota_receipt r;
	void *p;
	size_t n;
	int i, d;

	pw_init(&w);
	OK(quota_account_new(w.ctx, "f", &a));
	OK(quota_account_set_tariff(a, w.sms, w.t));
	for (i = 0; i < 8; i++) {
		char id[8];
		quota_package_spec s = {.id = id,
					.categories = QUOTA_MASK(w.sms),
					.units = 10,
					.effective_at = T0,
					.expires_at =
						T0 + (10 + 5 * i) * TU_DAY,
					.priority = i % 2,
					.flags = i == 5 ? QUOTA_PACKAGE_STOP
							: 0};

		snprintf(id, sizeof id, "f%d", i);
		OK(quota_package_add(a, &s, NULL));
	}
	/* priority 0 first: f0, f2 used up on day 1 */
	OK(charge(a, w.sms, 20, T0 + TU_HOUR, "x"));
	for (d = 2; d < 30; d++)
		ck_assert_int_ge(quota_account_tick(a, T0 + d * TU_DAY), 0);
	ck_assert_int_ge(quota_settle(a, T0 + 30 * TU_DAY, NULL, NULL), 0);
	/* f0, f2 exhausted, f1 (day 15), f3 (day 25) expired */
	OK(quota_account_prune(a, T0 + 29 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 4);
	{
		quota_package_spec sp;

		OK(quota_package_get_spec(quota_account_package_at(a, 0), &sp));
		ck_assert_str_eq(sp.id, "f4");
		OK(quota_package_get_spec(quota_account_package_at(a, 3), &sp));
		ck_assert_str_eq(sp.id, "f7");
	}
	/* f4 (prio 0, day 30) then f6 (prio 0, day 40), then f5 (prio 1) */
	OK(charge_r(a, w.sms, 25, T0 + 29 * TU_DAY + 60, NULL, &r));
	ck_assert_uint_eq(r.nlines, 3);
	ck_assert_str_eq(r.lines[0].package_id, "f4");
	ck_assert_str_eq(r.lines[1].package_id, "f6");
	ck_assert_str_eq(r.lines[2].package_id, "f5");
	OK(charge_r(a, w.sms, 20, T0 + TU_HOUR, "x", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_ptr_null(r.lines[0].package);
	OK(quota_account_snapshot(a, &p, &n));
	pw_init(&w2);
	OK(quota_account_load(w2.ctx, p, n, &b));
	snap_eq(a, b);
	/* f5 is a STOP package: exhausted after 5 + 10 more, stops */
	OK(charge(a, w.sms, 15, T0 + 29 * TU_DAY + 120, NULL));
	ck_assert_int_eq(charge(a, w.sms, 1, T0 + 29 * TU_DAY + 180, NULL),
			 QUOTA_EEXHAUSTED);
	OK(charge(b, w2.sms, 15, T0 + 29 * TU_DAY + 120, NULL));
	snap_eq(a, b);
	quota_free(w.ctx, p);
	pw_free(&w2);
	pw_free(&w);
}
END_TEST

START_TEST(test_packages_named_by_rows_or_holds_stay)
{
	pw w;
	quota_account *a;
	quota_package *b;
	quota_receipt r;
	uint64_t hold;
	int d;

	pw_init(&w);
	a = world(&w, "a");
	/* without the ledger, its rows still name A and B */
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, QUOTA_PRUNE_PACKAGES));
	ck_assert_uint_eq(quota_account_package_count(a), 3);
	/* the ledger alone leaves the packages */
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, QUOTA_PRUNE_LEDGER));
	ck_assert_uint_eq(quota_account_package_count(a), 3);
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, QUOTA_PRUNE_PACKAGES));
	check_pruned(&w, a);
	pw_free(&w);

	/* an open hold keeps the package it holds from, exhausted or not */
	pw_init(&w);
	OK(quota_account_new(w.ctx, "h", &a));
	OK(quota_account_set_tariff(a, w.sms, w.t));
	b = pkg(a, w.sms, "B", 50, T0, T0 + 20 * TU_DAY, 0);
	pkg(a, w.sms, "C", 1000, T0, T0 + 365 * TU_DAY, 0);
	OK(charge(a, w.sms, 20, T0 + TU_HOUR, NULL));
	OK(quota_reserve(a, &(quota_usage){.category = w.sms, .units = 30,
					   .at = T0 + 3 * TU_DAY},
			 60 * TU_DAY, &r, &hold));
	ck_assert_int_eq(quota_package_remaining(b), 0);
	for (d = 4; d < 40; d++)
		OK(charge(a, w.sms, 1, T0 + d * TU_DAY, NULL));
	ck_assert_int_ge(quota_settle(a, T0 + 40 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_int_le(quota_account_pruned_before(a), T0 + 3 * TU_DAY);
	ck_assert_uint_eq(quota_account_package_count(a), 2);
	OK(quota_commit(a, hold, 30, NULL, &r));
	ck_assert_ptr_eq(r.lines[0].package, b);
	ck_assert_int_ge(quota_settle(a, T0 + 41 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	ck_assert_int_eq(quota_package_find(a, "B", &b), QUOTA_ENOTFOUND);
	pw_free(&w);
}
END_TEST

/* R7: an exhausted STOP package stops its category until it expires. */
START_TEST(test_exhausted_stop_package_stays_until_expiry)
{
	pw w;
	quota_account *a;
	int d;

	pw_init(&w);
	OK(quota_account_new(w.ctx, "s", &a));
	OK(quota_account_set_tariff(a, w.sms, w.t));
	pkg(a, w.sms, "S", 10, T0, T0 + 30 * TU_DAY, QUOTA_PACKAGE_STOP);
	OK(charge(a, w.sms, 10, T0 + TU_HOUR, NULL));
	ck_assert_int_eq(charge(a, w.sms, 1, T0 + 2 * TU_DAY, NULL),
			 QUOTA_EEXHAUSTED);
	for (d = 3; d < 25; d++) /* the clock moves on: a free tier-less */
		ck_assert_int_ge(quota_account_tick(a, T0 + d * TU_DAY), 0);
	ck_assert_int_ge(quota_settle(a, T0 + 25 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 24 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	ck_assert_int_eq(charge(a, w.sms, 1, T0 + 25 * TU_DAY, NULL),
			 QUOTA_EEXHAUSTED);
	OK(charge(a, w.sms, 1, T0 + 31 * TU_DAY, NULL)); /* expired: payg */
	ck_assert_int_ge(quota_settle(a, T0 + 32 * TU_DAY, NULL, NULL), 0);
	OK(quota_account_prune(a, T0 + 31 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 0);
	OK(charge(a, w.sms, 1, T0 + 32 * TU_DAY, NULL));
	pw_free(&w);
}
END_TEST

/* Events: a dropped package raises nothing; the others as before. */
static int nexpired, nother;
static int on_event(const quota_event *e, void *ud)
{
	(void)ud;
	if (e->kind == QUOTA_EVENT_PACKAGE_EXPIRED)
		nexpired++;
	else
		nother++;
	return 0;
}

START_TEST(test_events_after_pruning)
{
	pw w;
	quota_account *a;

	pw_init(&w);
	OK(quota_ctx_set_event_hook(w.ctx, on_event, NULL));
	a = world(&w, "a");
	pkg(a, w.sms, "D", 10, T0 + 30 * TU_DAY, T0 + 45 * TU_DAY, 0);
	OK(quota_account_add_alert(a, w.sms, 50, QUOTA_ALERT_PERCENT));
	nexpired = 0;
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 2);
	ck_assert_int_ge(quota_account_tick(a, T0 + 50 * TU_DAY), 0);
	ck_assert_int_eq(nexpired, 1); /* D */
	ck_assert_int_ge(quota_account_tick(a, T0 + 400 * TU_DAY), 0);
	ck_assert_int_eq(nexpired, 2); /* C */
	pw_free(&w);
}
END_TEST

typedef struct coll {
	int n;
	quota_report_row rows[256];
} coll;

static int coll_fn(const quota_report_row *r, void *ud)
{
	coll *c = ud;

	ck_assert_int_lt(c->n, 256);
	c->rows[c->n++] = *r;
	return 0;
}

/* Reports from the horizon on are what they were before the prune. */
START_TEST(test_reports_after_pruning)
{
	pw w;
	quota_account *a;
	coll before, after;
	int i;

	pw_init(&w);
	a = world(&w, "a");
	memset(&before, 0, sizeof before);
	OK(quota_report(a, QUOTA_PERIOD_DAY, T0 + 35 * TU_DAY,
			T0 + 40 * TU_DAY, coll_fn, &before));
	ck_assert_int_eq(before.n, 5);
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	memset(&after, 0, sizeof after);
	ck_assert_int_eq(quota_report(a, QUOTA_PERIOD_DAY, T0,
				      T0 + 40 * TU_DAY, coll_fn, &after),
			 QUOTA_EPRUNED);
	ck_assert_int_eq(after.n, 0);
	OK(quota_report(a, QUOTA_PERIOD_DAY, T0 + 35 * TU_DAY,
			T0 + 40 * TU_DAY, coll_fn, &after));
	ck_assert_int_eq(after.n, before.n);
	for (i = 0; i < after.n; i++) {
		ck_assert_int_eq(after.rows[i].source, QUOTA_SOURCE_PACKAGE);
		ck_assert_ptr_eq(after.rows[i].package,
				 quota_account_package_at(a, 0));
		ck_assert_int_eq(after.rows[i].units, before.rows[i].units);
		ck_assert_int_eq(after.rows[i].start, before.rows[i].start);
	}
	/* new usage lands in the same rows */
	OK(charge(a, w.sms, 4, T0 + 39 * TU_DAY + 120, NULL));
	memset(&after, 0, sizeof after);
	OK(quota_report(a, QUOTA_PERIOD_DAY, T0 + 39 * TU_DAY,
			T0 + 40 * TU_DAY, coll_fn, &after));
	ck_assert_int_eq(after.n, 1);
	ck_assert_int_eq(after.rows[0].units, 5);
	pw_free(&w);
}
END_TEST

START_TEST(test_snapshot_round_trip)
{
	pw w, w2;
	quota_account *a, *b;
	quota_receipt r;
	void *p;
	size_t n;

	pw_init(&w);
	a = world(&w, "a");
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	OK(quota_account_snapshot(a, &p, &n));
	pw_init(&w2);
	OK(quota_account_load(w2.ctx, p, n, &b));
	snap_eq(a, b);
	check_pruned(&w2, b);
	snap_eq(a, b); /* replays change nothing */
	/* reset back to it after more traffic */
	OK(charge(a, w.sms, 3, T0 + 41 * TU_DAY, "k9"));
	OK(quota_account_reset(a, p, n));
	snap_eq(a, b);
	OK(charge_r(a, w.sms, 120, T0 + TU_HOUR, "k1", &r));
	ck_assert_int_eq(r.replayed, 1);
	quota_free(w.ctx, p);
	pw_free(&w2);
	pw_free(&w);
}
END_TEST

START_TEST(test_replay_reproduces_snapshot_bytes)
{
	pw w;
	jw_log log;
	quota_ctx *c2;
	quota_account *a, *a2;
	size_t i;

	memset(&log, 0, sizeof log);
	pw_init_log(&w, &log);
	a = world(&w, "a");
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	pkg(a, w.sms, "E", 10, T0 + 41 * TU_DAY, T0 + 50 * TU_DAY, 0);
	OK(charge(a, w.sms, 15, T0 + 42 * TU_DAY, "k5"));
	OK(charge(a, w.sms, 120, T0 + TU_HOUR, "k1"));
	OK(quota_account_set_retention(a, 2 * TU_DAY, PKGS));
	ck_assert_int_ge(quota_account_tick(a, T0 + 60 * TU_DAY), 0);
	ck_assert_int_ge(quota_settle(a, T0 + 60 * TU_DAY, NULL, NULL), 0);
	ck_assert_uint_eq(quota_account_package_count(a), 1); /* E went */
	OK(quota_ctx_new(&c2));
	tu_journal_skip(c2);
	for (i = 0; i < log.n; i++) {
		int rc = quota_journal_apply(c2, log.r[i].p, log.r[i].n,
					     QUOTA_JOURNAL_CHECK);

		ck_assert_msg(rc == QUOTA_OK, "record %zu: %s", i,
			      quota_errmsg(c2));
	}
	OK(quota_account_find(c2, "a", &a2));
	snap_eq(a, a2);
	/* a prune record whose package count differs is refused */
	{
		quota_ctx *c3;
		size_t last = log.n;
		int rc = QUOTA_OK;

		while (last-- > 0) { /* the first prune with packages */
			jw_rec *x = &log.r[last];
			unsigned char *q;
			uint32_t crc;
			int k;

			if (!x->account || x->n < 12)
				continue;
			OK(quota_ctx_new(&c3));
			tu_journal_skip(c3);
			for (i = 0; i < last; i++)
				OK(quota_journal_apply(c3, log.r[i].p,
						       log.r[i].n, 0));
			q = malloc(x->n);
			ck_assert_ptr_nonnull(q);
			memcpy(q, x->p, x->n);
			q[x->n - 1] ^= 1;
			crc = quota__crc32c(0, q + 8, x->n - 8);
			for (k = 0; k < 4; k++)
				q[4 + k] = (unsigned char)(crc >> (8 * k));
			rc = quota_journal_apply(c3, q, x->n, 0);
			free(q);
			quota_ctx_free(c3);
			break;
		}
		ck_assert_int_ne(rc, QUOTA_OK);
	}
	quota_ctx_free(c2);
	pw_free(&w);
	jw_log_free(&log);
}
END_TEST

START_TEST(test_alloc_failure_sweep)
{
	long n;
	int rc;

	for (n = 1;; n++) {
		pw w;
		quota_account *a;
		void *p, *q;
		size_t np, nq;

		pw_init(&w);
		OK(quota_ctx_set_event_hook(w.ctx, on_event, NULL));
		a = world(&w, "a");
		OK(quota_account_snapshot(a, &p, &np));
		tu_alloc_fail_in(&w.al, n);
		rc = quota_account_prune(a, T0 + 35 * TU_DAY, PKGS);
		tu_alloc_disarm(&w.al);
		if (rc == QUOTA_OK) {
			check_pruned(&w, a);
			quota_free(w.ctx, p);
			pw_free(&w);
			break;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_uint_eq(quota_account_package_count(a), 3);
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

START_TEST(test_store_failure_changes_nothing)
{
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
	a = world(&w, "a");
	OK(quota_account_snapshot(a, &p, &np));
	mode = QUOTA_ESTORE;
	ck_assert_int_eq(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS),
			 QUOTA_ESTORE);
	ck_assert_uint_eq(quota_account_package_count(a), 3);
	OK(quota_account_snapshot(a, &q, &nq));
	ck_assert_uint_eq(np, nq);
	ck_assert(memcmp(p, q, np) == 0);
	mode = QUOTA_OK;
	OK(quota_account_prune(a, T0 + 35 * TU_DAY, PKGS));
	check_pruned(&w, a);
	quota_free(w.ctx, p);
	quota_free(w.ctx, q);
	pw_free(&w);
}
END_TEST

/* Retention with packages: a package a month for a year, settled daily,
 * 30 days kept: the account holds a bounded number of packages. */
START_TEST(test_retention_bounds_packages)
{
	pw w;
	quota_account *a;
	uint32_t most = 0;
	int d;

	pw_init(&w);
	OK(quota_account_new(w.ctx, "r", &a));
	OK(quota_account_set_tariff(a, w.sms, w.t));
	OK(quota_account_set_retention(a, 30 * TU_DAY,
				       QUOTA_PRUNE_ALL | QUOTA_PRUNE_PACKAGES));
	for (d = 0; d < 365; d++) {
		int64_t t = T0 + d * TU_DAY;

		if (d % 30 == 0) {
			char id[16];

			snprintf(id, sizeof id, "m%d", d / 30);
			pkg(a, w.sms, id, 100, t, t + 30 * TU_DAY, 0);
		}
		OK(charge(a, w.sms, 2, t + 60, NULL));
		ck_assert_int_ge(quota_settle(a, t + TU_DAY, NULL, NULL), 0);
		if (quota_account_package_count(a) > most)
			most = quota_account_package_count(a);
	}
	ck_assert_uint_le(most, 3);
	ck_assert_uint_ge(quota_account_package_count(a), 1);
	pw_free(&w);
}
END_TEST

static Suite *prune_packages_suite(void)
{
	Suite *s = suite_create("prune_packages");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_expired_and_exhausted_go_keys_replay);
	tcase_add_test(tc, test_full_index_prune_keeps_r3);
	tcase_add_test(tc, test_packages_named_by_rows_or_holds_stay);
	tcase_add_test(tc, test_exhausted_stop_package_stays_until_expiry);
	tcase_add_test(tc, test_events_after_pruning);
	tcase_add_test(tc, test_reports_after_pruning);
	tcase_add_test(tc, test_snapshot_round_trip);
	tcase_add_test(tc, test_replay_reproduces_snapshot_bytes);
	tcase_add_test(tc, test_alloc_failure_sweep);
	tcase_add_test(tc, test_store_failure_changes_nothing);
	tcase_add_test(tc, test_retention_bounds_packages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(prune_packages_suite());
}
