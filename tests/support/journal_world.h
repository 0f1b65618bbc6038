/*
 * journal_world.h - a recorded world for the journal tests (check_replay)
 * and the record fuzzer (tests/fuzz/fuzz_journal.c, its seed generator).
 *
 * A recording store keeps every record a context hands it, in order;
 * jw_setup builds a fixed configuration (categories, graduated, volume
 * and lifetime tariffs with tiers, free allowances and a failure fee,
 * a fixed-price and a by-quantity offer) and three accounts in every
 * kind of state (setters, packages, a purchase, keyed charges, an open
 * hold); jw_step then runs one random call of every kind the journal
 * records.  Everything goes through the public API, so the records are
 * real ones, and the world is the same on every run (its own PRNG).
 *
 * Nothing here uses Check: the fuzzer includes it too.  Calls that the
 * library refuses are part of the workload (they write no record).
 */
#ifndef QUOTA_JOURNAL_WORLD_H
#define QUOTA_JOURNAL_WORLD_H

#include "quota.h"
#include "quota_store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JW_T0 INT64_C(1715767200) /* 2024-05-15 10:00:00 UTC */
#define JW_DAY INT64_C(86400)
#define JW_HOUR INT64_C(3600)
#define JW_NACCT 3
#define JW_MAXHOLDS 64
#define JW_MAXKEYS 256

/* ------------------------------------------------- the recording store */

typedef struct jw_rec {
	char *account; /* NULL: the configuration stream */
	unsigned char *p;
	size_t n;
} jw_rec;

typedef struct jw_log {
	jw_rec *r;
	size_t n, cap;
} jw_log;

static inline void jw_die(const char *what)
{
	fprintf(stderr, "journal_world: %s\n", what);
	abort();
}

static inline void jw_log_add(jw_log *l, const char *account, const void *p,
		       size_t n)
{
	jw_rec *r;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->r = realloc(l->r, l->cap * sizeof *l->r);
		if (!l->r)
			jw_die("out of memory");
	}
	r = &l->r[l->n++];
	r->account = NULL;
	if (account) {
		size_t k = strlen(account) + 1;

		if (!(r->account = malloc(k)))
			jw_die("out of memory");
		memcpy(r->account, account, k);
	}
	if (!(r->p = malloc(n ? n : 1)))
		jw_die("out of memory");
	memcpy(r->p, p, n);
	r->n = n;
}

static inline int jw_append(void *ud, const char *account, uint64_t seq,
		     const void *rec, size_t len)
{
	(void)seq;
	jw_log_add(ud, account, rec, len);
	return QUOTA_OK;
}

static inline void jw_log_free(jw_log *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->r[i].account);
		free(l->r[i].p);
	}
	free(l->r);
	memset(l, 0, sizeof *l);
}

/* Record every state change of ctx into l. */
static inline void jw_record(quota_ctx *ctx, jw_log *l)
{
	quota_store st = QUOTA_STORE_INIT;

	st.ud = l;
	st.append = jw_append;
	if (quota_ctx_set_store(ctx, &st) != QUOTA_OK)
		jw_die("quota_ctx_set_store");
}

/* -------------------------------------------------------------- world */

typedef struct jw_world {
	quota_ctx *ctx;
	uint64_t rng;
	int64_t t; /* the workload's clock: usage comes near it */
	uint32_t sms, email, push;
	quota_tariff *grad, *vol, *life;
	quota_offer *fixed, *qty;
	quota_account *a[JW_NACCT];
	uint64_t holds[JW_NACCT][JW_MAXHOLDS];
	int nholds[JW_NACCT];
	char keys[JW_NACCT][JW_MAXKEYS][16]; /* keys of charges, commits */
	int nkeys[JW_NACCT];
	unsigned serial; /* for fresh keys, ids and names */
	int ntariffs;    /* tariffs made by jw_step ("t0", "t1", ...) */
} jw_world;

/* The accounts' ids. */
static inline const char *jw_id(int i)
{
	static const char *const ids[JW_NACCT] = {"acme", "beta", "gamma"};

	return ids[i];
}

