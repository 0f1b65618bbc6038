/*
 * check_holds_events.c - scenario tests for issue 4: events (R21), from
 * /tmp/semantics4.md with exact dates and numbers: low-quota levels,
 * caps reached, packages exhausted, expiring and expired, their order
 * within a call and a failing hook.  Each test name cites the rule it
 * shows.  Reservations (R10) are in check_holds.c, keys (R11) and
 * reversal (R12) in check_holds_keys.c; the helpers the three share in
 * support/holds.h.
 *
 * Where the spec is silent these tests assume: an alert added while the
 * account clock is still "before every time" sees R = 0, so tests set the
 * clock (a tick) before adding alerts (the first charge then re-arms it
 * as its clock step starts the packages, before its units move:
 * test_r21_low_quota_fires_when_the_clock_step_starts_a_package); event.at is not checked for clock
 * events; events of the same kind at the same time may come in any order.
 */
#include <check.h>

#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"
#include "holds.h"

/* ---------------------------------------------------------------- R21 */

#define MAXEV 64

typedef struct evlog {
	int n;
	quota_event ev[MAXEV];
	int ret; /* what the hook returns */
	/* state seen from inside the hook */
	int64_t pk_remaining[MAXEV];
	int64_t used[MAXEV];
	uint32_t cat;
	/* HOLD_EXPIRED events (§7), counted apart so that the package
	 * events keep their indices; their receipts: check_lifecycle. */
	int holds_expired;
} evlog;

static int hook(const quota_event *e, void *ud)
{
	evlog *l = ud;

	if (e->kind == QUOTA_EVENT_HOLD_EXPIRED) {
		ck_assert_ptr_nonnull(e->receipt);
		l->holds_expired++;
		return l->ret;
	}

	ck_assert_int_lt(l->n, MAXEV);
	l->ev[l->n] = *e;
	l->pk_remaining[l->n] =
		e->package ? quota_package_remaining(e->package) : -1;
	l->used[l->n] = quota_account_used(e->account, l->cat,
					   QUOTA_PERIOD_DAY, T0);
	l->n++;
	return l->ret;
}

static void ev_expect(const evlog *l, int i, int kind, const quota_package *p,
		      int64_t remaining, int64_t threshold)
{
	ck_assert_msg(i < l->n, "event %d missing (%d delivered)", i, l->n);
	ck_assert_msg(l->ev[i].kind == kind, "event %d: kind %d, want %d", i,
		      l->ev[i].kind, kind);
	ck_assert_ptr_eq(l->ev[i].package, p);
	ck_assert_int_eq(l->ev[i].remaining, remaining);
	if (kind == QUOTA_EVENT_LOW_QUOTA || kind == QUOTA_EVENT_CAP_REACHED)
		ck_assert_int_eq(l->ev[i].threshold, threshold);
}

/* Levels in units and percent; each fires once per crossing and re-arms
 * when a purchase lifts the remaining quota above it. */
