/*
 * sim.c - a plan made into a libquota context and a trace replayed
 * through it, row by row, with the figures the reports print kept per
 * account, calendar month (the account's offset) and category.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

const char *const qs_ref_names[QS_NREF] = {"cap", "stop", "suspended",
					   "too-long", "key-conflict", "other"};

/* A library failure is the input's (bad input, exit 2) unless the
 * library ran out of memory (exit 1). */
static void lib_status(qs_err *err, int rc)
{
	err->status = rc == QUOTA_ENOMEM ? QS_EXIT_FAIL : 0;
}

static int lib_err(qs_sim *s, qs_err *err, int64_t line, int rc,
		   const char *what)
{
	err->file = s->plan->file;
	qs_errf(err, line, line ? 1 : 0, "%s: %s (%s)", what,
		quota_errmsg(s->ctx), quota_err_name(rc));
	lib_status(err, rc);
	return -1;
}

const char *qs_sim_errmsg(const qs_sim *s, int rc)
{
	const char *m = quota_errmsg(s->ctx);

	return m && *m ? m : quota_strerror(rc);
}

uint64_t qs_hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (n--)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return h;
}

static qs_acct *lookup(qs_sim *s, const char *id, size_t n)
{
	qs_acct *a;

	if (s->last && s->last->idlen == n && !memcmp(s->last->id, id, n))
		return s->last;
	if (!s->hcap)
		return NULL;
	for (a = s->htab[qs_hash(id, n) & (s->hcap - 1)]; a; a = a->hnext)
		if (a->idlen == n && !memcmp(a->id, id, n))
			return s->last = a;
	return NULL;
}

static void insert(qs_sim *s, qs_acct *a)
{
	size_t i;

	if (2 * (s->naccts + 1) > s->hcap) {
		size_t cap = s->hcap ? s->hcap * 4 : 64;
		qs_acct **t = qs_alloc(cap * sizeof *t);

		for (i = 0; i < s->naccts; i++) {
			qs_acct *x = s->accts[i];
			size_t h = qs_hash(x->id, strlen(x->id)) & (cap - 1);

			x->hnext = t[h];
			t[h] = x;
		}
		free(s->htab);
		s->htab = t;
		s->hcap = cap;
	}
	s->accts = qs_grow(s->accts, &s->caccts, s->naccts + 1,
			   sizeof *s->accts);
	s->accts[s->naccts++] = a;
	i = qs_hash(a->id, strlen(a->id)) & (s->hcap - 1);
	a->hnext = s->htab[i];
	s->htab[i] = a;
}

/* The month slot for month number m, made if needed. */
static qs_month *month(qs_sim *s, qs_acct *a, int32_t m)
{
	size_t i;

	if (a->nmonths == 0) {
		a->base = m;
		a->cur = m;
	}
	if (m < a->base) {
		size_t k = (size_t)(a->base - m);

		a->months = qs_grow(a->months, &a->cmonths, a->nmonths + k,
				    sizeof *a->months);
		memmove(a->months + k, a->months, a->nmonths * sizeof *a->months);
		memset(a->months, 0, k * sizeof *a->months);
		a->nmonths += k;
		a->base = m;
		/* before every row and action so far: a late row's month
		 * (late.c amends these figures) */
		for (i = 0; i < k; i++)
			qs_month_initial(a, &a->months[i]);
	}
	if ((size_t)(m - a->base) >= a->nmonths) {
		size_t old = a->nmonths, need = (size_t)(m - a->base) + 1;

		a->months = qs_grow(a->months, &a->cmonths, need,
				    sizeof *a->months);
		for (i = old; i < need; i++)
			a->months[i].nleft = UINT32_MAX;
		a->nmonths = need;
	}
	i = (size_t)(m - a->base);
	if (!a->months[i].cat)
		a->months[i].cat = qs_alloc(s->plan->ncats * sizeof(qs_stat));
	return &a->months[i];
}

/* Package units left, recorded as month mo's end figures. */
static void record_left(qs_sim *s, qs_acct *a, int32_t mo)
{
	qs_month *m = month(s, a, mo);
	uint32_t n = quota_account_package_count(a->a), i;

	free(m->left);
	m->left = qs_alloc((n ? n : 1) * sizeof *m->left);
	for (i = 0; i < n; i++)
		m->left[i] = quota_package_remaining(
			quota_account_package_at(a->a, i));
	m->nleft = n;
}

