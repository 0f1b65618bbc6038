/*
 * fuzz_journal.c - libFuzzer target for the record decoder,
 * quota_journal_apply and quota_journal_size (DESIGN §5, STYLE 20).
 *
 * Every input starts from the same state: the fixed world of
 * tests/support/journal_world.h (configuration, three accounts with
 * packages, keys, holds), recorded once and applied as records, so it
 * is a state that records reach; each new context gets the
 * configuration records and the accounts' snapshots of that state.  The
 * input's first byte is flags; the rest is split into records with
 * quota_journal_size (a remainder it refuses is tried as one last
 * record).  The CRC is
 * checked before anything else, so an odd first byte reseals each
 * record's CRC-32C first: then the decoder's own checks are what is
 * fuzzed.  The seeds (tests/fuzz/corpus/journal, `make journal-seeds`)
 * are real records that continue the fixed world.
 *
 * Each record is applied to two contexts: one in check mode, one
 * without.  Invariants: no crash, no leak (the allocator counts
 * blocks), no event; a known code; a refused record changes nothing
 * (every account's snapshot and the configuration are as before); an
 * accepted one cannot be applied twice (QUOTA_ESEQUENCE) and leaves its
 * account in a state whose snapshot loads (or resets) into a second
 * context and snapshots to the same bytes; while both contexts are in
 * the same state, what check mode accepts plain mode accepts too, with
 * the same result.
 *
 *   clang -fsanitize=fuzzer,address,undefined ...   (make fuzz-journal)
 *   without -fsanitize=fuzzer, standalone.c replays the seed corpus.
 */
#include "quota.h"
#include "codec.h"
#include "journal_world.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_alloc.h"

#define MAX_RECORDS 256

static int no_event(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	abort(); /* replay fires no events */
}

/* The fixed world's records, made once, and the snapshots of its
 * accounts once they are applied. */
static jw_log seed;
static void *snaps[JW_NACCT];
static size_t nsnaps[JW_NACCT];

static void init(void)
{
	jw_world w;
	quota_ctx *c, *base;
	quota_account *a;
	size_t i;

	if (seed.n)
		return;
	CHECK(quota_ctx_new(&c) == 0);
	jw_record(c, &seed);
	jw_setup(&w, c, 1);
	quota_ctx_free(c);
	CHECK(seed.n > 0);
	CHECK(quota_ctx_new(&base) == 0);
	for (i = 0; i < seed.n; i++)
		CHECK(quota_journal_apply(base, seed.r[i].p, seed.r[i].n,
					  QUOTA_JOURNAL_CHECK) == 0);
	for (i = 0; i < JW_NACCT; i++) {
		void *s;

		CHECK((a = quota_ctx_account_at(base, (uint32_t)i)) != NULL);
		CHECK(quota_account_snapshot(a, &s, &nsnaps[i]) == 0);
		CHECK((snaps[i] = malloc(nsnaps[i])) != NULL);
		memcpy(snaps[i], s, nsnaps[i]);
		quota_free(base, s);
	}
	quota_ctx_free(base);
}

/* A context in the fixed world's state: its configuration records
 * applied, then (accounts) its accounts loaded from their snapshots,
 * which is quicker than applying their records again. */
static quota_ctx *fresh(int accounts)
{
	quota_allocator al = {QUOTA_ALLOCATOR_VERSION, NULL, f_malloc,
			      f_realloc, f_free};
	quota_account *a;
	quota_ctx *c;
	size_t i;

	CHECK(quota_ctx_new_with(&al, &c) == 0);
	CHECK(quota_ctx_set_event_hook(c, no_event, NULL) == 0);
	for (i = 0; i < seed.n; i++)
		if (!seed.r[i].account)
			CHECK(quota_journal_apply(c, seed.r[i].p, seed.r[i].n,
						  0) == 0);
	for (i = 0; accounts && i < JW_NACCT; i++)
		CHECK(quota_account_load(c, snaps[i], nsnaps[i], &a) == 0);
	return c;
}

/* The account id in a record's header, if it is well formed ("" for
 * the configuration stream); 0 if it cannot be read. */
static int rec_account(const uint8_t *p, size_t n, char *id)
{
	quota__rbuf r = {p, n, 8 + 3, false};

	if (n < 11)
		return 0;
	(void)quota__get_uv(&r);
	quota__get_str(&r, id, QUOTA_ID_MAX);
	return !r.bad;
}

/* Everything observable of a context, as bytes: the configuration's
 * counts and names, then every account's snapshot.  malloc'd. */
