/*
 * snapshot.c - an account's whole state as one blob (DESIGN §5), the
 * format of quota_account_snapshot(3): recovery is a snapshot plus the
 * journal records after it, and recovered state must equal live state
 * byte for byte, so the encoding is canonical.  It depends only on what
 * the account's calls can observe or will act on, never on hash-table
 * layout, capacities, free lists, caches (the current-period counter
 * records, the ledger's cached hour, the package index's head hint, the
 * event-tracking sums) or pointers: counters are one sorted list, open
 * holds go by id, keys in window order, packages in the order added,
 * ledger rows in index order after folding.
 *
 * Decoding never trusts the input: every count is checked against the
 * bytes left before anything is allocated for it, every value against
 * its range and every cross-reference (category, package, tariff)
 * against what exists, and the state is rebuilt through the calls and
 * helpers that own each piece, so the indexes and caches come out as
 * those build them.  The result is a detached account that either joins
 * the context (quota_account_load) or replaces an account's contents
 * (quota_account_reset).
 */
#include "codec.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

#define SNAP_MAJOR 1
#define SNAP_MINOR 0
#define SNAP_HEAD 14 /* "QSNP", major, minor, u32 length, u32 CRC-32C */

/* Ranges of the periods any valid time falls in, in any UTC offset. */
#define OFF_MAX (18 * 3600)
#define DAY_MIN quota__floor_div(QUOTA_TIME_MIN - OFF_MAX, QUOTA__DAY)
#define DAY_MAX quota__floor_div(QUOTA_TIME_MAX + OFF_MAX, QUOTA__DAY)
#define HOUR_MIN quota__floor_div(QUOTA_TIME_MIN - OFF_MAX, 3600)
#define HOUR_MAX quota__floor_div(QUOTA_TIME_MAX + OFF_MAX, 3600)

static inline unsigned key_kind(uint64_t k)
{
	return (unsigned)(k >> 61);
}
static inline unsigned key_cat(uint64_t k)
{
	return (unsigned)(k >> 54) & 0x7F;
}
static inline int64_t key_period(uint64_t k)
{
	return (int64_t)(k & ((UINT64_C(1) << 54) - 1)) - (INT64_C(1) << 40);
}

/* ----------------------------------------------------------- encoding */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;

	return p < q ? -1 : p > q;
}

static int cmp_hold(const void *x, const void *y)
{
	const quota__hold *p = *(quota__hold *const *)x;
	const quota__hold *q = *(quota__hold *const *)y;

	return p->id < q->id ? -1 : p->id > q->id;
}

/*
 * Every counter key that may hold a value: the table's and the current
 * records' (their value is what quota__counter reads), sorted, without
 * duplicates.  The caller frees *out.
 */
static int counter_keys(const quota_account *a, uint64_t **out, size_t *n)
{
	const quota__counters *t = &a->counters;
	size_t cap = (size_t)t->n + 5 * (QUOTA__CAT_ALL + 1), k = 0, i, m;
	uint64_t *v = quota__malloc(&a->ctx->mem, cap * sizeof *v);
	unsigned c;

	*out = NULL;
	*n = 0;
	if (!v)
		return QUOTA_ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->keys[i])
			v[k++] = t->keys[i];
	for (c = 0; c <= QUOTA__CAT_ALL; c++) {
		const quota__cur *r = a->cur[c];

		if (!r)
			continue;
		if (r->day != INT64_MIN) {
			v[k++] = quota__cnt_key(QUOTA__CNT_UNITS_DAY, c, r->day);
			v[k++] = quota__cnt_key(QUOTA__CNT_FREE_DAY, c, r->day);
		}
		if (r->month != INT64_MIN) {
			v[k++] = quota__cnt_key(QUOTA__CNT_UNITS_MONTH, c,
						r->month);
			v[k++] = quota__cnt_key(QUOTA__CNT_FREE_MONTH, c,
						r->month);
		}
		v[k++] = quota__cnt_key(QUOTA__CNT_FREE_LIFE, c, 0);
	}
	qsort(v, k, sizeof *v, cmp_u64);
	for (i = m = 0; i < k; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	*out = v;
	*n = m;
	return QUOTA_OK;
}

static int64_t counter_value(const quota_account *a, uint64_t k)
{
	return quota__counter(a, key_kind(k), key_cat(k), key_period(k));
}

/* The categories the account refers to, for the snapshot's table. */
static uint64_t used_categories(const quota_account *a, const uint64_t *keys,
				size_t nkeys)
{
	const quota__ledger *l = &a->ledger;
	const quota__keyrec *k;
	uint64_t m = a->stop_mask;
	size_t i;

	for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
		if (a->tariff[i] || a->caps[i].day >= 0 ||
		    a->caps[i].month >= 0)
			m |= QUOTA_MASK(i);
	for (i = 0; i < a->npackages; i++)
		m |= a->packages[i]->categories;
	for (i = 0; i < a->nalerts; i++)
		m |= QUOTA_MASK(a->alerts[i].cat);
	for (i = 0; i < a->nvbills; i++)
		m |= QUOTA_MASK(a->vbills[i].cat);
	for (i = 0; i < nkeys; i++)
		if (key_cat(keys[i]) < QUOTA_MAX_CATEGORIES &&
		    counter_value(a, keys[i]))
			m |= QUOTA_MASK(key_cat(keys[i]));
	for (i = 0; i < l->nrows; i++)
		m |= QUOTA_MASK(l->rows[i].cat);
	for (i = 0; i < a->hold_tab_cap; i++)
		if (a->hold_tab[i])
			m |= QUOTA_MASK(a->hold_tab[i]->box.src.cat);
	for (k = a->keys.head; k; k = k->next) {
		m |= QUOTA_MASK(k->box.src.cat);
		if (k->op == QUOTA__OP_CHARGE || k->op == QUOTA__OP_RESERVE)
			m |= QUOTA_MASK(k->p_cat);
	}
	return m;
}

