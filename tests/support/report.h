/*
 * report.h - what the usage report tests (R22) share (check_report.c:
 * the rows, check_report_csv.c: the CSV, check_report_errors.c: a
 * callback that stops, bad arguments and allocation failures): OK around
 * a call, quota_report's collector (coll, coll_fn, report) and
 * quota_report_csv's writer (sbuf, sbuf_write, csv, HEADER), a row
 * asserted field by field (expect_row), a charge, and the scenario of two
 * days' charges whose receipts are summed as they come (D1, scen,
 * scen_charge, scen_setup).  Include after <check.h>, "quota.h",
 * "testutil.h" and "fixtures.h".
 */
#ifndef QUOTA_TEST_REPORT_H
#define QUOTA_TEST_REPORT_H

#include <string.h>

#define OK(a, expr) TU_OK(quota_account_ctx(a), expr)

/* ------------------------------------------------------------ collectors */

#define MAXROWS 512

/* quota_report's callback: keeps the rows; returns stop_rc on row stop_at. */
typedef struct coll {
	int n;
	int stop_at;
	int stop_rc;
	quota_report_row rows[MAXROWS];
} coll;

static inline int coll_fn(const quota_report_row *r, void *ud)
{
	coll *c = ud;

	ck_assert_int_lt(c->n, MAXROWS);
	c->rows[c->n++] = *r;
	return c->stop_at && c->n == c->stop_at ? c->stop_rc : 0;
}

static inline int report(const quota_account *a, int period, int64_t from,
			 int64_t to, coll *c)
{
	memset(c, 0, sizeof *c);
	return quota_report(a, period, from, to, coll_fn, c);
}

/* quota_report_csv's writer: the text, one line per call checked, and a
 * failure (return fail_rc) on call fail_at. */
typedef struct sbuf {
	size_t n;
	int calls;
	int fail_at;
	int fail_rc;
	char s[65536];
} sbuf;

static inline int sbuf_write(const char *buf, size_t len, void *ud)
{
	sbuf *b = ud;

	b->calls++;
	if (b->fail_at && b->calls == b->fail_at)
		return b->fail_rc;
	/* A row at a time: one whole line per call. */
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(buf[len - 1], '\n');
	ck_assert_ptr_eq(memchr(buf, '\n', len), buf + len - 1);
	ck_assert_uint_lt(b->n + len, sizeof b->s);
	memcpy(b->s + b->n, buf, len);
	b->n += len;
	b->s[b->n] = '\0';
	return 0;
}

static inline int csv(const quota_account *a, int period, int64_t from,
		      int64_t to, sbuf *b)
{
	memset(b, 0, sizeof *b);
	return quota_report_csv(a, period, from, to, sbuf_write, b);
}

#define HEADER \
	"account,period,start,end,category,source,package,units,cost_micros\n"

static inline void expect_row(const quota_report_row *r, const quota_account *a,
			      int period, int64_t start, int64_t end,
			      uint32_t cat, int32_t source,
			      const quota_package *pk, int64_t units,
			      int64_t cost)
{
	ck_assert_ptr_eq(r->account, a);
	ck_assert_int_eq(r->period, period);
	ck_assert_int_eq(r->start, start);
	ck_assert_int_eq(r->end, end);
	ck_assert_uint_eq(r->category, cat);
	ck_assert_int_eq(r->source, source);
	ck_assert_ptr_eq(r->package, pk);
	ck_assert_int_eq(r->units, units);
	ck_assert_int_eq(r->cost_micros, cost);
}

static inline int64_t charge(quota_account *a, uint32_t cat, int64_t units,
			     int64_t at, const char *key, quota_receipt *r)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};

	OK(a, quota_charge(a, &u, r));
	return r->units;
}

/* ------------------------------------------------------------- scenario */

/*
 * An account with a monthly free allowance of 10 sms, two sms packages
 * (B added first, A expiring sooner so it burns first, R3), sms
 * pay-as-you-go at 0.02 and mail with no tariff; charges over two days.
 * Receipts are summed per category and source as they come.
 */
#define D1 tu_utc(2024, 5, 1, 0, 0, 0)

typedef struct scen {
	quota_ctx *c;
	quota_account *a;
	uint32_t sms, mail;
	quota_package *pa, *pb;
	int64_t free[2], pkg[2], payg[2], cost[2];
	int64_t pk_a, pk_b; /* receipt units per package */
} scen;

static inline void scen_charge(scen *s, uint32_t cat, int64_t units, int64_t at)
{
	quota_receipt r;
	uint32_t i;

	charge(s->a, cat, units, at, NULL, &r);
	s->free[cat] += r.free_units;
	s->pkg[cat] += r.package_units;
	s->payg[cat] += r.payg_units;
	s->cost[cat] += r.payg_cost_micros;
	for (i = 0; i < r.nlines; i++) {
		if (r.lines[i].package == s->pa)
			s->pk_a += r.lines[i].units;
		if (r.lines[i].package == s->pb)
			s->pk_b += r.lines[i].units;
	}
}

static inline void scen_setup(scen *s, const quota_allocator *al)
{
	quota_tariff *t = NULL;

	memset(s, 0, sizeof *s);
	ck_assert_int_eq(quota_ctx_new_with(al, &s->c), QUOTA_OK);
	s->sms = add_cat(s->c, "sms");
	s->mail = add_cat(s->c, "mail");
	ck_assert_uint_eq(s->sms, 0);
	ck_assert_uint_eq(s->mail, 1);
	s->a = add_acct(s->c, "acme");
	ck_assert_int_eq(quota_tariff_new(s->c, "std", &t), QUOTA_OK);
	OK(s->a, quota_tariff_set_free(t, 10, QUOTA_PERIOD_MONTH));
	OK(s->a, quota_tariff_add_tier(t, QUOTA_UNLIMITED, 20000));
	OK(s->a, quota_account_set_tariff(s->a, s->sms, t));
	s->pb = add_pkg(s->a, "B", QUOTA_MASK(s->sms), 50, D1 - 10 * TU_DAY,
			D1 + 60 * TU_DAY, 0, 0);
	s->pa = add_pkg(s->a, "A", QUOTA_MASK(s->sms), 100, D1 - 10 * TU_DAY,
			D1 + 30 * TU_DAY, 0, 0);
	scen_charge(s, s->sms, 4, D1 + 9 * TU_HOUR + 600);     /* free 4 */
	scen_charge(s, s->sms, 10, D1 + 9 * TU_HOUR + 3000);   /* free 6, A 4 */
	scen_charge(s, s->sms, 96, D1 + 10 * TU_HOUR + 300);   /* A 96 */
	scen_charge(s, s->mail, 3, D1 + 11 * TU_HOUR);         /* payg 3, 0 */
	scen_charge(s, s->sms, 60, D1 + 13 * TU_HOUR);         /* B 50, payg 10 */
	scen_charge(s, s->sms, 5, D1 + TU_DAY + 8 * TU_HOUR);  /* payg 5 */
	/* What the receipts said, by hand, so the sums below mean something. */
	ck_assert_int_eq(s->free[s->sms], 10);
	ck_assert_int_eq(s->pk_a, 100);
	ck_assert_int_eq(s->pk_b, 50);
	ck_assert_int_eq(s->payg[s->sms], 15);
	ck_assert_int_eq(s->cost[s->sms], 300000);
	ck_assert_int_eq(s->payg[s->mail], 3);
	ck_assert_int_eq(s->cost[s->mail], 0);
}

#endif /* QUOTA_TEST_REPORT_H */
