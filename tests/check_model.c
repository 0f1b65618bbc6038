/*
 * check_model.c - property test of the charging engine against a small,
 * obviously-correct model of /tmp/semantics.md (issue 2), written in
 * tests/support/model.h: plain arrays, linear scans, and a list of
 * (category, day, month, units, free) records for every counter.
 *
 * Thousands of random operations (charges, quotes, packages, caps,
 * overage policies, tariff changes, bad input) at random, out-of-order
 * times; after every step the return code, the whole receipt and the
 * observable state must equal the model's; units and package quota are
 * conserved.
 *
 * Issue 4 (/tmp/semantics4.md): reservations, commits with random
 * units_used, releases (failure fees), reversals, ticks (hold timeouts),
 * idempotency keys drawn from a small pool per account so that replays and
 * conflicts (same and other parameters, across operations) are frequent,
 * random key windows; an event hook that sometimes fails.  For every
 * package at every step: units bought = used (charged or committed,
 * forfeited reversals included) + held + remaining.
 *
 * Assumptions where the spec is silent: commit/release/reversal receipts
 * carry the hold's (original's) category and usage time; a reversal
 * receipt has hold_id 0 (also of a commit); the key window's "newest time
 * seen" is the newest key time (a tick or an unkeyed charge does not age
 * keys); errors are checked in the order argument validation, key
 * (replay/conflict), hold (ENOTFOUND, ERESOLVED, units_used > held), plan.
 * Runs with _i == NRUNS - 1 also store keys older than the newest key time
 * (late reports); the window is a queue, so such a key is forgotten by age
 * only once every key stored before it is gone (see check_holds_keys.c
 * test_r11_window_is_a_queue).
 *
 * Issue 15: blocking (R25: charges, quotes and reservations refused
 * with QUOTA_EBLOCKED after argument checks and key replays, commits,
 * releases, reversals, ticks and package adds going on), releases with
 * a failure reason charging the tariff's fee for that reason (R27), kept
 * receipts (keyless charges and commits take a receipt id, a charge's
 * from the hold id sequence, and sit in the key window like keys) and
 * reversal by receipt id.
 * R26: an account may follow a time zone instead of a fixed offset: the
 * library decodes the rule from TZif bytes (a footer-only file), the model
 * asks the C library (TZ set to the same POSIX rule, localtime_r's
 * tm_gmtoff), so days, months and ledger hours are checked against an
 * independent reading of the rules, Lord Howe's half-hour changes (days of
 * 23.5 and 24.5 hours) among them.
 *
 * The model is tests/support/model.h (with the failure context and the
 * base seed every check_model*.c shares), the random world on it (the
 * generators, the setup, the event hook, the key window, kept receipts)
 * support/model_world.h, and the charging operations (charge and quote,
 * reserve, commit and release, reversal by key and by receipt id, ticks)
 * support/model_ops.h; this file has the account and tariff operations
 * (blocking, keeping receipts, the key window's size, packages, the
 * configuration, tariff prices) and the run.  The models of gift money
 * (R24) and of auto-renewal (R23) went to check_model_gift.c and
 * check_model_renewal.c.
 *
 *   QUOTA_TEST_SEED=n   replay a seed (printed at the start of each run)
 *   QUOTA_TEST_QUICK=1  ~10x fewer steps (valgrind)
 */
#define _DEFAULT_SOURCE /* model.h: localtime_r, setenv, tzset, tm_gmtoff */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>

#include "quota.h"
#include "testutil.h"
#include "model_ops.h" /* model_world.h, model.h */

#define STEPS 5000

/* ------------------------------------ issue 15: R25 and R27 operations */

