/*
 * rec_search.c - the search of `quota-sim recommend` for one account:
 * the cheapest schedule of purchases at the starts of the months of its
 * traffic, exact over that decision space (quota-sim(1), RECOMMEND).
 *
 *   - the categories fall into groups that no offer or package links; the
 *     bills are sums of per-category lines rounded apart and every
 *     counter is per category, so without a cap over all categories the
 *     cost is the sum of the groups' costs and each group is searched on
 *     its own (then the whole schedule is replayed once as a check);
 *   - candidate quantities: at a month, each offer from none up to the
 *     least allowed quantity that covers the demand within its validity,
 *     plus, for an offer priced in volume mode, the least allowed
 *     quantity of each higher tier (beyond the demand only the price
 *     differs, and it is least there);
 *   - dynamic programming over the months: a state is the account at a
 *     month's start (a snapshot); its future cost depends only on the
 *     units left per package class, so a state with no more units in any
 *     class at no lower cost is dropped (dominance, where no bill line
 *     grows as units leave pay-as-you-go); a state whose cost plus a
 *     lower bound of the rest reaches the best complete schedule is
 *     dropped (branch and bound);
 *   - packages valid beyond the trace's last month are one class whatever
 *     their expiry, and an offer is not bought at a month while its class
 *     holds at least that month's demand of its categories: the class
 *     does not run short that month either way, so buying at the next
 *     month's start instead costs no more (postponement).  Both only
 *     where no two kinds of package share a category at one priority, so
 *     that the draw order between classes does not depend on the
 *     expiries merged;
 *   - where pay-as-you-go is one price the bill lines take exactly and
 *     kinds do not overlap, an offer valid to the horizon with a
 *     subadditive price is bought at most once: one purchase of the sum
 *     at the first of two months costs no more (merging).
 */
#include "rec_int.h"

#include <stdlib.h>
#include <string.h>

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
	int64_t *q;     /* choice indexes: slot * noff + offer */
} state;

