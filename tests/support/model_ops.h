/*
 * model_ops.h - the charging operations of check_model.c's property test:
 * each draws a call (charge or quote, reserve, commit, release with or
 * without a failure reason, reversal by key or by receipt id, tick) in
 * the world of model_world.h, works out what the model (model.h) says it
 * must return, makes it, and checks the return code, the receipt and the
 * account's state against the model, which takes the same step when the
 * call succeeds.  check_model.c has the account and tariff operations.
 */
#ifndef QUOTA_TEST_MODEL_OPS_H
#define QUOTA_TEST_MODEL_OPS_H

#include "model_world.h"

/* ------------------------------------------------------------ operations */

static inline void op_charge(model *M, gen *g, macct *m, int quote, int bad)
{
	uint32_t cat = (uint32_t)R(g, 0, M->ncat - 1);
	int64_t units = P(g, 1, 10) ? R(g, 40, 400) : R(g, 1, 40);
	int64_t at = gen_time(g, m);
	const char *key = NULL;
	char kbuf[32];
	quota_receipt r;
	quota_usage u;
	mplan pl;
	mrcpt want;
	mkey *k = NULL;
	int rc, wrc, replay = 0, null_receipt = !quote && P(g, 1, 20);

	memset(&pl, 0, sizeof pl);
	wrc = QUOTA_OK;
	if (bad) {
		switch (R(g, 0, 4)) {
		case 0:
			cat = P(g, 1, 2) ? QUOTA_ALL
					 : M->ncat + (uint32_t)R(g, 0, 70);
			break;
		case 1:
			units = -R(g, 0, 5);
			break;
		case 2:
			at = P(g, 1, 2) ? QUOTA_TIME_MAX + R(g, 0, 100)
					: QUOTA_TIME_MIN - 1 - R(g, 0, 100);
			break;
		default:
			key = gen_bad_key(g, &wrc);
			break;
		}
	} else {
		k = P(g, 1, 3) ? gen_stored_key(g, m) : NULL;
		if (k) {
			key = k->key;
			if (k->op == OP_CHARGE && P(g, 3, 4)) {
				cat = k->cat;
				units = k->units;
				at = k->at;
			}
		} else {
			key = late_key_rule(m, gen_key(g, kbuf, sizeof kbuf),
					    at);
		}
	}
	snprintf(g_op, sizeof g_op, "%s %s cat %u units %lld at %lld key %s",
		 quote ? "quote" : "charge", m->id, cat, (long long)units,
		 (long long)at, key ? key : "-");
	m_plan(M, m, cat, units, at, key, &pl);
	k = bad ? NULL : m_key_find(m, key);
	if (wrc != QUOTA_OK) {
		/* a bad key */
	} else if (bad) {
		wrc = pl.rc;
	} else if (k) {
		if (k->op == OP_CHARGE && k->cat == cat && k->units == units &&
		    k->at == at) {
			replay = 1;
			want = *k->r;
		} else {
			wrc = QUOTA_EKEYCONFLICT;
		}
	} else {
		/* R8: a quote refuses what the charge would, the hour's
		 * total cost included; R25: a blocked account nothing, once
		 * the arguments are right. */
		wrc = m->blocked && (pl.rc == QUOTA_OK || pl.rc == QUOTA_ECAP ||
				     pl.rc == QUOTA_EEXHAUSTED ||
				     pl.rc == QUOTA_EOVERFLOW)
			      ? QUOTA_EBLOCKED
			      : pl.rc;
		if (wrc == QUOTA_OK && m_cost_ovf(m, cat, at, 0, pl.cost))
			wrc = QUOTA_EOVERFLOW;
		if (wrc == QUOTA_OK)
			m_rcpt_plan(&pl, QUOTA_RECEIPT_CHARGE, cat, units, at, 0,
				    &want);
	}
	memset(&u, 0, sizeof u);
	u.category = cat;
	u.units = units;
	u.at = at;
	u.key = key;
	memset(&r, 0x77, sizeof r);
	if (quote)
		rc = quota_quote(m->a, &u, &r);
	else
		rc = quota_charge(m->a, &u, null_receipt ? NULL : &r);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	count_rc(rc);
	g_stat.blocked += rc == QUOTA_EBLOCKED;
	check_failed(M, rc, null_receipt ? NULL : &r);
	if (rc == QUOTA_OK && replay) {
		g_stat.replay++;
		if (!null_receipt)
			check_mrcpt(m, &want, 1, &r);
	} else if (rc == QUOTA_OK) {
		g_stat.free += pl.f > 0;
		g_stat.pkg += pl.p > 0;
		g_stat.payg += pl.q > 0;
		g_stat.multi_pkg += pl.ndraw > 1;
		g_stat.multi_tier += pl.npayg > 1;
		g_stat.truncated += r.lines_total > r.nlines && !null_receipt;
		g_stat.late += at < g->clock - TU_DAY;
		if (!null_receipt)
			check_mrcpt(m, &want, 0, &r);
		if (!quote) {
			m_cost_slot(m, cat, at, 0)->cost += pl.cost;
			m_apply(m, cat, units, at, &pl, 0);
			m_clock(m, at);
			if (!key) /* R27 */
				m_keep_charge(m, cat, units, at, &want,
					      null_receipt ? NULL : &r);
			if (key) {
				mkey e;

				memset(&e, 0, sizeof e);
				snprintf(e.key, sizeof e.key, "%s", key);
				e.op = OP_CHARGE;
				e.cat = cat;
				e.units = units;
				e.at = at;
				e.time = at;
				m_key_store(m, &e, &want);
			}
		}
	}
	if (pl.rc == QUOTA_OK || pl.rc == QUOTA_ECAP ||
	    pl.rc == QUOTA_EEXHAUSTED || pl.rc == QUOTA_EOVERFLOW)
		check_account(M, m, at);
	check_account(M, m, g->clock);
}

