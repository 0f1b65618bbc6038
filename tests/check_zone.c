/*
 * check_zone.c - R26 time zones: Europe/Berlin on its two DST change days
 * of 2024 (23 and 25 local hours: daily caps, hourly bills, reports) and
 * October 2024, a month that starts in summer time and ends in winter
 * time (monthly caps, free allowance, tiers, report); the system's TZif
 * file against the embedded rules; names, refusals, journal and snapshots.
 *
 * The scenarios use Berlin's rules embedded as TZif bytes (a version 2
 * file holding only the footer TU_BERLIN_RULE), so they do
 * not depend on the tz database the machine has; one test compares them
 * with /usr/share/zoneinfo/Europe/Berlin (tests/install-deps.sh installs
 * tzdata).
 */
#define _DEFAULT_SOURCE /* localtime_r, setenv, tzset, tm_gmtoff */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quota.h"
#include "testutil.h"

/* 2024-03-31 (spring forward, 23 h) and 2024-10-27 (fall back, 25 h),
 * local days in UTC. */
/* lib/codec.h: the snapshot's checksum. */
uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

#define SPRING_START INT64_C(1711839600) /* 2024-03-30T23:00Z */
#define SPRING_END INT64_C(1711922400)   /* 2024-03-31T22:00Z */
#define FALL_START INT64_C(1729980000)   /* 2024-10-26T22:00Z */
#define FALL_END INT64_C(1730070000)     /* 2024-10-27T23:00Z */
#define OCT_START INT64_C(1727733600)    /* 2024-09-30T22:00Z, +02:00 */
#define NOV_START INT64_C(1730415600)    /* 2024-10-31T23:00Z, +01:00 */

static uint8_t berlin[256];
static size_t berlin_len;

static quota_zone *berlin_zone(quota_ctx *ctx)
{
	quota_zone *z;

	berlin_len = tu_tzif_rule(berlin, 3600, TU_BERLIN_RULE);
	ck_assert_int_eq(quota_zone_from_tzif(ctx, "Europe/Berlin", berlin,
					      berlin_len, &z),
			 QUOTA_OK);
	return z;
}

typedef struct world {
	quota_ctx *ctx;
	quota_account *a;
	quota_tariff *t;
	uint32_t sms;
	quota_zone *z;
} world;

/* An account in Berlin, 1 USD per SMS (or a tariff the test sets). */
static void world_init(world *w, bool zone)
{
	memset(w, 0, sizeof *w);
	ck_assert_int_eq(quota_ctx_new(&w->ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(w->ctx, "sms", &w->sms), 0);
	ck_assert_int_eq(quota_tariff_new(w->ctx, "flat", &w->t), 0);
	ck_assert_int_eq(quota_tariff_add_tier(w->t, QUOTA_UNLIMITED, 1000000),
			 0);
	ck_assert_int_eq(quota_account_new(w->ctx, "acme", &w->a), 0);
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->sms, w->t), 0);
	ck_assert_int_eq(quota_account_topup(w->a, INT64_C(1000000000000), 0),
			 0);
	w->z = berlin_zone(w->ctx);
	if (zone)
		ck_assert_int_eq(quota_account_set_zone(w->a, w->z), QUOTA_OK);
}

static int charge(world *w, int64_t at, int64_t units)
{
	quota_usage u = {.category = w->sms, .units = units, .at = at};
	quota_receipt r;

	return quota_charge(w->a, &u, &r);
}

/* The rules' offsets and the local days' lengths. */
START_TEST(test_r26_berlin_offsets_and_day_lengths)
{
	world w;
	int32_t off;

	world_init(&w, true);
	ck_assert_int_eq(quota_zone_offset(w.z, SPRING_START + 3600 + 3599,
					   &off), 0);
	ck_assert_int_eq(off, 3600); /* 01:59:59 CET */
	ck_assert_int_eq(quota_zone_offset(w.z, SPRING_START + 7200, &off), 0);
	ck_assert_int_eq(off, 7200); /* 03:00 CEST */
	ck_assert_int_eq(quota_zone_offset(w.z, FALL_START + 3 * 3600 - 1,
					   &off), 0);
	ck_assert_int_eq(off, 7200); /* the first 02:59:59 */
	ck_assert_int_eq(quota_zone_offset(w.z, FALL_START + 3 * 3600, &off),
			 0);
	ck_assert_int_eq(off, 3600); /* the second 02:00 */
	ck_assert_str_eq(quota_zone_name(w.z), "Europe/Berlin");
	ck_assert_ptr_eq(quota_account_zone(w.a), w.z);
	ck_assert_int_eq((SPRING_END - SPRING_START) / 3600, 23);
	ck_assert_int_eq((FALL_END - FALL_START) / 3600, 25);
	quota_ctx_free(w.ctx);
}
END_TEST

