/*
 * renew.c - auto-renewal (R23): the only writer of an account's renewal
 * marks and of its list of packages bought from offers.
 *
 * Rules chosen where DESIGN.md is silent (documented in
 * quota_renewal_set(3) and libquota-rules(7)):
 *   - a renewal is its own record (QUOTA__R_RENEW: a purchase, with the
 *     package it renews; QUOTA__R_RENEW_FAILED: the refusal), written by
 *     the call that met the trigger right after that call's own record.
 *     The call's own change (a charge, a reservation, a tick) is whole
 *     and all or nothing as before (R8); the renewal is a second change,
 *     all or nothing too.  A charge record never carries a renewal, so
 *     replaying a charge is unchanged, and the renewal replays from its
 *     own record without pricing again;
 *   - the trigger time is the purchase's time: for a units-left trigger
 *     the usage time of the charge or reservation that left the package
 *     at or below the level (or the tick or mark that found it so); for
 *     an expiry trigger expires_at - N; never before the mark was set;
 *   - a package is renewed once: its entry turns DONE or FAILED in the
 *     renewal's own record, so replay and restart (the entry is in the
 *     snapshot) never renew it again.  A refused renewal (balance, R18
 *     suspension, R25 blocking) is recorded as FAILED with its code and
 *     raises QUOTA_EVENT_RENEWAL_FAILED; it is never retried;
 *   - if a renewal's write itself fails (memory, store), nothing of it
 *     changed and the package is still due: a charge or reservation
 *     keeps its own success (it is not repeated: that would bill twice),
 *     a tick or quota_renewal_set returns the failure (repeating them is
 *     harmless); the next of these calls writes the renewal, at the same
 *     trigger time (for a units-left trigger the time is kept in memory
 *     only: after a restart, the next call's time);
 *   - the quantity bought is the quantity the package was bought in
 *     (its units over the offer's, or its units for an offer priced by
 *     quantity), at list price, with no voucher;
 *   - the fast paths stay as they were: an account with a mark has
 *     QUOTA__GATE_RENEW, which sends its charges to the general path.
 */
#include "journal.h"
#include "snapshot.h"

#include <string.h>

/* --------------------------------------------- the bought packages */

const quota__renew_state quota__rn_none;

