/*
 * plan.c - the plan file (quota-plan(5)): a line per statement, blocks
 * opened by a statement at the start of a line ("tariff", "offer",
 * "account") and continued by indented attribute lines.  Every error
 * names the file, the line and the column of the token at fault.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"


bool pl_is(const tok *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

bool pl_fail(parser *ps, int64_t col, const char *fmt, const char *a)
{
	qs_errf(ps->err, ps->line, col, fmt, a);
	return false;
}

/* The token i, or an error at the end of the line naming what is
 * missing. */
const tok *pl_need(parser *ps, size_t i, const char *what)
{
	if (i < ps->nt)
		return &ps->t[i];
	pl_fail(ps, ps->eol, "missing %s", what);
	return NULL;
}

const char *pl_tokstr(parser *ps, const tok *t)
{
	size_t n = t->n < sizeof ps->msg - 1 ? t->n : sizeof ps->msg - 1;

	memcpy(ps->msg, t->s, n);
	ps->msg[n] = 0;
	return ps->msg;
}

char *pl_dup_tok(const tok *t)
{
	return qs_strndup(t->s, t->n);
}

/* Split a line into tokens: words separated by blanks, "quoted
 * strings" (\" and \\ inside), a # outside quotes starts a comment. */
static bool tokenize(parser *ps, char *line, size_t len)
{
	size_t i = 0;

	ps->nt = 0;
	while (i < len) {
		tok *t;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len || line[i] == '#')
			break;
		if (ps->nt == MAXTOK)
			return pl_fail(ps, (int64_t)i + 1, "too many words on a line%s",
				    "");
		t = &ps->t[ps->nt];
		t->col = (int64_t)i + 1;
		if (line[i] == '"') {
			char *o = ps->unq[ps->nt];
			size_t k = 0;

			for (i++; i < len && line[i] != '"'; i++) {
				if (line[i] == '\\' && i + 1 < len)
					i++;
				if (k + 1 >= sizeof ps->unq[0])
					return pl_fail(ps, t->col,
						    "quoted string longer than "
						    "255 bytes%s", "");
				o[k++] = line[i];
			}
			if (i >= len)
				return pl_fail(ps, t->col,
					    "unterminated quoted string%s", "");
			o[k] = 0;
			i++;
			t->s = o;
			t->n = k;
		} else {
			t->s = line + i;
			while (i < len && line[i] != ' ' && line[i] != '\t' &&
			       line[i] != '#')
				i++;
			t->n = (size_t)(line + i - t->s);
		}
		ps->nt++;
		ps->eol = (int64_t)i + 1;
	}
	return true;
}

int qs_plan_cat(const qs_plan *p, const char *name, size_t n)
{
	size_t i;

	/* the length first: a trace's name may hold a NUL byte, which a
	 * comparison that stops at a NUL would pass over */
	for (i = 0; i < p->ncats; i++)
		if (strlen(p->cats[i]) == n && memcmp(p->cats[i], name, n) == 0)
			return (int)i;
	return -1;
}

int pl_find_tariff(const qs_plan *p, const tok *t)
{
	size_t i;

	for (i = 0; i < p->ntariffs; i++)
		if (strlen(p->tariffs[i].name) == t->n &&
		    memcmp(p->tariffs[i].name, t->s, t->n) == 0)
			return (int)i;
	return -1;
}

int pl_find_offer(const qs_plan *p, const tok *t)
{
	size_t i;

	for (i = 0; i < p->noffers; i++)
		if (strlen(p->offers[i].id) == t->n &&
		    memcmp(p->offers[i].id, t->s, t->n) == 0)
			return (int)i;
	return -1;
}

bool pl_get_int(parser *ps, size_t i, const char *what, int64_t max,
		    int64_t *v)
{
	const tok *t = pl_need(ps, i, what);

	if (!t)
		return false;
	if (!qs_int_parse(t->s, t->n, max, v)) {
		qs_errf(ps->err, ps->line, t->col,
			"%s: '%.*s' is not a whole number from 0 to %lld", what,
			(int)t->n, t->s, (long long)max);
		return false;
	}
	return true;
}

