/*
 * check_renew.c - auto-renewal (R23), as KooMessage describes it (seed
 * 001): "套餐包 用户在购买套餐包时会一次性付费,套餐包会在到期后自动停止
 * 使用。 ... 如果用户已开启“自动续费”功能,为避免继续产生费用,请在自动续"
 * (a package is paid at once when bought and stops at its expiry; with
 * 自动续费 turned on it is bought again).  Each test name cites R23.
 * Run with QUOTA_TEST_JOURNAL=1 every context here is also replayed in
 * check mode and compared byte for byte (journal_wrap.c).
 */
#include <check.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"

#define DAY 86400

typedef struct evlog {
	int n;
	int32_t kind[32];
	char pkg[32][72];
	int64_t balance[32];
} evlog;

static quota_package_spec spec_of(const quota_package *p)
{
	quota_package_spec s;

	ck_assert_int_eq(quota_package_get_spec(p, &s), QUOTA_OK);
	return s;
}

static int on_event(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (l->n < 32) {
		l->kind[l->n] = e->kind;
		snprintf(l->pkg[l->n], sizeof l->pkg[0], "%s",
			 e->package ? spec_of(e->package).id : "");
		l->balance[l->n] = e->balance_micros;
		l->n++;
	}
	return 0;
}

static int count_kind(const evlog *l, int32_t kind)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->kind[i] == kind;
	return n;
}

typedef struct rows {
	int n;
	int32_t source[16];
	int64_t units[16], cost[16];
} rows;

static int on_row(const quota_report_row *row, void *ud)
{
	rows *r = ud;

	if (r->n < 16) {
		r->source[r->n] = row->source;
		r->units[r->n] = row->units;
		r->cost[r->n] = row->cost_micros;
		r->n++;
	}
	return 0;
}

static int on_csv(const char *buf, size_t len, void *ud)
{
	char *s = ud;
	size_t n = strlen(s);

	if (n + len < 4096) {
		memcpy(s + n, buf, len);
		s[n + len] = '\0';
	}
	return 0;
}

static int64_t balance(const quota_account *a)
{
	quota_money m;

	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	return m.balance_micros;
}

/* KooMessage's click package: 10,000 clicks, 500 yuan (micros), one
 * month.  The world: one account with 1,200 yuan. */
typedef struct koo {
	quota_ctx *c;
	uint32_t click;
	quota_account *a;
	quota_offer *o;
	evlog log;
	int64_t t0;
} koo;

static void koo_setup(koo *k)
{
	quota_offer_spec os = {.id = "koo-pv-10k", .units = 10000,
			       .price_micros = 500000000, .valid_months = 1};

	memset(k, 0, sizeof *k);
	k->c = new_ctx();
	k->click = add_cat(k->c, "rich.click");
	os.categories = QUOTA_MASK(k->click);
	ck_assert_int_eq(quota_offer_add(k->c, &os, &k->o), QUOTA_OK);
	k->a = add_acct(k->c, "koo-svc-1");
	ck_assert_int_eq(quota_ctx_set_event_hook(k->c, on_event, &k->log),
			 QUOTA_OK);
	k->t0 = tu_utc(2025, 3, 1, 0, 0, 0);
	ck_assert_int_eq(quota_account_topup(k->a, 1200000000, k->t0),
			 QUOTA_OK);
}

/* R23: renewing on expiry.  Marked to renew 3 days before expiry: the
 * tick that passes expires_at - 3 days buys the offer again, effective at
 * that instant, once, whatever ticks follow (and across a snapshot). */
