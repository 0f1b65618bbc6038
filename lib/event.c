/*
 * event.c - events (R21): low-quota alerts, package exhausted / expired /
 * expiring, cap reached, delivered to the context's hook synchronously
 * after the state change they report, once per crossing.
 *
 * Nothing here runs unless a hook is set.  Then each account keeps its
 * clock (the latest usage or tick time), which packages are usable at it,
 * and per category the sum of their remaining and bought units, updated
 * as units move, so an alert check is O(1) and a clock step is O(packages
 * whose start or end it passes).  Events raised while a call applies are
 * queued in a buffer sized in the call's plan and delivered at its end.
 */
#include "journal.h"

#include <string.h>

static void setup(quota_account *a);

/* A package's tracking bits (QUOTA__PK_*). */
#define IS(p, bit) quota__pk_is((p), QUOTA__PK_##bit)
#define SET(p, bit, on) quota__pk_set((p), QUOTA__PK_##bit, (on))

/*
 * Tracking is set up lazily, in the apply of the first change after a hook
 * was set (§5: a call refused by the store changes nothing, so its prepare
 * only makes room: quota__events_room).  Without that room (a caller that
 * did not prepare: cannot happen) the call is not tracked.
 */
bool quota__track(quota_account *a)
{
	if (!a->ctx->hook || a->x == &quota__ext_none)
		return false;
	if (a->x->track_gen != a->ctx->hook_gen) {
		if (a->x->cap_by_eff < a->npackages || a->x->cap_by_exp < a->npackages)
			return false;
		setup(a);
	}
	return true;
}

quota_event *quota__event_queue(quota_account *a, int32_t kind, uint32_t cat,
				const quota_package *p, int64_t remaining,
				int64_t threshold, int32_t period)
{
	quota_ctx *ctx = a->ctx;
	quota_event *e;

	if (ctx->nev >= ctx->cap_ev)
		return NULL; /* cannot happen: plans reserve room */
	e = &ctx->evbuf[ctx->nev++];
	e->kind = kind;
	e->category = cat;
	e->account = a;
	e->package = p;
	e->remaining = remaining;
	e->threshold = threshold;
	e->at = a->clock;
	e->period = period;
	e->outstanding_micros = a->x->outstanding;
	e->balance_micros = a->x->balance;
	e->receipt = NULL;
	e->reason = NULL;
	return e;
}

int quota__events_receipts(quota_account *a, size_t n)
{
	quota_ctx *ctx = a->ctx;

	if (!ctx->hook || ctx->replaying || !n)
		return QUOTA_OK;
	return quota__grow(&ctx->mem, (void **)&ctx->evrcpt, &ctx->cap_rcpt,
			   ctx->nrcpt + n, sizeof *ctx->evrcpt);
}

/* §7: the host hears of a hold released by timeout, with what went back,
 * as quota_release's receipt says it (without a fee: R10 expiry). */
void quota__event_hold_expired(quota_account *a, const quota__src *s,
			       uint64_t id)
{
	quota_ctx *ctx = a->ctx;
	quota_receipt *r;

	if (ctx->replaying || ctx->nrcpt >= ctx->cap_rcpt ||
	    ctx->nev >= ctx->cap_ev)
		return; /* replay fires no events; else room was made */
	r = &ctx->evrcpt[ctx->nrcpt++];
	memset(r, 0, sizeof *r);
	quota__receipt_fill(r, s, QUOTA_RECEIPT_RELEASE);
	r->hold_id = id;
	quota__event_queue(a, QUOTA_EVENT_HOLD_EXPIRED, s->cat, NULL, 0, 0, 0);
	ctx->evbuf[ctx->nev - 1].receipt = r;
}


static void sums(quota_account *a, const quota_package *p, int sign)
{
	uint64_t m;

	for (m = p->categories; m; m &= m - 1) {
		unsigned c = (unsigned)__builtin_ctzll(m);

		quota__cat *k = quota__cat_of(a, c); /* p's: it has one */

		k->rem += sign * p->remaining;
		k->bought += sign * p->units;
	}
}

