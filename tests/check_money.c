/*
 * check_money.c - the catalog and purchases (R5, R16, R19): offers and
 * their quantity pricing, quotes, vouchers, buying from the balance, the
 * validity calendar, package ids and flags, and what suspension and an
 * unpaid bill (R18) do to a purchase.  Each test name cites the rule it
 * shows.
 *
 * The rest of the money tests went to check_money_balance.c (an
 * account's money, R17 and R18: top-ups, the credit limit, settlement and
 * rounding to the minor unit) and check_money_errors.c (bad input and
 * failed allocations of offers and purchases); the helpers the three
 * share (USD, T0, the world, OK, msnap, REFUSED, purchase_is_zero, quote,
 * buy) to support/money.h.
 *
 * Prices are the providers' own (their purchase guides):
 *   - UCloud USMS domestic SMS, bought by quantity in hundreds (minimum
 *     100): 10 hundred = 1,000 messages cost 44 CNY, 100 cost 4.40 CNY,
 *     so 0.044 CNY = 44,000 micros a message at that volume.  The page
 *     refers to a quantity table we do not have; the cheaper tiers above
 *     100,000 messages below are illustrative, to exercise the volume
 *     table.
 *   - Tencent Cloud SES email packages: 600,000 emails for 144 USD,
 *     1 million for 230 USD, 5 million for 1,100 USD, valid 6 months.
 *
 * Suspension (R18) is reached both through quota_settle and, to pin the
 * purchase rule alone, by setting the flag through the private layout
 * (lib/ctx.h), as check_calendar.c reads it.
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

/* ------------------------------------------------------------ R16 */

START_TEST(test_r16_quantity_pricing)
{
	/* quantity -> list price in micros (CNY) */
	static const struct {
		int64_t q, price;
	} rows[] = {
		{100, INT64_C(4400000)},         /* 4.40 CNY (payment page) */
		{200, INT64_C(8800000)},
		{1000, INT64_C(44000000)},       /* 10 hundred: 44 CNY */
		{10000, INT64_C(440000000)},
		{100000, INT64_C(4400000000)},   /* last at 0.044 */
		{100100, INT64_C(4004000000)},   /* volume: all at 0.040 */
		{1000000, INT64_C(40000000000)},
		{1000100, INT64_C(36003600000)}, /* all at 0.036 */
	};
	static const int64_t bad[] = {150, 50, 99, 101, 1050, 0, -100};
	world w;
	quota_purchase p;
	size_t i;

	w_build(&w, 0);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		OK(w.ctx, quote(w.a, w.usms, rows[i].q, NULL, T0, &p));
		ck_assert_int_eq(p.units, rows[i].q);
		ck_assert_msg(p.list_price_micros == rows[i].price,
			      "q %lld: %lld, want %lld", (long long)rows[i].q,
			      (long long)p.list_price_micros,
			      (long long)rows[i].price);
		ck_assert_int_eq(p.discount_micros, 0);
		ck_assert_int_eq(p.price_micros, rows[i].price);
		ck_assert_int_eq(p.effective_at, T0);
		ck_assert_int_eq(p.expires_at, tu_utc(2025, 8, 31, 15, 30, 0));
		ck_assert_ptr_null(p.package);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(quote(w.a, w.usms, bad[i], NULL, T0, &p),
				 QUOTA_EINVAL);
		ck_assert(purchase_is_zero(&p));
		ck_assert_str_ne(quota_errmsg(w.ctx), "");
	}
	/* The message names the minimum and the step. */
	ck_assert_int_eq(quote(w.a, w.usms, 150, NULL, T0, &p), QUOTA_EINVAL);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.ctx), "100"));
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.ctx), "min"));
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.ctx), "step"));
	w_free(&w);
}
END_TEST

/* R16 with a maximum, a graduated table and a step that is not the
 * minimum. */
