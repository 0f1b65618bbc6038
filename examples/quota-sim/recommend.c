/*
 * recommend.c - the cheapest schedule of purchases from a plan's catalog
 * for a trace, exact over its decision space (quota-sim(1), RECOMMEND):
 *
 *   - each account on its own; purchases at the start of each local
 *     calendar month of its traffic ("slots"); at a slot, any quantity of
 *     each offer covering its traffic, up to what the demand within the
 *     offer's validity could use (more units could never be drawn);
 *   - a schedule costs what the engine bills for it: purchases plus the
 *     settled bills, with an unlimited balance;
 *   - dynamic programming over the slots: a state is the account at a
 *     slot's start (a snapshot); its future depends only on the units
 *     left per package class (categories, validity, priority, flags), so
 *     of two states the one with no more units in any class and no lower
 *     cost is dropped (dominance), and a state whose cost plus a lower
 *     bound of the rest reaches the best complete schedule is dropped
 *     (branch and bound).
 *
 * The trace is read once: a pay-as-you-go-only run (the plan's own
 * purchases left out) gives the charges that stood, merged per account,
 * category and local hour; each evaluation replays those.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

typedef struct rev {
	int64_t at;
	int cat;
	bool failed;
	int64_t units;
} rev;

typedef struct racct {
	const qs_acct *base; /* in the pay-as-you-go run */
	rev *evs;
	size_t nev, cev;
	int64_t last[QUOTA_MAX_CATEGORIES][2]; /* index + 1 of the open event */
} racct;

typedef struct rctx {
	racct *ra;
	size_t nra, cra;
} rctx;

static racct *racct_of(rctx *r, const qs_acct *a)
{
	size_t i;

	for (i = r->nra; i-- > 0;)
		if (r->ra[i].base == a)
			return &r->ra[i];
	r->ra = qs_grow(r->ra, &r->cra, r->nra + 1, sizeof *r->ra);
	r->ra[r->nra].base = a;
	return &r->ra[r->nra++];
}

/* Charges that stood, merged per category and local hour. */
static void on_use(void *ud, const qs_acct *a, int cat, int64_t at,
		   int64_t units, bool failed)
{
	racct *x = racct_of(ud, a);
	int64_t off = a->def->utc_offset, k = x->last[cat][failed];

	if (k && (x->evs[k - 1].at + off) / 3600 == (at + off) / 3600 &&
	    at >= x->evs[k - 1].at) {
		x->evs[k - 1].units += units;
		return;
	}
	x->evs = qs_grow(x->evs, &x->cev, x->nev + 1, sizeof *x->evs);
	x->evs[x->nev] = (rev){at, cat, failed, units};
	x->last[cat][failed] = (int64_t)++x->nev;
}

static int ev_cmp(const void *p, const void *q)
{
	const rev *a = p, *b = q;

	return a->at < b->at ? -1 : a->at > b->at;
}

/* ------------------------------------------------------------ search */

typedef struct cls {
	uint64_t cats;
	int64_t eff, exp;
	int32_t prio;
	uint32_t flags;
	int64_t left;
} cls;

typedef struct state {
	void *snap;
	size_t len;
	int64_t cost;
	cls *cl;
	size_t ncl;
	int64_t *q;     /* quantities chosen: slot * noffers + offer */
	bool dead;
} state;

typedef struct search {
	const qs_plan *plan;
	qs_sim *sim;
	qs_acct *acct;
	racct *ra;
	int32_t m0, nslots;
	size_t *first;     /* first event of each slot; [nslots] = nev */
	int *offers;       /* applicable offers */
	size_t noff;
	int64_t *qmax;     /* per slot, per applicable offer */
	double cmin;       /* micros per unit, lower bound */
	int64_t *rem;      /* units from slot s on */
	int64_t *slack;    /* rounding slack from slot s on */
	int64_t evals, max_evals;
	bool exhaustive;
	bool no_bound;     /* refusals may cost less than any unit price */
	bool no_dominance; /* stop-when-exhausted packages: see below */
	int64_t best;
	const qs_rec_opts *o;
} search;

static int cls_cmp(const void *p, const void *q)
{
	const cls *a = p, *b = q;

	if (a->cats != b->cats)
		return a->cats < b->cats ? -1 : 1;
	if (a->eff != b->eff)
		return a->eff < b->eff ? -1 : 1;
	if (a->exp != b->exp)
		return a->exp < b->exp ? -1 : 1;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->flags < b->flags ? -1 : a->flags > b->flags;
}

