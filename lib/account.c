/*
 * account.c - accounts: their allocation, the context's table of them
 * by id (§7), creation, look-up, enumeration and removal.  Their
 * settings and the views of their counters: account_set.c.
 */
#include "journal.h"

#include <string.h>

/* id_hash: the top 32 bits of an id's keyed hash (quota__strhash), what
 * places an account in the context's table (below); a->hash keeps it. */

/* A new account in its initial state, not registered in ctx (snapshots
 * decode into one of these before it replaces or joins anything). */
quota_account *quota__account_alloc(quota_ctx *ctx, const char *id)
{
	return quota__account_alloc_h(ctx, id, quota__strhash(&ctx->hkey, id));
}

/* The same, h64 being the id's keyed hash (issue 13: creating an account
 * hashes its id once, for room, allocation and registration). */
quota_account *quota__account_alloc_h(quota_ctx *ctx, const char *id,
				      uint64_t h64)
{
	size_t len = strlen(id); /* <= QUOTA_ID_MAX */
	/* The id from its offset, not after the struct's tail padding; but
	 * never less than the struct, which quota__account_swap copies. */
	size_t size = offsetof(quota_account, id) + len + 1;
	quota_account *a = quota__calloc(&ctx->mem, 1,
					 size > sizeof *a ? size : sizeof *a);

	if (!a)
		return NULL;
	memcpy(a->id, id, len + 1);
	a->ctx = ctx;
	a->id_len = (uint8_t)len;
	a->hash = (uint32_t)(h64 >> 32); /* id_hash */
	a->x = (quota__acct_ext *)&quota__ext_none; /* read-only */
	a->clock = INT64_MIN;       /* R21: before every time */
	a->pruned_before = INT64_MIN; /* §7: nothing pruned */
	a->off_lo = INT64_MIN;  /* R26: offset 0 for all time */
	a->off_span = UINT64_MAX;
	return a;
}

/* The defaults of an account's ext (quota__acct_ext): no account-wide cap
 * (R9), R17 settlement daily, to the cent, half up, nothing settled; the
 * R11 key window's defaults (keys.c); the rest 0. */
const quota__acct_ext quota__ext_none = {
	.cap_all = {-1, -1},
	.keys = QUOTA__KEYS_INIT,
	.settle_period = QUOTA_PERIOD_DAY,
	.minor_unit = 10000,
	.rounding = QUOTA_ROUND_HALF_UP,
	.settled_upto = INT64_MIN,
};

int quota__ext_need(quota_account *a)
{
	quota__acct_ext *x;

	if (a->x != &quota__ext_none)
		return QUOTA_OK;
	x = quota__malloc(&a->ctx->mem, sizeof *x);
	if (!x)
		return quota__nomem(a);
	memcpy(x, &quota__ext_none, sizeof *x); /* padding too: see trim */
	a->x = x;
	return QUOTA_OK;
}

void quota__ext_trim(quota_account *a)
{
	if (a->x != &quota__ext_none &&
	    memcmp(a->x, &quota__ext_none, sizeof *a->x) == 0) {
		quota__free(&a->ctx->mem, a->x);
		a->x = (quota__acct_ext *)&quota__ext_none;
	}
}

int quota__cat_need(quota_account *a, uint64_t mask)
{
	uint64_t all = a->cat_mask | mask, m;
	unsigned n, old;
	quota__catblock *b;
	quota__cat *v;

	if (all == a->cat_mask && a->cats)
		return QUOTA_OK;
	n = quota__popcount64(all);
	old = quota__popcount64(a->cat_mask);
	b = quota__realloc(&a->ctx->mem, quota__catblock_of(a),
			   sizeof *b + n * sizeof *v);
	if (!b)
		return QUOTA_ENOMEM;
	if (!a->cats) /* a new block: no account-wide record yet */
		memset(b->all, 0, sizeof b->all);
	v = b->e;
	/* From the top down, each old entry to its new place (never below
	 * where it was) and the defaults in the gaps. */
	for (m = all; m; m &= ~QUOTA_MASK(63u - (unsigned)__builtin_clzll(m))) {
		unsigned c = 63u - (unsigned)__builtin_clzll(m);

		n--;
		if (a->cat_mask & QUOTA_MASK(c)) {
			v[n] = v[--old];
		} else {
			memset(&v[n], 0, sizeof v[n]);
			v[n].cap.day = v[n].cap.month = -1;
		}
	}
	a->cats = v;
	a->cat_mask = all;
	return QUOTA_OK;
}

