/*
 * check_gift.c - gift money (R24) and the money buckets paying purchases
 * and bills (R17-R19): grants, expiry, the payment order, suspension and
 * resumption, credits, and replay.  Each test name cites the rule.
 *
 * The scenario is UCloud's payment page for an SMS package
 * (../shared/seeds, "2.3) 支付页付款"):
 *
 *     购买  短信包  100  一次性  ...  ¥4.40  待支付
 *     合计：¥4.40
 *     当前账户余额：¥18.70
 *     赠送账户：¥79,640.03
 *     信用额度：¥0.00
 *
 * three buckets side by side: the cash balance (账户余额), the gift account
 * (赠送账户) and the credit limit (信用额度).  Prices are UCloud's: 100
 * domestic messages for 4.40 CNY (0.044 CNY = 44,000 micros a message).
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "journal_world.h"

uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

#define CNY(x) ((int64_t)((x) * 100 + 0.5) * INT64_C(10000)) /* exact cents */
#define T0 tu_utc(2024, 8, 31, 15, 30, 0)

#define OK(c, expr) TU_OK(c, expr)

typedef struct world {
	quota_ctx *ctx;
	jw_log log; /* every record, for the replay check */
	quota_account *a;
	uint32_t sms;
	quota_tariff *qty, *payg;
	quota_offer *usms;
	/* events seen */
	int nexpired, nsuspended, nresumed;
	int64_t expired_lost, expired_left;
} world;

static int on_event(const quota_event *e, void *ud)
{
	world *w = ud;

	if (e->kind == QUOTA_EVENT_GIFT_EXPIRED) {
		w->nexpired++;
		w->expired_lost += e->remaining;
		w->expired_left = e->balance_micros;
	} else if (e->kind == QUOTA_EVENT_SUSPENDED) {
		w->nsuspended++;
	} else if (e->kind == QUOTA_EVENT_RESUMED) {
		w->nresumed++;
	}
	return 0;
}

static void w_build(world *w)
{
	quota_offer_spec s;

	memset(w, 0, sizeof *w);
	w->ctx = new_ctx();
	jw_record(w->ctx, &w->log);
	OK(w->ctx, quota_ctx_set_event_hook(w->ctx, on_event, w));
	w->sms = add_cat(w->ctx, "sms.notify");
	w->qty = add_tariff(w->ctx, "usms-qty");
	OK(w->ctx, quota_tariff_set_mode(w->qty, QUOTA_VOLUME));
	OK(w->ctx, quota_tariff_add_tier(w->qty, QUOTA_UNLIMITED, 44000));
	w->payg = add_tariff(w->ctx, "payg");
	OK(w->ctx, quota_tariff_add_tier(w->payg, QUOTA_UNLIMITED, 10000));
	memset(&s, 0, sizeof s);
	s.id = "usms";
	s.categories = QUOTA_MASK(w->sms);
	s.unit_tariff = w->qty;
	s.min_units = 100;
	s.step_units = 100;
	s.valid_months = 12;
	OK(w->ctx, quota_offer_add(w->ctx, &s, &w->usms));
	w->a = add_acct(w->ctx, "ucloud-user");
	OK(w->ctx, quota_account_set_tariff(w->a, w->sms, w->payg));
}

/* A context that records are applied to (quota_journal_apply): its
 * state is not its own calls', so journal_wrap does not replay it. */
static quota_ctx *replay_ctx(void)
{
	quota_ctx *c = new_ctx();

	tu_journal_skip(c);
	return c;
}

/* Every record applied in check mode to a fresh context: the same
 * account, byte for byte (§5). */
