/*
 * faults_scenario.h - the allocation-failure sweep's scenario (STYLE 19;
 * what it does is told in check_faults.c): R10-R12 holds (hold_steps),
 * issue 15's R25 and R27 calls (r25_r27_steps), the scenario itself, and
 * run_once, which runs it once in a mode (the fault-free reference, a
 * single or a persistent failure) and compares the run with the
 * reference run.  Shared by check_faults.c and check_faults_reference.c;
 * the run, the world and STEP are in faults_world.h.
 */
#ifndef QUOTA_TEST_FAULTS_SCENARIO_H
#define QUOTA_TEST_FAULTS_SCENARIO_H

#include "faults_world.h"

/* ------------------------------------------------------------ scenario */

/* R10-R12 calls of account i on day d at `at`. */
static void hold_steps(run *r, int i, int d, int64_t at)
{
	quota_account *a = r->acc[i];
	char key[32], rkey[32], ckey[32];

	snprintf(key, sizeof key, "ch-%d-%d", d, i);
	snprintf(rkey, sizeof rkey, "rs-%d-%d", d, i);
	snprintf(ckey, sizeof ckey, "cm-%d-%d", d, i);
	/* A keyed charge and its replay (a sms.notify, and a click). */
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[1], 5 + d % 7, at + 5, key, &rcpt_), NOCHECK);
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[1], 5 + d % 7, at + 5, key, &rcpt_), NOCHECK);
	STEP(r, i, at, 1,
	     charge_k(a, r->cat[4], 2, at + 6, ckey, &rcpt_), NOCHECK);
	/* A reservation, keyed every other day, and its replay. */
	STEP(r, i, at, 1,
	     reserve_k(r, i, r->cat[d % 2 ? 0 : 3], 3 + d % 4, at + 7,
		       TU_HOUR, d % 2 ? rkey : NULL, &rcpt_),
	     NOCHECK);
	if (d % 2)
		STEP(r, i, at, 1,
		     reserve_k(r, i, r->cat[0], 3 + d % 4, at + 7, TU_HOUR,
			       rkey, &rcpt_),
		     NOCHECK);
	switch (d % 4) {
	case 0: /* delivered in part */
		STEP(r, i, at, 1,
		     quota_commit(a, r->hold[i], 1 + d % 3, d % 8 ? NULL : rkey,
				  &rcpt_),
		     NOCHECK);
		break;
	case 1: /* failed: the failure fee */
		STEP(r, i, at, 1, quota_release(a, r->hold[i], NULL, &rcpt_),
		     NOCHECK);
		break;
	case 2: /* delivered whole, keyed: later reversed */
		snprintf(ckey, sizeof ckey, "cm2-%d-%d", d, i);
		STEP(r, i, at, 1,
		     quota_commit(a, r->hold[i], 3 + d % 4, ckey, &rcpt_),
		     NOCHECK);
		STEP(r, i, at, 1, quota_reverse(a, ckey, at + 60, &rcpt_),
		     NOCHECK);
		break;
	default: /* no report: the tick releases it */
		break;
	}
	STEP(r, i, at, 0, tick(r, i, at + 2 * TU_HOUR), NOCHECK);
	/* A late failure report on the keyed charge, some days. */
	if (d % 3 == 0)
		STEP(r, i, at, 1, quota_reverse(a, key, at + 3 * TU_DAY, &rcpt_),
		     NOCHECK);
	if (d % 9 == 4)
		STEP(r, i, at, 0,
		     quota_account_set_key_window(a, 2 + (uint32_t)(d % 3),
						  10 * TU_DAY),
		     NOCHECK);
}

/* ------------------------------------------- issue 15: R25 and R27 calls */

/* R27: fees per failure reason on the sms tariff (before it is in use):
 * a carrier rejection dearer than the failure fee, an invalid number
 * free, the expired reason set and dropped again. */
static void r27_config_steps(run *r)
{
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0],
						 QUOTA_FAIL_REJECTED, 400),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(
		     r->tar[0], QUOTA_FAIL_INVALID_NUMBER, 0),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0], QUOTA_FAIL_EXPIRED,
						 90),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_failure_fee_reason(r->tar[0], QUOTA_FAIL_EXPIRED,
						 -1),
	     NOCHECK);
}

