/*
 * charge.c - quota_charge and quota_quote (R1-R9, R13-R15).
 *
 * Every charge is a plan (validate and compute the whole receipt, change
 * nothing) followed by an apply that cannot fail (R8): all allocation and
 * every check happens in the plan, so an error leaves the account exactly
 * as it was.  A later storage layer writes its journal between the two.
 *
 * The hot path: a charge in the newest day the category has seen reads
 * and writes its counters in two small records (quota__cur), finds its
 * package in O(log P) (package.c) and allocates nothing.
 */
#include "ctx.h"

#include <string.h>

#define NONE UINT32_MAX
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

typedef struct draw {
	quota_package *pk;
	uint32_t pos;
	int64_t units;
} draw;

/* The counters a charge reads, loaded once. */
typedef struct counts {
	int64_t cat_day, cat_month, all_day, all_month;
	int64_t free_day, free_month, free_life;
} counts;

typedef struct plan {
	int64_t units, free, pkg, payg, cost;
	int64_t day, month;
	uint32_t cat;
	bool hot; /* counters of this day live in the cur records */
	counts n;
	uint32_t ndraws; /* packages drawn; the first few are kept */
	draw d[QUOTA_RECEIPT_LINES];
	quota_receipt *r; /* may be NULL */
} plan;

