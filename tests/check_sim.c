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
 * model written here (plain arrays and linear scans, no library
 * internals); a refused step leaves the account's snapshot byte for byte
 * as it was (R8, §5).
 *
 * The model is simpler than the library where the rules are long: two
 * categories, a graduated tariff of one or two tiers each (a monthly free
 * allowance on the first, a failure fee), no caps, no STOP policy, no
 * priorities, daily settlement in UTC, cents rounded half up, fixed-price
 * offers, GSM 7-bit ASCII texts.  Package, hold, key, money, ledger,
 * settlement and pruning rules are modelled exactly.
 *
 * The store (quota_store.h) is written here too: it keeps every record
 * and the snapshot the host took last, and is what a removed account is
 * loaded back from (snapshot, then quota_journal_apply of the records
 * after it) and what an unsynchronised account is re-synchronised from
 * (quota_account_reset, then the records).  Odd seeds run without a store
 * (the host snapshots an account before removing it).
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

static int64_t R(int64_t lo, int64_t hi)
{
	return tu_rng_range(&W.r, lo, hi);
}

static int P(unsigned num, unsigned den)
{
	return tu_rng_chance(&W.r, num, den);
}

static int64_t fdiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t hour_of(int64_t at)
{
	return fdiv(at, 3600);
}

static int64_t day_of(int64_t at)
{
	return fdiv(at, TU_DAY);
}

static int64_t month_of_day(int64_t day)
{
	return tu_month_index(day * TU_DAY, 0);
}

/* ------------------------------------------------------- model queries */

static int64_t m_used(const macct *m, uint32_t cat, int month, int64_t at)
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

static int64_t m_free_used(const macct *m, uint32_t cat, int64_t at)
{
	int64_t mon = month_of_day(day_of(at)), sum = 0;
	int i;

	for (i = 0; i < m->nday; i++)
		if (m->d[i].cat == cat && month_of_day(m->d[i].day) == mon)
			sum += m->d[i].free;
	return sum;
}

static void m_count(macct *m, uint32_t cat, int64_t at, int64_t units,
		    int64_t free_units)
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
static mrow *m_touch(macct *m, uint32_t cat, int64_t at)
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

/* R3 without priorities: soonest expiry, earlier effective, order added. */
static int m_before(const mpkg *a, int ia, const mpkg *b, int ib)
{
	if (a->exp != b->exp)
		return a->exp < b->exp;
	if (a->eff != b->eff)
		return a->eff < b->eff;
	return ia < ib;
}

/* R1-R3, R13, R15, R18, §7: the receipt a charge of units would get, or
 * its refusal. */
static int m_plan(const macct *m, uint32_t cat, int64_t units, int64_t at,
		  int kind, mrcpt *w)
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
static void m_apply(macct *m, const mrcpt *w, int hold)
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
static void m_totals(mrcpt *w)
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
static void m_split(const mrcpt *h, int64_t used, mrcpt *stay, mrcpt *ret)
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
static void m_resolve(macct *m, mhold *h, int64_t used, mrcpt *stay)
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
static void m_key_purge(macct *m)
{
	while (m->nkey > 0 &&
	       (m->nkey > KEYWIN ||
		(m->newest != INT64_MIN && m->k[0].time < m->newest - KEYAGE))) {
		memmove(&m->k[0], &m->k[1], (size_t)(m->nkey - 1) * sizeof m->k[0]);
		m->nkey--;
	}
}

static mkey *m_key_find(macct *m, const char *key)
{
	int i;

	if (!key)
		return NULL;
	for (i = 0; i < m->nkey; i++)
		if (strcmp(m->k[i].key, key) == 0)
			return &m->k[i];
	return NULL;
}

static void m_key_store(macct *m, const mkey *e)
{
	SCHECK(m->nkey < MAXKEY, "model: key window");
	m->k[m->nkey++] = *e;
	if (e->time > m->newest)
		m->newest = e->time;
	m_key_purge(m);
}

/* R18 */
static int m_can_pay(const macct *m, int64_t x)
{
	return m->balance - x >= -m->credit;
}

static void m_try_resume(macct *m)
{
	if (!m->suspended || !m_can_pay(m, m->outstanding))
		return;
	m->balance -= m->outstanding;
	m->outstanding = 0;
	m->nowed = 0;
	m->suspended = 0;
}

