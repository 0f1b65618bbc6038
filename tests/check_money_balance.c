/*
 * check_money_balance.c - an account's money (R17, R18): top-ups and the
 * credit limit, a top-up that resumes a suspended account, the
 * settlement's period, minor unit and rounding mode, and
 * quota_money_round's table in each mode.  Each test name cites the rule
 * it shows.
 *
 * The catalog and purchases (R5, R16, R19) are in check_money.c, bad
 * input and failed allocations of offers and purchases in
 * check_money_errors.c; the helpers the three share in support/money.h.
 * test_r18_topup_resumes writes the state settlement leaves through the
 * private layout (lib/ctx.h).
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "ctx.h"
#include "testutil.h"
#include "fixtures.h"
#include "money.h"

/* ------------------------------------------------------ R17, R18 money */

START_TEST(test_r18_topup_and_credit_limit)
{
	world w;
	quota_money m;

	w_build(&w, 0);
	ck_assert_int_eq(quota_account_balance(w.a), 0);
	ck_assert_int_eq(quota_account_suspended(w.a), 0);
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.balance_micros, 0);
	ck_assert_int_eq(m.credit_limit_micros, 0);

	/* Top-ups add exactly. */
	OK(w.ctx, quota_account_topup(w.a, 1, T0));
	OK(w.ctx, quota_account_topup(w.a, USD(18) + 700000, T0));
	OK(w.ctx, quota_account_topup(w.a, 999999, T0));
	ck_assert_int_eq(quota_account_balance(w.a), USD(19) + 700000);

	/* Bad top-ups change nothing. */
	REFUSED(w.a, QUOTA_EINVAL, quota_account_topup(w.a, 0, T0));
	REFUSED(w.a, QUOTA_EINVAL, quota_account_topup(w.a, -1, T0));
	REFUSED(w.a, QUOTA_EINVAL, quota_account_topup(w.a, INT64_MIN, T0));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_topup(w.a, 5, QUOTA_TIME_MAX));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_topup(w.a, 5, QUOTA_TIME_MIN - 1));
	ck_assert_int_eq(quota_account_topup(NULL, 5, T0), QUOTA_EINVAL);
	REFUSED(w.a, QUOTA_EOVERFLOW,
		quota_account_topup(w.a, INT64_MAX, T0));
	OK(w.ctx, quota_account_topup(w.a, INT64_MAX - quota_account_balance(
							       w.a),
				      T0));
	ck_assert_int_eq(quota_account_balance(w.a), INT64_MAX);
	REFUSED(w.a, QUOTA_EOVERFLOW, quota_account_topup(w.a, 1, T0));
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.topped_up_micros, INT64_MAX);

	/* Credit limit. */
	OK(w.ctx, quota_account_set_credit_limit(w.a, USD(50)));
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.credit_limit_micros, USD(50));
	REFUSED(w.a, QUOTA_EINVAL, quota_account_set_credit_limit(w.a, -1));
	OK(w.ctx, quota_account_set_credit_limit(w.a, 0));
	OK(w.ctx, quota_account_set_credit_limit(w.a, INT64_MAX));
	ck_assert_int_eq(quota_account_set_credit_limit(NULL, 1),
			 QUOTA_EINVAL);

	/* NULL handling of the readers. */
	ck_assert_int_eq(quota_account_balance(NULL), 0);
	ck_assert_int_eq(quota_account_suspended(NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_money(NULL, &m), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_money(w.a, NULL), QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(w.ctx), "");
	w_free(&w);
}
END_TEST

/* A top-up that covers what is outstanding resumes the account (R18);
 * a smaller one stays in the balance. */
