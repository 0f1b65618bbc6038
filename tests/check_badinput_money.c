/*
 * check_badinput_money.c - every bad input of issue 5's calls (money,
 * catalog, settlement, reports: R16-R19, R22; gift money R24) gets its
 * specific QUOTA_E* code, a non-empty quota_errmsg, and leaves every
 * observable state unchanged (DESIGN.md §6, R8).  One table row per
 * (function, bad input), each against a fresh copy of the fixture
 * (support/badinput.h).  The other rows are in check_badinput.c (the
 * registry), check_badinput_usage.c (charges and holds) and
 * check_badinput_issue15.c (issue 15).
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "badinput.h"

/* ------------------------------------------------ issue 5 row helpers */

static int round_(int64_t v, int64_t minor, int mode, int with_out)
{
	int64_t out = 0;

	return quota_money_round(v, minor, mode, with_out ? &out : NULL);
}

static int money_(fx *f, quota_account *a, int with_out)
{
	quota_money m;

	(void)f;
	return quota_account_money(a, with_out ? &m : NULL);
}

/* quota_offer_add with one field of a valid by-quantity spec spoiled. */
enum { OB_NULL_SPEC, OB_NULL_OUT, OB_NULL_ID, OB_BAD_UTF8, OB_DUP,
       OB_NO_CATS, OB_UNKNOWN_CAT, OB_NOTHING, OB_NEG_PRICE, OB_BOTH,
       OB_STEP0, OB_MIN0, OB_MAX_LT_MIN, OB_NEG_MONTHS, OB_NEG_DAYS,
       OB_FLAG, OB_FOREIGN, OB_NULL_CTX };

static int bad_offer(fx *f, int k)
{
	quota_offer_spec os;
	quota_offer *o = NULL;
	quota_ctx *other = NULL;
	quota_tariff *ot = NULL;
	int rc;

	memset(&os, 0, sizeof os);
	os.id = "new-offer";
	os.categories = QUOTA_MASK(f->sms);
	os.unit_tariff = f->grad;
	os.min_units = 100;
	os.step_units = 100;
	os.valid_months = 1;
	switch (k) {
	case OB_NULL_ID: os.id = NULL; break;
	case OB_BAD_UTF8: os.id = "offer\xff"; break;
	case OB_DUP: os.id = "qty"; break;
	case OB_NO_CATS: os.categories = 0; break;
	case OB_UNKNOWN_CAT: os.categories |= QUOTA_MASK(63); break;
	case OB_NOTHING: os.unit_tariff = NULL; break;
	case OB_NEG_PRICE:
		os.unit_tariff = NULL;
		os.units = 10;
		os.price_micros = -1;
		break;
	case OB_BOTH: os.units = 10; break;
	case OB_STEP0: os.step_units = 0; break;
	case OB_MIN0: os.min_units = 0; break;
	case OB_MAX_LT_MIN: os.max_units = 50; break;
	case OB_NEG_MONTHS: os.valid_months = -1; break;
	case OB_NEG_DAYS: os.valid_days = -1; break;
	case OB_FLAG: os.flags = 0x10; break;
	case OB_FOREIGN:
		ck_assert_int_eq(quota_ctx_new(&other), QUOTA_OK);
		ck_assert_int_eq(quota_tariff_new(other, "t", &ot), QUOTA_OK);
		os.unit_tariff = ot;
		break;
	default: break;
	}
	rc = quota_offer_add(k == OB_NULL_CTX ? NULL : f->ctx,
			     k == OB_NULL_SPEC ? NULL : &os,
			     k == OB_NULL_OUT ? NULL : &o);
	quota_ctx_free(other);
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(o);
	return rc;
}

static int row_fn_stop(const quota_report_row *r, void *ud)
{
	(void)r;
	(void)ud;
	return 1;
}

static int row_write_fail(const char *buf, size_t len, void *ud)
{
	(void)buf;
	(void)len;
	(void)ud;
	return -1;
}

static int report_(fx *f, quota_account *a, int period, int64_t from,
		   int64_t to, int how)
{
	(void)f;
	switch (how) {
	case 0:
		return quota_report(a, period, from, to, NULL, NULL);
	case 1:
		return quota_report(a, period, from, to, row_fn_stop, NULL);
	case 2:
		return quota_report_csv(a, period, from, to, NULL, NULL);
	case 3:
		return quota_report_csv(a, period, from, to, row_write_fail,
					NULL);
	default:
		return quota_report_csv_file(a, period, from, to, NULL);
	}
}

