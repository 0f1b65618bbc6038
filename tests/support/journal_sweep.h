/*
 * journal_sweep.h - the world, the store and the checks of the
 * store-fault sweep (check_journal.c) and of the tests of store outcomes
 * beside it (check_journal_outcomes.c); DESIGN §5.
 *
 * The world's names (NCAT categories, NTAR tariffs, NOFF offers, NACC
 * accounts: stream 0 is the configuration, 1 + i account i's), checks
 * that call Check only on failure, the wrapper store that keeps every
 * record it accepts and can fail store call N (once, from then on, or
 * "stored, but reported failed": check_journal.c says how), snapshots of
 * a context's accounts and what can be seen of its configuration, a
 * fresh context and kept records applied to it, and the conservation of
 * money (R24's gift money included) and package units.  The sweep's
 * workload and how an operation runs are in journal_workload.h.
 */
#ifndef QUOTA_TEST_JOURNAL_SWEEP_H
#define QUOTA_TEST_JOURNAL_SWEEP_H

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"

#define NCAT 5
#define NTAR 4
#define NOFF 2
#define NACC 4
#define NSTREAM (1 + NACC)

/*
 * Check's ck_assert macros record the location of every assertion that
 * passes (a write to its message file); the sweep makes millions, so it
 * uses these, which call Check only on failure.
 */
#define CHECK_MSG(c, ...)                                                    \
	do {                                                                 \
		if (!(c))                                                    \
			ck_abort_msg(__VA_ARGS__);                           \
	} while (0)
#define CHECK(c) CHECK_MSG(c, "%s:%d: %s", __FILE__, __LINE__, #c)
#define CHECK_OP(x, op, y)                                                   \
	do {                                                                 \
		long long x_ = (long long)(x), y_ = (long long)(y);          \
		if (!(x_ op y_))                                             \
			ck_abort_msg("%s:%d: %s %s %s (%lld, %lld)",         \
				     __FILE__, __LINE__, #x, #op, #y, x_,    \
				     y_);                                    \
	} while (0)

#define CHECK_OP_EQ(x, y) CHECK_OP(x, ==, y)
#define CHECK_OP_NE(x, y) CHECK_OP(x, !=, y)
#define CHECK_OP_GE(x, y) CHECK_OP(x, >=, y)
#define CHECK_OP_GT(x, y) CHECK_OP(x, >, y)
#define CHECK_OP_LE(x, y) CHECK_OP(x, <=, y)
#define CHECK_OP_LT(x, y) CHECK_OP(x, <, y)
#define CHECK_NONNULL(p) CHECK((p) != NULL)
#define CHECK_NULL(p) CHECK((p) == NULL)

#define T0 tu_utc(2024, 1, 20, 0, 0, 0)
#define T_SETUP (T0 - 2 * TU_DAY)
#define T_DRAIN tu_utc(2025, 1, 1, 0, 0, 0)

static const char *const cat_names[NCAT] = {
	"sms.verify", "sms.notify", "sms.marketing", "email", "rich.click"};
static const char *const tar_names[NTAR] = {"sms", "email", "click", "bulk"};
static const char *const off_names[NOFF] = {"bundle", "mail-q"};
static const char *const acct_names[NACC] = {"acme", "globex", "initech",
					     "umbrella"};
static const int32_t acct_offsets[NACC] = {0, 3600, -18000, 19800};
/* The tariff that prices each category. */
static const int cat_tariff[NCAT] = {0, 0, 0, 1, 2};

/* ------------------------------------------------------- the store */

enum { M_NONE = 0, M_ONCE = 1, M_FROM = 2, M_UNKNOWN = 3 };
static const char *const mode_names[4] = {"reference", "once",
					  "from-then-on", "unknown"};

typedef struct kept {
	int stream; /* 0: configuration, 1 + account index */
	uint64_t seq;
	size_t off, len;
	long op; /* the operation that made the call */
} kept;

typedef struct fstore {
	const struct fstore *prefix; /* the reference's records ... */
	long nprefix;                /* ... [0, nprefix) come first */
	unsigned char *buf;
	size_t n, cap;
	kept *k;
	long nk, capk;
	long calls;   /* store calls so far, the prefix's included */
	long fail_at; /* the call that fails (0-based), -1: none */
	int mode;
	long cur_op;
	int last_rc;       /* of the last call */
	long op_calls;     /* calls made by the current operation */
	uint64_t last_seq[NSTREAM];
	long conflicts, refused, unknown;
} fstore;

