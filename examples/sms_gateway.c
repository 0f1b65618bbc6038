/*
 * sms_gateway.c - an SMS gateway's metering loop, durable through the
 * SQLite store (libquota-sqlite).  It reads requests on standard input,
 * one a line, and answers each with one line:
 *
 *   time <unix-seconds>             set the clock: submits from now on
 *                                   happen at this time; holds past their
 *                                   deadline are released (quota_ctx_tick)
 *                                   and complete days settled (quota_settle)
 *   submit <account> <msg-id> <text>  hold the text's SMS segments
 *                                   (quota_sms_count, quota_reserve)
 *   dlr <msg-id> delivered|failed   the delivery report: commit the hold,
 *                                   or release it with the tariff's
 *                                   failure fee (R10)
 *   report                          the per-account report (also at EOF)
 *
 * Answers are "ok ..." or "refused <what> <msg-id> QUOTA_E...", each
 * flushed once what it reports is durable: an answer is the gateway's
 * acknowledgement.  The report's lines after its first are indented.
 * Blank lines and lines starting with '#' are skipped without an answer.
 * The clock is kept in the gateway's own file (below); until the first
 * time line ever, it is the system's clock.
 *
 *   sms_gateway [--sync-normal] DB
 *
 * DB is libquota's database (quota_sqlite_open); the gateway keeps its
 * message table in DB.msgs, a SQLite file of its own (libquota's file
 * takes no tables of others).  --sync-normal runs both with
 * QUOTA_SQLITE_SYNC_NORMAL (synchronous = NORMAL): a crash of the process
 * loses nothing, a power loss may take back the last answers.
 *
 * The first run on an empty DB sets up the category "sms", the tariff
 * "sms-std" (0.040 a segment up to 10,000 a month, 0.035 beyond; a
 * failed segment costs 0.002) and three accounts: acme (a 200-segment
 * package, then pay-as-you-go), bolt (a 100-segment package, then stop:
 * QUOTA_EEXHAUSTED; its balance pays failure fees) and civic
 * (pay-as-you-go, a cap of 40 segments a day, a small balance: unpaid
 * bills suspend it).  Accounts are settled daily (UTC) at time lines.
 * Any other account is refused (QUOTA_ENOTFOUND).
 *
 * Restarts.  Restarting the gateway in the middle of a stream, after a
 * clean exit or a crash, loses and repeats nothing, provided the line
 * that was in flight (the first without an answer) is sent again.  The
 * rule:
 *
 *   1. A submit first writes the message's row - id, account, text,
 *      segments, the time it is reserved at, hold 0 - to DB.msgs and
 *      waits until it is durable (the intent).  Then it reserves, keyed
 *      by "s:<msg-id>" (quota_reserve, R11), and then writes the hold id
 *      into the row.  A refused reservation deletes the row.
 *   2. A submit whose msg-id has a row is a repeat: with another account
 *      or text it is refused (QUOTA_EKEYCONFLICT); with a hold id in the
 *      row it is answered from the row and charges nothing.
 *   3. A row whose hold is still 0 - a crash after the intent, before or
 *      after the reservation - is finished by reserving again with the
 *      row's account, segments and time and the same key: if the first
 *      reservation is in DB, the key window replays it and gives its hold
 *      id (nothing is held twice); if it is not, the reservation is made
 *      now.  A repeated submit does this, and so does a delivery report
 *      for the message (a report means the message went out).
 *   4. A delivery report commits or releases the row's hold, keyed by
 *      "d:<msg-id>": a repeated report replays the first answer (a
 *      "failed" after a "delivered" is QUOTA_EKEYCONFLICT).  No row is
 *      written for it: the hold is resolved once whatever the key window
 *      remembers (after its key is forgotten, a repeat gets
 *      QUOTA_ERESOLVED and charges nothing).
 *
 * So the crash windows are: before the intent (nothing happened; the
 * submit is new again), between the intent and the hold id (rule 3),
 * after the hold id but before the answer (rule 2), and between a commit
 * or release and its answer (rule 4).  The only use of the key window is
 * rule 3, right after a crash, well within its 7 days.  Holds time out
 * after 48 hours (released without a fee at a later time line).
 *
 * For the restart test (tests/check-gateway.sh): SMS_GATEWAY_CRASH=N:WHERE
 * kills the process with SIGKILL while it handles input line N (counted
 * in this run), at WHERE: "intent" (after the row, before the
 * reservation), "reserve" (after the reservation, before the hold id),
 * "dlr" (after the commit or release, before the answer).
 */
