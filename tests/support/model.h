/*
 * model.h - the model check_model.c holds the charging engine to (its
 * header comment says what it covers: issues 2, 4 and 15, R26): plain
 * arrays of accounts, packages, tariffs, holds, keys and receipts, the
 * local calendar read from the C library, steps 1-6 of quota_charge by
 * linear scans, the money booked per hour (R8), and the checks that the
 * engine's receipts and observable state equal the model's.  Also what
 * every check_model*.c uses: the failure context MCHECK reports (seed,
 * step, operation), the base seed (QUOTA_TEST_SEED) and NRUNS.
 *
 * Define _DEFAULT_SOURCE before the first #include (m_off: localtime_r,
 * setenv, tzset, tm_gmtoff).  The random world on the model is in
 * model_world.h, the charging operations in model_ops.h.
 */
#ifndef QUOTA_TEST_MODEL_H
#define QUOTA_TEST_MODEL_H

#ifndef _DEFAULT_SOURCE
#error "model.h: define _DEFAULT_SOURCE before the first #include"
#endif

#include <check.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quota.h"
#include "testutil.h"

#define MAXCAT 6
#define MAXACC 3
#define MAXPK 160
#define MAXTAR 4
#define MAXTIER 7
#define NRUNS 4

/* ------------------------------------------------------------------ model */

typedef struct mtariff {
	quota_tariff *t;
	int ntiers;
	int64_t up_to[MAXTIER];
	int64_t price[MAXTIER];
	int mode;
	int free_period; /* 0: set_free never called */
	int64_t free_units;
	int64_t daily_limit;
	int64_t fee; /* failure fee per unit (R10) */
	int64_t rfee[QUOTA_FAIL_REASON_MAX + 1]; /* R27 per reason; -1 none */
	bool used;   /* set on an account: never changed in place (§5) */
} mtariff;

typedef struct mpkg {
	char id[24];
	quota_package *p;
	uint64_t mask;
	int64_t units, remaining, eff, exp;
	uint32_t flags;
	int32_t prio;
	int64_t used; /* charged or committed (forfeited reversals too) */
	int64_t held; /* in open holds */
} mpkg;

/* A receipt as the model expects it (packages by index). */
#define MAXLINES (1 + MAXPK + MAXTIER)
typedef struct mline {
	int32_t source;
	int pk;
	uint32_t tier;
	int64_t units, price;
} mline;

typedef struct mrcpt {
	int kind;
	uint32_t cat;
	int64_t at, units, f, p, q, cost, fee, forfeited;
	uint64_t hold_id;
	int n;
	mline l[MAXLINES];
} mrcpt;

typedef struct mhold {
	int open;
	int receipt; /* R27: a kept charge receipt's id, not a hold */
	int64_t deadline;
	mrcpt r; /* what the reserve took */
} mhold;

enum { OP_CHARGE = 1, OP_RESERVE, OP_COMMIT, OP_RELEASE };

typedef struct mkey {
	char key[80]; /* <= QUOTA_KEY_MAX bytes when stored */
	int op;
	uint32_t cat;
	int64_t units, at, timeout; /* charge, reserve */
	uint64_t hold;              /* commit, release */
	int64_t used;               /* commit */
	int64_t time;               /* for the window */
	int reversed;
	mrcpt *r; /* the original receipt */
} mkey;

typedef struct mrec {
	uint32_t cat;
	int64_t day, month, units, free;
} mrec;

/* Money booked per (category, local hour): pay-as-you-go cost of charges
 * and commits less reversals (fee = 0), and release fees (fee = 1).  The
 * library refuses what would overflow an hour's total (R8, ledger.c). */
typedef struct mcost {
	uint32_t cat;
	int fee;
	int64_t hour, cost;
} mcost;

