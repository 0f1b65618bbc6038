/*
 * model_world.h - the random world of check_model.c's property test, on
 * the model of model.h: what a run saw (the counts printed at its end,
 * the event hook's), the generators (times, masks, tariffs, caps, keys),
 * the event hook, the setup and teardown of a context and its accounts,
 * the model's key window (R11: a queue) and its kept receipts (R27).
 * The operations on it are in model_ops.h and check_model.c.
 */
#ifndef QUOTA_TEST_MODEL_WORLD_H
#define QUOTA_TEST_MODEL_WORLD_H

#include "model.h"

/* --------------------------------------------------------------- run state */

/* What the run exercised, printed at its end (a vacuous run shows). */
static struct {
	long rc[16];
	long free, pkg, payg, multi_pkg, multi_tier, truncated, late;
	long reserve, commit, partial, release, fee, tick_released, reverse,
		forfeited, replay, conflict, forgotten, events;
	/* issue 15 */
	long blocked, block, unblock, reason_release, reason_fee, keep,
		receipts, reverse_receipt;
} g_stat;
/* This run also stores late keys (see check_model.c's header
 * comment). */
static int g_late_keys;
static long g_key_seq;
/* The event hook: delivered, and how many returned non-zero. */
static struct {
	long n, failed;
	tu_rng r;
	const void *accts[MAXACC];
	int nacc;
} g_hook;

/* ------------------------------------------------------------ generators */

typedef struct gen {
	tu_rng r;
	int64_t clock;
	/* Odd seeds: the common case of a gateway (usage at the current
	 * time, few packages), where the engine has fast paths. */
	int simple;
} gen;

static inline int64_t R(gen *g, int64_t lo, int64_t hi)
{
	return tu_rng_range(&g->r, lo, hi);
}

static inline int P(gen *g, unsigned num, unsigned den)
{
	return tu_rng_chance(&g->r, num, den);
}

/* A usage time: mostly recent, often late, sometimes on a boundary. */
static inline int64_t gen_time(gen *g, const macct *m)
{
	int64_t at = g->clock, day, y;
	int mo, d;

	if (g->simple && P(g, 17, 20))
		return at;
	switch (R(g, 0, 9)) {
	case 0:
	case 1:
		at -= R(g, 0, 3 * TU_DAY);
		break;
	case 2:
		at -= R(g, 0, 45 * TU_DAY);
		break;
	case 3: /* around the local midnight */
		day = m_day(m, at - R(g, 0, 2 * TU_DAY));
		at = (m->zone ? m_day_start(m, day) : day * TU_DAY - m->off) +
		     R(g, -2, 2);
		break;
	case 4: /* around the local first of a month */
		day = m_day(m, at - R(g, 0, 40 * TU_DAY));
		tu_civil_from_days(day, &y, &mo, &d);
		day = tu_days_from_civil(y, mo, 1);
		at = (m->zone ? m_day_start(m, day) : day * TU_DAY - m->off) +
		     R(g, -2, 2);
		break;
	case 5: /* on a package's effective_at or expires_at */
		if (m->npk > 0) {
			const mpkg *p = &m->pk[R(g, 0, m->npk - 1)];

			at = (P(g, 1, 2) || p->exp == QUOTA_NEVER ? p->eff
								   : p->exp) +
			     R(g, -1, 1);
			break;
		}
		/* fall through */
	default:
		at -= R(g, 0, TU_HOUR);
		break;
	}
	return at;
}

static inline uint64_t gen_mask(gen *g, uint32_t ncat)
{
	uint64_t mask = 0;
	uint32_t c;

	if (P(g, 1, 2))
		return QUOTA_MASK((uint32_t)R(g, 0, ncat - 1));
	for (c = 0; c < ncat; c++)
		if (P(g, 1, 2))
			mask |= QUOTA_MASK(c);
	return mask ? mask : QUOTA_MASK(0);
}

/* R27: a failure fee and fees for some reasons (0: that reason free),
 * on a tariff not in use. */
