/*
 * charge.c - quota_charge and quota_quote (R1-R9, R13-R15), and the plan /
 * apply machinery that reservations (hold.c) share.
 *
 * Every charge is a plan (validate and compute the whole receipt, change
 * nothing) followed by an apply that cannot fail (R8): all allocation and
 * every check happens in the plan, so an error leaves the account exactly
 * as it was.  A later storage layer writes its journal between the two.
 *
 * The hot path: a charge in the newest day the category has seen reads
 * and writes its counters in two small records (quota__cur), finds its
 * package through the R3 head hint and allocates nothing
 * (quota__charge_fast, which quota_reserve uses too).
 */
#include "ctx.h"

#include <string.h>

#define NONE UINT32_MAX
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* pl->cnt: the counters a plan reads, loaded once. */
enum { CAT_DAY, CAT_MONTH, ALL_DAY, ALL_MONTH };

/* Counters of the charge's day and month: straight from the current
 * records when the charge falls in their day, else from the table. */
static void load_counts(const quota_account *a, quota__plan *pl)
{
	const quota__cur *c = a->cur[pl->s.cat], *g = a->cur[QUOTA__CAT_ALL];
	const quota_tariff *t = a->tariff[pl->s.cat];
	int64_t *n = pl->cnt, day = pl->s.day, month = pl->s.month;
	unsigned cat = pl->s.cat;

	/* Same day implies same month: a record's month follows its day. */
	if (c && g && c->day == day && g->day == day) {
		n[CAT_DAY] = c->units_day;
		n[CAT_MONTH] = c->units_month;
		n[ALL_DAY] = g->units_day;
		n[ALL_MONTH] = g->units_month;
		pl->fu = c->free;
		return;
	}
	/* Another period (a late report, a new day): look up only what the
	 * caps, the free allowance, the volume and the overflow check read. */
	memset(n, 0, 4 * sizeof *n);
	memset(&pl->fu, 0, sizeof pl->fu);
	n[CAT_MONTH] = quota__counter(a, QUOTA__CNT_UNITS_MONTH, cat, month);
	n[ALL_MONTH] = quota__counter(a, QUOTA__CNT_UNITS_MONTH,
				      QUOTA__CAT_ALL, month);
	if (a->caps[cat].day >= 0)
		n[CAT_DAY] = quota__counter(a, QUOTA__CNT_UNITS_DAY, cat, day);
	if (a->cap_all.day >= 0)
		n[ALL_DAY] = quota__counter(a, QUOTA__CNT_UNITS_DAY,
					    QUOTA__CAT_ALL, day);
	if (t && t->free_units > 0) {
		if (t->free_period == QUOTA_PERIOD_DAY || t->free_daily > 0)
			pl->fu.day = quota__counter(a, QUOTA__CNT_FREE_DAY,
						     cat, day);
		if (t->free_period == QUOTA_PERIOD_MONTH)
			pl->fu.month = quota__counter(
				a, QUOTA__CNT_FREE_MONTH, cat, month);
		if (t->free_period == QUOTA_PERIOD_LIFETIME)
			pl->fu.life = quota__counter(a, QUOTA__CNT_FREE_LIFE,
						      cat, 0);
	}
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

static int check_caps(const quota_account *a, const quota__plan *pl)
{
	const quota__cap *c = &a->caps[pl->s.cat], *g = &a->cap_all;
	const int64_t *n = pl->cnt;
	int64_t u = pl->s.units;

	if (c->day >= 0 && u > c->day - n[CAT_DAY])
		return cap_refused(a, pl->s.cat, "daily", c->day, n[CAT_DAY],
				   u);
	if (c->month >= 0 && u > c->month - n[CAT_MONTH])
		return cap_refused(a, pl->s.cat, "monthly", c->month,
				   n[CAT_MONTH], u);
	if (g->day >= 0 && u > g->day - n[ALL_DAY])
		return cap_refused(a, QUOTA__CAT_ALL, "daily", g->day,
				   n[ALL_DAY], u);
	if (g->month >= 0 && u > g->month - n[ALL_MONTH])
		return cap_refused(a, QUOTA__CAT_ALL, "monthly", g->month,
				   n[ALL_MONTH], u);
	return QUOTA_OK;
}


int quota__check_key(quota_ctx *ctx, const char *key)
{
	size_t n, bad;

	if (!key)
		return QUOTA_OK;
	n = strlen(key);
	if (n == 0 || n > QUOTA_KEY_MAX)
		return quota__err(ctx, QUOTA_EINVAL,
				  "idempotency key must be 1 to %d bytes, not "
				  "%zu",
				  QUOTA_KEY_MAX, n);
	if (!quota__utf8_valid(key, n, &bad))
		return quota__err(ctx, QUOTA_EENCODING,
				  "idempotency key: invalid UTF-8 at byte %zu",
				  bad);
	return QUOTA_OK;
}

static void payg_line(void *ud, uint32_t tier, int64_t units, int64_t price,
		      int64_t cost)
{
	quota__plan *pl = ud;
	quota__payg *l = &pl->paygs[pl->s.npayg++];

	l->tier = tier;
	l->units = units;
	l->price = price;
	l->cost = cost;
}

int quota__plan_usage(const quota_account *a, const quota_usage *u,
		      quota__plan *pl)
{
	quota_ctx *ctx = a->ctx;
	const quota_tariff *t;
	const quota__pindex *ix;
	quota__src *s = &pl->s;
	int64_t need;
	uint32_t cat;
	int rc;

	memset(s, 0, sizeof *s);
	s->paygs = pl->paygs;
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
	if (a->suspended) /* R18: nothing new until a top-up pays */
		return quota__err(ctx, QUOTA_ESUSPENDED,
				  "account '%s' is suspended: %lld micros "
				  "outstanding",
				  a->id, (long long)a->outstanding);
	cat = s->cat = u->category;
	s->units = u->units;
	s->at = u->at;
	s->day = quota__day_of(u->at + a->utc_offset);
	s->month = quota__account_month(a, s->day);
	load_counts(a, pl);

	/* Counters must not overflow; the account-wide month counter bounds
	 * every units counter this charge adds to. */
	if (u->units > INT64_MAX - pl->cnt[ALL_MONTH])
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "account '%s': monthly unit counter would "
				  "overflow",
				  a->id);
	if (a->cap_mask && (rc = check_caps(a, pl)))
		return rc;

	/* R1 (a): the free allowance. */
	t = a->tariff[cat];
	s->free = quota__free_avail(t, s->units, &pl->fu);
	need = s->units - s->free;

	/* R1 (b), R2, R3: packages in burn order, every draw kept. */
	ix = a->pindex[cat];
	if (need && ix) {
		uint32_t pos;

		/* Room for every package was made when it was added. */
		s->draws = ctx->scratch;
		pos = quota__pindex_head(ix, u->at);
		while (need && pos != NONE) {
			quota_package *pk = ix->pk[pos];
			int64_t take = pk->remaining < need ? pk->remaining
							    : need;
			quota__draw *d = &s->draws[s->ndraws++];

			d->pk = pk;
			d->units = take;
			s->pkg += take;
			need -= take;
			if (need)
				pos = quota__pindex_first(ix, pos + 1, u->at);
		}
	}

	/* R1 (c), R7: pay-as-you-go unless the category stops here. */
	s->payg = need;
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
			t, pl->cnt[CAT_MONTH] + s->free + s->pkg, need,
			payg_line, pl, &s->cost);
		if (rc)
			return quota__err(ctx, rc,
					  "account '%s': cost of %lld units "
					  "overflows",
					  a->id, (long long)need);
	}
	return QUOTA_OK;
}

