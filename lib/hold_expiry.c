/*
 * hold_expiry.c - the tick (R10): holds not resolved by their deadline
 * give their units back, without a fee, and the clock moves on (expiry
 * warnings and expiries of packages, event.c).  This file owns the tick's
 * plan (which holds are due), its record and its replay check; the hold
 * map and the give-back stay hold.c's (quota__hold_find,
 * quota__hold_expire).
 */
#include "journal.h"

/* The holds a tick at now releases: those past their deadline.  w: their
 * ids, in the order of the map walk, for the record. */
static uint32_t holds_due(const quota_account *a, int64_t now,
			  quota__wbuf *w)
{
	uint32_t i, n = 0;

	for (i = 0; i < a->x->hold_tab_cap; i++) {
		const quota__hold *h = a->x->hold_tab[i];

		if (h && h->deadline <= now) {
			n++;
			if (w)
				quota__put_uv(w, h->id);
		}
	}
	return n;
}

/* Replay's check of a tick record: the holds it names are exactly the
 * holds due at now (ids read from r). */
int quota__tick_check(const quota_account *a, int64_t now, uint32_t n,
		      quota__rbuf *r)
{
	uint32_t i;

	if (holds_due(a, now, NULL) != n)
		return QUOTA_ECORRUPT;
	for (i = 0; i < n; i++) {
		const quota__hold *h = quota__hold_find(a, quota__get_uv(r));

		if (r->bad || !h || h->deadline > now)
			return QUOTA_ECORRUPT;
	}
	return QUOTA_OK;
}

/*
 * A hold that timed out gave its units back at its deadline, which the
 * tick only gets to after moving the clock.  So that the clock step's
 * events report what each package held when they happened (R21), note on
 * each package the units timed-out holds give back to it before its
 * expiry warning and before its expiry; quota__clock adds them to those
 * events.  A deadline at or after the expiry gives them back to an
 * expired package: they do not count.
 */
static void mark_back(quota_account *a, int64_t now)
{
	int64_t (*back)[2] = a->ctx->back;
	uint32_t i, j;

	memset(back, 0, a->npackages * sizeof *back);
	a->ctx->nback = a->npackages;

	for (i = 0; i < a->x->hold_tab_cap; i++) {
		const quota__hold *h = a->x->hold_tab[i];

		if (!h || h->deadline > now)
			continue;
		for (j = 0; j < h->box.src.ndraws; j++) {
			quota_package *pk = h->box.src.draws[j].pk;
			int64_t n = h->box.src.draws[j].units;

			if (h->deadline < pk->expires_at)
				back[pk->seq][1] += n;
			if (a->x->warn_before > 0 &&
			    h->deadline < pk->expires_at - a->x->warn_before)
				back[pk->seq][0] += n;
		}
	}
}

/*
 * A tick through the write path (§5).  Its plan: the holds due at now
 * (deadline <= now), named by the record, released by apply, and the
 * gift money expired by now, forfeited by apply (R24, gift.c); prepare
 * walks the holds only to tell that a tick at the account's clock changes
 * nothing, the record's encoder counts them (with a store only).
 * Prepare allocates nothing but event room (with a hook, a HOLD_EXPIRED
 * event and its receipt per hold due, §7), the one thing a tick can run
 * out of (quota_ctx_tick counts on that).
 */
struct tick_op {
	quota_account *a;
	int64_t now;
	uint32_t released; /* by apply */
};

/* Room for the events of a tick at now: the clock step's and, with a
 * hook, a HOLD_EXPIRED event and its receipt per hold due (§7). */