START_TEST(test_r18_topup_resumes)
{
	world w;
	quota_money m;

	w_build(&w, 0);
	/* What settlement leaves after a 30 USD bill it could not pay,
	 * written in directly: no record says so. */
	tu_journal_skip(w.ctx);
	w.a->suspended = true;
	ck_assert_int_eq(quota__ext_need(w.a), 0);
	w.a->x->outstanding = USD(30);
	w.a->x->nowed = 1;
	w.a->x->billed = USD(30);
	OK(w.ctx, quota_account_topup(w.a, USD(20), T0));
	ck_assert_int_eq(quota_account_suspended(w.a), 1);
	ck_assert_int_eq(quota_account_balance(w.a), USD(20));
	/* A credit limit of 10 makes 20 enough. */
	OK(w.ctx, quota_account_set_credit_limit(w.a, USD(10)));
	ck_assert_int_eq(quota_account_suspended(w.a), 0);
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.balance_micros, -USD(10));
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_uint_eq(m.outstanding_bills, 0);
	ck_assert_int_eq(m.billed_micros, USD(30));
	/* In credit, a purchase still needs the balance (R19). */
	{
		quota_purchase p;

		REFUSED(w.a, QUOTA_EFUNDS,
			buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
		OK(w.ctx, quota_account_topup(w.a, USD(10), T0));
		REFUSED(w.a, QUOTA_EFUNDS,
			buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
		OK(w.ctx, quota_account_topup(w.a, INT64_C(4400000), T0));
		OK(w.ctx, buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
		ck_assert_int_eq(quota_account_balance(w.a), 0);
	}
	w_free(&w);
}
END_TEST

START_TEST(test_r17_set_settlement)
{
	world w;

	w_build(&w, 0);
	OK(w.ctx, quota_account_set_settlement(w.a, QUOTA_PERIOD_HOUR, 10000,
					       QUOTA_ROUND_HALF_UP));
	OK(w.ctx, quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, 1,
					       QUOTA_ROUND_DOWN));
	OK(w.ctx, quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, 1000000,
					       QUOTA_ROUND_HALF_EVEN));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_MONTH, 10000,
					     QUOTA_ROUND_HALF_UP));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_LIFETIME,
					     10000, QUOTA_ROUND_HALF_UP));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, 0, 10000,
					     QUOTA_ROUND_HALF_UP));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, 0,
					     QUOTA_ROUND_HALF_UP));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, -10000,
					     QUOTA_ROUND_HALF_UP));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, 10000, 4));
	REFUSED(w.a, QUOTA_EINVAL,
		quota_account_set_settlement(w.a, QUOTA_PERIOD_DAY, 10000,
					     -1));
	ck_assert_int_eq(quota_account_set_settlement(NULL, QUOTA_PERIOD_DAY,
						      10000,
						      QUOTA_ROUND_HALF_UP),
			 QUOTA_EINVAL);
	w_free(&w);
}
END_TEST

/* Marks an expected QUOTA_EOVERFLOW (no row expects this value). */
#define OVF (INT64_MIN + 7)

/* One row: micros, minor unit, then the result per mode (HALF_UP,
 * HALF_EVEN, UP, DOWN). */
static const struct round_row {
	int64_t v, minor, want[4];
} round_rows[] = {
	/* cents */
	{0, 10000, {0, 0, 0, 0}},
	{1, 10000, {0, 0, 10000, 0}},
	{4999, 10000, {0, 0, 10000, 0}},
	{5000, 10000, {10000, 0, 10000, 0}},
	{5001, 10000, {10000, 10000, 10000, 0}},
	{10000, 10000, {10000, 10000, 10000, 10000}},
	{15000, 10000, {20000, 20000, 20000, 10000}},
	{25000, 10000, {30000, 20000, 30000, 20000}},
	{35000, 10000, {40000, 40000, 40000, 30000}},
	{-1, 10000, {0, 0, -10000, 0}},
	{-4999, 10000, {0, 0, -10000, 0}},
	{-5000, 10000, {-10000, 0, -10000, 0}},
	{-5001, 10000, {-10000, -10000, -10000, 0}},
	{-15000, 10000, {-20000, -20000, -20000, -10000}},
	{-25000, 10000, {-30000, -20000, -30000, -20000}},
	/* 0.044 CNY a message, 3 messages: 0.132 -> 0.13 */
	{132000, 10000, {130000, 130000, 140000, 130000}},
	{INT64_MAX, 10000,
	 {OVF, OVF, OVF, INT64_C(9223372036854770000)}},
	{INT64_C(9223372036854770000), 10000,
	 {INT64_C(9223372036854770000), INT64_C(9223372036854770000),
	  INT64_C(9223372036854770000), INT64_C(9223372036854770000)}},
	{INT64_C(9223372036854774999), 10000,
	 {INT64_C(9223372036854770000), INT64_C(9223372036854770000), OVF,
	  INT64_C(9223372036854770000)}},
	{-INT64_MAX, 10000,
	 {OVF, OVF, OVF, -INT64_C(9223372036854770000)}},
	{INT64_MIN, 10000,
	 {OVF, OVF, OVF, -INT64_C(9223372036854770000)}},
	/* minor unit 1: every value is exact */
	{0, 1, {0, 0, 0, 0}},
	{4999, 1, {4999, 4999, 4999, 4999}},
	{-15000, 1, {-15000, -15000, -15000, -15000}},
	{INT64_MAX, 1, {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}},
	{INT64_MIN, 1, {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN}},
	{INT64_MIN, 2, {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN}},
	/* whole currency units */
	{499999, 1000000, {0, 0, 1000000, 0}},
	{500000, 1000000, {1000000, 0, 1000000, 0}},
	{1500000, 1000000, {2000000, 2000000, 2000000, 1000000}},
	{2500000, 1000000, {3000000, 2000000, 3000000, 2000000}},
	{2500001, 1000000, {3000000, 3000000, 3000000, 2000000}},
	{-2500000, 1000000, {-3000000, -2000000, -3000000, -2000000}},
	{144000000, 1000000, {144000000, 144000000, 144000000, 144000000}},
	/* the largest minor unit */
	{INT64_MAX / 2, INT64_MAX, {0, 0, INT64_MAX, 0}},
	{INT64_MAX / 2 + 1, INT64_MAX, {INT64_MAX, INT64_MAX, INT64_MAX, 0}},
	{INT64_MAX, INT64_MAX, {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}},
	{INT64_MIN, INT64_MAX, {-INT64_MAX, -INT64_MAX, OVF, -INT64_MAX}},
};

