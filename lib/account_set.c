/*
 * account_set.c - an account's settings through the write path (§5):
 * tariffs per category, caps (R9), overage policy (R7) and the calendar
 * offset (R26); and read-only views of its counters.  Accounts
 * themselves, their table and their lifecycle: account.c.
 */
#include "journal.h"

/* quota_account_set_utc_offset through the write path (§5). */
struct utc_offset_op {
	quota_account *a;
	int32_t seconds;
};

static int utc_offset_prepare(void *v)
{
	const struct utc_offset_op *op = v;
	const quota_account *a = op->a;

	if (op->seconds < -18 * 3600 || op->seconds > 18 * 3600)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': UTC offset %d s is beyond "
				  "+-18 h",
				  a->id, (int)op->seconds);
	/* Usage already booked by local hour and day (ledger rows, the
	 * counters of holds) would move to other hours and days
	 * (quota_account_new(3)); so would leaving a zone (R26). */
	if ((op->seconds != a->utc_offset || a->zoned) && quota__has_usage(a))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': has usage; set the UTC "
				  "offset before charging or reserving",
				  a->id);
	return QUOTA_OK;
}

static void utc_offset_encode(quota__wbuf *w, const void *v)
{
	quota__put_sv(w, ((const struct utc_offset_op *)v)->seconds);
}

static void utc_offset_apply(void *v)
{
	struct utc_offset_op *op = v;

	if (op->a->zoned) /* R26: the offset replaces the zone */
		quota__zone_attach(op->a, NULL);
	op->a->utc_offset = op->seconds;
	quota__ledger_uncache(op->a); /* cached hours begin at local hours */
}

static const quota__step utc_offset_steps = {
	.rec = QUOTA__R_UTC_OFFSET,
	.prepare = utc_offset_prepare,
	.encode = utc_offset_encode,
	.apply = utc_offset_apply,
};

int quota_account_set_utc_offset(quota_account *a, int32_t seconds)
{
	struct utc_offset_op op = {a, seconds};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &utc_offset_steps, &op);
}

/* quota_account_set_tariff through the write path (§5). */
struct tariff_op {
	quota_account *a;
	uint32_t category;
	quota_tariff *t;
};

static int tariff_prepare(void *v)
{
	struct tariff_op *op = v;
	const quota_account *a = op->a;
	int rc;

	if ((rc = quota__check_category(a->ctx, op->category)))
		return rc;
	if (op->t && op->t->ctx != a->ctx)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "tariff '%s' belongs to another context",
				  op->t->name);
	if (op->t && quota__cat_need(op->a, QUOTA_MASK(op->category)))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void tariff_encode(quota__wbuf *w, const void *v)
{
	const struct tariff_op *op = v;

	quota__put_uv(w, op->category);
	quota__put_str(w, op->t ? op->t->name : NULL);
}

static void tariff_apply(void *v)
{
	struct tariff_op *op = v;
	quota__cat *k = quota__cat_of(op->a, op->category);

	if (k) /* none: op->t is NULL, and so is the category's tariff */
		k->tariff = op->t;
	if (op->t)
		op->t->used = true; /* never changed in place from now on */
}

static const quota__step tariff_steps = {
	.rec = QUOTA__R_TARIFF,
	.prepare = tariff_prepare,
	.encode = tariff_encode,
	.apply = tariff_apply,
};

int quota_account_set_tariff(quota_account *a, uint32_t category,
			     quota_tariff *t)
{
	struct tariff_op op = {a, category, t};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &tariff_steps, &op);
}

/* quota_account_set_cap through the write path (§5). */
struct cap_op {
	quota_account *a;
	uint32_t category;
	int period;
	int64_t units; /* < 0: no cap, recorded as -1 */
};

