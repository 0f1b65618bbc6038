/*
 * ledger.c - the usage ledger (R17, R22): units and money per local hour,
 * category and source, kept as charges apply.
 *
 * Reports (report.c) aggregate its rows; settlement (settle.c) bills the
 * part of each row it has not taken in yet (units - billed_units, cost -
 * billed_cost), finding those rows through the dirty list instead of
 * scanning a year of hours.  A row is on the dirty list from its creation
 * until a settlement takes it in, and goes back on when a late charge or
 * a reversal changes it.
 *
 * The hot path: each category's current record (quota__cur) caches the
 * rows of its newest hour, and a charge in that hour adds to counters in
 * that record (quota__ledger_hit / quota__ledger_add in ctx.h), folded into
 * the rows before anything reads them (quota__ledger_fold).
 *
 * A plan's prepare step only makes room (rows, table, dirty list) and
 * finds the rows that exist; the apply that follows creates the missing
 * ones in that room, so it never allocates, and a call refused after its
 * prepare (a key record it could not allocate) leaves no row behind.
 */
#include "late.h"

#include <string.h>

#define NONE UINT32_MAX

#define row_hash quota__ledger_hash

/* A table slot's layout: quota__ledger_tag.  A slot keeps 24 bits of a
 * row's index + 1, so room() keeps an account under ROWS_MAX rows:
 * 2^24 - 3 at most (quota_charge(3), QUOTA_EOVERFLOW). */
#define IDX_MASK QUOTA__LIDX_MASK
#define ROWS_MAX (IDX_MASK - 1)
#define row_tag quota__ledger_tag

uint32_t quota__ledger_find(const quota__ledger *l, int64_t hour, uint32_t cat,
			    uint32_t src)
{
	uint64_t h = row_hash(hour, cat, src);
	uint32_t mask, i, e, tag = row_tag(h);

	if (!l->tab_cap)
		return NONE;
	mask = l->tab_cap - 1;
	for (i = (uint32_t)h & mask; (e = l->tab[i]); i = (i + 1) & mask) {
		const quota__lrow *r;

		if ((e & ~IDX_MASK) != tag)
			continue;
		r = &l->rows[(e & IDX_MASK) - 1];
		if (r->hour == hour && r->cat == cat && r->src == src)
			return (e & IDX_MASK) - 1;
	}
	return NONE;
}

static void tab_put(uint32_t *tab, uint32_t cap, const quota__lrow *r,
		    uint32_t idx)
{
	uint64_t h = row_hash(r->hour, r->cat, r->src);
	uint32_t mask = cap - 1, i;

	for (i = (uint32_t)h & mask; tab[i]; i = (i + 1) & mask)
		;
	tab[i] = row_tag(h) | (idx + 1);
}

/* Whether the array, the table and the dirty list have room for `extra`
 * more rows already, under the row limit: room() then neither refuses
 * nor allocates (quota__ledger_next_hour asks it before making rows). */
static inline bool room_ready(const quota__ledger *l, uint32_t extra)
{
	return (uint64_t)l->nrows + extra < ROWS_MAX &&
	       (size_t)l->nrows + extra <= l->cap_rows &&
	       (size_t)l->ndirty + extra <= l->cap_dirty &&
	       ((uint64_t)l->nrows + extra) * 2 <= l->tab_cap;
}

/* Room for `extra` more rows in the array, the table and the dirty list. */
static int room(quota_account *a, uint32_t extra)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__ledger *l = &a->ledger;
	uint32_t i;

	if ((uint64_t)l->nrows + extra >= ROWS_MAX)
		return QUOTA_EOVERFLOW;
	if (room_ready(l, extra))
		return QUOTA_OK;
	if (quota__grow32(mem, (void **)&l->rows, &l->cap_rows,
			  (size_t)l->nrows + extra, sizeof *l->rows) ||
	    quota__grow32(mem, (void **)&l->dirty, &l->cap_dirty,
			  (size_t)l->ndirty + extra, sizeof *l->dirty))
		return QUOTA_ENOMEM;
	if (((uint64_t)l->nrows + extra) * 2 > l->tab_cap) {
		uint32_t cap = l->tab_cap ? l->tab_cap : 64;
		uint32_t *tab;

		while (((uint64_t)l->nrows + extra) * 2 > cap)
			cap *= 2;
		tab = quota__calloc(mem, cap, sizeof *tab);
		if (!tab)
			return QUOTA_ENOMEM;
		for (i = 0; i < l->nrows; i++)
			tab_put(tab, cap, &l->rows[i], i);
		quota__free(mem, l->tab);
		l->tab = tab;
		l->tab_cap = cap;
	}
	return QUOTA_OK;
}

