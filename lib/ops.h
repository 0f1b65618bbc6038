/*
 * ops.h - what the library's modules offer one another: the functions and
 * inline helpers of each module over the layout in ctx.h, section by
 * section, each headed by the file that implements it (and, for state,
 * the one that writes it).  ctx.h includes it at its end, so a file that
 * includes ctx.h has both; split from ctx.h to keep each under about a
 * thousand lines.
 */
#ifndef QUOTA_OPS_H
#define QUOTA_OPS_H

#include "ctx.h"

/* ------------------------------------------ local time (zone.c, R26) */

/* Local time of UTC instant at in a's calendar: the cached offset's
 * interval first (a compare and an add), the zone's rules outside it. */
int64_t quota__local_slow(const quota_account *a, int64_t at);
static inline int64_t quota__local(const quota_account *a, int64_t at)
{
	if (__builtin_expect((uint64_t)at - (uint64_t)a->off_lo < a->off_span,
			     1))
		return at + a->utc_offset;
	return quota__local_slow(a, at);
}
/* The first UTC instant whose local time is at or after `local` (a
 * local day's start when it is a midnight). */
int64_t quota__utc_of_local(const quota_account *a, int64_t local);
static inline int64_t quota__day_start(const quota_account *a, int64_t day)
{
	return quota__utc_of_local(a, day * QUOTA__DAY);
}
/*
 * Ledger hours (R17, R22).  With a fixed offset, local hours since
 * 1970-01-01T00.  In a zone a local day is not 24 hours: its hours are
 * the successive spans of 3600 s from the day's start (23 of them on a
 * spring-forward day, 25 on a fall-back day, the last one shorter when a
 * day is not whole hours), numbered day * 64 + n; so the repeated local
 * hour of a fall-back day is two rows, never one.
 */
#define QUOTA__ZONE_HOURS 64
int64_t quota__zone_hour_of(const quota_account *a, int64_t at);
int64_t quota__zone_hour_start(const quota_account *a, int64_t hour);
/* The local day of ledger hour `hour`, and the first hour of a day. */
static inline int64_t quota__hour_day(const quota_account *a, int64_t hour)
{
	return quota__floor_div(hour, a->zoned ? QUOTA__ZONE_HOURS : 24);
}
static inline int64_t quota__day_hour(const quota_account *a, int64_t day)
{
	return day * (a->zoned ? QUOTA__ZONE_HOURS : 24);
}

/* The first package usable at t, through the head hint (cache only). */
uint32_t quota__pindex_head_slow(const quota__pindex *ix, int64_t t)
#ifdef __GNUC__
	__attribute__((cold))
#endif
	;
/* The small form's search: the first package usable at t from position
 * from on, looking at each (at most QUOTA__PSMALL), or UINT32_MAX.
 * Always inline: keys.c's keyed charge, with its copies for a store, is
 * past the size where the compiler would inline it on its own. */
static inline __attribute__((always_inline)) uint32_t
quota__psmall_first(const quota__pindex *ix, uint32_t from, int64_t t)
{
	uint32_t i;

	for (i = from; i < ix->n; i++) {
		const quota_package *p = ix->pk[i];

		if (p->remaining > 0 && p->effective_at <= t &&
		    t < p->expires_at)
			return i;
	}
	return UINT32_MAX;
}
static inline uint32_t quota__pindex_head(const quota__pindex *ix, int64_t t)
{
	if (ix->hint_gen == ix->gen && t >= ix->hint_lo && t < ix->hint_hi)
		return ix->hint_pos;
	if (quota__pindex_small(ix))
		return quota__psmall_first(ix, 0, t);
	return quota__pindex_head_slow(ix, t);
}

/* Validate an id or name: 1..max bytes of valid UTF-8. */
int quota__check_name(quota_ctx *ctx, const char *what, const char *s,
		      size_t max);
/* Validate a category id against ctx. */
int quota__check_category(quota_ctx *ctx, uint32_t category);
/* A category mask of a package or offer (what, id: for the message):
 * EINVAL if empty, ENOTFOUND if it names a category not registered. */
int quota__check_mask(quota_ctx *ctx, const char *what, const char *id,
		      uint64_t mask);
/* Validate a usage or package time. */
static inline bool quota__time_ok(int64_t t)
{
	return t >= QUOTA_TIME_MIN && t < QUOTA_TIME_MAX;
}

/* Package index operations (package.c). */
void quota__pindex_free(const quota__mem *mem, quota__pindex *ix);
/*
 * First leaf at or after lo whose value is <= t, or UINT32_MAX.  Bottom-up:
 * from leaf lo, step to the next subtree on the right until one holds a
 * value <= t, then descend to its leftmost such leaf.  O(log P), and only a
 * few steps when the answer is near lo, as it usually is.
 */