START_TEST(test_r16_quantity_max_step_and_graduated)
{
	world w;
	quota_offer_spec s;
	quota_offer *o;
	quota_tariff *g;
	quota_purchase p;

	w_build(&w, 0);
	g = add_tariff(w.ctx, "graduated");
	OK(w.ctx, quota_tariff_add_tier(g, 1000, 50000));
	OK(w.ctx, quota_tariff_add_tier(g, QUOTA_UNLIMITED, 40000));
	memset(&s, 0, sizeof s);
	s.id = "grad";
	s.categories = QUOTA_MASK(w.notify);
	s.unit_tariff = g;
	s.min_units = 500;
	s.step_units = 250;
	s.max_units = 2000;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, quote(w.a, o, 500, NULL, T0, &p));
	ck_assert_int_eq(p.list_price_micros, 500 * INT64_C(50000));
	OK(w.ctx, quote(w.a, o, 1500, NULL, T0, &p));
	ck_assert_int_eq(p.list_price_micros,
			 1000 * INT64_C(50000) + 500 * INT64_C(40000));
	OK(w.ctx, quote(w.a, o, 2000, NULL, T0, &p));
	ck_assert_int_eq(p.list_price_micros,
			 1000 * INT64_C(50000) + 1000 * INT64_C(40000));
	ck_assert_int_eq(quote(w.a, o, 2250, NULL, T0, &p), QUOTA_EINVAL);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.ctx), "2000"));
	ck_assert_int_eq(quote(w.a, o, 600, NULL, T0, &p), QUOTA_EINVAL);
	ck_assert_int_eq(quote(w.a, o, 250, NULL, T0, &p), QUOTA_EINVAL);

	/* The offer borrows its tariff, which is fixed from then on (§5: a
	 * tariff in use is never changed in place).  With no tier the
	 * quantity is free, and stays so. */
	g = add_tariff(w.ctx, "later");
	s.id = "later";
	s.unit_tariff = g;
	s.min_units = 1;
	s.step_units = 1;
	s.max_units = 0;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, quote(w.a, o, 7, NULL, T0, &p));
	ck_assert_int_eq(p.list_price_micros, 0);
	ck_assert_int_eq(quota_tariff_add_tier(g, QUOTA_UNLIMITED, 30000),
			 QUOTA_EINVAL);
	OK(w.ctx, quote(w.a, o, 7, NULL, T0, &p));
	ck_assert_int_eq(p.list_price_micros, 0);
	w_free(&w);
}
END_TEST

