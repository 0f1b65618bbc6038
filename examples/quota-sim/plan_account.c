/*
 * plan_account.c - the attributes of an account block of a plan
 * (quota-plan(5)): calendar, tariffs, caps, settlement, money, SMS
 * counting, the packages it owns and its scheduled purchases and
 * top-ups.
 */
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

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
	uint32_t words = 0;
	size_t i, j;
	const tok *idt = pl_need(ps, 1, "package id");

	if (!idt)
		return false;
	d.until = QUOTA_NEVER;
	for (j = 0; j < a->npkgs; j++)
		if (strlen(a->pkgs[j].id) == idt->n &&
		    !memcmp(a->pkgs[j].id, idt->s, idt->n))
			return pl_fail(ps, idt->col, "duplicate package id '%s'",
				    pl_tokstr(ps, idt));
	for (i = 2; i < ps->nt;) {
		const tok *k = &ps->t[i];
		static const char *const w[] = {"covers", "units", "from",
						"until", "price", "priority",
						"stop-when-exhausted", NULL};

		for (j = 0; w[j] && !pl_is(k, w[j]); j++)
			;
		if (w[j] && !pl_once_on_line(ps, &words, (int)j, k))
			return false;
		if (pl_is(k, "covers")) {
			if (!pl_get_cats(ps, i + 1, &d.cats))
				return false;
			have_cats = true;
			i += 2;
		} else if (pl_is(k, "units")) {
			if (!pl_get_int(ps, i + 1, "units", INT64_MAX, &d.units))
				return false;
			if (!d.units)
				return pl_fail(ps, ps->t[i + 1].col,
					    "units must be > 0%s", "");
			d.col_units = ps->t[i + 1].col;
			have_units = true;
			i += 2;
		} else if (pl_is(k, "from")) {
			if (!pl_get_time(ps, i + 1, "from", &d.from))
				return false;
			have_from = true;
			i += 2;
		} else if (pl_is(k, "until")) {
			if (!pl_get_time(ps, i + 1, "until", &d.until))
				return false;
			if (have_from && d.until <= d.from)
				return pl_fail(ps, ps->t[i + 1].col,
					    "until must be after from%s", "");
			i += 2;
		} else if (pl_is(k, "price")) {
			if (!pl_get_money(ps, i + 1, "price", &d.price))
				return false;
			i += 2;
		} else if (pl_is(k, "priority")) {
			int64_t v;

			if (!pl_get_int(ps, i + 1, "priority", INT32_MAX, &v))
				return false;
			d.priority = (int32_t)v;
			i += 2;
		} else if (pl_is(k, "stop-when-exhausted")) {
			d.flags |= QUOTA_PACKAGE_STOP;
			i++;
		} else
			return pl_fail(ps, k->col,
				    "unknown package attribute '%s' (covers, "
				    "units, from, until, price, priority, "
				    "stop-when-exhausted)", pl_tokstr(ps, k));
	}
	if (!have_cats || !have_units || !have_from)
		return pl_fail(ps, ps->eol, "a package needs %s",
			    !have_cats	  ? "'covers CATS'"
			    : !have_units ? "'units N'"
					  : "'from TIME'");
	if (d.until <= d.from)
		return pl_fail(ps, ps->eol, "until must be after from%s", "");
	d.id = pl_dup_tok(idt);
	d.line = ps->line;
	d.col = idt->col;
	a->pkgs = qs_grow(a->pkgs, &a->cpkgs, a->npkgs + 1, sizeof *a->pkgs);
	a->pkgs[a->npkgs++] = d;
	return true;
}

