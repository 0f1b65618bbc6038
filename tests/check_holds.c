/*
 * check_holds.c - scenario tests for issue 4: reservations (R10),
 * idempotency keys (R11), reversal (R12) and events (R21), from
 * /tmp/semantics4.md with exact dates and numbers.  Each test name cites
 * the rule it shows.
 *
 * Where the spec is silent these tests assume: a key that conflicts is
 * refused with EKEYCONFLICT before the hold's state is looked at (also on
 * a resolved hold); an alert added while the account clock is still
 * "before every time" sees R = 0, so tests set the clock (a tick) before
 * adding alerts; event.at is not checked for clock events; events of the
 * same kind at the same time may come in any order; a reversal receipt
 * has hold_id 0 (quota.h: hold_id is for RESERVE / COMMIT / RELEASE).
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

/* ---------------------------------------------------------------- helpers */

#define T0 tu_utc(2024, 5, 15, 10, 0, 0)


static int do_charge(quota_account *a, uint32_t cat, int64_t units,
		     int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	return quota_charge(a, &u, r);
}

static int do_quote(quota_account *a, uint32_t cat, int64_t units, int64_t at,
		    const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	return quota_quote(a, &u, r);
}

static int do_reserve(quota_account *a, uint32_t cat, int64_t units,
		      int64_t at, int64_t timeout, const char *key,
		      quota_receipt *r, uint64_t *hid)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	*hid = 0xabcdef;
	return quota_reserve(a, &u, timeout, r, hid);
}

static int do_commit(quota_account *a, uint64_t hid, int64_t used,
		     const char *key, quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_commit(a, hid, used, key, r);
}

static int do_release(quota_account *a, uint64_t hid, const char *key,
		      quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_release(a, hid, key, r);
}

static int do_reverse(quota_account *a, const char *key, int64_t at,
		      quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_reverse(a, key, at, r);
}

#define OK(a, expr)                                                            \
	do {                                                                   \
		int rc_ = (expr);                                              \
		ck_assert_msg(rc_ == QUOTA_OK, "%s: %s (%s)", #expr,           \
			      quota_err_name(rc_),                             \
			      quota_errmsg(quota_account_ctx(a)));             \
	} while (0)

/*
 * A refused call: its code, a message, a zeroed receipt (rcpt, may be
 * NULL), and nothing observable changed at time `at`.
 */