int quota__plan_prepare(quota_account *a, quota__plan *pl)
{
	/* Room for the counters and the events, so apply cannot fail. */
	if (quota__counter_prepare(a, pl->s.cat) || quota__events_reserve(a))
		return quota__err(a->ctx, QUOTA_ENOMEM,
				  "account '%s': out of memory", a->id);
	return QUOTA_OK;
}

void quota__plan_apply(quota_account *a, quota__plan *pl)
{
	const quota__src *s = &pl->s;
	bool track = quota__track(a);
	uint32_t i;

	if (track)
		quota__clock(a, s->at);
	else if (s->at > a->clock)
		a->clock = s->at;
	quota__counter_charge(a, s->cat, s->day, s->month, s->units, s->free);
	for (i = 0; i < s->ndraws; i++) {
		quota_package *pk = s->draws[i].pk;
		int64_t before = pk->remaining;

		pk->remaining -= s->draws[i].units;
		if (pk->remaining == 0) /* once per package: R3 index */
			quota__package_refresh(a, pk);
		if (track)
			quota__track_units(a, pk, before);
	}
	if (track)
		quota__track_caps(a, s->cat, s->day, s->month, s->units);
}

void quota__receipt_fill(quota_receipt *r, const quota__src *s, int32_t kind)
{
	uint32_t i, nl = 0, total = 0;

	if (!r)
		return;
	r->units = s->units;
	r->free_units = s->free;
	r->package_units = s->pkg;
	r->payg_units = s->payg;
	r->payg_cost_micros = s->cost;
	r->category = s->cat;
	r->at = s->at;
	r->kind = kind;
	r->replayed = 0;
	r->hold_id = 0;
	r->fee_micros = 0;
	r->forfeited_units = 0;
	/* Lines: FREE, each PACKAGE in draw order, each PAYG tier; counted in
	 * locals so the stores need no reloads. */
#define LINE(src_, tier_, pk_, units_, price_, cost_)                        \
	do {                                                                 \
		if (nl < QUOTA_RECEIPT_LINES) {                              \
			quota_receipt_line *l = &r->lines[nl++];             \
			l->source = (src_);                                  \
			l->tier = (tier_);                                   \
			l->package = (pk_);                                  \
			l->package_id = (pk_) ? (pk_)->id : NULL;            \
			l->units = (units_);                                 \
			l->unit_price_micros = (price_);                     \
			l->cost_micros = (cost_);                            \
		}                                                            \
		total++;                                                     \
	} while (0)
	if (s->free)
		LINE(QUOTA_SOURCE_FREE, 0, (quota_package *)NULL, s->free, 0, 0);
	for (i = 0; i < s->ndraws; i++)
		if (s->draws[i].units)
			LINE(QUOTA_SOURCE_PACKAGE, 0, s->draws[i].pk,
			     s->draws[i].units, 0, 0);
	for (i = 0; i < s->npayg; i++)
		if (s->paygs[i].units)
			LINE(QUOTA_SOURCE_PAYG, s->paygs[i].tier,
			     (quota_package *)NULL, s->paygs[i].units,
			     s->paygs[i].price, s->paygs[i].cost);
#undef LINE
	r->nlines = nl;
	r->lines_total = total;
}

