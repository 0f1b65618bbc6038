/*
 * tariff.c - pay-as-you-go price schedules: tiers by the month's
 * cumulative volume (R13), graduated or volume mode (R14), and the free
 * allowance (R15).
 */
#include "journal.h"

#include <string.h>

/* quota_tariff_new through the write path (§5). */
struct tariff_new_op {
	quota_ctx *ctx;
	const char *name;
	quota_tariff **out;
	quota_tariff *t; /* prepare's tariff, not yet linked */
};

static int tariff_new_prepare(void *v)
{
	struct tariff_new_op *op = v;
	quota_ctx *ctx = op->ctx;
	const char *name = op->name;
	quota_tariff *t;
	int rc;

	if (!op->out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_tariff_new: NULL argument");
	if ((rc = quota__check_name(ctx, "tariff name", name, QUOTA_ID_MAX)))
		return rc;
	if (quota__strmap_get(&ctx->tariff_names, &ctx->hkey, name))
		return quota__err(ctx, QUOTA_EEXISTS,
				  "tariff '%s' already exists", name);
	/* Allocate everything first, then link: all or nothing. */
	if (quota__grow(&ctx->mem, (void **)&ctx->tariffs, &ctx->cap_tariffs,
			ctx->ntariffs + 1, sizeof *ctx->tariffs) ||
	    quota__strmap_reserve(&ctx->mem, &ctx->tariff_names))
		goto nomem;
	t = quota__calloc(&ctx->mem, 1, sizeof *t);
	if (!t)
		goto nomem;
	t->name = quota__strdup(&ctx->mem, name);
	if (!t->name) {
		quota__free(&ctx->mem, t);
		goto nomem;
	}
	t->ctx = ctx;
	for (size_t i = 0; i <= QUOTA_FAIL_REASON_MAX; i++)
		t->fee_reason[i] = -1; /* R27: every reason pays failure_fee */
	op->t = t;
	return QUOTA_OK;
nomem:
	return quota__err(ctx, QUOTA_ENOMEM, "tariff '%s': out of memory",
			  name);
}

static void tariff_new_encode(quota__wbuf *w, const void *v)
{
	quota__put_str(w, ((const struct tariff_new_op *)v)->name);
}

static void tariff_new_apply(void *v)
{
	struct tariff_new_op *op = v;
	quota_ctx *ctx = op->ctx;
	quota_tariff *t = op->t;

	t->mode = QUOTA_GRADUATED;
	t->free_period = QUOTA_PERIOD_MONTH;
	ctx->tariffs[ctx->ntariffs++] = t;
	quota__strmap_put(&ctx->tariff_names, &ctx->hkey, t->name, t);
	*op->out = t;
}

static void tariff_new_undo(void *v)
{
	quota__tariff_free(((struct tariff_new_op *)v)->t);
}

static const quota__step tariff_new_steps = {
	.rec = QUOTA__R_TARIFF_NEW,
	.prepare = tariff_new_prepare,
	.encode = tariff_new_encode,
	.apply = tariff_new_apply,
	.undo = tariff_new_undo,
};

int quota_tariff_new(quota_ctx *ctx, const char *name, quota_tariff **out)
{
	struct tariff_new_op op = {ctx, name, out, NULL};

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	return quota__write(ctx, NULL, &tariff_new_steps, &op);
}

int quota_tariff_find(const quota_ctx *cctx, const char *name,
		      quota_tariff **out)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */
	int rc;

	if (out)
		*out = NULL;
	if (!ctx || !name || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_tariff_find: NULL argument");
	/* A name quota_tariff_new would refuse is refused the same way. */
	if ((rc = quota__check_name(ctx, "tariff name", name, QUOTA_ID_MAX)))
		return rc;
	*out = quota__strmap_get(&ctx->tariff_names, &ctx->hkey, name);
	if (!*out)
		return quota__err(ctx, QUOTA_ENOTFOUND, "no tariff '%s'", name);
	quota__ok(ctx);
	return QUOTA_OK;
}

void quota__tariff_free(quota_tariff *t)
{
	if (!t)
		return;
	quota__free(&t->ctx->mem, t->name);
	quota__free(&t->ctx->mem, t);
}

const char *quota_tariff_name(const quota_tariff *t)
{
	return t ? t->name : NULL;
}

/*
 * A tariff an account or an offer uses is never changed in place (§5): a
 * journal replays configuration first, so a later change would reprice
 * what was charged before it.  A new price is a new tariff.
 */
int quota__tariff_unused(const quota_tariff *t)
{
	if (t->used)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s' is in use by an account or an "
				  "offer; create a new tariff instead",
				  t->name);
	return QUOTA_OK;
}