static inline uint32_t quota__first_le(const quota__pindex *ix, uint32_t lo,
				       int64_t t)
{
	const int64_t *tree = ix->tree;
	uint32_t i = ix->size + lo;

	while (tree[i] > t) {
		while (i & 1) {
			if (i == 1)
				return UINT32_MAX;
			i >>= 1;
		}
		i++;
	}
	while (i < ix->size)
		i = tree[2 * i] <= t ? 2 * i : 2 * i + 1;
	return i - ix->size;
}

/*
 * Position of the first package usable at t at or after position from, in
 * R3 order; UINT32_MAX if none.  Per priority group: expiry ascends, so the
 * packages unexpired at t are a suffix found by binary search; the tree
 * then skips the pending and empty ones.
 */
static inline uint32_t quota__pindex_first(const quota__pindex *ix,
					   uint32_t from, int64_t t)
{
	uint32_t g;

	if (quota__pindex_small(ix))
		return quota__psmall_first(ix, from, t);
	for (g = 0; g < ix->ngroups; g++) {
		uint32_t lo = ix->group[g], hi = ix->group[g + 1], n, r;

		if (hi <= from)
			continue;
		if (lo < from)
			lo = from;
		/* Branch-free lower bound of "expires_at > t" in [lo, hi). */
		for (n = hi - lo; n > 1;) {
			uint32_t half = n / 2;

			lo = ix->exp[lo + half - 1] <= t ? lo + half : lo;
			n -= half;
		}
		if (n == 1 && ix->exp[lo] <= t)
			lo++;
		if (lo >= hi)
			continue;
		r = quota__first_le(ix, lo, t);
		if (r == UINT32_MAX)
			return UINT32_MAX; /* nothing usable further right */
		if (r < hi)
			return r;
	}
	return UINT32_MAX;
}
/* A purchase (R16, R19) that a package comes from: what its record
 * carries besides the package (catalog.c fills it in). */
typedef struct quota__buy {
	const char *offer;
	int64_t quantity, at, list_price, discount;
	const quota_voucher *voucher; /* or NULL */
	quota__split split; /* R24: what each bucket pays */
	const quota_offer *o; /* the offer itself (NULL: not in the context) */
	/* R23: a renewal (record QUOTA__R_RENEW) of the package at this
	 * index + 1 among the account's, else 0. */
	uint64_t renews;
} quota__buy;
int quota__package_add(quota_account *a, const quota_package_spec *s,
		       const quota__buy *buy, quota_package **out);
/* The package of id in a, or NULL (package.c). */
quota_package *quota__package_by_id(const quota_account *a, const char *id);
/* A STOP-flag package covering this index's category is in force at t. */
bool quota__pindex_stop_at(const quota__pindex *ix, int64_t t);
/* p's remaining went to or from 0: update every index that holds it. */
void quota__package_refresh(quota_account *a, quota_package *p);
/* The same, for the index where p is known to sit at pos. */
void quota__pindex_refresh(quota__pindex *ix, uint32_t pos);
void quota__package_free(const quota__mem *mem, quota_package *p);
/*
 * A package pruned (§7) while a key record in the window still names it:
 * the record's draw points here instead, so that a repeat of the key still
 * returns the stored receipt (its line has no package).  Read only; its
 * seq is QUOTA__SEQ_GONE, the number snapshots give it.
 */
#define QUOTA__SEQ_GONE UINT32_MAX
extern const quota_package quota__package_gone;
#define QUOTA__GONE ((quota_package *)&quota__package_gone)

/* Counters of an account (counters.c). */
int64_t quota__counter(const quota_account *a, unsigned kind, unsigned cat,
		       int64_t period);
/* Calendar month of a day number, through the context's one-entry cache
 * (day numbers are local days already: one cache serves every account). */
int64_t quota__account_month_slow(const quota_account *a, int64_t day);
static inline int64_t quota__account_month(const quota_account *a,
					   int64_t day)
{
	const quota_ctx *ctx = a->ctx;

	if (day >= ctx->mday_lo && day < ctx->mday_hi)
		return ctx->month;
	return quota__account_month_slow(a, day);
}
/* Before a charge: allocate cat's and QUOTA__CAT_ALL's current-period
 * record and table room, so that quota__counter_charge cannot fail. */
int quota__counter_prepare(quota_account *a, unsigned cat);
/* Count a charge: units for cat and the account, free units for cat. */
void quota__counter_charge(quota_account *a, unsigned cat, int64_t day,
			   int64_t month, int64_t units, int64_t free);
/* The same for a late report (issue 16): quota__counter_late, late.h. */