static int cmp_eff(const quota_package *x, const quota_package *y)
{
	if (x->effective_at != y->effective_at)
		return x->effective_at < y->effective_at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_exp(const quota_package *x, const quota_package *y)
{
	if (x->expires_at != y->expires_at)
		return x->expires_at < y->expires_at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Insert p into a sorted array of n (room reserved); returns position. */
static uint32_t insert_sorted(quota_package **v, uint32_t n,
			      quota_package *p,
			      int (*cmp)(const quota_package *,
					 const quota_package *))
{
	uint32_t i = n;

	while (i > 0 && cmp(v[i - 1], p) > 0) {
		v[i] = v[i - 1];
		i--;
	}
	v[i] = p;
	return i;
}

/* An alert's level in units: level % of B is floor(level * B / 100),
 * computed without overflow as level * (B / 100) + level * (B % 100) / 100. */
static int64_t threshold_units(const quota_account *a, const quota__alert *al)
{
	const quota__cat *k = quota__cat_of(a, al->cat);
	int64_t b = k ? k->bought : 0;

	if (al->unit == QUOTA_ALERT_UNITS)
		return al->level;
	return al->level * (b / 100) + al->level * (b % 100) / 100;
}

/* R21: the remaining units of cat's active packages. */
static int64_t rem_of(const quota_account *a, uint32_t cat)
{
	const quota__cat *k = quota__cat_of(a, cat);

	return k ? k->rem : 0;
}

/* Crossed when R <= level in units (R * 100 <= level * B for percent:
 * R is whole, so that is R <= floor(level * B / 100)). */
static bool crossed(const quota_account *a, const quota__alert *al)
{
	return rem_of(a, al->cat) <= threshold_units(a, al);
}

/* R21: every alert R stands above re-arms (no event): after a clock
 * step (quota__clock) and a prune (quota__track_prune), before the
 * call's own units move; the flush does the same for the rest. */
static void rearm(quota_account *a)
{
	for (size_t k = 0; k < a->x->nalerts; k++)
		if (!a->x->alerts[k].armed && !crossed(a, &a->x->alerts[k]))
			a->x->alerts[k].armed = true;
}

/* Room for the tracking state of the packages and one more (plans). */
static int setup_room(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	size_t n = (size_t)a->npackages + 1;

	if (quota__ext_need(a))
		return QUOTA_ENOMEM;
	if (quota__grow(mem, (void **)&a->x->by_eff, &a->x->cap_by_eff, n,
			sizeof *a->x->by_eff) ||
	    quota__grow(mem, (void **)&a->x->by_exp, &a->x->cap_by_exp, n,
			sizeof *a->x->by_exp))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

/* Build the tracking state at the account's clock (no events for what is
 * already past), in the room setup_room made. */
static void setup(quota_account *a)
{
	int64_t clock = a->clock;
	uint32_t i, n = a->npackages;
	size_t k;

	for (k = quota__popcount64(a->cat_mask); k--;)
		a->cats[k].rem = a->cats[k].bought = 0;
	a->x->cur_eff = a->x->cur_exp = a->x->cur_warn = 0;
	for (i = 0; i < n; i++) {
		quota_package *p = a->packages[i];

		insert_sorted(a->x->by_eff, i, p, cmp_eff);
		insert_sorted(a->x->by_exp, i, p, cmp_exp);
		SET(p, ACTIVE,
		    p->effective_at <= clock && clock < p->expires_at);
		SET(p, EXPIRED_SEEN, p->expires_at <= clock);
		SET(p, WARNED, IS(p, EXPIRED_SEEN) ||
			    (a->x->warn_before > 0 &&
			     p->expires_at - a->x->warn_before <= clock));
		if (IS(p, ACTIVE))
			sums(a, p, 1);
		if (p->effective_at <= clock)
			a->x->cur_eff++;
		if (IS(p, EXPIRED_SEEN))
			a->x->cur_exp++;
	}
	/* cur_warn counts by_exp entries due for a warning: a prefix. */
	if (a->x->warn_before > 0) {
		a->x->cur_warn = 0;
		while (a->x->cur_warn < n &&
		       a->x->by_exp[a->x->cur_warn]->expires_at - a->x->warn_before <=
			       clock)
			a->x->cur_warn++;
	}
	for (k = 0; k < a->x->nalerts; k++)
		a->x->alerts[k].armed = !crossed(a, &a->x->alerts[k]);
	a->x->track_gen = a->ctx->hook_gen;
}

int quota__events_room(quota_account *a, size_t extra)
{
	quota_ctx *ctx = a->ctx;

	if (!ctx->hook)
		return QUOTA_OK;
	if (a->x->track_gen != ctx->hook_gen && setup_room(a))
		return QUOTA_ENOMEM;
	/* expired + expiring + exhausted per package, 4 caps, the alerts */
	return quota__grow(&ctx->mem, (void **)&ctx->evbuf, &ctx->cap_ev,
			   ctx->nev + 3 * (size_t)a->npackages + a->x->nalerts +
				   8 + extra,
			   sizeof *ctx->evbuf);
}

int quota__events_reserve(quota_account *a)
{
	return quota__events_room(a, 0);
}

/* Units a tick gives back to p before its expiry warning (0) or its
 * expiry (1), at deadlines the clock step passes (hold_expiry.c). */
static inline int64_t back(const quota_account *a, const quota_package *p,
			   int i)
{
	return p->seq < a->ctx->nback ? a->ctx->back[p->seq][i] : 0;
}

void quota__clock(quota_account *a, int64_t t)
{
	uint32_t n = a->npackages;

	if (t <= a->clock)
		return;
	a->clock = t;
	while (a->x->cur_eff < n && a->x->by_eff[a->x->cur_eff]->effective_at <= t) {
		quota_package *p = a->x->by_eff[a->x->cur_eff++];

		if (!IS(p, ACTIVE) && t < p->expires_at) {
			SET(p, ACTIVE, true);
			sums(a, p, 1);
		}
	}
	/* Expiry warnings and expiries, merged in time order. */
	for (;;) {
		quota_package *w = NULL, *x = NULL;

		if (a->x->warn_before > 0 && a->x->cur_warn < n &&
		    a->x->by_exp[a->x->cur_warn]->expires_at - a->x->warn_before <= t)
			w = a->x->by_exp[a->x->cur_warn];
		if (a->x->cur_exp < n && a->x->by_exp[a->x->cur_exp]->expires_at <= t)
			x = a->x->by_exp[a->x->cur_exp];
		if (!w && !x)
			break;
		if (w && (!x || w->expires_at - a->x->warn_before <=
					x->expires_at)) {
			a->x->cur_warn++;
			/* back(): units a tick gives back, at deadlines before
			 * this point, after the step (hold_expiry.c). */
			if (!IS(w, WARNED) && !IS(w, EXPIRED_SEEN) &&
			    w->remaining + back(a, w, 0) > 0) {
				SET(w, WARNED, true);
				quota__event_queue(a, QUOTA_EVENT_PACKAGE_EXPIRING,
				      (uint32_t)__builtin_ctzll(w->categories),
				      w, w->remaining + back(a, w, 0), 0, 0);
			}
			continue;
		}
		a->x->cur_exp++;
		if (IS(x, ACTIVE)) {
			SET(x, ACTIVE, false);
			sums(a, x, -1);
		}
		if (!IS(x, EXPIRED_SEEN)) {
			SET(x, EXPIRED_SEEN, true);
			SET(x, WARNED, true);
			quota__event_queue(a, QUOTA_EVENT_PACKAGE_EXPIRED,
			      (uint32_t)__builtin_ctzll(x->categories), x,
			      x->remaining + back(a, x, 1), 0, 0);
		}
	}
	/* R21: an alert that stands above its level once the step is taken
	 * (its starts and expiries: a start lifts R, an expiry lowers a
	 * percent alert's level with the units bought) re-arms now, before
	 * the call's own units move, so that a call that lifts it and takes
	 * R back down in one go fires (the first charge of an account whose
	 * alert was added before its clock started: R was 0 then).  The
	 * flush at the call's end would re-arm it only after that crossing
	 * had gone unseen, and a tick between would have fired it.  After
	 * the expiries, not before: a package that ends before another
	 * starts in the same step never lifted R. */
	rearm(a);
}

void quota__track_units(quota_account *a, quota_package *p, int64_t before)
{
	uint64_t m;

	if (IS(p, ACTIVE))
		for (m = p->categories; m; m &= m - 1)
			quota__cat_of(a, (unsigned)__builtin_ctzll(m))->rem +=
				p->remaining - before;
	if (before > 0 && p->remaining == 0)
		quota__event_queue(a, QUOTA_EVENT_PACKAGE_EXHAUSTED,
		      (uint32_t)__builtin_ctzll(p->categories), p, 0, 0, 0);
}

int quota__track_reserve_package(quota_account *a)
{
	/* room only: tracking is set up in apply */
	return a->ctx->hook ? setup_room(a) : QUOTA_OK;
}

void quota__track_package(quota_account *a, quota_package *p)
{
	int64_t clock = a->clock;
	uint32_t n = a->npackages - 1; /* p is already counted */

	if (insert_sorted(a->x->by_eff, n, p, cmp_eff) < a->x->cur_eff ||
	    p->effective_at <= clock)
		a->x->cur_eff++;
	insert_sorted(a->x->by_exp, n, p, cmp_exp);
	SET(p, ACTIVE, p->effective_at <= clock && clock < p->expires_at);
	SET(p, EXPIRED_SEEN, p->expires_at <= clock);
	SET(p, WARNED, IS(p, EXPIRED_SEEN) ||
			       (a->x->warn_before > 0 &&
				p->expires_at - a->x->warn_before <= clock));
	if (IS(p, EXPIRED_SEEN))
		a->x->cur_exp++;
	if (a->x->warn_before > 0 && p->expires_at - a->x->warn_before <= clock)
		a->x->cur_warn++;
	if (IS(p, ACTIVE))
		sums(a, p, 1);
}

/* Take the packages map drops out of a sorted list of n, moving each
 * cursor back by those before it. */
static void drop_sorted(quota_package **v, uint32_t n, const uint32_t *map,
			uint32_t *cur1, uint32_t *cur2)
{
	uint32_t i, k = 0, c1 = *cur1, c2 = cur2 ? *cur2 : 0;

	for (i = 0; i < n; i++) {
		if (map[v[i]->seq] != QUOTA__SEQ_GONE) {
			v[k++] = v[i];
			continue;
		}
		*cur1 -= i < c1;
		if (cur2)
			*cur2 -= i < c2;
	}
}

/* §7: packages pruned (numbers in map, before renumbering) leave the
 * sorted lists and the sums; nothing to do while tracking is not set up
 * (setup builds it from the packages there are then). */
void quota__track_prune(quota_account *a, const uint32_t *map)
{
	uint32_t i, n = a->npackages;

	if (!a->ctx->hook || a->x->track_gen != a->ctx->hook_gen)
		return;
	for (i = 0; i < n; i++) {
		quota_package *p = a->packages[i];

		if (map[i] == QUOTA__SEQ_GONE && IS(p, ACTIVE)) {
			SET(p, ACTIVE, false);
			sums(a, p, -1);
		}
	}
	drop_sorted(a->x->by_eff, n, map, &a->x->cur_eff, NULL);
	drop_sorted(a->x->by_exp, n, map, &a->x->cur_exp, &a->x->cur_warn);
	/* R21: an exhausted package pruned lowers a percent alert's level
	 * (the units bought); an alert lifted above it re-arms now (no
	 * event), as the next flush would.  So with tracking set up an
	 * alert is armed exactly when not crossed after every change, which
	 * is what setup() computes after a load: the state does not depend
	 * on when tracking was set up. */
	rearm(a);
}

void quota__track_caps(quota_account *a, unsigned cat, int64_t day,
		       int64_t month, int64_t units)
{
	static const int periods[2] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH};
	const quota__cap *caps[2] = {quota__cap_of(a, cat), &a->x->cap_all};
	unsigned cats[2] = {cat, QUOTA__CAT_ALL};
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			int64_t cap = j ? caps[i]->month : caps[i]->day;
			int64_t after;

			if (cap < 0)
				continue;
			after = quota__counter(
				a, j ? QUOTA__CNT_UNITS_MONTH
				     : QUOTA__CNT_UNITS_DAY,
				cats[i], j ? month : day);
			if (after - units < cap && after >= cap)
				quota__event_queue(a, QUOTA_EVENT_CAP_REACHED,
				      i ? QUOTA_ALL : cat, NULL, cap - after,
				      cap, periods[j]);
		}
}

void quota__events_flush(quota_account *a)
{
	quota_ctx *ctx = a->ctx;
	size_t i, n;

	/* Every alert is checked: a clock step moves every category's sums. */
	if (!quota__track(a)) {
		if (!ctx->batching)
			ctx->nev = ctx->nrcpt = 0;
		return;
	}
	for (i = 0; i < a->x->nalerts; i++) {
		quota__alert *al = &a->x->alerts[i];
		bool c = crossed(a, al);

		if (al->armed && c) {
			al->armed = false;
			quota__event_queue(a, QUOTA_EVENT_LOW_QUOTA, al->cat, NULL,
			      rem_of(a, al->cat), threshold_units(a, al), 0);
		} else if (!al->armed && !c) {
			al->armed = true; /* lifted above the level: re-arm */
		}
	}
	if (ctx->batching) /* §5: delivered once the batch is stored */
		return;
	n = ctx->nev;
	ctx->nev = 0;
	if (ctx->replaying) { /* §5: replay fires no events */
		ctx->nrcpt = 0;
		return;
	}
	for (i = 0; i < n; i++)
		if (ctx->hook(&ctx->evbuf[i], ctx->hook_ud) != 0)
			ctx->hook_failures++;
	ctx->nrcpt = 0; /* delivered: the receipts' room is free again */
}

void quota__track_free(quota_account *a)
{
	quota__free(&a->ctx->mem, a->x->by_eff);
	quota__free(&a->ctx->mem, a->x->by_exp);
	quota__free(&a->ctx->mem, a->x->alerts);
}

int quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn fn, void *ud)
{
	if (!ctx)
		return QUOTA_EINVAL;
	ctx->hook = fn;
	ctx->hook_ud = ud;
	ctx->hook_gen++; /* accounts set their tracking up again */
	ctx->nev = ctx->nrcpt = 0;
	quota__ok(ctx);
	return QUOTA_OK;
}

