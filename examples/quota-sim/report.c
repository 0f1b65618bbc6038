/*
 * report.c - what `run` and `compare` print: a text summary for people,
 * CSV and JSON for programs.  Money is printed with its exact decimals
 * (qs_money_fmt); nothing here computes a figure the simulation did not
 * keep.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

void qs_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A CSV field, quoted when it needs to be. */
static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static bool stat_empty(const qs_stat *st)
{
	size_t k;

	if (st->rows || st->billed || st->fees)
		return false;
	for (k = 0; k < QS_NREF; k++)
		if (st->refused[k])
			return false;
	return true;
}

static int64_t refused_rows(const qs_stat *st)
{
	int64_t n = 0;
	size_t k;

	for (k = 0; k < QS_NREF; k++)
		n += st->refused[k];
	return n;
}

static const char *status_name(int st)
{
	switch (st) {
	case QUOTA_PACKAGE_PENDING: return "pending";
	case QUOTA_PACKAGE_ACTIVE: return "active";
	case QUOTA_PACKAGE_EXHAUSTED: return "exhausted";
	case QUOTA_PACKAGE_EXPIRED: return "expired";
	default: return "?";
	}
}

static const char *period_name(int p)
{
	return p == QUOTA_PERIOD_HOUR ? "hourly" : "daily";
}

/* The offer id of a package bought from the catalog. */
static const char *buy_offer(const qs_sim *s, const qs_purchase *b)
{
	return s->plan->offers[b->offer].id;
}

/* ------------------------------------------------------------- text */

static void text_account(FILE *f, const qs_sim *s, const qs_acct *a,
			 int64_t end)
{
	const qs_plan *p = s->plan;
	char m1[32], m2[32], m3[32], m4[32], tb[40], ob[16];
	qs_totals t;
	size_t i, c, k;
	uint32_t np = quota_account_package_count(a->a), j;

	fprintf(f, "\naccount %s (UTC%s, settled %s%s)\n", a->id,
		qs_offset_fmt(ob, a->def->utc_offset),
		period_name(a->def->settle_period),
		a->def->on_success ? ", charged on success" : "");
	fprintf(f, "  %-7s  %-14s %8s %10s %9s %10s %10s %12s %8s %9s %12s "
		"%8s\n", "month", "category", "rows", "units", "free",
		"package", "payg", "payg cost", "failed", "fees", "billed",
		"refused");
	for (i = 0; i < a->nmonths; i++) {
		const qs_month *m = &a->months[i];

		if (!m->cat)
			continue;
		for (c = 0; c < p->ncats; c++) {
			const qs_stat *st = &m->cat[c];

			if (stat_empty(st))
				continue;
			fprintf(f,
				"  %-7s  %-14s %8lld %10lld %9lld %10lld "
				"%10lld %12s %8lld %9s %12s %8lld\n",
				qs_month_fmt(ob, a->base + (int32_t)i),
				p->cats[c], (long long)st->rows,
				(long long)st->units, (long long)st->free,
				(long long)st->pkg, (long long)st->payg,
				qs_money_fmt(m1, st->cost), (long long)st->failed,
				qs_money_fmt(m2, st->fees),
				qs_money_fmt(m3, st->billed),
				(long long)refused_rows(st));
		}
	}
	if (a->nbuys) {
		fprintf(f, "  purchases\n");
		for (i = 0; i < a->nbuys; i++) {
			const qs_purchase *b = &a->buys[i];

			if (b->rc)
				fprintf(f, "    %s  %s x%lld  refused: %s\n",
					qs_time_fmt(tb, b->at,
						    a->def->utc_offset),
					buy_offer(s, b), (long long)b->quantity,
					quota_strerror(b->rc));
			else
				fprintf(f,
					"    %s  %s x%lld  %lld units  list %s"
					"  discount %s  paid %s  as %s\n",
					qs_time_fmt(tb, b->at,
						    a->def->utc_offset),
					buy_offer(s, b), (long long)b->quantity,
					(long long)b->units,
					qs_money_fmt(m1, b->list),
					qs_money_fmt(m2, b->discount),
					qs_money_fmt(m3, b->price), b->package);
		}
	}
	if (np) {
		fprintf(f, "  packages (units left at the end of each month)\n");
		fprintf(f, "    %-22s %10s", "package", "units");
		for (i = 0; i < a->nmonths; i++)
			fprintf(f, " %10s",
				qs_month_fmt(ob, a->base + (int32_t)i));
		fprintf(f, "  %s\n", "at the end");
		for (j = 0; j < np; j++) {
			const quota_package *pk = quota_account_package_at(a->a, j);
			quota_package_spec sp;

			quota_package_get_spec(pk, &sp);
			fprintf(f, "    %-22s %10lld", sp.id, (long long)sp.units);
			for (i = 0; i < a->nmonths; i++) {
				const qs_month *m = &a->months[i];

				if (m->nleft == UINT32_MAX || j >= m->nleft)
					fprintf(f, " %10s", "-");
				else
					fprintf(f, " %10lld",
						(long long)m->left[j]);
			}
			fprintf(f, "  %s\n",
				status_name(quota_package_status(pk, end)));
		}
	}
	qs_sim_totals(s, a, &t);
	if (refused_rows(&t.st)) {
		fprintf(f, "  refused rows:");
		for (k = 0; k < QS_NREF; k++)
			if (t.st.refused[k])
				fprintf(f, " %s %lld", qs_ref_names[k],
					(long long)t.st.refused[k]);
		fprintf(f, " (%lld units)\n", (long long)t.st.refused_units);
	}
	if (t.st.dups)
		fprintf(f, "  repeated keys: %lld rows (not charged again)\n",
			(long long)t.st.dups);
	fprintf(f, "  spent: purchases %s + bills %s = %s",
		qs_money_fmt(m1, t.purchased), qs_money_fmt(m2, t.bills),
		qs_money_fmt(m3, t.spent));
	if (a->def->balance_set) {
		quota_money mo;

		quota_account_money(a->a, &mo);
		fprintf(f, "; balance %s", qs_money_fmt(m4, mo.balance_micros));
		if (mo.suspended)
			fprintf(f, ", suspended with %s outstanding",
				qs_money_fmt(m1, mo.outstanding_micros));
	}
	fputc('\n', f);
}

