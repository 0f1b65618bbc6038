/*
 * fixtures.h - one-line builders for scenario tests: each asserts that
 * the call succeeded, so a test reads as the provider rule it checks.
 * Include after <check.h> and "quota.h".
 */
#ifndef QUOTA_FIXTURES_H
#define QUOTA_FIXTURES_H

#include <string.h>

static inline quota_ctx *new_ctx(void)
{
	quota_ctx *c = NULL;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_ptr_nonnull(c);
	return c;
}

static inline uint32_t add_cat(quota_ctx *c, const char *name)
{
	uint32_t id = 999;

	ck_assert_int_eq(quota_category_add(c, name, &id), QUOTA_OK);
	return id;
}

static inline quota_account *add_acct(quota_ctx *c, const char *id)
{
	quota_account *a = NULL;

	ck_assert_int_eq(quota_account_new(c, id, &a), QUOTA_OK);
	ck_assert_ptr_nonnull(a);
	return a;
}

static inline quota_tariff *add_tariff(quota_ctx *c, const char *name)
{
	quota_tariff *t = NULL;

	ck_assert_int_eq(quota_tariff_new(c, name, &t), QUOTA_OK);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* A charge of units in cat at a time, no key; r may be NULL. */
static inline int charge_at(quota_account *a, uint32_t cat, int64_t units,
			    int64_t at, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at};

	return quota_charge(a, &u, r);
}

static inline quota_package *add_pkg(quota_account *a, const char *id,
				     uint64_t mask, int64_t units,
				     int64_t eff, int64_t exp, uint32_t flags,
				     int32_t prio)
{
	quota_package_spec s;
	quota_package *p = NULL;

	memset(&s, 0, sizeof s);
	s.id = id;
	s.categories = mask;
	s.units = units;
	s.effective_at = eff;
	s.expires_at = exp;
	s.flags = flags;
	s.priority = prio;
	ck_assert_int_eq(quota_package_add(a, &s, &p), QUOTA_OK);
	ck_assert_ptr_nonnull(p);
	return p;
}

#endif /* QUOTA_FIXTURES_H */
