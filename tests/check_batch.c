/*
 * check_batch.c - quota_batch (§5, group commit): one store transaction
 * for many charges and holds, each with its own result; events after the
 * commit; a failed commit leaves every account as before the batch, or
 * unsynced when the outcome is unknown; a refused keyed batch on a full
 * key window leaves the window as if nothing happened.
 *
 * Issue 13 (many accounts at once: quota_account_find_many, the batch's
 * look-ahead) went to check_batch_many.c; the helpers the two share (T0,
 * the transactional store txstore, tx_attach, tx_free, snap) to
 * support/batch.h.
 */
#include <check.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "batch.h"

#include <stdlib.h>
#include <string.h>

/* A world: two accounts with a package each and a tariff. */
typedef struct world {
	quota_ctx *c;
	quota_account *a, *b;
	uint32_t sms;
	txstore st;
} world;

static int events_seen;
static txstore *events_store;

static int count_event(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	events_seen++;
	/* §5: an event fires only after its record is stored. */
	ck_assert_int_eq(events_store->in_txn, 0);
	return 0;
}

static void build(world *w, int with_txn)
{
	quota_tariff *t;

	w->c = new_ctx();
	tx_attach(w->c, &w->st, with_txn);
	events_store = &w->st;
	events_seen = 0;
	ck_assert_int_eq(quota_ctx_set_event_hook(w->c, count_event, NULL),
			 QUOTA_OK);
	w->sms = add_cat(w->c, "sms");
	t = add_tariff(w->c, "t");
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000),
			 QUOTA_OK);
	w->a = add_acct(w->c, "a");
	w->b = add_acct(w->c, "b");
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->sms, t), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(w->b, w->sms, t), QUOTA_OK);
	add_pkg(w->a, "pa", QUOTA_MASK(w->sms), 10, T0 - 86400, T0 + 86400, 0,
		0);
	add_pkg(w->b, "pb", QUOTA_MASK(w->sms), 3, T0 - 86400, T0 + 86400, 0,
		0);
	ck_assert_int_eq(quota_account_add_alert(w->a, w->sms, 2,
						 QUOTA_ALERT_UNITS),
			 QUOTA_OK);
}

static void world_free(world *w)
{
	quota_ctx_free(w->c);
	tx_free(&w->st);
}

static void assert_snap(const quota_account *a, const void *p, size_t n)
{
	size_t m;
	void *q = snap(a, &m);

	ck_assert_uint_eq(n, m);
	ck_assert_msg(memcmp(p, q, n) == 0, "account '%s' changed",
		      quota_account_id(a));
	quota_free(quota_account_ctx(a), q);
}

/* The batch every test runs: charges, an SMS, a reservation committed
 * later, a keyed charge, a bad one, across both accounts. */
static size_t fill(world *w, quota_op *ops)
{
	size_t n = 0;

	memset(ops, 0, 8 * sizeof *ops);
	ops[n].kind = QUOTA_OP_CHARGE;
	ops[n].account = w->a;
	ops[n++].usage = (quota_usage){.category = w->sms, .units = 6,
				       .at = T0};
	ops[n].kind = QUOTA_OP_CHARGE;
	ops[n].account = w->b;
	ops[n++].usage = (quota_usage){.category = w->sms, .units = 5,
				       .at = T0 + 1, .key = "k-b-1"};
	ops[n].kind = QUOTA_OP_CHARGE_SMS;
	ops[n].account = w->a;
	ops[n].usage = (quota_usage){.category = w->sms, .at = T0 + 2,
				     .key = "sms-1"};
	ops[n].text = "hello";
	ops[n++].text_len = 5;
	ops[n].kind = QUOTA_OP_RESERVE;
	ops[n].account = w->a;
	ops[n].timeout_s = 600;
	ops[n++].usage = (quota_usage){.category = w->sms, .units = 3,
				       .at = T0 + 3};
	ops[n].kind = QUOTA_OP_CHARGE; /* refused: 0 units */
	ops[n].account = w->b;
	ops[n++].usage = (quota_usage){.category = w->sms, .units = 0,
				       .at = T0 + 4};
	return n;
}

