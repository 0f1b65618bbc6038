/*
 * check_journal.c - store-fault sweep (DESIGN §5, §9; STYLE 19).
 *
 * A deterministic workload of NOPS operations over NACC accounts uses
 * every call that changes state: the configuration stream first
 * (categories, tariffs, offers), then the accounts' set-up, then a long
 * mix of charges (keyed and not, SMS, late ones), reservations, commits,
 * releases, ticks, reversals, settlements, top-ups, package additions and
 * purchases and every setter; issue 15 added per-reason failure fees,
 * blocking and unblocking (R25), kept receipts, releases with a reason
 * and reversals by receipt id (R27).  Operation i is a pure function of i
 * (describe()): a run can start at any operation.  The only thing an
 * operation takes from earlier results is the hold id of the reservation
 * it commits or releases; runs take the ids of operations before their
 * start from the reference run, whose state they start from.
 *
 * A wrapper store keeps every record it accepts (account, sequence
 * number, bytes) and behaves like a store keyed by (stream, seq): a
 * sequence number it already holds is refused with QUOTA_ECONFLICT.  It
 * can fail store call N:
 *   once          call N is refused (QUOTA_ESTORE), the record not kept;
 *   from-then-on  every call from N is refused;
 *   unknown       call N's record is kept, but the store answers
 *                 QUOTA_EUNKNOWN ("stored, but reported failed").
 *
 * The reference run (no faults) records every store call and the
 * operation that made it.  For every store call N (a sample in
 * QUOTA_TEST_QUICK mode) and every mode, a run rebuilds the state just
 * before the operation that made call N from the reference records
 * (configuration records, account snapshots taken at a checkpoint, the
 * records after it; every 64th run's verification applies every record
 * from the first, in check mode), attaches the failing store and runs K
 * operations from that one (from-then-on: every 2nd N, to keep the time;
 * QUOTA_TEST_QUICK: every 37th N).  Then:
 *   - memory equals the store: the records the wrapper kept, applied to a
 *     fresh context, give every account's snapshot byte for byte, and the
 *     same categories, tariffs and offers;
 *   - money is conserved: balance == topped_up - purchased
 *     - (billed - outstanding) for every account;
 *   - package units are conserved: on the context rebuilt from the store,
 *     sum(units - remaining) - package units in the usage report -
 *     units forfeited by reversals lies in [0, held]; ticking past every
 *     hold's deadline makes it exactly 0 with nothing held;
 *   - no idempotency key applies twice: every keyed call of the run that
 *     succeeded (or conflicted) is retried; each replays (or conflicts),
 *     makes no store call and changes no account's snapshot;
 *   - events fire only after the store accepted the call's record, and a
 *     refused call fires none;
 *   - once: the failing call returns QUOTA_ESTORE, changes nothing, and
 *     retried at once returns what the reference run returned (with the
 *     same receipt); later calls are never refused by the store;
 *   - from-then-on: every call that reaches the store returns
 *     QUOTA_ESTORE; nothing changes from the failing call on;
 *   - unknown: the call returns QUOTA_EUNKNOWN and changes nothing in
 *     memory; further changes of that account return QUOTA_EUNSYNCED and
 *     reach no store; the test re-synchronises it as a host would
 *     (quota_account_reset from a snapshot or to nothing, then the
 *     store's records of the account); its key then replays and the
 *     operations go on.
 *
 * To look at one store call: QUOTA_SWEEP_N=n runs call n in every mode,
 * QUOTA_SWEEP_FULL=1 verifies every run from every record.
 *
 * The configuration stream has no "unsynchronised" mark (journal.c sets
 * it on accounts only): after QUOTA_EUNKNOWN on a configuration record the
 * context accepts further configuration calls, and their records reuse
 * the sequence number the store may already hold.  The test checks what
 * the library does then: memory is unchanged, a retry reaches the store
 * with the same sequence number and gets QUOTA_ECONFLICT from a store
 * keyed by (stream, seq); the host applies the stored record
 * (quota_journal_apply) and goes on.  Likewise an account whose creation
 * got QUOTA_EUNKNOWN does not exist in memory: quota_account_new again
 * conflicts; applying its stored record creates it.
 *
 * The workload (operations, the reference run's records, exec()) is in
 * tests/support/journal_workload.h; the world's names, the wrapper store,
 * snapshots, the configuration view and the conservation checks in
 * tests/support/journal_sweep.h.  The library bugs the sweep found (each
 * pinned by a short test) and R23's renewals under store faults are in
 * check_journal_outcomes.c.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "journal_sweep.h"
#include "journal_workload.h"

#define QUICK_EVERY 37
#define FULL_VERIFY_EVERY 64
#define FROM_EVERY 2
#define MAXK 128

static int run_k(void)
{
	return tu_quick() ? 30 : 40;
}

/* --------------------------------------------------- state helpers */

