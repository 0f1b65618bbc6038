/*
 * check_journal_fuzz.c - reproductions of what tests/fuzz/fuzz_journal.c
 * found in the record decoder (quota_journal_apply), as small tests on
 * the recorded workload of tests/support/journal_world.h.
 *
 * They failed before the library was fixed and guard against the defects
 * coming back (test_header_clock_and_id: what an adversarial test built
 * by hand from quota_journal(5)).
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "codec.h"
#include "testutil.h"
#include "journal_world.h"

#define FRAME 8

static jw_log wl;

static void workload(void)
{
	jw_world w;
	quota_ctx *c;
	int steps = 0;

	jw_log_free(&wl); /* a failed test (no fork) may have left one */
	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	jw_record(c, &wl);
	jw_setup(&w, c, 7);
	while (wl.n < 400 && steps++ < 2000)
		(void)jw_step(&w);
	quota_ctx_free(c);
}

/* A context with records [0, n) of the workload applied. */
static quota_ctx *ctx_at(size_t n)
{
	quota_ctx *c;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	tu_journal_skip(c);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(quota_journal_apply(c, wl.r[i].p, wl.r[i].n,
						     QUOTA_JOURNAL_CHECK), 0);
	return c;
}

static void seal(unsigned char *p, size_t n)
{
	uint32_t body = (uint32_t)(n - FRAME);
	uint32_t crc = quota__crc32c(0, p + FRAME, body);

	for (int k = 0; k < 4; k++) {
		p[k] = (unsigned char)(body >> (8 * k));
		p[4 + k] = (unsigned char)(crc >> (8 * k));
	}
}

static void *snap(quota_ctx *c, const char *id, size_t *n)
{
	quota_account *a;
	void *s, *copy;

	ck_assert_int_eq(quota_account_find(c, id, &a), 0);
	ck_assert_int_eq(quota_account_snapshot(a, &s, n), 0);
	copy = malloc(*n);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, *n);
	quota_free(c, s);
	return copy;
}

/* 1: refused, yet settled. */
START_TEST(test_settle_trailing_byte)
{
	size_t i, n0, n1;
	unsigned char *p;
	void *s0, *s1;
	quota_ctx *c;
	int rc, tried = 0;

	workload();
	for (i = 0; i < wl.n && tried < 3; i++) {
		const jw_rec *r = &wl.r[i];

		if (!r->account || r->p[FRAME + 2] != 12) /* QUOTA__R_SETTLE */
			continue;
		tried++;
		c = ctx_at(i);
		p = malloc(r->n + 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, r->p, r->n);
		p[r->n] = 0; /* one byte more, CRC resealed */
		seal(p, r->n + 1);
		s0 = snap(c, r->account, &n0);
		rc = quota_journal_apply(c, p, r->n + 1, 0);
		ck_assert_int_eq(rc, QUOTA_ECORRUPT);
		s1 = snap(c, r->account, &n1);
		ck_assert_msg(n0 == n1 && memcmp(s0, s1, n0) == 0,
			      "record %zu (settle of '%s') refused with a "
			      "trailing byte, but the account changed: %s",
			      i, r->account, quota_errmsg(c));
		free(s0);
		free(s1);
		free(p);
		quota_ctx_free(c);
	}
	ck_assert_int_gt(tried, 0);
	jw_log_free(&wl);
}
END_TEST

/* 2: a key no call accepts, accepted by replay; the snapshot is then
 * refused. */
