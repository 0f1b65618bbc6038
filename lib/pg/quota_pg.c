/*
 * quota_pg.c - libquota's PostgreSQL store (DESIGN §5, §6; quota_pg(3)).
 *
 * Every shard holds, for the accounts the shard rule puts there (and
 * shard 0 for the configuration stream, account ''), the head of each
 * stream (quota_head: the last sequence number stored), its records
 * (quota_journal, keyed by (account, seq)) and its latest snapshot
 * (quota_snapshot).  The head is the conflict detector: one statement
 * moves it from seq - 1 to seq and inserts the record, or does nothing,
 * which is QUOTA_ECONFLICT (another node wrote that number first).  It
 * stays when a snapshot deletes the records it covers, so a stale node
 * still conflicts afterwards.
 *
 * This file connects (schema, prepared statements, reconnects), writes
 * through the store callbacks, stores snapshots and holds the API.
 * quota_pg_run's catch-up-and-retry loop is run.c's; reading streams
 * back is load.c's; leases are lease.c's.
 */
#include "quota_pg_int.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pst_name[PST_COUNT] = {
	[PST_APPEND] = "quota_append",
	[PST_READ] = "quota_read",
};

/* $1 account, $2 seq, $3 record.  The head moves only from seq - 1 (or
 * is made, only for seq 1); the record goes in only if it did. */
static const char *const pst_sql[PST_COUNT] = {
	[PST_APPEND] =
		"WITH h AS (INSERT INTO quota_head AS q (account, seq) "
		"SELECT $1, $2 WHERE $2 = 1 OR EXISTS (SELECT 1 FROM "
		"quota_head WHERE account = $1) ON CONFLICT (account) DO "
		"UPDATE SET seq = EXCLUDED.seq WHERE q.seq = EXCLUDED.seq - 1 "
		"RETURNING 1) INSERT INTO quota_journal(account, seq, rec) "
		"SELECT $1, $2, $3 FROM h",
	/* $1 account, $2 from: the snapshot if newer than from, then the
	 * records after both, in order; one statement, one view. */
	[PST_READ] =
		"WITH s AS (SELECT seq, snap FROM quota_snapshot WHERE "
		"account = $1 AND seq > $2) SELECT 0::int4, seq, snap FROM s "
		"UNION ALL SELECT 1::int4, seq, rec FROM quota_journal WHERE "
		"account = $1 AND seq > GREATEST($2, COALESCE((SELECT seq "
		"FROM s), 0)) ORDER BY 1, 2",
};
static const int pst_nparams[PST_COUNT] = {[PST_APPEND] = 3,
					   [PST_READ] = 2};
/* text, int8, bytea (pg_type oids) */
static const Oid pst_types[PST_COUNT][3] = {[PST_APPEND] = {25, 20, 17},
					    [PST_READ] = {25, 20, 0}};

/* The schema, version QUOTA_PG_SCHEMA (quota_pg(3)). */
static const char *const schema_sql[] = {
	"CREATE TABLE IF NOT EXISTS quota_head ("
	" account text PRIMARY KEY,"
	" seq bigint NOT NULL)",
	"CREATE TABLE IF NOT EXISTS quota_journal ("
	" account text NOT NULL,"
	" seq bigint NOT NULL,"
	" rec bytea NOT NULL,"
	" PRIMARY KEY (account, seq))",
	"CREATE TABLE IF NOT EXISTS quota_snapshot ("
	" account text PRIMARY KEY,"
	" seq bigint NOT NULL,"
	" snap bytea NOT NULL)",
};

/* ------------------------------------------------------------ helpers */

int quota_pg__say(quota_ctx *ctx, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return quota_ctx_set_error(ctx, code, msg);
}

/* Word a failure of the store on pg->msg (for errmsg), printf-style. */
static void note(quota_pg *pg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(quota_pg *pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->msg, sizeof pg->msg, fmt, ap);
	va_end(ap);
}

const char *quota_pg__name(const quota_pg *pg, uint32_t k, char *buf,
			   size_t n)
{
	PGconn *c = k < pg->nshards ? pg->shard[k].conn : NULL;
	const char *db = c ? PQdb(c) : NULL, *host = c ? PQhost(c) : NULL,
		   *port = c ? PQport(c) : NULL;

	if (db && host && port)
		snprintf(buf, n, "shard %u (%s@%s:%s)", (unsigned)k, db, host,
			 port);
	else
		snprintf(buf, n, "shard %u", (unsigned)k);
	return buf;
}

