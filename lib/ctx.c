/*
 * ctx.c - the context: allocator, category registry, and ownership of
 * every tariff and account created in it.
 */
#include "journal.h"

#include <string.h>

int quota_ctx_new(quota_ctx **out)
{
	return quota_ctx_new_with(NULL, out);
}

int quota_ctx_new_with(const quota_allocator *alloc, quota_ctx **out)
{
	quota__mem mem;
	quota_ctx *ctx;

	if (!out)
		return QUOTA_EINVAL;
	*out = NULL;
	/* Versioned struct (STYLE 9): refuse what we do not know. */
	if (alloc && (alloc->version != QUOTA_ALLOCATOR_VERSION ||
		      !alloc->malloc_fn || !alloc->realloc_fn ||
		      !alloc->free_fn))
		return QUOTA_EINVAL;
	quota__mem_init(&mem, alloc);
	ctx = quota__calloc(&mem, 1, sizeof *ctx);
	if (!ctx)
		return QUOTA_ENOMEM;
	ctx->mem = mem;
	ctx->acct_keep = QUOTA__ACCT_KEEP;
	quota__hkey_random(&ctx->hkey, ctx);
	*out = ctx;
	return QUOTA_OK;
}

/*
 * A host-given key for the string tables' hash, so that a simulation lays
 * its tables out the same on every run.  Only while no table keyed by a
 * string holds anything (no account, tariff or offer; categories are not
 * hashed): rehashing them would be a second, rarely run path for nothing.
 */
int quota_ctx_set_hash_seed(quota_ctx *ctx, const uint8_t seed[16])
{
	if (!ctx)
		return QUOTA_EINVAL;
	if (!seed)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_hash_seed: NULL seed");
	if (ctx->naccounts || ctx->ntariffs || ctx->noffers ||
	    ctx->tariff_names.n || ctx->offer_ids.n)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_hash_seed: the context "
				  "already holds accounts, tariffs or offers");
	quota__hkey_set(&ctx->hkey, seed);
	quota__ok(ctx);
	return QUOTA_OK;
}

void quota_ctx_free(quota_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->naccounts; i++)
		quota__account_free(ctx->accounts[i]);
	for (i = 0; i < ctx->ntariffs; i++)
		quota__tariff_free(ctx->tariffs[i]);
	quota__offers_free(ctx);
	quota__zones_free(ctx); /* after the accounts that point at them */
	for (i = 0; i < ctx->ncategories; i++)
		quota__free(&ctx->mem, ctx->category[i]);
	quota__free(&ctx->mem, ctx->accounts);
	quota__free(&ctx->mem, ctx->tariffs);
	quota__free(&ctx->mem, ctx->acct_tab);
	quota__strmap_free(&ctx->mem, &ctx->tariff_names);
	quota__free(&ctx->mem, ctx->scratch);
	quota__free(&ctx->mem, ctx->lp_pkg);
	quota__free(&ctx->mem, ctx->back);
	quota__free(&ctx->mem, ctx->evbuf);
	quota__free(&ctx->mem, ctx->evrcpt);
	quota__wbuf_free(&ctx->jbuf);
	quota__free(&ctx->mem, ctx);
}

int quota__check_name(quota_ctx *ctx, const char *what, const char *s,
		      size_t max)
{
	size_t n, bad;

	if (!s)
		return quota__err(ctx, QUOTA_EINVAL, "%s is NULL", what);
	n = strlen(s);
	if (n == 0 || n > max)
		return quota__err(ctx, QUOTA_EINVAL,
				  "%s must be 1 to %zu bytes, not %zu", what,
				  max, n);
	if (!quota__utf8_valid(s, n, &bad))
		return quota__err(ctx, QUOTA_EENCODING,
				  "%s: invalid UTF-8 at byte %zu", what, bad);
	return QUOTA_OK;
}

int quota__check_category(quota_ctx *ctx, uint32_t category)
{
	if (category >= ctx->ncategories)
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "unknown category id %u (%u registered)",
				  (unsigned)category,
				  (unsigned)ctx->ncategories);
	return QUOTA_OK;
}

