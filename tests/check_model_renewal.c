/*
 * check_model_renewal.c - auto-renewal (R23) against a model of its own,
 * in random runs of charges, ticks, renewal marks (set, replaced,
 * cleared), top-ups and purchases at non-decreasing times (the model and
 * what is compared after every step: above test_r23_model_random_renewals).
 *
 * Moved from check_model.c, which keeps the property test of the
 * charging engine against its model (tests/support/model.h, which gives
 * this file MCHECK, the base seed and NRUNS); the model of gift money
 * (R24) is check_model_gift.c.
 *
 *   QUOTA_TEST_SEED=n   replay a seed (printed at the start)
 *   QUOTA_TEST_QUICK=1  ~10x fewer steps (valgrind)
 */
#define _DEFAULT_SOURCE /* model.h: localtime_r, setenv, tzset, tm_gmtoff */
#include <check.h>

#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>

#include "quota.h"
#include "testutil.h"
#include "model.h" /* NRUNS, MCHECK, g_base, base_seed */

/* ------------------------------------------------ R23 auto-renewal */

/*
 * A model of R23 on its own (one category, one offer of U units for P
 * micros valid 30 days, overage STOP so every charge is drawn from
 * packages or refused): plain arrays and the rule as quota_renewal_set(3)
 * states it.  Random charges, ticks, marks (set, replaced, cleared),
 * top-ups and purchases at non-decreasing times; after every step the
 * packages (units, remaining, dates), the balance and the renewal events
 * must be the model's.
 */
#define RM_U 1000
#define RM_P 700000
#define RM_MAXPK 400

typedef struct rmpkg {
	int64_t eff, exp, rem;
	int state; /* 0 not yet, 1 renewed, 2 refused */
} rmpkg;

typedef struct rmodel {
	rmpkg pk[RM_MAXPK];
	int n;
	int64_t balance;
	bool marked;
	int64_t level, within, since;
	long renewed, failed;
} rmodel;

static struct {
	long renewed, failed;
} g_rev;

static int r23_hook(const quota_event *e, void *ud)
{
	(void)ud;
	g_rev.renewed += e->kind == QUOTA_EVENT_RENEWED;
	g_rev.failed += e->kind == QUOTA_EVENT_RENEWAL_FAILED;
	return 0;
}

static void rm_buy(rmodel *M, int64_t at)
{
	ck_assert_int_lt(M->n, RM_MAXPK);
	M->pk[M->n++] = (rmpkg){at, at + 30 * TU_DAY, RM_U, 0};
	M->balance -= RM_P;
}

/* The renewals due at now (units-left trigger met at usage time now),
 * over the packages there before any of them. */
static void rm_due(rmodel *M, int64_t now)
{
	int i, n = M->n;

	if (!M->marked)
		return;
	for (i = 0; i < n; i++) {
		rmpkg *p = &M->pk[i];
		bool met = false;
		int64_t when = 0, t;

		if (p->state)
			continue;
		if (M->within >= 0 && p->exp > M->since &&
		    now >= p->exp - M->within) {
			t = p->exp - M->within;
			when = t > M->since ? t : M->since;
			met = true;
		}
		t = now > M->since ? now : M->since;
		if (M->level >= 0 && p->rem <= M->level && p->exp > t &&
		    (!met || t < when)) {
			when = t;
			met = true;
		}
		if (!met)
			continue;
		if (M->balance >= RM_P) {
			p->state = 1;
			M->renewed++;
			rm_buy(M, when);
		} else {
			p->state = 2;
			M->failed++;
		}
	}
}

/* R3 among packages of one offer: soonest expiry, then effective, then
 * the order bought. */
static int rm_charge(rmodel *M, int64_t units, int64_t at)
{
	int64_t avail = 0, left = units;
	int i, j, best;
	bool used[RM_MAXPK] = {false};

	for (i = 0; i < M->n; i++)
		if (M->pk[i].eff <= at && at < M->pk[i].exp)
			avail += M->pk[i].rem;
	if (avail < units)
		return QUOTA_EEXHAUSTED;
	while (left > 0) {
		for (best = -1, j = 0; j < M->n; j++) {
			const rmpkg *p = &M->pk[j];

			if (used[j] || !p->rem || p->eff > at || at >= p->exp)
				continue;
			if (best < 0 || p->exp < M->pk[best].exp ||
			    (p->exp == M->pk[best].exp &&
			     p->eff < M->pk[best].eff))
				best = j;
		}
		used[best] = true;
		i = best;
		if (M->pk[i].rem >= left) {
			M->pk[i].rem -= left;
			left = 0;
		} else {
			left -= M->pk[i].rem;
			M->pk[i].rem = 0;
		}
	}
	return QUOTA_OK;
}