START_TEST(test_r23_koomessage_renews_on_expiry)
{
	koo k;
	quota_purchase pu;
	quota_package *p1, *p2 = NULL;
	int64_t exp, due, u = 0, w = 0;
	quota_ctx *c2;
	quota_account *b = NULL;
	void *snap = NULL;
	size_t len = 0;

	koo_setup(&k);
	ck_assert_int_eq(quota_package_buy(k.a, k.o, 1, NULL, k.t0, "m3", &pu),
			 QUOTA_OK);
	p1 = (quota_package *)pu.package;
	exp = pu.expires_at;
	ck_assert_int_eq(exp, tu_utc(2025, 4, 1, 0, 0, 0));
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, QUOTA_RENEWAL_NONE,
					   3 * DAY, k.t0 + 60),
			 QUOTA_OK);
	ck_assert_int_eq(quota_renewal_get(k.a, k.o, &u, &w), QUOTA_OK);
	ck_assert_int_eq(u, QUOTA_RENEWAL_NONE);
	ck_assert_int_eq(w, 3 * DAY);
	due = exp - 3 * DAY;

	/* Before the trigger: nothing. */
	ck_assert_int_eq(quota_account_tick(k.a, due - 1), 0);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 0);
	ck_assert_int_eq(balance(k.a), 700000000);
	/* A tick a day later renews, at the trigger time itself. */
	ck_assert_int_eq(quota_account_tick(k.a, due + DAY), 0);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 1);
	ck_assert_int_eq(balance(k.a), 200000000);
	ck_assert_int_eq(quota_package_find(k.a, "koo-pv-10k#2", &p2),
			 QUOTA_OK);
	ck_assert_str_eq(k.log.pkg[k.log.n - 1], "koo-pv-10k#2");
	ck_assert_int_eq(spec_of(p2).units, 10000);
	ck_assert_int_eq(spec_of(p2).effective_at, due);
	ck_assert_int_eq(spec_of(p2).expires_at,
			 tu_utc(2025, 4, 29, 0, 0, 0));
	ck_assert_int_eq(quota_package_remaining(p1), 10000);
	/* Once per package: later ticks renew nothing more for it. */
	ck_assert_int_eq(quota_account_tick(k.a, exp + DAY), 0);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 1);
	ck_assert_int_eq(balance(k.a), 200000000);

	/* A restart from a snapshot does not renew it again either. */
	c2 = new_ctx();
	add_cat(c2, "rich.click");
	{
		quota_offer_spec os = {.id = "koo-pv-10k",
				       .categories = QUOTA_MASK(0),
				       .units = 10000,
				       .price_micros = 500000000,
				       .valid_months = 1};
		quota_offer *o2;

		ck_assert_int_eq(quota_offer_add(c2, &os, &o2), QUOTA_OK);
		ck_assert_int_eq(quota_account_snapshot(k.a, &snap, &len),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_load(c2, snap, len, &b),
				 QUOTA_OK);
		ck_assert_int_eq(quota_renewal_get(b, o2, NULL, &w), QUOTA_OK);
		ck_assert_int_eq(w, 3 * DAY);
		ck_assert_int_eq(quota_account_tick(b, exp + 2 * DAY), 0);
		ck_assert_int_eq(balance(b), 200000000);
		/* Clearing the mark: the second package is not renewed. */
		ck_assert_int_eq(quota_renewal_clear(b, o2, exp + 2 * DAY),
				 QUOTA_OK);
		ck_assert_int_eq(quota_renewal_get(b, o2, NULL, NULL),
				 QUOTA_ENOTFOUND);
		ck_assert_int_eq(quota_renewal_clear(b, o2, exp + 2 * DAY),
				 QUOTA_ENOTFOUND);
		ck_assert_int_eq(quota_account_tick(b, exp + 60 * DAY), 0);
		ck_assert_int_eq(balance(b), 200000000);
	}
	quota_free(k.c, snap);
	quota_ctx_free(c2);
	quota_ctx_free(k.c);
}
END_TEST

/* R23: renewing on a units-left trigger ("优先扣除套餐包额度": the package
 * is drawn first).  Marked at 1,000 clicks left: the charge that leaves
 * 1,000 or fewer renews, at that charge's time; its own receipt is the
 * charge's as without a mark. */
