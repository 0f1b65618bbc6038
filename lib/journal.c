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

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

int quota_ctx_set_store(quota_ctx *ctx, const quota_store *st)
{
	size_t known; /* the bytes of st's version this library reads */

	if (!ctx)
		return QUOTA_EINVAL;
	if (!st) {
		ctx->store_on = false;
		memset(&ctx->store, 0, sizeof ctx->store);
		quota__ok(ctx);
		return QUOTA_OK;
	}
	/* Versioned struct (STYLE 9): refuse what we do not know; take
	 * version 1 (no errmsg) as it was. */
	known = st->version == 1 ? offsetof(quota_store, errmsg)
				 : sizeof(quota_store);
	if ((st->version != 1 && st->version != QUOTA_STORE_VERSION) ||
	    st->size < known)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_store: unknown store version "
				  "%u (size %zu)",
				  st->version, st->size);
	if (!st->append || !st->begin != !st->commit)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_ctx_set_store: append is required, "
				  "begin and commit go together");
	memset(&ctx->store, 0, sizeof ctx->store);
	memcpy(&ctx->store, st, known);
	ctx->store_on = true;
	quota__ok(ctx);
	return QUOTA_OK;
}

int quota__store_err(quota_ctx *ctx, int code, const char *fmt, ...)
{
	const char *says = ctx->store.errmsg ? ctx->store.errmsg(ctx->store.ud)
					     : NULL;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
	va_end(ap);
	n = strlen(ctx->errmsg);
	if (says && *says)
		snprintf(ctx->errmsg + n, sizeof ctx->errmsg - n, ": %s", says);
	return code;
}

/* The refusal of every change to an account whose last store outcome is
 * unknown (§5). */
int quota__unsynced_err(quota_ctx *ctx, const quota_account *a)
{
	return quota__err(ctx, QUOTA_EUNSYNCED,
			  "account '%s': a store outcome is unknown; "
			  "re-synchronise it from the store",
			  a->id);
}

int quota__rec_begin_slow(quota_ctx *ctx, quota_account *a, unsigned op,
			  quota__wbuf **w)
{
	quota__wbuf *b = &ctx->jbuf;
	uint8_t *p;

	*w = NULL;
	if (ctx->replaying)
		return QUOTA_OK;
	if (a && a->unsynced)
		return quota__unsynced_err(ctx, a);
	b->mem = &ctx->mem;
	b->n = 0;
	b->fail = false;
	p = quota__wbuf_at(b, QUOTA__HEAD_MAX);
	if (p)
		quota__wbuf_end(b, a ? quota__rec_head_at(p, op, a->seq + 1,
							  a->id, a->id_len,
							  a->clock)
				     : quota__rec_head_at(p, op,
							  ctx->config_seq + 1,
							  NULL, 0, 0));
	*w = b;
	return QUOTA_OK;
}

/* The store's refusal of record seq (rc): nothing changed; an unknown
 * outcome leaves a waiting to be re-synchronised. */
int quota__rec_refused(quota_ctx *ctx, quota_account *a, uint64_t seq,
		       int rc)
{
	int code = rc == QUOTA_ECONFLICT || rc == QUOTA_EUNKNOWN
			   ? rc
			   : QUOTA_ESTORE;

	if (code == QUOTA_EUNKNOWN && a)
		a->unsynced = true; /* never guess (STYLE 28) */
	/* quota_store(3): the message names the store's code, its number
	 * too (a code of the host's own has no name) */
	return quota__store_err(ctx, code,
			  "%s%s%s: record %llu: the store %s (%s, %d)",
			  a ? "account '" : "configuration", a ? a->id : "",
			  a ? "'" : "", (unsigned long long)seq,
			  code == QUOTA_ECONFLICT
				  ? "already holds it; load the newer records "
				    "and retry"
			  : code == QUOTA_EUNKNOWN
				  ? "could not tell whether it was stored"
				  : "refused it",
			  quota_err_name(rc), rc);
}

/* Hand a sealed record to the store; its answer is the call's (see
 * quota__rec_commit). */
static int rec_store(quota_ctx *ctx, quota_account *a, const uint8_t *rec,
		     size_t n)
{
	uint64_t seq = a ? a->seq + 1 : ctx->config_seq + 1;
	int rc = ctx->store.append(ctx->store.ud, a ? a->id : NULL, seq, rec,
				   n);

	if (rc != QUOTA_OK)
		return quota__rec_refused(ctx, a, seq, rc);
	if (a)
		a->seq = seq;
	else
		ctx->config_seq = seq;
	return QUOTA_OK;
}

