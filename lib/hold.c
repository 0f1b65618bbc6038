/*
 * hold.c - charge on success (R10): reserve units at submit time, commit
 * what was delivered, release what failed, expire what was never resolved;
 * and reversal of committed charges (R12).
 *
 * A reservation is a charge applied as a hold: the same plan (charge.c),
 * the same counters and package draws, so held units count against caps
 * and no other charge can take them.  Resolving it gives back what was not
 * used: pay-as-you-go first, then packages in reverse draw order, then the
 * free allowance.
 *
 * The common pair allocates nothing: quota_reserve expands the charge fast
 * path (charge_fast.h) straight into a recycled hold, and quota_commit of
 * a whole hold of one draw and one payg line books it in the ledger's
 * cached hour and writes its receipt without the general loops.
 */
#include "charge_fast.h"
#include "journal.h"

#include <string.h>

/* ------------------------------------------------------- hold id map */

/* Scattered: ids come in sequence, and in consecutive slots open holds
 * would make one run that every removal scans to its end. */
static inline uint32_t hslot(uint64_t id, uint32_t cap)
{
	return (uint32_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) &
	       (cap - 1);
}

/* The map slot of hold id, or UINT32_MAX. */
static uint32_t hold_slot(const quota_account *a, uint64_t id)
{
	uint32_t i, cap = a->hold_tab_cap;

	if (!cap)
		return UINT32_MAX;
	for (i = hslot(id, cap); a->hold_tab[i]; i = (i + 1) & (cap - 1))
		if (a->hold_tab[i]->id == id)
			return i;
	return UINT32_MAX;
}

static quota__hold *hold_get(const quota_account *a, uint64_t id)
{
	uint32_t i = hold_slot(a, id);

	return i == UINT32_MAX ? NULL : a->hold_tab[i];
}

/* Room for one more open hold in the map. */
static int hold_reserve(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__hold **nt;
	uint32_t ncap, i;

	if ((a->nholds + 1) * 2 <= a->hold_tab_cap)
		return QUOTA_OK;
	if (a->hold_tab_cap > UINT32_MAX / 4)
		return QUOTA_ENOMEM;
	ncap = a->hold_tab_cap ? a->hold_tab_cap * 2 : 16;
	nt = quota__calloc(mem, ncap, sizeof *nt);
	if (!nt)
		return QUOTA_ENOMEM;
	for (i = 0; i < a->hold_tab_cap; i++) {
		quota__hold *h = a->hold_tab[i];
		uint32_t j;

		if (!h)
			continue;
		for (j = hslot(h->id, ncap); nt[j]; j = (j + 1) & (ncap - 1))
			;
		nt[j] = h;
	}
	quota__free(mem, a->hold_tab);
	a->hold_tab = nt;
	a->hold_tab_cap = ncap;
	return QUOTA_OK;
}

static inline void hold_insert(quota_account *a, quota__hold *h)
{
	uint32_t i, cap = a->hold_tab_cap;

	for (i = hslot(h->id, cap); a->hold_tab[i]; i = (i + 1) & (cap - 1))
		;
	a->hold_tab[i] = h;
	a->nholds++;
	h->held = h->box.src.units;
	a->held[h->box.src.cat] += h->held;
}

/* Close a hold found at map slot i: out of the map (backward shift),
 * recycled or freed. */
static inline void hold_remove_at(quota_account *a, quota__hold *h,
				  uint32_t i)
{
	uint32_t cap = a->hold_tab_cap, mask = cap - 1, j;

	a->hold_tab[i] = NULL;
	for (j = (i + 1) & mask; a->hold_tab[j]; j = (j + 1) & mask) {
		uint32_t k = hslot(a->hold_tab[j]->id, cap);

		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			a->hold_tab[i] = a->hold_tab[j];
			a->hold_tab[j] = NULL;
			i = j;
		}
	}
	a->nholds--;
	a->held[h->box.src.cat] -= h->held;
	quota__box_drop(&a->ctx->mem, &a->hold_free, &h->box);
}