/* Time moves on in account a to month mo: close the months before.
 * With `history N` in the plan, the account's history (hourly ledger
 * rows, period counters, volume-tier totals) older than the N months
 * before mo is pruned (quota_account_prune(3): never what settlement,
 * caps, free allowances or tiers still need), so that memory follows
 * the months kept, not the trace's length; nothing the reports print is
 * read from it.  From then on a row dated before those months is refused
 * (kept_from, qs_sim_row).  A failed prune (memory) keeps the data. */
static void advance(qs_sim *s, qs_acct *a, int32_t mo)
{
	bool moved = a->nmonths && a->cur < mo;

	(void)month(s, a, mo);
	while (a->cur < mo)
		record_left(s, a, a->cur++);
	if (moved && s->plan->history >= 0) {
		a->kept_from = qs_month_start(mo - s->plan->history,
					      a->def->utc_offset);
		(void)quota_account_prune(a->a, a->kept_from, QUOTA_PRUNE_ALL);
	}
}

static int on_bill(const quota_bill *b, void *ud)
{
	void **u = ud;
	qs_sim *s = u[0];
	qs_acct *a = u[1];
	qs_month *m = month(s, a, qs_month_of(b->period_start,
					      a->def->utc_offset));
	uint32_t i;

	m->bills++;
	if (b->status == QUOTA_BILL_OUTSTANDING)
		m->bills_outstanding++;
	for (i = 0; i < b->nlines; i++)
		if (b->lines[i].category < s->plan->ncats)
			m->cat[b->lines[i].category].billed +=
				b->lines[i].rounded_micros;
	return 0;
}

/* Settle account a up to now.  On failure the message, with neither
 * file nor line: the caller names what made it settle. */
static int settle(qs_sim *s, qs_acct *a, int64_t now, qs_err *err)
{
	void *u[2] = {s, a};
	int64_t n = quota_settle(a->a, now, on_bill, u);
	int64_t p = a->def->settle_period == QUOTA_PERIOD_HOUR ? 3600 : 86400;
	int64_t l = now + a->def->utc_offset;
	char tb[40];

	if (n < 0) {
		qs_errf(err, 0, 0, "account '%s': the settlement at %s failed: "
			"%s (%s)", a->id,
			qs_time_fmt(tb, now, a->def->utc_offset),
			qs_sim_errmsg(s, (int)n), quota_err_name((int)n));
		lib_status(err, (int)n);
		return -1;
	}
	l -= ((l % p) + p) % p;
	a->settled_to = l + p - a->def->utc_offset;
	return 0;
}

/* R23: renewals the library made show as the account's purchases (the
 * hook is set only for a plan that renews, so other plans keep the fast
 * charge path). */
static int on_event(const quota_event *e, void *ud)
{
	qs_sim *s = ud;
	const char *id = quota_account_id(e->account);
	qs_acct *a = lookup(s, id, strlen(id));
	quota_package_spec sp;
	qs_purchase *b;
	qs_month *m;
	size_t i;
	int o = -1;

	if (!a || !e->package || (e->kind != QUOTA_EVENT_RENEWED &&
				  e->kind != QUOTA_EVENT_RENEWAL_FAILED))
		return 0;
	quota_package_get_spec(e->package, &sp);
	/* The offer: the one the renewed package was bought from (a
	 * renewal's package is named "<offer id>#<n>"). */
	for (i = 0; i < a->nbuys && o < 0; i++)
		if (a->buys[i].package && !strcmp(a->buys[i].package, sp.id))
			o = a->buys[i].offer;
	for (i = 0; i < s->plan->noffers && o < 0; i++) {
		size_t n = strlen(s->plan->offers[i].id);

		if (!strncmp(sp.id, s->plan->offers[i].id, n) &&
		    sp.id[n] == '#')
			o = (int)i;
	}
	if (o < 0)
		return 0;
	a->buys = qs_grow(a->buys, &a->cbuys, a->nbuys + 1, sizeof *a->buys);
	b = &a->buys[a->nbuys++];
	memset(b, 0, sizeof *b);
	b->offer = o;
	b->quantity = 1;
	if (e->kind == QUOTA_EVENT_RENEWAL_FAILED) {
		b->at = e->at;
		b->rc = QUOTA_EFUNDS;
		return 0;
	}
	b->at = sp.effective_at;
	b->units = sp.units;
	b->list = b->price = sp.price_micros;
	b->package = qs_strndup(sp.id, strlen(sp.id));
	m = month(s, a, qs_month_of(b->at, a->def->utc_offset));
	m->purchased += sp.price_micros;
	a->cum += sp.price_micros;
	return 0;
}