int quota__check_mask(quota_ctx *ctx, const char *what, const char *id,
		      uint64_t mask)
{
	const uint64_t known = ctx->ncategories == 64
				       ? UINT64_MAX
				       : QUOTA_MASK(ctx->ncategories) - 1;

	if (!mask)
		return quota__err(ctx, QUOTA_EINVAL,
				  "%s '%s': covers no category", what, id);
	if (mask & ~known)
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "%s '%s': unknown category id %u", what, id,
				  (unsigned)__builtin_ctzll(mask & ~known));
	return QUOTA_OK;
}

/* quota_category_add through the write path (§5). */
struct category_add_op {
	quota_ctx *ctx;
	const char *name;
	uint32_t *id;
	char *copy; /* prepare's copy of the name */
};

static int category_add_prepare(void *v)
{
	struct category_add_op *op = v;
	quota_ctx *ctx = op->ctx;
	const char *name = op->name;
	uint32_t i;
	int rc;

	if (!op->id) /* the id is the only handle on the category */
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_category_add: NULL id");
	if ((rc = quota__check_name(ctx, "category name", name,
				    QUOTA_CATEGORY_NAME_MAX)))
		return rc;
	for (i = 0; i < ctx->ncategories; i++)
		if (strcmp(ctx->category[i], name) == 0)
			return quota__err(ctx, QUOTA_EEXISTS,
					  "category '%s' already exists", name);
	if (ctx->ncategories == QUOTA_MAX_CATEGORIES)
		return quota__err(ctx, QUOTA_EOVERFLOW,
				  "category '%s': a context holds at most %d",
				  name, QUOTA_MAX_CATEGORIES);
	op->copy = quota__strdup(&ctx->mem, name);
	if (!op->copy)
		return quota__err(ctx, QUOTA_ENOMEM, "category '%s': %s", name,
				  quota_strerror(QUOTA_ENOMEM));
	return QUOTA_OK;
}

static void category_add_encode(quota__wbuf *w, const void *v)
{
	quota__put_str(w, ((const struct category_add_op *)v)->name);
}

static void category_add_apply(void *v)
{
	struct category_add_op *op = v;
	quota_ctx *ctx = op->ctx;

	ctx->category[ctx->ncategories] = op->copy;
	*op->id = ctx->ncategories;
	ctx->ncategories++;
}

static void category_add_undo(void *v)
{
	struct category_add_op *op = v;

	quota__free(&op->ctx->mem, op->copy);
}

static const quota__step category_add_steps = {
	.rec = QUOTA__R_CATEGORY_ADD,
	.prepare = category_add_prepare,
	.encode = category_add_encode,
	.apply = category_add_apply,
	.undo = category_add_undo,
};

int quota_category_add(quota_ctx *ctx, const char *name, uint32_t *id)
{
	struct category_add_op op = {ctx, name, id, NULL};

	if (!ctx)
		return QUOTA_EINVAL;
	return quota__write(ctx, NULL, &category_add_steps, &op);
}

int quota_category_find(const quota_ctx *cctx, const char *name, uint32_t *id)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */
	uint32_t i;
	int rc;

	if (!ctx || !name || !id)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_category_find: NULL argument");
	/* A name quota_category_add would refuse is refused the same way. */
	if ((rc = quota__check_name(ctx, "category name", name,
				    QUOTA_CATEGORY_NAME_MAX)))
		return rc;
	for (i = 0; i < ctx->ncategories; i++)
		if (strcmp(ctx->category[i], name) == 0) {
			*id = i;
			quota__ok(ctx);
			return QUOTA_OK;
		}
	return quota__err(ctx, QUOTA_ENOTFOUND, "no category '%s'", name);
}

const char *quota_category_name(const quota_ctx *ctx, uint32_t id)
{
	if (!ctx || id >= ctx->ncategories)
		return NULL;
	return ctx->category[id];
}

uint32_t quota_category_count(const quota_ctx *ctx)
{
	return ctx ? ctx->ncategories : 0;
}
