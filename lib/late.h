/*
 * late.h - issue 16: a late report's ledger rows and counts, expanded in
 * quota__late (charge.c), the one place that runs them, as the fast
 * path's bookkeeping is expanded from ctx.h.  Called, the three cost a
 * late report a fifth of its instructions in prologues, spills and
 * arguments on the stack.  Their state stays their owners': the ledger's
 * rows are ledger.c's (which shares lrow_next and lrow_touch from here),
 * the counters counters.c's (count_late here is also its count()'s).
 */
#ifndef QUOTA_LATE_H
#define QUOTA_LATE_H

#include "ctx.h"

/* ----------------------------------------------- the ledger (ledger.c) */

/* The row of (hour, cat, src): the one after row prev if that is it
 * (the rows an apply makes follow each other), else the table's. */
static inline __attribute__((always_inline)) uint32_t
quota__lrow_next(const quota__ledger *l, uint32_t prev, int64_t hour,
		 uint32_t cat, uint32_t src)
{
	if (prev != UINT32_MAX && prev + 1 < l->nrows) {
		const quota__lrow *r = &l->rows[prev + 1];

		if (r->hour == hour && r->cat == cat && r->src == src)
			return prev + 1;
	}
	return quota__ledger_find(l, hour, cat, src);
}

/* Add to a row of this apply; back on the dirty list if settled. */
static inline quota__lrow *quota__lrow_touch(quota__ledger *l, uint32_t i)
{
	quota__lrow *r = &l->rows[i];

	if (!r->dirty) {
		r->dirty = true;
		l->dirty[l->ndirty++] = i;
	}
	return r;
}

/*
 * A late report's rows, the free, the pay-as-you-go and, with pk, pk's
 * row of (hour, cat): the free row where the context's late_row slot of
 * (hour, cat) says, else one table look-up (a table of every hour the
 * account kept, so mostly a cache miss where the slots of a month's
 * hours take 4 KB), the others next to it where an apply made them
 * together (quota__lrow_next).
 * It writes nothing of the account's: the late_row slot it refreshes is a
 * cache of the context's, checked before every use, not state (§5).
 * false if one is missing, a settled one could not go back
 * on the dirty list without growing it, cost would overflow the hour's
 * pay-as-you-go total, or the rows are a category's cache: the general
 * path then makes, checks or folds them.  c: cat's current record.
 */
static inline __attribute__((always_inline)) bool
quota__ledger_late(const quota_account *a, const quota__cur *c, int64_t hour,
		   uint32_t cat, const quota_package *pk, int64_t cost,
		   uint32_t row[3])
{
	const quota__ledger *l = &a->ledger;
	uint32_t *hint = &a->ctx->late_row[quota__late_slot(hour, cat)];
	const quota__lrow *r;
	uint32_t settled;
	int64_t x;

	/* The free row where the context last found it (late_row), checked;
	 * else the table's, remembered there. */
	row[0] = *hint;
	if (row[0] >= l->nrows || l->rows[row[0]].hour != hour ||
	    l->rows[row[0]].cat != cat ||
	    l->rows[row[0]].src != QUOTA__LSRC_FREE) {
		row[0] = quota__ledger_find(l, hour, cat, QUOTA__LSRC_FREE);
		if (row[0] == UINT32_MAX)
			return false;
		*hint = row[0];
	}
	if ((row[1] = quota__lrow_next(l, row[0], hour, cat,
				       QUOTA__LSRC_PAYG)) == UINT32_MAX ||
	    (c->lh_lo != INT64_MIN && c->lr_payg == row[1]))
		return false;
	r = l->rows;
	settled = !r[row[0]].dirty + !r[row[1]].dirty;
	row[2] = UINT32_MAX;
	if (pk) {
		if ((row[2] = quota__lrow_next(l, row[1], hour, cat,
					       QUOTA__LSRC_PKG + pk->seq)) ==
		    UINT32_MAX)
			return false;
		settled += !r[row[2]].dirty;
	}
	return settled <= l->cap_dirty - l->ndirty &&
	       !quota__add_ovf(r[row[1]].cost, cost, &x);
}

/* Book a late report in the rows quota__ledger_late found: what
 * quota__ledger_apply(a, s, 1, 0, 0) does to them.  Cannot fail. */