/* R25: block (a blocked account: nothing happens), unblock, a bad time. */
static void op_block(model *M, gen *g, macct *m)
{
	static const char *const why[3] = {
		NULL, "non-compliant content",
		"\xe8\xbf\x9d\xe8\xa7\x84\xe5\x86\x85\xe5\xae\xb9"};
	int64_t at = g->clock, since = -1;
	/* blocked a sixth of the time or so */
	int unblock = m->blocked ? P(g, 3, 4) : !P(g, 1, 6);
	int rc, wrc = QUOTA_OK;
	const char *reason = why[R(g, 0, 2)], *got = "x";

	if (P(g, 1, 15)) {
		at = P(g, 1, 2) ? QUOTA_TIME_MAX : QUOTA_TIME_MIN - 1;
		wrc = QUOTA_EINVAL;
	}
	snprintf(g_op, sizeof g_op, "%s %s at %lld reason %s",
		 unblock ? "unblock" : "block", m->id, (long long)at,
		 reason && !unblock ? reason : "-");
	rc = unblock ? quota_account_unblock(m->a, at)
		     : quota_account_block(m->a, reason, at);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	check_failed(M, rc, NULL);
	if (rc == QUOTA_OK && unblock && m->blocked) {
		m->blocked = 0;
		g_stat.unblock++;
	} else if (rc == QUOTA_OK && !unblock && !m->blocked) {
		/* blocking a blocked account keeps the first reason */
		m->blocked = 1;
		m->has_reason = reason != NULL;
		snprintf(m->reason, sizeof m->reason, "%s", reason ? reason : "");
		m->since = at;
		g_stat.block++;
	}
	rc = quota_account_blocked(m->a, &got, &since);
	MCHECK(rc == m->blocked, "blocked %d, want %d", rc, m->blocked);
	if (m->blocked) {
		MCHECK(since == m->since, "since %lld, want %lld",
		       (long long)since, (long long)m->since);
		MCHECK(m->has_reason ? got && strcmp(got, m->reason) == 0
				     : got == NULL,
		       "reason '%s', want '%s'", got ? got : "(null)",
		       m->has_reason ? m->reason : "(null)");
	} else {
		MCHECK(got == NULL && since == 0, "not blocked: a reason");
	}
	check_account(M, m, g->clock);
}

/* R27: keep receipts on or off (now and then a bad value). */
static void op_keep(model *M, gen *g, macct *m)
{
	int on = P(g, 2, 3), wrc = QUOTA_OK, rc;

	if (P(g, 1, 10)) {
		on = P(g, 1, 2) ? -1 : 2;
		wrc = QUOTA_EINVAL;
	}
	snprintf(g_op, sizeof g_op, "keep_receipts %s %d", m->id, on);
	rc = quota_account_keep_receipts(m->a, on);
	MCHECK(rc == wrc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(wrc), quota_errmsg(M->ctx));
	check_failed(M, rc, NULL);
	if (rc == QUOTA_OK) {
		m->keep = on;
		g_stat.keep++;
	}
	check_account(M, m, g->clock);
}

/* One of the issue 15 operations (w in 0..9). */
static void op_issue15(model *M, gen *g, macct *m, int64_t w)
{
	if (w < 2)
		op_block(M, g, m);
	else if (w < 3)
		op_keep(M, g, m);
	else if (w < 7)
		op_resolve(M, g, m, 2);
	else
		op_reverse_receipt(M, g, m);
}

static void op_key_window(model *M, gen *g, macct *m)
{
	int64_t keys = P(g, 1, 3) ? R(g, 1, 4)
				  : P(g, 1, 2) ? R(g, 5, 12) : 100000;
	int64_t age = P(g, 1, 3) ? R(g, 1, 6 * TU_HOUR)
				 : P(g, 1, 2) ? R(g, TU_DAY, 10 * TU_DAY)
					      : 604800;
	int rc, wrc = QUOTA_OK;

	if (P(g, 1, 8)) {
		if (P(g, 1, 2))
			keys = 0;
		else
			age = -R(g, 0, 2);
		wrc = QUOTA_EINVAL;
	}
	snprintf(g_op, sizeof g_op, "set_key_window %s %lld %lld", m->id,
		 (long long)keys, (long long)age);
	rc = quota_account_set_key_window(m->a, (uint32_t)keys, age);
	MCHECK(rc == wrc, "rc %s, want %s", quota_err_name(rc),
	       quota_err_name(wrc));
	if (rc == QUOTA_OK) {
		m->max_keys = (uint32_t)keys;
		m->max_age = age;
		m_key_purge(m);
	} else {
		MCHECK(quota_errmsg(M->ctx)[0] != '\0', "empty errmsg");
	}
	check_account(M, m, g->clock);
}