/* A voucher the purchase's list price does not reach: the message in
 * the currency's units (the library's counts micros). */
static void voucher_err(qs_sim *s, qs_acct *a, const qs_action *x,
			qs_err *err)
{
	quota_purchase pu;
	char m1[32], m2[32];

	if (quota_package_quote(a->a, s->offers[x->offer], x->quantity, NULL,
				x->at, &pu) == QUOTA_OK &&
	    pu.list_price_micros < x->voucher.min_spend_micros)
		qs_errf(err, x->line, x->col, "purchase: offer '%s': list "
			"price %s below the voucher's minimum spend %s "
			"(QUOTA_EVOUCHER)", s->plan->offers[x->offer].id,
			qs_money_fmt(m1, pu.list_price_micros),
			qs_money_fmt(m2, x->voucher.min_spend_micros));
}

/* The account's scheduled purchases and top-ups up to time t. */
static int actions(qs_sim *s, qs_acct *a, int64_t t, qs_err *err)
{
	const qs_account_def *d = a->def;

	while (a->nact < d->nacts && d->acts[a->nact].at <= t) {
		const qs_action *x = &d->acts[a->nact++];
		qs_month *m;
		int rc;

		int32_t mo = qs_month_of(x->at, d->utc_offset);

		if (x->at >= a->settled_to && settle(s, a, x->at, err)) {
			err->file = s->plan->file;
			err->line = x->line;
			err->col = x->col;
			return -1;
		}
		if (a->nmonths == 0 || mo > a->cur)
			advance(s, a, mo);
		m = month(s, a, mo);
		if (x->kind == QS_ACT_RENEW) { /* R23 */
			if ((rc = quota_renewal_set(a->a, s->offers[x->offer],
						    x->units_left, x->within,
						    x->at))) {
				lib_err(s, err, x->line, rc, "renewal");
				err->col = x->col;
				return -1;
			}
		} else if (x->kind == QS_ACT_TOPUP) {
			/* an unlimited balance (INT64_MAX, acct_new) takes
			 * no more and needs none */
			if (d->balance_set &&
			    (rc = quota_account_topup(a->a, x->micros, x->at))) {
				lib_err(s, err, x->line, rc, "top-up");
				err->col = x->col;
				return -1;
			}
			a->topped_up += x->micros;
		} else {
			quota_purchase pu;
			qs_purchase *b;

			rc = quota_package_buy(a->a, s->offers[x->offer],
					       x->quantity,
					       x->has_voucher ? &x->voucher
							      : NULL,
					       x->at, x->id, &pu);
			if (rc && rc != QUOTA_EFUNDS && rc != QUOTA_ESUSPENDED) {
				lib_err(s, err, x->line, rc, "purchase");
				err->col = x->col;
				if (rc == QUOTA_EVOUCHER)
					voucher_err(s, a, x, err);
				return -1;
			}
			a->buys = qs_grow(a->buys, &a->cbuys, a->nbuys + 1,
					  sizeof *a->buys);
			b = &a->buys[a->nbuys++];
			b->at = x->at;
			b->offer = x->offer;
			b->quantity = x->quantity;
			b->rc = rc;
			if (rc == QUOTA_OK) {
				quota_package_spec sp;

				quota_package_get_spec(pu.package, &sp);
				b->package = qs_strndup(sp.id, strlen(sp.id));
				b->units = pu.units;
				b->list = pu.list_price_micros;
				b->discount = pu.discount_micros;
				b->price = pu.price_micros;
				m->purchased += pu.price_micros;
				a->cum += pu.price_micros;
				qs_point(s, a, x->at);
			}
		}
	}
	return 0;
}

