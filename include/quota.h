/*
 * quota.h - libquota public interface.
 *
 * libquota meters and bills messaging traffic the way cloud SMS and email
 * providers sell it: a free allowance, then prepaid packages drawn in order
 * of soonest expiry, then pay-as-you-go at tiered unit prices (DESIGN.md
 * R1-R22).  This header is the whole public API; anything it does not
 * declare is private.  See libquota(3) for the overview.
 *
 * Conventions
 *   - Every call that can fail returns int: QUOTA_OK (0) or a negative
 *     QUOTA_E* code.  On failure no state has changed (all or nothing, R8)
 *     and quota_errmsg(ctx) says what was wrong.
 *   - Money is int64_t micro-units of the account's currency
 *     (1 USD = 1,000,000).  Time is int64_t Unix seconds, UTC; intervals
 *     are half-open [start, end).
 *   - Handles are opaque.  Accounts, packages and tariffs are owned by
 *     their context and freed with it; pointers handed out stay valid until
 *     quota_ctx_free(), or for an account and its packages until
 *     quota_account_remove().  Strings passed in are copied.
 *
 * Thread safety
 *   There is no global mutable state contexts share (the one static the
 *   library writes is the SMS kernel for the processor, detected once and
 *   stored atomically, the same value from any thread): different
 *   contexts may be used from different threads freely.  A context and every object in it (accounts,
 *   packages, tariffs) form one unit that must not be used from two threads
 *   at once; a host that shares one context between threads serialises the
 *   calls (one mutex per context).  Many threads: one context per thread,
 *   each holding a partition of the accounts (by a hash of the account id),
 *   sharing nothing; each context has its own store connection (README
 *   "Threads", libquota(3)).
 */
#ifndef QUOTA_H
#define QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUOTA_VERSION_MAJOR 0
#define QUOTA_VERSION_MINOR 1
#define QUOTA_VERSION_PATCH 0
#define QUOTA_VERSION_NUMBER \
	(QUOTA_VERSION_MAJOR * 10000 + QUOTA_VERSION_MINOR * 100 + \
	 QUOTA_VERSION_PATCH)

#if defined(QUOTA_BUILDING) && defined(__GNUC__)
#define QUOTA_API __attribute__((visibility("default")))
#else
#define QUOTA_API
#endif

/* ---------------------------------------------------------------- errors */

/*
 * X(name, value, message).  Values never change once released; new codes
 * are appended.
 */
#define QUOTA_ERRNO_MAP(X)                                                   \
	X(OK, 0, "success")                                                  \
	X(EINVAL, -1, "invalid argument")                                    \
	X(ENOMEM, -2, "out of memory")                                       \
	X(ENOTFOUND, -3, "not found")                                        \
	X(EEXISTS, -4, "already exists")                                     \
	X(EOVERFLOW, -5, "arithmetic overflow or capacity exceeded")         \
	X(EEXHAUSTED, -6, "quota exhausted and overage not allowed")         \
	X(ECAP, -7, "send cap reached")                                      \
	X(ESUSPENDED, -8, "account suspended")                               \
	X(EFUNDS, -9, "insufficient funds")                                  \
	X(ESTORE, -10, "storage callback failed")                            \
	X(EENCODING, -11, "invalid UTF-8")                                   \
	X(ETOOLONG, -12, "message too long")                                 \
	X(ERESOLVED, -13, "hold already committed, released or expired")    \
	X(EKEYCONFLICT, -14, "idempotency key reused with other parameters") \
	X(EREVERSED, -15, "charge already reversed")                         \
	X(EVOUCHER, -16, "voucher does not apply to this purchase")          \
	X(ECONFLICT, -17, "store conflict: another writer holds this sequence number") \
	X(ECORRUPT, -18, "corrupt or truncated record or snapshot")          \
	X(EVERSION, -19, "format version newer than this library")           \
	X(EUNKNOWN, -20, "store outcome unknown")                            \
	X(EUNSYNCED, -21, "account must be re-synchronised from the store")  \
	X(ESEQUENCE, -22, "record out of sequence")                          \
	X(EPRUNED, -23, "span reaches data pruned from the account")     \
	X(EBLOCKED, -24, "account blocked")

typedef enum quota_err {
#define QUOTA_ERR_ENUM_(name, value, msg) QUOTA_##name = value,
	QUOTA_ERRNO_MAP(QUOTA_ERR_ENUM_)
#undef QUOTA_ERR_ENUM_
	QUOTA_ERR_LAST_ = -17
} quota_err;

/* Fixed English text for a status code; never NULL, also for unknown codes. */
QUOTA_API const char *quota_strerror(int rc);
/* The code's symbolic name, e.g. "QUOTA_ECAP"; "QUOTA_E?" if unknown. */
QUOTA_API const char *quota_err_name(int rc);

/* Run-time version as "MAJOR.MINOR.PATCH". */
QUOTA_API const char *quota_version(void);
/* QUOTA_VERSION_NUMBER of the library actually linked. */
QUOTA_API uint32_t quota_version_number(void);

/* ------------------------------------------------------- core constants */

#define QUOTA_MAX_CATEGORIES 64
#define QUOTA_MASK(id) (UINT64_C(1) << (id))
/* Every category, for caps (quota_account_set_cap). */
#define QUOTA_ALL UINT32_C(0xFFFFFFFF)
/* No expiry: expires_at of a package that never expires (R3). */
#define QUOTA_NEVER INT64_MAX
/* up_to of the last, open-ended tariff tier. */
#define QUOTA_UNLIMITED INT64_MAX

/* Periods: calendar days and months in the account's UTC offset. */
enum {
	QUOTA_PERIOD_DAY = 1,
	QUOTA_PERIOD_MONTH = 2,
	QUOTA_PERIOD_LIFETIME = 3,
	QUOTA_PERIOD_HOUR = 4 /* settlement (R17) and reports (R22) only */
};

/* Tariff modes (R14). */
enum { QUOTA_GRADUATED = 0, QUOTA_VOLUME = 1 };

/* Overage policy per category (R7). */
enum { QUOTA_OVERAGE_PAYG = 0, QUOTA_OVERAGE_STOP = 1 };

/* Package flags. */
#define QUOTA_PACKAGE_STOP UINT32_C(0x1) /* stop when exhausted (R7) */

/* Package status (R20). */
enum {
	QUOTA_PACKAGE_PENDING = 0,
	QUOTA_PACKAGE_ACTIVE = 1,
	QUOTA_PACKAGE_EXHAUSTED = 2,
	QUOTA_PACKAGE_EXPIRED = 3
};

/* Times the calendar handles: 0001-01-01 up to 10000-01-01 (exclusive).
 * QUOTA_NEVER is accepted as an expiry. */
#define QUOTA_TIME_MIN INT64_C(-62135596800)
#define QUOTA_TIME_MAX INT64_C(253402300800)

/* Largest length in bytes of an account, package or tariff id. */
#define QUOTA_ID_MAX 128
/* Largest length in bytes of a category name. */
#define QUOTA_CATEGORY_NAME_MAX 63
/* Largest length in bytes of an idempotency key (R11). */
#define QUOTA_KEY_MAX 64

/* ----------------------------------------------------------------- types */

typedef struct quota_ctx quota_ctx;
typedef struct quota_account quota_account;
typedef struct quota_package quota_package;
typedef struct quota_tariff quota_tariff;

/*
 * Allocator hooks.  Every allocation of a context and its objects goes
 * through them (string copies too).  realloc_fn(ud, NULL, n) must behave as
 * malloc; free_fn(ud, NULL) must be harmless.  Pass NULL to
 * quota_ctx_new_with() for libc.
 */
