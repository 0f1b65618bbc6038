/*
 * connect.c - opening libquota's SQLite store file (DESIGN §5;
 * quota_sqlite(3)): the schema and its version, the pragmas (WAL,
 * synchronous, busy timeout) and the prepared statements, at open and
 * when the store reconnects.  Split from quota_sqlite.c, which writes and
 * holds the API.
 */
#include "quota_sqlite_int.h"
#include "quota_store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upserts need SQLite 3.24; older ones set extended codes by a call. */
#ifndef SQLITE_OPEN_EXRESCODE
#define SQLITE_OPEN_EXRESCODE 0
#endif


/* The prepared statements' text (quota_sqlite_int.h's ST_*). */
const char *const quota_sqlite__sql[ST_COUNT] = {
	/* Not under a stored snapshot: a checkpoint deleted the records it
	 * covers, so the key alone no longer sees those numbers taken. */
	[ST_INS_REC] = "INSERT INTO journal(account, seq, rec) "
		       "SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM "
		       "snapshots WHERE account = ?1 AND seq >= ?2)",
	[ST_INS_CFG] = "INSERT INTO config(seq, rec) VALUES (?1, ?2)",
	[ST_INS_ACCT] = "INSERT OR IGNORE INTO accounts(id) VALUES (?1)",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_CFG_ALL] = "SELECT seq, rec FROM config WHERE seq > ?1 "
		       "ORDER BY seq",
	[ST_CFG_MAX] = "SELECT coalesce(max(seq), 0) FROM config",
	[ST_ACCTS] = "SELECT id FROM accounts ORDER BY ord",
	[ST_SNAP_GET] = "SELECT seq, snap FROM snapshots WHERE account = ?1",
	[ST_RECS] = "SELECT seq, rec FROM journal WHERE account = ?1 AND "
		    "seq > ?2 ORDER BY seq",
	[ST_SNAP_PUT] = "INSERT INTO snapshots(account, seq, snap) "
			"VALUES (?1, ?2, ?3) ON CONFLICT(account) DO UPDATE "
			"SET seq = excluded.seq, snap = excluded.snap "
			"WHERE excluded.seq > snapshots.seq",
	[ST_DEL] = "DELETE FROM journal WHERE account = ?1 AND seq <= ?2",
	[ST_ORPHAN] = "SELECT account FROM journal WHERE account NOT IN "
		      "(SELECT id FROM accounts) UNION ALL SELECT account "
		      "FROM snapshots WHERE account NOT IN (SELECT id FROM "
		      "accounts) LIMIT 1",
	[ST_INS_PLAIN] = "INSERT INTO journal(account, seq, rec) "
			 "VALUES (?1, ?2, ?3)",
};

/* The schema, version QUOTA_SQLITE_SCHEMA (quota_sqlite(3)). */
static const char schema_sql[] =
	"CREATE TABLE config ("
	" seq INTEGER PRIMARY KEY,"
	" rec BLOB NOT NULL);"
	"CREATE TABLE accounts ("
	" ord INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE);"
	"CREATE TABLE journal ("
	" account TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" rec BLOB NOT NULL,"
	" PRIMARY KEY (account, seq)) WITHOUT ROWID;"
	"CREATE TABLE snapshots ("
	" account TEXT PRIMARY KEY,"
	" seq INTEGER NOT NULL,"
	" snap BLOB NOT NULL) WITHOUT ROWID;";

static const char *const our_tables[] = {"accounts", "config", "journal",
					 "snapshots"};

/* ------------------------------------------------------------ opening */

static int exec(quota_sqlite *db, const char *sql)
{
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		quota_sqlite__sqlite_words(db, rc, sql);
	return rc;
}

/* One integer a query returns (PRAGMA application_id and the like). */
static int query_int(quota_sqlite *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*v = 0;
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		quota_sqlite__sqlite_words(db, rc, sql);
	sqlite3_finalize(s);
	return rc;
}

/* Not a database, damaged, truncated: QUOTA_ECORRUPT; anything else that
 * SQLite refuses (cannot open, locked, I/O): QUOTA_ESTORE. */
int quota_sqlite__open_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return QUOTA_ECORRUPT;
	case SQLITE_NOMEM:
		return QUOTA_ENOMEM;
	default:
		return QUOTA_ESTORE;
	}
}

/* Which of our tables the file has (bit i: our_tables[i]), and how many
 * tables of others. */
