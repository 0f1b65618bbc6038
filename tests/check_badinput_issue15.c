/*
 * check_badinput_issue15.c - every bad input of issue 15's calls
 * (blocking R25, reconciliation R27, auto-renewal R23) gets its specific
 * QUOTA_E* code, a non-empty quota_errmsg, and leaves every observable
 * state unchanged (DESIGN.md §6, R8); and every new-business call of a
 * blocked account is refused with QUOTA_EBLOCKED (R25).  One table row
 * per (function, bad input), each against a fresh copy of the fixture
 * (support/badinput.h).  The other rows are in check_badinput.c (the
 * registry), check_badinput_usage.c (charges and holds) and
 * check_badinput_money.c (issue 5).
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "badinput.h"

/* ------------------------------------------------------------ row helpers */

/* R27: reversal by receipt id, release with a reason. */
static int rvr(fx *f, quota_account *a, uint64_t id, int64_t at)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_reverse_receipt(a, id, at, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rlsr(fx *f, quota_account *a, uint64_t h, int32_t reason)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release_reason(a, h, reason, NULL, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* quota_release_reason with a key. */
static int rlsrk(fx *f, quota_account *a, uint64_t h, int32_t reason,
		 const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release_reason(a, h, reason, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* R25: a reason one byte over QUOTA_REASON_MAX. */
static const char *reason_256(void)
{
	static char buf[QUOTA_REASON_MAX + 2];

	memset(buf, 'r', QUOTA_REASON_MAX + 1);
	buf[QUOTA_REASON_MAX + 1] = '\0';
	return buf;
}

/* R23: an offer of another context cannot be marked on f's account. */
static int renew_foreign(fx *f)
{
	quota_offer_spec os = {.id = "elsewhere", .categories = 1,
			       .units = 1, .price_micros = 1};
	quota_ctx *c = NULL;
	quota_offer *o = NULL;
	uint32_t id;
	int rc;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(c, "x", &id), QUOTA_OK);
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	rc = quota_renewal_set(f->a, o, 1, 1, f->t0);
	quota_ctx_free(c);
	return rc;
}

/* ------------------------------------------------------------------ rows */

/* X(name, expected code, 1 if the call can reach the ctx, expression) */
#define ROWS(X) ISSUE15_ROWS(X)

/* Issue 15: blocking (R25) and reconciliation (R27). */
#define ISSUE15_ROWS(X)                                                        \
	X(block_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_block(NULL, "x", T0))                                  \
	X(block_time_max, QUOTA_EINVAL, 1,                                     \
	  quota_account_block(f->a, "x", QUOTA_TIME_MAX))                      \
	X(block_empty_reason, QUOTA_EINVAL, 1, quota_account_block(f->a, "", T0)) \
	X(block_reason_bad_utf8, QUOTA_EENCODING, 1,                           \
	  quota_account_block(f->a, BAD_UTF8, T0))                             \
	X(block_reason_256_bytes, QUOTA_EINVAL, 1,                             \
	  quota_account_block(f->a, reason_256(), T0))                         \
	X(unblock_null_account, QUOTA_EINVAL, 0, quota_account_unblock(NULL, T0)) \
	X(unblock_time_before_min, QUOTA_EINVAL, 1,                            \
	  quota_account_unblock(f->a, QUOTA_TIME_MIN - 1))                     \
	X(blocked_null_account, QUOTA_EINVAL, 0,                               \
	  quota_account_blocked(NULL, NULL, NULL))                             \
	X(keep_receipts_null_account, QUOTA_EINVAL, 0,                         \
	  quota_account_keep_receipts(NULL, 1))                                \
	X(keep_receipts_2, QUOTA_EINVAL, 1, quota_account_keep_receipts(f->a, 2)) \
	X(keep_receipts_negative, QUOTA_EINVAL, 1,                             \
	  quota_account_keep_receipts(f->a, -1))                               \
	X(reverse_receipt_null_account, QUOTA_EINVAL, 0, rvr(f, NULL, 1, T0))  \
	X(reverse_receipt_zero, QUOTA_EINVAL, 1, rvr(f, f->a, 0, T0))          \
	X(reverse_receipt_unknown, QUOTA_ENOTFOUND, 1,                         \
	  rvr(f, f->a, UINT64_MAX, T0))                                        \
	X(reverse_receipt_of_an_open_hold, QUOTA_ENOTFOUND, 1,                 \
	  rvr(f, f->a, f->h_open, T0))                                         \
	X(release_reason_null_account, QUOTA_EINVAL, 0,                        \
	  rlsr(f, NULL, 1, QUOTA_FAIL_REJECTED))                               \
	X(release_reason_negative, QUOTA_EINVAL, 1, rlsr(f, f->a, f->h_open, -1)) \
	X(release_reason_past_max, QUOTA_EINVAL, 1,                            \
	  rlsr(f, f->a, f->h_open, QUOTA_FAIL_REASON_MAX + 1))                 \
	X(release_reason_hold_zero, QUOTA_ENOTFOUND, 1,                        \
	  rlsr(f, f->a, 0, QUOTA_FAIL_EXPIRED))                                \
	X(fee_reason_null_tariff, QUOTA_EINVAL, 0,                             \
	  quota_tariff_set_failure_fee_reason(NULL, 1, 1))                     \
	X(fee_reason_zero, QUOTA_EINVAL, 1,                                    \
	  quota_tariff_set_failure_fee_reason(f->open, 0, 1))                  \
	X(fee_reason_past_max, QUOTA_EINVAL, 1,                                \
	  quota_tariff_set_failure_fee_reason(f->open, 16, 1))                 \
	X(fee_reason_fee_minus_2, QUOTA_EINVAL, 1,                             \
	  quota_tariff_set_failure_fee_reason(f->open, 1, -2))                 \
	ISSUE15_MORE_ROWS(X)                                                   \
	RENEWAL_ROWS(X)

/* Issue 15, more: every bad argument of every R25 / R27 call (the rows
 * above on a tariff in use moved to an unused one, so that the reason
 * or fee is what is refused). */
#define ISSUE15_MORE_ROWS(X)                                                   \
	X(block_time_before_min, QUOTA_EINVAL, 1,                              \
	  quota_account_block(f->a, "x", QUOTA_TIME_MIN - 1))                  \
	X(block_time_int64_min, QUOTA_EINVAL, 1,                               \
	  quota_account_block(f->a, NULL, INT64_MIN))                          \
	X(block_time_never, QUOTA_EINVAL, 1,                                   \
	  quota_account_block(f->a, NULL, QUOTA_NEVER))                        \
	X(block_reason_surrogate, QUOTA_EENCODING, 1,                          \
	  quota_account_block(f->a, SURROGATE, T0))                            \
	X(unblock_time_max, QUOTA_EINVAL, 1,                                   \
	  quota_account_unblock(f->a, QUOTA_TIME_MAX))                         \
	X(unblock_time_int64_max, QUOTA_EINVAL, 1,                             \
	  quota_account_unblock(f->a, INT64_MAX))                              \
	X(keep_receipts_int_max, QUOTA_EINVAL, 1,                              \
	  quota_account_keep_receipts(f->a, INT32_MAX))                        \
	X(reverse_receipt_null_account_id_0, QUOTA_EINVAL, 0,                  \
	  rvr(f, NULL, 0, T0))                                                 \
	X(reverse_receipt_time_max, QUOTA_EINVAL, 1,                           \
	  rvr(f, f->a, f->h_done, QUOTA_TIME_MAX))                             \
	X(reverse_receipt_time_before_min, QUOTA_EINVAL, 1,                    \
	  rvr(f, f->a, f->h_done, QUOTA_TIME_MIN - 1))                         \
	X(reverse_receipt_of_a_keyed_commit, QUOTA_ENOTFOUND, 1,               \
	  rvr(f, f->a, f->h_done, T0))                                         \
	X(release_reason_null_account_keyed, QUOTA_EINVAL, 0,                  \
	  rlsrk(f, NULL, 1, QUOTA_FAIL_REJECTED, "k"))                         \
	X(release_reason_int32_min, QUOTA_EINVAL, 1,                           \
	  rlsr(f, f->a, f->h_open, INT32_MIN))                                 \
	X(release_reason_int32_max, QUOTA_EINVAL, 1,                           \
	  rlsr(f, f->a, f->h_open, INT32_MAX))                                 \
	X(release_reason_hold_never_issued, QUOTA_ENOTFOUND, 1,                \
	  rlsr(f, f->a, UINT64_MAX, QUOTA_FAIL_REJECTED))                      \
	X(release_reason_hold_resolved, QUOTA_ERESOLVED, 1,                    \
	  rlsr(f, f->a, f->h_done, QUOTA_FAIL_REJECTED))                       \
	X(release_reason_fee_overflow, QUOTA_EOVERFLOW, 1,                     \
	  rlsr(f, f->a, f->h_fee, QUOTA_FAIL_OTHER))                           \
	X(release_reason_key_65_bytes, QUOTA_EINVAL, 1,                        \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, K65))                 \
	X(release_reason_empty_key, QUOTA_EINVAL, 1,                           \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, ""))                  \
	X(release_reason_key_bad_utf8, QUOTA_EENCODING, 1,                     \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, BAD_UTF8))            \
	X(release_reason_key_surrogate, QUOTA_EENCODING, 1,                    \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, SURROGATE))           \
	X(release_reason_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,               \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, "fx-k"))              \
	X(fee_reason_negative, QUOTA_EINVAL, 1,                                \
	  quota_tariff_set_failure_fee_reason(f->open, -1, 1))                 \
	X(fee_reason_int32_max, QUOTA_EINVAL, 1,                               \
	  quota_tariff_set_failure_fee_reason(f->open, INT32_MAX, 1))          \
	X(fee_reason_fee_int64_min, QUOTA_EINVAL, 1,                           \
	  quota_tariff_set_failure_fee_reason(f->open, 1, INT64_MIN))          \
	X(fee_reason_null_tariff_reason_0, QUOTA_EINVAL, 0,                    \
	  quota_tariff_set_failure_fee_reason(NULL, 0, 1))                     \
	X(fee_reason_tariff_in_use, QUOTA_EINVAL, 1,                           \
	  quota_tariff_set_failure_fee_reason(f->grad, QUOTA_FAIL_REJECTED, 5))

