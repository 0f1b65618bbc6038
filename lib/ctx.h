/*
 * ctx.h - the private layout of contexts, tariffs, accounts and packages,
 * shared by the lib/ files that implement them.
 */
#ifndef QUOTA_CTX_H
#define QUOTA_CTX_H

#include "quota_int.h"
#include "quota_store.h"
#include "codec.h"
#include "siphash.h"
#include "tzif.h"

#include <stddef.h>
#include <string.h>

/* --------------------------------------------------- string-keyed map */

/* Open-addressing map from a borrowed string key to a pointer, hashed
 * with the context's secret key (DESIGN §7): ids are the caller's. */
typedef struct quota__strmap_entry {
	uint64_t hash;
	const char *key; /* NULL: empty slot */
	void *val;
} quota__strmap_entry;

typedef struct quota__strmap {
	quota__strmap_entry *e;
	size_t cap; /* power of two or 0 */
	size_t n;
} quota__strmap;

uint64_t quota__strhash(const quota__hkey *hk, const char *s);
void *quota__strmap_get(const quota__strmap *m, const quota__hkey *hk,
			const char *key);
/* Make room for one more entry (may allocate; changes nothing visible). */
int quota__strmap_reserve(const quota__mem *mem, quota__strmap *m);
/* Insert after a successful reserve; cannot fail. */
void quota__strmap_put(quota__strmap *m, const quota__hkey *hk,
		       const char *key, void *val);
/* Remove key (§7: a removed account's id); cannot fail. */
void quota__strmap_del(quota__strmap *m, const quota__hkey *hk,
		       const char *key);
/* Test only: the probes finding every entry takes, in total (1 for an
 * entry in its home slot). */
uint64_t quota__strmap_probes(const quota__strmap *m);
void quota__strmap_free(const quota__mem *mem, quota__strmap *m);

/* ------------------------------------------------------ period counters */

/* What a counter counts; the key also holds category and period index. */
enum {
	QUOTA__CNT_UNITS_DAY = 1,
	QUOTA__CNT_UNITS_MONTH = 2,
	QUOTA__CNT_FREE_DAY = 3,
	QUOTA__CNT_FREE_MONTH = 4,
	QUOTA__CNT_FREE_LIFE = 5
};
/* Pseudo category for account-wide (QUOTA_ALL) counters. */
#define QUOTA__CAT_ALL 64u

/* Open-addressing table of int64 counters keyed by (kind, cat, period). */
/* A key and its value side by side: a probe reads one cache line. */
typedef struct quota__cslot {
	uint64_t key; /* 0: empty */
	int64_t val;
} quota__cslot;

typedef struct quota__counters {
	quota__cslot *slot;
	uint32_t cap; /* power of two or 0 */
	uint32_t n;
} quota__counters;

static inline uint64_t quota__cnt_key(unsigned kind, unsigned cat,
				      int64_t period)
{
	/* period: days since 1970 (>= -719162) or months since year 0. */
	return ((uint64_t)kind << 61) | ((uint64_t)cat << 54) |
	       (uint64_t)(period + (INT64_C(1) << 40));
}

/* Free units used in the day, month and lifetime of a charge (R15). */
typedef struct quota__freeuse {
	int64_t day, month, life;
} quota__freeuse;

/*
 * The counters of the newest calendar day and month a category (or the
 * account as a whole) has been charged in, kept out of the table so the
 * charge path touches no hash slot.  Value of (kind, cat, period) = the
 * field here if period is this struct's day / month, else the table's.
 * Lifetime free units live only here.
 */
typedef struct quota__cur {
	int64_t day, month; /* INT64_MIN: none yet */
	int64_t units_day, units_month;
	quota__freeuse free; /* free units used (R15) */
	/* Ledger cache (ledger.c): the rows of one hour [lh_lo, lh_lo +
	 * 3600) of this category, all on the dirty list, and what fast
	 * charges added to them since (p_*), folded in before anyone reads
	 * the rows.  So a charge in that hour writes only this record.
	 * lh_lo INT64_MIN: none. */
	int64_t lh_lo;
	const quota_package *lr_pk;        /* the package of lr_pkg, or NULL */
	int64_t p_free, p_pkg, p_payg, p_cost;
	int64_t p_room; /* p_cost may grow to this: the payg row's headroom */
	uint32_t lr_free, lr_payg, lr_pkg; /* row indices */
} quota__cur;

/* The home slot of key in a table of cap slots (a power of two >= 2):
 * the top bits of the product, which every bit of the key reaches (the
 * kind and category sit in its top bits). */
static inline uint32_t quota__cnt_slot(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >>
			  (64 - __builtin_ctz(cap)));
}
int64_t quota__cnt_get(const quota__counters *c, uint64_t key);
/* Ensure `extra` new keys fit without allocating later. */
int quota__cnt_reserve(const quota__mem *mem, quota__counters *c,
		       uint32_t extra);
/* Add delta to key's counter; capacity must have been reserved. */
void quota__cnt_add(quota__counters *c, uint64_t key, int64_t delta);
void quota__cnt_free(const quota__mem *mem, quota__counters *c);

/* -------------------------------------------------------------- calendar */

#define QUOTA__DAY 86400

