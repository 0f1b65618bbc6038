/*
 * check_replay.c - applying journal records (DESIGN §5):
 * quota_journal_apply and quota_journal_size against a recorded
 * workload (tests/support/journal_world.h: three accounts, every kind
 * of call the journal records, a few hundred records).
 *
 * Allocation failures: for every record and every N, allocation N (once,
 * or from N on) failing while the record is applied gives QUOTA_ENOMEM
 * and changes nothing (every account's snapshot, the configuration), or
 * the call succeeds; then applying it again succeeds and the state is
 * the one a context without failures reaches; nothing leaks.  Bad
 * records: every truncation and every single-bit flip is QUOTA_ECORRUPT
 * (QUOTA_EVERSION for a flip in the major version byte), a newer major
 * QUOTA_EVERSION, a gap or a repeat QUOTA_ESEQUENCE, an unknown account
 * QUOTA_ENOTFOUND; check mode refuses recorded effects that differ from
 * the call planned again, and plain mode applies them consistently or
 * refuses them.  Every refusal leaves the context as it was.
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "quota_store.h"
#include "codec.h"
#include "testutil.h"
#include "journal_world.h"

#define FRAME 8

/* The recorded workload: the fixed world, then random calls. */
static jw_log wl;

static const jw_log *workload(void)
{
	jw_world w;
	quota_ctx *c;
	int steps = 0;

	if (wl.n)
		return &wl;
	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	jw_record(c, &wl);
	jw_setup(&w, c, 7);
	while (wl.n < 800 && steps++ < 4000)
		(void)jw_step(&w);
	quota_ctx_free(c);
	ck_assert_uint_ge(wl.n, 800);
	return &wl;
}

/* A context of our own, not replayed by journal_wrap (records applied
 * to it are not its own calls). */
static quota_ctx *ctx_with(tu_alloc *al)
{
	quota_ctx *c = NULL;

	if (al) {
		tu_alloc_init(al);
		ck_assert_int_eq(quota_ctx_new_with(&al->a, &c), QUOTA_OK);
	} else {
		ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	}
	tu_journal_skip(c);
	return c;
}

static void apply_ok(quota_ctx *c, const jw_rec *r, uint32_t flags)
{
	int rc = quota_journal_apply(c, r->p, r->n, flags);

	ck_assert_msg(rc == QUOTA_OK, "apply: %s: %s", quota_err_name(rc),
		      quota_errmsg(c));
}

/* Records [from, to) of the workload applied to c. */
static void apply_range(quota_ctx *c, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		apply_ok(c, &wl.r[i], QUOTA_JOURNAL_CHECK);
}

/* --------------------------------------------------- observable state */

typedef struct buf {
	unsigned char *p;
	size_t n, cap;
} buf;

