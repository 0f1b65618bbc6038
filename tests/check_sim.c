/*
 * check_sim.c - deterministic simulation (issue 13): for each seed, a
 * random workload over the public operations - charges, SMS, holds
 * (reserve, commit, release, tick), reversals, package grants and
 * purchases from offers, top-ups and credit limits, settlement (of an
 * account and of the context), pruning and retention, removing an account
 * and loading it back, out-of-order usage times and repeated idempotency
 * keys - with random allocation faults (allocation N fails) and store
 * faults (call N fails once, every call fails from N on, "stored but
 * reported failed", "lost and reported unknown").  After every step the
 * return code, the receipt or bills and the observable state must equal a
 * model written for it (plain arrays and linear scans, no library
 * internals); a refused step leaves the account's snapshot byte for byte
 * as it was (R8, §5).
 *
 * Here are the steps (a call each, with the model's outcome), a seed (the
 * configuration, the accounts, then STEPS steps, every one followed by
 * check_all) and the test.  The model, its limits and the world W are in
 * tests/support/sim_model.h; the store (odd seeds run without one), the
 * comparisons with the model, the faults, and the checkpoint and reload
 * steps in tests/support/sim_check.h.
 *
 *   SEEDS=n            number of seeds (default 1000; 50 with QUOTA_TEST_QUICK)
 *   SEED=s             run seed s only (what a failure prints)
 *   SIM_TRACE=1        print each step as it passes
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "sim_model.h"
#include "sim_check.h"

/* ------------------------------------------------------------ the steps */

static int g_trace; /* SIM_TRACE: print every step */
static int g_journal; /* QUOTA_TEST_JOURNAL: a recording store on each ctx */

static const char SMSCH[] = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,";

/* quota_charge (sms 0) or quota_charge_sms (1): GSM 7-bit ASCII text,
 * 160 septets in one segment, else 153 per segment. */
static void op_charge(int i, int sms)
{
	macct *m = &W.m[i];
	static macct nx;
	char kbuf[24], text[400];
	const char *key = gen_key(i, kbuf, sizeof kbuf);
	uint32_t cat = (uint32_t)R(0, NCAT - 1);
	int64_t units = P(1, 8) ? R(40, 300) : R(1, 40), at = gen_time(i);
	size_t len = 0, k;
	int wrc = QUOTA_OK, rc, replay = 0, bad = 0;
	mrcpt want;
	mkey *ke;
	quota_receipt r;
	quota_sms_info info;

	if (P(1, 2) && m->nkey) { /* a stored key with its parameters */
		ke = &m->k[R(0, m->nkey - 1)];
		key = kbuf;
		snprintf(kbuf, sizeof kbuf, "%s", ke->key);
		if (ke->op == OP_CHARGE && P(3, 4) && !sms) {
			cat = ke->cat;
			units = ke->units;
			at = ke->at;
		}
	}
	if (sms) {
		len = (size_t)(P(1, 3) ? R(0, 20) : R(140, 320));
		for (k = 0; k < len; k++)
			text[k] = SMSCH[R(0, (int64_t)sizeof SMSCH - 2)];
		units = len <= 160 ? 1 : ((int64_t)len + 152) / 153;
		if (P(1, 25)) {
			text[len++] = (char)0xff;
			bad = 1;
		}
		text[len] = '\0';
	} else if (P(1, 25)) {
		if (P(1, 2))
			cat = NCAT + (uint32_t)R(0, 3);
		else
			units = -R(0, 3);
	}
	snprintf(W.op, sizeof W.op, "%s %s cat %u units %lld at %lld key %s",
		 sms ? "charge_sms" : "charge", m->id, cat, (long long)units,
		 (long long)at, key ? key : "-");
	nx = *m;
	ke = m_key_find(&nx, key);
	if (bad)
		wrc = QUOTA_EENCODING;
	else if (ke) {
		if (ke->op == OP_CHARGE && ke->cat == cat &&
		    ke->units == units && ke->at == at) {
			replay = 1;
			want = ke->r;
		} else {
			wrc = QUOTA_EKEYCONFLICT;
		}
	} else {
		wrc = m_plan(&nx, cat, units, at, QUOTA_RECEIPT_CHARGE, &want);
		if (wrc == QUOTA_OK) {
			mrow *row;

			m_apply(&nx, &want, 0);
			row = m_touch(&nx, cat, at);
			row->pu += want.q;
			row->pc += want.cost;
			row->net += units;
			if (key) {
				mkey e;

				memset(&e, 0, sizeof e);
				snprintf(e.key, sizeof e.key, "%s", key);
				e.op = OP_CHARGE;
				e.cat = cat;
				e.units = units;
				e.at = at;
				e.time = at;
				e.r = want;
				m_key_store(&nx, &e);
			}
		}
	}
	arm(i, 1, 0);
	if (sms) {
		rc = quota_charge_sms(W.a[i], cat, text, len, NULL, at, key, &r,
				      &info);
		W.stat_sms++;
	} else {
		quota_usage u = {.category = cat, .units = units, .at = at,
				 .key = key};

		rc = quota_charge(W.a[i], &u, &r);
	}
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	if (sms && rc == QUOTA_OK)
		SCHECK(info.segments == units && info.encoding == QUOTA_SMS_GSM7,
		       "sms: %lld segments, want %lld",
		       (long long)info.segments, (long long)units);
	if (rc == QUOTA_OK) {
		check_rcpt(i, &want, replay, &r);
		W.stat_replay += replay;
	} else {
		SCHECK(tu_receipt_is_zero(&r), "receipt not zeroed");
	}
	outcome(i, rc, &nx);
}