/* The last checkpoint at or before store call `calls`. */
static const cpoint *cp_for(long calls)
{
	int i;

	for (i = ncps - 1; i > 0 && cps[i].calls > calls; i--)
		;
	return &cps[i];
}

/* ctx rebuilt from s's kept records [0, to): through checkpoint c (its
 * account snapshots stand for the records before it), or all of them. */
static void rebuild(quota_ctx *ctx, const fstore *s, long to,
		    const cpoint *c)
{
	int i;

	if (!c || c->calls == 0) {
		/* From the first record: in check mode (every record
		 * planned again and compared with its effects). */
		apply_kept(ctx, s, 0, to, 0, QUOTA_JOURNAL_CHECK);
		return;
	}
	CHECK_OP_LE(c->calls, to);
	apply_kept(ctx, s, 0, c->calls, 1, 0);
	for (i = 0; i < NACC; i++)
		if (c->snap[i]) {
			quota_account *a;
			int rc = quota_account_load(ctx, c->snap[i], c->len[i],
						    &a);

			CHECK_MSG(rc == QUOTA_OK, "checkpoint load: %s: %s",
				      quota_err_name(rc), quota_errmsg(ctx));
		}
	apply_kept(ctx, s, c->calls, to, 0, 0);
}

/* ------------------------------------------------- the reference run */