static inline void gen_tariff_fees(gen *g, mtariff *t)
{
	int32_t k;

	if (P(g, 1, 2)) {
		t->fee = R(g, 1, 3000);
		ck_assert_int_eq(quota_tariff_set_failure_fee(t->t, t->fee),
				 QUOTA_OK);
	}
	for (k = 1; k <= QUOTA_FAIL_REASON_MAX; k++) {
		if (!P(g, 1, 4))
			continue;
		t->rfee[k] = P(g, 1, 3) ? 0 : R(g, 1, 5000);
		ck_assert_int_eq(quota_tariff_set_failure_fee_reason(t->t, k,
								     t->rfee[k]),
				 QUOTA_OK);
		if (P(g, 1, 5)) { /* dropped again: the failure fee's */
			t->rfee[k] = -1;
			ck_assert_int_eq(quota_tariff_set_failure_fee_reason(
						 t->t, k, -1),
					 QUOTA_OK);
		}
	}
}

static inline void gen_tariff(gen *g, model *M, int i)
{
	mtariff *t = &M->tar[i];
	char name[24];
	int64_t up = 0;
	int k, n;

	memset(t, 0, sizeof *t);
	for (k = 0; k <= QUOTA_FAIL_REASON_MAX; k++)
		t->rfee[k] = -1;
	snprintf(name, sizeof name, "tariff%d", i);
	ck_assert_int_eq(quota_tariff_new(M->ctx, name, &t->t), QUOTA_OK);
	n = (int)R(g, 0, 5);
	for (k = 0; k < n; k++) {
		int64_t price = R(g, 0, 20000);

		up += P(g, 1, 2) ? R(g, 1, 40) : R(g, 5, 300);
		if (k == n - 1 && P(g, 3, 5))
			up = QUOTA_UNLIMITED;
		if (P(g, 1, 12)) /* a price that overflows for larger charges */
			price = R(g, INT64_MAX / 200, INT64_MAX / 2);
		ck_assert_int_eq(quota_tariff_add_tier(t->t, up, price),
				 QUOTA_OK);
		t->up_to[k] = up;
		t->price[k] = price;
	}
	t->ntiers = n;
	gen_tariff_fees(g, t);
	if (P(g, 3, 10)) {
		t->mode = QUOTA_VOLUME;
		ck_assert_int_eq(quota_tariff_set_mode(t->t, QUOTA_VOLUME),
				 QUOTA_OK);
	}
	if (P(g, 1, 2)) {
		t->free_units = R(g, 0, 80);
		t->free_period = (int)R(g, 1, 3);
		ck_assert_int_eq(quota_tariff_set_free(t->t, t->free_units,
						       t->free_period),
				 QUOTA_OK);
		if (P(g, 2, 5)) {
			t->daily_limit = R(g, 1, 40);
			ck_assert_int_eq(quota_tariff_set_free_daily_limit(
						 t->t, t->daily_limit),
					 QUOTA_OK);
		}
	}
}

static inline int64_t gen_cap(gen *g, int period)
{
	if (P(g, 3, 10))
		return -1;
	if (P(g, 1, 20))
		return 0;
	return period == QUOTA_PERIOD_DAY ? R(g, 20, 1500) : R(g, 300, 20000);
}

/* The event hook: sane events; a quarter of them fail. */
static inline int hook(const quota_event *e, void *ud)
{
	int i, known = 0;

	(void)ud;
	g_hook.n++;
	for (i = 0; i < g_hook.nacc; i++)
		known |= g_hook.accts[i] == (const void *)e->account;
	MCHECK(known, "event for an unknown account");
	MCHECK((e->kind >= QUOTA_EVENT_LOW_QUOTA &&
		e->kind <= QUOTA_EVENT_CAP_REACHED) ||
		       e->kind == QUOTA_EVENT_HOLD_EXPIRED ||
		       e->kind == QUOTA_EVENT_ACCOUNT_BLOCKED || /* R25 */
		       e->kind == QUOTA_EVENT_ACCOUNT_UNBLOCKED,
	       "event kind %d", e->kind);
	/* §7: a tick's released hold, with the release's receipt. */
	MCHECK((e->kind == QUOTA_EVENT_HOLD_EXPIRED) ==
		       (e->receipt != NULL),
	       "event kind %d with%s a receipt", e->kind,
	       e->receipt ? "" : "out");
	if (e->receipt)
		MCHECK(e->receipt->kind == QUOTA_RECEIPT_RELEASE &&
			       e->receipt->hold_id > 0 &&
			       e->receipt->units > 0 &&
			       e->receipt->fee_micros == 0 &&
			       e->receipt->units ==
				       e->receipt->free_units +
					       e->receipt->package_units +
					       e->receipt->payg_units,
		       "HOLD_EXPIRED receipt: kind %d hold %llu units %lld",
		       e->receipt->kind,
		       (unsigned long long)e->receipt->hold_id,
		       (long long)e->receipt->units);
	if (e->kind == QUOTA_EVENT_PACKAGE_EXHAUSTED ||
	    e->kind == QUOTA_EVENT_PACKAGE_EXPIRED ||
	    e->kind == QUOTA_EVENT_PACKAGE_EXPIRING)
		MCHECK(e->package != NULL, "package event without package");
	MCHECK(e->remaining >= 0, "event remaining %lld",
	       (long long)e->remaining);
	if (tu_rng_chance(&g_hook.r, 1, 4)) {
		g_hook.failed++;
		return -1;
	}
	return 0;
}

