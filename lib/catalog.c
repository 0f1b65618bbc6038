/*
 * catalog.c - the package catalog and purchases (R5, R16, R19).
 *
 * An offer is what a provider's price page lists: a fixed package (600,000
 * emails for 144 USD, 6 months) or a package priced by quantity from a
 * volume table with a minimum and a step (R16).  Buying one prices it,
 * applies a voucher, debits the balance at once (R19) and adds the package
 * with its validity counted in calendar months on the account's clock.
 *
 * Rules chosen where DESIGN.md is silent (documented in
 * quota_package_buy(3)):
 *   - purchases are prepaid: the balance itself must cover the price, the
 *     credit limit does not apply (unless the account's payment flags say
 *     QUOTA_PAY_CREDIT_PURCHASES); gift money pays beside the balance, in
 *     the account's payment order (R24, gift.c); a purchase that costs 0
 *     needs no funds;
 *   - a fixed offer leaves min_units, step_units and max_units 0 (they
 *     belong to offers priced by quantity);
 *   - an offer borrows its unit tariff: changing the tariff's tiers later
 *     reprices the offer;
 *   - a month added to a day the target month lacks ends on that month's
 *     last day (2024-08-31 + 6 months = 2025-02-28), same time of day;
 *   - a percentage voucher's discount is rounded down to the micro, so the
 *     buyer never pays less than the exact percentage allows.
 */
#include "journal.h"

#include <stdio.h>
#include <string.h>

/* Longest text of a generated package id's "#<n>" suffix. */
#define SUFFIX_MAX 24

void quota__offers_free(quota_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->noffers; i++) {
		quota__free(&ctx->mem, ctx->offers[i]->id);
		quota__free(&ctx->mem, ctx->offers[i]);
	}
	quota__free(&ctx->mem, ctx->offers);
	quota__strmap_free(&ctx->mem, &ctx->offer_ids);
	ctx->offers = NULL;
	ctx->noffers = ctx->cap_offers = 0;
}

/* ------------------------------------------------------------ offers */

/* The pricing part of a spec: fixed, or by quantity (R16). */
static int check_pricing(quota_ctx *ctx, const quota_offer_spec *s)
{
	if (s->units < 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': units must be > 0 (fixed) or 0 "
				  "(by quantity), not %lld",
				  s->id, (long long)s->units);
	if (s->units > 0) {
		if (s->price_micros < 0)
			return quota__err(ctx, QUOTA_EINVAL,
					  "offer '%s': price must be >= 0",
					  s->id);
		/* A fixed offer with a tariff or a step would be two
		 * offers in one; refuse rather than guess which. */
		if (s->unit_tariff || s->min_units || s->step_units ||
		    s->max_units)
			return quota__err(ctx, QUOTA_EINVAL,
					  "offer '%s': a fixed offer has no "
					  "unit_tariff, min, step or max",
					  s->id);
		return QUOTA_OK;
	}
	if (!s->unit_tariff)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': priced by quantity needs a "
				  "unit_tariff",
				  s->id);
	if (s->unit_tariff->ctx != ctx)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': unit_tariff belongs to another "
				  "context",
				  s->id);
	if (s->min_units < 1 || s->step_units < 1)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': min_units and step_units must "
				  "be >= 1",
				  s->id);
	if (s->max_units != 0 && s->max_units < s->min_units)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': max_units %lld below min_units "
				  "%lld",
				  s->id, (long long)s->max_units,
				  (long long)s->min_units);
	if (s->price_micros != 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': priced by quantity, so "
				  "price_micros must be 0",
				  s->id);
	return QUOTA_OK;
}

static int check_offer(quota_ctx *ctx, const quota_offer_spec *s)
{
	int rc;

	if ((rc = quota__check_name(ctx, "offer id", s->id, QUOTA_ID_MAX)))
		return rc;
	if (quota__strmap_get(&ctx->offer_ids, &ctx->hkey, s->id))
		return quota__err(ctx, QUOTA_EEXISTS,
				  "offer '%s' already exists", s->id);
	if ((rc = quota__check_mask(ctx, "offer", s->id, s->categories)))
		return rc;
	if ((rc = check_pricing(ctx, s)))
		return rc;
	if (s->valid_months < 0 || s->valid_months > 1200 ||
	    s->valid_days < 0 || s->valid_days > 36600)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': validity must be 0..1200 months "
				  "and 0..36600 days",
				  s->id);
	if (s->flags & ~QUOTA_PACKAGE_STOP)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': unknown flags 0x%x", s->id,
				  (unsigned)s->flags);
	return QUOTA_OK;
}

/* quota_offer_add through the write path (§5). */
struct offer_add_op {
	quota_ctx *ctx;
	const quota_offer_spec *spec;
	quota_offer **out;
	quota_offer *o; /* prepare's offer, not yet linked */
};

