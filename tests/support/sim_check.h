/*
 * sim_check.h - what holds the library to the model (sim_model.h) in
 * check_sim.c's deterministic simulation: the store, the comparisons and
 * the faults.
 *
 * The store (quota_store.h) is written here too: it keeps every record
 * and the snapshot the host took last, and is what a removed account is
 * loaded back from (snapshot, then quota_journal_apply of the records
 * after it) and what an unsynchronised account is re-synchronised from
 * (quota_account_reset, then the records).  Odd seeds run without a store
 * (the host snapshots an account before removing it).
 *
 * Then the comparisons: a receipt, the units used and free, reports
 * (R22), an account's observable state at a time and the bills a
 * settlement delivers must be the model's.  Then what the steps share:
 * the faults armed for the next call (allocation N, store call N), what a
 * refused call or an unknown outcome must leave (R8, §5), usage times and
 * keys; and the two steps about the store, a checkpoint and removing an
 * account and loading it back.  The other steps, a seed and the test are
 * in tests/check_sim.c.
 */
#ifndef QUOTA_TEST_SIM_CHECK_H
#define QUOTA_TEST_SIM_CHECK_H

#include <check.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "sim_model.h"

/* ------------------------------------------------------------- the store */

static inline int acct_index(const char *id)
{
	int i;

	for (i = 0; i < NACC; i++)
		if (strcmp(W.m[i].id, id) == 0)
			return i;
	return -1;
}

static inline void st_keep(sstore *s, int acct, uint64_t seq,
			   const void *rec, size_t len)
{
	srec *x;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->r = realloc(s->r, s->cap * sizeof *s->r);
		ck_assert_ptr_nonnull(s->r);
	}
	x = &s->r[s->n++];
	x->acct = acct;
	x->seq = seq;
	x->n = len;
	x->p = malloc(len);
	ck_assert_ptr_nonnull(x->p);
	memcpy(x->p, rec, len);
}

/* Records of the accounts are kept; the configuration stream is written
 * before any fault is armed. */
static inline int st_append(void *ud, const char *account, uint64_t seq,
			    const void *rec, size_t len)
{
	sstore *s = ud;
	int i = account ? acct_index(account) : -1;

	if (s->mode != SF_NONE && --s->countdown <= 0) {
		int mode = s->mode;

		s->fired = 1;
		s->fired_mode = mode;
		if (mode != SF_REST)
			s->mode = SF_NONE;
		if (mode == SF_ONCE || mode == SF_REST)
			return QUOTA_ESTORE;
		if (mode == SF_UNK_STORED && i >= 0)
			st_keep(s, i, seq, rec, len);
		return QUOTA_EUNKNOWN;
	}
	if (i >= 0)
		st_keep(s, i, seq, rec, len);
	return QUOTA_OK;
}

static inline void st_free(sstore *s)
{
	size_t k;
	int i;

	for (k = 0; k < s->n; k++)
		free(s->r[k].p);
	free(s->r);
	for (i = 0; i < NACC; i++)
		free(s->snap[i]);
	memset(s, 0, sizeof *s);
}

/* A snapshot of the account in our memory (quota__snapshot also takes an
 * account waiting to be re-synchronised). */
static inline void *snap_of(const quota_account *a, size_t *n)
{
	void *p = NULL, *q;
	long at = W.al.fail_at;
	int rest = W.al.fail_rest;

	tu_alloc_disarm(&W.al);
	ck_assert_int_eq(quota__snapshot(a, &p, n), QUOTA_OK);
	q = malloc(*n);
	ck_assert_ptr_nonnull(q);
	memcpy(q, p, *n);
	quota_free(W.ctx, p);
	W.al.fail_at = at;
	W.al.fail_rest = rest;
	return q;
}

/* The handles of the account's packages, after a load or reset. */
static inline void refresh(int i)
{
	int k;

	ck_assert_int_eq(quota_account_find(W.ctx, W.m[i].id, &W.a[i]),
			 QUOTA_OK);
	for (k = 0; k < W.m[i].npk; k++)
		SCHECK(quota_package_find(W.a[i], W.m[i].pk[k].id,
					  &W.ph[i][k]) == QUOTA_OK,
		       "package %s lost", W.m[i].pk[k].id);
}