static bool buy_attr(parser *ps, qs_account_def *a)
{
	qs_action x = {0};
	const tok *o = pl_need(ps, 1, "offer id");
	bool have_at = false;
	uint32_t words = 0;
	size_t i;

	if (!o)
		return false;
	x.kind = QS_ACT_BUY;
	x.line = ps->line;
	x.col = ps->t[0].col;
	x.quantity = 1;
	if ((x.offer = pl_find_offer(ps->p, o)) < 0)
		return pl_fail(ps, o->col, "unknown offer '%s' (offers come "
			    "before the accounts that buy them)", pl_tokstr(ps, o));
	for (i = 2; i < ps->nt;) {
		const tok *k = &ps->t[i];
		static const char *const w[] = {"at", "quantity", "id",
						"voucher", NULL};
		size_t j;

		for (j = 0; w[j] && !pl_is(k, w[j]); j++)
			;
		if (w[j] && !pl_once_on_line(ps, &words, (int)j, k))
			return false;
		if (pl_is(k, "at")) {
			if (!pl_get_sim_time(ps, i + 1, "at", &x.at))
				return false;
			have_at = true;
			i += 2;
		} else if (pl_is(k, "quantity")) {
			if (!pl_get_int(ps, i + 1, "quantity", INT64_MAX,
				     &x.quantity))
				return false;
			if (!x.quantity)
				return pl_fail(ps, ps->t[i + 1].col,
					    "quantity must be > 0%s", "");
			i += 2;
		} else if (pl_is(k, "id")) {
			const tok *t = pl_need(ps, i + 1, "package id");

			if (!t)
				return false;
			x.id = pl_dup_tok(t);
			i += 2;
		} else if (pl_is(k, "voucher")) {
			const tok *kind = pl_need(ps, i + 1, "voucher kind (amount "
							  "or percent)");
			int64_t v;

			if (!kind)
				return false;
			x.has_voucher = true;
			if (!pl_get_money(ps, i + 2, "voucher value", &v))
				return false;
			if (v == 0 && (pl_is(kind, "amount") ||
				       pl_is(kind, "percent")))
				return pl_fail(ps, ps->t[i + 2].col,
					    "a voucher must take more than 0 "
					    "off%s", "");
			if (pl_is(kind, "amount")) {
				x.voucher.kind = QUOTA_VOUCHER_AMOUNT;
				x.voucher.value = v;
			} else if (pl_is(kind, "percent")) {
				/* micros of a percent -> basis points */
				if (v % 10000 || v > 100000000)
					return pl_fail(ps, ps->t[i + 2].col,
						    "percent: at most 100 with "
						    "2 decimals%s", "");
				x.voucher.kind = QUOTA_VOUCHER_PERCENT;
				x.voucher.value = v / 10000;
			} else
				return pl_fail(ps, kind->col,
					    "voucher kind '%s' is not amount or "
					    "percent", pl_tokstr(ps, kind));
			i += 3;
			if (i < ps->nt && pl_is(&ps->t[i], "min-spend")) {
				if (!pl_get_money(ps, i + 1, "min-spend",
					       &x.voucher.min_spend_micros))
					return false;
				i += 2;
			}
		} else
			return pl_fail(ps, k->col,
				    "unknown buy attribute '%s' (at, quantity, "
				    "id, voucher)", pl_tokstr(ps, k));
	}
	if (!have_at)
		return pl_fail(ps, ps->eol, "a purchase needs 'at TIME'%s", "");
	return add_action(ps, a, &x);
}

/* renew OFFER at TIME [units-left N] [days-before-expiry D] (R23). */
static bool renew_attr(parser *ps, qs_account_def *a)
{
	qs_action x = {0};
	const tok *o = pl_need(ps, 1, "offer id");
	bool have_at = false;
	uint32_t words = 0;
	int64_t d;
	size_t i;

	if (!o)
		return false;
	x.kind = QS_ACT_RENEW;
	x.line = ps->line;
	x.col = ps->t[0].col;
	x.units_left = x.within = QUOTA_RENEWAL_NONE;
	if ((x.offer = pl_find_offer(ps->p, o)) < 0)
		return pl_fail(ps, o->col, "unknown offer '%s' (offers come "
			    "before the accounts that renew them)",
			    pl_tokstr(ps, o));
	for (i = 2; i < ps->nt; i += 2) {
		const tok *k = &ps->t[i];
		static const char *const w[] = {"at", "units-left",
						"days-before-expiry", NULL};
		size_t j;

		for (j = 0; w[j] && !pl_is(k, w[j]); j++)
			;
		if (w[j] && !pl_once_on_line(ps, &words, (int)j, k))
			return false;
		if (pl_is(k, "at")) {
			if (!pl_get_sim_time(ps, i + 1, "at", &x.at))
				return false;
			have_at = true;
		} else if (pl_is(k, "units-left")) {
			if (!pl_get_int(ps, i + 1, "units-left", INT64_MAX,
					&x.units_left))
				return false;
		} else if (pl_is(k, "days-before-expiry")) {
			if (!pl_get_int(ps, i + 1, "days-before-expiry", 36500,
					&d))
				return false;
			x.within = d * 86400;
		} else
			return pl_fail(ps, k->col,
				    "unknown renew attribute '%s' (at, "
				    "units-left, days-before-expiry)",
				    pl_tokstr(ps, k));
	}
	if (!have_at)
		return pl_fail(ps, ps->eol, "a renewal needs 'at TIME'%s", "");
	if (x.units_left < 0 && x.within < 0)
		return pl_fail(ps, ps->eol, "a renewal needs 'units-left N' "
			    "or 'days-before-expiry D'%s", "");
	return add_action(ps, a, &x);
}

