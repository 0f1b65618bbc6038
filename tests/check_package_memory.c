/*
 * check_package_memory.c - what a package costs (DESIGN §7, issue 13),
 * counted through the allocator hooks of quota_ctx_new_with: at most 96
 * bytes plus its id for the accounts make bench-scale builds (2 packages
 * in one category) and for up to 4 packages a category; and the
 * structures that keep it small (no id map for an account's first 8
 * packages, a small R3 index for a category's first 4) change to the
 * full ones all or nothing under allocation faults, and answer the same.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define OK(expr) TU_OK(NULL, expr)

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define NACCT 200
#define TARGET 96 /* bytes per package, plus its id */

/* Bytes per package of NACCT accounts with npk packages each in one
 * category, ids "p0", "p1", ...: what the allocator holds more after
 * adding them. */
static double bytes_per_package(int npk, double *allocs)
{
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a[NACCT];
	quota_tariff *t;
	uint32_t sms;
	size_t b0;
	long l0;
	int i, j;

	tu_alloc_init(&al);
	OK(quota_ctx_new_with(&al.a, &ctx));
	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_tariff_new(ctx, "std", &t));
	for (i = 0; i < NACCT; i++) {
		char id[16];

		snprintf(id, sizeof id, "acct-%04d", i);
		OK(quota_account_new(ctx, id, &a[i]));
		/* The category's entry comes with its tariff (check_memory
		 * counts it): what follows is the packages' own. */
		OK(quota_account_set_tariff(a[i], sms, t));
	}
	b0 = al.live_bytes;
	l0 = al.live_blocks;
	for (i = 0; i < NACCT; i++)
		for (j = 0; j < npk; j++) {
			char id[8];
			quota_package_spec s = {.id = id,
						.categories = QUOTA_MASK(sms),
						.units = 1000000,
						.effective_at = T0,
						.expires_at =
							T0 + (j + 1) * 86400,
						.price_micros = 5000000};

			snprintf(id, sizeof id, "p%d", j);
			OK(quota_package_add(a[i], &s, NULL));
		}
	*allocs = (double)(al.live_blocks - l0) / (NACCT * npk);
	{
		double r = (double)(al.live_bytes - b0) / (NACCT * npk);

		quota_ctx_free(ctx);
		ck_assert_int_eq(al.live_blocks, 0);
		return r;
	}
}

START_TEST(test_bytes_per_package)
{
	double allocs, b;
	int npk;

	for (npk = 2; npk <= 4; npk++) {
		b = bytes_per_package(npk, &allocs);
		printf("check_package_memory: %d packages an account: %.1f "
		       "bytes per package in %.2f allocations (target <= %d + "
		       "id 3)\n",
		       npk, b, allocs, TARGET);
		ck_assert_msg(b <= TARGET + 3, "%d packages: %.1f bytes each",
			      npk, b);
		ck_assert(allocs < 2.05); /* and the context's draw scratch */
	}
}
END_TEST

static void *snap(quota_account *a, size_t *len)
{
	void *p;

	OK(quota_account_snapshot(a, &p, len));
	return p;
}

/*
 * Twenty packages in one category through the id map's build (9th) and
 * the index's full form (5th), each add under every allocation fault
 * until it succeeds: a refused add leaves the same snapshot and every
 * package found by id and in R3 order; then charges burn them in R3
 * order as without the small forms.
 */