#define REFUSED(a, at, want, rcpt, expr)                                       \
	do {                                                                   \
		tu_snap b_, a_;                                                \
		int64_t rc_;                                                   \
		tu_snap_take1(&b_, (a), (at));                                 \
		rc_ = (expr);                                                  \
		ck_assert_msg(rc_ == (want), "%s: want %s, got %s (%s)",       \
			      #expr, quota_err_name(want),                     \
			      quota_err_name((int)rc_),                        \
			      quota_errmsg(quota_account_ctx(a)));             \
		ck_assert_str_ne(quota_errmsg(quota_account_ctx(a)), "");      \
		if ((rcpt) != NULL)                                            \
			ck_assert_msg(tu_receipt_is_zero(rcpt),                \
				      "%s: receipt not zeroed", #expr);        \
		tu_snap_take1(&a_, (a), (at));                                 \
		TU_ASSERT_SNAP_EQ(&b_, &a_);                                   \
	} while (0)

static void expect_kind(const quota_receipt *r, int kind, uint64_t hid,
			int replayed)
{
	ck_assert_int_eq(r->kind, kind);
	ck_assert_uint_eq(r->hold_id, hid);
	ck_assert_int_eq(r->replayed, replayed);
}

/* A package line of package p (charges.h's expect_pkg_line names it by
 * id). */
static void expect_pkg_line_of(const quota_receipt *r, uint32_t i,
			       const quota_package *p, int64_t units)
{
	quota_package_spec s;

	ck_assert_uint_lt(i, r->nlines);
	ck_assert_int_eq(r->lines[i].source, QUOTA_SOURCE_PACKAGE);
	ck_assert_ptr_eq(r->lines[i].package, p);
	ck_assert_int_eq(quota_package_get_spec(p, &s), QUOTA_OK);
	ck_assert_ptr_nonnull(r->lines[i].package_id);
	ck_assert_str_eq(r->lines[i].package_id, s.id);
	ck_assert_int_eq(r->lines[i].units, units);
	ck_assert_int_eq(r->lines[i].cost_micros, 0);
}

/* Two receipts say the same (the second may be a replay). */
static void expect_same_receipt(const quota_receipt *x, const quota_receipt *y)
{
	uint32_t i;

	ck_assert_int_eq(x->units, y->units);
	ck_assert_int_eq(x->free_units, y->free_units);
	ck_assert_int_eq(x->package_units, y->package_units);
	ck_assert_int_eq(x->payg_units, y->payg_units);
	ck_assert_int_eq(x->payg_cost_micros, y->payg_cost_micros);
	ck_assert_uint_eq(x->category, y->category);
	ck_assert_int_eq(x->at, y->at);
	ck_assert_uint_eq(x->nlines, y->nlines);
	ck_assert_uint_eq(x->lines_total, y->lines_total);
	ck_assert_int_eq(x->kind, y->kind);
	ck_assert_uint_eq(x->hold_id, y->hold_id);
	ck_assert_int_eq(x->fee_micros, y->fee_micros);
	ck_assert_int_eq(x->forfeited_units, y->forfeited_units);
	for (i = 0; i < x->nlines && i < QUOTA_RECEIPT_LINES; i++) {
		const quota_receipt_line *a = &x->lines[i], *b = &y->lines[i];

		ck_assert_int_eq(a->source, b->source);
		ck_assert_uint_eq(a->tier, b->tier);
		ck_assert_ptr_eq(a->package, b->package);
		ck_assert_int_eq(a->units, b->units);
		ck_assert_int_eq(a->unit_price_micros, b->unit_price_micros);
		ck_assert_int_eq(a->cost_micros, b->cost_micros);
	}
}

static int64_t used_day(const quota_account *a, uint32_t cat, int64_t at)
{
	return quota_account_used(a, cat, QUOTA_PERIOD_DAY, at);
}

static int64_t used_month(const quota_account *a, uint32_t cat, int64_t at)
{
	return quota_account_used(a, cat, QUOTA_PERIOD_MONTH, at);
}

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
	expect_same_receipt(&orig, &r);
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
	expect_same_receipt(&orig, &r);
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
	expect_same_receipt(&rsv, &r);
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
	expect_same_receipt(&cm, &r);
	/* The reserve key still replays the reserve, hold since committed. */
	OK(a, do_reserve(a, sms, 3, T0 + 10, 600, "r-1", &r, &hx));
	ck_assert_uint_eq(hx, h1);
	expect_same_receipt(&rsv, &r);
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
	expect_same_receipt(&rl, &r);
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
	expect_same_receipt(&orig, &r);
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

/* ---------------------------------------------------------------- R21 */

#define MAXEV 64

typedef struct evlog {
	int n;
	quota_event ev[MAXEV];
	int ret; /* what the hook returns */
	/* state seen from inside the hook */
	int64_t pk_remaining[MAXEV];
	int64_t used[MAXEV];
	uint32_t cat;
	/* HOLD_EXPIRED events (§7), counted apart so that the package
	 * events keep their indices; their receipts: check_lifecycle. */
	int holds_expired;
} evlog;

static int hook(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (e->kind == QUOTA_EVENT_HOLD_EXPIRED) {
		ck_assert_ptr_nonnull(e->receipt);
		l->holds_expired++;
		return l->ret;
	}

	ck_assert_int_lt(l->n, MAXEV);
	l->ev[l->n] = *e;
	l->pk_remaining[l->n] =
		e->package ? quota_package_remaining(e->package) : -1;
	l->used[l->n] = quota_account_used(e->account, l->cat,
					   QUOTA_PERIOD_DAY, T0);
	l->n++;
	return l->ret;
}

static void ev_expect(const evlog *l, int i, int kind, const quota_package *p,
		      int64_t remaining, int64_t threshold)
{
	ck_assert_msg(i < l->n, "event %d missing (%d delivered)", i, l->n);
	ck_assert_msg(l->ev[i].kind == kind, "event %d: kind %d, want %d", i,
		      l->ev[i].kind, kind);
	ck_assert_ptr_eq(l->ev[i].package, p);
	ck_assert_int_eq(l->ev[i].remaining, remaining);
	if (kind == QUOTA_EVENT_LOW_QUOTA || kind == QUOTA_EVENT_CAP_REACHED)
		ck_assert_int_eq(l->ev[i].threshold, threshold);
}

/* Levels in units and percent; each fires once per crossing and re-arms
 * when a purchase lifts the remaining quota above it. */
START_TEST(test_r21_low_quota_levels_fire_once_and_rearm)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q;
	quota_receipt r;
	evlog l;
	int i, seen50 = 0, seen30 = 0;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 100, T0 - TU_DAY,
		    T0 + 60 * TU_DAY, 0, 0);
	/* The account clock at T0 - 1: R = 100, every level armed. */
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 50, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 30,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 10,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 0, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 40, T0, NULL, &r)); /* R = 60 */
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 15, T0 + 1, NULL, &r)); /* R = 45 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 45, 50);
	ck_assert_uint_eq(l.ev[0].category, sms);
	ck_assert_ptr_eq(l.ev[0].account, a);
	ck_assert_int_eq(l.ev[0].at, T0 + 1);
	OK(a, do_charge(a, sms, 10, T0 + 2, NULL, &r)); /* R = 35 */
	ck_assert_int_eq(l.n, 1);
	OK(a, do_charge(a, sms, 5, T0 + 3, NULL, &r)); /* R = 30: 3000 <= 3000 */
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 30, 30);
	OK(a, do_charge(a, sms, 20, T0 + 4, NULL, &r)); /* R = 10 */
	ck_assert_int_eq(l.n, 3);
	ev_expect(&l, 2, QUOTA_EVENT_LOW_QUOTA, NULL, 10, 10);
	/* To 0: the package is exhausted first, then the level 0 alert. */
	OK(a, do_charge(a, sms, 10, T0 + 5, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ev_expect(&l, 3, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	ev_expect(&l, 4, QUOTA_EVENT_LOW_QUOTA, NULL, 0, 0);
	OK(a, do_charge(a, sms, 3, T0 + 6, NULL, &r)); /* payg: nothing new */
	ck_assert_int_eq(l.n, 5);
	/* A purchase: B = 200, R = 100; every level is above again. */
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 100, T0 - TU_DAY,
		    T0 + 60 * TU_DAY, 0, 0);
	ck_assert_int_eq(quota_package_remaining(q), 100);
	OK(a, do_charge(a, sms, 60, T0 + 7, NULL, &r)); /* R = 40 */
	/* 40 <= 50 units; 4000 <= 30 * 200: both, in some order. */
	ck_assert_int_eq(l.n, 7);
	for (i = 5; i < 7; i++) {
		ck_assert_int_eq(l.ev[i].kind, QUOTA_EVENT_LOW_QUOTA);
		ck_assert_int_eq(l.ev[i].remaining, 40);
		seen50 += l.ev[i].threshold == 50;
		seen30 += l.ev[i].threshold == 60;
	}
	ck_assert_int_eq(seen50, 1);
	ck_assert_int_eq(seen30, 1);
	/* An alert added while crossed starts disarmed. */
	ck_assert_int_eq(quota_account_add_alert(a, sms, 45, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0 + 8, NULL, &r)); /* R = 39 */
	ck_assert_int_eq(l.n, 7);
	/* Bad alerts. */
	ck_assert_int_eq(quota_account_add_alert(a, sms, -1, QUOTA_ALERT_UNITS),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 101,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, 2), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, 9, 5, QUOTA_ALERT_UNITS),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 100,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_hook_failures(c), 0);
	quota_ctx_free(c);
}
END_TEST