static void op_reserve(int i)
{
	static macct nx;
	macct *m = &W.m[i];
	char kbuf[24];
	const char *key = gen_key(i, kbuf, sizeof kbuf);
	uint32_t cat = (uint32_t)R(0, NCAT - 1);
	int64_t units = P(1, 8) ? R(40, 300) : R(1, 40), at = gen_time(i);
	int64_t timeout = P(1, 2) ? R(1, 3 * TU_HOUR) : R(1, 3 * TU_DAY);
	int wrc, rc, replay = 0;
	uint64_t hid = 77;
	mrcpt want;
	mkey *ke;
	quota_receipt r;
	quota_usage u;

	if (m->nhold >= MAXHOLD)
		return;
	if (P(1, 3) && m->nkey) {
		ke = &m->k[R(0, m->nkey - 1)];
		key = kbuf;
		snprintf(kbuf, sizeof kbuf, "%s", ke->key);
		if (ke->op == OP_RESERVE && P(3, 4)) {
			cat = ke->cat;
			units = ke->units;
			at = ke->at;
			timeout = ke->timeout;
		}
	}
	snprintf(W.op, sizeof W.op,
		 "reserve %s cat %u units %lld at %lld timeout %lld key %s",
		 m->id, cat, (long long)units, (long long)at,
		 (long long)timeout, key ? key : "-");
	nx = *m;
	ke = m_key_find(&nx, key);
	if (ke) {
		wrc = QUOTA_EKEYCONFLICT;
		if (ke->op == OP_RESERVE && ke->cat == cat &&
		    ke->units == units && ke->at == at &&
		    ke->timeout == timeout) {
			replay = 1;
			want = ke->r;
			wrc = QUOTA_OK;
		}
	} else {
		wrc = m_plan(&nx, cat, units, at, QUOTA_RECEIPT_RESERVE, &want);
		if (wrc == QUOTA_OK) {
			mhold *h = &nx.h[nx.nhold++];

			want.hold_id = (uint64_t)nx.nhold;
			m_apply(&nx, &want, 1);
			h->open = 1;
			h->deadline = at + timeout;
			h->r = want;
			if (key) {
				mkey e;

				memset(&e, 0, sizeof e);
				snprintf(e.key, sizeof e.key, "%s", key);
				e.op = OP_RESERVE;
				e.cat = cat;
				e.units = units;
				e.at = at;
				e.timeout = timeout;
				e.hold = want.hold_id;
				e.time = at;
				e.r = want;
				m_key_store(&nx, &e);
			}
		}
	}
	u = (quota_usage){.category = cat, .units = units, .at = at,
			  .key = key};
	arm(i, 1, 0);
	rc = quota_reserve(W.a[i], &u, timeout, &r, &hid);
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	if (rc == QUOTA_OK) {
		check_rcpt(i, &want, replay, &r);
		SCHECK(hid == want.hold_id, "hold id %llu, want %llu",
		       (unsigned long long)hid,
		       (unsigned long long)want.hold_id);
	} else {
		SCHECK(hid == 0, "hold id after an error");
	}
	outcome(i, rc, &nx);
}

