/*
 * quota_pg_int.h - private to libquota-pg and its tests.
 *
 * Nothing here is exported from libquota-pg.so (built with
 * -fvisibility=hidden); tests link libquota-pg.a.  The library's files
 * share the handle and a few helpers: quota_pg.c connects, writes through
 * the store callbacks and holds the API; run.c is quota_pg_run; load.c
 * reads streams back (account loads, catching up); lease.c holds the
 * leases (DESIGN §6).
 */
#ifndef QUOTA_PG_INT_H
#define QUOTA_PG_INT_H

#include "quota_pg.h"
#include "quota_store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* quota_meta's 'schema_version': the schema this library writes and
 * reads (quota_pg(3)). */
#define QUOTA_PG_SCHEMA 1
/* The key of the advisory lock the schema is created under. */
#define QUOTA_PG_LOCK_KEY INT64_C(0x51554F5441000001)

/* The statements each connection prepares (their SQL: quota_pg.c). */
enum { PST_APPEND, PST_READ, PST_COUNT };

/* One server.  Written only by quota_pg.c (connect, reset) and, for
 * in_txn, by the store callbacks. */
typedef struct quota_pg_shard {
	PGconn *conn;
	char *conninfo;
	bool prepared; /* the statements exist on this session */
} quota_pg_shard;

struct quota_pg {
	quota_ctx *ctx;
	quota_pg_shard *shard;
	uint32_t nshards;
	quota_pg_options opt;
	/* A batch (quota_batch): between begin and commit.  Its shard is
	 * the first append's (batch_shard < 0: none yet); failed says a
	 * statement of it failed, so the commit rolls it back. */
	bool in_batch;
	int64_t batch_shard;
	bool batch_failed;
	/*
	 * A batch's accounts: the first record of each goes to the server
	 * at once (it locks the account's head row until the commit, or
	 * conflicts), the records after it are kept here (brec, bbuf) and
	 * sent at the commit in one statement: a batch of n records on one
	 * account is a few round trips, not n (§5, group commit).
	 */
	struct quota_pg_bacct {
		const char *id;  /* the account's (borrowed for the batch) */
		uint64_t head;   /* the last number this batch holds */
		bool conflicted; /* another writer was first */
	} *bacct;
	size_t nbacct, cbacct;
	struct quota_pg_brec {
		const char *id;
		uint64_t seq;
		size_t off, len; /* in bbuf */
	} *brec;
	size_t nbrec, cbrec;
	unsigned char *bbuf;
	size_t nbbuf, cbbuf;
	char msg[768];  /* the last failure, for the errmsg callback */
	char lost[512]; /* why the batch will be rolled back */
	/* Test hook: called before the statement of an append is sent. */
	void (*send_hook)(quota_pg *pg, uint32_t shard, void *ud);
	void *send_hook_ud;
};

/* quota_pg.c: word a failure on ctx, printf-style (quota_ctx_set_error
 * takes a plain string), and return code. */
int quota_pg__say(quota_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* quota_pg.c: the shard of an account id (NULL: the configuration). */
uint32_t quota_pg__shard_of(const quota_pg *pg, const char *id);
/* quota_pg.c: make shard k's connection usable (reconnect, prepare);
 * QUOTA_ESTORE with pg->msg set if it cannot be. */
int quota_pg__ready(quota_pg *pg, uint32_t k);
/* quota_pg.c: the server's words for a failed call into pg->msg. */
void quota_pg__words(quota_pg *pg, uint32_t k, const PGresult *res,
		     const char *what);
/* quota_pg.c: a name of shard k for messages (db@host:port). */
const char *quota_pg__name(const quota_pg *pg, uint32_t k, char *buf,
			   size_t n);

/* load.c: load account id from its shard into ctx (QUOTA_ENOTFOUND if
 * the server holds nothing of it). */
int quota_pg__load(quota_pg *pg, const char *id, quota_account **out);
/* load.c: catch a (NULL: the configuration stream) up with its shard. */
int quota_pg__catch_up(quota_pg *pg, quota_account *a);

/* Tests: shard k's connection, and a hook run before each append's
 * statement is sent (to kill the connection's backend, say). */
PGconn *quota_pg__conn(quota_pg *pg, uint32_t k);
void quota_pg__set_send_hook(quota_pg *pg,
			     void (*fn)(quota_pg *pg, uint32_t shard,
					void *ud),
			     void *ud);

#endif /* QUOTA_PG_INT_H */