/* Units left at t per class of the packages that can still be drawn. */
static void classes(quota_account *a, int64_t t, cls **out, size_t *n)
{
	uint32_t np = quota_account_package_count(a), i;
	cls *c = qs_alloc((np + 1) * sizeof *c);
	size_t k = 0, j;

	for (i = 0; i < np; i++) {
		const quota_package *p = quota_account_package_at(a, i);
		quota_package_spec sp;
		int64_t left = quota_package_remaining(p);

		quota_package_get_spec(p, &sp);
		if (left <= 0 || sp.expires_at <= t)
			continue;
		c[k] = (cls){sp.categories, sp.effective_at > t ? sp.effective_at
								 : 0,
			     sp.expires_at, sp.priority, sp.flags, left};
		k++;
	}
	qsort(c, k, sizeof *c, cls_cmp);
	for (i = 0, j = 0; i < k; i++) {
		if (j && cls_cmp(&c[j - 1], &c[i]) == 0)
			c[j - 1].left += c[i].left;
		else
			c[j++] = c[i];
	}
	*out = c;
	*n = j;
}

/* a has no fewer units than b in every class of b, at no greater cost. */
static bool dominates(const state *a, const state *b)
{
	size_t i = 0, j;

	if (a->cost > b->cost)
		return false;
	for (j = 0; j < b->ncl; j++) {
		while (i < a->ncl && cls_cmp(&a->cl[i], &b->cl[j]) < 0)
			i++;
		if (i == a->ncl || cls_cmp(&a->cl[i], &b->cl[j]) ||
		    a->cl[i].left < b->cl[j].left)
			return false;
	}
	return true;
}

/* The quantity bought for choice index i (0: none) of applicable offer k:
 * i packages of a fixed offer, or the i-th allowed quantity of an offer
 * priced by quantity. */
static int64_t qty(const search *S, size_t k, int64_t i)
{
	const qs_offer_def *o = &S->plan->offers[S->offers[k]];

	if (i == 0 || o->tariff < 0)
		return i;
	if (o->min_units == 0)
		return i * (o->step_units ? o->step_units : 1);
	return o->min_units + (i - 1) * (o->step_units ? o->step_units : 1);
}

static int64_t spent(quota_account *a)
{
	quota_money m;

	quota_account_money(a, &m);
	return m.purchased_micros + m.billed_micros;
}

static int replay_slot(search *S, int32_t s)
{
	quota_account *a = S->acct->a;
	size_t i;
	int rc;

	for (i = S->first[s]; i < S->first[s + 1]; i++) {
		const rev *e = &S->ra->evs[i];
		quota_usage u = {.category = S->sim->catid[e->cat],
				 .units = e->units, .at = e->at};
		quota_receipt r;
		uint64_t hold;

		if (e->at >= S->acct->settled_to) {
			int64_t p = S->acct->def->settle_period ==
						    QUOTA_PERIOD_HOUR
					    ? 3600 : 86400;
			int64_t l = e->at + S->acct->def->utc_offset;

			if (quota_settle(a, e->at, NULL, NULL) < 0)
				return -1;
			l -= ((l % p) + p) % p;
			S->acct->settled_to = l + p - S->acct->def->utc_offset;
		}
		if (e->failed) {
			if ((rc = quota_reserve(a, &u, 3600, &r, &hold)) == 0)
				rc = quota_release(a, hold, NULL, &r);
		} else
			rc = quota_charge(a, &u, &r);
		(void)rc; /* refusals are the trace's; documented */
	}
	S->acct->settled_to = INT64_MIN;
	return quota_settle(a, qs_month_start(S->m0 + s + 1,
					      S->acct->def->utc_offset),
			    NULL, NULL) < 0 ? -1 : 0;
}

/* Lower bound of what slots s.. cost beyond `cost`, with `left` units
 * already paid for. */
static int64_t bound(const search *S, int32_t s, int64_t left)
{
	int64_t need = S->rem[s] - left;
	double lb = need > 0 ? (double)need * S->cmin : 0;

	return (int64_t)lb - 1 - S->slack[s];
}

static void state_free(state *x)
{
	free(x->snap);
	free(x->cl);
	free(x->q);
	x->snap = NULL;
	x->cl = NULL;
	x->q = NULL;
}