/* ------------------------------------------------ charges (charge.c) */

/* A planned charge: validated and computed, nothing changed yet. */
typedef struct quota__plan {
	quota__src s;        /* draws in ctx->scratch */
	quota__payg paygs[QUOTA__MAX_TIERS];
	int64_t cnt[4];      /* the unit counters read (see charge.c) */
	quota__freeuse fu;   /* free units used in the charge's periods */
} quota__plan;

/* The common case of a charge in one pass: quota__fast (charge_fast.h). */

/* Validate usage (key excepted) and plan it: caps, free, packages, payg. */
int quota__plan_usage(const quota_account *a, const quota_usage *u,
		      quota__plan *pl);
/* Make sure apply cannot fail (counters' room); may allocate. */
int quota__plan_prepare(quota_account *a, quota__plan *pl);
/* Apply a prepared plan: counters, packages (and their events). */
void quota__plan_apply(quota_account *a, quota__plan *pl);
/* Fill a receipt from a source record. */
void quota__receipt_fill(quota_receipt *r, const quota__src *s, int32_t kind);
/* QUOTA_ENOMEM with the account's message. */
static inline int quota__nomem(const quota_account *a)
{
	return quota__err(a->ctx, QUOTA_ENOMEM, "account '%s': out of memory",
			  a->id);
}
/* A refused call: its receipt (if any) zeroed, and its code. */
static inline int quota__fail(quota_receipt *r, int rc)
{
	if (r)
		memset(r, 0, sizeof *r);
	return rc;
}
/* R25 (block.c): QUOTA_EBLOCKED, worded; the reason's storage. */
int quota__blocked_err(const quota_account *a);
void quota__block_free(quota_account *a);
/* R27 (block.c): the key a kept receipt of id is stored under in the key
 * window; the id of such a key (0: a caller's key, or none); and
 * quota__check_key that also takes one (what records and snapshots
 * carry). */
#define QUOTA__RKEY_MAX 22
void quota__receipt_key(char *buf, uint64_t id);
uint64_t quota__receipt_key_id(const char *key);
int quota__check_key_rec(quota_ctx *ctx, const char *key);
/* Validate an idempotency key (NULL is fine). */
int quota__check_key(quota_ctx *ctx, const char *key);

/* Take back units of a source from the counters of its period. */
void quota__counter_uncharge(quota_account *a, unsigned cat, int64_t day,
			     int64_t month, int64_t units, int64_t free);

/* --------------------------- keys (keys.c; reading back: keyview.c) */

/* The stored record of key, or NULL.  Valid until the next
 * quota__key_reserve or change of the window. */
quota__keyrec *quota__key_find(const quota_account *a, const char *key);
/* A stored record in full (keyview.c). */
void quota__key_view(const quota_account *a, const quota__keyrec *k,
		     quota__keyview *v);
/* Room for one more record, table and ring: may fail with ENOMEM, so
 * callers run it in their plan, before quota__key_new / _small. */
int quota__key_reserve(quota_account *a);
/* Store a filled-in record for its key (after the operation applied; it
 * is compacted into the ring, and rec goes back); cannot fail. */
void quota__key_store(quota_account *a, quota__keyext *rec);
/* A record to fill in for key with a copy of src, or NULL. */
quota__keyext *quota__key_new(quota_account *a, const char *key,
			      const quota__src *src);
/* Give back a recycled record that was not stored (keys.c's
 * key_small took it). */
void quota__key_unused(quota_account *a, quota__keyext *r);
/* Make sure the next key_small (keys.c) takes a recycled record (cannot
 * fail); false when out of memory. */
bool quota__key_spare(quota_account *a);
/*
 * The most keys a table of cap slots holds (issue 16): it is at most
 * half full, for memory's sake (a window of a million keys); but a table
 * of up to QUOTA__KT_SMALL slots, which costs little beside its 64-byte
 * records, at most 3/8 full.  Near half full, groups with no empty slot
 * are common, and whether a look-up goes on past one, or a forgotten key
 * leaves its slot empty, is a branch no predictor learns: a window of
 * 1,000 keys (2,048 slots, 0.49 full) took about one mispredicted branch
 * a keyed charge more than one of 10,000 (0.31 full), and was the slower
 * of the two.  A table of 4,096 slots is 36 KiB beside 64 KiB of records.
 * Computed from cap, not kept: a field beside cap would take the
 * account's ext from 408 bytes to 416 (check_memory).
 */
enum { QUOTA__KT_SMALL = 4096 };

static inline uint32_t quota__kt_room(uint32_t cap)
{
	return cap <= QUOTA__KT_SMALL ? cap / 8 * 3 : cap / 2;
}