/* Calendar day (days since 1970-01-01) of a local time. */
static inline int64_t quota__day_of(int64_t local)
{
	/* Floor division; local >= QUOTA_TIME_MIN - 18 h, so the shift keeps
	 * the dividend non-negative and the bias is exact. */
	const int64_t bias = INT64_C(800000) * QUOTA__DAY;

	return (int64_t)((uint64_t)(local + bias) / QUOTA__DAY) -
	       INT64_C(800000);
}
/* Floor division by d > 0 (local hours and days before 1970 are
 * negative). */
static inline int64_t quota__floor_div(int64_t x, int64_t d)
{
	int64_t q = x / d;

	return (x % d && x < 0) ? q - 1 : q;
}
/* Months since year 0 (y * 12 + m - 1) of a day number. */
int64_t quota__month_of_day(int64_t day);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t quota__days_from_civil(int64_t y, unsigned m, unsigned d);
void quota__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* -------------------------------------------------------------- objects */

/*
 * Who writes what (§5: one writer per piece of state).  Every change runs
 * through quota__write (journal.h): prepare -> journal -> apply -> events,
 * each call's steps in a quota__step table next to its public function;
 * the apply steps are the only writers, each of its own state:
 *
 *   account settings: tariff, caps, overage, offset   account_set.c
 *   packages and their R3 indexes (remaining units)   package.c, and the
 *       draws of a plan's apply (charge.c) and give-backs (hold.c,
 *       for resolved holds and reversals, reverse.c)
 *   period counters and current records (cur)         counters.c
 *   the usage ledger and its row cache                ledger.c
 *   open holds, last_hold_id, held units              hold.c
 *   the key window                                    keys.c
 *   event tracking, alerts armed, event buffer       event.c
 *   the account clock                                 event.c (quota__clock,
 *       with tracking); without it the applies that move it: a plan's
 *       (charge.c), the fast path's (charge_fast.h), a tick's
 *       (hold_expiry.c)
 *   balance, credit, outstanding bills, suspension    money.c, settle.c
 *   volume-month bills, settled_upto, bill_seq        settle.c
 *   pruned_before, retention                          prune.c (the rows,
 *       counters, volume months and packages it drops: ledger.c,
 *       counters.c, settle.c, package.c, which renumbers the packages
 *       in the key window, keys.c, the ledger rows, ledger.c, and event
 *       tracking, event.c)
 *   categories; tariffs; offers                       ctx.c; tariff.c;
 *                                                     catalog.c
 *   store, record buffer, seq, config_seq, unsynced   journal.c (replay.c
 *                                                     sets seq on apply)
 *   a whole account replaced from a snapshot          snapshot_load.c
 *   hot_ix, hot_pk: hints, not state (issue 13)       charge_fast.h
 *
 * Fast paths (charge_fast.h, the commit in hold.c) keep a straight-line
 * copy of these steps: they write the same state as the general path and
 * the same record, through the same encoders (journal.h).
 */

#define QUOTA__MAX_TIERS 32

struct quota_tariff {
	quota_ctx *ctx;
	char *name;
	uint32_t ntiers;
	int mode;
	int64_t up_to[QUOTA__MAX_TIERS];
	int64_t price[QUOTA__MAX_TIERS];
	int64_t free_units;
	int free_period;
	int64_t free_daily;
	int64_t failure_fee; /* per released unit (R10 release) */
	/* R27: per failure reason (index 1..QUOTA_FAIL_REASON_MAX), or -1:
	 * the reason pays failure_fee. */
	int64_t fee_reason[QUOTA_FAIL_REASON_MAX + 1];
	bool used; /* set on an account or an offer: fixed (§5) */
};

/*
 * A package: 65 bytes and its id in one allocation (§7: an account of
 * millions holds a few each).  The id is the last member; package.c
 * allocates offsetof(quota_package, id) + its length + 1.
 */
struct quota_package {
	quota_account *account;
	uint64_t categories;
	int64_t units;
	int64_t remaining;
	int64_t effective_at;
	int64_t expires_at;
	int64_t price_micros;
	int32_t priority;
	uint32_t seq; /* place in the order added: the last tie-break of R3 */
	/* QUOTA_PACKAGE_STOP (the only public flag) and event tracking's
	 * QUOTA__PK_* (event.c) */
	uint8_t flags;
	char id[];
};

/* Event tracking (event.c): usable at the account clock; expiry and
 * expiry warning already reported.  Bits of flags beside the public
 * ones (§7: a package is small). */
enum { QUOTA__PK_ACTIVE = 0x10, QUOTA__PK_EXPIRED_SEEN = 0x20,
       QUOTA__PK_WARNED = 0x40 };
static inline bool quota__pk_is(const quota_package *p, unsigned bit)
{
	return (p->flags & bit) != 0;
}
static inline void quota__pk_set(quota_package *p, unsigned bit, bool on)
{
	p->flags = (uint8_t)(on ? p->flags | bit : p->flags & ~bit);
}

/*
 * Per-category index of the packages covering it, sorted by the R3 key
 * (priority, expires_at, effective_at, seq).  Within one priority group
 * expires_at ascends, so "unexpired at t" is a suffix of the group found by
 * binary search; a min-segment-tree over effective_at (INT64_MAX once a
 * package is empty) then finds the first usable package of that suffix.
 * Both are O(log P), whatever mix of pending, empty or expired packages
 * and whatever order usage times arrive in.
 */
