/*
 * settle.c - settlement (R17): close complete periods into bills, price
 * volume tiers for the month (R14), pay each bill from the balance or
 * leave it outstanding and suspend the account (R18).
 *
 * The ledger (ledger.c) keeps, per local hour, category and source, what
 * was charged and what settlement has taken in (billed_*); every row that
 * differs is on its dirty list.  A settlement takes the dirty rows of
 * complete periods, bills the difference, and marks them taken.  Rows of
 * periods an earlier call already closed are "late" (a late delivery
 * report, a reversal): they are billed as late lines of the first bill of
 * this call rather than reopening a bill that was already paid.
 *
 * Volume tiers (R14) price all of a month's pay-as-you-go units at the
 * tier the month's whole volume reaches, which is not known until the
 * month ends.  Receipts carry the tier reached so far; settlement keeps
 * per (month, category) what it has billed (quota__vbill) and bills, after
 * each period, the difference between the month's price so far and that.
 * So the bills of a month always add up to the month's exact price.
 *
 * All or nothing (R8): everything is planned first in temporary buffers,
 * every sum overflow-checked and every allocation made; only then does
 * anything change.  Bills are handed to the caller after the state change,
 * like events.
 */
#include "journal.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* A dirty row of a complete period, in the order settlement takes it. */
typedef struct take {
	int64_t hour;
	uint32_t row, cat, src;
	uint32_t vb; /* its volume month in plan.vw, or NONE */
	int late;    /* of a period an earlier settlement closed */
} take;

/* A volume month as this settlement leaves it, and the last group that
 * changed it (so each group prices a month once). */
typedef struct vwork {
	quota__vbill v;
	uint32_t stamp;
} vwork;

typedef struct plan {
	quota_account *a;
	int64_t P;   /* period length, hours */
	int64_t cut; /* hours before this are in complete periods */
	take *tk;
	uint32_t ntk;
	vwork *vw;
	uint32_t nvw;
	uint32_t *touched; /* volume months the open group changed */
	uint32_t ntouched, group; /* group: rows priced together */
	quota_bill_line *lines; /* room for ntk: every line has a row */
	uint32_t nlines;
	quota_bill *bills; /* room for ntk: every bill has a group */
	uint32_t nbills;
	/* The open bill: its first line, whether it has a period yet, and
	 * its line of each (category, kind, late). */
	bool open, has_period;
	uint32_t first;
	int64_t forfeit; /* R24: gift money expired at the settlement's time
			  * (the record's last field) */
	/* Replaying a record of format 1.0 (quota_journal(5)): 1.0's rules,
	 * so that its state is what its writer's was: late lines share the
	 * first period's bill and alone are dated by the hour index before
	 * the cut-off, and gift money is forfeited only with bills. */
	bool legacy;
	/* In a scratch (below) that plans made one after another share:
	 * only building a plan reads them, so a context-wide settlement
	 * keeps every account's plan without these 1.3 KB each. */
	uint32_t (*slot)[2][2];
	uint32_t *vcache; /* last volume month found */
	int64_t pos, neg; /* sums of positive and negative bill totals */
} plan;

typedef struct plan_scratch {
	uint32_t slot[QUOTA_MAX_CATEGORIES][2][2];
	uint32_t vcache[QUOTA_MAX_CATEGORIES];
} plan_scratch;

static bool is_volume(const quota_tariff *t)
{
	return t && t->mode == QUOTA_VOLUME && t->ntiers > 0;
}

/* Late rows first, then by hour; category and source make it stable. */
static int cmp_take(const void *x, const void *y)
{
	const take *p = x, *q = y;

	if (p->late != q->late)
		return q->late - p->late;
	if (p->hour != q->hour)
		return p->hour < q->hour ? -1 : 1;
	if (p->cat != q->cat)
		return p->cat < q->cat ? -1 : 1;
	return p->src < q->src ? -1 : p->src > q->src;
}

/* Lines of a bill: category order, usage before fees, late after. */
static int cmp_line(const void *x, const void *y)
{
	const quota_bill_line *p = x, *q = y;

	if (p->category != q->category)
		return p->category < q->category ? -1 : 1;
	if (p->kind != q->kind)
		return p->kind - q->kind;
	return p->late - q->late;
}