START_TEST(test_batch_commits_every_operation_with_its_own_result)
{
	world w, ref;
	quota_op ops[8];
	quota_receipt r;
	size_t n, i, na, nb;
	void *sa, *sb;
	int ev;

	build(&w, 1);
	build(&ref, 1);
	n = fill(&w, ops);
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_OK);
	ev = events_seen;
	ck_assert_int_gt(ev, 0); /* the alert at 2 units left, after commit */
	ck_assert_int_eq(w.st.begins, 1);
	ck_assert_int_eq(w.st.commits, 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(ops[i].rc, i == 4 ? QUOTA_EINVAL : QUOTA_OK);
	ck_assert_int_eq(ops[0].receipt.package_units, 6);
	ck_assert_int_eq(ops[1].receipt.package_units, 3);
	ck_assert_int_eq(ops[1].receipt.payg_units, 2);
	ck_assert_uint_ne(ops[3].hold_id, 0);
	/* The same operations one by one give the same state. */
	{
		quota_op one[8];
		size_t m = fill(&ref, one);

		for (i = 0; i < m; i++) {
			ck_assert_int_eq(quota_batch(ref.c, &one[i], 1),
					 QUOTA_OK);
			ck_assert_int_eq(one[i].rc, ops[i].rc);
			ck_assert_int_eq(one[i].receipt.payg_cost_micros,
					 ops[i].receipt.payg_cost_micros);
		}
	}
	sa = snap(ref.a, &na);
	sb = snap(ref.b, &nb);
	assert_snap(w.a, sa, na);
	assert_snap(w.b, sb, nb);
	quota_free(ref.c, sa);
	quota_free(ref.c, sb);
	/* A retried key replays across batches. */
	{
		quota_usage u = {.category = w.sms, .units = 5, .at = T0 + 1,
				 .key = "k-b-1"};

		ck_assert_int_eq(quota_charge(w.b, &u, &r), QUOTA_OK);
		ck_assert_int_eq(r.replayed, 1);
	}
	/* Commit the hold in a second batch. */
	memset(ops, 0, sizeof ops);
	ops[0].kind = QUOTA_OP_COMMIT;
	ops[0].account = w.a;
	ops[0].hold_id = ref.a ? 1 : 0;
	ops[0].units_used = 2;
	ck_assert_int_eq(quota_batch(w.c, ops, 1), QUOTA_OK);
	ck_assert_int_eq(ops[0].rc, QUOTA_OK);
	ck_assert_int_eq(ops[0].receipt.units, 2);
	world_free(&w);
	world_free(&ref);
}
END_TEST

START_TEST(test_batch_refused_commit_leaves_accounts_as_before)
{
	world w;
	quota_op ops[8];
	size_t n, i, na, nb, records;
	void *sa, *sb;
	quota_usage u;
	quota_receipt r;

	build(&w, 1);
	sa = snap(w.a, &na);
	sb = snap(w.b, &nb);
	records = w.st.n;
	events_seen = 0;
	w.st.commit_result = QUOTA_ESTORE;
	n = fill(&w, ops);
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_ESTORE);
	ck_assert_int_eq(events_seen, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(ops[i].rc,
				 i == 4 ? QUOTA_EINVAL : QUOTA_ESTORE);
	/* the reservation did not stand: no hold (quota_reserve(3)) */
	ck_assert_int_eq(ops[3].kind, QUOTA_OP_RESERVE);
	ck_assert_uint_eq(ops[3].hold_id, 0);
	assert_snap(w.a, sa, na);
	assert_snap(w.b, sb, nb);
	ck_assert_uint_eq(w.st.n, records);
	/* The work goes on once the store takes it. */
	w.st.commit_result = QUOTA_OK;
	n = fill(&w, ops);
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_OK);
	ck_assert_int_eq(ops[0].rc, QUOTA_OK);
	u = (quota_usage){.category = w.sms, .units = 1, .at = T0 + 9};
	ck_assert_int_eq(quota_charge(w.a, &u, &r), QUOTA_OK);
	quota_free(w.c, sa);
	quota_free(w.c, sb);
	world_free(&w);
}
END_TEST

