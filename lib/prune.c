/*
 * prune.c - bounded memory for long-running hosts (DESIGN §7): drop the
 * ledger rows, period counters and volume-month totals of the past, and
 * retention, which does so after every settlement.
 *
 * Rules chosen (documented in quota_account_prune(3)):
 *   - the cut is the account's horizon: the time asked for, moved back to
 *     the first unsettled period, the earliest hour with usage settlement
 *     has not taken in, the earliest open hold's usage time and the
 *     account clock.  So settlement still finds every row it will bill,
 *     the current day and month keep their counters (caps, free
 *     allowances, tiers) and a hold can still resolve;
 *   - the account keeps the latest horizon (pruned_before).  Reports and
 *     look-ups reaching before it fail with QUOTA_EPRUNED rather than
 *     answer from partial rows; usage before it (a late charge or
 *     reservation, a reversal of a charge before it) is refused with the
 *     same code, since its counters, rows and volume month may be gone;
 *   - with a store, a prune is one record (its inputs, the horizon and
 *     how much it dropped of each part), and replay drops the same,
 *     refusing a record whose horizon or counts differ;
 *   - packages (QUOTA_PRUNE_PACKAGES, asked for by name: it frees package
 *     handles) go when expired at the horizon or exhausted, unless a
 *     ledger row left after the prune or an open hold refers to them, or
 *     an exhausted STOP package still stops its categories (R7).  So
 *     their usage is all before the horizon, where no report, reversal
 *     or late charge reaches.  Records, rows and key records number
 *     packages by their place among the account's packages in the order
 *     added; a prune renumbers the rest in that order, and replay does
 *     the same.  A key record naming a dropped package keeps its receipt
 *     (the line's package is gone).
 *
 * This file is the only writer of pruned_before and the retention
 * setting; each part is dropped by its owner (ledger.c, counters.c,
 * settle.c, package.c).
 */
#include "journal.h"

#include <string.h>

struct prune_op {
	quota_account *a;
	int64_t before;
	uint32_t what;
	quota__rbuf *expect; /* replay: the rest of the record */
	int64_t horizon;
	int64_t hour, day, month; /* the cut of each part */
	quota__shrink led, cnt, vb, pkg;
};

/* The flags a prune or retention may name. */
#define PRUNE_KNOWN (QUOTA_PRUNE_ALL | QUOTA_PRUNE_PACKAGES)

static int64_t min64(int64_t x, int64_t y)
{
	return x < y ? x : y;
}

/* The earliest time the account may be cut at, for a cut asked at t. */
static int64_t horizon(const quota_account *a, int64_t t)
{
	const quota__ledger *l = &a->ledger;
	uint32_t i;

	if (a->x->settled_upto == INT64_MIN || a->clock == INT64_MIN)
		return INT64_MIN; /* nothing settled, or nothing happened */
	t = min64(t, quota__hour_start(a, a->x->settled_upto));
	t = min64(t, a->clock);
	for (i = 0; i < l->ndirty; i++)
		t = min64(t, quota__hour_start(a, l->rows[l->dirty[i]].hour));
	for (i = 0; i < a->x->hold_tab_cap; i++)
		if (a->x->hold_tab[i])
			t = min64(t, a->x->hold_tab[i]->box.src.at);
	return t;
}

static int prune_prepare(void *v)
{
	struct prune_op *op = v;
	quota_account *a = op->a;
	quota__rbuf *x = op->expect;
	int rc = QUOTA_OK;

	if (!quota__time_ok(op->before))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': prune time out of range",
				  a->id);
	if (!op->what || (op->what & ~PRUNE_KNOWN))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': prune flags 0x%x unknown or "
				  "none",
				  a->id, (unsigned)op->what);
	quota__ledger_fold(a); /* invisible: the rows get the pending sums */
	op->horizon = horizon(a, op->before);
	if (op->horizon != INT64_MIN) {
		op->hour = quota__hour_of(a, op->horizon);
		op->day = quota__day_of(quota__local(a, op->horizon));
		op->month = quota__month_of_day(op->day);
		if (((op->what & QUOTA_PRUNE_LEDGER) &&
		     (rc = quota__ledger_prune_count(a, op->hour, &op->led))) ||
		    ((op->what & QUOTA_PRUNE_COUNTERS) &&
		     (rc = quota__counters_prune_count(a, op->day, op->month,
						       &op->cnt))) ||
		    ((op->what & QUOTA_PRUNE_BILLS) &&
		     (rc = quota__vbills_prune_count(a, op->month, &op->vb))) ||
		    ((op->what & QUOTA_PRUNE_PACKAGES) &&
		     (rc = quota__packages_prune_count(
			      a, op->horizon, op->what & QUOTA_PRUNE_LEDGER,
			      op->hour, &op->pkg))))
			return quota__nomem(a);
	}
	if (x) {
		bool same = quota__get_sv(x) == op->horizon &&
			    quota__get_uv(x) == op->led.drop &&
			    quota__get_uv(x) == op->cnt.drop &&
			    quota__get_uv(x) == op->vb.drop &&
			    (!(op->what & QUOTA_PRUNE_PACKAGES) ||
			     quota__get_uv(x) == op->pkg.drop);

		if (!same || x->bad || x->off != x->n)
			return quota__err(a->ctx, QUOTA_ECORRUPT,
					  "account '%s': prune record does not "
					  "match what the account would drop",
					  a->id);
	}
	if (op->horizon <= a->pruned_before && !op->led.drop &&
	    !op->cnt.drop && !op->vb.drop && !op->pkg.drop)
		return QUOTA__NOTHING;
	return QUOTA_OK;
}