START_TEST(test_r21_low_quota_levels_fire_once_and_rearm)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q;
	quota_receipt r;
	evlog l;
	int i, seen50 = 0, seen30 = 0;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 100, T0 - TU_DAY,
		    T0 + 60 * TU_DAY, 0, 0);
	/* The account clock at T0 - 1: R = 100, every level armed. */
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 50, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 30,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 10,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 0, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 40, T0, NULL, &r)); /* R = 60 */
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 15, T0 + 1, NULL, &r)); /* R = 45 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 45, 50);
	ck_assert_uint_eq(l.ev[0].category, sms);
	ck_assert_ptr_eq(l.ev[0].account, a);
	ck_assert_int_eq(l.ev[0].at, T0 + 1);
	OK(a, do_charge(a, sms, 10, T0 + 2, NULL, &r)); /* R = 35 */
	ck_assert_int_eq(l.n, 1);
	OK(a, do_charge(a, sms, 5, T0 + 3, NULL, &r)); /* R = 30: 3000 <= 3000 */
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 30, 30);
	OK(a, do_charge(a, sms, 20, T0 + 4, NULL, &r)); /* R = 10 */
	ck_assert_int_eq(l.n, 3);
	ev_expect(&l, 2, QUOTA_EVENT_LOW_QUOTA, NULL, 10, 10);
	/* To 0: the package is exhausted first, then the level 0 alert. */
	OK(a, do_charge(a, sms, 10, T0 + 5, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ev_expect(&l, 3, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	ev_expect(&l, 4, QUOTA_EVENT_LOW_QUOTA, NULL, 0, 0);
	OK(a, do_charge(a, sms, 3, T0 + 6, NULL, &r)); /* payg: nothing new */
	ck_assert_int_eq(l.n, 5);
	/* A purchase: B = 200, R = 100; every level is above again. */
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 100, T0 - TU_DAY,
		    T0 + 60 * TU_DAY, 0, 0);
	ck_assert_int_eq(quota_package_remaining(q), 100);
	OK(a, do_charge(a, sms, 60, T0 + 7, NULL, &r)); /* R = 40 */
	/* 40 <= 50 units; 4000 <= 30 * 200: both, in some order. */
	ck_assert_int_eq(l.n, 7);
	for (i = 5; i < 7; i++) {
		ck_assert_int_eq(l.ev[i].kind, QUOTA_EVENT_LOW_QUOTA);
		ck_assert_int_eq(l.ev[i].remaining, 40);
		seen50 += l.ev[i].threshold == 50;
		seen30 += l.ev[i].threshold == 60;
	}
	ck_assert_int_eq(seen50, 1);
	ck_assert_int_eq(seen30, 1);
	/* An alert added while crossed starts disarmed. */
	ck_assert_int_eq(quota_account_add_alert(a, sms, 45, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 1, T0 + 8, NULL, &r)); /* R = 39 */
	ck_assert_int_eq(l.n, 7);
	/* Bad alerts. */
	ck_assert_int_eq(quota_account_add_alert(a, sms, -1, QUOTA_ALERT_UNITS),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 101,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, 2), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_add_alert(a, 9, 5, QUOTA_ALERT_UNITS),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 100,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_hook_failures(c), 0);
	quota_ctx_free(c);
}
END_TEST

/* A release and a reversal lift the remaining quota too: re-armed. */
START_TEST(test_r21_low_quota_rearmed_by_release_and_reversal)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_reserve(a, sms, 6, T0, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_release(a, h, NULL, &r));
	OK(a, do_reserve(a, sms, 6, T0 + 1, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_commit(a, h, 6, NULL, &r));
	OK(a, do_charge(a, sms, 1, T0 + 2, "k", &r)); /* R = 3 */
	ck_assert_int_eq(l.n, 2);
	OK(a, do_reverse(a, "k", T0 + 3, &r)); /* R = 4: still crossed */
	OK(a, do_charge(a, sms, 1, T0 + 4, "k2", &r));
	ck_assert_int_eq(l.n, 2);
	quota_ctx_free(c);
}
END_TEST

/* A percent level's threshold is level * B / 100 rounded down; crossed
 * when R * 100 <= level * B. */
/* R21: packages that start at a call's clock step lift R before the
 * call's units move, so an alert they lift above its level fires when the
 * same call takes R back down: the first charge of an account whose alert
 * was added before its clock started (R was 0 then, the alert crossed),
 * and a charge that starts the next package and spends past the level. */