/* quota_commit (release 0) or quota_release (1). */
static void op_resolve(int i, int release)
{
	static macct nx;
	macct *m = &W.m[i];
	char kbuf[24];
	const char *key = gen_key(i, kbuf, sizeof kbuf);
	uint64_t hid;
	int64_t used = 0;
	int wrc = QUOTA_OK, rc, replay = 0, op = release ? OP_RELEASE
							 : OP_COMMIT;
	mrcpt want;
	mkey *ke;
	mhold *h = NULL;
	quota_receipt r;

	if (!m->nhold || P(1, 15)) {
		hid = (uint64_t)m->nhold + (uint64_t)R(1, 3);
	} else {
		int k = (int)R(0, m->nhold - 1), j;

		for (j = 0; j < m->nhold && P(3, 4); j++)
			if (m->h[(k + j) % m->nhold].open) {
				k = (k + j) % m->nhold;
				break;
			}
		hid = (uint64_t)k + 1;
		used = P(1, 4) ? m->h[k].r.units : R(0, m->h[k].r.units);
		if (P(1, 20))
			used = m->h[k].r.units + 1;
	}
	if (hid <= (uint64_t)m->nhold)
		h = &m->h[hid - 1];
	ke = m_key_find(m, key);
	if (ke && ke->op == op && P(3, 4)) {
		hid = ke->hold;
		used = ke->used;
		h = &m->h[hid - 1];
	}
	snprintf(W.op, sizeof W.op, "%s %s hold %llu used %lld key %s",
		 release ? "release" : "commit", m->id,
		 (unsigned long long)hid, (long long)used, key ? key : "-");
	nx = *m;
	h = h ? &nx.h[h - m->h] : NULL;
	ke = m_key_find(&nx, key);
	if (ke) {
		wrc = QUOTA_EKEYCONFLICT;
		if (ke->op == op && ke->hold == hid &&
		    (release || ke->used == used)) {
			replay = 1;
			want = ke->r;
			wrc = QUOTA_OK;
		}
	} else if (!h) {
		wrc = QUOTA_ENOTFOUND;
	} else if (!h->open) {
		wrc = QUOTA_ERESOLVED;
	} else if (!release && used > h->r.units) {
		wrc = QUOTA_EINVAL;
	} else {
		mrcpt stay;
		int64_t fee = W.tar[h->r.cat].fee * h->r.units;
		mrow *row;

		want = h->r;
		m_resolve(&nx, h, release ? 0 : used, &stay);
		if (release) {
			want.kind = QUOTA_RECEIPT_RELEASE;
			want.fee = fee;
			if (fee) {
				row = m_touch(&nx, h->r.cat, h->r.at);
				row->fu += h->r.units;
				row->fc += fee;
			}
		} else {
			want = stay;
			want.kind = QUOTA_RECEIPT_COMMIT;
			want.hold_id = hid;
			row = m_touch(&nx, h->r.cat, h->r.at);
			row->pu += stay.q;
			row->pc += stay.cost;
			row->net += stay.units;
		}
		if (key) {
			mkey e;

			memset(&e, 0, sizeof e);
			snprintf(e.key, sizeof e.key, "%s", key);
			e.op = op;
			e.hold = hid;
			e.used = used;
			e.time = nx.clock;
			e.r = want;
			m_key_store(&nx, &e);
		}
	}
	arm(i, 1, 0);
	rc = release ? quota_release(W.a[i], hid, key, &r)
		     : quota_commit(W.a[i], hid, used, key, &r);
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	if (rc == QUOTA_OK) {
		check_rcpt(i, &want, replay, &r);
		W.stat_commit++;
	}
	outcome(i, rc, &nx);
}

