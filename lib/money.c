/*
 * money.c - an account's money (R17-R19): balance, credit limit, top-ups,
 * paying bills, suspension and resumption, and rounding to the minor unit.
 *
 * Rules chosen where DESIGN.md is silent (documented in quota_money(3)):
 *   - bills may take the balance down to -credit_limit; a bill that would
 *     go further is not paid at all (no partial payment): it stays
 *     outstanding and the account is suspended (R18);
 *   - while any bill is outstanding, later bills are outstanding too (they
 *     are paid in order);
 *   - a top-up, or a raised credit limit, that lets the balance pay every
 *     outstanding bill pays them at once and resumes the account; a
 *     smaller top-up is kept in the balance and the account stays
 *     suspended;
 *   - a negative bill (a credit, e.g. a reversal of a settled charge) is
 *     paid into the balance and may resume the account the same way;
 *   - R24: "the balance" above is gift money, cash and the credit limit
 *     in the account's payment order (gift.c); a credit goes to cash.
 */
#include "journal.h"

#include <string.h>

/* Pay every outstanding bill if the buckets now can (R18, R24: gift
 * money, cash and credit in the account's order). */
void quota__money_resume(quota_account *a)
{
	quota__split s;

	if (!a->suspended ||
	    !quota__money_split(a, a->x->outstanding, quota__gifts_of(a)->sum,
				true, &s))
		return;
	quota__money_pay(a, &s);
	a->x->outstanding = 0;
	a->x->nowed = 0;
	a->suspended = false;
	quota__event_queue(a, QUOTA_EVENT_RESUMED, QUOTA_ALL, NULL, 0, 0, 0);
}

int quota__money_bill(quota_account *a, int64_t total, quota__split *s)
{
	/* The caller checked that balance, billed and outstanding cannot
	 * overflow (quota__money_fits), and forfeited the gift money expired
	 * at the settlement's time (quota__gift_expire). */
	a->x->billed += total;
	/* A credit (total <= 0) always goes to cash, suspended or not. */
	if ((total <= 0 || !a->suspended) &&
	    quota__money_split(a, total, quota__gifts_of(a)->sum, true, s)) {
		quota__money_pay(a, s);
		quota__money_resume(a);
		return QUOTA_BILL_PAID;
	}
	memset(s, 0, sizeof *s);
	a->x->nowed++;
	a->x->outstanding += total;
	if (!a->suspended) {
		a->suspended = true;
		quota__event_queue(a, QUOTA_EVENT_SUSPENDED, QUOTA_ALL, NULL,
				   0, 0, 0);
	}
	return QUOTA_BILL_OUTSTANDING;
}

bool quota__money_fits(const quota_account *a, int64_t pos, int64_t neg)
{
	int64_t x;

	/* pos: the sum of the positive bill totals, neg: of the negative ones
	 * (<= 0).  Whatever order they are paid in, billed stays between
	 * billed + neg and billed + pos, outstanding grows by at most pos and
	 * the balance rises by at most -neg (it only falls when can_pay says
	 * it may). */
	return !__builtin_add_overflow(a->x->billed, pos, &x) &&
	       !__builtin_add_overflow(a->x->billed, neg, &x) &&
	       !__builtin_add_overflow(a->x->outstanding, pos, &x) &&
	       !__builtin_sub_overflow(a->x->balance, neg, &x);
}

void quota__money_free(quota_account *a)
{
	quota__free(&a->ctx->mem, a->x->vbills);
	a->x->vbills = NULL;
	a->x->nowed = a->x->nvbills = a->x->cap_vbills = 0;
	quota__gift_free(a);
}

/* quota_account_topup through the write path (§5). */
struct topup_op {
	quota_account *a;
	int64_t micros, at;
	int64_t balance, topped_up; /* after the top-up (prepare's sums) */
};

static int topup_prepare(void *v)
{
	struct topup_op *op = v;
	quota_account *a = op->a;

	if (op->micros <= 0)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': top-up must be > 0, not %lld",
				  a->id, (long long)op->micros);
	if (!quota__time_ok(op->at))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': top-up time out of range",
				  a->id);
	if (quota__add_ovf(a->x->balance, op->micros, &op->balance) ||
	    quota__add_ovf(a->x->topped_up, op->micros, &op->topped_up))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "account '%s': balance would overflow",
				  a->id);
	if (quota__events_reserve(a))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void topup_encode(quota__wbuf *w, const void *v)
{
	const struct topup_op *op = v;

	quota__put_sv(w, op->micros);
	quota__put_sv(w, op->at);
}

static void topup_apply(void *v)
{
	struct topup_op *op = v;

	quota__gift_expire(op->a, op->at); /* R24 */
	op->a->x->balance = op->balance;
	op->a->x->topped_up = op->topped_up;
	quota__money_resume(op->a);
}

static const quota__step topup_steps = {
	.ext = true,
	.rec = QUOTA__R_TOPUP,
	.prepare = topup_prepare,
	.encode = topup_encode,
	.apply = topup_apply,
	.flush = true,
};

int quota_account_topup(quota_account *a, int64_t micros, int64_t at)
{
	struct topup_op op = {a, micros, at, 0, 0};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &topup_steps, &op);
}

int64_t quota_account_balance(const quota_account *a)
{
	return a ? a->x->balance : 0;
}

/* quota_account_set_credit_limit through the write path (§5). */
struct credit_limit_op {
	quota_account *a;
	int64_t micros;
};