#define QUOTA_ALLOCATOR_VERSION 1
typedef struct quota_allocator {
	unsigned version; /* QUOTA_ALLOCATOR_VERSION */
	void *ud;
	void *(*malloc_fn)(void *ud, size_t size);
	void *(*realloc_fn)(void *ud, void *ptr, size_t size);
	void (*free_fn)(void *ud, void *ptr);
} quota_allocator;
#define QUOTA_ALLOCATOR_INIT {QUOTA_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL}

/* One charge (R1).  Use designated initializers: fields may be appended. */
typedef struct quota_usage {
	uint32_t category; /* category id */
	int64_t units;     /* > 0: segments, recipients, clicks */
	int64_t at;        /* usage time, Unix seconds */
	const char *key;   /* idempotency key (R11); NULL for none */
} quota_usage;

/* Where the units of a receipt line came from. */
enum {
	QUOTA_SOURCE_FREE = 1,    /* the tariff's free allowance (R15) */
	QUOTA_SOURCE_PACKAGE = 2, /* a prepaid package (R2, R3) */
	QUOTA_SOURCE_PAYG = 3,    /* pay-as-you-go, one line per tier (R13) */
	QUOTA_SOURCE_FEE = 4,     /* failure fees of released holds (reports) */
	QUOTA_SOURCE_RENEWAL = 5  /* R23 renewals bought (reports) */
};

typedef struct quota_receipt_line {
	int32_t source;               /* QUOTA_SOURCE_* */
	uint32_t tier;                /* PAYG: tier index, from 0 */
	const char *package_id;       /* PACKAGE: the package's id (borrowed) */
	const quota_package *package; /* PACKAGE: the package (borrowed) */
	int64_t units;
	int64_t unit_price_micros; /* PAYG: price per unit; else 0 */
	int64_t cost_micros;       /* PAYG: units * unit_price; else 0 */
} quota_receipt_line;

/* Lines a receipt holds; a charge that spans more sources keeps exact
 * totals and reports the number of lines it would have had in
 * lines_total. */
#define QUOTA_RECEIPT_LINES 16

/* The outcome of a charge or quote (R1): units = free + package + payg. */
typedef struct quota_receipt {
	int64_t units;
	int64_t free_units;
	int64_t package_units;
	int64_t payg_units;
	int64_t payg_cost_micros;
	uint32_t category;
	int64_t at;
	uint32_t nlines;      /* lines filled in, <= QUOTA_RECEIPT_LINES */
	uint32_t lines_total; /* lines the charge has; > nlines if truncated */
	quota_receipt_line lines[QUOTA_RECEIPT_LINES];
	/* Appended for R10-R12: */
	int32_t kind;     /* QUOTA_RECEIPT_* */
	int32_t replayed; /* 1: a repeated idempotency key (R11) */
	uint64_t hold_id; /* RESERVE / COMMIT / RELEASE: the hold */
	int64_t fee_micros;      /* RELEASE: failure fee charged */
	int64_t forfeited_units; /* REVERSAL: units of expired packages */
	/* Appended for R27: */
	uint64_t receipt_id;     /* CHARGE / COMMIT: what quota_reverse_receipt
				    takes (0: not kept, see
				    quota_account_keep_receipts) */
	int32_t failure_reason;  /* RELEASE: QUOTA_FAIL_* it was given */
} quota_receipt;

/* What a receipt describes; every quantity in it is >= 0. */
enum {
	QUOTA_RECEIPT_CHARGE = 0,   /* quota_charge / quota_quote: charged */
	QUOTA_RECEIPT_RESERVE = 1,  /* quota_reserve: held */
	QUOTA_RECEIPT_COMMIT = 2,   /* quota_commit: charged from the hold */
	QUOTA_RECEIPT_RELEASE = 3,  /* quota_release / expiry: returned */
	QUOTA_RECEIPT_REVERSAL = 4  /* quota_reverse: refunded */
};

/* A package to add to an account (R2-R7). */
typedef struct quota_package_spec {
	const char *id;        /* unique within the account, UTF-8 */
	uint64_t categories;   /* mask of QUOTA_MASK(category id) */
	int64_t units;         /* > 0 */
	int64_t effective_at;  /* usable from here ... */
	int64_t expires_at;    /* ... until here (exclusive); QUOTA_NEVER */
	int64_t price_micros;  /* what was paid, >= 0 (informational here) */
	uint32_t flags;        /* QUOTA_PACKAGE_STOP */
	int32_t priority;      /* lower burns first; default 0 (R3) */
} quota_package_spec;

/* ---------------------------------------------------------------- context */

/* Create a context using libc's allocator.  *out is NULL on failure. */
QUOTA_API int quota_ctx_new(quota_ctx **out);
/* Create a context using the given allocator (NULL: libc). */
QUOTA_API int quota_ctx_new_with(const quota_allocator *alloc, quota_ctx **out);
/* Free a context and everything in it.  NULL is accepted. */
QUOTA_API void quota_ctx_free(quota_ctx *ctx);
/*
 * Set the 16-byte key of the hash behind the tables of account, package,
 * tariff and offer ids and idempotency keys (SipHash-1-3).  Each context
 * draws a random one from the system when created, so that clients cannot
 * choose ids or keys that collide; set one to make a simulation lay its
 * tables out the same on every run.  Only on a context without accounts,
 * tariffs or offers yet: QUOTA_EINVAL otherwise.  Nothing that is journaled,
 * snapshotted or returned depends on the key.  The seed is copied.
 */
QUOTA_API int quota_ctx_set_hash_seed(quota_ctx *ctx, const uint8_t seed[16]);
/*
 * What was wrong with the last failed call on this context (or any object
 * in it).  Owned by the context, valid until the next call on it.  Never
 * NULL; "" when the last call succeeded... or none failed yet.
 */
QUOTA_API const char *quota_errmsg(const quota_ctx *ctx);

/* -------------------------------------------------------------- categories */

/* Register a category by name (UTF-8, 1..63 bytes); ids count from 0. */
QUOTA_API int quota_category_add(quota_ctx *ctx, const char *name,
				 uint32_t *id);
QUOTA_API int quota_category_find(const quota_ctx *ctx, const char *name,
				  uint32_t *id);
/* The name of a category id, or NULL if there is none. */
QUOTA_API const char *quota_category_name(const quota_ctx *ctx, uint32_t id);
QUOTA_API uint32_t quota_category_count(const quota_ctx *ctx);

/* ---------------------------------------------------------------- tariffs */

/* Create a tariff owned by ctx; names are unique per context. */
QUOTA_API int quota_tariff_new(quota_ctx *ctx, const char *name,
			       quota_tariff **out);
QUOTA_API int quota_tariff_find(const quota_ctx *ctx, const char *name,
				quota_tariff **out);
/*
 * Append a tier: positions (previous up_to, up_to] of the month's volume
 * cost unit_price_micros each.  up_to strictly increases; QUOTA_UNLIMITED
 * closes the list.  Positions beyond the last finite tier are priced at the
 * last tier.  A tariff with no tier prices pay-as-you-go at 0.
 */
QUOTA_API int quota_tariff_add_tier(quota_tariff *t, int64_t up_to_units,
				    int64_t unit_price_micros);
/* QUOTA_GRADUATED (default) or QUOTA_VOLUME (R14). */
QUOTA_API int quota_tariff_set_mode(quota_tariff *t, int mode);
/* Free allowance (R15): units per QUOTA_PERIOD_DAY / MONTH / LIFETIME. */
QUOTA_API int quota_tariff_set_free(quota_tariff *t, int64_t units, int period);
/* Optional extra daily limit on free units (0 = none), e.g. 200 a day. */
QUOTA_API int quota_tariff_set_free_daily_limit(quota_tariff *t,
						int64_t units);
