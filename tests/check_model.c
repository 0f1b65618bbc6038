/*
 * check_model.c - property test of the charging engine against a small,
 * obviously-correct model of /tmp/semantics.md (issue 2) written here:
 * plain arrays, linear scans, and a list of (category, day, month, units,
 * free) records for every counter.
 *
 * Thousands of random operations (charges, quotes, packages, caps,
 * overage policies, tariff changes, bad input) at random, out-of-order
 * times; after every step the return code, the whole receipt and the
 * observable state must equal the model's; units and package quota are
 * conserved.
 *
 *   QUOTA_TEST_SEED=n   replay a seed (printed at the start of each run)
 *   QUOTA_TEST_QUICK=1  ~10x fewer steps (valgrind)
 */
#include <check.h>

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
#define STEPS 5000

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
} mtariff;

typedef struct mpkg {
	char id[24];
	quota_package *p;
	uint64_t mask;
	int64_t units, remaining, eff, exp;
	uint32_t flags;
	int32_t prio;
	int64_t drawn; /* units drawn, summed from the engine's receipts */
} mpkg;

typedef struct mrec {
	uint32_t cat;
	int64_t day, month, units, free;
} mrec;

typedef struct macct {
	quota_account *a;
	char id[16];
	int32_t off;
	int npk;
	mpkg pk[MAXPK];
	mrec *rec;
	size_t nrec, caprec;
	int tariff[MAXCAT];          /* index in model.tar, -1: none */
	int64_t cap[MAXCAT + 1][2];  /* [cat | MAXCAT=ALL][DAY, MONTH]; -1 */
	int overage[MAXCAT];
	int pkseq;
} macct;