static void op_package(model *M, gen *g, macct *m, const mpkg *batch)
{
	quota_package_spec s;
	quota_package *p = NULL;
	mpkg np;
	int rc, want = QUOTA_OK, kind;

	if (m->npk >= MAXPK)
		return;
	memset(&np, 0, sizeof np);
	snprintf(np.id, sizeof np.id, "%s.p%d", m->id, m->pkseq++);
	np.mask = gen_mask(g, M->ncat);
	np.units = P(g, 1, 8) ? R(g, 1, 3) : R(g, 1, 150);
	np.eff = g->clock + R(g, -20 * TU_DAY, 3 * TU_DAY);
	if (P(g, 1, 4))
		np.eff = m->zone ? m_day_start(m, m_day(m, np.eff))
				 : tu_day_index(np.eff, m->off) * TU_DAY - m->off;
	np.exp = P(g, 3, 20) ? QUOTA_NEVER
			     : np.eff + (P(g, 1, 5) ? R(g, 1, 2 * TU_DAY)
						    : R(g, TU_DAY, 120 * TU_DAY));
	np.prio = P(g, 7, 10) ? 0 : (int32_t)R(g, -2, 2);
	np.flags = P(g, 1, 10) ? QUOTA_PACKAGE_STOP : 0;
	if (batch) { /* R5: bought together, same interval */
		np.mask = batch->mask;
		np.eff = batch->eff;
		np.exp = batch->exp;
		np.prio = batch->prio;
		np.flags = 0;
		np.units = R(g, 1, 2);
	}
	np.remaining = np.units;
	memset(&s, 0, sizeof s);
	kind = !batch && P(g, 1, 8) ? (int)R(g, 0, 4) : -1;
	switch (kind) {
	case 0:
		if (m->npk > 0) {
			snprintf(np.id, sizeof np.id, "%s",
				 m->pk[R(g, 0, m->npk - 1)].id);
			want = QUOTA_EEXISTS;
		}
		break;
	case 1:
		np.exp = np.eff - R(g, 0, TU_DAY);
		want = QUOTA_EINVAL;
		break;
	case 2:
		np.units = -R(g, 0, 3);
		want = QUOTA_EINVAL;
		break;
	case 3:
		np.mask = 0;
		want = QUOTA_EINVAL;
		break;
	case 4:
		np.mask |= QUOTA_MASK(M->ncat + (uint32_t)R(g, 0, 63 - M->ncat));
		want = QUOTA_ENOTFOUND;
		break;
	default:
		break;
	}
	s.id = np.id;
	s.categories = np.mask;
	s.units = np.units;
	s.effective_at = np.eff;
	s.expires_at = np.exp;
	s.price_micros = R(g, 0, 5000000);
	s.flags = np.flags;
	s.priority = np.prio;
	snprintf(g_op, sizeof g_op,
		 "package_add %s %s mask %llx units %lld [%lld, %lld) prio %d "
		 "flags %u",
		 m->id, np.id, (unsigned long long)np.mask, (long long)np.units,
		 (long long)np.eff, (long long)np.exp, np.prio, np.flags);
	rc = quota_package_add(m->a, &s, &p);
	MCHECK(rc == want, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(want), quota_errmsg(M->ctx));
	if (rc == QUOTA_OK) {
		quota_package_spec got;
		quota_package *found = NULL;

		np.p = p;
		m->pk[m->npk++] = np;
		ck_assert_int_eq(quota_package_get_spec(p, &got), QUOTA_OK);
		MCHECK(strcmp(got.id, np.id) == 0 && got.categories == np.mask &&
			       got.units == np.units &&
			       got.effective_at == np.eff &&
			       got.expires_at == np.exp &&
			       got.flags == np.flags && got.priority == np.prio &&
			       got.price_micros == s.price_micros,
		       "get_spec differs from the spec added");
		MCHECK(quota_package_find(m->a, np.id, &found) == QUOTA_OK &&
			       found == p,
		       "package_find");
	} else {
		MCHECK(p == NULL, "*out not NULL on failure");
		MCHECK(quota_errmsg(M->ctx)[0] != '\0', "empty errmsg");
	}
	check_account(M, m, g->clock);
	check_account(M, m, np.eff);
}