/* R9 daily caps count by the local day, 23 and 25 hours long. */
START_TEST(test_r26_daily_cap_on_dst_days)
{
	static const int64_t start[2] = {SPRING_START, FALL_START};
	static const int64_t end[2] = {SPRING_END, FALL_END};
	int i;

	for (i = 0; i < 2; i++) {
		world w;

		world_init(&w, true);
		ck_assert_int_eq(quota_account_set_cap(w.a, w.sms,
						       QUOTA_PERIOD_DAY, 10),
				 0);
		ck_assert_int_eq(charge(&w, start[i] - 1, 10), 0); /* day before */
		ck_assert_int_eq(charge(&w, start[i], 10), 0);
		/* The day's last second (its 23rd or 25th hour): full. */
		ck_assert_int_eq(charge(&w, end[i] - 1, 1), QUOTA_ECAP);
		ck_assert_int_eq(charge(&w, end[i] - 3600, 1), QUOTA_ECAP);
		ck_assert_int_eq(charge(&w, end[i], 10), 0); /* the next day */
		quota_ctx_free(w.ctx);
	}
}
END_TEST

typedef struct bills {
	int n;
	int64_t start[64], end[64], amount[64];
} bills;

static int on_bill(const quota_bill *b, void *ud)
{
	bills *v = ud;

	if (v->n < 64) {
		v->start[v->n] = b->period_start;
		v->end[v->n] = b->period_end;
		v->amount[v->n] = b->amount_micros;
	}
	v->n++;
	return 0;
}

/* R17 hourly settlement by local hour: one unit in each UTC hour of the
 * local day is 23 or 25 bills, the fall-back day's two 02:00 hours two
 * bills; a daily bill covers the day's 23 or 25 hours. */
START_TEST(test_r26_hourly_bills_on_dst_days)
{
	static const int64_t start[2] = {SPRING_START, FALL_START};
	static const int64_t end[2] = {SPRING_END, FALL_END};
	int i, h;

	for (i = 0; i < 2; i++) {
		int hours = (int)((end[i] - start[i]) / 3600);
		world w, d;
		bills b = {0}, bd = {0};

		world_init(&w, true);
		world_init(&d, true);
		ck_assert_int_eq(quota_account_set_settlement(
					 w.a, QUOTA_PERIOD_HOUR, 10000,
					 QUOTA_ROUND_HALF_UP),
				 0);
		for (h = 0; h < hours; h++) {
			ck_assert_int_eq(charge(&w, start[i] + h * 3600 + 60,
						h + 1), 0);
			ck_assert_int_eq(charge(&d, start[i] + h * 3600 + 60,
						1), 0);
		}
		ck_assert_int_eq(quota_settle(w.a, end[i], on_bill, &b), hours);
		ck_assert_int_eq(b.n, hours);
		for (h = 0; h < hours; h++) {
			ck_assert_int_eq(b.start[h], start[i] + h * 3600);
			ck_assert_int_eq(b.end[h], start[i] + (h + 1) * 3600);
			ck_assert_int_eq(b.amount[h], (h + 1) * 1000000);
		}
		ck_assert_int_eq(quota_settle(d.a, end[i], on_bill, &bd), 1);
		ck_assert_int_eq(bd.start[0], start[i]);
		ck_assert_int_eq(bd.end[0], end[i]);
		ck_assert_int_eq(bd.amount[0], hours * 1000000);
		quota_ctx_free(w.ctx);
		quota_ctx_free(d.ctx);
	}
}
END_TEST

typedef struct rows {
	int n;
	int64_t start[64], end[64], units[64];
} rows;