/* Both, for a keyed charge of the fast path (issue 16): no call while the
 * table and ring have room (quota__keytab_reserve's bounds, keytab.c)
 * and a recycled record is ready. */
static inline bool quota__key_ready(quota_account *a)
{
	const quota__keys *k = &a->x->keys;

	if (k->n < quota__kt_room(k->cap) && k->ndel <= k->cap / 8 &&
	    (uint64_t)k->ngone + k->n + 1 <= k->rcap && k->free)
		return true;
	return !quota__key_reserve(a) && quota__key_spare(a);
}
/* A keyed charge u (quota_charge's, R11): its key checked and hashed in
 * one pass, looked up, charged by the fast path and its record stored,
 * all in one stack frame (issue 16; with a store, the fast path and the
 * record in a second, keys.c's key_journaled); what that does not charge
 * goes on to quota__charge_keyed_rest. */
int quota__key_charge(quota_account *a, const quota_usage *u,
		      quota_receipt *r);
/* The rest of a keyed charge (charge.c): the receipt of found again, or
 * the general path when found is NULL. */
int quota__charge_keyed_rest(quota_account *a, const quota_usage *u,
			     quota_receipt *r, const quota__keyrec *found);
/* What a charge or reservation (op) with usage u stores for its key: the
 * parameters a repeat must match, the key's time. */
static inline void quota__key_usage(quota__keyext *rec, int32_t op,
				    const quota_usage *u)
{
	rec->op = op;
	rec->p_cat = u->category;
	rec->p_units = u->units;
	rec->p_at = u->at;
	rec->time = u->at;
}
static inline int32_t quota__key_op(const quota__keyrec *k)
{
	return k->flags & QUOTA__KR_OP;
}
static inline void quota__key_reversed(quota__keyrec *k)
{
	k->flags |= QUOTA__KR_REVERSED;
}
/* Answer a repeated key: replay (same) or QUOTA_EKEYCONFLICT
 * (keyview.c). */
int quota__key_replay(const quota_account *a, const quota__keyview *v,
		      bool same, quota_receipt *r);
void quota__keys_free(quota_account *a);
/* The window's defaults (R11): 100,000 keys, 7 days; an account's ext
 * starts with them (account.c). */
#define QUOTA__KEYS_INIT                                                     \
	{ .max_keys = 100000u, .max_age = 7 * INT64_C(86400),                 \
	  .newest = INT64_MIN }
/*
 * A batch's hold on the window (batch.c).  Within a batch, key records
 * are only appended at the tail and forgotten at the head; from
 * quota__keys_mark on, forgotten ones are kept aside.  Then either
 * quota__keys_release (the batch stands: they are recycled) or
 * quota__keys_undo (it does not: the records it stored go, the forgotten
 * ones come back, and the window is as m found it; cannot fail).
 */
void quota__keys_mark(quota_account *a, quota__keymark *m);
void quota__keys_release(quota_account *a);
void quota__keys_undo(quota_account *a, const quota__keymark *m);
/* Test only: the probes finding every key in the window takes, in total
 * (1 for a key in its home slot; a probe reads up to 8 control bytes). */
uint64_t quota__keys_probes(const quota__keys *k);
/* keyview.c: swap the key structures of from (nothing kept aside) and to,
 * and make
 * the draws of the records to now has point at the packages of to, which
 * must be those of from, in the same order (to: a state of from decoded
 * from its snapshot).  Cannot fail. */
void quota__keys_move(quota_account *from, quota_account *to);

/* ---------------------------------------------------- events (event.c) */

/* Is event tracking on for this account (a hook is set)?  Sets it up. */
bool quota__track(quota_account *a);
/* Room for the events one call can raise; run in plans.  _room: and
 * `extra` more (settlement: one SUSPENDED or RESUMED per bill). */
int quota__events_reserve(quota_account *a);
int quota__events_room(quota_account *a, size_t extra);
/* Move the clock to t (if later): expiry and warning events. */
void quota__clock(quota_account *a, int64_t t);
/* Package p's remaining changed by delta (negative: drawn). */
void quota__track_units(quota_account *a, quota_package *p, int64_t before);
/* A new package: into the sorted lists and the sums. */
int quota__track_reserve_package(quota_account *a);
void quota__track_package(quota_account *a, quota_package *p);
/* Caps reached by a change of +units in (cat, day, month). */
void quota__track_caps(quota_account *a, unsigned cat, int64_t day,
		       int64_t month, int64_t units);
/* Room for n HOLD_EXPIRED events' receipts (a tick's prepare; nothing
 * without a hook or when replaying), and such an event for the hold of
 * id whose sources s are about to go back (the tick's apply). */
