/*
 * check_next_hour.c - a charge without a store in an hour after every row
 * of the account's ledger (R17, R22: its rows are made then; the usual
 * charge of an account charged less than hourly) takes the fast path,
 * which makes the hour's rows as the general path would and caches them
 * (quota__ledger_next_hour, ledger.c).  Each test runs the same calls on
 * two contexts alike, the second with an event hook (which sends every
 * charge down the general path), and compares the accounts' snapshots
 * byte for byte after each call; the general path's runs on the first
 * context are counted (the Makefile links this test with --wrap for
 * quota__write).  With a store the path is off (its record must come
 * before any row), so with QUOTA_TEST_JOURNAL=1 (a recording store on
 * every context) both take the general path and only the counts change.
 */
#include <check.h>

#include "ctx.h"     /* store_on: a recording store turns the path off */
#include "journal.h" /* quota__write, counted */
#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "write_count.h" /* write_calls, quiet_hook */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HOUR TU_HOUR
#define MIN INT64_C(60)


/* [0] takes the fast path where it can, [1] the general path always. */
typedef struct pair {
	quota_ctx *c[2];
	quota_account *a[2];
	uint32_t sms, email; /* the same numbers in both */
} pair;

/*
 * An account with 3 free SMS a month, an SMS package of pkg units (none
 * if 0) and pay-as-you-go at 0.04 USD; email at 0.00028 USD.
 */
static void pair_new(pair *p, int32_t utc_offset, int64_t pkg, int64_t t0)
{
	for (int k = 0; k < 2; k++) {
		quota_ctx *c = new_ctx();
		quota_tariff *ts, *te;

		if (k)
			ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook,
								  NULL),
					 QUOTA_OK);
		p->sms = add_cat(c, "sms");
		p->email = add_cat(c, "email");
		ts = add_tariff(c, "sms");
		ck_assert_int_eq(quota_tariff_set_free(ts, 3,
						       QUOTA_PERIOD_MONTH),
				 QUOTA_OK);
		ck_assert_int_eq(quota_tariff_add_tier(ts, QUOTA_UNLIMITED,
						       40000),
				 QUOTA_OK);
		te = add_tariff(c, "email");
		ck_assert_int_eq(quota_tariff_add_tier(te, QUOTA_UNLIMITED,
						       280),
				 QUOTA_OK);
		p->c[k] = c;
		p->a[k] = add_acct(c, "shop");
		ck_assert_int_eq(quota_account_set_utc_offset(p->a[k],
							      utc_offset),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(p->a[k], p->sms, ts),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(p->a[k], p->email,
							  te),
				 QUOTA_OK);
		if (pkg)
			add_pkg(p->a[k], "p", QUOTA_MASK(p->sms), pkg,
				t0 - 86400, t0 + 90 * 86400, 0, 0);
	}
}

static void pair_free(pair *p)
{
	quota_ctx_free(p->c[0]);
	quota_ctx_free(p->c[1]);
}

/* The two accounts' snapshots are equal. */
static void same(const pair *p)
{
	void *s[2];
	size_t n[2];

	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(quota_account_snapshot(p->a[k], &s[k], &n[k]),
				 QUOTA_OK);
	ck_assert_uint_eq(n[0], n[1]);
	ck_assert_msg(!memcmp(s[0], s[1], n[0]),
		      "the fast and the general path's accounts differ");
	quota_free(p->c[0], s[0]);
	quota_free(p->c[1], s[1]);
}

/* The same charge on both, its receipts equal; how many times the
 * first context's charge took the general path (0 or 1). */
static unsigned charge2(pair *p, uint32_t cat, int64_t units, int64_t at)
{
	quota_receipt r[2];
	unsigned before = write_calls, slow;

	ck_assert_int_eq(charge_at(p->a[0], cat, units, at, &r[0]), QUOTA_OK);
	slow = write_calls - before;
	ck_assert_int_eq(charge_at(p->a[1], cat, units, at, &r[1]), QUOTA_OK);
	ck_assert_int_eq(r[0].free_units, r[1].free_units);
	ck_assert_int_eq(r[0].package_units, r[1].package_units);
	ck_assert_int_eq(r[0].payg_units, r[1].payg_units);
	ck_assert_int_eq(r[0].payg_cost_micros, r[1].payg_cost_micros);
	ck_assert_uint_eq(r[0].nlines, r[1].nlines);
	same(p);
	return slow;
}