static int on_row(const quota_report_row *r, void *ud)
{
	rows *v = ud;

	if (r->source == QUOTA_SOURCE_PAYG && r->units && v->n < 64) {
		v->start[v->n] = r->start;
		v->end[v->n] = r->end;
		v->units[v->n++] = r->units;
	}
	return 0;
}

typedef struct text {
	char b[8192];
	size_t n;
} text;

static int on_csv(const char *s, size_t n, void *ud)
{
	text *t = ud;

	if (t->n + n < sizeof t->b) {
		memcpy(t->b + t->n, s, n);
		t->n += n;
		t->b[t->n] = '\0';
	}
	return 0;
}

/* R22 reports by local hour and day: the fall-back day's hours labelled
 * in local time, the repeated 02:00 once with +02:00, once with +01:00. */
START_TEST(test_r26_report_fall_back_day)
{
	world w;
	rows hr = {0}, dr = {0};
	text t = {{0}, 0};
	int h;

	world_init(&w, true);
	for (h = 0; h < 25; h++)
		ck_assert_int_eq(charge(&w, FALL_START + h * 3600, 1), 0);
	ck_assert_int_eq(quota_report(w.a, QUOTA_PERIOD_HOUR, FALL_START,
				      FALL_END, on_row, &hr),
			 0);
	ck_assert_int_eq(hr.n, 25);
	for (h = 0; h < 25; h++) {
		ck_assert_int_eq(hr.start[h], FALL_START + h * 3600);
		ck_assert_int_eq(hr.end[h], FALL_START + (h + 1) * 3600);
	}
	ck_assert_int_eq(quota_report(w.a, QUOTA_PERIOD_DAY, FALL_START,
				      FALL_END, on_row, &dr),
			 0);
	ck_assert_int_eq(dr.n, 1);
	ck_assert_int_eq(dr.start[0], FALL_START);
	ck_assert_int_eq(dr.end[0], FALL_END);
	ck_assert_int_eq(dr.units[0], 25);
	ck_assert_int_eq(quota_report_csv(w.a, QUOTA_PERIOD_HOUR, FALL_START,
					  FALL_END, on_csv, &t),
			 0);
	ck_assert_ptr_nonnull(strstr(t.b, "2024-10-27T02:00:00+02:00,"
					  "2024-10-27T02:00:00+01:00,"));
	ck_assert_ptr_nonnull(strstr(t.b, "2024-10-27T02:00:00+01:00,"
					  "2024-10-27T03:00:00+01:00,"));
	ck_assert_ptr_nonnull(strstr(t.b, "2024-10-27T00:00:00+02:00,"));
	quota_ctx_free(w.ctx);
}
END_TEST

/* October 2024 starts in summer time (+02:00) and ends in winter time
 * (+01:00): R9 monthly cap, R15 monthly free units, R13 tiers and the R22
 * month all follow the local month. */
START_TEST(test_r26_month_summer_to_winter)
{
	world w;
	quota_tariff *t;
	rows mr = {0};
	quota_usage u;
	quota_receipt r;

	world_init(&w, true);
	ck_assert_int_eq(quota_tariff_new(w.ctx, "tiered", &t), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, 100, 2000000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000000),
			 0);
	ck_assert_int_eq(quota_tariff_set_free(t, 5, QUOTA_PERIOD_MONTH), 0);
	ck_assert_int_eq(quota_account_set_tariff(w.a, w.sms, t), 0);
	ck_assert_int_eq(quota_account_set_cap(w.a, w.sms, QUOTA_PERIOD_MONTH,
					       150),
			 0);
	/* 23:59:59 on 30 September, local: September. */
	u = (quota_usage){.category = w.sms, .units = 150, .at = OCT_START - 1};
	ck_assert_int_eq(quota_charge(w.a, &u, &r), 0);
	/* 00:00 on 1 October (22:00Z the day before): a new month, 5 free,
	 * 95 at the first tier, 5 at the second. */
	u.at = OCT_START;
	u.units = 105;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), 0);
	ck_assert_int_eq(r.free_units, 5);
	ck_assert_int_eq(r.payg_cost_micros, 95 * 2000000 + 5 * 1000000);
	/* 23:59:59 on 31 October, winter time: still October. */
	u.at = NOV_START - 1;
	u.units = 45;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), 0);
	ck_assert_int_eq(r.free_units, 0);
	ck_assert_int_eq(r.payg_cost_micros, 45 * 1000000);
	u.units = 1;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), QUOTA_ECAP);
	/* 00:00 on 1 November: a new month, free units and tiers again. */
	u.at = NOV_START;
	ck_assert_int_eq(quota_charge(w.a, &u, &r), 0);
	ck_assert_int_eq(r.free_units, 1);
	ck_assert_int_eq(quota_report(w.a, QUOTA_PERIOD_MONTH, OCT_START,
				      NOV_START, on_row, &mr),
			 0);
	ck_assert_int_eq(mr.n, 1);
	ck_assert_int_eq(mr.start[0], OCT_START);
	ck_assert_int_eq(mr.end[0], NOV_START);
	ck_assert_int_eq(mr.units[0], 145);
	quota_ctx_free(w.ctx);
}
END_TEST

