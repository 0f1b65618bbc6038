/*
 * keys.c - idempotency keys (R11): a bounded window of what keyed calls
 * did, so a repeated key replays its original receipt instead of charging
 * twice.  Records are kept in the order they were stored; the oldest goes
 * first when the window is full (max_keys) or too old (max_age, measured
 * from the newest key time seen).  Lookup is an open-addressing table.
 *
 * A window of a million keys is held for months (DESIGN §7), so a record
 * keeps only what replay needs: 64 bytes in a ring of records in store
 * order (no pointers, no per-record allocation), from which the receipt
 * is rebuilt (quota__key_view); a call with several sources or a long
 * key keeps its record in full beside it (quota__keyext).  The ring is
 * sized to the window (max_keys + 1 records once full), so a full window
 * stores a new key in the slot the oldest one just left.
 *
 * A full window does not fit in any cache: checking that a key is new
 * costs a miss in the table, and forgetting the oldest key would cost
 * misses in its record and its table slot.  The records are forgotten in
 * ring order, so the next oldest one is fetched a call ahead, and with it
 * its table slot.
 *
 * What is left is finding out that a new key is new.  Beside the table of
 * (hash, record) slots, 8 bytes each, a control byte per slot holds 7
 * bits of the hash (0: empty), and lookup reads those, eight at a time:
 * a ninth of the memory, so far more often in cache and within reach of
 * the TLB.  Only a slot whose 7 bits match is looked at (1 in 128 of the
 * others).  The slot a new key goes in is prefetched while the bytes are
 * read.
 *
 * The slots are probed in groups of eight, and forgetting a key moves
 * none (keytab.h).
 */
#include "charge_fast.h"
#include "keytab.h"

#include <string.h>

/* A window with no limits set gets the defaults (QUOTA__KEYS_INIT, what
 * an account's ext starts with). */
static void defaults(quota__keys *k)
{
	static const quota__keys init = QUOTA__KEYS_INIT;

	if (!k->max_keys) {
		k->max_keys = init.max_keys;
		k->max_age = init.max_age;
		k->newest = init.newest;
	}
}

/*
 * Keys are chosen by the gateway's clients, so the hash is keyed with the
 * context's secret (DESIGN §7, siphash.c): with an unkeyed one, keys made
 * to share a home slot would pile up in one run of slots, and every look-up
 * and deletion would walk it.  SipHash-1-3 of a short key is 2 compression
 * and 3 finalization rounds; the hash never leaves memory.  Its low 32
 * bits are kept (slots, records): the home slot and the tag come from them.
 */
static inline uint32_t key_hash(const quota_account *a, const char *key,
				size_t n)
{
	return (uint32_t)quota__siphash13(&a->ctx->hkey, key, n);
}


static inline bool key_eq(const quota__keyrec *r, const char *key, size_t n)
{
	if (r->klen != n)
		return false;
	if (r->flags & QUOTA__KR_EXT)
		return memcmp(r->u.x->key, key, n) == 0;
	return memcmp(r->u.b + quota__key_off[r->flags & QUOTA__KR_OP], key, n) == 0;
}


/* The oldest record kept: the first a batch forgot, else the head. */
static inline uint32_t ring_base(const quota__keys *k)
{
	return k->head >= k->ngone ? k->head - k->ngone
				   : k->head + k->rcap - k->ngone;
}

/*
 * The slot of key (hash h, n bytes) in the table, or NULL if it is not
 * there and *slot is where it goes (the first free slot of its probe).
 * The probe ends at the first group with an empty slot, or, in a table
 * a batch's undoing left with none, when it has read them all.
 */
static inline __attribute__((always_inline)) const quota__keyslot *
find(const quota__keys *k, uint32_t h, const char *key, size_t n,
     uint32_t *slot)
{
	const uint32_t mask = k->cap - 1;
	const uint8_t tag = quota__kt_tag_of(h);
	uint32_t g = quota__kt_group_of(quota__kt_home(h, k->cap));
	uint32_t left = k->cap / 8;
	uint64_t fr = 0;

	for (;;) {
		uint64_t w = quota__kt_group(k->ctrl, g), m;

		for (m = quota__kt_tag_bytes(w, tag); m; m &= m - 1) {
			uint32_t j = g + quota__kt_first(m);

			if (k->tab[j].hash == h &&
			    key_eq(&k->ring[k->tab[j].rec], key, n))
				return &k->tab[j];
		}
		if (!fr && (fr = quota__kt_free_bytes(w)))
			*slot = g + quota__kt_first(fr);
		if (quota__kt_zero_bytes(w) || !--left)
			return NULL;
		g = (g + 8) & mask;
	}
}

