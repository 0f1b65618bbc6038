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

#define MAXTOK 48

typedef struct tok {
	const char *s;
	size_t n;
	int64_t col;
} tok;

typedef struct parser {
	qs_plan *p;
	qs_err *err;
	int64_t line;
	tok t[MAXTOK];
	size_t nt;
	int64_t eol; /* column just past the line's last token */
	int block;   /* 0 none, 1 tariff, 2 offer, 3 account */
	char unq[MAXTOK][256];
} parser;

enum { B_NONE, B_TARIFF, B_OFFER, B_ACCOUNT };

static bool is(const tok *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

static bool fail(parser *ps, int64_t col, const char *fmt, const char *a)
{
	qs_errf(ps->err, ps->line, col, fmt, a);
	return false;
}

/* The token i, or an error at the end of the line naming what is
 * missing. */
static const tok *need(parser *ps, size_t i, const char *what)
{
	if (i < ps->nt)
		return &ps->t[i];
	fail(ps, ps->eol, "missing %s", what);
	return NULL;
}

static char *dup_tok(const tok *t)
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
			return fail(ps, (int64_t)i + 1, "too many words on a line%s",
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
					return fail(ps, t->col,
						    "quoted string longer than "
						    "255 bytes%s", "");
				o[k++] = line[i];
			}
			if (i >= len)
				return fail(ps, t->col,
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

	for (i = 0; i < p->ncats; i++)
		if (strlen(p->cats[i]) == n && memcmp(p->cats[i], name, n) == 0)
			return (int)i;
	return -1;
}

static int find_tariff(const qs_plan *p, const tok *t)
{
	size_t i;

	for (i = 0; i < p->ntariffs; i++)
		if (strlen(p->tariffs[i].name) == t->n &&
		    memcmp(p->tariffs[i].name, t->s, t->n) == 0)
			return (int)i;
	return -1;
}

static int find_offer(const qs_plan *p, const tok *t)
{
	size_t i;

	for (i = 0; i < p->noffers; i++)
		if (strlen(p->offers[i].id) == t->n &&
		    memcmp(p->offers[i].id, t->s, t->n) == 0)
			return (int)i;
	return -1;
}

static bool get_int(parser *ps, size_t i, const char *what, int64_t max,
		    int64_t *v)
{
	const tok *t = need(ps, i, what);

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

static bool get_money(parser *ps, size_t i, const char *what, int64_t *v)
{
	const tok *t = need(ps, i, what);
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

static bool get_time(parser *ps, size_t i, const char *what, int64_t *v)
{
	const tok *t = need(ps, i, what);
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
static bool get_cat(parser *ps, size_t i, bool all, int *c)
{
	const tok *t = need(ps, i, "category");

	if (!t)
		return false;
	if (all && is(t, "all")) {
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
static bool get_cats(parser *ps, size_t i, uint64_t *mask)
{
	const tok *t = need(ps, i, "categories (CAT[,CAT...])");
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

static bool word_of(parser *ps, size_t i, const char *what,
		    const char *const *words, const int *vals, int *out)
{
	const tok *t = need(ps, i, what);
	size_t k;
	char list[160] = "";

	if (!t)
		return false;
	for (k = 0; words[k]; k++) {
		if (is(t, words[k])) {
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

static bool no_more(parser *ps, size_t i)
{
	if (i < ps->nt)
		return fail(ps, ps->t[i].col, "unexpected '%s'",
			    dup_tok(&ps->t[i]));
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

	if (is(k, "tier")) {
		int64_t up;
		const tok *u = need(ps, 1, "tier's last unit (a number or "
					   "'rest')");

		if (!u)
			return false;
		if (t->ntiers == 32)
			return fail(ps, k->col, "more than 32 tiers%s", "");
		if (t->ntiers && t->up_to[t->ntiers - 1] == QUOTA_UNLIMITED)
			return fail(ps, k->col,
				    "a tier after the open-ended one ('rest')%s",
				    "");
		if (is(u, "rest"))
			up = QUOTA_UNLIMITED;
		else if (!get_int(ps, 1, "tier's last unit", INT64_MAX - 1, &up))
			return false;
		if (up == 0 || (t->ntiers && up <= t->up_to[t->ntiers - 1]))
			return fail(ps, u->col,
				    "tiers must end at increasing positions "
				    "above 0%s", "");
		t->up_to[t->ntiers] = up;
		if (!get_money(ps, 2, "tier's unit price", &t->price[t->ntiers]))
			return false;
		t->ntiers++;
		return no_more(ps, 3);
	}
	if (is(k, "mode"))
		return word_of(ps, 1, "mode", modes, modev, &t->mode) &&
		       no_more(ps, 2);
	if (is(k, "free")) {
		size_t i = 3;

		if (!get_int(ps, 1, "free units", INT64_MAX, &t->free_units) ||
		    !word_of(ps, 2, "free period", periods, periodv,
			     &t->free_period))
			return false;
		if (i < ps->nt && is(&ps->t[i], "per-day")) {
			if (!get_int(ps, i + 1, "free units per day", INT64_MAX,
				     &t->free_daily))
				return false;
			i += 2;
		}
		return no_more(ps, i);
	}
	if (is(k, "failure-fee"))
		return get_money(ps, 1, "failure fee", &t->failure_fee) &&
		       no_more(ps, 2);
	return fail(ps, k->col,
		    "unknown tariff attribute '%s' (tier, mode, free, "
		    "failure-fee)", dup_tok(k));
}

/* ----------------------------------------------------------- offer */

static bool offer_attr(parser *ps)
{
	qs_offer_def *o = &ps->p->offers[ps->p->noffers - 1];
	const tok *k = &ps->t[0];
	size_t i;

	if (is(k, "covers"))
		return get_cats(ps, 1, &o->cats) && no_more(ps, 2);
	if (is(k, "units")) {
		if (o->tariff >= 0)
			return fail(ps, k->col, "an offer is either fixed "
				    "(units ... price ...) or priced by "
				    "quantity (priced-by), not both%s", "");
		if (!get_int(ps, 1, "units", INT64_MAX, &o->units))
			return false;
		if (o->units == 0)
			return fail(ps, ps->t[1].col, "units must be > 0%s", "");
		if (ps->nt < 3 || !is(&ps->t[2], "price"))
			return fail(ps, ps->nt < 3 ? ps->eol : ps->t[2].col,
				    "expected 'price MONEY' after the units%s",
				    "");
		return get_money(ps, 3, "price", &o->price) && no_more(ps, 4);
	}
	if (is(k, "priced-by")) {
		const tok *t = need(ps, 1, "tariff name");

		if (!t)
			return false;
		if (o->units)
			return fail(ps, k->col, "an offer is either fixed or "
				    "priced by quantity, not both%s", "");
		if ((o->tariff = find_tariff(ps->p, t)) < 0)
			return fail(ps, t->col, "unknown tariff '%s'",
				    dup_tok(t));
		for (i = 2; i < ps->nt; i += 2) {
			int64_t *v = is(&ps->t[i], "min")    ? &o->min_units
				     : is(&ps->t[i], "step") ? &o->step_units
				     : is(&ps->t[i], "max")  ? &o->max_units
							     : NULL;
			if (!v)
				return fail(ps, ps->t[i].col,
					    "expected min, step or max, not "
					    "'%s'", dup_tok(&ps->t[i]));
			if (!get_int(ps, i + 1, "quantity bound", INT64_MAX, v))
				return false;
		}
		return true;
	}
	if (is(k, "valid")) {
		int64_t n;

		if (ps->nt == 2 && is(&ps->t[1], "never")) {
			o->valid_months = o->valid_days = 0;
			return true;
		}
		for (i = 1; i < ps->nt; i += 2) {
			if (!get_int(ps, i, "validity", 100000, &n))
				return false;
			if (i + 1 < ps->nt && (is(&ps->t[i + 1], "months") ||
					       is(&ps->t[i + 1], "month")))
				o->valid_months = (int32_t)n;
			else if (i + 1 < ps->nt && (is(&ps->t[i + 1], "years") ||
						    is(&ps->t[i + 1], "year")))
				o->valid_months = (int32_t)(n * 12);
			else if (i + 1 < ps->nt && (is(&ps->t[i + 1], "days") ||
						    is(&ps->t[i + 1], "day")))
				o->valid_days = (int32_t)n;
			else
				return fail(ps, i + 1 < ps->nt ? ps->t[i + 1].col
							       : ps->eol,
					    "expected years, months or days%s",
					    "");
		}
		return true;
	}
	if (is(k, "stop-when-exhausted")) {
		o->flags |= QUOTA_PACKAGE_STOP;
		return no_more(ps, 1);
	}
	if (is(k, "priority")) {
		int64_t v;

		if (!get_int(ps, 1, "priority", INT32_MAX, &v))
			return false;
		o->priority = (int32_t)v;
		return no_more(ps, 2);
	}
	return fail(ps, k->col,
		    "unknown offer attribute '%s' (covers, units, priced-by, "
		    "valid, stop-when-exhausted, priority)", dup_tok(k));
}

/* --------------------------------------------------------- account */

static bool add_action(parser *ps, qs_account_def *a, const qs_action *x)
{
	a->acts = qs_grow(a->acts, &a->cacts, a->nacts + 1, sizeof *a->acts);
	a->acts[a->nacts++] = *x;
	(void)ps;
	return true;
}

static bool package_attr(parser *ps, qs_account_def *a)
{
	qs_pkg_def d = {0};
	bool have_cats = false, have_units = false, have_from = false;
	size_t i, j;
	const tok *idt = need(ps, 1, "package id");

	if (!idt)
		return false;
	d.until = QUOTA_NEVER;
	for (j = 0; j < a->npkgs; j++)
		if (strlen(a->pkgs[j].id) == idt->n &&
		    !memcmp(a->pkgs[j].id, idt->s, idt->n))
			return fail(ps, idt->col, "duplicate package id '%s'",
				    dup_tok(idt));
	for (i = 2; i < ps->nt;) {
		const tok *k = &ps->t[i];

		if (is(k, "covers")) {
			if (!get_cats(ps, i + 1, &d.cats))
				return false;
			have_cats = true;
			i += 2;
		} else if (is(k, "units")) {
			if (!get_int(ps, i + 1, "units", INT64_MAX, &d.units))
				return false;
			if (!d.units)
				return fail(ps, ps->t[i + 1].col,
					    "units must be > 0%s", "");
			have_units = true;
			i += 2;
		} else if (is(k, "from")) {
			if (!get_time(ps, i + 1, "from", &d.from))
				return false;
			have_from = true;
			i += 2;
		} else if (is(k, "until")) {
			if (!get_time(ps, i + 1, "until", &d.until))
				return false;
			if (have_from && d.until <= d.from)
				return fail(ps, ps->t[i + 1].col,
					    "until must be after from%s", "");
			i += 2;
		} else if (is(k, "price")) {
			if (!get_money(ps, i + 1, "price", &d.price))
				return false;
			i += 2;
		} else if (is(k, "priority")) {
			int64_t v;

			if (!get_int(ps, i + 1, "priority", INT32_MAX, &v))
				return false;
			d.priority = (int32_t)v;
			i += 2;
		} else if (is(k, "stop-when-exhausted")) {
			d.flags |= QUOTA_PACKAGE_STOP;
			i++;
		} else
			return fail(ps, k->col,
				    "unknown package attribute '%s' (covers, "
				    "units, from, until, price, priority, "
				    "stop-when-exhausted)", dup_tok(k));
	}
	if (!have_cats || !have_units || !have_from)
		return fail(ps, ps->eol, "a package needs %s",
			    !have_cats	  ? "'covers CATS'"
			    : !have_units ? "'units N'"
					  : "'from TIME'");
	if (d.until <= d.from)
		return fail(ps, ps->eol, "until must be after from%s", "");
	d.id = dup_tok(idt);
	a->pkgs = qs_grow(a->pkgs, &a->cpkgs, a->npkgs + 1, sizeof *a->pkgs);
	a->pkgs[a->npkgs++] = d;
	return true;
}

static bool buy_attr(parser *ps, qs_account_def *a)
{
	qs_action x = {0};
	const tok *o = need(ps, 1, "offer id");
	bool have_at = false;
	size_t i;

	if (!o)
		return false;
	x.kind = QS_ACT_BUY;
	x.line = ps->line;
	x.col = ps->t[0].col;
	x.quantity = 1;
	if ((x.offer = find_offer(ps->p, o)) < 0)
		return fail(ps, o->col, "unknown offer '%s' (offers come "
			    "before the accounts that buy them)", dup_tok(o));
	for (i = 2; i < ps->nt;) {
		const tok *k = &ps->t[i];

		if (is(k, "at")) {
			if (!get_time(ps, i + 1, "at", &x.at))
				return false;
			have_at = true;
			i += 2;
		} else if (is(k, "quantity")) {
			if (!get_int(ps, i + 1, "quantity", INT64_MAX,
				     &x.quantity))
				return false;
			if (!x.quantity)
				return fail(ps, ps->t[i + 1].col,
					    "quantity must be > 0%s", "");
			i += 2;
		} else if (is(k, "id")) {
			const tok *t = need(ps, i + 1, "package id");

			if (!t)
				return false;
			x.id = dup_tok(t);
			i += 2;
		} else if (is(k, "voucher")) {
			const tok *kind = need(ps, i + 1, "voucher kind (amount "
							  "or percent)");
			int64_t v;

			if (!kind)
				return false;
			x.has_voucher = true;
			if (!get_money(ps, i + 2, "voucher value", &v))
				return false;
			if (is(kind, "amount")) {
				x.voucher.kind = QUOTA_VOUCHER_AMOUNT;
				x.voucher.value = v;
			} else if (is(kind, "percent")) {
				/* micros of a percent -> basis points */
				if (v % 10000 || v > 100000000)
					return fail(ps, ps->t[i + 2].col,
						    "percent: at most 100 with "
						    "2 decimals%s", "");
				x.voucher.kind = QUOTA_VOUCHER_PERCENT;
				x.voucher.value = v / 10000;
			} else
				return fail(ps, kind->col,
					    "voucher kind '%s' is not amount or "
					    "percent", dup_tok(kind));
			i += 3;
			if (i < ps->nt && is(&ps->t[i], "min-spend")) {
				if (!get_money(ps, i + 1, "min-spend",
					       &x.voucher.min_spend_micros))
					return false;
				i += 2;
			}
		} else
			return fail(ps, k->col,
				    "unknown buy attribute '%s' (at, quantity, "
				    "id, voucher)", dup_tok(k));
	}
	if (!have_at)
		return fail(ps, ps->eol, "a purchase needs 'at TIME'%s", "");
	return add_action(ps, a, &x);
}

static bool account_attr(parser *ps)
{
	qs_account_def *a = &ps->p->accounts[ps->p->naccounts - 1];
	const tok *k = &ps->t[0];
	int c, v;
	static const char *const periods[] = {"day", "month", NULL};
	static const int periodv[] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH};
	static const char *const pol[] = {"payg", "stop", NULL};
	static const int polv[] = {QUOTA_OVERAGE_PAYG, QUOTA_OVERAGE_STOP};

	if (is(k, "utc-offset")) {
		const tok *t = need(ps, 1, "UTC offset (+hh:mm)");
		int64_t h, m;

		if (!t)
			return false;
		if (t->n != 6 || (t->s[0] != '+' && t->s[0] != '-') ||
		    t->s[3] != ':' || !qs_int_parse(t->s + 1, 2, 18, &h) ||
		    !qs_int_parse(t->s + 4, 2, 59, &m))
			return fail(ps, t->col, "UTC offset '%s' is not "
				    "+hh:mm or -hh:mm within 18 hours",
				    dup_tok(t));
		a->utc_offset = (int32_t)((t->s[0] == '-' ? -1 : 1) *
					  (h * 3600 + m * 60));
		return no_more(ps, 2);
	}
	if (is(k, "tariff")) {
		const tok *t;
		int ti;

		if (!get_cat(ps, 1, true, &c) ||
		    !(t = need(ps, 2, "tariff name")))
			return false;
		if ((ti = find_tariff(ps->p, t)) < 0)
			return fail(ps, t->col, "unknown tariff '%s'",
				    dup_tok(t));
		for (v = 0; v < QUOTA_MAX_CATEGORIES; v++)
			if (c < 0 || v == c)
				a->tariff[v] = ti;
		return no_more(ps, 3);
	}
	if (is(k, "cap")) {
		qs_cap_def *cd;

		if (a->ncaps == 16)
			return fail(ps, k->col, "more than 16 caps%s", "");
		cd = &a->caps[a->ncaps];
		if (!get_cat(ps, 1, true, &cd->cat) ||
		    !word_of(ps, 2, "cap period", periods, periodv,
			     &cd->period) ||
		    !get_int(ps, 3, "cap units", INT64_MAX, &cd->units))
			return false;
		a->ncaps++;
		return no_more(ps, 4);
	}
	if (is(k, "overage")) {
		if (!get_cat(ps, 1, true, &c) ||
		    !word_of(ps, 2, "overage policy", pol, polv, &v))
			return false;
		for (int i = 0; i < QUOTA_MAX_CATEGORIES; i++)
			if (c < 0 || i == c)
				a->overage[i] = v;
		return no_more(ps, 3);
	}
	if (is(k, "settle")) {
		static const char *const sp[] = {"hourly", "daily", NULL};
		static const int spv[] = {QUOTA_PERIOD_HOUR, QUOTA_PERIOD_DAY};
		static const char *const rn[] = {"half-up", "half-even", "up",
						 "down", NULL};
		static const int rnv[] = {QUOTA_ROUND_HALF_UP,
					  QUOTA_ROUND_HALF_EVEN, QUOTA_ROUND_UP,
					  QUOTA_ROUND_DOWN};
		size_t i;

		if (!word_of(ps, 1, "settlement period", sp, spv,
			     &a->settle_period))
			return false;
		for (i = 2; i < ps->nt; i += 2) {
			if (is(&ps->t[i], "minor")) {
				if (!get_money(ps, i + 1, "minor unit",
					       &a->minor))
					return false;
				if (!a->minor)
					return fail(ps, ps->t[i + 1].col,
						    "the minor unit must be > "
						    "0%s", "");
			} else if (is(&ps->t[i], "rounding")) {
				if (!word_of(ps, i + 1, "rounding", rn, rnv,
					     &a->rounding))
					return false;
			} else
				return fail(ps, ps->t[i].col,
					    "expected minor or rounding, not "
					    "'%s'", dup_tok(&ps->t[i]));
		}
		return true;
	}
	if (is(k, "balance")) {
		if (ps->nt > 1 && is(&ps->t[1], "unlimited")) {
			a->balance_set = false;
			return no_more(ps, 2);
		}
		a->balance_set = true;
		return get_money(ps, 1, "balance", &a->balance) &&
		       no_more(ps, 2);
	}
	if (is(k, "credit-limit"))
		return get_money(ps, 1, "credit limit", &a->credit) &&
		       no_more(ps, 2);
	if (is(k, "alert")) {
		qs_alert_def *al;
		size_t i = 3;

		if (a->nalerts == 16)
			return fail(ps, k->col, "more than 16 alerts%s", "");
		al = &a->alerts[a->nalerts];
		if (!get_cat(ps, 1, false, &al->cat) ||
		    !get_int(ps, 2, "alert level", INT64_MAX, &al->level))
			return false;
		al->unit = QUOTA_ALERT_UNITS;
		if (ps->nt > 3 && is(&ps->t[3], "%")) {
			al->unit = QUOTA_ALERT_PERCENT;
			i = 4;
		}
		a->nalerts++;
		return no_more(ps, i);
	}
	if (is(k, "charge-on")) {
		static const char *const w[] = {"submit", "success", NULL};
		static const int wv[] = {0, 1};

		if (!word_of(ps, 1, "charge-on", w, wv, &v))
			return false;
		a->on_success = v;
		return no_more(ps, 2);
	}
	if (is(k, "sms")) {
		static const char *const w[] = {"gsm", "cn", NULL};
		static const int wv[] = {0, 1};
		size_t i;

		if (!word_of(ps, 1, "SMS counting", w, wv, &v))
			return false;
		a->sms.flags = v ? QUOTA_SMS_CN : 0;
		for (i = 2; i < ps->nt;) {
			int64_t n;

			if (is(&ps->t[i], "signature")) {
				const tok *t = need(ps, i + 1, "signature");

				if (!t)
					return false;
				free(a->signature);
				a->signature = dup_tok(t);
				i += 2;
			} else if (is(&ps->t[i], "max-segments")) {
				if (!get_int(ps, i + 1, "max-segments",
					     UINT32_MAX, &n))
					return false;
				a->sms.max_segments = (uint32_t)n;
				i += 2;
			} else if (is(&ps->t[i], "max-length")) {
				if (!get_int(ps, i + 1, "max-length",
					     UINT32_MAX, &n))
					return false;
				a->sms.max_units = (uint32_t)n;
				i += 2;
			} else if (is(&ps->t[i], "split-codepoints")) {
				a->sms.flags |= QUOTA_SMS_SPLIT_CODEPOINTS;
				i++;
			} else if (is(&ps->t[i], "shift-tables")) {
				a->sms.flags |= QUOTA_SMS_SHIFT_TABLES;
				i++;
			} else
				return fail(ps, ps->t[i].col,
					    "unknown sms option '%s' "
					    "(signature, max-segments, "
					    "max-length, split-codepoints, "
					    "shift-tables)", dup_tok(&ps->t[i]));
		}
		return true;
	}
	if (is(k, "package"))
		return package_attr(ps, a);
	if (is(k, "buy"))
		return buy_attr(ps, a);
	if (is(k, "topup")) {
		qs_action x = {0};

		x.kind = QS_ACT_TOPUP;
		x.line = ps->line;
		x.col = ps->t[0].col;
		if (!get_money(ps, 1, "top-up", &x.micros))
			return false;
		if (!x.micros)
			return fail(ps, ps->t[1].col, "a top-up must be > 0%s",
				    "");
		if (ps->nt < 3 || !is(&ps->t[2], "at"))
			return fail(ps, ps->nt < 3 ? ps->eol : ps->t[2].col,
				    "expected 'at TIME'%s", "");
		return get_time(ps, 3, "at", &x.at) && no_more(ps, 4) &&
		       add_action(ps, a, &x);
	}
	return fail(ps, k->col,
		    "unknown account attribute '%s' (utc-offset, tariff, cap, "
		    "overage, settle, balance, credit-limit, alert, charge-on, "
		    "sms, package, buy, topup)", dup_tok(k));
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
			return fail(ps, t->col + (int64_t)i,
				    "%s: no control characters or commas",
				    what);
	return true;
}

static bool statement(parser *ps)
{
	qs_plan *p = ps->p;
	const tok *k = &ps->t[0];
	size_t i;

	if (is(k, "quota-plan"))
		return fail(ps, k->col, "'quota-plan' only on the first line%s",
			    "");
	if (is(k, "currency")) {
		const tok *t = need(ps, 1, "currency code");

		if (!t)
			return false;
		free(p->currency);
		p->currency = dup_tok(t);
		ps->block = B_NONE;
		return no_more(ps, 2);
	}
	if (is(k, "category")) {
		if (ps->nt < 2)
			return fail(ps, ps->eol, "missing category name%s", "");
		for (i = 1; i < ps->nt; i++) {
			const tok *t = &ps->t[i];

			if (!name_ok(ps, t, QUOTA_CATEGORY_NAME_MAX,
				     "a category name"))
				return false;
			if (qs_plan_cat(p, t->s, t->n) >= 0)
				return fail(ps, t->col,
					    "category '%s' declared twice",
					    dup_tok(t));
			if (p->ncats == QUOTA_MAX_CATEGORIES)
				return fail(ps, t->col, "more than 64 "
					    "categories%s", "");
			p->cats[p->ncats++] = dup_tok(t);
		}
		ps->block = B_NONE;
		return true;
	}
	if (is(k, "tariff")) {
		const tok *t = need(ps, 1, "tariff name");
		qs_tariff_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "a tariff name") ||
		    !no_more(ps, 2))
			return false;
		if (find_tariff(p, t) >= 0)
			return fail(ps, t->col, "tariff '%s' defined twice",
				    dup_tok(t));
		p->tariffs = qs_grow(p->tariffs, &p->ctariffs, p->ntariffs + 1,
				     sizeof *p->tariffs);
		d = &p->tariffs[p->ntariffs++];
		d->name = dup_tok(t);
		d->line = ps->line;
		d->free_period = QUOTA_PERIOD_MONTH;
		ps->block = B_TARIFF;
		return true;
	}
	if (is(k, "offer")) {
		const tok *t = need(ps, 1, "offer id");
		qs_offer_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "an offer id") ||
		    !no_more(ps, 2))
			return false;
		if (find_offer(p, t) >= 0)
			return fail(ps, t->col, "offer '%s' defined twice",
				    dup_tok(t));
		p->offers = qs_grow(p->offers, &p->coffers, p->noffers + 1,
				    sizeof *p->offers);
		d = &p->offers[p->noffers++];
		d->id = dup_tok(t);
		d->line = ps->line;
		d->tariff = -1;
		d->valid_months = 12;
		ps->block = B_OFFER;
		return true;
	}
	if (is(k, "account")) {
		const tok *t = need(ps, 1, "account id");
		qs_account_def *d;

		if (!t || !name_ok(ps, t, QUOTA_ID_MAX, "an account id") ||
		    !no_more(ps, 2))
			return false;
		for (i = 0; i < p->naccounts; i++)
			if (strlen(p->accounts[i].id) == t->n &&
			    !memcmp(p->accounts[i].id, t->s, t->n))
				return fail(ps, t->col,
					    "account '%s' defined twice",
					    dup_tok(t));
		p->accounts = qs_grow(p->accounts, &p->caccounts,
				      p->naccounts + 1, sizeof *p->accounts);
		d = &p->accounts[p->naccounts++];
		d->id = dup_tok(t);
		d->line = ps->line;
		for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
			d->tariff[i] = -1;
		d->settle_period = QUOTA_PERIOD_DAY;
		d->minor = 10000;
		d->sms = (quota_sms_opts)QUOTA_SMS_OPTS_INIT;
		if (is(t, "*"))
			p->any = (int)(p->naccounts - 1);
		ps->block = B_ACCOUNT;
		return true;
	}
	return fail(ps, k->col,
		    "unknown statement '%s' (currency, category, tariff, offer, "
		    "account; attributes are indented under their block)",
		    dup_tok(k));
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
	memset(&ps, 0, sizeof ps);
	ps.p = p;
	ps.err = err;
	while (ok && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;

		ps.line++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (memchr(line, 0, len)) {
			ok = fail(&ps, (int64_t)((char *)memchr(line, 0, len) -
						 line) + 1,
				  "NUL byte in a plan%s", "");
			break;
		}
		if (!(ok = tokenize(&ps, line, len)) || ps.nt == 0)
			continue;
		if (!header) {
			int64_t v;

			if (!is(&ps.t[0], "quota-plan"))
				ok = fail(&ps, ps.t[0].col,
					  "a plan starts with 'quota-plan 1', "
					  "not '%s'", dup_tok(&ps.t[0]));
			else if (!get_int(&ps, 1, "plan format version", 1000000,
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
				ok = no_more(&ps, 2);
			header = true;
			continue;
		}
		if (ps.t[0].col > 1) {
			switch (ps.block) {
			case B_TARIFF: ok = tariff_attr(&ps); break;
			case B_OFFER: ok = offer_attr(&ps); break;
			case B_ACCOUNT: ok = account_attr(&ps); break;
			default:
				ok = fail(&ps, ps.t[0].col,
					  "indented line '%s' outside a tariff, "
					  "offer or account block",
					  dup_tok(&ps.t[0]));
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
