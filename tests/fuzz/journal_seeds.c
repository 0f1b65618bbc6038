/*
 * journal_seeds.c - write the seed corpus of fuzz_journal
 * (tests/fuzz/corpus/journal; `make journal-seeds`).
 *
 * Each seed is a flags byte and real records that continue the fixed
 * world of journal_world.h (the state every fuzz input starts from):
 * one file per kind of call (charges, keyed charges, reservations,
 * commits, releases, ticks, reversals, package adds and purchases,
 * top-ups, settlement, setters, configuration), and random runs of
 * several calls over the three accounts; issue 15 added the R25 and R27
 * kinds (kind-block, kind-release-reason, kind-receipts, kind-fee-reason),
 * runs mixing them in (run15-*) and an account in a time zone (R26:
 * records 73 and 27).  Each is written with a first byte of 0 (CRCs kept) and 1 (resealed after mutation).
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
/* Issue 15 (R25, R27): records 23-26 and configuration record 72. */
static const char *const kinds15[JW_NALLKINDS - JW_NKINDS] = {
	"block", "release-reason", "receipts", "fee-reason"};

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
	/* R24: gift grants (one expiring), the payment order, and
	 * purchases paid with gift money and on credit (records 28-30). */
	{
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 24);

		for (s = 0; s < JW_NACCT; s++) {
			quota_account *a = w.a[s];

			(void)quota_account_set_credit_limit(a, 5000000);
			(void)quota_account_set_pay_order(
				a, s % 2 ? QUOTA_PAY_CASH_FIRST
					 : QUOTA_PAY_GIFT_FIRST,
				QUOTA_PAY_CREDIT_PURCHASES);
			(void)quota_gift_grant(a, 700000, w.t + JW_HOUR, w.t);
			(void)quota_gift_grant(a, 300000, QUOTA_NEVER, w.t);
			(void)quota_package_buy(a, w.fixed, 1, NULL, w.t, NULL,
						NULL);
			(void)quota_account_tick(a, w.t + 2 * JW_HOUR);
		}
		write_seed(argv[1], "kind-gift", &l, from);
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
	/* Issue 15: one file per R25 / R27 kind, and random runs mixing
	 * them with every other kind. */
	for (k = JW_NKINDS; k < JW_NALLKINDS; k++) {
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 200 + (uint64_t)k);

		for (s = 0; s < 6; s++)
			(void)jw_step_issue15(&w, s % JW_NACCT, k);
		if (l.n == from)
			jw_die(kinds15[k - JW_NKINDS]);
		snprintf(name, sizeof name, "kind-%s", kinds15[k - JW_NKINDS]);
		write_seed(argv[1], name, &l, from);
		files += 2;
		quota_ctx_free(w.ctx);
		jw_log_free(&l);
	}
	for (s = 0; s < 4; s++) {
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 3000 + (uint64_t)s);
		int steps = 10 + s * 8;

		while (steps--)
			(void)jw_step_issue15(
				&w, (int)jw_range(&w, 0, JW_NACCT - 1),
				(int)jw_range(&w, 0, JW_NALLKINDS - 1));
		snprintf(name, sizeof name, "run15-%02d", s);
		write_seed(argv[1], name, &l, from);
		files += 2;
		quota_ctx_free(w.ctx);
		jw_log_free(&l);
	}
	/* R26: a zone (configuration record 73, with the TZif bytes of the
	 * system's Europe/Berlin), an account following it (record 27),
	 * and usage on both sides of the 2024 spring-forward change (a day
	 * of 23 hours) settled by local hour. */
	{
		jw_world w;
		jw_log l = {0};
		size_t from = world(&w, &l, 7);
		const int64_t change = INT64_C(1711846800); /* 2024-03-31T01Z */
		quota_zone *z;
		quota_account *a;
		quota_usage u = {0};
		quota_receipt r;

		if (quota_zone_load(w.ctx, "Europe/Berlin", &z) ||
		    quota_account_new(w.ctx, "zoned", &a) ||
		    quota_account_set_zone(a, z) ||
		    quota_account_set_tariff(a, w.sms, w.grad) ||
		    quota_account_set_settlement(a, QUOTA_PERIOD_HOUR, 10000,
						 QUOTA_ROUND_HALF_UP))
			jw_die("zone");
		u.category = w.sms;
		u.units = 3;
		for (s = -2; s < 3; s++) {
			u.at = change + s * 3600;
			if (quota_charge(a, &u, &r))
				jw_die("zone charge");
		}
		if (quota_settle(a, change + 5 * 3600, NULL, NULL) < 0)
			jw_die("zone settle");
		write_seed(argv[1], "zone", &l, from);
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
