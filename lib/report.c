/*
 * report.c - usage reports (R22): the ledger's rows summed per period,
 * category and source, handed to a callback or written as CSV.
 *
 * The ledger (ledger.c) holds one row per local hour, category and
 * source.  A report collects the rows whose hour begins in [from, to),
 * gives each the period it falls in, sorts them by (period, category,
 * source) and merges equal neighbours: O(n log n) in the rows it
 * includes, plus one pass over the ledger, whatever the number of periods.
 *
 * Rules chosen where DESIGN.md is silent (documented in quota_report(3)):
 *   - usage is counted by the hour it was booked in: an hour belongs to the
 *     report when its start is in [from, to), and a row's start and end are
 *     those of its whole period, even if [from, to) covers only part of it;
 *   - units are what was charged less reversals, in the hour of the usage
 *     (not of the reversal); a FEE row's units are the units released;
 *   - rows whose units and cost are both 0 are left out;
 *   - everything is summed before the first row goes out, so running out
 *     of memory (or an overflowing sum) emits nothing;
 *   - a span starting before the account's pruning horizon (prune.c) is
 *     refused with QUOTA_EPRUNED, even if some of its rows are left.
 */
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

/* One report row being built: its sort key and its sums. */
typedef struct rep {
	int64_t start, end;     /* the period, UTC */
	uint64_t key;           /* category << 34 | source order */
	const quota_package *pk;
	int64_t units, cost;
} rep;

/* Source order within a category: free, packages by seq, payg, fee. */
#define ORD_FREE UINT64_C(0)
#define ORD_PKG UINT64_C(1) /* + seq */
#define ORD_PAYG (UINT64_C(1) << 32 | 1)
#define ORD_FEE (UINT64_C(1) << 32 | 2)
#define ORD_RENEW (UINT64_C(1) << 32 | 3) /* R23 */
#define ORD_BITS 34

static uint64_t src_order(uint32_t src)
{
	switch (src) {
	case QUOTA__LSRC_FREE:
		return ORD_FREE;
	case QUOTA__LSRC_PAYG:
		return ORD_PAYG;
	case QUOTA__LSRC_FEE:
		return ORD_FEE;
	default:
		return ORD_PKG + (src - QUOTA__LSRC_PKG);
	}
}

static int32_t order_source(uint64_t ord)
{
	if (ord == ORD_FREE)
		return QUOTA_SOURCE_FREE;
	if (ord == ORD_PAYG)
		return QUOTA_SOURCE_PAYG;
	if (ord == ORD_FEE)
		return QUOTA_SOURCE_FEE;
	if (ord == ORD_RENEW)
		return QUOTA_SOURCE_RENEWAL;
	return QUOTA_SOURCE_PACKAGE;
}

static int rep_cmp(const void *x, const void *y)
{
	const rep *p = x, *q = y;

	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return 0;
}

/* The month [lo, hi) (local day numbers) a report is in, cached: rows of
 * one month come together more often than not. */
typedef struct month_cache {
	int64_t lo, hi;
} month_cache;

/* The period of local hour h, as UTC [*start, *end). */
static void period_of(const quota_account *a, int period, int64_t h,
		      month_cache *mc, int64_t *start, int64_t *end)
{
	int64_t day, y;
	unsigned m, d;

	if (period == QUOTA_PERIOD_HOUR) {
		*start = quota__hour_start(a, h);
		*end = quota__hour_start(a, h + 1); /* R26: may be short */
		return;
	}
	day = quota__hour_day(a, h); /* the local day of ledger hour h */
	if (period == QUOTA_PERIOD_DAY) {
		*start = quota__day_start(a, day); /* R26: 23 or 25 h long */
		*end = quota__day_start(a, day + 1);
		return;
	}
	if (day < mc->lo || day >= mc->hi) {
		quota__civil_from_days(day, &y, &m, &d);
		mc->lo = day - (d - 1);
		mc->hi = m == 12 ? quota__days_from_civil(y + 1, 1, 1)
				 : quota__days_from_civil(y, m + 1, 1);
	}
	*start = quota__day_start(a, mc->lo);
	*end = quota__day_start(a, mc->hi);
}

/* The arguments every report call shares; fn_ok: the callback or writer
 * is there (checked after a, so the message can go on a's context). */