/* Issue 15: auto-renewal (R23). */
#define RENEWAL_ROWS(X)                                                        \
	X(renewal_set_null_account, QUOTA_EINVAL, 0,                           \
	  quota_renewal_set(NULL, f->ofix, 1, 1, T0))                          \
	X(renewal_set_null_offer, QUOTA_EINVAL, 1,                             \
	  quota_renewal_set(f->a, NULL, 1, 1, T0))                             \
	X(renewal_set_foreign_offer, QUOTA_EINVAL, 1, renew_foreign(f))        \
	X(renewal_set_no_trigger, QUOTA_EINVAL, 1,                             \
	  quota_renewal_set(f->a, f->ofix, QUOTA_RENEWAL_NONE,                 \
			    QUOTA_RENEWAL_NONE, T0))                           \
	X(renewal_set_units_minus_2, QUOTA_EINVAL, 1,                          \
	  quota_renewal_set(f->a, f->ofix, -2, 1, T0))                         \
	X(renewal_set_within_minus_2, QUOTA_EINVAL, 1,                         \
	  quota_renewal_set(f->a, f->ofix, 1, -2, T0))                         \
	X(renewal_set_within_past_range, QUOTA_EINVAL, 1,                      \
	  quota_renewal_set(f->a, f->ofix, 1, INT64_MAX, T0))                  \
	X(renewal_set_time_max, QUOTA_EINVAL, 1,                               \
	  quota_renewal_set(f->a, f->ofix, 1, 1, QUOTA_TIME_MAX))              \
	X(renewal_clear_null_account, QUOTA_EINVAL, 0,                         \
	  quota_renewal_clear(NULL, f->ofix, T0))                              \
	X(renewal_clear_null_offer, QUOTA_EINVAL, 1,                           \
	  quota_renewal_clear(f->a, NULL, T0))                                 \
	X(renewal_clear_not_marked, QUOTA_ENOTFOUND, 1,                        \
	  quota_renewal_clear(f->a, f->ofix, T0))                              \
	X(renewal_get_null_account, QUOTA_EINVAL, 0,                           \
	  quota_renewal_get(NULL, f->ofix, NULL, NULL))                        \
	X(renewal_get_null_offer, QUOTA_EINVAL, 0,                             \
	  quota_renewal_get(f->a, NULL, NULL, NULL))                           \
	X(renewal_get_not_marked, QUOTA_ENOTFOUND, 0,                          \
	  quota_renewal_get(f->a, f->ofix, NULL, NULL))