int quota__events_receipts(quota_account *a, size_t n);
void quota__event_hold_expired(quota_account *a, const quota__src *s,
			       uint64_t id);
/* Evaluate the alerts, then deliver the queued events. */
void quota__events_flush(quota_account *a);
void quota__track_free(quota_account *a);

/* ------------------------------------------------ ledger (ledger.c) */

/* The ledger hour of a time (see QUOTA__ZONE_HOURS). */
static inline int64_t quota__hour_of(const quota_account *a, int64_t at)
{
	const int64_t bias = INT64_C(800000) * QUOTA__DAY;

	if (__builtin_expect(a->zoned, 0))
		return quota__zone_hour_of(a, at);
	return (int64_t)((uint64_t)(at + a->utc_offset + bias) / 3600) -
	       bias / 3600;
}
/* The UTC time ledger hour `hour` begins at: the inverse of the above;
 * hour + 1's start is hour's end. */
static inline int64_t quota__hour_start(const quota_account *a, int64_t hour)
{
	if (__builtin_expect(a->zoned, 0))
		return quota__zone_hour_start(a, hour);
	return hour * 3600 - a->utc_offset;
}
/* Room for the rows of s's sources (and a fee row if fee > 0) so that
 * the apply below cannot fail; may allocate, creates no row.  cost: what
 * the apply adds to the hour's pay-as-you-go total, checked for overflow
 * with fee (0 when it adds nothing; a reversal takes back, which cannot
 * overflow). */
int quota__ledger_prepare(quota_account *a, const quota__src *s,
			  int64_t cost, int64_t fee);
/* The overflow check of quota__ledger_prepare(a, s, cost, 0), reading
 * only: what a quote asks so it refuses what the charge would. */
int quota__ledger_check(const quota_account *a, const quota__src *s,
			int64_t cost);
/* Add sign * s (a charge +1, a reversal -1) to the ledger, and a fee of
 * fee micros for fee_units released units, creating the rows prepare
 * found missing; cannot fail. */
void quota__ledger_apply(quota_account *a, const quota__src *s, int sign,
			 int64_t fee, int64_t fee_units);
/* The hash of a ledger row's key, for its table (ledger.c). */
static inline uint64_t quota__ledger_hash(int64_t hour, uint32_t cat,
					  uint32_t src)
{
	uint64_t h = (uint64_t)hour * UINT64_C(0x9E3779B97F4A7C15);

	h ^= ((uint64_t)cat << 32 | src) * UINT64_C(0xC2B2AE3D27D4EB4F);
	return h ^ (h >> 29);
}
/*
 * A ledger table slot (ledger.c): the row's index + 1 in its low 24 bits
 * (0: empty), and the top 8 bits of the row's hash above them, so that a
 * probe reads a row only when the tags agree.
 */
#define QUOTA__LIDX_BITS 24
#define QUOTA__LIDX_MASK ((UINT32_C(1) << QUOTA__LIDX_BITS) - 1)
static inline uint32_t quota__ledger_tag(uint64_t h)
{
	return (uint32_t)(h >> 56) << QUOTA__LIDX_BITS;
}
/* Issue 16: the late_row slot of (hour, cat): consecutive hours of one
 * category take consecutive slots. */
static inline uint32_t quota__late_slot(int64_t hour, uint32_t cat)
{
	return ((uint32_t)hour + cat * 181u) & (QUOTA__LATE_ROWS - 1);
}
/* Issue 16: a late report's rows of (hour, cat), then booked:
 * quota__ledger_late and quota__ledger_late_add, late.h. */
/* Forget every category's row cache (settlement takes rows in). */
void quota__ledger_uncache(quota_account *a);
void quota__ledger_free(quota_account *a);
/* Find a row; UINT32_MAX if none. */
uint32_t quota__ledger_find(const quota__ledger *l, int64_t hour, uint32_t cat,
			    uint32_t src);

/* Can the cached hour of c take a cost of `cost` more at `at` without
 * its pay-as-you-go total overflowing?  false also when `at` is outside
 * it (the general path then checks the hour's row). */
static inline bool quota__ledger_fits(const quota__cur *c, int64_t at,
				      int64_t cost)
{
	return (uint64_t)at - (uint64_t)c->lh_lo < 3600 &&
	       cost <= c->p_room - c->p_cost;
}
/* Does the cached hour of c hold a fast charge at `at` drawing `take`
 * units of pk?  Then quota__ledger_add books it. */
