/*
 * journal_workload.h - the store-fault sweep's workload (check_journal.c;
 * DESIGN §5, §9): NOPS operations over NACC accounts, the configuration
 * stream first, then the accounts' set-up, then the mix; operation i is
 * a pure function of i (describe()).  Here too the reference run's
 * records and results, which a run that starts later takes from it (the
 * hold ids and receipt ids of earlier operations), and exec(), which
 * makes operation i's call.  The world, the store and the checks are in
 * journal_sweep.h; the reference run, the fault runs and the tests in
 * check_journal.c.
 */
#ifndef QUOTA_TEST_JOURNAL_WORKLOAD_H
#define QUOTA_TEST_JOURNAL_WORKLOAD_H

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "journal_sweep.h"

#define NOPS 10240
#define SEED UINT64_C(0x6a6f75726e616c31)
#define STEP_S 240 /* seconds between operations */
#define CP_EVERY 96 /* store calls between checkpoints */
#define MAXCP 512

/* ------------------------------------------------------------ operations */

enum {
	/* configuration stream */
	OP_CAT_ADD = 1,
	OP_TARIFF_NEW,
	OP_TARIFF_TIER,
	OP_TARIFF_MODE,
	OP_TARIFF_FREE,
	OP_TARIFF_FREE_DAILY,
	OP_TARIFF_FEE,
	OP_OFFER_ADD,
	/* accounts */
	OP_ACCOUNT_NEW,
	OP_UTC_OFFSET,
	OP_SET_TARIFF,
	OP_SET_CAP,
	OP_SET_OVERAGE,
	OP_ADD_ALERT,
	OP_EXPIRY_WARNING,
	OP_KEY_WINDOW,
	OP_SETTLEMENT,
	OP_CREDIT_LIMIT,
	OP_TOPUP,
	OP_PACKAGE_ADD,
	OP_PACKAGE_BUY,
	OP_CHARGE,
	OP_CHARGE_SMS,
	OP_RESERVE,
	OP_COMMIT,
	OP_RELEASE,
	OP_TICK,
	OP_CTX_TICK,
	OP_REVERSE,
	OP_SETTLE,
	/* Issue 15: R25 blocking, R27 reconciliation. */
	OP_TARIFF_FEE_REASON, /* configuration stream */
	OP_BLOCK,
	OP_UNBLOCK,
	OP_KEEP_RECEIPTS,
	OP_RELEASE_REASON,
	OP_REVERSE_RECEIPT,
	/* R26 time zones */
	OP_ZONE_ADD,
	OP_SET_ZONE,
	OP_GIFT_GRANT, /* R24 */
	OP_PAY_ORDER,  /* R24 */
	OP_LAST
};

static const char *const op_names[OP_LAST] = {
	"?", "category_add", "tariff_new", "tariff_add_tier",
	"tariff_set_mode", "tariff_set_free", "tariff_set_free_daily_limit",
	"tariff_set_failure_fee", "offer_add", "account_new",
	"set_utc_offset", "set_tariff", "set_cap", "set_overage",
	"add_alert", "set_expiry_warning", "set_key_window",
	"set_settlement", "set_credit_limit", "topup", "package_add",
	"package_buy", "charge", "charge_sms", "reserve", "commit",
	"release", "account_tick", "ctx_tick", "reverse", "settle",
	/* issue 15 */
	"tariff_set_failure_fee_reason", "account_block", "account_unblock",
	"account_keep_receipts", "release_reason", "reverse_receipt",
	"zone_from_tzif", "set_zone", "gift_grant", "set_pay_order"};

typedef struct opdesc {
	int kind;
	int acct;      /* -1: configuration or the whole context */
	int64_t at;    /* usage / event time */
	int cat;       /* category index (0..NCAT-1) */
	int64_t v1, v2, v3, v4;
	char key[24];  /* "" : no key */
	long ref;      /* COMMIT / RELEASE: the reservation's operation */
} opdesc;

static inline uint64_t mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static inline uint64_t H(long i, unsigned salt)
{
	return mix64(SEED ^ mix64((uint64_t)i * 64 + salt));
}

/* Uniform in [lo, hi], from operation i and salt alone. */
static inline int64_t RNG(long i, unsigned salt, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(H(i, salt) % (uint64_t)(hi - lo + 1));
}