/* Unknown outcome: the accounts are unsynced until the host reads them
 * back from the store, which here did keep the batch. */
START_TEST(test_batch_unknown_commit_unsyncs_until_resync)
{
	world w, back;
	quota_op ops[8];
	quota_usage u = {.category = 0, .units = 1, .at = T0 + 9};
	quota_receipt r;
	quota_account *acc[2];
	size_t n, i, k, na;
	void *sa;

	build(&w, 1);
	w.st.commit_result = QUOTA_EUNKNOWN;
	n = fill(&w, ops);
	events_seen = 0;
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_EUNKNOWN);
	ck_assert_int_eq(events_seen, 0);
	ck_assert_int_eq(ops[0].rc, QUOTA_EUNKNOWN);
	u.category = w.sms;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_charge(w.b, &u, &r), QUOTA_EUNSYNCED);
	/* Re-synchronise each account from the store's records. */
	acc[0] = w.a;
	acc[1] = w.b;
	for (k = 0; k < 2; k++) {
		const char *id = quota_account_id(acc[k]);

		ck_assert_int_eq(quota_account_reset(acc[k], NULL, 0),
				 QUOTA_OK);
		for (i = 0; i < w.st.n; i++)
			if (strcmp(w.st.r[i].account, id) == 0)
				ck_assert_msg(quota_journal_apply(
						      w.c, w.st.r[i].p,
						      w.st.r[i].n,
						      QUOTA_JOURNAL_CHECK) ==
						      QUOTA_OK,
					      "%s", quota_errmsg(w.c));
	}
	w.st.commit_result = QUOTA_OK;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), QUOTA_OK);
	/* The store and memory agree: replay the store elsewhere. */
	back.c = new_ctx();
	tu_journal_skip(back.c);
	/* the same hook: alerts are armed only where events are heard */
	ck_assert_int_eq(quota_ctx_set_event_hook(back.c, count_event, NULL),
			 QUOTA_OK);
	for (i = 0; i < w.st.n; i++)
		ck_assert_int_eq(quota_journal_apply(back.c, w.st.r[i].p,
						     w.st.r[i].n,
						     QUOTA_JOURNAL_CHECK),
				 QUOTA_OK);
	ck_assert_int_eq(quota_account_find(back.c, "a", &back.a), QUOTA_OK);
	sa = snap(back.a, &na);
	assert_snap(w.a, sa, na);
	quota_free(back.c, sa);
	quota_ctx_free(back.c);
	world_free(&w);
}
END_TEST

START_TEST(test_batch_without_transactions_runs_one_by_one)
{
	world w;
	quota_op ops[8];
	size_t n;

	build(&w, 0);
	n = fill(&w, ops);
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_OK);
	ck_assert_int_eq(w.st.begins, 0);
	ck_assert_int_eq(ops[0].rc, QUOTA_OK);
	ck_assert_int_eq(ops[4].rc, QUOTA_EINVAL);
	world_free(&w);
}
END_TEST

/* A hold reserved in one batch and released in the next: its units go
 * back to the package, the receipt says RELEASE, and the release is one
 * transaction of its own. */