static void op_reverse(int i)
{
	static macct nx;
	macct *m = &W.m[i];
	char kbuf[24];
	const char *key;
	int64_t at = W.clock - R(0, 3 * TU_DAY);
	int wrc = QUOTA_OK, rc, k;
	mrcpt want;
	mkey *ke;
	quota_receipt r;

	if (m->nkey && P(3, 4)) {
		ke = &m->k[R(0, m->nkey - 1)];
		snprintf(kbuf, sizeof kbuf, "%s", ke->key);
		for (k = 0; k < ke->r.n && P(1, 2); k++)
			if (ke->r.l[k].src == QUOTA_SOURCE_PACKAGE &&
			    m->pk[ke->r.l[k].pk].exp != QUOTA_NEVER) {
				at = m->pk[ke->r.l[k].pk].exp + R(-1, 0);
				break;
			}
	} else {
		snprintf(kbuf, sizeof kbuf, "k%d", (int)R(0, 5));
	}
	key = kbuf;
	snprintf(W.op, sizeof W.op, "reverse %s key %s at %lld", m->id, key,
		 (long long)at);
	nx = *m;
	ke = m_key_find(&nx, key);
	if (!ke)
		wrc = QUOTA_ENOTFOUND;
	else if (ke->op == OP_RESERVE || ke->op == OP_RELEASE)
		wrc = QUOTA_EINVAL;
	else if (ke->reversed)
		wrc = QUOTA_EREVERSED;
	else if (ke->r.at < nx.pruned_before)
		wrc = QUOTA_EPRUNED;
	else {
		mrow *row;

		want = ke->r;
		want.kind = QUOTA_RECEIPT_REVERSAL;
		want.hold_id = 0;
		want.fee = 0;
		want.forfeited = 0;
		for (k = 0; k < want.n; k++) {
			mpkg *p;

			if (want.l[k].src != QUOTA_SOURCE_PACKAGE)
				continue;
			p = &nx.pk[want.l[k].pk];
			if (at < p->exp) {
				p->remaining += want.l[k].units;
				p->used -= want.l[k].units;
			} else {
				want.forfeited += want.l[k].units;
			}
		}
		m_count(&nx, want.cat, want.at, -want.units, -want.f);
		row = m_touch(&nx, want.cat, want.at);
		row->pu -= want.q;
		row->pc -= want.cost;
		row->net -= want.units;
		ke->reversed = 1;
	}
	arm(i, 1, 0);
	rc = quota_reverse(W.a[i], key, at, &r);
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	W.stat_epruned += rc == QUOTA_EPRUNED;
	if (rc == QUOTA_OK) {
		check_rcpt(i, &want, 0, &r);
		W.stat_reverse++;
	}
	outcome(i, rc, &nx);
}

static void op_tick(int i)
{
	static macct nx;
	int64_t now = W.clock - R(0, 2 * TU_HOUR), got, want;

	if (W.m[i].nhold && P(2, 3))
		now = W.m[i].h[R(0, W.m[i].nhold - 1)].deadline + R(-1, 0);
	if (now > W.clock)
		now = W.clock;
	snprintf(W.op, sizeof W.op, "tick %s %lld", W.m[i].id, (long long)now);
	nx = W.m[i];
	want = m_tick(&nx, now);
	arm(i, 1, 0);
	got = quota_account_tick(W.a[i], now);
	if (faulted(i, (int)got, &nx))
		return;
	SCHECK(got == want, "tick released %lld, want %lld", (long long)got,
	       (long long)want);
	W.m[i] = nx;
}

/* Money (R17-R19): top-ups and credit limits, which may resume. */
static void op_money(int i)
{
	static macct nx;
	int64_t x;
	int rc, wrc = QUOTA_OK, credit = P(1, 4);

	nx = W.m[i];
	if (credit) {
		x = P(1, 3) ? 0 : R(1, 3000000);
		snprintf(W.op, sizeof W.op, "credit_limit %s %lld", nx.id,
			 (long long)x);
		nx.credit = x;
		m_try_resume(&nx);
	} else {
		x = P(1, 20) ? -R(0, 5) : R(1, 4000000);
		snprintf(W.op, sizeof W.op, "topup %s %lld", nx.id,
			 (long long)x);
		if (x <= 0) {
			wrc = QUOTA_EINVAL;
		} else {
			nx.balance += x;
			nx.topped += x;
			m_try_resume(&nx);
		}
	}
	arm(i, 1, 0);
	rc = credit ? quota_account_set_credit_limit(W.a[i], x)
		    : quota_account_topup(W.a[i], x, W.clock);
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	outcome(i, rc, &nx);
}

