/*
 * bench_instr.c - the plain charge that tests/bench-instr.sh counts the
 * instructions of under valgrind (make bench-instr): N charges of 1 unit
 * in time order on one account with 8 packages (the bench's 8-package
 * account of tests/bench.c: 2 expired, 1 not yet effective, 1 of another
 * category, 1 of one unit, 3 that last; a month's cap), with no store or
 * with a store whose append does nothing (§5, issue 10).  Untimed: instructions do not move with the
 * machine's load, where the times of make bench do.
 *
 *   bench_instr none|noop N
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define MONTH (30 * INT64_C(86400))

static int noop_append(void *ud, const char *account, uint64_t seq,
		       const void *rec, size_t len)
{
	(void)ud, (void)account, (void)seq, (void)rec, (void)len;
	return QUOTA_OK;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_instr: %s: %s\n", what, quota_strerror(rc));
	exit(1);
}

int main(int argc, char **argv)
{
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	uint32_t sms, other;
	long n = -1, i, units = 0;
	char *end = NULL;
	int rc;

	if (argc == 3)
		n = strtol(argv[2], &end, 10);
	if (argc != 3 || (strcmp(argv[1], "none") && strcmp(argv[1], "noop")) ||
	    end == argv[2] || *end || n < 0) {
		fprintf(stderr, "usage: bench_instr none|noop N\n");
		return 2;
	}
	if ((rc = quota_ctx_new(&ctx)))
		die("quota_ctx_new", rc);
	if (!strcmp(argv[1], "noop")) {
		quota_store st = QUOTA_STORE_INIT;

		st.append = noop_append;
		if ((rc = quota_ctx_set_store(ctx, &st)))
			die("quota_ctx_set_store", rc);
	}
	if ((rc = quota_category_add(ctx, "sms.notify", &sms)) ||
	    (rc = quota_category_add(ctx, "email", &other)) ||
	    (rc = quota_tariff_new(ctx, "sms", &t)) ||
	    (rc = quota_tariff_add_tier(t, 100000, 45000)) ||
	    (rc = quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000)) ||
	    (rc = quota_tariff_set_free(t, 100, QUOTA_PERIOD_MONTH)) ||
	    (rc = quota_account_new(ctx, "acct8", &a)) ||
	    (rc = quota_account_set_tariff(a, sms, t)) ||
	    (rc = quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH,
					INT64_C(1) << 60)))
		die("set-up", rc);
	for (i = 0; i < 8; i++) {
		char pid[8];
		quota_package_spec s = {.id = pid, .units = INT64_C(1) << 40,
					.categories = QUOTA_MASK(sms),
					.effective_at = T0 - 10 * 86400,
					.expires_at = T0 + 36 * MONTH + i * 60};

		snprintf(pid, sizeof pid, "p%ld", i);
		if (i < 2) { /* expired */
			s.effective_at = T0 - 400 * 86400 + i;
			s.expires_at = T0 - 86400 + i;
		} else if (i == 2) { /* not yet effective */
			s.effective_at = T0 + 40 * MONTH + i;
			s.expires_at = T0 + 50 * MONTH + i;
		} else if (i == 4) {
			s.categories = QUOTA_MASK(other);
		} else if (i == 5) { /* one unit, soonest to expire */
			s.expires_at = T0 + 30 * MONTH + i;
			s.units = 1;
		}
		if ((rc = quota_package_add(a, &s, NULL)))
			die("quota_package_add", rc);
	}
	for (i = 0; i < n; i++) {
		quota_usage u = {.category = sms, .units = 1,
				 .at = T0 + i * (MONTH - 1) / (n ? n : 1)};
		quota_receipt r;

		if ((rc = quota_charge(a, &u, &r)))
			die("quota_charge", rc);
		units += r.units;
	}
	printf("%ld charges, %ld units\n", n, units);
	quota_ctx_free(ctx);
	return 0;
}