/* A source record: its category, time, totals, draws and payg lines. */
static void put_src(quota__wbuf *w, const quota__src *s)
{
	uint32_t i;

	quota__put_uv(w, s->cat);
	quota__put_sv(w, s->at);
	quota__put_sv(w, s->units);
	quota__put_sv(w, s->free);
	quota__put_sv(w, s->pkg);
	quota__put_sv(w, s->payg);
	quota__put_sv(w, s->cost);
	quota__put_uv(w, s->ndraws);
	for (i = 0; i < s->ndraws; i++) {
		quota__put_uv(w, s->draws[i].pk->seq);
		quota__put_sv(w, s->draws[i].units);
	}
	quota__put_uv(w, s->npayg);
	for (i = 0; i < s->npayg; i++) {
		quota__put_uv(w, s->paygs[i].tier);
		quota__put_sv(w, s->paygs[i].units);
		quota__put_sv(w, s->paygs[i].price);
		quota__put_sv(w, s->paygs[i].cost);
	}
}

static void put_settings(quota__wbuf *w, const quota_account *a, uint64_t used)
{
	const quota_ctx *ctx = a->ctx;
	uint32_t c, n;

	/* Categories: (id, name) of each one the account refers to. */
	quota__put_uv(w, (uint64_t)__builtin_popcountll(used));
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (used & QUOTA_MASK(c)) {
			quota__put_uv(w, c);
			quota__put_str(w, ctx->category[c]);
		}
	quota__put_sv(w, a->utc_offset);
	quota__put_uv(w, a->stop_mask);
	quota__put_sv(w, a->cap_all.day);
	quota__put_sv(w, a->cap_all.month);
	for (c = n = 0; c < QUOTA_MAX_CATEGORIES; c++)
		n += a->caps[c].day >= 0 || a->caps[c].month >= 0;
	quota__put_uv(w, n);
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (a->caps[c].day >= 0 || a->caps[c].month >= 0) {
			quota__put_uv(w, c);
			quota__put_sv(w, a->caps[c].day);
			quota__put_sv(w, a->caps[c].month);
		}
	for (c = n = 0; c < QUOTA_MAX_CATEGORIES; c++)
		n += a->tariff[c] != NULL;
	quota__put_uv(w, n);
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (a->tariff[c]) {
			quota__put_uv(w, c);
			quota__put_str(w, a->tariff[c]->name);
		}
	quota__put_sv(w, a->clock);
	quota__put_sv(w, a->warn_before);
}

static void put_money(quota__wbuf *w, const quota_account *a)
{
	quota__put_u8(w, a->suspended);
	quota__put_sv(w, a->balance);
	quota__put_sv(w, a->credit_limit);
	quota__put_sv(w, a->outstanding);
	quota__put_sv(w, a->topped_up);
	quota__put_sv(w, a->purchased);
	quota__put_sv(w, a->billed);
	quota__put_uv(w, a->nowed);
	quota__put_uv(w, (uint64_t)a->settle_period);
	quota__put_sv(w, a->minor_unit);
	quota__put_uv(w, (uint64_t)a->rounding);
	quota__put_sv(w, a->settled_upto);
	quota__put_uv(w, a->bill_seq);
}

static int cmp_vbill(const void *x, const void *y)
{
	const quota__vbill *p = *(quota__vbill *const *)x;
	const quota__vbill *q = *(quota__vbill *const *)y;

	if (p->cat != q->cat)
		return p->cat < q->cat ? -1 : 1;
	return p->month < q->month ? -1 : p->month > q->month;
}

static void put_packages(quota__wbuf *w, const quota_account *a)
{
	uint32_t i;

	quota__put_uv(w, a->npackages);
	for (i = 0; i < a->npackages; i++) {
		const quota_package *p = a->packages[i];

		quota__put_str(w, p->id);
		quota__put_uv(w, p->categories);
		quota__put_sv(w, p->units);
		quota__put_sv(w, p->remaining);
		quota__put_sv(w, p->effective_at);
		quota__put_sv(w, p->expires_at);
		quota__put_sv(w, p->price_micros);
		quota__put_uv(w, p->flags);
		quota__put_sv(w, p->priority);
	}
	quota__put_uv(w, a->nalerts);
	for (i = 0; i < a->nalerts; i++) {
		const quota__alert *al = &a->alerts[i];

		quota__put_uv(w, al->cat);
		quota__put_uv(w, (uint64_t)al->unit);
		quota__put_sv(w, al->level);
		quota__put_u8(w, al->armed);
	}
}

static void put_ledger(quota__wbuf *w, const quota_account *a)
{
	const quota__ledger *l = &a->ledger;
	uint32_t i;

	quota__put_uv(w, l->nrows);
	for (i = 0; i < l->nrows; i++) {
		const quota__lrow *r = &l->rows[i];

		quota__put_sv(w, r->hour);
		quota__put_uv(w, r->cat);
		quota__put_uv(w, r->src);
		quota__put_sv(w, r->units);
		quota__put_sv(w, r->cost);
		quota__put_sv(w, r->billed_units);
		quota__put_sv(w, r->billed_cost);
		quota__put_u8(w, r->dirty);
	}
}

/* Key records in window order, each with the fields its operation
 * sets (the others are left over from a recycled record: not state). */