static void w_replay_check(world *w)
{
	quota_ctx *c2 = replay_ctx();
	quota_account *b = NULL;
	void *s1 = NULL, *s2 = NULL;
	size_t n1 = 0, n2 = 0, i;

	for (i = 0; i < w->log.n; i++) {
		int rc = quota_journal_apply(c2, w->log.r[i].p, w->log.r[i].n,
					     QUOTA_JOURNAL_CHECK);

		ck_assert_msg(rc == QUOTA_OK, "record %zu: %s (%s)", i,
			      quota_err_name(rc), quota_errmsg(c2));
	}
	OK(c2, quota_account_find(c2, quota_account_id(w->a), &b));
	OK(w->ctx, quota_account_snapshot(w->a, &s1, &n1));
	OK(c2, quota_account_snapshot(b, &s2, &n2));
	ck_assert_uint_eq(n1, n2);
	ck_assert(memcmp(s1, s2, n1) == 0);
	/* and the snapshot loads back to the same bytes */
	{
		quota_ctx *c3 = replay_ctx();
		quota_account *d = NULL;
		void *s3 = NULL;
		size_t n3 = 0;

		for (i = 0; i < w->log.n; i++)
			if (!w->log.r[i].account)
				OK(c3, quota_journal_apply(c3, w->log.r[i].p,
							   w->log.r[i].n, 0));
		OK(c3, quota_account_load(c3, s1, n1, &d));
		OK(c3, quota_account_snapshot(d, &s3, &n3));
		ck_assert_uint_eq(n3, n1);
		ck_assert(memcmp(s3, s1, n1) == 0);
		quota_free(c3, s3);
		quota_ctx_free(c3);
	}
	quota_free(w->ctx, s1);
	quota_free(c2, s2);
	quota_ctx_free(c2);
}

static void w_free(world *w)
{
	quota_ctx_free(w->ctx);
	jw_log_free(&w->log);
}

static quota_money money(const world *w)
{
	quota_money m;

	ck_assert_int_eq(quota_account_money(w->a, &m), QUOTA_OK);
	return m;
}

/* R24 money is conserved: what came in (top-ups, grants not forfeited)
 * is what is left (cash, gift) plus what was spent (purchases, bills
 * paid). */
static void assert_conserved_(const world *w, int limit_lowered)
{
	quota_money m = money(w);

	ck_assert_int_eq(m.topped_up_micros + m.gift_granted_micros -
				 m.gift_expired_micros,
			 m.balance_micros + m.gift_micros +
				 m.purchased_micros + m.billed_micros -
				 m.outstanding_micros);
	if (!limit_lowered) /* a lowered limit may leave a debt under it */
		ck_assert_int_ge(m.balance_micros, -m.credit_limit_micros);
	ck_assert_int_ge(m.gift_micros, 0);
}
#define assert_conserved(w) assert_conserved_(w, 0)

/* Bills a settlement produced, for the test to look at. */
typedef struct bills {
	int n;
	quota_bill b[8];
} bills;

static int on_bill(const quota_bill *b, void *ud)
{
	bills *x = ud;

	if (x->n < 8)
		x->b[x->n++] = *b;
	return 0;
}

static void spend(world *w, int64_t units, int64_t at, const char *key)
{
	quota_usage u = {.category = w->sms, .units = units, .at = at,
			 .key = key};
	quota_receipt r;

	OK(w->ctx, quota_charge(w->a, &u, &r));
}

/* ---------------------------------------------------------------- R24 */

/* The payment page as it stands: 4.40 paid from the gift account, which
 * comes first; the cash balance and the credit limit are untouched. */
