/*
 * keys.c - idempotency keys (R11): a bounded window of what keyed calls
 * did, so a repeated key replays its original receipt instead of charging
 * twice.  Records are kept in the order they were stored; the oldest goes
 * first when the window is full (max_keys) or too old (max_age, measured
 * from the newest key time seen).  Lookup is an open-addressing table.
 *
 * A full window of a million keys does not fit in any cache: checking
 * that a key is new costs a miss in the table, and forgetting the oldest
 * key would cost misses in its record and its table slot.  Those two are
 * known a call ahead: each record carries its successor's hash and time,
 * so once a key is forgotten the next oldest one's slot and record are
 * prefetched without reading it, and the next call finds them in cache.
 * The forgotten record is the next one stored (the free list is LIFO), so
 * it is prefetched too.
 *
 * What is left is finding out that a new key is new.  Beside the table of
 * (hash, record) slots, 16 bytes each, a control byte per slot holds 7
 * bits of the hash (0: empty), and lookup reads those, eight at a time:
 * a sixteenth of the memory (2 MB for a million keys, where the slots
 * take 32 MB), so far more often in cache and within reach of the TLB.
 * Only a slot whose 7 bits match is looked at (1 in 128 of the others).
 * The slot a new key goes in is prefetched while the bytes are read.
 */
#include "journal.h"

#include <string.h>

#define DEFAULT_MAX_KEYS 100000u
#define DEFAULT_MAX_AGE (7 * INT64_C(86400))

#ifdef __GNUC__
#define prefetch(p) __builtin_prefetch((p), 1)
#else
#define prefetch(p) ((void)(p))
#endif

/* An account's window from its creation (account.c): set up front, so that
 * no call, refused or not, changes it in passing (§5). */
void quota__keys_init(quota__keys *k)
{
	k->max_keys = DEFAULT_MAX_KEYS;
	k->max_age = DEFAULT_MAX_AGE;
	k->newest = INT64_MIN;
}

static void defaults(quota__keys *k)
{
	if (!k->max_keys) {
		k->max_keys = DEFAULT_MAX_KEYS;
		k->max_age = DEFAULT_MAX_AGE;
		k->newest = INT64_MIN;
	}
}

/*
 * Keys are chosen by the gateway's clients, so the hash is keyed with the
 * context's secret (DESIGN §7, siphash.c): with an unkeyed one, keys made
 * to share a home slot would pile up in one run of slots, and every look-up
 * and deletion would walk it.  SipHash-1-3 of a short key is 2 compression
 * and 3 finalization rounds; the hash never leaves memory.
 */
static inline uint64_t key_hash(const quota_account *a, const char *key,
				size_t n)
{
	return quota__siphash13(&a->ctx->hkey, key, n);
}

static inline uint32_t home(uint64_t h, uint32_t cap)
{
	return (uint32_t)h & (cap - 1);
}