ROWS(ROW_DEF)

static const row rows[] = {ROWS(ROW_ENT)};

START_TEST(test_bad_input_table)
{
	row_check(&rows[_i]);
}
END_TEST

/* ------------------------------------ issue 15: a blocked account (R25) */

/* quota_charge_sms on account a. */
static int sms15(fx *f, quota_account *a, const char *key)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_receipt r;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quota_charge_sms(a, f->sms, "hello", 5, &o, f->t0, key, &r,
			      NULL);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* Every new-business call of a blocked account is refused with
 * QUOTA_EBLOCKED (quota_account_block(3)), before any other check of the
 * call's state: a cap reached, a stop policy, an offer the balance
 * cannot pay.  Bad arguments are still QUOTA_EINVAL. */
#define BLOCKED_ROWS(X)                                                        \
	X(charge, QUOTA_EBLOCKED, chg(f, 0, f->a, f->sms, 1, T0, NULL))        \
	X(charge_keyed, QUOTA_EBLOCKED, chg(f, 0, f->a, f->sms, 1, T0, "new")) \
	X(charge_cap_reached, QUOTA_EBLOCKED,                                  \
	  chg(f, 0, f->a, f->capped, 1, T0 + TU_HOUR, NULL))                   \
	X(charge_stop_policy, QUOTA_EBLOCKED,                                  \
	  chg(f, 0, f->a, f->stoppol, 1, T0, NULL))                            \
	X(quote, QUOTA_EBLOCKED, chg(f, 1, f->a, f->sms, 1, T0, NULL))         \
	X(charge_sms, QUOTA_EBLOCKED, sms15(f, f->a, NULL))                    \
	X(reserve, QUOTA_EBLOCKED,                                             \
	  rsv(f, f->a, f->sms, 1, T0, TU_HOUR, NULL, 1))                       \
	X(reserve_keyed, QUOTA_EBLOCKED,                                       \
	  rsv(f, f->a, f->sms, 1, T0, TU_HOUR, "new-r", 1))                    \
	X(package_buy, QUOTA_EBLOCKED,                                         \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(package_buy_unaffordable, QUOTA_EBLOCKED,                            \
	  purchase(f, 1, f->a, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(package_quote, QUOTA_EBLOCKED,                                       \
	  purchase(f, 0, f->a, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(charge_bad_time_still_einval, QUOTA_EINVAL,                          \
	  chg(f, 0, f->a, f->sms, 1, QUOTA_TIME_MAX, NULL))

#define BROW_DEF(name, want, expr)                                             \
	static int brow_##name(fx *f)                                          \
	{                                                                      \
		return (expr);                                                 \
	}
BLOCKED_ROWS(BROW_DEF)
#undef BROW_DEF

#define BROW_ENT(name, want, expr) {#name, want, 1, brow_##name},
static const row blocked_rows[] = {BLOCKED_ROWS(BROW_ENT)};
#undef BROW_ENT

#define NBROWS ((int)(sizeof blocked_rows / sizeof blocked_rows[0]))

START_TEST(test_r25_blocked_account_table)
{
	const row *r = &blocked_rows[_i];
	world before, after;
	int rc;

	fx_build(&F);
	ck_assert_int_eq(quota_account_block(F.a, "non-compliant content",
					     F.t0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_overage(F.a, F.sms,
						   QUOTA_OVERAGE_PAYG),
			 QUOTA_OK);
	world_take(&before, &F);
	rc = r->fn(&F);
	ck_assert_msg(rc == r->want, "blocked %s: want %s, got %s (%s)",
		      r->name, quota_err_name(r->want), quota_err_name(rc),
		      quota_errmsg(F.ctx));
	ck_assert_msg(quota_errmsg(F.ctx)[0] != '\0',
		      "blocked %s: empty quota_errmsg", r->name);
	world_take(&after, &F);
	world_assert_eq(&before, &after);
	fx_free(&F);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *badinput_issue15_suite(void)
{
	Suite *s = suite_create("badinput_issue15");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input_table, 0, NROWS);
	tcase_add_loop_test(tc, test_r25_blocked_account_table, 0, NBROWS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_issue15_suite());
}
