/*
 * keys.c - idempotency keys (R11): a bounded window of what keyed calls
 * did, so a repeated key replays its original receipt instead of charging
 * twice.  Records are kept in the order they were stored; the oldest goes
 * first when the window is full (max_keys) or too old (max_age, measured
 * from the newest key time seen).  Lookup is an open-addressing table.
 */
#include "ctx.h"

#include <string.h>

#define DEFAULT_MAX_KEYS 100000u
#define DEFAULT_MAX_AGE (7 * INT64_C(86400))

static void defaults(quota__keys *k)
{
	if (!k->max_keys) {
		k->max_keys = DEFAULT_MAX_KEYS;
		k->max_age = DEFAULT_MAX_AGE;
		k->newest = INT64_MIN;
	}
}

static inline uint32_t home(uint64_t h, uint32_t cap)
{
	return (uint32_t)(h >> 32) & (cap - 1);
}

quota__keyrec *quota__key_find(const quota_account *a, const char *key)
{
	const quota__keys *k = &a->keys;
	uint64_t h;
	uint32_t i;

	if (!k->cap)
		return NULL;
	h = quota__strhash(key);
	for (i = home(h, k->cap);; i = (i + 1) & (k->cap - 1)) {
		const quota__keyslot *sl = &k->tab[i];

		if (!sl->r)
			return NULL;
		if (sl->hash == h && strcmp(sl->r->key, key) == 0)
			return sl->r;
	}
}

static void put(quota__keyslot *tab, uint32_t cap, uint64_t h,
		quota__keyrec *r)
{
	uint32_t j;

	for (j = home(h, cap); tab[j].r; j = (j + 1) & (cap - 1))
		;
	tab[j].hash = h;
	tab[j].r = r;
}

int quota__key_reserve(quota_account *a)
{
	quota__keys *k = &a->keys;
	quota__keyslot *nt;
	uint32_t ncap, i;

	defaults(k);
	if ((uint64_t)(k->n + 1) * 2 <= k->cap)
		return QUOTA_OK;
	if (k->cap > UINT32_MAX / 4)
		return QUOTA_ENOMEM;
	ncap = k->cap ? k->cap * 2 : 64;
	nt = quota__calloc(&a->ctx->mem, ncap, sizeof *nt);
	if (!nt)
		return QUOTA_ENOMEM;
	for (i = 0; i < k->cap; i++)
		if (k->tab[i].r)
			put(nt, ncap, k->tab[i].hash, k->tab[i].r);
	quota__free(&a->ctx->mem, k->tab);
	k->tab = nt;
	k->cap = ncap;
	return QUOTA_OK;
}

/* Key records keep their receipt's sources in boxes (source.c): small
 * ones are recycled when the window forgets them, so a full window stores
 * a new key without allocating. */
static void key_init(quota__keyrec *r, const char *key)
{
	r->reversed = false;
	r->fee = r->forfeited = 0;
	r->hold_id = 0;
	r->hash = quota__strhash(key);
	strcpy(r->key, key); /* checked: <= QUOTA_KEY_MAX bytes */
}

quota__keyrec *quota__key_small(quota_account *a, const char *key)
{
	quota__keyrec *r = (quota__keyrec *)(void *)quota__box_small(
		&a->ctx->mem, &a->keys.free, sizeof(quota__keyrec));

	if (r)
		key_init(r, key);
	return r;
}

void quota__key_unused(quota_account *a, quota__keyrec *r)
{
	quota__box_drop(&a->ctx->mem, &a->keys.free, &r->box);
}

quota__keyrec *quota__key_new(quota_account *a, const char *key,
			      const quota__src *src)
{
	quota__keyrec *r = (quota__keyrec *)(void *)quota__box_new(
		&a->ctx->mem, &a->keys.free, sizeof(quota__keyrec), src);

	if (r)
		key_init(r, key);
	return r;
}

/* Take r out of the table (backward-shift deletion keeps probes short). */
static void unlink_rec(quota__keys *k, const quota__keyrec *r)
{
	uint32_t mask = k->cap - 1, i, j;

	for (i = home(r->hash, k->cap); k->tab[i].r != r; i = (i + 1) & mask)
		;
	k->tab[i].r = NULL;
	for (j = (i + 1) & mask; k->tab[j].r; j = (j + 1) & mask) {
		uint32_t h = home(k->tab[j].hash, k->cap);

		/* Move tab[j] into the hole if its home is not in (i, j]. */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			k->tab[i] = k->tab[j];
			k->tab[j].r = NULL;
			i = j;
		}
	}
	k->n--;
}

/* Forget the oldest keys while the window is over its bounds. */
static void evict(quota_account *a)
{
	quota__keys *k = &a->keys;

	while (k->head &&
	       (k->n > k->max_keys ||
		(k->newest != INT64_MIN && k->head->time < k->newest &&
		 k->newest - k->head->time > k->max_age))) {
		quota__keyrec *r = k->head;

		k->head = r->next;
		if (!k->head)
			k->tail = NULL;
		unlink_rec(k, r);
		quota__key_unused(a, r);
	}
}

void quota__key_store(quota_account *a, quota__keyrec *r)
{
	quota__keys *k = &a->keys;

	put(k->tab, k->cap, r->hash, r);
	k->n++;
	r->next = NULL;
	if (k->tail)
		k->tail->next = r;
	else
		k->head = r;
	k->tail = r;
	if (r->time > k->newest)
		k->newest = r->time;
	evict(a);
}

int quota_account_set_key_window(quota_account *a, uint32_t max_keys,
				 int64_t max_age_s)
{
	if (!a)
		return QUOTA_EINVAL;
	if (max_keys < 1 || max_age_s < 1)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': key window needs max_keys >= "
				  "1 and max_age_s >= 1",
				  a->id);
	defaults(&a->keys);
	a->keys.max_keys = max_keys;
	a->keys.max_age = max_age_s;
	evict(a);
	quota__ok(a->ctx);
	return QUOTA_OK;
}

void quota__keys_free(quota_account *a)
{
	quota__keyrec *r = a->keys.head;

	while (r) {
		quota__keyrec *next = r->next;

		quota__free(&a->ctx->mem, r);
		r = next;
	}
	quota__box_free_list(&a->ctx->mem, &a->keys.free);
	quota__free(&a->ctx->mem, a->keys.tab);
	memset(&a->keys, 0, sizeof a->keys);
}

/* A repeated key (R11): the stored receipt, marked as replayed, when the
 * call matches what the key was stored for; else a conflict. */
int quota__key_replay(const quota_account *a, const quota__keyrec *k,
		      bool same, quota_receipt *r)
{
	if (!same) {
		if (r)
			memset(r, 0, sizeof *r);
		return quota__err(a->ctx, QUOTA_EKEYCONFLICT,
				  "account '%s': key '%s' was used for "
				  "another operation or other parameters",
				  a->id, k->key);
	}
	quota__receipt_fill(r, &k->box.src, k->kind);
	if (r) {
		r->replayed = 1;
		r->hold_id = k->hold_id;
		r->fee_micros = k->fee;
		r->forfeited_units = k->forfeited;
	}
	quota__ok(a->ctx);
	return QUOTA_OK;
}