/* The control byte of a full slot: 7 bits the home does not use. */
static inline uint8_t tag_of(uint64_t h)
{
	return (uint8_t)(0x80 | h >> 57);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	defined(__GNUC__) && !defined(QUOTA_NO_SIMD)
#define SWAR 1
/* Bytes of w that are 0, as their high bits (exact for the first one). */
static inline uint64_t zero_bytes(uint64_t w)
{
	return (w - UINT64_C(0x0101010101010101)) & ~w &
	       UINT64_C(0x8080808080808080);
}
#endif

/*
 * The slot of key (hash h) in the table, or NULL if it is not there.
 * Eight control bytes at a time where the table allows: the probe ends at
 * the first empty byte, and only bytes equal to the tag before it are
 * looked at.
 */
static const quota__keyslot *find(const quota__keys *k, uint64_t h,
				  const char *key, uint32_t *slot)
{
	const uint32_t mask = k->cap - 1;
	const uint8_t tag = tag_of(h);
	uint32_t i = home(h, k->cap);

	for (;;) {
#ifdef SWAR
		if (i + 8 <= k->cap) {
			uint64_t w, empty, match;

			memcpy(&w, k->ctrl + i, sizeof w);
			empty = zero_bytes(w);
			match = zero_bytes(w ^ (UINT64_C(0x0101010101010101) *
						tag));
			/* Tags at or after an empty byte are not ours. */
			if (empty)
				match &= (empty & (0 - empty)) - 1;
			for (; match; match &= match - 1) {
				uint32_t j = i + (__builtin_ctzll(match) >> 3);

				if (k->tab[j].hash == h &&
				    strcmp(k->tab[j].r->key, key) == 0)
					return &k->tab[j];
			}
			if (empty) { /* a new key goes here */
				*slot = i + (__builtin_ctzll(empty) >> 3);
				return NULL;
			}
			i = (i + 8) & mask;
			continue;
		}
#endif
		if (!k->ctrl[i]) {
			*slot = i;
			return NULL;
		}
		if (k->ctrl[i] == tag && k->tab[i].hash == h &&
		    strcmp(k->tab[i].r->key, key) == 0)
			return &k->tab[i];
		i = (i + 1) & mask;
	}
}

quota__keyrec *quota__key_lookup(const quota_account *a, const char *key,
				 quota__keyprobe *p)
{
	const quota__keyslot *sl;

	p->hash = key_hash(a, key, p->len);
	p->cap = a->keys.cap;
	if (!p->cap)
		return NULL;
	/* A new key is stored at or just after its home slot: fetch it
	 * while the control bytes are read. */
	prefetch(&a->keys.tab[home(p->hash, p->cap)]);
	sl = find(&a->keys, p->hash, key, &p->slot);
	return sl ? sl->r : NULL;
}

quota__keyrec *quota__key_find(const quota_account *a, const char *key)
{
	quota__keyprobe p;

	p.len = strlen(key);
	return quota__key_lookup(a, key, &p);
}

/* Put r in slot i (empty) of the table. */
static inline void place(quota__keyslot *tab, uint8_t *ctrl, uint32_t i,
			 quota__keyrec *r)
{
	ctrl[i] = tag_of(r->hash);
	tab[i].hash = r->hash;
	tab[i].r = r;
}

/* Put r in the first empty slot of its probe. */
static void put(quota__keyslot *tab, uint8_t *ctrl, uint32_t cap,
		quota__keyrec *r)
{
	uint32_t j;

	for (j = home(r->hash, cap); ctrl[j]; j = (j + 1) & (cap - 1))
		;
	place(tab, ctrl, j, r);
}

int quota__key_reserve(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__keys *k = &a->keys;
	quota__keyslot *nt;
	uint8_t *nc;
	uint32_t ncap, i;

	defaults(k);
	if ((uint64_t)(k->n + 1) * 2 <= k->cap)
		return QUOTA_OK;
	if (k->cap > UINT32_MAX / 4)
		return QUOTA_ENOMEM;
	ncap = k->cap ? k->cap * 2 : 64;
	/* The control bytes say which slots are full; slots need no zeroing. */
	nt = quota__malloc(mem, (size_t)ncap * sizeof *nt);
	nc = nt ? quota__calloc(mem, ncap, 1) : NULL;
	if (!nc) {
		quota__free(mem, nt);
		return QUOTA_ENOMEM;
	}
	for (i = 0; i < k->cap; i++)
		if (k->ctrl[i])
			put(nt, nc, ncap, k->tab[i].r);
	quota__free(mem, k->tab);
	quota__free(mem, k->ctrl);
	k->tab = nt;
	k->ctrl = nc;
	k->cap = ncap;
	return QUOTA_OK;
}

/* Key records keep their receipt's sources in boxes (source.c): small
 * ones are recycled when the window forgets them, so a full window stores
 * a new key without allocating. */
static void key_init(quota__keyrec *r, const char *key, uint64_t hash,
		     size_t len)
{
	r->reversed = false;
	r->fee = r->forfeited = 0;
	r->hold_id = 0;
	r->hash = hash;
	memcpy(r->key, key, len + 1); /* checked: <= QUOTA_KEY_MAX bytes */
}

quota__keyrec *quota__key_small(quota_account *a, const char *key,
				const quota__keyprobe *p)
{
	quota__keyrec *r = (quota__keyrec *)(void *)quota__box_small(
		&a->ctx->mem, &a->keys.free, sizeof(quota__keyrec));

	if (r)
		key_init(r, key, p->hash, p->len);
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
	size_t len = strlen(key);

	if (r)
		key_init(r, key, key_hash(a, key, len), len);
	return r;
}

uint64_t quota__keys_probes(const quota__keys *k)
{
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < k->cap; i++)
		if (k->ctrl[i])
			total += ((i - home(k->tab[i].hash, k->cap)) &
				  (k->cap - 1)) + 1;
	return total;
}

/* Take r out of the table (backward-shift deletion keeps probes short). */
static void unlink_rec(quota__keys *k, const quota__keyrec *r)
{
	uint32_t mask = k->cap - 1, i, j;

	for (i = home(r->hash, k->cap); k->tab[i].r != r; i = (i + 1) & mask)
		;
	k->ctrl[i] = 0;
	for (j = (i + 1) & mask; k->ctrl[j]; j = (j + 1) & mask) {
		uint32_t h = home(k->tab[j].hash, k->cap);

		/* Move tab[j] into the hole if its home is not in (i, j]. */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			k->tab[i] = k->tab[j];
			k->ctrl[i] = k->ctrl[j];
			k->ctrl[j] = 0;
			i = j;
		}
	}
	k->n--;
}

