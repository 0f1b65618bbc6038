/*
 * check_sqlite.c - libquota-sqlite (lib/sqlite/, quota_sqlite(3)) against
 * the real engine: recovery equals the state before close, byte for byte;
 * configuration first; idempotency across restarts; a batch recovered;
 * two writers; an account loaded from elsewhere; no WAL, no open.
 *
 * Files that are not ours, SQLITE_BUSY and SQLITE_FULL are in
 * check_sqlite_refused.c; I/O errors (a shim VFS) and the store-fault
 * sweep of journal_world's workload in check_sqlite_faults.c; the helpers
 * the three share in support/sqlitetest.h.
 *
 * Every test works in a fresh directory under build/ (or $TMPDIR), removed
 * after it.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_sqlite.h"
#include "quota_sqlite_int.h"
#include "journal_world.h"
#include "snapset.h"
#include "testutil.h"
#include "sqlitetest.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --------------------------------------------------- open and recover */

/*
 * The journal world (configuration, three accounts in every kind of
 * state, then random calls of every kind, configuration among them) kept
 * in a file; reopened, every account's snapshot equals the one before
 * close.  v: 0 no checkpoint, 1 a checkpoint half way, 2 one at the end,
 * 3 checkpoints at both and calls after.
 */
static void world_roundtrip(int v, int steps)
{
	const char *path = path_of("world.db");
	snapset before, after;
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, false, &db);
	jw_world w;
	const char *d;

	jw_setup(&w, ctx, 42 + (uint64_t)v);
	for (int i = 0; i < steps; i++) {
		(void)jw_step(&w);
		if (i == steps / 2 && (v == 1 || v == 3))
			OK(quota_sqlite_checkpoint(db));
	}
	if (v >= 2)
		OK(quota_sqlite_checkpoint(db));
	for (int i = 0; v == 3 && i < 20; i++)
		(void)jw_step(&w);
	snaps_take(ctx, &before);
	close_db(ctx, db);

	ctx = open_db(path, false, &db);
	snaps_take(ctx, &after);
	d = snaps_diff(&before, &after);
	ck_assert_msg(d == NULL, "variant %d: %s", v, d ? d : "");
	/* It goes on: a charge, recovered again. */
	{
		quota_account *a;
		quota_receipt r;
		uint32_t sms;
		quota_usage u = {0, 1, JW_T0 + 400 * JW_DAY, NULL};

		OK(quota_category_find(ctx, "sms", &sms));
		OK(quota_account_find(ctx, "acme", &a));
		u.category = sms;
		(void)quota_charge(a, &u, &r);
		d = same_as_file(ctx, path);
		ck_assert_msg(d == NULL, "variant %d, after: %s", v, d ? d : "");
	}
	snaps_free(&before);
	snaps_free(&after);
	close_db(ctx, db);
}

START_TEST(test_recover_after_close)
{
	world_roundtrip(_i, tu_quick() ? 60 : 300);
}
END_TEST

/* A new file: the pragmas we promise, an empty context stays empty. */
START_TEST(test_open_create)
{
	const char *path = path_of("new.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, true, &db);
	sqlite3 *h = quota_sqlite__handle(db);
	sqlite3_stmt *s;
	const char *q[] = {"PRAGMA application_id", "PRAGMA user_version",
			   "PRAGMA journal_mode", "PRAGMA synchronous"};
	const char *want[] = {"1364545364", "1", "wal", "2"};

	ck_assert_uint_eq(quota_ctx_account_count(ctx), 0);
	ck_assert_uint_eq(quota_category_count(ctx), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(sqlite3_prepare_v2(h, q[i], -1, &s, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 0),
				 want[i]);
		sqlite3_finalize(s);
	}
	close_db(ctx, db);
	/* And again: nothing in it, nothing recovered. */
	ctx = open_db(path, false, &db);
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 0);
	close_db(ctx, db);
}
END_TEST

/* Configuration first: categories and tariffs made after accounts were
 * busy are there before the accounts that use them. */