/* A release and a reversal lift the remaining quota too: re-armed. */
START_TEST(test_r21_low_quota_rearmed_by_release_and_reversal)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_reserve(a, sms, 6, T0, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_release(a, h, NULL, &r));
	OK(a, do_reserve(a, sms, 6, T0 + 1, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_commit(a, h, 6, NULL, &r));
	OK(a, do_charge(a, sms, 1, T0 + 2, "k", &r)); /* R = 3 */
	ck_assert_int_eq(l.n, 2);
	OK(a, do_reverse(a, "k", T0 + 3, &r)); /* R = 4: still crossed */
	OK(a, do_charge(a, sms, 1, T0 + 4, "k2", &r));
	ck_assert_int_eq(l.n, 2);
	quota_ctx_free(c);
}
END_TEST

/* A percent level's threshold is level * B / 100 rounded down; crossed
 * when R * 100 <= level * B. */
START_TEST(test_r21_low_quota_percent_threshold_rounds_down)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 7, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 30,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 4, T0, NULL, &r)); /* 300 > 210 */
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 1, T0 + 1, NULL, &r)); /* 200 <= 210 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 2, 2);
	quota_ctx_free(c);
}
END_TEST

/* A reversal that lifts R above the level re-arms it. */
START_TEST(test_r21_low_quota_rearmed_by_reversal)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 6, T0, "k", &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_reverse(a, "k", T0 + 1, &r)); /* R = 10 */
	ck_assert_int_eq(l.n, 1);
	OK(a, do_charge(a, sms, 7, T0 + 2, NULL, &r)); /* R = 3 */
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
	quota_ctx_free(c);
}
END_TEST

