/*
 * run.c - quota_pg_run (DESIGN §6; quota_pg(3)): operations on accounts
 * that other nodes write too.  One transaction per shard the operations
 * touch (a batch stays on one server); an operation refused because its
 * account was behind (QUOTA_ECONFLICT) or waits for a resync
 * (QUOTA_EUNSYNCED) is run again after its account caught up - optimistic
 * concurrency on the account's version.  A conflicted record in a batch
 * stores nothing and raises no error on the server, so the operations
 * around it stand.
 */
#include "quota_pg_int.h"

#include <stdlib.h>
#include <string.h>

/* One operation, through its own public call (no BEGIN/COMMIT). */
static int run_op(quota_op *op)
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

static bool store_failure(int rc)
{
	return rc == QUOTA_ESTORE || rc == QUOTA_EUNKNOWN;
}

/* A refusal the account's state decided: on a copy that is behind, the
 * server's state may decide otherwise (another node gave units back,
 * topped up, or wrote the hold). */
static bool state_refusal(int rc)
{
	return rc == QUOTA_EEXHAUSTED || rc == QUOTA_ECAP ||
	       rc == QUOTA_EFUNDS || rc == QUOTA_ERESOLVED ||
	       rc == QUOTA_ENOTFOUND;
}

/*
 * Which of the ops idx[0..m) run again, moved to the front of idx (*again
 * of them): those whose account was behind (QUOTA_ECONFLICT) or waits for
 * a resync (QUOTA_EUNSYNCED), caught up by the caller; and those refused
 * by the account's state whose account, caught up here, has moved since
 * the round began (pre[k]: its sequence number then): a refusal is never
 * based on a stale copy.  One catch-up per account.
 */
static int pick_again(quota_pg *pg, quota_op *ops, size_t *idx,
		      const uint64_t *pre, size_t m, size_t *again)
{
	size_t i, j, k = 0;
	int rc;

	for (i = 0; i < m; i++) {
		quota_op *op = &ops[idx[i]];
		bool redo = op->rc == QUOTA_ECONFLICT ||
			    op->rc == QUOTA_EUNSYNCED;

		if (!redo && state_refusal(op->rc)) {
			for (j = 0; j < i; j++)
				if (ops[idx[j]].account == op->account &&
				    state_refusal(ops[idx[j]].rc))
					break;
			if (j == i && (rc = quota_pg__catch_up(pg, op->account)))
				return rc;
			redo = quota_account_seq(op->account) != pre[idx[i]];
		}
		if (redo)
			idx[k++] = idx[i];
	}
	*again = k;
	return QUOTA_OK;
}

/*
 * Run the operations idx[0..m) (in order) of ops, one batch per shard;
 * tmp has room for m copies.  Returns the first failure of a batch call
 * (QUOTA_EINVAL, QUOTA_ENOMEM) or store failure of an operation.
 */
static int run_round(quota_pg *pg, quota_op *ops, const size_t *idx,
		     const uint32_t *shard, size_t m, quota_op *tmp,
		     size_t *pick)
{
	int first = QUOTA_OK;

	for (uint32_t k = 0; k < pg->nshards; k++) {
		size_t g = 0, i;
		int rc;

		for (i = 0; i < m; i++)
			if (shard[idx[i]] == k)
				pick[g++] = idx[i];
		if (g == 0)
			continue;
		if (g == 1) {
			ops[pick[0]].rc = run_op(&ops[pick[0]]);
			if (!first && store_failure(ops[pick[0]].rc))
				first = ops[pick[0]].rc;
			continue;
		}
		for (i = 0; i < g; i++)
			tmp[i] = ops[pick[i]];
		rc = quota_batch(pg->ctx, tmp, g);
		for (i = 0; i < g; i++) {
			ops[pick[i]].rc = tmp[i].rc;
			ops[pick[i]].receipt = tmp[i].receipt;
			ops[pick[i]].hold_id = tmp[i].hold_id;
			if (!first && store_failure(tmp[i].rc))
				first = tmp[i].rc;
		}
		if (rc && !first)
			first = rc;
	}
	return first;
}