static inline int stream_of(const char *account)
{
	int i;

	if (!account)
		return 0;
	for (i = 0; i < NACC; i++)
		if (strcmp(account, acct_names[i]) == 0)
			return 1 + i;
	ck_abort_msg("store: record of unknown account '%s'", account);
	return -1;
}

static inline void keep(fstore *s, int stream, uint64_t seq, const void *rec,
			size_t len)
{
	kept *k;

	if (s->n + len > s->cap) {
		s->cap = (s->n + len) * 2 + 4096;
		s->buf = realloc(s->buf, s->cap);
		CHECK_NONNULL(s->buf);
	}
	if (s->nk == s->capk) {
		s->capk = s->capk ? s->capk * 2 : 256;
		s->k = realloc(s->k, (size_t)s->capk * sizeof *s->k);
		CHECK_NONNULL(s->k);
	}
	memcpy(s->buf + s->n, rec, len);
	k = &s->k[s->nk++];
	k->stream = stream;
	k->seq = seq;
	k->off = s->n;
	k->len = len;
	k->op = s->cur_op;
	s->n += len;
	s->last_seq[stream] = seq;
}

static inline int fs_append(void *ud, const char *account, uint64_t seq,
			    const void *rec, size_t len)
{
	fstore *s = ud;
	long c = s->calls++;
	int st = stream_of(account), fail;

	s->op_calls++;
	if (seq <= s->last_seq[st]) {
		/* A store keyed by (stream, seq) holds this one already. */
		s->conflicts++;
		return s->last_rc = QUOTA_ECONFLICT;
	}
	CHECK_MSG(seq == s->last_seq[st] + 1,
		      "store call %ld: stream %d record %llu after %llu", c,
		      st, (unsigned long long)seq,
		      (unsigned long long)s->last_seq[st]);
	fail = s->mode != M_NONE &&
	       (c == s->fail_at || (s->mode == M_FROM && c >= s->fail_at));
	if (fail && s->mode != M_UNKNOWN) {
		s->refused++;
		return s->last_rc = QUOTA_ESTORE;
	}
	keep(s, st, seq, rec, len);
	if (fail) {
		s->unknown++;
		return s->last_rc = QUOTA_EUNKNOWN;
	}
	return s->last_rc = QUOTA_OK;
}

static inline void fs_free(fstore *s)
{
	free(s->buf);
	free(s->k);
	memset(s, 0, sizeof *s);
}

static inline long fs_count(const fstore *s)
{
	return s->nprefix + s->nk;
}

/* Kept record k (the prefix's first). */
static inline const kept *fs_at(const fstore *s, long k,
				const unsigned char **p)
{
	const fstore *o = s;

	if (k < s->nprefix) {
		o = s->prefix;
	} else {
		k -= s->nprefix;
	}
	*p = o->buf + o->k[k].off;
	return &o->k[k];
}

static inline void fs_attach(quota_ctx *ctx, fstore *s)
{
	quota_store st = QUOTA_STORE_INIT;

	st.ud = s;
	st.append = fs_append;
	CHECK_OP_EQ(quota_ctx_set_store(ctx, &st), QUOTA_OK);
}

/* An event hook that does nothing. */
static inline int noop_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

/* --------------------------------------------------- state helpers */

typedef struct snapset {
	int n;
	char id[NACC][16];
	void *p[NACC];
	size_t len[NACC];
} snapset;

static inline void snap_one(const quota_account *a, void **p, size_t *len)
{
	void *s = NULL;
	int rc = quota__snapshot(a, &s, len);

	CHECK_MSG(rc == QUOTA_OK, "snapshot: %s", quota_err_name(rc));
	*p = malloc(*len);
	CHECK_NONNULL(*p);
	memcpy(*p, s, *len);
	quota_free(quota_account_ctx(a), s);
}

/* Snapshots of ctx's accounts (only >= 0: of that account, if it
 * exists). */
static inline void snapset_take(snapset *s, quota_ctx *ctx, int only)
{
	quota_account *a;
	uint32_t i;

	memset(s, 0, sizeof *s);
	for (i = 0; (a = quota_ctx_account_at(ctx, i)); i++) {
		CHECK_OP_LT(i, NACC);
		if (only >= 0 && strcmp(quota_account_id(a), acct_names[only]))
			continue;
		snprintf(s->id[s->n], sizeof s->id[s->n], "%s",
			 quota_account_id(a));
		snap_one(a, &s->p[s->n], &s->len[s->n]);
		s->n++;
	}
}