QUOTA_API const char *quota_tariff_name(const quota_tariff *t);
/*
 * One-shot price of `units` pay-as-you-go units whose positions in the
 * month start after `volume_before` (graduated) or reach
 * volume_before + units (volume).
 */
QUOTA_API int quota_tariff_price(const quota_tariff *t, int64_t volume_before,
				 int64_t units, int64_t *cost_micros);

/* ---------------------------------------------------------------- accounts */

/* Create an account owned by ctx; ids are unique per context. */
QUOTA_API int quota_account_new(quota_ctx *ctx, const char *id,
				quota_account **out);
QUOTA_API int quota_account_find(const quota_ctx *ctx, const char *id,
				 quota_account **out);
/*
 * Find n accounts at once (§7, issue 13): out[i] is the account whose id
 * is ids[i], or NULL if none has it (an id no account can have, empty,
 * too long or not UTF-8, is simply not found).  Faster than n calls of
 * quota_account_find at scale: the ids' look-ups overlap.  QUOTA_OK if
 * every id was found, QUOTA_ENOTFOUND if any was not (unlike a single
 * look-up's failure, out keeps the accounts that were found), QUOTA_EINVAL
 * for a NULL argument, every out[i] NULL (out and ids may be NULL when n
 * is 0, and must not overlap).
 */
QUOTA_API int quota_account_find_many(const quota_ctx *ctx,
				      const char *const *ids, size_t n,
				      quota_account **out);
QUOTA_API const char *quota_account_id(const quota_account *a);
/* The context's accounts in the order they were made (§7), less those
 * removed: count, and the i-th (NULL past the end); both O(1).  A removal
 * moves the accounts after it down one index. */
QUOTA_API uint32_t quota_ctx_account_count(const quota_ctx *ctx);
QUOTA_API quota_account *quota_ctx_account_at(const quota_ctx *ctx,
					      uint32_t i);
/*
 * Remove an account from its context (§7): its memory (packages, holds,
 * keys, ledger, everything) goes back through the context's allocator and
 * the handle and its packages' handles become invalid.  No record is
 * written and no state changes: with a store set, the store keeps the
 * account and the host loads it back on its next use (quota_account_load
 * of its snapshot, or the adapter's loader); without one, take a snapshot
 * first to keep it.  QUOTA_EINVAL for NULL, or inside quota_batch or
 * quota_journal_apply (nothing is removed); O(accounts) for the list.
 */
QUOTA_API int quota_account_remove(quota_account *a);
QUOTA_API quota_ctx *quota_account_ctx(const quota_account *a);
/* Offset of the account's calendar from UTC, seconds, within +-18 h
 * (a zone the account had goes: the offset is its calendar). */
QUOTA_API int quota_account_set_utc_offset(quota_account *a, int32_t seconds);

/*
 * Time zones (R26, quota_zone(3)).  A zone is a context's object, shared
 * by its accounts and freed with the context: the rules of an IANA time
 * zone, from the system's tz database (quota_zone_load reads the TZif
 * file QUOTA_ZONEINFO_DIR/<name>, /usr/share/zoneinfo unless built
 * otherwise; name: letters, digits and . _ + - in '/'-separated parts,
 * no "." or ".." part) or from TZif bytes the host passes (RFC 8536,
 * versions 1 to 4; leap-second zones and offsets beyond +-18 h are
 * refused).  Creating a zone is configuration: journaled with its bytes,
 * so replay elsewhere has the same rules.  Loading a name the context
 * already has returns that zone; other bytes under the same name are
 * QUOTA_EEXISTS.  Bad bytes: QUOTA_ECORRUPT; no such file: QUOTA_ENOTFOUND.
 */
typedef struct quota_zone quota_zone;
QUOTA_API int quota_zone_load(quota_ctx *ctx, const char *name,
			      quota_zone **out);
QUOTA_API int quota_zone_from_tzif(quota_ctx *ctx, const char *name,
				   const void *tzif, size_t len,
				   quota_zone **out);
QUOTA_API int quota_zone_find(const quota_ctx *ctx, const char *name,
			      quota_zone **out);
QUOTA_API const char *quota_zone_name(const quota_zone *z);
/* The UTC offset (seconds east) zone z has at UTC instant at. */
QUOTA_API int quota_zone_offset(const quota_zone *z, int64_t at,
				int32_t *offset);
/*
 * Follow zone z (NULL: back to the fixed offset, 0 unless set again) for
 * the account's days, hours and months: caps, free allowances, tiers,
 * settlement and reports by local day, hour and month, days of 23 and
 * 25 hours at the DST changes.  Like the offset, it cannot change once
 * the account has usage (QUOTA_EINVAL).  z must be of a's context.
 */
QUOTA_API int quota_account_set_zone(quota_account *a, quota_zone *z);
/* The account's zone, or NULL when it keeps a fixed offset. */
QUOTA_API quota_zone *quota_account_zone(const quota_account *a);
/* Price a category's pay-as-you-go and free tier with t (NULL: none). */
QUOTA_API int quota_account_set_tariff(quota_account *a, uint32_t category,
				       quota_tariff *t);
/*
 * Cap units per QUOTA_PERIOD_DAY or QUOTA_PERIOD_MONTH, for one category
 * or QUOTA_ALL (R9).  units < 0 removes the cap; 0 refuses everything.
 */
QUOTA_API int quota_account_set_cap(quota_account *a, uint32_t category,
				    int period, int64_t units);
/* QUOTA_OVERAGE_PAYG (default) or QUOTA_OVERAGE_STOP (R7). */
QUOTA_API int quota_account_set_overage(quota_account *a, uint32_t category,
					int policy);
/* Units left in packages usable at now that cover category (no free);
 * a negative QUOTA_E* code for bad arguments. */
QUOTA_API int64_t quota_account_remaining(const quota_account *a,
					  uint32_t category, int64_t now);
/* Units counted in the calendar period (DAY/MONTH) containing at, for
 * category or QUOTA_ALL, whatever covered them (what caps compare). */
QUOTA_API int64_t quota_account_used(const quota_account *a, uint32_t category,
				     int period, int64_t at);
/* Free units of category already used in the free period containing at. */
QUOTA_API int64_t quota_account_free_used(const quota_account *a,
					  uint32_t category, int64_t at);

/* ---------------------------------------------------------------- packages */

/* Add a package to an account (R2-R7).  *out is borrowed (owned by a). */
QUOTA_API int quota_package_add(quota_account *a, const quota_package_spec *spec,
				quota_package **out);
QUOTA_API int quota_package_find(const quota_account *a, const char *id,
				 quota_package **out);
QUOTA_API int64_t quota_package_remaining(const quota_package *p);
/* QUOTA_PACKAGE_* at time now (R20); -1 for NULL. */
QUOTA_API int quota_package_status(const quota_package *p, int64_t now);
/* The package's spec as added (id borrowed from p). */
QUOTA_API int quota_package_get_spec(const quota_package *p,
				     quota_package_spec *out);
QUOTA_API uint32_t quota_account_package_count(const quota_account *a);
/* The i-th package in the order they were added, or NULL. */
QUOTA_API quota_package *quota_account_package_at(const quota_account *a,
						  uint32_t i);

/* ---------------------------------------------------------------- charging */

/*
 * Charge usage to the account (R1-R9, R13-R15): free allowance, then
 * packages in R3 order, then pay-as-you-go.  All or nothing: on error the
 * account is as before and *receipt is zeroed.  Allocates nothing except
 * when the charge is the first of a new calendar period for the account
 * (its period counter table may grow; amortised O(1)).
 */
QUOTA_API int quota_charge(quota_account *a, const quota_usage *usage,
			   quota_receipt *receipt);
