/*
 * check_ctx.c - the context: allocator hooks (STYLE 8, 9), the category
 * registry, and the id maps of accounts and tariffs at scale.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

START_TEST(test_ctx_allocator_version_refused)
{
	tu_alloc ta;
	quota_allocator bad;
	quota_ctx *ctx = (quota_ctx *)&ta;

	tu_alloc_init(&ta);
	bad = ta.a;
	bad.version = 99;
	ck_assert_int_eq(quota_ctx_new_with(&bad, &ctx), QUOTA_EINVAL);
	ck_assert_ptr_null(ctx);
	bad = ta.a;
	bad.free_fn = NULL;
	ck_assert_int_eq(quota_ctx_new_with(&bad, &ctx), QUOTA_EINVAL);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, NULL), QUOTA_EINVAL);
	/* Everything goes through the hooks, and all of it comes back. */
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &ctx), 0);
	ck_assert_int_gt(ta.live_blocks, 0);
	quota_ctx_free(ctx);
	ck_assert_int_eq(ta.live_blocks, 0);
	quota_ctx_free(NULL);
}
END_TEST

START_TEST(test_ctx_categories_registry)
{
	quota_ctx *ctx;
	uint32_t id, i;
	char name[16];

	ck_assert_int_eq(quota_ctx_new(&ctx), 0);
	for (i = 0; i < QUOTA_MAX_CATEGORIES; i++) {
		snprintf(name, sizeof name, "cat.%u", i);
		ck_assert_int_eq(quota_category_add(ctx, name, &id), 0);
		ck_assert_uint_eq(id, i);
	}
	ck_assert_uint_eq(quota_category_count(ctx), 64);
	ck_assert_int_eq(quota_category_add(ctx, "one.more", &id),
			 QUOTA_EOVERFLOW);
	ck_assert_int_eq(quota_category_find(ctx, "cat.63", &id), 0);
	ck_assert_uint_eq(id, 63);
	ck_assert_str_eq(quota_category_name(ctx, 7), "cat.7");
	ck_assert_ptr_null(quota_category_name(ctx, 64));
	ck_assert_int_eq(quota_category_find(ctx, "nope", &id),
			 QUOTA_ENOTFOUND);
	ck_assert_str_ne(quota_errmsg(ctx), "");
	quota_ctx_free(ctx);
}
END_TEST

/* Tens of thousands of accounts: find by id, no leak. */
START_TEST(test_ctx_many_accounts_and_tariffs)
{
	tu_alloc ta;
	quota_ctx *ctx;
	quota_account *a, *b;
	quota_tariff *t, *u;
	int i, n = getenv("QUOTA_TEST_QUICK") ? 2000 : 20000;
	char id[32];

	tu_alloc_init(&ta);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &ctx), 0);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "acct-%d", i);
		ck_assert_int_eq(quota_account_new(ctx, id, &a), 0);
		if (i % 10 == 0) {
			snprintf(id, sizeof id, "tariff-%d", i);
			ck_assert_int_eq(quota_tariff_new(ctx, id, &t), 0);
		}
	}
	for (i = 0; i < n; i += 7) {
		snprintf(id, sizeof id, "acct-%d", i);
		ck_assert_int_eq(quota_account_find(ctx, id, &b), 0);
		ck_assert_str_eq(quota_account_id(b), id);
		ck_assert_ptr_eq(quota_account_ctx(b), ctx);
	}
	ck_assert_int_eq(quota_account_new(ctx, "acct-5", &a), QUOTA_EEXISTS);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(quota_account_find(ctx, "acct-x", &a),
			 QUOTA_ENOTFOUND);
	ck_assert_int_eq(quota_tariff_find(ctx, "tariff-10", &u), 0);
	ck_assert_str_eq(quota_tariff_name(u), "tariff-10");
	quota_ctx_free(ctx);
	ck_assert_int_eq(ta.live_blocks, 0);
}
END_TEST

START_TEST(test_version_and_errors)
{
	char want[32];

	snprintf(want, sizeof want, "%d.%d.%d", QUOTA_VERSION_MAJOR,
		 QUOTA_VERSION_MINOR, QUOTA_VERSION_PATCH);
	ck_assert_str_eq(quota_version(), want);
	ck_assert_uint_eq(quota_version_number(), QUOTA_VERSION_NUMBER);
	ck_assert_str_eq(quota_err_name(QUOTA_ECAP), "QUOTA_ECAP");
	ck_assert_str_eq(quota_strerror(12345), "unknown error");
	ck_assert_str_eq(quota_errmsg(NULL), "no context");
}
END_TEST

/*
 * Issue 2 hot path: once a day's counters exist, charges and quotes of
 * that day allocate nothing, in order or late, across packages and into
 * pay-as-you-go; one-source reservations recycle their hold boxes.
 */
/* A strict UTF-8 check (RFC 3629), byte by byte: the first bad byte's
 * offset, or -1 if s is valid. */
static long ref_utf8_bad(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return (long)i;
		if (i + need >= n) /* truncated */
			return (long)i;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return (long)i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return (long)i;
		i += need + 1;
	}
	return -1;
}

/* Ids are validated as strict UTF-8 with the offset of the first bad byte,
 * whatever mix of ASCII runs (read 8 bytes at a time) and other bytes
 * they hold. */
