/*
 * quota_sqlite.c - libquota's SQLite store (DESIGN §5; quota_sqlite(3)).
 *
 * One file holds the configuration stream, every account's journal
 * records keyed by (account, seq) and every account's latest snapshot.
 * The key is the conflict detector: a second writer of a sequence number
 * fails the PRIMARY KEY, which is QUOTA_ECONFLICT; so does a number at or
 * below the account's stored snapshot (the INSERT then adds no row),
 * because a checkpoint deleted the records that held those numbers.  A record is stored by
 * one INSERT of a prepared statement (autocommit: one durable transaction
 * per call), or staged inside BEGIN IMMEDIATE ... COMMIT for a batch.
 *
 * This file writes through the store callbacks, checkpoints and holds the
 * API.  Opening the file (schema, pragmas, prepared statements) is
 * connect.c's; reading a file back, at open and on resync, recover.c's.
 */
#include "quota_sqlite_int.h"
#include "quota_store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

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
	return quota_ctx_set_error(ctx, code, db->msg);
}

int quota_sqlite__say(quota_ctx *ctx, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return quota_ctx_set_error(ctx, code, msg);
}

/* SQLite's words for the connection's last error, with its code. */
void quota_sqlite__sqlite_words(quota_sqlite *db, int rc, const char *what)
{
	snprintf(db->msg, sizeof db->msg, "%s: %s (SQLite %d: %s)", what,
		 db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc), rc,
		 sqlite3_errstr(rc));
}

/* Step a statement that returns no row, then reset it. */
int quota_sqlite__step_done(quota_sqlite *db, int which)
{
	sqlite3_stmt *s = db->st[which];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	/* The journal INSERT's text is long: its words would crowd out
	 * SQLite's message. */
	if (rc != SQLITE_DONE)
		quota_sqlite__sqlite_words(db, rc,
					   which == ST_INS_REC
						   ? "INSERT INTO journal"
						   : quota_sqlite__sql[which]);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void quota_sqlite__rollback_quietly(quota_sqlite *db)
{
	if (db->db && !sqlite3_get_autocommit(db->db)) {
		sqlite3_step(db->st[ST_ROLLBACK]);
		sqlite3_reset(db->st[ST_ROLLBACK]);
	}
}

/* ----------------------------------------------------------- the store */

/*
 * Did a statement that commits fail before anything of its transaction
 * reached the WAL?  Only errors known to come first: a lock not had
 * (BUSY, LOCKED), a database that cannot be written (READONLY), a
 * constraint (checked before the commit writes), and SQLITE_FULL when
 * the commit frame is the last thing written: without powersafe
 * overwrite, SQLite pads the WAL to a sector after the commit frame, and
 * a full disk there leaves the commit frame written.  Anything else
 * (SQLITE_NOMEM, SQLITE_IOERR, ...) may come after the commit frame.
 */
static bool refused_before_write(quota_sqlite *db, int rc)
{
	sqlite3_file *wal = NULL;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_READONLY:
	case SQLITE_CONSTRAINT:
		return true;
	case SQLITE_FULL:
		if (sqlite3_file_control(db->db, "main",
					 SQLITE_FCNTL_JOURNAL_POINTER,
					 &wal) != SQLITE_OK ||
		    !wal || !wal->pMethods)
			return false;
		return (wal->pMethods->xDeviceCharacteristics(wal) &
			SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
	default:
		return false;
	}
}

/* What an SQLite error on a write means for the library (quota_sqlite(3),
 * "Outcomes").  at_commit: the statement committed a transaction; then
 * any error not known to come before the commit wrote is
 * QUOTA_EUNKNOWN. */
static int write_code(quota_sqlite *db, int rc, bool at_commit)
{
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return QUOTA_ECONFLICT;
	if (at_commit && !refused_before_write(db, rc)) {
		db->broken = true; /* STYLE 28: stop */
		return QUOTA_EUNKNOWN;
	}
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CORRUPT)
		db->broken = true;
	return QUOTA_ESTORE;
}

