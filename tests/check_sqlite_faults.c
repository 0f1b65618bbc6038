/*
 * check_sqlite_faults.c - libquota-sqlite (lib/sqlite/, quota_sqlite(3))
 * against the real engine, with faults: a failed fsync of the WAL at
 * commit (a shim VFS; QUOTA_EUNKNOWN, resync, a checkpoint that skips an
 * unsynced account), and a store-fault sweep of journal_world's workload
 * (each store call failed in turn: once, from then on, stored but
 * reported failed).
 *
 * Open, recovery and two writers are in check_sqlite.c; files refused,
 * SQLITE_BUSY and SQLITE_FULL in check_sqlite_refused.c; the helpers the
 * three share in support/sqlitetest.h.
 *
 * Every test works in a fresh directory under build/ (or $TMPDIR), removed
 * after it.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_sqlite.h"
#include "quota_sqlite_int.h"
#include "quota_store.h"
#include "journal_world.h"
#include "snapset.h"
#include "testutil.h"
#include "sqlitetest.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------- I/O errors (a shim VFS) */

/*
 * The default VFS wrapped so that a test can fail fsync(2) of the WAL:
 * SQLite then answers the commit with SQLITE_IOERR_FSYNC, whose
 * durability is unknowable.
 */
typedef struct ff_file {
	sqlite3_file base;
	sqlite3_file *real;
	int wal;
} ff_file;

static sqlite3_vfs *ff_orig;
static sqlite3_vfs ff_vfs;
static sqlite3_io_methods ff_io;
static int ff_fail_sync;
static int ff_sync_rc = SQLITE_IOERR_FSYNC; /* what a failed sync says */

#define FF_REAL(f) (((ff_file *)(f))->real)
#define FF_CALL(f, m, ...) FF_REAL(f)->pMethods->m(FF_REAL(f), __VA_ARGS__)

static int ff_close(sqlite3_file *f)
{
	return FF_REAL(f)->pMethods->xClose(FF_REAL(f));
}
static int ff_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return FF_CALL(f, xRead, p, n, off);
}
static int ff_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	return FF_CALL(f, xWrite, p, n, off);
}
static int ff_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return FF_CALL(f, xTruncate, n);
}
static int ff_sync(sqlite3_file *f, int flags)
{
	if (ff_fail_sync && ((ff_file *)f)->wal)
		return ff_sync_rc;
	return FF_CALL(f, xSync, flags);
}
static int ff_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return FF_CALL(f, xFileSize, n);
}
static int ff_lock(sqlite3_file *f, int l)
{
	return FF_CALL(f, xLock, l);
}
static int ff_unlock(sqlite3_file *f, int l)
{
	return FF_CALL(f, xUnlock, l);
}
static int ff_reserved(sqlite3_file *f, int *r)
{
	return FF_CALL(f, xCheckReservedLock, r);
}
static int ff_fcntl(sqlite3_file *f, int op, void *arg)
{
	return FF_CALL(f, xFileControl, op, arg);
}
static int ff_sector(sqlite3_file *f)
{
	return FF_REAL(f)->pMethods->xSectorSize(FF_REAL(f));
}
static int ff_devchar(sqlite3_file *f)
{
	return FF_REAL(f)->pMethods->xDeviceCharacteristics(FF_REAL(f));
}
static int ff_shmmap(sqlite3_file *f, int pg, int sz, int ext,
		     void volatile **pp)
{
	return FF_CALL(f, xShmMap, pg, sz, ext, pp);
}
static int ff_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return FF_CALL(f, xShmLock, off, n, flags);
}
static void ff_shmbarrier(sqlite3_file *f)
{
	FF_REAL(f)->pMethods->xShmBarrier(FF_REAL(f));
}
static int ff_shmunmap(sqlite3_file *f, int del)
{
	return FF_CALL(f, xShmUnmap, del);
}

