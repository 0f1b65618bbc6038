/*
 * check_pg_lease.c - leases on hot accounts through libquota-pg (DESIGN
 * §6; quota_pg(3), LEASES), against a real PostgreSQL server that
 * tests/pg/with-pg.sh started (QUOTA_PG_CONNINFO).  Each test runs in a
 * database of its own.
 *
 * What a gateway operator relies on: a lease is a hold (R10), so a
 * prepaid account is never overspent and leased units show as held and
 * count against caps (R9); charges counted in memory become durable at a
 * flush; a node that never flushes loses only what it never acknowledged;
 * used + remaining = bought once every lease ended.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quota.h"
#include "quota_pg.h"
#include "quota_pg_int.h"
#include "pgtest.h"

#define T0 1767225600 /* 2026-01-01 00:00:00 UTC */

static char conninfo[512];

/* A fresh database for the test (pgtest.h). */
static void fresh_db(void)
{
	fresh(1, conninfo, sizeof conninfo);
}

typedef struct node {
	quota_ctx *ctx;
	quota_pg *pg;
	quota_account *a;
	uint32_t sms;
} node;

/* The first node writes the configuration and the account: one package
 * of `bought` units, overage STOP (prepaid only). */
static void first_node(node *n, int64_t bought)
{
	quota_package_spec s = {0};

	OK(quota_ctx_new(&n->ctx));
	OK(quota_pg_open(n->ctx, conninfo, &n->pg));
	OK(quota_category_add(n->ctx, "sms", &n->sms));
	OK(quota_pg_account(n->pg, "hot", 1, &n->a));
	OK(quota_account_set_overage(n->a, n->sms, QUOTA_OVERAGE_STOP));
	s.id = "p1";
	s.categories = QUOTA_MASK(n->sms);
	s.units = bought;
	s.effective_at = T0;
	s.expires_at = QUOTA_NEVER;
	OK(quota_package_add(n->a, &s, NULL));
}

/* Another node: reads the configuration at open, the account on first
 * use. */
static void other_node(node *n)
{
	OK(quota_ctx_new(&n->ctx));
	OK(quota_pg_open(n->ctx, conninfo, &n->pg));
	OK(quota_category_find(n->ctx, "sms", &n->sms));
	OK(quota_pg_account(n->pg, "hot", 0, &n->a));
}

static void node_free(node *n)
{
	quota_pg_close(n->pg);
	quota_ctx_free(n->ctx);
}

/* What the server holds of the account, seen by a node started now. */
static void server_view(int64_t *remaining, int64_t *used, int64_t *held)
{
	node v;

	other_node(&v);
	*remaining = quota_account_remaining(v.a, v.sms, T0 + 100);
	*held = quota_account_held(v.a, v.sms);
	/* quota_account_used counts held units too (what caps compare):
	 * the units charged are the rest. */
	*used = quota_account_used(v.a, v.sms, QUOTA_PERIOD_MONTH, T0 + 100) -
		*held;
	node_free(&v);
}

/* §6: a lease is a hold: the shared account shows it held, the node
 * counts in memory, a flush commits the used part and takes the next
 * hold, the end releases the rest; used + remaining = bought. */