static qs_acct *acct_new(qs_sim *s, const char *id, size_t n,
			 const qs_account_def *d, qs_err *err)
{
	qs_acct *a = qs_alloc(sizeof *a);
	quota_account *qa = NULL;
	int rc;
	size_t i;
	/* the plan's word a refusal is about: the account's line, or the
	 * attribute's line and column (quota-plan(5)) */
	int64_t line = d->line, col = 1;

	a->id = qs_strndup(id, n);
	a->idlen = n;
	a->def = d;
	a->settled_to = INT64_MIN;
	a->kept_from = INT64_MIN;
	if ((rc = quota_account_new(s->ctx, a->id, &qa)))
		goto bad;
	a->a = qa;
	if (d->utc_line) {
		line = d->utc_line;
		col = d->utc_col;
	}
	if ((rc = quota_account_set_utc_offset(qa, d->utc_offset)))
		goto bad;
	line = d->line;
	col = 1;
	if ((rc = quota_account_set_settlement(qa, d->settle_period, d->minor,
					       d->rounding)))
		goto bad;
	/* An unlimited balance: a balance and a credit limit of INT64_MAX
	 * each, purchases allowed on credit.  The balance can fall to
	 * -INT64_MAX, 2^64 - 2 micros spent, and the library refuses
	 * purchases (their sum) and bills (theirs) that would take either
	 * sum above INT64_MAX: it overflows before it runs out (an error
	 * then, never a suspension or a refused purchase). */
	if ((rc = quota_account_set_credit_limit(
		     qa, d->balance_set ? d->credit : INT64_MAX)) ||
	    (!d->balance_set &&
	     (rc = quota_account_set_pay_order(qa, QUOTA_PAY_GIFT_FIRST,
					       QUOTA_PAY_CREDIT_PURCHASES))))
		goto bad;
	for (i = 0; i < s->plan->ncats; i++) {
		if (d->tariff[i] >= 0 &&
		    (rc = quota_account_set_tariff(qa, s->catid[i],
						   s->tariffs[d->tariff[i]])))
			goto bad;
		if (d->overage[i] &&
		    (rc = quota_account_set_overage(qa, s->catid[i],
						    d->overage[i])))
			goto bad;
	}
	for (i = 0; i < d->ncaps; i++)
		if ((rc = quota_account_set_cap(
			     qa, d->caps[i].cat < 0 ? QUOTA_ALL
						    : s->catid[d->caps[i].cat],
			     d->caps[i].period, d->caps[i].units)))
			goto bad;
	for (i = 0; i < d->nalerts; i++) {
		line = d->alerts[i].line;
		col = d->alerts[i].col;
		if ((rc = quota_account_add_alert(qa, s->catid[d->alerts[i].cat],
						  d->alerts[i].level,
						  d->alerts[i].unit)))
			goto bad;
	}
	for (i = 0; i < d->npkgs; i++) {
		const qs_pkg_def *p = &d->pkgs[i];
		quota_package_spec sp = {.id = p->id,
					 .units = p->units,
					 .effective_at = p->from,
					 .expires_at = p->until,
					 .price_micros = p->price,
					 .flags = p->flags,
					 .priority = p->priority};
		unsigned c;

		for (c = 0; c < s->plan->ncats; c++)
			if (p->cats >> c & 1)
				sp.categories |= QUOTA_MASK(s->catid[c]);
		line = p->line;
		col = p->col;
		if ((rc = quota_package_add(qa, &sp, NULL))) {
			/* too many units held: the units' word */
			if (rc == QUOTA_EOVERFLOW)
				col = p->col_units;
			goto bad;
		}
	}
	line = d->line;
	col = 1;
	if ((d->balance_set ? d->balance > 0 : true) &&
	    (rc = quota_account_topup(qa, d->balance_set ? d->balance
							: INT64_MAX, 0)))
		goto bad;
	insert(s, a);
	return a;
bad:
	lib_err(s, err, line, rc, "account");
	err->col = col;
	if (strcmp(d->id, a->id) && qa)
		qs_errf(err, line, col, "account '%s' (from 'account *'): %s "
			"(%s)", a->id, quota_errmsg(s->ctx), quota_err_name(rc));
	else if (strcmp(d->id, a->id)) {
		/* the trace's id refused: the caller names the row (file,
		 * line and column of the account field) */
		qs_errf(err, 0, 0, "account '%s' (from 'account *' on line "
			"%lld of %s): %s (%s)", a->id, (long long)d->line,
			s->plan->name, quota_errmsg(s->ctx),
			quota_err_name(rc));
		err->file = NULL;
	}
	free(a->id);
	free(a);
	return NULL;
}