typedef struct quota__pindex {
	/* The head hint's generations (below), first: the small form has
	 * them too, so a charge asks the hint first whatever the form. */
	uint32_t hint_gen, gen;
	quota_package **pk; /* sorted by R3 key */
	uint32_t n;
	uint32_t nstop;     /* STOP-flag packages among them (R7) */
	/*
	 * The small form (§7: most categories of an account hold one or two
	 * packages): gen is QUOTA__PSMALL_GEN (which the full form skips) and
	 * hint_gen 0, so its hint never holds; at most QUOTA__PSMALL
	 * packages, right after these members (pk points there), and none of
	 * the members below; the first usable package is found by looking at
	 * those few in R3 order.
	 */
	uint32_t size;
	int64_t *exp;       /* pk[i]->expires_at, for cache-friendly search */
	int64_t *tree;      /* 2 * size: leaves at [size, 2 * size) */
	size_t cap, exp_cap, tree_cap, group_cap, stop_cap;
	uint32_t ngroups;
	uint32_t *group;    /* ngroups + 1 boundaries of priority groups */
	/* STOP-flag packages (R7): expires_at ascending, suffix min of
	 * effective_at: "some STOP package in force at t" in O(log S). */
	int64_t *stop_exp;
	int64_t *stop_eff;
	int64_t *stop_effmin;
	/* Every effective_at, ascending: "when does the next package start
	 * after t" for the head hint below. */
	int64_t *effs;
	size_t effs_cap;
	/*
	 * Head hint: for t in [hint_lo, hint_hi) the first usable package is
	 * hint_pos (or none), as long as gen == hint_gen.  Usage mostly comes
	 * in time order, so most charges skip the search.  Valid because for
	 * t >= hint_lo nothing expired becomes usable again, an empty package
	 * changes gen when it refills, and hint_hi is no later than the next
	 * effective_at after hint_lo or the head's own expiry.  hint_pk is
	 * pk[hint_pos] (NULL for none): the charge fast path reads the
	 * package without the load of pk before it.
	 */
	int64_t hint_lo, hint_hi;
	quota_package *hint_pk;
	uint32_t hint_pos;
} quota__pindex;

#define QUOTA__PSMALL 4
#define QUOTA__PSMALL_GEN UINT32_MAX
/* Bytes of a small index with room for n packages. */
#define QUOTA__PSMALL_SIZE(n)                                                 \
	(offsetof(quota__pindex, size) + (size_t)(n) * sizeof(quota_package *))
static inline bool quota__pindex_small(const quota__pindex *ix)
{
	return ix->gen == QUOTA__PSMALL_GEN;
}
/* The full form's generation moves on, skipping the small form's. */
static inline void quota__pindex_bump(quota__pindex *ix)
{
	if (++ix->gen == QUOTA__PSMALL_GEN)
		ix->gen = 0;
}
/*
 * Where the units of a charge came from (R1): what receipts are built
 * from, and what holds (R10), key records (R11) and reversals (R12) keep.
 */
typedef struct quota__draw {
	quota_package *pk;
	int64_t units;
} quota__draw;

typedef struct quota__payg {
	uint32_t tier;
	int64_t units, price, cost;
} quota__payg;

typedef struct quota__src {
	int64_t units, free, pkg, payg, cost;
	int64_t at, day, month;
	uint32_t cat;
	uint32_t ndraws, npayg;
	quota__draw *draws;
	quota__payg *paygs;
} quota__src;

/*
 * Storage for a copy of a source record, the first member of the records
 * that keep one (holds, key records).  Small ones (one draw, one payg
 * line: nearly every message) have a fixed size per owner type and are
 * recycled through a free list, so steady traffic allocates nothing.
 */
typedef struct quota__box {
	struct quota__box *next_free;
	bool small;
	quota__src src;
} quota__box;

/* A box for an owner of `size` bytes (the box first) holding a copy of
 * src; NULL when out of memory.  quota__box_small gives a small one with
 * room for one draw and one payg line and leaves src to the caller. */
quota__box *quota__box_new(const quota__mem *mem, quota__box **free_list,
			   size_t size, const quota__src *src);
quota__box *quota__box_small(const quota__mem *mem, quota__box **free_list,
			     size_t size);
/* Give b back: a small one to the free list (inline: every resolved hold
 * and forgotten key passes here), a big one to the allocator. */
static inline void quota__box_drop(const quota__mem *mem,
				   quota__box **free_list, quota__box *b)
{
	if (b->small) {
		b->next_free = *free_list;
		*free_list = b;
	} else {
		quota__free(mem, b);
	}
}
void quota__box_free_list(const quota__mem *mem, quota__box **free_list);
/* Copy the quantities of s into d, whose arrays have room for them. */
void quota__src_assign(quota__src *d, const quota__src *s);

/* A reservation (R10). */
typedef struct quota__hold {
	quota__box box; /* first: its sources */
	uint64_t id;
	int64_t deadline;
	int64_t held;   /* units reserved (src.units shrinks as they go back) */
} quota__hold;

/* Idempotency key records and the window (R11): keyrec.h. */
#include "keyrec.h"

/* ------------------------------------------------- ledger (ledger.c) */