/* The server's (or libpq's) message, without its trailing newline. */
void quota_pg__words(quota_pg *pg, uint32_t k, const PGresult *res,
		     const char *what)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	char name[256];
	size_t len;

	if (!m || !*m)
		m = pg->shard[k].conn ? PQerrorMessage(pg->shard[k].conn)
				      : "no connection";
	len = strlen(m);
	while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
		len--;
	if (len > 500)
		len = 500;
	snprintf(pg->msg, sizeof pg->msg, "%s: %s: %.*s",
		 quota_pg__name(pg, k, name, sizeof name), what, (int)len, m);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return h;
}

uint32_t quota_pg__shard_of(const quota_pg *pg, const char *id)
{
	uint32_t k;

	if (!id || pg->nshards == 1)
		return 0;
	if (!pg->opt.shard_of)
		return (uint32_t)(fnv1a(id) % pg->nshards);
	k = pg->opt.shard_of(id, pg->nshards, pg->opt.shard_ud);
	return k < pg->nshards ? k : UINT32_MAX;
}

/* Run a statement without parameters; true if it did what it should. */
static bool exec_ok(quota_pg *pg, uint32_t k, const char *sql,
		    ExecStatusType want)
{
	PGresult *res = PQexec(pg->shard[k].conn, sql);
	bool ok = PQresultStatus(res) == want;

	if (!ok)
		quota_pg__words(pg, k, res, sql);
	PQclear(res);
	return ok;
}

static void rollback_quietly(quota_pg *pg, uint32_t k)
{
	PGconn *c = pg->shard[k].conn;

	if (c && PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
}

/* ------------------------------------------------------- connections */

/* The schema on one server, created on first use in one transaction
 * under an advisory lock, so that nodes opening together do not race;
 * a newer version is refused before anything is written. */
static int schema(quota_pg *pg, uint32_t k)
{
	char sql[128];
	PGresult *res;
	long ver = 0;
	size_t i;

	snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)",
		 (long long)QUOTA_PG_LOCK_KEY);
	if (!exec_ok(pg, k, "BEGIN", PGRES_COMMAND_OK))
		return QUOTA_ESTORE;
	if (!exec_ok(pg, k, sql, PGRES_TUPLES_OK) ||
	    !exec_ok(pg, k,
		     "CREATE TABLE IF NOT EXISTS quota_meta ("
		     " key text PRIMARY KEY, value text NOT NULL)",
		     PGRES_COMMAND_OK))
		goto failed;
	res = PQexec(pg->shard[k].conn, "SELECT value FROM quota_meta "
					"WHERE key = 'schema_version'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		quota_pg__words(pg, k, res, "reading quota_meta");
		PQclear(res);
		goto failed;
	}
	if (PQntuples(res) == 1) {
		char *end;

		ver = strtol(PQgetvalue(res, 0, 0), &end, 10);
		if (*end || ver < 1) {
			note(pg, "%s: quota_meta holds schema_version '%.40s'",
			     quota_pg__name(pg, k, sql, sizeof sql),
			     PQgetvalue(res, 0, 0));
			PQclear(res);
			rollback_quietly(pg, k);
			return QUOTA_ECORRUPT;
		}
	}
	PQclear(res);
	if (ver > QUOTA_PG_SCHEMA) {
		note(pg, "%s: schema version %ld is newer than this library's "
			 "(%d)",
		     quota_pg__name(pg, k, sql, sizeof sql), ver,
		     QUOTA_PG_SCHEMA);
		rollback_quietly(pg, k);
		return QUOTA_EVERSION;
	}
	for (i = 0; i < sizeof schema_sql / sizeof *schema_sql; i++)
		if (!exec_ok(pg, k, schema_sql[i], PGRES_COMMAND_OK))
			goto failed;
	if (ver == 0 &&
	    !exec_ok(pg, k,
		     "INSERT INTO quota_meta(key, value) VALUES "
		     "('schema_version', '1')",
		     PGRES_COMMAND_OK))
		goto failed;
	if (!exec_ok(pg, k, "COMMIT", PGRES_COMMAND_OK))
		goto failed;
	return QUOTA_OK;
failed:
	rollback_quietly(pg, k);
	return QUOTA_ESTORE;
}

