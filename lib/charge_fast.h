/*
 * charge_fast.h - the charge fast path, expanded in place where it runs:
 * quota_charge and quota_quote (charge.c), keyed charges (keys.c) and
 * quota_reserve (hold.c), each with its mode as a constant.  A call, its
 * second prologue and the tests of the other modes cost a tenth of a
 * charge, so the body is here rather than behind a function.
 */
#ifndef QUOTA_CHARGE_FAST_H
#define QUOTA_CHARGE_FAST_H

#include "journal.h"

enum { QUOTA__FAST_QUOTE = 0, QUOTA__FAST_CHARGE = 1, QUOTA__FAST_HOLD = 2 };
/* Whether the fast path journals (§5), and how it checksums: no store;
 * a store, CRC-32C a byte a step; a store, the crc32 instruction
 * (quota__crc_hw). */
enum { QUOTA__J_NONE = 0, QUOTA__J_SW = 1, QUOTA__J_HW = 2 };

/* R9 caps on the fast path: would this charge pass one?  Then the general
 * path words the refusal. */
static inline __attribute__((always_inline)) bool
quota__fast_capped(const quota_account *a, const quota__cap *k,
		   const quota__cur *c, const quota__cur *g, int64_t units)
{
	const quota__cap *all = &a->x->cap_all;

	if ((k->day >= 0 && units > k->day - c->units_day) ||
	    (k->month >= 0 && units > k->month - c->units_month))
		return true;
	return (all->day >= 0 && units > all->day - g->units_day) ||
	       (all->month >= 0 && units > all->month - g->units_month);
}

/* Issue 16: a late report (charge.c), taken over by the fast path of a
 * charge where it finds the charge outside its category's current day,
 * so that the checks it made (the usage's fields, no key, hook, gate or
 * suspension, the cached offset; k, the category's entry, has a current
 * record, the account its own) are not made again: about a hundred
 * instructions of a late report's seven hundred.  Returns what the fast
 * path does (0: not applied, 1: charged, < 0: the store's refusal). */
int quota__late(quota_account *a, const quota_usage *u, quota_receipt *r,
		quota__cat *k);

/*
 * R1 (c), R7, R13, R14: the pay-as-you-go price of `need` units after
 * `before` units of cat's month, as the fast path and a late report
 * (charge.c) price them: false where they do not apply (STOP rules, or
 * more packages next; a graduated charge across tiers; an overflow), the
 * general path then prices.  pk, take: the package drawn, if any.
 */
static inline __attribute__((always_inline)) bool
quota__fast_payg(const quota_account *a, uint32_t cat,
		 const quota__pindex *ix, const quota_package *pk, int64_t take,
		 const quota_tariff *t, int64_t before, int64_t need,
		 uint32_t *tier, int64_t *price, int64_t *cost)
{
	int64_t end;

	if ((a->stop_mask & QUOTA_MASK(cat)) || (ix && ix->nstop) ||
	    (pk && take == pk->remaining))
		return false; /* STOP rules, or more packages next */
	if (t && t->ntiers) {
		/* <= all-month + units: no overflow */
		end = before + need;
		/* R14: volume prices all at the tier the total reaches;
		 * graduated must stay in one tier to take this path. */
		*tier = quota__tier_of(t, t->mode == QUOTA_VOLUME ? end
								 : before + 1);
		if (t->mode == QUOTA_GRADUATED &&
		    quota__tier_of(t, end) != *tier)
			return false;
		*price = t->price[*tier];
		if (quota__mul_ovf(need, *price, cost))
			return false;
	}
	return true;
}

/* One receipt line of the fast path. */
static inline void quota__fast_line(quota_receipt_line *l, int32_t source,
				    uint32_t tier, const quota_package *pk,
				    const char *pk_id, int64_t units,
				    int64_t price, int64_t cost)
{
	l->source = source;
	l->tier = tier;
	l->package_id = pk_id;
	l->package = pk;
	l->units = units;
	l->unit_price_micros = price;
	l->cost_micros = cost;
}

/* A receipt's totals: every receipt writer (the fast path, the general
 * fill, the one-draw commit) goes through this. */
static inline void quota__receipt_totals(quota_receipt *r, uint32_t cat,
					 int64_t at, int64_t units,
					 int64_t free, int64_t pkg,
					 int64_t payg, int64_t cost,
					 int32_t kind, uint64_t hold_id)
{
	r->units = units;
	r->free_units = free;
	r->package_units = pkg;
	r->payg_units = payg;
	r->payg_cost_micros = cost;
	r->category = cat;
	r->at = at;
	r->kind = kind;
	r->replayed = 0;
	r->hold_id = hold_id;
	r->fee_micros = 0;
	r->forfeited_units = 0;
	/* R27's fields: 0 unless the caller sets them after (a kept
	 * receipt's id, a release's reason); a commit or reservation left
	 * the caller's bytes in them. */
	r->receipt_id = 0;
	r->failure_reason = 0;
}

