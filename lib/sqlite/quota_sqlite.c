/*
 * quota_sqlite.c - libquota's SQLite store (DESIGN §5; quota_sqlite(3)).
 *
 * One file holds the configuration stream, every account's journal
 * records keyed by (account, seq) and every account's latest snapshot.
 * The key is the conflict detector: a second writer of a sequence number
 * fails the PRIMARY KEY, which is QUOTA_ECONFLICT.  A record is stored by
 * one INSERT of a prepared statement (autocommit: one durable transaction
 * per call), or staged inside BEGIN IMMEDIATE ... COMMIT for a batch.
 *
 * Recovery reads everything in one read transaction, twice: a first pass
 * checks what SQLite can read and what the frames say (sequence numbers
 * without gaps, checksums, headers naming the right stream), so that a
 * damaged file is refused before ctx is touched; the second pass applies.
 */
#include "quota_sqlite_int.h"
#include "quota_store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upserts need SQLite 3.24; older ones set extended codes by a call. */
#ifndef SQLITE_OPEN_EXRESCODE
#define SQLITE_OPEN_EXRESCODE 0
#endif


enum {
	ST_INS_REC,
	ST_INS_CFG,
	ST_INS_ACCT,
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_CFG_ALL,
	ST_CFG_MAX,
	ST_ACCTS,
	ST_SNAP_GET,
	ST_RECS,
	ST_SNAP_PUT,
	ST_DEL,
	ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
	[ST_INS_REC] = "INSERT INTO journal(account, seq, rec) VALUES (?1, ?2, ?3)",
	[ST_INS_CFG] = "INSERT INTO config(seq, rec) VALUES (?1, ?2)",
	[ST_INS_ACCT] = "INSERT INTO accounts(id) VALUES (?1)",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_CFG_ALL] = "SELECT seq, rec FROM config ORDER BY seq",
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

struct quota_sqlite {
	sqlite3 *db;
	quota_ctx *ctx;
	char *path;
	quota_sqlite_options opt;
	sqlite3_stmt *st[ST_COUNT];
	bool in_batch;   /* between begin and commit */
	bool batch_lost; /* SQLite rolled the batch's transaction back */
	bool broken;     /* an I/O error: refuse writes until resync */
	uint64_t cfg_seq; /* the configuration stream's last stored record */
	char msg[512];    /* the last failure, for the errmsg callback */
	char lost[512];   /* why the batch's transaction was rolled back */
	uint32_t crc[8][256];
};

/* ------------------------------------------------------------ helpers */

static void crc_init(quota_sqlite *db)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		db->crc[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			db->crc[t][i] = (db->crc[t - 1][i] >> 8) ^
					db->crc[0][db->crc[t - 1][i] & 0xff];
}

/* CRC-32C (Castagnoli), slicing by 8: the checksum of records and
 * snapshots, checked before anything is applied. */