static int check(const quota_account *a, int period, int64_t from,
		 int64_t to, bool fn_ok, const char *who)
{
	if (!a)
		return QUOTA_EINVAL;
	if (!fn_ok)
		return quota__err(a->ctx, QUOTA_EINVAL, "%s: NULL %s", who,
				  strcmp(who, "quota_report") ? "writer"
							       : "callback");
	if (period != QUOTA_PERIOD_HOUR && period != QUOTA_PERIOD_DAY &&
	    period != QUOTA_PERIOD_MONTH)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "%s: period must be QUOTA_PERIOD_HOUR, DAY "
				  "or MONTH, not %d",
				  who, period);
	/* to is an exclusive end: QUOTA_TIME_MAX itself is fine. */
	if (!quota__time_ok(from) || to <= QUOTA_TIME_MIN || to > QUOTA_TIME_MAX)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "%s: time out of range", who);
	if (from >= to)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "%s: from (%lld) must be before to (%lld)",
				  who, (long long)from, (long long)to);
	/* §7: rows before the horizon may be gone; never a partial answer. */
	if (from < a->pruned_before)
		return quota__err(a->ctx, QUOTA_EPRUNED,
				  "%s: account '%s' is pruned before %lld",
				  who, a->id, (long long)a->pruned_before);
	return QUOTA_OK;
}

/* R23: a renewal the report shows: bought, its package still there, due
 * in [from, to). */
static bool renewal_in(const quota__bought *e, int64_t from, int64_t to)
{
	return e->state == QUOTA__RN_DONE && e->renewal && e->at >= from &&
	       e->at < to;
}

/*
 * The report's rows, summed and sorted, in *out (NULL if none; free with
 * quota__free) and their number in *n.  Nothing is emitted here, so a
 * failure leaves the caller's callback untouched.
 */
static int collect(const quota_account *a, int period, int64_t from,
		   int64_t to, rep **out, size_t *n)
{
	const quota__ledger *l = &a->ledger;
	month_cache mc = {0, 0};
	size_t cnt = 0, i, w;
	uint32_t k;
	rep *v;

	*out = NULL;
	*n = 0;
	/* From QUOTA_TIME_MIN is from the start: the local hour of usage at
	 * QUOTA_TIME_MIN in an offset of part of an hour starts before it,
	 * and no other from could report it. */
	if (from == QUOTA_TIME_MIN)
		from = INT64_MIN;
	quota__ledger_fold(a); /* fast charges' pending sums into the rows */
	/* Count first: one allocation of the right size. */
	for (k = 0; k < l->nrows; k++) {
		const quota__lrow *r = &l->rows[k];
		int64_t s = quota__hour_start(a, r->hour);

		if (s >= from && s < to && (r->units || r->cost))
			cnt++;
	}
	for (k = 0; k < quota__rn(a)->nbought; k++) /* R23: renewals */
		cnt += renewal_in(&quota__rn(a)->bought[k], from, to);
	if (!cnt)
		return QUOTA_OK;
	if (cnt > SIZE_MAX / sizeof *v ||
	    !(v = quota__malloc(&a->ctx->mem, cnt * sizeof *v)))
		return quota__nomem(a);
	for (k = 0, i = 0; k < l->nrows; k++) {
		const quota__lrow *r = &l->rows[k];
		int64_t s = quota__hour_start(a, r->hour);

		if (s < from || s >= to || (!r->units && !r->cost))
			continue;
		period_of(a, period, r->hour, &mc, &v[i].start, &v[i].end);
		v[i].key = (uint64_t)r->cat << ORD_BITS | src_order(r->src);
		v[i].pk = r->src >= QUOTA__LSRC_PKG ? r->pk : NULL;
		v[i].units = r->units;
		v[i].cost = r->cost;
		i++;
	}
	for (k = 0; k < quota__rn(a)->nbought; k++) {
		const quota__bought *e = &quota__rn(a)->bought[k];
		const quota_package *p = e->renewal;

		if (!renewal_in(e, from, to))
			continue;
		period_of(a, period, quota__hour_of(a, e->at), &mc, &v[i].start,
			  &v[i].end);
		v[i].key = (uint64_t)__builtin_ctzll(p->categories)
				   << ORD_BITS |
			   ORD_RENEW;
		v[i].pk = p;
		v[i].units = p->units;
		v[i].cost = p->price_micros;
		i++;
	}
	qsort(v, cnt, sizeof *v, rep_cmp);
	/* Merge the rows of one (period, category, source). */
	for (i = 1, w = 0; i < cnt; i++) {
		if (v[i].start == v[w].start && v[i].key == v[w].key) {
			if (quota__add_ovf(v[w].units, v[i].units,
					   &v[w].units) ||
			    quota__add_ovf(v[w].cost, v[i].cost, &v[w].cost)) {
				quota__free(&a->ctx->mem, v);
				return quota__err(a->ctx, QUOTA_EOVERFLOW,
						  "account '%s': report sums "
						  "overflow",
						  a->id);
			}
		} else {
			v[++w] = v[i];
		}
	}
	*out = v;
	*n = w + 1;
	return QUOTA_OK;
}