static inline void snapset_free(snapset *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->p[i]);
	s->n = 0;
}

/* Byte offset of the first difference, or -1. */
static inline long snap_diff(const void *x, size_t nx, const void *y, size_t ny)
{
	const unsigned char *a = x, *b = y;
	size_t i;

	for (i = 0; i < nx && i < ny; i++)
		if (a[i] != b[i])
			return (long)i;
	return nx == ny ? -1 : (long)i;
}

static inline void snapset_assert_eq(const snapset *x, const snapset *y,
				     const char *what, long n, int mode)
{
	int i, j;

	CHECK_MSG(x->n == y->n, "N=%ld %s: %s: %d accounts, %d expected",
		      n, mode_names[mode], what, y->n, x->n);
	for (i = 0; i < x->n; i++) {
		long d;

		for (j = 0; j < y->n && strcmp(x->id[i], y->id[j]); j++)
			;
		CHECK_MSG(j < y->n, "N=%ld %s: %s: account '%s' missing",
			      n, mode_names[mode], what, x->id[i]);
		d = snap_diff(x->p[i], x->len[i], y->p[j], y->len[j]);
		CHECK_MSG(d < 0,
			      "N=%ld %s: %s: account '%s' differs (%zu and "
			      "%zu bytes, first difference at byte %ld)",
			      n, mode_names[mode], what, x->id[i], x->len[i],
			      y->len[j], d);
	}
}

/* What can be seen of the configuration: categories, tariffs (prices),
 * offers. */
typedef struct cfgview {
	uint32_t ncat;
	char cat[NCAT + 2][QUOTA_CATEGORY_NAME_MAX + 1];
	int tar[NTAR];
	int64_t price[NTAR][3];
	int off[NOFF];
	int64_t oprice[NOFF];
} cfgview;

static inline void cfg_take(cfgview *c, quota_ctx *ctx)
{
	static const int64_t vb[3] = {0, 900, 20000}, nu[3] = {1, 300, 5};
	int i, k;

	memset(c, 0, sizeof *c);
	c->ncat = quota_category_count(ctx);
	for (i = 0; i < (int)c->ncat && i < NCAT + 2; i++)
		snprintf(c->cat[i], sizeof c->cat[i], "%s",
			 quota_category_name(ctx, (uint32_t)i));
	for (i = 0; i < NTAR; i++) {
		quota_tariff *t = NULL;

		c->tar[i] = quota_tariff_find(ctx, tar_names[i], &t);
		for (k = 0; k < 3 && t; k++)
			CHECK_OP_EQ(quota_tariff_price(t, vb[k], nu[k],
							    &c->price[i][k]),
					 QUOTA_OK);
	}
	for (i = 0; i < NOFF; i++) {
		quota_offer *o = NULL;

		c->off[i] = quota_offer_find(ctx, off_names[i], &o);
		c->oprice[i] = -1;
		if (o && quota_ctx_account_count(ctx) > 0) {
			quota_purchase pu;

			if (quota_package_quote(quota_ctx_account_at(ctx, 0), o,
						i == 0 ? 1 : 300, NULL, T0,
						&pu) == QUOTA_OK)
				c->oprice[i] = pu.price_micros;
		}
	}
}

static inline void cfg_assert_eq(const cfgview *x, const cfgview *y,
				 const char *what, long n, int mode)
{
	CHECK_MSG(memcmp(x, y, sizeof *x) == 0,
		      "N=%ld %s: %s: the configuration differs (%u and %u "
		      "categories)",
		      n, mode_names[mode], what, x->ncat, y->ncat);
}

/* A context whose accounts carry the same tracking as the runs'. */
static inline quota_ctx *ctx_fresh(quota_event_fn fn, void *ud)
{
	quota_ctx *ctx = NULL;

	CHECK_OP_EQ(quota_ctx_new(&ctx), QUOTA_OK);
	/* Our own contexts: no recording store of the test harness. */
	CHECK_OP_EQ(quota_ctx_set_store(ctx, NULL), QUOTA_OK);
	CHECK_OP_EQ(quota_ctx_set_event_hook(ctx, fn, ud), QUOTA_OK);
	return ctx;
}

