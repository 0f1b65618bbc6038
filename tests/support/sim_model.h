/*
 * sim_model.h - the model of check_sim.c's deterministic simulation
 * (issue 13): its parameters, the world a seed runs in (W: the context,
 * the accounts with their model and package handles, the store, the
 * bills delivered, the counts), SCHECK (a failure names the seed, the
 * step and the call), the seed's PRNG (R, P), and what every call must
 * return and do to an account, in plain arrays and linear scans, no
 * library internals.
 *
 * The model is simpler than the library where the rules are long: two
 * categories, a graduated tariff of one or two tiers each (a monthly free
 * allowance on the first, a failure fee), no caps, no STOP policy, no
 * priorities, daily settlement in UTC, cents rounded half up, fixed-price
 * offers, GSM 7-bit ASCII texts.  Package, hold, key, money, ledger,
 * settlement and pruning rules are modelled exactly.
 *
 * The store, the comparisons and the faults are in sim_check.h; the
 * steps, a seed and the test in tests/check_sim.c.  One world a program:
 * W is static, and so are the functions, inline (a program that leaves
 * some unused still builds with -Werror).
 */
#ifndef QUOTA_TEST_SIM_MODEL_H
#define QUOTA_TEST_SIM_MODEL_H

#include <check.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define NCAT 2
#define NACC 2
#define MAXPK 10
#define MAXLN 16
#define MAXHOLD 48
#define MAXKEY 40 /* the key window is set to KEYWIN keys */
#define KEYWIN 32
#define KEYAGE (7 * TU_DAY)
#define MAXDAY 400
#define MAXROW 800
#define STEPS 250
#define MAXBILL 64

/* ------------------------------------------------------------------ model */

typedef struct mline {
	int32_t src;
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
	mline l[MAXLN];
} mrcpt;

typedef struct mpkg {
	char id[24];
	uint64_t mask;
	int64_t units, remaining, eff, exp, used, held;
} mpkg;

typedef struct mhold {
	int open;
	int64_t deadline;
	mrcpt r;
} mhold;

enum { OP_CHARGE = 1, OP_RESERVE, OP_COMMIT, OP_RELEASE };

typedef struct mkey {
	char key[24];
	int op;
	uint32_t cat;
	int64_t units, at, timeout, used, time;
	uint64_t hold;
	int reversed;
	mrcpt r;
} mkey;

/* Units counted per (category, day): what caps, tiers and free use. */
typedef struct mday {
	uint32_t cat;
	int64_t day, units, free;
} mday;

/* The ledger per (hour, category): touched since settlement last took it
 * in (dirty), and what is not billed yet (pay-as-you-go units and cost,
 * released units and fees); net charged units for reports. */
typedef struct mrow {
	int64_t hour;
	uint32_t cat;
	int dirty;
	int64_t pu, pc, fu, fc, net;
} mrow;

typedef struct macct {
	char id[16];
	int npk;
	mpkg pk[MAXPK];
	int nday;
	mday d[MAXDAY];
	int nrow;
	mrow row[MAXROW];
	int nhold;
	mhold h[MAXHOLD];
	int nkey;
	mkey k[MAXKEY];
	int64_t newest, clock;
	int64_t balance, credit, outstanding, topped, purchased, billed;
	int suspended;
	uint32_t nowed;
	int64_t settled_upto; /* hours */
	uint64_t bill_seq;
	int64_t pruned_before, retain;
	int nbuy, ngrant;
} macct;

typedef struct mtariff {
	quota_tariff *t;
	int ntier;
	int64_t up_to[2], price[2], free_units, fee;
} mtariff;

typedef struct moffer {
	quota_offer *o;
	int64_t units, price;
	int32_t days;
	uint64_t mask;
} moffer;

typedef struct mbill {
	int64_t start, end, amount, total, balance;
	int32_t status;
	uint64_t seq;
	uint32_t n;
	quota_bill_line l[2 * NCAT * 2];
} mbill;

/* ------------------------------------------------------------- the world */

typedef struct srec {
	int acct;
	uint64_t seq;
	void *p;
	size_t n;
} srec;

enum { SF_NONE, SF_ONCE, SF_REST, SF_UNK_STORED, SF_UNK_LOST };

typedef struct sstore {
	srec *r;
	size_t n, cap;
	void *snap[NACC];
	size_t snapn[NACC];
	uint64_t snapseq[NACC];
	int mode, fired, fired_mode;
	long countdown;
} sstore;