START_TEST(test_r24_ucloud_payment_page_gift_first)
{
	world w;
	quota_purchase p;
	quota_money m;

	w_build(&w);
	OK(w.ctx, quota_account_topup(w.a, CNY(18.70), T0 - TU_DAY));
	OK(w.ctx, quota_gift_grant(w.a, CNY(79640.03), QUOTA_NEVER,
				   T0 - TU_DAY));
	m = money(&w);
	ck_assert_int_eq(m.balance_micros, CNY(18.70));
	ck_assert_int_eq(m.gift_micros, CNY(79640.03));
	ck_assert_int_eq(m.credit_limit_micros, 0);
	ck_assert_int_eq(m.pay_order, QUOTA_PAY_GIFT_FIRST);
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
	ck_assert_int_eq(p.price_micros, CNY(4.40)); /* 合计：¥4.40 */
	ck_assert_int_eq(p.gift_micros, CNY(4.40));
	ck_assert_int_eq(p.cash_micros, 0);
	ck_assert_int_eq(p.credit_micros, 0);
	m = money(&w);
	ck_assert_int_eq(m.balance_micros, CNY(18.70));
	ck_assert_int_eq(m.gift_micros, CNY(79635.63));
	ck_assert_int_eq(m.gift_spent_micros, CNY(4.40));
	ck_assert_int_eq(m.purchased_micros, CNY(4.40));
	assert_conserved(&w);
	/* A quote says nothing about the buckets: it pays nothing. */
	OK(w.ctx, quota_package_quote(w.a, w.usms, 100, NULL, T0, &p));
	ck_assert_int_eq(p.gift_micros, 0);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* Three buckets paying one purchase: gift first, then cash, then the
 * credit limit - which pays purchases only when the account allows it
 * (R19: prepaid by default). */
START_TEST(test_r24_three_buckets_pay_a_purchase)
{
	world w;
	quota_purchase p;
	quota_money m, before;

	w_build(&w);
	OK(w.ctx, quota_account_topup(w.a, CNY(2.00), T0));
	OK(w.ctx, quota_gift_grant(w.a, CNY(1.00), QUOTA_NEVER, T0));
	OK(w.ctx, quota_account_set_credit_limit(w.a, CNY(5.00)));
	before = money(&w);
	ck_assert_int_eq(quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL,
					   &p),
			 QUOTA_EFUNDS);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.ctx), "gift"));
	m = money(&w);
	ck_assert(memcmp(&m, &before, sizeof m) == 0);
	ck_assert_uint_eq(quota_account_package_count(w.a), 0);

	OK(w.ctx, quota_account_set_pay_order(w.a, QUOTA_PAY_GIFT_FIRST,
					       QUOTA_PAY_CREDIT_PURCHASES));
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
	ck_assert_int_eq(p.gift_micros, CNY(1.00));
	ck_assert_int_eq(p.cash_micros, CNY(2.00));
	ck_assert_int_eq(p.credit_micros, CNY(1.40));
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.balance_micros, -CNY(1.40));
	ck_assert_uint_eq(m.pay_flags, QUOTA_PAY_CREDIT_PURCHASES);
	assert_conserved(&w);
	/* What is left of the credit limit: 3.60, not enough for 4.40. */
	ck_assert_int_eq(quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL,
					   &p),
			 QUOTA_EFUNDS);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* A bill that gift money cannot cover: the rest from cash, then credit;
 * the next bill that all three cannot pay suspends the account (R18),
 * and a gift grant that pays what is owed resumes it. */