int quota__renew_need(quota_account *a)
{
	if (!a->x->rn &&
	    !(a->x->rn = quota__calloc(&a->ctx->mem, 1, sizeof *a->x->rn)))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

int quota__bought_reserve(quota_account *a)
{
	quota__renew_state *x;

	if (quota__renew_need(a))
		return QUOTA_ENOMEM;
	x = a->x->rn;
	return quota__grow(&a->ctx->mem, (void **)&x->bought, &x->cap_bought,
			   x->nbought + 1, sizeof *x->bought);
}

static quota__bought *entry_of(const quota_account *a, const quota_package *p)
{
	const quota__renew_state *x = quota__rn(a);

	for (size_t i = 0; i < x->nbought; i++)
		if (x->bought[i].pk == p)
			return &x->bought[i];
	return NULL;
}

void quota__bought_add(quota_account *a, quota_package *p,
		       const quota__buy *b)
{
	quota__renew_state *x = a->x->rn; /* made by prepare */
	quota__bought *e;
	quota_event *ev;

	if (b->renews && b->renews <= a->npackages &&
	    (e = entry_of(a, a->packages[b->renews - 1]))) {
		e->state = QUOTA__RN_DONE;
		e->at = b->at;
		e->renewal = p;
		if (a->ctx->hook &&
		    (ev = quota__event_queue(a, QUOTA_EVENT_RENEWED, QUOTA_ALL,
					     p, p->remaining, 0, 0)))
			ev->at = b->at;
	}
	if (x->nbought < x->cap_bought) /* reserved by prepare */
		x->bought[x->nbought++] =
			(quota__bought){p, b->o, 0, NULL, 0, QUOTA__RN_NONE};
}

/* After pruning (§7): the entries of packages that are gone go too.  The
 * pointers are compared, never read. */
void quota__renew_pruned(quota_account *a)
{
	quota__renew_state *x = a->x->rn;
	size_t i, k = 0;
	uint32_t j = 0;

	if (!x)
		return;
	for (i = 0; i < x->nbought; i++) {
		/* both lists are in the order bought */
		while (j < a->npackages && a->packages[j] != x->bought[i].pk)
			j++;
		if (j < a->npackages)
			x->bought[k++] = x->bought[i];
		else
			j = 0;
	}
	x->nbought = k;
	x->bought_done = 0;
	/* A renewal bought later than its package: gone if no entry is. */
	for (i = 0; i < x->nbought; i++) {
		quota__bought *e = &x->bought[i];

		if (e->renewal && !entry_of(a, e->renewal))
			e->renewal = NULL;
	}
}

void quota__renew_free(quota_account *a)
{
	quota__renew_state *x = a->x->rn;

	if (!x)
		return;
	quota__free(&a->ctx->mem, x->bought);
	quota__free(&a->ctx->mem, x->renewals);
	quota__free(&a->ctx->mem, x);
	a->x->rn = NULL;
}

/* ------------------------------------------------------ the marks */

static quota__renewal *mark_of(const quota_account *a, const quota_offer *o)
{
	const quota__renew_state *x = quota__rn(a);

	for (size_t i = 0; i < x->nrenewals; i++)
		if (x->renewals[i].offer == o)
			return &x->renewals[i];
	return NULL;
}

/* quota_renewal_set and quota_renewal_clear through the write path. */
struct mark_op {
	quota_account *a;
	const quota_offer *o;
	int64_t units, within, now;
	bool clear;
};

static int mark_prepare(void *v)
{
	struct mark_op *op = v;
	quota_account *a = op->a;
	quota_ctx *ctx = a->ctx;

	if (!op->o)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': NULL offer", a->id);
	if (op->o->ctx != ctx)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s' belongs to another context",
				  op->o->id);
	if (!quota__time_ok(op->now))
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': renewal time out of range",
				  a->id);
	if (op->clear)
		return mark_of(a, op->o)
			       ? QUOTA_OK
			       : quota__err(ctx, QUOTA_ENOTFOUND,
					    "account '%s': offer '%s' is not "
					    "marked for renewal",
					    a->id, op->o->id);
	if (op->units < QUOTA_RENEWAL_NONE || op->within < QUOTA_RENEWAL_NONE ||
	    op->within > QUOTA_TIME_MAX - QUOTA_TIME_MIN)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': a renewal trigger is out of "
				  "range (units %lld, seconds %lld)",
				  op->o->id, (long long)op->units,
				  (long long)op->within);
	if (op->units < 0 && op->within < 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': a renewal needs a trigger",
				  op->o->id);
	if (!mark_of(a, op->o) &&
	    (quota__renew_need(a) ||
	     quota__grow(&ctx->mem, (void **)&a->x->rn->renewals,
			 &a->x->rn->cap_renewals, a->x->rn->nrenewals + 1,
			 sizeof *a->x->rn->renewals)))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void mark_encode(quota__wbuf *w, const void *v)
{
	const struct mark_op *op = v;

	quota__put_str(w, op->o->id);
	if (!op->clear) {
		quota__put_sv(w, op->units);
		quota__put_sv(w, op->within);
	}
	quota__put_sv(w, op->now);
}

static void mark_apply(void *v)
{
	struct mark_op *op = v;
	quota_account *a = op->a;
	quota__renew_state *x = a->x->rn; /* a mark, or made by prepare */
	quota__renewal *m = mark_of(a, op->o);

	if (op->clear) {
		size_t i = (size_t)(m - x->renewals);

		memmove(m, m + 1, (x->nrenewals - i - 1) * sizeof *m);
		if (!--x->nrenewals)
			a->gate &= (uint8_t)~QUOTA__GATE_RENEW;
		return;
	}
	if (!m)
		m = &x->renewals[x->nrenewals++];
	*m = (quota__renewal){op->o, op->units, op->within, op->now};
	a->gate |= QUOTA__GATE_RENEW;
}