static void ref_build(void)
{
	static wl w;
	static uint64_t holds[NOPS], rids[NOPS];
	quota_ctx *chk;
	snapset live, replayed;
	long i, k;
	int c;

	if (ref_built)
		return;
	for (k = 0, c = 0; k < (long)(sizeof op_mix / sizeof op_mix[0]); k++)
		c += op_mix[k].w;
	CHECK_OP_EQ(c, 1000);
	memset(&w, 0, sizeof w);
	memset(&ref_store, 0, sizeof ref_store);
	ref_store.fail_at = -1;
	w.st = &ref_store;
	w.hold = holds;
	w.rid = rids;
	w.ctx = ctx_fresh(hook, &w);
	fs_attach(w.ctx, &ref_store);
	ncps = 1; /* cps[0]: no checkpoint */
	memset(&cps[0], 0, sizeof cps[0]);
	for (i = 0; i < NOPS; i++) {
		opdesc d;
		quota_receipt r;
		int rc;

		if (ref_store.calls - cps[ncps - 1].calls >= CP_EVERY &&
		    ncps < MAXCP) {
			cpoint *cp = &cps[ncps++];
			quota_account *a;

			cp->calls = ref_store.calls;
			cp->op = i;
			for (c = 0; c < NACC; c++)
				if (!quota_account_find(w.ctx, acct_names[c],
							&a))
					snap_one(a, &cp->snap[c], &cp->len[c]);
		}
		memcpy(ref_forf[i], w.forf, sizeof w.forf);
		describe(i, &d);
		ref_first[i] = ref_store.calls;
		ref_store.cur_op = i;
		ref_store.op_calls = 0;
		rc = exec(&w, i, &d, &r, 0);
		ref_rc[i] = rc;
		ref_rcpt[i] = r;
		ref_hold[i] = holds[i];
		ref_opcalls[i] = ref_store.calls - ref_first[i];
		ref_kind_n[d.kind]++;
		if (rc == QUOTA_OK)
			ref_kind_ok[d.kind]++;
		CHECK_MSG(rc <= 0 && rc > -32, "operation %ld: rc %d", i,
			      rc);
		ref_rc_hist[-rc]++;
		CHECK_MSG(rc != QUOTA_ESTORE && rc != QUOTA_EUNKNOWN &&
				      rc != QUOTA_EUNSYNCED &&
				      rc != QUOTA_ECONFLICT,
			      "operation %ld (%s): %s", i, op_names[d.kind],
			      quota_err_name(rc));
		CHECK_MSG(d.kind == OP_CTX_TICK || rc == QUOTA_OK ||
				      ref_opcalls[i] == 0,
			      "operation %ld (%s): %s after a store call", i,
			      op_names[d.kind], quota_err_name(rc));
		CHECK(d.kind == OP_CTX_TICK || ref_opcalls[i] <= 1);
	}
	ref_first[NOPS] = ref_store.calls;
	memcpy(ref_forf[NOPS], w.forf, sizeof w.forf);
	ref_events = w.events;
	ref_ncalls = ref_store.calls;
	CHECK_OP_EQ(ref_store.nk, ref_ncalls);
	CHECK_OP_EQ(ref_store.conflicts, 0);

	ref_call_op = malloc((size_t)ref_ncalls * sizeof *ref_call_op);
	ref_seq = calloc((size_t)ref_ncalls + 1, sizeof *ref_seq);
	CHECK(ref_call_op && ref_seq);
	for (k = 0; k < ref_ncalls; k++) {
		ref_call_op[k] = ref_store.k[k].op;
		memcpy(ref_seq[k + 1], ref_seq[k], sizeof ref_seq[k]);
		ref_seq[k + 1][ref_store.k[k].stream] = ref_store.k[k].seq;
	}

	/* The reference itself: money and units conserved, the journal
	 * replayed in check mode equals memory, at every checkpoint too. */
	for (c = 0; c < NACC; c++) {
		quota_account *a;

		CHECK_OP_EQ(quota_account_find(w.ctx, acct_names[c], &a),
				 QUOTA_OK);
		money_assert(a, "reference");
		if (getenv("SWEEP_DEBUG")) {
			quota_money m;
			quota_account_money(a, &m);
			fprintf(stderr, "%s: bal %lld topped %lld purch %lld billed %lld out %lld susp %d\n", acct_names[c], (long long)m.balance_micros, (long long)m.topped_up_micros, (long long)m.purchased_micros, (long long)m.billed_micros, (long long)m.outstanding_micros, m.suspended);
		}
	}
	chk = ctx_fresh(noop_hook, NULL);
	for (k = 0, c = 1; k < ref_ncalls; k++) {
		const unsigned char *p;
		const kept *r = fs_at(&ref_store, k, &p);
		int rc;

		if (c < ncps && cps[c].calls == k) {
			int j;

			for (j = 0; j < NACC; j++) {
				quota_account *a;
				void *s;
				size_t n;

				if (!cps[c].snap[j])
					continue;
				CHECK_OP_EQ(quota_account_find(
							 chk, acct_names[j], &a),
						 QUOTA_OK);
				snap_one(a, &s, &n);
				CHECK_MSG(snap_diff(s, n, cps[c].snap[j],
							cps[c].len[j]) < 0,
					      "checkpoint %d: account '%s' "
					      "replayed differs",
					      c, acct_names[j]);
				free(s);
			}
			c++;
		}
		rc = quota_journal_apply(chk, p, r->len, QUOTA_JOURNAL_CHECK);
		CHECK_MSG(rc == QUOTA_OK,
			      "reference record %ld (operation %ld): %s: %s", k,
			      r->op, quota_err_name(rc), quota_errmsg(chk));
	}
	snapset_take(&live, w.ctx, -1);
	snapset_take(&replayed, chk, -1);
	snapset_assert_eq(&live, &replayed, "reference replayed", -1, M_NONE);
	snapset_free(&live);
	snapset_free(&replayed);
	units_assert(chk, w.forf, "reference");
	quota_ctx_free(chk);
	quota_ctx_free(w.ctx);
	ref_built = 1;
}

/* ------------------------------------------------------- a fault run */

typedef struct opres {
	int rc;
	int replayed;
	long calls;
} opres;

static wl W;
static uint64_t run_holds[NOPS], run_rids[NOPS];
static long sweep_runs[4], sweep_fullverify;

/* Re-synchronise account idx from the store, as a host would: reset to a
 * checkpoint's snapshot (or to before its first record) and apply the
 * store's records of the account after it. */
