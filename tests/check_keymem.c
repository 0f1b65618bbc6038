/*
 * check_keymem.c - compact idempotency records (R11, DESIGN §7, issue 13):
 * a repeated key returns a receipt equal byte for byte to the first one
 * (but for `replayed`) for every kind of keyed call, from one source or
 * several, with short and long keys, also after the account went through
 * a snapshot (package pointers: the loaded account's packages); and a window of 100,000 keys of up to 24 bytes costs at most
 * 96 bytes per key for calls drawn from one source.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"
#include "fixtures.h"

#define T0 tu_utc(2024, 5, 15, 10, 0, 0)
#define KEY64 "k123456789012345678901234567890123456789012345678901234567890123"

typedef struct world {
	quota_ctx *ctx;
	quota_account *a;
	uint32_t sms, mail, voice; /* free only; packages; pay-as-you-go */
	quota_package *p1, *p2;
} world;

/* sms: 3 free units a month, no price; mail: two packages of 5 units
 * (p1 first), then pay-as-you-go at 1,000 then 2,000 micros; voice:
 * graduated tiers of 3 units at 100, then 7 at 250. */
static void setup(world *w, quota_ctx *ctx)
{
	quota_tariff *tf, *tm, *tv;

	w->ctx = ctx;
	w->sms = add_cat(ctx, "sms");
	w->mail = add_cat(ctx, "mail");
	w->voice = add_cat(ctx, "voice");
	tf = add_tariff(ctx, "free");
	ck_assert_int_eq(quota_tariff_set_free(tf, 3, QUOTA_PERIOD_MONTH), 0);
	tm = add_tariff(ctx, "mail");
	ck_assert_int_eq(quota_tariff_add_tier(tm, 8, 1000), 0);
	ck_assert_int_eq(quota_tariff_add_tier(tm, QUOTA_UNLIMITED, 2000), 0);
	ck_assert_int_eq(quota_tariff_set_failure_fee(tm, 7), 0);
	tv = add_tariff(ctx, "voice");
	ck_assert_int_eq(quota_tariff_add_tier(tv, 3, 100), 0);
	ck_assert_int_eq(quota_tariff_add_tier(tv, QUOTA_UNLIMITED, 250), 0);
	w->a = add_acct(ctx, "acct");
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->sms, tf), 0);
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->mail, tm), 0);
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->voice, tv), 0);
	w->p1 = add_pkg(w->a, "p1", QUOTA_MASK(w->mail), 5, T0 - TU_DAY,
			T0 + 30 * TU_DAY, 0, 0);
	w->p2 = add_pkg(w->a, "p2", QUOTA_MASK(w->mail), 5, T0 - TU_DAY,
			T0 + 60 * TU_DAY, 0, 0);
}

/* Receipts compared byte for byte: both start zeroed (lines past nlines
 * and padding stay so), the first marked as a replay. */
static void same_receipt(quota_receipt first, const quota_receipt *again)
{
	ck_assert_int_eq(first.replayed, 0);
	ck_assert_int_eq(again->replayed, 1);
	first.replayed = 1;
	ck_assert(memcmp(&first, again, sizeof first) == 0);
}

static void charge_twice(world *w, uint32_t cat, int64_t units, int64_t at,
			 const char *key, uint32_t nlines)
{
	quota_usage u = {.category = cat, .units = units, .at = at,
			 .key = key};
	quota_receipt r1, r2;

	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	ck_assert_int_eq(quota_charge(w->a, &u, &r1), 0);
	ck_assert_uint_eq(r1.nlines, nlines);
	ck_assert_int_eq(quota_charge(w->a, &u, &r2), 0);
	same_receipt(r1, &r2);
	u.units++;
	ck_assert_int_eq(quota_charge(w->a, &u, &r2), QUOTA_EKEYCONFLICT);
}

/* Every kind of keyed call, one source and several, each repeated (the
 * same receipt) and repeated with other parameters (a conflict). */