static void run_text(FILE *f, const qs_sim *s, const char *trace)
{
	char t1[40], t2[40], m1[32], m2[32], m3[32], m4[32];
	qs_totals t;
	size_t i;

	fprintf(f, "quota-sim run: plan %s, trace %s\n", s->plan->name, trace);
	if (s->any_at)
		fprintf(f, "%lld rows from %s to %s; accounts: %zu\n",
			(long long)s->rows, qs_time_fmt(t1, s->first_at, 0),
			qs_time_fmt(t2, s->last_at, 0), s->naccts);
	else
		fprintf(f, "no rows; accounts: %zu\n", s->naccts);
	for (i = 0; i < s->naccts; i++)
		text_account(f, s, s->accts[i], s->last_at);
	qs_sim_totals(s, NULL, &t);
	fprintf(f, "\ntotal: %lld units: free %lld, package %lld, "
		"pay-as-you-go %lld costing %s; fees %s; refused %lld rows\n",
		(long long)t.st.units, (long long)t.st.free,
		(long long)t.st.pkg, (long long)t.st.payg,
		qs_money_fmt(m1, t.st.cost), qs_money_fmt(m4, t.st.fees),
		(long long)refused_rows(&t.st));
	fprintf(f, "total spent: purchases %s + bills %s = %s%s%s\n",
		qs_money_fmt(m1, t.purchased), qs_money_fmt(m2, t.bills),
		qs_money_fmt(m3, t.spent), s->plan->currency ? " " : "",
		s->plan->currency ? s->plan->currency : "");
}

/* -------------------------------------------------------------- CSV */