START_TEST(test_r16_offer_find)
{
	world w;
	quota_offer *o = (quota_offer *)&w;

	w_build(&w, 0);
	OK(w.ctx, quota_offer_find(w.ctx, "ses-1m", &o));
	ck_assert_ptr_eq(o, w.ses1m);
	OK(w.ctx, quota_offer_find(w.ctx, "usms", &o));
	ck_assert_ptr_eq(o, w.usms);
	ck_assert_int_eq(quota_offer_find(w.ctx, "ses-2m", &o),
			 QUOTA_ENOTFOUND);
	ck_assert_ptr_null(o);
	ck_assert_str_ne(quota_errmsg(w.ctx), "");
	o = (quota_offer *)&w;
	ck_assert_int_eq(quota_offer_find(w.ctx, NULL, &o), QUOTA_EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(quota_offer_find(w.ctx, "usms", NULL), QUOTA_EINVAL);
	o = (quota_offer *)&w;
	ck_assert_int_eq(quota_offer_find(NULL, "usms", &o), QUOTA_EINVAL);
	ck_assert_ptr_null(o);
	w_free(&w);
}
END_TEST

/* ------------------------------------------------------------ R19 */

START_TEST(test_r19_buy_debits_balance)
{
	world w;
	quota_purchase p;
	quota_package *pk;
	quota_package_spec ps;
	quota_money m;
	const int64_t exp = tu_utc(2025, 2, 28, 15, 30, 0);

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(500), T0 - TU_DAY));
	ck_assert_int_eq(quota_account_balance(w.a), USD(500));
	OK(w.ctx, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	ck_assert_int_eq(quota_account_balance(w.a), USD(500) - 144000000);
	ck_assert_int_eq(p.units, 600000);
	ck_assert_int_eq(p.list_price_micros, USD(144));
	ck_assert_int_eq(p.discount_micros, 0);
	ck_assert_int_eq(p.price_micros, USD(144));
	ck_assert_int_eq(p.effective_at, T0);
	/* 2024-08-31 + 6 calendar months: 2025-02-28, same time of day. */
	ck_assert_int_eq(p.expires_at, exp);
	ck_assert_ptr_nonnull(p.package);

	ck_assert_uint_eq(quota_account_package_count(w.a), 1);
	OK(w.ctx, quota_package_find(w.a, "ses-600k#1", &pk));
	ck_assert_ptr_eq(pk, p.package);
	OK(w.ctx, quota_package_get_spec(pk, &ps));
	ck_assert_str_eq(ps.id, "ses-600k#1");
	ck_assert_uint_eq(ps.categories, QUOTA_MASK(w.email));
	ck_assert_int_eq(ps.units, 600000);
	ck_assert_int_eq(ps.effective_at, T0);
	ck_assert_int_eq(ps.expires_at, exp);
	ck_assert_int_eq(ps.price_micros, USD(144));
	ck_assert_uint_eq(ps.flags, 0);
	ck_assert_int_eq(quota_package_remaining(pk), 600000);
	ck_assert_int_eq(quota_package_status(pk, T0 - 1),
			 QUOTA_PACKAGE_PENDING);
	ck_assert_int_eq(quota_package_status(pk, T0), QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(pk, exp - 1),
			 QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(pk, exp),
			 QUOTA_PACKAGE_EXPIRED);
	ck_assert_int_eq(quota_account_remaining(w.a, w.email, T0), 600000);

	/* Two of the fixed offer: one package of twice the units. */
	OK(w.ctx, buy(w.a, w.ses600k, 2, NULL, T0 + 60, NULL, &p));
	ck_assert_int_eq(p.units, 1200000);
	ck_assert_int_eq(p.price_micros, USD(288));
	OK(w.ctx, quota_package_get_spec(p.package, &ps));
	ck_assert_str_eq(ps.id, "ses-600k#2");
	ck_assert_int_eq(quota_account_balance(w.a), USD(500 - 144 - 288));

	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.balance_micros, USD(68));
	ck_assert_int_eq(m.topped_up_micros, USD(500));
	ck_assert_int_eq(m.purchased_micros, USD(432));
	ck_assert_int_eq(m.billed_micros, 0);
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_int_eq(m.suspended, 0);
	ck_assert_uint_eq(m.outstanding_bills, 0);
	/* Conservation: topped up = balance + purchased (nothing billed). */
	ck_assert_int_eq(m.topped_up_micros,
			 m.balance_micros + m.purchased_micros);

	/* R3 across bought packages: the sooner expiry burns first. */
	{
		quota_usage u = {.category = w.email, .units = 700000,
				 .at = T0 + 120};
		quota_receipt r;

		OK(w.ctx, quota_charge(w.a, &u, &r));
		ck_assert_int_eq(r.package_units, 700000);
		ck_assert_int_eq(r.payg_units, 0);
		ck_assert_str_eq(r.lines[0].package_id, "ses-600k#1");
		ck_assert_int_eq(r.lines[0].units, 600000);
	}
	w_free(&w);
}
END_TEST

