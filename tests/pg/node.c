/*
 * node.c - one "gateway node" of the several-nodes tests (issue 12;
 * DESIGN §6), and their verifier and benchmark.  tests/pg/check-nodes.sh
 * runs several of these processes at once against one PostgreSQL server
 * (tests/pg/with-pg.sh), restarts the server or kills a node on purpose,
 * then verifies what the server holds.
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

/* ----------------------------------------------------------- verify */

typedef struct entry {
	char *key;
	char kind;
	int acct, p;
	long i;
	int64_t units;
	char ref[64];
	int acked;
	uint64_t hold;
	int64_t r_units, r_pkg, r_payg, r_cost;
	struct entry *next;      /* intents in log order, first sighting */
} entry;

#define HSIZE (1u << 20)
static entry *table[HSIZE];
static long nentries;

static uint32_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return (uint32_t)(h & (HSIZE - 1));
}

static entry *lookup(const char *key, int add)
{
	uint32_t h = hash_str(key);

	while (table[h] && strcmp(table[h]->key, key))
		h = (h + 1) & (HSIZE - 1);
	if (!table[h] && add) {
		entry *e = calloc(1, sizeof *e);

		if (!e || !(e->key = strdup(key)) || ++nentries > HSIZE / 2)
			fail("out of memory", NULL, NULL);
		table[h] = e;
	}
	return table[h];
}

static int errors;

static void bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: FAIL: ", prog);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
	if (++errors > 20)
		exit(1);
}