START_TEST(test_batch_release_returns_the_hold)
{
	world w;
	quota_op op;
	quota_package *pa;
	int begins;

	build(&w, 1);
	ck_assert_int_eq(quota_package_find(w.a, "pa", &pa), QUOTA_OK);
	memset(&op, 0, sizeof op);
	op.kind = QUOTA_OP_RESERVE;
	op.account = w.a;
	op.timeout_s = 600;
	op.usage = (quota_usage){.category = w.sms, .units = 4, .at = T0};
	ck_assert_int_eq(quota_batch(w.c, &op, 1), QUOTA_OK);
	ck_assert_int_eq(op.rc, QUOTA_OK);
	ck_assert_int_eq(quota_package_remaining(pa), 6);
	ck_assert_int_eq(quota_account_held(w.a, w.sms), 4);

	begins = w.st.begins;
	op.kind = QUOTA_OP_RELEASE;
	op.key = "rel-1";
	ck_assert_int_eq(quota_batch(w.c, &op, 1), QUOTA_OK);
	ck_assert_int_eq(op.rc, QUOTA_OK);
	ck_assert_int_eq(op.receipt.kind, QUOTA_RECEIPT_RELEASE);
	ck_assert_int_eq(op.receipt.package_units, 4);
	ck_assert_int_eq(w.st.begins, begins + 1);
	ck_assert_int_eq(quota_package_remaining(pa), 10);
	ck_assert_int_eq(quota_account_held(w.a, w.sms), 0);
	ck_assert_uint_eq(quota_account_hold_count(w.a), 0);
	/* a hold released is resolved: releasing it again is refused */
	op.key = "rel-2";
	ck_assert_int_eq(quota_batch(w.c, &op, 1), QUOTA_OK);
	ck_assert_int_eq(op.rc, QUOTA_ERESOLVED);
	ck_assert_int_eq(quota_package_remaining(pa), 10);
	world_free(&w);
}
END_TEST

/* A batch refused before anything ran: every operation carries the
 * call's code, a zeroed receipt and no hold (quota_batch(3): an operation
 * stands exactly when its rc is QUOTA_OK). */
static void assert_all_refused(const quota_op *ops, size_t n, int rc)
{
	static const quota_receipt zero;
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(ops[i].rc == rc, "op %zu: rc %d, want %d", i,
			      ops[i].rc, rc);
		ck_assert(memcmp(&ops[i].receipt, &zero, sizeof zero) == 0);
		if (ops[i].kind == QUOTA_OP_RESERVE)
			ck_assert_uint_eq(ops[i].hold_id, 0);
	}
}

/* The store cannot begin the transaction: QUOTA_ESTORE, nothing ran,
 * every operation refused; the message names the store's own code, a
 * number of the host's own too. */
START_TEST(test_batch_begin_refused_refuses_every_operation)
{
	world w;
	quota_op ops[8];
	size_t n, na, nb, i, nrec;
	void *sa, *sb;

	build(&w, 1);
	nrec = w.st.n;
	sa = snap(w.a, &na);
	sb = snap(w.b, &nb);
	n = fill(&w, ops);
	for (i = 0; i < n; i++) { /* what a host's last batch left */
		ops[i].receipt.units = 7;
		ops[i].hold_id = 9;
	}
	w.st.begin_result = 42;
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_ESTORE);
	assert_all_refused(ops, n, QUOTA_ESTORE);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.c), "42"));
	ck_assert_uint_eq(w.st.n, nrec);
	assert_snap(w.a, sa, na);
	assert_snap(w.b, sb, nb);
	ck_assert_int_eq(events_seen, 0);
	/* the commit refused with a code of the host's own: named too */
	w.st.begin_result = QUOTA_OK;
	w.st.commit_result = 43;
	n = fill(&w, ops);
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_ESTORE);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(w.c), "43"));
	assert_snap(w.a, sa, na);
	quota_free(w.c, sa);
	quota_free(w.c, sb);
	world_free(&w);
}
END_TEST