static const quota__step set_steps = {
	.ext = true,
	.rec = QUOTA__R_RENEWAL_SET,
	.prepare = mark_prepare,
	.encode = mark_encode,
	.apply = mark_apply,
};
static const quota__step clear_steps = {
	.ext = true,
	.rec = QUOTA__R_RENEWAL_CLEAR,
	.prepare = mark_prepare,
	.encode = mark_encode,
	.apply = mark_apply,
};

static int mark_write(quota_account *a, const quota_offer *o, int64_t units,
		      int64_t within, int64_t now, bool clear)
{
	struct mark_op op = {a, o, units, within, now, clear};
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if ((rc = quota__write(a->ctx, a, clear ? &clear_steps : &set_steps,
			       &op)))
		return rc;
	/* R23: what is already due at now renews now. */
	return clear ? QUOTA_OK : quota__renew_due(a, now, now);
}

int quota_renewal_set(quota_account *a, const quota_offer *offer,
		      int64_t units_left_at_most, int64_t expires_within_s,
		      int64_t now)
{
	return mark_write(a, offer, units_left_at_most, expires_within_s, now,
			  false);
}

int quota_renewal_clear(quota_account *a, const quota_offer *offer,
			int64_t now)
{
	return mark_write(a, offer, 0, 0, now, true);
}

int quota_renewal_get(const quota_account *a, const quota_offer *offer,
		      int64_t *units_left_at_most, int64_t *expires_within_s)
{
	const quota__renewal *m;

	if (units_left_at_most)
		*units_left_at_most = QUOTA_RENEWAL_NONE;
	if (expires_within_s)
		*expires_within_s = QUOTA_RENEWAL_NONE;
	if (!a || !offer || offer->ctx != a->ctx) /* as renewal_set's */
		return QUOTA_EINVAL;
	if (!(m = mark_of(a, offer)))
		return QUOTA_ENOTFOUND;
	if (units_left_at_most)
		*units_left_at_most = m->units_left;
	if (expires_within_s)
		*expires_within_s = m->within;
	return QUOTA_OK;
}

/* ------------------------------------------- a refused renewal */

struct failed_op {
	quota_account *a;
	quota__bought *e;
	const quota_offer *o;
	int64_t at;
	int64_t code; /* the purchase's QUOTA_E* */
};

static int failed_prepare(void *v)
{
	struct failed_op *op = v;

	return quota__events_reserve(op->a) ? quota__nomem(op->a) : QUOTA_OK;
}

static void failed_encode(quota__wbuf *w, const void *v)
{
	const struct failed_op *op = v;

	quota__put_uv(w, op->e->pk->seq);
	quota__put_str(w, op->o->id);
	quota__put_sv(w, op->at);
	quota__put_sv(w, op->code);
}

static void failed_apply(void *v)
{
	struct failed_op *op = v;
	quota_event *ev;
	quota_account *a = op->a;

	op->e->state = QUOTA__RN_FAILED;
	op->e->at = op->at;
	if (a->ctx->hook &&
	    (ev = quota__event_queue(a, QUOTA_EVENT_RENEWAL_FAILED, QUOTA_ALL,
				     op->e->pk, op->e->pk->remaining, 0, 0)))
		ev->at = op->at;
}

static const quota__step failed_steps = {
	.ext = true,
	.rec = QUOTA__R_RENEW_FAILED,
	.prepare = failed_prepare,
	.encode = failed_encode,
	.apply = failed_apply,
	.flush = true,
};

/* --------------------------------------------------- renewing */

static int64_t sat_sub(int64_t x, int64_t y)
{
	int64_t r;

	return __builtin_sub_overflow(x, y, &r) ? INT64_MIN : r;
}

