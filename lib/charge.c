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
 * package through the R3 head hint and allocates nothing (quota__fast in
 * charge_fast.h, which quota_reserve expands too).
 */
#include "charge_fast.h"
#include "journal.h"
#include "late.h"

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
	const quota__cat *k = quota__cat_of(a, pl->s.cat);
	const quota__cur *c = k && k->has_cur ? &k->cur : NULL;
	const quota__cur *g = quota__all_of(a);
	const quota_tariff *t = k ? k->tariff : NULL;
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
	if (k && k->cap.day >= 0)
		n[CAT_DAY] = quota__counter(a, QUOTA__CNT_UNITS_DAY, cat, day);
	if (a->x->cap_all.day >= 0)
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
	const quota__cap *c = quota__cap_of(a, pl->s.cat), *g = &a->x->cap_all;
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


/* Validate a key (not NULL) and give its length. */
static int check_key_len(quota_ctx *ctx, const char *key, size_t *len)
{
	size_t n = strlen(key), bad;

	*len = n;
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

int quota__check_key(quota_ctx *ctx, const char *key)
{
	size_t n;

	return key ? check_key_len(ctx, key, &n) : QUOTA_OK;
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
	if (u->at < a->pruned_before) /* §7: its periods may be gone */
		return quota__err(ctx, QUOTA_EPRUNED,
				  "account '%s': usage time %lld is before "
				  "the pruned history (%lld)",
				  a->id, (long long)u->at,
				  (long long)a->pruned_before);
	if (a->gate & QUOTA__GATE_BLOCKED) /* R25: nothing new */
		return quota__blocked_err(a);
	if (a->suspended) /* R18: nothing new until a top-up pays */
		return quota__err(ctx, QUOTA_ESUSPENDED,
				  "account '%s' is suspended: %lld micros "
				  "outstanding",
				  a->id, (long long)a->x->outstanding);
	cat = s->cat = u->category;
	s->units = u->units;
	s->at = u->at;
	s->day = quota__day_of(quota__local(a, u->at));
	s->month = quota__account_month(a, s->day);
	load_counts(a, pl);

	/* Counters must not overflow; the account-wide month counter bounds
	 * every units counter this charge adds to. */
	if (u->units > INT64_MAX - pl->cnt[ALL_MONTH])
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "account '%s': monthly unit counter would "
				  "overflow",
				  a->id);
	if (a->capped && (rc = check_caps(a, pl)))
		return rc;

	/* R1 (a): the free allowance. */
	t = quota__tariff_of(a, cat);
	s->free = quota__free_avail(t, s->units, &pl->fu);
	need = s->units - s->free;

	/* R1 (b), R2, R3: packages in burn order, every draw kept. */
	ix = quota__pindex_of(a, cat);
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
		return quota__nomem(a);
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

/* A receipt line's package and id: none for a package pruned since the
 * key record that names it was stored (§7). */
static inline const quota_package *quota__pk_line(const quota_package *pk)
{
	return pk == QUOTA__GONE ? NULL : pk;
}
static inline const char *quota__pk_line_id(const quota_package *pk)
{
	return pk && pk != QUOTA__GONE ? pk->id : NULL;
}

void quota__receipt_fill(quota_receipt *r, const quota__src *s, int32_t kind)
{
	uint32_t i, nl = 0, total = 0;

	if (!r)
		return;
	quota__receipt_head(r, s, kind, 0);
	/* Lines: FREE, each PACKAGE in draw order, each PAYG tier; counted in
	 * locals so the stores need no reloads. */
#define LINE(src_, tier_, pk_, units_, price_, cost_)                        \
	do {                                                                 \
		if (nl < QUOTA_RECEIPT_LINES)                                \
			quota__fast_line(&r->lines[nl++], (src_), (tier_),   \
					 quota__pk_line(pk_),                \
					 quota__pk_line_id(pk_),             \
					 (units_), (price_), (cost_));       \
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

/* Does a stored key record match this charge?  (R11) */
static bool same_charge(const quota__keyview *k, const quota_usage *u)
{
	return k->e.op == QUOTA__OP_CHARGE && k->e.p_cat == u->category &&
	       k->e.p_units == u->units && k->e.p_at == u->at;
}

/* A repeated key of a charge: its receipt again, or a conflict. */
__attribute__((noinline, cold)) static int
charge_replay(quota_account *a, const quota__keyrec *k, const quota_usage *u,
	      quota_receipt *r)
{
	quota__keyview v;

	quota__key_view(a, k, &v);
	return quota__key_replay(a, &v, same_charge(&v, u), r);
}

/*
 * A planned charge from prepare on, through the write path (§5): room for
 * everything apply needs, the record, apply, events.  The general path
 * and replay (the plan decoded from a record) both come here.
 */
struct charge_op {
	quota_account *a;
	const quota_usage *u;
	quota__plan *pl;
	quota_receipt *r;
	quota__keyext *rec; /* the key's record, if the charge has a key */
	uint64_t rid;       /* R27: the receipt id its key keeps, or 0 */
};

static int charge_prepare(void *v)
{
	struct charge_op *op = v;
	quota_account *a = op->a;
	int rc;

	if ((rc = quota__plan_prepare(a, op->pl)) ||
	    (rc = quota__ledger_prepare(a, &op->pl->s, op->pl->s.cost, 0)))
		return rc;
	/* R27: a kept receipt's id is the next of the hold sequence. */
	if (op->rid && (rc = quota__ext_need(a)))
		return rc;
	if (op->rid && op->rid != a->x->last_hold_id + 1)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': receipt %llu is not the "
				  "next (%llu)",
				  a->id, (unsigned long long)op->rid,
				  (unsigned long long)(a->x->last_hold_id + 1));
	if (op->u->key) {
		if (quota__key_reserve(a) ||
		    !(op->rec = quota__key_new(a, op->u->key, &op->pl->s)))
			return quota__nomem(a);
		quota__key_usage(op->rec, QUOTA__OP_CHARGE, op->u);
	}
	return QUOTA_OK;
}

static void charge_encode(quota__wbuf *w, const void *v)
{
	const struct charge_op *op = v;

	quota__rec_planned(w, QUOTA__R_CHARGE, op->u, 0, &op->pl->s);
}

static void charge_apply(void *v)
{
	struct charge_op *op = v;
	quota_account *a = op->a;

	quota__plan_apply(a, op->pl);
	quota__ledger_apply(a, &op->pl->s, 1, 0, 0);
	if (op->rec)
		quota__key_store(a, op->rec);
	if (op->rid)
		a->x->last_hold_id = op->rid;
	quota__receipt_fill(op->r, &op->pl->s, QUOTA_RECEIPT_CHARGE);
	if (op->r)
		op->r->receipt_id = op->rid;
}

static void charge_undo(void *v)
{
	struct charge_op *op = v;

	if (op->rec)
		quota__key_unused(op->a, op->rec);
}

static const quota__step charge_steps = {
	.rec = QUOTA__R_CHARGE,
	.prepare = charge_prepare,
	.encode = charge_encode,
	.apply = charge_apply,
	.undo = charge_undo,
	.flush = true,
};

int quota__charge_planned(quota_account *a, const quota_usage *u,
			  quota__plan *pl, quota_receipt *r)
{
	struct charge_op op = {a, u, pl, r, NULL, quota__receipt_key_id(u->key)};
	int rc = quota__write(a->ctx, a, &charge_steps, &op);

	return rc ? quota__fail(r, rc) : QUOTA_OK;
}

/* The general path: plan, then the rest; its key, if any, is new. */
__attribute__((noinline, cold)) static int general(quota_account *a,
						   const quota_usage *u,
						   quota_receipt *r,
						   bool commit)
{
	quota__plan pl;
	int rc;

	/* §5: no refusal from a state the store may have moved past (a
	 * quote, which changes nothing, answers from memory) */
	if (commit && (rc = quota__synced(a)))
		return quota__fail(r, rc);
	if ((rc = quota__plan_usage(a, u, &pl)))
		return quota__fail(r, rc);
	if (commit && !u->key && (a->gate & QUOTA__GATE_RECEIPTS)) {
		/* R27: kept under the next id of the hold sequence. */
		char rkey[QUOTA__RKEY_MAX];
		quota_usage ku = *u;

		quota__receipt_key(rkey, a->x->last_hold_id + 1);
		ku.key = rkey;
		return quota__charge_planned(a, &ku, &pl, r);
	}
	if (commit)
		return quota__charge_planned(a, u, &pl, r);
	if ((rc = quota__ledger_check(a, &pl.s, pl.s.cost)))
		return quota__fail(r, rc); /* a quote: what the charge says */
	quota__receipt_fill(r, &pl.s, QUOTA_RECEIPT_CHARGE);
	/* R27: the id the charge would keep its receipt under */
	if (r && !u->key && (a->gate & QUOTA__GATE_RECEIPTS))
		r->receipt_id = a->x->last_hold_id + 1;
	a->ctx->errmsg[0] = '\0';
	return QUOTA_OK;
}

/* R9 for a late report: would it pass a cap?  (The general path words
 * the refusal.)  cm, gm: the month's units of cat and of the account. */
static bool late_capped(const quota_account *a, const quota__cat *k,
			uint32_t cat, int64_t day, int64_t cm, int64_t gm,
			int64_t units)
{
	const quota__cap *all = &a->x->cap_all;

	if ((k->cap.day >= 0 &&
	     units > k->cap.day - quota__counter(a, QUOTA__CNT_UNITS_DAY, cat,
						 day)) ||
	    (k->cap.month >= 0 && units > k->cap.month - cm))
		return true;
	return (all->day >= 0 &&
		units > all->day - quota__counter(a, QUOTA__CNT_UNITS_DAY,
						  QUOTA__CAT_ALL, day)) ||
	       (all->month >= 0 && units > all->month - gm);
}

/*
 * A late report (R2, issue 16): a keyless charge the fast path left
 * because it falls before its category's cached ledger hour (and mostly
 * its newest day), of the fast path's shape otherwise (at most one
 * package and one tier; no hook, gate or suspension).  It reads the
 * month's counters from the current records (a late report is mostly in
 * the current month), looks up only the day counters a cap or a daily
 * free allowance reads, finds the hour's ledger rows with one table
 * look-up (quota__ledger_late) and writes the fast path's record, the
 * same bytes as the general path's.  Counting is quota__counter_late:
 * the general path's counts without its rolls.  0 when it did not
 * apply (the general path then runs: a new day, period or ledger row,
 * a full counter table, a refusal to word), 1 when it did, or the store's
 * refusal (nothing changed).
 *
 * quota__late is its part after the fast path's checks, which the fast
 * path calls having made them (charge_fast.h); late() makes them first.
 */
__attribute__((noinline)) int quota__late(quota_account *a,
					  const quota_usage *u,
					  quota_receipt *r, quota__cat *k)
{
	quota_ctx *ctx = a->ctx;
	const uint32_t cat = u->category;
	const int64_t units = u->units, at = u->at;
	int64_t hour, day, month, cm, gm, f, take = 0, need, cost = 0;
	int64_t price = 0;
	uint32_t tier = 0, row[3];
	quota__freeuse fu = {0, 0, 0};
	quota__cur *c = &k->cur, *g = quota__all_of(a);
	const quota_tariff *t;
	const quota__pindex *ix;
	quota_package *pk = NULL;

	/* Only before the cached hour: that hour is the fast path's (or
	 * the general path's to fold), and a charge at or after it, or with
	 * no hour cached (after a settlement), goes where the cache is moved
	 * on or set up again, so in-order traffic returns to the fast path.
	 * A newer day or month rolls the current records. */
	if (at >= c->lh_lo)
		return 0;
	hour = quota__hour_of(a, at);
	day = quota__day_of(at + a->utc_offset);
	if (day > c->day || day > g->day)
		return 0;
	month = quota__account_month(a, day);
	if (month > c->month || month > g->month ||
	    (a->counters.n + 8) * UINT64_C(2) > a->counters.cap)
		return 0; /* counting may add up to 6 keys: room, no growth */
	cm = month == c->month ? c->units_month
			       : quota__counter(a, QUOTA__CNT_UNITS_MONTH, cat,
						month);
	gm = month == g->month ? g->units_month
			       : quota__counter(a, QUOTA__CNT_UNITS_MONTH,
						QUOTA__CAT_ALL, month);
	if (units > INT64_MAX - gm ||
	    (a->capped && late_capped(a, k, cat, day, cm, gm, units)))
		return 0;

	/* R1 (a), R15: the free allowance of the report's periods. */
	t = k->tariff;
	if (t && t->free_units > 0) {
		if (t->free_period == QUOTA_PERIOD_DAY || t->free_daily > 0)
			fu.day = day == c->day
					 ? c->free.day
					 : quota__counter(a, QUOTA__CNT_FREE_DAY,
							  cat, day);
		fu.month = month == c->month
				   ? c->free.month
				   : quota__counter(a, QUOTA__CNT_FREE_MONTH,
						    cat, month);
		fu.life = c->free.life;
	}
	f = quota__free_avail(t, units, &fu);
	need = units - f;

	/* R1 (b), R3: the first package usable at `at`, and only it. */
	ix = k->pindex;
	if (need && ix) {
		uint32_t pos = quota__pindex_head(ix, at);

		if (pos != NONE) {
			pk = ix->pk[pos];
			take = pk->remaining < need ? pk->remaining : need;
			need -= take;
		}
	}
	/* R1 (c), R7, R13, R14: as the fast path prices. */
	if (need && !quota__fast_payg(a, cat, ix, pk, take, t,
				      cm + units - need, need, &tier, &price,
				      &cost))
		return 0;
	/* R17, R22: the hour's rows, which must exist and take the cost. */
	if (!quota__ledger_late(a, c, hour, cat, take ? pk : NULL, cost, row))
		return 0;
	/* §5: the fast path's record, before anything moves. */
	if (ctx->store_on) {
		int rc = quota__fast_rec(a, u, QUOTA__R_CHARGE, 0, f, pk, take,
					 need, tier, price, cost, NULL, 0,
					 quota__crc_hw());

		if (rc)
			return rc;
	}
	if (r)
		quota__fast_receipt(r, cat, at, units, f, pk, take, need, tier,
				    price, cost, QUOTA_RECEIPT_CHARGE);
	ctx->errmsg[0] = '\0';
	if (at > a->clock)
		a->clock = at;
	quota__counter_late(a, c, g, cat, day, month, units, f);
	quota__ledger_late_add(a, row, f, take, need, cost);
	if (take && !(pk->remaining -= take))
		quota__package_refresh(a, pk);
	return 1;
}

/* A late report as the fast path would see it: its checks, then the
 * rest (quota__late). */
static inline int late(quota_account *a, const quota_usage *u,
		       quota_receipt *r)
{
	const uint32_t cat = u->category;
	const int64_t at = u->at;
	quota__cat *k;

	if (cat >= QUOTA_MAX_CATEGORIES || u->units <= 0 ||
	    !quota__time_ok(at) || u->key || a->ctx->hook || a->suspended ||
	    a->gate || at < a->pruned_before ||
	    (uint64_t)at - (uint64_t)a->off_lo >= a->off_span)
		return 0;
	k = quota__cat_of(a, cat);
	if (!k || !k->has_cur || !a->has_all)
		return 0;
	return quota__late(a, u, r, k);
}

/* Everything but the fast path: a repeated key replays, else the general
 * path. */
__attribute__((noinline, cold)) static int run(const quota_account *ca,
					       const quota_usage *u,
					       quota_receipt *r, bool commit)
{
	quota_account *a = (quota_account *)ca;
	int rc;

	if (unlikely(!a))
		return quota__fail(r, QUOTA_EINVAL);
	if (u && u->key) {
		const quota__keyrec *k;

		if ((rc = quota__check_key(a->ctx, u->key)))
			return quota__fail(r, rc);
		if ((k = quota__key_find(a, u->key)))
			return charge_replay(a, k, u, r);
	}
	return general(a, u, r, commit);
}

/* A keyless charge the fast path left: a late report, or the rest.  (The
 * fast path tried one already where the charge is of another day; one
 * the fast path left for other reasons is tried here, and the few that
 * are tried twice then take the general path anyway.) */
static __attribute__((noinline)) int charge_slow(quota_account *a,
						 const quota_usage *u,
						 quota_receipt *r)
{
	int rc = late(a, u, r);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0)
		return quota__fail(r, rc);
	return run(a, u, r, true);
}

/* What quota__key_charge (keys.c, issue 16) leaves of a keyed charge: a
 * stored key replays its receipt, a new one the fast path could not
 * charge takes the general path. */
int quota__charge_keyed_rest(quota_account *a, const quota_usage *u,
			     quota_receipt *r, const quota__keyrec *found)
{
	if (found)
		return charge_replay(a, found, u, r);
	return general(a, u, r, true);
}

/* A keyless charge with a store (§5): the fast path writes its record,
 * in a copy for each way of computing its checksum. */
static __attribute__((noinline)) int charge_journaled(quota_account *a,
						      const quota_usage *u,
						      quota_receipt *r)
{
	int rc = quota__crc_hw() ? quota__fast(a, u, r, QUOTA__FAST_CHARGE,
					       NULL, 0, QUOTA__J_HW, NULL, 0)
				 : quota__fast(a, u, r, QUOTA__FAST_CHARGE,
					       NULL, 0, QUOTA__J_SW, NULL, 0);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0)
		return quota__fail(r, rc);
	return charge_slow(a, u, r);
}

