/*
 * bench_scale.c - `make bench-scale` (part of `make bench`): a million
 * accounts in one context, and what an account, a package and an
 * idempotency key cost in memory (issue 13).  It measures the library as
 * it is; the targets are the issue's.
 *
 *   1. QUOTA_SCALE_ACCOUNTS accounts (default 1,000,000), each with a
 *      tariff and 2 packages: creation time, on a context with the
 *      library's own allocator (malloc), first in the process; then bytes
 *      and allocations per account and per package, from the same
 *      creation on a second context counted through its allocator hooks
 *      (bytes the library asked for; also what glibc's malloc makes of
 *      them: 16-byte rounding and an 8-byte header per block); then the
 *      floor: that many bytes touched for the first time in one block,
 *      no library (in this VM a fresh page costs about what creation
 *      does with it, so creation's time follows its bytes).
 *   2. Charges with an id look-up (quota_account_find, then quota_charge)
 *      in random account order, against a raw reference in the same
 *      rounds: an open-addressing table of the same ids (FNV-1a; the
 *      library's is keyed SipHash-1-3), look-up + an add to a counter in
 *      a struct; and the same reference with each look-up waiting for
 *      the one before, its latency (the short loop of the first overlaps
 *      the misses of several look-ups, which a call as long as a charge
 *      cannot); and the floor of one call at a time, that chain and a
 *      block reached through the account's, as a charge reaches its
 *      package.  Then the same BATCH at a time, as a host draining a
 *      queue would: quota_account_find_many, then quota_batch.  Medians
 *      of ROUNDS rounds.  Every account is charged once first, so the
 *      timed charges (all in that same hour) find their counters and
 *      ledger rows.
 *   3. Bytes per idempotency key: an account whose key window holds N
 *      keys, each a charge of 1 unit from one package; bytes added per key.
 *   4. A simulated year of one charge a minute on one account, settled
 *      daily: bytes in use at the end, without and with keys, and with a
 *      30-day retention (quota_account_set_retention, §7).
 *
 * Figures, not tests: targets are printed "met" / "NOT met".
 *
 * QUOTA_SCALE_CREATE_ONLY=1 stops after section 1's creation figures
 * (time, CPU, bytes per account and per package): what profiling the
 * creation of accounts needs, without the minutes the rest takes.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define DAY INT64_C(86400)
#define YEAR (365 * DAY)
#define ROUNDS 5
#define ID_FMT "acct-%07u" /* 12 bytes: "acct-0000042" */
#define ID_SIZE 16

#define ACCOUNT_TARGET 256 /* bytes per account, plus its id */
#define PACKAGE_TARGET 96  /* bytes per package, plus its id */
#define KEY_TARGET 96      /* bytes per idempotency key */
#define CREATE_TARGET 2.0  /* seconds for the accounts and packages */
#define CHARGE_TARGET 3.0  /* look-up + charge vs the reference */
#define BATCH 64           /* look-ups and charges a batch */
#define YEAR_TARGET_KB 320 /* a year kept to 30 days (check_prune) */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the process so far: user and system. */
static void cpu_s(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
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
	fprintf(stderr, "bench_scale: %s failed: %s\n", what,
		quota_strerror(rc));
	exit(1);
}

static const char *met(int ok)
{
	return ok ? "met" : "NOT met";
}

/* ------------------------------------------------ a counting allocator */

/*
 * Each block carries its size in a 16-byte header of ours (not counted),
 * so that free can take it off.  bytes: what the library asked for and
 * has not freed; chunk: the same rounded as glibc's malloc rounds it
 * (8-byte header, 16-byte multiple, 32 bytes at least).
 */
typedef struct meter {
	int64_t bytes, chunk, live, total;
} meter;

#define HDR 16

static int64_t chunk_of(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;

	return (int64_t)(c < 32 ? 32 : c);
}

static void *m_malloc(void *ud, size_t n)
{
	meter *m = ud;
	unsigned char *p = malloc(n + HDR);

	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	m->bytes += (int64_t)n;
	m->chunk += chunk_of(n);
	m->live++;
	m->total++;
	return p + HDR;
}