/*
 * The account's usage ledger (R17, R22): per local hour, category and
 * source, the units charged and their pay-as-you-go cost or fees.
 * Reports read it; settlement bills what changed since it last looked
 * (billed_*), found through the dirty list rather than a scan.
 */
enum {
	QUOTA__LSRC_FREE = 0,
	QUOTA__LSRC_PAYG = 1,
	QUOTA__LSRC_FEE = 2,
	QUOTA__LSRC_PKG = 3 /* + package seq */
};

/* Issue 16: what a charge reads and writes (key, dirty, units, cost)
 * in the first 40 bytes, so that a row 16 bytes past a cache line's
 * start (as large blocks from malloc often are) is charged in one line;
 * settlement's and reports' fields after. */
typedef struct quota__lrow {
	int64_t hour;  /* local hours since 1970-01-01T00 (account offset) */
	uint32_t cat;
	uint32_t src;  /* QUOTA__LSRC_*; a package: QUOTA__LSRC_PKG + seq */
	bool dirty;    /* on the dirty list */
	int64_t units, cost;
	int64_t billed_units, billed_cost; /* taken in by settlement */
	const quota_package *pk;
} quota__lrow;

typedef struct quota__ledger {
	quota__lrow *rows;
	uint32_t *tab;   /* open addressing: tag, row index + 1 (ledger.c) */
	uint32_t *dirty; /* rows with changes settlement has not taken in */
	uint32_t cap_rows, cap_dirty; /* room (4 bytes: §7's bound) */
	uint32_t nrows, tab_cap, ndirty;
	/* No row's hour is above this (0 in a new ledger, which has no row;
	 * every hour fits, ledger.c), so that a charge in a later hour
	 * knows its rows are new without looking
	 * (quota__ledger_next_hour). */
	int32_t hour_hi;
} quota__ledger;

/* Settlement's running totals of a volume-tier month (R14). */
typedef struct quota__vbill {
	int64_t month;
	uint32_t cat;
	int64_t units;  /* units of the month taken in (every source) */
	int64_t payg;   /* pay-as-you-go units taken in */
	int64_t billed; /* exact amount billed for the month so far */
} quota__vbill;

/* A catalog entry (R16). */
struct quota_offer {
	quota_ctx *ctx;
	char *id;
	quota_offer_spec spec; /* spec.id points at id */
};

/* A low-quota alert level (R21). */
typedef struct quota__alert {
	uint32_t cat;
	int unit;
	int64_t level;
	bool armed;
} quota__alert;

typedef struct quota__cap {
	int64_t day;   /* < 0: none */
	int64_t month; /* < 0: none */
} quota__cap;

/*
 * Per-category state of an account (§7): only the categories it uses
 * have one, in cats[] by ascending category id, bit c of cat_mask set for
 * each (quota__cat_of).  An absent category reads as the defaults: no
 * current record, tariff, packages or cap, nothing held, no alert sums.
 * Prepare steps add a category's entry (quota__cat_need), never apply;
 * an entry added by a call that then fails holds those defaults, which
 * read and encode as no entry.  The current-period record is inside the
 * entry (has_cur: it exists), so a charge reads one allocation for its
 * category; like the entry it moves when quota__cat_need adds another.
 */
typedef struct quota__cat {
	quota_tariff *tariff;  /* or NULL */
	quota__pindex *pindex; /* the packages covering it (R3), or NULL */
	quota__cap cap;        /* R9; < 0: none */
	bool has_cur;          /* cur is the current-period record */
	int64_t held;          /* units of the open holds (R10) */
	int64_t rem, bought;   /* R21: active packages' remaining, units */
	quota__cur cur;
} quota__cat;

/*
 * The account-wide current record (QUOTA__CAT_ALL's) is a quota__cur cut
 * before its ledger cache: ledger rows are per category, so nothing reads
 * or writes lh_lo and after in it, only the counters (issue 13: 72 bytes
 * an account).  Those are all int64_t, kept as such in the block below.
 */
#define QUOTA__CUR_ALL_SIZE offsetof(quota__cur, lh_lo)
_Static_assert(QUOTA__CUR_ALL_SIZE ==
		       offsetof(quota__cur, free) + sizeof(quota__freeuse),
	       "the account-wide record ends with the free units");
_Static_assert(QUOTA__CUR_ALL_SIZE % sizeof(int64_t) == 0,
	       "the account-wide record is int64_t fields");

/* The allocation that holds an account's category entries, behind the
 * account-wide current record (QUOTA__CAT_ALL's, when the account's
 * has_all says it is there: the first QUOTA__CUR_ALL_SIZE bytes of a
 * quota__cur, at all), so that a charge reads one block for both
 * (account.c, counters.c).  Whether the record is there is the
 * account's has_all's to say, not a flag's in the block (issue 13: a
 * flag and its padding took a one-category block from 248 bytes to 256,
 * and malloc's chunk of it from 256 to 272). */
typedef struct quota__catblock {
	int64_t all[QUOTA__CUR_ALL_SIZE / sizeof(int64_t)];
	quota__cat e[];
} quota__catblock;

/* Block b's account-wide record (valid to read and write up to
 * QUOTA__CUR_ALL_SIZE bytes). */
