/*
 * quota_pg.h - libquota's PostgreSQL store (libquota-pg; DESIGN §5, §6).
 *
 * Several gateway processes, on several machines, share accounts through
 * PostgreSQL.  The journal on the server is the truth and each process's
 * in-memory account a cache of it: records are keyed (account, sequence
 * number), and the server takes a record only at the next number of its
 * account, so of two nodes writing the same number one gets
 * QUOTA_ECONFLICT, catches up (quota_pg_sync) and retries - optimistic
 * concurrency on the account's version.  quota_pg_run does that loop.
 * Idempotency keys are account state, so a retry that lands on another
 * node replays the original receipt.
 *
 * A hot account shared by many nodes would serialise on its version; a
 * node takes a lease on it instead (quota_pg_lease_take): a hold of some
 * units recorded in the shared journal, charged locally at in-memory
 * speed, made durable in batches (quota_pg_lease_flush) and ended with the
 * used part committed and the rest released.
 *
 * A separate library: link with `pkg-config --libs libquota-pg`.  The core
 * (libquota) depends on libc alone.  See quota_pg(3).
 */
#ifndef QUOTA_PG_H
#define QUOTA_PG_H

#include "quota.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct quota_pg quota_pg;
typedef struct quota_pg_lease quota_pg_lease;

#define QUOTA_PG_OPTIONS_VERSION 1

typedef struct quota_pg_options {
	unsigned version; /* QUOTA_PG_OPTIONS_VERSION */
	size_t size;      /* sizeof(quota_pg_options) */
	/*
	 * Shards (§6): nshards libpq connection strings, one per server.
	 * An account lives on the shard shard_of(id, nshards, shard_ud)
	 * returns (< nshards); NULL: the default rule, FNV-1a (64-bit) of
	 * the id's bytes modulo nshards.  The configuration stream lives on
	 * shard 0.  Every node must use the same list, in the same order,
	 * and the same rule.  nshards 0: the conninfo of quota_pg_open_with
	 * is the one server.
	 */
	const char *const *shards;
	uint32_t nshards;
	uint32_t (*shard_of)(const char *id, uint32_t nshards, void *ud);
	void *shard_ud;
	/* How many times quota_pg_run and the lease calls catch up and
	 * retry an operation refused with QUOTA_ECONFLICT (>= 1). */
	int attempts;
} quota_pg_options;

#define QUOTA_PG_OPTIONS_INIT                                                \
	{QUOTA_PG_OPTIONS_VERSION, sizeof(quota_pg_options), NULL, 0, NULL,   \
	 NULL, 16}

/*
 * Connect to the server of conninfo (a libpq connection string), create
 * the schema on first use (versioned; QUOTA_EVERSION for a newer one),
 * read the configuration stream into ctx and set the server as ctx's
 * store (quota_store.h).  Accounts are not read here: each is loaded on
 * its first use (quota_pg_account).  ctx must be new: no categories,
 * accounts or configuration records (quota_ctx_config_seq 0), and no
 * configuration made without a store (quota_ctx_config_unstored 0), else
 * QUOTA_EINVAL before anything is connected: make the configuration after
 * the open.  On failure no store is set, *out is NULL and quota_errmsg(ctx) says why
 * (with the server's own message).
 */
QUOTA_API int quota_pg_open(quota_ctx *ctx, const char *conninfo,
			    quota_pg **out);
/* The same with options (NULL: the defaults).  With opts->shards,
 * conninfo must be NULL (QUOTA_EINVAL otherwise); every shard is
 * connected and gets the schema. */
QUOTA_API int quota_pg_open_with(quota_ctx *ctx, const char *conninfo,
				 const quota_pg_options *opts, quota_pg **out);

/* Remove the store from its context and close the connections.  NULL is
 * accepted.  End every lease first (quota_pg_lease_end): a lease of a
 * closed handle can no longer be used or ended, and its hold stays on the
 * server until a tick (quota_account_tick) passes its deadline. */
QUOTA_API void quota_pg_close(quota_pg *pg);

/*
 * The account of id: the context's copy, or, on first use, loaded from
 * its shard (latest snapshot and the records after it).  An account the
 * server does not hold: QUOTA_ENOTFOUND, or with create non-zero it is
 * created (quota_account_new); if another node created it first, it is
 * loaded.  *out is borrowed from the context.
 */
QUOTA_API int quota_pg_account(quota_pg *pg, const char *id, int create,
			       quota_account **out);

/*
 * Catch up: apply to a the records other nodes appended after
 * quota_account_seq(a).  An unsynced account (quota_account_unsynced), or
 * one whose next records a snapshot of another node has replaced, is
 * reset to the latest stored snapshot and re-read.  a NULL: the
 * configuration stream (which the accounts' records may name: sync it
 * first when another node changed the configuration).
 */
QUOTA_API int quota_pg_sync(quota_pg *pg, quota_account *a);