START_TEST(test_r21_low_quota_fires_when_the_clock_step_starts_a_package)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p;
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + 60 * TU_DAY, 0,
		0);
	add_pkg(a, "Q", QUOTA_MASK(sms), 10, T0 + TU_DAY, T0 + 90 * TU_DAY, 0,
		0);
	/* No call yet: the clock is before every time, R = 0. */
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 6, T0, NULL, &r)); /* R: 10, then 4 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	ck_assert_int_eq(l.ev[0].at, T0);
	OK(a, do_charge(a, sms, 1, T0 + 1, NULL, &r)); /* R = 3: disarmed */
	ck_assert_int_eq(l.n, 1);
	/* Q starts: R 13, then 3 (P's last 3 units, then 7 of Q's) */
	OK(a, do_charge(a, sms, 10, T0 + TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 3);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	ev_expect(&l, 2, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
	/* A step that starts nothing re-arms nothing. */
	OK(a, do_charge(a, sms, 1, T0 + 2 * TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 3);
	quota_ctx_free(c);
}
END_TEST

/* R21: a step in which one package ends before another starts never
 * lifts R above the level (10 units before, 10 after): no re-arm, so no
 * LOW_QUOTA for an alert crossed before the step, whether by a tick or
 * a charge. */
START_TEST(test_r21_low_quota_not_rearmed_by_a_start_after_an_expiry)
{
	for (int by_charge = 0; by_charge < 2; by_charge++) {
		quota_ctx *c = new_ctx();
		uint32_t sms = add_cat(c, "sms");
		quota_account *a = add_acct(c, "a");
		quota_receipt r;
		evlog l;
		int i;

		memset(&l, 0, sizeof l);
		l.cat = sms;
		ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l),
				 QUOTA_OK);
		add_pkg(a, "B", QUOTA_MASK(sms), 10, T0, T0 + 100, 0, 0);
		add_pkg(a, "A", QUOTA_MASK(sms), 10, T0 + 200,
			T0 + 90 * TU_DAY, 0, 0);
		ck_assert_int_eq(quota_account_tick(a, T0), 0);
		ck_assert_int_eq(quota_account_add_alert(a, sms, 10,
							 QUOTA_ALERT_UNITS),
				 QUOTA_OK); /* R = 10: crossed */
		if (by_charge)
			OK(a, do_charge(a, sms, 1, T0 + 300, NULL, &r));
		else
			ck_assert_int_eq(quota_account_tick(a, T0 + 300), 0);
		for (i = 0; i < l.n; i++)
			ck_assert_int_ne(l.ev[i].kind, QUOTA_EVENT_LOW_QUOTA);
		quota_ctx_free(c);
	}
}
END_TEST

START_TEST(test_r21_low_quota_percent_threshold_rounds_down)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 7, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 30,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 4, T0, NULL, &r)); /* 300 > 210 */
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 1, T0 + 1, NULL, &r)); /* 200 <= 210 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 2, 2);
	quota_ctx_free(c);
}
END_TEST

/* A reversal that lifts R above the level re-arms it. */
START_TEST(test_r21_low_quota_rearmed_by_reversal)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 6, T0, "k", &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_LOW_QUOTA, NULL, 4, 5);
	OK(a, do_reverse(a, "k", T0 + 1, &r)); /* R = 10 */
	ck_assert_int_eq(l.n, 1);
	OK(a, do_charge(a, sms, 7, T0 + 2, NULL, &r)); /* R = 3 */
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
	quota_ctx_free(c);
}
END_TEST

/* A quote or a refused call changes nothing: no event, the clock stays. */
START_TEST(test_r21_no_events_from_quote_or_refused_call)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t capped = add_cat(c, "capped");
	quota_account *a = add_acct(c, "a");
	quota_package *p;
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, capped, QUOTA_PERIOD_DAY, 0),
			 QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 100, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0), 0);
	OK(a, do_quote(a, sms, 1, T0 + 200, NULL, &r));
	ck_assert_int_eq(l.n, 0);
	REFUSED(a, T0, QUOTA_ECAP, &r,
		do_charge(a, capped, 1, T0 + 200, NULL, &r));
	REFUSED(a, T0, QUOTA_ECAP, &r,
		do_reserve(a, capped, 1, T0 + 200, 9, NULL, &r, &h));
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 + 200), 0);
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, p, 5, 0);
	ck_assert_int_eq(l.ev[0].at, T0 + 200);
	quota_ctx_free(c);
}
END_TEST

/* R counts packages usable at the account clock: an expiry that drops R
 * to the level fires it, after the clock event; per account on a
 * context-wide tick. */
