/*
 * sqlitetest.h - what the tests of libquota-sqlite share (check_sqlite.c:
 * open, recovery, two writers; check_sqlite_refused.c: files refused,
 * SQLITE_BUSY and SQLITE_FULL; check_sqlite_faults.c: I/O errors through
 * a shim VFS and the store-fault sweep): a fresh directory per test
 * (tmp_setup, tmp_teardown, path_of), OK, a file opened into a new context
 * and closed (open_db, close_db), memory compared with the file
 * (same_as_file), a world of one account (small_world) and a charge.
 * Include after #define _POSIX_C_SOURCE 200809L (mkdtemp); it includes
 * the headers it uses.
 */
#ifndef QUOTA_TEST_SQLITETEST_H
#define QUOTA_TEST_SQLITETEST_H

#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quota.h"
#include "quota_sqlite.h"
#include "journal_world.h"
#include "snapset.h"

static char dir[512];

static inline void tmp_setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "build/check_sqlite.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof dir, "%s/check_sqlite.XXXXXX",
			 t ? t : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			abort();
		}
	}
}

static inline void tmp_teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static inline const char *path_of(const char *name)
{
	static char p[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

#define OK(call) TU_OK(NULL, call)

/* Open (or create) path into a new context; sync NORMAL unless full. */
static inline quota_ctx *open_db(const char *path, bool full,
				 quota_sqlite **db)
{
	quota_sqlite_options o = QUOTA_SQLITE_OPTIONS_INIT;
	quota_ctx *ctx;
	int rc;

	OK(quota_ctx_new(&ctx));
	o.synchronous = full ? QUOTA_SQLITE_SYNC_FULL : QUOTA_SQLITE_SYNC_NORMAL;
	rc = quota_sqlite_open_with(ctx, path, &o, db);
	ck_assert_msg(rc == QUOTA_OK, "open %s: %s: %s", path,
		      quota_err_name(rc), quota_errmsg(ctx));
	return ctx;
}

static inline void close_db(quota_ctx *ctx, quota_sqlite *db)
{
	quota_sqlite_close(db);
	quota_ctx_free(ctx);
}

/* ctx's state equals what the file holds (recovered into a new context). */
static inline const char *same_as_file(quota_ctx *ctx, const char *path)
{
	static char why[300];
	snapset live, back;
	quota_sqlite *db2;
	quota_ctx *c2 = open_db(path, false, &db2);
	const char *d;

	snaps_take(ctx, &live);
	snaps_take(c2, &back);
	d = snaps_diff(&live, &back);
	if (d)
		snprintf(why, sizeof why, "%s", d);
	snaps_free(&live);
	snaps_free(&back);
	close_db(c2, db2);
	return d ? why : NULL;
}

/* A small world of one category, one tariff and one account. */
static inline quota_account *small_world(quota_ctx *ctx, uint32_t *sms)
{
	quota_tariff *t;
	quota_account *a;

	OK(quota_category_add(ctx, "sms", sms));
	OK(quota_tariff_new(ctx, "std", &t));
	OK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000));
	OK(quota_account_new(ctx, "acme", &a));
	OK(quota_account_set_tariff(a, *sms, t));
	OK(quota_account_set_key_window(a, 1000, 30 * JW_DAY));
	OK(quota_account_topup(a, 100000000, JW_T0));
	return a;
}

static inline int charge(quota_account *a, uint32_t cat, int64_t units,
			 int64_t at, const char *key)
{
	quota_usage u = {cat, units, at, key};
	quota_receipt r;

	return quota_charge(a, &u, &r);
}

#endif /* QUOTA_TEST_SQLITETEST_H */