static uint8_t *state_of(quota_ctx *c, size_t *len)
{
	quota__wbuf w = {NULL, NULL, 0, 0, false};
	static const char *const tariffs[] = {"grad", "vol", "life", "t0",
					      "t1"};
	quota_account *a;
	quota_tariff *t;
	quota_offer *o;
	uint32_t i;
	uint8_t *out;

	w.cap = 4096;
	w.p = malloc(w.cap);
	CHECK(w.p);
	/* A fixed buffer (mem NULL) cannot grow: grow it by hand. */
#define PUT(stmt)                                                     \
	do {                                                          \
		if (w.cap - w.n < 256) {                              \
			w.cap *= 2;                                   \
			w.p = realloc(w.p, w.cap);                    \
			CHECK(w.p);                                   \
		}                                                     \
		stmt;                                                 \
	} while (0)
	PUT(quota__put_uv(&w, quota_category_count(c)));
	for (i = 0; i < quota_category_count(c); i++)
		PUT(quota__put_str(&w, quota_category_name(c, i)));
	for (i = 0; i < sizeof tariffs / sizeof *tariffs; i++) {
		int64_t cost = -1;

		if (quota_tariff_find(c, tariffs[i], &t) == 0)
			CHECK(quota_tariff_price(t, 250, 900, &cost) == 0);
		PUT(quota__put_sv(&w, cost));
	}
	PUT(quota__put_uv(&w, quota_offer_find(c, "bundle", &o) == 0));
	PUT(quota__put_uv(&w, quota_offer_find(c, "bulk", &o) == 0));
	PUT(quota__put_uv(&w, quota_ctx_account_count(c)));
	for (i = 0; (a = quota_ctx_account_at(c, i)); i++) {
		void *s;
		size_t n;

		CHECK(quota_account_snapshot(a, &s, &n) == 0);
		while (w.cap - w.n < n + 16) {
			w.cap *= 2;
			w.p = realloc(w.p, w.cap);
			CHECK(w.p);
		}
		quota__put_uv(&w, n);
		quota__put_bytes(&w, s, n);
		quota_free(c, s);
	}
#undef PUT
	CHECK(!w.fail);
	out = w.p;
	*len = w.n;
	return out;
}

static int same_state(quota_ctx *c, const uint8_t *p, size_t n)
{
	size_t m;
	uint8_t *q = state_of(c, &m);
	int same = m == n && memcmp(p, q, n) == 0;

	free(q);
	return same;
}

/* The account's snapshot goes into mirror (load, or reset of the
 * account of that id) and comes out the same, byte for byte. */
static void round_trip(quota_ctx *c, quota_ctx *mirror, const char *id)
{
	quota_account *a, *b;
	void *s, *s2;
	size_t n, n2;

	CHECK(quota_account_find(c, id, &a) == 0);
	CHECK(quota_account_snapshot(a, &s, &n) == 0);
	if (quota_account_find(mirror, id, &b) == 0)
		CHECK(quota_account_reset(b, s, n) == 0);
	else
		CHECK(quota_account_load(mirror, s, n, &b) == 0);
	CHECK(quota_account_snapshot(b, &s2, &n2) == 0);
	CHECK(n == n2 && memcmp(s, s2, n) == 0);
	quota_free(c, s);
	quota_free(mirror, s2);
}

static int known(int rc)
{
	return rc == QUOTA_OK || rc == QUOTA_ECORRUPT ||
	       rc == QUOTA_EVERSION || rc == QUOTA_ESEQUENCE ||
	       rc == QUOTA_ENOTFOUND;
}

/* Apply one record to c (flags), checking the invariants; the result. */
static int apply(quota_ctx *c, quota_ctx *mirror, const uint8_t *p,
		 size_t n, uint32_t flags)
{
	char id[QUOTA_ID_MAX + 1];
	uint8_t *before;
	size_t nb;
	int rc;

	before = state_of(c, &nb);
	rc = quota_journal_apply(c, p, n, flags);
	CHECK(known(rc));
	if (rc) {
		CHECK(same_state(c, before, nb));
		free(before);
		return rc;
	}
	free(before);
	CHECK(quota_journal_apply(c, p, n, flags) == QUOTA_ESEQUENCE);
	CHECK(rec_account(p, n, id));
	if (id[0])
		round_trip(c, mirror, id);
	else /* the mirror takes the same configuration */
		CHECK(quota_journal_apply(mirror, p, n, flags) == QUOTA_OK);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off[MAX_RECORDS], len[MAX_RECORDS], nrec = 0, n, at = 0, i;
	quota_ctx *chk, *plain, *mchk, *mplain;
	int in_step = 1;
	uint8_t *buf;

	if (size < 1)
		return 0;
	init();
	n = size - 1;
	buf = malloc(n ? n : 1);
	CHECK(buf);
	memcpy(buf, data + 1, n);
	while (at < n && nrec < MAX_RECORDS) {
		size_t sz;

		if (quota_journal_size(buf + at, n - at, &sz) != QUOTA_OK) {
			CHECK(sz == 0 || sz > n - at);
			sz = n - at; /* the rest, refused as one record */
		} else if (data[0] & 1) {
			uint32_t crc = quota__crc32c(0, buf + at + 8, sz - 8);

			for (int k = 0; k < 4; k++)
				buf[at + 4 + k] = (uint8_t)(crc >> (8 * k));
		}
		off[nrec] = at;
		len[nrec++] = sz;
		at += sz;
	}
	chk = fresh(1);
	plain = fresh(1);
	mchk = fresh(0);
	mplain = fresh(0);
	for (i = 0; i < nrec; i++) {
		const uint8_t *p = buf + off[i];
		int rc1 = apply(chk, mchk, p, len[i], QUOTA_JOURNAL_CHECK);
		int rc2 = apply(plain, mplain, p, len[i], 0);

		/* Check mode refuses more, never less; while both are in
		 * the same state they agree on what they both accept. */
		if (in_step && rc1 == QUOTA_OK) {
			size_t ns;
			uint8_t *s = state_of(chk, &ns);

			CHECK(rc2 == QUOTA_OK);
			CHECK(same_state(plain, s, ns));
			free(s);
		}
		if (rc1 != rc2)
			in_step = 0;
	}
	quota_ctx_free(chk);
	quota_ctx_free(plain);
	quota_ctx_free(mchk);
	quota_ctx_free(mplain);
	CHECK(live == 0);
	free(buf);
	return 0;
}