static int list_tables(quota_sqlite *db, unsigned *ours, int *others)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db->db,
				    "SELECT name FROM sqlite_schema WHERE "
				    "type = 'table' AND name NOT LIKE "
				    "'sqlite\\_%' ESCAPE '\\'",
				    -1, &s, NULL);

	*ours = 0;
	*others = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		size_t i;

		for (i = 0; name && i < 4; i++)
			if (strcmp(name, our_tables[i]) == 0)
				break;
		if (name && i < 4)
			*ours |= 1u << i;
		else
			(*others)++;
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		quota_sqlite__sqlite_words(db, rc, "reading the schema");
	sqlite3_finalize(s);
	return rc;
}

/*
 * Make sure the file is ours, or a new empty one (then made ours).
 * Everything is read before anything is written, so a file refused here
 * is left as it was.
 */
static int check_schema(quota_sqlite *db, quota_ctx *ctx)
{
	int64_t app = 0, ver = 0;
	unsigned ours;
	int others, rc;

	if ((rc = query_int(db, "PRAGMA application_id", &app)) ||
	    (rc = query_int(db, "PRAGMA user_version", &ver)) ||
	    (rc = list_tables(db, &ours, &others)))
		return quota_sqlite__say(ctx, quota_sqlite__open_code(rc),
					   "%s: %s", db->path, db->msg);
	if (app == 0 && ver == 0 && ours == 0 && others == 0) {
		/* A new file: WAL first (not inside a transaction), then the
		 * schema in one transaction that checks again. */
		if ((rc = exec(db, "PRAGMA journal_mode = WAL")) ||
		    (rc = exec(db, "BEGIN IMMEDIATE")))
			return quota_sqlite__say(
				ctx, quota_sqlite__open_code(rc), "%s: %s",
				db->path, db->msg);
		if ((rc = query_int(db, "PRAGMA application_id", &app)) ||
		    (rc = list_tables(db, &ours, &others))) {
			exec(db, "ROLLBACK");
			return quota_sqlite__say(
				ctx, quota_sqlite__open_code(rc), "%s: %s",
				db->path, db->msg);
		}
		if (app == 0 && ours == 0 && others == 0) {
			char sql[sizeof schema_sql + 128];

			snprintf(sql, sizeof sql,
				 "%sPRAGMA application_id = %d;"
				 "PRAGMA user_version = %d;",
				 schema_sql, QUOTA_SQLITE_APP_ID,
				 QUOTA_SQLITE_SCHEMA);
			if ((rc = exec(db, sql))) {
				exec(db, "ROLLBACK");
				return quota_sqlite__say(
					ctx, quota_sqlite__open_code(rc),
					"%s: creating the schema: %s",
					db->path, db->msg);
			}
		}
		if ((rc = exec(db, "COMMIT"))) {
			exec(db, "ROLLBACK");
			return quota_sqlite__say(
				ctx, quota_sqlite__open_code(rc), "%s: %s",
				db->path, db->msg);
		}
		/* Made by another opener meanwhile: check it as any file. */
		return app == 0 ? QUOTA_OK : check_schema(db, ctx);
	}
	if (app != QUOTA_SQLITE_APP_ID)
		return quota_sqlite__say(
			ctx, QUOTA_ECORRUPT,
			"%s: a SQLite database of another application "
			"(application_id %lld, not %d: libquota's)",
			db->path, (long long)app, QUOTA_SQLITE_APP_ID);
	if (ver > QUOTA_SQLITE_SCHEMA)
		return quota_sqlite__say(
			ctx, QUOTA_EVERSION,
			"%s: schema version %lld is newer than this "
			"library's (%d)",
			db->path, (long long)ver, QUOTA_SQLITE_SCHEMA);
	if (ver < 1 || ours != 0xf)
		return quota_sqlite__say(
			ctx, QUOTA_ECORRUPT,
			"%s: a libquota database without its schema "
			"(user_version %lld, tables missing)",
			db->path, (long long)ver);
	return QUOTA_OK;
}

static void finalize_all(quota_sqlite *db)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(db->st[i]);
		db->st[i] = NULL;
	}
}

void quota_sqlite__disconnect(quota_sqlite *db)
{
	finalize_all(db);
	sqlite3_close_v2(db->db);
	db->db = NULL;
}

/* The mode the database runs in now, read without changing it. */
bool quota_sqlite__is_wal(quota_sqlite *db)
{
	sqlite3_stmt *s;
	bool wal = false;

	if (sqlite3_prepare_v2(db->db, "PRAGMA journal_mode", -1, &s, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);

		wal = m && strcmp(m, "wal") == 0;
	}
	sqlite3_finalize(s);
	return wal;
}