/*
 * A key's length (set by the caller of key_lookup), hash and, if it is
 * new, the slot it goes in (set by find): good until the table changes.
 * Only this file probes and stores at a probed slot, and only in
 * quota__key_charge's order: room made first (quota__key_ready), then
 * the look-up, then the store, with no table change between (a grow or
 * a rebuild in between would leave the slot stale, and the key placed
 * off its probe path could not be found again: R11's repeat charged
 * twice).  With a store, its append runs in between, which must not call
 * the library on the context (quota_store.h).  Hence these are static,
 * not in ctx.h.
 */
typedef struct quota__keyprobe {
	uint64_t hash;
	size_t len;
	uint32_t slot;
} quota__keyprobe;

/* The record of the key of p (hash and length set), or NULL and where
 * the key goes; inline in the keyed charge (quota__key_charge). */
static inline __attribute__((always_inline)) quota__keyrec *
probe(const quota_account *a, const char *key, quota__keyprobe *p)
{
	const quota__keyslot *sl;
	const uint32_t cap = a->x->keys.cap;

	/* find sets the slot of a new key; none (out of the table) until
	 * then, so a store at a slot it did not set writes out of the
	 * table, which ASan and valgrind report (and a build without them
	 * may not: a slot left from another key would corrupt quietly). */
	p->slot = UINT32_MAX;
	if (!cap)
		return NULL;
	/* A new key is stored in its home group, almost always: fetch it
	 * while the control bytes are read. */
	quota__hint_w(&a->x->keys.tab[quota__kt_group_of(
		quota__kt_home((uint32_t)p->hash, cap))]);
	sl = find(&a->x->keys, (uint32_t)p->hash, key, p->len, &p->slot);
	return sl ? &a->x->keys.ring[sl->rec] : NULL;
}

static quota__keyrec *key_lookup(const quota_account *a, const char *key,
				  quota__keyprobe *p)
{
	p->hash = key_hash(a, key, p->len);
	return probe(a, key, p);
}

quota__keyrec *quota__key_find(const quota_account *a, const char *key)
{
	quota__keyprobe p;

	p.len = strlen(key);
	return key_lookup(a, key, &p);
}

/*
 * Room in the ring for one more record after those kept (a batch's
 * forgotten ones too).  It doubles up to the window's max_keys + 1, the
 * most a window holds between storing a key and forgetting the oldest,
 * so a full window wastes no slot; beyond that (a batch keeping what it
 * forgot) it grows by half.  The records move to the start of the new
 * ring, in order, and the table's indexes with them.
 */
static int ring_reserve(const quota__mem *mem, quota__keys *k)
{
	uint64_t need = (uint64_t)k->ngone + k->n + 1, lim, ncap;
	uint32_t base, i, used;
	quota__keyrec *nr;
	void *nm;

	if (need <= k->rcap)
		return QUOTA_OK;
	lim = (uint64_t)k->max_keys + 1;
	if (k->rcap < lim) {
		ncap = k->rcap ? (uint64_t)k->rcap * 2 : 16;
		if (ncap > lim)
			ncap = lim;
	} else {
		ncap = (uint64_t)k->rcap + k->rcap / 2;
	}
	if (ncap < need)
		ncap = need;
	if (ncap > UINT32_MAX / 2 ||
	    ncap > (SIZE_MAX - 63) / sizeof(quota__keyrec))
		return QUOTA_ENOMEM;
	nm = quota__malloc(mem, (size_t)ncap * sizeof *nr + 63);
	if (!nm)
		return QUOTA_ENOMEM;
	nr = (quota__keyrec *)(void *)((char *)nm +
				       ((64 - ((uintptr_t)nm & 63)) & 63));
	base = ring_base(k);
	used = k->ngone + k->n;
	for (i = 0; i < used; i++)
		nr[i] = k->ring[quota__ring_idx(k, base, i)];
	for (i = 0; i < k->cap; i++)
		if (k->ctrl[i] & 0x80)
			k->tab[i].rec = k->tab[i].rec >= base
						? k->tab[i].rec - base
						: k->tab[i].rec + k->rcap - base;
	quota__free(mem, k->ring_mem);
	k->ring_mem = nm;
	k->ring = nr;
	k->rcap = (uint32_t)ncap;
	k->head = k->ngone;
	return QUOTA_OK;
}