/* What quota_charge would return and fill in, changing nothing. */
QUOTA_API int quota_quote(const quota_account *a, const quota_usage *usage,
			  quota_receipt *receipt);

/* ------------------------------------------------- charge on success */

/*
 * Reserve usage at submit time (R10): the same plan as quota_charge (caps,
 * free allowance, packages, pay-as-you-go, STOP), applied as a hold: the
 * units are taken from their sources and count against caps, so other
 * charges cannot use them.  The hold expires at usage->at + timeout_s
 * (quota_account_tick).  usage->key makes the call idempotent (R11).
 */
QUOTA_API int quota_reserve(quota_account *a, const quota_usage *usage,
			    int64_t timeout_s, quota_receipt *receipt,
			    uint64_t *hold_id);
/*
 * Charge units_used (0 <= units_used <= held) of a hold; the rest goes back
 * to where it came from (pay-as-you-go first, then packages in reverse
 * order, then the free allowance).  key (may be NULL) makes it idempotent.
 */
QUOTA_API int quota_commit(quota_account *a, uint64_t hold_id,
			   int64_t units_used, const char *key,
			   quota_receipt *receipt);
/* Return a hold whole; the tariff's failure fee, if any, is charged. */
QUOTA_API int quota_release(quota_account *a, uint64_t hold_id,
			    const char *key, quota_receipt *receipt);
/*
 * Advance the account's clock to now: holds whose deadline is <= now are
 * released (no fee), package expiry and expiry-warning events fire.
 * Returns the number of holds released, or a negative QUOTA_E* code.
 */
QUOTA_API int64_t quota_account_tick(quota_account *a, int64_t now);
/* quota_account_tick for every account of the context.  Without a store
 * all or nothing; with one, each account's tick is its own record, and
 * the first the store refuses stops the walk (accounts before it have
 * ticked; tick again). */
QUOTA_API int64_t quota_ctx_tick(quota_ctx *ctx, int64_t now);
/* Units currently held for a category (QUOTA_ALL: all). */
QUOTA_API int64_t quota_account_held(const quota_account *a,
				     uint32_t category);
QUOTA_API uint32_t quota_account_hold_count(const quota_account *a);
/*
 * The open hold quota_reserve made with usage->key == key (§7), through
 * the key window, in O(1): *hold_id is its id.  QUOTA_ENOTFOUND if no
 * reservation or commit/release used the key (a key that left the
 * window included; a charge's key is not a reservation's);
 * QUOTA_ERESOLVED if the key's hold was committed, released or expired,
 * or the key is a commit's or release's; QUOTA_EINVAL for a NULL or
 * invalid key.  *hold_id is 0 on failure.
 */
QUOTA_API int quota_hold_find(const quota_account *a, const char *key,
			      uint64_t *hold_id);

/*
 * Idempotency window (R11): the account keeps the keys it stored in the
 * order it stored them, and after every call that stores a key forgets
 * the oldest while it holds more than max_keys or while the oldest is
 * more than max_age_s older than the newest key stored (a plain queue:
 * a key goes by age only after every key stored before it;
 * quota_reverse(3)).  Defaults: 100,000 keys, 7 days.  A key that fell
 * out of the window is new again.
 */
QUOTA_API int quota_account_set_key_window(quota_account *a,
					   uint32_t max_keys,
					   int64_t max_age_s);

/*
 * Reverse a committed charge identified by the key of its quota_charge or
 * quota_commit (R12): its package units go back to packages still
 * unexpired at `at` (the rest is forfeited), its pay-as-you-go cost is
 * credited, and the counters (caps, volume, free) of its period are
 * corrected.  Reversing twice is refused with QUOTA_EREVERSED.
 */
QUOTA_API int quota_reverse(quota_account *a, const char *key, int64_t at,
			    quota_receipt *receipt);
/* Fee per released unit charged by quota_release (0: none). */
QUOTA_API int quota_tariff_set_failure_fee(quota_tariff *t,
					   int64_t micros_per_unit);

/* ------------------------------------------------ reconciliation (R27) */

/*
 * Why a message failed, for quota_release_reason.  0 is no reason (what
 * quota_release passes); 1..QUOTA_FAIL_REASON_MAX are valid, the values
 * after QUOTA_FAIL_OTHER free for the host's own.
 */
enum {
	QUOTA_FAIL_NONE = 0,
	QUOTA_FAIL_REJECTED = 1,       /* the carrier rejected it */
	QUOTA_FAIL_INVALID_NUMBER = 2, /* no such number, or unreachable */
	QUOTA_FAIL_EXPIRED = 3,        /* validity ran out, undelivered */
	QUOTA_FAIL_FILTERED = 4,       /* spam filter, blacklist */
	QUOTA_FAIL_OTHER = 5
};
#define QUOTA_FAIL_REASON_MAX 15
/*
 * quota_release with a failure reason (QUOTA_FAIL_*): the fee per
 * released unit is the tariff's fee for that reason if one is set
 * (quota_tariff_set_failure_fee_reason), else its failure fee.  The
 * receipt carries the reason.  reason 0 is quota_release.
 */
QUOTA_API int quota_release_reason(quota_account *a, uint64_t hold_id,
				   int32_t reason, const char *key,
				   quota_receipt *receipt);
/* Fee per released unit for one reason (1..QUOTA_FAIL_REASON_MAX), >= 0
 * (0: that reason is free); micros_per_unit -1 drops it, so the reason
 * pays the failure fee again.  Not on a tariff in use (QUOTA_EINVAL). */
QUOTA_API int quota_tariff_set_failure_fee_reason(quota_tariff *t,
						  int32_t reason,
						  int64_t micros_per_unit);
/*
 * Keep the receipts of keyless charges and commits (on = 1) so that they
 * can be reversed by receipt id: each gets one (receipt.receipt_id), and
 * the key window (quota_account_set_key_window) keeps it like a key, as
 * long and as many.  Off (0, the default) the fast paths stay as they
 * are and receipt_id is 0.  A commit's receipt id is its hold id; a
 * charge's comes from the same sequence.
 */
QUOTA_API int quota_account_keep_receipts(quota_account *a, int on);
/*
 * Reverse a charge or commit by its receipt id (R27), as quota_reverse
 * reverses one by its key: the receipt id of a keyless call made while
 * the account kept receipts, or the hold id of a commit.  A keyed call
 * is found by its key instead (QUOTA_ENOTFOUND here).
 */
QUOTA_API int quota_reverse_receipt(quota_account *a, uint64_t receipt_id,
				    int64_t at, quota_receipt *receipt);

/* ------------------------------------------------------- blocking (R25) */

/* Largest length in bytes of a blocking reason. */
#define QUOTA_REASON_MAX 255
/*
 * Block an account (R25: a host that found non-compliant content, a
 * frozen service account): from now on charges, reservations, quotes
 * and purchases (quota_package_buy, quota_package_quote) are refused
 * with QUOTA_EBLOCKED; commits and releases of holds made before, the
 * tick, settlement, top-ups, reversals and the host's own
 * quota_package_add go on.  Nothing is refunded.  reason (may be NULL:
 * none; UTF-8, at most QUOTA_REASON_MAX bytes) is copied; at is the
 * time it took effect.  Fires QUOTA_EVENT_ACCOUNT_BLOCKED.  Blocking a
 * blocked account changes nothing (the first reason stays).
 */
QUOTA_API int quota_account_block(quota_account *a, const char *reason,
				  int64_t at);
/* Lift the block: QUOTA_EVENT_ACCOUNT_UNBLOCKED; nothing if not blocked. */
QUOTA_API int quota_account_unblock(quota_account *a, int64_t at);
/* 1 if blocked (then *reason, borrowed until the next change of a, and
 * *since, if not NULL, say why and from when), 0 if not (NULL and 0),
 * QUOTA_EINVAL for NULL. */
