/*
 * check_threads.c - many threads, one context each (README "Threads",
 * libquota(3) THREAD SAFETY).
 *
 * The model: a context and its objects are used by one thread at a time;
 * a host with many threads gives each its own context holding a partition
 * of the accounts (chosen by a hash of the account id) and routes every
 * message to the partition of its account.  Contexts share nothing, so
 * the threads need no lock.
 *
 * The same stream of messages (charges, keyed charges and their repeats,
 * reserve + commit, reserve + release, reversals, late reports, ticks)
 * over the same accounts is run three ways:
 *   - one context holding every account, on the main thread;
 *   - NPART contexts driven one after the other on the main thread;
 *   - NPART contexts driven by NPART threads at once.
 * Every account's snapshot (quota_account_snapshot bytes) and the sum of
 * every receipt per account must be the same in all three.  Under
 * `make check-asan`, `check-valgrind` and `check-tsan` this also shows
 * the library touches nothing shared between contexts.
 *
 * Contexts are made and freed on the main thread: the journaled run's
 * recorder (tests/support/journal_wrap.c) keeps a list of contexts that
 * is not meant for threads; the calls between run on the workers.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define NPART 4
#define T0 INT64_C(1730419200) /* 2024-11-01 00:00:00 UTC */

enum { OP_CHARGE, OP_KEYED, OP_REPEAT, OP_HOLD_COMMIT, OP_HOLD_RELEASE,
       OP_REVERSE, OP_TICK, OP_N };

typedef struct msg {
	uint32_t account; /* global account number */
	uint32_t op;      /* OP_* */
	uint32_t category;
	int64_t units;
	int64_t at;
	uint32_t ref; /* OP_REPEAT / OP_REVERSE: the message whose key */
} msg;

static uint32_t n_accounts, n_msgs;
static msg *msgs;        /* read only while the workers run */
static char (*ids)[16];  /* account ids, "acct<n>" */

/* The host's routing: FNV-1a of the id, modulo the number of partitions.
 * Any hash works that every node and thread computes the same way. */
static uint32_t route(const char *id, uint32_t nparts)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % nparts;
}

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void make_stream(void)
{
	uint32_t i;
	int64_t t = T0;

	n_accounts = tu_quick() ? 64 : 400;
	n_msgs = tu_quick() ? 6000 : 40000;
	rng = 0x2545F4914F6CDD1Du;
	ids = malloc(n_accounts * sizeof *ids);
	msgs = malloc(n_msgs * sizeof *msgs);
	ck_assert_ptr_nonnull(ids);
	ck_assert_ptr_nonnull(msgs);
	for (i = 0; i < n_accounts; i++)
		snprintf(ids[i], sizeof ids[i], "acct%u", i);
	for (i = 0; i < n_msgs; i++) {
		msg *m = &msgs[i];
		uint32_t r = rnd(100);

		t += 40 + rnd(80); /* about two months in all */
		m->account = rnd(n_accounts);
		m->category = rnd(4) == 0;
		m->units = 1 + rnd(3);
		m->at = rnd(10) == 0 ? t - rnd(86400) : t; /* late reports */
		m->ref = 0;
		m->op = r < 40 ? OP_CHARGE : r < 70 ? OP_KEYED
			: r < 80 ? OP_HOLD_COMMIT : r < 86 ? OP_HOLD_RELEASE
			: r < 98 ? OP_REPEAT : r < 99 ? OP_REVERSE : OP_TICK;
		if (m->op == OP_REPEAT || m->op == OP_REVERSE) {
			/* an earlier keyed charge of the same account */
			uint32_t j = i;

			while (j-- > 0 && i - j < 2000)
				if (msgs[j].account == m->account &&
				    msgs[j].op == OP_KEYED)
					break;
			if (j == UINT32_MAX || i - j >= 2000)
				m->op = OP_KEYED;
			else
				m->ref = j;
		}
	}
}

/* One partition: a context and the accounts routed to it (all of them
 * when nparts is 1).  Cache-line aligned so workers write apart. */
typedef struct part {
	_Alignas(64) quota_ctx *ctx;
	tu_alloc al;
	uint32_t index, nparts;
	uint64_t *sums; /* per global account: receipts folded together */
	int failed;    /* first unexpected return code, 0 if none */
	uint32_t failed_at;
} part;

