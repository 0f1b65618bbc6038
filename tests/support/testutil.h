/*
 * testutil.h - helpers shared by every Check test of libquota.
 *
 *   - a counting allocator for quota_ctx_new_with() that can fail the Nth
 *     allocation (or every allocation from the Nth on) and counts live
 *     blocks and bytes, for fault injection and leak checks (STYLE 19);
 *   - UTC calendar helpers written here (civil-from-days), independent of
 *     the library's own calendar;
 *   - snapshots of an account's observable state, to assert "nothing
 *     changed" after every failed call (R8).
 */
#ifndef QUOTA_TESTUTIL_H
#define QUOTA_TESTUTIL_H

#include "quota.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ allocator */

typedef struct tu_alloc {
	quota_allocator a; /* hand &a to quota_ctx_new_with(); ud = this */
	long attempts;     /* allocation attempts (malloc + realloc) so far */
	long fail_at;      /* attempt number (1-based) that fails; 0 = none */
	int fail_rest;     /* nonzero: every attempt >= fail_at fails */
	long failures;     /* attempts refused so far */
	long live_blocks;  /* blocks allocated and not yet freed */
	size_t live_bytes;
	size_t peak_bytes;
	long bad_frees; /* free/realloc of a pointer we did not hand out */
	/* nonzero: new bytes (from malloc, and past the old size from
	 * realloc) are 0xBE, as ASan fills them, so that state the library
	 * leaves unset reads as a large negative number, not as the zero
	 * fresh pages hold */
	int fill;
} tu_alloc;

void tu_alloc_init(tu_alloc *t);
/* Fail the attempt that comes n attempts from now (n >= 1); 0 disarms. */
void tu_alloc_fail_in(tu_alloc *t, long n);
/* Fail every attempt from now on (until tu_alloc_disarm). */
void tu_alloc_fail_all(tu_alloc *t);
void tu_alloc_disarm(tu_alloc *t);
/* A test that writes an account's private state directly (no record says
 * so): its context is not replayed when journaled (journal_wrap.c). */
void tu_journal_skip(quota_ctx *ctx);
/* The counting allocator behind a, or NULL if a is not one. */
tu_alloc *tu_alloc_of(const quota_allocator *a);

/* ------------------------------------------------------------- calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t tu_days_from_civil(int64_t y, int m, int d);
/* Inverse of tu_days_from_civil. */
void tu_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* Unix seconds of y-mo-d h:mi:s UTC. */
int64_t tu_utc(int y, int mo, int d, int h, int mi, int s);
/* R26: a TZif version 2 file (RFC 8536) with one local time type of utoff
 * seconds ("CET") and no transitions, whose footer (the POSIX TZ rule,
 * e.g. TU_BERLIN_RULE) is its rule; written to b (room: 120 bytes and the
 * footer), its length returned. */
size_t tu_tzif_rule(uint8_t *b, int32_t utoff, const char *footer);
#define TU_BERLIN_RULE "CET-1CEST,M3.5.0,M10.5.0/3"
/* floor((at + off) / 86400): the calendar day of at in UTC offset off. */
int64_t tu_day_index(int64_t at, int32_t off);
/* year * 12 + (month - 1) of at in UTC offset off. */
int64_t tu_month_index(int64_t at, int32_t off);

#define TU_DAY INT64_C(86400)
#define TU_HOUR INT64_C(3600)

/* ------------------------------------------------------------ snapshots */

#define TU_SNAP_MAXPK 256
#define TU_SNAP_MAXT 4

/*
 * What can be observed of one account at a few times: for every package,
 * remaining and status; for every category (and QUOTA_ALL for used),
 * quota_account_remaining, quota_account_used DAY/MONTH and
 * quota_account_free_used.  Also the context's category count, the
 * units held per category and QUOTA_ALL and the number of open holds (R10),
 * and the account's money (R17-R19).
 */
typedef struct tu_snap {
	int ntimes;
	int64_t times[TU_SNAP_MAXT];
	uint32_t ncat;
	uint32_t npk;
	int64_t pk_remaining[TU_SNAP_MAXPK];
	int pk_status[TU_SNAP_MAXPK][TU_SNAP_MAXT];
	int64_t remaining[QUOTA_MAX_CATEGORIES][TU_SNAP_MAXT];
	int64_t free_used[QUOTA_MAX_CATEGORIES][TU_SNAP_MAXT];
	/* index QUOTA_MAX_CATEGORIES is QUOTA_ALL */
	int64_t used_day[QUOTA_MAX_CATEGORIES + 1][TU_SNAP_MAXT];
	int64_t used_month[QUOTA_MAX_CATEGORIES + 1][TU_SNAP_MAXT];
	/* R10: quota_account_held per category (index QUOTA_MAX_CATEGORIES:
	 * QUOTA_ALL) and quota_account_hold_count. */
	int64_t held[QUOTA_MAX_CATEGORIES + 1];
	uint32_t nholds;
	/* R17-R19: quota_account_money. */
	quota_money money;
} tu_snap;

