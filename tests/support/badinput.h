/*
 * badinput.h - what the bad-input tests share (check_badinput.c: the
 * registry, check_badinput_usage.c: charges and holds,
 * check_badinput_money.c: issue 5, check_badinput_issue15.c: issue 15,
 * check_badinput_enomem.c: failed allocations): the fixture each row runs
 * against (a fresh copy each time), the world a row must leave unchanged,
 * the row helpers more than one of them calls, the bad strings, a row of
 * a table and row_check, which runs one.
 * Include after <check.h>, "quota.h" and "testutil.h".
 */
#ifndef QUOTA_TEST_BADINPUT_H
#define QUOTA_TEST_BADINPUT_H

#include <string.h>

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a;
	quota_tariff *grad, *open, *full, *vol, *hugep, *hugeg;
	quota_package *p1;
	uint32_t sms, email, big, stopflag, capped, stoppol, huge;
	uint32_t id_out;
	int64_t t0, tx;
	/* R10-R12: an open hold (key fx-r), a committed one (key fx-c), a
	 * hold whose release fee overflows, a reversed charge (fx-rev). */
	quota_tariff *fee;
	uint64_t h_open, h_done, h_fee;
	/* Issue 5: a fixed-price offer (10 units of money more than the
	 * balance) and one priced by quantity (min 100, step 100). */
	quota_offer *ofix, *oqty;
	/* R26: a zone of the context, "Test/Berlin" (bytes: tzif_berlin). */
	quota_zone *zone;
} fx;

static fx F;

#define BERLIN_RULE TU_BERLIN_RULE

/* quota_zone_from_tzif of a rule (footer), or of the Berlin file cut to
 * len bytes (footer NULL), or of NULL bytes (len 0, footer NULL). */
static inline int zone_tzif(quota_ctx *c, const char *name, int32_t utoff,
			    const char *footer, size_t cut, int with_out)
{
	uint8_t b[256];
	size_t n = tu_tzif_rule(b, utoff, footer ? footer : BERLIN_RULE);
	quota_zone *z = (quota_zone *)&F;
	int rc;

	if (cut)
		n = cut;
	rc = quota_zone_from_tzif(c, name, footer || cut ? b : NULL, n,
				  with_out ? &z : NULL);
	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(z);
	return rc;
}

#define NPROBE 5
static const int64_t probe_v[NPROBE] = {0, 0, 99, 1000, 5};
static const int64_t probe_n[NPROBE] = {1, 150, 2, 7, 400};

/* Everything a row could change: the account, the tariffs, the registry. */
typedef struct world {
	tu_snap s;
	int rc[6][NPROBE];
	int64_t cost[6][NPROBE];
	uint32_t ncat;
	quota_account *found;
} world;

static inline void world_take(world *w, fx *f)
{
	quota_tariff *ts[6] = {f->grad, f->open, f->full,
			       f->vol,  f->hugep, f->hugeg};
	int64_t times[4] = {f->t0, f->t0 + TU_DAY, f->tx, f->t0 + 40 * TU_DAY};
	int i, k;

	memset(w, 0, sizeof *w);
	tu_snap_take(&w->s, f->a, times, 4);
	for (i = 0; i < 6; i++)
		for (k = 0; k < NPROBE; k++) {
			w->cost[i][k] = -12345;
			w->rc[i][k] = quota_tariff_price(ts[i], probe_v[k],
							 probe_n[k],
							 &w->cost[i][k]);
		}
	w->ncat = quota_category_count(f->ctx);
	w->found = NULL;
	(void)quota_account_find(f->ctx, "acme", &w->found);
}

static inline void world_assert_eq(const world *x, const world *y)
{
	int i, k;

	TU_ASSERT_SNAP_EQ(&x->s, &y->s);
	for (i = 0; i < 6; i++)
		for (k = 0; k < NPROBE; k++) {
			ck_assert_msg(x->rc[i][k] == y->rc[i][k] &&
					      x->cost[i][k] == y->cost[i][k],
				      "tariff %d price(%lld, %lld) changed", i,
				      (long long)probe_v[k],
				      (long long)probe_n[k]);
		}
	ck_assert_uint_eq(x->ncat, y->ncat);
	ck_assert_ptr_eq(x->found, y->found);
}

static inline uint32_t fx_cat(fx *f, const char *name)
{
	uint32_t id = 999;

	ck_assert_int_eq(quota_category_add(f->ctx, name, &id), QUOTA_OK);
	return id;
}