static inline uint64_t jw_next(jw_world *w)
{
	uint64_t z = (w->rng += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline int64_t jw_range(jw_world *w, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(jw_next(w) % (uint64_t)(hi - lo + 1));
}

static inline void jw_ok(int rc, const char *what)
{
	if (rc != QUOTA_OK) {
		char msg[160];

		snprintf(msg, sizeof msg, "%s: %s", what, quota_err_name(rc));
		jw_die(msg);
	}
}

static inline void jw_pkg(quota_account *a, const char *id, uint64_t mask,
		   int64_t units, int64_t eff, int64_t exp, uint32_t flags,
		   int32_t prio)
{
	quota_package_spec s;

	memset(&s, 0, sizeof s);
	s.id = id;
	s.categories = mask;
	s.units = units;
	s.effective_at = eff;
	s.expires_at = exp;
	s.price_micros = units * 100;
	s.flags = flags;
	s.priority = prio;
	jw_ok(quota_package_add(a, &s, NULL), "quota_package_add");
}

static inline int jw_charge(jw_world *w, int i, uint32_t cat, int64_t units,
		     int64_t at, const char *key)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r;
	char k[16];
	int rc;

	if (key) /* it may be one of w->keys */
		snprintf(k, sizeof k, "%s", key);
	rc = quota_charge(w->a[i], &u, &r);
	if (rc == QUOTA_OK && key && !r.replayed && w->nkeys[i] < JW_MAXKEYS)
		memcpy(w->keys[i][w->nkeys[i]++], k, sizeof k);
	return rc;
}

static inline int jw_reserve(jw_world *w, int i, uint32_t cat, int64_t units,
		      int64_t at, int64_t timeout, const char *key)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r;
	uint64_t id;
	int rc = quota_reserve(w->a[i], &u, timeout, &r, &id);

	if (rc == QUOTA_OK && !r.replayed && w->nholds[i] < JW_MAXHOLDS)
		w->holds[i][w->nholds[i]++] = id;
	return rc;
}

/* The configuration stream: categories, tariffs, offers. */
static inline void jw_config(jw_world *w)
{
	quota_offer_spec os;
	quota_ctx *c = w->ctx;

	jw_ok(quota_category_add(c, "sms", &w->sms), "category");
	jw_ok(quota_category_add(c, "email", &w->email), "category");
	jw_ok(quota_category_add(c, "push", &w->push), "category");
	jw_ok(quota_tariff_new(c, "grad", &w->grad), "tariff");
	jw_ok(quota_tariff_add_tier(w->grad, 300, 20000), "tier");
	jw_ok(quota_tariff_add_tier(w->grad, 1000, 15000), "tier");
	jw_ok(quota_tariff_add_tier(w->grad, QUOTA_UNLIMITED, 9000), "tier");
	jw_ok(quota_tariff_set_free(w->grad, 100, QUOTA_PERIOD_MONTH), "free");
	jw_ok(quota_tariff_set_free_daily_limit(w->grad, 20), "daily");
	jw_ok(quota_tariff_set_failure_fee(w->grad, 700), "fee");
	jw_ok(quota_tariff_new(c, "vol", &w->vol), "tariff");
	jw_ok(quota_tariff_set_mode(w->vol, QUOTA_VOLUME), "mode");
	jw_ok(quota_tariff_add_tier(w->vol, 50, 3000), "tier");
	jw_ok(quota_tariff_add_tier(w->vol, QUOTA_UNLIMITED, 1000), "tier");
	jw_ok(quota_tariff_set_free(w->vol, 5, QUOTA_PERIOD_DAY), "free");
	jw_ok(quota_tariff_new(c, "life", &w->life), "tariff");
	jw_ok(quota_tariff_add_tier(w->life, QUOTA_UNLIMITED, 4000), "tier");
	jw_ok(quota_tariff_set_free(w->life, 50, QUOTA_PERIOD_LIFETIME),
	      "free");
	memset(&os, 0, sizeof os);
	os.id = "bundle";
	os.categories = QUOTA_MASK(w->sms) | QUOTA_MASK(w->email);
	os.units = 500;
	os.price_micros = 4000000;
	os.valid_months = 1;
	os.valid_days = 10;
	jw_ok(quota_offer_add(c, &os, &w->fixed), "offer");
	memset(&os, 0, sizeof os);
	os.id = "bulk";
	os.categories = QUOTA_MASK(w->sms);
	os.unit_tariff = w->vol;
	os.min_units = 100;
	os.step_units = 50;
	os.max_units = 5000;
	os.valid_days = 30;
	os.flags = QUOTA_PACKAGE_STOP;
	os.priority = 1;
	jw_ok(quota_offer_add(c, &os, &w->qty), "offer");
}

