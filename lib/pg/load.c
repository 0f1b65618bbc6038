/*
 * load.c - reading streams back from PostgreSQL (DESIGN §5, §6;
 * quota_pg(3)): an account on its first use, catching an account or the
 * configuration up with what other nodes wrote.
 *
 * One statement reads what a load or catch-up needs - the stream's
 * snapshot if it is newer than what the context holds, and the records
 * after - so it sees one consistent state of the server.  Everything it
 * returned is checked first (by the core: quota_journal_peek,
 * quota_snapshot_peek - frames, CRC-32C checksums, headers - naming the
 * right stream and number, no gaps) and only then applied, so a
 * corrupt record or snapshot leaves the context as it was: an account
 * not loaded is not there.  Writing is quota_pg.c's.
 */
#include "quota_pg_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- frames */

/* Big-endian integers: PostgreSQL's binary format. */
static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------ checks */

/* "account 'x'" or "the configuration", for messages. */
static const char *stream_name(const char *id, char *buf, size_t n)
{
	if (id)
		snprintf(buf, n, "account '%.200s'", id);
	else
		snprintf(buf, n, "the configuration");
	return buf;
}

/*
 * A record (kind 1) or snapshot (kind 0) checked by the core as it checks
 * them before applying (quota_journal_peek, quota_snapshot_peek: frame,
 * checksum, format, header), and naming the stream (id NULL: the
 * configuration) and number its row says.
 */
static int check_row(quota_pg *pg, uint32_t k, const char *id, int kind,
		     uint64_t seq, const uint8_t *p, size_t n)
{
	char rid[QUOTA_ID_MAX + 1], name[256], sn[256], why[512];
	uint64_t rseq = 0;
	int rc = !p ? QUOTA_ECORRUPT
	       : kind ? quota_journal_peek(pg->ctx, p, n, rid, &rseq)
		      : quota_snapshot_peek(pg->ctx, p, n, rid, &rseq);

	if (rc == QUOTA_OK && rseq == seq && strcmp(rid, id ? id : "") == 0)
		return QUOTA_OK;
	if (rc == QUOTA_OK || !p) {
		rc = QUOTA_ECORRUPT;
		snprintf(why, sizeof why, "%s",
			 p ? "it names another stream or number" : "empty");
	} else {
		snprintf(why, sizeof why, "%s", quota_errmsg(pg->ctx));
	}
	return quota_pg__say(pg->ctx, rc, "%s: %s %llu of %s: %s",
			     quota_pg__name(pg, k, name, sizeof name),
			     kind ? "record" : "snapshot",
			     (unsigned long long)seq,
			     stream_name(id, sn, sizeof sn), why);
}

/* ------------------------------------------------------------ reading */

/* Row i of a read: 0 (snapshot) or 1 (record), its number, its bytes. */
static void row(const PGresult *res, int i, int *kind, uint64_t *seq,
		const uint8_t **p, size_t *n)
{
	*kind = (int)get_be((const uint8_t *)PQgetvalue(res, i, 0), 4);
	*seq = get_be((const uint8_t *)PQgetvalue(res, i, 1), 8);
	*p = (const uint8_t *)PQgetvalue(res, i, 2);
	*n = (size_t)PQgetlength(res, i, 2);
}

/* The stream of id ('' for the configuration) on shard k after from:
 * the snapshot newer than from, then the records after (binary). */
