/*
 * check_billing.c - issue 5 end to end: the providers' published money
 * rules as scenarios (R13-R19, R22), and a property test that bills,
 * receipts and the balance agree over random traffic.
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
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define USD(x) ((int64_t)(x) * 1000000)

/* ------------------------------------------------------------- helpers */

#define MAXBILLS 4096
#define MAXLINES 16

typedef struct billbook {
	int n;
	quota_bill bill[MAXBILLS];
	quota_bill_line line[MAXBILLS][MAXLINES];
} billbook;

static int keep_bill(const quota_bill *b, void *ud)
{
	billbook *bk = ud;
	uint32_t i;

	ck_assert_int_lt(bk->n, MAXBILLS);
	ck_assert_uint_le(b->nlines, MAXLINES);
	bk->bill[bk->n] = *b;
	for (i = 0; i < b->nlines; i++)
		bk->line[bk->n][i] = b->lines[i];
	bk->bill[bk->n].lines = bk->line[bk->n];
	bk->n++;
	return 0;
}

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

/* Money is overflow-checked (R8): an hour whose pay-as-you-go total would
 * not fit in int64_t refuses the charge that would overflow it, whole,
 * on the fast path as on the general one; the next hour takes it. */
START_TEST(test_r8_ledger_hour_total_overflow_refused)
{
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	tu_snap before, after;
	uint32_t c;
	int64_t t0 = tu_utc(2024, 7, 1, 10, 0, 0);
	int k;

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "x", &c), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "dear", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED,
					       INT64_MAX / 3),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, c, t), QUOTA_OK);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(charge(a, c, 1, t0 + k, &r), QUOTA_OK);
	tu_snap_take1(&before, a, t0);
	ck_assert_int_eq(charge(a, c, 1, t0 + 5, &r), QUOTA_EOVERFLOW);
	ck_assert(tu_receipt_is_zero(&r));
	ck_assert_str_ne(quota_errmsg(ctx), "");
	tu_snap_take1(&after, a, t0);
	TU_ASSERT_SNAP_EQ(&before, &after);
	/* The next hour is a new total. */
	ck_assert_int_eq(charge(a, c, 1, t0 + TU_HOUR, &r), QUOTA_OK);
	quota_ctx_free(ctx);
}
END_TEST

static int quote(const quota_account *a, uint32_t cat, int64_t units,
		 int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	return quota_quote(a, &u, r);
}

static int count_row(const quota_report_row *row, void *ud)
{
	(void)row;
	++*(int *)ud;
	return 0;
}

static int report_rows(const quota_account *a)
{
	int n = 0;

	ck_assert_int_eq(quota_report(a, QUOTA_PERIOD_HOUR, QUOTA_TIME_MIN,
				      QUOTA_TIME_MAX, count_row, &n),
			 QUOTA_OK);
	return n;
}

/* A quote says what the charge would do (R8, quota_charge(3)): where the
 * hour's pay-as-you-go total would overflow, the quote is refused with
 * QUOTA_EOVERFLOW as the charge is, in the cached hour (fast path), in an
 * earlier hour (general path) and with a key, and it writes nothing. */
