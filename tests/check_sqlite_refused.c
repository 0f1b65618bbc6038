/*
 * check_sqlite_refused.c - libquota-sqlite (lib/sqlite/, quota_sqlite(3))
 * against the real engine: files that are not a libquota database of
 * this version, and damaged records, refused before anything is applied;
 * another connection's write lock past the busy timeout (SQLITE_BUSY);
 * a full database (SQLITE_FULL), charge by charge and in batches.
 *
 * Open, recovery and two writers are in check_sqlite.c; I/O errors (a
 * shim VFS) and the store-fault sweep in check_sqlite_faults.c; the
 * helpers the three share in support/sqlitetest.h.
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

/* ------------------------------------------------------------ helpers */

static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long len;

	*n = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)len + 1)) &&
	    fread(p, 1, (size_t)len, f) == (size_t)len)
		*n = (size_t)len;
	fclose(f);
	return p;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s", path);
	ck_assert(fwrite(p, 1, n, f) == n);
	ck_assert(fclose(f) == 0);
}

/* ------------------------------------------------------ files refused */

/* A file that is not a libquota database of this version. */
enum { BAD_RANDOM, BAD_TRUNCATED, BAD_OTHER_TABLES, BAD_OTHER_APPID,
       BAD_NEWER, BAD_NO_SCHEMA, BAD_ONE_BYTE, BAD_SHORT, BAD_NKINDS };

static void make_bad(int kind, const char *path)
{
	sqlite3 *h;

	/* Shorter than SQLite's header: SQLite takes them for empty. */
	if (kind == BAD_ONE_BYTE || kind == BAD_SHORT) {
		write_file(path, "x\n", kind == BAD_ONE_BYTE ? 1 : 2);
		return;
	}
	if (kind == BAD_RANDOM) {
		unsigned char buf[8192];
		tu_rng r;

		tu_rng_seed(&r, 7);
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (unsigned char)tu_rng_next(&r);
		write_file(path, buf, sizeof buf);
		return;
	}
	if (kind == BAD_TRUNCATED || kind == BAD_NEWER) {
		quota_sqlite *db;
		quota_ctx *ctx = open_db(path, false, &db);
		jw_world w;

		jw_setup(&w, ctx, 3);
		for (int i = 0; i < 50; i++)
			(void)jw_step(&w);
		close_db(ctx, db);
		if (kind == BAD_TRUNCATED) {
			size_t n;
			unsigned char *p = read_file(path, &n);

			ck_assert(p && n > 8192);
			write_file(path, p, n / 2);
			free(p);
			return;
		}
	}
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(
		sqlite3_exec(h,
			     kind == BAD_OTHER_TABLES
				     ? "CREATE TABLE customers(id, name);"
				       "INSERT INTO customers VALUES (1, 'x');"
			     : kind == BAD_OTHER_APPID
				     ? "PRAGMA application_id = 1234;"
				       "CREATE TABLE journal(a, b);"
			     : kind == BAD_NEWER ? "PRAGMA user_version = 2;"
						 : "PRAGMA application_id = "
						   "1364545364;",
			     NULL, NULL, NULL),
		SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

START_TEST(test_open_bad_file)
{
	static const int want[BAD_NKINDS] = {
		QUOTA_ECORRUPT, QUOTA_ECORRUPT, QUOTA_ECORRUPT,
		QUOTA_ECORRUPT, QUOTA_EVERSION, QUOTA_ECORRUPT,
		QUOTA_ECORRUPT, QUOTA_ECORRUPT};
	static const char *const name[BAD_NKINDS] = {
		"random bytes", "truncated", "another application's tables",
		"another application_id", "a newer user_version",
		"our application_id, no schema", "one byte", "two bytes"};
	const char *path = path_of("bad.db");
	unsigned char *p0, *p1;
	size_t n0, n1;
	quota_sqlite *db = (quota_sqlite *)1;
	quota_ctx *ctx;
	int rc;

	make_bad(_i, path);
	p0 = read_file(path, &n0);
	ck_assert(p0 != NULL);
	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, path, &db);
	ck_assert_msg(rc == want[_i], "%s: %s, expected %s (%s)", name[_i],
		      quota_err_name(rc), quota_err_name(want[_i]),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(quota_errmsg(ctx), path) != NULL, "%s",
		      quota_errmsg(ctx));
	fprintf(stderr, "check_sqlite: %s: %s: %s\n", name[_i],
		quota_err_name(rc), quota_errmsg(ctx));
	/* Nothing changed: the file, byte for byte, and the context, which
	 * still opens a good file. */
	p1 = read_file(path, &n1);
	ck_assert_msg(p1 && n0 == n1 && memcmp(p0, p1, n0) == 0,
		      "%s: the file changed", name[_i]);
	ck_assert_uint_eq(quota_category_count(ctx), 0);
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 0);
	OK(quota_sqlite_open(ctx, path_of("good.db"), &db));
	close_db(ctx, db);
	free(p0);
	free(p1);
}
END_TEST