static void csv_row(FILE *f, const char *acct, const char *mon,
		    const char *cat, const qs_stat *st, int64_t purchased)
{
	char m1[32], m2[32], m3[32], m4[32];
	size_t k;

	csv_str(f, acct);
	fprintf(f, ",%s,", mon);
	csv_str(f, cat);
	fprintf(f, ",%lld,%lld,%lld,%lld,%lld,%s,%lld,%s,%s,%s",
		(long long)st->rows, (long long)st->units, (long long)st->free,
		(long long)st->pkg, (long long)st->payg,
		qs_money_fmt(m1, st->cost), (long long)st->failed,
		qs_money_fmt(m2, st->fees), qs_money_fmt(m3, st->billed),
		qs_money_fmt(m4, purchased));
	for (k = 0; k < QS_NREF; k++)
		fprintf(f, ",%lld", (long long)st->refused[k]);
	fprintf(f, ",%lld\n", (long long)st->dups);
}

static void csv_header(FILE *f, const char *first)
{
	fprintf(f, "%saccount,month,category,rows,units,free_units,"
		"package_units,payg_units,payg_cost,failed_units,fees,billed,"
		"purchased,refused_cap,refused_stop,refused_suspended,"
		"refused_too_long,refused_key_conflict,refused_other,"
		"duplicates\n", first);
}

static void run_csv(FILE *f, const qs_sim *s)
{
	size_t i, j, c, k;
	char ob[16];

	csv_header(f, "");
	for (i = 0; i < s->naccts; i++) {
		const qs_acct *a = s->accts[i];

		for (j = 0; j < a->nmonths; j++) {
			const qs_month *m = &a->months[j];
			qs_stat sum = {0};

			qs_month_fmt(ob, a->base + (int32_t)j);
			for (c = 0; m->cat && c < s->plan->ncats; c++) {
				const qs_stat *st = &m->cat[c];

				if (stat_empty(st))
					continue;
				csv_row(f, a->id, ob, s->plan->cats[c], st, 0);
				sum.rows += st->rows;
				sum.units += st->units;
				sum.free += st->free;
				sum.pkg += st->pkg;
				sum.payg += st->payg;
				sum.cost += st->cost;
				sum.failed += st->failed;
				sum.fees += st->fees;
				sum.billed += st->billed;
				sum.dups += st->dups;
				for (k = 0; k < QS_NREF; k++)
					sum.refused[k] += st->refused[k];
			}
			csv_row(f, a->id, ob, "*", &sum, m->purchased);
		}
	}
}

/* ------------------------------------------------------------- JSON */

static void json_stat(FILE *f, const qs_stat *st)
{
	char m1[32], m2[32], m3[32];
	size_t k;

	fprintf(f, "\"rows\":%lld,\"units\":%lld,\"free_units\":%lld,"
		"\"package_units\":%lld,\"payg_units\":%lld,"
		"\"payg_cost\":\"%s\",\"failed_units\":%lld,\"fees\":\"%s\","
		"\"billed\":\"%s\",\"duplicates\":%lld,\"refused\":{",
		(long long)st->rows, (long long)st->units, (long long)st->free,
		(long long)st->pkg, (long long)st->payg,
		qs_money_fmt(m1, st->cost), (long long)st->failed,
		qs_money_fmt(m2, st->fees), qs_money_fmt(m3, st->billed),
		(long long)st->dups);
	for (k = 0; k < QS_NREF; k++)
		fprintf(f, "%s\"%s\":%lld", k ? "," : "", qs_ref_names[k],
			(long long)st->refused[k]);
	fprintf(f, "}");
}

