/*
 * feed.c - a trace through one or more simulations, in windows of rows
 * grouped by account.
 *
 * Accounts share nothing in the library (their packages, counters,
 * ledgers, settlement and money are their own), so charging one
 * account's rows of a window together, each account's rows in trace
 * order, gives the figures charging them row by row in trace order
 * gives, while the account's state stays in the processor's caches
 * instead of being fetched anew for almost every row of a trace that
 * interleaves many accounts.  Every check a row can fail that does not
 * depend on state (its fields, its account, its category) is made as it
 * is read, so the first such error in the file is the one reported.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW (1u << 18)     /* rows */
#define ARENA (16u << 20)     /* bytes of texts and keys */
#define SEEN 16               /* category names remembered */

typedef struct brow {
	int64_t line, at, units;
	int64_t col_account, col_category, col_units;
	uint32_t acct, cat;
	uint32_t text_off, text_len, key_off, key_len;
	int status;
} brow;

typedef struct feed {
	qs_sim *sims;
	size_t nsims;
	brow *rows, *sorted;
	size_t nrows;
	char *arena;
	size_t used;
	/* account ids by first appearance */
	char **ids;
	size_t *idlen;
	uint64_t *present;  /* per id: the simulations whose plan has it */
	size_t nids, cids, cidlen, cpresent;
	uint32_t *htab;
	size_t hcap;
	uint32_t *count;
	size_t ccount;
	struct {
		int c;
		const char *name;
		size_t len;
	} seen[SEEN]; /* categories met, checked against every plan */
	size_t nseen;
} feed;

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (n--)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return h;
}

static void rehash(feed *f)
{
	size_t cap = f->hcap ? f->hcap * 2 : 1024, i;
	uint32_t *t = qs_alloc(cap * sizeof *t);

	for (i = 0; i < f->nids; i++) {
		size_t h = fnv(f->ids[i], f->idlen[i]) & (cap - 1);

		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = (uint32_t)i + 1;
	}
	free(f->htab);
	f->htab = t;
	f->hcap = cap;
}

/* The account's number, made (and checked against every plan) on its
 * first row. */
static int account(feed *f, const qs_row *r, qs_err *err)
{
	size_t h, i;

	if (2 * (f->nids + 1) > f->hcap)
		rehash(f);
	for (h = fnv(r->account, r->account_len) & (f->hcap - 1); f->htab[h];
	     h = (h + 1) & (f->hcap - 1)) {
		i = f->htab[h] - 1;
		if (f->idlen[i] == r->account_len &&
		    !memcmp(f->ids[i], r->account, r->account_len))
			return (int)i;
	}
	/* compare: an account some of the plans lack is charged in the
	 * others (and shown as '-' for those); one in no plan, or missing
	 * from the plan of `run`, is an error */
	uint64_t mask = 0;

	for (i = 0; i < f->nsims; i++) {
		if (f->nsims > 1 && !qs_sim_has_account(&f->sims[i], r->account,
							r->account_len))
			continue;
		if (!qs_sim_account(&f->sims[i], r->account, r->account_len,
				    err)) {
			if (!err->line) {
				err->line = r->line;
				err->col = r->col_account;
			}
			return -1;
		}
		mask |= UINT64_C(1) << i;
	}
	if (!mask) {
		qs_errf(err, r->line, r->col_account,
			"account '%.*s' is in none of the plans (add an "
			"'account %.*s' or an 'account *' block to one)",
			(int)r->account_len, r->account, (int)r->account_len,
			r->account);
		return -1;
	}
	f->ids = qs_grow(f->ids, &f->cids, f->nids + 1, sizeof *f->ids);
	f->idlen = qs_grow(f->idlen, &f->cidlen, f->nids + 1,
			   sizeof *f->idlen);
	f->present = qs_grow(f->present, &f->cpresent, f->nids + 1,
			     sizeof *f->present);
	f->ids[f->nids] = qs_strndup(r->account, r->account_len);
	f->idlen[f->nids] = r->account_len;
	f->present[f->nids] = mask;
	f->htab[h] = (uint32_t)++f->nids;
	return (int)f->nids - 1;
}

static int category(feed *f, const qs_row *r, qs_err *err)
{
	size_t i;
	int c = -1;

	/* the names met so far (every plan has them), most traces' all */
	for (i = 0; i < f->nseen; i++)
		if (f->seen[i].len == r->category_len &&
		    !memcmp(f->seen[i].name, r->category, r->category_len))
			return f->seen[i].c;
	for (i = 0; i < f->nsims; i++) {
		c = qs_plan_cat(f->sims[i].plan, r->category, r->category_len);
		if (c < 0) {
			qs_errf(err, r->line, r->col_category,
				"category '%.*s' is not in plan %s",
				(int)r->category_len, r->category,
				f->sims[i].plan->name);
			return -1;
		}
	}
	c = qs_plan_cat(f->sims[0].plan, r->category, r->category_len);
	if (f->nseen < SEEN) {
		f->seen[f->nseen].c = c;
		f->seen[f->nseen].name = f->sims[0].plan->cats[c];
		f->seen[f->nseen++].len = r->category_len;
	}
	return c;
}