START_TEST(test_key_not_utf8)
{
	size_t i;
	int tried = 0;

	workload();
	for (i = 0; i < wl.n && !tried; i++) {
		const jw_rec *r = &wl.r[i];
		quota__rbuf x = {r->p, r->n, FRAME + 3, false};
		char id[QUOTA_ID_MAX + 1], key[QUOTA_KEY_MAX + 1];
		quota_account *a, *b;
		quota_ctx *c, *other;
		unsigned char *p;
		size_t n, koff;
		void *s;
		int rc;

		if (!r->account || r->p[FRAME + 2] != 2) /* QUOTA__R_CHARGE */
			continue;
		(void)quota__get_uv(&x);                   /* seq */
		quota__get_str(&x, id, QUOTA_ID_MAX);     /* account */
		(void)quota__get_sv(&x);                   /* clock */
		(void)quota__get_uv(&x);                   /* category */
		(void)quota__get_sv(&x);                   /* units */
		(void)quota__get_sv(&x);                   /* at */
		koff = x.off + 1;                          /* key's first byte */
		if (!quota__get_str(&x, key, QUOTA_KEY_MAX))
			continue; /* no key */
		tried = 1;
		p = malloc(r->n);
		ck_assert_ptr_nonnull(p);
		memcpy(p, r->p, r->n);
		p[koff] = 0x89; /* a lone continuation byte */
		seal(p, r->n);
		/* What a live call says of such a key. */
		c = ctx_at(i);
		key[0] = (char)0x89;
		{
			quota_usage u = {.category = 0, .units = 1, .at = JW_T0,
					 .key = key};
			quota_receipt rr;

			ck_assert_int_eq(quota_account_find(c, r->account, &a), 0);
			ck_assert_int_eq(quota_charge(a, &u, &rr),
					 QUOTA_EENCODING);
		}
		rc = quota_journal_apply(c, p, r->n, QUOTA_JOURNAL_CHECK);
		if (rc == QUOTA_OK) {
			/* Accepted: then its snapshot must at least load. */
			ck_assert_int_eq(quota_ctx_new(&other), QUOTA_OK);
			tu_journal_skip(other);
			for (size_t j = 0; j < i; j++)
				if (!wl.r[j].account)
					ck_assert_int_eq(quota_journal_apply(
						other, wl.r[j].p, wl.r[j].n, 0), 0);
			s = snap(c, r->account, &n);
			rc = quota_account_load(other, s, n, &b);
			ck_assert_msg(rc == QUOTA_OK,
				      "record %zu: a charge keyed with invalid "
				      "UTF-8 was applied in check mode; the "
				      "account's snapshot then does not load: "
				      "%s: %s",
				      i, quota_err_name(rc), quota_errmsg(other));
			free(s);
			quota_ctx_free(other);
			ck_abort_msg("record %zu: a charge keyed with invalid "
				     "UTF-8 was applied in check mode; live "
				     "calls refuse the key (QUOTA_EENCODING)",
				     i);
		}
		ck_assert_int_eq(rc, QUOTA_ECORRUPT);
		free(p);
		quota_ctx_free(c);
	}
	ck_assert_int_eq(tried, 1);
	jw_log_free(&wl);
}
END_TEST

/* §5: records and snapshots carry CRC-32C (Castagnoli).  Its check
 * value (CRC of "123456789" is 0xE3069283), then the table and the crc32
 * instruction (when the processor has one), from the start, in line with
 * room to read past the end, and continued from a split, agree on every
 * length around the 8-byte words. */
/* CRC-32C a byte a step with the table, independent of quota__crc_run's
 * words and tails (issue 10 reads a record's last bytes with one load). */
static uint32_t ref_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	size_t i;

	for (i = 0; i < n; i++)
		c = quota__crc_tab[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return ~c;
}

/* 3: headers quota_journal(5) rules out, each refused (QUOTA_ECORRUPT)
 * with nothing applied, by quota_journal_peek as by quota_journal_apply:
 * a configuration record whose clock is not 0, an account's first record
 * whose clock is not "before any time" (INT64_MIN), an account id that is
 * not UTF-8.  All three were taken. */
static void refused_header(size_t i, size_t at, unsigned char to)
{
	const jw_rec *r = &wl.r[i];
	unsigned char *p = malloc(r->n);
	char id[QUOTA_ID_MAX + 1];
	uint64_t seq, cfg;
	quota_account *a;
	quota_ctx *c = ctx_at(i);
	int rc;

	ck_assert_ptr_nonnull(p);
	memcpy(p, r->p, r->n);
	p[at] = to;
	seal(p, r->n);
	cfg = quota_ctx_config_seq(c);
	ck_assert_int_eq(quota_journal_peek(c, p, r->n, id, &seq),
			 QUOTA_ECORRUPT);
	rc = quota_journal_apply(c, p, r->n, QUOTA_JOURNAL_CHECK);
	ck_assert_msg(rc == QUOTA_ECORRUPT, "record %zu byte %zu: %s: %s", i,
		      at, quota_err_name(rc), quota_errmsg(c));
	ck_assert_uint_eq(quota_ctx_config_seq(c), cfg);
	if (r->account)
		ck_assert_int_eq(quota_account_find(c, r->account, &a),
				 QUOTA_ENOTFOUND);
	/* the record as it was applies */
	ck_assert_int_eq(quota_journal_apply(c, r->p, r->n, 0), QUOTA_OK);
	free(p);
	quota_ctx_free(c);
}