static void op_config(model *M, gen *g, macct *m)
{
	uint32_t c = (uint32_t)R(g, 0, M->ncat);
	int rc, k;

	switch (R(g, 0, 3)) {
	case 0: { /* cap */
		int64_t units;

		k = (int)R(g, 0, 1);
		units = gen_cap(g, k + 1);
		snprintf(g_op, sizeof g_op, "set_cap %s %d %d %lld", m->id,
			 c == M->ncat ? -1 : (int)c, k + 1, (long long)units);
		rc = quota_account_set_cap(
			m->a, c == M->ncat ? QUOTA_ALL : c, k + 1, units);
		MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
		m->cap[c == M->ncat ? MAXCAT : c][k] = units < 0 ? -1 : units;
		break;
	}
	case 1: /* overage */
		if (c == M->ncat)
			c = 0;
		k = P(g, 1, 4) ? QUOTA_OVERAGE_STOP : QUOTA_OVERAGE_PAYG;
		snprintf(g_op, sizeof g_op, "set_overage %s %u %d", m->id, c,
			 k);
		rc = quota_account_set_overage(m->a, c, k);
		MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
		m->overage[c] = k;
		break;
	case 2: /* tariff of a category */
		if (c == M->ncat)
			c = 0;
		k = P(g, 1, 5) ? -1 : (int)R(g, 0, M->ntar - 1);
		snprintf(g_op, sizeof g_op, "set_tariff %s %u %d", m->id, c, k);
		rc = quota_account_set_tariff(m->a, c,
					      k < 0 ? NULL : M->tar[k].t);
		MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
		m->tariff[c] = k;
		if (k >= 0)
			M->tar[k].used = true;
		break;
	default: { /* change a tariff */
		mtariff *t = &M->tar[R(g, 0, M->ntar - 1)];
		int64_t v;

		/* §5: a tariff in use is never changed in place. */
		if (t->used) {
			snprintf(g_op, sizeof g_op, "change used tariff");
			rc = R(g, 0, 2) == 2
				     ? quota_tariff_set_failure_fee_reason(
					       t->t, QUOTA_FAIL_REJECTED, 9)
				: R(g, 0, 1)
				     ? quota_tariff_set_mode(t->t, QUOTA_VOLUME)
				     : quota_tariff_add_tier(t->t, QUOTA_UNLIMITED,
							     1);
			MCHECK(rc == QUOTA_EINVAL, "rc %s", quota_err_name(rc));
			break;
		}
		switch (R(g, 0, 5)) {
		case 5: /* R27 fees per reason */
			snprintf(g_op, sizeof g_op, "failure fees per reason");
			gen_tariff_fees(g, t);
			break;
		case 0:
			v = R(g, 0, 60);
			k = (int)R(g, 1, 3);
			snprintf(g_op, sizeof g_op, "set_free %lld %d",
				 (long long)v, k);
			rc = quota_tariff_set_free(t->t, v, k);
			MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
			t->free_units = v;
			t->free_period = k;
			break;
		case 1:
			v = P(g, 1, 2) ? 0 : R(g, 1, 30);
			snprintf(g_op, sizeof g_op, "set_free_daily_limit %lld",
				 (long long)v);
			rc = quota_tariff_set_free_daily_limit(t->t, v);
			MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
			t->daily_limit = v;
			break;
		case 2:
			k = P(g, 1, 2) ? QUOTA_VOLUME : QUOTA_GRADUATED;
			snprintf(g_op, sizeof g_op, "set_mode %d", k);
			rc = quota_tariff_set_mode(t->t, k);
			MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
			t->mode = k;
			break;
		case 3: /* R10 failure fee, sometimes one that overflows */
			v = P(g, 1, 3) ? 0
			    : P(g, 1, 8) ? R(g, INT64_MAX / 100, INT64_MAX / 3)
					 : R(g, 1, 3000);
			snprintf(g_op, sizeof g_op, "set_failure_fee %lld",
				 (long long)v);
			rc = quota_tariff_set_failure_fee(t->t, v);
			MCHECK(rc == QUOTA_OK, "rc %s", quota_err_name(rc));
			t->fee = v;
			break;
		default: {
			int64_t last = t->ntiers ? t->up_to[t->ntiers - 1] : 0;
			int want = QUOTA_OK;

			if (t->ntiers >= MAXTIER)
				break;
			v = P(g, 1, 5) ? last - R(g, 0, 5)
				       : (last == QUOTA_UNLIMITED
						  ? QUOTA_UNLIMITED
						  : last + R(g, 1, 200));
			if (v <= last || last == QUOTA_UNLIMITED)
				want = QUOTA_EINVAL;
			if (v <= 0)
				want = QUOTA_EINVAL;
			snprintf(g_op, sizeof g_op, "add_tier %lld",
				 (long long)v);
			rc = quota_tariff_add_tier(t->t, v, 777);
			MCHECK(rc == want, "rc %s, want %s", quota_err_name(rc),
			       quota_err_name(want));
			if (rc == QUOTA_OK) {
				t->up_to[t->ntiers] = v;
				t->price[t->ntiers++] = 777;
			} else {
				MCHECK(quota_errmsg(M->ctx)[0] != '\0',
				       "empty errmsg");
			}
			break;
		}
		}
		break;
	}
	}
	check_account(M, m, g->clock);
}