static void calls(world *w, const char *sfx)
{
	char k[80];
	quota_usage u = {.category = w->mail, .units = 2, .at = T0 + 100};
	quota_receipt r1, r2;
	uint64_t h1, h2, h3;

#define K(s) (snprintf(k, sizeof k, "%s%s", (s), sfx), k)
	/* One source each: free, one package, one tier. */
	charge_twice(w, w->sms, 2, T0, K("free"), 1);
	charge_twice(w, w->mail, 3, T0 + 1, K("pkg"), 1);
	charge_twice(w, w->voice, 2, T0 + 2, K("payg"), 1);
	/* Several: free + payg, two packages, package + two tiers. */
	charge_twice(w, w->sms, 2, T0 + 3, K("free+payg"), 2);
	charge_twice(w, w->mail, 4, T0 + 4, K("p1+p2"), 2);
	charge_twice(w, w->voice, 4, T0 + 5, K("tiers"), 2);
	charge_twice(w, w->mail, 6, T0 + 6, K("p2+payg"), 2);
	/* A long key, one source. */
	charge_twice(w, w->voice, 1, T0 + 7, KEY64, 1);

	/* Reserve, then commit part of it; reserve and release (a fee). */
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	u.key = K("res1");
	ck_assert_int_eq(quota_reserve(w->a, &u, 60, &r1, &h1), 0);
	ck_assert_int_eq(quota_reserve(w->a, &u, 60, &r2, &h2), 0);
	ck_assert_uint_eq(h1, h2);
	same_receipt(r1, &r2);
	ck_assert_int_eq(quota_reserve(w->a, &u, 61, &r2, &h2),
			 QUOTA_EKEYCONFLICT);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	ck_assert_int_eq(quota_commit(w->a, h1, 1, K("com1"), &r1), 0);
	ck_assert_int_eq(quota_commit(w->a, h1, 1, k, &r2), 0);
	same_receipt(r1, &r2);
	ck_assert_int_eq(quota_commit(w->a, h1, 2, k, &r2),
			 QUOTA_EKEYCONFLICT);

	u.key = K("res2");
	u.units = 3;
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	ck_assert_int_eq(quota_reserve(w->a, &u, 60, &r1, &h3), 0);
	ck_assert_int_eq(quota_reserve(w->a, &u, 60, &r2, &h2), 0);
	ck_assert_uint_eq(h3, h2);
	same_receipt(r1, &r2);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	ck_assert_int_eq(quota_release(w->a, h3, K("rel2"), &r1), 0);
	ck_assert_int_eq(r1.fee_micros, 21);
	ck_assert_int_eq(quota_release(w->a, h3, k, &r2), 0);
	same_receipt(r1, &r2);
	ck_assert_int_eq(quota_release(w->a, h1, k, &r2), QUOTA_EKEYCONFLICT);
#undef K
}

START_TEST(test_replay_same_receipt_every_kind)
{
	world w;

	setup(&w, new_ctx());
	calls(&w, "");
	/* A reversed charge stays reversed; its replay is its receipt. */
	{
		quota_usage u = {.category = w.mail, .units = 1,
				 .at = T0 + 200, .key = "rev"};
		quota_receipt r1, r2, rr;

		memset(&r1, 0, sizeof r1);
		memset(&r2, 0, sizeof r2);
		ck_assert_int_eq(quota_charge(w.a, &u, &r1), 0);
		ck_assert_int_eq(quota_reverse(w.a, "rev", T0 + 300, &rr), 0);
		ck_assert_int_eq(quota_reverse(w.a, "rev", T0 + 300, &rr),
				 QUOTA_EREVERSED);
		ck_assert_int_eq(quota_charge(w.a, &u, &r2), 0);
		same_receipt(r1, &r2);
	}
	quota_ctx_free(w.ctx);
}
END_TEST

/* The receipts of a snapshot's key window: the same packages (of the
 * loaded account), the same numbers; the snapshot repeats. */
