/*
 * check_lifecycle.c - the account lifecycle of long-running hosts (DESIGN
 * §7): removing an account (its memory back through the allocator, loaded
 * back from its snapshot the same byte for byte), enumerating accounts
 * after removals, a context-wide settlement (all or nothing without a
 * store; one record per account with one), finding a hold by its
 * reservation key, and holds released by timeout reported as events with
 * the release's receipt (never on replay).  Every refusal leaves every
 * account's snapshot as it was; allocation failures are injected into the
 * new calls (STYLE 19).
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"

#define T0 INT64_C(1717200000) /* 2024-06-01T00:00:00Z */
#define DAY INT64_C(86400)

/* ---------------------------------------------------------------- helpers */

typedef struct blob {
	void *p;
	size_t n;
} blob;

/* A copy of a's snapshot in our own memory. */
static blob snap(const quota_account *a)
{
	void *s = NULL;
	blob b;

	ck_assert_int_eq(quota_account_snapshot(a, &s, &b.n), QUOTA_OK);
	b.p = malloc(b.n);
	ck_assert_ptr_nonnull(b.p);
	memcpy(b.p, s, b.n);
	quota_free(quota_account_ctx(a), s);
	return b;
}

static void same(blob x, blob y)
{
	ck_assert_uint_eq(x.n, y.n);
	ck_assert(memcmp(x.p, y.p, x.n) == 0);
}

/* The world the tests share: two categories, a tiered tariff with a
 * failure fee, and accounts with a package, keyed charges and holds. */
typedef struct world {
	tu_alloc al;
	quota_ctx *ctx;
	uint32_t sms, mail;
	quota_tariff *t;
} world;

static void world_init(world *w, int counted)
{
	memset(w, 0, sizeof *w);
	tu_alloc_init(&w->al);
	if (counted)
		ck_assert_int_eq(quota_ctx_new_with(&w->al.a, &w->ctx),
				 QUOTA_OK);
	else
		w->ctx = new_ctx();
	w->sms = add_cat(w->ctx, "sms");
	w->mail = add_cat(w->ctx, "mail");
	w->t = add_tariff(w->ctx, "std");
	ck_assert_int_eq(quota_tariff_add_tier(w->t, 100, 10000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(w->t, QUOTA_UNLIMITED, 5000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(w->t, 700), QUOTA_OK);
}

/* An account that has been used: a package partly drawn, pay-as-you-go,
 * keyed charges, an open hold and a committed one. */
static quota_account *busy(world *w, const char *id, int64_t units)
{
	quota_account *a = add_acct(w->ctx, id);
	quota_usage u = {.category = w->sms, .units = units, .at = T0 + 60};
	quota_receipt r;
	uint64_t h;
	char key[32];

	ck_assert_int_eq(quota_account_set_tariff(a, w->sms, w->t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, w->mail, w->t), QUOTA_OK);
	add_pkg(a, "p1", QUOTA_MASK(w->sms), 50, T0, T0 + 30 * DAY, 0, 0);
	ck_assert_int_eq(quota_account_topup(a, 100000000, T0), QUOTA_OK);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "%s-c%d", id, i);
		u.key = key;
		u.at = T0 + 60 + i;
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
	u.key = NULL;
	u.category = w->mail;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h), QUOTA_OK);
	ck_assert_int_eq(quota_commit(a, h, 1, NULL, &r), QUOTA_OK);
	snprintf(key, sizeof key, "%s-hold", id);
	u.key = key;
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h), QUOTA_OK);
	return a;
}

/* --------------------------------------------------- remove, enumerate */