START_TEST(test_r8_quote_refuses_ledger_hour_overflow_like_charge)
{
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	tu_snap before, after;
	uint32_t c;
	int64_t t0 = tu_utc(2024, 7, 1, 10, 0, 0), t1 = t0 + TU_HOUR;
	int rc, rows;

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "x", &c), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "dear", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED,
					       INT64_MAX / 2),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, c, t), QUOTA_OK);
	ck_assert_int_eq(charge(a, c, 1, t0, &r), QUOTA_OK);
	ck_assert_int_eq(charge(a, c, 1, t0 + 1, &r), QUOTA_OK);
	rows = report_rows(a);
	tu_snap_take1(&before, a, t0);

	/* The cached hour: the charge fast path's hour. */
	memset(&r, 0x5a, sizeof r);
	rc = quote(a, c, 1, t0 + 2, NULL, &r);
	ck_assert_msg(rc == QUOTA_EOVERFLOW,
		      "quote in the cached hour: %s, the charge refuses",
		      quota_err_name(rc));
	ck_assert(tu_receipt_is_zero(&r));
	ck_assert_str_ne(quota_errmsg(ctx), "");
	rc = quote(a, c, 1, t0 + 2, "q-key", &r);
	ck_assert_msg(rc == QUOTA_EOVERFLOW, "keyed quote: %s",
		      quota_err_name(rc));
	ck_assert_int_eq(charge(a, c, 1, t0 + 2, &r), QUOTA_EOVERFLOW);
	tu_snap_take1(&after, a, t0);
	TU_ASSERT_SNAP_EQ(&before, &after);
	ck_assert_int_eq(report_rows(a), rows);

	/* Another hour has room for it. */
	ck_assert_int_eq(quote(a, c, 1, t1, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(r.payg_cost_micros, INT64_MAX / 2);

	/* An earlier hour once the cache has moved on: the general path. */
	ck_assert_int_eq(charge(a, c, 1, t1, &r), QUOTA_OK);
	rc = quote(a, c, 1, t0 + 3, NULL, &r);
	ck_assert_msg(rc == QUOTA_EOVERFLOW,
		      "late quote for the full hour: %s, the charge refuses",
		      quota_err_name(rc));
	ck_assert_int_eq(charge(a, c, 1, t0 + 3, &r), QUOTA_EOVERFLOW);
	ck_assert_int_eq(quote(a, c, 1, t1 + 5, NULL, &r), QUOTA_OK);
	ck_assert_int_eq(charge(a, c, 1, t1 + 5, &r), QUOTA_OK);
	ck_assert_int_eq(quote(a, c, 1, t1 + 6, NULL, &r), QUOTA_EOVERFLOW);
	ck_assert_int_eq(charge(a, c, 1, t1 + 6, &r), QUOTA_EOVERFLOW);
	quota_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------ property */

/*
 * Random traffic on one account: charges (some keyed, some late),
 * reservations committed in part or released with a failure fee,
 * reversals, top-ups, package purchases and settlements at random times,
 * in two categories (graduated tiers, and volume tiers R14).  Checked:
 *   - at every step the balance is never below -credit_limit, and
 *     balance + gift money equals top-ups + gift granted - gift forfeited
 *     - purchases - (billed - outstanding) (R24, with random grants and
 *     payment orders);
 *   - every bill line: amount = receipts + adjustment, |rounded - amount|
 *     within the rounding mode's bound, graduated lines have no
 *     adjustment;
 *   - once everything is settled: the lines' receipts sum to the
 *     receipts' costs (charges and commits, plus fees, less reversals),
 *     and the volume category's amounts sum to each month's volume price.
 * Issue 15: the account is blocked and unblocked now and then (R25: new
 * charges, reservations and purchases refused with QUOTA_EBLOCKED, the
 * rest goes on), releases give a failure reason with its own fee, and
 * with receipts kept keyless charges and commits are reversed by receipt
 * id (R27).
 */
#define PKEYS 512

typedef struct pmonth {
	int64_t month, units, payg;
} pmonth;

static void month_add(pmonth *pm, int *npm, int64_t month, int64_t units,
		      int64_t payg)
{
	int i;

	for (i = 0; i < *npm; i++)
		if (pm[i].month == month)
			break;
	if (i == *npm) {
		ck_assert_int_lt(*npm, 64);
		pm[i].month = month;
		pm[i].units = pm[i].payg = 0;
		(*npm)++;
	}
	pm[i].units += units;
	pm[i].payg += payg;
}

typedef struct pstate {
	billbook bk;
	quota_tariff *grad, *vol;
	uint32_t cat[2];
	int64_t receipts, adjustments;
	pmonth vm[64];
	int nvm;
	char keys[PKEYS][16];
	int64_t key_at[PKEYS];
	int key_cat[PKEYS];
	int nkeys;
	/* issue 15 */
	int blocked, keep;
	uint64_t rids[PKEYS];
	int rid_cat[PKEYS];
	int nrids;
	long nblocked, nreason, nrreversed;
} pstate;

static void book(pstate *ps, int c, const quota_receipt *r, int sign,
		 int32_t off);

/* R27: remember a kept receipt id of category c. */
static void keep_rid(pstate *ps, uint64_t id, int c)
{
	if (!id || ps->nrids >= PKEYS)
		return;
	ps->rids[ps->nrids] = id;
	ps->rid_cat[ps->nrids++] = c;
}

/* Issue 15: block or unblock (R25), keep receipts on or off, reverse a
 * kept receipt (R27). */
static void property_issue15(pstate *ps, tu_rng *g, quota_account *a,
			     int64_t now, int32_t off)
{
	quota_receipt r;
	int w = (int)tu_rng_range(g, 0, 9), rc;

	if (w < 3) { /* blocked a fifth of the time or so */
		if (ps->blocked)
			ck_assert_int_eq(quota_account_unblock(a, now),
					 QUOTA_OK);
		else if (tu_rng_chance(g, 1, 4))
			ck_assert_int_eq(quota_account_block(a, "spam", now),
					 QUOTA_OK);
		else
			return;
		ps->blocked = !ps->blocked;
		ck_assert_int_eq(quota_account_blocked(a, NULL, NULL),
				 ps->blocked);
	} else if (w < 4) {
		ps->keep = !ps->keep;
		ck_assert_int_eq(quota_account_keep_receipts(a, ps->keep),
				 QUOTA_OK);
	} else if (ps->nrids) {
		int i = (int)tu_rng_range(g, 0, ps->nrids - 1);

		/* Receipts older than the 7-day window are forgotten. */
		rc = quota_reverse_receipt(a, ps->rids[i], now, &r);
		ck_assert(rc == QUOTA_OK || rc == QUOTA_EREVERSED ||
			  rc == QUOTA_ENOTFOUND);
		if (rc == QUOTA_OK) {
			ck_assert_uint_eq(r.receipt_id, ps->rids[i]);
			book(ps, ps->rid_cat[i], &r, -1, off);
			ps->nrreversed++;
		}
	}
}

static void book(pstate *ps, int c, const quota_receipt *r, int sign,
		 int32_t off)
{
	ps->receipts += sign * r->payg_cost_micros;
	if (c == 1)
		month_add(ps->vm, &ps->nvm, tu_month_index(r->at, off),
			  sign * r->units, sign * r->payg_units);
}

static void check_bills(pstate *ps, int from, int64_t minor, int mode)
{
	int b;
	uint32_t i;

	for (b = from; b < ps->bk.n; b++) {
		const quota_bill *bill = &ps->bk.bill[b];
		int64_t amount = 0, total = 0;

		for (i = 0; i < bill->nlines; i++) {
			const quota_bill_line *l = &bill->lines[i];
			int64_t d = l->rounded_micros - l->amount_micros;

			ck_assert_int_eq(l->amount_micros,
					 l->receipts_micros +
						 l->adjustment_micros);
			if (l->category == ps->cat[0] ||
			    l->kind == QUOTA_LINE_FEE)
				ck_assert_int_eq(l->adjustment_micros, 0);
			if (d < 0)
				d = -d;
			if (mode == QUOTA_ROUND_HALF_UP ||
			    mode == QUOTA_ROUND_HALF_EVEN)
				ck_assert_int_le(2 * d, minor);
			else
				ck_assert_int_lt(d, minor);
			ck_assert_int_eq(l->rounded_micros % minor, 0);
			amount += l->amount_micros;
			total += l->rounded_micros;
			ps->adjustments += l->adjustment_micros;
		}
		ck_assert_int_eq(bill->amount_micros, amount);
		ck_assert_int_eq(bill->total_micros, total);
	}
}

static void check_money(const quota_account *a)
{
	quota_money m;

	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_ge(m.balance_micros, -m.credit_limit_micros);
	/* R24: gift money granted and not forfeited came in beside the
	 * top-ups; what is left of it is held beside the balance. */
	ck_assert_int_eq(m.balance_micros + m.gift_micros,
			 m.topped_up_micros + m.gift_granted_micros -
				 m.gift_expired_micros - m.purchased_micros -
				 (m.billed_micros - m.outstanding_micros));
	ck_assert_int_eq(m.gift_granted_micros,
			 m.gift_micros + m.gift_spent_micros +
				 m.gift_expired_micros);
	ck_assert_int_eq(m.suspended, m.outstanding_bills > 0);
}

static long g_issue15[3]; /* EBLOCKED, reasons, receipts reversed */

static void property_run(uint64_t seed, int steps)
{
	static pstate ps;
	tu_rng g;
	quota_ctx *ctx;
	quota_account *a;
	quota_offer *offer;
	quota_offer_spec os = {0};
	int64_t now = tu_utc(2024, 1, 30, 0, 0, 0), minor;
	int32_t off;
	int mode, k, b0 = 0, nbills;
	uint32_t i;

	memset(&ps, 0, sizeof ps);
	tu_rng_seed(&g, seed);
	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &ps.cat[0]), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "email", &ps.cat[1]),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "grad", &ps.grad), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.grad, 300, 4567), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.grad, 2000, 3001), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.grad, QUOTA_UNLIMITED, 1999),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(ps.grad, 20, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(ps.grad, 333), QUOTA_OK);
	/* R27: a carrier rejection dearer, an invalid number free */
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 ps.grad, QUOTA_FAIL_REJECTED, 777),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 ps.grad, QUOTA_FAIL_INVALID_NUMBER, 0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "vol", &ps.vol), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.vol, 500, 2803), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.vol, 3000, 2111), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(ps.vol, QUOTA_UNLIMITED, 1507),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(ps.vol, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
				 ps.vol, QUOTA_FAIL_EXPIRED, 41),
			 QUOTA_OK);
	os.id = "bundle";
	os.categories = QUOTA_MASK(ps.cat[0]) | QUOTA_MASK(ps.cat[1]);
	os.units = 150;
	os.price_micros = 250000;
	os.valid_days = 10;
	ck_assert_int_eq(quota_offer_add(ctx, &os, &offer), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "p", &a), QUOTA_OK);
	off = (int32_t)tu_rng_range(&g, -12, 14) * 1800;
	ck_assert_int_eq(quota_account_set_utc_offset(a, off), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, ps.cat[0], ps.grad),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, ps.cat[1], ps.vol),
			 QUOTA_OK);
	mode = (int)tu_rng_range(&g, QUOTA_ROUND_HALF_UP, QUOTA_ROUND_DOWN);
	minor = tu_rng_chance(&g, 1, 2) ? 10000 : 1000000;
	ck_assert_int_eq(quota_account_set_settlement(
				 a,
				 tu_rng_chance(&g, 1, 2) ? QUOTA_PERIOD_HOUR
							 : QUOTA_PERIOD_DAY,
				 minor, mode),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_credit_limit(
				 a, tu_rng_range(&g, 0, 3) * 1000000),
			 QUOTA_OK);

	for (k = 0; k < steps; k++) {
		int op = (int)tu_rng_range(&g, 0, 109), c = (int)(k & 1), rc;
		quota_receipt r;
		int64_t at = now - (tu_rng_chance(&g, 1, 8)
					    ? tu_rng_range(&g, 0, 3 * TU_DAY)
					    : 0);
		quota_usage u = {.category = ps.cat[c],
				 .units = tu_rng_range(&g, 1, 60),
				 .at = at};

		now += tu_rng_range(&g, 0, 2 * TU_HOUR);
		if (op < 45) {
			char key[16];

			if (tu_rng_chance(&g, 1, 3) && ps.nkeys < PKEYS) {
				snprintf(key, sizeof key, "k%d", k);
				u.key = key;
			}
			rc = quota_charge(a, &u, &r);
			ck_assert(rc == QUOTA_OK || rc == QUOTA_ESUSPENDED ||
				  (ps.blocked && rc == QUOTA_EBLOCKED));
			ps.nblocked += rc == QUOTA_EBLOCKED;
			if (rc == QUOTA_OK) {
				book(&ps, c, &r, 1, off);
				keep_rid(&ps, r.receipt_id, c);
				if (u.key) {
					snprintf(ps.keys[ps.nkeys], 16, "%s",
						 key);
					ps.key_cat[ps.nkeys++] = c;
				}
			}
		} else if (op < 60) {
			uint64_t hold;
			quota_receipt rr;

			rc = quota_reserve(a, &u, 3600, &r, &hold);
			ck_assert(rc == QUOTA_OK || rc == QUOTA_ESUSPENDED ||
				  (ps.blocked && rc == QUOTA_EBLOCKED));
			ps.nblocked += rc == QUOTA_EBLOCKED;
			if (rc != QUOTA_OK)
				continue;
			if (tu_rng_chance(&g, 2, 3)) {
				ck_assert_int_eq(
					quota_commit(a, hold,
						     tu_rng_range(&g, 0,
								  u.units),
						     NULL, &rr),
					QUOTA_OK);
				book(&ps, c, &rr, 1, off);
				keep_rid(&ps, rr.receipt_id, c);
			} else {
				/* R27: half of them with a reason */
				int32_t why = tu_rng_chance(&g, 1, 2)
						      ? (int32_t)tu_rng_range(
								&g, 1, 5)
						      : 0;

				ck_assert_int_eq(quota_release_reason(
							 a, hold, why, NULL,
							 &rr),
						 QUOTA_OK);
				ck_assert_int_eq(rr.failure_reason, why);
				ps.nreason += why != 0;
				ps.receipts += rr.fee_micros;
			}
		} else if (op < 68 && ps.nkeys) {
			int i2 = (int)tu_rng_range(&g, 0, ps.nkeys - 1);

			/* Keys older than the 7-day window are forgotten. */
			rc = quota_reverse(a, ps.keys[i2], now, &r);
			ck_assert(rc == QUOTA_OK || rc == QUOTA_EREVERSED ||
				  rc == QUOTA_ENOTFOUND);
			if (rc == QUOTA_OK)
				book(&ps, ps.key_cat[i2], &r, -1, off);
		} else if (op < 72) {
			ck_assert_int_eq(quota_account_topup(
						 a,
						 tu_rng_range(&g, 1, 4000000),
						 now),
					 QUOTA_OK);
		} else if (op < 76) {
			/* R24: gift money, some expiring, in either order */
			ck_assert_int_eq(
				quota_gift_grant(
					a, tu_rng_range(&g, 1, 3000000),
					tu_rng_chance(&g, 1, 2)
						? QUOTA_NEVER
						: now + tu_rng_range(&g, 1,
								     TU_DAY),
					now),
				QUOTA_OK);
			if (tu_rng_chance(&g, 1, 4))
				ck_assert_int_eq(
					quota_account_set_pay_order(
						a,
						(int32_t)tu_rng_range(&g, 0, 1),
						0),
					QUOTA_OK);
		} else if (op < 82) {
			rc = quota_package_buy(a, offer, 1, NULL, now, NULL,
					       NULL);
			ck_assert(rc == QUOTA_OK || rc == QUOTA_EFUNDS ||
				  rc == QUOTA_ESUSPENDED ||
				  (ps.blocked && rc == QUOTA_EBLOCKED));
		} else if (op >= 100) {
			property_issue15(&ps, &g, a, now, off);
		} else {
			nbills = (int)quota_settle(a, now, keep_bill, &ps.bk);
			ck_assert_int_ge(nbills, 0);
			check_bills(&ps, b0, minor, mode);
			b0 = ps.bk.n;
		}
		check_money(a);
	}
	/* Settle everything: a day past the last usage. */
	now += 2 * TU_DAY;
	ck_assert_int_ge(quota_settle(a, now, keep_bill, &ps.bk), 0);
	check_bills(&ps, b0, minor, mode);
	check_money(a);
	{
		int64_t lines = 0, vol_amount = 0, vol_target = 0;
		int b, j;

		for (b = 0; b < ps.bk.n; b++)
			for (i = 0; i < ps.bk.bill[b].nlines; i++) {
				const quota_bill_line *l =
					&ps.bk.bill[b].lines[i];

				lines += l->receipts_micros;
				/* R27: the fees of its failure reason are
				 * lines of their own */
				if (l->category == ps.cat[1] &&
				    l->kind != QUOTA_LINE_FEE)
					vol_amount += l->amount_micros;
			}
		ck_assert_msg(lines == ps.receipts,
			      "seed %llu: lines' receipts %lld != receipts "
			      "%lld",
			      (unsigned long long)seed, (long long)lines,
			      (long long)ps.receipts);
		/* R14: each month's payg units all at its volume's tier. */
		for (j = 0; j < ps.nvm; j++) {
			int64_t cost = 0;

			if (!ps.vm[j].payg)
				continue;
			ck_assert_int_eq(quota_tariff_price(
						 ps.vol,
						 ps.vm[j].units - ps.vm[j].payg,
						 ps.vm[j].payg, &cost),
					 QUOTA_OK);
			vol_target += cost;
		}
		ck_assert_msg(vol_amount == vol_target,
			      "seed %llu: volume amounts %lld != month "
			      "prices %lld",
			      (unsigned long long)seed, (long long)vol_amount,
			      (long long)vol_target);
	}
	g_issue15[0] += ps.nblocked;
	g_issue15[1] += ps.nreason;
	g_issue15[2] += ps.nrreversed;
	quota_ctx_free(ctx);
}