typedef struct macct {
	mcost *cost;
	size_t ncost, capcost;
	quota_account *a;
	char id[16];
	int32_t off;
	int zone; /* R26: 0, or 1 + index in zone_rules */
	int npk;
	mpkg pk[MAXPK];
	mrec *rec;
	size_t nrec, caprec;
	int tariff[MAXCAT];          /* index in model.tar, -1: none */
	int64_t cap[MAXCAT + 1][2];  /* [cat | MAXCAT=ALL][DAY, MONTH]; -1 */
	int overage[MAXCAT];
	int pkseq;
	/* R10-R12 */
	int64_t clock; /* account clock; INT64_MIN: before every time */
	mhold **holds; /* hold id i + 1 */
	size_t nholds, capholds;
	mkey *keys; /* in the order stored */
	size_t nkeys, capkeys;
	uint32_t max_keys;
	int64_t max_age;
	int64_t newest; /* newest key time; INT64_MIN: none */
	/* Issue 15 */
	int blocked, has_reason; /* R25 */
	char reason[32];
	int keep; /* R27: quota_account_keep_receipts */
	int64_t since;
} macct;

/* R26: the zones an account may follow, as POSIX TZ rules. */
static const char *const zone_rules[] = {
	"CET-1CEST,M3.5.0,M10.5.0/3",            /* Europe/Berlin */
	"AEST-10AEDT,M10.1.0,M4.1.0/3",          /* Australia/Sydney */
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",  /* Australia/Lord_Howe */
	"<-03>3<-02>,M3.2.0/-2,M11.1.0/-1",      /* a v3 rule: negative times */
};
#define NZONES ((int)(sizeof zone_rules / sizeof *zone_rules))

typedef struct model {
	quota_ctx *ctx;
	quota_zone *zones[NZONES];
	uint32_t ncat;
	int ntar;
	mtariff tar[MAXTAR];
	int nacc;
	macct acc[MAXACC];
} model;

/* What a charge does, per the semantics. */
typedef struct mplan {
	int rc;
	int64_t f, p, q, cost;
	int ndraw;
	int draw[MAXPK];
	int64_t draw_units[MAXPK];
	int npayg;
	uint32_t tier[MAXTIER];
	int64_t payg_units[MAXTIER];
	int64_t payg_price[MAXTIER];
} mplan;

/* ------------------------------------------------------- failure context */

static uint64_t g_seed;
static int g_step;
static char g_op[256];

#define MCHECK(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			char m_[512];                                          \
			snprintf(m_, sizeof m_, __VA_ARGS__);                  \
			ck_abort_msg("QUOTA_TEST_SEED=%llu step %d [%s]: %s",  \
				     (unsigned long long)g_seed, g_step, g_op,  \
				     m_);                                      \
		}                                                              \
	} while (0)

/* The seeds of a binary's runs derive from this one: QUOTA_TEST_SEED,
 * else the time and the process id. */
static inline uint64_t base_seed(void)
{
	const char *s = getenv("QUOTA_TEST_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
}

static uint64_t g_base;

/* ------------------------------------------------------- model calendar */

/* The offset in force at `at`: the account's fixed one, or the C
 * library's reading of its zone's rule (independent of lib/tzif.c). */
static inline int32_t m_off(const macct *m, int64_t at)
{
	static int cur = -1;
	struct tm tm;
	time_t t = (time_t)at;

	if (!m->zone)
		return m->off;
	if (cur != m->zone) {
		ck_assert_int_eq(setenv("TZ", zone_rules[m->zone - 1], 1), 0);
		tzset();
		cur = m->zone;
	}
	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	return (int32_t)tm.tm_gmtoff;
}

static inline int64_t m_day(const macct *m, int64_t at)
{
	return tu_day_index(at, m_off(m, at));
}

static inline int64_t m_month(const macct *m, int64_t at)
{
	return tu_month_index(at, m_off(m, at));
}

/* The first instant of local day `day` (R26): local time only moves
 * back in these rules' overlaps, none of which holds a midnight, so
 * "local time has reached midnight" is monotone and a bisection finds it. */
static inline int64_t m_day_start(const macct *m, int64_t day)
{
	int64_t l = day * TU_DAY, lo = l - 64801, hi = l + 64800;

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (mid + m_off(m, mid) >= l)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* ------------------------------------------------------- model queries */

static inline int64_t m_used(const macct *m, uint32_t cat, int period,
			     int64_t at)
{
	int64_t day = m_day(m, at);
	int64_t mon = m_month(m, at);
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < m->nrec; i++) {
		const mrec *r = &m->rec[i];

		if (cat != QUOTA_ALL && r->cat != cat)
			continue;
		if (period == QUOTA_PERIOD_DAY ? r->day == day
					       : r->month == mon)
			sum += r->units;
	}
	return sum;
}

static inline int64_t m_free_used(const macct *m, uint32_t cat, int period,
				  int64_t at)
{
	int64_t day = m_day(m, at);
	int64_t mon = m_month(m, at);
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < m->nrec; i++) {
		const mrec *r = &m->rec[i];

		if (r->cat != cat)
			continue;
		if (period == QUOTA_PERIOD_LIFETIME ||
		    (period == QUOTA_PERIOD_DAY && r->day == day) ||
		    (period == QUOTA_PERIOD_MONTH && r->month == mon))
			sum += r->free;
	}
	return sum;
}