static void put_keys(quota__wbuf *w, const quota_account *a)
{
	const quota__keys *k = &a->keys;
	const quota__keyrec *r;

	quota__put_uv(w, k->max_keys);
	quota__put_sv(w, k->max_age);
	quota__put_sv(w, k->newest);
	quota__put_uv(w, k->n);
	for (r = k->head; r; r = r->next) {
		quota__put_str(w, r->key);
		quota__put_uv(w, (uint64_t)r->op);
		quota__put_sv(w, r->time);
		switch (r->op) {
		case QUOTA__OP_CHARGE:
		case QUOTA__OP_RESERVE:
			quota__put_uv(w, r->p_cat);
			quota__put_sv(w, r->p_units);
			quota__put_sv(w, r->p_at);
			if (r->op == QUOTA__OP_CHARGE) {
				quota__put_u8(w, r->reversed);
			} else {
				quota__put_sv(w, r->p_timeout);
				quota__put_uv(w, r->hold_id);
			}
			break;
		case QUOTA__OP_COMMIT:
			quota__put_uv(w, r->p_hold);
			quota__put_sv(w, r->p_used);
			quota__put_u8(w, r->reversed);
			break;
		default: /* QUOTA__OP_RELEASE */
			quota__put_uv(w, r->p_hold);
			quota__put_sv(w, r->fee);
			break;
		}
		put_src(w, &r->box.src);
	}
}

int quota_account_snapshot(const quota_account *a, void **out, size_t *len)
{
	quota__wbuf w;
	quota__hold **holds = NULL;
	const quota__vbill **vb = NULL;
	uint64_t *keys = NULL, used, prev = 0;
	size_t nkeys, nz = 0, i, n;
	quota_ctx *ctx;
	uint32_t crc;
	int rc;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!a)
		return QUOTA_EINVAL;
	ctx = a->ctx;
	if (!out || !len)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_account_snapshot: NULL argument");
	memset(&w, 0, sizeof w);
	w.mem = &ctx->mem;
	/* Pending fast charges into the ledger rows: invisible. */
	quota__ledger_fold(a);
	if ((rc = counter_keys(a, &keys, &nkeys)))
		goto fail;
	rc = QUOTA_ENOMEM;
	if (a->nholds &&
	    !(holds = quota__malloc(&ctx->mem, a->nholds * sizeof *holds)))
		goto fail;
	if (a->nvbills &&
	    !(vb = quota__malloc(&ctx->mem, a->nvbills * sizeof *vb)))
		goto fail;
	used = used_categories(a, keys, nkeys);

	quota__put_bytes(&w, "QSNP", 4);
	quota__put_u8(&w, SNAP_MAJOR);
	quota__put_u8(&w, SNAP_MINOR);
	quota__put_u32(&w, 0); /* body length and CRC: filled in below */
	quota__put_u32(&w, 0);
	quota__put_str(&w, a->id);
	quota__put_uv(&w, a->seq);
	put_settings(&w, a, used);
	put_money(&w, a);
	put_packages(&w, a);
	/* Counters: (key - previous key, value), keys ascending, no 0. */
	for (i = 0; i < nkeys; i++)
		nz += counter_value(a, keys[i]) != 0;
	quota__put_uv(&w, nz);
	for (i = 0; i < nkeys; i++) {
		int64_t v = counter_value(a, keys[i]);

		if (!v)
			continue;
		quota__put_uv(&w, keys[i] - prev);
		quota__put_sv(&w, v);
		prev = keys[i];
	}
	put_ledger(&w, a);
	/* Open holds by id. */
	for (i = n = 0; i < a->hold_tab_cap; i++)
		if (a->hold_tab[i])
			holds[n++] = a->hold_tab[i];
	if (n)
		qsort(holds, n, sizeof *holds, cmp_hold);
	quota__put_uv(&w, a->last_hold_id);
	quota__put_uv(&w, n);
	for (i = 0; i < n; i++) {
		quota__put_uv(&w, holds[i]->id);
		quota__put_sv(&w, holds[i]->deadline);
		put_src(&w, &holds[i]->box.src);
	}
	put_keys(&w, a);
	/* The volume months last, sorted: a list of their own. */
	for (i = 0; i < a->nvbills; i++)
		vb[i] = &a->vbills[i];
	if (a->nvbills)
		qsort(vb, a->nvbills, sizeof *vb, cmp_vbill);
	quota__put_uv(&w, a->nvbills);
	for (i = 0; i < a->nvbills; i++) {
		quota__put_uv(&w, vb[i]->cat);
		quota__put_sv(&w, vb[i]->month);
		quota__put_sv(&w, vb[i]->units);
		quota__put_sv(&w, vb[i]->payg);
		quota__put_sv(&w, vb[i]->billed);
	}
	if (w.fail)
		goto fail;
	if (w.n - SNAP_HEAD > UINT32_MAX) {
		rc = QUOTA_EOVERFLOW;
		goto fail;
	}
	crc = quota__crc32c(0, w.p + SNAP_HEAD, w.n - SNAP_HEAD);
	for (i = 0; i < 4; i++) {
		w.p[6 + i] = (uint8_t)((w.n - SNAP_HEAD) >> (8 * i));
		w.p[10 + i] = (uint8_t)(crc >> (8 * i));
	}
	quota__free(&ctx->mem, keys);
	quota__free(&ctx->mem, holds);
	quota__free(&ctx->mem, vb);
	*out = w.p;
	*len = w.n;
	quota__ok(ctx);
	return QUOTA_OK;
fail:
	quota__free(&ctx->mem, keys);
	quota__free(&ctx->mem, holds);
	quota__free(&ctx->mem, vb);
	quota__wbuf_free(&w);
	return quota__err(ctx, rc, "account '%s': snapshot: %s", a->id,
			  rc == QUOTA_ENOMEM ? "out of memory"
					     : "state too large to encode");
}

void quota_free(quota_ctx *ctx, void *p)
{
	if (ctx && p)
		quota__free(&ctx->mem, p);
}