static inline void op_reserve(model *M, gen *g, macct *m, int bad)
{
	uint32_t cat = (uint32_t)R(g, 0, M->ncat - 1);
	int64_t units = P(g, 1, 10) ? R(g, 40, 400) : R(g, 1, 40);
	int64_t at = gen_time(g, m);
	int64_t timeout = P(g, 1, 3) ? R(g, 1, 600) : R(g, 600, 3 * TU_DAY);
	const char *key = NULL;
	char kbuf[32];
	quota_receipt r;
	quota_usage u;
	uint64_t hid = 12345;
	mplan pl;
	mrcpt want;
	mkey *k = NULL;
	int rc, wrc = QUOTA_OK, replay = 0;

	if (bad) {
		switch (R(g, 0, 4)) {
		case 0:
			timeout = -R(g, 0, 3);
			wrc = QUOTA_EINVAL;
			break;
		case 1:
			timeout = P(g, 1, 2) ? INT64_MAX - R(g, 0, 3)
					     : QUOTA_TIME_MAX - at + R(g, 0, 3);
			wrc = QUOTA_EINVAL;
			break;
		case 2:
			units = -R(g, 0, 3);
			wrc = QUOTA_EINVAL;
			break;
		case 3:
			cat = M->ncat + (uint32_t)R(g, 0, 3);
			wrc = QUOTA_ENOTFOUND;
			break;
		default:
			key = gen_bad_key(g, &wrc);
			break;
		}
	} else {
		k = P(g, 1, 3) ? gen_stored_key(g, m) : NULL;
		if (k) {
			key = k->key;
			if (k->op == OP_RESERVE && P(g, 3, 4)) {
				cat = k->cat;
				units = k->units;
				at = k->at;
				timeout = k->timeout;
			}
		} else {
			key = late_key_rule(m, gen_key(g, kbuf, sizeof kbuf),
					    at);
		}
	}
	snprintf(g_op, sizeof g_op,
		 "reserve %s cat %u units %lld at %lld timeout %lld key %s",
		 m->id, cat, (long long)units, (long long)at,
		 (long long)timeout, key ? key : "-");
	m_plan(M, m, cat, units, at, NULL, &pl);
	k = bad ? NULL : m_key_find(m, key);
	if (bad) {
		/* wrc set above */
	} else if (k) {
		if (k->op == OP_RESERVE && k->cat == cat && k->units == units &&
		    k->at == at && k->timeout == timeout) {
			replay = 1;
			want = *k->r;
		} else {
			wrc = QUOTA_EKEYCONFLICT;
		}
	} else {
		wrc = m->blocked ? QUOTA_EBLOCKED : pl.rc; /* R25 */
		if (wrc == QUOTA_OK)
			m_rcpt_plan(&pl, QUOTA_RECEIPT_RESERVE, cat, units, at,
				    (uint64_t)m->nholds + 1, &want);
	}
	memset(&u, 0, sizeof u);
	u.category = cat;
	u.units = units;
	u.at = at;
	u.key = key;
	memset(&r, 0x77, sizeof r);
	rc = quota_reserve(m->a, &u, timeout, &r, &hid);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	count_rc(rc);
	g_stat.blocked += rc == QUOTA_EBLOCKED;
	check_failed(M, rc, &r);
	if (rc != QUOTA_OK) {
		MCHECK(hid == 0, "*hold_id %llu after an error",
		       (unsigned long long)hid);
	} else if (replay) {
		g_stat.replay++;
		check_mrcpt(m, &want, 1, &r);
		MCHECK(hid == want.hold_id, "replayed hold id %llu, want %llu",
		       (unsigned long long)hid,
		       (unsigned long long)want.hold_id);
	} else {
		mhold *h;

		g_stat.reserve++;
		check_mrcpt(m, &want, 0, &r);
		MCHECK(hid == want.hold_id, "hold id %llu, want %llu",
		       (unsigned long long)hid,
		       (unsigned long long)want.hold_id);
		m_apply(m, cat, units, at, &pl, 1);
		m_clock(m, at);
		if (m->nholds == m->capholds) {
			m->capholds = m->capholds ? 2 * m->capholds : 64;
			m->holds = realloc(m->holds,
					   m->capholds * sizeof *m->holds);
			ck_assert_ptr_nonnull(m->holds);
		}
		h = calloc(1, sizeof *h);
		ck_assert_ptr_nonnull(h);
		h->open = 1;
		h->deadline = at + timeout;
		h->r = want;
		m->holds[m->nholds++] = h;
		if (key) {
			mkey e;

			memset(&e, 0, sizeof e);
			snprintf(e.key, sizeof e.key, "%s", key);
			e.op = OP_RESERVE;
			e.cat = cat;
			e.units = units;
			e.at = at;
			e.timeout = timeout;
			e.hold = hid;
			e.time = at;
			m_key_store(m, &e, &want);
		}
	}
	check_account(M, m, at > QUOTA_TIME_MIN && at < QUOTA_TIME_MAX ? at
								       : g->clock);
	check_account(M, m, g->clock);
}

