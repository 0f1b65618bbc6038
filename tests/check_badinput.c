/*
 * check_badinput.c - every bad input gets its specific QUOTA_E* code, a
 * non-empty quota_errmsg, and leaves every observable state unchanged
 * (DESIGN.md §6, R8).  One table row per (function, bad input); the rows
 * run against the same fixture, each in a fresh copy of it.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

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

static int zone_tzif(quota_ctx *c, const char *name, int32_t utoff,
		     const char *footer, size_t cut, int with_out);
#define BERLIN_RULE TU_BERLIN_RULE

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

static void world_take(world *w, fx *f)
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

static void world_assert_eq(const world *x, const world *y)
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

static uint32_t fx_cat(fx *f, const char *name)
{
	uint32_t id = 999;

	ck_assert_int_eq(quota_category_add(f->ctx, name, &id), QUOTA_OK);
	return id;
}

static quota_tariff *fx_tariff(fx *f, const char *name)
{
	quota_tariff *t = NULL;

	ck_assert_int_eq(quota_tariff_new(f->ctx, name, &t), QUOTA_OK);
	return t;
}

static int fx_pkg(fx *f, const char *id, uint64_t mask, int64_t units,
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

static void fx_charge(fx *f, uint32_t cat, int64_t units, int64_t at)
{
	quota_usage u = {.category = cat, .units = units, .at = at};
	quota_receipt r;
	int rc = quota_charge(f->a, &u, &r);

	ck_assert_msg(rc == QUOTA_OK, "fixture charge: %s (%s)",
		      quota_err_name(rc), quota_errmsg(f->ctx));
}

static void fx_holds(fx *f)
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

static void fx_build(fx *f)
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

static void fx_free(fx *f)
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
static const char s64[] =
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/* ------------------------------------------------------- R26 time zones */

