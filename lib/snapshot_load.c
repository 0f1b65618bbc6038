/*
 * snapshot_load.c - decoding snapshots (quota_account_snapshot(3)):
 * quota_account_load, quota_account_reset and the detached decode and
 * swap they are made of.  The encoder, and why the format is canonical,
 * are in snapshot.c.
 *
 * Decoding never trusts the input: every count is checked against the
 * bytes left before anything is allocated for it, every value against
 * its range and every cross-reference (category, package, tariff)
 * against what exists, and the state is rebuilt through the calls and
 * helpers that own each piece, so the indexes and caches come out as
 * those build them.
 */
#include "snapshot_dec.h"

#include <string.h>

/* ----------------------------------------------------------- decoding */

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

/* A key of the window: a caller's (1 to 64 bytes of UTF-8) or a kept
 * receipt's (R27). */
static bool get_key(dec *d, char *out)
{
	size_t off, n = quota__get_str(&d->r, out, QUOTA_KEY_MAX);

	if (d->r.bad)
		return false;
	if (!n || (!quota__receipt_key_id(out) &&
		   !quota__utf8_valid(out, n, &off)))
		return bad(d);
	return true;
}

/* A source record into s (draws and paygs in d's scratch), checked to
 * add up: units = free + packages + payg, the lines sum to the totals. */
static bool get_src(dec *d, quota__src *s, bool gone_ok)
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
	s->day = quota__day_of(quota__local(a, s->at));
	s->month = quota__month_of_day(s->day);
	n = quota__get_uv(&d->r);
	if ((!gone_ok && n > a->npackages) || !fits(d, n, 2))
		return bad(d);
	/* A key record may also name packages pruned since (§7). */
	if (quota__grow(&d->ctx->mem, (void **)&d->draws, &d->cap_draws, n,
			sizeof *d->draws)) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	s->ndraws = (uint32_t)n;
	s->draws = d->draws;
	for (i = 0; i < n; i++) {
		uint64_t seq = quota__get_uv(&d->r);
		int64_t units = quota__get_sv(&d->r);
		quota_package *pk;

		if (d->r.bad || units < 0 || quota__add_ovf(sum, units, &sum))
			return bad(d);
		if (gone_ok && seq == QUOTA__SEQ_GONE) {
			pk = QUOTA__GONE;
		} else {
			if (seq >= a->npackages ||
			    !(a->packages[seq]->categories &
			      QUOTA_MASK(s->cat)))
				return bad(d);
			pk = a->packages[seq];
		}
		d->draws[i].pk = pk;
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
		if (failed(d, quota__cat_need(a, QUOTA_MASK(c))))
			return false;
		quota__cat_of(a, c)->tariff = t;
		t->used = true; /* §5: fixed from now on, as set_tariff does */
	}
	a->clock = quota__get_sv(&d->r);
	a->x->warn_before = quota__get_sv(&d->r);
	if (d->r.bad || (a->clock != INT64_MIN && !quota__time_ok(a->clock)) ||
	    a->x->warn_before < 0)
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
	a->x->balance = quota__get_sv(&d->r);
	a->x->credit_limit = quota__get_sv(&d->r);
	a->x->outstanding = quota__get_sv(&d->r);
	a->x->topped_up = quota__get_sv(&d->r);
	a->x->purchased = quota__get_sv(&d->r);
	a->x->billed = quota__get_sv(&d->r);
	a->x->nowed = (size_t)quota__get_uv_max(&d->r, UINT32_MAX);
	period = quota__get_uv(&d->r);
	a->x->minor_unit = quota__get_sv(&d->r);
	rounding = quota__get_uv(&d->r);
	a->x->settled_upto = quota__get_sv(&d->r);
	a->x->bill_seq = quota__get_uv(&d->r);
	/* money.c: suspended while bills are owed; what is owed is > 0. */
	if (d->r.bad || a->x->credit_limit < 0 || a->x->outstanding < 0 ||
	    a->x->topped_up < 0 || a->x->purchased < 0 ||
	    a->suspended != (a->x->nowed > 0) ||
	    (a->x->nowed == 0) != (a->x->outstanding == 0) ||
	    (period != QUOTA_PERIOD_HOUR && period != QUOTA_PERIOD_DAY) ||
	    a->x->minor_unit <= 0 || rounding > QUOTA_ROUND_DOWN ||
	    (a->x->settled_upto != INT64_MIN &&
	     (a->x->settled_upto < HOUR_MIN - 48 ||
	      a->x->settled_upto > HOUR_MAX + 48)))
		return bad(d);
	a->x->settle_period = (int)period;
	a->x->rounding = (int)rounding;
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
		/* read and ignored (snapshot.c writes 1): set up again by
		 * event tracking, from the units left */
		(void)armed;
		a->x->alerts[a->x->nalerts - 1].armed = true;
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

	a->x->last_hold_id = quota__get_uv(&d->r);
	n = quota__get_uv(&d->r);
	if (!fits(d, n, 12))
		return false;
	for (i = 0; i < n; i++) {
		uint64_t id = quota__get_uv(&d->r);
		int64_t deadline = quota__get_sv(&d->r), x;
		quota__src s;

		if (!get_src(d, &s, false))
			return false;
		if (id <= prev || !quota__time_ok(deadline) ||
		    quota__add_ovf(quota__held_of(a, s.cat), s.units, &x) ||
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
	a->x->keys.newest = newest;
	for (i = 0; i < n; i++) {
		quota__keyext *rec;
		uint64_t op, p_cat = 0, p_hold = 0, hold_id = 0;
		int64_t time, p_units = 0, p_at = 0, p_timeout = 0, p_used = 0;
		int64_t fee = 0;
		bool reversed = false;
		quota__src s;

		if (!get_key(d, key))
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
				if (!hold_id || hold_id > a->x->last_hold_id)
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
			if (!p_hold || p_hold > a->x->last_hold_id || p_used < 0 ||
			    fee < 0)
				return bad(d);
		} else {
			return bad(d);
		}
		if (!get_src(d, &s, true))
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
		quota__key_store(a, rec);
	}
	/* Nothing fell out of the window and the newest time is the one
	 * recorded: else the window was not one the calls could leave. */
	return (a->x->keys.n == n && a->x->keys.newest == newest) || bad(d);
}