/* The system's tz database (tzdata) agrees with the embedded rules over
 * 2024-2026; its name is checked against leaving the directory. */
START_TEST(test_r26_system_zone)
{
	quota_ctx *ctx;
	quota_zone *sys, *again, *emb;
	int64_t t;

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_zone_load(ctx, "Europe/Berlin", &sys), 0);
	ck_assert_int_eq(quota_zone_load(ctx, "Europe/Berlin", &again), 0);
	ck_assert_ptr_eq(sys, again);
	ck_assert_int_eq(quota_zone_find(ctx, "Europe/Berlin", &again), 0);
	ck_assert_ptr_eq(sys, again);
	berlin_len = tu_tzif_rule(berlin, 3600, TU_BERLIN_RULE);
	/* Other bytes under a name the context has. */
	ck_assert_int_eq(quota_zone_from_tzif(ctx, "Europe/Berlin", berlin,
					      berlin_len, &emb),
			 QUOTA_EEXISTS);
	ck_assert_ptr_null(emb);
	ck_assert_int_eq(quota_zone_from_tzif(ctx, "embedded/Berlin", berlin,
					      berlin_len, &emb),
			 0);
	for (t = INT64_C(1704067200); t < INT64_C(1798761600); t += 3571) {
		int32_t a, b;

		ck_assert_int_eq(quota_zone_offset(sys, t, &a), 0);
		ck_assert_int_eq(quota_zone_offset(emb, t, &b), 0);
		ck_assert_int_eq(a, b);
	}
	ck_assert_int_eq(quota_zone_load(ctx, "../../etc/passwd", &again),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_zone_load(ctx, "/etc/passwd", &again),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_zone_load(ctx, "Europe/../Berlin", &again),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_zone_load(ctx, "Europe//Berlin", &again),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_zone_load(ctx, "Europe/Berlin/", &again),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_zone_load(ctx, "Mars/Olympus_Mons", &again),
			 QUOTA_ENOTFOUND);
	ck_assert_ptr_null(again);
	/* A directory is no TZif file. */
	ck_assert_int_eq(quota_zone_load(ctx, "Europe", &again),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_zone_find(ctx, "Asia/Tokyo", &again),
			 QUOTA_ENOTFOUND);
	quota_ctx_free(ctx);
}
END_TEST

/* R26: the zone cannot change once the account has usage (as the
 * offset); zones of another context are refused; bad bytes are
 * QUOTA_ECORRUPT; the offset replaces a zone. */
