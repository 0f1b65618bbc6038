/*
 * check_badinput_enomem.c - a failed allocation (QUOTA_ENOMEM) gets a
 * non-empty quota_errmsg and leaves every observable state unchanged
 * (DESIGN.md §6, R8); a call that need not allocate succeeds without
 * trying.  Against the fixture of the bad-input tables
 * (support/badinput.h), whose rows are in check_badinput.c,
 * check_badinput_usage.c, check_badinput_money.c and
 * check_badinput_issue15.c.
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "badinput.h"

/* ------------------------------------------------------------- ENOMEM */

START_TEST(test_enomem_ctx_new_with)
{
	tu_alloc al;
	quota_ctx *c = (quota_ctx *)&F;

	tu_alloc_init(&al);
	tu_alloc_fail_all(&al);
	ck_assert_int_eq(quota_ctx_new_with(&al.a, &c), QUOTA_ENOMEM);
	ck_assert_ptr_null(c);
	ck_assert_int_gt(al.failures, 0);
	ck_assert_int_eq(al.live_blocks, 0);
	/* Failing the second allocation too (if there is one). */
	tu_alloc_init(&al);
	tu_alloc_fail_in(&al, 2);
	c = (quota_ctx *)&F;
	if (quota_ctx_new_with(&al.a, &c) == QUOTA_OK) {
		ck_assert_int_eq(al.failures, 0);
		quota_ctx_free(c);
	} else {
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(al.live_blocks, 0);
}
END_TEST

/* Arm "fail everything", run the call, check ENOMEM left things alone. */
#define ENOMEM_CALL(expr, name_after_check)                                    \
	do {                                                                   \
		world b_, a_;                                                  \
		int rc_;                                                       \
		world_take(&b_, &F);                                           \
		tu_alloc_fail_all(&F.al);                                      \
		rc_ = (expr);                                                  \
		tu_alloc_disarm(&F.al);                                        \
		ck_assert_int_eq(rc_, QUOTA_ENOMEM);                           \
		ck_assert_int_gt(F.al.failures, 0);                            \
		ck_assert_str_ne(quota_errmsg(F.ctx), "");                     \
		world_take(&a_, &F);                                           \
		world_assert_eq(&b_, &a_);                                     \
		name_after_check;                                              \
	} while (0)

START_TEST(test_enomem_account_and_tariff_new)
{
	fx_build(&F);
	ENOMEM_CALL(new_account(&F, F.ctx, "globex", 1),
		    ck_assert_int_eq(find_account(&F, "globex"),
				     QUOTA_ENOTFOUND));
	ENOMEM_CALL(new_tariff(F.ctx, "newtariff", 1),
		    ck_assert_int_eq(find_tariff(&F, "newtariff"),
				     QUOTA_ENOTFOUND));
	/* Once memory is back, the same calls work. */
	ck_assert_int_eq(new_account(&F, F.ctx, "globex", 1), QUOTA_OK);
	ck_assert_int_eq(new_tariff(F.ctx, "newtariff", 1), QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* Adding packages must grow a table at some point: that one fails cleanly. */
START_TEST(test_enomem_package_add)
{
	char id[32];
	int i, hit = 0;

	fx_build(&F);
	for (i = 0; i < 300 && !hit; i++) {
		world b, a;
		long before = F.al.attempts;
		int rc;

		snprintf(id, sizeof id, "grow%d", i);
		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		rc = add_pkg(&F, F.a, id, QUOTA_MASK(F.sms), 1, F.t0,
			     F.t0 + TU_DAY, 0, 0);
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_int_eq(F.al.attempts, before);
			continue;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
		ck_assert_int_eq(find_pkg(&F, F.a, id), QUOTA_ENOTFOUND);
		ck_assert_int_eq(add_pkg(&F, F.a, id, QUOTA_MASK(F.sms), 1,
					 F.t0, F.t0 + TU_DAY, 0, 0),
				 QUOTA_OK);
		hit = 1;
	}
	ck_assert_msg(hit, "300 packages added without allocating");
	fx_free(&F);
}
END_TEST

/* Charges on new days must grow the period counters at some point. */
START_TEST(test_enomem_charge_new_period)
{
	int d, hit = 0;

	fx_build(&F);
	for (d = 1; d <= 400 && !hit; d++) {
		int64_t at = F.t0 + d * TU_DAY;
		world b, a;
		long before = F.al.attempts;
		int rc;

		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		rc = chg(&F, 0, F.a, F.email, 1, at, NULL);
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_int_eq(F.al.attempts, before);
			continue;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
		ck_assert_int_eq(chg(&F, 0, F.a, F.email, 1, at, NULL),
				 QUOTA_OK);
		hit = 1;
	}
	ck_assert_msg(hit, "400 new days charged without allocating");
	fx_free(&F);
}
END_TEST

/*
 * Calls that may or may not allocate: with every allocation failing they
 * either succeed without trying to allocate or fail with ENOMEM and change
 * nothing.
 */
START_TEST(test_enomem_other_calls)
{
	int k;

	fx_build(&F);
	for (k = 0; k < 8; k++) {
		world b, a;
		long before = F.al.attempts;
		int rc = QUOTA_OK;

		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		switch (k) {
		case 0:
			rc = quota_category_add(F.ctx, "newcat", &F.id_out);
			break;
		case 1:
			rc = quota_tariff_add_tier(F.open, 500, 3);
			break;
		case 2:
			rc = quota_account_set_cap(F.a, F.sms,
						   QUOTA_PERIOD_MONTH, 1000000);
			break;
		case 3:
			rc = quota_account_set_tariff(F.a, F.email, F.vol);
			break;
		case 4:
			rc = quota_account_set_overage(F.a, F.email,
						       QUOTA_OVERAGE_STOP);
			break;
		case 5:
			rc = quota_tariff_set_free(F.open, 3,
						   QUOTA_PERIOD_MONTH);
			break;
		case 6:
			rc = chg(&F, 1, F.a, F.sms, 5, F.t0 + 77 * TU_DAY,
				 NULL);
			break;
		default:
			rc = chg(&F, 0, F.a, F.sms, 5, F.t0, NULL);
			break;
		}
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_msg(F.al.attempts == before,
				      "call %d succeeded although allocation "
				      "failed",
				      k);
			continue;
		}
		ck_assert_msg(rc == QUOTA_ENOMEM, "call %d: %s", k,
			      quota_err_name(rc));
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
	}
	fx_free(&F);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *badinput_enomem_suite(void)
{
	Suite *s = suite_create("badinput_enomem");
	TCase *tc = tcase_create("enomem");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_enomem_ctx_new_with);
	tcase_add_test(tc, test_enomem_account_and_tariff_new);
	tcase_add_test(tc, test_enomem_package_add);
	tcase_add_test(tc, test_enomem_charge_new_period);
	tcase_add_test(tc, test_enomem_other_calls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_enomem_suite());
}