int quota__key_reserve(quota_account *a)
{
	const quota__mem *mem = &a->ctx->mem;
	quota__keys *k;

	if (quota__ext_need(a))
		return QUOTA_ENOMEM;
	k = &a->x->keys;
	defaults(k);
	if (quota__keytab_reserve(mem, k) || ring_reserve(mem, k))
		return QUOTA_ENOMEM;
	return QUOTA_OK;
}

/* A record to fill in lives in a box (source.c): small ones are recycled
 * when the call's record is stored, so steady traffic allocates
 * nothing. */
static void key_init(quota__keyext *r, const char *key, size_t len)
{
	r->reversed = false;
	r->p_cat = 0;
	r->p_units = r->p_at = r->p_timeout = r->p_used = 0;
	r->p_hold = r->hold_id = 0;
	r->fee = 0;
	memcpy(r->key, key, len + 1); /* checked: <= QUOTA_KEY_MAX bytes */
}

/* A recycled small record for the key of p (sources filled in by the
 * caller), or NULL; quota__key_unused gives back one that was not
 * stored. */
static quota__keyext *key_small(quota_account *a, const char *key,
				 const quota__keyprobe *p)
{
	quota__keyext *r = (quota__keyext *)(void *)quota__box_small(
		&a->ctx->mem, &a->x->keys.free, sizeof(quota__keyext));

	if (r)
		key_init(r, key, p->len);
	return r;
}

void quota__key_unused(quota_account *a, quota__keyext *r)
{
	quota__box_drop(&a->ctx->mem, &a->x->keys.free, &r->box);
}

quota__keyext *quota__key_new(quota_account *a, const char *key,
			      const quota__src *src)
{
	quota__keyext *r = (quota__keyext *)(void *)quota__box_new(
		&a->ctx->mem, &a->x->keys.free, sizeof(quota__keyext), src);

	if (r)
		key_init(r, key, strlen(key));
	return r;
}

/*
 * Write x into r compactly if the record can be rebuilt from that exactly
 * (see quota__keyrec): one source or none, the parameters those of the
 * sources or in the operation's words, the key in the room left.
 */
static bool compact(quota__keyrec *r, const quota__keyext *x, size_t len)
{
	const quota__src *s = &x->box.src;
	const int32_t op = x->op;
	int64_t w0 = 0, c;
	unsigned ks;

	if (len > sizeof r->u - quota__key_off[op])
		return false;
	if (!s->ndraws && !s->npayg) {
		if (s->free != s->units || s->pkg || s->payg || s->cost)
			return false;
		ks = QUOTA__KS_FREE;
	} else if (s->ndraws == 1 && !s->npayg) {
		if (s->free || s->payg || s->cost || s->pkg != s->units ||
		    s->draws[0].units != s->units)
			return false;
		ks = QUOTA__KS_PKG;
		w0 = s->draws[0].pk->seq;
	} else if (!s->ndraws && s->npayg == 1) {
		const quota__payg *l = s->paygs;

		if (s->free || s->pkg || s->payg != s->units ||
		    l->units != s->units || l->cost != s->cost ||
		    l->tier > UINT8_MAX ||
		    quota__mul_ovf(l->units, l->price, &c) || c != l->cost)
			return false;
		ks = QUOTA__KS_PAYG;
		w0 = l->price;
		r->tier = (uint8_t)l->tier;
	} else {
		return false;
	}
	switch (op) {
	case QUOTA__OP_CHARGE:
	case QUOTA__OP_RESERVE:
		if (x->p_cat != s->cat || x->p_units != s->units ||
		    x->p_at != s->at || x->time != s->at || x->fee)
			return false;
		if (op == QUOTA__OP_RESERVE) {
			r->u.w[1] = x->p_timeout;
			r->u.w[2] = (int64_t)x->hold_id;
		} else if (x->hold_id) {
			return false;
		}
		break;
	case QUOTA__OP_COMMIT:
		if (x->p_hold != x->hold_id || x->p_used != s->units || x->fee)
			return false;
		r->u.w[1] = (int64_t)x->hold_id;
		r->u.w[2] = s->at;
		break;
	default: /* QUOTA__OP_RELEASE */
		if (x->p_hold != x->hold_id)
			return false;
		r->u.w[1] = (int64_t)x->hold_id;
		r->u.w[2] = s->at;
		r->u.w[3] = x->fee;
		break;
	}
	r->u.w[0] = w0;
	r->flags = (uint8_t)(op | ks << 3 |
			     (x->reversed ? QUOTA__KR_REVERSED : 0));
	memcpy(r->u.b + quota__key_off[op], x->key, len);
	return true;
}

