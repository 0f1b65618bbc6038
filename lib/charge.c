/*
 * charge.c - quota_charge and quota_quote (R1-R9, R13-R15).
 *
 * Every charge is a plan (validate and compute the whole receipt, change
 * nothing) followed by an apply that cannot fail (R8): all allocation and
 * every check happens in the plan, so an error leaves the account exactly
 * as it was.  A later storage layer writes its journal between the two.
 */
#include "ctx.h"

#include <string.h>

#define NONE UINT32_MAX

typedef struct draw {
	quota_package *pk;
	uint32_t pos;
	int64_t units;
} draw;

typedef struct plan {
	int64_t units, free, pkg, payg, cost;
	int64_t day, month;
	uint32_t cat;
	uint32_t ndraws; /* packages drawn; the first few are kept */
	draw d[QUOTA_RECEIPT_LINES];
	quota_receipt *r; /* may be NULL */
} plan;

static void add_line(plan *pl, int32_t source, uint32_t tier,
		     quota_package *pk, int64_t units, int64_t price,
		     int64_t cost)
{
	quota_receipt *r = pl->r;
	quota_receipt_line *l;

	if (!r)
		return;
	if (r->nlines < QUOTA_RECEIPT_LINES) {
		l = &r->lines[r->nlines++];
		l->source = source;
		l->tier = tier;
		l->package_id = pk ? pk->id : NULL;
		l->package = pk;
		l->units = units;
		l->unit_price_micros = price;
		l->cost_micros = cost;
	}
	r->lines_total++;
}

static void payg_line(void *ud, uint32_t tier, int64_t units, int64_t price,
		      int64_t cost)
{
	add_line(ud, QUOTA_SOURCE_PAYG, tier, NULL, units, price, cost);
}

/* Refuse a charge that would pass a cap (R9): caps count every unit. */
static int check_cap(const quota_account *a, const quota__cap *cap,
		     unsigned cat, const plan *pl)
{
	const char *name = cat == QUOTA__CAT_ALL ? "all categories"
						 : a->ctx->category[cat];
	int64_t used;

	if (cap->day >= 0) {
		used = quota__cnt_get(&a->counters,
				      quota__cnt_key(QUOTA__CNT_UNITS_DAY, cat,
						     pl->day));
		if (pl->units > cap->day - used)
			return quota__err(a->ctx, QUOTA_ECAP,
					  "account '%s': daily cap of %lld "
					  "for %s reached (%lld used, %lld "
					  "asked)",
					  a->id, (long long)cap->day, name,
					  (long long)used,
					  (long long)pl->units);
	}
	if (cap->month >= 0) {
		used = quota__cnt_get(&a->counters,
				      quota__cnt_key(QUOTA__CNT_UNITS_MONTH,
						     cat, pl->month));
		if (pl->units > cap->month - used)
			return quota__err(a->ctx, QUOTA_ECAP,
					  "account '%s': monthly cap of %lld "
					  "for %s reached (%lld used, %lld "
					  "asked)",
					  a->id, (long long)cap->month, name,
					  (long long)used,
					  (long long)pl->units);
	}
	return QUOTA_OK;
}

/* Free units available for this charge (R15). */
static int64_t free_available(const quota_account *a, const quota_tariff *t,
			      const plan *pl)
{
	int64_t avail, used, key_period;
	unsigned kind;

	if (!t || t->free_units <= 0)
		return 0;
	switch (t->free_period) {
	case QUOTA_PERIOD_DAY:
		kind = QUOTA__CNT_FREE_DAY;
		key_period = pl->day;
		break;
	case QUOTA_PERIOD_MONTH:
		kind = QUOTA__CNT_FREE_MONTH;
		key_period = pl->month;
		break;
	default:
		kind = QUOTA__CNT_FREE_LIFE;
		key_period = 0;
		break;
	}
	used = quota__cnt_get(&a->counters,
			      quota__cnt_key(kind, pl->cat, key_period));
	avail = t->free_units - used;
	if (t->free_daily > 0) {
		used = quota__cnt_get(&a->counters,
				      quota__cnt_key(QUOTA__CNT_FREE_DAY,
						     pl->cat, pl->day));
		if (t->free_daily - used < avail)
			avail = t->free_daily - used;
	}
	return avail > 0 ? avail : 0;
}

