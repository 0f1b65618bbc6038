/*
 * charges.h - a charge and what its receipt must say, asserted, for the
 * rule tests (check_scenario.c, check_caps.c): a charge that must pass or
 * be refused (then with a message, a zeroed receipt and nothing changed),
 * a receipt's totals and lines, a package's remaining units and status;
 * two receipts that must agree (receipts_agree: check_holds_keys.c,
 * check_snapshot.c, check_lifecycle.c, check_store.c).
 * Include after <check.h>, "quota.h", "testutil.h" and "fixtures.h"
 * (charge_at).
 */
#ifndef QUOTA_TEST_CHARGES_H
#define QUOTA_TEST_CHARGES_H

#include <stdbool.h>
#include <string.h>

static inline void charge_ok(quota_account *a, uint32_t cat, int64_t units,
			     int64_t at, quota_receipt *r)
{
	int rc = charge_at(a, cat, units, at, r);

	ck_assert_msg(rc == QUOTA_OK, "charge %lld units at %lld: %s (%s)",
		      (long long)units, (long long)at, quota_err_name(rc),
		      quota_errmsg(quota_account_ctx(a)));
	ck_assert_int_eq(r->units, units);
	ck_assert_int_eq(r->category, cat);
	ck_assert_int_eq(r->at, at);
	ck_assert_int_eq(r->units,
			 r->free_units + r->package_units + r->payg_units);
}

/* A refused charge: the code, a message, a zeroed receipt, nothing changed. */
static inline void charge_refused(quota_account *a, uint32_t cat,
				  int64_t units, int64_t at, int want)
{
	tu_snap before, after;
	quota_receipt r;
	int rc;

	tu_snap_take1(&before, a, at);
	memset(&r, 0x5a, sizeof r);
	rc = charge_at(a, cat, units, at, &r);
	ck_assert_msg(rc == want, "charge %lld at %lld: want %s got %s",
		      (long long)units, (long long)at, quota_err_name(want),
		      quota_err_name(rc));
	ck_assert_str_ne(quota_errmsg(quota_account_ctx(a)), "");
	ck_assert_msg(tu_receipt_is_zero(&r), "receipt not zeroed on error");
	tu_snap_take1(&after, a, at);
	TU_ASSERT_SNAP_EQ(&before, &after);
}

static inline void expect_totals(const quota_receipt *r, int64_t units,
				 int64_t free_u, int64_t pkg, int64_t payg,
				 int64_t cost)
{
	ck_assert_int_eq(r->units, units);
	ck_assert_int_eq(r->free_units, free_u);
	ck_assert_int_eq(r->package_units, pkg);
	ck_assert_int_eq(r->payg_units, payg);
	ck_assert_int_eq(r->payg_cost_micros, cost);
}

static inline void expect_nlines(const quota_receipt *r, uint32_t n)
{
	ck_assert_uint_eq(r->nlines, n);
	ck_assert_uint_eq(r->lines_total, n);
}

static inline void expect_free_line(const quota_receipt *r, uint32_t i,
				    int64_t units)
{
	ck_assert_uint_lt(i, r->nlines);
	ck_assert_int_eq(r->lines[i].source, QUOTA_SOURCE_FREE);
	ck_assert_int_eq(r->lines[i].units, units);
	ck_assert_int_eq(r->lines[i].unit_price_micros, 0);
	ck_assert_int_eq(r->lines[i].cost_micros, 0);
}

static inline void expect_pkg_line(const quota_receipt *r, uint32_t i,
				   const char *id, int64_t units)
{
	ck_assert_uint_lt(i, r->nlines);
	ck_assert_int_eq(r->lines[i].source, QUOTA_SOURCE_PACKAGE);
	ck_assert_ptr_nonnull(r->lines[i].package_id);
	ck_assert_str_eq(r->lines[i].package_id, id);
	ck_assert_ptr_nonnull(r->lines[i].package);
	ck_assert_int_eq(r->lines[i].units, units);
	ck_assert_int_eq(r->lines[i].unit_price_micros, 0);
	ck_assert_int_eq(r->lines[i].cost_micros, 0);
}

static inline void expect_payg_line(const quota_receipt *r, uint32_t i,
				    uint32_t tier, int64_t units, int64_t price)
{
	ck_assert_uint_lt(i, r->nlines);
	ck_assert_int_eq(r->lines[i].source, QUOTA_SOURCE_PAYG);
	ck_assert_uint_eq(r->lines[i].tier, tier);
	ck_assert_int_eq(r->lines[i].units, units);
	ck_assert_int_eq(r->lines[i].unit_price_micros, price);
	ck_assert_int_eq(r->lines[i].cost_micros, units * price);
}

static inline int64_t remaining_of(quota_account *a, const char *id)
{
	quota_package *p = NULL;

	ck_assert_int_eq(quota_package_find(a, id, &p), QUOTA_OK);
	return quota_package_remaining(p);
}

static inline int status_of(quota_account *a, const char *id, int64_t now)
{
	quota_package *p = NULL;

	ck_assert_int_eq(quota_package_find(a, id, &p), QUOTA_OK);
	return quota_package_status(p, now);
}

/* Two receipts say the same: every total and every line, a line's
 * package the same pointer (one context: a replay of the first) or, when
 * by_id, the same package id (twin contexts: one loaded or replayed).
 * Not `replayed`, which a replay sets. */
static inline void receipts_agree(const quota_receipt *x,
				  const quota_receipt *y, bool by_id)
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
		ck_assert_int_eq(a->units, b->units);
		ck_assert_int_eq(a->unit_price_micros, b->unit_price_micros);
		ck_assert_int_eq(a->cost_micros, b->cost_micros);
		if (!by_id)
			ck_assert_ptr_eq(a->package, b->package);
		else if (a->package_id || b->package_id)
			ck_assert_str_eq(a->package_id, b->package_id);
	}
}

#endif /* QUOTA_TEST_CHARGES_H */