/* ----------------------------------------------------------- decoding */

typedef struct dec {
	quota__rbuf r;
	quota_ctx *ctx;
	quota_account *a;
	uint64_t known;     /* the categories of the snapshot's table */
	quota__draw *draws; /* room for one draw per package */
	quota__payg paygs[QUOTA__MAX_TIERS];
	int rc;             /* the first error other than ECORRUPT */
} dec;

/* n items of at least `each` bytes fit in what is left (so a hostile
 * count allocates nothing); else the input is bad. */
static bool fits(dec *d, uint64_t n, size_t each)
{
	if (d->r.bad || n > (d->r.n - d->r.off) / each) {
		d->r.bad = true;
		return false;
	}
	return true;
}

/* A value the decoder refuses: the snapshot is corrupt. */
static bool bad(dec *d)
{
	d->r.bad = true;
	return false;
}

/* A failure of a restore step: ENOMEM and ENOTFOUND stand, anything
 * else means the input described a state the calls cannot make. */
static bool failed(dec *d, int rc)
{
	if (!rc)
		return false;
	if (rc == QUOTA_ENOMEM || rc == QUOTA_ENOTFOUND)
		d->rc = rc;
	d->r.bad = true;
	return true;
}

static bool cat_ok(const dec *d, uint64_t c)
{
	return c < QUOTA_MAX_CATEGORIES && (d->known & QUOTA_MASK(c));
}

static bool u8_bool(dec *d, bool *out)
{
	uint8_t v = quota__get_u8(&d->r);

	*out = v == 1;
	return v <= 1 || bad(d);
}

/* A string of 1..max bytes of valid UTF-8 into out (room max + 1). */
static bool get_name(dec *d, char *out, size_t max)
{
	size_t off, n = quota__get_str(&d->r, out, max);

	if (d->r.bad)
		return false;
	if (!n || !quota__utf8_valid(out, n, &off))
		return bad(d);
	return true;
}

/* A source record into s (draws and paygs in d's scratch), checked to
 * add up: units = free + packages + payg, the lines sum to the totals. */
static bool get_src(dec *d, quota__src *s)
{
	quota_account *a = d->a;
	int64_t sum = 0, cost = 0, u;
	uint64_t i, n;

	memset(s, 0, sizeof *s);
	s->cat = (uint32_t)quota__get_uv_max(&d->r, QUOTA_MAX_CATEGORIES);
	s->at = quota__get_sv(&d->r);
	s->units = quota__get_sv(&d->r);
	s->free = quota__get_sv(&d->r);
	s->pkg = quota__get_sv(&d->r);
	s->payg = quota__get_sv(&d->r);
	s->cost = quota__get_sv(&d->r);
	if (d->r.bad || !cat_ok(d, s->cat) || !quota__time_ok(s->at) ||
	    s->free < 0 || s->pkg < 0 || s->payg < 0 || s->cost < 0 ||
	    quota__add_ovf(s->free, s->pkg, &u) ||
	    quota__add_ovf(u, s->payg, &u) || u != s->units)
		return bad(d);
	s->day = quota__day_of(s->at + a->utc_offset);
	s->month = quota__month_of_day(s->day);
	n = quota__get_uv(&d->r);
	if (n > a->npackages || !fits(d, n, 2))
		return bad(d);
	s->ndraws = (uint32_t)n;
	s->draws = d->draws;
	for (i = 0; i < n; i++) {
		uint64_t seq = quota__get_uv(&d->r);
		int64_t units = quota__get_sv(&d->r);

		if (d->r.bad || seq >= a->npackages || units < 0 ||
		    !(a->packages[seq]->categories & QUOTA_MASK(s->cat)) ||
		    quota__add_ovf(sum, units, &sum))
			return bad(d);
		d->draws[i].pk = a->packages[seq];
		d->draws[i].units = units;
	}
	if (sum != s->pkg)
		return bad(d);
	n = quota__get_uv_max(&d->r, QUOTA__MAX_TIERS);
	s->npayg = (uint32_t)n;
	s->paygs = d->paygs;
	for (sum = 0, i = 0; i < n && !d->r.bad; i++) {
		quota__payg *l = &d->paygs[i];

		l->tier = (uint32_t)quota__get_uv_max(&d->r,
						      QUOTA__MAX_TIERS - 1);
		l->units = quota__get_sv(&d->r);
		l->price = quota__get_sv(&d->r);
		l->cost = quota__get_sv(&d->r);
		if (l->units < 0 || l->price < 0 || l->cost < 0 ||
		    quota__add_ovf(sum, l->units, &sum) ||
		    quota__add_ovf(cost, l->cost, &cost))
			return bad(d);
	}
	return !d->r.bad && (sum == s->payg && cost == s->cost ? true
							       : bad(d));
}