START_TEST(test_header_clock_and_id)
{
	size_t i, cfg = 0, acct = 0;
	int found = 0;

	workload();
	for (i = 0; i < wl.n && found != 3; i++) {
		const jw_rec *r = &wl.r[i];

		/* frame, 01 01 op, a one-byte sequence number */
		if (r->p[FRAME + 3] >= 0x80)
			continue;
		if (!r->account && !(found & 1)) {
			cfg = i;
			found |= 1;
		} else if (r->account && r->p[FRAME + 2] == 1 &&
			   !(found & 2)) { /* an account's creation */
			acct = i;
			found |= 2;
		}
	}
	ck_assert_int_eq(found, 3);
	/* configuration: empty id (one 0 byte), clock 0 (00) made 1 (02) */
	ck_assert_uint_eq(wl.r[cfg].p[FRAME + 4], 0);
	ck_assert_uint_eq(wl.r[cfg].p[FRAME + 5], 0);
	refused_header(cfg, FRAME + 5, 0x02);
	{
		const jw_rec *r = &wl.r[acct];
		size_t idn = r->p[FRAME + 4], ck = FRAME + 5 + idn;

		/* INT64_MIN zigzagged: ff ... ff 01; one bit less */
		ck_assert_uint_eq(r->p[ck], 0xff);
		refused_header(acct, ck, 0xfd);
		/* the id's first byte made a stray continuation byte */
		refused_header(acct, FRAME + 5, 0x80);
	}
	jw_log_free(&wl);
}
END_TEST