/*
 * The fixed world: configuration, then three accounts with setters,
 * packages, a purchase, charges with keys and an open hold.  Records go
 * to ctx's store if it has one.
 */
static inline void jw_setup(jw_world *w, quota_ctx *ctx, uint64_t seed)
{
	static const int32_t offs[JW_NACCT] = {2 * 3600, 0, -5 * 3600};
	char key[16];
	int i, k;

	memset(w, 0, sizeof *w);
	w->ctx = ctx;
	w->rng = seed;
	w->t = JW_T0;
	jw_config(w);
	for (i = 0; i < JW_NACCT; i++) {
		quota_account *a;
		quota_voucher v = {QUOTA_VOUCHER_PERCENT, 1000, 0};

		jw_ok(quota_account_new(ctx, jw_id(i), &w->a[i]), "account");
		a = w->a[i];
		jw_ok(quota_account_set_utc_offset(a, offs[i]), "offset");
		jw_ok(quota_account_set_tariff(a, w->sms, w->grad), "tariff");
		jw_ok(quota_account_set_tariff(a, w->email, w->vol), "tariff");
		jw_ok(quota_account_set_tariff(a, w->push, w->life), "tariff");
		jw_ok(quota_account_set_cap(a, w->sms, QUOTA_PERIOD_DAY, 4000),
		      "cap");
		jw_ok(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					    60000), "cap");
		if (i == 1)
			jw_ok(quota_account_set_overage(a, w->push,
							QUOTA_OVERAGE_STOP),
			      "overage");
		jw_ok(quota_account_set_key_window(a, 200, 20 * JW_DAY),
		      "window");
		jw_ok(quota_account_set_settlement(a, QUOTA_PERIOD_DAY, 10000,
						   i == 2 ? QUOTA_ROUND_UP
							  : QUOTA_ROUND_HALF_EVEN),
		      "settlement");
		jw_ok(quota_account_topup(a, 20000000, JW_T0 - JW_DAY), "topup");
		jw_ok(quota_account_set_credit_limit(a, 500000 * (i + 1)),
		      "credit");
		jw_ok(quota_account_set_expiry_warning(a, 2 * JW_DAY), "warn");
		jw_ok(quota_account_add_alert(a, w->sms, 200, QUOTA_ALERT_UNITS),
		      "alert");
		jw_ok(quota_account_add_alert(a, w->email, 25,
					      QUOTA_ALERT_PERCENT), "alert");
		jw_pkg(a, "p1", QUOTA_MASK(w->sms), 400, JW_T0 - JW_DAY,
		       JW_T0 + 20 * JW_DAY, 0, 0);
		jw_pkg(a, "p2", QUOTA_MASK(w->sms) | QUOTA_MASK(w->email), 900,
		       JW_T0, JW_T0 + 45 * JW_DAY, 0, 1);
		jw_pkg(a, "later", QUOTA_MASK(w->sms), 150, JW_T0 + 3 * JW_DAY,
		       QUOTA_NEVER, 0, -1);
		jw_pkg(a, "push", QUOTA_MASK(w->push), 60, JW_T0,
		       JW_T0 + 8 * JW_DAY, QUOTA_PACKAGE_STOP, 0);
		jw_ok(quota_package_buy(a, w->fixed, 1, i ? &v : NULL, JW_T0,
					NULL, NULL), "buy");
		jw_ok(quota_account_tick(a, JW_T0) < 0, "tick");
		/* R23: two accounts renew the fixed offer (records 32-35 in
		 * the world and the fuzzer's seeds). */
		if (i != 1)
			jw_ok(quota_renewal_set(a, w->fixed,
						i ? QUOTA_RENEWAL_NONE : 200,
						3 * JW_DAY, JW_T0),
			      "renewal");
		for (k = 0; k < 6; k++) {
			snprintf(key, sizeof key, "s%d", k);
			jw_ok(jw_charge(w, i, k % 3 == 2 ? w->email : w->sms,
					15 + 20 * k, JW_T0 + k * 600,
					k % 2 ? key : NULL), "charge");
		}
		jw_ok(jw_reserve(w, i, w->sms, 30, JW_T0 + 3600, 5 * JW_DAY,
				 "hold0"), "reserve");
		jw_ok(jw_reserve(w, i, w->email, 12, JW_T0 + 3700, 1800, NULL),
		      "reserve");
	}
	w->t = JW_T0 + 2 * JW_HOUR;
}