/* The configuration stream: every configuration call, first. */
static const struct cfgop {
	int kind;
	int64_t v1, v2, v3;
} cfg_ops[] = {
	{OP_CAT_ADD, 0, 0, 0},
	{OP_CAT_ADD, 1, 0, 0},
	{OP_CAT_ADD, 2, 0, 0},
	{OP_CAT_ADD, 3, 0, 0},
	{OP_CAT_ADD, 4, 0, 0},
	{OP_TARIFF_NEW, 0, 0, 0},
	{OP_TARIFF_TIER, 0, 1000, 8000},
	{OP_TARIFF_TIER, 0, 10000, 6000},
	{OP_TARIFF_TIER, 0, QUOTA_UNLIMITED, 4000},
	{OP_TARIFF_FREE, 0, 20, QUOTA_PERIOD_DAY},
	{OP_TARIFF_FEE, 0, 150, 0},
	{OP_TARIFF_NEW, 1, 0, 0},
	{OP_TARIFF_TIER, 1, 10000, 100},
	{OP_TARIFF_TIER, 1, QUOTA_UNLIMITED, 50},
	{OP_TARIFF_MODE, 1, QUOTA_VOLUME, 0},
	{OP_TARIFF_FREE, 1, 500, QUOTA_PERIOD_LIFETIME},
	{OP_TARIFF_FREE_DAILY, 1, 50, 0},
	{OP_TARIFF_NEW, 2, 0, 0},
	{OP_TARIFF_TIER, 2, 100, 1000},
	{OP_TARIFF_TIER, 2, 1000, 700},
	{OP_TARIFF_TIER, 2, QUOTA_UNLIMITED, 400},
	{OP_TARIFF_FEE, 2, 20, 0},
	/* R27: tariff, reason, fee per unit (-1 drops it again) */
	{OP_TARIFF_FEE_REASON, 0, QUOTA_FAIL_REJECTED, 400},
	{OP_TARIFF_FEE_REASON, 0, QUOTA_FAIL_INVALID_NUMBER, 0},
	{OP_TARIFF_FEE_REASON, 0, QUOTA_FAIL_EXPIRED, 90},
	{OP_TARIFF_FEE_REASON, 0, QUOTA_FAIL_EXPIRED, -1},
	{OP_TARIFF_FEE_REASON, 2, 12, 35},
	{OP_TARIFF_NEW, 3, 0, 0},
	{OP_TARIFF_TIER, 3, 1000, 3000},
	{OP_TARIFF_TIER, 3, QUOTA_UNLIMITED, 2000},
	{OP_TARIFF_MODE, 3, QUOTA_VOLUME, 0},
	{OP_OFFER_ADD, 0, 0, 0},
	{OP_OFFER_ADD, 1, 0, 0},
	{OP_ZONE_ADD, 0, 0, 0},
};
#define NCFG ((long)(sizeof cfg_ops / sizeof cfg_ops[0]))
#define NACCSETUP 20
#define NSETUP (NCFG + NACC * NACCSETUP)

static inline void setup_desc(long i, opdesc *d)
{
	int a, k;

	d->at = T_SETUP;
	if (i < NCFG) {
		d->acct = -1;
		d->kind = cfg_ops[i].kind;
		d->v1 = cfg_ops[i].v1;
		d->v2 = cfg_ops[i].v2;
		d->v3 = cfg_ops[i].v3;
		return;
	}
	a = (int)((i - NCFG) / NACCSETUP);
	k = (int)((i - NCFG) % NACCSETUP);
	d->acct = a;
	switch (k) {
	case 0:
		d->kind = OP_ACCOUNT_NEW;
		break;
	case 1: /* R26: globex (offset 3600) follows Berlin's rules */
		d->kind = a == 1 ? OP_SET_ZONE : OP_UTC_OFFSET;
		d->v1 = acct_offsets[a];
		break;
	case 2: case 3: case 4: case 5: case 6:
		d->kind = OP_SET_TARIFF;
		d->cat = k - 2;
		d->v1 = cat_tariff[k - 2];
		break;
	case 7:
		d->kind = OP_SET_CAP;
		d->cat = 0;
		d->v2 = QUOTA_PERIOD_DAY;
		d->v3 = 600;
		break;
	case 8:
		d->kind = OP_SET_CAP;
		d->v1 = 1; /* QUOTA_ALL */
		d->v2 = QUOTA_PERIOD_MONTH;
		d->v3 = 60000;
		break;
	case 9:
		d->kind = OP_SET_OVERAGE;
		d->cat = a % 2 ? 2 : 4;
		d->v1 = a % 2 ? QUOTA_OVERAGE_STOP : QUOTA_OVERAGE_PAYG;
		break;
	case 10:
		d->kind = OP_ADD_ALERT;
		d->cat = 0;
		d->v1 = 50;
		d->v2 = QUOTA_ALERT_UNITS;
		break;
	case 11:
		d->kind = OP_ADD_ALERT;
		d->cat = 1;
		d->v1 = 20;
		d->v2 = QUOTA_ALERT_PERCENT;
		break;
	case 12:
		d->kind = OP_EXPIRY_WARNING;
		d->v1 = 2 * TU_DAY;
		break;
	case 13:
		d->kind = OP_KEY_WINDOW;
		d->v1 = 100;
		d->v2 = 3 * TU_DAY;
		break;
	case 14:
		d->kind = OP_SETTLEMENT;
		d->v1 = a % 2 ? QUOTA_PERIOD_HOUR : QUOTA_PERIOD_DAY;
		d->v2 = a == 3 ? 1000000 : 10000;
		d->v3 = a % 4;
		break;
	case 15:
		d->kind = OP_CREDIT_LIMIT;
		d->v1 = 2000000 * (a % 2);
		break;
	case 16:
		d->kind = OP_TOPUP;
		d->v1 = 1000000 * (a + 1);
		break;
	case 17:
		d->kind = OP_PACKAGE_ADD;
		d->v1 = 0x3; /* sms.verify | sms.notify */
		d->v2 = 2000;
		d->v3 = T0 - TU_DAY;
		d->v4 = T0 + 20 * TU_DAY;
		break;
	case 19: /* R27: two of the accounts keep receipts from the start */
		d->kind = OP_KEEP_RECEIPTS;
		d->v1 = a % 2 == 0;
		break;
	default:
		d->kind = OP_PACKAGE_ADD;
		d->v1 = 0x18; /* email | rich.click */
		d->v2 = 5000;
		d->v3 = T0;
		d->v4 = QUOTA_NEVER;
		break;
	}
}

