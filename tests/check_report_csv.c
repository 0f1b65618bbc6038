/*
 * check_report_csv.c - usage reports (R22) as CSV: quota_report_csv and
 * quota_report_csv_file, their exact text (RFC 4180 quoting, one write a
 * row, the longest fields), UTC offsets with minutes and seconds, and a
 * writer or a stream that fails.  Each test name cites R22.
 *
 * The rows and the rules they follow are in check_report.c, a callback
 * that stops, bad arguments and allocation failures in
 * check_report_errors.c; the helpers the three share in
 * support/report.h.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "report.h"

/* ------------------------------------------------------------------ R22 */

/* Offsets west of UTC, with minutes, and with seconds. */
START_TEST(test_r22_csv_offsets_with_minutes_and_seconds)
{
	static const struct {
		int32_t off;
		const char *id;
		const char *want;
	} cases[] = {
		{0, "utc",
		 "utc,hour,2024-05-01T12:00:00+00:00,"
		 "2024-05-01T13:00:00+00:00,sms,payg,,1,0\n"},
		{-12600, "nfld", /* 08:30 local: the 08:00 hour */
		 "nfld,hour,2024-05-01T08:00:00-03:30,"
		 "2024-05-01T09:00:00-03:30,sms,payg,,1,0\n"},
		{20700, "npt",
		 "npt,hour,2024-05-01T17:00:00+05:45,"
		 "2024-05-01T18:00:00+05:45,sms,payg,,1,0\n"},
		{3661, "odd",
		 "odd,hour,2024-05-01T13:00:00+01:01:01,"
		 "2024-05-01T14:00:00+01:01:01,sms,payg,,1,0\n"},
		{-18 * 3600, "w18",
		 "w18,day,2024-04-30T00:00:00-18:00,"
		 "2024-05-01T00:00:00-18:00,sms,payg,,1,0\n"},
	};
	int64_t at = tu_utc(2024, 5, 1, 12, 0, 0);
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		quota_account *a = add_acct(ctx, cases[i].id);
		int period = cases[i].off == -18 * 3600 ? QUOTA_PERIOD_DAY
							 : QUOTA_PERIOD_HOUR;
		quota_receipt r;
		char want[512];
		coll c;
		sbuf b;

		OK(a, quota_account_set_utc_offset(a, cases[i].off));
		charge(a, sms, 1, at, NULL, &r);
		OK(a, report(a, period, at - TU_DAY, at + TU_DAY, &c));
		ck_assert_int_eq(c.n, 1);
		ck_assert_int_le(c.rows[0].start, at);
		ck_assert_int_gt(c.rows[0].end, at);
		ck_assert_int_eq(c.rows[0].end - c.rows[0].start,
				 period == QUOTA_PERIOD_DAY ? TU_DAY : TU_HOUR);
		/* The local period starts on a local hour (or day). */
		ck_assert_int_eq(
			(c.rows[0].start + cases[i].off) %
				(period == QUOTA_PERIOD_DAY ? TU_DAY : TU_HOUR),
			0);
		OK(a, csv(a, period, at - TU_DAY, at + TU_DAY, &b));
		snprintf(want, sizeof want, "%s%s", HEADER, cases[i].want);
		ck_assert_str_eq(b.s, want);
	}
	quota_ctx_free(ctx);
}
END_TEST

/*
 * The exact CSV of a small case: fields with a comma, a quote or a line
 * break are quoted (RFC 4180) with quotes doubled; one write per line.
 */
