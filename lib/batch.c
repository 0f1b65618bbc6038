/*
 * batch.c - quota_batch: many charges and holds in one store transaction
 * (DESIGN §5, group commit).  Durable throughput is bounded by the
 * store's commit (an fsync, a round trip); a batch pays it once.
 *
 * Each operation runs as its own call, through the one write path, and
 * gets its own result and receipt; the store stages their records between
 * begin and commit.  Events wait until the commit succeeds.  If the
 * commit fails, every account the batch touched goes back to its state
 * before the batch, or, where that is not possible or the outcome is
 * unknown, is left unsynced so that the host re-synchronises it from the
 * store: never half of a batch.
 *
 * Going back takes an in-memory snapshot of each account first, but not
 * of its key window, which can be far larger than a batch (100,000 keys:
 * megabytes): the window is only appended to and forgotten from the head
 * meanwhile, so the records the batch forgets are kept aside instead
 * (keys.c), and a refused batch drops the records it stored and puts
 * them back.
 */
#include "journal.h"

#include <string.h>

/* One operation, through its own public call (what quota_batch runs for
 * each of its operations; store libraries run one alone with it). */
QUOTA_API int quota_op_run(quota_op *op)
{
	quota_usage u = op->usage;

	switch (op->kind) {
	case QUOTA_OP_CHARGE:
		return quota_charge(op->account, &u, &op->receipt);
	case QUOTA_OP_CHARGE_SMS:
		return quota_charge_sms(op->account, u.category, op->text,
					op->text_len, op->sms_opts, u.at,
					u.key, &op->receipt, NULL);
	case QUOTA_OP_RESERVE:
		return quota_reserve(op->account, &u, op->timeout_s,
				     &op->receipt, &op->hold_id);
	case QUOTA_OP_COMMIT:
		return quota_commit(op->account, op->hold_id, op->units_used,
				    op->key, &op->receipt);
	case QUOTA_OP_RELEASE:
		return quota_release(op->account, op->hold_id, op->key,
				     &op->receipt);
	default:
		memset(&op->receipt, 0, sizeof op->receipt);
		return QUOTA_EINVAL;
	}
}

/*
 * Issue 13, §7: at a million accounts each block a charge reads (the
 * account, its category entry, the package index, the package) is a
 * cache miss whose address is known only once the block before it has
 * arrived, and one operation's instructions keep the processor from
 * starting the next one's.  So the operations run in groups of
 * RUN_GROUP, and before a group runs, each of these blocks is fetched for
 * the whole group, one block a pass: the group's misses overlap.  Hints
 * only: no operation's result depends on them, so an operation whose
 * state an earlier one changed costs time, never a wrong result.  To
 * find the addresses, ahead() does load from each operation's account,
 * category entry and package index (only prefetching the package, which
 * may be stale): it runs only on operations quota_batch has checked
 * (live accounts of its context), between operations, never inside one.
 */
enum { RUN_GROUP = 16 };

static const quota__cat *op_cat(const quota_op *op)
{
	if (op->kind != QUOTA_OP_CHARGE && op->kind != QUOTA_OP_CHARGE_SMS &&
	    op->kind != QUOTA_OP_RESERVE)
		return NULL;
	if (op->usage.category >= QUOTA_MAX_CATEGORIES)
		return NULL;
	return quota__cat_of(op->account, op->usage.category);
}

static void ahead(const quota_op *ops, size_t n)
{
	const quota__cat *k[RUN_GROUP];
	size_t i;

	for (i = 0; i < n; i++) /* what a charge reads: ctx to the id */
		quota__hint_range(&ops[i].account->ctx,
				  offsetof(quota_account, id) -
					  offsetof(quota_account, ctx) + 8);
	for (i = 0; i < n; i++)
		if ((k[i] = op_cat(&ops[i])))
			quota__hint_cat(ops[i].account, k[i]);
	for (i = 0; i < n; i++)
		if (k[i]) {
			if (k[i]->pindex)
				quota__hint(k[i]->pindex);
			if (k[i]->cur.lr_pk)
				quota__hint_w(&k[i]->cur.lr_pk->remaining);
		}
	/* The head hint of an index of more than QUOTA__PSMALL packages. */
	for (i = 0; i < n; i++)
		if (k[i] && k[i]->pindex && !quota__pindex_small(k[i]->pindex))
			quota__hint(&k[i]->pindex->hint_lo);
}

typedef struct touched {
	quota_account *a;
	void *snap; /* without the key window */
	size_t len;
	quota__keymark mark; /* the window */
	bool unsynced; /* before the batch: a reset does not clear it */
} touched;

/* The end of the batch: what was kept for an undo goes. */
static void drop(quota_ctx *ctx, touched *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		t[i].a->in_batch = false;
		if (t[i].a->x->keys.keep)
			quota__keys_release(t[i].a);
		quota_free(ctx, t[i].snap);
	}
	quota__free(&ctx->mem, t);
}