bool pl_get_money(parser *ps, size_t i, const char *what, int64_t *v)
{
	const tok *t = pl_need(ps, i, what);
	const char *why;

	if (!t)
		return false;
	if (!qs_money_parse(t->s, t->n, v, &why) || *v < 0) {
		qs_errf(ps->err, ps->line, t->col, "%s: '%.*s': %s", what,
			(int)t->n, t->s,
			*v < 0 ? "must not be negative" : why);
		return false;
	}
	return true;
}

bool pl_get_time(parser *ps, size_t i, const char *what, int64_t *v)
{
	const tok *t = pl_need(ps, i, what);
	const char *why;
	size_t col;

	if (!t)
		return false;
	if (!qs_time_parse(t->s, t->n, v, &col, &why)) {
		qs_errf(ps->err, ps->line, t->col + (int64_t)col,
			"%s: '%.*s': %s", what, (int)t->n, t->s, why);
		return false;
	}
	return true;
}

/* A category name, or "all" (-1) when allowed. */
bool pl_get_cat(parser *ps, size_t i, bool all, int *c)
{
	const tok *t = pl_need(ps, i, "category");

	if (!t)
		return false;
	if (all && pl_is(t, "all")) {
		*c = -1;
		return true;
	}
	*c = qs_plan_cat(ps->p, t->s, t->n);
	if (*c < 0) {
		qs_errf(ps->err, ps->line, t->col,
			"unknown category '%.*s' (declare it with a category "
			"line first)", (int)t->n, t->s);
		return false;
	}
	return true;
}

/* CAT[,CAT...] into a mask of plan category indexes. */
bool pl_get_cats(parser *ps, size_t i, uint64_t *mask)
{
	const tok *t = pl_need(ps, i, "categories (CAT[,CAT...])");
	size_t a = 0, b;

	if (!t)
		return false;
	*mask = 0;
	while (a <= t->n) {
		int c;

		for (b = a; b < t->n && t->s[b] != ','; b++)
			;
		c = qs_plan_cat(ps->p, t->s + a, b - a);
		if (c < 0) {
			qs_errf(ps->err, ps->line, t->col + (int64_t)a,
				"unknown category '%.*s'", (int)(b - a),
				t->s + a);
			return false;
		}
		*mask |= UINT64_C(1) << c;
		a = b + 1;
	}
	return true;
}

bool pl_word_of(parser *ps, size_t i, const char *what,
		    const char *const *words, const int *vals, int *out)
{
	const tok *t = pl_need(ps, i, what);
	size_t k;
	char list[160] = "";

	if (!t)
		return false;
	for (k = 0; words[k]; k++) {
		if (pl_is(t, words[k])) {
			*out = vals[k];
			return true;
		}
		strcat(list, k ? ", " : "");
		strcat(list, words[k]);
	}
	qs_errf(ps->err, ps->line, t->col, "%s: '%.*s' is not one of %s", what,
		(int)t->n, t->s, list);
	return false;
}

bool pl_no_more(parser *ps, size_t i)
{
	if (i < ps->nt)
		return pl_fail(ps, ps->t[i].col, "unexpected '%s'",
			    pl_tokstr(ps, &ps->t[i]));
	return true;
}

bool pl_once(parser *ps, bool plan, int bit, const tok *k)
{
	uint32_t *seen = plan ? &ps->seen_plan : &ps->seen_block;
	int64_t *line = ps->seen_line[plan ? 0 : 1];

	if (*seen >> bit & 1) {
		qs_errf(ps->err, ps->line, k->col,
			"'%s' given twice (first on line %lld)",
			pl_tokstr(ps, k), (long long)line[bit]);
		return false;
	}
	*seen |= UINT32_C(1) << bit;
	line[bit] = ps->line;
	return true;
}

bool pl_once_on_line(parser *ps, uint32_t *mask, int bit, const tok *k)
{
	if (*mask >> bit & 1)
		return pl_fail(ps, k->col, "'%s' given twice on the line",
			       pl_tokstr(ps, k));
	*mask |= UINT32_C(1) << bit;
	return true;
}

