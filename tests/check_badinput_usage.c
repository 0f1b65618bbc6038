/*
 * check_badinput_usage.c - every bad input of a charge, a quote, a
 * reservation, its commit or release, a reversal, a tick, the key window,
 * the failure fee, the event hook, alerts and the expiry warning (R10-R12,
 * R21) gets its specific QUOTA_E* code, a non-empty quota_errmsg, and
 * leaves every observable state unchanged (DESIGN.md §6, R8).  One table
 * row per (function, bad input), each against a fresh copy of the fixture
 * (support/badinput.h).  The other rows are in check_badinput.c (the
 * registry), check_badinput_money.c (issue 5) and check_badinput_issue15.c
 * (issue 15).
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "badinput.h"

/* ------------------------------------------------------------ row helpers */

static int chg_null_usage(fx *f, int quote)
{
	quota_receipt r;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quote ? quota_quote(f->a, NULL, &r) : quota_charge(f->a, NULL, &r);
	if (rc != QUOTA_OK)
		ck_assert(tu_receipt_is_zero(&r));
	return rc;
}

static int rsv_null_usage(fx *f)
{
	quota_receipt r;
	uint64_t h = 77;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quota_reserve(f->a, NULL, 60, &r, &h);
	if (rc != QUOTA_OK) {
		ck_assert(tu_receipt_is_zero(&r));
		ck_assert_uint_eq(h, 0);
	}
	return rc;
}