int qs_sim_init(qs_sim *s, const qs_plan *plan, qs_err *err)
{
	static const uint8_t seed[16] = "quota-sim seed!";
	size_t i, k;
	int rc;
	int64_t line = 0;

	memset(s, 0, sizeof *s);
	s->plan = plan;
	s->scale_micros = 1000000;
	if ((rc = quota_ctx_new(&s->ctx))) {
		qs_errf(err, 0, 0, "cannot make a context: %s",
			quota_strerror(rc));
		return -1;
	}
	quota_ctx_set_hash_seed(s->ctx, seed);
	for (i = 0; i < plan->ncats; i++)
		if ((rc = quota_category_add(s->ctx, plan->cats[i],
					     &s->catid[i])))
			return lib_err(s, err, 0, rc, "category");
	s->tariffs = qs_alloc((plan->ntariffs + 1) * sizeof *s->tariffs);
	for (i = 0; i < plan->ntariffs; i++) {
		const qs_tariff_def *t = &plan->tariffs[i];
		quota_tariff *q;

		line = t->line;
		if ((rc = quota_tariff_new(s->ctx, t->name, &q)))
			goto bad;
		s->tariffs[i] = q;
		for (k = 0; k < t->ntiers; k++)
			if ((rc = quota_tariff_add_tier(q, t->up_to[k],
							t->price[k])))
				goto bad;
		if ((rc = quota_tariff_set_mode(q, t->mode)))
			goto bad;
		if (t->free_units &&
		    (rc = quota_tariff_set_free(q, t->free_units,
						t->free_period)))
			goto bad;
		if (t->free_daily &&
		    (rc = quota_tariff_set_free_daily_limit(q, t->free_daily)))
			goto bad;
		if (t->failure_fee &&
		    (rc = quota_tariff_set_failure_fee(q, t->failure_fee)))
			goto bad;
	}
	s->offers = qs_alloc((plan->noffers + 1) * sizeof *s->offers);
	for (i = 0; i < plan->noffers; i++) {
		const qs_offer_def *o = &plan->offers[i];
		quota_offer_spec sp = {.id = o->id,
				       .units = o->units,
				       .price_micros = o->price,
				       .min_units = o->min_units,
				       .step_units = o->step_units,
				       .max_units = o->max_units,
				       .valid_months = o->valid_months,
				       .valid_days = o->valid_days,
				       .flags = o->flags,
				       .priority = o->priority};
		unsigned c;

		line = o->line;
		if (o->tariff >= 0)
			sp.unit_tariff = s->tariffs[o->tariff];
		if (o->tariff >= 0 && !sp.step_units)
			sp.step_units = 1;
		if (o->tariff >= 0 && !sp.min_units)
			sp.min_units = sp.step_units;
		for (c = 0; c < plan->ncats; c++)
			if (o->cats >> c & 1)
				sp.categories |= QUOTA_MASK(s->catid[c]);
		if ((rc = quota_offer_add(s->ctx, &sp, &s->offers[i])))
			goto bad;
	}
	for (i = 0; i < plan->naccounts; i++) /* R23: renewals to report */
		for (k = 0; k < plan->accounts[i].nacts; k++)
			if (plan->accounts[i].acts[k].kind == QS_ACT_RENEW &&
			    !quota_ctx_set_event_hook(s->ctx, on_event, s))
				break;
	for (i = 0; i < plan->naccounts; i++) {
		const qs_account_def *d = &plan->accounts[i];

		if ((int)i == plan->any)
			continue;
		if (!acct_new(s, d->id, strlen(d->id), d, err))
			return -1;
	}
	return 0;
bad:
	return lib_err(s, err, line, rc, "definition");
}

static int refusal(int rc)
{
	switch (rc) {
	case QUOTA_ECAP: return QS_REF_CAP;
	case QUOTA_EEXHAUSTED: return QS_REF_STOP;
	case QUOTA_ESUSPENDED: return QS_REF_SUSPENDED;
	case QUOTA_ETOOLONG: return QS_REF_TOOLONG;
	case QUOTA_EKEYCONFLICT: return QS_REF_KEY;
	default: return QS_REF_OTHER;
	}
}

