/*
 * node.c - one "gateway node" of the several-nodes tests (issue 12;
 * DESIGN §6), and their verifier and benchmark.  tests/pg/check-nodes.sh
 * runs several of these processes at once against one PostgreSQL server
 * (tests/pg/with-pg.sh), restarts the server or kills a node on purpose,
 * then verifies what the server holds.  The verifier is in node_verify.h,
 * the benchmark in node_bench.h, both included below: one translation
 * unit.
 *
 *   node mkdb CONNINFO NAME          drop and create database NAME
 *   node setup CONNINFO DIR NPROC    categories, tariff, offers, the 10
 *                                    shared accounts, DIR/progress
 *   node run CONNINFO DIR P NOPS     process P: NOPS keyed operations
 *   node verify CONNINFO DIR NPROC [KILLED]
 *   node lease-setup CONNINFO        the hot account
 *   node lease CONNINFO DIR P MAX    process P: 1-unit charges on leases
 *   node lease-verify CONNINFO DIR NPROC
 *   node bench CONNINFO              `make bench`: charges per second
 *
 * The operations of process P are a pure function of (P, i) (gen()): a
 * charge, a reservation, or the commit of the reservation just before,
 * on one of 10 accounts; keys "c.P.i", "r.P.i", "m.P.i".  Each goes
 * through quota_pg_run, one at a time or five in a batch.  Before a batch
 * the node appends an intent line per operation to DIR/log.P, after it
 * an ack line with the receipt:
 *
 *   I kind key account units ref
 *   A kind key account units ref hold r.units r.package r.payg r.cost replayed
 *
 * kind c, r or m; units: charged, reserved, or committed (m); ref: the
 * reservation a commit resolves ("-" else).  A node repeats some of its
 * own batches (same keys, same inputs) and re-sends some operations of
 * node (P+1)%NPROC once that node acknowledged them (DIR/progress holds
 * each node's acknowledged count): every repeat must replay.  On
 * QUOTA_ESTORE / QUOTA_EUNKNOWN (the server restarted) it sleeps a little
 * and runs the same operations again, same keys.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1717243200)   /* 2024-06-01 12:00:00 UTC: every use */
#define BUY_AT (T0 - 3600)       /* top-ups and purchases */
#define SETTLE_AT (T0 + 2 * 86400)
#define NACC 10
#define MAXPROC 8
#define UNIT_PRICE INT64_C(10000) /* 1 cent: bills need no rounding */
#define PRE_UNITS INT64_C(1000000)
#define PRE_PRICE INT64_C(5000000)
#define SMALL_UNITS INT64_C(500)
#define SMALL_PRICE INT64_C(1000000)
#define PRE_TOPUP INT64_C(100000000)
#define PAYG_TOPUP INT64_C(1000000000)
#define HOT_UNITS INT64_C(2000000)
#define HOLD_TIMEOUT (7 * 86400)

static const char *prog = "node";

static _Noreturn void fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
	exit(1);
}

static _Noreturn void die(quota_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "%s: %s: %s: %s\n", prog, what, quota_err_name(rc),
		ctx ? quota_errmsg(ctx) : "");
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 10) : def;
}

/* ------------------------------------------------------------ world */

typedef struct world {
	quota_ctx *ctx;
	quota_pg *pg;
	uint32_t cat;
} world;

static void world_open(world *w, const char *conninfo)
{
	int rc;

	if ((rc = quota_ctx_new(&w->ctx)))
		die(NULL, "quota_ctx_new", rc);
	if ((rc = quota_pg_open(w->ctx, conninfo, &w->pg)))
		die(w->ctx, "quota_pg_open", rc);
	w->cat = 0;
	quota_category_find(w->ctx, "sms", &w->cat);
}

static void world_close(world *w)
{
	quota_pg_close(w->pg);
	quota_ctx_free(w->ctx);
	w->pg = NULL;
	w->ctx = NULL;
}

static quota_account *account(world *w, const char *id, int create)
{
	quota_account *a;
	int rc;

	for (int t = 0; (rc = quota_pg_account(w->pg, id, create, &a)); t++) {
		if ((rc != QUOTA_ESTORE && rc != QUOTA_EUNKNOWN) || t > 600)
			die(w->ctx, id, rc);
		sleep_ms(50);
	}
	return a;
}