/* Volume months, strictly ascending by (category, month). */
static bool get_vbills(dec *d)
{
	quota_account *a = d->a;
	uint64_t n, i;

	n = quota__get_uv(&d->r);
	if (!fits(d, n, 5))
		return false;
	if (n && quota__grow(&d->ctx->mem, (void **)&a->x->vbills,
			     &a->x->cap_vbills, (size_t)n, sizeof *a->x->vbills)) {
		d->rc = QUOTA_ENOMEM;
		return bad(d);
	}
	for (i = 0; i < n; i++) {
		quota__vbill *v = &a->x->vbills[i];
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
		a->x->nvbills = (size_t)i + 1;
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

	*minor = 0; /* read only after QUOTA_OK; set here for -O3's sake */
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

/* For stores: a snapshot checked as a load checks it first, not
 * loaded: its account id and sequence number (the body's first two
 * fields). */
int quota_snapshot_peek(quota_ctx *ctx, const void *snap, size_t len,
			char *id, uint64_t *seq)
{
	quota__rbuf body;
	uint8_t minor;
	int rc;

	if (seq)
		*seq = 0;
	if (id)
		*id = '\0';
	if (!snap || !id || !seq)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_snapshot_peek: NULL argument");
	if ((rc = open_snap(ctx, snap, len, &body, id, &minor)))
		return rc;
	*seq = quota__get_uv(&body); /* 0: before the account's first record */
	if (body.bad) {
		*seq = 0;
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "snapshot of account '%s': bad sequence "
				  "number",
				  id);
	}
	return QUOTA_OK;
}

/* Decode the body after the id into a fresh account. */
static int decode_body(quota_ctx *ctx, quota__rbuf *body, const char *id,
		       uint8_t minor, quota_account **fresh)
{
	quota_event_fn hook = ctx->hook;
	bool replaying = ctx->replaying;
	dec d;

	*fresh = NULL;
	memset(&d, 0, sizeof d);
	d.r = *body;
	d.ctx = ctx;
	d.a = quota__account_alloc(ctx, id);
	if (d.a && quota__ext_need(d.a)) { /* decoding writes it; trimmed */
		quota__account_free(d.a);
		d.a = NULL;
	}
	if (!d.a)
		return quota__err(ctx, QUOTA_ENOMEM,
				  "snapshot of account '%s': out of memory",
				  id);
	/* Rebuilding calls the setters: no event tracking, no events, and
	 * no records (§5: a snapshot is not a change). */
	ctx->hook = NULL;
	ctx->replaying = true;
	d.a->seq = quota__get_uv(&d.r);
	if (get_settings(&d) && get_money(&d) && get_packages(&d) &&
	    get_counters(&d) && get_ledger(&d) && get_holds(&d) &&
	    get_keys(&d) && get_vbills(&d) && (minor < 1 || quota__snap_get_pruning(&d)) &&
	    (minor < 2 || quota__snap_get_block(&d)) &&
	    (minor < 3 || quota__snap_get_zone(&d)) && (minor < 4 || quota__snap_get_gift(&d)) &&
	    (minor < 5 || quota__snap_get_renew(&d)) &&
	    d.r.off != d.r.n &&
	    minor <= SNAP_MINOR)
		d.r.bad = true; /* trailing bytes: only a newer minor adds */
	ctx->hook = hook;
	ctx->replaying = replaying;
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
	d.a->x->track_gen = 0; /* event tracking is set up at the next call */
	d.a->unsynced = false;
	quota__ext_trim(d.a);
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
	if ((rc = quota__account_room(ctx, id)) ||
	    (rc = decode_body(ctx, &body, id, minor, &a)))
		return rc;
	quota__account_register(ctx, a);
	*out = a;
	quota__ok(ctx);
	return QUOTA_OK;
}

void quota__account_swap(quota_account *live, quota_account *fresh)
{
	quota_account tmp = *live;
	uint32_t i;

	/* The ids (the same) stay where they are: a struct's copy leaves its
	 * flexible array alone. */
	*live = *fresh;
	*fresh = tmp;
	for (i = 0; i < live->npackages; i++)
		live->packages[i]->account = live;
	for (i = 0; i < fresh->npackages; i++)
		fresh->packages[i]->account = fresh;
	quota__account_free(fresh);
}

/* A snapshot of a (by its id) decoded into a new account *fresh. */
static int decode_of(quota_account *a, const void *snap, size_t len,
		     quota_account **fresh)
{
	char id[QUOTA_ID_MAX + 1];
	quota__rbuf body;
	uint8_t minor;
	int rc;

	*fresh = NULL;
	if ((rc = open_snap(a->ctx, snap, len, &body, id, &minor)))
		return rc;
	if (strcmp(id, a->id) != 0)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': snapshot is of account '%s'",
				  a->id, id);
	return decode_body(a->ctx, &body, id, minor, fresh);
}

