/*
 * bench_threads.c - `make bench` (tests/threads.mk): charges per second
 * with 1, 2 and 4 threads, each driving a context of its own that holds a
 * partition of the accounts (README "Threads").  Contexts share nothing,
 * so the figure should grow with the cores until there are more threads
 * than cores: on 2 cores, 2 threads should do at least 1.8x the charges
 * of one, and 4 threads about as many as 2.
 *
 * Each thread makes its context, its accounts (2 packages each, a tariff,
 * a cap) and its message stream itself, so that they come from its own
 * malloc arena; what a thread writes in the shared result array is
 * cache-line aligned.  Then all start together at a barrier; each does
 * the same number of charges, every one with a look-up of the account id
 * (what a router hands a worker) in random account order, in time order
 * through a day (a month would make most charges the first of their hour
 * for their account: a ledger row allocated each time, and the page
 * faults of a growing heap serialise threads in the kernel).  Charges
 * per second = all charges / (last end - first start).  Each thread's CPU time in its loop is measured too: if a
 * charge costs the same CPU time with 2 threads as with 1, nothing is
 * shared, and a low speedup means the threads did not get the cores
 * ("cores got": CPU time / wall time).  The 1, 2 and 4 thread runs
 * alternate within each round, so a noisy neighbour hurts them alike;
 * figures are medians over the rounds.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define DAY INT64_C(86400)
#define MONTH (30 * DAY)
#define MAXT 4
#define ROUNDS 7

static int ACCOUNTS = 1000;    /* per partition */
static int CHARGES = 1000000;  /* per thread and run */

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_threads: %s failed: %s\n", what,
		quota_strerror(rc));
	exit(1);
}

/* One worker's slot; 64-byte aligned so that no two share a line. */
typedef struct slot {
	_Alignas(64) int index;
	double t0, t1;
	double cpu; /* the thread's CPU time in its timed loop */
	int64_t sink;
} slot;

static slot slots[MAXT];
static pthread_barrier_t ready, done;

/* The account ids of partition p: "p<p>-<i>".  A host would route by a
 * hash of the id (check_threads.c); here each partition's ids are made
 * for it, which comes to the same. */
static void *worker(void *arg)
{
	slot *s = arg;
	uint64_t rng = 0x9E3779B97F4A7C15u ^ ((uint64_t)s->index << 32);
	quota_ctx *ctx;
	quota_tariff *t;
	uint32_t sms;
	char (*ids)[24];
	uint32_t *order;
	int64_t acc = 0;
	int i, rc;

	if ((rc = quota_ctx_new(&ctx)))
		die("ctx", rc);
	if ((rc = quota_category_add(ctx, "sms", &sms)))
		die("category", rc);
	if ((rc = quota_tariff_new(ctx, "std", &t)))
		die("tariff", rc);
	quota_tariff_add_tier(t, 100000, 45000);
	quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000);
	quota_tariff_set_free(t, 100, QUOTA_PERIOD_MONTH);
	ids = malloc((size_t)ACCOUNTS * sizeof *ids);
	order = malloc((size_t)CHARGES * sizeof *order);
	if (!ids || !order)
		die("malloc", QUOTA_ENOMEM);
	for (i = 0; i < ACCOUNTS; i++) {
		quota_package_spec a = {.id = "bundle",
					.categories = QUOTA_MASK(sms),
					.units = INT64_C(1) << 40,
					.effective_at = T0 - MONTH,
					.expires_at = T0 + 3 * MONTH};
		quota_package_spec b = {.id = "promo",
					.categories = QUOTA_MASK(sms),
					.units = INT64_C(1) << 40,
					.effective_at = T0 - MONTH,
					.expires_at = T0 + 2 * MONTH,
					.priority = -1};
		quota_account *acct;

		snprintf(ids[i], sizeof ids[i], "p%d-%d", s->index, i);
		if ((rc = quota_account_new(ctx, ids[i], &acct)))
			die("account", rc);
		quota_account_set_tariff(acct, sms, t);
		quota_account_set_cap(acct, sms, QUOTA_PERIOD_MONTH,
				      INT64_C(1) << 60);
		if ((rc = quota_package_add(acct, &a, NULL)) ||
		    (rc = quota_package_add(acct, &b, NULL)))
			die("package", rc);
	}
	for (i = 0; i < CHARGES; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		order[i] = (uint32_t)(rng % (uint64_t)ACCOUNTS);
	}

	pthread_barrier_wait(&ready);
	s->t0 = now_ns();
	s->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < CHARGES; i++) {
		quota_usage u = {.category = sms, .units = 1,
				 .at = T0 + (int64_t)i * (DAY - 1) / CHARGES};
		quota_receipt r;
		quota_account *acct;

		if ((rc = quota_account_find(ctx, ids[order[i]], &acct)) ||
		    (rc = quota_charge(acct, &u, &r)))
			die("charge", rc);
		acc += r.package_units + r.payg_cost_micros;
	}
	s->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - s->cpu;
	s->t1 = now_ns();
	s->sink += acc;
	pthread_barrier_wait(&done);

	quota_ctx_free(ctx);
	free(ids);
	free(order);
	return NULL;
}