QUOTA_API int quota_account_blocked(const quota_account *a,
				    const char **reason, int64_t *since);

/* ---------------------------------------------------------------- events */

enum {
	QUOTA_EVENT_LOW_QUOTA = 1,         /* remaining at or below a level */
	QUOTA_EVENT_PACKAGE_EXHAUSTED = 2, /* a package ran out of units */
	QUOTA_EVENT_PACKAGE_EXPIRED = 3,   /* a package reached expires_at */
	QUOTA_EVENT_PACKAGE_EXPIRING = 4,  /* expires within the warning */
	QUOTA_EVENT_CAP_REACHED = 5,       /* a cap's period is full */
	QUOTA_EVENT_SUSPENDED = 6,         /* a bill could not be paid (R18) */
	QUOTA_EVENT_RESUMED = 7,           /* a top-up paid what was owed */
	QUOTA_EVENT_HOLD_EXPIRED = 8,      /* a tick released a hold (R10) */
	QUOTA_EVENT_ACCOUNT_BLOCKED = 9,   /* quota_account_block (R25) */
	QUOTA_EVENT_ACCOUNT_UNBLOCKED = 10, /* quota_account_unblock (R25) */
	QUOTA_EVENT_GIFT_EXPIRED = 11,   /* gift money forfeited (R24) */
	QUOTA_EVENT_RENEWED = 13,        /* a package was renewed (R23) */
	QUOTA_EVENT_RENEWAL_FAILED = 14  /* a renewal bought nothing (R23) */
};

/* Alert levels: a number of units, or a percentage of what was bought. */
enum { QUOTA_ALERT_UNITS = 0, QUOTA_ALERT_PERCENT = 1 };

/* One event (R21); pointers are borrowed for the duration of the call. */
typedef struct quota_event {
	int32_t kind;                 /* QUOTA_EVENT_* */
	uint32_t category;            /* or QUOTA_ALL (caps) */
	const quota_account *account;
	const quota_package *package; /* PACKAGE_*: the package, else NULL */
	int64_t remaining;            /* units left (package or category) */
	int64_t threshold;            /* LOW_QUOTA: level in units; CAP: cap */
				      /* GIFT_EXPIRED: remaining is the gift
				       * money forfeited, balance_micros the
				       * gift balance left (R24) */
	int64_t at;                   /* the account clock when it happened */
	int32_t period;               /* CAP_REACHED: QUOTA_PERIOD_* */
	/* Appended for R18: SUSPENDED / RESUMED: what is (was) outstanding
	 * and the balance after the change. */
	int64_t outstanding_micros;
	int64_t balance_micros;
	/* Appended for §7: HOLD_EXPIRED: the release's receipt (kind
	 * QUOTA_RECEIPT_RELEASE, hold_id, the units given back per source,
	 * no fee), borrowed like the event; else NULL. */
	const quota_receipt *receipt;
	/* Appended for R25: ACCOUNT_BLOCKED: the reason (borrowed like the
	 * event; NULL: none); else NULL. */
	const char *reason;
} quota_event;

/* Return 0; any other value is counted (quota_ctx_hook_failures) and
 * changes nothing: the state change the event reports stands. */
typedef int (*quota_event_fn)(const quota_event *event, void *ud);

/* Called synchronously after each state change, once per crossing. */
QUOTA_API int quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn fn,
				       void *ud);
QUOTA_API uint64_t quota_ctx_hook_failures(const quota_ctx *ctx);
/* Fire LOW_QUOTA when the category's remaining quota (packages usable at
 * the account clock) falls to level or below; re-armed when it rises
 * above again.  Several levels per category. */
QUOTA_API int quota_account_add_alert(quota_account *a, uint32_t category,
				      int64_t level, int unit);
/* Fire PACKAGE_EXPIRING this many seconds before a package with units left
 * expires (0: never, the default). */
QUOTA_API int quota_account_set_expiry_warning(quota_account *a,
					       int64_t seconds);

/* ----------------------------------------------------- money (R17-R19) */

/*
 * Every account has a money balance in micro-units (starts at 0) and a
 * credit limit (default 0): bills may take the balance down to
 * -credit_limit, no further (R18).  Package purchases are prepaid and need
 * the balance itself (R19), and gift money (R24, below) pays beside it.
 */
QUOTA_API int quota_account_topup(quota_account *a, int64_t micros,
				  int64_t at);
QUOTA_API int64_t quota_account_balance(const quota_account *a);
QUOTA_API int quota_account_set_credit_limit(quota_account *a, int64_t micros);
/* 1 if suspended (R18), 0 if not, QUOTA_EINVAL for NULL. */
QUOTA_API int quota_account_suspended(const quota_account *a);

/* Everything money about an account at once. */
typedef struct quota_money {
	int64_t balance_micros;
	int64_t credit_limit_micros;
	int64_t outstanding_micros; /* unpaid bills (suspended) */
	int64_t topped_up_micros;   /* sum of top-ups */
	int64_t purchased_micros;   /* sum of package purchases */
	int64_t billed_micros;      /* sum of bill totals (paid or not) */
	int32_t suspended;
	uint32_t outstanding_bills;
	/* Appended for R24 (gift money). */
	int64_t gift_micros;         /* gift balance (not yet forfeited) */
	int64_t gift_granted_micros; /* sum of gift grants */
	int64_t gift_spent_micros;   /* gift money that paid purchases, bills */
	int64_t gift_expired_micros; /* gift money forfeited at expiry */
	int32_t pay_order;           /* QUOTA_PAY_GIFT_FIRST or _CASH_FIRST */
	uint32_t pay_flags;          /* QUOTA_PAY_* flags */
} quota_money;
QUOTA_API int quota_account_money(const quota_account *a, quota_money *out);

/*
 * Gift money (R24): a second balance beside the cash balance, granted by
 * the host (a promotion, a goodwill credit), never topped up by the
 * customer and never refunded.  A grant of micros (> 0) made at now
 * expires at expires_at (QUOTA_NEVER: never; else > now): from then on
 * what is left of it is forfeited, at the first tick, grant, top-up,
 * purchase or settlement at or after that time (QUOTA_EVENT_GIFT_EXPIRED).
 * Grants are spent soonest expiry first (ties: the earlier grant).  A
 * grant, like a top-up, pays what a suspended account owes if it now
 * can and resumes it (R18).  quota_gift_grant(3).
 */
QUOTA_API int quota_gift_grant(quota_account *a, int64_t micros,
			       int64_t expires_at, int64_t now);
/* The gift money usable at now: what is left of the grants that expire
 * after now (0 for NULL). */
QUOTA_API int64_t quota_gift_balance(const quota_account *a, int64_t now);

/*
 * Which bucket pays first (R24): purchases and bills spend gift money,
 * then cash, then the credit limit (QUOTA_PAY_GIFT_FIRST, the default),
 * or cash, then gift money, then credit (QUOTA_PAY_CASH_FIRST).  A
 * purchase draws on the credit limit only with QUOTA_PAY_CREDIT_PURCHASES
 * (R19: prepaid by default).  A credit (a bill below 0, from a reversal of
 * settled usage) is paid into cash, never back into gift money.
 */
enum { QUOTA_PAY_GIFT_FIRST = 0, QUOTA_PAY_CASH_FIRST = 1 };
#define QUOTA_PAY_CREDIT_PURCHASES UINT32_C(1)
QUOTA_API int quota_account_set_pay_order(quota_account *a, int32_t order,
					  uint32_t flags);