/* A record the window no longer holds: its full form goes back. */
static inline void rec_drop(quota_account *a, const quota__keyrec *r)
{
	if (r->flags & QUOTA__KR_EXT)
		quota__key_unused(a, r->u.x);
}

/* Whether no key was put past the full group before group g: g has an
 * empty slot, and each key in it is in its home group. */
static bool none_past(const quota__keys *k, uint32_t g)
{
	uint64_t w = quota__kt_group(k->ctrl, g), m;

	if (!quota__kt_zero_bytes(w))
		return false;
	for (m = w & QUOTA__KT_HIGHS; m; m &= m - 1)
		if (quota__kt_group_of(quota__kt_home(
			    k->tab[g + quota__kt_first(m)].hash, k->cap)) != g)
			return false;
	return true;
}

/*
 * Take record i (hash h) out of the table (R11, issue 16): its slot is
 * the one with its tag and index in the first group of its probe that
 * has it, and becomes empty if no key was put past that group (it has an
 * empty slot, or seldom, the next one shows it), else deleted.  Nothing
 * moves, and only the one branch of finding the slot is left to predict.
 */
static inline __attribute__((always_inline)) void
unlink_rec(quota__keys *k, uint32_t i_rec, uint32_t h)
{
	const quota__keyslot *const tab = k->tab;
	const uint32_t mask = k->cap - 1;
	const uint8_t tag = quota__kt_tag_of(h);
	uint32_t g = quota__kt_group_of(quota__kt_home(h, k->cap)), j = 0;
	uint64_t w, m;
	bool empty;

	for (;; g = (g + 8) & mask) {
		w = quota__kt_group(k->ctrl, g);
		for (m = quota__kt_tag_bytes(w, tag); m; m &= m - 1)
			if (tab[j = g + quota__kt_first(m)].rec == i_rec)
				break;
		if (m)
			break;
	}
	empty = quota__kt_zero_bytes(w) != 0 || none_past(k, (g + 8) & mask);
	k->ctrl[j] = empty ? 0 : QUOTA__KT_DELETED;
	k->ndel += !empty;
	k->n--;
}

/* Forget the oldest keys while the window is over its bounds (inline in
 * every store: a full window forgets a key a store, issue 16). */
static inline __attribute__((always_inline)) void evict(quota_account *a)
{
	quota__keys *k = &a->x->keys;

	while (k->n &&
	       (k->n > k->max_keys ||
		(k->newest != INT64_MIN && k->ring[k->head].time < k->newest &&
		 k->newest - k->ring[k->head].time > k->max_age))) {
		const quota__keyrec *r = &k->ring[k->head];

		unlink_rec(k, k->head, r->hash);
		k->head = quota__ring_idx(k, k->head, 1);
		if (k->keep) /* in a batch: kept, in order, before head */
			k->ngone++;
		else
			rec_drop(a, r);
	}
	/* A full window forgets the new oldest key on the next store: fetch
	 * the one after it, and its own table slot now, a call ahead. */
	if (k->n && k->n >= k->max_keys) {
		uint32_t g = quota__kt_group_of(
			quota__kt_home(k->ring[k->head].hash, k->cap));

		quota__hint_w(&k->ring[quota__ring_idx(k, k->head, 1)]);
		quota__hint_w(&k->ctrl[g]);
		quota__hint_w(&k->tab[g]); /* its group's slots: 64 bytes */
		quota__hint_w(&k->tab[g + 7]);
	}
}

/* The ring slot for a new record (room made by quota__key_reserve),
 * filled in from x; x goes back unless the record keeps it. */
