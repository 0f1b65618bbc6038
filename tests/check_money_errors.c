/*
 * check_money_errors.c - bad input and failed allocations of the catalog
 * and purchases (R16, R19): every bad offer spec, quote and purchase is
 * refused with its code and changes nothing; quota_offer_add and
 * quota_package_buy fail allocation N for every N until they succeed,
 * and each failure adds nothing, debits nothing and leaks nothing.  The
 * bad-input tests' names cite the rule they show.
 *
 * The catalog and purchases themselves are in check_money.c, an
 * account's money (R17, R18) in check_money_balance.c; the helpers the
 * three share in support/money.h.
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

/* ------------------------------------------------------------ bad input */

START_TEST(test_r16_offer_add_bad_input)
{
	world w, w2;
	quota_offer *o;
	quota_offer_spec base, s;
	char longid[QUOTA_ID_MAX + 2];
	quota_tariff *foreign;

	w_build(&w, 0);
	w_build(&w2, 0);
	foreign = w2.sms_qty;
	memset(longid, 'y', QUOTA_ID_MAX + 1);
	longid[QUOTA_ID_MAX + 1] = '\0';

	memset(&base, 0, sizeof base);
	base.id = "new";
	base.categories = QUOTA_MASK(w.email);
	base.units = 1000;
	base.price_micros = USD(1);
	base.valid_months = 6;

	/* Rows: a base spec with one thing wrong; each refused with its
	 * code and nothing added. */
#define ROW(want_, stmt_)                                                      \
	do {                                                                   \
		s = base;                                                      \
		stmt_;                                                         \
		o = (quota_offer *)&w;                                         \
		ck_assert_msg(quota_offer_add(w.ctx, &s, &o) == (want_),       \
			      "%s: want %s (%s)", #stmt_,                      \
			      quota_err_name(want_), quota_errmsg(w.ctx));     \
		ck_assert_ptr_null(o);                                         \
		ck_assert_str_ne(quota_errmsg(w.ctx), "");                     \
		ck_assert_int_eq(quota_offer_find(w.ctx, "new", &o),           \
				 QUOTA_ENOTFOUND);                             \
	} while (0)

	ROW(QUOTA_EINVAL, s.id = NULL);
	ROW(QUOTA_EINVAL, s.id = "");
	ROW(QUOTA_EINVAL, s.id = longid);
	ROW(QUOTA_EENCODING, s.id = "bad\xff");
	ROW(QUOTA_EENCODING, s.id = "\xc0\xafovl");
	ROW(QUOTA_EENCODING, s.id = "\xed\xa0\x80sur");
	ROW(QUOTA_EEXISTS, s.id = "ses-600k");
	ROW(QUOTA_EINVAL, s.categories = 0);
	ROW(QUOTA_ENOTFOUND, s.categories = QUOTA_MASK(3));
	ROW(QUOTA_ENOTFOUND, s.categories = QUOTA_MASK(w.email) | QUOTA_MASK(63));
	ROW(QUOTA_EINVAL, s.units = -1);
	ROW(QUOTA_EINVAL, s.price_micros = -1);
	ROW(QUOTA_EINVAL, s.unit_tariff = w.sms_qty);
	ROW(QUOTA_EINVAL, s.min_units = 100);
	ROW(QUOTA_EINVAL, s.step_units = 100);
	ROW(QUOTA_EINVAL, s.max_units = 100);
	ROW(QUOTA_EINVAL, s.valid_months = -1);
	ROW(QUOTA_EINVAL, s.valid_months = 1201);
	ROW(QUOTA_EINVAL, s.valid_days = -1);
	ROW(QUOTA_EINVAL, s.valid_days = 36601);
	ROW(QUOTA_EINVAL, s.flags = 2);
	ROW(QUOTA_EINVAL, s.flags = QUOTA_PACKAGE_STOP | 0x80000000u);
	/* By quantity. */
	base.units = 0;
	base.price_micros = 0;
	base.unit_tariff = w.sms_qty;
	base.min_units = 100;
	base.step_units = 100;
	ROW(QUOTA_EINVAL, s.unit_tariff = NULL);
	ROW(QUOTA_EINVAL, s.unit_tariff = foreign);
	ROW(QUOTA_EINVAL, s.min_units = 0);
	ROW(QUOTA_EINVAL, s.min_units = -100);
	ROW(QUOTA_EINVAL, s.step_units = 0);
	ROW(QUOTA_EINVAL, s.step_units = -1);
	ROW(QUOTA_EINVAL, s.max_units = 99);
	ROW(QUOTA_EINVAL, s.max_units = -1);
	ROW(QUOTA_EINVAL, s.price_micros = 1);
	ROW(QUOTA_EINVAL, s.price_micros = -1);
#undef ROW
	/* NULL arguments. */
	s = base;
	o = (quota_offer *)&w;
	ck_assert_int_eq(quota_offer_add(NULL, &s, &o), QUOTA_EINVAL);
	ck_assert_ptr_null(o);
	o = (quota_offer *)&w;
	ck_assert_int_eq(quota_offer_add(w.ctx, NULL, &o), QUOTA_EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(quota_offer_add(w.ctx, &s, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_offer_find(w.ctx, "new", &o), QUOTA_ENOTFOUND);
	/* The edges that are fine. */
	s.max_units = 100; /* max == min */
	s.valid_months = 1200;
	s.valid_days = 36600;
	OK(w.ctx, quota_offer_add(w.ctx, &s, &o));
	s = base;
	s.id = "新しい";
	s.categories = QUOTA_MASK(w.verify) | QUOTA_MASK(w.notify) |
		       QUOTA_MASK(w.email);
	OK(w.ctx, quota_offer_add(w.ctx, &s, &o));
	OK(w.ctx, quota_offer_find(w.ctx, "新しい", &o));
	/* A spec's strings are copied. */
	{
		char id[16];
		quota_offer *f;

		strcpy(id, "copied");
		s.id = id;
		OK(w.ctx, quota_offer_add(w.ctx, &s, &o));
		memset(id, 'z', sizeof id - 1);
		OK(w.ctx, quota_offer_find(w.ctx, "copied", &f));
		ck_assert_ptr_eq(f, o);
	}
	w_free(&w);
	w_free(&w2);
}
END_TEST

START_TEST(test_r19_quote_and_buy_bad_input)
{
	world w, w2;
	quota_purchase p;

	w_build(&w, 0);
	w_build(&w2, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(1000), T0));

	/* NULL account: no context to report on. */
	memset(&p, 0x5a, sizeof p);
	ck_assert_int_eq(quota_package_quote(NULL, w.usms, 100, NULL, T0, &p),
			 QUOTA_EINVAL);
	ck_assert(purchase_is_zero(&p));
	memset(&p, 0x5a, sizeof p);
	ck_assert_int_eq(quota_package_buy(NULL, w.usms, 100, NULL, T0, NULL,
					   &p),
			 QUOTA_EINVAL);
	ck_assert(purchase_is_zero(&p));

	/* quote: every refusal zeroes the purchase and changes nothing. */
#define QBAD(want_, o_, q_, at_)                                               \
	do {                                                                   \
		msnap qb_, qa_;                                                  \
		msnap_take(&qb_, w.a);                                          \
		ck_assert_int_eq(quote(w.a, (o_), (q_), NULL, (at_), &p),      \
				 (want_));                                     \
		ck_assert(purchase_is_zero(&p));                               \
		ck_assert_str_ne(quota_errmsg(w.ctx), "");                     \
		msnap_take(&qa_, w.a);                                          \
		msnap_eq(&qb_, &qa_);                                            \
		REFUSED(w.a, (want_),                                          \
			buy(w.a, (o_), (q_), NULL, (at_), NULL, &p));          \
		ck_assert(purchase_is_zero(&p));                               \
	} while (0)

	QBAD(QUOTA_EINVAL, NULL, 1, T0);
	QBAD(QUOTA_EINVAL, w2.ses600k, 1, T0); /* another context's offer */
	QBAD(QUOTA_EINVAL, w2.usms, 100, T0);
	QBAD(QUOTA_EINVAL, w.ses600k, 0, T0);
	QBAD(QUOTA_EINVAL, w.ses600k, -1, T0);
	QBAD(QUOTA_EINVAL, w.ses600k, INT64_MIN, T0);
	QBAD(QUOTA_EINVAL, w.usms, 0, T0);
	QBAD(QUOTA_EINVAL, w.usms, -100, T0);
	QBAD(QUOTA_EINVAL, w.usms, 150, T0);
	QBAD(QUOTA_EINVAL, w.usms, 50, T0);
	QBAD(QUOTA_EINVAL, w.ses600k, 1, QUOTA_TIME_MAX);
	QBAD(QUOTA_EINVAL, w.ses600k, 1, QUOTA_TIME_MIN - 1);
	QBAD(QUOTA_EINVAL, w.ses600k, 1, INT64_MAX);
	QBAD(QUOTA_EOVERFLOW, w.ses600k, INT64_MAX / 600000 + 1, T0);
	QBAD(QUOTA_EOVERFLOW, w.ses5m, INT64_MAX / USD(1100) + 1, T0);
	QBAD(QUOTA_EOVERFLOW, w.usms, INT64_C(9223372036854775800), T0);
#undef QBAD
	/* quote's out is required; buy's is not. */
	ck_assert_int_eq(quota_package_quote(w.a, w.usms, 100, NULL, T0, NULL),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(w.ctx), "");
	/* Nothing was bought through all of this. */
	ck_assert_uint_eq(quota_account_package_count(w.a), 0);
	ck_assert_int_eq(quota_account_balance(w.a), USD(1000));
	/* And a good call clears the message. */
	OK(w.ctx, quote(w.a, w.usms, 100, NULL, T0, &p));
	ck_assert_str_eq(quota_errmsg(w.ctx), "");
	w_free(&w);
	w_free(&w2);
}
END_TEST

/* ------------------------------------------------------------- ENOMEM */

/* An event hook, so that purchases run the event tracking paths. */
static int hook_calls;
static int count_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	hook_calls++;
	return 0;
}