static int prepare(quota_pg *pg, uint32_t k)
{
	quota_pg_shard *sh = &pg->shard[k];

	for (int i = 0; i < PST_COUNT; i++) {
		PGresult *res = PQprepare(sh->conn, pst_name[i], pst_sql[i],
					  pst_nparams[i], pst_types[i]);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			quota_pg__words(pg, k, res, "preparing statements");
			PQclear(res);
			return QUOTA_ESTORE;
		}
		PQclear(res);
	}
	sh->prepared = true;
	return QUOTA_OK;
}

/*
 * An idle connection the server closed (a restart, a terminated backend)
 * says so only when read: a look at the socket without waiting lets libpq
 * see the server's goodbye, so the next call reconnects instead of
 * failing on it.
 */
static void probe(PGconn *c)
{
	for (int i = 0; i < 4 && PQstatus(c) == CONNECTION_OK; i++) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};

		if (p.fd < 0 || poll(&p, 1, 0) <= 0)
			return;
		if (!PQconsumeInput(c))
			return;
	}
}

int quota_pg__ready(quota_pg *pg, uint32_t k)
{
	quota_pg_shard *sh = &pg->shard[k];

	if (PQtransactionStatus(sh->conn) == PQTRANS_IDLE)
		probe(sh->conn);
	if (PQstatus(sh->conn) != CONNECTION_OK) {
		sh->prepared = false;
		if (pg->in_batch && pg->batch_shard == (int64_t)k) {
			quota_pg__words(pg, k, NULL,
					"the connection was lost in a batch");
			return QUOTA_ESTORE;
		}
		PQreset(sh->conn);
		if (PQstatus(sh->conn) != CONNECTION_OK) {
			quota_pg__words(pg, k, NULL, "reconnecting");
			return QUOTA_ESTORE;
		}
	}
	return sh->prepared ? QUOTA_OK : prepare(pg, k);
}

/* The server's notices (CREATE TABLE IF NOT EXISTS says it skipped) are
 * not the host's business: a library prints nothing. */
static void no_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connect shard k and make sure the schema is there. */
static int connect_shard(quota_pg *pg, uint32_t k)
{
	quota_pg_shard *sh = &pg->shard[k];
	int rc;

	sh->conn = PQconnectdb(sh->conninfo);
	if (!sh->conn) {
		note(pg, "shard %u: out of memory", (unsigned)k);
		return QUOTA_ENOMEM;
	}
	PQsetNoticeProcessor(sh->conn, no_notice, NULL);
	if (PQstatus(sh->conn) != CONNECTION_OK) {
		quota_pg__words(pg, k, NULL, "connecting");
		return QUOTA_ESTORE;
	}
	if ((rc = schema(pg, k)))
		return rc;
	return prepare(pg, k);
}

/* ----------------------------------------------------------- the store */

/* The record was not taken: conflict (the server's stream holds seq) or
 * a gap (the context holds records the server never had). */
static int not_taken(quota_pg *pg, uint32_t k, const char *account,
		     uint64_t seq)
{
	const char *id = account ? account : "";
	const char *vals[1] = {id};
	PGresult *res =
		PQexecParams(pg->shard[k].conn,
			     "SELECT seq FROM quota_head WHERE account = $1",
			     1, NULL, vals, NULL, NULL, 0);
	long long head = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		head = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (PQresultStatus(res) == PGRES_TUPLES_OK)
		head = 0;
	PQclear(res);
	if (head >= 0 && (uint64_t)head < seq - 1) {
		note(pg,
		     "record %llu of %s%s%s would follow %lld: the context "
		     "holds records the server does not",
		     (unsigned long long)seq,
		     account ? "account '" : "the configuration",
		     account ? account : "", account ? "'" : "", head);
		return QUOTA_ESTORE;
	}
	note(pg, "record %llu of %s%s%s: another writer stored it first",
	     (unsigned long long)seq,
	     account ? "account '" : "the configuration",
	     account ? account : "", account ? "'" : "");
	return QUOTA_ECONFLICT;
}

/* A failure inside a batch: its transaction is rolled back at commit. */
static int batch_fail(quota_pg *pg, int code)
{
	if (pg->in_batch && !pg->batch_failed) {
		pg->batch_failed = true;
		memcpy(pg->lost, pg->msg, sizeof pg->lost - 1);
		pg->lost[sizeof pg->lost - 1] = '\0';
	}
	return code;
}

/* ------------------------------------------------ a batch's records */

static struct quota_pg_bacct *bacct_find(quota_pg *pg, const char *id)
{
	for (size_t i = pg->nbacct; i-- > 0;)
		if (strcmp(pg->bacct[i].id, id) == 0)
			return &pg->bacct[i];
	return NULL;
}

