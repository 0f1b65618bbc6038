/*
 * check_holds.c - scenario tests for issue 4: reservations (R10), from
 * /tmp/semantics4.md with exact dates and numbers: reserve, commit in
 * full or in part, release and its failure fee, a hold's timeout and the
 * ticks that release it.  Each test name cites the rule it shows.
 *
 * The rest of issue 4 went to check_holds_keys.c (idempotency keys R11,
 * reversal R12) and check_holds_events.c (events R21); the helpers the
 * three share (T0, do_charge ... do_reverse, OK, REFUSED, expect_kind,
 * expect_pkg_line_of, used_day, used_month) to support/holds.h.
 */
#include <check.h>

#include <stdbool.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"
#include "holds.h"

/* ---------------------------------------------------------------- R10 */

/*
 * Reserve 3 segments at T0 from the package that expires soonest; the
 * package expires before the delivery report; the commit still charges the
 * units held from it (taken at reserve time).
 */
START_TEST(test_r10_reserve_then_package_expires_commit_uses_held_package)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *pa, *pb;
	quota_receipt r;
	uint64_t hid = 0;
	int64_t exp = T0 + TU_HOUR;

	pa = add_pkg(a, "A", QUOTA_MASK(sms), 10, T0 - 10 * TU_DAY, exp, 0, 0);
	pb = add_pkg(a, "B", QUOTA_MASK(sms), 100, T0 - 10 * TU_DAY,
		     T0 + 30 * TU_DAY, 0, 0);
	OK(a, do_reserve(a, sms, 3, T0, 2 * TU_HOUR, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 1);
	expect_kind(&r, QUOTA_RECEIPT_RESERVE, 1, 0);
	expect_totals(&r, 3, 0, 3, 0, 0);
	ck_assert_uint_eq(r.category, sms);
	ck_assert_int_eq(r.at, T0);
	expect_nlines(&r, 1);
	expect_pkg_line_of(&r, 0, pa, 3);
	ck_assert_int_eq(r.fee_micros, 0);
	ck_assert_int_eq(r.forfeited_units, 0);
	/* Held: taken from A, counted, blocked for other charges. */
	ck_assert_int_eq(quota_package_remaining(pa), 7);
	ck_assert_int_eq(quota_account_held(a, sms), 3);
	ck_assert_int_eq(quota_account_held(a, QUOTA_ALL), 3);
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	ck_assert_int_eq(used_day(a, sms, T0), 3);
	ck_assert_int_eq(used_month(a, QUOTA_ALL, T0), 3);
	ck_assert_int_eq(quota_account_remaining(a, sms, T0), 107);

	/* A expires; the hold (deadline T0 + 2 h) stays. */
	ck_assert_int_eq(quota_account_tick(a, exp), 0);
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	ck_assert_int_eq(quota_package_status(pa, exp), QUOTA_PACKAGE_EXPIRED);
	ck_assert_int_eq(quota_account_remaining(a, sms, exp), 100);

	OK(a, do_commit(a, hid, 3, NULL, &r));
	expect_kind(&r, QUOTA_RECEIPT_COMMIT, 1, 0);
	expect_totals(&r, 3, 0, 3, 0, 0);
	expect_nlines(&r, 1);
	expect_pkg_line_of(&r, 0, pa, 3);
	ck_assert_int_eq(quota_package_remaining(pa), 7);
	ck_assert_int_eq(quota_package_remaining(pb), 100);
	ck_assert_int_eq(quota_account_held(a, sms), 0);
	ck_assert_int_eq(quota_account_held(a, QUOTA_ALL), 0);
	ck_assert_uint_eq(quota_account_hold_count(a), 0);
	ck_assert_int_eq(used_day(a, sms, T0), 3);

	/* A partial commit after expiry returns its units to A, expired. */
	OK(a, do_reserve(a, sms, 4, T0 + 60, 3 * TU_HOUR, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 2);
	expect_pkg_line_of(&r, 0, pa, 4);
	ck_assert_int_eq(quota_package_remaining(pa), 3);
	ck_assert_int_eq(quota_account_tick(a, exp + 60), 0);
	OK(a, do_commit(a, hid, 1, NULL, &r));
	expect_totals(&r, 1, 0, 1, 0, 0);
	expect_pkg_line_of(&r, 0, pa, 1);
	ck_assert_int_eq(quota_package_remaining(pa), 6);
	ck_assert_int_eq(quota_package_status(pa, exp + 60),
			 QUOTA_PACKAGE_EXPIRED);
	ck_assert_int_eq(quota_account_remaining(a, sms, T0), 106);
	ck_assert_int_eq(used_day(a, sms, T0), 4);
	quota_ctx_free(c);
}
END_TEST

/* A STOP package cannot cover a reservation: refused whole, nothing held. */
START_TEST(test_r10_reserve_more_than_remains_under_stop_refused_whole)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	quota_package *s;
	quota_receipt r;
	uint64_t hid = 0;

	ck_assert_int_eq(quota_tariff_set_free(t, 2, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	s = add_pkg(a, "S", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + TU_DAY,
		    QUOTA_PACKAGE_STOP, 0);
	REFUSED(a, T0, QUOTA_EEXHAUSTED, &r,
		do_reserve(a, sms, 8, T0, 600, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 0);
	ck_assert_int_eq(quota_package_remaining(s), 5);
	ck_assert_int_eq(quota_account_free_used(a, sms, T0), 0);
	ck_assert_int_eq(quota_account_held(a, sms), 0);
	/* 2 free + 5 of S fit exactly. */
	OK(a, do_reserve(a, sms, 7, T0, 600, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 1);
	expect_totals(&r, 7, 2, 5, 0, 0);
	expect_nlines(&r, 2);
	expect_free_line(&r, 0, 2);
	expect_pkg_line_of(&r, 1, s, 5);
	ck_assert_int_eq(quota_account_free_used(a, sms, T0), 2);
	/* The held units are blocked: one more is refused, a charge too. */
	REFUSED(a, T0, QUOTA_EEXHAUSTED, &r,
		do_reserve(a, sms, 1, T0 + 1, 600, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 0);
	REFUSED(a, T0, QUOTA_EEXHAUSTED, &r,
		do_charge(a, sms, 1, T0 + 1, NULL, &r));
	/* The account's STOP policy refuses the same way. */
	ck_assert_int_eq(quota_account_set_overage(a, mail, QUOTA_OVERAGE_STOP),
			 QUOTA_OK);
	REFUSED(a, T0, QUOTA_EEXHAUSTED, &r,
		do_reserve(a, mail, 1, T0, 600, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 0);
	/* Releasing gives them back: then 7 fit again (ids are not reused). */
	OK(a, do_release(a, 1, NULL, &r));
	OK(a, do_reserve(a, sms, 7, T0 + 2, 600, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 2);
	quota_ctx_free(c);
}
END_TEST

/* The fixture of the partial-commit tests: 2 free a day, P1 (3, expires
 * first), P2 (4), then tiers 10 @ 1000, beyond @ 500; sms DAY cap 20. */
typedef struct pc {
	quota_ctx *c;
	uint32_t sms;
	quota_account *a;
	quota_package *p1, *p2;
	uint64_t hid;
} pc;

static void pc_build(pc *f)
{
	quota_tariff *t;
	quota_receipt r;

	f->c = new_ctx();
	f->sms = add_cat(f->c, "sms");
	f->a = add_acct(f->c, "a");
	t = add_tariff(f->c, "t");
	ck_assert_int_eq(quota_tariff_add_tier(t, 10, 1000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 500),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 2, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(f->a, f->sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(f->a, f->sms, QUOTA_PERIOD_DAY,
					       20),
			 QUOTA_OK);
	f->p1 = add_pkg(f->a, "P1", QUOTA_MASK(f->sms), 3, T0 - TU_DAY,
			T0 + 5 * TU_DAY, 0, 0);
	f->p2 = add_pkg(f->a, "P2", QUOTA_MASK(f->sms), 4, T0 - TU_DAY,
			T0 + 10 * TU_DAY, 0, 0);
	/* 20 = 2 free + 3 P1 + 4 P2 + 11 payg at positions 10..20. */
	OK(f->a, do_reserve(f->a, f->sms, 20, T0, TU_HOUR, NULL, &r, &f->hid));
	expect_totals(&r, 20, 2, 7, 11, 1000 + 10 * 500);
	expect_nlines(&r, 5);
	expect_free_line(&r, 0, 2);
	expect_pkg_line_of(&r, 1, f->p1, 3);
	expect_pkg_line_of(&r, 2, f->p2, 4);
	expect_payg_line(&r, 3, 0, 1, 1000);
	expect_payg_line(&r, 4, 1, 10, 500);
	ck_assert_int_eq(used_day(f->a, f->sms, T0), 20);
}

/* Commit 6 of 20: payg 11 back first, then 3 of P2 (drawn last). */
START_TEST(test_r10_partial_commit_returns_payg_then_last_package)
{
	pc f;
	quota_receipt r;

	pc_build(&f);
	REFUSED(f.a, T0, QUOTA_ECAP, &r,
		do_charge(f.a, f.sms, 1, T0 + 1, NULL, &r));
	OK(f.a, do_commit(f.a, f.hid, 6, NULL, &r));
	expect_kind(&r, QUOTA_RECEIPT_COMMIT, f.hid, 0);
	expect_totals(&r, 6, 2, 4, 0, 0);
	ck_assert_uint_eq(r.category, f.sms);
	expect_nlines(&r, 3);
	expect_free_line(&r, 0, 2);
	expect_pkg_line_of(&r, 1, f.p1, 3);
	expect_pkg_line_of(&r, 2, f.p2, 1);
	ck_assert_int_eq(quota_package_remaining(f.p1), 0);
	ck_assert_int_eq(quota_package_remaining(f.p2), 3);
	ck_assert_int_eq(quota_account_free_used(f.a, f.sms, T0), 2);
	ck_assert_int_eq(used_day(f.a, f.sms, T0), 6);
	ck_assert_int_eq(used_month(f.a, f.sms, T0), 6);
	ck_assert_int_eq(used_day(f.a, QUOTA_ALL, T0), 6);
	ck_assert_int_eq(used_month(f.a, QUOTA_ALL, T0), 6);
	ck_assert_int_eq(quota_account_held(f.a, QUOTA_ALL), 0);
	/* The cap sees 6: 15 more are refused, 14 fit; the volume is 6, so
	 * the 11 payg units of this charge are positions 10..20. */
	REFUSED(f.a, T0, QUOTA_ECAP, &r,
		do_charge(f.a, f.sms, 15, T0 + 1, NULL, &r));
	OK(f.a, do_charge(f.a, f.sms, 14, T0 + 1, NULL, &r));
	expect_totals(&r, 14, 0, 3, 11, 1000 + 10 * 500);
	quota_ctx_free(f.c);
}
END_TEST

/* Commit 1 of 20: payg, P2, P1 all back, then 1 of the 2 free units. */
START_TEST(test_r10_partial_commit_returns_packages_reverse_then_free)
{
	pc f;
	quota_receipt r;

	pc_build(&f);
	OK(f.a, do_commit(f.a, f.hid, 1, NULL, &r));
	expect_totals(&r, 1, 1, 0, 0, 0);
	expect_nlines(&r, 1);
	expect_free_line(&r, 0, 1);
	ck_assert_int_eq(quota_package_remaining(f.p1), 3);
	ck_assert_int_eq(quota_package_remaining(f.p2), 4);
	ck_assert_int_eq(quota_account_free_used(f.a, f.sms, T0), 1);
	ck_assert_int_eq(used_day(f.a, f.sms, T0), 1);
	ck_assert_int_eq(used_month(f.a, QUOTA_ALL, T0), 1);
	/* The returned free unit is free again. */
	OK(f.a, do_charge(f.a, f.sms, 2, T0 + 5, NULL, &r));
	expect_totals(&r, 2, 1, 1, 0, 0);
	expect_pkg_line_of(&r, 1, f.p1, 1);
	quota_ctx_free(f.c);
}
END_TEST

/* Commit 15 of 20: 5 payg back from the highest tier line; commit 0: all. */
START_TEST(test_r10_partial_commit_payg_highest_tier_first_and_zero)
{
	pc f;
	quota_receipt r;
	uint64_t h2;

	pc_build(&f);
	OK(f.a, do_commit(f.a, f.hid, 15, NULL, &r));
	expect_totals(&r, 15, 2, 7, 6, 1000 + 5 * 500);
	expect_nlines(&r, 5);
	expect_free_line(&r, 0, 2);
	expect_pkg_line_of(&r, 1, f.p1, 3);
	expect_pkg_line_of(&r, 2, f.p2, 4);
	expect_payg_line(&r, 3, 0, 1, 1000);
	expect_payg_line(&r, 4, 1, 5, 500);
	ck_assert_int_eq(used_day(f.a, f.sms, T0), 15);
	/* 5 more fit under the cap: payg positions 16..20 at 500. */
	OK(f.a, do_reserve(f.a, f.sms, 5, T0 + 10, 60, NULL, &r, &h2));
	expect_totals(&r, 5, 0, 0, 5, 5 * 500);
	OK(f.a, do_commit(f.a, h2, 0, NULL, &r));
	expect_kind(&r, QUOTA_RECEIPT_COMMIT, h2, 0);
	expect_totals(&r, 0, 0, 0, 0, 0);
	expect_nlines(&r, 0);
	ck_assert_int_eq(used_day(f.a, f.sms, T0), 15);
	ck_assert_uint_eq(quota_account_hold_count(f.a), 0);
	quota_ctx_free(f.c);
}
END_TEST

/* An account whose pay-as-you-go costs `price` a unit, with two 1-unit
 * charges in T0's hour. */
static quota_account *dear_account(quota_ctx *c, uint32_t *sms,
				   int64_t price)
{
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;

	*sms = add_cat(c, "sms");
	t = add_tariff(c, "dear");
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, price),
			 QUOTA_OK);
	a = add_acct(c, "a");
	ck_assert_int_eq(quota_account_set_tariff(a, *sms, t), QUOTA_OK);
	OK(a, do_charge(a, *sms, 1, T0, NULL, &r));
	OK(a, do_charge(a, *sms, 1, T0 + 1, NULL, &r));
	return a;
}

/*
 * A commit checks the hour's pay-as-you-go total (R8, R17) on what it
 * books, not on the whole hold: with the hour at INT64_MAX - 1, a hold of
 * one unit at INT64_MAX / 2 commits 0 units (cost 0), and committing its
 * unit is refused with QUOTA_EOVERFLOW, leaving the hold open.  At
 * INT64_MAX / 4 a unit, a 3-unit hold cannot commit 3 but commits 2.
 */
START_TEST(test_r10_commit_checks_overflow_on_what_it_books)
{
	quota_ctx *c = new_ctx();
	quota_receipt r;
	uint32_t sms;
	quota_account *a = dear_account(c, &sms, INT64_MAX / 2);
	uint64_t h, h2;
	int rc;

	OK(a, do_reserve(a, sms, 1, T0 + 2, 60, NULL, &r, &h));
	rc = do_commit(a, h, 0, NULL, &r);
	ck_assert_msg(rc == QUOTA_OK, "commit of 0 units: %s (%s)",
		      quota_err_name(rc), quota_errmsg(c));
	expect_kind(&r, QUOTA_RECEIPT_COMMIT, h, 0);
	expect_totals(&r, 0, 0, 0, 0, 0);
	ck_assert_uint_eq(quota_account_hold_count(a), 0);
	ck_assert_int_eq(used_day(a, sms, T0), 2);

	/* Committing the unit would overflow the hour: refused, the hold
	 * stays open and can still be committed in part or released. */
	OK(a, do_reserve(a, sms, 1, T0 + 3, 60, NULL, &r, &h2));
	REFUSED(a, T0, QUOTA_EOVERFLOW, &r, do_commit(a, h2, 1, NULL, &r));
	REFUSED(a, T0, QUOTA_EOVERFLOW, &r, do_commit(a, h2, 1, "ck", &r));
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	OK(a, do_release(a, h2, NULL, &r));
	ck_assert_int_eq(used_day(a, sms, T0), 2);
	quota_ctx_free(c);

	c = new_ctx();
	a = dear_account(c, &sms, INT64_MAX / 4);
	OK(a, do_reserve(a, sms, 3, T0 + 2, 60, NULL, &r, &h));
	REFUSED(a, T0, QUOTA_EOVERFLOW, &r, do_commit(a, h, 3, NULL, &r));
	OK(a, do_commit(a, h, 2, NULL, &r));
	expect_totals(&r, 2, 0, 0, 2, 2 * (INT64_MAX / 4));
	ck_assert_int_eq(used_day(a, sms, T0), 4);
	quota_ctx_free(c);
}
END_TEST

/*
 * A reservation is usage for the calendar (quota_account_new(3)): once
 * the account has had one, a different UTC offset is refused with
 * QUOTA_EINVAL, even after the hold was released (no fee, so no ledger
 * row) or timed out.  The same offset is still accepted.
 */
START_TEST(test_r10_utc_offset_refused_after_released_or_expired_hold)
{
	int expire;

	for (expire = 0; expire < 2; expire++) {
		quota_ctx *c = new_ctx();
		uint32_t sms = add_cat(c, "sms");
		quota_account *a = add_acct(c, "a");
		quota_receipt r;
		uint64_t h;
		int rc;

		ck_assert_int_eq(quota_account_set_utc_offset(a, 7200),
				 QUOTA_OK);
		OK(a, do_reserve(a, sms, 2, T0, 60, NULL, &r, &h));
		ck_assert_int_eq(quota_account_set_utc_offset(a, 3600),
				 QUOTA_EINVAL);
		if (expire)
			ck_assert_int_eq(quota_account_tick(a, T0 + 60), 1);
		else
			OK(a, do_release(a, h, NULL, &r));
		ck_assert_uint_eq(quota_account_hold_count(a), 0);
		ck_assert_int_eq(used_day(a, sms, T0), 0);
		rc = quota_account_set_utc_offset(a, 3600);
		ck_assert_msg(rc == QUOTA_EINVAL,
			      "offset changed after a %s hold: %s",
			      expire ? "timed-out" : "released",
			      quota_err_name(rc));
		ck_assert_str_ne(quota_errmsg(c), "");
		ck_assert_int_eq(quota_account_set_utc_offset(a, 7200),
				 QUOTA_OK);
		quota_ctx_free(c);
	}
}
END_TEST

/* Release: everything goes back; the tariff's failure fee (at release
 * time) times the held units is charged. */
START_TEST(test_r10_release_with_failure_fee)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_tariff *t = add_tariff(c, "t");
	quota_tariff *huge = add_tariff(c, "huge");
	quota_package *p;
	quota_receipt r, held;
	uint64_t hid, h2, h3;

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 300), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	OK(a, do_reserve(a, sms, 7, T0, 600, NULL, &held, &hid));
	expect_totals(&held, 7, 0, 3, 4, 4000);
	/* §5: a tariff in use is never changed in place, its fee included. */
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 500), QUOTA_EINVAL);
	OK(a, do_release(a, hid, NULL, &r));
	expect_kind(&r, QUOTA_RECEIPT_RELEASE, hid, 0);
	expect_totals(&r, 7, 0, 3, 4, 4000);
	ck_assert_int_eq(r.fee_micros, 7 * 300);
	ck_assert_int_eq(r.forfeited_units, 0);
	ck_assert_uint_eq(r.category, sms);
	expect_nlines(&r, 2);
	expect_pkg_line_of(&r, 0, p, 3);
	expect_payg_line(&r, 1, 0, 4, 1000);
	ck_assert_int_eq(quota_package_remaining(p), 3);
	ck_assert_int_eq(used_day(a, sms, T0), 0);
	ck_assert_int_eq(used_month(a, QUOTA_ALL, T0), 0);
	ck_assert_int_eq(quota_account_held(a, sms), 0);
	ck_assert_uint_eq(quota_account_hold_count(a), 0);
	/* No tariff: no fee. */
	OK(a, do_reserve(a, mail, 2, T0, 600, NULL, &r, &h2));
	OK(a, do_release(a, h2, NULL, &r));
	expect_totals(&r, 2, 0, 0, 2, 0);
	ck_assert_int_eq(r.fee_micros, 0);
	/* A fee that overflows: EOVERFLOW, the hold stays open. */
	ck_assert_int_eq(quota_tariff_set_failure_fee(huge, INT64_MAX / 2),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, mail, huge), QUOTA_OK);
	OK(a, do_reserve(a, mail, 3, T0, 600, NULL, &r, &h3));
	REFUSED(a, T0, QUOTA_EOVERFLOW, &r, do_release(a, h3, NULL, &r));
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	ck_assert_int_eq(quota_account_held(a, mail), 3);
	OK(a, do_commit(a, h3, 3, NULL, &r));
	/* Bad fees, on a tariff nobody uses yet. */
	t = add_tariff(c, "fresh");
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, -1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_failure_fee(NULL, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 0), QUOTA_OK);
	quota_ctx_free(c);
}
END_TEST