/* Validity on the account's calendar, R5's shared expiry, QUOTA_NEVER. */
START_TEST(test_r5_r19_validity_calendar)
{
	world w;
	quota_offer_spec s;
	quota_offer *o;
	quota_purchase p, p2;
	int64_t at;

	w_build(&w, 0);
	/* UTC+8: 2024-08-31 16:30 UTC is 2024-09-01 00:30 local; six months
	 * later is 2025-03-01 00:30 local = 2025-02-28 16:30 UTC. */
	OK(w.ctx, quota_account_set_utc_offset(w.a, 8 * 3600));
	at = tu_utc(2024, 8, 31, 16, 30, 0);
	OK(w.ctx, quote(w.a, w.ses600k, 1, NULL, at, &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2025, 2, 28, 16, 30, 0));
	/* 2024-08-31 15:30 local = 07:30 UTC: local Feb 28, 2025. */
	at = tu_utc(2024, 8, 31, 7, 30, 0);
	OK(w.ctx, quote(w.a, w.ses600k, 1, NULL, at, &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2025, 2, 28, 7, 30, 0));
	OK(w.ctx, quota_account_set_utc_offset(w.a, 0));

	/* Leap year, month ends, months plus days. */
	memset(&s, 0, sizeof s);
	s.id = "m1d15";
	s.categories = QUOTA_MASK(w.email);
	s.units = 10;
	s.valid_months = 1;
	s.valid_days = 15;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, quote(w.a, o, 1, NULL, tu_utc(2024, 1, 31, 23, 59, 59), &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2024, 3, 15, 23, 59, 59));
	OK(w.ctx, quote(w.a, o, 1, NULL, tu_utc(2023, 1, 31, 0, 0, 0), &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2023, 3, 15, 0, 0, 0));
	OK(w.ctx, quote(w.a, o, 1, NULL, tu_utc(2024, 12, 31, 12, 0, 0), &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2025, 2, 15, 12, 0, 0));
	OK(w.ctx, quote(w.a, w.ses600k, 1, NULL,
			tu_utc(2024, 12, 31, 12, 0, 0), &p));
	ck_assert_int_eq(p.expires_at, tu_utc(2025, 6, 30, 12, 0, 0));
	OK(w.ctx, quote(w.a, w.usms, 100, NULL, tu_utc(2024, 2, 29, 1, 0, 0),
			&p));
	ck_assert_int_eq(p.expires_at, tu_utc(2025, 2, 28, 1, 0, 0));

	/* Days only. */
	s.id = "d30";
	s.valid_months = 0;
	s.valid_days = 30;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, quote(w.a, o, 1, NULL, T0, &p));
	ck_assert_int_eq(p.expires_at, T0 + 30 * TU_DAY);

	/* Neither: no expiry. */
	s.id = "forever";
	s.valid_days = 0;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, quote(w.a, o, 1, NULL, T0, &p));
	ck_assert_int_eq(p.expires_at, QUOTA_NEVER);
	OK(w.ctx, quota_account_topup(w.a, USD(1), T0));
	OK(w.ctx, buy(w.a, o, 1, NULL, T0, NULL, &p));
	ck_assert_int_eq(quota_package_status(p.package, QUOTA_TIME_MAX - 1),
			 QUOTA_PACKAGE_ACTIVE);

	/* An expiry past year 9999 is refused. */
	ck_assert_int_eq(quote(w.a, w.ses600k, 1, NULL,
			       tu_utc(9999, 7, 1, 0, 0, 0), &p),
			 QUOTA_EINVAL);
	ck_assert(purchase_is_zero(&p));
	OK(w.ctx, quote(w.a, w.ses600k, 1, NULL, tu_utc(9999, 6, 30, 0, 0, 0),
			&p));
	ck_assert_int_eq(p.expires_at, tu_utc(9999, 12, 30, 0, 0, 0));
	ck_assert_int_eq(quote(w.a, w.ses600k, 1, NULL, QUOTA_TIME_MAX, &p),
			 QUOTA_EINVAL);

	/* R5: two buys of one order at one time share their validity. */
	OK(w.ctx, quota_account_topup(w.a, USD(2000), T0));
	OK(w.ctx, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	OK(w.ctx, buy(w.a, w.ses5m, 1, NULL, T0, NULL, &p2));
	ck_assert_int_eq(p.effective_at, p2.effective_at);
	ck_assert_int_eq(p.expires_at, p2.expires_at);
	w_free(&w);
}
END_TEST

