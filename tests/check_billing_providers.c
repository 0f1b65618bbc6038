/*
 * check_billing_providers.c - issue 5 end to end: the providers'
 * published money rules as scenarios (R13-R19, R22).
 *
 *   - Tencent Cloud SES (seeds/000): 1,000 free emails, packages of
 *     600k / 1M / 5M emails valid 6 months, 0.00028 USD an email beyond,
 *     settled daily; a daily deduction the balance cannot pay suspends
 *     the service and a top-up resumes it automatically.
 *   - Huawei KooMessage (seeds/001): usage settled hourly ("usage between
 *     8:00 and 9:00 is deducted around 10:00").
 *   - UCloud USMS (seeds/002): packages priced by quantity, at least 100
 *     messages in steps of 100; 100 messages cost 4.40 CNY, 1,000 cost
 *     44 CNY; one voucher per order.
 *
 * The R8 checks of a ledger hour's money total and the property test
 * (bills, receipts and the balance agree over random traffic) are in
 * check_billing.c; the two share tests/support/billbook.h.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "billbook.h"

#define USD(x) ((int64_t)(x) * 1000000)

/* ------------------------------------------------------------- helpers */

typedef struct evlog {
	int n;
	int kind[64];
	int64_t outstanding[64];
} evlog;

static int keep_event(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (e->kind != QUOTA_EVENT_SUSPENDED && e->kind != QUOTA_EVENT_RESUMED)
		return 0;
	if (l->n < 64) {
		l->kind[l->n] = e->kind;
		l->outstanding[l->n] = e->outstanding_micros;
		l->n++;
	}
	return 0;
}

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at};

	return quota_charge(a, &u, r);
}

/* ----------------------------------------------------- Tencent Cloud SES */