static void resync_account(wl *w, int idx, const cpoint *c, int full)
{
	quota_account *a;
	long k, from = 0, calls0 = w->st->calls;
	int rc;

	if (quota_account_find(w->ctx, acct_names[idx], &a) == QUOTA_OK) {
		if (!full && c && c->calls && c->snap[idx]) {
			rc = quota_account_reset(a, c->snap[idx], c->len[idx]);
			from = c->calls;
		} else {
			rc = quota_account_reset(a, NULL, 0);
		}
		CHECK_MSG(rc == QUOTA_OK, "reset '%s': %s: %s",
			      acct_names[idx], quota_err_name(rc),
			      quota_errmsg(w->ctx));
	}
	for (k = from; k < fs_count(w->st); k++) {
		const unsigned char *p;
		const kept *r = fs_at(w->st, k, &p);

		if (r->stream != 1 + idx)
			continue;
		rc = quota_journal_apply(w->ctx, p, r->len, 0);
		CHECK_MSG(rc == QUOTA_OK,
			      "re-synchronising '%s': record %llu: %s: %s",
			      acct_names[idx], (unsigned long long)r->seq,
			      quota_err_name(rc), quota_errmsg(w->ctx));
	}
	CHECK_OP_EQ(w->st->calls, calls0);
}

/* The configuration stream after QUOTA_EUNKNOWN: no mark; the records the
 * store holds beyond the context's are applied. */
static void resync_config(wl *w)
{
	long k;

	for (k = 0; k < fs_count(w->st); k++) {
		const unsigned char *p;
		const kept *r = fs_at(w->st, k, &p);
		int rc;

		if (r->stream != 0)
			continue;
		rc = quota_journal_apply(w->ctx, p, r->len, 0);
		CHECK_MSG(rc == QUOTA_OK || rc == QUOTA_ESEQUENCE,
			      "configuration record %llu: %s: %s",
			      (unsigned long long)r->seq, quota_err_name(rc),
			      quota_errmsg(w->ctx));
	}
}

/* Which stream store call n of the reference wrote. */
static int call_stream(long n)
{
	return ref_store.k[n].stream;
}

static void receipt_assert_ref(const quota_receipt *r, long op, long n,
			       int mode, const char *what)
{
	const quota_receipt *x = &ref_rcpt[op];

	CHECK_MSG(r->units == x->units && r->free_units == x->free_units &&
			      r->package_units == x->package_units &&
			      r->payg_units == x->payg_units &&
			      r->payg_cost_micros == x->payg_cost_micros &&
			      r->kind == x->kind && r->hold_id == x->hold_id &&
			      r->fee_micros == x->fee_micros &&
			      r->forfeited_units == x->forfeited_units &&
			      r->receipt_id == x->receipt_id &&
			      /* a replayed release's reason is 0 (R27) */
			      (r->replayed != x->replayed ||
			       r->failure_reason == x->failure_reason),
		      "N=%ld %s: operation %ld: %s: receipt differs from the "
		      "reference run's (units %lld/%lld, cost %lld/%lld)",
		      n, mode_names[mode], op, what, (long long)r->units,
		      (long long)x->units, (long long)r->payg_cost_micros,
		      (long long)x->payg_cost_micros);
}