/* With a store (QUOTA_TEST_JOURNAL=1 records every context) the path is
 * off: the counts are asserted without one only. */
static bool counted(const pair *p)
{
	return !p->c[0]->store_on;
}

/*
 * Charges 65 minutes apart, each in an hour of its own, in one day: free
 * units, then the package, then pay-as-you-go (no package row).  The
 * first charge of the day takes the general path (no day cached), and so
 * do the few whose rows need more room than the ledger has (its arrays
 * and table double: here the charges 1, 3, 6 and 13); the others the
 * fast one, and the accounts stay equal.
 */
START_TEST(test_r17_next_hour_charges_take_the_fast_path)
{
	int64_t t0 = tu_utc(2024, 5, 1, 0, 5, 0);
	unsigned slow = 0;
	pair p;

	pair_new(&p, 0, 4, t0);
	for (int i = 0; i < 20; i++) {
		unsigned s = charge2(&p, p.sms, 1, t0 + i * 65 * MIN);

		if (i)
			slow += s;
	}
	/* free 3, package 4, then 13 priced */
	if (counted(&p))
		ck_assert_uint_le(slow, 4);
	pair_free(&p);
}
END_TEST

/*
 * Two categories: an email in an hour after an SMS of the same hour finds
 * a row of that hour (the SMS's), so it takes the general path; the rows
 * of each category's hours stay apart.  An offset of +5:30 moves the
 * hours off UTC's.
 */
START_TEST(test_r17_next_hour_two_categories_one_hour)
{
	int64_t t0 = tu_utc(2024, 5, 1, 2, 0, 0);
	unsigned slow_sms = 0, slow_email = 0;
	pair p;

	pair_new(&p, 5 * 3600 + 1800, 100, t0);
	for (int i = 0; i < 12; i++) {
		int64_t t = t0 + i * 90 * MIN;

		slow_sms += charge2(&p, p.sms, 2, t);
		slow_email += charge2(&p, p.email, 50, t + 10 * MIN);
	}
	/* every email (the first: no day cached; the others: the hour has
	 * the SMS's rows); the first SMS and those that needed room */
	if (counted(&p)) {
		ck_assert_uint_eq(slow_email, 12);
		ck_assert_uint_le(slow_sms, 5);
	}
	pair_free(&p);
}
END_TEST

/*
 * After a late charge into an earlier hour, a settlement (which drops
 * every cache), a snapshot loaded back in place and days changing, new
 * hours still get the same rows both ways.
 */
START_TEST(test_r17_next_hour_after_late_settle_and_reload)
{
	int64_t t0 = tu_utc(2024, 5, 1, 0, 30, 0);
	pair p;

	pair_new(&p, -3 * 3600, 50, t0);
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(quota_account_topup(p.a[k], 100000000, t0),
				 QUOTA_OK);
	for (int i = 0; i < 6; i++)
		charge2(&p, p.sms, 1, t0 + i * 2 * HOUR);
	/* late, into hour 3 (no row yet: between two charged hours) and
	 * into hour 2 (rows) */
	charge2(&p, p.sms, 1, t0 + 3 * HOUR + 5 * MIN);
	charge2(&p, p.sms, 1, t0 + 2 * HOUR + 5 * MIN);
	charge2(&p, p.sms, 1, t0 + 12 * HOUR);
	for (int k = 0; k < 2; k++)
		ck_assert_int_ge(quota_settle(p.a[k], t0 + 86400, NULL, NULL),
				 0);
	same(&p);
	for (int i = 0; i < 5; i++)
		charge2(&p, p.sms, 1, t0 + 86400 + i * 3 * HOUR);
	/* the accounts as their snapshots give them back */
	for (int k = 0; k < 2; k++) {
		void *s;
		size_t n;

		ck_assert_int_eq(quota_account_snapshot(p.a[k], &s, &n),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_reset(p.a[k], s, n), QUOTA_OK);
		quota_free(p.c[k], s);
	}
	same(&p);
	/* before the newest row (late): in an hour with rows (the first
	 * charge after the reload caches it), in a later one with rows (not
	 * new, though after the cached hour), and in one without; then
	 * after the newest row */
	charge2(&p, p.sms, 1, t0 + 86400 + 3 * HOUR + 10 * MIN);
	charge2(&p, p.sms, 1, t0 + 86400 + 6 * HOUR + 10 * MIN);
	charge2(&p, p.sms, 1, t0 + 86400 + 4 * HOUR);
	for (int i = 0; i < 30; i++)
		charge2(&p, p.sms, 1, t0 + 86400 + 13 * HOUR + i * 70 * MIN);
	pair_free(&p);
}
END_TEST

