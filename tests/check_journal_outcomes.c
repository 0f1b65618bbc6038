/*
 * check_journal_outcomes.c - what a refused or unknown store outcome
 * leaves (DESIGN §5; R21, R23).
 *
 * The library bugs check_journal's store-fault sweep found, each pinned
 * by a short test: a call the store refused changes nothing (event
 * tracking is set up in apply, not in prepare); an R21 alert's armed
 * flag comes from the records alone, after a snapshot load and a
 * re-synchronisation and after a prune of packages.  Then R23's
 * auto-renewals with every store call of a scenario failed once, from
 * then on and as "stored, but reported failed": the records stored
 * replay in check mode, no package renewed twice.
 *
 * The wrapper store, snapshots and the checks that call Check only on
 * failure are tests/support/journal_sweep.h's; the sweep itself, its
 * workload and its reference run are check_journal.c's.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "journal_sweep.h"

/* ---------------------------------------------- regressions */

/*
 * Found by the sweep (from-then-on, N = 39, operation 43), fixed since
 * (event tracking is now set up in apply; prepare only makes room): a
 * call the store refused changed the account.  The first call after an
 * account is made (or loaded, or given an expiry warning) sets its event
 * tracking up in its prepare step (quota__events_room -> setup() in
 * lib/event.c: alerts' armed flags, packages' warning and expiry flags,
 * which the snapshot carries) before the journal step; when the store
 * then refuses the record, the call returns QUOTA_ESTORE but the set-up
 * stays, so memory no longer equals what the store holds (a context
 * rebuilt from the store's records has the alert armed, memory has it
 * disarmed).  Calls refused with QUOTA_EUNSYNCED or QUOTA_ENOMEM after
 * that step do the same.  §5: a refused call changes nothing.
 */
static int bug_failing;

static int bug_append(void *ud, const char *account, uint64_t seq,
		      const void *rec, size_t len)
{
	fstore *s = ud;

	if (bug_failing)
		return QUOTA_ESTORE;
	return fs_append(s, account, seq, rec, len);
}

