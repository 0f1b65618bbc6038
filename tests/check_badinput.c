/*
 * check_badinput.c - every bad input gets its specific QUOTA_E* code, a
 * non-empty quota_errmsg, and leaves every observable state unchanged
 * (DESIGN.md §6, R8).  One table row per (function, bad input); the rows
 * run against the same fixture, each in a fresh copy of it.
 *
 * This file: the rows of the context, categories, tariffs, accounts, time
 * zones (R26) and packages; names checked as documented (§9), the
 * boundaries accepted, the 65th category, the error strings.  The rows of
 * charges, quotes and holds (R10-R12, R21) went to
 * check_badinput_usage.c, those of issue 5 (money, catalog, settlement,
 * reports) to check_badinput_money.c, those of issue 15 (R23, R25, R27)
 * and the blocked account's table to check_badinput_issue15.c, the
 * allocation failures (ENOMEM) to check_badinput_enomem.c; the fixture
 * and the helpers they share to support/badinput.h.
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "badinput.h"

/* ------------------------------------------------------------ row helpers */

static const char s64[] =
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/* ------------------------------------------------------- R26 time zones */

/* quota_zone_load; *out must be NULL after a failure. */
static int zone_load(quota_ctx *c, const char *name, int with_out)
{
	quota_zone *z = (quota_zone *)&F;
	int rc = quota_zone_load(c, name, with_out ? &z : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(z);
	return rc;
}

static int zone_find(quota_ctx *c, const char *name, int with_out)
{
	quota_zone *z = (quota_zone *)&F;
	int rc = quota_zone_find(c, name, with_out ? &z : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(z);
	return rc;
}

static int zone_offset(const quota_zone *z, int64_t at, int with_out)
{
	int32_t off = 7;
	int rc = quota_zone_offset(z, at, with_out ? &off : NULL);

	if (rc != QUOTA_OK)
		ck_assert_int_eq(off, with_out ? 0 : 7);
	return rc;
}

/* A zone of another context. */
static int zone_of_other_ctx(fx *f)
{
	quota_ctx *c;
	quota_zone *z;
	int rc;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(zone_tzif(c, "Test/Berlin", 3600, BERLIN_RULE, 0, 1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_zone_find(c, "Test/Berlin", &z), QUOTA_OK);
	rc = quota_account_set_zone(f->a, z);
	quota_ctx_free(c);
	return rc;
}

static int add_null_spec(fx *f)
{
	quota_package *p = (quota_package *)&F;
	int rc = quota_package_add(f->a, NULL, &p);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

static int price(const quota_tariff *t, int64_t v, int64_t n, int with_out)
{
	int64_t cost = 0;

	return quota_tariff_price(t, v, n, with_out ? &cost : NULL);
}

static int get_spec(const quota_package *p, int with_out)
{
	quota_package_spec s;

	return quota_package_get_spec(p, with_out ? &s : NULL);
}

static int ctx_new_with_alloc(unsigned version, int null_fn)
{
	quota_allocator al = QUOTA_ALLOCATOR_INIT;
	quota_ctx *c = (quota_ctx *)&F;
	tu_alloc t;
	int rc;

	tu_alloc_init(&t);
	al = t.a;
	al.version = version;
	if (null_fn)
		al.malloc_fn = NULL;
	rc = quota_ctx_new_with(&al, &c);
	if (rc == QUOTA_OK)
		quota_ctx_free(c);
	else
		ck_assert_ptr_null(c);
	ck_assert_int_eq(t.live_blocks, 0);
	return rc;
}

/* ------------------------------------------------------------------ rows */

#define M_SMS QUOTA_MASK(f->sms)

/* X(name, expected code, 1 if the call can reach the ctx, expression) */
#define ROWS(X)                                                                \
	X(ctx_new_null_out, QUOTA_EINVAL, 0, quota_ctx_new(NULL))              \
	X(ctx_new_with_null_out, QUOTA_EINVAL, 0,                              \
	  quota_ctx_new_with(NULL, NULL))                                      \
	X(ctx_new_with_bad_version, QUOTA_EINVAL, 0,                           \
	  ctx_new_with_alloc(QUOTA_ALLOCATOR_VERSION + 41, 0))                 \
	X(ctx_new_with_null_malloc, QUOTA_EINVAL, 0,                           \
	  ctx_new_with_alloc(QUOTA_ALLOCATOR_VERSION, 1))                      \
	/* categories */                                                       \
	X(category_add_null_ctx, QUOTA_EINVAL, 0,                              \
	  quota_category_add(NULL, "x", &f->id_out))                           \
	X(category_add_null_name, QUOTA_EINVAL, 1,                             \
	  quota_category_add(f->ctx, NULL, &f->id_out))                        \
	X(category_add_empty_name, QUOTA_EINVAL, 1,                            \
	  quota_category_add(f->ctx, "", &f->id_out))                          \
	X(category_add_64_bytes, QUOTA_EINVAL, 1,                              \
	  quota_category_add(f->ctx, s64, &f->id_out))                         \
	X(category_add_bad_utf8, QUOTA_EENCODING, 1,                           \
	  quota_category_add(f->ctx, BAD_UTF8, &f->id_out))                    \
	X(category_add_overlong_utf8, QUOTA_EENCODING, 1,                      \
	  quota_category_add(f->ctx, OVERLONG, &f->id_out))                    \
	X(category_add_surrogate_utf8, QUOTA_EENCODING, 1,                     \
	  quota_category_add(f->ctx, SURROGATE, &f->id_out))                   \
	X(category_add_truncated_utf8, QUOTA_EENCODING, 1,                     \
	  quota_category_add(f->ctx, TRUNCATED, &f->id_out))                   \
	X(category_add_above_10ffff, QUOTA_EENCODING, 1,                       \
	  quota_category_add(f->ctx, ABOVE_MAX, &f->id_out))                   \
	X(category_add_duplicate, QUOTA_EEXISTS, 1,                            \
	  quota_category_add(f->ctx, "email", &f->id_out))                     \
	X(category_add_null_id, QUOTA_EINVAL, 1,                               \
	  quota_category_add(f->ctx, "sms.new", NULL))                         \
	X(category_find_null_ctx, QUOTA_EINVAL, 0,                             \
	  quota_category_find(NULL, "sms", &f->id_out))                        \
	X(category_find_null_name, QUOTA_EINVAL, 1,                            \
	  quota_category_find(f->ctx, NULL, &f->id_out))                       \
	X(category_find_unknown, QUOTA_ENOTFOUND, 1,                           \
	  quota_category_find(f->ctx, "sms.verify", &f->id_out))               \
	X(category_find_empty_name, QUOTA_EINVAL, 1,                           \
	  quota_category_find(f->ctx, "", &f->id_out))                         \
	X(category_find_64_bytes, QUOTA_EINVAL, 1,                             \
	  quota_category_find(f->ctx, s64, &f->id_out))                        \
	X(category_find_bad_utf8, QUOTA_EENCODING, 1,                          \
	  quota_category_find(f->ctx, BAD_UTF8, &f->id_out))                   \
	/* tariffs */                                                          \
	X(tariff_new_null_ctx, QUOTA_EINVAL, 0, new_tariff(NULL, "t", 1))      \
	X(tariff_new_null_name, QUOTA_EINVAL, 1, new_tariff(f->ctx, NULL, 1))  \
	X(tariff_new_empty_name, QUOTA_EINVAL, 1, new_tariff(f->ctx, "", 1))   \
	X(tariff_new_129_bytes, QUOTA_EINVAL, 1, new_tariff(f->ctx, s129, 1))  \
	X(tariff_new_bad_utf8, QUOTA_EENCODING, 1,                             \
	  new_tariff(f->ctx, BAD_UTF8, 1))                                     \
	X(tariff_new_overlong_utf8, QUOTA_EENCODING, 1,                        \
	  new_tariff(f->ctx, OVERLONG, 1))                                     \
	X(tariff_new_duplicate, QUOTA_EEXISTS, 1, new_tariff(f->ctx, "vol", 1)) \
	X(tariff_new_null_out, QUOTA_EINVAL, 1, new_tariff(f->ctx, "t2", 0))   \
	X(tariff_find_unknown, QUOTA_ENOTFOUND, 1, find_tariff(f, "nope"))     \
	X(tariff_find_null_name, QUOTA_EINVAL, 1, find_tariff(f, NULL))        \
	X(tariff_find_empty_name, QUOTA_EINVAL, 1, find_tariff(f, ""))         \
	X(tariff_find_129_bytes, QUOTA_EINVAL, 1, find_tariff(f, s129))        \
	X(tariff_find_bad_utf8, QUOTA_EENCODING, 1, find_tariff(f, BAD_UTF8))  \
	X(tier_null_tariff, QUOTA_EINVAL, 0, quota_tariff_add_tier(NULL, 5, 1)) \
	X(tier_up_to_zero, QUOTA_EINVAL, 1, quota_tariff_add_tier(f->open, 0, 1)) \
	X(tier_up_to_negative, QUOTA_EINVAL, 1,                                \
	  quota_tariff_add_tier(f->open, -300, 1))                             \
	X(tier_up_to_equal, QUOTA_EINVAL, 1,                                   \
	  quota_tariff_add_tier(f->open, 200, 1))                              \
	X(tier_up_to_decreasing, QUOTA_EINVAL, 1,                              \
	  quota_tariff_add_tier(f->open, 150, 1))                              \
	X(tier_negative_price, QUOTA_EINVAL, 1,                                \
	  quota_tariff_add_tier(f->open, 300, -1))                             \
	X(tier_after_unlimited, QUOTA_EINVAL, 1,                               \
	  quota_tariff_add_tier(f->grad, QUOTA_UNLIMITED, 1))                  \
	X(tier_33rd, QUOTA_EOVERFLOW, 1,                                       \
	  quota_tariff_add_tier(f->full, 1000, 1))                             \
	X(set_mode_null, QUOTA_EINVAL, 0, quota_tariff_set_mode(NULL, 0))      \
	X(set_mode_2, QUOTA_EINVAL, 1, quota_tariff_set_mode(f->vol, 2))       \
	X(set_mode_negative, QUOTA_EINVAL, 1, quota_tariff_set_mode(f->vol, -1)) \
	X(set_free_null, QUOTA_EINVAL, 0,                                      \
	  quota_tariff_set_free(NULL, 1, QUOTA_PERIOD_DAY))                    \
	X(set_free_negative, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, -1, QUOTA_PERIOD_DAY))                \
	X(set_free_period_0, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, 5, 0))                                \
	X(set_free_period_4, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, 5, 4))                                \
	X(set_free_daily_limit_null, QUOTA_EINVAL, 0,                          \
	  quota_tariff_set_free_daily_limit(NULL, 1))                          \
	X(set_free_daily_limit_negative, QUOTA_EINVAL, 1,                      \
	  quota_tariff_set_free_daily_limit(f->grad, -1))                      \
	X(price_null_tariff, QUOTA_EINVAL, 0, price(NULL, 0, 1, 1))            \
	X(price_null_out, QUOTA_EINVAL, 1, price(f->grad, 0, 1, 0))            \
	X(price_negative_units, QUOTA_EINVAL, 1, price(f->grad, 0, -1, 1))     \
	X(price_overflow_flat, QUOTA_EOVERFLOW, 1, price(f->hugep, 0, 3, 1))   \
	X(price_overflow_graduated_sum, QUOTA_EOVERFLOW, 1,                    \
	  price(f->hugeg, 0, 3, 1))                                            \
	/* accounts */                                                         \
	X(account_new_null_ctx, QUOTA_EINVAL, 0, new_account(f, NULL, "b", 1)) \
	X(account_new_null_id, QUOTA_EINVAL, 1, new_account(f, f->ctx, NULL, 1)) \
	X(account_new_empty_id, QUOTA_EINVAL, 1, new_account(f, f->ctx, "", 1)) \
	X(account_new_129_bytes, QUOTA_EINVAL, 1,                              \
	  new_account(f, f->ctx, s129, 1))                                     \
	X(account_new_bad_utf8, QUOTA_EENCODING, 1,                            \
	  new_account(f, f->ctx, BAD_UTF8, 1))                                 \
	X(account_new_surrogate, QUOTA_EENCODING, 1,                           \
	  new_account(f, f->ctx, SURROGATE, 1))                                \
	X(account_new_duplicate, QUOTA_EEXISTS, 1,                             \
	  new_account(f, f->ctx, "acme", 1))                                   \
	X(account_new_null_out, QUOTA_EINVAL, 1,                               \
	  new_account(f, f->ctx, "b", 0))                                      \
	X(account_find_unknown, QUOTA_ENOTFOUND, 1, find_account(f, "globex")) \
	X(account_find_null_id, QUOTA_EINVAL, 1, find_account(f, NULL))        \
	X(account_find_empty_id, QUOTA_EINVAL, 1, find_account(f, ""))         \
	X(account_find_129_bytes, QUOTA_EINVAL, 1, find_account(f, s129))      \
	X(account_find_bad_utf8, QUOTA_EENCODING, 1, find_account(f, BAD_UTF8)) \
	X(utc_offset_null, QUOTA_EINVAL, 0, quota_account_set_utc_offset(NULL, 0)) \
	X(utc_offset_too_east, QUOTA_EINVAL, 1,                                \
	  quota_account_set_utc_offset(f->a, 64801))                           \
	X(utc_offset_too_west, QUOTA_EINVAL, 1,                                \
	  quota_account_set_utc_offset(f->a, -64801))                          \
	X(utc_offset_after_usage, QUOTA_EINVAL, 1,                             \
	  quota_account_set_utc_offset(f->a, 0))                               \
	/* R26 time zones */                                                   \
	X(zone_load_null_ctx, QUOTA_EINVAL, 0,                                 \
	  zone_load(NULL, "Europe/Berlin", 1))                                 \
	X(zone_load_null_name, QUOTA_EINVAL, 1, zone_load(f->ctx, NULL, 1))    \
	X(zone_load_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_load(f->ctx, "Europe/Berlin", 0))                               \
	X(zone_load_empty_name, QUOTA_EINVAL, 1, zone_load(f->ctx, "", 1))     \
	X(zone_load_parent, QUOTA_EINVAL, 1,                                   \
	  zone_load(f->ctx, "../../etc/passwd", 1))                            \
	X(zone_load_absolute, QUOTA_EINVAL, 1,                                 \
	  zone_load(f->ctx, "/etc/passwd", 1))                                 \
	X(zone_load_dotdot_part, QUOTA_EINVAL, 1,                              \
	  zone_load(f->ctx, "Europe/../Berlin", 1))                            \
	X(zone_load_empty_part, QUOTA_EINVAL, 1,                               \
	  zone_load(f->ctx, "Europe//Berlin", 1))                              \
	X(zone_load_space, QUOTA_EINVAL, 1, zone_load(f->ctx, "Europe/ Berlin", 1)) \
	X(zone_load_129_bytes, QUOTA_EINVAL, 1, zone_load(f->ctx, s129, 1))    \
	X(zone_load_missing, QUOTA_ENOTFOUND, 1,                               \
	  zone_load(f->ctx, "Mars/Olympus_Mons", 1))                           \
	X(zone_load_not_tzif, QUOTA_ECORRUPT, 1,                               \
	  zone_load(f->ctx, "zone.tab", 1))                                    \
	X(zone_tzif_null_ctx, QUOTA_EINVAL, 0,                                 \
	  zone_tzif(NULL, "z", 3600, BERLIN_RULE, 0, 1))                       \
	X(zone_tzif_null_name, QUOTA_EINVAL, 1,                                \
	  zone_tzif(f->ctx, NULL, 3600, BERLIN_RULE, 0, 1))                    \
	X(zone_tzif_null_bytes, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, NULL, 0, 1))                            \
	X(zone_tzif_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_tzif(f->ctx, "z", 3600, BERLIN_RULE, 0, 0))                     \
	X(zone_tzif_empty_name, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "", 3600, BERLIN_RULE, 0, 1))                      \
	X(zone_tzif_bad_utf8_name, QUOTA_EENCODING, 1,                         \
	  zone_tzif(f->ctx, BAD_UTF8, 3600, BERLIN_RULE, 0, 1))                \
	X(zone_tzif_truncated, QUOTA_ECORRUPT, 1,                              \
	  zone_tzif(f->ctx, "z", 3600, NULL, 60, 1))                           \
	X(zone_tzif_no_magic, QUOTA_ECORRUPT, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, NULL, 3, 1))                            \
	X(zone_tzif_bad_rule, QUOTA_ECORRUPT, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, "CET-1CEST,M13.5.0,M10.5.0", 0, 1))     \
	X(zone_tzif_bad_offset, QUOTA_ECORRUPT, 1,                             \
	  zone_tzif(f->ctx, "z", INT32_MIN, BERLIN_RULE, 0, 1))                \
	X(zone_tzif_beyond_18h, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "z", 18 * 3600 + 1, "", 0, 1))                     \
	X(zone_tzif_rule_beyond_18h, QUOTA_ECORRUPT, 1,                        \
	  zone_tzif(f->ctx, "z", 3600, "XXX-19", 0, 1))                        \
	X(zone_tzif_other_bytes, QUOTA_EEXISTS, 1,                             \
	  zone_tzif(f->ctx, "Test/Berlin", 3600, "CET-1", 0, 1))               \
	X(zone_find_null_ctx, QUOTA_EINVAL, 0, zone_find(NULL, "z", 1))        \
	X(zone_find_null_name, QUOTA_EINVAL, 1, zone_find(f->ctx, NULL, 1))    \
	X(zone_find_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_find(f->ctx, "Test/Berlin", 0))                                 \
	X(zone_find_unknown, QUOTA_ENOTFOUND, 1,                               \
	  zone_find(f->ctx, "Asia/Tokyo", 1))                                  \
	X(zone_offset_null_zone, QUOTA_EINVAL, 0, zone_offset(NULL, T0, 1))    \
	X(zone_offset_null_out, QUOTA_EINVAL, 0, zone_offset(f->zone, T0, 0))  \
	X(zone_offset_before_min, QUOTA_EINVAL, 1,                             \
	  zone_offset(f->zone, QUOTA_TIME_MIN - 1, 1))                         \
	X(zone_offset_at_max, QUOTA_EINVAL, 1,                                 \
	  zone_offset(f->zone, QUOTA_TIME_MAX, 1))                             \
	X(set_zone_null_account, QUOTA_EINVAL, 0,                              \
	  quota_account_set_zone(NULL, f->zone))                               \
	X(set_zone_after_usage, QUOTA_EINVAL, 1,                               \
	  quota_account_set_zone(f->a, f->zone))                               \
	X(set_zone_none_after_usage, QUOTA_EINVAL, 1,                          \
	  quota_account_set_zone(f->a, NULL))                                  \
	X(set_zone_other_ctx, QUOTA_EINVAL, 1, zone_of_other_ctx(f))           \
	X(set_tariff_null_account, QUOTA_EINVAL, 0,                            \
	  quota_account_set_tariff(NULL, 0, f->grad))                          \
	X(set_tariff_unknown_category, QUOTA_ENOTFOUND, 1,                     \
	  quota_account_set_tariff(f->a, 7, f->grad))                          \
	X(set_tariff_category_all, QUOTA_ENOTFOUND, 1,                         \
	  quota_account_set_tariff(f->a, QUOTA_ALL, f->grad))                  \
	X(set_cap_null_account, QUOTA_EINVAL, 0,                               \
	  quota_account_set_cap(NULL, 0, QUOTA_PERIOD_DAY, 5))                 \
	X(set_cap_unknown_category, QUOTA_ENOTFOUND, 1,                        \
	  quota_account_set_cap(f->a, 7, QUOTA_PERIOD_DAY, 5))                 \
	X(set_cap_category_63, QUOTA_ENOTFOUND, 1,                             \
	  quota_account_set_cap(f->a, 63, QUOTA_PERIOD_DAY, 5))                \
	X(set_cap_period_lifetime, QUOTA_EINVAL, 1,                            \
	  quota_account_set_cap(f->a, f->sms, QUOTA_PERIOD_LIFETIME, 5))       \
	X(set_cap_period_0, QUOTA_EINVAL, 1,                                   \
	  quota_account_set_cap(f->a, QUOTA_ALL, 0, 5))                        \
	X(set_overage_null_account, QUOTA_EINVAL, 0,                           \
	  quota_account_set_overage(NULL, 0, QUOTA_OVERAGE_STOP))              \
	X(set_overage_unknown_category, QUOTA_ENOTFOUND, 1,                    \
	  quota_account_set_overage(f->a, 7, QUOTA_OVERAGE_STOP))              \
	X(set_overage_policy_2, QUOTA_EINVAL, 1,                               \
	  quota_account_set_overage(f->a, f->sms, 2))                          \
	X(remaining_null_account, QUOTA_EINVAL, 0,                             \
	  as_code(quota_account_remaining(NULL, 0, T0)))                       \
	X(remaining_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  as_code(quota_account_remaining(f->a, 7, T0)))                       \
	X(remaining_category_all, QUOTA_ENOTFOUND, 1,                          \
	  as_code(quota_account_remaining(f->a, QUOTA_ALL, T0)))               \
	X(remaining_time_max, QUOTA_EINVAL, 1,                                 \
	  as_code(quota_account_remaining(f->a, f->sms, QUOTA_TIME_MAX)))      \
	X(used_null_account, QUOTA_EINVAL, 0,                                  \
	  as_code(quota_account_used(NULL, 0, QUOTA_PERIOD_DAY, T0)))          \
	X(used_unknown_category, QUOTA_ENOTFOUND, 1,                           \
	  as_code(quota_account_used(f->a, 7, QUOTA_PERIOD_DAY, T0)))          \
	X(used_period_lifetime, QUOTA_EINVAL, 1,                               \
	  as_code(quota_account_used(f->a, f->sms, QUOTA_PERIOD_LIFETIME, T0))) \
	X(used_period_9, QUOTA_EINVAL, 1,                                      \
	  as_code(quota_account_used(f->a, QUOTA_ALL, 9, T0)))                 \
	X(used_time_before_min, QUOTA_EINVAL, 1,                               \
	  as_code(quota_account_used(f->a, f->sms, QUOTA_PERIOD_DAY,           \
				     QUOTA_TIME_MIN - 1)))                     \
	X(free_used_null_account, QUOTA_EINVAL, 0,                             \
	  as_code(quota_account_free_used(NULL, 0, T0)))                       \
	X(free_used_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  as_code(quota_account_free_used(f->a, 7, T0)))                       \
	X(free_used_time_max, QUOTA_EINVAL, 1,                                 \
	  as_code(quota_account_free_used(f->a, f->sms, QUOTA_TIME_MAX)))      \
	/* packages */                                                         \
	X(package_add_null_account, QUOTA_EINVAL, 0,                           \
	  add_pkg(f, NULL, "Q", M_SMS, 10, T0, T0 + 1, 0, 0))                  \
	X(package_add_null_spec, QUOTA_EINVAL, 1,                              \
	  add_null_spec(f))                                                    \
	X(package_add_null_id, QUOTA_EINVAL, 1,                                \
	  add_pkg(f, f->a, NULL, M_SMS, 10, T0, T0 + 1, 0, 0))                 \
	X(package_add_empty_id, QUOTA_EINVAL, 1,                               \
	  add_pkg(f, f->a, "", M_SMS, 10, T0, T0 + 1, 0, 0))                   \
	X(package_add_129_byte_id, QUOTA_EINVAL, 1,                            \
	  add_pkg(f, f->a, s129, M_SMS, 10, T0, T0 + 1, 0, 0))                 \
	X(package_add_bad_utf8_id, QUOTA_EENCODING, 1,                         \
	  add_pkg(f, f->a, BAD_UTF8, M_SMS, 10, T0, T0 + 1, 0, 0))             \
	X(package_add_truncated_utf8_id, QUOTA_EENCODING, 1,                   \
	  add_pkg(f, f->a, TRUNCATED, M_SMS, 10, T0, T0 + 1, 0, 0))            \
	X(package_add_duplicate_id, QUOTA_EEXISTS, 1,                          \
	  add_pkg(f, f->a, "N", M_SMS, 10, T0, T0 + 1, 0, 0))                  \
	X(package_add_empty_mask, QUOTA_EINVAL, 1,                             \
	  add_pkg(f, f->a, "Q", 0, 10, T0, T0 + 1, 0, 0))                      \
	X(package_add_unregistered_category, QUOTA_ENOTFOUND, 1,               \
	  add_pkg(f, f->a, "Q", M_SMS | QUOTA_MASK(40), 10, T0, T0 + 1, 0, 0)) \
	X(package_add_category_63, QUOTA_ENOTFOUND, 1,                         \
	  add_pkg(f, f->a, "Q", QUOTA_MASK(63), 10, T0, T0 + 1, 0, 0))         \
	X(package_add_zero_units, QUOTA_EINVAL, 1,                             \
	  add_pkg(f, f->a, "Q", M_SMS, 0, T0, T0 + 1, 0, 0))                   \
	X(package_add_negative_units, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, -10, T0, T0 + 1, 0, 0))                 \
	X(package_add_empty_interval, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0, 0, 0))                      \
	X(package_add_inverted_interval, QUOTA_EINVAL, 1,                      \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 - TU_DAY, 0, 0))             \
	X(package_add_effective_before_min, QUOTA_EINVAL, 1,                   \
	  add_pkg(f, f->a, "Q", M_SMS, 10, QUOTA_TIME_MIN - 1, T0, 0, 0))      \
	X(package_add_effective_never, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, QUOTA_NEVER, QUOTA_NEVER, 0, 0))    \
	X(package_add_expiry_time_max, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, QUOTA_TIME_MAX, 0, 0))          \
	X(package_add_expiry_past_max, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, QUOTA_NEVER - 1, 0, 0))         \
	X(package_add_negative_price, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, -1, 0))                 \
	X(package_add_unknown_flag, QUOTA_EINVAL, 1,                           \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, 0, 2))                  \
	X(package_add_high_flag, QUOTA_EINVAL, 1,                              \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, 0, 0x80000000u))        \
	X(package_add_total_units_overflow, QUOTA_EOVERFLOW, 1,                \
	  add_pkg(f, f->a, "Q", M_SMS, INT64_MAX, T0, T0 + 1, 0, 0))           \
	X(package_find_null_account, QUOTA_EINVAL, 0, find_pkg(f, NULL, "N"))  \
	X(package_find_null_id, QUOTA_EINVAL, 1, find_pkg(f, f->a, NULL))      \
	X(package_find_unknown, QUOTA_ENOTFOUND, 1, find_pkg(f, f->a, "Z"))    \
	X(package_find_empty_id, QUOTA_EINVAL, 1, find_pkg(f, f->a, ""))       \
	X(package_find_129_bytes, QUOTA_EINVAL, 1, find_pkg(f, f->a, s129))    \
	X(package_find_bad_utf8, QUOTA_EENCODING, 1,                           \
	  find_pkg(f, f->a, BAD_UTF8))                                         \
	X(package_get_spec_null, QUOTA_EINVAL, 0, get_spec(NULL, 1))           \
	X(package_get_spec_null_out, QUOTA_EINVAL, 1, get_spec(f->p1, 0))