static int ff_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
		   int flags, int *out)
{
	ff_file *p = (ff_file *)f;
	int rc;

	(void)vfs;
	p->real = (sqlite3_file *)(p + 1);
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = ff_orig->xOpen(ff_orig, name, p->real, flags, out);
	p->base.pMethods = rc == SQLITE_OK && p->real->pMethods ? &ff_io : NULL;
	return rc;
}

static void ff_install(void)
{
	ff_orig = sqlite3_vfs_find(NULL);
	ck_assert_ptr_nonnull(ff_orig);
	ff_vfs = *ff_orig;
	ff_vfs.iVersion = ff_orig->iVersion;
	ff_vfs.szOsFile = (int)sizeof(ff_file) + ff_orig->szOsFile;
	ff_vfs.zName = "quota-fault";
	ff_vfs.pNext = NULL;
	ff_vfs.xOpen = ff_open;
	/* xShmMap and the rest are those of version 2; no mmap (xFetch). */
	ff_io = (sqlite3_io_methods){2, ff_close, ff_read, ff_write,
				     ff_truncate, ff_sync, ff_size, ff_lock,
				     ff_unlock, ff_reserved, ff_fcntl,
				     ff_sector, ff_devchar, ff_shmmap,
				     ff_shmlock, ff_shmbarrier, ff_shmunmap,
				     NULL, NULL};
	ck_assert_int_eq(sqlite3_vfs_register(&ff_vfs, 1), SQLITE_OK);
}

static void ff_remove(void)
{
	sqlite3_vfs_unregister(&ff_vfs);
	sqlite3_vfs_register(ff_orig, 1);
}

/* A failed fsync at commit: QUOTA_EUNKNOWN, the store refuses writes
 * until resync reopens the connection; then memory equals the file.
 * _i odd: the failing commit is a batch's; _i 2, 3: the sync fails with
 * SQLITE_NOMEM, after the commit frame is written. */