static int plan_charge(const quota_account *a, const quota_usage *u,
		       plan *pl)
{
	quota_ctx *ctx = a->ctx;
	const quota_tariff *t;
	const quota__pindex *ix;
	int64_t need, volume, all_month;
	uint32_t cat;
	int rc;

	if (!u)
		return quota__err(ctx, QUOTA_EINVAL, "usage is NULL");
	cat = u->category;
	if ((rc = quota__check_category(ctx, cat)))
		return rc;
	if (u->units <= 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': units must be > 0, not %lld",
				  a->id, (long long)u->units);
	if (!quota__time_ok(u->at))
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': usage time %lld out of range",
				  a->id, (long long)u->at);
	if (u->key)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': idempotency keys (R11) are "
				  "not supported yet; refusing rather than "
				  "risk a double charge",
				  a->id);

	pl->cat = cat;
	pl->units = u->units;
	pl->day = quota__day_of(u->at + a->utc_offset);
	pl->month = quota__month_of_day(pl->day);

	/* Counters must not overflow; the account-wide month counter bounds
	 * every units counter this charge adds to. */
	all_month = quota__cnt_get(&a->counters,
				   quota__cnt_key(QUOTA__CNT_UNITS_MONTH,
						  QUOTA__CAT_ALL, pl->month));
	if (u->units > INT64_MAX - all_month)
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "account '%s': monthly unit counter would "
				  "overflow",
				  a->id);

	/* R9 caps. */
	if ((a->cap_mask & QUOTA_MASK(cat)) &&
	    (rc = check_cap(a, &a->caps[cat], cat, pl)))
		return rc;
	if ((a->cap_all.day >= 0 || a->cap_all.month >= 0) &&
	    (rc = check_cap(a, &a->cap_all, QUOTA__CAT_ALL, pl)))
		return rc;

	/* R1 (a): the free allowance. */
	t = a->tariff[cat];
	pl->free = free_available(a, t, pl);
	if (pl->free > pl->units)
		pl->free = pl->units;
	if (pl->free)
		add_line(pl, QUOTA_SOURCE_FREE, 0, NULL, pl->free, 0, 0);
	need = pl->units - pl->free;

	/* R1 (b), R2, R3: packages in burn order. */
	ix = a->pindex[cat];
	if (need && ix) {
		uint32_t pos = quota__pindex_first(ix, 0, u->at);

		while (need && pos != NONE) {
			quota_package *pk = ix->pk[pos];
			int64_t take = pk->remaining < need ? pk->remaining
							    : need;

			if (pl->ndraws < QUOTA_RECEIPT_LINES) {
				pl->d[pl->ndraws].pk = pk;
				pl->d[pl->ndraws].pos = pos;
				pl->d[pl->ndraws].units = take;
			}
			pl->ndraws++;
			add_line(pl, QUOTA_SOURCE_PACKAGE, 0, pk, take, 0, 0);
			pl->pkg += take;
			need -= take;
			if (need)
				pos = quota__pindex_first(ix, pos + 1, u->at);
		}
	}

	/* R1 (c), R7: pay-as-you-go unless the category stops here. */
	pl->payg = need;
	if (need) {
		if ((a->stop_mask & QUOTA_MASK(cat)) ||
		    (ix && ix->nstop && quota__pindex_stop_at(ix, u->at)))
			return quota__err(ctx, QUOTA_EEXHAUSTED,
					  "account '%s': %s has no quota "
					  "left for %lld units and overage "
					  "is stopped",
					  a->id, ctx->category[cat],
					  (long long)need);
		/* R13: free and package units count toward the volume. */
		volume = quota__cnt_get(&a->counters,
					quota__cnt_key(QUOTA__CNT_UNITS_MONTH,
						       cat, pl->month));
		rc = quota__tariff_price_lines(t, volume + pl->free + pl->pkg,
					       need, payg_line, pl, &pl->cost);
		if (rc)
			return quota__err(ctx, rc,
					  "account '%s': cost of %lld units "
					  "overflows",
					  a->id, (long long)need);
	}
	return QUOTA_OK;
}