/* A quote or a refused call changes nothing: no event, the clock stays. */
START_TEST(test_r21_no_events_from_quote_or_refused_call)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t capped = add_cat(c, "capped");
	quota_account *a = add_acct(c, "a");
	quota_package *p;
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, capped, QUOTA_PERIOD_DAY, 0),
			 QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 100, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0), 0);
	OK(a, do_quote(a, sms, 1, T0 + 200, NULL, &r));
	ck_assert_int_eq(l.n, 0);
	REFUSED(a, T0, QUOTA_ECAP, &r,
		do_charge(a, capped, 1, T0 + 200, NULL, &r));
	REFUSED(a, T0, QUOTA_ECAP, &r,
		do_reserve(a, capped, 1, T0 + 200, 9, NULL, &r, &h));
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 + 200), 0);
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, p, 5, 0);
	ck_assert_int_eq(l.ev[0].at, T0 + 200);
	quota_ctx_free(c);
}
END_TEST

/* R counts packages usable at the account clock: an expiry that drops R
 * to the level fires it, after the clock event; per account on a
 * context-wide tick. */
START_TEST(test_r21_low_quota_by_expiry_on_ctx_tick)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *b = add_acct(c, "b");
	quota_package *p;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + 100, 0, 0);
	add_pkg(a, "Q", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	add_pkg(b, "P", QUOTA_MASK(sms), 1, T0 - TU_DAY, T0 + 50, 0, 0);
	ck_assert_int_eq(quota_ctx_tick(c, T0), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(quota_ctx_tick(c, T0 + 100), 0);
	ck_assert_int_eq(l.n, 3);
	/* b's package: the only event of account b. */
	ck_assert(l.ev[0].account == b || l.ev[2].account == b);
	if (l.ev[0].account == b) {
		ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
		ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRED, p, 10, 0);
		ev_expect(&l, 2, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
		ck_assert_ptr_eq(l.ev[2].account, a);
	} else {
		ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, p, 10, 0);
		ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
		ck_assert_ptr_eq(l.ev[1].account, a);
		ck_assert_int_eq(l.ev[2].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	}
	quota_ctx_free(c);
}
END_TEST

/* A late report reaches the cap of its own day. */
START_TEST(test_r21_cap_reached_in_the_charge_period)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 5),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 3, T0 + 3 * TU_DAY, NULL, &r));
	OK(a, do_charge(a, sms, 5, T0, NULL, &r)); /* late, its own day */
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_int_eq(l.ev[0].threshold, 5);
	ck_assert_int_eq(l.ev[0].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[0].at, T0 + 3 * TU_DAY);
	quota_ctx_free(c);
}
END_TEST

