/*
 * hold.c - charge on success (R10): reserve units at submit time, commit
 * what was delivered, release what failed; the hold map and the give-back
 * that the tick (hold_expiry.c) expires what was never resolved through
 * and reversal (reverse.c) restores units through.
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
	uint32_t i, cap = a->x->hold_tab_cap;

	if (!cap)
		return UINT32_MAX;
	for (i = hslot(id, cap); a->x->hold_tab[i]; i = (i + 1) & (cap - 1))
		if (a->x->hold_tab[i]->id == id)
			return i;
	return UINT32_MAX;
}

static quota__hold *hold_get(const quota_account *a, uint64_t id)
{
	uint32_t i = hold_slot(a, id);

	return i == UINT32_MAX ? NULL : a->x->hold_tab[i];
}

/* Room for one more open hold in the map. */
static int hold_reserve(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__hold **nt;
	uint32_t ncap, i;

	if ((a->x->nholds + 1) * 2 <= a->x->hold_tab_cap)
		return QUOTA_OK;
	if (a->x->hold_tab_cap > UINT32_MAX / 4)
		return QUOTA_ENOMEM;
	ncap = a->x->hold_tab_cap ? a->x->hold_tab_cap * 2 : 16;
	nt = quota__calloc(mem, ncap, sizeof *nt);
	if (!nt)
		return QUOTA_ENOMEM;
	for (i = 0; i < a->x->hold_tab_cap; i++) {
		quota__hold *h = a->x->hold_tab[i];
		uint32_t j;

		if (!h)
			continue;
		for (j = hslot(h->id, ncap); nt[j]; j = (j + 1) & (ncap - 1))
			;
		nt[j] = h;
	}
	quota__free(mem, a->x->hold_tab);
	a->x->hold_tab = nt;
	a->x->hold_tab_cap = ncap;
	return QUOTA_OK;
}

static inline void hold_insert(quota_account *a, quota__hold *h)
{
	uint32_t i, cap = a->x->hold_tab_cap;

	for (i = hslot(h->id, cap); a->x->hold_tab[i]; i = (i + 1) & (cap - 1))
		;
	a->x->hold_tab[i] = h;
	a->x->nholds++;
	h->held = h->box.src.units;
	quota__cat_of(a, h->box.src.cat)->held += h->held;
}

/* Close a hold found at map slot i: out of the map (backward shift),
 * recycled or freed. */
static inline void hold_remove_at(quota_account *a, quota__hold *h,
				  uint32_t i)
{
	uint32_t cap = a->x->hold_tab_cap, mask = cap - 1, j;

	a->x->hold_tab[i] = NULL;
	for (j = (i + 1) & mask; a->x->hold_tab[j]; j = (j + 1) & mask) {
		uint32_t k = hslot(a->x->hold_tab[j]->id, cap);

		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			a->x->hold_tab[i] = a->x->hold_tab[j];
			a->x->hold_tab[j] = NULL;
			i = j;
		}
	}
	a->x->nholds--;
	quota__cat_of(a, h->box.src.cat)->held -= h->held;
	quota__box_drop(&a->ctx->mem, &a->x->hold_free, &h->box);
}

static void hold_remove(quota_account *a, quota__hold *h)
{
	hold_remove_at(a, h, hold_slot(a, h->id));
}

/* Holds keep their sources in boxes (source.c); small ones are recycled. */
static quota__hold *hold_block(quota_account *a, const quota__src *src)
{
	return (quota__hold *)(void *)quota__box_new(&a->ctx->mem,
						     &a->x->hold_free,
						     sizeof(quota__hold), src);
}

void quota__holds_free(quota_account *a)
{
	uint32_t i;

	for (i = 0; i < a->x->hold_tab_cap; i++)
		quota__free(&a->ctx->mem, a->x->hold_tab[i]);
	quota__box_free_list(&a->ctx->mem, &a->x->hold_free);
	quota__free(&a->ctx->mem, a->x->hold_tab);
	a->x->hold_tab = NULL;
	a->x->nholds = 0;
	a->x->hold_tab_cap = 0;
}

/* ------------------------------------------------------------ helpers */

