/*
 * check_faults_renewal.c - allocation failures in R23 auto-renewal: a
 * tick or a charge that renews a package fails allocation N, for every N;
 * the renewal is never done twice, nor half (a package without its
 * payment).  Each test name cites the rule it shows.
 *
 * The scenario sweep of STYLE 19 (single and persistent failures) is in
 * check_faults.c, the R8 keyed calls at a new hour in
 * check_faults_keyed.c; the three share no helpers.
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"

/* ------------------------------------------------ R23 auto-renewal */

typedef struct rworld {
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a;
	quota_offer *o;
	uint32_t cat;
	int64_t exp;
} rworld;

#define R23_PRICE 500000

/* A package of 1,000 units bought from an offer marked to renew at 100
 * units left or a day before expiry; the balance pays two more. */
static void rworld_build(rworld *w)
{
	quota_offer_spec os = {.id = "koo", .units = 1000,
			       .price_micros = R23_PRICE, .valid_months = 1};
	quota_purchase pu;
	int64_t t0 = tu_utc(2025, 3, 1, 0, 0, 0);

	memset(w, 0, sizeof *w);
	tu_alloc_init(&w->al);
	ck_assert_int_eq(quota_ctx_new_with(&w->al.a, &w->ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(w->ctx, "click", &w->cat),
			 QUOTA_OK);
	os.categories = QUOTA_MASK(w->cat);
	ck_assert_int_eq(quota_offer_add(w->ctx, &os, &w->o), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(w->ctx, "koo-1", &w->a), QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(w->a, 3 * R23_PRICE, t0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(w->a, w->o, 1, NULL, t0, NULL, &pu),
			 QUOTA_OK);
	w->exp = pu.expires_at;
	ck_assert_int_eq(quota_renewal_set(w->a, w->o, 100, TU_DAY, t0),
			 QUOTA_OK);
}

static void rworld_snap(const rworld *w, void **p, size_t *n)
{
	ck_assert_int_eq(quota_account_snapshot(w->a, p, n), QUOTA_OK);
}

static int64_t rworld_balance(const rworld *w)
{
	quota_money m;

	ck_assert_int_eq(quota_account_money(w->a, &m), QUOTA_OK);
	return m.balance_micros;
}

/*
 * R23, R8 under allocation failure: a tick that renews (expiry trigger)
 * fails allocation N, for every N: its renewal is refused whole (no
 * package, no payment; the tick's own clock step stands, as it does
 * without a mark) and the tick, repeated, renews once.  A charge that crosses
 * the units level fails allocation N: either the charge is refused whole,
 * or it stands (its record is written) and the renewal is either done
 * with it or, its own write refused, still due: the next tick does it.
 * Never twice, never half (a package without its payment).
 */
START_TEST(test_r23_alloc_sweep_renewal_by_tick_and_by_charge)
{
	int pass, done;
	long n;

	for (pass = 0; pass < 2; pass++) {
		for (n = 1, done = 0; !done && n < 400; n++) {
			rworld w;
			void *s0, *s1;
			size_t n0, n1;
			quota_usage u = {.units = 950};
			quota_receipt r;
			int rc;

			rworld_build(&w);
			rworld_snap(&w, &s0, &n0);
			u.category = w.cat;
			u.at = w.exp - 10 * TU_DAY;
			tu_alloc_fail_in(&w.al, n);
			rc = pass ? quota_charge(w.a, &u, &r)
				  : (int)quota_account_tick(w.a,
							    w.exp - 3600);
			tu_alloc_disarm(&w.al);
			done = w.al.failures == 0;
			if (rc == QUOTA_ENOMEM && pass) {
				/* the charge refused whole */
				ck_assert(quota_errmsg(w.ctx)[0]);
				rworld_snap(&w, &s1, &n1);
				ck_assert_msg(n0 == n1 && !memcmp(s0, s1, n0),
					      "N=%ld: the snapshot changed", n);
				quota_free(w.ctx, s1);
				ck_assert_int_eq(quota_charge(w.a, &u, &r),
						 QUOTA_OK);
			} else if (rc == QUOTA_ENOMEM) {
				/* the tick moved its clock (as without a
				 * mark); its renewal was refused whole */
				ck_assert(quota_errmsg(w.ctx)[0]);
				ck_assert_uint_eq(
					quota_account_package_count(w.a), 1);
				ck_assert_int_eq(rworld_balance(&w),
						 2 * R23_PRICE);
			} else {
				ck_assert_int_eq(rc, QUOTA_OK);
			}
			/* Whatever failed, the next tick leaves exactly one
			 * renewal, paid once. */
			ck_assert_int_ge(quota_account_tick(w.a, w.exp - 3600),
					 0);
			ck_assert_uint_eq(quota_account_package_count(w.a), 2);
			ck_assert_int_eq(rworld_balance(&w), 1 * R23_PRICE);
			{	/* bought at the trigger time, even when the
				   tick after wrote it */
				quota_package_spec sp;

				ck_assert_int_eq(quota_package_get_spec(
					quota_account_package_at(w.a, 1), &sp),
					QUOTA_OK);
				ck_assert_int_eq(sp.effective_at,
						 pass ? u.at : w.exp - TU_DAY);
			}
			quota_free(w.ctx, s0);
			quota_ctx_free(w.ctx);
			ck_assert_int_eq(w.al.live_blocks, 0);
		}
		ck_assert(done);
	}
}
END_TEST

static Suite *faults_renewal_suite(void)
{
	Suite *s = suite_create("faults_renewal");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_r23_alloc_sweep_renewal_by_tick_and_by_charge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_renewal_suite());
}