static void fault_run(long n, int mode, int K)
{
	wl *w = &W;
	fstore st;
	long s = ref_call_op[n], first = ref_first[s], end, i;
	const cpoint *c = cp_for(first);
	int fstream = call_stream(n), facct = fstream - 1;
	int full = (sweep_runs[1] + sweep_runs[2] + sweep_runs[3]) %
				   FULL_VERIFY_EVERY ==
			   0 ||
		   getenv("QUOTA_SWEEP_FULL");
	opres res[MAXK];
	snapset before, after, frozen;
	cfgview cbefore, cafter, cfrozen;
	int have_frozen = 0, retried = 0;
	int trace = getenv("QUOTA_SWEEP_TRACE") != NULL;
	quota_ctx *v;
	char what[96];

	memset(w, 0, sizeof *w);
	memset(&st, 0, sizeof st);
	memset(&frozen, 0, sizeof frozen);
	w->start = s;
	w->hold = run_holds;
	w->rid = run_rids;
	w->st = &st;
	end = s + K < NOPS ? s + K : NOPS;
	for (i = s; i < end; i++)
		run_holds[i] = run_rids[i] = 0;
	memcpy(w->forf, ref_forf[s], sizeof w->forf);

	/* The state just before operation s, from the reference records. */
	w->ctx = ctx_fresh(hook, w);
	rebuild(w->ctx, &ref_store, first, c);
	st.prefix = &ref_store;
	st.nprefix = first;
	st.calls = first;
	st.fail_at = n;
	st.mode = mode;
	memcpy(st.last_seq, ref_seq[first], sizeof st.last_seq);
	fs_attach(w->ctx, &st);

	for (i = s; i < end; i++) {
		opdesc d;
		quota_receipt r;
		long calls0 = st.calls, ev0 = w->events;
		int rc, failing = i == s;

		describe(i, &d);
		st.cur_op = i;
		st.op_calls = 0;
		if (failing) {
			snapset_take(&before, w->ctx, fstream - 1);
			cfg_take(&cbefore, w->ctx);
		}
		rc = exec(w, i, &d, &r, 0);
		res[i - s].rc = rc;
		res[i - s].replayed = rc == QUOTA_OK && r.replayed;
		res[i - s].calls = st.calls - calls0;
		snprintf(what, sizeof what, "operation %ld (%s)", i,
			 op_names[d.kind]);
		/* A refused call fires no event. */
		if (rc != QUOTA_OK && d.kind != OP_CTX_TICK)
			CHECK_MSG(w->events == ev0,
				      "N=%ld %s: %s: %s, but %ld events", n,
				      mode_names[mode], what,
				      quota_err_name(rc), w->events - ev0);
		CHECK_MSG(rc != QUOTA_EUNSYNCED && rc != QUOTA_ECONFLICT,
			      "N=%ld %s: %s: %s", n, mode_names[mode], what,
			      quota_err_name(rc));
		if (!failing) {
			if (mode == M_FROM) {
				/* Every call that reaches the store fails. */
				if (st.calls > calls0)
					CHECK_MSG(rc == QUOTA_ESTORE,
						      "N=%ld %s: %s: %s after "
						      "a store call",
						      n, mode_names[mode],
						      what,
						      quota_err_name(rc));
				CHECK_OP_EQ(w->events, ev0);
				if (trace) {
					snapset now;

					snapset_take(&now, w->ctx, -1);
					snapset_assert_eq(&frozen, &now, what,
							  n, mode);
					snapset_free(&now);
				}
			} else {
				CHECK_MSG(rc != QUOTA_ESTORE &&
						      rc != QUOTA_EUNKNOWN,
					      "N=%ld %s: %s: %s", n,
					      mode_names[mode], what,
					      quota_err_name(rc));
			}
			continue;
		}

		/* The operation that makes store call n. */
		CHECK_MSG(st.calls > n,
			      "N=%ld %s: %s made %ld store calls, the "
			      "reference %ld",
			      n, mode_names[mode], what, st.calls - calls0,
			      ref_opcalls[s]);
		CHECK_MSG(rc == (mode == M_UNKNOWN ? QUOTA_EUNKNOWN
						       : QUOTA_ESTORE),
			      "N=%ld %s: %s returned %s", n, mode_names[mode],
			      what, quota_err_name(rc));
		CHECK_MSG(quota_errmsg(w->ctx)[0], "N=%ld: empty errmsg",
			      n);
		if (n == first)
			CHECK_MSG(w->events == ev0,
				      "N=%ld %s: %s: refused, %ld events", n,
				      mode_names[mode], what, w->events - ev0);
		/* Nothing changed: the account of call n (the others are
		 * compared with the store at the end; a ctx_tick ticked the
		 * accounts before it), the configuration. */
		snapset_take(&after, w->ctx, fstream - 1);
		cfg_take(&cafter, w->ctx);
		cfg_assert_eq(&cbefore, &cafter, what, n, mode);
		snapset_assert_eq(&before, &after, what, n, mode);
		snapset_free(&before);
		if (mode == M_FROM) {
			/* From here on nothing changes anywhere. */
			snapset_free(&after);
			snapset_take(&after, w->ctx, -1);
		}

		if (mode == M_ONCE) {
			/* Retried at once: as if it had never failed. */
			long c1 = st.calls;

			ev0 = w->events;
			st.op_calls = 0;
			rc = exec(w, i, &d, &r, 0);
			res[0].rc = rc;
			res[0].replayed = rc == QUOTA_OK && r.replayed;
			res[0].calls = st.calls - c1;
			CHECK_MSG(rc != QUOTA_ESTORE,
				      "N=%ld once: %s retried: %s", n, what,
				      quota_err_name(rc));
			if (n == first) {
				CHECK_MSG(rc == ref_rc[s],
					      "N=%ld once: %s retried: %s, the "
					      "reference %s",
					      n, what, quota_err_name(rc),
					      quota_err_name(ref_rc[s]));
				receipt_assert_ref(&r, s, n, mode,
						   "retried");
				if (d.kind == OP_RESERVE)
					CHECK_OP_EQ(run_holds[s],
							  ref_hold[s]);
			}
			snapset_free(&after);
		} else if (mode == M_FROM) {
			frozen = after;
			cfrozen = cafter;
			have_frozen = 1;
		} else {
			/* Unknown outcome: stop, re-synchronise, go on. */
			long c1 = st.calls, extra = 0;
			quota_account *a = NULL;

			snapset_free(&after);
			if (fstream == 0) {
				/* No mark on the configuration stream: the
				 * call again reaches the store with the
				 * sequence number it may hold. */
				quota_receipt r2;

				st.op_calls = 0;
				rc = exec(w, i, &d, &r2, 0);
				CHECK_MSG(rc == QUOTA_ECONFLICT,
					      "N=%ld unknown: %s again: %s "
					      "(configuration)",
					      n, what, quota_err_name(rc));
				CHECK_OP_EQ(st.calls, c1 + 1);
				cfg_take(&cafter, w->ctx);
				cfg_assert_eq(&cbefore, &cafter, what, n,
					      mode);
				resync_config(w);
				extra = 1;
			} else if (quota_account_find(w->ctx,
						      acct_names[facct],
						      &a) != QUOTA_OK) {
				/* Its creation: no account in memory; made
				 * again, the store already holds record 1. */
				quota_account *x = NULL;

				CHECK_OP_EQ(d.kind, OP_ACCOUNT_NEW);
				CHECK_OP_EQ(
					quota_account_new(w->ctx,
							  acct_names[facct],
							  &x),
					QUOTA_ECONFLICT);
				CHECK_NULL(x);
				extra = 1;
				resync_account(w, facct, c, 0);
				CHECK_OP_EQ(
					quota_account_find(w->ctx,
							   acct_names[facct],
							   &a),
					QUOTA_OK);
			} else {
				quota_usage u = {.category = cat_id(w, 0),
						 .units = 1,
						 .at = d.at};
				quota_receipt r2;
				snapset s1, s2;
				uint64_t h = 0;

				snapset_take(&s1, w->ctx, facct);
				CHECK_OP_EQ(quota_account_topup(a, 1, d.at),
						 QUOTA_EUNSYNCED);
				rc = quota_charge(a, &u, &r2);
				CHECK_MSG(rc == QUOTA_EUNSYNCED ||
						      rc == QUOTA_ESUSPENDED ||
						      rc == QUOTA_EBLOCKED ||
						      rc == QUOTA_ECAP ||
						      rc == QUOTA_EEXHAUSTED,
					      "N=%ld: charge while unsynced: %s",
					      n, quota_err_name(rc));
				CHECK(tu_receipt_is_zero(&r2));
				rc = quota_reserve(a, &u, 60, &r2, &h);
				CHECK_MSG(rc == QUOTA_EUNSYNCED ||
						      rc == QUOTA_ESUSPENDED ||
						      rc == QUOTA_EBLOCKED ||
						      rc == QUOTA_ECAP ||
						      rc == QUOTA_EEXHAUSTED,
					      "N=%ld: reserve while unsynced: %s",
					      n, quota_err_name(rc));
				CHECK_OP_EQ(h, 0);
				CHECK_OP_EQ(
					quota_account_set_expiry_warning(a, 5),
					QUOTA_EUNSYNCED);
				st.op_calls = 0;
				CHECK_OP_EQ(exec(w, i, &d, &r2, 0),
						 QUOTA_EUNSYNCED);
				CHECK_OP_EQ(st.calls, c1);
				snapset_take(&s2, w->ctx, facct);
				snapset_assert_eq(&s1, &s2, "unsynced calls",
						  n, mode);
				snapset_free(&s1);
				snapset_free(&s2);
				resync_account(w, facct, c,
					       (sweep_runs[3] & 7) == 0);
			}
			/* The operation stands as the reference's. */
			if (n == first && fstream != 0) {
				res[0].rc = ref_rc[s];
				res[0].replayed = ref_rcpt[s].replayed;
				run_holds[s] = ref_hold[s];
				run_rids[s] = ref_rcpt[s].receipt_id;
				if (d.kind == OP_REVERSE ||
				    d.kind == OP_REVERSE_RECEIPT)
					w->forf[d.acct] +=
						ref_rcpt[s].forfeited_units;
			} else {
				res[0].rc = QUOTA_EUNKNOWN;
			}
			CHECK_OP_EQ(st.calls, c1 + extra);
		}
	}

	/* The store holds what memory holds. */
	{
		snapset mem, rep;
		cfgview cm, cv;

		v = ctx_fresh(noop_hook, NULL);
		rebuild(v, &st, fs_count(&st), full ? NULL : c);
		sweep_fullverify += full;
		snapset_take(&mem, w->ctx, -1);
		snapset_take(&rep, v, -1);
		snapset_assert_eq(&mem, &rep, "memory vs store", n, mode);
		cfg_take(&cm, w->ctx);
		cfg_take(&cv, v);
		cfg_assert_eq(&cm, &cv, "memory vs store", n, mode);
		if (have_frozen) {
			snapset_assert_eq(&frozen, &mem,
					  "from-then-on: changed after the "
					  "failing call", n, mode);
			cfg_assert_eq(&cfrozen, &cm, "from-then-on", n, mode);
			snapset_free(&frozen);
		}
		snapset_free(&rep);

		/* Money and units. */
		for (i = 0; i < NACC; i++) {
			quota_account *a;

			if (!quota_account_find(w->ctx, acct_names[i], &a))
				money_assert(a, "run");
		}

		/* Keys: every keyed call that succeeded (or conflicted)
		 * replays (or conflicts) and changes nothing. */
		st.mode = M_NONE;
		st.fail_at = -1;
		for (i = s; i < end; i++) {
			opdesc d;
			quota_receipt r;
			const opres *o = &res[i - s];
			long c1 = st.calls;
			int rc;

			describe(i, &d);
			if (!op_keyed_retryable(&d) ||
			    (o->rc != QUOTA_OK && o->rc != QUOTA_EKEYCONFLICT))
				continue;
			rc = exec(w, i, &d, &r, 1);
			retried++;
			CHECK_MSG(st.calls == c1,
				      "N=%ld %s: operation %ld (%s) retried: a "
				      "store call",
				      n, mode_names[mode], i, op_names[d.kind]);
			if (o->rc == QUOTA_EKEYCONFLICT)
				CHECK_MSG(rc == QUOTA_EKEYCONFLICT,
					      "N=%ld %s: operation %ld (%s) "
					      "key '%s' retried: %s",
					      n, mode_names[mode], i,
					      op_names[d.kind], d.key,
					      quota_err_name(rc));
			else
				CHECK_MSG((rc == QUOTA_OK && r.replayed) ||
						      rc == QUOTA_EKEYCONFLICT,
					      "N=%ld %s: operation %ld (%s) "
					      "key '%s' retried: %s, "
					      "replayed %d",
					      n, mode_names[mode], i,
					      op_names[d.kind], d.key,
					      quota_err_name(rc),
					      (int)r.replayed);
			if (i == s && n == first && rc == QUOTA_OK &&
			    (mode != M_FROM))
				receipt_assert_ref(&r, s, n, mode,
						   "key retried");
		}
		if (retried) {
			snapset_take(&rep, w->ctx, -1);
			snapset_assert_eq(&mem, &rep, "keys retried", n, mode);
			snapset_free(&rep);
		}
		snapset_free(&mem);

		units_assert(v, w->forf, "run");
		quota_ctx_free(v);
	}
	quota_ctx_free(w->ctx);
	fs_free(&st);
	sweep_runs[mode]++;
}