/* The journal INSERT stored nothing: the sequence number is at or below
 * the account's stored snapshot, another writer's (QUOTA_ECONFLICT). */
static int covered(quota_sqlite *db, const char *account, uint64_t seq)
{
	snprintf(db->msg, sizeof db->msg,
		 "record %llu of account '%.200s' is covered by a stored "
		 "snapshot: another writer",
		 (unsigned long long)seq, account);
	return QUOTA_ECONFLICT;
}

static void batch_check(quota_sqlite *db);

/* After a failed statement inside a batch: did SQLite roll the whole
 * transaction back (SQLITE_FULL, IOERR, NOMEM may)?  The journal INSERT
 * is an INSERT ... SELECT, after which SQLite rolls back the statement
 * alone; a batch is all or nothing, so any failure but a conflict (which
 * wrote nothing) rolls the whole transaction back here too. */
static void batch_fail(quota_sqlite *db, int code)
{
	db->chk_valid = false;
	if (db->in_batch && code != QUOTA_ECONFLICT)
		quota_sqlite__rollback_quietly(db);
	batch_check(db);
}

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
		quota_sqlite__sqlite_words(db, rc, quota_sqlite__sql[ST_CFG_MAX]);
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

/* The sequence number a snapshot says (quota_snapshot_peek); false if
 * it cannot be read or does not fit the database's integers. */
static bool snap_seq(const void *snap, size_t n, uint64_t *seq)
{
	char id[QUOTA_ID_MAX + 1];

	return n <= INT32_MAX &&
	       quota_snapshot_peek(NULL, snap, n, id, seq) == QUOTA_OK &&
	       *seq <= INT64_MAX;
}

/* An account the file does not list whose first record here is not its
 * creation (quota_account_load brought it in; the context holds it
 * already): store its state before the record, as a snapshot, so that
 * recovery has what the record follows.  Called before the record
 * applies, so the account is at seq - 1 (0 if it came from a context
 * without a store). */