/* Expand every state of slot s by every choice of quantities. */
static int expand(search *S, int32_t s, state *in, size_t nin, state **out,
		  size_t *nout, qs_err *err)
{
	size_t cap = 0, n = 0, i, k;
	state *o = NULL;
	int64_t *q = qs_alloc((S->noff + 1) * sizeof *q);
	quota_account *a = S->acct->a;
	int64_t start = qs_month_start(S->m0 + s, S->acct->def->utc_offset);
	int64_t end = qs_month_start(S->m0 + s + 1, S->acct->def->utc_offset);
	int rc;

	{
		/* all or nothing: refuse at once what the budget cannot do */
		double need = (double)nin;

		for (k = 0; k < S->noff; k++)
			need *= (double)(S->qmax[(size_t)s * S->noff + k] + 1);
		if (need + (double)S->evals > (double)S->max_evals) {
			qs_errf(err, 0, 0,
				"recommend: account '%s': the search needs "
				"more than %lld evaluations (%.0f at month %d "
				"of %d, from %zu states); narrow the catalog "
				"or the trace, or raise --max-evals",
				S->acct->id, (long long)S->max_evals, need,
				s + 1, S->nslots, nin);
			free(q);
			return QS_EXIT_FAIL;
		}
	}
	for (i = 0; i < nin; i++) {
		memset(q, 0, (S->noff + 1) * sizeof *q);
		for (;;) {
			state x = {0};
			int64_t left = 0;
			size_t j;

			if (++S->evals > S->max_evals) {
				qs_errf(err, 0, 0,
					"recommend: account '%s': the search "
					"needs more than %lld evaluations "
					"(month %d of %d, %zu states); narrow "
					"the catalog or the trace, or raise "
					"--max-evals", S->acct->id,
					(long long)S->max_evals, s + 1,
					S->nslots, nin);
				free(q);
				for (j = 0; j < n; j++)
					state_free(&o[j]);
				free(o);
				return QS_EXIT_FAIL;
			}
			if (S->o->progress && S->evals % 64 == 0)
				S->o->progress(S->o->progress_ud,
					       (uint64_t)(s * 1000 + 1000 * i / nin),
					       (uint64_t)S->nslots * 1000,
					       S->evals);
			if ((rc = quota_account_reset(a, in[i].snap,
						      in[i].len)))
				goto lib;
			for (k = 0; k < S->noff; k++)
				if (q[k] &&
				    (rc = quota_package_buy(
					     a, S->sim->offers[S->offers[k]],
					     qty(S, k, q[k]), NULL, start, NULL,
					     NULL)))
					goto lib;
			if (replay_slot(S, s)) {
				rc = QUOTA_EINVAL;
				goto lib;
			}
			x.cost = spent(a);
			classes(a, end, &x.cl, &x.ncl);
			for (j = 0; j < x.ncl; j++)
				left += x.cl[j].left;
			if (!S->exhaustive && !S->no_bound &&
			    S->best != INT64_MAX &&
			    x.cost + bound(S, s + 1, left) >= S->best) {
				free(x.cl);
				goto next;
			}
			if (s + 1 == S->nslots && x.cost < S->best)
				S->best = x.cost;
			/* dominance over the first states only: checking
			 * fewer prunes less, never wrongly */
			if (!S->exhaustive && !S->no_dominance && n <= 1024) {
				for (j = 0; j < n; j++)
					if (!o[j].dead && dominates(&o[j], &x))
						break;
				if (j < n) {
					free(x.cl);
					goto next;
				}
				for (j = 0; j < n; j++)
					if (!o[j].dead && dominates(&x, &o[j])) {
						o[j].dead = true;
						state_free(&o[j]);
					}
			}
			if ((rc = quota_account_snapshot(a, &x.snap, &x.len)))
				goto lib;
			{
				void *copy = qs_alloc(x.len);

				memcpy(copy, x.snap, x.len);
				quota_free(S->sim->ctx, x.snap);
				x.snap = copy;
			}
			x.q = qs_alloc((size_t)(s + 1) * S->noff * sizeof *x.q +
				       1);
			if (s)
				memcpy(x.q, in[i].q,
				       (size_t)s * S->noff * sizeof *x.q);
			memcpy(x.q + (size_t)s * S->noff, q,
			       S->noff * sizeof *q);
			o = qs_grow(o, &cap, n + 1, sizeof *o);
			o[n++] = x;
		next:
			/* the next choice of quantities, odometer order */
			for (k = 0; k < S->noff; k++) {
				if (q[k] < S->qmax[(size_t)s * S->noff + k]) {
					q[k]++;
					break;
				}
				q[k] = 0;
			}
			if (k == S->noff)
				break;
		}
	}
	free(q);
	for (i = k = 0; i < n; i++)
		if (!o[i].dead)
			o[k++] = o[i];
	*out = o;
	*nout = k;
	return 0;
lib:
	qs_errf(err, 0, 0, "recommend: account '%s': %s", S->acct->id,
		qs_sim_errmsg(S->sim, rc));
	free(q);
	for (i = 0; i < n; i++)
		state_free(&o[i]);
	free(o);
	return QS_EXIT_FAIL;
}