/* The same, from sources. */
static inline void quota__receipt_head(quota_receipt *r, const quota__src *s,
				       int32_t kind, uint64_t hold_id)
{
	quota__receipt_totals(r, s->cat, s->at, s->units, s->free, s->pkg,
			      s->payg, s->cost, kind, hold_id);
}

/* The receipt of a charge of at most one free, one package and one
 * pay-as-you-go line: the fast path's and a late report's (charge.c). */
static inline __attribute__((always_inline)) void
quota__fast_receipt(quota_receipt *r, uint32_t cat, int64_t at, int64_t units,
		    int64_t f, const quota_package *pk, int64_t take,
		    int64_t need, uint32_t tier, int64_t price, int64_t cost,
		    int32_t kind)
{
	uint32_t nl = 0;

	if (f)
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_FREE, 0, NULL,
				 NULL, f, 0, 0);
	if (take)
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_PACKAGE, 0, pk,
				 pk->id, take, 0, 0);
	if (need)
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_PAYG, tier, NULL,
				 NULL, need, price, cost);
	r->nlines = r->lines_total = nl;
	quota__receipt_totals(r, cat, at, units, f, take, need, cost, kind, 0);
}

/*
 * The common case of a charge in one pass (current day and ledger hour,
 * at most one package and one tier, no key, no hook, not suspended, no
 * gate bit: not blocked (R25), not keeping receipts (R27)):
 * QUOTE changes nothing, CHARGE charges, HOLD takes the units without
 * booking them in the ledger (a reservation).  0 when it did not apply
 * (the caller takes the general path), 1 when it did, and a negative code
 * when the store refused a charge's record (nothing changed).  r, if not NULL,
 * receives the receipt (a reservation's without its hold id); out, if not
 * NULL, the sources (one draw, one payg line: room given by the caller).
 *
 * Every caller passes mode, r or out as constants where it can, so each
 * gets its own straight-line copy with the other modes' tests gone.
 * journal (QUOTA__J_*, a constant too) follows ctx->store_on, tested by
 * the caller: the copy without a store has no call on the way of a charge
 * it serves in a cached hour (a late report's branch calls quota__late,
 * which journals by ctx->store_on itself, and a charge in a new hour
 * quota__ledger_next_hour, below).
 *
 * A charge (mode CHARGE) must fall in its category's cached ledger hour
 * and, if it draws a package, the cached package (quota__ledger_hit), so
 * that booking it is four additions to the category's record; without a
 * store, a charge in an hour after every row of the ledger gets that
 * hour's rows made and cached first (quota__ledger_next_hour), and is
 * planned again.
 *
 * key, klen: a keyed charge's key (keys.c, checked; u itself comes
 * without it, as the path serves no key), which only its record carries
 * (journal set); NULL and 0 for every other caller.
 */