/* Grow *p (of *cap elements of size sz) to hold need; false: no memory. */
static bool grow(void *p, size_t *cap, size_t need, size_t sz)
{
	void **pp = p;
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return true;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / sz || !(q = realloc(*pp, c * sz)))
		return false;
	*pp = q;
	*cap = c;
	return true;
}

static bool bacct_add(quota_pg *pg, const char *id, uint64_t head,
		      bool conflicted)
{
	if (!grow(&pg->bacct, &pg->cbacct, pg->nbacct + 1, sizeof *pg->bacct))
		return false;
	pg->bacct[pg->nbacct++] =
		(struct quota_pg_bacct){id, head, conflicted};
	return true;
}

static bool brec_add(quota_pg *pg, const char *id, uint64_t seq,
		     const void *rec, size_t len)
{
	if (!grow(&pg->brec, &pg->cbrec, pg->nbrec + 1, sizeof *pg->brec) ||
	    len > SIZE_MAX - pg->nbbuf ||
	    !grow(&pg->bbuf, &pg->cbbuf, pg->nbbuf + len, 1))
		return false;
	memcpy(pg->bbuf + pg->nbbuf, rec, len);
	pg->brec[pg->nbrec++] = (struct quota_pg_brec){id, seq, pg->nbbuf, len};
	pg->nbbuf += len;
	return true;
}

/* Whether the batch's transaction holds anything (a record stored). */
static bool holds_any(const quota_pg *pg)
{
	for (size_t i = 0; i < pg->nbacct; i++)
		if (!pg->bacct[i].conflicted)
			return true;
	return false;
}

/*
 * A conflict in a batch that has stored nothing yet: end its transaction
 * now.  The conflicting statement locked the account's head row (as
 * ON CONFLICT DO UPDATE does even when its WHERE fails), and holding it
 * to the commit would make every other writer of a hot account wait for
 * this batch, which can store nothing of that account.  The next record
 * of another account begins a new transaction.
 */
static void drop_txn(quota_pg *pg, uint32_t k)
{
	rollback_quietly(pg, k);
	pg->batch_shard = -1;
}

/* Rows per statement of the commit's insert (3 parameters each). */
#define FLUSH_ROWS 1000

/*
 * Send the records kept back, FLUSH_ROWS to a statement: each inserts
 * its rows and moves their accounts' heads to the last number, heads the
 * batch already holds locked.  false: the server refused (pg->msg says
 * why); the caller rolls back.
 */
static bool flush_recs(quota_pg *pg, uint32_t k)
{
	static const char head[] = "WITH v(account, seq, rec) AS (VALUES ";
	static const char tail[] =
		"), i AS (INSERT INTO quota_journal(account, seq, rec) "
		"SELECT account, seq, rec FROM v) UPDATE quota_head h SET "
		"seq = m.seq FROM (SELECT account, max(seq) AS seq FROM v "
		"GROUP BY account) m WHERE h.account = m.account";
	size_t rows = pg->nbrec < FLUSH_ROWS ? pg->nbrec : FLUSH_ROWS;
	size_t sqlcap = sizeof head + sizeof tail + rows * 40;
	char *sql = malloc(sqlcap), (*seqs)[24] = malloc(rows * sizeof *seqs);
	const char **vals = malloc(rows * 3 * sizeof *vals);
	int *lens = malloc(rows * 3 * sizeof *lens);
	int *fmts = malloc(rows * 3 * sizeof *fmts);
	Oid *types = malloc(rows * 3 * sizeof *types);
	bool ok = sql && seqs && vals && lens && fmts && types;

	if (!ok)
		note(pg, "out of memory sending a batch's records");
	for (size_t at = 0; ok && at < pg->nbrec; at += rows) {
		size_t m = pg->nbrec - at < rows ? pg->nbrec - at : rows, n;
		PGresult *res;

		n = (size_t)snprintf(sql, sqlcap, "%s", head);
		for (size_t r = 0; r < m; r++) {
			const struct quota_pg_brec *b = &pg->brec[at + r];
			size_t p = 3 * r;

			n += (size_t)snprintf(sql + n, sqlcap - n,
					      "%s($%zu, $%zu, $%zu)",
					      r ? ", " : "", p + 1, p + 2,
					      p + 3);
			snprintf(seqs[r], sizeof seqs[r], "%llu",
				 (unsigned long long)b->seq);
			vals[p] = b->id;
			vals[p + 1] = seqs[r];
			vals[p + 2] = (const char *)pg->bbuf + b->off;
			lens[p] = lens[p + 1] = 0;
			lens[p + 2] = (int)b->len;
			fmts[p] = fmts[p + 1] = 0;
			fmts[p + 2] = 1;
			types[p] = 25; /* text, int8, bytea */
			types[p + 1] = 20;
			types[p + 2] = 17;
		}
		snprintf(sql + n, sqlcap - n, "%s", tail);
		res = PQexecParams(pg->shard[k].conn, sql, (int)(3 * m), types,
				   vals, lens, fmts, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			quota_pg__words(pg, k, res,
					"sending a batch's records");
			ok = false;
		}
		PQclear(res);
	}
	free(sql);
	free(seqs);
	free(vals);
	free(lens);
	free(fmts);
	free(types);
	return ok;
}

