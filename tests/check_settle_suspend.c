/*
 * check_settle_suspend.c - payment and suspension (R18): a bill the
 * balance cannot pay stays outstanding and suspends the account, a
 * top-up or a credit limit that covers it pays it and resumes; later
 * bills wait behind an outstanding one; one settlement may suspend and
 * resume at every bill, each change an event.  Each test name cites the
 * rule it shows; amounts are worked out by hand in the comments.
 *
 * Bills themselves (R17) and all or nothing (R8) are in check_settle.c,
 * volume-tier adjustments (R14) in check_settle_volume.c; the helpers
 * the three share in support/settle.h.
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "billrec.h" /* billrec, keep_bill */
#include "settle.h"

/* ---------------------------------------------------------------- helpers */

static int count_kind(const evrec *r, int32_t kind)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->e[i].kind == kind;
	return n;
}

/* ------------------------------------------------------------------- R18 */

/*
 * A bill the balance cannot pay stays outstanding and suspends the
 * account; a top-up that covers it pays it and resumes.  A credit limit
 * lets bills take the balance below zero, down to the limit.
 */
START_TEST(test_r18_unpaid_bill_suspends_topup_resumes)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	quota_usage u = {.category = email, .units = 1, .at = d1 + TU_DAY};
	quota_receipt r;
	quota_money m;
	uint64_t hid;
	billrec br;
	evrec ev;

	memset(&ev, 0, sizeof ev);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, keep_event, &ev),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	charge(a, email, 1000, d1 + 10 * TU_HOUR, NULL); /* 280,000 */
	ck_assert_int_eq(settle(a, d1 + TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_OUTSTANDING);
	ck_assert_int_eq(br.b[0].balance_micros, 0);
	ck_assert_int_eq(quota_account_suspended(a), 1);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.outstanding_micros, 280000);
	ck_assert_uint_eq(m.outstanding_bills, 1);
	ck_assert_int_eq(m.billed_micros, 280000);
	ck_assert_int_eq(count_kind(&ev, QUOTA_EVENT_SUSPENDED), 1);
	ck_assert_int_eq(ev.e[ev.n - 1].kind, QUOTA_EVENT_SUSPENDED);
	ck_assert_ptr_eq(ev.e[ev.n - 1].account, a);
	ck_assert_int_eq(ev.e[ev.n - 1].outstanding_micros, 280000);
	ck_assert_int_eq(ev.e[ev.n - 1].balance_micros, 0);

	/* Nothing new while suspended. */
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_ESUSPENDED);
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &hid), QUOTA_ESUSPENDED);

	/* Too small a top-up stays in the balance. */
	ck_assert_int_eq(quota_account_topup(a, 100000, d1 + TU_DAY), QUOTA_OK);
	ck_assert_int_eq(quota_account_suspended(a), 1);
	ck_assert_int_eq(quota_account_balance(a), 100000);
	ck_assert_int_eq(count_kind(&ev, QUOTA_EVENT_RESUMED), 0);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_ESUSPENDED);

	/* Enough: the bill is paid, the account resumes. */
	ck_assert_int_eq(quota_account_topup(a, 200000, d1 + TU_DAY), QUOTA_OK);
	ck_assert_int_eq(quota_account_suspended(a), 0);
	ck_assert_int_eq(quota_account_balance(a), 20000);
	ck_assert_int_eq(count_kind(&ev, QUOTA_EVENT_RESUMED), 1);
	ck_assert_int_eq(ev.e[ev.n - 1].kind, QUOTA_EVENT_RESUMED);
	ck_assert_int_eq(ev.e[ev.n - 1].outstanding_micros, 0);
	ck_assert_int_eq(ev.e[ev.n - 1].balance_micros, 20000);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_uint_eq(m.outstanding_bills, 0);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);

	/* Credit limit 0.50 USD: a bill may take 0.02 down to -0.40 ... */
	ck_assert_int_eq(quota_account_set_credit_limit(a, 500000), QUOTA_OK);
	charge(a, email, 1499, d1 + TU_DAY + TU_HOUR, NULL); /* + the 1 */
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].total_micros, 420000);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_PAID);
	ck_assert_int_eq(quota_account_balance(a), -400000);
	ck_assert_int_eq(quota_account_suspended(a), 0);
	/* ... but not to -0.54. */
	charge(a, email, 500, d1 + 2 * TU_DAY + TU_HOUR, NULL);
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_OUTSTANDING);
	ck_assert_int_eq(br.b[0].balance_micros, -400000);
	ck_assert_int_eq(quota_account_suspended(a), 1);
	ck_assert_int_eq(count_kind(&ev, QUOTA_EVENT_SUSPENDED), 2);
	/* A higher limit pays it too. */
	ck_assert_int_eq(quota_account_set_credit_limit(a, 600000), QUOTA_OK);
	ck_assert_int_eq(quota_account_suspended(a), 0);
	ck_assert_int_eq(quota_account_balance(a), -540000);
	ck_assert_int_eq(count_kind(&ev, QUOTA_EVENT_RESUMED), 2);
	ck_assert_int_eq(billed(a), 280000 + 420000 + 140000);
	quota_ctx_free(c);
}
END_TEST

