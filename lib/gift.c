/*
 * gift.c - gift money (R24): a second balance beside cash, granted by the
 * host, optionally expiring, never refunded; and the order in which the
 * money buckets (gift, cash, credit limit) pay purchases and bills.
 *
 * Rules chosen where DESIGN.md is silent (documented in quota_gift_grant(3)
 * and libquota-rules(7)):
 *   - grants are kept apart and spent soonest expiry first (ties: the
 *     earlier grant; QUOTA_NEVER last), so the money that would be lost
 *     first is used first;
 *   - what is left of a grant at its expiry is forfeited at the first
 *     tick, grant, top-up, purchase or settlement at or after it (each
 *     call's own time; setting the credit limit uses the account clock),
 *     with QUOTA_EVENT_GIFT_EXPIRED; quota_gift_balance(a, now) already
 *     leaves it out;
 *   - gift money is never refunded and never grows back: a credit (a bill
 *     below 0, from a reversal of settled usage) is paid into cash; a
 *     purchase has no refund at all (R19);
 *   - a grant pays what a suspended account owes if gift, cash and credit
 *     now can, and resumes it (R18), as a top-up does;
 *   - the order is QUOTA_PAY_GIFT_FIRST (gift, cash, credit) or
 *     QUOTA_PAY_CASH_FIRST (cash, gift, credit); the credit limit is
 *     always last, and pays purchases only with QUOTA_PAY_CREDIT_PURCHASES
 *     (R19: prepaid by default).
 * This file is the only writer of the gift state (quota__gifts, its own
 * allocation, so that an account without gift money pays nothing for
 * it); the cash balance stays money.c's and package.c's (the purchase's
 * apply).
 */
#include "journal.h"

#include <string.h>

/* The gift money of grants still good at t (expires_at > t); the grants
 * are sorted by expiry, so the expired ones are a prefix. */
static int64_t gift_at(const quota_account *a, int64_t t, size_t *first)
{
	const quota__gifts *gs = quota__gifts_of(a);
	int64_t sum = gs->sum;
	size_t i = 0;

	while (i < gs->n && gs->v[i].expires_at <= t)
		sum -= gs->v[i++].micros;
	if (first)
		*first = i;
	return sum;
}

int64_t quota_gift_balance(const quota_account *a, int64_t now)
{
	return a ? gift_at(a, now, NULL) : 0;
}

const quota__gifts quota__gifts_none = {
	.order = QUOTA_PAY_GIFT_FIRST,
};

int quota__gifts_need(quota_account *a)
{
	if (a->x->gs)
		return QUOTA_OK;
	a->x->gs = quota__calloc(&a->ctx->mem, 1, sizeof *a->x->gs);
	return a->x->gs ? QUOTA_OK : QUOTA_ENOMEM;
}

int64_t quota__gift_forfeit(const quota_account *a, int64_t t)
{
	return quota__gifts_of(a)->sum - gift_at(a, t, NULL);
}

void quota__gift_expire(quota_account *a, int64_t t)
{
	quota__gifts *gs = a->x->gs;
	size_t n;
	int64_t left = gift_at(a, t, &n), lost;
	quota_event *ev;

	if (!n) /* (nothing to forfeit: also every account without gs) */
		return;
	lost = gs->sum - left;
	memmove(gs->v, gs->v + n, (gs->n - n) * sizeof *gs->v);
	gs->n -= n;
	gs->sum = left;
	gs->expired += lost;
	/* the event's balance: the gift balance left */
	if (lost > 0 && (ev = quota__event_queue(a, QUOTA_EVENT_GIFT_EXPIRED,
						 QUOTA_ALL, NULL, lost, 0, 0)))
		ev->balance_micros = left;
}

/* Take micros of gift money, soonest expiry first (the caller made sure
 * there is that much). */