/* R27: a keyless charge; its kept receipt id (0 if not kept). */
static int charge_rid(run *r, int i, uint32_t cat, int64_t units, int64_t at,
		      quota_receipt *rcpt)
{
	int rc = charge(r->acc[i], cat, units, at, 0, rcpt);

	if (rc == QUOTA_OK)
		r->rid[i] = rcpt->receipt_id;
	return rc;
}

/* A keyless reservation remembered as the account's R27 hold. */
static int reserve_r(run *r, int i, uint32_t cat, int64_t units, int64_t at,
		     quota_receipt *rcpt)
{
	int rc = reserve_k(r, i, cat, units, at, TU_DAY, NULL, rcpt);

	r->rhold[i] = rc == QUOTA_OK ? r->hold[i] : 0;
	return rc;
}

/* 1 if blocked, 0 if not (the reason and time read too). */
static int blocked(const quota_account *a)
{
	const char *why = NULL;
	int64_t since = 0;
	int rc = quota_account_blocked(a, &why, &since);

	ck_assert(rc == 1 ? since != 0 : why == NULL && since == 0);
	return rc;
}

/* R25 and R27 calls of account i on day d at `at`. */
static void r25_r27_steps(run *r, int i, int d, int64_t at)
{
	quota_account *a = r->acc[i];
	int64_t t = at + 1000;

	/* R27: even accounts keep receipts from day 0; odd ones from day
	 * 3, and every account turns it off and on again now and then. */
	if ((d == 0 && i % 2 == 0) || (d == 3 && i % 2))
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 1), NOCHECK);
	if (d % 11 == 7)
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 0), NOCHECK);
	if (d % 11 == 8)
		STEP(r, i, t, 0, quota_account_keep_receipts(a, 1), NOCHECK);
	/* The rest on every third day of an account, to keep the sweep's
	 * time. */
	if ((d + i) % 3)
		return;
	/* A keyless charge, reversed by its receipt id some days (0 when
	 * receipts are not kept: QUOTA_EINVAL). */
	STEP(r, i, t, 1, charge_rid(r, i, r->cat[d % 2], 4 + d % 5, t, &rcpt_),
	     NOCHECK);
	if (d % 3 != 2)
		STEP(r, i, t, 1, quota_reverse_receipt(a, r->rid[i], t + 5, &rcpt_),
		     NOCHECK);
	/* A keyless hold: released with a reason (0..5 and a host's own 9),
	 * or committed and then reversed by its hold id. */
	STEP(r, i, t, 1, reserve_r(r, i, r->cat[0], 2 + d % 3, t + 10, &rcpt_),
	     NOCHECK);
	if (d % 2)
		STEP(r, i, t, 1,
		     quota_release_reason(a, r->rhold[i],
					  d % 7 == 6 ? 9 : d % 6, NULL, &rcpt_),
		     NOCHECK);
	else {
		STEP(r, i, t, 1,
		     quota_commit(a, r->rhold[i], 1 + d % 2, NULL, &rcpt_),
		     NOCHECK);
		STEP(r, i, t, 1,
		     quota_reverse_receipt(a, r->rhold[i], t + 20, &rcpt_),
		     NOCHECK);
	}
	/* R25: some of those days a block with a hold open; new business
	 * is refused, earlier business and money go on; unblocked again. */
	if (d % 4 != i % 4)
		return;
	STEP(r, i, t, 1, reserve_r(r, i, r->cat[3], 5, t + 30, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0,
	     quota_account_block(a, i % 2 ? "non-compliant content" : NULL,
				 t + 40),
	     NOCHECK);
	STEP(r, i, t, 0, quota_account_block(a, "again", t + 41), NOCHECK);
	STEP(r, i, t, 0, blocked(a), NOCHECK);
	STEP(r, i, t, 1, charge(a, r->cat[0], 3, t + 50, 0, &rcpt_), NOCHECK);
	STEP(r, i, t, 1, charge(a, r->cat[4], 3, t + 50, 1, &rcpt_), NOCHECK);
	STEP(r, i, t, 1,
	     reserve_k(r, i, r->cat[0], 3, t + 50, TU_HOUR, NULL, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0, buy(r, i, t + 60), NOCHECK);
	STEP(r, i, t, 1, quota_commit(a, r->rhold[i], 4, NULL, &rcpt_),
	     NOCHECK);
	STEP(r, i, t, 0, quota_account_topup(a, 1000, t + 70), NOCHECK);
	if (i % 2) /* the hourly ones (daily ones settle at a day's end) */
		STEP(r, i, t, 0, settle(r, i, t + 80), NOCHECK);
	STEP(r, i, t, 0, tick(r, i, t + 90), NOCHECK);
	STEP(r, i, t, 0, quota_account_unblock(a, t + 100), NOCHECK);
	STEP(r, i, t, 0, quota_account_unblock(a, t + 101), NOCHECK);
	STEP(r, i, t, 0, blocked(a), NOCHECK);
}

static void scenario(run *r, int days)
{
	int i, k, d;
	char id[64];

	STEP(r, -1, 0, 0, quota_ctx_new_with(&r->al.a, &r->ctx), {
		ck_assert_ptr_null(r->ctx);
		ck_assert_int_eq(r->al.live_blocks, 0);
	});
	STEP(r, -1, 0, 0, quota_ctx_set_event_hook(r->ctx, hook, r), NOCHECK);
	for (i = 0; i < NCAT; i++)
		STEP(r, -1, 0, 0,
		     quota_category_add(r->ctx, cat_names[i], &r->cat[i]),
		     ck_assert(notfound_category(r, cat_names[i])));
	for (i = 0; i < NTAR; i++) {
		quota_tariff *t = NULL;

		STEP(r, -1, 0, 0, quota_tariff_new(r->ctx, tariff_names[i], &t),
		     {
			     ck_assert_ptr_null(t);
			     ck_assert(notfound_tariff(r, tariff_names[i]));
		     });
		r->tar[r->ntar++] = t;
	}
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], 1000, 8000), NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], 10000, 6000),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[0], QUOTA_UNLIMITED, 4000),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_free(r->tar[0], 50, QUOTA_PERIOD_DAY),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[1], 10000, 100), NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_add_tier(r->tar[1], QUOTA_UNLIMITED, 50),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_mode(r->tar[1], QUOTA_VOLUME),
	     NOCHECK);
	STEP(r, -1, 0, 0,
	     quota_tariff_set_free(r->tar[1], 2000, QUOTA_PERIOD_LIFETIME),
	     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_free_daily_limit(r->tar[1], 200),
	     NOCHECK);
	for (k = 0; k < 20; k++)
		STEP(r, -1, 0, 0,
		     quota_tariff_add_tier(r->tar[2], 100 * (k + 1), 1000 - 40 * k),
		     NOCHECK);
	STEP(r, -1, 0, 0, quota_tariff_set_failure_fee(r->tar[0], 150),
	     NOCHECK);
	r27_config_steps(r);
	{
		quota_offer_spec os;

		memset(&os, 0, sizeof os);
		os.id = "promo-200";
		os.categories = QUOTA_MASK(r->cat[0]) | QUOTA_MASK(r->cat[3]);
		os.units = 200;
		os.price_micros = 900000;
		os.valid_days = 9;
		os.valid_months = 1;
		STEP(r, -1, 0, 0, quota_offer_add(r->ctx, &os, &r->offer), {
			ck_assert_ptr_null(r->offer);
			ck_assert(notfound_offer(r, "promo-200"));
		});
	}

	/* R26: the system's Berlin (the scenario crosses 2024-03-31, a day
	 * of 23 hours there), read and decoded under the faults. */
	STEP(r, -1, 0, 0, quota_zone_load(r->ctx, "Europe/Berlin", &r->zone), {
		quota_zone *z_;

		ck_assert_ptr_null(r->zone);
		ck_assert_int_eq(quota_zone_find(r->ctx, "Europe/Berlin", &z_),
				 QUOTA_ENOTFOUND);
	});

	for (i = 0; i < NACC; i++) {
		quota_account *a = NULL;

		STEP(r, -1, 0, 0, quota_account_new(r->ctx, acct_names[i], &a), {
			ck_assert_ptr_null(a);
			ck_assert(notfound_account(r, acct_names[i]));
		});
		r->acc[r->nacc++] = a;
		STEP(r, i, T_REF, 0,
		     quota_account_set_utc_offset(a, acct_offsets[i]), NOCHECK);
		if (i == 1 || i == 4) /* R26: these follow Berlin's rules */
			STEP(r, i, T_REF, 0, quota_account_set_zone(a, r->zone),
			     NOCHECK);
		for (k = 0; k < 3; k++)
			STEP(r, i, T_REF, 0,
			     quota_account_set_tariff(a, r->cat[k], r->tar[0]),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_tariff(a, r->cat[3], r->tar[1]), NOCHECK);
		if (i % 2 == 0)
			STEP(r, i, T_REF, 0,
			     quota_account_set_tariff(a, r->cat[4], r->tar[2]),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_cap(a, r->cat[0], QUOTA_PERIOD_DAY, 400),
		     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_MONTH,
					   6000),
		     NOCHECK);
		if (i % 2 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_overage(a, r->cat[2],
						       QUOTA_OVERAGE_STOP),
			     NOCHECK);
		/* R11 windows: small ones forget keys by count and age. */
		if (i % 3 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_key_window(a, 4, 30 * TU_DAY),
			     NOCHECK);
		else if (i % 3 == 2)
			STEP(r, i, T_REF, 0,
			     quota_account_set_key_window(a, 1000, 3 * TU_DAY),
			     NOCHECK);
		/* R21 */
		STEP(r, i, T_REF, 0,
		     quota_account_set_expiry_warning(a, 2 * TU_DAY), NOCHECK);
		/* R17-R19: hourly or daily settlement, some credit, a first
		 * top-up small enough that some accounts get suspended. */
		STEP(r, i, T_REF, 0,
		     quota_account_set_settlement(
			     a, i % 2 ? QUOTA_PERIOD_HOUR : QUOTA_PERIOD_DAY,
			     i % 3 ? 10000 : 1000000, i % 4),
		     NOCHECK);
		if (i % 3 == 0)
			STEP(r, i, T_REF, 0,
			     quota_account_set_credit_limit(a, 3000000),
			     NOCHECK);
		STEP(r, i, T_REF, 0,
		     quota_account_topup(a, 400000 * (i + 1), T_REF), NOCHECK);
		/* R24: gift money, some of it expiring, and some accounts
		 * paying cash first (purchases on credit too). */
		STEP(r, i, T_REF, 0,
		     quota_gift_grant(a, 300000 * (i + 1),
				      i % 2 ? QUOTA_NEVER : T_REF + 20 * TU_DAY,
				      T_REF),
		     NOCHECK);
		if (i % 2 == 1)
			STEP(r, i, T_REF, 0,
			     quota_account_set_pay_order(
				     a, QUOTA_PAY_CASH_FIRST,
				     QUOTA_PAY_CREDIT_PURCHASES),
			     NOCHECK);
		for (k = 0; k < 3; k++)
			STEP(r, i, T_REF, 0,
			     quota_account_add_alert(a, r->cat[k % 2],
						     k == 2 ? 50 : 10 + 10 * k,
						     k == 1 ? QUOTA_ALERT_UNITS
							    : QUOTA_ALERT_PERCENT),
			     NOCHECK);
		/* acme gets many packages so its table grows several times */
		for (k = 0; k < (i == 0 ? 12 : 2 + i); k++) {
			int64_t eff = tu_utc(2024, 1, 10, 0, 0, 0) +
				      (k - 3) * 5 * TU_DAY;
			int64_t exp = k % 5 == 4 ? QUOTA_NEVER
						 : eff + (30 + 10 * k) * TU_DAY;
			uint64_t mask = k % 3 == 0
						? QUOTA_MASK(r->cat[0]) |
							  QUOTA_MASK(r->cat[1])
					: k % 3 == 1 ? QUOTA_MASK(r->cat[2])
						     : QUOTA_MASK(r->cat[3]) |
							       QUOTA_MASK(r->cat[4]);

			snprintf(id, sizeof id, "%s-pkg-%02d", acct_names[i], k);
			STEP(r, i, eff, 0,
			     add_package(r->acc[i], id, mask, 100 + 37 * k, eff,
					 exp,
					 k == 7 ? QUOTA_PACKAGE_STOP : 0,
					 k % 3 - 1),
			     ck_assert(notfound_package(r->acc[i], id)));
		}
	}

	/* ~1.5 days apart: the counters see many days and three months. */
	for (d = 0; d < days; d++) {
		int64_t base = tu_utc(2024, 1, 25, 6, 0, 0) + d * 37 * TU_HOUR;

		for (i = 0; i < NACC; i++) {
			quota_account *a = r->acc[i];
			int64_t at = base + i * TU_HOUR;
			int64_t late = at - 20 * TU_DAY;

			STEP(r, i, at, 1,
			     charge(a, r->cat[0], 10 + (d * 7 + i) % 90, at, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[3], 150 + 10 * (d % 5), at, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[2], 30 + d % 50, at + 60, 0,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[4], 40 + 13 * i, at + 120, 1,
				    &rcpt_),
			     NOCHECK);
			STEP(r, i, at, 1,
			     charge(a, r->cat[4], 40 + 13 * i, at + 120, 0,
				    &rcpt_),
			     NOCHECK);
			if (d % 5 == 2)
				STEP(r, i, late, 1,
				     charge(a, r->cat[1], 25, late, 0, &rcpt_),
				     NOCHECK);
			hold_steps(r, i, d, at);
			if (r->aborted) /* STEP returned from hold_steps */
				return;
			r25_r27_steps(r, i, d, at);
			if (r->aborted)
				return;
			if (d % 4 == 1)
				STEP(r, i, at, 0, buy(r, i, at + 300), NOCHECK);
			if (d % 3 == 2)
				STEP(r, i, at, 0, settle(r, i, at + 400),
				     NOCHECK);
			if (d % 5 == 4)
				STEP(r, i, at, 0,
				     quota_account_topup(a, 1500000, at),
				     NOCHECK);
			if (d % 6 == 1) /* R24: grants that expire in 3 days */
				STEP(r, i, at, 0,
				     quota_gift_grant(a, 700000,
						      at + 3 * TU_DAY, at),
				     NOCHECK);
			/* §7: pruning (a failed one drops nothing); later
			 * late charges and reports before it: QUOTA_EPRUNED. */
			if (d % 9 == 8)
				STEP(r, i, at, 0,
				     quota_account_prune(
					     a, at - 12 * TU_DAY,
					     i % 2 ? QUOTA_PRUNE_ALL
						   : QUOTA_PRUNE_LEDGER),
				     NOCHECK);
			if (d % 7 == 3)
				STEP(r, i, at, 0,
				     quota_report_csv(a,
						      d % 2 ? QUOTA_PERIOD_HOUR
							    : QUOTA_PERIOD_DAY,
						      at - 10 * TU_DAY, at,
						      count_bytes, r),
				     NOCHECK);
		}
		if (d % 6 == 5)
			STEP(r, -1, 0, 0, tick(r, -1, base + 30 * TU_HOUR),
			     NOCHECK);
	}
}