/* Package units back (a release, a partial commit, a reversal). */
void quota__units_restore(quota_account *a, quota_package *pk, int64_t units,
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

		quota__units_restore(a, d->pk, n, track);
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
			quota__keyview v;
			bool same;

			quota__key_view(a, k, &v);
			same = v.e.op == QUOTA__OP_RESERVE &&
			       v.e.p_cat == u->category &&
			       v.e.p_units == u->units && v.e.p_at == u->at &&
			       v.e.p_timeout == timeout_s;
			rc = quota__key_replay(a, &v, same, r);
			if (!rc)
				*hold_id = v.e.hold_id;
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
	if ((rc = quota__synced(a))) /* §5: before the plan */
		return quota__fail(r, rc);
	if ((rc = quota__plan_usage(a, u, &pl)))
		return quota__fail(r, rc);
	return quota__reserve_planned(a, u, timeout_s, &pl, r, hold_id);
}

/*
 * A planned reservation from prepare on, through the write path (§5):
 * room for the hold and its key, the record, apply, events.  reserve_slow
 * and replay (the plan from a record) come here.
 */
struct reserve_op {
	quota_account *a;
	const quota_usage *u;
	int64_t timeout_s;
	quota__plan *pl;
	quota_receipt *r;
	uint64_t *hold_id;
	quota__hold *h;     /* the hold's block, filled in by apply */
	quota__keyext *rec; /* the key's record, if the reservation has one */
};

static int reserve_prepare(void *v)
{
	struct reserve_op *op = v;
	quota_account *a = op->a;
	int rc;

	if ((rc = quota__plan_prepare(a, op->pl)))
		return rc;
	if (hold_reserve(a) || !(op->h = hold_block(a, &op->pl->s)))
		return quota__nomem(a);
	if (op->u->key &&
	    (quota__key_reserve(a) ||
	     !(op->rec = quota__key_new(a, op->u->key, &op->h->box.src)))) {
		rc = quota__nomem(a);
		quota__box_drop(&a->ctx->mem, &a->x->hold_free, &op->h->box);
		return rc;
	}
	return QUOTA_OK;
}

static void reserve_encode(quota__wbuf *w, const void *v)
{
	const struct reserve_op *op = v;

	quota__rec_planned(w, QUOTA__R_RESERVE, op->u, op->timeout_s,
			   &op->pl->s);
}

static void reserve_apply(void *v)
{
	struct reserve_op *op = v;
	quota_account *a = op->a;
	quota__hold *h = op->h;

	quota__plan_apply(a, op->pl);
	h->id = ++a->x->last_hold_id;
	h->deadline = op->u->at + op->timeout_s; /* checked by the caller */
	hold_insert(a, h);
	if (op->rec) {
		quota__key_usage(op->rec, QUOTA__OP_RESERVE, op->u);
		op->rec->hold_id = h->id;
		op->rec->p_timeout = op->timeout_s;
		quota__key_store(a, op->rec);
	}
	quota__receipt_fill(op->r, &h->box.src, QUOTA_RECEIPT_RESERVE);
	if (op->r)
		op->r->hold_id = h->id;
	*op->hold_id = h->id;
}

static void reserve_undo(void *v)
{
	struct reserve_op *op = v;

	if (op->rec)
		quota__key_unused(op->a, op->rec);
	quota__box_drop(&op->a->ctx->mem, &op->a->x->hold_free, &op->h->box);
}

static const quota__step reserve_steps = {
	.ext = true,
	.rec = QUOTA__R_RESERVE,
	.prepare = reserve_prepare,
	.encode = reserve_encode,
	.apply = reserve_apply,
	.undo = reserve_undo,
	.flush = true,
};

int quota__reserve_planned(quota_account *a, const quota_usage *u,
			   int64_t timeout_s, quota__plan *pl,
			   quota_receipt *r, uint64_t *hold_id)
{
	struct reserve_op op = {a, u, timeout_s, pl, r, hold_id, NULL, NULL};
	int rc = quota__write(a->ctx, a, &reserve_steps, &op);

	return rc ? quota__fail(r, rc) : QUOTA_OK;
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
	     quota_receipt *r, uint64_t *hold_id, const int journal)
{
	int64_t deadline;
	quota__hold *f;
	int rc;

	/* Room for the hold and a recycled block; the charge fast path checks
	 * the key, the hook and the time. */
	if (!a || !u || !hold_id || timeout_s <= 0 || !a->x->hold_free ||
	    (a->x->nholds + 1) * 2 > a->x->hold_tab_cap ||
	    quota__add_ovf(u->at, timeout_s, &deadline) ||
	    !quota__time_ok(deadline))
		return 0;
	f = (quota__hold *)(void *)a->x->hold_free;
	rc = quota__fast(a, u, r, QUOTA__FAST_HOLD, &f->box.src, timeout_s,
			 journal, NULL, 0);
	if (rc <= 0)
		return rc;
	a->x->hold_free = f->box.next_free;
	f->id = ++a->x->last_hold_id;
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
	int rc = quota__crc_hw()
			 ? reserve_fast(a, u, timeout_s, r, hold_id,
					QUOTA__J_HW)
			 : reserve_fast(a, u, timeout_s, r, hold_id,
					QUOTA__J_SW);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0) {
		*hold_id = 0;
		return quota__fail(r, rc);
	}
	return reserve_slow(a, u, timeout_s, r, hold_id);
}