START_TEST(test_r19_insufficient_funds_buys_nothing)
{
	world w;
	quota_purchase p;
	quota_package *pk;

	w_build(&w, 0);
	/* No money at all. */
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	ck_assert(purchase_is_zero(&p));
	OK(w.ctx, quota_account_topup(w.a, USD(100), T0));
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	ck_assert_ptr_nonnull(strstr(last_err, "acme"));
	/* Prepaid: the credit limit does not pay for packages. */
	OK(w.ctx, quota_account_set_credit_limit(w.a, USD(10000)));
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.usms, 10000, NULL, T0, NULL, &p));
	ck_assert_int_eq(quota_package_find(w.a, "ses-600k#1", &pk),
			 QUOTA_ENOTFOUND);
	/* One micro short, then exactly enough: the balance ends at 0. */
	OK(w.ctx, quota_account_topup(w.a, USD(44) - 1, T0));
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	OK(w.ctx, quota_account_topup(w.a, 1, T0));
	OK(w.ctx, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	ck_assert_int_eq(quota_account_balance(w.a), 0);
	/* Nothing left: the next one is refused. */
	REFUSED(w.a, QUOTA_EFUNDS, buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
	/* A purchase that costs nothing needs no funds. */
	{
		quota_voucher v = {.kind = QUOTA_VOUCHER_PERCENT,
				   .value = 10000};

		OK(w.ctx, buy(w.a, w.usms, 100, &v, T0, NULL, &p));
		ck_assert_int_eq(p.price_micros, 0);
		ck_assert_int_eq(p.discount_micros, INT64_C(4400000));
		ck_assert_int_eq(quota_account_balance(w.a), 0);
	}
	w_free(&w);
}
END_TEST

/* R18: a suspended account buys nothing. */
START_TEST(test_r18_suspended_account_cannot_buy)
{
	world w;
	quota_purchase p;

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(1000), T0));
	/* What settlement does when a bill cannot be paid (settle.c),
	 * written in directly: no record says so. */
	tu_journal_skip(w.ctx);
	w.a->suspended = true;
	ck_assert_int_eq(quota__ext_need(w.a), 0);
	w.a->x->outstanding = USD(5);
	w.a->x->nowed = 0;
	ck_assert_int_eq(quota_account_suspended(w.a), 1);
	REFUSED(w.a, QUOTA_ESUSPENDED,
		buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	ck_assert(purchase_is_zero(&p));
	ck_assert_ptr_nonnull(strstr(last_err, "suspended"));
	/* A quote is still answered: it changes nothing. */
	OK(w.ctx, quote(w.a, w.ses600k, 1, NULL, T0, &p));
	ck_assert_int_eq(p.price_micros, USD(144));
	w.a->suspended = false;
	w.a->x->outstanding = 0;
	OK(w.ctx, buy(w.a, w.ses600k, 1, NULL, T0, NULL, &p));
	w_free(&w);
}
END_TEST

/* R18 end to end: a daily bill the balance cannot pay suspends the
 * account (quota_settle), purchases are refused until a top-up pays it. */
START_TEST(test_r18_unpaid_bill_blocks_purchases_until_topup)
{
	world w;
	quota_tariff *t;
	quota_purchase p;
	quota_money m;
	quota_usage u;
	quota_receipt r;

	w_build(&w, 0);
	t = add_tariff(w.ctx, "ses-payg");
	/* 0.00028 USD an email (SES pay-as-you-go). */
	OK(w.ctx, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 280));
	OK(w.ctx, quota_account_set_tariff(w.a, w.email, t));
	u = (quota_usage){.category = w.email, .units = 100000, .at = T0};
	OK(w.ctx, quota_charge(w.a, &u, &r));
	ck_assert_int_eq(r.payg_cost_micros, USD(28));
	ck_assert_int_eq(quota_settle(w.a, T0 + 2 * TU_DAY, NULL, NULL), 1);
	ck_assert_int_eq(quota_account_suspended(w.a), 1);
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.outstanding_micros, USD(28));
	REFUSED(w.a, QUOTA_ESUSPENDED,
		buy(w.a, w.ses600k, 1, NULL, T0 + 2 * TU_DAY, NULL, &p));
	/* A top-up too small to pay stays in the balance, but a purchase
	 * is still refused: the bill comes first. */
	OK(w.ctx, quota_account_topup(w.a, USD(20), T0 + 2 * TU_DAY));
	REFUSED(w.a, QUOTA_ESUSPENDED,
		buy(w.a, w.usms, 100, NULL, T0 + 2 * TU_DAY, NULL, &p));
	OK(w.ctx, quota_account_topup(w.a, USD(180), T0 + 2 * TU_DAY));
	ck_assert_int_eq(quota_account_suspended(w.a), 0);
	ck_assert_int_eq(quota_account_balance(w.a), USD(172));
	OK(w.ctx, buy(w.a, w.ses600k, 1, NULL, T0 + 2 * TU_DAY, NULL, &p));
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.balance_micros, USD(28));
	ck_assert_int_eq(m.billed_micros, USD(28));
	ck_assert_int_eq(m.purchased_micros, USD(144));
	ck_assert_int_eq(m.topped_up_micros, m.balance_micros +
						     m.purchased_micros +
						     m.billed_micros);
	w_free(&w);
}
END_TEST

