/*
 * recover.c - reading a libquota SQLite file back (DESIGN §5;
 * quota_sqlite(3)): recovery at open and an account's resync.
 *
 * This file owns the checks of what the file holds (each row checked by
 * the core - quota_journal_peek, quota_snapshot_peek: frame, CRC-32C,
 * format, header - and naming the right stream; sequence numbers without
 * gaps) and the order streams are applied in: the configuration, then
 * each account's snapshot and the records after it.  Writing, opening
 * and checkpoints are quota_sqlite.c's.
 *
 * Recovery reads everything in one read transaction, twice: a first pass
 * checks what SQLite can read and what the frames say, so that a damaged
 * file is refused before ctx is touched; the second pass applies.  A
 * resync does the same for one account.
 */
#include "quota_sqlite_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ streams */

/*
 * A record (kind 1) or snapshot (kind 0) checked by the core as it checks
 * them before applying (quota_journal_peek, quota_snapshot_peek: frame,
 * checksum, format, header), and naming the stream (id NULL: the
 * configuration) and number its row says.
 */
static int check_row(quota_sqlite *db, quota_ctx *ctx, const char *id,
		     int kind, uint64_t seq, const uint8_t *p, size_t n)
{
	char rid[QUOTA_ID_MAX + 1], why[512];
	uint64_t rseq = 0;
	int rc = !p ? QUOTA_ECORRUPT
	       : kind ? quota_journal_peek(ctx, p, n, rid, &rseq)
		      : quota_snapshot_peek(ctx, p, n, rid, &rseq);

	if (rc == QUOTA_OK && rseq == seq && strcmp(rid, id ? id : "") == 0)
		return QUOTA_OK;
	if (rc == QUOTA_OK || !p) {
		rc = QUOTA_ECORRUPT;
		snprintf(why, sizeof why, "%s",
			 p ? "it names another stream or number" : "empty");
	} else {
		snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
	}
	return quota_sqlite__say(ctx, rc, "%s: %s %llu of %s%s%s: %s",
				   db->path, kind ? "record" : "snapshot",
				   (unsigned long long)seq,
				   id ? "account '" : "the configuration",
				   id ? id : "", id ? "'" : "", why);
}

/* The failure of a SQLite read during recovery or resync. */
static int read_failed(quota_sqlite *db, quota_ctx *ctx, int rc,
		       const char *what)
{
	quota_sqlite__sqlite_words(db, rc, what);
	return quota_sqlite__say(ctx, quota_sqlite__open_code(rc), "%s: %s",
				   db->path, db->msg);
}

static int apply_failed(quota_sqlite *db, quota_ctx *ctx, int rc,
			const char *id, uint64_t seq)
{
	char why[256];

	snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
	return quota_sqlite__say(
		ctx,
		rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION ? rc
							   : QUOTA_ECORRUPT,
		"%s: record %llu of %s%s%s refused: %s: %s", db->path,
		(unsigned long long)seq,
		id ? "account '" : "the configuration", id ? id : "",
		id ? "'" : "", quota_err_name(rc), why);
}

/*
 * The records r yields (ordered by sequence number), of account id or of
 * the configuration (id NULL), after number from: checked (apply 0: no
 * gap, frame, checksum, header) or applied (apply 1).  *last: the number
 * of the last one (from if none).  r is reset.
 */
