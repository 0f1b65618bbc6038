/*
 * pgtest.h - what the PostgreSQL store's tests share (check_pg,
 * check_pg_lease, check_pg_faults): the throw-away servers
 * tests/pg/with-pg.sh started, a statement run on one, and a fresh
 * database per test.  Check's asserts.
 */
#ifndef QUOTA_TEST_PGTEST_H
#define QUOTA_TEST_PGTEST_H

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quota.h"

#define OK(call)                                                           \
	do {                                                               \
		int rc_ = (call);                                          \
		ck_assert_msg(rc_ == QUOTA_OK, "%s: %s", #call,            \
			      quota_err_name(rc_));                        \
	} while (0)
#define OKC(ctx, call)                                                     \
	do {                                                               \
		int rc_ = (call);                                          \
		ck_assert_msg(rc_ == QUOTA_OK, "%s: %s: %s", #call,        \
			      quota_err_name(rc_), quota_errmsg(ctx));     \
	} while (0)

/* Server i's connection string (QUOTA_PG_CONNINFO<i>, with-pg.sh). */
static inline const char *server(int i)
{
	char name[32];
	const char *s;

	snprintf(name, sizeof name, "QUOTA_PG_CONNINFO%d", i);
	s = getenv(name);
	ck_assert_msg(s != NULL, "%s is not set: run under tests/pg/with-pg.sh",
		      name);
	return s;
}

static inline void pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Run q on conninfo; the first value of its result (static), or "". */
static inline const char *sql(const char *conninfo, const char *q)
{
	static char v[256];
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	r = PQexec(c, q);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
			      PQresultStatus(r) == PGRES_TUPLES_OK,
		      "%s: %s", q, PQresultErrorMessage(r));
	snprintf(v, sizeof v, "%s",
		 PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

/* A new database on server i; its connection string into out. */
static inline void fresh(int i, char *out, size_t n)
{
	static int k;
	char q[128], db[64];

	snprintf(db, sizeof db, "t_%d_%d", (int)getpid(), ++k);
	snprintf(q, sizeof q, "CREATE DATABASE %s", db);
	sql(server(i), q);
	snprintf(out, n, "%s dbname=%s", server(i), db);
}

#endif /* QUOTA_TEST_PGTEST_H */