/* quota_tariff_price agrees with the model's pricing of positions. */
static void op_price(model *M, gen *g)
{
	const mtariff *t = &M->tar[R(g, 0, M->ntar - 1)];
	macct tmp;
	model one;
	mplan pl;
	int64_t vb = R(g, 0, 2000), n = R(g, 1, 500), cost = -1;
	int rc;

	/* A throwaway account of the model with vb units already used. */
	memset(&tmp, 0, sizeof tmp);
	memset(&one, 0, sizeof one);
	one.ncat = 1;
	one.ntar = 1;
	one.tar[0] = *t;
	one.tar[0].free_period = 0;
	tmp.tariff[0] = 0;
	tmp.cap[0][0] = tmp.cap[0][1] = tmp.cap[MAXCAT][0] =
		tmp.cap[MAXCAT][1] = -1;
	tmp.nrec = 1;
	tmp.caprec = 1;
	tmp.rec = malloc(sizeof *tmp.rec);
	ck_assert_ptr_nonnull(tmp.rec);
	tmp.rec[0].cat = 0;
	tmp.rec[0].day = 0;
	tmp.rec[0].month = tu_month_index(0, 0);
	tmp.rec[0].units = vb;
	tmp.rec[0].free = 0;
	m_plan(&one, &tmp, 0, n, 0, NULL, &pl);
	free(tmp.rec);
	snprintf(g_op, sizeof g_op, "tariff_price %lld %lld", (long long)vb,
		 (long long)n);
	rc = quota_tariff_price(t->t, vb, n, &cost);
	MCHECK(rc == pl.rc, "rc %s, want %s", quota_err_name(rc),
	       quota_err_name(pl.rc));
	if (rc == QUOTA_OK)
		MCHECK(cost == pl.cost, "cost %lld, want %lld",
		       (long long)cost, (long long)pl.cost);
}