static void rm_check(const rmodel *M, quota_account *a, long step)
{
	quota_money mo;
	uint32_t i;

	ck_assert_int_eq(quota_account_money(a, &mo), QUOTA_OK);
	MCHECK(mo.balance_micros == M->balance, "R23 step %ld: balance %lld, "
	       "model %lld", step, (long long)mo.balance_micros,
	       (long long)M->balance);
	MCHECK(quota_account_package_count(a) == (uint32_t)M->n,
	       "R23 step %ld: %u packages, model %d", step,
	       quota_account_package_count(a), M->n);
	for (i = 0; i < (uint32_t)M->n; i++) {
		quota_package *p = quota_account_package_at(a, i);
		quota_package_spec s;

		ck_assert_int_eq(quota_package_get_spec(p, &s), QUOTA_OK);
		MCHECK(s.effective_at == M->pk[i].eff &&
			       s.expires_at == M->pk[i].exp &&
			       quota_package_remaining(p) == M->pk[i].rem,
		       "R23 step %ld: package %u differs", step, i);
	}
	MCHECK(g_rev.renewed == M->renewed && g_rev.failed == M->failed,
	       "R23 step %ld: events %ld/%ld, model %ld/%ld", step,
	       g_rev.renewed, g_rev.failed, M->renewed, M->failed);
}

START_TEST(test_r23_model_random_renewals)
{
	static rmodel M;
	quota_offer_spec os = {.id = "pv", .units = RM_U,
			       .price_micros = RM_P, .valid_days = 30};
	quota_ctx *c = NULL;
	quota_account *a = NULL;
	quota_offer *o = NULL;
	quota_purchase pu;
	quota_receipt r;
	uint32_t cat;
	tu_rng g;
	int64_t t = tu_utc(2025, 1, 1, 0, 0, 0);
	long step, steps = tu_quick() ? 300 : 3000;

	memset(&M, 0, sizeof M);
	memset(&g_rev, 0, sizeof g_rev);
	tu_rng_seed(&g, g_base + 23 + (uint64_t)_i);
	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(c, "click", &cat), QUOTA_OK);
	os.categories = QUOTA_MASK(cat);
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(c, "r23", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_overage(a, cat, QUOTA_OVERAGE_STOP),
			 QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, r23_hook, NULL), QUOTA_OK);
	for (step = 0; step < steps && M.n < RM_MAXPK - 8; step++) {
		int w = (int)tu_rng_range(&g, 0, 99), rc;
		int64_t v;

		t += tu_rng_range(&g, 0, 3 * TU_DAY);
		if (w < 40) {
			quota_usage u = {.category = cat, .at = t};

			u.units = tu_rng_range(&g, 1, 900);
			rc = quota_charge(a, &u, &r);
			MCHECK(rc == rm_charge(&M, u.units, t),
			       "R23 step %ld: charge %s", step,
			       quota_err_name(rc));
			if (!rc)
				rm_due(&M, t);
		} else if (w < 60) {
			ck_assert_int_ge(quota_account_tick(a, t), 0);
			rm_due(&M, t);
		} else if (w < 70) {
			int64_t lv = tu_rng_chance(&g, 1, 4)
					     ? QUOTA_RENEWAL_NONE
					     : tu_rng_range(&g, 0, RM_U);
			int64_t wi = lv >= 0 && tu_rng_chance(&g, 1, 3)
					     ? QUOTA_RENEWAL_NONE
					     : tu_rng_range(&g, 0, 10 * TU_DAY);

			ck_assert_int_eq(quota_renewal_set(a, o, lv, wi, t),
					 QUOTA_OK);
			M.marked = true;
			M.level = lv;
			M.within = wi;
			M.since = t;
			rm_due(&M, t);
		} else if (w < 74) {
			rc = quota_renewal_clear(a, o, t);
			ck_assert_int_eq(rc, M.marked ? QUOTA_OK
						      : QUOTA_ENOTFOUND);
			M.marked = false;
		} else if (w < 88) {
			v = tu_rng_range(&g, 1, 3 * RM_P);
			ck_assert_int_eq(quota_account_topup(a, v, t), QUOTA_OK);
			M.balance += v;
		} else {
			rc = quota_package_buy(a, o, 1, NULL, t, NULL, &pu);
			ck_assert_int_eq(rc, M.balance >= RM_P ? QUOTA_OK
							       : QUOTA_EFUNDS);
			if (!rc)
				rm_buy(&M, t);
		}
		rm_check(&M, a, step);
	}
	fprintf(stderr, "check_model_renewal R23 run %d: %ld steps, "
		"%d packages, %ld renewed, %ld refused\n", _i, step, M.n,
		M.renewed, M.failed);
	ck_assert_int_gt(M.renewed, 0);
	if (!tu_quick()) /* 300 steps may see no refusal */
		ck_assert_int_gt(M.failed, 0);
	quota_ctx_free(c);
}
END_TEST

static Suite *model_renewal_suite(void)
{
	Suite *s = suite_create("model_renewal");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_r23_model_random_renewals, 0, NRUNS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* MCHECK's messages name the seed that replays the run. */
	g_seed = g_base = base_seed();
	fprintf(stderr, "check_model_renewal: QUOTA_TEST_SEED=%llu\n",
		(unsigned long long)g_base);
	return tu_run(model_renewal_suite());
}