#define _POSIX_C_SOURCE 200809L

#include <quota.h>
#include <quota_sqlite.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOLD_TIMEOUT (48 * 3600)
#define T0 INT64_C(1704067200) /* 2024-01-01: packages and top-ups */
#define NACC 3

static const char *const names[NACC] = {"acme", "bolt", "civic"};

static quota_ctx *ctx;
static quota_sqlite *qdb;
static sqlite3 *mdb; /* DB.msgs: the gateway's own table */
static uint32_t sms;
static int64_t clock_now;
static long lineno;
static long crash_line;
static const char *crash_where = "";

static void fatal(const char *what, const char *msg)
{
	fprintf(stderr, "sms_gateway: %s: %s\n", what, msg);
	exit(1);
}

/* A libquota call that must not fail (setup, store errors): stop. */
static void check(const char *what, int rc)
{
	if (rc != QUOTA_OK) {
		fprintf(stderr, "sms_gateway: %s: %s: %s\n", what,
			quota_err_name(rc), quota_errmsg(ctx));
		exit(1);
	}
}

/* The test's crash points. */
static void crash_point(const char *where)
{
	if (crash_line == lineno && strcmp(crash_where, where) == 0) {
		fflush(stdout);
		raise(SIGKILL);
	}
}

/* ------------------------------------------------ the message table */

static void sql(const char *text)
{
	char *err = NULL;

	if (sqlite3_exec(mdb, text, NULL, NULL, &err) != SQLITE_OK)
		fatal(text, err ? err : sqlite3_errmsg(mdb));
}

static sqlite3_stmt *prep(const char *text)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(mdb, text, -1, &s, NULL) != SQLITE_OK)
		fatal(text, sqlite3_errmsg(mdb));
	return s;
}

/* Run a statement that returns no row; every one is its own durable
 * transaction. */