static int cb_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	quota_pg *pg = ud;
	uint32_t k = quota_pg__shard_of(pg, account);
	char seqbuf[24];
	const char *vals[3];
	int lens[3], fmts[3] = {0, 0, 1};
	PGresult *res;
	PGconn *c;
	int rc;

	if (k == UINT32_MAX) {
		note(pg, "account '%.200s': the shard rule names no shard",
		     account);
		return QUOTA_ESTORE;
	}
	if (len > (size_t)INT32_MAX || seq > (uint64_t)INT64_MAX || !seq) {
		note(pg, "record %llu: too large or numbered out of range",
		     (unsigned long long)seq);
		return QUOTA_ESTORE;
	}
	if (pg->in_batch) {
		if (pg->batch_failed) {
			note(pg, "the batch's transaction will be rolled "
				 "back: %.600s",
			     pg->lost);
			return QUOTA_ESTORE;
		}
		if (pg->batch_shard >= 0 && pg->batch_shard != (int64_t)k) {
			note(pg, "a batch spans shards: record %llu of "
				 "%s%.200s%s is on shard %u, the batch on "
				 "shard %u",
			     (unsigned long long)seq,
			     account ? "account '" : "the configuration",
			     account ? account : "", account ? "'" : "",
			     (unsigned)k, (unsigned)pg->batch_shard);
			return QUOTA_ESTORE;
		}
		if (pg->batch_shard < 0) {
			if ((rc = quota_pg__ready(pg, k)))
				return rc;
			if (!exec_ok(pg, k, "BEGIN", PGRES_COMMAND_OK))
				return batch_fail(pg, QUOTA_ESTORE);
			pg->batch_shard = k;
		}
		/* An account this batch already wrote: its head is locked
		 * by the batch (or another writer was first). */
		struct quota_pg_bacct *e = bacct_find(pg, account ? account
								  : "");

		if (e && e->conflicted) {
			note(pg, "record %llu of %s%.200s%s: another writer "
				 "stored an earlier one first",
			     (unsigned long long)seq,
			     account ? "account '" : "the configuration",
			     account ? account : "", account ? "'" : "");
			return QUOTA_ECONFLICT;
		}
		if (e) {
			if (seq != e->head + 1) {
				note(pg, "record %llu does not follow %llu in "
					 "the batch",
				     (unsigned long long)seq,
				     (unsigned long long)e->head);
				return batch_fail(pg, QUOTA_ESTORE);
			}
			if (!brec_add(pg, e->id, seq, rec, len)) {
				note(pg, "out of memory keeping a batch's "
					 "record");
				return batch_fail(pg, QUOTA_ESTORE);
			}
			e->head = seq;
			return QUOTA_OK;
		}
	} else if ((rc = quota_pg__ready(pg, k))) {
		return rc;
	}
	c = pg->shard[k].conn;
	snprintf(seqbuf, sizeof seqbuf, "%llu", (unsigned long long)seq);
	vals[0] = account ? account : "";
	vals[1] = seqbuf;
	vals[2] = rec;
	lens[0] = lens[1] = 0;
	lens[2] = (int)len;
	if (pg->send_hook)
		pg->send_hook(pg, k, pg->send_hook_ud);
	res = PQexecPrepared(c, pst_name[PST_APPEND], 3, vals, lens, fmts, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		bool taken = strcmp(PQcmdTuples(res), "1") == 0;

		PQclear(res);
		rc = taken ? QUOTA_OK : not_taken(pg, k, account, seq);
		if (pg->in_batch && (rc == QUOTA_OK || rc == QUOTA_ECONFLICT) &&
		    !bacct_add(pg, vals[0], seq, rc == QUOTA_ECONFLICT)) {
			note(pg, "out of memory in a batch");
			return batch_fail(pg, QUOTA_ESTORE);
		}
		if (pg->in_batch && rc == QUOTA_ECONFLICT && !holds_any(pg))
			drop_txn(pg, k);
		return rc;
	}
	quota_pg__words(pg, k, res, "INSERT INTO quota_journal");
	if (PQstatus(c) != CONNECTION_OK) {
		PQclear(res);
		/* In a batch the server never saw COMMIT: nothing of it is
		 * stored.  Alone, the server may have committed. */
		if (pg->in_batch)
			return batch_fail(pg, QUOTA_ESTORE);
		return QUOTA_EUNKNOWN;
	}
	rc = QUOTA_ESTORE;
	if (PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505") == 0)
		rc = QUOTA_ECONFLICT;
	PQclear(res);
	return batch_fail(pg, rc);
}