/* Is p's trigger met by now (units-left: at usage time at)?  *when: the
 * earliest time one of its triggers was met. */
static bool due(const quota_package *p, const quota__renewal *m, int64_t now,
		int64_t at, int64_t *when)
{
	bool met = false;
	int64_t t;

	if (m->within >= 0 && p->expires_at != QUOTA_NEVER &&
	    p->expires_at > m->since &&
	    now >= (t = sat_sub(p->expires_at, m->within))) {
		*when = t > m->since ? t : m->since;
		met = true;
	}
	t = at > m->since ? at : m->since;
	if (m->units_left >= 0 && p->remaining <= m->units_left &&
	    p->expires_at > t && (!met || t < *when)) {
		*when = t;
		met = true;
	}
	return met;
}

/* A refusal the balance or the account's state decides: recorded, never
 * retried.  Anything else (memory, the store) left nothing changed. */
static bool refusal(int rc)
{
	return rc != QUOTA_ENOMEM && rc != QUOTA_ESTORE &&
	       rc != QUOTA_ECONFLICT && rc != QUOTA_EUNKNOWN &&
	       rc != QUOTA_EUNSYNCED;
}

/* The quantity a renewal of p buys: the quantity p was bought in. */
static int64_t renew_quantity(const quota_offer *o, const quota_package *p)
{
	int64_t q = o->spec.units > 0 ? p->units / o->spec.units : p->units;

	return q < 1 ? 1 : q;
}

static int renew_one(quota_account *a, size_t i, const quota__renewal *m,
		     int64_t when)
{
	quota__bought *e = &a->x->rn->bought[i];
	const quota_offer *o = m->offer;
	struct failed_op f;
	int rc;

	rc = quota__buy_offer(a, o, renew_quantity(o, e->pk), NULL, when, NULL,
			      (uint64_t)e->pk->seq + 1, NULL);
	if (!rc || !refusal(rc))
		return rc;
	f = (struct failed_op){a, &a->x->rn->bought[i], o, when, rc};
	rc = quota__write(a->ctx, a, &failed_steps, &f);
	return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
}

int quota__renew_due(quota_account *a, int64_t now, int64_t at)
{
	quota__renew_state *x = a->x->rn;
	size_t i, n;
	int rc;

	if (!(a->gate & QUOTA__GATE_RENEW) || a->ctx->replaying || !x)
		return QUOTA_OK;
	/* Only the packages there now: a renewal's own package waits for
	 * the next call, so a trigger a new package meets at once cannot
	 * loop. */
	n = x->nbought;
	/* Packages renewed or refused stay so: skip the run of them (O(1)
	 * per charge when renewals come in the order bought). */
	while (x->bought_done < n &&
	       x->bought[x->bought_done].state != QUOTA__RN_NONE)
		x->bought_done++;
	for (i = x->bought_done; i < n; i++) {
		/* a renewal may move the array: read it again each time */
		const quota__bought *e = &a->x->rn->bought[i];
		const quota__renewal *m;
		int64_t when = 0; /* set by due() where it returns true */

		if (e->state != QUOTA__RN_NONE || !(m = mark_of(a, e->offer)) ||
		    !due(e->pk, m, now,
			 e->met_at && e->met_at < at ? e->met_at : at, &when))
			continue;
		if ((rc = renew_one(a, i, m, when))) {
			/* not written: still due, at the same time */
			a->x->rn->bought[i].met_at = when;
			return rc;
		}
	}
	return QUOTA_OK;
}

/* ---------------------------------------------------- snapshot */

/* Minor 5: the marks (offer id, units level, seconds, since) in the order
 * set, then the packages bought from offers (index among the account's
 * packages, offer id, state, due time) in the order bought. */