/* Charge the window: rows grouped by account (a stable counting sort),
 * each simulation in turn. */
static int flush(feed *f, qs_err *err)
{
	size_t i, k;
	uint32_t sum = 0;

	if (!f->nrows)
		return 0;
	f->count = qs_grow(f->count, &f->ccount, f->nids + 1,
			   sizeof *f->count);
	memset(f->count, 0, (f->nids + 1) * sizeof *f->count);
	for (i = 0; i < f->nrows; i++)
		f->count[f->rows[i].acct]++;
	for (i = 0; i < f->nids; i++) {
		uint32_t c = f->count[i];

		f->count[i] = sum;
		sum += c;
	}
	for (i = 0; i < f->nrows; i++)
		f->sorted[f->count[f->rows[i].acct]++] = f->rows[i];
	for (k = 0; k < f->nsims; k++)
		for (i = 0; i < f->nrows; i++) {
			const brow *b = &f->sorted[i];
			qs_row r;

			if (!(f->present[b->acct] >> k & 1))
				continue;
			r = (qs_row){
				.line = b->line,
				.at = b->at,
				.account = f->ids[b->acct],
				.account_len = f->idlen[b->acct],
				/* the trace's name (b->cat numbers it in
				 * the first plan; each plan finds its own
				 * number for it, as plans may list their
				 * categories in any order) */
				.category = f->sims[0].plan->cats[b->cat],
				.category_len = strlen(
					f->sims[0].plan->cats[b->cat]),
				.units = b->units,
				.text = f->arena + b->text_off,
				.text_len = b->text_len,
				.key = f->arena + b->key_off,
				.key_len = b->key_len,
				.status = b->status,
				.col_account = b->col_account,
				.col_category = b->col_category,
				.col_units = b->col_units,
			};
			if (qs_sim_row(&f->sims[k], &r, err))
				return -1;
		}
	f->nrows = 0;
	f->used = 0;
	return 0;
}

int qs_feed(qs_sim *sims, size_t nsims, const char *trace,
	    qs_progress_fn progress, void *ud, qs_err *err)
{
	feed f;
	qs_trace *t = qs_trace_open(trace, err);
	qs_row r;
	int rc = 0, n;
	size_t i;

	if (!t)
		return -1;
	memset(&f, 0, sizeof f);
	f.sims = sims;
	f.nsims = nsims;
	f.rows = qs_alloc(WINDOW * sizeof *f.rows);
	f.sorted = qs_alloc(WINDOW * sizeof *f.sorted);
	f.arena = qs_alloc(ARENA);
	qs_trace_progress(t, progress, ud);
	err->file = qs_trace_file(t);
	while ((n = qs_trace_next(t, &r, err)) > 0) {
		brow *b;
		int a, c;

		if ((a = account(&f, &r, err)) < 0 ||
		    (c = category(&f, &r, err)) < 0) {
			if (!err->file)
				err->file = qs_trace_file(t);
			rc = -1;
			break;
		}
		if (f.nrows == WINDOW ||
		    f.used + r.text_len + r.key_len > ARENA) {
			if (flush(&f, err)) {
				rc = -1;
				break;
			}
		}
		b = &f.rows[f.nrows++];
		*b = (brow){.line = r.line, .at = r.at, .units = r.units,
			    .col_account = r.col_account,
			    .col_category = r.col_category,
			    .col_units = r.col_units, .acct = (uint32_t)a,
			    .cat = (uint32_t)c, .status = r.status};
		if (r.text_len) {
			memcpy(f.arena + f.used, r.text, r.text_len);
			b->text_off = (uint32_t)f.used;
			b->text_len = (uint32_t)r.text_len;
			f.used += r.text_len;
		} else
			b->text_off = (uint32_t)f.used;
		if (r.key_len) {
			memcpy(f.arena + f.used, r.key, r.key_len);
			b->key_off = (uint32_t)f.used;
			b->key_len = (uint32_t)r.key_len;
			f.used += r.key_len;
		}
	}
	if (n < 0)
		rc = -1;
	if (rc == 0 && flush(&f, err))
		rc = -1;
	/* the trace's name outlives it in the message */
	if (rc && err->file == qs_trace_file(t))
		err->file = strcmp(trace, "-") ? trace : "(stdin)";
	qs_trace_close(t);
	for (i = 0; i < f.nids; i++)
		free(f.ids[i]);
	free(f.ids);
	free(f.idlen);
	free(f.present);
	free(f.htab);
	free(f.count);
	free(f.rows);
	free(f.sorted);
	free(f.arena);
	if (rc == 0)
		err->file = NULL;
	return rc;
}