static int fetch(quota_pg *pg, uint32_t k, const char *id, int64_t from,
		 PGresult **out)
{
	char frombuf[24];
	const char *vals[2] = {id ? id : "", frombuf};
	int rc;

	*out = NULL;
	if ((rc = quota_pg__ready(pg, k)))
		return quota_pg__say(pg->ctx, rc, "%s", pg->msg);
	snprintf(frombuf, sizeof frombuf, "%lld", (long long)from);
	*out = PQexecPrepared(quota_pg__conn(pg, k), "quota_read", 2, vals,
			      NULL, NULL, 1);
	if (PQresultStatus(*out) != PGRES_TUPLES_OK || PQnfields(*out) != 3 ||
	    PQfformat(*out, 0) != 1) {
		quota_pg__words(pg, k, *out, "reading a stream");
		PQclear(*out);
		*out = NULL;
		return quota_pg__say(pg->ctx, QUOTA_ESTORE, "%s", pg->msg);
	}
	for (int i = 0; i < PQntuples(*out); i++)
		if (PQgetlength(*out, i, 0) != 4 ||
		    PQgetlength(*out, i, 1) != 8) {
			PQclear(*out);
			*out = NULL;
			return quota_pg__say(pg->ctx, QUOTA_ESTORE,
					     "shard %u: a stream read returned "
					     "rows of another shape",
					     (unsigned)k);
		}
	return QUOTA_OK;
}

/* Everything a read returned, checked: no gap after from, frames,
 * checksums, headers. */
static int check_rows(quota_pg *pg, uint32_t k, const PGresult *res,
		      const char *id, uint64_t from)
{
	uint64_t want = from + 1;
	char name[256], sn[256];

	for (int i = 0; i < PQntuples(res); i++) {
		const uint8_t *p;
		uint64_t seq;
		size_t n;
		int kind, rc;

		row(res, i, &kind, &seq, &p, &n);
		if (kind == 0 && i == 0 && id) {
			if ((rc = check_row(pg, k, id, 0, seq, p, n)))
				return rc;
			want = seq + 1;
			continue;
		}
		if (kind != 1 || seq != want)
			return quota_pg__say(
				pg->ctx, QUOTA_ECORRUPT,
				"%s: %s: record %llu follows %llu",
				quota_pg__name(pg, k, name, sizeof name),
				stream_name(id, sn, sizeof sn),
				(unsigned long long)seq,
				(unsigned long long)(want - 1));
		if ((rc = check_row(pg, k, id, 1, seq, p, n)))
			return rc;
		want++;
	}
	return QUOTA_OK;
}

/* A snapshot or record the core refused: worded like a corrupt one
 * (ENOMEM, EVERSION and ENOTFOUND - a category or tariff the context's
 * configuration lacks - kept). */
static int apply_failed(quota_pg *pg, uint32_t k, int rc, const char *id,
			int kind, uint64_t seq)
{
	char why[256], name[256], sn[256];

	snprintf(why, sizeof why, "%s", quota_errmsg(pg->ctx));
	return quota_pg__say(
		pg->ctx,
		rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION ||
				rc == QUOTA_ENOTFOUND
			? rc
			: QUOTA_ECORRUPT,
		"%s: %s %llu of %s refused: %s: %s",
		quota_pg__name(pg, k, name, sizeof name),
		kind ? "record" : "snapshot", (unsigned long long)seq,
		stream_name(id, sn, sizeof sn), quota_err_name(rc), why);
}

/*
 * Apply what a read returned (checked): the snapshot loads the account
 * (a NULL) or replaces a's state; without one, reset says a starts over
 * from nothing (it waited for a resync); then the records, in order.
 */
static int apply_rows(quota_pg *pg, uint32_t k, const PGresult *res,
		      const char *id, quota_account *a, bool reset)
{
	int rc, i = 0;

	if (a && reset &&
	    (PQntuples(res) == 0 ||
	     get_be((const uint8_t *)PQgetvalue(res, 0, 0), 4) != 0) &&
	    (rc = quota_account_reset(a, NULL, 0)))
		return apply_failed(pg, k, rc, id, 0, 0);
	for (; i < PQntuples(res); i++) {
		const uint8_t *p;
		uint64_t seq;
		size_t n;
		int kind;

		row(res, i, &kind, &seq, &p, &n);
		if (kind == 0)
			rc = a ? quota_account_reset(a, p, n)
			       : quota_account_load(pg->ctx, p, n, &a);
		else
			rc = quota_journal_apply(pg->ctx, p, n, 0);
		if (rc)
			return apply_failed(pg, k, rc, id, kind, seq);
	}
	return QUOTA_OK;
}

