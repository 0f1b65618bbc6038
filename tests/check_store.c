/*
 * check_store.c - the store callbacks (§5, quota_store.h): the versioned
 * struct, the fast paths' records, reading records and snapshots back.
 *
 * Here are the versioned struct, the records the fast paths write (byte
 * for byte the general path's: late reports and keyed charges, issue 16)
 * and reading records and snapshots back.  What each answer of the store
 * does to the call went to check_store_answers.c; the two share the
 * store of tests/support/mstore.h.
 */
#include <check.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "charges.h"
#include "mstore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600) /* 2026-01-01 */

START_TEST(test_s5_store_struct_is_versioned)
{
	quota_ctx *c = new_ctx();
	quota_store st = QUOTA_STORE_INIT;

	ck_assert_int_eq(st.version, QUOTA_STORE_VERSION);
	ck_assert_uint_eq(st.size, sizeof st);
	ck_assert_int_eq(quota_ctx_set_store(NULL, &st), QUOTA_EINVAL);
	/* no append */
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_EINVAL);
	st.append = m_append;
	st.version = QUOTA_STORE_VERSION + 1;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_EINVAL);
	st.version = QUOTA_STORE_VERSION;
	st.size = sizeof st - 1;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_EINVAL);
	/* A host built against version 1 (no errmsg member) is taken; its
	 * struct ends before errmsg, which is never read. */
	st.version = 1;
	st.size = offsetof(quota_store, errmsg);
	st.errmsg = NULL;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	st.size = offsetof(quota_store, errmsg) - 1;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_EINVAL);
	st.version = QUOTA_STORE_VERSION;
	st.size = sizeof st;
	st.begin = m_begin; /* begin without commit */
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_EINVAL);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "together"));
	st.begin = NULL;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	/* NULL removes it: calls write nothing again */
	ck_assert_int_eq(quota_ctx_set_store(c, NULL), QUOTA_OK);
	add_cat(c, "sms");
	quota_ctx_free(c);
}
END_TEST

/*
 * §5: a fast path writes the same record as the general path.  The same
 * calls on two contexts, one with an event hook (which sends every charge
 * and commit down the general path) and one without (charges in a cached
 * hour and the one-draw commit take the fast paths); the account's id is
 * QUOTA_ID_MAX bytes, so its length takes two bytes, and (issue 10) of 1
 * to 17 bytes, which the fast records copy in line from 4 to 16, and
 * whose records' lengths take every remainder by 8 (the fast CRC-32C
 * runs in whole words from before the body).  Both account streams must
 * be equal byte for byte.
 */
static int quiet_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

static void fast_and_general_run(quota_ctx *c, mstore *m, bool hook,
				 size_t id_len)
{
	char id[QUOTA_ID_MAX + 1];
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	quota_usage u;
	uint64_t hold;
	uint32_t sms;
	int i;

	set_store(c, m);
	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	t = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000, 45000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 3, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	for (i = 0; i < (int)id_len; i++)
		id[i] = (char)('a' + i % 26);
	id[id_len] = '\0';
	a = add_acct(c, id);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	add_pkg(a, "p", QUOTA_MASK(sms), 5, T0 - 86400, T0 + 86400, 0, 0);
	/* Free units, then the package, then pay-as-you-go at large
	 * times and units (several-byte varints), all in one hour. */
	for (i = 0; i < 12; i++) {
		u = (quota_usage){.category = sms, .units = 1 + (i % 3),
				  .at = T0 + 60 + i};
		ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	}
	u = (quota_usage){.category = sms, .units = 1, .at = T0 + 120};
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &hold), QUOTA_OK);
	ck_assert_int_eq(quota_commit(a, hold, 1, NULL, &r), QUOTA_OK);
	u.units = 200000;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
}