static struct world {
	uint64_t seed;
	tu_rng r;
	int64_t clock;
	int step;
	char op[256];
	tu_alloc al;
	quota_ctx *ctx;
	int use_store;
	sstore st;
	mtariff tar[NCAT];
	moffer off[2];
	quota_account *a[NACC];
	quota_package *ph[NACC][MAXPK];
	macct m[NACC];
	/* bills seen by on_bill */
	int nbill;
	mbill bills[MAXBILL];
	long stat_fault, stat_ok, stat_bill, stat_reload, stat_unknown,
		stat_prune, stat_epruned, stat_susp, stat_funds, stat_buy, stat_sms,
		stat_replay, stat_reverse, stat_commit;
} W;

#define SCHECK(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			char m_[512];                                          \
			snprintf(m_, sizeof m_, __VA_ARGS__);                  \
			ck_abort_msg("check_sim: SEED=%llu step %d [%s]: %s",  \
				     (unsigned long long)W.seed, W.step, W.op, \
				     m_);                                      \
		}                                                              \
	} while (0)

static inline int64_t R(int64_t lo, int64_t hi)
{
	return tu_rng_range(&W.r, lo, hi);
}

static inline int P(unsigned num, unsigned den)
{
	return tu_rng_chance(&W.r, num, den);
}

static inline int64_t fdiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline int64_t hour_of(int64_t at)
{
	return fdiv(at, 3600);
}

static inline int64_t day_of(int64_t at)
{
	return fdiv(at, TU_DAY);
}

static inline int64_t month_of_day(int64_t day)
{
	return tu_month_index(day * TU_DAY, 0);
}

/* ------------------------------------------------------- model queries */

static inline int64_t m_used(const macct *m, uint32_t cat, int month,
			     int64_t at)
{
	int64_t day = day_of(at), mon = month_of_day(day), sum = 0;
	int i;

	for (i = 0; i < m->nday; i++) {
		const mday *d = &m->d[i];

		if (cat != QUOTA_ALL && d->cat != cat)
			continue;
		if (month ? month_of_day(d->day) == mon : d->day == day)
			sum += d->units;
	}
	return sum;
}

static inline int64_t m_free_used(const macct *m, uint32_t cat, int64_t at)
{
	int64_t mon = month_of_day(day_of(at)), sum = 0;
	int i;

	for (i = 0; i < m->nday; i++)
		if (m->d[i].cat == cat && month_of_day(m->d[i].day) == mon)
			sum += m->d[i].free;
	return sum;
}

static inline void m_count(macct *m, uint32_t cat, int64_t at,
			   int64_t units, int64_t free_units)
{
	int64_t day = day_of(at);
	int i;

	for (i = 0; i < m->nday; i++)
		if (m->d[i].cat == cat && m->d[i].day == day)
			break;
	if (i == m->nday) {
		SCHECK(m->nday < MAXDAY, "model: too many days");
		m->d[m->nday].cat = cat;
		m->d[m->nday].day = day;
		m->d[m->nday].units = m->d[m->nday].free = 0;
		m->nday++;
	}
	m->d[i].units += units;
	m->d[i].free += free_units;
}

