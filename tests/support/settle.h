/*
 * settle.h - what the settlement tests share (check_settle.c: bills R17
 * and all or nothing R8, check_settle_volume.c: volume-tier adjustments
 * R14, check_settle_suspend.c: payment and suspension R18): USD and D,
 * the events kept (evrec, keep_event), a charge that must pass, a
 * settlement into a billrec, a bill line and its invariants
 * (check_line), the account's billed sum, the email and volume tariffs.
 * Include after <check.h>, "quota.h", "testutil.h", "fixtures.h" and
 * "billrec.h".
 */
#ifndef QUOTA_TEST_SETTLE_H
#define QUOTA_TEST_SETTLE_H

#include <string.h>

#define USD(x) ((int64_t)(x) * INT64_C(1000000))
#define D(y, m, d) tu_utc((y), (m), (d), 0, 0, 0)

typedef struct evrec {
	int n;
	quota_event e[64];
} evrec;

static inline int keep_event(const quota_event *e, void *ud)
{
	evrec *r = ud;

	if (r->n < 64)
		r->e[r->n++] = *e;
	return 0;
}

static inline int64_t charge(quota_account *a, uint32_t cat, int64_t units,
			     int64_t at, const char *key)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r;

	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	return r.payg_cost_micros;
}

static inline int64_t settle(quota_account *a, int64_t now, billrec *br)
{
	memset(br, 0, sizeof *br);
	return quota_settle(a, now, keep_bill, br);
}

/* A line and its invariants: adjustment = amount - receipts. */
static inline void check_line(const quota_bill_line *l, uint32_t cat,
			      int32_t kind, int32_t late, int64_t units,
			      int64_t receipts, int64_t amount, int64_t rounded)
{
	ck_assert_uint_eq(l->category, cat);
	ck_assert_int_eq(l->kind, kind);
	ck_assert_int_eq(l->late, late);
	ck_assert_int_eq(l->units, units);
	ck_assert_int_eq(l->receipts_micros, receipts);
	ck_assert_int_eq(l->amount_micros, amount);
	ck_assert_int_eq(l->adjustment_micros, amount - receipts);
	ck_assert_int_eq(l->rounded_micros, rounded);
}

static inline int64_t billed(const quota_account *a)
{
	quota_money m;

	ck_assert_int_eq(quota_account_money(a, &m), QUOTA_OK);
	return m.billed_micros;
}

/* An email tariff: 0.00028 USD an email, one graduated tier. */
static inline quota_tariff *email_tariff(quota_ctx *c)
{
	quota_tariff *t = add_tariff(c, "email");

	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 280),
			 QUOTA_OK);
	return t;
}

/* R14 volume: up to 1,000 a month at 0.05 USD, beyond at 0.03 USD. */
static inline quota_tariff *volume_tariff(quota_ctx *c, const char *name)
{
	quota_tariff *t = add_tariff(c, name);

	ck_assert_int_eq(quota_tariff_set_mode(t, QUOTA_VOLUME), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000, 50000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 30000),
			 QUOTA_OK);
	return t;
}

#endif /* QUOTA_TEST_SETTLE_H */