static int store_base(quota_sqlite *db, const char *account, uint64_t seq)
{
	quota_account *a;
	void *snap = NULL;
	size_t n = 0;
	uint64_t at;
	int rc;

	if (quota_account_find(db->ctx, account, &a) != QUOTA_OK)
		return QUOTA_OK; /* its creation: nothing before it */
	if (quota_account_snapshot(a, &snap, &n)) {
		snprintf(db->msg, sizeof db->msg,
			 "account '%.200s': no snapshot to list it with: "
			 "%.200s",
			 account, quota_errmsg(db->ctx));
		return QUOTA_ESTORE;
	}
	if (!snap_seq(snap, n, &at) || at != seq - 1) {
		quota_free(db->ctx, snap);
		snprintf(db->msg, sizeof db->msg,
			 "account '%.200s': its snapshot is at %llu, not "
			 "before record %llu",
			 account, (unsigned long long)at,
			 (unsigned long long)seq);
		return QUOTA_ESTORE;
	}
	sqlite3_bind_text(db->st[ST_SNAP_PUT], 1, account, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(db->st[ST_SNAP_PUT], 2, (sqlite3_int64)at);
	sqlite3_bind_blob(db->st[ST_SNAP_PUT], 3, snap, (int)n,
			  SQLITE_STATIC);
	rc = quota_sqlite__step_done(db, ST_SNAP_PUT);
	quota_free(db->ctx, snap);
	return rc ? write_code(db, rc, false) : QUOTA_OK;
}

/* ------------------------------------------------- known accounts */

/* §7: a keyed hash, so that nobody can choose ids that collide. */
static size_t id_hash(const quota_sqlite *db, const char *s)
{
	return (size_t)quota__siphash13(&db->idkey, s, strlen(s));
}

static bool known_has(const quota_sqlite *db, const char *id)
{
	return quota_sqlite__known(db, id);
}

bool quota_sqlite__known(const quota_sqlite *db, const char *id)
{
	if (!db->capknown)
		return false;
	for (size_t i = id_hash(db, id) & (db->capknown - 1); db->known[i];
	     i = (i + 1) & (db->capknown - 1))
		if (strcmp(db->known[i], id) == 0)
			return true;
	return false;
}

/* Take ownership of id (malloc'd); false: out of memory (id freed). */
static bool known_add(quota_sqlite *db, char *id)
{
	if (known_has(db, id)) {
		free(id);
		return true;
	}
	if ((db->nknown + 1) * 2 > db->capknown) {
		size_t cap = db->capknown ? db->capknown * 2 : 64;
		char **t = calloc(cap, sizeof *t);

		if (!t) {
			free(id);
			return false;
		}
		for (size_t k = 0; k < db->capknown; k++) {
			size_t i;

			if (!db->known[k])
				continue;
			for (i = id_hash(db, db->known[k]) & (cap - 1); t[i];
			     i = (i + 1) & (cap - 1))
				;
			t[i] = db->known[k];
		}
		free(db->known);
		db->known = t;
		db->capknown = cap;
	}
	size_t i = id_hash(db, id) & (db->capknown - 1);

	while (db->known[i])
		i = (i + 1) & (db->capknown - 1);
	db->known[i] = id;
	db->nknown++;
	return true;
}

static char *dup_id(const char *id)
{
	size_t n = strlen(id) + 1;
	char *p = malloc(n);

	return p ? memcpy(p, id, n) : NULL;
}

/* The accounts a batch listed: known once it commits, else forgotten.
 * A failure to remember only costs a statement again later. */
static void pending_end(quota_sqlite *db, bool committed)
{
	for (size_t k = 0; k < db->npending; k++)
		if (committed)
			known_add(db, db->pending[k]);
		else
			free(db->pending[k]);
	db->npending = 0;
}

void quota_sqlite__remember(quota_sqlite *db, const char *account)
{
	char *id = dup_id(account);

	if (!id)
		return;
	if (!db->in_batch) {
		known_add(db, id);
		return;
	}
	if (db->npending == db->cappending) {
		size_t cap = db->cappending ? db->cappending * 2 : 16;
		char **t = realloc(db->pending, cap * sizeof *t);

		if (!t) {
			free(id);
			return;
		}
		db->pending = t;
		db->cappending = cap;
	}
	db->pending[db->npending++] = id;
}

static void known_free(quota_sqlite *db)
{
	pending_end(db, false);
	for (size_t k = 0; k < db->capknown; k++)
		free(db->known[k]);
	free(db->known);
	free(db->pending);
	free(db->chk_id);
	db->chk_id = NULL;
	db->chk_cap = 0;
	db->chk_valid = false;
	db->known = db->pending = NULL;
	db->nknown = db->capknown = db->cappending = 0;
}

/*
 * The first record of an account this handle writes also lists the
 * account (recovery reads the accounts it lists, in their order), if it
 * is not listed yet: its first record ever, or the first of an account
 * quota_account_load brought in, whose numbers do not start at 1.  The
 * journal row first: a conflict then lists nothing.
 */
static int insert_first(quota_sqlite *db, const char *account,
			uint64_t seq)
{
	bool own = !db->in_batch;
	int rc, code;

	if (own && (rc = quota_sqlite__step_done(db, ST_BEGIN)))
		return write_code(db, rc, false);
	if ((rc = quota_sqlite__step_done(db, ST_INS_REC)) == SQLITE_OK &&
	    sqlite3_changes(db->db) == 0) {
		if (own)
			quota_sqlite__rollback_quietly(db);
		return covered(db, account, seq);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(db->st[ST_INS_ACCT], 1, account, -1,
				  SQLITE_STATIC);
		rc = quota_sqlite__step_done(db, ST_INS_ACCT);
	}
	code = rc ? write_code(db, rc, false) : QUOTA_OK;
	if (!code && sqlite3_changes(db->db) == 1)
		code = store_base(db, account, seq);
	if (code) {
		if (own)
			quota_sqlite__rollback_quietly(db);
		else
			batch_fail(db, code);
		return code;
	}
	if (own && (rc = quota_sqlite__step_done(db, ST_COMMIT))) {
		code = write_code(db, rc, true);
		quota_sqlite__rollback_quietly(db);
		return code;
	}
	quota_sqlite__remember(db, account);
	return QUOTA_OK;
}

/* A record of account passed the snapshot check inside the batch. */
static void checked(quota_sqlite *db, const char *account, uint64_t seq)
{
	size_t n = strlen(account) + 1;

	if (n > db->chk_cap) {
		char *p = realloc(db->chk_id, n);

		if (!p) {
			db->chk_valid = false;
			return;
		}
		db->chk_id = p;
		db->chk_cap = n;
	}
	memcpy(db->chk_id, account, n);
	db->chk_seq = seq;
	db->chk_valid = true;
}

static int cb_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	quota_sqlite *db = ud;
	sqlite3_stmt *s;
	int rc, code, which = ST_INS_CFG;

	if (db->broken) {
		snprintf(db->msg, sizeof db->msg,
			 "an earlier I/O error: quota_sqlite_resync first "
			 "(an account's, or NULL)");
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
		/* Inside a batch, a later record of the account whose record
		 * passed the snapshot check needs no check: the plain INSERT,
		 * which spares SQLite a statement journal. */
		which = db->in_batch && db->chk_valid && seq > db->chk_seq &&
				strcmp(db->chk_id, account) == 0
			? ST_INS_PLAIN
			: ST_INS_REC;
		s = db->st[which];
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
		sqlite3_bind_blob(s, 3, rec, (int)len, SQLITE_STATIC);
		if (!known_has(db, account))
			return insert_first(db, account, seq);
	}
	rc = quota_sqlite__step_done(db, which);
	if (rc == SQLITE_OK && which == ST_INS_REC &&
	    sqlite3_changes(db->db) == 0)
		return covered(db, account, seq);
	if (rc == SQLITE_OK) {
		if (!account && seq > db->cfg_seq)
			db->cfg_seq = seq;
		if (which == ST_INS_REC && db->in_batch)
			checked(db, account, seq);
		return QUOTA_OK;
	}
	code = write_code(db, rc, !db->in_batch);
	batch_fail(db, code);
	return code;
}