/* quota_zone_load; *out must be NULL after a failure. */
static int zone_load(quota_ctx *c, const char *name, int with_out)
{
	quota_zone *z = (quota_zone *)&F;
	int rc = quota_zone_load(c, name, with_out ? &z : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(z);
	return rc;
}

/* quota_zone_from_tzif of a rule (footer), or of the Berlin file cut to
 * len bytes (footer NULL), or of NULL bytes (len 0, footer NULL). */
static int zone_tzif(quota_ctx *c, const char *name, int32_t utoff,
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

static int zone_find(quota_ctx *c, const char *name, int with_out)
{
	quota_zone *z = (quota_zone *)&F;
	int rc = quota_zone_find(c, name, with_out ? &z : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(z);
	return rc;
}

static int zone_offset(const quota_zone *z, int64_t at, int with_out)
{
	int32_t off = 7;
	int rc = quota_zone_offset(z, at, with_out ? &off : NULL);

	if (rc != QUOTA_OK)
		ck_assert_int_eq(off, with_out ? 0 : 7);
	return rc;
}

/* A zone of another context. */
static int zone_of_other_ctx(fx *f)
{
	quota_ctx *c;
	quota_zone *z;
	int rc;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(zone_tzif(c, "Test/Berlin", 3600, BERLIN_RULE, 0, 1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_zone_find(c, "Test/Berlin", &z), QUOTA_OK);
	rc = quota_account_set_zone(f->a, z);
	quota_ctx_free(c);
	return rc;
}

/* *out must be NULL after a failure (STYLE 4). */
static int new_account(fx *f, quota_ctx *c, const char *id, int with_out)
{
	quota_account *a = (quota_account *)&F;
	int rc = quota_account_new(c, id, with_out ? &a : NULL);

	(void)f;
	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(a);
	return rc;
}

static int find_account(fx *f, const char *id)
{
	quota_account *a = (quota_account *)&F;
	int rc = quota_account_find(f->ctx, id, &a);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(a);
	return rc;
}

static int new_tariff(quota_ctx *c, const char *name, int with_out)
{
	quota_tariff *t = (quota_tariff *)&F;
	int rc = quota_tariff_new(c, name, with_out ? &t : NULL);

	if (rc != QUOTA_OK && with_out)
		ck_assert_ptr_null(t);
	return rc;
}

static int find_tariff(fx *f, const char *name)
{
	quota_tariff *t = (quota_tariff *)&F;
	int rc = quota_tariff_find(f->ctx, name, &t);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(t);
	return rc;
}

static int add_pkg(fx *f, quota_account *a, const char *id, uint64_t mask,
		   int64_t units, int64_t eff, int64_t exp, int64_t price,
		   uint32_t flags)
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

static int add_null_spec(fx *f)
{
	quota_package *p = (quota_package *)&F;
	int rc = quota_package_add(f->a, NULL, &p);

	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

static int find_pkg(fx *f, const quota_account *a, const char *id)
{
	quota_package *p = (quota_package *)&F;
	int rc = quota_package_find(a, id, &p);

	(void)f;
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(p);
	return rc;
}

/* quota_charge / quota_quote; a failed call zeroes the receipt. */
static int chg(fx *f, int quote, quota_account *a, uint32_t cat,
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

static int chg_null_usage(fx *f, int quote)
{
	quota_receipt r;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quote ? quota_quote(f->a, NULL, &r) : quota_charge(f->a, NULL, &r);
	if (rc != QUOTA_OK)
		ck_assert(tu_receipt_is_zero(&r));
	return rc;
}

/* quota_reserve: a failed call zeroes the receipt and *hold_id. */
static int rsv(fx *f, quota_account *a, uint32_t cat, int64_t units,
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

static int rsv_null_usage(fx *f)
{
	quota_receipt r;
	uint64_t h = 77;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quota_reserve(f->a, NULL, 60, &r, &h);
	if (rc != QUOTA_OK) {
		ck_assert(tu_receipt_is_zero(&r));
		ck_assert_uint_eq(h, 0);
	}
	return rc;
}

static int cmt(fx *f, quota_account *a, uint64_t h, int64_t used,
	       const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_commit(a, h, used, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rls(fx *f, quota_account *a, uint64_t h, const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release(a, h, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rev(fx *f, quota_account *a, const char *key, int64_t at)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_reverse(a, key, at, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* R27: reversal by receipt id, release with a reason. */
static int rvr(fx *f, quota_account *a, uint64_t id, int64_t at)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_reverse_receipt(a, id, at, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

static int rlsr(fx *f, quota_account *a, uint64_t h, int32_t reason)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release_reason(a, h, reason, NULL, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* quota_release_reason with a key. */
static int rlsrk(fx *f, quota_account *a, uint64_t h, int32_t reason,
		 const char *key)
{
	quota_receipt r;
	int rc;

	(void)f;
	memset(&r, 0x6b, sizeof r);
	rc = quota_release_reason(a, h, reason, key, &r);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* R25: a reason one byte over QUOTA_REASON_MAX. */
static const char *reason_256(void)
{
	static char buf[QUOTA_REASON_MAX + 2];

	memset(buf, 'r', QUOTA_REASON_MAX + 1);
	buf[QUOTA_REASON_MAX + 1] = '\0';
	return buf;
}

/* Getters returning int64_t: a negative result is the code. */
/* ------------------------------------------------ issue 5 row helpers */

static int round_(int64_t v, int64_t minor, int mode, int with_out)
{
	int64_t out = 0;

	return quota_money_round(v, minor, mode, with_out ? &out : NULL);
}

static int money_(fx *f, quota_account *a, int with_out)
{
	quota_money m;

	(void)f;
	return quota_account_money(a, with_out ? &m : NULL);
}

/* quota_offer_add with one field of a valid by-quantity spec spoiled. */
enum { OB_NULL_SPEC, OB_NULL_OUT, OB_NULL_ID, OB_BAD_UTF8, OB_DUP,
       OB_NO_CATS, OB_UNKNOWN_CAT, OB_NOTHING, OB_NEG_PRICE, OB_BOTH,
       OB_STEP0, OB_MIN0, OB_MAX_LT_MIN, OB_NEG_MONTHS, OB_NEG_DAYS,
       OB_FLAG, OB_FOREIGN, OB_NULL_CTX };

static int bad_offer(fx *f, int k)
{
	quota_offer_spec os;
	quota_offer *o = NULL;
	quota_ctx *other = NULL;
	quota_tariff *ot = NULL;
	int rc;

	memset(&os, 0, sizeof os);
	os.id = "new-offer";
	os.categories = QUOTA_MASK(f->sms);
	os.unit_tariff = f->grad;
	os.min_units = 100;
	os.step_units = 100;
	os.valid_months = 1;
	switch (k) {
	case OB_NULL_ID: os.id = NULL; break;
	case OB_BAD_UTF8: os.id = "offer\xff"; break;
	case OB_DUP: os.id = "qty"; break;
	case OB_NO_CATS: os.categories = 0; break;
	case OB_UNKNOWN_CAT: os.categories |= QUOTA_MASK(63); break;
	case OB_NOTHING: os.unit_tariff = NULL; break;
	case OB_NEG_PRICE:
		os.unit_tariff = NULL;
		os.units = 10;
		os.price_micros = -1;
		break;
	case OB_BOTH: os.units = 10; break;
	case OB_STEP0: os.step_units = 0; break;
	case OB_MIN0: os.min_units = 0; break;
	case OB_MAX_LT_MIN: os.max_units = 50; break;
	case OB_NEG_MONTHS: os.valid_months = -1; break;
	case OB_NEG_DAYS: os.valid_days = -1; break;
	case OB_FLAG: os.flags = 0x10; break;
	case OB_FOREIGN:
		ck_assert_int_eq(quota_ctx_new(&other), QUOTA_OK);
		ck_assert_int_eq(quota_tariff_new(other, "t", &ot), QUOTA_OK);
		os.unit_tariff = ot;
		break;
	default: break;
	}
	rc = quota_offer_add(k == OB_NULL_CTX ? NULL : f->ctx,
			     k == OB_NULL_SPEC ? NULL : &os,
			     k == OB_NULL_OUT ? NULL : &o);
	quota_ctx_free(other);
	if (rc != QUOTA_OK)
		ck_assert_ptr_null(o);
	return rc;
}

/* R23: an offer of another context cannot be marked on f's account. */
static int renew_foreign(fx *f)
{
	quota_offer_spec os = {.id = "elsewhere", .categories = 1,
			       .units = 1, .price_micros = 1};
	quota_ctx *c = NULL;
	quota_offer *o = NULL;
	uint32_t id;
	int rc;

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(c, "x", &id), QUOTA_OK);
	ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
	rc = quota_renewal_set(f->a, o, 1, 1, f->t0);
	quota_ctx_free(c);
	return rc;
}

static int find_offer(fx *f, const char *id)
{
	quota_offer *o = NULL;

	return quota_offer_find(f->ctx, id, &o);
}

/* quota_package_quote (buy = 0) or quota_package_buy (buy = 1). */
static int purchase(fx *f, int buy, quota_account *a, const quota_offer *o,
		    int64_t q, int vkind, int64_t vvalue, int64_t vmin,
		    int64_t at, const char *id)
{
	quota_voucher v = {vkind, vvalue, vmin};
	quota_purchase pu;

	(void)f;
	if (buy)
		return quota_package_buy(a, o, q, vkind ? &v : NULL, at, id,
					 &pu);
	return quota_package_quote(a, o, q, vkind ? &v : NULL, at, &pu);
}

static int row_fn_stop(const quota_report_row *r, void *ud)
{
	(void)r;
	(void)ud;
	return 1;
}

static int row_write_fail(const char *buf, size_t len, void *ud)
{
	(void)buf;
	(void)len;
	(void)ud;
	return -1;
}

static int report_(fx *f, quota_account *a, int period, int64_t from,
		   int64_t to, int how)
{
	(void)f;
	switch (how) {
	case 0:
		return quota_report(a, period, from, to, NULL, NULL);
	case 1:
		return quota_report(a, period, from, to, row_fn_stop, NULL);
	case 2:
		return quota_report_csv(a, period, from, to, NULL, NULL);
	case 3:
		return quota_report_csv(a, period, from, to, row_write_fail,
					NULL);
	default:
		return quota_report_csv_file(a, period, from, to, NULL);
	}
}

static int as_code(int64_t v)
{
	return v < 0 ? (int)v : 1;
}

static int price(const quota_tariff *t, int64_t v, int64_t n, int with_out)
{
	int64_t cost = 0;

	return quota_tariff_price(t, v, n, with_out ? &cost : NULL);
}

static int get_spec(const quota_package *p, int with_out)
{
	quota_package_spec s;

	return quota_package_get_spec(p, with_out ? &s : NULL);
}

static int ctx_new_with_alloc(unsigned version, int null_fn)
{
	quota_allocator al = QUOTA_ALLOCATOR_INIT;
	quota_ctx *c = (quota_ctx *)&F;
	tu_alloc t;
	int rc;

	tu_alloc_init(&t);
	al = t.a;
	al.version = version;
	if (null_fn)
		al.malloc_fn = NULL;
	rc = quota_ctx_new_with(&al, &c);
	if (rc == QUOTA_OK)
		quota_ctx_free(c);
	else
		ck_assert_ptr_null(c);
	ck_assert_int_eq(t.live_blocks, 0);
	return rc;
}

/* ------------------------------------------------------------------ rows */

#define BAD_UTF8 "sms\xff"
#define OVERLONG "\xc0\xaf"
#define SURROGATE "a\xed\xa0\x80"
#define TRUNCATED "abc\xe2\x82"
#define ABOVE_MAX "\xf4\x90\x80\x80"

#define K65 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define M_SMS QUOTA_MASK(f->sms)
#define T0 (f->t0)

/* X(name, expected code, 1 if the call can reach the ctx, expression) */
#define ROWS(X)                                                                \
	X(ctx_new_null_out, QUOTA_EINVAL, 0, quota_ctx_new(NULL))              \
	X(ctx_new_with_null_out, QUOTA_EINVAL, 0,                              \
	  quota_ctx_new_with(NULL, NULL))                                      \
	X(ctx_new_with_bad_version, QUOTA_EINVAL, 0,                           \
	  ctx_new_with_alloc(QUOTA_ALLOCATOR_VERSION + 41, 0))                 \
	X(ctx_new_with_null_malloc, QUOTA_EINVAL, 0,                           \
	  ctx_new_with_alloc(QUOTA_ALLOCATOR_VERSION, 1))                      \
	/* categories */                                                       \
	X(category_add_null_ctx, QUOTA_EINVAL, 0,                              \
	  quota_category_add(NULL, "x", &f->id_out))                           \
	X(category_add_null_name, QUOTA_EINVAL, 1,                             \
	  quota_category_add(f->ctx, NULL, &f->id_out))                        \
	X(category_add_empty_name, QUOTA_EINVAL, 1,                            \
	  quota_category_add(f->ctx, "", &f->id_out))                          \
	X(category_add_64_bytes, QUOTA_EINVAL, 1,                              \
	  quota_category_add(f->ctx, s64, &f->id_out))                         \
	X(category_add_bad_utf8, QUOTA_EENCODING, 1,                           \
	  quota_category_add(f->ctx, BAD_UTF8, &f->id_out))                    \
	X(category_add_overlong_utf8, QUOTA_EENCODING, 1,                      \
	  quota_category_add(f->ctx, OVERLONG, &f->id_out))                    \
	X(category_add_surrogate_utf8, QUOTA_EENCODING, 1,                     \
	  quota_category_add(f->ctx, SURROGATE, &f->id_out))                   \
	X(category_add_truncated_utf8, QUOTA_EENCODING, 1,                     \
	  quota_category_add(f->ctx, TRUNCATED, &f->id_out))                   \
	X(category_add_above_10ffff, QUOTA_EENCODING, 1,                       \
	  quota_category_add(f->ctx, ABOVE_MAX, &f->id_out))                   \
	X(category_add_duplicate, QUOTA_EEXISTS, 1,                            \
	  quota_category_add(f->ctx, "email", &f->id_out))                     \
	X(category_add_null_id, QUOTA_EINVAL, 1,                               \
	  quota_category_add(f->ctx, "sms.new", NULL))                         \
	X(category_find_null_ctx, QUOTA_EINVAL, 0,                             \
	  quota_category_find(NULL, "sms", &f->id_out))                        \
	X(category_find_null_name, QUOTA_EINVAL, 1,                            \
	  quota_category_find(f->ctx, NULL, &f->id_out))                       \
	X(category_find_unknown, QUOTA_ENOTFOUND, 1,                           \
	  quota_category_find(f->ctx, "sms.verify", &f->id_out))               \
	X(category_find_empty_name, QUOTA_EINVAL, 1,                           \
	  quota_category_find(f->ctx, "", &f->id_out))                         \
	X(category_find_64_bytes, QUOTA_EINVAL, 1,                             \
	  quota_category_find(f->ctx, s64, &f->id_out))                        \
	X(category_find_bad_utf8, QUOTA_EENCODING, 1,                          \
	  quota_category_find(f->ctx, BAD_UTF8, &f->id_out))                   \
	/* tariffs */                                                          \
	X(tariff_new_null_ctx, QUOTA_EINVAL, 0, new_tariff(NULL, "t", 1))      \
	X(tariff_new_null_name, QUOTA_EINVAL, 1, new_tariff(f->ctx, NULL, 1))  \
	X(tariff_new_empty_name, QUOTA_EINVAL, 1, new_tariff(f->ctx, "", 1))   \
	X(tariff_new_129_bytes, QUOTA_EINVAL, 1, new_tariff(f->ctx, s129, 1))  \
	X(tariff_new_bad_utf8, QUOTA_EENCODING, 1,                             \
	  new_tariff(f->ctx, BAD_UTF8, 1))                                     \
	X(tariff_new_overlong_utf8, QUOTA_EENCODING, 1,                        \
	  new_tariff(f->ctx, OVERLONG, 1))                                     \
	X(tariff_new_duplicate, QUOTA_EEXISTS, 1, new_tariff(f->ctx, "vol", 1)) \
	X(tariff_new_null_out, QUOTA_EINVAL, 1, new_tariff(f->ctx, "t2", 0))   \
	X(tariff_find_unknown, QUOTA_ENOTFOUND, 1, find_tariff(f, "nope"))     \
	X(tariff_find_null_name, QUOTA_EINVAL, 1, find_tariff(f, NULL))        \
	X(tariff_find_empty_name, QUOTA_EINVAL, 1, find_tariff(f, ""))         \
	X(tariff_find_129_bytes, QUOTA_EINVAL, 1, find_tariff(f, s129))        \
	X(tariff_find_bad_utf8, QUOTA_EENCODING, 1, find_tariff(f, BAD_UTF8))  \
	X(tier_null_tariff, QUOTA_EINVAL, 0, quota_tariff_add_tier(NULL, 5, 1)) \
	X(tier_up_to_zero, QUOTA_EINVAL, 1, quota_tariff_add_tier(f->open, 0, 1)) \
	X(tier_up_to_negative, QUOTA_EINVAL, 1,                                \
	  quota_tariff_add_tier(f->open, -300, 1))                             \
	X(tier_up_to_equal, QUOTA_EINVAL, 1,                                   \
	  quota_tariff_add_tier(f->open, 200, 1))                              \
	X(tier_up_to_decreasing, QUOTA_EINVAL, 1,                              \
	  quota_tariff_add_tier(f->open, 150, 1))                              \
	X(tier_negative_price, QUOTA_EINVAL, 1,                                \
	  quota_tariff_add_tier(f->open, 300, -1))                             \
	X(tier_after_unlimited, QUOTA_EINVAL, 1,                               \
	  quota_tariff_add_tier(f->grad, QUOTA_UNLIMITED, 1))                  \
	X(tier_33rd, QUOTA_EOVERFLOW, 1,                                       \
	  quota_tariff_add_tier(f->full, 1000, 1))                             \
	X(set_mode_null, QUOTA_EINVAL, 0, quota_tariff_set_mode(NULL, 0))      \
	X(set_mode_2, QUOTA_EINVAL, 1, quota_tariff_set_mode(f->vol, 2))       \
	X(set_mode_negative, QUOTA_EINVAL, 1, quota_tariff_set_mode(f->vol, -1)) \
	X(set_free_null, QUOTA_EINVAL, 0,                                      \
	  quota_tariff_set_free(NULL, 1, QUOTA_PERIOD_DAY))                    \
	X(set_free_negative, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, -1, QUOTA_PERIOD_DAY))                \
	X(set_free_period_0, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, 5, 0))                                \
	X(set_free_period_4, QUOTA_EINVAL, 1,                                  \
	  quota_tariff_set_free(f->grad, 5, 4))                                \
	X(set_free_daily_limit_null, QUOTA_EINVAL, 0,                          \
	  quota_tariff_set_free_daily_limit(NULL, 1))                          \
	X(set_free_daily_limit_negative, QUOTA_EINVAL, 1,                      \
	  quota_tariff_set_free_daily_limit(f->grad, -1))                      \
	X(price_null_tariff, QUOTA_EINVAL, 0, price(NULL, 0, 1, 1))            \
	X(price_null_out, QUOTA_EINVAL, 1, price(f->grad, 0, 1, 0))            \
	X(price_negative_units, QUOTA_EINVAL, 1, price(f->grad, 0, -1, 1))     \
	X(price_overflow_flat, QUOTA_EOVERFLOW, 1, price(f->hugep, 0, 3, 1))   \
	X(price_overflow_graduated_sum, QUOTA_EOVERFLOW, 1,                    \
	  price(f->hugeg, 0, 3, 1))                                            \
	/* accounts */                                                         \
	X(account_new_null_ctx, QUOTA_EINVAL, 0, new_account(f, NULL, "b", 1)) \
	X(account_new_null_id, QUOTA_EINVAL, 1, new_account(f, f->ctx, NULL, 1)) \
	X(account_new_empty_id, QUOTA_EINVAL, 1, new_account(f, f->ctx, "", 1)) \
	X(account_new_129_bytes, QUOTA_EINVAL, 1,                              \
	  new_account(f, f->ctx, s129, 1))                                     \
	X(account_new_bad_utf8, QUOTA_EENCODING, 1,                            \
	  new_account(f, f->ctx, BAD_UTF8, 1))                                 \
	X(account_new_surrogate, QUOTA_EENCODING, 1,                           \
	  new_account(f, f->ctx, SURROGATE, 1))                                \
	X(account_new_duplicate, QUOTA_EEXISTS, 1,                             \
	  new_account(f, f->ctx, "acme", 1))                                   \
	X(account_new_null_out, QUOTA_EINVAL, 1,                               \
	  new_account(f, f->ctx, "b", 0))                                      \
	X(account_find_unknown, QUOTA_ENOTFOUND, 1, find_account(f, "globex")) \
	X(account_find_null_id, QUOTA_EINVAL, 1, find_account(f, NULL))        \
	X(account_find_empty_id, QUOTA_EINVAL, 1, find_account(f, ""))         \
	X(account_find_129_bytes, QUOTA_EINVAL, 1, find_account(f, s129))      \
	X(account_find_bad_utf8, QUOTA_EENCODING, 1, find_account(f, BAD_UTF8)) \
	X(utc_offset_null, QUOTA_EINVAL, 0, quota_account_set_utc_offset(NULL, 0)) \
	X(utc_offset_too_east, QUOTA_EINVAL, 1,                                \
	  quota_account_set_utc_offset(f->a, 64801))                           \
	X(utc_offset_too_west, QUOTA_EINVAL, 1,                                \
	  quota_account_set_utc_offset(f->a, -64801))                          \
	X(utc_offset_after_usage, QUOTA_EINVAL, 1,                             \
	  quota_account_set_utc_offset(f->a, 0))                               \
	/* R26 time zones */                                                   \
	X(zone_load_null_ctx, QUOTA_EINVAL, 0,                                 \
	  zone_load(NULL, "Europe/Berlin", 1))                                 \
	X(zone_load_null_name, QUOTA_EINVAL, 1, zone_load(f->ctx, NULL, 1))    \
	X(zone_load_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_load(f->ctx, "Europe/Berlin", 0))                               \
	X(zone_load_empty_name, QUOTA_EINVAL, 1, zone_load(f->ctx, "", 1))     \
	X(zone_load_parent, QUOTA_EINVAL, 1,                                   \
	  zone_load(f->ctx, "../../etc/passwd", 1))                            \
	X(zone_load_absolute, QUOTA_EINVAL, 1,                                 \
	  zone_load(f->ctx, "/etc/passwd", 1))                                 \
	X(zone_load_dotdot_part, QUOTA_EINVAL, 1,                              \
	  zone_load(f->ctx, "Europe/../Berlin", 1))                            \
	X(zone_load_empty_part, QUOTA_EINVAL, 1,                               \
	  zone_load(f->ctx, "Europe//Berlin", 1))                              \
	X(zone_load_space, QUOTA_EINVAL, 1, zone_load(f->ctx, "Europe/ Berlin", 1)) \
	X(zone_load_129_bytes, QUOTA_EINVAL, 1, zone_load(f->ctx, s129, 1))    \
	X(zone_load_missing, QUOTA_ENOTFOUND, 1,                               \
	  zone_load(f->ctx, "Mars/Olympus_Mons", 1))                           \
	X(zone_load_not_tzif, QUOTA_ECORRUPT, 1,                               \
	  zone_load(f->ctx, "zone.tab", 1))                                    \
	X(zone_tzif_null_ctx, QUOTA_EINVAL, 0,                                 \
	  zone_tzif(NULL, "z", 3600, BERLIN_RULE, 0, 1))                       \
	X(zone_tzif_null_name, QUOTA_EINVAL, 1,                                \
	  zone_tzif(f->ctx, NULL, 3600, BERLIN_RULE, 0, 1))                    \
	X(zone_tzif_null_bytes, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, NULL, 0, 1))                            \
	X(zone_tzif_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_tzif(f->ctx, "z", 3600, BERLIN_RULE, 0, 0))                     \
	X(zone_tzif_empty_name, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "", 3600, BERLIN_RULE, 0, 1))                      \
	X(zone_tzif_bad_utf8_name, QUOTA_EENCODING, 1,                         \
	  zone_tzif(f->ctx, BAD_UTF8, 3600, BERLIN_RULE, 0, 1))                \
	X(zone_tzif_truncated, QUOTA_ECORRUPT, 1,                              \
	  zone_tzif(f->ctx, "z", 3600, NULL, 60, 1))                           \
	X(zone_tzif_no_magic, QUOTA_ECORRUPT, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, NULL, 3, 1))                            \
	X(zone_tzif_bad_rule, QUOTA_ECORRUPT, 1,                               \
	  zone_tzif(f->ctx, "z", 3600, "CET-1CEST,M13.5.0,M10.5.0", 0, 1))     \
	X(zone_tzif_bad_offset, QUOTA_ECORRUPT, 1,                             \
	  zone_tzif(f->ctx, "z", INT32_MIN, BERLIN_RULE, 0, 1))                \
	X(zone_tzif_beyond_18h, QUOTA_EINVAL, 1,                               \
	  zone_tzif(f->ctx, "z", 18 * 3600 + 1, "", 0, 1))                     \
	X(zone_tzif_rule_beyond_18h, QUOTA_ECORRUPT, 1,                        \
	  zone_tzif(f->ctx, "z", 3600, "XXX-19", 0, 1))                        \
	X(zone_tzif_other_bytes, QUOTA_EEXISTS, 1,                             \
	  zone_tzif(f->ctx, "Test/Berlin", 3600, "CET-1", 0, 1))               \
	X(zone_find_null_ctx, QUOTA_EINVAL, 0, zone_find(NULL, "z", 1))        \
	X(zone_find_null_name, QUOTA_EINVAL, 1, zone_find(f->ctx, NULL, 1))    \
	X(zone_find_null_out, QUOTA_EINVAL, 1,                                 \
	  zone_find(f->ctx, "Test/Berlin", 0))                                 \
	X(zone_find_unknown, QUOTA_ENOTFOUND, 1,                               \
	  zone_find(f->ctx, "Asia/Tokyo", 1))                                  \
	X(zone_offset_null_zone, QUOTA_EINVAL, 0, zone_offset(NULL, T0, 1))    \
	X(zone_offset_null_out, QUOTA_EINVAL, 0, zone_offset(f->zone, T0, 0))  \
	X(zone_offset_before_min, QUOTA_EINVAL, 1,                             \
	  zone_offset(f->zone, QUOTA_TIME_MIN - 1, 1))                         \
	X(zone_offset_at_max, QUOTA_EINVAL, 1,                                 \
	  zone_offset(f->zone, QUOTA_TIME_MAX, 1))                             \
	X(set_zone_null_account, QUOTA_EINVAL, 0,                              \
	  quota_account_set_zone(NULL, f->zone))                               \
	X(set_zone_after_usage, QUOTA_EINVAL, 1,                               \
	  quota_account_set_zone(f->a, f->zone))                               \
	X(set_zone_none_after_usage, QUOTA_EINVAL, 1,                          \
	  quota_account_set_zone(f->a, NULL))                                  \
	X(set_zone_other_ctx, QUOTA_EINVAL, 1, zone_of_other_ctx(f))           \
	X(set_tariff_null_account, QUOTA_EINVAL, 0,                            \
	  quota_account_set_tariff(NULL, 0, f->grad))                          \
	X(set_tariff_unknown_category, QUOTA_ENOTFOUND, 1,                     \
	  quota_account_set_tariff(f->a, 7, f->grad))                          \
	X(set_tariff_category_all, QUOTA_ENOTFOUND, 1,                         \
	  quota_account_set_tariff(f->a, QUOTA_ALL, f->grad))                  \
	X(set_cap_null_account, QUOTA_EINVAL, 0,                               \
	  quota_account_set_cap(NULL, 0, QUOTA_PERIOD_DAY, 5))                 \
	X(set_cap_unknown_category, QUOTA_ENOTFOUND, 1,                        \
	  quota_account_set_cap(f->a, 7, QUOTA_PERIOD_DAY, 5))                 \
	X(set_cap_category_63, QUOTA_ENOTFOUND, 1,                             \
	  quota_account_set_cap(f->a, 63, QUOTA_PERIOD_DAY, 5))                \
	X(set_cap_period_lifetime, QUOTA_EINVAL, 1,                            \
	  quota_account_set_cap(f->a, f->sms, QUOTA_PERIOD_LIFETIME, 5))       \
	X(set_cap_period_0, QUOTA_EINVAL, 1,                                   \
	  quota_account_set_cap(f->a, QUOTA_ALL, 0, 5))                        \
	X(set_overage_null_account, QUOTA_EINVAL, 0,                           \
	  quota_account_set_overage(NULL, 0, QUOTA_OVERAGE_STOP))              \
	X(set_overage_unknown_category, QUOTA_ENOTFOUND, 1,                    \
	  quota_account_set_overage(f->a, 7, QUOTA_OVERAGE_STOP))              \
	X(set_overage_policy_2, QUOTA_EINVAL, 1,                               \
	  quota_account_set_overage(f->a, f->sms, 2))                          \
	X(remaining_null_account, QUOTA_EINVAL, 0,                             \
	  as_code(quota_account_remaining(NULL, 0, T0)))                       \
	X(remaining_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  as_code(quota_account_remaining(f->a, 7, T0)))                       \
	X(remaining_category_all, QUOTA_ENOTFOUND, 1,                          \
	  as_code(quota_account_remaining(f->a, QUOTA_ALL, T0)))               \
	X(remaining_time_max, QUOTA_EINVAL, 1,                                 \
	  as_code(quota_account_remaining(f->a, f->sms, QUOTA_TIME_MAX)))      \
	X(used_null_account, QUOTA_EINVAL, 0,                                  \
	  as_code(quota_account_used(NULL, 0, QUOTA_PERIOD_DAY, T0)))          \
	X(used_unknown_category, QUOTA_ENOTFOUND, 1,                           \
	  as_code(quota_account_used(f->a, 7, QUOTA_PERIOD_DAY, T0)))          \
	X(used_period_lifetime, QUOTA_EINVAL, 1,                               \
	  as_code(quota_account_used(f->a, f->sms, QUOTA_PERIOD_LIFETIME, T0))) \
	X(used_period_9, QUOTA_EINVAL, 1,                                      \
	  as_code(quota_account_used(f->a, QUOTA_ALL, 9, T0)))                 \
	X(used_time_before_min, QUOTA_EINVAL, 1,                               \
	  as_code(quota_account_used(f->a, f->sms, QUOTA_PERIOD_DAY,           \
				     QUOTA_TIME_MIN - 1)))                     \
	X(free_used_null_account, QUOTA_EINVAL, 0,                             \
	  as_code(quota_account_free_used(NULL, 0, T0)))                       \
	X(free_used_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  as_code(quota_account_free_used(f->a, 7, T0)))                       \
	X(free_used_time_max, QUOTA_EINVAL, 1,                                 \
	  as_code(quota_account_free_used(f->a, f->sms, QUOTA_TIME_MAX)))      \
	/* packages */                                                         \
	X(package_add_null_account, QUOTA_EINVAL, 0,                           \
	  add_pkg(f, NULL, "Q", M_SMS, 10, T0, T0 + 1, 0, 0))                  \
	X(package_add_null_spec, QUOTA_EINVAL, 1,                              \
	  add_null_spec(f))                                                    \
	X(package_add_null_id, QUOTA_EINVAL, 1,                                \
	  add_pkg(f, f->a, NULL, M_SMS, 10, T0, T0 + 1, 0, 0))                 \
	X(package_add_empty_id, QUOTA_EINVAL, 1,                               \
	  add_pkg(f, f->a, "", M_SMS, 10, T0, T0 + 1, 0, 0))                   \
	X(package_add_129_byte_id, QUOTA_EINVAL, 1,                            \
	  add_pkg(f, f->a, s129, M_SMS, 10, T0, T0 + 1, 0, 0))                 \
	X(package_add_bad_utf8_id, QUOTA_EENCODING, 1,                         \
	  add_pkg(f, f->a, BAD_UTF8, M_SMS, 10, T0, T0 + 1, 0, 0))             \
	X(package_add_truncated_utf8_id, QUOTA_EENCODING, 1,                   \
	  add_pkg(f, f->a, TRUNCATED, M_SMS, 10, T0, T0 + 1, 0, 0))            \
	X(package_add_duplicate_id, QUOTA_EEXISTS, 1,                          \
	  add_pkg(f, f->a, "N", M_SMS, 10, T0, T0 + 1, 0, 0))                  \
	X(package_add_empty_mask, QUOTA_EINVAL, 1,                             \
	  add_pkg(f, f->a, "Q", 0, 10, T0, T0 + 1, 0, 0))                      \
	X(package_add_unregistered_category, QUOTA_ENOTFOUND, 1,               \
	  add_pkg(f, f->a, "Q", M_SMS | QUOTA_MASK(40), 10, T0, T0 + 1, 0, 0)) \
	X(package_add_category_63, QUOTA_ENOTFOUND, 1,                         \
	  add_pkg(f, f->a, "Q", QUOTA_MASK(63), 10, T0, T0 + 1, 0, 0))         \
	X(package_add_zero_units, QUOTA_EINVAL, 1,                             \
	  add_pkg(f, f->a, "Q", M_SMS, 0, T0, T0 + 1, 0, 0))                   \
	X(package_add_negative_units, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, -10, T0, T0 + 1, 0, 0))                 \
	X(package_add_empty_interval, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0, 0, 0))                      \
	X(package_add_inverted_interval, QUOTA_EINVAL, 1,                      \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 - TU_DAY, 0, 0))             \
	X(package_add_effective_before_min, QUOTA_EINVAL, 1,                   \
	  add_pkg(f, f->a, "Q", M_SMS, 10, QUOTA_TIME_MIN - 1, T0, 0, 0))      \
	X(package_add_effective_never, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, QUOTA_NEVER, QUOTA_NEVER, 0, 0))    \
	X(package_add_expiry_time_max, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, QUOTA_TIME_MAX, 0, 0))          \
	X(package_add_expiry_past_max, QUOTA_EINVAL, 1,                        \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, QUOTA_NEVER - 1, 0, 0))         \
	X(package_add_negative_price, QUOTA_EINVAL, 1,                         \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, -1, 0))                 \
	X(package_add_unknown_flag, QUOTA_EINVAL, 1,                           \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, 0, 2))                  \
	X(package_add_high_flag, QUOTA_EINVAL, 1,                              \
	  add_pkg(f, f->a, "Q", M_SMS, 10, T0, T0 + 1, 0, 0x80000000u))        \
	X(package_add_total_units_overflow, QUOTA_EOVERFLOW, 1,                \
	  add_pkg(f, f->a, "Q", M_SMS, INT64_MAX, T0, T0 + 1, 0, 0))           \
	X(package_find_null_account, QUOTA_EINVAL, 0, find_pkg(f, NULL, "N"))  \
	X(package_find_null_id, QUOTA_EINVAL, 1, find_pkg(f, f->a, NULL))      \
	X(package_find_unknown, QUOTA_ENOTFOUND, 1, find_pkg(f, f->a, "Z"))    \
	X(package_find_empty_id, QUOTA_EINVAL, 1, find_pkg(f, f->a, ""))       \
	X(package_find_129_bytes, QUOTA_EINVAL, 1, find_pkg(f, f->a, s129))    \
	X(package_find_bad_utf8, QUOTA_EENCODING, 1,                           \
	  find_pkg(f, f->a, BAD_UTF8))                                         \
	X(package_get_spec_null, QUOTA_EINVAL, 0, get_spec(NULL, 1))           \
	X(package_get_spec_null_out, QUOTA_EINVAL, 1, get_spec(f->p1, 0))      \
	CHARGE_ROWS(X, charge, 0)                                              \
	CHARGE_ROWS(X, quote, 1)                                               \
	HOLD_ROWS(X)                                                           \
	MONEY_ROWS(X)                                                          \
	ISSUE15_ROWS(X)

/* Issue 15: blocking (R25) and reconciliation (R27). */
#define ISSUE15_ROWS(X)                                                        \
	X(block_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_block(NULL, "x", T0))                                  \
	X(block_time_max, QUOTA_EINVAL, 1,                                     \
	  quota_account_block(f->a, "x", QUOTA_TIME_MAX))                      \
	X(block_empty_reason, QUOTA_EINVAL, 1, quota_account_block(f->a, "", T0)) \
	X(block_reason_bad_utf8, QUOTA_EENCODING, 1,                           \
	  quota_account_block(f->a, BAD_UTF8, T0))                             \
	X(block_reason_256_bytes, QUOTA_EINVAL, 1,                             \
	  quota_account_block(f->a, reason_256(), T0))                         \
	X(unblock_null_account, QUOTA_EINVAL, 0, quota_account_unblock(NULL, T0)) \
	X(unblock_time_before_min, QUOTA_EINVAL, 1,                            \
	  quota_account_unblock(f->a, QUOTA_TIME_MIN - 1))                     \
	X(blocked_null_account, QUOTA_EINVAL, 0,                               \
	  quota_account_blocked(NULL, NULL, NULL))                             \
	X(keep_receipts_null_account, QUOTA_EINVAL, 0,                         \
	  quota_account_keep_receipts(NULL, 1))                                \
	X(keep_receipts_2, QUOTA_EINVAL, 1, quota_account_keep_receipts(f->a, 2)) \
	X(keep_receipts_negative, QUOTA_EINVAL, 1,                             \
	  quota_account_keep_receipts(f->a, -1))                               \
	X(reverse_receipt_null_account, QUOTA_EINVAL, 0, rvr(f, NULL, 1, T0))  \
	X(reverse_receipt_zero, QUOTA_EINVAL, 1, rvr(f, f->a, 0, T0))          \
	X(reverse_receipt_unknown, QUOTA_ENOTFOUND, 1,                         \
	  rvr(f, f->a, UINT64_MAX, T0))                                        \
	X(reverse_receipt_of_an_open_hold, QUOTA_ENOTFOUND, 1,                 \
	  rvr(f, f->a, f->h_open, T0))                                         \
	X(release_reason_null_account, QUOTA_EINVAL, 0,                        \
	  rlsr(f, NULL, 1, QUOTA_FAIL_REJECTED))                               \
	X(release_reason_negative, QUOTA_EINVAL, 1, rlsr(f, f->a, f->h_open, -1)) \
	X(release_reason_past_max, QUOTA_EINVAL, 1,                            \
	  rlsr(f, f->a, f->h_open, QUOTA_FAIL_REASON_MAX + 1))                 \
	X(release_reason_hold_zero, QUOTA_ENOTFOUND, 1,                        \
	  rlsr(f, f->a, 0, QUOTA_FAIL_EXPIRED))                                \
	X(fee_reason_null_tariff, QUOTA_EINVAL, 0,                             \
	  quota_tariff_set_failure_fee_reason(NULL, 1, 1))                     \
	X(fee_reason_zero, QUOTA_EINVAL, 1,                                    \
	  quota_tariff_set_failure_fee_reason(f->open, 0, 1))                  \
	X(fee_reason_past_max, QUOTA_EINVAL, 1,                                \
	  quota_tariff_set_failure_fee_reason(f->open, 16, 1))                 \
	X(fee_reason_fee_minus_2, QUOTA_EINVAL, 1,                             \
	  quota_tariff_set_failure_fee_reason(f->open, 1, -2))                 \
	ISSUE15_MORE_ROWS(X)                                                   \
	RENEWAL_ROWS(X)

/* Issue 15, more: every bad argument of every R25 / R27 call (the rows
 * above on a tariff in use moved to an unused one, so that the reason
 * or fee is what is refused). */
#define ISSUE15_MORE_ROWS(X)                                                   \
	X(block_time_before_min, QUOTA_EINVAL, 1,                              \
	  quota_account_block(f->a, "x", QUOTA_TIME_MIN - 1))                  \
	X(block_time_int64_min, QUOTA_EINVAL, 1,                               \
	  quota_account_block(f->a, NULL, INT64_MIN))                          \
	X(block_time_never, QUOTA_EINVAL, 1,                                   \
	  quota_account_block(f->a, NULL, QUOTA_NEVER))                        \
	X(block_reason_surrogate, QUOTA_EENCODING, 1,                          \
	  quota_account_block(f->a, SURROGATE, T0))                            \
	X(unblock_time_max, QUOTA_EINVAL, 1,                                   \
	  quota_account_unblock(f->a, QUOTA_TIME_MAX))                         \
	X(unblock_time_int64_max, QUOTA_EINVAL, 1,                             \
	  quota_account_unblock(f->a, INT64_MAX))                              \
	X(keep_receipts_int_max, QUOTA_EINVAL, 1,                              \
	  quota_account_keep_receipts(f->a, INT32_MAX))                        \
	X(reverse_receipt_null_account_id_0, QUOTA_EINVAL, 0,                  \
	  rvr(f, NULL, 0, T0))                                                 \
	X(reverse_receipt_time_max, QUOTA_EINVAL, 1,                           \
	  rvr(f, f->a, f->h_done, QUOTA_TIME_MAX))                             \
	X(reverse_receipt_time_before_min, QUOTA_EINVAL, 1,                    \
	  rvr(f, f->a, f->h_done, QUOTA_TIME_MIN - 1))                         \
	X(reverse_receipt_of_a_keyed_commit, QUOTA_ENOTFOUND, 1,               \
	  rvr(f, f->a, f->h_done, T0))                                         \
	X(release_reason_null_account_keyed, QUOTA_EINVAL, 0,                  \
	  rlsrk(f, NULL, 1, QUOTA_FAIL_REJECTED, "k"))                         \
	X(release_reason_int32_min, QUOTA_EINVAL, 1,                           \
	  rlsr(f, f->a, f->h_open, INT32_MIN))                                 \
	X(release_reason_int32_max, QUOTA_EINVAL, 1,                           \
	  rlsr(f, f->a, f->h_open, INT32_MAX))                                 \
	X(release_reason_hold_never_issued, QUOTA_ENOTFOUND, 1,                \
	  rlsr(f, f->a, UINT64_MAX, QUOTA_FAIL_REJECTED))                      \
	X(release_reason_hold_resolved, QUOTA_ERESOLVED, 1,                    \
	  rlsr(f, f->a, f->h_done, QUOTA_FAIL_REJECTED))                       \
	X(release_reason_fee_overflow, QUOTA_EOVERFLOW, 1,                     \
	  rlsr(f, f->a, f->h_fee, QUOTA_FAIL_OTHER))                           \
	X(release_reason_key_65_bytes, QUOTA_EINVAL, 1,                        \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, K65))                 \
	X(release_reason_empty_key, QUOTA_EINVAL, 1,                           \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, ""))                  \
	X(release_reason_key_bad_utf8, QUOTA_EENCODING, 1,                     \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, BAD_UTF8))            \
	X(release_reason_key_surrogate, QUOTA_EENCODING, 1,                    \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, SURROGATE))           \
	X(release_reason_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,               \
	  rlsrk(f, f->a, f->h_open, QUOTA_FAIL_REJECTED, "fx-k"))              \
	X(fee_reason_negative, QUOTA_EINVAL, 1,                                \
	  quota_tariff_set_failure_fee_reason(f->open, -1, 1))                 \
	X(fee_reason_int32_max, QUOTA_EINVAL, 1,                               \
	  quota_tariff_set_failure_fee_reason(f->open, INT32_MAX, 1))          \
	X(fee_reason_fee_int64_min, QUOTA_EINVAL, 1,                           \
	  quota_tariff_set_failure_fee_reason(f->open, 1, INT64_MIN))          \
	X(fee_reason_null_tariff_reason_0, QUOTA_EINVAL, 0,                    \
	  quota_tariff_set_failure_fee_reason(NULL, 0, 1))                     \
	X(fee_reason_tariff_in_use, QUOTA_EINVAL, 1,                           \
	  quota_tariff_set_failure_fee_reason(f->grad, QUOTA_FAIL_REJECTED, 5))