static inline void apply_kept(quota_ctx *ctx, const fstore *s, long from,
			      long to, int config_only, uint32_t flags)
{
	long k;

	for (k = from; k < to; k++) {
		const unsigned char *p;
		const kept *r = fs_at(s, k, &p);
		int rc;

		if (config_only && r->stream != 0)
			continue;
		rc = quota_journal_apply(ctx, p, r->len, flags);
		CHECK_MSG(rc == QUOTA_OK,
			      "applying kept record %ld (stream %d, seq %llu, "
			      "operation %ld): %s: %s",
			      k, r->stream, (unsigned long long)r->seq, r->op,
			      quota_err_name(rc), quota_errmsg(ctx));
	}
}

/* ------------------------------------------------------ conservation */

static inline int rep_cb(const quota_report_row *row, void *ud)
{
	if (row->source == QUOTA_SOURCE_PACKAGE)
		*(int64_t *)ud += row->units;
	return 0;
}

/* Units drawn from a's packages, and (rep not NULL) its report's package
 * units. */
static inline void pkg_units(const quota_account *a, int64_t *drawn,
			     int64_t *rep)
{
	uint32_t i, n = quota_account_package_count(a);

	*drawn = 0;
	for (i = 0; i < n; i++) {
		quota_package *p = quota_account_package_at(a, i);
		quota_package_spec s;

		CHECK_OP_EQ(quota_package_get_spec(p, &s), QUOTA_OK);
		*drawn += s.units - quota_package_remaining(p);
	}
	if (!rep)
		return;
	*rep = 0;
	CHECK_OP_EQ(quota_report(a, QUOTA_PERIOD_MONTH, QUOTA_TIME_MIN,
				      QUOTA_TIME_MAX, rep_cb, rep),
			 QUOTA_OK);
}

static inline void money_assert(const quota_account *a, const char *what)
{
	quota_money m;

	CHECK_OP_EQ(quota_account_money(a, &m), QUOTA_OK);
	/* R24: gift money granted and not forfeited came in beside the
	 * top-ups, and what is left of it is held beside the balance. */
	CHECK_MSG(m.balance_micros + m.gift_micros ==
			      m.topped_up_micros + m.gift_granted_micros -
				      m.gift_expired_micros -
				      m.purchased_micros -
				      (m.billed_micros - m.outstanding_micros),
		      "%s: account '%s': balance %lld + gift %lld != topped "
		      "up %lld + granted %lld - expired %lld - "
		      "purchased %lld - (billed %lld - outstanding %lld)",
		      what, quota_account_id(a), (long long)m.balance_micros,
		      (long long)m.gift_micros,
		      (long long)m.topped_up_micros,
		      (long long)m.gift_granted_micros,
		      (long long)m.gift_expired_micros,
		      (long long)m.purchased_micros,
		      (long long)m.billed_micros,
		      (long long)m.outstanding_micros);
	CHECK_OP_GE(m.outstanding_micros, 0);
	CHECK_OP_GE(m.gift_micros, 0);
	CHECK_OP_EQ(m.gift_granted_micros, m.gift_micros +
						   m.gift_spent_micros +
						   m.gift_expired_micros);
}

/* Package units conserved in ctx (no store: it is ticked to drain every
 * hold), with forf[a] units forfeited by reversals. */
static inline void units_assert(quota_ctx *ctx, const int64_t *forf,
				const char *what)
{
	int i;

	for (i = 0; i < NACC; i++) {
		quota_account *a;
		int64_t drawn, rep, held, gap;

		if (quota_account_find(ctx, acct_names[i], &a))
			continue;
		pkg_units(a, &drawn, &rep);
		held = quota_account_held(a, QUOTA_ALL);
		gap = drawn - rep - forf[i];
		CHECK_MSG(gap >= 0 && gap <= held,
			      "%s: account '%s': drawn %lld - reported %lld - "
			      "forfeited %lld = %lld, held %lld",
			      what, acct_names[i], (long long)drawn,
			      (long long)rep, (long long)forf[i],
			      (long long)gap, (long long)held);
		CHECK_OP_GE(quota_account_tick(a, T_DRAIN), 0);
		CHECK_OP_EQ(quota_account_held(a, QUOTA_ALL), 0);
		CHECK_OP_EQ(quota_account_hold_count(a), 0);
		/* (expiry gives no usage: the report stays) */
		pkg_units(a, &drawn, NULL);
		CHECK_MSG(drawn == rep + forf[i],
			      "%s: account '%s' drained: drawn %lld != "
			      "reported %lld + forfeited %lld",
			      what, acct_names[i], (long long)drawn,
			      (long long)rep, (long long)forf[i]);
	}
}

#endif /* QUOTA_TEST_JOURNAL_SWEEP_H */