/* PACKAGE_EXHAUSTED on charge and reserve; PACKAGE_EXPIRED once, with what
 * was forfeited; PACKAGE_EXPIRING at expires_at - warning, once. */
START_TEST(test_r21_package_exhausted_expired_expiring)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q, *e, *z;
	quota_receipt r;
	uint64_t h;
	int64_t exp = T0 + 10 * TU_HOUR;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 3600), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 4, T0 - TU_DAY, T0 + TU_DAY, 0, -2);
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0, -1);
	e = add_pkg(a, "E", QUOTA_MASK(sms), 9, T0 - TU_DAY, exp, 0, 0);
	z = add_pkg(a, "Z", QUOTA_MASK(sms), 1, T0 - TU_DAY, exp, 0, 5);
	OK(a, do_charge(a, sms, 4, T0, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	/* The state is applied before the hook runs. */
	ck_assert_int_eq(l.pk_remaining[0], 0);
	ck_assert_int_eq(l.used[0], 4);
	ck_assert_int_eq(l.ev[0].at, T0);
	OK(a, do_reserve(a, sms, 3, T0 + 1, 60, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXHAUSTED, q, 0, 0);
	OK(a, do_charge(a, sms, 2, T0 + 2, NULL, &r)); /* E: 7 left */
	ck_assert_int_eq(l.n, 2);
	/* The warning point is exp - 3600. */
	ck_assert_int_eq(quota_account_tick(a, exp - 3601), 1);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.holds_expired, 1);
	ck_assert_int_eq(quota_account_tick(a, exp - 3600), 0);
	/* E and Z both warn, in time order (same time: any order). */
	ck_assert_int_eq(l.n, 4);
	ck_assert_int_eq(l.ev[2].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[3].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert(l.ev[2].package != l.ev[3].package);
	ck_assert(l.ev[2].package == e || l.ev[2].package == z);
	ck_assert(l.ev[3].package == e || l.ev[3].package == z);
	ck_assert_int_eq(l.ev[2].package == e ? l.ev[2].remaining
					      : l.ev[3].remaining,
			 7);
	ck_assert_int_eq(quota_account_tick(a, exp - 1), 0);
	ck_assert_int_eq(l.n, 4);
	/* Expired: the remaining units are forfeited. */
	ck_assert_int_eq(quota_account_tick(a, exp), 0);
	ck_assert_int_eq(l.n, 6);
	ck_assert_int_eq(l.ev[4].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[5].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[4].package == e ? l.ev[4].remaining
					      : l.ev[5].remaining,
			 7);
	/* P (0 left) and Q (3, given back by the tick) expire at T0 + 1 day,
	 * once each; E and Z not again.  (No warning this time.) */
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 0), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY * 3), 0);
	ck_assert_int_eq(l.n, 8);
	ck_assert_int_eq(l.ev[6].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[7].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert(l.ev[6].package != l.ev[7].package);
	ck_assert(l.ev[6].package == p || l.ev[6].package == q);
	ck_assert(l.ev[7].package == p || l.ev[7].package == q);
	ck_assert_int_eq(l.ev[6].package == p ? l.ev[6].remaining
					      : l.ev[7].remaining,
			 0);
	ck_assert_int_eq(l.ev[6].package == q ? l.ev[6].remaining
					      : l.ev[7].remaining,
			 3);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY * 4), 0);
	ck_assert_int_eq(l.n, 8);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, -1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_expiry_warning(NULL, 5),
			 QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/* One tick past a 3-unit hold's deadline and its 10-unit package's
 * expiry (and expiry warning); the events the tick delivers. */