START_TEST(test_r24_bill_gift_cannot_cover)
{
	world w;
	bills bs;
	quota_money m;

	w_build(&w);
	OK(w.ctx, quota_account_topup(w.a, CNY(2.00), T0 - TU_HOUR));
	OK(w.ctx, quota_gift_grant(w.a, CNY(1.00), QUOTA_NEVER, T0 - TU_HOUR));
	OK(w.ctx, quota_account_set_credit_limit(w.a, CNY(3.00)));
	spend(&w, 500, T0, NULL); /* 5.00 pay-as-you-go */
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 2 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].status, QUOTA_BILL_PAID);
	ck_assert_int_eq(bs.b[0].total_micros, CNY(5.00));
	ck_assert_int_eq(bs.b[0].gift_micros, CNY(1.00));
	ck_assert_int_eq(bs.b[0].cash_micros, CNY(2.00));
	ck_assert_int_eq(bs.b[0].credit_micros, CNY(2.00));
	ck_assert_int_eq(bs.b[0].balance_micros, -CNY(2.00));
	assert_conserved(&w);

	/* 5.00 more: 1.00 of credit left, no gift, no cash: outstanding. */
	spend(&w, 500, T0 + 2 * TU_DAY, NULL);
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 4 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].status, QUOTA_BILL_OUTSTANDING);
	ck_assert_int_eq(bs.b[0].gift_micros + bs.b[0].cash_micros +
				 bs.b[0].credit_micros,
			 0);
	ck_assert_int_eq(quota_account_suspended(w.a), 1);
	ck_assert_int_eq(w.nsuspended, 1);
	assert_conserved(&w);
	/* A grant too small to pay it is kept; one that pays resumes: 4.00
	 * of gift and 1.00 of credit pay the 5.00 owed. */
	OK(w.ctx, quota_gift_grant(w.a, CNY(3.00), QUOTA_NEVER,
				   T0 + 4 * TU_DAY));
	ck_assert_int_eq(quota_account_suspended(w.a), 1);
	OK(w.ctx, quota_gift_grant(w.a, CNY(1.00), QUOTA_NEVER,
				   T0 + 4 * TU_DAY));
	ck_assert_int_eq(quota_account_suspended(w.a), 0);
	ck_assert_int_eq(w.nresumed, 1);
	m = money(&w);
	ck_assert_int_eq(m.outstanding_micros, 0);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.balance_micros, -CNY(3.00));
	ck_assert_int_eq(m.gift_spent_micros, CNY(5.00));
	assert_conserved(&w);
	/* A limit lowered under the debt (-3.00 with a limit of 1.00) lends
	 * nothing more, but gift money still pays a bill in full. */
	OK(w.ctx, quota_account_set_credit_limit(w.a, CNY(1.00)));
	OK(w.ctx, quota_gift_grant(w.a, CNY(2.00), QUOTA_NEVER,
				   T0 + 4 * TU_DAY));
	spend(&w, 100, T0 + 4 * TU_DAY, NULL);
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 6 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].status, QUOTA_BILL_PAID);
	ck_assert_int_eq(bs.b[0].gift_micros, CNY(1.00));
	ck_assert_int_eq(bs.b[0].credit_micros, 0);
	ck_assert_int_eq(quota_account_suspended(w.a), 0);
	assert_conserved_(&w, 1);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* Grants are spent soonest expiry first; what is left at expiry is
 * forfeited by a tick (GIFT_EXPIRED) or by the first money call past it,
 * and quota_gift_balance already leaves it out. */