/* R23: a reservation that leaves a package at its renewal level renews
 * it after the reservation's own record (renew.c); the reservation's
 * success stands whatever the renewal's write does. */
static __attribute__((noinline, cold)) int
reserve_renewing(quota_account *a, const quota_usage *u, int64_t timeout_s,
		 quota_receipt *r, uint64_t *hold_id)
{
	int rc = a->ctx->store_on
			 ? reserve_journaled(a, u, timeout_s, r, hold_id)
			 : reserve_slow(a, u, timeout_s, r, hold_id);

	if (!rc)
		(void)quota__renew_due(a, u->at, u->at);
	return rc;
}

int quota_reserve(quota_account *a, const quota_usage *u, int64_t timeout_s,
		  quota_receipt *r, uint64_t *hold_id)
{
	if (a && u && (a->gate & QUOTA__GATE_RENEW))
		return reserve_renewing(a, u, timeout_s, r, hold_id);
	if (a && a->ctx->store_on)
		return reserve_journaled(a, u, timeout_s, r, hold_id);
	if (reserve_fast(a, u, timeout_s, r, hold_id, QUOTA__J_NONE))
		return QUOTA_OK;
	return reserve_slow(a, u, timeout_s, r, hold_id);
}

/* ------------------------------------------------- commit and release */

/* The failure fee per unit a release for reason pays under t (R27: the
 * reason's own fee if the tariff sets one, else its failure fee). */
static int64_t fee_per_unit(const quota_tariff *t, int32_t reason)
{
	if (!t)
		return 0;
	if (reason > 0 && t->fee_reason[reason] >= 0)
		return t->fee_reason[reason];
	return t->failure_fee;
}

/* What releasing hold id for reason would cost in failure fees now
 * (replay's check of a release record). */
int quota__release_fee(const quota_account *a, uint64_t id, int32_t reason,
		       int64_t *fee)
{
	const quota__hold *h = hold_get(a, id);
	int64_t per;

	*fee = 0;
	if (!h)
		return QUOTA_ENOTFOUND;
	per = fee_per_unit(quota__tariff_of(a, h->box.src.cat), reason);
	if (per && quota__mul_ovf(per, h->box.src.units, fee))
		return QUOTA_EOVERFLOW;
	return QUOTA_OK;
}

/*
 * A commit (used >= 0, no fee) or a release (used = 0, fee) through the
 * write path (§5).  fee_in: replay's recorded fee (a record is not priced
 * again), or NULL to price it from the tariff.
 */
struct resolve_op {
	quota_account *a;
	uint64_t id;
	int64_t used;
	const char *key;
	quota_receipt *r;
	bool release;
	int32_t reason;     /* a release's QUOTA_FAIL_* (R27) */
	const int64_t *fee_in;
	quota__hold *h;     /* the hold it resolves */
	int64_t fee;        /* a release's failure fee */
	quota__keyext *rec; /* the key's record, if the call has a key */
};