static int cb_begin(void *ud)
{
	quota_sqlite *db = ud;
	int rc;

	if (db->broken) {
		snprintf(db->msg, sizeof db->msg,
			 "an earlier I/O error: quota_sqlite_resync first "
			 "(an account's, or NULL)");
		return QUOTA_ESTORE;
	}
	if ((rc = quota_sqlite__step_done(db, ST_BEGIN)))
		return write_code(db, rc, false);
	db->in_batch = true;
	db->batch_lost = false;
	db->chk_valid = false;
	pending_end(db, false);
	return QUOTA_OK;
}

static int cb_commit(void *ud)
{
	quota_sqlite *db = ud;
	bool lost = db->batch_lost;
	int rc, code = QUOTA_OK;

	db->in_batch = false;
	db->batch_lost = false;
	db->chk_valid = false;
	if (lost || db->broken) {
		if (lost)
			snprintf(db->msg, sizeof db->msg,
				 "the batch's transaction was rolled back: "
				 "%.400s",
				 db->lost);
		quota_sqlite__rollback_quietly(db);
		pending_end(db, false);
		return QUOTA_ESTORE;
	}
	if ((rc = quota_sqlite__step_done(db, ST_COMMIT))) {
		code = write_code(db, rc, true);
		if (code == QUOTA_ECONFLICT)
			code = QUOTA_ESTORE;
		quota_sqlite__rollback_quietly(db);
	}
	pending_end(db, code == QUOTA_OK);
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
		return quota_sqlite__say(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: ctx, path and "
					   "out must not be NULL");
	if (opts && (opts->version != QUOTA_SQLITE_OPTIONS_VERSION ||
		     opts->size < sizeof *opts ||
		     (opts->synchronous != QUOTA_SQLITE_SYNC_FULL &&
		      opts->synchronous != QUOTA_SQLITE_SYNC_NORMAL) ||
		     opts->busy_timeout_ms < 0))
		return quota_sqlite__say(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: bad options "
					   "(version, size, synchronous or "
					   "busy_timeout_ms)");
	/* A context's configuration made without a store was never
	 * journaled and would be missing from the file (the core counts it:
	 * quota_ctx_config_unstored); configuration from another store
	 * would not follow the file's; accounts are the file's to make. */
	if (quota_category_count(ctx) || quota_ctx_account_count(ctx) ||
	    quota_ctx_config_seq(ctx) || quota_ctx_config_unstored(ctx))
		return quota_sqlite__say(ctx, QUOTA_EINVAL,
					   "quota_sqlite_open: the context "
					   "already holds categories, "
					   "accounts or configuration records "
					   "(open into a new context)");
	k = strlen(path) + 1;
	if (!(db = calloc(1, sizeof *db)) || !(db->path = malloc(k))) {
		free(db);
		return quota_sqlite__say(ctx, QUOTA_ENOMEM,
					   "quota_sqlite_open: out of memory");
	}
	memcpy(db->path, path, k);
	db->opt = opts ? *opts : def;
	db->opt.size = sizeof db->opt;
	db->ctx = ctx;
	quota__hkey_random(&db->idkey, db);
	/* Nothing is written to a file that is refused: a file not in WAL
	 * mode yet is checked first, then switched, then recovered. */
	if ((rc = quota_sqlite__connect(db, ctx, true)))
		goto failed;
	if (!quota_sqlite__is_wal(db) &&
	    (rc = quota_sqlite__recover(db, ctx, false)))
		goto failed;
	if ((rc = quota_sqlite__wal(db, ctx)))
		goto failed;
	if ((rc = quota_sqlite__recover(db, ctx, true)))
		goto failed;
	quota_sqlite__store(db, &st);
	if ((rc = quota_ctx_set_store(ctx, &st)))
		goto failed;
	*out = db;
	return QUOTA_OK;
failed:
	quota_sqlite__disconnect(db);
	known_free(db);
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
	quota_sqlite__rollback_quietly(db);
	quota_sqlite__disconnect(db);
	known_free(db);
	free(db->path);
	free(db);
}

