/*
 * block.c - blocking an account (R25) and keeping receipts for reversal
 * by receipt id (R27): the only writer of the account's gate bits and of
 * the blocking reason and time.
 *
 * Rules chosen where DESIGN.md is silent (documented in
 * quota_account_block(3)):
 *   - a blocked account refuses what is new: charges (quota_charge,
 *     quota_charge_sms), reservations, quotes (quota_quote,
 *     quota_package_quote) and purchases (quota_package_buy), with
 *     QUOTA_EBLOCKED, ahead of QUOTA_ESUSPENDED when both hold; what
 *     finishes earlier business goes on: commits and releases of holds
 *     made before the block, the tick and its expiries, settlement,
 *     top-ups (which may resume a suspended account), reversals and the
 *     host's own quota_package_add (a grant, not a purchase);
 *   - blocking refunds nothing: packages keep their units and dates
 *     (Tencent SES keeps the prepaid resources of a blocked account);
 *   - blocking a blocked account, or unblocking one that is not, changes
 *     nothing and writes no record: the first reason stands.
 */
#include "journal.h"

#include <string.h>

/* The refusal every new charge, reservation, quote and purchase of a
 * blocked account gets (R25). */
int quota__blocked_err(const quota_account *a)
{
	const char *why = a->x->block_reason;

	return quota__err(a->ctx, QUOTA_EBLOCKED,
			  "account '%s' is blocked%s%s%s", a->id,
			  why ? " (" : "", why ? why : "", why ? ")" : "");
}

void quota__block_free(quota_account *a)
{
	quota__free(&a->ctx->mem, a->x->block_reason);
	a->x->block_reason = NULL;
}

/* quota_account_block and quota_account_unblock through the write path
 * (§5): one record type each. */
struct block_op {
	quota_account *a;
	const char *reason; /* the caller's (block) */
	int64_t at;
	char *copy;         /* block: the reason's copy, from prepare */
	char *old;          /* unblock: the reason it drops, freed after */
};

static int block_prepare(void *v)
{
	struct block_op *op = v;
	quota_account *a = op->a;
	int rc;

	if (!quota__time_ok(op->at))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': block time out of range",
				  a->id);
	if (op->reason &&
	    (rc = quota__check_name(a->ctx, "blocking reason", op->reason,
				    QUOTA_REASON_MAX)))
		return rc;
	if (a->gate & QUOTA__GATE_BLOCKED)
		return QUOTA__NOTHING;
	if (quota__events_reserve(a))
		return quota__nomem(a);
	if (op->reason && !(op->copy = quota__strdup(&a->ctx->mem, op->reason)))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void block_encode(quota__wbuf *w, const void *v)
{
	const struct block_op *op = v;

	quota__put_str(w, op->reason);
	quota__put_sv(w, op->at);
}

static void block_apply(void *v)
{
	struct block_op *op = v;
	quota_account *a = op->a;
	quota_ctx *ctx = a->ctx;
	quota_event *e;

	a->gate |= QUOTA__GATE_BLOCKED;
	a->x->block_reason = op->copy;
	a->x->blocked_at = op->at;
	if (ctx->hook && (e = quota__event_queue(a, QUOTA_EVENT_ACCOUNT_BLOCKED,
						QUOTA_ALL, NULL, 0, 0, 0)))
		e->reason = op->copy;
}

static void block_undo(void *v)
{
	struct block_op *op = v;

	quota__free(&op->a->ctx->mem, op->copy);
}

static const quota__step block_steps = {
	.ext = true,
	.rec = QUOTA__R_BLOCK,
	.prepare = block_prepare,
	.encode = block_encode,
	.apply = block_apply,
	.undo = block_undo,
	.flush = true,
};

int quota_account_block(quota_account *a, const char *reason, int64_t at)
{
	struct block_op op = {a, reason, at, NULL, NULL};
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	rc = quota__write(a->ctx, a, &block_steps, &op);
	return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
}

static int unblock_prepare(void *v)
{
	struct block_op *op = v;
	quota_account *a = op->a;

	if (!quota__time_ok(op->at))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': unblock time out of range",
				  a->id);
	if (!(a->gate & QUOTA__GATE_BLOCKED))
		return QUOTA__NOTHING;
	if (quota__events_reserve(a))
		return quota__nomem(a);
	return QUOTA_OK;
}

