/*
 * check_block.c - blocking (R25) and reconciliation (R27), as providers
 * describe them.  Each test name cites its rule; the seeds are quoted
 * where a test takes its numbers from them.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"

uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

#define DAY 86400

typedef struct evlog {
	int n;
	int32_t kind[32];
	char reason[32][64];
} evlog;

static int on_event(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (l->n < 32) {
		l->kind[l->n] = e->kind;
		snprintf(l->reason[l->n], sizeof l->reason[0], "%s",
			 e->reason ? e->reason : "");
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

/*
 * R25, Tencent SES (seed 000): "Jika akun Anda digunakan untuk mengirim
 * konten yang tidak sesuai, kami akan memblokir akun Anda, dan sumber
 * daya prabayar Anda tidak dapat dikembalikan dananya."  With SES's
 * prices: "Setiap akun Tencent Cloud berhak atas tier gratis 1.000
 * email", pay-as-you-go "0.00028 USD/email", the package "600.000 email
 * 144 USD 6 bulan", and "SES menggunakan siklus penagihan bayar sesuai
 * pemakaian harian".  The blocked account keeps its package, refuses
 * sends, and its last day is still settled.
 */
START_TEST(test_r25_ses_blocked_keeps_packages_refuses_sends_settles)
{
	quota_ctx *c = new_ctx();
	uint32_t email = add_cat(c, "email");
	quota_tariff *t = add_tariff(c, "ses");
	quota_account *a = add_acct(c, "ses-user");
	quota_offer_spec os = {.id = "ses-600k",
			       .categories = QUOTA_MASK(email),
			       .units = 600000,
			       .price_micros = 144000000,
			       .valid_months = 6};
	int64_t d1 = tu_utc(2026, 2, 12, 9, 0, 0);
	int64_t d2 = tu_utc(2026, 2, 13, 0, 0, 0);
	quota_usage u = {.category = email, .units = 1, .at = d1 + 3600};
	quota_purchase pu;
	quota_receipt r;
	quota_offer *o;
	quota_package *p;
	quota_money m;
	evlog log = {0};
	const char *why = NULL;
	int64_t since = 0;
	uint64_t hold, h2;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 280),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 1000, QUOTA_PERIOD_LIFETIME),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, t), QUOTA_OK);
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, on_event, &log),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, 200000000, d1), QUOTA_OK);
	/* 1,500 emails: 1,000 free, 500 at 280 micros = 140,000. */
	ck_assert_int_eq(charge_at(a, email, 1500, d1, &r), QUOTA_OK);
	ck_assert_int_eq(r.payg_cost_micros, 140000);
	ck_assert_int_eq(quota_package_buy(a, o, 1, NULL, d1 + 60, NULL, &pu),
			 QUOTA_OK);
	p = (quota_package *)pu.package;
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &hold), QUOTA_OK);

	ck_assert_int_eq(quota_account_block(a, "konten yang tidak sesuai",
					     d1 + 7200),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(a, &why, &since), 1);
	ck_assert_str_eq(why, "konten yang tidak sesuai");
	ck_assert_int_eq(since, d1 + 7200);
	ck_assert_int_eq(count_kind(&log, QUOTA_EVENT_ACCOUNT_BLOCKED), 1);
	ck_assert_str_eq(log.reason[log.n - 1], "konten yang tidak sesuai");

	/* New business is refused, with its own code, changing nothing. */
	u.at = d1 + 7300;
	ck_assert_int_eq(charge_at(a, email, 1, d1 + 7300, &r), QUOTA_EBLOCKED);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "blocked"));
	ck_assert_int_eq(quota_quote(a, &u, &r), QUOTA_EBLOCKED);
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &h2), QUOTA_EBLOCKED);
	ck_assert_uint_eq(h2, 0);
	ck_assert_int_eq(quota_package_buy(a, o, 1, NULL, d1 + 7300, NULL, &pu),
			 QUOTA_EBLOCKED);
	ck_assert_int_eq(quota_package_quote(a, o, 1, NULL, d1 + 7300, &pu),
			 QUOTA_EBLOCKED);
	ck_assert_int_eq(quota_package_remaining(p), 600000 - 1);

	/* What was under way goes on: the earlier hold commits, the day
	 * is settled and paid, a top-up is taken.  Nothing is refunded. */
	ck_assert_int_eq(quota_commit(a, hold, 1, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(quota_settle(a, d2, NULL, NULL), 1);
	ck_assert_int_eq(quota_account_topup(a, 1000000, d2), QUOTA_OK);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.billed_micros, 140000);
	ck_assert_int_eq(m.balance_micros,
			 200000000 - 144000000 - 140000 + 1000000);
	ck_assert_int_eq(quota_package_remaining(p), 600000 - 1);
	ck_assert_int_eq(quota_account_remaining(a, email, d2), 599999);
	/* Blocking again keeps the first reason, with no second event. */
	ck_assert_int_eq(quota_account_block(a, "again", d2), QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(a, &why, NULL), 1);
	ck_assert_str_eq(why, "konten yang tidak sesuai");
	ck_assert_int_eq(count_kind(&log, QUOTA_EVENT_ACCOUNT_BLOCKED), 1);

	ck_assert_int_eq(quota_account_unblock(a, d2 + 60), QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(a, &why, &since), 0);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(count_kind(&log, QUOTA_EVENT_ACCOUNT_UNBLOCKED), 1);
	ck_assert_int_eq(quota_account_unblock(a, d2 + 60), QUOTA_OK);
	ck_assert_int_eq(count_kind(&log, QUOTA_EVENT_ACCOUNT_UNBLOCKED), 1);
	ck_assert_int_eq(charge_at(a, email, 1, d2 + 120, &r), QUOTA_OK);
	ck_assert_int_eq(r.package_units, 1);
	quota_ctx_free(c);
}
END_TEST

