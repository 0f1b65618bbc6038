/*
 * recommend.c - the cheapest schedule of purchases from a plan's catalog
 * for a trace, exact over its decision space (quota-sim(1), RECOMMEND):
 * the trace's charges, the driver and the output.  The search of one
 * account is in rec_search.c.
 *
 * The trace is read once: a pay-as-you-go-only run (the plan's own
 * purchases left out) gives the charges that stood, merged per account,
 * category and local hour; each evaluation replays those.
 */
#include "rec_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct rctx {
	racct *ra;
	size_t nra, cra;
} rctx;

static racct *racct_of(rctx *r, const qs_acct *a)
{
	size_t i;

	for (i = r->nra; i-- > 0;)
		if (r->ra[i].base == a)
			return &r->ra[i];
	r->ra = qs_grow(r->ra, &r->cra, r->nra + 1, sizeof *r->ra);
	r->ra[r->nra].base = a;
	return &r->ra[r->nra++];
}

/* Charges that stood, merged per category and local hour. */
static void on_use(void *ud, const qs_acct *a, int cat, int64_t at,
		   int64_t units, bool failed)
{
	racct *x = racct_of(ud, a);
	int64_t off = a->def->utc_offset, k = x->last[cat][failed];

	if (k && (x->evs[k - 1].at + off) / 3600 == (at + off) / 3600 &&
	    at >= x->evs[k - 1].at) {
		x->evs[k - 1].units += units;
		return;
	}
	x->evs = qs_grow(x->evs, &x->cev, x->nev + 1, sizeof *x->evs);
	x->evs[x->nev] = (rev){at, cat, failed, units};
	x->last[cat][failed] = (int64_t)++x->nev;
}

static int ev_cmp(const void *p, const void *q)
{
	const rev *a = p, *b = q;

	return a->at < b->at ? -1 : a->at > b->at;
}

static void print_result(FILE *f, const qs_plan *pp, qs_sim *ev,
			 const result *r, int format, bool first)
{
	char m1[32], m2[32], m3[32], tb[40];
	int32_t s;
	size_t k;
	bool any = false;

	if (format == QS_OUT_JSON) {
		fprintf(f, "%s\n{\"id\":", first ? "" : ",");
		qs_json_str(f, r->id);
		fprintf(f, ",\"payg_only\":\"%s\",\"cheapest\":\"%s\","
			"\"saves\":\"%s\",\"evaluations\":%lld,"
			"\"refused_rows\":%lld,\"purchases\":[",
			qs_money_fmt(m1, r->payg), qs_money_fmt(m2, r->best),
			qs_money_fmt(m3, r->payg - r->best),
			(long long)r->evals, (long long)r->refused);
	} else {
		fprintf(f, "\naccount %s\n", r->id);
		if (r->none) {
			fprintf(f, "  no traffic: nothing to buy\n");
			return;
		}
		fprintf(f, "  pay-as-you-go only: %s\n", qs_money_fmt(m1, r->payg));
	}
	for (s = 0; !r->none && s < r->nslots; s++)
		for (k = 0; k < r->noff; k++) {
			int64_t q = r->q[(size_t)s * r->noff + k];
			int64_t at = qs_month_start(r->m0 + s, r->off);
			quota_purchase pu = {0};
			quota_account *a;
			const char *oid = pp->offers[r->offers[k]].id;

			if (!q)
				continue;
			if (quota_account_find(ev->ctx, r->id, &a) == 0)
				quota_package_quote(a, ev->offers[r->offers[k]],
						    q, NULL, at, &pu);
			if (format == QS_OUT_JSON) {
				fprintf(f, "%s{\"at\":\"%s\",\"offer\":",
					any ? "," : "",
					qs_time_fmt(tb, at, r->off));
				qs_json_str(f, oid);
				fprintf(f, ",\"quantity\":%lld,\"units\":%lld,"
					"\"price\":\"%s\"}", (long long)q,
					(long long)pu.units,
					qs_money_fmt(m1, pu.price_micros));
			} else
				fprintf(f, "  buy %s x%lld at %s: %lld units "
					"for %s\n", oid, (long long)q,
					qs_time_fmt(tb, at, r->off),
					(long long)pu.units,
					qs_money_fmt(m1, pu.price_micros));
			any = true;
		}
	if (format == QS_OUT_JSON) {
		fputs("]}", f);
		return;
	}
	if (!any)
		fprintf(f, "  buy nothing: no package would lower the cost\n");
	fprintf(f, "  cheapest: %s, saving %s (%lld schedules evaluated)\n",
		qs_money_fmt(m1, r->best), qs_money_fmt(m2, r->payg - r->best),
		(long long)r->evals);
	if (r->refused)
		fprintf(f, "  note: %lld rows were refused in the pay-as-you-go "
			"run (caps, stop, suspension, history); the search "
			"replays the charges that stood\n",
			(long long)r->refused);
}

