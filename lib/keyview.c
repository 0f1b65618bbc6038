/*
 * keyview.c - idempotency key records read back (R11): a stored record
 * as the full form a repeat compares and replays (quota__key_view, the
 * receipt rebuilt from a compact record), the replay itself, and the
 * records' package references kept right when packages move to a
 * reloaded account or are pruned (§7).  Reads the window keys.c writes;
 * writes only the package references inside its records (renumbering)
 * and swaps two accounts' windows (a reload), on the calls of package.c
 * and snapshot_load.c that own those changes.
 */
#include "keytab.h"

#include <string.h>

void quota__key_view(const quota_account *a, const quota__keyrec *r,
		     quota__keyview *v)
{
	quota__keyext *e = &v->e;
	quota__src *s = &v->src;
	const int32_t op = r->flags & QUOTA__KR_OP;

	e->op = op;
	e->reversed = (r->flags & QUOTA__KR_REVERSED) != 0;
	e->time = r->time;
	v->kind = quota__kind_of(op);
	if (r->flags & QUOTA__KR_EXT) {
		const quota__keyext *x = r->u.x;

		e->p_cat = x->p_cat;
		e->p_units = x->p_units;
		e->p_at = x->p_at;
		e->p_timeout = x->p_timeout;
		e->p_used = x->p_used;
		e->p_hold = x->p_hold;
		e->hold_id = x->hold_id;
		e->fee = x->fee;
		memcpy(e->key, x->key, r->klen + 1);
		*s = x->box.src;
		return;
	}
	memset(s, 0, sizeof *s);
	s->draws = &v->d;
	s->paygs = &v->p;
	s->cat = r->cat;
	s->units = r->units;
	s->at = op <= QUOTA__OP_RESERVE ? r->time : r->u.w[2];
	s->day = quota__day_of(quota__local(a, s->at));
	s->month = quota__month_of_day(s->day);
	switch ((r->flags & QUOTA__KR_SRC) >> 3) {
	case QUOTA__KS_FREE:
		s->free = r->units;
		break;
	case QUOTA__KS_PKG:
		s->pkg = r->units;
		s->ndraws = 1;
		v->d.pk = r->u.w[0] == QUOTA__SEQ_GONE
				  ? QUOTA__GONE
				  : a->packages[r->u.w[0]];
		v->d.units = r->units;
		break;
	default: /* QUOTA__KS_PAYG: the cost was checked when stored */
		s->payg = r->units;
		s->cost = r->units * r->u.w[0];
		s->npayg = 1;
		v->p.tier = r->tier;
		v->p.units = r->units;
		v->p.price = r->u.w[0];
		v->p.cost = s->cost;
		break;
	}
	e->p_timeout = e->p_used = e->fee = 0;
	e->p_hold = e->hold_id = 0;
	if (op <= QUOTA__OP_RESERVE) {
		e->p_cat = s->cat;
		e->p_units = s->units;
		e->p_at = s->at;
		if (op == QUOTA__OP_RESERVE) {
			e->p_timeout = r->u.w[1];
			e->hold_id = (uint64_t)r->u.w[2];
		}
	} else {
		e->p_cat = 0;
		e->p_units = e->p_at = 0;
		e->p_hold = e->hold_id = (uint64_t)r->u.w[1];
		if (op == QUOTA__OP_COMMIT)
			e->p_used = s->units;
		else
			e->fee = r->u.w[3];
	}
	memcpy(e->key, r->u.b + quota__key_off[op], r->klen);
	e->key[r->klen] = '\0';
}

void quota__keys_move(quota_account *from, quota_account *to)
{
	quota__keys tmp = to->x->keys, *k = &from->x->keys;
	uint32_t i, j;

	for (i = 0; i < k->n; i++) {
		const quota__keyrec *r = &k->ring[quota__ring_idx(k, k->head, i)];

		if (r->flags & QUOTA__KR_EXT)
			for (j = 0; j < r->u.x->box.src.ndraws; j++) {
				quota__draw *d = &r->u.x->box.src.draws[j];

				if (d->pk != QUOTA__GONE)
					d->pk = to->packages[d->pk->seq];
			}
	}
	to->x->keys = from->x->keys;
	from->x->keys = tmp;
}

/* §7: packages pruned (map: old number -> new, or QUOTA__SEQ_GONE) are
 * renumbered in the records that name them, or named as gone. */
void quota__keys_renumber(quota_account *a, const uint32_t *map)
{
	quota__keys *k = &a->x->keys;
	uint32_t i, j;

	for (i = 0; i < k->n; i++) {
		quota__keyrec *r = &k->ring[quota__ring_idx(k, k->head, i)];

		if (r->flags & QUOTA__KR_EXT) {
			quota__src *s = &r->u.x->box.src;

			for (j = 0; j < s->ndraws; j++)
				if (s->draws[j].pk != QUOTA__GONE &&
				    map[s->draws[j].pk->seq] == QUOTA__SEQ_GONE)
					s->draws[j].pk = QUOTA__GONE;
		} else if (((r->flags & QUOTA__KR_SRC) >> 3) == QUOTA__KS_PKG &&
			   r->u.w[0] != QUOTA__SEQ_GONE) {
			r->u.w[0] = map[r->u.w[0]];
		}
	}
}

/* A repeated key (R11): the stored receipt, marked as replayed, when the
 * call matches what the key was stored for; else a conflict. */
int quota__key_replay(const quota_account *a, const quota__keyview *v,
		      bool same, quota_receipt *r)
{
	if (!same)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EKEYCONFLICT,
						 "account '%s': key '%s' was "
						 "used for another operation "
						 "or other parameters",
						 a->id, v->e.key));
	quota__receipt_fill(r, &v->src, v->kind);
	if (r) {
		r->replayed = 1;
		r->hold_id = v->e.hold_id;
		r->fee_micros = v->e.fee;
		r->forfeited_units = 0;
	}
	quota__ok(a->ctx);
	return QUOTA_OK;
}