/* Apply the store's records of account i after seq (in order). */
static inline void st_apply_after(int i, uint64_t seq)
{
	size_t k;
	int rc;

	for (k = 0; k < W.st.n; k++) {
		if (W.st.r[k].acct != i || W.st.r[k].seq <= seq)
			continue;
		rc = quota_journal_apply(W.ctx, W.st.r[k].p, W.st.r[k].n,
					 P(1, 2) ? QUOTA_JOURNAL_CHECK : 0);
		SCHECK(rc == QUOTA_OK, "journal_apply %s seq %llu: %s (%s)",
		       W.m[i].id, (unsigned long long)W.st.r[k].seq,
		       quota_err_name(rc), quota_errmsg(W.ctx));
	}
}

/* §5: re-synchronise an account from the store after QUOTA_EUNKNOWN. */
static inline void resync(int i)
{
	int rc;

	rc = quota_account_reset(W.a[i], W.st.snap[i], W.st.snapn[i]);
	SCHECK(rc == QUOTA_OK, "reset: %s (%s)", quota_err_name(rc),
	       quota_errmsg(W.ctx));
	st_apply_after(i, W.st.snap[i] ? W.st.snapseq[i] : 0);
	SCHECK(!quota_account_unsynced(W.a[i]), "still unsynced");
	refresh(i);
}

/* -------------------------------------------------------------- checking */

static inline void check_rcpt(int i, const mrcpt *w, int replayed,
			      const quota_receipt *r)
{
	uint32_t k, total = (uint32_t)w->n;

	SCHECK(r->kind == w->kind && r->replayed == replayed &&
		       r->hold_id == w->hold_id && r->fee_micros == w->fee &&
		       r->forfeited_units == w->forfeited,
	       "receipt kind %d replayed %d hold %llu fee %lld forfeited "
	       "%lld; want %d %d %llu %lld %lld",
	       r->kind, r->replayed, (unsigned long long)r->hold_id,
	       (long long)r->fee_micros, (long long)r->forfeited_units,
	       w->kind, replayed, (unsigned long long)w->hold_id,
	       (long long)w->fee, (long long)w->forfeited);
	SCHECK(r->units == w->units && r->free_units == w->f &&
		       r->package_units == w->p && r->payg_units == w->q &&
		       r->payg_cost_micros == w->cost && r->category == w->cat &&
		       r->at == w->at,
	       "receipt units %lld free %lld pkg %lld payg %lld cost %lld "
	       "cat %u at %lld; want %lld %lld %lld %lld %lld %u %lld",
	       (long long)r->units, (long long)r->free_units,
	       (long long)r->package_units, (long long)r->payg_units,
	       (long long)r->payg_cost_micros, r->category, (long long)r->at,
	       (long long)w->units, (long long)w->f, (long long)w->p,
	       (long long)w->q, (long long)w->cost, w->cat, (long long)w->at);
	SCHECK(r->lines_total == total && r->nlines == total,
	       "receipt lines %u/%u, want %u", r->nlines, r->lines_total,
	       total);
	for (k = 0; k < total; k++) {
		const quota_receipt_line *g = &r->lines[k];
		const mline *l = &w->l[k];
		int64_t price = l->src == QUOTA_SOURCE_PAYG ? l->price : 0;

		SCHECK(g->source == l->src && g->units == l->units &&
			       g->unit_price_micros == price &&
			       g->cost_micros == l->units * price &&
			       (l->src != QUOTA_SOURCE_PAYG ||
				g->tier == l->tier),
		       "line %u: source %d units %lld price %lld tier %u; "
		       "want %d %lld %lld %u",
		       k, g->source, (long long)g->units,
		       (long long)g->unit_price_micros, g->tier, l->src,
		       (long long)l->units, (long long)price, l->tier);
		if (l->src == QUOTA_SOURCE_PACKAGE)
			SCHECK(g->package_id &&
				       strcmp(g->package_id,
					      W.m[i].pk[l->pk].id) == 0 &&
				       g->package == W.ph[i][l->pk],
			       "line %u: package %s, want %s", k,
			       g->package_id ? g->package_id : "-",
			       W.m[i].pk[l->pk].id);
	}
}

