/*
 * quota_sqlite.h - libquota's SQLite store (libquota-sqlite; DESIGN §5).
 *
 * One database file keeps everything a context needs to come back after a
 * restart: the configuration stream, every account's journal records and
 * its latest snapshot.  quota_sqlite_open recovers the file into a context
 * and sets itself as the context's store (quota_store.h), so from then on
 * every call that changes state is durable before it applies.
 *
 * A separate library: link with `pkg-config --libs libquota-sqlite`.  The
 * core (libquota) depends on libc alone.  See quota_sqlite(3).
 */
#ifndef QUOTA_SQLITE_H
#define QUOTA_SQLITE_H

#include "quota.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct quota_sqlite quota_sqlite;

/* How durable a commit is (PRAGMA synchronous in WAL mode). */
enum {
	/* fsync on every commit: a call that returned is on disk, even
	 * after a power loss (the default). */
	QUOTA_SQLITE_SYNC_FULL = 0,
	/* fsync at WAL checkpoints only: survives a crash of the process,
	 * but a power loss can take back the last commits (calls that
	 * returned QUOTA_OK). */
	QUOTA_SQLITE_SYNC_NORMAL = 1
};

#define QUOTA_SQLITE_OPTIONS_VERSION 1

typedef struct quota_sqlite_options {
	unsigned version;    /* QUOTA_SQLITE_OPTIONS_VERSION */
	size_t size;         /* sizeof(quota_sqlite_options) */
	int synchronous;     /* QUOTA_SQLITE_SYNC_* */
	int busy_timeout_ms; /* wait for another connection's lock (>= 0) */
} quota_sqlite_options;

#define QUOTA_SQLITE_OPTIONS_INIT                                            \
	{QUOTA_SQLITE_OPTIONS_VERSION, sizeof(quota_sqlite_options),         \
	 QUOTA_SQLITE_SYNC_FULL, 5000}

/*
 * Open (or create: no file, or an empty one; a file with bytes that are
 * not a SQLite database is QUOTA_ECORRUPT) the database at path, recover
 * everything it holds into ctx - the configuration first, then each
 * account from its latest snapshot and the records after it - and set
 * the database as ctx's store.  ctx must be new: no categories, accounts
 * or configuration records (quota_ctx_config_seq 0), and no configuration
 * made without a store (quota_ctx_config_unstored 0), else QUOTA_EINVAL
 * before the file is opened: make the configuration after the open.  On
 * failure no store is set on ctx, *out is NULL, and quota_errmsg(ctx)
 * says why (with SQLite's own message).  A damaged file is refused before ctx is
 * touched and is not written; but a record that passes every check
 * and still does not apply fails the open with ctx holding part of the
 * recovered state (the configuration and accounts applied so far): free
 * ctx then (quota_sqlite(3), ERRORS).
 */
QUOTA_API int quota_sqlite_open(quota_ctx *ctx, const char *path,
				quota_sqlite **out);
/* The same with options (NULL: the defaults). */
QUOTA_API int quota_sqlite_open_with(quota_ctx *ctx, const char *path,
				     const quota_sqlite_options *opts,
				     quota_sqlite **out);

/* Remove the store from its context and close the database.  NULL is
 * accepted. */
QUOTA_API void quota_sqlite_close(quota_sqlite *db);

/*
 * Write a snapshot of every account of the context and delete the journal
 * records the snapshots cover, in one transaction, so that the next
 * recovery reads a snapshot and few records.  An account quota_account_load
 * brought in that has written nothing yet is listed in the file with its
 * snapshot (numbered 0 if it came from a context without a store).  An
 * account waiting for a resync (quota_account_snapshot says
 * QUOTA_EUNSYNCED) is skipped and its records stay.
 */
QUOTA_API int quota_sqlite_checkpoint(quota_sqlite *db);

/*
 * Re-read account a from the database: its latest snapshot and the
 * records after it.  What a host calls after QUOTA_EUNKNOWN (the account
 * then refuses changes with QUOTA_EUNSYNCED) or QUOTA_ECONFLICT.  a NULL:
 * read what the database holds and ctx does not - the configuration
 * records after quota_ctx_config_seq, then the accounts it lists that ctx
 * lacks; what a host calls after QUOTA_EUNKNOWN on a configuration record
 * or an account's creation (the store refuses every write until a
 * resync), or when another writer changed the configuration.
 */
QUOTA_API int quota_sqlite_resync(quota_sqlite *db, quota_account *a);

#ifdef __cplusplus
}
#endif

#endif /* QUOTA_SQLITE_H */
