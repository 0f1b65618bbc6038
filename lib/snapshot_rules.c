/*
 * snapshot_rules.c - the snapshot sections later minors added
 * (quota_account_snapshot(3)): pruning (minor 1, §7), blocking and kept
 * receipts (2: R25, R27), the time zone (3: R26), gift money (4: R24) and
 * auto-renewal (5: R23).  The decoder around them, and its rule that
 * nothing is trusted, are in snapshot_load.c.
 */
#include "snapshot_dec.h"

#include <string.h>

/* Minor 1 (§7): the horizon (INT64_MIN or a valid time) and the
 * retention setting, as quota_account_set_retention leaves them. */
bool quota__snap_get_pruning(dec *d)
{
	quota_account *a = d->a;
	uint64_t what;

	a->pruned_before = quota__get_sv(&d->r);
	a->x->retain_s = quota__get_sv(&d->r);
	what = quota__get_uv(&d->r);
	if (d->r.bad ||
	    (a->pruned_before != INT64_MIN &&
	     !quota__time_ok(a->pruned_before)) ||
	    a->x->retain_s < 0 || a->x->retain_s > QUOTA_TIME_MAX - QUOTA_TIME_MIN ||
	    what > (QUOTA_PRUNE_ALL | QUOTA_PRUNE_PACKAGES) ||
	    (!a->x->retain_s) != (!what))
		return bad(d);
	a->x->retain_what = (uint32_t)what;
	return true;
}

/* Minor 2 (R25, R27): the gate bits, the blocking reason and time, as
 * quota_account_block and quota_account_keep_receipts leave them; a
 * snapshot of minor < 2 is of an account neither blocked nor keeping
 * receipts. */
bool quota__snap_get_block(dec *d)
{
	quota_account *a = d->a;
	char why[QUOTA_REASON_MAX + 1];
	uint64_t gate = quota__get_uv(&d->r);
	size_t n = quota__get_str(&d->r, why, QUOTA_REASON_MAX), off;
	int64_t at = quota__get_sv(&d->r);
	bool blocked = gate & QUOTA__GATE_BLOCKED;

	if (d->r.bad ||
	    gate > (QUOTA__GATE_BLOCKED | QUOTA__GATE_RECEIPTS) ||
	    (blocked ? !quota__time_ok(at) : (n || at)) ||
	    (n && !quota__utf8_valid(why, n, &off)))
		return bad(d);
	if (n && !(a->x->block_reason = quota__strdup(&d->ctx->mem, why))) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	a->gate = (uint8_t)gate;
	a->x->blocked_at = at;
	return true;
}

/* ------------------------------------------------ R26 time zones */

/* Minor 3 (after minor 2's section; a minor-2 snapshot is of an
 * account on a fixed offset): the account's zone, by name and the hash
 * of its bytes, which the context must have (its configuration records
 * create it).  The holds, decoded before, take their days from it. */
bool quota__snap_get_zone(dec *d)
{
	char name[QUOTA_ID_MAX + 1];
	uint64_t hash;
	quota_zone *z;
	size_t n = quota__get_str(&d->r, name, QUOTA_ID_MAX);

	hash = quota__get_u64(&d->r);
	if (d->r.bad || (!n && hash) || (n && d->a->utc_offset))
		return bad(d);
	if (!n)
		return true;
	if (failed(d, quota__zone_named(d->ctx, name, hash, &z)))
		return false;
	quota__zone_attach(d->a, z); /* usage decoded already: no setter */
	quota__holds_recalendar(d->a);
	return true;
}

/* ---- Minor 4 (R24): the payment order and flags, the gift sums and
 * the grants with money left, soonest expiry first; a snapshot of minor
 * < 4 is of an account with no gift money that pays gift first. */
