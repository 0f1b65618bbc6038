/*
 * snapset.h - every account's snapshot of a context, to compare two
 * contexts byte for byte (DESIGN §5: recovered state equals live state).
 * For tests of stores (check_sqlite*, check_pg_faults); Check's asserts.
 */
#ifndef QUOTA_TEST_SNAPSET_H
#define QUOTA_TEST_SNAPSET_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"

/* Every account's snapshot, in the context's order. */
typedef struct snapset {
	uint32_t n;
	char **id;
	unsigned char **p;
	size_t *len;
	uint32_t ncat;
} snapset;

static inline void snaps_take(quota_ctx *ctx, snapset *s)
{
	s->n = quota_ctx_account_count(ctx);
	s->ncat = quota_category_count(ctx);
	s->id = calloc(s->n + 1, sizeof *s->id);
	s->p = calloc(s->n + 1, sizeof *s->p);
	s->len = calloc(s->n + 1, sizeof *s->len);
	ck_assert(s->id && s->p && s->len);
	for (uint32_t i = 0; i < s->n; i++) {
		quota_account *a = quota_ctx_account_at(ctx, i);
		void *p;

		int rc = quota_account_snapshot(a, &p, &s->len[i]);

		ck_assert_msg(rc == QUOTA_OK, "snapshot of '%s': %s",
			      quota_account_id(a), quota_err_name(rc));
		s->p[i] = malloc(s->len[i]);
		s->id[i] = strdup(quota_account_id(a));
		ck_assert(s->p[i] && s->id[i]);
		memcpy(s->p[i], p, s->len[i]);
		quota_free(ctx, p);
	}
}

static inline void snaps_free(snapset *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		free(s->id[i]);
		free(s->p[i]);
	}
	free(s->id);
	free(s->p);
	free(s->len);
	memset(s, 0, sizeof *s);
}

/* NULL if equal, else what differs first (static buffer). */
static inline const char *snaps_diff(const snapset *x, const snapset *y)
{
	static char why[256];

	if (x->n != y->n || x->ncat != y->ncat) {
		snprintf(why, sizeof why, "%u accounts, %u categories; "
			 "expected %u, %u", y->n, y->ncat, x->n, x->ncat);
		return why;
	}
	for (uint32_t i = 0; i < x->n; i++)
		if (strcmp(x->id[i], y->id[i]) || x->len[i] != y->len[i] ||
		    memcmp(x->p[i], y->p[i], x->len[i])) {
			snprintf(why, sizeof why,
				 "account %u ('%s', %zu bytes) differs from "
				 "'%s' (%zu bytes)", i, y->id[i], y->len[i],
				 x->id[i], x->len[i]);
			return why;
		}
	return NULL;
}

#endif /* QUOTA_TEST_SNAPSET_H */