uint64_t quota_ctx_hook_failures(const quota_ctx *ctx)
{
	return ctx ? ctx->hook_failures : 0;
}

/* quota_account_add_alert through the write path (§5). */
struct alert_op {
	quota_account *a;
	uint32_t category;
	int64_t level;
	int unit;
};

static int alert_prepare(void *v)
{
	const struct alert_op *op = v;
	quota_account *a = op->a;
	int rc;

	if ((rc = quota__check_category(a->ctx, op->category)))
		return rc;
	if ((op->unit != QUOTA_ALERT_UNITS &&
	     op->unit != QUOTA_ALERT_PERCENT) ||
	    op->level < 0 ||
	    (op->unit == QUOTA_ALERT_PERCENT && op->level > 100))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': alert level must be >= 0 "
				  "units or 0..100 percent",
				  a->id);
	if (quota__grow(&a->ctx->mem, (void **)&a->x->alerts, &a->x->cap_alerts,
			a->x->nalerts + 1, sizeof *a->x->alerts))
		return quota__nomem(a);
	/* R21, §5: room for the tracking state, so that the apply sets it
	 * up (a hook set) and the alert starts armed by the units left
	 * whether or not tracking was set up before: the same record gives
	 * the same flag live, re-synchronised after a snapshot load, and
	 * replayed (without the room it started armed even when already
	 * crossed, after a load only). */
	if (quota__track_reserve_package(a))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void alert_encode(quota__wbuf *w, const void *v)
{
	const struct alert_op *op = v;

	quota__put_sv(w, op->category);
	quota__put_sv(w, op->level);
	quota__put_sv(w, op->unit);
}