/*
 * §7 the context's accounts by id: open addressing over acct_tab, placed
 * by the top 32 bits of the id's keyed hash, which each account keeps
 * (a->hash) and a probe compares before the id.  Load at most 1/2: 8
 * bytes a slot (a string map's entry takes 24), 17 bytes an account at a
 * million.
 *
 * Issue 13: at a million accounts reading an account is a cache miss and
 * a TLB miss, and linear probing at load 1/2 reads 1.5 slots to find an
 * id.  So a slot holds, beside the account's address, a tag: bits 16-31
 * of the hash, which placement never uses, in the address's top 16 bits
 * (ctx->acct_keep: those no user-space address has on x86-64 or AArch64).
 * A probe reads the account only when the tag matches: about once for an
 * id that is there, about never for one that is not.  An address with
 * those bits set (an allocator of the host's may give one) makes the
 * table drop its tags for good (acct_keep all ones, tag 0): every probe
 * then reads its account, as before.  The tags live in memory only;
 * snapshots and records name accounts by id.
 */
static uintptr_t tag_of(const quota_ctx *ctx, uint64_t h64)
{
	return (uintptr_t)(h64 << 32) & ~ctx->acct_keep;
}

static quota_account *slot_acct(const quota_ctx *ctx, uintptr_t v)
{
	return (quota_account *)(v & ctx->acct_keep);
}

static void tab_put(const quota_ctx *ctx, uintptr_t *tab, size_t cap,
		    uintptr_t v)
{
	size_t i, mask = cap - 1;

	for (i = slot_acct(ctx, v)->hash & mask; tab[i]; i = (i + 1) & mask)
		;
	tab[i] = v;
}

/* The slot of the account with this id, whose keyed hash is h64, or
 * (size_t)-1. */
static size_t tab_find_h(const quota_ctx *ctx, const char *id, uint64_t h64)
{
	uint32_t h;
	uintptr_t v, tag, keep = ctx->acct_keep;
	size_t i, mask;

	if (!ctx->acct_cap)
		return (size_t)-1;
	h = (uint32_t)(h64 >> 32); /* id_hash */
	tag = tag_of(ctx, h64);
	mask = ctx->acct_cap - 1;
	for (i = h & mask; (v = ctx->acct_tab[i]); i = (i + 1) & mask) {
		const quota_account *a;

		if ((v & ~keep) != tag)
			continue;
		a = (const quota_account *)(v & keep);
		if (a->hash == h && strcmp(a->id, id) == 0)
			return i;
	}
	return (size_t)-1;
}

/* The slot of the account with this id, or (size_t)-1. */
static size_t tab_find(const quota_ctx *ctx, const char *id)
{
	if (!ctx->acct_cap) /* no hash to compute */
		return (size_t)-1;
	return tab_find_h(ctx, id, quota__strhash(&ctx->hkey, id));
}

quota_account *quota__account_get(const quota_ctx *ctx, const char *id)
{
	size_t i = tab_find(ctx, id);

	return i == (size_t)-1 ? NULL : slot_acct(ctx, ctx->acct_tab[i]);
}

/*
 * Issue 10: replay looks up the account of every record, and the keyed
 * hash of its id was a tenth of the work.  Records come in runs of one
 * account or in turns of a few, so the slot where the id was found last
 * is mostly where it is now.  A hint is only a place to look: the slot
 * holds a live account or nothing, and its id must be this one.
 */
quota_account *quota__account_get_hint(quota_ctx *ctx, const char *id,
				       size_t len)
{
	const unsigned char *u = (const unsigned char *)id;
	uint32_t mix;
	size_t *hint, i;
	quota_account *a;

	if (!len)
		return NULL;
	/* first, middle and last byte and the length, multiplied so that
	 * each moves the top 3 bits */
	mix = ((uint32_t)u[0] | (uint32_t)u[len / 2] << 8 |
	       (uint32_t)u[len - 1] << 16 | (uint32_t)len << 24) *
	      UINT32_C(0x9E3779B1);
	hint = &ctx->acct_hint[mix >> 29];
	i = *hint;
	if (i < ctx->acct_cap && ctx->acct_tab[i]) {
		a = slot_acct(ctx, ctx->acct_tab[i]);
		if (a->id_len == len && !memcmp(a->id, id, len))
			return a;
	}
	if ((i = tab_find(ctx, id)) == (size_t)-1)
		return NULL;
	*hint = i;
	return slot_acct(ctx, ctx->acct_tab[i]);
}