/* quota_tariff_add_tier through the write path (§5). */
struct tier_op {
	quota_tariff *t;
	int64_t up_to;
	int64_t price;
};

static int tier_prepare(void *v)
{
	const struct tier_op *op = v;
	const quota_tariff *t = op->t;
	int64_t up_to = op->up_to;
	int rc;

	if ((rc = quota__tariff_unused(t)))
		return rc;
	if (up_to <= 0 || op->price < 0)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': tier up_to must be > 0 and "
				  "price >= 0",
				  t->name);
	if (t->ntiers && t->up_to[t->ntiers - 1] == QUOTA_UNLIMITED)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': no tier after QUOTA_UNLIMITED",
				  t->name);
	if (t->ntiers && up_to <= t->up_to[t->ntiers - 1])
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': tier up_to %lld not above the "
				  "previous %lld",
				  t->name, (long long)up_to,
				  (long long)t->up_to[t->ntiers - 1]);
	if (t->ntiers == QUOTA__MAX_TIERS)
		return quota__err(t->ctx, QUOTA_EOVERFLOW,
				  "tariff '%s': at most %d tiers", t->name,
				  QUOTA__MAX_TIERS);
	return QUOTA_OK;
}

static void tier_encode(quota__wbuf *w, const void *v)
{
	const struct tier_op *op = v;

	quota__put_str(w, op->t->name);
	quota__put_sv(w, op->up_to);
	quota__put_sv(w, op->price);
}

static void tier_apply(void *v)
{
	struct tier_op *op = v;
	quota_tariff *t = op->t;

	t->up_to[t->ntiers] = op->up_to;
	t->price[t->ntiers] = op->price;
	t->ntiers++;
}

static const quota__step tier_steps = {
	.rec = QUOTA__R_TARIFF_TIER,
	.prepare = tier_prepare,
	.encode = tier_encode,
	.apply = tier_apply,
};

int quota_tariff_add_tier(quota_tariff *t, int64_t up_to, int64_t price)
{
	struct tier_op op = {t, up_to, price};

	if (!t)
		return QUOTA_EINVAL;
	return quota__write(t->ctx, NULL, &tier_steps, &op);
}

/* quota_tariff_set_mode through the write path (§5). */
struct mode_op {
	quota_tariff *t;
	int mode;
};

static int mode_prepare(void *v)
{
	const struct mode_op *op = v;
	int rc;

	if ((rc = quota__tariff_unused(op->t)))
		return rc;
	if (op->mode != QUOTA_GRADUATED && op->mode != QUOTA_VOLUME)
		return quota__err(op->t->ctx, QUOTA_EINVAL,
				  "tariff '%s': unknown mode %d", op->t->name,
				  op->mode);
	return QUOTA_OK;
}

static void mode_encode(quota__wbuf *w, const void *v)
{
	const struct mode_op *op = v;

	quota__put_str(w, op->t->name);
	quota__put_sv(w, op->mode);
}

static void mode_apply(void *v)
{
	struct mode_op *op = v;

	op->t->mode = op->mode;
}

static const quota__step mode_steps = {
	.rec = QUOTA__R_TARIFF_MODE,
	.prepare = mode_prepare,
	.encode = mode_encode,
	.apply = mode_apply,
};

int quota_tariff_set_mode(quota_tariff *t, int mode)
{
	struct mode_op op = {t, mode};

	if (!t)
		return QUOTA_EINVAL;
	return quota__write(t->ctx, NULL, &mode_steps, &op);
}

/* quota_tariff_set_free through the write path (§5). */
struct free_op {
	quota_tariff *t;
	int64_t units;
	int period;
};

