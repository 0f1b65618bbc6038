/*
 * journal.c - the store (quota_store.h) and the journal step of the one
 * write path (DESIGN §5): records are encoded here, handed to the store,
 * and their outcome decides whether the call applies.  Replay, the other
 * half, is in replay.c.
 *
 * Only this file writes the context's store fields, the record buffer and
 * the sequence numbers of the streams.
 */
#include "journal.h"

#include <string.h>

int quota_ctx_set_store(quota_ctx *ctx, const quota_store *st)
{
	if (!ctx)
		return QUOTA_EINVAL;
	if (!st) {
		ctx->store_on = false;
		memset(&ctx->store, 0, sizeof ctx->store);
		quota__ok(ctx);
		return QUOTA_OK;
	}
	/* Versioned struct (STYLE 9): refuse what we do not know. */
	if (st->version != QUOTA_STORE_VERSION ||
	    st->size < sizeof(quota_store))
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_store: unknown store version "
				  "%u (size %zu)",
				  st->version, st->size);
	if (!st->append || !st->begin != !st->commit)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_store: append is required, "
				  "begin and commit go together");
	ctx->store = *st;
	ctx->store_on = true;
	quota__ok(ctx);
	return QUOTA_OK;
}

int quota__rec_begin_slow(quota_ctx *ctx, quota_account *a, unsigned op,
			  quota__wbuf **w)
{
	quota__wbuf *b = &ctx->jbuf;

	*w = NULL;
	if (ctx->replaying)
		return QUOTA_OK;
	if (a && a->unsynced)
		return quota__err(ctx, QUOTA_EUNSYNCED,
				  "account '%s': a store outcome is unknown; "
				  "re-synchronise it from the store",
				  a->id);
	b->mem = &ctx->mem;
	b->n = 0;
	b->fail = false;
	/* Frame first (filled in by quota__rec_commit), then the header. */
	quota__put_u32(b, 0);
	quota__put_u32(b, 0);
	quota__put_u8(b, QUOTA__JOURNAL_MAJOR);
	quota__put_u8(b, QUOTA__JOURNAL_MINOR);
	quota__put_u8(b, (uint8_t)op);
	quota__put_uv(b, a ? a->seq + 1 : ctx->config_seq + 1);
	quota__put_str(b, a ? a->id : NULL);
	quota__put_sv(b, a ? a->clock : 0);
	*w = b;
	return QUOTA_OK;
}

int quota__rec_commit(quota_ctx *ctx, quota_account *a, quota__wbuf *w)
{
	uint64_t seq;
	uint32_t body, crc;
	int rc;

	if (!w)
		return QUOTA_OK;
	if (w->fail) {
		if (a)
			return quota__nomem(a);
		return quota__err(ctx, QUOTA_ENOMEM,
				  "journal: out of memory for a record");
	}
	body = (uint32_t)(w->n - QUOTA__FRAME);
	crc = quota__crc32c(0, w->p + QUOTA__FRAME, body);
	for (int i = 0; i < 4; i++) {
		w->p[i] = (uint8_t)(body >> (8 * i));
		w->p[4 + i] = (uint8_t)(crc >> (8 * i));
	}
	seq = a ? a->seq + 1 : ctx->config_seq + 1;
	rc = ctx->store.append(ctx->store.ud, a ? a->id : NULL, seq, w->p,
			       w->n);
	switch (rc) {
	case QUOTA_OK:
		if (a)
			a->seq = seq;
		else
			ctx->config_seq = seq;
		return QUOTA_OK;
	case QUOTA_ECONFLICT:
		return quota__err(ctx, QUOTA_ECONFLICT,
				  "%s%s%s: the store already holds record "
				  "%llu; load the newer records and retry",
				  a ? "account '" : "configuration",
				  a ? a->id : "", a ? "'" : "",
				  (unsigned long long)seq);
	case QUOTA_EUNKNOWN:
		/* Never guess (STYLE 28): stop until re-synchronised. */
		if (a)
			a->unsynced = true;
		return quota__err(ctx, QUOTA_EUNKNOWN,
				  "%s%s%s: the store could not tell whether "
				  "record %llu was stored",
				  a ? "account '" : "configuration",
				  a ? a->id : "", a ? "'" : "",
				  (unsigned long long)seq);
	default:
		return quota__err(ctx, QUOTA_ESTORE,
				  "%s%s%s: the store refused record %llu "
				  "(%s)",
				  a ? "account '" : "configuration",
				  a ? a->id : "", a ? "'" : "",
				  (unsigned long long)seq,
				  quota_err_name(rc));
	}
}

int quota__fast_journal(quota_account *a, const quota_usage *u, int64_t free,
			quota_package *pk, int64_t take, int64_t need,
			uint32_t tier, int64_t price, int64_t cost)
{
	quota__draw d = {pk, take};
	quota__payg l = {tier, need, price, cost};
	quota__src s;
	quota__wbuf *w;
	int rc;

	memset(&s, 0, sizeof s);
	s.free = free;
	s.ndraws = take ? 1 : 0;
	s.draws = &d;
	s.npayg = need ? 1 : 0;
	s.paygs = &l;
	if ((rc = quota__rec_begin(a->ctx, a, QUOTA__R_CHARGE, &w)) || !w)
		return rc;
	quota__rec_usage(w, u);
	quota__rec_src(w, &s);
	return quota__rec_commit(a->ctx, a, w);
}

void quota__rec_src(quota__wbuf *w, const quota__src *s)
{
	uint32_t i;

	quota__put_sv(w, s->free);
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
