/*
 * journal_wrap.c - every Check test again with a recording store (§5).
 *
 * The test binaries are linked with --wrap for quota_ctx_new,
 * quota_ctx_new_with, quota_ctx_free, quota_ctx_set_store,
 * quota_account_load, quota_account_reset and quota_ctx_set_event_hook.  With QUOTA_TEST_JOURNAL=1 in
 * the environment, every context a test makes gets a store that keeps its
 * records in memory; when the test frees the context, the records are
 * applied to a fresh context in check mode (every record planned again
 * and compared with its effects), and every account's snapshot must equal
 * the live one byte for byte.  A mismatch aborts the test.
 *
 * A test that sets a store of its own keeps it (its context is not
 * replayed).  Snapshots loaded by a test are recorded as such and loaded
 * again at the same place in the replay.
 */
#include "quota.h"
#include "quota_store.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __real_quota_ctx_new(quota_ctx **out);
int __real_quota_ctx_new_with(const quota_allocator *alloc, quota_ctx **out);
void __real_quota_ctx_free(quota_ctx *ctx);
int __real_quota_ctx_set_store(quota_ctx *ctx, const quota_store *store);
int __real_quota_account_load(quota_ctx *ctx, const void *snap, size_t len,
			      quota_account **out);
int __real_quota_account_reset(quota_account *a, const void *snap,
			       size_t len);
int __real_quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn fn,
				    void *ud);
int __real_quota_account_remove(quota_account *a);
int __wrap_quota_account_remove(quota_account *a);
int __wrap_quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn fn,
				    void *ud);

int __wrap_quota_ctx_new(quota_ctx **out);
int __wrap_quota_ctx_new_with(const quota_allocator *alloc, quota_ctx **out);
void __wrap_quota_ctx_free(quota_ctx *ctx);
int __wrap_quota_ctx_set_store(quota_ctx *ctx, const quota_store *store);
int __wrap_quota_account_load(quota_ctx *ctx, const void *snap, size_t len,
			      quota_account **out);
int __wrap_quota_account_reset(quota_account *a, const void *snap,
			       size_t len);

/* ENT_HOOK: the test set (byte 1) or removed (byte 0) its event hook, which
 * decides whether alerts and package events are tracked (R21). */
/* ENT_REMOVE: the test removed an account (§7: no record; the store
 * keeps it), so the replayed context drops it at the same place. */
enum { ENT_RECORD, ENT_LOAD, ENT_RESET, ENT_HOOK, ENT_REMOVE };

typedef struct entry {
	int kind;
	char *account; /* ENT_RESET: the account's id */
	unsigned char *p;
	size_t n;
} entry;

typedef struct recorder {
	quota_ctx *ctx;
	entry *e;
	size_t n, cap;
	int own_store; /* the test set a store of its own: no replay */
	tu_alloc *tu;  /* the test's counting allocator, if it used one */
	struct recorder *next;
} recorder;

static recorder *recorders;
static int enabled = -1;

static int on(void)
{
	if (enabled < 0) {
		const char *v = getenv("QUOTA_TEST_JOURNAL");

		enabled = v && strcmp(v, "1") == 0;
	}
	return enabled;
}

static recorder *find(const quota_ctx *ctx)
{
	recorder *r;

	for (r = recorders; r; r = r->next)
		if (r->ctx == ctx)
			return r;
	return NULL;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "journal_wrap: %s: %s\n", what, detail);
	abort();
}

static char *dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static void add(recorder *r, int kind, const char *account, const void *p,
		size_t n)
{
	entry *e;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->e = realloc(r->e, r->cap * sizeof *r->e);
		if (!r->e)
			die("recorder", "out of memory");
	}
	e = &r->e[r->n++];
	e->kind = kind;
	e->account = account ? dup(account) : NULL;
	e->p = malloc(n ? n : 1);
	if (!e->p || (account && !e->account))
		die("recorder", "out of memory");
	if (n)
		memcpy(e->p, p, n);
	e->n = n;
}