static void plan_free(plan *pl)
{
	const quota__mem *mem = &pl->a->ctx->mem;

	quota__free(mem, pl->tk);
	quota__free(mem, pl->vw);
	quota__free(mem, pl->touched);
	quota__free(mem, pl->lines);
	quota__free(mem, pl->bills);
}

/*
 * tk in cmp_take's order (a total one: a row's hour, category and source
 * are its key in the ledger).  The dirty list holds rows in the order they
 * were first changed since the last settlement, which for usage reported
 * as it happens is by hour already, but for the categories within an
 * hour: an insertion sort puts such a day in order in about one pass,
 * where qsort took a tenth of a simulated year's instructions (quota-sim,
 * daily settlement).  Late rows go first, so many of them behind many
 * others would make it quadratic: past 8 moves a row on average (8n + 64
 * in all), qsort sorts the whole list.
 */
static void sort_takes(take *tk, uint32_t n)
{
	uint64_t moves = 8 * (uint64_t)n + 64;
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		take x = tk[i];

		for (j = i; j && cmp_take(&x, &tk[j - 1]) < 0; j--) {
			if (!moves--) {
				tk[j] = x; /* whole again, then sorted */
				qsort(tk, n, sizeof *tk, cmp_take);
				return;
			}
			tk[j] = tk[j - 1];
		}
		tk[j] = x;
	}
}

/* The dirty rows of complete periods, sorted into processing order. */
static int collect(plan *pl)
{
	const quota_account *a = pl->a;
	const quota__ledger *l = &a->ledger;
	uint32_t i, n = 0;

	for (i = 0; i < l->ndirty; i++)
		n += l->rows[l->dirty[i]].hour < pl->cut;
	if (!n)
		return QUOTA_OK;
	pl->tk = quota__malloc(&a->ctx->mem, (size_t)n * sizeof *pl->tk);
	if (!pl->tk)
		return QUOTA_ENOMEM;
	for (i = 0; i < l->ndirty; i++) {
		const quota__lrow *r = &l->rows[l->dirty[i]];
		take *k;

		if (r->hour >= pl->cut)
			continue;
		k = &pl->tk[pl->ntk++];
		k->hour = r->hour;
		k->row = l->dirty[i];
		k->cat = r->cat;
		k->src = r->src;
		k->vb = NONE;
		k->late = r->hour < a->x->settled_upto;
	}
	sort_takes(pl->tk, pl->ntk);
	return QUOTA_OK;
}

/* The working entry of (month, cat), added if new; room was made. */
static uint32_t vbill_of(plan *pl, uint32_t cat, int64_t month)
{
	uint32_t i = pl->vcache[cat];
	vwork *w;

	if (i != NONE && pl->vw[i].v.month == month)
		return i;
	for (i = pl->nvw; i-- > 0;)
		if (pl->vw[i].v.cat == cat && pl->vw[i].v.month == month)
			return pl->vcache[cat] = i;
	w = &pl->vw[pl->nvw];
	memset(w, 0, sizeof *w);
	w->v.month = month;
	w->v.cat = cat;
	w->stamp = NONE;
	return pl->vcache[cat] = pl->nvw++;
}

/*
 * R14: a working copy of the account's volume months, with room for one
 * new month per row, and each volume row's month.  Fees are not usage:
 * they add nothing to the volume.
 */
static int volume_months(plan *pl)
{
	const quota__mem *mem = &pl->a->ctx->mem;
	const quota_account *a = pl->a;
	size_t cap = a->x->nvbills + (size_t)pl->ntk;
	uint32_t i;

	pl->vw = quota__malloc(mem, cap * sizeof *pl->vw);
	pl->touched = quota__malloc(mem, cap * sizeof *pl->touched);
	if (!pl->vw || !pl->touched)
		return QUOTA_ENOMEM;
	for (i = 0; i < a->x->nvbills; i++) {
		pl->vw[i].v = a->x->vbills[i];
		pl->vw[i].stamp = NONE;
	}
	pl->nvw = (uint32_t)a->x->nvbills;
	for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
		pl->vcache[i] = NONE;
	for (i = 0; i < pl->ntk; i++) {
		take *k = &pl->tk[i];

		if (k->src != QUOTA__LSRC_FEE &&
		    is_volume(quota__tariff_of(a, k->cat))) {
			int64_t day = quota__hour_day(pl->a, k->hour);

			k->vb = vbill_of(pl, k->cat, quota__month_of_day(day));
		}
	}
	return QUOTA_OK;
}

