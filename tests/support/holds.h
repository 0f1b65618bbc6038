/*
 * holds.h - what the scenario tests of issue 4 share (check_holds.c:
 * reservations R10, check_holds_keys.c: keys R11 and reversal R12,
 * check_holds_events.c: events R21): their time T0, each call with its
 * receipt (and hold id) filled with junk first, OK and REFUSED around a
 * call, a receipt's kind and package lines, the day's and month's usage.
 * Include after <check.h>, "quota.h" and "testutil.h".
 */
#ifndef QUOTA_TEST_HOLDS_H
#define QUOTA_TEST_HOLDS_H

#include <string.h>

#define T0 tu_utc(2024, 5, 15, 10, 0, 0)

static inline int do_charge(quota_account *a, uint32_t cat, int64_t units,
			    int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	return quota_charge(a, &u, r);
}

static inline int do_quote(quota_account *a, uint32_t cat, int64_t units,
			   int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	return quota_quote(a, &u, r);
}

static inline int do_reserve(quota_account *a, uint32_t cat, int64_t units,
			     int64_t at, int64_t timeout, const char *key,
			     quota_receipt *r, uint64_t *hid)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	memset(r, 0x5a, sizeof *r);
	*hid = 0xabcdef;
	return quota_reserve(a, &u, timeout, r, hid);
}

static inline int do_commit(quota_account *a, uint64_t hid, int64_t used,
			    const char *key, quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_commit(a, hid, used, key, r);
}

static inline int do_release(quota_account *a, uint64_t hid, const char *key,
			     quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_release(a, hid, key, r);
}

static inline int do_reverse(quota_account *a, const char *key, int64_t at,
			     quota_receipt *r)
{
	memset(r, 0x5a, sizeof *r);
	return quota_reverse(a, key, at, r);
}

#define OK(a, expr) TU_OK(quota_account_ctx(a), expr)

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

static inline void expect_kind(const quota_receipt *r, int kind, uint64_t hid,
			       int replayed)
{
	ck_assert_int_eq(r->kind, kind);
	ck_assert_uint_eq(r->hold_id, hid);
	ck_assert_int_eq(r->replayed, replayed);
}

/* A package line of package p (charges.h's expect_pkg_line names it by
 * id). */
static inline void expect_pkg_line_of(const quota_receipt *r, uint32_t i,
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

static inline int64_t used_day(const quota_account *a, uint32_t cat,
			       int64_t at)
{
	return quota_account_used(a, cat, QUOTA_PERIOD_DAY, at);
}

static inline int64_t used_month(const quota_account *a, uint32_t cat,
				 int64_t at)
{
	return quota_account_used(a, cat, QUOTA_PERIOD_MONTH, at);
}

#endif /* QUOTA_TEST_HOLDS_H */