/* Resolve hold h keeping `used` units (release: 0); receipt in *out. */
static inline void m_resolve(macct *m, mhold *h, int64_t used, mrcpt *stay)
{
	mrcpt ret;
	int i;

	m_split(&h->r, used, stay, &ret);
	for (i = 0; i < h->r.n; i++)
		if (h->r.l[i].source == QUOTA_SOURCE_PACKAGE)
			m->pk[h->r.l[i].pk].held -= h->r.l[i].units;
	for (i = 0; i < stay->n; i++)
		if (stay->l[i].source == QUOTA_SOURCE_PACKAGE)
			m->pk[stay->l[i].pk].used += stay->l[i].units;
	for (i = 0; i < ret.n; i++)
		if (ret.l[i].source == QUOTA_SOURCE_PACKAGE)
			m->pk[ret.l[i].pk].remaining += ret.l[i].units;
	m_record(m, h->r.cat, h->r.at, -ret.units, -ret.f);
	h->open = 0;
}

/* quota_commit (release = 0), quota_release (release = 1) or
 * quota_release_reason (release = 2, R27). */
static inline void op_resolve(model *M, gen *g, macct *m, int release)
{
	int32_t reason = 0;
	int bad_reason = 0;
	uint64_t hid;
	int64_t used = 0, held = 0;
	const char *key = NULL;
	char kbuf[32];
	quota_receipt r;
	mrcpt want;
	mkey *k = NULL;
	mhold *h = NULL;
	int rc, wrc = QUOTA_OK, replay = 0, bad = 0, op;
	int64_t w = R(g, 0, 99);

	op = release ? OP_RELEASE : OP_COMMIT;
	if (m->nholds == 0 || w >= 93) {
		hid = P(g, 1, 2) || m->nholds == 0
			      ? (uint64_t)m->nholds + 1 + (uint64_t)R(g, 0, 3)
			      : 0;
		bad = 1;
	} else {
		size_t i = (size_t)R(g, 0, (int64_t)m->nholds - 1), j;

		if (w < 75) /* mostly an open one */
			for (j = 0; j < m->nholds; j++) {
				size_t x = (i + j) % m->nholds;

				if (m->holds[x]->open) {
					i = x;
					break;
				}
			}
		hid = (uint64_t)i + 1;
		held = m->holds[i]->r.units;
		used = P(g, 1, 5) ? held : P(g, 1, 5) ? 0 : R(g, 0, held);
		if (!release && w >= 88 && m->holds[i]->open) {
			used = P(g, 1, 2) ? -R(g, 1, 3) : held + R(g, 1, 3);
			bad = 1;
		}
	}
	if (!bad) {
		k = P(g, 1, 3) ? gen_stored_key(g, m) : NULL;
		if (k) {
			key = k->key;
			if (k->op == op && P(g, 3, 4)) {
				hid = k->hold;
				used = k->used;
			}
		} else {
			key = gen_key(g, kbuf, sizeof kbuf);
		}
	}
	if (release == 2) { /* R27: a reason, now and then a bad one */
		reason = (int32_t)R(g, 0, QUOTA_FAIL_REASON_MAX);
		if (P(g, 1, 12)) {
			reason = P(g, 1, 2) ? -(int32_t)R(g, 1, 3)
					    : QUOTA_FAIL_REASON_MAX +
						      (int32_t)R(g, 1, 3);
			bad_reason = 1;
		}
	}
	if (hid >= 1 && hid <= m->nholds)
		h = m->holds[hid - 1];
	snprintf(g_op, sizeof g_op,
		 "%s %s hold %llu units_used %lld key %s reason %d",
		 release ? "release" : "commit", m->id,
		 (unsigned long long)hid, (long long)used, key ? key : "-",
		 (int)reason);
	k = m_key_find(m, key);
	if (used < 0) {
		wrc = QUOTA_EINVAL;
	} else if (bad_reason) {
		wrc = QUOTA_EINVAL; /* before the key (quota_reserve(3)) */
	} else if (k) {
		if (k->op == op && k->hold == hid &&
		    (release || k->used == used)) {
			replay = 1;
			want = *k->r;
		} else {
			wrc = QUOTA_EKEYCONFLICT;
		}
	} else if (!h) {
		wrc = QUOTA_ENOTFOUND;
	} else if (!h->open) {
		wrc = QUOTA_ERESOLVED;
	} else if (used > h->r.units) {
		wrc = QUOTA_EINVAL;
	} else if (release) {
		const mtariff *t = m->tariff[h->r.cat] >= 0
					   ? &M->tar[m->tariff[h->r.cat]]
					   : NULL;

		/* R27: the reason's own fee if the tariff has one */
		int64_t per = !t ? 0
			      : reason && t->rfee[reason] >= 0 ? t->rfee[reason]
							       : t->fee;

		want = h->r;
		want.kind = QUOTA_RECEIPT_RELEASE;
		want.fee = 0;
		if ((t && mul_ovf(per, h->r.units, &want.fee)) ||
		    m_cost_ovf(m, h->r.cat, h->r.at, 1, want.fee))
			wrc = QUOTA_EOVERFLOW;
	} else {
		/* A commit is checked on the cost it books: the hold's, less
		 * the units given back, pay-as-you-go from the last line. */
		int64_t ret = h->r.units - used, kept = h->r.cost;
		int i;

		for (i = h->r.n; i-- > 0 && ret;) {
			const mline *l = &h->r.l[i];
			int64_t n;

			if (l->source != QUOTA_SOURCE_PAYG)
				continue;
			n = l->units < ret ? l->units : ret;
			kept -= n * l->price;
			ret -= n;
		}
		if (m_cost_ovf(m, h->r.cat, h->r.at, 0, kept))
			wrc = QUOTA_EOVERFLOW;
	}
	memset(&r, 0x77, sizeof r);
	rc = release == 2 ? quota_release_reason(m->a, hid, reason, key, &r)
	     : release    ? quota_release(m->a, hid, key, &r)
			  : quota_commit(m->a, hid, used, key, &r);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	count_rc(rc);
	check_failed(M, rc, &r);
	/* R27: a release's receipt carries its reason (a replay's 0); a
	 * keyless commit of an account that keeps receipts its hold id. */
	if (rc == QUOTA_OK && release)
		MCHECK(r.failure_reason == (replay ? 0 : reason),
		       "failure_reason %d, want %d", (int)r.failure_reason,
		       replay ? 0 : (int)reason);
	if (rc == QUOTA_OK && !release)
		MCHECK(r.receipt_id == (!replay && !key && m->keep ? hid : 0),
		       "commit receipt_id %llu (keep %d)",
		       (unsigned long long)r.receipt_id, m->keep);
	if (rc == QUOTA_OK && release == 2 && !replay) {
		g_stat.reason_release++;
		g_stat.reason_fee += want.fee > 0;
	}
	if (rc == QUOTA_OK && replay) {
		g_stat.replay++;
		check_mrcpt(m, &want, 1, &r);
	} else if (rc == QUOTA_OK) {
		mrcpt stay;
		int64_t fee = want.fee;

		m_resolve(m, h, release ? 0 : used, &stay);
		if (release)
			m_cost_slot(m, h->r.cat, h->r.at, 1)->cost += fee;
		else
			m_cost_slot(m, h->r.cat, h->r.at, 0)->cost += stay.cost;
		if (release) {
			g_stat.release++;
			g_stat.fee += fee > 0;
		} else {
			g_stat.commit++;
			g_stat.partial += used < h->r.units;
			want = stay;
			want.kind = QUOTA_RECEIPT_COMMIT;
			want.fee = 0;
			want.hold_id = hid;
		}
		check_mrcpt(m, &want, 0, &r);
		if (!release && !key && m->keep) /* R27 */
			m_keep_receipt(m, hid, OP_COMMIT, m->clock, &want);
		if (key) {
			mkey e;

			memset(&e, 0, sizeof e);
			snprintf(e.key, sizeof e.key, "%s", key);
			e.op = op;
			e.hold = hid;
			e.used = used;
			e.time = m->clock;
			m_key_store(m, &e, &want);
		}
	}
	check_account(M, m, h ? h->r.at : g->clock);
	check_account(M, m, g->clock);
}