static int stream(quota_sqlite *db, quota_ctx *ctx, sqlite3_stmt *r,
		  const char *id, uint64_t from, bool apply, uint64_t *last)
{
	uint64_t want = from + 1;
	int rc;

	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(r, 0);
		const uint8_t *p = sqlite3_column_blob(r, 1);
		size_t n = (size_t)sqlite3_column_bytes(r, 1);

		if (apply) {
			if ((rc = quota_journal_apply(ctx, p, n, 0)))
				rc = apply_failed(db, ctx, rc, id, seq);
		} else if (seq != want) {
			rc = quota_sqlite__say(
				ctx, QUOTA_ECORRUPT,
				"%s: %s%s%s record %llu follows %llu",
				db->path, id ? "account '" : "configuration",
				id ? id : "", id ? "':" : "",
				(unsigned long long)seq,
				(unsigned long long)(want - 1));
		} else {
			rc = check_row(db, ctx, id, 1, seq, p, n);
		}
		if (rc)
			break;
		want++;
	}
	if (rc == SQLITE_DONE)
		rc = QUOTA_OK;
	else if (rc > 0)
		rc = read_failed(db, ctx, rc,
				 id ? "reading journal records"
				    : "reading the configuration");
	sqlite3_reset(r);
	*last = want - 1;
	return rc;
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
	uint64_t from = 0, last;
	bool snap = false;
	int rc;

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const uint8_t *p = sqlite3_column_blob(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1);
		quota_account *got;

		snap = true;
		from = (uint64_t)sqlite3_column_int64(s, 0);
		if (!apply)
			rc = check_row(db, ctx, id, 0, from, p, n);
		else if (a)
			rc = quota_account_reset(a, p, n);
		else
			rc = quota_account_load(ctx, p, n, &got);
		if (rc && apply) {
			char why[256];

			snprintf(why, sizeof why, "%s", quota_errmsg(ctx));
			rc = quota_sqlite__say(
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
	sqlite3_bind_text(r, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r, 2, (sqlite3_int64)from);
	if ((rc = stream(db, ctx, r, id, from, apply, &last)))
		return rc;
	/* A snapshot numbered 0 (of an account quota_account_load brought
	 * from a context without a store, checkpointed before it wrote) is
	 * an account; no snapshot and no record is none. */
	if (!apply && !snap && last == 0)
		rc = quota_sqlite__say(ctx, QUOTA_ECORRUPT,
					 "%s: account '%s' has neither a "
					 "snapshot nor records",
					 db->path, id);
	return rc;
}

/* The configuration stream after record cfg (what ctx holds), then every
 * account the file lists and ctx does not hold, in the order they were
 * made: checked (apply 0) or applied (apply 1). */
static int recover_pass(quota_sqlite *db, quota_ctx *ctx, uint64_t cfg,
			bool apply)
{
	sqlite3_stmt *acc = db->st[ST_ACCTS], *c = db->st[ST_CFG_ALL];
	quota_account *have;
	int rc;

	sqlite3_bind_int64(c, 1, (sqlite3_int64)cfg);
	if ((rc = stream(db, ctx, c, NULL, cfg, apply, &db->cfg_seq)))
		return rc;
	while ((rc = sqlite3_step(acc)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(acc, 0);

		if (!id) {
			rc = read_failed(db, ctx, sqlite3_errcode(db->db),
					 "reading accounts");
			break;
		}
		/* Known to this handle: held, or removed since (a host
		 * evicts cold accounts, or moves one to another context:
		 * resync(db, NULL) must not bring it back; it is known to
		 * no handle at open). */
		if (quota_sqlite__known(db, id))
			continue;
		if (quota_account_find(ctx, id, &have) == QUOTA_OK) {
			quota_sqlite__remember(db, id);
			continue;
		}
		if ((rc = account_stream(db, ctx, id, NULL, apply)))
			break;
		if (apply)
			quota_sqlite__remember(db, id);
	}
	if (rc == SQLITE_DONE)
		rc = QUOTA_OK;
	else if (rc > 0)
		rc = read_failed(db, ctx, rc, "reading accounts");
	sqlite3_reset(acc);
	return rc;
}

/* Records or a snapshot of an account the accounts table does not list
 * would never be read: the file is refused instead. */
static int orphans(quota_sqlite *db, quota_ctx *ctx)
{
	sqlite3_stmt *s = db->st[ST_ORPHAN];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);

		rc = quota_sqlite__say(ctx, QUOTA_ECORRUPT,
				       "%s: account '%.200s' has records or a "
				       "snapshot but is not listed in "
				       "accounts",
				       db->path, id ? id : "");
	} else if (rc == SQLITE_DONE) {
		rc = QUOTA_OK;
	} else {
		rc = read_failed(db, ctx, rc, "reading accounts");
	}
	sqlite3_reset(s);
	return rc;
}

/* Both passes (apply false: the first alone) in one read transaction:
 * one consistent view. */
int quota_sqlite__recover(quota_sqlite *db, quota_ctx *ctx, bool apply)
{
	uint64_t cfg = quota_ctx_config_seq(ctx);
	int rc = quota_sqlite__step_done(db, ST_BEGIN_READ);

	if (rc)
		return quota_sqlite__say(ctx, quota_sqlite__open_code(rc),
					   "%s: %s", db->path, db->msg);
	rc = orphans(db, ctx);
	if (!rc)
		rc = recover_pass(db, ctx, cfg, false);
	if (!rc && apply)
		rc = recover_pass(db, ctx, cfg, true);
	quota_sqlite__rollback_quietly(db);
	return rc;
}

/* One account's stream, both passes in one read transaction (resync). */
int quota_sqlite__recover_account(quota_sqlite *db, quota_account *a)
{
	const char *id = quota_account_id(a);
	int rc;

	if ((rc = quota_sqlite__step_done(db, ST_BEGIN_READ)))
		return quota_sqlite__say(db->ctx, QUOTA_ESTORE, "%s: %s",
					   db->path, db->msg);
	rc = account_stream(db, db->ctx, id, NULL, false);
	if (!rc)
		rc = account_stream(db, db->ctx, id, a, true);
	quota_sqlite__rollback_quietly(db);
	return rc;
}