START_TEST(test_model_random_operations)
{
	model M;
	gen g;
	int steps = tu_quick() ? STEPS / 10 : STEPS;
	int i, ncharge = 0;

	g_seed = g_base + (uint64_t)_i;
	g_late_keys = _i == NRUNS - 1;
	memset(&g_stat, 0, sizeof g_stat);
	fprintf(stderr, "check_model run %d: QUOTA_TEST_SEED=%llu (%d steps)\n",
		_i, (unsigned long long)g_seed, steps);
	tu_rng_seed(&g.r, g_seed);
	g.clock = tu_utc(2024, 1, 20, 0, 0, 0) + R(&g, 0, 300 * TU_DAY);
	g.simple = (int)(g_seed & 1);
	g_step = -1;
	snprintf(g_op, sizeof g_op, "setup");
	setup(&M, &g);
	for (i = 0; i < steps; i++) {
		macct *m = &M.acc[R(&g, 0, M.nacc - 1)];
		int64_t w = R(&g, 0, 159); /* 150..159: issue 15 */

		g_step = i;
		g.clock += R(&g, 0, 5 * TU_HOUR);
		if (w < 45) {
			op_charge(&M, &g, m, 0, 0);
			ncharge++;
		} else if (w < 62) {
			op_charge(&M, &g, m, 1, 0);
		} else if (w < 68) {
			op_charge(&M, &g, m, (int)R(&g, 0, 1), 1);
		} else if (w < 80) {
			if (!g.simple || m->npk < 3 || P(&g, 1, 10))
				op_package(&M, &g, m, NULL);
		} else if (w < 81) {
			/* An order of many small packages (R5). */
			mpkg b;
			int k, n = (int)R(&g, 4, 20);

			memset(&b, 0, sizeof b);
			b.mask = gen_mask(&g, M.ncat);
			b.eff = g.clock - R(&g, 0, 5 * TU_DAY);
			b.exp = P(&g, 1, 5) ? QUOTA_NEVER
					    : g.clock + R(&g, TU_DAY, 60 * TU_DAY);
			b.prio = (int32_t)R(&g, -1, 1);
			for (k = 0; k < n; k++)
				op_package(&M, &g, m, &b);
		} else if (w < 88) {
			op_config(&M, &g, m);
		} else if (w < 92) {
			op_price(&M, &g);
		} else if (w < 100) {
			/* Read everything at a random time, every account. */
			int64_t T = P(&g, 1, 2) ? gen_time(&g, m)
						: g.clock + R(&g, -60 * TU_DAY,
							      30 * TU_DAY);
			int k;

			snprintf(g_op, sizeof g_op, "read at %lld",
				 (long long)T);
			for (k = 0; k < M.nacc; k++)
				check_account(&M, &M.acc[k], T);
		} else if (w < 118) {
			op_reserve(&M, &g, m, P(&g, 1, 15));
		} else if (w < 128) {
			op_resolve(&M, &g, m, 0);
		} else if (w < 133) {
			op_resolve(&M, &g, m, 1);
		} else if (w < 139) {
			op_reverse(&M, &g, m);
		} else if (w < 146) {
			op_tick(&M, &g, m, P(&g, 1, 3));
		} else if (w < 150) {
			op_key_window(&M, &g, m);
		} else {
			op_issue15(&M, &g, m, w - 150);
		}
		MCHECK(quota_ctx_hook_failures(M.ctx) == (uint64_t)g_hook.failed,
		       "hook failures %llu, want %ld",
		       (unsigned long long)quota_ctx_hook_failures(M.ctx),
		       g_hook.failed);
	}
	g_stat.events = g_hook.n;
	ck_assert_int_gt(ncharge, 0);
	fprintf(stderr,
		"check_model run %d: ok %ld, ECAP %ld, EEXHAUSTED %ld, "
		"EOVERFLOW %ld, EINVAL %ld, ENOTFOUND %ld; with free %ld, "
		"package %ld, payg %ld, >1 package %ld, >1 tier %ld, "
		"truncated %ld, late > 1 day %ld\n",
		_i, g_stat.rc[0], g_stat.rc[-QUOTA_ECAP],
		g_stat.rc[-QUOTA_EEXHAUSTED], g_stat.rc[-QUOTA_EOVERFLOW],
		g_stat.rc[-QUOTA_EINVAL], g_stat.rc[-QUOTA_ENOTFOUND],
		g_stat.free, g_stat.pkg, g_stat.payg, g_stat.multi_pkg,
		g_stat.multi_tier, g_stat.truncated, g_stat.late);
	fprintf(stderr,
		"check_model run %d%s%s: reserve %ld, commit %ld (partial %ld), "
		"release %ld (fee %ld), released by tick %ld, reverse %ld "
		"(forfeit %ld), replay %ld, EKEYCONFLICT %ld, ERESOLVED %ld, "
		"EREVERSED %ld, keys forgotten %ld, events %ld\n",
		_i, g_late_keys ? " (late keys)" : "",
		g.simple ? " (simple)" : "", g_stat.reserve,
		g_stat.commit, g_stat.partial, g_stat.release, g_stat.fee,
		g_stat.tick_released, g_stat.reverse, g_stat.forfeited,
		g_stat.replay, g_stat.conflict, g_stat.rc[-QUOTA_ERESOLVED],
		g_stat.rc[-QUOTA_EREVERSED], g_stat.forgotten, g_stat.events);
	fprintf(stderr,
		"check_model run %d: issue 15: block %ld, unblock %ld, "
		"EBLOCKED %ld, release with a reason %ld (fee %ld), "
		"keep_receipts %ld, receipts kept %ld, reverse_receipt %ld\n",
		_i, g_stat.block, g_stat.unblock, g_stat.blocked,
		g_stat.reason_release, g_stat.reason_fee, g_stat.keep,
		g_stat.receipts, g_stat.reverse_receipt);
	/* Issue 15's operations were reached: in the full runs (5,000
	 * steps).  Quick runs (valgrind's, 500 steps) look for memory
	 * errors; a tenth of the steps can miss both (seed 13197740226 did,
	 * and failed a CI run). */
	if (!tu_quick())
		ck_assert_int_gt(g_stat.block + g_stat.reason_release, 0);
	teardown(&M);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_model_random_operations, 0, NRUNS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{

	g_base = base_seed();
	return tu_run(model_suite());
}
