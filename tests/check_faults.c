/*
 * check_faults.c - allocation-failure sweep (STYLE 19).
 *
 * A scripted scenario (context, categories, tiered tariffs, accounts,
 * packages, caps, charges over several days and months so the period
 * counter tables grow, late reports, quotes) is run with allocation N
 * failing, for N = 1, 2, ... until the scenario runs without reaching N:
 *
 *   - single: only the Nth allocation fails; the call that hit it must
 *     fail with QUOTA_ENOMEM (with a message) leaving its objects'
 *     observable state unchanged, and is then retried.  Every other call
 *     returns what it returned in a run without faults, with the same
 *     receipt, and the final state equals that run's.
 *   - persistent: every allocation from the Nth on fails; the scenario
 *     stops at the first QUOTA_ENOMEM (state unchanged).
 *
 * Either way quota_ctx_free() must then leave zero live blocks.
 *
 * Issue 4: the scenario also makes keyed charges and their replays,
 * reservations (keyed or not) committed in part, released (with a failure
 * fee) or left to time out, account and context ticks, reversals, small
 * key windows (keys forgotten), an event hook (failing every third event),
 * low-quota alerts and expiry warnings.  A call that fails with
 * QUOTA_ENOMEM stores no key (its retry is not a replay), takes no hold id
 * and delivers no event: the run's events equal the fault-free run's.
 *
 * Issue 5: a catalog offer, top-ups and credit limits, package purchases,
 * hourly and daily settlements (some accounts get suspended and resumed),
 * and CSV reports.  The bills a run delivers and the CSV bytes it writes
 * equal the fault-free run's; snapshots include the account's money.
 *
 * Issue 13: pruning (quota_account_prune) now and then, after which late
 * charges and reports reaching before the horizon are refused alike.
 *
 * Issue 15 (r25_r27_steps): per-reason failure fees on a tariff, kept
 * receipts, reversals by receipt id (of a charge and of a commit),
 * releases with a reason, and blocking: a blocked account refuses
 * charges, quotes, reservations and purchases (QUOTA_EBLOCKED) while a
 * hold taken before is committed, top-ups and settlement go on; then it
 * is unblocked.
 *
 * R26: the context loads Europe/Berlin from the system's tz database and
 * two accounts follow it, across its spring-forward day.
 *
 * The R8 sweep of keyed calls at a new hour went to check_faults_keyed.c,
 * the R23 auto-renewal sweep to check_faults_renewal.c; the three share
 * no helpers.  The fault-free run (no QUOTA_ENOMEM, no leak, the
 * scenario's codes counted) went to check_faults_reference.c; it and this
 * file share the scenario (tests/support/faults_world.h and
 * faults_scenario.h).
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "faults_scenario.h"

static run R;

START_TEST(test_fault_sweep_single_failure)
{
	long n, total, surfaced = 0;

	run_once(&R, MODE_REF, 0, scenario_days());
	total = R.al.attempts;
	ck_assert_int_gt(total, 30);
	for (n = 1;; n++) {
		long failed = run_once(&R, MODE_SINGLE, n, scenario_days());

		if (failed == 0)
			break;
		ck_assert_int_eq(failed, 1);
		ck_assert_int_le(R.enomem, 1);
		surfaced += R.enomem;
		ck_assert_int_le(n, total + 1);
	}
	ck_assert_int_eq(n, total + 1);
	fprintf(stderr,
		"check_faults: single: %ld allocations, %ld failures "
		"surfaced as QUOTA_ENOMEM, %d steps\n",
		total, surfaced, ref_nsteps);
}
END_TEST

START_TEST(test_fault_sweep_persistent_failure)
{
	long n, total, stopped = 0;

	run_once(&R, MODE_REF, 0, scenario_days());
	total = R.al.attempts;
	for (n = 1;; n++) {
		long failed = run_once(&R, MODE_PERSISTENT, n, scenario_days());

		if (failed == 0)
			break;
		stopped += R.aborted;
		ck_assert_int_le(n, total + 1);
	}
	ck_assert_int_eq(n, total + 1);
	fprintf(stderr,
		"check_faults: persistent: %ld allocations, %ld runs "
		"stopped by QUOTA_ENOMEM\n",
		total, stopped);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_fault_sweep_single_failure);
	tcase_add_test(tc, test_fault_sweep_persistent_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_suite());
}