static const char *acct_id(int k)
{
	static char ids[NACC][16];

	snprintf(ids[k], sizeof ids[k], "acct%d", k);
	return ids[k];
}

/* Even accounts prepaid (a big package, overage STOP), odd ones
 * pay-as-you-go with a small package and money to pay the bills. */
static int prepaid(int k)
{
	return k % 2 == 0;
}

static int retryable(int rc)
{
	return rc == QUOTA_ESTORE || rc == QUOTA_EUNKNOWN ||
	       rc == QUOTA_ECONFLICT || rc == QUOTA_EUNSYNCED;
}

typedef struct counts {
	long store_retries;  /* quota_pg_run returned ESTORE / EUNKNOWN */
	long op_retries;     /* an op refused with ECONFLICT / EUNSYNCED */
} counts;

/*
 * Run ops until each has a final result: a store failure (the server
 * restarting) or an op still in conflict after the adapter's own retries
 * runs the same ops again, same keys, after a short sleep.  Gives up after
 * about a minute.
 */
static void run_ops(world *w, quota_op *ops, size_t n, counts *c)
{
	for (int t = 0;; t++) {
		int rc = quota_pg_run(w->pg, ops, n), again = 0;

		if (rc == QUOTA_OK) {
			for (size_t k = 0; k < n; k++)
				if (retryable(ops[k].rc))
					again = 1;
				else if (ops[k].rc) {
					fprintf(stderr, "%s: op %s on %s\n",
						prog, ops[k].kind ==
						QUOTA_OP_COMMIT ? ops[k].key
						: ops[k].usage.key,
						quota_account_id(
							ops[k].account));
					die(w->ctx, "operation", ops[k].rc);
				}
			if (!again)
				return;
			if (c)
				c->op_retries++;
		} else if (rc == QUOTA_ESTORE || rc == QUOTA_EUNKNOWN) {
			if (c && c->store_retries++ < 3)
				fprintf(stderr, "%s: %s (retried): %s\n", prog,
					quota_err_name(rc),
					quota_errmsg(w->ctx));
		} else {
			die(w->ctx, "quota_pg_run", rc);
		}
		if (t > 1200)
			die(w->ctx, "quota_pg_run: still failing after a minute",
			    rc ? rc : QUOTA_ECONFLICT);
		sleep_ms(again && rc == QUOTA_OK ? 1 : 50);
	}
}

/* ------------------------------------------------------ the workload */

typedef struct opgen {
	char kind;      /* 'c', 'r', 'm' */
	int acct;
	int64_t units;  /* c, r: units; m: units committed */
	int64_t held;   /* m: what its reservation holds */
} opgen;

static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Operation i of process p: i % 5 == 4 a reservation, i % 5 == 0 (i > 0)
 * the commit of reservation i - 1, else a charge. */
static opgen gen(int p, long i)
{
	opgen g;
	long base = (i % 5 == 0 && i > 0) ? i - 1 : i;
	uint64_t h = mix((uint64_t)p * 1000003u + (uint64_t)base);

	g.kind = i % 5 == 4 ? 'r' : (i % 5 == 0 && i > 0) ? 'm' : 'c';
	g.acct = (int)(h % NACC);
	g.units = 1 + (int64_t)((h >> 8) % 5);
	g.held = g.units;
	if (g.kind == 'm')
		g.units -= (h >> 16) % 3 == 0;
	return g;
}

static void key_of(char *buf, size_t n, char kind, int p, long i)
{
	snprintf(buf, n, "%c.%d.%ld", kind, p, i);
}