static inline void add_line(plan *pl, int32_t source, uint32_t tier,
			    quota_package *pk, int64_t units, int64_t price,
			    int64_t cost)
{
	quota_receipt *r = pl->r;
	quota_receipt_line *l;

	if (!r)
		return;
	if (likely(r->nlines < QUOTA_RECEIPT_LINES)) {
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

/* Counters of the charge's day and month: straight from the current
 * records when the charge falls in their day, else from the table. */
static inline void load_counts(const quota_account *a, plan *pl)
{
	const quota__cur *c = a->cur[pl->cat], *g = a->cur[QUOTA__CAT_ALL];
	counts *n = &pl->n;
	unsigned cat = pl->cat;

	/* Same day implies same month: a record's month follows its day. */
	if (likely(c && g && c->day == pl->day && g->day == pl->day)) {
		pl->hot = true;
		n->cat_day = c->units_day;
		n->cat_month = c->units_month;
		n->all_day = g->units_day;
		n->all_month = g->units_month;
		n->free_day = c->free_day;
		n->free_month = c->free_month;
		n->free_life = c->free_life;
		return;
	}
	pl->hot = false;
	n->cat_day = quota__counter(a, QUOTA__CNT_UNITS_DAY, cat, pl->day);
	n->cat_month = quota__counter(a, QUOTA__CNT_UNITS_MONTH, cat,
				      pl->month);
	n->all_day = quota__counter(a, QUOTA__CNT_UNITS_DAY, QUOTA__CAT_ALL,
				    pl->day);
	n->all_month = quota__counter(a, QUOTA__CNT_UNITS_MONTH,
				      QUOTA__CAT_ALL, pl->month);
	n->free_day = quota__counter(a, QUOTA__CNT_FREE_DAY, cat, pl->day);
	n->free_month = quota__counter(a, QUOTA__CNT_FREE_MONTH, cat,
				       pl->month);
	n->free_life = quota__counter(a, QUOTA__CNT_FREE_LIFE, cat, 0);
}

/* Refuse a charge that would pass a cap (R9): caps count every unit. */
static int cap_refused(const quota_account *a, unsigned cat, const char *per,
		       int64_t cap, int64_t used, int64_t units)
{
	return quota__err(a->ctx, QUOTA_ECAP,
			  "account '%s': %s cap of %lld for %s reached "
			  "(%lld used, %lld asked)",
			  a->id, per, (long long)cap,
			  cat == QUOTA__CAT_ALL ? "all categories"
						: a->ctx->category[cat],
			  (long long)used, (long long)units);
}

static int check_caps(const quota_account *a, const plan *pl)
{
	const quota__cap *c = &a->caps[pl->cat], *g = &a->cap_all;
	int64_t u = pl->units;

	if (c->day >= 0 && u > c->day - pl->n.cat_day)
		return cap_refused(a, pl->cat, "daily", c->day, pl->n.cat_day,
				   u);
	if (c->month >= 0 && u > c->month - pl->n.cat_month)
		return cap_refused(a, pl->cat, "monthly", c->month,
				   pl->n.cat_month, u);
	if (g->day >= 0 && u > g->day - pl->n.all_day)
		return cap_refused(a, QUOTA__CAT_ALL, "daily", g->day,
				   pl->n.all_day, u);
	if (g->month >= 0 && u > g->month - pl->n.all_month)
		return cap_refused(a, QUOTA__CAT_ALL, "monthly", g->month,
				   pl->n.all_month, u);
	return QUOTA_OK;
}

/* Free units available for this charge (R15). */
static inline int64_t free_available(const quota_tariff *t, const plan *pl)
{
	int64_t avail, used;

	if (!t || t->free_units <= 0)
		return 0;
	used = t->free_period == QUOTA_PERIOD_DAY     ? pl->n.free_day
	       : t->free_period == QUOTA_PERIOD_MONTH ? pl->n.free_month
						      : pl->n.free_life;
	avail = t->free_units - used;
	if (t->free_daily > 0 && t->free_daily - pl->n.free_day < avail)
		avail = t->free_daily - pl->n.free_day;
	return avail > 0 ? avail : 0;
}

static int bad_usage(const quota_account *a, const quota_usage *u)
{
	quota_ctx *ctx = a->ctx;
	int rc;

	if (!u)
		return quota__err(ctx, QUOTA_EINVAL, "usage is NULL");
	if ((rc = quota__check_category(ctx, u->category)))
		return rc;
	if (u->units <= 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': units must be > 0, not %lld",
				  a->id, (long long)u->units);
	if (!quota__time_ok(u->at))
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': usage time %lld out of range",
				  a->id, (long long)u->at);
	return quota__err(ctx, QUOTA_EINVAL,
			  "account '%s': idempotency keys (R11) are not "
			  "supported yet; refusing rather than risk a double "
			  "charge",
			  a->id);
}

static int plan_charge(const quota_account *a, const quota_usage *u,
		       plan *pl)
{
	quota_ctx *ctx = a->ctx;
	const quota_tariff *t;
	const quota__pindex *ix;
	int64_t need;
	uint32_t cat;
	int rc;

	if (unlikely(!u || u->category >= ctx->ncategories || u->units <= 0 ||
		     !quota__time_ok(u->at) || u->key))
		return bad_usage(a, u);
	cat = pl->cat = u->category;
	pl->units = u->units;
	pl->day = quota__day_of(u->at + a->utc_offset);
	pl->month = quota__account_month(a, pl->day);
	load_counts(a, pl);

	/* Counters must not overflow; the account-wide month counter bounds
	 * every units counter this charge adds to. */
	if (unlikely(u->units > INT64_MAX - pl->n.all_month))
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "account '%s': monthly unit counter would "
				  "overflow",
				  a->id);
	if (a->cap_mask && (rc = check_caps(a, pl)))
		return rc;

	/* R1 (a): the free allowance. */
	t = a->tariff[cat];
	pl->free = free_available(t, pl);
	if (pl->free > pl->units)
		pl->free = pl->units;
	if (pl->free)
		add_line(pl, QUOTA_SOURCE_FREE, 0, NULL, pl->free, 0, 0);
	need = pl->units - pl->free;

	/* R1 (b), R2, R3: packages in burn order. */
	ix = a->pindex[cat];
	if (need && ix) {
		uint32_t pos = quota__pindex_head(ix, u->at);

		while (need && pos != NONE) {
			quota_package *pk = ix->pk[pos];
			int64_t take = pk->remaining < need ? pk->remaining
							    : need;

			if (likely(pl->ndraws < QUOTA_RECEIPT_LINES)) {
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
		rc = quota__tariff_price_lines(
			t, pl->n.cat_month + pl->free + pl->pkg, need,
			payg_line, pl, &pl->cost);
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
	quota__pindex *ix = a->pindex[pl->cat];
	int64_t left = pl->pkg;
	uint32_t i, kept;

	if (likely(pl->hot)) {
		quota__cur *c = a->cur[pl->cat], *g = a->cur[QUOTA__CAT_ALL];

		c->units_day += pl->units;
		c->units_month += pl->units;
		g->units_day += pl->units;
		g->units_month += pl->units;
		if (pl->free) {
			c->free_day += pl->free;
			c->free_month += pl->free;
			c->free_life += pl->free;
		}
	} else {
		quota__counter_charge(a, pl->cat, pl->day, pl->month,
				      pl->units, pl->free);
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

/*
 * The common case in one pass, with everything in registers: a charge in
 * the newest day its category has seen, covered by the free allowance,
 * at most one package and at most one pay-as-you-go tier, no STOP policy
 * in play, the R3 head hint valid.  Returns 0 to let the general plan /
 * apply path handle the charge (it decides before it changes anything, so
 * falling back is always safe), 1 when it applied (or quoted) it, or the
 * package the charge emptied, whose index entries the caller refreshes.
 * It calls nothing, so it needs no stack frame to speak of.
 */
__attribute__((noinline)) static intptr_t charge_fast(quota_account *a,
						     const quota_usage *u,
						     quota_receipt *r,
						     bool commit)
{
	const quota_ctx *ctx = a->ctx;
	uint32_t cat = u->category, nl = 0, pos = NONE;
	quota__cur *c, *g;
	const quota_tariff *t;
	quota__pindex *ix;
	quota_package *pk = NULL;
	int64_t units = u->units, at = u->at, day, f = 0, take = 0, need;
	int64_t cost = 0, price = 0;
	uint32_t tier = 0;

	if (cat >= ctx->ncategories || units <= 0 || !quota__time_ok(at) ||
	    u->key)
		return 0;
	day = quota__day_of(at + a->utc_offset);
	c = a->cur[cat];
	g = a->cur[QUOTA__CAT_ALL];
	if (!c || !g || c->day != day || g->day != day ||
	    units > INT64_MAX - g->units_month)
		return 0;
	/* R9 caps: let the general path word the refusal. */
	if (unlikely(a->cap_mask)) {
		if ((a->cap_mask & QUOTA_MASK(cat)) &&
		    ((a->caps[cat].day >= 0 &&
		      units > a->caps[cat].day - c->units_day) ||
		     (a->caps[cat].month >= 0 &&
		      units > a->caps[cat].month - c->units_month)))
			return 0;
		if ((a->cap_all.day >= 0 &&
		     units > a->cap_all.day - g->units_day) ||
		    (a->cap_all.month >= 0 &&
		     units > a->cap_all.month - g->units_month))
			return 0;
	}
	t = a->tariff[cat];
	if (t && t->free_units > 0) {
		int64_t used = t->free_period == QUOTA_PERIOD_DAY ? c->free_day
			       : t->free_period == QUOTA_PERIOD_MONTH
				       ? c->free_month
				       : c->free_life;

		f = t->free_units - used;
		if (t->free_daily > 0 && t->free_daily - c->free_day < f)
			f = t->free_daily - c->free_day;
		f = f < 0 ? 0 : f > units ? units : f;
	}
	need = units - f;
	ix = a->pindex[cat];
	if (need && ix) {
		if (ix->hint_gen != ix->gen || at < ix->hint_lo ||
		    at >= ix->hint_hi)
			return 0;
		pos = ix->hint_pos;
		if (pos != NONE) {
			pk = ix->pk[pos];
			take = pk->remaining < need ? pk->remaining : need;
			need -= take;
		}
	}
	if (need) {
		int64_t end, before = c->units_month + units - need;

		if ((a->stop_mask & QUOTA_MASK(cat)) || (ix && ix->nstop) ||
		    (pk && take == pk->remaining))
			return 0; /* STOP rules, or more packages may follow */
		if (t && t->ntiers) {
			end = before + need; /* <= all-month + units: no overflow */
			for (tier = 0; tier + 1 < t->ntiers; tier++)
				if (before + 1 <= t->up_to[tier])
					break;
			/* One tier only: the last unit must fall in it too. */
			if (t->mode == QUOTA_GRADUATED && tier + 1 < t->ntiers &&
			    end > t->up_to[tier])
				return 0;
			if (t->mode == QUOTA_VOLUME) {
				while (tier + 1 < t->ntiers &&
				       end > t->up_to[tier])
					tier++;
			}
			price = t->price[tier];
			if (quota__mul_ovf(need, price, &cost))
				return 0;
		}
	}
	if (r) {
		if (f) {
			quota_receipt_line *l = &r->lines[nl++];

			l->source = QUOTA_SOURCE_FREE;
			l->tier = 0;
			l->package_id = NULL;
			l->package = NULL;
			l->units = f;
			l->unit_price_micros = 0;
			l->cost_micros = 0;
		}
		if (take) {
			quota_receipt_line *l = &r->lines[nl++];

			l->source = QUOTA_SOURCE_PACKAGE;
			l->tier = 0;
			l->package_id = pk->id;
			l->package = pk;
			l->units = take;
			l->unit_price_micros = 0;
			l->cost_micros = 0;
		}
		if (need) {
			quota_receipt_line *l = &r->lines[nl++];

			l->source = QUOTA_SOURCE_PAYG;
			l->tier = tier;
			l->package_id = NULL;
			l->package = NULL;
			l->units = need;
			l->unit_price_micros = price;
			l->cost_micros = cost;
		}
		r->units = units;
		r->free_units = f;
		r->package_units = take;
		r->payg_units = need;
		r->payg_cost_micros = cost;
		r->category = cat;
		r->at = at;
		r->nlines = r->lines_total = nl;
	}
	if (commit) {
		c->units_day += units;
		c->units_month += units;
		g->units_day += units;
		g->units_month += units;
		if (f) {
			c->free_day += f;
			c->free_month += f;
			c->free_life += f;
		}
		if (take) {
			pk->remaining -= take;
			if (!pk->remaining) {
				a->ctx->errmsg[0] = '\0';
				return (intptr_t)pk;
			}
		}
	}
	a->ctx->errmsg[0] = '\0';
	return 1;
}

__attribute__((noinline, cold)) static int run(const quota_account *a,
					 const quota_usage *u,
					 quota_receipt *r, bool commit)
{
	plan pl;
	int rc;

	if (unlikely(!a)) {
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
	/* Room for the counters, so that apply cannot fail. */
	if (!rc && commit && !pl.hot &&
	    quota__counter_prepare((quota_account *)a, pl.cat))
		rc = quota__err(a->ctx, QUOTA_ENOMEM,
				"account '%s': out of memory", a->id);
	if (unlikely(rc)) {
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
	a->ctx->errmsg[0] = '\0';
	return QUOTA_OK;
}

int quota_charge(quota_account *a, const quota_usage *usage,
		 quota_receipt *receipt)
{
	intptr_t done;

	if (likely(a && usage)) {
		done = charge_fast(a, usage, receipt, true);
		if (likely(done == 1))
			return QUOTA_OK;
		if (done) {
			quota__package_refresh(a, (quota_package *)done);
			return QUOTA_OK;
		}
	}
	return run(a, usage, receipt, true);
}

int quota_quote(const quota_account *a, const quota_usage *usage,
		quota_receipt *receipt)
{
	if (likely(a && usage) &&
	    charge_fast((quota_account *)a, usage, receipt, false))
		return QUOTA_OK;
	return run(a, usage, receipt, false);
}