/* Weights (per 1000) of the main operations. */
static const struct {
	int kind;
	int w;
} op_mix[] = {
	{OP_CHARGE, 430},	 {OP_CHARGE_SMS, 50},	 {OP_RESERVE, 100},
	{OP_COMMIT, 70},	 {OP_RELEASE, 30},	 {OP_TICK, 30},
	{OP_CTX_TICK, 10},	 {OP_REVERSE, 40},	 {OP_SETTLE, 50},
	{OP_TOPUP, 12},		 {OP_PACKAGE_ADD, 15},	 {OP_PACKAGE_BUY, 15},
	{OP_SET_CAP, 20},	 {OP_SET_OVERAGE, 15},	 {OP_ADD_ALERT, 15},
	{OP_EXPIRY_WARNING, 10}, {OP_KEY_WINDOW, 10},	 {OP_SETTLEMENT, 10},
	{OP_CREDIT_LIMIT, 15},	 {OP_SET_TARIFF, 15},	 {OP_GIFT_GRANT, 15},
	{OP_PAY_ORDER, 5},
	/* issue 15: an account is blocked about a sixth of the time */
	{OP_BLOCK, 2},		 {OP_UNBLOCK, 10},	 {OP_KEEP_RECEIPTS, 1},
	{OP_RELEASE_REASON, 3},	 {OP_REVERSE_RECEIPT, 2},
};

static const char *const sms_texts[] = {
	"Your code is 123456",
	"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 bis bald! "
	"\xf0\x9f\x98\x80",
	"Reminder: your appointment is tomorrow at 10:00. Reply YES to "
	"confirm or NO to cancel. Call us on 555-0100 for anything else. "
	"Thank you for choosing us, we look forward to seeing you soon!!",
	"[ext] {chars} ~cost~ two | septets \\ each ^ and the euro "
	"\xe2\x82\xac",
	"\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81" "123456\xef\xbc\x8c"
	"5\xe5\x88\x86\xe9\x92\x9f\xe5\x86\x85\xe6\x9c\x89\xe6\x95\x88",
};
#define NTEXTS ((int)(sizeof sms_texts / sizeof sms_texts[0]))

/* Issue 15: the R25 and R27 operations' own parameters. */
static inline void issue15_base_desc(long i, opdesc *d)
{
	static const int64_t reasons[] = {
		QUOTA_FAIL_REJECTED, QUOTA_FAIL_INVALID_NUMBER,
		QUOTA_FAIL_EXPIRED,  QUOTA_FAIL_FILTERED,
		QUOTA_FAIL_OTHER,    12, /* a host's own, with a fee */
		QUOTA_FAIL_NONE};

	switch (d->kind) {
	case OP_BLOCK: /* 0: no reason, 1: ASCII, 2: UTF-8 */
		d->v1 = (int64_t)(H(i, 5) % 3);
		break;
	case OP_KEEP_RECEIPTS:
		d->v1 = (int64_t)(H(i, 5) % 2);
		break;
	case OP_RELEASE_REASON:
		d->v1 = reasons[H(i, 5) % (sizeof reasons / sizeof reasons[0])];
		if (H(i, 8) % 100 < 30)
			snprintf(d->key, sizeof d->key, "l%ld", i);
		break;
	default: /* OP_UNBLOCK, OP_REVERSE_RECEIPT */
		break;
	}
}

