/*
 * charger.c - the process the crash test kills (tests/crash/driver.c,
 * DESIGN §9: SIGKILL at random points, then recover; every acknowledged
 * operation is there, none twice).
 *
 * It charges through the SQLite store (quota_sqlite_open, synchronous
 * FULL) a deterministic sequence of operations derived from a seed: op i
 * is one keyed charge or a quota_batch of 2 to 20 keyed charges, on one of
 * four accounts with three packages each, a free allowance and tiered
 * pay-as-you-go.  The key of member j of op i is "k<i>.<j>".
 *
 * Acknowledged.  When an operation's call has returned, the charger
 * appends one line per charge (key, result, receipt) to the ack file in
 * one write(2), and only then starts the next operation.  A charge is
 * acknowledged once that write has returned: what a gateway does when it
 * answers its client.  The write survives SIGKILL (the page cache belongs
 * to the kernel, not the process); it is not fsync'ed unless
 * QUOTA_CRASH_FSYNC=1, because this test kills processes, not machines.
 * A charge whose call returned but whose line was not written is in
 * flight, as is one killed inside its call.
 *
 * Every start checks, before charging anything new:
 *   - the ack file's complete operations are 0 .. M-1 in order (a torn
 *     last line or operation is dropped: not acknowledged);
 *   - op M, the one in flight, is retried with the same keys: either
 *     every charge of it replays (receipt.replayed; it was stored) or none
 *     does (it was not): never half a batch;
 *   - the store's state before the retry equals the acknowledged charges,
 *     plus op M if (and only if) it replayed; after it, exactly the
 *     acknowledged charges: per package, units bought - remaining = units
 *     the receipts took from it; per account, the report's free, package
 *     and pay-as-you-go units and pay-as-you-go cost = the receipts' sums;
 *     balance = top-ups - purchases - bills;
 *   - every acknowledged key replays its receipt and changes nothing (every
 *     account's snapshot is the same byte for byte after the replays).
 *
 * Usage:
 *   charger init DB                       make the world (not killed)
 *   charger run DB ACK LOG SEED [OFF AT]  check, then charge until killed
 *   charger verify DB ACK LOG SEED        check (and retry op M), exit
 * OFF AT: kill itself at op M+OFF, at point AT (1: right after SQLite
 * stored the op's first record, inside the call; 2: right after a batch's
 * COMMIT, inside the call; 3: after the call returned, before the ack;
 * 4: after the ack).  QUOTA_CRASH_READY_FD: a pipe to write one byte to
 * when the checks are done.  Exit 0: finished (verify); 1: usage or setup;
 * 3: a check failed (stderr says which).
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_sqlite.h"
#include "quota_sqlite_int.h"
#include "quota_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define DAY INT64_C(86400)
#define NACC 4
#define NPKG 3
#define NOPS 10000000L /* never reached: the driver stops first */
#define MAXN 20        /* charges in a batch, at most */
#define CKPT_EVERY 97  /* ops between quota_sqlite_checkpoint calls */

/* ------------------------------------------------------------ helpers */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "charger: CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}

static void die(quota_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "charger: %s: %s: %s\n", what, quota_err_name(rc),
		ctx ? quota_errmsg(ctx) : "");
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15u;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

/* ------------------------------------------------- the op sequence */

static uint64_t seed;

/* How many charges op i has: 1 (a plain call) or 2..MAXN (a batch). */
static int op_size(long i)
{
	uint64_t r = mix(seed * 0x100000001B3u + (uint64_t)i);

	return r % 100 < 15 ? 2 + (int)((r >> 8) % (MAXN - 1)) : 1;
}

typedef struct member {
	int acct;
	uint32_t cat; /* 0 sms, 1 email */
	int64_t units;
	int64_t at;
	char key[32];
} member;

static void op_member(long i, int j, member *m)
{
	uint64_t r = mix(mix(seed ^ 0x5bd1e995u) + (uint64_t)i * 64 +
			 (uint64_t)j);

	m->acct = (int)(r % NACC);
	m->cat = (uint32_t)((r >> 8) % 3 == 0); /* a third email */
	m->units = 1 + (int64_t)((r >> 16) % 5);
	m->at = T0 + (int64_t)i * 20 + j; /* in time order, ~2 weeks */
	snprintf(m->key, sizeof m->key, "k%ld.%d", i, j);
}

