/*
 * plan_int.h - what the two halves of the plan parser share (plan.c:
 * lines, tokens, statements, tariffs and offers; plan_account.c: the
 * attributes of accounts).
 */
#ifndef PLAN_INT_H
#define PLAN_INT_H

#include "qsim.h"

#define MAXTOK 48

typedef struct tok {
	const char *s;
	size_t n;
	int64_t col;
} tok;

typedef struct parser {
	qs_plan *p;
	qs_err *err;
	int64_t line;
	tok t[MAXTOK];
	size_t nt;
	int64_t eol; /* column just past the line's last token */
	int block;   /* 0 none, 1 tariff, 2 offer, 3 account */
	char unq[MAXTOK][256];
	char msg[256];
	/* single-valued statements and attributes given so far: of the
	 * plan (currency, history) and of the open block, with the line of
	 * each, so that a second one is refused ("given twice") */
	uint32_t seen_plan, seen_block;
	int64_t seen_line[2][32];
	/* the open account block's categories given a tariff, an overage */
	uint64_t tariff_set, overage_set;
	int64_t tariff_line[QUOTA_MAX_CATEGORIES];
	int64_t overage_line[QUOTA_MAX_CATEGORIES];
} parser;

/* Bits of seen_plan and seen_block (the block's kind tells them apart). */
enum {
	S_CURRENCY = 0, S_HISTORY,                      /* plan */
	S_MODE = 0, S_FREE, S_FAILURE_FEE,              /* tariff */
	S_COVERS = 0, S_UNITS, S_VALID, S_STOP, S_PRIORITY, /* offer */
	S_UTC = 0, S_SETTLE, S_BALANCE, S_CREDIT, S_CHARGE_ON, S_SMS /* account */
};

enum { B_NONE, B_TARIFF, B_OFFER, B_ACCOUNT };

bool pl_is(const tok *t, const char *w);
bool pl_fail(parser *ps, int64_t col, const char *fmt, const char *a);
const tok *pl_need(parser *ps, size_t i, const char *what);
char *pl_dup_tok(const tok *t);
/* The token as a string for a message, in the parser (no allocation). */
const char *pl_tokstr(parser *ps, const tok *t);
int pl_find_tariff(const qs_plan *p, const tok *t);
int pl_find_offer(const qs_plan *p, const tok *t);
bool pl_get_int(parser *ps, size_t i, const char *what, int64_t max,
		int64_t *v);
bool pl_get_money(parser *ps, size_t i, const char *what, int64_t *v);
bool pl_get_time(parser *ps, size_t i, const char *what, int64_t *v);
bool pl_get_cat(parser *ps, size_t i, bool all, int *c);
bool pl_get_cats(parser *ps, size_t i, uint64_t *mask);
bool pl_word_of(parser *ps, size_t i, const char *what,
		const char *const *words, const int *vals, int *out);
bool pl_no_more(parser *ps, size_t i);
/* The attribute or statement k (bit `bit` of the plan's or the block's
 * set) given once; false with the error "given twice" the second time. */
bool pl_once(parser *ps, bool plan, int bit, const tok *k);
/* A word of a line given once on it: *mask holds the words seen (bit). */
bool pl_once_on_line(parser *ps, uint32_t *mask, int bit, const tok *k);
/* A time at which quota-sim acts (a trace row, a purchase, a renewal
 * mark, a top-up): before QS_TIME_END as well. */
bool pl_get_sim_time(parser *ps, size_t i, const char *what, int64_t *v);
/* An indented line of an account block (plan_account.c). */
bool pl_account_attr(parser *ps);

#endif /* PLAN_INT_H */
