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
 * Decoding is in snapshot_load.c.
 */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

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
		if (t->slot[i].key)
			v[k++] = t->slot[i].key;
	for (c = 0; c <= QUOTA__CAT_ALL; c++) {
		const quota__cur *r = quota__cur_of(a, c);

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
				size_t nkeys, bool window)
{
	const quota__ledger *l = &a->ledger;
	const quota__keys *w = &a->x->keys;
	uint64_t m = a->stop_mask;
	size_t i;

	for (i = 0; i < QUOTA_MAX_CATEGORIES; i++)
		if (quota__tariff_of(a, (unsigned)i) ||
		    quota__cap_of(a, (unsigned)i)->day >= 0 ||
		    quota__cap_of(a, (unsigned)i)->month >= 0)
			m |= QUOTA_MASK(i);
	for (i = 0; i < a->npackages; i++)
		m |= a->packages[i]->categories;
	for (i = 0; i < a->x->nalerts; i++)
		m |= QUOTA_MASK(a->x->alerts[i].cat);
	for (i = 0; i < a->x->nvbills; i++)
		m |= QUOTA_MASK(a->x->vbills[i].cat);
	for (i = 0; i < nkeys; i++)
		if (key_cat(keys[i]) < QUOTA_MAX_CATEGORIES &&
		    counter_value(a, keys[i]))
			m |= QUOTA_MASK(key_cat(keys[i]));
	for (i = 0; i < l->nrows; i++)
		m |= QUOTA_MASK(l->rows[i].cat);
	for (i = 0; i < a->x->hold_tab_cap; i++)
		if (a->x->hold_tab[i])
			m |= QUOTA_MASK(a->x->hold_tab[i]->box.src.cat);
	for (i = 0; window && i < w->n; i++) {
		uint32_t j = w->head + (uint32_t)i;
		quota__keyview v;

		quota__key_view(a, &w->ring[j >= w->rcap ? j - w->rcap : j],
				&v);
		m |= QUOTA_MASK(v.src.cat);
		if (v.e.op == QUOTA__OP_CHARGE || v.e.op == QUOTA__OP_RESERVE)
			m |= QUOTA_MASK(v.e.p_cat);
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
	quota__put_uv(w, (uint64_t)quota__popcount64(used));
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (used & QUOTA_MASK(c)) {
			quota__put_uv(w, c);
			quota__put_str(w, ctx->category[c]);
		}
	/* R26: a zone's offset is a cache; its calendar is the last
	 * section. */
	quota__put_sv(w, a->zoned ? 0 : a->utc_offset);
	quota__put_uv(w, a->stop_mask);
	quota__put_sv(w, a->x->cap_all.day);
	quota__put_sv(w, a->x->cap_all.month);
	for (c = n = 0; c < QUOTA_MAX_CATEGORIES; c++)
		n += quota__cap_of(a, c)->day >= 0 ||
		     quota__cap_of(a, c)->month >= 0;
	quota__put_uv(w, n);
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (quota__cap_of(a, c)->day >= 0 ||
		    quota__cap_of(a, c)->month >= 0) {
			quota__put_uv(w, c);
			quota__put_sv(w, quota__cap_of(a, c)->day);
			quota__put_sv(w, quota__cap_of(a, c)->month);
		}
	for (c = n = 0; c < QUOTA_MAX_CATEGORIES; c++)
		n += quota__tariff_of(a, c) != NULL;
	quota__put_uv(w, n);
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++)
		if (quota__tariff_of(a, c)) {
			quota__put_uv(w, c);
			quota__put_str(w, quota__tariff_of(a, c)->name);
		}
	quota__put_sv(w, a->clock);
	quota__put_sv(w, a->x->warn_before);
}

static void put_money(quota__wbuf *w, const quota_account *a)
{
	quota__put_u8(w, a->suspended);
	quota__put_sv(w, a->x->balance);
	quota__put_sv(w, a->x->credit_limit);
	quota__put_sv(w, a->x->outstanding);
	quota__put_sv(w, a->x->topped_up);
	quota__put_sv(w, a->x->purchased);
	quota__put_sv(w, a->x->billed);
	quota__put_uv(w, a->x->nowed);
	quota__put_uv(w, (uint64_t)a->x->settle_period);
	quota__put_sv(w, a->x->minor_unit);
	quota__put_uv(w, (uint64_t)a->x->rounding);
	quota__put_sv(w, a->x->settled_upto);
	quota__put_uv(w, a->x->bill_seq);
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
		quota__put_uv(w, p->flags & QUOTA_PACKAGE_STOP);
		quota__put_sv(w, p->priority);
	}
	quota__put_uv(w, a->x->nalerts);
	for (i = 0; i < a->x->nalerts; i++) {
		const quota__alert *al = &a->x->alerts[i];

		quota__put_uv(w, al->cat);
		quota__put_uv(w, (uint64_t)al->unit);
		quota__put_sv(w, al->level);
		/* §5: whether the alert is armed follows from the units left
		 * while event tracking is set up (event.c), and tracking is
		 * set up again after a load; without a hook the flag is not
		 * kept up.  So the byte is always 1, and a snapshot does not
		 * depend on whether a hook was set. */
		quota__put_u8(w, 1);
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
	const quota__keys *k = &a->x->keys;
	quota__keyview v;
	const quota__keyext *r = &v.e;
	uint32_t i;

	quota__put_uv(w, k->max_keys);
	quota__put_sv(w, k->max_age);
	quota__put_sv(w, k->newest);
	quota__put_uv(w, k->n);
	for (i = 0; i < k->n; i++) {
		uint32_t j = k->head + i;

		quota__key_view(a, &k->ring[j >= k->rcap ? j - k->rcap : j],
				&v);
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
		put_src(w, &v.src);
	}
}

