/*
 * check_journal_v10.c - a journal of format 1.0 replays to the state its
 * writer left (quota_journal(5), §5): records written by the library
 * before 1.1 (tests/support/journal_v10.h), applied in check mode to a
 * fresh context, give the account its writer's snapshot byte for byte,
 * though 1.1 settles the same calls otherwise (R17: the late credit on
 * the first bill with lines of its own, one bill where 1.0 made two; R24:
 * a settlement with no bill forfeits expired gift money, which 1.0 kept).
 */
#include <check.h>

#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "journal_v10.h"

START_TEST(test_s5_format_1_0_replays_to_its_state)
{
	quota_ctx *c = new_ctx();
	quota_account *a = NULL;
	quota_money m;
	const unsigned char *p = v10_recs;
	void *snap = NULL;
	size_t i, n = 0;

	tu_journal_skip(c); /* its state is the records', not its calls' */
	for (i = 0; i < sizeof v10_lens / sizeof v10_lens[0]; i++) {
		ck_assert_uint_eq(p[9], 0); /* minor 0: every record is 1.0 */
		ck_assert_msg(quota_journal_apply(c, p, v10_lens[i],
						  QUOTA_JOURNAL_CHECK) ==
				      QUOTA_OK,
			      "record %zu: %s", i, quota_errmsg(c));
		p += v10_lens[i];
	}
	ck_assert_ptr_eq(p, v10_recs + sizeof v10_recs);
	ck_assert_int_eq(quota_account_find(c, "shop", &a), QUOTA_OK);
	/* 1.0 kept the grant a settlement without bills did not forfeit */
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.gift_micros, 5000000);
	ck_assert_int_eq(m.gift_expired_micros, 0);
	ck_assert_int_eq(quota_account_snapshot(a, &snap, &n), QUOTA_OK);
	ck_assert_uint_eq(n, sizeof v10_snap);
	ck_assert_msg(memcmp(snap, v10_snap, n) == 0,
		      "the account differs from its 1.0 writer's");
	quota_free(c, snap);
	/* and the account goes on: a tick forfeits the grant */
	ck_assert_int_eq(quota_account_tick(a, 1714521600 + 6 * 86400), 0);
	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	ck_assert_int_eq(m.gift_micros, 0);
	ck_assert_int_eq(m.gift_expired_micros, 5000000);
	quota_ctx_free(c);
}
END_TEST

static Suite *v10_suite(void)
{
	Suite *s = suite_create("journal_v10");
	TCase *tc = tcase_create("s5");

	tcase_add_test(tc, test_s5_format_1_0_replays_to_its_state);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(v10_suite());
}