START_TEST(test_s5_fast_path_writes_the_general_record)
{
	static const size_t lens[] = {QUOTA_ID_MAX, 1, 2, 3, 4, 5, 6, 7,
				      8, 9, 10, 11, 12, 13, 14, 15,
				      16, 17};

	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
		mstore m1, m2;
		size_t i;

		fast_and_general_run(c1, &m1, false, lens[l]);
		fast_and_general_run(c2, &m2, true, lens[l]);
		ck_assert_uint_eq(m1.n, m2.n);
		for (i = 0; i < m1.n; i++) {
			ck_assert_uint_eq(m1.len[i], m2.len[i]);
			ck_assert_int_eq(
				memcmp(m1.rec[i], m2.rec[i], m1.len[i]), 0);
		}
		quota_ctx_free(c1);
		quota_ctx_free(c2);
		m_free(&m1);
		m_free(&m2);
	}
}
END_TEST

/*
 * Issue 16, R2: a late report (before its category's newest day, outside
 * the cached ledger hour) has a path of its own; it must write the
 * general path's record and leave the account as the general path does.
 * The same charges on two contexts, one with an event hook (every charge
 * general): after a charge 60 days on, charges at random times across
 * the two calendar months before it (and a few in its own day), drawing
 * a monthly and a daily free allowance, a small package, a large one and
 * two tiers, under a daily cap that refuses some.  Codes, receipts,
 * records and the final snapshot must agree.
 */
#define LATE_N 3000
typedef struct late_out {
	int rc[LATE_N];
	quota_receipt r[LATE_N];
	unsigned char *log; /* every record, each after its length */
	size_t n, cap, nrec;
} late_out;

static int late_append(void *ud, const char *account, uint64_t seq,
		       const void *p, size_t len)
{
	late_out *o = ud;

	(void)account;
	(void)seq;
	while (o->n + sizeof len + len > o->cap) {
		o->cap = o->cap ? 2 * o->cap : 65536;
		o->log = realloc(o->log, o->cap);
		ck_assert_ptr_nonnull(o->log);
	}
	memcpy(o->log + o->n, &len, sizeof len);
	memcpy(o->log + o->n + sizeof len, p, len);
	o->n += sizeof len + len;
	o->nrec++;
	return QUOTA_OK;
}

static quota_account *late_run(quota_ctx *c, bool hook, late_out *o)
{
	quota_store st = QUOTA_STORE_INIT;
	quota_tariff *t;
	quota_account *a;
	quota_usage u;
	uint32_t sms, mail;
	tu_rng g;
	int i;

	st.ud = o;
	st.append = late_append;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	mail = add_cat(c, "mail");
	t = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_add_tier(t, 400, 45000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 60, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(t, 3), QUOTA_OK);
	a = add_acct(c, "late");
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 40),
			 QUOTA_OK);
	add_pkg(a, "small", QUOTA_MASK(sms), 25, T0, T0 + 20 * 86400, 0, 0);
	add_pkg(a, "large", QUOTA_MASK(sms) | QUOTA_MASK(mail), 700, T0,
		T0 + 90 * 86400, 0, 0);
	u = (quota_usage){.category = sms, .units = 1, .at = T0 + 60 * 86400};
	ck_assert_int_eq(quota_charge(a, &u, NULL), QUOTA_OK);
	tu_rng_seed(&g, 16);
	for (i = 0; i < LATE_N; i++) {
		u.category = tu_rng_chance(&g, 1, 8) ? mail : sms;
		u.units = tu_rng_range(&g, 1, 3);
		u.at = tu_rng_chance(&g, 1, 10)
			       ? T0 + 60 * 86400 + tu_rng_range(&g, 0, 80000)
			       : T0 + tu_rng_range(&g, 0, 60 * 86400 - 1);
		o->rc[i] = quota_charge(a, &u, &o->r[i]);
	}
	return a;
}

/* Two receipts of one charge made on two paths agree (issue 16), a
 * replay as a replay. */
static void paths_agree(const quota_receipt *r1, const quota_receipt *r2)
{
	receipts_agree(r1, r2, true);
	ck_assert_int_eq(r1->replayed, r2->replayed);
}