static void buf_put(buf *b, const void *p, size_t n)
{
	if (b->cap - b->n < n) {
		while (b->cap - b->n < n)
			b->cap = b->cap ? 2 * b->cap : 4096;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void buf_i64(buf *b, int64_t v)
{
	buf_put(b, &v, sizeof v);
}

/*
 * Everything observable of a context as bytes: categories, the
 * workload's tariffs (priced) and offers, and every account's snapshot.
 * The allocator must be disarmed.
 */
static buf state_of(quota_ctx *c)
{
	buf b = {NULL, 0, 0};
	char name[16];
	quota_account *a;
	quota_tariff *t;
	quota_offer *o;
	uint32_t i;

	buf_i64(&b, quota_category_count(c));
	for (i = 0; i < quota_category_count(c); i++)
		buf_put(&b, quota_category_name(c, i),
			strlen(quota_category_name(c, i)) + 1);
	for (i = 0; i < 40; i++) {
		int64_t cost = -1;

		if (i < 3)
			snprintf(name, sizeof name, "%s",
				 i == 0 ? "grad" : i == 1 ? "vol" : "life");
		else
			snprintf(name, sizeof name, "t%u", i - 3);
		if (quota_tariff_find(c, name, &t) == QUOTA_OK)
			ck_assert_int_eq(quota_tariff_price(t, 250, 900, &cost),
					 0);
		buf_i64(&b, cost);
	}
	buf_i64(&b, quota_offer_find(c, "bundle", &o));
	buf_i64(&b, quota_offer_find(c, "bulk", &o));
	buf_i64(&b, quota_ctx_account_count(c));
	for (i = 0; (a = quota_ctx_account_at(c, i)); i++) {
		void *s;
		size_t n;

		ck_assert_int_eq(quota_account_snapshot(a, &s, &n), QUOTA_OK);
		buf_i64(&b, (int64_t)n);
		buf_put(&b, s, n);
		quota_free(c, s);
	}
	return b;
}

static void assert_state(quota_ctx *c, const buf *want, const char *what,
			 size_t rec)
{
	buf now = state_of(c);

	ck_assert_msg(now.n == want->n && memcmp(now.p, want->p, now.n) == 0,
		      "%s (record %zu): the context changed", what, rec);
	free(now.p);
}

/* ------------------------------------------------ allocation failures */

START_TEST(test_enomem_sweep)
{
	const jw_log *l = workload();
	size_t i, stride = tu_quick() ? 11 : 1, swept = 0;
	long calls = 0;
	tu_alloc al;
	quota_ctx *c = ctx_with(&al), *ref = ctx_with(NULL);

	for (i = 0; i < l->n; i++) {
		const jw_rec *r = &l->r[i];
		/* Both modes, failing once at N and from N on. */
		uint32_t flags = (i / 2) % 2 ? QUOTA_JOURNAL_CHECK : 0;
		int rest = i % 2, rc;
		buf before, after;
		long n;

		apply_ok(ref, r, flags);
		if (i % stride) {
			apply_ok(c, r, flags);
			continue;
		}
		swept++;
		before = state_of(c);
		for (n = 1;; n++) {
			tu_alloc_fail_in(&al, n);
			al.fail_rest = rest;
			rc = quota_journal_apply(c, r->p, r->n, flags);
			tu_alloc_disarm(&al);
			calls++;
			if (rc != QUOTA_ENOMEM)
				break;
			assert_state(c, &before, "QUOTA_ENOMEM", i);
			ck_assert_msg(n < 10000, "record %zu: no end", i);
		}
		ck_assert_msg(rc == QUOTA_OK, "record %zu, failing %ld: %s: %s",
			      i, n, quota_err_name(rc), quota_errmsg(c));
		/* Applied: as the context without failures has it. */
		after = state_of(ref);
		assert_state(c, &after, "applied after failures", i);
		free(before.p);
		free(after.p);
	}
	quota_ctx_free(ref);
	quota_ctx_free(c);
	ck_assert_int_eq(al.live_blocks, 0);
	ck_assert_int_eq(al.bad_frees, 0);
	printf("replay: allocation failures over %zu of %zu records, %ld "
	       "applies\n", swept, l->n, calls);
}
END_TEST

/* ------------------------------------------------------- bad records */

/* Write a record's frame (length, CRC-32C) for its body. */
static void seal(unsigned char *p, size_t n)
{
	uint32_t body = (uint32_t)(n - FRAME);
	uint32_t crc = quota__crc32c(0, p + FRAME, body);

	for (int k = 0; k < 4; k++) {
		p[k] = (unsigned char)(body >> (8 * k));
		p[4 + k] = (unsigned char)(crc >> (8 * k));
	}
}

/* The op of a record. */
static unsigned op_of(const jw_rec *r)
{
	return r->p[FRAME + 2];
}

/* Refused with want, context unchanged (both modes). */
static void refused(quota_ctx *c, const unsigned char *p, size_t n, int want,
		    const buf *before, const char *what, size_t rec)
{
	for (uint32_t flags = 0; flags <= QUOTA_JOURNAL_CHECK; flags++) {
		int rc = quota_journal_apply(c, p, n, flags);

		ck_assert_msg(rc == want, "%s (record %zu, %zu bytes): %s, not %s",
			      what, rec, n, quota_err_name(rc),
			      quota_err_name(want));
		ck_assert_str_ne(quota_errmsg(c), "");
	}
	assert_state(c, before, what, rec);
}

START_TEST(test_truncations_and_bit_flips)
{
	const jw_log *l = workload();
	unsigned seen[256] = {0};
	quota_ctx *c = ctx_with(NULL);
	unsigned char *p;
	size_t i, cut, tested = 0;

	for (i = 0; i < l->n; i++) {
		const jw_rec *r = &l->r[i];
		size_t sz;
		buf before;

		/* Two records of each operation (all in full mode). */
		if (seen[op_of(r)]++ >= (tu_quick() ? 1u : 2u)) {
			apply_ok(c, r, 0);
			continue;
		}
		tested++;
		before = state_of(c);
		ck_assert_int_eq(quota_journal_size(r->p, r->n, &sz), QUOTA_OK);
		ck_assert_uint_eq(sz, r->n);
		p = malloc(r->n);
		ck_assert_ptr_nonnull(p);
		for (cut = 0; cut < r->n; cut++) {
			memcpy(p, r->p, cut);
			refused(c, p, cut, QUOTA_ECORRUPT, &before,
				"truncated", i);
			ck_assert_int_eq(quota_journal_size(p, cut, &sz),
					 QUOTA_ECORRUPT);
		}
		for (size_t bit = 0; bit < 8 * r->n; bit++) {
			memcpy(p, r->p, r->n);
			p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			/* The checksum comes first: even a flip of the
			 * major version byte is corrupt, not newer. */
			refused(c, p, r->n, QUOTA_ECORRUPT, &before,
				"bit flipped", i);
		}
		/* The major version byte, resealed: newer is EVERSION, 0
		 * is corrupt. */
		memcpy(p, r->p, r->n);
		p[FRAME] = 2;
		seal(p, r->n);
		refused(c, p, r->n, QUOTA_EVERSION, &before, "major 2", i);
		p[FRAME] = 0;
		seal(p, r->n);
		refused(c, p, r->n, QUOTA_ECORRUPT, &before, "major 0", i);
		free(p);
		free(before.p);
		apply_ok(c, r, QUOTA_JOURNAL_CHECK);
	}
	quota_ctx_free(c);
	printf("replay: truncations and bit flips of %zu records\n", tested);
}
END_TEST

/* The next record of the same stream after record i, or l->n. */
static size_t next_of_stream(const jw_log *l, size_t i)
{
	const char *id = l->r[i].account;
	size_t j;

	for (j = i + 1; j < l->n; j++) {
		const char *jd = l->r[j].account;

		if ((!id && !jd) || (id && jd && strcmp(id, jd) == 0))
			break;
	}
	return j;
}

START_TEST(test_sequence_gaps_and_repeats)
{
	const jw_log *l = workload();
	quota_ctx *c = ctx_with(NULL), *bare = ctx_with(NULL);
	size_t i, gaps = 0, repeats = 0, unknown = 0;

	for (i = 0; i < l->n; i++) {
		const jw_rec *r = &l->r[i];
		size_t j = next_of_stream(l, i);
		buf before = state_of(c);

		/* The record after this one, first: a gap (an account's
		 * first record is its creation: before it, it is unknown). */
		if (j < l->n && (!r->account || op_of(r) != 1)) {
			refused(c, l->r[j].p, l->r[j].n, QUOTA_ESEQUENCE,
				&before, "gap", j);
			gaps++;
		}
		/* A record of an account that is not there and is not its
		 * creation. */
		if (r->account && op_of(r) != 1) {
			buf none = state_of(bare);

			refused(bare, r->p, r->n, QUOTA_ENOTFOUND, &none,
				"unknown account", i);
			free(none.p);
			unknown++;
		}
		apply_ok(c, r, i % 2 ? QUOTA_JOURNAL_CHECK : 0);
		free(before.p);
		/* Applied: the same record again is a repeat. */
		before = state_of(c);
		refused(c, r->p, r->n, QUOTA_ESEQUENCE, &before, "repeat", i);
		repeats++;
		free(before.p);
		if (tu_quick() && i > 60)
			break;
	}
	quota_ctx_free(bare);
	quota_ctx_free(c);
	printf("replay: %zu gaps, %zu repeats, %zu unknown accounts\n", gaps,
	       repeats, unknown);
}
END_TEST

/* ------------------------------------------------- altered effects */

/* Minimal record reader and writer for the test's own edits. */
typedef struct rd {
	const unsigned char *p;
	size_t n, off;
} rd;

static uint64_t rd_uv(rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		unsigned char b;

		ck_assert_uint_lt(r->off, r->n);
		b = r->p[r->off++];
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
		shift += 7;
	}
}
static int64_t rd_sv(rd *r)
{
	uint64_t u = rd_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}
static void rd_str(rd *r)
{
	r->off += (size_t)rd_uv(r);
}

static void wr_uv(buf *b, uint64_t v)
{
	unsigned char x;

	while (v >= 0x80) {
		x = (unsigned char)(v | 0x80);
		buf_put(b, &x, 1);
		v >>= 7;
	}
	x = (unsigned char)v;
	buf_put(b, &x, 1);
}
static void wr_sv(buf *b, int64_t v)
{
	wr_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Past the header (major, minor, op, seq, account, clock). */
static rd open_body(const jw_rec *r)
{
	rd x = {r->p, r->n, FRAME + 3};

	(void)rd_uv(&x);
	rd_str(&x);
	(void)rd_sv(&x);
	return x;
}

/*
 * A charge record with its sources edited: what 1 (a draw's units moved
 * to the free allowance), 2 (a pay-as-you-go line at another price, its
 * cost recomputed).  Returns the new record (malloc'd), or NULL when the
 * record has nothing to edit.
 */
static buf edit_charge(const jw_rec *r, int what)
{
	rd x = open_body(r);
	buf b = {NULL, 0, 0};
	int64_t units, fr, v[4];
	uint64_t n, m, k;
	int done = 0;

	(void)rd_uv(&x); /* category */
	units = rd_sv(&x);
	(void)rd_sv(&x); /* at */
	rd_str(&x);      /* key */
	(void)units;
	buf_put(&b, r->p, x.off);
	fr = rd_sv(&x);
	n = rd_uv(&x);
	{
		uint64_t seqs[64];
		int64_t du[64];

		ck_assert_uint_le(n, 64);
		for (k = 0; k < n; k++) {
			seqs[k] = rd_uv(&x);
			du[k] = rd_sv(&x);
		}
		if (what == 1 && n && du[0] > 1) {
			du[0]--;
			fr++;
			done = 1;
		}
		wr_sv(&b, fr);
		wr_uv(&b, n);
		for (k = 0; k < n; k++) {
			wr_uv(&b, seqs[k]);
			wr_sv(&b, du[k]);
		}
	}
	m = rd_uv(&x);
	wr_uv(&b, m);
	for (k = 0; k < m; k++) {
		for (int f = 0; f < 4; f++)
			v[f] = rd_sv(&x);
		if (what == 2 && k == 0 && v[1] > 0) {
			v[2] += 1;
			v[3] = v[1] * v[2];
			done = 1;
		}
		wr_uv(&b, (uint64_t)v[0]);
		for (int f = 1; f < 4; f++)
			wr_sv(&b, v[f]);
	}
	ck_assert_uint_eq(x.off, x.n);
	if (!done) {
		free(b.p);
		b.p = NULL;
		return b;
	}
	seal(b.p, b.n);
	return b;
}

/* A release record whose fee is 700 more. */
static buf edit_release(const jw_rec *r)
{
	rd x = open_body(r);
	buf b = {NULL, 0, 0};
	int64_t fee;

	(void)rd_uv(&x); /* hold */
	(void)rd_sv(&x); /* used */
	rd_str(&x);      /* key */
	buf_put(&b, r->p, x.off);
	fee = rd_sv(&x);
	ck_assert_uint_eq(x.off, x.n);
	wr_sv(&b, fee + 700);
	seal(b.p, b.n);
	return b;
}

/*
 * The altered record: check mode refuses it (QUOTA_ECORRUPT, nothing
 * changed); plain mode refuses it the same way or applies it, and then
 * the account's snapshot loads into another context and snapshots to
 * the same bytes.  Returns 1 if plain mode applied it.
 */
static int try_altered(const jw_log *l, size_t i, const buf *b)
{
	quota_ctx *c = ctx_with(NULL), *other = ctx_with(NULL);
	quota_account *a, *a2;
	buf before;
	void *s, *s2;
	size_t n, n2, j;
	int rc;

	apply_range(c, 0, i);
	before = state_of(c);
	rc = quota_journal_apply(c, b->p, b->n, QUOTA_JOURNAL_CHECK);
	ck_assert_msg(rc == QUOTA_ECORRUPT, "record %zu altered, check mode: %s",
		      i, quota_err_name(rc));
	assert_state(c, &before, "altered, check mode", i);
	rc = quota_journal_apply(c, b->p, b->n, 0);
	ck_assert_msg(rc == QUOTA_OK || rc == QUOTA_ECORRUPT,
		      "record %zu altered, plain: %s", i, quota_err_name(rc));
	if (rc) {
		assert_state(c, &before, "altered, plain mode", i);
	} else {
		for (j = 0; j < l->n; j++)
			if (!l->r[j].account)
				apply_ok(other, &l->r[j], 0);
		ck_assert_int_eq(quota_account_find(c, l->r[i].account, &a), 0);
		ck_assert_int_eq(quota_account_snapshot(a, &s, &n), 0);
		ck_assert_int_eq(quota_account_load(other, s, n, &a2), 0);
		ck_assert_int_eq(quota_account_snapshot(a2, &s2, &n2), 0);
		ck_assert(n == n2 && memcmp(s, s2, n) == 0);
		quota_free(c, s);
		quota_free(other, s2);
	}
	free(before.p);
	quota_ctx_free(other);
	quota_ctx_free(c);
	return rc == QUOTA_OK;
}

START_TEST(test_altered_effects)
{
	const jw_log *l = workload();
	int done[3] = {0, 0, 0}, applied = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const jw_rec *r = &l->r[i];
		buf b;

		if (op_of(r) == 2) { /* QUOTA__R_CHARGE */
			for (int what = 1; what <= 2; what++) {
				if (done[what] >= 2)
					continue;
				b = edit_charge(r, what);
				if (!b.p)
					continue;
				applied += try_altered(l, i, &b);
				done[what]++;
				free(b.p);
			}
		} else if (op_of(r) == 5 && done[0] < 2) { /* RELEASE */
			b = edit_release(r);
			applied += try_altered(l, i, &b);
			done[0]++;
			free(b.p);
		}
	}
	ck_assert_int_eq(done[0], 2);
	ck_assert_int_eq(done[1], 2);
	ck_assert_int_eq(done[2], 2);
	printf("replay: 6 altered records refused in check mode, %d applied "
	       "in plain mode\n", applied);
}
END_TEST

START_TEST(test_bad_arguments)
{
	const jw_log *l = workload();
	quota_ctx *c = ctx_with(NULL);
	size_t sz = 99;

	ck_assert_int_eq(quota_journal_apply(NULL, l->r[0].p, l->r[0].n, 0),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_journal_apply(c, NULL, 10, 0), QUOTA_EINVAL);
	ck_assert_int_eq(quota_journal_apply(c, l->r[0].p, l->r[0].n, 2),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_journal_size(NULL, 10, &sz), QUOTA_EINVAL);
	ck_assert_uint_eq(sz, 0);
	ck_assert_int_eq(quota_journal_size(l->r[0].p, l->r[0].n, NULL),
			 QUOTA_EINVAL);
	ck_assert_int_eq(quota_category_count(c), 0);
	apply_ok(c, &l->r[0], 0);
	ck_assert_int_eq(quota_category_count(c), 1);
	quota_ctx_free(c);
}
END_TEST

/*
 * R21, §5: an alert added to an account whose event tracking is not set
 * up yet (just loaded from a snapshot, with a hook) is armed as on the
 * account that made it: not armed when its level is already crossed.
 * Found by check_journal's store-fault sweep (a run verified from every
 * record against memory rebuilt from a checkpoint): quota_account_add_alert
 * made no room for the tracking, so its apply could not set it up and
 * armed the alert, and the loaded account's snapshot differed from the
 * live one until the next call set the tracking up (a record applied to
 * an account rebuilt from a checkpoint did the same).
 */
static int noop_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

START_TEST(test_r21_alert_added_after_load_armed_as_live)
{
	jw_log l = {0}, l2 = {0};
	quota_ctx *c, *d;
	quota_account *a, *b;
	quota_tariff *t;
	quota_package_spec ps;
	quota_usage u;
	quota_receipt r;
	uint32_t cat;
	void *s0, *s1, *s2;
	size_t n0, n1, n2, from;
	int64_t t0 = tu_utc(2024, 5, 15, 10, 0, 0);

	ck_assert_int_eq(quota_ctx_new(&c), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(c, noop_hook, NULL),
			 QUOTA_OK);
	jw_record(c, &l);
	ck_assert_int_eq(quota_category_add(c, "sms", &cat), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(c, "t", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 100),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_new(c, "a", &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(a, cat, t), QUOTA_OK);
	memset(&ps, 0, sizeof ps);
	ps.id = "p";
	ps.categories = QUOTA_MASK(cat);
	ps.units = 100;
	ps.effective_at = t0 - TU_DAY;
	ps.expires_at = t0 + 30 * TU_DAY;
	ck_assert_int_eq(quota_package_add(a, &ps, NULL), QUOTA_OK);
	memset(&u, 0, sizeof u);
	u.category = cat;
	u.units = 95;
	u.at = t0;
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(a, &s0, &n0), QUOTA_OK);
	/* 5 units left of 100: 10 % is crossed already. */
	from = l.n;
	ck_assert_int_eq(quota_account_add_alert(a, cat, 10,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_uint_eq(l.n, from + 1);
	ck_assert_int_eq(quota_account_snapshot(a, &s1, &n1), QUOTA_OK);

	/* The configuration, the account from its snapshot, the alert. */
	ck_assert_int_eq(quota_ctx_new(&d), QUOTA_OK);
	ck_assert_int_eq(quota_ctx_set_event_hook(d, noop_hook, NULL),
			 QUOTA_OK);
	ck_assert_int_eq(quota_category_add(d, "sms", &cat), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(d, "t", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 100),
			 QUOTA_OK);
	jw_record(d, &l2); /* so that the sequence numbers go on alike */
	ck_assert_int_eq(quota_account_load(d, s0, n0, &b), QUOTA_OK);
	ck_assert_int_eq(quota_account_add_alert(b, cat, 10,
						 QUOTA_ALERT_PERCENT),
			 QUOTA_OK);
	ck_assert_int_eq(quota_account_snapshot(b, &s2, &n2), QUOTA_OK);
	{
		size_t k = 14; /* after the header (its CRC) */

		while (k < n1 && k < n2 &&
		       ((unsigned char *)s1)[k] == ((unsigned char *)s2)[k])
			k++;
		ck_assert_msg(n1 == n2 && k == n1,
			      "the loaded account's alert is armed otherwise "
			      "than the live one's (%zu and %zu bytes, byte "
			      "%zu)",
			      n1, n2, k);
	}
	free(s0);
	free(s1);
	free(s2);
	quota_ctx_free(d);
	quota_ctx_free(c);
	jw_log_free(&l);
	jw_log_free(&l2);
}
END_TEST

/* Issue 10: replay finds a record's account through a hint of the slot
 * where its id was last.  The account removed, and then other accounts
 * filling the table (a resize, slots taken again), a record of it finds
 * no account, never another one; created again, it is found by its id
 * (at its first sequence numbers, so the record is a gap). */
START_TEST(test_account_hint_never_misleads)
{
	const jw_log *l = workload();
	quota_ctx *c = ctx_with(NULL);
	quota_account *a;
	const char *id = NULL;
	uint64_t seq;
	size_t i, k;
	int rc;

	/* The last record of an account that is not its creation, with
	 * the account's earlier records applied before it. */
	for (i = l->n; i-- > 0;)
		if (l->r[i].account && op_of(&l->r[i]) != 1)
			break;
	ck_assert(i < l->n);
	id = l->r[i].account;
	for (k = 0; k < i; k++)
		apply_ok(c, &l->r[k], 0);
	ck_assert_int_eq(quota_account_find(c, id, &a), QUOTA_OK);
	ck_assert_int_eq(quota_account_remove(a), QUOTA_OK);
	for (k = 0; k < 300; k++) {
		char nid[32];
		quota_account *na;

		ck_assert_int_eq(quota_journal_apply(c, l->r[i].p, l->r[i].n, 0),
				 QUOTA_ENOTFOUND);
		snprintf(nid, sizeof nid, "hint-%zu", k);
		ck_assert_int_eq(quota_account_new(c, nid, &na), QUOTA_OK);
	}
	/* (at 0, or 1 when the tests journal every context) */
	ck_assert_int_eq(quota_account_new(c, id, &a), QUOTA_OK);
	seq = quota_account_seq(a);
	rc = quota_journal_apply(c, l->r[i].p, l->r[i].n, 0);
	ck_assert_int_eq(rc, QUOTA_ESEQUENCE);
	ck_assert_uint_eq(quota_account_seq(a), seq);
	quota_ctx_free(c);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *fault = tcase_create("faults");
	TCase *bad = tcase_create("bad");

	tcase_set_timeout(fault, 600);
	tcase_set_timeout(bad, 600);
	tcase_add_test(fault, test_enomem_sweep);
	tcase_add_test(bad, test_bad_arguments);
	tcase_add_test(bad, test_truncations_and_bit_flips);
	tcase_add_test(bad, test_sequence_gaps_and_repeats);
	tcase_add_test(bad, test_account_hint_never_misleads);
	tcase_add_test(bad, test_altered_effects);
	tcase_add_test(bad, test_r21_alert_added_after_load_armed_as_live);
	suite_add_tcase(s, fault);
	suite_add_tcase(s, bad);
	return s;
}

int main(void)
{
	int rc = tu_run(replay_suite());

	jw_log_free(&wl);
	return rc;
}