static inline int m_usable(const mpkg *p, uint32_t cat, int64_t at)
{
	return (p->mask & QUOTA_MASK(cat)) && p->eff <= at && at < p->exp;
}

static inline int64_t m_remaining(const macct *m, uint32_t cat, int64_t at)
{
	int64_t sum = 0;
	int i;

	for (i = 0; i < m->npk; i++)
		if (m_usable(&m->pk[i], cat, at))
			sum += m->pk[i].remaining;
	return sum;
}

static inline int m_status(const mpkg *p, int64_t now)
{
	if (p->remaining == 0)
		return QUOTA_PACKAGE_EXHAUSTED;
	if (now < p->eff)
		return QUOTA_PACKAGE_PENDING;
	if (now >= p->exp)
		return QUOTA_PACKAGE_EXPIRED;
	return QUOTA_PACKAGE_ACTIVE;
}

/* a before b in the R3 order (the index is the order added). */
static inline int m_before(const mpkg *a, int ia, const mpkg *b, int ib)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	if (a->exp != b->exp)
		return a->exp < b->exp;
	if (a->eff != b->eff)
		return a->eff < b->eff;
	return ia < ib;
}

static inline int mul_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

static inline int add_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

/* Steps 1-6 of quota_charge, on the model. */
static inline void m_plan(const model *M, const macct *m, uint32_t cat,
			  int64_t units, int64_t at, const char *key, mplan *pl)
{
	static const int periods[2] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH};
	const mtariff *t = NULL;
	int64_t left, V, start, end;
	int taken[MAXPK] = {0};
	int i, k, stop;

	memset(pl, 0, sizeof *pl);
	(void)key; /* keys are handled by the callers (R11) */
	/* 1. validate */
	if (cat >= M->ncat) {
		pl->rc = QUOTA_ENOTFOUND;
		return;
	}
	if (units <= 0 || at < QUOTA_TIME_MIN || at >= QUOTA_TIME_MAX) {
		pl->rc = QUOTA_EINVAL;
		return;
	}
	/* 2. caps */
	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++) {
			uint32_t c = i ? QUOTA_ALL : cat;
			int64_t cap = m->cap[i ? MAXCAT : cat][k];

			if (cap >= 0 && m_used(m, c, periods[k], at) + units > cap) {
				pl->rc = QUOTA_ECAP;
				return;
			}
		}
	/* 3. free */
	if (m->tariff[cat] >= 0)
		t = &M->tar[m->tariff[cat]];
	if (t && t->free_period) {
		int64_t avail = t->free_units -
				m_free_used(m, cat, t->free_period, at);

		if (t->daily_limit > 0) {
			int64_t d = t->daily_limit -
				    m_free_used(m, cat, QUOTA_PERIOD_DAY, at);
			if (d < avail)
				avail = d;
		}
		if (avail < 0)
			avail = 0;
		pl->f = units < avail ? units : avail;
	}
	/* 4. packages, greedily in R3 order */
	left = units - pl->f;
	while (left > 0) {
		int best = -1;

		for (i = 0; i < m->npk; i++) {
			const mpkg *p = &m->pk[i];

			if (taken[i] || !m_usable(p, cat, at) ||
			    p->remaining <= 0)
				continue;
			if (best < 0 || m_before(p, i, &m->pk[best], best))
				best = i;
		}
		if (best < 0)
			break;
		taken[best] = 1;
		pl->draw[pl->ndraw] = best;
		pl->draw_units[pl->ndraw] = m->pk[best].remaining < left
						    ? m->pk[best].remaining
						    : left;
		left -= pl->draw_units[pl->ndraw];
		pl->p += pl->draw_units[pl->ndraw];
		pl->ndraw++;
	}
	pl->q = units - pl->f - pl->p;
	/* 5. STOP */
	if (pl->q > 0) {
		stop = m->overage[cat] == QUOTA_OVERAGE_STOP;
		for (i = 0; i < m->npk && !stop; i++)
			if ((m->pk[i].flags & QUOTA_PACKAGE_STOP) &&
			    m_usable(&m->pk[i], cat, at))
				stop = 1;
		if (stop) {
			pl->rc = QUOTA_EEXHAUSTED;
			return;
		}
	}
	/* 6. price */
	if (pl->q == 0)
		return;
	if (!t || t->ntiers == 0) {
		pl->npayg = 1;
		pl->tier[0] = 0;
		pl->payg_units[0] = pl->q;
		pl->payg_price[0] = 0;
		return;
	}
	V = m_used(m, cat, QUOTA_PERIOD_MONTH, at);
	if (t->mode == QUOTA_VOLUME) {
		int64_t reach = V + units, c;

		for (i = 0; i < t->ntiers - 1; i++)
			if (reach <= t->up_to[i])
				break;
		pl->npayg = 1;
		pl->tier[0] = (uint32_t)i;
		pl->payg_units[0] = pl->q;
		pl->payg_price[0] = t->price[i];
		if (mul_ovf(pl->q, t->price[i], &c)) {
			pl->rc = QUOTA_EOVERFLOW;
			return;
		}
		pl->cost = c;
		return;
	}
	start = V + pl->f + pl->p + 1;
	end = V + units;
	for (i = 0; i < t->ntiers; i++) {
		int64_t lo = i == 0 ? 1 : t->up_to[i - 1] + 1;
		int64_t hi = i == t->ntiers - 1 ? INT64_MAX : t->up_to[i];
		int64_t a = start > lo ? start : lo;
		int64_t b = end < hi ? end : hi;
		int64_t n, c;

		if (a > b)
			continue;
		n = b - a + 1;
		pl->tier[pl->npayg] = (uint32_t)i;
		pl->payg_units[pl->npayg] = n;
		pl->payg_price[pl->npayg] = t->price[i];
		pl->npayg++;
		if (mul_ovf(n, t->price[i], &c) ||
		    add_ovf(pl->cost, c, &pl->cost)) {
			pl->rc = QUOTA_EOVERFLOW;
			return;
		}
	}
}

