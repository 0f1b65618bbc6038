/*
 * check_package.c - packages (R2, R3, R5, R6, R20) and the per-category
 * index that picks the package to burn: checked against a brute-force
 * scan over hundreds of packages, random masks, priorities, pending,
 * expired, empty and never-expiring ones, at random (late) times.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

#define NPK 600
#define NCAT 3

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

struct mirror {
	quota_package *p;
	uint64_t mask;
	int64_t eff, exp, left;
	int32_t prio;
	int seq;
};

/* R3 by brute force: usable at t for cat, minimal (priority, expiry,
 * effective, order added). */
static int brute_first(const struct mirror *m, int n, uint32_t cat, int64_t t)
{
	int i, best = -1;

	for (i = 0; i < n; i++) {
		const struct mirror *x = &m[i], *b;

		if (!(x->mask & QUOTA_MASK(cat)) || x->left == 0 ||
		    t < x->eff || t >= x->exp)
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		b = &m[best];
		if (x->prio != b->prio ? x->prio < b->prio
		    : x->exp != b->exp ? x->exp < b->exp
		    : x->eff != b->eff ? x->eff < b->eff
				       : x->seq < b->seq)
			best = i;
	}
	return best;
}

START_TEST(test_r3_index_matches_brute_force)
{
	static struct mirror m[NPK];
	quota_ctx *ctx;
	quota_account *a;
	uint32_t cat[NCAT];
	int i, step, steps = getenv("QUOTA_TEST_QUICK") ? 3000 : 30000;
	const int64_t T = INT64_C(1700000000), SPAN = 400 * 86400;

	rs = 0x2545F4914F6CDD1Du + (uint64_t)_i;
	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	for (i = 0; i < NCAT; i++) {
		char name[8];

		snprintf(name, sizeof name, "c%d", i);
		ck_assert_int_eq(quota_category_add(ctx, name, &cat[i]), 0);
	}
	ck_assert_int_eq(quota_account_new(ctx, "acct", &a), 0);
	for (i = 0; i < NPK; i++) {
		char id[16];
		quota_package_spec s = {.id = id};

		snprintf(id, sizeof id, "p%d", i);
		s.categories = (rnd() % 7) + 1;
		s.units = (int64_t)(rnd() % 50) + 1;
		/* Few distinct times, so ties on expiry/effective happen. */
		s.effective_at = T + (int64_t)(rnd() % 20) * (SPAN / 20);
		s.expires_at = rnd() % 10 == 0
				       ? QUOTA_NEVER
				       : s.effective_at +
						 (int64_t)(1 + rnd() % 10) *
							 (SPAN / 20);
		s.priority = (int32_t)(rnd() % 3) - 1;
		ck_assert_int_eq(quota_package_add(a, &s, &m[i].p), 0);
		m[i].mask = s.categories;
		m[i].eff = s.effective_at;
		m[i].exp = s.expires_at;
		m[i].left = s.units;
		m[i].prio = s.priority;
		m[i].seq = i;
	}
	for (step = 0; step < steps; step++) {
		uint32_t c = cat[rnd() % NCAT];
		int64_t t = T - SPAN / 10 + (int64_t)(rnd() % (uint64_t)(SPAN * 2));
		quota_usage u = {.category = c, .units = 1, .at = t};
		quota_receipt r;
		int want = brute_first(m, NPK, c, t);

		/* Which package would pay for one unit? */
		ck_assert_int_eq(quota_quote(a, &u, &r), 0);
		if (want < 0) {
			ck_assert_int_eq(r.package_units, 0);
		} else {
			ck_assert_int_eq(r.nlines, 1);
			ck_assert_ptr_eq(r.lines[0].package, m[want].p);
		}
		/* Charge a few units; the mirror drains in R3 order too. */
		u.units = (int64_t)(rnd() % 120) + 1;
		ck_assert_int_eq(quota_charge(a, &u, &r), 0);
		{
			int64_t need = u.units, got = 0;
			uint32_t k = 0;

			while (need) {
				int b = brute_first(m, NPK, c, t);
				int64_t take;

				if (b < 0)
					break;
				take = m[b].left < need ? m[b].left : need;
				if (k < r.nlines) {
					ck_assert_ptr_eq(r.lines[k].package,
							 m[b].p);
					ck_assert_int_eq(r.lines[k].units, take);
				}
				k++;
				m[b].left -= take;
				need -= take;
				got += take;
			}
			ck_assert_int_eq(r.package_units, got);
			ck_assert_int_eq(r.payg_units, u.units - got);
		}
		if (step % 97 == 0)
			for (i = 0; i < NPK; i++)
				ck_assert_int_eq(quota_package_remaining(m[i].p),
						 m[i].left);
	}
	quota_ctx_free(ctx);
}
END_TEST

/* R20 status; EXHAUSTED shows even after expiry. */
START_TEST(test_r20_status)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_package *p;
	uint32_t c;
	quota_package_spec s = {.id = "p", .units = 5, .effective_at = 100,
				.expires_at = 200};
	quota_usage u = {.units = 5, .at = 150};

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &c), 0);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), 0);
	s.categories = QUOTA_MASK(c);
	ck_assert_int_eq(quota_package_add(a, &s, &p), 0);
	ck_assert_int_eq(quota_package_status(p, 99), QUOTA_PACKAGE_PENDING);
	ck_assert_int_eq(quota_package_status(p, 100), QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(p, 199), QUOTA_PACKAGE_ACTIVE);
	ck_assert_int_eq(quota_package_status(p, 200), QUOTA_PACKAGE_EXPIRED);
	u.category = c;
	ck_assert_int_eq(quota_charge(a, &u, NULL), 0);
	ck_assert_int_eq(quota_package_status(p, 150), QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(quota_package_status(p, 500), QUOTA_PACKAGE_EXHAUSTED);
	ck_assert_int_eq(quota_package_status(NULL, 0), -1);
	quota_ctx_free(ctx);
}
END_TEST

/* Spec round trip, find, and the order-added listing. */
START_TEST(test_package_spec_find_and_listing)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_package *p, *q;
	quota_package_spec g;
	uint32_t c;
	quota_package_spec s = {.id = "promo",
				.units = 7,
				.effective_at = 10,
				.expires_at = QUOTA_NEVER,
				.price_micros = 123,
				.flags = QUOTA_PACKAGE_STOP,
				.priority = -2};

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &c), 0);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), 0);
	s.categories = QUOTA_MASK(c);
	ck_assert_int_eq(quota_package_add(a, &s, &p), 0);
	ck_assert_int_eq(quota_package_find(a, "promo", &q), 0);
	ck_assert_ptr_eq(p, q);
	ck_assert_int_eq(quota_package_find(a, "nope", &q), QUOTA_ENOTFOUND);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(quota_package_get_spec(p, &g), 0);
	ck_assert_str_eq(g.id, "promo");
	ck_assert(g.categories == s.categories && g.units == 7 &&
		  g.effective_at == 10 && g.expires_at == QUOTA_NEVER &&
		  g.price_micros == 123 && g.flags == QUOTA_PACKAGE_STOP &&
		  g.priority == -2);
	ck_assert_uint_eq(quota_account_package_count(a), 1);
	ck_assert_ptr_eq(quota_account_package_at(a, 0), p);
	ck_assert_ptr_null(quota_account_package_at(a, 1));
	ck_assert_int_eq(quota_package_remaining(p), 7);
	quota_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("package");
	TCase *tc = tcase_create("package");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_r3_index_matches_brute_force, 0, 3);
	tcase_add_test(tc, test_r20_status);
	tcase_add_test(tc, test_package_spec_find_and_listing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