bool quota__snap_get_gift(dec *d)
{
	quota_account *a = d->a;
	uint64_t order = quota__get_uv(&d->r), flags = quota__get_uv(&d->r);
	int64_t granted = quota__get_sv(&d->r), spent = quota__get_sv(&d->r),
		expired = quota__get_sv(&d->r), sum = 0, left, prev = INT64_MIN;
	uint64_t n = quota__get_uv(&d->r), i;
	quota__gifts *gs;

	if (d->r.bad || order > QUOTA_PAY_CASH_FIRST ||
	    flags & ~(uint64_t)QUOTA_PAY_CREDIT_PURCHASES || granted < 0 ||
	    spent < 0 || expired < 0 || n > d->r.n - d->r.off)
		return bad(d);
	if (!order && !flags && !granted && !spent && !expired && !n)
		return true; /* no gift state: the defaults */
	if (quota__gifts_need(a) ||
	    (n && quota__grow(&d->ctx->mem, (void **)&a->x->gs->v,
			      &a->x->gs->cap, (size_t)n, sizeof *gs->v))) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	gs = a->x->gs;
	for (i = 0; i < n; i++) {
		quota__gift *g = &gs->v[i];

		g->micros = quota__get_sv(&d->r);
		g->expires_at = quota__get_sv(&d->r);
		if (d->r.bad || g->micros <= 0 || g->expires_at < prev ||
		    (g->expires_at != QUOTA_NEVER &&
		     !quota__time_ok(g->expires_at)) ||
		    quota__add_ovf(sum, g->micros, &sum))
			return bad(d);
		prev = g->expires_at;
		gs->n++;
	}
	/* money is conserved: granted = left + spent + expired */
	if (quota__add_ovf(spent, expired, &left) ||
	    quota__add_ovf(left, sum, &left) || left != granted)
		return bad(d);
	gs->order = (int32_t)order;
	gs->flags = (uint32_t)flags;
	gs->sum = sum;
	gs->granted = granted;
	gs->spent = spent;
	gs->expired = expired;
	return true;
}

/* Minor 5 (R23): the renewal marks and the packages bought from offers,
 * as renew.c writes them (quota__renew_encode); a snapshot of minor < 5
 * is of an account with neither. */
bool quota__snap_get_renew(dec *d)
{
	quota_account *a = d->a;
	quota__renew_state *x;
	char oid[QUOTA_ID_MAX + 1];
	uint64_t n = quota__get_uv(&d->r), i, pk, st, rn, last = 0;
	const quota_offer *o;

	if (!fits(d, n, 4))
		return false;
	if (n && (quota__ext_need(a) || quota__renew_need(a) ||
		  quota__grow(&d->ctx->mem, (void **)&a->x->rn->renewals,
			      &a->x->rn->cap_renewals, (size_t)n,
			      sizeof *a->x->rn->renewals)))
		goto nomem;
	x = a->x->rn;
	for (i = 0; i < n; i++) {
		quota__renewal *m = &x->renewals[i];

		quota__get_str(&d->r, oid, QUOTA_ID_MAX);
		o = quota__strmap_get(&d->ctx->offer_ids, &d->ctx->hkey, oid);
		m->offer = o;
		m->units_left = quota__get_sv(&d->r);
		m->within = quota__get_sv(&d->r);
		m->since = quota__get_sv(&d->r);
		if (d->r.bad || !o || m->units_left < QUOTA_RENEWAL_NONE ||
		    m->within < QUOTA_RENEWAL_NONE ||
		    (m->units_left < 0 && m->within < 0) ||
		    !quota__time_ok(m->since))
			return bad(d);
		for (uint64_t j = 0; j < i; j++)
			if (x->renewals[j].offer == o)
				return bad(d);
		x->nrenewals++;
	}
	if (n)
		a->gate |= QUOTA__GATE_RENEW;
	n = quota__get_uv(&d->r);
	if (!fits(d, n, 4))
		return false;
	if (n && (quota__ext_need(a) || quota__renew_need(a) ||
		  quota__grow(&d->ctx->mem, (void **)&a->x->rn->bought,
			      &a->x->rn->cap_bought, (size_t)n,
			      sizeof *a->x->rn->bought)))
		goto nomem;
	x = a->x->rn;
	for (i = 0; i < n; i++) {
		quota__bought *e = &x->bought[i];

		pk = quota__get_uv(&d->r);
		quota__get_str(&d->r, oid, QUOTA_ID_MAX);
		o = quota__strmap_get(&d->ctx->offer_ids, &d->ctx->hkey, oid);
		st = quota__get_uv(&d->r);
		e->at = quota__get_sv(&d->r);
		rn = quota__get_uv(&d->r);
		if (d->r.bad || !o || pk >= a->npackages ||
		    (i && pk <= last) || st > QUOTA__RN_FAILED ||
		    (st ? !quota__time_ok(e->at) : e->at != 0) ||
		    rn > a->npackages || (rn && (rn <= pk + 1 ||
						 st != QUOTA__RN_DONE)))
			return bad(d);
		e->renewal = rn ? a->packages[rn - 1] : NULL;
		last = pk;
		e->pk = a->packages[pk];
		e->offer = o;
		e->state = (uint8_t)st;
		/* the hint is not in the snapshot: none (the next due check
		 * takes its call's time); set, as the array is not zeroed */
		e->met_at = 0;
		x->nbought++;
	}
	return true;
nomem:
	d->rc = QUOTA_ENOMEM;
	return bad(d);
}