ROWS(ROW_DEF)

static const row rows[] = {ROWS(ROW_ENT)};

START_TEST(test_bad_input_table)
{
	row_check(&rows[_i]);
}
END_TEST

/*
 * §9, the pages' ERRORS: quota_category_add with a NULL id is QUOTA_EINVAL
 * and registers nothing; the five *_find functions check the name as the
 * matching *_add / *_new does (empty or too long: QUOTA_EINVAL, bad UTF-8:
 * QUOTA_EENCODING) rather than answering QUOTA_ENOTFOUND;
 * quota_package_add takes a NULL out (as README.md calls it) and says
 * QUOTA_EOVERFLOW when the account's units would pass INT64_MAX.
 */
START_TEST(test_s9_names_checked_by_find_and_add_as_documented)
{
	const char *bad[3] = {"", NULL, BAD_UTF8};
	const int want[3] = {QUOTA_EINVAL, QUOTA_EINVAL, QUOTA_EENCODING};
	quota_package_spec ps;
	quota_package *p = (quota_package *)&F;
	uint32_t id = 77;
	int i, rc;

	fx_build(&F);
	rc = quota_category_add(F.ctx, "sms.new", NULL);
	ck_assert_msg(rc == QUOTA_EINVAL, "category_add(NULL id): %s",
		      quota_err_name(rc));
	ck_assert_int_eq(quota_category_find(F.ctx, "sms.new", &id),
			 QUOTA_ENOTFOUND);
	ck_assert_uint_eq(id, 77);
	bad[1] = s129;
	for (i = 0; i < 3; i++) {
		const char *cname = i == 1 ? s64 : bad[i];

		rc = quota_category_find(F.ctx, cname, &id);
		ck_assert_msg(rc == want[i], "category_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_tariff(&F, bad[i])) == want[i],
			      "tariff_find(bad %d): %s", i, quota_err_name(rc));
		ck_assert_msg((rc = find_account(&F, bad[i])) == want[i],
			      "account_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_pkg(&F, F.a, bad[i])) == want[i],
			      "package_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_offer(&F, bad[i])) == want[i],
			      "offer_find(bad %d): %s", i, quota_err_name(rc));
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
	}
	memset(&ps, 0, sizeof ps);
	ps.id = "no-out";
	ps.categories = QUOTA_MASK(F.sms);
	ps.units = 5;
	ps.effective_at = F.t0;
	ps.expires_at = QUOTA_NEVER;
	ck_assert_int_eq(quota_package_add(F.a, &ps, NULL), QUOTA_OK);
	ck_assert_int_eq(find_pkg(&F, F.a, "no-out"), QUOTA_OK);
	ps.id = "too-many";
	ps.units = INT64_MAX;
	ck_assert_int_eq(quota_package_add(F.a, &ps, &p), QUOTA_EOVERFLOW);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(quota_package_add(F.a, &ps, NULL), QUOTA_EOVERFLOW);
	fx_free(&F);
}
END_TEST