/* Each node's acknowledged count, shared through a mapped file. */
static atomic_llong *progress_map(const char *dir, int create)
{
	char path[600];
	void *m;
	int fd;

	snprintf(path, sizeof path, "%s/progress", dir);
	fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (fd < 0 || (create && ftruncate(fd, MAXPROC * 8)))
		fail("%s: cannot open", path, NULL);
	m = mmap(NULL, MAXPROC * sizeof(atomic_llong), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		fail("%s: cannot map", path, NULL);
	return m;
}

typedef struct slot {
	char key[32];
	char ref[32];
	opgen g;
} slot;

/* Fill op from its description; a commit's hold id is the caller's. */
static void op_fill(world *w, quota_op *op, slot *s)
{
	quota_op o = {0};

	o.account = account(w, acct_id(s->g.acct), 0);
	if (s->g.kind == 'm') {
		o.kind = QUOTA_OP_COMMIT;
		o.units_used = s->g.units;
		o.key = s->key;
		o.hold_id = op->hold_id;
	} else {
		o.kind = s->g.kind == 'c' ? QUOTA_OP_CHARGE : QUOTA_OP_RESERVE;
		o.usage.category = w->cat;
		o.usage.units = s->g.units;
		o.usage.at = T0;
		o.usage.key = s->key;
		o.timeout_s = HOLD_TIMEOUT;
	}
	*op = o;
}

static void log_intent(FILE *f, const slot *s)
{
	fprintf(f, "I %c %s %d %lld %s\n", s->g.kind, s->key, s->g.acct,
		(long long)s->g.units, s->ref);
}

static void log_ack(FILE *f, const slot *s, const quota_op *op)
{
	const quota_receipt *r = &op->receipt;

	fprintf(f, "A %c %s %d %lld %s %llu %lld %lld %lld %lld %d\n",
		s->g.kind, s->key, s->g.acct, (long long)s->g.units, s->ref,
		(unsigned long long)(s->g.kind == 'm' ? op->hold_id
						      : r->hold_id),
		(long long)r->units, (long long)r->package_units,
		(long long)r->payg_units, (long long)r->payg_cost_micros,
		r->replayed);
}

/*
 * Run slots as one quota_pg_run (batch) or one by one, logging intents
 * before and acks after.  holds[]: the hold id of each slot (in: commits;
 * out: reservations).  want_replay: every op must replay (a repeat).
 */
static void run_slots(world *w, FILE *log, slot *s, uint64_t *holds,
		      size_t n, int batch, int want_replay, counts *c)
{
	quota_op ops[8];

	for (size_t k = 0; k < n; k++)
		log_intent(log, &s[k]);
	fflush(log);
	for (size_t k = 0; k < n; k++) {
		ops[k].hold_id = holds[k];
		op_fill(w, &ops[k], &s[k]);
	}
	if (batch) {
		run_ops(w, ops, n, c);
	} else {
		for (size_t k = 0; k < n; k++)
			run_ops(w, &ops[k], 1, c);
	}
	for (size_t k = 0; k < n; k++) {
		if (s[k].g.kind == 'r')
			holds[k] = ops[k].receipt.hold_id;
		if (want_replay && !ops[k].receipt.replayed) {
			fprintf(stderr, "%s: %s repeated but not replayed\n",
				prog, s[k].key);
			exit(1);
		}
		log_ack(log, &s[k], &ops[k]);
	}
	fflush(log);
}

static void slot_set(slot *s, int p, long i, const char *res_key)
{
	s->g = gen(p, i);
	key_of(s->key, sizeof s->key, s->g.kind, p, i);
	snprintf(s->ref, sizeof s->ref, "%s", res_key ? res_key : "-");
}

static int cmd_run(const char *conninfo, const char *dir, int p, long nops,
		   int nproc)
{
	char path[600], res_key[32] = "";
	atomic_llong *prog_map = progress_map(dir, 0);
	uint64_t res_hold = 0;
	long own_repeats = 0, cross = 0, cross_skipped = 0;
	counts c = {0, 0};
	double t0 = now_s();
	int q = (p + 1) % nproc;
	world w;
	FILE *log;

	snprintf(path, sizeof path, "%s/log.%d", dir, p);
	if (!(log = fopen(path, "a")))
		fail("%s: cannot open", path, NULL);
	world_open(&w, conninfo);
	/* A reservation as the last op gets its commit too. */
	if ((nops - 1) % 5 == 4)
		nops++;
	for (long g0 = 0; g0 < nops; g0 += 5) {
		long end = g0 + 5 < nops ? g0 + 5 : nops, grp = g0 / 5;
		slot s[5];
		uint64_t holds[5] = {0};
		size_t n = 0;
		int batch = grp % 2 == 1;

		for (long i = g0; i < end; i++, n++) {
			opgen g = gen(p, i);

			slot_set(&s[n], p, i, g.kind == 'm' ? res_key : NULL);
			if (g.kind == 'm')
				holds[n] = res_hold;
		}
		run_slots(&w, log, s, holds, n, batch, 0, &c);
		if (grp % 23 == 11) { /* the same batch again: replays */
			run_slots(&w, log, s, holds, n, batch, 1, &c);
			own_repeats++;
		}
		for (size_t k = 0; k < n; k++)
			if (s[k].g.kind == 'r') {
				memcpy(res_key, s[k].key, sizeof res_key);
				res_hold = holds[k];
			}
		atomic_store(&prog_map[p], (long long)end);

		/* Re-send a charge, a reservation and its commit of node q
		 * from 20 groups back, once q acknowledged them. */
		if (nproc > 1 && grp % 10 == 3 && grp >= 20) {
			long j = (grp - 20) * 5;
			slot x[2];
			uint64_t xh[2] = {0, 0};

			if (atomic_load(&prog_map[q]) < j + 6) {
				cross_skipped++;
				continue;
			}
			slot_set(&x[0], q, j + 1, NULL);
			slot_set(&x[1], q, j + 4, NULL);
			run_slots(&w, log, x, xh, 2, 1, 1, &c);
			slot_set(&x[0], q, j + 5, x[1].key);
			xh[0] = xh[1];
			run_slots(&w, log, x, xh, 1, 0, 1, &c);
			cross++;
		}
	}
	fclose(log);
	printf("node %d: %ld ops in %.1f s; repeated %ld own batches, re-sent "
	       "%ld groups of node %d (%ld not yet acknowledged, skipped); "
	       "store failures retried %ld, conflicts retried %ld\n",
	       p, nops, now_s() - t0, own_repeats, cross, q, cross_skipped,
	       c.store_retries, c.op_retries);
	world_close(&w);
	return 0;
}

/* ------------------------------------------------------------ setup */

static int cmd_mkdb(const char *conninfo, const char *name)
{
	char sql[256];
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail("connect: %s", PQerrorMessage(c), NULL);
	r = PQexec(c, "SET client_min_messages = warning");
	PQclear(r);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
	r = PQexec(c, sql);
	PQclear(r);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return 0;
}

static void config(world *w)
{
	quota_offer_spec pre = {0}, small = {0};
	quota_tariff *t;
	quota_offer *o;
	int rc;

	if ((rc = quota_category_add(w->ctx, "sms", &w->cat)))
		die(w->ctx, "quota_category_add", rc);
	if ((rc = quota_tariff_new(w->ctx, "payg", &t)) ||
	    (rc = quota_tariff_add_tier(t, QUOTA_UNLIMITED, UNIT_PRICE)))
		die(w->ctx, "tariff", rc);
	pre.id = "pre";
	pre.categories = QUOTA_MASK(w->cat);
	pre.units = PRE_UNITS;
	pre.price_micros = PRE_PRICE;
	small = pre;
	small.id = "small";
	small.units = SMALL_UNITS;
	small.price_micros = SMALL_PRICE;
	if ((rc = quota_offer_add(w->ctx, &pre, &o)) ||
	    (rc = quota_offer_add(w->ctx, &small, &o)))
		die(w->ctx, "quota_offer_add", rc);
}

static int cmd_setup(const char *conninfo, const char *dir)
{
	atomic_llong *m;
	world w;
	int rc;

	world_open(&w, conninfo);
	config(&w);
	for (int k = 0; k < NACC; k++) {
		quota_account *a = account(&w, acct_id(k), 1);
		quota_purchase pur;
		quota_tariff *t;
		quota_offer *o;

		quota_tariff_find(w.ctx, "payg", &t);
		quota_offer_find(w.ctx, prepaid(k) ? "pre" : "small", &o);
		if (prepaid(k))
			rc = quota_account_set_overage(a, w.cat,
						       QUOTA_OVERAGE_STOP);
		else
			rc = quota_account_set_tariff(a, w.cat, t);
		if (rc || (rc = quota_account_topup(a, prepaid(k) ? PRE_TOPUP
							: PAYG_TOPUP, BUY_AT)) ||
		    (rc = quota_package_buy(a, o, 1, NULL, BUY_AT, "p0",
					    &pur)))
			die(w.ctx, acct_id(k), rc);
	}
	world_close(&w);
	m = progress_map(dir, 1);
	for (int p = 0; p < MAXPROC; p++)
		atomic_store(&m[p], 0);
	return 0;
}

#include "node_verify.h" /* verify: the logs, replays, units, money */

/* ----------------------------------------------------------- leases */

static int cmd_lease_setup(const char *conninfo)
{
	quota_package_spec ps = {0};
	quota_package *pk;
	quota_account *a;
	world w;
	int rc;

	world_open(&w, conninfo);
	if ((rc = quota_category_add(w.ctx, "sms", &w.cat)))
		die(w.ctx, "quota_category_add", rc);
	a = account(&w, "hot", 1);
	ps.id = "p0";
	ps.categories = QUOTA_MASK(w.cat);
	ps.units = HOT_UNITS;
	ps.effective_at = BUY_AT;
	ps.expires_at = QUOTA_NEVER;
	if ((rc = quota_account_set_overage(a, w.cat, QUOTA_OVERAGE_STOP)) ||
	    (rc = quota_package_add(a, &ps, &pk)))
		die(w.ctx, "hot", rc);
	world_close(&w);
	return 0;
}

/* A lease call until it has a result other than a store failure. */
static int lease_retry(int (*fn)(quota_pg_lease *, int64_t),
		       quota_pg_lease *l, long *retries)
{
	for (int t = 0;; t++) {
		int rc = fn(l, T0);

		if (!retryable(rc) || t > 1200)
			return rc;
		(*retries)++;
		sleep_ms(50);
	}
}

static void lease_check(world *w, quota_pg_lease *l, quota_account *a,
			FILE *log, long long acked)
{
	int64_t rem = quota_account_remaining(a, w->cat, T0);
	int64_t held = quota_account_held(a, w->cat);

	fprintf(log, "F %lld %lld %lld %lld\n", acked, (long long)rem,
		(long long)held, (long long)quota_pg_lease_size(l));
	fflush(log);
	if (rem < 0 || held < quota_pg_lease_size(l)) {
		fprintf(stderr, "%s: remaining %lld, held %lld < lease %lld "
			"(%u holds, %lld in all categories)\n",
			prog, (long long)rem, (long long)held,
			(long long)quota_pg_lease_size(l),
			quota_account_hold_count(a),
			(long long)quota_account_held(a, QUOTA_ALL));
		exit(1);
	}
}

static int cmd_lease(const char *conninfo, const char *dir, int p,
		     long long max, int64_t size)
{
	char path[600];
	long long acked = 0, counted = 0;
	long retries = 0, flushes = 0;
	quota_pg_lease *l = NULL;
	quota_account *a;
	double t0 = now_s();
	world w;
	FILE *log;
	int rc;

	snprintf(path, sizeof path, "%s/lease.%d", dir, p);
	if (!(log = fopen(path, "w")))
		fail("%s: cannot open", path, NULL);
	world_open(&w, conninfo);
	a = account(&w, "hot", 0);
	for (int t = 0;
	     (rc = quota_pg_lease_take(w.pg, a, w.cat, size, T0, 3600, &l));
	     t++) {
		if (rc == QUOTA_EEXHAUSTED)
			break;
		if (!retryable(rc) || t > 1200)
			die(w.ctx, "quota_pg_lease_take", rc);
		sleep_ms(50);
	}
	if (l)
		lease_check(&w, l, a, log, acked);
	while (l) {
		int64_t pend;

		if (counted < max && quota_pg_lease_charge(l, 1) == QUOTA_OK) {
			counted++;
			continue;
		}
		pend = quota_pg_lease_pending(l);
		if (counted < max) {
			rc = lease_retry(quota_pg_lease_flush, l, &retries);
			flushes++;
			if (rc == QUOTA_OK || rc == QUOTA_EEXHAUSTED)
				acked += pend;
			if (rc == QUOTA_OK) {
				lease_check(&w, l, a, log, acked);
				continue;
			}
			if (rc != QUOTA_EEXHAUSTED)
				die(w.ctx, "quota_pg_lease_flush", rc);
			lease_check(&w, l, a, log, acked);
			pend = quota_pg_lease_pending(l);
		}
		rc = lease_retry(quota_pg_lease_end, l, &retries);
		if (rc)
			die(w.ctx, "quota_pg_lease_end", rc);
		acked += pend;
		l = NULL;
	}
	fprintf(log, "E %lld\n", acked);
	fclose(log);
	printf("lease node %d: %lld charges acknowledged, %ld flushes, %ld "
	       "store failures retried, %.1f s\n", p, acked, flushes, retries,
	       now_s() - t0);
	world_close(&w);
	return 0;
}

static int cmd_lease_verify(const char *conninfo, const char *dir, int nproc)
{
	long long acked = 0, flushes = 0;
	quota_account *a;
	quota_package *pk;
	int64_t used, rem, held, pused;
	world w;

	for (int p = 0; p < nproc; p++) {
		char path[600], line[200];
		long long v = -1, x, y, z, s;
		FILE *f;

		snprintf(path, sizeof path, "%s/lease.%d", dir, p);
		if (!(f = fopen(path, "r")))
			fail("%s: cannot open", path, NULL);
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "E %lld", &x) == 1)
				v = x;
			else if (sscanf(line, "F %lld %lld %lld %lld", &x, &y,
					&z, &s) == 4) {
				flushes++;
				if (y < 0 || z < s)
					bad("%s: a flush saw the account "
					    "below zero or the lease not "
					    "held", path, NULL);
			}
		}
		fclose(f);
		if (v < 0)
			bad("%s: node did not end", path, NULL);
		acked += v;
	}
	world_open(&w, conninfo);
	a = account(&w, "hot", 0);
	used = quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, T0);
	rem = quota_account_remaining(a, w.cat, T0);
	held = quota_account_held(a, QUOTA_ALL);
	if (quota_package_find(a, "p0", &pk))
		die(w.ctx, "p0", QUOTA_ENOTFOUND);
	pused = HOT_UNITS - quota_package_remaining(pk);
	printf("lease verify: %lld flushes; bought %lld, used %lld, remaining "
	       "%lld, held %lld; acknowledged %lld\n", flushes,
	       (long long)HOT_UNITS, (long long)used, (long long)rem,
	       (long long)held, acked);
	if (held != 0 || rem < 0 || used + rem != HOT_UNITS ||
	    pused != used || used != acked)
		bad("hot: used + remaining != bought, or used != acknowledged",
		    NULL, NULL);
	world_close(&w);
	if (errors)
		return 1;
	printf("lease verify: ok\n");
	return 0;
}