static inline int cmp_used(int i, uint32_t cat, int period, int64_t T)
{
	const macct *m = &W.m[i];
	int64_t g = quota_account_used(W.a[i], cat, period, T), w;
	int64_t hd = m->pruned_before == INT64_MIN ? INT64_MIN
						   : day_of(m->pruned_before);
	int pruned = hd != INT64_MIN &&
		     (period == QUOTA_PERIOD_DAY
			      ? day_of(T) < hd
			      : month_of_day(day_of(T)) < month_of_day(hd));

	w = pruned ? QUOTA_EPRUNED
		   : m_used(m, cat, period == QUOTA_PERIOD_MONTH, T);
	SCHECK(g == w, "used(%d, %d, %lld) %lld, want %lld", (int)cat, period,
	       (long long)T, (long long)g, (long long)w);
	if (period == QUOTA_PERIOD_MONTH && cat != QUOTA_ALL &&
	    W.tar[cat].free_units) {
		g = quota_account_free_used(W.a[i], cat, T);
		w = pruned ? QUOTA_EPRUNED : m_free_used(m, cat, T);
		SCHECK(g == w, "free_used(%u, %lld) %lld, want %lld", cat,
		       (long long)T, (long long)g, (long long)w);
	}
	return pruned;
}

/* Reports (R22): units per category over whole days from `from`. */
static inline int rep_fn(const quota_report_row *row, void *ud)
{
	int64_t *sum = ud;

	if (row->source != QUOTA_SOURCE_FEE)
		sum[row->category] += row->units;
	return 0;
}

static inline void check_report(int i, int64_t from, int64_t to)
{
	const macct *m = &W.m[i];
	int64_t got[NCAT] = {0}, want[NCAT] = {0};
	int rc, k, wrc;

	wrc = from < m->pruned_before ? QUOTA_EPRUNED : QUOTA_OK;
	rc = quota_report(W.a[i], QUOTA_PERIOD_DAY, from, to, rep_fn, got);
	SCHECK(rc == wrc, "report [%lld, %lld): %s, want %s", (long long)from,
	       (long long)to, quota_err_name(rc), quota_err_name(wrc));
	W.stat_epruned += rc == QUOTA_EPRUNED;
	if (rc != QUOTA_OK)
		return;
	for (k = 0; k < m->nrow; k++)
		if (m->row[k].hour * 3600 >= from && m->row[k].hour * 3600 < to)
			want[m->row[k].cat] += m->row[k].net;
	for (k = 0; k < NCAT; k++)
		SCHECK(got[k] == want[k], "report cat %d: %lld units, want %lld",
		       k, (long long)got[k], (long long)want[k]);
}