static int cap_prepare(void *v)
{
	struct cap_op *op = v;
	const quota_account *a = op->a;
	int rc;

	if (op->category != QUOTA_ALL &&
	    (rc = quota__check_category(a->ctx, op->category)))
		return rc;
	if (op->period != QUOTA_PERIOD_DAY && op->period != QUOTA_PERIOD_MONTH)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': caps are per day or month, "
				  "not period %d",
				  a->id, op->period);
	if (op->units < 0)
		op->units = -1;
	if (op->category != QUOTA_ALL && op->units >= 0 &&
	    quota__cat_need(op->a, QUOTA_MASK(op->category)))
		return quota__nomem(a);
	/* The account-wide cap is in the ext (none: no cap, which units < 0
	 * sets: apply leaves it). */
	if (op->category == QUOTA_ALL && op->units >= 0)
		return quota__ext_need(op->a);
	return QUOTA_OK;
}

static void cap_encode(quota__wbuf *w, const void *v)
{
	const struct cap_op *op = v;

	quota__put_sv(w, op->category);
	quota__put_sv(w, op->period);
	quota__put_sv(w, op->units);
}

static void cap_apply(void *v)
{
	struct cap_op *op = v;
	quota_account *a = op->a;
	uint32_t category = op->category;
	quota__cap *cap;
	quota__cat *k = NULL;

	if (category != QUOTA_ALL && !(k = quota__cat_of(a, category)))
		return; /* no entry: no cap, and units < 0 sets none */
	if (!k && a->x == &quota__ext_none)
		return; /* the same for the account-wide cap */
	cap = k ? &k->cap : &a->x->cap_all;
	if (op->period == QUOTA_PERIOD_DAY)
		cap->day = op->units;
	else
		cap->month = op->units;
	/* Whether any cap is left, the account's or a category's (at most
	 * one entry a category). */
	{
		const quota__cap *all = &a->x->cap_all;
		bool any = all->day >= 0 || all->month >= 0;
		unsigned i, n = quota__popcount64(a->cat_mask);

		for (i = 0; i < n && !any; i++)
			any = a->cats[i].cap.day >= 0 ||
			      a->cats[i].cap.month >= 0;
		a->capped = any;
	}
}

static const quota__step cap_steps = {
	.rec = QUOTA__R_CAP,
	.prepare = cap_prepare,
	.encode = cap_encode,
	.apply = cap_apply,
};

int quota_account_set_cap(quota_account *a, uint32_t category, int period,
			  int64_t units)
{
	struct cap_op op = {a, category, period, units};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &cap_steps, &op);
}

/* quota_account_set_overage through the write path (§5). */
struct overage_op {
	quota_account *a;
	uint32_t category;
	int policy;
};

static int overage_prepare(void *v)
{
	const struct overage_op *op = v;
	const quota_account *a = op->a;
	int rc;

	if ((rc = quota__check_category(a->ctx, op->category)))
		return rc;
	if (op->policy != QUOTA_OVERAGE_PAYG &&
	    op->policy != QUOTA_OVERAGE_STOP)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': unknown overage policy %d",
				  a->id, op->policy);
	return QUOTA_OK;
}

static void overage_encode(quota__wbuf *w, const void *v)
{
	const struct overage_op *op = v;

	quota__put_sv(w, op->category);
	quota__put_sv(w, op->policy);
}

static void overage_apply(void *v)
{
	struct overage_op *op = v;

	if (op->policy == QUOTA_OVERAGE_STOP)
		op->a->stop_mask |= QUOTA_MASK(op->category);
	else
		op->a->stop_mask &= ~QUOTA_MASK(op->category);
}

static const quota__step overage_steps = {
	.rec = QUOTA__R_OVERAGE,
	.prepare = overage_prepare,
	.encode = overage_encode,
	.apply = overage_apply,
};

int quota_account_set_overage(quota_account *a, uint32_t category,
			      int policy)
{
	struct overage_op op = {a, category, policy};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &overage_steps, &op);
}

/* The arguments of the queries below: an account, a category (or
 * QUOTA_ALL where all_ok) and a time in range. */