/* Issue 15: auto-renewal (R23). */
#define RENEWAL_ROWS(X)                                                        \
	X(renewal_set_null_account, QUOTA_EINVAL, 0,                           \
	  quota_renewal_set(NULL, f->ofix, 1, 1, T0))                          \
	X(renewal_set_null_offer, QUOTA_EINVAL, 1,                             \
	  quota_renewal_set(f->a, NULL, 1, 1, T0))                             \
	X(renewal_set_foreign_offer, QUOTA_EINVAL, 1, renew_foreign(f))        \
	X(renewal_set_no_trigger, QUOTA_EINVAL, 1,                             \
	  quota_renewal_set(f->a, f->ofix, QUOTA_RENEWAL_NONE,                 \
			    QUOTA_RENEWAL_NONE, T0))                           \
	X(renewal_set_units_minus_2, QUOTA_EINVAL, 1,                          \
	  quota_renewal_set(f->a, f->ofix, -2, 1, T0))                         \
	X(renewal_set_within_minus_2, QUOTA_EINVAL, 1,                         \
	  quota_renewal_set(f->a, f->ofix, 1, -2, T0))                         \
	X(renewal_set_within_past_range, QUOTA_EINVAL, 1,                      \
	  quota_renewal_set(f->a, f->ofix, 1, INT64_MAX, T0))                  \
	X(renewal_set_time_max, QUOTA_EINVAL, 1,                               \
	  quota_renewal_set(f->a, f->ofix, 1, 1, QUOTA_TIME_MAX))              \
	X(renewal_clear_null_account, QUOTA_EINVAL, 0,                         \
	  quota_renewal_clear(NULL, f->ofix, T0))                              \
	X(renewal_clear_null_offer, QUOTA_EINVAL, 1,                           \
	  quota_renewal_clear(f->a, NULL, T0))                                 \
	X(renewal_clear_not_marked, QUOTA_ENOTFOUND, 1,                        \
	  quota_renewal_clear(f->a, f->ofix, T0))                              \
	X(renewal_get_null_account, QUOTA_EINVAL, 0,                           \
	  quota_renewal_get(NULL, f->ofix, NULL, NULL))                        \
	X(renewal_get_null_offer, QUOTA_EINVAL, 0,                             \
	  quota_renewal_get(f->a, NULL, NULL, NULL))                           \
	X(renewal_get_not_marked, QUOTA_ENOTFOUND, 0,                          \
	  quota_renewal_get(f->a, f->ofix, NULL, NULL))

