/*
 * snapshot.h - what the snapshot encoder (snapshot.c) and decoder
 * (snapshot_load.c) share: the header's layout and the ranges and key
 * layout of the values they check.  quota_account_snapshot(3) documents
 * the format.
 */
#ifndef QUOTA_SNAPSHOT_H
#define QUOTA_SNAPSHOT_H

#include "codec.h"
#include "ctx.h"

#define SNAP_MAJOR 1
#define SNAP_MINOR 5 /* 1: pruning (horizon, retention); 2: blocking
			and kept receipts (R25, R27); 3: R26 zone; 4: gift
			money (R24); 5: auto-renewal (R23) */
/* R23: the snapshot's minor-5 section (quota_account_snapshot(3)). */
void quota__renew_encode(quota__wbuf *w, const quota_account *a);
#define SNAP_HEAD 14 /* "QSNP", major, minor, u32 length, u32 CRC-32C */

/* Ranges of the periods any valid time falls in, in any UTC offset. */
#define OFF_MAX (18 * 3600)
#define DAY_MIN quota__floor_div(QUOTA_TIME_MIN - OFF_MAX, QUOTA__DAY)
#define DAY_MAX quota__floor_div(QUOTA_TIME_MAX + OFF_MAX, QUOTA__DAY)
/* Ledger hours: a zone's (day * 64 + n, ctx.h) reach further than an
 * offset's local hours; the calendar comes last, so both are taken. */
#define HOUR_MIN (DAY_MIN * QUOTA__ZONE_HOURS)
#define HOUR_MAX (DAY_MAX * QUOTA__ZONE_HOURS + QUOTA__ZONE_HOURS - 1)

static inline unsigned key_kind(uint64_t k)
{
	return (unsigned)(k >> 61);
}
static inline unsigned key_cat(uint64_t k)
{
	return (unsigned)(k >> 54) & 0x7F;
}
static inline int64_t key_period(uint64_t k)
{
	return (int64_t)(k & ((UINT64_C(1) << 54) - 1)) - (INT64_C(1) << 40);
}

/* quota_account_snapshot without its refusal of an unsynced account:
 * for tests that look at an account while it waits to be
 * re-synchronised.  (A batch's undo copy is quota__account_snapshot_state,
 * ctx.h, which does not refuse either.) */
int quota__snapshot(const quota_account *a, void **out, size_t *len);

#endif /* QUOTA_SNAPSHOT_H */