static inline void setup(model *M, gen *g)
{
	uint32_t c, id;
	int i, k;

	memset(M, 0, sizeof *M);
	ck_assert_int_eq(quota_ctx_new(&M->ctx), QUOTA_OK);
	M->ncat = (uint32_t)R(g, 2, MAXCAT);
	for (c = 0; c < M->ncat; c++) {
		char name[16];

		snprintf(name, sizeof name, "cat.%u", c);
		ck_assert_int_eq(quota_category_add(M->ctx, name, &id),
				 QUOTA_OK);
		ck_assert_uint_eq(id, c);
	}
	M->ntar = (int)R(g, 1, MAXTAR);
	for (i = 0; i < M->ntar; i++)
		gen_tariff(g, M, i);
	for (i = 0; i < NZONES; i++) { /* R26 */
		uint8_t b[200];
		char name[16];
		size_t n = tu_tzif_rule(b, 0, zone_rules[i]);

		snprintf(name, sizeof name, "zone.%d", i);
		ck_assert_int_eq(quota_zone_from_tzif(M->ctx, name, b, n,
						      &M->zones[i]),
				 QUOTA_OK);
	}
	M->nacc = (int)R(g, 1, MAXACC);
	memset(&g_hook, 0, sizeof g_hook);
	g_hook.nacc = M->nacc;
	tu_rng_seed(&g_hook.r, g_seed ^ 0x5eed);
	if (P(g, 2, 3))
		ck_assert_int_eq(quota_ctx_set_event_hook(M->ctx, hook, &g_hook),
				 QUOTA_OK);
	for (i = 0; i < M->nacc; i++) {
		macct *m = &M->acc[i];

		snprintf(m->id, sizeof m->id, "acct%d", i);
		ck_assert_int_eq(quota_account_new(M->ctx, m->id, &m->a),
				 QUOTA_OK);
		m->clock = INT64_MIN;
		m->newest = INT64_MIN;
		m->max_keys = 100000;
		m->max_age = 604800;
		g_hook.accts[i] = m->a;
		/* R21: alerts and expiry warnings (events are not modelled;
		 * the hook checks they are sane and sometimes fails). */
		for (k = (int)R(g, 0, 3); k > 0; k--) {
			int unit = (int)R(g, 0, 1);
			int64_t level = unit == QUOTA_ALERT_PERCENT
						? R(g, 0, 100)
						: R(g, 0, 500);

			ck_assert_int_eq(quota_account_add_alert(
						 m->a,
						 (uint32_t)R(g, 0, M->ncat - 1),
						 level, unit),
					 QUOTA_OK);
		}
		if (P(g, 1, 2))
			ck_assert_int_eq(quota_account_set_expiry_warning(
						 m->a, R(g, 0, 3 * TU_DAY)),
					 QUOTA_OK);
		switch (R(g, 0, 2)) {
		case 0:
			m->off = 0;
			break;
		case 1:
			m->off = (int32_t)(900 * R(g, -72, 72));
			break;
		default:
			m->off = (int32_t)R(g, -64800, 64800);
			break;
		}
		ck_assert_int_eq(quota_account_set_utc_offset(m->a, m->off),
				 QUOTA_OK);
		m->zone = 0;
		if (P(g, 1, 3)) { /* R26: a zone instead */
			m->zone = 1 + (int)R(g, 0, NZONES - 1);
			m->off = 0;
			ck_assert_int_eq(quota_account_set_zone(
						 m->a, M->zones[m->zone - 1]),
					 QUOTA_OK);
		}
		for (c = 0; c < MAXCAT; c++) {
			m->tariff[c] = -1;
			m->overage[c] = QUOTA_OVERAGE_PAYG;
		}
		for (c = 0; c <= MAXCAT; c++)
			m->cap[c][0] = m->cap[c][1] = -1;
		for (c = 0; c < M->ncat; c++) {
			if (P(g, 4, 5)) {
				m->tariff[c] = (int)R(g, 0, M->ntar - 1);
				ck_assert_int_eq(
					quota_account_set_tariff(
						m->a, c, M->tar[m->tariff[c]].t),
					QUOTA_OK);
				M->tar[m->tariff[c]].used = true;
			}
			if (P(g, 1, 8)) {
				m->overage[c] = QUOTA_OVERAGE_STOP;
				ck_assert_int_eq(quota_account_set_overage(
							 m->a, c,
							 QUOTA_OVERAGE_STOP),
						 QUOTA_OK);
			}
		}
		for (c = 0; c <= M->ncat; c++)
			for (k = 0; k < 2; k++)
				if (P(g, 1, 6)) {
					uint32_t cc = c == M->ncat ? QUOTA_ALL
								   : c;

					m->cap[c == M->ncat ? MAXCAT : c][k] =
						k ? R(g, 1000, 20000)
						  : R(g, 50, 1500);
					ck_assert_int_eq(
						quota_account_set_cap(
							m->a, cc, k + 1,
							m->cap[c == M->ncat
								       ? MAXCAT
								       : c][k]),
						QUOTA_OK);
				}
	}
}