/* ------------------------------------------------------------ driver */

typedef struct result {
	const char *id;
	int32_t off;
	int32_t m0, nslots;
	int64_t payg, best;
	int64_t *q;        /* best schedule: slot * noff + k */
	int *offers;
	size_t noff;
	int64_t evals;
	int64_t refused;   /* rows refused in the pay-as-you-go run */
	bool none;         /* no traffic */
} result;

static int64_t tier_min(const qs_tariff_def *t)
{
	int64_t m = INT64_MAX;
	size_t i;

	if (!t || t->ntiers == 0)
		return 0;
	for (i = 0; i < t->ntiers; i++)
		if (t->price[i] < m)
			m = t->price[i];
	return m;
}

/* Search one account; fills r. */
static int search_account(const qs_plan *pp, qs_sim *ev, const qs_acct *b,
			  racct *ra, const qs_rec_opts *o, result *r,
			  qs_err *err)
{
	search S;
	state init = {0}, *L = NULL, *L2;
	size_t nL = 1, nL2, i, k;
	int32_t s, m1;
	uint64_t used = 0;
	int rc = 0;
	int64_t minor;

	memset(&S, 0, sizeof S);
	memset(r, 0, sizeof *r);
	r->id = b->id;
	r->off = b->def->utc_offset;
	if (!ra || ra->nev == 0) {
		r->none = true;
		return 0;
	}
	S.plan = pp;
	S.sim = ev;
	S.o = o;
	S.ra = ra;
	S.exhaustive = o->exhaustive;
	S.max_evals = o->max_evals ? o->max_evals : 1000000;
	if (!(S.acct = qs_sim_account(ev, b->id, strlen(b->id), err)))
		return QS_EXIT_BAD;
	qsort(ra->evs, ra->nev, sizeof *ra->evs, ev_cmp);
	S.m0 = qs_month_of(ra->evs[0].at, r->off);
	m1 = qs_month_of(ra->evs[ra->nev - 1].at, r->off);
	S.nslots = m1 - S.m0 + 1;
	S.first = qs_alloc(((size_t)S.nslots + 1) * sizeof *S.first);
	for (i = 0, s = 0; s <= S.nslots; s++) {
		while (i < ra->nev &&
		       qs_month_of(ra->evs[i].at, r->off) < S.m0 + s)
			i++;
		S.first[s] = i;
	}
	S.first[S.nslots] = ra->nev;
	for (i = 0; i < ra->nev; i++)
		used |= UINT64_C(1) << ra->evs[i].cat;
	/* applicable offers, and the cheapest a unit can be */
	S.offers = qs_alloc((pp->noffers + 1) * sizeof *S.offers);
	S.cmin = 1e300;
	for (k = 0; k < pp->ncats; k++)
		if (used >> k & 1) {
			int t = b->def->tariff[k];
			double m = (double)tier_min(t >= 0 ? &pp->tariffs[t]
							   : NULL);

			if (m < S.cmin)
				S.cmin = m;
		}
	for (k = 0; k < pp->noffers; k++) {
		const qs_offer_def *of = &pp->offers[k];
		double m;

		if (!(of->cats & used))
			continue;
		S.offers[S.noff++] = (int)k;
		m = of->tariff >= 0 ? (double)tier_min(&pp->tariffs[of->tariff])
				    : (double)of->price / (double)of->units;
		if (m < S.cmin)
			S.cmin = m;
	}
	/* A package that stops its categories when exhausted (R7) makes
	 * refusals, which cost nothing: a state with fewer units may then
	 * cost less later, and the bound's unit price does not hold.  An
	 * account that stops at the end of its packages refuses instead of
	 * paying too.  Without them the search stays exact, only slower. */
	for (k = 0; k < S.noff; k++)
		if (pp->offers[S.offers[k]].flags & QUOTA_PACKAGE_STOP)
			S.no_dominance = S.no_bound = true;
	for (k = 0; k < b->def->npkgs; k++)
		if (b->def->pkgs[k].flags & QUOTA_PACKAGE_STOP)
			S.no_dominance = S.no_bound = true;
	for (k = 0; k < pp->ncats; k++)
		if ((used >> k & 1) && b->def->overage[k] == QUOTA_OVERAGE_STOP)
			S.no_bound = true;
	/* the most of each offer that the demand in its validity can use */
	S.qmax = qs_alloc(((size_t)S.nslots * S.noff + 1) * sizeof *S.qmax);
	for (s = 0; s < S.nslots; s++)
		for (k = 0; k < S.noff; k++) {
			const qs_offer_def *of = &pp->offers[S.offers[k]];
			quota_purchase pu;
			int64_t w = 0, start = qs_month_start(S.m0 + s, r->off);
			int64_t q1 = of->tariff >= 0 ? (of->min_units ? of->min_units : 1) : 1, st;

			if ((rc = quota_package_quote(S.acct->a,
						      ev->offers[S.offers[k]],
						      q1, NULL, start, &pu))) {
				qs_errf(err, of->line, 1, "recommend: offer "
					"'%s': %s", of->id,
					qs_sim_errmsg(ev, rc));
				err->file = pp->file;
				rc = QS_EXIT_BAD;
				goto out;
			}
			for (i = S.first[s]; i < ra->nev; i++) {
				const rev *e = &ra->evs[i];

				if (e->at >= pu.expires_at)
					break;
				if (!e->failed && (of->cats >> e->cat & 1))
					w += e->units;
			}
			st = of->step_units ? of->step_units : 1;
			if (of->tariff < 0)
				S.qmax[(size_t)s * S.noff + k] =
					(w + of->units - 1) / of->units;
			else if (w == 0)
				S.qmax[(size_t)s * S.noff + k] = 0;
			else {
				int64_t n = w > q1 ? (w - q1 + st - 1) / st : 0;

				if (of->max_units &&
				    q1 + n * st > of->max_units)
					n = (of->max_units - q1) / st;
				S.qmax[(size_t)s * S.noff + k] = n + 1;
			}
		}
	/* units still to serve from each slot on, and rounding slack */
	S.rem = qs_alloc(((size_t)S.nslots + 1) * sizeof *S.rem);
	S.slack = qs_alloc(((size_t)S.nslots + 1) * sizeof *S.slack);
	minor = b->def->minor ? b->def->minor : 10000;
	for (s = S.nslots; s-- > 0;) {
		int32_t mo = S.m0 + s;
		int64_t nf = 0, lines = 0, p = b->def->settle_period ==
							QUOTA_PERIOD_HOUR
						? 3600 : 86400, lastp = INT64_MIN;

		if (mo >= b->base && mo < b->base + (int32_t)b->nmonths &&
		    b->months[mo - b->base].cat)
			for (k = 0; k < pp->ncats; k++)
				nf += b->months[mo - b->base].cat[k].pkg +
				      b->months[mo - b->base].cat[k].payg;
		for (i = S.first[s]; i < S.first[s + 1]; i++) {
			int64_t l = ra->evs[i].at + r->off;
			int64_t pk = (l - ((l % p) + p) % p) / p;

			if (pk != lastp)
				lines += (int64_t)pp->ncats;
			lastp = pk;
		}
		S.rem[s] = S.rem[s + 1] + nf;
		S.slack[s] = S.slack[s + 1] + lines * minor;
	}
	/* the starting state, and pay-as-you-go only: the first bound */
	if ((rc = quota_account_snapshot(S.acct->a, &init.snap, &init.len))) {
		qs_errf(err, 0, 0, "recommend: %s", qs_sim_errmsg(ev, rc));
		rc = QS_EXIT_FAIL;
		goto out;
	}
	{
		void *copy = qs_alloc(init.len);

		memcpy(copy, init.snap, init.len);
		quota_free(ev->ctx, init.snap);
		init.snap = copy;
	}
	for (s = 0; s < S.nslots; s++)
		if (replay_slot(&S, s)) {
			qs_errf(err, 0, 0, "recommend: %s",
				qs_sim_errmsg(ev, QUOTA_EINVAL));
			rc = QS_EXIT_FAIL;
			goto out;
		}
	r->payg = S.best = spent(S.acct->a);
	r->best = r->payg;
	r->q = qs_alloc(((size_t)S.nslots * S.noff + 1) * sizeof *r->q);
	if (S.exhaustive)
		S.best = INT64_MAX;
	L = qs_alloc(sizeof *L);
	L[0] = init;
	init.snap = NULL;
	for (s = 0; s < S.nslots; s++) {
		if ((rc = expand(&S, s, L, nL, &L2, &nL2, err)))
			goto out;
		for (i = 0; i < nL; i++)
			state_free(&L[i]);
		free(L);
		L = L2;
		nL = nL2;
	}
	for (i = 0; i < nL; i++)
		if (L[i].cost < r->best) {
			r->best = L[i].cost;
			memcpy(r->q, L[i].q,
			       (size_t)S.nslots * S.noff * sizeof *r->q);
		}
	/* choice indexes to quantities */
	for (s = 0; s < S.nslots; s++)
		for (k = 0; k < S.noff; k++)
			r->q[(size_t)s * S.noff + k] =
				qty(&S, k, r->q[(size_t)s * S.noff + k]);
	r->m0 = S.m0;
	r->nslots = S.nslots;
	r->offers = S.offers;
	S.offers = NULL;
	r->noff = S.noff;
	r->evals = S.evals;
out:
	for (i = 0; L && i < nL; i++)
		state_free(&L[i]);
	free(L);
	free(init.snap);
	free(S.first);
	free(S.offers);
	free(S.qmax);
	free(S.rem);
	free(S.slack);
	return rc;
}