/* The open bill's line of (cat, kind, late), created empty. */
static quota_bill_line *line_of(plan *pl, uint32_t cat, int32_t kind,
				int late)
{
	uint32_t *s = &pl->slot[cat][kind][late];
	quota_bill_line *ln;

	if (*s != NONE)
		return &pl->lines[*s];
	*s = pl->nlines++;
	ln = &pl->lines[*s];
	memset(ln, 0, sizeof *ln);
	ln->category = cat;
	ln->kind = kind;
	ln->late = late;
	return ln;
}

/* Bill what a row changed since it was last taken in. */
static int add_row(plan *pl, const take *k)
{
	const quota__lrow *r = &pl->a->ledger.rows[k->row];
	bool payg = k->src == QUOTA__LSRC_PAYG;
	quota_bill_line *ln;
	int64_t du, dc;

	if (__builtin_sub_overflow(r->units, r->billed_units, &du) ||
	    __builtin_sub_overflow(r->cost, r->billed_cost, &dc))
		return QUOTA_EOVERFLOW;
	if (k->vb != NONE) {
		vwork *w = &pl->vw[k->vb];

		if (quota__add_ovf(w->v.units, du, &w->v.units) ||
		    (payg && quota__add_ovf(w->v.payg, du, &w->v.payg)))
			return QUOTA_EOVERFLOW;
		if (w->stamp != pl->group) {
			w->stamp = pl->group;
			pl->touched[pl->ntouched++] = k->vb;
		}
	}
	if (!payg && k->src != QUOTA__LSRC_FEE)
		return QUOTA_OK; /* free and package units cost nothing */
	ln = line_of(pl, k->cat, payg ? QUOTA_LINE_USAGE : QUOTA_LINE_FEE,
		     k->late);
	if (quota__add_ovf(ln->units, du, &ln->units) ||
	    quota__add_ovf(ln->receipts_micros, dc, &ln->receipts_micros))
		return QUOTA_EOVERFLOW;
	/* A volume month's usage is billed by its price (close_group). */
	if (k->vb == NONE &&
	    quota__add_ovf(ln->amount_micros, dc, &ln->amount_micros))
		return QUOTA_EOVERFLOW;
	return QUOTA_OK;
}

/*
 * R14: after a group of rows, price each volume month it changed: its
 * pay-as-you-go units all at the tier its volume reaches.  The difference
 * from what the month was billed so far goes on this group's usage line.
 */
static int close_group(plan *pl, int late)
{
	uint32_t i;

	for (i = 0; i < pl->ntouched; i++) {
		quota__vbill *v = &pl->vw[pl->touched[i]].v;
		int64_t before, target, delta;
		quota_bill_line *ln;

		if (__builtin_sub_overflow(v->units, v->payg, &before) ||
		    quota__tariff_price_lines(quota__tariff_of(pl->a, v->cat), before,
					      v->payg, NULL, NULL, &target) ||
		    __builtin_sub_overflow(target, v->billed, &delta))
			return QUOTA_EOVERFLOW;
		v->billed = target;
		ln = line_of(pl, v->cat, QUOTA_LINE_USAGE, late);
		if (quota__add_ovf(ln->amount_micros, delta, &ln->amount_micros))
			return QUOTA_EOVERFLOW;
	}
	pl->ntouched = 0;
	pl->group++;
	return QUOTA_OK;
}

/* The UTC bounds of period index k. */
static void set_period(plan *pl, quota_bill *b, int64_t k)
{
	b->period_start = quota__hour_start(pl->a, k * pl->P);
	b->period_end = quota__hour_start(pl->a, (k + 1) * pl->P);
	pl->has_period = true;
}

static void open_bill(plan *pl)
{
	quota_bill *b = &pl->bills[pl->nbills++];

	memset(b, 0, sizeof *b);
	b->account = pl->a;
	pl->open = true;
	pl->has_period = false;
	pl->first = pl->nlines;
	memset(pl->slot, 0xff, sizeof(uint32_t[QUOTA_MAX_CATEGORIES][2][2]));
}

/* Is line x empty (dropped when its bill closes)? */
static bool empty_line(const quota_bill_line *x)
{
	return !x->units && !x->receipts_micros && !x->amount_micros;
}