/* R23: a charge that leaves a package at its renewal level renews it
 * after the charge's own record (renew.c); the charge's success stands
 * whatever the renewal's write does (repeating the charge would bill it
 * twice), and the renewal stays due for the next call. */
static __attribute__((noinline, cold)) int
charge_renewing(quota_account *a, const quota_usage *u, quota_receipt *r)
{
	int rc = u->key ? quota__key_charge(a, u, r) : run(a, u, r, true);

	if (!rc)
		(void)quota__renew_due(a, u->at, u->at);
	return rc;
}

int quota_charge(quota_account *a, const quota_usage *usage,
		 quota_receipt *receipt)
{
	if (likely(a && usage)) {
		if (unlikely(a->gate & QUOTA__GATE_RENEW))
			return charge_renewing(a, usage, receipt);
		if (usage->key) /* keys.c, issue 16 */
			return quota__key_charge(a, usage, receipt);
		if (unlikely(a->ctx->store_on))
			return charge_journaled(a, usage, receipt);
		if (likely(quota__fast(a, usage, receipt, QUOTA__FAST_CHARGE,
				       NULL, 0, QUOTA__J_NONE, NULL, 0)))
			return QUOTA_OK;
		return charge_slow(a, usage, receipt);
	}
	return run(a, usage, receipt, true);
}

int quota_quote(const quota_account *a, const quota_usage *usage,
		quota_receipt *receipt)
{
	if (likely(a && usage) &&
	    quota__fast((quota_account *)a, usage, receipt, QUOTA__FAST_QUOTE,
			NULL, 0, QUOTA__J_NONE, NULL, 0))
		return QUOTA_OK;
	return run(a, usage, receipt, false);
}