START_TEST(test_crc32c_check_value_and_paths)
{
	uint8_t buf[80 + 8];
	tu_rng g;
	size_t n, k;

	ck_assert_uint_eq(quota__crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(~quota__crc_run(~0u, (const uint8_t *)"123456789", 9,
					  false, false),
			  0xE3069283u);
	tu_rng_seed(&g, 15);
	for (n = 0; n < sizeof buf; n++)
		buf[n] = (uint8_t)tu_rng_next(&g);
	for (n = 0; n <= 80; n++) {
		uint32_t want = ref_crc(buf, n);

		ck_assert_uint_eq(quota__crc32c(0, buf, n), want);
		ck_assert_uint_eq(quota__crc32c_room(buf, n, false), want);
		if (quota__crc_hw()) {
			ck_assert_uint_eq(quota__crc32c_room(buf, n, true), want);
			ck_assert_uint_eq(~quota__crc_run(~0u, buf, n, true,
							  false),
					  want);
		}
		for (k = 0; k <= n; k++)
			ck_assert_uint_eq(quota__crc32c(quota__crc32c(0, buf, k),
							buf + k, n - k),
					  want);
	}
	/* every start within a word, every length: the tail's load reads
	 * only the bytes given (a heap copy of exactly n, for ASan) */
	for (k = 1; k < 8; k++)
		for (n = 0; n + k <= 80; n++) {
			uint8_t *h = malloc(n ? n : 1);

			ck_assert_ptr_nonnull(h);
			memcpy(h, buf + k, n);
			ck_assert_uint_eq(quota__crc32c(0, h, n),
					  ref_crc(buf + k, n));
			free(h);
		}
}
END_TEST

/* §5, issue 10: the fast path writes times with quota__time_at, which
 * must write quota__sv_at's bytes for every time: the 5-byte form and its
 * edges (zigzag 2^28 and 2^35), and the times either side of it. */
START_TEST(test_time_at_writes_sv_at_bytes)
{
	static const int64_t edge[] = {
		0, 1, -1, INT64_C(1) << 27, (INT64_C(1) << 27) - 1,
		-(INT64_C(1) << 27), -(INT64_C(1) << 27) - 1,
		INT64_C(1) << 34, (INT64_C(1) << 34) - 1, -(INT64_C(1) << 34),
		-(INT64_C(1) << 34) - 1, INT64_C(1730419200), INT64_MAX,
		INT64_MIN};
	uint8_t want[24], got[24];
	tu_rng g;
	size_t i;

	tu_rng_seed(&g, 10);
	for (i = 0; i < 200000; i++) {
		int64_t t = i < sizeof edge / sizeof edge[0]
				    ? edge[i]
				    : (int64_t)(tu_rng_next(&g) >>
						(tu_rng_next(&g) % 64));
		uint8_t *w, *o;

		if (i & 1)
			t = ~t; /* -t - 1: the negative side */
		memset(want, 0xAA, sizeof want);
		memset(got, 0x55, sizeof got);
		w = quota__sv_at(want, t);
		o = quota__time_at(got, t);
		ck_assert_int_eq((int)(o - got), (int)(w - want));
		ck_assert_int_eq(memcmp(got, want, (size_t)(w - want)), 0);
	}
}
END_TEST

/* The byte loop every varint was read with before issue 10: the reference
 * for quota__get_uv (v, its end; bad: 1). */
static int ref_uv(const uint8_t *p, size_t n, uint64_t *v, size_t *end)
{
	unsigned shift = 0;
	size_t i;

	*v = 0;
	for (i = 0; i < n && shift <= 63; i++, shift += 7) {
		if (shift == 63 && p[i] > 1)
			return 1;
		*v |= (uint64_t)(p[i] & 0x7F) << shift;
		if (!(p[i] & 0x80)) {
			*end = i + 1;
			return !p[i] && shift; /* overlong */
		}
	}
	return 1;
}

/* §5, issue 10: quota__get_uv reads varints of 2 to 8 bytes with one load
 * when 8 bytes are left; it must take and refuse exactly what the byte
 * loop does: every length, overlong forms (a zero last byte), a 10th
 * byte over 1, a varint cut short, each with 0 to 10 bytes after it. */
START_TEST(test_get_uv_reads_as_the_byte_loop)
{
	uint8_t buf[32];
	tu_rng g;
	size_t i, len, tail;

	tu_rng_seed(&g, 16);
	for (i = 0; i < 400000; i++) {
		uint64_t want = 0, got;
		size_t end = 0;
		uint8_t *h;
		int bad;
		quota__rbuf r;

		for (len = 0; len < sizeof buf; len++)
			buf[len] = (uint8_t)tu_rng_next(&g);
		if (i % 4 == 0) { /* a canonical varint of every size */
			uint64_t v = tu_rng_next(&g) >> (tu_rng_next(&g) % 64);

			len = (size_t)(quota__uv_at(buf, v) - buf);
		} else if (i % 4 == 1) { /* overlong: ends in a zero byte */
			len = 2 + i / 4 % 9;
			for (end = 0; end + 1 < len; end++)
				buf[end] |= 0x80;
			buf[len - 1] = 0;
		} else { /* whatever the bytes say, up to 11 of them */
			len = 1 + i / 4 % 11;
			for (end = 0; end + 1 < len; end++)
				buf[end] |= 0x80;
		}
		tail = tu_rng_next(&g) % 11;
		if (tail > sizeof buf - len)
			tail = sizeof buf - len;
		bad = ref_uv(buf, len + tail, &want, &end);
		/* a heap copy of exactly the bytes given, so that ASan and
		 * valgrind see a load past them */
		h = malloc(len + tail);
		ck_assert_ptr_nonnull(h);
		memcpy(h, buf, len + tail);
		memset(&r, 0, sizeof r);
		r.p = h;
		r.n = len + tail;
		got = quota__get_uv(&r);
		free(h);
		ck_assert_int_eq(r.bad, bad);
		if (!bad) {
			ck_assert_uint_eq(got, want);
			ck_assert_uint_eq(r.off, end);
		}
	}
}
END_TEST

static Suite *journal_fuzz_suite(void)
{
	Suite *s = suite_create("journal_fuzz");
	TCase *tc = tcase_create("found");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_crc32c_check_value_and_paths);
	tcase_add_test(tc, test_time_at_writes_sv_at_bytes);
	tcase_add_test(tc, test_get_uv_reads_as_the_byte_loop);
	tcase_add_test(tc, test_settle_trailing_byte);
	tcase_add_test(tc, test_key_not_utf8);
	tcase_add_test(tc, test_header_clock_and_id);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(journal_fuzz_suite());
}