static void print_result(FILE *f, const qs_plan *pp, qs_sim *ev,
			 const result *r, int format, bool first)
{
	char m1[32], m2[32], m3[32], tb[40];
	int32_t s;
	size_t k;
	bool any = false;

	if (format == QS_OUT_JSON) {
		fprintf(f, "%s\n{\"id\":", first ? "" : ",");
		qs_json_str(f, r->id);
		fprintf(f, ",\"payg_only\":\"%s\",\"cheapest\":\"%s\","
			"\"saves\":\"%s\",\"evaluations\":%lld,"
			"\"refused_rows\":%lld,\"purchases\":[",
			qs_money_fmt(m1, r->payg), qs_money_fmt(m2, r->best),
			qs_money_fmt(m3, r->payg - r->best),
			(long long)r->evals, (long long)r->refused);
	} else {
		fprintf(f, "\naccount %s\n", r->id);
		if (r->none) {
			fprintf(f, "  no traffic: nothing to buy\n");
			return;
		}
		fprintf(f, "  pay-as-you-go only: %s\n", qs_money_fmt(m1, r->payg));
	}
	for (s = 0; !r->none && s < r->nslots; s++)
		for (k = 0; k < r->noff; k++) {
			int64_t q = r->q[(size_t)s * r->noff + k];
			int64_t at = qs_month_start(r->m0 + s, r->off);
			quota_purchase pu = {0};
			quota_account *a;
			const char *oid = pp->offers[r->offers[k]].id;

			if (!q)
				continue;
			if (quota_account_find(ev->ctx, r->id, &a) == 0)
				quota_package_quote(a, ev->offers[r->offers[k]],
						    q, NULL, at, &pu);
			if (format == QS_OUT_JSON) {
				fprintf(f, "%s{\"at\":\"%s\",\"offer\":",
					any ? "," : "",
					qs_time_fmt(tb, at, r->off));
				qs_json_str(f, oid);
				fprintf(f, ",\"quantity\":%lld,\"units\":%lld,"
					"\"price\":\"%s\"}", (long long)q,
					(long long)pu.units,
					qs_money_fmt(m1, pu.price_micros));
			} else
				fprintf(f, "  buy %s x%lld at %s: %lld units "
					"for %s\n", oid, (long long)q,
					qs_time_fmt(tb, at, r->off),
					(long long)pu.units,
					qs_money_fmt(m1, pu.price_micros));
			any = true;
		}
	if (format == QS_OUT_JSON) {
		fputs("]}", f);
		return;
	}
	if (!any)
		fprintf(f, "  buy nothing: no package would lower the cost\n");
	fprintf(f, "  cheapest: %s, saving %s (%lld schedules evaluated)\n",
		qs_money_fmt(m1, r->best), qs_money_fmt(m2, r->payg - r->best),
		(long long)r->evals);
	if (r->refused)
		fprintf(f, "  note: %lld rows were refused in the pay-as-you-go "
			"run (caps, stop, suspension); the search replays the "
			"charges that stood\n", (long long)r->refused);
}