static inline bool quota__ledger_hit(const quota__cur *c, int64_t at,
				     const quota_package *pk, int64_t take,
				     int64_t cost)
{
	/* p_cost <= p_room always, so the subtraction cannot overflow; a
	 * cost that would overflow the hour's total takes the slow path,
	 * which refuses it (QUOTA_EOVERFLOW). */
	return (uint64_t)at - (uint64_t)c->lh_lo < 3600 &&
	       (!take || pk == c->lr_pk) && cost <= c->p_room - c->p_cost;
}
static inline void quota__ledger_add(quota__cur *c, int64_t f, int64_t take,
				     int64_t payg, int64_t cost)
{
	c->p_free += f;
	c->p_pkg += take;
	c->p_payg += payg;
	c->p_cost += cost;
}
/*
 * A charge without a store in an hour after every row of the ledger (the
 * usual charge of an account charged less than hourly), planned by the
 * fast path (charge_fast.h), which nothing can refuse any more: make the
 * hour's rows as quota__ledger_apply would (free units, pay-as-you-go,
 * then pk's if the charge draws one, else NULL) and cache them, so that
 * the fast path books it (quota__ledger_add).  false, nothing changed,
 * unless that takes no look-up and no allocation: no row of the hour can
 * exist (quota__ledger.hour_hi), there is room for its rows, a fixed
 * offset, not a zone.
 */
bool quota__ledger_next_hour(quota_account *a, quota__cur *c, uint32_t cat,
			     int64_t at, const quota_package *pk);
/* Fold every category's pending fast charges into the rows (before the
 * rows are read: reports, settlement). */
void quota__ledger_fold(const quota_account *a);

/* ------------------------------------------------- money (money.c) */

/* Pay or leave outstanding a bill of total micros (settle.c); returns
 * QUOTA_BILL_PAID or QUOTA_BILL_OUTSTANDING and queues SUSPENDED or
 * RESUMED (room: quota__events_room); *s what each bucket paid (R24).
 * Cannot fail. */
int quota__money_bill(quota_account *a, int64_t total, quota__split *s);
/* R24: forfeit the gift money expired at t (expires_at <= t), queueing
 * GIFT_EXPIRED (room: the slack of quota__events_room).  Cannot fail. */
void quota__gift_expire(quota_account *a, int64_t t);
/* R24: the gift money quota__gift_expire(a, t) would forfeit (above 0
 * exactly when a grant has expired: a grant kept holds some). */
int64_t quota__gift_forfeit(const quota_account *a, int64_t t);
/* R24: how a purchase of price micros at t would be paid; QUOTA_EFUNDS
 * (message set) if gift, cash and (with QUOTA_PAY_CREDIT_PURCHASES) the
 * credit limit cannot pay it. */
int quota__money_buy_split(const quota_account *a, int64_t price, int64_t t,
			   quota__split *s);
/* R24: split x (> 0; <= 0: a credit, all to cash) over gift (the gift
 * money usable), cash and, if credit, the credit limit in a's order;
 * false if they cannot pay it. */
bool quota__money_split(const quota_account *a, int64_t x, int64_t gift,
			bool credit, quota__split *s);
/* Pay a split: gift money soonest expiry first, the rest from the
 * balance.  Cannot fail. */
void quota__money_pay(quota_account *a, const quota__split *s);
/* R18: pay everything outstanding if the buckets now can, and resume
 * (queues RESUMED).  Cannot fail. */
void quota__money_resume(quota_account *a);
/* quota_gift_grant; forfeit (replay): the record's, checked. */
int quota__gift_grant(quota_account *a, int64_t micros, int64_t expires_at,
		      int64_t now, const int64_t *forfeit);
void quota__gift_free(quota_account *a);
/* Can bills summing to pos (positive totals) and neg (negative ones) be
 * paid or owed without overflowing any money counter? */
bool quota__money_fits(const quota_account *a, int64_t pos, int64_t neg);
void quota__money_free(quota_account *a);
void quota__offers_free(quota_ctx *ctx);

/* ---------------------------------------------- renewal (R23, renew.c) */

/* quota_package_buy, or (renews: index + 1 of the package renewed) a
 * renewal's purchase (catalog.c). */
int quota__buy_offer(quota_account *a, const quota_offer *offer,
		     int64_t quantity, const quota_voucher *voucher, int64_t at,
		     const char *package_id, uint64_t renews,
		     quota_purchase *out);
/* a's renewal state, or an empty one (read only). */
extern const quota__renew_state quota__rn_none;
static inline const quota__renew_state *quota__rn(const quota_account *a)
{
	return a->x->rn ? a->x->rn : &quota__rn_none;
}
/* a->x->rn allocated (a has an ext): for prepare steps and the snapshot
 * decoder; QUOTA_ENOMEM with nothing changed. */