static void tick_past_hold_and_expiry(evlog *l, int64_t deadline,
				      int64_t warn)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t exp = T0 + 10 * TU_HOUR;
	quota_package *p;
	quota_receipt r;
	uint64_t h;

	memset(l, 0, sizeof *l);
	l->cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, warn), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, exp, 0, 0);
	OK(a, do_reserve(a, sms, 3, T0, deadline - T0, NULL, &r, &h));
	ck_assert_int_eq(quota_package_remaining(p), 7);
	ck_assert_int_eq(l->n, 0);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY), 1);
	/* All ten units are forfeited with the package. */
	ck_assert_int_eq(quota_package_remaining(p), 10);
	ck_assert_int_eq(quota_account_remaining(a, sms, exp + TU_DAY), 0);
	quota_ctx_free(c);
}

/*
 * R21: PACKAGE_EXPIRED reports the units the package held when it
 * expired.  A hold that timed out before the package expired had given
 * its units back by then, even when one tick passes both: 10, not 7.  A
 * hold whose deadline is at or after the expiry gives them back to an
 * expired package: 7, as when a tick at the expiry comes first.  An
 * expiry warning counts the units back before its own time.
 */
START_TEST(test_r21_package_expired_counts_units_of_holds_timed_out_before)
{
	int64_t exp = T0 + 10 * TU_HOUR;
	evlog l;

	tick_past_hold_and_expiry(&l, T0 + 60, 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_msg(l.ev[0].kind == QUOTA_EVENT_PACKAGE_EXPIRED &&
			      l.ev[0].remaining == 10,
		      "event kind %d remaining %lld: want PACKAGE_EXPIRED "
		      "with the 10 units the package held",
		      l.ev[0].kind, (long long)l.ev[0].remaining);

	tick_past_hold_and_expiry(&l, exp, 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[0].remaining, 7);

	/* Warning at exp - 2 h: a hold back before it counts in both
	 * events, one back between them only in the expiry. */
	tick_past_hold_and_expiry(&l, exp - 3 * TU_HOUR, 2 * TU_HOUR);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[0].remaining, 10);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[1].remaining, 10);
	tick_past_hold_and_expiry(&l, exp - TU_HOUR, 2 * TU_HOUR);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[0].remaining, 7);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[1].remaining, 10);
}
END_TEST

/* An exhausted package does not warn; with warning 0 nothing warns. */
START_TEST(test_r21_expiring_needs_units_and_warning)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q;
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 2, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 2, T0 - TU_DAY, T0 + 3 * TU_DAY,
		    0, 0);
	OK(a, do_charge(a, sms, 2, T0, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, TU_DAY), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T0 + TU_DAY - 10), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(quota_account_tick(a, T0 + 2 * TU_DAY), 0);
	/* P expired (remaining 0); Q warned (2). */
	ck_assert_int_eq(l.n, 3);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRED, p, 0, 0);
	ev_expect(&l, 2, QUOTA_EVENT_PACKAGE_EXPIRING, q, 2, 0);
	quota_ctx_free(c);
}
END_TEST

/* CAP_REACHED: category and QUOTA_ALL, day and month, when the counter
 * reaches the cap (before < cap <= after). */