static void json_account(FILE *f, const qs_sim *s, const qs_acct *a)
{
	char m1[32], m2[32], m3[32], tb[40], ob[16];
	size_t i, c;
	uint32_t j, np = quota_account_package_count(a->a);
	qs_totals t;
	bool first;

	fprintf(f, "{\"id\":");
	qs_json_str(f, a->id);
	fprintf(f, ",\"utc_offset\":\"%s\",\"settlement\":\"%s\",\"months\":[",
		qs_offset_fmt(ob, a->def->utc_offset),
		period_name(a->def->settle_period));
	for (i = 0; i < a->nmonths; i++) {
		const qs_month *m = &a->months[i];

		fprintf(f, "%s{\"month\":\"%s\",\"purchased\":\"%s\","
			"\"bills\":%lld,\"bills_outstanding\":%lld,"
			"\"categories\":{", i ? "," : "",
			qs_month_fmt(ob, a->base + (int32_t)i),
			qs_money_fmt(m1, m->purchased), (long long)m->bills,
			(long long)m->bills_outstanding);
		first = true;
		for (c = 0; m->cat && c < s->plan->ncats; c++) {
			if (stat_empty(&m->cat[c]))
				continue;
			fprintf(f, "%s", first ? "" : ",");
			qs_json_str(f, s->plan->cats[c]);
			fputs(":{", f);
			json_stat(f, &m->cat[c]);
			fputc('}', f);
			first = false;
		}
		fputs("}}", f);
	}
	fputs("],\"purchases\":[", f);
	for (i = 0; i < a->nbuys; i++) {
		const qs_purchase *b = &a->buys[i];

		fprintf(f, "%s{\"at\":\"%s\",\"offer\":", i ? "," : "",
			qs_time_fmt(tb, b->at, a->def->utc_offset));
		qs_json_str(f, buy_offer(s, b));
		fprintf(f, ",\"quantity\":%lld", (long long)b->quantity);
		if (b->rc) {
			fprintf(f, ",\"refused\":\"%s\"}", quota_err_name(b->rc));
			continue;
		}
		fprintf(f, ",\"units\":%lld,\"list_price\":\"%s\","
			"\"discount\":\"%s\",\"price\":\"%s\",\"package\":",
			(long long)b->units, qs_money_fmt(m1, b->list),
			qs_money_fmt(m2, b->discount),
			qs_money_fmt(m3, b->price));
		qs_json_str(f, b->package);
		fputc('}', f);
	}
	fputs("],\"packages\":[", f);
	for (j = 0; j < np; j++) {
		const quota_package *pk = quota_account_package_at(a->a, j);
		quota_package_spec sp;

		quota_package_get_spec(pk, &sp);
		fprintf(f, "%s{\"id\":", j ? "," : "");
		qs_json_str(f, sp.id);
		fprintf(f, ",\"units\":%lld,\"effective_at\":\"%s\"",
			(long long)sp.units,
			qs_time_fmt(tb, sp.effective_at, a->def->utc_offset));
		fprintf(f, ",\"expires_at\":\"%s\",\"left_by_month\":[",
			qs_time_fmt(tb, sp.expires_at, a->def->utc_offset));
		for (i = 0; i < a->nmonths; i++) {
			const qs_month *m = &a->months[i];

			if (m->nleft == UINT32_MAX || j >= m->nleft)
				fprintf(f, "%snull", i ? "," : "");
			else
				fprintf(f, "%s%lld", i ? "," : "",
					(long long)m->left[j]);
		}
		fprintf(f, "],\"status\":\"%s\"}",
			status_name(quota_package_status(pk, s->last_at)));
	}
	qs_sim_totals(s, a, &t);
	fprintf(f, "],\"totals\":{");
	json_stat(f, &t.st);
	fprintf(f, ",\"purchased\":\"%s\",\"bills\":\"%s\",\"spent\":\"%s\"",
		qs_money_fmt(m1, t.purchased), qs_money_fmt(m2, t.bills),
		qs_money_fmt(m3, t.spent));
	if (a->def->balance_set) {
		quota_money mo;

		quota_account_money(a->a, &mo);
		fprintf(f, ",\"balance\":\"%s\",\"suspended\":%s",
			qs_money_fmt(m1, mo.balance_micros),
			mo.suspended ? "true" : "false");
	}
	fputs("}}", f);
}

static void run_json(FILE *f, const qs_sim *s, const char *trace)
{
	char m1[32], m2[32], m3[32], t1[40], t2[40];
	qs_totals t;
	size_t i;

	fputs("{\"plan\":", f);
	qs_json_str(f, s->plan->name);
	fputs(",\"trace\":", f);
	qs_json_str(f, trace);
	fprintf(f, ",\"rows\":%lld", (long long)s->rows);
	if (s->any_at)
		fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\"",
			qs_time_fmt(t1, s->first_at, 0),
			qs_time_fmt(t2, s->last_at, 0));
	fputs(",\"accounts\":[", f);
	for (i = 0; i < s->naccts; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_account(f, s, s->accts[i]);
	}
	qs_sim_totals(s, NULL, &t);
	fputs("],\n\"totals\":{", f);
	json_stat(f, &t.st);
	fprintf(f, ",\"purchased\":\"%s\",\"bills\":\"%s\",\"spent\":\"%s\"}}\n",
		qs_money_fmt(m1, t.purchased), qs_money_fmt(m2, t.bills),
		qs_money_fmt(m3, t.spent));
}