static int credit_limit_prepare(void *v)
{
	const struct credit_limit_op *op = v;

	if (op->micros < 0)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': credit limit must be >= 0",
				  op->a->id);
	if (quota__events_reserve(op->a))
		return quota__nomem(op->a);
	return QUOTA_OK;
}

static void credit_limit_encode(quota__wbuf *w, const void *v)
{
	quota__put_sv(w, ((const struct credit_limit_op *)v)->micros);
}

static void credit_limit_apply(void *v)
{
	struct credit_limit_op *op = v;

	quota__gift_expire(op->a, op->a->clock); /* R24 */
	op->a->x->credit_limit = op->micros;
	quota__money_resume(op->a);
}

static const quota__step credit_limit_steps = {
	.ext = true,
	.rec = QUOTA__R_CREDIT_LIMIT,
	.prepare = credit_limit_prepare,
	.encode = credit_limit_encode,
	.apply = credit_limit_apply,
	.flush = true,
};

int quota_account_set_credit_limit(quota_account *a, int64_t micros)
{
	struct credit_limit_op op = {a, micros};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &credit_limit_steps, &op);
}

int quota_account_suspended(const quota_account *a)
{
	return a ? (int)a->suspended : QUOTA_EINVAL;
}

int quota_account_money(const quota_account *a, quota_money *out)
{
	if (!a || !out)
		return a ? quota__err(a->ctx, QUOTA_EINVAL,
				      "quota_account_money: NULL out")
			 : QUOTA_EINVAL;
	memset(out, 0, sizeof *out);
	out->balance_micros = a->x->balance;
	out->credit_limit_micros = a->x->credit_limit;
	out->outstanding_micros = a->x->outstanding;
	out->topped_up_micros = a->x->topped_up;
	out->purchased_micros = a->x->purchased;
	out->billed_micros = a->x->billed;
	out->suspended = a->suspended;
	out->outstanding_bills = (uint32_t)a->x->nowed;
	out->gift_micros = quota__gifts_of(a)->sum; /* R24 */
	out->gift_granted_micros = quota__gifts_of(a)->granted;
	out->gift_spent_micros = quota__gifts_of(a)->spent;
	out->gift_expired_micros = quota__gifts_of(a)->expired;
	out->pay_order = quota__gifts_of(a)->order;
	out->pay_flags = quota__gifts_of(a)->flags;
	quota__ok(a->ctx);
	return QUOTA_OK;
}

int quota_money_round(int64_t micros, int64_t minor, int mode, int64_t *out)
{
	uint64_t m, q, r, v;
	bool neg = micros < 0, up;

	if (!out || minor <= 0 || mode < QUOTA_ROUND_HALF_UP ||
	    mode > QUOTA_ROUND_DOWN)
		return QUOTA_EINVAL;
	/* On the magnitude, in unsigned arithmetic (|INT64_MIN| fits). */
	m = neg ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
	q = m / (uint64_t)minor;
	r = m % (uint64_t)minor;
	switch (mode) {
	case QUOTA_ROUND_HALF_UP:
		up = r * 2 >= (uint64_t)minor;
		break;
	case QUOTA_ROUND_HALF_EVEN:
		up = r * 2 > (uint64_t)minor ||
		     (r * 2 == (uint64_t)minor && (q & 1));
		break;
	case QUOTA_ROUND_UP:
		up = r != 0;
		break;
	default:
		up = false;
		break;
	}
	q += up;
	/* A negative result may reach INT64_MIN, one further than a
	 * positive one may go. */
	if (q > ((uint64_t)INT64_MAX + neg) / (uint64_t)minor)
		return QUOTA_EOVERFLOW;
	v = q * (uint64_t)minor;
	*out = neg && v ? -(int64_t)(v - 1) - 1 : (int64_t)v;
	return QUOTA_OK;
}

/* quota_account_set_settlement through the write path (§5). */
struct settlement_op {
	quota_account *a;
	int period;
	int64_t minor;
	int rounding;
};

static int settlement_prepare(void *v)
{
	const struct settlement_op *op = v;
	const quota_account *a = op->a;

	if (op->period != QUOTA_PERIOD_HOUR && op->period != QUOTA_PERIOD_DAY)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': settlement period must be "
				  "QUOTA_PERIOD_HOUR or QUOTA_PERIOD_DAY",
				  a->id);
	if (op->minor <= 0)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': minor unit must be > 0",
				  a->id);
	if (op->rounding < QUOTA_ROUND_HALF_UP ||
	    op->rounding > QUOTA_ROUND_DOWN)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': unknown rounding mode %d",
				  a->id, op->rounding);
	return QUOTA_OK;
}

static void settlement_encode(quota__wbuf *w, const void *v)
{
	const struct settlement_op *op = v;

	quota__put_sv(w, op->period);
	quota__put_sv(w, op->minor);
	quota__put_sv(w, op->rounding);
}

static void settlement_apply(void *v)
{
	struct settlement_op *op = v;

	op->a->x->settle_period = op->period;
	op->a->x->minor_unit = op->minor;
	op->a->x->rounding = op->rounding;
}

static const quota__step settlement_steps = {
	.ext = true,
	.rec = QUOTA__R_SETTLEMENT,
	.prepare = settlement_prepare,
	.encode = settlement_encode,
	.apply = settlement_apply,
};

int quota_account_set_settlement(quota_account *a, int period, int64_t minor,
				 int rounding)
{
	struct settlement_op op = {a, period, minor, rounding};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &settlement_steps, &op);
}