bool qs_sim_has_account(qs_sim *s, const char *id, size_t n)
{
	return s->plan->any >= 0 || lookup(s, id, n);
}

qs_acct *qs_sim_account(qs_sim *s, const char *id, size_t n, qs_err *err)
{
	qs_acct *a = lookup(s, id, n);

	if (a)
		return a;
	if (s->plan->any < 0) {
		qs_errf(err, 0, 0,
			"account '%.*s' is not in plan %s (add an 'account "
			"%.*s' or an 'account *' block)", (int)n, id,
			s->plan->name, (int)n, id);
		return NULL;
	}
	a = acct_new(s, id, n, &s->plan->accounts[s->plan->any], err);
	if (a)
		s->last = a;
	return a;
}

/* A sum of the figures kept; false (err set at the row) if it would
 * overflow 64 bits. */
static bool add_to(int64_t *sum, int64_t x, const qs_row *row,
		   const qs_acct *a, qs_err *err)
{
	if (qs_add(*sum, x, sum))
		return true;
	qs_errf(err, row->line, 0, "account '%s': the units or money counted "
		"so far overflow 64 bits at this row (money is counted in "
		"micros: at most 9223372036854.775807)", a->id);
	return false;
}

static int charge_row(qs_sim *s, const qs_row *row, qs_err *err,
		      qs_late *late)
{
	qs_acct *a = lookup(s, row->account, row->account_len);
	const qs_account_def *d;
	quota_usage u = {0};
	quota_receipt r;
	char key[QUOTA_KEY_MAX + 1];
	qs_stat *st;
	int c, rc;
	int32_t mo;
	int64_t units = row->units, raw_units;
	qs_keyent *ke = NULL;
	bool scaling = s->scale_micros != 1000000, repeat = false;
	bool conflict = false;

	if (!a) {
		const char *file = err->file;

		if (!(a = qs_sim_account(s, row->account, row->account_len,
					 err))) {
			if (!err->line) {
				err->file = file;
				err->line = row->line;
				err->col = row->col_account;
			}
			return -1;
		}
	}
	d = a->def;
	c = qs_plan_cat(s->plan, row->category, row->category_len);
	if (c < 0) {
		qs_errf(err, row->line, row->col_category,
			"category '%.*s' is not in plan %s",
			(int)row->category_len, row->category, s->plan->name);
		return -1;
	}
	if (!s->any_at || row->at < s->first_at)
		s->first_at = row->at;
	if (!s->any_at || row->at > s->last_at)
		s->last_at = row->at;
	s->any_at = true;
	s->rows++;
	if (a->nact < d->nacts && d->acts[a->nact].at <= row->at &&
	    actions(s, a, row->at, err)) {
		err->line = err->line ? err->line : row->line;
		return -1;
	}
	if (row->at >= a->settled_to && settle(s, a, row->at, err)) {
		/* what this row's time closed overflowed (or the like): the
		 * row is named, in the trace (the file qs_feed set) */
		err->line = row->line;
		return -1;
	}
	if (a->nmonths && row->at >= a->mstart && row->at < a->mend) {
		st = &a->months[a->cur - a->base].cat[c];
		mo = a->cur;
	} else {
		mo = qs_month_of(row->at, d->utc_offset);
		if (a->nmonths == 0 || mo > a->cur)
			advance(s, a, mo);
		st = &month(s, a, mo)->cat[c];
		a->mstart = qs_month_start(a->cur, d->utc_offset);
		a->mend = qs_month_start(a->cur + 1, d->utc_offset);
	}
	/* a chart point at a day's first row, in time order: a late row
	 * takes none (late.c) */
	if (s->samples &&
	    (a->nsamples == 0 || row->at >= a->samples[a->nsamples - 1].at)) {
		int64_t day = (row->at + d->utc_offset) / 86400;

		if (a->nsamples == 0 || day != a->last_day) {
			qs_point(s, a, row->at);
			a->last_day = day;
		}
	}
	qs_late_begin(s, a, row->at, mo, late);
	st->rows++;
	if (units < 0) {
		quota_sms_info info;
		quota_sms_opts o = d->sms;

		o.signature = d->signature;
		rc = quota_sms_count(row->text, row->text_len, &o, &info);
		if (rc == QUOTA_EENCODING) {
			qs_errf(err, row->line,
				row->col_units + (int64_t)info.error_offset,
				"text: invalid UTF-8 at byte %zu of the field",
				info.error_offset);
			return -1;
		}
		if (rc) {
			st->refused[refusal(rc)]++;
			return 0;
		}
		units = info.segments;
	}
	raw_units = units;
	if (scaling && row->key_len &&
	    (ke = qs_key_find(s, a, row->key, row->key_len, NULL))) {
		/* the key again: the same row (category, units, time) is a
		 * retry, sent at the size its first occurrence was charged
		 * at; another is a conflict at factor 1 (R11) */
		repeat = ke->cat == c && ke->at == row->at &&
			 ke->raw == units;
		conflict = !repeat;
	}
	if (repeat) {
		/* a retry is not more traffic: the running total stays */
		units = ke->scaled;
		if (units == 0) {
			st->dups++;
			return 0;
		}
	} else if (scaling) {
		int64_t raw, want;

		if (!qs_add(a->scale_raw[c], units, &raw) ||
		    !qs_scaled(raw, s->scale_micros, &want)) {
			qs_errf(err, row->line, row->col_units,
				"units overflow after scaling");
			return -1;
		}
		a->scale_raw[c] = raw;
		/* never below 0: a retry the library no longer remembers
		 * (its key window) was charged anew at its first size */
		units = want > a->scale_done[c] ? want - a->scale_done[c] : 0;
		if (want > a->scale_done[c])
			a->scale_done[c] = want;
		if (conflict && ke->scaled == 0) {
			/* the key's first row came to no unit and was never
			 * sent: at factor 1 this row is refused */
			st->refused[QS_REF_KEY]++;
			st->refused_units += units;
			return 0;
		}
		if (units == 0) { /* a conflict whatever its size */
			if (conflict)
				st->refused[QS_REF_KEY]++;
			else if (row->key_len)
				qs_key_put(s, a, row, c, raw_units, 0);
			return 0;
		}
	}
	u.category = s->catid[c];
	u.units = units;
	u.at = row->at;
	if (row->key_len) {
		memcpy(key, row->key, row->key_len);
		key[row->key_len] = 0;
		u.key = key;
	}
	/* `history`: a row dated before the months kept is refused, as a
	 * report too late to bill, whether or not the library's horizon
	 * (which stops at the account's last usage) still reaches it: the
	 * rule quota-plan(5) states, the same for every account. */
	if (row->at < a->kept_from) {
		st->refused[QS_REF_OTHER]++;
		st->refused_units += units;
		return 0;
	}
	if (row->status == QS_STATUS_FAILED && d->on_success) {
		uint64_t hold;

		rc = quota_reserve(a->a, &u, 3600, &r, &hold);
		if (rc == QUOTA_OK && r.replayed)
			goto replayed;
		if (rc == QUOTA_OK)
			rc = quota_release(a->a, hold, NULL, &r);
		if (rc == QUOTA_OK) {
			if (!add_to(&st->failed, units, row, a, err) ||
			    !add_to(&st->fees, r.fee_micros, row, a, err) ||
			    !add_to(&a->cum, r.fee_micros, row, a, err))
				return -1;
			if (scaling && row->key_len)
				qs_key_put(s, a, row, c, raw_units, units);
			if (repeat)
				qs_scale_more(a, c, raw_units, units);
			if (s->on_use)
				s->on_use(s->use_ud, a, c, row->at, units, true);
			return 0;
		}
	} else {
		rc = quota_charge(a->a, &u, &r);
		if (rc == QUOTA_OK) {
			if (r.replayed)
				goto replayed;
			if (!add_to(&st->units, r.units, row, a, err) ||
			    !add_to(&st->free, r.free_units, row, a, err) ||
			    !add_to(&st->pkg, r.package_units, row, a, err) ||
			    !add_to(&st->payg, r.payg_units, row, a, err) ||
			    !add_to(&st->cost, r.payg_cost_micros, row, a,
				    err) ||
			    !add_to(&a->cum, r.payg_cost_micros, row, a, err))
				return -1;
			if (scaling && row->key_len)
				qs_key_put(s, a, row, c, raw_units, units);
			if (repeat)
				qs_scale_more(a, c, raw_units, units);
			if (s->on_use)
				s->on_use(s->use_ud, a, c, row->at, r.units,
					  false);
			return 0;
		}
	}
	if (rc == QUOTA_EOVERFLOW || rc == QUOTA_ENOMEM) {
		/* not a refusal a gateway would make: the trace's numbers
		 * are beyond what the library counts */
		qs_errf(err, row->line, row->col_units, "account '%s': %s (%s)",
			a->id, qs_sim_errmsg(s, rc), quota_err_name(rc));
		lib_status(err, rc);
		return -1;
	}
	st->refused[refusal(rc)]++;
	st->refused_units += units;
	return 0;
replayed:
	if (conflict) {
		/* scaled, another row of the key came out the same size as
		 * its first: at factor 1 the library refuses it */
		st->refused[QS_REF_KEY]++;
		st->refused_units += units;
	} else
		st->dups++;
	return 0;
}