/* ------------------------------------------------------- the world */

static const char *const acct_id[NACC] = {"acme", "bolt", "civic", "delta"};

/* Packages of account k: p0 (sms, expires after 3 days), p1 (sms and
 * email, priority 1, never expires), p2 (email). */
static void pkg_spec(int k, int p, quota_package_spec *s)
{
	static char id[NPKG][4];

	memset(s, 0, sizeof *s);
	snprintf(id[p], sizeof id[p], "p%d", p);
	s->id = id[p];
	s->effective_at = T0 - DAY;
	s->expires_at = QUOTA_NEVER;
	switch (p) {
	case 0:
		s->categories = QUOTA_MASK(0);
		s->units = 400 + 100 * k;
		s->expires_at = T0 + 3 * DAY;
		break;
	case 1:
		s->categories = QUOTA_MASK(0) | QUOTA_MASK(1);
		s->units = 1500 + 500 * k;
		s->priority = 1;
		break;
	default:
		s->categories = QUOTA_MASK(1);
		s->units = 800;
		break;
	}
}

static void init_world(const char *path)
{
	quota_ctx *ctx;
	quota_sqlite *db;
	quota_tariff *ts, *te;
	uint32_t sms, email;
	int rc;

	if ((rc = quota_ctx_new(&ctx)))
		die(NULL, "quota_ctx_new", rc);
	if ((rc = quota_sqlite_open(ctx, path, &db)))
		die(ctx, "quota_sqlite_open", rc);
	if ((rc = quota_category_add(ctx, "sms", &sms)) ||
	    (rc = quota_category_add(ctx, "email", &email)) ||
	    (rc = quota_tariff_new(ctx, "sms-std", &ts)) ||
	    (rc = quota_tariff_add_tier(ts, 2000, 45000)) ||
	    (rc = quota_tariff_add_tier(ts, QUOTA_UNLIMITED, 30000)) ||
	    (rc = quota_tariff_set_free(ts, 20, QUOTA_PERIOD_DAY)) ||
	    (rc = quota_tariff_new(ctx, "email-std", &te)) ||
	    (rc = quota_tariff_add_tier(te, 500, 1200)) ||
	    (rc = quota_tariff_add_tier(te, QUOTA_UNLIMITED, 800)) ||
	    (rc = quota_tariff_set_free(te, 100, QUOTA_PERIOD_MONTH)))
		die(ctx, "configuration", rc);
	if (sms != 0 || email != 1)
		die(ctx, "category ids", QUOTA_EINVAL);
	for (int k = 0; k < NACC; k++) {
		quota_account *a;

		if ((rc = quota_account_new(ctx, acct_id[k], &a)) ||
		    (rc = quota_account_set_tariff(a, sms, ts)) ||
		    (rc = quota_account_set_tariff(a, email, te)) ||
		    (rc = quota_account_set_key_window(a, 1000000,
						       400 * DAY)) ||
		    (rc = quota_account_topup(a, INT64_C(1000000000000),
					      T0 - DAY)))
			die(ctx, acct_id[k], rc);
		for (int p = 0; p < NPKG; p++) {
			quota_package_spec s;

			pkg_spec(k, p, &s);
			if ((rc = quota_package_add(a, &s, NULL)))
				die(ctx, "quota_package_add", rc);
		}
	}
	quota_sqlite_close(db);
	quota_ctx_free(ctx);
}

/* --------------------------------------- a store that kills itself */

static quota_store sq;   /* the SQLite store underneath */
static int kill_at;      /* 1 or 2 while the op to die in runs; else 0 */
static bool in_batch_op; /* the op running is a batch */

static int w_append(void *ud, const char *account, uint64_t seq,
		    const void *rec, size_t len)
{
	int rc = sq.append(ud, account, seq, rec, len);

	if (rc == QUOTA_OK && account &&
	    (kill_at == 1 || (kill_at == 2 && !in_batch_op)))
		raise(SIGKILL);
	return rc;
}

static int w_begin(void *ud)
{
	return sq.begin(ud);
}

static int w_commit(void *ud)
{
	int rc = sq.commit(ud);

	if (rc == QUOTA_OK && kill_at == 2)
		raise(SIGKILL);
	return rc;
}