START_TEST(test_r21_cap_reached)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 10),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH, 25),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       14),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 30),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 9, T0, NULL, &r));
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 1, T0 + 1, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_uint_eq(l.ev[0].category, sms);
	ck_assert_int_eq(l.ev[0].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[0].threshold, 10);
	ck_assert_ptr_null(l.ev[0].package);
	/* ALL, day: 10 + 4 mail = 14, by a reserve. */
	OK(a, do_reserve(a, mail, 4, T0 + 2, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_uint_eq(l.ev[1].category, QUOTA_ALL);
	ck_assert_int_eq(l.ev[1].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[1].threshold, 14);
	/* Returned and reached again: fires again (before < cap <= after). */
	OK(a, do_commit(a, h, 3, NULL, &r));
	OK(a, do_charge(a, mail, 1, T0 + 3, NULL, &r));
	ck_assert_int_eq(l.n, 3);
	ck_assert_uint_eq(l.ev[2].category, QUOTA_ALL);
	/* Next day: sms month 10 + 15 = 25, ALL month 14 + 15 = 29. */
	OK(a, do_charge(a, sms, 10, T0 + TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 4); /* sms DAY again */
	ck_assert_int_eq(l.ev[3].period, QUOTA_PERIOD_DAY);
	OK(a, do_charge(a, sms, 5, T0 + 2 * TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ck_assert_uint_eq(l.ev[4].category, sms);
	ck_assert_int_eq(l.ev[4].period, QUOTA_PERIOD_MONTH);
	ck_assert_int_eq(l.ev[4].threshold, 25);
	OK(a, do_charge(a, mail, 1, T0 + 2 * TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 6);
	ck_assert_uint_eq(l.ev[5].category, QUOTA_ALL);
	ck_assert_int_eq(l.ev[5].period, QUOTA_PERIOD_MONTH);
	ck_assert_int_eq(l.ev[5].threshold, 30);
	quota_ctx_free(c);
}
END_TEST

/* Within one call: clock events (EXPIRED, EXPIRING in time order), then
 * PACKAGE_EXHAUSTED, then CAP_REACHED, then LOW_QUOTA. */
START_TEST(test_r21_order_of_events_within_a_call)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_package *x, *y, *z;
	quota_receipt r;
	int64_t t1 = T0 + 1000;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 3600), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 3),
			 QUOTA_OK);
	/* X expires at T0 + 100; Y warns at T0 + 500; Z burns first. */
	x = add_pkg(a, "X", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 100, 0, 0);
	y = add_pkg(a, "Y", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 4100, 0, 0);
	z = add_pkg(a, "Z", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0,
		    -1);
	/* The clock at T0 - 1 (X warns now): R = 13, the level armed. */
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, mail, 1, T0, NULL, &r)); /* the clock: T0 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRING, x, 5, 0);
	l.n = 0;
	OK(a, do_charge(a, sms, 3, t1, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, x, 5, 0);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRING, y, 5, 0);
	ev_expect(&l, 2, QUOTA_EVENT_PACKAGE_EXHAUSTED, z, 0, 0);
	ev_expect(&l, 3, QUOTA_EVENT_CAP_REACHED, NULL, l.ev[3].remaining, 3);
	ck_assert_int_eq(l.ev[3].period, QUOTA_PERIOD_DAY);
	ck_assert_uint_eq(l.ev[3].category, sms);
	ev_expect(&l, 4, QUOTA_EVENT_LOW_QUOTA, NULL, 5, 5);
	ck_assert_int_eq(l.ev[4].at, t1);
	quota_ctx_free(c);
}
END_TEST

/* A failing hook is counted and changes nothing; no hook: nothing
 * tracked or delivered. */