void quota__renew_encode(quota__wbuf *w, const quota_account *a)
{
	const quota__renew_state *x = quota__rn(a);
	size_t i;

	quota__put_uv(w, x->nrenewals);
	for (i = 0; i < x->nrenewals; i++) {
		quota__put_str(w, x->renewals[i].offer->id);
		quota__put_sv(w, x->renewals[i].units_left);
		quota__put_sv(w, x->renewals[i].within);
		quota__put_sv(w, x->renewals[i].since);
	}
	quota__put_uv(w, x->nbought);
	for (i = 0; i < x->nbought; i++) {
		quota__put_uv(w, x->bought[i].pk->seq);
		quota__put_str(w, x->bought[i].offer->id);
		quota__put_uv(w, x->bought[i].state);
		quota__put_sv(w, x->bought[i].at);
		quota__put_uv(w, x->bought[i].renewal
					 ? (uint64_t)x->bought[i].renewal->seq + 1
					 : 0);
	}
}

/* ------------------------------------------------------- replay */

/* May the package at index i be renewed by offer o (a RENEW record)? */
bool quota__renew_valid(const quota_account *a, uint64_t i,
			const quota_offer *o)
{
	const quota__bought *e;

	return o && i < a->npackages && (e = entry_of(a, a->packages[i])) &&
	       e->offer == o && e->state == QUOTA__RN_NONE;
}

/* Check mode: is a refusal with this code what the purchase meets now? */
static bool refusal_holds(quota_account *a, const quota_offer *o,
			  const quota_package *p, int64_t at, int64_t code)
{
	quota_purchase pu;
	quota__split split;
	int rc;

	if (code == QUOTA_EBLOCKED)
		return a->gate & QUOTA__GATE_BLOCKED;
	if (code == QUOTA_ESUSPENDED)
		return a->suspended;
	rc = quota_package_quote(a, o, renew_quantity(o, p), NULL, at, &pu);
	if (code != QUOTA_EFUNDS) /* the quote's own refusal, or one only
				     a purchase meets (not tried here) */
		return rc == code || rc == QUOTA_OK;
	/* R24: what a purchase would pay with: gift money at the time, cash,
	 * credit if the account allows it, in its order. */
	return !rc && quota__money_buy_split(a, pu.price_micros, at, &split) ==
			      QUOTA_EFUNDS;
}

/* The records of marks and refusals (replay.c): QUOTA_ECORRUPT for bad
 * fields or, in check mode, a refusal the purchase would not meet; else
 * the call's own answer. */
int quota__renew_replay(quota_account *a, unsigned rec, quota__rbuf *r,
			bool check)
{
	char oid[QUOTA_ID_MAX + 1];
	quota_offer *o = NULL;
	uint64_t pk = 0;
	int64_t u = 0, w = 0, at, code = 0;
	quota__bought *e;

	if (rec == QUOTA__R_RENEW_FAILED)
		pk = quota__get_uv(r);
	quota__get_str(r, oid, QUOTA_ID_MAX);
	if (rec == QUOTA__R_RENEWAL_SET) {
		u = quota__get_sv(r);
		w = quota__get_sv(r);
	}
	at = quota__get_sv(r);
	if (rec == QUOTA__R_RENEW_FAILED)
		code = quota__get_sv(r);
	if (r->bad || r->off != r->n || !oid[0])
		return QUOTA_ECORRUPT;
	if (quota_offer_find(a->ctx, oid, &o))
		return QUOTA_ENOTFOUND;
	switch (rec) {
	case QUOTA__R_RENEWAL_SET:
		return mark_write(a, o, u, w, at, false);
	case QUOTA__R_RENEWAL_CLEAR:
		return mark_write(a, o, 0, 0, at, true);
	default:
		if (!quota__renew_valid(a, pk, o) || code >= 0 ||
		    code < INT32_MIN || !quota__time_ok(at) ||
		    !(e = entry_of(a, a->packages[pk])) ||
		    (check && !refusal_holds(a, o, e->pk, at, code)))
			return QUOTA_ECORRUPT;
		struct failed_op f = {a, e, o, at, code};
		int rc = quota__write(a->ctx, a, &failed_steps, &f);

		return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
	}
}