#include "node_bench.h" /* bench: charges per second */

/* ------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "mkdb") && argc == 4)
		return cmd_mkdb(argv[2], argv[3]);
	if (!strcmp(cmd, "setup") && argc == 4)
		return cmd_setup(argv[2], argv[3]);
	if (!strcmp(cmd, "run") && argc == 7) {
		prog = "node run";
		return cmd_run(argv[2], argv[3], atoi(argv[4]),
			       atol(argv[5]), atoi(argv[6]));
	}
	if (!strcmp(cmd, "verify") && (argc == 5 || argc == 6)) {
		prog = "node verify";
		return cmd_verify(argv[2], argv[3], atoi(argv[4]),
				  argc == 6 ? atoi(argv[5]) : -1);
	}
	if (!strcmp(cmd, "lease-setup") && argc == 3)
		return cmd_lease_setup(argv[2]);
	if (!strcmp(cmd, "lease") && argc == 7) {
		prog = "node lease";
		return cmd_lease(argv[2], argv[3], atoi(argv[4]),
				 atoll(argv[5]), atoll(argv[6]));
	}
	if (!strcmp(cmd, "lease-verify") && argc == 5) {
		prog = "node lease-verify";
		return cmd_lease_verify(argv[2], argv[3], atoi(argv[4]));
	}
	if (!strcmp(cmd, "bench") && argc == 3) {
		prog = "bench_pg";
		return cmd_bench(argv[2]);
	}
	fprintf(stderr, "usage: node mkdb|setup|run|verify|lease-setup|lease|"
		"lease-verify|bench CONNINFO ... (see tests/pg/node.c)\n");
	return 2;
}