START_TEST(test_r22_csv_exact_text_and_quoting)
{
	quota_ctx *ctx = new_ctx();
	uint32_t sms = add_cat(ctx, "sms");
	uint32_t rich = add_cat(ctx, "rich,\"click\"");
	quota_account *a = add_acct(ctx, "a,\"b\"");
	quota_account *lf = add_acct(ctx, "line\r\nbreak");
	quota_tariff *t = add_tariff(ctx, "t");
	int64_t T = tu_utc(2024, 5, 1, 9, 0, 0);
	int64_t day = tu_utc(2024, 5, 1, 0, 0, 0);
	quota_receipt r;
	sbuf b;

	OK(a, quota_tariff_set_free(t, 2, QUOTA_PERIOD_DAY));
	OK(a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 10000));
	OK(a, quota_account_set_tariff(a, sms, t));
	add_pkg(a, "p,1", QUOTA_MASK(sms), 3, T - TU_DAY, T + TU_DAY, 0, 0);
	charge(a, sms, 5, T, NULL, &r);       /* free 2, p,1 3 */
	charge(a, sms, 4, T + 60, NULL, &r);  /* payg 4 */
	charge(a, rich, 1, T + 120, NULL, &r); /* payg 1, no tariff */

	OK(a, csv(a, QUOTA_PERIOD_DAY, day, day + TU_DAY, &b));
	ck_assert_str_eq(b.s,
		"account,period,start,end,category,source,package,units,"
		"cost_micros\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,free,,2,0\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,package,\"p,1\",3,0\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,sms,payg,,4,40000\n"
		"\"a,\"\"b\"\"\",day,2024-05-01T00:00:00+00:00,"
		"2024-05-02T00:00:00+00:00,\"rich,\"\"click\"\"\",payg,,1,0\n");
	ck_assert_int_eq(b.calls, 5); /* the header, then a row at a time */

	/* CR LF inside a field is quoted, not a line end (the writer sees
	 * one call per row, so its one-line check is skipped here). */
	charge(lf, sms, 7, T, NULL, &r);
	memset(&b, 0, sizeof b);
	{
		FILE *f = tmpfile();
		char got[1024];
		size_t n;

		ck_assert_ptr_nonnull(f);
		OK(lf, quota_report_csv_file(lf, QUOTA_PERIOD_HOUR, day,
					     day + TU_DAY, f));
		rewind(f);
		n = fread(got, 1, sizeof got - 1, f);
		got[n] = '\0';
		fclose(f);
		ck_assert_str_eq(got,
			HEADER
			"\"line\r\nbreak\",hour,2024-05-01T09:00:00+00:00,"
			"2024-05-01T10:00:00+00:00,sms,payg,,7,0\n");
	}

	/* No usage in the range: the header alone. */
	OK(a, csv(a, QUOTA_PERIOD_MONTH, day - 60 * TU_DAY, day, &b));
	ck_assert_str_eq(b.s, HEADER);
	ck_assert_int_eq(b.calls, 1);
	quota_ctx_free(ctx);
}
END_TEST

/*
 * The longest fields, every byte a quote (so every byte doubled): still
 * one whole line per write (sbuf_write checks), quoted right.
 */
START_TEST(test_r22_csv_longest_fields_one_write_per_row)
{
	char acct[QUOTA_ID_MAX + 1], cat[QUOTA_CATEGORY_NAME_MAX + 1];
	char pkg[QUOTA_ID_MAX + 1], want[2048], *p = want;
	quota_ctx *ctx = new_ctx();
	quota_account *a;
	uint32_t c;
	int64_t T = tu_utc(2024, 5, 2, 9, 0, 0); /* May 1 local */
	quota_receipt r;
	sbuf b;
	int i;

	memset(acct, '"', QUOTA_ID_MAX);
	acct[QUOTA_ID_MAX] = '\0';
	memset(pkg, '"', QUOTA_ID_MAX);
	pkg[QUOTA_ID_MAX] = '\0';
	pkg[0] = ','; /* differs from the account id */
	memset(cat, '"', QUOTA_CATEGORY_NAME_MAX);
	cat[QUOTA_CATEGORY_NAME_MAX] = '\0';
	c = add_cat(ctx, cat);
	a = add_acct(ctx, acct);
	OK(a, quota_account_set_utc_offset(a, -(12 * 3600 + 34 * 60 + 56)));
	add_pkg(a, pkg, QUOTA_MASK(c), INT64_C(1000000000000000000),
		T - TU_DAY, T + TU_DAY, 0, 0);
	charge(a, c, INT64_C(999999999999999999), T, NULL, &r);
	OK(a, csv(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN, QUOTA_TIME_MAX, &b));
	ck_assert_int_eq(b.calls, 2);

	p += sprintf(p, "%s\"", HEADER);
	for (i = 0; i < QUOTA_ID_MAX; i++)
		p += sprintf(p, "\"\"");
	p += sprintf(p, "\",month,2024-05-01T00:00:00-12:34:56,"
		     "2024-06-01T00:00:00-12:34:56,\"");
	for (i = 0; i < QUOTA_CATEGORY_NAME_MAX; i++)
		p += sprintf(p, "\"\"");
	p += sprintf(p, "\",package,\",");
	for (i = 1; i < QUOTA_ID_MAX; i++)
		p += sprintf(p, "\"\"");
	sprintf(p, "\",999999999999999999,0\n");
	ck_assert_str_eq(b.s, want);
	quota_ctx_free(ctx);
}
END_TEST