/* Kinds of call jw_step makes (jw_step_kind picks one). */
enum {
	JW_CHARGE, JW_CHARGE_KEYED, JW_RESERVE, JW_COMMIT, JW_RELEASE,
	JW_TICK, JW_REVERSE, JW_PACKAGE_ADD, JW_BUY, JW_TOPUP, JW_SETTLE,
	JW_SETTER, JW_CONFIG, JW_RENEWAL, JW_NKINDS
};

/* Uniform in [lo, hi] from the pre-drawn v[i_]. */
#define JW_R(i_, lo, hi) \
	((int64_t)(lo) + (int64_t)(v[i_] % (uint64_t)((hi) - (lo) + 1)))

/* One call of the given kind on account i; returns its result. */
static inline int jw_step_kind(jw_world *w, int i, int kind)
{
	quota_account *a = w->a[i];
	uint32_t cats[3] = {w->sms, w->email, w->push};
	uint32_t cat;
	int64_t at;
	char key[16], id[24];
	quota_receipt r;
	int rc = QUOTA_OK;
	uint64_t v[56];
	int k;

	/* Every random number drawn first, in order: what follows does not
	 * depend on the order a compiler evaluates arguments in. */
	for (k = 0; k < 56; k++)
		v[k] = jw_next(w);
	cat = cats[JW_R(0, 0, 2)];
	at = w->t - (JW_R(1, 0, 9) == 0 ? JW_R(2, 0, 2 * JW_DAY)
				      : JW_R(3, 0, 600));
	snprintf(key, sizeof key, "k%u", ++w->serial);
	switch (kind) {
	case JW_CHARGE:
		return jw_charge(w, i, cat, JW_R(4, 1, 120), at, NULL);
	case JW_CHARGE_KEYED:
		/* Now and then a key again: the receipt is replayed. */
		if (w->nkeys[i] && JW_R(5, 0, 5) == 0)
			return jw_charge(w, i, cat, JW_R(6, 1, 120), at,
					 w->keys[i][JW_R(7, 0,
							     w->nkeys[i] - 1)]);
		return jw_charge(w, i, cat, JW_R(8, 1, 120), at, key);
	case JW_RESERVE:
		return jw_reserve(w, i, cat, JW_R(9, 1, 90), at,
				  JW_R(10, 0, 1) ? JW_R(11, 60, 4 * JW_HOUR)
						    : 3 * JW_DAY,
				  JW_R(12, 0, 1) ? key : NULL);
	case JW_COMMIT:
	case JW_RELEASE: {
		uint64_t h;
		int j;

		if (!w->nholds[i])
			return jw_reserve(w, i, cat, 10, at, JW_DAY, NULL);
		j = (int)JW_R(13, 0, w->nholds[i] - 1);
		h = w->holds[i][j];
		w->holds[i][j] = w->holds[i][--w->nholds[i]];
		if (kind == JW_RELEASE)
			return quota_release(a, h, JW_R(14, 0, 1) ? key : NULL,
					     &r);
		rc = quota_commit(a, h, JW_R(15, 0, 40),
				  JW_R(16, 0, 1) ? key : NULL, &r);
		if (rc == QUOTA_OK && w->nkeys[i] < JW_MAXKEYS && !r.replayed)
			snprintf(w->keys[i][w->nkeys[i]++], 16, "%s", key);
		return rc;
	}
	case JW_TICK:
		w->t += JW_R(17, 0, 6 * JW_HOUR);
		return (int)(quota_account_tick(a, w->t) < 0);
	case JW_REVERSE:
		if (!w->nkeys[i])
			return QUOTA_ENOTFOUND;
		return quota_reverse(a,
				     w->keys[i][JW_R(18, 0, w->nkeys[i] - 1)],
				     w->t, &r);
	case JW_PACKAGE_ADD: {
		quota_package_spec s;

		snprintf(id, sizeof id, "pk%u", w->serial);
		memset(&s, 0, sizeof s);
		s.id = id;
		s.categories = JW_R(19, 0, 2) ? QUOTA_MASK(cat)
						 : QUOTA_MASK(w->sms) |
							   QUOTA_MASK(w->email);
		s.units = JW_R(20, 1, 400);
		s.effective_at = w->t + JW_R(21, -JW_DAY, JW_DAY);
		s.expires_at = JW_R(22, 0, 3) ? s.effective_at +
						      JW_R(23, JW_HOUR,
							       30 * JW_DAY)
						: QUOTA_NEVER;
		s.price_micros = JW_R(24, 0, 100000);
		s.flags = JW_R(25, 0, 4) ? 0 : QUOTA_PACKAGE_STOP;
		s.priority = (int32_t)JW_R(26, -1, 2);
		return quota_package_add(a, &s, NULL);
	}
	case JW_BUY: {
		quota_voucher vo = {QUOTA_VOUCHER_AMOUNT, 250000, 1000000};
		int q = JW_R(27, 0, 1);

		return quota_package_buy(a, q ? w->qty : w->fixed,
					 q ? 100 + 50 * JW_R(28, 0, 6)
					   : JW_R(29, 1, 2),
					 JW_R(30, 0, 2) ? NULL : &vo, w->t,
					 NULL, NULL);
	}
	case JW_TOPUP:
		return quota_account_topup(a, JW_R(31, 1, 5000000), w->t);
	case JW_SETTLE:
		return (int)(quota_settle(a, w->t, NULL, NULL) < 0);
	case JW_SETTER:
		switch (JW_R(32, 0, 10)) {
		case 0:
			return quota_account_set_credit_limit(
				a, JW_R(33, 0, 2000000));
		case 1:
			return quota_account_set_cap(
				a, JW_R(34, 0, 3) ? cat : QUOTA_ALL,
				JW_R(35, 0, 1) ? QUOTA_PERIOD_DAY
						  : QUOTA_PERIOD_MONTH,
				JW_R(36, -1, 8000));
		case 2:
			return quota_account_set_overage(
				a, cat, (int)JW_R(37, 0, 1));
		case 3:
			return quota_account_add_alert(
				a, cat, JW_R(38, 1, 300),
				(int)JW_R(39, 0, 1));
		case 4:
			return quota_account_set_expiry_warning(
				a, JW_R(40, 0, 3 * JW_DAY));
		case 5:
			return quota_account_set_key_window(
				a, (uint32_t)JW_R(41, 50, 400),
				JW_R(42, JW_DAY, 30 * JW_DAY));
		case 6:
			return quota_account_set_settlement(
				a,
				JW_R(43, 0, 1) ? QUOTA_PERIOD_DAY
						  : QUOTA_PERIOD_HOUR,
				JW_R(44, 0, 1) ? 10000 : 1,
				(int)JW_R(45, 0, 3));
		case 9: /* R24 */
			return quota_gift_grant(
				a, JW_R(33, 1, 3000000),
				JW_R(34, 0, 2) ? w->t + JW_R(40, 60, 2 * JW_DAY)
					       : QUOTA_NEVER,
				w->t);
		case 10:
			return quota_account_set_pay_order(
				a, (int32_t)JW_R(37, 0, 1),
				(uint32_t)JW_R(38, 0, 1));
		case 7:
			/* Refused once the account has had a hold. */
			return quota_account_set_utc_offset(
				a, (int32_t)JW_R(46, -4, 4) * 3600);
		default:
			return quota_account_set_tariff(
				a, cat,
				w->ntariffs && JW_R(47, 0, 1)
					? NULL
					: JW_R(48, 0, 1) ? w->grad : w->life);
		}
	case JW_CONFIG: {
		quota_tariff *t;

		/* A new tariff, priced and set on the account. */
		snprintf(id, sizeof id, "t%d", w->ntariffs);
		if ((rc = quota_tariff_new(w->ctx, id, &t)))
			return rc;
		w->ntariffs++;
		if ((rc = quota_tariff_add_tier(t, JW_R(49, 10, 500),
						JW_R(50, 100, 30000))) ||
		    (rc = quota_tariff_add_tier(t, QUOTA_UNLIMITED,
						JW_R(51, 50, 9000))) ||
		    (rc = quota_tariff_set_mode(t, (int)JW_R(52, 0, 1))) ||
		    (rc = quota_tariff_set_free(t, JW_R(53, 0, 40),
						QUOTA_PERIOD_DAY)) ||
		    (rc = quota_tariff_set_failure_fee(t, JW_R(54, 0, 900))))
			return rc;
		if (JW_R(55, 0, 1)) {
			snprintf(id, sizeof id, "cat%u", w->serial);
			if (quota_category_count(w->ctx) < 16 &&
			    (rc = quota_category_add(w->ctx, id, NULL)))
				return rc;
		}
		return quota_account_set_tariff(a, cat, t);
	}
	case JW_RENEWAL: /* R23: mark, change or clear a renewal */
		if (JW_R(4, 0, 3) == 0)
			return quota_renewal_clear(a, w->fixed, w->t);
		return quota_renewal_set(a, JW_R(5, 0, 1) ? w->fixed : w->qty,
					 JW_R(6, 0, 2) ? JW_R(7, 0, 400)
						       : QUOTA_RENEWAL_NONE,
					 JW_R(8, 0, 1) ? JW_R(9, 0, 5 * JW_DAY)
						       : QUOTA_RENEWAL_NONE,
					 w->t);
	default:
		return QUOTA_EINVAL;
	}
}