START_TEST(test_config_first)
{
	const char *path = path_of("cfg.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, true, &db);
	quota_tariff *t, *t2;
	quota_account *a;
	quota_receipt r;
	uint32_t sms, push;
	snapset before, after;

	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_tariff_new(ctx, "std", &t));
	OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	OK(quota_account_new(ctx, "acme", &a));
	OK(quota_account_set_tariff(a, sms, t));
	{
		quota_usage u = {sms, 3, JW_T0, "m1"};

		OK(quota_charge(a, &u, &r));
	}
	OK(quota_category_add(ctx, "push", &push));
	OK(quota_tariff_new(ctx, "push-payg", &t2));
	OK(quota_tariff_add_tier(t2, QUOTA_UNLIMITED, 100));
	OK(quota_account_set_tariff(a, push, t2));
	{
		quota_usage u = {push, 7, JW_T0 + 60, "p1"};

		OK(quota_charge(a, &u, &r));
	}
	OK(quota_sqlite_checkpoint(db));
	snaps_take(ctx, &before);
	close_db(ctx, db);
	ctx = open_db(path, false, &db);
	snaps_take(ctx, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "%s",
		      snaps_diff(&before, &after));
	ck_assert_int_eq(quota_category_find(ctx, "push", &push), QUOTA_OK);
	ck_assert_int_eq(push, 1);
	ck_assert_int_eq(quota_tariff_find(ctx, "push-payg", &t2), QUOTA_OK);
	snaps_free(&before);
	snaps_free(&after);
	close_db(ctx, db);
}
END_TEST

/* A keyed charge retried after a restart replays its receipt and charges
 * nothing twice: the key window lives in snapshots and records. */
START_TEST(test_key_across_restart)
{
	const char *path = path_of("keys.db");
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r1, r2;
	uint32_t sms;
	snapset before, after;

	for (int ck = 0; ck < 2; ck++) {
		quota_usage u = {0, 4, JW_T0 + 10, "msg-1"};

		unlink(path);
		ctx = open_db(path, false, &db);
		OK(quota_category_add(ctx, "sms", &sms));
		OK(quota_tariff_new(ctx, "std", &t));
		OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
		OK(quota_account_new(ctx, "acme", &a));
		OK(quota_account_set_tariff(a, sms, t));
		OK(quota_account_set_key_window(a, 100, 30 * JW_DAY));
		u.category = sms;
		OK(quota_charge(a, &u, &r1));
		ck_assert_int_eq(r1.replayed, 0);
		if (ck)
			OK(quota_sqlite_checkpoint(db));
		close_db(ctx, db);

		ctx = open_db(path, false, &db);
		OK(quota_account_find(ctx, "acme", &a));
		snaps_take(ctx, &before);
		OK(quota_charge(a, &u, &r2));
		ck_assert_int_eq(r2.replayed, 1);
		ck_assert_int_eq(r2.payg_cost_micros, r1.payg_cost_micros);
		snaps_take(ctx, &after);
		ck_assert_msg(!snaps_diff(&before, &after), "charged twice");
		ck_assert_ptr_null(same_as_file(ctx, path));
		snaps_free(&before);
		snaps_free(&after);
		close_db(ctx, db);
	}
}
END_TEST

/* ---------------------------------------------------------- conflicts */

/* Two contexts on one file: the second writer of a sequence number gets
 * QUOTA_ECONFLICT and nothing changes; after resync its retry works. */