static int cmt(fx *f, quota_account *a, uint64_t h, int64_t used,
	       const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_commit(a, h, used, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rls(fx *f, quota_account *a, uint64_t h, const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release(a, h, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rev(fx *f, quota_account *a, const char *key, int64_t at)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_reverse(a, key, at, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* ------------------------------------------------------------------ rows */

/* X(name, expected code, 1 if the call can reach the ctx, expression) */
#define ROWS(X)                                                                \
	CHARGE_ROWS(X, charge, 0)                                              \
	CHARGE_ROWS(X, quote, 1)                                               \
	HOLD_ROWS(X)

/* R10-R12, R21 */
#define HOLD_ROWS(X)                                                           \
	X(reserve_null_account, QUOTA_EINVAL, 0,                               \
	  rsv(f, NULL, f->sms, 1, T0, 60, NULL, 1))                            \
	X(reserve_null_usage, QUOTA_EINVAL, 1, rsv_null_usage(f))              \
	X(reserve_null_hold_id, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 60, NULL, 0))                            \
	X(reserve_timeout_zero, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 0, NULL, 1))                             \
	X(reserve_timeout_negative, QUOTA_EINVAL, 1,                           \
	  rsv(f, f->a, f->sms, 1, T0, -60, NULL, 1))                           \
	X(reserve_deadline_overflow, QUOTA_EINVAL, 1,                          \
	  rsv(f, f->a, f->sms, 1, T0, INT64_MAX, NULL, 1))                     \
	X(reserve_deadline_time_max, QUOTA_EINVAL, 1,                          \
	  rsv(f, f->a, f->sms, 1, QUOTA_TIME_MAX - 5, 5, NULL, 1))             \
	X(reserve_deadline_overflow_under_cap, QUOTA_EINVAL, 1,                \
	  rsv(f, f->a, f->capped, 1, T0 + TU_HOUR, INT64_MAX, NULL, 1))        \
	X(reserve_deadline_time_max_under_stop, QUOTA_EINVAL, 1,               \
	  rsv(f, f->a, f->stoppol, 1, T0, QUOTA_TIME_MAX - T0, NULL, 1))      \
	X(reserve_unknown_category, QUOTA_ENOTFOUND, 1,                        \
	  rsv(f, f->a, 7, 1, T0, 60, NULL, 1))                                 \
	X(reserve_zero_units, QUOTA_EINVAL, 1,                                 \
	  rsv(f, f->a, f->sms, 0, T0, 60, NULL, 1))                            \
	X(reserve_time_before_min, QUOTA_EINVAL, 1,                            \
	  rsv(f, f->a, f->sms, 1, QUOTA_TIME_MIN - 1, 60, NULL, 1))            \
	X(reserve_key_65_bytes, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 60, K65, 1))                             \
	X(reserve_key_empty, QUOTA_EINVAL, 1,                                  \
	  rsv(f, f->a, f->sms, 1, T0, 60, "", 1))                              \
	X(reserve_key_bad_utf8, QUOTA_EENCODING, 1,                            \
	  rsv(f, f->a, f->sms, 1, T0, 60, OVERLONG, 1))                        \
	X(reserve_key_other_timeout, QUOTA_EKEYCONFLICT, 1,                    \
	  rsv(f, f->a, f->sms, 2, T0, 61, "fx-r", 1))                          \
	X(reserve_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,                      \
	  rsv(f, f->a, f->sms, 1, T0, 60, "fx-k", 1))                          \
	X(reserve_cap_reached, QUOTA_ECAP, 1,                                  \
	  rsv(f, f->a, f->capped, 1, T0 + TU_HOUR, 60, NULL, 1))               \
	X(reserve_stop_policy, QUOTA_EEXHAUSTED, 1,                            \
	  rsv(f, f->a, f->stoppol, 1, T0, 60, NULL, 1))                        \
	X(reserve_stop_flag_package, QUOTA_EEXHAUSTED, 1,                      \
	  rsv(f, f->a, f->stopflag, 6, T0, 60, NULL, 1))                       \
	X(reserve_cost_overflow, QUOTA_EOVERFLOW, 1,                           \
	  rsv(f, f->a, f->big, 3, T0, 60, NULL, 1))                            \
	X(commit_null_account, QUOTA_EINVAL, 0, cmt(f, NULL, 1, 1, NULL))      \
	X(commit_hold_zero, QUOTA_ENOTFOUND, 1, cmt(f, f->a, 0, 1, NULL))      \
	X(commit_hold_never_issued, QUOTA_ENOTFOUND, 1,                        \
	  cmt(f, f->a, 99, 1, NULL))                                           \
	X(commit_committed_hold, QUOTA_ERESOLVED, 1,                           \
	  cmt(f, f->a, f->h_done, 1, NULL))                                    \
	X(commit_negative_units, QUOTA_EINVAL, 1,                              \
	  cmt(f, f->a, f->h_open, -1, NULL))                                   \
	X(commit_more_than_held, QUOTA_EINVAL, 1,                              \
	  cmt(f, f->a, f->h_open, 3, NULL))                                    \
	X(commit_key_65_bytes, QUOTA_EINVAL, 1,                                \
	  cmt(f, f->a, f->h_open, 1, K65))                                     \
	X(commit_key_bad_utf8, QUOTA_EENCODING, 1,                             \
	  cmt(f, f->a, f->h_open, 1, TRUNCATED))                               \
	X(commit_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,                       \
	  cmt(f, f->a, f->h_open, 1, "fx-k"))                                  \
	X(commit_key_other_units, QUOTA_EKEYCONFLICT, 1,                       \
	  cmt(f, f->a, f->h_done, 0, "fx-c"))                                  \
	X(release_null_account, QUOTA_EINVAL, 0, rls(f, NULL, 1, NULL))        \
	X(release_hold_zero, QUOTA_ENOTFOUND, 1, rls(f, f->a, 0, NULL))        \
	X(release_hold_never_issued, QUOTA_ENOTFOUND, 1,                       \
	  rls(f, f->a, 1000, NULL))                                            \
	X(release_committed_hold, QUOTA_ERESOLVED, 1,                          \
	  rls(f, f->a, f->h_done, NULL))                                       \
	X(release_key_empty, QUOTA_EINVAL, 1, rls(f, f->a, f->h_open, ""))     \
	X(release_key_bad_utf8, QUOTA_EENCODING, 1,                            \
	  rls(f, f->a, f->h_open, ABOVE_MAX))                                  \
	X(release_key_of_a_commit, QUOTA_EKEYCONFLICT, 1,                      \
	  rls(f, f->a, f->h_open, "fx-c"))                                     \
	X(release_fee_overflow, QUOTA_EOVERFLOW, 1,                            \
	  rls(f, f->a, f->h_fee, NULL))                                        \
	X(reverse_null_account, QUOTA_EINVAL, 0, rev(f, NULL, "fx-k", T0))     \
	X(reverse_null_key, QUOTA_EINVAL, 1, rev(f, f->a, NULL, T0))           \
	X(reverse_empty_key, QUOTA_EINVAL, 1, rev(f, f->a, "", T0))            \
	X(reverse_key_65_bytes, QUOTA_EINVAL, 1, rev(f, f->a, K65, T0))        \
	X(reverse_key_bad_utf8, QUOTA_EENCODING, 1, rev(f, f->a, BAD_UTF8, T0)) \
	X(reverse_unknown_key, QUOTA_ENOTFOUND, 1, rev(f, f->a, "nope", T0))   \
	X(reverse_key_of_a_reserve, QUOTA_EINVAL, 1, rev(f, f->a, "fx-r", T0)) \
	X(reverse_twice, QUOTA_EREVERSED, 1, rev(f, f->a, "fx-rev", T0))       \
	X(reverse_time_max, QUOTA_EINVAL, 1,                                   \
	  rev(f, f->a, "fx-k", QUOTA_TIME_MAX))                                \
	X(reverse_time_before_min, QUOTA_EINVAL, 1,                            \
	  rev(f, f->a, "fx-c", QUOTA_TIME_MIN - 1))                            \
	X(tick_null_account, QUOTA_EINVAL, 0,                                  \
	  as_code(quota_account_tick(NULL, T0)))                               \
	X(tick_time_max, QUOTA_EINVAL, 1,                                      \
	  as_code(quota_account_tick(f->a, QUOTA_TIME_MAX)))                   \
	X(tick_before_min, QUOTA_EINVAL, 1,                                    \
	  as_code(quota_account_tick(f->a, QUOTA_TIME_MIN - 1)))               \
	X(ctx_tick_null, QUOTA_EINVAL, 0, as_code(quota_ctx_tick(NULL, T0)))   \
	X(ctx_tick_never, QUOTA_EINVAL, 1,                                     \
	  as_code(quota_ctx_tick(f->ctx, QUOTA_NEVER)))                        \
	X(key_window_null, QUOTA_EINVAL, 0,                                    \
	  quota_account_set_key_window(NULL, 5, 5))                            \
	X(key_window_zero_keys, QUOTA_EINVAL, 1,                               \
	  quota_account_set_key_window(f->a, 0, 5))                            \
	X(key_window_zero_age, QUOTA_EINVAL, 1,                                \
	  quota_account_set_key_window(f->a, 5, 0))                            \
	X(key_window_negative_age, QUOTA_EINVAL, 1,                            \
	  quota_account_set_key_window(f->a, 5, INT64_MIN))                    \
	X(failure_fee_null, QUOTA_EINVAL, 0,                                   \
	  quota_tariff_set_failure_fee(NULL, 5))                               \
	X(failure_fee_negative, QUOTA_EINVAL, 1,                               \
	  quota_tariff_set_failure_fee(f->grad, -1))                           \
	X(event_hook_null_ctx, QUOTA_EINVAL, 0,                                \
	  quota_ctx_set_event_hook(NULL, NULL, NULL))                          \
	X(alert_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_add_alert(NULL, 0, 5, QUOTA_ALERT_UNITS))              \
	X(alert_unknown_category, QUOTA_ENOTFOUND, 1,                          \
	  quota_account_add_alert(f->a, 7, 5, QUOTA_ALERT_UNITS))              \
	X(alert_negative_level, QUOTA_EINVAL, 1,                               \
	  quota_account_add_alert(f->a, f->sms, -1, QUOTA_ALERT_UNITS))        \
	X(alert_percent_over_100, QUOTA_EINVAL, 1,                             \
	  quota_account_add_alert(f->a, f->sms, 101, QUOTA_ALERT_PERCENT))     \
	X(alert_unit_2, QUOTA_EINVAL, 1,                                       \
	  quota_account_add_alert(f->a, f->sms, 5, 2))                         \
	X(expiry_warning_null, QUOTA_EINVAL, 0,                                \
	  quota_account_set_expiry_warning(NULL, 5))                           \
	X(expiry_warning_negative, QUOTA_EINVAL, 1,                            \
	  quota_account_set_expiry_warning(f->a, -1))

#define CHARGE_ROWS(X, fn, q)                                                  \
	X(fn##_null_account, QUOTA_EINVAL, 0,                                  \
	  chg(f, q, NULL, 0, 1, T0, NULL))                                     \
	X(fn##_null_usage, QUOTA_EINVAL, 1, chg_null_usage(f, q))              \
	X(fn##_unknown_category, QUOTA_ENOTFOUND, 1,                           \
	  chg(f, q, f->a, 7, 1, T0, NULL))                                     \
	X(fn##_category_all, QUOTA_ENOTFOUND, 1,                               \
	  chg(f, q, f->a, QUOTA_ALL, 1, T0, NULL))                             \
	X(fn##_zero_units, QUOTA_EINVAL, 1, chg(f, q, f->a, f->sms, 0, T0, NULL)) \
	X(fn##_negative_units, QUOTA_EINVAL, 1,                                \
	  chg(f, q, f->a, f->sms, -3, T0, NULL))                               \
	X(fn##_int64_min_units, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, INT64_MIN, T0, NULL))                        \
	X(fn##_time_max, QUOTA_EINVAL, 1,                                      \
	  chg(f, q, f->a, f->sms, 1, QUOTA_TIME_MAX, NULL))                    \
	X(fn##_time_before_min, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, 1, QUOTA_TIME_MIN - 1, NULL))                \
	X(fn##_time_int64_min, QUOTA_EINVAL, 1,                                \
	  chg(f, q, f->a, f->sms, 1, INT64_MIN, NULL))                         \
	X(fn##_time_never, QUOTA_EINVAL, 1,                                    \
	  chg(f, q, f->a, f->sms, 1, QUOTA_NEVER, NULL))                       \
	X(fn##_key_65_bytes, QUOTA_EINVAL, 1,                                  \
	  chg(f, q, f->a, f->sms, 1, T0, K65))                                 \
	X(fn##_key_bad_utf8, QUOTA_EENCODING, 1,                               \
	  chg(f, q, f->a, f->sms, 1, T0, BAD_UTF8))                            \
	X(fn##_key_surrogate, QUOTA_EENCODING, 1,                              \
	  chg(f, q, f->a, f->sms, 1, T0, SURROGATE))                           \
	X(fn##_key_other_units, QUOTA_EKEYCONFLICT, 1,                         \
	  chg(f, q, f->a, f->sms, 2, T0, "fx-k"))                              \
	X(fn##_key_of_a_reserve, QUOTA_EKEYCONFLICT, 1,                        \
	  chg(f, q, f->a, f->sms, 2, T0, "fx-r"))                              \
	X(fn##_empty_key_given, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, 1, T0, ""))                                  \
	X(fn##_cap_reached, QUOTA_ECAP, 1,                                     \
	  chg(f, q, f->a, f->capped, 1, T0 + TU_HOUR, NULL))                   \
	X(fn##_stop_policy, QUOTA_EEXHAUSTED, 1,                               \
	  chg(f, q, f->a, f->stoppol, 1, T0, NULL))                            \
	X(fn##_stop_flag_package, QUOTA_EEXHAUSTED, 1,                         \
	  chg(f, q, f->a, f->stopflag, 6, T0, NULL))                           \
	X(fn##_cost_overflow, QUOTA_EOVERFLOW, 1,                              \
	  chg(f, q, f->a, f->big, 3, T0, NULL))                                \
	X(fn##_volume_counter_overflow, QUOTA_EOVERFLOW, 1,                    \
	  chg(f, q, f->a, f->huge, 10, f->tx + TU_HOUR, NULL))                 \
	X(fn##_all_counter_overflow, QUOTA_EOVERFLOW, 1,                       \
	  chg(f, q, f->a, f->email, 10, f->tx + TU_HOUR, NULL))

ROWS(ROW_DEF)

static const row rows[] = {ROWS(ROW_ENT)};

START_TEST(test_bad_input_table)
{
	row_check(&rows[_i]);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *badinput_usage_suite(void)
{
	Suite *s = suite_create("badinput_usage");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input_table, 0, NROWS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_usage_suite());
}