/* Every ledger hour fits hour_hi's 32 bits: a valid time's local day
 * (an offset of at most 18 hours) times a zone's 64 hours a day
 * (QUOTA__ZONE_HOURS), about 188 million at most. */
_Static_assert((QUOTA_TIME_MAX + QUOTA__OFF_MAX) / QUOTA__DAY * QUOTA__ZONE_HOURS +
			       QUOTA__ZONE_HOURS <
		       INT32_MAX &&
	       (QUOTA_TIME_MIN - QUOTA__OFF_MAX) / QUOTA__DAY * QUOTA__ZONE_HOURS -
			       QUOTA__ZONE_HOURS >
		       INT32_MIN,
	       "ledger hours fit 32 bits");

/* A row of hour is made: hour_hi (ctx.h) stays at or above every row's
 * hour (rows dropped later leave it above them, which is still true). */
static inline void note_hour(quota__ledger *l, int64_t hour)
{
	if (hour > l->hour_hi)
		l->hour_hi = (int32_t)hour;
}

/* The row of (hour, cat, src) that prepare found (i), or a new one,
 * empty and dirty; prepare's room() made space for it. */
static uint32_t row_get(quota__ledger *l, uint32_t i, int64_t hour,
			uint32_t cat, uint32_t src, const quota_package *pk)
{
	quota__lrow *r;

	if (i != NONE)
		return i;
	i = l->nrows++;
	note_hour(l, hour);
	r = &l->rows[i];
	memset(r, 0, sizeof *r);
	r->hour = hour;
	r->cat = cat;
	r->src = src;
	r->pk = pk;
	r->dirty = true;
	l->dirty[l->ndirty++] = i;
	tab_put(l->tab, l->tab_cap, r, i);
	return i;
}

/* Money is overflow-checked: would adding cost to the hour's
 * pay-as-you-go total of s's category (with what fast charges added since
 * the last fold), or fee to its fee total, overflow?  Reads only: quotes
 * ask it too.  payg, fee: the rows, or NONE where there is none yet. */
static int check_totals(const quota_account *a, const quota__src *s,
			uint32_t payg, uint32_t fee_row, int64_t cost,
			int64_t fee)
{
	const quota__ledger *l = &a->ledger;
	const quota__cur *c = quota__cur_of(a, s->cat);
	int64_t tot = payg != NONE ? l->rows[payg].cost : 0, x;

	if (payg != NONE && c && c->lh_lo != INT64_MIN && c->lr_payg == payg)
		tot += c->p_cost; /* <= the row's headroom */
	if ((cost > 0 && quota__add_ovf(tot, cost, &x)) ||
	    (fee && fee_row != NONE &&
	     quota__add_ovf(l->rows[fee_row].cost, fee, &x)))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "account '%s': the hour's pay-as-you-go or "
				  "fee total would overflow",
				  a->id);
	return QUOTA_OK;
}

int quota__ledger_check(const quota_account *a, const quota__src *s,
			int64_t cost)
{
	const quota__ledger *l = &a->ledger;

	if (cost <= 0)
		return QUOTA_OK;
	return check_totals(a, s,
			    quota__ledger_find(l, quota__hour_of(a, s->at),
					       s->cat, QUOTA__LSRC_PAYG),
			    NONE, cost, 0);
}