int qs_recommend(FILE *out, const qs_plan *plan, const char *trace,
		 const qs_rec_opts *o, qs_err *err)
{
	qs_plan pp = *plan;
	qs_sim base, ev;
	rctx rc = {0};
	result *res;
	size_t i, j;
	int r = 0;
	int64_t tp = 0, tb = 0;

	/* the plan without its own purchases and top-ups, balance unlimited */
	pp.accounts = qs_alloc((plan->naccounts + 1) * sizeof *pp.accounts);
	for (i = 0; i < plan->naccounts; i++) {
		pp.accounts[i] = plan->accounts[i];
		pp.accounts[i].nacts = 0;
		pp.accounts[i].balance_set = false;
	}
	if (qs_sim_init(&base, &pp, err)) {
		qs_sim_free(&base);
		free(pp.accounts);
		return QS_EXIT_BAD;
	}
	base.on_use = on_use;
	base.use_ud = &rc;
	if (qs_feed(&base, 1, trace, o->progress, o->progress_ud, err) ||
	    qs_sim_finish(&base, err)) {
		r = QS_EXIT_BAD;
		goto out;
	}
	if (qs_sim_init(&ev, &pp, err)) {
		qs_sim_free(&ev);
		r = QS_EXIT_BAD;
		goto out;
	}
	res = qs_alloc((base.naccts + 1) * sizeof *res);
	for (i = 0; i < base.naccts && !r; i++) {
		racct *ra = NULL;
		qs_totals tt;

		for (j = 0; j < rc.nra; j++)
			if (rc.ra[j].base == base.accts[i])
				ra = &rc.ra[j];
		r = search_account(&pp, &ev, base.accts[i], ra, o, &res[i],
				   err);
		if (r && !err->file)
			err->file = plan->file;
		qs_sim_totals(&base, base.accts[i], &tt);
		for (j = 0; j < QS_NREF; j++)
			res[i].refused += tt.st.refused[j];
	}
	if (!r) {
		if (o->format == QS_OUT_JSON) {
			fputs("{\"plan\":", out);
			qs_json_str(out, plan->name);
			fputs(",\"trace\":", out);
			qs_json_str(out, strcmp(trace, "-") ? trace : "(stdin)");
			fputs(",\"accounts\":[", out);
		} else {
			fprintf(out, "quota-sim recommend: plan %s, trace %s\n",
				plan->name, strcmp(trace, "-") ? trace : "(stdin)");
			fprintf(out, "purchases at the start of each month, "
				"exact for this catalog and trace (dynamic "
				"programming over the months; quota-sim(1))\n");
		}
		for (i = 0; i < base.naccts; i++) {
			print_result(out, &pp, &ev, &res[i], o->format, i == 0);
			tp += res[i].payg;
			tb += res[i].best;
		}
		{
			char m1[32], m2[32], m3[32];

			if (o->format == QS_OUT_JSON)
				fprintf(out, "],\n\"total\":{\"payg_only\":\"%s\","
					"\"cheapest\":\"%s\",\"saves\":\"%s\"}}\n",
					qs_money_fmt(m1, tp),
					qs_money_fmt(m2, tb),
					qs_money_fmt(m3, tp - tb));
			else
				fprintf(out, "\ntotal: pay-as-you-go only %s, "
					"cheapest %s, saving %s\n",
					qs_money_fmt(m1, tp),
					qs_money_fmt(m2, tb),
					qs_money_fmt(m3, tp - tb));
		}
	}
	for (i = 0; i < base.naccts; i++) {
		free(res[i].q);
		free(res[i].offers);
	}
	free(res);
	qs_sim_free(&ev);
out:
	for (i = 0; i < rc.nra; i++)
		free(rc.ra[i].evs);
	free(rc.ra);
	qs_sim_free(&base);
	free(pp.accounts);
	return r;
}