/* Has the open bill a line of its period's own (not late) left? */
static bool own_lines(const plan *pl)
{
	uint32_t i;

	for (i = pl->first; i < pl->nlines; i++)
		if (!pl->lines[i].late && !empty_line(&pl->lines[i]))
			return true;
	return false;
}

/* R17: the last complete period before the cut-off: the period of the
 * hour that ends where the cut-off's begins (in a zone, hour indices
 * are not contiguous across days: ctx.h). */
static void set_last_period(plan *pl, quota_bill *b)
{
	int64_t end = quota__hour_start(pl->a, pl->cut);

	set_period(pl, b, quota__floor_div(quota__hour_of(pl->a, end - 1),
					    pl->P));
}

/*
 * Finish the open bill: lines in order, adjustments and rounding (R17),
 * empty lines dropped, and the bill too if none is left.  Late lines
 * alone (no period of this settlement billed anything: build) make a
 * bill of the last complete period.
 */
static int close_bill(plan *pl)
{
	quota_bill *b = &pl->bills[pl->nbills - 1];
	quota_bill_line *ln = pl->lines + pl->first;
	uint32_t i, n = pl->nlines - pl->first, m = 0;
	bool own = false;

	pl->open = false;
	qsort(ln, n, sizeof *ln, cmp_line);
	for (i = 0; i < n; i++) {
		quota_bill_line *x = &ln[i];

		if (empty_line(x))
			continue;
		if (__builtin_sub_overflow(x->amount_micros, x->receipts_micros,
					   &x->adjustment_micros) ||
		    quota_money_round(x->amount_micros, pl->a->x->minor_unit,
				      pl->a->x->rounding, &x->rounded_micros) ||
		    quota__add_ovf(b->amount_micros, x->amount_micros,
				   &b->amount_micros) ||
		    quota__add_ovf(b->total_micros, x->rounded_micros,
				   &b->total_micros))
			return QUOTA_EOVERFLOW;
		own |= !x->late;
		ln[m++] = *x;
	}
	pl->nlines = pl->first + m;
	if (!m) {
		pl->nbills--;
		return QUOTA_OK;
	}
	b->lines = ln;
	b->nlines = m;
	if (pl->legacy) {
		if (!pl->has_period)
			set_period(pl, b, quota__floor_div(pl->cut, pl->P) - 1);
	} else if (!pl->has_period || !own) {
		set_last_period(pl, b);
	}
	if (b->total_micros > 0
		    ? quota__add_ovf(pl->pos, b->total_micros, &pl->pos)
		    : quota__add_ovf(pl->neg, b->total_micros, &pl->neg))
		return QUOTA_EOVERFLOW;
	return QUOTA_OK;
}

/*
 * The bills, in period order.  A group is the late rows, or the rows of
 * one period; the late group comes first and shares the bill of the
 * first period that bills something (R17, quota_settle(3): "on the first
 * bill that settlement makes"): a bill with no line of its own period
 * yet (free or package units only, or amounts that cancel) stays open
 * for the next period, which dates it.
 */
static int build(plan *pl)
{
	const quota__mem *mem = &pl->a->ctx->mem;
	uint32_t i = 0, j;
	int rc;

	pl->lines = quota__malloc(mem, (size_t)pl->ntk * sizeof *pl->lines);
	pl->bills = quota__malloc(mem, (size_t)pl->ntk * sizeof *pl->bills);
	if (!pl->lines || !pl->bills)
		return QUOTA_ENOMEM;
	while (i < pl->ntk) {
		int late = pl->tk[i].late;
		int64_t per = quota__floor_div(pl->tk[i].hour, pl->P);

		for (j = i; j < pl->ntk && pl->tk[j].late == late &&
			    (late ||
			     quota__floor_div(pl->tk[j].hour, pl->P) == per);
		     j++)
			;
		/* A new bill, unless this is the first period and the late
		 * rows opened its bill. */
		if (late || !pl->open ||
		    (pl->has_period && (pl->legacy || own_lines(pl)))) {
			if (pl->open && (rc = close_bill(pl)))
				return rc;
			open_bill(pl);
		}
		if (!late)
			set_period(pl, &pl->bills[pl->nbills - 1], per);
		for (; i < j; i++)
			if ((rc = add_row(pl, &pl->tk[i])))
				return rc;
		if ((rc = close_group(pl, late)))
			return rc;
	}
	return pl->open ? close_bill(pl) : QUOTA_OK;
}