static int free_prepare(void *v)
{
	const struct free_op *op = v;
	const quota_tariff *t = op->t;
	int rc;

	if ((rc = quota__tariff_unused(t)))
		return rc;
	if (op->units < 0)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': free units must be >= 0",
				  t->name);
	if (op->period != QUOTA_PERIOD_DAY &&
	    op->period != QUOTA_PERIOD_MONTH &&
	    op->period != QUOTA_PERIOD_LIFETIME)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': unknown free period %d",
				  t->name, op->period);
	return QUOTA_OK;
}

static void free_encode(quota__wbuf *w, const void *v)
{
	const struct free_op *op = v;

	quota__put_str(w, op->t->name);
	quota__put_sv(w, op->units);
	quota__put_sv(w, op->period);
}

static void free_apply(void *v)
{
	struct free_op *op = v;

	op->t->free_units = op->units;
	op->t->free_period = op->period;
}

static const quota__step free_steps = {
	.rec = QUOTA__R_TARIFF_FREE,
	.prepare = free_prepare,
	.encode = free_encode,
	.apply = free_apply,
};

int quota_tariff_set_free(quota_tariff *t, int64_t units, int period)
{
	struct free_op op = {t, units, period};

	if (!t)
		return QUOTA_EINVAL;
	return quota__write(t->ctx, NULL, &free_steps, &op);
}

/* quota_tariff_set_free_daily_limit through the write path (§5). */
struct free_daily_op {
	quota_tariff *t;
	int64_t units;
};

static int free_daily_prepare(void *v)
{
	const struct free_daily_op *op = v;
	int rc;

	if ((rc = quota__tariff_unused(op->t)))
		return rc;
	if (op->units < 0)
		return quota__err(op->t->ctx, QUOTA_EINVAL,
				  "tariff '%s': daily free limit must be >= 0",
				  op->t->name);
	return QUOTA_OK;
}

static void free_daily_encode(quota__wbuf *w, const void *v)
{
	const struct free_daily_op *op = v;

	quota__put_str(w, op->t->name);
	quota__put_sv(w, op->units);
}

static void free_daily_apply(void *v)
{
	struct free_daily_op *op = v;

	op->t->free_daily = op->units;
}

static const quota__step free_daily_steps = {
	.rec = QUOTA__R_TARIFF_FREE_DAILY,
	.prepare = free_daily_prepare,
	.encode = free_daily_encode,
	.apply = free_daily_apply,
};

int quota_tariff_set_free_daily_limit(quota_tariff *t, int64_t units)
{
	struct free_daily_op op = {t, units};

	if (!t)
		return QUOTA_EINVAL;
	return quota__write(t->ctx, NULL, &free_daily_steps, &op);
}


/*
 * Price q pay-as-you-go units whose month positions are (before, before+q]
 * (R13, R14).  Calls line(i, units, price, cost, ud) for each tier touched
 * and stores the total.  Both cost and the sum are overflow-checked.
 */
int quota__tariff_price_lines(const quota_tariff *t, int64_t before,
			      int64_t q,
			      void (*line)(void *ud, uint32_t tier,
					   int64_t units, int64_t price,
					   int64_t cost),
			      void *ud, int64_t *total)
{
	int64_t end, sum = 0, cost;
	uint32_t i;

	*total = 0;
	if (q <= 0)
		return QUOTA_OK;
	if (quota__add_ovf(before, q, &end))
		return QUOTA_EOVERFLOW;
	if (!t || !t->ntiers) {
		if (line)
			line(ud, 0, q, 0, 0);
		return QUOTA_OK;
	}
	if (t->mode == QUOTA_VOLUME) {
		i = quota__tier_of(t, end);
		if (quota__mul_ovf(q, t->price[i], &cost))
			return QUOTA_EOVERFLOW;
		if (line)
			line(ud, i, q, t->price[i], cost);
		*total = cost;
		return QUOTA_OK;
	}
	for (i = quota__tier_of(t, before + 1); i < t->ntiers && before < end; i++) {
		int64_t hi = (i + 1 == t->ntiers) ? end
			     : (t->up_to[i] < end ? t->up_to[i] : end);
		int64_t n = hi - before;

		if (n <= 0)
			continue;
		if (quota__mul_ovf(n, t->price[i], &cost) ||
		    quota__add_ovf(sum, cost, &sum))
			return QUOTA_EOVERFLOW;
		if (line)
			line(ud, i, n, t->price[i], cost);
		before = hi;
	}
	*total = sum;
	return QUOTA_OK;
}