static void round_mode(int mode)
{
	size_t i;

	for (i = 0; i < sizeof round_rows / sizeof round_rows[0]; i++) {
		const struct round_row *r = &round_rows[i];
		int64_t out = 0x5a5a5a5a;
		int rc = quota_money_round(r->v, r->minor, mode, &out);

		if (r->want[mode] == OVF) {
			ck_assert_msg(rc == QUOTA_EOVERFLOW,
				      "mode %d row %zu (%lld / %lld): %s", mode,
				      i, (long long)r->v, (long long)r->minor,
				      quota_err_name(rc));
			ck_assert_int_eq(out, 0x5a5a5a5a);
			continue;
		}
		ck_assert_msg(rc == QUOTA_OK && out == r->want[mode],
			      "mode %d row %zu: round(%lld, %lld) = %s %lld, "
			      "want %lld",
			      mode, i, (long long)r->v, (long long)r->minor,
			      quota_err_name(rc), (long long)out,
			      (long long)r->want[mode]);
	}
}

START_TEST(test_r17_round_half_up_table)
{
	round_mode(QUOTA_ROUND_HALF_UP);
}
END_TEST

START_TEST(test_r17_round_half_even_table)
{
	round_mode(QUOTA_ROUND_HALF_EVEN);
}
END_TEST

START_TEST(test_r17_round_up_table)
{
	round_mode(QUOTA_ROUND_UP);
}
END_TEST

START_TEST(test_r17_round_down_table)
{
	round_mode(QUOTA_ROUND_DOWN);
}
END_TEST

START_TEST(test_r17_round_bad_arguments)
{
	int64_t out = 7;

	ck_assert_int_eq(quota_money_round(5000, 0, QUOTA_ROUND_HALF_UP, &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_money_round(5000, -10000, QUOTA_ROUND_HALF_UP,
					   &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_money_round(5000, INT64_MIN, QUOTA_ROUND_DOWN,
					   &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_money_round(5000, 10000, -1, &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_money_round(5000, 10000, 4, &out),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_money_round(5000, 10000, QUOTA_ROUND_UP, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(out, 7);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *money_balance_suite(void)
{
	Suite *s = suite_create("money_balance");
	TCase *money = tcase_create("r17_r18");

	tcase_add_test(money, test_r18_topup_and_credit_limit);
	tcase_add_test(money, test_r18_topup_resumes);
	tcase_add_test(money, test_r17_set_settlement);
	tcase_add_test(money, test_r17_round_half_up_table);
	tcase_add_test(money, test_r17_round_half_even_table);
	tcase_add_test(money, test_r17_round_up_table);
	tcase_add_test(money, test_r17_round_down_table);
	tcase_add_test(money, test_r17_round_bad_arguments);
	suite_add_tcase(s, money);
	return s;
}

int main(void)
{
	return tu_run(money_balance_suite());
}
