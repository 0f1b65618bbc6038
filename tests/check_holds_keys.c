/*
 * check_holds_keys.c - scenario tests for issue 4: idempotency keys (R11)
 * and reversal (R12), from /tmp/semantics4.md with exact dates and
 * numbers.  Each test name cites the rule it shows.  Reservations (R10)
 * are in check_holds.c, events (R21) in check_holds_events.c; the helpers
 * the three share in support/holds.h.
 *
 * Where the spec is silent these tests assume: a key that conflicts is
 * refused with EKEYCONFLICT before the hold's state is looked at (also on
 * a resolved hold); a reversal receipt has hold_id 0 (quota.h: hold_id is
 * for RESERVE / COMMIT / RELEASE).
 */
#include <check.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"
#include "holds.h"

/* ---------------------------------------------------------------- helpers */

/* ---------------------------------------------------------------- R11 */

/* Replays return the original receipt and change nothing; other
 * parameters or another operation on the same key: EKEYCONFLICT. */
START_TEST(test_r11_duplicate_keys_across_operations)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *b = add_acct(c, "b");
	quota_tariff *t = add_tariff(c, "t");
	quota_package *p;
	quota_receipt r, orig, rsv, cm, rl;
	uint64_t h1, h2, hx;
	tu_snap s0, s1;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 700),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 11), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);

	/* charge */
	OK(a, do_charge(a, sms, 12, T0, "m-1", &orig));
	expect_kind(&orig, QUOTA_RECEIPT_CHARGE, 0, 0);
	expect_totals(&orig, 12, 0, 10, 2, 1400);
	tu_snap_take1(&s0, a, T0);
	OK(a, do_charge(a, sms, 12, T0, "m-1", &r));
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&orig, &r, false);
	tu_snap_take1(&s1, a, T0);
	TU_ASSERT_SNAP_EQ(&s0, &s1);
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_charge(a, sms, 13, T0, "m-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_charge(a, sms, 12, T0 + 1, "m-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_reserve(a, sms, 12, T0, 60, "m-1", &r, &hx));
	ck_assert_uint_eq(hx, 0);
	/* quote: a replay of a known charge key, a conflict, or a quote. */
	OK(a, do_quote(a, sms, 12, T0, "m-1", &r));
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&orig, &r, false);
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_quote(a, sms, 1, T0, "m-1", &r));
	OK(a, do_quote(a, sms, 1, T0, "q-1", &r));
	expect_kind(&r, QUOTA_RECEIPT_CHARGE, 0, 0);
	expect_totals(&r, 1, 0, 0, 1, 700);
	/* ... which stored nothing: q-1 is free for any charge. */
	OK(a, do_charge(a, sms, 2, T0, "q-1", &r));
	ck_assert_int_eq(r.replayed, 0);
	expect_totals(&r, 2, 0, 0, 2, 1400);
	/* The same key on another account is another key. */
	OK(b, do_charge(b, sms, 1, T0, "m-1", &r));
	ck_assert_int_eq(r.replayed, 0);

	/* reserve */
	ck_assert_int_eq(quota_package_remaining(p), 0);
	OK(a, do_reserve(a, sms, 3, T0 + 10, 600, "r-1", &rsv, &h1));
	expect_kind(&rsv, QUOTA_RECEIPT_RESERVE, h1, 0);
	tu_snap_take1(&s0, a, T0);
	OK(a, do_reserve(a, sms, 3, T0 + 10, 600, "r-1", &r, &hx));
	ck_assert_uint_eq(hx, h1);
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&rsv, &r, false);
	tu_snap_take1(&s1, a, T0);
	TU_ASSERT_SNAP_EQ(&s0, &s1);
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_reserve(a, sms, 3, T0 + 10, 601, "r-1", &r, &hx));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_charge(a, sms, 3, T0 + 10, "r-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r,
		do_quote(a, sms, 3, T0 + 10, "r-1", &r));

	/* commit */
	OK(a, do_commit(a, h1, 2, "c-1", &cm));
	expect_kind(&cm, QUOTA_RECEIPT_COMMIT, h1, 0);
	expect_totals(&cm, 2, 0, 0, 2, 1400);
	tu_snap_take1(&s0, a, T0);
	OK(a, do_commit(a, h1, 2, "c-1", &r));
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&cm, &r, false);
	/* The reserve key still replays the reserve, hold since committed. */
	OK(a, do_reserve(a, sms, 3, T0 + 10, 600, "r-1", &r, &hx));
	ck_assert_uint_eq(hx, h1);
	receipts_agree(&rsv, &r, false);
	tu_snap_take1(&s1, a, T0);
	TU_ASSERT_SNAP_EQ(&s0, &s1);
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r, do_commit(a, h1, 1, "c-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r, do_release(a, h1, "c-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r, do_commit(a, h1, 2, "m-1", &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h1, 2, "c-2", &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h1, 2, NULL, &r));

	/* release */
	OK(a, do_reserve(a, sms, 4, T0 + 20, 600, NULL, &r, &h2));
	OK(a, do_release(a, h2, "x-1", &rl));
	expect_kind(&rl, QUOTA_RECEIPT_RELEASE, h2, 0);
	ck_assert_int_eq(rl.fee_micros, 44);
	tu_snap_take1(&s0, a, T0);
	OK(a, do_release(a, h2, "x-1", &r));
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&rl, &r, false);
	tu_snap_take1(&s1, a, T0);
	TU_ASSERT_SNAP_EQ(&s0, &s1);
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r, do_commit(a, h2, 0, "x-1", &r));
	REFUSED(a, T0, QUOTA_EKEYCONFLICT, &r, do_release(a, h1, "x-1", &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_release(a, h2, "x-2", &r));
	/* 12 (m-1) + 2 (q-1) + 2 committed */
	ck_assert_int_eq(used_day(a, sms, T0), 16);
	quota_ctx_free(c);
}
END_TEST