static void hold_remove(quota_account *a, quota__hold *h)
{
	hold_remove_at(a, h, hold_slot(a, h->id));
}

/* Holds keep their sources in boxes (source.c); small ones are recycled. */
static quota__hold *hold_block(quota_account *a, const quota__src *src)
{
	return (quota__hold *)(void *)quota__box_new(&a->ctx->mem,
						     &a->hold_free,
						     sizeof(quota__hold), src);
}

void quota__holds_free(quota_account *a)
{
	uint32_t i;

	for (i = 0; i < a->hold_tab_cap; i++)
		quota__free(&a->ctx->mem, a->hold_tab[i]);
	quota__box_free_list(&a->ctx->mem, &a->hold_free);
	quota__free(&a->ctx->mem, a->hold_tab);
	a->hold_tab = NULL;
	a->nholds = 0;
	a->hold_tab_cap = 0;
}

/* ------------------------------------------------------------ helpers */

/* Package units back (a release, a partial commit, a reversal). */
static void restore(quota_account *a, quota_package *pk, int64_t units,
		    bool track)
{
	int64_t before = pk->remaining;

	if (!units)
		return;
	pk->remaining += units;
	if (before == 0)
		quota__package_refresh(a, pk); /* usable again: R3 index */
	if (track)
		quota__track_units(a, pk, before);
}

/*
 * Give back `ret` units of a hold's source s, in place: pay-as-you-go from
 * the highest tier first, then packages in reverse draw order, then free.
 * s keeps what stays charged.  The counters of s's period drop too.
 */
static void give_back(quota_account *a, quota__src *s, int64_t ret,
		      bool track)
{
	int64_t left = ret, free_back;
	uint32_t i;

	if (!ret)
		return; /* a full commit: nothing goes back */
	for (i = s->npayg; i-- > 0 && left;) {
		quota__payg *l = &s->paygs[i];
		int64_t n = l->units < left ? l->units : left;

		l->units -= n;
		l->cost -= n * l->price; /* part of l->cost: cannot overflow */
		s->payg -= n;
		s->cost -= n * l->price;
		left -= n;
	}
	for (i = s->ndraws; i-- > 0 && left;) {
		quota__draw *d = &s->draws[i];
		int64_t n = d->units < left ? d->units : left;

		restore(a, d->pk, n, track);
		d->units -= n;
		s->pkg -= n;
		left -= n;
	}
	free_back = s->free < left ? s->free : left;
	s->free -= free_back;
	s->units -= ret;
	quota__counter_uncharge(a, s->cat, s->day, s->month, ret, free_back);
}

/* The pay-as-you-go cost of s that stays charged once give_back returns
 * `ret` units: what a commit books, so what its overflow check is on. */
static int64_t kept_cost(const quota__src *s, int64_t ret)
{
	int64_t cost = s->cost;
	uint32_t i;

	for (i = s->npayg; i-- > 0 && ret;) {
		const quota__payg *l = &s->paygs[i];
		int64_t n = l->units < ret ? l->units : ret;

		cost -= n * l->price; /* part of l->cost: cannot overflow */
		ret -= n;
	}
	return cost;
}

/* ------------------------------------------------------------ reserve */

/* quota__receipt_fill for a source in a small box (at most one draw and
 * one payg line), without the loops: the commit fast path's receipt.
 * Every value is read from s when stored, which keeps few registers live. */
static inline void small_receipt(quota_receipt *r, const quota__src *s,
				 int32_t kind, uint64_t id)
{
	uint32_t nl = 0;

	if (s->free)
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_FREE, 0, NULL,
				 NULL, s->free, 0, 0);
	if (s->pkg) /* one draw of s->pkg units */
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_PACKAGE, 0,
				 s->draws[0].pk, s->draws[0].pk->id, s->pkg, 0,
				 0);
	if (s->payg) /* one payg line of s->payg units */
		quota__fast_line(&r->lines[nl++], QUOTA_SOURCE_PAYG,
				 s->paygs[0].tier, NULL, NULL, s->payg,
				 s->paygs[0].price, s->cost);
	r->nlines = r->lines_total = nl;
	quota__receipt_head(r, s, kind, id);
}