/* ------------------------------------------------------------------ rows */

/* X(name, expected code, 1 if the call can reach the ctx, expression) */
#define ROWS(X) MONEY_ROWS(X)

/* Issue 5: money, catalog, settlement, reports (R16-R19, R22). */
#define MONEY_ROWS(X)                                                          \
	X(topup_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_topup(NULL, 1, T0))                                    \
	X(topup_zero, QUOTA_EINVAL, 1, quota_account_topup(f->a, 0, T0))       \
	X(topup_negative, QUOTA_EINVAL, 1, quota_account_topup(f->a, -5, T0))  \
	X(topup_bad_time, QUOTA_EINVAL, 1,                                     \
	  quota_account_topup(f->a, 5, QUOTA_TIME_MAX))                        \
	X(topup_overflow, QUOTA_EOVERFLOW, 1,                                  \
	  quota_account_topup(f->a, INT64_MAX, T0))                            \
	X(credit_limit_null, QUOTA_EINVAL, 0,                                  \
	  quota_account_set_credit_limit(NULL, 5))                             \
	X(credit_limit_negative, QUOTA_EINVAL, 1,                              \
	  quota_account_set_credit_limit(f->a, -1))                            \
	X(r24_gift_grant_null_account, QUOTA_EINVAL, 0,                        \
	  quota_gift_grant(NULL, 1, QUOTA_NEVER, T0))                          \
	X(r24_gift_grant_zero, QUOTA_EINVAL, 1,                                \
	  quota_gift_grant(f->a, 0, QUOTA_NEVER, T0))                          \
	X(r24_gift_grant_negative, QUOTA_EINVAL, 1,                            \
	  quota_gift_grant(f->a, -5, QUOTA_NEVER, T0))                         \
	X(r24_gift_grant_bad_time, QUOTA_EINVAL, 1,                            \
	  quota_gift_grant(f->a, 5, QUOTA_NEVER, QUOTA_TIME_MAX))              \
	X(r24_gift_grant_expires_at_now, QUOTA_EINVAL, 1,                      \
	  quota_gift_grant(f->a, 5, T0, T0))                                   \
	X(r24_gift_grant_expires_before, QUOTA_EINVAL, 1,                      \
	  quota_gift_grant(f->a, 5, T0 - 1, T0))                               \
	X(r24_gift_grant_expiry_out_of_range, QUOTA_EINVAL, 1,                 \
	  quota_gift_grant(f->a, 5, QUOTA_TIME_MAX, T0))                       \
	X(r24_pay_order_null, QUOTA_EINVAL, 0,                                 \
	  quota_account_set_pay_order(NULL, QUOTA_PAY_GIFT_FIRST, 0))          \
	X(r24_pay_order_unknown, QUOTA_EINVAL, 1,                              \
	  quota_account_set_pay_order(f->a, 2, 0))                             \
	X(r24_pay_order_negative, QUOTA_EINVAL, 1,                             \
	  quota_account_set_pay_order(f->a, -1, 0))                            \
	X(r24_pay_order_unknown_flag, QUOTA_EINVAL, 1,                         \
	  quota_account_set_pay_order(f->a, QUOTA_PAY_CASH_FIRST, 2))          \
	X(settlement_null, QUOTA_EINVAL, 0,                                    \
	  quota_account_set_settlement(NULL, QUOTA_PERIOD_DAY, 1, 0))          \
	X(settlement_month, QUOTA_EINVAL, 1,                                   \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_MONTH, 10000, 0))    \
	X(settlement_zero_minor, QUOTA_EINVAL, 1,                              \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_DAY, 0, 0))          \
	X(settlement_bad_rounding, QUOTA_EINVAL, 1,                            \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_DAY, 10000, 7))      \
	X(money_null_account, QUOTA_EINVAL, 0, money_(f, NULL, 1))             \
	X(money_null_out, QUOTA_EINVAL, 1, money_(f, f->a, 0))                 \
	X(round_bad_mode, QUOTA_EINVAL, 0, round_(15000, 10000, 9, 1))         \
	X(round_zero_minor, QUOTA_EINVAL, 0, round_(15000, 0, 0, 1))           \
	X(round_negative_minor, QUOTA_EINVAL, 0, round_(15000, -100, 0, 1))    \
	X(round_null_out, QUOTA_EINVAL, 0, round_(15000, 10000, 0, 0))         \
	X(round_overflow, QUOTA_EOVERFLOW, 0,                                  \
	  round_(INT64_MAX, 10000, QUOTA_ROUND_UP, 1))                         \
	X(offer_add_null_ctx, QUOTA_EINVAL, 0, bad_offer(f, OB_NULL_CTX))      \
	X(offer_add_null_spec, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_SPEC))    \
	X(offer_add_null_out, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_OUT))      \
	X(offer_add_null_id, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_ID))        \
	X(offer_add_bad_utf8, QUOTA_EENCODING, 1, bad_offer(f, OB_BAD_UTF8))   \
	X(offer_add_duplicate, QUOTA_EEXISTS, 1, bad_offer(f, OB_DUP))         \
	X(offer_add_no_categories, QUOTA_EINVAL, 1, bad_offer(f, OB_NO_CATS))  \
	X(offer_add_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  bad_offer(f, OB_UNKNOWN_CAT))                                        \
	X(offer_add_no_units_no_tariff, QUOTA_EINVAL, 1,                       \
	  bad_offer(f, OB_NOTHING))                                            \
	X(offer_add_negative_price, QUOTA_EINVAL, 1,                           \
	  bad_offer(f, OB_NEG_PRICE))                                          \
	X(offer_add_units_and_tariff, QUOTA_EINVAL, 1, bad_offer(f, OB_BOTH))  \
	X(offer_add_step_zero, QUOTA_EINVAL, 1, bad_offer(f, OB_STEP0))        \
	X(offer_add_min_zero, QUOTA_EINVAL, 1, bad_offer(f, OB_MIN0))          \
	X(offer_add_max_below_min, QUOTA_EINVAL, 1,                            \
	  bad_offer(f, OB_MAX_LT_MIN))                                         \
	X(offer_add_negative_months, QUOTA_EINVAL, 1,                          \
	  bad_offer(f, OB_NEG_MONTHS))                                         \
	X(offer_add_negative_days, QUOTA_EINVAL, 1, bad_offer(f, OB_NEG_DAYS)) \
	X(offer_add_unknown_flag, QUOTA_EINVAL, 1, bad_offer(f, OB_FLAG))      \
	X(offer_add_foreign_tariff, QUOTA_EINVAL, 1, bad_offer(f, OB_FOREIGN)) \
	X(offer_find_unknown, QUOTA_ENOTFOUND, 1, find_offer(f, "nope"))       \
	X(offer_find_null_id, QUOTA_EINVAL, 1, find_offer(f, NULL))            \
	X(offer_find_empty_id, QUOTA_EINVAL, 1, find_offer(f, ""))             \
	X(offer_find_129_bytes, QUOTA_EINVAL, 1, find_offer(f, s129))          \
	X(offer_find_bad_utf8, QUOTA_EENCODING, 1, find_offer(f, BAD_UTF8))    \
	X(pkg_quote_null_account, QUOTA_EINVAL, 0,                                 \
	  purchase(f, 0, NULL, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(pkg_quote_null_offer, QUOTA_EINVAL, 1,                                   \
	  purchase(f, 0, f->a, NULL, 1, 0, 0, 0, T0, NULL))                    \
	X(pkg_quote_zero_quantity, QUOTA_EINVAL, 1,                                \
	  purchase(f, 0, f->a, f->ofix, 0, 0, 0, 0, T0, NULL))                 \
	X(pkg_quote_negative_quantity, QUOTA_EINVAL, 1,                            \
	  purchase(f, 0, f->a, f->ofix, -3, 0, 0, 0, T0, NULL))                \
	X(pkg_quote_below_minimum, QUOTA_EINVAL, 1,                                \
	  purchase(f, 0, f->a, f->oqty, 99, 0, 0, 0, T0, NULL))                \
	X(pkg_quote_off_step, QUOTA_EINVAL, 1,                                     \
	  purchase(f, 0, f->a, f->oqty, 250, 0, 0, 0, T0, NULL))               \
	X(pkg_quote_overflow, QUOTA_EOVERFLOW, 1,                                  \
	  purchase(f, 0, f->a, f->ofix, INT64_MAX / 50, 0, 0, 0, T0, NULL))    \
	X(pkg_quote_bad_time, QUOTA_EINVAL, 1,                                     \
	  purchase(f, 0, f->a, f->ofix, 1, 0, 0, 0, QUOTA_TIME_MAX, NULL))     \
	X(pkg_quote_expiry_past_max, QUOTA_EINVAL, 1,                              \
	  purchase(f, 0, f->a, f->ofix, 1, 0, 0, 0, QUOTA_TIME_MAX - TU_DAY,   \
		   NULL))                                                      \
	X(pkg_quote_voucher_bad_kind, QUOTA_EINVAL, 1,                             \
	  purchase(f, 0, f->a, f->ofix, 1, 9, 5, 0, T0, NULL))                 \
	X(pkg_quote_voucher_zero_amount, QUOTA_EINVAL, 1,                          \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 0, 0, T0,     \
		   NULL))                                                      \
	X(pkg_quote_voucher_percent_over, QUOTA_EINVAL, 1,                         \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_PERCENT, 10001, 0,    \
		   T0, NULL))                                                  \
	X(pkg_quote_voucher_negative_min, QUOTA_EINVAL, 1,                         \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 5, -1, T0,    \
		   NULL))                                                      \
	X(pkg_quote_voucher_min_spend, QUOTA_EVOUCHER, 1,                          \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 5,            \
		   20000000, T0, NULL))                                        \
	X(buy_null_account, QUOTA_EINVAL, 0,                                   \
	  purchase(f, 1, NULL, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(buy_insufficient_funds, QUOTA_EFUNDS, 1,                             \
	  purchase(f, 1, f->a, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(buy_duplicate_package_id, QUOTA_EEXISTS, 1,                          \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, "P1"))               \
	X(buy_bad_utf8_id, QUOTA_EENCODING, 1,                                 \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, BAD_UTF8))           \
	X(buy_off_step, QUOTA_EINVAL, 1,                                       \
	  purchase(f, 1, f->a, f->oqty, 150, 0, 0, 0, T0, NULL))               \
	X(settle_null_account, QUOTA_EINVAL, 0,                                \
	  as_code(quota_settle(NULL, T0, NULL, NULL)))                         \
	X(settle_bad_time, QUOTA_EINVAL, 1,                                    \
	  as_code(quota_settle(f->a, QUOTA_TIME_MAX, NULL, NULL)))             \
	X(report_null_account, QUOTA_EINVAL, 0,                                \
	  report_(f, NULL, QUOTA_PERIOD_DAY, T0, T0 + 1, 1))                   \
	X(report_null_fn, QUOTA_EINVAL, 1,                                     \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 0))                   \
	X(report_lifetime_period, QUOTA_EINVAL, 1,                             \
	  report_(f, f->a, QUOTA_PERIOD_LIFETIME, T0, T0 + 1, 1))              \
	X(report_empty_interval, QUOTA_EINVAL, 1,                              \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0, 1))                       \
	X(report_inverted_interval, QUOTA_EINVAL, 1,                           \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 - TU_DAY, 1))              \
	X(report_bad_time, QUOTA_EINVAL, 1,                                    \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, QUOTA_TIME_MAX + 1, 1))       \
	X(report_callback_stops, QUOTA_ESTORE, 1,                              \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0 - 5 * TU_DAY, T0 + TU_DAY, 1)) \
	X(report_csv_null_writer, QUOTA_EINVAL, 1,                             \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 2))                   \
	X(report_csv_writer_fails, QUOTA_ESTORE, 1,                            \
	  report_(f, f->a, QUOTA_PERIOD_HOUR, T0, T0 + 1, 3))                  \
	X(report_csv_null_file, QUOTA_EINVAL, 1,                               \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 4))

ROWS(ROW_DEF)

static const row rows[] = {ROWS(ROW_ENT)};

START_TEST(test_bad_input_table)
{
	row_check(&rows[_i]);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *badinput_money_suite(void)
{
	Suite *s = suite_create("badinput_money");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input_table, 0, NROWS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_money_suite());
}