static inline __attribute__((always_inline)) void
quota__ledger_late_add(quota_account *a, const uint32_t row[3], int64_t free,
		       int64_t take, int64_t payg, int64_t cost)
{
	quota__ledger *l = &a->ledger;

	quota__lrow_touch(l, row[0])->units += free;
	quota__lrow_touch(l, row[1])->units += payg;
	l->rows[row[1]].cost += cost;
	if (row[2] != UINT32_MAX)
		quota__lrow_touch(l, row[2])->units += take;
}

/* ----------------------------------------- the counters (counters.c) */

/* quota__cnt_add, expanded where late reports count; the key's slot. */
static inline __attribute__((always_inline)) uint32_t
quota__cnt_add_in(quota__counters *c, uint64_t key, int64_t delta)
{
	uint32_t i, mask = c->cap - 1;

	for (i = quota__cnt_slot(key, c->cap);; i = (i + 1) & mask) {
		if (c->slot[i].key == key) {
			c->slot[i].val += delta;
			return i;
		}
		if (!c->slot[i].key) {
			c->slot[i].key = key;
			c->slot[i].val = delta;
			c->n++;
			return i;
		}
	}
}

/* The same for a day's units counter of a late report: first at the
 * slot the context's late_cnt entry of (day, cat) names, if it holds the
 * key (one test the branch predictor learns, where the probe's are
 * not), else by the probe, remembered there.  The slot is the one the
 * probe finds either way (a key has one slot), so nothing changes but
 * the instructions. */
static inline __attribute__((always_inline)) void
quota__cnt_add_day(quota__counters *c, uint32_t *hints, unsigned cat,
		   int64_t day, int64_t delta)
{
	uint64_t key = quota__cnt_key(QUOTA__CNT_UNITS_DAY, cat, day);
	uint32_t *h = &hints[((uint32_t)day + cat * 37u) &
			     (QUOTA__LATE_CNTS - 1)];

	if (*h < c->cap && c->slot[*h].key == key)
		c->slot[*h].val += delta;
	else
		*h = quota__cnt_add_in(c, key, delta);
}

/* A period of record c no newer than c's: into c where it is c's period,
 * else into the table.  count() after its roll (hints NULL), and a late
 * report's counting as it is (quota__counter_late). */
static inline __attribute__((always_inline)) void
quota__count_late(quota__counters *t, uint32_t *hints, quota__cur *c,
		  unsigned cat, int64_t day, int64_t month, int64_t units,
		  int64_t free)
{
	if (day == c->day) {
		c->units_day += units;
		c->free.day += free;
	} else {
		if (hints)
			quota__cnt_add_day(t, hints, cat, day, units);
		else
			quota__cnt_add_in(t,
					  quota__cnt_key(QUOTA__CNT_UNITS_DAY,
							 cat, day),
					  units);
		if (free)
			quota__cnt_add_in(t,
					  quota__cnt_key(QUOTA__CNT_FREE_DAY,
							 cat, day),
					  free);
	}
	if (month == c->month) {
		c->units_month += units;
		c->free.month += free;
	} else {
		quota__cnt_add_in(t,
				  quota__cnt_key(QUOTA__CNT_UNITS_MONTH, cat,
						 month),
				  units);
		if (free)
			quota__cnt_add_in(t,
					  quota__cnt_key(QUOTA__CNT_FREE_MONTH,
							 cat, month),
					  free);
	}
	c->free.life += free;
}

/*
 * quota__counter_charge for a late report, whose day and month are no
 * newer than those of c (cat's current record) and g (the account's),
 * so nothing rolls: the same counts in the same order (the table's
 * slots follow the order keys come in), without finding the records
 * again.
 */
static inline __attribute__((always_inline)) void
quota__counter_late(quota_account *a, quota__cur *c, quota__cur *g,
		    unsigned cat, int64_t day, int64_t month, int64_t units,
		    int64_t free)
{
	uint32_t *hints = a->ctx->late_cnt; /* a cache, not state */

	quota__count_late(&a->counters, hints, c, cat, day, month, units,
			  free);
	quota__count_late(&a->counters, hints, g, QUOTA__CAT_ALL, day, month,
			  units, 0);
}

#endif /* QUOTA_LATE_H */