int quota_account_reset(quota_account *a, const void *snap, size_t len)
{
	quota_account *fresh;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (!snap && len == 0) {
		/* Back to before its first record (§5): a store that holds no
		 * snapshot of the account re-synchronises it from record 1. */
		if (!(fresh = quota__account_alloc(a->ctx, a->id)))
			return quota__err(a->ctx, QUOTA_ENOMEM,
					  "account '%s': out of memory", a->id);
		quota__account_swap(a, fresh);
		a->unsynced = false;
		quota__ok(a->ctx);
		return QUOTA_OK;
	}
	if (!snap)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_account_reset: NULL snapshot");
	if ((rc = decode_of(a, snap, len, &fresh)))
		return rc;
	quota__account_swap(a, fresh);
	a->unsynced = false;
	quota__ok(a->ctx);
	return QUOTA_OK;
}

int quota__account_reset_state(quota_account *a, const void *snap,
			       size_t len, const quota__keymark *m)
{
	quota_account *fresh;
	int rc;

	if ((rc = decode_of(a, snap, len, &fresh)))
		return rc;
	if ((rc = quota__ext_need(fresh))) { /* the window moves into it */
		quota__account_free(fresh);
		return rc;
	}
	/* The window back as m found it, into the new state. */
	quota__keys_undo(a, m);
	quota__keys_move(a, fresh);
	quota__account_swap(a, fresh);
	a->unsynced = false;
	quota__ok(a->ctx);
	return QUOTA_OK;
}