/* A package granted by the host (quota_package_add), or bought from an
 * offer (quota_package_buy: R5, R19). */
static void op_package(int i, int buy)
{
	static macct nx;
	macct *m = &W.m[i];
	mpkg np;
	int rc, wrc = QUOTA_OK;
	int64_t price = 0, q = R(1, 3), at = W.clock - R(0, TU_DAY);
	const moffer *o = &W.off[R(0, 1)];
	quota_purchase pu;
	quota_package *p = NULL;

	if (m->npk >= MAXPK)
		return;
	nx = *m;
	memset(&np, 0, sizeof np);
	if (buy) {
		snprintf(np.id, sizeof np.id, "%s.b%d", m->id, nx.nbuy++);
		np.mask = o->mask;
		np.units = q * o->units;
		np.eff = at;
		np.exp = o->days ? at + o->days * TU_DAY : QUOTA_NEVER;
		price = q * o->price;
		if (nx.suspended)
			wrc = QUOTA_ESUSPENDED;
		else if (price > nx.balance)
			wrc = QUOTA_EFUNDS;
		snprintf(W.op, sizeof W.op, "buy %s %s q %lld at %lld price %lld",
			 m->id, np.id, (long long)q, (long long)at,
			 (long long)price);
	} else {
		snprintf(np.id, sizeof np.id, "%s.g%d", m->id, nx.ngrant++);
		np.mask = P(1, 2) ? QUOTA_MASK(R(0, NCAT - 1))
				  : QUOTA_MASK(0) | QUOTA_MASK(1);
		np.units = P(1, 4) ? R(1, 5) : R(5, 150);
		np.eff = W.clock + R(-10 * TU_DAY, 2 * TU_DAY);
		np.exp = P(1, 6) ? QUOTA_NEVER
				 : np.eff + R(TU_HOUR, 30 * TU_DAY);
		if (m->npk && P(1, 15)) {
			snprintf(np.id, sizeof np.id, "%s",
				 m->pk[R(0, m->npk - 1)].id);
			wrc = QUOTA_EEXISTS;
		}
		snprintf(W.op, sizeof W.op,
			 "package_add %s %s mask %llx units %lld [%lld, %lld)",
			 m->id, np.id, (unsigned long long)np.mask,
			 (long long)np.units, (long long)np.eff,
			 (long long)np.exp);
	}
	np.remaining = np.units;
	if (wrc == QUOTA_OK) {
		nx.pk[nx.npk++] = np;
		nx.balance -= price;
		nx.purchased += price;
	}
	arm(i, 1, 0);
	if (buy) {
		rc = quota_package_buy(W.a[i], o->o, q, NULL, at, np.id, &pu);
		p = (quota_package *)pu.package;
	} else {
		quota_package_spec s = {.id = np.id, .categories = np.mask,
					.units = np.units,
					.effective_at = np.eff,
					.expires_at = np.exp};

		rc = quota_package_add(W.a[i], &s, &p);
	}
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	if (rc == QUOTA_OK) {
		quota_package *f = NULL;

		SCHECK(p != NULL, "no package");
		SCHECK(quota_package_find(W.a[i], np.id, &f) == QUOTA_OK &&
			       f == p &&
			       quota_account_package_at(
				       W.a[i], (uint32_t)nx.npk - 1) == p,
		       "the package returned is not the one added (%p, found "
		       "%p, at %p)",
		       (void *)p, (void *)f,
		       (void *)quota_account_package_at(W.a[i],
							(uint32_t)nx.npk - 1));
		W.ph[i][nx.npk - 1] = p;
		if (buy) {
			SCHECK(pu.units == np.units && pu.price_micros == price &&
				       pu.list_price_micros == price &&
				       pu.effective_at == np.eff &&
				       pu.expires_at == np.exp,
			       "purchase: units %lld price %lld [%lld, %lld)",
			       (long long)pu.units, (long long)pu.price_micros,
			       (long long)pu.effective_at,
			       (long long)pu.expires_at);
			W.stat_buy++;
		}
	} else {
		SCHECK(p == NULL, "package after an error");
	}
	outcome(i, rc, &nx);
}