static void step_done(sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		fatal("DB.msgs", sqlite3_errmsg(mdb));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

struct msg {
	char account[QUOTA_ID_MAX + 1];
	char *text;
	int64_t at, units;
	uint64_t hold;
};

static sqlite3_stmt *st_get, *st_put, *st_hold, *st_del, *st_clock_get,
	*st_clock_put;

static void msgs_open(const char *path, int sync_normal)
{
	if (sqlite3_open(path, &mdb) != SQLITE_OK)
		fatal(path, mdb ? sqlite3_errmsg(mdb) : "cannot open");
	sql("PRAGMA journal_mode = WAL");
	sql(sync_normal ? "PRAGMA synchronous = NORMAL"
			: "PRAGMA synchronous = FULL");
	sql("CREATE TABLE IF NOT EXISTS msgs(id TEXT PRIMARY KEY, "
	    "account TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, "
	    "units INTEGER NOT NULL, hold INTEGER NOT NULL)");
	sql("CREATE TABLE IF NOT EXISTS clock(k INTEGER PRIMARY KEY, "
	    "now INTEGER NOT NULL)");
	st_get = prep("SELECT account, text, at, units, hold FROM msgs "
		      "WHERE id = ?1");
	st_put = prep("INSERT INTO msgs VALUES (?1, ?2, ?3, ?4, ?5, 0)");
	st_hold = prep("UPDATE msgs SET hold = ?2 WHERE id = ?1");
	st_del = prep("DELETE FROM msgs WHERE id = ?1");
	st_clock_get = prep("SELECT now FROM clock WHERE k = 1");
	st_clock_put = prep("INSERT OR REPLACE INTO clock VALUES (1, ?1)");
}

/* The row of msg-id into *m (m->text is malloc'd); 0 if there is none. */
static int msg_get(const char *id, struct msg *m)
{
	int rc;

	sqlite3_bind_text(st_get, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_get);
	if (rc == SQLITE_ROW) {
		const char *acc = (const char *)sqlite3_column_text(st_get, 0);
		const char *text = (const char *)sqlite3_column_text(st_get, 1);

		snprintf(m->account, sizeof m->account, "%s", acc ? acc : "");
		m->text = malloc(strlen(text ? text : "") + 1);
		if (!m->text)
			fatal("msg_get", "out of memory");
		strcpy(m->text, text ? text : "");
		m->at = sqlite3_column_int64(st_get, 2);
		m->units = sqlite3_column_int64(st_get, 3);
		m->hold = (uint64_t)sqlite3_column_int64(st_get, 4);
	} else if (rc != SQLITE_DONE) {
		fatal("DB.msgs", sqlite3_errmsg(mdb));
	}
	sqlite3_reset(st_get);
	sqlite3_clear_bindings(st_get);
	return rc == SQLITE_ROW;
}

/* ------------------------------------------------------------- setup */

/* The first run on an empty file: the category, the tariff, the
 * accounts.  civic's top-up is the last step: a later run that finds it
 * knows the setup was complete. */
static void setup(void)
{
	quota_tariff *t;
	quota_account *a;
	quota_package_spec p = {.effective_at = T0,
				.expires_at = QUOTA_NEVER};

	check("category", quota_category_add(ctx, "sms", &sms));
	check("tariff", quota_tariff_new(ctx, "sms-std", &t));
	check("tariff", quota_tariff_add_tier(t, 10000, 40000));
	check("tariff", quota_tariff_add_tier(t, QUOTA_UNLIMITED, 35000));
	check("tariff", quota_tariff_set_failure_fee(t, 2000));
	p.categories = QUOTA_MASK(sms);

	check("acme", quota_account_new(ctx, "acme", &a));
	check("acme", quota_account_set_tariff(a, sms, t));
	p.id = "acme-200";
	p.units = 200;
	check("acme", quota_package_add(a, &p, NULL));
	check("acme", quota_account_topup(a, 50000000, T0));

	check("bolt", quota_account_new(ctx, "bolt", &a));
	check("bolt", quota_account_set_tariff(a, sms, t));
	check("bolt", quota_account_set_overage(a, sms, QUOTA_OVERAGE_STOP));
	p.id = "bolt-100";
	p.units = 100;
	check("bolt", quota_package_add(a, &p, NULL));
	check("bolt", quota_account_topup(a, 5000000, T0));

	check("civic", quota_account_new(ctx, "civic", &a));
	check("civic", quota_account_set_tariff(a, sms, t));
	check("civic", quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 40));
	check("civic", quota_account_topup(a, 2000000, T0));
}

/* A later run: everything is in the recovered file. */
static void find_setup(const char *path)
{
	quota_account *a;
	quota_money m;
	int i;

	if (quota_category_find(ctx, "sms", &sms) != QUOTA_OK)
		goto incomplete;
	for (i = 0; i < NACC; i++)
		if (quota_account_find(ctx, names[i], &a) != QUOTA_OK)
			goto incomplete;
	check("civic", quota_account_money(a, &m));
	if (m.topped_up_micros > 0)
		return;
incomplete:
	fprintf(stderr, "sms_gateway: %s: the setup is incomplete (did the "
			"first run stop during it?); remove the file\n",
		path);
	exit(1);
}

/* ------------------------------------------------------------ clock */

/* Release holds past their deadline and settle complete days, at the
 * clock.  Both change nothing when repeated at the same time. */
static void tick(long *released, long *bills)
{
	uint32_t i, n = quota_ctx_account_count(ctx);
	int64_t r = quota_ctx_tick(ctx, clock_now);

	if (r < 0)
		check("quota_ctx_tick", (int)r);
	*released = (long)r;
	*bills = 0;
	for (i = 0; i < n; i++) {
		int64_t b = quota_settle(quota_ctx_account_at(ctx, i),
					 clock_now, NULL, NULL);

		if (b < 0)
			check("quota_settle", (int)b);
		*bills += (long)b;
	}
}