static int offer_add_prepare(void *v)
{
	struct offer_add_op *op = v;
	quota_ctx *ctx = op->ctx;
	const quota_offer_spec *spec = op->spec;
	quota_offer *o;
	int rc;

	if (!spec || !op->out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_offer_add: NULL argument");
	if ((rc = check_offer(ctx, spec)))
		return rc;
	/* Allocate everything first, then link: all or nothing. */
	if (quota__grow(&ctx->mem, (void **)&ctx->offers, &ctx->cap_offers,
			ctx->noffers + 1, sizeof *ctx->offers) ||
	    quota__strmap_reserve(&ctx->mem, &ctx->offer_ids))
		goto nomem;
	o = quota__calloc(&ctx->mem, 1, sizeof *o);
	if (!o)
		goto nomem;
	o->id = quota__strdup(&ctx->mem, spec->id);
	if (!o->id) {
		quota__free(&ctx->mem, o);
		goto nomem;
	}
	op->o = o;
	return QUOTA_OK;
nomem:
	return quota__err(ctx, QUOTA_ENOMEM, "offer '%s': out of memory",
			  spec->id);
}

static void offer_add_encode(quota__wbuf *w, const void *v)
{
	const quota_offer_spec *spec = ((const struct offer_add_op *)v)->spec;

	quota__put_str(w, spec->id);
	quota__put_u64(w, spec->categories);
	quota__put_sv(w, spec->units);
	quota__put_sv(w, spec->price_micros);
	quota__put_str(w, spec->unit_tariff ? spec->unit_tariff->name : NULL);
	quota__put_sv(w, spec->min_units);
	quota__put_sv(w, spec->step_units);
	quota__put_sv(w, spec->max_units);
	quota__put_sv(w, spec->valid_months);
	quota__put_sv(w, spec->valid_days);
	quota__put_uv(w, spec->flags);
	quota__put_sv(w, spec->priority);
}

static void offer_add_apply(void *v)
{
	struct offer_add_op *op = v;
	quota_ctx *ctx = op->ctx;
	const quota_offer_spec *spec = op->spec;
	quota_offer *o = op->o;

	if (spec->unit_tariff) /* its prices are fixed from now on (§5) */
		((quota_tariff *)spec->unit_tariff)->used = true;
	o->ctx = ctx;
	o->spec = *spec;
	o->spec.id = o->id;
	ctx->offers[ctx->noffers++] = o;
	quota__strmap_put(&ctx->offer_ids, &ctx->hkey, o->id, o);
	*op->out = o;
}

static void offer_add_undo(void *v)
{
	struct offer_add_op *op = v;

	quota__free(&op->ctx->mem, op->o->id);
	quota__free(&op->ctx->mem, op->o);
}

static const quota__step offer_add_steps = {
	.rec = QUOTA__R_OFFER_ADD,
	.prepare = offer_add_prepare,
	.encode = offer_add_encode,
	.apply = offer_add_apply,
	.undo = offer_add_undo,
};

int quota_offer_add(quota_ctx *ctx, const quota_offer_spec *spec,
		    quota_offer **out)
{
	struct offer_add_op op = {ctx, spec, out, NULL};

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	return quota__write(ctx, NULL, &offer_add_steps, &op);
}

int quota_offer_find(const quota_ctx *cctx, const char *id, quota_offer **out)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */
	int rc;

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	if (!id || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_offer_find: NULL argument");
	/* An id quota_offer_add would refuse is refused the same way. */
	if ((rc = quota__check_name(ctx, "offer id", id, QUOTA_ID_MAX)))
		return rc;
	*out = quota__strmap_get(&ctx->offer_ids, &ctx->hkey, id);
	if (!*out)
		return quota__err(ctx, QUOTA_ENOTFOUND, "no offer '%s'", id);
	quota__ok(ctx);
	return QUOTA_OK;
}

/* --------------------------------------------------------- quoting */

/*
 * at + months calendar months + days days on the account's local calendar:
 * a day the target month lacks becomes its last day, the time of day
 * stays.  Months and days are bounded by check_offer and at by
 * quota__time_ok, so nothing here overflows.
 */
static int64_t add_validity(const quota_account *a, int64_t at,
			    int32_t months, int32_t days)
{
	int64_t local = quota__local(a, at), day = quota__day_of(local);
	int64_t tod = local - day * QUOTA__DAY, y, mi, last;
	unsigned m, d;

	quota__civil_from_days(day, &y, &m, &d);
	mi = y * 12 + (m - 1) + months;
	y = mi / 12; /* mi >= 0: years from 1 */
	m = (unsigned)(mi % 12) + 1;
	last = (m == 12 ? quota__days_from_civil(y + 1, 1, 1)
			: quota__days_from_civil(y, m + 1, 1)) -
	       quota__days_from_civil(y, m, 1);
	if (d > (unsigned)last)
		d = (unsigned)last;
	day = quota__days_from_civil(y, m, d) + days;
	/* R26: a time a DST change skips becomes the change's instant. */
	return quota__utc_of_local(a, day * QUOTA__DAY + tod);
}

static int check_voucher(quota_ctx *ctx, const quota_voucher *v)
{
	if (v->kind == QUOTA_VOUCHER_AMOUNT) {
		if (v->value <= 0)
			return quota__err(ctx, QUOTA_EINVAL,
					  "voucher: amount must be > 0, not "
					  "%lld",
					  (long long)v->value);
	} else if (v->kind == QUOTA_VOUCHER_PERCENT) {
		if (v->value < 1 || v->value > 10000)
			return quota__err(ctx, QUOTA_EINVAL,
					  "voucher: percentage must be 1 to "
					  "10000 basis points, not %lld",
					  (long long)v->value);
	} else {
		return quota__err(ctx, QUOTA_EINVAL,
				  "voucher: unknown kind %d", (int)v->kind);
	}
	if (v->min_spend_micros < 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "voucher: min_spend must be >= 0");
	return QUOTA_OK;
}

/* The list price and units of q of an offer (R16). */
static int offer_price(quota_ctx *ctx, const quota_offer *o, int64_t q,
		       int64_t *units, int64_t *list)
{
	const quota_offer_spec *s = &o->spec;

	if (s->units > 0) {
		if (quota__mul_ovf(q, s->units, units) ||
		    quota__mul_ovf(q, s->price_micros, list))
			return quota__err(ctx, QUOTA_EOVERFLOW,
					  "offer '%s': %lld packages overflow",
					  o->id, (long long)q);
		return QUOTA_OK;
	}
	if (q < s->min_units || (q - s->min_units) % s->step_units != 0 ||
	    (s->max_units != 0 && q > s->max_units)) {
		if (s->max_units)
			return quota__err(ctx, QUOTA_EINVAL,
					  "offer '%s': quantity %lld is not "
					  "min %lld plus a multiple of step "
					  "%lld up to max %lld",
					  o->id, (long long)q,
					  (long long)s->min_units,
					  (long long)s->step_units,
					  (long long)s->max_units);
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': quantity %lld is not min %lld "
				  "plus a multiple of step %lld",
				  o->id, (long long)q, (long long)s->min_units,
				  (long long)s->step_units);
	}
	*units = q;
	/* The whole quantity priced from position 0: in volume mode at the
	 * tier q reaches, as a provider's quantity table does. */
	if (quota__tariff_price_lines(s->unit_tariff, 0, q, NULL, NULL, list))
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "offer '%s': price of %lld units overflows",
				  o->id, (long long)q);
	return QUOTA_OK;
}