START_TEST(test_batch_bad_arguments)
{
	world w;
	quota_op ops[8];
	size_t n;
	quota_ctx *other = new_ctx();
	quota_account *x = add_acct(other, "x");

	build(&w, 1);
	ck_assert_int_eq(quota_batch(NULL, ops, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_batch(w.c, NULL, 1), QUOTA_EINVAL);
	ck_assert_int_eq(quota_batch(w.c, NULL, 0), QUOTA_OK);
	n = fill(&w, ops);
	ops[2].kind = 99;
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_EINVAL);
	ck_assert_int_eq(w.st.begins, 0);
	/* nothing ran: no operation reads QUOTA_OK (fill left rc 0) */
	assert_all_refused(ops, n, QUOTA_EINVAL);
	n = fill(&w, ops);
	ops[1].account = x;
	ck_assert_int_eq(quota_batch(w.c, ops, n), QUOTA_EINVAL);
	ck_assert_int_eq(w.st.begins, 0);
	assert_all_refused(ops, n, QUOTA_EINVAL);
	quota_ctx_free(other);
	world_free(&w);
}
END_TEST

/* Allocation N of a batch fails: QUOTA_ENOMEM before anything ran, or
 * the batch runs (an operation may then report its own ENOMEM). */
START_TEST(test_batch_allocation_failures)
{
	long k;

	for (k = 1; k < 400; k++) {
		tu_alloc al;
		quota_ctx *c;
		world w;
		quota_op ops[8];
		size_t n, na, nb;
		void *sa, *sb;
		int rc;

		tu_alloc_init(&al);
		ck_assert_int_eq(quota_ctx_new_with(&al.a, &c), QUOTA_OK);
		quota_ctx_free(c);
		/* the world on the counting allocator */
		memset(&w, 0, sizeof w);
		ck_assert_int_eq(quota_ctx_new_with(&al.a, &w.c), QUOTA_OK);
		tx_attach(w.c, &w.st, 1);
		w.sms = add_cat(w.c, "sms");
		w.a = add_acct(w.c, "a");
		w.b = add_acct(w.c, "b");
		add_pkg(w.a, "pa", QUOTA_MASK(w.sms), 10, T0 - 86400,
			T0 + 86400, 0, 0);
		sa = snap(w.a, &na);
		sb = snap(w.b, &nb);
		n = fill(&w, ops);
		tu_alloc_fail_in(&al, k);
		rc = quota_batch(w.c, ops, n);
		tu_alloc_disarm(&al);
		if (rc == QUOTA_ENOMEM) {
			assert_snap(w.a, sa, na);
			assert_snap(w.b, sb, nb);
			assert_all_refused(ops, n, QUOTA_ENOMEM);
		} else {
			ck_assert_int_eq(rc, QUOTA_OK);
		}
		quota_free(w.c, sa);
		quota_free(w.c, sb);
		world_free(&w);
		ck_assert_int_eq(al.live_blocks, 0);
		if (al.failures == 0)
			break;
	}
	ck_assert_int_lt(k, 400);
}
END_TEST

/* ------------------------------------------------ keyed, full windows */

/* w with a key window of max_keys keys and max_age seconds on both
 * accounts, filled by nfill keyed 1-unit charges each ("w<i>" at
 * T0 + i * step; the first ones draw on the package). */
static void keyed_world(world *w, uint32_t max_keys, int64_t max_age,
			int nfill, int64_t step)
{
	quota_account *acc[2];
	int i, k;

	build(w, 1);
	acc[0] = w->a;
	acc[1] = w->b;
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(quota_account_set_key_window(acc[k], max_keys,
							      max_age),
				 QUOTA_OK);
		for (i = 0; i < nfill; i++) {
			char key[16];
			quota_usage u = {.category = w->sms, .units = 1,
					 .at = T0 + i * step, .key = key};
			quota_receipt r;

			snprintf(key, sizeof key, "w%d", i);
			ck_assert_int_eq(quota_charge(acc[k], &u, &r),
					 QUOTA_OK);
		}
	}
}

static void keyed(quota_op *op, quota_account *a, uint32_t cat,
		  const char *key, int64_t at)
{
	memset(op, 0, sizeof *op);
	op->kind = QUOTA_OP_CHARGE;
	op->account = a;
	op->usage = (quota_usage){.category = cat, .units = 1, .at = at,
				  .key = key};
}