static void do_time(const char *arg)
{
	char *end;
	long long t = strtoll(arg, &end, 10);
	long released, bills;

	if (!*arg || *end || t <= 0 || t >= QUOTA_TIME_MAX) {
		printf("refused time %s QUOTA_EINVAL\n", arg);
		return;
	}
	clock_now = t;
	sqlite3_bind_int64(st_clock_put, 1, clock_now);
	step_done(st_clock_put);
	tick(&released, &bills);
	printf("ok time %lld: %ld holds expired, %ld bills\n", t, released,
	       bills);
}

/* ----------------------------------------------------------- submit */

/* Reserve m's segments keyed by its id (rules 1 and 3); the hold id goes
 * into the row. */
static int reserve(quota_account *a, const char *id, struct msg *m,
		   int *replayed)
{
	char key[QUOTA_KEY_MAX + 1];
	quota_usage u = {.category = sms, .units = m->units, .at = m->at,
			 .key = key};
	quota_receipt r;
	int rc;

	snprintf(key, sizeof key, "s:%s", id);
	rc = quota_reserve(a, &u, HOLD_TIMEOUT, &r, &m->hold);
	if (rc == QUOTA_ESTORE || rc == QUOTA_EUNKNOWN ||
	    rc == QUOTA_ECONFLICT || rc == QUOTA_ENOMEM)
		check("quota_reserve", rc); /* stop: never carry on */
	if (rc != QUOTA_OK)
		return rc;
	*replayed = r.replayed;
	crash_point("reserve");
	sqlite3_bind_text(st_hold, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_hold, 2, (int64_t)m->hold);
	step_done(st_hold);
	return QUOTA_OK;
}

static void do_submit(char *args)
{
	char *acc = strtok(args, " "), *id = strtok(NULL, " ");
	char *text = strtok(NULL, "");
	quota_account *a;
	quota_sms_info info;
	struct msg m = {{0}, NULL, 0, 0, 0};
	int rc, replayed = 0;

	if (!acc || !id || !text) {
		printf("refused submit %s QUOTA_EINVAL\n", id ? id : "-");
		return;
	}
	if (strlen(id) + 2 > QUOTA_KEY_MAX) {
		printf("refused submit %s QUOTA_EINVAL\n", id);
		return;
	}
	if ((rc = quota_account_find(ctx, acc, &a)) != QUOTA_OK ||
	    (rc = quota_sms_count(text, strlen(text), NULL, &info)) !=
		    QUOTA_OK) {
		printf("refused submit %s %s\n", id, quota_err_name(rc));
		return;
	}
	if (msg_get(id, &m)) {
		/* Rule 2: a repeat, or another message with a used id. */
		if (strcmp(m.account, acc) != 0 || strcmp(m.text, text) != 0) {
			printf("refused submit %s QUOTA_EKEYCONFLICT\n", id);
		} else if (m.hold != 0) {
			printf("ok submit %s hold %" PRIu64 " segments %" PRId64
			       " (repeated)\n",
			       id, m.hold, m.units);
		} else if ((rc = reserve(a, id, &m, &replayed)) == QUOTA_OK) {
			/* Rule 3: the intent of a run that stopped. */
			printf("ok submit %s hold %" PRIu64 " segments %" PRId64
			       " (%s)\n",
			       id, m.hold, m.units,
			       replayed ? "repeated" : "resumed");
		} else {
			printf("refused submit %s %s\n", id,
			       quota_err_name(rc));
			sqlite3_bind_text(st_del, 1, id, -1, SQLITE_STATIC);
			step_done(st_del);
		}
		free(m.text);
		return;
	}
	/* Rule 1: the intent, durable before the reservation. */
	m.at = clock_now;
	m.units = info.segments;
	sqlite3_bind_text(st_put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 2, acc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_put, 4, m.at);
	sqlite3_bind_int64(st_put, 5, m.units);
	step_done(st_put);
	crash_point("intent");
	if ((rc = reserve(a, id, &m, &replayed)) != QUOTA_OK) {
		sqlite3_bind_text(st_del, 1, id, -1, SQLITE_STATIC);
		step_done(st_del);
		printf("refused submit %s %s\n", id, quota_err_name(rc));
		return;
	}
	printf("ok submit %s hold %" PRIu64 " segments %" PRId64 "\n", id,
	       m.hold, m.units);
}