/* Issue 5: money, catalog, settlement, reports (R16-R19, R22). */
#define MONEY_ROWS(X)                                                          \
	X(topup_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_topup(NULL, 1, T0))                                    \
	X(topup_zero, QUOTA_EINVAL, 1, quota_account_topup(f->a, 0, T0))       \
	X(topup_negative, QUOTA_EINVAL, 1, quota_account_topup(f->a, -5, T0))  \
	X(topup_bad_time, QUOTA_EINVAL, 1,                                     \
	  quota_account_topup(f->a, 5, QUOTA_TIME_MAX))                        \
	X(topup_overflow, QUOTA_EOVERFLOW, 1,                                  \
	  quota_account_topup(f->a, INT64_MAX, T0))                            \
	X(credit_limit_null, QUOTA_EINVAL, 0,                                  \
	  quota_account_set_credit_limit(NULL, 5))                             \
	X(credit_limit_negative, QUOTA_EINVAL, 1,                              \
	  quota_account_set_credit_limit(f->a, -1))                            \
	X(r24_gift_grant_null_account, QUOTA_EINVAL, 0,                        \
	  quota_gift_grant(NULL, 1, QUOTA_NEVER, T0))                          \
	X(r24_gift_grant_zero, QUOTA_EINVAL, 1,                                \
	  quota_gift_grant(f->a, 0, QUOTA_NEVER, T0))                          \
	X(r24_gift_grant_negative, QUOTA_EINVAL, 1,                            \
	  quota_gift_grant(f->a, -5, QUOTA_NEVER, T0))                         \
	X(r24_gift_grant_bad_time, QUOTA_EINVAL, 1,                            \
	  quota_gift_grant(f->a, 5, QUOTA_NEVER, QUOTA_TIME_MAX))              \
	X(r24_gift_grant_expires_at_now, QUOTA_EINVAL, 1,                      \
	  quota_gift_grant(f->a, 5, T0, T0))                                   \
	X(r24_gift_grant_expires_before, QUOTA_EINVAL, 1,                      \
	  quota_gift_grant(f->a, 5, T0 - 1, T0))                               \
	X(r24_gift_grant_expiry_out_of_range, QUOTA_EINVAL, 1,                 \
	  quota_gift_grant(f->a, 5, QUOTA_TIME_MAX, T0))                       \
	X(r24_pay_order_null, QUOTA_EINVAL, 0,                                 \
	  quota_account_set_pay_order(NULL, QUOTA_PAY_GIFT_FIRST, 0))          \
	X(r24_pay_order_unknown, QUOTA_EINVAL, 1,                              \
	  quota_account_set_pay_order(f->a, 2, 0))                             \
	X(r24_pay_order_negative, QUOTA_EINVAL, 1,                             \
	  quota_account_set_pay_order(f->a, -1, 0))                            \
	X(r24_pay_order_unknown_flag, QUOTA_EINVAL, 1,                         \
	  quota_account_set_pay_order(f->a, QUOTA_PAY_CASH_FIRST, 2))          \
	X(settlement_null, QUOTA_EINVAL, 0,                                    \
	  quota_account_set_settlement(NULL, QUOTA_PERIOD_DAY, 1, 0))          \
	X(settlement_month, QUOTA_EINVAL, 1,                                   \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_MONTH, 10000, 0))    \
	X(settlement_zero_minor, QUOTA_EINVAL, 1,                              \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_DAY, 0, 0))          \
	X(settlement_bad_rounding, QUOTA_EINVAL, 1,                            \
	  quota_account_set_settlement(f->a, QUOTA_PERIOD_DAY, 10000, 7))      \
	X(money_null_account, QUOTA_EINVAL, 0, money_(f, NULL, 1))             \
	X(money_null_out, QUOTA_EINVAL, 1, money_(f, f->a, 0))                 \
	X(round_bad_mode, QUOTA_EINVAL, 0, round_(15000, 10000, 9, 1))         \
	X(round_zero_minor, QUOTA_EINVAL, 0, round_(15000, 0, 0, 1))           \
	X(round_negative_minor, QUOTA_EINVAL, 0, round_(15000, -100, 0, 1))    \
	X(round_null_out, QUOTA_EINVAL, 0, round_(15000, 10000, 0, 0))         \
	X(round_overflow, QUOTA_EOVERFLOW, 0,                                  \
	  round_(INT64_MAX, 10000, QUOTA_ROUND_UP, 1))                         \
	X(offer_add_null_ctx, QUOTA_EINVAL, 0, bad_offer(f, OB_NULL_CTX))      \
	X(offer_add_null_spec, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_SPEC))    \
	X(offer_add_null_out, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_OUT))      \
	X(offer_add_null_id, QUOTA_EINVAL, 1, bad_offer(f, OB_NULL_ID))        \
	X(offer_add_bad_utf8, QUOTA_EENCODING, 1, bad_offer(f, OB_BAD_UTF8))   \
	X(offer_add_duplicate, QUOTA_EEXISTS, 1, bad_offer(f, OB_DUP))         \
	X(offer_add_no_categories, QUOTA_EINVAL, 1, bad_offer(f, OB_NO_CATS))  \
	X(offer_add_unknown_category, QUOTA_ENOTFOUND, 1,                      \
	  bad_offer(f, OB_UNKNOWN_CAT))                                        \
	X(offer_add_no_units_no_tariff, QUOTA_EINVAL, 1,                       \
	  bad_offer(f, OB_NOTHING))                                            \
	X(offer_add_negative_price, QUOTA_EINVAL, 1,                           \
	  bad_offer(f, OB_NEG_PRICE))                                          \
	X(offer_add_units_and_tariff, QUOTA_EINVAL, 1, bad_offer(f, OB_BOTH))  \
	X(offer_add_step_zero, QUOTA_EINVAL, 1, bad_offer(f, OB_STEP0))        \
	X(offer_add_min_zero, QUOTA_EINVAL, 1, bad_offer(f, OB_MIN0))          \
	X(offer_add_max_below_min, QUOTA_EINVAL, 1,                            \
	  bad_offer(f, OB_MAX_LT_MIN))                                         \
	X(offer_add_negative_months, QUOTA_EINVAL, 1,                          \
	  bad_offer(f, OB_NEG_MONTHS))                                         \
	X(offer_add_negative_days, QUOTA_EINVAL, 1, bad_offer(f, OB_NEG_DAYS)) \
	X(offer_add_unknown_flag, QUOTA_EINVAL, 1, bad_offer(f, OB_FLAG))      \
	X(offer_add_foreign_tariff, QUOTA_EINVAL, 1, bad_offer(f, OB_FOREIGN)) \
	X(offer_find_unknown, QUOTA_ENOTFOUND, 1, find_offer(f, "nope"))       \
	X(offer_find_null_id, QUOTA_EINVAL, 1, find_offer(f, NULL))            \
	X(offer_find_empty_id, QUOTA_EINVAL, 1, find_offer(f, ""))             \
	X(offer_find_129_bytes, QUOTA_EINVAL, 1, find_offer(f, s129))          \
	X(offer_find_bad_utf8, QUOTA_EENCODING, 1, find_offer(f, BAD_UTF8))    \
	X(pkg_quote_null_account, QUOTA_EINVAL, 0,                                 \
	  purchase(f, 0, NULL, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(pkg_quote_null_offer, QUOTA_EINVAL, 1,                                   \
	  purchase(f, 0, f->a, NULL, 1, 0, 0, 0, T0, NULL))                    \
	X(pkg_quote_zero_quantity, QUOTA_EINVAL, 1,                                \
	  purchase(f, 0, f->a, f->ofix, 0, 0, 0, 0, T0, NULL))                 \
	X(pkg_quote_negative_quantity, QUOTA_EINVAL, 1,                            \
	  purchase(f, 0, f->a, f->ofix, -3, 0, 0, 0, T0, NULL))                \
	X(pkg_quote_below_minimum, QUOTA_EINVAL, 1,                                \
	  purchase(f, 0, f->a, f->oqty, 99, 0, 0, 0, T0, NULL))                \
	X(pkg_quote_off_step, QUOTA_EINVAL, 1,                                     \
	  purchase(f, 0, f->a, f->oqty, 250, 0, 0, 0, T0, NULL))               \
	X(pkg_quote_overflow, QUOTA_EOVERFLOW, 1,                                  \
	  purchase(f, 0, f->a, f->ofix, INT64_MAX / 50, 0, 0, 0, T0, NULL))    \
	X(pkg_quote_bad_time, QUOTA_EINVAL, 1,                                     \
	  purchase(f, 0, f->a, f->ofix, 1, 0, 0, 0, QUOTA_TIME_MAX, NULL))     \
	X(pkg_quote_expiry_past_max, QUOTA_EINVAL, 1,                              \
	  purchase(f, 0, f->a, f->ofix, 1, 0, 0, 0, QUOTA_TIME_MAX - TU_DAY,   \
		   NULL))                                                      \
	X(pkg_quote_voucher_bad_kind, QUOTA_EINVAL, 1,                             \
	  purchase(f, 0, f->a, f->ofix, 1, 9, 5, 0, T0, NULL))                 \
	X(pkg_quote_voucher_zero_amount, QUOTA_EINVAL, 1,                          \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 0, 0, T0,     \
		   NULL))                                                      \
	X(pkg_quote_voucher_percent_over, QUOTA_EINVAL, 1,                         \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_PERCENT, 10001, 0,    \
		   T0, NULL))                                                  \
	X(pkg_quote_voucher_negative_min, QUOTA_EINVAL, 1,                         \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 5, -1, T0,    \
		   NULL))                                                      \
	X(pkg_quote_voucher_min_spend, QUOTA_EVOUCHER, 1,                          \
	  purchase(f, 0, f->a, f->ofix, 1, QUOTA_VOUCHER_AMOUNT, 5,            \
		   20000000, T0, NULL))                                        \
	X(buy_null_account, QUOTA_EINVAL, 0,                                   \
	  purchase(f, 1, NULL, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(buy_insufficient_funds, QUOTA_EFUNDS, 1,                             \
	  purchase(f, 1, f->a, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(buy_duplicate_package_id, QUOTA_EEXISTS, 1,                          \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, "P1"))               \
	X(buy_bad_utf8_id, QUOTA_EENCODING, 1,                                 \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, BAD_UTF8))           \
	X(buy_off_step, QUOTA_EINVAL, 1,                                       \
	  purchase(f, 1, f->a, f->oqty, 150, 0, 0, 0, T0, NULL))               \
	X(settle_null_account, QUOTA_EINVAL, 0,                                \
	  as_code(quota_settle(NULL, T0, NULL, NULL)))                         \
	X(settle_bad_time, QUOTA_EINVAL, 1,                                    \
	  as_code(quota_settle(f->a, QUOTA_TIME_MAX, NULL, NULL)))             \
	X(report_null_account, QUOTA_EINVAL, 0,                                \
	  report_(f, NULL, QUOTA_PERIOD_DAY, T0, T0 + 1, 1))                   \
	X(report_null_fn, QUOTA_EINVAL, 1,                                     \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 0))                   \
	X(report_lifetime_period, QUOTA_EINVAL, 1,                             \
	  report_(f, f->a, QUOTA_PERIOD_LIFETIME, T0, T0 + 1, 1))              \
	X(report_empty_interval, QUOTA_EINVAL, 1,                              \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0, 1))                       \
	X(report_inverted_interval, QUOTA_EINVAL, 1,                           \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 - TU_DAY, 1))              \
	X(report_bad_time, QUOTA_EINVAL, 1,                                    \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, QUOTA_TIME_MAX + 1, 1))       \
	X(report_callback_stops, QUOTA_ESTORE, 1,                              \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0 - 5 * TU_DAY, T0 + TU_DAY, 1)) \
	X(report_csv_null_writer, QUOTA_EINVAL, 1,                             \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 2))                   \
	X(report_csv_writer_fails, QUOTA_ESTORE, 1,                            \
	  report_(f, f->a, QUOTA_PERIOD_HOUR, T0, T0 + 1, 3))                  \
	X(report_csv_null_file, QUOTA_EINVAL, 1,                               \
	  report_(f, f->a, QUOTA_PERIOD_DAY, T0, T0 + 1, 4))