static inline int64_t m_hour(const macct *m, int64_t at)
{
	int64_t x = at + m->off;

	if (m->zone) { /* R26: 3600 s spans from the local day's start */
		int64_t d = m_day(m, at);

		return d * 64 + (at - m_day_start(m, d)) / 3600;
	}

	return x >= 0 ? x / 3600 : -((-x + 3599) / 3600);
}

/* The hour's booked total, or its slot. */
static inline mcost *m_cost_slot(macct *m, uint32_t cat, int64_t at, int fee)
{
	int64_t h = m_hour(m, at);
	size_t i;

	for (i = 0; i < m->ncost; i++)
		if (m->cost[i].cat == cat && m->cost[i].hour == h &&
		    m->cost[i].fee == fee)
			return &m->cost[i];
	if (m->ncost == m->capcost) {
		m->capcost = m->capcost ? 2 * m->capcost : 64;
		m->cost = realloc(m->cost, m->capcost * sizeof *m->cost);
		ck_assert_ptr_nonnull(m->cost);
	}
	m->cost[m->ncost].cat = cat;
	m->cost[m->ncost].fee = fee;
	m->cost[m->ncost].hour = h;
	m->cost[m->ncost].cost = 0;
	return &m->cost[m->ncost++];
}

/* Would booking `add` overflow the hour's total? */
static inline int m_cost_ovf(macct *m, uint32_t cat, int64_t at, int fee,
			     int64_t add)
{
	int64_t x;

	return add_ovf(m_cost_slot(m, cat, at, fee)->cost, add, &x);
}