/* The hold's deadline is at + timeout: kept at deadline - 1, released at
 * the deadline (no fee); then it is resolved. */
START_TEST(test_r10_hold_timeout_releases_at_deadline)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *b = add_acct(c, "b");
	quota_tariff *t = add_tariff(c, "t");
	quota_package *p;
	quota_receipt r;
	uint64_t h1, h2, hb;
	int64_t dl = T0 + 600;

	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 5), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	OK(a, do_reserve(a, sms, 3, T0, 600, NULL, &r, &h1));
	OK(a, do_reserve(a, sms, 2, T0 + 100, 600, NULL, &r, &h2));
	ck_assert_int_eq(quota_package_remaining(p), 5);
	ck_assert_int_eq(quota_account_tick(a, dl - 1), 0);
	ck_assert_uint_eq(quota_account_hold_count(a), 2);
	ck_assert_int_eq(quota_account_held(a, sms), 5);
	ck_assert_int_eq(quota_account_tick(a, dl), 1);
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	ck_assert_int_eq(quota_account_held(a, sms), 2);
	ck_assert_int_eq(quota_package_remaining(p), 8);
	ck_assert_int_eq(used_day(a, sms, T0), 2);
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h1, 3, NULL, &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_release(a, h1, NULL, &r));
	/* A tick back in time releases nothing more; the same tick again
	 * neither. */
	ck_assert_int_eq(quota_account_tick(a, T0), 0);
	ck_assert_int_eq(quota_account_tick(a, dl), 0);
	/* Context-wide: every account, the total. */
	OK(b, do_reserve(b, sms, 4, T0 + 50, 1000, NULL, &r, &hb));
	ck_assert_uint_eq(hb, 1);
	ck_assert_int_eq(quota_ctx_tick(c, T0 + 699), 0);
	ck_assert_int_eq(quota_ctx_tick(c, T0 + 1050), 2);
	ck_assert_uint_eq(quota_account_hold_count(a), 0);
	ck_assert_uint_eq(quota_account_hold_count(b), 0);
	ck_assert_int_eq(quota_package_remaining(p), 10);
	ck_assert_int_eq(used_month(a, QUOTA_ALL, T0), 0);
	ck_assert_int_eq(used_month(b, QUOTA_ALL, T0), 0);
	/* Bad ticks. */
	ck_assert_int_eq(quota_account_tick(a, QUOTA_TIME_MAX), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_tick(NULL, T0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_ctx_tick(c, QUOTA_TIME_MIN - 1), QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/*
 * R10: a tick releases every hold past its deadline and no other, however
 * the open holds lie in the id map (runs that wrap round its end, holds
 * shifted back into a slot a release emptied).  Holds open and close at
 * random; a model of deadlines says which must go at each tick.
 */
START_TEST(test_r10_tick_releases_exactly_the_expired_holds)
{
	enum { N = 3000 };
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	static uint64_t id[N];
	static int64_t deadline[N];
	static bool open[N];
	int64_t now = T0, held = 0;
	quota_receipt r;
	tu_rng rng;
	int i, j, nopen = 0;

	tu_rng_seed(&rng, 0x71C4);
	for (i = 0; i < N; i++) {
		/* Some stay open long: their ids share map runs with
		 * later ones. */
		int64_t timeout = tu_rng_chance(&rng, 1, 3)
					  ? tu_rng_range(&rng, 1000, 5000)
					  : tu_rng_range(&rng, 1, 400);

		OK(a, do_reserve(a, sms, 1 + i % 3, now, timeout, NULL, &r,
				 &id[i]));
		deadline[i] = now + timeout;
		open[i] = true;
		held += 1 + i % 3;
		nopen++;
		if (tu_rng_chance(&rng, 1, 4)) { /* commit an open one */
			j = (int)tu_rng_range(&rng, 0, i);
			if (open[j] && deadline[j] > now) {
				OK(a, do_commit(a, id[j], 1 + j % 3, NULL, &r));
				open[j] = false;
				held -= 1 + j % 3;
				nopen--;
			}
		}
		if (i % 50 == 49) { /* a tick: exactly the expired go */
			int64_t due = 0, units = 0;

			now += tu_rng_range(&rng, 0, 120);
			for (j = 0; j <= i; j++)
				if (open[j] && deadline[j] <= now) {
					open[j] = false;
					due++;
					units += 1 + j % 3;
				}
			ck_assert_int_eq(quota_account_tick(a, now), due);
			nopen -= (int)due;
			held -= units;
			ck_assert_uint_eq(quota_account_hold_count(a),
					  (uint32_t)nopen);
			ck_assert_int_eq(quota_account_held(a, sms), held);
		}
	}
	for (j = 0; j < N; j++) /* open ones still commit; the rest not */
		ck_assert_int_eq(do_commit(a, id[j], 1 + j % 3, NULL, &r),
				 open[j] ? QUOTA_OK : QUOTA_ERESOLVED);
	ck_assert_uint_eq(quota_account_hold_count(a), 0);
	quota_ctx_free(c);
}
END_TEST

/* A hold resolves once; an id never issued is not found. */
START_TEST(test_r10_second_commit_or_release_resolved_unknown_notfound)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *b = add_acct(c, "b");
	quota_receipt r;
	uint64_t h1, h2, h3;

	OK(a, do_reserve(a, sms, 3, T0, 600, NULL, &r, &h1));
	OK(a, do_reserve(a, sms, 4, T0, 600, NULL, &r, &h2));
	ck_assert_uint_eq(h1, 1);
	ck_assert_uint_eq(h2, 2);
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_commit(a, h1, 4, NULL, &r));
	REFUSED(a, T0, QUOTA_EINVAL, &r, do_commit(a, h1, -1, NULL, &r));
	OK(a, do_commit(a, h1, 3, NULL, &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h1, 3, NULL, &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_release(a, h1, NULL, &r));
	OK(a, do_release(a, h2, NULL, &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_release(a, h2, NULL, &r));
	REFUSED(a, T0, QUOTA_ERESOLVED, &r, do_commit(a, h2, 1, NULL, &r));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_commit(a, 0, 1, NULL, &r));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_commit(a, 3, 1, NULL, &r));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_release(a, 0, NULL, &r));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r, do_release(a, 99, NULL, &r));
	/* Hold ids are per account: b has none yet. */
	REFUSED(b, T0, QUOTA_ENOTFOUND, &r, do_commit(b, 1, 1, NULL, &r));
	/* Ids are never reused. */
	OK(a, do_reserve(a, sms, 1, T0, 600, NULL, &r, &h3));
	ck_assert_uint_eq(h3, 3);
	ck_assert_uint_eq(r.hold_id, 3);
	ck_assert_int_eq(used_day(a, sms, T0), 4);
	quota_ctx_free(c);
}
END_TEST

