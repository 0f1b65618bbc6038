/*
 * rec_int.h - what the two halves of `quota-sim recommend` share
 * (recommend.c: the trace's charges, the driver and the output;
 * rec_search.c: the search of one account).
 */
#ifndef REC_INT_H
#define REC_INT_H

#include "qsim.h"

/* A charge that stood in the pay-as-you-go run, merged per local hour. */
typedef struct rev {
	int64_t at;
	int cat;
	bool failed;
	int64_t units;
} rev;

typedef struct racct {
	const qs_acct *base; /* in the pay-as-you-go run */
	rev *evs;
	size_t nev, cev;
	int64_t last[QUOTA_MAX_CATEGORIES][2]; /* index + 1 of the open event */
} racct;

/* The cheapest schedule of one account. */
typedef struct result {
	const char *id;
	int32_t off;
	int32_t m0, nslots;
	int64_t payg, best;
	int64_t *q;        /* best schedule, quantities: slot * noff + k */
	int *offers;
	size_t noff;
	int64_t evals;
	int64_t refused;   /* rows refused in the pay-as-you-go run */
	size_t ngroups;    /* groups of categories searched apart */
	bool none;         /* no traffic */
} result;

int qs__rec_account(const qs_plan *pp, qs_sim *ev, const qs_acct *b,
		    racct *ra, const qs_rec_opts *o, result *r, qs_err *err);

#endif /* REC_INT_H */