/* Rounding of bill lines to the currency's minor unit (R17); the modes
 * act on the magnitude, so a credit rounds like a debit of the same size. */
enum {
	QUOTA_ROUND_HALF_UP = 0,   /* half away from zero (default) */
	QUOTA_ROUND_HALF_EVEN = 1, /* half to the even multiple */
	QUOTA_ROUND_UP = 2,        /* away from zero */
	QUOTA_ROUND_DOWN = 3       /* toward zero */
};
/* Round micros to a multiple of minor_micros (> 0) by mode. */
QUOTA_API int quota_money_round(int64_t micros, int64_t minor_micros,
				int mode, int64_t *out);

/*
 * Settlement (R17): period QUOTA_PERIOD_HOUR or QUOTA_PERIOD_DAY (default
 * DAY) in the account's UTC offset; minor_micros the currency's minor unit
 * (default 10,000: cents); rounding a QUOTA_ROUND_* mode.
 */
QUOTA_API int quota_account_set_settlement(quota_account *a, int period,
					   int64_t minor_micros, int rounding);

/* ------------------------------------------------------ catalog (R16, R19) */

typedef struct quota_offer quota_offer;

/*
 * A catalog entry.  Fixed price: units > 0 and price_micros (quantity q
 * buys q * units for q * price_micros, as one package).  Priced by
 * quantity (R16): units = 0 and unit_tariff set; q units cost
 * quota_tariff_price(unit_tariff, 0, q), q >= min_units,
 * (q - min_units) % step_units == 0, q <= max_units (0: no maximum).
 * Validity: valid_months calendar months plus valid_days days from the
 * purchase (account's offset); both 0 means QUOTA_NEVER.
 */
typedef struct quota_offer_spec {
	const char *id;       /* unique per context */
	uint64_t categories;  /* the packages' categories */
	int64_t units;        /* fixed: units per package; 0: by quantity */
	int64_t price_micros; /* fixed: the price */
	const quota_tariff *unit_tariff; /* by quantity: unit prices */
	int64_t min_units, step_units, max_units;
	int32_t valid_months, valid_days;
	uint32_t flags;       /* copied to the packages (QUOTA_PACKAGE_STOP) */
	int32_t priority;     /* copied to the packages (R3) */
} quota_offer_spec;

QUOTA_API int quota_offer_add(quota_ctx *ctx, const quota_offer_spec *spec,
			      quota_offer **out);
QUOTA_API int quota_offer_find(const quota_ctx *ctx, const char *id,
			       quota_offer **out);

/* One discount voucher per purchase. */
enum { QUOTA_VOUCHER_AMOUNT = 1, QUOTA_VOUCHER_PERCENT = 2 };
typedef struct quota_voucher {
	int32_t kind;           /* QUOTA_VOUCHER_* */
	int64_t value;          /* AMOUNT: micros; PERCENT: basis points
				   (1 % = 100, at most 10,000) */
	int64_t min_spend_micros; /* list price must reach this */
} quota_voucher;

/* The price of a purchase, and what it buys. */
typedef struct quota_purchase {
	int64_t units;
	int64_t list_price_micros;
	int64_t discount_micros;
	int64_t price_micros; /* list - discount: what the balance pays */
	int64_t effective_at, expires_at;
	const quota_package *package; /* quota_package_buy: the new package */
	/* Appended for R24, quota_package_buy: what each bucket paid of
	 * price_micros (gift + cash + credit = price). */
	int64_t gift_micros, cash_micros, credit_micros;
} quota_purchase;

/* Price q of an offer bought at `at` with an optional voucher. */
QUOTA_API int quota_package_quote(const quota_account *a,
				  const quota_offer *offer, int64_t quantity,
				  const quota_voucher *voucher, int64_t at,
				  quota_purchase *out);
/*
 * Buy: debit the balance at once and add the package, effective at `at`
 * (R5, R19); gift money pays beside the balance in the account's payment
 * order (R24), and out says what each bucket paid.  package_id NULL:
 * "<offer id>#<n>".  QUOTA_EFUNDS if the account's money cannot pay,
 * QUOTA_ESUSPENDED if the account is suspended; nothing is bought then.
 */
QUOTA_API int quota_package_buy(quota_account *a, const quota_offer *offer,
				int64_t quantity, const quota_voucher *voucher,
				int64_t at, const char *package_id,
				quota_purchase *out);

/* ------------------------------------------------- auto-renewal (R23) */

/* No trigger of this kind (quota_renewal_set). */
#define QUOTA_RENEWAL_NONE (-1)

/*
 * Mark offer for renewal on a: when a package bought from it has
 * units_left_at_most units or fewer left, or (expires_within_s >= 0) is
 * within expires_within_s seconds of its expiry, the same offer, in the
 * same quantity, is bought again from the balance at the time the
 * trigger was met, once per package: QUOTA_EVENT_RENEWED, or
 * QUOTA_EVENT_RENEWAL_FAILED (nothing bought, never retried) if the
 * balance cannot pay.  QUOTA_RENEWAL_NONE for a trigger not used; at
 * least one is.  Setting again replaces the triggers.  now: when the
 * mark is set (no trigger is met before); renewals already due at now
 * are written then.
 */
QUOTA_API int quota_renewal_set(quota_account *a, const quota_offer *offer,
				int64_t units_left_at_most,
				int64_t expires_within_s, int64_t now);
/* Remove the mark: nothing more is renewed (QUOTA_ENOTFOUND if none). */
QUOTA_API int quota_renewal_clear(quota_account *a, const quota_offer *offer,
				  int64_t now);
/* The triggers of offer's mark on a; QUOTA_ENOTFOUND if not marked. */
QUOTA_API int quota_renewal_get(const quota_account *a,
				const quota_offer *offer,
				int64_t *units_left_at_most,
				int64_t *expires_within_s);

/* ---------------------------------------------------- settlement (R17) */

enum { QUOTA_LINE_USAGE = 0, QUOTA_LINE_FEE = 1 };

typedef struct quota_bill_line {
	uint32_t category;
	int32_t kind;              /* QUOTA_LINE_* */
	int32_t late;              /* 1: usage of an already settled period */
	int64_t units;             /* pay-as-you-go units (FEE: released) */
	int64_t receipts_micros;   /* sum of the receipts' costs */
	int64_t adjustment_micros; /* R14 volume-tier adjustment */
	int64_t amount_micros;     /* receipts + adjustment, exact */
	int64_t rounded_micros;    /* amount rounded to the minor unit */
} quota_bill_line;

enum { QUOTA_BILL_PAID = 0, QUOTA_BILL_OUTSTANDING = 1 };

typedef struct quota_bill {
	const quota_account *account;
	uint64_t seq;                /* 1, 2, ... per account */
	int64_t period_start, period_end; /* the settlement period */
	int32_t status;              /* QUOTA_BILL_* */
	uint32_t nlines;
	const quota_bill_line *lines; /* borrowed for the call */
	int64_t amount_micros;       /* sum of exact amounts */
	int64_t total_micros;        /* sum of rounded amounts: debited */
	int64_t balance_micros;      /* the balance after this bill */
	/* Appended for R24: what each bucket paid (PAID; 0 while
	 * OUTSTANDING).  gift + cash + credit = total; a credit (total < 0)
	 * is paid into cash (cash_micros < 0). */
	int64_t gift_micros, cash_micros, credit_micros;
} quota_bill;

/* Return 0; other values are counted (quota_ctx_hook_failures) and change
 * nothing: the settlement stands. */
typedef int (*quota_bill_fn)(const quota_bill *bill, void *ud);