/* A row charged; the month ends and chart points it came late for
 * amended (late.c). */
int qs_sim_row(qs_sim *s, const qs_row *row, qs_err *err)
{
	qs_late late = {0};

	if (charge_row(s, row, err, &late))
		return -1;
	qs_late_end(s, &late);
	return 0;
}

int qs_sim_finish(qs_sim *s, qs_err *err)
{
	size_t i;

	for (i = 0; i < s->naccts; i++) {
		qs_acct *a = s->accts[i];
		const qs_account_def *d = a->def;
		int64_t end = s->any_at ? s->last_at : 0;

		if (d->nacts && d->acts[d->nacts - 1].at > end)
			end = d->acts[d->nacts - 1].at;
		if (actions(s, a, INT64_MAX, err))
			return -1;
		/* close every period that holds usage: two days on */
		if (settle(s, a, end + 2 * 86400, err)) {
			char m[sizeof err->msg];

			memcpy(m, err->msg, sizeof m);
			err->file = s->plan->file;
			qs_errf(err, 0, 0, "%.300s (the last settlement, two "
				"days after the last row or action)", m);
			return -1;
		}
		/* an account with neither rows nor actions has no month */
		if (a->nmonths) {
			advance(s, a, a->base + (int32_t)a->nmonths - 1);
			record_left(s, a, a->cur);
		}
		/* with neither rows nor actions there is no time to draw
		 * (svg.c) */
		if (s->any_at || d->nacts)
			qs_point(s, a, end);
	}
	return 0;
}