static inline quota__cur *quota__catblock_all(quota__catblock *b)
{
	return (quota__cur *)(void *)b->all;
}

/* R24: one gift grant, what is left of it and when that expires. */
typedef struct quota__gift {
	int64_t micros, expires_at;
} quota__gift;

/* R24: an account's gift money (gift.c, its only writer): the grants
 * with money left, soonest expiry first (ties: in order granted), their
 * sum, what was granted, spent and forfeited in all, and the payment
 * order. */
typedef struct quota__gifts {
	quota__gift *v;
	size_t n, cap;
	int64_t sum, granted, spent, expired;
	int32_t order;  /* QUOTA_PAY_GIFT_FIRST or QUOTA_PAY_CASH_FIRST */
	uint32_t flags; /* QUOTA_PAY_CREDIT_PURCHASES */
} quota__gifts;

/* R24: what each money bucket pays of an amount (money.c). */
typedef struct quota__split {
	int64_t gift, cash, credit;
} quota__split;

/*
 * The state of an account that a plain charge never reads (§7): holds,
 * keys, event tracking and alerts, money and settlement, retention, the
 * account-wide cap.  An account points at quota__ext_none (read-only, the
 * defaults) until a call first writes one of these: quota__ext_need, from
 * the prepare step (quota__write does it for steps with .ext set), never
 * from apply.  An ext allocated by a call that then fails holds those
 * defaults, which read and encode as none.  Reads go through a->x always.
 */
/* R23: an offer marked for renewal on an account: the triggers (-1:
 * none) and when the mark was set (no trigger is met before it). */
typedef struct quota__renewal {
	const quota_offer *offer;
	int64_t units_left; /* units left at or below this */
	int64_t within;     /* expiry within this many seconds */
	int64_t since;
} quota__renewal;
/* R23: a package bought from an offer, and its renewal (QUOTA__RN_*). */
enum { QUOTA__RN_NONE = 0, QUOTA__RN_DONE = 1, QUOTA__RN_FAILED = 2 };
typedef struct quota__bought {
	quota_package *pk;
	const quota_offer *offer;
	int64_t at;    /* when the renewal was due (DONE, FAILED) */
	quota_package *renewal; /* DONE: the package it bought (NULL once
				   pruned) */
	int64_t met_at; /* a hint, never encoded: when a units-left trigger
			   was met by a call whose renewal write failed
			   (0: none), so the retry keeps that time */
	uint8_t state; /* QUOTA__RN_* */
} quota__bought;

/* R23 (renew.c): the offers marked for renewal, and every package bought
 * from an offer, in the order bought, with whether its renewal was done. */
typedef struct quota__renew_state {
	quota__renewal *renewals;
	size_t nrenewals, cap_renewals;
	quota__bought *bought;
	size_t nbought, cap_bought;
	size_t bought_done; /* a cache: bought[0, bought_done) are all DONE
			       or FAILED (never encoded) */
} quota__renew_state;

typedef struct quota__acct_ext {
	quota__cap cap_all; /* R9 the account-wide cap; < 0: none */
	/* R10 holds: the open ones, found by id through a map. */
	size_t nholds;
	quota__hold **hold_tab; /* open addressing by id */
	uint32_t hold_tab_cap;
	quota__box *hold_free; /* recycled small hold boxes */
	uint64_t last_hold_id;
	/* R11 keys. */
	quota__keys keys;
	/* R21: what event tracking needs. */
	uint64_t track_gen;      /* == ctx->hook_gen while tracking is set up */
	quota_package **by_eff, **by_exp; /* all packages, sorted */
	size_t cap_by_eff, cap_by_exp;
	uint32_t cur_eff, cur_exp, cur_warn; /* cursors: done up to clock */
	int64_t warn_before;
	quota__alert *alerts;
	size_t nalerts, cap_alerts;
	int64_t retain_s;    /* §7 retention (0: off) and what it prunes */
	uint32_t retain_what;
	/* R17-R19 money (money.c, settle.c). */
	int64_t balance, credit_limit, outstanding;
	int64_t topped_up, purchased, billed;
	size_t nowed;          /* unpaid bills; outstanding is their sum */
	int settle_period;     /* QUOTA_PERIOD_HOUR or QUOTA_PERIOD_DAY */
	int64_t minor_unit;    /* micros, e.g. 10,000 for cents */
	int rounding;          /* QUOTA_ROUND_* */
	int64_t settled_upto;  /* first local hour not settled (or INT64_MIN) */
	uint64_t bill_seq;
	quota__vbill *vbills;
	size_t nvbills, cap_vbills;
	/* R24 gift money and the payment order (gift.c), allocated by the
	 * first grant or order (§7: most accounts have none); NULL: the
	 * defaults, quota__gifts_none. */
	quota__gifts *gs;
	/* R25 blocking (block.c): why (NULL: no reason given) and since
	 * when; meaningful while gate has QUOTA__GATE_BLOCKED. */
	char *block_reason;
	int64_t blocked_at;
	/* ------------------------------------------------ R26 time zones */
	const quota_zone *zone; /* the account's calendar, or NULL: offset */
	/* R23 auto-renewal (renew.c, its only writer); NULL until the
	 * account marks an offer or buys from one. */
	quota__renew_state *rn;
} quota__acct_ext;