START_TEST(test_r24_gift_expiry)
{
	world w;
	quota_purchase p;
	quota_money m;

	w_build(&w);
	OK(w.ctx, quota_gift_grant(w.a, CNY(3.00), T0 + 10 * TU_DAY, T0));
	OK(w.ctx, quota_gift_grant(w.a, CNY(2.00), T0 + 5 * TU_DAY, T0));
	OK(w.ctx, quota_gift_grant(w.a, CNY(1.00), QUOTA_NEVER, T0));
	ck_assert_int_eq(quota_gift_balance(w.a, T0), CNY(6.00));
	/* 4.40: the 2.00 expiring on day 5, then 2.40 of day 10's. */
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0 + TU_DAY, NULL,
				    &p));
	ck_assert_int_eq(p.gift_micros, CNY(4.40));
	ck_assert_int_eq(quota_gift_balance(w.a, T0 + 6 * TU_DAY), CNY(1.60));
	ck_assert_int_eq(quota_gift_balance(w.a, T0 + 10 * TU_DAY),
			 CNY(1.00));
	ck_assert_int_eq(quota_gift_balance(NULL, T0), 0);
	/* Not forfeited until something runs at or past the expiry. */
	ck_assert_int_eq(money(&w).gift_micros, CNY(1.60));
	ck_assert_int_eq(quota_account_tick(w.a, T0 + 10 * TU_DAY - 1), 0);
	ck_assert_int_eq(w.nexpired, 0);
	ck_assert_int_eq(quota_account_tick(w.a, T0 + 10 * TU_DAY), 0);
	ck_assert_int_eq(w.nexpired, 1);
	ck_assert_int_eq(w.expired_lost, CNY(0.60));
	ck_assert_int_eq(w.expired_left, CNY(1.00));
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, CNY(1.00));
	ck_assert_int_eq(m.gift_expired_micros, CNY(0.60));
	assert_conserved(&w);

	/* A purchase past an expiry forfeits first and pays with the rest:
	 * 5.00 expiring on day 20, bought on day 21 - 1.00 (never) from
	 * gift, 3.40 from cash. */
	OK(w.ctx, quota_gift_grant(w.a, CNY(5.00), T0 + 20 * TU_DAY,
				   T0 + 11 * TU_DAY));
	OK(w.ctx, quota_account_topup(w.a, CNY(10.00), T0 + 11 * TU_DAY));
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0 + 21 * TU_DAY,
				    NULL, &p));
	ck_assert_int_eq(p.gift_micros, CNY(1.00));
	ck_assert_int_eq(p.cash_micros, CNY(3.40));
	ck_assert_int_eq(w.nexpired, 2);
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.gift_expired_micros, CNY(5.60));
	ck_assert_int_eq(m.balance_micros, CNY(6.60));
	assert_conserved(&w);
	/* A grant must expire after it is made. */
	ck_assert_int_eq(quota_gift_grant(w.a, 1, T0, T0), QUOTA_EINVAL);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* A settlement at or after a grant's expiry forfeits what is left of it
 * even when it bills nothing (quota_gift_grant(3): "the first ...
 * quota_settle whose time is at or after it"), with its event; one with
 * nothing to bill, no period to close and nothing to forfeit writes no
 * record, and a settlement that only forfeits leaves the periods it
 * closed as they were. */
START_TEST(test_r24_settle_without_bills_forfeits)
{
	world w;
	quota_money m;
	uint64_t seq;

	w_build(&w);
	/* the periods up to day 1 closed, nothing to bill */
	ck_assert_int_eq(quota_settle(w.a, T0 + TU_DAY, NULL, NULL), 0);
	OK(w.ctx, quota_gift_grant(w.a, CNY(5.00), T0 + TU_DAY + 100,
				   T0 + TU_DAY + 1));
	/* before the expiry: nothing to do, no record */
	seq = quota_account_seq(w.a);
	ck_assert_int_eq(quota_settle(w.a, T0 + TU_DAY + 99, NULL, NULL), 0);
	ck_assert_uint_eq(quota_account_seq(w.a), seq);
	ck_assert_int_eq(money(&w).gift_micros, CNY(5.00));
	/* at the expiry, in the same day: no bill, no period closed, the
	 * grant forfeited (one record) */
	ck_assert_int_eq(quota_settle(w.a, T0 + TU_DAY + 100, NULL, NULL), 0);
	ck_assert_uint_eq(quota_account_seq(w.a), seq + 1);
	ck_assert_int_eq(w.nexpired, 1);
	ck_assert_int_eq(w.expired_lost, CNY(5.00));
	ck_assert_int_eq(w.expired_left, 0);
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.gift_expired_micros, CNY(5.00));
	/* a second grant, forfeited by a settlement days later that closes
	 * periods and bills nothing */
	OK(w.ctx, quota_gift_grant(w.a, CNY(2.00), T0 + 2 * TU_DAY,
				   T0 + TU_DAY + 200));
	ck_assert_int_eq(quota_settle(w.a, T0 + 3 * TU_DAY, NULL, NULL), 0);
	ck_assert_int_eq(w.nexpired, 2);
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.gift_expired_micros, CNY(7.00));
	assert_conserved(&w);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* The order is per account: cash first spends the balance before gift
 * money, for purchases and bills alike. */