/* Categories, calendar, overage, caps, tariffs, clock, warnings. */
static bool get_settings(dec *d)
{
	quota_account *a = d->a;
	uint64_t n, i, c, prev;
	char name[QUOTA_ID_MAX + 1];
	int64_t off, day, month;

	n = quota__get_uv_max(&d->r, QUOTA_MAX_CATEGORIES);
	for (i = 0, prev = 0; i < n && !d->r.bad; i++) {
		c = quota__get_uv_max(&d->r, QUOTA_MAX_CATEGORIES - 1);
		if (!get_name(d, name, QUOTA_CATEGORY_NAME_MAX))
			return false;
		if ((i && c <= prev))
			return bad(d);
		prev = c;
		if (c >= d->ctx->ncategories ||
		    strcmp(d->ctx->category[c], name) != 0) {
			d->rc = quota__err(d->ctx, QUOTA_ENOTFOUND,
					   "snapshot of account '%s': no "
					   "category '%s' with id %u",
					   a->id, name, (unsigned)c);
			return bad(d);
		}
		d->known |= QUOTA_MASK(c);
	}
	off = quota__get_sv(&d->r);
	if (d->r.bad || off < -OFF_MAX || off > OFF_MAX ||
	    failed(d, quota_account_set_utc_offset(a, (int32_t)off)))
		return bad(d);
	a->stop_mask = quota__get_uv(&d->r);
	if (a->stop_mask & ~d->known)
		return bad(d);
	day = quota__get_sv(&d->r);
	month = quota__get_sv(&d->r);
	if (d->r.bad || day < -1 || month < -1 ||
	    (day >= 0 &&
	     failed(d, quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					     day))) ||
	    (month >= 0 &&
	     failed(d, quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					     month))))
		return bad(d);
	n = quota__get_uv_max(&d->r, QUOTA_MAX_CATEGORIES);
	for (i = 0, prev = 0; i < n && !d->r.bad; i++) {
		c = quota__get_uv(&d->r);
		day = quota__get_sv(&d->r);
		month = quota__get_sv(&d->r);
		if (d->r.bad || !cat_ok(d, c) || (i && c <= prev) ||
		    day < -1 || month < -1 || (day < 0 && month < 0))
			return bad(d);
		prev = c;
		if ((day >= 0 &&
		     failed(d, quota_account_set_cap(a, (uint32_t)c,
						     QUOTA_PERIOD_DAY, day))) ||
		    (month >= 0 &&
		     failed(d, quota_account_set_cap(a, (uint32_t)c,
						     QUOTA_PERIOD_MONTH,
						     month))))
			return false;
	}
	n = quota__get_uv_max(&d->r, QUOTA_MAX_CATEGORIES);
	for (i = 0, prev = 0; i < n && !d->r.bad; i++) {
		quota_tariff *t;

		c = quota__get_uv(&d->r);
		if (!get_name(d, name, QUOTA_ID_MAX))
			return false;
		if (!cat_ok(d, c) || (i && c <= prev))
			return bad(d);
		prev = c;
		if (quota_tariff_find(d->ctx, name, &t)) {
			d->rc = quota__err(d->ctx, QUOTA_ENOTFOUND,
					   "snapshot of account '%s': no "
					   "tariff '%s'",
					   a->id, name);
			return bad(d);
		}
		a->tariff[c] = t;
	}
	a->clock = quota__get_sv(&d->r);
	a->warn_before = quota__get_sv(&d->r);
	if (d->r.bad || (a->clock != INT64_MIN && !quota__time_ok(a->clock)) ||
	    a->warn_before < 0)
		return bad(d);
	return true;
}

static bool get_money(dec *d)
{
	quota_account *a = d->a;
	uint64_t period, rounding;
	bool susp;

	if (!u8_bool(d, &susp))
		return false;
	a->suspended = susp;
	a->balance = quota__get_sv(&d->r);
	a->credit_limit = quota__get_sv(&d->r);
	a->outstanding = quota__get_sv(&d->r);
	a->topped_up = quota__get_sv(&d->r);
	a->purchased = quota__get_sv(&d->r);
	a->billed = quota__get_sv(&d->r);
	a->nowed = (size_t)quota__get_uv_max(&d->r, UINT32_MAX);
	period = quota__get_uv(&d->r);
	a->minor_unit = quota__get_sv(&d->r);
	rounding = quota__get_uv(&d->r);
	a->settled_upto = quota__get_sv(&d->r);
	a->bill_seq = quota__get_uv(&d->r);
	/* money.c: suspended while bills are owed; what is owed is > 0. */
	if (d->r.bad || a->credit_limit < 0 || a->outstanding < 0 ||
	    a->topped_up < 0 || a->purchased < 0 ||
	    a->suspended != (a->nowed > 0) ||
	    (a->nowed == 0) != (a->outstanding == 0) ||
	    (period != QUOTA_PERIOD_HOUR && period != QUOTA_PERIOD_DAY) ||
	    a->minor_unit <= 0 || rounding > QUOTA_ROUND_DOWN ||
	    (a->settled_upto != INT64_MIN &&
	     (a->settled_upto < HOUR_MIN - 48 ||
	      a->settled_upto > HOUR_MAX + 48)))
		return bad(d);
	a->settle_period = (int)period;
	a->rounding = (int)rounding;
	return true;
}

/* Packages in the order added, through quota_package_add (the indexes
 * come out as it builds them), then their remaining units; the alerts. */
static bool get_packages(dec *d)
{
	quota_account *a = d->a;
	char id[QUOTA_ID_MAX + 1];
	uint64_t n, i;

	n = quota__get_uv(&d->r);
	if (!fits(d, n, 9) || n >= UINT32_MAX - 1)
		return bad(d);
	if (n && !(d->draws = quota__malloc(&d->ctx->mem,
					    (size_t)n * sizeof *d->draws))) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	for (i = 0; i < n; i++) {
		quota_package_spec s;
		quota_package *p;
		int64_t rem, prio;

		if (!get_name(d, id, QUOTA_ID_MAX))
			return false;
		memset(&s, 0, sizeof s);
		s.id = id;
		s.categories = quota__get_uv(&d->r);
		s.units = quota__get_sv(&d->r);
		rem = quota__get_sv(&d->r);
		s.effective_at = quota__get_sv(&d->r);
		s.expires_at = quota__get_sv(&d->r);
		s.price_micros = quota__get_sv(&d->r);
		s.flags = (uint32_t)quota__get_uv_max(&d->r, UINT32_MAX);
		prio = quota__get_sv(&d->r);
		if (d->r.bad || (s.categories & ~d->known) || rem < 0 ||
		    rem > s.units || prio < INT32_MIN || prio > INT32_MAX)
			return bad(d);
		s.priority = (int32_t)prio;
		if (failed(d, quota_package_add(a, &s, &p)))
			return false;
		if (rem != p->remaining) {
			p->remaining = rem;
			if (!rem)
				quota__package_refresh(a, p);
		}
	}
	n = quota__get_uv(&d->r);
	if (!fits(d, n, 4))
		return false;
	for (i = 0; i < n; i++) {
		uint64_t c = quota__get_uv(&d->r), unit = quota__get_uv(&d->r);
		int64_t level = quota__get_sv(&d->r);
		bool armed;

		if (!u8_bool(d, &armed))
			return false;
		if (!cat_ok(d, c) || unit > QUOTA_ALERT_PERCENT ||
		    failed(d, quota_account_add_alert(a, (uint32_t)c, level,
						      (int)unit)))
			return bad(d);
		a->alerts[a->nalerts - 1].armed = armed;
	}
	return true;
}