START_TEST(test_r19_vouchers)
{
	world w;
	quota_offer_spec s;
	quota_offer *odd, *big;
	quota_purchase p;
	quota_voucher v;
	quota_money m;

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(1000), T0));

	/* Amount: 20 USD off 144. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_AMOUNT, .value = USD(20)};
	OK(w.ctx, quote(w.a, w.ses600k, 1, &v, T0, &p));
	ck_assert_int_eq(p.list_price_micros, USD(144));
	ck_assert_int_eq(p.discount_micros, USD(20));
	ck_assert_int_eq(p.price_micros, USD(124));

	/* Percent in basis points: 15 % off 230 USD = 34.50. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_PERCENT, .value = 1500};
	OK(w.ctx, quote(w.a, w.ses1m, 1, &v, T0, &p));
	ck_assert_int_eq(p.discount_micros, INT64_C(34500000));
	ck_assert_int_eq(p.price_micros, INT64_C(195500000));

	/* Percent rounds the discount down to the micro. */
	memset(&s, 0, sizeof s);
	s.id = "odd";
	s.categories = QUOTA_MASK(w.email);
	s.units = 1;
	s.price_micros = 12345;
	odd = add_offer(w.ctx, &s);
	{
		static const struct {
			int64_t bp, disc;
		} rows[] = {
			{1, 1},        /* 1.2345 */
			{5000, 6172},  /* 6172.5 */
			{3333, 4114},  /* 4114.5885 */
			{9999, 12343}, /* 12343.7655 */
			{10000, 12345},
		};
		size_t i;

		for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			v = (quota_voucher){.kind = QUOTA_VOUCHER_PERCENT,
					    .value = rows[i].bp};
			OK(w.ctx, quote(w.a, odd, 1, &v, T0, &p));
			ck_assert_int_eq(p.discount_micros, rows[i].disc);
			ck_assert_int_eq(p.price_micros,
					 12345 - rows[i].disc);
		}
	}
	/* ... also where list * value would overflow 64 bits. */
	s.id = "big";
	s.price_micros = INT64_MAX;
	big = add_offer(w.ctx, &s);
	v = (quota_voucher){.kind = QUOTA_VOUCHER_PERCENT, .value = 9999};
	OK(w.ctx, quote(w.a, big, 1, &v, T0, &p));
	ck_assert_int_eq(p.discount_micros, INT64_C(9222449699651090329));
	ck_assert_int_eq(p.price_micros, INT64_C(922337203685478));
	ck_assert_int_eq(quote(w.a, big, 2, NULL, T0, &p), QUOTA_EOVERFLOW);

	/* Minimum spend: met exactly, then not. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_AMOUNT, .value = USD(10),
			    .min_spend_micros = USD(144)};
	OK(w.ctx, quote(w.a, w.ses600k, 1, &v, T0, &p));
	ck_assert_int_eq(p.price_micros, USD(134));
	v.min_spend_micros = USD(144) + 1;
	ck_assert_int_eq(quote(w.a, w.ses600k, 1, &v, T0, &p),
			 QUOTA_EVOUCHER);
	ck_assert(purchase_is_zero(&p));
	REFUSED(w.a, QUOTA_EVOUCHER, buy(w.a, w.ses600k, 1, &v, T0, NULL, &p));
	/* By quantity: min spend 44 CNY needs 1,000 messages. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_PERCENT, .value = 1000,
			    .min_spend_micros = INT64_C(44000000)};
	REFUSED(w.a, QUOTA_EVOUCHER, buy(w.a, w.usms, 900, &v, T0, NULL, &p));
	OK(w.ctx, quote(w.a, w.usms, 1000, &v, T0, &p));
	ck_assert_int_eq(p.price_micros, INT64_C(39600000));

	/* A discount above the price makes it free, never negative. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_AMOUNT, .value = USD(500)};
	OK(w.ctx, quote(w.a, w.ses600k, 1, &v, T0, &p));
	ck_assert_int_eq(p.discount_micros, USD(144));
	ck_assert_int_eq(p.price_micros, 0);

	/* Buying with a voucher debits the discounted price; the package
	 * records what was paid. */
	v = (quota_voucher){.kind = QUOTA_VOUCHER_AMOUNT, .value = USD(20)};
	OK(w.ctx, buy(w.a, w.ses600k, 1, &v, T0, "promo", &p));
	ck_assert_int_eq(quota_account_balance(w.a), USD(1000 - 124));
	{
		quota_package_spec ps;

		OK(w.ctx, quota_package_get_spec(p.package, &ps));
		ck_assert_int_eq(ps.price_micros, USD(124));
		ck_assert_str_eq(ps.id, "promo");
	}
	OK(w.ctx, quota_account_money(w.a, &m));
	ck_assert_int_eq(m.purchased_micros, USD(124));

	/* Bad vouchers. */
	{
		static const quota_voucher bad[] = {
			{0, 100, 0},
			{3, 100, 0},
			{-1, 100, 0},
			{QUOTA_VOUCHER_AMOUNT, 0, 0},
			{QUOTA_VOUCHER_AMOUNT, -5, 0},
			{QUOTA_VOUCHER_PERCENT, 0, 0},
			{QUOTA_VOUCHER_PERCENT, 10001, 0},
			{QUOTA_VOUCHER_PERCENT, -100, 0},
			{QUOTA_VOUCHER_AMOUNT, 5, -1},
		};
		size_t i;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ck_assert_int_eq(quote(w.a, w.ses600k, 1, &bad[i], T0,
					       &p),
					 QUOTA_EINVAL);
			ck_assert(purchase_is_zero(&p));
			REFUSED(w.a, QUOTA_EINVAL,
				buy(w.a, w.ses600k, 1, &bad[i], T0, NULL, &p));
		}
	}
	w_free(&w);
}
END_TEST