int quota__ledger_prepare(quota_account *a, const quota__src *s,
			  int64_t cost, int64_t fee)
{
	quota__ledger *l = &a->ledger;
	int64_t hour = quota__hour_of(a, s->at);
	uint32_t i, prev, need = 3 + s->ndraws;
	int rc;

	/* Every row this source touches may be new, or settled and about to
	 * go back on the dirty list: room for both. */
	if ((rc = room(a, need)) ||
	    quota__grow32(&a->ctx->mem, (void **)&l->dirty, &l->cap_dirty,
			  (size_t)l->ndirty + 2 * need, sizeof *l->dirty) ||
	    quota__grow(&a->ctx->mem, (void **)&a->ctx->lp_pkg, &a->ctx->cap_lp,
			s->ndraws ? s->ndraws : 1, sizeof *a->ctx->lp_pkg))
		return quota__err(a->ctx, rc ? rc : QUOTA_ENOMEM,
				  "account '%s': %s", a->id,
				  rc == QUOTA_EOVERFLOW
					  ? "ledger has too many rows"
					  : "out of memory");
	/* The rows that exist; apply creates the others (NONE here).  An
	 * hour's rows are made together, free, pay-as-you-go, then the
	 * packages drawn, so after the first each is looked for next to
	 * the one before (quota__lrow_next) before the table is asked. */
	a->ctx->lp_free = quota__ledger_find(l, hour, s->cat, QUOTA__LSRC_FREE);
	a->ctx->lp_payg = quota__lrow_next(l, a->ctx->lp_free, hour, s->cat,
					   QUOTA__LSRC_PAYG);
	a->ctx->lp_fee = fee ? quota__ledger_find(l, hour, s->cat,
					       QUOTA__LSRC_FEE)
			  : NONE;
	if ((rc = check_totals(a, s, a->ctx->lp_payg, a->ctx->lp_fee, cost, fee)))
		return rc;
	for (i = 0, prev = a->ctx->lp_payg; i < s->ndraws; i++)
		prev = a->ctx->lp_pkg[i] =
			quota__lrow_next(l, prev, hour, s->cat,
					 QUOTA__LSRC_PKG + s->draws[i].pk->seq);
	return QUOTA_OK;
}

/* How far fast charges may take p_cost before the cached pay-as-you-go
 * row's total could overflow (costs are >= 0; checked in prepare). */
static void set_room(const quota__ledger *l, quota__cur *c)
{
	int64_t cost = l->rows[c->lr_payg].cost;

	c->p_room = INT64_MAX - (cost > 0 ? cost : 0);
}

/* Move what fast charges added to c's cached rows into them. */
static void fold(quota__ledger *l, quota__cur *c)
{
	quota__lrow *r = l->rows;

	if (c->lh_lo == INT64_MIN)
		return;
	r[c->lr_free].units += c->p_free;
	r[c->lr_payg].units += c->p_payg;
	r[c->lr_payg].cost += c->p_cost;
	if (c->lr_pk)
		r[c->lr_pkg].units += c->p_pkg;
	c->p_free = c->p_pkg = c->p_payg = c->p_cost = 0;
	set_room(l, c);
}

/* The rows of hour (free units fr, pay-as-you-go pr, package kpk's kr
 * or NONE), the newest, become c's cache; what fast charges added to the
 * hour cached before goes into its rows. */
static void cache(quota_account *a, quota__cur *c, int64_t hour, uint32_t fr,
		  uint32_t pr, uint32_t kr, const quota_package *kpk)
{
	quota__ledger *l = &a->ledger;

	if (c->lh_lo == INT64_MIN || hour != quota__hour_of(a, c->lh_lo)) {
		fold(l, c);
		c->lr_pk = NULL;
		c->lr_pkg = fr;
	}
	c->lh_lo = quota__hour_start(a, hour);
	c->lr_free = fr;
	c->lr_payg = pr;
	if (kr != NONE && kpk != c->lr_pk) {
		fold(l, c);
		c->lr_pkg = kr;
		c->lr_pk = kpk;
	}
	set_room(l, c);
}

void quota__ledger_fold(const quota_account *ca)
{
	quota_account *a = (quota_account *)ca; /* invisible: rows + pending */
	unsigned c;

	for (c = quota__popcount64(a->cat_mask); c--;)
		if (a->cats[c].has_cur)
			fold(&a->ledger, &a->cats[c].cur);
}

