/*
 * testutil.c - shared helpers for the Check tests (see testutil.h).
 */
#include <check.h>

#include "testutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ allocator */

/* Every block carries a header with its size, so live bytes can be told. */
typedef union tu_hdr {
	max_align_t align;
	struct {
		size_t size;
		uint64_t magic;
	} h;
} tu_hdr;

#define TU_MAGIC UINT64_C(0x71756f7461746573)
#define TU_DEAD UINT64_C(0xdeadbeefdeadbeef)

/* Count one attempt; 1 when it must fail. */
static int tu_should_fail(tu_alloc *t)
{
	t->attempts++;
	if (t->fail_at > 0 && (t->attempts == t->fail_at ||
			       (t->fail_rest && t->attempts >= t->fail_at))) {
		t->failures++;
		return 1;
	}
	return 0;
}

static void *tu_malloc(void *ud, size_t size)
{
	tu_alloc *t = ud;
	tu_hdr *h;

	if (tu_should_fail(t))
		return NULL;
	if (size > SIZE_MAX - sizeof *h)
		return NULL;
	h = malloc(sizeof *h + size);
	if (!h)
		return NULL;
	h->h.size = size;
	h->h.magic = TU_MAGIC;
	if (t->fill)
		memset(h + 1, 0xBE, size);
	t->live_blocks++;
	t->live_bytes += size;
	if (t->live_bytes > t->peak_bytes)
		t->peak_bytes = t->live_bytes;
	return h + 1;
}

static void tu_free(void *ud, void *ptr)
{
	tu_alloc *t = ud;
	tu_hdr *h;

	if (!ptr)
		return;
	h = (tu_hdr *)ptr - 1;
	if (h->h.magic != TU_MAGIC) {
		t->bad_frees++;
		return;
	}
	h->h.magic = TU_DEAD;
	t->live_blocks--;
	t->live_bytes -= h->h.size;
	free(h);
}

static void *tu_realloc(void *ud, void *ptr, size_t size)
{
	tu_alloc *t = ud;
	tu_hdr *h, *nh;
	size_t old;

	if (!ptr)
		return tu_malloc(ud, size);
	h = (tu_hdr *)ptr - 1;
	if (h->h.magic != TU_MAGIC) {
		t->bad_frees++;
		return NULL;
	}
	if (tu_should_fail(t))
		return NULL;
	if (size > SIZE_MAX - sizeof *h)
		return NULL;
	old = h->h.size;
	nh = realloc(h, sizeof *nh + size);
	if (!nh)
		return NULL;
	nh->h.size = size;
	if (t->fill && size > old)
		memset((char *)(nh + 1) + old, 0xBE, size - old);
	t->live_bytes = t->live_bytes - old + size;
	if (t->live_bytes > t->peak_bytes)
		t->peak_bytes = t->live_bytes;
	return nh + 1;
}

void tu_alloc_init(tu_alloc *t)
{
	memset(t, 0, sizeof *t);
	t->a.version = QUOTA_ALLOCATOR_VERSION;
	t->a.ud = t;
	t->a.malloc_fn = tu_malloc;
	t->a.realloc_fn = tu_realloc;
	t->a.free_fn = tu_free;
}

tu_alloc *tu_alloc_of(const quota_allocator *a)
{
	return a && a->malloc_fn == tu_malloc ? a->ud : NULL;
}

void tu_alloc_fail_in(tu_alloc *t, long n)
{
	t->fail_rest = 0;
	t->fail_at = n > 0 ? t->attempts + n : 0;
}

void tu_alloc_fail_all(tu_alloc *t)
{
	t->fail_rest = 1;
	t->fail_at = t->attempts + 1;
}

void tu_alloc_disarm(tu_alloc *t)
{
	t->fail_rest = 0;
	t->fail_at = 0;
}

/* ------------------------------------------------------------- calendar */

/* H. Hinnant's days_from_civil, written out for int64_t. */
int64_t tu_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tu_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp, yy;
	int mm;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*m = mm;
	*y = yy + (mm <= 2);
}

size_t tu_tzif_rule(uint8_t *b, int32_t utoff, const char *footer)
{
	size_t n = 0, k, len = strlen(footer);
	int blk;

	for (blk = 0; blk < 2; blk++) { /* the version 1 and 2 blocks */
		memcpy(b + n, "TZif2", 5);
		memset(b + n + 5, 0, 15);
		n += 20;
		memset(b + n, 0, 24); /* isut, isstd, leap, time: 0 */
		b[n + 19] = 1;        /* typecnt */
		b[n + 23] = 4;        /* charcnt */
		n += 24;
		for (k = 0; k < 4; k++)
			b[n++] = (uint8_t)((uint32_t)utoff >> (24 - 8 * k));
		b[n++] = 0; /* isdst */
		b[n++] = 0; /* desigidx */
		memcpy(b + n, "CET", 4);
		n += 4;
	}
	b[n++] = '\n';
	memcpy(b + n, footer, len);
	n += len;
	b[n++] = '\n';
	return n;
}