START_TEST(test_utf8_ids_against_reference)
{
	static const unsigned char pieces[][4] = {
		"a", "Z", "-", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\x80", "\xc0", "\xed\xa0", "\xf4\x90", "\xff", "\xe2\x82"};
	quota_ctx *ctx;
	quota_account *a;
	tu_rng rng;
	int i;

	tu_rng_seed(&rng, 0x07F8);
	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	for (i = 0; i < 20000; i++) {
		unsigned char id[130];
		size_t n = 0;
		long bad;
		char want[64];
		int rc;

		/* Mostly ASCII: long runs cross the 8-byte reads. */
		while (n < 100 && !tu_rng_chance(&rng, 1, 12)) {
			const unsigned char *p =
				tu_rng_chance(&rng, 4, 5)
					? pieces[tu_rng_range(&rng, 0, 2)]
					: pieces[tu_rng_range(&rng, 3, 11)];

			memcpy(id + n, p, strlen((const char *)p));
			n += strlen((const char *)p);
		}
		if (!n)
			id[n++] = 'x';
		id[n] = '\0';
		bad = ref_utf8_bad(id, n);
		rc = quota_account_new(ctx, (const char *)id, &a);
		if (bad < 0) {
			ck_assert_msg(rc != QUOTA_EENCODING, "valid id refused");
			continue;
		}
		ck_assert_int_eq(rc, QUOTA_EENCODING);
		snprintf(want, sizeof want, "at byte %ld", bad);
		ck_assert_msg(strstr(quota_errmsg(ctx), want),
			      "%s: want %s", quota_errmsg(ctx), want);
	}
	quota_ctx_free(ctx);
}
END_TEST

START_TEST(test_hot_path_allocates_nothing)
{
	tu_alloc ta;
	quota_ctx *ctx;
	quota_account *a;
	quota_tariff *t;
	quota_receipt r;
	uint32_t sms;
	int64_t day0 = tu_utc(2024, 11, 1, 0, 0, 0);
	long before;
	int i;

	tu_alloc_init(&ta);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &sms), 0);
	ck_assert_int_eq(quota_tariff_new(ctx, "t", &t), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, 1000, 50), 0);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40), 0);
	ck_assert_int_eq(quota_tariff_set_free(t, 10, QUOTA_PERIOD_MONTH), 0);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), 0);
	ck_assert_int_eq(quota_account_set_tariff(a, sms, t), 0);
	for (i = 0; i < 64; i++) {
		char id[16];
		quota_package_spec s = {.id = id, .units = 50,
					.effective_at = day0 - 86400 * (i % 3),
					.expires_at = day0 + 86400 * (10 + i),
					.priority = i % 2};

		snprintf(id, sizeof id, "p%d", i);
		s.categories = QUOTA_MASK(sms);
		ck_assert_int_eq(quota_package_add(a, &s, NULL), 0);
	}
	{ /* the first charge of the day opens its counters */
		quota_usage u = {.category = sms, .units = 1, .at = day0};

		ck_assert_int_eq(quota_charge(a, &u, &r), 0);
	}
	/* A warm-up pass opens whatever the period needs (counter table,
	 * hold array and map, the first hold box); then nothing more. */
	before = -1;
	for (i = 0; i < 6000; i++) {
		/* same day, in order and late, across packages and into
		 * pay-as-you-go (64 x 50 units run out) */
		quota_usage u = {.category = sms, .units = 1 + i % 3,
				 .at = day0 + (i * 7919) % 86400};
		quota_usage one = u;
		uint64_t h;

		if (i == 1000)
			before = ta.attempts;
		ck_assert_int_eq(quota_quote(a, &u, &r), 0);
		ck_assert_int_eq(quota_charge(a, &u, &r), 0);
		/* one unit: one source, so the hold fits a recycled box */
		one.units = 1;
		ck_assert_int_eq(quota_reserve(a, &one, 60, &r, &h), 0);
		ck_assert_int_eq(quota_commit(a, h, 1, NULL, &r), 0);
	}
	ck_assert_int_eq(ta.attempts, before);
	quota_ctx_free(ctx);
	ck_assert_int_eq(ta.live_blocks, 0);
}
END_TEST

/* R11: once the key window is full, a new key recycles the oldest one's
 * record: keyed charges of one source allocate nothing more. */
START_TEST(test_full_key_window_allocates_nothing)
{
	tu_alloc ta;
	quota_ctx *ctx;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	int64_t day0 = tu_utc(2024, 11, 1, 0, 0, 0);
	quota_package_spec s = {.id = "p", .units = INT64_C(1) << 40,
				.effective_at = 0, .expires_at = QUOTA_NEVER};
	long before = -1;
	int i;

	tu_alloc_init(&ta);
	ck_assert_int_eq(quota_ctx_new_with(&ta.a, &ctx), 0);
	ck_assert_int_eq(quota_category_add(ctx, "sms", &sms), 0);
	ck_assert_int_eq(quota_account_new(ctx, "a", &a), 0);
	s.categories = QUOTA_MASK(sms);
	ck_assert_int_eq(quota_package_add(a, &s, NULL), 0);
	ck_assert_int_eq(quota_account_set_key_window(a, 100, 86400), 0);
	for (i = 0; i < 3000; i++) {
		char key[32];
		quota_usage u = {.category = sms, .units = 1,
				 .at = day0 + i, .key = key};

		snprintf(key, sizeof key, "msg-%d", i);
		if (i == 1000)
			before = ta.attempts;
		ck_assert_int_eq(quota_charge(a, &u, &r), 0);
		ck_assert_int_eq(r.replayed, 0);
	}
	ck_assert_int_eq(ta.attempts, before);
	quota_ctx_free(ctx);
	ck_assert_int_eq(ta.live_blocks, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctx");
	TCase *tc = tcase_create("ctx");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ctx_allocator_version_refused);
	tcase_add_test(tc, test_ctx_categories_registry);
	tcase_add_test(tc, test_ctx_many_accounts_and_tariffs);
	tcase_add_test(tc, test_version_and_errors);
	tcase_add_test(tc, test_utf8_ids_against_reference);
	tcase_add_test(tc, test_hot_path_allocates_nothing);
	tcase_add_test(tc, test_full_key_window_allocates_nothing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