START_TEST(test_lease_cycle)
{
	node n;
	quota_pg_lease *l;
	int64_t rem, used, held;
	uint64_t seq;

	fresh_db();
	first_node(&n, 1000);
	OK(quota_pg_lease_take(n.pg, n.a, n.sms, 100, T0 + 10, 3600, &l));
	ck_assert_int_eq(quota_pg_lease_size(l), 100);
	server_view(&rem, &used, &held);
	ck_assert_int_eq(held, 100);
	ck_assert_int_eq(rem, 900);
	/* In memory: no record, no store call. */
	seq = quota_account_seq(n.a);
	for (int i = 0; i < 100; i++)
		OK(quota_pg_lease_charge(l, 1));
	ck_assert_int_eq(quota_pg_lease_charge(l, 1), QUOTA_EEXHAUSTED);
	ck_assert_int_eq(quota_pg_lease_pending(l), 100);
	ck_assert_int_eq(quota_pg_lease_left(l), 0);
	ck_assert_uint_eq(quota_account_seq(n.a), seq);
	/* Flush: the 100 are durable, a new hold of 100 is taken. */
	OK(quota_pg_lease_flush(l, T0 + 20));
	ck_assert_int_eq(quota_pg_lease_pending(l), 0);
	ck_assert_int_eq(quota_pg_lease_size(l), 100);
	server_view(&rem, &used, &held);
	ck_assert_int_eq(used, 100);
	ck_assert_int_eq(held, 100);
	ck_assert_int_eq(rem, 800);
	for (int i = 0; i < 30; i++)
		OK(quota_pg_lease_charge(l, 1));
	OK(quota_pg_lease_end(l, T0 + 30));
	server_view(&rem, &used, &held);
	ck_assert_int_eq(used, 130);
	ck_assert_int_eq(held, 0);
	ck_assert_int_eq(rem, 870);
	ck_assert_int_eq(used + rem, 1000);
	node_free(&n);
}
END_TEST

/* A prepaid account is never overspent: a lease holds at most what the
 * account has; none left is QUOTA_EEXHAUSTED; two nodes' leases together
 * never exceed what was bought, at any flush. */
START_TEST(test_lease_never_overspends)
{
	node a, b;
	quota_pg_lease *la, *lb, *lc;
	int64_t rem, used, held, counted = 0;
	int done_a = 0, done_b = 0, rc;

	fresh_db();
	first_node(&a, 150);
	other_node(&b);
	OK(quota_pg_lease_take(a.pg, a.a, a.sms, 100, T0 + 10, 3600, &la));
	/* b's copy is behind: the take catches up and holds the 50 left. */
	OK(quota_pg_lease_take(b.pg, b.a, b.sms, 100, T0 + 10, 3600, &lb));
	ck_assert_int_eq(quota_pg_lease_size(lb), 50);
	lc = la;
	ck_assert_int_eq(quota_pg_lease_take(a.pg, a.a, a.sms, 10, T0 + 10,
					     3600, &lc),
			 QUOTA_EEXHAUSTED);
	ck_assert_ptr_null(lc);
	while (!done_a || !done_b) {
		for (int i = 0; !done_a && i < 10; i++)
			if (quota_pg_lease_charge(la, 1) == QUOTA_OK)
				counted++;
		for (int i = 0; !done_b && i < 4; i++)
			if (quota_pg_lease_charge(lb, 1) == QUOTA_OK)
				counted++;
		if (!done_a) {
			rc = quota_pg_lease_flush(la, T0 + 20);
			ck_assert_msg(rc == QUOTA_OK || rc == QUOTA_EEXHAUSTED,
				      "%s", quota_err_name(rc));
			done_a = rc == QUOTA_EEXHAUSTED;
		}
		if (!done_b) {
			rc = quota_pg_lease_flush(lb, T0 + 20);
			ck_assert_msg(rc == QUOTA_OK || rc == QUOTA_EEXHAUSTED,
				      "%s", quota_err_name(rc));
			done_b = rc == QUOTA_EEXHAUSTED;
		}
		/* Everything flushed is charged; nothing below zero. */
		server_view(&rem, &used, &held);
		ck_assert_int_ge(rem, 0);
		ck_assert_int_eq(used, counted);
		ck_assert_int_eq(used + rem + held, 150);
	}
	ck_assert_int_eq(quota_pg_lease_charge(la, 1), QUOTA_EEXHAUSTED);
	OK(quota_pg_lease_end(la, T0 + 30));
	OK(quota_pg_lease_end(lb, T0 + 30));
	server_view(&rem, &used, &held);
	ck_assert_int_eq(used, 150);
	ck_assert_int_eq(rem, 0);
	ck_assert_int_eq(used, counted);
	ck_assert_int_eq(held, 0);
	node_free(&a);
	node_free(&b);
}
END_TEST