static inline __attribute__((always_inline)) int
quota__fast(quota_account *a, const quota_usage *u, quota_receipt *r,
	    const int mode, quota__src *out, int64_t timeout, const int journal,
	    const char *key, size_t klen)
{
plan:; /* again, once: a new hour's rows made (below) */
	quota_ctx *ctx = a->ctx;
	const uint32_t cat = u->category;
	int64_t units = u->units, at = u->at;
	int64_t day, f, take = 0, need, cost = 0, price = 0;
	uint32_t tier = 0;
	uintptr_t full = 0; /* 1: ix is the full form (its head hint held) */
	quota__cat *k;
	quota__cur *c, *g;
	const quota_tariff *t;
	const quota__pindex *ix;
	quota_package *pk = NULL;

	/* Two loads of their own: a compiler may read units and at as one
	 * 16-byte load, which the caller's two 8-byte stores of them cannot
	 * forward to (a stall of a quarter of a journaled charge). */
	__asm__("" : "+r"(units), "+r"(at));
	/* Categories are never removed, so one charged before (c != NULL
	 * below) is valid; the general path words every refusal. */
	if (cat >= QUOTA_MAX_CATEGORIES || units <= 0 || !quota__time_ok(at) ||
	    u->key || ctx->hook || a->suspended || a->gate ||
	    at < a->pruned_before)
		return 0;
	/* R26: the offset in force at `at` is the cached one (always, with a
	 * fixed offset); outside its interval the general path looks the
	 * zone up, so no call here (and no stack frame). */
	if (__builtin_expect((uint64_t)at - (uint64_t)a->off_lo >= a->off_span,
			     0))
		return 0;
	day = quota__day_of(at + a->utc_offset);
	k = quota__cat_of(a, cat);
	/* Issue 13: a charge from a package reads the cached ledger row's
	 * package (quota__ledger_hit), and it is known here, one miss before
	 * the R3 index names it: fetched now, the two misses overlap.  A
	 * hint only (a stale pointer is never read through). */
	if (k && k->cur.lr_pk)
		quota__hint_w(&k->cur.lr_pk->remaining);
	if (!k || !k->has_cur || !a->has_all)
		return 0;
	g = quota__catblock_all(quota__catblock_of(a)); /* k: there is one */
	/* Another day: mostly a late report (R2), which a charge that
	 * gives back no sources (not keys.c's) goes on with, its checks
	 * made; a newer day comes back with 0, for the general path. */
	if ((c = &k->cur)->day != day || g->day != day)
		return mode == QUOTA__FAST_CHARGE && !out
			       ? quota__late(a, u, r, k)
			       : 0;
	if (units > INT64_MAX - g->units_month)
		return 0;
	if (__builtin_expect(a->capped, 0) &&
	    quota__fast_capped(a, &k->cap, c, g, units))
		return 0;
	t = k->tariff;
	f = quota__free_avail(t, units, &c->free);
	need = units - f;
	ix = k->pindex;
	if (need && ix) {
		/* The small form fails the first test (quota__pindex). */
		if (ix->hint_gen != ix->gen || at < ix->hint_lo ||
		    at >= ix->hint_hi) {
			uint32_t pos;

			if (!quota__pindex_small(ix))
				return 0;
			pos = quota__psmall_first(ix, 0, at);
			pk = pos != UINT32_MAX ? ix->pk[pos] : NULL;
		} else {
			pk = ix->hint_pk;
			full = 1;
		}
		if (pk) {
			take = pk->remaining < need ? pk->remaining : need;
			need -= take;
		}
	}
	if (need && !quota__fast_payg(a, cat, ix, pk, take, t,
				      c->units_month + units - need, need,
				      &tier, &price, &cost))
		return 0;
	/* R17, R22: a charge books its sources in the ledger's cached hour.
	 * A quote must refuse what the charge would: a cost the hour's total
	 * cannot take (R8), which it can tell only for the cached hour. */
	if (mode == QUOTA__FAST_CHARGE &&
	    !quota__ledger_hit(c, at, pk, take, cost)) {
		/* Without a store nothing can refuse the charge now: in an
		 * hour after every row of the ledger, its rows are made and
		 * cached, and the charge planned again (the same plan; the
		 * second time the hour is cached, and no longer after every
		 * row).  Planning again keeps the plan's values out of
		 * registers that must outlive the call. */
		if (journal || !quota__ledger_next_hour(a, c, cat, at,
							take ? pk : NULL))
			return 0;
		goto plan;
	}
	if (mode == QUOTA__FAST_QUOTE && cost &&
	    !quota__ledger_fits(c, at, cost))
		return 0;
	/* §5: the same record as the general path, before anything moves;
	 * the store's refusal is the call's. */
	if (journal) {
		int rc = quota__fast_rec(a, u, mode == QUOTA__FAST_HOLD
						       ? QUOTA__R_RESERVE
						       : QUOTA__R_CHARGE,
					 timeout, f, pk, take, need, tier,
					 price, cost, key, klen,
					 journal == QUOTA__J_HW);

		/* a refusal is a QUOTA_E* code, negative (journal.h);
		 * made sure of, so that a caller's test of the answer's
		 * sign (keys.c) knows `out` is written when it is positive */
		if (rc)
			return rc < 0 ? rc : QUOTA_ESTORE;
	}

	if (r)
		quota__fast_receipt(r, cat, at, units, f, pk, take, need, tier,
				    price, cost,
				    mode == QUOTA__FAST_HOLD
					    ? QUOTA_RECEIPT_RESERVE
					    : QUOTA_RECEIPT_CHARGE);
	if (out) { /* a reservation or key record keeps its sources */
		out->units = units;
		out->free = f;
		out->pkg = take;
		out->payg = need;
		out->cost = cost;
		out->at = at;
		out->day = c->day; /* == day */
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
	ctx->errmsg[0] = '\0';
	if (mode == QUOTA__FAST_QUOTE)
		return 1;
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
	/* Issue 13: what quota_account_find fetches early next time (bit 0:
	 * the index's head hint, a line of its own, is read too). */
	a->hot_ix = (uintptr_t)ix | full;
	a->hot_pk = (uintptr_t)pk;
	/* An emptied package moves in the R3 index: rare, so after the rest. */
	if (take && !(pk->remaining -= take))
		quota__package_refresh(a, pk);
	return 1;
}

#endif /* QUOTA_CHARGE_FAST_H */