/* Everything of a purchase but the package; sets no errmsg on success. */
static int quote(const quota_account *a, const quota_offer *o, int64_t q,
		 const quota_voucher *v, int64_t at, quota_purchase *p)
{
	quota_ctx *ctx = a->ctx;
	const quota_offer_spec *s;
	int64_t disc = 0;
	int rc;

	if (!o || !p)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': NULL offer or purchase",
				  a->id);
	s = &o->spec;
	if (o->ctx != ctx)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s' belongs to another context",
				  o->id);
	if (q < 1)
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': quantity must be >= 1, not %lld",
				  o->id, (long long)q);
	if (!quota__time_ok(at))
		return quota__err(ctx, QUOTA_EINVAL,
				  "offer '%s': purchase time %lld out of range",
				  o->id, (long long)at);
	if (v && (rc = check_voucher(ctx, v)))
		return rc;
	if ((rc = offer_price(ctx, o, q, &p->units, &p->list_price_micros)))
		return rc;
	if (v) {
		int64_t list = p->list_price_micros;

		if (list < v->min_spend_micros)
			return quota__err(ctx, QUOTA_EVOUCHER,
					  "offer '%s': list price %lld below "
					  "the voucher's minimum spend %lld",
					  o->id, (long long)list,
					  (long long)v->min_spend_micros);
		if (v->kind == QUOTA_VOUCHER_AMOUNT)
			disc = v->value < list ? v->value : list;
		else /* split so list * value cannot overflow; rounds down */
			disc = list / 10000 * v->value +
			       list % 10000 * v->value / 10000;
	}
	p->discount_micros = disc;
	p->price_micros = p->list_price_micros - disc;
	p->effective_at = at;
	if (!s->valid_months && !s->valid_days) {
		p->expires_at = QUOTA_NEVER;
	} else {
		p->expires_at =
			add_validity(a, at, s->valid_months, s->valid_days);
		if (p->expires_at >= QUOTA_TIME_MAX)
			return quota__err(ctx, QUOTA_EINVAL,
					  "offer '%s': bought at %lld it would "
					  "expire after year 9999",
					  o->id, (long long)at);
	}
	p->package = NULL;
	return QUOTA_OK;
}