int quota__account_room(quota_ctx *ctx, const char *id)
{
	return quota__account_room_h(ctx, id, quota__strhash(&ctx->hkey, id));
}

enum { GROW_AHEAD = 16 };

int quota__account_room_h(quota_ctx *ctx, const char *id, uint64_t h64)
{
	uintptr_t *nt;
	size_t i, ncap;

	if (tab_find_h(ctx, id, h64) != (size_t)-1)
		return quota__err(ctx, QUOTA_EEXISTS,
				  "account '%s' already exists", id);
	if (ctx->naccounts >= UINT32_MAX - 1 ||
	    quota__grow(&ctx->mem, (void **)&ctx->accounts, &ctx->cap_accounts,
			ctx->naccounts + 1, sizeof *ctx->accounts))
		return quota__err(ctx, QUOTA_ENOMEM,
				  "account '%s': out of memory", id);
	if ((ctx->naccounts + 1) * 2 <= ctx->acct_cap)
		return QUOTA_OK;
	ncap = ctx->acct_cap ? ctx->acct_cap * 2 : 16;
	if (!(nt = quota__calloc(&ctx->mem, ncap, sizeof *nt)))
		return quota__err(ctx, QUOTA_ENOMEM,
				  "account '%s': out of memory", id);
	/* Each keeps its tag.  Placing one reads its account's hash, a
	 * cache miss at a million (issue 13): the accounts GROW_AHEAD slots
	 * on are asked for first, so those misses overlap. */
	for (i = 0; i < ctx->acct_cap; i++) {
		if (i + GROW_AHEAD < ctx->acct_cap &&
		    ctx->acct_tab[i + GROW_AHEAD])
			quota__hint(&slot_acct(ctx, ctx->acct_tab[i +
						GROW_AHEAD])->hash);
		if (ctx->acct_tab[i])
			tab_put(ctx, nt, ncap, ctx->acct_tab[i]);
	}
	quota__free(&ctx->mem, ctx->acct_tab);
	ctx->acct_tab = nt;
	ctx->acct_cap = ncap;
	return QUOTA_OK;
}

void quota__account_register(quota_ctx *ctx, quota_account *a)
{
	quota__account_register_h(ctx, a, quota__strhash(&ctx->hkey, a->id));
}

void quota__account_register_h(quota_ctx *ctx, quota_account *a, uint64_t h64)
{
	uintptr_t v = (uintptr_t)a;
	size_t i;

	if (v & ~ctx->acct_keep) { /* no room for tags: drop them */
		for (i = 0; i < ctx->acct_cap; i++)
			ctx->acct_tab[i] &= ctx->acct_keep;
		ctx->acct_keep = UINTPTR_MAX;
	}
	v |= tag_of(ctx, h64);
	ctx->accounts[ctx->naccounts++] = a;
	tab_put(ctx, ctx->acct_tab, ctx->acct_cap, v);
}

/* Account a leaves: its slot goes (linear probing's backward shift, so
 * no tombstones; slots move with their tags). */