typedef struct search {
	const qs_plan *plan;
	qs_sim *sim;
	qs_acct *acct;
	racct *ra;
	int32_t m0, nslots;
	int64_t horizon;   /* end of the last month */
	size_t *first;     /* first event of each slot; [nslots] = nev */
	int *offers;       /* applicable offers */
	uint64_t *omask;   /* their categories, as library ids */
	size_t noff;
	size_t *qoff;      /* per slot, offer: its quantities in qv */
	int64_t *nq;       /* per slot, offer: choices, index 0 = none */
	int64_t *qv;
	size_t nqv;
	int64_t *dem;      /* per slot, offer: units of its categories */
	int64_t *pexp;     /* per slot, offer: expiry bought at the start */
	uint64_t gmask;    /* the group searched (plan category indexes) */
	uint64_t lmask;    /* the same as library ids */
	double cmin;       /* micros per unit, lower bound */
	int64_t *rem;      /* units from slot s on */
	int64_t *slack;    /* rounding slack from slot s on */
	int64_t evals, max_evals;
	bool exhaustive;
	bool no_bound;     /* refusals may cost less than any unit price */
	bool no_dominance; /* see the callers */
	bool merge;        /* horizon classes and postponement hold */
	bool disjoint;     /* kinds that share a category are one kind */
	bool *once;        /* per offer: bought at most once (merging) */
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

/* Units left at t per class of the packages of the group that can still
 * be drawn; expiries at or beyond the horizon merged when S->merge. */
static void classes(const search *S, quota_account *a, int64_t t, cls **out,
		    size_t *n)
{
	uint32_t np = quota_account_package_count(a), i;
	cls *c = qs_alloc((np + 1) * sizeof *c);
	size_t k = 0, j;

	for (i = 0; i < np; i++) {
		const quota_package *p = quota_account_package_at(a, i);
		quota_package_spec sp;
		int64_t left = quota_package_remaining(p);

		quota_package_get_spec(p, &sp);
		if (left <= 0 || sp.expires_at <= t ||
		    !(sp.categories & S->lmask))
			continue;
		c[k] = (cls){sp.categories, sp.effective_at > t ? sp.effective_at
								 : 0,
			     sp.expires_at, sp.priority, sp.flags, left};
		if (S->merge && c[k].exp >= S->horizon)
			c[k].exp = INT64_MAX;
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

static int64_t spent(quota_account *a)
{
	quota_money m;

	quota_account_money(a, &m);
	return m.purchased_micros + m.billed_micros;
}

/* Replay slot s's charges of the group, then settle the month. */
static int replay_slot(search *S, int32_t s, uint64_t gmask)
{
	quota_account *a = S->acct->a;
	size_t i;
	int rc;

	S->acct->settled_to = INT64_MIN;
	for (i = S->first[s]; i < S->first[s + 1]; i++) {
		const rev *e = &S->ra->evs[i];
		quota_usage u = {.category = S->sim->catid[e->cat],
				 .units = e->units, .at = e->at};
		quota_receipt r;
		uint64_t hold;

		if (!(gmask >> e->cat & 1))
			continue;
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

static int64_t qty(const search *S, int32_t s, size_t k, int64_t i)
{
	return S->qv[S->qoff[(size_t)s * S->noff + k] + (size_t)i];
}

/* Units left at t in packages of offer k's kind valid to the horizon. */
static int64_t kind_left(const search *S, size_t k, int64_t t)
{
	const qs_offer_def *of = &S->plan->offers[S->offers[k]];
	quota_account *a = S->acct->a;
	uint32_t np = quota_account_package_count(a), i;
	int64_t n = 0;

	for (i = 0; i < np; i++) {
		const quota_package *p = quota_account_package_at(a, i);
		quota_package_spec sp;

		quota_package_get_spec(p, &sp);
		if (sp.categories == S->omask[k] && sp.flags == of->flags &&
		    sp.priority == of->priority && sp.effective_at <= t &&
		    sp.expires_at >= S->horizon)
			n += quota_package_remaining(p);
	}
	return n;
}

/* Choices allowed at slot s in the account's current state, reached by
 * choice indexes q of the slots before, per offer (lim[k] = 1: none),
 * and their product. */
static double limits(const search *S, int32_t s, const int64_t *q,
		     int64_t *lim)
{
	int64_t start = qs_month_start(S->m0 + s, S->acct->def->utc_offset);
	double n = 1;
	size_t k, x;
	int32_t t;

	for (k = 0; k < S->noff; k++) {
		x = (size_t)s * S->noff + k;
		lim[k] = S->plan->offers[S->offers[k]].cats & S->gmask
				 ? S->nq[x] : 1;
		/* merging: an offer bought once is not bought again */
		for (t = 0; lim[k] > 1 && S->once[k] && t < s; t++)
			if (q[(size_t)t * S->noff + k])
				lim[k] = 1;
		/* postponement: see the top of the file */
		if (lim[k] > 1 && S->merge && S->pexp[x] >= S->horizon &&
		    kind_left(S, k, start) >= S->dem[x])
			lim[k] = 1;
		n *= (double)lim[k];
	}
	return n;
}

static void too_many(const search *S, int32_t s, size_t nin, double need,
		     qs_err *err)
{
	qs_errf(err, 0, 0,
		"recommend: account '%s': the search needs more than %lld "
		"evaluations (%.0f at month %d of %d, from %zu states); "
		"narrow the catalog or the trace, or raise --max-evals",
		S->acct->id, (long long)S->max_evals, need, s + 1, S->nslots,
		nin);
}

/* Expand every state of slot s by every allowed choice of quantities. */
static int expand(search *S, int32_t s, state *in, size_t nin, state **out,
		  size_t *nout, qs_err *err)
{
	size_t cap = 0, n = 0, i, k, nlive = 0, clive = 0;
	size_t *live = NULL;
	state *o = NULL;
	int64_t *q = qs_alloc((S->noff + 1) * sizeof *q);
	int64_t *lim = qs_alloc(((nin + 1) * S->noff + 1) * sizeof *lim);
	quota_account *a = S->acct->a;
	int64_t start = qs_month_start(S->m0 + s, S->acct->def->utc_offset);
	int64_t end = qs_month_start(S->m0 + s + 1, S->acct->def->utc_offset);
	double need = 0;
	int rc;

	/* all or nothing: refuse at once what the budget cannot do */
	for (i = 0; i < nin; i++) {
		if ((rc = quota_account_reset(a, in[i].snap, in[i].len)))
			goto lib;
		need += limits(S, s, in[i].q, lim + i * S->noff);
	}
	if (need + (double)S->evals > (double)S->max_evals) {
		too_many(S, s, nin, need, err);
		free(q);
		free(lim);
		return QS_EXIT_FAIL;
	}
	for (i = 0; i < nin; i++) {
		const int64_t *li = lim + i * S->noff;

		memset(q, 0, (S->noff + 1) * sizeof *q);
		for (;;) {
			state x = {0};
			int64_t left = 0;
			size_t j;

			S->evals++;
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
					     qty(S, s, k, q[k]), NULL, start,
					     NULL, NULL)))
					goto lib;
			if (replay_slot(S, s, S->gmask)) {
				rc = QUOTA_EINVAL;
				goto lib;
			}
			x.cost = spent(a);
			classes(S, a, end, &x.cl, &x.ncl);
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
			/* dominance against the states kept so far (at most
			 * 4,096 of them: comparing fewer prunes less, never
			 * wrongly) */
			if (!S->exhaustive && !S->no_dominance) {
				for (j = 0; j < nlive && j < 4096; j++)
					if (dominates(&o[live[j]], &x))
						break;
				if (j < nlive && j < 4096) {
					free(x.cl);
					goto next;
				}
				for (j = 0; j < nlive && j < 4096;)
					if (dominates(&x, &o[live[j]])) {
						state_free(&o[live[j]]);
						live[j] = live[--nlive];
					} else
						j++;
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
			live = qs_grow(live, &clive, nlive + 1, sizeof *live);
			live[nlive++] = n;
			o[n++] = x;
		next:
			/* the next choice of quantities, odometer order */
			for (k = 0; k < S->noff; k++) {
				if (q[k] + 1 < li[k]) {
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
	free(lim);
	for (i = k = 0; i < n; i++)
		if (o[i].snap)
			o[k++] = o[i];
	free(live);
	*out = o;
	*nout = k;
	return 0;
lib:
	qs_errf(err, 0, 0, "recommend: account '%s': %s", S->acct->id,
		qs_sim_errmsg(S->sim, rc));
	free(q);
	free(lim);
	free(live);
	for (i = 0; i < n; i++)
		state_free(&o[i]);
	free(o);
	return QS_EXIT_FAIL;
}

/* ------------------------------------------------------------ setup */

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

/* A volume tariff whose month total can fall as the units grow (the
 * last unit of a tier dearer in total than one more at the next tier):
 * fewer pay-as-you-go units may then cost more, and dominance fails. */
static bool total_falls(const qs_tariff_def *t)
{
	size_t i;

	if (!t || t->mode != QUOTA_VOLUME)
		return false;
	for (i = 0; i + 1 < t->ntiers; i++)
		if ((double)t->up_to[i] * (double)t->price[i] >
		    (double)(t->up_to[i] + 1) * (double)t->price[i + 1])
			return true;
	return false;
}

/* Every line of a bill can only shrink when units leave pay-as-you-go:
 * one price, or graduated tiers whose prices never fall (a unit moved to
 * an earlier position costs no more).  Otherwise rounding each line may
 * make fewer units cost a minor unit more, and dominance fails. */
static bool lines_shrink(const qs_tariff_def *t)
{
	size_t i;

	if (!t || t->ntiers <= 1)
		return true;
	if (t->mode == QUOTA_VOLUME)
		return false;
	for (i = 0; i + 1 < t->ntiers; i++)
		if (t->price[i + 1] < t->price[i])
			return false;
	return true;
}

/* Offer k bought twice costs no less than the sum bought once, and the
 * sum is an allowed quantity: fixed offers, or priced by tiers whose
 * prices never rise, with no maximum and a minimum on the step. */
static bool sums(const qs_plan *pp, const qs_offer_def *of)
{
	const qs_tariff_def *t;
	int64_t st = of->step_units ? of->step_units : 1;
	int64_t q1 = of->min_units ? of->min_units : st;
	size_t i;

	if (of->tariff < 0)
		return true;
	t = &pp->tariffs[of->tariff];
	if (of->max_units || q1 % st)
		return false;
	for (i = 0; i + 1 < t->ntiers; i++)
		if (t->price[i + 1] > t->price[i])
			return false;
	return true;
}

/* Candidate quantities of offer k at slot s for demand w (see the top). */
static void candidates(search *S, int32_t s, size_t k, int64_t w,
		       size_t *cap)
{
	const qs_offer_def *of = &S->plan->offers[S->offers[k]];
	size_t x = (size_t)s * S->noff + k, t;
	int64_t q1 = of->min_units ? of->min_units
				   : (of->step_units ? of->step_units : 1);
	int64_t st = of->step_units ? of->step_units : 1, q, n, last = 0;

#define PUSH(v)                                                        \
	do {                                                           \
		S->qv = qs_grow(S->qv, cap, S->nqv + 1, sizeof *S->qv); \
		S->qv[S->nqv++] = (v);                                 \
		S->nq[x]++;                                            \
	} while (0)
	S->qoff[x] = S->nqv;
	S->nq[x] = 0;
	PUSH(0);
	if (w <= 0)
		return;
	if (of->tariff < 0) {
		n = (w + of->units - 1) / of->units;
		for (q = 1; q <= n; q++)
			PUSH(q);
		return;
	}
	for (q = q1; !of->max_units || q <= of->max_units; q += st) {
		PUSH(q);
		last = q;
		if (q >= w)
			break;
	}
	if (S->plan->tariffs[of->tariff].mode != QUOTA_VOLUME || last < w)
		return;
	for (t = 0; t + 1 < S->plan->tariffs[of->tariff].ntiers; t++) {
		int64_t b = S->plan->tariffs[of->tariff].up_to[t] + 1;

		q = b <= q1 ? q1 : q1 + (b - q1 + st - 1) / st * st;
		if (q > last && (!of->max_units || q <= of->max_units)) {
			PUSH(q);
			last = q;
		}
	}
#undef PUSH
}

static int find(int *p, int x)
{
	while (p[x] != x)
		x = p[x] = p[p[x]];
	return x;
}

/* Buy the schedule q (choice indexes) and replay the whole account. */
static int replay_all(search *S, const void *snap, size_t len,
		      const int64_t *q, uint64_t gmask, int64_t *cost)
{
	quota_account *a = S->acct->a;
	int32_t s;
	size_t k;
	int rc;

	if ((rc = quota_account_reset(a, snap, len)))
		return rc;
	for (s = 0; s < S->nslots; s++) {
		int64_t at = qs_month_start(S->m0 + s,
					    S->acct->def->utc_offset);

		for (k = 0; q && k < S->noff; k++)
			if (q[(size_t)s * S->noff + k] &&
			    (rc = quota_package_buy(
				     a, S->sim->offers[S->offers[k]],
				     qty(S, s, k, q[(size_t)s * S->noff + k]),
				     NULL, at, NULL, NULL)))
				return rc;
		if (replay_slot(S, s, gmask))
			return QUOTA_EINVAL;
	}
	*cost = spent(a);
	return 0;
}

/* The dynamic programme of one group; the cheapest schedule's choice
 * indexes added into best_q, its cost beyond c0 into *cost. */
static int search_group(search *S, const state *init, int64_t c0,
			int64_t *best_q, int64_t *cost, qs_err *err)
{
	const qs_plan *pp = S->plan;
	const qs_account_def *d = S->acct->def;
	state *L = qs_alloc(sizeof *L), *L2;
	size_t nL = 1, nL2, i, k;
	int64_t minor = d->minor ? d->minor : 10000, nc = 0;
	int32_t s;
	int rc;
	bool flat;

	S->lmask = 0;
	for (k = 0; k < pp->ncats; k++)
		if (S->gmask >> k & 1) {
			S->lmask |= UINT64_C(1) << S->sim->catid[k];
			nc++;
		}
	/* the cheapest a unit can be, and the rules that hold */
	S->cmin = 1e300;
	S->no_bound = S->no_dominance = false;
	for (k = 0; k < pp->ncats; k++)
		if (S->gmask >> k & 1) {
			int t = d->tariff[k];
			double m = (double)tier_min(t >= 0 ? &pp->tariffs[t]
							   : NULL);

			if (m < S->cmin)
				S->cmin = m;
			if (d->overage[k] == QUOTA_OVERAGE_STOP)
				S->no_bound = true;
			if (t >= 0 && (total_falls(&pp->tariffs[t]) ||
				       !lines_shrink(&pp->tariffs[t])))
				S->no_dominance = true;
		}
	for (k = 0; k < S->noff; k++) {
		const qs_offer_def *of = &pp->offers[S->offers[k]];
		double m;

		if (!(of->cats & S->gmask))
			continue;
		m = of->tariff >= 0 ? (double)tier_min(&pp->tariffs[of->tariff])
				    : (double)of->price / (double)of->units;
		if (m < S->cmin)
			S->cmin = m;
		/* A package that stops its categories when exhausted (R7)
		 * makes refusals, which cost nothing: a state with fewer
		 * units may then cost less later, and the bound's unit price
		 * does not hold.  Without them the search stays exact, only
		 * slower. */
		if (of->flags & QUOTA_PACKAGE_STOP)
			S->no_dominance = S->no_bound = true;
	}
	for (k = 0; k < d->npkgs; k++)
		if ((d->pkgs[k].cats & S->gmask) &&
		    (d->pkgs[k].flags & QUOTA_PACKAGE_STOP))
			S->no_dominance = S->no_bound = true;
	/* merging (quota-sim(1)): pay-as-you-go at one price the lines take
	 * exactly, so only the number of units it serves counts */
	flat = S->merge && S->disjoint && !S->no_bound && !S->no_dominance;
	for (k = 0; k < pp->ncats; k++)
		if (S->gmask >> k & 1) {
			int t = d->tariff[k];

			if (t < 0 || pp->tariffs[t].ntiers != 1 ||
			    pp->tariffs[t].price[0] % minor)
				flat = false;
		}
	for (k = 0; k < S->noff; k++) {
		const qs_offer_def *of = &pp->offers[S->offers[k]];

		S->once[k] = flat && (of->cats & S->gmask) && sums(pp, of);
		for (s = 0; S->once[k] && s < S->nslots; s++)
			if (S->pexp[(size_t)s * S->noff + k] < S->horizon)
				S->once[k] = false;
	}
	/* units still to serve from each slot on, and rounding slack */
	for (s = S->nslots; s-- > 0;) {
		const qs_acct *b = S->ra->base;
		int32_t mo = S->m0 + s;
		int64_t nf = 0, lines = 0, lastp = INT64_MIN,
			p = d->settle_period == QUOTA_PERIOD_HOUR ? 3600 : 86400;

		if (mo >= b->base && mo < b->base + (int32_t)b->nmonths &&
		    b->months[mo - b->base].cat)
			for (k = 0; k < pp->ncats; k++)
				if (S->gmask >> k & 1)
					nf += b->months[mo - b->base].cat[k].pkg +
					      b->months[mo - b->base].cat[k].payg;
		for (i = S->first[s]; i < S->first[s + 1]; i++) {
			int64_t l = S->ra->evs[i].at + d->utc_offset;
			int64_t pk = (l - ((l % p) + p) % p) / p;

			if (!(S->gmask >> S->ra->evs[i].cat & 1))
				continue;
			if (pk != lastp)
				lines += nc;
			lastp = pk;
		}
		S->rem[s] = S->rem[s + 1] + nf;
		S->slack[s] = S->slack[s + 1] + lines * minor;
	}
	/* pay-as-you-go only: the first bound */
	if ((rc = replay_all(S, init->snap, init->len, NULL, S->gmask,
			     &S->best)))
		goto lib;
	*cost = S->best - c0;
	if (S->exhaustive)
		S->best = INT64_MAX;
	L[0] = *init;
	L[0].cl = NULL;
	L[0].q = NULL;
	L[0].snap = qs_alloc(init->len);
	memcpy(L[0].snap, init->snap, init->len);
	for (s = 0; s < S->nslots; s++) {
		if ((rc = expand(S, s, L, nL, &L2, &nL2, err))) {
			for (i = 0; i < nL; i++)
				state_free(&L[i]);
			free(L);
			return rc;
		}
		for (i = 0; i < nL; i++)
			state_free(&L[i]);
		free(L);
		L = L2;
		nL = nL2;
	}
	{
		size_t bi = nL;

		for (i = 0; i < nL; i++)
			if (L[i].cost - c0 < *cost ||
			    (bi == nL && L[i].cost - c0 == *cost)) {
				*cost = L[i].cost - c0;
				bi = i;
			}
		for (i = 0; bi < nL && i < (size_t)S->nslots * S->noff; i++)
			best_q[i] += L[bi].q[i];
	}
	for (i = 0; i < nL; i++)
		state_free(&L[i]);
	free(L);
	return 0;
lib:
	qs_errf(err, 0, 0, "recommend: account '%s': %s", S->acct->id,
		qs_sim_errmsg(S->sim, rc));
	free(L);
	return QS_EXIT_FAIL;
}

/* Search one account; fills r. */
int qs__rec_account(const qs_plan *pp, qs_sim *ev, const qs_acct *b,
		    racct *ra, const qs_rec_opts *o, result *r, qs_err *err)
{
	search S;
	state init = {0};
	size_t i, k, cq = 0, g;
	int32_t s, m1;
	uint64_t used = 0, groups[QUOTA_MAX_CATEGORIES];
	int par[QUOTA_MAX_CATEGORIES];
	size_t ng = 0;
	bool split = true;
	int rc = 0;
	int64_t c0, total, whole, *bq = NULL;

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
	S.m0 = qs_month_of(ra->evs[0].at, r->off);
	m1 = qs_month_of(ra->evs[ra->nev - 1].at, r->off);
	S.nslots = m1 - S.m0 + 1;
	S.horizon = qs_month_start(m1 + 1, r->off);
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
	/* applicable offers, their categories as library ids */
	S.offers = qs_alloc((pp->noffers + 1) * sizeof *S.offers);
	S.omask = qs_alloc((pp->noffers + 1) * sizeof *S.omask);
	S.once = qs_alloc((pp->noffers + 1) * sizeof *S.once);
	for (k = 0; k < pp->noffers; k++) {
		const qs_offer_def *of = &pp->offers[k];

		if (!(of->cats & used))
			continue;
		for (i = 0; i < pp->ncats; i++)
			if (of->cats >> i & 1)
				S.omask[S.noff] |= UINT64_C(1) << ev->catid[i];
		S.offers[S.noff++] = (int)k;
	}
	/* candidate quantities, demand per month, expiry of a purchase */
	k = (size_t)S.nslots * S.noff + 1;
	S.qoff = qs_alloc(k * sizeof *S.qoff);
	S.nq = qs_alloc(k * sizeof *S.nq);
	S.dem = qs_alloc(k * sizeof *S.dem);
	S.pexp = qs_alloc(k * sizeof *S.pexp);
	for (s = 0; s < S.nslots; s++)
		for (k = 0; k < S.noff; k++) {
			const qs_offer_def *of = &pp->offers[S.offers[k]];
			size_t x = (size_t)s * S.noff + k;
			quota_purchase pu;
			int64_t w = 0, start = qs_month_start(S.m0 + s, r->off);
			int64_t q1 = of->tariff >= 0
					     ? (of->min_units ? of->min_units
							      : (of->step_units
									 ? of->step_units
									 : 1))
					     : 1;

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
			S.pexp[x] = pu.expires_at;
			for (i = S.first[s]; i < ra->nev; i++) {
				const rev *e = &ra->evs[i];

				if (e->at >= pu.expires_at)
					break;
				if (!(of->cats >> e->cat & 1))
					continue;
				if (!e->failed)
					w += e->units;
				if (i < S.first[s + 1])
					S.dem[x] += e->units;
			}
			candidates(&S, s, k, w, &cq);
		}
	/* groups of categories no offer or package links (see the top);
	 * one group where a cap spans every category, or when exhaustive */
	for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
		par[i] = (int)i;
	for (k = 0; k < b->def->ncaps; k++)
		if (b->def->caps[k].cat < 0)
			split = false;
	for (k = 0; k < pp->noffers + b->def->npkgs; k++) {
		uint64_t c = k < pp->noffers ? pp->offers[k].cats
					     : b->def->pkgs[k - pp->noffers].cats;
		int first = -1;

		for (i = 0; i < pp->ncats; i++)
			if (c >> i & 1) {
				if (first < 0)
					first = (int)i;
				else
					par[find(par, (int)i)] =
						find(par, first);
			}
	}
	for (i = 0; i < pp->ncats; i++) {
		if (!(used >> i & 1))
			continue;
		if (!split) {
			groups[0] = used;
			ng = 1;
			break;
		}
		for (g = 0; g < ng; g++)
			if (find(par, (int)(__builtin_ctzll(groups[g]))) ==
			    find(par, (int)i))
				break;
		if (g == ng)
			groups[ng++] = 0;
		groups[g] |= UINT64_C(1) << i;
	}
	/* horizon classes and postponement: no two kinds of package (owned
	 * or offered) that differ share a category at one priority */
	S.merge = S.disjoint = !S.exhaustive;
	for (i = 0; i < pp->noffers + b->def->npkgs; i++)
		for (k = i + 1; k < pp->noffers + b->def->npkgs; k++) {
			uint64_t ci, ck;
			uint32_t fi, fk;
			int32_t pi, pk;

#define KIND(j, c, f, p)                                                   \
	do {                                                               \
		if ((j) < pp->noffers) {                                   \
			c = pp->offers[j].cats;                            \
			f = pp->offers[j].flags;                           \
			p = pp->offers[j].priority;                        \
		} else {                                                   \
			c = b->def->pkgs[(j) - pp->noffers].cats;          \
			f = b->def->pkgs[(j) - pp->noffers].flags;         \
			p = b->def->pkgs[(j) - pp->noffers].priority;      \
		}                                                          \
	} while (0)
			KIND(i, ci, fi, pi);
			KIND(k, ck, fk, pk);
#undef KIND
			if ((ci & ck) && (ci != ck || fi != fk || pi != pk))
				S.disjoint = false;
			if ((ci & ck) && pi == pk && (ci != ck || fi != fk))
				S.merge = false;
		}
	/* the starting state, pay-as-you-go only */
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
	c0 = spent(S.acct->a);
	if ((rc = replay_all(&S, init.snap, init.len, NULL, used, &r->payg)))
		goto lib;
	S.rem = qs_alloc(((size_t)S.nslots + 1) * sizeof *S.rem);
	S.slack = qs_alloc(((size_t)S.nslots + 1) * sizeof *S.slack);
	bq = qs_alloc(((size_t)S.nslots * S.noff + 1) * sizeof *bq);
	total = c0;
	for (g = 0; g < ng; g++) {
		int64_t cg;

		S.gmask = groups[g];
		if ((rc = search_group(&S, &init, c0, bq, &cg, err)))
			goto out;
		total += cg;
	}
	/* the whole schedule replayed: it must cost the sum of its groups */
	if ((rc = replay_all(&S, init.snap, init.len, bq, used, &whole)))
		goto lib;
	if (whole != total) {
		char m1s[32], m2s[32];

		qs_errf(err, 0, 0, "recommend: account '%s': the schedule "
			"costs %s replayed whole but %s by its groups of "
			"categories; no result", b->id,
			qs_money_fmt(m1s, whole), qs_money_fmt(m2s, total));
		rc = QS_EXIT_FAIL;
		goto out;
	}
	r->best = whole;
	r->q = qs_alloc(((size_t)S.nslots * S.noff + 1) * sizeof *r->q);
	for (s = 0; s < S.nslots; s++)
		for (k = 0; k < S.noff; k++)
			r->q[(size_t)s * S.noff + k] =
				qty(&S, s, k, bq[(size_t)s * S.noff + k]);
	r->m0 = S.m0;
	r->nslots = S.nslots;
	r->offers = S.offers;
	S.offers = NULL;
	r->noff = S.noff;
	r->evals = S.evals;
	r->ngroups = ng;
	goto out;
lib:
	qs_errf(err, 0, 0, "recommend: account '%s': %s", b->id,
		qs_sim_errmsg(ev, rc));
	rc = QS_EXIT_FAIL;
out:
	free(bq);
	free(init.snap);
	free(S.first);
	free(S.offers);
	free(S.omask);
	free(S.once);
	free(S.qoff);
	free(S.nq);
	free(S.qv);
	free(S.dem);
	free(S.pexp);
	free(S.rem);
	free(S.slack);
	return rc;
}