/* The record: the inputs, the horizon and what each part drops. */
static void prune_encode(quota__wbuf *w, const void *v)
{
	const struct prune_op *op = v;

	quota__put_sv(w, op->before);
	quota__put_uv(w, op->what);
	quota__put_sv(w, op->horizon);
	quota__put_uv(w, op->led.drop);
	quota__put_uv(w, op->cnt.drop);
	quota__put_uv(w, op->vb.drop);
	if (op->what & QUOTA_PRUNE_PACKAGES) /* only then: older records */
		quota__put_uv(w, op->pkg.drop);
}

static void prune_apply(void *v)
{
	struct prune_op *op = v;
	quota_account *a = op->a;
	uint32_t dropped = op->pkg.drop; /* its apply zeroes op->pkg */

	quota__ledger_prune_apply(a, op->hour, &op->led);
	quota__counters_prune_apply(a, op->day, op->month, &op->cnt);
	quota__vbills_prune_apply(a, op->month, &op->vb);
	quota__packages_prune_apply(a, &op->pkg);
	/* R23: the packages bought from offers that went with them leave
	 * the renewal state, which would point at freed packages */
	if (dropped && quota__rn(a)->nbought)
		quota__renew_pruned(a);
	if (op->horizon > a->pruned_before)
		a->pruned_before = op->horizon;
}

static const quota__step prune_steps = {
	.ext = true,
	.rec = QUOTA__R_PRUNE,
	.prepare = prune_prepare,
	.encode = prune_encode,
	.apply = prune_apply,
};

void quota__shrink_undo(quota_account *a, quota__shrink *s)
{
	for (int i = 0; i < 3; i++)
		quota__free(&a->ctx->mem, s->p[i]);
	memset(s, 0, sizeof *s);
}

int quota__prune(quota_account *a, int64_t before, uint32_t what,
		 quota__rbuf *expect)
{
	struct prune_op op;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	memset(&op, 0, sizeof op);
	op.a = a;
	op.before = before;
	op.what = what;
	op.expect = expect;
	rc = quota__write(a->ctx, a, &prune_steps, &op);
	/* Whatever the outcome: apply took what it moved (and cleared it),
	 * the rest goes back. */
	quota__shrink_undo(a, &op.led);
	quota__shrink_undo(a, &op.cnt);
	quota__shrink_undo(a, &op.vb);
	quota__shrink_undo(a, &op.pkg);
	return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
}

int quota_account_prune(quota_account *a, int64_t before, uint32_t what)
{
	return quota__prune(a, before, what, NULL);
}

int64_t quota_account_pruned_before(const quota_account *a)
{
	return a ? a->pruned_before : INT64_MIN;
}

void quota__retain(quota_account *a)
{
	int64_t before;

	if (!a->x->retain_s || a->x->settled_upto == INT64_MIN ||
	    __builtin_sub_overflow(quota__hour_start(a, a->x->settled_upto),
				   a->x->retain_s, &before) ||
	    !quota__time_ok(before))
		return;
	/* A refusal leaves the data for the next settlement to prune. */
	(void)quota__prune(a, before, a->x->retain_what, NULL);
}

/* quota_account_set_retention through the write path (§5). */
struct retention_op {
	quota_account *a;
	int64_t seconds;
	uint32_t what;
};

static int retention_prepare(void *v)
{
	const struct retention_op *op = v;

	if (op->seconds < 0 || op->seconds > QUOTA_TIME_MAX - QUOTA_TIME_MIN ||
	    (op->what & ~PRUNE_KNOWN) || (op->seconds && !op->what))
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': retention needs seconds >= 0 "
				  "and known prune flags (some, unless 0)",
				  op->a->id);
	return QUOTA_OK;
}

static void retention_encode(quota__wbuf *w, const void *v)
{
	const struct retention_op *op = v;

	quota__put_sv(w, op->seconds);
	quota__put_sv(w, op->what);
}

static void retention_apply(void *v)
{
	struct retention_op *op = v;

	op->a->x->retain_s = op->seconds;
	op->a->x->retain_what = op->seconds ? op->what : 0;
}

static const quota__step retention_steps = {
	.ext = true,
	.rec = QUOTA__R_RETENTION,
	.prepare = retention_prepare,
	.encode = retention_encode,
	.apply = retention_apply,
};

int quota_account_set_retention(quota_account *a, int64_t seconds,
				uint32_t what)
{
	struct retention_op op = {a, seconds, what};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &retention_steps, &op);
}
