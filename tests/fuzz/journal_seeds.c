/*
 * journal_seeds.c - write the seed corpus of fuzz_journal
 * (tests/fuzz/corpus/journal; `make journal-seeds`).
 *
 * Each seed is a flags byte and real records that continue the fixed
 * world of journal_world.h (the state every fuzz input starts from):
 * one file per kind of call (charges, keyed charges, reservations,
 * commits, releases, ticks, reversals, package adds and purchases,
 * top-ups, settlement, setters, configuration), and random runs of
 * several calls over the three accounts.  Each is written with a first
 * byte of 0 (CRCs kept) and 1 (resealed after mutation).
 *
 *   journal_seeds DIR
 */
#include "quota.h"
#include "journal_world.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const kinds[JW_NKINDS] = {
	"charge", "charge-keyed", "reserve", "commit", "release", "tick",
	"reverse", "package-add", "buy", "topup", "settle", "setter",
	"config", "renewal"};

static void write_seed(const char *dir, const char *name, const jw_log *l,
		       size_t from)
{
	for (int flag = 0; flag < 2; flag++) {
		char path[512];
		FILE *f;
		size_t i;

		snprintf(path, sizeof path, "%s/%s-%s", dir, name,
			 flag ? "seal" : "crc");
		f = fopen(path, "wb");
		if (!f || fputc(flag, f) == EOF)
			jw_die(path);
		for (i = from; i < l->n; i++)
			if (fwrite(l->r[i].p, 1, l->r[i].n, f) != l->r[i].n)
				jw_die(path);
		if (fclose(f))
			jw_die(path);
	}
}

/* A context in the fixed world's state, recording into l; the number
 * of records the world itself wrote. */
static size_t world(jw_world *w, jw_log *l, uint64_t rng)
{
	quota_ctx *c;

	if (quota_ctx_new(&c))
		jw_die("quota_ctx_new");
	jw_record(c, l);
	jw_setup(w, c, 1); /* as fuzz_journal's init */
	w->rng = rng;
	return l->n;
}

int main(int argc, char **argv)
{
	char name[64];
	int k, s, files = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: journal_seeds DIR\n");
		return 2;
	}
	/* One kind of call, on each account in turn, a few times. */
	for (k = 0; k < JW_NKINDS; k++) {
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 100 + (uint64_t)k);

		for (s = 0; s < 6; s++)
			(void)jw_step_kind(&w, s % JW_NACCT, k);
		if (l.n == from)
			jw_die(kinds[k]);
		snprintf(name, sizeof name, "kind-%s", kinds[k]);
		write_seed(argv[1], name, &l, from);
		files += 2;
		quota_ctx_free(w.ctx);
		jw_log_free(&l);
	}
	/* Random runs. */
	for (s = 0; s < 12; s++) {
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 1000 + (uint64_t)s);
		int steps = 4 + s * 5;

		while (steps--)
			(void)jw_step(&w);
		snprintf(name, sizeof name, "run-%02d", s);
		write_seed(argv[1], name, &l, from);
		files += 2;
		quota_ctx_free(w.ctx);
		jw_log_free(&l);
	}
	/* The fixed world's own last records: out of sequence. */
	{
		jw_world w;
		jw_log l = {0};
		size_t n = world(&w, &l, 1);

		write_seed(argv[1], "repeat", &l, n - 3);
		files += 2;
		quota_ctx_free(w.ctx);
		jw_log_free(&l);
	}
	printf("journal_seeds: %d files in %s\n", files, argv[1]);
	return 0;
}