int quota_package_quote(const quota_account *a, const quota_offer *offer,
			int64_t quantity, const quota_voucher *voucher,
			int64_t at, quota_purchase *out)
{
	int rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (!a)
		return QUOTA_EINVAL;
	if (a->gate & QUOTA__GATE_BLOCKED) /* R25: no purchase to price */
		return quota__blocked_err(a);
	if ((rc = quote(a, offer, quantity, voucher, at, out))) {
		if (out)
			memset(out, 0, sizeof *out);
		return rc;
	}
	quota__ok(a->ctx);
	return QUOTA_OK;
}

/* --------------------------------------------------------- buying */

/* "<offer id>#<n>", n from the package count + 1 up to the first unused
 * id; QUOTA_EINVAL if that does not fit in QUOTA_ID_MAX bytes. */
static int generate_id(const quota_account *a, const quota_offer *o,
		       char *buf, size_t size)
{
	uint64_t n = (uint64_t)a->npackages + 1;
	int len;

	for (;; n++) {
		len = snprintf(buf, size, "%s#%llu", o->id,
			       (unsigned long long)n);
		if (len < 0 || (size_t)len > QUOTA_ID_MAX)
			return quota__err(a->ctx, QUOTA_EINVAL,
					  "offer '%s': id too long to name its "
					  "packages; pass a package_id",
					  o->id);
		if (!quota__package_by_id(a, buf))
			return QUOTA_OK;
	}
}

int quota_package_buy(quota_account *a, const quota_offer *offer,
		      int64_t quantity, const quota_voucher *voucher,
		      int64_t at, const char *package_id, quota_purchase *out)
{
	return quota__buy_offer(a, offer, quantity, voucher, at, package_id, 0,
				out);
}

/* quota_package_buy; renews: a renewal (R23) of the package at this index
 * + 1, written as record QUOTA__R_RENEW (renew.c), else 0. */
int quota__buy_offer(quota_account *a, const quota_offer *offer,
		     int64_t quantity, const quota_voucher *voucher, int64_t at,
		     const char *package_id, uint64_t renews,
		     quota_purchase *out)
{
	char gen[QUOTA_ID_MAX + SUFFIX_MAX];
	quota_package_spec ps;
	quota_package *pk = NULL;
	quota_purchase pu;
	quota__buy buy;
	int64_t purchased;
	int rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (!a)
		return QUOTA_EINVAL;
	if ((rc = quota__synced(a))) /* §5: before any state */
		return rc;
	if (a->gate & QUOTA__GATE_BLOCKED) /* R25: no purchase */
		return quota__blocked_err(a);
	if (a->suspended) /* R18: nothing new until a top-up pays */
		return quota__err(a->ctx, QUOTA_ESUSPENDED,
				  "account '%s' is suspended: %lld micros "
				  "outstanding",
				  a->id, (long long)a->x->outstanding);
	memset(&pu, 0, sizeof pu);
	if ((rc = quote(a, offer, quantity, voucher, at, &pu)))
		return rc;
	/* R19: prepaid from the balance itself, never on credit unless the
	 * account allows it; R24: gift money pays beside it, in the
	 * account's order. */
	memset(&buy, 0, sizeof buy);
	if ((rc = quota__money_buy_split(a, pu.price_micros, at, &buy.split)))
		return rc;
	pu.gift_micros = buy.split.gift;
	pu.cash_micros = buy.split.cash;
	pu.credit_micros = buy.split.credit;
	if (quota__add_ovf(a->x->purchased, pu.price_micros, &purchased))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "account '%s': purchase total would overflow",
				  a->id);
	if (!package_id) {
		if ((rc = generate_id(a, offer, gen, sizeof gen)))
			return rc;
		package_id = gen;
	}
	memset(&ps, 0, sizeof ps);
	ps.id = package_id;
	ps.categories = offer->spec.categories;
	ps.units = pu.units;
	ps.effective_at = pu.effective_at;
	ps.expires_at = pu.expires_at;
	ps.price_micros = pu.price_micros;
	ps.flags = offer->spec.flags;
	ps.priority = offer->spec.priority;
	/* One write: the package and its payment (balance >= price, or the
	 * price is 0, and purchased + price fits: checked above). */
	buy.offer = offer->id;
	buy.quantity = quantity;
	buy.at = at;
	buy.list_price = pu.list_price_micros;
	buy.discount = pu.discount_micros;
	buy.voucher = voucher;
	buy.o = offer;
	buy.renews = renews;
	if ((rc = quota__package_add(a, &ps, &buy, &pk)))
		return rc;
	pu.package = pk;
	if (out)
		*out = pu;
	quota__ok(a->ctx);
	return QUOTA_OK;
}