void qs_report_run(FILE *f, const qs_sim *s, const char *trace, int format)
{
	if (format == QS_OUT_CSV)
		run_csv(f, s);
	else if (format == QS_OUT_JSON)
		run_json(f, s, trace);
	else
		run_text(f, s, trace);
}

/* ---------------------------------------------------------- compare */

static const qs_acct *find_acct(const qs_sim *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->naccts; i++)
		if (!strcmp(s->accts[i]->id, id))
			return s->accts[i];
	return NULL;
}

/* Every account id of every simulation, first seen first. */
static const char **all_ids(qs_sim *const *sims, size_t n, size_t *out)
{
	const char **ids = NULL;
	size_t nid = 0, cap = 0, i, j, k;

	for (i = 0; i < n; i++)
		for (j = 0; j < sims[i]->naccts; j++) {
			const char *id = sims[i]->accts[j]->id;

			for (k = 0; k < nid && strcmp(ids[k], id); k++)
				;
			if (k < nid)
				continue;
			ids = qs_grow(ids, &cap, nid + 1, sizeof *ids);
			ids[nid++] = id;
		}
	*out = nid;
	return ids;
}

void qs_report_compare(FILE *f, qs_sim *const *sims, size_t n,
		       const char *trace, int format, int64_t scale)
{
	size_t nid, i, k;
	const char **ids = all_ids(sims, n, &nid);
	char m1[32], m2[32], m3[32], m4[32], hd[160];
	qs_totals t, t0;
	int w = 12;

	for (k = 0; k < n; k++)
		if ((int)strlen(sims[k]->plan->name) + 2 > w)
			w = (int)strlen(sims[k]->plan->name) + 2;
	if (w > 60)
		w = 60;

	if (format == QS_OUT_CSV) {
		fprintf(f, "account,plan,rows,units,free_units,package_units,"
			"payg_units,payg_cost,refused,purchased,bills,spent,"
			"diff\n");
		for (i = 0; i <= nid; i++)
			for (k = 0; k < n; k++) {
				const qs_acct *a = i < nid
					? find_acct(sims[k], ids[i]) : NULL;

				if (i < nid && !a)
					continue;
				const qs_acct *a0 = i < nid
					? find_acct(sims[0], ids[i]) : NULL;

				qs_sim_totals(sims[k], a, &t);
				/* no difference from a plan that lacks the
				 * account: the field is left empty */
				if (i == nid || a0)
					qs_sim_totals(sims[0], a0, &t0);
				csv_str(f, i < nid ? ids[i] : "*");
				fputc(',', f);
				csv_str(f, sims[k]->plan->name);
				fprintf(f, ",%lld,%lld,%lld,%lld,%lld,%s,%lld,"
					"%s,%s,%s,",
					(long long)t.st.rows,
					(long long)t.st.units,
					(long long)t.st.free,
					(long long)t.st.pkg,
					(long long)t.st.payg,
					qs_money_fmt(m1, t.st.cost),
					(long long)refused_rows(&t.st),
					qs_money_fmt(m2, t.purchased),
					qs_money_fmt(m3, t.bills),
					qs_money_fmt(m4, t.spent));
				fprintf(f, "%s\n", i < nid && !a0 ? ""
					: qs_money_fmt(m2, t.spent - t0.spent));
			}
		free(ids);
		return;
	}
	if (format == QS_OUT_JSON) {
		fputs("{\"trace\":", f);
		qs_json_str(f, trace);
		fprintf(f, ",\"scale\":\"%s\",\"plans\":[",
			qs_money_fmt(m1, scale));
		for (k = 0; k < n; k++) {
			fputs(k ? "," : "", f);
			qs_json_str(f, sims[k]->plan->name);
		}
		fputs("],\"accounts\":[", f);
		for (i = 0; i <= nid; i++) {
			if (i == nid)
				fputs("],\"total\":{\"by_plan\":[", f);
			else {
				fprintf(f, "%s\n{\"id\":", i ? "," : "");
				qs_json_str(f, ids[i]);
				fputs(",\"by_plan\":[", f);
			}
			qs_sim_totals(sims[0],
				      i < nid ? find_acct(sims[0], ids[i])
					      : NULL, &t0);
			if (i < nid && !find_acct(sims[0], ids[i]))
				memset(&t0, 0, sizeof t0);
			for (k = 0; k < n; k++) {
				const qs_acct *a = i < nid
					? find_acct(sims[k], ids[i]) : NULL;

				fputs(k ? "," : "", f);
				if (i < nid && !a) {
					fputs("null", f);
					continue;
				}
				qs_sim_totals(sims[k], a, &t);
				fputs("{\"plan\":", f);
				qs_json_str(f, sims[k]->plan->name);
				fputc(',', f);
				json_stat(f, &t.st);
				fprintf(f, ",\"purchased\":\"%s\",\"bills\":\"%s\","
					"\"spent\":\"%s\"",
					qs_money_fmt(m1, t.purchased),
					qs_money_fmt(m2, t.bills),
					qs_money_fmt(m3, t.spent));
				if (i < nid && !find_acct(sims[0], ids[i]))
					fputs(",\"diff\":null}", f);
				else
					fprintf(f, ",\"diff\":\"%s\"}",
						qs_money_fmt(m1,
							     t.spent - t0.spent));
			}
			fputs("]}", f);
		}
		fputs("}\n", f);
		free(ids);
		return;
	}
	fprintf(f, "quota-sim compare: trace %s, traffic x%s\n", trace,
		qs_money_fmt(m1, scale));
	fprintf(f, "spent (purchases + bills) per account; difference from "
		"%s\n\n", sims[0]->plan->name);
	fprintf(f, "%-20s", "account");
	for (k = 0; k < n; k++)
		fprintf(f, " %*.*s", w, w, sims[k]->plan->name);
	for (k = 1; k < n; k++) {
		snprintf(hd, sizeof hd, "+/- %s", sims[k]->plan->name);
		fprintf(f, " %*.*s", w + 4, w + 4, hd);
	}
	fputc('\n', f);
	for (i = 0; i <= nid; i++) {
		int64_t base = 0;
		bool has0;

		if (i == nid)
			fputc('\n', f);
		fprintf(f, "%-20.20s", i < nid ? ids[i] : "total");
		has0 = i == nid || find_acct(sims[0], ids[i]);
		for (k = 0; k < n; k++) {
			const qs_acct *a = i < nid ? find_acct(sims[k], ids[i])
						   : NULL;

			if (i < nid && !a) {
				fprintf(f, " %*s", w, "-");
				continue;
			}
			qs_sim_totals(sims[k], a, &t);
			if (k == 0)
				base = t.spent;
			fprintf(f, " %*s", w, qs_money_fmt(m1, t.spent));
		}
		for (k = 1; k < n; k++) {
			const qs_acct *a = i < nid ? find_acct(sims[k], ids[i])
						   : NULL;

			if ((i < nid && !a) || !has0) {
				fprintf(f, " %*s", w + 4, "-");
				continue;
			}
			qs_sim_totals(sims[k], a, &t);
			snprintf(m2, sizeof m2, "%s%s",
				 t.spent > base ? "+" : "",
				 qs_money_fmt(m1, t.spent - base));
			fprintf(f, " %*s", w + 4, m2);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
	for (k = 0; k < n; k++) {
		qs_sim_totals(sims[k], NULL, &t);
		fprintf(f, "%s: purchases %s + bills %s = %s; payg %lld units, "
			"package %lld, free %lld, refused %lld rows\n",
			sims[k]->plan->name, qs_money_fmt(m1, t.purchased),
			qs_money_fmt(m2, t.bills), qs_money_fmt(m3, t.spent),
			(long long)t.st.payg, (long long)t.st.pkg,
			(long long)t.st.free, (long long)refused_rows(&t.st));
	}
	free(ids);
}