int64_t tu_utc(int y, int mo, int d, int h, int mi, int s)
{
	return tu_days_from_civil(y, mo, d) * TU_DAY + (int64_t)h * 3600 +
	       (int64_t)mi * 60 + s;
}

static int64_t tu_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t tu_day_index(int64_t at, int32_t off)
{
	return tu_floor_div(at + off, TU_DAY);
}

int64_t tu_month_index(int64_t at, int32_t off)
{
	int64_t y;
	int m, d;

	tu_civil_from_days(tu_day_index(at, off), &y, &m, &d);
	return y * 12 + (m - 1);
}

/* ------------------------------------------------------------ snapshots */

void tu_snap_take(tu_snap *s, const quota_account *a, const int64_t *times,
		  int ntimes)
{
	const quota_ctx *ctx;
	uint32_t i, c;
	int k;

	memset(s, 0, sizeof *s);
	if (ntimes > TU_SNAP_MAXT)
		ntimes = TU_SNAP_MAXT;
	s->ntimes = ntimes;
	for (k = 0; k < ntimes; k++)
		s->times[k] = times[k];
	ctx = quota_account_ctx(a);
	s->ncat = quota_category_count(ctx);
	s->npk = quota_account_package_count(a);
	for (i = 0; i < s->npk && i < TU_SNAP_MAXPK; i++) {
		const quota_package *p = quota_account_package_at(a, i);

		s->pk_remaining[i] = quota_package_remaining(p);
		for (k = 0; k < ntimes; k++)
			s->pk_status[i][k] = quota_package_status(p, times[k]);
	}
	for (c = 0; c < s->ncat && c < QUOTA_MAX_CATEGORIES; c++) {
		for (k = 0; k < ntimes; k++) {
			s->remaining[c][k] =
				quota_account_remaining(a, c, times[k]);
			s->free_used[c][k] =
				quota_account_free_used(a, c, times[k]);
			s->used_day[c][k] = quota_account_used(
				a, c, QUOTA_PERIOD_DAY, times[k]);
			s->used_month[c][k] = quota_account_used(
				a, c, QUOTA_PERIOD_MONTH, times[k]);
		}
	}
	for (c = 0; c < s->ncat && c < QUOTA_MAX_CATEGORIES; c++)
		s->held[c] = quota_account_held(a, c);
	s->held[QUOTA_MAX_CATEGORIES] = quota_account_held(a, QUOTA_ALL);
	s->nholds = quota_account_hold_count(a);
	quota_account_money(a, &s->money);
	for (k = 0; k < ntimes; k++) {
		s->used_day[QUOTA_MAX_CATEGORIES][k] = quota_account_used(
			a, QUOTA_ALL, QUOTA_PERIOD_DAY, times[k]);
		s->used_month[QUOTA_MAX_CATEGORIES][k] = quota_account_used(
			a, QUOTA_ALL, QUOTA_PERIOD_MONTH, times[k]);
	}
}

void tu_snap_take1(tu_snap *s, const quota_account *a, int64_t t)
{
	tu_snap_take(s, a, &t, 1);
}

int tu_snap_equal(const tu_snap *x, const tu_snap *y, char *diff, size_t n)
{
	uint32_t i, c;
	int k;

	diff[0] = '\0';
	if (x->ntimes != y->ntimes) {
		snprintf(diff, n, "snapshots taken at different times");
		return 0;
	}
	if (x->ncat != y->ncat) {
		snprintf(diff, n, "category count %u -> %u", x->ncat, y->ncat);
		return 0;
	}
	if (x->npk != y->npk) {
		snprintf(diff, n, "package count %u -> %u", x->npk, y->npk);
		return 0;
	}
	if (memcmp(&x->money, &y->money, sizeof x->money) != 0) {
		snprintf(diff, n,
			 "money: balance %lld -> %lld, outstanding %lld -> "
			 "%lld, suspended %d -> %d",
			 (long long)x->money.balance_micros,
			 (long long)y->money.balance_micros,
			 (long long)x->money.outstanding_micros,
			 (long long)y->money.outstanding_micros,
			 (int)x->money.suspended, (int)y->money.suspended);
		return 0;
	}
	for (i = 0; i < x->npk && i < TU_SNAP_MAXPK; i++) {
		if (x->pk_remaining[i] != y->pk_remaining[i]) {
			snprintf(diff, n, "package #%u remaining %lld -> %lld",
				 i, (long long)x->pk_remaining[i],
				 (long long)y->pk_remaining[i]);
			return 0;
		}
		for (k = 0; k < x->ntimes; k++)
			if (x->pk_status[i][k] != y->pk_status[i][k]) {
				snprintf(diff, n,
					 "package #%u status at %lld %d -> %d",
					 i, (long long)x->times[k],
					 x->pk_status[i][k],
					 y->pk_status[i][k]);
				return 0;
			}
	}
	if (x->nholds != y->nholds) {
		snprintf(diff, n, "open holds %u -> %u", x->nholds, y->nholds);
		return 0;
	}
	for (c = 0; c <= QUOTA_MAX_CATEGORIES; c++)
		if (x->held[c] != y->held[c]) {
			snprintf(diff, n, "held units of %s%u %lld -> %lld",
				 c == QUOTA_MAX_CATEGORIES ? "ALL/" : "", c,
				 (long long)x->held[c], (long long)y->held[c]);
			return 0;
		}
	for (c = 0; c <= QUOTA_MAX_CATEGORIES; c++) {
		for (k = 0; k < x->ntimes; k++) {
			const char *what = NULL;
			int64_t a = 0, b = 0;

			if (c < QUOTA_MAX_CATEGORIES &&
			    x->remaining[c][k] != y->remaining[c][k]) {
				what = "remaining";
				a = x->remaining[c][k];
				b = y->remaining[c][k];
			} else if (c < QUOTA_MAX_CATEGORIES &&
				   x->free_used[c][k] != y->free_used[c][k]) {
				what = "free_used";
				a = x->free_used[c][k];
				b = y->free_used[c][k];
			} else if (x->used_day[c][k] != y->used_day[c][k]) {
				what = "used DAY";
				a = x->used_day[c][k];
				b = y->used_day[c][k];
			} else if (x->used_month[c][k] != y->used_month[c][k]) {
				what = "used MONTH";
				a = x->used_month[c][k];
				b = y->used_month[c][k];
			}
			if (what) {
				snprintf(diff, n,
					 "category %s%u %s at %lld: %lld -> %lld",
					 c == QUOTA_MAX_CATEGORIES ? "ALL/" : "",
					 c, what, (long long)x->times[k],
					 (long long)a, (long long)b);
				return 0;
			}
		}
	}
	return 1;
}

