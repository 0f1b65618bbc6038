/*
 * check_billing.c - issue 5 end to end: the R8 checks of a ledger hour's
 * money total (a charge and a quote refuse its overflow alike), and a
 * property test that bills, receipts and the balance agree over random
 * traffic.  The providers' published money rules as scenarios (R13-R19,
 * R22) are check_billing_providers.c's:
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
#include "billbook.h"

/* ------------------------------------------------------------- helpers */

static int charge(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		  quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at};

	return quota_charge(a, &u, r);
}

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

/* R14, R16: settling volume usage of an account that has written no
 * money or setting yet (its extension still the shared read-only
 * default) bills it: the settlement wrote its volume bills there and
 * crashed; the same after a load, which trims an extension of defaults
 * back to the shared one. */
START_TEST(test_r14_volume_settle_of_a_bare_account)
{
	quota_ctx *ctx, *c2;
	quota_tariff *t, *t2;
	quota_account *a, *b;
	quota_receipt r;
	uint32_t c;
	int64_t day = tu_utc(2026, 1, 1, 0, 0, 0);
	void *snap;
	size_t n;

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &c), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(ctx, "vol", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(t, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, c, t), QUOTA_OK);
	ck_assert_int_eq(charge(a, c, 1, day, &r), QUOTA_OK);
	ck_assert_int_eq(quota_settle(a, day + TU_DAY, NULL, NULL), 1);
	/* settings at their defaults, through a snapshot and a load */
	ck_assert_int_eq(quota_account_new(ctx, "b", &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(b, c, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_settlement(b, QUOTA_PERIOD_DAY,
						      10000,
						      QUOTA_ROUND_HALF_UP),
			 QUOTA_OK);
	ck_assert_int_eq(charge(b, c, 1, day, &r), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(b, &snap, &n), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_new(&c2), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(c2, "sms", &c), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(c2, "vol", &t2), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t2, QUOTA_UNLIMITED, 1000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(t2, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(c2, snap, n, &b), QUOTA_OK);
	quota_free(ctx, snap);
	ck_assert_int_eq(quota_settle(b, day + TU_DAY, NULL, NULL), 1);
	quota_ctx_free(c2);
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
	tcase_add_test(tc, test_r8_ledger_hour_total_overflow_refused);
	tcase_add_test(tc, test_r14_volume_settle_of_a_bare_account);
	tcase_add_test(tc, test_r8_quote_refuses_ledger_hour_overflow_like_charge);
	tcase_add_test(tc, test_property_bills_equal_receipts_money_conserved);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(billing_suite());
}