/* Generated package ids, explicit ones, flags and priority copied. */
START_TEST(test_r19_package_ids_flags_priority)
{
	world w;
	quota_offer_spec s;
	quota_offer *o, *longo;
	quota_purchase p;
	quota_package_spec ps;
	char longid[QUOTA_ID_MAX + 1];

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(10000), T0));
	/* "<offer id>#<n>", n = package count + 1, skipping ids in use. */
	add_pkg(w.a, "ses-1m#2", QUOTA_MASK(w.email), 5, T0, T0 + TU_DAY, 0,
		0);
	OK(w.ctx, buy(w.a, w.ses1m, 1, NULL, T0, NULL, &p));
	OK(w.ctx, quota_package_get_spec(p.package, &ps));
	ck_assert_str_eq(ps.id, "ses-1m#3");
	OK(w.ctx, buy(w.a, w.ses1m, 1, NULL, T0, NULL, &p));
	OK(w.ctx, quota_package_get_spec(p.package, &ps));
	ck_assert_str_eq(ps.id, "ses-1m#4");
	/* An explicit id in use: EEXISTS, nothing debited. */
	REFUSED(w.a, QUOTA_EEXISTS,
		buy(w.a, w.ses1m, 1, NULL, T0, "ses-1m#2", &p));
	ck_assert(purchase_is_zero(&p));
	/* An explicit id that is not UTF-8: EENCODING, nothing debited. */
	REFUSED(w.a, QUOTA_EENCODING,
		buy(w.a, w.ses1m, 1, NULL, T0, "bad\xff", &p));
	REFUSED(w.a, QUOTA_EINVAL, buy(w.a, w.ses1m, 1, NULL, T0, "", &p));
	/* out may be NULL. */
	OK(w.ctx, buy(w.a, w.ses1m, 1, NULL, T0, "no-out", NULL));
	ck_assert_int_eq(quota_account_balance(w.a), USD(10000 - 3 * 230));

	/* Flags and priority go to the package. */
	memset(&s, 0, sizeof s);
	s.id = "grant";
	s.categories = QUOTA_MASK(w.verify) | QUOTA_MASK(w.notify);
	s.units = 500;
	s.price_micros = 0;
	s.valid_months = 1;
	s.flags = QUOTA_PACKAGE_STOP;
	s.priority = -1;
	o = add_offer(w.ctx, &s);
	OK(w.ctx, buy(w.a, o, 1, NULL, T0, NULL, &p));
	OK(w.ctx, quota_package_get_spec(p.package, &ps));
	ck_assert_uint_eq(ps.flags, QUOTA_PACKAGE_STOP);
	ck_assert_int_eq(ps.priority, -1);
	ck_assert_uint_eq(ps.categories,
			  QUOTA_MASK(w.verify) | QUOTA_MASK(w.notify));
	ck_assert_int_eq(ps.price_micros, 0);

	/* An offer id too long to take a suffix needs an explicit id. */
	memset(longid, 'x', QUOTA_ID_MAX);
	longid[QUOTA_ID_MAX] = '\0';
	s.id = longid;
	s.flags = 0;
	longo = add_offer(w.ctx, &s);
	REFUSED(w.a, QUOTA_EINVAL, buy(w.a, longo, 1, NULL, T0, NULL, &p));
	OK(w.ctx, buy(w.a, longo, 1, NULL, T0, "long-1", &p));
	w_free(&w);
}
END_TEST