/* Apply right after quota__ledger_prepare(a, s, ...): its rows. */
void quota__ledger_apply(quota_account *a, const quota__src *s, int sign,
			 int64_t fee, int64_t fee_units)
{
	quota__ledger *l = &a->ledger;
	int64_t hour = quota__hour_of(a, s->at);
	quota__cur *c = quota__cur_of(a, s->cat);
	uint32_t i, fr, pr, kr = NONE;
	const quota_package *kpk = NULL;

	/* The rows prepare found, or new ones in the room it made. */
	fr = row_get(l, a->ctx->lp_free, hour, s->cat, QUOTA__LSRC_FREE, NULL);
	pr = row_get(l, a->ctx->lp_payg, hour, s->cat, QUOTA__LSRC_PAYG, NULL);
	quota__lrow_touch(l, fr)->units += sign * s->free;
	quota__lrow_touch(l, pr)->units += sign * s->payg;
	l->rows[pr].cost += sign * s->cost;
	if (fee) {
		uint32_t er = row_get(l, a->ctx->lp_fee, hour, s->cat,
				      QUOTA__LSRC_FEE, NULL);

		quota__lrow_touch(l, er)->cost += fee;
		l->rows[er].units += fee_units;
	}
	for (i = 0; i < s->ndraws; i++) {
		kpk = s->draws[i].pk;
		kr = row_get(l, a->ctx->lp_pkg[i], hour, s->cat,
			     QUOTA__LSRC_PKG + kpk->seq, kpk);
		quota__lrow_touch(l, kr)->units += sign * s->draws[i].units;
	}
	/* The newest hour's rows become the category's cache. */
	if (!c || (c->lh_lo != INT64_MIN &&
		   hour < quota__hour_of(a, c->lh_lo)))
		return;
	/* R26: the fast path books within 3600 s of the cached hour's
	 * start; a zone's last hour of a day that is not whole hours is
	 * shorter, so it is never the cache. */
	if (a->zoned && quota__hour_start(a, hour + 1) -
				quota__hour_start(a, hour) != 3600) {
		fold(l, c);
		c->lh_lo = INT64_MIN;
		return;
	}
	cache(a, c, hour, fr, pr, kr, kpk);
}

/* R17, R22: a new hour's rows for the fast path (ops.h): those
 * quota__ledger_prepare would find missing and quota__ledger_apply make,
 * in its order, then cached as it caches them. */
bool quota__ledger_next_hour(quota_account *a, quota__cur *c, uint32_t cat,
			     int64_t at, const quota_package *pk)
{
	quota__ledger *l = &a->ledger;
	int64_t hour;
	uint32_t fr, pr, kr = NONE, need;

	if (a->zoned)
		return false;
	hour = quota__hour_of(a, at);
	/* no row of the hour yet, and quota__ledger_prepare's room() for
	 * the 3 + draws rows it asks (so the same refusal at the row limit,
	 * QUOTA_EOVERFLOW, from the general path) would make none */
	need = 3 + (pk != NULL);
	if (hour <= l->hour_hi || !room_ready(l, need))
		return false;
	fr = row_get(l, NONE, hour, cat, QUOTA__LSRC_FREE, NULL);
	pr = row_get(l, NONE, hour, cat, QUOTA__LSRC_PAYG, NULL);
	if (pk)
		kr = row_get(l, NONE, hour, cat, QUOTA__LSRC_PKG + pk->seq, pk);
	cache(a, c, hour, fr, pr, kr, pk);
	return true;
}

void quota__ledger_uncache(quota_account *a)
{
	unsigned c;

	for (c = quota__popcount64(a->cat_mask); c--;)
		if (a->cats[c].has_cur) {
			fold(&a->ledger, &a->cats[c].cur);
			a->cats[c].cur.lh_lo = INT64_MIN;
		}
}

void quota__ledger_free(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__ledger *l = &a->ledger;

	quota__free(mem, l->rows);
	quota__free(mem, l->tab);
	quota__free(mem, l->dirty);
	memset(l, 0, sizeof *l);
}

/*
 * Snapshots (snapshot.c): append row r (its hour, category, source,
 * package and sums) to a fresh account's ledger, on the dirty list if it
 * is dirty.  QUOTA_ECORRUPT if the row exists already.
 */