/* One run with n threads: charges per second, all threads together;
 * *cpu_ns: CPU time per charge, *busy: cores the threads got on average. */
static double run(int n, double *cpu_ns, double *busy)
{
	double cpu = 0;
	pthread_t tid[MAXT];
	double first, last;
	int k;

	if (pthread_barrier_init(&ready, NULL, (unsigned)n) ||
	    pthread_barrier_init(&done, NULL, (unsigned)n))
		die("barrier", QUOTA_ENOMEM);
	for (k = 0; k < n; k++) {
		slots[k].index = k;
		if (pthread_create(&tid[k], NULL, worker, &slots[k]))
			die("pthread_create", QUOTA_ENOMEM);
	}
	for (k = 0; k < n; k++)
		pthread_join(tid[k], NULL);
	pthread_barrier_destroy(&ready);
	pthread_barrier_destroy(&done);
	first = slots[0].t0;
	last = slots[0].t1;
	for (k = 0; k < n; k++) {
		cpu += slots[k].cpu;
		if (slots[k].t0 < first)
			first = slots[k].t0;
		if (slots[k].t1 > last)
			last = slots[k].t1;
	}
	*cpu_ns = cpu / ((double)n * CHARGES);
	*busy = cpu / (last - first);
	return (double)n * CHARGES / ((last - first) / 1e9);
}

int main(void)
{
	static const int threads[] = {1, 2, 4};
	double rate[3][ROUNDS], cpu[3][ROUNDS], busy[3][ROUNDS], med[3];
	double med_cpu[3], med_busy[3], speedup;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t sink = 0;
	int r, k;

	if (getenv("QUOTA_BENCH_CHARGES"))
		CHARGES = atoi(getenv("QUOTA_BENCH_CHARGES"));
	for (r = 0; r < ROUNDS; r++)
		for (k = 0; k < 3; k++)
			rate[k][r] = run(threads[k], &cpu[k][r], &busy[k][r]);
	for (k = 0; k < 3; k++) {
		med[k] = median(rate[k], ROUNDS);
		med_cpu[k] = median(cpu[k], ROUNDS);
		med_busy[k] = median(busy[k], ROUNDS);
	}
	for (k = 0; k < MAXT; k++)
		sink += slots[k].sink;

	printf("\nthreads: one context per thread, %d accounts x 2 packages "
	       "each, %d charges per\nthread (id look-up + quota_charge, "
	       "random account order), %d rounds, medians, %ld cores\n",
	       ACCOUNTS, CHARGES, ROUNDS, cores);
	printf("%8s %14s %10s %12s %13s %11s\n", "threads", "charges/s",
	       "x 1 thread", "ns/charge", "CPU ns/charge", "cores got");
	for (k = 0; k < 3; k++)
		printf("%8d %14.0f %10.2f %12.1f %13.1f %11.2f\n", threads[k],
		       med[k], med[k] / med[0], 1e9 * threads[k] / med[k],
		       med_cpu[k], med_busy[k]);
	speedup = med[1] / med[0];
	if (cores >= 2)
		printf("2 threads vs 1: %.2fx (target >= 1.8x: %s)\n", speedup,
		       speedup >= 1.8 ? "met" : "NOT met");
	else
		printf("2 threads vs 1: %.2fx (target >= 1.8x: n/a on 1 "
		       "core)\n", speedup);
	printf("4 threads on %ld cores: %.2fx 1 thread, %.2fx 2 threads "
	       "(more threads than cores\nadd nothing; partitions beyond "
	       "the cores only cost switches)\n",
	       cores, med[2] / med[0], med[2] / med[1]);
	printf("CPU time per charge, 2 threads vs 1: %.2fx (1.00: the threads "
	       "do not slow each\nother down; charges/s then grows with the "
	       "cores they get)\n", med_cpu[1] / med_cpu[0]);
	if (med_busy[1] < 1.8)
		printf("the 2 threads got %.2f cores of %ld: other work on the "
		       "machine, figures low\n", med_busy[1], cores);
	printf("(checksum %" PRId64 ")\n", sink);
	return 0;
}