START_TEST(test_r21_low_quota_by_expiry_on_ctx_tick)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_account *b = add_acct(c, "b");
	quota_package *p;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, T0 + 100, 0, 0);
	add_pkg(a, "Q", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	add_pkg(b, "P", QUOTA_MASK(sms), 1, T0 - TU_DAY, T0 + 50, 0, 0);
	ck_assert_int_eq(quota_ctx_tick(c, T0), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(quota_ctx_tick(c, T0 + 100), 0);
	ck_assert_int_eq(l.n, 3);
	/* b's package: the only event of account b. */
	ck_assert(l.ev[0].account == b || l.ev[2].account == b);
	if (l.ev[0].account == b) {
		ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
		ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRED, p, 10, 0);
		ev_expect(&l, 2, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
		ck_assert_ptr_eq(l.ev[2].account, a);
	} else {
		ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, p, 10, 0);
		ev_expect(&l, 1, QUOTA_EVENT_LOW_QUOTA, NULL, 3, 5);
		ck_assert_ptr_eq(l.ev[1].account, a);
		ck_assert_int_eq(l.ev[2].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	}
	quota_ctx_free(c);
}
END_TEST

/* A late report reaches the cap of its own day. */
START_TEST(test_r21_cap_reached_in_the_charge_period)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 5),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 3, T0 + 3 * TU_DAY, NULL, &r));
	OK(a, do_charge(a, sms, 5, T0, NULL, &r)); /* late, its own day */
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_int_eq(l.ev[0].threshold, 5);
	ck_assert_int_eq(l.ev[0].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[0].at, T0 + 3 * TU_DAY);
	quota_ctx_free(c);
}
END_TEST

/* PACKAGE_EXHAUSTED on charge and reserve; PACKAGE_EXPIRED once, with what
 * was forfeited; PACKAGE_EXPIRING at expires_at - warning, once. */
START_TEST(test_r21_package_exhausted_expired_expiring)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q, *e, *z;
	quota_receipt r;
	uint64_t h;
	int64_t exp = T0 + 10 * TU_HOUR;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 3600), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 4, T0 - TU_DAY, T0 + TU_DAY, 0, -2);
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0, -1);
	e = add_pkg(a, "E", QUOTA_MASK(sms), 9, T0 - TU_DAY, exp, 0, 0);
	z = add_pkg(a, "Z", QUOTA_MASK(sms), 1, T0 - TU_DAY, exp, 0, 5);
	OK(a, do_charge(a, sms, 4, T0, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	/* The state is applied before the hook runs. */
	ck_assert_int_eq(l.pk_remaining[0], 0);
	ck_assert_int_eq(l.used[0], 4);
	ck_assert_int_eq(l.ev[0].at, T0);
	OK(a, do_reserve(a, sms, 3, T0 + 1, 60, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXHAUSTED, q, 0, 0);
	OK(a, do_charge(a, sms, 2, T0 + 2, NULL, &r)); /* E: 7 left */
	ck_assert_int_eq(l.n, 2);
	/* The warning point is exp - 3600. */
	ck_assert_int_eq(quota_account_tick(a, exp - 3601), 1);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.holds_expired, 1);
	ck_assert_int_eq(quota_account_tick(a, exp - 3600), 0);
	/* E and Z both warn, in time order (same time: any order). */
	ck_assert_int_eq(l.n, 4);
	ck_assert_int_eq(l.ev[2].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[3].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert(l.ev[2].package != l.ev[3].package);
	ck_assert(l.ev[2].package == e || l.ev[2].package == z);
	ck_assert(l.ev[3].package == e || l.ev[3].package == z);
	ck_assert_int_eq(l.ev[2].package == e ? l.ev[2].remaining
					      : l.ev[3].remaining,
			 7);
	ck_assert_int_eq(quota_account_tick(a, exp - 1), 0);
	ck_assert_int_eq(l.n, 4);
	/* Expired: the remaining units are forfeited. */
	ck_assert_int_eq(quota_account_tick(a, exp), 0);
	ck_assert_int_eq(l.n, 6);
	ck_assert_int_eq(l.ev[4].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[5].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[4].package == e ? l.ev[4].remaining
					      : l.ev[5].remaining,
			 7);
	/* P (0 left) and Q (3, given back by the tick) expire at T0 + 1 day,
	 * once each; E and Z not again.  (No warning this time.) */
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 0), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY * 3), 0);
	ck_assert_int_eq(l.n, 8);
	ck_assert_int_eq(l.ev[6].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[7].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert(l.ev[6].package != l.ev[7].package);
	ck_assert(l.ev[6].package == p || l.ev[6].package == q);
	ck_assert(l.ev[7].package == p || l.ev[7].package == q);
	ck_assert_int_eq(l.ev[6].package == p ? l.ev[6].remaining
					      : l.ev[7].remaining,
			 0);
	ck_assert_int_eq(l.ev[6].package == q ? l.ev[6].remaining
					      : l.ev[7].remaining,
			 3);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY * 4), 0);
	ck_assert_int_eq(l.n, 8);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, -1),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_expiry_warning(NULL, 5),
			 QUOTA_EINVAL);
	quota_ctx_free(c);
}
END_TEST