bool pl_get_sim_time(parser *ps, size_t i, const char *what, int64_t *v)
{
	if (!pl_get_time(ps, i, what, v))
		return false;
	if (*v >= QS_TIME_END) {
		qs_errf(ps->err, ps->line, ps->t[i].col, "%s: '%s': %s", what,
			pl_tokstr(ps, &ps->t[i]), QS_TIME_END_WHY);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------- tariff */

static bool tariff_attr(parser *ps)
{
	qs_tariff_def *t = &ps->p->tariffs[ps->p->ntariffs - 1];
	const tok *k = &ps->t[0];
	static const char *const modes[] = {"graduated", "volume", NULL};
	static const int modev[] = {QUOTA_GRADUATED, QUOTA_VOLUME};
	static const char *const periods[] = {"day", "month", "lifetime", NULL};
	static const int periodv[] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH,
				      QUOTA_PERIOD_LIFETIME};

	if (pl_is(k, "tier")) {
		int64_t up;
		const tok *u = pl_need(ps, 1, "tier's last unit (a number or "
					   "'rest')");

		if (!u)
			return false;
		if (t->ntiers == 32)
			return pl_fail(ps, k->col, "more than 32 tiers%s", "");
		if (t->ntiers && t->up_to[t->ntiers - 1] == QUOTA_UNLIMITED)
			return pl_fail(ps, k->col,
				    "a tier after the open-ended one ('rest')%s",
				    "");
		if (pl_is(u, "rest"))
			up = QUOTA_UNLIMITED;
		else if (!pl_get_int(ps, 1, "tier's last unit", INT64_MAX - 1, &up))
			return false;
		if (up == 0 || (t->ntiers && up <= t->up_to[t->ntiers - 1]))
			return pl_fail(ps, u->col,
				    "tiers must end at increasing positions "
				    "above 0%s", "");
		t->up_to[t->ntiers] = up;
		if (!pl_get_money(ps, 2, "tier's unit price", &t->price[t->ntiers]))
			return false;
		t->ntiers++;
		return pl_no_more(ps, 3);
	}
	if (pl_is(k, "mode"))
		return pl_once(ps, false, S_MODE, k) &&
		       pl_word_of(ps, 1, "mode", modes, modev, &t->mode) &&
		       pl_no_more(ps, 2);
	if (pl_is(k, "free")) {
		size_t i = 3;

		if (!pl_once(ps, false, S_FREE, k) ||
		    !pl_get_int(ps, 1, "free units", INT64_MAX, &t->free_units) ||
		    !pl_word_of(ps, 2, "free period", periods, periodv,
			     &t->free_period))
			return false;
		if (i < ps->nt && pl_is(&ps->t[i], "per-day")) {
			if (!pl_get_int(ps, i + 1, "free units per day", INT64_MAX,
				     &t->free_daily))
				return false;
			i += 2;
		}
		return pl_no_more(ps, i);
	}
	if (pl_is(k, "failure-fee"))
		return pl_once(ps, false, S_FAILURE_FEE, k) &&
		       pl_get_money(ps, 1, "failure fee", &t->failure_fee) &&
		       pl_no_more(ps, 2);
	return pl_fail(ps, k->col,
		    "unknown tariff attribute '%s' (tier, mode, free, "
		    "failure-fee)", pl_tokstr(ps, k));
}

/* ----------------------------------------------------------- offer */

/* The number of a validity: 1 to max (the library's bound for the unit
 * that follows it). */
static bool valid_n(parser *ps, size_t i, int64_t *n)
{
	if (!pl_get_int(ps, i, "validity", 1000000, n))
		return false;
	if (*n == 0)
		return pl_fail(ps, ps->t[i].col, "a validity must be above 0 "
			       "('valid never' for no expiry)%s", "");
	return true;
}

static bool valid_max(parser *ps, size_t i, int64_t n, int64_t max,
		      const char *unit)
{
	if (n <= max)
		return true;
	qs_errf(ps->err, ps->line, ps->t[i].col,
		"validity: at most %lld %s, not %lld", (long long)max, unit,
		(long long)n);
	return false;
}

/* valid never | valid N years|months|days [N days] (quota-plan(5)): the
 * line says the whole validity; what it does not give is 0. */
static bool offer_valid(parser *ps, qs_offer_def *o)
{
	const tok *u;
	int64_t n, d;

	if (!pl_need(ps, 1, "validity (N years, months or days, or never)"))
		return false;
	if (pl_is(&ps->t[1], "never")) {
		o->valid_months = o->valid_days = 0;
		return pl_no_more(ps, 2);
	}
	if (!valid_n(ps, 1, &n) || !(u = pl_need(ps, 2, "years, months or "
						   "days")))
		return false;
	if (pl_is(u, "years") || pl_is(u, "year")) {
		if (!valid_max(ps, 1, n, 100, "years"))
			return false;
		o->valid_months = (int32_t)(n * 12);
	} else if (pl_is(u, "months") || pl_is(u, "month")) {
		if (!valid_max(ps, 1, n, 1200, "months"))
			return false;
		o->valid_months = (int32_t)n;
	} else if (pl_is(u, "days") || pl_is(u, "day")) {
		if (!valid_max(ps, 1, n, 36600, "days"))
			return false;
		o->valid_months = 0;
		o->valid_days = (int32_t)n;
		return pl_no_more(ps, 3);
	} else
		return pl_fail(ps, u->col, "expected years, months or days, "
			       "not '%s'", pl_tokstr(ps, u));
	o->valid_days = 0;
	if (ps->nt == 3)
		return true;
	if (!valid_n(ps, 3, &d))
		return false;
	if (ps->nt < 5 || !(pl_is(&ps->t[4], "days") ||
			    pl_is(&ps->t[4], "day")))
		return pl_fail(ps, ps->nt < 5 ? ps->eol : ps->t[4].col,
			       "expected days after the months or years "
			       "(valid N months|years [N days])%s", "");
	if (!valid_max(ps, 3, d, 36600, "days"))
		return false;
	o->valid_days = (int32_t)d;
	return pl_no_more(ps, 5);
}

static bool offer_attr(parser *ps)
{
	qs_offer_def *o = &ps->p->offers[ps->p->noffers - 1];
	const tok *k = &ps->t[0];
	size_t i;

	if (pl_is(k, "covers"))
		return pl_once(ps, false, S_COVERS, k) &&
		       pl_get_cats(ps, 1, &o->cats) && pl_no_more(ps, 2);
	if (pl_is(k, "units")) {
		if (o->tariff >= 0)
			return pl_fail(ps, k->col, "an offer is either fixed "
				    "(units ... price ...) or priced by "
				    "quantity (priced-by), not both%s", "");
		if (!pl_once(ps, false, S_UNITS, k) ||
		    !pl_get_int(ps, 1, "units", INT64_MAX, &o->units))
			return false;
		if (o->units == 0)
			return pl_fail(ps, ps->t[1].col, "units must be > 0%s", "");
		if (ps->nt < 3 || !pl_is(&ps->t[2], "price"))
			return pl_fail(ps, ps->nt < 3 ? ps->eol : ps->t[2].col,
				    "expected 'price MONEY' after the units%s",
				    "");
		return pl_get_money(ps, 3, "price", &o->price) && pl_no_more(ps, 4);
	}
	if (pl_is(k, "priced-by")) {
		const tok *t = pl_need(ps, 1, "tariff name");
		uint32_t words = 0;

		if (!t)
			return false;
		if (o->units)
			return pl_fail(ps, k->col, "an offer is either fixed or "
				    "priced by quantity, not both%s", "");
		if (!pl_once(ps, false, S_UNITS, k))
			return false;
		if ((o->tariff = pl_find_tariff(ps->p, t)) < 0)
			return pl_fail(ps, t->col, "unknown tariff '%s'",
				    pl_tokstr(ps, t));
		for (i = 2; i < ps->nt; i += 2) {
			int w = pl_is(&ps->t[i], "min")    ? 0
				: pl_is(&ps->t[i], "step") ? 1
				: pl_is(&ps->t[i], "max")  ? 2
							   : -1;
			int64_t *v = w == 0 ? &o->min_units
				     : w == 1 ? &o->step_units
				     : &o->max_units;

			if (w < 0)
				return pl_fail(ps, ps->t[i].col,
					    "expected min, step or max, not "
					    "'%s'", pl_tokstr(ps, &ps->t[i]));
			if (!pl_once_on_line(ps, &words, w, &ps->t[i]) ||
			    !pl_get_int(ps, i + 1, "quantity bound", INT64_MAX, v))
				return false;
		}
		return true;
	}
	if (pl_is(k, "valid"))
		return pl_once(ps, false, S_VALID, k) && offer_valid(ps, o);
	if (pl_is(k, "stop-when-exhausted")) {
		if (!pl_once(ps, false, S_STOP, k))
			return false;
		o->flags |= QUOTA_PACKAGE_STOP;
		return pl_no_more(ps, 1);
	}
	if (pl_is(k, "priority")) {
		int64_t v;

		if (!pl_once(ps, false, S_PRIORITY, k) ||
		    !pl_get_int(ps, 1, "priority", INT32_MAX, &v))
			return false;
		o->priority = (int32_t)v;
		return pl_no_more(ps, 2);
	}
	return pl_fail(ps, k->col,
		    "unknown offer attribute '%s' (covers, units, priced-by, "
		    "valid, stop-when-exhausted, priority)", pl_tokstr(ps, k));
}

/* ------------------------------------------------------- statements */

static bool name_ok(parser *ps, const tok *t, size_t max, const char *what)
{
	size_t i;

	if (t->n == 0 || t->n > max) {
		qs_errf(ps->err, ps->line, t->col, "%s must be 1 to %zu bytes",
			what, max);
		return false;
	}
	for (i = 0; i < t->n; i++)
		if ((unsigned char)t->s[i] < 0x20 || t->s[i] == ',')
			return pl_fail(ps, t->col + (int64_t)i,
				    "%s: no control characters or commas",
				    what);
	return true;
}

static bool statement(parser *ps)
{
	qs_plan *p = ps->p;
	const tok *k = &ps->t[0];
	size_t i;

	if (pl_is(k, "quota-plan"))
		return pl_fail(ps, k->col, "'quota-plan' only on the first line%s",
			    "");
	if (pl_is(k, "currency")) {
		const tok *t = pl_need(ps, 1, "currency code");

		if (!t || !pl_once(ps, true, S_CURRENCY, k))
			return false;
		free(p->currency);
		p->currency = pl_dup_tok(t);
		{ /* UTF-8, as the plan is (quota-plan(5)): it goes into the
		   * SVG's text; quota_sms_count checks UTF-8 and says where */
			quota_sms_info info;

			if (quota_sms_count(p->currency, strlen(p->currency),
					    NULL, &info) == QUOTA_EENCODING)
				return pl_fail(ps, t->col, "currency: not valid "
					    "UTF-8%s", "");
		}
		p->currency_line = ps->line;
		p->currency_col = t->col;
		ps->block = B_NONE;
		return pl_no_more(ps, 2);
	}
	if (pl_is(k, "history")) { /* months kept before the latest (sim.c) */
		int64_t n;

		if (!pl_need(ps, 1, "months of history (or all)") ||
		    !pl_once(ps, true, S_HISTORY, k))
			return false;
		ps->block = B_NONE;
		if (pl_is(&ps->t[1], "all"))
			p->history = -1;
		else if (pl_get_int(ps, 1, "months of history (or all)", 1200, &n))
			p->history = (int)n;
		else
			return false;
		return pl_no_more(ps, 2);
	}
	if (pl_is(k, "category")) {
		if (ps->nt < 2)
			return pl_fail(ps, ps->eol, "missing category name%s", "");
		for (i = 1; i < ps->nt; i++) {
			const tok *t = &ps->t[i];

			if (!name_ok(ps, t, QUOTA_CATEGORY_NAME_MAX,
				     "a category name"))
				return false;
			if (pl_is(t, "*"))
				return pl_fail(ps, t->col, "a category may not "
					    "be named '*' (the name of the "
					    "month's totals in quota-sim's "
					    "output)%s", "");
			if (qs_plan_cat(p, t->s, t->n) >= 0)
				return pl_fail(ps, t->col,
					    "category '%s' declared twice",
					    pl_tokstr(ps, t));
			if (p->ncats == QUOTA_MAX_CATEGORIES)
				return pl_fail(ps, t->col, "more than 64 "
					    "categories%s", "");
			p->cats[p->ncats++] = pl_dup_tok(t);
		}
		ps->block = B_NONE;
		return true;
	}
	if (pl_is(k, "tariff")) {
		const tok *t = pl_need(ps, 1, "tariff name");
		qs_tariff_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "a tariff name") ||
		    !pl_no_more(ps, 2))
			return false;
		if (pl_find_tariff(p, t) >= 0)
			return pl_fail(ps, t->col, "tariff '%s' defined twice",
				    pl_tokstr(ps, t));
		p->tariffs = qs_grow(p->tariffs, &p->ctariffs, p->ntariffs + 1,
				     sizeof *p->tariffs);
		d = &p->tariffs[p->ntariffs++];
		d->name = pl_dup_tok(t);
		d->line = ps->line;
		d->free_period = QUOTA_PERIOD_MONTH;
		ps->block = B_TARIFF;
		ps->seen_block = 0;
		ps->tariff_set = ps->overage_set = 0;
		return true;
	}
	if (pl_is(k, "offer")) {
		const tok *t = pl_need(ps, 1, "offer id");
		qs_offer_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "an offer id") ||
		    !pl_no_more(ps, 2))
			return false;
		if (pl_find_offer(p, t) >= 0)
			return pl_fail(ps, t->col, "offer '%s' defined twice",
				    pl_tokstr(ps, t));
		p->offers = qs_grow(p->offers, &p->coffers, p->noffers + 1,
				    sizeof *p->offers);
		d = &p->offers[p->noffers++];
		d->id = pl_dup_tok(t);
		d->line = ps->line;
		d->tariff = -1;
		d->valid_months = 12;
		ps->block = B_OFFER;
		ps->seen_block = 0;
		ps->tariff_set = ps->overage_set = 0;
		return true;
	}
	if (pl_is(k, "account")) {
		const tok *t = pl_need(ps, 1, "account id");
		qs_account_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "an account id") ||
		    !pl_no_more(ps, 2))
			return false;
		for (i = 0; i < p->naccounts; i++)
			if (strlen(p->accounts[i].id) == t->n &&
			    !memcmp(p->accounts[i].id, t->s, t->n))
				return pl_fail(ps, t->col,
					    "account '%s' defined twice",
					    pl_tokstr(ps, t));
		p->accounts = qs_grow(p->accounts, &p->caccounts,
				      p->naccounts + 1, sizeof *p->accounts);
		d = &p->accounts[p->naccounts++];
		d->id = pl_dup_tok(t);
		d->line = ps->line;
		for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
			d->tariff[i] = -1;
		d->settle_period = QUOTA_PERIOD_DAY;
		d->minor = 10000;
		d->sms = (quota_sms_opts)QUOTA_SMS_OPTS_INIT;
		if (pl_is(t, "*"))
			p->any = (int)(p->naccounts - 1);
		ps->block = B_ACCOUNT;
		ps->seen_block = 0;
		ps->tariff_set = ps->overage_set = 0;
		return true;
	}
	return pl_fail(ps, k->col,
		    "unknown statement '%s' (currency, history, category, tariff, "
		    "offer, account; attributes are indented under their block)",
		    pl_tokstr(ps, k));
}