static void unblock_encode(quota__wbuf *w, const void *v)
{
	quota__put_sv(w, ((const struct block_op *)v)->at);
}

static void unblock_apply(void *v)
{
	struct block_op *op = v;
	quota_account *a = op->a;

	a->gate &= (uint8_t)~QUOTA__GATE_BLOCKED;
	op->old = a->x->block_reason; /* the event may still name it */
	a->x->block_reason = NULL;
	a->x->blocked_at = 0;
	if (a->ctx->hook)
		quota__event_queue(a, QUOTA_EVENT_ACCOUNT_UNBLOCKED, QUOTA_ALL,
				   NULL, 0, 0, 0);
}

/* After the events: the dropped reason goes (apply cannot free what a
 * queued event might point at; UNBLOCKED names none). */
static void unblock_events(void *v)
{
	struct block_op *op = v;

	quota__free(&op->a->ctx->mem, op->old);
	op->old = NULL;
}

static const quota__step unblock_steps = {
	.ext = true,
	.rec = QUOTA__R_UNBLOCK,
	.prepare = unblock_prepare,
	.encode = unblock_encode,
	.apply = unblock_apply,
	.events = unblock_events,
	.flush = true,
};

int quota_account_unblock(quota_account *a, int64_t at)
{
	struct block_op op = {a, NULL, at, NULL, NULL};
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	rc = quota__write(a->ctx, a, &unblock_steps, &op);
	return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
}

int quota_account_blocked(const quota_account *a, const char **reason,
			  int64_t *since)
{
	bool b = a && (a->gate & QUOTA__GATE_BLOCKED);

	if (reason)
		*reason = b ? a->x->block_reason : NULL;
	if (since)
		*since = b ? a->x->blocked_at : 0;
	if (!a)
		return QUOTA_EINVAL;
	return b ? 1 : 0;
}

/* quota_account_keep_receipts through the write path (§5). */
struct receipts_op {
	quota_account *a;
	int on;
};

static int receipts_prepare(void *v)
{
	struct receipts_op *op = v;

	if (op->on != 0 && op->on != 1)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': keep_receipts takes 0 or 1, "
				  "not %d",
				  op->a->id, op->on);
	return QUOTA_OK;
}

static void receipts_encode(quota__wbuf *w, const void *v)
{
	quota__put_sv(w, ((const struct receipts_op *)v)->on);
}

static void receipts_apply(void *v)
{
	struct receipts_op *op = v;

	if (op->on)
		op->a->gate |= QUOTA__GATE_RECEIPTS;
	else
		op->a->gate &= (uint8_t)~QUOTA__GATE_RECEIPTS;
}

static const quota__step receipts_steps = {
	.ext = true, /* the receipts' ids come from last_hold_id */
	.rec = QUOTA__R_RECEIPTS,
	.prepare = receipts_prepare,
	.encode = receipts_encode,
	.apply = receipts_apply,
};

int quota_account_keep_receipts(quota_account *a, int on)
{
	struct receipts_op op = {a, on};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &receipts_steps, &op);
}

/* ------------------------------------------------ receipt keys (R27) */

/* A kept receipt is stored in the key window under a key no caller can
 * pass: 0xFF (never in UTF-8) and the id in decimal, without leading
 * zeros.  buf has room for QUOTA__RKEY_MAX bytes. */
void quota__receipt_key(char *buf, uint64_t id)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	buf[0] = (char)0xFF;
	for (i = 0; i < n; i++)
		buf[1 + i] = tmp[n - 1 - i];
	buf[1 + n] = '\0';
}

uint64_t quota__receipt_key_id(const char *key)
{
	uint64_t id = 0;
	const char *p;

	if (!key || (unsigned char)key[0] != 0xFF || key[1] < '1' ||
	    key[1] > '9')
		return 0;
	for (p = key + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - key > 20 ||
		    id > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return 0;
		id = id * 10 + (uint64_t)(*p - '0');
	}
	return id;
}

int quota__check_key_rec(quota_ctx *ctx, const char *key)
{
	return quota__receipt_key_id(key) ? QUOTA_OK
					  : quota__check_key(ctx, key);
}