int quota__renew_need(quota_account *a);
/* Room for one more bought package (package.c's prepare). */
int quota__bought_reserve(quota_account *a);
/* A package bought from o (its apply): recorded, for renewal; b->renews:
 * the package it renews is DONE, and RENEWED is queued. */
void quota__bought_add(quota_account *a, quota_package *p,
		       const quota__buy *b);
/* After a call's own write (not in replay): write the renewals due at
 * now (units-left triggers met at usage time at).  QUOTA_OK, or the
 * first failure of a renewal's write (nothing of it changed). */
int quota__renew_due(quota_account *a, int64_t now, int64_t at);
/* Drop what refers to packages no longer in a (after pruning). */
void quota__renew_pruned(quota_account *a);
void quota__renew_free(quota_account *a);
/* Queue an event of the account (delivered by quota__events_flush): the
 * event, for a caller to set what the defaults (the account's clock,
 * balance) do not say, or NULL if there was no room (plans reserve it). */
quota_event *quota__event_queue(quota_account *a, int32_t kind, uint32_t cat,
				const quota_package *p, int64_t remaining,
				int64_t threshold, int32_t period);

/* QUOTA_OK, or QUOTA_EINVAL if t is in use and so cannot change. */
int quota__tariff_unused(const quota_tariff *t);

/* Index of the tier that month position pos (1-based) falls in (R13);
 * positions beyond the last finite tier take the last tier. */
static inline uint32_t quota__tier_of(const quota_tariff *t, int64_t pos)
{
	uint32_t i;

	for (i = 0; i + 1 < t->ntiers; i++)
		if (pos <= t->up_to[i])
			return i;
	return t->ntiers - 1;
}

/* Free units (R15) for a charge of `units`, given what its periods have
 * used; the general plan and the charge fast path both ask this. */
static inline int64_t quota__free_avail(const quota_tariff *t, int64_t units,
					const quota__freeuse *used)
{
	int64_t f;

	if (!t || t->free_units <= 0)
		return 0;
	f = t->free_units - (t->free_period == QUOTA_PERIOD_DAY ? used->day
			     : t->free_period == QUOTA_PERIOD_MONTH
				     ? used->month
				     : used->life);
	if (t->free_daily > 0 && t->free_daily - used->day < f)
		f = t->free_daily - used->day;
	return f < 0 ? 0 : f > units ? units : f;
}

/* Price q pay-as-you-go units after month volume `before` (tariff.c). */
int quota__tariff_price_lines(const quota_tariff *t, int64_t before,
			      int64_t q,
			      void (*line)(void *ud, uint32_t tier,
					   int64_t units, int64_t price,
					   int64_t cost),
			      void *ud, int64_t *total);

void quota__account_free(quota_account *a);
void quota__holds_free(quota_account *a);
/* The tick (hold_expiry.c) and the hold map it walks (hold.c): open hold
 * id, or NULL; the hold at map slot i timed out, its units go back and it
 * closes (another hold may shift into slot i). */
const quota__hold *quota__hold_find(const quota_account *a, uint64_t id);
void quota__hold_expire(quota_account *a, uint32_t i, bool track);
/* Units given back to pk (hold.c): a resolved hold's unused draws, a
 * reversed charge's (reverse.c); pk re-enters the R3 index if it was
 * empty, and tracking follows (track). */
void quota__units_restore(quota_account *a, quota_package *pk, int64_t units,
			  bool track);
void quota__tariff_free(quota_tariff *t);

/* ------------------------------------------- snapshots (snapshot.c) */

/* A new account in its initial state, not registered in ctx (account.c);
 * NULL when out of memory. */
quota_account *quota__account_alloc(quota_ctx *ctx, const char *id);
/* The same with the id's keyed hash (quota__strhash) already computed. */
quota_account *quota__account_alloc_h(quota_ctx *ctx, const char *id,
				      uint64_t h64);
/*
 * Decode a snapshot into a new account *fresh of ctx, detached: not in
 * ctx->accounts or ctx->acct_tab (free it with quota__account_free).
 * QUOTA_ECORRUPT, QUOTA_EVERSION, QUOTA_ENOTFOUND or QUOTA_ENOMEM with
 * *fresh NULL and nothing in ctx changed but its error message.
 */
int quota__account_decode(quota_ctx *ctx, const void *snap, size_t len,
			  quota_account **fresh);
/*
 * Give live the state of fresh (an account of the same context and id,
 * detached), keeping live's address, id string and place in ctx; the
 * packages point back at live.  Then frees fresh with live's old state.
 * Cannot fail.
 */
void quota__account_swap(quota_account *live, quota_account *fresh);
/*
 * For a refused batch (batch.c): quota_account_reset from a snapshot of a
 * taken by quota__account_snapshot_state (no key window), keeping the
 * window of a, put back as m found it.  On failure a is unchanged.
 */