START_TEST(test_ioerr_unknown)
{
	const char *path = path_of("ioerr.db");
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_account *a, *b;
	uint32_t sms;
	int rc;

	ff_install();
	ctx = open_db(path, true, &db);
	a = small_world(ctx, &sms);
	OK(quota_account_new(ctx, "bolt", &b));
	OK(charge(a, sms, 1, JW_T0, "k0"));
	/* _i 2, 3: the commit frame is written and its sync says out of
	 * memory: not an I/O error, yet not a refusal either. */
	ff_sync_rc = _i >= 2 ? SQLITE_NOMEM : SQLITE_IOERR_FSYNC;
	ff_fail_sync = 1;
	if ((_i & 1) == 0) {
		rc = charge(a, sms, 2, JW_T0 + 1, "k1");
	} else {
		quota_op ops[2];

		memset(ops, 0, sizeof ops);
		for (int k = 0; k < 2; k++) {
			ops[k].kind = QUOTA_OP_CHARGE;
			ops[k].account = a;
			ops[k].usage.category = sms;
			ops[k].usage.units = 2;
			ops[k].usage.at = JW_T0 + 1;
		}
		ops[0].usage.key = "k1";
		rc = quota_batch(ctx, ops, 2);
	}
	ff_fail_sync = 0;
	ck_assert_msg(rc == QUOTA_EUNKNOWN, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_msg(strstr(quota_errmsg(ctx), _i >= 2 ? "out of memory"
							: "I/O") != NULL,
		      "%s", quota_errmsg(ctx));
	ck_assert_int_eq(charge(a, sms, 1, JW_T0 + 2, NULL), QUOTA_EUNSYNCED);
	rc = quota_account_topup(b, 100, JW_T0 + 2);
	ck_assert_msg(rc == QUOTA_ESTORE, "%s", quota_err_name(rc));
	OK(quota_sqlite_resync(db, a));
	OK(charge(a, sms, 1, JW_T0 + 3, NULL));
	OK(quota_account_topup(b, 100, JW_T0 + 3));
	ck_assert_ptr_null(same_as_file(ctx, path));
	close_db(ctx, db);
	ff_remove();
}
END_TEST

/*
 * A failed fsync on a configuration record (_i 0) or on the creation of
 * a context's first account (_i 1): QUOTA_EUNKNOWN, and every write is
 * refused until a resync - of no account: quota_sqlite_resync(db, NULL)
 * reopens the connection and reads what the file holds and the context
 * does not (the category or the account, if the commit reached the
 * file).  Then work goes on and memory equals the file.
 */
START_TEST(test_unknown_resync_null)
{
	const char *path = path_of("cfgunknown.db");
	char why[512];
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_account *a;
	quota_tariff *t;
	uint32_t sms = 0;
	int rc;

	ff_install();
	ctx = open_db(path, true, &db);
	if (_i == 1) {
		OK(quota_category_add(ctx, "sms", &sms));
		OK(quota_tariff_new(ctx, "std", &t));
		OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	}
	ff_sync_rc = SQLITE_IOERR_FSYNC;
	ff_fail_sync = 1;
	rc = _i == 0 ? quota_category_add(ctx, "sms", &sms)
		     : quota_account_new(ctx, "acme", &a);
	ff_fail_sync = 0;
	ck_assert_msg(rc == QUOTA_EUNKNOWN, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	rc = quota_category_add(ctx, "push", &sms);
	ck_assert_msg(rc == QUOTA_ESTORE, "%s", quota_err_name(rc));
	snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
	OK(quota_sqlite_resync(db, NULL));
	ck_assert_msg(strstr(why, "NULL") != NULL, "%s", why);
	/* What the file holds of the unknown record is what ctx holds. */
	ck_assert_ptr_null(same_as_file(ctx, path));
	if (_i == 0) {
		if (quota_category_find(ctx, "sms", &sms) != QUOTA_OK)
			OK(quota_category_add(ctx, "sms", &sms));
		OK(quota_tariff_new(ctx, "std", &t));
		OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	}
	if (quota_account_find(ctx, "acme", &a) != QUOTA_OK)
		OK(quota_account_new(ctx, "acme", &a));
	OK(quota_account_set_tariff(a, sms, t));
	OK(quota_account_topup(a, 1000000, JW_T0));
	OK(charge(a, sms, 2, JW_T0 + 1, "k1"));
	OK(quota_sqlite_checkpoint(db));
	ck_assert_ptr_null(same_as_file(ctx, path));
	close_db(ctx, db);
	ctx = open_db(path, false, &db);
	OK(quota_tariff_find(ctx, "std", &t));
	OK(quota_account_find(ctx, "acme", &a));
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_MONTH,
					    JW_T0 + 2),
			 2);
	close_db(ctx, db);
	ff_remove();
}
END_TEST

/*
 * §5, never guess: a batch over two accounts whose commit outcome is
 * unknown leaves both holding its changes, unsynced.  After only one is
 * re-read, a checkpoint must not store the other's unconfirmed state as
 * its snapshot (quota_account_snapshot refuses it; the checkpoint skips
 * it); re-read later, that account holds what the file holds.
 */