__attribute__((noinline, cold)) static int
reserve_slow(quota_account *a, const quota_usage *u, int64_t timeout_s,
	     quota_receipt *r, uint64_t *hold_id)
{
	quota__plan pl;
	int64_t deadline = 0;
	int rc;

	if (hold_id)
		*hold_id = 0;
	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	if (!hold_id)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "quota_reserve: NULL "
						 "hold_id"));
	if (timeout_s <= 0)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': hold timeout "
						 "must be > 0", a->id));
	if (u && u->key) {
		const quota__keyrec *k;

		if ((rc = quota__check_key(a->ctx, u->key)))
			return quota__fail(r, rc);
		k = quota__key_find(a, u->key);
		if (k) {
			bool same = k->op == QUOTA__OP_RESERVE &&
				    k->p_cat == u->category &&
				    k->p_units == u->units &&
				    k->p_at == u->at && k->p_timeout == timeout_s;

			rc = quota__key_replay(a, k, same, r);
			if (!rc)
				*hold_id = k->hold_id;
			return rc;
		}
	}
	/* Arguments first: a bad deadline is EINVAL whatever the plan says. */
	if (u && quota__time_ok(u->at) &&
	    (quota__add_ovf(u->at, timeout_s, &deadline) ||
	     !quota__time_ok(deadline)))
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': hold deadline "
						 "out of range", a->id));
	if ((rc = quota__plan_usage(a, u, &pl)))
		return quota__fail(r, rc);
	return quota__reserve_planned(a, u, timeout_s, &pl, r, hold_id);
}

/* A planned reservation from prepare on: room, the record (§5), apply,
 * events.  reserve_slow and replay (the plan from a record) come here. */
int quota__reserve_planned(quota_account *a, const quota_usage *u,
			   int64_t timeout_s, quota__plan *pl,
			   quota_receipt *r, uint64_t *hold_id)
{
	quota__keyrec *rec = NULL;
	quota__hold *h = NULL;
	quota__wbuf *w;
	int rc;

	if ((rc = quota__plan_prepare(a, pl)))
		return quota__fail(r, rc);
	if (hold_reserve(a) || !(h = hold_block(a, &pl->s)))
		return quota__fail(r, quota__nomem(a));
	if (u->key && (quota__key_reserve(a) ||
		       !(rec = quota__key_new(a, u->key, &h->box.src)))) {
		rc = quota__nomem(a);
		goto refused;
	}
	if ((rc = quota__rec_begin(a->ctx, a, QUOTA__R_RESERVE, &w)))
		goto refused;
	if (w) {
		quota__rec_planned(w, QUOTA__R_RESERVE, u, timeout_s, &pl->s);
		if ((rc = quota__rec_commit(a->ctx, a, w)))
			goto refused;
	}

	/* Apply. */
	quota__plan_apply(a, pl);
	h->id = ++a->last_hold_id;
	h->deadline = u->at + timeout_s; /* checked by the caller */
	hold_insert(a, h);
	if (rec) {
		quota__key_usage(rec, QUOTA__OP_RESERVE, u);
		rec->hold_id = h->id;
		rec->p_timeout = timeout_s;
		quota__key_store(a, rec);
	}
	quota__receipt_fill(r, &h->box.src, QUOTA_RECEIPT_RESERVE);
	if (r)
		r->hold_id = h->id;
	*hold_id = h->id;
	quota__ok(a->ctx);
	quota__events_flush(a);
	return QUOTA_OK;
refused:
	if (rec)
		quota__key_unused(a, rec);
	quota__box_drop(&a->ctx->mem, &a->hold_free, &h->box);
	return quota__fail(r, rc);
}