static inline quota_tariff *fx_tariff(fx *f, const char *name)
{
	quota_tariff *t = NULL;

	ck_assert_int_eq(quota_tariff_new(f->ctx, name, &t), QUOTA_OK);
	return t;
}

static inline int fx_pkg(fx *f, const char *id, uint64_t mask, int64_t units,
			 int64_t eff, int64_t exp, uint32_t flags, int32_t prio,
			 quota_package **out)
{
	quota_package_spec s;

	memset(&s, 0, sizeof s);
	s.id = id;
	s.categories = mask;
	s.units = units;
	s.effective_at = eff;
	s.expires_at = exp;
	s.price_micros = 1000;
	s.flags = flags;
	s.priority = prio;
	return quota_package_add(f->a, &s, out);
}

static inline void fx_charge(fx *f, uint32_t cat, int64_t units, int64_t at)
{
	quota_usage u = {.category = cat, .units = units, .at = at};
	quota_receipt r;
	int rc = quota_charge(f->a, &u, &r);

	ck_assert_msg(rc == QUOTA_OK, "fixture charge: %s (%s)",
		      quota_err_name(rc), quota_errmsg(f->ctx));
}

static inline void fx_holds(fx *f)
{
	quota_usage u = {.category = f->sms, .units = 1, .at = f->t0,
			 .key = "fx-k"};
	quota_receipt r;

	/* The clock is at tx already (2030): keep every key. */
	ck_assert_int_eq(quota_account_set_key_window(f->a, 1000,
						      INT64_C(400) * 366 *
							      TU_DAY),
			 QUOTA_OK);
	ck_assert_int_eq(quota_charge(f->a, &u, &r), QUOTA_OK);
	u.key = "fx-rev";
	ck_assert_int_eq(quota_charge(f->a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_reverse(f->a, "fx-rev", f->t0, &r), QUOTA_OK);
	u.units = 2;
	u.key = "fx-r";
	ck_assert_int_eq(quota_reserve(f->a, &u, TU_DAY, &r, &f->h_open),
			 QUOTA_OK);
	u.units = 1;
	u.key = NULL;
	ck_assert_int_eq(quota_reserve(f->a, &u, TU_DAY, &r, &f->h_done),
			 QUOTA_OK);
	ck_assert_int_eq(quota_commit(f->a, f->h_done, 1, "fx-c", &r),
			 QUOTA_OK);
	f->fee = fx_tariff(f, "fee");
	ck_assert_int_eq(quota_tariff_set_failure_fee(f->fee, INT64_MAX / 2),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(f->a, f->email, f->fee),
			 QUOTA_OK);
	u.category = f->email;
	u.units = 3;
	ck_assert_int_eq(quota_reserve(f->a, &u, TU_DAY, &r, &f->h_fee),
			 QUOTA_OK);
}

static inline void fx_build(fx *f)
{
	quota_package *p = NULL;
	int i;

	memset(f, 0, sizeof *f);
	tu_alloc_init(&f->al);
	f->t0 = tu_utc(2024, 5, 15, 10, 0, 0);
	f->tx = tu_utc(2030, 1, 15, 0, 0, 0);
	ck_assert_int_eq(quota_ctx_new_with(&f->al.a, &f->ctx), QUOTA_OK);
	f->sms = fx_cat(f, "sms");
	f->email = fx_cat(f, "email");
	f->big = fx_cat(f, "big");
	f->stopflag = fx_cat(f, "stopflag");
	f->capped = fx_cat(f, "capped");
	f->stoppol = fx_cat(f, "stoppol");
	f->huge = fx_cat(f, "huge");

	f->grad = fx_tariff(f, "grad");
	ck_assert_int_eq(quota_tariff_add_tier(f->grad, 100, 10000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(f->grad, QUOTA_UNLIMITED, 5000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(f->grad, 10, QUOTA_PERIOD_DAY),
			 QUOTA_OK);
	f->open = fx_tariff(f, "open");
	ck_assert_int_eq(quota_tariff_add_tier(f->open, 100, 1), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(f->open, 200, 2), QUOTA_OK);
	f->full = fx_tariff(f, "full");
	for (i = 0; i < 32; i++)
		ck_assert_int_eq(quota_tariff_add_tier(f->full, 10 * (i + 1),
						       i),
				 QUOTA_OK);
	f->vol = fx_tariff(f, "vol");
	ck_assert_int_eq(quota_tariff_add_tier(f->vol, 100, 10), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(f->vol, QUOTA_UNLIMITED, 5),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_mode(f->vol, QUOTA_VOLUME), QUOTA_OK);
	f->hugep = fx_tariff(f, "hugep");
	ck_assert_int_eq(quota_tariff_add_tier(f->hugep, QUOTA_UNLIMITED,
					       INT64_MAX / 2),
			 QUOTA_OK);
	f->hugeg = fx_tariff(f, "hugeg");
	ck_assert_int_eq(quota_tariff_add_tier(f->hugeg, 1, INT64_MAX / 2),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(f->hugeg, QUOTA_UNLIMITED,
					       INT64_MAX / 2),
			 QUOTA_OK);

	ck_assert_int_eq(zone_tzif(f->ctx, "Test/Berlin", 3600, BERLIN_RULE, 0,
				   1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_zone_find(f->ctx, "Test/Berlin", &f->zone),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_new(f->ctx, "acme", &f->a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(f->a, 3600), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(f->a, f->sms, f->grad),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(f->a, f->big, f->hugep),
			 QUOTA_OK);
	ck_assert_int_eq(fx_pkg(f, "P1", QUOTA_MASK(f->sms) |
						 QUOTA_MASK(f->email),
				100, f->t0 - 10 * TU_DAY, f->t0 + 30 * TU_DAY,
				0, 0, &f->p1),
			 QUOTA_OK);
	ck_assert_int_eq(fx_pkg(f, "S", QUOTA_MASK(f->stopflag), 5,
				f->t0 - TU_DAY, f->t0 + 10 * TU_DAY,
				QUOTA_PACKAGE_STOP, 0, &p),
			 QUOTA_OK);
	ck_assert_int_eq(fx_pkg(f, "N", QUOTA_MASK(f->sms), 50, f->t0,
				QUOTA_NEVER, 0, -1, &p),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(f->a, f->capped,
					       QUOTA_PERIOD_DAY, 10),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_overage(f->a, f->stoppol,
						   QUOTA_OVERAGE_STOP),
			 QUOTA_OK);
	fx_charge(f, f->sms, 30, f->t0);
	fx_charge(f, f->capped, 10, f->t0);
	fx_charge(f, f->email, 20, f->t0 - TU_DAY);
	fx_charge(f, f->huge, INT64_MAX - 5, f->tx);
	fx_holds(f);
	{
		quota_offer_spec os;

		memset(&os, 0, sizeof os);
		os.id = "fix";
		os.categories = QUOTA_MASK(f->sms);
		os.units = 100;
		os.price_micros = 10000000;
		os.valid_days = 30;
		ck_assert_int_eq(quota_offer_add(f->ctx, &os, &f->ofix),
				 QUOTA_OK);
		os.id = "qty";
		os.units = 0;
		os.price_micros = 0;
		os.unit_tariff = f->grad;
		os.min_units = 100;
		os.step_units = 100;
		ck_assert_int_eq(quota_offer_add(f->ctx, &os, &f->oqty),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_topup(f->a, 5000000, f->t0),
				 QUOTA_OK);
	}
}

static inline void fx_free(fx *f)
{
	quota_ctx_free(f->ctx);
	f->ctx = NULL;
	ck_assert_int_eq(f->al.live_blocks, 0);
	ck_assert_int_eq((long long)f->al.live_bytes, 0);
	ck_assert_int_eq(f->al.bad_frees, 0);
}

/* ------------------------------------------------------------ row helpers */

static const char s129[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"a";

/* *out must be NULL after a failure (STYLE 4). */
static inline int new_account(fx *f, quota_ctx *c, const char *id, int with_out)
{
	quota_account *a = (quota_account *)&F;
	int rc = quota_account_new(c, id, with_out ? &a : NULL);

	(void)f;
	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(a);
	return rc;
}

static inline int find_account(fx *f, const char *id)
{
	quota_account *a = (quota_account *)&F;
	int rc = quota_account_find(f->ctx, id, &a);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(a);
	return rc;
}

static inline int new_tariff(quota_ctx *c, const char *name, int with_out)
{
	quota_tariff *t = (quota_tariff *)&F;
	int rc = quota_tariff_new(c, name, with_out ? &t : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(t);
	return rc;
}

static inline int find_tariff(fx *f, const char *name)
{
	quota_tariff *t = (quota_tariff *)&F;
	int rc = quota_tariff_find(f->ctx, name, &t);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(t);
	return rc;
}

static inline int add_pkg(fx *f, quota_account *a, const char *id,
			  uint64_t mask, int64_t units, int64_t eff,
			  int64_t exp, int64_t price, uint32_t flags)
{
	quota_package_spec s;
	quota_package *p = (quota_package *)&F;
	int rc;

	memset(&s, 0, sizeof s);
	s.id = id;
	s.categories = mask;
	s.units = units;
	s.effective_at = eff;
	s.expires_at = exp;
	s.price_micros = price;
	s.flags = flags;
	(void)f;
	rc = quota_package_add(a, &s, &p);
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

static inline int find_pkg(fx *f, const quota_account *a, const char *id)
{
	quota_package *p = (quota_package *)&F;
	int rc = quota_package_find(a, id, &p);

	(void)f;
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

/* quota_charge / quota_quote; a failed call zeroes the receipt. */
static inline int chg(fx *f, int quote, quota_account *a, uint32_t cat,
		      int64_t units, int64_t at, const char *key)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quote ? quota_quote(a, &u, &r) : quota_charge(a, &u, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* quota_reserve: a failed call zeroes the receipt and *hold_id. */
static inline int rsv(fx *f, quota_account *a, uint32_t cat, int64_t units,
		      int64_t at, int64_t timeout, const char *key, int with_id)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r;
	uint64_t h = 77;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_reserve(a, &u, timeout, &r, with_id ? &h : NULL);
	if (rc != QUOTA_OK) {
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
		if (with_id)
			ck_assert_uint_eq(h, 0);
	}
	return rc;
}

static inline int find_offer(fx *f, const char *id)
{
	quota_offer *o = NULL;

	return quota_offer_find(f->ctx, id, &o);
}

/* quota_package_quote (buy = 0) or quota_package_buy (buy = 1). */
static inline int purchase(fx *f, int buy, quota_account *a,
			   const quota_offer *o, int64_t q, int vkind,
			   int64_t vvalue, int64_t vmin, int64_t at,
			   const char *id)
{
	quota_voucher v = {vkind, vvalue, vmin};
	quota_purchase pu;

	(void)f;
	if (buy)
		return quota_package_buy(a, o, q, vkind ? &v : NULL, at, id,
					 &pu);
	return quota_package_quote(a, o, q, vkind ? &v : NULL, at, &pu);
}

/* Getters returning int64_t: a negative result is the code. */
static inline int as_code(int64_t v)
{
	return v < 0 ? (int)v : 1;
}

/* ------------------------------------------------------------------ rows */

#define BAD_UTF8 "sms\xff"
#define OVERLONG "\xc0\xaf"
#define SURROGATE "a\xed\xa0\x80"
#define TRUNCATED "abc\xe2\x82"
#define ABOVE_MAX "\xf4\x90\x80\x80"

#define K65 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define T0 (f->t0)

/*
 * Each file lists its rows as X(name, expected code, 1 if the call can
 * reach the ctx, expression) in ROWS(X), defines a function per row with
 * ROWS(ROW_DEF) and tables them with {ROWS(ROW_ENT)}; its
 * test_bad_input_table runs row_check on rows[_i], 0 <= _i < NROWS.
 */
#define ROW_DEF(name, want, hasctx, expr)                                      \
	static int row_##name(fx *f)                                           \
	{                                                                      \
		(void)f;                                                       \
		return (expr);                                                 \
	}

typedef struct row {
	const char *name;
	int want;
	int has_ctx;
	int (*fn)(fx *f);
} row;

#define ROW_ENT(name, want, hasctx, expr) {#name, want, hasctx, row_##name},

#define NROWS ((int)(sizeof rows / sizeof rows[0]))

/* One row against a fresh fixture: its code, its message, nothing changed. */
static inline void row_check(const row *r)
{
	world before, after;
	int rc;

	fx_build(&F);
	/* A successful call first, so the message is the row's own. */
	ck_assert_int_eq(quota_account_set_overage(F.a, F.sms,
						   QUOTA_OVERAGE_PAYG),
			 QUOTA_OK);
	ck_assert_str_eq(quota_errmsg(F.ctx), "");
	world_take(&before, &F);
	rc = r->fn(&F);
	ck_assert_msg(rc == r->want, "%s: want %s, got %s (%s)", r->name,
		      quota_err_name(r->want), quota_err_name(rc),
		      quota_errmsg(F.ctx));
	if (r->has_ctx)
		ck_assert_msg(quota_errmsg(F.ctx)[0] != '\0',
			      "%s: empty quota_errmsg", r->name);
	world_take(&after, &F);
	world_assert_eq(&before, &after);
	fx_free(&F);
}

#endif /* QUOTA_TEST_BADINPUT_H */