/* Everything about operation i that does not look at other operations. */
static inline void base_desc(long i, opdesc *d)
{
	int64_t t;
	int pick, k;

	memset(d, 0, sizeof *d);
	d->ref = -1;
	if (i < NSETUP) {
		setup_desc(i, d);
		return;
	}
	t = T0 + (i - NSETUP) * STEP_S + RNG(i, 1, 0, STEP_S - 1);
	d->at = t;
	d->acct = (int)(H(i, 2) % NACC);
	d->cat = (int)(H(i, 3) % NCAT);
	pick = (int)(H(i, 4) % 1000);
	for (k = 0; pick >= op_mix[k].w; k++)
		pick -= op_mix[k].w;
	d->kind = op_mix[k].kind;
	switch (d->kind) {
	case OP_CHARGE:
		d->v1 = RNG(i, 5, 1, 60);
		if (H(i, 6) % 100 < 7) /* a late report */
			d->at = t - RNG(i, 7, TU_HOUR, 20 * TU_HOUR);
		if (H(i, 8) % 100 < 40)
			snprintf(d->key, sizeof d->key, "k%ld", i);
		break;
	case OP_CHARGE_SMS:
		d->cat = (int)(H(i, 3) % 3);
		d->v1 = (int64_t)(H(i, 5) % NTEXTS);
		d->v2 = H(i, 6) % 5 == 0; /* China counting */
		if (H(i, 8) % 100 < 30)
			snprintf(d->key, sizeof d->key, "s%ld", i);
		break;
	case OP_RESERVE:
		d->v1 = RNG(i, 5, 1, 40);
		d->v2 = RNG(i, 6, 1800, 3 * TU_HOUR);
		if (H(i, 8) % 2)
			snprintf(d->key, sizeof d->key, "r%ld", i);
		break;
	case OP_COMMIT:
		d->v1 = H(i, 5) % 2; /* 1: in full */
		d->v2 = RNG(i, 6, 0, 40);
		if (H(i, 8) % 100 < 30)
			snprintf(d->key, sizeof d->key, "c%ld", i);
		break;
	case OP_RELEASE:
		if (H(i, 8) % 100 < 30)
			snprintf(d->key, sizeof d->key, "l%ld", i);
		break;
	case OP_TICK:
	case OP_CTX_TICK:
	case OP_SETTLE:
	case OP_REVERSE:
		break;
	case OP_TOPUP:
		d->v1 = RNG(i, 5, 1, 10) * 100000 + RNG(i, 6, 0, 99) * 1000;
		break;
	case OP_PACKAGE_ADD:
		d->v1 = (int64_t)(1 + H(i, 5) % 31);
		d->v2 = RNG(i, 6, 50, 800);
		d->v3 = H(i, 7) % 5 == 0 ? t + RNG(i, 8, TU_HOUR, 2 * TU_DAY)
					 : t - RNG(i, 8, 0, 2 * TU_DAY);
		d->v4 = H(i, 9) % 7 == 0
				? QUOTA_NEVER
				: d->v3 + RNG(i, 10, 3 * TU_DAY, 30 * TU_DAY);
		break;
	case OP_PACKAGE_BUY:
		d->v1 = (int64_t)(H(i, 5) % NOFF);
		d->v2 = d->v1 == 0 ? RNG(i, 6, 1, 2) : 100 * RNG(i, 6, 1, 10);
		d->v3 = (int64_t)(H(i, 7) % 5); /* 0: percent voucher, 1: amount */
		d->v4 = (int64_t)(H(i, 8) % 2); /* 1: named package */
		break;
	case OP_SET_CAP:
		d->v1 = H(i, 5) % 3 == 0; /* QUOTA_ALL */
		d->v2 = H(i, 6) % 2 ? QUOTA_PERIOD_DAY : QUOTA_PERIOD_MONTH;
		d->v3 = H(i, 7) % 5 == 0 ? -1
			: d->v2 == QUOTA_PERIOD_DAY ? RNG(i, 8, 300, 3000)
						    : RNG(i, 8, 20000, 80000);
		break;
	case OP_SET_OVERAGE:
		d->v1 = H(i, 5) % 10 < 3 ? QUOTA_OVERAGE_STOP
					 : QUOTA_OVERAGE_PAYG;
		break;
	case OP_ADD_ALERT:
		d->v2 = (int64_t)(H(i, 6) % 2);
		d->v1 = d->v2 == QUOTA_ALERT_UNITS ? RNG(i, 5, 10, 500)
						   : RNG(i, 5, 5, 50);
		break;
	case OP_EXPIRY_WARNING:
		d->v1 = RNG(i, 5, 0, 3 * TU_DAY);
		break;
	case OP_KEY_WINDOW:
		d->v1 = RNG(i, 5, 48, 128);
		d->v2 = RNG(i, 6, 2 * TU_DAY, 7 * TU_DAY);
		break;
	case OP_SETTLEMENT:
		d->v1 = H(i, 5) % 2 ? QUOTA_PERIOD_HOUR : QUOTA_PERIOD_DAY;
		d->v2 = H(i, 6) % 3 == 0 ? 1000000 : 10000;
		d->v3 = (int64_t)(H(i, 7) % 4);
		break;
	case OP_CREDIT_LIMIT:
		d->v1 = RNG(i, 5, 0, 3) * 1000000;
		break;
	case OP_GIFT_GRANT: /* R24: some never expire, some within hours */
		d->v1 = RNG(i, 5, 1, 5) * 50000;
		d->v2 = H(i, 6) % 3 == 0 ? QUOTA_NEVER
					 : t + RNG(i, 7, TU_HOUR, 3 * TU_DAY);
		break;
	case OP_PAY_ORDER:
		d->v1 = (int64_t)(H(i, 5) % 2);
		d->v2 = (int64_t)(H(i, 6) % 2);
		break;
	case OP_SET_TARIFF:
		d->v1 = H(i, 5) % 20 == 0 ? -1 : cat_tariff[d->cat];
		break;
	default:
		issue15_base_desc(i, d);
		break;
	}
}

