/*
 * package.c - prepaid packages (R2-R7, R20) and the per-category index
 * that finds the package to burn first in O(log P) (R3).
 */
#include "journal.h"

#include <stddef.h>
#include <string.h>

#define NONE UINT32_MAX

/* R3: priority, then soonest expiry (QUOTA_NEVER last), then earlier
 * effective_at, then the order packages were added. */
static int r3_cmp(const quota_package *x, const quota_package *y)
{
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->expires_at != y->expires_at)
		return x->expires_at < y->expires_at ? -1 : 1;
	if (x->effective_at != y->effective_at)
		return x->effective_at < y->effective_at ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* First position whose package does not sort before p. */
static uint32_t lower_bound(const quota__pindex *ix, const quota_package *p)
{
	uint32_t lo = 0, hi = ix->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r3_cmp(ix->pk[mid], p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A leaf holds effective_at while the package has units, else "never". */
static inline int64_t leaf_value(const quota_package *p)
{
	return p->remaining > 0 ? p->effective_at : INT64_MAX;
}

static inline int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void quota__pindex_refresh(quota__pindex *ix, uint32_t pos)
{
	uint32_t i = ix->size + pos;

	if (quota__pindex_small(ix))
		return; /* nothing cached: it looks at the packages */
	ix->tree[i] = leaf_value(ix->pk[pos]);
	for (i >>= 1; i; i >>= 1)
		ix->tree[i] = min64(ix->tree[2 * i], ix->tree[2 * i + 1]);
	quota__pindex_bump(ix); /* the head hint may be stale now */
}

void quota__package_refresh(quota_account *a, quota_package *p)
{
	uint64_t m = p->categories;

	while (m) {
		unsigned c = (unsigned)__builtin_ctzll(m);
		quota__pindex *ix = quota__pindex_of(a, c);

		m &= m - 1;
		if (!quota__pindex_small(ix))
			quota__pindex_refresh(ix, lower_bound(ix, p));
	}
}

/* Rebuild the tree, the priority groups and the STOP summary after an
 * insertion: O(P), at package-add time, never on the charge path. */
static void rebuild(quota__pindex *ix)
{
	uint32_t i, g = 0;
	int64_t run;

	for (i = 0; i < ix->size; i++)
		ix->tree[ix->size + i] =
			i < ix->n ? leaf_value(ix->pk[i]) : INT64_MAX;
	for (i = ix->size - 1; i >= 1; i--)
		ix->tree[i] = min64(ix->tree[2 * i], ix->tree[2 * i + 1]);
	for (i = 0; i < ix->n; i++) {
		ix->exp[i] = ix->pk[i]->expires_at;
		if (i == 0 || ix->pk[i]->priority != ix->pk[i - 1]->priority)
			ix->group[g++] = i;
	}
	ix->group[g] = ix->n;
	ix->ngroups = g;
	run = INT64_MAX;
	for (i = ix->nstop; i-- > 0;) {
		run = min64(run, ix->stop_eff[i]);
		ix->stop_effmin[i] = run;
	}
}

uint32_t quota__pindex_head_slow(const quota__pindex *cix, int64_t t)
{
	quota__pindex *ix = (quota__pindex *)cix; /* the hint is a cache */
	uint32_t pos = quota__pindex_first(ix, 0, t), lo = 0, hi = ix->n;
	int64_t until;

	while (lo < hi) { /* first effective_at > t */
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix->effs[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	until = lo < ix->n ? ix->effs[lo] : INT64_MAX;
	if (pos != NONE && ix->exp[pos] < until)
		until = ix->exp[pos];
	ix->hint_lo = t;
	ix->hint_hi = until;
	ix->hint_pos = pos;
	ix->hint_pk = pos != NONE ? ix->pk[pos] : NULL;
	ix->hint_gen = ix->gen;
	return pos;
}

bool quota__pindex_stop_at(const quota__pindex *ix, int64_t t)
{
	uint32_t lo = 0, hi = ix->nstop;

	if (quota__pindex_small(ix)) {
		for (lo = 0; lo < ix->n; lo++) {
			const quota_package *p = ix->pk[lo];

			if ((p->flags & QUOTA_PACKAGE_STOP) &&
			    p->effective_at <= t && t < p->expires_at)
				return true;
		}
		return false;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix->stop_exp[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->nstop && ix->stop_effmin[lo] <= t;
}

void quota__pindex_free(const quota__mem *mem, quota__pindex *ix)
{
	if (!ix)
		return;
	if (quota__pindex_small(ix)) { /* one allocation */
		quota__free(mem, ix);
		return;
	}
	quota__free(mem, ix->pk);
	quota__free(mem, ix->exp);
	quota__free(mem, ix->tree);
	quota__free(mem, ix->group);
	quota__free(mem, ix->stop_exp);
	quota__free(mem, ix->stop_eff);
	quota__free(mem, ix->stop_effmin);
	quota__free(mem, ix->effs);
	quota__free(mem, ix);
}

void quota__package_free(const quota__mem *mem, quota_package *p)
{
	quota__free(mem, p);
}

/*
 * Package ids (§7): while an account has at most PKG_SCAN packages they
 * are found by a scan of its packages, and cost no map; the map is built,
 * with every package in it, when the account gets more (in the add's
 * prepare, whole or not at all).
 */
#define PKG_SCAN 8

quota_package *quota__package_by_id(const quota_account *a, const char *id)
{
	uint32_t i;

	if (a->package_ids.cap)
		return quota__strmap_get(&a->package_ids, &a->ctx->hkey, id);
	for (i = 0; i < a->npackages; i++)
		if (!strcmp(a->packages[i]->id, id))
			return a->packages[i];
	return NULL;
}

/* Room for one more id: nothing while the scan serves, else the map,
 * built now if there is none (invisible: it finds what the scan did). */
static int ids_reserve(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	uint32_t i;

	if (!a->package_ids.cap && a->npackages < PKG_SCAN)
		return QUOTA_OK;
	if (!a->package_ids.cap) {
		quota__strmap m = {NULL, 0, 0};

		for (i = 0; i < a->npackages; i++) {
			if (quota__strmap_reserve(mem, &m)) {
				quota__strmap_free(mem, &m);
				return QUOTA_ENOMEM;
			}
			quota__strmap_put(&m, &a->ctx->hkey, a->packages[i]->id,
					  a->packages[i]);
		}
		a->package_ids = m;
	}
	return quota__strmap_reserve(mem, &a->package_ids);
}

/*
 * Room a small array (or small R3 index) starts with: most accounts hold
 * a package or two per category (§7), so the first package makes room for
 * the second, and an account's second package reallocates nothing
 * (issue 13: a million accounts are created with two each; malloc rounds
 * both sizes to the same block).
 */
#define PKG_FIRST_ROOM 2

/* quota__grow32, but exactly need while the array is small (at most 4,
 * at least PKG_FIRST_ROOM: §7), doubling beyond. */
static int grow_small(const quota__mem *mem, void **p, uint32_t *cap,
		      size_t need, size_t size)
{
	void *np;

	if (need <= *cap)
		return QUOTA_OK;
	if (need > 4)
		return quota__grow32(mem, p, cap, need, size);
	if (need < PKG_FIRST_ROOM)
		need = PKG_FIRST_ROOM;
	if (!(np = quota__realloc(mem, *p, need * size)))
		return QUOTA_ENOMEM;
	*p = np;
	*cap = (uint32_t)need;
	return QUOTA_OK;
}

/* A small index with room for n packages, empty; NULL: no memory. */
static quota__pindex *psmall_new(const quota__mem *mem, uint32_t n)
{
	quota__pindex *ix = quota__calloc(mem, 1, QUOTA__PSMALL_SIZE(n));

	if (ix) {
		ix->pk = (quota_package **)((char *)ix + QUOTA__PSMALL_SIZE(0));
		ix->gen = QUOTA__PSMALL_GEN;
	}
	return ix;
}

/* Make room in full index ix for `more` more packages (and as many STOP
 * entries, if stop). */
static int pindex_reserve(const quota__mem *mem, quota__pindex *ix,
			  uint32_t more, bool stop)
{
	size_t need = (size_t)ix->n + more, size = 1;

	while (size < need)
		size *= 2;
	if (quota__grow(mem, (void **)&ix->pk, &ix->cap, need, sizeof *ix->pk) ||
	    quota__grow(mem, (void **)&ix->exp, &ix->exp_cap, need,
			sizeof *ix->exp) ||
	    quota__grow(mem, (void **)&ix->effs, &ix->effs_cap, need,
			sizeof *ix->effs))
		return QUOTA_ENOMEM;
	if (quota__grow(mem, (void **)&ix->tree, &ix->tree_cap, 2 * size,
			sizeof *ix->tree) ||
	    quota__grow(mem, (void **)&ix->group, &ix->group_cap, need + 1,
			sizeof *ix->group))
		return QUOTA_ENOMEM;
	if (stop) {
		size_t sc = ix->stop_cap, sneed = (size_t)ix->nstop + more;

		if (sneed > sc) {
			size_t ncap = sc ? sc * 2 : 4;
			int64_t *a;

			while (ncap < sneed)
				ncap *= 2;
			a = quota__realloc(mem, ix->stop_exp, ncap * sizeof *a);
			if (!a)
				return QUOTA_ENOMEM;
			ix->stop_exp = a;
			a = quota__realloc(mem, ix->stop_eff, ncap * sizeof *a);
			if (!a)
				return QUOTA_ENOMEM;
			ix->stop_eff = a;
			a = quota__realloc(mem, ix->stop_effmin,
					   ncap * sizeof *a);
			if (!a)
				return QUOTA_ENOMEM;
			ix->stop_effmin = a;
			ix->stop_cap = ncap;
		}
	}
	return QUOTA_OK;
}

/* Insert p (capacity reserved) and rebuild the summaries. */
static void pindex_insert(quota__pindex *ix, quota_package *p)
{
	uint32_t pos = lower_bound(ix, p), i;

	memmove(&ix->pk[pos + 1], &ix->pk[pos],
		(ix->n - pos) * sizeof *ix->pk);
	ix->pk[pos] = p;
	if (quota__pindex_small(ix)) {
		ix->n++;
		ix->nstop += (p->flags & QUOTA_PACKAGE_STOP) != 0;
		return;
	}
	for (i = ix->n; i > 0 && ix->effs[i - 1] > p->effective_at; i--)
		ix->effs[i] = ix->effs[i - 1];
	ix->effs[i] = p->effective_at;
	ix->n++;
	quota__pindex_bump(ix);
	ix->size = 1;
	while (ix->size < ix->n)
		ix->size *= 2;
	if (p->flags & QUOTA_PACKAGE_STOP) {
		for (i = ix->nstop; i > 0 && ix->stop_exp[i - 1] > p->expires_at;
		     i--) {
			ix->stop_exp[i] = ix->stop_exp[i - 1];
			ix->stop_eff[i] = ix->stop_eff[i - 1];
		}
		ix->stop_exp[i] = p->expires_at;
		ix->stop_eff[i] = p->effective_at;
		ix->nstop++;
	}
	rebuild(ix);
}

static int check_spec(quota_account *a, const quota_package_spec *s)
{
	quota_ctx *ctx = a->ctx;
	int rc;

	if ((rc = quota__check_name(ctx, "package id", s->id, QUOTA_ID_MAX)))
		return rc;
	if (quota__package_by_id(a, s->id))
		return quota__err(ctx, QUOTA_EEXISTS,
				  "package '%s' already exists in account '%s'",
				  s->id, a->id);
	if ((rc = quota__check_mask(ctx, "package", s->id, s->categories)))
		return rc;
	if (s->units <= 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "package '%s': units must be > 0", s->id);
	if (!quota__time_ok(s->effective_at) ||
	    (s->expires_at != QUOTA_NEVER && !quota__time_ok(s->expires_at)))
		return quota__err(ctx, QUOTA_EINVAL,
				  "package '%s': time out of range", s->id);
	if (s->expires_at <= s->effective_at)
		return quota__err(ctx, QUOTA_EINVAL,
				  "package '%s': expires_at before "
				  "effective_at",
				  s->id);
	if (s->price_micros < 0)
		return quota__err(ctx, QUOTA_EINVAL,
				  "package '%s': price must be >= 0", s->id);
	if (s->flags & ~QUOTA_PACKAGE_STOP)
		return quota__err(ctx, QUOTA_EINVAL,
				  "package '%s': unknown flags 0x%x", s->id,
				  (unsigned)s->flags);
	if (a->npackages == UINT32_MAX - 1)
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "account '%s': too many packages", a->id);
	return QUOTA_OK;
}

int quota_package_add(quota_account *a, const quota_package_spec *s,
		      quota_package **out)
{
	return quota__package_add(a, s, NULL, out);
}

/*
 * Add a package; buy, if not NULL, is the purchase it comes from (R19):
 * its price is debited in the same apply, and the record is a purchase.
 * The caller has checked that the balance pays it and nothing overflows.
 * Through the write path (§5): prepare allocates the package and the room
 * for it, undo frees what the account did not take.
 */
struct package_op {
	quota_account *a;
	const quota_package_spec *s;
	const quota__buy *buy;
	quota_package **out;
	quota_package *p; /* the new package */
	int64_t total;    /* the account's units with it */
	/* A category's first index, or the full form of a small one: set
	 * (NULL or not) by prepare for the categories of s only, which are
	 * all that undo and apply read (issue 13: the whole array cleared
	 * was 512 bytes a call). */
	quota__pindex *fresh[QUOTA_MAX_CATEGORIES];
};

/* What prepare allocated that only apply hands to the account. */
static void package_undo(void *v)
{
	struct package_op *op = v;
	const quota__mem *mem = &op->a->ctx->mem;
	uint64_t m;

	for (m = op->s->categories; m; m &= m - 1)
		quota__pindex_free(mem, op->fresh[__builtin_ctzll(m)]);
	quota__package_free(mem, op->p);
}

static int package_prepare(void *v)
{
	struct package_op *op = v;
	quota_account *a = op->a;
	const quota_package_spec *s = op->s;
	const quota__mem *mem;
	quota_package *p;
	uint64_t m;
	size_t len;
	int rc;

	if (!s)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_package_add: NULL spec");
	if ((rc = check_spec(a, s)))
		return rc;
	if (quota__add_ovf(a->total_units, s->units, &op->total))
		return quota__err(a->ctx, QUOTA_EOVERFLOW,
				  "package '%s': account '%s' would hold more "
				  "than INT64_MAX units",
				  s->id, a->id);
	mem = &a->ctx->mem;
	for (m = s->categories; m; m &= m - 1)
		op->fresh[__builtin_ctzll(m)] = NULL;

	/* Plan: allocate everything; nothing visible changes until apply. */
	/* The id in the same allocation (§7: a package is small). */
	len = strlen(s->id);
	p = op->p = quota__calloc(mem, 1,
				  offsetof(quota_package, id) + len + 1);
	if (!p)
		goto nomem;
	memcpy(p->id, s->id, len + 1);
	if (grow_small(mem, (void **)&a->packages, &a->cap_packages,
		       (size_t)a->npackages + 1, sizeof *a->packages) ||
	    ids_reserve(a))
		goto nomem;
	/* The context's draw scratch holds one draw per package of the
	 * largest account, so planning a charge never allocates for it. */
	if (quota__grow(mem, (void **)&a->ctx->scratch, &a->ctx->cap_scratch,
			(size_t)a->npackages + 1, sizeof *a->ctx->scratch) ||
	    quota__events_reserve(a) || quota__track_reserve_package(a) ||
	    (op->buy && op->buy->o && quota__bought_reserve(a)) ||
	    quota__cat_need(a, s->categories))
		goto nomem;
	for (m = s->categories; m; m &= m - 1) {
		unsigned c = (unsigned)__builtin_ctzll(m);
		quota__pindex *ix = quota__cat_of(a, c)->pindex, *nx;
		bool stop = s->flags & QUOTA_PACKAGE_STOP;

		if (!ix) { /* a category's first package: the small form,
			    * room for PKG_FIRST_ROOM */
			if (!(op->fresh[c] = psmall_new(mem, PKG_FIRST_ROOM)))
				goto nomem;
		} else if (!quota__pindex_small(ix)) {
			if (pindex_reserve(mem, ix, 1, stop))
				goto nomem;
		} else if (ix->n < PKG_FIRST_ROOM) {
			/* A small index has room for at least that many
			 * (pruning never shrinks it). */
		} else if (ix->n < QUOTA__PSMALL) {
			/* Room for one more, exactly (invisible: the same
			 * index at another address). */
			nx = quota__realloc(mem, ix,
					   QUOTA__PSMALL_SIZE(ix->n + 1));
			if (!nx)
				goto nomem;
			nx->pk = (quota_package **)((char *)nx +
						    QUOTA__PSMALL_SIZE(0));
			quota__cat_of(a, c)->pindex = nx;
		} else { /* outgrown: the full form, filled in by apply */
			nx = op->fresh[c] = quota__calloc(mem, 1, sizeof *nx);
			if (!nx || pindex_reserve(mem, nx, ix->n + 1,
						  stop || ix->nstop))
				goto nomem;
		}
	}
	return QUOTA_OK;
nomem:
	rc = quota__err(a->ctx, QUOTA_ENOMEM, "package '%s': out of memory",
			s->id);
	package_undo(op);
	return rc;
}

static void package_encode(quota__wbuf *w, const void *v)
{
	const struct package_op *op = v;
	const quota_package_spec *s = op->s;
	const quota__buy *buy = op->buy;

	quota__put_str(w, s->id);
	quota__put_u64(w, s->categories);
	quota__put_sv(w, s->units);
	quota__put_sv(w, s->effective_at);
	quota__put_sv(w, s->expires_at);
	quota__put_sv(w, s->price_micros);
	quota__put_uv(w, s->flags);
	quota__put_sv(w, s->priority);
	if (buy) {
		quota__put_str(w, buy->offer);
		quota__put_sv(w, buy->quantity);
		quota__put_sv(w, buy->at);
		quota__put_sv(w, buy->list_price);
		quota__put_sv(w, buy->discount);
		quota__put_sv(w, buy->voucher ? buy->voucher->kind : 0);
		quota__put_sv(w, buy->voucher ? buy->voucher->value : 0);
		quota__put_sv(w, buy->voucher ? buy->voucher->min_spend_micros
					      : 0);
		if (buy->renews) /* R23: the package renewed */
			quota__put_uv(w, buy->renews - 1);
		if (buy->split.gift || buy->split.credit) { /* R24, last */
			quota__put_sv(w, buy->split.gift);
			quota__put_sv(w, buy->split.cash);
			quota__put_sv(w, buy->split.credit);
		}
	}
}

/* Event tracking, if it is set up now, is set up without the new
 * package, which track_package then adds.  R19: a purchase is paid
 * first, so that the events see the balance after it; no overflow
 * (checked by the caller). */
static void package_apply(void *v)
{
	struct package_op *op = v;
	quota_account *a = op->a;
	const quota_package_spec *s = op->s;
	quota_package *p = op->p;
	bool track = quota__track(a);
	uint64_t m;

	if (op->buy) { /* R24: gift money expired at the purchase's time
			* first, then the buckets as planned */
		quota__gift_expire(a, op->buy->at);
		quota__money_pay(a, &op->buy->split);
		a->x->purchased += s->price_micros;
	}
	p->account = a;
	p->categories = s->categories;
	p->units = p->remaining = s->units;
	p->effective_at = s->effective_at;
	p->expires_at = s->expires_at;
	p->price_micros = s->price_micros;
	p->flags = (uint8_t)s->flags; /* checked: QUOTA_PACKAGE_STOP or 0 */
	p->priority = s->priority;
	p->seq = a->npackages;
	for (m = s->categories; m; m &= m - 1) {
		unsigned c = (unsigned)__builtin_ctzll(m);

		quota__pindex *old = quota__cat_of(a, c)->pindex;
		quota__pindex *nx = op->fresh[c];
		uint32_t i;

		if (nx) { /* a new index, or the full form of a small one */
			for (i = 0; old && i < old->n; i++)
				pindex_insert(nx, old->pk[i]);
			quota__pindex_free(&a->ctx->mem, old);
			quota__cat_of(a, c)->pindex = nx;
		}
		pindex_insert(quota__cat_of(a, c)->pindex, p);
	}
	a->packages[a->npackages++] = p;
	a->total_units = op->total;
	if (a->package_ids.cap)
		quota__strmap_put(&a->package_ids, &a->ctx->hkey, p->id, p);
	if (track)
		quota__track_package(a, p);
	if (op->buy && op->buy->o) /* R23: renewable, or a renewal */
		quota__bought_add(a, p, op->buy);
	if (op->out)
		*op->out = p;
}

static const quota__step package_add_steps = {
	.rec = QUOTA__R_PACKAGE_ADD,
	.prepare = package_prepare,
	.encode = package_encode,
	.apply = package_apply,
	.undo = package_undo,
	.flush = true,
};
static const quota__step package_buy_steps = {
	.ext = true,
	.rec = QUOTA__R_PACKAGE_BUY,
	.prepare = package_prepare,
	.encode = package_encode,
	.apply = package_apply,
	.undo = package_undo,
	.flush = true,
};

/* R24: a purchase paid with gift money or on credit records what each
 * bucket paid (quota_journal(5)); a cash purchase keeps its record. */
static const quota__step package_buy_split_steps = {
	.ext = true,
	.rec = QUOTA__R_PACKAGE_BUY_SPLIT,
	.prepare = package_prepare,
	.encode = package_encode,
	.apply = package_apply,
	.undo = package_undo,
	.flush = true,
};

static const quota__step package_renew_steps = {
	.ext = true,
	.rec = QUOTA__R_RENEW, /* R23: a purchase that renews a package */
	.prepare = package_prepare,
	.encode = package_encode,
	.apply = package_apply,
	.undo = package_undo,
	.flush = true,
};

int quota__package_add(quota_account *a, const quota_package_spec *s,
		       const quota__buy *buy, quota_package **out)
{
	struct package_op op; /* fresh[] is prepare's to set */
	const quota__step *st = &package_add_steps;

	op.a = a;
	op.s = s;
	op.buy = buy;
	op.out = out;
	op.p = NULL;
	op.total = 0;

	if (out)
		*out = NULL;
	if (!a)
		return QUOTA_EINVAL;
	if (buy)
		st = buy->renews ? &package_renew_steps
		     : buy->split.gift || buy->split.credit
			     ? &package_buy_split_steps
			     : &package_buy_steps;
	return quota__write(a->ctx, a, st, &op);
}

int quota_package_find(const quota_account *a, const char *id,
		       quota_package **out)
{
	int rc;

	if (out)
		*out = NULL;
	if (!a)
		return QUOTA_EINVAL;
	if (!id || !out)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_package_find: NULL argument");
	/* An id quota_package_add would refuse is refused the same way. */
	if ((rc = quota__check_name(a->ctx, "package id", id, QUOTA_ID_MAX)))
		return rc;
	*out = quota__package_by_id(a, id);
	if (!*out)
		return quota__err(a->ctx, QUOTA_ENOTFOUND,
				  "account '%s' has no package '%s'", a->id,
				  id);
	quota__ok(a->ctx);
	return QUOTA_OK;
}

int64_t quota_package_remaining(const quota_package *p)
{
	return p ? p->remaining : QUOTA_EINVAL;
}

/* R20: EXHAUSTED wins over EXPIRED, so a used-up package shows as such. */
int quota_package_status(const quota_package *p, int64_t now)
{
	if (!p)
		return -1;
	if (p->remaining == 0)
		return QUOTA_PACKAGE_EXHAUSTED;
	if (now < p->effective_at)
		return QUOTA_PACKAGE_PENDING;
	if (now >= p->expires_at)
		return QUOTA_PACKAGE_EXPIRED;
	return QUOTA_PACKAGE_ACTIVE;
}

int quota_package_get_spec(const quota_package *p, quota_package_spec *out)
{
	if (!p)
		return QUOTA_EINVAL;
	if (!out)
		return quota__err(p->account->ctx, QUOTA_EINVAL,
				  "quota_package_get_spec: NULL out");
	out->id = p->id;
	out->categories = p->categories;
	out->units = p->units;
	out->effective_at = p->effective_at;
	out->expires_at = p->expires_at;
	out->price_micros = p->price_micros;
	out->flags = p->flags & QUOTA_PACKAGE_STOP;
	out->priority = p->priority;
	return QUOTA_OK;
}

/* ------------------------------------------------- pruning (§7, prune.c) */

const quota_package quota__package_gone = {.seq = QUOTA__SEQ_GONE};

int quota__packages_prune_count(quota_account *a, int64_t horizon,
				bool ledger, int64_t hour, quota__shrink *s)
{
	const quota__ledger *l = &a->ledger;
	uint32_t *map, i, j, n = a->npackages, next = 0;

	memset(s, 0, sizeof *s);
	if (!n)
		return QUOTA_OK;
	if (!(map = quota__malloc(&a->ctx->mem, (size_t)n * sizeof *map)))
		return QUOTA_ENOMEM;
	s->p[0] = map;
	/* Candidates: expired at the horizon, or exhausted (a STOP package
	 * stops its categories until it expires, R7). */
	for (i = 0; i < n; i++) {
		const quota_package *p = a->packages[i];

		map[i] = p->expires_at <= horizon ||
				 (p->remaining == 0 &&
				  !(p->flags & QUOTA_PACKAGE_STOP))
			 ? QUOTA__SEQ_GONE
			 : 0;
	}
	/* Kept: what a row left after this prune or an open hold names. */
	for (i = 0; i < l->nrows; i++)
		if (l->rows[i].src >= QUOTA__LSRC_PKG &&
		    !(ledger && l->rows[i].hour < hour))
			map[l->rows[i].src - QUOTA__LSRC_PKG] = 0;
	for (i = 0; i < a->x->hold_tab_cap; i++)
		if (a->x->hold_tab[i])
			for (j = 0; j < a->x->hold_tab[i]->box.src.ndraws; j++) {
				const quota__draw *d =
					&a->x->hold_tab[i]->box.src.draws[j];

				map[d->pk->seq] = 0;
			}
	for (i = 0; i < n; i++) {
		if (map[i] == QUOTA__SEQ_GONE)
			s->drop++;
		else
			map[i] = next++;
	}
	s->keep = next;
	if (!s->drop) {
		quota__shrink_undo(a, s);
		return QUOTA_OK;
	}
	/* The packages left move to an array of their size. */
	if (next) {
		s->p[1] = quota__malloc(&a->ctx->mem,
					(size_t)next * sizeof *a->packages);
		if (!s->p[1])
			return QUOTA_ENOMEM;
	}
	return QUOTA_OK;
}

/* Take the packages map drops out of ix (in place: it only shrinks). */
static void pindex_drop(quota__pindex *ix, const uint32_t *map)
{
	uint32_t i, k = 0, e, st, ne = ix->n;

	for (i = 0; i < ix->n; i++) {
		quota_package *p = ix->pk[i];

		if (map[p->seq] != QUOTA__SEQ_GONE) {
			ix->pk[k++] = p;
			continue;
		}
		if (quota__pindex_small(ix)) {
			ix->nstop -= (p->flags & QUOTA_PACKAGE_STOP) != 0;
			continue;
		}
		/* One of its effective_at and (if STOP) of its STOP entries. */
		for (e = 0; ix->effs[e] != p->effective_at; e++)
			;
		memmove(&ix->effs[e], &ix->effs[e + 1],
			(ne - 1 - e) * sizeof *ix->effs);
		ne--;
		if (p->flags & QUOTA_PACKAGE_STOP) {
			for (st = 0; ix->stop_exp[st] != p->expires_at ||
				     ix->stop_eff[st] != p->effective_at;
			     st++)
				;
			memmove(&ix->stop_exp[st], &ix->stop_exp[st + 1],
				(ix->nstop - 1 - st) * sizeof *ix->stop_exp);
			memmove(&ix->stop_eff[st], &ix->stop_eff[st + 1],
				(ix->nstop - 1 - st) * sizeof *ix->stop_eff);
			ix->nstop--;
		}
	}
	ix->n = k;
	if (quota__pindex_small(ix))
		return;
	quota__pindex_bump(ix);
	ix->size = 1;
	while (ix->size < ix->n)
		ix->size *= 2;
	rebuild(ix);
}

/*
 * Drop the packages s's map names and renumber the rest in their order
 * (seq stays the order added among the account's packages, so R3 and
 * every sorted list keep their order).  Whoever refers to packages by
 * number or pointer is told first, while the old numbers still hold.
 */
void quota__packages_prune_apply(quota_account *a, quota__shrink *s)
{
	const quota__mem *mem = &a->ctx->mem;
	const uint32_t *map = s->p[0];
	quota_package **kept = s->p[1];
	uint32_t i, k = 0, c;

	if (!s->drop)
		return;
	quota__track_prune(a, map);
	quota__keys_renumber(a, map);
	for (c = 0; c < QUOTA_MAX_CATEGORIES; c++) {
		quota__cat *e = quota__cat_of(a, c);
		quota__pindex *ix = e ? e->pindex : NULL;

		if (!ix)
			continue;
		pindex_drop(ix, map);
		if (!ix->n) {
			quota__pindex_free(mem, ix);
			e->pindex = NULL;
		}
	}
	for (i = 0; i < a->npackages; i++) {
		quota_package *p = a->packages[i];

		if (map[i] == QUOTA__SEQ_GONE) {
			if (a->package_ids.cap)
				quota__strmap_del(&a->package_ids,
						  &a->ctx->hkey, p->id);
			a->total_units -= p->units;
			quota__package_free(mem, p);
			continue;
		}
		p->seq = k;
		kept[k++] = p;
	}
	quota__free(mem, a->packages);
	a->packages = kept;
	a->npackages = a->cap_packages = k;
	s->p[1] = NULL; /* the account's now */
	quota__ledger_renumber(a);
	quota__shrink_undo(a, s);
}