/*
 * The common case, kept apart so it needs no big stack frame: no key, no
 * hook, room for the hold and a recycled block; the charge fast path plans
 * and applies it.  1: done, 0: take reserve_slow, < 0: the store refused
 * its record.  journal (a constant) is ctx->store_on: the copy without a
 * store has no call in it (quota_reserve), the one with a store is out of
 * line (reserve_journaled).
 */
static inline __attribute__((always_inline)) int
reserve_fast(quota_account *a, const quota_usage *u, int64_t timeout_s,
	     quota_receipt *r, uint64_t *hold_id, const bool journal)
{
	int64_t deadline;
	quota__hold *f;
	int rc;

	/* Room for the hold and a recycled block; the charge fast path checks
	 * the key, the hook and the time. */
	if (!a || !u || !hold_id || timeout_s <= 0 || !a->hold_free ||
	    (a->nholds + 1) * 2 > a->hold_tab_cap ||
	    quota__add_ovf(u->at, timeout_s, &deadline) ||
	    !quota__time_ok(deadline))
		return 0;
	f = (quota__hold *)(void *)a->hold_free;
	rc = quota__fast(a, u, r, QUOTA__FAST_HOLD, &f->box.src, timeout_s,
			 journal);
	if (rc <= 0)
		return rc;
	a->hold_free = f->box.next_free;
	f->id = ++a->last_hold_id;
	f->deadline = deadline;
	hold_insert(a, f);
	if (r)
		r->hold_id = f->id;
	*hold_id = f->id;
	return 1;
}

/* A reservation with a store (§5). */
static __attribute__((noinline)) int
reserve_journaled(quota_account *a, const quota_usage *u, int64_t timeout_s,
		  quota_receipt *r, uint64_t *hold_id)
{
	int rc = reserve_fast(a, u, timeout_s, r, hold_id, true);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0) {
		*hold_id = 0;
		return quota__fail(r, rc);
	}
	return reserve_slow(a, u, timeout_s, r, hold_id);
}

int quota_reserve(quota_account *a, const quota_usage *u, int64_t timeout_s,
		  quota_receipt *r, uint64_t *hold_id)
{
	if (a && a->ctx->store_on)
		return reserve_journaled(a, u, timeout_s, r, hold_id);
	if (reserve_fast(a, u, timeout_s, r, hold_id, false))
		return QUOTA_OK;
	return reserve_slow(a, u, timeout_s, r, hold_id);
}

/* ------------------------------------------------- commit and release */

/* What releasing hold id would cost in failure fees now (replay's check
 * of a release record). */
int quota__release_fee(const quota_account *a, uint64_t id, int64_t *fee)
{
	const quota__hold *h = hold_get(a, id);
	const quota_tariff *t;

	*fee = 0;
	if (!h)
		return QUOTA_ENOTFOUND;
	t = a->tariff[h->box.src.cat];
	if (t && t->failure_fee &&
	    quota__mul_ovf(t->failure_fee, h->box.src.units, fee))
		return QUOTA_EOVERFLOW;
	return QUOTA_OK;
}

/* Shared by commit (used >= 0, no fee) and release (used = 0, fee).
 * fee_in: replay's recorded fee (§5: a record is not priced again), or
 * NULL to price it from the tariff. */
