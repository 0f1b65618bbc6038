/*
 * counters.c - per-account period counters (units per day / month for
 * caps R9 and tier volume R13; free units per day / month / lifetime R15).
 *
 * Usage can arrive late (R2), so counters are kept for every period seen,
 * keyed by (kind, category, period index) in an open-addressing table.
 * Capacity is reserved before a charge changes anything, so the apply step
 * cannot fail; the table only allocates when a charge opens new periods.
 */
#include "late.h"

#include <string.h>

/* Issue 16: the top bits of the product (quota__cnt_slot); a middle
 * slice, which the kind and category in the key's top bits do not reach,
 * gave every counter of one period the same home slot (about five probes
 * a late report's counting). */
#define slot_of quota__cnt_slot

int64_t quota__cnt_get(const quota__counters *c, uint64_t key)
{
	uint32_t i, mask;

	if (!c->cap)
		return 0;
	mask = c->cap - 1;
	for (i = slot_of(key, c->cap);; i = (i + 1) & mask) {
		if (c->slot[i].key == key)
			return c->slot[i].val;
		if (!c->slot[i].key)
			return 0;
	}
}

static void put(quota__cslot *slot, uint32_t cap, uint64_t key, int64_t val)
{
	uint32_t i, mask = cap - 1;

	for (i = slot_of(key, cap); slot[i].key; i = (i + 1) & mask)
		;
	slot[i].key = key;
	slot[i].val = val;
}

int quota__cnt_reserve(const quota__mem *mem, quota__counters *c,
		       uint32_t extra)
{
	quota__cslot *ns;
	uint32_t ncap, i;

	/* Load at most 1/2 keeps probes short. */
	if ((uint64_t)(c->n + extra) * 2 <= c->cap)
		return QUOTA_OK;
	ncap = c->cap ? c->cap : 32;
	while ((uint64_t)(c->n + extra) * 2 > ncap) {
		if (ncap > UINT32_MAX / 2)
			return QUOTA_ENOMEM;
		ncap *= 2;
	}
	ns = quota__calloc(mem, ncap, sizeof *ns);
	if (!ns)
		return QUOTA_ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->slot[i].key)
			put(ns, ncap, c->slot[i].key, c->slot[i].val);
	quota__free(mem, c->slot);
	c->slot = ns;
	c->cap = ncap;
	return QUOTA_OK;
}

void quota__cnt_add(quota__counters *c, uint64_t key, int64_t delta)
{
	(void)quota__cnt_add_in(c, key, delta);
}

void quota__cnt_free(const quota__mem *mem, quota__counters *c)
{
	quota__free(mem, c->slot);
	c->slot = NULL;
	c->cap = c->n = 0;
}

/* ------------------------------------------------- per-account counters */

int64_t quota__account_month_slow(const quota_account *ca, int64_t day)
{
	quota_ctx *ctx = ca->ctx; /* the cache is not state */
	int64_t y, lo = ctx->mday_lo, hi = ctx->mday_hi, prev = ctx->month;
	unsigned m, d;

	/* The two entries swap, or the first is computed and the one it
	 * replaces becomes the second. */
	if (day >= ctx->mday_lo2 && day < ctx->mday_hi2) {
		ctx->mday_lo = ctx->mday_lo2;
		ctx->mday_hi = ctx->mday_hi2;
		ctx->month = ctx->month2;
	} else {
		quota__civil_from_days(day, &y, &m, &d);
		ctx->mday_lo = day - (d - 1);
		ctx->mday_hi = m == 12 ? quota__days_from_civil(y + 1, 1, 1)
				       : quota__days_from_civil(y, m + 1, 1);
		ctx->month = y * 12 + (m - 1);
	}
	ctx->mday_lo2 = lo;
	ctx->mday_hi2 = hi;
	ctx->month2 = prev;
	return ctx->month;
}

int64_t quota__counter(const quota_account *a, unsigned kind, unsigned cat,
		       int64_t period)
{
	const quota__cur *c = quota__cur_of(a, cat);

	if (c) {
		switch (kind) {
		case QUOTA__CNT_UNITS_DAY:
			if (c->day == period)
				return c->units_day;
			break;
		case QUOTA__CNT_UNITS_MONTH:
			if (c->month == period)
				return c->units_month;
			break;
		case QUOTA__CNT_FREE_DAY:
			if (c->day == period)
				return c->free.day;
			break;
		case QUOTA__CNT_FREE_MONTH:
			if (c->month == period)
				return c->free.month;
			break;
		case QUOTA__CNT_FREE_LIFE:
			return c->free.life;
		}
	} else if (kind == QUOTA__CNT_FREE_LIFE) {
		return 0;
	}
	return quota__cnt_get(&a->counters, quota__cnt_key(kind, cat, period));
}

