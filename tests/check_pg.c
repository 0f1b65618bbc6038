/*
 * check_pg.c - libquota-pg (lib/pg/, quota_pg.h) against real servers:
 * the schema and the configuration shared; two nodes on one account
 * (conflict, catch-up, retry; a key replayed on the other node); an
 * unknown outcome (the backend killed under an append); a server restart;
 * snapshots; a newer schema and corrupt rows refused; two shards.
 *
 * Needs servers: run under tests/pg/with-pg.sh 2 (make check-pg), which
 * sets QUOTA_PG_CONNINFO1/2, QUOTA_PG_DATA1 and QUOTA_PG_CTL.  Each test
 * works in databases of its own, made for it on the servers.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota.h"
#include "quota_pg.h"
#include "quota_pg_int.h"
#include "quota_store.h"
#include "pgtest.h"

#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1715000000)

/* ------------------------------------------------------------ helpers */

static quota_ctx *node(const char *conninfo, quota_pg **pg)
{
	quota_ctx *ctx;
	int rc;

	OK(quota_ctx_new(&ctx));
	rc = quota_pg_open(ctx, conninfo, pg);
	ck_assert_msg(rc == QUOTA_OK, "open: %s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	return ctx;
}

static void node_free(quota_ctx *ctx, quota_pg *pg)
{
	quota_pg_close(pg);
	quota_ctx_free(ctx);
}

/* The configuration every test uses: category sms, tariff std. */
static uint32_t configure(quota_ctx *ctx)
{
	quota_tariff *t;
	uint32_t sms;

	OKC(ctx, quota_category_add(ctx, "sms", &sms));
	OKC(ctx, quota_tariff_new(ctx, "std", &t));
	OKC(ctx, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000));
	return sms;
}

/* An account with the tariff and a package of 100 units. */
static quota_account *customer(quota_pg *pg, quota_ctx *ctx, const char *id)
{
	quota_package_spec s = {.id = "p1",
				.units = 100,
				.effective_at = 0,
				.expires_at = QUOTA_NEVER};
	quota_account *a;
	quota_tariff *t;
	uint32_t sms;

	OKC(ctx, quota_category_find(ctx, "sms", &sms));
	OKC(ctx, quota_tariff_find(ctx, "std", &t));
	s.categories = QUOTA_MASK(sms);
	OKC(ctx, quota_pg_account(pg, id, 1, &a));
	OKC(ctx, quota_account_set_tariff(a, sms, t));
	OKC(ctx, quota_package_add(a, &s, NULL));
	return a;
}

static int charge(quota_account *a, int64_t units, const char *key,
		  quota_receipt *r)
{
	quota_receipt tmp;
	quota_usage u = {.units = units, .at = T0 + 60, .key = key};

	OK(quota_category_find(quota_account_ctx(a), "sms", &u.category));
	return quota_charge(a, &u, r ? r : &tmp);
}

static quota_op charge_op(quota_account *a, int64_t units, const char *key)
{
	quota_op op;

	memset(&op, 0, sizeof op);
	op.kind = QUOTA_OP_CHARGE;
	op.account = a;
	op.usage.units = units;
	op.usage.at = T0 + 60;
	op.usage.key = key;
	OK(quota_category_find(quota_account_ctx(a), "sms",
			       &op.usage.category));
	return op;
}

static int64_t used(const quota_account *a)
{
	uint32_t sms;

	OK(quota_category_find(quota_account_ctx(a), "sms", &sms));
	return quota_account_used(a, sms, QUOTA_PERIOD_DAY, T0 + 60);
}

static int64_t left(const quota_account *a)
{
	quota_package *p;

	OK(quota_package_find(a, "p1", &p));
	return quota_package_remaining(p);
}

/* a's snapshot equals that of the same account loaded afresh from
 * conninfo (what the server holds). */
static void same_as_server(quota_account *a, const char *conninfo)
{
	quota_pg *pg2;
	quota_ctx *c2 = node(conninfo, &pg2);
	quota_account *b;
	void *s1, *s2;
	size_t n1, n2;

	OKC(c2, quota_pg_account(pg2, quota_account_id(a), 0, &b));
	OK(quota_account_snapshot(a, &s1, &n1));
	OK(quota_account_snapshot(b, &s2, &n2));
	ck_assert_uint_eq(n1, n2);
	ck_assert_msg(memcmp(s1, s2, n1) == 0, "snapshots differ");
	quota_free(quota_account_ctx(a), s1);
	quota_free(c2, s2);
	node_free(c2, pg2);
}