/* Snapshot one account into the open transaction: upsert (a newer one
 * another writer stored stays), then drop the records it covers. */
static int checkpoint_one(quota_sqlite *db, quota_account *a, bool *listed)
{
	const char *id = quota_account_id(a);
	void *snap = NULL;
	size_t n = 0;
	uint64_t seq = 0;
	int rc;

	/* An account waiting for a resync (a write of it ended
	 * QUOTA_EUNKNOWN) holds state the file may not: it is skipped, its
	 * records stay, and the others are checkpointed. */
	if ((rc = quota_account_snapshot(a, &snap, &n)) == QUOTA_EUNSYNCED)
		return QUOTA_OK;
	if (rc)
		return fail(db, db->ctx, rc, "snapshot of account '%s': %s",
			    id, quota_errmsg(db->ctx));
	if (!snap_seq(snap, n, &seq)) {
		quota_free(db->ctx, snap);
		return fail(db, db->ctx, QUOTA_ECORRUPT,
			    "snapshot of account '%s': unreadable header", id);
	}
	/* An account the file does not list yet (quota_account_load
	 * brought it in and it has written nothing since; numbered 0 if it
	 * came from a context without a store): listed here, with its
	 * snapshot, so that recovery reads it back. */
	if (!known_has(db, id)) {
		sqlite3_bind_text(db->st[ST_INS_ACCT], 1, id, -1,
				  SQLITE_STATIC);
		if ((rc = quota_sqlite__step_done(db, ST_INS_ACCT))) {
			quota_free(db->ctx, snap);
			write_code(db, rc, false);
			return quota_sqlite__say(db->ctx, QUOTA_ESTORE,
						 "checkpoint: %s", db->msg);
		}
		*listed = true;
	}
	sqlite3_bind_text(db->st[ST_SNAP_PUT], 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(db->st[ST_SNAP_PUT], 2, (sqlite3_int64)seq);
	sqlite3_bind_blob(db->st[ST_SNAP_PUT], 3, snap, (int)n,
			  SQLITE_STATIC);
	rc = quota_sqlite__step_done(db, ST_SNAP_PUT);
	quota_free(db->ctx, snap);
	if (!rc) {
		sqlite3_bind_text(db->st[ST_DEL], 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(db->st[ST_DEL], 2, (sqlite3_int64)seq);
		rc = quota_sqlite__step_done(db, ST_DEL);
	}
	if (rc) {
		write_code(db, rc, false);
		return quota_sqlite__say(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	return QUOTA_OK;
}

QUOTA_API int quota_sqlite_checkpoint(quota_sqlite *db)
{
	quota_account *a;
	bool listed = false;
	int rc;

	if (!db)
		return QUOTA_EINVAL;
	if (db->in_batch)
		return fail(db, db->ctx, QUOTA_EINVAL,
			    "quota_sqlite_checkpoint: inside a batch");
	if (db->broken)
		return fail(db, db->ctx, QUOTA_ESTORE,
			    "quota_sqlite_checkpoint: an earlier I/O error: "
			    "quota_sqlite_resync first (an account's, or "
			    "NULL)");
	if ((rc = quota_sqlite__step_done(db, ST_BEGIN))) {
		write_code(db, rc, false);
		return quota_sqlite__say(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	for (uint32_t i = 0; (a = quota_ctx_account_at(db->ctx, i)); i++)
		if ((rc = checkpoint_one(db, a, &listed))) {
			quota_sqlite__rollback_quietly(db);
			return rc;
		}
	if ((rc = quota_sqlite__step_done(db, ST_COMMIT))) {
		write_code(db, rc, true);
		quota_sqlite__rollback_quietly(db);
		return quota_sqlite__say(db->ctx, QUOTA_ESTORE,
					   "checkpoint: %s", db->msg);
	}
	/* The accounts it listed are known once it committed. */
	for (uint32_t i = 0; listed && (a = quota_ctx_account_at(db->ctx, i));
	     i++)
		if (!quota_account_unsynced(a) &&
		    !known_has(db, quota_account_id(a)))
			quota_sqlite__remember(db, quota_account_id(a));
	return QUOTA_OK;
}

/* After an I/O error: a new connection, so nothing SQLite kept from the
 * failed one (pages, locks, its error state) is trusted.  It never
 * creates the file: a file gone is an error, not a new empty store. */
static int reconnect(quota_sqlite *db)
{
	quota_ctx *ctx = db->ctx;
	int rc;

	quota_sqlite__disconnect(db);
	if ((rc = quota_sqlite__connect(db, ctx, false)) ||
	    (rc = quota_sqlite__wal(db, ctx))) {
		quota_sqlite__disconnect(db);
		return rc;
	}
	db->broken = false;
	db->in_batch = false;
	db->batch_lost = false;
	return QUOTA_OK;
}

QUOTA_API int quota_sqlite_resync(quota_sqlite *db, quota_account *a)
{
	int rc;

	if (!db || (a && quota_account_ctx(a) != db->ctx))
		return db ? fail(db, db->ctx, QUOTA_EINVAL,
				 "quota_sqlite_resync: no account of the "
				 "database's context")
			  : QUOTA_EINVAL;
	if (db->in_batch)
		return fail(db, db->ctx, QUOTA_EINVAL,
			    "quota_sqlite_resync: inside a batch");
	if (db->broken && (rc = reconnect(db)))
		return rc;
	/* NULL: the configuration records the context lacks and the
	 * accounts the file lists that it does not hold (after an unknown
	 * outcome of a configuration record or of an account's creation,
	 * or another writer's). */
	return a ? quota_sqlite__recover_account(db, a)
		 : quota_sqlite__recover(db, db->ctx, true);
}

/* Not exported: for tests (quota_sqlite_int.h). */
sqlite3 *quota_sqlite__handle(quota_sqlite *db)
{
	return db ? db->db : NULL;
}