/*
 * ops (on w) refused: w's accounts are as ref's (the same world without
 * the batch), byte for byte.  Then the same ops stand in both, with the
 * same results and states, and so do repeats of keys (every one of them
 * replays or is new in both): the window works as if nothing happened.
 */
static void refuse_then_redo(world *w, world *ref, quota_op *ops,
			     quota_op *rops, size_t n, const char **keys,
			     size_t nkeys)
{
	size_t i, na, nb;
	void *sa = snap(ref->a, &na), *sb = snap(ref->b, &nb);

	assert_snap(w->a, sa, na);
	assert_snap(w->b, sb, nb);
	w->st.commit_result = QUOTA_ESTORE;
	ck_assert_int_eq(quota_batch(w->c, ops, n), QUOTA_ESTORE);
	assert_snap(w->a, sa, na);
	assert_snap(w->b, sb, nb);
	quota_free(ref->c, sa);
	quota_free(ref->c, sb);
	w->st.commit_result = QUOTA_OK;
	for (i = 0; i < n; i++)
		if (ops[i].kind == QUOTA_OP_RESERVE)
			ops[i].hold_id = 0;
	ck_assert_int_eq(quota_batch(w->c, ops, n), QUOTA_OK);
	ck_assert_int_eq(quota_batch(ref->c, rops, n), QUOTA_OK);
	for (i = 0; i < n; i++) {
		ck_assert_msg(ops[i].rc == QUOTA_OK, "operation %zu: %s", i,
			      quota_err_name(ops[i].rc));
		ck_assert_int_eq(rops[i].rc, QUOTA_OK);
		ck_assert_int_eq(ops[i].receipt.replayed,
				 rops[i].receipt.replayed);
	}
	for (i = 0; i < nkeys; i++) {
		quota_usage u = {.category = w->sms, .units = 1,
				 .at = T0 + 1000, .key = keys[i]};
		quota_receipt r, rr;
		int rc = quota_charge(w->a, &u, &r);

		ck_assert_int_eq(quota_charge(ref->a, &u, &rr), rc);
		if (rc == QUOTA_OK)
			ck_assert_int_eq(r.replayed, rr.replayed);
		u.at = T0 + 1001;
		rc = quota_charge(w->b, &u, &r);
		ck_assert_int_eq(quota_charge(ref->b, &u, &rr), rc);
		if (rc == QUOTA_OK)
			ck_assert_int_eq(r.replayed, rr.replayed);
	}
	sa = snap(ref->a, &na);
	sb = snap(ref->b, &nb);
	assert_snap(w->a, sa, na);
	assert_snap(w->b, sb, nb);
	quota_free(ref->c, sa);
	quota_free(ref->c, sb);
}

static const char *const probe_keys[] = {"w0", "w1", "w2", "w3", "w4",
					 "w5", "n0", "n1", "n5", "r1",
					 "c1", "y", "z", "b0"};
#define NPROBE (sizeof probe_keys / sizeof *probe_keys)

/* A full window of 6 keys: the batch forgets them all by count, and some
 * of its own records too; a key it forgets is stored again. */