static void tab_remove(quota_ctx *ctx, const quota_account *a)
{
	uintptr_t *tab = ctx->acct_tab;
	size_t i = tab_find(ctx, a->id), j, k, mask = ctx->acct_cap - 1;

	for (j = i;;) {
		j = (j + 1) & mask;
		if (!tab[j])
			break;
		/* where it would rather be */
		k = slot_acct(ctx, tab[j])->hash & mask;
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	tab[i] = 0;
}

/*
 * quota_account_new through the write path (§5).  Its record goes to the
 * stream of the account prepare allocates (the created step names it).
 */
struct account_new_op {
	quota_ctx *ctx;
	const char *id;
	quota_account **out;
	quota_account *a; /* prepare's, registered by apply */
	uint64_t h64;     /* the id's keyed hash, computed once */
};

static int account_new_prepare(void *v)
{
	struct account_new_op *op = v;
	int rc;

	if ((rc = quota__check_name(op->ctx, "account id", op->id,
				    QUOTA_ID_MAX)))
		return rc;
	op->h64 = quota__strhash(&op->ctx->hkey, op->id);
	if ((rc = quota__account_room_h(op->ctx, op->id, op->h64)))
		return rc;
	op->a = quota__account_alloc_h(op->ctx, op->id, op->h64);
	if (!op->a)
		return quota__err(op->ctx, QUOTA_ENOMEM,
				  "account '%s': out of memory", op->id);
	return QUOTA_OK;
}

static void account_new_apply(void *v)
{
	struct account_new_op *op = v;

	quota__account_register_h(op->ctx, op->a, op->h64);
	*op->out = op->a;
}

static void account_new_undo(void *v)
{
	struct account_new_op *op = v;

	quota__free(&op->ctx->mem, op->a);
}

static quota_account *account_new_created(void *v)
{
	return ((struct account_new_op *)v)->a;
}

/* Its first record (no fields): replay creates the account from it. */
static const quota__step account_new_steps = {
	.rec = QUOTA__R_ACCOUNT_NEW,
	.prepare = account_new_prepare,
	.apply = account_new_apply,
	.undo = account_new_undo,
	.created = account_new_created,
};

int quota_account_new(quota_ctx *ctx, const char *id, quota_account **out)
{
	struct account_new_op op = {ctx, id, out, NULL, 0};

	if (out)
		*out = NULL;
	if (!ctx || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_account_new: NULL argument");
	return quota__write(ctx, NULL, &account_new_steps, &op);
}

/*
 * Issue 13: a host finds an account to charge it, and at a million
 * accounts each block a charge reads is a cache miss, the next known only
 * once the one before has arrived.  The account has just been read, so its
 * category block's lines, which a charge reads first (its lowest
 * category's entry and current record, the account-wide record), are
 * fetched while the caller gets on to its charge.  A hint only: nothing
 * is read from them here.
 */
static void warm(const quota_account *a)
{
	if (a->cats)
		quota__hint_cat(a, a->cats);
	/* and the index and package its last fast-path charge read, which
	 * the block names: asked for now, they need not wait for it (one
	 * miss fewer in a row); a full index's head hint too (bit 0) */
	if (a->hot_ix) {
		uintptr_t ix = a->hot_ix & ~(uintptr_t)1;

		quota__hint((const void *)ix);
		if (a->hot_ix & 1)
			quota__hint((const void *)(ix + offsetof(quota__pindex,
								 hint_lo)));
	}
	if (a->hot_pk)
		quota__hint_w((const void *)(a->hot_pk +
					     offsetof(quota_package, remaining)));
}

int quota_account_find(const quota_ctx *cctx, const char *id,
		       quota_account **out)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */
	int rc;

	if (out)
		*out = NULL;
	if (!ctx || !id || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_account_find: NULL argument");
	/* An id quota_account_new would refuse is refused the same way;
	 * one equal to an account's passed that check, so only an id not
	 * found is checked (issue 13: no UTF-8 scan before a charge). */
	*out = quota__account_get(ctx, id);
	if (!*out) {
		if ((rc = quota__check_name(ctx, "account id", id,
					    QUOTA_ID_MAX)))
			return rc;
		return quota__err(ctx, QUOTA_ENOTFOUND, "no account '%s'", id);
	}
	warm(*out);
	quota__ok(ctx);
	return QUOTA_OK;
}

/*
 * Issue 13, §7: many accounts found at once.  One at a time, finding an
 * account at a million is a chain of cache (and TLB) misses: the id's
 * bytes, its table slot, the account, each known only once the one
 * before has arrived; the processor cannot reach past one call's
 * instructions to start the next call's.  Here the ids go in groups of
 * FIND_GROUP, and each step is taken for the whole group before the
 * next: the ids' bytes are fetched; then hashed, and their slots fetched;
 * then the accounts the slots name (by their tags) fetched; then each id
 * is looked up as quota_account_find does, every line it reads already
 * on its way.  A group's misses overlap, where one call's follow each
 * other.  Only the last step decides: the others are hints, so a wrong
 * guess costs time, never a wrong answer.  Nothing is allocated.
 */
enum { FIND_GROUP = 16 };

static void find_group(const quota_ctx *ctx, const char *const *ids,
		       size_t n, quota_account **out, size_t *missing)
{
	uint64_t h[FIND_GROUP];
	size_t i, mask = ctx->acct_cap - 1;

	for (i = 0; i < n; i++)
		quota__hint(ids[i]);
	for (i = 0; i < n; i++) {
		h[i] = quota__strhash(&ctx->hkey, ids[i]);
		quota__hint(&ctx->acct_tab[(h[i] >> 32) & mask]);
	}
	for (i = 0; i < n; i++) {
		uintptr_t v = ctx->acct_tab[(h[i] >> 32) & mask];

		if (v && (v & ~ctx->acct_keep) == tag_of(ctx, h[i])) {
			const quota_account *a = slot_acct(ctx, v);

			quota__hint(&a->ctx);
			quota__hint(&a->hash);
		}
	}
	for (i = 0; i < n; i++) {
		size_t s = tab_find_h(ctx, ids[i], h[i]);

		if (s == (size_t)-1) {
			++*missing;
			continue;
		}
		out[i] = slot_acct(ctx, ctx->acct_tab[s]);
		warm(out[i]);
	}
}

int quota_account_find_many(const quota_ctx *cctx, const char *const *ids,
			    size_t n, quota_account **out)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */
	size_t i, missing = 0;

	/* Every answer is NULL until found, whatever is refused (out and
	 * ids must not overlap). */
	if (out)
		for (i = 0; i < n; i++)
			out[i] = NULL;
	if (!ctx || (n && (!ids || !out)))
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_account_find_many: NULL argument");
	for (i = 0; i < n; i++)
		if (!ids[i])
			return quota__err(ctx, QUOTA_EINVAL,
					  "quota_account_find_many: ids[%zu] "
					  "is NULL",
					  i);
	if (!ctx->acct_cap)
		missing = n;
	else
		for (i = 0; i < n; i += FIND_GROUP)
			find_group(ctx, ids + i,
				   n - i < FIND_GROUP ? n - i : FIND_GROUP,
				   out + i, &missing);
	if (missing)
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "quota_account_find_many: %zu of the %zu "
				  "ids name no account",
				  missing, n);
	quota__ok(ctx);
	return QUOTA_OK;
}