static void m_free(void *ud, void *q)
{
	meter *m = ud;
	unsigned char *p;
	size_t n;

	if (!q)
		return;
	p = (unsigned char *)q - HDR;
	memcpy(&n, p, sizeof n);
	m->bytes -= (int64_t)n;
	m->chunk -= chunk_of(n);
	m->live--;
	free(p);
}

static void *m_realloc(void *ud, void *q, size_t n)
{
	meter *m = ud;
	unsigned char *p;
	size_t old;

	if (!q)
		return m_malloc(ud, n);
	p = (unsigned char *)q - HDR;
	memcpy(&old, p, sizeof old);
	p = realloc(p, n + HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	m->bytes += (int64_t)n - (int64_t)old;
	m->chunk += chunk_of(n) - chunk_of(old);
	m->total++;
	return p + HDR;
}

/* m NULL: the library's own allocator (malloc), as a host runs it. */
static quota_ctx *metered_ctx(meter *m, uint32_t *sms, quota_tariff **t)
{
	quota_allocator al = {QUOTA_ALLOCATOR_VERSION, m, m_malloc, m_realloc,
			      m_free};
	quota_ctx *ctx;
	int rc;

	if (m) {
		memset(m, 0, sizeof *m);
		rc = quota_ctx_new_with(&al, &ctx);
	} else {
		rc = quota_ctx_new(&ctx);
	}
	if (rc)
		die("quota_ctx_new", rc);
	if ((rc = quota_category_add(ctx, "sms", sms)))
		die("quota_category_add", rc);
	if ((rc = quota_tariff_new(ctx, "std", t)))
		die("quota_tariff_new", rc);
	quota_tariff_add_tier(*t, 100000, 45000);
	quota_tariff_add_tier(*t, QUOTA_UNLIMITED, 40000);
	return ctx;
}

/* ------------------------------------------------- the raw reference */

/* What a host without the library would do at the least: find the
 * customer by id in a hash table, add to a counter. */
struct ref_acct {
	int64_t units, charges;
};

struct ref_slot {
	uint64_t hash;
	const char *id; /* NULL: empty */
	struct ref_acct *acct;
};

struct ref_table {
	struct ref_slot *s;
	size_t mask;
};

/* The floor of one call at a time (issue 13): what a charge reads at the
 * least, beyond the reference's look-up, is a second block reached
 * through the account's (a package: the issue keeps it in a block of its
 * own), so its address is known only once the account's line is in.
 * Each account's record, found by its index in racct, names a block of
 * its own in a shuffled array, as the allocator scatters packages. */
struct ref_block {
	int64_t remaining;
	char pad[56]; /* a line each, as a package's 96 bytes are apart */
};

struct ref_acct2 {
	int64_t units;
	struct ref_block *pk;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void ref_put(struct ref_table *t, const char *id, struct ref_acct *a)
{
	uint64_t h = fnv1a(id);
	size_t i;

	for (i = h & t->mask; t->s[i].id; i = (i + 1) & t->mask)
		;
	t->s[i].hash = h;
	t->s[i].id = id;
	t->s[i].acct = a;
}

static struct ref_acct *ref_get(const struct ref_table *t, const char *id)
{
	uint64_t h = fnv1a(id);
	size_t i;

	for (i = h & t->mask; t->s[i].id; i = (i + 1) & t->mask)
		if (t->s[i].hash == h && strcmp(t->s[i].id, id) == 0)
			return t->s[i].acct;
	return NULL;
}

/* ---------------------------------- 1 and 2: a million accounts, charges */

/* QUOTA_SCALE_CREATE_ONLY set (and not "0"): section 1's creation only. */
static int create_only(void)
{
	const char *e = getenv("QUOTA_SCALE_CREATE_ONLY");

	return e && *e && strcmp(e, "0") != 0;
}

/*
 * Section 1's creation on ctx: n accounts, the tariff on each, two
 * packages each; the seconds of each phase and, with a meter, what each
 * phase allocated.
 */
struct phase {
	double s;                 /* wall seconds */
	int64_t bytes, chunk, live; /* allocated in it (meter only) */
};

static void phase_begin(struct phase *ph, const meter *m)
{
	memset(ph, 0, sizeof *ph);
	if (m)
		ph->bytes = -m->bytes, ph->chunk = -m->chunk,
		ph->live = -m->live;
	ph->s = -now_s();
}

static void phase_end(struct phase *ph, const meter *m)
{
	ph->s += now_s();
	if (m)
		ph->bytes += m->bytes, ph->chunk += m->chunk,
			ph->live += m->live;
}

static void create_all(quota_ctx *ctx, const meter *m, uint32_t sms,
		       quota_tariff *t, const char *ids, uint32_t n,
		       quota_account **acct, struct phase ph[3])
{
	uint32_t i;
	int rc;

	phase_begin(&ph[0], m);
	for (i = 0; i < n; i++)
		if ((rc = quota_account_new(ctx, ids + (size_t)i * ID_SIZE,
					    &acct[i])))
			die("quota_account_new", rc);
	phase_end(&ph[0], m);

	phase_begin(&ph[1], m);
	for (i = 0; i < n; i++)
		if ((rc = quota_account_set_tariff(acct[i], sms, t)))
			die("quota_account_set_tariff", rc);
	phase_end(&ph[1], m);

	/* Two packages each: one drawn first (earlier expiry), one after. */
	phase_begin(&ph[2], m);
	for (i = 0; i < n; i++) {
		quota_package_spec s = {.categories = QUOTA_MASK(sms),
					.units = 1000000,
					.effective_at = T0 - 10 * DAY,
					.price_micros = 5000000};

		s.id = "p0";
		s.expires_at = T0 + 30 * DAY;
		if ((rc = quota_package_add(acct[i], &s, NULL)))
			die("quota_package_add", rc);
		s.id = "p1";
		s.expires_at = T0 + YEAR;
		if ((rc = quota_package_add(acct[i], &s, NULL)))
			die("quota_package_add", rc);
	}
	phase_end(&ph[2], m);
}

/*
 * The machine's floor under creation: the same number of bytes, touched
 * for the first time (a line at a time) in one block of the process's,
 * with no library and no allocator in the way.  In a virtual machine most
 * of creation's time is the host backing fresh pages, and this is that
 * alone.  Seconds.
 */
static double fresh_floor(size_t bytes)
{
	volatile unsigned char *p = malloc(bytes);
	double t0 = now_s(), t;
	size_t o;

	if (!p)
		die("malloc", QUOTA_ENOMEM);
	for (o = 0; o < bytes; o += 64)
		p[o] = 1;
	t = now_s() - t0;
	free((void *)p);
	return t;
}

static void bench_accounts(uint32_t n)
{
	meter m;
	uint32_t sms, i;
	quota_tariff *t;
	quota_ctx *ctx;
	char *ids = malloc((size_t)n * ID_SIZE);
	quota_account **acct = malloc((size_t)n * sizeof *acct);
	const char **seq;
	struct ref_acct *racct;
	struct ref_table rt;
	size_t nseq = n < 500000 ? n : 500000, k, cap;
	double u0, s0, u1, s1;
	double t0, t_first, lib[ROUNDS], ref[ROUNDS], dep[ROUNDS];
	double dep2[ROUNDS];
	struct ref_acct2 *racct2;
	struct ref_block *rblk;
	double fnd[ROUNDS], chg[ROUNDS], bat[ROUNDS], bfnd[ROUNDS];
	double bchg[ROUNDS];
	static quota_op ops[BATCH];
	quota_account **found;
	double ml, mr, md, total, floor_s;
	struct phase ph[3], mph[3];
	int64_t b_first, l_first, allocs_timed = 0, sink = 0, sink2 = 0;
	int64_t sink3 = 0, sink4 = 0;
	size_t id_len;
	double per_acct, per_pkg;
	int rc, round;

	if (!ids || !acct)
		die("malloc", QUOTA_ENOMEM);
	for (i = 0; i < n; i++)
		snprintf(ids + (size_t)i * ID_SIZE, ID_SIZE, ID_FMT, i);
	id_len = strlen(ids);

	/* Creation timed first, in a process that has touched little
	 * memory yet, as a host starting up, and as a host runs the
	 * library: its own allocator (malloc).  The metering allocator
	 * puts a header of 16 bytes before every block, which is the
	 * bench's, not the library's, and fresh memory is most of
	 * creation's time here. */
	{
		uint32_t psms;
		quota_tariff *pt;
		quota_ctx *plain = metered_ctx(NULL, &psms, &pt);

		cpu_s(&u0, &s0);
		create_all(plain, NULL, psms, pt, ids, n, acct, ph);
		cpu_s(&u1, &s1);
		quota_ctx_free(plain);
	}
	/* What creation allocates, through the metering allocator; this
	 * context is the one charged below.  It runs on much of the memory
	 * the first context freed (fewer than half its page faults), so its
	 * time is no measure of creation's and is not printed.  Then the
	 * floor of that many bytes. */
	ctx = metered_ctx(&m, &sms, &t);
	create_all(ctx, &m, sms, t, ids, n, acct, mph);
	floor_s = fresh_floor((size_t)m.chunk);

	total = ph[0].s + ph[1].s + ph[2].s;
	per_acct = (double)mph[0].bytes / n;
	per_pkg = (double)mph[2].bytes / (2.0 * n);
	printf("libquota bench_scale: %u accounts (QUOTA_SCALE_ACCOUNTS), "
	       "ids of %zu bytes, 1 tariff, 2 packages each\n", n, id_len);
	printf("creation: accounts %.2f s, tariffs %.2f s, packages %.2f s; "
	       "total %.2f s (target < %.0f s: %s)\n", ph[0].s, ph[1].s,
	       ph[2].s, total, CREATE_TARGET, met(total < CREATE_TARGET));
	printf("  CPU in that: %.2f s user, %.2f s system; the rest of the "
	       "wall time is waiting (in a VM, most likely on the host "
	       "backing fresh pages)\n", u1 - u0, s1 - s0);
	printf("  the floor: %.0f MB (what creation allocated, with "
	       "malloc's rounding) touched fresh in one block, no library: "
	       "%.2f s; creation is %.2fx that\n", (double)m.chunk / 1e6,
	       floor_s, total / floor_s);
	printf("per account (no package): %.0f bytes in %.2f allocations "
	       "(%.0f with malloc's rounding); target <= %d + id (%zu + 1): "
	       "%s\n", per_acct, (double)mph[0].live / n,
	       (double)mph[0].chunk / n, ACCOUNT_TARGET, id_len,
	       met(per_acct <= ACCOUNT_TARGET + (double)id_len + 1));
	printf("setting the tariff: %.1f bytes per account\n",
	       (double)mph[1].bytes / n);
	printf("per package: %.0f bytes in %.2f allocations (%.0f with "
	       "malloc's rounding); target <= %d + id (3): %s\n", per_pkg,
	       (double)mph[2].live / (2.0 * n),
	       (double)mph[2].chunk / (2.0 * n), PACKAGE_TARGET,
	       met(per_pkg <= PACKAGE_TARGET + 3));
	if (create_only()) {
		quota_ctx_free(ctx);
		free(acct);
		free(ids);
		return;
	}

	/* The first charge of each account, in order: what it allocates. */
	b_first = -m.bytes, l_first = -m.live;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		quota_usage u = {.category = sms, .units = 1, .at = T0};
		quota_receipt r;

		if ((rc = quota_charge(acct[i], &u, &r)))
			die("quota_charge", rc);
	}
	t_first = now_s() - t0;
	b_first += m.bytes, l_first += m.live;
	printf("first charge of each account: %.0f ns each, adds %.0f bytes "
	       "in %.2f allocations per account\n", t_first * 1e9 / n,
	       (double)b_first / n, (double)l_first / n);
	printf("in use after that: %.2f GB in %" PRId64 " allocations "
	       "(%.0f bytes per account with its packages)\n",
	       (double)m.bytes / 1e9, m.live, (double)m.bytes / n);

	/* The reference: the same ids, an open-addressing table at most
	 * half full (as the library's), counters in an array of structs. */
	for (cap = 1; cap < 2 * (size_t)n; cap <<= 1)
		;
	rt.s = calloc(cap, sizeof *rt.s);
	rt.mask = cap - 1;
	racct = calloc(n, sizeof *racct);
	racct2 = calloc(n, sizeof *racct2);
	rblk = calloc(n, sizeof *rblk);
	seq = malloc(nseq * sizeof *seq);
	found = malloc(nseq * sizeof *found);
	if (!rt.s || !racct || !racct2 || !rblk || !seq || !found)
		die("malloc", QUOTA_ENOMEM);
	for (i = 0; i < n; i++)
		ref_put(&rt, ids + (size_t)i * ID_SIZE, &racct[i]);
	for (i = 0; i < n; i++) /* a random permutation of the blocks */
		racct2[i].pk = &rblk[i];
	for (i = n; i > 1; i--) {
		uint32_t j = (uint32_t)(rnd() % i);
		struct ref_block *x = racct2[i - 1].pk;

		racct2[i - 1].pk = racct2[j].pk;
		racct2[j].pk = x;
	}
	for (k = 0; k < nseq; k++)
		seq[k] = ids + (size_t)(rnd() % n) * ID_SIZE;

	for (round = 0; round < ROUNDS; round++) {
		int64_t acc = 0, a0 = m.total;

		t0 = now_s();
		for (k = 0; k < nseq; k++) {
			struct ref_acct *ra = ref_get(&rt, seq[k]);

			ra->units += 1;
			ra->charges++;
		}
		ref[round] = (now_s() - t0) * 1e9 / (double)nseq;

		/* The same, each look-up waiting for the one before: the id's
		 * address depends on the counter just written (always +0).
		 * A processor overlaps the short loop above across several
		 * look-ups, whose misses then come in parallel; a call as
		 * long as a charge leaves it no room to, so this is the
		 * reference's latency, what one call at a time is up to.
		 * Meaningful where the accounts outgrow the caches (the
		 * default million); with a few thousand it can come out
		 * below the loop above. */
		t0 = now_s();
		{
			size_t z = 0;

			for (k = 0; k < nseq; k++) {
				struct ref_acct *ra = ref_get(&rt, seq[k] + z);

				ra->units += 1;
				ra->charges++;
				z = (size_t)(ra->charges < 0);
			}
			sink4 += (int64_t)z;
		}
		dep[round] = (now_s() - t0) * 1e9 / (double)nseq;

		/* The floor: the same chain, then the account's record
		 * (found by the index of what the look-up returned) and the
		 * block it names, each waiting for the one before. */
		t0 = now_s();
		{
			size_t z = 0;

			for (k = 0; k < nseq; k++) {
				struct ref_acct *ra = ref_get(&rt, seq[k] + z);
				struct ref_acct2 *r2 = &racct2[ra - racct];

				r2->units += 1;
				r2->pk->remaining -= 1;
				z = (size_t)(r2->pk->remaining > 0);
			}
			sink4 += (int64_t)z;
		}
		dep2[round] = (now_s() - t0) * 1e9 / (double)nseq;

		t0 = now_s();
		for (k = 0; k < nseq; k++) {
			/* Within the hour of the first charges, in order. */
			quota_usage u = {.category = sms, .units = 1,
					 .at = T0 + 60 + (int64_t)round * 600 +
					       (int64_t)(k * 599 / nseq)};
			quota_account *a;
			quota_receipt r;

			if ((rc = quota_account_find(ctx, seq[k], &a)))
				die("quota_account_find", rc);
			if ((rc = quota_charge(a, &u, &r)))
				die("quota_charge", rc);
			acc += r.package_units;
		}
		lib[round] = (now_s() - t0) * 1e9 / (double)nseq;
		allocs_timed += m.total - a0;
		sink += acc;

		/* The two halves apart: the look-up alone, then the charges
		 * of accounts found before (in the same random order). */
		t0 = now_s();
		for (k = 0; k < nseq; k++)
			if ((rc = quota_account_find(ctx, seq[k], &found[k])))
				die("quota_account_find", rc);
		fnd[round] = (now_s() - t0) * 1e9 / (double)nseq;
		t0 = now_s();
		for (k = 0; k < nseq; k++) {
			quota_usage u = {.category = sms, .units = 1,
					 .at = T0 + 360 + (int64_t)round * 600 +
					       (int64_t)(k * 199 / nseq)};
			quota_receipt r;

			if ((rc = quota_charge(found[k], &u, &r)))
				die("quota_charge", rc);
			sink2 += r.package_units;
		}
		chg[round] = (now_s() - t0) * 1e9 / (double)nseq;

		/* The same look-up + charge, BATCH at a time, as a host that
		 * drains a queue: quota_account_find_many, then quota_batch
		 * (no store: the charges run one after another, the next
		 * ones' state fetched ahead). */
		a0 = m.total;
		t0 = now_s();
		for (k = 0; k < nseq; k += BATCH) {
			size_t b, nb = nseq - k < BATCH ? nseq - k : BATCH;
			quota_account *fa[BATCH];

			if ((rc = quota_account_find_many(ctx, seq + k, nb,
							  fa)))
				die("quota_account_find_many", rc);
			for (b = 0; b < nb; b++) {
				ops[b].kind = QUOTA_OP_CHARGE;
				ops[b].account = fa[b];
				ops[b].usage = (quota_usage){
					.category = sms,
					.units = 1,
					.at = T0 + 560 +
					      (int64_t)round * 600 +
					      (int64_t)((k + b) * 39 / nseq)};
			}
			if ((rc = quota_batch(ctx, ops, nb)))
				die("quota_batch", rc);
			for (b = 0; b < nb; b++) {
				if (ops[b].rc)
					die("quota_batch: a charge", ops[b].rc);
				sink3 += ops[b].receipt.package_units;
			}
		}
		bat[round] = (now_s() - t0) * 1e9 / (double)nseq;
		/* Its two halves apart, as above. */
		t0 = now_s();
		for (k = 0; k < nseq; k += BATCH)
			if ((rc = quota_account_find_many(
				     ctx, seq + k,
				     nseq - k < BATCH ? nseq - k : BATCH,
				     found + k)))
				die("quota_account_find_many", rc);
		bfnd[round] = (now_s() - t0) * 1e9 / (double)nseq;
		t0 = now_s();
		for (k = 0; k < nseq; k += BATCH) {
			size_t b, nb = nseq - k < BATCH ? nseq - k : BATCH;

			for (b = 0; b < nb; b++) {
				ops[b].kind = QUOTA_OP_CHARGE;
				ops[b].account = found[k + b];
				ops[b].usage = (quota_usage){
					.category = sms,
					.units = 1,
					.at = T0 + 600 + (int64_t)round * 600 +
					      (int64_t)((k + b) * 39 / nseq)};
			}
			if ((rc = quota_batch(ctx, ops, nb)))
				die("quota_batch", rc);
			for (b = 0; b < nb; b++)
				sink3 += ops[b].receipt.package_units;
		}
		bchg[round] = (now_s() - t0) * 1e9 / (double)nseq;
		allocs_timed += m.total - a0;
	}
	for (i = 0; i < n; i++)
		sink -= racct[i].units + racct2[i].units;
	/* the dependent rounds' and the floor's */
	sink += 2 * (int64_t)nseq * ROUNDS + sink4;
	mr = median(ref, ROUNDS);
	md = median(dep, ROUNDS);
	ml = median(lib, ROUNDS);
	printf("charge with id look-up, random account order, %zu charges a "
	       "round, median of %d:\n", nseq, ROUNDS);
	printf("  reference (hash look-up + add):       %7.1f ns\n", mr);
	printf("  quota_account_find + quota_charge:    %7.1f ns  %.2fx "
	       "(target <= %.0fx: %s)\n", ml, ml / mr, CHARGE_TARGET,
	       met(ml / mr <= CHARGE_TARGET));
	printf("  reference, each look-up waiting for the one before: "
	       "%7.1f ns; look-up + charge %.2fx that\n", md, ml / md);
	printf("  the floor of one call at a time: that, then a block "
	       "reached through the account's (its package): %7.1f ns, "
	       "%.2fx the reference\n", median(dep2, ROUNDS),
	       median(dep2, ROUNDS) / mr);
	printf("  of which quota_account_find alone:  %7.1f ns, "
	       "quota_charge of a found account: %.1f ns\n",
	       median(fnd, ROUNDS), median(chg, ROUNDS));
	printf("  %d at a time (quota_account_find_many + quota_batch): "
	       "%7.1f ns  %.2fx (target <= %.0fx: %s)\n", BATCH,
	       median(bat, ROUNDS), median(bat, ROUNDS) / mr, CHARGE_TARGET,
	       met(median(bat, ROUNDS) / mr <= CHARGE_TARGET));
	printf("  of which quota_account_find_many alone: %7.1f ns, "
	       "quota_batch of found accounts: %.1f ns\n",
	       median(bfnd, ROUNDS), median(bchg, ROUNDS));
	printf("  allocations during timed charges: %" PRId64 "%s\n",
	       allocs_timed,
	       sink == 0 && sink2 > 0 && sink3 == 2 * (int64_t)nseq * ROUNDS
		       ? ""
					     : " (units do not add up!)");
	printf("  cache misses per charge: not measured (no hardware "
	       "counters in this VM; perf stat -e cache-misses where there "
	       "are)\n");

	t0 = now_s();
	quota_ctx_free(ctx);
	printf("quota_ctx_free: %.2f s; left in use: %" PRId64 " bytes\n",
	       now_s() - t0, m.bytes);
	free(rt.s);
	free(racct);
	free(racct2);
	free(rblk);
	free(seq);
	free(found);
	free(acct);
	free(ids);
}

/* ------------------------------------------- 3: bytes per idempotency key */

/* An account with one package for every charge; its window holds nkeys. */
static quota_account *one_account(quota_ctx *ctx, uint32_t sms,
				  quota_tariff *t, uint32_t nkeys)
{
	quota_package_spec s = {.id = "p0", .categories = QUOTA_MASK(sms),
				.units = INT64_C(1) << 40,
				.effective_at = T0 - DAY,
				.expires_at = T0 + 2 * YEAR};
	quota_account *a;
	int rc;

	if ((rc = quota_account_new(ctx, "acct-0000001", &a)))
		die("quota_account_new", rc);
	if ((rc = quota_account_set_tariff(a, sms, t)))
		die("quota_account_set_tariff", rc);
	if ((rc = quota_package_add(a, &s, NULL)))
		die("quota_package_add", rc);
	if (nkeys && (rc = quota_account_set_key_window(a, nkeys, 30 * DAY)))
		die("quota_account_set_key_window", rc);
	return a;
}

static void bench_keys(void)
{
	static const uint32_t windows[] = {10000, 100000, 1000000};
	size_t w;

	printf("\nidempotency keys: keyed charges of 1 unit from one package "
	       "(keys \"msg-%%08u\", 12 bytes), all in one hour, window of N "
	       "keys\n");
	printf("%10s %12s %12s %10s\n", "N", "bytes/key", "allocs/key",
	       "target");
	for (w = 0; w < sizeof windows / sizeof *windows; w++) {
		uint32_t n = windows[w], sms, i;
		quota_tariff *t;
		meter m;
		quota_ctx *ctx = metered_ctx(&m, &sms, &t);
		quota_account *a = one_account(ctx, sms, t, n);
		int64_t b1 = 0, l1 = 0;
		double per;
		int rc;

		for (i = 0; i < n; i++) {
			char key[16];
			quota_usage u = {.category = sms, .units = 1,
					 .at = T0 + (int64_t)i * 3599 / n,
					 .key = key};
			quota_receipt r;

			snprintf(key, sizeof key, "msg-%08u", i);
			if ((rc = quota_charge(a, &u, &r)))
				die("quota_charge (keyed)", rc);
			if (i == 0)
				b1 = m.bytes, l1 = m.live;
		}
		per = (double)(m.bytes - b1) / (n - 1);
		printf("%10u %12.0f %12.2f %10s\n", n, per,
		       (double)(m.live - l1) / (n - 1),
		       met(per <= KEY_TARGET));
		quota_ctx_free(ctx);
	}
	printf("(target <= %d bytes per key; the key table's share depends "
	       "on how full its power-of-two table is at N)\n", KEY_TARGET);
}

/* ------------------------------------------ 4: a year, a charge a minute */

static int64_t nbills;
static int on_bill(const quota_bill *b, void *ud)
{
	(void)b;
	(void)ud;
	nbills++;
	return 0;
}

static void bench_year(int keyed, int retain)
{
	uint32_t sms;
	quota_tariff *t;
	meter m;
	quota_ctx *ctx = metered_ctx(&m, &sms, &t);
	quota_account *a;
	quota_package_spec s = {.id = "p0", .categories = QUOTA_MASK(sms),
				.units = 100000, .effective_at = T0,
				.expires_at = T0 + YEAR};
	int64_t i, b_month = 0, base;
	double t0 = now_s();
	int rc;

	quota_tariff_set_free(t, 100, QUOTA_PERIOD_MONTH);
	if ((rc = quota_account_new(ctx, "acct-0000001", &a)))
		die("quota_account_new", rc);
	quota_account_set_tariff(a, sms, t);
	quota_account_topup(a, INT64_C(1) << 50, T0);
	if ((rc = quota_package_add(a, &s, NULL)))
		die("quota_package_add", rc);
	if (retain && (rc = quota_account_set_retention(a, 30 * DAY,
						       QUOTA_PRUNE_ALL)))
		die("quota_account_set_retention", rc);
	nbills = 0;
	base = m.bytes;
	for (i = 0; i < YEAR / 60; i++) {
		char key[24];
		quota_usage u = {.category = sms, .units = 1,
				 .at = T0 + i * 60, .key = keyed ? key : NULL};
		quota_receipt r;

		snprintf(key, sizeof key, "y-%" PRId64, i);
		if ((rc = quota_charge(a, &u, &r)))
			die("quota_charge", rc);
		if ((i + 1) % (DAY / 60) == 0) {
			int64_t nb = quota_settle(a, T0 + (i + 1) * 60,
						  on_bill, NULL);

			if (nb < 0)
				die("quota_settle", (int)nb);
			if ((i + 1) == 30 * DAY / 60)
				b_month = m.bytes - base;
		}
	}
	printf("  %-33s %8.2f MB after 30 days, %6.2f MB after a year, "
	       "%6" PRId64 " allocations live, %" PRId64 " bills (%.1f s)\n",
	       retain ? "30 days kept, no keys:"
	       : keyed ? "with keys (window 100,000 / 7 d):" : "without keys:",
	       (double)b_month / 1e6, (double)(m.bytes - base) / 1e6, m.live,
	       nbills, now_s() - t0);
	if (retain)
		printf("  (target: a year with 30 days kept under %d KB, the "
		       "bound check_prune asserts: %s)\n", YEAR_TARGET_KB,
		       met(m.bytes - base <= YEAR_TARGET_KB * 1024));
	quota_ctx_free(ctx);
}

int main(void)
{
	uint32_t n = 1000000;
	struct rusage ru;
	const char *e = getenv("QUOTA_SCALE_ACCOUNTS");

	if (e && atol(e) > 0)
		n = (uint32_t)atol(e);
	bench_accounts(n);
	if (create_only())
		return 0;
	bench_keys();
	printf("\na year of one charge a minute on one account, settled "
	       "daily (100 free units a month, one 100,000-unit package, "
	       "then pay-as-you-go); bytes in use beyond the new account:\n");
	bench_year(0, 0);
	bench_year(1, 0);
	bench_year(0, 1);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("peak resident set: %.2f GB\n",
		       (double)ru.ru_maxrss / (1024.0 * 1024.0));
	return 0;
}