/* Switch to WAL mode and make sure SQLite did: it answers with the mode
 * it is in, and keeps another (an in-memory database's, say) without an
 * error.  The switch writes the file's header: open calls this only once
 * recovery's checks passed (quota_sqlite(3): a refused file is left as it
 * was). */
int quota_sqlite__wal(quota_sqlite *db, quota_ctx *ctx)
{
	static const char sql[] = "PRAGMA journal_mode = WAL";
	sqlite3_stmt *s;
	char mode[16] = "";
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);

		snprintf(mode, sizeof mode, "%s", m ? m : "");
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		quota_sqlite__sqlite_words(db, rc, sql);
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return quota_sqlite__say(ctx, quota_sqlite__open_code(rc),
					 "%s: %s", db->path, db->msg);
	if (strcmp(mode, "wal") != 0) {
		snprintf(db->msg, sizeof db->msg,
			 "SQLite cannot run it in WAL mode (journal_mode "
			 "stays '%s')",
			 mode);
		return quota_sqlite__say(ctx, QUOTA_ESTORE, "%s: %s",
					 db->path, db->msg);
	}
	/* The file is taken: the last close checkpoints its WAL again. */
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	return QUOTA_OK;
}

/*
 * A file with bytes in it must be a SQLite database: SQLite itself takes
 * a file shorter than its header for an empty one, and would write a new
 * schema over it.  No file, or an empty one, is new (quota_sqlite(3));
 * a file that cannot be read here is left to SQLite to refuse.
 */
static int not_a_database(quota_sqlite *db, quota_ctx *ctx)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	size_t n;
	FILE *f = fopen(db->path, "rb");

	if (!f)
		return QUOTA_OK;
	n = fread(head, 1, sizeof head, f);
	fclose(f);
	if (n == 0 || (n == sizeof head && memcmp(head, magic, n) == 0))
		return QUOTA_OK;
	snprintf(db->msg, sizeof db->msg,
		 "not a SQLite database (%zu byte%s that are not SQLite's "
		 "header)",
		 n, n == 1 ? "" : "s");
	return quota_sqlite__say(ctx, QUOTA_ECORRUPT, "%s: %s", db->path,
				 db->msg);
}

/* Open the connection (creating the file only if create), check or make
 * the schema, set the pragmas and prepare every statement.  The journal
 * mode is left as the file has it: quota_sqlite__wal switches it. */
int quota_sqlite__connect(quota_sqlite *db, quota_ctx *ctx, bool create)
{
	char sql[96];
	int rc;

	if ((rc = not_a_database(db, ctx)))
		return rc;
	rc = sqlite3_open_v2(db->path, &db->db,
				 SQLITE_OPEN_READWRITE |
					 (create ? SQLITE_OPEN_CREATE : 0) |
					 SQLITE_OPEN_NOMUTEX |
					 SQLITE_OPEN_EXRESCODE,
				 NULL);

	if (rc != SQLITE_OK) {
		quota_sqlite__sqlite_words(db, rc, "open");
		rc = quota_sqlite__say(ctx, quota_sqlite__open_code(rc),
					 "%s: %s", db->path, db->msg);
		quota_sqlite__disconnect(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, db->opt.busy_timeout_ms);
	/* A refused file is left as it was: closing must not checkpoint a
	 * WAL someone else left into it (open clears this once it took the
	 * file). */
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if ((rc = check_schema(db, ctx))) {
		quota_sqlite__disconnect(db);
		return rc;
	}
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s;",
		 db->opt.synchronous == QUOTA_SQLITE_SYNC_NORMAL ? "NORMAL"
								 : "FULL");
	if ((rc = exec(db, sql)))
		goto refused;
	for (int i = 0; i < ST_COUNT; i++)
		if ((rc = sqlite3_prepare_v3(db->db, quota_sqlite__sql[i], -1,
					     SQLITE_PREPARE_PERSISTENT,
					     &db->st[i], NULL))) {
			quota_sqlite__sqlite_words(db, rc, quota_sqlite__sql[i]);
			goto refused;
		}
	return QUOTA_OK;
refused:
	rc = quota_sqlite__say(ctx, quota_sqlite__open_code(rc), "%s: %s",
				 db->path, db->msg);
	quota_sqlite__disconnect(db);
	return rc;
}