/* The fixture's positive boundaries are accepted (the rows are not vacuous). */
START_TEST(test_boundaries_accepted)
{
	quota_account *b = NULL;
	quota_tariff *t = NULL;
	uint32_t id;
	char name63[64];
	char id128[129];

	fx_build(&F);
	memset(name63, 'n', 63);
	name63[63] = '\0';
	memset(id128, 'i', 128);
	id128[128] = '\0';
	ck_assert_int_eq(quota_category_add(F.ctx, name63, &id), QUOTA_OK);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(quota_category_add(F.ctx, "sms.vérifier", &id),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(F.ctx, id128, &t), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(F.ctx, id128, &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(b, 64800), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(b, -64800), QUOTA_OK);
	ck_assert_int_eq(add_pkg(&F, b, id128, QUOTA_MASK(F.sms), 1,
				 QUOTA_TIME_MIN, QUOTA_NEVER, 0,
				 QUOTA_PACKAGE_STOP),
			 QUOTA_OK);
	ck_assert_int_eq(add_pkg(&F, b, "last", QUOTA_MASK(F.sms), 1,
				 QUOTA_TIME_MAX - 2, QUOTA_TIME_MAX - 1, 0, 0),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 0, b, F.sms, 1, QUOTA_TIME_MIN, NULL),
			 QUOTA_OK);
	/* "last" covers the latest usable second; the STOP package is used
	 * up, so one more unit there is refused. */
	ck_assert_int_eq(chg(&F, 0, b, F.sms, 1, QUOTA_TIME_MAX - 2, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 1, b, F.sms, 1, QUOTA_TIME_MAX - 1, NULL),
			 QUOTA_EEXHAUSTED);
	ck_assert_int_eq(quota_tariff_add_tier(F.open, 201, 0), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(F.open, 0, QUOTA_PERIOD_LIFETIME),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(F.open, 0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(F.a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 0),
			 QUOTA_OK);
	/* The charge that overflowed nothing in the fixture: room is 5. */
	ck_assert_int_eq(chg(&F, 1, F.a, F.huge, 5, F.tx, NULL), QUOTA_ECAP);
	ck_assert_int_eq(quota_account_set_cap(F.a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, -1),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 1, F.a, F.huge, 5, F.tx, NULL), QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* R26: the zone calls that answer a pointer, not a code (so not in the
 * table): NULL for NULL, as quota_zone(3) says; an account on a fixed
 * offset has no zone. */
START_TEST(test_r26_zone_getters_null)
{
	fx f;

	fx_build(&f);
	ck_assert_ptr_null(quota_zone_name(NULL));
	ck_assert_ptr_null(quota_account_zone(NULL));
	ck_assert_ptr_null(quota_account_zone(f.a));
	ck_assert_str_eq(quota_zone_name(f.zone), "Test/Berlin");
	fx_free(&f);
}
END_TEST

/* 64 categories fit; the 65th is refused with QUOTA_EOVERFLOW. */
START_TEST(test_category_65th)
{
	char name[32];
	uint32_t i, id;
	world before, after;

	fx_build(&F);
	for (i = quota_category_count(F.ctx); i < QUOTA_MAX_CATEGORIES; i++) {
		snprintf(name, sizeof name, "cat%u", i);
		ck_assert_int_eq(quota_category_add(F.ctx, name, &id),
				 QUOTA_OK);
		ck_assert_uint_eq(id, i);
	}
	ck_assert_uint_eq(quota_category_count(F.ctx), 64);
	world_take(&before, &F);
	ck_assert_int_eq(quota_category_add(F.ctx, "one-too-many", &id),
			 QUOTA_EOVERFLOW);
	ck_assert_str_ne(quota_errmsg(F.ctx), "");
	world_take(&after, &F);
	world_assert_eq(&before, &after);
	ck_assert_int_eq(quota_category_find(F.ctx, "one-too-many", &id),
			 QUOTA_ENOTFOUND);
	/* Category 63 is now known. */
	ck_assert_int_eq(add_pkg(&F, F.a, "hi", QUOTA_MASK(63), 1, F.t0,
				 QUOTA_NEVER, 0, 0),
			 QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* ------------------------------------------------------- error strings */

START_TEST(test_strerror_and_names)
{
	static const struct {
		int code;
		const char *name;
		const char *msg;
	} codes[] = {
#define CODE_ENT(name, value, msg) {value, "QUOTA_" #name, msg},
		QUOTA_ERRNO_MAP(CODE_ENT)
#undef CODE_ENT
	};
	static const int unknown[] = {-25, -26, -100, 1, 42, INT32_MIN,
				      INT32_MAX};
	size_t i, j;

	/* R25 appended QUOTA_EBLOCKED (-24). */
	ck_assert_uint_eq(sizeof codes / sizeof codes[0], 25);
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = quota_strerror(codes[i].code);
		const char *n = quota_err_name(codes[i].code);

		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(n);
		ck_assert_str_eq(s, codes[i].msg);
		ck_assert_str_eq(n, codes[i].name);
		ck_assert_int_eq(codes[i].code, -(int)i);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, quota_strerror(codes[j].code));
	}
	ck_assert_str_eq(quota_err_name(QUOTA_EENCODING), "QUOTA_EENCODING");
	ck_assert_str_eq(quota_err_name(QUOTA_ECAP), "QUOTA_ECAP");
	ck_assert_str_eq(quota_err_name(QUOTA_ERESOLVED), "QUOTA_ERESOLVED");
	ck_assert_str_eq(quota_err_name(QUOTA_EKEYCONFLICT),
			 "QUOTA_EKEYCONFLICT");
	ck_assert_str_eq(quota_err_name(QUOTA_EREVERSED), "QUOTA_EREVERSED");
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		const char *s = quota_strerror(unknown[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "");
		for (j = 0; j < sizeof codes / sizeof codes[0]; j++)
			ck_assert_str_ne(s, codes[j].msg);
		ck_assert_str_eq(quota_err_name(unknown[i]), "QUOTA_E?");
	}
	ck_assert_str_eq(quota_version(), "0.1.0");
	ck_assert_uint_eq(quota_version_number(), QUOTA_VERSION_NUMBER);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input_table, 0, NROWS);
	tcase_add_test(tc, test_boundaries_accepted);
	tcase_add_test(tc, test_s9_names_checked_by_find_and_add_as_documented);
	tcase_add_test(tc, test_r26_zone_getters_null);
	tcase_add_test(tc, test_category_65th);
	tcase_add_test(tc, test_strerror_and_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_suite());
}