static inline void teardown(model *M)
{
	size_t k;
	int i;

	quota_ctx_free(M->ctx);
	for (i = 0; i < M->nacc; i++) {
		macct *m = &M->acc[i];

		free(m->rec);
		free(m->cost);
		for (k = 0; k < m->nholds; k++)
			free(m->holds[k]);
		free(m->holds);
		for (k = 0; k < m->nkeys; k++)
			free(m->keys[k].r);
		free(m->keys);
	}
}

/* ------------------------------------------------------------------ keys */

#define K65 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"

static inline mkey *m_key_find(macct *m, const char *key)
{
	size_t i;

	if (!key)
		return NULL;
	for (i = 0; i < m->nkeys; i++)
		if (strcmp(m->keys[i].key, key) == 0)
			return &m->keys[i];
	return NULL;
}

static inline void m_key_drop(macct *m, size_t i)
{
	free(m->keys[i].r);
	memmove(&m->keys[i], &m->keys[i + 1],
		(m->nkeys - i - 1) * sizeof *m->keys);
	m->nkeys--;
	g_stat.forgotten++;
}

/* The window is a queue (R11, quota_reverse(3)): forget the oldest stored
 * key while there are more than max_keys, or while its time is older than
 * newest - max_age.  A late key stored after newer ones waits its turn. */
static inline void m_key_purge(macct *m)
{
	int64_t lim;

	for (;;) {
		if (m->nkeys == 0)
			break;
		if (m->nkeys > m->max_keys) {
			m_key_drop(m, 0);
			continue;
		}
		if (m->newest != INT64_MIN &&
		    !__builtin_sub_overflow(m->newest, m->max_age, &lim) &&
		    m->keys[0].time < lim) {
			m_key_drop(m, 0);
			continue;
		}
		break;
	}
}

/* Store a successful keyed call (e->r is a copy of its receipt). */
static inline void m_key_store(macct *m, const mkey *e, const mrcpt *r)
{
	mkey *k;

	if (m->nkeys == m->capkeys) {
		m->capkeys = m->capkeys ? 2 * m->capkeys : 16;
		m->keys = realloc(m->keys, m->capkeys * sizeof *m->keys);
		ck_assert_ptr_nonnull(m->keys);
	}
	k = &m->keys[m->nkeys++];
	*k = *e;
	k->r = malloc(sizeof *k->r);
	ck_assert_ptr_nonnull(k->r);
	*k->r = *r;
	k->r->fee = r->fee;
	if (e->time > m->newest)
		m->newest = e->time;
	m_key_purge(m);
}

static inline void m_clock(macct *m, int64_t t)
{
	if (t > m->clock)
		m->clock = t;
}

/* A key from the account's small pool, a fresh one, or none. */
static inline const char *gen_key(gen *g, char *buf, size_t n)
{
	int64_t w = R(g, 0, 99);

	if (w < 35)
		return NULL;
	if (w < 75)
		snprintf(buf, n, "k%d", (int)R(g, 0, 7));
	else
		snprintf(buf, n, "fresh-%ld", ++g_key_seq);
	return buf;
}