/* One read, checked, then applied. */
static int read_apply(quota_pg *pg, const char *id, quota_account *a,
		      bool *none, bool *applying)
{
	uint32_t k = quota_pg__shard_of(pg, id);
	bool reset = a && quota_account_unsynced(a);
	uint64_t from;
	PGresult *res;
	int rc;

	if (k == UINT32_MAX)
		return quota_pg__say(pg->ctx, QUOTA_EINVAL,
				     "account '%s': the shard rule names no "
				     "shard",
				     id);
	if (!id)
		from = quota_ctx_config_seq(pg->ctx);
	else if (a && !reset)
		from = quota_account_seq(a);
	else
		from = 0;
	/* A load or a reset reads a snapshot numbered 0 too (one
	 * quota_pg_snapshot stored of an account from a context without a
	 * store): from -1 for the snapshot, the records after 0. */
	if ((rc = fetch(pg, k, id,
			from == 0 && id && (!a || reset) ? -1 : (int64_t)from,
			&res)))
		return rc;
	*none = PQntuples(res) == 0;
	*applying = false;
	if (!(rc = check_rows(pg, k, res, id, from))) {
		rc = apply_rows(pg, k, res, id, a, reset);
		*applying = rc != QUOTA_OK;
	}
	PQclear(res);
	return rc;
}

/*
 * A record or snapshot that passed the checks and still does not apply
 * may name a category or tariff the context does not know yet: the
 * configuration is behind (another node added to it).  If catching the
 * configuration up brings anything, the read is tried once more (the
 * account, if its first records applied, from where it stopped).
 */
static bool config_advanced(quota_pg *pg, int rc)
{
	uint64_t before = quota_ctx_config_seq(pg->ctx);
	char why[512];
	bool none, applying, more;

	snprintf(why, sizeof why, "%s", quota_errmsg(pg->ctx));
	more = read_apply(pg, NULL, NULL, &none, &applying) == QUOTA_OK &&
	       quota_ctx_config_seq(pg->ctx) > before;
	if (!more) /* the first failure is the one to tell */
		quota_ctx_set_error(pg->ctx, rc, why);
	return more;
}

int quota_pg__load(quota_pg *pg, const char *id, quota_account **out)
{
	bool none = false, applying = false;
	int rc = read_apply(pg, id, NULL, &none, &applying);

	if (rc == QUOTA_OK && none)
		return quota_pg__say(pg->ctx, QUOTA_ENOTFOUND,
				     "quota_pg_account: the server holds no "
				     "account '%s'",
				     id);
	if (applying && config_advanced(pg, rc)) {
		if (quota_account_find(pg->ctx, id, out) == QUOTA_OK)
			rc = read_apply(pg, id, *out, &none, &applying);
		else
			rc = read_apply(pg, id, NULL, &none, &applying);
	}
	if (rc) {
		/* Not loaded is not there: the part that applied goes
		 * (§7, quota_account_remove writes nothing). */
		quota_account *part;
		char why[768];

		snprintf(why, sizeof why, "%s", quota_errmsg(pg->ctx));
		if (quota_account_find(pg->ctx, id, &part) == QUOTA_OK)
			(void)quota_account_remove(part);
		quota_ctx_set_error(pg->ctx, rc, why);
		*out = NULL;
		return rc;
	}
	if (quota_account_find(pg->ctx, id, out) != QUOTA_OK)
		return quota_pg__say(pg->ctx, QUOTA_ECORRUPT,
				     "quota_pg_account: account '%s' was read "
				     "but its records named another",
				     id);
	return QUOTA_OK;
}

int quota_pg__catch_up(quota_pg *pg, quota_account *a)
{
	const char *id = a ? quota_account_id(a) : NULL;
	bool none, applying = false;
	int rc = read_apply(pg, id, a, &none, &applying);

	if (applying && a && config_advanced(pg, rc))
		rc = read_apply(pg, id, a, &none, &applying);
	return rc;
}