START_TEST(test_r17_r18_ses_email_daily_settlement_suspend_resume)
{
	static billbook bk;
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	quota_offer *o600k, *o1m, *o5m;
	quota_purchase pu;
	quota_receipt r;
	quota_money m;
	evlog ev = {0};
	uint32_t email;
	int64_t t0 = tu_utc(2024, 5, 1, 0, 0, 0);
	quota_offer_spec s = {0};

	memset(&bk, 0, sizeof bk);
	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(ctx, keep_event, &ev),
			 QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "email", &email), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "ses", &t), QUOTA_OK);
	/* 0.00028 USD an email beyond packages and the free tier. */
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 280),
			 QUOTA_OK);
	/* 1,000 free emails per account (R15, lifetime). */
	ck_assert_int_eq(quota_tariff_set_free(t, 1000, QUOTA_PERIOD_LIFETIME),
			 QUOTA_OK);
	s.categories = QUOTA_MASK(email);
	s.valid_months = 6;
	s.id = "ses-600k";
	s.units = 600000;
	s.price_micros = USD(144);
	ck_assert_int_eq(quota_offer_add(ctx, &s, &o600k), QUOTA_OK);
	s.id = "ses-1m";
	s.units = 1000000;
	s.price_micros = USD(230);
	ck_assert_int_eq(quota_offer_add(ctx, &s, &o1m), QUOTA_OK);
	s.id = "ses-5m";
	s.units = 5000000;
	s.price_micros = USD(1100);
	ck_assert_int_eq(quota_offer_add(ctx, &s, &o5m), QUOTA_OK);

	ck_assert_int_eq(quota_account_new(ctx, "shop", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, email, t), QUOTA_OK);
	/* Defaults (R17): settled daily, to the cent, half up. */
	ck_assert_int_eq(quota_account_topup(a, USD(150), t0), QUOTA_OK);

	/* R19: the package is paid at once, effective from the purchase,
	 * valid 6 calendar months. */
	ck_assert_int_eq(quota_package_quote(a, o5m, 1, NULL, t0, &pu),
			 QUOTA_OK);
	ck_assert_int_eq(pu.price_micros, USD(1100));
	ck_assert_int_eq(quota_package_buy(a, o5m, 1, NULL, t0, NULL, &pu),
			 QUOTA_EFUNDS);
	ck_assert_int_eq(quota_account_package_count(a), 0);
	ck_assert_int_eq(quota_package_buy(a, o600k, 1, NULL, t0 + TU_HOUR,
					   "order-1", &pu),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_balance(a), USD(6));
	ck_assert_int_eq(pu.effective_at, t0 + TU_HOUR);
	ck_assert_int_eq(pu.expires_at, tu_utc(2024, 11, 1, 1, 0, 0));
	ck_assert_int_eq(quota_package_remaining(pu.package), 600000);

	/* Day 1: the free tier first (R1, R15), then the package, then
	 * pay-as-you-go. */
	ck_assert_int_eq(charge(a, email, 1000, t0 + 10 * TU_HOUR, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.free_units, 1000);
	ck_assert_int_eq(charge(a, email, 599000, t0 + 12 * TU_HOUR, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.package_units, 599000);
	ck_assert_int_eq(charge(a, email, 1500, t0 + 20 * TU_HOUR, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.package_units, 1000);
	ck_assert_int_eq(r.payg_units, 500);
	ck_assert_int_eq(r.payg_cost_micros, 140000); /* 500 x 0.00028 */

	/* Nothing is complete before midnight. */
	ck_assert_int_eq(quota_settle(a, t0 + 23 * TU_HOUR, keep_bill, &bk), 0);
	ck_assert_int_eq(quota_settle(a, t0 + TU_DAY, keep_bill, &bk), 1);
	ck_assert_int_eq(bk.bill[0].period_start, t0);
	ck_assert_int_eq(bk.bill[0].period_end, t0 + TU_DAY);
	ck_assert_int_eq(bk.bill[0].nlines, 1);
	ck_assert_int_eq(bk.bill[0].lines[0].units, 500);
	ck_assert_int_eq(bk.bill[0].lines[0].amount_micros, 140000);
	ck_assert_int_eq(bk.bill[0].total_micros, 140000);
	ck_assert_int_eq(bk.bill[0].status, QUOTA_BILL_PAID);
	ck_assert_int_eq(quota_account_balance(a), USD(6) - 140000);
	/* Settling again closes nothing new. */
	ck_assert_int_eq(quota_settle(a, t0 + TU_DAY, keep_bill, &bk), 0);

	/* Day 2: 30,000 emails cost 8.40 USD; the balance has 5.86. */
	ck_assert_int_eq(charge(a, email, 30000, t0 + TU_DAY + 9 * TU_HOUR,
				&r),
			 QUOTA_OK);
	ck_assert_int_eq(r.payg_cost_micros, 8400000);
	/* 18 emails the same day: 5,040 micros, a cent half up. */
	ck_assert_int_eq(charge(a, email, 18, t0 + TU_DAY + 10 * TU_HOUR, &r),
			 QUOTA_OK);
	ck_assert_int_eq(quota_settle(a, t0 + 2 * TU_DAY, keep_bill, &bk), 1);
	ck_assert_int_eq(bk.bill[1].lines[0].amount_micros, 8405040);
	ck_assert_int_eq(bk.bill[1].lines[0].rounded_micros, 8410000);
	ck_assert_int_eq(bk.bill[1].status, QUOTA_BILL_OUTSTANDING);

	/* R18: the deduction failed: suspended, the bill outstanding. */
	ck_assert_int_eq(quota_account_suspended(a), 1);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.outstanding_micros, 8410000);
	ck_assert_int_eq(m.outstanding_bills, 1);
	ck_assert_int_eq(m.balance_micros, USD(6) - 140000);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(ev.kind[0], QUOTA_EVENT_SUSPENDED);
	ck_assert_int_eq(ev.outstanding[0], 8410000);
	ck_assert_int_eq(charge(a, email, 1, t0 + 2 * TU_DAY + TU_HOUR, &r),
			 QUOTA_ESUSPENDED);
	ck_assert(tu_receipt_is_zero(&r));
	{
		quota_usage u = {.category = email, .units = 1,
				 .at = t0 + 2 * TU_DAY + TU_HOUR};
		uint64_t hold;

		ck_assert_int_eq(quota_reserve(a, &u, 60, &r, &hold),
				 QUOTA_ESUSPENDED);
		ck_assert_int_eq(quota_quote(a, &u, &r), QUOTA_ESUSPENDED);
	}
	ck_assert_int_eq(quota_package_buy(a, o600k, 1, NULL,
					   t0 + 2 * TU_DAY, NULL, &pu),
			 QUOTA_ESUSPENDED);

	/* A top-up that does not cover what is owed is kept; still
	 * suspended.  One that covers it pays and resumes at once. */
	ck_assert_int_eq(quota_account_topup(a, USD(2), t0 + 2 * TU_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_suspended(a), 1);
	ck_assert_int_eq(quota_account_balance(a), USD(8) - 140000);
	ck_assert_int_eq(quota_account_topup(a, USD(1), t0 + 2 * TU_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_suspended(a), 0);
	ck_assert_int_eq(quota_account_balance(a),
			 USD(9) - 140000 - 8410000);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(ev.kind[1], QUOTA_EVENT_RESUMED);
	ck_assert_int_eq(charge(a, email, 1, t0 + 2 * TU_DAY + 2 * TU_HOUR,
				&r),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_int_eq(m.topped_up_micros, USD(153));
	ck_assert_int_eq(m.purchased_micros, USD(144));
	ck_assert_int_eq(m.billed_micros, 140000 + 8410000);
	/* balance = top-ups - purchases - bills paid */
	ck_assert_int_eq(m.balance_micros,
			 m.topped_up_micros - m.purchased_micros -
				 (m.billed_micros - m.outstanding_micros));
	quota_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------ Huawei, hourly */

static const char *const sms_text =
	"【华为云】您的验证码是 834512，5 分钟内有效。如非本人操作请忽略本"
	"短信，切勿将验证码告诉他人，以免造成账号和资金损失。感谢您的使用"
	"，祝您生活愉快，工作顺利，万事如意，心想事成。";

START_TEST(test_r17_sms_settled_hourly_in_local_time)
{
	static billbook bk;
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	quota_sms_info info;
	quota_sms_opts opts = QUOTA_SMS_OPTS_INIT;
	uint32_t sms;
	/* 2024-06-01 08:00 in UTC+8 is 00:00 UTC. */
	int64_t h8 = tu_utc(2024, 6, 1, 0, 0, 0);
	int64_t per;
	int n;

	memset(&bk, 0, sizeof bk);
	opts.flags = QUOTA_SMS_CN;
	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.notify", &sms), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "sms", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000),
			 QUOTA_OK); /* 0.045 CNY a message */
	ck_assert_int_eq(quota_account_new(ctx, "cn-shop", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(a, 8 * 3600), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(a, QUOTA_PERIOD_HOUR,
						      10000,
						      QUOTA_ROUND_HALF_UP),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_topup(a, USD(100), h8), QUOTA_OK);

	ck_assert_int_eq(quota_sms_count(sms_text, strlen(sms_text), &opts,
					 &info),
			 QUOTA_OK);
	ck_assert_int_eq(info.segments, 2); /* > 70 characters */
	per = info.segments * 45000;
	ck_assert_int_eq(quota_charge_sms(a, sms, sms_text, strlen(sms_text),
					  &opts, h8 + 10 * 60, NULL, &r, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(r.payg_cost_micros, per);
	ck_assert_int_eq(quota_charge_sms(a, sms, sms_text, strlen(sms_text),
					  &opts, h8 + 50 * 60, "late-one", &r,
					  NULL),
			 QUOTA_OK);
	ck_assert_int_eq(quota_charge_sms(a, sms, sms_text, strlen(sms_text),
					  &opts, h8 + 65 * 60, NULL, &r, NULL),
			 QUOTA_OK);

	/* 09:30 local: only 08:00-09:00 is complete. */
	ck_assert_int_eq(quota_settle(a, h8 + 90 * 60, keep_bill, &bk), 1);
	ck_assert_int_eq(bk.bill[0].period_start, h8);
	ck_assert_int_eq(bk.bill[0].period_end, h8 + TU_HOUR);
	ck_assert_int_eq(bk.bill[0].lines[0].units, 2 * info.segments);
	ck_assert_int_eq(bk.bill[0].total_micros, 2 * per);
	/* 10:00 local: the 09:00 hour. */
	ck_assert_int_eq(quota_settle(a, h8 + 2 * TU_HOUR, keep_bill, &bk), 1);
	ck_assert_int_eq(bk.bill[1].period_start, h8 + TU_HOUR);
	ck_assert_int_eq(bk.bill[1].total_micros, per);
	ck_assert_int_eq(bk.bill[1].lines[0].late, 0);

	/* A delivery report for an 08:55 message of 5 units arrives at
	 * 10:20: billed in the next bill, marked late (R17).  A failure
	 * report reverses the 08:50 message (R12): credited in the same
	 * late line, both being 08:00-hour usage. */
	ck_assert_int_eq(charge(a, sms, 5, h8 + 55 * 60, &r), QUOTA_OK);
	ck_assert_int_eq(quota_reverse(a, "late-one", h8 + 140 * 60, &r),
			 QUOTA_OK);
	ck_assert_int_eq(r.payg_cost_micros, per);
	n = (int)quota_settle(a, h8 + 3 * TU_HOUR, keep_bill, &bk);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(bk.bill[2].period_start, h8 + 2 * TU_HOUR);
	ck_assert_int_eq(bk.bill[2].nlines, 1);
	ck_assert_int_eq(bk.bill[2].lines[0].late, 1);
	ck_assert_int_eq(bk.bill[2].lines[0].units, 5 - info.segments);
	ck_assert_int_eq(bk.bill[2].lines[0].receipts_micros,
			 5 * 45000 - per);
	/* 0.135 CNY rounds half up to 0.14 (R17). */
	ck_assert_int_eq(bk.bill[2].lines[0].rounded_micros, 140000);
	ck_assert_int_eq(quota_account_balance(a),
			 USD(100) - 3 * per - 140000);
	quota_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------ UCloud, by quantity */

START_TEST(test_r16_usms_price_by_quantity_and_voucher)
{
	quota_ctx *ctx;
	quota_tariff *price;
	quota_account *a;
	quota_offer *o;
	quota_purchase pu;
	quota_offer_spec s = {0};
	quota_voucher v5 = {QUOTA_VOUCHER_AMOUNT, 5000000, 40000000};
	quota_voucher v10 = {QUOTA_VOUCHER_PERCENT, 1000, 0};
	uint32_t verify, notify;
	int64_t t0 = tu_utc(2024, 4, 29, 14, 45, 0);
	static const struct {
		int64_t q;
		int rc;
		int64_t price;
	} table[] = {
		{100, QUOTA_OK, 4400000},        /* seeds: 4.40 CNY */
		{1000, QUOTA_OK, 44000000},      /* seeds: 44 CNY */
		{99900, QUOTA_OK, 4395600000},   /* still the first tier */
		{100000, QUOTA_OK, 4000000000},  /* all at 0.040 (volume) */
		{1000000, QUOTA_OK, 36000000000},
		{50, QUOTA_EINVAL, 0},           /* below the minimum */
		{150, QUOTA_EINVAL, 0},          /* not a step of 100 */
		{0, QUOTA_EINVAL, 0},
	};
	size_t i;

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.verify", &verify),
			 QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.notify", &notify),
			 QUOTA_OK);
	/* R16: the unit price depends on how many are bought. */
	ck_assert_int_eq(quota_tariff_new(ctx, "usms-package", &price),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(price, 99999, 44000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(price, 999999, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(price, QUOTA_UNLIMITED, 36000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(price, QUOTA_VOLUME), QUOTA_OK);
	s.id = "usms-custom";
	s.categories = QUOTA_MASK(verify) | QUOTA_MASK(notify);
	s.unit_tariff = price;
	s.min_units = 100;
	s.step_units = 100;
	s.valid_months = 12;
	ck_assert_int_eq(quota_offer_add(ctx, &s, &o), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "u1", &a), QUOTA_OK);

	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		memset(&pu, 0x55, sizeof pu);
		ck_assert_int_eq(quota_package_quote(a, o, table[i].q, NULL, t0,
						     &pu),
				 table[i].rc);
		if (table[i].rc == QUOTA_OK) {
			ck_assert_int_eq(pu.units, table[i].q);
			ck_assert_int_eq(pu.list_price_micros, table[i].price);
			ck_assert_int_eq(pu.price_micros, table[i].price);
		}
	}

	/* One voucher an order: 5 CNY off from 40 CNY spent. */
	ck_assert_int_eq(quota_package_quote(a, o, 1000, &v5, t0, &pu),
			 QUOTA_OK);
	ck_assert_int_eq(pu.discount_micros, 5000000);
	ck_assert_int_eq(pu.price_micros, 39000000);
	ck_assert_int_eq(quota_package_quote(a, o, 100, &v5, t0, &pu),
			 QUOTA_EVOUCHER);
	ck_assert_int_eq(quota_package_quote(a, o, 1000, &v10, t0, &pu),
			 QUOTA_OK);
	ck_assert_int_eq(pu.price_micros, 39600000);

	/* Bought with the voucher: the balance pays 39 CNY at once. */
	ck_assert_int_eq(quota_account_topup(a, 50000000, t0), QUOTA_OK);
	ck_assert_int_eq(quota_package_buy(a, o, 1000, &v5, t0, NULL, &pu),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_balance(a), 11000000);
	ck_assert_int_eq(quota_package_remaining(pu.package), 1000);
	ck_assert_int_eq(pu.expires_at, tu_utc(2025, 4, 29, 14, 45, 0));
	/* R6: the package covers both of its categories. */
	ck_assert_int_eq(quota_account_remaining(a, verify, t0), 1000);
	ck_assert_int_eq(quota_account_remaining(a, notify, t0), 1000);
	/* Not enough left for another: nothing bought. */
	ck_assert_int_eq(quota_package_buy(a, o, 1000, NULL, t0, NULL, &pu),
			 QUOTA_EFUNDS);
	ck_assert_int_eq(quota_account_package_count(a), 1);
	ck_assert_int_eq(quota_account_balance(a), 11000000);
	quota_ctx_free(ctx);
}
END_TEST

static Suite *billing_providers_suite(void)
{
	Suite *s = suite_create("billing_providers");
	TCase *tc = tcase_create("providers");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_r17_r18_ses_email_daily_settlement_suspend_resume);
	tcase_add_test(tc, test_r17_sms_settled_hourly_in_local_time);
	tcase_add_test(tc, test_r16_usms_price_by_quantity_and_voucher);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(billing_providers_suite());
}