/* R17, R18 and retention (§7): settle one account. */
static void op_settle(int i)
{
	static macct nx, np;
	static mbill want[MAXBILL];
	int64_t now = W.clock - R(0, TU_DAY), rc;
	int nb, wrc;

	snprintf(W.op, sizeof W.op, "settle %s %lld", W.m[i].id,
		 (long long)now);
	nx = W.m[i];
	nb = m_settle(&nx, now, want, MAXBILL);
	wrc = nb < 0 ? 0 : nb;
	np = nx;
	m_retain(&np);
	W.nbill = 0;
	arm(i, 1, 1);
	rc = quota_settle(W.a[i], now, on_bill, NULL);
	if (faulted(i, (int)rc, &np))
		return;
	SCHECK(rc == wrc, "settle: %lld, want %d (%s)", (long long)rc, wrc,
	       quota_errmsg(W.ctx));
	SCHECK(W.nbill == wrc, "%d bills delivered, want %d", W.nbill, wrc);
	check_bills(want, nb < 0 ? 0 : nb, 0);
	W.stat_bill += W.nbill;
	/* A refused retention prune leaves the settlement standing. */
	if (np.pruned_before != nx.pruned_before &&
	    (W.al.failures > g_fail0 || W.st.fired) &&
	    quota_account_pruned_before(W.a[i]) == nx.pruned_before)
		np = nx;
	W.m[i] = np;
}

/* quota_ctx_settle: every account in order; all or nothing without a
 * store (faults only then). */
static void op_ctx_settle(void)
{
	static macct nx[NACC];
	static mbill want[MAXBILL];
	int64_t now = W.clock - R(0, TU_DAY), rc;
	int nb = 0, j, k, n, faults = !W.use_store && !g_journal;

	snprintf(W.op, sizeof W.op, "ctx_settle %lld", (long long)now);
	for (j = 0; j < NACC; j++) { /* in quota_ctx_account_at order */
		k = acct_index(quota_account_id(
			quota_ctx_account_at(W.ctx, (uint32_t)j)));
		SCHECK(k >= 0, "account_at(%d)", j);
		nx[k] = W.m[k];
		n = m_settle(&nx[k], now, want + nb, MAXBILL - nb);
		if (n > 0)
			nb += n;
		m_retain(&nx[k]);
	}
	W.nbill = 0;
	g_fail0 = W.al.failures;
	if (faults && P(1, 5))
		tu_alloc_fail_in(&W.al, R(1, 12));
	rc = quota_ctx_settle(W.ctx, now, on_bill, NULL);
	disarm();
	if (rc == QUOTA_ENOMEM && W.al.failures > g_fail0) {
		SCHECK(W.nbill == 0, "bills of a refused settlement");
		W.stat_fault++;
		return;
	}
	SCHECK(rc == nb, "ctx_settle: %lld, want %d (%s)", (long long)rc, nb,
	       quota_errmsg(W.ctx));
	check_bills(want, nb, 0);
	W.stat_bill += W.nbill;
	for (k = 0; k < NACC; k++) {
		if (W.al.failures > g_fail0 &&
		    quota_account_pruned_before(W.a[k]) != nx[k].pruned_before)
			nx[k].pruned_before = quota_account_pruned_before(W.a[k]);
		W.m[k] = nx[k];
	}
}

/* §7: quota_account_prune, quota_account_set_retention. */
static void op_prune(int i)
{
	static macct nx;
	int64_t before = W.clock - R(0, 25 * TU_DAY), secs = 0;
	int rc, wrc = QUOTA_OK, ret = P(1, 3);

	nx = W.m[i];
	if (ret) {
		secs = P(1, 3) ? 0 : R(TU_DAY, 20 * TU_DAY);
		snprintf(W.op, sizeof W.op, "set_retention %s %lld", nx.id,
			 (long long)secs);
		nx.retain = secs;
	} else {
		if (P(1, 20))
			before = QUOTA_TIME_MAX;
		snprintf(W.op, sizeof W.op, "prune %s %lld", nx.id,
			 (long long)before);
		if (before >= QUOTA_TIME_MAX)
			wrc = QUOTA_EINVAL;
		else
			m_prune(&nx, before);
	}
	arm(i, 1, 0);
	rc = ret ? quota_account_set_retention(W.a[i], secs, QUOTA_PRUNE_ALL)
		 : quota_account_prune(W.a[i], before, QUOTA_PRUNE_ALL);
	if (faulted(i, rc, &nx))
		return;
	SCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(W.ctx));
	W.stat_prune += !ret && rc == QUOTA_OK;
	outcome(i, rc, &nx);
}