int quota__resolve(quota_account *a, uint64_t id, int64_t used,
		   const char *key, quota_receipt *r, bool release,
		   const int64_t *fee_in)
{
	quota__keyrec *rec = NULL;
	const quota_tariff *t;
	quota__hold *h;
	int64_t fee = 0;
	bool track;
	int rc;

	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	if ((rc = quota__check_key(a->ctx, key)))
		return quota__fail(r, rc);
	if (key) {
		const quota__keyrec *k = quota__key_find(a, key);

		if (k)
			return quota__key_replay(a, k,
				      k->op == (release ? QUOTA__OP_RELEASE
							: QUOTA__OP_COMMIT) &&
					      k->p_hold == id &&
					      (release || k->p_used == used),
				      r);
	}
	if (id == 0 || id > a->last_hold_id)
		return quota__fail(r, quota__err(a->ctx, QUOTA_ENOTFOUND,
						 "account '%s': no hold %llu",
						 a->id,
						 (unsigned long long)id));
	h = hold_get(a, id);
	if (!h)
		return quota__fail(r, quota__err(a->ctx, QUOTA_ERESOLVED,
						 "account '%s': hold %llu was "
						 "already committed, released "
						 "or expired", a->id,
						 (unsigned long long)id));
	if (used < 0 || used > h->box.src.units)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': hold %llu "
						 "holds %lld units, cannot "
						 "commit %lld", a->id,
						 (unsigned long long)id,
						 (long long)h->box.src.units,
						 (long long)used));
	t = a->tariff[h->box.src.cat];
	if (fee_in)
		fee = release ? *fee_in : 0;
	else if (release && t && t->failure_fee &&
		 quota__mul_ovf(t->failure_fee, h->box.src.units, &fee))
		return quota__fail(r, quota__err(a->ctx, QUOTA_EOVERFLOW,
						 "account '%s': failure fee "
						 "overflows", a->id));
	if ((used < h->box.src.units && quota__counter_prepare(a, h->box.src.cat)) ||
	    quota__events_reserve(a))
		goto nomem;
	/* R17: a commit books what it charges, a release its fee; the
	 * hour's total is checked on that (a commit of 0 units books 0). */
	if ((!release || fee) &&
	    (rc = quota__ledger_prepare(
		     a, &h->box.src,
		     release ? 0
			     : kept_cost(&h->box.src, h->box.src.units - used),
		     fee)))
		return quota__fail(r, rc);
	if (key && (quota__key_reserve(a) ||
		    !(rec = quota__key_new(a, key, &h->box.src))))
		goto nomem;
	if ((rc = quota__rec_resolve(a, release ? QUOTA__R_RELEASE
					       : QUOTA__R_COMMIT,
				     id, used, key, fee)))
		goto refused;

	/* Apply. */
	track = quota__track(a);
	if (release) {
		/* The receipt says what went back: the whole hold. */
		quota__receipt_fill(r, &h->box.src, QUOTA_RECEIPT_RELEASE);
		if (r) {
			r->hold_id = id;
			r->fee_micros = fee;
		}
		int64_t released = h->box.src.units;

		give_back(a, &h->box.src, released, track);
		if (fee) /* give_back left the source empty: the fee alone */
			quota__ledger_apply(a, &h->box.src, 1, fee, released);
	} else {
		give_back(a, &h->box.src, h->box.src.units - used, track);
		quota__ledger_apply(a, &h->box.src, 1, 0, 0);
		quota__receipt_fill(r, &h->box.src, QUOTA_RECEIPT_COMMIT);
		if (r)
			r->hold_id = id;
		if (rec)
			quota__src_assign(&rec->box.src, &h->box.src);
	}
	if (rec) {
		rec->op = release ? QUOTA__OP_RELEASE : QUOTA__OP_COMMIT;
		rec->kind = release ? QUOTA_RECEIPT_RELEASE : QUOTA_RECEIPT_COMMIT;
		rec->hold_id = id;
		rec->fee = fee;
		rec->p_hold = id;
		rec->p_used = used;
		rec->time = a->clock;
		quota__key_store(a, rec);
	}
	hold_remove(a, h);
	quota__ok(a->ctx);
	quota__events_flush(a);
	return QUOTA_OK;
nomem:
	return quota__fail(r, quota__nomem(a));
refused:
	if (rec)
		quota__key_unused(a, rec);
	return quota__fail(r, rc);
}

/*
 * The common case apart: a full commit, no key, no hook, of a hold in a
 * small box (at most one draw and one payg line: see source.c) whose
 * charge falls in its category's cached ledger hour.  1: done, 0: take
 * the general path, < 0: the store refused its record.  journal as in
 * reserve_fast.
 */