static size_t fill_by_count(world *w, quota_op *ops)
{
	static const char *const nk[] = {"n1", "n2", "n3", "n4", "n5"};
	size_t n = 0, i;

	keyed(&ops[n++], w->a, w->sms, "n0", T0 + 10); /* forgets w0 */
	keyed(&ops[n++], w->a, w->sms, "w3", T0 + 3);  /* replays */
	keyed(&ops[n++], w->a, w->sms, "w0", T0 + 11); /* new again */
	keyed(&ops[n], w->a, w->sms, "r1", T0 + 12);
	ops[n].kind = QUOTA_OP_RESERVE;
	ops[n++].timeout_s = 600;
	memset(&ops[n], 0, sizeof ops[n]);
	ops[n].kind = QUOTA_OP_COMMIT;
	ops[n].account = w->a;
	ops[n].hold_id = 1; /* the reservation's */
	ops[n].units_used = 1;
	ops[n++].key = "c1";
	for (i = 0; i < 5; i++)
		keyed(&ops[n++], w->a, w->sms, nk[i], T0 + 13 + (int64_t)i);
	keyed(&ops[n++], w->b, w->sms, "b0", T0 + 10);
	keyed(&ops[n++], w->b, w->sms, "w1", T0 + 1); /* replays */
	keyed(&ops[n++], w->b, w->sms, NULL, T0 + 11);
	return n;
}

START_TEST(test_batch_refused_keyed_full_window_by_count)
{
	world w, ref;
	quota_op ops[16], rops[16];
	size_t n;

	keyed_world(&w, 6, 30 * 86400, 6, 1);
	keyed_world(&ref, 6, 30 * 86400, 6, 1);
	n = fill_by_count(&w, ops);
	ck_assert_uint_eq(fill_by_count(&ref, rops), n);
	refuse_then_redo(&w, &ref, ops, rops, n, (const char **)probe_keys,
			 NPROBE);
	world_free(&w);
	world_free(&ref);
}
END_TEST

/* Keys over 60 seconds old are forgotten: the batch's newer keys forget
 * the old ones by age, then one of its own. */
static size_t fill_by_age(world *w, quota_op *ops)
{
	size_t n = 0;

	keyed(&ops[n++], w->a, w->sms, "n0", T0 + 85); /* w0-w2 go */
	keyed(&ops[n++], w->a, w->sms, "w4", T0 + 40); /* replays */
	keyed(&ops[n++], w->b, w->sms, "b0", T0 + 75);
	keyed(&ops[n++], w->a, w->sms, "n1", T0 + 200); /* all go */
	keyed(&ops[n++], w->a, w->sms, "w1", T0 + 201); /* new again */
	return n;
}

START_TEST(test_batch_refused_keyed_full_window_by_age)
{
	world w, ref;
	quota_op ops[16], rops[16];
	size_t n;

	keyed_world(&w, 100, 60, 6, 10);
	keyed_world(&ref, 100, 60, 6, 10);
	n = fill_by_age(&w, ops);
	ck_assert_uint_eq(fill_by_age(&ref, rops), n);
	refuse_then_redo(&w, &ref, ops, rops, n, (const char **)probe_keys,
			 NPROBE);
	world_free(&w);
	world_free(&ref);
}
END_TEST

/* A window of one key: a key older than the window allows empties it,
 * and the batch fills it again. */
static size_t fill_emptied(world *w, quota_op *ops)
{
	size_t n = 0;

	keyed(&ops[n++], w->a, w->sms, "y", T0 + 2);   /* w9, then y go */
	keyed(&ops[n++], w->a, w->sms, "z", T0 + 60);  /* alone */
	keyed(&ops[n++], w->a, w->sms, "w0", T0 + 61); /* z goes */
	return n;
}

START_TEST(test_batch_refused_keyed_window_emptied)
{
	world w, ref;
	quota_op ops[16], rops[16];
	size_t n;

	keyed_world(&w, 1, 10, 1, 50);
	keyed_world(&ref, 1, 10, 1, 50);
	/* w0 at T0 first: move it to T0 + 50 */
	{
		quota_usage u = {.category = w.sms, .units = 1, .at = T0 + 50,
				 .key = "w9"};
		quota_receipt r;

		ck_assert_int_eq(quota_charge(w.a, &u, &r), QUOTA_OK);
		ck_assert_int_eq(quota_charge(ref.a, &u, &r), QUOTA_OK);
	}
	n = fill_emptied(&w, ops);
	ck_assert_uint_eq(fill_emptied(&ref, rops), n);
	refuse_then_redo(&w, &ref, ops, rops, n, (const char **)probe_keys,
			 NPROBE);
	world_free(&w);
	world_free(&ref);
}
END_TEST