static int rec_append(void *ud, const char *account, uint64_t seq,
		      const void *rec, size_t len)
{
	(void)account;
	(void)seq;
	add(ud, ENT_RECORD, NULL, rec, len);
	return QUOTA_OK;
}

static recorder *attach(quota_ctx *ctx)
{
	quota_store st = QUOTA_STORE_INIT;
	recorder *r;

	if (!on() || !ctx)
		return NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		die("recorder", "out of memory");
	r->ctx = ctx;
	r->next = recorders;
	recorders = r;
	st.ud = r;
	st.append = rec_append;
	if (__real_quota_ctx_set_store(ctx, &st) != QUOTA_OK)
		die("recorder", "quota_ctx_set_store refused");
	return r;
}

int __wrap_quota_ctx_new(quota_ctx **out)
{
	int rc = __real_quota_ctx_new(out);

	if (rc == QUOTA_OK)
		attach(*out);
	return rc;
}

int __wrap_quota_ctx_new_with(const quota_allocator *alloc, quota_ctx **out)
{
	int rc = __real_quota_ctx_new_with(alloc, out);
	recorder *r;

	if (rc == QUOTA_OK && (r = attach(*out)))
		r->tu = tu_alloc_of(alloc);
	return rc;
}

int __wrap_quota_ctx_set_store(quota_ctx *ctx, const quota_store *store)
{
	recorder *r = find(ctx);

	if (r)
		r->own_store = 1;
	return __real_quota_ctx_set_store(ctx, store);
}

int __wrap_quota_account_load(quota_ctx *ctx, const void *snap, size_t len,
			      quota_account **out)
{
	int rc = __real_quota_account_load(ctx, snap, len, out);
	recorder *r = find(ctx);

	if (rc == QUOTA_OK && r)
		add(r, ENT_LOAD, NULL, snap, len);
	return rc;
}

int __wrap_quota_account_reset(quota_account *a, const void *snap,
			       size_t len)
{
	int rc = __real_quota_account_reset(a, snap, len);
	recorder *r = a ? find(quota_account_ctx(a)) : NULL;

	if (rc == QUOTA_OK && r)
		add(r, ENT_RESET, quota_account_id(a), snap, len);
	return rc;
}

int __wrap_quota_account_remove(quota_account *a)
{
	recorder *r = a ? find(quota_account_ctx(a)) : NULL;
	char *id = r ? dup(quota_account_id(a)) : NULL;
	int rc;

	if (r && !id)
		die("recorder", "out of memory");
	rc = __real_quota_account_remove(a);
	if (rc == QUOTA_OK && r)
		add(r, ENT_REMOVE, id, "", 0);
	free(id);
	return rc;
}

void tu_journal_skip(quota_ctx *ctx)
{
	recorder *r = find(ctx);

	if (r)
		r->own_store = 1;
}

static int noop_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

int __wrap_quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn fn,
				    void *ud)
{
	int rc = __real_quota_ctx_set_event_hook(ctx, fn, ud);
	recorder *r = find(ctx);
	unsigned char set = fn != NULL;

	if (rc == QUOTA_OK && r)
		add(r, ENT_HOOK, NULL, &set, 1);
	return rc;
}

/* An account's snapshot in memory of our own.  The live context's
 * allocator may be the test's, set to fail and counting what the test
 * does: it is disarmed for the call and its counters put back after. */