static inline __attribute__((always_inline)) int
commit_fast(quota_account *a, uint64_t hold_id, int64_t units_used,
	    quota_receipt *receipt, const bool journal)
{
	const quota__src *s;
	quota__hold *h;
	quota__cur *c;
	uint32_t slot;

	if (a->ctx->hook || (slot = hold_slot(a, hold_id)) == UINT32_MAX)
		return 0;
	h = a->hold_tab[slot];
	s = &h->box.src;
	if (units_used != s->units || !h->box.small ||
	    !(c = a->cur[s->cat]) ||
	    !quota__ledger_hit(c, s->at, s->pkg ? s->draws[0].pk : NULL,
			       s->pkg, s->cost))
		return 0;
	/* §5: the general commit's record, before anything moves. */
	if (journal) {
		int rc = quota__rec_resolve(a, QUOTA__R_COMMIT, hold_id,
					    units_used, NULL, 0);

		if (rc)
			return rc;
	}
	if (receipt)
		small_receipt(receipt, s, QUOTA_RECEIPT_COMMIT, hold_id);
	quota__ledger_add(c, s->free, s->pkg, s->payg, s->cost);
	hold_remove_at(a, h, slot);
	a->ctx->errmsg[0] = '\0';
	return 1;
}

/* A commit with a store (§5). */
static __attribute__((noinline)) int
commit_journaled(quota_account *a, uint64_t hold_id, int64_t units_used,
		 const char *key, quota_receipt *receipt)
{
	int rc = key ? 0 : commit_fast(a, hold_id, units_used, receipt, true);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0)
		return quota__fail(receipt, rc);
	return quota__resolve(a, hold_id, units_used, key, receipt, false,
			      NULL);
}

int quota_commit(quota_account *a, uint64_t hold_id, int64_t units_used,
		 const char *key, quota_receipt *receipt)
{
	if (a && a->ctx->store_on)
		return commit_journaled(a, hold_id, units_used, key, receipt);
	if (a && !key && commit_fast(a, hold_id, units_used, receipt, false))
		return QUOTA_OK;
	return quota__resolve(a, hold_id, units_used, key, receipt, false,
			      NULL);
}

int quota_release(quota_account *a, uint64_t hold_id, const char *key,
		  quota_receipt *receipt)
{
	return quota__resolve(a, hold_id, 0, key, receipt, true, NULL);
}

/* ------------------------------------------------------------- expiry */

/* The holds a tick at now releases: those past their deadline. */
static uint32_t holds_due(const quota_account *a, int64_t now,
			  quota__wbuf *w)
{
	uint32_t i, n = 0;

	for (i = 0; i < a->hold_tab_cap; i++) {
		const quota__hold *h = a->hold_tab[i];

		if (h && h->deadline <= now) {
			n++;
			if (w)
				quota__put_uv(w, h->id);
		}
	}
	return n;
}

/*
 * A tick's record (§5): the time and the ids of the holds it releases, in
 * id order of the map walk.  A tick that changes nothing (no hold due, the
 * clock already there) writes none.
 */
static int tick_journal(quota_account *a, int64_t now)
{
	quota__wbuf *w;
	uint32_t n;
	int rc;

	if (!a->ctx->store_on || a->ctx->replaying)
		return QUOTA_OK;
	n = holds_due(a, now, NULL);
	if (!n && now <= a->clock)
		return QUOTA_OK;
	if ((rc = quota__rec_begin(a->ctx, a, QUOTA__R_TICK, &w)) || !w)
		return rc;
	quota__put_sv(w, now);
	quota__put_uv(w, n);
	holds_due(a, now, w);
	return quota__rec_commit(a->ctx, a, w);
}

/* Replay's check of a tick record: the holds it names are exactly the
 * holds due at now (ids read from r). */
int quota__tick_check(const quota_account *a, int64_t now, uint32_t n,
		      quota__rbuf *r)
{
	uint32_t i;

	if (holds_due(a, now, NULL) != n)
		return QUOTA_ECORRUPT;
	for (i = 0; i < n; i++) {
		const quota__hold *h = hold_get(a, quota__get_uv(r));

		if (r->bad || !h || h->deadline > now)
			return QUOTA_ECORRUPT;
	}
	return QUOTA_OK;
}