/* Read DIR/log.P; appends newly seen keys to the intent list. */
static void load_log(const char *dir, int p, entry ***tail, long *lines)
{
	char path[600], line[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/log.%d", dir, p);
	if (!(f = fopen(path, "r")))
		fail("%s: cannot open", path, NULL);
	while (fgets(line, sizeof line, f)) {
		char t, kind, key[64], ref[64];
		int acct, rep, kp;
		long long units, ru = 0, rpk = 0, rpy = 0, rc_ = 0;
		unsigned long long hold = 0;
		long ki;
		entry *e;
		opgen g;
		int nf;

		if (!strchr(line, '\n'))
			break; /* a killed node's torn last line */
		nf = sscanf(line, "%c %c %63s %d %lld %63s %llu %lld %lld %lld "
			    "%lld %d", &t, &kind, key, &acct, &units, ref,
			    &hold, &ru, &rpk, &rpy, &rc_, &rep);
		if ((t == 'I' && nf != 6) || (t == 'A' && nf != 12) ||
		    (t != 'I' && t != 'A') ||
		    sscanf(key + 2, "%d.%ld", &kp, &ki) != 2)
			fail("%s: bad line: %s", path, line);
		(*lines)++;
		g = gen(kp, ki);
		if (g.kind != kind || g.acct != acct || g.units != units ||
		    key[0] != kind)
			bad("%s: line does not match its key: %s", path, line);
		e = lookup(key, 1);
		if (!e->kind) {
			e->kind = kind;
			e->acct = acct;
			e->units = units;
			e->p = kp;
			e->i = ki;
			snprintf(e->ref, sizeof e->ref, "%s", ref);
			**tail = e;
			*tail = &e->next;
			if (t == 'A')
				bad("%s: ack without intent: %s", path, line);
		} else if (strcmp(e->ref, ref)) {
			bad("%s: key logged with another reservation: %s",
			    path, line);
		}
		if (t != 'A')
			continue;
		if (e->acked && (e->hold != hold || e->r_units != ru ||
				 e->r_pkg != rpk || e->r_payg != rpy ||
				 e->r_cost != rc_))
			bad("%s: another receipt for a repeated key: %s", path,
			    line);
		e->acked = 1;
		e->hold = hold;
		e->r_units = ru;
		e->r_pkg = rpk;
		e->r_payg = rpy;
		e->r_cost = rc_;
	}
	fclose(f);
}

static void snap_all(world *w, quota_account **acc, void **snap, size_t *len,
		     uint64_t *seq)
{
	for (int k = 0; k < NACC; k++) {
		int rc = quota_account_snapshot(acc[k], &snap[k], &len[k]);

		if (rc)
			die(w->ctx, "quota_account_snapshot", rc);
		seq[k] = quota_account_seq(acc[k]);
	}
}

static void op_of(world *w, quota_op *op, const entry *e, uint64_t hold)
{
	slot s;

	snprintf(s.key, sizeof s.key, "%s", e->key);
	s.g.kind = e->kind;
	s.g.acct = e->acct;
	s.g.units = e->units;
	op->hold_id = hold;
	op_fill(w, op, &s);
	/* The key is e's: s is gone once this returns. */
	if (e->kind == 'm')
		op->key = e->key;
	else
		op->usage.key = e->key;
}

/* The hold of reservation key rk as the server has it: the reservation
 * run again (it replays if stored, else it is made now). */
static uint64_t hold_of(world *w, const char *rk, long *applied)
{
	entry *r = lookup(rk, 0);
	quota_op op;

	if (!r)
		fail("no reservation %s", rk, NULL);
	op_of(w, &op, r, 0);
	run_ops(w, &op, 1, NULL);
	if (applied && op.receipt.replayed)
		(*applied)++;
	if (r->acked && op.receipt.hold_id != r->hold)
		bad("%s: the server's hold is not the acknowledged one", rk,
		    NULL);
	return op.receipt.hold_id;
}

static int cmd_verify(const char *conninfo, const char *dir, int nproc,
		      int killed)
{
	entry *list = NULL, **tail = &list, *e;
	quota_account *acc[NACC];
	void *snap0[NACC], *snap1[NACC];
	size_t len0[NACC], len1[NACC];
	uint64_t seq0[NACC], seq1[NACC];
	int64_t expect[NACC] = {0}, acked_sum[NACC] = {0};
	long lines = 0, unacked = 0, applied = 0, dangling = 0, replays = 0;
	long keys = 0;
	quota_op ops[100];
	entry *batch[100];
	size_t n = 0;
	long replay_batch = env_long("QUOTA_PG_REPLAY_BATCH", 100);
	world w;

	for (int p = 0; p < nproc; p++)
		load_log(dir, p, &tail, &lines);
	world_open(&w, conninfo);
	for (int k = 0; k < NACC; k++)
		acc[k] = account(&w, acct_id(k), 0);

	/* A killed node's work: its unacknowledged intents run again with
	 * their keys, and a reservation it acknowledged but never got to
	 * commit is committed, as the node would have done after a
	 * restart. */
	for (e = list; e; e = e->next) {
		if (e->acked)
			continue;
		unacked++;
		if (e->p != killed)
			bad("%s: intent of a node that was not killed is not "
			    "acknowledged", e->key, NULL);
		if (e->kind == 'm') {
			uint64_t h = hold_of(&w, e->ref, NULL);

			op_of(&w, &ops[0], e, h);
		} else {
			op_of(&w, &ops[0], e, 0);
		}
		run_ops(&w, ops, 1, NULL);
		applied += ops[0].receipt.replayed;
	}
	for (e = list; e; e = e->next) {
		char mk[32];
		entry *m;

		if (e->kind != 'r')
			continue;
		key_of(mk, sizeof mk, 'm', e->p, e->i + 1);
		if ((m = lookup(mk, 0)))
			continue;
		if (e->p != killed)
			bad("%s: reservation of a node that was not killed "
			    "never committed", e->key, NULL);
		m = lookup(mk, 1);
		m->kind = 'm';
		m->p = e->p;
		m->i = e->i + 1;
		m->acct = e->acct;
		m->units = gen(e->p, e->i + 1).units;
		snprintf(m->ref, sizeof m->ref, "%s", e->key);
		*tail = m;
		tail = &m->next;
		op_of(&w, &ops[0], m, hold_of(&w, e->key, NULL));
		run_ops(&w, ops, 1, NULL);
		dangling++;
	}

	/* What the accounts must hold: every operation once. */
	for (e = list; e; e = e->next) {
		keys++;
		if (e->kind == 'r')
			continue;
		expect[e->acct] += e->units;
		if (e->acked)
			acked_sum[e->acct] += e->units;
	}

	/* Every acknowledged key replays its receipt and changes nothing. */
	snap_all(&w, acc, snap0, len0, seq0);
	for (e = list;; e = e->next) {
		if (e && e->acked) {
			op_of(&w, &ops[n], e, e->hold);
			batch[n++] = e;
		}
		if ((long)n == replay_batch || (!e && n)) {
			run_ops(&w, ops, n, NULL);
			for (size_t k = 0; k < n; k++) {
				const quota_receipt *r = &ops[k].receipt;
				const entry *b = batch[k];
				uint64_t h = b->kind == 'm' ? ops[k].hold_id
							     : r->hold_id;

				if (!r->replayed || r->units != b->r_units ||
				    r->package_units != b->r_pkg ||
				    r->payg_units != b->r_payg ||
				    r->payg_cost_micros != b->r_cost ||
				    h != b->hold)
					bad("%s: replay differs from the "
					    "acknowledged receipt", b->key,
					    NULL);
				replays++;
			}
			n = 0;
		}
		if (!e)
			break;
	}
	snap_all(&w, acc, snap1, len1, seq1);
	for (int k = 0; k < NACC; k++) {
		if (seq0[k] != seq1[k] || len0[k] != len1[k] ||
		    memcmp(snap0[k], snap1[k], len0[k]))
			bad("%s: replays changed the account", acct_id(k),
			    NULL);
		quota_free(w.ctx, snap0[k]);
		quota_free(w.ctx, snap1[k]);
	}

	/* Units: the month's counter, the package, holds; then money. */
	{
		int64_t tot_used = 0, tot_billed = 0;

		for (int k = 0; k < NACC; k++) {
			quota_account *a = acc[k];
			quota_package *pk;
			quota_money m;
			int64_t used = quota_account_used(a, QUOTA_ALL,
							  QUOTA_PERIOD_MONTH,
							  T0);
			int64_t bought = prepaid(k) ? PRE_UNITS : SMALL_UNITS;
			int64_t pused, billed;
			char msg[200];

			if (quota_package_find(a, "p0", &pk))
				die(w.ctx, "quota_package_find", QUOTA_ENOTFOUND);
			pused = bought - quota_package_remaining(pk);
			snprintf(msg, sizeof msg,
				 "used %lld, package used %lld, held %lld, "
				 "expected %lld (acknowledged %lld)",
				 (long long)used, (long long)pused,
				 (long long)quota_account_held(a, QUOTA_ALL),
				 (long long)expect[k],
				 (long long)acked_sum[k]);
			if (used != expect[k] || pused > bought ||
			    (prepaid(k) && pused != expect[k]) ||
			    quota_account_held(a, QUOTA_ALL) != 0 ||
			    (killed < 0 && acked_sum[k] != expect[k]))
				bad("%s: %s", acct_id(k), msg);
			tot_used += used;
			if (quota_settle(a, SETTLE_AT, NULL, NULL) < 0)
				die(w.ctx, "quota_settle", QUOTA_ESTORE);
			quota_account_money(a, &m);
			billed = m.billed_micros;
			tot_billed += billed;
			/* What no package covered was billed, at 1 cent. */
			if (billed != (expect[k] - pused) * UNIT_PRICE ||
			    m.suspended ||
			    m.balance_micros + m.purchased_micros + billed !=
				    m.topped_up_micros ||
			    m.topped_up_micros != (prepaid(k) ? PRE_TOPUP
							      : PAYG_TOPUP))
				bad("%s: money not conserved or bills wrong "
				    "(%s)", acct_id(k), msg);
		}
		printf("verify: %ld log lines, %ld keys; %ld unacknowledged "
		       "intents run again (%ld had been applied), %ld "
		       "reservations committed for the killed node; %ld "
		       "acknowledged keys replayed unchanged; %lld units on "
		       "10 accounts, billed %lld micros\n", lines, keys,
		       unacked, applied, dangling, replays,
		       (long long)tot_used, (long long)tot_billed);
	}
	/* A second, fresh context sees the same after the settlement. */
	world_close(&w);
	world_open(&w, conninfo);
	for (int k = 0; k < NACC; k++) {
		quota_account *a = account(&w, acct_id(k), 0);
		quota_money m;

		quota_account_money(a, &m);
		if (quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, T0) !=
			    expect[k] ||
		    m.balance_micros + m.purchased_micros + m.billed_micros !=
			    m.topped_up_micros)
			bad("%s: a fresh context sees another state",
			    acct_id(k), NULL);
	}
	world_close(&w);
	if (errors)
		return 1;
	printf("verify: ok\n");
	return 0;
}

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