/* The current record of cat (with its category's entry), allocated if
 * it has none: changes nothing visible. */
static int cur_alloc(quota_account *a, unsigned cat)
{
	quota__cur *c;

	if (quota__cur_of(a, cat))
		return QUOTA_OK;
	if (cat != QUOTA__CAT_ALL) {
		quota__cat *k;

		if (quota__cat_need(a, QUOTA_MASK(cat)))
			return QUOTA_ENOMEM;
		k = quota__cat_of(a, cat);
		c = &k->cur;
		k->has_cur = true;
	} else {
		quota__catblock *b;

		if (quota__cat_need(a, 0))
			return QUOTA_ENOMEM;
		b = quota__catblock_of(a);
		c = quota__catblock_all(b);
		a->has_all = true;
		/* Its counters only, field by field through c, the type
		 * every other access uses (no ledger cache:
		 * quota__catblock; ctx.h asserts these fields are all of
		 * it).  A memset through c GCC 12 takes for one out of the
		 * block's bounds (-Warray-bounds). */
		c->day = c->month = INT64_MIN;
		c->units_day = c->units_month = 0;
		c->free = (quota__freeuse){0};
		return QUOTA_OK;
	}
	memset(c, 0, sizeof *c);
	c->day = c->month = INT64_MIN;
	c->lh_lo = INT64_MIN; /* no ledger rows cached (ledger.c) */
	return QUOTA_OK;
}