/* Two accounts' snapshots are the same bytes. */
static void snapshots_agree(quota_account *a1, quota_account *a2)
{
	void *s1, *s2;
	size_t n1, n2;

	ck_assert_int_eq(quota_account_snapshot(a1, &s1, &n1), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(a2, &s2, &n2), QUOTA_OK);
	ck_assert_uint_eq(n1, n2);
	ck_assert_int_eq(memcmp(s1, s2, n1), 0);
	quota_free(quota_account_ctx(a1), s1);
	quota_free(quota_account_ctx(a2), s2);
}

START_TEST(test_i16_late_reports_write_the_general_record)
{
	quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
	late_out *o1 = calloc(1, sizeof *o1), *o2 = calloc(1, sizeof *o2);
	quota_account *a1, *a2;
	size_t i;
	int refused = 0;

	ck_assert_ptr_nonnull(o1);
	ck_assert_ptr_nonnull(o2);
	a1 = late_run(c1, false, o1);
	a2 = late_run(c2, true, o2);
	for (i = 0; i < LATE_N; i++) {
		ck_assert_int_eq(o1->rc[i], o2->rc[i]);
		refused += o1->rc[i] == QUOTA_ECAP;
		if (!o1->rc[i])
			paths_agree(&o1->r[i], &o2->r[i]);
	}
	ck_assert_int_gt(refused, 0); /* the cap was reached on some days */
	ck_assert_uint_gt(o1->nrec, LATE_N / 2);
	ck_assert_uint_eq(o1->nrec, o2->nrec);
	ck_assert_uint_eq(o1->n, o2->n);
	ck_assert_int_eq(memcmp(o1->log, o2->log, o1->n), 0);
	snapshots_agree(a1, a2);
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	free(o1->log);
	free(o2->log);
	free(o1);
	free(o2);
}
END_TEST

/*
 * Issue 16: a late report finds its hour's free row through the context's
 * late_row slots, which every account of the context shares and which
 * pruning renumbers under.  Two accounts of one context whose rows of the
 * same hours sit at different indices take late reports in turn, and
 * halfway both are settled and pruned (rows renumbered); the same calls
 * in a context with an event hook (every charge on the general path) must
 * give the same codes, receipts and snapshots.
 */
#define LATE2_N 4000
typedef struct late2_out {
	int rc[LATE2_N];
	quota_receipt r[LATE2_N];
} late2_out;

static void late2_run(quota_ctx *c, bool hook, late2_out *o,
		      quota_account *acct[2])
{
	quota_tariff *t;
	quota_usage u;
	uint32_t sms, mail;
	tu_rng g;
	int i, k;

	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	mail = add_cat(c, "mail");
	t = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_add_tier(t, 300, 45000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 40, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	acct[0] = add_acct(c, "x");
	acct[1] = add_acct(c, "y");
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(quota_account_set_tariff(acct[k], sms, t),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(acct[k], mail, t),
				 QUOTA_OK);
		/* settlement pays its bills (R18): no suspension */
		ck_assert_int_eq(quota_account_topup(acct[k], 1000000000000,
						     T0),
				 QUOTA_OK);
	}
	add_pkg(acct[0], "p", QUOTA_MASK(sms), 500, T0, T0 + 90 * 86400, 0,
		0);
	add_pkg(acct[1], "q0", QUOTA_MASK(mail), 30, T0, T0 + 10 * 86400, 0,
		0);
	add_pkg(acct[1], "q1", QUOTA_MASK(sms), 200, T0, T0 + 40 * 86400, 0,
		0);
	/* y's rows of an hour are made earlier and more of them: its
	 * indices for the same (hour, category) differ from x's. */
	tu_rng_seed(&g, 1616);
	for (i = 0; i < 300; i++) {
		u = (quota_usage){.category = tu_rng_chance(&g, 1, 2) ? mail
								       : sms,
				  .units = 1,
				  .at = T0 + tu_rng_range(&g, 0,
							 60 * 86400 - 1)};
		ck_assert_int_eq(quota_charge(acct[1], &u, NULL), QUOTA_OK);
	}
	for (k = 0; k < 2; k++) {
		u = (quota_usage){.category = sms, .units = 1,
				  .at = T0 + 60 * 86400};
		ck_assert_int_eq(quota_charge(acct[k], &u, NULL), QUOTA_OK);
	}
	for (i = 0; i < LATE2_N; i++) {
		int64_t lo = i < LATE2_N / 2 ? 0 : 25 * 86400;

		if (i == LATE2_N / 2)
			for (k = 0; k < 2; k++) {
				ck_assert_int_ge(quota_settle(acct[k],
							      T0 + 30 * 86400,
							      NULL, NULL),
						 0);
				ck_assert_int_eq(
					quota_account_prune(acct[k],
							    T0 + 30 * 86400,
							    QUOTA_PRUNE_LEDGER),
					QUOTA_OK);
			}
		u.category = tu_rng_chance(&g, 1, 4) ? mail : sms;
		u.units = tu_rng_range(&g, 1, 3);
		/* both accounts, the same few hours, in turn */
		u.at = T0 + lo + tu_rng_range(&g, 0, 35 * 86400 - 1);
		o->rc[i] = quota_charge(acct[i & 1], &u, &o->r[i]);
	}
}

