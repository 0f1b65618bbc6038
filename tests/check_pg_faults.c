/*
 * check_pg_faults.c - the store-fault sweep (DESIGN §5, STYLE 19) through
 * libquota-pg, against a real server (tests/pg/with-pg.sh).
 *
 * libpq itself is wrapped (the test links the adapter's objects with
 * -Wl,--wrap for the calls that run statements): the N-th statement the
 * adapter runs after the world's setup fails, in one of three ways -
 *   once:     the server refuses it (nothing done), then all is well;
 *   from:     every statement from the N-th on is refused;
 *   stored:   the statement runs, then the connection is lost before the
 *             answer arrives (PQstatus says CONNECTION_BAD until PQreset),
 *             so an autocommit append or a COMMIT is stored but unknown.
 * The workload is journal_world's: every kind of call, with batches
 * (quota_batch through the store's begin and commit) and quota_pg_run.
 * After each run, the accounts an unknown outcome left unsynced are
 * re-synchronised (quota_pg_sync) - no other: an account the adapter
 * never called unknown must already be what the server holds - and
 * memory must equal what the server holds, loaded by a new context, byte
 * for byte; units and money are the same.  Nothing is lost, nothing is
 * applied twice, whatever statement failed.
 *
 * ROLLBACK is never failed: a server that cannot roll back has lost the
 * connection, and the session's end rolls back (the "stored" mode does
 * that).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quota.h"
#include "quota_pg.h"
#include "quota_store.h"
#include "journal_world.h"
#include "snapset.h"
#include "pgtest.h"

/* ------------------------------------------------------- libpq, wrapped */

enum { F_ONCE, F_FROM, F_STORED, F_NMODES };

static struct {
	int armed;
	long calls, fail_at;
	int mode;
	const PGconn *lost; /* "lost" until PQreset */
} fw;

PGresult *__real_PQexec(PGconn *c, const char *q);
PGresult *__real_PQexecPrepared(PGconn *c, const char *name, int n,
				const char *const *v, const int *l,
				const int *f, int rf);
PGresult *__real_PQexecParams(PGconn *c, const char *q, int n,
			      const Oid *t, const char *const *v, const int *l,
			      const int *f, int rf);
ConnStatusType __real_PQstatus(const PGconn *c);
void __real_PQreset(PGconn *c);

PGresult *__wrap_PQexec(PGconn *c, const char *q);
PGresult *__wrap_PQexecPrepared(PGconn *c, const char *name, int n,
				const char *const *v, const int *l,
				const int *f, int rf);
PGresult *__wrap_PQexecParams(PGconn *c, const char *q, int n,
			      const Oid *t, const char *const *v, const int *l,
			      const int *f, int rf);
ConnStatusType __wrap_PQstatus(const PGconn *c);
void __wrap_PQreset(PGconn *c);

static int fw_hit(void)
{
	long k;

	if (!fw.armed)
		return 0;
	k = fw.calls++;
	return fw.fail_at >= 0 &&
	       (k == fw.fail_at || (fw.mode == F_FROM && k > fw.fail_at));
}

/* The failure: a refusal (nothing ran), or, stored, the answer lost. */
static PGresult *fw_fail(PGconn *c, PGresult *ran)
{
	if (fw.mode != F_STORED)
		return PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
	PQclear(ran);
	fw.lost = c;
	return NULL;
}

PGresult *__wrap_PQexec(PGconn *c, const char *q)
{
	if (fw.lost == c)
		return NULL;
	if (strncmp(q, "ROLLBACK", 8) == 0 || !fw_hit())
		return __real_PQexec(c, q);
	return fw_fail(c, fw.mode == F_STORED ? __real_PQexec(c, q) : NULL);
}

PGresult *__wrap_PQexecPrepared(PGconn *c, const char *name, int n,
				const char *const *v, const int *l,
				const int *f, int rf)
{
	if (fw.lost == c)
		return NULL;
	if (!fw_hit())
		return __real_PQexecPrepared(c, name, n, v, l, f, rf);
	return fw_fail(c, fw.mode == F_STORED
				  ? __real_PQexecPrepared(c, name, n, v, l, f,
							  rf)
				  : NULL);
}