/* One tick past a 3-unit hold's deadline and its 10-unit package's
 * expiry (and expiry warning); the events the tick delivers. */
static void tick_past_hold_and_expiry(evlog *l, int64_t deadline,
				      int64_t warn)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	int64_t exp = T0 + 10 * TU_HOUR;
	quota_package *p;
	quota_receipt r;
	uint64_t h;

	memset(l, 0, sizeof *l);
	l->cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, warn), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 10, T0 - TU_DAY, exp, 0, 0);
	OK(a, do_reserve(a, sms, 3, T0, deadline - T0, NULL, &r, &h));
	ck_assert_int_eq(quota_package_remaining(p), 7);
	ck_assert_int_eq(l->n, 0);
	ck_assert_int_eq(quota_account_tick(a, exp + TU_DAY), 1);
	/* All ten units are forfeited with the package. */
	ck_assert_int_eq(quota_package_remaining(p), 10);
	ck_assert_int_eq(quota_account_remaining(a, sms, exp + TU_DAY), 0);
	quota_ctx_free(c);
}

/*
 * R21: PACKAGE_EXPIRED reports the units the package held when it
 * expired.  A hold that timed out before the package expired had given
 * its units back by then, even when one tick passes both: 10, not 7.  A
 * hold whose deadline is at or after the expiry gives them back to an
 * expired package: 7, as when a tick at the expiry comes first.  An
 * expiry warning counts the units back before its own time.
 */
START_TEST(test_r21_package_expired_counts_units_of_holds_timed_out_before)
{
	int64_t exp = T0 + 10 * TU_HOUR;
	evlog l;

	tick_past_hold_and_expiry(&l, T0 + 60, 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_msg(l.ev[0].kind == QUOTA_EVENT_PACKAGE_EXPIRED &&
			      l.ev[0].remaining == 10,
		      "event kind %d remaining %lld: want PACKAGE_EXPIRED "
		      "with the 10 units the package held",
		      l.ev[0].kind, (long long)l.ev[0].remaining);

	tick_past_hold_and_expiry(&l, exp, 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[0].remaining, 7);

	/* Warning at exp - 2 h: a hold back before it counts in both
	 * events, one back between them only in the expiry. */
	tick_past_hold_and_expiry(&l, exp - 3 * TU_HOUR, 2 * TU_HOUR);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[0].remaining, 10);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[1].remaining, 10);
	tick_past_hold_and_expiry(&l, exp - TU_HOUR, 2 * TU_HOUR);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_PACKAGE_EXPIRING);
	ck_assert_int_eq(l.ev[0].remaining, 7);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_PACKAGE_EXPIRED);
	ck_assert_int_eq(l.ev[1].remaining, 10);
}
END_TEST

/* An exhausted package does not warn; with warning 0 nothing warns. */
START_TEST(test_r21_expiring_needs_units_and_warning)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	quota_account *a = add_acct(c, "a");
	quota_package *p, *q;
	quota_receipt r;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	p = add_pkg(a, "P", QUOTA_MASK(sms), 2, T0 - TU_DAY, T0 + TU_DAY, 0, 0);
	q = add_pkg(a, "Q", QUOTA_MASK(sms), 2, T0 - TU_DAY, T0 + 3 * TU_DAY,
		    0, 0);
	OK(a, do_charge(a, sms, 2, T0, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXHAUSTED, p, 0, 0);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, TU_DAY), QUOTA_OK);
	ck_assert_int_eq(quota_account_tick(a, T0 + TU_DAY - 10), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(quota_account_tick(a, T0 + 2 * TU_DAY), 0);
	/* P expired (remaining 0); Q warned (2). */
	ck_assert_int_eq(l.n, 3);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRED, p, 0, 0);
	ev_expect(&l, 2, QUOTA_EVENT_PACKAGE_EXPIRING, q, 2, 0);
	quota_ctx_free(c);
}
END_TEST