static int32_t m_bill_pay(macct *m, int64_t total)
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

static int64_t round_cents(int64_t x)
{
	int64_t a = x < 0 ? -x : x;

	a = (a + 5000) / 10000 * 10000;
	return x < 0 ? -a : a;
}

/* §7: the horizon of a prune asked at t. */
static int64_t m_horizon(const macct *m, int64_t t)
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

static void m_prune(macct *m, int64_t before)
{
	int64_t h = m_horizon(m, before);

	if (h != INT64_MIN && h > m->pruned_before)
		m->pruned_before = h;
}

typedef int64_t mlines[NCAT][2][2][2]; /* cat, kind, late: units, receipts */

/* Finish the open bill b: lines in order, empty ones left out, rounded;
 * 1 if it is kept.  Late lines alone: the last complete period. */
static int m_close(mlines ln, int has_period, int64_t cut, mbill *x)
{
	uint32_t c;
	int k, l;

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
	if (x->n && !has_period) {
		x->end = cut * 3600;
		x->start = x->end - TU_DAY;
	}
	return x->n > 0;
}

/*
 * R17, R18: settle at now (daily periods, UTC): the bills in b, their
 * number; -1 when there is nothing to do (no record is written).  The
 * late rows (of periods an earlier settlement closed) open the first bill,
 * which the first period with rows shares.
 */
static int m_settle(macct *m, int64_t now, mbill *b, int maxb)
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

		if (late || !open || has_period) {
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

/* ------------------------------------------------------------- the store */

static int acct_index(const char *id)
{
	int i;

	for (i = 0; i < NACC; i++)
		if (strcmp(W.m[i].id, id) == 0)
			return i;
	return -1;
}

static void st_keep(sstore *s, int acct, uint64_t seq, const void *rec,
		    size_t len)
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
static int st_append(void *ud, const char *account, uint64_t seq,
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

static void st_free(sstore *s)
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
static void *snap_of(const quota_account *a, size_t *n)
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
static void refresh(int i)
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
static void st_apply_after(int i, uint64_t seq)
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
static void resync(int i)
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

static void check_rcpt(int i, const mrcpt *w, int replayed,
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

static int cmp_used(int i, uint32_t cat, int period, int64_t T)
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
static int rep_fn(const quota_report_row *row, void *ud)
{
	int64_t *sum = ud;

	if (row->source != QUOTA_SOURCE_FEE)
		sum[row->category] += row->units;
	return 0;
}

static void check_report(int i, int64_t from, int64_t to)
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
static void check_acct(int i, int64_t T)
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

static void check_all(void)
{
	int i;

	for (i = 0; i < NACC; i++) {
		check_acct(i, W.clock);
		check_acct(i, W.clock - R(0, 40 * TU_DAY));
	}
}

/* ------------------------------------------------------------ the steps */

static int g_trace; /* SIM_TRACE: print every step */
static int g_journal; /* QUOTA_TEST_JOURNAL: a recording store on each ctx */
static long g_fail0;
static void *g_pre;
static size_t g_pren;

/* Random faults for the next call: allocation N, store call N. */
static void arm(int i, int store_ok, int settle)
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

static void disarm(void)
{
	tu_alloc_disarm(&W.al);
	W.st.mode = SF_NONE;
}

static void same_as_pre(int i)
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
static int faulted(int i, int rc, const macct *next)
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
static void outcome(int i, int rc, const macct *next)
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
static int64_t gen_time(int i)
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
static const char *gen_key(int i, char *buf, size_t n)
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

static int64_t m_tick(macct *m, int64_t now)
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

/* §7 retention, after every settlement call: what is older than the end
 * of the settled periods less the retention. */
static void m_retain(macct *m)
{
	if (m->retain && m->settled_upto != INT64_MIN)
		m_prune(m, m->settled_upto * 3600 - m->retain);
}

static int on_bill(const quota_bill *b, void *ud)
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

static void check_bills(const mbill *want, int n, int from)
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

/* The host keeps a snapshot in the store (records after it are applied
 * when the account is loaded back). */
static void op_checkpoint(int i)
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
static void op_reload(int i)
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