static void op_report(int i)
{
	int64_t from = fdiv(W.clock - R(0, 30 * TU_DAY), TU_DAY) * TU_DAY;

	snprintf(W.op, sizeof W.op, "report %s %lld", W.m[i].id,
		 (long long)from);
	check_report(i, from, from + R(1, 10) * TU_DAY);
}

/* ------------------------------------------------------------ one seed */

static void setup(void)
{
	quota_store st = QUOTA_STORE_INIT;
	uint32_t c, id;
	int i, k;

	tu_alloc_init(&W.al);
	ck_assert_int_eq(quota_ctx_new_with(&W.al.a, &W.ctx), QUOTA_OK);
	W.use_store = !(W.seed & 1);
	for (c = 0; c < NCAT; c++) {
		mtariff *t = &W.tar[c];
		char name[16];

		snprintf(name, sizeof name, "cat%u", c);
		ck_assert_int_eq(quota_category_add(W.ctx, name, &id), QUOTA_OK);
		ck_assert_uint_eq(id, c);
		ck_assert_int_eq(quota_tariff_new(W.ctx, name, &t->t), QUOTA_OK);
		t->ntier = (int)R(1, 2);
		t->up_to[0] = t->ntier == 2 ? R(20, 400) : QUOTA_UNLIMITED;
		t->up_to[1] = QUOTA_UNLIMITED;
		t->price[0] = R(1, 30000);
		t->price[1] = R(1, 30000);
		for (k = 0; k < t->ntier; k++)
			ck_assert_int_eq(quota_tariff_add_tier(t->t, t->up_to[k],
							       t->price[k]),
					 QUOTA_OK);
		if (c == 0 && P(1, 2)) {
			t->free_units = R(1, 60);
			ck_assert_int_eq(quota_tariff_set_free(
						 t->t, t->free_units,
						 QUOTA_PERIOD_MONTH),
					 QUOTA_OK);
		}
		if (P(1, 2)) {
			t->fee = R(1, 3000);
			ck_assert_int_eq(quota_tariff_set_failure_fee(t->t,
								      t->fee),
					 QUOTA_OK);
		}
	}
	for (k = 0; k < 2; k++) {
		moffer *o = &W.off[k];
		char oid[8];
		quota_offer_spec s = {0};

		snprintf(oid, sizeof oid, "o%d", k);
		o->units = R(5, 100);
		o->price = R(1, 40) * 10000;
		o->days = k ? 0 : (int32_t)R(1, 30);
		o->mask = k ? QUOTA_MASK(0) | QUOTA_MASK(1) : QUOTA_MASK(0);
		s.id = oid;
		s.categories = o->mask;
		s.units = o->units;
		s.price_micros = o->price;
		s.valid_days = o->days;
		ck_assert_int_eq(quota_offer_add(W.ctx, &s, &o->o), QUOTA_OK);
	}
	if (W.use_store) {
		st.ud = &W.st;
		st.append = st_append;
		ck_assert_int_eq(quota_ctx_set_store(W.ctx, &st), QUOTA_OK);
	}
	for (i = 0; i < NACC; i++) {
		macct *m = &W.m[i];

		memset(m, 0, sizeof *m);
		snprintf(m->id, sizeof m->id, "acct%d", i);
		m->newest = m->clock = m->settled_upto = m->pruned_before =
			INT64_MIN;
		ck_assert_int_eq(quota_account_new(W.ctx, m->id, &W.a[i]),
				 QUOTA_OK);
		for (c = 0; c < NCAT; c++)
			ck_assert_int_eq(quota_account_set_tariff(W.a[i], c,
								  W.tar[c].t),
					 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_key_window(W.a[i], KEYWIN,
							      KEYAGE),
				 QUOTA_OK);
		if (P(1, 2)) {
			m->balance = m->topped = R(0, 5000000);
			if (m->balance)
				ck_assert_int_eq(quota_account_topup(W.a[i],
								     m->balance,
								     W.clock),
						 QUOTA_OK);
		}
		if (W.use_store && P(1, 2))
			op_checkpoint(i);
	}
}

