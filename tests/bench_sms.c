/*
 * bench_sms.c - throughput of quota_sms_count (issue 3 targets: >= 1 GB/s
 * on ASCII; >= 2,000x the npm sms-segments-calculator's messages/s on
 * mixed European text), with the same corpora run through the calculator
 * under node in the same run (tests/oracle/bench.js).  Figures, not tests.
 *
 *   bench_sms [OUTDIR]     OUTDIR holds the corpus files node reads
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NMSG 1000
#define RUNS 5

static uint64_t rng = 88172645463325252u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

typedef struct corpus {
	const char *name;
	char *text[NMSG];
	size_t len[NMSG];
	size_t bytes;
} corpus;

static void add(char *b, size_t *n, const char *atom)
{
	size_t k = strlen(atom);
	memcpy(b + *n, atom, k);
	*n += k;
}

/* Typical gateway texts: 40..600 characters. */
static void build(corpus *c, const char *name, const char *const *atoms,
		  size_t natoms, const char *const *rare, size_t nrare)
{
	c->name = name;
	c->bytes = 0;
	for (int m = 0; m < NMSG; m++) {
		char b[8192];
		size_t n = 0, want = 40 + rnd(560);
		while (n < want)
			add(b, &n, (nrare && rnd(12) == 0)
					   ? rare[rnd((uint32_t)nrare)]
					   : atoms[rnd((uint32_t)natoms)]);
		c->text[m] = malloc(n);
		memcpy(c->text[m], b, n);
		c->len[m] = n;
		c->bytes += n;
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of RUNS runs of >= 0.3 s each: messages/s; *mbs gets MB/s. */
static double measure(const corpus *c, double *mbs)
{
	double rate[RUNS], mb[RUNS];
	volatile int64_t sink = 0;

	for (int r = 0; r < RUNS; r++) {
		double t0 = now(), dt;
		long iters = 0;
		do {
			for (int m = 0; m < NMSG; m++) {
				quota_sms_info i;
				quota_sms_count(c->text[m], c->len[m], NULL, &i);
				sink += i.segments;
			}
			iters++;
			dt = now() - t0;
		} while (dt < 0.3);
		rate[r] = (double)iters * NMSG / dt;
		mb[r] = (double)iters * (double)c->bytes / dt / 1e6;
	}
	if (sink < 0)
		printf("impossible\n");
	qsort(rate, RUNS, sizeof rate[0], cmpd);
	qsort(mb, RUNS, sizeof mb[0], cmpd);
	*mbs = mb[RUNS / 2];
	return rate[RUNS / 2];
}

static void save(const corpus *c, const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.hex", dir, c->name);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (int m = 0; m < NMSG; m++) {
		if (c->len[m] == 0)
			fputc('.', f);
		for (size_t i = 0; i < c->len[m]; i++)
			fprintf(f, "%02x", (unsigned char)c->text[m][i]);
		fputc('\n', f);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static const char *const ascii[] = {
		"Your code is ", "48213", ". ", "Delivery ", "scheduled ",
		"for ", "tomorrow", ", ", "reply STOP to opt out", "\n",
		"Hello ", "world", "! ", "Thanks", "@acme.com ", "$25.00 "};
	static const char *const euro[] = {
		"Grüße ", "aus ", "München", ", ", "Ihr Paket ", "ist ",
		"unterwegs", ". ", "Café ", "Señor ", "Øresund ", "à bientot ",
		"ÄÖÜ ", "Ñandu ", "¿Qué? ", "¡Hola! ", "£10 ", "Straße "};
	static const char *const ext[] = {"€", "[", "]", "{", "}", "~", "^",
					  "|", "\\"};
	static const char *const cjk[] = {"您的验证码是", "123456", "，",
					  "请勿泄露", "。", "【华为云】",
					  "日本語のテキスト", "한국어 ", "短信"};
	static const char *const emo[] = {"😀", "👍🏽", "👨‍👩‍👧", "🇫🇷",
					  "❤️", "🎉", "e\xCC\x81"};
	static corpus c[3];
	const char *dir = argc > 1 ? argv[1] : NULL;
	double npm[3] = {0, 0, 0};

	build(&c[0], "ascii", ascii, sizeof ascii / sizeof *ascii, NULL, 0);
	build(&c[1], "mixed_european", euro, sizeof euro / sizeof *euro, ext,
	      sizeof ext / sizeof *ext);
	build(&c[2], "cjk_emoji", cjk, sizeof cjk / sizeof *cjk, emo,
	      sizeof emo / sizeof *emo);

	if (dir) {
		char cmd[4096];
		int n = snprintf(cmd, sizeof cmd,
				 "node tests/oracle/bench.js");
		for (int k = 0; k < 3; k++) {
			save(&c[k], dir);
			n += snprintf(cmd + n, sizeof cmd - (size_t)n,
				      " %s/%s.hex", dir, c[k].name);
		}
		FILE *p = popen(cmd, "r");
		char line[1024];
		while (p && fgets(line, sizeof line, p)) {
			char file[900];
			double r, mb;
			if (sscanf(line, "%899s %lf %lf", file, &r, &mb) != 3)
				continue;
			for (int k = 0; k < 3; k++)
				if (strstr(file, c[k].name))
					npm[k] = r;
		}
		if (p)
			pclose(p);
	}

	printf("bench_sms: quota_sms_count, %d messages per corpus, median "
	       "of %d runs\n", NMSG, RUNS);
	for (int k = 0; k < 3; k++) {
		double mbs, rate = measure(&c[k], &mbs);
		printf("  %-15s %6.1f KiB  %12.0f msg/s  %8.1f MB/s", c[k].name,
		       (double)c[k].bytes / 1024, rate, mbs);
		if (npm[k] > 0)
			printf("  | npm sms-segments-calculator %8.1f msg/s  "
			       "ratio %.0fx", npm[k], rate / npm[k]);
		else
			printf("  | npm: not run");
		printf("\n");
	}
	for (int k = 0; k < 3; k++)
		for (int m = 0; m < NMSG; m++)
			free(c[k].text[m]);
	return 0;
}