static void setup(part *p, uint32_t index, uint32_t nparts)
{
	quota_tariff *t;
	uint32_t sms, mail, i;

	memset(p, 0, sizeof *p);
	p->index = index;
	p->nparts = nparts;
	tu_alloc_init(&p->al);
	ck_assert_int_eq(quota_ctx_new_with(&p->al.a, &p->ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(p->ctx, "sms", &sms), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(p->ctx, "email", &mail),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(p->ctx, "std", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, 200, 45000), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_free(t, 20, QUOTA_PERIOD_MONTH),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 1000), QUOTA_OK);
	p->sums = calloc(n_accounts, sizeof *p->sums);
	ck_assert_ptr_nonnull(p->sums);
	for (i = 0; i < n_accounts; i++) {
		quota_package_spec bundle = {
			.id = "bundle", .categories = QUOTA_MASK(sms),
			.units = 300, .effective_at = T0,
			.expires_at = T0 + 40 * TU_DAY};
		quota_package_spec promo = {
			.id = "promo", .categories = QUOTA_MASK(sms) |
						     QUOTA_MASK(mail),
			.units = 25, .effective_at = T0 + 3 * TU_DAY,
			.expires_at = QUOTA_NEVER, .priority = -1};
		quota_account *a;

		if (nparts > 1 && route(ids[i], nparts) != index)
			continue;
		ck_assert_int_eq(quota_account_new(p->ctx, ids[i], &a),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(a, sms, t),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_tariff(a, mail, t),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_set_cap(a, QUOTA_ALL,
						       QUOTA_PERIOD_DAY, 40),
				 QUOTA_OK);
		if (i % 3 == 0)
			ck_assert_int_eq(quota_account_set_overage(
						 a, mail, QUOTA_OVERAGE_STOP),
					 QUOTA_OK);
		ck_assert_int_eq(quota_package_add(a, &bundle, NULL),
				 QUOTA_OK);
		ck_assert_int_eq(quota_package_add(a, &promo, NULL),
				 QUOTA_OK);
	}
}

static uint64_t mix(uint64_t s, int64_t v)
{
	return s * 31 + (uint64_t)v;
}

static uint64_t fold(uint64_t s, const quota_receipt *r)
{
	s = mix(s, r->units);
	s = mix(s, r->free_units);
	s = mix(s, r->package_units);
	s = mix(s, r->payg_units);
	s = mix(s, r->payg_cost_micros);
	s = mix(s, r->kind);
	s = mix(s, r->replayed);
	s = mix(s, r->fee_micros);
	return mix(s, r->forfeited_units);
}

/* Refusals are part of the workload (caps, STOP, reversing twice); what
 * must not happen is anything else. */
static int expected(int rc)
{
	return rc == QUOTA_OK || rc == QUOTA_ECAP || rc == QUOTA_EEXHAUSTED ||
	       rc == QUOTA_EREVERSED || rc == QUOTA_ENOTFOUND;
}

static void one(part *p, uint32_t i)
{
	const msg *m = &msgs[i];
	quota_usage u = {.category = m->category, .units = m->units,
			 .at = m->at};
	quota_receipt r;
	quota_account *a;
	uint64_t hold = 0;
	char key[16];
	uint64_t s = p->sums[m->account];
	int rc = QUOTA_OK;

	if (p->nparts > 1 && route(ids[m->account], p->nparts) != p->index)
		return;
	if ((rc = quota_account_find(p->ctx, ids[m->account], &a))) {
		p->failed = rc;
		p->failed_at = i;
		return;
	}
	memset(&r, 0, sizeof r);
	snprintf(key, sizeof key, "m%u", m->op == OP_REPEAT ||
		 m->op == OP_REVERSE ? m->ref : i);
	switch (m->op) {
	case OP_CHARGE:
		rc = quota_charge(a, &u, &r);
		break;
	case OP_REPEAT: /* the earlier charge again, same inputs */
		u.category = msgs[m->ref].category;
		u.units = msgs[m->ref].units;
		u.at = msgs[m->ref].at;
		/* fall through */
	case OP_KEYED:
		u.key = key;
		rc = quota_charge(a, &u, &r);
		break;
	case OP_HOLD_COMMIT:
	case OP_HOLD_RELEASE:
		rc = quota_reserve(a, &u, 600, &r, &hold);
		s = fold(mix(s, rc), &r);
		if (rc != QUOTA_OK)
			break;
		if (m->op == OP_HOLD_COMMIT)
			rc = quota_commit(a, hold, 1 + (m->units - 1) / 2,
					  NULL, &r);
		else if (i % 2) /* the others expire on a tick */
			rc = quota_release(a, hold, NULL, &r);
		break;
	case OP_REVERSE:
		rc = quota_reverse(a, key, m->at, &r);
		break;
	case OP_TICK: {
		int64_t n = quota_account_tick(a, m->at);

		rc = n < 0 ? (int)n : QUOTA_OK;
		r.units = n;
		break;
	}
	}
	if (!expected(rc) && !p->failed) {
		p->failed = rc;
		p->failed_at = i;
	}
	p->sums[m->account] = fold(mix(s, rc), &r);
}

static void drive(part *p)
{
	uint32_t i;

	for (i = 0; i < n_msgs; i++)
		one(p, i);
}

static void *worker(void *arg)
{
	drive(arg);
	return NULL;
}