START_TEST(test_conflict)
{
	const char *path = path_of("two.db");
	quota_sqlite *da, *db;
	quota_ctx *ca = open_db(path, false, &da), *cb;
	quota_account *a, *b;
	uint32_t sms;
	snapset before, after, fa, fb;

	a = small_world(ca, &sms);
	OK(charge(a, sms, 2, JW_T0 + 10, "k1"));
	cb = open_db(path, false, &db);
	OK(quota_account_find(cb, "acme", &b));

	OK(charge(a, sms, 3, JW_T0 + 20, "k2")); /* A takes the next seq */
	snaps_take(cb, &before);
	ck_assert_int_eq(charge(b, sms, 5, JW_T0 + 30, "k3"), QUOTA_ECONFLICT);
	ck_assert_msg(strstr(quota_errmsg(cb), "UNIQUE") != NULL, "%s",
		      quota_errmsg(cb));
	snaps_take(cb, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "B changed");
	ck_assert_ptr_null(same_as_file(ca, path)); /* the file is A's */

	OK(quota_sqlite_resync(db, b));
	ck_assert_ptr_null(same_as_file(cb, path));
	OK(charge(b, sms, 5, JW_T0 + 30, "k3"));
	/* Now A is behind: its write conflicts, resync, retry. */
	ck_assert_int_eq(charge(a, sms, 1, JW_T0 + 40, "k4"), QUOTA_ECONFLICT);
	OK(quota_sqlite_resync(da, a));
	OK(charge(a, sms, 1, JW_T0 + 40, "k4"));
	OK(quota_sqlite_resync(db, b));
	snaps_take(ca, &fa);
	snaps_take(cb, &fb);
	ck_assert_msg(!snaps_diff(&fa, &fb), "%s", snaps_diff(&fa, &fb));
	ck_assert_ptr_null(same_as_file(ca, path));
	/* A checkpoint of the one behind keeps the newer snapshot. */
	OK(charge(a, sms, 1, JW_T0 + 50, "k5"));
	OK(quota_sqlite_checkpoint(da));
	OK(quota_sqlite_checkpoint(db)); /* B is one record behind */
	ck_assert_ptr_null(same_as_file(ca, path));
	snaps_free(&before);
	snaps_free(&after);
	snaps_free(&fa);
	snaps_free(&fb);
	close_db(cb, db);
	close_db(ca, da);
}
END_TEST

/* A checkpoint deletes the records its snapshot covers; a stale writer
 * of one of those sequence numbers is still refused, not stored under
 * the snapshot where recovery would never read it. */
START_TEST(test_conflict_after_checkpoint)
{
	const char *path = path_of("ckpt.db");
	quota_sqlite *da, *db;
	quota_ctx *ca = open_db(path, false, &da), *cb;
	quota_account *a, *b;
	uint32_t sms;
	snapset before, after;

	a = small_world(ca, &sms);
	cb = open_db(path, false, &db);
	OK(quota_account_find(cb, "acme", &b));

	OK(charge(a, sms, 3, JW_T0 + 10, "ka")); /* A takes the next seq */
	OK(quota_sqlite_checkpoint(da));         /* ... and deletes it */
	snaps_take(cb, &before);
	ck_assert_int_eq(charge(b, sms, 5, JW_T0 + 20, "kb"), QUOTA_ECONFLICT);
	/* So is a batch of two (its first record is the one checked). */
	{
		quota_op ops[2];
		int brc;

		memset(ops, 0, sizeof ops);
		for (int k = 0; k < 2; k++) {
			ops[k].kind = QUOTA_OP_CHARGE;
			ops[k].account = b;
			ops[k].usage.category = sms;
			ops[k].usage.units = 5;
			ops[k].usage.at = JW_T0 + 20;
		}
		brc = quota_batch(cb, ops, 2);
		ck_assert_msg(brc == QUOTA_ECONFLICT ||
				      ops[0].rc == QUOTA_ECONFLICT,
			      "batch %s, first op %s", quota_err_name(brc),
			      quota_err_name(ops[0].rc));
	}
	snaps_take(cb, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "B changed");
	ck_assert_ptr_null(same_as_file(ca, path)); /* the file is A's */

	OK(quota_sqlite_resync(db, b));
	ck_assert_int_eq(quota_account_used(b, sms, QUOTA_PERIOD_MONTH,
					    JW_T0 + 100), 3);
	OK(charge(b, sms, 5, JW_T0 + 20, "kb"));
	ck_assert_ptr_null(same_as_file(cb, path));
	snaps_free(&before);
	snaps_free(&after);
	close_db(cb, db);
	close_db(ca, da);

	ca = open_db(path, false, &da);
	OK(quota_account_find(ca, "acme", &a));
	ck_assert_int_eq(quota_account_used(a, sms, QUOTA_PERIOD_MONTH,
					    JW_T0 + 100), 8);
	close_db(ca, da);
}
END_TEST