static void gift_take(quota_account *a, int64_t micros)
{
	quota__gifts *gs = a->x->gs; /* there is gift money: it is set */
	size_t n = 0;

	gs->sum -= micros;
	gs->spent += micros;
	while (micros > 0) {
		quota__gift *g = &gs->v[n];

		if (g->micros > micros) {
			g->micros -= micros;
			break;
		}
		micros -= g->micros;
		n++;
	}
	memmove(gs->v, gs->v + n, (gs->n - n) * sizeof *gs->v);
	gs->n -= n;
}

bool quota__money_split(const quota_account *a, int64_t x, int64_t gift,
			bool credit, quota__split *s)
{
	int64_t bal = a->x->balance, cash = bal > 0 ? bal : 0, room;

	memset(s, 0, sizeof *s);
	if (x <= 0) { /* a credit goes to cash: gift money is never refunded */
		s->cash = x;
		return true;
	}
	if (quota__gifts_of(a)->order == QUOTA_PAY_CASH_FIRST) {
		s->cash = cash < x ? cash : x;
		s->gift = gift < x - s->cash ? gift : x - s->cash;
	} else {
		s->gift = gift < x ? gift : x;
		s->cash = cash < x - s->gift ? cash : x - s->gift;
	}
	s->credit = x - s->gift - s->cash;
	/* What the credit limit still lends: limit + min(balance, 0), which
	 * cannot overflow; below 0 if the limit was lowered under a debt. */
	room = credit ? a->x->credit_limit + (bal < 0 ? bal : 0) : 0;
	return s->credit == 0 || s->credit <= room;
}

void quota__money_pay(quota_account *a, const quota__split *s)
{
	if (s->gift)
		gift_take(a, s->gift);
	a->x->balance -= s->cash + s->credit;
}

int quota__money_buy_split(const quota_account *a, int64_t price, int64_t t,
			   quota__split *s)
{
	int64_t gift = gift_at(a, t, NULL);

	if (price <= 0) {
		memset(s, 0, sizeof *s);
		return QUOTA_OK;
	}
	if (!quota__money_split(a, price, gift,
				quota__gifts_of(a)->flags &
					QUOTA_PAY_CREDIT_PURCHASES,
				s))
		return quota__err(a->ctx, QUOTA_EFUNDS,
				  "account '%s': balance %lld and gift money "
				  "%lld cannot pay %lld",
				  a->id, (long long)a->x->balance,
				  (long long)gift, (long long)price);
	return QUOTA_OK;
}

/* ------------------------------------------------------------ grants */

/* quota_gift_grant through the write path (§5).  The record carries the
 * inputs and, as its effect, the gift money the grant's time forfeits
 * (replay checks it). */
struct grant_op {
	quota_account *a;
	int64_t micros, expires_at, now;
	int64_t forfeit; /* by apply's expiry at now (prepare's sum) */
};

static int grant_prepare(void *v)
{
	struct grant_op *op = v;
	quota_account *a = op->a;
	int64_t x;

	if (op->micros <= 0)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': gift grant must be > 0, not "
				  "%lld",
				  a->id, (long long)op->micros);
	if (!quota__time_ok(op->now))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': gift grant time out of range",
				  a->id);
	if (op->expires_at != QUOTA_NEVER &&
	    (!quota__time_ok(op->expires_at) || op->expires_at <= op->now))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': a gift grant must expire "
				  "after it is made (or QUOTA_NEVER)",
				  a->id);
	if (quota__add_ovf(quota__gifts_of(a)->sum, op->micros, &x) ||
	    quota__add_ovf(quota__gifts_of(a)->granted, op->micros, &x))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "account '%s': gift money would overflow",
				  a->id);
	op->forfeit = quota__gifts_of(a)->sum - gift_at(a, op->now, NULL);
	/* (a gift state this allocates and a refusal leaves holds the
	 * defaults: it reads and encodes as none) */
	if (quota__gifts_need(a) ||
	    quota__grow(&a->ctx->mem, (void **)&a->x->gs->v, &a->x->gs->cap,
			a->x->gs->n + 1, sizeof *a->x->gs->v) ||
	    quota__events_reserve(a))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void grant_encode(quota__wbuf *w, const void *v)
{
	const struct grant_op *op = v;

	quota__put_sv(w, op->micros);
	quota__put_sv(w, op->expires_at);
	quota__put_sv(w, op->now);
	quota__put_sv(w, op->forfeit);
}