/* Checks that need the whole block: a finished offer, a tariff. */
static bool close_block(parser *ps)
{
	qs_plan *p = ps->p;

	if (ps->block == B_OFFER) {
		qs_offer_def *o = &p->offers[p->noffers - 1];

		if (!o->cats) {
			qs_errf(ps->err, o->line, 1,
				"offer '%s' has no 'covers' line", o->id);
			return false;
		}
		if (!o->units && o->tariff < 0) {
			qs_errf(ps->err, o->line, 1,
				"offer '%s' needs 'units N price M' or "
				"'priced-by TARIFF'", o->id);
			return false;
		}
	}
	ps->block = B_NONE;
	return true;
}

static int act_cmp(const void *x, const void *y)
{
	const qs_action *a = x, *b = y;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

qs_plan *qs_plan_load(const char *file, qs_err *err)
{
	FILE *f = fopen(file, "r");
	parser ps;
	qs_plan *p;
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;
	bool header = false, ok = true;

	memset(err, 0, sizeof *err);
	err->file = file;
	if (!f) {
		qs_errf(err, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	p = qs_alloc(sizeof *p);
	p->file = qs_strndup(file, strlen(file));
	{
		const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1
						      : file;

		p->name = qs_strndup(base, strlen(base));
	}
	p->any = -1;
	p->history = -1;
	memset(&ps, 0, sizeof ps);
	ps.p = p;
	ps.err = err;
	while (ok && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;
		char *l = line;

		ps.line++;
		while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			len--;
		if (ps.line == 1 && len >= 3 && !memcmp(l, "\xEF\xBB\xBF", 3)) {
			l += 3; /* a byte order mark, as in a trace */
			len -= 3;
		}
		if (memchr(l, 0, len)) {
			ok = pl_fail(&ps, (int64_t)((char *)memchr(l, 0, len) -
						 l) + 1,
				  "NUL byte in a plan%s", "");
			break;
		}
		if (!(ok = tokenize(&ps, l, len)) || ps.nt == 0)
			continue;
		if (!header) {
			int64_t v;

			if (!pl_is(&ps.t[0], "quota-plan"))
				ok = pl_fail(&ps, ps.t[0].col,
					  "a plan starts with 'quota-plan 1', "
					  "not '%s'", pl_tokstr(&ps, &ps.t[0]));
			else if (!pl_get_int(&ps, 1, "plan format version", 1000000,
					  &v))
				ok = false;
			else if (v != QS_PLAN_VERSION) {
				qs_errf(err, ps.line, ps.t[1].col,
					"plan format version %lld is not "
					"supported (this quota-sim reads "
					"version %d)", (long long)v,
					QS_PLAN_VERSION);
				ok = false;
			} else
				ok = pl_no_more(&ps, 2);
			header = true;
			continue;
		}
		if (ps.t[0].col > 1) {
			switch (ps.block) {
			case B_TARIFF: ok = tariff_attr(&ps); break;
			case B_OFFER: ok = offer_attr(&ps); break;
			case B_ACCOUNT: ok = pl_account_attr(&ps); break;
			default:
				ok = pl_fail(&ps, ps.t[0].col,
					  "indented line '%s' outside a tariff, "
					  "offer or account block",
					  pl_tokstr(&ps, &ps.t[0]));
			}
		} else
			ok = close_block(&ps) && statement(&ps);
	}
	if (ok && ferror(f)) {
		qs_errf(err, ps.line, 0, "read error: %s", strerror(errno));
		ok = false;
	}
	if (ok && !header) {
		qs_errf(err, ps.line + 1, 1, "empty plan: it starts with "
			"'quota-plan 1'");
		ok = false;
	}
	if (ok)
		ok = close_block(&ps);
	if (ok && p->ncats == 0) {
		qs_errf(err, ps.line, 0, "the plan declares no category");
		ok = false;
	}
	free(line);
	fclose(f);
	if (!ok) {
		qs_plan_free(p);
		return NULL;
	}
	for (i = 0; i < p->naccounts; i++)
		if (p->accounts[i].nacts)
			qsort(p->accounts[i].acts, p->accounts[i].nacts,
			      sizeof(qs_action), act_cmp);
	return p;
}

void qs_plan_free(qs_plan *p)
{
	size_t i, j;

	if (!p)
		return;
	for (i = 0; i < p->ncats; i++)
		free(p->cats[i]);
	for (i = 0; i < p->ntariffs; i++)
		free(p->tariffs[i].name);
	for (i = 0; i < p->noffers; i++)
		free(p->offers[i].id);
	for (i = 0; i < p->naccounts; i++) {
		qs_account_def *a = &p->accounts[i];

		for (j = 0; j < a->npkgs; j++)
			free(a->pkgs[j].id);
		for (j = 0; j < a->nacts; j++)
			free(a->acts[j].id);
		free(a->pkgs);
		free(a->acts);
		free(a->signature);
		free(a->id);
	}
	free(p->tariffs);
	free(p->offers);
	free(p->accounts);
	free(p->currency);
	free(p->file);
	free(p->name);
	free(p);
}