int quota__rec_commit(quota_ctx *ctx, quota_account *a, quota__wbuf *w)
{
	if (!w)
		return QUOTA_OK;
	if (w->fail) {
		if (a)
			return quota__nomem(a);
		return quota__err(ctx, QUOTA_ENOMEM,
				  "journal: out of memory for a record");
	}
	quota__rec_seal(w->p, w->n);
	return rec_store(ctx, a, w->p, w->n);
}

/* The events step of quota__write. */
static void write_events(quota_account *a, const quota__step *st, void *op)
{
	if (st->events)
		st->events(op);
	if (st->flush && a)
		quota__events_flush(a);
}

int quota__write(quota_ctx *ctx, quota_account *a, const quota__step *st,
		 void *op)
{
	int rc;

	/* §5: an account whose last store outcome is unknown refuses every
	 * change with QUOTA_EUNSYNCED before its state is looked at: a
	 * refusal its state decides (blocked, suspended, a cap) would be a
	 * guess at what the store holds. */
	if (a && (rc = quota__synced(a)))
		return rc;
	if (a && st->ext && (rc = quota__ext_need(a)))
		return rc;
	return quota__write_from(ctx, a, st, op,
				 st->prepare ? st->prepare(op) : QUOTA_OK);
}

int quota__write_from(quota_ctx *ctx, quota_account *a,
		      const quota__step *st, void *op, int rc)
{
	quota__wbuf *w;

	if (rc) {
		if (rc == QUOTA__NOTHING) { /* no record, no apply */
			quota__ok(ctx);
			write_events(a, st, op);
		}
		return rc;
	}
	if (st->created)
		a = st->created(op);
	if (!(rc = quota__rec_begin(ctx, a, st->rec, &w)) && w) {
		if (st->encode)
			st->encode(w, op);
		rc = quota__rec_commit(ctx, a, w);
	}
	if (rc) {
		if (st->undo)
			st->undo(op);
		return rc;
	}
	st->apply(op);
	/* §5: configuration no store received (an account's state a store
	 * can take whole from its snapshot: quota_account_snapshot) */
	if (!a && st->rec && !ctx->store_on && !ctx->replaying)
		ctx->config_unstored++;
	quota__ok(ctx);
	write_events(a, st, op);
	return QUOTA_OK;
}

void quota__rec_planned(quota__wbuf *w, unsigned op, const quota_usage *u,
			int64_t timeout, const quota__src *s)
{
	quota__rec_usage(w, u);
	if (op == QUOTA__R_RESERVE)
		quota__put_sv(w, timeout);
	quota__rec_src(w, s);
}

int quota__fast_rec_start(quota_account *a, unsigned op)
{
	quota__wbuf *w;
	int rc = quota__rec_begin_slow(a->ctx, a, op, &w);

	if (rc)
		return rc; /* unsynced */
	if (!w)
		return 1; /* replay writes nothing */
	/* The buffer grows once (the context's), from its start. */
	w->n = 0;
	if (!quota__wbuf_room(w, QUOTA__FAST_REC_ROOM))
		return quota__rec_commit(a->ctx, a, w); /* QUOTA_ENOMEM */
	return 0;
}

void quota__rec_src(quota__wbuf *w, const quota__src *s)
{
	uint8_t *p = quota__wbuf_at(w, QUOTA__UV_MAX *
					       (3 + 2 * (size_t)s->ndraws +
						4 * (size_t)s->npayg));
	uint32_t i;

	if (!p)
		return;
	p = quota__sv_at(p, s->free);
	p = quota__uv_at(p, s->ndraws);
	for (i = 0; i < s->ndraws; i++)
		p = quota__rec_draw_at(p, s->draws[i].pk->seq,
				       s->draws[i].units);
	p = quota__uv_at(p, s->npayg);
	for (i = 0; i < s->npayg; i++)
		p = quota__rec_payg_at(p, s->paygs[i].tier, s->paygs[i].units,
				       s->paygs[i].price, s->paygs[i].cost);
	quota__wbuf_end(w, p);
}

/* §5, §6: where an account's and the configuration's streams stand, for a
 * store that catches up with records other writers appended. */
uint64_t quota_account_seq(const quota_account *a)
{
	return a ? a->seq : 0;
}

int quota_account_unsynced(const quota_account *a)
{
	return a && a->unsynced ? 1 : 0;
}

uint64_t quota_ctx_config_seq(const quota_ctx *ctx)
{
	return ctx ? ctx->config_seq : 0;
}

uint64_t quota_ctx_config_unstored(const quota_ctx *ctx)
{
	return ctx ? ctx->config_unstored : 0;
}
