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
 *
 * Keyed charges with a store take the fast path too (keys.c), its record
 * written a byte at a time with the key among the inputs: the same
 * comparison at every key length (1 to QUOTA_KEY_MAX: the key is copied
 * in two overlapping words from 4 to 16 bytes, else by memcpy), with a
 * repeat of a key (no record), and through free units, a package and
 * pay-as-you-go at a price.  And reservations with the commits of them,
 * whose fast record is its own (quota__fast_commit_rec).
 */
#include <check.h>

#include "ctx.h" /* the account's sequence number, set near each edge */
#include "journal.h" /* quota__write, counted */
#include "ops.h" /* quota__charge_keyed_rest, counted */
#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "journal_world.h" /* the recording store: jw_record */
/* quota__write's runs (write_calls): with a store, a reservation or
 * commit of a cached hour must not reach it; quiet_hook */
#include "write_count.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */

/* The keyed charges the fast path leaves to charge.c (the Makefile links
 * this test with --wrap for it): with a store too, a keyed charge whose
 * key is new and whose hour is cached must not come here. */
static unsigned rest_calls;
int __real_quota__charge_keyed_rest(quota_account *a, const quota_usage *u,
				    quota_receipt *r,
				    const quota__keyrec *found);
int __wrap_quota__charge_keyed_rest(quota_account *a, const quota_usage *u,
				    quota_receipt *r,
				    const quota__keyrec *found);
int __wrap_quota__charge_keyed_rest(quota_account *a, const quota_usage *u,
				    quota_receipt *r, const quota__keyrec *found)
{
	rest_calls++;
	return __real_quota__charge_keyed_rest(a, u, r, found);
}


/* What one run charges: an account of id_len bytes, its sequence number
 * set to seq (0: as its records leave it), `dead` expired packages added
 * before the one drawn (so that the drawn one's number is dead), a free
 * allowance of `free` units a month, and five charges around t, the
 * first of first units, the others of units each, the clock one charge
 * behind. */
typedef struct shape {
	size_t id_len;
	uint64_t seq;
	int64_t t, free, first, units;
	uint32_t dead;
	/* Keyed charges: keys of klen bytes (0: no key), a sixth charge
	 * repeating the second's (the first charge of a run takes the
	 * general path, the others the fast one); the package's units (0:
	 * 100,000). */
	size_t klen;
	int64_t pkg;
	/* Each charge as a reservation of `hold` seconds and the commit of
	 * all of it (0: charges) */
	int64_t hold;
} shape;

/* Charge i's key: klen bytes, told apart by the first and the last. */
static void key_of(char *k, size_t klen, int i)
{
	for (size_t j = 0; j < klen; j++)
		k[j] = (char)('A' + (j * 7 + (size_t)i) % 26);
	k[klen - 1] = (char)('0' + i);
	k[0] = (char)('a' + i);
	k[klen] = '\0';
}

/* The general path's runs during the last run()'s charges or holds. */
static unsigned loop_writes;