static const char *w_errmsg(void *ud)
{
	return sq.errmsg(ud);
}

/* ------------------------------------------------------ the ack file */

typedef struct ack {
	long i;
	int j, n, acct, pkgidx[NPKG];
	int64_t units, free_u, pkg_u, payg_u, cost, per_pkg[NPKG];
} ack;

static ack *acks;
static size_t nacks, acks_cap;
static int ack_fd = -1;

static void ack_push(const ack *a)
{
	if (nacks == acks_cap) {
		acks_cap = acks_cap ? acks_cap * 2 : 4096;
		acks = realloc(acks, acks_cap * sizeof *acks);
		if (!acks) {
			fprintf(stderr, "charger: out of memory\n");
			exit(1);
		}
	}
	acks[nacks++] = *a;
}

/*
 * Read the ack file; keep the complete operations 0 .. M-1 and cut the
 * file after them (a torn line, or an op with fewer lines than charges,
 * was never acknowledged).  Returns M.
 */
static long ack_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	off_t good = 0, pos = 0;
	long m = 0;
	size_t group_start = 0;

	nacks = 0;
	if (!f) {
		if (errno != ENOENT) {
			perror(path);
			exit(1);
		}
		return 0;
	}
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		ack a;
		char *p = line, *e;
		int64_t v[9 + NPKG];
		int k;

		pos += (off_t)len;
		if (len == 0 || line[len - 1] != '\n')
			break; /* torn: not acknowledged */
		for (k = 0; k < 9 + NPKG; k++) {
			v[k] = strtoll(p, &e, 10);
			if (e == p)
				fail("ack file %s: bad line '%s'", path, line);
			p = e;
		}
		memset(&a, 0, sizeof a);
		a.i = (long)v[0];
		a.j = (int)v[1];
		a.n = (int)v[2];
		a.acct = (int)v[3];
		a.units = v[4];
		a.free_u = v[5];
		a.pkg_u = v[6];
		a.payg_u = v[7];
		a.cost = v[8];
		for (k = 0; k < NPKG; k++)
			a.per_pkg[k] = v[9 + k];
		if (a.i != m || a.j != (int)(nacks - group_start) ||
		    a.n != op_size(m))
			fail("ack file %s: line for op %ld.%d (of %d) where "
			     "op %ld.%zu (of %d) was due", path, a.i, a.j,
			     a.n, m, nacks - group_start, op_size(m));
		ack_push(&a);
		if (a.j + 1 == a.n) {
			m++;
			group_start = nacks;
			good = pos;
		}
	}
	fclose(f);
	nacks = group_start;
	if (truncate(path, good)) {
		perror(path);
		exit(1);
	}
	return m;
}

/* One op's lines, in one write(2): the acknowledgement. */
static void ack_write(long i, int n, const member *m, const quota_op *ops)
{
	char buf[MAXN * 160];
	size_t len = 0;

	for (int j = 0; j < n; j++) {
		const quota_receipt *r = &ops[j].receipt;
		int64_t per[NPKG] = {0};
		ack a;

		for (uint32_t l = 0; l < r->nlines; l++)
			if (r->lines[l].source == QUOTA_SOURCE_PACKAGE)
				per[r->lines[l].package_id[1] - '0'] +=
					r->lines[l].units;
		len += (size_t)snprintf(
			buf + len, sizeof buf - len,
			"%ld %d %d %d %" PRId64 " %" PRId64 " %" PRId64
			" %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
			" %" PRId64 "\n",
			i, j, n, m[j].acct, r->units, r->free_units,
			r->package_units, r->payg_units, r->payg_cost_micros,
			per[0], per[1], per[2]);
		memset(&a, 0, sizeof a);
		a.i = i;
		a.j = j;
		a.n = n;
		a.acct = m[j].acct;
		a.units = r->units;
		a.free_u = r->free_units;
		a.pkg_u = r->package_units;
		a.payg_u = r->payg_units;
		a.cost = r->payg_cost_micros;
		memcpy(a.per_pkg, per, sizeof per);
		ack_push(&a);
	}
	if (write(ack_fd, buf, len) != (ssize_t)len) {
		perror("ack write");
		exit(1);
	}
	if (getenv("QUOTA_CRASH_FSYNC") && fsync(ack_fd)) {
		perror("ack fsync");
		exit(1);
	}
}