/* ------------------------------------------------------------ bench */

#define BUNITS INT64_C(1000000000)

static void bench_account(world *w, const char *id)
{
	quota_package_spec ps = {0};
	quota_account *a = account(w, id, 1);
	quota_package *pk;
	int rc;

	ps.id = "p0";
	ps.categories = QUOTA_MASK(w->cat);
	ps.units = BUNITS;
	ps.effective_at = BUY_AT;
	ps.expires_at = QUOTA_NEVER;
	if ((rc = quota_account_set_overage(a, w->cat, QUOTA_OVERAGE_STOP)) ||
	    (rc = quota_package_add(a, &ps, &pk)))
		die(w->ctx, id, rc);
}

typedef struct bres {
	long long n;
	double secs;
	long retries;
} bres;

/* One child: charges of 1 unit (no keys) until the deadline, batch per
 * quota_pg_run, or on leases when batch is 0. */
static bres bench_child(const char *conninfo, const char *id, int batch,
			double secs, int go_fd)
{
	quota_op ops[100];
	bres r = {0, 0, 0};
	quota_account *a;
	counts c = {0, 0};
	double t0, end;
	char ch;
	world w;

	world_open(&w, conninfo);
	a = account(&w, id, 0);
	if (read(go_fd, &ch, 1) != 1)
		_exit(1);
	t0 = now_s();
	end = t0 + secs;
	if (batch == 0) {
		quota_pg_lease *l;
		int64_t pend;
		int rc;

		while ((rc = quota_pg_lease_take(w.pg, a, w.cat, 10000, T0,
						 3600, &l)))
			if (!retryable(rc))
				die(w.ctx, "quota_pg_lease_take", rc);
		for (;;) {
			while (quota_pg_lease_charge(l, 1) == QUOTA_OK)
				;
			pend = quota_pg_lease_pending(l);
			if (now_s() >= end)
				break;
			rc = lease_retry(quota_pg_lease_flush, l, &r.retries);
			if (rc)
				die(w.ctx, "quota_pg_lease_flush", rc);
			r.n += pend;
		}
		rc = lease_retry(quota_pg_lease_end, l, &r.retries);
		if (rc)
			die(w.ctx, "quota_pg_lease_end", rc);
		r.n += pend;
		r.secs = now_s() - t0;
	} else {
		while (now_s() < end) {
			for (int k = 0; k < batch; k++) {
				quota_op o = {0};

				o.kind = QUOTA_OP_CHARGE;
				o.account = a;
				o.usage.category = w.cat;
				o.usage.units = 1;
				o.usage.at = T0;
				ops[k] = o;
			}
			run_ops(&w, ops, (size_t)batch, &c);
			r.n += batch;
		}
		r.secs = now_s() - t0;
		r.retries = c.op_retries;
	}
	world_close(&w);
	return r;
}