START_TEST(test_replay_after_snapshot)
{
	world w, v;
	void *s1 = NULL, *s2 = NULL;
	size_t n1 = 0, n2 = 0;
	quota_account *b = NULL;
	const char *keys[] = {"free", "pkg", "payg", "free+payg", "p1+p2",
			      "tiers", "p2+payg", KEY64};
	quota_usage u[] = {
		{.category = 0, .units = 2, .at = T0},
		{.category = 1, .units = 3, .at = T0 + 1},
		{.category = 2, .units = 2, .at = T0 + 2},
		{.category = 0, .units = 2, .at = T0 + 3},
		{.category = 1, .units = 4, .at = T0 + 4},
		{.category = 2, .units = 4, .at = T0 + 5},
		{.category = 1, .units = 6, .at = T0 + 6},
		{.category = 2, .units = 1, .at = T0 + 7},
	};
	size_t i, j;

	setup(&w, new_ctx());
	calls(&w, "");
	ck_assert_int_eq(quota_account_snapshot(w.a, &s1, &n1), 0);
	/* The same configuration in another context. */
	setup(&v, new_ctx());
	ck_assert_int_eq(quota_account_remove(v.a), 0);
	ck_assert_int_eq(quota_account_load(v.ctx, s1, n1, &b), 0);
	ck_assert_int_eq(quota_account_snapshot(b, &s2, &n2), 0);
	ck_assert_uint_eq(n1, n2);
	ck_assert(memcmp(s1, s2, n1) == 0);
	for (i = 0; i < sizeof keys / sizeof *keys; i++) {
		quota_receipt r1, r2;

		u[i].category = i == 0 || i == 3 ? w.sms
				: i == 2 || i == 5 || i == 7 ? w.voice
							     : w.mail;
		u[i].key = keys[i];
		memset(&r1, 0, sizeof r1);
		memset(&r2, 0, sizeof r2);
		ck_assert_int_eq(quota_charge(w.a, &u[i], &r1), 0);
		ck_assert_int_eq(quota_charge(b, &u[i], &r2), 0);
		ck_assert_int_eq(r1.replayed, 1);
		for (j = 0; j < r1.nlines; j++) {
			quota_package *pk = NULL;

			if (!r1.lines[j].package)
				continue;
			ck_assert_str_eq(r1.lines[j].package_id,
					 r2.lines[j].package_id);
			ck_assert_int_eq(quota_package_find(
						 b, r2.lines[j].package_id, &pk),
					 0);
			ck_assert_ptr_eq(pk, r2.lines[j].package);
			r2.lines[j].package = r1.lines[j].package;
			r2.lines[j].package_id = r1.lines[j].package_id;
		}
		ck_assert(memcmp(&r1, &r2, sizeof r1) == 0);
	}
	quota_free(w.ctx, s1);
	quota_free(v.ctx, s2);
	quota_ctx_free(w.ctx);
	quota_ctx_free(v.ctx);
}
END_TEST

/*
 * Bytes per key, counted as the growth of the context's live bytes
 * (through its allocator) from the first keyed call to the last of a
 * window of 100,000 keys of 24 bytes, divided by the keys added: the
 * record, the table's slots and control bytes at the table's load (a
 * power-of-two table at most half full: 262,144 slots here) and
 * anything else those calls keep.  No key leaves the window.
 */
static double bytes_per_key(int payg)
{
	enum { N = 100000 };
	tu_alloc t;
	quota_ctx *ctx = NULL;
	quota_account *a;
	quota_tariff *tf;
	uint32_t cat;
	size_t first = 0, last;
	uint32_t i;

	tu_alloc_init(&t);
	ck_assert_int_eq(quota_ctx_new_with(&t.a, &ctx), 0);
	cat = add_cat(ctx, "sms");
	tf = add_tariff(ctx, "t");
	ck_assert_int_eq(quota_tariff_add_tier(tf, QUOTA_UNLIMITED, 1500), 0);
	a = add_acct(ctx, "acct-0000001");
	ck_assert_int_eq(quota_account_set_tariff(a, cat, tf), 0);
	if (!payg)
		add_pkg(a, "p0", QUOTA_MASK(cat), INT64_C(1) << 40,
			T0 - TU_DAY, T0 + 400 * TU_DAY, 0, 0);
	ck_assert_int_eq(quota_account_set_key_window(a, N, 30 * TU_DAY), 0);
	for (i = 0; i < N; i++) {
		char key[32];
		quota_usage u = {.category = cat, .units = 1,
				 .at = T0 + (int64_t)i * 3599 / N, .key = key};
		quota_receipt r;

		snprintf(key, sizeof key, "gateway-msg-%012u", i);
		ck_assert_uint_eq(strlen(key), 24);
		ck_assert_int_eq(quota_charge(a, &u, &r), 0);
		ck_assert_uint_eq(r.nlines, 1);
		if (i == 0)
			first = t.live_bytes;
	}
	last = t.live_bytes;
	quota_ctx_free(ctx);
	ck_assert_int_eq(t.live_blocks, 0);
	return (double)(last - first) / (N - 1);
}

START_TEST(test_bytes_per_key)
{
	double pkg = bytes_per_key(0), payg = bytes_per_key(1);

	printf("key window, 100000 keys of 24 bytes: %.1f bytes per key "
	       "(one package), %.1f (pay-as-you-go)\n", pkg, payg);
	ck_assert(pkg <= 96);
	ck_assert(payg <= 96);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("keymem");
	TCase *tc = tcase_create("keys");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_replay_same_receipt_every_kind);
	tcase_add_test(tc, test_replay_after_snapshot);
	tcase_add_test(tc, test_bytes_per_key);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