/* Allocation N of a refused keyed batch on a full window fails: the
 * accounts are as before, or unsynced where one could not be put back;
 * nothing leaks. */
START_TEST(test_batch_refused_keyed_allocation_failures)
{
	long k;

	for (k = 1; k < 1000; k++) {
		tu_alloc al;
		world w;
		quota_op ops[16];
		quota_account *acc[2];
		size_t n, len[2], j;
		void *s[2];
		int i, rc;

		tu_alloc_init(&al);
		memset(&w, 0, sizeof w);
		ck_assert_int_eq(quota_ctx_new_with(&al.a, &w.c), QUOTA_OK);
		tx_attach(w.c, &w.st, 1);
		w.sms = add_cat(w.c, "sms");
		acc[0] = w.a = add_acct(w.c, "a");
		acc[1] = w.b = add_acct(w.c, "b");
		add_pkg(w.a, "pa", QUOTA_MASK(w.sms), 10, T0 - 86400,
			T0 + 86400, 0, 0);
		for (j = 0; j < 2; j++) {
			ck_assert_int_eq(quota_account_set_key_window(
						 acc[j], 6, 30 * 86400),
					 QUOTA_OK);
			for (i = 0; i < 6; i++) {
				char key[16];
				quota_usage u = {.category = w.sms,
						 .units = 1, .at = T0 + i,
						 .key = key};
				quota_receipt r;

				snprintf(key, sizeof key, "w%d", i);
				ck_assert_int_eq(quota_charge(acc[j], &u, &r),
						 QUOTA_OK);
			}
			s[j] = snap(acc[j], &len[j]);
		}
		n = fill_by_count(&w, ops);
		w.st.commit_result = QUOTA_ESTORE;
		tu_alloc_fail_in(&al, k);
		rc = quota_batch(w.c, ops, n);
		tu_alloc_disarm(&al);
		ck_assert(rc == QUOTA_ENOMEM || rc == QUOTA_ESTORE);
		for (j = 0; j < 2; j++) {
			quota_usage u = {.category = w.sms, .units = 1,
					 .at = T0 + 100};
			quota_receipt r;
			void *q;
			size_t m;

			/* the library's own: it takes an unsynced account */
			ck_assert_int_eq(quota__snapshot(acc[j], &q, &m),
					 QUOTA_OK);
			if (m != len[j] || memcmp(q, s[j], m) != 0) {
				/* not put back: then unsynced */
				ck_assert_int_eq(rc, QUOTA_ESTORE);
				ck_assert_int_eq(quota_charge(acc[j], &u, &r),
						 QUOTA_EUNSYNCED);
			}
			quota_free(w.c, q);
			quota_free(w.c, s[j]);
		}
		world_free(&w);
		ck_assert_int_eq(al.live_blocks, 0);
		if (al.failures == 0)
			break;
	}
	ck_assert_int_lt(k, 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_batch_commits_every_operation_with_its_own_result);
	tcase_add_test(tc, test_batch_refused_commit_leaves_accounts_as_before);
	tcase_add_test(tc, test_batch_unknown_commit_unsyncs_until_resync);
	tcase_add_test(tc, test_batch_without_transactions_runs_one_by_one);
	tcase_add_test(tc, test_batch_release_returns_the_hold);
	tcase_add_test(tc, test_batch_bad_arguments);
	tcase_add_test(tc, test_batch_begin_refused_refuses_every_operation);
	tcase_add_test(tc, test_batch_allocation_failures);
	tcase_add_test(tc, test_batch_refused_keyed_full_window_by_count);
	tcase_add_test(tc, test_batch_refused_keyed_full_window_by_age);
	tcase_add_test(tc, test_batch_refused_keyed_window_emptied);
	tcase_add_test(tc, test_batch_refused_keyed_allocation_failures);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