/* Run the scenario once in the given mode; return allocations failed. */
static long run_once(run *r, int mode, long n, int days)
{
	memset(r, 0, sizeof *r);
	tu_alloc_init(&r->al);
	r->mode = mode;
	if (mode == MODE_SINGLE)
		tu_alloc_fail_in(&r->al, n);
	else if (mode == MODE_PERSISTENT) {
		r->al.fail_at = n;
		r->al.fail_rest = 1;
	}
	scenario(r, days);
	if (mode == MODE_REF) {
		ref_nsteps = r->step;
		ref_events = r->events;
		ref_hook_failed = r->hook_failed;
		ref_bills = r->bills;
		ref_billed = r->billed;
		ref_report_bytes = r->report_bytes;
		ck_assert_uint_eq(quota_ctx_hook_failures(r->ctx),
				  (uint64_t)r->hook_failed);
		world_take(r, &w_ref_end, -1, 0);
	} else if (!r->aborted) {
		ck_assert_int_eq(r->step, ref_nsteps);
		ck_assert_msg(r->events == ref_events,
			      "N=%ld: %ld events, fault-free run %ld", n,
			      r->events, ref_events);
		ck_assert_uint_eq(quota_ctx_hook_failures(r->ctx),
				  (uint64_t)ref_hook_failed);
		ck_assert_int_eq(r->bills, ref_bills);
		ck_assert_int_eq(r->billed, ref_billed);
		ck_assert_int_eq(r->report_bytes, ref_report_bytes);
		tu_alloc_disarm(&r->al);
		world_take(r, &w_end, -1, 0);
		world_assert_eq(r, &w_ref_end, &w_end);
	}
	quota_ctx_free(r->ctx);
	ck_assert_msg(r->al.live_blocks == 0,
		      "N=%ld: %ld blocks (%zu bytes) leaked", n,
		      r->al.live_blocks, r->al.live_bytes);
	ck_assert_int_eq(r->al.bad_frees, 0);
	return r->al.failures;
}

static int scenario_days(void)
{
	return tu_quick() ? 8 : 40;
}

#endif /* QUOTA_TEST_FAULTS_SCENARIO_H */
