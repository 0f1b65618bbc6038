/*
 * quota_sqlite_int.h - private to libquota-sqlite and its tests.
 *
 * Nothing here is exported from libquota-sqlite.so (built with
 * -fvisibility=hidden); tests link libquota-sqlite.a.
 */
#ifndef QUOTA_SQLITE_INT_H
#define QUOTA_SQLITE_INT_H

#include "quota_sqlite.h"
#include "quota_store.h"

#include <sqlite3.h>

/* PRAGMA application_id of our files: "QUOT" as a big-endian u32. */
#define QUOTA_SQLITE_APP_ID 0x51554F54
/* PRAGMA user_version: the schema this library writes and reads. */
#define QUOTA_SQLITE_SCHEMA 1

/* The connection of db, for tests that need to reach under the store
 * (PRAGMA max_page_count to provoke SQLITE_FULL). */
sqlite3 *quota_sqlite__handle(quota_sqlite *db);
/* The store db set on its context, for tests that wrap it (a store that
 * fails its N-th call with SQLite underneath). */
void quota_sqlite__store(quota_sqlite *db, quota_store *out);

#endif /* QUOTA_SQLITE_INT_H */