/* An account quota_account_load brings into a store-backed context has
 * numbers that do not start at 1: its first write lists it all the same,
 * so recovery reads it back.  A file whose records or snapshot name an
 * account it does not list is refused, not read without them. */
START_TEST(test_loaded_account)
{
	const char *path = path_of("loaded.db");
	quota_sqlite *db;
	quota_ctx *o, *ctx;
	quota_account *x, *m;
	quota_tariff *t;
	uint32_t sms;
	void *snap;
	size_t n;
	int rc;

	/* The account elsewhere, with no store. */
	OK(quota_ctx_new(&o));
	x = small_world(o, &sms);
	OK(charge(x, sms, 2, JW_T0 + 1, "k1"));
	OK(quota_account_snapshot(x, &snap, &n));

	ctx = open_db(path, false, &db);
	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_tariff_new(ctx, "std", &t));
	OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	OK(quota_account_load(ctx, snap, n, &m));
	quota_free(o, snap);
	quota_ctx_free(o);
	OK(charge(m, sms, 5, JW_T0 + 2, "k2"));
	OK(charge(m, sms, 1, JW_T0 + 3, "k3"));
	close_db(ctx, db);

	ctx = open_db(path, false, &db);
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 1);
	OK(quota_account_find(ctx, "acme", &m));
	ck_assert_int_eq(quota_account_used(m, sms, QUOTA_PERIOD_MONTH,
					    JW_T0 + 10), 8);
	OK(charge(m, sms, 1, JW_T0 + 4, "k4"));
	OK(quota_sqlite_checkpoint(db));
	ck_assert_ptr_null(same_as_file(ctx, path));

	/* Take the account off the list: the file is refused. */
	ck_assert_int_eq(sqlite3_exec(quota_sqlite__handle(db),
				      "DELETE FROM accounts", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	close_db(ctx, db);
	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, path, &db);
	ck_assert_msg(rc == QUOTA_ECORRUPT, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_msg(strstr(quota_errmsg(ctx), "acme") != NULL, "%s",
		      quota_errmsg(ctx));
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 0);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * An account quota_account_load brought in and checkpointed before it
 * wrote anything is listed and stored by the checkpoint, and found after
 * a restart with the same snapshot bytes (quota_sqlite(3)).  _i 0: it
 * comes from another store (numbered 5); _i 1: from a context without a
 * store, numbered 0, which the checkpoint used to skip.
 */
START_TEST(test_loaded_checkpoint)
{
	const char *path = path_of("ckload.db");
	quota_sqlite *db, *dbo = NULL;
	quota_ctx *o, *ctx;
	quota_account *x, *m, *b;
	quota_tariff *t;
	uint32_t sms;
	void *snap, *back;
	size_t n, nb;
	int rc;

	if (_i == 0) {
		o = open_db(path_of("other.db"), false, &dbo);
	} else {
		OK(quota_ctx_new(&o));
		/* journaled runs give every context a store: not this one */
		OK(quota_ctx_set_store(o, NULL));
	}
	x = small_world(o, &sms);
	OK(charge(x, sms, 2, JW_T0 + 1, "k1"));
	ck_assert_uint_eq(quota_account_seq(x), _i == 0 ? 5 : 0);
	OK(quota_account_snapshot(x, &snap, &n));

	ctx = open_db(path, false, &db);
	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_tariff_new(ctx, "std", &t));
	OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	OK(quota_account_new(ctx, "bolt", &b));
	OK(quota_account_load(ctx, snap, n, &m));
	OK(quota_sqlite_checkpoint(db));
	close_db(ctx, db);

	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, path, &db);
	ck_assert_msg(rc == QUOTA_OK, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 2);
	OK(quota_account_find(ctx, "acme", &m));
	OK(quota_account_snapshot(m, &back, &nb));
	ck_assert_msg(nb == n && memcmp(back, snap, n) == 0,
		      "the snapshot read back differs");
	quota_free(ctx, back);
	/* It goes on from there, and is read back again. */
	OK(charge(m, sms, 3, JW_T0 + 2, "k2"));
	ck_assert_ptr_null(same_as_file(ctx, path));
	close_db(ctx, db);
	quota_free(o, snap);
	if (dbo)
		close_db(o, dbo);
	else
		quota_ctx_free(o);
}
END_TEST