START_TEST(test_r24_order_configurable)
{
	world w;
	quota_purchase p;
	bills bs;

	w_build(&w);
	OK(w.ctx, quota_account_set_pay_order(w.a, QUOTA_PAY_CASH_FIRST, 0));
	OK(w.ctx, quota_account_topup(w.a, CNY(3.00), T0));
	OK(w.ctx, quota_gift_grant(w.a, CNY(10.00), QUOTA_NEVER, T0));
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
	ck_assert_int_eq(p.cash_micros, CNY(3.00));
	ck_assert_int_eq(p.gift_micros, CNY(1.40));
	ck_assert_int_eq(p.credit_micros, 0);
	OK(w.ctx, quota_account_topup(w.a, CNY(1.00), T0));
	spend(&w, 400, T0, NULL); /* 100 from the package, 3.00 */
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 2 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].cash_micros, CNY(1.00));
	ck_assert_int_eq(bs.b[0].gift_micros, CNY(2.00));
	/* Back to gift first. */
	OK(w.ctx, quota_account_set_pay_order(w.a, QUOTA_PAY_GIFT_FIRST, 0));
	OK(w.ctx, quota_account_topup(w.a, CNY(9.00), T0 + 2 * TU_DAY));
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0 + 2 * TU_DAY,
				    NULL, &p));
	ck_assert_int_eq(p.gift_micros, CNY(4.40));
	ck_assert_int_eq(p.cash_micros, 0);
	/* Unknown orders and flags are refused. */
	ck_assert_int_eq(quota_account_set_pay_order(w.a, 2, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_pay_order(w.a, -1, 0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_pay_order(w.a, 0, 2), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_pay_order(NULL, 0, 0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(money(&w).pay_order, QUOTA_PAY_GIFT_FIRST);
	assert_conserved(&w);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* Gift money is never refunded: a settled charge paid from gift money
 * and then reversed comes back as a credit to cash; the gift balance
 * does not grow. */
START_TEST(test_r24_reversal_credits_cash_not_gift)
{
	world w;
	quota_receipt r;
	bills bs;
	quota_money m;

	w_build(&w);
	OK(w.ctx, quota_gift_grant(w.a, CNY(10.00), QUOTA_NEVER, T0));
	spend(&w, 200, T0, "msg-1"); /* 2.00 */
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 2 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].gift_micros, CNY(2.00));
	OK(w.ctx, quota_reverse(w.a, "msg-1", T0 + 2 * TU_DAY, &r));
	memset(&bs, 0, sizeof bs);
	ck_assert_int_eq(quota_settle(w.a, T0 + 4 * TU_DAY, on_bill, &bs), 1);
	ck_assert_int_eq(bs.b[0].total_micros, -CNY(2.00));
	ck_assert_int_eq(bs.b[0].cash_micros, -CNY(2.00));
	ck_assert_int_eq(bs.b[0].gift_micros, 0);
	m = money(&w);
	ck_assert_int_eq(m.gift_micros, CNY(8.00));
	ck_assert_int_eq(m.balance_micros, CNY(2.00));
	ck_assert_int_eq(m.gift_spent_micros, CNY(2.00));
	assert_conserved(&w);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* Seal a record's frame again after a change: u32 body length, u32
 * CRC-32C of the body (quota_journal(5)). */
static void reseal(unsigned char *p, size_t n)
{
	uint32_t body = (uint32_t)(n - 8), crc = quota__crc32c(0, p + 8, body);
	int i;

	for (i = 0; i < 4; i++) {
		p[i] = (unsigned char)(body >> (8 * i));
		p[4 + i] = (unsigned char)(crc >> (8 * i));
	}
}

/* R24 and the journal: a purchase paid partly with gift money is record
 * 30 with its split; a split the account would not pay that way is
 * refused as corrupt, and a snapshot of minor 2 (before gift money)
 * still loads, as an account without any. */
START_TEST(test_r24_split_record_checked_and_old_snapshot_loads)
{
	world w;
	quota_purchase p;
	quota_ctx *c2;
	quota_account *b = NULL;
	unsigned char *snap = NULL, *rec = NULL;
	size_t i, len = 0, n = 0, at = 0;
	int found = 0, k;

	w_build(&w);
	OK(w.ctx, quota_account_topup(w.a, CNY(10.00), T0));
	OK(w.ctx, quota_gift_grant(w.a, CNY(1.00), QUOTA_NEVER, T0));
	OK(w.ctx, quota_package_buy(w.a, w.usms, 100, NULL, T0, NULL, &p));
	ck_assert_int_eq(p.gift_micros, CNY(1.00));
	for (i = 0; i < w.log.n; i++)
		if (w.log.r[i].account && w.log.r[i].p[10] == 30) {
			found++;
			at = i;
		}
	ck_assert_int_eq(found, 1);
	/* Its last field is credit (0); make it 1 micro: refused. */
	c2 = replay_ctx();
	for (i = 0; i < at; i++)
		OK(c2, quota_journal_apply(c2, w.log.r[i].p, w.log.r[i].n,
					   QUOTA_JOURNAL_CHECK));
	n = w.log.r[at].n;
	rec = malloc(n);
	memcpy(rec, w.log.r[at].p, n);
	ck_assert_int_eq(rec[n - 1], 0);
	rec[n - 1] = 2; /* zigzag: +1 */
	reseal(rec, n);
	ck_assert_int_eq(quota_journal_apply(c2, rec, n, QUOTA_JOURNAL_CHECK),
			 QUOTA_ECORRUPT);
	ck_assert_int_eq(quota_journal_apply(c2, rec, n, 0), QUOTA_ECORRUPT);
	OK(c2, quota_journal_apply(c2, w.log.r[at].p, n, QUOTA_JOURNAL_CHECK));
	free(rec);
	quota_ctx_free(c2);

	/* An account that never had gift money, as minor 2 wrote it. */
	c2 = replay_ctx();
	for (i = 0; i < w.log.n; i++)
		if (!w.log.r[i].account)
			OK(c2, quota_journal_apply(c2, w.log.r[i].p,
						   w.log.r[i].n, 0));
	{
		quota_account *plain = add_acct(w.ctx, "plain");

		OK(w.ctx, quota_account_topup(plain, CNY(3.00), T0));
		OK(w.ctx, quota_account_snapshot(plain, (void **)&snap, &len));
	}
	ck_assert_int_ge(snap[5], 4);
	tu_snap_cut(snap, &len, 4);
	for (k = 1; k <= 6; k++) /* minor 4's section: six zero bytes */
		ck_assert_int_eq(snap[len - (size_t)k], 0);
	tu_snap_cut(snap, &len, 2);
	OK(c2, quota_account_load(c2, snap, len, &b));
	ck_assert_int_eq(quota_gift_balance(b, T0), 0);
	ck_assert_int_eq(quota_account_balance(b), CNY(3.00));
	{
		quota_offer *o = NULL;

		OK(c2, quota_offer_find(c2, "usms", &o));
		OK(c2, quota_gift_grant(b, CNY(1.50), QUOTA_NEVER, T0));
		OK(c2, quota_package_buy(b, o, 100, NULL, T0, NULL, &p));
		ck_assert_int_eq(p.gift_micros, CNY(1.50));
		ck_assert_int_eq(p.cash_micros, CNY(2.90));
	}
	quota_free(w.ctx, snap);
	quota_ctx_free(c2);
	w_free(&w);
}
END_TEST

/* Bad input: a specific code, nothing changed. */
START_TEST(test_r24_bad_input)
{
	world w;
	quota_money m, before;

	w_build(&w);
	OK(w.ctx, quota_gift_grant(w.a, INT64_MAX - 5, QUOTA_NEVER, T0));
	before = money(&w);
	ck_assert_int_eq(quota_gift_grant(NULL, 1, QUOTA_NEVER, T0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, 0, QUOTA_NEVER, T0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, -1, QUOTA_NEVER, T0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, 1, T0 - 1, T0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, 1, QUOTA_TIME_MAX + 1, T0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, 1, QUOTA_NEVER,
					  QUOTA_TIME_MIN - 1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_gift_grant(w.a, 6, QUOTA_NEVER, T0),
			 QUOTA_EOVERFLOW);
	ck_assert_str_ne(quota_errmsg(w.ctx), "");
	m = money(&w);
	ck_assert(memcmp(&m, &before, sizeof m) == 0);
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

/* Property (§9): over random grants, top-ups, purchases, usage,
 * settlements and ticks, money is conserved, every bill and purchase is
 * split exactly over the buckets, and replay reproduces the account. */
START_TEST(test_r24_property_money_conserved)
{
	world w;
	tu_rng rng;
	uint64_t seed = (uint64_t)_i * 7919 + 17;
	int64_t t = T0;
	int step, k;

	w_build(&w);
	tu_rng_seed(&rng, seed);
	for (step = 0; step < 400; step++) {
		quota_purchase p;
		bills bs;

		t += tu_rng_range(&rng, 0, 6 * TU_HOUR);
		switch (tu_rng_range(&rng, 0, 7)) {
		case 0:
			quota_gift_grant(w.a, tu_rng_range(&rng, 1, 5000000),
					 tu_rng_chance(&rng, 1, 3)
						 ? QUOTA_NEVER
						 : t + tu_rng_range(&rng, 1,
								    3 * TU_DAY),
					 t);
			break;
		case 1:
			quota_account_topup(w.a, tu_rng_range(&rng, 1, 4000000),
					    t);
			break;
		case 2:
			if (quota_package_buy(w.a, w.usms, 100, NULL, t, NULL,
					      &p) == QUOTA_OK)
				ck_assert_int_eq(p.gift_micros + p.cash_micros +
							 p.credit_micros,
						 p.price_micros);
			break;
		case 3:
		case 4: { /* refused while suspended (R18) */
			quota_usage u = {.category = w.sms,
					 .units = tu_rng_range(&rng, 1, 300),
					 .at = t};
			quota_receipt r;

			quota_charge(w.a, &u, &r);
			break;
		}
		case 5:
			memset(&bs, 0, sizeof bs);
			if (quota_settle(w.a, t, on_bill, &bs) < 0)
				ck_abort_msg("settle refused");
			for (k = 0; k < bs.n; k++)
				ck_assert_int_eq(bs.b[k].status ==
								 QUOTA_BILL_PAID
							 ? bs.b[k].total_micros
							 : 0,
						 bs.b[k].gift_micros +
							 bs.b[k].cash_micros +
							 bs.b[k].credit_micros);
			break;
		case 6:
			quota_account_tick(w.a, t);
			break;
		default:
			quota_account_set_pay_order(
				w.a, (int32_t)tu_rng_range(&rng, 0, 1),
				(uint32_t)tu_rng_range(&rng, 0, 1));
			quota_account_set_credit_limit(
				w.a, tu_rng_range(&rng, 0, 3000000));
			break;
		}
		assert_conserved_(&w, 1);
	}
	w_replay_check(&w);
	w_free(&w);
}
END_TEST

static Suite *gift_suite(void)
{
	Suite *s = suite_create("gift");
	TCase *tc = tcase_create("r24");

	tcase_add_test(tc, test_r24_ucloud_payment_page_gift_first);
	tcase_add_test(tc, test_r24_three_buckets_pay_a_purchase);
	tcase_add_test(tc, test_r24_bill_gift_cannot_cover);
	tcase_add_test(tc, test_r24_gift_expiry);
	tcase_add_test(tc, test_r24_order_configurable);
	tcase_add_test(tc, test_r24_reversal_credits_cash_not_gift);
	tcase_add_test(tc, test_r24_settle_without_bills_forfeits);
	tcase_add_test(tc, test_r24_bad_input);
	tcase_add_test(tc, test_r24_split_record_checked_and_old_snapshot_loads);
	tcase_add_loop_test(tc, test_r24_property_money_conserved, 0, 8);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(gift_suite());
}