/* CAP_REACHED: category and QUOTA_ALL, day and month, when the counter
 * reaches the cap (before < cap <= after). */
START_TEST(test_r21_cap_reached)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_receipt r;
	uint64_t h;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 10),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_MONTH, 25),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL, QUOTA_PERIOD_DAY,
					       14),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
					       QUOTA_PERIOD_MONTH, 30),
			 QUOTA_OK);
	OK(a, do_charge(a, sms, 9, T0, NULL, &r));
	ck_assert_int_eq(l.n, 0);
	OK(a, do_charge(a, sms, 1, T0 + 1, NULL, &r));
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ev[0].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_uint_eq(l.ev[0].category, sms);
	ck_assert_int_eq(l.ev[0].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[0].threshold, 10);
	ck_assert_ptr_null(l.ev[0].package);
	/* ALL, day: 10 + 4 mail = 14, by a reserve. */
	OK(a, do_reserve(a, mail, 4, T0 + 2, 600, NULL, &r, &h));
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ev[1].kind, QUOTA_EVENT_CAP_REACHED);
	ck_assert_uint_eq(l.ev[1].category, QUOTA_ALL);
	ck_assert_int_eq(l.ev[1].period, QUOTA_PERIOD_DAY);
	ck_assert_int_eq(l.ev[1].threshold, 14);
	/* Returned and reached again: fires again (before < cap <= after). */
	OK(a, do_commit(a, h, 3, NULL, &r));
	OK(a, do_charge(a, mail, 1, T0 + 3, NULL, &r));
	ck_assert_int_eq(l.n, 3);
	ck_assert_uint_eq(l.ev[2].category, QUOTA_ALL);
	/* Next day: sms month 10 + 15 = 25, ALL month 14 + 15 = 29. */
	OK(a, do_charge(a, sms, 10, T0 + TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 4); /* sms DAY again */
	ck_assert_int_eq(l.ev[3].period, QUOTA_PERIOD_DAY);
	OK(a, do_charge(a, sms, 5, T0 + 2 * TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ck_assert_uint_eq(l.ev[4].category, sms);
	ck_assert_int_eq(l.ev[4].period, QUOTA_PERIOD_MONTH);
	ck_assert_int_eq(l.ev[4].threshold, 25);
	OK(a, do_charge(a, mail, 1, T0 + 2 * TU_DAY, NULL, &r));
	ck_assert_int_eq(l.n, 6);
	ck_assert_uint_eq(l.ev[5].category, QUOTA_ALL);
	ck_assert_int_eq(l.ev[5].period, QUOTA_PERIOD_MONTH);
	ck_assert_int_eq(l.ev[5].threshold, 30);
	quota_ctx_free(c);
}
END_TEST

/* Within one call: clock events (EXPIRED, EXPIRING in time order), then
 * PACKAGE_EXHAUSTED, then CAP_REACHED, then LOW_QUOTA. */
START_TEST(test_r21_order_of_events_within_a_call)
{
	quota_ctx *c = new_ctx();
	uint32_t sms = add_cat(c, "sms");
	uint32_t mail = add_cat(c, "mail");
	quota_account *a = add_acct(c, "a");
	quota_package *x, *y, *z;
	quota_receipt r;
	int64_t t1 = T0 + 1000;
	evlog l;

	memset(&l, 0, sizeof l);
	l.cat = sms;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_expiry_warning(a, 3600), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 3),
			 QUOTA_OK);
	/* X expires at T0 + 100; Y warns at T0 + 500; Z burns first. */
	x = add_pkg(a, "X", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 100, 0, 0);
	y = add_pkg(a, "Y", QUOTA_MASK(sms), 5, T0 - TU_DAY, T0 + 4100, 0, 0);
	z = add_pkg(a, "Z", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + TU_DAY, 0,
		    -1);
	/* The clock at T0 - 1 (X warns now): R = 13, the level armed. */
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0);
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	OK(a, do_charge(a, mail, 1, T0, NULL, &r)); /* the clock: T0 */
	ck_assert_int_eq(l.n, 1);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRING, x, 5, 0);
	l.n = 0;
	OK(a, do_charge(a, sms, 3, t1, NULL, &r));
	ck_assert_int_eq(l.n, 5);
	ev_expect(&l, 0, QUOTA_EVENT_PACKAGE_EXPIRED, x, 5, 0);
	ev_expect(&l, 1, QUOTA_EVENT_PACKAGE_EXPIRING, y, 5, 0);
	ev_expect(&l, 2, QUOTA_EVENT_PACKAGE_EXHAUSTED, z, 0, 0);
	ev_expect(&l, 3, QUOTA_EVENT_CAP_REACHED, NULL, l.ev[3].remaining, 3);
	ck_assert_int_eq(l.ev[3].period, QUOTA_PERIOD_DAY);
	ck_assert_uint_eq(l.ev[3].category, sms);
	ev_expect(&l, 4, QUOTA_EVENT_LOW_QUOTA, NULL, 5, 5);
	ck_assert_int_eq(l.ev[4].at, t1);
	quota_ctx_free(c);
}
END_TEST