static inline void op_reverse(model *M, gen *g, macct *m)
{
	const char *key = NULL;
	char kbuf[32];
	int64_t at = g->clock - R(g, 0, 3 * TU_DAY);
	quota_receipt r;
	mrcpt want;
	mkey *k;
	int rc, wrc = QUOTA_OK, i;
	int64_t w = R(g, 0, 99);

	if (w < 70 && (k = gen_stored_key(g, m)) != NULL) {
		key = k->key;
		/* around the expiry of a package it drew from */
		if (P(g, 1, 3))
			for (i = 0; i < k->r->n; i++)
				if (k->r->l[i].source == QUOTA_SOURCE_PACKAGE &&
				    m->pk[k->r->l[i].pk].exp != QUOTA_NEVER) {
					at = m->pk[k->r->l[i].pk].exp +
					     R(g, -1, 0);
					break;
				}
	} else if (w < 90) {
		snprintf(kbuf, sizeof kbuf, "k%d", (int)R(g, 0, 7));
		key = kbuf;
	} else if (w < 95) {
		key = P(g, 1, 4) ? NULL : gen_bad_key(g, &wrc);
		if (!key)
			wrc = QUOTA_EINVAL;
	} else {
		snprintf(kbuf, sizeof kbuf, "k%d", (int)R(g, 0, 7));
		key = kbuf;
		at = P(g, 1, 2) ? QUOTA_TIME_MAX : QUOTA_TIME_MIN - 1;
		wrc = QUOTA_EINVAL;
	}
	snprintf(g_op, sizeof g_op, "reverse %s key %s at %lld", m->id,
		 key ? key : "(null)", (long long)at);
	k = wrc == QUOTA_OK ? m_key_find(m, key) : NULL;
	if (wrc != QUOTA_OK) {
		/* a bad key or time */
	} else if (!k)
		wrc = QUOTA_ENOTFOUND;
	else if (k->op == OP_RESERVE || k->op == OP_RELEASE)
		wrc = QUOTA_EINVAL;
	else if (k->reversed)
		wrc = QUOTA_EREVERSED;
	memset(&r, 0x77, sizeof r);
	rc = quota_reverse(m->a, key, at, &r);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	count_rc(rc);
	check_failed(M, rc, &r);
	if (rc == QUOTA_OK) {
		want = *k->r;
		want.kind = QUOTA_RECEIPT_REVERSAL;
		want.hold_id = 0; /* not a hold's receipt */
		want.fee = 0;
		want.forfeited = 0;
		for (i = 0; i < want.n; i++) {
			mpkg *p;

			if (want.l[i].source != QUOTA_SOURCE_PACKAGE)
				continue;
			p = &m->pk[want.l[i].pk];
			if (at < p->exp) {
				p->remaining += want.l[i].units;
				p->used -= want.l[i].units;
			} else {
				want.forfeited += want.l[i].units;
			}
		}
		m_record(m, want.cat, want.at, -want.units, -want.f);
		m_cost_slot(m, want.cat, want.at, 0)->cost -= want.cost;
		k->reversed = 1;
		g_stat.reverse++;
		g_stat.forfeited += want.forfeited > 0;
		check_mrcpt(m, &want, 0, &r);
		check_account(M, m, want.at);
	}
	check_account(M, m, g->clock);
}