/*
 * Close every complete settlement period (ending at or before now) not yet
 * settled, in order: one bill per period with pay-as-you-go usage, fees or
 * adjustments, a line per category; each bill is paid from the balance or,
 * if balance + credit limit cannot pay it, left outstanding and the
 * account suspended (R18).  on_bill (may be NULL) sees each bill.  Returns
 * the number of bills, or a negative QUOTA_E* code (nothing settled).
 */
QUOTA_API int64_t quota_settle(quota_account *a, int64_t now,
			       quota_bill_fn on_bill, void *ud);
/*
 * quota_settle for every account of the context, in quota_ctx_account_at
 * order (§7).  Returns the total number of bills, or a negative QUOTA_E*
 * code.  Without a store all or nothing: every account's settlement is
 * planned before any applies, and a refusal settles nothing.  With one,
 * each account's settlement is its own record, and the first the store
 * refuses stops the walk (accounts before it have settled; settle again:
 * they have nothing left to bill).  on_bill (may be NULL) sees every
 * bill; neither it nor the event hook may change the context.
 */
QUOTA_API int64_t quota_ctx_settle(quota_ctx *ctx, int64_t now,
				   quota_bill_fn on_bill, void *ud);

/* ------------------------------------------------ pruning (DESIGN 7) */

/* What quota_account_prune drops: ledger rows (the hourly usage reports
 * read), period counters (daily and monthly units and free units), and
 * volume-tier month totals of settled months (R14's running bills); ALL
 * is these three.  PACKAGES, asked for by name since it ends the life of
 * package handles: packages expired or exhausted before the horizon that
 * no remaining ledger row or open hold refers to. */
#define QUOTA_PRUNE_LEDGER UINT32_C(1)
#define QUOTA_PRUNE_COUNTERS UINT32_C(2)
#define QUOTA_PRUNE_BILLS UINT32_C(4)
#define QUOTA_PRUNE_ALL UINT32_C(7)
#define QUOTA_PRUNE_PACKAGES UINT32_C(8)

/*
 * Drop the parts (what, QUOTA_PRUNE_*) of a's history that lie before
 * `before`: ledger rows of hours ending at or before it, counters of days
 * and months ending at or before it, volume months ending at or before
 * it.  The cut actually used is the account's horizon: `before`, moved
 * back to the start of the first unsettled period, the earliest hour
 * with usage settlement has not taken in, the earliest open hold's usage
 * time and the account clock, whichever is earliest, so what settlement,
 * caps, free allowances and tiers still need is never dropped.  The
 * account remembers the latest horizon (quota_account_pruned_before);
 * reports and look-ups reaching before it, and charges, reservations and
 * reversals of usage before it, fail with QUOTA_EPRUNED.  With a store
 * set, pruning is a journaled operation like any other (take a snapshot
 * first if the dropped history must be kept); without one the call is
 * the host's explicit request.  QUOTA_OK also when nothing was left to
 * drop; QUOTA_EINVAL for a bad time or flags.  With QUOTA_PRUNE_PACKAGES
 * the packages dropped are freed and the rest renumbered
 * (quota_account_package_at); quota_account_prune(3) has the rules.
 */
QUOTA_API int quota_account_prune(quota_account *a, int64_t before,
				  uint32_t what);
/* The account's horizon: data before it has been pruned (INT64_MIN:
 * nothing was). */
QUOTA_API int64_t quota_account_pruned_before(const quota_account *a);
/*
 * Retention: after each settlement (quota_settle, and quota_ctx_settle
 * for every account, whether or not it had periods to close), prune what
 * (QUOTA_PRUNE_*) older than the end of the settled periods less
 * `seconds`, as quota_account_prune does, in its own record.  seconds 0 turns it off (the default); what 0 with seconds > 0
 * is QUOTA_EINVAL.  A prune the store or memory refuses leaves the
 * settlement standing and the data for the next settlement to prune.
 */
QUOTA_API int quota_account_set_retention(quota_account *a, int64_t seconds,
					  uint32_t what);

/* -------------------------------------------------------- reports (R22) */

/* One report row: units of one source in one period and category. */
typedef struct quota_report_row {
	const quota_account *account;
	int32_t period;          /* QUOTA_PERIOD_HOUR / DAY / MONTH */
	int64_t start, end;      /* the period, Unix seconds */
	uint32_t category;
	int32_t source;          /* QUOTA_SOURCE_* */
	const quota_package *package; /* PACKAGE: the package, else NULL */
	int64_t units;
	int64_t cost_micros;     /* PAYG: receipts' cost; FEE: the fees */
} quota_report_row;

typedef int (*quota_report_fn)(const quota_report_row *row, void *ud);
/* A writer for CSV output: return 0, or non-zero to stop (QUOTA_ESTORE). */
typedef int (*quota_write_fn)(const char *buf, size_t len, void *ud);

/*
 * Usage of the account in [from, to) by period, category and source, rows
 * in order of period, category, source (free, packages in the order
 * added, pay-as-you-go, fees).  Units are what was charged (commits,
 * charges) less reversals.  A callback returning non-zero stops the
 * report with QUOTA_ESTORE.
 */
QUOTA_API int quota_report(const quota_account *a, int period, int64_t from,
			   int64_t to, quota_report_fn fn, void *ud);
/* The same rows as CSV with a header row; columns in quota_report(3). */
QUOTA_API int quota_report_csv(const quota_account *a, int period,
			       int64_t from, int64_t to, quota_write_fn write,
			       void *ud);
QUOTA_API int quota_report_csv_file(const quota_account *a, int period,
				    int64_t from, int64_t to, FILE *f);

/* ------------------------------------------------------ Snapshots (§5) */

/*
 * Encode the whole state of an account (packages, counters, ledger, open
 * holds, key window, money, bills outstanding, alerts, clock, sequence
 * number) into one blob, the format of quota_account_snapshot(3).  The
 * bytes depend only on that state, so two accounts in the same state
 * give equal snapshots.  *out is allocated through the context's
 * allocator and freed with quota_free(); on failure *out is NULL and
 * *len 0.  The account is not changed.
 */
QUOTA_API int quota_account_snapshot(const quota_account *a, void **out,
				     size_t *len);
/* Free memory the library handed out (a snapshot).  NULL is accepted. */
QUOTA_API void quota_free(quota_ctx *ctx, void *p);
/*
 * Create an account in ctx from a snapshot.  The categories and tariffs
 * it names must exist in ctx (QUOTA_ENOTFOUND); QUOTA_EEXISTS if ctx has
 * an account of its id; QUOTA_ECORRUPT for a malformed, truncated or
 * inconsistent snapshot; QUOTA_EVERSION for a newer major format.  *out
 * is borrowed (owned by ctx), NULL on failure, when ctx is unchanged.
 */
QUOTA_API int quota_account_load(quota_ctx *ctx, const void *snap, size_t len,
				 quota_account **out);
/*
 * Replace the state of a with a snapshot of the same account id
 * (QUOTA_EINVAL otherwise), in place: the handle a stays valid, handles
 * of its packages do not.  Clears the unsynchronised mark.  All or
 * nothing: on failure a is unchanged.  snap NULL with len 0: back to the
 * state before the account's first record (sequence number 0), for a
 * store that keeps no snapshot of it; its records are applied from 1.
 */
QUOTA_API int quota_account_reset(quota_account *a, const void *snap,
				  size_t len);

/* ------------------------------------------------------------------- SMS */

enum { QUOTA_SMS_GSM7 = 0, QUOTA_SMS_UCS2 = 1 };

#define QUOTA_SMS_CN UINT32_C(0x1)                /* China carrier counting */
#define QUOTA_SMS_FORCE_UCS2 UINT32_C(0x2)        /* never GSM 7-bit */
#define QUOTA_SMS_SPLIT_CODEPOINTS UINT32_C(0x4)  /* ignore grapheme clusters */
#define QUOTA_SMS_SHIFT_TABLES UINT32_C(0x8)      /* 23.038 national tables */