static void apply_charge(quota_account *a, const quota_usage *u,
			 const plan *pl)
{
	quota__counters *c = &a->counters;
	quota__pindex *ix = a->pindex[pl->cat];
	int64_t left = pl->pkg;
	uint32_t i, kept;

	quota__cnt_add(c, quota__cnt_key(QUOTA__CNT_UNITS_DAY, pl->cat, pl->day),
		       pl->units);
	quota__cnt_add(c,
		       quota__cnt_key(QUOTA__CNT_UNITS_MONTH, pl->cat,
				      pl->month),
		       pl->units);
	quota__cnt_add(c,
		       quota__cnt_key(QUOTA__CNT_UNITS_DAY, QUOTA__CAT_ALL,
				      pl->day),
		       pl->units);
	quota__cnt_add(c,
		       quota__cnt_key(QUOTA__CNT_UNITS_MONTH, QUOTA__CAT_ALL,
				      pl->month),
		       pl->units);
	if (pl->free) {
		quota__cnt_add(c,
			       quota__cnt_key(QUOTA__CNT_FREE_DAY, pl->cat,
					      pl->day),
			       pl->free);
		quota__cnt_add(c,
			       quota__cnt_key(QUOTA__CNT_FREE_MONTH, pl->cat,
					      pl->month),
			       pl->free);
		quota__cnt_add(c,
			       quota__cnt_key(QUOTA__CNT_FREE_LIFE, pl->cat, 0),
			       pl->free);
	}

	kept = pl->ndraws < QUOTA_RECEIPT_LINES ? pl->ndraws
						: QUOTA_RECEIPT_LINES;
	for (i = 0; i < kept; i++) {
		quota_package *pk = pl->d[i].pk;

		pk->remaining -= pl->d[i].units;
		left -= pl->d[i].units;
		if (pk->remaining == 0) {
			if (pk->categories == QUOTA_MASK(pl->cat))
				quota__pindex_refresh(ix, pl->d[i].pos);
			else
				quota__package_refresh(a, pk);
		}
	}
	/* A charge that spans more packages than the plan kept: the drained
	 * ones now read as empty, so the same search finds the rest. */
	while (left) {
		uint32_t pos = quota__pindex_first(ix, 0, u->at);
		quota_package *pk = ix->pk[pos];
		int64_t take = pk->remaining < left ? pk->remaining : left;

		pk->remaining -= take;
		left -= take;
		if (pk->remaining == 0)
			quota__package_refresh(a, pk);
	}
}

static int run(const quota_account *a, const quota_usage *u,
	       quota_receipt *r, bool commit)
{
	plan pl;
	int rc;

	if (!a) {
		if (r)
			memset(r, 0, sizeof *r);
		return QUOTA_EINVAL;
	}
	pl.free = pl.pkg = pl.payg = pl.cost = 0;
	pl.ndraws = 0;
	pl.r = r;
	if (r) {
		r->nlines = 0;
		r->lines_total = 0;
	}
	rc = plan_charge(a, u, &pl);
	/* Room for up to 7 new counters, so that apply cannot fail. */
	if (!rc && commit &&
	    quota__cnt_reserve(&a->ctx->mem,
			       &((quota_account *)a)->counters, 7))
		rc = quota__err(a->ctx, QUOTA_ENOMEM,
				"account '%s': out of memory", a->id);
	if (rc) {
		if (r)
			memset(r, 0, sizeof *r);
		return rc;
	}
	if (commit)
		apply_charge((quota_account *)a, u, &pl);
	if (r) {
		r->units = pl.units;
		r->free_units = pl.free;
		r->package_units = pl.pkg;
		r->payg_units = pl.payg;
		r->payg_cost_micros = pl.cost;
		r->category = pl.cat;
		r->at = u->at;
	}
	quota__ok(a->ctx);
	return QUOTA_OK;
}

int quota_charge(quota_account *a, const quota_usage *usage,
		 quota_receipt *receipt)
{
	return run(a, usage, receipt, true);
}

int quota_quote(const quota_account *a, const quota_usage *usage,
		quota_receipt *receipt)
{
	return run(a, usage, receipt, false);
}