/* A damaged record is refused before anything is applied. */
START_TEST(test_open_bad_record)
{
	const char *path = path_of("rec.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, false, &db);
	sqlite3 *h;
	uint32_t sms;
	quota_account *a = small_world(ctx, &sms);
	int rc;

	/* _i: a byte of record 7 changed; record 5 gone; a byte of the
	 * snapshot's body changed; the snapshot's major format 2; row 7
	 * holding record 6 (sound, but of another number). */
	static const char *const damage[] = {
		"UPDATE journal SET rec = substr(rec, 1, 20) || x'00' || "
		"substr(rec, 22) WHERE seq = 7",
		"DELETE FROM journal WHERE seq = 5",
		"UPDATE snapshots SET snap = substr(snap, 1, 29) || CASE WHEN "
		"substr(snap, 30, 1) = x'00' THEN x'01' ELSE x'00' END || "
		"substr(snap, 31)",
		"UPDATE snapshots SET snap = substr(snap, 1, 4) || x'02' || "
		"substr(snap, 6)",
		"UPDATE journal SET rec = (SELECT rec FROM journal j WHERE "
		"j.account = journal.account AND j.seq = 6) WHERE seq = 7"};

	for (int i = 0; i < 10; i++)
		OK(charge(a, sms, 1, JW_T0 + i, NULL));
	if (_i == 2 || _i == 3) {
		OK(quota_sqlite_checkpoint(db));
		OK(charge(a, sms, 1, JW_T0 + 10, NULL));
	}
	close_db(ctx, db);
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, damage[_i], NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_changes(h), 1);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, path, &db);
	ck_assert_msg(rc == (_i == 3 ? QUOTA_EVERSION : QUOTA_ECORRUPT),
		      "damage %d: %s: %s", _i, quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(db);
	ck_assert_uint_eq(quota_category_count(ctx), 0);
	ck_assert_uint_eq(quota_ctx_account_count(ctx), 0);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * A file of ours that another program switched out of WAL mode, with a
 * damaged record: refused (QUOTA_ECORRUPT) and left byte for byte as it
 * was - the switch back to WAL writes the header, and comes only after
 * the checks passed.  With sound records it is taken and runs in WAL
 * mode again.
 */
START_TEST(test_refused_not_written)
{
	const char *path = path_of("delete.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, false, &db);
	unsigned char *p0, *p1;
	size_t n0, n1;
	sqlite3 *h;
	uint32_t sms;
	quota_account *a = small_world(ctx, &sms);
	int rc;

	for (int i = 0; i < 10; i++)
		OK(charge(a, sms, 1, JW_T0 + i, NULL));
	close_db(ctx, db);
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA journal_mode = DELETE", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	if (_i == 0)
		ck_assert_int_eq(
			sqlite3_exec(h,
				     "UPDATE journal SET rec = substr(rec, 1, "
				     "20) || x'00' || substr(rec, 22) WHERE "
				     "seq = 7",
				     NULL, NULL, NULL),
			SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
	p0 = read_file(path, &n0);
	ck_assert(p0 != NULL && n0 > 100);
	ck_assert_int_eq(p0[18], 1); /* rollback journal, not WAL */
	OK(quota_ctx_new(&ctx));
	rc = quota_sqlite_open(ctx, path, &db);
	if (_i == 0) {
		ck_assert_msg(rc == QUOTA_ECORRUPT, "%s: %s",
			      quota_err_name(rc), quota_errmsg(ctx));
		p1 = read_file(path, &n1);
		ck_assert_msg(p1 && n0 == n1 && memcmp(p0, p1, n0) == 0,
			      "a refused file was written (byte 18: %d)",
			      p1 ? p1[18] : -1);
		free(p1);
		quota_ctx_free(ctx);
	} else {
		ck_assert_msg(rc == QUOTA_OK, "%s: %s", quota_err_name(rc),
			      quota_errmsg(ctx));
		{
			sqlite3_stmt *st;

			ck_assert_int_eq(sqlite3_prepare_v2(
						 quota_sqlite__handle(db),
						 "PRAGMA journal_mode", -1,
						 &st, NULL),
					 SQLITE_OK);
			ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
			ck_assert_str_eq((const char *)sqlite3_column_text(st,
									   0),
					 "wal");
			sqlite3_finalize(st);
		}
		OK(quota_account_find(ctx, "acme", &a));
		OK(charge(a, sms, 1, JW_T0 + 20, NULL));
		ck_assert_ptr_null(same_as_file(ctx, path));
		close_db(ctx, db);
	}
	free(p0);
}
END_TEST

/* Another connection holds the write lock past the busy timeout: the
 * charge is refused (QUOTA_ESTORE, SQLite's words), nothing changes, and
 * once the lock is gone the same charge goes through. */
START_TEST(test_busy_refused)
{
	const char *path = path_of("busy.db");
	quota_sqlite_options o = QUOTA_SQLITE_OPTIONS_INIT;
	quota_sqlite *db;
	quota_ctx *ctx;
	quota_account *a;
	snapset before, after;
	sqlite3 *h;
	uint32_t sms;
	int rc;

	o.busy_timeout_ms = 0;
	OK(quota_ctx_new(&ctx));
	OK(quota_sqlite_open_with(ctx, path, &o, &db));
	a = small_world(ctx, &sms);
	OK(charge(a, sms, 1, JW_T0, NULL));
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			 SQLITE_OK);
	snaps_take(ctx, &before);
	rc = charge(a, sms, 1, JW_T0 + 1, NULL);
	ck_assert_msg(rc == QUOTA_ESTORE, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_msg(strstr(quota_errmsg(ctx), "locked") != NULL, "%s",
		      quota_errmsg(ctx));
	snaps_take(ctx, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "%s",
		      snaps_diff(&before, &after));
	snaps_free(&before);
	snaps_free(&after);
	ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
	OK(charge(a, sms, 1, JW_T0 + 1, NULL));
	ck_assert_ptr_null(same_as_file(ctx, path));
	close_db(ctx, db);
}
END_TEST

/* ------------------------------------------------------- SQLITE_FULL */

static int64_t pragma_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A full database refuses charges (QUOTA_ESTORE, SQLite's message) and
 * changes nothing; with room again, work goes on.  _i 1: in batches. */
START_TEST(test_full)
{
	const char *path = path_of("full.db");
	quota_sqlite *db;
	quota_ctx *ctx = open_db(path, false, &db);
	sqlite3 *h = quota_sqlite__handle(db);
	uint32_t sms;
	quota_account *a = small_world(ctx, &sms);
	snapset before, after;
	char sql[64], key[32];
	int rc = QUOTA_OK, i;

	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
		 (long long)pragma_int(h, "PRAGMA page_count"));
	pragma_int(h, sql);
	for (i = 0; i < 5000 && rc == QUOTA_OK; i++) {
		snaps_take(ctx, &before);
		snprintf(key, sizeof key, "full-%d", i);
		if (_i == 0) {
			rc = charge(a, sms, 1, JW_T0 + i, key);
		} else {
			quota_op ops[4];

			memset(ops, 0, sizeof ops);
			for (int k = 0; k < 4; k++) {
				ops[k].kind = QUOTA_OP_CHARGE;
				ops[k].account = a;
				ops[k].usage.category = sms;
				ops[k].usage.units = 1;
				ops[k].usage.at = JW_T0 + i;
			}
			ops[0].usage.key = key;
			rc = quota_batch(ctx, ops, 4);
			for (int k = 0; rc == QUOTA_OK && k < 4; k++)
				if (ops[k].rc != QUOTA_OK)
					rc = ops[k].rc;
		}
		if (rc != QUOTA_OK)
			break;
		snaps_free(&before);
	}
	ck_assert_msg(rc == QUOTA_ESTORE, "after %d: %s: %s", i,
		      quota_err_name(rc), quota_errmsg(ctx));
	ck_assert_msg(strstr(quota_errmsg(ctx), "full") != NULL, "%s",
		      quota_errmsg(ctx));
	snaps_take(ctx, &after);
	ck_assert_msg(!snaps_diff(&before, &after), "a refused charge changed "
		      "the account: %s", snaps_diff(&before, &after));
	/* The file holds what memory holds (read it with a limit too). */
	ck_assert_ptr_null(same_as_file(ctx, path));
	pragma_int(h, "PRAGMA max_page_count = 1000000");
	OK(charge(a, sms, 1, JW_T0 + i, key));
	OK(charge(a, sms, 1, JW_T0 + i + 1, "after"));
	ck_assert_ptr_null(same_as_file(ctx, path));
	snaps_free(&before);
	snaps_free(&after);
	close_db(ctx, db);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *sqlite_suite(void)
{
	Suite *s = suite_create("sqlite_refused");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_open_bad_file, 0, BAD_NKINDS);
	tcase_add_loop_test(tc, test_open_bad_record, 0, 5);
	tcase_add_loop_test(tc, test_refused_not_written, 0, 2);
	tcase_add_test(tc, test_busy_refused);
	tcase_add_loop_test(tc, test_full, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(sqlite_suite());
}