/* A writer that fails stops the CSV at once: QUOTA_ESTORE. */
START_TEST(test_r22_csv_writer_failure_is_estore)
{
	scen s;
	sbuf b;
	int k;

	scen_setup(&s, NULL);
	for (k = 1; k <= 7; k++) {
		memset(&b, 0, sizeof b);
		b.fail_at = k;
		b.fail_rc = k == 3 ? QUOTA_EINVAL : 1; /* any non-zero */
		ck_assert_int_eq(quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1,
						  D1 + 2 * TU_DAY, sbuf_write,
						  &b),
				 QUOTA_ESTORE);
		ck_assert_int_eq(b.calls, k); /* nothing after the failure */
		ck_assert_str_ne(quota_errmsg(s.c), "");
	}
	/* Header + 6 rows: a failure on call 8 is never reached. */
	memset(&b, 0, sizeof b);
	b.fail_at = 8;
	OK(s.a, quota_report_csv(s.a, QUOTA_PERIOD_DAY, D1, D1 + 2 * TU_DAY,
				 sbuf_write, &b));
	ck_assert_int_eq(b.calls, 7);
	quota_ctx_free(s.c);
}
END_TEST

/* quota_report_csv_file: the same text as the writer; a stream that
 * cannot be written is QUOTA_ESTORE. */
START_TEST(test_r22_csv_file_round_trip_and_write_errors)
{
	scen s;
	sbuf b;
	FILE *f;
	char *got;
	size_t n;

	scen_setup(&s, NULL);
	OK(s.a, csv(s.a, QUOTA_PERIOD_HOUR, D1, D1 + 2 * TU_DAY, &b));
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	OK(s.a, quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR, D1,
				      D1 + 2 * TU_DAY, f));
	rewind(f);
	got = calloc(1, sizeof b.s);
	ck_assert_ptr_nonnull(got);
	n = fread(got, 1, sizeof b.s - 1, f);
	fclose(f);
	ck_assert_uint_eq(n, b.n);
	ck_assert_str_eq(got, b.s);
	free(got);
	ck_assert_ptr_nonnull(strstr(b.s, "acme,hour,2024-05-01T13:00:00+00:00,"
				     "2024-05-01T14:00:00+00:00,sms,payg,,"
				     "10,200000\n"));

	/* A stream open for reading: fwrite fails. */
	f = fopen("/dev/null", "r");
	if (f) {
		ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR,
						       D1, D1 + 2 * TU_DAY,
						       f),
				 QUOTA_ESTORE);
		ck_assert_str_ne(quota_errmsg(s.c), "");
		fclose(f);
	}
	/* A full device: buffered writes succeed, the flush fails. */
	f = fopen("/dev/full", "w");
	if (f) {
		ck_assert_int_eq(quota_report_csv_file(s.a, QUOTA_PERIOD_HOUR,
						       D1, D1 + 2 * TU_DAY,
						       f),
				 QUOTA_ESTORE);
		fclose(f);
	}
	quota_ctx_free(s.c);
}
END_TEST

static Suite *report_csv_suite(void)
{
	Suite *s = suite_create("report_csv");
	TCase *csvt = tcase_create("r22_csv");

	tcase_add_test(csvt, test_r22_csv_offsets_with_minutes_and_seconds);
	tcase_add_test(csvt, test_r22_csv_exact_text_and_quoting);
	tcase_add_test(csvt, test_r22_csv_longest_fields_one_write_per_row);
	tcase_add_test(csvt, test_r22_csv_writer_failure_is_estore);
	tcase_add_test(csvt, test_r22_csv_file_round_trip_and_write_errors);
	suite_add_tcase(s, csvt);
	return s;
}

int main(void)
{
	return tu_run(report_csv_suite());
}