/* One random call on a random account; the clock moves on a little. */
static inline int jw_step(jw_world *w)
{
	static const unsigned char weight[JW_NKINDS] = {
		8, 8, 6, 4, 3, 3, 2, 2, 2, 2, 2, 3, 1, 1};
	unsigned total = 0, x;
	int kind;

	for (kind = 0; kind < JW_NKINDS; kind++)
		total += weight[kind];
	x = (unsigned)(jw_next(w) % total);
	for (kind = 0; x >= weight[kind]; kind++)
		x -= weight[kind];
	w->t += jw_range(w, 0, 40 * 60);
	return jw_step_kind(w, (int)jw_range(w, 0, JW_NACCT - 1), kind);
}

/* ------------------------------------------ issue 15: R25 and R27 calls */

/* Kinds of call after JW_NKINDS, made by jw_step_issue15 only (jw_step's
 * mix, and with it the older random-run seeds, stay as they were):
 * blocking (records 23, 24), releases with a reason (25), kept receipts
 * and reversals by receipt (26, and the reversal record with a receipt's
 * key), per-reason failure fees (configuration record 72). */
enum {
	JW_BLOCK = JW_NKINDS, JW_RELEASE_REASON, JW_RECEIPTS, JW_FEE_REASON,
	JW_NALLKINDS
};