START_TEST(test_checkpoint_skips_unsynced)
{
	const char *path = path_of("unsynced.db");
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_account *a, *b;
	quota_tariff *t;
	quota_op ops[2];
	uint32_t sms;
	int64_t truth;
	int k;

	ff_install();
	ctx = open_db(path, true, &db);
	a = small_world(ctx, &sms);
	OK(quota_tariff_find(ctx, "std", &t));
	OK(quota_account_new(ctx, "bolt", &b));
	OK(quota_account_set_tariff(b, sms, t));
	OK(charge(a, sms, 1, JW_T0, "k0"));
	OK(charge(b, sms, 1, JW_T0, "k0"));
	memset(ops, 0, sizeof ops);
	for (k = 0; k < 2; k++) {
		ops[k].kind = QUOTA_OP_CHARGE;
		ops[k].account = k ? b : a;
		ops[k].usage.category = sms;
		ops[k].usage.units = 7;
		ops[k].usage.at = JW_T0 + 1;
	}
	ff_sync_rc = SQLITE_IOERR_FSYNC;
	ff_fail_sync = 1;
	ck_assert_int_eq(quota_batch(ctx, ops, 2), QUOTA_EUNKNOWN);
	ff_fail_sync = 0;
	OK(quota_sqlite_resync(db, a));
	ck_assert_int_eq(charge(b, sms, 1, JW_T0 + 2, NULL), QUOTA_EUNSYNCED);
	/* What the file holds of the batch is what a now holds. */
	truth = quota_account_used(a, sms, QUOTA_PERIOD_MONTH, JW_T0 + 2);
	OK(quota_sqlite_checkpoint(db));
	OK(quota_sqlite_resync(db, b));
	ck_assert_int_eq(quota_account_used(b, sms, QUOTA_PERIOD_MONTH,
					    JW_T0 + 2),
			 truth);
	ck_assert_ptr_null(same_as_file(ctx, path));
	close_db(ctx, db);
	ff_remove();
}
END_TEST

/* ------------------------------------------------- store-fault sweep */

/*
 * The SQLite store under a wrapper that fails its N-th call (append,
 * begin or commit, counted from 0 after the world's setup): once, from
 * then on, or "stored but reported failed" (SQLite's append or commit
 * runs, then the wrapper says QUOTA_EUNKNOWN).  A failed commit rolls
 * SQLite's transaction back, as a refused commit leaves nothing.
 */
enum { F_ONCE, F_FROM, F_STORED, F_NMODES };

typedef struct fwrap {
	quota_store in;
	sqlite3 *h;
	long calls, fail_at;
	int mode;
	int cfg_unknown; /* a configuration record's outcome was unknown */
} fwrap;

static int fw_hit(fwrap *f)
{
	long c = f->calls++;

	return f->fail_at >= 0 &&
	       (c == f->fail_at || (f->mode == F_FROM && c > f->fail_at));
}

static int fw_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	fwrap *f = ud;
	int rc;

	if (!fw_hit(f))
		return f->in.append(f->in.ud, account, seq, rec, len);
	if (f->mode != F_STORED)
		return QUOTA_ESTORE;
	rc = f->in.append(f->in.ud, account, seq, rec, len);
	if (rc == QUOTA_OK && !account)
		f->cfg_unknown = 1;
	return rc == QUOTA_OK ? QUOTA_EUNKNOWN : rc;
}

static int fw_begin(void *ud)
{
	fwrap *f = ud;

	return fw_hit(f) ? QUOTA_ESTORE : f->in.begin(f->in.ud);
}

static int fw_commit(void *ud)
{
	fwrap *f = ud;
	int rc;

	if (!fw_hit(f))
		return f->in.commit(f->in.ud);
	if (f->mode == F_STORED) {
		rc = f->in.commit(f->in.ud);
		return rc == QUOTA_OK ? QUOTA_EUNKNOWN : rc;
	}
	sqlite3_exec(f->h, "ROLLBACK", NULL, NULL, NULL);
	(void)f->in.commit(f->in.ud); /* no transaction: resets the store */
	return QUOTA_ESTORE;
}

static const char *fw_errmsg(void *ud)
{
	fwrap *f = ud;

	return f->in.errmsg(f->in.ud);
}

/* One call of the workload: a step of the world, or every 5th a batch of
 * charges (begin and commit too). */