START_TEST(test_i16_late_rows_shared_by_accounts_and_pruned)
{
	quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
	late2_out *o1 = calloc(1, sizeof *o1), *o2 = calloc(1, sizeof *o2);
	quota_account *a1[2], *a2[2];
	int i, k, ok = 0, pruned = 0;

	ck_assert_ptr_nonnull(o1);
	ck_assert_ptr_nonnull(o2);
	late2_run(c1, false, o1, a1);
	late2_run(c2, true, o2, a2);
	ck_assert_int_gt(quota_account_pruned_before(a1[0]), T0);
	for (i = 0; i < LATE2_N; i++) {
		ck_assert_int_eq(o1->rc[i], o2->rc[i]);
		pruned += o1->rc[i] == QUOTA_EPRUNED;
		ok += !o1->rc[i];
		if (!o1->rc[i])
			paths_agree(&o1->r[i], &o2->r[i]);
	}
	ck_assert_int_gt(ok, LATE2_N / 2);
	ck_assert_int_gt(pruned, 0); /* the second half reaches before it */
	for (k = 0; k < 2; k++)
		snapshots_agree(a1[k], a2[k]);
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	free(o1);
	free(o2);
}
END_TEST

/*
 * R11, issue 16: a keyed charge the fast path serves copies its key into
 * a compact record (up to 32 bytes) with two overlapping fixed-size
 * copies; longer keys take a full record.  Keys of every length from 1 to
 * QUOTA_KEY_MAX, charged and then repeated, in a context without a hook
 * and in one with (every charge on the general path): the same codes and
 * receipts, each repeat replayed with its first receipt, and the same
 * snapshot.
 */
static quota_account *keylen_run(quota_ctx *c, bool hook, quota_receipt *r)
{
	quota_tariff *t;
	quota_account *a;
	uint32_t sms;
	char key[QUOTA_KEY_MAX + 1];
	int n, i;

	if (hook)
		ck_assert_int_eq(quota_ctx_set_event_hook(c, quiet_hook, NULL),
				 QUOTA_OK);
	sms = add_cat(c, "sms");
	t = add_tariff(c, "sms");
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 20, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	a = add_acct(c, "k");
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_key_window(a, 1000, 86400),
			 QUOTA_OK);
	add_pkg(a, "p", QUOTA_MASK(sms), 50, T0, T0 + 30 * 86400, 0, 0);
	for (n = 1; n <= QUOTA_KEY_MAX; n++) {
		quota_usage u = {.category = sms, .units = 1 + n % 2,
				 .at = T0 + 3600 + n, .key = key};

		for (i = 0; i < n; i++) /* every length's own bytes */
			key[i] = (char)('a' + (i * 7 + n) % 26);
		key[n] = '\0';
		ck_assert_int_eq(quota_charge(a, &u, &r[2 * n]), QUOTA_OK);
		ck_assert_int_eq(r[2 * n].replayed, 0);
		ck_assert_int_eq(quota_charge(a, &u, &r[2 * n + 1]), QUOTA_OK);
		ck_assert_int_eq(r[2 * n + 1].replayed, 1);
		ck_assert_int_eq(r[2 * n + 1].units, r[2 * n].units);
		ck_assert_int_eq(r[2 * n + 1].free_units, r[2 * n].free_units);
		ck_assert_int_eq(r[2 * n + 1].package_units,
				 r[2 * n].package_units);
		ck_assert_int_eq(r[2 * n + 1].payg_cost_micros,
				 r[2 * n].payg_cost_micros);
		ck_assert_uint_eq(r[2 * n + 1].nlines, r[2 * n].nlines);
	}
	return a;
}

