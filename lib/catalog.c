/*
 * catalog.c - the package catalog and purchases (R5, R16, R19).
 */
#include "ctx.h"

void quota__offers_free(quota_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->noffers; i++) {
		quota__free(&ctx->mem, ctx->offers[i]->id);
		quota__free(&ctx->mem, ctx->offers[i]);
	}
	quota__free(&ctx->mem, ctx->offers);
	quota__strmap_free(&ctx->mem, &ctx->offer_ids);
	ctx->offers = NULL;
	ctx->noffers = ctx->cap_offers = 0;
}