/* -------------------------------------------------------------- tests */

typedef struct opener {
	const char *conninfo;
	int rc;
} opener;

static void *open_one(void *arg)
{
	opener *o = arg;
	quota_ctx *ctx;
	quota_pg *pg;

	if (quota_ctx_new(&ctx) != QUOTA_OK) {
		o->rc = QUOTA_ENOMEM;
		return NULL;
	}
	o->rc = quota_pg_open(ctx, o->conninfo, &pg);
	if (o->rc == QUOTA_OK)
		quota_pg_close(pg);
	quota_ctx_free(ctx);
	return NULL;
}

/* 1. The first open makes the schema (several at once too); a second
 * reads the configuration the first wrote. */
START_TEST(test_schema_and_config)
{
	char ci[512];
	pthread_t th[4];
	opener o[4];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_tariff *t;
	uint32_t sms = 99;

	fresh(1, ci, sizeof ci);
	for (int i = 0; i < 4; i++) {
		o[i].conninfo = ci;
		o[i].rc = -1;
		ck_assert_int_eq(pthread_create(&th[i], NULL, open_one, &o[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(o[i].rc == QUOTA_OK, "concurrent open %d: %s", i,
			      quota_err_name(o[i].rc));
	}
	ck_assert_str_eq(sql(ci, "SELECT value FROM quota_meta WHERE key = "
				 "'schema_version'"),
			 "1");
	ck_assert_str_eq(sql(ci, "SELECT count(*) FROM pg_tables WHERE "
				 "tablename IN ('quota_head', 'quota_journal',"
				 " 'quota_snapshot', 'quota_meta')"),
			 "4");
	a = node(ci, &pa);
	configure(a);
	b = node(ci, &pb);
	OKC(b, quota_category_find(b, "sms", &sms));
	ck_assert_uint_eq(sms, 0);
	OKC(b, quota_tariff_find(b, "std", &t));
	ck_assert_uint_eq(quota_ctx_config_seq(b), quota_ctx_config_seq(a));
	/* A second category from a: b has it after a sync. */
	OKC(a, quota_category_add(a, "email", &sms));
	ck_assert_int_eq(quota_category_find(b, "email", &sms),
			 QUOTA_ENOTFOUND);
	OKC(b, quota_pg_sync(pb, NULL));
	OKC(b, quota_category_find(b, "email", &sms));
	/* A context that is not empty is refused. */
	{
		quota_pg *pc;

		ck_assert_int_eq(quota_pg_open(b, ci, &pc), QUOTA_EINVAL);
		ck_assert_ptr_null(pc);
	}
	node_free(a, pa);
	node_free(b, pb);
}
END_TEST

/* 2. Two nodes on one account: the one behind conflicts, quota_pg_run
 * catches up and retries. */
START_TEST(test_two_nodes)
{
	char ci[512];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_account *x, *y;
	quota_op op;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	b = node(ci, &pb); /* before the configuration exists */
	configure(a);
	x = customer(pa, a, "acme");
	ck_assert_int_eq(quota_pg_account(pb, "nobody", 0, &y),
			 QUOTA_ENOTFOUND);
	ck_assert_ptr_null(y);
	/* b's configuration is behind: the load catches it up. */
	ck_assert_int_eq(quota_ctx_config_seq(b), 0);
	OKC(b, quota_pg_account(pb, "acme", 0, &y));
	ck_assert_uint_eq(quota_ctx_config_seq(b), quota_ctx_config_seq(a));
	ck_assert_int_eq(quota_account_seq(y), quota_account_seq(x));
	ck_assert_int_eq(left(y), 100);

	OKC(a, charge(x, 5, NULL, NULL));
	ck_assert_int_eq(charge(y, 7, NULL, NULL), QUOTA_ECONFLICT);
	ck_assert_int_eq(used(y), 0); /* nothing changed */
	op = charge_op(y, 7, NULL);
	OKC(b, quota_pg_run(pb, &op, 1));
	OKC(b, op.rc);
	ck_assert_int_eq(op.receipt.units, 7);
	ck_assert_int_eq(used(y), 12);
	op = charge_op(x, 2, NULL);
	OKC(a, quota_pg_run(pa, &op, 1));
	OKC(a, op.rc);
	OKC(b, quota_pg_sync(pb, y));
	ck_assert_int_eq(used(x), 14);
	ck_assert_int_eq(used(y), 14);
	ck_assert_int_eq(left(x), 86);
	same_as_server(x, ci);
	same_as_server(y, ci);
	/* Concurrent creation: b's create of an id a made meanwhile loads
	 * it. */
	{
		quota_account *z1, *z2;

		OKC(a, quota_pg_account(pa, "zulu", 1, &z1));
		OKC(b, quota_pg_account(pb, "zulu", 1, &z2));
		ck_assert_int_eq(quota_account_seq(z2), 1);
	}
	node_free(a, pa);
	node_free(b, pb);
}
END_TEST

/* 3. A keyed charge done on a, retried on b: b replays its receipt. */
START_TEST(test_key_on_other_node)
{
	char ci[512];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_account *x, *y;
	quota_receipt r;
	quota_op op;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	b = node(ci, &pb);
	OKC(b, quota_pg_account(pb, "acme", 0, &y));
	OKC(a, charge(x, 4, "m-1", &r));
	ck_assert_int_eq(r.replayed, 0);
	op = charge_op(y, 4, "m-1");
	OKC(b, quota_pg_run(pb, &op, 1));
	OKC(b, op.rc);
	ck_assert_int_eq(op.receipt.replayed, 1);
	ck_assert_int_eq(op.receipt.units, r.units);
	ck_assert_int_eq(op.receipt.package_units, r.package_units);
	ck_assert_int_eq(left(y), 96);
	ck_assert_int_eq(used(y), 4);
	same_as_server(y, ci);
	node_free(a, pa);
	node_free(b, pb);
}
END_TEST

/* Kill the backend of the connection about to send an append, once. */
static void kill_backend(quota_pg *pg, uint32_t shard, void *ud)
{
	const char *ci = ud;
	char q[96];

	snprintf(q, sizeof q, "SELECT pg_terminate_backend(%d, 5000)",
		 PQbackendPID(quota_pg__conn(pg, shard)));
	ck_assert_str_eq(sql(ci, q), "t");
	quota_pg__set_send_hook(pg, NULL, NULL);
}

/* 4. A connection lost under an append: unknown outcome, the account
 * unsynced; quota_pg_run syncs it and carries on. */
START_TEST(test_unknown_outcome)
{
	char ci[512];
	quota_ctx *a;
	quota_pg *pa;
	quota_account *x;
	quota_op op;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	OKC(a, charge(x, 1, NULL, NULL));
	quota_pg__set_send_hook(pa, kill_backend, ci);
	ck_assert_int_eq(charge(x, 2, "k-2", NULL), QUOTA_EUNKNOWN);
	ck_assert_int_eq(quota_account_unsynced(x), 1);
	ck_assert_int_eq(charge(x, 2, NULL, NULL), QUOTA_EUNSYNCED);
	op = charge_op(x, 2, "k-2"); /* the host retries, keyed */
	OKC(a, quota_pg_run(pa, &op, 1));
	OKC(a, op.rc);
	ck_assert_int_eq(op.receipt.replayed, 0); /* it was not stored */
	ck_assert_int_eq(quota_account_unsynced(x), 0);
	ck_assert_int_eq(used(x), 3);
	same_as_server(x, ci);
	node_free(a, pa);
}
END_TEST

/* 5. The server restarts between two charges: the next call reconnects;
 * nothing acknowledged is lost. */
START_TEST(test_restart)
{
	char ci[512], cmd[1024];
	const char *ctl = getenv("QUOTA_PG_CTL"),
		   *data = getenv("QUOTA_PG_DATA1");
	quota_ctx *a;
	quota_pg *pa;
	quota_account *x;

	ck_assert_msg(ctl && data, "QUOTA_PG_CTL, QUOTA_PG_DATA1 not set");
	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	OKC(a, charge(x, 3, NULL, NULL));
	snprintf(cmd, sizeof cmd,
		 "\"%s\" restart -D \"%s\" -m fast -w >/dev/null 2>&1", ctl,
		 data);
	ck_assert_int_eq(system(cmd), 0);
	OKC(a, charge(x, 4, NULL, NULL));
	OKC(a, charge(x, 5, "k", NULL));
	ck_assert_int_eq(used(x), 12);
	same_as_server(x, ci);
	node_free(a, pa);
}
END_TEST

/* 6. A snapshot, then records: a fresh node loads the same state, and a
 * node behind it (its records deleted) catches up from the snapshot. */
START_TEST(test_snapshot)
{
	char ci[512];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_account *x, *y;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	b = node(ci, &pb);
	OKC(b, quota_pg_account(pb, "acme", 0, &y));
	for (int i = 0; i < 3; i++)
		OKC(a, charge(x, 1 + i, NULL, NULL));
	OKC(a, quota_pg_snapshot(pa, x));
	ck_assert_str_eq(sql(ci, "SELECT count(*) FROM quota_journal WHERE "
				 "account = 'acme'"),
			 "0");
	OKC(a, charge(x, 10, NULL, NULL));
	OKC(a, charge(x, 20, "k", NULL));
	ck_assert_str_eq(sql(ci, "SELECT count(*) FROM quota_journal WHERE "
				 "account = 'acme'"),
			 "2");
	same_as_server(x, ci);
	/* b is at seq 3, the server's records start at 6. */
	ck_assert_int_eq(charge(y, 1, NULL, NULL), QUOTA_ECONFLICT);
	OKC(b, quota_pg_sync(pb, y));
	ck_assert_int_eq(quota_account_seq(y), quota_account_seq(x));
	ck_assert_int_eq(used(y), 36);
	OKC(b, charge(y, 1, NULL, NULL));
	same_as_server(y, ci);
	/* An older snapshot does not replace a newer one. */
	OKC(a, quota_pg_snapshot(pa, x));
	ck_assert_int_eq(atoi(sql(ci, "SELECT seq FROM quota_snapshot WHERE "
				      "account = 'acme'")),
			 (int)quota_account_seq(x));
	OKC(b, quota_pg_snapshot(pb, y));
	OKC(a, quota_pg_snapshot(pa, x));
	ck_assert_int_eq(atoi(sql(ci, "SELECT seq FROM quota_snapshot WHERE "
				      "account = 'acme'")),
			 (int)quota_account_seq(y));
	node_free(a, pa);
	node_free(b, pb);
}
END_TEST

/* 7. A newer schema is refused; a corrupt record or snapshot fails the
 * load and leaves the context without the account. */
START_TEST(test_refused)
{
	char ci[512];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_account *x;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	OKC(a, charge(x, 1, NULL, NULL));
	x = customer(pa, a, "beta");
	OKC(a, charge(x, 1, NULL, NULL));
	OKC(a, quota_pg_snapshot(pa, x));
	node_free(a, pa);
	sql(ci, "UPDATE quota_journal SET rec = set_byte(rec, length(rec) - "
		"1, get_byte(rec, length(rec) - 1) # 1) WHERE account = "
		"'acme' AND seq = 2");
	sql(ci, "UPDATE quota_snapshot SET snap = set_byte(snap, length(snap)"
		" - 1, get_byte(snap, length(snap) - 1) # 1) WHERE account = "
		"'beta'");
	b = node(ci, &pb);
	ck_assert_int_eq(quota_pg_account(pb, "acme", 0, &x), QUOTA_ECORRUPT);
	ck_assert_ptr_null(x);
	ck_assert_msg(strstr(quota_errmsg(b), "record 2") != NULL, "%s",
		      quota_errmsg(b));
	ck_assert_int_eq(quota_pg_account(pb, "beta", 1, &x), QUOTA_ECORRUPT);
	ck_assert_msg(strstr(quota_errmsg(b), "snapshot") != NULL, "%s",
		      quota_errmsg(b));
	ck_assert_int_eq(quota_ctx_account_count(b), 0);
	ck_assert_int_eq(quota_account_find(b, "acme", &x), QUOTA_ENOTFOUND);
	node_free(b, pb);

	sql(ci, "UPDATE quota_meta SET value = '2' WHERE key = "
		"'schema_version'");
	OK(quota_ctx_new(&b));
	ck_assert_int_eq(quota_pg_open(b, ci, &pb), QUOTA_EVERSION);
	ck_assert_ptr_null(pb);
	ck_assert_msg(strstr(quota_errmsg(b), "newer") != NULL, "%s",
		      quota_errmsg(b));
	quota_ctx_free(b);
}
END_TEST

static uint32_t by_letter(const char *id, uint32_t n, void *ud)
{
	(void)ud;
	return id[0] == 'a' ? 0 : 1 % n;
}

/* 8. Two shards: accounts where the rule says, one transaction per shard
 * in quota_pg_run, a raw batch across shards refused on the second. */
START_TEST(test_shards)
{
	char c1[512], c2[512];
	const char *shards[2] = {c1, c2};
	quota_pg_options o = QUOTA_PG_OPTIONS_INIT;
	quota_ctx *ctx, *c3;
	quota_pg *pg, *p3;
	quota_account *al, *br, *x;
	quota_op ops[4];

	fresh(1, c1, sizeof c1);
	fresh(2, c2, sizeof c2);
	o.shards = shards;
	o.nshards = 2;
	o.shard_of = by_letter;
	OK(quota_ctx_new(&ctx));
	OKC(ctx, quota_pg_open_with(ctx, NULL, &o, &pg));
	configure(ctx);
	al = customer(pg, ctx, "alpha");
	br = customer(pg, ctx, "bravo");
	ck_assert_str_eq(sql(c1, "SELECT string_agg(account, ',' ORDER BY "
				 "account) FROM quota_head"),
			 ",alpha");
	ck_assert_str_eq(sql(c2, "SELECT string_agg(account, ',' ORDER BY "
				 "account) FROM quota_head"),
			 "bravo");
	ops[0] = charge_op(al, 1, NULL);
	ops[1] = charge_op(br, 2, NULL);
	ops[2] = charge_op(al, 3, "k");
	ops[3] = charge_op(br, 4, NULL);
	OKC(ctx, quota_pg_run(pg, ops, 4));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ops[i].rc, QUOTA_OK);
	ck_assert_int_eq(used(al), 4);
	ck_assert_int_eq(used(br), 6);
	ck_assert_str_eq(sql(c1, "SELECT max(seq) FROM quota_journal WHERE "
				 "account = 'alpha'"),
			 "5");
	ck_assert_str_eq(sql(c2, "SELECT max(seq) FROM quota_journal WHERE "
				 "account = 'bravo'"),
			 "5");
	ops[0] = charge_op(al, 1, NULL);
	ops[1] = charge_op(br, 1, NULL);
	OKC(ctx, quota_batch(ctx, ops, 2));
	ck_assert_int_eq(ops[0].rc, QUOTA_OK);
	ck_assert_int_eq(ops[1].rc, QUOTA_ESTORE);
	ck_assert_int_eq(used(al), 5);
	ck_assert_int_eq(used(br), 6);
	/* A fresh node with the same shards sees the same. */
	OK(quota_ctx_new(&c3));
	OKC(c3, quota_pg_open_with(c3, NULL, &o, &p3));
	OKC(c3, quota_pg_account(p3, "alpha", 0, &x));
	ck_assert_int_eq(used(x), 5);
	OKC(c3, quota_pg_account(p3, "bravo", 0, &x));
	ck_assert_int_eq(used(x), 6);
	node_free(c3, p3);
	node_free(ctx, pg);
}
END_TEST

/*
 * quota_pg_run and refusals (§6): a refusal decided on a stale copy is
 * run again once the account caught up (another node gave units back),
 * but one the batch's own operations decided stands, in its order (a
 * charge refused before a release in the same batch stays refused).
 */
START_TEST(test_refusals_and_order)
{
	char ci[512];
	quota_ctx *a, *b;
	quota_pg *pa, *pb;
	quota_account *x, *y;
	quota_receipt r;
	quota_usage u = {.units = 95, .at = T0 + 60};
	quota_op ops[2];
	uint64_t hold;
	uint32_t sms;

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	sms = configure(a);
	x = customer(pa, a, "acme");
	OKC(a, quota_account_set_overage(x, sms, QUOTA_OVERAGE_STOP));
	b = node(ci, &pb);
	OKC(b, quota_pg_account(pb, "acme", 0, &y));
	/* a holds 95 of the 100: b's copy sees 100 left still. */
	u.category = sms;
	OKC(a, quota_reserve(x, &u, 3600, &r, &hold));
	/* In one batch of a's: a charge of 10 (5 left), then the
	 * release: the charge is refused, in its order. */
	ops[0] = charge_op(x, 10, "c10");
	memset(&ops[1], 0, sizeof ops[1]);
	ops[1].kind = QUOTA_OP_RELEASE;
	ops[1].account = x;
	ops[1].hold_id = hold;
	OKC(a, quota_pg_run(pa, ops, 2));
	ck_assert_int_eq(ops[0].rc, QUOTA_EEXHAUSTED);
	OKC(a, ops[1].rc);
	ck_assert_int_eq(left(x), 100);
	/* a holds 95 again; b (behind: it saw the release) charges 10:
	 * conflict, catch-up, refused on the server's state. */
	OKC(a, quota_reserve(x, &u, 3600, &r, &hold));
	ops[0] = charge_op(y, 10, "b10");
	OKC(b, quota_pg_run(pb, ops, 1));
	ck_assert_int_eq(ops[0].rc, QUOTA_EEXHAUSTED);
	/* a releases; b's copy is stale and refuses a charge of 10 on its
	 * own - quota_pg_run catches it up and charges it. */
	OKC(a, quota_release(x, hold, NULL, &r));
	ck_assert_int_eq(charge(y, 10, NULL, NULL), QUOTA_EEXHAUSTED);
	ops[0] = charge_op(y, 10, "b10-again");
	OKC(b, quota_pg_run(pb, ops, 1));
	OKC(b, ops[0].rc);
	ck_assert_int_eq(left(y), 90);
	same_as_server(y, ci);
	node_free(a, pa);
	node_free(b, pb);
}
END_TEST

/* quota_pg_run that cannot run an operation says so in its rc (a host
 * reading ops[i].rc never sees a QUOTA_OK of an operation that did not
 * run). */
START_TEST(test_run_rc_when_nothing_ran)
{
	char ci[512];
	quota_ctx *a;
	quota_pg *pa;
	quota_account *x;
	quota_op ops[2];

	fresh(1, ci, sizeof ci);
	a = node(ci, &pa);
	configure(a);
	x = customer(pa, a, "acme");
	ops[0] = charge_op(x, 1, "k1");
	ops[1] = charge_op(x, 1, "k2");
	ops[1].kind = 99;
	ops[0].rc = QUOTA_OK;
	ck_assert_int_eq(quota_pg_run(pa, ops, 2), QUOTA_EINVAL);
	ck_assert_int_eq(ops[0].rc, QUOTA_EINVAL);
	ck_assert_int_eq(ops[1].rc, QUOTA_EINVAL);
	ck_assert_int_eq(used(x), 0);
	node_free(a, pa);
}
END_TEST

/*
 * quota_pg_open_with refuses, before connecting: a conninfo with shards
 * in the options (quota_pg(3): conninfo must be NULL then); a context
 * whose configuration came from another server (a tariff only, no
 * category: its records would not follow this server's).
 */
START_TEST(test_open_refusals)
{
	char ci[512], c2[512];
	const char *shards[2] = {ci, c2};
	quota_pg_options o = QUOTA_PG_OPTIONS_INIT;
	quota_ctx *ctx;
	quota_pg *pg = (quota_pg *)1;
	quota_tariff *t;
	int rc;

	fresh(1, ci, sizeof ci);
	fresh(2, c2, sizeof c2);
	o.shards = shards;
	o.nshards = 2;
	OK(quota_ctx_new(&ctx));
	rc = quota_pg_open_with(ctx, ci, &o, &pg);
	ck_assert_msg(rc == QUOTA_EINVAL, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(pg);
	ck_assert_str_eq(sql(ci, "SELECT count(*) FROM pg_tables WHERE "
				 "tablename = 'quota_meta'"),
			 "0");
	OKC(ctx, quota_pg_open_with(ctx, NULL, &o, &pg));
	quota_pg_close(pg);
	quota_ctx_free(ctx);

	ctx = node(c2, &pg);
	OKC(ctx, quota_tariff_new(ctx, "std", &t));
	quota_pg_close(pg);
	ck_assert_uint_eq(quota_ctx_config_seq(ctx), 1);
	pg = (quota_pg *)1;
	rc = quota_pg_open(ctx, ci, &pg);
	ck_assert_msg(rc == QUOTA_EINVAL, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(pg);
	ck_assert_str_eq(sql(ci, "SELECT count(*) FROM quota_journal"), "0");
	quota_ctx_free(ctx);

	/* a tariff made with no store (in no journal): refused too */
	OK(quota_ctx_new(&ctx));
	OK(quota_ctx_set_store(ctx, NULL));
	OKC(ctx, quota_tariff_new(ctx, "std", &t));
	ck_assert_uint_eq(quota_ctx_config_unstored(ctx), 1);
	pg = (quota_pg *)1;
	rc = quota_pg_open(ctx, ci, &pg);
	ck_assert_msg(rc == QUOTA_EINVAL, "%s: %s", quota_err_name(rc),
		      quota_errmsg(ctx));
	ck_assert_ptr_null(pg);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * An account quota_account_load brought into a node, stored with
 * quota_pg_snapshot before it wrote anything: another node loads it with
 * the same snapshot bytes, and both go on writing it.  _i 0: from
 * another server (numbered past 0); _i 1: from a context without a
 * store (numbered 0, which quota_pg_snapshot used to skip).
 */
START_TEST(test_loaded_snapshot)
{
	char ci[512], other[512];
	quota_ctx *a, *b, *o;
	quota_pg *pa, *pb, *po = NULL;
	quota_account *x, *m, *y;
	void *snap, *back;
	size_t n, nb;

	fresh(1, ci, sizeof ci);
	if (_i == 0) {
		fresh(1, other, sizeof other);
		o = node(other, &po);
		configure(o);
		x = customer(po, o, "acme");
	} else {
		quota_package_spec s = {.id = "p1",
					.units = 100,
					.effective_at = 0,
					.expires_at = QUOTA_NEVER};
		quota_tariff *t;
		uint32_t sms;

		OK(quota_ctx_new(&o));
		OK(quota_ctx_set_store(o, NULL)); /* none, even journaled */
		sms = configure(o);
		OKC(o, quota_tariff_find(o, "std", &t));
		s.categories = QUOTA_MASK(sms);
		OKC(o, quota_account_new(o, "acme", &x));
		OKC(o, quota_account_set_tariff(x, sms, t));
		OKC(o, quota_package_add(x, &s, NULL));
	}
	OKC(o, charge(x, 3, "k1", NULL));
	ck_assert_uint_eq(quota_account_seq(x) == 0, _i == 1);
	OK(quota_account_snapshot(x, &snap, &n));

	a = node(ci, &pa);
	configure(a);
	OKC(a, quota_account_load(a, snap, n, &m));
	OKC(a, quota_pg_snapshot(pa, m));
	b = node(ci, &pb);
	OKC(b, quota_pg_account(pb, "acme", 0, &y));
	OK(quota_account_snapshot(y, &back, &nb));
	ck_assert_msg(nb == n && memcmp(back, snap, n) == 0,
		      "the snapshot another node loads differs");
	quota_free(b, back);
	ck_assert_int_eq(used(y), 3);
	OKC(b, charge(y, 5, "k2", NULL));
	ck_assert_int_eq(charge(m, 1, "k3", NULL), QUOTA_ECONFLICT);
	OKC(a, quota_pg_sync(pa, m));
	OKC(a, charge(m, 1, "k3", NULL));
	ck_assert_int_eq(used(m), 9);
	same_as_server(m, ci);
	quota_free(o, snap);
	node_free(a, pa);
	node_free(b, pb);
	if (po)
		node_free(o, po);
	else
		quota_ctx_free(o);
}
END_TEST

static Suite *pg_suite(void)
{
	Suite *s = suite_create("pg");
	TCase *tc = tcase_create("pg");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_schema_and_config);
	tcase_add_test(tc, test_two_nodes);
	tcase_add_test(tc, test_key_on_other_node);
	tcase_add_test(tc, test_unknown_outcome);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_shards);
	tcase_add_test(tc, test_refusals_and_order);
	tcase_add_test(tc, test_run_rc_when_nothing_ran);
	tcase_add_test(tc, test_open_refusals);
	tcase_add_loop_test(tc, test_loaded_snapshot, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