START_TEST(remove_keeps_the_order_of_the_rest)
{
	quota_ctx *c = new_ctx();
	quota_account *a = add_acct(c, "a"), *b = add_acct(c, "b"),
		      *d = add_acct(c, "d"), *got;

	ck_assert_int_eq(quota_account_remove(b), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_account_count(c), 2);
	ck_assert_ptr_eq(quota_ctx_account_at(c, 0), a);
	ck_assert_ptr_eq(quota_ctx_account_at(c, 1), d);
	ck_assert_ptr_null(quota_ctx_account_at(c, 2));
	ck_assert_int_eq(quota_account_find(c, "b", &got), QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_account_find(c, "d", &got), QUOTA_OK);
	ck_assert_ptr_eq(got, d);
	/* The id is free again: a new account goes last. */
	b = add_acct(c, "b");
	ck_assert_ptr_eq(quota_ctx_account_at(c, 2), b);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	ck_assert_int_eq(quota_account_remove(b), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_account_count(c), 1);
	ck_assert_ptr_eq(quota_ctx_account_at(c, 0), d);
	ck_assert_int_eq(quota_account_remove(d), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_account_count(c), 0);
	ck_assert_ptr_null(quota_ctx_account_at(c, 0));
	ck_assert_int_eq(quota_account_remove(NULL), QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/* Many ids through the map's deletion: every survivor is still found. */
START_TEST(remove_many_ids_map_stays_whole)
{
	quota_ctx *c = new_ctx();
	quota_account *a;
	char id[16];
	uint32_t i, k = 0;

	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "acct-%u", i);
		add_acct(c, id);
	}
	for (i = 0; i < 300; i += 3) {
		snprintf(id, sizeof id, "acct-%u", i);
		ck_assert_int_eq(quota_account_find(c, id, &a), QUOTA_OK);
		ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	}
	ck_assert_uint_eq(quota_ctx_account_count(c), 200);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "acct-%u", i);
		ck_assert_int_eq(quota_account_find(c, id, &a),
				 i % 3 ? QUOTA_OK : QUOTA_ENOTFOUND);
		if (i % 3) /* order made, less the removed */
			ck_assert_ptr_eq(quota_ctx_account_at(c, k++), a);
	}
	quota_ctx_free(c);
}
END_TEST

/* §7: removed and loaded back from its snapshot, the account is the same
 * byte for byte, and carries on as one never removed would. */
START_TEST(remove_then_load_gives_same_snapshot)
{
	world w, ref;
	quota_account *a, *b, *back;
	quota_usage u;
	quota_receipt r1, r2;
	blob before, after;

	world_init(&w, 0);
	world_init(&ref, 0);
	a = busy(&w, "acme", 30);
	b = busy(&ref, "acme", 30);
	before = snap(a);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_account_count(w.ctx), 0);
	ck_assert_int_eq(quota_account_load(w.ctx, before.p, before.n, &back),
			 QUOTA_OK);
	after = snap(back);
	same(before, after);
	free(after.p);
	/* The same next charge, a replayed key and the open hold by key. */
	u = (quota_usage){.category = w.sms, .units = 30, .at = T0 + 61,
			  .key = "acme-c1"};
	ck_assert_int_eq(quota_charge(back, &u, &r1), QUOTA_OK);
	ck_assert_int_eq(r1.replayed, 1);
	u.units = 40;
	u.at = T0 + 900;
	u.key = "next";
	ck_assert_int_eq(quota_charge(back, &u, &r1), QUOTA_OK);
	ck_assert_int_eq(quota_charge(b, &u, &r2), QUOTA_OK);
	ck_assert_int_eq(r1.payg_cost_micros, r2.payg_cost_micros);
	ck_assert_int_eq(r1.package_units, r2.package_units);
	before.p = (free(before.p), NULL);
	before = snap(back);
	after = snap(b);
	same(before, after);
	free(before.p);
	free(after.p);
	quota_ctx_free(w.ctx);
	quota_ctx_free(ref.ctx);
}
END_TEST

/* Every byte an account took goes back through the context's allocator.
 * Context-wide buffers (a plan's draw scratch sized by the largest
 * package count, the event and record buffers, the account list and id
 * map) are the context's and stay: a first account of the same shape
 * sizes them, then the second is measured. */