START_TEST(test_r23_koomessage_renews_on_units_left)
{
	koo k;
	quota_purchase pu;
	quota_package *p1, *p2 = NULL;
	quota_receipt r;
	int64_t at;

	koo_setup(&k);
	ck_assert_int_eq(quota_package_buy(k.a, k.o, 1, NULL, k.t0, NULL, &pu),
			 QUOTA_OK);
	p1 = (quota_package *)pu.package;
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, 1000, QUOTA_RENEWAL_NONE,
					   k.t0),
			 QUOTA_OK);
	ck_assert_int_eq(charge_at(k.a, k.click, 8999, k.t0 + DAY, &r), QUOTA_OK);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 0);
	at = k.t0 + 2 * DAY + 3600;
	ck_assert_int_eq(charge_at(k.a, k.click, 1, at, &r), QUOTA_OK);
	ck_assert_int_eq(r.package_units, 1);
	ck_assert_int_eq(quota_package_remaining(p1), 1000);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 1);
	ck_assert_int_eq(quota_package_find(k.a, "koo-pv-10k#2", &p2),
			 QUOTA_OK);
	ck_assert_int_eq(spec_of(p2).effective_at, at);
	ck_assert_int_eq(balance(k.a), 200000000);
	/* R22 reports show the renewal: a RENEWAL row in the day of the
	 * trigger, after the day's usage rows, with what it bought. */
	{
		rows rs = {0};
		static char csv[4096];

		csv[0] = '\0';
		ck_assert_int_eq(quota_report(k.a, QUOTA_PERIOD_DAY, k.t0,
					      k.t0 + 30 * DAY, on_row, &rs),
				 QUOTA_OK);
		ck_assert_int_eq(rs.n, 3);
		ck_assert_int_eq(rs.source[2], QUOTA_SOURCE_RENEWAL);
		ck_assert_int_eq(rs.units[2], 10000);
		ck_assert_int_eq(rs.cost[2], 500000000);
		ck_assert_int_eq(quota_report_csv(k.a, QUOTA_PERIOD_MONTH, k.t0,
						  k.t0 + 30 * DAY, on_csv, csv),
				 QUOTA_OK);
		ck_assert_ptr_nonnull(strstr(csv, ",renewal,koo-pv-10k#2,"
						  "10000,500000000"));
	}
	/* Further draws from the same package do not renew it again. */
	ck_assert_int_eq(charge_at(k.a, k.click, 500, at + 60, &r), QUOTA_OK);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 1);
	/* The renewal itself is renewable in its turn: 9,000 more clicks
	 * (1,000 - 500 left in the first, it expires first, R3) leave the
	 * second at 1,000 or fewer; the balance (200 yuan) cannot pay. */
	ck_assert_int_eq(charge_at(k.a, k.click, 9500, at + 120, &r), QUOTA_OK);
	ck_assert_int_eq(quota_package_remaining(p2), 1000);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWAL_FAILED), 1);
	ck_assert_int_eq(balance(k.a), 200000000);
	quota_ctx_free(k.c);
}
END_TEST

/* R23: a renewal the balance cannot pay buys nothing, raises
 * RENEWAL_FAILED with the balance, and is never retried: not by later
 * ticks or charges, not after a top-up. */
START_TEST(test_r23_koomessage_renewal_refused_for_funds)
{
	koo k;
	quota_purchase pu;
	quota_package *p2 = NULL;
	quota_receipt r;
	int64_t exp;

	koo_setup(&k);
	ck_assert_int_eq(quota_package_buy(k.a, k.o, 2, NULL, k.t0, "pair",
					   &pu),
			 QUOTA_OK);
	/* 1,000 yuan paid for two; 200 left, a renewal of two costs 1,000. */
	ck_assert_int_eq(balance(k.a), 200000000);
	exp = pu.expires_at;
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, QUOTA_RENEWAL_NONE, DAY,
					   k.t0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(k.a, exp - 1), 0);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWAL_FAILED), 1);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 0);
	ck_assert_str_eq(k.log.pkg[k.log.n - 1], "pair");
	ck_assert_int_eq(k.log.balance[k.log.n - 1], 200000000);
	ck_assert_int_eq(balance(k.a), 200000000);
	ck_assert_int_eq(quota_package_find(k.a, "koo-pv-10k#2", &p2),
			 QUOTA_ENOTFOUND);
	/* Never retried silently. */
	ck_assert_int_eq(quota_account_topup(k.a, 5000000000, exp - 1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(k.a, exp + 1), 0);
	ck_assert_int_eq(charge_at(k.a, k.click, 1, exp - 2, &r), QUOTA_OK);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWAL_FAILED), 1);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 0);
	ck_assert_int_eq(balance(k.a), 5200000000);
	quota_ctx_free(k.c);
}
END_TEST