/*
 * A hold that timed out gave its units back at its deadline, which the
 * tick only gets to after moving the clock.  So that the clock step's
 * events report what each package held when they happened (R21), note on
 * each package the units timed-out holds give back to it before its
 * expiry warning and before its expiry; quota__clock adds them to those
 * events.  A deadline at or after the expiry gives them back to an
 * expired package: they do not count.
 */
static void mark_back(quota_account *a, int64_t now)
{
	uint32_t i, j;

	for (i = 0; i < a->hold_tab_cap; i++) {
		const quota__hold *h = a->hold_tab[i];

		if (!h || h->deadline > now)
			continue;
		for (j = 0; j < h->box.src.ndraws; j++) {
			quota_package *pk = h->box.src.draws[j].pk;
			int64_t n = h->box.src.draws[j].units;

			if (h->deadline < pk->expires_at)
				pk->back_exp += n;
			if (a->warn_before > 0 &&
			    h->deadline < pk->expires_at - a->warn_before)
				pk->back_warn += n;
		}
	}
}

int64_t quota_account_tick(quota_account *a, int64_t now)
{
	int64_t released = 0;
	bool track;
	uint32_t i;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (!quota__time_ok(now))
		return quota__err(a->ctx, QUOTA_EINVAL, "time out of range");
	if (quota__events_reserve(a))
		return quota__nomem(a);
	if ((rc = tick_journal(a, now)))
		return rc;
	track = quota__track(a);
	if (track) {
		mark_back(a, now);
		quota__clock(a, now);
	} else if (now > a->clock) {
		a->clock = now;
	}
	/*
	 * Unresolved holds past their deadline go back, without a fee, in
	 * map order.  Removing one shifts later holds of its run back into
	 * its slot, so the slot is looked at again; only a run that wraps
	 * round the end brings back holds already kept, which stay kept.
	 */
	for (i = 0; i < a->hold_tab_cap; i++) {
		quota__hold *h;

		while ((h = a->hold_tab[i]) && h->deadline <= now) {
			uint32_t j;

			for (j = 0; j < h->box.src.ndraws; j++) /* mark_back */
				h->box.src.draws[j].pk->back_warn =
					h->box.src.draws[j].pk->back_exp = 0;
			give_back(a, &h->box.src, h->box.src.units, track);
			hold_remove_at(a, h, i);
			released++;
		}
	}
	quota__ok(a->ctx);
	quota__events_flush(a);
	return released;
}