/* The store runs in WAL mode or not at all: SQLite keeps an in-memory
 * database in its own mode without an error, and the open is refused.
 * A resync after an I/O error reopens the file but never makes a new one
 * where it was removed. */
START_TEST(test_no_wal_no_create)
{
	const char *path = path_of("gone.db");
	char side[1100];
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_account *a;
	uint32_t sms;
	struct stat sb;
	int rc;

	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, ":memory:", &db);
	ck_assert_msg(rc == QUOTA_ESTORE, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_msg(strstr(quota_errmsg(ctx), "WAL") != NULL, "%s",
		      quota_errmsg(ctx));
	ck_assert_ptr_null(db);
	quota_ctx_free(ctx);

	ctx = open_db(path, false, &db);
	a = small_world(ctx, &sms);
	OK(charge(a, sms, 1, JW_T0 + 1, "k1"));
	ck_assert_int_eq(unlink(path), 0);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	db->broken = true; /* as after an I/O error */
	ck_assert_int_eq(quota_sqlite_resync(db, a), QUOTA_ESTORE);
	ck_assert_int_ne(stat(path, &sb), 0);
	close_db(ctx, db);
	ck_assert_int_ne(stat(path, &sb), 0);
}
END_TEST

/* Open refuses a context that already holds something. */
START_TEST(test_open_einval)
{
	quota_sqlite *db = (quota_sqlite *)1;
	quota_ctx *ctx;
	uint32_t c;
	quota_sqlite_options o = QUOTA_SQLITE_OPTIONS_INIT;

	OK(quota_ctx_new(&ctx));
	o.synchronous = 7;
	ck_assert_int_eq(quota_sqlite_open_with(ctx, path_of("x.db"), &o, &db),
			 QUOTA_EINVAL);
	ck_assert_ptr_null(db);
	OK(quota_category_add(ctx, "sms", &c));
	ck_assert_int_eq(quota_sqlite_open(ctx, path_of("x.db"), &db),
			 QUOTA_EINVAL);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(quota_sqlite_open(NULL, path_of("x.db"), &db),
			 QUOTA_EINVAL);
	ck_assert_int_eq(access(path_of("x.db"), F_OK), -1);
	quota_sqlite_close(NULL);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * A context whose configuration came from another store (a tariff only:
 * no category, no account) is refused before anything is written: its
 * tariff is not in the new file, whose recovery would then fail on the
 * first record that names it.
 */
START_TEST(test_open_config_elsewhere)
{
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path_of("first.db"), false, &db);
	quota_tariff *t;
	int rc;

	OK(quota_tariff_new(ctx, "std", &t));
	OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	quota_sqlite_close(db);
	ck_assert_uint_eq(quota_ctx_config_seq(ctx), 2);
	db = (quota_sqlite *)1;
	rc = quota_sqlite_open(ctx, path_of("second.db"), &db);
	ck_assert_msg(rc == QUOTA_EINVAL, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(quota_errmsg(ctx), "configuration") != NULL,
		      "%s", quota_errmsg(ctx));
	ck_assert_int_eq(access(path_of("second.db"), F_OK), -1);
	quota_ctx_free(ctx);

	/* a tariff made with no store (in no journal): refused too (it was
	 * taken, and the file then failed to open: "no tariff 'std'") */
	OK(quota_ctx_new(&ctx));
	OK(quota_ctx_set_store(ctx, NULL));
	OK(quota_tariff_new(ctx, "std", &t));
	ck_assert_uint_eq(quota_ctx_config_unstored(ctx), 1);
	db = (quota_sqlite *)1;
	rc = quota_sqlite_open(ctx, path_of("second.db"), &db);
	ck_assert_msg(rc == QUOTA_EINVAL, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(db);
	ck_assert_int_eq(access(path_of("second.db"), F_OK), -1);
	quota_ctx_free(ctx);
}
END_TEST

/* quota_sqlite_resync(db, NULL) reads the accounts another writer made,
 * and not one this handle knew and the host took out with
 * quota_account_remove (an evicted cold account, or one moved to
 * another context), which stays out. */
START_TEST(test_resync_null_leaves_removed_accounts_out)
{
	const char *path = path_of("removed.db");
	quota_sqlite *db, *db2;
	quota_ctx *ctx = open_db(path, false, &db), *ctx2;
	quota_account *b, *c;
	uint32_t sms, n;

	small_world(ctx, &sms);
	OK(quota_account_new(ctx, "bob", &b));
	OK(quota_account_remove(b));
	n = quota_ctx_account_count(ctx);
	ctx2 = open_db(path, false, &db2);
	OK(quota_account_new(ctx2, "carol", &c));
	close_db(ctx2, db2);
	OK(quota_sqlite_resync(db, NULL));
	ck_assert_int_eq(quota_account_find(ctx, "carol", &c), QUOTA_OK);
	ck_assert_int_eq(quota_account_find(ctx, "bob", &b), QUOTA_ENOTFOUND);
	ck_assert_uint_eq(quota_ctx_account_count(ctx), n + 1);
	close_db(ctx, db);
}
END_TEST

/* ------------------------------------------------------ batches */

START_TEST(test_batch_recover)
{
	const char *path = path_of("batch.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, true, &db);
	uint32_t sms;
	quota_account *a = small_world(ctx, &sms);
	quota_op ops[1000];
	char keys[1000][16];
	snapset before, after;

	memset(ops, 0, sizeof ops);
	for (int k = 0; k < 1000; k++) {
		snprintf(keys[k], sizeof keys[k], "b%d", k);
		ops[k].kind = QUOTA_OP_CHARGE;
		ops[k].account = a;
		ops[k].usage.category = sms;
		ops[k].usage.units = 1 + k % 3;
		ops[k].usage.at = JW_T0 + k;
		ops[k].usage.key = keys[k];
	}
	OK(quota_batch(ctx, ops, 1000));
	for (int k = 0; k < 1000; k++)
		ck_assert_int_eq(ops[k].rc, QUOTA_OK);
	snaps_take(ctx, &before);
	close_db(ctx, db);
	ctx = open_db(path, false, &db);
	snaps_take(ctx, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "%s",
		      snaps_diff(&before, &after));
	snaps_free(&before);
	snaps_free(&after);
	close_db(ctx, db);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *sqlite_suite(void)
{
	Suite *s = suite_create("sqlite");
	TCase *tc = tcase_create("recover");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_open_create);
	tcase_add_loop_test(tc, test_recover_after_close, 0, 4);
	tcase_add_test(tc, test_config_first);
	tcase_add_test(tc, test_key_across_restart);
	tcase_add_test(tc, test_batch_recover);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_conflict_after_checkpoint);
	tcase_add_test(tc, test_loaded_account);
	tcase_add_loop_test(tc, test_loaded_checkpoint, 0, 2);
	tcase_add_test(tc, test_no_wal_no_create);
	tcase_add_test(tc, test_open_einval);
	tcase_add_test(tc, test_open_config_elsewhere);
	tcase_add_test(tc, test_resync_null_leaves_removed_accounts_out);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(sqlite_suite());
}