PGresult *__wrap_PQexecParams(PGconn *c, const char *q, int n,
			      const Oid *t, const char *const *v, const int *l,
			      const int *f, int rf)
{
	if (fw.lost == c)
		return NULL;
	if (!fw_hit())
		return __real_PQexecParams(c, q, n, t, v, l, f, rf);
	return fw_fail(c, fw.mode == F_STORED
				  ? __real_PQexecParams(c, q, n, t, v, l, f,
							rf)
				  : NULL);
}

ConnStatusType __wrap_PQstatus(const PGconn *c)
{
	return fw.lost == c ? CONNECTION_BAD : __real_PQstatus(c);
}

/* A reset ends the "lost" session for real: the server rolls back what
 * it had open. */
void __wrap_PQreset(PGconn *c)
{
	if (fw.lost == c)
		fw.lost = NULL;
	__real_PQreset(c);
}

/* ---------------------------------------------------------------- runs */

static char conninfo[512];

/* One database for the sweep, emptied before each run (the test's own
 * statements pass the wrapper: it is not armed then).  Commits need not
 * reach the disk here (synchronous_commit off for this database only):
 * the sweep checks outcomes, not fsync. */
static void sweep_db(void)
{
	char q[600];
	const char *db;

	if (conninfo[0])
		return;
	fresh(1, conninfo, sizeof conninfo);
	db = strrchr(conninfo, '='); /* fresh's dbname= comes last */
	snprintf(q, sizeof q, "ALTER DATABASE %s SET synchronous_commit = off",
		 db + 1);
	sql(server(1), q);
}

static void empty_db(void)
{
	sql(conninfo, "DROP TABLE IF EXISTS quota_head, quota_journal, "
		      "quota_snapshot, quota_meta");
}

static quota_ctx *open_pg(quota_pg **pg)
{
	quota_ctx *ctx;
	int rc;

	OK(quota_ctx_new(&ctx));
	rc = quota_pg_open(ctx, conninfo, pg);
	ck_assert_msg(rc == QUOTA_OK, "quota_pg_open: %s: %s",
		      quota_err_name(rc), quota_errmsg(ctx));
	return ctx;
}

/* One call of the workload: a step of the world; every 5th, a batch of
 * four charges through the store's transaction; every 7th, the same
 * through quota_pg_run. */
static void sweep_op(jw_world *w, quota_pg *pg, int i)
{
	/* Accounts of a batch's four charges: one of them three times, so
	 * that the records the adapter keeps back for the commit are
	 * swept too. */
	static const int acct[4] = {0, 1, 0, 0};
	quota_op ops[4];
	char keys[4][16];

	if (i % 5 != 4 && i % 7 != 6) {
		(void)jw_step(w);
		return;
	}
	memset(ops, 0, sizeof ops);
	for (int k = 0; k < 4; k++) {
		snprintf(keys[k], sizeof keys[k], "bt%d-%d", i, k);
		ops[k].kind = QUOTA_OP_CHARGE;
		ops[k].account = w->a[(i + acct[k]) % JW_NACCT];
		ops[k].usage.category = k == 1 ? w->email : w->sms;
		ops[k].usage.units = 1 + k;
		ops[k].usage.at = w->t;
		ops[k].usage.key = k == 2 ? NULL : keys[k];
	}
	if (i % 5 == 4)
		(void)quota_batch(w->ctx, ops, 4);
	else
		(void)quota_pg_run(pg, ops, 4);
}

/* Money and units of every account, summed (conservation). */
static void totals(quota_ctx *ctx, int64_t *units, int64_t *money)
{
	quota_account *a;

	*units = *money = 0;
	for (uint32_t i = 0; (a = quota_ctx_account_at(ctx, i)); i++) {
		quota_money m;

		OK(quota_account_money(a, &m));
		*units += quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					     JW_T0 + 40 * JW_DAY);
		*money += m.balance_micros;
	}
}

