/*
 * check_batch_many.c - issue 13, many accounts at once:
 * quota_account_find_many answers as quota_account_find for each id, and
 * quota_batch's look-ahead (state fetched ahead of each group of
 * operations) changes no result, receipt, snapshot or stored record.
 *
 * quota_batch itself (§5, group commit) is tested in check_batch.c; the
 * helpers the two share (T0, the transactional store txstore, tx_attach,
 * tx_free, snap) in support/batch.h.
 */
#include <check.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "batch.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------ issue 13: many accounts at once */

#define NACC 150

/* NACC accounts "acct-000".. in two categories: every third with six
 * packages (the full R3 index, with its head hint), the others with one
 * small package that runs empty during the batches; every seventh with
 * no tariff or package at all (its charges are refused). */
static quota_ctx *many_world(uint32_t *sms, uint32_t *mms)
{
	quota_ctx *c = new_ctx();
	quota_tariff *t;
	char id[32], pid[16];
	int i, j;

	*sms = add_cat(c, "sms");
	*mms = add_cat(c, "mms");
	t = add_tariff(c, "t");
	ck_assert_int_eq(quota_tariff_add_tier(t, 40, 50000), QUOTA_OK);
	for (i = 0; i < NACC; i++) {
		quota_account *a;

		snprintf(id, sizeof id, "acct-%03d", i);
		a = add_acct(c, id);
		if (i % 7 == 3)
			continue;
		ck_assert_int_eq(quota_account_set_tariff(a, *sms, t),
				 QUOTA_OK);
		if (i % 2)
			ck_assert_int_eq(quota_account_set_tariff(a, *mms, t),
					 QUOTA_OK);
		for (j = 0; j < (i % 3 == 0 ? 6 : 1); j++) {
			snprintf(pid, sizeof pid, "p%d", j);
			add_pkg(a, pid, QUOTA_MASK(*sms) | QUOTA_MASK(*mms),
				3 + j, T0 - 86400, T0 + 86400 * (j + 1), 0, 0);
		}
	}
	return c;
}

static tu_rng many_rng = {88172645463325252u};
static uint32_t many_rnd(uint32_t n)
{
	return (uint32_t)tu_rng_range(&many_rng, 0, (int64_t)n - 1);
}

/* quota_account_find_many answers as quota_account_find for each id:
 * present, absent, removed, invalid (empty, too long, not UTF-8) and
 * repeated ids, at every group boundary. */