/* ------------------------------------------------------------ state */

typedef struct acct_state {
	int64_t pkg[NPKG];              /* units taken from each package */
	int64_t free_u, pkg_u, payg_u, cost; /* the report's sums */
	int64_t charges;                /* receipts (expected side only) */
} acct_state;

typedef struct state {
	acct_state a[NACC];
} state;

static quota_ctx *ctx;
static quota_account *acc[NACC];

static int report_row(const quota_report_row *row, void *ud)
{
	acct_state *s = ud;

	switch (row->source) {
	case QUOTA_SOURCE_FREE:
		s->free_u += row->units;
		break;
	case QUOTA_SOURCE_PACKAGE:
		s->pkg_u += row->units;
		break;
	case QUOTA_SOURCE_PAYG:
		s->payg_u += row->units;
		s->cost += row->cost_micros;
		break;
	default:
		fail("report: a row of source %d", row->source);
	}
	return 0;
}

/* What the store holds, through the public getters and the report. */
static void state_take(state *st)
{
	memset(st, 0, sizeof *st);
	for (int k = 0; k < NACC; k++) {
		acct_state *s = &st->a[k];
		quota_money mo;
		int rc;

		if (quota_account_package_count(acc[k]) != NPKG)
			fail("account %s has %u packages", acct_id[k],
			     quota_account_package_count(acc[k]));
		for (int p = 0; p < NPKG; p++) {
			quota_package_spec want, got;
			quota_package *pk = quota_account_package_at(acc[k],
								     (uint32_t)p);

			pkg_spec(k, p, &want);
			if (quota_package_get_spec(pk, &got) ||
			    strcmp(got.id, want.id) || got.units != want.units)
				fail("account %s: package %d is not %s", acct_id[k],
				     p, want.id);
			s->pkg[p] = got.units - quota_package_remaining(pk);
		}
		if ((rc = quota_report(acc[k], QUOTA_PERIOD_MONTH, T0 - 40 * DAY,
				       T0 + 400 * DAY, report_row, s)))
			die(ctx, "quota_report", rc);
		if ((rc = quota_account_money(acc[k], &mo)))
			die(ctx, "quota_account_money", rc);
		if (mo.balance_micros != mo.topped_up_micros -
						 mo.purchased_micros -
						 mo.billed_micros ||
		    mo.topped_up_micros != INT64_C(1000000000000))
			fail("account %s: balance %" PRId64 " != top-ups %" PRId64
			     " - purchases %" PRId64 " - bills %" PRId64,
			     acct_id[k], mo.balance_micros, mo.topped_up_micros,
			     mo.purchased_micros, mo.billed_micros);
	}
}

/* What the acknowledged receipts add up to. */
static void state_expected(state *st, size_t upto)
{
	memset(st, 0, sizeof *st);
	for (size_t x = 0; x < upto; x++) {
		const ack *a = &acks[x];
		acct_state *s = &st->a[a->acct];

		for (int p = 0; p < NPKG; p++)
			s->pkg[p] += a->per_pkg[p];
		s->free_u += a->free_u;
		s->pkg_u += a->pkg_u;
		s->payg_u += a->payg_u;
		s->cost += a->cost;
		s->charges++;
	}
}

/* NULL if the store's state x equals the receipts' y, else what differs. */
static const char *state_diff(const state *x, const state *y)
{
	static char why[512];

	for (int k = 0; k < NACC; k++) {
		const acct_state *a = &x->a[k], *b = &y->a[k];

		for (int p = 0; p < NPKG; p++)
			if (a->pkg[p] != b->pkg[p]) {
				snprintf(why, sizeof why,
					 "account %s package p%d: %" PRId64
					 " units taken, receipts say %" PRId64,
					 acct_id[k], p, a->pkg[p], b->pkg[p]);
				return why;
			}
		if (a->free_u != b->free_u || a->pkg_u != b->pkg_u ||
		    a->payg_u != b->payg_u || a->cost != b->cost) {
			snprintf(why, sizeof why,
				 "account %s: report free %" PRId64
				 " package %" PRId64 " payg %" PRId64
				 " cost %" PRId64 "; receipts %" PRId64
				 " %" PRId64 " %" PRId64 " %" PRId64,
				 acct_id[k], a->free_u, a->pkg_u, a->payg_u,
				 a->cost, b->free_u, b->pkg_u, b->payg_u,
				 b->cost);
			return why;
		}
	}
	return NULL;
}