/* ------------------------------------ issue 15: R27 reversal by receipt id */

/* R27: reverse a charge or commit by its receipt id, as by its key. */
static inline void op_reverse_receipt(model *M, gen *g, macct *m)
{
	int64_t at = g->clock - R(g, 0, 3 * TU_DAY);
	int64_t w = R(g, 0, 99);
	uint64_t id = (uint64_t)R(g, 1, (int64_t)m->nholds + 2);
	char rkey[32];
	quota_receipt r;
	mrcpt want;
	mkey *k = NULL;
	size_t j, n = 0;
	int rc, wrc = QUOTA_OK, i;

	for (j = 0; j < m->nkeys; j++)
		n += m->keys[j].key[0] == '\xff';
	if (w < 65 && n) { /* a kept one */
		size_t pick = (size_t)R(g, 0, (int64_t)n - 1);

		for (j = 0; j < m->nkeys; j++)
			if (m->keys[j].key[0] == '\xff' && pick-- == 0) {
				id = strtoull(m->keys[j].key + 1, NULL, 10);
				break;
			}
	} else if (w >= 80 && w < 88) {
		id = 0;
		wrc = QUOTA_EINVAL;
	} else if (w >= 88) {
		at = P(g, 1, 2) ? QUOTA_TIME_MAX : QUOTA_TIME_MIN - 1;
		wrc = QUOTA_EINVAL;
	}
	snprintf(g_op, sizeof g_op, "reverse_receipt %s id %llu at %lld",
		 m->id, (unsigned long long)id, (long long)at);
	m_rkey(rkey, sizeof rkey, id);
	k = wrc == QUOTA_OK ? m_key_find(m, rkey) : NULL;
	if (wrc != QUOTA_OK) {
		/* id 0 or a bad time */
	} else if (!k) {
		wrc = QUOTA_ENOTFOUND;
	} else if (k->reversed) {
		wrc = QUOTA_EREVERSED;
	}
	memset(&r, 0x77, sizeof r);
	rc = quota_reverse_receipt(m->a, id, at, &r);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	count_rc(rc);
	check_failed(M, rc, &r);
	if (rc == QUOTA_OK) {
		want = *k->r;
		want.kind = QUOTA_RECEIPT_REVERSAL;
		want.hold_id = 0;
		want.fee = 0;
		want.forfeited = 0;
		for (i = 0; i < want.n; i++) {
			mpkg *p;

			if (want.l[i].source != QUOTA_SOURCE_PACKAGE)
				continue;
			p = &m->pk[want.l[i].pk];
			if (at < p->exp) {
				p->remaining += want.l[i].units;
				p->used -= want.l[i].units;
			} else {
				want.forfeited += want.l[i].units;
			}
		}
		m_record(m, want.cat, want.at, -want.units, -want.f);
		m_cost_slot(m, want.cat, want.at, 0)->cost -= want.cost;
		k->reversed = 1;
		g_stat.reverse_receipt++;
		g_stat.forfeited += want.forfeited > 0;
		check_mrcpt(m, &want, 0, &r);
		MCHECK(r.receipt_id == id, "reversal receipt_id %llu, want %llu",
		       (unsigned long long)r.receipt_id,
		       (unsigned long long)id);
		check_account(M, m, want.at);
	}
	check_account(M, m, g->clock);
}