static uint32_t fill(quota_account *a, quota__keyext *x, uint32_t h,
		     size_t len)
{
	quota__keys *k = &a->x->keys;
	uint32_t i = quota__ring_idx(k, k->head, k->n);
	quota__keyrec *r = &k->ring[i];

	r->hash = h;
	r->cat = (uint8_t)x->box.src.cat;
	r->klen = (uint8_t)len;
	r->time = x->time;
	r->units = x->box.src.units;
	if (compact(r, x, len)) {
		quota__key_unused(a, x);
	} else {
		r->flags = (uint8_t)(x->op | QUOTA__KR_EXT |
				     (x->reversed ? QUOTA__KR_REVERSED : 0));
		r->tier = 0;
		r->u.x = x;
	}
	return i;
}

/* Count the new record (in the ring after the others) and forget what
 * the window no longer holds. */
static inline __attribute__((always_inline)) void append(quota_account *a,
							 int64_t time)
{
	quota__keys *k = &a->x->keys;

	k->n++;
	if (time > k->newest)
		k->newest = time;
	evict(a);
}

void quota__key_store(quota_account *a, quota__keyext *x)
{
	quota__keys *k = &a->x->keys;
	int64_t time = x->time;
	size_t len = strlen(x->key);
	uint32_t h = key_hash(a, x->key, len);
	uint32_t i = fill(a, x, h, len);

	k->ndel -= quota__kt_put(k->tab, k->ctrl, k->cap, h, i);
	append(a, time);
}

/* Put record i in the table for the key of p, in the slot its look-up
 * found: the first free one of its probe, as the table has not changed
 * since (quota__key_charge made room first). */
static inline __attribute__((always_inline)) void
link_at(quota__keys *k, const quota__keyprobe *p, uint32_t i)
{
	k->ndel -= k->ctrl[p->slot] == QUOTA__KT_DELETED;
	quota__kt_place(k->tab, k->ctrl, p->slot, (uint32_t)p->hash, i);
}

/* quota__key_store for the key of p, looked up just before with room
 * made first and no table change since (quota__keyprobe). */
static void key_store_at(quota_account *a, quota__keyext *x,
			 const quota__keyprobe *p)
{
	int64_t time = x->time;
	uint32_t i = fill(a, x, (uint32_t)p->hash, p->len);

	link_at(&a->x->keys, p, i);
	append(a, time);
}

bool quota__key_spare(quota_account *a)
{
	quota__box *b;

	if (a->x->keys.free)
		return true;
	b = quota__box_small(&a->ctx->mem, &a->x->keys.free,
			     sizeof(quota__keyext));
	if (!b)
		return false;
	quota__box_drop(&a->ctx->mem, &a->x->keys.free, b);
	return true;
}

/* The n bytes of a key (1 to 32, the most a compact charge record holds;
 * check_key_hash refuses an empty key) to d: two copies of a fixed size
 * that overlap, not a call (issue 16). */
static inline __attribute__((always_inline)) void
key_copy(char *d, const char *key, size_t n)
{
	if (n >= 16) {
		memcpy(d, key, 16);
		memcpy(d + n - 16, key + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, key, 8);
		memcpy(d + n - 8, key + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, key, 4);
		memcpy(d + n - 4, key + n - 4, 4);
	} else {
		d[0] = key[0];
		d[n >> 1] = key[n >> 1];
		d[n - 1] = key[n - 1];
	}
}

/*
 * Issue 16: a keyed charge of the fast path (R11) drawn from one source
 * is stored from its sources s straight into the ring, without a
 * quota__keyext in between.  Such a charge's parameters are those of its
 * sources (the category, units and time of the usage; no fee, no hold),
 * so what compact() would accept follows from s and the key's length
 * alone, and the record is the one compact() would write.
 */
static inline __attribute__((always_inline)) bool
store_charge(quota_account *a, const char *key, const quota__keyprobe *p,
	     const quota__src *s)
{
	quota__keys *k = &a->x->keys;
	const size_t off = quota__key_off[QUOTA__OP_CHARGE];
	quota__keyrec *r;
	unsigned ks;
	int64_t w0;
	uint32_t i;

	if (p->len > sizeof r->u - off)
		return false;
	if (s->free == s->units) {
		ks = QUOTA__KS_FREE;
		w0 = 0;
	} else if (s->pkg == s->units) {
		ks = QUOTA__KS_PKG;
		w0 = s->draws[0].pk->seq;
	} else if (s->payg == s->units && s->paygs[0].tier <= UINT8_MAX) {
		/* the fast path's cost is units * price, not overflowing */
		ks = QUOTA__KS_PAYG;
		w0 = s->paygs[0].price;
	} else {
		return false;
	}
	i = quota__ring_idx(k, k->head, k->n);
	r = &k->ring[i];
	r->hash = (uint32_t)p->hash;
	r->flags = (uint8_t)(QUOTA__OP_CHARGE | ks << 3);
	r->cat = (uint8_t)s->cat;
	r->klen = (uint8_t)p->len;
	if (ks == QUOTA__KS_PAYG)
		r->tier = (uint8_t)s->paygs[0].tier;
	r->time = s->at;
	r->units = s->units;
	r->u.w[0] = w0;
	key_copy(r->u.b + off, key, p->len);
	link_at(k, p, i);
	append(a, s->at);
	return true;
}