/* The ledger row of (hour of at, cat), touched. */
static inline mrow *m_touch(macct *m, uint32_t cat, int64_t at)
{
	int64_t h = hour_of(at);
	int i;

	for (i = 0; i < m->nrow; i++)
		if (m->row[i].cat == cat && m->row[i].hour == h)
			break;
	if (i == m->nrow) {
		SCHECK(m->nrow < MAXROW, "model: too many ledger rows");
		memset(&m->row[i], 0, sizeof m->row[i]);
		m->row[i].cat = cat;
		m->row[i].hour = h;
		m->nrow++;
	}
	m->row[i].dirty = 1;
	return &m->row[i];
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

/* R3 without priorities: soonest expiry, earlier effective, order added. */
static inline int m_before(const mpkg *a, int ia, const mpkg *b, int ib)
{
	if (a->exp != b->exp)
		return a->exp < b->exp;
	if (a->eff != b->eff)
		return a->eff < b->eff;
	return ia < ib;
}

/* R1-R3, R13, R15, R18, §7: the receipt a charge of units would get, or
 * its refusal. */
static inline int m_plan(const macct *m, uint32_t cat, int64_t units,
			 int64_t at, int kind, mrcpt *w)
{
	const mtariff *t;
	int taken[MAXPK] = {0};
	int64_t left, V, start, end, fa;
	int i;

	memset(w, 0, sizeof *w);
	if (cat >= NCAT)
		return QUOTA_ENOTFOUND;
	if (units <= 0 || at < QUOTA_TIME_MIN || at >= QUOTA_TIME_MAX)
		return QUOTA_EINVAL;
	if (at < m->pruned_before)
		return QUOTA_EPRUNED;
	if (m->suspended)
		return QUOTA_ESUSPENDED;
	t = &W.tar[cat];
	w->kind = kind;
	w->cat = cat;
	w->at = at;
	w->units = units;
	fa = t->free_units - m_free_used(m, cat, at);
	if (fa < 0)
		fa = 0;
	w->f = units < fa ? units : fa;
	if (w->f) {
		w->l[w->n].src = QUOTA_SOURCE_FREE;
		w->l[w->n++].units = w->f;
	}
	left = units - w->f;
	while (left > 0) {
		int best = -1;

		for (i = 0; i < m->npk; i++)
			if (!taken[i] && m_usable(&m->pk[i], cat, at) &&
			    m->pk[i].remaining > 0 &&
			    (best < 0 ||
			     m_before(&m->pk[i], i, &m->pk[best], best)))
				best = i;
		if (best < 0)
			break;
		taken[best] = 1;
		w->l[w->n].src = QUOTA_SOURCE_PACKAGE;
		w->l[w->n].pk = best;
		w->l[w->n].units = m->pk[best].remaining < left
					   ? m->pk[best].remaining
					   : left;
		left -= w->l[w->n].units;
		w->p += w->l[w->n++].units;
	}
	w->q = left;
	if (!left)
		return QUOTA_OK;
	V = m_used(m, cat, 1, at);
	start = V + w->f + w->p + 1;
	end = V + units;
	for (i = 0; i < t->ntier; i++) {
		int64_t lo = i == 0 ? 1 : t->up_to[i - 1] + 1;
		int64_t hi = i == t->ntier - 1 ? INT64_MAX : t->up_to[i];
		int64_t a = start > lo ? start : lo, b = end < hi ? end : hi;

		if (a > b)
			continue;
		w->l[w->n].src = QUOTA_SOURCE_PAYG;
		w->l[w->n].tier = (uint32_t)i;
		w->l[w->n].units = b - a + 1;
		w->l[w->n].price = t->price[i];
		w->cost += (b - a + 1) * t->price[i];
		w->n++;
	}
	return QUOTA_OK;
}

/* A plan's effects: packages drawn (held for a hold), counters. */
static inline void m_apply(macct *m, const mrcpt *w, int hold)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (w->l[i].src == QUOTA_SOURCE_PACKAGE) {
			m->pk[w->l[i].pk].remaining -= w->l[i].units;
			if (hold)
				m->pk[w->l[i].pk].held += w->l[i].units;
			else
				m->pk[w->l[i].pk].used += w->l[i].units;
		}
	m_count(m, w->cat, w->at, w->units, w->f);
	if (w->at > m->clock)
		m->clock = w->at;
}

/* Totals of a receipt from its lines, empty lines dropped. */
static inline void m_totals(mrcpt *w)
{
	int i, n = 0;

	w->units = w->f = w->p = w->q = w->cost = 0;
	for (i = 0; i < w->n; i++) {
		if (!w->l[i].units)
			continue;
		w->l[n++] = w->l[i];
		w->units += w->l[i].units;
		if (w->l[i].src == QUOTA_SOURCE_FREE)
			w->f += w->l[i].units;
		else if (w->l[i].src == QUOTA_SOURCE_PACKAGE)
			w->p += w->l[i].units;
		else {
			w->q += w->l[i].units;
			w->cost += w->l[i].units * w->l[i].price;
		}
	}
	w->n = n;
}

/* R10: a commit of `used` keeps the first units of the hold; the rest goes
 * back from the last line (pay-as-you-go, packages, free). */
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
	m_totals(stay);
	m_totals(ret);
}

/* Resolve an open hold keeping `used` (release: 0); stay: what stays. */
static inline void m_resolve(macct *m, mhold *h, int64_t used, mrcpt *stay)
{
	mrcpt ret;
	int i;

	m_split(&h->r, used, stay, &ret);
	for (i = 0; i < h->r.n; i++)
		if (h->r.l[i].src == QUOTA_SOURCE_PACKAGE)
			m->pk[h->r.l[i].pk].held -= h->r.l[i].units;
	for (i = 0; i < stay->n; i++)
		if (stay->l[i].src == QUOTA_SOURCE_PACKAGE)
			m->pk[stay->l[i].pk].used += stay->l[i].units;
	for (i = 0; i < ret.n; i++)
		if (ret.l[i].src == QUOTA_SOURCE_PACKAGE)
			m->pk[ret.l[i].pk].remaining += ret.l[i].units;
	m_count(m, h->r.cat, h->r.at, -ret.units, -ret.f);
	h->open = 0;
}