/* Fail allocation N of quota_offer_add for every N until it succeeds:
 * each failure is ENOMEM, adds nothing and leaks nothing. */
START_TEST(test_enomem_offer_add_sweep)
{
	world w;
	quota_offer_spec s;
	quota_offer *o;
	char id[32];
	int k;
	long n, total_failures = 0;

	w_build(&w, 1);
	memset(&s, 0, sizeof s);
	s.categories = QUOTA_MASK(w.email);
	s.units = 100;
	s.price_micros = 1;
	s.id = id;
	/* Enough offers to grow the array and the id map a few times. */
	for (k = 0; k < 70; k++) {
		snprintf(id, sizeof id, "offer-%d", k);
		for (n = 1;; n++) {
			long live = w.al.live_blocks;
			int rc;

			tu_alloc_fail_in(&w.al, n);
			o = (quota_offer *)&w;
			rc = quota_offer_add(w.ctx, &s, &o);
			tu_alloc_disarm(&w.al);
			if (rc == QUOTA_OK)
				break;
			total_failures++;
			ck_assert_msg(rc == QUOTA_ENOMEM, "offer %d, n %ld: %s",
				      k, n, quota_err_name(rc));
			ck_assert_ptr_null(o);
			ck_assert_str_ne(quota_errmsg(w.ctx), "");
			ck_assert_int_eq(w.al.live_blocks, live);
			ck_assert_int_eq(quota_offer_find(w.ctx, id, &o),
					 QUOTA_ENOTFOUND);
			ck_assert(n < 100);
		}
		ck_assert_ptr_nonnull(o);
		OK(w.ctx, quota_offer_find(w.ctx, id, &o));
	}
	ck_assert_int_ge(total_failures, 70 * 2); /* id copy, offer */
	for (k = 0; k < 70; k++) {
		snprintf(id, sizeof id, "offer-%d", k);
		OK(w.ctx, quota_offer_find(w.ctx, id, &o));
	}
	w_free(&w);
}
END_TEST