/* Room for everything apply does, so it cannot fail. */
static int make_room(plan *pl)
{
	quota_account *a = pl->a;
	quota_ctx *ctx = a->ctx;

	if (!quota__money_fits(a, pl->pos, pl->neg))
		return QUOTA_EOVERFLOW;
	/* The ext first: apply writes it, and the room below grows arrays
	 * in it (an account that has written no money or setting yet shares
	 * the read-only quota__ext_none; growing that wrote to it) */
	if (quota__ext_need(a))
		return QUOTA_ENOMEM;
	/* Each bill may suspend or resume the account: an event each. */
	if (quota__grow(&ctx->mem, (void **)&a->x->vbills, &a->x->cap_vbills,
			pl->nvw, sizeof *a->x->vbills) ||
	    quota__events_room(a, pl->nbills))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

static void apply(plan *pl)
{
	quota_account *a = pl->a;
	quota__ledger *l = &a->ledger;
	uint32_t i, n = 0;

	for (i = 0; i < pl->ntk; i++) {
		quota__lrow *r = &l->rows[pl->tk[i].row];

		r->billed_units = r->units;
		r->billed_cost = r->cost;
		r->dirty = false;
	}
	for (i = 0; i < l->ndirty; i++) /* keep the open periods' rows */
		if (l->rows[l->dirty[i]].dirty)
			l->dirty[n++] = l->dirty[i];
	l->ndirty = n;
	for (i = 0; i < pl->nvw; i++)
		a->x->vbills[i] = pl->vw[i].v;
	a->x->nvbills = pl->nvw;
	if (pl->cut > a->x->settled_upto)
		a->x->settled_upto = pl->cut;
	for (i = 0; i < pl->nbills; i++) {
		quota_bill *b = &pl->bills[i];

		quota__split sp;

		b->seq = ++a->x->bill_seq;
		b->status = quota__money_bill(a, b->total_micros, &sp);
		b->balance_micros = a->x->balance;
		b->gift_micros = sp.gift; /* R24 */
		b->cash_micros = sp.cash;
		b->credit_micros = sp.credit;
	}
	/* Rows a category caches may have been taken in: a charge must put
	 * them back on the dirty list, which the cache would skip. */
	quota__ledger_uncache(a);
}

/*
 * A settlement through the write path (§5).  Prepare plans the bills;
 * replay (expect: the rest of the record) checks there that they are the
 * recorded ones, so a mismatch is refused before anything applies.  The
 * plan's buffers are the call's: quota__settle frees them whatever the
 * outcome, so there is nothing to undo.
 */
struct settle_op {
	plan pl;
	int64_t now;
	quota_bill_fn on_bill;
	void *ud;
	quota__rbuf *expect;
};

static int settle_prepare(void *v)
{
	struct settle_op *op = v;
	plan *pl = &op->pl;
	quota_account *a = pl->a;
	quota__rbuf *expect = op->expect;
	uint32_t i;
	int rc;

	if (!quota__time_ok(op->now))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': settlement time out of range",
				  a->id);
	/* A day's hours: 24 with an offset; a zone's hour numbers leave
	 * room for 64 (ctx.h, R26), so its days are the same arithmetic. */
	pl->P = a->x->settle_period == QUOTA_PERIOD_HOUR ? 1
		: a->zoned				 ? QUOTA__ZONE_HOURS
							 : 24;
	pl->cut = quota__floor_div(quota__hour_of(a, op->now), pl->P) * pl->P;
	/* a record of format 1.0 replays by 1.0's rules (plan) */
	pl->legacy = a->ctx->replaying && a->ctx->rec_minor < 1;
	quota__ledger_fold(a); /* invisible: the rows get the pending sums */
	if ((rc = collect(pl)) ||
	    (pl->ntk && ((rc = volume_months(pl)) || (rc = build(pl)) ||
			 (rc = make_room(pl)))))
		return quota__err(a->ctx, rc, "account '%s': %s", a->id,
				  rc == QUOTA_ENOMEM
					  ? "out of memory"
					  : "settlement amounts overflow");
	/* Nothing to take in, no period to close and no gift money to
	 * forfeit (R24: a settlement at or after a grant's expiry forfeits
	 * it, bills or none): no record. */
	pl->forfeit = pl->legacy ? 0 : quota__gift_forfeit(a, op->now);
	if (!pl->ntk && pl->cut <= a->x->settled_upto && !pl->forfeit)
		return QUOTA__NOTHING;
	if (pl->forfeit && (rc = quota__events_reserve(a)))
		return quota__err(a->ctx, rc, "account '%s': out of memory",
				  a->id);
	if (expect) {
		bool same = quota__get_sv(expect) == pl->cut &&
			    quota__get_uv(expect) == pl->nbills;

		for (i = 0; same && i < pl->nbills; i++)
			same = quota__get_sv(expect) ==
			       pl->bills[i].total_micros;
		/* 1.1: the gift money forfeited */
		if (same && !pl->legacy)
			same = quota__get_sv(expect) == pl->forfeit;
		/* the whole record read before anything applies */
		if (!same || expect->bad || expect->off != expect->n)
			return quota__err(a->ctx, QUOTA_ECORRUPT,
					  "account '%s': settlement record "
					  "does not match its bills",
					  a->id);
	}
	/* Something to settle: apply writes the ext (an idle account
	 * settled daily keeps none). */
	return quota__ext_need(a);
}