/* -------------------------------------------------------------- dlr */

static void do_dlr(char *args)
{
	char *id = strtok(args, " "), *what = strtok(NULL, " ");
	char key[QUOTA_KEY_MAX + 1], buf[32];
	struct msg m = {{0}, NULL, 0, 0, 0};
	quota_account *a;
	quota_receipt r;
	int delivered, rc, replayed = 0;

	if (!id || !what || strtok(NULL, " ") ||
	    (strcmp(what, "delivered") != 0 && strcmp(what, "failed") != 0)) {
		printf("refused dlr %s QUOTA_EINVAL\n", id ? id : "-");
		return;
	}
	delivered = strcmp(what, "delivered") == 0;
	if (!msg_get(id, &m)) {
		printf("refused dlr %s QUOTA_ENOTFOUND\n", id);
		return;
	}
	free(m.text);
	check("account", quota_account_find(ctx, m.account, &a));
	if (m.hold == 0 && (rc = reserve(a, id, &m, &replayed)) != QUOTA_OK) {
		/* Rule 3 could not hold it now: there is nothing to resolve. */
		printf("refused dlr %s %s\n", id, quota_err_name(rc));
		return;
	}
	snprintf(key, sizeof key, "d:%s", id);
	rc = delivered ? quota_commit(a, m.hold, m.units, key, &r)
		       : quota_release(a, m.hold, key, &r);
	if (rc == QUOTA_ESTORE || rc == QUOTA_EUNKNOWN ||
	    rc == QUOTA_ECONFLICT || rc == QUOTA_ENOMEM)
		check(delivered ? "quota_commit" : "quota_release", rc);
	crash_point("dlr");
	if (rc != QUOTA_OK) {
		printf("refused dlr %s %s\n", id, quota_err_name(rc));
		return;
	}
	snprintf(buf, sizeof buf, "%" PRId64 ".%06" PRId64,
		 r.fee_micros / 1000000, r.fee_micros % 1000000);
	if (delivered)
		printf("ok dlr %s delivered: %" PRId64 " segments charged%s\n",
		       id, r.units, r.replayed ? " (repeated)" : "");
	else
		printf("ok dlr %s failed: %" PRId64 " segments released, fee "
		       "%s%s\n",
		       id, r.units, buf, r.replayed ? " (repeated)" : "");
}

/* ----------------------------------------------------------- report */

struct sums {
	int64_t free, pkg, payg, payg_cost, fee_units, fees;
};

static int add_row(const quota_report_row *row, void *ud)
{
	struct sums *s = ud;

	switch (row->source) {
	case QUOTA_SOURCE_FREE: s->free += row->units; break;
	case QUOTA_SOURCE_PACKAGE: s->pkg += row->units; break;
	case QUOTA_SOURCE_PAYG:
		s->payg += row->units;
		s->payg_cost += row->cost_micros;
		break;
	case QUOTA_SOURCE_FEE:
		s->fee_units += row->units;
		s->fees += row->cost_micros;
		break;
	}
	return 0;
}

static const char *money(char *buf, size_t n, int64_t micros)
{
	int64_t m = micros < 0 ? -micros : micros;

	snprintf(buf, n, "%s%" PRId64 ".%06" PRId64, micros < 0 ? "-" : "",
		 m / 1000000, m % 1000000);
	return buf;
}

/* Everything from the accounts themselves, so a run that restarted
 * prints what one run would have. */