START_TEST(test_i13_find_many_agrees_with_find)
{
	uint32_t sms, mms;
	quota_ctx *c = many_world(&sms, &mms), *empty = new_ctx();
	quota_account *out[81], *one;
	const char *ids[80];
	char buf[80][40], longid[QUOTA_ID_MAX + 8];
	const size_t ns[] = {0, 1, 15, 16, 17, 33, 64, 80};
	size_t i, k;

	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	ck_assert_int_eq(quota_account_find(c, "acct-010", &one), QUOTA_OK);
	ck_assert_int_eq(quota_account_remove(one), QUOTA_OK);
	for (i = 0; i < 80; i++) {
		switch (i % 10) {
		case 3: /* not there */
			snprintf(buf[i], sizeof buf[i], "nobody-%zu", i);
			ids[i] = buf[i];
			break;
		case 5:
			ids[i] = "acct-010"; /* removed */
			break;
		case 7:
			ids[i] = i % 20 == 7 ? "" : "\xff\xfe";
			break;
		case 9:
			ids[i] = i % 20 == 9 ? longid : "acct-001";
			break;
		default:
			snprintf(buf[i], sizeof buf[i], "acct-%03u",
				 many_rnd(NACC));
			ids[i] = buf[i];
		}
	}
	for (k = 0; k < sizeof ns / sizeof *ns; k++) {
		size_t n = ns[k], missing = 0;
		int rc;

		for (i = 0; i < 81; i++)
			out[i] = (quota_account *)&out; /* overwritten or kept */
		rc = quota_account_find_many(c, ids, n, out);
		for (i = 0; i < n; i++) {
			quota_account *a = NULL;

			if (quota_account_find(c, ids[i], &a) != QUOTA_OK)
				missing++;
			ck_assert_msg(out[i] == a, "n %zu, ids[%zu] '%s'", n,
				      i, ids[i]);
		}
		ck_assert_ptr_eq(out[n], (quota_account *)&out); /* untouched */
		ck_assert_int_eq(rc, missing ? QUOTA_ENOTFOUND : QUOTA_OK);
		ck_assert_int_eq(quota_account_find_many(empty, ids, n, out),
				 n ? QUOTA_ENOTFOUND : QUOTA_OK);
		for (i = 0; i < n; i++)
			ck_assert_ptr_null(out[i]);
	}
	/* Every id there: QUOTA_OK. */
	for (i = 0; i < 40; i++) {
		snprintf(buf[i], sizeof buf[i], "acct-%03zu", 100 + i);
		ids[i] = buf[i];
	}
	ck_assert_int_eq(quota_account_find_many(c, ids, 40, out), QUOTA_OK);
	for (i = 0; i < 40; i++)
		ck_assert_str_eq(quota_account_id(out[i]), buf[i]);
	/* NULL arguments: QUOTA_EINVAL, and no answer is left behind. */
	ck_assert_ptr_nonnull(out[0]);
	ck_assert_int_eq(quota_account_find_many(NULL, ids, 1, out),
			 QUOTA_EINVAL);
	ck_assert_ptr_null(out[0]);
	out[0] = one;
	ck_assert_int_eq(quota_account_find_many(c, NULL, 1, out),
			 QUOTA_EINVAL);
	ck_assert_ptr_null(out[0]);
	ck_assert_int_eq(quota_account_find_many(c, ids, 1, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_account_find_many(c, NULL, 0, NULL), QUOTA_OK);
	ids[20] = NULL;
	ck_assert_int_eq(quota_account_find_many(c, ids, 40, out),
			 QUOTA_EINVAL);
	for (i = 0; i < 40; i++)
		ck_assert_ptr_null(out[i]);
	quota_ctx_free(empty);
	quota_ctx_free(c);
}
END_TEST

/* A random mix of operations over many accounts, some reading state an
 * earlier operation of the group changed (a package run empty, a new
 * day), run by quota_batch in one context and one by one in another:
 * the same results, receipts and account snapshots.  quota_batch fetches
 * state ahead of each group of operations; that must never change what
 * they do. */
static void many_ops(quota_ctx *c, uint32_t sms, uint32_t mms, quota_op *ops,
		     size_t n, int64_t t0)
{
	size_t i;
	char id[32];

	memset(ops, 0, n * sizeof *ops);
	for (i = 0; i < n; i++) {
		uint32_t r = many_rnd(100);
		quota_op *o = &ops[i];

		snprintf(id, sizeof id, "acct-%03u", many_rnd(NACC));
		ck_assert_int_eq(quota_account_find(c, id, &o->account),
				 QUOTA_OK);
		o->usage.category = many_rnd(3) ? sms : mms;
		o->usage.units = 1 + many_rnd(4);
		/* mostly in order; some late, some on the next day */
		o->usage.at = t0 + (int64_t)i * 7 -
			      (many_rnd(8) == 0 ? 5000 : 0) +
			      (many_rnd(16) == 0 ? 86400 : 0);
		if (r < 60) {
			o->kind = QUOTA_OP_CHARGE;
			if (r < 3)
				o->usage.category = 99; /* refused */
			if (r >= 3 && r < 6)
				o->usage.category = 40; /* not registered */
		} else if (r < 75) {
			o->kind = QUOTA_OP_CHARGE_SMS;
			o->text = r % 2 ? "hello" : "\xe4\xbd\xa0\xe5\xa5\xbd";
			o->text_len = strlen(o->text);
		} else {
			o->kind = QUOTA_OP_RESERVE;
			o->timeout_s = 600;
		}
	}
}

static void resolve_ops(quota_op *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ops[i].kind != QUOTA_OP_RESERVE)
			continue;
		ops[i].kind = i % 2 ? QUOTA_OP_COMMIT : QUOTA_OP_RELEASE;
		ops[i].units_used = 1;
	}
}