/* A per-category attribute (tariff, overage) of category c (-1: all)
 * given once for each category. */
static bool per_cat_once(parser *ps, uint64_t *set, int64_t *lines, int c,
			 const char *what)
{
	uint64_t m = c < 0 ? (ps->p->ncats == 64 ? UINT64_MAX
				 : (UINT64_C(1) << ps->p->ncats) - 1)
			   : UINT64_C(1) << c;
	int i;

	if (*set & m) {
		uint64_t both = *set & m;

		for (i = 0; !(both >> i & 1); i++)
			;
		qs_errf(ps->err, ps->line, ps->t[1].col,
			"%s for category '%s' given twice (first on line %lld)",
			what, ps->p->cats[i], (long long)lines[i]);
		return false;
	}
	for (i = 0; i < (int)ps->p->ncats; i++)
		if (m >> i & 1)
			lines[i] = ps->line;
	*set |= m;
	return true;
}

bool pl_account_attr(parser *ps)
{
	qs_account_def *a = &ps->p->accounts[ps->p->naccounts - 1];
	const tok *k = &ps->t[0];
	int c, v;
	static const char *const periods[] = {"day", "month", NULL};
	static const int periodv[] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH};
	static const char *const pol[] = {"payg", "stop", NULL};
	static const int polv[] = {QUOTA_OVERAGE_PAYG, QUOTA_OVERAGE_STOP};

	if (pl_is(k, "utc-offset")) {
		const tok *t = pl_need(ps, 1, "UTC offset (+hh:mm)");
		int64_t h, m;

		if (!t || !pl_once(ps, false, S_UTC, k))
			return false;
		if (t->n != 6 || (t->s[0] != '+' && t->s[0] != '-') ||
		    t->s[3] != ':' || !qs_int_parse(t->s + 1, 2, 18, &h) ||
		    !qs_int_parse(t->s + 4, 2, 59, &m))
			return pl_fail(ps, t->col, "UTC offset '%s' is not "
				    "+hh:mm or -hh:mm within 18 hours",
				    pl_tokstr(ps, t));
		a->utc_offset = (int32_t)((t->s[0] == '-' ? -1 : 1) *
					  (h * 3600 + m * 60));
		a->utc_line = ps->line;
		a->utc_col = t->col;
		return pl_no_more(ps, 2);
	}
	if (pl_is(k, "tariff")) {
		const tok *t;
		int ti;

		if (!pl_get_cat(ps, 1, true, &c) ||
		    !(t = pl_need(ps, 2, "tariff name")))
			return false;
		if ((ti = pl_find_tariff(ps->p, t)) < 0)
			return pl_fail(ps, t->col, "unknown tariff '%s'",
				    pl_tokstr(ps, t));
		if (!per_cat_once(ps, &ps->tariff_set, ps->tariff_line, c,
				  "a tariff"))
			return false;
		for (v = 0; v < QUOTA_MAX_CATEGORIES; v++)
			if (c < 0 || v == c)
				a->tariff[v] = ti;
		return pl_no_more(ps, 3);
	}
	if (pl_is(k, "cap")) {
		qs_cap_def *cd;

		if (a->ncaps == 16)
			return pl_fail(ps, k->col, "more than 16 caps%s", "");
		cd = &a->caps[a->ncaps];
		if (!pl_get_cat(ps, 1, true, &cd->cat) ||
		    !pl_word_of(ps, 2, "cap period", periods, periodv,
			     &cd->period) ||
		    !pl_get_int(ps, 3, "cap units", INT64_MAX, &cd->units))
			return false;
		for (size_t i = 0; i < a->ncaps; i++)
			if (a->caps[i].cat == cd->cat &&
			    a->caps[i].period == cd->period) {
				qs_errf(ps->err, ps->line, k->col,
					"a cap of %s a %s given twice (first "
					"on line %lld)",
					cd->cat < 0 ? "all"
						    : ps->p->cats[cd->cat],
					cd->period == QUOTA_PERIOD_DAY ? "day"
								: "month",
					(long long)a->caps[i].line);
				return false;
			}
		cd->line = ps->line;
		a->ncaps++;
		return pl_no_more(ps, 4);
	}
	if (pl_is(k, "overage")) {
		if (!pl_get_cat(ps, 1, true, &c) ||
		    !pl_word_of(ps, 2, "overage policy", pol, polv, &v) ||
		    !per_cat_once(ps, &ps->overage_set, ps->overage_line, c,
				  "an overage policy"))
			return false;
		for (int i = 0; i < QUOTA_MAX_CATEGORIES; i++)
			if (c < 0 || i == c)
				a->overage[i] = v;
		return pl_no_more(ps, 3);
	}
	if (pl_is(k, "settle")) {
		static const char *const sp[] = {"hourly", "daily", NULL};
		static const int spv[] = {QUOTA_PERIOD_HOUR, QUOTA_PERIOD_DAY};
		static const char *const rn[] = {"half-up", "half-even", "up",
						 "down", NULL};
		static const int rnv[] = {QUOTA_ROUND_HALF_UP,
					  QUOTA_ROUND_HALF_EVEN, QUOTA_ROUND_UP,
					  QUOTA_ROUND_DOWN};
		size_t i;
		uint32_t words = 0;

		if (!pl_once(ps, false, S_SETTLE, k) ||
		    !pl_word_of(ps, 1, "settlement period", sp, spv,
			     &a->settle_period))
			return false;
		for (i = 2; i < ps->nt; i += 2) {
			if ((pl_is(&ps->t[i], "minor") ||
			     pl_is(&ps->t[i], "rounding")) &&
			    !pl_once_on_line(ps, &words,
					     pl_is(&ps->t[i], "minor"),
					     &ps->t[i]))
				return false;
			if (pl_is(&ps->t[i], "minor")) {
				if (!pl_get_money(ps, i + 1, "minor unit",
					       &a->minor))
					return false;
				if (!a->minor)
					return pl_fail(ps, ps->t[i + 1].col,
						    "the minor unit must be > "
						    "0%s", "");
			} else if (pl_is(&ps->t[i], "rounding")) {
				if (!pl_word_of(ps, i + 1, "rounding", rn, rnv,
					     &a->rounding))
					return false;
			} else
				return pl_fail(ps, ps->t[i].col,
					    "expected minor or rounding, not "
					    "'%s'", pl_tokstr(ps, &ps->t[i]));
		}
		return true;
	}
	if (pl_is(k, "balance")) {
		if (!pl_once(ps, false, S_BALANCE, k))
			return false;
		if (ps->nt > 1 && pl_is(&ps->t[1], "unlimited")) {
			a->balance_set = false;
			return pl_no_more(ps, 2);
		}
		a->balance_set = true;
		return pl_get_money(ps, 1, "balance", &a->balance) &&
		       pl_no_more(ps, 2);
	}
	if (pl_is(k, "credit-limit"))
		return pl_once(ps, false, S_CREDIT, k) &&
		       pl_get_money(ps, 1, "credit limit", &a->credit) &&
		       pl_no_more(ps, 2);
	if (pl_is(k, "alert")) {
		qs_alert_def *al;
		size_t i = 3;

		if (a->nalerts == 16)
			return pl_fail(ps, k->col, "more than 16 alerts%s", "");
		al = &a->alerts[a->nalerts];
		if (!pl_get_cat(ps, 1, false, &al->cat) ||
		    !pl_get_int(ps, 2, "alert level", INT64_MAX, &al->level))
			return false;
		al->unit = QUOTA_ALERT_UNITS;
		al->line = ps->line;
		al->col = ps->t[2].col;
		if (ps->nt > 3 && pl_is(&ps->t[3], "%")) {
			al->unit = QUOTA_ALERT_PERCENT;
			i = 4;
		}
		a->nalerts++;
		return pl_no_more(ps, i);
	}
	if (pl_is(k, "charge-on")) {
		static const char *const w[] = {"submit", "success", NULL};
		static const int wv[] = {0, 1};

		if (!pl_once(ps, false, S_CHARGE_ON, k) ||
		    !pl_word_of(ps, 1, "charge-on", w, wv, &v))
			return false;
		a->on_success = v;
		return pl_no_more(ps, 2);
	}
	if (pl_is(k, "sms")) {
		static const char *const w[] = {"gsm", "cn", NULL};
		static const int wv[] = {0, 1};
		static const char *const opt[] = {"signature", "max-segments",
						  "max-length",
						  "split-codepoints",
						  "shift-tables", NULL};
		uint32_t words = 0;
		size_t i, j;
		int64_t sig_col = 0;

		if (!pl_once(ps, false, S_SMS, k) ||
		    !pl_word_of(ps, 1, "SMS counting", w, wv, &v))
			return false;
		a->sms.flags = v ? QUOTA_SMS_CN : 0;
		for (i = 2; i < ps->nt;) {
			int64_t n;

			for (j = 0; opt[j] && !pl_is(&ps->t[i], opt[j]); j++)
				;
			if (opt[j] && !pl_once_on_line(ps, &words, (int)j,
						       &ps->t[i]))
				return false;

			if (pl_is(&ps->t[i], "signature")) {
				const tok *t = pl_need(ps, i + 1, "signature");

				if (!t)
					return false;
				free(a->signature);
				a->signature = pl_dup_tok(t);
				sig_col = t->col;
				i += 2;
			} else if (pl_is(&ps->t[i], "max-segments")) {
				if (!pl_get_int(ps, i + 1, "max-segments",
					     UINT32_MAX, &n))
					return false;
				a->sms.max_segments = (uint32_t)n;
				i += 2;
			} else if (pl_is(&ps->t[i], "max-length")) {
				if (!pl_get_int(ps, i + 1, "max-length",
					     UINT32_MAX, &n))
					return false;
				a->sms.max_units = (uint32_t)n;
				i += 2;
			} else if (pl_is(&ps->t[i], "split-codepoints")) {
				a->sms.flags |= QUOTA_SMS_SPLIT_CODEPOINTS;
				i++;
			} else if (pl_is(&ps->t[i], "shift-tables")) {
				/* quota_sms_count(3) refuses the two
				 * together: every text would be refused */
				if (a->sms.flags & QUOTA_SMS_CN)
					return pl_fail(ps, ps->t[i].col,
						    "shift-tables is GSM "
						    "counting's, not cn's "
						    "(quota_sms_count(3) "
						    "refuses the two)%s", "");
				a->sms.flags |= QUOTA_SMS_SHIFT_TABLES;
				i++;
			} else
				return pl_fail(ps, ps->t[i].col,
					    "unknown sms option '%s' "
					    "(signature, max-segments, "
					    "max-length, split-codepoints, "
					    "shift-tables)", pl_tokstr(ps, &ps->t[i]));
		}
		if (a->signature && (a->sms.flags & QUOTA_SMS_CN)) {
			/* the signature counts with every text: one the
			 * library refuses would refuse them all */
			quota_sms_opts o = a->sms;
			quota_sms_info info;

			o.signature = a->signature;
			if (quota_sms_count("", 0, &o, &info) == QUOTA_EINVAL)
				return pl_fail(ps, sig_col, "signature: not "
					    "valid UTF-8 (quota_sms_count(3) "
					    "refuses it)%s", "");
		}
		return true;
	}
	if (pl_is(k, "package"))
		return package_attr(ps, a);
	if (pl_is(k, "buy"))
		return buy_attr(ps, a);
	if (pl_is(k, "renew"))
		return renew_attr(ps, a);
	if (pl_is(k, "topup")) {
		qs_action x = {0};

		x.kind = QS_ACT_TOPUP;
		x.line = ps->line;
		x.col = ps->t[0].col;
		if (!pl_get_money(ps, 1, "top-up", &x.micros))
			return false;
		if (!x.micros)
			return pl_fail(ps, ps->t[1].col, "a top-up must be > 0%s",
				    "");
		if (ps->nt < 3 || !pl_is(&ps->t[2], "at"))
			return pl_fail(ps, ps->nt < 3 ? ps->eol : ps->t[2].col,
				    "expected 'at TIME'%s", "");
		return pl_get_sim_time(ps, 3, "at", &x.at) && pl_no_more(ps, 4) &&
		       add_action(ps, a, &x);
	}
	return pl_fail(ps, k->col,
		    "unknown account attribute '%s' (utc-offset, tariff, cap, "
		    "overage, settle, balance, credit-limit, alert, charge-on, "
		    "sms, package, buy, renew, topup)", pl_tokstr(ps, k));
}