/* --------------------------------------------------------------- tests */

START_TEST(test_reference_run)
{
	int k, missing = 0;

	ref_build();
	CHECK_OP_GE(NOPS, 10000);
	for (k = OP_CAT_ADD; k < OP_LAST; k++) {
		if (!ref_kind_ok[k]) {
			fprintf(stderr,
				"check_journal: %s never succeeded (%ld "
				"made)\n",
				op_names[k], ref_kind_n[k]);
			missing++;
		}
	}
	CHECK_OP_EQ(missing, 0);
	CHECK_OP_GT(ref_events, 0);
	/* Issue 15: how often the R25 and R27 calls were made. */
	fprintf(stderr, "check_journal: issue 15 calls (ok/made):");
	for (k = OP_TARIFF_FEE_REASON; k < OP_LAST; k++)
		fprintf(stderr, " %s %ld/%ld", op_names[k], ref_kind_ok[k],
			ref_kind_n[k]);
	fprintf(stderr, "\n");
	for (k = 0; k < NACC; k++)
		fprintf(stderr, "check_journal: last checkpoint: '%s' %zu "
			"bytes\n", acct_names[k], cps[ncps - 1].len[k]);
	fprintf(stderr,
		"check_journal: reference: %d operations, %ld store calls, "
		"%d checkpoints, %ld events; ok %d, ECAP %d, EEXHAUSTED %d, "
		"ESUSPENDED %d, EFUNDS %d, ENOTFOUND %d, ERESOLVED %d, "
		"EKEYCONFLICT %d, EREVERSED %d, EINVAL %d, EEXISTS %d, "
		"EBLOCKED %d\n",
		NOPS, ref_ncalls, ncps - 1, ref_events, ref_rc_hist[0],
		ref_rc_hist[-QUOTA_ECAP], ref_rc_hist[-QUOTA_EEXHAUSTED],
		ref_rc_hist[-QUOTA_ESUSPENDED], ref_rc_hist[-QUOTA_EFUNDS],
		ref_rc_hist[-QUOTA_ENOTFOUND], ref_rc_hist[-QUOTA_ERESOLVED],
		ref_rc_hist[-QUOTA_EKEYCONFLICT],
		ref_rc_hist[-QUOTA_EREVERSED], ref_rc_hist[-QUOTA_EINVAL],
		ref_rc_hist[-QUOTA_EEXISTS], ref_rc_hist[-QUOTA_EBLOCKED]);
}
END_TEST

