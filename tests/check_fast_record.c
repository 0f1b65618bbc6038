/*
 * check_fast_record.c - issue 10, §5: the fast path's usual charge record
 * is made in 8-byte words (journal.h, quota__fast_rec_words) and must be
 * the general path's record byte for byte, at every edge of the words'
 * shapes: ids of every length (the length byte and the id are read in
 * words that end where they end, with a part word of 0 to 7 bytes
 * before), sequence numbers across each varint length (1 to 4 bytes in
 * words; 5 and up a byte at a time), times and clocks across the edges
 * of 5 bytes (2^27 and 2^34 seconds; the others a byte at a time), and
 * units, free units, draws and package numbers across the edges of one
 * byte (64 and 128; the others a byte at a time).
 */
#include <check.h>

#include "ctx.h" /* the account's sequence number, set near each edge */
#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */
#define NREC 192 /* room for 129 packages and their charges */

/* A store that keeps the records. */
typedef struct rstore {
	unsigned char *rec[NREC];
	size_t len[NREC], n;
} rstore;

static int r_append(void *ud, const char *account, uint64_t seq,
		    const void *p, size_t len)
{
	rstore *m = ud;

	(void)account;
	(void)seq;
	ck_assert_uint_lt(m->n, NREC);
	m->rec[m->n] = malloc(len);
	ck_assert_ptr_nonnull(m->rec[m->n]);
	memcpy(m->rec[m->n], p, len);
	m->len[m->n++] = len;
	return QUOTA_OK;
}

static void r_free(rstore *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->rec[i]);
}

/* An event hook sends every charge down the general path. */
static int quiet_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

/*
 * Five charges of account id_len bytes long around time t, the first
 * with sequence number seq + 1 (seq 0: as the account's records leave
 * it): a free unit and a package unit, then a package unit each, the
 * clock one charge behind.
 */
static void run(quota_ctx *c, rstore *m, bool hook, size_t id_len,
		uint64_t seq, int64_t t)
{
	quota_store st = QUOTA_STORE_INIT;
	char id[QUOTA_ID_MAX + 1];
	quota_tariff *tf;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;

	memset(m, 0, sizeof *m);
	st.ud = m;
	st.append = r_append;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	tf = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_set_free(tf, 1, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	for (size_t i = 0; i < id_len; i++)
		id[i] = (char)('a' + i % 26);
	id[id_len] = '\0';
	a = add_acct(c, id);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, tf), QUOTA_OK);
	add_pkg(a, "p", QUOTA_MASK(sms), 100, t - 86400, t + 86400, 0, 0);
	if (seq)
		a->seq = seq;
	for (int i = 0; i < 5; i++) {
		quota_usage u = {.category = sms, .units = i ? 1 : 2,
				 .at = t - 2 + i};

		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
}

static void same_records(size_t id_len, uint64_t seq, int64_t t)
{
	quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
	rstore m1, m2;

	run(c1, &m1, false, id_len, seq, t);
	run(c2, &m2, true, id_len, seq, t);
	ck_assert_uint_eq(m1.n, m2.n);
	for (size_t i = 0; i < m1.n; i++) {
		ck_assert_uint_eq(m1.len[i], m2.len[i]);
		ck_assert_msg(!memcmp(m1.rec[i], m2.rec[i], m1.len[i]),
			      "record %zu differs: id of %zu bytes, seq %llu, "
			      "time %lld",
			      i, id_len, (unsigned long long)seq, (long long)t);
	}
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	r_free(&m1);
	r_free(&m2);
}

START_TEST(test_i10_fast_record_every_id_length)
{
	for (size_t n = 1; n <= QUOTA_ID_MAX; n++)
		same_records(n, 0, T0 + 120);
}
END_TEST

START_TEST(test_i10_fast_record_varint_and_time_edges)
{
	/* the last charges cross to 2, 3, 4 and 5 bytes */
	static const uint64_t seqs[] = {0, 125, 16381, (1u << 21) - 3,
					(1u << 28) - 3};
	/* the first charges are before 2^27 (4 bytes), the last after
	 * 2^34 (6 bytes), each in one hour */
	static const int64_t times[] = {T0 + 120, INT64_C(1) << 27,
					INT64_C(1) << 34};
	static const size_t lens[] = {1, 4, 5, 6, 12, 13, 14, 21, 29, 126,
				      127, 128};

	for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++)
		for (size_t t = 0; t < sizeof times / sizeof times[0]; t++)
			for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
				same_records(lens[l], seqs[s], times[t]);
}
END_TEST

/*
 * The edges of what the record in registers holds, in one byte each:
 * units, free units and the draw below 64 (zigzagged, below 128), the
 * package number below 128.  Five charges of units each on an account
 * with dead packages (expired) before the one drawn, so that its number
 * is dead, and a free allowance of free units.
 */
static void run_fields(quota_ctx *c, rstore *m, bool hook, int64_t free,
		       uint32_t dead, int64_t units)
{
	const int64_t t = T0 + 120;
	quota_store st = QUOTA_STORE_INIT;
	quota_tariff *tf;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	char pid[16];

	memset(m, 0, sizeof *m);
	st.ud = m;
	st.append = r_append;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	tf = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_set_free(tf, free, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	a = add_acct(c, "acme");
	ck_assert_int_eq(quota_account_set_tariff(a, sms, tf), QUOTA_OK);
	for (uint32_t i = 0; i < dead; i++) {
		snprintf(pid, sizeof pid, "d%u", i);
		add_pkg(a, pid, QUOTA_MASK(sms), 100, t - 3 * 86400,
			t - 2 * 86400, 0, 0);
	}
	add_pkg(a, "p", QUOTA_MASK(sms), 100000, t - 86400, t + 86400, 0, 0);
	for (int i = 0; i < 5; i++) {
		quota_usage u = {.category = sms, .units = units,
				 .at = t - 2 + i};

		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
}

START_TEST(test_i10_fast_record_field_edges)
{
	static const int64_t frees[] = {1, 62, 63, 64};
	static const uint32_t deads[] = {0, 127, 128};
	static const int64_t units[] = {1, 63, 64, 65};

	for (size_t f = 0; f < sizeof frees / sizeof frees[0]; f++)
		for (size_t d = 0; d < sizeof deads / sizeof deads[0]; d++)
			for (size_t u = 0; u < sizeof units / sizeof units[0];
			     u++) {
				quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
				rstore m1, m2;

				run_fields(c1, &m1, false, frees[f], deads[d],
					   units[u]);
				run_fields(c2, &m2, true, frees[f], deads[d],
					   units[u]);
				ck_assert_uint_eq(m1.n, m2.n);
				for (size_t i = 0; i < m1.n; i++) {
					ck_assert_uint_eq(m1.len[i], m2.len[i]);
					ck_assert_msg(
						!memcmp(m1.rec[i], m2.rec[i],
							m1.len[i]),
						"record %zu differs: free %lld, "
						"package %u, units %lld",
						i, (long long)frees[f], deads[d],
						(long long)units[u]);
				}
				quota_ctx_free(c1);
				quota_ctx_free(c2);
				r_free(&m1);
				r_free(&m2);
			}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fast_record");
	TCase *tc = tcase_create("i10");

	tcase_add_test(tc, test_i10_fast_record_every_id_length);
	tcase_add_test(tc, test_i10_fast_record_varint_and_time_edges);
	tcase_add_test(tc, test_i10_fast_record_field_edges);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