/* The account's observable state at T must be the model's. */
static inline void check_acct(int i, int64_t T)
{
	const macct *m = &W.m[i];
	quota_account *a = W.a[i];
	int64_t held[NCAT + 1] = {0}, pkheld[MAXPK] = {0};
	uint32_t open = 0, c;
	quota_money mo;
	int k, l;

	SCHECK(quota_account_package_count(a) == (uint32_t)m->npk,
	       "package count %u, want %d", quota_account_package_count(a),
	       m->npk);
	for (k = 0; k < m->npk; k++) {
		const mpkg *p = &m->pk[k];
		int64_t rem = quota_package_remaining(W.ph[i][k]);

		SCHECK(quota_account_package_at(a, (uint32_t)k) == W.ph[i][k],
		       "package_at(%d) is not the handle of %s", k, p->id);
		SCHECK(rem == p->remaining, "%s remaining %lld, want %lld",
		       p->id, (long long)rem, (long long)p->remaining);
		SCHECK(p->units == rem + p->used + p->held && p->used >= 0 &&
			       p->held >= 0,
		       "%s: bought %lld != remaining %lld + used %lld + held "
		       "%lld",
		       p->id, (long long)p->units, (long long)rem,
		       (long long)p->used, (long long)p->held);
		SCHECK(quota_package_status(W.ph[i][k], T) == m_status(p, T),
		       "%s status at %lld: %d, want %d", p->id, (long long)T,
		       quota_package_status(W.ph[i][k], T), m_status(p, T));
	}
	for (k = 0; k < m->nhold; k++) {
		if (!m->h[k].open)
			continue;
		open++;
		held[m->h[k].r.cat] += m->h[k].r.units;
		held[NCAT] += m->h[k].r.units;
		for (l = 0; l < m->h[k].r.n; l++)
			if (m->h[k].r.l[l].src == QUOTA_SOURCE_PACKAGE)
				pkheld[m->h[k].r.l[l].pk] += m->h[k].r.l[l].units;
	}
	for (k = 0; k < m->npk; k++)
		SCHECK(pkheld[k] == m->pk[k].held, "model: held of %s",
		       m->pk[k].id);
	SCHECK(quota_account_hold_count(a) == open, "hold_count %u, want %u",
	       quota_account_hold_count(a), open);
	for (c = 0; c < NCAT; c++) {
		int64_t g = quota_account_remaining(a, c, T),
			w = m_remaining(m, c, T);

		SCHECK(g == w, "remaining(%u, %lld) %lld, want %lld", c,
		       (long long)T, (long long)g, (long long)w);
		SCHECK(quota_account_held(a, c) == held[c],
		       "held(%u) %lld, want %lld", c,
		       (long long)quota_account_held(a, c), (long long)held[c]);
		cmp_used(i, c, QUOTA_PERIOD_DAY, T);
		cmp_used(i, c, QUOTA_PERIOD_MONTH, T);
	}
	SCHECK(quota_account_held(a, QUOTA_ALL) == held[NCAT], "held(ALL)");
	cmp_used(i, QUOTA_ALL, QUOTA_PERIOD_DAY, T);
	cmp_used(i, QUOTA_ALL, QUOTA_PERIOD_MONTH, T);
	/* R17-R19, and money conserved: what came in less what went out. */
	ck_assert_int_eq(quota_account_money(a, &mo), QUOTA_OK);
	SCHECK(mo.balance_micros == m->balance &&
		       mo.credit_limit_micros == m->credit &&
		       mo.outstanding_micros == m->outstanding &&
		       mo.topped_up_micros == m->topped &&
		       mo.purchased_micros == m->purchased &&
		       mo.billed_micros == m->billed &&
		       mo.suspended == m->suspended &&
		       mo.outstanding_bills == m->nowed,
	       "money: balance %lld credit %lld outstanding %lld topped %lld "
	       "purchased %lld billed %lld suspended %d owed %u; want %lld "
	       "%lld %lld %lld %lld %lld %d %u",
	       (long long)mo.balance_micros, (long long)mo.credit_limit_micros,
	       (long long)mo.outstanding_micros,
	       (long long)mo.topped_up_micros, (long long)mo.purchased_micros,
	       (long long)mo.billed_micros, mo.suspended, mo.outstanding_bills,
	       (long long)m->balance, (long long)m->credit,
	       (long long)m->outstanding, (long long)m->topped,
	       (long long)m->purchased, (long long)m->billed, m->suspended,
	       m->nowed);
	SCHECK(mo.balance_micros == mo.topped_up_micros -
					    mo.purchased_micros -
					    (mo.billed_micros -
					     mo.outstanding_micros),
	       "money not conserved");
	SCHECK(quota_account_suspended(a) == m->suspended, "suspended");
	SCHECK(quota_account_pruned_before(a) == m->pruned_before,
	       "pruned_before %lld, want %lld",
	       (long long)quota_account_pruned_before(a),
	       (long long)m->pruned_before);
	SCHECK(!quota_account_unsynced(a), "unsynced");
}

static inline void check_all(void)
{
	int i;

	for (i = 0; i < NACC; i++) {
		check_acct(i, W.clock);
		check_acct(i, W.clock - R(0, 40 * TU_DAY));
	}
}

static inline int on_bill(const quota_bill *b, void *ud)
{
	mbill *x;

	(void)ud;
	SCHECK(W.nbill < MAXBILL && b->nlines <= 2 * NCAT * 2, "bills");
	x = &W.bills[W.nbill++];
	x->start = b->period_start;
	x->end = b->period_end;
	x->amount = b->amount_micros;
	x->total = b->total_micros;
	x->balance = b->balance_micros;
	x->status = b->status;
	x->seq = b->seq;
	x->n = b->nlines;
	memcpy(x->l, b->lines, b->nlines * sizeof *b->lines);
	SCHECK(b->account == W.a[0] || b->account == W.a[1], "bill account");
	return 0;
}