/* nproc children on one shared account or one account each; the
 * aggregate rate in charges per second. */
static double bench_run(const char *conninfo, world *w, int nproc, int shared,
			int batch, double secs, long *retries)
{
	static int serial;
	int go[2], res[2];
	pid_t pids[MAXPROC];
	char ids[MAXPROC][32];
	long long total = 0;
	double maxs = 0;

	serial++;
	for (int p = 0; p < nproc; p++) {
		snprintf(ids[p], sizeof ids[p], "b%d.%d", serial,
			 shared ? 0 : p);
		if (!shared || p == 0)
			bench_account(w, ids[p]);
	}
	if (pipe(go) || pipe(res))
		fail("pipe", NULL, NULL);
	fflush(stdout);
	for (int p = 0; p < nproc; p++) {
		if ((pids[p] = fork()) < 0)
			fail("fork", NULL, NULL);
		if (pids[p] == 0) {
			bres r;

			close(go[1]);
			close(res[0]);
			r = bench_child(conninfo, ids[p], batch, secs, go[0]);
			if (write(res[1], &r, sizeof r) != (ssize_t)sizeof r)
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	sleep_ms(300); /* the children connect and load their accounts */
	for (int p = 0; p < nproc; p++)
		if (write(go[1], "g", 1) != 1)
			fail("write", NULL, NULL);
	*retries = 0;
	for (int p = 0; p < nproc; p++) {
		bres r;

		if (read(res[0], &r, sizeof r) != (ssize_t)sizeof r)
			fail("a bench process failed", NULL, NULL);
		total += r.n;
		*retries += r.retries;
		if (r.secs > maxs)
			maxs = r.secs;
	}
	for (int p = 0; p < nproc; p++) {
		int st;

		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail("a bench process failed", NULL, NULL);
	}
	close(go[1]);
	close(res[0]);
	return maxs > 0 ? (double)total / maxs : 0;
}

static const char *server_setting(const char *conninfo, const char *name)
{
	static char out[4][64];
	static int k;
	char sql[100];
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	k = (k + 1) % 4;
	snprintf(out[k], sizeof out[k], "?");
	snprintf(sql, sizeof sql, "SHOW %s", name);
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			snprintf(out[k], sizeof out[k], "%s",
				 PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	PQfinish(c);
	return out[k];
}

static int cmd_bench(const char *conninfo)
{
	static const int procs[3] = {1, 2, 4};
	double secs = (double)env_long("QUOTA_PG_BENCH_MS", 2000) / 1000.0;
	double rate[3][2][2], lease;
	long retr[3][2][2], lretries;
	double t0 = now_s();
	world w;

	world_open(&w, conninfo);
	config(&w);
	for (int i = 0; i < 3; i++)
		for (int s = 0; s < 2; s++)
			for (int b = 0; b < 2; b++)
				rate[i][s][b] = bench_run(conninfo, &w,
							  procs[i], s,
							  b ? 100 : 1, secs,
							  &retr[i][s][b]);
	lease = bench_run(conninfo, &w, 4, 1, 0, secs, &lretries);
	world_close(&w);

	printf("\nPostgreSQL store (libquota-pg %s, server %s), several "
	       "processes (DESIGN §6);\nserver fsync=%s, synchronous_commit=%s "
	       "(durable: every acknowledged charge is on disk);\n1-unit "
	       "charges from one package, no keys, through quota_pg_run; "
	       "%.1f s per run\n\n", quota_version(),
	       server_setting(conninfo, "server_version"),
	       server_setting(conninfo, "fsync"),
	       server_setting(conninfo, "synchronous_commit"), secs);
	printf("| charges/s (conflicts retried) | distinct accounts, one per "
	       "call | distinct, batches of 100 | one shared account, one "
	       "per call | shared, batches of 100 |\n"
	       "|---|---:|---:|---:|---:|\n");
	for (int i = 0; i < 3; i++)
		printf("| %d process%s | %.0f (%ld) | %.0f (%ld) | %.0f (%ld) "
		       "| %.0f (%ld) |\n", procs[i], procs[i] > 1 ? "es" : "",
		       rate[i][0][0], retr[i][0][0], rate[i][0][1],
		       retr[i][0][1], rate[i][1][0], retr[i][1][0],
		       rate[i][1][1], retr[i][1][1]);
	printf("\nleases of 10,000 units on one hot account, 4 processes, "
	       "1-unit charges counted in memory, acknowledged by flushes: "
	       "%.0f charges/s (%ld store failures retried)\n", lease,
	       lretries);
	printf("target: one shared account, batches of 100, 4 processes >= "
	       "20,000 charges/s: %.0f, %s\n", rate[2][1][1],
	       rate[2][1][1] >= 20000 ? "met" : "NOT met");
	printf("target: leases on one hot account, 4 processes >= 500,000 "
	       "charges/s: %.0f, %s\n", lease,
	       lease >= 500000 ? "met" : "NOT met");
	printf("bench_pg: %.0f s\n", now_s() - t0);
	return 0;
}

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