/* One run: fail statement fail_at (-1: none) in mode; returns the
 * statements the workload ran.  After it, memory equals the server. */
static long sweep_run(int mode, long fail_at, int nops)
{
	quota_pg *pg, *pg2;
	quota_ctx *ctx, *c2;
	jw_world w;
	snapset live, back;
	quota_account *a, *b;
	const char *d;
	int64_t u1, m1, u2, m2;
	long calls;
	uint32_t ncat_live;

	memset(&fw, 0, sizeof fw); /* nothing "lost" of an earlier run */
	empty_db();
	ctx = open_pg(&pg);
	jw_setup(&w, ctx, 4321);
	fw.fail_at = fail_at;
	fw.mode = mode;
	fw.armed = 1;
	for (int i = 0; i < nops; i++)
		sweep_op(&w, pg, i);
	fw.armed = 0;
	calls = fw.calls;
	/* Re-read the accounts an unknown outcome left unsynced - only
	 * those: every other account must already be what the server
	 * holds (this is the only node), or a refusal was a guess. */
	for (uint32_t i = 0; (a = quota_ctx_account_at(ctx, i)); i++) {
		int rc;

		if (!quota_account_unsynced(a))
			continue;
		rc = quota_pg_sync(pg, a);

		ck_assert_msg(rc == QUOTA_OK, "mode %d, statement %ld: sync "
			      "'%s': %s: %s", mode, fail_at,
			      quota_account_id(a), quota_err_name(rc),
			      quota_errmsg(ctx));
	}
	ncat_live = quota_category_count(ctx);
	c2 = open_pg(&pg2);
	for (uint32_t i = 0; (a = quota_ctx_account_at(ctx, i)); i++)
		OK(quota_pg_account(pg2, quota_account_id(a), 0, &b));
	snaps_take(ctx, &live);
	snaps_take(c2, &back);
	/* A configuration record whose outcome was unknown may be on the
	 * server and not in memory (the configuration stream has no resync
	 * state; quota_pg_sync(pg, NULL) catches it up). */
	if (back.ncat == ncat_live + 1 && mode == F_STORED)
		live.ncat = back.ncat;
	d = snaps_diff(&live, &back);
	ck_assert_msg(d == NULL, "mode %d, statement %ld of the run failed: "
			      "%s",
		      mode, fail_at, d ? d : "");
	totals(ctx, &u1, &m1);
	totals(c2, &u2, &m2);
	ck_assert_msg(u1 == u2 && m1 == m2,
		      "mode %d, statement %ld: units %lld/%lld, money "
		      "%lld/%lld",
		      mode, fail_at, (long long)u1, (long long)u2,
		      (long long)m1, (long long)m2);
	snaps_free(&live);
	snaps_free(&back);
	quota_pg_close(pg2);
	quota_ctx_free(c2);
	quota_pg_close(pg);
	quota_ctx_free(ctx);
	fw.lost = NULL;
	return calls;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* make check runs a bounded sweep; QUOTA_PG_SWEEP_OPS=N runs the first N
 * operations of the world (runs grow as N squared). */
START_TEST(test_pg_store_fault_sweep)
{
	const char *knob = getenv("QUOTA_PG_SWEEP_OPS");
	int nops = knob && atoi(knob) > 0 ? atoi(knob) : 30;
	long ncalls, runs = 0;
	double t0 = now_s();

	sweep_db();
	ncalls = sweep_run(F_ONCE, -1, nops);
	ck_assert_int_gt(ncalls, nops / 2);
	for (int mode = 0; mode < F_NMODES; mode++)
		for (long n = 0; n < ncalls; n++, runs++)
			sweep_run(mode, n, nops);
	printf("check_pg_faults: store-fault sweep: %d operations, %ld "
	       "statements, %ld runs (refused once, refused from then on, "
	       "run but the connection lost), %.1f s\n",
	       nops, ncalls, runs, now_s() - t0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pg_faults");
	TCase *tc = tcase_create("sweep");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_pg_store_fault_sweep);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