/* The snapshot of a; without its key window (window false), the one of
 * an account whose window was never used. */
static int encode(const quota_account *a, bool window, void **out,
		  size_t *len)
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
	if (a->x->nholds &&
	    !(holds = quota__malloc(&ctx->mem, a->x->nholds * sizeof *holds)))
		goto fail;
	if (a->x->nvbills &&
	    !(vb = quota__malloc(&ctx->mem, a->x->nvbills * sizeof *vb)))
		goto fail;
	used = used_categories(a, keys, nkeys, window);

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
	for (i = n = 0; i < a->x->hold_tab_cap; i++)
		if (a->x->hold_tab[i])
			holds[n++] = a->x->hold_tab[i];
	if (n)
		qsort(holds, n, sizeof *holds, cmp_hold);
	quota__put_uv(&w, a->x->last_hold_id);
	quota__put_uv(&w, n);
	for (i = 0; i < n; i++) {
		quota__put_uv(&w, holds[i]->id);
		quota__put_sv(&w, holds[i]->deadline);
		put_src(&w, &holds[i]->box.src);
	}
	if (window) {
		put_keys(&w, a);
	} else {
		quota__put_uv(&w, 0); /* max_keys 0: never used */
		quota__put_sv(&w, 0);
		quota__put_sv(&w, 0);
		quota__put_uv(&w, 0);
	}
	/* The volume months last, sorted: a list of their own. */
	for (i = 0; i < a->x->nvbills; i++)
		vb[i] = &a->x->vbills[i];
	if (a->x->nvbills)
		qsort(vb, a->x->nvbills, sizeof *vb, cmp_vbill);
	quota__put_uv(&w, a->x->nvbills);
	for (i = 0; i < a->x->nvbills; i++) {
		quota__put_uv(&w, vb[i]->cat);
		quota__put_sv(&w, vb[i]->month);
		quota__put_sv(&w, vb[i]->units);
		quota__put_sv(&w, vb[i]->payg);
		quota__put_sv(&w, vb[i]->billed);
	}
	/* Minor 1, §7 pruning: the horizon and the retention setting. */
	quota__put_sv(&w, a->pruned_before);
	quota__put_sv(&w, a->x->retain_s);
	quota__put_uv(&w, a->x->retain_what);
	/* Minor 2, issue 15 (its own section): the gate bits (R25
	 * blocked, R27 receipts kept), the blocking reason ("" for none)
	 * and time (0 unless blocked). */
	quota__put_uv(&w, a->gate & (uint8_t)~QUOTA__GATE_RENEW);
	quota__put_str(&w, a->x->block_reason);
	quota__put_sv(&w, a->x->blocked_at);
	/* ------------------------------------------------ R26 time zones */
	/* Minor 3 (its own section, after minor 2's): the zone (name and
	 * the hash of its TZif bytes), or an empty name for a fixed
	 * offset.  A minor-2 snapshot ends before it. */
	quota__put_str(&w, a->x->zone ? a->x->zone->name : NULL);
	quota__put_u64(&w, a->x->zone ? a->x->zone->hash : 0);
	/* ------------------------------------------ end of R26 time zones */
	/* ---- Minor 4, R24 gift money (its own section): the
	 * payment order and flags, the gift sums (granted, spent, expired),
	 * then the grants with money left, soonest expiry first: (micros,
	 * expires_at).  The gift balance is their sum. ---- */
	{
		const quota__gifts *gs = quota__gifts_of(a);

		quota__put_uv(&w, (uint32_t)gs->order);
		quota__put_uv(&w, gs->flags);
		quota__put_sv(&w, gs->granted);
		quota__put_sv(&w, gs->spent);
		quota__put_sv(&w, gs->expired);
		quota__put_uv(&w, gs->n);
		for (i = 0; i < gs->n; i++) {
			quota__put_sv(&w, gs->v[i].micros);
			quota__put_sv(&w, gs->v[i].expires_at);
		}
	}
	/* ---- end of minor 4 ---- */
	/* Minor 5, issue 15 R23 (its own section, after minor 4's): the renewal marks
	 * and the packages bought from offers (renew.c). */
	quota__renew_encode(&w, a);
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

int quota_account_snapshot(const quota_account *a, void **out, size_t *len)
{
	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	/* §5, never guess: after an unknown store outcome memory may hold
	 * what the store does not (a batch's changes), and a snapshot of
	 * it stored as the truth would make it so. */
	if (a && a->unsynced)
		return quota__err(a->ctx, QUOTA_EUNSYNCED,
				  "account '%s': a store outcome is unknown; "
				  "re-synchronise it before taking its "
				  "snapshot",
				  a->id);
	return encode(a, true, out, len);
}

int quota__snapshot(const quota_account *a, void **out, size_t *len)
{
	return encode(a, true, out, len);
}

int quota__account_snapshot_state(const quota_account *a, void **out,
				  size_t *len)
{
	return encode(a, false, out, len);
}

void quota_free(quota_ctx *ctx, void *p)
{
	if (ctx && p)
		quota__free(&ctx->mem, p);
}