/*
 * Run ops as quota_batch(3) does, one transaction per shard the ops
 * touch (a shard's ops in their order); n == 1 writes without
 * BEGIN/COMMIT.  An operation refused with QUOTA_ECONFLICT (its account
 * was behind) or QUOTA_EUNSYNCED (its account waits for a resync), or
 * refused by the account's state (QUOTA_EEXHAUSTED, QUOTA_ECAP,
 * QUOTA_EFUNDS, QUOTA_ERESOLVED, QUOTA_ENOTFOUND) when the server holds
 * newer records of it, is run again, in a later transaction and in its
 * order, after quota_pg_sync of its account, up to the options'
 * attempts: a refusal is never based on a stale copy.  An operation whose
 * own outcome was unknown (QUOTA_EUNKNOWN) is not run again: its account
 * is unsynced, and the host decides - run it again with the same
 * idempotency key (R11) and it replays its receipt if it was stored.
 * Each op's rc and receipt say how it ended (QUOTA_ECONFLICT when the
 * attempts ran out).  Returns QUOTA_OK when every op has its own rc, the
 * first store failure (QUOTA_ESTORE, QUOTA_EUNKNOWN) otherwise, or
 * QUOTA_EINVAL (nothing run).
 */
QUOTA_API int quota_pg_run(quota_pg *pg, quota_op *ops, size_t n);

/*
 * Store a snapshot of a on its shard and delete the records it covers,
 * so that loading the account reads one snapshot and few records.  An
 * account quota_account_load brought in, whose stream the shard does not
 * hold, gets its head at the snapshot's number (0 too, for one from a
 * context without a store): store it so before its first write.
 * QUOTA_EUNSYNCED for an account waiting for a resync.
 */
QUOTA_API int quota_pg_snapshot(quota_pg *pg, quota_account *a);

/* ------------------------------------------------------ leases (§6) */

/*
 * Take a lease: a hold (quota_reserve, R10) of units of category on a,
 * written to the shared journal (caught up and retried on conflict, and
 * after an unknown outcome under the same key, which replays a hold that
 * was stored), expiring at at + timeout_s (released by the first
 * quota_account_tick past it, on any node).  Charges that fit are then counted by the node
 * alone (quota_pg_lease_charge).  If the account's packages have fewer
 * units than asked (overage STOP), the lease holds what there is
 * (quota_pg_lease_size), and QUOTA_EEXHAUSTED if none; with pay-as-you-go
 * overage the hold prices what the packages lack, like any reservation.
 * A cap the hold would pass refuses it whole (QUOTA_ECAP).  *out is freed
 * by quota_pg_lease_end.
 */
QUOTA_API int quota_pg_lease_take(quota_pg *pg, quota_account *a,
				  uint32_t category, int64_t units, int64_t at,
				  int64_t timeout_s, quota_pg_lease **out);
/*
 * Count units against the lease, in memory: no store call, no
 * allocation.  QUOTA_EEXHAUSTED (nothing counted) when they do not fit
 * what is left; the host flushes (quota_pg_lease_flush renews the hold)
 * or ends the lease.  A charge counted here is acknowledged - durable on
 * the server - once a quota_pg_lease_flush or quota_pg_lease_end after it
 * returned QUOTA_OK; a node that dies before loses only charges it never
 * acknowledged (their hold expires on the server and its units go back).
 */
QUOTA_API int quota_pg_lease_charge(quota_pg_lease *l, int64_t units);
/*
 * Make the charges counted so far durable: in one transaction, commit the
 * used part of the hold (quota_commit; the usage is dated at the hold's
 * time, not at each count) and take a new hold of the size asked at take
 * (or what the account has left), at now, with the same timeout.  Flush
 * before the hold's deadline.  QUOTA_EEXHAUSTED when the used part is
 * committed but no new hold could be taken: the lease is then spent
 * (left 0); a later flush tries for a new hold.  QUOTA_ERESOLVED: the
 * hold had expired, the counts since the last flush are not charged, and
 * the lease goes on with the new hold.  A store failure changes nothing
 * known: flush again (the same commit and hold, under the same keys).
 */
QUOTA_API int quota_pg_lease_flush(quota_pg_lease *l, int64_t now);
/*
 * End the lease: commit the used part, release the rest, free l.  On a
 * store failure l stays open (try again); QUOTA_OK or an ended hold
 * (QUOTA_ERESOLVED: it expired before: the used part could not be
 * committed, and the call says so) frees it.
 */
QUOTA_API int quota_pg_lease_end(quota_pg_lease *l, int64_t now);
/* Units the lease holds now (its hold), counted but not yet flushed, and
 * left to count; 0 for NULL. */
QUOTA_API int64_t quota_pg_lease_size(const quota_pg_lease *l);
QUOTA_API int64_t quota_pg_lease_pending(const quota_pg_lease *l);
QUOTA_API int64_t quota_pg_lease_left(const quota_pg_lease *l);

#ifdef __cplusplus
}
#endif

#endif /* QUOTA_PG_H */