static void alert_apply(void *v)
{
	struct alert_op *op = v;
	quota_account *a = op->a;
	quota__alert *al = &a->x->alerts[a->x->nalerts++];

	al->cat = op->category;
	al->unit = op->unit;
	al->level = op->level;
	/* Starts armed unless already crossed (set up again with a hook). */
	al->armed = quota__track(a) ? !crossed(a, al) : true;
}

static const quota__step alert_steps = {
	.ext = true,
	.rec = QUOTA__R_ALERT,
	.prepare = alert_prepare,
	.encode = alert_encode,
	.apply = alert_apply,
};

int quota_account_add_alert(quota_account *a, uint32_t category,
			    int64_t level, int unit)
{
	struct alert_op op = {a, category, level, unit};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &alert_steps, &op);
}

/* quota_account_set_expiry_warning through the write path (§5). */
struct expiry_warning_op {
	quota_account *a;
	int64_t seconds;
};

static int expiry_warning_prepare(void *v)
{
	const struct expiry_warning_op *op = v;

	if (op->seconds < 0)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': expiry warning must be >= 0",
				  op->a->id);
	return QUOTA_OK;
}

static void expiry_warning_encode(quota__wbuf *w, const void *v)
{
	quota__put_sv(w, ((const struct expiry_warning_op *)v)->seconds);
}

static void expiry_warning_apply(void *v)
{
	struct expiry_warning_op *op = v;

	op->a->x->warn_before = op->seconds;
	op->a->x->track_gen = 0; /* set the cursors up again at the next call */
}

static const quota__step expiry_warning_steps = {
	.ext = true,
	.rec = QUOTA__R_EXPIRY_WARNING,
	.prepare = expiry_warning_prepare,
	.encode = expiry_warning_encode,
	.apply = expiry_warning_apply,
};

int quota_account_set_expiry_warning(quota_account *a, int64_t seconds)
{
	struct expiry_warning_op op = {a, seconds};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &expiry_warning_steps, &op);
}