/* Operation i (a function of i alone). */
static inline void describe(long i, opdesc *d)
{
	opdesc b;
	long j;

	base_desc(i, d);
	if (i < NSETUP)
		return;
	switch (d->kind) {
	case OP_CHARGE:
		if (H(i, 11) % 10 == 0) {
			/* A retransmission: a recent keyed charge again, as it
			 * was (a replay). */
			for (j = i - 1; j >= NSETUP && j > i - 20; j--) {
				base_desc(j, &b);
				if (b.kind == OP_CHARGE && b.key[0]) {
					*d = b;
					return;
				}
			}
		} else if (d->key[0] && H(i, 12) % 20 == 0) {
			/* The previous operation's key with other
			 * parameters (a conflict, if it stored one). */
			base_desc(i - 1, &b);
			if (b.key[0])
				memcpy(d->key, b.key, sizeof d->key);
		}
		break;
	case OP_COMMIT:
	case OP_RELEASE:
	case OP_RELEASE_REASON:
		for (j = i - 1; j >= NSETUP && j > i - 40; j--) {
			base_desc(j, &b);
			if (b.kind == OP_RESERVE && b.acct == d->acct) {
				d->ref = j;
				d->cat = b.cat;
				if (d->v1 || d->v2 > b.v1)
					d->v2 = b.v1;
				break;
			}
		}
		break;
	case OP_REVERSE:
		for (j = i - 1; j >= NSETUP && j > i - 60; j--) {
			base_desc(j, &b);
			if ((b.kind == OP_CHARGE || b.kind == OP_COMMIT ||
			     b.kind == OP_CHARGE_SMS) &&
			    b.key[0] && b.acct == d->acct) {
				memcpy(d->key, b.key, sizeof d->key);
				break;
			}
		}
		break;
	case OP_REVERSE_RECEIPT:
		/* R27: a recent keyless charge (its kept receipt id) or
		 * keyless commit (its hold id) of the account. */
		for (j = i - 1; j >= NSETUP && j > i - 60; j--) {
			base_desc(j, &b);
			if ((b.kind == OP_CHARGE || b.kind == OP_COMMIT) &&
			    !b.key[0] && b.acct == d->acct) {
				d->ref = j;
				d->v1 = b.kind == OP_COMMIT;
				break;
			}
		}
		break;
	default:
		break;
	}
}

static inline int op_keyed_retryable(const opdesc *d)
{
	return d->key[0] &&
	       (d->kind == OP_CHARGE || d->kind == OP_CHARGE_SMS ||
		d->kind == OP_RESERVE || d->kind == OP_COMMIT ||
		d->kind == OP_RELEASE || d->kind == OP_RELEASE_REASON);
}

/* --------------------------------------------------- the reference */

typedef struct cpoint {
	long calls; /* store calls before it */
	long op;    /* the operation it precedes */
	void *snap[NACC];
	size_t len[NACC];
} cpoint;