static void report(void)
{
	uint32_t i, n = quota_ctx_account_count(ctx);

	printf("report at %" PRId64 ": %" PRIu32 " accounts\n", clock_now, n);
	for (i = 0; i < n; i++) {
		quota_account *a = quota_ctx_account_at(ctx, i);
		struct sums s = {0};
		quota_money m;
		char b1[32], b2[32], b3[32], b4[32], b5[32];

		check("report", quota_report(a, QUOTA_PERIOD_MONTH,
					     QUOTA_TIME_MIN, QUOTA_TIME_MAX,
					     add_row, &s));
		check("report", quota_account_money(a, &m));
		printf("  %-6s segments: free %" PRId64 ", package %" PRId64
		       ", payg %" PRId64 " (%s); released with a fee %" PRId64
		       " (%s); held %" PRId64 " in %" PRIu32 " holds\n",
		       quota_account_id(a), s.free, s.pkg, s.payg,
		       money(b1, sizeof b1, s.payg_cost), s.fee_units,
		       money(b2, sizeof b2, s.fees),
		       quota_account_held(a, QUOTA_ALL),
		       quota_account_hold_count(a));
		printf("  %-6s money: topped up %s, billed %s, balance %s, "
		       "outstanding %s in %" PRIu32 " bills%s\n",
		       quota_account_id(a),
		       money(b3, sizeof b3, m.topped_up_micros),
		       money(b4, sizeof b4, m.billed_micros),
		       money(b5, sizeof b5, m.balance_micros),
		       money(b1, sizeof b1, m.outstanding_micros),
		       m.outstanding_bills, m.suspended ? ", suspended" : "");
	}
}

/* ------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	quota_sqlite_options opts = QUOTA_SQLITE_OPTIONS_INIT;
	const char *path, *env = getenv("SMS_GATEWAY_CRASH");
	char line[4096], *msgs_path;
	int sync_normal = 0, rc;
	long released, bills;

	if (argc == 3 && strcmp(argv[1], "--sync-normal") == 0)
		sync_normal = 1;
	else if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: sms_gateway [--sync-normal] DB\n");
		return 2;
	}
	path = argv[argc - 1];
	if (env) {
		char *colon = strchr(env, ':');

		crash_line = strtol(env, NULL, 10);
		crash_where = colon ? colon + 1 : "";
	}

	check("quota_ctx_new", quota_ctx_new(&ctx));
	if (sync_normal)
		opts.synchronous = QUOTA_SQLITE_SYNC_NORMAL;
	if ((rc = quota_sqlite_open_with(ctx, path, &opts, &qdb)) != QUOTA_OK)
		check(path, rc);
	msgs_path = malloc(strlen(path) + sizeof ".msgs");
	if (!msgs_path)
		fatal("main", "out of memory");
	strcpy(msgs_path, path);
	strcat(msgs_path, ".msgs");
	msgs_open(msgs_path, sync_normal);

	if (quota_category_count(ctx) == 0 && quota_ctx_account_count(ctx) == 0)
		setup();
	else
		find_setup(path);

	/* The clock where the last run left it, and what a time line cut
	 * short by a crash did not finish. */
	rc = sqlite3_step(st_clock_get);
	if (rc == SQLITE_ROW) {
		clock_now = sqlite3_column_int64(st_clock_get, 0);
		tick(&released, &bills);
	} else if (rc == SQLITE_DONE) {
		clock_now = (int64_t)time(NULL);
	} else {
		fatal(msgs_path, sqlite3_errmsg(mdb));
	}
	sqlite3_reset(st_clock_get);

	while (fgets(line, sizeof line, stdin)) {
		size_t len = strlen(line);
		char *cmd, *args;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			printf("refused line %ld QUOTA_EINVAL (too long)\n",
			       lineno);
			fflush(stdout);
			continue;
		}
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		cmd = line;
		args = strchr(line, ' ');
		if (args)
			*args++ = '\0';
		else
			args = line + len;
		if (strcmp(cmd, "submit") == 0)
			do_submit(args);
		else if (strcmp(cmd, "dlr") == 0)
			do_dlr(args);
		else if (strcmp(cmd, "time") == 0)
			do_time(args);
		else if (strcmp(cmd, "report") == 0 && !*args)
			report();
		else
			printf("refused line %ld QUOTA_EINVAL (unknown "
			       "request)\n",
			       lineno);
		fflush(stdout);
	}
	report();
	fflush(stdout);

	sqlite3_finalize(st_get);
	sqlite3_finalize(st_put);
	sqlite3_finalize(st_hold);
	sqlite3_finalize(st_del);
	sqlite3_finalize(st_clock_get);
	sqlite3_finalize(st_clock_put);
	sqlite3_close(mdb);
	free(msgs_path);
	check("quota_sqlite_checkpoint", quota_sqlite_checkpoint(qdb));
	quota_sqlite_close(qdb);
	quota_ctx_free(ctx);
	return 0;
}