START_TEST(test_i16_keyed_charges_every_key_length)
{
	quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
	quota_receipt *r1 = calloc(2 * QUOTA_KEY_MAX + 2, sizeof *r1);
	quota_receipt *r2 = calloc(2 * QUOTA_KEY_MAX + 2, sizeof *r2);
	quota_account *a1, *a2;
	int i;

	ck_assert_ptr_nonnull(r1);
	ck_assert_ptr_nonnull(r2);
	a1 = keylen_run(c1, false, r1);
	a2 = keylen_run(c2, true, r2);
	for (i = 2; i < 2 * QUOTA_KEY_MAX + 2; i++)
		paths_agree(&r1[i], &r2[i]);
	snapshots_agree(a1, a2);
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	free(r1);
	free(r2);
}
END_TEST

/* A store's refusal of a late report's record changes nothing (§5). */
START_TEST(test_i16_late_report_refused_by_the_store)
{
	quota_ctx *c = new_ctx();
	void *before, *after;
	quota_account *a;
	quota_receipt r;
	quota_usage u;
	size_t n0, n1, n;
	uint32_t sms;
	mstore m;

	set_store(c, &m);
	sms = add_cat(c, "sms");
	a = add_acct(c, "a");
	add_pkg(a, "p", QUOTA_MASK(sms), 10, T0, T0 + 10 * 86400, 0, 0);
	/* Rows for hour 1 of day 0, then a newer day: a charge in that hour
	 * is a late report. */
	u = (quota_usage){.category = sms, .units = 1, .at = T0 + 3600};
	ck_assert_int_eq(quota_charge(a, &u, NULL), QUOTA_OK);
	u.at = T0 + 2 * 86400;
	ck_assert_int_eq(quota_charge(a, &u, NULL), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(a, &before, &n0), QUOTA_OK);
	n = m.n;
	m.answer = QUOTA_ESTORE;
	u.at = T0 + 3700;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_ESTORE);
	ck_assert_int_eq(r.units, 0);
	ck_assert_uint_eq(m.n, n);
	ck_assert_int_eq(quota_account_snapshot(a, &after, &n1), QUOTA_OK);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(before, after, n0), 0);
	m.answer = QUOTA_OK;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(r.package_units, 1);
	ck_assert_uint_eq(m.n, n + 1);
	quota_free(c, before);
	quota_free(c, after);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* §5, for stores reading back what they hold: quota_journal_peek and
 * quota_snapshot_peek check a record or snapshot as apply and load do
 * (frame, CRC-32C, format, header) and say its stream and number,
 * changing nothing; a flipped byte, a newer format or a cut record is
 * refused. */