/* A failed call stores nothing: retrying it is a new attempt. */
START_TEST(test_r11_failed_call_stores_no_key)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;

	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 5),
			 QUOTA_OK);
	REFUSED(a, T0, QUOTA_ECAP, &r, do_charge(a, sms, 6, T0, "f-1", &r));
	REFUSED(a, T0, QUOTA_ECAP, &r,
		do_reserve(a, sms, 6, T0, 60, "f-2", &r, &h));
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, -1),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 6, T0, "f-1", &r));
	ck_assert_int_eq(r.replayed, 0);
	OK(a, do_reserve(a, sms, 6, T0, 60, "f-2", &r, &h));
	ck_assert_int_eq(r.replayed, 0);
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_commit(a, 7, 1, "f-3", &r));
	OK(a, do_commit(a, h, 1, "f-3", &r));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(used_day(a, sms, T0), 7);
	quota_ctx_free(c);
}
END_TEST

/* Keys: length 1..64 bytes, UTF-8. */
START_TEST(test_r11_key_format)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	char k64[65], k65[66];
	uint64_t h;

	memset(k64, 'k', 64);
	k64[64] = '\0';
	memset(k65, 'k', 65);
	k65[65] = '\0';
	OK(a, do_charge(a, sms, 1, T0, k64, &r));
	OK(a, do_charge(a, sms, 1, T0, "ключ-é", &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_charge(a, sms, 1, T0, k65, &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_charge(a, sms, 1, T0, "", &r));
	REFUSED(a, T0, QUOTA_EENCODING, &r,
		do_charge(a, sms, 1, T0, "k\xff", &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 1, T0, 9, k65, &r, &h));
	REFUSED(a, T0, QUOTA_EENCODING, &r,
		do_reserve(a, sms, 1, T0, 9, "\xc0\xaf", &r, &h));
	OK(a, do_reserve(a, sms, 1, T0, 9, NULL, &r, &h));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_commit(a, h, 1, "", &r));
	REFUSED(a, T0, QUOTA_EENCODING, &r, do_release(a, h, "a\xed\xa0\x80", &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_quote(a, sms, 1, T0, k65, &r));
	ck_assert_int_eq(used_day(a, sms, T0), 3);
	quota_ctx_free(c);
}
END_TEST

/* The window by count: the oldest stored key is forgotten first; a
 * forgotten key charges again; shrinking forgets at once. */
START_TEST(test_r11_key_window_by_count)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_key_window(a, 2, 604800), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	OK(a, do_charge(a, sms, 1, T0, "k2", &r));
	OK(a, do_charge(a, sms, 1, T0, "k2", &r));
	ck_assert_int_eq(r.replayed, 1);
	OK(a, do_charge(a, sms, 1, T0, "k3", &r));
	ck_assert_int_eq(used_day(a, sms, T0), 3);
	/* k1 was the oldest: forgotten, so it charges again. */
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(used_day(a, sms, T0), 4);
	/* Now k3, k1 are kept; k2 was forgotten. */
	OK(a, do_charge(a, sms, 1, T0, "k3", &r));
	ck_assert_int_eq(r.replayed, 1);
	OK(a, do_charge(a, sms, 5, T0, "k2", &r));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(used_day(a, sms, T0), 9);
	/* k1, k2 kept.  Window of 5: k1, k2, k4, k5; shrink to 2: k4, k5
	 * stay. */
	ck_assert_int_eq(quota_account_set_key_window(a, 5, 604800), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0, "k4", &r));
	OK(a, do_charge(a, sms, 1, T0, "k5", &r));
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(used_day(a, sms, T0), 11);
	ck_assert_int_eq(quota_account_set_key_window(a, 2, 604800), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0, "k4", &r));
	ck_assert_int_eq(r.replayed, 1);
	OK(a, do_charge(a, sms, 1, T0, "k5", &r));
	ck_assert_int_eq(r.replayed, 1);
	OK(a, do_quote(a, sms, 7, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(r.units, 7);
	ck_assert_int_eq(used_day(a, sms, T0), 11);
	/* A smaller age forgets at once too. */
	ck_assert_int_eq(quota_account_set_key_window(a, 100, 604800),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0 + 2 * TU_HOUR, "k6", &r));
	ck_assert_int_eq(quota_account_set_key_window(a, 100, 3600), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0, "k4", &r));
	ck_assert_int_eq(r.replayed, 0);
	OK(a, do_charge(a, sms, 1, T0 + 2 * TU_HOUR, "k6", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(used_day(a, sms, T0), 13);
	/* Bad windows. */
	ck_assert_int_eq(quota_account_set_key_window(a, 0, 10), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_key_window(a, 10, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_key_window(a, 10, -1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_key_window(NULL, 10, 10),
			 QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/* The window by age: keys older than the newest time seen minus max_age
 * are forgotten; a charge, or a tick, moves the time. */
START_TEST(test_r11_key_window_by_age)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;

	ck_assert_int_eq(quota_account_set_key_window(a, 100, 3600), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	OK(a, do_charge(a, sms, 1, T0 + 3600, "k2", &r));
	/* k1's time T0 is not < T0 + 3600 - 3600: remembered. */
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(used_month(a, sms, T0), 2);
	OK(a, do_charge(a, sms, 1, T0 + 3601, "k3", &r));
	/* Now it is: k1 is new again and charges again. */
	OK(a, do_quote(a, sms, 1, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 0);
	OK(a, do_charge(a, sms, 1, T0, "k1", &r));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(used_month(a, sms, T0), 4);
	/* A reserve key and a commit key (timed at the account clock). */
	OK(a, do_reserve(a, sms, 2, T0 + 3700, 60, "r1", &r, &h));
	OK(a, do_commit(a, h, 1, "c1", &r));
	OK(a, do_commit(a, h, 1, "c1", &r));
	ck_assert_int_eq(r.replayed, 1);
	/* A newer key time moves the window: k2 (T0 + 3600) goes, k3
	 * (T0 + 3601) and the reserve and commit keys (T0 + 3700) stay. */
	OK(a, do_charge(a, sms, 1, T0 + 7201, "k4", &r));
	OK(a, do_quote(a, sms, 1, T0 + 3601, "k3", &r));
	ck_assert_int_eq(r.replayed, 1);
	OK(a, do_quote(a, sms, 1, T0 + 3600, "k2", &r));
	ck_assert_int_eq(r.replayed, 0);
	OK(a, do_commit(a, h, 1, "c1", &r));
	ck_assert_int_eq(r.replayed, 1);
	/* Past T0 + 3700 + 3600 the reserve and commit keys are gone. */
	OK(a, do_charge(a, sms, 1, T0 + 7301, "k5", &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h, 1, "c1", &r));
	OK(a, do_reserve(a, sms, 2, T0 + 3700, 60, "r1", &r, &h));
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_uint_eq(h, 2);
	ck_assert_int_eq(used_month(a, sms, T0), 9);
	quota_ctx_free(c);
}
END_TEST

/*
 * A key whose own time is already older than the newest key time minus
 * max_age is outside the window at once: repeating it charges again, and
 * it takes no slot of the count window.
 */
/* R11: the key window is a queue (quota_reverse(3)): a key is forgotten by
 * age only once every key stored before it is gone, and then as soon as
 * its time is older than the newest key time minus max_age. */
START_TEST(test_r11_window_is_a_queue)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_key_window(a, 3, 3600), QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0 + 5000, "k1", &r));
	/* A late key (T0 < T0 + 5000 - 3600) behind k1: kept for now. */
	OK(a, do_charge(a, sms, 1, T0, "late", &r));
	ck_assert_int_eq(r.replayed, 0);
	OK(a, do_charge(a, sms, 1, T0, "late", &r));
	ck_assert_int_eq(r.replayed, 1);
	/* k3, k4: the count bound forgets k1, then "late" goes by age. */
	OK(a, do_charge(a, sms, 1, T0 + 5000, "k3", &r));
	OK(a, do_charge(a, sms, 1, T0 + 5000, "k4", &r));
	OK(a, do_charge(a, sms, 1, T0, "late", &r));
	ck_assert_msg(r.replayed == 0, "late key outlived the keys before it");
	quota_ctx_free(c);
}
END_TEST

/*
 * R11: the key table against a model queue.  Keys come from a small pool,
 * so many repeat, and every charge is checked: a key in the window
 * replays, any other charges again.  Small windows churn the table:
 * deleted slots, their reuse, in-place rebuilds and growth (keys.c).
 */
START_TEST(test_r11_key_table_matches_model_queue)
{
	static const uint32_t windows[] = {1, 2, 7, 31, 64, 200, 1000};
	const int steps = tu_quick() ? 3000 : 40000;
	size_t w;

	for (w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		quota_ctx *c = new_ctx();
		uint32_t sms = add_cat(c, "sms");
		quota_account *a = add_acct(c, "a");
		uint32_t max = windows[w], pool = 3 * max + 5;
		uint32_t *queue = calloc(max, sizeof *queue), head = 0, n = 0;
		quota_receipt r;
		tu_rng rng;
		int i;

		tu_rng_seed(&rng, 0x5EED0000u + max); /* fixed: replayable */
		ck_assert_ptr_nonnull(queue);
		ck_assert_int_eq(quota_account_set_key_window(a, max, 1 << 30),
				 QUOTA_OK);
		for (i = 0; i < steps; i++) {
			uint32_t key = (uint32_t)(tu_rng_next(&rng) % pool), j;
			bool held = false;
			char k[32];

			for (j = 0; j < n && !held; j++)
				held = queue[(head + j) % max] == key;
			snprintf(k, sizeof k, "key-%u", key);
			OK(a, do_charge(a, sms, 1, T0 + key, k, &r));
			ck_assert_msg(r.replayed == (held ? 1 : 0),
				      "window %u step %d key %u: replayed %d",
				      max, i, key, r.replayed);
			if (held)
				continue;
			if (n == max) { /* the oldest is forgotten */
				head = (head + 1) % max;
				n--;
			}
			queue[(head + n) % max] = key;
			n++;
		}
		free(queue);
		quota_ctx_free(c);
	}
}
END_TEST

/* ---------------------------------------------------------------- R12 */

/* Units go back to packages unexpired at `at`; the rest is forfeited;
 * pay-as-you-go is credited; counters corrected; twice: EREVERSED. */
START_TEST(test_r12_reversal_restores_unexpired_packages_only)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	quota_package *pa, *pb;
	quota_receipt orig, r;
	int64_t t1 = T0 + 2 * TU_DAY;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       20),
			 QUOTA_OK);
	pa = add_pkg(a, "A", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	pb = add_pkg(a, "B", QUOTA_MASK(sms), 10, T0 - TU_DAY,
		     T0 + 30 * TU_DAY, 0, 0);
	OK(a, do_charge(a, sms, 20, T0, "c", &orig));
	expect_totals(&orig, 20, 0, 15, 5, 5000);
	REFUSED(a, T0, QUOTA_ECAP, &r, do_charge(a, sms, 1, T0, NULL, &r));
	/* Reversed on a day A has expired. */
	OK(a, do_reverse(a, "c", t1, &r));
	expect_kind(&r, QUOTA_RECEIPT_REVERSAL, 0, 0);
	expect_totals(&r, 20, 0, 15, 5, 5000);
	ck_assert_int_eq(r.forfeited_units, 5);
	ck_assert_int_eq(r.fee_micros, 0);
	ck_assert_uint_eq(r.category, sms);
	ck_assert_int_eq(r.at, T0);
	expect_nlines(&r, 3);
	expect_pkg_line_of(&r, 0, pa, 5);
	expect_pkg_line_of(&r, 1, pb, 10);
	expect_payg_line(&r, 2, 0, 5, 1000);
	ck_assert_int_eq(quota_package_remaining(pa), 0);
	ck_assert_int_eq(quota_package_remaining(pb), 10);
	ck_assert_int_eq(used_day(a, sms, T0), 0);
	ck_assert_int_eq(used_month(a, QUOTA_ALL, T0), 0);
	/* Twice: refused; the key still replays the charge. */
	REFUSED(a, T0, QUOTA_EREVERSED, &r, do_reverse(a, "c", t1, &r));
	OK(a, do_charge(a, sms, 20, T0, "c", &r));
	ck_assert_int_eq(r.replayed, 1);
	receipts_agree(&orig, &r, false);
	ck_assert_int_eq(quota_package_remaining(pb), 10);
	/* The cap room is back: 20 more fit, at 1000 for payg (volume 0). */
	OK(a, do_charge(a, sms, 20, T0 + 1, NULL, &r));
	expect_totals(&r, 20, 0, 10, 10, 10000);
	quota_ctx_free(c);
}
END_TEST

/* Reversal at a time all packages are still valid restores them all;
 * free units are returned to the free allowance. */
START_TEST(test_r12_reversal_free_units_and_commit_key)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	quota_package *p;
	quota_receipt r, cm;
	uint64_t h, h2;

	ck_assert_int_eq(quota_tariff_set_free(t, 3, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	OK(a, do_charge(a, sms, 5, T0, "ch", &r));
	expect_totals(&r, 5, 3, 2, 0, 0);
	ck_assert_int_eq(quota_account_free_used(a, sms, T0), 3);
	OK(a, do_reverse(a, "ch", T0 + 60, &r));
	expect_totals(&r, 5, 3, 2, 0, 0);
	ck_assert_int_eq(r.forfeited_units, 0);
	ck_assert_int_eq(quota_account_free_used(a, sms, T0), 0);
	ck_assert_int_eq(quota_package_remaining(p), 10);
	ck_assert_int_eq(used_day(a, sms, T0), 0);
	/* A commit is reversed by its key. */
	OK(a, do_reserve(a, sms, 8, T0 + 100, 600, "rs", &r, &h));
	expect_totals(&r, 8, 3, 5, 0, 0);
	OK(a, do_commit(a, h, 6, "cm", &cm));
	expect_totals(&cm, 6, 3, 3, 0, 0);
	ck_assert_int_eq(quota_package_remaining(p), 7);
	OK(a, do_reverse(a, "cm", T0 + 200, &r));
	/* hold_id: RESERVE / COMMIT / RELEASE only (quota.h). */
	expect_kind(&r, QUOTA_RECEIPT_REVERSAL, 0, 0);
	expect_totals(&r, 6, 3, 3, 0, 0);
	ck_assert_int_eq(quota_package_remaining(p), 10);
	ck_assert_int_eq(quota_account_free_used(a, sms, T0), 0);
	ck_assert_int_eq(used_day(a, sms, T0), 0);
	REFUSED(a, T0, QUOTA_EREVERSED, &r, do_reverse(a, "cm", T0 + 200, &r));
	/* Keys of a reserve or a release do not name a charge. */
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_reverse(a, "rs", T0 + 200, &r));
	OK(a, do_reserve(a, sms, 1, T0 + 300, 600, NULL, &r, &h2));
	OK(a, do_release(a, h2, "rl", &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_reverse(a, "rl", T0 + 300, &r));
	/* Unknown keys, bad keys, bad times. */
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_reverse(a, "nope", T0, &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_reverse(a, NULL, T0, &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_reverse(a, "", T0, &r));
	REFUSED(a, T0, QUOTA_EENCODING, &r, do_reverse(a, "\xff", T0, &r));
	OK(a, do_charge(a, sms, 1, T0, "ch2", &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reverse(a, "ch2", QUOTA_TIME_MAX, &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reverse(a, "ch2", QUOTA_TIME_MIN - 1, &r));
	quota_ctx_free(c);
}
END_TEST

/* quota_charge_sms passes its key on: a repeated text replays. */
START_TEST(test_r11_charge_sms_key)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	char text[200];

	memset(text, 'a', sizeof text);
	ck_assert_int_eq(quota_charge_sms(a, sms, "hello", 5, NULL, T0, "s-1",
					  &r, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(r.replayed, 0);
	ck_assert_int_eq(quota_charge_sms(a, sms, "hello", 5, NULL, T0, "s-1",
					  &r, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(r.units, 1);
	/* 200 GSM characters: 2 segments, other parameters. */
	ck_assert_int_eq(quota_charge_sms(a, sms, text, sizeof text, NULL, T0,
					  "s-1", &r, NULL),
			 QUOTA_EKEYCONFLICT);
	ck_assert_int_eq(used_day(a, sms, T0), 1);
	quota_ctx_free(c);
}
END_TEST

/* A forgotten key cannot be reversed. */
START_TEST(test_r12_forgotten_key_not_found)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;

	ck_assert_int_eq(quota_account_set_key_window(a, 1, 604800), QUOTA_OK);
	OK(a, do_charge(a, sms, 2, T0, "a1", &r));
	OK(a, do_charge(a, sms, 2, T0, "a2", &r));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_reverse(a, "a1", T0, &r));
	OK(a, do_reverse(a, "a2", T0, &r));
	ck_assert_int_eq(used_day(a, sms, T0), 2);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *holds_keys_suite(void)
{
	Suite *s = suite_create("holds_keys");
	TCase *r11 = tcase_create("r11");
	TCase *r12 = tcase_create("r12");

	tcase_add_test(r11, test_r11_duplicate_keys_across_operations);
	tcase_add_test(r11, test_r11_failed_call_stores_no_key);
	tcase_add_test(r11, test_r11_key_format);
	tcase_add_test(r11, test_r11_key_window_by_count);
	tcase_add_test(r11, test_r11_key_window_by_age);
	tcase_add_test(r11, test_r11_key_table_matches_model_queue);
	tcase_add_test(r11, test_r11_window_is_a_queue);
	tcase_add_test(r12, test_r12_reversal_restores_unexpired_packages_only);
	tcase_add_test(r12, test_r12_reversal_free_units_and_commit_key);
	tcase_add_test(r12, test_r12_forgotten_key_not_found);
	tcase_add_test(r11, test_r11_charge_sms_key);
	suite_add_tcase(s, r11);
	suite_add_tcase(s, r12);
	return s;
}

int main(void)
{
	return tu_run(holds_keys_suite());
}
