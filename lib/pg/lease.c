/*
 * lease.c - leases on hot accounts (DESIGN §6; quota_pg(3), LEASES).
 *
 * A lease is a hold (R10) on the shared account, written to the server's
 * journal like any reservation: the units it holds are taken from their
 * sources, count against caps and show in quota_account_held, so a
 * prepaid account is never overspent and what a lease strands is visible.
 * The node then counts charges against the hold in memory - no store
 * call, no allocation - and makes them durable in batches: a flush is one
 * transaction (quota_pg_run) of two operations, the commit of the part
 * used and a new hold of the lease's size.  A charge is acknowledged once
 * a flush or the end after it returned QUOTA_OK; a node that dies loses
 * only what it never acknowledged, and its hold expires on the server.
 *
 * Both operations carry idempotency keys (R11), so that a flush retried
 * after an unknown outcome (QUOTA_EUNKNOWN) replays what the server
 * stored instead of doing it twice: the commit's key names the hold, the
 * new hold's key is drawn once per flush and kept until the flush ends.
 *
 * This file writes nothing but through quota_pg_run; the adapter
 * (quota_pg.c) owns the connections and the retry on conflicts.
 */
#define _POSIX_C_SOURCE 200809L
#include "quota_pg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quota_store.h"

struct quota_pg_lease {
	quota_pg *pg;
	quota_account *a;
	uint32_t category;
	int64_t want;      /* the size asked for at take */
	int64_t timeout_s;
	uint64_t hold_id;  /* 0: spent (no hold) */
	int64_t size;      /* units the hold holds */
	int64_t pending;   /* counted since the last flush */
	int inflight;      /* a flush or end whose outcome is not known */
	int64_t in_units;  /* what that flush commits */
	int64_t in_at;     /* and when: a retry repeats the same inputs */
	uint64_t draws;    /* keys drawn (draw_key) */
	char commit_key[48];
	char hold_key[48];
};

/* A key no other node draws: the process, the clock, the lease and its
 * own count (no state shared between leases: threads may each have
 * theirs).  Used for the new hold of a flush, kept until it is known. */
static void draw_key(quota_pg_lease *l, char *buf, size_t n)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 40;
	x ^= (uint64_t)(uintptr_t)l;
	snprintf(buf, n, "lease-%016llx-%llu", (unsigned long long)x,
		 (unsigned long long)++l->draws);
}

static void commit_key(quota_pg_lease *l)
{
	snprintf(l->commit_key, sizeof l->commit_key, "lease-commit-%llu",
		 (unsigned long long)l->hold_id);
}

/* The operations of a lease: a new hold, and the commit of the part of
 * the hold used (a retry after an unknown outcome sends the same figure
 * under the same key). */
static void hold_op(const quota_pg_lease *l, quota_op *op, int64_t units,
		    int64_t at, const char *key)
{
	memset(op, 0, sizeof *op);
	op->kind = QUOTA_OP_RESERVE;
	op->account = l->a;
	op->usage.category = l->category;
	op->usage.units = units;
	op->usage.at = at;
	op->usage.key = key;
	op->timeout_s = l->timeout_s;
}

static void commit_op(const quota_pg_lease *l, quota_op *op)
{
	memset(op, 0, sizeof *op);
	op->kind = QUOTA_OP_COMMIT;
	op->account = l->a;
	op->hold_id = l->hold_id;
	op->units_used = l->in_units;
	op->key = l->commit_key;
}

/*
 * Reserve up to *units at `at` under key: what the account has left if it
 * has fewer (prepaid, overage STOP: QUOTA_EEXHAUSTED for the whole);
 * *units ends as the figure last asked for (a retry under the same key
 * must ask the same).  On success the hold is the lease's (hold_id,
 * size).
 */
static int reserve(quota_pg_lease *l, int64_t *units, int64_t at,
		   const char *key)
{
	quota_op op;
	int rc, tries;

	for (tries = 0; tries < 4 && *units > 0; tries++) {
		hold_op(l, &op, *units, at, key);
		if ((rc = quota_pg_run(l->pg, &op, 1)) != QUOTA_OK)
			return rc;
		if (op.rc == QUOTA_OK) {
			l->hold_id = op.hold_id;
			l->size = op.receipt.units;
			return QUOTA_OK;
		}
		if (op.rc != QUOTA_EEXHAUSTED)
			return op.rc;
		/* Fewer units than asked: hold what there is, as the
		 * server has it now (another node may have given some
		 * back), and try again with that figure. */
		if ((rc = quota_pg_sync(l->pg, l->a)) != QUOTA_OK)
			return rc;
		*units = quota_account_remaining(l->a, l->category, at);
	}
	return QUOTA_EEXHAUSTED;
}

/*
 * reserve, and after an unknown outcome (the hold may be on the server
 * under its key) catch the account up and ask again under the same key
 * and figure: a hold that was stored is replayed (R11) and becomes the
 * lease's, instead of staying held, unused, until its deadline while the
 * host takes another.  Up to four times; a catch-up that fails returns
 * its error, and the hold, if stored, expires.  (The replay by key is
 * the core's: check_store_answers'
 * test_s5_unknown_reservation_retried_under_its_key_replays.)
 */
static int reserve_known(quota_pg_lease *l, int64_t units, int64_t at,
			 const char *key)
{
	int rc = reserve(l, &units, at, key);

	for (int i = 0; rc == QUOTA_EUNKNOWN && i < 4; i++) {
		if ((rc = quota_pg_sync(l->pg, l->a)) != QUOTA_OK)
			return rc;
		rc = reserve(l, &units, at, key);
	}
	return rc;
}

