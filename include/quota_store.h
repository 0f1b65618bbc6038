/*
 * quota_store.h - storage callbacks for libquota (DESIGN §5).
 *
 * For authors of storage backends: the stability promise here is weaker
 * than quota.h's (members are only ever appended; a new version number
 * says which are there).  See quota_store(3) and quota_journal(5).
 *
 * Every call that changes state goes one way: prepare (validate, plan,
 * allocate; change nothing) -> journal (one record handed to the store's
 * append) -> apply (cannot fail) -> events.  What append returns decides
 * what happens next:
 *
 *   QUOTA_OK         the record is stored (durable, or staged in a batch):
 *                    the call applies it and fires its events.
 *   QUOTA_ECONFLICT  the stream already holds that sequence number (another
 *                    writer): nothing changes; the call returns
 *                    QUOTA_ECONFLICT.  Load the newer records
 *                    (quota_journal_apply), then retry.
 *   QUOTA_EUNKNOWN   the store cannot tell whether the record was stored (a
 *                    lost connection during commit): the call returns
 *                    QUOTA_EUNKNOWN and the account refuses every further
 *                    change with QUOTA_EUNSYNCED until the host re-reads it
 *                    from the store (quota_account_reset, then
 *                    quota_journal_apply for the records after).
 *   anything else    nothing was stored: nothing changes and the call
 *                    returns QUOTA_ESTORE (quota_errmsg names the code).
 *
 * The callbacks run inside the library's calls (append between a call's
 * plan and its apply, begin and commit inside quota_batch): none may call
 * the library on the same context.
 */
#ifndef QUOTA_STORE_H
#define QUOTA_STORE_H

#include "quota.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QUOTA_STORE_VERSION 2

typedef struct quota_store {
	unsigned version; /* QUOTA_STORE_VERSION (2) */
	size_t size;      /* sizeof(quota_store) as the host compiled it */
	void *ud;         /* handed to every callback */
	/*
	 * Required.  Store one record (quota_journal(5)) of a stream:
	 * account is the account's id, or NULL for the context's
	 * configuration stream (categories, tariffs, offers); seq is the
	 * record's sequence number in that stream (1, 2, ...; a store that
	 * keys records by (account, seq) detects two writers).  rec is
	 * borrowed for the call.
	 */
	int (*append)(void *ud, const char *account, uint64_t seq,
		      const void *rec, size_t len);
	/*
	 * Optional (both or neither): a batch (quota_batch(3)).  begin opens
	 * one transaction for the records appended until commit; commit
	 * returns QUOTA_OK, QUOTA_EUNKNOWN, or any other code when nothing
	 * of the batch was stored.
	 */
	int (*begin)(void *ud);
	int (*commit)(void *ud);
	/*
	 * Version 2.  Optional: the store's own words for its last failure
	 * (a database's message), read right after a callback returned
	 * anything but QUOTA_OK and added to quota_errmsg.  NULL or "" adds
	 * nothing.
	 */
	const char *(*errmsg)(void *ud);
} quota_store;

#define QUOTA_STORE_INIT {QUOTA_STORE_VERSION, sizeof(quota_store), NULL, \
			  NULL, NULL, NULL, NULL}

/*
 * Set (or, with NULL, remove) the context's store.  The struct is copied.
 * QUOTA_EINVAL for an unknown version, a size smaller than its version's
 * struct, a missing append, or begin without commit.  Version 1 (no
 * errmsg) is still taken.
 */
QUOTA_API int quota_ctx_set_store(quota_ctx *ctx, const quota_store *store);

/*
 * For store libraries (libquota-sqlite and others): word a failure of
 * their own calls on ctx (what quota_errmsg then returns: msg, cut to the
 * message's room) and return code, so that
 * `return quota_ctx_set_error(ctx, rc, msg)` reads like the library's own
 * errors.  ctx NULL: only returns code; msg NULL: an empty message.
 */
QUOTA_API int quota_ctx_set_error(quota_ctx *ctx, int code, const char *msg);

#ifdef __cplusplus
}
#endif

#endif /* QUOTA_STORE_H */