void qs_sim_totals(const qs_sim *s, const qs_acct *a, qs_totals *t)
{
	size_t i, j, c, k;

	memset(t, 0, sizeof *t);
	for (i = 0; i < s->naccts; i++) {
		const qs_acct *x = s->accts[i];

		if (a && x != a)
			continue;
		for (j = 0; j < x->nmonths; j++) {
			const qs_month *m = &x->months[j];

			t->purchased += m->purchased;
			if (!m->cat)
				continue;
			for (c = 0; c < s->plan->ncats; c++) {
				const qs_stat *y = &m->cat[c];

				t->st.rows += y->rows;
				t->st.units += y->units;
				t->st.free += y->free;
				t->st.pkg += y->pkg;
				t->st.payg += y->payg;
				t->st.cost += y->cost;
				t->st.failed += y->failed;
				t->st.fees += y->fees;
				t->st.billed += y->billed;
				t->st.dups += y->dups;
				t->st.refused_units += y->refused_units;
				for (k = 0; k < QS_NREF; k++)
					t->st.refused[k] += y->refused[k];
			}
		}
	}
	t->bills = t->st.billed;
	t->spent = t->purchased + t->bills;
}

void qs_sim_free(qs_sim *s)
{
	size_t i, j;

	for (i = 0; i < s->naccts; i++) {
		qs_acct *a = s->accts[i];

		for (j = 0; j < a->nmonths; j++) {
			free(a->months[j].cat);
			free(a->months[j].left);
		}
		for (j = 0; j < a->nbuys; j++)
			free(a->buys[j].package);
		for (j = 0; j < a->nsamples; j++)
			free(a->samples[j].left);
		free(a->samples);
		free(a->buys);
		free(a->months);
		free(a->id);
		free(a);
	}
	free(s->accts);
	free(s->htab);
	free(s->keys);
	free(s->ktab);
	free(s->tariffs);
	free(s->offers);
	free(s->late_left);
	quota_ctx_free(s->ctx);
	memset(s, 0, sizeof *s);
}