/* The transaction starts with the batch's first record, on its shard. */
static int cb_begin(void *ud)
{
	quota_pg *pg = ud;

	pg->in_batch = true;
	pg->batch_shard = -1;
	pg->batch_failed = false;
	pg->nbacct = pg->nbrec = pg->nbbuf = 0;
	return QUOTA_OK;
}

static int cb_commit(void *ud)
{
	quota_pg *pg = ud;
	uint32_t k;
	PGresult *res;
	PGconn *c;
	int rc;

	pg->in_batch = false;
	if (pg->batch_failed) {
		note(pg, "the batch's transaction was rolled back: %.600s",
		     pg->lost);
		if (pg->batch_shard >= 0)
			rollback_quietly(pg, (uint32_t)pg->batch_shard);
		pg->batch_shard = -1;
		return QUOTA_ESTORE;
	}
	if (pg->batch_shard < 0)
		return QUOTA_OK; /* nothing was written */
	k = (uint32_t)pg->batch_shard;
	c = pg->shard[k].conn;
	pg->batch_shard = -1;
	/* The records kept back; the server never saw a COMMIT if this
	 * fails, so nothing of the batch is stored. */
	if (pg->nbrec && !flush_recs(pg, k)) {
		rollback_quietly(pg, k);
		return QUOTA_ESTORE;
	}
	if (PQstatus(c) != CONNECTION_OK) { /* lost before COMMIT was sent */
		quota_pg__words(pg, k, NULL, "the connection was lost in a "
					     "batch");
		return QUOTA_ESTORE;
	}
	res = PQexec(c, "COMMIT");
	if (PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0) {
		PQclear(res);
		return QUOTA_OK;
	}
	quota_pg__words(pg, k, res, "COMMIT");
	rc = PQstatus(c) != CONNECTION_OK ? QUOTA_EUNKNOWN : QUOTA_ESTORE;
	PQclear(res);
	rollback_quietly(pg, k);
	return rc;
}

static const char *cb_errmsg(void *ud)
{
	return ((quota_pg *)ud)->msg;
}

/* ------------------------------------------------------------ the API */

