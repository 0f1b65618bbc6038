/*
 * run.c - quota_pg_run (DESIGN §6; quota_pg(3)): operations on accounts
 * that other nodes write too.  One transaction per shard the operations
 * touch (a batch stays on one server); an operation refused because its
 * account was behind (QUOTA_ECONFLICT) or waits for a resync
 * (QUOTA_EUNSYNCED) is run again after its account caught up - optimistic
 * concurrency on the account's version.  A conflicted record in a batch
 * stores nothing and raises no error on the server, so the operations
 * around it stand.  A batch holds its accounts' head rows locked until
 * its commit; it takes them in account-id order, so two nodes' batches
 * wait for each other instead of deadlocking (a host's own quota_batch
 * in another order can deadlock: the server aborts one, QUOTA_ESTORE).
 * Whenever it returns before an operation ran, that operation's rc is
 * the code returned.
 */
#include "quota_pg_int.h"

#include <stdlib.h>
#include <string.h>

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
 * by the account's state when catching their account up here brought
 * records from the server (a refusal is never based on a stale copy; one
 * the batch's own operations decided stands, in its order).  One
 * catch-up per account; adv (room for every op index) keeps its answer.
 */
static int pick_again(quota_pg *pg, quota_op *ops, size_t *idx,
		      uint64_t *adv, size_t m, size_t *again)
{
	size_t i, j, k = 0;
	int rc;

	/* Decide first (idx is compacted only after). */
	for (i = 0; i < m; i++) {
		quota_op *op = &ops[idx[i]];

		adv[idx[i]] = op->rc == QUOTA_ECONFLICT ||
			      op->rc == QUOTA_EUNSYNCED;
		if (adv[idx[i]] || !state_refusal(op->rc))
			continue;
		for (j = 0; j < i; j++)
			if (ops[idx[j]].account == op->account &&
			    state_refusal(ops[idx[j]].rc))
				break;
		if (j < i) {
			adv[idx[i]] = adv[idx[j]];
		} else {
			uint64_t seq = quota_account_seq(op->account);

			if ((rc = quota_pg__catch_up(pg, op->account)))
				return rc;
			adv[idx[i]] = quota_account_seq(op->account) != seq;
		}
	}
	for (i = 0; i < m; i++)
		if (adv[idx[i]])
			idx[k++] = idx[i];
	*again = k;
	return QUOTA_OK;
}

/* Every op of ops[0..n) ends with code (nothing of them ran). */
static int fail_all(quota_op *ops, size_t n, int code)
{
	for (size_t i = 0; i < n; i++) {
		ops[i].rc = code;
		memset(&ops[i].receipt, 0, sizeof ops[i].receipt);
	}
	return code;
}

/*
 * Order pick[0..g) by account id, keeping each account's operations in
 * their order (a stable merge sort; scr has room for g).  Every batch
 * then locks its accounts' heads in the same order, so two nodes' batches
 * wait for each other instead of deadlocking.
 */
static void by_account(const quota_op *ops, size_t *pick, size_t *scr,
		       size_t g)
{
	for (size_t w = 1; w < g; w *= 2) {
		for (size_t lo = 0; lo < g; lo += 2 * w) {
			size_t mid = lo + w < g ? lo + w : g;
			size_t hi = lo + 2 * w < g ? lo + 2 * w : g;
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				scr[o++] = strcmp(quota_account_id(
							  ops[pick[b]].account),
						  quota_account_id(
							  ops[pick[a]].account)) < 0
						   ? pick[b++]
						   : pick[a++];
			while (a < mid)
				scr[o++] = pick[a++];
			while (b < hi)
				scr[o++] = pick[b++];
		}
		memcpy(pick, scr, g * sizeof *pick);
	}
}

/*
 * Run the operations idx[0..m) (in order) of ops, one batch per shard;
 * tmp has room for m copies.  Returns the first failure of a batch call
 * (QUOTA_EINVAL, QUOTA_ENOMEM) or store failure of an operation.
 */
static int run_round(quota_pg *pg, quota_op *ops, const size_t *idx,
		     const uint32_t *shard, size_t m, quota_op *tmp,
		     size_t *pick, size_t *scr)
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
			ops[pick[0]].rc = quota_op_run(&ops[pick[0]]);
			if (!first && store_failure(ops[pick[0]].rc))
				first = ops[pick[0]].rc;
			continue;
		}
		by_account(ops, pick, scr, g);
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
	size_t s_idx[RUN_STACK], s_pick[RUN_STACK], s_scr[RUN_STACK], *idx,
		*pick, *scr, m, i;
	uint32_t s_shard[RUN_STACK], *shard;
	uint64_t s_adv[RUN_STACK], *adv;
	quota_op s_tmp[RUN_STACK], *tmp;
	bool heap = n > RUN_STACK;
	int rc = QUOTA_OK;

	if (!pg || (!ops && n))
		return pg ? quota_pg__say(pg->ctx, QUOTA_EINVAL,
					  "quota_pg_run: NULL argument")
			  : QUOTA_EINVAL;
	if (pg->in_batch)
		return fail_all(ops, n,
				quota_pg__say(pg->ctx, QUOTA_EINVAL,
					      "quota_pg_run: inside a batch"));
	for (i = 0; i < n; i++)
		if (!ops[i].account || quota_account_ctx(ops[i].account) !=
					       pg->ctx ||
		    ops[i].kind < QUOTA_OP_CHARGE ||
		    ops[i].kind > QUOTA_OP_RELEASE)
			return fail_all(ops, n,
					quota_pg__say(pg->ctx, QUOTA_EINVAL,
						      "quota_pg_run: operation "
						      "%zu has no account of "
						      "the store's context or "
						      "an unknown kind",
						      i));
	if (n == 0)
		return QUOTA_OK;
	idx = heap ? calloc(n, sizeof *idx) : s_idx;
	pick = heap ? calloc(n, sizeof *pick) : s_pick;
	shard = heap ? calloc(n, sizeof *shard) : s_shard;
	tmp = heap ? calloc(n, sizeof *tmp) : s_tmp;
	adv = heap ? calloc(n, sizeof *adv) : s_adv;
	scr = heap ? calloc(n, sizeof *scr) : s_scr;
	if (!idx || !pick || !shard || !tmp || !adv || !scr) {
		rc = fail_all(ops, n, quota_pg__say(pg->ctx, QUOTA_ENOMEM,
						    "quota_pg_run: out of "
						    "memory"));
		goto done;
	}
	for (i = 0; i < n; i++) {
		idx[i] = i;
		shard[i] = quota_pg__shard_of(pg,
					      quota_account_id(ops[i].account));
		if (shard[i] == UINT32_MAX) {
			rc = fail_all(ops, n,
				      quota_pg__say(pg->ctx, QUOTA_EINVAL,
						    "quota_pg_run: the shard "
						    "rule names no shard for "
						    "account '%s'",
						    quota_account_id(
							    ops[i].account)));
			goto done;
		}
	}
	m = n;
	if ((rc = sync_accounts(pg, ops, idx, m, true))) {
		fail_all(ops, n, rc);
		goto done;
	}
	for (int round = 0;; round++) {
		size_t again = 0;

		if ((rc = run_round(pg, ops, idx, shard, m, tmp, pick, scr)))
			break;
		if (round >= pg->opt.attempts)
			break;
		/* Conflicted ops: their accounts catch up below; refused
		 * ones: caught up here, run again if the server had newer
		 * records. */
		if ((rc = pick_again(pg, ops, idx, adv, m, &again)))
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
		free(adv);
		free(scr);
	}
	return rc;
}