static inline void m_record(macct *m, uint32_t cat, int64_t at, int64_t units,
			    int64_t free_units)
{
	if (m->nrec == m->caprec) {
		m->caprec = m->caprec ? 2 * m->caprec : 256;
		m->rec = realloc(m->rec, m->caprec * sizeof *m->rec);
		ck_assert_ptr_nonnull(m->rec);
	}
	m->rec[m->nrec].cat = cat;
	m->rec[m->nrec].day = m_day(m, at);
	m->rec[m->nrec].month = m_month(m, at);
	m->rec[m->nrec].units = units;
	m->rec[m->nrec].free = free_units;
	m->nrec++;
}

/* Step 8, on the model; a hold's draws count as held. */
static inline void m_apply(macct *m, uint32_t cat, int64_t units, int64_t at,
			   const mplan *pl, int hold)
{
	int i;

	for (i = 0; i < pl->ndraw; i++) {
		m->pk[pl->draw[i]].remaining -= pl->draw_units[i];
		if (hold)
			m->pk[pl->draw[i]].held += pl->draw_units[i];
		else
			m->pk[pl->draw[i]].used += pl->draw_units[i];
	}
	m_record(m, cat, at, units, pl->f);
}

/* -------------------------------------------------------------- checks */

/* The receipt a charge, quote or reserve gives for plan pl. */
static inline void m_rcpt_plan(const mplan *pl, int kind, uint32_t cat,
			       int64_t units, int64_t at, uint64_t hid,
			       mrcpt *w)
{
	int i;

	memset(w, 0, sizeof *w);
	w->kind = kind;
	w->cat = cat;
	w->at = at;
	w->units = units;
	w->f = pl->f;
	w->p = pl->p;
	w->q = pl->q;
	w->cost = pl->cost;
	w->hold_id = hid;
	if (pl->f > 0) {
		w->l[w->n].source = QUOTA_SOURCE_FREE;
		w->l[w->n++].units = pl->f;
	}
	for (i = 0; i < pl->ndraw; i++) {
		w->l[w->n].source = QUOTA_SOURCE_PACKAGE;
		w->l[w->n].pk = pl->draw[i];
		w->l[w->n++].units = pl->draw_units[i];
	}
	for (i = 0; i < pl->npayg; i++) {
		w->l[w->n].source = QUOTA_SOURCE_PAYG;
		w->l[w->n].tier = pl->tier[i];
		w->l[w->n].units = pl->payg_units[i];
		w->l[w->n++].price = pl->payg_price[i];
	}
}

/* Recompute the totals of a receipt from its lines (dropping empty
 * lines). */
static inline void m_rcpt_totals(mrcpt *w)
{
	int i, n = 0;

	w->units = w->f = w->p = w->q = w->cost = 0;
	for (i = 0; i < w->n; i++) {
		if (w->l[i].units == 0)
			continue;
		w->l[n++] = w->l[i];
		w->units += w->l[i].units;
		if (w->l[i].source == QUOTA_SOURCE_FREE)
			w->f += w->l[i].units;
		else if (w->l[i].source == QUOTA_SOURCE_PACKAGE)
			w->p += w->l[i].units;
		else {
			w->q += w->l[i].units;
			w->cost += w->l[i].units * w->l[i].price;
		}
	}
	w->n = n;
}

/*
 * Split a hold for a commit of `used` units: the rest is returned from the
 * last line back (pay-as-you-go highest tier first, packages in reverse
 * draw order, then free).  stay / ret: what stays charged / goes back.
 */
static inline void m_split(const mrcpt *h, int64_t used, mrcpt *stay,
			   mrcpt *ret)
{
	int64_t left = h->units - used;
	int i;

	*stay = *h;
	*ret = *h;
	for (i = h->n - 1; i >= 0; i--) {
		int64_t take = left < h->l[i].units ? left : h->l[i].units;

		ret->l[i].units = take;
		stay->l[i].units = h->l[i].units - take;
		left -= take;
	}
	m_rcpt_totals(stay);
	m_rcpt_totals(ret);
}