/* quota__src_assign for the fast path's sources (one draw and one
 * pay-as-you-go line at most) into a small box, field by field: s stays
 * in registers rather than being written out for a copy (issue 16). */
static inline __attribute__((always_inline)) void
src_one(quota__src *b, const quota__src *s, const quota__draw *d,
	const quota__payg *l)
{
	b->units = s->units;
	b->free = s->free;
	b->pkg = s->pkg;
	b->payg = s->payg;
	b->cost = s->cost;
	b->at = s->at;
	b->day = s->day;
	b->month = s->month;
	b->cat = s->cat;
	b->ndraws = s->ndraws;
	b->npayg = s->npayg;
	b->draws[0] = *d;
	b->paygs[0] = *l;
}

/*
 * A key checked (1 to QUOTA_KEY_MAX bytes of UTF-8) in one pass with its
 * hash (R11, issue 16): the SipHash words tell whether the key is all
 * ASCII, and only one that is not is read again for its UTF-8.  p gets
 * the length and the hash; a key refused is worded by quota__check_key.
 */
static inline __attribute__((always_inline)) int
check_key_hash(const quota_account *a, const char *key, quota__keyprobe *p)
{
	size_t n = strlen(key), bad;
	bool ascii;

	p->len = n;
	if (n == 0 || n > QUOTA_KEY_MAX) {
		/* Refused there; said again so the compiler sees that no
		 * caller goes on without p->hash. */
		int rc = quota__check_key(a->ctx, key);

		return rc ? rc : QUOTA_EINVAL;
	}
	p->hash = quota__siphash13_ascii(&a->ctx->hkey, key, n, &ascii);
	if (!ascii && !quota__utf8_valid(key, n, &bad))
		return quota__check_key(a->ctx, key);
	return QUOTA_OK;
}

/*
 * The fast part of a keyed charge whose key is new, looked up in p with
 * room made first: the fast path (charge_fast.h) on the usage without
 * its key, whose record (journal: QUOTA__J_*, a constant in each copy)
 * carries the key all the same, so it is the general path's record
 * (§5); then the key stored, which cannot fail (the spare was kept
 * before anything moved).  quota__fast's answer: 1 charged, 0 not
 * taken (the general path), < 0 the store's refusal (nothing changed).
 */
static inline __attribute__((always_inline)) int
key_fast(quota_account *a, const quota_usage *u, quota_receipt *r,
	 const quota__keyprobe *p, const int journal)
{
	quota_usage plain = *u;
	quota__keyext *rec;
	quota__draw d;
	quota__payg l;
	quota__src s;
	int rc;

	plain.key = NULL;
	s.draws = &d;
	s.paygs = &l;
	rc = quota__fast(a, &plain, r, QUOTA__FAST_CHARGE, &s, 0, journal,
			 u->key, p->len);
	if (rc <= 0)
		return rc;
	if (!store_charge(a, u->key, p, &s)) {
		rec = key_small(a, u->key, p);
		src_one(&rec->box.src, &s, &d, &l);
		quota__key_usage(rec, QUOTA__OP_CHARGE, u);
		key_store_at(a, rec, p);
	}
	return 1;
}

/* With a store (§5): a copy for each way of computing the checksum, out
 * of the line of the keyed charge without one. */
static __attribute__((noinline)) int key_journaled(quota_account *a,
						   const quota_usage *u,
						   quota_receipt *r,
						   const quota__keyprobe *p)
{
	return quota__crc_hw() ? key_fast(a, u, r, p, QUOTA__J_HW)
			       : key_fast(a, u, r, p, QUOTA__J_SW);
}