/* QUOTA__GATE_RENEW: some offer is marked for renewal (R23, renew.c), so
 * charges, reservations and ticks look for renewals due after their own
 * write (and so take the general paths). */
enum { QUOTA__GATE_BLOCKED = 1, QUOTA__GATE_RECEIPTS = 2,
       QUOTA__GATE_RENEW = 0x40 };

/* The defaults every account reads until it has an ext (account.c). */
extern const quota__acct_ext quota__ext_none;

struct quota_account {
	/* What a plain charge never reads first, so that what it does read
	 * ends the struct beside the id, which finding the account compares
	 * (§7): two cache lines from hash to charge. */
	quota__acct_ext *x; /* the rest; &quota__ext_none until written */
	quota_package **packages; /* in order added */
	int64_t total_units; /* sum of all packages' units: sums never overflow */
	quota__strmap package_ids;
	quota__counters counters;
	/* R17, R22 usage ledger. */
	quota__ledger ledger;
	/* What a charge reads. */
	quota_ctx *ctx;
	/* Issue 13: the R3 index and the package the last fast-path charge
	 * read (charge_fast.h, their only writer; a charge writes them, the
	 * rest of these it reads), which quota_account_find fetches beside
	 * the category block (account.c, warm) rather than after it;
	 * hot_ix's bit 0: a full index, whose head hint is a line of its
	 * own.  Addresses only, never read through, so a stale one (the
	 * index or package gone since) costs a wasted fetch, never a wrong
	 * answer.  Not state: no record or snapshot has them. */
	uintptr_t hot_ix, hot_pk;
	uint64_t cat_mask;  /* categories with an entry in cats */
	quota__cat *cats;   /* popcount(cat_mask) entries, by category id,
			     * the e[] of a quota__catblock (or NULL) */
	uint64_t stop_mask; /* categories with QUOTA_OVERAGE_STOP */
	/* R21: the account clock. */
	int64_t clock;
	/* §5 journal (journal.c): records applied so far (the account's
	 * version), and whether a store outcome is unknown, so the account
	 * takes no change until it is re-synchronised. */
	uint64_t seq;
	/* §7 pruning (prune.c): data before this is gone (INT64_MIN: none
	 * pruned); a charge reads it. */
	int64_t pruned_before;
	/* R26 the calendar (account.c, account_set.c; zone.c): the UTC
	 * offset in force over [off_lo, off_lo + off_span): a fixed
	 * offset's over all time, a zone's over the interval of its rules
	 * last looked up (a cache, which any read may move: quota__local;
	 * span 0: none yet).  zoned: the account follows x->zone. */
	int64_t off_lo;
	uint64_t off_span;
	int32_t utc_offset;
	uint32_t npackages; /* in packages */
	uint32_t cap_packages; /* room in packages (4 bytes: §7's bound) */
	uint32_t hash;      /* the id's keyed hash, top 32 bits (account.c) */
	bool zoned; /* R26: the account follows x->zone */
	bool suspended;  /* R18 (money.c, settle.c) */
	bool unsynced;
	bool in_batch; /* batch.c: already among the batch's accounts */
	/* QUOTA__CAT_ALL's current record is there: the head of the block
	 * of cats (its counters only, see quota__catblock; quota__all_of).
	 * Set by counters.c (cur_alloc), never cleared: the block stays. */
	bool has_all;
	bool capped; /* R9: some cap is set, of a category or the account's
		      * (account_set.c, cap_apply) */
	/* R25 (block.c): charges, reservations, quotes and purchases are
	 * refused; here in the padding, in the line the fast path reads
	 * for suspended.  R27 (block.c): keyless charges and commits keep
	 * their receipts, so they take the general paths.  Bits
	 * QUOTA__GATE_*, 0 on nearly every account. */
	uint8_t gate;
	/* strlen(id) <= QUOTA_ID_MAX, for record headers.  Right before
	 * the id, so that below 128 the two are the id's field of a record
	 * as it is written (a length byte, then the bytes), which the fast
	 * record reads in words (journal.h, issue 10). */
	uint8_t id_len;
	char id[]; /* in the same allocation: id_len bytes and a NUL */
};
/* The fast record (quota__fast_rec_words, journal.h) reads id_len and the
 * id as one run, in words that start up to 7 bytes before id_len: a field
 * put between the two, or the struct cut short, would write wrong records
 * or read outside the account. */
_Static_assert(offsetof(quota_account, id) ==
			       offsetof(quota_account, id_len) + 1 &&
		       offsetof(quota_account, id_len) >= 7,
	       "id_len right before id, 7 bytes of the account before it");

/* a's ext, allocated (holding the defaults) if it has none; QUOTA_ENOMEM
 * with nothing changed.  For prepare steps (account.c). */
int quota__ext_need(quota_account *a);
/* Back to quota__ext_none if a's ext holds just the defaults (after a
 * snapshot is decoded, which writes it whole). */
void quota__ext_trim(quota_account *a);

/* R24: the gift state of an account with none (gift.c). */
extern const quota__gifts quota__gifts_none;
static inline const quota__gifts *quota__gifts_of(const quota_account *a)
{
	return a->x->gs ? a->x->gs : &quota__gifts_none;
}
/* a's gift state, allocated (holding the defaults) if it has none; for
 * prepare steps (and the snapshot decoder).  QUOTA_ENOMEM, nothing
 * changed. */