/* Runs x on a new context recording into l; the general path's with hook. */
static quota_ctx *run(const shape *x, jw_log *l, bool hook)
{
	quota_ctx *c = new_ctx();
	char id[QUOTA_ID_MAX + 1], pid[16];
	quota_tariff *tf;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;

	jw_record(c, l);
	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	tf = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_set_free(tf, x->free, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(tf, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	for (size_t i = 0; i < x->id_len; i++)
		id[i] = (char)('a' + i % 26);
	id[x->id_len] = '\0';
	a = add_acct(c, id);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, tf), QUOTA_OK);
	for (uint32_t i = 0; i < x->dead; i++) {
		snprintf(pid, sizeof pid, "d%u", i);
		add_pkg(a, pid, QUOTA_MASK(sms), 100, x->t - 3 * 86400,
			x->t - 2 * 86400, 0, 0);
	}
	add_pkg(a, "p", QUOTA_MASK(sms), x->pkg ? x->pkg : 100000,
		x->t - 86400, x->t + 86400, 0, 0);
	if (x->klen)
		ck_assert_int_eq(quota_account_set_key_window(a, 100, 86400),
				 QUOTA_OK);
	if (x->seq)
		a->seq = x->seq;
	loop_writes = write_calls;
	for (int i = 0; i < (x->klen ? 6 : 5); i++) {
		char key[QUOTA_KEY_MAX + 1];
		int j = i < 5 ? i : 1; /* the repeat */
		quota_usage u = {.category = sms,
				 .units = j ? x->units : x->first,
				 .at = x->t - 2 + j};

		if (x->klen) {
			key_of(key, x->klen, j);
			u.key = key;
		}
		if (x->hold) {
			uint64_t h;

			ck_assert_int_eq(quota_reserve(a, &u, x->hold, &r, &h),
					 QUOTA_OK);
			ck_assert_int_eq(quota_commit(a, h, u.units, NULL, &r),
					 QUOTA_OK);
			if (i == 0 && x->seq) /* the next hold ids near seq */
				a->x->last_hold_id = x->seq;
			continue;
		}
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
	loop_writes = write_calls - loop_writes;
	return c;
}

/* The fast path's records of x are the general path's, byte for byte;
 * the keyed charges of the first run that the fast path left, in
 * fast_left, and its calls that took the general path, in slow_writes. */
static unsigned fast_left, slow_writes;
static void same_records(const shape *x)
{
	jw_log l1 = {0}, l2 = {0};
	unsigned before = rest_calls;
	quota_ctx *c1 = run(x, &l1, false), *c2;

	fast_left = rest_calls - before;
	slow_writes = loop_writes;
	c2 = run(x, &l2, true);

	ck_assert_uint_eq(l1.n, l2.n);
	for (size_t i = 0; i < l1.n; i++) {
		ck_assert_uint_eq(l1.r[i].n, l2.r[i].n);
		ck_assert_msg(!memcmp(l1.r[i].p, l2.r[i].p, l1.r[i].n),
			      "record %zu differs: id of %zu bytes, seq %llu, "
			      "time %lld, free %lld, %u dead packages, units "
			      "%lld, key of %zu bytes, package of %lld, hold "
			      "%lld",
			      i, x->id_len, (unsigned long long)x->seq,
			      (long long)x->t, (long long)x->free, x->dead,
			      (long long)x->units, x->klen, (long long)x->pkg,
			      (long long)x->hold);
	}
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	jw_log_free(&l1);
	jw_log_free(&l2);
}

/* A free unit and a package unit, then a package unit each. */
static shape plain(size_t id_len, uint64_t seq, int64_t t)
{
	return (shape){.id_len = id_len, .seq = seq, .t = t, .free = 1,
		       .first = 2, .units = 1};
}

START_TEST(test_i10_fast_record_every_id_length)
{
	for (size_t n = 1; n <= QUOTA_ID_MAX; n++) {
		shape x = plain(n, 0, T0 + 120);

		same_records(&x);
	}
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
			for (size_t l = 0; l < sizeof lens / sizeof lens[0];
			     l++) {
				shape x = plain(lens[l], seqs[s], times[t]);

				same_records(&x);
			}
}
END_TEST

/*
 * The edges of what the record in registers holds, in one byte each:
 * units, free units and the draw below 64 (zigzagged, below 128), the
 * package number below 128.
 */
START_TEST(test_i10_fast_record_field_edges)
{
	static const int64_t frees[] = {1, 62, 63, 64};
	static const uint32_t deads[] = {0, 127, 128};
	static const int64_t units[] = {1, 63, 64, 65};

	for (size_t f = 0; f < sizeof frees / sizeof frees[0]; f++)
		for (size_t d = 0; d < sizeof deads / sizeof deads[0]; d++)
			for (size_t u = 0; u < sizeof units / sizeof units[0];
			     u++) {
				shape x = {.id_len = 4, .t = T0 + 120,
					   .free = frees[f], .dead = deads[d],
					   .first = units[u],
					   .units = units[u]};

				same_records(&x);
			}
}
END_TEST

/* Issue 10: keyed charges with a store, at every key length; then with
 * free units and a package across one-byte edges, and into
 * pay-as-you-go (a package of 3 units: free, package, then priced). */
START_TEST(test_i10_fast_record_keyed)
{
	static const int64_t frees[] = {1, 64};
	static const int64_t pkgs[] = {0, 3};

	for (size_t k = 1; k <= QUOTA_KEY_MAX; k++) {
		shape x = plain(5, 0, T0 + 120);

		x.klen = k;
		same_records(&x);
		/* the fast path served all but the first charge (its hour
		 * not cached yet) and the repeat (a stored key) */
		ck_assert_uint_eq(fast_left, 2);
	}
	for (size_t f = 0; f < sizeof frees / sizeof frees[0]; f++)
		for (size_t p = 0; p < sizeof pkgs / sizeof pkgs[0]; p++) {
			shape x = {.id_len = 12, .t = T0 + 120,
				   .free = frees[f], .first = frees[f] + 1,
				   .units = 1, .klen = 12, .pkg = pkgs[p]};

			same_records(&x);
		}
	/* free units only, in the fast charges too: their count below and
	 * across the one-byte edge (64 zigzags to 128) */
	for (int64_t u = 1; u <= 64; u += 63) {
		shape x = {.id_len = 12, .t = T0 + 120, .free = 1000,
			   .first = 1, .units = u, .klen = 12};

		same_records(&x);
	}
}
END_TEST

/* Reservations and their commits with a store (hold.c's fast commit
 * writes its record on its own, quota__fast_commit_rec): every id
 * length, hold ids and sequence numbers across varint edges, timeouts
 * of one to three bytes (the register path takes one or two), clocks
 * and times of 2 to 6 bytes, units across the one-byte edge. */
START_TEST(test_i10_fast_record_hold_commit)
{
	static const uint64_t seqs[] = {0, 125, 16381};
	/* zigzagged: 1 byte below 64, 2 below 8192 (the second byte's
	 * high bits from 4096), 3 from 8192 (the byte path) */
	static const int64_t holds[] = {1,    63,   64,   127, 128,
					3600, 4096, 8191, 8192};
	static const int64_t times[] = {1000, INT64_C(1) << 27,
					INT64_C(1) << 34};
	static const int64_t units[] = {63, 64, 65};

	for (size_t n = 1; n <= QUOTA_ID_MAX; n++) {
		shape x = plain(n, 0, T0 + 120);

		x.hold = 3600;
		same_records(&x);
		/* the fast paths served all but the first reservation (the
		 * category has no current day yet) and its commit (a hold
		 * the general path made): 4 of each */
		ck_assert_uint_eq(slow_writes, 2);
	}
	for (size_t q = 0; q < sizeof seqs / sizeof seqs[0]; q++)
		for (size_t h = 0; h < sizeof holds / sizeof holds[0]; h++) {
			shape x = plain(12, seqs[q], T0 + 120);

			x.hold = holds[h];
			same_records(&x);
		}
	for (size_t t = 0; t < sizeof times / sizeof times[0]; t++)
		for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
			shape x = plain(12, 0, times[t]);

			x.hold = 3600;
			x.first = x.units = units[u];
			same_records(&x);
		}
}
END_TEST