/* The engine's receipt must be exactly the model's. */
static inline void check_mrcpt(const macct *m, const mrcpt *w, int replayed,
			       const quota_receipt *r)
{
	uint32_t total = (uint32_t)w->n, i;

	MCHECK(r->kind == w->kind && r->replayed == replayed &&
		       r->hold_id == w->hold_id && r->fee_micros == w->fee &&
		       r->forfeited_units == w->forfeited,
	       "kind %d replayed %d hold %llu fee %lld forfeited %lld; want "
	       "%d %d %llu %lld %lld",
	       r->kind, r->replayed, (unsigned long long)r->hold_id,
	       (long long)r->fee_micros, (long long)r->forfeited_units,
	       w->kind, replayed, (unsigned long long)w->hold_id,
	       (long long)w->fee, (long long)w->forfeited);
	MCHECK(r->units == w->units && r->free_units == w->f &&
		       r->package_units == w->p && r->payg_units == w->q &&
		       r->payg_cost_micros == w->cost,
	       "totals: got units %lld free %lld pkg %lld payg %lld cost "
	       "%lld; want %lld %lld %lld %lld %lld",
	       (long long)r->units, (long long)r->free_units,
	       (long long)r->package_units, (long long)r->payg_units,
	       (long long)r->payg_cost_micros, (long long)w->units,
	       (long long)w->f, (long long)w->p, (long long)w->q,
	       (long long)w->cost);
	MCHECK(r->units == r->free_units + r->package_units + r->payg_units,
	       "units not conserved in receipt");
	MCHECK(r->category == w->cat && r->at == w->at,
	       "receipt category %u at %lld, want %u %lld", r->category,
	       (long long)r->at, w->cat, (long long)w->at);
	MCHECK(r->lines_total == total, "lines_total %u, want %u",
	       r->lines_total, total);
	MCHECK(r->nlines == (total < QUOTA_RECEIPT_LINES ? total
							 : QUOTA_RECEIPT_LINES),
	       "nlines %u, want min(%u, %d)", r->nlines, total,
	       QUOTA_RECEIPT_LINES);
	for (i = 0; i < r->nlines && i < total; i++) {
		const quota_receipt_line *g = &r->lines[i];
		const mline *l = &w->l[i];
		int64_t price = l->source == QUOTA_SOURCE_PAYG ? l->price : 0;

		MCHECK(g->source == l->source && g->units == l->units &&
			       g->unit_price_micros == price &&
			       g->cost_micros == l->units * price,
		       "line %u: got source %d units %lld price %lld cost "
		       "%lld; want %d %lld %lld %lld",
		       i, g->source, (long long)g->units,
		       (long long)g->unit_price_micros,
		       (long long)g->cost_micros, l->source,
		       (long long)l->units, (long long)price,
		       (long long)(l->units * price));
		if (l->source == QUOTA_SOURCE_PAYG)
			MCHECK(g->tier == l->tier, "line %u: tier %u, want %u",
			       i, g->tier, l->tier);
		if (l->source == QUOTA_SOURCE_PACKAGE)
			MCHECK(g->package == m->pk[l->pk].p && g->package_id &&
				       strcmp(g->package_id, m->pk[l->pk].id) ==
					       0,
			       "line %u: package %s, want %s", i,
			       g->package_id ? g->package_id : "(null)",
			       m->pk[l->pk].id);
	}
}

/* The account's observable state at time T must be the model's. */
/* Units held per category, open holds, and the packages' held units are
 * the sum of the open holds' package lines. */