static void grant_apply(void *v)
{
	struct grant_op *op = v;
	quota_account *a = op->a;
	quota__gifts *gs = a->x->gs; /* prepare made it */
	size_t i;

	quota__gift_expire(a, op->now);
	/* After every grant that expires no later: ties keep grant order. */
	for (i = gs->n; i && gs->v[i - 1].expires_at > op->expires_at; i--)
		gs->v[i] = gs->v[i - 1];
	gs->v[i].micros = op->micros;
	gs->v[i].expires_at = op->expires_at;
	gs->n++;
	gs->sum += op->micros;
	gs->granted += op->micros;
	quota__money_resume(a);
}

static const quota__step grant_steps = {
	.ext = true,
	.rec = QUOTA__R_GIFT_GRANT,
	.prepare = grant_prepare,
	.encode = grant_encode,
	.apply = grant_apply,
	.flush = true,
};

int quota__gift_grant(quota_account *a, int64_t micros, int64_t expires_at,
		      int64_t now, const int64_t *forfeit)
{
	struct grant_op op = {a, micros, expires_at, now, 0};

	if (!a)
		return QUOTA_EINVAL;
	/* Replay: the recorded forfeit must be what the grant's time
	 * forfeits from this state. */
	if (forfeit && quota__time_ok(now) &&
	    quota__gifts_of(a)->sum - gift_at(a, now, NULL) != *forfeit)
		return QUOTA_ECORRUPT;
	return quota__write(a->ctx, a, &grant_steps, &op);
}

int quota_gift_grant(quota_account *a, int64_t micros, int64_t expires_at,
		     int64_t now)
{
	return quota__gift_grant(a, micros, expires_at, now, NULL);
}

/* ----------------------------------------------------- payment order */

struct order_op {
	quota_account *a;
	int32_t order;
	uint32_t flags;
};

static int order_prepare(void *v)
{
	const struct order_op *op = v;

	if (op->order != QUOTA_PAY_GIFT_FIRST &&
	    op->order != QUOTA_PAY_CASH_FIRST)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': unknown payment order %d",
				  op->a->id, (int)op->order);
	if (op->flags & ~QUOTA_PAY_CREDIT_PURCHASES)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': unknown payment flags 0x%x",
				  op->a->id, (unsigned)op->flags);
	if (quota__gifts_need(op->a))
		return quota__nomem(op->a);
	return QUOTA_OK;
}

static void order_encode(quota__wbuf *w, const void *v)
{
	const struct order_op *op = v;

	quota__put_sv(w, op->order);
	quota__put_sv(w, op->flags);
}

static void order_apply(void *v)
{
	struct order_op *op = v;

	op->a->x->gs->order = op->order; /* prepare made it */
	op->a->x->gs->flags = op->flags;
}

static const quota__step order_steps = {
	.ext = true,
	.rec = QUOTA__R_PAY_ORDER,
	.prepare = order_prepare,
	.encode = order_encode,
	.apply = order_apply,
};

int quota_account_set_pay_order(quota_account *a, int32_t order,
				uint32_t flags)
{
	struct order_op op = {a, order, flags};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &order_steps, &op);
}

void quota__gift_free(quota_account *a)
{
	if (!a->x->gs)
		return;
	quota__free(&a->ctx->mem, a->x->gs->v);
	quota__free(&a->ctx->mem, a->x->gs);
	a->x->gs = NULL;
}