static fstore ref_store;
static int ref_built;
static long ref_ncalls;
static long *ref_call_op;           /* store call -> operation */
static long ref_first[NOPS + 1];    /* operation -> its first store call */
static long ref_opcalls[NOPS];      /* operation -> store calls it made */
static int ref_rc[NOPS];
static quota_receipt ref_rcpt[NOPS];
static uint64_t ref_hold[NOPS];
static int64_t ref_forf[NOPS + 1][NACC]; /* forfeited before operation */
static uint64_t (*ref_seq)[NSTREAM];      /* call -> last seq per stream */
static cpoint cps[MAXCP];
static int ncps;
static long ref_events;
static long ref_kind_ok[OP_LAST], ref_kind_n[OP_LAST];
static int ref_rc_hist[32];

/* ---------------------------------------------------------- one run */

typedef struct wl {
	quota_ctx *ctx;
	fstore *st;
	long start;           /* first operation of the run */
	uint64_t *hold;       /* hold ids of the run's reservations */
	uint64_t *rid;        /* R27: kept receipt ids of its charges */
	int64_t forf[NACC];   /* units forfeited by reversals */
	long events;
	int in_op;
} wl;

static inline uint64_t hold_of(const wl *w, long j)
{
	if (j < 0)
		return 0;
	return j >= w->start ? w->hold[j] : ref_hold[j];
}

/* R27: the receipt id operation j's charge kept (0: none). */
static inline uint64_t rid_of(const wl *w, long j)
{
	if (j < 0)
		return 0;
	return j >= w->start ? w->rid[j] : ref_rcpt[j].receipt_id;
}

static inline int hook(const quota_event *e, void *ud)
{
	wl *w = ud;

	(void)e;
	w->events++;
	/* §5: events fire only after the store committed the record. */
	CHECK_MSG(w->st && w->st->op_calls > 0 &&
			      w->st->last_rc == QUOTA_OK,
		      "operation %ld: an event (kind %d) fired although the "
		      "store did not accept the call's record (last store "
		      "result %s, %ld calls)",
		      w->st ? w->st->cur_op : -1, (int)e->kind,
		      w->st ? quota_err_name(w->st->last_rc) : "-",
		      w->st ? w->st->op_calls : 0);
	return 0;
}

static inline uint32_t cat_id(const wl *w, int idx)
{
	uint32_t id;

	if (quota_category_find(w->ctx, cat_names[idx], &id))
		return 63;
	return id;
}

static inline quota_tariff *tariff_of(const wl *w, int idx)
{
	quota_tariff *t = NULL;

	if (quota_tariff_find(w->ctx, tar_names[idx], &t))
		return NULL;
	return t;
}

static inline uint64_t mask_of(const wl *w, int64_t bits)
{
	uint64_t m = 0;
	int c;

	for (c = 0; c < NCAT; c++)
		if (bits & (1 << c)) {
			uint32_t id = cat_id(w, c);

			if (id < 63)
				m |= QUOTA_MASK(id);
		}
	return m;
}

static inline int64_t as_rc(int64_t n)
{
	return n < 0 ? n : QUOTA_OK;
}

/* Issue 15: an R25 or R27 operation on account a (tariff t). */
static inline int issue15_exec(wl *w, const opdesc *d, quota_account *a,
			       quota_tariff *t, quota_receipt *r, int retry)
{
	static const char *const why[3] = {
		NULL, "non-compliant content",
		"\xe5\x86\x85\xe5\xae\xb9\xe8\xbf\x9d\xe8\xa7\x84"};
	uint64_t id;
	opdesc b;
	int rc;

	switch (d->kind) {
	case OP_TARIFF_FEE_REASON:
		return quota_tariff_set_failure_fee_reason(t, (int32_t)d->v2,
							   d->v3);
	case OP_BLOCK:
		return quota_account_block(a, why[d->v1], d->at);
	case OP_UNBLOCK:
		return quota_account_unblock(a, d->at);
	case OP_KEEP_RECEIPTS:
		return quota_account_keep_receipts(a, (int)d->v1);
	case OP_RELEASE_REASON:
		return quota_release_reason(a, hold_of(w, d->ref),
					    (int32_t)d->v1,
					    d->key[0] ? d->key : NULL, r);
	case OP_REVERSE_RECEIPT:
		if (d->ref < 0)
			return QUOTA_ENOTFOUND;
		if (d->v1) { /* a commit: its reservation's hold id */
			describe(d->ref, &b);
			id = hold_of(w, b.ref);
		} else {
			id = rid_of(w, d->ref);
		}
		if (!id) /* the charge kept no receipt, the hold failed */
			return QUOTA_ENOTFOUND;
		rc = quota_reverse_receipt(a, id, d->at, r);
		if (rc == QUOTA_OK && !retry)
			w->forf[d->acct] += r->forfeited_units;
		return rc;
	default:
		return QUOTA_EINVAL;
	}
}