static void pg_free(quota_pg *pg)
{
	for (uint32_t k = 0; k < pg->nshards; k++) {
		PQfinish(pg->shard[k].conn);
		free(pg->shard[k].conninfo);
	}
	free(pg->shard);
	free(pg->bacct);
	free(pg->brec);
	free(pg->bbuf);
	free(pg);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

QUOTA_API int quota_pg_open_with(quota_ctx *ctx, const char *conninfo,
				 const quota_pg_options *opts, quota_pg **out)
{
	quota_pg_options def = QUOTA_PG_OPTIONS_INIT;
	quota_store st = QUOTA_STORE_INIT;
	quota_pg *pg;
	uint32_t n, k;
	int rc;

	if (out)
		*out = NULL;
	if (!ctx || !out)
		return quota_pg__say(ctx, QUOTA_EINVAL,
				     "quota_pg_open: ctx and out must not be "
				     "NULL");
	if (!opts)
		opts = &def;
	if (opts->version != QUOTA_PG_OPTIONS_VERSION ||
	    opts->size < sizeof *opts || opts->attempts < 1 ||
	    (opts->nshards && !opts->shards) || (!opts->nshards && !conninfo))
		return quota_pg__say(ctx, QUOTA_EINVAL,
				     "quota_pg_open: bad options (version, "
				     "size, attempts, shards) or no conninfo");
	if (opts->nshards && conninfo)
		return quota_pg__say(ctx, QUOTA_EINVAL,
				     "quota_pg_open: conninfo must be NULL "
				     "when the options name shards");
	n = opts->nshards ? opts->nshards : 1;
	for (k = 0; opts->nshards && k < n; k++)
		if (!opts->shards[k])
			return quota_pg__say(ctx, QUOTA_EINVAL,
					     "quota_pg_open: shard %u has no "
					     "connection string",
					     (unsigned)k);
	/* Configuration made without a store was never journaled (the core
	 * counts it: quota_ctx_config_unstored), and configuration from
	 * another store does not follow the server's; accounts are the
	 * server's to make. */
	if (quota_category_count(ctx) || quota_ctx_account_count(ctx) ||
	    quota_ctx_config_seq(ctx) || quota_ctx_config_unstored(ctx))
		return quota_pg__say(ctx, QUOTA_EINVAL,
				     "quota_pg_open: the context already "
				     "holds categories, accounts or "
				     "configuration records (open into a new "
				     "context)");
	if (!(pg = calloc(1, sizeof *pg)) ||
	    !(pg->shard = calloc(n, sizeof *pg->shard))) {
		free(pg);
		return quota_pg__say(ctx, QUOTA_ENOMEM,
				     "quota_pg_open: out of memory");
	}
	pg->ctx = ctx;
	pg->nshards = n;
	pg->opt = *opts;
	pg->opt.size = sizeof pg->opt;
	pg->batch_shard = -1;
	for (k = 0; k < n; k++)
		if (!(pg->shard[k].conninfo = dup_str(
			      opts->nshards ? opts->shards[k] : conninfo))) {
			pg_free(pg);
			return quota_pg__say(ctx, QUOTA_ENOMEM,
					     "quota_pg_open: out of memory");
		}
	for (k = 0; k < n; k++)
		if ((rc = connect_shard(pg, k))) {
			quota_pg__say(ctx, rc, "quota_pg_open: %s", pg->msg);
			pg_free(pg);
			return rc;
		}
	if ((rc = quota_pg__catch_up(pg, NULL))) {
		pg_free(pg);
		return rc;
	}
	st.ud = pg;
	st.append = cb_append;
	st.begin = cb_begin;
	st.commit = cb_commit;
	st.errmsg = cb_errmsg;
	if ((rc = quota_ctx_set_store(ctx, &st))) {
		pg_free(pg);
		return rc;
	}
	*out = pg;
	return QUOTA_OK;
}

QUOTA_API int quota_pg_open(quota_ctx *ctx, const char *conninfo,
			    quota_pg **out)
{
	return quota_pg_open_with(ctx, conninfo, NULL, out);
}

QUOTA_API void quota_pg_close(quota_pg *pg)
{
	if (!pg)
		return;
	quota_ctx_set_store(pg->ctx, NULL);
	pg_free(pg);
}

QUOTA_API int quota_pg_account(quota_pg *pg, const char *id, int create,
			       quota_account **out)
{
	int rc;

	if (out)
		*out = NULL;
	if (!pg || !id || !*id || !out)
		return pg ? quota_pg__say(pg->ctx, QUOTA_EINVAL,
					  "quota_pg_account: NULL or empty "
					  "argument")
			  : QUOTA_EINVAL;
	if (quota_account_find(pg->ctx, id, out) == QUOTA_OK)
		return QUOTA_OK;
	if (pg->in_batch)
		return quota_pg__say(pg->ctx, QUOTA_EINVAL,
				     "quota_pg_account: inside a batch");
	rc = quota_pg__load(pg, id, out);
	if (rc != QUOTA_ENOTFOUND || !create)
		return rc;
	rc = quota_account_new(pg->ctx, id, out);
	if (rc == QUOTA_ECONFLICT) /* another node made it meanwhile */
		rc = quota_pg__load(pg, id, out);
	return rc;
}

QUOTA_API int quota_pg_sync(quota_pg *pg, quota_account *a)
{
	if (!pg || (a && quota_account_ctx(a) != pg->ctx))
		return pg ? quota_pg__say(pg->ctx, QUOTA_EINVAL,
					  "quota_pg_sync: no account of the "
					  "store's context")
			  : QUOTA_EINVAL;
	if (pg->in_batch)
		return quota_pg__say(pg->ctx, QUOTA_EINVAL,
				     "quota_pg_sync: inside a batch");
	return quota_pg__catch_up(pg, a);
}

QUOTA_API int quota_pg_snapshot(quota_pg *pg, quota_account *a)
{
	const char *id;
	char seqbuf[24];
	const char *vals[3];
	int lens[3] = {0, 0, 0}, fmts[3] = {0, 0, 1};
	void *snap = NULL;
	size_t n = 0;
	uint64_t seq;
	uint32_t k;
	PGresult *res;
	int rc;

	if (!pg || !a || quota_account_ctx(a) != pg->ctx)
		return pg ? quota_pg__say(pg->ctx, QUOTA_EINVAL,
					  "quota_pg_snapshot: no account of "
					  "the store's context")
			  : QUOTA_EINVAL;
	if (pg->in_batch)
		return quota_pg__say(pg->ctx, QUOTA_EINVAL,
				     "quota_pg_snapshot: inside a batch");
	id = quota_account_id(a);
	seq = quota_account_seq(a);
	if ((rc = quota_account_snapshot(a, &snap, &n)))
		return rc; /* QUOTA_EUNSYNCED among others, worded */
	/* Numbered 0: an account quota_account_load brought from a context
	 * without a store, not written since; stored all the same (its
	 * state is nowhere else). */
	if (n > (size_t)INT32_MAX) {
		quota_free(pg->ctx, snap);
		return quota_pg__say(pg->ctx, QUOTA_EOVERFLOW,
				     "quota_pg_snapshot: account '%s': "
				     "snapshot too large",
				     id);
	}
	k = quota_pg__shard_of(pg, id);
	if (k == UINT32_MAX || (rc = quota_pg__ready(pg, k))) {
		quota_free(pg->ctx, snap);
		return quota_pg__say(pg->ctx, QUOTA_ESTORE,
				     "quota_pg_snapshot: %s",
				     k == UINT32_MAX ? "no shard" : pg->msg);
	}
	snprintf(seqbuf, sizeof seqbuf, "%llu", (unsigned long long)seq);
	vals[0] = id;
	vals[1] = seqbuf;
	vals[2] = snap;
	lens[2] = (int)n;
	rc = QUOTA_ESTORE;
	if (!exec_ok(pg, k, "BEGIN", PGRES_COMMAND_OK))
		goto done;
	res = PQexecParams(pg->shard[k].conn,
			   "INSERT INTO quota_snapshot(account, seq, snap) "
			   "VALUES ($1, $2, $3) ON CONFLICT (account) DO "
			   "UPDATE SET seq = EXCLUDED.seq, snap = EXCLUDED.snap "
			   "WHERE quota_snapshot.seq < EXCLUDED.seq",
			   3, (const Oid[]){25, 20, 17}, vals, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		quota_pg__words(pg, k, res, "storing the snapshot");
		PQclear(res);
		goto done;
	}
	PQclear(res);
	/* An account the server holds no stream of (quota_account_load
	 * brought it in): its head starts at the snapshot, so that its next
	 * record, on any node, follows it. */
	res = PQexecParams(pg->shard[k].conn,
			   "INSERT INTO quota_head(account, seq) VALUES ($1, "
			   "$2) ON CONFLICT (account) DO NOTHING",
			   2, (const Oid[]){25, 20}, vals, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		quota_pg__words(pg, k, res, "storing the stream's head");
		PQclear(res);
		goto done;
	}
	PQclear(res);
	res = PQexecParams(pg->shard[k].conn,
			   "DELETE FROM quota_journal WHERE account = $1 AND "
			   "seq <= $2",
			   2, (const Oid[]){25, 20}, vals, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		quota_pg__words(pg, k, res, "deleting covered records");
		PQclear(res);
		goto done;
	}
	PQclear(res);
	if (exec_ok(pg, k, "COMMIT", PGRES_COMMAND_OK))
		rc = QUOTA_OK;
done:
	quota_free(pg->ctx, snap);
	if (rc) {
		rollback_quietly(pg, k);
		return quota_pg__say(pg->ctx, rc,
				     "quota_pg_snapshot: account '%s': %s "
				     "(either way the server stays "
				     "consistent)",
				     id, pg->msg);
	}
	return QUOTA_OK;
}

/* ------------------------------------------------------------- tests */

PGconn *quota_pg__conn(quota_pg *pg, uint32_t k)
{
	return pg && k < pg->nshards ? pg->shard[k].conn : NULL;
}

void quota_pg__set_send_hook(quota_pg *pg,
			     void (*fn)(quota_pg *pg, uint32_t shard,
					void *ud),
			     void *ud)
{
	pg->send_hook = fn;
	pg->send_hook_ud = ud;
}