int quota__counter_prepare(quota_account *a, unsigned cat)
{
	/* At most 3 keys per record change hands when a charge moves a
	 * record to a newer period (or counts a late one into the table). */
	if (cur_alloc(a, cat) || cur_alloc(a, QUOTA__CAT_ALL) ||
	    quota__cnt_reserve(&a->ctx->mem, &a->counters, 8))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

/* Move one value from the record to the table and load the new period's. */
static void roll(quota__counters *t, unsigned kind, unsigned cat,
		 int64_t old_period, int64_t *val, int64_t new_period)
{
	uint64_t old_key = quota__cnt_key(kind, cat, old_period);
	uint64_t new_key = quota__cnt_key(kind, cat, new_period);

	if (old_period != INT64_MIN && *val)
		quota__cnt_add(t, old_key,
			       *val - quota__cnt_get(t, old_key));
	*val = quota__cnt_get(t, new_key);
}

/* The record c of cat follows a newer day or month: what it held goes
 * to the table, the new period's value comes from it. */
static __attribute__((noinline)) void roll_to(quota__counters *t,
					      quota__cur *c, unsigned cat,
					      int64_t day, int64_t month)
{
	if (day > c->day) {
		roll(t, QUOTA__CNT_UNITS_DAY, cat, c->day, &c->units_day, day);
		roll(t, QUOTA__CNT_FREE_DAY, cat, c->day, &c->free.day, day);
		c->day = day;
	}
	if (month > c->month) {
		roll(t, QUOTA__CNT_UNITS_MONTH, cat, c->month, &c->units_month,
		     month);
		roll(t, QUOTA__CNT_FREE_MONTH, cat, c->month, &c->free.month,
		     month);
		c->month = month;
	}
}

static void count(quota_account *a, unsigned cat, int64_t day, int64_t month,
		  int64_t units, int64_t free)
{
	quota__counters *t = &a->counters;
	quota__cur *c = quota__cur_of(a, cat);

	/* Newer period: the record follows it.  Older: a late report, counted
	 * straight into the table. */
	if (day > c->day || month > c->month)
		roll_to(t, c, cat, day, month);
	quota__count_late(t, NULL, c, cat, day, month, units, free);
}

void quota__counter_charge(quota_account *a, unsigned cat, int64_t day,
			   int64_t month, int64_t units, int64_t free)
{
	count(a, cat, day, month, units, free);
	count(a, QUOTA__CAT_ALL, day, month, units, 0);
}

/* Take back units counted by an earlier charge in (day, month): from the
 * current record when it still holds that period, else from the table
 * (where the roll left the period's value).  Callers reserve room first
 * (quota__counter_prepare), so this cannot fail. */
static void uncount(quota_account *a, unsigned cat, int64_t day,
		    int64_t month, int64_t units, int64_t free)
{
	quota__counters *t = &a->counters;
	quota__cur *c = quota__cur_of(a, cat);

	if (c && c->day == day) {
		c->units_day -= units;
		c->free.day -= free;
	} else {
		quota__cnt_add(t, quota__cnt_key(QUOTA__CNT_UNITS_DAY, cat, day),
			       -units);
		if (free)
			quota__cnt_add(t,
				       quota__cnt_key(QUOTA__CNT_FREE_DAY, cat,
						      day),
				       -free);
	}
	if (c && c->month == month) {
		c->units_month -= units;
		c->free.month -= free;
	} else {
		quota__cnt_add(t,
			       quota__cnt_key(QUOTA__CNT_UNITS_MONTH, cat,
					      month),
			       -units);
		if (free)
			quota__cnt_add(t,
				       quota__cnt_key(QUOTA__CNT_FREE_MONTH,
						      cat, month),
				       -free);
	}
	if (c)
		c->free.life -= free;
}

void quota__counter_uncharge(quota_account *a, unsigned cat, int64_t day,
			     int64_t month, int64_t units, int64_t free)
{
	uncount(a, cat, day, month, units, free);
	uncount(a, QUOTA__CAT_ALL, day, month, units, 0);
}

/*
 * Snapshots (snapshot.c): fill a fresh account's counters from n (key,
 * value) pairs, keys strictly ascending, values > 0.  Each category's
 * newest day (and that day's month) goes to its current record, the rest
 * to the table, as counting leaves them: the table never holds the
 * record's own period, so a later roll cannot leave a stale value there.
 * QUOTA_ECORRUPT for a set that counting cannot produce.
 */
int quota__counters_restore(quota_account *a, const uint64_t *keys,
			    const int64_t *vals, uint32_t n)
{
	int64_t maxday[QUOTA__CAT_ALL + 1];
	uint32_t i, c;

	for (c = 0; c <= QUOTA__CAT_ALL; c++)
		maxday[c] = INT64_MIN;
	for (i = 0; i < n; i++) {
		unsigned kind = (unsigned)(keys[i] >> 61);
		unsigned cat = (unsigned)(keys[i] >> 54) & 0x7F;
		int64_t per = (int64_t)(keys[i] & ((UINT64_C(1) << 54) - 1)) -
			      (INT64_C(1) << 40);

		if ((kind == QUOTA__CNT_UNITS_DAY ||
		     kind == QUOTA__CNT_FREE_DAY) && per > maxday[cat])
			maxday[cat] = per;
	}
	if (quota__cnt_reserve(&a->ctx->mem, &a->counters, n))
		return QUOTA_ENOMEM;
	for (i = 0; i < n; i++) {
		unsigned kind = (unsigned)(keys[i] >> 61);
		unsigned cat = (unsigned)(keys[i] >> 54) & 0x7F;
		int64_t per = (int64_t)(keys[i] & ((UINT64_C(1) << 54) - 1)) -
			      (INT64_C(1) << 40);
		quota__cur *r;

		if (cur_alloc(a, cat))
			return QUOTA_ENOMEM;
		r = quota__cur_of(a, cat);
		if (maxday[cat] != INT64_MIN && r->day == INT64_MIN) {
			r->day = maxday[cat];
			r->month = quota__month_of_day(r->day);
		}
		switch (kind) {
		case QUOTA__CNT_UNITS_DAY:
		case QUOTA__CNT_FREE_DAY:
			if (per != r->day)
				break;
			*(kind == QUOTA__CNT_UNITS_DAY ? &r->units_day
						       : &r->free.day) = vals[i];
			continue;
		case QUOTA__CNT_UNITS_MONTH:
		case QUOTA__CNT_FREE_MONTH:
			/* A month's count sums its days' (all >= 0). */
			if (r->day == INT64_MIN || per > r->month)
				return QUOTA_ECORRUPT;
			if (per != r->month)
				break;
			*(kind == QUOTA__CNT_UNITS_MONTH ? &r->units_month
							 : &r->free.month) =
				vals[i];
			continue;
		default: /* QUOTA__CNT_FREE_LIFE */
			r->free.life = vals[i];
			continue;
		}
		quota__cnt_add(&a->counters, keys[i], vals[i]);
	}
	return QUOTA_OK;
}

/*
 * §7 pruning (prune.c): the table's counters of days before day and
 * months before month go, and the rest move to a table sized for them.
 * The current records are left alone: they hold the newest periods (and
 * the lifetime), which caps, free allowances and tiers read.
 */
/*
 * Per category, the month of its newest day with units (the table's and
 * the current record's; INT64_MIN: none): where a snapshot's reader puts
 * the current record (quota__counters_restore).  Counting may leave the
 * current record on a newer day whose counts went back to 0, and zeros in
 * the table, which a snapshot does not hold: pruning decides by what the
 * snapshot holds, so an account loaded from one prunes the same (§5).
 */
static void newest_months(const quota_account *a, int64_t *m)
{
	const quota__counters *c = &a->counters;
	uint32_t i;

	for (i = 0; i <= QUOTA__CAT_ALL; i++) {
		const quota__cur *r = quota__cur_of(a, i);

		m[i] = r && r->day != INT64_MIN &&
				       (r->units_day > 0 || r->free.day > 0)
			       ? r->day
			       : INT64_MIN;
	}
	for (i = 0; i < c->cap; i++) {
		uint64_t k = c->slot[i].key;
		unsigned kind = (unsigned)(k >> 61);
		unsigned cat = (unsigned)(k >> 54) & 0x7F;
		int64_t per = (int64_t)(k & ((UINT64_C(1) << 54) - 1)) -
			      (INT64_C(1) << 40);

		if (k && c->slot[i].val > 0 && cat <= QUOTA__CAT_ALL &&
		    (kind == QUOTA__CNT_UNITS_DAY ||
		     kind == QUOTA__CNT_FREE_DAY) &&
		    per > m[cat])
			m[cat] = per;
	}
	for (i = 0; i <= QUOTA__CAT_ALL; i++)
		if (m[i] != INT64_MIN)
			m[i] = quota__month_of_day(m[i]);
}

static bool pruned(const int64_t *newest, uint64_t k, int64_t day,
		   int64_t month)
{
	unsigned kind = (unsigned)(k >> 61);
	unsigned cat = (unsigned)(k >> 54) & 0x7F;
	int64_t per = (int64_t)(k & ((UINT64_C(1) << 54) - 1)) -
		      (INT64_C(1) << 40);

	/* The days of a month whose counter stays (the horizon's month and
	 * later) and of the month of a category's newest day with units
	 * stay too: they are what a snapshot's reader places a month by
	 * (quota__counters_restore), even when the current day's counts
	 * were reversed to 0.  That month's counters stay as well: the
	 * reader makes them the current record's, which pruning keeps. */
	if (kind == QUOTA__CNT_UNITS_DAY || kind == QUOTA__CNT_FREE_DAY)
		return per < day && quota__month_of_day(per) < month &&
		       !(cat <= QUOTA__CAT_ALL &&
			 quota__month_of_day(per) == newest[cat]);
	if (kind == QUOTA__CNT_UNITS_MONTH || kind == QUOTA__CNT_FREE_MONTH)
		return per < month &&
		       !(cat <= QUOTA__CAT_ALL && per == newest[cat]);
	return false;
}

static uint32_t table_cap(uint32_t n)
{
	uint32_t cap = 32;

	while ((uint64_t)n * 2 > cap)
		cap *= 2;
	return cap;
}

int quota__counters_prune_count(quota_account *a, int64_t day, int64_t month,
				quota__shrink *s)
{
	const quota__counters *c = &a->counters;
	const quota__mem *mem = &a->ctx->mem;
	uint32_t i, cap;

	int64_t newest[QUOTA__CAT_ALL + 1];

	memset(s, 0, sizeof *s);
	newest_months(a, newest);
	/* drop counts what a snapshot holds (values not 0), as the record
	 * says; zeros go with them, and keep is what stays. */
	for (i = 0; i < c->cap; i++) {
		if (!c->slot[i].key)
			continue;
		if (pruned(newest, c->slot[i].key, day, month))
			s->drop += c->slot[i].val != 0;
		else
			s->keep += c->slot[i].val != 0;
	}
	if (!s->drop || !s->keep)
		return QUOTA_OK;
	cap = table_cap(s->keep);
	s->p[0] = quota__calloc(mem, cap, sizeof(quota__cslot));
	return s->p[0] ? QUOTA_OK : QUOTA_ENOMEM;
}

void quota__counters_prune_apply(quota_account *a, int64_t day,
				 int64_t month, quota__shrink *s)
{
	quota__counters *c = &a->counters;
	const quota__mem *mem = &a->ctx->mem;
	uint32_t i, cap;

	int64_t newest[QUOTA__CAT_ALL + 1];

	if (!s->drop)
		return;
	if (!s->keep) {
		quota__cnt_free(mem, c);
		return;
	}
	newest_months(a, newest);
	cap = table_cap(s->keep);
	for (i = 0; i < c->cap; i++)
		if (c->slot[i].key && c->slot[i].val &&
		    !pruned(newest, c->slot[i].key, day, month))
			put(s->p[0], cap, c->slot[i].key, c->slot[i].val);
	quota__free(mem, c->slot);
	c->slot = s->p[0];
	c->cap = cap;
	c->n = s->keep;
	memset(s, 0, sizeof *s);
}