int64_t quota_ctx_tick(quota_ctx *ctx, int64_t now)
{
	int64_t total = 0, n;
	size_t i;

	if (!ctx)
		return QUOTA_EINVAL;
	if (!quota__time_ok(now))
		return quota__err(ctx, QUOTA_EINVAL, "time out of range");
	/* All or nothing: the only thing a tick can run out of is event room,
	 * so get it for every account before any of them moves. */
	for (i = 0; i < ctx->naccounts; i++)
		if (quota__events_reserve(ctx->accounts[i]))
			return quota__err(ctx, QUOTA_ENOMEM,
					  "quota_ctx_tick: out of memory");
	for (i = 0; i < ctx->naccounts; i++) {
		n = quota_account_tick(ctx->accounts[i], now);
		/* Without a store this cannot fail (room was reserved
		 * above); with one, each account's tick is its own record
		 * and the first the store refuses stops the walk. */
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

int64_t quota_account_held(const quota_account *a, uint32_t category)
{
	int64_t sum = 0;
	uint32_t c;
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (category != QUOTA_ALL) {
		if ((rc = quota__check_category(a->ctx, category)))
			return rc;
		return a->held[category];
	}
	for (c = 0; c < a->ctx->ncategories; c++)
		sum += a->held[c];
	return sum;
}

uint32_t quota_account_hold_count(const quota_account *a)
{
	return a ? (uint32_t)a->nholds : 0;
}

int quota_tariff_set_failure_fee(quota_tariff *t, int64_t micros_per_unit)
{
	int rc;

	if (!t)
		return QUOTA_EINVAL;
	if ((rc = quota__tariff_unused(t)))
		return rc;
	if (micros_per_unit < 0)
		return quota__err(t->ctx, QUOTA_EINVAL,
				  "tariff '%s': failure fee must be >= 0",
				  t->name);
	QUOTA__JOURNAL(t->ctx, NULL, QUOTA__R_TARIFF_FAILURE_FEE,
		       quota__put_str(jw, t->name);
		       quota__put_sv(jw, micros_per_unit));
	t->failure_fee = micros_per_unit;
	quota__ok(t->ctx);
	return QUOTA_OK;
}

/* ----------------------------------------------------------- reversal */

int quota_reverse(quota_account *a, const char *key, int64_t at,
		  quota_receipt *r)
{
	quota__keyrec *k;
	quota__wbuf *w;
	int64_t forfeited = 0;
	bool track;
	uint32_t i;
	int rc;

	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	if (!key)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "quota_reverse: NULL key"));
	if ((rc = quota__check_key(a->ctx, key)))
		return quota__fail(r, rc);
	if (!quota__time_ok(at))
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': time out of "
						 "range", a->id));
	k = quota__key_find(a, key);
	if (!k)
		return quota__fail(r, quota__err(a->ctx, QUOTA_ENOTFOUND,
						 "account '%s': no charge with "
						 "key '%s' (or it left the key "
						 "window)", a->id, key));
	if (k->op != QUOTA__OP_CHARGE && k->op != QUOTA__OP_COMMIT)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': key '%s' is "
						 "not a committed charge",
						 a->id, key));
	if (k->reversed)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EREVERSED,
						 "account '%s': charge '%s' "
						 "was already reversed", a->id,
						 key));
	if (quota__counter_prepare(a, k->box.src.cat) || quota__events_reserve(a))
		return quota__fail(r, quota__nomem(a));
	if ((rc = quota__ledger_prepare(a, &k->box.src, 0, 0)))
		return quota__fail(r, rc);
	if ((rc = quota__rec_begin(a->ctx, a, QUOTA__R_REVERSE, &w)))
		return quota__fail(r, rc);
	if (w) {
		quota__put_str(w, key);
		quota__put_sv(w, at);
		if ((rc = quota__rec_commit(a->ctx, a, w)))
			return quota__fail(r, rc);
	}

	/* Apply: R12, expired quota is never restored. */
	track = quota__track(a);
	for (i = 0; i < k->box.src.ndraws; i++) {
		const quota__draw *d = &k->box.src.draws[i];

		if (at < d->pk->expires_at)
			restore(a, d->pk, d->units, track);
		else
			forfeited += d->units;
	}
	quota__counter_uncharge(a, k->box.src.cat, k->box.src.day, k->box.src.month,
				k->box.src.units, k->box.src.free);
	/* R12, R17: the charge leaves the ledger; if its period was settled,
	 * the next bill credits it. */
	quota__ledger_apply(a, &k->box.src, -1, 0, 0);
	k->reversed = true;
	quota__receipt_fill(r, &k->box.src, QUOTA_RECEIPT_REVERSAL);
	if (r)
		r->forfeited_units = forfeited;
	quota__ok(a->ctx);
	quota__events_flush(a);
	return QUOTA_OK;
}

/* ---------------------------------------------------------- snapshots */

/* Open hold id with deadline and sources src in a fresh account
 * (snapshot.c); its units count as held.  QUOTA_ECORRUPT for an id in
 * use or beyond the last one given out. */
int quota__hold_restore(quota_account *a, uint64_t id, int64_t deadline,
			const quota__src *src)
{
	quota__hold *h;

	if (id == 0 || id > a->last_hold_id || hold_get(a, id))
		return QUOTA_ECORRUPT;
	if (hold_reserve(a) || !(h = hold_block(a, src)))
		return QUOTA_ENOMEM;
	h->id = id;
	h->deadline = deadline;
	hold_insert(a, h);
	return QUOTA_OK;
}
