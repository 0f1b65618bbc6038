/*
 * main.c - quota-sim's command line: run, compare, recommend (see
 * quota-sim(1)), and the progress bar drawn on a terminal's stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: quota-sim run [--csv | --json] [--svg FILE] [--scale F] PLAN "
	"TRACE\n"
	"       quota-sim compare [--csv | --json] [--scale F] PLAN... TRACE\n"
	"       quota-sim recommend [--json] [--max-evals N] PLAN TRACE\n"
	"       quota-sim --version\n"
	"TRACE is a CSV file, or - for standard input; see quota-sim(1) and "
	"quota-plan(5).\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("quota-sim: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return QS_EXIT_BAD;
}

static void print_err(const qs_err *e)
{
	fputs("quota-sim: ", stderr);
	if (e->file)
		fprintf(stderr, "%s:", e->file);
	if (e->line)
		fprintf(stderr, "%lld:", (long long)e->line);
	if (e->line && e->col)
		fprintf(stderr, "%lld:", (long long)e->col);
	fprintf(stderr, " %s\n", e->msg);
}

/* ------------------------------------------------------------ progress */

typedef struct progress {
	bool on;
	bool drawn;
	double start, last;
	const char *what;
} progress;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Redrawn at most 10 times a second, and only once the trace has taken
 * half a second: small traces never show it. */