int quota__gifts_need(quota_account *a);


/* Category cat's entry (cat < QUOTA_MAX_CATEGORIES), or NULL if the
 * account has none: its state is the defaults.  Valid until the next
 * quota__cat_need. */
static inline quota__cat *quota__cat_of(const quota_account *a, unsigned cat)
{
	uint64_t bit = QUOTA_MASK(cat), below;

	if (!(a->cat_mask & bit))
		return NULL;
	/* The account's lowest category (most use one or two) needs no
	 * count: a portable popcount is a dozen instructions per charge. */
	below = a->cat_mask & (bit - 1);
	return &a->cats[below ? quota__popcount64(below) : 0];
}
/* An entry for each category of mask, the new ones holding the defaults
 * (changes nothing visible); for prepare steps.  QUOTA_ENOMEM with
 * nothing changed.  Moves the entries and the account-wide record
 * (account.c).  Mask 0 makes the block (for that record) if the account
 * has none. */
int quota__cat_need(quota_account *a, uint64_t mask);
/* The block of a's category entries, or NULL. */
static inline quota__catblock *quota__catblock_of(const quota_account *a)
{
	return a->cats ? (quota__catblock *)(void *)((char *)a->cats -
						     offsetof(quota__catblock,
							      e))
		       : NULL;
}
/* QUOTA__CAT_ALL's current record (its counters only), or NULL. */
static inline quota__cur *quota__all_of(const quota_account *a)
{
	return a->has_all ? quota__catblock_all(quota__catblock_of(a)) : NULL;
}

/*
 * Issue 13 (§7): hints that memory will be read soon, so that the cache
 * misses of many accounts overlap (quota_account_find_many, quota_batch).
 * Nothing is read through them and nothing changes: a stale address
 * costs time, never a wrong result.
 */
#ifdef __GNUC__
#define quota__hint(p) __builtin_prefetch(p)
#define quota__hint_w(p) __builtin_prefetch((p), 1) /* to be written */
#else
#define quota__hint(p) ((void)(p))
#define quota__hint_w(p) ((void)(p))
#endif
/* Every cache line of the n bytes at p, to be written (a charge writes
 * some of each block it is given for). */
static inline void quota__hint_range(const void *p, size_t n)
{
	uintptr_t x = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + n;

	for (; x < end; x += 64)
		quota__hint_w((const void *)x);
}
/* What a charge of a's category entry k reads and writes first: the
 * entry, and the counters of the account-wide record. */
static inline void quota__hint_cat(const quota_account *a, const quota__cat *k)
{
	const quota__cur *g = quota__all_of(a);

	if (g)
		quota__hint_range(g, offsetof(quota__cur, free));
	quota__hint_range(k, sizeof *k);
}

/* Reads of one category's state; the defaults when it has no entry. */
static inline quota__cur *quota__cur_of(const quota_account *a, unsigned cat)
{
	const quota__cat *k;

	if (cat == QUOTA__CAT_ALL)
		return quota__all_of(a);
	k = quota__cat_of(a, cat);
	return k && k->has_cur ? (quota__cur *)&k->cur : NULL;
}
static inline quota_tariff *quota__tariff_of(const quota_account *a,
					     unsigned cat)
{
	const quota__cat *k = quota__cat_of(a, cat);

	return k ? k->tariff : NULL;
}
static inline quota__pindex *quota__pindex_of(const quota_account *a,
					      unsigned cat)
{
	const quota__cat *k = quota__cat_of(a, cat);

	return k ? k->pindex : NULL;
}
static inline const quota__cap *quota__cap_of(const quota_account *a,
					      unsigned cat)
{
	static const quota__cap none = {-1, -1};
	const quota__cat *k = quota__cat_of(a, cat);

	return k ? &k->cap : &none;
}
static inline int64_t quota__held_of(const quota_account *a, unsigned cat)
{
	const quota__cat *k = quota__cat_of(a, cat);

	return k ? k->held : 0;
}

/* Slots of quota_ctx.late_row: 1,024, more than a month's hours, so
 * the late reports of one category within a month find theirs. */
#define QUOTA__LATE_ROWS 1024
/* Slots of quota_ctx.late_cnt: a month's days of a category and of the
 * account (late.h). */
#define QUOTA__LATE_CNTS 128

