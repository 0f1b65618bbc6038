/*
 * check_report_errors.c - usage reports (R22) that fail: a callback that
 * stops the report, bad arguments to quota_report, quota_report_csv and
 * quota_report_csv_file, and allocation failure N for every N (STYLE
 * 19).  Each test name cites R22.
 *
 * The rows and the rules they follow are in check_report.c, the CSV in
 * check_report_csv.c; the helpers the three share in support/report.h.
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "report.h"

/* ------------------------------------------------------------------ R22 */

/* A callback returning non-zero stops the report: QUOTA_ESTORE. */
START_TEST(test_r22_callback_stop_is_estore)
{
	scen s;
	coll c;

	scen_setup(&s, NULL);
	memset(&c, 0, sizeof c);
	c.stop_at = 2;
	c.stop_rc = 1;
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1,
				      D1 + 2 * TU_DAY, coll_fn, &c),
			 QUOTA_ESTORE);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	/* A QUOTA_ code from the callback is ESTORE too. */
	memset(&c, 0, sizeof c);
	c.stop_at = 1;
	c.stop_rc = QUOTA_ENOTFOUND;
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_HOUR, D1,
				      D1 + 2 * TU_DAY, coll_fn, &c),
			 QUOTA_ESTORE);
	ck_assert_int_eq(c.n, 1);
	/* The next call succeeds and clears the message. */
	OK(s.a, report(s.a, QUOTA_PERIOD_HOUR, D1, D1 + 2 * TU_DAY, &c));
	ck_assert_int_eq(c.n, 7);
	ck_assert_str_eq(quota_errmsg(s.c), "");
	quota_ctx_free(s.c);
}
END_TEST

/* Bad arguments: EINVAL with a message, no callback, no writer call. */
START_TEST(test_r22_bad_input_einval)
{
	static const int bad_periods[] = {QUOTA_PERIOD_LIFETIME, 0, -1, 5, 99};
	scen s;
	coll c;
	sbuf b;
	size_t i;
	FILE *f;

	scen_setup(&s, NULL);
	memset(&c, 0, sizeof c);
	memset(&b, 0, sizeof b);
	ck_assert_int_eq(quota_report(NULL, QUOTA_PERIOD_DAY, D1, D1 + 1,
				      coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv(NULL, QUOTA_PERIOD_DAY, D1, D1 + 1,
					  sbuf_write, &b),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv_file(NULL, QUOTA_PERIOD_DAY, D1,
					       D1 + 1, stdout),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv_file(NULL, QUOTA_PERIOD_DAY, D1,
					       D1 + 1, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1, D1 + TU_DAY,
				      NULL, &c),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1,
					  D1 + TU_DAY, NULL, &b),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_DAY, D1,
					       D1 + TU_DAY, NULL),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	for (i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++) {
		ck_assert_int_eq(quota_report(s.a, bad_periods[i], D1,
					      D1 + TU_DAY, coll_fn, &c),
				 QUOTA_EINVAL);
		ck_assert_str_ne(quota_errmsg(s.c), "");
		ck_assert_int_eq(quota_report_csv(s.a, bad_periods[i], D1,
						  D1 + TU_DAY, sbuf_write, &b),
				 QUOTA_EINVAL);
	}
	/* from >= to, and times out of range. */
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1, D1, coll_fn,
				      &c),
			 QUOTA_EINVAL);
	ck_assert_str_ne(quota_errmsg(s.c), "");
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1 + 1, D1,
				      coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_HOUR, D1, D1 - 5,
					  sbuf_write, &b),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY,
				      QUOTA_TIME_MIN - 1, D1, coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, D1,
				      QUOTA_TIME_MAX + 1, coll_fn, &c),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_report(s.a, QUOTA_PERIOD_DAY, INT64_MIN,
				      INT64_MAX, coll_fn, &c),
			 QUOTA_EINVAL);
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_LIFETIME, D1,
					       D1 + TU_DAY, f),
			 QUOTA_EINVAL);
	ck_assert_int_eq(ftell(f), 0); /* not even the header */
	fclose(f);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(b.calls, 0);
	/* to is exclusive: QUOTA_TIME_MAX itself is a valid end. */
	OK(s.a, report(s.a, QUOTA_PERIOD_DAY, QUOTA_TIME_MIN, QUOTA_TIME_MAX,
		       &c));
	ck_assert_int_eq(c.n, 6);
	quota_ctx_free(s.c);
}
END_TEST