static void assert_same_ops(const quota_op *x, const quota_op *y, size_t n)
{
	size_t i;
	uint32_t l;

	for (i = 0; i < n; i++) {
		const quota_receipt *r = &x[i].receipt, *q = &y[i].receipt;

		ck_assert_msg(x[i].rc == y[i].rc, "op %zu: %d vs %d", i,
			      x[i].rc, y[i].rc);
		ck_assert_uint_eq(x[i].hold_id, y[i].hold_id);
		ck_assert_int_eq(r->units, q->units);
		ck_assert_int_eq(r->free_units, q->free_units);
		ck_assert_int_eq(r->package_units, q->package_units);
		ck_assert_int_eq(r->payg_units, q->payg_units);
		ck_assert_int_eq(r->payg_cost_micros, q->payg_cost_micros);
		ck_assert_int_eq(r->kind, q->kind);
		ck_assert_uint_eq(r->nlines, q->nlines);
		for (l = 0; l < r->nlines; l++) {
			ck_assert_int_eq(r->lines[l].source, q->lines[l].source);
			ck_assert_int_eq(r->lines[l].units, q->lines[l].units);
			ck_assert_int_eq(r->lines[l].cost_micros,
					 q->lines[l].cost_micros);
			if (r->lines[l].package_id)
				ck_assert_str_eq(r->lines[l].package_id,
						 q->lines[l].package_id);
		}
	}
}

/* _i 0: no store; 1: c1's store has transactions (the batch runs inside
 * one, with its undo snapshots), c2's appends alone, and the two record
 * streams must be the same bytes too.  The look-ahead only prefetches, so
 * a wrong address shows as a crash or in the ASan, UBSan and valgrind
 * runs of this test, where a changed result shows here. */
START_TEST(test_i13_batch_look_ahead_changes_no_result)
{
	enum { N = 400 };
	static quota_op x[N], y[N];
	static txstore st1, st2;
	uint32_t sms, mms, sms2, mms2;
	quota_ctx *c1 = many_world(&sms, &mms), *c2 = many_world(&sms2, &mms2);
	size_t i, round;
	int refused = 0, ok = 0;

	if (_i) {
		tx_attach(c1, &st1, 1);
		tx_attach(c2, &st2, 0);
	}

	for (round = 0; round < 3; round++) {
		tu_rng seed = many_rng;

		many_ops(c1, sms, mms, x, N, T0 + (int64_t)round * 3000);
		many_rng = seed;
		many_ops(c2, sms2, mms2, y, N, T0 + (int64_t)round * 3000);
		ck_assert_int_eq(quota_batch(c1, x, N), QUOTA_OK);
		for (i = 0; i < N; i++)
			y[i].rc = quota_op_run(&y[i]);
		assert_same_ops(x, y, N);
		resolve_ops(x, N);
		resolve_ops(y, N);
		ck_assert_int_eq(quota_batch(c1, x, N), QUOTA_OK);
		for (i = 0; i < N; i++)
			y[i].rc = quota_op_run(&y[i]);
		assert_same_ops(x, y, N);
		for (i = 0; i < N; i++)
			x[i].rc == QUOTA_OK ? ok++ : refused++;
	}
	/* both kinds of outcome were exercised */
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(refused, 10);
	for (i = 0; i < NACC; i++) {
		size_t n1, n2;
		void *s1 = snap(quota_ctx_account_at(c1, (uint32_t)i), &n1),
		     *s2 = snap(quota_ctx_account_at(c2, (uint32_t)i), &n2);

		ck_assert_uint_eq(n1, n2);
		ck_assert_msg(memcmp(s1, s2, n1) == 0, "account %zu differs",
			      i);
		quota_free(c1, s1);
		quota_free(c2, s2);
	}
	if (_i) {
		ck_assert_int_eq(st1.commits, 6);
		ck_assert_uint_eq(st1.n, st2.n);
		ck_assert_uint_gt(st1.n, (size_t)ok / 2);
		for (i = 0; i < st1.n; i++) {
			ck_assert_str_eq(st1.r[i].account, st2.r[i].account);
			ck_assert_uint_eq(st1.r[i].n, st2.r[i].n);
			ck_assert_msg(memcmp(st1.r[i].p, st2.r[i].p,
					     st1.r[i].n) == 0,
				      "record %zu differs", i);
		}
	}
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	if (_i) {
		tx_free(&st1);
		tx_free(&st2);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("batch_many");
	TCase *tc = tcase_create("i13");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_i13_find_many_agrees_with_find);
	tcase_add_loop_test(tc, test_i13_batch_look_ahead_changes_no_result, 0,
			    2);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
