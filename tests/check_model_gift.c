/*
 * check_model_gift.c - gift money (R24) against a model of its own, in
 * random runs of grants, top-ups, purchases of a fixed-price offer,
 * ticks, payment orders and credit limits at random times (the model and
 * what is compared after every step: above test_r24_gift_money_model).
 *
 * Moved from check_model.c, which keeps the property test of the
 * charging engine against its model (tests/support/model.h, which gives
 * this file the base seed and NRUNS); the model of auto-renewal (R23) is
 * check_model_renewal.c.  Bills pay through the same split: check_gift.c.
 *
 *   QUOTA_TEST_SEED=n   replay a seed (printed at the start)
 *   QUOTA_TEST_QUICK=1  ~10x fewer steps (valgrind)
 */
#define _DEFAULT_SOURCE /* model.h: localtime_r, setenv, tzset, tm_gmtoff */
#include <check.h>

#include <stdio.h>
#include <string.h>
#include <stdint.h>

#include "quota.h"
#include "testutil.h"
#include "model.h" /* NRUNS, g_base, base_seed */

/* ------------------------------------------------- R24 money model */

/*
 * Gift money (R24) against a model of its own: the grants as an
 * unsorted list in the order granted (the one to spend is found by a
 * linear scan for the soonest expiry, then the earliest grant), the cash
 * balance and the credit limit.  Random grants, top-ups, purchases of a
 * fixed-price offer, ticks, payment orders and credit limits at random
 * times; after every step the return code, the purchase's split, the
 * account's money and the gift balance usable at a few times equal the
 * model's.  (Bills pay through the same split: check_gift.c.)
 */
#define GMAX 400

typedef struct gmodel {
	int64_t micros[GMAX], exp[GMAX]; /* in the order granted */
	int n;
	int64_t cash, limit, clock;
	int64_t granted, spent, expired, topped, purchased;
	int32_t order;
	uint32_t flags;
} gmodel;

static int64_t gm_usable(const gmodel *m, int64_t t)
{
	int64_t s = 0;
	int i;

	for (i = 0; i < m->n; i++)
		if (m->exp[i] > t)
			s += m->micros[i];
	return s;
}

static void gm_forfeit(gmodel *m, int64_t t)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (m->exp[i] <= t && m->micros[i]) {
			m->expired += m->micros[i];
			m->micros[i] = 0;
		}
}

static void gm_take_gift(gmodel *m, int64_t x)
{
	while (x > 0) {
		int i, best = -1;

		for (i = 0; i < m->n; i++)
			if (m->micros[i] &&
			    (best < 0 || m->exp[i] < m->exp[best]))
				best = i;
		ck_assert_int_ge(best, 0);
		if (m->micros[best] >= x) {
			m->micros[best] -= x;
			x = 0;
		} else {
			x -= m->micros[best];
			m->micros[best] = 0;
		}
	}
}