/* The record: the time, the cut-off, each bill's total and (format 1.1)
 * the gift money forfeited. */
static void settle_encode(quota__wbuf *w, const void *v)
{
	const struct settle_op *op = v;
	uint32_t i;

	quota__put_sv(w, op->now);
	quota__put_sv(w, op->pl.cut);
	quota__put_uv(w, op->pl.nbills);
	for (i = 0; i < op->pl.nbills; i++)
		quota__put_sv(w, op->pl.bills[i].total_micros);
	quota__put_sv(w, op->pl.forfeit); /* format 1.1 */
}

static void settle_apply(void *v)
{
	plan *pl = &((struct settle_op *)v)->pl;

	/* R24: the gift money expired at the settlement's time is forfeited
	 * first, whether or not there are bills (they are paid at that
	 * time). */
	if (pl->ntk || !pl->legacy)
		quota__gift_expire(pl->a, ((struct settle_op *)v)->now);
	if (pl->ntk) {
		apply(pl);
		return;
	}
	/* Nothing to take in; the periods are closed all the same, so usage
	 * reported for them later is late (a settlement that only forfeits
	 * gift money, at or before the cut-off, moves it no way). */
	if (pl->cut > pl->a->x->settled_upto)
		pl->a->x->settled_upto = pl->cut;
}

/* The bills go to the caller after the state change, like events. */
static void settle_events(void *v)
{
	struct settle_op *op = v;
	quota_account *a = op->pl.a;
	uint32_t i;

	for (i = 0; i < op->pl.nbills; i++)
		if (op->on_bill && op->on_bill(&op->pl.bills[i], op->ud) != 0)
			a->ctx->hook_failures++;
	quota__events_flush(a);
}

static const quota__step settle_steps = {
	.rec = QUOTA__R_SETTLE,
	.prepare = settle_prepare,
	.encode = settle_encode,
	.apply = settle_apply,
	.events = settle_events,
};

int64_t quota_settle(quota_account *a, int64_t now, quota_bill_fn on_bill,
		     void *ud)
{
	int64_t n = quota__settle(a, now, on_bill, ud, NULL);

	/* §7 retention: its own record after the settlement's (replay
	 * applies that record, so quota__settle does not prune). */
	if (n >= 0 && a->x->retain_s) {
		quota__retain(a);
		quota__ok(a->ctx);
	}
	return n;
}

int64_t quota__settle(quota_account *a, int64_t now, quota_bill_fn on_bill,
		      void *ud, quota__rbuf *expect)
{
	struct settle_op op;
	plan_scratch sc;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	memset(&op, 0, sizeof op);
	op.pl.a = a;
	op.pl.slot = sc.slot;
	op.pl.vcache = sc.vcache;
	op.now = now;
	op.on_bill = on_bill;
	op.ud = ud;
	op.expect = expect;
	rc = quota__write(a->ctx, a, &settle_steps, &op);
	plan_free(&op.pl);
	if (rc == QUOTA__NOTHING)
		return 0;
	if (rc)
		return rc;
	return op.pl.nbills;
}