/* A failing hook is counted and changes nothing; no hook: nothing
 * tracked or delivered. */
START_TEST(test_r21_failing_hook_changes_no_state)
{
	quota_ctx *c[2];
	quota_account *a[2];
	quota_receipt r;
	uint64_t h;
	evlog l[2];
	tu_snap s[2];
	uint32_t sms = 0;
	int k;

	for (k = 0; k < 2; k++) {
		c[k] = new_ctx();
		sms = add_cat(c[k], "sms");
		a[k] = add_acct(c[k], "a");
		memset(&l[k], 0, sizeof l[k]);
		l[k].cat = sms;
		l[k].ret = k == 0 ? 0 : -7;
		ck_assert_int_eq(quota_ctx_set_event_hook(c[k], hook, &l[k]),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_cap(a[k], sms,
						       QUOTA_PERIOD_DAY, 12),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_expiry_warning(a[k], 60),
				 QUOTA_OK);
		add_pkg(a[k], "P", QUOTA_MASK(sms), 10, T0 - TU_DAY,
			T0 + TU_DAY, 0, 0);
		add_pkg(a[k], "E", QUOTA_MASK(sms), 3, T0 - TU_DAY, T0 + 500,
			0, 5);
		ck_assert_int_eq(quota_account_add_alert(a[k], sms, 50,
							 QUOTA_ALERT_PERCENT),
				 QUOTA_OK);
		OK(a[k], do_charge(a[k], sms, 10, T0, "k", &r));
		OK(a[k], do_reserve(a[k], sms, 2, T0 + 1, 100, NULL, &r, &h));
		ck_assert_int_eq(quota_account_tick(a[k], T0 + 600), 1);
		OK(a[k], do_reverse(a[k], "k", T0 + 600, &r));
		OK(a[k], do_charge(a[k], sms, 12, T0 + 700, NULL, &r));
		tu_snap_take1(&s[k], a[k], T0);
	}
	TU_ASSERT_SNAP_EQ(&s[0], &s[1]);
	ck_assert_int_gt(l[0].n, 3);
	ck_assert_int_eq(l[0].n, l[1].n);
	for (k = 0; k < l[0].n; k++) {
		ck_assert_int_eq(l[0].ev[k].kind, l[1].ev[k].kind);
		ck_assert_int_eq(l[0].ev[k].remaining, l[1].ev[k].remaining);
	}
	ck_assert_uint_eq(quota_ctx_hook_failures(c[0]), 0);
	ck_assert_uint_eq(quota_ctx_hook_failures(c[1]),
			  (uint64_t)(l[1].n + l[1].holds_expired));
	/* Without a hook: nothing delivered, nothing counted. */
	ck_assert_int_eq(quota_ctx_set_event_hook(c[1], NULL, NULL), QUOTA_OK);
	k = l[1].n;
	OK(a[1], do_charge(a[1], sms, 10, T0 + TU_DAY, NULL, &r));
	ck_assert_int_eq(l[1].n, k);
	ck_assert_uint_eq(quota_ctx_hook_failures(c[1]),
			  (uint64_t)(k + l[1].holds_expired));
	ck_assert_int_eq(quota_ctx_set_event_hook(NULL, hook, NULL),
			 QUOTA_EINVAL);
	quota_ctx_free(c[0]);
	quota_ctx_free(c[1]);
}
END_TEST