int quota__ledger_restore(quota_account *a, const quota__lrow *r)
{
	quota__ledger *l = &a->ledger;
	uint32_t i;
	int rc;

	if (quota__ledger_find(l, r->hour, r->cat, r->src) != NONE)
		return QUOTA_ECORRUPT;
	if ((rc = room(a, 1)))
		return rc == QUOTA_EOVERFLOW ? QUOTA_ECORRUPT : rc;
	i = l->nrows++;
	note_hour(l, r->hour);
	l->rows[i] = *r;
	if (r->dirty)
		l->dirty[l->ndirty++] = i;
	tab_put(l->tab, l->tab_cap, &l->rows[i], i);
	return QUOTA_OK;
}

/*
 * §7 pruning (prune.c): the rows of hours before `hour` go.  The rows
 * left move to storage of their own size, so memory goes down; settled
 * rows only (prune.c's horizon keeps every dirty row), so the dirty list
 * is rebuilt from the flags in row order (settlement sorts what it takes,
 * snapshots list rows, not the dirty list).
 */
int quota__ledger_prune_count(quota_account *a, int64_t hour,
			      quota__shrink *s)
{
	const quota__mem *mem = &a->ctx->mem;
	const quota__ledger *l = &a->ledger;
	uint32_t i, cap = 64;

	memset(s, 0, sizeof *s);
	for (i = 0; i < l->nrows; i++)
		s->drop += l->rows[i].hour < hour;
	s->keep = l->nrows - s->drop;
	if (!s->drop || !s->keep)
		return QUOTA_OK;
	while ((uint64_t)s->keep * 2 > cap)
		cap *= 2;
	s->p[0] = quota__malloc(mem, (size_t)s->keep * sizeof *l->rows);
	s->p[1] = quota__calloc(mem, cap, sizeof *l->tab);
	s->p[2] = l->ndirty ? quota__malloc(mem, (size_t)l->ndirty *
							 sizeof *l->dirty)
			    : NULL;
	if (!s->p[0] || !s->p[1] || (l->ndirty && !s->p[2]))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

void quota__ledger_prune_apply(quota_account *a, int64_t hour,
			       quota__shrink *s)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__ledger *l = &a->ledger;
	quota__lrow *rows = s->p[0];
	uint32_t i, n = 0, cap = 64;

	if (!s->drop)
		return;
	quota__ledger_uncache(a); /* row indices change */
	if (!s->keep) {
		quota__free(mem, l->rows);
		quota__free(mem, l->tab);
		quota__free(mem, l->dirty);
		l->rows = NULL;
		l->tab = NULL;
		l->dirty = NULL;
		l->nrows = l->ndirty = l->tab_cap = 0;
		l->cap_rows = l->cap_dirty = 0;
		return;
	}
	while ((uint64_t)s->keep * 2 > cap)
		cap *= 2;
	for (i = 0; i < l->nrows; i++)
		if (l->rows[i].hour >= hour)
			rows[n++] = l->rows[i];
	quota__free(mem, l->rows);
	quota__free(mem, l->tab);
	quota__free(mem, l->dirty);
	l->rows = rows;
	l->nrows = l->cap_rows = n;
	l->tab = s->p[1];
	l->tab_cap = cap;
	l->dirty = s->p[2];
	l->cap_dirty = l->ndirty;
	l->ndirty = 0;
	for (i = 0; i < n; i++) {
		tab_put(l->tab, cap, &rows[i], i);
		if (rows[i].dirty)
			l->dirty[l->ndirty++] = i;
	}
	memset(s, 0, sizeof *s);
}

/* §7: after packages were pruned and renumbered (package.c), the rows of
 * the rest name them by their new numbers; the table is rebuilt in place
 * (same capacity, same rows). */
void quota__ledger_renumber(quota_account *a)
{
	quota__ledger *l = &a->ledger;
	uint32_t i;

	if (!l->nrows)
		return;
	for (i = 0; i < l->nrows; i++)
		if (l->rows[i].src >= QUOTA__LSRC_PKG)
			l->rows[i].src = QUOTA__LSRC_PKG + l->rows[i].pk->seq;
	memset(l->tab, 0, (size_t)l->tab_cap * sizeof *l->tab);
	for (i = 0; i < l->nrows; i++)
		tab_put(l->tab, l->tab_cap, &l->rows[i], i);
}