/* Catch up each account of ops idx[0..m) once; the first failure. */
static int sync_accounts(quota_pg *pg, quota_op *ops, const size_t *idx,
			 size_t m, bool only_unsynced)
{
	for (size_t i = 0; i < m; i++) {
		quota_account *a = ops[idx[i]].account;
		size_t j;
		int rc;

		if (only_unsynced && !quota_account_unsynced(a))
			continue;
		for (j = 0; j < i; j++)
			if (ops[idx[j]].account == a)
				break;
		if (j < i)
			continue; /* done this round */
		if ((rc = quota_pg__catch_up(pg, a)))
			return rc;
	}
	return QUOTA_OK;
}

/* Up to this many operations, quota_pg_run's work arrays live on the
 * stack: one operation (a gateway's usual call) allocates nothing. */
#define RUN_STACK 8

QUOTA_API int quota_pg_run(quota_pg *pg, quota_op *ops, size_t n)
{
	size_t s_idx[RUN_STACK], s_pick[RUN_STACK], *idx, *pick, m, i;
	uint32_t s_shard[RUN_STACK], *shard;
	uint64_t s_pre[RUN_STACK], *pre;
	quota_op s_tmp[RUN_STACK], *tmp;
	bool heap = n > RUN_STACK;
	int rc = QUOTA_OK;

	if (!pg || (!ops && n))
		return pg ? quota_pg__say(pg->ctx, QUOTA_EINVAL,
					  "quota_pg_run: NULL argument")
			  : QUOTA_EINVAL;
	if (pg->in_batch)
		return quota_pg__say(pg->ctx, QUOTA_EINVAL,
				     "quota_pg_run: inside a batch");
	for (i = 0; i < n; i++)
		if (!ops[i].account || quota_account_ctx(ops[i].account) !=
					       pg->ctx ||
		    ops[i].kind < QUOTA_OP_CHARGE ||
		    ops[i].kind > QUOTA_OP_RELEASE)
			return quota_pg__say(pg->ctx, QUOTA_EINVAL,
					     "quota_pg_run: operation %zu has "
					     "no account of the store's "
					     "context or an unknown kind",
					     i);
	if (n == 0)
		return QUOTA_OK;
	idx = heap ? calloc(n, sizeof *idx) : s_idx;
	pick = heap ? calloc(n, sizeof *pick) : s_pick;
	shard = heap ? calloc(n, sizeof *shard) : s_shard;
	tmp = heap ? calloc(n, sizeof *tmp) : s_tmp;
	pre = heap ? calloc(n, sizeof *pre) : s_pre;
	if (!idx || !pick || !shard || !tmp || !pre) {
		rc = quota_pg__say(pg->ctx, QUOTA_ENOMEM,
				   "quota_pg_run: out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		idx[i] = i;
		shard[i] = quota_pg__shard_of(pg,
					      quota_account_id(ops[i].account));
		if (shard[i] == UINT32_MAX) {
			rc = quota_pg__say(pg->ctx, QUOTA_EINVAL,
					   "quota_pg_run: the shard rule "
					   "names no shard for account '%s'",
					   quota_account_id(ops[i].account));
			goto done;
		}
	}
	m = n;
	if ((rc = sync_accounts(pg, ops, idx, m, true)))
		goto done;
	for (int round = 0;; round++) {
		size_t again = 0;

		for (i = 0; i < m; i++)
			pre[idx[i]] = quota_account_seq(ops[idx[i]].account);
		if ((rc = run_round(pg, ops, idx, shard, m, tmp, pick)))
			break;
		if (round >= pg->opt.attempts)
			break;
		/* Conflicted ops: their accounts catch up below; refused
		 * ones: caught up here, run again if the server had newer
		 * records. */
		if ((rc = pick_again(pg, ops, idx, pre, m, &again)))
			break;
		if (!(m = again))
			break;
		if ((rc = sync_accounts(pg, ops, idx, m, false)))
			break;
	}
done:
	if (heap) {
		free(idx);
		free(pick);
		free(shard);
		free(tmp);
		free(pre);
	}
	return rc;
}