/* The commit failed: back to before the batch, or unsynced. */
static void undo(touched *t, size_t n, int rc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		quota_account *a = t[i].a;

		if (rc == QUOTA_EUNKNOWN || t[i].unsynced ||
		    quota__account_reset_state(a, t[i].snap, t[i].len,
					       &t[i].mark) != QUOTA_OK)
			a->unsynced = true;
		a->in_batch = true; /* reset swapped the struct: drop() reads it */
	}
}

/* A batch refused before any operation ran: each operation gets the
 * call's code, as if refused on its own (receipt zeroed, no hold), so
 * that after any return an operation stands exactly when its rc is
 * QUOTA_OK, whatever the host left in rc before the call. */
static int refuse_all(quota_op *ops, size_t n, int rc)
{
	size_t i;

	for (i = 0; ops && i < n; i++) {
		ops[i].rc = quota__fail(&ops[i].receipt, rc);
		if (ops[i].kind == QUOTA_OP_RESERVE)
			ops[i].hold_id = 0;
	}
	return rc;
}

int quota_batch(quota_ctx *ctx, quota_op *ops, size_t n)
{
	touched *t = NULL;
	size_t i, nt = 0;
	bool txn;
	int rc;

	if (!ctx || (!ops && n))
		return refuse_all(ops, n,
				  quota__err(ctx, QUOTA_EINVAL,
					     "quota_batch: NULL argument"));
	for (i = 0; i < n; i++) {
		if (!ops[i].account || ops[i].account->ctx != ctx ||
		    ops[i].kind < QUOTA_OP_CHARGE ||
		    ops[i].kind > QUOTA_OP_RELEASE)
			return refuse_all(
				ops, n,
				quota__err(ctx, QUOTA_EINVAL,
					   "quota_batch: operation %zu has no "
					   "account of this context or an "
					   "unknown kind",
					   i));
	}
	txn = n && ctx->store_on && ctx->store.begin && !ctx->replaying &&
	      !ctx->batching;
	if (txn) {
		/* Prepare: the accounts and their state before the batch. */
		t = quota__calloc(&ctx->mem, n ? n : 1, sizeof *t);
		if (!t)
			return refuse_all(ops, n,
					  quota__err(ctx, QUOTA_ENOMEM,
						     "quota_batch: out of "
						     "memory"));
		for (i = 0; i < n; i++) {
			quota_account *a = ops[i].account;

			if (a->in_batch)
				continue;
			a->in_batch = true;
			t[nt].a = a;
			t[nt].unsynced = a->unsynced;
			/* The key window's mark writes the ext. */
			if ((rc = quota__ext_need(a)) ||
			    (rc = quota__account_snapshot_state(
				     a, &t[nt].snap, &t[nt].len))) {
				a->in_batch = false;
				drop(ctx, t, nt);
				return refuse_all(ops, n, rc);
			}
			quota__keys_mark(a, &t[nt].mark);
			nt++;
		}
		if ((rc = ctx->store.begin(ctx->store.ud))) {
			drop(ctx, t, nt);
			return refuse_all(
				ops, n,
				quota__store_err(ctx, QUOTA_ESTORE,
						 "quota_batch: the store could "
						 "not begin a transaction "
						 "(%s, %d)",
						 quota_err_name(rc), rc));
		}
		ctx->batching = true;
	}
	for (i = 0; i < n; i++) {
		if (i % RUN_GROUP == 0)
			ahead(ops + i, n - i < RUN_GROUP ? n - i : RUN_GROUP);
		ops[i].rc = quota_op_run(&ops[i]);
	}
	if (!txn) {
		quota__ok(ctx);
		return QUOTA_OK;
	}
	ctx->batching = false;
	rc = ctx->store.commit(ctx->store.ud);
	if (rc) {
		int src = rc; /* the store's own code, for the message */

		ctx->nev = ctx->nrcpt = 0; /* nothing happened: no event */
		undo(t, nt, rc);
		drop(ctx, t, nt);
		if (rc != QUOTA_EUNKNOWN)
			rc = QUOTA_ESTORE;
		for (i = 0; i < n; i++)
			if (ops[i].rc == QUOTA_OK) {
				ops[i].rc = quota__fail(&ops[i].receipt, rc);
				/* a reservation that did not stand has no
				 * hold (quota_reserve(3): 0 on error) */
				if (ops[i].kind == QUOTA_OP_RESERVE)
					ops[i].hold_id = 0;
			}
		return quota__store_err(ctx, rc, "quota_batch: %s (%s, %d)",
					rc == QUOTA_EUNKNOWN
						? "the store could not tell "
						  "whether the batch was "
						  "stored; its accounts must "
						  "be re-synchronised"
						: "the store refused the "
						  "batch; its accounts are as "
						  "before it",
					quota_err_name(src), src);
	}
	drop(ctx, t, nt);
	/* Stored: the events of every operation, in order. */
	if (ctx->hook) {
		size_t k, m = ctx->nev;

		ctx->nev = 0;
		for (k = 0; k < m; k++)
			if (ctx->hook(&ctx->evbuf[k], ctx->hook_ud) != 0)
				ctx->hook_failures++;
	}
	ctx->nev = ctx->nrcpt = 0;
	quota__ok(ctx);
	return QUOTA_OK;
}