/* A store that answers what the test sets, counting the records taken. */
static int answer;
static unsigned taken;
static int set_answer(void *ud, const char *acct, uint64_t seq,
		      const void *rec, size_t n)
{
	(void)ud;
	(void)acct;
	(void)seq;
	(void)rec;
	(void)n;
	taken += answer == QUOTA_OK;
	return answer;
}

/* The account's snapshot equals want (n bytes). */
static void same_snapshot(const quota_account *a, const void *want, size_t n)
{
	void *p;
	size_t m;

	ck_assert_int_eq(quota_account_snapshot(a, &p, &m), QUOTA_OK);
	ck_assert_uint_eq(m, n);
	ck_assert(!memcmp(p, want, n));
	quota_free(a->ctx, p);
}

/*
 * §5 on the fast paths with a store (no hook, so that after a first
 * charge the keyed charge and the commit take them): a refused record
 * changes nothing (the snapshot, the sequence number, the key unknown
 * so the retry charges), QUOTA_ECONFLICT likewise, and an unknown
 * outcome stops the account (QUOTA_EUNSYNCED).
 */
START_TEST(test_i10_fast_record_refused)
{
	static const int refusals[] = {QUOTA_ESTORE, QUOTA_ECONFLICT, -1000,
				       5};
	quota_store st = QUOTA_STORE_INIT;
	quota_ctx *c = new_ctx();
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	uint64_t h, h2;
	void *snap;
	size_t n;

	st.append = set_answer;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	sms = add_cat(c, "sms");
	a = add_acct(c, "acct-0000042");
	add_pkg(a, "p", QUOTA_MASK(sms), 100000, T0 - 86400, T0 + 86400, 0,
		0);
	ck_assert_int_eq(quota_account_set_key_window(a, 100, 86400),
			 QUOTA_OK);
	{ /* the first charge of the hour caches it (general path) */
		quota_usage u = {.category = sms, .units = 1, .at = T0};

		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		quota_usage u = {.category = sms, .units = 2, .at = T0 + 1,
				 .key = "msg-1"};
		uint64_t seq = quota_account_seq(a);

		ck_assert_int_eq(quota_account_snapshot(a, &snap, &n),
				 QUOTA_OK);
		answer = refusals[i];
		ck_assert_int_eq(quota_charge(a, &u, &r),
				 refusals[i] == QUOTA_ECONFLICT
					 ? QUOTA_ECONFLICT
					 : QUOTA_ESTORE);
		ck_assert_int_eq(r.units, 0);
		ck_assert_uint_eq(quota_account_seq(a), seq);
		same_snapshot(a, snap, n);
		/* a reservation's commit, refused: the hold stays open */
		answer = QUOTA_OK;
		u.key = NULL;
		ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h),
				 QUOTA_OK);
		quota_free(c, snap);
		ck_assert_int_eq(quota_account_snapshot(a, &snap, &n),
				 QUOTA_OK);
		answer = refusals[i];
		ck_assert_int_eq(quota_commit(a, h, 2, NULL, &r),
				 refusals[i] == QUOTA_ECONFLICT
					 ? QUOTA_ECONFLICT
					 : QUOTA_ESTORE);
		same_snapshot(a, snap, n);
		/* a reservation refused (its record made in registers) */
		ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h2),
				 refusals[i] == QUOTA_ECONFLICT
					 ? QUOTA_ECONFLICT
					 : QUOTA_ESTORE);
		same_snapshot(a, snap, n);
		quota_free(c, snap);
		answer = QUOTA_OK;
		ck_assert_int_eq(quota_commit(a, h, 2, NULL, &r), QUOTA_OK);
	}
	/* accepted: charged once, then the repeat answers from the key */
	{
		quota_usage u = {.category = sms, .units = 2, .at = T0 + 1,
				 .key = "msg-1"};
		unsigned before = taken;

		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
		ck_assert_int_eq(r.package_units, 2);
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
		ck_assert_int_eq(r.package_units, 2);
		ck_assert_uint_eq(taken, before + 1);
		/* unknown: the account waits to be re-synchronised */
		u.key = "msg-2";
		answer = QUOTA_EUNKNOWN;
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNKNOWN);
		answer = QUOTA_OK;
		u.key = "msg-3";
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNSYNCED);
		ck_assert_int_eq(r.units, 0);
	}
	quota_ctx_free(c);
}
END_TEST