/* Release the account's open holds with deadline <= now; the count. */
static inline int64_t m_tick(macct *m, int64_t now)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < m->nholds; i++) {
		mrcpt stay;

		if (m->holds[i]->open && m->holds[i]->deadline <= now) {
			m_resolve(m, m->holds[i], 0, &stay);
			n++;
		}
	}
	m_clock(m, now);
	return n;
}

static inline void op_tick(model *M, gen *g, macct *m, int ctxwide)
{
	int64_t now = g->clock - R(g, 0, 2 * TU_HOUR), got, want = 0;
	size_t i;
	int k, bad = P(g, 1, 25);

	if (bad) {
		now = P(g, 1, 2) ? QUOTA_TIME_MAX + R(g, 0, 3)
				 : QUOTA_TIME_MIN - 1 - R(g, 0, 3);
	} else if (m->nholds > 0 && P(g, 2, 3)) {
		i = (size_t)R(g, 0, (int64_t)m->nholds - 1);
		now = m->holds[i]->deadline + R(g, -1, 0);
	}
	snprintf(g_op, sizeof g_op, "%s %s %lld",
		 ctxwide ? "ctx_tick" : "account_tick", m->id, (long long)now);
	got = ctxwide ? quota_ctx_tick(M->ctx, now)
		      : quota_account_tick(m->a, now);
	if (bad) {
		MCHECK(got == QUOTA_EINVAL, "tick: %lld, want QUOTA_EINVAL",
		       (long long)got);
		MCHECK(quota_errmsg(M->ctx)[0] != '\0', "empty errmsg");
	} else {
		if (ctxwide)
			for (k = 0; k < M->nacc; k++)
				want += m_tick(&M->acc[k], now);
		else
			want = m_tick(m, now);
		MCHECK(got == want, "tick released %lld, want %lld",
		       (long long)got, (long long)want);
		g_stat.tick_released += want;
	}
	for (k = 0; k < M->nacc; k++)
		check_account(M, &M->acc[k], g->clock);
}

#endif /* QUOTA_TEST_MODEL_OPS_H */