/* R11: the window is a queue of KEYWIN keys, none older than KEYAGE
 * before the newest key time. */
static inline void m_key_purge(macct *m)
{
	while (m->nkey > 0 &&
	       (m->nkey > KEYWIN ||
		(m->newest != INT64_MIN && m->k[0].time < m->newest - KEYAGE))) {
		memmove(&m->k[0], &m->k[1], (size_t)(m->nkey - 1) * sizeof m->k[0]);
		m->nkey--;
	}
}

static inline mkey *m_key_find(macct *m, const char *key)
{
	int i;

	if (!key)
		return NULL;
	for (i = 0; i < m->nkey; i++)
		if (strcmp(m->k[i].key, key) == 0)
			return &m->k[i];
	return NULL;
}

static inline void m_key_store(macct *m, const mkey *e)
{
	SCHECK(m->nkey < MAXKEY, "model: key window");
	m->k[m->nkey++] = *e;
	if (e->time > m->newest)
		m->newest = e->time;
	m_key_purge(m);
}

/* R18 */
static inline int m_can_pay(const macct *m, int64_t x)
{
	return m->balance - x >= -m->credit;
}

static inline void m_try_resume(macct *m)
{
	if (!m->suspended || !m_can_pay(m, m->outstanding))
		return;
	m->balance -= m->outstanding;
	m->outstanding = 0;
	m->nowed = 0;
	m->suspended = 0;
}

static inline int32_t m_bill_pay(macct *m, int64_t total)
{
	m->billed += total;
	if (total <= 0 || (!m->suspended && m_can_pay(m, total))) {
		m->balance -= total;
		m_try_resume(m);
		return QUOTA_BILL_PAID;
	}
	m->nowed++;
	m->outstanding += total;
	m->suspended = 1;
	return QUOTA_BILL_OUTSTANDING;
}

static inline int64_t round_cents(int64_t x)
{
	int64_t a = x < 0 ? -x : x;

	a = (a + 5000) / 10000 * 10000;
	return x < 0 ? -a : a;
}

/* §7: the horizon of a prune asked at t. */
static inline int64_t m_horizon(const macct *m, int64_t t)
{
	int i;

	if (m->settled_upto == INT64_MIN || m->clock == INT64_MIN)
		return INT64_MIN;
	if (m->settled_upto * 3600 < t)
		t = m->settled_upto * 3600;
	if (m->clock < t)
		t = m->clock;
	for (i = 0; i < m->nrow; i++)
		if (m->row[i].dirty && m->row[i].hour * 3600 < t)
			t = m->row[i].hour * 3600;
	for (i = 0; i < m->nhold; i++)
		if (m->h[i].open && m->h[i].r.at < t)
			t = m->h[i].r.at;
	return t;
}

static inline void m_prune(macct *m, int64_t before)
{
	int64_t h = m_horizon(m, before);

	if (h != INT64_MIN && h > m->pruned_before)
		m->pruned_before = h;
}

typedef int64_t mlines[NCAT][2][2][2]; /* cat, kind, late: units, receipts */

/* Has the open bill a line of its own period (not late)? */
static inline int m_own(mlines ln)
{
	uint32_t c;
	int k;

	for (c = 0; c < NCAT; c++)
		for (k = 0; k < 2; k++)
			if (ln[c][k][0][0] || ln[c][k][0][1])
				return 1;
	return 0;
}

/* Finish the open bill b: lines in order, empty ones left out, rounded;
 * 1 if it is kept.  Late lines alone: the last complete period. */
static inline int m_close(mlines ln, int has_period, int64_t cut, mbill *x)
{
	uint32_t c;
	int k, l, own = m_own(ln);

	x->n = 0;
	x->amount = x->total = 0;
	for (c = 0; c < NCAT; c++)
		for (k = 0; k < 2; k++)
			for (l = 0; l < 2; l++) {
				quota_bill_line *y = &x->l[x->n];

				if (!ln[c][k][l][0] && !ln[c][k][l][1])
					continue;
				memset(y, 0, sizeof *y);
				y->category = c;
				y->kind = k;
				y->late = l;
				y->units = ln[c][k][l][0];
				y->receipts_micros = ln[c][k][l][1];
				y->amount_micros = y->receipts_micros;
				y->rounded_micros = round_cents(y->amount_micros);
				x->amount += y->amount_micros;
				x->total += y->rounded_micros;
				x->n++;
			}
	if (x->n && (!has_period || !own)) {
		x->end = cut * 3600;
		x->start = x->end - TU_DAY;
	}
	return x->n > 0;
}