/* A forgotten small record is the next one stored (the free list is
 * LIFO): fetch all of it, its draw and payg line after it too, for the
 * stores that will fill it (one store that misses holds up all the later
 * ones). */
static void prefetch_record(const quota__keyrec *r)
{
	const char *p = (const char *)r;
	const char *end = (const char *)(r->box.src.paygs + 1);

	for (p += 64; p < end; p += 64)
		prefetch(p);
	prefetch(end - 1);
}

/* Forget the oldest keys while the window is over its bounds. */
static void evict(quota_account *a)
{
	quota__keys *k = &a->keys;

	while (k->head &&
	       (k->n > k->max_keys ||
		(k->newest != INT64_MIN && k->head_time < k->newest &&
		 k->newest - k->head_time > k->max_age))) {
		quota__keyrec *r = k->head;

		k->head = r->next;
		k->head_hash = r->next_hash;
		k->head_time = r->next_time;
		if (!k->head)
			k->tail = NULL;
		unlink_rec(k, r);
		if (k->keep) {
			/* In a batch: aside, in order (linked again in case
			 * the window was empty in between). */
			if (k->gone_tail)
				k->gone_tail->next = r;
			else
				k->gone = r;
			k->gone_tail = r;
			k->ngone++;
			continue;
		}
		if (r->box.small)
			prefetch_record(r);
		quota__key_unused(a, r);
	}
	/* A full window forgets the new oldest key on the next store: fetch
	 * its record and table slot now, a call ahead. */
	if (k->head && k->n >= k->max_keys) {
		uint32_t i = home(k->head_hash, k->cap);

		prefetch(k->head);       /* its box: free-list link, size */
		prefetch(&k->head->next); /* next, hashes, times */
		prefetch(&k->ctrl[i]);
		prefetch(&k->tab[i]); /* and the slots a deletion shifts */
		prefetch(&k->tab[(i + 4) & (k->cap - 1)]);
	}
}

/* Link r in store order and forget what the window no longer holds. */
static void append(quota_account *a, quota__keyrec *r)
{
	quota__keys *k = &a->keys;

	k->n++;
	r->next = NULL;
	if (k->tail) {
		k->tail->next = r;
		k->tail->next_hash = r->hash;
		k->tail->next_time = r->time;
	} else {
		k->head = r;
		k->head_hash = r->hash;
		k->head_time = r->time;
	}
	k->tail = r;
	if (r->time > k->newest)
		k->newest = r->time;
	evict(a);
}

void quota__key_store(quota_account *a, quota__keyrec *r)
{
	quota__keys *k = &a->keys;

	put(k->tab, k->ctrl, k->cap, r);
	append(a, r);
}

void quota__key_store_at(quota_account *a, quota__keyrec *r,
			 const quota__keyprobe *p)
{
	quota__keys *k = &a->keys;

	/* The lookup's slot stays the first empty one of the key's probe
	 * unless quota__key_reserve grew the table since. */
	if (p->cap == k->cap && p->hash == r->hash && !k->ctrl[p->slot])
		place(k->tab, k->ctrl, p->slot, r);
	else
		put(k->tab, k->ctrl, k->cap, r);
	append(a, r);
}

/* quota_account_set_key_window through the write path (§5). */
struct key_window_op {
	quota_account *a;
	uint32_t max_keys;
	int64_t max_age_s;
};

static int key_window_prepare(void *v)
{
	const struct key_window_op *op = v;

	if (op->max_keys < 1 || op->max_age_s < 1)
		return quota__err(op->a->ctx, QUOTA_EINVAL,
				  "account '%s': key window needs max_keys >= "
				  "1 and max_age_s >= 1",
				  op->a->id);
	return QUOTA_OK;
}

static void key_window_encode(quota__wbuf *w, const void *v)
{
	const struct key_window_op *op = v;

	quota__put_sv(w, op->max_keys);
	quota__put_sv(w, op->max_age_s);
}

static void key_window_apply(void *v)
{
	struct key_window_op *op = v;
	quota_account *a = op->a;

	defaults(&a->keys);
	a->keys.max_keys = op->max_keys;
	a->keys.max_age = op->max_age_s;
	evict(a);
}