/* Counters: ascending keys of known kinds, categories and periods. */
static bool get_counters(dec *d)
{
	const quota__mem *mem = &d->ctx->mem;
	uint64_t n, i, key = 0, *keys = NULL;
	int64_t *vals = NULL;
	bool ok = false;
	int rc;

	n = quota__get_uv(&d->r);
	if (!fits(d, n, 2))
		return false;
	if (!n)
		return true;
	keys = quota__malloc(mem, (size_t)n * sizeof *keys);
	vals = quota__malloc(mem, (size_t)n * sizeof *vals);
	if (!keys || !vals) {
		d->rc = QUOTA_ENOMEM;
		bad(d);
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t delta = quota__get_uv(&d->r);
		unsigned kind, cat;
		int64_t per, lo, hi;

		vals[i] = quota__get_sv(&d->r);
		if (d->r.bad || (i && !delta) || delta > UINT64_MAX - key ||
		    vals[i] <= 0) {
			bad(d);
			goto out;
		}
		key = keys[i] = key + delta;
		kind = key_kind(key);
		cat = key_cat(key);
		per = key_period(key);
		lo = DAY_MIN;
		hi = DAY_MAX;
		if (kind == QUOTA__CNT_UNITS_MONTH ||
		    kind == QUOTA__CNT_FREE_MONTH) {
			lo = quota__month_of_day(lo);
			hi = quota__month_of_day(hi);
		} else if (kind == QUOTA__CNT_FREE_LIFE) {
			lo = hi = 0;
		}
		if (kind < QUOTA__CNT_UNITS_DAY || kind > QUOTA__CNT_FREE_LIFE ||
		    per < lo || per > hi ||
		    !(cat_ok(d, cat) ||
		      (cat == QUOTA__CAT_ALL && kind <= QUOTA__CNT_UNITS_MONTH))) {
			bad(d);
			goto out;
		}
	}
	rc = quota__counters_restore(d->a, keys, vals, (uint32_t)n);
	ok = !failed(d, rc);
out:
	quota__free(mem, keys);
	quota__free(mem, vals);
	return ok;
}

/* Ledger rows in index order; a package row names a package that covers
 * its category, and a row settlement has not taken in all of is dirty. */
static bool get_ledger(dec *d)
{
	quota_account *a = d->a;
	uint64_t n, i;

	n = quota__get_uv(&d->r);
	if (!fits(d, n, 8))
		return false;
	for (i = 0; i < n; i++) {
		quota__lrow r;
		uint64_t cat, src;
		bool dirty;

		memset(&r, 0, sizeof r);
		r.hour = quota__get_sv(&d->r);
		cat = quota__get_uv(&d->r);
		src = quota__get_uv(&d->r);
		r.units = quota__get_sv(&d->r);
		r.cost = quota__get_sv(&d->r);
		r.billed_units = quota__get_sv(&d->r);
		r.billed_cost = quota__get_sv(&d->r);
		if (!u8_bool(d, &dirty))
			return false;
		if (!cat_ok(d, cat) || r.hour < HOUR_MIN || r.hour > HOUR_MAX ||
		    src >= QUOTA__LSRC_PKG + (uint64_t)a->npackages ||
		    (!dirty && (r.units != r.billed_units ||
				r.cost != r.billed_cost)))
			return bad(d);
		r.cat = (uint32_t)cat;
		r.src = (uint32_t)src;
		r.dirty = dirty;
		if (src >= QUOTA__LSRC_PKG) {
			r.pk = a->packages[src - QUOTA__LSRC_PKG];
			if (!(r.pk->categories & QUOTA_MASK(cat)))
				return bad(d);
		}
		if (failed(d, quota__ledger_restore(a, &r)))
			return false;
	}
	return true;
}

/* Open holds by ascending id; what they hold per category must fit. */
static bool get_holds(dec *d)
{
	quota_account *a = d->a;
	uint64_t n, i, prev = 0;

	a->last_hold_id = quota__get_uv(&d->r);
	n = quota__get_uv(&d->r);
	if (!fits(d, n, 12))
		return false;
	for (i = 0; i < n; i++) {
		uint64_t id = quota__get_uv(&d->r);
		int64_t deadline = quota__get_sv(&d->r), x;
		quota__src s;

		if (!get_src(d, &s))
			return false;
		if (id <= prev || !quota__time_ok(deadline) ||
		    quota__add_ovf(a->held[s.cat], s.units, &x) ||
		    failed(d, quota__hold_restore(a, id, deadline, &s)))
			return bad(d);
		prev = id;
	}
	return true;
}