/*
 * Fault injection (STYLE 19): fail allocation N of a report for every N
 * until it succeeds; each failure is QUOTA_ENOMEM before any row or
 * header went out, and nothing leaks.
 */
START_TEST(test_r22_allocation_failure_sweep)
{
	static const int periods[] = {QUOTA_PERIOD_HOUR, QUOTA_PERIOD_DAY,
				      QUOTA_PERIOD_MONTH};
	tu_alloc al;
	scen s;
	coll c, ref;
	sbuf b, bref;
	size_t p;
	long n;

	tu_alloc_init(&al);
	scen_setup(&s, &al.a);
	for (p = 0; p < 3; p++) {
		long failures = 0;

		OK(s.a, report(s.a, periods[p], D1, D1 + 2 * TU_DAY, &ref));
		for (n = 1;; n++) {
			int rc;

			ck_assert_int_lt(n, 100);
			memset(&c, 0, sizeof c);
			tu_alloc_fail_in(&al, n);
			rc = quota_report(s.a, periods[p], D1, D1 + 2 * TU_DAY,
					  coll_fn, &c);
			tu_alloc_disarm(&al);
			if (rc == QUOTA_OK)
				break;
			failures++;
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			ck_assert_int_eq(c.n, 0);
			ck_assert_str_ne(quota_errmsg(s.c), "");
		}
		ck_assert_int_gt(failures, 0);
		ck_assert_int_eq(c.n, ref.n);
		for (n = 0; n < ref.n; n++) {
			const quota_report_row *x = &ref.rows[n];

			expect_row(&c.rows[n], x->account, x->period, x->start,
				   x->end, x->category, x->source, x->package,
				   x->units, x->cost_micros);
		}

		OK(s.a, csv(s.a, periods[p], D1, D1 + 2 * TU_DAY, &bref));
		for (n = 1;; n++) {
			int rc;

			ck_assert_int_lt(n, 100);
			memset(&b, 0, sizeof b);
			tu_alloc_fail_in(&al, n);
			rc = quota_report_csv(s.a, periods[p], D1,
					      D1 + 2 * TU_DAY, sbuf_write, &b);
			tu_alloc_disarm(&al);
			if (rc == QUOTA_OK)
				break;
			ck_assert_int_eq(rc, QUOTA_ENOMEM);
			ck_assert_int_eq(b.calls, 0); /* not even the header */
		}
		ck_assert_str_eq(b.s, bref.s);
	}
	/* No usage: nothing to allocate. */
	tu_alloc_fail_all(&al);
	OK(s.a, report(s.a, QUOTA_PERIOD_DAY, D1 - TU_DAY, D1, &c));
	ck_assert_int_eq(c.n, 0);
	tu_alloc_disarm(&al);
	quota_ctx_free(s.c);
	ck_assert_int_eq(al.live_blocks, 0);
	ck_assert_uint_eq(al.live_bytes, 0);
	ck_assert_int_eq(al.bad_frees, 0);
}
END_TEST

static Suite *report_errors_suite(void)
{
	Suite *s = suite_create("report_errors");
	TCase *errs = tcase_create("r22_errors");

	tcase_add_test(errs, test_r22_callback_stop_is_estore);
	tcase_add_test(errs, test_r22_bad_input_einval);
	tcase_add_test(errs, test_r22_allocation_failure_sweep);
	suite_add_tcase(s, errs);
	return s;
}

int main(void)
{
	return tu_run(report_errors_suite());
}