/* ----------------------------------------------------- running an op */

/* Run op i (one charge, or a batch); its receipts in ops[]. */
static int run_op(long i, int die_at, member *m, quota_op *ops)
{
	int n = op_size(i), rc;

	memset(ops, 0, sizeof *ops * (size_t)n);
	for (int j = 0; j < n; j++) {
		op_member(i, j, &m[j]);
		ops[j].kind = QUOTA_OP_CHARGE;
		ops[j].account = acc[m[j].acct];
		ops[j].usage.category = m[j].cat;
		ops[j].usage.units = m[j].units;
		ops[j].usage.at = m[j].at;
		ops[j].usage.key = m[j].key;
	}
	in_batch_op = n > 1;
	kill_at = die_at == 1 || die_at == 2 ? die_at : 0;
	if (n == 1)
		rc = ops[0].rc = quota_charge(ops[0].account, &ops[0].usage,
					      &ops[0].receipt);
	else
		rc = quota_batch(ctx, ops, (size_t)n);
	kill_at = 0;
	if (rc != QUOTA_OK)
		fail("op %ld: %s: %s", i, quota_err_name(rc), quota_errmsg(ctx));
	for (int j = 0; j < n; j++) {
		const quota_receipt *r = &ops[j].receipt;

		if (ops[j].rc != QUOTA_OK)
			fail("op %ld.%d: %s", i, j, quota_err_name(ops[j].rc));
		if (r->units != m[j].units ||
		    r->free_units + r->package_units + r->payg_units !=
			    r->units ||
		    r->nlines != r->lines_total)
			fail("op %ld.%d: receipt of %" PRId64 " units does not "
			     "add up", i, j, r->units);
	}
	if (die_at == 3)
		raise(SIGKILL);
	return n;
}

/* Every acknowledged key replays its receipt and charges nothing. */
static void replay_all(void)
{
	void *snap[NACC];
	size_t len[NACC];
	int rc;

	for (int k = 0; k < NACC; k++)
		if ((rc = quota_account_snapshot(acc[k], &snap[k], &len[k])))
			die(ctx, "quota_account_snapshot", rc);
	for (size_t x = 0; x < nacks; x++) {
		const ack *a = &acks[x];
		member m;
		quota_usage u;
		quota_receipt r;

		op_member(a->i, a->j, &m);
		u.category = m.cat;
		u.units = m.units;
		u.at = m.at;
		u.key = m.key;
		rc = quota_charge(acc[m.acct], &u, &r);
		if (rc != QUOTA_OK || !r.replayed || r.free_units != a->free_u ||
		    r.package_units != a->pkg_u || r.payg_units != a->payg_u ||
		    r.payg_cost_micros != a->cost)
			fail("acknowledged key %s (account %s): %s, replayed "
			     "%d, free/package/payg/cost %" PRId64 "/%" PRId64
			     "/%" PRId64 "/%" PRId64 ", acknowledged %" PRId64
			     "/%" PRId64 "/%" PRId64 "/%" PRId64,
			     m.key, acct_id[m.acct], quota_err_name(rc),
			     r.replayed, r.free_units, r.package_units,
			     r.payg_units, r.payg_cost_micros, a->free_u,
			     a->pkg_u, a->payg_u, a->cost);
	}
	for (int k = 0; k < NACC; k++) {
		void *s2;
		size_t l2;

		if ((rc = quota_account_snapshot(acc[k], &s2, &l2)))
			die(ctx, "quota_account_snapshot", rc);
		if (l2 != len[k] || memcmp(s2, snap[k], l2))
			fail("account %s changed when its keys were replayed",
			     acct_id[k]);
		quota_free(ctx, s2);
		quota_free(ctx, snap[k]);
	}
}

/* The kill point for op i: at die_op for 3 and 4; 1 and 2 stay armed
 * from die_op on, since an op that replays (or a single charge, for 2)
 * never reaches them. */
static int arm(long i, long die_op, int die_at)
{
	if (die_op < 0 || i < die_op)
		return 0;
	return die_at <= 2 || i == die_op ? die_at : 0;
}