/* R10-R12, R21 */
#define HOLD_ROWS(X)                                                           \
	X(reserve_null_account, QUOTA_EINVAL, 0,                               \
	  rsv(f, NULL, f->sms, 1, T0, 60, NULL, 1))                            \
	X(reserve_null_usage, QUOTA_EINVAL, 1, rsv_null_usage(f))              \
	X(reserve_null_hold_id, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 60, NULL, 0))                            \
	X(reserve_timeout_zero, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 0, NULL, 1))                             \
	X(reserve_timeout_negative, QUOTA_EINVAL, 1,                           \
	  rsv(f, f->a, f->sms, 1, T0, -60, NULL, 1))                           \
	X(reserve_deadline_overflow, QUOTA_EINVAL, 1,                          \
	  rsv(f, f->a, f->sms, 1, T0, INT64_MAX, NULL, 1))                     \
	X(reserve_deadline_time_max, QUOTA_EINVAL, 1,                          \
	  rsv(f, f->a, f->sms, 1, QUOTA_TIME_MAX - 5, 5, NULL, 1))             \
	X(reserve_deadline_overflow_under_cap, QUOTA_EINVAL, 1,                \
	  rsv(f, f->a, f->capped, 1, T0 + TU_HOUR, INT64_MAX, NULL, 1))        \
	X(reserve_deadline_time_max_under_stop, QUOTA_EINVAL, 1,               \
	  rsv(f, f->a, f->stoppol, 1, T0, QUOTA_TIME_MAX - T0, NULL, 1))      \
	X(reserve_unknown_category, QUOTA_ENOTFOUND, 1,                        \
	  rsv(f, f->a, 7, 1, T0, 60, NULL, 1))                                 \
	X(reserve_zero_units, QUOTA_EINVAL, 1,                                 \
	  rsv(f, f->a, f->sms, 0, T0, 60, NULL, 1))                            \
	X(reserve_time_before_min, QUOTA_EINVAL, 1,                            \
	  rsv(f, f->a, f->sms, 1, QUOTA_TIME_MIN - 1, 60, NULL, 1))            \
	X(reserve_key_65_bytes, QUOTA_EINVAL, 1,                               \
	  rsv(f, f->a, f->sms, 1, T0, 60, K65, 1))                             \
	X(reserve_key_empty, QUOTA_EINVAL, 1,                                  \
	  rsv(f, f->a, f->sms, 1, T0, 60, "", 1))                              \
	X(reserve_key_bad_utf8, QUOTA_EENCODING, 1,                            \
	  rsv(f, f->a, f->sms, 1, T0, 60, OVERLONG, 1))                        \
	X(reserve_key_other_timeout, QUOTA_EKEYCONFLICT, 1,                    \
	  rsv(f, f->a, f->sms, 2, T0, 61, "fx-r", 1))                          \
	X(reserve_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,                      \
	  rsv(f, f->a, f->sms, 1, T0, 60, "fx-k", 1))                          \
	X(reserve_cap_reached, QUOTA_ECAP, 1,                                  \
	  rsv(f, f->a, f->capped, 1, T0 + TU_HOUR, 60, NULL, 1))               \
	X(reserve_stop_policy, QUOTA_EEXHAUSTED, 1,                            \
	  rsv(f, f->a, f->stoppol, 1, T0, 60, NULL, 1))                        \
	X(reserve_stop_flag_package, QUOTA_EEXHAUSTED, 1,                      \
	  rsv(f, f->a, f->stopflag, 6, T0, 60, NULL, 1))                       \
	X(reserve_cost_overflow, QUOTA_EOVERFLOW, 1,                           \
	  rsv(f, f->a, f->big, 3, T0, 60, NULL, 1))                            \
	X(commit_null_account, QUOTA_EINVAL, 0, cmt(f, NULL, 1, 1, NULL))      \
	X(commit_hold_zero, QUOTA_ENOTFOUND, 1, cmt(f, f->a, 0, 1, NULL))      \
	X(commit_hold_never_issued, QUOTA_ENOTFOUND, 1,                        \
	  cmt(f, f->a, 99, 1, NULL))                                           \
	X(commit_committed_hold, QUOTA_ERESOLVED, 1,                           \
	  cmt(f, f->a, f->h_done, 1, NULL))                                    \
	X(commit_negative_units, QUOTA_EINVAL, 1,                              \
	  cmt(f, f->a, f->h_open, -1, NULL))                                   \
	X(commit_more_than_held, QUOTA_EINVAL, 1,                              \
	  cmt(f, f->a, f->h_open, 3, NULL))                                    \
	X(commit_key_65_bytes, QUOTA_EINVAL, 1,                                \
	  cmt(f, f->a, f->h_open, 1, K65))                                     \
	X(commit_key_bad_utf8, QUOTA_EENCODING, 1,                             \
	  cmt(f, f->a, f->h_open, 1, TRUNCATED))                               \
	X(commit_key_of_a_charge, QUOTA_EKEYCONFLICT, 1,                       \
	  cmt(f, f->a, f->h_open, 1, "fx-k"))                                  \
	X(commit_key_other_units, QUOTA_EKEYCONFLICT, 1,                       \
	  cmt(f, f->a, f->h_done, 0, "fx-c"))                                  \
	X(release_null_account, QUOTA_EINVAL, 0, rls(f, NULL, 1, NULL))        \
	X(release_hold_zero, QUOTA_ENOTFOUND, 1, rls(f, f->a, 0, NULL))        \
	X(release_hold_never_issued, QUOTA_ENOTFOUND, 1,                       \
	  rls(f, f->a, 1000, NULL))                                            \
	X(release_committed_hold, QUOTA_ERESOLVED, 1,                          \
	  rls(f, f->a, f->h_done, NULL))                                       \
	X(release_key_empty, QUOTA_EINVAL, 1, rls(f, f->a, f->h_open, ""))     \
	X(release_key_bad_utf8, QUOTA_EENCODING, 1,                            \
	  rls(f, f->a, f->h_open, ABOVE_MAX))                                  \
	X(release_key_of_a_commit, QUOTA_EKEYCONFLICT, 1,                      \
	  rls(f, f->a, f->h_open, "fx-c"))                                     \
	X(release_fee_overflow, QUOTA_EOVERFLOW, 1,                            \
	  rls(f, f->a, f->h_fee, NULL))                                        \
	X(reverse_null_account, QUOTA_EINVAL, 0, rev(f, NULL, "fx-k", T0))     \
	X(reverse_null_key, QUOTA_EINVAL, 1, rev(f, f->a, NULL, T0))           \
	X(reverse_empty_key, QUOTA_EINVAL, 1, rev(f, f->a, "", T0))            \
	X(reverse_key_65_bytes, QUOTA_EINVAL, 1, rev(f, f->a, K65, T0))        \
	X(reverse_key_bad_utf8, QUOTA_EENCODING, 1, rev(f, f->a, BAD_UTF8, T0)) \
	X(reverse_unknown_key, QUOTA_ENOTFOUND, 1, rev(f, f->a, "nope", T0))   \
	X(reverse_key_of_a_reserve, QUOTA_EINVAL, 1, rev(f, f->a, "fx-r", T0)) \
	X(reverse_twice, QUOTA_EREVERSED, 1, rev(f, f->a, "fx-rev", T0))       \
	X(reverse_time_max, QUOTA_EINVAL, 1,                                   \
	  rev(f, f->a, "fx-k", QUOTA_TIME_MAX))                                \
	X(reverse_time_before_min, QUOTA_EINVAL, 1,                            \
	  rev(f, f->a, "fx-c", QUOTA_TIME_MIN - 1))                            \
	X(tick_null_account, QUOTA_EINVAL, 0,                                  \
	  as_code(quota_account_tick(NULL, T0)))                               \
	X(tick_time_max, QUOTA_EINVAL, 1,                                      \
	  as_code(quota_account_tick(f->a, QUOTA_TIME_MAX)))                   \
	X(tick_before_min, QUOTA_EINVAL, 1,                                    \
	  as_code(quota_account_tick(f->a, QUOTA_TIME_MIN - 1)))               \
	X(ctx_tick_null, QUOTA_EINVAL, 0, as_code(quota_ctx_tick(NULL, T0)))   \
	X(ctx_tick_never, QUOTA_EINVAL, 1,                                     \
	  as_code(quota_ctx_tick(f->ctx, QUOTA_NEVER)))                        \
	X(key_window_null, QUOTA_EINVAL, 0,                                    \
	  quota_account_set_key_window(NULL, 5, 5))                            \
	X(key_window_zero_keys, QUOTA_EINVAL, 1,                               \
	  quota_account_set_key_window(f->a, 0, 5))                            \
	X(key_window_zero_age, QUOTA_EINVAL, 1,                                \
	  quota_account_set_key_window(f->a, 5, 0))                            \
	X(key_window_negative_age, QUOTA_EINVAL, 1,                            \
	  quota_account_set_key_window(f->a, 5, INT64_MIN))                    \
	X(failure_fee_null, QUOTA_EINVAL, 0,                                   \
	  quota_tariff_set_failure_fee(NULL, 5))                               \
	X(failure_fee_negative, QUOTA_EINVAL, 1,                               \
	  quota_tariff_set_failure_fee(f->grad, -1))                           \
	X(event_hook_null_ctx, QUOTA_EINVAL, 0,                                \
	  quota_ctx_set_event_hook(NULL, NULL, NULL))                          \
	X(alert_null_account, QUOTA_EINVAL, 0,                                 \
	  quota_account_add_alert(NULL, 0, 5, QUOTA_ALERT_UNITS))              \
	X(alert_unknown_category, QUOTA_ENOTFOUND, 1,                          \
	  quota_account_add_alert(f->a, 7, 5, QUOTA_ALERT_UNITS))              \
	X(alert_negative_level, QUOTA_EINVAL, 1,                               \
	  quota_account_add_alert(f->a, f->sms, -1, QUOTA_ALERT_UNITS))        \
	X(alert_percent_over_100, QUOTA_EINVAL, 1,                             \
	  quota_account_add_alert(f->a, f->sms, 101, QUOTA_ALERT_PERCENT))     \
	X(alert_unit_2, QUOTA_EINVAL, 1,                                       \
	  quota_account_add_alert(f->a, f->sms, 5, 2))                         \
	X(expiry_warning_null, QUOTA_EINVAL, 0,                                \
	  quota_account_set_expiry_warning(NULL, 5))                           \
	X(expiry_warning_negative, QUOTA_EINVAL, 1,                            \
	  quota_account_set_expiry_warning(f->a, -1))

