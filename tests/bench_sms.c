/*
 * bench_sms.c - throughput of quota_sms_count per class of text (issue 16:
 * >= 1 GB/s of UTF-8 input on every class; a held-out mixed corpus >= 3x
 * the counter of main before issue 16, kept in tests/bench_sms_main.c),
 * with the same corpora run through the npm sms-segments-calculator and
 * split-sms under node in the same run (tests/oracle/bench.js).  Figures,
 * not tests; the machine may be shared, so compare ratios of one run.
 *
 *   bench_sms [OUTDIR]     OUTDIR holds the corpus files node reads
 *
 * QUOTA_BENCH_SMS_COUNT=CLASS:REPS:WHICH counts the messages of one class
 * (its name as printed) REPS times with the library's counter (WHICH
 * "lib") or main's (WHICH "main"), untimed, and prints the bytes counted:
 * what tests/bench-instr.sh runs under valgrind for instructions a byte,
 * a figure that does not move with the machine's load.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NMSG 1000
#define RUNS 5
#define NCLASS 7

/* The counter before issue 16 (tests/bench_sms_main.c). */
int quota_sms_count_main(const char *utf8, size_t len,
			 const quota_sms_opts *opts, quota_sms_info *info);

typedef int (*countfn)(const char *, size_t, const quota_sms_opts *,
		       quota_sms_info *);

static uint64_t rng;

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

typedef struct cls {
	const char *name;
	const char *const *atoms;
	size_t natoms;
	const char *const *rare; /* one in `every` atoms, or one per message */
	size_t nrare;
	uint32_t every;          /* 0: exactly one rare atom per message */
} cls;

/* Typical gateway texts: 40..600 bytes of atoms. */
static void build(corpus *c, const cls *k)
{
	c->name = k->name;
	c->bytes = 0;
	for (int m = 0; m < NMSG; m++) {
		char b[8192];
		size_t n = 0, want = 40 + rnd(560), at = rnd((uint32_t)want);
		bool put = false;
		while (n < want) {
			const char *a = k->atoms[rnd((uint32_t)k->natoms)];
			if (k->nrare && k->every && rnd(k->every) == 0)
				a = k->rare[rnd((uint32_t)k->nrare)];
			if (k->nrare && !k->every && !put && n >= at) {
				a = k->rare[rnd((uint32_t)k->nrare)];
				put = true;
			}
			add(b, &n, a);
		}
		c->text[m] = malloc(n);
		memcpy(c->text[m], b, n);
		c->len[m] = n;
		c->bytes += n;
	}
}

/* UTF-8 of one code point. */
static void put_cp(char *b, size_t *n, uint32_t cp)
{
	unsigned char *s = (unsigned char *)b + *n;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		*n += 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xC0 | cp >> 6);
		s[1] = (unsigned char)(0x80 | (cp & 0x3F));
		*n += 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xE0 | cp >> 12);
		s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (unsigned char)(0x80 | (cp & 0x3F));
		*n += 3;
	} else {
		s[0] = (unsigned char)(0xF0 | cp >> 18);
		s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (unsigned char)(0x80 | (cp & 0x3F));
		*n += 4;
	}
}

/*
 * The held-out realistic mix: another generator (code points drawn from
 * ranges, not the atoms above) and another seed.  Per message: 45 % GSM
 * (a quarter of them with an extension character), 10 % GSM with one
 * non-GSM character, 20 % Chinese/Japanese, 10 % Cyrillic/Greek, 10 %
 * emoji among text, 5 % combining marks and ZWJ sequences.
 */