int quota_tariff_price(const quota_tariff *t, int64_t volume_before,
		       int64_t units, int64_t *cost_micros)
{
	int rc;

	if (cost_micros)
		*cost_micros = 0;
	if (!t)
		return QUOTA_EINVAL;
	if (!cost_micros)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "quota_tariff_price: NULL cost_micros");
	if (volume_before < 0 || units <= 0)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': volume_before must be >= 0 and "
				  "units > 0",
				  t->name);
	rc = quota__tariff_price_lines(t, volume_before, units, NULL, NULL,
				       cost_micros);
	if (rc)
		return quota__err(t->ctx, rc,
				  "tariff '%s': price of %lld units overflows",
				  t->name, (long long)units);
	quota__ok(t->ctx);
	return QUOTA_OK;
}

/* quota_tariff_set_failure_fee through the write path (§5), on the
 * configuration stream. */
struct failure_fee_op {
	quota_tariff *t;
	int64_t micros;
	int32_t reason; /* R27: 0 for the failure fee itself */
};

static int failure_fee_prepare(void *v)
{
	const struct failure_fee_op *op = v;
	int rc;

	if ((rc = quota__tariff_unused(op->t)))
		return rc;
	if (op->reason &&
	    (op->reason < 1 || op->reason > QUOTA_FAIL_REASON_MAX))
		return quota__err(op->t->ctx, QUOTA_EINVAL,
				  "tariff '%s': failure reason %d is not 1 "
				  "to %d",
				  op->t->name, (int)op->reason,
				  QUOTA_FAIL_REASON_MAX);
	if (op->reason && op->micros == -1)
		return QUOTA_OK; /* drop the reason's own fee */
	if (op->micros < 0)
		return quota__err(op->t->ctx, QUOTA_EINVAL,
				  "tariff '%s': failure fee must be >= 0",
				  op->t->name);
	return QUOTA_OK;
}

static void failure_fee_encode(quota__wbuf *w, const void *v)
{
	const struct failure_fee_op *op = v;

	quota__put_str(w, op->t->name);
	if (op->reason)
		quota__put_sv(w, op->reason);
	quota__put_sv(w, op->micros);
}

static void failure_fee_apply(void *v)
{
	struct failure_fee_op *op = v;

	if (op->reason)
		op->t->fee_reason[op->reason] = op->micros;
	else
		op->t->failure_fee = op->micros;
}

static const quota__step failure_fee_steps = {
	.ext = true,
	.rec = QUOTA__R_TARIFF_FAILURE_FEE,
	.prepare = failure_fee_prepare,
	.encode = failure_fee_encode,
	.apply = failure_fee_apply,
};

static const quota__step failure_fee_reason_steps = {
	.rec = QUOTA__R_TARIFF_FAILURE_FEE_REASON,
	.prepare = failure_fee_prepare,
	.encode = failure_fee_encode,
	.apply = failure_fee_apply,
};

int quota_tariff_set_failure_fee(quota_tariff *t, int64_t micros_per_unit)
{
	struct failure_fee_op op = {t, micros_per_unit, 0};

	if (!t)
		return QUOTA_EINVAL;
	return quota__write(t->ctx, NULL, &failure_fee_steps, &op);
}

/* R27: a fee per failure reason (a carrier rejection charged, an invalid
 * number not), on the configuration stream in its own record. */
int quota_tariff_set_failure_fee_reason(quota_tariff *t, int32_t reason,
					int64_t micros_per_unit)
{
	struct failure_fee_op op = {t, micros_per_unit, reason};

	if (!t)
		return QUOTA_EINVAL;
	if (!reason)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': failure reason 0 is the "
				  "failure fee (quota_tariff_set_failure_fee)",
				  t->name);
	return quota__write(t->ctx, NULL, &failure_fee_reason_steps, &op);
}