static int resolve_prepare(void *v)
{
	struct resolve_op *op = v;
	quota_account *a = op->a;
	quota__hold *h;
	int64_t used = op->used, per;
	uint64_t rid = quota__receipt_key_id(op->key);
	int rc;

	if (op->id == 0 || op->id > a->x->last_hold_id)
		return quota__err(a->ctx, QUOTA_ENOTFOUND,
				  "account '%s': no hold %llu", a->id,
				  (unsigned long long)op->id);
	h = op->h = hold_get(a, op->id);
	if (!h)
		return quota__err(a->ctx, QUOTA_ERESOLVED,
				  "account '%s': hold %llu was already "
				  "committed, released or expired",
				  a->id, (unsigned long long)op->id);
	if (used < 0 || used > h->box.src.units)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': hold %llu holds %lld units, "
				  "cannot commit %lld",
				  a->id, (unsigned long long)op->id,
				  (long long)h->box.src.units, (long long)used);
	/* R27: a commit's kept receipt is stored under its hold id. */
	if (rid && (op->release || rid != op->id))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': receipt key of hold %llu",
				  a->id, (unsigned long long)op->id);
	per = fee_per_unit(quota__tariff_of(a, h->box.src.cat), op->reason);
	if (op->fee_in)
		op->fee = op->release ? *op->fee_in : 0;
	else if (op->release && per &&
		 quota__mul_ovf(per, h->box.src.units, &op->fee))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "account '%s': failure fee overflows",
				  a->id);
	if ((used < h->box.src.units &&
	     quota__counter_prepare(a, h->box.src.cat)) ||
	    quota__events_reserve(a))
		return quota__nomem(a);
	/* R17: a commit books what it charges, a release its fee; the
	 * hour's total is checked on that (a commit of 0 units books 0). */
	if ((!op->release || op->fee) &&
	    (rc = quota__ledger_prepare(
		     a, &h->box.src,
		     op->release ? 0
				 : kept_cost(&h->box.src,
					     h->box.src.units - used),
		     op->fee)))
		return rc;
	if (op->key && (quota__key_reserve(a) ||
			!(op->rec = quota__key_new(a, op->key, &h->box.src))))
		return quota__nomem(a);
	return QUOTA_OK;
}

/* The fields the fast commit's record has too. */
static void resolve_encode(quota__wbuf *w, const void *v)
{
	const struct resolve_op *op = v;

	quota__rec_resolve_fields(w, op->id, op->used, op->key, op->fee);
}

/* A release with a failure reason (R27): the same fields, then it. */
static void release_reason_encode(quota__wbuf *w, const void *v)
{
	const struct resolve_op *op = v;

	resolve_encode(w, v);
	quota__put_sv(w, op->reason);
}

static void resolve_apply(void *v)
{
	struct resolve_op *op = v;
	quota_account *a = op->a;
	quota__hold *h = op->h;
	quota__keyext *rec = op->rec;
	int64_t fee = op->fee;
	bool track = quota__track(a);

	if (op->release) {
		int64_t released = h->box.src.units;

		/* The receipt says what went back: the whole hold. */
		quota__receipt_fill(op->r, &h->box.src, QUOTA_RECEIPT_RELEASE);
		if (op->r) {
			op->r->hold_id = op->id;
			op->r->fee_micros = fee;
			op->r->failure_reason = op->reason;
		}
		give_back(a, &h->box.src, released, track);
		if (fee) /* give_back left the source empty: the fee alone */
			quota__ledger_apply(a, &h->box.src, 1, fee, released);
	} else {
		give_back(a, &h->box.src, h->box.src.units - op->used, track);
		quota__ledger_apply(a, &h->box.src, 1, 0, 0);
		quota__receipt_fill(op->r, &h->box.src, QUOTA_RECEIPT_COMMIT);
		if (op->r) {
			op->r->hold_id = op->id;
			if (quota__receipt_key_id(op->key)) /* R27: kept */
				op->r->receipt_id = op->id;
		}
		if (rec)
			quota__src_assign(&rec->box.src, &h->box.src);
	}
	if (rec) {
		rec->op = op->release ? QUOTA__OP_RELEASE : QUOTA__OP_COMMIT;
		rec->hold_id = op->id;
		rec->fee = fee;
		rec->p_hold = op->id;
		rec->p_used = op->used;
		rec->time = a->clock;
		quota__key_store(a, rec);
	}
	hold_remove(a, h);
}

static void resolve_undo(void *v)
{
	struct resolve_op *op = v;

	if (op->rec)
		quota__key_unused(op->a, op->rec);
}

static const quota__step commit_steps = {
	.ext = true,
	.rec = QUOTA__R_COMMIT,
	.prepare = resolve_prepare,
	.encode = resolve_encode,
	.apply = resolve_apply,
	.undo = resolve_undo,
	.flush = true,
};
static const quota__step release_steps = {
	.ext = true,
	.rec = QUOTA__R_RELEASE,
	.prepare = resolve_prepare,
	.encode = resolve_encode,
	.apply = resolve_apply,
	.undo = resolve_undo,
	.flush = true,
};
static const quota__step release_reason_steps = {
	.ext = true,
	.rec = QUOTA__R_RELEASE_REASON,
	.prepare = resolve_prepare,
	.encode = release_reason_encode,
	.apply = resolve_apply,
	.undo = resolve_undo,
	.flush = true,
};

