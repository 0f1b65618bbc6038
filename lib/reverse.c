/*
 * reverse.c - reversal of committed charges (R12): by the key a charge or
 * commit was made with (quota_reverse), or by the receipt id an account
 * that keeps receipts gave it (R27, quota_reverse_receipt).  The units
 * drawn go back to their packages unless these have expired since, the
 * counters and the ledger take the charge out, and a settled period is
 * credited by the next bill.
 */
#include "charge_fast.h"
#include "journal.h"

#include <string.h>

/* quota_reverse through the write path (§5). */
struct reverse_op {
	quota_account *a;
	const char *key;
	int64_t at;
	quota_receipt *r;
	quota__keyrec *k;  /* the charge it reverses */
	quota__keyview v; /* in full */
};

/* Does s draw from a package pruned since (§7)?  Its usage is before the
 * horizon then, so this only guards the give-back. */
static bool gone_draw(const quota__src *s)
{
	uint32_t i;

	for (i = 0; i < s->ndraws; i++)
		if (s->draws[i].pk == QUOTA__GONE)
			return true;
	return false;
}

static int reverse_prepare(void *v)
{
	struct reverse_op *op = v;
	quota_account *a = op->a;
	const char *key = op->key;
	quota__keyrec *k;
	int rc;

	if (!key)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_reverse: NULL key");
	if ((rc = quota__check_key_rec(a->ctx, key)))
		return rc;
	if (!quota__time_ok(op->at))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': time out of range", a->id);
	k = op->k = quota__key_find(a, key);
	if (!k && quota__receipt_key_id(key))
		return quota__err(a->ctx, QUOTA_ENOTFOUND,
				  "account '%s': no kept receipt %llu (or it "
				  "left the key window)",
				  a->id,
				  (unsigned long long)quota__receipt_key_id(key));
	if (!k)
		return quota__err(a->ctx, QUOTA_ENOTFOUND,
				  "account '%s': no charge with key '%s' (or "
				  "it left the key window)",
				  a->id, key);
	quota__key_view(a, k, &op->v);
	if (op->v.e.op != QUOTA__OP_CHARGE && op->v.e.op != QUOTA__OP_COMMIT)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': key '%s' is not a committed "
				  "charge",
				  a->id, key);
	if (op->v.e.reversed)
		return quota__err(a->ctx, QUOTA_EREVERSED,
				  "account '%s': charge '%s' was already "
				  "reversed",
				  a->id, key);
	if (op->v.src.at < a->pruned_before || gone_draw(&op->v.src)) /* §7 */
		return quota__err(a->ctx, QUOTA_EPRUNED,
				  "account '%s': charge '%s' is before the "
				  "pruned history",
				  a->id, key);
	if (quota__counter_prepare(a, op->v.src.cat) ||
	    quota__events_reserve(a))
		return quota__nomem(a);
	return quota__ledger_prepare(a, &op->v.src, 0, 0);
}

static void reverse_encode(quota__wbuf *w, const void *v)
{
	const struct reverse_op *op = v;

	quota__put_str(w, op->key);
	quota__put_sv(w, op->at);
}

/* R12: expired quota is never restored. */
static void reverse_apply(void *v)
{
	struct reverse_op *op = v;
	quota_account *a = op->a;
	quota__src *s = &op->v.src;
	int64_t forfeited = 0;
	bool track = quota__track(a);
	uint32_t i;

	for (i = 0; i < s->ndraws; i++) {
		const quota__draw *d = &s->draws[i];

		if (op->at < d->pk->expires_at)
			quota__units_restore(a, d->pk, d->units, track);
		else
			forfeited += d->units;
	}
	quota__counter_uncharge(a, s->cat, s->day, s->month, s->units,
				s->free);
	/* R12, R17: the charge leaves the ledger; if its period was settled,
	 * the next bill credits it. */
	quota__ledger_apply(a, s, -1, 0, 0);
	quota__key_reversed(op->k);
	quota__receipt_fill(op->r, s, QUOTA_RECEIPT_REVERSAL);
	if (op->r)
		op->r->forfeited_units = forfeited;
}

static const quota__step reverse_steps = {
	.ext = true,
	.rec = QUOTA__R_REVERSE,
	.prepare = reverse_prepare,
	.encode = reverse_encode,
	.apply = reverse_apply,
	.flush = true,
};

/* A reversal by key, or by a kept receipt's key (R27; replay takes
 * both from the record). */
int quota__reverse(quota_account *a, const char *key, int64_t at,
		   quota_receipt *r)
{
	struct reverse_op op = {.a = a, .key = key, .at = at, .r = r};
	int rc;

	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	rc = quota__write(a->ctx, a, &reverse_steps, &op);
	if (!rc && r)
		r->receipt_id = quota__receipt_key_id(key);
	return rc ? quota__fail(r, rc) : QUOTA_OK;
}

int quota_reverse(quota_account *a, const char *key, int64_t at,
		  quota_receipt *r)
{
	int rc;

	if (a && key && (rc = quota__check_key(a->ctx, key)))
		return quota__fail(r, rc);
	return quota__reverse(a, key, at, r);
}

/*
 * R27: reverse by receipt, without a key.  The receipt id of a keyless
 * charge or commit of an account that keeps receipts names the key its
 * record is kept under (block.c); a commit's is its hold id, so a late
 * failure report that carries the hold id finds the commit.
 */
int quota_reverse_receipt(quota_account *a, uint64_t receipt_id, int64_t at,
			  quota_receipt *r)
{
	char rkey[QUOTA__RKEY_MAX];

	if (!a)
		return quota__fail(r, QUOTA_EINVAL);
	if (!receipt_id)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EINVAL,
						 "quota_reverse_receipt: "
						 "receipt id 0"));
	quota__receipt_key(rkey, receipt_id);
	return quota__reverse(a, rkey, at, r);
}