static void progress_fn(void *ud, uint64_t done, uint64_t total, int64_t rows)
{
	progress *p = ud;
	double t = now_s();
	char bar[41];
	int i, w = 40;

	if (!p->on || t - p->last < 0.1 || t - p->start < 0.5)
		return;
	p->last = t;
	p->drawn = true;
	if (total) {
		int fill = (int)((double)done / (double)total * w);

		for (i = 0; i < w; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[w] = 0;
		fprintf(stderr, "\r%s [%s] %3d%%  %lld rows  %.0f rows/s ",
			p->what, bar, (int)(100.0 * done / total),
			(long long)rows, rows / (t - p->start));
	} else
		fprintf(stderr, "\r%s %lld rows, %.1f MB  %.0f rows/s ",
			p->what, (long long)rows, done / 1e6,
			rows / (t - p->start));
}

static void progress_end(progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

static void progress_init(progress *p, const char *what, bool quiet)
{
	memset(p, 0, sizeof *p);
	p->on = !quiet && isatty(2);
	p->start = now_s();
	p->what = what;
}

/* ---------------------------------------------------------------- run */

/* F as a decimal (up to 6 places) into millionths, > 0. */
static bool parse_scale(const char *s, int64_t *out)
{
	const char *why;

	return qs_money_parse(s, strlen(s), out, &why) && *out > 0;
}

/* Replay one trace through n simulations.  Nothing is printed here: a
 * bad row stops everything before any output. */
static int replay(qs_sim *sims, size_t n, const char *trace, bool quiet)
{
	qs_err err;
	progress pr;
	size_t i;
	int rc;

	memset(&err, 0, sizeof err);
	progress_init(&pr, "quota-sim", quiet);
	rc = qs_feed(sims, n, trace, progress_fn, &pr, &err);
	progress_end(&pr);
	if (rc) {
		print_err(&err);
		return err.status ? err.status : QS_EXIT_BAD;
	}
	for (i = 0; i < n; i++)
		if (qs_sim_finish(&sims[i], &err)) {
			print_err(&err);
			return err.status ? err.status : QS_EXIT_BAD;
		}
	return 0;
}

typedef struct opts {
	int format;
	const char *svg;
	int64_t scale;
	bool quiet;
	const char *args[64];
	int nargs;
} opts;

static int parse_opts(int argc, char **argv, opts *o, bool svg_ok,
		      bool scale_ok)
{
	int i;
	bool dashdash = false;

	memset(o, 0, sizeof *o);
	o->scale = 1000000;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || !strcmp(a, "-")) {
			if (o->nargs == 64)
				return bad_usage("too many files%s", "");
			o->args[o->nargs++] = a;
		} else if (!strcmp(a, "--"))
			dashdash = true;
		else if (!strcmp(a, "--csv"))
			o->format = QS_OUT_CSV;
		else if (!strcmp(a, "--json"))
			o->format = QS_OUT_JSON;
		else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
			o->quiet = true;
		else if (svg_ok && !strcmp(a, "--svg")) {
			if (++i == argc)
				return bad_usage("--svg needs a file name%s",
						 "");
			o->svg = argv[i];
		} else if (scale_ok && !strcmp(a, "--scale")) {
			if (++i == argc || !parse_scale(argv[i], &o->scale))
				return bad_usage("--scale needs a factor above "
						 "0 such as 1.5, not '%s'",
						 i < argc ? argv[i] : "");
		} else
			return bad_usage("unknown option '%s'", a);
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	opts o;
	qs_plan *plan;
	qs_sim sim;
	qs_err err;
	int rc;

	if ((rc = parse_opts(argc, argv, &o, true, true)))
		return rc;
	if (o.nargs != 2)
		return bad_usage("run takes a plan and a trace%s", "");
	if (!(plan = qs_plan_load(o.args[0], &err))) {
		print_err(&err);
		return QS_EXIT_BAD;
	}
	if (qs_sim_init(&sim, plan, &err)) {
		print_err(&err);
		qs_sim_free(&sim);
		qs_plan_free(plan);
		return err.status ? err.status : QS_EXIT_BAD;
	}
	sim.scale_micros = o.scale;
	sim.samples = o.svg != NULL;
	rc = replay(&sim, 1, o.args[1], o.quiet);
	if (rc == 0 && o.svg && qs_svg_write(o.svg, &sim, &err)) {
		print_err(&err);
		rc = QS_EXIT_FAIL;
	}
	if (rc == 0)
		qs_report_run(stdout, &sim, strcmp(o.args[1], "-")
						    ? o.args[1] : "(stdin)",
			      o.format);
	qs_sim_free(&sim);
	qs_plan_free(plan);
	return rc;
}

static int cmd_compare(int argc, char **argv)
{
	opts o;
	qs_plan *plans[64];
	qs_sim sims[64], *ptr[64];
	qs_err err;
	int i, k, n, rc = 0, made = 0;

	if ((rc = parse_opts(argc, argv, &o, false, true)))
		return rc;
	if (o.nargs < 2)
		return bad_usage("compare takes one or more plans and a "
				 "trace%s", "");
	n = o.nargs - 1;
	memset(plans, 0, sizeof plans);
	for (i = 0; i < n; i++) {
		if (!(plans[i] = qs_plan_load(o.args[i], &err))) {
			print_err(&err);
			rc = QS_EXIT_BAD;
			goto out;
		}
		/* the differences subtract amounts: one currency (a plan
		 * that names none is taken to be in the others') */
		for (k = 0; k < i && plans[i]->currency; k++)
			if (plans[k]->currency &&
			    strcmp(plans[k]->currency, plans[i]->currency)) {
				err.file = plans[i]->file;
				qs_errf(&err, plans[i]->currency_line,
					plans[i]->currency_col,
					"currency %.60s, but %.100s is in %.60s: "
					"compare subtracts the plans' amounts, "
					"so their currencies must be the same",
					plans[i]->currency, plans[k]->file,
					plans[k]->currency);
				print_err(&err);
				rc = QS_EXIT_BAD;
				goto out;
			}
		if (qs_sim_init(&sims[i], plans[i], &err)) {
			print_err(&err);
			qs_sim_free(&sims[i]);
			rc = err.status ? err.status : QS_EXIT_BAD;
			goto out;
		}
		made++;
		sims[i].scale_micros = o.scale;
		ptr[i] = &sims[i];
	}
	rc = replay(sims, (size_t)n, o.args[n], o.quiet);
	if (rc == 0)
		qs_report_compare(stdout, ptr, (size_t)n,
				  strcmp(o.args[n], "-") ? o.args[n]
							 : "(stdin)",
				  o.format, o.scale);
out:
	for (i = 0; i < made; i++)
		qs_sim_free(&sims[i]);
	for (i = 0; i < n; i++)
		qs_plan_free(plans[i]);
	return rc;
}

static int cmd_recommend(int argc, char **argv)
{
	opts o;
	qs_plan *plan;
	qs_err err;
	qs_rec_opts ro = {0};
	progress pr;
	int rc, i, k = 0;
	bool exhaustive = false;

	/* --exhaustive: no pruning, for the tests' brute-force check */
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--exhaustive") == 0)
			exhaustive = true;
		else if (strcmp(argv[i], "--max-evals") == 0) {
			if (++i == argc ||
			    !qs_int_parse(argv[i], strlen(argv[i]), INT64_MAX,
					  &ro.max_evals) || !ro.max_evals)
				return bad_usage("--max-evals needs a number "
						 "above 0, not '%s'",
						 i < argc ? argv[i] : "");
		} else
			argv[2 + k++] = argv[i];
	argc = 2 + k;
	if ((rc = parse_opts(argc, argv, &o, false, false)))
		return rc;
	if (o.nargs != 2)
		return bad_usage("recommend takes a plan and a trace%s", "");
	if (o.format == QS_OUT_CSV)
		return bad_usage("recommend prints text or --json, not "
				 "--csv%s", "");
	if (!(plan = qs_plan_load(o.args[0], &err))) {
		print_err(&err);
		return QS_EXIT_BAD;
	}
	progress_init(&pr, "quota-sim", o.quiet);
	ro.format = o.format;
	ro.exhaustive = exhaustive;
	ro.progress = progress_fn;
	ro.progress_ud = &pr;
	rc = qs_recommend(stdout, plan, o.args[1], &ro, &err);
	progress_end(&pr);
	if (rc) {
		print_err(&err);
		rc = err.status ? err.status : rc < 0 ? QS_EXIT_BAD : rc;
	}
	qs_plan_free(plan);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("quota-sim (libquota %s), plan format %d\n",
		       quota_version(), QS_PLAN_VERSION);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2)
		return bad_usage("no command%s", "");
	if (!strcmp(argv[1], "run"))
		rc = cmd_run(argc, argv);
	else if (!strcmp(argv[1], "compare"))
		rc = cmd_compare(argc, argv);
	else if (!strcmp(argv[1], "recommend"))
		rc = cmd_recommend(argc, argv);
	else
		return bad_usage("unknown command '%s'", argv[1]);
	if (fflush(stdout) || ferror(stdout)) {
		fputs("quota-sim: cannot write the output\n", stderr);
		return QS_EXIT_FAIL;
	}
	return rc;
}