/* A call whose key was used before answers as it did then (R11), with
 * nothing to write; any other goes through the write path. */
int quota__resolve(quota_account *a, uint64_t id, int64_t used,
		   const char *key, quota_receipt *r, bool release,
		   int32_t reason, const int64_t *fee_in)
{
	struct resolve_op op = {a, id, used, key, r, release, reason, fee_in,
				NULL, 0, NULL};
	int rc;

	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	if ((rc = quota__check_key_rec(a->ctx, key)))
		return quota__fail(r, rc);
	if (reason < 0 || reason > QUOTA_FAIL_REASON_MAX || (reason && !release))
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "account '%s': failure reason "
						 "%d is not 0 to %d",
						 a->id, (int)reason,
						 QUOTA_FAIL_REASON_MAX));
	if (key) {
		const quota__keyrec *k = quota__key_find(a, key);
		quota__keyview v;

		if (k) {
			quota__key_view(a, k, &v);
			return quota__key_replay(
				a, &v,
				v.e.op == (release ? QUOTA__OP_RELEASE
						   : QUOTA__OP_COMMIT) &&
					v.e.p_hold == id &&
					(release || v.e.p_used == used),
				r);
		}
	}
	rc = quota__write(a->ctx, a,
			  !release ? &commit_steps
			  : reason ? &release_reason_steps
				   : &release_steps,
			  &op);
	return rc ? quota__fail(r, rc) : QUOTA_OK;
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
	    quota_receipt *receipt, const int journal)
{
	const quota__src *s;
	quota__hold *h;
	quota__cur *c;
	uint32_t slot;

	if (a->ctx->hook || a->gate ||
	    (slot = hold_slot(a, hold_id)) == UINT32_MAX)
		return 0;
	h = a->x->hold_tab[slot];
	s = &h->box.src;
	if (units_used != s->units || !h->box.small ||
	    !(c = quota__cur_of(a, s->cat)) ||
	    !quota__ledger_hit(c, s->at, s->pkg ? s->draws[0].pk : NULL,
			       s->pkg, s->cost))
		return 0;
	/* §5: the general commit's record (the same bytes), before
	 * anything moves. */
	if (journal) {
		int rc = quota__fast_commit_rec(a, hold_id, units_used,
						journal == QUOTA__J_HW);

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
	int rc = 0;

	if (!key)
		rc = quota__crc_hw() ? commit_fast(a, hold_id, units_used,
						   receipt, QUOTA__J_HW)
				     : commit_fast(a, hold_id, units_used,
						   receipt, QUOTA__J_SW);

	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0)
		return quota__fail(receipt, rc);
	return quota__resolve(a, hold_id, units_used, key, receipt, false, 0,
			      NULL);
}

/* R27: a keyless commit of an account that keeps receipts is kept
 * under its hold id (the general path; commit_fast leaves it). */
static __attribute__((noinline)) int commit_kept(quota_account *a,
						 uint64_t hold_id,
						 int64_t units_used,
						 quota_receipt *receipt)
{
	char rkey[QUOTA__RKEY_MAX];

	quota__receipt_key(rkey, hold_id);
	return quota__resolve(a, hold_id, units_used,
			      hold_id && hold_get(a, hold_id) ? rkey : NULL,
			      receipt, false, 0, NULL);
}

int quota_commit(quota_account *a, uint64_t hold_id, int64_t units_used,
		 const char *key, quota_receipt *receipt)
{
	int rc;

	if (a && key && (rc = quota__check_key(a->ctx, key)))
		return quota__fail(receipt, rc);
	if (a && !key && (a->gate & QUOTA__GATE_RECEIPTS))
		return commit_kept(a, hold_id, units_used, receipt);
	if (a && a->ctx->store_on)
		return commit_journaled(a, hold_id, units_used, key, receipt);
	if (a && !key &&
	    commit_fast(a, hold_id, units_used, receipt, QUOTA__J_NONE))
		return QUOTA_OK;
	return quota__resolve(a, hold_id, units_used, key, receipt, false, 0,
			      NULL);
}

int quota_release(quota_account *a, uint64_t hold_id, const char *key,
		  quota_receipt *receipt)
{
	return quota_release_reason(a, hold_id, QUOTA_FAIL_NONE, key,
				    receipt);
}