/* Every account's snapshot, by global account number. */
static void snapshots(part *parts, uint32_t nparts, void **snap, size_t *len)
{
	uint32_t i;

	for (i = 0; i < n_accounts; i++) {
		part *p = &parts[nparts > 1 ? route(ids[i], nparts) : 0];
		quota_account *a;

		ck_assert_int_eq(quota_account_find(p->ctx, ids[i], &a),
				 QUOTA_OK);
		ck_assert_int_eq(quota_account_snapshot(a, &snap[i], &len[i]),
				 QUOTA_OK);
	}
}

static void teardown(part *parts, uint32_t nparts, void **snap)
{
	uint32_t i;

	for (i = 0; i < n_accounts; i++) {
		part *p = &parts[nparts > 1 ? route(ids[i], nparts) : 0];

		quota_free(p->ctx, snap[i]);
	}
	for (i = 0; i < nparts; i++) {
		quota_ctx_free(parts[i].ctx);
		ck_assert_int_eq(parts[i].al.live_blocks, 0);
		free(parts[i].sums);
	}
}

static void check_same(const char *what, part *x, uint32_t nx, void **sx,
		       size_t *lx, part *y, uint32_t ny, void **sy,
		       size_t *ly)
{
	uint32_t i;

	for (i = 0; i < n_accounts; i++) {
		uint64_t a = x[nx > 1 ? route(ids[i], nx) : 0].sums[i];
		uint64_t b = y[ny > 1 ? route(ids[i], ny) : 0].sums[i];

		ck_assert_msg(a == b, "%s: receipts of %s differ", what,
			      ids[i]);
		ck_assert_msg(lx[i] == ly[i] &&
				      memcmp(sx[i], sy[i], lx[i]) == 0,
			      "%s: snapshot of %s differs (%zu vs %zu bytes)",
			      what, ids[i], lx[i], ly[i]);
	}
}

START_TEST(test_partitions_on_threads_equal_one_thread)
{
	static part one_ctx[1], seq[NPART], thr[NPART];
	pthread_t tid[NPART];
	void **snap[3];
	size_t *len[3];
	uint32_t i, per[NPART] = {0};
	int k, ops[OP_N] = {0};

	make_stream();
	for (i = 0; i < n_msgs; i++)
		ops[msgs[i].op]++;
	for (k = 0; k < OP_N; k++)
		ck_assert_int_gt(ops[k], 0);
	for (i = 0; i < n_accounts; i++)
		per[route(ids[i], NPART)]++;
	for (k = 0; k < NPART; k++) /* every partition has work */
		ck_assert_uint_gt(per[k], n_accounts / NPART / 2);
	for (k = 0; k < 3; k++) {
		snap[k] = calloc(n_accounts, sizeof *snap[k]);
		len[k] = calloc(n_accounts, sizeof *len[k]);
		ck_assert(snap[k] && len[k]);
	}

	/* One context, every account. */
	setup(&one_ctx[0], 0, 1);
	drive(&one_ctx[0]);
	ck_assert_msg(!one_ctx[0].failed, "one context: %s at message %u",
		      quota_err_name(one_ctx[0].failed), one_ctx[0].failed_at);
	snapshots(one_ctx, 1, snap[0], len[0]);

	/* NPART contexts, one after the other. */
	for (k = 0; k < NPART; k++)
		setup(&seq[k], (uint32_t)k, NPART);
	for (k = 0; k < NPART; k++) {
		drive(&seq[k]);
		ck_assert_msg(!seq[k].failed, "partition %d: %s at message %u",
			      k, quota_err_name(seq[k].failed),
			      seq[k].failed_at);
	}
	snapshots(seq, NPART, snap[1], len[1]);

	/* NPART contexts, NPART threads at once. */
	for (k = 0; k < NPART; k++)
		setup(&thr[k], (uint32_t)k, NPART);
	for (k = 0; k < NPART; k++)
		ck_assert_int_eq(pthread_create(&tid[k], NULL, worker,
						&thr[k]), 0);
	for (k = 0; k < NPART; k++)
		ck_assert_int_eq(pthread_join(tid[k], NULL), 0);
	for (k = 0; k < NPART; k++)
		ck_assert_msg(!thr[k].failed, "thread %d: %s at message %u",
			      k, quota_err_name(thr[k].failed),
			      thr[k].failed_at);
	snapshots(thr, NPART, snap[2], len[2]);

	check_same("threads vs sequential partitions", thr, NPART, snap[2],
		   len[2], seq, NPART, snap[1], len[1]);
	check_same("threads vs one context", thr, NPART, snap[2], len[2],
		   one_ctx, 1, snap[0], len[0]);

	teardown(one_ctx, 1, snap[0]);
	teardown(seq, NPART, snap[1]);
	teardown(thr, NPART, snap[2]);
	for (k = 0; k < 3; k++) {
		free(snap[k]);
		free(len[k]);
	}
	free(msgs);
	free(ids);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_partitions_on_threads_equal_one_thread);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