uint32_t quota_ctx_account_count(const quota_ctx *ctx)
{
	return ctx ? (uint32_t)ctx->naccounts : 0;
}

quota_account *quota_ctx_account_at(const quota_ctx *ctx, uint32_t i)
{
	return ctx && i < ctx->naccounts ? ctx->accounts[i] : NULL;
}

/*
 * §7 (long-running hosts): an account leaves the context's memory.  It
 * changes no account state, so it writes no record and takes no step of
 * the write path (§5): with a store set, the store keeps the account
 * whole and a host brings it back on its next use (quota_account_load of
 * a snapshot, or an adapter's loader, which also applies the records
 * after it); without one the state is gone.  The context's list keeps
 * the order accounts were made in, so the pointers after it move up one:
 * O(accounts), where quota_ctx_account_at stays O(1).
 *
 * Nothing else in the context keeps an account pointer between calls:
 * events and bills (quota_event.account, quota_bill.account) are
 * delivered before their call returns, except in a batch, whose accounts
 * are marked (in_batch) and whose events wait in ctx->evbuf: so a batch,
 * and replay, refuse the call.
 */
int quota_account_remove(quota_account *a)
{
	quota_ctx *ctx;
	size_t i;

	if (!a)
		return QUOTA_EINVAL;
	ctx = a->ctx;
	if (a->in_batch || ctx->batching || ctx->replaying)
		return quota__err(ctx, QUOTA_EINVAL,
				  "account '%s': cannot be removed inside a "
				  "batch or while records are applied",
				  a->id);
	for (i = ctx->naccounts; i-- > 0 && ctx->accounts[i] != a;)
		;
	if (i == (size_t)-1) /* cannot happen for a live handle */
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "account '%s' is not in its context",
				  a->id);
	tab_remove(ctx, a);
	memmove(&ctx->accounts[i], &ctx->accounts[i + 1],
		(ctx->naccounts - i - 1) * sizeof *ctx->accounts);
	ctx->naccounts--;
	quota__account_free(a);
	quota__ok(ctx);
	return QUOTA_OK;
}

void quota__account_free(quota_account *a)
{
	const quota__mem *mem;
	uint32_t i;

	if (!a)
		return;
	mem = &a->ctx->mem;
	for (i = 0; i < a->npackages; i++)
		quota__package_free(mem, a->packages[i]);
	for (i = quota__popcount64(a->cat_mask); i--;) {
		quota__pindex_free(mem, a->cats[i].pindex);
	}
	quota__free(mem, quota__catblock_of(a));
	quota__free(mem, a->packages);
	quota__strmap_free(mem, &a->package_ids);
	quota__cnt_free(mem, &a->counters);
	if (a->x != &quota__ext_none) {
		quota__holds_free(a);
		quota__keys_free(a);
		quota__track_free(a);
		quota__money_free(a);
		quota__block_free(a);
		quota__renew_free(a);
		quota__free(mem, a->x);
	}
	quota__ledger_free(a);
	quota__free(mem, a);
}

const char *quota_account_id(const quota_account *a)
{
	return a ? a->id : NULL;
}

quota_ctx *quota_account_ctx(const quota_account *a)
{
	return a ? a->ctx : NULL;
}