START_TEST(remove_returns_memory_through_allocator)
{
	world w;
	long blocks;
	size_t bytes;
	quota_account *a;

	world_init(&w, 1);
	a = busy(&w, "warm", 30);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	blocks = w.al.live_blocks;
	bytes = w.al.live_bytes;
	a = busy(&w, "acct-2", 30);
	ck_assert_int_gt(w.al.live_bytes, bytes);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	ck_assert_int_eq(w.al.live_blocks, blocks);
	ck_assert_uint_eq(w.al.live_bytes, bytes);
	/* Removing allocates nothing, so it cannot run out of memory. */
	a = busy(&w, "acct-3", 30);
	tu_alloc_fail_all(&w.al);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	tu_alloc_disarm(&w.al);
	ck_assert_uint_eq(w.al.live_bytes, bytes);
	quota_ctx_free(w.ctx);
	ck_assert_int_eq(w.al.live_blocks, 0);
}
END_TEST

/* ---- refused inside a batch: a store whose append tries to remove */

typedef struct txstore {
	quota_account *victim;
	int tried, rc;
	int fail_at, appends; /* ESTORE at append number fail_at (1-based) */
} txstore;

static int tx_begin(void *ud)
{
	(void)ud;
	return QUOTA_OK;
}

static int tx_commit(void *ud)
{
	(void)ud;
	return QUOTA_OK;
}

static int tx_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	txstore *s = ud;

	(void)account;
	(void)seq;
	(void)rec;
	(void)len;
	if (s->victim && !s->tried) {
		s->tried = 1;
		s->rc = quota_account_remove(s->victim);
	}
	if (++s->appends == s->fail_at)
		return QUOTA_ESTORE;
	return QUOTA_OK;
}

START_TEST(remove_refused_inside_batch)
{
	world w;
	txstore ts = {0};
	quota_store st = QUOTA_STORE_INIT;
	quota_account *a, *b, *got;
	quota_op op;
	blob before, after;

	world_init(&w, 0);
	a = busy(&w, "a", 10);
	b = busy(&w, "b", 10);
	st.ud = &ts;
	st.append = tx_append;
	st.begin = tx_begin;
	st.commit = tx_commit;
	ck_assert_int_eq(quota_ctx_set_store(w.ctx, &st), QUOTA_OK);
	before = snap(a);
	ts.victim = a;
	memset(&op, 0, sizeof op);
	op.kind = QUOTA_OP_CHARGE;
	op.account = b;
	op.usage = (quota_usage){.category = w.sms, .units = 1, .at = T0 + 99};
	ck_assert_int_eq(quota_batch(w.ctx, &op, 1), QUOTA_OK);
	ck_assert_int_eq(op.rc, QUOTA_OK);
	ck_assert_int_eq(ts.tried, 1);
	ck_assert_int_eq(ts.rc, QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_find(w.ctx, "a", &got), QUOTA_OK);
	ck_assert_ptr_eq(got, a);
	ck_assert_uint_eq(quota_ctx_account_count(w.ctx), 2);
	after = snap(a);
	same(before, after);
	free(before.p);
	free(after.p);
	/* With a store, removal writes no record either. */
	ts.victim = NULL;
	ts.appends = 0;
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	ck_assert_int_eq(ts.appends, 0);
	quota_ctx_free(w.ctx);
}
END_TEST

/* ------------------------------------------------------- context settle */

typedef struct bills {
	int n;
	const quota_account *who[16];
	int64_t total;
} bills;

static int on_bill(const quota_bill *b, void *ud)
{
	bills *x = ud;

	ck_assert_int_lt(x->n, 16);
	x->who[x->n++] = b->account;
	x->total += b->total_micros;
	return 0;
}

#define NA 3
static void settle_world(world *w, quota_account **acc)
{
	static const char *ids[NA] = {"a", "b", "c"};

	for (int i = 0; i < NA; i++)
		acc[i] = busy(w, ids[i], 60 + 10 * i);
}