/* What quota_package_add refuses is refused by a purchase, unpaid. */
START_TEST(test_r19_package_add_failure_debits_nothing)
{
	world w;
	quota_offer_spec s;
	quota_offer *huge;
	quota_purchase p;

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(10), T0));
	memset(&s, 0, sizeof s);
	s.id = "huge";
	s.categories = QUOTA_MASK(w.email);
	s.units = INT64_MAX / 2;
	s.price_micros = 1;
	huge = add_offer(w.ctx, &s);
	OK(w.ctx, buy(w.a, huge, 1, NULL, T0, NULL, &p));
	OK(w.ctx, buy(w.a, huge, 1, NULL, T0, NULL, &p));
	/* The account would hold more than INT64_MAX units. */
	REFUSED(w.a, QUOTA_EOVERFLOW, buy(w.a, huge, 1, NULL, T0, NULL, &p));
	ck_assert(purchase_is_zero(&p));
	/* Units of q packages overflow in the quote. */
	REFUSED(w.a, QUOTA_EOVERFLOW, buy(w.a, huge, 3, NULL, T0, NULL, &p));
	ck_assert_int_eq(quota_account_balance(w.a), USD(10) - 2);
	w_free(&w);
}
END_TEST

/* A quote is the purchase a buy would make, and changes nothing. */
START_TEST(test_r19_quote_matches_buy_and_changes_nothing)
{
	world w;
	quota_purchase q, b;
	quota_voucher v = {.kind = QUOTA_VOUCHER_PERCENT, .value = 250};
	msnap x, y;

	w_build(&w, 0);
	OK(w.ctx, quota_account_topup(w.a, USD(100), T0));
	msnap_take(&x, w.a);
	OK(w.ctx, quote(w.a, w.usms, 2000, &v, T0, &q));
	/* Quoting more than the balance pays is fine. */
	OK(w.ctx, quote(w.a, w.ses5m, 1, NULL, T0, &b));
	msnap_take(&y, w.a);
	msnap_eq(&x, &y);
	OK(w.ctx, buy(w.a, w.usms, 2000, &v, T0, NULL, &b));
	ck_assert_int_eq(b.units, q.units);
	ck_assert_int_eq(b.list_price_micros, q.list_price_micros);
	ck_assert_int_eq(b.discount_micros, q.discount_micros);
	ck_assert_int_eq(b.price_micros, q.price_micros);
	ck_assert_int_eq(b.effective_at, q.effective_at);
	ck_assert_int_eq(b.expires_at, q.expires_at);
	ck_assert_ptr_null(q.package);
	ck_assert_ptr_nonnull(b.package);
	/* 2,000 SMS = 88 CNY, 2.5 % off = 85.80. */
	ck_assert_int_eq(b.price_micros, INT64_C(85800000));
	ck_assert_int_eq(quota_account_balance(w.a),
			 USD(100) - INT64_C(85800000));
	w_free(&w);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *money_suite(void)
{
	Suite *s = suite_create("money");
	TCase *r16 = tcase_create("r16");
	TCase *r19 = tcase_create("r19");

	tcase_add_test(r16, test_r16_quantity_pricing);
	tcase_add_test(r16, test_r16_quantity_max_step_and_graduated);
	tcase_add_test(r16, test_r16_offer_find);
	tcase_add_test(r19, test_r19_buy_debits_balance);
	tcase_add_test(r19, test_r5_r19_validity_calendar);
	tcase_add_test(r19, test_r19_insufficient_funds_buys_nothing);
	tcase_add_test(r19, test_r18_suspended_account_cannot_buy);
	tcase_add_test(r19, test_r18_unpaid_bill_blocks_purchases_until_topup);
	tcase_add_test(r19, test_r19_vouchers);
	tcase_add_test(r19, test_r19_package_ids_flags_priority);
	tcase_add_test(r19, test_r19_package_add_failure_debits_nothing);
	tcase_add_test(r19, test_r19_quote_matches_buy_and_changes_nothing);
	suite_add_tcase(s, r16);
	suite_add_tcase(s, r19);
	return s;
}

int main(void)
{
	return tu_run(money_suite());
}