static void *snap(recorder *r, quota_account *a, size_t *n)
{
	quota_ctx *ctx = quota_account_ctx(a);
	tu_alloc saved = {0};
	void *s = NULL, *copy;
	int rc;

	if (r && r->tu) {
		saved = *r->tu;
		tu_alloc_disarm(r->tu);
	}
	rc = quota__snapshot(a, &s, n);
	copy = rc == QUOTA_OK ? malloc(*n ? *n : 1) : NULL;
	if (copy)
		memcpy(copy, s, *n);
	quota_free(ctx, s);
	if (r && r->tu) {
		r->tu->attempts = saved.attempts;
		r->tu->fail_at = saved.fail_at;
		r->tu->fail_rest = saved.fail_rest;
		r->tu->failures = saved.failures;
		r->tu->peak_bytes = saved.peak_bytes;
	}
	if (!copy)
		die("snapshot", rc ? quota_errmsg(ctx) : "out of memory");
	return copy;
}

static void dump(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb"))) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* Snapshots of a (live) and b (replayed) must be equal byte for byte. */
static void same_account(recorder *r, quota_account *a, quota_account *b)
{
	size_t na, nb, i = 14; /* the header's checksum differs too */
	unsigned char *sa = snap(r, a, &na), *sb = snap(NULL, b, &nb);
	const char *dir = getenv("QUOTA_TEST_JOURNAL_DUMP");
	char msg[300];

	if (na != nb || memcmp(sa, sb, na) != 0) {
		if (dir) {
			dump(dir, "live.snap", sa, na);
			dump(dir, "replayed.snap", sb, nb);
		}
		while (i < na && i < nb && sa[i] == sb[i])
			i++;
		snprintf(msg, sizeof msg,
			 "account '%s': replayed snapshot differs (%zu and "
			 "%zu bytes, first difference at byte %zu)",
			 quota_account_id(a), na, nb, i);
		die("replay", msg);
	}
	free(sa);
	free(sb);
}

static void replay(recorder *r)
{
	quota_ctx *fresh;
	quota_account *a, *b;
	uint32_t i;
	size_t k;
	char msg[400];

	if (__real_quota_ctx_new(&fresh) != QUOTA_OK)
		die("replay", "quota_ctx_new");
	for (k = 0; k < r->n; k++) {
		const entry *e = &r->e[k];
		int rc;

		if (e->kind == ENT_RECORD) {
			rc = quota_journal_apply(fresh, e->p, e->n,
						 QUOTA_JOURNAL_CHECK);
		} else if (e->kind == ENT_HOOK) {
			rc = __real_quota_ctx_set_event_hook(
				fresh, e->p[0] ? noop_hook : NULL, NULL);
		} else if (e->kind == ENT_LOAD) {
			rc = __real_quota_account_load(fresh, e->p, e->n, &a);
		} else if (e->kind == ENT_REMOVE) {
			rc = quota_account_find(fresh, e->account, &a);
			if (!rc)
				rc = __real_quota_account_remove(a);
		} else {
			rc = quota_account_find(fresh, e->account, &a);
			if (!rc)
				/* n 0: back to before the first record */
				rc = __real_quota_account_reset(
					a, e->n ? e->p : NULL, e->n);
		}
		if (rc != QUOTA_OK) {
			snprintf(msg, sizeof msg, "entry %zu of %zu: %s: %s",
				 k, r->n, quota_err_name(rc),
				 quota_errmsg(fresh));
			die("replay", msg);
		}
	}
	for (i = 0; (a = quota_ctx_account_at(r->ctx, i)); i++) {
		if (quota_account_find(fresh, quota_account_id(a), &b))
			die("replay", quota_errmsg(fresh));
		same_account(r, a, b);
	}
	__real_quota_ctx_free(fresh);
}

void __wrap_quota_ctx_free(quota_ctx *ctx)
{
	recorder **pp, *r = NULL;
	size_t k;

	for (pp = &recorders; *pp; pp = &(*pp)->next) {
		if ((*pp)->ctx == ctx) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	if (r) {
		if (!r->own_store)
			replay(r);
		for (k = 0; k < r->n; k++) {
			free(r->e[k].account);
			free(r->e[k].p);
		}
		free(r->e);
		free(r);
	}
	__real_quota_ctx_free(ctx);
}