__attribute__((noinline)) intptr_t quota__charge_fast(quota_account *a,
						     const quota_usage *u,
						     quota_receipt *r,
						     int mode,
						     quota__src *out)
{
	const bool commit = mode != QUOTA__FAST_QUOTE;
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
	    u->key || ctx->hook || a->suspended)
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
	f = quota__free_avail(t, units, &c->free);
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
			/* R14: volume prices all at the tier the total reaches;
			 * graduated must stay in one tier to take this path. */
			tier = quota__tier_of(t, t->mode == QUOTA_VOLUME
							 ? end
							 : before + 1);
			if (t->mode == QUOTA_GRADUATED &&
			    quota__tier_of(t, end) != tier)
				return 0;
			price = t->price[tier];
			if (quota__mul_ovf(need, price, &cost))
				return 0;
		}
	}
	/* R17, R22: a charge books its sources in the ledger's cached hour. */
	if (mode == QUOTA__FAST_CHARGE && !quota__ledger_hit(c, at, pk, take))
		return 0;
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
		r->kind = mode == QUOTA__FAST_HOLD ? QUOTA_RECEIPT_RESERVE
						   : QUOTA_RECEIPT_CHARGE;
		r->replayed = 0;
		r->hold_id = 0;
		r->fee_micros = 0;
		r->forfeited_units = 0;
	}
	if (out) { /* a reservation keeps its sources (hold.c) */
		out->units = units;
		out->free = f;
		out->pkg = take;
		out->payg = need;
		out->cost = cost;
		out->at = at;
		out->day = day;
		out->month = c->month;
		out->cat = cat;
		out->ndraws = take ? 1 : 0;
		out->draws[0].pk = pk;
		out->draws[0].units = take;
		out->npayg = need ? 1 : 0;
		out->paygs[0].tier = tier;
		out->paygs[0].units = need;
		out->paygs[0].price = price;
		out->paygs[0].cost = cost;
	}
	if (commit) {
		if (at > a->clock)
			a->clock = at;
		c->units_day += units;
		c->units_month += units;
		g->units_day += units;
		g->units_month += units;
		if (f) {
			c->free.day += f;
			c->free.month += f;
			c->free.life += f;
		}
		if (mode == QUOTA__FAST_CHARGE)
			quota__ledger_add(c, f, take, need, cost);
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


/* Does a stored key record match this charge?  (R11) */
static bool same_charge(const quota__keyrec *k, const quota_usage *u)
{
	return k->op == QUOTA__OP_CHARGE && k->p_cat == u->category &&
	       k->p_units == u->units && k->p_at == u->at;
}

__attribute__((noinline, cold)) static int run(const quota_account *ca,
					       const quota_usage *u,
					       quota_receipt *r, bool commit)
{
	quota_account *a = (quota_account *)ca;
	quota__keyrec *rec = NULL;
	quota__plan pl;
	int rc;

	if (unlikely(!a)) {
		if (r)
			memset(r, 0, sizeof *r);
		return QUOTA_EINVAL;
	}
	if (u && u->key) {
		const quota__keyrec *k;

		if ((rc = quota__check_key(a->ctx, u->key)))
			goto fail;
		k = quota__key_find(a, u->key);
		if (k)
			return quota__key_replay(a, k, same_charge(k, u), r);
		/* A new key in the common case: the fast path charges straight
		 * into a recycled small record. */
		if (commit && !a->ctx->hook && !quota__key_reserve(a) &&
		    (rec = quota__key_small(a, u->key))) {
			quota_usage plain = *u;
			intptr_t done;

			plain.key = NULL;
			done = quota__charge_fast(a, &plain, r,
						  QUOTA__FAST_CHARGE,
						  &rec->box.src);
			if (done) {
				if (done != 1)
					quota__package_refresh(
						a, (quota_package *)done);
				rec->op = QUOTA__OP_CHARGE;
				rec->kind = QUOTA_RECEIPT_CHARGE;
				rec->p_cat = u->category;
				rec->p_units = u->units;
				rec->p_at = u->at;
				rec->time = u->at;
				quota__key_store(a, rec);
				return QUOTA_OK;
			}
			quota__key_unused(a, rec);
			rec = NULL;
		}
	}
	if ((rc = quota__plan_usage(a, u, &pl)))
		goto fail;
	if (commit) {
		if ((rc = quota__plan_prepare(a, &pl)) ||
		    (rc = quota__ledger_prepare(a, &pl.s, false)))
			goto fail;
		if (u->key) {
			if (quota__key_reserve(a) ||
			    !(rec = quota__key_new(a, u->key, &pl.s))) {
				rc = quota__err(a->ctx, QUOTA_ENOMEM,
						"account '%s': out of memory",
						a->id);
				goto fail;
			}
			rec->op = QUOTA__OP_CHARGE;
			rec->kind = QUOTA_RECEIPT_CHARGE;
			rec->p_cat = u->category;
			rec->p_units = u->units;
			rec->p_at = u->at;
			rec->time = u->at;
		}
		quota__plan_apply(a, &pl);
		quota__ledger_apply(a, &pl.s, 1, 0, 0);
		if (rec)
			quota__key_store(a, rec);
	}
	quota__receipt_fill(r, &pl.s, QUOTA_RECEIPT_CHARGE);
	a->ctx->errmsg[0] = '\0';
	if (commit)
		quota__events_flush(a);
	return QUOTA_OK;
fail:
	if (r)
		memset(r, 0, sizeof *r);
	return rc;
}

int quota_charge(quota_account *a, const quota_usage *usage,
		 quota_receipt *receipt)
{
	intptr_t done;

	if (likely(a && usage)) {
		done = quota__charge_fast(a, usage, receipt,
					  QUOTA__FAST_CHARGE, NULL);
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
	    quota__charge_fast((quota_account *)a, usage, receipt,
			       QUOTA__FAST_QUOTE, NULL))
		return QUOTA_OK;
	return run(a, usage, receipt, false);
}