/*
 * Weeks of charges 2 hours apart: the rows outgrow their room again and
 * again (the fast path leaves a charge with no room to the general path,
 * which makes more), and the accounts stay equal; most charges took the
 * fast path.
 */
START_TEST(test_r17_next_hour_rows_outgrow_their_room)
{
	int64_t t0 = tu_utc(2024, 5, 1, 0, 15, 0);
	unsigned slow = 0;
	const int n = 400;
	pair p;

	pair_new(&p, 0, 100, t0);
	for (int i = 0; i < n; i++)
		slow += charge2(&p, i % 5 ? p.sms : p.email, 1,
				t0 + i * 2 * HOUR);
	if (counted(&p))
		ck_assert_uint_lt(slow, (unsigned)n / 2);
	pair_free(&p);
}
END_TEST

/* The same keyed charge on both (a key window of 100 keys set first);
 * as charge2, 1 if the first context's took the general path. */
static unsigned keyed2(pair *p, const char *key, int64_t at)
{
	quota_receipt r[2];
	unsigned before = write_calls, slow = 0;

	for (int k = 0; k < 2; k++) {
		quota_usage u = {.category = p->sms, .units = 1, .at = at,
				 .key = key};

		ck_assert_int_eq(quota_charge(p->a[k], &u, &r[k]), QUOTA_OK);
		if (!k)
			slow = write_calls - before;
	}
	ck_assert_int_eq(r[0].package_units, r[1].package_units);
	ck_assert_int_eq(r[0].replayed, r[1].replayed);
	same(p);
	return slow;
}

/*
 * Keyed charges (keys.c takes the same fast path), a prune of what a
 * settlement closed (§7: the rows go, the bound stays above the rest),
 * and times before 1970 (negative hours, never after the bound of a new
 * ledger: the general path).
 */
START_TEST(test_r17_next_hour_keys_prune_and_before_1970)
{
	int64_t t0 = tu_utc(2024, 5, 1, 0, 10, 0);
	char key[16];
	unsigned slow = 0;
	pair p;

	pair_new(&p, 0, 100, t0);
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(quota_account_set_key_window(p.a[k], 100,
							      7 * 86400),
				 QUOTA_OK);
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "m%d", i);
		slow += keyed2(&p, key, t0 + i * 2 * HOUR);
	}
	/* the first (no day cached) and those that needed room */
	if (counted(&p))
		ck_assert_uint_le(slow, 4);
	keyed2(&p, "m3", t0 + 6 * HOUR); /* a repeat: replayed */
	for (int k = 0; k < 2; k++) {
		ck_assert_int_ge(quota_settle(p.a[k], t0 + 86400, NULL, NULL),
				 0);
		ck_assert_int_eq(quota_account_prune(p.a[k], t0 + 86400,
						     QUOTA_PRUNE_ALL),
				 QUOTA_OK);
	}
	same(&p);
	for (int i = 0; i < 10; i++)
		charge2(&p, p.sms, 1, t0 + 86400 + i * 2 * HOUR);
	pair_free(&p);

	t0 = -10 * INT64_C(86400) + 5 * MIN; /* 1969-12-22 */
	pair_new(&p, 3600, 100, t0);
	for (int i = 0; i < 10; i++)
		charge2(&p, p.sms, 1, t0 + i * 2 * HOUR);
	pair_free(&p);
}
END_TEST

static Suite *next_hour_suite(void)
{
	Suite *s = suite_create("next_hour");
	TCase *r17 = tcase_create("r17");

	tcase_add_test(r17, test_r17_next_hour_charges_take_the_fast_path);
	tcase_add_test(r17, test_r17_next_hour_two_categories_one_hour);
	tcase_add_test(r17, test_r17_next_hour_after_late_settle_and_reload);
	tcase_add_test(r17, test_r17_next_hour_rows_outgrow_their_room);
	tcase_add_test(r17, test_r17_next_hour_keys_prune_and_before_1970);
	tcase_set_timeout(r17, 120);
	suite_add_tcase(s, r17);
	return s;
}

int main(void)
{
	return tu_run(next_hour_suite());
}