/*
 * R17, R18: settle at now (daily periods, UTC): the bills in b, their
 * number; -1 when there is nothing to do (no record is written).  The
 * late rows (of periods an earlier settlement closed) open the first bill,
 * which the first period that bills something shares (quota_settle(3):
 * late lines go "on the first bill that settlement makes"; a period whose
 * lines cancel leaves the bill open for the next).
 */
static inline int m_settle(macct *m, int64_t now, mbill *b, int maxb)
{
	int64_t cut = fdiv(now, TU_DAY) * 24, days[MAXROW];
	int ndays = 0, nb = 0, i, j, g, open = 0, has_period = 0, any = 0,
	    anylate = 0;
	mlines ln;

	for (i = 0; i < m->nrow; i++) {
		const mrow *r = &m->row[i];
		int64_t d = fdiv(r->hour, 24);

		if (!r->dirty || r->hour >= cut)
			continue;
		any = 1;
		if (r->hour < m->settled_upto) {
			anylate = 1;
			continue;
		}
		for (j = 0; j < ndays && days[j] != d; j++)
			;
		if (j == ndays)
			days[ndays++] = d;
	}
	if (!any && cut <= m->settled_upto)
		return -1;
	for (i = 1; i < ndays; i++)
		for (j = i; j > 0 && days[j - 1] > days[j]; j--) {
			int64_t x = days[j];

			days[j] = days[j - 1];
			days[j - 1] = x;
		}
	for (g = anylate ? -1 : 0; g < ndays; g++) {
		int late = g < 0;

		if (late || !open || (has_period && m_own(ln))) {
			if (open) {
				SCHECK(nb + 1 < maxb, "model: bills");
				nb += m_close(ln, has_period, cut, &b[nb]);
			}
			open = 1;
			has_period = 0;
			memset(ln, 0, sizeof ln);
		}
		if (!late) {
			has_period = 1;
			b[nb].start = days[g] * TU_DAY;
			b[nb].end = b[nb].start + TU_DAY;
		}
		for (i = 0; i < m->nrow; i++) {
			const mrow *r = &m->row[i];

			if (!r->dirty || r->hour >= cut)
				continue;
			if (late ? r->hour >= m->settled_upto
				 : (r->hour < m->settled_upto ||
				    fdiv(r->hour, 24) != days[g]))
				continue;
			ln[r->cat][0][late][0] += r->pu;
			ln[r->cat][0][late][1] += r->pc;
			ln[r->cat][1][late][0] += r->fu;
			ln[r->cat][1][late][1] += r->fc;
		}
	}
	if (open) {
		SCHECK(nb + 1 < maxb, "model: bills");
		nb += m_close(ln, has_period, cut, &b[nb]);
	}
	for (i = 0; i < m->nrow; i++) {
		mrow *r = &m->row[i];

		if (r->dirty && r->hour < cut) {
			r->dirty = 0;
			r->pu = r->pc = r->fu = r->fc = 0;
		}
	}
	if (cut > m->settled_upto)
		m->settled_upto = cut;
	for (i = 0; i < nb; i++) {
		b[i].seq = ++m->bill_seq;
		b[i].status = m_bill_pay(m, b[i].total);
		b[i].balance = m->balance;
	}
	return nb;
}

static inline int64_t m_tick(macct *m, int64_t now)
{
	int64_t n = 0;
	mrcpt stay;
	int k;

	for (k = 0; k < m->nhold; k++)
		if (m->h[k].open && m->h[k].deadline <= now) {
			m_resolve(m, &m->h[k], 0, &stay);
			n++;
		}
	if (now > m->clock)
		m->clock = now;
	return n;
}

/* §7 retention, after every settlement call: what is older than the end
 * of the settled periods less the retention. */
static inline void m_retain(macct *m)
{
	if (m->retain && m->settled_upto != INT64_MIN)
		m_prune(m, m->settled_upto * 3600 - m->retain);
}

#endif /* QUOTA_TEST_SIM_MODEL_H */