START_TEST(test_r24_gift_money_model)
{
	static gmodel m;
	tu_rng g;
	quota_ctx *ctx;
	quota_account *a;
	quota_offer *offer;
	quota_offer_spec os = {0};
	uint32_t cat;
	int64_t t = tu_utc(2024, 3, 1, 0, 0, 0), price = 1500000;
	int step, nbuy = 0, nfunds = 0, nexp = 0;

	memset(&m, 0, sizeof m);
	m.clock = INT64_MIN;
	tu_rng_seed(&g, g_base + 1000 + (uint64_t)_i);
	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &cat), QUOTA_OK);
	os.id = "bundle";
	os.categories = QUOTA_MASK(cat);
	os.units = 100;
	os.price_micros = price;
	ck_assert_int_eq(quota_offer_add(ctx, &os, &offer), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "g", &a), QUOTA_OK);
	for (step = 0; step < (tu_quick() ? 300 : 3000); step++) {
		int64_t w = tu_rng_range(&g, 0, 99), x, e;
		quota_purchase p;
		quota_money q;
		int rc, want = QUOTA_OK, k;

		t += tu_rng_range(&g, 0, 8 * TU_HOUR);
		if (w < 25 && m.n < GMAX) { /* a grant, some of them bad */
			x = tu_rng_chance(&g, 1, 20)
				    ? -tu_rng_range(&g, 0, 5)
				    : tu_rng_range(&g, 1, 2000000);
			e = tu_rng_chance(&g, 1, 3)
				    ? QUOTA_NEVER
				    : t + tu_rng_range(&g, -TU_HOUR, 4 * TU_DAY);
			if (x <= 0 || (e != QUOTA_NEVER && e <= t))
				want = QUOTA_EINVAL;
			rc = quota_gift_grant(a, x, e, t);
			if (!want) {
				gm_forfeit(&m, t);
				m.micros[m.n] = x;
				m.exp[m.n++] = e;
				m.granted += x;
			}
		} else if (w < 40) {
			x = tu_rng_range(&g, 1, 1500000);
			rc = quota_account_topup(a, x, t);
			gm_forfeit(&m, t);
			m.cash += x;
			m.topped += x;
		} else if (w < 75) {
			int64_t gift = gm_usable(&m, t),
				cash = m.cash > 0 ? m.cash : 0, room, gg, cc;

			room = m.flags & QUOTA_PAY_CREDIT_PURCHASES
				       ? m.limit + (m.cash < 0 ? m.cash : 0)
				       : 0;
			if (m.order == QUOTA_PAY_CASH_FIRST) {
				cc = cash < price ? cash : price;
				gg = gift < price - cc ? gift : price - cc;
			} else {
				gg = gift < price ? gift : price;
				cc = cash < price - gg ? cash : price - gg;
			}
			if (price - gg - cc > 0 && price - gg - cc > room)
				want = QUOTA_EFUNDS;
			rc = quota_package_buy(a, offer, 1, NULL, t, NULL, &p);
			if (!want) {
				nbuy++;
				gm_forfeit(&m, t);
				gm_take_gift(&m, gg);
				m.spent += gg;
				m.cash -= price - gg;
				m.purchased += price;
				ck_assert_int_eq(p.gift_micros, gg);
				ck_assert_int_eq(p.cash_micros, cc);
				ck_assert_int_eq(p.credit_micros,
						 price - gg - cc);
			} else {
				nfunds++;
			}
		} else if (w < 88) {
			rc = (int)quota_account_tick(a, t);
			if (t > m.clock)
				m.clock = t;
			x = m.expired;
			gm_forfeit(&m, t);
			nexp += m.expired > x;
		} else if (w < 94) {
			int32_t o = (int32_t)tu_rng_range(&g, -1, 2);
			uint32_t f = (uint32_t)tu_rng_range(&g, 0, 2);

			if ((o != 0 && o != 1) || f > 1)
				want = QUOTA_EINVAL;
			rc = quota_account_set_pay_order(a, o, f);
			if (!want) {
				m.order = o;
				m.flags = f;
			}
		} else {
			x = tu_rng_range(&g, 0, 3000000);
			rc = quota_account_set_credit_limit(a, x);
			gm_forfeit(&m, m.clock); /* at the account clock */
			m.limit = x;
		}
		ck_assert_msg(rc == want, "step %d: %s, want %s", step,
			      quota_err_name(rc), quota_err_name(want));
		ck_assert_int_eq(quota_account_money(a, &q), QUOTA_OK);
		ck_assert_int_eq(q.balance_micros, m.cash);
		ck_assert_int_eq(q.gift_micros, gm_usable(&m, INT64_MIN));
		ck_assert_int_eq(q.gift_granted_micros, m.granted);
		ck_assert_int_eq(q.gift_spent_micros, m.spent);
		ck_assert_int_eq(q.gift_expired_micros, m.expired);
		ck_assert_int_eq(q.topped_up_micros, m.topped);
		ck_assert_int_eq(q.purchased_micros, m.purchased);
		ck_assert_int_eq(q.credit_limit_micros, m.limit);
		ck_assert_int_eq(q.pay_order, m.order);
		ck_assert_uint_eq(q.pay_flags, m.flags);
		for (k = 0; k < 3; k++) {
			int64_t at = t + k * TU_DAY;

			ck_assert_int_eq(quota_gift_balance(a, at),
					 gm_usable(&m, at));
		}
	}
	ck_assert_int_gt(nbuy, 0);
	ck_assert_int_gt(nfunds, 0);
	if (!tu_quick()) /* 300 steps (valgrind) may see no expiry */
		ck_assert_int_gt(nexp, 0);
	fprintf(stderr,
		"check_model_gift R24 run %d: %d purchases, %d refused for "
		"funds, %d ticks forfeiting, granted %lld, spent %lld, "
		"expired %lld\n",
		_i, nbuy, nfunds, nexp, (long long)m.granted,
		(long long)m.spent, (long long)m.expired);
	quota_ctx_free(ctx);
}
END_TEST

static Suite *model_gift_suite(void)
{
	Suite *s = suite_create("model_gift");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_r24_gift_money_model, 0, NRUNS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	g_base = base_seed();
	fprintf(stderr, "check_model_gift: QUOTA_TEST_SEED=%llu\n",
		(unsigned long long)g_base);
	return tu_run(model_gift_suite());
}
