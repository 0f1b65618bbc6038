/*
 * quota_sqlite_int.h - private to libquota-sqlite and its tests.
 *
 * Nothing here is exported from libquota-sqlite.so (built with
 * -fvisibility=hidden); tests link libquota-sqlite.a.  The library's two
 * files share the handle and a few helpers: quota_sqlite.c opens, writes
 * and checkpoints; recover.c reads a file back (DESIGN §5).
 */
#ifndef QUOTA_SQLITE_INT_H
#define QUOTA_SQLITE_INT_H

#include "quota_sqlite.h"
#include "quota_store.h"
#include "../siphash.h" /* the id set's hash (§7) */

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PRAGMA application_id of our files: "QUOT" as a big-endian u32. */
#define QUOTA_SQLITE_APP_ID 0x51554F54
/* PRAGMA user_version: the schema this library writes and reads. */
#define QUOTA_SQLITE_SCHEMA 1

/* The prepared statements, by index (their SQL: quota_sqlite.c). */
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
	ST_ORPHAN,
	ST_INS_PLAIN,
	ST_COUNT
};

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
	/* Accounts this handle knows have their accounts row (a set of
	 * ids, open addressing, under a SipHash-1-3 key of its own drawn at
	 * open: ids are the caller's strings, DESIGN §7), and those a batch
	 * listed, known once it commits. */
	quota__hkey idkey;
	char **known;
	size_t nknown, capknown;
	char **pending;
	size_t npending, cappending;
	/* In a batch: the account whose record chk_seq passed the check
	 * against its snapshot (chk_valid), so that its later ones need
	 * not: nobody else can store a snapshot while the batch holds the
	 * write lock. */
	char *chk_id;
	size_t chk_cap;
	uint64_t chk_seq;
	bool chk_valid;
	char msg[512];    /* the last failure, for the errmsg callback */
	char lost[512];   /* why the batch's transaction was rolled back */
};

/* quota_sqlite.c: SQLite's words for the connection's last error into
 * db->msg; a statement that returns no row, stepped and reset; the open
 * transaction, if any, rolled back; SQLite's code as the library's when
 * a file is opened or read. */
void quota_sqlite__sqlite_words(quota_sqlite *db, int rc, const char *what);
int quota_sqlite__step_done(quota_sqlite *db, int which);
void quota_sqlite__rollback_quietly(quota_sqlite *db);
int quota_sqlite__open_code(int rc);
/* connect.c: the statements' text; connecting (create: make the schema
 * in a new file; a file with bytes that are not a SQLite database is
 * refused before SQLite opens it) and disconnecting (statements
 * finalized, handle closed); whether the file runs in WAL mode, and the
 * switch to it, which writes the file: open makes it only once
 * recovery's checks passed, and from then on closing checkpoints. */
extern const char *const quota_sqlite__sql[];
int quota_sqlite__connect(quota_sqlite *db, quota_ctx *ctx, bool create);
void quota_sqlite__disconnect(quota_sqlite *db);
bool quota_sqlite__is_wal(quota_sqlite *db);
int quota_sqlite__wal(quota_sqlite *db, quota_ctx *ctx);
/* quota_sqlite.c: account is listed in the file's accounts table (known
 * at once outside a batch, at its commit inside one). */
void quota_sqlite__remember(quota_sqlite *db, const char *account);
/* ... and whether it is: an account the context held and removed since
 * (quota_account_remove) stays known, so resync(db, NULL) leaves it out. */
bool quota_sqlite__known(const quota_sqlite *db, const char *account);

/* recover.c: read into ctx what the file holds and ctx does not - the
 * configuration records after quota_ctx_config_seq(ctx), then every
 * account it lists that ctx lacks (open: everything; resync(db, NULL):
 * what another writer, or a write whose outcome was unknown, added);
 * only check that (apply false: open's look before the file is switched
 * to WAL); read one account's stream into a (resync).  Each checks
 * everything first, then applies. */
int quota_sqlite__recover(quota_sqlite *db, quota_ctx *ctx, bool apply);
int quota_sqlite__recover_account(quota_sqlite *db, quota_account *a);

/* Word a failure on ctx, printf-style (quota_ctx_set_error takes a
 * plain string: the public API has no varargs), and return code. */
int quota_sqlite__say(quota_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The connection of db, for tests that need to reach under the store
 * (PRAGMA max_page_count to provoke SQLITE_FULL). */
sqlite3 *quota_sqlite__handle(quota_sqlite *db);
/* The store db set on its context, for tests that wrap it (a store that
 * fails its N-th call with SQLite underneath). */
void quota_sqlite__store(quota_sqlite *db, quota_store *out);

#endif /* QUOTA_SQLITE_INT_H */