/* One sweep of quota_package_buy: fail allocation N for every N until the
 * purchase succeeds; each failure debits nothing and adds no package. */
static void buy_sweep(world *w, const quota_offer *o, int64_t q,
		      const char *id, long *failures)
{
	long n;
	quota_purchase p;
	quota_package *pk;

	for (n = 1;; n++) {
		msnap b, a;
		int rc;

		msnap_take(&b, w->a);
		tu_alloc_fail_in(&w->al, n);
		rc = buy(w->a, o, q, NULL, T0, id, &p);
		tu_alloc_disarm(&w->al);
		if (rc == QUOTA_OK)
			break;
		(*failures)++;
		ck_assert_msg(rc == QUOTA_ENOMEM, "%s, n %ld: %s (%s)", id, n,
			      quota_err_name(rc), quota_errmsg(w->ctx));
		ck_assert(purchase_is_zero(&p));
		ck_assert_str_ne(quota_errmsg(w->ctx), "");
		msnap_take(&a, w->a);
		msnap_eq(&b, &a);
		ck_assert_int_eq(quota_package_find(w->a, id, &pk),
				 QUOTA_ENOTFOUND);
		ck_assert(n < 200);
	}
	ck_assert_ptr_nonnull(p.package);
	ck_assert_int_eq(quota_package_find(w->a, id, &pk), QUOTA_OK);
	ck_assert_ptr_eq(pk, p.package);
}