/* While a bill is outstanding the later ones are too (paid in order); a
 * credit bill can resume the account. */
START_TEST(test_r18_later_bills_outstanding_credit_resumes)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_account *a = add_acct(c, "shop");
	int64_t d1 = D(2024, 5, 1);
	quota_money m;
	quota_receipt r;
	billrec br;

	ck_assert_int_eq(quota_account_set_tariff(a, email, email_tariff(c)),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, 100000, d1), QUOTA_OK);
	charge(a, email, 1000, d1 + TU_HOUR, "big"); /* 280,000 */
	charge(a, email, 100, d1 + TU_DAY + TU_HOUR, NULL); /* 28,000 */
	ck_assert_int_eq(settle(a, d1 + 2 * TU_DAY, &br), 2);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_OUTSTANDING);
	/* 0.03 would fit in the balance, but bills are paid in order. */
	ck_assert_int_eq(br.b[1].status, QUOTA_BILL_OUTSTANDING);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_uint_eq(m.outstanding_bills, 2);
	ck_assert_int_eq(m.outstanding_micros, 310000);
	/* Reversing the big charge credits it in the next bill. */
	ck_assert_int_eq(quota_reverse(a, "big", d1 + 2 * TU_DAY, &r),
			 QUOTA_OK);
	ck_assert_int_eq(settle(a, d1 + 3 * TU_DAY, &br), 1);
	ck_assert_int_eq(br.b[0].total_micros, -280000);
	ck_assert_int_eq(br.b[0].status, QUOTA_BILL_PAID);
	ck_assert_int_eq(quota_account_suspended(a), 0);
	ck_assert_int_eq(quota_account_balance(a), 100000 + 280000 - 310000);
	quota_ctx_free(c);
}
END_TEST

/*
 * One settlement may suspend and resume the account at every bill, and
 * each change is an event.  Volume tariff: 0.05 USD up to 1,000,000 a
 * month, 0.000001 USD beyond; one free unit a day (free units count
 * toward the volume, R13).  Each month, day 1: 1,000,000 units (999,999
 * pay-as-you-go, 49,999.95 USD): unpaid with a 10 USD credit limit, so
 * suspended.  Day 2: 1 free unit lifts the month to tier 2, 999,999 x 1
 * micro: a credit of 49,998.95 USD (rounded down from ...950,001), which
 * pays day 1 and resumes, 1 USD net.
 */
START_TEST(test_r18_every_bill_may_suspend_or_resume)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_tariff *t = add_tariff(c, "big");
	quota_account *a = add_acct(c, "swing");
	const int64_t x = INT64_C(999999) * 50000, credit = 49998950000;
	quota_money m;
	billrec br;
	evrec ev;
	int i;

	memset(&ev, 0, sizeof ev);
	ck_assert_int_eq(quota_tariff_set_mode(t, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000000, 50000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 1, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_credit_limit(a, USD(10)), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, keep_event, &ev),
			 QUOTA_OK);
	for (i = 1; i <= 6; i++) {
		ck_assert_int_eq(charge(a, sms, 1000000,
					D(2024, i, 1) + TU_HOUR, NULL),
				 x);
		ck_assert_int_eq(charge(a, sms, 1, D(2024, i, 2) + TU_HOUR,
					NULL),
				 0);
	}
	ck_assert_int_eq(settle(a, D(2024, 7, 1), &br), 12);
	ck_assert_int_eq(ev.n, 12);
	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(ev.e[i].kind, i % 2 ? QUOTA_EVENT_RESUMED
						      : QUOTA_EVENT_SUSPENDED);
		ck_assert_int_eq(br.b[i].status, i % 2 ? QUOTA_BILL_PAID
						       : QUOTA_BILL_OUTSTANDING);
		ck_assert_int_eq(br.b[i].total_micros, i % 2 ? -credit : x);
	}
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.balance_micros, -USD(6));
	ck_assert_int_eq(m.suspended, 0);
	ck_assert_int_eq(m.billed_micros, USD(6));
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *settle_suspend_suite(void)
{
	Suite *s = suite_create("settle_suspend");
	TCase *r18 = tcase_create("r18");

	tcase_add_test(r18, test_r18_unpaid_bill_suspends_topup_resumes);
	tcase_add_test(r18, test_r18_later_bills_outstanding_credit_resumes);
	tcase_add_test(r18, test_r18_every_bill_may_suspend_or_resume);
	suite_add_tcase(s, r18);
	return s;
}

int main(void)
{
	return tu_run(settle_suspend_suite());
}