START_TEST(test_store_fault_sweep)
{
	int K = run_k(), mode;
	/* Journaled (QUOTA_TEST_JOURNAL=1) the sweep is the same test again:
	 * its contexts keep their own stores, so the second run is short. */
	long n, every = tu_quick() || getenv("QUOTA_TEST_JOURNAL")
				? QUICK_EVERY
				: 1;
	struct timespec t0, t1;

	ref_build();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(sweep_runs, 0, sizeof sweep_runs);
	sweep_fullverify = 0;
	/* Every N once and unknown; from-then-on (everything refused after
	 * N, the least varied) every FROM_EVERY-th N, to keep the time. */
	if (getenv("QUOTA_SWEEP_N")) { /* one store call, every mode */
		n = atol(getenv("QUOTA_SWEEP_N"));
		CHECK_OP_LT(n, ref_ncalls);
		for (mode = M_ONCE; mode <= M_UNKNOWN; mode++)
			fault_run(n, mode, K);
		return;
	}
	for (n = 0; n < ref_ncalls; n += every)
		for (mode = M_ONCE; mode <= M_UNKNOWN; mode++)
			if (mode != M_FROM || (n / every) % FROM_EVERY == 0)
				fault_run(n, mode, K);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"check_journal: store-fault sweep: %d operations, %ld store "
		"calls, 3 modes, %ld runs (once %ld, from-then-on %ld, "
		"unknown %ld), N: %s once and unknown, %s from-then-on; %d "
		"operations a run, %ld verified from every record, %.1f s\n",
		NOPS, ref_ncalls, sweep_runs[1] + sweep_runs[2] + sweep_runs[3],
		sweep_runs[1], sweep_runs[2], sweep_runs[3],
		every == 1 ? "every" : "every 37th",
		every == 1 ? "every 2nd" : "every 74th", K, sweep_fullverify,
		(double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("sweep");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_reference_run);
	tcase_add_test(tc, test_store_fault_sweep);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(journal_suite());
}