int quota_release_reason(quota_account *a, uint64_t hold_id, int32_t reason,
			 const char *key, quota_receipt *receipt)
{
	int rc;

	if (a && key && (rc = quota__check_key(a->ctx, key)))
		return quota__fail(receipt, rc);
	return quota__resolve(a, hold_id, 0, key, receipt, true, reason,
			      NULL);
}

/* ------------------------------------------------------------- expiry */

/* The tick (hold_expiry.c) reads the map through these two and leaves
 * every change of it to this file. */
const quota__hold *quota__hold_find(const quota_account *a, uint64_t id)
{
	return hold_get(a, id);
}

/* The hold at map slot i timed out: all its units go back, without a
 * fee, and it closes (a later hold of its run may shift into slot i). */
void quota__hold_expire(quota_account *a, uint32_t i, bool track)
{
	quota__hold *h = a->x->hold_tab[i];

	if (track) /* §7: its receipt, before the units go back */
		quota__event_hold_expired(a, &h->box.src, h->id);
	give_back(a, &h->box.src, h->box.src.units, track);
	hold_remove_at(a, h, i);
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
		return quota__held_of(a, category);
	}
	for (c = quota__popcount64(a->cat_mask); c--;)
		sum += a->cats[c].held;
	return sum;
}

/*
 * §7: a gateway that lost a hold id (a restart between reserve and its
 * reply) finds the hold again by the reservation's key.  The key window
 * (keys.c) already maps the key to its record, which names the hold, so
 * this is one look-up there and one in the hold map: O(1), no scan.
 * What the window no longer holds cannot be told apart from a key never
 * used (QUOTA_ENOTFOUND).
 */
int quota_hold_find(const quota_account *a, const char *key,
		    uint64_t *hold_id)
{
	const quota__keyrec *k;
	quota__keyview v;
	int rc;

	if (hold_id)
		*hold_id = 0;
	if (!a)
		return QUOTA_EINVAL;
	if (!key || !hold_id)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_hold_find: NULL argument");
	if ((rc = quota__check_key(a->ctx, key)))
		return rc;
	k = quota__key_find(a, key);
	if (k)
		quota__key_view(a, k, &v);
	if (!k || (v.e.op != QUOTA__OP_RESERVE && v.e.op != QUOTA__OP_COMMIT &&
		   v.e.op != QUOTA__OP_RELEASE))
		return quota__err(a->ctx, QUOTA_ENOTFOUND,
				  "account '%s': no reservation with key "
				  "'%s' (or it left the key window)",
				  a->id, key);
	if (v.e.op != QUOTA__OP_RESERVE || !hold_get(a, v.e.hold_id))
		return quota__err(a->ctx, QUOTA_ERESOLVED,
				  "account '%s': hold %llu of key '%s' was "
				  "already committed, released or expired",
				  a->id, (unsigned long long)v.e.hold_id, key);
	*hold_id = v.e.hold_id;
	quota__ok(a->ctx);
	return QUOTA_OK;
}

uint32_t quota_account_hold_count(const quota_account *a)
{
	return a ? (uint32_t)a->x->nholds : 0;
}

/* ---------------------------------------------------------- snapshots */

void quota__holds_recalendar(quota_account *a)
{
	uint32_t i;

	for (i = 0; i < a->x->hold_tab_cap; i++) {
		quota__hold *h = a->x->hold_tab[i];

		if (h) {
			h->box.src.day =
				quota__day_of(quota__local(a, h->box.src.at));
			h->box.src.month = quota__month_of_day(h->box.src.day);
		}
	}
}

/* Open hold id with deadline and sources src in a fresh account
 * (snapshot.c); its units count as held.  QUOTA_ECORRUPT for an id in
 * use or beyond the last one given out. */
int quota__hold_restore(quota_account *a, uint64_t id, int64_t deadline,
			const quota__src *src)
{
	quota__hold *h;

	if (id == 0 || id > a->x->last_hold_id || hold_get(a, id))
		return QUOTA_ECORRUPT;
	if (quota__cat_need(a, QUOTA_MASK(src->cat)) || hold_reserve(a) ||
	    !(h = hold_block(a, src)))
		return QUOTA_ENOMEM;
	h->id = id;
	h->deadline = deadline;
	hold_insert(a, h);
	return QUOTA_OK;
}