/* R23: bad input gets its own code and changes nothing. */
START_TEST(test_r23_bad_input)
{
	koo k;
	quota_ctx *c2 = new_ctx();
	quota_offer_spec os = {.id = "x", .units = 1, .price_micros = 1,
			       .categories = 1};
	quota_offer *other;

	koo_setup(&k);
	add_cat(c2, "c");
	ck_assert_int_eq(quota_offer_add(c2, &os, &other), QUOTA_OK);
	ck_assert_int_eq(quota_renewal_set(NULL, k.o, 1, 1, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, NULL, 1, 1, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, other, 1, 1, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, QUOTA_RENEWAL_NONE,
					   QUOTA_RENEWAL_NONE, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, -2, 1, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, 1, -5, k.t0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, 1, 1, QUOTA_TIME_MAX),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_get(k.a, k.o, NULL, NULL),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_renewal_clear(k.a, k.o, k.t0), QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_renewal_clear(NULL, k.o, k.t0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_get(NULL, k.o, NULL, NULL),
			 QUOTA_EINVAL);
	/* an offer of another context: EINVAL from all three, as the page
	 * says (renewal_get answered ENOTFOUND) */
	ck_assert_int_eq(quota_renewal_get(k.a, other, NULL, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_renewal_clear(k.a, other, k.t0), QUOTA_EINVAL);
	quota_ctx_free(c2);
	quota_ctx_free(k.c);
}
END_TEST

/* R23 after quota_account_load: a units-left trigger met by a charge
 * after the account was loaded from a snapshot buys the renewal at that
 * charge's time, as in the account that was snapshotted (the loaded
 * packages' renewal state had a field left unset, which made the
 * renewal dated at the mark's time). */
START_TEST(test_r23_renews_at_trigger_after_load)
{
	tu_alloc ta;
	quota_offer_spec os = {.id = "o", .units = 10,
			       .price_micros = 1000000, .valid_days = 2};
	int64_t t0 = tu_utc(2025, 3, 1, 0, 0, 0);
	quota_ctx *c;
	quota_offer *o;
	quota_account *a;
	quota_purchase pu;
	quota_package *p2 = NULL, *p3 = NULL;
	quota_receipt r;
	uint32_t cat;
	void *snap = NULL;
	size_t n = 0;

	/* new bytes 0xBE (tu_alloc's fill): a field the load leaves unset
	 * is not 0 by luck */
	tu_alloc_init(&ta);
	ta.fill = 1;
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &c), QUOTA_OK);
	cat = add_cat(c, "rich.click");
	os.categories = QUOTA_MASK(cat);
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	a = add_acct(c, "koo-svc-2");
	ck_assert_int_eq(quota_account_topup(a, 5000000, t0), QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(a, o, 1, NULL, t0, NULL, &pu),
			 QUOTA_OK);
	ck_assert_int_eq(quota_renewal_set(a, o, 2, QUOTA_RENEWAL_NONE, t0),
			 QUOTA_OK);
	/* 8 left of 10 meets nothing; 9 drawn renews at t0 + 10 */
	ck_assert_int_eq(charge_at(a, cat, 9, t0 + 10, &r), QUOTA_OK);
	ck_assert_int_eq(quota_package_find(a, "o#2", &p2), QUOTA_OK);
	ck_assert_int_eq(spec_of(p2).effective_at, t0 + 10);
	ck_assert_int_eq(quota_account_snapshot(a, &snap, &n), QUOTA_OK);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(c, snap, n, &a), QUOTA_OK);
	quota_free(c, snap);
	/* the first package's 1 unit, then 8 of the second's 10: 2 left,
	 * its trigger met by this charge, at its time */
	ck_assert_int_eq(charge_at(a, cat, 9, t0 + DAY + 10, &r), QUOTA_OK);
	ck_assert_int_eq(quota_package_find(a, "o#3", &p3), QUOTA_OK);
	ck_assert_int_eq(spec_of(p3).effective_at, t0 + DAY + 10);
	ck_assert_int_eq(spec_of(p3).expires_at, t0 + 3 * DAY + 10);
	quota_ctx_free(c);
}
END_TEST

/* R23, §7: a package bought from an offer and pruned (exhausted,
 * QUOTA_PRUNE_PACKAGES) leaves the renewal state too.  It stayed there,
 * freed: the snapshot after the prune read it and would not load
 * (QUOTA_ECORRUPT), and a later mark renewed the pruned package, billing
 * a purchase no package asked for. */