START_TEST(test_s5_peek_records_and_snapshots)
{
	quota_ctx *c = new_ctx();
	char id[QUOTA_ID_MAX + 1];
	quota_account *a;
	uint64_t seq;
	unsigned char *p;
	void *snap;
	size_t n;
	uint32_t sms;
	mstore m;

	set_store(c, &m);
	ck_assert_int_eq(quota_category_add(c, "sms", &sms), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(c, "acme", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 9),
			 QUOTA_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_int_eq(quota_journal_peek(c, m.rec[0], m.len[0], id, &seq),
			 QUOTA_OK);
	ck_assert_str_eq(id, "");
	ck_assert_uint_eq(seq, 1);
	ck_assert_int_eq(quota_journal_peek(c, m.rec[2], m.len[2], id, &seq),
			 QUOTA_OK);
	ck_assert_str_eq(id, "acme");
	ck_assert_uint_eq(seq, 2);
	/* A flipped byte of the body, a cut record, a newer format. */
	p = m.rec[2];
	p[m.len[2] - 1] ^= 1;
	ck_assert_int_eq(quota_journal_peek(c, p, m.len[2], id, &seq),
			 QUOTA_ECORRUPT);
	ck_assert_str_eq(id, "");
	ck_assert_uint_eq(seq, 0);
	p[m.len[2] - 1] ^= 1;
	/* a whole record peeked with no context (as the Python and Node
	 * modules' journal_peek do) */
	ck_assert_int_eq(quota_journal_peek(NULL, p, m.len[2], id, &seq),
			 QUOTA_OK);
	ck_assert_uint_eq(seq, 2);
	ck_assert_int_eq(quota_journal_peek(NULL, p, m.len[2] - 1, id, &seq),
			 QUOTA_ECORRUPT);
	ck_assert_int_eq(quota_journal_peek(c, p, m.len[2], NULL, &seq),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_snapshot(a, &snap, &n), QUOTA_OK);
	ck_assert_int_eq(quota_snapshot_peek(c, snap, n, id, &seq), QUOTA_OK);
	ck_assert_str_eq(id, "acme");
	ck_assert_uint_eq(seq, quota_account_seq(a));
	p = snap;
	p[4]++; /* the snapshot's major format */
	ck_assert_int_eq(quota_snapshot_peek(c, snap, n, id, &seq),
			 QUOTA_EVERSION);
	p[4]--;
	p[n - 1] ^= 1;
	ck_assert_int_eq(quota_snapshot_peek(c, snap, n, id, &seq),
			 QUOTA_ECORRUPT);
	quota_free(c, snap);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* The example of quota_journal(5), byte for byte: a plain charge of 1
 * unit from the account's first package, record 7 of "acme". */
START_TEST(test_s5_journal_page_example)
{
	static const unsigned char body[] = {
		0x01, 0x01, 0x02, 0x07, 0x04, 'a', 'c', 'm', 'e',
		0x80, 0xe4, 0xad, 0x95, 0x0d,
		0x00, 0x02, 0x80, 0xe4, 0xad, 0x95, 0x0d, 0x00,
		0x00, 0x01, 0x00, 0x02, 0x00};
	quota_ctx *c = new_ctx();
	quota_account *a;
	quota_receipt r;
	quota_usage u;
	uint32_t sms;
	mstore m;

	set_store(c, &m);
	sms = add_cat(c, "sms");
	a = add_acct(c, "acme");                       /* 1 */
	add_pkg(a, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0,
		0);                                     /* 2 */
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 9),
			 QUOTA_OK);                     /* 3 */
	ck_assert_int_eq(quota_account_set_overage(a, sms,
						   QUOTA_OVERAGE_PAYG),
			 QUOTA_OK);                     /* 4 */
	ck_assert_int_eq(quota_account_set_credit_limit(a, 5), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T0), 0); /* 6: clock T0 */
	u = (quota_usage){.category = sms, .units = 1, .at = T0};
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK); /* 7 */
	ck_assert_uint_eq(m.seq[m.n - 1], 7);
	ck_assert_uint_eq(m.len[m.n - 1], 8 + sizeof body);
	ck_assert_int_eq(m.rec[m.n - 1][0], (int)sizeof body);
	ck_assert_msg(memcmp(m.rec[m.n - 1] + 8, body, sizeof body) == 0,
		      "the record differs from quota_journal(5)'s example");
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("s5");

	tcase_add_test(tc, test_s5_store_struct_is_versioned);
	tcase_add_test(tc, test_s5_fast_path_writes_the_general_record);
	tcase_add_test(tc, test_i16_late_reports_write_the_general_record);
	tcase_add_test(tc, test_i16_late_report_refused_by_the_store);
	tcase_add_test(tc, test_i16_late_rows_shared_by_accounts_and_pruned);
	tcase_add_test(tc, test_i16_keyed_charges_every_key_length);
	tcase_add_test(tc, test_s5_journal_page_example);
	tcase_add_test(tc, test_s5_peek_records_and_snapshots);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