typedef struct model {
	quota_ctx *ctx;
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
/* What the run exercised, printed at its end (a vacuous run shows). */
static struct {
	long rc[16];
	long free, pkg, payg, multi_pkg, multi_tier, truncated, late;
} g_stat;
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

/* ------------------------------------------------------- model queries */

static int64_t m_used(const macct *m, uint32_t cat, int period, int64_t at)
{
	int64_t day = tu_day_index(at, m->off);
	int64_t mon = tu_month_index(at, m->off);
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

static int64_t m_free_used(const macct *m, uint32_t cat, int period,
			   int64_t at)
{
	int64_t day = tu_day_index(at, m->off);
	int64_t mon = tu_month_index(at, m->off);
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

static int m_usable(const mpkg *p, uint32_t cat, int64_t at)
{
	return (p->mask & QUOTA_MASK(cat)) && p->eff <= at && at < p->exp;
}

static int64_t m_remaining(const macct *m, uint32_t cat, int64_t at)
{
	int64_t sum = 0;
	int i;

	for (i = 0; i < m->npk; i++)
		if (m_usable(&m->pk[i], cat, at))
			sum += m->pk[i].remaining;
	return sum;
}

static int m_status(const mpkg *p, int64_t now)
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
static int m_before(const mpkg *a, int ia, const mpkg *b, int ib)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	if (a->exp != b->exp)
		return a->exp < b->exp;
	if (a->eff != b->eff)
		return a->eff < b->eff;
	return ia < ib;
}

static int mul_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

static int add_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

/* Steps 1-6 of quota_charge, on the model. */
static void m_plan(const model *M, const macct *m, uint32_t cat,
		   int64_t units, int64_t at, const char *key, mplan *pl)
{
	static const int periods[2] = {QUOTA_PERIOD_DAY, QUOTA_PERIOD_MONTH};
	const mtariff *t = NULL;
	int64_t left, V, start, end;
	int taken[MAXPK] = {0};
	int i, k, stop;

	memset(pl, 0, sizeof *pl);
	/* 1. validate */
	if (cat >= M->ncat) {
		pl->rc = QUOTA_ENOTFOUND;
		return;
	}
	if (units <= 0 || at < QUOTA_TIME_MIN || at >= QUOTA_TIME_MAX ||
	    key) {
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

/* Step 8, on the model. */
static void m_apply(macct *m, uint32_t cat, int64_t units, int64_t at,
		    const mplan *pl)
{
	int i;

	for (i = 0; i < pl->ndraw; i++)
		m->pk[pl->draw[i]].remaining -= pl->draw_units[i];
	if (m->nrec == m->caprec) {
		m->caprec = m->caprec ? 2 * m->caprec : 256;
		m->rec = realloc(m->rec, m->caprec * sizeof *m->rec);
		ck_assert_ptr_nonnull(m->rec);
	}
	m->rec[m->nrec].cat = cat;
	m->rec[m->nrec].day = tu_day_index(at, m->off);
	m->rec[m->nrec].month = tu_month_index(at, m->off);
	m->rec[m->nrec].units = units;
	m->rec[m->nrec].free = pl->f;
	m->nrec++;
}

/* -------------------------------------------------------------- checks */

/* The engine's receipt must be exactly the model's. */
static void check_receipt(const macct *m, uint32_t cat, int64_t units,
			  int64_t at, const mplan *pl, const quota_receipt *r)
{
	uint32_t total, n = 0, i;
	quota_receipt_line want[1 + MAXPK + MAXTIER];

	MCHECK(r->units == units && r->free_units == pl->f &&
		       r->package_units == pl->p && r->payg_units == pl->q &&
		       r->payg_cost_micros == pl->cost,
	       "totals: got units %lld free %lld pkg %lld payg %lld cost "
	       "%lld; want %lld %lld %lld %lld %lld",
	       (long long)r->units, (long long)r->free_units,
	       (long long)r->package_units, (long long)r->payg_units,
	       (long long)r->payg_cost_micros, (long long)units,
	       (long long)pl->f, (long long)pl->p, (long long)pl->q,
	       (long long)pl->cost);
	MCHECK(r->units == r->free_units + r->package_units + r->payg_units,
	       "units not conserved in receipt");
	MCHECK(r->category == cat && r->at == at, "receipt category/at");
	memset(want, 0, sizeof want);
	if (pl->f > 0) {
		want[n].source = QUOTA_SOURCE_FREE;
		want[n++].units = pl->f;
	}
	for (i = 0; i < (uint32_t)pl->ndraw; i++) {
		want[n].source = QUOTA_SOURCE_PACKAGE;
		want[n].package = m->pk[pl->draw[i]].p;
		want[n].package_id = m->pk[pl->draw[i]].id;
		want[n++].units = pl->draw_units[i];
	}
	for (i = 0; i < (uint32_t)pl->npayg; i++) {
		want[n].source = QUOTA_SOURCE_PAYG;
		want[n].tier = pl->tier[i];
		want[n].units = pl->payg_units[i];
		want[n].unit_price_micros = pl->payg_price[i];
		want[n++].cost_micros = pl->payg_units[i] * pl->payg_price[i];
	}
	total = n;
	MCHECK(r->lines_total == total, "lines_total %u, want %u",
	       r->lines_total, total);
	MCHECK(r->nlines == (total < QUOTA_RECEIPT_LINES ? total
							 : QUOTA_RECEIPT_LINES),
	       "nlines %u, want min(%u, %d)", r->nlines, total,
	       QUOTA_RECEIPT_LINES);
	for (i = 0; i < r->nlines && i < total; i++) {
		const quota_receipt_line *g = &r->lines[i], *w = &want[i];

		MCHECK(g->source == w->source && g->units == w->units &&
			       g->unit_price_micros == w->unit_price_micros &&
			       g->cost_micros == w->cost_micros,
		       "line %u: got source %d units %lld price %lld cost "
		       "%lld; want %d %lld %lld %lld",
		       i, g->source, (long long)g->units,
		       (long long)g->unit_price_micros,
		       (long long)g->cost_micros, w->source,
		       (long long)w->units, (long long)w->unit_price_micros,
		       (long long)w->cost_micros);
		if (w->source == QUOTA_SOURCE_PAYG)
			MCHECK(g->tier == w->tier, "line %u: tier %u, want %u",
			       i, g->tier, w->tier);
		if (w->source == QUOTA_SOURCE_PACKAGE)
			MCHECK(g->package == w->package && g->package_id &&
				       strcmp(g->package_id, w->package_id) == 0,
			       "line %u: package %s, want %s", i,
			       g->package_id ? g->package_id : "(null)",
			       w->package_id);
	}
}

/* The account's observable state at time T must be the model's. */
static void check_account(const model *M, const macct *m, int64_t T)
{
	const quota_account *a = m->a;
	uint32_t c;
	int i;

	MCHECK(quota_account_package_count(a) == (uint32_t)m->npk,
	       "package count");
	for (i = 0; i < m->npk; i++) {
		const mpkg *p = &m->pk[i];
		int64_t rem;

		MCHECK(quota_account_package_at(a, (uint32_t)i) == p->p,
		       "package_at(%d)", i);
		rem = quota_package_remaining(p->p);
		MCHECK(rem == p->remaining, "%s remaining %lld, want %lld",
		       p->id, (long long)rem, (long long)p->remaining);
		/* Conservation: bought = remaining + drawn. */
		MCHECK(p->units == rem + p->drawn,
		       "%s: units %lld != remaining %lld + drawn %lld", p->id,
		       (long long)p->units, (long long)rem,
		       (long long)p->drawn);
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
}

/* ------------------------------------------------------------ generators */

typedef struct gen {
	tu_rng r;
	int64_t clock;
} gen;

static int64_t R(gen *g, int64_t lo, int64_t hi)
{
	return tu_rng_range(&g->r, lo, hi);
}

static int P(gen *g, unsigned num, unsigned den)
{
	return tu_rng_chance(&g->r, num, den);
}

/* A usage time: mostly recent, often late, sometimes on a boundary. */
static int64_t gen_time(gen *g, const macct *m)
{
	int64_t at = g->clock, day, y;
	int mo, d;

	switch (R(g, 0, 9)) {
	case 0:
	case 1:
		at -= R(g, 0, 3 * TU_DAY);
		break;
	case 2:
		at -= R(g, 0, 45 * TU_DAY);
		break;
	case 3: /* around the local midnight */
		day = tu_day_index(at - R(g, 0, 2 * TU_DAY), m->off);
		at = day * TU_DAY - m->off + R(g, -2, 2);
		break;
	case 4: /* around the local first of a month */
		day = tu_day_index(at - R(g, 0, 40 * TU_DAY), m->off);
		tu_civil_from_days(day, &y, &mo, &d);
		at = tu_days_from_civil(y, mo, 1) * TU_DAY - m->off +
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

static uint64_t gen_mask(gen *g, uint32_t ncat)
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

static void gen_tariff(gen *g, model *M, int i)
{
	mtariff *t = &M->tar[i];
	char name[16];
	int64_t up = 0;
	int k, n;

	memset(t, 0, sizeof *t);
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

static int64_t gen_cap(gen *g, int period)
{
	if (P(g, 3, 10))
		return -1;
	if (P(g, 1, 20))
		return 0;
	return period == QUOTA_PERIOD_DAY ? R(g, 20, 1500) : R(g, 300, 20000);
}

static void setup(model *M, gen *g)
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
	M->nacc = (int)R(g, 1, MAXACC);
	for (i = 0; i < M->nacc; i++) {
		macct *m = &M->acc[i];

		snprintf(m->id, sizeof m->id, "acct%d", i);
		ck_assert_int_eq(quota_account_new(M->ctx, m->id, &m->a),
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

static void teardown(model *M)
{
	int i;

	quota_ctx_free(M->ctx);
	for (i = 0; i < M->nacc; i++)
		free(M->acc[i].rec);
}

/* ------------------------------------------------------------ operations */

static void op_charge(model *M, gen *g, macct *m, int quote, int bad)
{
	uint32_t cat = (uint32_t)R(g, 0, M->ncat - 1);
	int64_t units = P(g, 1, 10) ? R(g, 40, 400) : R(g, 1, 40);
	int64_t at = gen_time(g, m);
	const char *key = NULL;
	quota_receipt r;
	quota_usage u;
	mplan pl;
	int rc, null_receipt = !quote && P(g, 1, 20);
	int i;

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
			key = "key-1";
			break;
		}
	}
	snprintf(g_op, sizeof g_op, "%s %s cat %u units %lld at %lld%s",
		 quote ? "quote" : "charge", m->id, cat, (long long)units,
		 (long long)at, key ? " key" : "");
	m_plan(M, m, cat, units, at, key, &pl);
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
	MCHECK(rc == pl.rc, "rc %s, want %s (%s)", quota_err_name(rc),
	       quota_err_name(pl.rc), quota_errmsg(M->ctx));
	if (rc <= 0 && rc > -16)
		g_stat.rc[-rc]++;
	if (rc == QUOTA_OK) {
		g_stat.free += pl.f > 0;
		g_stat.pkg += pl.p > 0;
		g_stat.payg += pl.q > 0;
		g_stat.multi_pkg += pl.ndraw > 1;
		g_stat.multi_tier += pl.npayg > 1;
		g_stat.truncated += r.lines_total > r.nlines && !null_receipt;
		g_stat.late += at < g->clock - TU_DAY;
	}
	if (rc != QUOTA_OK) {
		MCHECK(quota_errmsg(M->ctx)[0] != '\0', "empty errmsg");
		if (!null_receipt)
			MCHECK(tu_receipt_is_zero(&r), "receipt not zeroed");
	} else {
		if (!null_receipt)
			check_receipt(m, cat, units, at, &pl, &r);
		if (!quote) {
			/* Drawn quota, from the engine's receipt lines
			 * (the model's plan where lines were cut off). */
			uint32_t shown = null_receipt ? 0 : r.nlines;
			uint32_t first_pkg = pl.f > 0 ? 1 : 0, li;

			for (i = 0; i < pl.ndraw; i++) {
				li = first_pkg + (uint32_t)i;
				if (li < shown) {
					int j;

					for (j = 0; j < m->npk; j++)
						if (m->pk[j].p ==
						    r.lines[li].package)
							m->pk[j].drawn +=
								r.lines[li].units;
				} else {
					m->pk[pl.draw[i]].drawn +=
						pl.draw_units[i];
				}
			}
			m_apply(m, cat, units, at, &pl);
		}
	}
	if (pl.rc == QUOTA_OK || pl.rc == QUOTA_ECAP ||
	    pl.rc == QUOTA_EEXHAUSTED || pl.rc == QUOTA_EOVERFLOW)
		check_account(M, m, at);
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
		np.eff = tu_day_index(np.eff, m->off) * TU_DAY - m->off;
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
		break;
	default: { /* change a tariff */
		mtariff *t = &M->tar[R(g, 0, M->ntar - 1)];
		int64_t v;

		switch (R(g, 0, 3)) {
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

static uint64_t base_seed(void)
{
	const char *s = getenv("QUOTA_TEST_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
}

static uint64_t g_base;

START_TEST(test_model_random_operations)
{
	model M;
	gen g;
	int steps = tu_quick() ? STEPS / 10 : STEPS;
	int i, ncharge = 0;

	g_seed = g_base + (uint64_t)_i;
	memset(&g_stat, 0, sizeof g_stat);
	fprintf(stderr, "check_model run %d: QUOTA_TEST_SEED=%llu (%d steps)\n",
		_i, (unsigned long long)g_seed, steps);
	tu_rng_seed(&g.r, g_seed);
	g.clock = tu_utc(2024, 1, 20, 0, 0, 0) + R(&g, 0, 300 * TU_DAY);
	g_step = -1;
	snprintf(g_op, sizeof g_op, "setup");
	setup(&M, &g);
	for (i = 0; i < steps; i++) {
		macct *m = &M.acc[R(&g, 0, M.nacc - 1)];
		int64_t w = R(&g, 0, 99);

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
		} else {
			/* Read everything at a random time, every account. */
			int64_t T = P(&g, 1, 2) ? gen_time(&g, m)
						: g.clock + R(&g, -60 * TU_DAY,
							      30 * TU_DAY);
			int k;

			snprintf(g_op, sizeof g_op, "read at %lld",
				 (long long)T);
			for (k = 0; k < M.nacc; k++)
				check_account(&M, &M.acc[k], T);
		}
	}
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
	SRunner *sr;
	int failed;

	g_base = base_seed();
	sr = srunner_create(model_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