START_TEST(test_property_bills_equal_receipts_money_conserved)
{
	const char *env = getenv("QUOTA_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5e771e;
	int runs = tu_quick() ? 3 : 40, i;

	printf("check_billing: property seed %llu (QUOTA_TEST_SEED)\n",
	       (unsigned long long)seed);
	for (i = 0; i < runs; i++)
		property_run(seed + (uint64_t)i, tu_quick() ? 300 : 1500);
	printf("check_billing: property: issue 15: %ld EBLOCKED, %ld releases "
	       "with a reason, %ld reversals by receipt\n",
	       g_issue15[0], g_issue15[1], g_issue15[2]);
	ck_assert_int_gt(g_issue15[0], 0);
	ck_assert_int_gt(g_issue15[1], 0);
	ck_assert_int_gt(g_issue15[2], 0);
}
END_TEST

static Suite *billing_suite(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("providers");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_r17_r18_ses_email_daily_settlement_suspend_resume);
	tcase_add_test(tc, test_r17_sms_settled_hourly_in_local_time);
	tcase_add_test(tc, test_r16_usms_price_by_quantity_and_voucher);
	tcase_add_test(tc, test_r8_ledger_hour_total_overflow_refused);
	tcase_add_test(tc, test_r8_quote_refuses_ledger_hour_overflow_like_charge);
	tcase_add_test(tc, test_property_bills_equal_receipts_money_conserved);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(billing_suite());
}