/* Bad reserve arguments. */
START_TEST(test_r10_reserve_bad_arguments)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_usage u = {.category = sms, .units = 1, .at = T0};
	quota_receipt r;
	uint64_t hid;

	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 1, T0, 0, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 0);
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 1, T0, -5, NULL, &r, &hid));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 1, QUOTA_TIME_MAX - 10, 10, NULL, &r, &hid));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 1, T0, INT64_MAX, NULL, &r, &hid));
	REFUSED(a, T0, QUOTA_EINVAL, &r,
		do_reserve(a, sms, 0, T0, 10, NULL, &r, &hid));
	REFUSED(a, T0, QUOTA_ENOTFOUND, &r,
		do_reserve(a, 5, 1, T0, 10, NULL, &r, &hid));
	memset(&r, 0x5a, sizeof r);
	REFUSED(a, T0, QUOTA_EINVAL, &r, quota_reserve(a, &u, 10, &r, NULL));
	ck_assert_int_eq(quota_account_hold_count(a), 0);
	/* The last second is fine: deadline QUOTA_TIME_MAX - 1. */
	OK(a, do_reserve(a, sms, 1, QUOTA_TIME_MAX - 11, 10, NULL, &r, &hid));
	ck_assert_uint_eq(hid, 1);
	quota_ctx_free(c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *holds_suite(void)
{
	Suite *s = suite_create("holds");
	TCase *r10 = tcase_create("r10");

	tcase_add_test(r10,
		       test_r10_reserve_then_package_expires_commit_uses_held_package);
	tcase_add_test(r10,
		       test_r10_reserve_more_than_remains_under_stop_refused_whole);
	tcase_add_test(r10, test_r10_partial_commit_returns_payg_then_last_package);
	tcase_add_test(r10,
		       test_r10_partial_commit_returns_packages_reverse_then_free);
	tcase_add_test(r10,
		       test_r10_partial_commit_payg_highest_tier_first_and_zero);
	tcase_add_test(r10, test_r10_commit_checks_overflow_on_what_it_books);
	tcase_add_test(r10,
		       test_r10_utc_offset_refused_after_released_or_expired_hold);
	tcase_add_test(r10, test_r10_release_with_failure_fee);
	tcase_add_test(r10, test_r10_hold_timeout_releases_at_deadline);
	tcase_add_test(r10, test_r10_tick_releases_exactly_the_expired_holds);
	tcase_add_test(r10,
		       test_r10_second_commit_or_release_resolved_unknown_notfound);
	tcase_add_test(r10, test_r10_reserve_bad_arguments);
	suite_add_tcase(s, r10);
	return s;
}

int main(void)
{
	return tu_run(holds_suite());
}
