/*
 * svg.c - the chart of `run --svg`: one panel per account, time across,
 * units left in each package against the left axis (a line per package)
 * and the cumulative cost (purchases, pay-as-you-go, fees) against the
 * right axis (a thick dark line), with a legend under each panel.
 * Coordinates are floating point; money figures on the axis are printed
 * from exact micros.
 */
#include "qsim.h"

#include <errno.h>
#include <string.h>

#define W 960
#define PH 300 /* plot height */
#define ML 90
#define MR 100
#define MT 50
#define MB 52
#define LEGROW 18
#define EDGE 36 /* a month label keeps this far from the corners (px) */

static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
				     "#d62728", "#9467bd", "#8c564b",
				     "#e377c2", "#17becf", "#bcbd22"};
#define NCOLORS (sizeof colors / sizeof *colors)

/* Text from the input (ids, names, the currency) as XML character data.
 * XML 1.0 cannot carry the C0 controls, even as references, nor U+FFFE
 * and U+FFFF: they are written as the visible escapes \xNN and \uFFFE,
 * \uFFFF (quota-sim(1)); DEL too, for the same look. */
static void xml(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u; u++)
		switch (*u) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if (*u < 0x20 || *u == 0x7f)
				fprintf(f, "\\x%02X", *u);
			else if (u[0] == 0xef && u[1] == 0xbf &&
				 (u[2] == 0xbe || u[2] == 0xbf)) {
				fprintf(f, "\\uFFF%c", u[2] == 0xbe ? 'E' : 'F');
				u += 2;
			} else
				fputc(*u, f);
		}
}

/* The top of an axis: max rounded up to a multiple of its step, or max
 * itself where that multiple is beyond 64 bits (money near INT64_MAX
 * micros, packages of up to INT64_MAX units). */
static int64_t axis_top(int64_t max, int64_t step)
{
	int64_t q = max / step + (max % step != 0), top;

	return qs_mul(q, step, &top) ? top : max;
}

/* The tick after *v, if it is within top (no overflow past it). */
static bool next_tick(int64_t *v, int64_t step, int64_t top)
{
	if (*v > top - step)
		return false;
	*v += step;
	return true;
}

/* A step of 1, 2 or 5 times a power of ten giving about 5 ticks. */
static int64_t nice_step(int64_t max)
{
	int64_t p = 1;

	if (max <= 0)
		return 1;
	while (p <= max / 10)
		p *= 10;
	if (max / p <= 2)
		return p / 2 ? p / 2 : 1;
	if (max / p <= 5)
		return p;
	return 2 * p;
}

static void units_label(char *b, size_t n, int64_t v)
{
	if (v >= 1000000 && v % 100000 == 0)
		snprintf(b, n, "%lld.%lldM", (long long)(v / 1000000),
			 (long long)(v % 1000000 / 100000));
	else if (v >= 10000 && v % 1000 == 0)
		snprintf(b, n, "%lldk", (long long)(v / 1000));
	else
		snprintf(b, n, "%lld", (long long)v);
	if (strstr(b, ".0M")) {
		char *d = strstr(b, ".0M");

		memmove(d, d + 2, strlen(d + 2) + 1);
	}
}