/* R9 with §6: caps see leased units as held. */
START_TEST(test_lease_counts_against_caps)
{
	node n;
	quota_pg_lease *l;
	quota_receipt r;
	quota_usage u = {0};

	fresh_db();
	first_node(&n, 1000);
	OK(quota_account_set_cap(n.a, n.sms, QUOTA_PERIOD_DAY, 120));
	OK(quota_pg_lease_take(n.pg, n.a, n.sms, 100, T0 + 10, 3600, &l));
	u.category = n.sms;
	u.units = 30;
	u.at = T0 + 11;
	ck_assert_int_eq(quota_charge(n.a, &u, &r), QUOTA_ECAP);
	u.units = 20;
	OK(quota_charge(n.a, &u, &r));
	OK(quota_pg_lease_end(l, T0 + 12));
	node_free(&n);
}
END_TEST

/* A node that dies without flushing: its hold expires on the server and
 * the units go back - it had acknowledged none of those charges.  What it
 * flushed before stays. */
START_TEST(test_lease_crash_loses_only_unacknowledged)
{
	node a, b;
	quota_pg_lease *l;
	int64_t rem, used, held;

	fresh_db();
	first_node(&a, 1000);
	OK(quota_pg_lease_take(a.pg, a.a, a.sms, 100, T0 + 10, 60, &l));
	for (int i = 0; i < 40; i++)
		OK(quota_pg_lease_charge(l, 1));
	OK(quota_pg_lease_flush(l, T0 + 20)); /* 40 acknowledged */
	for (int i = 0; i < 25; i++)
		OK(quota_pg_lease_charge(l, 1)); /* never acknowledged */
	/* The node dies: no end.  Another node ticks past the deadline. */
	node_free(&a);
	free(l); /* what the dead process's memory held */
	other_node(&b);
	ck_assert_int_eq(quota_account_hold_count(b.a), 1);
	ck_assert_int_eq(quota_account_tick(b.a, T0 + 20 + 61), 1);
	node_free(&b);
	server_view(&rem, &used, &held);
	ck_assert_int_eq(used, 40);
	ck_assert_int_eq(held, 0);
	ck_assert_int_eq(rem, 960);
}
END_TEST

/* A lease whose hold expired before its end: the end says
 * QUOTA_ERESOLVED (what was counted since the last flush is not
 * charged) and frees the lease. */
START_TEST(test_lease_end_after_expiry)
{
	node n;
	quota_pg_lease *l;

	fresh_db();
	first_node(&n, 1000);
	OK(quota_pg_lease_take(n.pg, n.a, n.sms, 100, T0 + 10, 60, &l));
	OK(quota_pg_lease_charge(l, 5));
	ck_assert_int_eq(quota_account_tick(n.a, T0 + 71), 1);
	ck_assert_int_eq(quota_pg_lease_end(l, T0 + 72), QUOTA_ERESOLVED);
	ck_assert_int_eq(quota_account_held(n.a, n.sms), 0);
	ck_assert_int_eq(quota_account_remaining(n.a, n.sms, T0 + 72), 1000);
	node_free(&n);
}
END_TEST

/* A flush after the hold expired (another node ticked past it): the
 * counts since the last flush are not charged (QUOTA_ERESOLVED), no
 * stray hold is left behind, and the lease goes on with a new one. */
START_TEST(test_lease_flush_after_expiry)
{
	node a, b;
	quota_pg_lease *l;
	int64_t rem, used, held;

	fresh_db();
	first_node(&a, 1000);
	OK(quota_pg_lease_take(a.pg, a.a, a.sms, 100, T0 + 10, 60, &l));
	OK(quota_pg_lease_charge(l, 5));
	other_node(&b);
	ck_assert_int_eq(quota_account_tick(b.a, T0 + 71), 1);
	node_free(&b);
	ck_assert_int_eq(quota_pg_lease_flush(l, T0 + 72), QUOTA_ERESOLVED);
	ck_assert_int_eq(quota_pg_lease_pending(l), 0);
	ck_assert_int_eq(quota_pg_lease_size(l), 100);
	server_view(&rem, &used, &held);
	ck_assert_int_eq(held, 100);
	ck_assert_int_eq(used, 0);
	OK(quota_pg_lease_charge(l, 3));
	OK(quota_pg_lease_end(l, T0 + 80));
	server_view(&rem, &used, &held);
	ck_assert_int_eq(held, 0);
	ck_assert_int_eq(used, 3);
	ck_assert_int_eq(rem, 997);
	node_free(&a);
}
END_TEST