static void build_mixed(corpus *c)
{
	static const uint32_t gsm_extra[] = {0xE9, 0xE8, 0xFC, 0xF6, 0xE4,
					     0xC9, 0xF1, 0xDF, 0xA3, 0xE0};
	static const uint32_t ext[] = {'[', ']', '{', '}', '~', '^', '|',
				       '\\', 0x20AC};
	static const uint32_t rare[] = {0xE7, 0x2019, 0x201C, 0x2014, 0xE1,
					0xED, 0xF3, 0xFA};
	static const uint32_t emoji[] = {0x1F600, 0x1F44D, 0x1F389, 0x2764,
					 0x1F60A, 0x1F525, 0x2705};

	c->name = "mixed_heldout";
	c->bytes = 0;
	rng = UINT64_C(0x9E3779B97F4A7C15);
	for (int m = 0; m < NMSG; m++) {
		char b[8192];
		uint32_t kind = rnd(100), chars = 20 + rnd(300);
		size_t n = 0;
		bool rare_done = false;
		for (uint32_t j = 0; j < chars; j++) {
			uint32_t r = rnd(1000), cp;
			if (kind < 45) {
				cp = r < 160 ? ' ' : r < 990 ? 'a' + rnd(26)
						   : gsm_extra[rnd(10)];
				if (kind < 11 && r < 8)
					cp = ext[rnd(9)];
			} else if (kind < 55) {
				cp = r < 160 ? ' ' : 'A' + rnd(26);
				if (!rare_done && j == chars / 2) {
					cp = rare[rnd(8)];
					rare_done = true;
				}
			} else if (kind < 75) {
				cp = r < 60 ? 0x3002 : r < 100 ? '0' + rnd(10)
					   : r < 200 ? 0x3042 + rnd(80)
						     : 0x4E00 + rnd(0x5000);
			} else if (kind < 85) {
				cp = r < 150 ? ' ' : r < 600 ? 0x430 + rnd(32)
					   : r < 700 ? 0x3B1 + rnd(24)
						     : 0x410 + rnd(32);
			} else if (kind < 95) {
				cp = r < 150 ? ' ' : r < 900 ? 'a' + rnd(26)
							     : emoji[rnd(7)];
			} else {
				cp = r < 100 ? ' ' : 'a' + rnd(26);
				if (r >= 900)
					put_cp(b, &n, 0x300 + rnd(5));
				if (r < 30) { /* family: man ZWJ woman */
					put_cp(b, &n, 0x1F468);
					put_cp(b, &n, 0x200D);
					cp = 0x1F469;
				}
			}
			put_cp(b, &n, cp);
		}
		c->text[m] = malloc(n);
		memcpy(c->text[m], b, n);
		c->len[m] = n;
		c->bytes += n;
	}
}