/* Run operation i (described by d); its receipt in *r.  retry: a keyed
 * call made again after the run (no bookkeeping). */
static inline int exec(wl *w, long i, const opdesc *d, quota_receipt *r,
		       int retry)
{
	quota_ctx *ctx = w->ctx;
	quota_account *a = NULL;
	quota_tariff *t = NULL;
	char id[32];
	int rc;

	memset(r, 0, sizeof *r);
	if (d->acct >= 0 && d->kind != OP_ACCOUNT_NEW &&
	    quota_account_find(ctx, acct_names[d->acct], &a))
		return QUOTA_ENOTFOUND;
	if (((d->kind >= OP_TARIFF_TIER && d->kind <= OP_TARIFF_FEE) ||
	     d->kind == OP_TARIFF_FEE_REASON) &&
	    !(t = tariff_of(w, (int)d->v1)))
		return QUOTA_ENOTFOUND;
	switch (d->kind) {
	case OP_CAT_ADD: {
		uint32_t cid;

		return quota_category_add(ctx, cat_names[d->v1], &cid);
	}
	case OP_TARIFF_NEW:
		return quota_tariff_new(ctx, tar_names[d->v1], &t);
	case OP_TARIFF_TIER:
		return quota_tariff_add_tier(t, d->v2, d->v3);
	case OP_TARIFF_MODE:
		return quota_tariff_set_mode(t, (int)d->v2);
	case OP_TARIFF_FREE:
		return quota_tariff_set_free(t, d->v2, (int)d->v3);
	case OP_TARIFF_FREE_DAILY:
		return quota_tariff_set_free_daily_limit(t, d->v2);
	case OP_TARIFF_FEE:
		return quota_tariff_set_failure_fee(t, d->v2);
	case OP_OFFER_ADD: {
		quota_offer_spec os;
		quota_offer *o;

		memset(&os, 0, sizeof os);
		os.id = off_names[d->v1];
		if (d->v1 == 0) {
			os.categories = mask_of(w, 0x3);
			os.units = 500;
			os.price_micros = 2000000;
			os.valid_months = 1;
		} else {
			if (!(os.unit_tariff = tariff_of(w, 3)))
				return QUOTA_ENOTFOUND;
			os.categories = mask_of(w, 0x18);
			os.min_units = 100;
			os.step_units = 100;
			os.max_units = 5000;
			os.valid_days = 20;
			os.priority = -1;
		}
		return quota_offer_add(ctx, &os, &o);
	}
	case OP_ACCOUNT_NEW:
		return quota_account_new(ctx, acct_names[d->acct], &a);
	case OP_UTC_OFFSET:
		return quota_account_set_utc_offset(a, (int32_t)d->v1);
	case OP_ZONE_ADD: {
		uint8_t b[160];
		size_t n = tu_tzif_rule(b, 3600, TU_BERLIN_RULE);
		quota_zone *z;

		return quota_zone_from_tzif(ctx, "Europe/Berlin", b, n, &z);
	}
	case OP_SET_ZONE: {
		quota_zone *z;
		int zrc = quota_zone_find(ctx, "Europe/Berlin", &z);

		return zrc ? zrc : quota_account_set_zone(a, z);
	}
	case OP_SET_TARIFF:
		if (d->v1 >= 0 && !(t = tariff_of(w, (int)d->v1)))
			return QUOTA_ENOTFOUND;
		return quota_account_set_tariff(a, cat_id(w, d->cat), t);
	case OP_SET_CAP:
		return quota_account_set_cap(a, d->v1 ? QUOTA_ALL
						      : cat_id(w, d->cat),
					     (int)d->v2, d->v3);
	case OP_SET_OVERAGE:
		return quota_account_set_overage(a, cat_id(w, d->cat),
						 (int)d->v1);
	case OP_ADD_ALERT:
		return quota_account_add_alert(a, cat_id(w, d->cat), d->v1,
					       (int)d->v2);
	case OP_EXPIRY_WARNING:
		return quota_account_set_expiry_warning(a, d->v1);
	case OP_KEY_WINDOW:
		return quota_account_set_key_window(a, (uint32_t)d->v1, d->v2);
	case OP_SETTLEMENT:
		return quota_account_set_settlement(a, (int)d->v1, d->v2,
						    (int)d->v3);
	case OP_CREDIT_LIMIT:
		return quota_account_set_credit_limit(a, d->v1);
	case OP_TOPUP:
		return quota_account_topup(a, d->v1, d->at);
	case OP_GIFT_GRANT:
		return quota_gift_grant(a, d->v1, d->v2, d->at);
	case OP_PAY_ORDER:
		return quota_account_set_pay_order(a, (int32_t)d->v1,
						   (uint32_t)d->v2);
	case OP_PACKAGE_ADD: {
		quota_package_spec ps;
		quota_package *p = NULL;

		memset(&ps, 0, sizeof ps);
		snprintf(id, sizeof id, "p%ld", i);
		ps.id = id;
		ps.categories = mask_of(w, d->v1);
		ps.units = d->v2;
		ps.effective_at = d->v3;
		ps.expires_at = d->v4;
		ps.price_micros = d->v2 * 1000;
		ps.flags = H(i, 13) % 20 == 0 ? QUOTA_PACKAGE_STOP : 0;
		ps.priority = (int32_t)(H(i, 14) % 3) - 1;
		rc = quota_package_add(a, &ps, &p);
		CHECK(rc == QUOTA_OK ? p != NULL : p == NULL);
		return rc;
	}
	case OP_PACKAGE_BUY: {
		quota_offer *o;
		quota_voucher v;
		quota_purchase pu;

		if (quota_offer_find(ctx, off_names[d->v1], &o))
			return QUOTA_ENOTFOUND;
		memset(&v, 0, sizeof v);
		if (d->v3 == 0) {
			v.kind = QUOTA_VOUCHER_PERCENT;
			v.value = 1000;
		} else if (d->v3 == 1) {
			v.kind = QUOTA_VOUCHER_AMOUNT;
			v.value = 100000;
			v.min_spend_micros = 1000000;
		}
		snprintf(id, sizeof id, "b%ld", i);
		return quota_package_buy(a, o, d->v2, d->v3 < 2 ? &v : NULL,
					 d->at, d->v4 ? id : NULL, &pu);
	}
	case OP_CHARGE: {
		quota_usage u = {.category = cat_id(w, d->cat),
				 .units = d->v1,
				 .at = d->at,
				 .key = d->key[0] ? d->key : NULL};

		rc = quota_charge(a, &u, r);
		if (!retry) /* R27 */
			w->rid[i] = rc == QUOTA_OK ? r->receipt_id : 0;
		return rc;
	}
	case OP_CHARGE_SMS: {
		quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
		const char *s = sms_texts[d->v1];

		if (d->v2) {
			o.flags = QUOTA_SMS_CN;
			o.signature = "\xe3\x80\x90" "Acme\xe3\x80\x91";
		}
		return quota_charge_sms(a, cat_id(w, d->cat), s, strlen(s), &o,
					d->at, d->key[0] ? d->key : NULL, r,
					NULL);
	}
	case OP_RESERVE: {
		quota_usage u = {.category = cat_id(w, d->cat),
				 .units = d->v1,
				 .at = d->at,
				 .key = d->key[0] ? d->key : NULL};
		uint64_t h = 0;

		rc = quota_reserve(a, &u, d->v2, r, &h);
		if (!retry)
			w->hold[i] = rc == QUOTA_OK ? h : 0;
		return rc;
	}
	case OP_COMMIT:
		return quota_commit(a, hold_of(w, d->ref), d->v2,
				    d->key[0] ? d->key : NULL, r);
	case OP_RELEASE:
		return quota_release(a, hold_of(w, d->ref),
				     d->key[0] ? d->key : NULL, r);
	case OP_TICK:
		return (int)as_rc(quota_account_tick(a, d->at));
	case OP_CTX_TICK:
		return (int)as_rc(quota_ctx_tick(ctx, d->at));
	case OP_REVERSE:
		if (!d->key[0])
			return QUOTA_ENOTFOUND;
		rc = quota_reverse(a, d->key, d->at, r);
		if (rc == QUOTA_OK && !retry)
			w->forf[d->acct] += r->forfeited_units;
		return rc;
	case OP_SETTLE:
		return (int)as_rc(quota_settle(a, d->at, NULL, NULL));
	case OP_TARIFF_FEE_REASON:
	case OP_BLOCK:
	case OP_UNBLOCK:
	case OP_KEEP_RECEIPTS:
	case OP_RELEASE_REASON:
	case OP_REVERSE_RECEIPT:
		return issue15_exec(w, d, a, t, r, retry);
	default:
		ck_abort_msg("operation %ld: kind %d", i, d->kind);
		return QUOTA_EINVAL;
	}
}

#endif /* QUOTA_TEST_JOURNAL_WORKLOAD_H */