/* §5: an unknown outcome of the fast commit's record stops the account
 * too, the hold left open in memory. */
START_TEST(test_i10_fast_record_commit_unknown)
{
	quota_store st = QUOTA_STORE_INIT;
	quota_ctx *c = new_ctx();
	quota_usage u = {.units = 2, .at = T0 + 1};
	quota_account *a;
	quota_receipt r;
	uint64_t h;

	st.append = set_answer;
	answer = QUOTA_OK;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	u.category = add_cat(c, "sms");
	a = add_acct(c, "acct-0000042");
	add_pkg(a, "p", QUOTA_MASK(u.category), 100000, T0 - 86400,
		T0 + 86400, 0, 0);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h), QUOTA_OK);
	answer = QUOTA_EUNKNOWN;
	ck_assert_int_eq(quota_commit(a, h, 2, NULL, &r), QUOTA_EUNKNOWN);
	answer = QUOTA_OK;
	ck_assert_int_eq(quota_commit(a, h, 2, NULL, &r), QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNSYNCED);
	quota_ctx_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fast_record");
	TCase *tc = tcase_create("i10");

	tcase_add_test(tc, test_i10_fast_record_every_id_length);
	tcase_add_test(tc, test_i10_fast_record_varint_and_time_edges);
	tcase_add_test(tc, test_i10_fast_record_field_edges);
	tcase_add_test(tc, test_i10_fast_record_keyed);
	tcase_add_test(tc, test_i10_fast_record_hold_commit);
	tcase_add_test(tc, test_i10_fast_record_refused);
	tcase_add_test(tc, test_i10_fast_record_commit_unknown);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