static void panel(FILE *f, const qs_sim *s, const qs_acct *a, int y0,
		  int64_t t0, int64_t t1)
{
	uint32_t np = quota_account_package_count(a->a), j;
	int64_t umax = 1, cmax = 1, us, cs, v;
	bool more;
	size_t i;
	double xs, span = (double)(t1 > t0 ? t1 - t0 : 1);
	char b[64], ob[16];
	int32_t m, mfirst, mlast, every;

	(void)s;
	for (j = 0; j < np; j++) {
		quota_package_spec sp;

		quota_package_get_spec(quota_account_package_at(a->a, j), &sp);
		if (sp.units > umax)
			umax = sp.units;
	}
	for (i = 0; i < a->nsamples; i++)
		if (a->samples[i].cost > cmax)
			cmax = a->samples[i].cost;
	us = nice_step(umax);
	umax = axis_top(umax, us);
	cs = nice_step(cmax);
	cmax = axis_top(cmax, cs);
	xs = (W - ML - MR) / span;
#define X(t) (ML + ((double)((t) - t0)) * xs)
#define YU(u) (y0 + PH - (double)(u) / (double)umax * PH)
#define YC(c) (y0 + PH - (double)(c) / (double)cmax * PH)
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"title\">account ", ML,
		y0 - 18);
	xml(f, a->id);
	fprintf(f, " (UTC%s): units left per package, cumulative cost</text>\n",
		qs_offset_fmt(ob, a->def->utc_offset));
	/* grid and left axis: units */
	for (v = 0, more = np != 0; more; more = next_tick(&v, us, umax)) {
		units_label(b, sizeof b, v);
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"class=\"grid\"/>\n<text x=\"%d\" y=\"%.1f\" "
			"class=\"yl\">%s</text>\n", ML, YU(v), W - MR, YU(v),
			ML - 6, YU(v) + 4, b);
	}
	/* right axis: money */
	for (v = 0, more = true; more; more = next_tick(&v, cs, cmax))
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yr\">%s</text>\n",
			W - MR + 6, YC(v) + 4, qs_money_fmt(b, v));
	if (np)
		fprintf(f, "<text transform=\"translate(%d,%d) rotate(-90)\" "
			"class=\"axis\">units left</text>\n", 22,
			y0 + PH / 2);
	for (v = 0, more = !np; more; more = next_tick(&v, cs, cmax))
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
			"y2=\"%.1f\" class=\"grid\"/>\n", ML, YC(v), W - MR,
			YC(v));
	fprintf(f, "<text transform=\"translate(%d,%d) rotate(90)\" "
		"class=\"axis\">cumulative cost%s", W - 18, y0 + PH / 2,
		s->plan->currency ? ", " : "");
	if (s->plan->currency)
		xml(f, s->plan->currency);
	fputs("</text>\n", f);
	if (t0 > t1) {
		/* no row and no action: an empty frame, no dates */
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"yr\">no rows "
			"and no purchases or top-ups: no time to draw</text>\n"
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			"class=\"frame\"/>\n", ML, y0 + PH + 32, ML, y0,
			W - ML - MR, PH);
		goto legend;
	}
	/* time axis: month starts */
	mfirst = qs_month_of(t0, a->def->utc_offset);
	mlast = qs_month_of(t1, a->def->utc_offset);
	every = (mlast - mfirst) / 12 + 1;
	for (m = mfirst + 1; m <= mlast; m++) {
		int64_t t = qs_month_start(m, a->def->utc_offset);

		if ((m - mfirst) % every)
			continue;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"class=\"grid\"/>\n", X(t), y0, X(t), y0 + PH + 5);
		/* No month label where it would run into the start or end
		 * date written under the frame's corners (or out of it). */
		if (X(t) - ML < EDGE || (W - MR) - X(t) < EDGE)
			continue;
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n",
			X(t), y0 + PH + 18, qs_month_fmt(ob, m));
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"yr\">%.10s</text>\n",
		ML, y0 + PH + 32, qs_time_fmt(b, t0, a->def->utc_offset));
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"yl\">%.10s</text>\n",
		W - MR, y0 + PH + 32, qs_time_fmt(b, t1, a->def->utc_offset));
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"class=\"frame\"/>\n", ML, y0, W - ML - MR, PH);
	/* package lines, as steps */
	for (j = 0; j < np; j++) {
		bool on = false;
		double py = 0;

		fprintf(f, "<polyline class=\"pk\" stroke=\"%s\" points=\"",
			colors[j % NCOLORS]);
		for (i = 0; i < a->nsamples; i++) {
			const qs_sample *x = &a->samples[i];

			if (j >= x->npk)
				continue;
			if (on)
				fprintf(f, " %.1f,%.1f", X(x->at), py);
			py = YU(x->left[j]);
			fprintf(f, "%s%.1f,%.1f", on ? " " : "", X(x->at), py);
			on = true;
		}
		fputs("\"/>\n", f);
	}
	/* cumulative cost */
	fputs("<polyline class=\"cost\" points=\"", f);
	for (i = 0; i < a->nsamples; i++) {
		const qs_sample *x = &a->samples[i];

		if (i)
			fprintf(f, " %.1f,%.1f", X(x->at),
				YC(a->samples[i - 1].cost));
		fprintf(f, " %.1f,%.1f", X(x->at), YC(x->cost));
	}
	fputs("\"/>\n", f);
