/*
 * check_faults_reference.c - the allocation-failure sweep's scenario
 * (STYLE 19) run with no fault: no QUOTA_ENOMEM, no allocation failed,
 * and no block left live once the context is freed (the counting
 * allocator itself is sane).  Every step's code is counted: blocked
 * accounts refused new business (issue 15, R25), bills were delivered
 * (R17), accounts were suspended (R18, in the full run) and events were
 * delivered.
 *
 * The scenario and its single and persistent sweeps are in check_faults.c
 * (the scenario itself in tests/support/faults_scenario.h), the R8 keyed
 * calls at a new hour in check_faults_keyed.c, the R23 auto-renewal sweep
 * in check_faults_renewal.c.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "faults_scenario.h"

static run R;

/* No ENOMEM and no leak when nothing fails, for a context used and freed
 * repeatedly (the counting allocator itself is sane). */
START_TEST(test_fault_free_run_no_leak)
{
	long count[32] = {0};
	int i;

	run_once(&R, MODE_REF, 0, scenario_days());
	for (i = 0; i < ref_nsteps; i++)
		if (ref_rc[i] <= 0 && ref_rc[i] > -32)
			count[-ref_rc[i]]++;
		else if (ref_rc[i] > 0) /* ticks: holds released */
			count[0]++;
	fprintf(stderr,
		"check_faults_reference: scenario of %d steps: %ld ok, %ld ECAP, "
		"%ld EEXHAUSTED, %ld ENOTFOUND, %ld ERESOLVED, %ld ESUSPENDED, "
		"%ld EFUNDS, %ld EPRUNED, %ld EBLOCKED, %ld EREVERSED, "
		"%ld EINVAL; %ld events (%ld hook failures); "
		"%ld bills, %ld CSV bytes\n",
		ref_nsteps, count[0], count[-QUOTA_ECAP],
		count[-QUOTA_EEXHAUSTED], count[-QUOTA_ENOTFOUND],
		count[-QUOTA_ERESOLVED], count[-QUOTA_ESUSPENDED],
		count[-QUOTA_EFUNDS], count[-QUOTA_EPRUNED],
		count[-QUOTA_EBLOCKED], count[-QUOTA_EREVERSED],
		count[-QUOTA_EINVAL], ref_events, ref_hook_failed, ref_bills,
		ref_report_bytes);
	ck_assert_int_eq(count[0] + count[-QUOTA_ECAP] +
				 count[-QUOTA_EEXHAUSTED] +
				 count[-QUOTA_ENOTFOUND] +
				 count[-QUOTA_ERESOLVED] +
				 count[-QUOTA_ESUSPENDED] +
				 count[-QUOTA_EFUNDS] + count[-QUOTA_EPRUNED] +
				 count[-QUOTA_EBLOCKED] +
				 count[-QUOTA_EREVERSED] + count[-QUOTA_EINVAL],
			 ref_nsteps);
	/* Issue 15: the blocked accounts refused new business (R25). */
	ck_assert_int_gt(count[-QUOTA_EBLOCKED], 0);
	ck_assert_int_gt(ref_bills, 0);
	if (!tu_quick()) /* the 8-day quick run ends before any suspension */
		ck_assert_int_gt(count[-QUOTA_ESUSPENDED], 0);
	ck_assert_int_gt(count[0], ref_nsteps * 3 / 4);
	ck_assert_int_gt(ref_events, 0);
	ck_assert_int_eq(R.enomem, 0);
	ck_assert_int_eq(R.al.failures, 0);
	ck_assert_int_gt((long)R.al.peak_bytes, 0);
}
END_TEST

static Suite *faults_reference_suite(void)
{
	Suite *s = suite_create("faults_reference");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_fault_free_run_no_leak);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_reference_suite());
}