int tu_receipt_is_zero(const quota_receipt *r)
{
	uint32_t i;

	if (r->units || r->free_units || r->package_units || r->payg_units ||
	    r->payg_cost_micros || r->category || r->at || r->nlines ||
	    r->lines_total || r->kind || r->replayed || r->hold_id ||
	    r->fee_micros || r->forfeited_units)
		return 0;
	for (i = 0; i < QUOTA_RECEIPT_LINES; i++) {
		const quota_receipt_line *l = &r->lines[i];

		if (l->source || l->tier || l->package_id || l->package ||
		    l->units || l->unit_price_micros || l->cost_micros)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ misc */

void tu_rng_seed(tu_rng *r, uint64_t seed)
{
	uint64_t z = seed + UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	r->s = z ? z : UINT64_C(0x2545F4914F6CDD1D);
}

uint64_t tu_rng_next(tu_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

int64_t tu_rng_range(tu_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

	if (span == 0)
		return (int64_t)tu_rng_next(r);
	return (int64_t)((uint64_t)lo + tu_rng_next(r) % span);
}

int tu_rng_chance(tu_rng *r, unsigned num, unsigned den)
{
	return tu_rng_next(r) % den < num;
}

int tu_quick(void)
{
	const char *q = getenv("QUOTA_TEST_QUICK");

	return q && q[0] && strcmp(q, "0") != 0;
}

const void *tu_exact(const void *s, size_t n)
{
	static unsigned char *blk[TU_EXACT_MAX + 1];
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("QUOTA_TEST_EXACT");

		on = e && e[0] && strcmp(e, "0") != 0;
	}
	if (!on || !s)
		return s;
	/* not ck_assert: Check records every passing one */
	if (n > TU_EXACT_MAX)
		ck_abort_msg("tu_exact: %zu bytes, at most %d", n,
			     TU_EXACT_MAX);
	if (!blk[n] && !(blk[n] = malloc(n ? n : 1)))
		ck_abort_msg("tu_exact: out of memory");
	if (n)
		memcpy(blk[n], s, n);
	return blk[n];
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ------------------------------------------------------------ snapshots */

uint32_t quota__crc32c(uint32_t crc, const void *p, size_t n);

/* What each minor's section takes, by minor, for an account using none
 * of its features (minor 2's is not fixed: it holds the blocking
 * reason). */
static const size_t snap_tail[] = {
	[3] = 9, /* R26: no zone: an empty name, a 64-bit hash of 0 */
	[4] = 6, /* R24: no gift money: order, flags, three sums, 0 grants */
	[5] = 2, /* R23: no renewal marks, no packages bought from offers */
};

void tu_snap_cut(uint8_t *p, size_t *n, int to)
{
	int m = p[5];
	uint32_t body, crc;

	ck_assert_int_ge(to, 2);
	ck_assert_int_lt(m, (int)(sizeof snap_tail / sizeof *snap_tail));
	for (; m > to; m--) {
		ck_assert_uint_ge(*n, 14 + snap_tail[m]);
		*n -= snap_tail[m];
	}
	p[5] = (uint8_t)to;
	body = (uint32_t)(*n - 14);
	crc = quota__crc32c(0, p + 14, body);
	for (int i = 0; i < 4; i++) {
		p[6 + i] = (uint8_t)(body >> (8 * i));
		p[10 + i] = (uint8_t)(crc >> (8 * i));
	}
}
