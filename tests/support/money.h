/*
 * money.h - what the money tests share (check_money.c: the catalog and
 * purchases R5, R16, R19; check_money_balance.c: an account's money R17,
 * R18; check_money_errors.c: bad input and failed allocations of offers
 * and purchases): USD and the time T0, the world (three categories, the
 * USMS quantity offer and the three SES packages, their prices in
 * check_money.c's header) built directly or through the counting
 * allocator, OK, what a refused call must leave alone (msnap) and REFUSED
 * around one (the message in last_err), a zeroed purchase, quote and buy
 * with their purchase filled with junk first.
 * Include after <check.h>, "quota.h", "ctx.h", "testutil.h" and
 * "fixtures.h".
 */
#ifndef QUOTA_TEST_MONEY_H
#define QUOTA_TEST_MONEY_H

#include <stdio.h>
#include <string.h>


#define USD(x) ((int64_t)(x) * INT64_C(1000000))
#define T0 tu_utc(2024, 8, 31, 15, 30, 0)

typedef struct world {
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a;
	uint32_t verify, notify, email;
	quota_tariff *sms_qty; /* USMS quantity table, volume mode */
	quota_offer *usms;     /* by quantity: min 100, step 100 */
	quota_offer *ses600k, *ses1m, *ses5m;
} world;

static inline quota_offer *add_offer(quota_ctx *c,
				     const quota_offer_spec *s)
{
	quota_offer *o = NULL;
	int rc = quota_offer_add(c, s, &o);

	ck_assert_msg(rc == QUOTA_OK, "offer '%s': %s (%s)", s->id,
		      quota_err_name(rc), quota_errmsg(c));
	ck_assert_ptr_nonnull(o);
	return o;
}

static inline quota_offer *ses_offer(quota_ctx *c, uint32_t email,
				     const char *id, int64_t units,
				     int64_t price)
{
	quota_offer_spec s = {.id = id,
			      .categories = QUOTA_MASK(email),
			      .units = units,
			      .price_micros = price,
			      .valid_months = 6};

	return add_offer(c, &s);
}

/* Build the world; with_alloc: through the counting allocator. */
static inline void w_build(world *w, int with_alloc)
{
	quota_offer_spec s;

	memset(w, 0, sizeof *w);
	tu_alloc_init(&w->al);
	if (with_alloc)
		ck_assert_int_eq(quota_ctx_new_with(&w->al.a, &w->ctx),
				 QUOTA_OK);
	else
		w->ctx = new_ctx();
	w->verify = add_cat(w->ctx, "sms.verify");
	w->notify = add_cat(w->ctx, "sms.notify");
	w->email = add_cat(w->ctx, "email");
	w->a = add_acct(w->ctx, "acme");
	w->sms_qty = add_tariff(w->ctx, "usms-qty");
	ck_assert_int_eq(quota_tariff_set_mode(w->sms_qty, QUOTA_VOLUME),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(w->sms_qty, 100000, 44000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(w->sms_qty, 1000000, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(w->sms_qty, QUOTA_UNLIMITED,
					       36000),
			 QUOTA_OK);
	memset(&s, 0, sizeof s);
	s.id = "usms";
	s.categories = QUOTA_MASK(w->verify) | QUOTA_MASK(w->notify);
	s.unit_tariff = w->sms_qty;
	s.min_units = 100;
	s.step_units = 100;
	s.valid_months = 12; /* "购买时长 12个月" */
	w->usms = add_offer(w->ctx, &s);
	w->ses600k = ses_offer(w->ctx, w->email, "ses-600k", 600000, USD(144));
	w->ses1m = ses_offer(w->ctx, w->email, "ses-1m", 1000000, USD(230));
	w->ses5m = ses_offer(w->ctx, w->email, "ses-5m", 5000000, USD(1100));
}

static inline void w_free(world *w)
{
	quota_ctx_free(w->ctx);
	w->ctx = NULL;
	ck_assert_int_eq(w->al.live_blocks, 0);
	ck_assert_int_eq(w->al.bad_frees, 0);
}

#define OK(c, expr) TU_OK(c, expr)

/* What a refused call must leave alone: money, packages, usage state. */
typedef struct msnap {
	quota_money m;
	uint32_t npk;
	tu_snap s;
} msnap;

static inline void msnap_take(msnap *x, const quota_account *a)
{
	memset(x, 0, sizeof *x);
	ck_assert_int_eq(quota_account_money(a, &x->m), QUOTA_OK);
	x->npk = quota_account_package_count(a);
	tu_snap_take1(&x->s, a, T0);
}

static inline void msnap_eq(const msnap *x, const msnap *y)
{
	ck_assert_int_eq(x->m.balance_micros, y->m.balance_micros);
	ck_assert_int_eq(x->m.credit_limit_micros, y->m.credit_limit_micros);
	ck_assert_int_eq(x->m.outstanding_micros, y->m.outstanding_micros);
	ck_assert_int_eq(x->m.topped_up_micros, y->m.topped_up_micros);
	ck_assert_int_eq(x->m.purchased_micros, y->m.purchased_micros);
	ck_assert_int_eq(x->m.billed_micros, y->m.billed_micros);
	ck_assert_int_eq(x->m.suspended, y->m.suspended);
	ck_assert_uint_eq(x->npk, y->npk);
	TU_ASSERT_SNAP_EQ(&x->s, &y->s);
}

/* The message of the last REFUSED call (reading the state clears it). */
static char last_err[QUOTA__ERRMSG_MAX];

/* A refused call on account a: its code, a message, nothing changed. */
#define REFUSED(a, want, expr)                                                 \
	do {                                                                   \
		msnap b_, a_;                                                  \
		int rc_;                                                       \
		msnap_take(&b_, (a));                                          \
		rc_ = (expr);                                                  \
		ck_assert_msg(rc_ == (want), "%s: want %s, got %s (%s)",       \
			      #expr, quota_err_name(want),                     \
			      quota_err_name(rc_),                             \
			      quota_errmsg(quota_account_ctx(a)));             \
		ck_assert_str_ne(quota_errmsg(quota_account_ctx(a)), "");      \
		snprintf(last_err, sizeof last_err, "%s",                      \
			 quota_errmsg(quota_account_ctx(a)));                  \
		msnap_take(&a_, (a));                                          \
		msnap_eq(&b_, &a_);                                            \
	} while (0)

static inline int purchase_is_zero(const quota_purchase *p)
{
	quota_purchase z;

	memset(&z, 0, sizeof z);
	return memcmp(p, &z, sizeof z) == 0;
}

static inline int quote(const quota_account *a, const quota_offer *o,
			int64_t q, const quota_voucher *v, int64_t at,
			quota_purchase *p)
{
	memset(p, 0x5a, sizeof *p);
	return quota_package_quote(a, o, q, v, at, p);
}

static inline int buy(quota_account *a, const quota_offer *o, int64_t q,
		      const quota_voucher *v, int64_t at, const char *id,
		      quota_purchase *p)
{
	if (p)
		memset(p, 0x5a, sizeof *p);
	return quota_package_buy(a, o, q, v, at, id, p);
}

#endif /* QUOTA_TEST_MONEY_H */