START_TEST(test_enomem_package_buy_sweep)
{
	world w;
	quota_account *b;
	long failures = 0;
	char id[32];
	int k;
	quota_money m;

	w_build(&w, 1);
	OK(w.ctx, quota_account_topup(w.a, USD(100000), T0));
	/* The first purchase of an account allocates its package tables. */
	buy_sweep(&w, w.ses600k, 1, "p-1", &failures);
	ck_assert_int_gt(failures, 0);
	/* New categories: fresh package indexes. */
	buy_sweep(&w, w.usms, 1000, "p-2", &failures);
	/* Many more, so every table grows at least once more. */
	for (k = 3; k < 40; k++) {
		snprintf(id, sizeof id, "p-%d", k);
		if (k % 2)
			buy_sweep(&w, w.ses1m, 1, id, &failures);
		else
			buy_sweep(&w, w.usms, 100, id, &failures);
	}
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.topped_up_micros,
			 m.balance_micros + m.purchased_micros);
	ck_assert_uint_eq(quota_account_package_count(w.a), 39);

	/* With an event hook, purchases also reserve event room. */
	b = add_acct(w.ctx, "hooked");
	OK(w.ctx, quota_ctx_set_event_hook(w.ctx, count_hook, NULL));
	OK(w.ctx, quota_account_add_alert(b, w.email, 10, QUOTA_ALERT_UNITS));
	OK(w.ctx, quota_account_topup(b, USD(1000), T0));
	{
		quota_account *saved = w.a;

		w.a = b;
		buy_sweep(&w, w.ses600k, 1, "h-1", &failures);
		buy_sweep(&w, w.usms, 100, "h-2", &failures);
		w.a = saved;
	}
	/* Generated ids too. */
	{
		quota_purchase p;
		long n;

		for (n = 1;; n++) {
			msnap x, y;
			int rc;

			msnap_take(&x, w.a);
			tu_alloc_fail_in(&w.al, n);
			rc = buy(w.a, w.ses5m, 1, NULL, T0, NULL, &p);
			tu_alloc_disarm(&w.al);
			if (rc == QUOTA_OK)
				break;
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			msnap_take(&y, w.a);
			msnap_eq(&x, &y);
		}
	}
	w_free(&w);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *money_errors_suite(void)
{
	Suite *s = suite_create("money_errors");
	TCase *bad = tcase_create("bad_input");
	TCase *nomem = tcase_create("enomem");

	tcase_add_test(bad, test_r16_offer_add_bad_input);
	tcase_add_test(bad, test_r19_quote_and_buy_bad_input);
	tcase_add_test(nomem, test_enomem_offer_add_sweep);
	tcase_add_test(nomem, test_enomem_package_buy_sweep);
	suite_add_tcase(s, bad);
	suite_add_tcase(s, nomem);
	return s;
}

int main(void)
{
	return tu_run(money_errors_suite());
}
