/*
 * mstore.h - a store that keeps its records in memory (§5,
 * quota_store.h), for the store tests (check_store.c,
 * check_store_answers.c): up to 64 records with their stream and number,
 * and an answer the next append gives (once, then OK), the record kept
 * or not.  set_store sets it on a context; m_free frees its records.
 * Include after <check.h>, "quota.h" and "quota_store.h".
 */
#ifndef QUOTA_TEST_MSTORE_H
#define QUOTA_TEST_MSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A store that keeps records and answers `answer` (once, then OK). */
typedef struct mstore {
	unsigned char *rec[64];
	size_t len[64];
	char acct[64][QUOTA_ID_MAX + 1];
	uint64_t seq[64];
	size_t n;
	int answer, keep_on_answer;
	size_t at_event; /* records stored when the hook last ran */
} mstore;

static inline int m_append(void *ud, const char *account, uint64_t seq,
			   const void *p, size_t len)
{
	mstore *m = ud;
	int rc = m->answer;

	m->answer = QUOTA_OK;
	if (rc != QUOTA_OK && !m->keep_on_answer)
		return rc;
	ck_assert_uint_lt(m->n, 64);
	m->rec[m->n] = malloc(len);
	ck_assert_ptr_nonnull(m->rec[m->n]);
	memcpy(m->rec[m->n], p, len);
	m->len[m->n] = len;
	m->seq[m->n] = seq;
	snprintf(m->acct[m->n], sizeof m->acct[0], "%s",
		 account ? account : "");
	m->n++;
	return rc;
}

static inline void m_free(mstore *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->rec[i]);
}

static inline int m_begin(void *ud)
{
	(void)ud;
	return QUOTA_OK;
}

static inline void set_store(quota_ctx *c, mstore *m)
{
	quota_store st = QUOTA_STORE_INIT;

	memset(m, 0, sizeof *m);
	st.ud = m;
	st.append = m_append;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
}

#endif /* QUOTA_TEST_MSTORE_H */