int quota_pg_lease_take(quota_pg *pg, quota_account *a, uint32_t category,
			int64_t units, int64_t at, int64_t timeout_s,
			quota_pg_lease **out)
{
	quota_pg_lease *l;
	int rc;

	if (out)
		*out = NULL;
	if (!pg || !a || !out || units <= 0 || timeout_s <= 0)
		return quota_ctx_set_error(a ? quota_account_ctx(a) : NULL,
					   QUOTA_EINVAL,
					   "quota_pg_lease_take: no handle, "
					   "account or out, or units or "
					   "timeout_s <= 0");
	if (!(l = calloc(1, sizeof *l)))
		return quota_ctx_set_error(quota_account_ctx(a), QUOTA_ENOMEM,
					   "quota_pg_lease_take: out of memory");
	l->pg = pg;
	l->a = a;
	l->category = category;
	l->want = units;
	l->timeout_s = timeout_s;
	draw_key(l, l->hold_key, sizeof l->hold_key);
	rc = reserve_known(l, units, at, l->hold_key);
	if (rc != QUOTA_OK) {
		free(l);
		return rc;
	}
	commit_key(l);
	draw_key(l, l->hold_key, sizeof l->hold_key); /* the next flush's */
	*out = l;
	return QUOTA_OK;
}

/* The hot path: a comparison and an add. */
int quota_pg_lease_charge(quota_pg_lease *l, int64_t units)
{
	if (!l || units <= 0)
		return QUOTA_EINVAL;
	if (l->inflight || units > l->size - l->pending)
		return QUOTA_EEXHAUSTED;
	l->pending += units;
	return QUOTA_OK;
}

/* After the hold went (committed or expired): the next one, of the size
 * asked at take or what the account has left, under a new key.  The
 * store's own failure counts as none taken: a later flush tries again. */
static int refill(quota_pg_lease *l, int64_t now)
{
	int rc;

	l->hold_id = 0;
	l->size = 0;
	draw_key(l, l->hold_key, sizeof l->hold_key);
	rc = reserve_known(l, l->want, now, l->hold_key);
	draw_key(l, l->hold_key, sizeof l->hold_key);
	if (rc != QUOTA_OK)
		return QUOTA_EEXHAUSTED;
	commit_key(l);
	return QUOTA_OK;
}

/* The new hold of a flush went through: the lease's hold from now on. */
static void adopt(quota_pg_lease *l, const quota_op *op)
{
	l->hold_id = op->hold_id;
	l->size = op->receipt.units;
	commit_key(l);
	draw_key(l, l->hold_key, sizeof l->hold_key);
}

int quota_pg_lease_flush(quota_pg_lease *l, int64_t now)
{
	quota_op ops[2];
	int rc;

	if (!l)
		return QUOTA_EINVAL;
	if (!l->hold_id) /* spent: nothing counted, try for a new hold */
		return l->pending ? QUOTA_EINVAL : refill(l, now);
	if (!l->inflight) {
		l->inflight = 1;
		l->in_units = l->pending;
		l->in_at = now;
	}
	/* One transaction: the used part and the next hold (§5 group
	 * commit: two records, one round trip of the server's fsync). */
	commit_op(l, &ops[0]);
	hold_op(l, &ops[1], l->want, l->in_at, l->hold_key);
	if ((rc = quota_pg_run(l->pg, ops, 2)) != QUOTA_OK)
		return rc; /* nothing known stored: retry the same flush */
	if (ops[0].rc != QUOTA_OK && ops[0].rc != QUOTA_ERESOLVED)
		return ops[0].rc; /* refused as it stood: nothing changed */
	/* Committed (those charges are acknowledged), or the hold had
	 * expired (QUOTA_ERESOLVED: those counts are not charged).  Either
	 * way they are done, and the lease goes on with the new hold. */
	rc = ops[0].rc;
	l->pending -= l->in_units;
	l->inflight = 0;
	l->in_units = 0;
	if (ops[1].rc == QUOTA_OK) {
		adopt(l, &ops[1]);
		return rc;
	}
	if (refill(l, now) != QUOTA_OK && rc == QUOTA_OK)
		rc = QUOTA_EEXHAUSTED;
	return rc;
}

int quota_pg_lease_end(quota_pg_lease *l, int64_t now)
{
	quota_op op;
	int rc;

	(void)now; /* the commit is dated at the hold's time (R10) */
	if (!l)
		return QUOTA_OK;
	if (!l->hold_id) {
		free(l);
		return QUOTA_OK;
	}
	if (!l->inflight) {
		l->inflight = 1;
		l->in_units = l->pending;
	}
	commit_op(l, &op);
	if ((rc = quota_pg_run(l->pg, &op, 1)) != QUOTA_OK ||
	    op.rc == QUOTA_ECONFLICT)
		return rc ? rc : op.rc; /* the store failed: l stays */
	/* Not for the store to decide again (expired: QUOTA_ERESOLVED, or
	 * any refusal): the lease is over either way. */
	free(l);
	return op.rc;
}

int64_t quota_pg_lease_size(const quota_pg_lease *l)
{
	return l ? l->size : 0;
}

int64_t quota_pg_lease_pending(const quota_pg_lease *l)
{
	return l ? l->pending : 0;
}

int64_t quota_pg_lease_left(const quota_pg_lease *l)
{
	return l && !l->inflight ? l->size - l->pending : 0;
}