/* The key window: bounds, then records oldest first. */
static bool get_keys(dec *d)
{
	quota_account *a = d->a;
	uint64_t max_keys, n, i;
	int64_t max_age, newest;
	char key[QUOTA_KEY_MAX + 1];

	max_keys = quota__get_uv_max(&d->r, UINT32_MAX);
	max_age = quota__get_sv(&d->r);
	newest = quota__get_sv(&d->r);
	n = quota__get_uv(&d->r);
	if (d->r.bad)
		return false;
	if (!max_keys) /* the window was never used: all still zero */
		return (!max_age && !newest && !n) || bad(d);
	if (max_age < 1 || n > max_keys || !fits(d, n, 14) ||
	    (newest != INT64_MIN && !quota__time_ok(newest)) ||
	    failed(d, quota_account_set_key_window(a, (uint32_t)max_keys,
						   max_age)))
		return bad(d);
	a->keys.newest = newest;
	for (i = 0; i < n; i++) {
		quota__keyrec *rec;
		uint64_t op, p_cat = 0, p_hold = 0, hold_id = 0;
		int64_t time, p_units = 0, p_at = 0, p_timeout = 0, p_used = 0;
		int64_t fee = 0;
		bool reversed = false;
		quota__src s;

		if (!get_name(d, key, QUOTA_KEY_MAX))
			return false;
		op = quota__get_uv(&d->r);
		time = quota__get_sv(&d->r);
		if (op == QUOTA__OP_CHARGE || op == QUOTA__OP_RESERVE) {
			p_cat = quota__get_uv(&d->r);
			p_units = quota__get_sv(&d->r);
			p_at = quota__get_sv(&d->r);
			if (op == QUOTA__OP_CHARGE) {
				if (!u8_bool(d, &reversed))
					return false;
			} else {
				p_timeout = quota__get_sv(&d->r);
				hold_id = quota__get_uv(&d->r);
				if (!hold_id || hold_id > a->last_hold_id)
					return bad(d);
			}
			if (!cat_ok(d, p_cat))
				return bad(d);
		} else if (op == QUOTA__OP_COMMIT || op == QUOTA__OP_RELEASE) {
			hold_id = p_hold = quota__get_uv(&d->r);
			if (op == QUOTA__OP_COMMIT) {
				p_used = quota__get_sv(&d->r);
				if (!u8_bool(d, &reversed))
					return false;
			} else {
				fee = quota__get_sv(&d->r);
			}
			if (!p_hold || p_hold > a->last_hold_id || p_used < 0 ||
			    fee < 0)
				return bad(d);
		} else {
			return bad(d);
		}
		if (!get_src(d, &s))
			return false;
		if (!quota__time_ok(time) || quota__key_find(a, key))
			return bad(d);
		if (failed(d, quota__key_reserve(a)))
			return false;
		if (!(rec = quota__key_new(a, key, &s))) {
			d->rc = QUOTA_ENOMEM;
			return bad(d);
		}
		rec->op = (int32_t)op;
		rec->kind = op == QUOTA__OP_CHARGE    ? QUOTA_RECEIPT_CHARGE
			    : op == QUOTA__OP_RESERVE ? QUOTA_RECEIPT_RESERVE
			    : op == QUOTA__OP_COMMIT  ? QUOTA_RECEIPT_COMMIT
						      : QUOTA_RECEIPT_RELEASE;
		rec->time = time;
		rec->reversed = reversed;
		rec->p_cat = (uint32_t)p_cat;
		rec->p_units = p_units;
		rec->p_at = p_at;
		rec->p_timeout = p_timeout;
		rec->p_used = p_used;
		rec->p_hold = p_hold;
		rec->hold_id = hold_id;
		rec->fee = fee;
		rec->forfeited = 0;
		quota__key_store(a, rec);
	}
	/* Nothing fell out of the window and the newest time is the one
	 * recorded: else the window was not one the calls could leave. */
	return (a->keys.n == n && a->keys.newest == newest) || bad(d);
}

/* Volume months, strictly ascending by (category, month). */
static bool get_vbills(dec *d)
{
	quota_account *a = d->a;
	uint64_t n, i;

	n = quota__get_uv(&d->r);
	if (!fits(d, n, 5))
		return false;
	if (n && quota__grow(&d->ctx->mem, (void **)&a->vbills,
			     &a->cap_vbills, (size_t)n, sizeof *a->vbills)) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	for (i = 0; i < n; i++) {
		quota__vbill *v = &a->vbills[i];
		uint64_t cat = quota__get_uv(&d->r);

		v->month = quota__get_sv(&d->r);
		v->units = quota__get_sv(&d->r);
		v->payg = quota__get_sv(&d->r);
		v->billed = quota__get_sv(&d->r);
		if (d->r.bad || !cat_ok(d, cat) ||
		    v->month < quota__month_of_day(DAY_MIN) ||
		    v->month > quota__month_of_day(DAY_MAX) ||
		    (i && (cat < v[-1].cat ||
			   (cat == v[-1].cat && v->month <= v[-1].month))))
			return bad(d);
		v->cat = (uint32_t)cat;
		a->nvbills = (size_t)i + 1;
	}
	return true;
}

/*
 * Check the header and checksum of a snapshot and read the account id
 * (the body's first field) into id; body is left after it.
 */