static void sweep_op(jw_world *w, int i)
{
	quota_op ops[3];
	char keys[3][16];

	if (i % 5 != 4) {
		(void)jw_step(w);
		return;
	}
	memset(ops, 0, sizeof ops);
	for (int k = 0; k < 3; k++) {
		snprintf(keys[k], sizeof keys[k], "bt%d-%d", i, k);
		ops[k].kind = QUOTA_OP_CHARGE;
		ops[k].account = w->a[(i + k) % JW_NACCT];
		ops[k].usage.category = k == 1 ? w->email : w->sms;
		ops[k].usage.units = 1 + k;
		ops[k].usage.at = w->t;
		ops[k].usage.key = k == 2 ? NULL : keys[k];
	}
	(void)quota_batch(w->ctx, ops, 3);
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

/* One run: fail call fail_at (-1: none) in mode; returns the calls made.
 * After it, memory equals the file (every account re-synchronised from
 * it first when an outcome was unknown). */
static long sweep_run(int mode, long fail_at, int nops)
{
	const char *path = path_of("sweep.db");
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_store st = QUOTA_STORE_INIT;
	fwrap f;
	jw_world w;
	snapset live, back;
	quota_sqlite *db2;
	quota_ctx *c2;
	quota_account *a;
	const char *d;
	int64_t u1, m1, u2, m2;

	unlink(path);
	ctx = open_db(path, false, &db);
	jw_setup(&w, ctx, 1234);
	memset(&f, 0, sizeof f);
	quota_sqlite__store(db, &f.in);
	f.h = quota_sqlite__handle(db);
	f.fail_at = fail_at;
	f.mode = mode;
	st.ud = &f;
	st.append = fw_append;
	st.begin = fw_begin;
	st.commit = fw_commit;
	st.errmsg = fw_errmsg;
	OK(quota_ctx_set_store(ctx, &st));
	for (int i = 0; i < nops; i++)
		sweep_op(&w, i);
	/* Unknown outcomes: every account back to what the file holds. */
	if (mode == F_STORED)
		for (uint32_t i = 0; (a = quota_ctx_account_at(ctx, i)); i++) {
			int rc = quota_sqlite_resync(db, a);

			ck_assert_msg(rc == QUOTA_OK, "resync: %s: %s",
				      quota_err_name(rc), quota_errmsg(ctx));
		}
	c2 = open_db(path, false, &db2);
	snaps_take(ctx, &live);
	snaps_take(c2, &back);
	if (f.cfg_unknown) { /* memory lacks that one category record */
		ck_assert_uint_le(back.ncat, live.ncat + 1);
		live.ncat = back.ncat;
	}
	d = snaps_diff(&live, &back);
	ck_assert_msg(d == NULL, "mode %d, call %ld of the run failed: %s",
		      mode, fail_at, d ? d : "");
	totals(ctx, &u1, &m1);
	totals(c2, &u2, &m2);
	ck_assert_msg(u1 == u2 && m1 == m2, "units %lld/%lld, money %lld/%lld",
		      (long long)u1, (long long)u2, (long long)m1,
		      (long long)m2);
	snaps_free(&live);
	snaps_free(&back);
	close_db(c2, db2);
	close_db(ctx, db);
	return f.calls;
}

/* make check runs a bounded sweep; QUOTA_SQLITE_SWEEP_OPS=N runs the
 * first N operations of the world (runs grow as N squared). */
START_TEST(test_store_fault_sweep)
{
	const char *knob = getenv("QUOTA_SQLITE_SWEEP_OPS");
	int nops = knob && atoi(knob) > 0 ? atoi(knob) : tu_quick() ? 12 : 100;
	long ncalls = sweep_run(F_ONCE, -1, nops), runs = 0;
	double t0 = now_s();

	ck_assert_int_gt(ncalls, nops / 2);
	for (int mode = 0; mode < F_NMODES; mode++)
		for (long n = 0; n < ncalls; n++, runs++)
			sweep_run(mode, n, nops);
	printf("check_sqlite: store-fault sweep: %d operations, %ld store "
	       "calls, %ld runs (once, from then on, stored but reported "
	       "failed), %.1f s\n",
	       nops, ncalls, runs, now_s() - t0);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *sqlite_suite(void)
{
	Suite *s = suite_create("sqlite_faults");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_checkpoint_skips_unsynced);
	tcase_add_loop_test(tc, test_ioerr_unknown, 0, 4);
	tcase_add_loop_test(tc, test_unknown_resync_null, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("sweep");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_store_fault_sweep);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(sqlite_suite());
}