START_TEST(test_small_to_full_under_faults)
{
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a;
	quota_package *p;
	quota_receipt r;
	uint32_t sms;
	char id[16];
	int i, j, rc;

	tu_alloc_init(&al);
	OK(quota_ctx_new_with(&al.a, &ctx));
	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_account_new(ctx, "acct", &a));
	for (i = 0; i < 20; i++) {
		/* expiry descending: each new package burns first (R3) */
		quota_package_spec s = {.id = id,
					.categories = QUOTA_MASK(sms),
					.units = 10,
					.effective_at = T0 - 3600,
					.expires_at = T0 + (40 - i) * 86400,
					.flags = i == 6 ? QUOTA_PACKAGE_STOP
							: 0};
		long n;

		snprintf(id, sizeof id, "pk-%d", i);
		for (n = 1;; n++) {
			size_t len0, len1;
			void *s0 = snap(a, &len0), *s1;

			tu_alloc_fail_in(&al, n);
			rc = quota_package_add(a, &s, NULL);
			tu_alloc_disarm(&al);
			if (rc == QUOTA_OK) {
				quota_free(ctx, s0);
				break;
			}
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			s1 = snap(a, &len1);
			ck_assert(len0 == len1 && !memcmp(s0, s1, len0));
			quota_free(ctx, s0);
			quota_free(ctx, s1);
			ck_assert_int_eq(quota_account_package_count(a),
					 (uint32_t)i);
			ck_assert_int_eq(quota_package_find(a, id, &p),
					 QUOTA_ENOTFOUND);
			ck_assert_int_eq(quota_account_remaining(a, sms, T0),
					 10 * i);
		}
		ck_assert_int_eq(quota_package_add(a, &s, NULL), QUOTA_EEXISTS);
		for (j = 0; j <= i; j++) {
			char jd[16];

			snprintf(jd, sizeof jd, "pk-%d", j);
			OK(quota_package_find(a, jd, &p));
			ck_assert_ptr_eq(p, quota_account_package_at(
						    a, (uint32_t)j));
		}
		ck_assert_int_eq(quota_account_remaining(a, sms, T0),
				 10 * (i + 1));
	}
	/* R3: the latest added expires first; 15 units take two of them */
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 15,
					  .at = T0},
			&r));
	ck_assert_uint_eq(r.nlines, 2);
	ck_assert_str_eq(r.lines[0].package_id, "pk-19");
	ck_assert_str_eq(r.lines[1].package_id, "pk-18");
	ck_assert_int_eq(r.lines[1].units, 5);
	/* the STOP package (pk-6) stops the category once all are spent */
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 185,
					  .at = T0 + 60},
			&r));
	ck_assert_int_eq(r.package_units, 185);
	ck_assert_int_eq(quota_charge(a, &(quota_usage){.category = sms,
							 .units = 1,
							 .at = T0 + 120},
				      &r),
			 QUOTA_EEXHAUSTED);
	quota_ctx_free(ctx);
	ck_assert_int_eq(al.live_blocks, 0);
}
END_TEST

/* The small form answers as the full one: a few packages with pending,
 * expired, empty and STOP ones, charged at many times. */
START_TEST(test_small_form_r3)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	quota_package *p[4];
	int64_t t;

	OK(quota_ctx_new(&ctx));
	OK(quota_category_add(ctx, "sms", &sms));
	OK(quota_account_new(ctx, "acct", &a));
	{
		quota_package_spec s[4] = {
			{.id = "late", .units = 5, .effective_at = T0 + 86400,
			 .expires_at = T0 + 9 * 86400},
			{.id = "soon", .units = 3, .effective_at = T0,
			 .expires_at = T0 + 2 * 86400},
			{.id = "prio", .units = 2, .effective_at = T0,
			 .expires_at = QUOTA_NEVER, .priority = -1},
			{.id = "stop", .units = 4, .effective_at = T0,
			 .expires_at = T0 + 5 * 86400,
			 .flags = QUOTA_PACKAGE_STOP}};
		int i;

		for (i = 0; i < 4; i++) {
			s[i].categories = QUOTA_MASK(sms);
			OK(quota_package_add(a, &s[i], &p[i]));
		}
	}
	t = T0 + 3600;
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 4,
					  .at = t},
			&r)); /* prio 2, then soon 2 */
	ck_assert_str_eq(r.lines[0].package_id, "prio");
	ck_assert_str_eq(r.lines[1].package_id, "soon");
	ck_assert_int_eq(quota_package_remaining(p[1]), 1);
	/* soon expired: stop (exp day 5) before late (day 9) */
	t = T0 + 3 * 86400;
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 6,
					  .at = t},
			&r));
	ck_assert_str_eq(r.lines[0].package_id, "stop");
	ck_assert_str_eq(r.lines[1].package_id, "late");
	ck_assert_int_eq(r.lines[1].units, 2);
	/* all but late empty: late, then STOP refuses */
	ck_assert_int_eq(quota_charge(a, &(quota_usage){.category = sms,
							 .units = 4,
							 .at = t + 60},
				      &r),
			 QUOTA_EEXHAUSTED);
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 3,
					  .at = t + 60},
			&r));
	ck_assert_int_eq(quota_account_remaining(a, sms, t + 60), 0);
	/* before anything was effective: nothing */
	OK(quota_charge(a, &(quota_usage){.category = sms, .units = 1,
					  .at = T0 - 60},
			&r));
	ck_assert_int_eq(r.payg_units, 1);
	quota_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("package_memory");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bytes_per_package);
	tcase_add_test(tc, test_small_to_full_under_faults);
	tcase_add_test(tc, test_small_form_r3);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