/*
 * quota_settle for every account of the context (§7), like
 * quota_ctx_tick.  With a store, each account's settlement is its own
 * record: the walk stops at the first refusal, the accounts before it
 * stand, and settling again bills only what is left.  Without one, all
 * or nothing: every account's settlement is prepared (planned, checked
 * and allocated) before any applies, and then none can fail; only the
 * plans of accounts with something to settle are kept meanwhile.  Each
 * account then runs the rest of its own write path (quota__write_from):
 * apply, its bills, its events.
 */
int64_t quota_ctx_settle(quota_ctx *ctx, int64_t now, quota_bill_fn on_bill,
			 void *ud)
{
	struct settle_op *ops = NULL, op;
	plan_scratch sc;
	size_t i, n = 0, cap = 0;
	int64_t total = 0, k;
	int rc = QUOTA_OK;

	if (!ctx)
		return QUOTA_EINVAL;
	if (!quota__time_ok(now))
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_settle: time out of range");
	if (ctx->store_on) {
		for (i = 0; i < ctx->naccounts; i++) {
			if ((k = quota_settle(ctx->accounts[i], now, on_bill,
					      ud)) < 0)
				return k;
			total += k;
		}
		quota__ok(ctx);
		return total;
	}
	for (i = 0; i < ctx->naccounts; i++) {
		memset(&op, 0, sizeof op);
		op.pl.a = ctx->accounts[i];
		op.pl.slot = sc.slot;
		op.pl.vcache = sc.vcache;
		op.now = now;
		op.on_bill = on_bill;
		op.ud = ud;
		rc = settle_prepare(&op);
		if (rc == QUOTA__NOTHING) {
			plan_free(&op.pl);
			rc = QUOTA_OK;
			continue;
		}
		if (!rc && quota__grow(&ctx->mem, (void **)&ops, &cap, n + 1,
				       sizeof *ops))
			rc = quota__err(ctx, QUOTA_ENOMEM,
					"quota_ctx_settle: out of memory");
		if (rc) {
			plan_free(&op.pl);
			break;
		}
		ops[n++] = op;
	}
	for (i = 0; i < n; i++) {
		if (!rc) {
			/* No store: nothing after prepare can fail. */
			quota__write_from(ctx, ops[i].pl.a, &settle_steps,
					  &ops[i], QUOTA_OK);
			total += ops[i].pl.nbills;
		}
		plan_free(&ops[i].pl);
	}
	quota__free(&ctx->mem, ops);
	/* §7 retention after every account's settlement, as quota_settle
	 * (and so the walk with a store) does, whether or not it closed
	 * anything: the state does not depend on having a store. */
	for (i = 0; !rc && i < ctx->naccounts; i++)
		if (ctx->accounts[i]->x->retain_s)
			quota__retain(ctx->accounts[i]);
	if (rc)
		return rc;
	quota__ok(ctx);
	return total;
}

/* §7 pruning (prune.c): the volume months before month, all settled (the
 * horizon is never after the first unsettled period), go; the rest move
 * to an array of their size. */
int quota__vbills_prune_count(quota_account *a, int64_t month,
			      quota__shrink *s)
{
	size_t i;

	memset(s, 0, sizeof *s);
	for (i = 0; i < a->x->nvbills; i++)
		s->drop += a->x->vbills[i].month < month;
	s->keep = (uint32_t)a->x->nvbills - s->drop;
	if (!s->drop || !s->keep)
		return QUOTA_OK;
	s->p[0] = quota__malloc(&a->ctx->mem,
				(size_t)s->keep * sizeof *a->x->vbills);
	return s->p[0] ? QUOTA_OK : QUOTA_ENOMEM;
}

void quota__vbills_prune_apply(quota_account *a, int64_t month,
			       quota__shrink *s)
{
	quota__vbill *v = s->p[0];
	size_t i, n = 0;

	if (!s->drop)
		return;
	for (i = 0; v && i < a->x->nvbills; i++)
		if (a->x->vbills[i].month >= month)
			v[n++] = a->x->vbills[i];
	quota__free(&a->ctx->mem, a->x->vbills);
	a->x->vbills = v;
	a->x->nvbills = a->x->cap_vbills = n;
	memset(s, 0, sizeof *s);
}