static inline int jw_step_issue15(jw_world *w, int i, int kind)
{
	static const char *const why[3] = {
		NULL, "non-compliant content",
		"\xe5\x86\x85\xe5\xae\xb9\xe8\xbf\x9d\xe8\xa7\x84"};
	quota_account *a = w->a[i];
	uint32_t cats[3] = {w->sms, w->email, w->push};
	uint32_t cat;
	char key[16], id[24];
	quota_receipt r;
	quota_tariff *t;
	uint64_t v[12], h;
	int rc, k;

	for (k = 0; k < 12; k++)
		v[k] = jw_next(w);
	cat = cats[JW_R(0, 0, 2)];
	snprintf(key, sizeof key, "k%u", ++w->serial);
	w->t += JW_R(1, 0, 600);
	switch (kind) {
	case JW_BLOCK:
		if (quota_account_blocked(a, NULL, NULL) == 1)
			return quota_account_unblock(a, w->t);
		rc = quota_account_block(a, why[JW_R(2, 0, 2)], w->t);
		if (rc == QUOTA_OK) /* refused: no record */
			(void)jw_charge(w, i, cat, 1, w->t, NULL);
		return rc;
	case JW_RELEASE_REASON:
		if (!w->nholds[i])
			return jw_reserve(w, i, cat, JW_R(3, 1, 40), w->t,
					  JW_DAY, NULL);
		k = (int)JW_R(4, 0, w->nholds[i] - 1);
		h = w->holds[i][k];
		w->holds[i][k] = w->holds[i][--w->nholds[i]];
		return quota_release_reason(a, h,
					    (int32_t)JW_R(5, 0,
							  QUOTA_FAIL_REASON_MAX),
					    JW_R(6, 0, 1) ? key : NULL, &r);
	case JW_RECEIPTS:
		/* Kept receipts: a keyless charge reversed by its receipt
		 * id, a keyless commit by its hold id; now and then off. */
		if ((rc = quota_account_keep_receipts(a, 1)))
			return rc;
		if (jw_charge(w, i, cat, JW_R(7, 1, 60), w->t, NULL) ==
			    QUOTA_OK &&
		    quota_charge(a, &(quota_usage){.category = cat,
						   .units = JW_R(8, 1, 9),
						   .at = w->t},
				 &r) == QUOTA_OK &&
		    r.receipt_id)
			(void)quota_reverse_receipt(a, r.receipt_id, w->t, &r);
		if (jw_reserve(w, i, cat, 6, w->t, JW_DAY, NULL) == QUOTA_OK) {
			h = w->holds[i][--w->nholds[i]];
			if (quota_commit(a, h, JW_R(9, 0, 6), NULL, &r) ==
			    QUOTA_OK)
				(void)quota_reverse_receipt(a, h, w->t, &r);
		}
		return JW_R(10, 0, 2) ? QUOTA_OK
				      : quota_account_keep_receipts(a, 0);
	case JW_FEE_REASON:
		/* A new tariff with fees per reason, set on the account. */
		snprintf(id, sizeof id, "t%d", w->ntariffs);
		if ((rc = quota_tariff_new(w->ctx, id, &t)))
			return rc;
		w->ntariffs++;
		if ((rc = quota_tariff_add_tier(t, QUOTA_UNLIMITED, 3000)) ||
		    (rc = quota_tariff_set_failure_fee(t, 500)) ||
		    (rc = quota_tariff_set_failure_fee_reason(
			     t, QUOTA_FAIL_REJECTED, JW_R(11, 0, 2000))) ||
		    (rc = quota_tariff_set_failure_fee_reason(
			     t, QUOTA_FAIL_INVALID_NUMBER, 0)) ||
		    (rc = quota_tariff_set_failure_fee_reason(t, 15, 70)) ||
		    (rc = quota_tariff_set_failure_fee_reason(t, 15, -1)))
			return rc;
		return quota_account_set_tariff(a, cat, t);
	default:
		return jw_step_kind(w, i, kind);
	}
}

#endif /* QUOTA_JOURNAL_WORLD_H */