static void fill_row(const quota_account *a, int period, const rep *p,
		     quota_report_row *row)
{
	row->account = a;
	row->period = period;
	row->start = p->start;
	row->end = p->end;
	row->category = (uint32_t)(p->key >> ORD_BITS);
	row->source = order_source(p->key & ((UINT64_C(1) << ORD_BITS) - 1));
	row->package = p->pk;
	row->units = p->units;
	row->cost_micros = p->cost;
}

int quota_report(const quota_account *a, int period, int64_t from, int64_t to,
		 quota_report_fn fn, void *ud)
{
	quota_report_row row;
	size_t n, i;
	rep *v;
	int rc;

	if ((rc = check(a, period, from, to, fn != NULL, "quota_report")) ||
	    (rc = collect(a, period, from, to, &v, &n)))
		return rc;
	for (i = 0; i < n; i++) {
		if (!v[i].units && !v[i].cost)
			continue; /* reversed whole */
		fill_row(a, period, &v[i], &row);
		if ((rc = fn(&row, ud))) {
			quota__free(&a->ctx->mem, v);
			return quota__err(a->ctx, QUOTA_ESTORE,
					  "account '%s': report callback "
					  "returned %d",
					  a->id, rc);
		}
	}
	quota__free(&a->ctx->mem, v);
	quota__ok(a->ctx);
	return QUOTA_OK;
}

/* ------------------------------------------------------------------ CSV */

/*
 * Longest CSV line: account and package ids quoted with every byte a
 * doubled quote, the category name the same, two timestamps
 * ("10000-01-01T00:00:00+18:00:00" is 29), two int64s (20), "month",
 * "package", 8 commas and the newline.  A longer field (none should be)
 * is written in pieces rather than cut.
 */
#define CSV_TIME_MAX 32
#define CSV_INT_MAX 21
#define CSV_LINE_MAX                                                       \
	(2 * (2 * QUOTA_ID_MAX + 2) + (2 * QUOTA_CATEGORY_NAME_MAX + 2) +   \
	 2 * CSV_TIME_MAX + 2 * CSV_INT_MAX + 5 + 7 + 8 + 1)

typedef struct csv {
	quota_write_fn write;
	void *ud;
	int rc; /* what the writer returned, once it failed */
	size_t n;
	char buf[CSV_LINE_MAX];
} csv;

static void csv_flush(csv *c)
{
	if (c->n && !c->rc)
		c->rc = c->write(c->buf, c->n, c->ud);
	c->n = 0;
}

static void csv_put(csv *c, const char *s, size_t len)
{
	while (len) {
		size_t k = sizeof c->buf - c->n;

		if (!k) {
			csv_flush(c);
			k = sizeof c->buf;
		}
		if (k > len)
			k = len;
		memcpy(c->buf + c->n, s, k);
		c->n += k;
		s += k;
		len -= k;
	}
}

static void csv_puts(csv *c, const char *s)
{
	csv_put(c, s, strlen(s));
}

/* A text field, quoted (RFC 4180) when it holds a comma, quote, CR or LF. */
static void csv_field(csv *c, const char *s)
{
	const char *q;

	if (!s[strcspn(s, ",\"\r\n")]) {
		csv_puts(c, s);
		return;
	}
	csv_put(c, "\"", 1);
	while ((q = strchr(s, '"'))) {
		csv_put(c, s, (size_t)(q - s) + 1);
		csv_put(c, "\"", 1); /* the quote doubled */
		s = q + 1;
	}
	csv_puts(c, s);
	csv_put(c, "\"", 1);
}