/* Capture a's state at times[0..ntimes) (ntimes <= TU_SNAP_MAXT). */
void tu_snap_take(tu_snap *s, const quota_account *a, const int64_t *times,
		  int ntimes);
/* Same, at one time. */
void tu_snap_take1(tu_snap *s, const quota_account *a, int64_t t);
/*
 * 1 if equal; else 0 and a description of the first difference in
 * diff[0..n).
 */
int tu_snap_equal(const tu_snap *x, const tu_snap *y, char *diff, size_t n);

/* Assert that two snapshots are equal (inside a Check test). */
#define TU_ASSERT_SNAP_EQ(x, y)                                            \
	do {                                                                \
		char tu_diff_[256];                                         \
		int tu_eq_ = tu_snap_equal((x), (y), tu_diff_,              \
					   sizeof tu_diff_);                \
		ck_assert_msg(tu_eq_, "state changed: %s", tu_diff_);       \
	} while (0)

/* Assert that a receipt is all zero (what a failed charge leaves), the
 * R10-R12 fields (kind, replayed, hold_id, fee, forfeited) included. */
int tu_receipt_is_zero(const quota_receipt *r);

/* ------------------------------------------------------------------ misc */

/* Deterministic PRNG (splitmix64 seeded xorshift64*). */
typedef struct tu_rng {
	uint64_t s;
} tu_rng;
void tu_rng_seed(tu_rng *r, uint64_t seed);
uint64_t tu_rng_next(tu_rng *r);
/* Uniform in [lo, hi] (inclusive); hi >= lo. */
int64_t tu_rng_range(tu_rng *r, int64_t lo, int64_t hi);
/* 1 with probability num/den. */
int tu_rng_chance(tu_rng *r, unsigned num, unsigned den);

/* Nonzero when QUOTA_TEST_QUICK=1 is set (valgrind runs). */
int tu_quick(void);
/*
 * With QUOTA_TEST_EXACT set (make check-asan and check-asan-simd set it),
 * s's n bytes in a heap block of exactly n bytes (1 for n == 0), so that
 * a read past them is out of the block and ASan reports it, where a
 * static or stack buffer would hide it; else s itself.  NULL stays NULL.
 * One block per length up to TU_EXACT_MAX, made once, refilled each call
 * and kept until the process ends: valgrind runs the SMS tests on
 * millions of texts, and a malloc each made that run four times longer.
 * Aborts the test beyond TU_EXACT_MAX.
 */
#define TU_EXACT_MAX 8192
const void *tu_exact(const void *s, size_t n);

/* The library's own snapshot (lib/snapshot.h), which also takes an
 * account waiting to be re-synchronised, where quota_account_snapshot
 * refuses it (QUOTA_EUNSYNCED): for tests that check such an account is
 * unchanged.  Linked from libquota.a. */
int quota__snapshot(const quota_account *a, void **out, size_t *len);

/*
 * Cut a snapshot back to an older minor of its format (§5: an older
 * writer's snapshot must still load).  Each minor appends its section
 * last, so for an account that uses none of the features of the minors
 * after `to` their sections have a known size (tu_snap_cut knows them):
 * drops them, writes minor `to`, the length and the CRC.  p[5] is the
 * snapshot's minor.  `to` >= 2.
 */
void tu_snap_cut(uint8_t *p, size_t *n, int to);

/* ---------------------------------------------------------------- main */

struct Suite;
/* Run a Check suite; EXIT_SUCCESS when every test passed (every main). */
int tu_run(struct Suite *s);

/* expr (a libquota call) returns QUOTA_OK, else the test fails naming
 * the call, its code and ctx's last message (ctx may be NULL): the OK
 * macro of each test file or support header, written once. */
#define TU_OK(ctx, expr)                                                       \
	do {                                                                   \
		int rc_ = (int)(expr);                                         \
		ck_assert_msg(rc_ == QUOTA_OK, "%s: %s (%s)", #expr,           \
			      quota_err_name(rc_), quota_errmsg(ctx));         \
	} while (0)

#endif /* QUOTA_TESTUTIL_H */
