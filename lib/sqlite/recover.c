/*
 * recover.c - reading a libquota SQLite file back (DESIGN §5;
 * quota_sqlite(3)): recovery at open and an account's resync.
 *
 * This file owns the checks of what the file holds (frames, CRC-32C
 * checksums, headers naming the right stream, sequence numbers without
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

/* ------------------------------------------------------------- frames */

/* The tables of crc32c, made once per handle (at open). */
void quota_sqlite__crc_init(quota_sqlite *db)
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
bool quota_sqlite__get_uv(const uint8_t *p, size_t n, size_t *pos,
			  uint64_t *v)
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

/* ------------------------------------------------------------ streams */

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
		return quota_sqlite__say(
			ctx, QUOTA_EVERSION,
			"%s: record %llu of %s%s%s: format %u is newer than "
			"this library's",
			db->path, (unsigned long long)seq,
			id ? "account '" : "the configuration", id ? id : "",
			id ? "'" : "", p[8]);
	else if (!quota_sqlite__get_uv(p + 8, n - 8, &pos, &rseq) ||
		 !quota_sqlite__get_uv(p + 8, n - 8, &pos, &k) ||
		 k > n - 8 - pos || rseq != seq ||
		 k != (id ? strlen(id) : 0) ||
		 (k && memcmp(p + 8 + pos, id, (size_t)k)))
		what = "record: its header names another stream or number";
	else
		return QUOTA_OK;
	return quota_sqlite__say(ctx, QUOTA_ECORRUPT,
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
		return quota_sqlite__say(
			ctx, QUOTA_EVERSION,
			"%s: snapshot of account '%s': format %u is newer "
			"than this library's",
			db->path, id, p[4]);
	else if (crc32c(db, p + 14, n - 14) != get32(p + 10))
		what = "checksum mismatch";
	else if (!quota_sqlite__get_uv(p + 14, n - 14, &pos, &k) ||
		 k > n - 14 - pos || k != strlen(id) ||
		 memcmp(p + 14 + pos, id, (size_t)k) ||
		 (pos += (size_t)k,
		  !quota_sqlite__get_uv(p + 14, n - 14, &pos, &sseq)) ||
		 sseq != seq)
		what = "it is of another account or sequence number";
	if (!what)
		return QUOTA_OK;
	return quota_sqlite__say(ctx, QUOTA_ECORRUPT,
				   "%s: snapshot of account '%s' at %llu: %s",
				   db->path, id, (unsigned long long)seq,
				   what);
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
			rc = check_record(db, ctx, id, seq, p, n);
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
	if (!apply && last == 0)
		rc = quota_sqlite__say(ctx, QUOTA_ECORRUPT,
					 "%s: account '%s' has neither a "
					 "snapshot nor records",
					 db->path, id);
	return rc;
}

/* The configuration stream, then every account in the order they were
 * made: checked (apply 0) or applied (apply 1). */
static int recover_pass(quota_sqlite *db, quota_ctx *ctx, bool apply)
{
	sqlite3_stmt *acc = db->st[ST_ACCTS];
	int rc;

	if ((rc = stream(db, ctx, db->st[ST_CFG_ALL], NULL, 0, apply,
			 &db->cfg_seq)))
		return rc;
	while ((rc = sqlite3_step(acc)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(acc, 0);

		if (!id) {
			rc = read_failed(db, ctx, sqlite3_errcode(db->db),
					 "reading accounts");
			break;
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

/* Both passes in one read transaction: one consistent view. */
int quota_sqlite__recover(quota_sqlite *db, quota_ctx *ctx)
{
	int rc = quota_sqlite__step_done(db, ST_BEGIN_READ);

	if (rc)
		return quota_sqlite__say(ctx, quota_sqlite__open_code(rc),
					   "%s: %s", db->path, db->msg);
	rc = orphans(db, ctx);
	if (!rc)
		rc = recover_pass(db, ctx, false);
	if (!rc)
		rc = recover_pass(db, ctx, true);
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