START_TEST(test_r26_zone_fixed_once_used)
{
	world w, other;
	quota_zone *z;
	uint8_t bad[256];
	size_t n;

	world_init(&w, false);
	world_init(&other, false);
	ck_assert_int_eq(quota_account_set_zone(w.a, other.z), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_zone(w.a, w.z), 0);
	ck_assert_int_eq(quota_account_set_zone(w.a, NULL), 0);
	ck_assert_ptr_null(quota_account_zone(w.a));
	ck_assert_int_eq(quota_account_set_zone(w.a, w.z), 0);
	ck_assert_int_eq(charge(&w, FALL_START, 1), 0);
	ck_assert_int_eq(quota_account_set_zone(w.a, w.z), 0); /* the same */
	ck_assert_int_eq(quota_account_set_zone(w.a, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_utc_offset(w.a, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_set_utc_offset(w.a, 3600),
			 QUOTA_EINVAL);
	ck_assert_ptr_eq(quota_account_zone(w.a), w.z);
	/* An account with a fixed offset cannot take a zone once used. */
	ck_assert_int_eq(charge(&other, FALL_START, 1), 0);
	ck_assert_int_eq(quota_account_set_zone(other.a, other.z),
			 QUOTA_EINVAL);
	/* Bad bytes. */
	n = tu_tzif_rule(bad, 3600, "CET-1CEST,M3.5.0,M13.5.0/3");
	ck_assert_int_eq(quota_zone_from_tzif(w.ctx, "bad", bad, n, &z),
			 QUOTA_ECORRUPT);
	ck_assert_ptr_null(z);
	n = tu_tzif_rule(bad, 3600, "CET-1");
	ck_assert_int_eq(quota_zone_from_tzif(w.ctx, "bad", bad, n - 1, &z),
			 QUOTA_ECORRUPT); /* the footer's newline cut */
	n = tu_tzif_rule(bad, 20 * 3600, "");
	ck_assert_int_eq(quota_zone_from_tzif(w.ctx, "far", bad, n, &z),
			 QUOTA_EINVAL); /* beyond +-18 h */
	ck_assert_int_eq(quota_zone_find(w.ctx, "bad", &z), QUOTA_ENOTFOUND);
	/* The offset replaces a zone while there is no usage. */
	ck_assert_int_eq(quota_account_new(w.ctx, "fresh", &w.a), 0);
	ck_assert_int_eq(quota_account_set_zone(w.a, w.z), 0);
	ck_assert_int_eq(quota_account_set_utc_offset(w.a, 3600), 0);
	ck_assert_ptr_null(quota_account_zone(w.a));
	quota_ctx_free(w.ctx);
	quota_ctx_free(other.ctx);
}
END_TEST

/* Snapshots carry the zone by name and hash: another context with the
 * same zone loads it byte for byte; one without it or with other rules
 * under the name refuses it; a minor-1 snapshot (before zones) loads. */
START_TEST(test_r26_snapshot_zone)
{
	world w;
	quota_ctx *c2;
	quota_zone *z2;
	quota_account *b;
	uint64_t hold;
	quota_usage u;
	quota_receipt r;
	void *p, *q;
	size_t n, m;
	uint8_t other[256];
	size_t on;

	world_init(&w, true);
	ck_assert_int_eq(charge(&w, FALL_START + 3 * 3600, 3), 0);
	u = (quota_usage){.category = w.sms, .units = 2,
			  .at = FALL_START + 2 * 3600 + 5};
	ck_assert_int_eq(quota_reserve(w.a, &u, 86400, &r, &hold), 0);
	ck_assert_int_eq(quota_account_snapshot(w.a, &p, &n), 0);

	ck_assert_int_eq(quota_ctx_new(&c2), 0);
	ck_assert_int_eq(quota_category_add(c2, "sms", &w.sms), 0);
	ck_assert_int_eq(quota_tariff_new(c2, "flat", &w.t), 0);
	ck_assert_int_eq(quota_tariff_add_tier(w.t, QUOTA_UNLIMITED, 1000000),
			 0);
	ck_assert_int_eq(quota_account_load(c2, p, n, &b), QUOTA_ENOTFOUND);
	on = tu_tzif_rule(other, 3600, "CET-1CEST,M3.5.0,M10.4.0/3");
	ck_assert_int_eq(quota_zone_from_tzif(c2, "Europe/Berlin", other, on,
					      &z2),
			 0);
	ck_assert_int_eq(quota_account_load(c2, p, n, &b), QUOTA_ECORRUPT);
	quota_ctx_free(c2);

	ck_assert_int_eq(quota_ctx_new(&c2), 0);
	ck_assert_int_eq(quota_category_add(c2, "sms", &w.sms), 0);
	ck_assert_int_eq(quota_tariff_new(c2, "flat", &w.t), 0);
	ck_assert_int_eq(quota_tariff_add_tier(w.t, QUOTA_UNLIMITED, 1000000),
			 0);
	ck_assert_int_eq(quota_zone_from_tzif(c2, "Europe/Berlin", berlin,
					      berlin_len, &z2),
			 0);
	ck_assert_int_eq(quota_account_load(c2, p, n, &b), 0);
	ck_assert_ptr_eq(quota_account_zone(b), z2);
	ck_assert_int_eq(quota_account_snapshot(b, &q, &m), 0);
	ck_assert_uint_eq(m, n);
	ck_assert(memcmp(p, q, n) == 0);
	quota_free(c2, q);
	/* The hold goes back to its local day (25 h long) in both. */
	ck_assert_int_eq(quota_release(b, hold, NULL, NULL), 0);
	ck_assert_int_eq(quota_release(w.a, hold, NULL, NULL), 0);
	ck_assert_int_eq(quota_account_snapshot(b, &q, &m), 0);
	quota_free(w.ctx, p);
	ck_assert_int_eq(quota_account_snapshot(w.a, &p, &n), 0);
	ck_assert_uint_eq(m, n);
	ck_assert(memcmp(p, q, n) == 0);
	quota_free(c2, q);
	quota_free(w.ctx, p);
	quota_ctx_free(c2);
	quota_ctx_free(w.ctx);
}
END_TEST

/* R26, §5: a keyed charge's record in a snapshot keeps its local day.
 * 2024-07-01T22:30Z is 00:30 on the 2nd in Berlin; after a snapshot
 * load, reversing it by key takes the units back from the 2nd, as in
 * the account that was never saved. */
START_TEST(test_r26_key_record_local_day_after_load)
{
	const int64_t at = INT64_C(1719873000); /* 2024-07-01T22:30Z */
	world w;
	quota_ctx *c2;
	quota_account *b;
	quota_zone *z2;
	quota_usage u;
	quota_receipt r;
	void *p, *q;
	size_t n, m;
	uint32_t sms2;
	quota_tariff *t2;

	world_init(&w, true);
	u = (quota_usage){.category = w.sms, .units = 4, .at = at,
			  .key = "k1"};
	ck_assert_int_eq(quota_charge(w.a, &u, &r), 0);
	ck_assert_int_eq(quota_account_snapshot(w.a, &p, &n), 0);
	ck_assert_int_eq(quota_ctx_new(&c2), 0);
	ck_assert_int_eq(quota_category_add(c2, "sms", &sms2), 0);
	ck_assert_int_eq(quota_tariff_new(c2, "flat", &t2), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t2, QUOTA_UNLIMITED, 1000000),
			 0);
	ck_assert_int_eq(quota_zone_from_tzif(c2, "Europe/Berlin", berlin,
					      berlin_len, &z2),
			 0);
	ck_assert_int_eq(quota_account_load(c2, p, n, &b), 0);
	quota_free(w.ctx, p);
	ck_assert_int_eq(quota_reverse(w.a, "k1", at + 3600, &r), 0);
	ck_assert_int_eq(quota_reverse(b, "k1", at + 3600, &r), 0);
	ck_assert_int_eq(quota_account_used(b, sms2, QUOTA_PERIOD_DAY, at), 0);
	ck_assert_int_eq(quota_account_snapshot(w.a, &p, &n), 0);
	ck_assert_int_eq(quota_account_snapshot(b, &q, &m), 0);
	ck_assert_uint_eq(m, n);
	ck_assert(memcmp(p, q, n) == 0);
	quota_free(w.ctx, p);
	quota_free(c2, q);
	quota_ctx_free(c2);
	quota_ctx_free(w.ctx);
}
END_TEST

/* Fixed offsets keep working, and a minor-2 snapshot (R25/R27's
 * section, no zone section: the snapshots main wrote before R26) still
 * loads, its blocking intact. */
START_TEST(test_r26_old_snapshot_loads)
{
	world w;
	quota_account *b;
	uint8_t *p;
	void *v, *q;
	size_t n, n0, m;

	world_init(&w, false);
	ck_assert_int_eq(quota_account_set_utc_offset(w.a, 3600), 0);
	ck_assert_int_eq(charge(&w, FALL_START + 3 * 3600, 3), 0);
	ck_assert_int_eq(quota_account_block(w.a, "spam", FALL_START + 4 * 3600),
			 0);
	ck_assert_int_eq(quota_account_snapshot(w.a, &v, &n), 0);
	p = v;
	n0 = n;
	/* Minor 3 adds, after minor 2's fields, an empty name (1 byte) and
	 * a 64-bit hash; later minors their own sections after it. */
	ck_assert_int_ge(p[5], 3);
	tu_snap_cut(p, &n, 3);
	ck_assert_int_eq(p[n - 9], 0);
	tu_snap_cut(p, &n, 2);
	ck_assert_int_eq(quota_account_remove(w.a), 0);
	ck_assert_int_eq(quota_account_load(w.ctx, p, n, &b), 0);
	ck_assert_ptr_null(quota_account_zone(b));
	{
		const char *why;
		int64_t since;

		ck_assert_int_eq(quota_account_blocked(b, &why, &since), 1);
		ck_assert_str_eq(why, "spam");
		ck_assert_int_eq(since, FALL_START + 4 * 3600);
	}
	ck_assert_int_eq(quota_account_snapshot(b, &q, &m), 0);
	ck_assert_uint_eq(m, n0);
	ck_assert(memcmp(q, v, 5) == 0 && ((uint8_t *)q)[5] > 2);
	quota_free(w.ctx, q);
	quota_free(w.ctx, v);
	quota_ctx_free(w.ctx);
}
END_TEST

/* Property: for real zones of the system's tz database (old LMT offsets,
 * southern DST, half-hour and 45-minute offsets, a day skipped (Apia),
 * negative DST (Dublin), a two-hour change (Troll)), the offset
 * quota_zone_offset reads equals the C library's (localtime_r with TZ set
 * to the same file), at random instants from 1900 to 2100 and every
 * half day from 2020 on. */
START_TEST(test_r26_system_zones_agree_with_libc)
{
	static const char *const names[] = {
		"Europe/Berlin", "America/New_York", "America/Santiago",
		"Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu",
		"Pacific/Apia", "Pacific/Chatham", "Europe/Dublin",
		"Antarctica/Troll", "Africa/Casablanca", "America/St_Johns"};
	quota_ctx *ctx;
	tu_rng g;
	size_t i;
	int k;

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	tu_rng_seed(&g, 2615);
	for (i = 0; i < sizeof names / sizeof *names; i++) {
		char tz[64];
		quota_zone *z;
		int64_t t;

		ck_assert_int_eq(quota_zone_load(ctx, names[i], &z), 0);
		snprintf(tz, sizeof tz, ":%s", names[i]);
		ck_assert_int_eq(setenv("TZ", tz, 1), 0);
		tzset();
		for (k = 0; k < 3000; k++) {
			struct tm tm;
			time_t tt;
			int32_t off;

			t = tu_rng_range(&g, INT64_C(-2208988800),
					 INT64_C(4102444800));
			if (k & 1) /* walk on by up to a day: finds changes */
				t = INT64_C(1600000000) + k * INT64_C(43201);
			tt = (time_t)t;
			ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
			ck_assert_int_eq(quota_zone_offset(z, t, &off), 0);
			ck_assert_msg(off == tm.tm_gmtoff,
				      "%s at %lld: %d, libc %ld", names[i],
				      (long long)t, (int)off,
				      (long)tm.tm_gmtoff);
		}
	}
	unsetenv("TZ");
	tzset();
	quota_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zone");
	TCase *tc = tcase_create("berlin");

	tcase_add_test(tc, test_r26_berlin_offsets_and_day_lengths);
	tcase_add_test(tc, test_r26_daily_cap_on_dst_days);
	tcase_add_test(tc, test_r26_hourly_bills_on_dst_days);
	tcase_add_test(tc, test_r26_report_fall_back_day);
	tcase_add_test(tc, test_r26_month_summer_to_winter);
	tcase_add_test(tc, test_r26_system_zone);
	tcase_add_test(tc, test_r26_zone_fixed_once_used);
	tcase_add_test(tc, test_r26_snapshot_zone);
	tcase_add_test(tc, test_r26_key_record_local_day_after_load);
	tcase_add_test(tc, test_r26_old_snapshot_loads);
	tcase_add_test(tc, test_r26_system_zones_agree_with_libc);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