START_TEST(test_r23_pruned_bought_package_leaves_renewals)
{
	koo k;
	quota_purchase pu;
	quota_receipt r;
	quota_package *p = NULL;
	quota_ctx *c2;
	quota_account *b = NULL;
	quota_offer *o2;
	quota_offer_spec os = {.id = "koo-pv-10k", .units = 10000,
			       .price_micros = 500000000, .valid_months = 1};
	void *snap = NULL;
	size_t len = 0;

	koo_setup(&k);
	ck_assert_int_eq(quota_account_topup(k.a, 2000000000, k.t0), QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(k.a, k.o, 1, NULL, k.t0, "B1", &pu),
			 QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(k.a, k.o, 1, NULL, k.t0 + 60, "B2",
					   &pu),
			 QUOTA_OK);
	/* B1 (expiring first) drawn to 0, then one of B2's */
	ck_assert_int_eq(charge_at(k.a, k.click, 10000, k.t0 + 3600, &r),
			 QUOTA_OK);
	ck_assert_int_eq(charge_at(k.a, k.click, 1, k.t0 + 3 * DAY, &r),
			 QUOTA_OK);
	ck_assert_int_eq(quota_settle(k.a, k.t0 + 3 * DAY, NULL, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_prune(k.a, k.t0 + 3 * DAY,
					     QUOTA_PRUNE_ALL |
						     QUOTA_PRUNE_PACKAGES),
			 QUOTA_OK);
	ck_assert_uint_eq(quota_account_package_count(k.a), 1);
	/* the snapshot after the prune loads, equal */
	c2 = new_ctx();
	add_cat(c2, "rich.click");
	os.categories = QUOTA_MASK(0);
	ck_assert_int_eq(quota_offer_add(c2, &os, &o2), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(k.a, &snap, &len), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(c2, snap, len, &b), QUOTA_OK);
	quota_free(k.c, snap);
	ck_assert_int_eq(quota_account_snapshot(b, &snap, &len), QUOTA_OK);
	{
		void *s1;
		size_t n1;

		ck_assert_int_eq(quota_account_snapshot(k.a, &s1, &n1),
				 QUOTA_OK);
		ck_assert_uint_eq(n1, len);
		ck_assert(memcmp(s1, snap, len) == 0);
		quota_free(k.c, s1);
	}
	quota_free(c2, snap);
	quota_ctx_free(c2);
	/* Renew 30 days before expiry, marked at day 3: B2 renews at the
	 * mark (#2), #2 at its own trigger on day 4 (#3); nothing for B1. */
	ck_assert_int_eq(quota_renewal_set(k.a, k.o, QUOTA_RENEWAL_NONE,
					   30 * DAY, k.t0 + 3 * DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(k.a, k.t0 + 4 * DAY), 0);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWED), 2);
	ck_assert_int_eq(count_kind(&k.log, QUOTA_EVENT_RENEWAL_FAILED), 0);
	ck_assert_int_eq(quota_package_find(k.a, "koo-pv-10k#3", &p),
			 QUOTA_OK);
	ck_assert_int_eq(quota_package_find(k.a, "koo-pv-10k#4", &p),
			 QUOTA_ENOTFOUND);
	/* 1,200 + 2,000 yuan less four purchases of 500 */
	ck_assert_int_eq(balance(k.a), 1200000000);
	quota_ctx_free(k.c);
}
END_TEST

/* R23 under allocation failure: fail the Nth allocation of a tick that
 * renews, for every N until it succeeds; each failure changes nothing
 * (no package, no payment), and the success renews once. */
START_TEST(test_r23_renewal_under_allocation_failure)
{
	tu_alloc ta;
	quota_ctx *c = NULL;
	quota_offer_spec os = {.id = "koo-pv-10k", .units = 10000,
			       .price_micros = 500000000, .valid_months = 1};
	quota_offer *o;
	quota_account *a;
	quota_purchase pu;
	int64_t t0 = tu_utc(2025, 3, 1, 0, 0, 0), n;
	long fail;
	int done = 0;

	tu_alloc_init(&ta);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &c), QUOTA_OK);
	os.categories = QUOTA_MASK(add_cat(c, "rich.click"));
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	a = add_acct(c, "koo-svc-2");
	ck_assert_int_eq(quota_account_topup(a, 1000000000, t0), QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(a, o, 1, NULL, t0, NULL, &pu),
			 QUOTA_OK);
	for (fail = 1; !done && fail < 200; fail++) {
		tu_alloc_fail_in(&ta, fail);
		n = quota_renewal_set(a, o, QUOTA_RENEWAL_NONE, DAY,
				      pu.expires_at - 1);
		tu_alloc_disarm(&ta);
		if (n == QUOTA_OK) {
			done = 1;
			break;
		}
		ck_assert_int_eq(n, QUOTA_ENOMEM);
		/* Either the mark was refused whole, or it stands and the
		 * renewal was refused whole: never a half purchase. */
		ck_assert_int_eq(balance(a), 500000000);
		ck_assert_uint_eq(quota_account_package_count(a), 1);
	}
	ck_assert(done);
	ck_assert_int_eq(balance(a), 0);
	ck_assert_uint_eq(quota_account_package_count(a), 2);
	quota_ctx_free(c);
	ck_assert_int_eq(ta.live_blocks, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("renew");
	TCase *tc = tcase_create("r23");

	tcase_add_test(tc, test_r23_koomessage_renews_on_expiry);
	tcase_add_test(tc, test_r23_koomessage_renews_on_units_left);
	tcase_add_test(tc, test_r23_koomessage_renewal_refused_for_funds);
	tcase_add_test(tc, test_r23_bad_input);
	tcase_add_test(tc, test_r23_renewal_under_allocation_failure);
	tcase_add_test(tc, test_r23_renews_at_trigger_after_load);
	tcase_add_test(tc, test_r23_pruned_bought_package_leaves_renewals);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