int qs_recommend(FILE *out, const qs_plan *plan, const char *trace,
		 const qs_rec_opts *o, qs_err *err)
{
	qs_plan pp = *plan;
	qs_sim base, ev;
	rctx rc = {0};
	result *res;
	size_t i, j;
	int r = 0;
	int64_t tp = 0, tb = 0;

	/* the plan without its own purchases and top-ups, balance unlimited */
	pp.accounts = qs_alloc((plan->naccounts + 1) * sizeof *pp.accounts);
	for (i = 0; i < plan->naccounts; i++) {
		pp.accounts[i] = plan->accounts[i];
		pp.accounts[i].nacts = 0;
		pp.accounts[i].balance_set = false;
	}
	if (qs_sim_init(&base, &pp, err)) {
		qs_sim_free(&base);
		free(pp.accounts);
		return QS_EXIT_BAD;
	}
	base.on_use = on_use;
	base.use_ud = &rc;
	if (qs_feed(&base, 1, trace, o->progress, o->progress_ud, err) ||
	    qs_sim_finish(&base, err)) {
		r = QS_EXIT_BAD;
		goto out;
	}
	if (qs_sim_init(&ev, &pp, err)) {
		qs_sim_free(&ev);
		r = QS_EXIT_BAD;
		goto out;
	}
	res = qs_alloc((base.naccts + 1) * sizeof *res);
	for (i = 0; i < base.naccts && !r; i++) {
		racct *ra = NULL;
		qs_totals tt;

		for (j = 0; j < rc.nra; j++)
			if (rc.ra[j].base == base.accts[i])
				ra = &rc.ra[j];
		if (ra)
			qsort(ra->evs, ra->nev, sizeof *ra->evs, ev_cmp);
		r = qs__rec_account(&pp, &ev, base.accts[i], ra, o, &res[i],
				    err);
		if (r && !err->file)
			err->file = plan->file;
		qs_sim_totals(&base, base.accts[i], &tt);
		for (j = 0; j < QS_NREF; j++)
			res[i].refused += tt.st.refused[j];
	}
	if (!r) {
		if (o->format == QS_OUT_JSON) {
			fputs("{\"plan\":", out);
			qs_json_str(out, plan->name);
			fputs(",\"trace\":", out);
			qs_json_str(out, strcmp(trace, "-") ? trace : "(stdin)");
			fputs(",\"accounts\":[", out);
		} else {
			fprintf(out, "quota-sim recommend: plan %s, trace %s\n",
				plan->name, strcmp(trace, "-") ? trace : "(stdin)");
			fprintf(out, "purchases at the start of each month, "
				"exact for this catalog and trace (dynamic "
				"programming over the months; quota-sim(1))\n");
		}
		for (i = 0; i < base.naccts; i++) {
			print_result(out, &pp, &ev, &res[i], o->format, i == 0);
			tp += res[i].payg;
			tb += res[i].best;
		}
		{
			char m1[32], m2[32], m3[32];

			if (o->format == QS_OUT_JSON)
				fprintf(out, "],\n\"total\":{\"payg_only\":\"%s\","
					"\"cheapest\":\"%s\",\"saves\":\"%s\"}}\n",
					qs_money_fmt(m1, tp),
					qs_money_fmt(m2, tb),
					qs_money_fmt(m3, tp - tb));
			else
				fprintf(out, "\ntotal: pay-as-you-go only %s, "
					"cheapest %s, saving %s\n",
					qs_money_fmt(m1, tp),
					qs_money_fmt(m2, tb),
					qs_money_fmt(m3, tp - tb));
		}
	}
	for (i = 0; i < base.naccts; i++) {
		free(res[i].q);
		free(res[i].offers);
	}
	free(res);
	qs_sim_free(&ev);
out:
	for (i = 0; i < rc.nra; i++)
		free(rc.ra[i].evs);
	free(rc.ra);
	qs_sim_free(&base);
	free(pp.accounts);
	return r;
}