/* A stored key of the account, or NULL. */
static inline mkey *gen_stored_key(gen *g, macct *m)
{
	size_t i, j;

	if (m->nkeys == 0)
		return NULL;
	i = (size_t)R(g, 0, (int64_t)m->nkeys - 1);
	for (j = 0; j < m->nkeys; j++) /* R27: not a kept receipt's */
		if (m->keys[(i + j) % m->nkeys].key[0] != '\xff')
			return &m->keys[(i + j) % m->nkeys];
	return NULL;
}

/*
 * Keys stored out of time order (a late usage time) are only generated in
 * the late-keys run: elsewhere a new key for a charge or reserve older
 * than the newest key time is dropped (the call goes without a key).
 */
static inline const char *late_key_rule(macct *m, const char *key, int64_t at)
{
	if (key && !g_late_keys && !m_key_find(m, key) &&
	    m->newest != INT64_MIN && at < m->newest)
		return NULL;
	return key;
}

/* A bad key: its code. */
static inline const char *gen_bad_key(gen *g, int *want)
{
	switch (R(g, 0, 3)) {
	case 0:
		*want = QUOTA_EINVAL;
		return K65;
	case 1:
		*want = QUOTA_EINVAL;
		return "";
	case 2:
		*want = QUOTA_EENCODING;
		return "k\xff";
	default:
		*want = QUOTA_EENCODING;
		return "\xed\xa0\x80";
	}
}

static inline void count_rc(int rc)
{
	if (rc <= 0 && rc > -16)
		g_stat.rc[-rc]++;
	if (rc == QUOTA_EKEYCONFLICT)
		g_stat.conflict++;
}

/* After a failed call: a message and a zeroed receipt. */
static inline void check_failed(const model *M, int rc, const quota_receipt *r)
{
	if (rc == QUOTA_OK)
		return;
	MCHECK(quota_errmsg(M->ctx)[0] != '\0', "empty errmsg");
	if (r)
		MCHECK(tu_receipt_is_zero(r), "receipt not zeroed");
}

/* ------------------------------------------ issue 15: kept receipts (R27) */

/* The key a kept receipt sits under in the window: 0xFF (never in a
 * caller's UTF-8 key) and the id in decimal, as quota_reverse(3) keeps
 * it "like a key". */
static inline void m_rkey(char *buf, size_t n, uint64_t id)
{
	snprintf(buf, n, "\xff%llu", (unsigned long long)id);
}

static inline void m_keep_receipt(macct *m, uint64_t id, int op, int64_t time,
				  const mrcpt *want)
{
	mkey e;

	memset(&e, 0, sizeof e);
	m_rkey(e.key, sizeof e.key, id);
	e.op = op;
	e.hold = op == OP_COMMIT ? id : 0;
	e.time = time;
	m_key_store(m, &e, want);
	g_stat.receipts++;
}

/* A keyless charge went through: with receipts kept it takes the next id
 * of the hold sequence (a closed placeholder in the model's holds). */
static inline void m_keep_charge(macct *m, uint32_t cat, int64_t units,
				 int64_t at, const mrcpt *want,
				 const quota_receipt *r)
{
	mhold *h;

	(void)cat;
	(void)units;
	if (!m->keep) {
		if (r)
			MCHECK(r->receipt_id == 0, "receipt_id %llu, not kept",
			       (unsigned long long)r->receipt_id);
		return;
	}
	if (m->nholds == m->capholds) {
		m->capholds = m->capholds ? 2 * m->capholds : 64;
		m->holds = realloc(m->holds, m->capholds * sizeof *m->holds);
		ck_assert_ptr_nonnull(m->holds);
	}
	h = calloc(1, sizeof *h);
	ck_assert_ptr_nonnull(h);
	h->receipt = 1;
	h->r = *want;
	m->holds[m->nholds++] = h;
	if (r)
		MCHECK(r->receipt_id == (uint64_t)m->nholds,
		       "charge receipt_id %llu, want %zu",
		       (unsigned long long)r->receipt_id, m->nholds);
	m_keep_receipt(m, m->nholds, OP_CHARGE, at, want);
}

#endif /* QUOTA_TEST_MODEL_WORLD_H */