/* ------------------------------------------------------------------ main */

/* R21: an expiry lowers a percent alert's level (the units bought): R
 * stands above it once the step is taken, the alert re-arms before the
 * call's units move, and the charge that takes R below fires, as it
 * does with a tick between (the state does not depend on one). */
START_TEST(test_r21_percent_alert_rearmed_by_an_expiry_in_the_step)
{
	for (int tick = 0; tick < 2; tick++) {
		quota_ctx *c = new_ctx();
		uint32_t sms = add_cat(c, "sms");
		quota_account *a = add_acct(c, "a");
		quota_receipt r;
		evlog l;
		int i, low = 0;

		memset(&l, 0, sizeof l);
		l.cat = sms;
		ck_assert_int_eq(quota_ctx_set_event_hook(c, hook, &l),
				 QUOTA_OK);
		add_pkg(a, "P1", QUOTA_MASK(sms), 100, T0 - TU_DAY, T0 + 100, 0,
			0);
		add_pkg(a, "P2", QUOTA_MASK(sms), 100, T0 - TU_DAY,
			T0 + 90 * TU_DAY, 0, 0);
		ck_assert_int_eq(quota_account_add_alert(a, sms, 50,
							 QUOTA_ALERT_PERCENT),
				 QUOTA_OK);
		OK(a, do_charge(a, sms, 100, T0, NULL, &r));    /* P1 used up */
		OK(a, do_charge(a, sms, 40, T0 + 1, NULL, &r)); /* 60 of 200 */
		l.n = 0;
		if (tick) /* P1 expires: 60 of 100, above 50 % */
			ck_assert_int_eq(quota_account_tick(a, T0 + 200), 0);
		OK(a, do_charge(a, sms, 20, T0 + 201, NULL, &r)); /* 40 */
		for (i = 0; i < l.n; i++)
			if (l.ev[i].kind == QUOTA_EVENT_LOW_QUOTA) {
				ck_assert_int_eq(l.ev[i].remaining, 40);
				ck_assert_int_eq(l.ev[i].threshold, 50);
				low++;
			}
		ck_assert_msg(low == 1, "tick %d: %d LOW_QUOTA", tick, low);
		quota_ctx_free(c);
	}
}
END_TEST

static Suite *holds_events_suite(void)
{
	Suite *s = suite_create("holds_events");
	TCase *r21 = tcase_create("r21");

	tcase_add_test(r21, test_r21_low_quota_levels_fire_once_and_rearm);
	tcase_add_test(r21, test_r21_low_quota_rearmed_by_release_and_reversal);
	tcase_add_test(r21, test_r21_low_quota_percent_threshold_rounds_down);
	tcase_add_test(
		r21, test_r21_low_quota_fires_when_the_clock_step_starts_a_package);
	tcase_add_test(
		r21, test_r21_low_quota_not_rearmed_by_a_start_after_an_expiry);
	tcase_add_test(r21,
		       test_r21_percent_alert_rearmed_by_an_expiry_in_the_step);
	tcase_add_test(r21, test_r21_low_quota_rearmed_by_reversal);
	tcase_add_test(r21, test_r21_no_events_from_quote_or_refused_call);
	tcase_add_test(r21, test_r21_low_quota_by_expiry_on_ctx_tick);
	tcase_add_test(r21, test_r21_cap_reached_in_the_charge_period);
	tcase_add_test(r21, test_r21_package_exhausted_expired_expiring);
	tcase_add_test(r21, test_r21_expiring_needs_units_and_warning);
	tcase_add_test(r21,
		       test_r21_package_expired_counts_units_of_holds_timed_out_before);
	tcase_add_test(r21, test_r21_cap_reached);
	tcase_add_test(r21, test_r21_order_of_events_within_a_call);
	tcase_add_test(r21, test_r21_failing_hook_changes_no_state);
	suite_add_tcase(s, r21);
	return s;
}

int main(void)
{
	return tu_run(holds_events_suite());
}