legend:
	/* legend: the cost line, then the packages, three to a row */
	for (j = 0; j <= np; j++) {
		int x = ML + (int)(j % 3) * 300;
		int ly = y0 + PH + MB + (int)(j / 3) * LEGROW;
		quota_package_spec sp;

		if (j == 0) {
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
				"y2=\"%d\" class=\"cost\"/><text x=\"%d\" "
				"y=\"%d\" class=\"leg\">cumulative cost "
				"(right axis)</text>\n", x,
				ly, x + 24, ly, x + 30, ly + 4);
			continue;
		}
		quota_package_get_spec(quota_account_package_at(a->a, j - 1),
				       &sp);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			"class=\"pk\" stroke=\"%s\"/><text x=\"%d\" y=\"%d\" "
			"class=\"leg\">", x, ly, x + 24, ly,
			colors[(j - 1) % NCOLORS], x + 30, ly + 4);
		xml(f, sp.id);
		units_label(b, sizeof b, sp.units);
		fprintf(f, " (%s units)</text>\n", b);
	}
	/* Beside the legend's first entry, not in the plot, where the cost
	 * line may run. */
	if (np == 0)
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"leg\">no "
			"packages: everything is free allowance or "
			"pay-as-you-go</text>\n", ML + 300, y0 + PH + MB + 4);
#undef X
#undef YU
#undef YC
}

static int legend_rows(const qs_acct *a)
{
	uint32_t np = quota_account_package_count(a->a);

	return (int)((np + 1 + 2) / 3) + 1;
}

int qs_svg_write(const char *file, const qs_sim *s, qs_err *err)
{
	FILE *f;
	size_t i;
	int h = 0, y;
	/* the time axis: from the first to the last row, purchase or
	 * top-up (a trace of a header only has only the plan's actions;
	 * with none either, there is no time to draw) */
	int64_t t0 = s->any_at ? s->first_at : INT64_MAX;
	int64_t t1 = s->any_at ? s->last_at : INT64_MIN;

	for (i = 0; i < s->naccts; i++)
		h += MT + PH + MB + legend_rows(s->accts[i]) * LEGROW + 20;
	for (i = 0; i < s->naccts; i++) {
		const qs_acct *a = s->accts[i];

		if (a->nsamples && a->samples[0].at < t0)
			t0 = a->samples[0].at;
		if (a->nsamples && a->samples[a->nsamples - 1].at > t1)
			t1 = a->samples[a->nsamples - 1].at;
	}
	memset(err, 0, sizeof *err);
	err->file = file;
	if (!(f = fopen(file, "w"))) {
		qs_errf(err, 0, 0, "cannot write the chart: %s",
			strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<style>\n"
		".title { font-size: 15px; font-weight: bold; }\n"
		".axis { font-size: 12px; text-anchor: middle; fill: #333; }\n"
		".yl { text-anchor: end; fill: #333; }\n"
		".yr { text-anchor: start; fill: #333; }\n"
		".xl { text-anchor: middle; fill: #333; }\n"
		".leg { fill: #222; }\n"
		".grid { stroke: #ddd; stroke-width: 1; }\n"
		".frame { fill: none; stroke: #888; stroke-width: 1; }\n"
		".pk { fill: none; stroke-width: 2; }\n"
		".cost { fill: none; stroke: #111; stroke-width: 3; "
		"stroke-dasharray: 8 3; }\n"
		"</style>\n<rect width=\"100%%\" height=\"100%%\" "
		"fill=\"white\"/>\n", W, h, W, h);
	y = 0;
	for (i = 0; i < s->naccts; i++) {
		panel(f, s, s->accts[i], y + MT, t0, t1);
		y += MT + PH + MB + legend_rows(s->accts[i]) * LEGROW + 20;
	}
	fputs("</svg>\n", f);
	if (fclose(f)) {
		qs_errf(err, 0, 0, "cannot write the chart: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}