static inline void check_bills(const mbill *want, int n, int from)
{
	int k;
	uint32_t l;

	for (k = 0; k < n; k++) {
		const mbill *g = &W.bills[from + k], *w = &want[k];

		SCHECK(g->start == w->start && g->end == w->end &&
			       g->amount == w->amount && g->total == w->total &&
			       g->balance == w->balance &&
			       g->status == w->status && g->seq == w->seq &&
			       g->n == w->n,
		       "bill %d: [%lld, %lld) amount %lld total %lld balance "
		       "%lld status %d seq %llu lines %u; want [%lld, %lld) "
		       "%lld %lld %lld %d %llu %u",
		       k, (long long)g->start, (long long)g->end,
		       (long long)g->amount, (long long)g->total,
		       (long long)g->balance, g->status,
		       (unsigned long long)g->seq, g->n, (long long)w->start,
		       (long long)w->end, (long long)w->amount,
		       (long long)w->total, (long long)w->balance, w->status,
		       (unsigned long long)w->seq, w->n);
		for (l = 0; l < g->n; l++) {
			const quota_bill_line *x = &g->l[l], *y = &w->l[l];

			SCHECK(x->category == y->category &&
				       x->kind == y->kind && x->late == y->late &&
				       x->units == y->units &&
				       x->receipts_micros == y->receipts_micros &&
				       x->adjustment_micros == 0 &&
				       x->amount_micros == y->amount_micros &&
				       x->rounded_micros == y->rounded_micros,
			       "bill %d line %u: cat %u kind %d late %d units "
			       "%lld receipts %lld rounded %lld; want %u %d %d "
			       "%lld %lld %lld",
			       k, l, x->category, x->kind, x->late,
			       (long long)x->units,
			       (long long)x->receipts_micros,
			       (long long)x->rounded_micros, y->category,
			       y->kind, y->late, (long long)y->units,
			       (long long)y->receipts_micros,
			       (long long)y->rounded_micros);
		}
	}
}

/* ------------------------------------------------- what the steps share */

static long g_fail0;
static void *g_pre;
static size_t g_pren;

/* Random faults for the next call: allocation N, store call N. */
static inline void arm(int i, int store_ok, int settle)
{
	W.st.fired = 0;
	W.st.mode = SF_NONE;
	g_fail0 = W.al.failures;
	free(g_pre);
	g_pre = i >= 0 ? snap_of(W.a[i], &g_pren) : NULL;
	if (P(1, 7))
		tu_alloc_fail_in(&W.al, R(1, 12));
	else if (W.use_store && store_ok && P(1, 7)) {
		W.st.mode = (int)R(SF_ONCE, settle ? SF_REST : SF_UNK_LOST);
		W.st.countdown = settle ? 1 : R(1, 2);
	}
}

static inline void disarm(void)
{
	tu_alloc_disarm(&W.al);
	W.st.mode = SF_NONE;
}

static inline void same_as_pre(int i)
{
	size_t n;
	void *now = snap_of(W.a[i], &n);

	SCHECK(n == g_pren && memcmp(now, g_pre, n) == 0,
	       "state changed by a refused call");
	free(now);
}

/*
 * After a call on account i whose model outcome is *next: a fault that
 * refused it leaves the account as it was (1: handled); QUOTA_EUNKNOWN
 * leaves it unsynced until it is re-read from the store, with or without
 * the call's record.
 */
static inline int faulted(int i, int rc, const macct *next)
{
	int afired = W.al.failures > g_fail0, sfired = W.st.fired;

	disarm();
	if ((afired && rc == QUOTA_ENOMEM) || (sfired && rc == QUOTA_ESTORE)) {
		SCHECK(quota_errmsg(W.ctx)[0] != '\0', "empty errmsg");
		same_as_pre(i);
		W.stat_fault++;
		return 1;
	}
	if (sfired && rc == QUOTA_EUNKNOWN) {
		int64_t x;

		SCHECK(quota_account_unsynced(W.a[i]) == 1, "not unsynced");
		x = quota_account_topup(W.a[i], 1, W.clock);
		SCHECK(x == QUOTA_EUNSYNCED, "unsynced top-up: %s",
		       quota_err_name((int)x));
		if (W.st.fired_mode == SF_UNK_STORED)
			W.m[i] = *next;
		resync(i);
		if (W.st.fired_mode != SF_UNK_STORED)
			same_as_pre(i);
		W.stat_unknown++;
		return 1;
	}
	return 0;
}

/* After the model's outcome was checked: refusals change nothing. */
static inline void outcome(int i, int rc, const macct *next)
{
	if (rc == QUOTA_OK) {
		W.m[i] = *next;
		W.stat_ok++;
	} else {
		SCHECK(quota_errmsg(W.ctx)[0] != '\0', "empty errmsg");
		same_as_pre(i);
		W.stat_susp += rc == QUOTA_ESUSPENDED;
		W.stat_funds += rc == QUOTA_EFUNDS;
	}
}

