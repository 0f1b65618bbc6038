/*
 * batch.h - what the quota_batch tests share (check_batch.c: group
 * commit (§5) and refused keyed batches on full key windows;
 * check_batch_many.c: issue 13, many accounts at once): their time T0,
 * a transactional store in memory (txstore, tx_attach, tx_free) and an
 * account's snapshot (snap).  Include after <check.h>, "quota.h",
 * "quota_store.h" and "testutil.h".
 */
#ifndef QUOTA_TEST_BATCH_H
#define QUOTA_TEST_BATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600) /* 2026-01-01 */

/* A transactional store in memory: records staged between begin and
 * commit, kept on commit, dropped on a refused commit; commit_result
 * decides what commit says (QUOTA_EUNKNOWN: kept, but "unknown"). */
typedef struct rec {
	char account[QUOTA_ID_MAX + 1];
	unsigned char *p;
	size_t n;
} rec;

typedef struct txstore {
	rec *r;
	size_t n, cap;
	size_t staged_from; /* n at begin */
	int in_txn;
	int commit_result;
	int begin_result; /* begin's answer: not QUOTA_OK, no transaction */
	int commits, begins;
	size_t committed; /* records durable when the last event fired */
} txstore;

static inline int tx_append(void *ud, const char *account, uint64_t seq,
			    const void *p, size_t n)
{
	txstore *s = ud;
	rec *r;

	(void)seq;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->r = realloc(s->r, s->cap * sizeof *s->r);
		ck_assert_ptr_nonnull(s->r);
	}
	r = &s->r[s->n++];
	snprintf(r->account, sizeof r->account, "%s", account ? account : "");
	r->p = malloc(n);
	ck_assert_ptr_nonnull(r->p);
	memcpy(r->p, p, n);
	r->n = n;
	if (!s->in_txn)
		s->staged_from = s->n;
	return QUOTA_OK;
}

static inline int tx_begin(void *ud)
{
	txstore *s = ud;

	ck_assert_int_eq(s->in_txn, 0);
	if (s->begin_result != QUOTA_OK)
		return s->begin_result;
	s->in_txn = 1;
	s->staged_from = s->n;
	s->begins++;
	return QUOTA_OK;
}

static inline int tx_commit(void *ud)
{
	txstore *s = ud;
	int rc = s->commit_result;

	ck_assert_int_eq(s->in_txn, 1);
	s->in_txn = 0;
	s->commits++;
	if (rc != QUOTA_OK && rc != QUOTA_EUNKNOWN) {
		while (s->n > s->staged_from)
			free(s->r[--s->n].p);
	}
	s->staged_from = s->n;
	return rc;
}

static inline void tx_free(txstore *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->r[i].p);
	free(s->r);
}

static inline void tx_attach(quota_ctx *c, txstore *s, int with_txn)
{
	quota_store st = QUOTA_STORE_INIT;

	memset(s, 0, sizeof *s);
	st.ud = s;
	st.append = tx_append;
	if (with_txn) {
		st.begin = tx_begin;
		st.commit = tx_commit;
	}
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
}

static inline void *snap(const quota_account *a, size_t *n)
{
	void *p = NULL;

	ck_assert_int_eq(quota_account_snapshot(a, &p, n), QUOTA_OK);
	return p;
}

#endif /* QUOTA_TEST_BATCH_H */