START_TEST(test_bug_refused_call_sets_up_event_tracking)
{
	quota_store qs = QUOTA_STORE_INIT;
	fstore st;
	quota_ctx *ctx, *v;
	quota_account *a, *b;
	uint32_t c;
	void *s1, *s2, *s3;
	size_t n1, n2, n3;
	long d_store, d_refused;
	int rc;

	memset(&st, 0, sizeof st);
	st.fail_at = -1;
	qs.ud = &st;
	qs.append = bug_append;
	bug_failing = 0;
	ctx = ctx_fresh(noop_hook, NULL);
	ck_assert_int_eq(quota_ctx_set_store(ctx, &qs), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.verify", &c), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "acme", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, c, 20,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	snap_one(a, &s1, &n1);

	bug_failing = 1;
	rc = quota_account_set_credit_limit(a, 0);
	ck_assert_int_eq(rc, QUOTA_ESTORE);
	snap_one(a, &s2, &n2);

	/* What the store holds, applied to a fresh context. */
	v = ctx_fresh(noop_hook, NULL);
	apply_kept(v, &st, 0, fs_count(&st), 0, 0);
	ck_assert_int_eq(quota_account_find(v, "acme", &b), QUOTA_OK);
	snap_one(b, &s3, &n3);
	/* Everything freed before the verdict (no leak when it fails). */
	d_store = snap_diff(s1, n1, s3, n3);
	d_refused = snap_diff(s1, n1, s2, n2);
	free(s1);
	free(s2);
	free(s3);
	quota_ctx_free(v);
	quota_ctx_free(ctx);
	fs_free(&st);
	ck_assert_msg(d_store < 0, "the store's records give another account");
	ck_assert_msg(d_refused < 0,
		      "LIBRARY BUG: quota_account_set_credit_limit refused by "
		      "the store (QUOTA_ESTORE) changed the account's snapshot "
		      "(byte %ld): event tracking was set up in the prepare "
		      "step",
		      d_refused);
}
END_TEST

/*
 * Found by the sweep after R26 added a record (N = 3276, unknown outcome
 * of a charge of globex; acme differed), a bug of R21 alerts older than
 * R26: an alert added to an account whose event tracking is not set up
 * (just loaded from a snapshot, as a re-synchronisation after
 * QUOTA_EUNKNOWN does from its checkpoint) started armed whatever the
 * units left, while the same record applied to an account that had been
 * tracking all along started disarmed when the level was already
 * crossed.  The alert's prepare made no room for the tracking state, so
 * its apply could not set tracking up (quota__track answered false) and
 * took the untracked default.  So the armed flag, which the snapshot
 * carries, depended on what memory had done before, not on the records:
 * memory and the store's records disagreed byte for byte, and the
 * re-synchronised account fired a second QUOTA_EVENT_LOW_QUOTA for a
 * crossing already reported.  §5, R21: the records alone give the state.
 */
static int low_quota_count(const quota_event *e, void *ud)
{
	if (e->kind == QUOTA_EVENT_LOW_QUOTA)
		++*(int *)ud;
	return 0;
}

START_TEST(test_bug_r21_alert_armed_after_resync)
{
	const int64_t T = 1706659200; /* 2024-01-31T00:00Z */
	quota_store qs = QUOTA_STORE_INIT;
	quota_package_spec ps = {.id = "p", .units = 100, .effective_at = T,
				 .expires_at = QUOTA_NEVER};
	quota_usage u = {.units = 95, .at = T + 10};
	quota_receipt r;
	fstore st;
	quota_ctx *ctx, *v;
	quota_account *a, *b;
	uint32_t c, cv;
	void *s0, *s1, *s2;
	size_t n0, n1, n2;
	long mark, d;
	int live_low = 0, resync_low = 0;

	memset(&st, 0, sizeof st);
	st.fail_at = -1;
	qs.ud = &st;
	qs.append = bug_append;
	bug_failing = 0;
	ctx = ctx_fresh(low_quota_count, &live_low);
	ck_assert_int_eq(quota_ctx_set_store(ctx, &qs), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.verify", &c), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "acme", &a), QUOTA_OK);
	ps.categories = QUOTA_MASK(c);
	ck_assert_int_eq(quota_package_add(a, &ps, NULL), QUOTA_OK);
	u.category = c;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK); /* 5 left */
	/* The checkpoint: a snapshot, and the records after it. */
	snap_one(a, &s0, &n0);
	mark = fs_count(&st);
	/* 5 units left <= 10: already crossed, so the alert starts
	 * disarmed (tracking is set up: the charge above was tracked). */
	ck_assert_int_eq(quota_account_add_alert(a, c, 10, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	snap_one(a, &s1, &n1);

	/* Re-synchronised as after QUOTA_EUNKNOWN: a context with a hook,
	 * the checkpoint's snapshot, then the records after it. */
	v = ctx_fresh(low_quota_count, &resync_low);
	ck_assert_int_eq(quota_category_add(v, "sms.verify", &cv), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(v, s0, n0, &b), QUOTA_OK);
	apply_kept(v, &st, mark, fs_count(&st), 0, 0);
	snap_one(b, &s2, &n2);
	d = snap_diff(s1, n1, s2, n2);

	/* One more unit each: still below the level, no new crossing. */
	u.units = 1;
	u.at = T + 20;
	bug_failing = 0;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_OK);
	free(s0);
	free(s1);
	free(s2);
	quota_ctx_free(v);
	quota_ctx_free(ctx);
	fs_free(&st);
	ck_assert_msg(d < 0,
		      "LIBRARY BUG: R21 alert added after a snapshot load: "
		      "the re-synchronised account differs from memory "
		      "(byte %ld): its armed flag",
		      d);
	ck_assert_int_eq(live_low, 0);
	ck_assert_msg(resync_low == 0,
		      "LIBRARY BUG: the re-synchronised account fired %d "
		      "low-quota alerts for a crossing already past",
		      resync_low);
}
END_TEST

/*
 * The same family (R21, §7): pruning an exhausted package lowers a
 * percent alert's level (the units bought), so an alert crossed before
 * may be above it after; the prune fires nothing and, before the fix,
 * left the alert disarmed until the next flush.  Tracking set up again
 * after a snapshot load arms it (the units left are above the level), so
 * an alert added next gave memory one flag and the store's records,
 * re-applied to the loaded snapshot, another.
 */
START_TEST(test_bug_r21_alert_rearmed_by_prune)
{
	const int64_t T = 1706659200; /* 2024-01-31T00:00Z */
	quota_store qs = QUOTA_STORE_INIT;
	quota_package_spec ps = {.units = 100, .effective_at = T,
				 .expires_at = QUOTA_NEVER};
	quota_usage u = {.units = 100, .at = T + 10};
	quota_receipt r;
	fstore st;
	quota_ctx *ctx, *v;
	quota_account *a, *b;
	uint32_t c, cv;
	void *s0, *s1, *s2;
	size_t n0, n1, n2;
	long mark, d;
	int live_low = 0, resync_low = 0;

	memset(&st, 0, sizeof st);
	st.fail_at = -1;
	qs.ud = &st;
	qs.append = bug_append;
	bug_failing = 0;
	ctx = ctx_fresh(low_quota_count, &live_low);
	ck_assert_int_eq(quota_ctx_set_store(ctx, &qs), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.verify", &c), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(ctx, "acme", &a), QUOTA_OK);
	ps.categories = QUOTA_MASK(c);
	ps.id = "a100";
	ck_assert_int_eq(quota_package_add(a, &ps, NULL), QUOTA_OK);
	ps.id = "b10";
	ps.units = 10;
	ps.priority = 1;
	ck_assert_int_eq(quota_package_add(a, &ps, NULL), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T), 0); /* both usable */
	/* 50 %: the level is 55 of the 110 units bought. */
	ck_assert_int_eq(quota_account_add_alert(a, c, 50,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	u.category = c;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK); /* a100 empty */
	ck_assert_int_eq(live_low, 1);
	/* Two days on, settled; the exhausted package pruned: 10 bought,
	 * level 5, 10 left, so the alert is no longer crossed. */
	ck_assert_int_eq(quota_account_tick(a, T + 2 * 86400), 0);
	ck_assert_int_ge(quota_settle(a, T + 2 * 86400, NULL, NULL), 0);
	ck_assert_int_eq(quota_account_prune(a, T + 2 * 86400,
					     QUOTA_PRUNE_ALL |
						     QUOTA_PRUNE_PACKAGES),
			 QUOTA_OK);
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	snap_one(a, &s0, &n0);
	mark = fs_count(&st);
	ck_assert_int_eq(quota_account_add_alert(a, c, 1, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	snap_one(a, &s1, &n1);

	v = ctx_fresh(low_quota_count, &resync_low);
	ck_assert_int_eq(quota_category_add(v, "sms.verify", &cv), QUOTA_OK);
	ck_assert_int_eq(quota_account_load(v, s0, n0, &b), QUOTA_OK);
	apply_kept(v, &st, mark, fs_count(&st), 0, 0);
	snap_one(b, &s2, &n2);
	d = snap_diff(s1, n1, s2, n2);

	/* 6 more units: 4 left, below the level of 5: one alert each. */
	u.units = 6;
	u.at = T + 2 * 86400 + 10;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_OK);
	free(s0);
	free(s1);
	free(s2);
	quota_ctx_free(v);
	quota_ctx_free(ctx);
	fs_free(&st);
	ck_assert_msg(d < 0,
		      "LIBRARY BUG: R21 alert after a prune of packages: the "
		      "re-synchronised account differs from memory (byte "
		      "%ld): its armed flag",
		      d);
	ck_assert_int_eq(live_low, 2);
	ck_assert_int_eq(resync_low, 1);
}
END_TEST

/* ------------------------------------------------ R23 auto-renewal */

/* A store that keeps its records in order and fails call fail_at (once,
 * from then on, or stored but reported unknown). */
typedef struct rstore {
	unsigned char *buf;
	size_t n, off[64], len[64];
	int nrec;
	long calls, fail_at;
	int mode;
} rstore;

static int rs_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	rstore *s = ud;
	long c = s->calls++;
	int fail = s->mode != M_NONE &&
		   (c == s->fail_at || (s->mode == M_FROM && c >= s->fail_at));

	(void)account;
	(void)seq;
	if (fail && s->mode != M_UNKNOWN)
		return QUOTA_ESTORE;
	CHECK(s->nrec < 64);
	s->buf = realloc(s->buf, s->n + len);
	CHECK_NONNULL(s->buf);
	memcpy(s->buf + s->n, rec, len);
	s->off[s->nrec] = s->n;
	s->len[s->nrec++] = len;
	s->n += len;
	return fail ? QUOTA_EUNKNOWN : QUOTA_OK;
}

/* The R23 scenario: a package renewed by a charge at 100 units left;
 * the renewal's package due a day before its expiry, found by a tick,
 * whose renewal the balance cannot pay (refused, never retried by the
 * ticks after).  Returns the store calls. */
static long r23_scenario(rstore *s, quota_ctx **out, quota_account **acct)
{
	quota_offer_spec os = {.id = "koo", .units = 1000,
			       .price_micros = 500000, .valid_months = 1};
	quota_store st = QUOTA_STORE_INIT;
	quota_ctx *c = NULL;
	quota_account *a = NULL;
	quota_offer *o = NULL;
	quota_purchase pu;
	quota_receipt r;
	uint32_t cat = 0;
	int64_t t0 = tu_utc(2025, 3, 1, 0, 0, 0);
	quota_usage u = {.units = 950, .at = t0 + TU_DAY};

	st.ud = s;
	st.append = rs_append;
	CHECK_OP_EQ(quota_ctx_new(&c), QUOTA_OK);
	CHECK_OP_EQ(quota_ctx_set_store(c, &st), QUOTA_OK);
	*out = c;
	*acct = NULL;
	os.categories = 1;
	if (quota_category_add(c, "click", &cat) ||
	    quota_offer_add(c, &os, &o) || quota_account_new(c, "koo-1", &a))
		return s->calls;
	*acct = a;
	u.category = cat;
	(void)quota_account_topup(a, 1100000, t0);
	(void)quota_package_buy(a, o, 1, NULL, t0, NULL, &pu);
	(void)quota_renewal_set(a, o, 100, TU_DAY, t0);
	(void)quota_charge(a, &u, &r);
	(void)quota_account_tick(a, t0 + 40 * TU_DAY);
	(void)quota_account_tick(a, t0 + 40 * TU_DAY);
	(void)quota_account_tick(a, t0 + 80 * TU_DAY);
	return s->calls;
}

/*
 * R23 and §5 under store failures: fail store call N (once, from then on,
 * stored but reported unknown), for every N of the scenario.  The
 * records stored replay in check mode without a refusal (a package is
 * never renewed twice: replay refuses a second renewal); without an
 * unknown outcome the replayed account equals the live one byte for
 * byte.
 */
START_TEST(test_r23_store_fault_sweep_renewals)
{
	rstore ref = {0};
	quota_ctx *c;
	quota_account *a;
	long total, n;
	int mode;

	ref.fail_at = -1;
	total = r23_scenario(&ref, &c, &a);
	/* config 2, account 1, top-up, buy, mark, charge, its renewal, the
	 * first tick and its refused renewal, the other two ticks (no
	 * renewal): 11 records. */
	CHECK_OP_EQ(total, 11);
	CHECK_OP_EQ(quota_account_package_count(a), 2);
	quota_ctx_free(c);
	free(ref.buf);
	for (mode = M_ONCE; mode <= M_UNKNOWN; mode++)
		for (n = 0; n < total; n++) {
			rstore s = {0};
			quota_ctx *c2 = NULL;
			quota_account *b = NULL;
			void *p1 = NULL, *p2 = NULL;
			size_t n1 = 0, n2 = 0;
			int i;

			s.fail_at = n;
			s.mode = mode;
			r23_scenario(&s, &c, &a);
			CHECK_OP_EQ(quota_ctx_new(&c2), QUOTA_OK);
			tu_journal_skip(c2); /* records applied, not its calls */
			for (i = 0; i < s.nrec; i++)
				CHECK_MSG(quota_journal_apply(
						  c2, s.buf + s.off[i], s.len[i],
						  QUOTA_JOURNAL_CHECK) ==
						  QUOTA_OK,
					  "%s N=%ld: record %d refused: %s",
					  mode_names[mode], n, i,
					  quota_errmsg(c2));
			if (a && mode != M_UNKNOWN &&
			    quota_account_find(c2, "koo-1", &b) == QUOTA_OK) {
				CHECK_OP_EQ(quota_account_snapshot(a, &p1, &n1),
					    QUOTA_OK);
				CHECK_OP_EQ(quota_account_snapshot(b, &p2, &n2),
					    QUOTA_OK);
				CHECK_MSG(n1 == n2 && !memcmp(p1, p2, n1),
					  "%s N=%ld: replay differs",
					  mode_names[mode], n);
				quota_free(c, p1);
				quota_free(c2, p2);
			}
			quota_ctx_free(c2);
			quota_ctx_free(c);
			free(s.buf);
		}
}
END_TEST

static Suite *journal_outcomes_suite(void)
{
	Suite *s = suite_create("journal_outcomes");
	TCase *tc = tcase_create("sweep");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_r23_store_fault_sweep_renewals);
	suite_add_tcase(s, tc);
	/* Library bugs check_journal's sweep found: each fails until lib/ is
	 * fixed. */
	tc = tcase_create("regressions");
	tcase_add_test(tc, test_bug_refused_call_sets_up_event_tracking);
	tcase_add_test(tc, test_bug_r21_alert_armed_after_resync);
	tcase_add_test(tc, test_bug_r21_alert_rearmed_by_prune);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(journal_outcomes_suite());
}