/* A usage time: mostly now, often late, sometimes weeks late. */
static inline int64_t gen_time(int i)
{
	int64_t t = W.clock;

	switch (R(0, 9)) {
	case 0:
	case 1:
		return t - R(0, 3 * TU_DAY);
	case 2:
		return t - R(0, 20 * TU_DAY);
	case 3:
		if (W.m[i].npk) {
			const mpkg *p = &W.m[i].pk[R(0, W.m[i].npk - 1)];

			return (P(1, 2) || p->exp == QUOTA_NEVER ? p->eff
								  : p->exp) +
			       R(-1, 0);
		}
		/* fall through */
	default:
		return t - R(0, TU_HOUR);
	}
}

/* A key: none, one of a small pool, a fresh one, or a stored one. */
static inline const char *gen_key(int i, char *buf, size_t n)
{
	static long fresh;
	int64_t w = R(0, 99);

	if (w < 40)
		return NULL;
	if (w < 60 && W.m[i].nkey) {
		snprintf(buf, n, "%s", W.m[i].k[R(0, W.m[i].nkey - 1)].key);
		return buf;
	}
	if (w < 85)
		snprintf(buf, n, "k%d", (int)R(0, 5));
	else
		snprintf(buf, n, "f%ld", ++fresh);
	return buf;
}

/* The host keeps a snapshot in the store (records after it are applied
 * when the account is loaded back). */
static inline void op_checkpoint(int i)
{
	void *p = NULL;
	size_t n;

	if (!W.use_store)
		return;
	snprintf(W.op, sizeof W.op, "checkpoint %s", W.m[i].id);
	ck_assert_int_eq(quota_account_snapshot(W.a[i], &p, &n), QUOTA_OK);
	free(W.st.snap[i]);
	W.st.snap[i] = malloc(n);
	ck_assert_ptr_nonnull(W.st.snap[i]);
	memcpy(W.st.snap[i], p, n);
	W.st.snapn[i] = n;
	W.st.snapseq[i] = quota_account_seq(W.a[i]);
	quota_free(W.ctx, p);
}

/* §7: remove the account and load it back: from the store (snapshot and
 * the records after it), or without one from the host's snapshot; the
 * same bytes. */
static inline void op_reload(int i)
{
	void *pre, *host = NULL, *now;
	size_t pren, hostn = 0, n;
	quota_account *a;
	int rc;

	snprintf(W.op, sizeof W.op, "remove and load %s", W.m[i].id);
	pre = snap_of(W.a[i], &pren);
	if (!W.use_store) {
		void *p = NULL;

		ck_assert_int_eq(quota_account_snapshot(W.a[i], &p, &hostn),
				 QUOTA_OK);
		host = malloc(hostn);
		ck_assert_ptr_nonnull(host);
		memcpy(host, p, hostn);
		quota_free(W.ctx, p);
	}
	ck_assert_int_eq(quota_account_remove(W.a[i]), QUOTA_OK);
	W.a[i] = NULL;
	SCHECK(quota_account_find(W.ctx, W.m[i].id, &a) == QUOTA_ENOTFOUND,
	       "removed account found");
	if (!W.use_store || W.st.snap[i]) {
		const void *s = W.use_store ? W.st.snap[i] : host;
		size_t sn = W.use_store ? W.st.snapn[i] : hostn;

		do { /* allocation N fails: nothing is loaded */
			g_fail0 = W.al.failures;
			if (P(1, 3))
				tu_alloc_fail_in(&W.al, R(1, 8));
			rc = quota_account_load(W.ctx, s, sn, &a);
			tu_alloc_disarm(&W.al);
			SCHECK(rc == QUOTA_OK ||
				       (rc == QUOTA_ENOMEM &&
					W.al.failures > g_fail0),
			       "load: %s (%s)", quota_err_name(rc),
			       quota_errmsg(W.ctx));
			if (rc != QUOTA_OK)
				SCHECK(a == NULL &&
					       quota_account_find(W.ctx,
								  W.m[i].id,
								  &a) ==
						       QUOTA_ENOTFOUND,
				       "a refused load left an account");
		} while (rc != QUOTA_OK);
	}
	if (W.use_store)
		st_apply_after(i, W.st.snap[i] ? W.st.snapseq[i] : 0);
	refresh(i);
	now = snap_of(W.a[i], &n);
	SCHECK(n == pren && memcmp(now, pre, n) == 0,
	       "loaded back, the account differs");
	free(now);
	free(pre);
	free(host);
	W.stat_reload++;
}

#endif /* QUOTA_TEST_SIM_CHECK_H */