#define QUOTA_SMS_OPTS_VERSION 1
typedef struct quota_sms_opts {
	unsigned version;      /* QUOTA_SMS_OPTS_VERSION */
	uint32_t flags;        /* QUOTA_SMS_* */
	const char *signature; /* QUOTA_SMS_CN: e.g. "【华为云】", or NULL */
	uint32_t max_segments; /* 0 = no limit, else QUOTA_ETOOLONG beyond */
	size_t *segment_offsets;      /* optional out: byte offset of each */
	size_t segment_offsets_cap;   /* segment's start, up to this many */
	uint32_t max_units;    /* 0 = no limit, else QUOTA_ETOOLONG beyond
				  (e.g. 500 characters in QUOTA_SMS_CN) */
} quota_sms_opts;
#define QUOTA_SMS_OPTS_INIT {QUOTA_SMS_OPTS_VERSION, 0, NULL, 0, NULL, 0, 0}

typedef struct quota_sms_info {
	int encoding;        /* QUOTA_SMS_GSM7 or QUOTA_SMS_UCS2 */
	int64_t units;       /* septets (GSM7) or UTF-16 code units (UCS2) */
	int64_t segments;    /* >= 1 */
	size_t error_offset; /* QUOTA_EENCODING: offset of the bad byte */
	uint32_t shift_locking; /* shift tables used (0 = none) */
	uint32_t shift_single;
} quota_sms_info;

/* Count the segments of an SMS text (DESIGN.md §3).  opts may be NULL. */
QUOTA_API int quota_sms_count(const char *utf8, size_t len,
			      const quota_sms_opts *opts, quota_sms_info *info);

/*
 * Count a text's segments, then charge them as usage.units in one call; a
 * text that cannot be counted charges nothing.  info may be NULL.
 */
QUOTA_API int quota_charge_sms(quota_account *a, uint32_t category,
			       const char *utf8, size_t len,
			       const quota_sms_opts *opts, int64_t at,
			       const char *key, quota_receipt *receipt,
			       quota_sms_info *info);

/* ------------------------------------------------ journal (§5) */

/*
 * Records (quota_journal(5)) are what a context hands its store
 * (quota_store.h): one per state change.  quota_journal_apply applies one
 * to ctx, creating the account on its first record; a record out of its
 * stream's sequence gets QUOTA_ESEQUENCE, a corrupt one QUOTA_ECORRUPT, a
 * newer format QUOTA_EVERSION.  QUOTA_JOURNAL_CHECK also plans the call
 * again from its inputs and refuses (QUOTA_ECORRUPT) a record whose
 * effects differ.  Replay fires no events and writes no records.
 */
#define QUOTA_JOURNAL_CHECK 1u
#define QUOTA_JOURNAL_RECORD_MAX (UINT32_C(1) << 30)
QUOTA_API int quota_journal_apply(quota_ctx *ctx, const void *rec, size_t len,
				  uint32_t flags);
/*
 * Where the streams stand (§6): the sequence number of the last record
 * account a wrote or applied (0 before its first), and of the context's
 * configuration stream.  A store that catches up applies the records
 * after it.  quota_account_unsynced is 1 while a waits to be
 * re-synchronised (its changes are refused with QUOTA_EUNSYNCED), else 0.
 */
QUOTA_API uint64_t quota_account_seq(const quota_account *a);
QUOTA_API int quota_account_unsynced(const quota_account *a);
QUOTA_API uint64_t quota_ctx_config_seq(const quota_ctx *ctx);
/* The configuration changes (categories, tariffs and their settings,
 * offers, zones) the context's calls made while it had no store: in no
 * journal, so a store set afterwards cannot rebuild them (0: all of the
 * context's configuration came through a store or from its records).
 * The SQLite and PostgreSQL stores refuse a context where it is not 0. */
QUOTA_API uint64_t quota_ctx_config_unstored(const quota_ctx *ctx);
/* The whole size of the record that starts at rec (its frame says it),
 * given avail bytes there: QUOTA_ECORRUPT if they do not hold all of it. */
QUOTA_API int quota_journal_size(const void *rec, size_t avail, size_t *size);
/*
 * For stores reading back what they hold: check a record (or a snapshot)
 * as quota_journal_apply (quota_account_load) checks it first - frame,
 * CRC-32C, format version, header - without applying it.  On QUOTA_OK,
 * id (room for QUOTA_ID_MAX + 1 bytes) holds its stream's account id (""
 * for the configuration stream) and *seq its sequence number.
 * QUOTA_ECORRUPT, QUOTA_EVERSION (newer format) or QUOTA_EINVAL (a NULL
 * argument), worded on ctx if it is not NULL.
 */
QUOTA_API int quota_journal_peek(quota_ctx *ctx, const void *rec, size_t len,
				 char *id, uint64_t *seq);
QUOTA_API int quota_snapshot_peek(quota_ctx *ctx, const void *snap,
				  size_t len, char *id, uint64_t *seq);

/* ------------------------------------------------- batches (§5) */

/* What one operation of a batch is. */
enum {
	QUOTA_OP_CHARGE = 1,     /* quota_charge(account, &usage) */
	QUOTA_OP_CHARGE_SMS = 2, /* quota_charge_sms: usage.category, .at,
				    .key; text, text_len, sms_opts */
	QUOTA_OP_RESERVE = 3,    /* quota_reserve(account, &usage, timeout_s):
				    hold_id is set */
	QUOTA_OP_COMMIT = 4,     /* quota_commit(account, hold_id, units_used,
				    key) */
	QUOTA_OP_RELEASE = 5     /* quota_release(account, hold_id, key) */
};

typedef struct quota_op {
	int32_t kind;           /* QUOTA_OP_* */
	quota_account *account; /* of the batch's context */
	quota_usage usage;      /* CHARGE, CHARGE_SMS, RESERVE */
	int64_t timeout_s;      /* RESERVE */
	uint64_t hold_id;       /* COMMIT, RELEASE; RESERVE: out */
	int64_t units_used;     /* COMMIT */
	const char *key;        /* COMMIT, RELEASE */
	const char *text;       /* CHARGE_SMS: UTF-8 text */
	size_t text_len;
	const quota_sms_opts *sms_opts; /* CHARGE_SMS, or NULL */
	int32_t rc;             /* out: the operation's result */
	quota_receipt receipt;  /* out: its receipt */
} quota_op;

/*
 * Run n operations in order, each with its own result (ops[i].rc) and
 * receipt, in one store transaction when the store has begin and commit
 * (quota_store.h): their records are committed together, and their
 * events fire after the commit.  QUOTA_OK: every operation whose rc is
 * QUOTA_OK stands.  If the commit fails, none does: those rc become
 * QUOTA_ESTORE (the accounts are as before the batch) or QUOTA_EUNKNOWN
 * (the accounts are unsynced: re-synchronise them), and so does the
 * return value.  QUOTA_EINVAL (nothing run) for an operation without an
 * account of ctx or of an unknown kind; QUOTA_ENOMEM before anything ran.
 * Without such a store the operations simply run one after another.
 */
QUOTA_API int quota_batch(quota_ctx *ctx, quota_op *ops, size_t n);
/*
 * Run one operation through its own call (quota_charge, quota_reserve,
 * ...) with its receipt and hold id in op, as quota_batch runs each of
 * its operations, without a transaction: returns its result (QUOTA_EINVAL
 * for an unknown kind).  op->account must not be NULL.
 */
QUOTA_API int quota_op_run(quota_op *op);

#ifdef __cplusplus
}
#endif

#endif /* QUOTA_H */