/* Kill the backend of the connection about to send an append, once. */
static void kill_backend(quota_pg *pg, uint32_t shard, void *ud)
{
	char q[96];

	(void)ud;
	snprintf(q, sizeof q, "SELECT pg_terminate_backend(%d, 5000)",
		 PQbackendPID(quota_pg__conn(pg, shard)));
	ck_assert_str_eq(sql(conninfo, q), "t");
	quota_pg__set_send_hook(pg, NULL, NULL);
}

/*
 * The connection lost under a take's hold (QUOTA_EUNKNOWN): the take
 * catches the account up and asks again, so the host gets the lease and
 * the server holds one lease's units.  The connection is cut before the
 * hold is sent, so this covers the retry, not the case of a hold stored
 * and its answer lost (which a retry under a new key would hold twice):
 * that the same key replays the stored hold is the core's,
 * check_store_answers' test_s5_unknown_reservation_retried_under_its_key_replays.
 */
START_TEST(test_lease_take_unknown)
{
	node n;
	quota_pg_lease *l;
	int64_t rem, used, held;
	int rc;

	fresh_db();
	first_node(&n, 1000);
	quota_pg__set_send_hook(n.pg, kill_backend, NULL);
	rc = quota_pg_lease_take(n.pg, n.a, n.sms, 100, T0 + 10, 3600, &l);
	ck_assert_msg(rc == QUOTA_OK, "%s: %s", quota_err_name(rc),
		      quota_errmsg(n.ctx));
	ck_assert_int_eq(quota_pg_lease_size(l), 100);
	server_view(&rem, &used, &held);
	ck_assert_int_eq(held, 100);
	ck_assert_int_eq(rem, 900);
	OK(quota_pg_lease_charge(l, 7));
	OK(quota_pg_lease_end(l, T0 + 20));
	server_view(&rem, &used, &held);
	ck_assert_int_eq(used, 7);
	ck_assert_int_eq(held, 0);
	ck_assert_int_eq(rem, 993);
	node_free(&n);
}
END_TEST

START_TEST(test_lease_bad_arguments)
{
	node n;
	quota_pg_lease *l = (quota_pg_lease *)&n;

	fresh_db();
	first_node(&n, 10);
	ck_assert_int_eq(quota_pg_lease_take(n.pg, n.a, n.sms, 0, T0, 60, &l),
			 QUOTA_EINVAL);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(quota_pg_lease_take(n.pg, n.a, n.sms, 5, T0, 0, &l),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_pg_lease_take(NULL, n.a, n.sms, 5, T0, 60, &l),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_pg_lease_charge(NULL, 1), QUOTA_EINVAL);
	OK(quota_pg_lease_take(n.pg, n.a, n.sms, 5, T0, 60, &l));
	ck_assert_int_eq(quota_pg_lease_charge(l, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_pg_lease_charge(l, -3), QUOTA_EINVAL);
	ck_assert_int_eq(quota_pg_lease_pending(l), 0);
	OK(quota_pg_lease_end(l, T0 + 1));
	OK(quota_pg_lease_end(NULL, T0 + 1));
	ck_assert_int_eq(quota_pg_lease_size(NULL), 0);
	node_free(&n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pg_lease");
	TCase *tc = tcase_create("lease");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lease_cycle);
	tcase_add_test(tc, test_lease_never_overspends);
	tcase_add_test(tc, test_lease_counts_against_caps);
	tcase_add_test(tc, test_lease_crash_loses_only_unacknowledged);
	tcase_add_test(tc, test_lease_end_after_expiry);
	tcase_add_test(tc, test_lease_flush_after_expiry);
	tcase_add_test(tc, test_lease_bad_arguments);
	tcase_add_test(tc, test_lease_take_unknown);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