/* Decimal digits of v; no snprintf on the per-row path. */
static void csv_int(csv *c, int64_t v)
{
	char b[CSV_INT_MAX];
	size_t i = sizeof b;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		b[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		b[--i] = '-';
	csv_put(c, b + i, sizeof b - i);
}

/* n decimal digits of v (>= 0), zero-padded. */
static char *digits(char *p, int64_t v, int n)
{
	int i;

	for (i = n; i-- > 0; v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* ISO 8601 local time of utc in the account's offset, e.g.
 * 2024-05-01T00:00:00+08:00 (+HH:MM:SS if the offset has seconds). */
static void csv_time(csv *c, int64_t utc, int32_t off)
{
	char b[CSV_TIME_MAX], *p = b;
	int64_t local = utc + off, day = quota__day_of(local), y;
	int64_t sod = local - day * QUOTA__DAY;
	int32_t ao = off < 0 ? -off : off;
	unsigned m, d;

	quota__civil_from_days(day, &y, &m, &d);
	p = digits(p, y, y >= 10000 ? 5 : 4); /* y in 0..10000 */
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, sod / 3600, 2);
	*p++ = ':';
	p = digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = digits(p, sod % 60, 2);
	*p++ = off < 0 ? '-' : '+';
	p = digits(p, ao / 3600, 2);
	*p++ = ':';
	p = digits(p, ao / 60 % 60, 2);
	if (ao % 60) {
		*p++ = ':';
		p = digits(p, ao % 60, 2);
	}
	csv_put(c, b, (size_t)(p - b));
}

static const char *const period_name[] = {
	[QUOTA_PERIOD_DAY] = "day",
	[QUOTA_PERIOD_MONTH] = "month",
	[QUOTA_PERIOD_HOUR] = "hour",
};

static const char *const source_name[] = {
	[QUOTA_SOURCE_FREE] = "free",
	[QUOTA_SOURCE_PACKAGE] = "package",
	[QUOTA_SOURCE_PAYG] = "payg",
	[QUOTA_SOURCE_FEE] = "fee",
	[QUOTA_SOURCE_RENEWAL] = "renewal",
};

/* The column names are part of the interface: never renamed or
 * reordered, only appended to (quota_report(3)). */
#define CSV_HEADER \
	"account,period,start,end,category,source,package,units,cost_micros\n"

static void csv_row(csv *c, const quota_account *a, const quota_report_row *r)
{
	csv_field(c, a->id);
	csv_put(c, ",", 1);
	csv_puts(c, period_name[r->period]);
	csv_put(c, ",", 1);
	csv_time(c, r->start, (int32_t)(quota__local(a, r->start) - r->start));
	csv_put(c, ",", 1);
	csv_time(c, r->end, (int32_t)(quota__local(a, r->end) - r->end));
	csv_put(c, ",", 1);
	csv_field(c, a->ctx->category[r->category]);
	csv_put(c, ",", 1);
	csv_puts(c, source_name[r->source]);
	csv_put(c, ",", 1);
	if (r->package)
		csv_field(c, r->package->id);
	csv_put(c, ",", 1);
	csv_int(c, r->units);
	csv_put(c, ",", 1);
	csv_int(c, r->cost_micros);
	csv_put(c, "\n", 1);
	csv_flush(c);
}

int quota_report_csv(const quota_account *a, int period, int64_t from,
		     int64_t to, quota_write_fn write, void *ud)
{
	quota_report_row row;
	size_t n, i;
	rep *v;
	csv c;
	int rc;

	if ((rc = check(a, period, from, to, write != NULL,
			"quota_report_csv")) ||
	    (rc = collect(a, period, from, to, &v, &n)))
		return rc;
	c.write = write;
	c.ud = ud;
	c.rc = 0;
	c.n = 0;
	/* The header goes out only once the rows are known: a failure before
	 * it writes nothing at all. */
	csv_puts(&c, CSV_HEADER);
	csv_flush(&c);
	for (i = 0; i < n && !c.rc; i++) {
		if (!v[i].units && !v[i].cost)
			continue; /* reversed whole */
		fill_row(a, period, &v[i], &row);
		csv_row(&c, a, &row);
	}
	quota__free(&a->ctx->mem, v);
	if (c.rc)
		return quota__err(a->ctx, QUOTA_ESTORE,
				  "account '%s': CSV writer returned %d",
				  a->id, c.rc);
	quota__ok(a->ctx);
	return QUOTA_OK;
}

static int file_write(const char *buf, size_t len, void *ud)
{
	return fwrite(buf, 1, len, (FILE *)ud) != len;
}

int quota_report_csv_file(const quota_account *a, int period, int64_t from,
			  int64_t to, FILE *f)
{
	int rc;

	if (!a)
		return QUOTA_EINVAL;
	if (!f)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "quota_report_csv_file: NULL file");
	if ((rc = quota_report_csv(a, period, from, to, file_write, f)))
		return rc;
	/* Buffered bytes that cannot be written are a failed report too. */
	if (fflush(f))
		return quota__err(a->ctx, QUOTA_ESTORE,
				  "account '%s': writing the CSV file failed",
				  a->id);
	return QUOTA_OK;
}