static void teardown(void)
{
	quota_ctx_free(W.ctx);
	ck_assert_int_eq(W.al.live_blocks, 0);
	st_free(&W.st);
	free(g_pre);
	g_pre = NULL;
}

static void run_seed(uint64_t seed, int steps)
{
	int s;

	memset(&W, 0, sizeof W);
	W.seed = seed;
	tu_rng_seed(&W.r, seed * 0x9e3779b97f4a7c15ull + 1);
	W.clock = tu_utc(2025, 1, 1, 0, 0, 0) + R(0, 300 * TU_DAY);
	W.step = -1;
	snprintf(W.op, sizeof W.op, "setup");
	setup();
	for (s = 0; s < steps; s++) {
		int i = (int)R(0, NACC - 1);
		int64_t w = R(0, 99);

		W.step = s;
		W.clock += R(0, 4 * TU_HOUR);
		if (w < 22)
			op_charge(i, 0);
		else if (w < 30)
			op_charge(i, 1);
		else if (w < 40)
			op_reserve(i);
		else if (w < 48)
			op_resolve(i, 0);
		else if (w < 52)
			op_resolve(i, 1);
		else if (w < 56)
			op_tick(i);
		else if (w < 61)
			op_reverse(i);
		else if (w < 67)
			op_package(i, 0);
		else if (w < 72)
			op_package(i, 1);
		else if (w < 78)
			op_money(i);
		else if (w < 84)
			op_settle(i);
		else if (w < 86)
			op_ctx_settle();
		else if (w < 90)
			op_prune(i);
		else if (w < 93)
			op_reload(i);
		else if (w < 95)
			op_checkpoint(i);
		else
			op_report(i);
		if (g_trace)
			fprintf(stderr, "step %d: %s\n", s, W.op);
		check_all();
	}
	teardown();
}

static long g_seeds = 1000;
static uint64_t g_one;
static int g_has_one;

START_TEST(test_sim)
{
	long k, n = g_has_one ? 1 : g_seeds;
	long ok = 0, fault = 0, bill = 0, reload = 0, unknown = 0, prune = 0,
	     epruned = 0, buy = 0, sms = 0, replay = 0, reverse = 0,
	     commit = 0, susp = 0, funds = 0;

	g_journal = getenv("QUOTA_TEST_JOURNAL") &&
		    strcmp(getenv("QUOTA_TEST_JOURNAL"), "1") == 0;
	for (k = 0; k < n; k++) {
		run_seed(g_has_one ? g_one : (uint64_t)k + 1, STEPS);
		ok += W.stat_ok;
		fault += W.stat_fault;
		bill += W.stat_bill;
		reload += W.stat_reload;
		unknown += W.stat_unknown;
		prune += W.stat_prune;
		epruned += W.stat_epruned;
		buy += W.stat_buy;
		sms += W.stat_sms;
		replay += W.stat_replay;
		reverse += W.stat_reverse;
		commit += W.stat_commit;
		susp += W.stat_susp;
		funds += W.stat_funds;
	}
	fprintf(stderr,
		"check_sim: %ld seeds x %d steps: ok %ld, faults refused %ld, "
		"unknown outcomes %ld, bills %ld, reloads %ld, prunes %ld, "
		"EPRUNED %ld, purchases %ld, sms %ld, replays %ld, "
		"reversals %ld, commits/releases %ld, ESUSPENDED %ld, "
		"EFUNDS %ld\n",
		n, STEPS, ok, fault, unknown, bill, reload, prune, epruned, buy,
		sms, replay, reverse, commit, susp, funds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("seeds");
	const char *e;

	g_seeds = tu_quick() ? 50 : 1000;
	g_trace = getenv("SIM_TRACE") != NULL;
	if ((e = getenv("SEEDS")) && *e)
		g_seeds = strtol(e, NULL, 0);
	if ((e = getenv("SEED")) && *e) {
		g_one = strtoull(e, NULL, 0);
		g_has_one = 1;
	}
	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, test_sim);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