/*
 * A keyed charge (R11) in one function (issue 16): checking and hashing
 * the key, the look-up, the fast path and storing the record (key_fast)
 * are expanded here, with no call between them (but strlen) and the
 * sources on the stack, read once into the compact record.  Only a
 * charge that needs the full record fills one in, from the spare kept
 * for it before anything moved (storing cannot fail).  With a store,
 * key_fast runs in key_journaled, which writes the journal record first
 * (issue 10).  A stored key, or a charge the fast path leaves, goes on
 * in charge.c.
 */
int quota__key_charge(quota_account *a, const quota_usage *u,
		      quota_receipt *r)
{
	const quota__keyrec *found;
	quota__keyprobe p;
	int rc;

	if ((rc = check_key_hash(a, u->key, &p)))
		return quota__fail(r, rc);
	/* Room first (it may grow or rebuild the table), so the slot the
	 * look-up finds for a new key is where it goes. */
	if (a->ctx->hook || !quota__key_ready(a))
		return quota__charge_keyed_rest(a, u, r,
						probe(a, u->key, &p));
	if ((found = probe(a, u->key, &p)))
		return quota__charge_keyed_rest(a, u, r, found);
	rc = __builtin_expect(!a->ctx->store_on, 1)
		     ? key_fast(a, u, r, &p, QUOTA__J_NONE)
		     : key_journaled(a, u, r, &p);
	if (rc > 0)
		return QUOTA_OK;
	if (rc < 0)
		return quota__fail(r, rc);
	return quota__charge_keyed_rest(a, u, r, NULL);
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

	defaults(&a->x->keys);
	a->x->keys.max_keys = op->max_keys;
	a->x->keys.max_age = op->max_age_s;
	evict(a);
}

static const quota__step key_window_steps = {
	.ext = true,
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
	quota__keys *k = &a->x->keys;
	uint32_t base = ring_base(k), i;

	for (i = 0; i < k->ngone + k->n; i++) {
		const quota__keyrec *r = &k->ring[quota__ring_idx(k, base, i)];

		if (r->flags & QUOTA__KR_EXT)
			quota__free(&a->ctx->mem, r->u.x);
	}
	quota__box_free_list(&a->ctx->mem, &k->free);
	quota__free(&a->ctx->mem, k->ring_mem);
	quota__free(&a->ctx->mem, k->tab);
	quota__free(&a->ctx->mem, k->ctrl);
	memset(k, 0, sizeof *k);
}

/*
 * Undoing a batch (batch.c).  A batch's operations (charges, reservations,
 * commits, releases) change the window only by appending records at the
 * tail and forgetting the oldest at the head (evict: by count or age), and
 * never change a stored record; so the window before the batch is the
 * first m->n records from the oldest one kept, the forgotten ones in the
 * ring before head.
 */
void quota__keys_mark(quota_account *a, quota__keymark *m)
{
	quota__keys *k = &a->x->keys;

	m->n = k->n;
	m->newest = k->newest;
	k->keep = true;
	k->ngone = 0;
}

void quota__keys_release(quota_account *a)
{
	quota__keys *k = &a->x->keys;
	uint32_t base = ring_base(k), i;

	for (i = 0; i < k->ngone; i++)
		rec_drop(a, &k->ring[quota__ring_idx(k, base, i)]);
	k->keep = false;
	k->ngone = 0;
}

void quota__keys_undo(quota_account *a, const quota__keymark *m)
{
	quota__keys *k = &a->x->keys;
	uint32_t base = ring_base(k), used = k->ngone + k->n, i;

	/* The batch's records still in the window go: out first, so that a
	 * key the batch forgot and stored again is in the table once. */
	for (i = k->ngone; i < used; i++) {
		uint32_t j = quota__ring_idx(k, base, i);

		if (i >= m->n) {
			unlink_rec(k, j, k->ring[j].hash);
			rec_drop(a, &k->ring[j]);
		}
	}
	/* The old ones it forgot back in the table (the table held them and
	 * has not shrunk: there is room); its own it forgot go. */
	for (i = 0; i < k->ngone; i++) {
		uint32_t j = quota__ring_idx(k, base, i);

		if (i < m->n)
			k->ndel -= quota__kt_put(k->tab, k->ctrl, k->cap,
						 k->ring[j].hash, j);
		else
			rec_drop(a, &k->ring[j]);
	}
	k->head = base;
	k->n = m->n;
	k->newest = m->newest;
	k->keep = false;
	k->ngone = 0;
}


//END