static int open_snap(quota_ctx *ctx, const void *snap, size_t len,
		     quota__rbuf *body, char *id, uint8_t *minor)
{
	const uint8_t *p = snap;
	quota__rbuf h = {p, len, 0, false};
	uint32_t blen, crc;
	size_t off;

	if (len < SNAP_HEAD || memcmp(p, "QSNP", 4) != 0)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot: truncated or not a snapshot");
	h.off = 4;
	if (quota__get_u8(&h) != SNAP_MAJOR) {
		if (p[4] > SNAP_MAJOR)
			return quota__err(ctx, QUOTA_EVERSION,
					  "snapshot: format %u.%u is newer "
					  "than this library's %d.%d",
					  p[4], p[5], SNAP_MAJOR, SNAP_MINOR);
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot: unknown format version %u", p[4]);
	}
	*minor = quota__get_u8(&h);
	blen = quota__get_u32(&h);
	crc = quota__get_u32(&h);
	if (len - SNAP_HEAD != blen)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot: %zu bytes, the header says %zu",
				  len, (size_t)blen + SNAP_HEAD);
	if (quota__crc32c(0, p + SNAP_HEAD, blen) != crc)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot: checksum mismatch");
	body->p = p + SNAP_HEAD;
	body->n = blen;
	body->off = 0;
	body->bad = false;
	if (!quota__get_str(body, id, QUOTA_ID_MAX) || body->bad ||
	    !quota__utf8_valid(id, strlen(id), &off))
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot: bad account id");
	return QUOTA_OK;
}

/* Decode the body after the id into a fresh account. */
static int decode_body(quota_ctx *ctx, quota__rbuf *body, const char *id,
		       uint8_t minor, quota_account **fresh)
{
	quota_event_fn hook = ctx->hook;
	dec d;

	*fresh = NULL;
	memset(&d, 0, sizeof d);
	d.r = *body;
	d.ctx = ctx;
	d.a = quota__account_alloc(ctx, id);
	if (!d.a)
		return quota__err(ctx, QUOTA_ENOMEM,
				  "snapshot of account '%s': out of memory",
				  id);
	/* Rebuilding calls the setters: no event tracking, no events. */
	ctx->hook = NULL;
	d.a->seq = quota__get_uv(&d.r);
	if (get_settings(&d) && get_money(&d) && get_packages(&d) &&
	    get_counters(&d) && get_ledger(&d) && get_holds(&d) &&
	    get_keys(&d) && get_vbills(&d) &&
	    d.r.off != d.r.n && minor <= SNAP_MINOR)
		d.r.bad = true; /* trailing bytes: only a newer minor adds */
	ctx->hook = hook;
	ctx->nev = 0;
	quota__free(&ctx->mem, d.draws);
	if (d.r.bad) {
		quota__account_free(d.a);
		if (d.rc == QUOTA_ENOTFOUND)
			return QUOTA_ENOTFOUND; /* the message is set */
		if (d.rc == QUOTA_ENOMEM)
			return quota__err(ctx, QUOTA_ENOMEM,
					  "snapshot of account '%s': out of "
					  "memory",
					  id);
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot of account '%s': corrupt at byte "
				  "%zu of the body",
				  id, d.r.off);
	}
	d.a->track_gen = 0; /* event tracking is set up at the next call */
	d.a->unsynced = false;
	*fresh = d.a;
	return QUOTA_OK;
}

int quota__account_decode(quota_ctx *ctx, const void *snap, size_t len,
			  quota_account **fresh)
{
	char id[QUOTA_ID_MAX + 1];
	quota__rbuf body;
	uint8_t minor;
	int rc;

	*fresh = NULL;
	if ((rc = open_snap(ctx, snap, len, &body, id, &minor)))
		return rc;
	return decode_body(ctx, &body, id, minor, fresh);
}

int quota_account_load(quota_ctx *ctx, const void *snap, size_t len,
		       quota_account **out)
{
	char id[QUOTA_ID_MAX + 1];
	quota_account *a;
	quota__rbuf body;
	uint8_t minor;
	int rc;

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	if (!snap || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_account_load: NULL argument");
	if ((rc = open_snap(ctx, snap, len, &body, id, &minor)))
		return rc;
	if (quota__strmap_get(&ctx->account_ids, id))
		return quota__err(ctx, QUOTA_EEXISTS,
				  "account '%s' already exists", id);
	if (quota__grow(&ctx->mem, (void **)&ctx->accounts, &ctx->cap_accounts,
			ctx->naccounts + 1, sizeof *ctx->accounts) ||
	    quota__strmap_reserve(&ctx->mem, &ctx->account_ids))
		return quota__err(ctx, QUOTA_ENOMEM,
				  "account '%s': out of memory", id);
	if ((rc = decode_body(ctx, &body, id, minor, &a)))
		return rc;
	ctx->accounts[ctx->naccounts++] = a;
	quota__strmap_put(&ctx->account_ids, a->id, a);
	*out = a;
	quota__ok(ctx);
	return QUOTA_OK;
}

void quota__account_swap(quota_account *live, quota_account *fresh)
{
	quota_account tmp = *live;
	char *id = live->id;
	uint32_t i;

	*live = *fresh;
	*fresh = tmp;
	/* live keeps its id string: ctx->account_ids borrows it. */
	fresh->id = live->id;
	live->id = id;
	for (i = 0; i < live->npackages; i++)
		live->packages[i]->account = live;
	for (i = 0; i < fresh->npackages; i++)
		fresh->packages[i]->account = fresh;
	quota__account_free(fresh);
}

int quota_account_reset(quota_account *a, const void *snap, size_t len)
{
	char id[QUOTA_ID_MAX + 1];
	quota_account *fresh;
	quota__rbuf body;
	uint8_t minor;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (!snap)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_account_reset: NULL snapshot");
	if ((rc = open_snap(a->ctx, snap, len, &body, id, &minor)))
		return rc;
	if (strcmp(id, a->id) != 0)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': snapshot is of account '%s'",
				  a->id, id);
	if ((rc = decode_body(a->ctx, &body, id, minor, &fresh)))
		return rc;
	quota__account_swap(a, fresh);
	a->unsynced = false;
	quota__ok(a->ctx);
	return QUOTA_OK;
}