struct quota_ctx {
	quota__mem mem;
	/* The key of every string-keyed table's hash (§7): random, or the
	 * host's (quota_ctx_set_hash_seed) while no such table holds a
	 * thing.  Never journaled nor in a snapshot: nothing encoded
	 * depends on it. */
	quota__hkey hkey;
	uint32_t ncategories;
	char *category[QUOTA_MAX_CATEGORIES];
	quota_tariff **tariffs;
	size_t ntariffs, cap_tariffs;
	quota__strmap tariff_names;
	quota_account **accounts;
	size_t naccounts, cap_accounts;
	/* §7 the accounts by id (account.c): open addressing, each slot
	 * an account's address (0: empty) with a tag of its id's hash in
	 * the bits outside acct_keep, those no address of this context
	 * has set (quota__acct_slot reads one). */
	uintptr_t *acct_tab;
	size_t acct_cap;
	uintptr_t acct_keep;
	/* Issue 10: replay's hints (quota__account_get_hint), the slots of
	 * acct_tab where the accounts of recent records were, 8 by a cheap
	 * mix of the id.  A hint is checked against the id before use, so
	 * one gone stale (a removal, a resize) costs only the look-up. */
	size_t acct_hint[8];
	char errmsg[QUOTA__ERRMSG_MAX];
	/* Scratch for a plan's package draws: grown by quota_package_add to
	 * the largest package count, so plans never allocate for it. */
	quota__draw *scratch;
	size_t cap_scratch;
	/* During a tick's apply (hold_expiry.c): per package number of the
	 * account ticked, the units timed-out holds give back to it before
	 * its expiry warning and before its expiry, which the events of the
	 * clock step count (R21); nback 0 outside a tick.  Grown by the
	 * tick's prepare, so packages carry none of it. */
	int64_t (*back)[2];
	size_t cap_back, nback;
	/* R21 events: the hook, and the events of the call being applied. */
	quota_event_fn hook;
	void *hook_ud;
	uint64_t hook_gen, hook_failures;
	quota_event *evbuf;
	size_t nev, cap_ev;
	/* §7: the receipts HOLD_EXPIRED events point at, beside evbuf and
	 * emptied with it; grown only in a tick's prepare, so a queued
	 * event's pointer stays valid until it is delivered. */
	quota_receipt *evrcpt;
	size_t nrcpt, cap_rcpt;
	/* R16 catalog. */
	quota_offer **offers;
	size_t noffers, cap_offers;
	quota__strmap offer_ids;
	/* §5 journal (journal.c, its only writer): the store, the record
	 * being written, the configuration stream's sequence number, and
	 * whether records are being applied (then nothing is journaled and
	 * no event is delivered). */
	quota_store store;
	bool store_on, replaying;
	/* While replaying: the minor format version of the record applied
	 * (quota_journal(5); settle.c applies 1.0's settlements by 1.0's
	 * rules). */
	uint8_t rec_minor;
	bool batching; /* in a store transaction: events wait (batch.c) */
	quota__wbuf jbuf;
	uint64_t config_seq;
	/* configuration changes applied by calls while no store was set
	 * (quota_ctx_config_unstored): in no journal */
	uint64_t config_unstored;
	/* The ledger rows the last quota__ledger_prepare found, for the
	 * apply that follows it (ledger.c): a call's scratch, like scratch. */
	uint32_t lp_free, lp_payg, lp_fee;
	uint32_t *lp_pkg;
	size_t cap_lp;
	/* The calendar month of the last day looked up: [mday_lo, mday_hi)
	 * (counters.c; a cache, not state: empty at first), and the one
	 * before it (late reports come from both sides of a month's end). */
	int64_t mday_lo, mday_hi, month;
	int64_t mday_lo2, mday_hi2, month2;
	/* Issue 16: per slot of an (hour, category) (quota__late_slot),
	 * the index of the free ledger row a late report of that hour last
	 * found, in some account of this context (late.h).  A cache, not
	 * state: a row is taken only once it is seen to be the one asked
	 * for, so a stale index costs a table look-up, never a wrong row. */
	uint32_t late_row[QUOTA__LATE_ROWS];
	/* Issue 16: the same for the table slot of a late report's day
	 * counter (late.h): per (day, category), the slot that held its key
	 * last, in some account of this context.  A cache, not state: the
	 * slot is used only if it holds the key. */
	uint32_t late_cnt[QUOTA__LATE_CNTS];
	/* ------------------------------------------------ R26 time zones */
	quota_zone **zones; /* zone.c, their only writer; freed with ctx */
	size_t nzones, cap_zones;
};

/* A time zone (R26), shared by the accounts of its context. */
struct quota_zone {
	quota_ctx *ctx;
	char *name;
	uint64_t hash; /* of its TZif bytes: records and snapshots name both */
	quota__tz tz;
};
void quota__zones_free(quota_ctx *ctx);
/* Replay and snapshots: the zone named name whose TZif bytes hash to
 * hash (QUOTA_ENOTFOUND, QUOTA_ECORRUPT otherwise, with *out the one of
 * that name or NULL). */
int quota__zone_named(quota_ctx *ctx, const char *name, uint64_t hash,
		      quota_zone **out);
/* Make z (NULL: none, offset 0) a's calendar: the apply of
 * quota_account_set_zone, and the snapshot decoder's (a's ext exists). */
void quota__zone_attach(quota_account *a, const quota_zone *z);
/* R26 snapshots: the open holds' days and months again, from their times
 * in a's calendar, which was decoded after them (hold.c). */
void quota__holds_recalendar(quota_account *a);
/* Usage is booked by local hour and day: then the calendar (offset or
 * zone) is fixed.  Any reservation counts, even one released or timed
 * out since (a hold id was issued). */
static inline bool quota__has_usage(const quota_account *a)
{
	return a->ledger.nrows || a->x->last_hold_id;
}
/* The zone of ctx named name, or NULL. */
quota_zone *quota__zone_get(const quota_ctx *ctx, const char *name);

/* The modules' functions over this layout (ops.h: split off to keep
 * each header under about a thousand lines). */
#include "ops.h"

#endif /* QUOTA_CTX_H */