START_TEST(ctx_settle_bills_every_account)
{
	world w, ref;
	quota_account *acc[NA], *racc[NA];
	bills x = {0}, y = {0};
	int64_t n = 0, k;

	world_init(&w, 0);
	world_init(&ref, 0);
	settle_world(&w, acc);
	settle_world(&ref, racc);
	ck_assert_int_eq(quota_ctx_settle(w.ctx, T0 + 2 * DAY, on_bill, &x),
			 NA);
	ck_assert_int_eq(x.n, NA);
	for (int i = 0; i < NA; i++) {
		blob s1, s2;

		ck_assert_ptr_eq(x.who[i], acc[i]); /* in account order */
		k = quota_settle(racc[i], T0 + 2 * DAY, on_bill, &y);
		ck_assert_int_eq(k, 1);
		n += k;
		s1 = snap(acc[i]);
		s2 = snap(racc[i]);
		same(s1, s2);
		free(s1.p);
		free(s2.p);
	}
	ck_assert_int_eq(n, NA);
	ck_assert_int_eq(x.total, y.total);
	/* Nothing left: a second settlement bills nothing. */
	ck_assert_int_eq(quota_ctx_settle(w.ctx, T0 + 2 * DAY, NULL, NULL), 0);
	ck_assert_int_eq(quota_ctx_settle(NULL, T0, NULL, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_ctx_settle(w.ctx, QUOTA_TIME_MAX, NULL, NULL),
			 QUOTA_EINVAL);
	quota_ctx_free(w.ctx);
	quota_ctx_free(ref.ctx);
}
END_TEST

/* Without a store all or nothing: allocation N fails, for every N until
 * the call succeeds; each refusal leaves every account as it was and
 * hands out no bill, and the success equals the fault-free run. */
START_TEST(ctx_settle_all_or_nothing_under_alloc_failure)
{
	world w, ref;
	quota_account *acc[NA], *racc[NA];
	blob before[NA];
	bills x, y = {0};
	int64_t rc = QUOTA_ENOMEM;
	long nth;

	world_init(&w, 1);
	world_init(&ref, 0);
	/* No store (the journaled run gives every context one). */
	ck_assert_int_eq(quota_ctx_set_store(w.ctx, NULL), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_store(ref.ctx, NULL), QUOTA_OK);
	settle_world(&w, acc);
	settle_world(&ref, racc);
	ck_assert_int_eq(quota_ctx_settle(ref.ctx, T0 + 2 * DAY, on_bill, &y),
			 NA);
	for (int i = 0; i < NA; i++)
		before[i] = snap(acc[i]);
	for (nth = 1; rc == QUOTA_ENOMEM; nth++) {
		memset(&x, 0, sizeof x);
		tu_alloc_fail_in(&w.al, nth);
		rc = quota_ctx_settle(w.ctx, T0 + 2 * DAY, on_bill, &x);
		tu_alloc_disarm(&w.al);
		if (rc == QUOTA_ENOMEM) {
			ck_assert_int_eq(x.n, 0);
			ck_assert_str_ne(quota_errmsg(w.ctx), "");
			for (int i = 0; i < NA; i++) {
				blob s = snap(acc[i]);

				same(before[i], s);
				free(s.p);
			}
		}
	}
	ck_assert_int_gt(nth, 2); /* some allocation was failed */
	ck_assert_int_eq(rc, NA);
	ck_assert_int_eq(x.n, NA);
	ck_assert_int_eq(x.total, y.total);
	for (int i = 0; i < NA; i++) {
		blob s1 = snap(acc[i]), s2 = snap(racc[i]);

		same(s1, s2);
		free(s1.p);
		free(s2.p);
		free(before[i].p);
	}
	quota_ctx_free(w.ctx);
	ck_assert_int_eq(w.al.live_blocks, 0);
	quota_ctx_free(ref.ctx);
}
END_TEST

/* With a store each account is its own record: a refusal stops the walk,
 * the accounts before it stand, and settling again finishes the rest. */
START_TEST(ctx_settle_with_store_stops_at_refusal)
{
	world w;
	quota_account *acc[NA];
	txstore ts = {0};
	quota_store st = QUOTA_STORE_INIT;
	bills x = {0};
	blob b1, c1, s;

	world_init(&w, 0);
	settle_world(&w, acc);
	st.ud = &ts;
	st.append = tx_append;
	ck_assert_int_eq(quota_ctx_set_store(w.ctx, &st), QUOTA_OK);
	b1 = snap(acc[1]);
	c1 = snap(acc[2]);
	ts.fail_at = 2; /* b's settlement record */
	ck_assert_int_eq(quota_ctx_settle(w.ctx, T0 + 2 * DAY, on_bill, &x),
			 QUOTA_ESTORE);
	ck_assert_int_eq(x.n, 1);
	ck_assert_ptr_eq(x.who[0], acc[0]);
	s = snap(acc[1]);
	same(b1, s);
	free(s.p);
	s = snap(acc[2]);
	same(c1, s);
	free(s.p);
	ck_assert_int_eq(quota_ctx_settle(w.ctx, T0 + 2 * DAY, on_bill, &x),
			 NA - 1);
	ck_assert_int_eq(x.n, NA);
	ck_assert_ptr_eq(x.who[1], acc[1]);
	ck_assert_ptr_eq(x.who[2], acc[2]);
	free(b1.p);
	free(c1.p);
	quota_ctx_free(w.ctx);
}
END_TEST

/* ------------------------------------------------------- hold by its key */

START_TEST(hold_find_by_reservation_key)
{
	world w;
	quota_account *a;
	quota_usage u;
	quota_receipt r;
	uint64_t h, got = 99;
	blob before, after;
	char longkey[QUOTA_KEY_MAX + 2];

	world_init(&w, 0);
	a = busy(&w, "a", 10);
	ck_assert_int_eq(quota_hold_find(a, "a-hold", &got), QUOTA_OK);
	ck_assert_uint_eq(got, 2); /* the second hold made */
	u = (quota_usage){.category = w.sms, .units = 3, .at = T0 + 70,
			  .key = "r-1"};
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h), QUOTA_OK);
	ck_assert_int_eq(quota_hold_find(a, "r-1", &got), QUOTA_OK);
	ck_assert_uint_eq(got, h);
	before = snap(a);
	/* Refusals: unknown key, a charge's key, bad arguments. */
	got = 99;
	ck_assert_int_eq(quota_hold_find(a, "nope", &got), QUOTA_ENOTFOUND);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(quota_hold_find(a, "a-c1", &got), QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_hold_find(a, NULL, &got), QUOTA_EINVAL);
	ck_assert_int_eq(quota_hold_find(a, "r-1", NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_hold_find(NULL, "r-1", &got), QUOTA_EINVAL);
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	ck_assert_int_eq(quota_hold_find(a, longkey, &got), QUOTA_EINVAL);
	ck_assert_int_eq(quota_hold_find(a, "", &got), QUOTA_EINVAL);
	after = snap(a);
	same(before, after);
	free(before.p);
	free(after.p);
	/* Resolved: committed (key kept), released, expired. */
	ck_assert_int_eq(quota_commit(a, h, 3, "c-1", &r), QUOTA_OK);
	ck_assert_int_eq(quota_hold_find(a, "r-1", &got), QUOTA_ERESOLVED);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(quota_hold_find(a, "c-1", &got), QUOTA_ERESOLVED);
	u.key = "r-2";
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h), QUOTA_OK);
	ck_assert_int_eq(quota_release(a, h, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(quota_hold_find(a, "r-2", &got), QUOTA_ERESOLVED);
	u.key = "r-3";
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &h), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T0 + 200), 1);
	ck_assert_int_eq(quota_hold_find(a, "r-3", &got), QUOTA_ERESOLVED);
	/* The look-up allocates nothing. */
	quota_ctx_free(w.ctx);
}
END_TEST