/* ------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	quota_sqlite *db;
	quota_store w = QUOTA_STORE_INIT;
	member m[MAXN];
	quota_op ops[MAXN];
	state s0, s1, e0, e1;
	long next, die_op = -1;
	int die_at = 0, rc;
	const char *inflight = "none", *d;
	double t0, t_open;
	bool verify;
	FILE *log;

	if (argc == 3 && !strcmp(mode, "init")) {
		init_world(argv[2]);
		return 0;
	}
	verify = !strcmp(mode, "verify");
	if (!(argc == 6 || (argc == 8 && !verify)) ||
	    (!verify && strcmp(mode, "run"))) {
		fprintf(stderr, "usage: charger init DB | run DB ACK LOG SEED "
				"[OFF AT] | verify DB ACK LOG SEED\n");
		return 1;
	}
	seed = strtoull(argv[5], NULL, 10);

	/* Recover. */
	t0 = now_ms();
	if ((rc = quota_ctx_new(&ctx)))
		die(NULL, "quota_ctx_new", rc);
	if ((rc = quota_sqlite_open(ctx, argv[2], &db)))
		die(ctx, "quota_sqlite_open", rc);
	t_open = now_ms() - t0;
	quota_sqlite__store(db, &sq);
	w.ud = sq.ud;
	w.append = w_append;
	w.begin = w_begin;
	w.commit = w_commit;
	w.errmsg = w_errmsg;
	if ((rc = quota_ctx_set_store(ctx, &w)))
		die(ctx, "quota_ctx_set_store", rc);
	for (int k = 0; k < NACC; k++)
		if ((rc = quota_account_find(ctx, acct_id[k], &acc[k])))
			die(ctx, "the world (charger init first)", rc);

	/* What was acknowledged; op `next` is in flight. */
	next = ack_load(argv[3]);
	if ((ack_fd = open(argv[3], O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0) {
		perror(argv[3]);
		return 1;
	}
	if (argc == 8) {
		die_op = next + atol(argv[6]);
		die_at = atoi(argv[7]);
	}
	state_take(&s0);
	state_expected(&e0, nacks);

	/* Retry the op in flight: all of it stored, or none. */
	{
		size_t before = nacks;
		int n = run_op(next, arm(next, die_op, die_at), m, ops), nrep = 0;

		for (int j = 0; j < n; j++)
			nrep += ops[j].receipt.replayed;
		if (nrep != 0 && nrep != n)
			fail("op %ld (a batch of %d): %d charges were stored, "
			     "%d not", next, n, nrep, n - nrep);
		inflight = nrep ? "stored" : "absent";
		ack_write(next, n, m, ops);
		if (next == die_op && die_at == 4)
			raise(SIGKILL);
		state_take(&s1);
		state_expected(&e1, nacks);
		if ((d = state_diff(&s1, &e1)))
			fail("after retrying op %ld: %s", next, d);
		if ((d = state_diff(&s0, nrep ? &e1 : &e0)))
			fail("before retrying op %ld (%s when retried): %s",
			     next, inflight, d);
		(void)before;
		next++;
	}
	replay_all();
	if ((log = fopen(argv[4], "a"))) {
		fprintf(log, "life open_ms %.2f check_ms %.2f acked_ops %ld "
			"acked_charges %zu inflight %s\n", t_open,
			now_ms() - t0 - t_open, next, nacks, inflight);
		fclose(log);
	}
	{
		const char *fd = getenv("QUOTA_CRASH_READY_FD");

		if (fd && write(atoi(fd), "r", 1) != 1)
			perror("ready");
	}
	if (verify) {
		quota_sqlite_close(db);
		quota_ctx_free(ctx);
		free(acks);
		return 0;
	}

	/* Charge until killed. */
	for (; next < NOPS; next++) {
		int at = arm(next, die_op, die_at), n;

		if (next % CKPT_EVERY == 0 &&
		    (rc = quota_sqlite_checkpoint(db)))
			die(ctx, "quota_sqlite_checkpoint", rc);
		n = run_op(next, at, m, ops);
		ack_write(next, n, m, ops);
		if (at == 4)
			raise(SIGKILL);
	}
	quota_sqlite_close(db);
	quota_ctx_free(ctx);
	return 0;
}