static const quota__step key_window_steps = {
	.rec = QUOTA__R_KEY_WINDOW,
	.prepare = key_window_prepare,
	.encode = key_window_encode,
	.apply = key_window_apply,
};

int quota_account_set_key_window(quota_account *a, uint32_t max_keys,
				 int64_t max_age_s)
{
	struct key_window_op op = {a, max_keys, max_age_s};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &key_window_steps, &op);
}

void quota__keys_free(quota_account *a)
{
	quota__keyrec *r = a->keys.head;

	while (r) {
		quota__keyrec *next = r->next;

		quota__free(&a->ctx->mem, r);
		r = next;
	}
	for (r = a->keys.gone; a->keys.ngone; a->keys.ngone--) {
		quota__keyrec *next = r->next;

		quota__free(&a->ctx->mem, r);
		r = next;
	}
	quota__box_free_list(&a->ctx->mem, &a->keys.free);
	quota__free(&a->ctx->mem, a->keys.tab);
	quota__free(&a->ctx->mem, a->keys.ctrl);
	memset(&a->keys, 0, sizeof a->keys);
}

/*
 * Undoing a batch (batch.c).  A batch's operations (charges, reservations,
 * commits, releases) change the window only by appending records at the
 * tail and forgetting the oldest at the head (evict: by count or age), and
 * never change a stored record; so the window before the batch is the
 * records it forgot, in order, then what is left of the old ones.
 */
void quota__keys_mark(quota_account *a, quota__keymark *m)
{
	quota__keys *k = &a->keys;

	m->head = k->head;
	m->tail = k->tail;
	m->n = k->n;
	m->newest = k->newest;
	k->keep = true;
	k->gone = k->gone_tail = NULL;
	k->ngone = 0;
}

/* Recycle the first n records of the list from r. */
static void recycle(quota_account *a, quota__keyrec *r, uint32_t n)
{
	for (; n; n--) {
		quota__keyrec *next = r->next;

		quota__key_unused(a, r);
		r = next;
	}
}

void quota__keys_release(quota_account *a)
{
	quota__keys *k = &a->keys;

	recycle(a, k->gone, k->ngone);
	k->keep = false;
	k->gone = k->gone_tail = NULL;
	k->ngone = 0;
}

void quota__keys_undo(quota_account *a, const quota__keymark *m)
{
	quota__keys *k = &a->keys;
	/* Forgotten ones: the first `old` were there before the batch (the
	 * oldest go first), the others are its own. */
	uint32_t old = k->ngone < m->n ? k->ngone : m->n, i;
	quota__keyrec *r, *next, *last = NULL;

	/* The batch's records still in the window: after the old tail if it
	 * is still there, else all of it.  Out first, so that a key the
	 * batch forgot and stored again is in the table once. */
	for (r = old < m->n ? m->tail->next : k->head; r; r = next) {
		next = r->next;
		unlink_rec(k, r);
		quota__key_unused(a, r);
	}
	/* The old ones it forgot back in the table (the table held them and
	 * has not shrunk: there is room). */
	for (r = k->gone, i = 0; i < old; i++, r = r->next) {
		put(k->tab, k->ctrl, k->cap, r);
		k->n++;
		last = r;
	}
	recycle(a, r, k->ngone - old); /* its own it forgot */
	if (last)
		last->next = old < m->n ? k->head : NULL;
	k->head = m->head;
	k->tail = m->tail;
	if (k->tail)
		k->tail->next = NULL;
	if (k->head) {
		k->head_hash = k->head->hash;
		k->head_time = k->head->time;
	}
	k->newest = m->newest;
	k->keep = false;
	k->gone = k->gone_tail = NULL;
	k->ngone = 0;
}

void quota__keys_move(quota_account *from, quota_account *to)
{
	quota__keys tmp = to->keys;
	quota__keyrec *r;
	uint32_t i;

	for (r = from->keys.head; r; r = r->next)
		for (i = 0; i < r->box.src.ndraws; i++) {
			quota__draw *d = &r->box.src.draws[i];

			d->pk = to->packages[d->pk->seq];
		}
	to->keys = from->keys;
	from->keys = tmp;
}

/* A repeated key (R11): the stored receipt, marked as replayed, when the
 * call matches what the key was stored for; else a conflict. */
int quota__key_replay(const quota_account *a, const quota__keyrec *k,
		      bool same, quota_receipt *r)
{
	if (!same)
		return quota__fail(r, quota__err(a->ctx, QUOTA_EKEYCONFLICT,
						 "account '%s': key '%s' was "
						 "used for another operation "
						 "or other parameters",
						 a->id, k->key));
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