START_TEST(hold_find_allocates_nothing)
{
	world w;
	quota_account *a;
	uint64_t got;

	world_init(&w, 1);
	a = busy(&w, "a", 10);
	tu_alloc_fail_all(&w.al);
	ck_assert_int_eq(quota_hold_find(a, "a-hold", &got), QUOTA_OK);
	ck_assert_uint_eq(got, 2);
	tu_alloc_disarm(&w.al);
	quota_ctx_free(w.ctx);
}
END_TEST

/* ------------------------------------------- holds released by timeout */

#define MAXE 16
typedef struct evlog {
	int n;
	quota_event e[MAXE];
	quota_receipt r[MAXE];
} evlog;

static int keep_event(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (e->kind != QUOTA_EVENT_HOLD_EXPIRED) {
		ck_assert_ptr_null(e->receipt);
		return 0;
	}
	ck_assert_int_lt(l->n, MAXE);
	ck_assert_ptr_nonnull(e->receipt);
	l->e[l->n] = *e;
	l->r[l->n] = *e->receipt;
	l->n++;
	return 0;
}

/* A timed-out hold fires HOLD_EXPIRED with the receipt quota_release
 * gives for the same hold, less the failure fee (R10 expiry is free). */
START_TEST(tick_fires_hold_expired_with_receipt)
{
	world w, ref;
	quota_account *a, *b;
	quota_usage u = {.category = 0, .units = 45, .at = T0 + 100};
	quota_receipt r, rel;
	uint64_t h1, h2, g1, g2;
	evlog log = {0};
	int64_t held_before;

	world_init(&w, 0);
	world_init(&ref, 0);
	a = busy(&w, "a", 30);  /* p1 used up */
	b = busy(&ref, "a", 30);
	add_pkg(a, "p2", QUOTA_MASK(w.sms), 20, T0, T0 + DAY, 0, 0);
	add_pkg(b, "p2", QUOTA_MASK(ref.sms), 20, T0, T0 + DAY, 0, 0);
	ck_assert_int_eq(quota_ctx_set_event_hook(w.ctx, keep_event, &log),
			 QUOTA_OK);
	u.category = w.sms;     /* 20 from p2, 25 pay-as-you-go */
	ck_assert_int_eq(quota_reserve(a, &u, 300, &r, &h1), QUOTA_OK);
	ck_assert_int_eq(quota_reserve(b, &u, 300, &r, &g1), QUOTA_OK);
	u.units = 2;
	u.at = T0 + 150;
	ck_assert_int_eq(quota_reserve(a, &u, 300, &r, &h2), QUOTA_OK);
	ck_assert_int_eq(quota_reserve(b, &u, 300, &r, &g2), QUOTA_OK);
	held_before = quota_account_held(a, QUOTA_ALL);
	ck_assert_int_eq(quota_account_tick(a, T0 + 420), 1); /* h1 only */
	ck_assert_int_eq(log.n, 1);
	ck_assert_int_eq(log.e[0].kind, QUOTA_EVENT_HOLD_EXPIRED);
	ck_assert_ptr_eq(log.e[0].account, a);
	ck_assert_uint_eq(log.e[0].category, w.sms);
	ck_assert_int_eq(log.e[0].at, T0 + 420);
	ck_assert_int_eq(log.r[0].kind, QUOTA_RECEIPT_RELEASE);
	ck_assert_uint_eq(log.r[0].hold_id, h1);
	ck_assert_int_eq(log.r[0].units, 45);
	ck_assert_int_eq(log.r[0].package_units, 20);
	ck_assert_int_eq(log.r[0].payg_units, 25);
	ck_assert_int_eq(log.r[0].fee_micros, 0);
	ck_assert_int_eq(quota_account_held(a, QUOTA_ALL), held_before - 45);
	ck_assert_int_eq(quota_release(b, g1, NULL, &rel), QUOTA_OK);
	ck_assert_int_gt(rel.fee_micros, 0); /* the tariff's failure fee */
	rel.fee_micros = 0;
	receipts_agree(&log.r[0], &rel, true);
	/* quota_ctx_tick reports each released hold too. */
	ck_assert_int_eq(quota_ctx_tick(w.ctx, T0 + 2000), 2); /* h2, a-hold */
	ck_assert_int_eq(log.n, 3);
	ck_assert_uint_eq(log.r[1].hold_id + log.r[2].hold_id, h2 + 2);
	ck_assert_int_eq(quota_account_hold_count(a), 0);
	/* No hook: the tick releases as before, with nothing to report. */
	ck_assert_int_eq(quota_ctx_set_event_hook(ref.ctx, NULL, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(quota_ctx_tick(ref.ctx, T0 + 2000), 2);
	quota_ctx_free(w.ctx);
	quota_ctx_free(ref.ctx);
}
END_TEST

/* Allocation N fails in a tick with a hook: nothing changes, no event
 * fires; the success reports every hold once. */
START_TEST(tick_events_under_alloc_failure)
{
	world w;
	quota_account *a;
	quota_usage u = {.category = 0, .units = 1, .at = T0 + 100};
	quota_receipt r;
	uint64_t h;
	evlog log = {0};
	blob before;
	int64_t rc = QUOTA_ENOMEM;
	long nth;

	world_init(&w, 1);
	a = busy(&w, "a", 10);
	u.category = w.sms;
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(quota_reserve(a, &u, 100 + i, &r, &h),
				 QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(w.ctx, keep_event, &log),
			 QUOTA_OK);
	before = snap(a);
	for (nth = 1; rc == QUOTA_ENOMEM; nth++) {
		tu_alloc_fail_in(&w.al, nth);
		rc = quota_ctx_tick(w.ctx, T0 + 5000);
		tu_alloc_disarm(&w.al);
		if (rc == QUOTA_ENOMEM) {
			blob s = snap(a);

			ck_assert_int_eq(log.n, 0);
			same(before, s);
			free(s.p);
		}
	}
	ck_assert_int_gt(nth, 2);
	ck_assert_int_eq(rc, 6); /* five and the open one of busy() */
	ck_assert_int_eq(log.n, 6);
	free(before.p);
	quota_ctx_free(w.ctx);
	ck_assert_int_eq(w.al.live_blocks, 0);
}
END_TEST

/* §5: replay fires no events, HOLD_EXPIRED included. */
typedef struct reclog {
	int n;
	void *p[64];
	size_t len[64];
} reclog;

static int rec_append(void *ud, const char *account, uint64_t seq,
		      const void *rec, size_t len)
{
	reclog *l = ud;

	(void)account;
	(void)seq;
	ck_assert_int_lt(l->n, 64);
	l->p[l->n] = malloc(len);
	memcpy(l->p[l->n], rec, len);
	l->len[l->n++] = len;
	return QUOTA_OK;
}

START_TEST(replayed_tick_fires_no_event)
{
	quota_ctx *c = new_ctx(), *fresh = new_ctx();
	quota_store st = QUOTA_STORE_INIT;
	reclog l = {0};
	evlog live = {0}, replayed = {0};
	quota_account *a, *b;
	quota_usage u = {.category = 0, .units = 2, .at = T0};
	quota_receipt r;
	uint64_t h;
	blob s1, s2;

	st.ud = &l;
	st.append = rec_append;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_store(fresh, NULL), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, keep_event, &live),
			 QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(fresh, keep_event,
						  &replayed),
			 QUOTA_OK);
	u.category = add_cat(c, "sms");
	a = add_acct(c, "a");
	ck_assert_int_eq(quota_reserve(a, &u, 10, &r, &h), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T0 + 60), 1);
	ck_assert_int_eq(live.n, 1);
	for (int i = 0; i < l.n; i++) {
		ck_assert_int_eq(quota_journal_apply(fresh, l.p[i], l.len[i],
						     QUOTA_JOURNAL_CHECK),
				 QUOTA_OK);
		free(l.p[i]);
	}
	ck_assert_int_eq(replayed.n, 0);
	ck_assert_int_eq(quota_account_find(fresh, "a", &b), QUOTA_OK);
	s1 = snap(a);
	s2 = snap(b);
	same(s1, s2);
	free(s1.p);
	free(s2.p);
	quota_ctx_free(c);
	quota_ctx_free(fresh);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, remove_keeps_the_order_of_the_rest);
	tcase_add_test(tc, remove_many_ids_map_stays_whole);
	tcase_add_test(tc, remove_then_load_gives_same_snapshot);
	tcase_add_test(tc, remove_returns_memory_through_allocator);
	tcase_add_test(tc, remove_refused_inside_batch);
	tcase_add_test(tc, ctx_settle_bills_every_account);
	tcase_add_test(tc, ctx_settle_all_or_nothing_under_alloc_failure);
	tcase_add_test(tc, ctx_settle_with_store_stops_at_refusal);
	tcase_add_test(tc, hold_find_by_reservation_key);
	tcase_add_test(tc, hold_find_allocates_nothing);
	tcase_add_test(tc, tick_fires_hold_expired_with_receipt);
	tcase_add_test(tc, tick_events_under_alloc_failure);
	tcase_add_test(tc, replayed_tick_fires_no_event);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