static int tick_room(quota_account *a, int64_t now)
{
	size_t due = a->ctx->hook ? holds_due(a, now, NULL) : 0;

	if (quota__events_room(a, due) || quota__events_receipts(a, due))
		return QUOTA_ENOMEM;
	if (a->ctx->hook && a->npackages &&
	    quota__grow(&a->ctx->mem, (void **)&a->ctx->back,
			&a->ctx->cap_back, a->npackages, sizeof *a->ctx->back))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

static int tick_prepare(void *v)
{
	struct tick_op *op = v;
	quota_account *a = op->a;

	if (!quota__time_ok(op->now))
		return quota__err(a->ctx, QUOTA_EINVAL, "time out of range");
	if (tick_room(a, op->now))
		return quota__nomem(a);
	if (op->now <= a->clock && !holds_due(a, op->now, NULL) &&
	    quota_gift_balance(a, op->now) == quota__gifts_of(a)->sum) /* R24 */
		return QUOTA__NOTHING;
	return QUOTA_OK;
}

/* The record: the time and the ids of the holds it releases. */
static void tick_encode(quota__wbuf *w, const void *v)
{
	const struct tick_op *op = v;

	quota__put_sv(w, op->now);
	quota__put_uv(w, holds_due(op->a, op->now, NULL));
	holds_due(op->a, op->now, w);
}

static void tick_apply(void *v)
{
	struct tick_op *op = v;
	quota_account *a = op->a;
	int64_t now = op->now;
	bool track = quota__track(a);
	uint32_t i;

	if (track) {
		if (a->ctx->cap_back >= a->npackages && a->npackages)
			mark_back(a, now); /* the room: tick_room */
		quota__clock(a, now);
		a->ctx->nback = 0;
	} else if (now > a->clock) {
		a->clock = now;
	}
	/* R24: gift money expired by now is forfeited. */
	quota__gift_expire(a, now);
	/*
	 * The due holds go back, in map order.  Removing one shifts later
	 * holds of its run back into its slot, so the slot is looked at
	 * again; only a run that wraps round the end brings back holds
	 * already kept, which stay kept.  So one walk finds all of them.
	 */
	for (i = 0; i < a->x->hold_tab_cap; i++) {
		quota__hold *h;

		while ((h = a->x->hold_tab[i]) && h->deadline <= now) {
			quota__hold_expire(a, i, track);
			op->released++;
		}
	}
}

static const quota__step tick_steps = {
	.ext = true,
	.rec = QUOTA__R_TICK,
	.prepare = tick_prepare,
	.encode = tick_encode,
	.apply = tick_apply,
	.flush = true,
};

int64_t quota_account_tick(quota_account *a, int64_t now)
{
	struct tick_op op = {a, now, 0};
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	rc = quota__write(a->ctx, a, &tick_steps, &op);
	if (rc == QUOTA__NOTHING)
		rc = QUOTA_OK, op.released = 0;
	if (rc)
		return rc;
	/* R23: renewals due by now (a tick is safe to repeat, so a failed
	 * renewal write is its answer). */
	if ((a->gate & QUOTA__GATE_RENEW) &&
	    (rc = quota__renew_due(a, now, now)))
		return rc;
	return op.released;
}

int64_t quota_ctx_tick(quota_ctx *ctx, int64_t now)
{
	int64_t total = 0, n;
	size_t i;

	if (!ctx)
		return QUOTA_EINVAL;
	if (!quota__time_ok(now))
		return quota__err(ctx, QUOTA_EINVAL, "time out of range");
	/* All or nothing: the only thing a tick can run out of is event room
	 * (and the receipts of HOLD_EXPIRED events, §7), so get it for every
	 * account before any of them moves. */
	for (i = 0; i < ctx->naccounts; i++)
		if (tick_room(ctx->accounts[i], now))
			return quota__err(ctx, QUOTA_ENOMEM,
					  "quota_ctx_tick: out of memory");
	for (i = 0; i < ctx->naccounts; i++) {
		n = quota_account_tick(ctx->accounts[i], now);
		/* Without a store this cannot fail (room was reserved
		 * above); with one, each account's tick is its own record
		 * and the first the store refuses stops the walk. */
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}