static uint32_t crc32c(const quota_sqlite *db, const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		c = db->crc[7][lo & 0xff] ^ db->crc[6][(lo >> 8) & 0xff] ^
		    db->crc[5][(lo >> 16) & 0xff] ^ db->crc[4][lo >> 24] ^
		    db->crc[3][p[4]] ^ db->crc[2][p[5]] ^ db->crc[1][p[6]] ^
		    db->crc[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = db->crc[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* An unsigned LEB128 varint (quota_journal(5)). */
static bool get_uv(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 70 && *pos < n; shift += 7) {
		uint8_t b = p[(*pos)++];

		if (shift == 63 && b > 1)
			return false;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Word a failure of ours on the context and keep it for errmsg. */
static int fail(quota_sqlite *db, quota_ctx *ctx, int code, const char *fmt,
		...)
	__attribute__((format(printf, 4, 5)));
static int fail(quota_sqlite *db, quota_ctx *ctx, int code, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->msg, sizeof db->msg, fmt, ap);
	va_end(ap);
	return quota_ctx_set_error(ctx, code, "%s", db->msg);
}

/* SQLite's words for the connection's last error, with its code. */
static void sqlite_words(quota_sqlite *db, int rc, const char *what)
{
	snprintf(db->msg, sizeof db->msg, "%s: %s (SQLite %d: %s)", what,
		 db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc), rc,
		 sqlite3_errstr(rc));
}

/* Step a statement that returns no row, then reset it. */
static int step_done(quota_sqlite *db, int which)
{
	sqlite3_stmt *s = db->st[which];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	if (rc != SQLITE_DONE)
		sqlite_words(db, rc, sql_text[which]);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void rollback_quietly(quota_sqlite *db)
{
	if (db->db && !sqlite3_get_autocommit(db->db)) {
		sqlite3_step(db->st[ST_ROLLBACK]);
		sqlite3_reset(db->st[ST_ROLLBACK]);
	}
}

/* ------------------------------------------------------------ opening */

static int exec(quota_sqlite *db, const char *sql)
{
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		sqlite_words(db, rc, sql);
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
		sqlite_words(db, rc, sql);
	sqlite3_finalize(s);
	return rc;
}

/* Not a database, damaged, truncated: QUOTA_ECORRUPT; anything else that
 * SQLite refuses (cannot open, locked, I/O): QUOTA_ESTORE. */
static int open_code(int rc)
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
		sqlite_words(db, rc, "reading the schema");
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
		return quota_ctx_set_error(ctx, open_code(rc), "%s: %s",
					   db->path, db->msg);
	if (app == 0 && ver == 0 && ours == 0 && others == 0) {
		/* A new file: WAL first (not inside a transaction), then the
		 * schema in one transaction that checks again. */
		if ((rc = exec(db, "PRAGMA journal_mode = WAL")) ||
		    (rc = exec(db, "BEGIN IMMEDIATE")))
			return quota_ctx_set_error(ctx, open_code(rc),
						   "%s: %s", db->path,
						   db->msg);
		if ((rc = query_int(db, "PRAGMA application_id", &app)) ||
		    (rc = list_tables(db, &ours, &others))) {
			exec(db, "ROLLBACK");
			return quota_ctx_set_error(ctx, open_code(rc),
						   "%s: %s", db->path,
						   db->msg);
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
				return quota_ctx_set_error(
					ctx, open_code(rc),
					"%s: creating the schema: %s",
					db->path, db->msg);
			}
		}
		if ((rc = exec(db, "COMMIT"))) {
			exec(db, "ROLLBACK");
			return quota_ctx_set_error(ctx, open_code(rc),
						   "%s: %s", db->path,
						   db->msg);
		}
		/* Made by another opener meanwhile: check it as any file. */
		return app == 0 ? QUOTA_OK : check_schema(db, ctx);
	}
	if (app != QUOTA_SQLITE_APP_ID)
		return quota_ctx_set_error(
			ctx, QUOTA_ECORRUPT,
			"%s: a SQLite database of another application "
			"(application_id %lld, not %d: libquota's)",
			db->path, (long long)app, QUOTA_SQLITE_APP_ID);
	if (ver > QUOTA_SQLITE_SCHEMA)
		return quota_ctx_set_error(
			ctx, QUOTA_EVERSION,
			"%s: schema version %lld is newer than this "
			"library's (%d)",
			db->path, (long long)ver, QUOTA_SQLITE_SCHEMA);
	if (ver < 1 || ours != 0xf)
		return quota_ctx_set_error(
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

static void disconnect(quota_sqlite *db)
{
	finalize_all(db);
	sqlite3_close_v2(db->db);
	db->db = NULL;
}

/* Open the connection, check or make the schema, set the pragmas and
 * prepare every statement. */
static int connect(quota_sqlite *db, quota_ctx *ctx)
{
	char sql[96];
	int rc = sqlite3_open_v2(db->path, &db->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX |
					 SQLITE_OPEN_EXRESCODE,
				 NULL);

	if (rc != SQLITE_OK) {
		sqlite_words(db, rc, "open");
		rc = quota_ctx_set_error(ctx, open_code(rc), "%s: %s",
					 db->path, db->msg);
		disconnect(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, db->opt.busy_timeout_ms);
	if ((rc = check_schema(db, ctx))) {
		disconnect(db);
		return rc;
	}
	snprintf(sql, sizeof sql,
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;",
		 db->opt.synchronous == QUOTA_SQLITE_SYNC_NORMAL ? "NORMAL"
								 : "FULL");
	if ((rc = exec(db, sql)))
		goto refused;
	for (int i = 0; i < ST_COUNT; i++)
		if ((rc = sqlite3_prepare_v3(db->db, sql_text[i], -1,
					     SQLITE_PREPARE_PERSISTENT,
					     &db->st[i], NULL))) {
			sqlite_words(db, rc, sql_text[i]);
			goto refused;
		}
	return QUOTA_OK;
refused:
	rc = quota_ctx_set_error(ctx, open_code(rc), "%s: %s", db->path,
				 db->msg);
	disconnect(db);
	return rc;
}

/* ----------------------------------------------------------- recovery */

/* A record's frame, checksum and header: stream id (NULL: the
 * configuration) and sequence number as its row says. */
static int check_record(quota_sqlite *db, quota_ctx *ctx, const char *id,
			uint64_t seq, const uint8_t *p, size_t n)
{
	size_t size = 0, pos = 3;
	uint64_t rseq = 0, k = 0;
	const char *what = "record";

	if (!p || quota_journal_size(p, n, &size) != QUOTA_OK || size != n ||
	    n < 8 + 5)
		what = "record: bad frame";
	else if (crc32c(db, p + 8, n - 8) != get32(p + 4))
		what = "record: checksum mismatch";
	else if (p[8] > 1)
		return quota_ctx_set_error(
			ctx, QUOTA_EVERSION,
			"%s: record %llu of %s%s%s: format %u is newer than "
			"this library's",
			db->path, (unsigned long long)seq,
			id ? "account '" : "the configuration", id ? id : "",
			id ? "'" : "", p[8]);
	else if (!get_uv(p + 8, n - 8, &pos, &rseq) ||
		 !get_uv(p + 8, n - 8, &pos, &k) || k > n - 8 - pos ||
		 rseq != seq || k != (id ? strlen(id) : 0) ||
		 (k && memcmp(p + 8 + pos, id, (size_t)k)))
		what = "record: its header names another stream or number";
	else
		return QUOTA_OK;
	return quota_ctx_set_error(ctx, QUOTA_ECORRUPT,
				   "%s: %s %llu of %s%s%s", db->path, what,
				   (unsigned long long)seq,
				   id ? "account '" : "the configuration",
				   id ? id : "", id ? "'" : "");
}

/* A snapshot's header, checksum, account id and sequence number. */
static int check_snapshot(quota_sqlite *db, quota_ctx *ctx, const char *id,
			  uint64_t seq, const uint8_t *p, size_t n)
{
	size_t pos = 0;
	uint64_t k = 0, sseq = 0;
	const char *what = NULL;

	if (!p || n < 14 || memcmp(p, "QSNP", 4) || get32(p + 6) != n - 14)
		what = "bad header";
	else if (p[4] > 1)
		return quota_ctx_set_error(
			ctx, QUOTA_EVERSION,
			"%s: snapshot of account '%s': format %u is newer "
			"than this library's",
			db->path, id, p[4]);
	else if (crc32c(db, p + 14, n - 14) != get32(p + 10))
		what = "checksum mismatch";
	else if (!get_uv(p + 14, n - 14, &pos, &k) || k > n - 14 - pos ||
		 k != strlen(id) || memcmp(p + 14 + pos, id, (size_t)k) ||
		 (pos += (size_t)k, !get_uv(p + 14, n - 14, &pos, &sseq)) ||
		 sseq != seq)
		what = "it is of another account or sequence number";
	if (!what)
		return QUOTA_OK;
	return quota_ctx_set_error(ctx, QUOTA_ECORRUPT,
				   "%s: snapshot of account '%s' at %llu: %s",
				   db->path, id, (unsigned long long)seq,
				   what);
}

/* The failure of a SQLite read during recovery or resync. */
static int read_failed(quota_sqlite *db, quota_ctx *ctx, int rc,
		       const char *what)
{
	sqlite_words(db, rc, what);
	return quota_ctx_set_error(ctx, open_code(rc), "%s: %s", db->path,
				   db->msg);
}

static int apply_failed(quota_sqlite *db, quota_ctx *ctx, int rc,
			const char *id, uint64_t seq)
{
	char why[256];

	snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
	return quota_ctx_set_error(
		ctx,
		rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION ? rc
							   : QUOTA_ECORRUPT,
		"%s: record %llu of %s%s%s refused: %s: %s", db->path,
		(unsigned long long)seq,
		id ? "account '" : "the configuration", id ? id : "",
		id ? "'" : "", quota_err_name(rc), why);
}

/*
 * One account's stream: its snapshot (if any), then its records after it,
 * in order.  apply 0 checks them (gaps, frames, checksums); apply 1 loads
 * the snapshot into ctx (a NULL: reset a to it) and applies the records.
 */
static int account_stream(quota_sqlite *db, quota_ctx *ctx, const char *id,
			  quota_account *a, bool apply)
{
	sqlite3_stmt *s = db->st[ST_SNAP_GET], *r = db->st[ST_RECS];
	uint64_t from = 0, want;
	int rc;

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const uint8_t *p = sqlite3_column_blob(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1);
		quota_account *got;

		from = (uint64_t)sqlite3_column_int64(s, 0);
		if (!apply)
			rc = check_snapshot(db, ctx, id, from, p, n);
		else if (a)
			rc = quota_account_reset(a, p, n);
		else
			rc = quota_account_load(ctx, p, n, &got);
		if (rc && apply) {
			char why[256];

			snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
			rc = quota_ctx_set_error(
				ctx,
				rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION
					? rc
					: QUOTA_ECORRUPT,
				"%s: snapshot of account '%s': %s: %s",
				db->path, id, quota_err_name(rc), why);
		}
	} else if (rc == SQLITE_DONE) {
		rc = apply && a ? quota_account_reset(a, NULL, 0) : QUOTA_OK;
	} else {
		rc = read_failed(db, ctx, rc, "reading snapshots");
	}
	sqlite3_reset(s);
	if (rc)
		return rc;
	want = from + 1;
	sqlite3_bind_text(r, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r, 2, (sqlite3_int64)from);
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(r, 0);
		const uint8_t *p = sqlite3_column_blob(r, 1);
		size_t n = (size_t)sqlite3_column_bytes(r, 1);

		if (apply) {
			if ((rc = quota_journal_apply(ctx, p, n, 0)))
				rc = apply_failed(db, ctx, rc, id, seq);
		} else if (seq != want) {
			rc = quota_ctx_set_error(
				ctx, QUOTA_ECORRUPT,
				"%s: account '%s': record %llu follows %llu",
				db->path, id, (unsigned long long)seq,
				(unsigned long long)(want - 1));
		} else {
			rc = check_record(db, ctx, id, seq, p, n);
		}
		if (rc)
			break;
		want++;
	}
	if (rc == SQLITE_DONE)
		rc = QUOTA_OK;
	else if (rc > 0)
		rc = read_failed(db, ctx, rc, "reading journal records");
	sqlite3_reset(r);
	if (!rc && !apply && want == 1)
		rc = quota_ctx_set_error(ctx, QUOTA_ECORRUPT,
					 "%s: account '%s' has neither a "
					 "snapshot nor records",
					 db->path, id);
	return rc;
}

/* The configuration stream, then every account in the order they were
 * made: checked (apply 0) or applied (apply 1). */
static int recover_pass(quota_sqlite *db, quota_ctx *ctx, bool apply)
{
	sqlite3_stmt *c = db->st[ST_CFG_ALL], *acc = db->st[ST_ACCTS];
	uint64_t want = 1;
	int rc;

	while ((rc = sqlite3_step(c)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(c, 0);
		const uint8_t *p = sqlite3_column_blob(c, 1);
		size_t n = (size_t)sqlite3_column_bytes(c, 1);

		if (apply) {
			if ((rc = quota_journal_apply(ctx, p, n, 0)))
				rc = apply_failed(db, ctx, rc, NULL, seq);
		} else if (seq != want) {
			rc = quota_ctx_set_error(
				ctx, QUOTA_ECORRUPT,
				"%s: configuration record %llu follows %llu",
				db->path, (unsigned long long)seq,
				(unsigned long long)(want - 1));
		} else {
			rc = check_record(db, ctx, NULL, seq, p, n);
		}
		if (rc)
			break;
		want++;
	}
	if (rc == SQLITE_DONE)
		rc = QUOTA_OK;
	else if (rc > 0)
		rc = read_failed(db, ctx, rc, "reading the configuration");
	sqlite3_reset(c);
	if (rc)
		return rc;
	db->cfg_seq = want - 1;
	while ((rc = sqlite3_step(acc)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(acc, 0);

		if (!id) {
			rc = read_failed(db, ctx, sqlite3_errcode(db->db),
					 "reading accounts");
			break;
		}
		if ((rc = account_stream(db, ctx, id, NULL, apply)))
			break;
	}
	if (rc == SQLITE_DONE)
		rc = QUOTA_OK;
	else if (rc > 0)
		rc = read_failed(db, ctx, rc, "reading accounts");
	sqlite3_reset(acc);
	return rc;
}

/* Both passes in one read transaction: one consistent view. */
static int recover(quota_sqlite *db, quota_ctx *ctx)
{
	int rc = step_done(db, ST_BEGIN_READ);

	if (rc)
		return quota_ctx_set_error(ctx, open_code(rc), "%s: %s",
					   db->path, db->msg);
	rc = recover_pass(db, ctx, false);
	if (!rc)
		rc = recover_pass(db, ctx, true);
	rollback_quietly(db);
	return rc;
}

/* ----------------------------------------------------------- the store */

/* What an SQLite error on a write means for the library (quota_sqlite(3),
 * "Outcomes").  at_commit: the statement committed a transaction. */
static int write_code(quota_sqlite *db, int rc, bool at_commit)
{
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return QUOTA_ECONFLICT;
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CORRUPT) {
		db->broken = true; /* STYLE 28: stop */
		return at_commit ? QUOTA_EUNKNOWN : QUOTA_ESTORE;
	}
	return QUOTA_ESTORE;
}

/* After a failed statement inside a batch: did SQLite roll the whole
 * transaction back (SQLITE_FULL, IOERR, NOMEM may)? */
static void batch_check(quota_sqlite *db)
{
	if (db->in_batch && !db->batch_lost &&
	    sqlite3_get_autocommit(db->db)) {
		db->batch_lost = true;
		memcpy(db->lost, db->msg, sizeof db->lost);
	}
}

/* The configuration stream must follow what the file holds: a context
 * that had configuration before it was opened would leave a gap. */
static int cfg_follows(quota_sqlite *db, uint64_t seq)
{
	sqlite3_stmt *s = db->st[ST_CFG_MAX];
	int rc;

	if (seq <= db->cfg_seq + 1)
		return QUOTA_OK;
	/* Another writer may have added some. */
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		db->cfg_seq = (uint64_t)sqlite3_column_int64(s, 0);
	else
		sqlite_words(db, rc, sql_text[ST_CFG_MAX]);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return QUOTA_ESTORE;
	if (seq <= db->cfg_seq + 1)
		return QUOTA_OK;
	snprintf(db->msg, sizeof db->msg,
		 "configuration record %llu would follow %llu: the context "
		 "had configuration the database does not hold",
		 (unsigned long long)seq, (unsigned long long)db->cfg_seq);
	return QUOTA_ESTORE;
}

/* An account's first record also lists the account (recovery order). */
static int insert_first(quota_sqlite *db, const char *account)
{
	bool own = !db->in_batch;
	int rc, code;

	if (own && (rc = step_done(db, ST_BEGIN)))
		return write_code(db, rc, false);
	if ((rc = step_done(db, ST_INS_REC)) == SQLITE_OK) {
		sqlite3_bind_text(db->st[ST_INS_ACCT], 1, account, -1,
				  SQLITE_STATIC);
		rc = step_done(db, ST_INS_ACCT);
	}
	if (rc) {
		code = write_code(db, rc, false);
		if (own)
			rollback_quietly(db);
		else
			batch_check(db);
		return code;
	}
	if (own && (rc = step_done(db, ST_COMMIT))) {
		code = write_code(db, rc, true);
		rollback_quietly(db);
		return code;
	}
	return QUOTA_OK;
}

static int cb_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	quota_sqlite *db = ud;
	sqlite3_stmt *s;
	int rc, code;

	if (db->broken) {
		snprintf(db->msg, sizeof db->msg,
			 "an earlier I/O error: quota_sqlite_resync first");
		return QUOTA_ESTORE;
	}
	if (db->batch_lost) {
		snprintf(db->msg, sizeof db->msg,
			 "the batch's transaction was rolled back: %.400s",
			 db->lost);
		return QUOTA_ESTORE;
	}
	if (len > INT32_MAX || seq > INT64_MAX) {
		snprintf(db->msg, sizeof db->msg, "record too large");
		return QUOTA_ESTORE;
	}
	if (!account) {
		if ((code = cfg_follows(db, seq)))
			return code;
		s = db->st[ST_INS_CFG];
		sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
		sqlite3_bind_blob(s, 2, rec, (int)len, SQLITE_STATIC);
	} else {
		s = db->st[ST_INS_REC];
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
		sqlite3_bind_blob(s, 3, rec, (int)len, SQLITE_STATIC);
		if (seq == 1)
			return insert_first(db, account);
	}
	rc = step_done(db, account ? ST_INS_REC : ST_INS_CFG);
	if (rc == SQLITE_OK) {
		if (!account && seq > db->cfg_seq)
			db->cfg_seq = seq;
		return QUOTA_OK;
	}
	code = write_code(db, rc, !db->in_batch);
	batch_check(db);
	return code;
}

static int cb_begin(void *ud)
{
	quota_sqlite *db = ud;
	int rc;

	if (db->broken) {
		snprintf(db->msg, sizeof db->msg,
			 "an earlier I/O error: quota_sqlite_resync first");
		return QUOTA_ESTORE;
	}
	if ((rc = step_done(db, ST_BEGIN)))
		return write_code(db, rc, false);
	db->in_batch = true;
	db->batch_lost = false;
	return QUOTA_OK;
}

static int cb_commit(void *ud)
{
	quota_sqlite *db = ud;
	bool lost = db->batch_lost;
	int rc, code = QUOTA_OK;

	db->in_batch = false;
	db->batch_lost = false;
	if (lost || db->broken) {
		if (lost)
			snprintf(db->msg, sizeof db->msg,
				 "the batch's transaction was rolled back: "
				 "%.400s",
				 db->lost);
		rollback_quietly(db);
		return QUOTA_ESTORE;
	}
	if ((rc = step_done(db, ST_COMMIT))) {
		code = write_code(db, rc, true);
		if (code == QUOTA_ECONFLICT)
			code = QUOTA_ESTORE;
		rollback_quietly(db);
	}
	return code;
}

static const char *cb_errmsg(void *ud)
{
	return ((quota_sqlite *)ud)->msg;
}

void quota_sqlite__store(quota_sqlite *db, quota_store *out)
{
	quota_store st = QUOTA_STORE_INIT;

	st.ud = db;
	st.append = cb_append;
	st.begin = cb_begin;
	st.commit = cb_commit;
	st.errmsg = cb_errmsg;
	*out = st;
}

/* ------------------------------------------------------------ the API */

QUOTA_API int quota_sqlite_open_with(quota_ctx *ctx, const char *path,
				   const quota_sqlite_options *opts,
				   quota_sqlite **out)
{
	quota_sqlite_options def = QUOTA_SQLITE_OPTIONS_INIT;
	quota_store st = QUOTA_STORE_INIT;
	quota_sqlite *db;
	size_t k;
	int rc;

	if (out)
		*out = NULL;
	if (!ctx || !path || !out)
		return quota_ctx_set_error(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: ctx, path and "
					   "out must not be NULL");
	if (opts && (opts->version != QUOTA_SQLITE_OPTIONS_VERSION ||
		     opts->size < sizeof *opts ||
		     (opts->synchronous != QUOTA_SQLITE_SYNC_FULL &&
		      opts->synchronous != QUOTA_SQLITE_SYNC_NORMAL) ||
		     opts->busy_timeout_ms < 0))
		return quota_ctx_set_error(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: bad options "
					   "(version, size, synchronous or "
					   "busy_timeout_ms)");
	if (quota_category_count(ctx) || quota_ctx_account_count(ctx))
		return quota_ctx_set_error(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: the context "
					   "already holds categories or "
					   "accounts");
	k = strlen(path) + 1;
	if (!(db = calloc(1, sizeof *db)) || !(db->path = malloc(k))) {
		free(db);
		return quota_ctx_set_error(ctx, QUOTA_ENOMEM,
					   "quota_sqlite_open: out of memory");
	}
	memcpy(db->path, path, k);
	db->opt = opts ? *opts : def;
	db->opt.size = sizeof db->opt;
	db->ctx = ctx;
	crc_init(db);
	if ((rc = connect(db, ctx)))
		goto failed;
	if ((rc = recover(db, ctx)))
		goto failed;
	quota_sqlite__store(db, &st);
	if ((rc = quota_ctx_set_store(ctx, &st)))
		goto failed;
	*out = db;
	return QUOTA_OK;
failed:
	disconnect(db);
	free(db->path);
	free(db);
	return rc;
}

QUOTA_API int quota_sqlite_open(quota_ctx *ctx, const char *path,
			      quota_sqlite **out)
{
	return quota_sqlite_open_with(ctx, path, NULL, out);
}

QUOTA_API void quota_sqlite_close(quota_sqlite *db)
{
	if (!db)
		return;
	quota_ctx_set_store(db->ctx, NULL);
	rollback_quietly(db);
	disconnect(db);
	free(db->path);
	free(db);
}

/* Snapshot one account into the open transaction: upsert (a newer one
 * another writer stored stays), then drop the records it covers. */
static int checkpoint_one(quota_sqlite *db, quota_account *a)
{
	const char *id = quota_account_id(a);
	void *snap = NULL;
	size_t n = 0, pos = 0;
	uint64_t k = 0, seq = 0;
	const uint8_t *p;
	int rc;

	if ((rc = quota_account_snapshot(a, &snap, &n)))
		return fail(db, db->ctx, rc, "snapshot of account '%s': %s",
			    id, quota_errmsg(db->ctx));
	p = snap;
	if (n < 14 || n > INT32_MAX || !get_uv(p + 14, n - 14, &pos, &k) ||
	    k > n - 14 - pos ||
	    (pos += (size_t)k, !get_uv(p + 14, n - 14, &pos, &seq)) ||
	    seq > INT64_MAX) {
		quota_free(db->ctx, snap);
		return fail(db, db->ctx, QUOTA_ECORRUPT,
			    "snapshot of account '%s': unreadable header", id);
	}
	if (seq == 0) { /* nothing stored yet (unknown creation) */
		quota_free(db->ctx, snap);
		return QUOTA_OK;
	}
	sqlite3_bind_text(db->st[ST_SNAP_PUT], 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(db->st[ST_SNAP_PUT], 2, (sqlite3_int64)seq);
	sqlite3_bind_blob(db->st[ST_SNAP_PUT], 3, snap, (int)n,
			  SQLITE_STATIC);
	rc = step_done(db, ST_SNAP_PUT);
	quota_free(db->ctx, snap);
	if (!rc) {
		sqlite3_bind_text(db->st[ST_DEL], 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(db->st[ST_DEL], 2, (sqlite3_int64)seq);
		rc = step_done(db, ST_DEL);
	}
	if (rc) {
		write_code(db, rc, false);
		return quota_ctx_set_error(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	return QUOTA_OK;
}

QUOTA_API int quota_sqlite_checkpoint(quota_sqlite *db)
{
	quota_account *a;
	int rc;

	if (!db)
		return QUOTA_EINVAL;
	if (db->in_batch)
		return fail(db, db->ctx, QUOTA_EINVAL,
			    "quota_sqlite_checkpoint: inside a batch");
	if (db->broken)
		return fail(db, db->ctx, QUOTA_ESTORE,
			    "quota_sqlite_checkpoint: an earlier I/O error: "
			    "quota_sqlite_resync first");
	if ((rc = step_done(db, ST_BEGIN))) {
		write_code(db, rc, false);
		return quota_ctx_set_error(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	for (uint32_t i = 0; (a = quota_ctx_account_at(db->ctx, i)); i++)
		if ((rc = checkpoint_one(db, a))) {
			rollback_quietly(db);
			return rc;
		}
	if ((rc = step_done(db, ST_COMMIT))) {
		write_code(db, rc, true);
		rollback_quietly(db);
		return quota_ctx_set_error(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	return QUOTA_OK;
}

/* After an I/O error: a new connection, so nothing SQLite kept from the
 * failed one (pages, locks, its error state) is trusted. */
static int reconnect(quota_sqlite *db)
{
	quota_ctx *ctx = db->ctx;
	int rc;

	disconnect(db);
	if ((rc = connect(db, ctx)))
		return rc;
	db->broken = false;
	db->in_batch = false;
	db->batch_lost = false;
	return QUOTA_OK;
}

QUOTA_API int quota_sqlite_resync(quota_sqlite *db, quota_account *a)
{
	const char *id;
	int rc;

	if (!db || !a || quota_account_ctx(a) != db->ctx)
		return db ? fail(db, db->ctx, QUOTA_EINVAL,
				 "quota_sqlite_resync: no account of the "
				 "database's context")
			  : QUOTA_EINVAL;
	if (db->in_batch)
		return fail(db, db->ctx, QUOTA_EINVAL,
			    "quota_sqlite_resync: inside a batch");
	if (db->broken && (rc = reconnect(db)))
		return rc;
	id = quota_account_id(a);
	if ((rc = step_done(db, ST_BEGIN_READ)))
		return quota_ctx_set_error(db->ctx, QUOTA_ESTORE, "%s: %s",
					   db->path, db->msg);
	rc = account_stream(db, db->ctx, id, NULL, false);
	if (!rc)
		rc = account_stream(db, db->ctx, id, a, true);
	rollback_quietly(db);
	return rc;
}

/* Not exported: for tests (quota_sqlite_int.h). */
sqlite3 *quota_sqlite__handle(quota_sqlite *db)
{
	return db ? db->db : NULL;
}