#define CHARGE_ROWS(X, fn, q)                                                  \
	X(fn##_null_account, QUOTA_EINVAL, 0,                                  \
	  chg(f, q, NULL, 0, 1, T0, NULL))                                     \
	X(fn##_null_usage, QUOTA_EINVAL, 1, chg_null_usage(f, q))              \
	X(fn##_unknown_category, QUOTA_ENOTFOUND, 1,                           \
	  chg(f, q, f->a, 7, 1, T0, NULL))                                     \
	X(fn##_category_all, QUOTA_ENOTFOUND, 1,                               \
	  chg(f, q, f->a, QUOTA_ALL, 1, T0, NULL))                             \
	X(fn##_zero_units, QUOTA_EINVAL, 1, chg(f, q, f->a, f->sms, 0, T0, NULL)) \
	X(fn##_negative_units, QUOTA_EINVAL, 1,                                \
	  chg(f, q, f->a, f->sms, -3, T0, NULL))                               \
	X(fn##_int64_min_units, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, INT64_MIN, T0, NULL))                        \
	X(fn##_time_max, QUOTA_EINVAL, 1,                                      \
	  chg(f, q, f->a, f->sms, 1, QUOTA_TIME_MAX, NULL))                    \
	X(fn##_time_before_min, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, 1, QUOTA_TIME_MIN - 1, NULL))                \
	X(fn##_time_int64_min, QUOTA_EINVAL, 1,                                \
	  chg(f, q, f->a, f->sms, 1, INT64_MIN, NULL))                         \
	X(fn##_time_never, QUOTA_EINVAL, 1,                                    \
	  chg(f, q, f->a, f->sms, 1, QUOTA_NEVER, NULL))                       \
	X(fn##_key_65_bytes, QUOTA_EINVAL, 1,                                  \
	  chg(f, q, f->a, f->sms, 1, T0, K65))                                 \
	X(fn##_key_bad_utf8, QUOTA_EENCODING, 1,                               \
	  chg(f, q, f->a, f->sms, 1, T0, BAD_UTF8))                            \
	X(fn##_key_surrogate, QUOTA_EENCODING, 1,                              \
	  chg(f, q, f->a, f->sms, 1, T0, SURROGATE))                           \
	X(fn##_key_other_units, QUOTA_EKEYCONFLICT, 1,                         \
	  chg(f, q, f->a, f->sms, 2, T0, "fx-k"))                              \
	X(fn##_key_of_a_reserve, QUOTA_EKEYCONFLICT, 1,                        \
	  chg(f, q, f->a, f->sms, 2, T0, "fx-r"))                              \
	X(fn##_empty_key_given, QUOTA_EINVAL, 1,                               \
	  chg(f, q, f->a, f->sms, 1, T0, ""))                                  \
	X(fn##_cap_reached, QUOTA_ECAP, 1,                                     \
	  chg(f, q, f->a, f->capped, 1, T0 + TU_HOUR, NULL))                   \
	X(fn##_stop_policy, QUOTA_EEXHAUSTED, 1,                               \
	  chg(f, q, f->a, f->stoppol, 1, T0, NULL))                            \
	X(fn##_stop_flag_package, QUOTA_EEXHAUSTED, 1,                         \
	  chg(f, q, f->a, f->stopflag, 6, T0, NULL))                           \
	X(fn##_cost_overflow, QUOTA_EOVERFLOW, 1,                              \
	  chg(f, q, f->a, f->big, 3, T0, NULL))                                \
	X(fn##_volume_counter_overflow, QUOTA_EOVERFLOW, 1,                    \
	  chg(f, q, f->a, f->huge, 10, f->tx + TU_HOUR, NULL))                 \
	X(fn##_all_counter_overflow, QUOTA_EOVERFLOW, 1,                       \
	  chg(f, q, f->a, f->email, 10, f->tx + TU_HOUR, NULL))

#define ROW_DEF(name, want, hasctx, expr)                                      \
	static int row_##name(fx *f)                                           \
	{                                                                      \
		(void)f;                                                       \
		return (expr);                                                 \
	}
ROWS(ROW_DEF)
#undef ROW_DEF

typedef struct row {
	const char *name;
	int want;
	int has_ctx;
	int (*fn)(fx *f);
} row;

#define ROW_ENT(name, want, hasctx, expr) {#name, want, hasctx, row_##name},
static const row rows[] = {ROWS(ROW_ENT)};
#undef ROW_ENT

#define NROWS ((int)(sizeof rows / sizeof rows[0]))

START_TEST(test_bad_input_table)
{
	const row *r = &rows[_i];
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
END_TEST

/*
 * §9, the pages' ERRORS: quota_category_add with a NULL id is QUOTA_EINVAL
 * and registers nothing; the five *_find functions check the name as the
 * matching *_add / *_new does (empty or too long: QUOTA_EINVAL, bad UTF-8:
 * QUOTA_EENCODING) rather than answering QUOTA_ENOTFOUND;
 * quota_package_add takes a NULL out (as README.md calls it) and says
 * QUOTA_EOVERFLOW when the account's units would pass INT64_MAX.
 */
START_TEST(test_s9_names_checked_by_find_and_add_as_documented)
{
	const char *bad[3] = {"", NULL, BAD_UTF8};
	const int want[3] = {QUOTA_EINVAL, QUOTA_EINVAL, QUOTA_EENCODING};
	quota_package_spec ps;
	quota_package *p = (quota_package *)&F;
	uint32_t id = 77;
	int i, rc;

	fx_build(&F);
	rc = quota_category_add(F.ctx, "sms.new", NULL);
	ck_assert_msg(rc == QUOTA_EINVAL, "category_add(NULL id): %s",
		      quota_err_name(rc));
	ck_assert_int_eq(quota_category_find(F.ctx, "sms.new", &id),
			 QUOTA_ENOTFOUND);
	ck_assert_uint_eq(id, 77);
	bad[1] = s129;
	for (i = 0; i < 3; i++) {
		const char *cname = i == 1 ? s64 : bad[i];

		rc = quota_category_find(F.ctx, cname, &id);
		ck_assert_msg(rc == want[i], "category_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_tariff(&F, bad[i])) == want[i],
			      "tariff_find(bad %d): %s", i, quota_err_name(rc));
		ck_assert_msg((rc = find_account(&F, bad[i])) == want[i],
			      "account_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_pkg(&F, F.a, bad[i])) == want[i],
			      "package_find(bad %d): %s", i,
			      quota_err_name(rc));
		ck_assert_msg((rc = find_offer(&F, bad[i])) == want[i],
			      "offer_find(bad %d): %s", i, quota_err_name(rc));
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
	}
	memset(&ps, 0, sizeof ps);
	ps.id = "no-out";
	ps.categories = QUOTA_MASK(F.sms);
	ps.units = 5;
	ps.effective_at = F.t0;
	ps.expires_at = QUOTA_NEVER;
	ck_assert_int_eq(quota_package_add(F.a, &ps, NULL), QUOTA_OK);
	ck_assert_int_eq(find_pkg(&F, F.a, "no-out"), QUOTA_OK);
	ps.id = "too-many";
	ps.units = INT64_MAX;
	ck_assert_int_eq(quota_package_add(F.a, &ps, &p), QUOTA_EOVERFLOW);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(quota_package_add(F.a, &ps, NULL), QUOTA_EOVERFLOW);
	fx_free(&F);
}
END_TEST

/* The fixture's positive boundaries are accepted (the rows are not vacuous). */
START_TEST(test_boundaries_accepted)
{
	quota_account *b = NULL;
	quota_tariff *t = NULL;
	uint32_t id;
	char name63[64];
	char id128[129];

	fx_build(&F);
	memset(name63, 'n', 63);
	name63[63] = '\0';
	memset(id128, 'i', 128);
	id128[128] = '\0';
	ck_assert_int_eq(quota_category_add(F.ctx, name63, &id), QUOTA_OK);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(quota_category_add(F.ctx, "sms.vérifier", &id),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(F.ctx, id128, &t), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(F.ctx, id128, &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(b, 64800), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_utc_offset(b, -64800), QUOTA_OK);
	ck_assert_int_eq(add_pkg(&F, b, id128, QUOTA_MASK(F.sms), 1,
				 QUOTA_TIME_MIN, QUOTA_NEVER, 0,
				 QUOTA_PACKAGE_STOP),
			 QUOTA_OK);
	ck_assert_int_eq(add_pkg(&F, b, "last", QUOTA_MASK(F.sms), 1,
				 QUOTA_TIME_MAX - 2, QUOTA_TIME_MAX - 1, 0, 0),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 0, b, F.sms, 1, QUOTA_TIME_MIN, NULL),
			 QUOTA_OK);
	/* "last" covers the latest usable second; the STOP package is used
	 * up, so one more unit there is refused. */
	ck_assert_int_eq(chg(&F, 0, b, F.sms, 1, QUOTA_TIME_MAX - 2, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 1, b, F.sms, 1, QUOTA_TIME_MAX - 1, NULL),
			 QUOTA_EEXHAUSTED);
	ck_assert_int_eq(quota_tariff_add_tier(F.open, 201, 0), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(F.open, 0, QUOTA_PERIOD_LIFETIME),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free_daily_limit(F.open, 0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(F.a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 0),
			 QUOTA_OK);
	/* The charge that overflowed nothing in the fixture: room is 5. */
	ck_assert_int_eq(chg(&F, 1, F.a, F.huge, 5, F.tx, NULL), QUOTA_ECAP);
	ck_assert_int_eq(quota_account_set_cap(F.a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, -1),
			 QUOTA_OK);
	ck_assert_int_eq(chg(&F, 1, F.a, F.huge, 5, F.tx, NULL), QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* 64 categories fit; the 65th is refused with QUOTA_EOVERFLOW. */
/* R26: the zone calls that answer a pointer, not a code (so not in the
 * table): NULL for NULL, as quota_zone(3) says; an account on a fixed
 * offset has no zone. */
START_TEST(test_r26_zone_getters_null)
{
	fx f;

	fx_build(&f);
	ck_assert_ptr_null(quota_zone_name(NULL));
	ck_assert_ptr_null(quota_account_zone(NULL));
	ck_assert_ptr_null(quota_account_zone(f.a));
	ck_assert_str_eq(quota_zone_name(f.zone), "Test/Berlin");
	fx_free(&f);
}
END_TEST

START_TEST(test_category_65th)
{
	char name[32];
	uint32_t i, id;
	world before, after;

	fx_build(&F);
	for (i = quota_category_count(F.ctx); i < QUOTA_MAX_CATEGORIES; i++) {
		snprintf(name, sizeof name, "cat%u", i);
		ck_assert_int_eq(quota_category_add(F.ctx, name, &id),
				 QUOTA_OK);
		ck_assert_uint_eq(id, i);
	}
	ck_assert_uint_eq(quota_category_count(F.ctx), 64);
	world_take(&before, &F);
	ck_assert_int_eq(quota_category_add(F.ctx, "one-too-many", &id),
			 QUOTA_EOVERFLOW);
	ck_assert_str_ne(quota_errmsg(F.ctx), "");
	world_take(&after, &F);
	world_assert_eq(&before, &after);
	ck_assert_int_eq(quota_category_find(F.ctx, "one-too-many", &id),
			 QUOTA_ENOTFOUND);
	/* Category 63 is now known. */
	ck_assert_int_eq(add_pkg(&F, F.a, "hi", QUOTA_MASK(63), 1, F.t0,
				 QUOTA_NEVER, 0, 0),
			 QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* ------------------------------------------------------- error strings */

START_TEST(test_strerror_and_names)
{
	static const struct {
		int code;
		const char *name;
		const char *msg;
	} codes[] = {
#define CODE_ENT(name, value, msg) {value, "QUOTA_" #name, msg},
		QUOTA_ERRNO_MAP(CODE_ENT)
#undef CODE_ENT
	};
	static const int unknown[] = {-25, -26, -100, 1, 42, INT32_MIN,
				      INT32_MAX};
	size_t i, j;

	/* R25 appended QUOTA_EBLOCKED (-24). */
	ck_assert_uint_eq(sizeof codes / sizeof codes[0], 25);
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = quota_strerror(codes[i].code);
		const char *n = quota_err_name(codes[i].code);

		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(n);
		ck_assert_str_eq(s, codes[i].msg);
		ck_assert_str_eq(n, codes[i].name);
		ck_assert_int_eq(codes[i].code, -(int)i);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, quota_strerror(codes[j].code));
	}
	ck_assert_str_eq(quota_err_name(QUOTA_EENCODING), "QUOTA_EENCODING");
	ck_assert_str_eq(quota_err_name(QUOTA_ECAP), "QUOTA_ECAP");
	ck_assert_str_eq(quota_err_name(QUOTA_ERESOLVED), "QUOTA_ERESOLVED");
	ck_assert_str_eq(quota_err_name(QUOTA_EKEYCONFLICT),
			 "QUOTA_EKEYCONFLICT");
	ck_assert_str_eq(quota_err_name(QUOTA_EREVERSED), "QUOTA_EREVERSED");
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		const char *s = quota_strerror(unknown[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "");
		for (j = 0; j < sizeof codes / sizeof codes[0]; j++)
			ck_assert_str_ne(s, codes[j].msg);
		ck_assert_str_eq(quota_err_name(unknown[i]), "QUOTA_E?");
	}
	ck_assert_str_eq(quota_version(), "0.1.0");
	ck_assert_uint_eq(quota_version_number(), QUOTA_VERSION_NUMBER);
}
END_TEST

/* ------------------------------------------------------------- ENOMEM */

START_TEST(test_enomem_ctx_new_with)
{
	tu_alloc al;
	quota_ctx *c = (quota_ctx *)&F;

	tu_alloc_init(&al);
	tu_alloc_fail_all(&al);
	ck_assert_int_eq(quota_ctx_new_with(&al.a, &c), QUOTA_ENOMEM);
	ck_assert_ptr_null(c);
	ck_assert_int_gt(al.failures, 0);
	ck_assert_int_eq(al.live_blocks, 0);
	/* Failing the second allocation too (if there is one). */
	tu_alloc_init(&al);
	tu_alloc_fail_in(&al, 2);
	c = (quota_ctx *)&F;
	if (quota_ctx_new_with(&al.a, &c) == QUOTA_OK) {
		ck_assert_int_eq(al.failures, 0);
		quota_ctx_free(c);
	} else {
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(al.live_blocks, 0);
}
END_TEST

/* Arm "fail everything", run the call, check ENOMEM left things alone. */
#define ENOMEM_CALL(expr, name_after_check)                                    \
	do {                                                                   \
		world b_, a_;                                                  \
		int rc_;                                                       \
		world_take(&b_, &F);                                           \
		tu_alloc_fail_all(&F.al);                                      \
		rc_ = (expr);                                                  \
		tu_alloc_disarm(&F.al);                                        \
		ck_assert_int_eq(rc_, QUOTA_ENOMEM);                           \
		ck_assert_int_gt(F.al.failures, 0);                            \
		ck_assert_str_ne(quota_errmsg(F.ctx), "");                     \
		world_take(&a_, &F);                                           \
		world_assert_eq(&b_, &a_);                                     \
		name_after_check;                                              \
	} while (0)

START_TEST(test_enomem_account_and_tariff_new)
{
	fx_build(&F);
	ENOMEM_CALL(new_account(&F, F.ctx, "globex", 1),
		    ck_assert_int_eq(find_account(&F, "globex"),
				     QUOTA_ENOTFOUND));
	ENOMEM_CALL(new_tariff(F.ctx, "newtariff", 1),
		    ck_assert_int_eq(find_tariff(&F, "newtariff"),
				     QUOTA_ENOTFOUND));
	/* Once memory is back, the same calls work. */
	ck_assert_int_eq(new_account(&F, F.ctx, "globex", 1), QUOTA_OK);
	ck_assert_int_eq(new_tariff(F.ctx, "newtariff", 1), QUOTA_OK);
	fx_free(&F);
}
END_TEST

/* Adding packages must grow a table at some point: that one fails cleanly. */
START_TEST(test_enomem_package_add)
{
	char id[32];
	int i, hit = 0;

	fx_build(&F);
	for (i = 0; i < 300 && !hit; i++) {
		world b, a;
		long before = F.al.attempts;
		int rc;

		snprintf(id, sizeof id, "grow%d", i);
		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		rc = add_pkg(&F, F.a, id, QUOTA_MASK(F.sms), 1, F.t0,
			     F.t0 + TU_DAY, 0, 0);
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_int_eq(F.al.attempts, before);
			continue;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
		ck_assert_int_eq(find_pkg(&F, F.a, id), QUOTA_ENOTFOUND);
		ck_assert_int_eq(add_pkg(&F, F.a, id, QUOTA_MASK(F.sms), 1,
					 F.t0, F.t0 + TU_DAY, 0, 0),
				 QUOTA_OK);
		hit = 1;
	}
	ck_assert_msg(hit, "300 packages added without allocating");
	fx_free(&F);
}
END_TEST

/* Charges on new days must grow the period counters at some point. */
START_TEST(test_enomem_charge_new_period)
{
	int d, hit = 0;

	fx_build(&F);
	for (d = 1; d <= 400 && !hit; d++) {
		int64_t at = F.t0 + d * TU_DAY;
		world b, a;
		long before = F.al.attempts;
		int rc;

		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		rc = chg(&F, 0, F.a, F.email, 1, at, NULL);
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_int_eq(F.al.attempts, before);
			continue;
		}
		ck_assert_int_eq(rc, QUOTA_ENOMEM);
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
		ck_assert_int_eq(chg(&F, 0, F.a, F.email, 1, at, NULL),
				 QUOTA_OK);
		hit = 1;
	}
	ck_assert_msg(hit, "400 new days charged without allocating");
	fx_free(&F);
}
END_TEST

/*
 * Calls that may or may not allocate: with every allocation failing they
 * either succeed without trying to allocate or fail with ENOMEM and change
 * nothing.
 */
START_TEST(test_enomem_other_calls)
{
	int k;

	fx_build(&F);
	for (k = 0; k < 8; k++) {
		world b, a;
		long before = F.al.attempts;
		int rc = QUOTA_OK;

		world_take(&b, &F);
		tu_alloc_fail_all(&F.al);
		switch (k) {
		case 0:
			rc = quota_category_add(F.ctx, "newcat", &F.id_out);
			break;
		case 1:
			rc = quota_tariff_add_tier(F.open, 500, 3);
			break;
		case 2:
			rc = quota_account_set_cap(F.a, F.sms,
						   QUOTA_PERIOD_MONTH, 1000000);
			break;
		case 3:
			rc = quota_account_set_tariff(F.a, F.email, F.vol);
			break;
		case 4:
			rc = quota_account_set_overage(F.a, F.email,
						       QUOTA_OVERAGE_STOP);
			break;
		case 5:
			rc = quota_tariff_set_free(F.open, 3,
						   QUOTA_PERIOD_MONTH);
			break;
		case 6:
			rc = chg(&F, 1, F.a, F.sms, 5, F.t0 + 77 * TU_DAY,
				 NULL);
			break;
		default:
			rc = chg(&F, 0, F.a, F.sms, 5, F.t0, NULL);
			break;
		}
		tu_alloc_disarm(&F.al);
		if (rc == QUOTA_OK) {
			ck_assert_msg(F.al.attempts == before,
				      "call %d succeeded although allocation "
				      "failed",
				      k);
			continue;
		}
		ck_assert_msg(rc == QUOTA_ENOMEM, "call %d: %s", k,
			      quota_err_name(rc));
		ck_assert_str_ne(quota_errmsg(F.ctx), "");
		world_take(&a, &F);
		world_assert_eq(&b, &a);
	}
	fx_free(&F);
}
END_TEST

/* ------------------------------------ issue 15: a blocked account (R25) */

/* quota_charge_sms on account a. */
static int sms15(fx *f, quota_account *a, const char *key)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_receipt r;
	int rc;

	memset(&r, 0x6b, sizeof r);
	rc = quota_charge_sms(a, f->sms, "hello", 5, &o, f->t0, key, &r,
			      NULL);
	if (rc != QUOTA_OK)
		ck_assert_msg(tu_receipt_is_zero(&r),
			      "receipt not zeroed on error");
	return rc;
}

/* Every new-business call of a blocked account is refused with
 * QUOTA_EBLOCKED (quota_account_block(3)), before any other check of the
 * call's state: a cap reached, a stop policy, an offer the balance
 * cannot pay.  Bad arguments are still QUOTA_EINVAL. */
#define BLOCKED_ROWS(X)                                                        \
	X(charge, QUOTA_EBLOCKED, chg(f, 0, f->a, f->sms, 1, T0, NULL))        \
	X(charge_keyed, QUOTA_EBLOCKED, chg(f, 0, f->a, f->sms, 1, T0, "new")) \
	X(charge_cap_reached, QUOTA_EBLOCKED,                                  \
	  chg(f, 0, f->a, f->capped, 1, T0 + TU_HOUR, NULL))                   \
	X(charge_stop_policy, QUOTA_EBLOCKED,                                  \
	  chg(f, 0, f->a, f->stoppol, 1, T0, NULL))                            \
	X(quote, QUOTA_EBLOCKED, chg(f, 1, f->a, f->sms, 1, T0, NULL))         \
	X(charge_sms, QUOTA_EBLOCKED, sms15(f, f->a, NULL))                    \
	X(reserve, QUOTA_EBLOCKED,                                             \
	  rsv(f, f->a, f->sms, 1, T0, TU_HOUR, NULL, 1))                       \
	X(reserve_keyed, QUOTA_EBLOCKED,                                       \
	  rsv(f, f->a, f->sms, 1, T0, TU_HOUR, "new-r", 1))                    \
	X(package_buy, QUOTA_EBLOCKED,                                         \
	  purchase(f, 1, f->a, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(package_buy_unaffordable, QUOTA_EBLOCKED,                            \
	  purchase(f, 1, f->a, f->ofix, 1, 0, 0, 0, T0, NULL))                 \
	X(package_quote, QUOTA_EBLOCKED,                                       \
	  purchase(f, 0, f->a, f->oqty, 100, 0, 0, 0, T0, NULL))               \
	X(charge_bad_time_still_einval, QUOTA_EINVAL,                          \
	  chg(f, 0, f->a, f->sms, 1, QUOTA_TIME_MAX, NULL))

#define BROW_DEF(name, want, expr)                                             \
	static int brow_##name(fx *f)                                          \
	{                                                                      \
		return (expr);                                                 \
	}
BLOCKED_ROWS(BROW_DEF)
#undef BROW_DEF

#define BROW_ENT(name, want, expr) {#name, want, 1, brow_##name},
static const row blocked_rows[] = {BLOCKED_ROWS(BROW_ENT)};
#undef BROW_ENT

#define NBROWS ((int)(sizeof blocked_rows / sizeof blocked_rows[0]))

START_TEST(test_r25_blocked_account_table)
{
	const row *r = &blocked_rows[_i];
	world before, after;
	int rc;

	fx_build(&F);
	ck_assert_int_eq(quota_account_block(F.a, "non-compliant content",
					     F.t0),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_overage(F.a, F.sms,
						   QUOTA_OVERAGE_PAYG),
			 QUOTA_OK);
	world_take(&before, &F);
	rc = r->fn(&F);
	ck_assert_msg(rc == r->want, "blocked %s: want %s, got %s (%s)",
		      r->name, quota_err_name(r->want), quota_err_name(rc),
		      quota_errmsg(F.ctx));
	ck_assert_msg(quota_errmsg(F.ctx)[0] != '\0',
		      "blocked %s: empty quota_errmsg", r->name);
	world_take(&after, &F);
	world_assert_eq(&before, &after);
	fx_free(&F);
}
END_TEST

static Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input_table, 0, NROWS);
	tcase_add_loop_test(tc, test_r25_blocked_account_table, 0, NBROWS);
	tcase_add_test(tc, test_boundaries_accepted);
	tcase_add_test(tc, test_s9_names_checked_by_find_and_add_as_documented);
	tcase_add_test(tc, test_r26_zone_getters_null);
	tcase_add_test(tc, test_category_65th);
	tcase_add_test(tc, test_strerror_and_names);
	tcase_add_test(tc, test_enomem_ctx_new_with);
	tcase_add_test(tc, test_enomem_account_and_tariff_new);
	tcase_add_test(tc, test_enomem_package_add);
	tcase_add_test(tc, test_enomem_charge_new_period);
	tcase_add_test(tc, test_enomem_other_calls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(badinput_suite());
}