static int check_query(const quota_account *a, uint32_t category,
		       bool all_ok, int64_t at)
{
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (!(all_ok && category == QUOTA_ALL) &&
	    (rc = quota__check_category(a->ctx, category)))
		return rc;
	if (!quota__time_ok(at))
		return quota__err(a->ctx, QUOTA_EINVAL, "time out of range");
	return QUOTA_OK;
}

/* §7: was the period (QUOTA_PERIOD_DAY / MONTH) holding local day `day`
 * ended by the pruning horizon, so its counters may be gone? */
static int pruned_period(const quota_account *a, int period, int64_t day)
{
	int64_t h;

	if (a->pruned_before == INT64_MIN || period == QUOTA_PERIOD_LIFETIME)
		return QUOTA_OK;
	h = quota__day_of(quota__local(a, a->pruned_before));
	if (period == QUOTA_PERIOD_DAY ? day < h
				       : quota__month_of_day(day) <
						 quota__month_of_day(h))
		return quota__err(a->ctx, QUOTA_EPRUNED,
				  "account '%s': the period was pruned",
				  a->id);
	return QUOTA_OK;
}

/* Not on the hot path: a linear walk over the category's packages. */
int64_t quota_account_remaining(const quota_account *a, uint32_t category,
				int64_t now)
{
	const quota__pindex *ix;
	int64_t sum = 0;
	uint32_t i;
	int rc;

	if ((rc = check_query(a, category, false, now)))
		return rc;
	ix = quota__pindex_of(a, category);
	if (!ix)
		return 0;
	for (i = 0; i < ix->n; i++) {
		const quota_package *p = ix->pk[i];

		if (p->effective_at <= now && now < p->expires_at)
			sum += p->remaining; /* <= sum of units: no overflow
						check needed beyond add */
	}
	return sum;
}

int64_t quota_account_used(const quota_account *a, uint32_t category,
			   int period, int64_t at)
{
	int64_t day;
	unsigned cat;
	int rc;

	if ((rc = check_query(a, category, true, at)))
		return rc;
	cat = category == QUOTA_ALL ? QUOTA__CAT_ALL : category;
	day = quota__day_of(quota__local(a, at));
	if ((period == QUOTA_PERIOD_DAY || period == QUOTA_PERIOD_MONTH) &&
	    (rc = pruned_period(a, period, day)))
		return rc;
	if (period == QUOTA_PERIOD_DAY)
		return quota__counter(a, QUOTA__CNT_UNITS_DAY, cat, day);
	if (period == QUOTA_PERIOD_MONTH)
		return quota__counter(a, QUOTA__CNT_UNITS_MONTH, cat,
				      quota__account_month(a, day));
	return quota__err(a->ctx, QUOTA_EINVAL, "unknown period %d", period);
}

int64_t quota_account_free_used(const quota_account *a, uint32_t category,
				int64_t at)
{
	const quota_tariff *t;
	int64_t day;
	int rc;

	if ((rc = check_query(a, category, false, at)))
		return rc;
	t = quota__tariff_of(a, category);
	if (!t)
		return 0;
	day = quota__day_of(quota__local(a, at));
	if ((rc = pruned_period(a, t->free_period, day)))
		return rc;
	switch (t->free_period) {
	case QUOTA_PERIOD_DAY:
		return quota__counter(a, QUOTA__CNT_FREE_DAY, category, day);
	case QUOTA_PERIOD_MONTH:
		return quota__counter(a, QUOTA__CNT_FREE_MONTH, category,
				      quota__account_month(a, day));
	default:
		return quota__counter(a, QUOTA__CNT_FREE_LIFE, category, 0);
	}
}

uint32_t quota_account_package_count(const quota_account *a)
{
	return a ? a->npackages : 0;
}

quota_package *quota_account_package_at(const quota_account *a, uint32_t i)
{
	return (a && i < a->npackages) ? a->packages[i] : NULL;
}