static inline void check_holds(const model *M, const macct *m)
{
	int64_t held[MAXCAT + 1] = {0};
	int64_t pkheld[MAXPK] = {0};
	uint32_t open = 0, c;
	size_t h;
	int i;

	for (h = 0; h < m->nholds; h++) {
		const mhold *x = m->holds[h];

		if (!x->open)
			continue;
		open++;
		held[x->r.cat] += x->r.units;
		held[MAXCAT] += x->r.units;
		for (i = 0; i < x->r.n; i++)
			if (x->r.l[i].source == QUOTA_SOURCE_PACKAGE)
				pkheld[x->r.l[i].pk] += x->r.l[i].units;
	}
	MCHECK(quota_account_hold_count(m->a) == open, "hold_count %u, want %u",
	       quota_account_hold_count(m->a), open);
	for (c = 0; c < M->ncat; c++)
		MCHECK(quota_account_held(m->a, c) == held[c],
		       "held(cat %u) %lld, want %lld", c,
		       (long long)quota_account_held(m->a, c),
		       (long long)held[c]);
	MCHECK(quota_account_held(m->a, QUOTA_ALL) == held[MAXCAT],
	       "held(ALL) %lld, want %lld",
	       (long long)quota_account_held(m->a, QUOTA_ALL),
	       (long long)held[MAXCAT]);
	for (i = 0; i < m->npk; i++)
		MCHECK(m->pk[i].held == pkheld[i], "model: %s held %lld != %lld",
		       m->pk[i].id, (long long)m->pk[i].held,
		       (long long)pkheld[i]);
}

static inline void check_account(const model *M, const macct *m, int64_t T)
{
	const quota_account *a = m->a;
	uint32_t c;
	int i;

	MCHECK(quota_account_package_count(a) == (uint32_t)m->npk,
	       "package count");
	MCHECK(quota_account_blocked(a, NULL, NULL) == m->blocked,
	       "blocked %d, want %d", quota_account_blocked(a, NULL, NULL),
	       m->blocked); /* R25 */
	for (i = 0; i < m->npk; i++) {
		const mpkg *p = &m->pk[i];
		int64_t rem;

		MCHECK(quota_account_package_at(a, (uint32_t)i) == p->p,
		       "package_at(%d)", i);
		rem = quota_package_remaining(p->p);
		MCHECK(rem == p->remaining, "%s remaining %lld, want %lld",
		       p->id, (long long)rem, (long long)p->remaining);
		/* Conservation: bought = used + held + remaining. */
		MCHECK(p->units == rem + p->used + p->held && p->used >= 0 &&
			       p->held >= 0,
		       "%s: units %lld != remaining %lld + used %lld + held "
		       "%lld",
		       p->id, (long long)p->units, (long long)rem,
		       (long long)p->used, (long long)p->held);
		MCHECK(quota_package_status(p->p, T) == m_status(p, T),
		       "%s status at %lld: %d, want %d", p->id, (long long)T,
		       quota_package_status(p->p, T), m_status(p, T));
	}
	for (c = 0; c < M->ncat; c++) {
		int64_t g, w;
		const mtariff *t;

		g = quota_account_remaining(a, c, T);
		w = m_remaining(m, c, T);
		MCHECK(g == w, "remaining(cat %u, %lld) %lld, want %lld", c,
		       (long long)T, (long long)g, (long long)w);
		g = quota_account_used(a, c, QUOTA_PERIOD_DAY, T);
		w = m_used(m, c, QUOTA_PERIOD_DAY, T);
		MCHECK(g == w, "used(cat %u, DAY, %lld) %lld, want %lld", c,
		       (long long)T, (long long)g, (long long)w);
		g = quota_account_used(a, c, QUOTA_PERIOD_MONTH, T);
		w = m_used(m, c, QUOTA_PERIOD_MONTH, T);
		MCHECK(g == w, "used(cat %u, MONTH, %lld) %lld, want %lld", c,
		       (long long)T, (long long)g, (long long)w);
		if (m->tariff[c] < 0)
			continue;
		t = &M->tar[m->tariff[c]];
		if (!t->free_period)
			continue;
		g = quota_account_free_used(a, c, T);
		w = m_free_used(m, c, t->free_period, T);
		MCHECK(g == w, "free_used(cat %u, %lld) %lld, want %lld", c,
		       (long long)T, (long long)g, (long long)w);
	}
	MCHECK(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_DAY, T) ==
		       m_used(m, QUOTA_ALL, QUOTA_PERIOD_DAY, T),
	       "used(ALL, DAY, %lld)", (long long)T);
	MCHECK(quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, T) ==
		       m_used(m, QUOTA_ALL, QUOTA_PERIOD_MONTH, T),
	       "used(ALL, MONTH, %lld)", (long long)T);
	check_holds(M, m);
}

#endif /* QUOTA_TEST_MODEL_H */