static double clk(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clk(CLOCK_MONOTONIC);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of RUNS runs of >= 0.2 s each: messages/s; *mbs gets MB/s,
 * *cpumbs MB/s of this process's CPU time (the machine may be shared). */
static double measure(const corpus *c, countfn f, double *mbs, double *cpumbs)
{
	double rate[RUNS], mb[RUNS], cmb[RUNS];
	volatile int64_t sink = 0;

	for (int r = 0; r < RUNS; r++) {
		double t0 = now(), c0 = clk(CLOCK_PROCESS_CPUTIME_ID), dt;
		long iters = 0;
		do {
			for (int m = 0; m < NMSG; m++) {
				quota_sms_info i;
				f(c->text[m], c->len[m], NULL, &i);
				sink += i.segments;
			}
			iters++;
			dt = now() - t0;
		} while (dt < 0.2);
		rate[r] = (double)iters * NMSG / dt;
		mb[r] = (double)iters * (double)c->bytes / dt / 1e6;
		cmb[r] = (double)iters * (double)c->bytes /
			 (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e6;
	}
	if (sink < 0)
		printf("impossible\n");
	qsort(rate, RUNS, sizeof rate[0], cmpd);
	qsort(mb, RUNS, sizeof mb[0], cmpd);
	qsort(cmb, RUNS, sizeof cmb[0], cmpd);
	*mbs = mb[RUNS / 2];
	*cpumbs = cmb[RUNS / 2];
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
	static const char *const gsm[] = {
		"Your code is ", "48213", ". ", "Delivery ", "scheduled ",
		"for ", "tomorrow", ", ", "reply STOP to opt out", "\n",
		"Grüße ", "aus ", "München", "Ihr Paket ", "ist ", "Café ",
		"Señor ", "Øresund ", "¿Qué? ", "£10 ", "@acme.com ", "$25.00 "};
	static const char *const ext[] = {"€", "[", "]", "{", "}", "~", "^",
					  "|", "\\"};
	static const char *const nongsm[] = {"ç", "’", "“", "—", "á", "í",
					     "ó", "ú", "…"};
	static const char *const cjk[] = {"您的验证码是", "123456", "，",
					  "请勿泄露", "。", "【华为云】",
					  "日本語のテキスト", "한국어 ", "短信",
					  "感谢您的订购", "配送予定日"};
	static const char *const cyrgr[] = {
		"Ваш код ", "подтверждения ", "12345", ". ", "Спасибо ",
		"за заказ", "! ", "Ο κωδικός ", "σας είναι ", "Ευχαριστούμε ",
		"доставка ", "завтра", ", "};
	static const char *const emo[] = {"😀", "👍", "🎉", "🔥", "😊 ",
					  "Happy birthday ", "see you ",
					  "🙏", "💯", " "};
	static const char *const clu[] = {
		"👍🏽", "👨‍👩‍👧", "🇫🇷", "🇩🇪", "❤️", "e\xCC\x81", "n\xCC\x83",
		"नमस्ते ", "क्षत्रिय ", "\xE1\x84\x80\xE1\x85\xA1", " ", "ok "};
	static const cls classes[NCLASS] = {
		{"gsm", gsm, 22, NULL, 0, 0},
		{"gsm_ext", gsm, 22, ext, 9, 12},
		{"gsm_rare", gsm, 22, nongsm, 9, 0},
		{"cjk", cjk, 11, NULL, 0, 0},
		{"cyr_greek", cyrgr, 13, NULL, 0, 0},
		{"emoji", emo, 10, NULL, 0, 0},
		{"clusters", clu, 12, NULL, 0, 0},
	};
	static corpus c[NCLASS + 1];
	const char *dir = argc > 1 ? argv[1] : NULL;
	double npm[NCLASS + 1][5] = {{0}};

	for (int k = 0; k < NCLASS; k++) {
		rng = 88172645463325252u + (uint64_t)k * 7919;
		build(&c[k], &classes[k]);
	}
	build_mixed(&c[NCLASS]);

	const char *once = getenv("QUOTA_BENCH_SMS_COUNT");
	if (once) {
		char name[32], which[8];
		int reps, k;
		int64_t bytes = 0, segs = 0;

		if (sscanf(once, "%31[^:]:%d:%7s", name, &reps, which) != 3 ||
		    reps < 0 || (strcmp(which, "lib") && strcmp(which, "main"))) {
			fprintf(stderr, "QUOTA_BENCH_SMS_COUNT: CLASS:REPS:lib|main\n");
			return 2;
		}
		for (k = 0; k <= NCLASS && strcmp(c[k].name, name); k++)
			;
		if (k > NCLASS) {
			fprintf(stderr, "QUOTA_BENCH_SMS_COUNT: no class %s\n", name);
			return 2;
		}
		countfn f = strcmp(which, "lib") ? quota_sms_count_main
						 : quota_sms_count;
		for (int r = 0; r < reps; r++)
			for (int m = 0; m < NMSG; m++) {
				quota_sms_info i;

				if (f(c[k].text[m], c[k].len[m], NULL, &i)) {
					fprintf(stderr, "%s: message %d refused\n",
						name, m);
					return 1;
				}
				segs += i.segments;
				bytes += (int64_t)c[k].len[m];
			}
		printf("%lld bytes %lld segments\n", (long long)bytes,
		       (long long)segs);
		return 0;
	}

	if (dir) {
		char cmd[4096];
		int n = snprintf(cmd, sizeof cmd,
				 "node tests/oracle/bench.js");
		for (int k = 0; k <= NCLASS; k++) {
			save(&c[k], dir);
			n += snprintf(cmd + n, sizeof cmd - (size_t)n,
				      " %s/%s.hex", dir, c[k].name);
		}
		FILE *p = popen(cmd, "r");
		char line[1024];
		while (p && fgets(line, sizeof line, p)) {
			char file[900];
			double v[5];
			if (sscanf(line, "%899s %lf %lf %lf %lf %lf", file, &v[0],
				   &v[1], &v[2], &v[3], &v[4]) != 6)
				continue;
			for (int k = 0; k <= NCLASS; k++) {
				char want[64];
				snprintf(want, sizeof want, "/%s.hex",
					 c[k].name);
				if (strstr(file, want))
					memcpy(npm[k], v, sizeof v);
			}
		}
		if (p)
			pclose(p);
	}

	printf("bench_sms: quota_sms_count, %d messages per corpus, median "
	       "of %d runs; npm counters under node in the same run\n",
	       NMSG, RUNS);
	printf("  %-13s %6s %10s %7s %7s %7s | %10s %6s | %11s %7s %6s | %s\n",
	       "class", "KiB", "msg/s", "MB/s", "cpuMB/s", "x main",
	       "calc msg/s", "MB/s", "split msg/s", "MB/s", "agree",
	       "target >= 1000 MB/s (wall)");
	int met = 0;
	for (int k = 0; k <= NCLASS; k++) {
		double mbs, cmbs, mbs0, cmbs0;
		double rate = measure(&c[k], quota_sms_count, &mbs, &cmbs);
		double rate0 = measure(&c[k], quota_sms_count_main, &mbs0, &cmbs0);
		printf("  %-13s %6.1f %10.0f %7.1f %7.1f %6.2fx | %10.1f %6.3f | "
		       "%11.1f %7.3f %5.1f%% | ",
		       c[k].name, (double)c[k].bytes / 1024, rate, mbs, cmbs,
		       rate / rate0, npm[k][0], npm[k][1], npm[k][2],
		       npm[k][3], npm[k][4]);
		if (k < NCLASS) {
			met += mbs >= 1000;
			printf("%s\n", mbs >= 1000 ? "met" : "NOT met");
		} else {
			printf("mixed >= 3x main: %s (%.2fx)\n",
			       rate / rate0 >= 3 ? "met" : "NOT met",
			       rate / rate0);
		}
	}
	printf("  classes at >= 1 GB/s: %d of %d\n", met, NCLASS);
	for (int k = 0; k <= NCLASS; k++)
		for (int m = 0; m < NMSG; m++)
			free(c[k].text[m]);
	return 0;
}