int quota__account_reset_state(quota_account *a, const void *snap,
			       size_t len, const quota__keymark *m);
/* quota_account_snapshot without the key window (an empty one in its
 * place): only for quota__account_reset_state. */
int quota__account_snapshot_state(const quota_account *a, void **out,
				  size_t *len);
/* Room in ctx for one more account of id (QUOTA_EEXISTS if it has one),
 * then its registration, which cannot fail (account.c). */
int quota__account_room(quota_ctx *ctx, const char *id);
int quota__account_room_h(quota_ctx *ctx, const char *id, uint64_t h64);
/* The account of this id in ctx, or NULL (account.c). */
quota_account *quota__account_get(const quota_ctx *ctx, const char *id);
/* The same for replay, id of len bytes: first the slot ctx->acct_hint
 * names for it, then the look-up, whose slot becomes the hint. */
quota_account *quota__account_get_hint(quota_ctx *ctx, const char *id,
				       size_t len);
/* The bits of an account's address in a slot of the id table while no
 * address has others set (account.c): the low 48 of a 64-bit one, what
 * x86-64 and AArch64 give user space; on narrower addresses, all. */
#if UINTPTR_MAX > 0xffffffffu
#define QUOTA__ACCT_KEEP (((uintptr_t)1 << 48) - 1)
#else
#define QUOTA__ACCT_KEEP UINTPTR_MAX
#endif
/* The account in slot i of ctx's id table, or NULL (tests compare
 * layouts with it). */
static inline quota_account *quota__acct_slot(const quota_ctx *ctx, size_t i)
{
	return (quota_account *)(ctx->acct_tab[i] & ctx->acct_keep);
}
void quota__account_register(quota_ctx *ctx, quota_account *a);
void quota__account_register_h(quota_ctx *ctx, quota_account *a,
			       uint64_t h64);
/* The restore steps of the decoder, each in the file that owns the state:
 * counters (counters.c), ledger rows (ledger.c), open holds (hold.c). */
int quota__counters_restore(quota_account *a, const uint64_t *keys,
			    const int64_t *vals, uint32_t n);
int quota__ledger_restore(quota_account *a, const quota__lrow *r);
int quota__hold_restore(quota_account *a, uint64_t id, int64_t deadline,
			const quota__src *src);

/* ----------------------------------------------- pruning (prune.c, §7) */

/*
 * Each owner's part of a prune: _count says how many of its entries a cut
 * drops and allocates the smaller storage the rest will move to (*mem,
 * NULL when nothing is dropped or nothing is kept); _apply moves them
 * (cannot fail; frees the old storage); _undo frees what _count took.
 * The ledger drops rows of local hours before hour; the counters, days
 * before day and months before month; settle.c, volume months before
 * month.
 */
typedef struct quota__shrink {
	uint32_t drop, keep;
	void *p[3];
} quota__shrink;
int quota__ledger_prune_count(quota_account *a, int64_t hour,
			      quota__shrink *s);
void quota__ledger_prune_apply(quota_account *a, int64_t hour,
			       quota__shrink *s);
int quota__counters_prune_count(quota_account *a, int64_t day, int64_t month,
				quota__shrink *s);
void quota__counters_prune_apply(quota_account *a, int64_t day,
				 int64_t month, quota__shrink *s);
int quota__vbills_prune_count(quota_account *a, int64_t month,
			      quota__shrink *s);
void quota__vbills_prune_apply(quota_account *a, int64_t month,
			       quota__shrink *s);
/*
 * Packages (§7): _count picks the packages a cut at horizon drops (ledger:
 * whether the ledger's rows before hour go in the same prune) and fills
 * s->p[0] with a map from each package's number to its number after the
 * prune (QUOTA__SEQ_GONE: dropped); _apply drops them and renumbers the
 * rest, through the owners of what refers to packages: event tracking
 * (quota__track_prune), the key window (quota__keys_renumber) and the
 * ledger rows (quota__ledger_renumber).  Cannot fail.
 */
int quota__packages_prune_count(quota_account *a, int64_t horizon,
				bool ledger, int64_t hour, quota__shrink *s);
void quota__packages_prune_apply(quota_account *a, quota__shrink *s);
void quota__track_prune(quota_account *a, const uint32_t *map);
void quota__keys_renumber(quota_account *a, const uint32_t *map); /* keyview.c */
void quota__ledger_renumber(quota_account *a);
void quota__shrink_undo(quota_account *a, quota__shrink *s);
/* Retention after a settlement that closed periods (settle.c). */
void quota__retain(quota_account *a);

#endif /* QUOTA_OPS_H */