/*
 * R25, KooMessage (seed 001) freezes a service account with a reason:
 * 'Setel alasan: 根据服务号ID冻结服务号。设置冻结原因为"服务号冻结"'
 * and unfreezes it ("解冻服务号").  The block and its reason survive a
 * snapshot; a blocked account that is also suspended says blocked.
 */
START_TEST(test_r25_koomessage_freeze_reason_in_snapshot)
{
	quota_ctx *c = new_ctx(), *c2 = new_ctx();
	uint32_t click = add_cat(c, "rich.click");
	quota_account *a = add_acct(c, "pub-11"), *b = NULL;
	int64_t t0 = tu_utc(2025, 3, 1, 8, 0, 0);
	const char *why = NULL;
	int64_t since = 0;
	quota_receipt r;
	void *snap = NULL;
	size_t len = 0;

	add_cat(c2, "rich.click");
	ck_assert_int_eq(quota_account_block(a, "服务号冻结", t0), QUOTA_OK);
	ck_assert_int_eq(charge_at(a, click, 1, t0 + 1, &r), QUOTA_EBLOCKED);
	ck_assert_int_eq(quota_account_snapshot(a, &snap, &len), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(c2, snap, len, &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(b, &why, &since), 1);
	ck_assert_str_eq(why, "服务号冻结");
	ck_assert_int_eq(since, t0);
	ck_assert_int_eq(charge_at(b, click, 1, t0 + 1, &r), QUOTA_EBLOCKED);
	ck_assert_int_eq(quota_account_unblock(b, t0 + 60), QUOTA_OK);
	ck_assert_int_eq(charge_at(b, click, 1, t0 + 61, &r), QUOTA_OK);
	quota_free(c, snap);
	/* No reason at all is allowed too. */
	ck_assert_int_eq(quota_account_unblock(a, t0 + 2), QUOTA_OK);
	ck_assert_int_eq(quota_account_block(a, NULL, t0 + 3), QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(a, &why, NULL), 1);
	ck_assert_ptr_null(why);
	quota_ctx_free(c);
	quota_ctx_free(c2);
}
END_TEST

/* R25 and the snapshot format: a snapshot of minor 1, without the
 * blocking section (nor R26's zone section of minor 3), still loads, as
 * an account neither blocked nor keeping receipts. */
START_TEST(test_r25_older_snapshot_minor_loads)
{
	quota_ctx *c = new_ctx(), *c2 = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "old"), *b = NULL;
	quota_receipt r;
	uint8_t *snap = NULL;
	size_t len = 0, body;
	uint32_t crc;
	int i;

	add_cat(c2, "sms");
	ck_assert_int_eq(charge_at(a, sms, 3, 1000, &r), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(a, (void **)&snap, &len),
			 QUOTA_OK);
	tu_snap_cut(snap, &len, 2); /* the sections after R25's */
	ck_assert_int_eq(snap[5], 2);
	/* The last section of an account neither blocked nor keeping
	 * receipts: gate 0, reason "", time 0: three bytes. */
	ck_assert_int_eq(snap[len - 3], 0);
	ck_assert_int_eq(snap[len - 2], 0);
	ck_assert_int_eq(snap[len - 1], 0);
	len -= 3;
	snap[5] = 1;
	body = len - 14;
	crc = quota__crc32c(0, snap + 14, body);
	for (i = 0; i < 4; i++) {
		snap[6 + i] = (uint8_t)(body >> (8 * i));
		snap[10 + i] = (uint8_t)(crc >> (8 * i));
	}
	ck_assert_int_eq(quota_account_load(c2, snap, len, &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(b, NULL, NULL), 0);
	ck_assert_int_eq(charge_at(b, sms, 1, 2000, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, 0);
	quota_free(c, snap);
	quota_ctx_free(c);
	quota_ctx_free(c2);
}
END_TEST

/* R27: a keyless charge and a keyless commit reversed by their receipt:
 * the charge's receipt id, the commit's hold id. */
START_TEST(test_r27_reversal_without_a_key)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms.notify");
	quota_tariff *t = add_tariff(c, "payg");
	quota_account *a = add_acct(c, "gw");
	quota_package *p = add_pkg(a, "A", QUOTA_MASK(sms), 100, 0,
				   QUOTA_NEVER, 0, 0);
	quota_usage u = {.category = sms, .units = 2, .at = 5000};
	quota_receipt r, rv;
	uint64_t hold, rid;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 30000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	/* Not kept: no receipt id, and a commit's hold id finds nothing. */
	ck_assert_int_eq(charge_at(a, sms, 1, 4000, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, 0);
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &hold), QUOTA_OK);
	ck_assert_int_eq(quota_commit(a, hold, 2, NULL, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, 0);
	ck_assert_int_eq(quota_reverse_receipt(a, hold, 5100, &rv),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_package_remaining(p), 97);

	ck_assert_int_eq(quota_account_keep_receipts(a, 1), QUOTA_OK);
	/* a quote says the id the charge then keeps its receipt under
	 * (quota_charge(3): exactly what the charge would return) */
	{
		quota_usage qu = {.category = sms, .units = 5, .at = 6000};

		ck_assert_int_eq(quota_quote(a, &qu, &rv), QUOTA_OK);
	}
	ck_assert_int_eq(charge_at(a, sms, 5, 6000, &r), QUOTA_OK);
	rid = r.receipt_id;
	ck_assert_uint_ne(rid, 0);
	ck_assert_uint_eq(rv.receipt_id, rid);
	ck_assert_int_eq(rv.units, r.units);
	ck_assert_int_eq(rv.package_units, r.package_units);
	ck_assert_int_eq(rv.payg_cost_micros, r.payg_cost_micros);
	ck_assert_uint_eq(rv.nlines, r.nlines);
	ck_assert_uint_ne(rid, hold);
	ck_assert_int_eq(quota_package_remaining(p), 92);
	ck_assert_int_eq(quota_reverse_receipt(a, rid, 6100, &rv), QUOTA_OK);
	ck_assert_int_eq(rv.kind, QUOTA_RECEIPT_REVERSAL);
	ck_assert_int_eq(rv.units, 5);
	ck_assert_uint_eq(rv.receipt_id, rid);
	ck_assert_int_eq(quota_package_remaining(p), 97);
	ck_assert_int_eq(quota_reverse_receipt(a, rid, 6100, &rv),
			 QUOTA_EREVERSED);

	/* A commit by its hold id; the hold's pay-as-you-go part credited. */
	u.units = 100;
	u.at = 7000;
	ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &hold), QUOTA_OK);
	ck_assert_int_eq(r.payg_units, 3);
	ck_assert_int_eq(quota_commit(a, hold, 100, NULL, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, hold);
	ck_assert_int_eq(quota_package_remaining(p), 0);
	ck_assert_int_eq(quota_reverse_receipt(a, hold, 7100, &rv), QUOTA_OK);
	ck_assert_int_eq(rv.payg_units, 3);
	ck_assert_int_eq(rv.payg_cost_micros, 90000);
	ck_assert_int_eq(quota_package_remaining(p), 97);
	/* Unknown ids, 0, and a keyed charge (found by its key). */
	ck_assert_int_eq(quota_reverse_receipt(a, 999, 7100, &rv),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_reverse_receipt(a, 0, 7100, &rv), QUOTA_EINVAL);
	u.units = 1;
	u.key = "k1";
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, 0);
	ck_assert_int_eq(quota_reverse(a, "k1", 7200, &rv), QUOTA_OK);
	/* Off again: back to the fast paths, no receipt id. */
	ck_assert_int_eq(quota_account_keep_receipts(a, 0), QUOTA_OK);
	ck_assert_int_eq(charge_at(a, sms, 1, 8000, &r), QUOTA_OK);
	ck_assert_uint_eq(r.receipt_id, 0);
	ck_assert_int_eq(quota_account_keep_receipts(a, 2), QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/*
 * R27: failure fees per reason.  The tariff's failure fee is 5,000
 * micros a unit; a carrier rejection pays 10,000, an invalid number
 * nothing; an expired message, which has no fee of its own, pays the
 * failure fee, as quota_release does.
 */
START_TEST(test_r27_fee_for_one_reason_not_another)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms.verify");
	quota_tariff *t = add_tariff(c, "fees"), *t2 = add_tariff(c, "x");
	quota_account *a = add_acct(c, "gw");
	quota_usage u = {.category = sms, .units = 2, .at = 1000};
	quota_receipt r;
	uint64_t h[5];
	int i;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 5000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 t, QUOTA_FAIL_REJECTED, 10000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 t, QUOTA_FAIL_INVALID_NUMBER, 0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 t, QUOTA_FAIL_FILTERED, 7),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 t, QUOTA_FAIL_FILTERED, -1),
			 QUOTA_OK); /* dropped: the failure fee again */
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(t, 0, 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 t, QUOTA_FAIL_REASON_MAX + 1, 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(t, 1, -2),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	/* In use: fixed (§5). */
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(t, 1, 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(t2, 1, 1),
			 QUOTA_OK);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h[i]),
				 QUOTA_OK);
	ck_assert_int_eq(quota_release_reason(a, h[0], QUOTA_FAIL_REJECTED,
					      NULL, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 20000);
	ck_assert_int_eq(r.failure_reason, QUOTA_FAIL_REJECTED);
	ck_assert_int_eq(r.kind, QUOTA_RECEIPT_RELEASE);
	ck_assert_int_eq(quota_release_reason(a, h[1],
					      QUOTA_FAIL_INVALID_NUMBER, "r1",
					      &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 0);
	ck_assert_int_eq(r.failure_reason, QUOTA_FAIL_INVALID_NUMBER);
	ck_assert_int_eq(quota_release_reason(a, h[2], QUOTA_FAIL_EXPIRED,
					      NULL, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 10000);
	ck_assert_int_eq(quota_release_reason(a, h[3], QUOTA_FAIL_FILTERED,
					      NULL, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 10000);
	ck_assert_int_eq(quota_release(a, h[4], NULL, &r), QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 10000);
	ck_assert_int_eq(r.failure_reason, QUOTA_FAIL_NONE);
	/* Bad reasons, and a commit cannot carry one. */
	ck_assert_int_eq(quota_reserve(a, &u, 600, &r, &h[0]), QUOTA_OK);
	ck_assert_int_eq(quota_release_reason(a, h[0], -1, NULL, &r),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_release_reason(a, h[0], 16, NULL, &r),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_hold_count(a), 1);
	/* Blocked: the earlier hold is still released, its fee charged. */
	ck_assert_int_eq(quota_account_block(a, NULL, 1100), QUOTA_OK);
	ck_assert_int_eq(quota_release_reason(a, h[0], QUOTA_FAIL_REJECTED,
					      NULL, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.fee_micros, 20000);
	quota_ctx_free(c);
}
END_TEST

/* R25 with allocation failures: a refused block changes nothing and
 * leaks nothing; the call succeeds once the allocator lets it. */
START_TEST(test_r25_block_under_allocation_failure)
{
	tu_alloc ta;
	quota_ctx *c = NULL;
	quota_account *a;
	long n, live;
	int rc = QUOTA_ENOMEM;

	tu_alloc_init(&ta);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &c), QUOTA_OK);
	a = add_acct(c, "x");
	for (n = 1; rc == QUOTA_ENOMEM && n < 100; n++) {
		live = ta.live_blocks;
		tu_alloc_fail_in(&ta, n);
		rc = quota_account_block(a, "reason", 10);
		tu_alloc_disarm(&ta);
		if (rc == QUOTA_ENOMEM) {
			ck_assert_int_eq(quota_account_blocked(a, NULL, NULL),
					 0);
			ck_assert_int_le(ta.live_blocks, live + 1); /* ext */
		}
	}
	ck_assert_int_eq(rc, QUOTA_OK);
	ck_assert_int_eq(quota_account_blocked(a, NULL, NULL), 1);
	quota_ctx_free(c);
	ck_assert_int_eq(ta.live_blocks, 0);
}
END_TEST

static Suite *block_suite(void)
{
	Suite *s = suite_create("block");
	TCase *r25 = tcase_create("r25");
	TCase *r27 = tcase_create("r27");

	tcase_add_test(r25, test_r25_ses_blocked_keeps_packages_refuses_sends_settles);
	tcase_add_test(r25, test_r25_koomessage_freeze_reason_in_snapshot);
	tcase_add_test(r25, test_r25_older_snapshot_minor_loads);
	tcase_add_test(r25, test_r25_block_under_allocation_failure);
	tcase_add_test(r27, test_r27_reversal_without_a_key);
	tcase_add_test(r27, test_r27_fee_for_one_reason_not_another);
	suite_add_tcase(s, r25);
	suite_add_tcase(s, r27);
	return s;
}

int main(void)
{
	return tu_run(block_suite());
}