START_TEST(test_r21_failing_hook_changes_no_state)
{
	quota_ctx *c[2];
	quota_account *a[2];
	quota_receipt r;
	uint64_t h;
	evlog l[2];
	tu_snap s[2];
	uint32_t sms = 0;
	int k;

	for (k = 0; k < 2; k++) {
		c[k] = new_ctx();
		sms = add_cat(c[k], "sms");
		a[k] = add_acct(c[k], "a");
		memset(&l[k], 0, sizeof l[k]);
		l[k].cat = sms;
		l[k].ret = k == 0 ? 0 : -7;
		ck_assert_int_eq(quota_ctx_set_event_hook(c[k], hook, &l[k]),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_cap(a[k], sms,
						       QUOTA_PERIOD_DAY, 12),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_expiry_warning(a[k], 60),
				 QUOTA_OK);
		add_pkg(a[k], "P", QUOTA_MASK(sms), 10, T0 - TU_DAY,
			T0 + TU_DAY, 0, 0);
		add_pkg(a[k], "E", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + 500,
			0, 5);
		ck_assert_int_eq(quota_account_add_alert(a[k], sms, 50,
							 QUOTA_ALERT_PERCENT),
				 QUOTA_OK);
		OK(a[k], do_charge(a[k], sms, 10, T0, "k", &r));
		OK(a[k], do_reserve(a[k], sms, 2, T0 + 1, 100, NULL, &r, &h));
		ck_assert_int_eq(quota_account_tick(a[k], T0 + 600), 1);
		OK(a[k], do_reverse(a[k], "k", T0 + 600, &r));
		OK(a[k], do_charge(a[k], sms, 12, T0 + 700, NULL, &r));
		tu_snap_take1(&s[k], a[k], T0);
	}
	TU_ASSERT_SNAP_EQ(&s[0], &s[1]);
	ck_assert_int_gt(l[0].n, 3);
	ck_assert_int_eq(l[0].n, l[1].n);
	for (k = 0; k < l[0].n; k++) {
		ck_assert_int_eq(l[0].ev[k].kind, l[1].ev[k].kind);
		ck_assert_int_eq(l[0].ev[k].remaining, l[1].ev[k].remaining);
	}
	ck_assert_uint_eq(quota_ctx_hook_failures(c[0]), 0);
	ck_assert_uint_eq(quota_ctx_hook_failures(c[1]),
			  (uint64_t)(l[1].n + l[1].holds_expired));
	/* Without a hook: nothing delivered, nothing counted. */
	ck_assert_int_eq(quota_ctx_set_event_hook(c[1], NULL, NULL), QUOTA_OK);
	k = l[1].n;
	OK(a[1], do_charge(a[1], sms, 10, T0 + TU_DAY, NULL, &r));
	ck_assert_int_eq(l[1].n, k);
	ck_assert_uint_eq(quota_ctx_hook_failures(c[1]),
			  (uint64_t)(k + l[1].holds_expired));
	ck_assert_int_eq(quota_ctx_set_event_hook(NULL, hook, NULL),
			 QUOTA_EINVAL);
	quota_ctx_free(c[0]);
	quota_ctx_free(c[1]);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *holds_suite(void)
{
	Suite *s = suite_create("holds");
	TCase *r10 = tcase_create("r10");
	TCase *r11 = tcase_create("r11");
	TCase *r12 = tcase_create("r12");
	TCase *r21 = tcase_create("r21");

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
	tcase_add_test(r21, test_r21_low_quota_levels_fire_once_and_rearm);
	tcase_add_test(r21, test_r21_low_quota_rearmed_by_release_and_reversal);
	tcase_add_test(r21, test_r21_low_quota_percent_threshold_rounds_down);
	tcase_add_test(r21, test_r21_low_quota_rearmed_by_reversal);
	tcase_add_test(r21, test_r21_no_events_from_quote_or_refused_call);
	tcase_add_test(r21, test_r21_low_quota_by_expiry_on_ctx_tick);
	tcase_add_test(r21, test_r21_cap_reached_in_the_charge_period);
	tcase_add_test(r21, test_r21_package_exhausted_expired_expiring);
	tcase_add_test(r21, test_r21_expiring_needs_units_and_warning);
	tcase_add_test(r21,
		       test_r21_package_expired_counts_units_of_holds_timed_out_before);
	tcase_add_test(r21, test_r21_cap_reached);
	tcase_add_test(r21, test_r21_order_of_events_within_a_call);
	tcase_add_test(r21, test_r21_failing_hook_changes_no_state);
	suite_add_tcase(s, r10);
	suite_add_tcase(s, r11);
	suite_add_tcase(s, r12);
	suite_add_tcase(s, r21);
	return s;
}

int main(void)
{
	return tu_run(holds_suite());
}
