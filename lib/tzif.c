/*
 * tzif.c - the TZif decoder and the offset lookups of time zones (R26).
 *
 * A TZif file (RFC 8536) holds a version 1 block of 32-bit times, then
 * (version 2 on) the same data with 64-bit times and a footer: a POSIX TZ
 * string for the times after the last transition.  Only the 64-bit block
 * is read when there is one.  Of each local time type only the UTC offset
 * matters here (no abbreviations, no DST flag): transitions that leave the
 * offset as it was are dropped.  Every count is checked against the bytes
 * there are before anything is allocated, so a hostile file costs at most
 * its own size in memory.
 */
#include "tzif.h"
#include "ctx.h"

#include <stdio.h>
#include <string.h>

#define HDR 44 /* "TZif", version, 15 reserved, six 32-bit counts */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64s(const uint8_t *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);

	return v <= (uint64_t)INT64_MAX ? (int64_t)v
					: -(int64_t)(~v) - 1;
}

static int32_t be32s(const uint8_t *p)
{
	uint32_t v = be32(p);

	return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

typedef struct hdr {
	uint8_t version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
	uint64_t size; /* of the data block after it, for time size ts */
} hdr;

/* A header at p (n bytes there) and the size of its data block. */
static const char *read_hdr(const uint8_t *p, size_t n, unsigned ts, hdr *h)
{
	if (n < HDR)
		return "truncated header";
	if (memcmp(p, "TZif", 4))
		return "no TZif magic";
	h->version = p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4'))
		return "unknown version";
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->typecnt == 0 || h->charcnt == 0)
		return "no local time types";
	if ((h->isutcnt && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt && h->isstdcnt != h->typecnt))
		return "indicator counts differ from the type count";
	/* u32 counts times at most 12: no overflow in 64 bits. */
	h->size = (uint64_t)h->timecnt * ts + h->timecnt +
		  (uint64_t)h->typecnt * 6 + h->charcnt +
		  (uint64_t)h->leapcnt * (ts + 4) + h->isstdcnt + h->isutcnt;
	if (h->size > n - HDR)
		return "truncated data block";
	return NULL;
}

/* Offset seconds within +-18 h (R26: the bound fixed offsets have). */
static bool off_ok(int64_t o)
{
	return o >= -QUOTA__OFF_MAX && o <= QUOTA__OFF_MAX;
}

/* ------------------------------------------------------- POSIX TZ rule */

typedef struct lex {
	const char *s;
	size_t n, i;
} lex;

static int peek(const lex *l)
{
	return l->i < l->n ? (unsigned char)l->s[l->i] : -1;
}

static bool is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A zone abbreviation: three or more letters, or <...> of letters,
 * digits, '+' and '-'. */
static bool name(lex *l)
{
	size_t k = 0;

	if (peek(l) == '<') {
		l->i++;
		while (is_alpha(peek(l)) || is_digit(peek(l)) ||
		       peek(l) == '+' || peek(l) == '-')
			l->i++, k++;
		if (peek(l) != '>')
			return false;
		l->i++;
		return k >= 3;
	}
	while (is_alpha(peek(l)))
		l->i++, k++;
	return k >= 3;
}

/* An unsigned number of at most `max`. */
static bool num(lex *l, long max, long *v)
{
	long x = 0;

	if (!is_digit(peek(l)))
		return false;
	while (is_digit(peek(l))) {
		x = x * 10 + (peek(l) - '0');
		if (x > max)
			return false;
		l->i++;
	}
	*v = x;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh, in seconds. */
static bool hms(lex *l, long maxh, int32_t *out)
{
	long h, m = 0, s = 0;
	int sign = 1;

	if (peek(l) == '+' || peek(l) == '-')
		sign = l->s[l->i++] == '-' ? -1 : 1;
	if (!num(l, maxh, &h))
		return false;
	if (peek(l) == ':') {
		l->i++;
		if (!num(l, 59, &m))
			return false;
		if (peek(l) == ':') {
			l->i++;
			if (!num(l, 59, &s))
				return false;
		}
	}
	*out = (int32_t)(sign * (h * 3600 + m * 60 + s));
	return true;
}

static bool date(lex *l, quota__tzdate *d)
{
	long v, w, wd;

	if (peek(l) == 'J') {
		l->i++;
		if (!num(l, 365, &v) || v < 1)
			return false;
		d->kind = 'J';
		d->day = (uint16_t)v;
	} else if (peek(l) == 'M') {
		l->i++;
		if (!num(l, 12, &v) || v < 1 || peek(l) != '.')
			return false;
		l->i++;
		if (!num(l, 5, &w) || w < 1 || peek(l) != '.')
			return false;
		l->i++;
		if (!num(l, 6, &wd))
			return false;
		d->kind = 'M';
		d->m = (uint8_t)v;
		d->w = (uint8_t)w;
		d->d = (uint8_t)wd;
	} else {
		if (!num(l, 365, &v))
			return false;
		d->kind = 'n';
		d->day = (uint16_t)v;
	}
	d->time = 7200; /* 02:00 unless given */
	if (peek(l) == '/') {
		l->i++;
		/* RFC 8536 3.3.1: -167 h to 167 h */
		if (!hms(l, 167, &d->time))
			return false;
	}
	return true;
}

/* The footer's rule, e.g. "CET-1CEST,M3.5.0,M10.5.0/3"; an empty one
 * (no rule, *present false) is allowed. */
bool quota__tz_rule_parse(const char *s, size_t n, bool *present,
			  quota__tzrule *r)
{
	lex l = {s, n, 0};
	int32_t o;

	memset(r, 0, sizeof *r);
	*present = n > 0;
	if (!n)
		return true;
	if (!name(&l) || !hms(&l, 24, &o))
		return false;
	r->std_off = -o; /* POSIX offsets are west of Greenwich */
	r->dst_off = r->std_off;
	if (l.i < l.n) {
		if (!name(&l))
			return false;
		r->dst = true;
		r->dst_off = r->std_off + 3600;
		if (peek(&l) != ',' && peek(&l) != -1) {
			if (!hms(&l, 24, &o))
				return false;
			r->dst_off = -o;
		}
		if (peek(&l) == ',') {
			l.i++;
			if (!date(&l, &r->start) || peek(&l) != ',')
				return false;
			l.i++;
			if (!date(&l, &r->end))
				return false;
		} else {
			/* POSIX leaves it to the implementation: the US
			 * rule, as the C libraries use. */
			r->start = (quota__tzdate){'M', 0, 3, 2, 0, 7200};
			r->end = (quota__tzdate){'M', 0, 11, 1, 0, 7200};
		}
	}
	return l.i == l.n && off_ok(r->std_off) && off_ok(r->dst_off);
}

/* The local instant in year y at which date d (and its time) falls. */
static int64_t date_local(int64_t y, const quota__tzdate *d)
{
	int64_t jan1 = quota__days_from_civil(y, 1, 1), day;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (d->kind == 'J') {
		day = jan1 + d->day - 1 + (leap && d->day >= 60);
	} else if (d->kind == 'n') {
		day = jan1 + d->day;
	} else {
		int64_t first = quota__days_from_civil(y, d->m, 1);
		int64_t next = d->m == 12 ? quota__days_from_civil(y + 1, 1, 1)
					  : quota__days_from_civil(y, d->m + 1, 1);
		int64_t wd = ((first + 4) % 7 + 7) % 7; /* 1970-01-01: Thu */

		day = first + (d->d - wd + 7) % 7 + (int64_t)(d->w - 1) * 7;
		while (day >= next)
			day -= 7;
	}
	return day * QUOTA__DAY + d->time;
}

typedef struct ev {
	int64_t at;
	int32_t off; /* after it */
} ev;

/*
 * The rule's offset at t and the interval around t where it holds.  A
 * rule's changes fall within a week of their year (times up to 167 h), so
 * each year has one within any 367 days: the changes of the five years
 * around t hold both the last one at or before t and the first one after
 * it, and so the answer does not depend on which year t is taken in,
 * also for rules whose periods overlap.  The last change wins; at equal
 * instants, a later year's, and in a year the end after the start (a
 * DST period of no length is none; all-year DST stays DST).
 */
static int32_t rule_offset(const quota__tzrule *r, int64_t t, int64_t *lo,
			   int64_t *hi)
{
	ev e[10];
	int64_t y, yy;
	unsigned m, d, i, j, n = 0;
	int32_t off;

	if (!r->dst) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return r->std_off;
	}
	quota__civil_from_days(quota__day_of(t + r->std_off), &y, &m, &d);
	for (yy = y - 2; yy <= y + 2; yy++) {
		/* Start in standard time, end in DST. */
		e[n++] = (ev){date_local(yy, &r->start) - r->std_off,
			      r->dst_off};
		e[n++] = (ev){date_local(yy, &r->end) - r->dst_off,
			      r->std_off};
	}
	for (i = 1; i < n; i++) /* insertion sort, stable */
		for (j = i; j > 0 && e[j - 1].at > e[j].at; j--) {
			ev tmp = e[j];

			e[j] = e[j - 1];
			e[j - 1] = tmp;
		}
	off = r->std_off; /* not used: e[0] is a year before t */
	*lo = t;
	for (i = 0; i < n && e[i].at <= t; i++) {
		off = e[i].off;
		*lo = e[i].at;
	}
	*hi = i < n ? e[i].at : t + 1;
	return off;
}

/* ---------------------------------------------------------- the table */

int32_t quota__tz_offset(const quota__tz *tz, int64_t t, int64_t *lo,
			 int64_t *hi)
{
	uint32_t a = 0, b = tz->n;
	int32_t off;

	if (tz->rule && t >= tz->rule_from) {
		off = rule_offset(&tz->r, t, lo, hi);
		if (*lo < tz->rule_from)
			*lo = tz->rule_from;
		return off;
	}
	if (!tz->n || t < tz->at[0]) {
		*lo = INT64_MIN;
		*hi = tz->n ? tz->at[0] : INT64_MAX;
		off = tz->off0;
	} else {
		while (b - a > 1) { /* at[a] <= t < at[b] (b == n: none) */
			uint32_t mid = a + (b - a) / 2;

			if (tz->at[mid] <= t)
				a = mid;
			else
				b = mid;
		}
		*lo = tz->at[a];
		*hi = b < tz->n ? tz->at[b] : INT64_MAX;
		off = tz->off[a];
	}
	if (tz->rule && *hi > tz->rule_from)
		*hi = tz->rule_from;
	return off;
}

int64_t quota__tz_local_start(const quota__tz *tz, int64_t local)
{
	/* Every offset is within 18 h, so the answer is in this window;
	 * walk its intervals in order and take the first instant of the
	 * first one that reaches local. */
	int64_t t = local - QUOTA__OFF_MAX - 1, lo, hi;

	for (;;) {
		int32_t off = quota__tz_offset(tz, t, &lo, &hi);
		int64_t c = local - off > t ? local - off : t;

		if (c < hi || t >= local + QUOTA__OFF_MAX)
			return c;
		t = hi;
	}
}

void quota__tz_free(const quota__mem *mem, quota__tz *tz)
{
	quota__free(mem, tz->at);
	tz->at = NULL;
	tz->off = NULL;
	tz->n = 0;
}

/* ------------------------------------------------------------ decoder */

#define BAD(why) (snprintf(msg, 128, "%s", why), QUOTA_ECORRUPT)

int quota__tzif_parse(const quota__mem *mem, const void *bytes, size_t len,
		      quota__tz *tz, char *msg)
{
	const uint8_t *p = bytes, *times, *idx, *types;
	const char *why;
	hdr h;
	unsigned ts = 4;
	size_t body;
	uint32_t i, n = 0;
	int32_t prev;

	memset(tz, 0, sizeof *tz);
	if (!p)
		return BAD("no bytes");
	if ((why = read_hdr(p, len, 4, &h)))
		return BAD(why);
	body = HDR + (size_t)h.size;
	if (h.version >= '2') { /* skip to the 64-bit block */
		hdr h2;

		if ((why = read_hdr(p + body, len - body, 8, &h2)))
			return BAD(why);
		if (h2.version != h.version)
			return BAD("the two headers differ in version");
		p += body;
		len -= body;
		h = h2;
		ts = 8;
		body = HDR + (size_t)h.size;
	}
	if (h.leapcnt)
		return snprintf(msg, 128, "leap-second zones are not taken"),
		       QUOTA_EINVAL;
	times = p + HDR;
	idx = times + (size_t)h.timecnt * ts;
	types = idx + h.timecnt;
	for (i = 0; i < h.typecnt; i++) {
		const uint8_t *ti = types + 6 * (size_t)i;

		if (ti[4] > 1 || ti[5] >= h.charcnt)
			return BAD("a bad local time type");
		if (be32(ti) == UINT32_C(0x80000000))
			return BAD("a bad UTC offset");
		if (!off_ok(be32s(ti)))
			return snprintf(msg, 128,
					"a UTC offset beyond +-18 h"),
			       QUOTA_EINVAL;
	}
	for (i = 0; i < h.timecnt; i++) {
		int64_t t = ts == 8 ? be64s(times + 8 * (size_t)i)
				    : be32s(times + 4 * (size_t)i);

		if (idx[i] >= h.typecnt)
			return BAD("a transition to an unknown type");
		if (i && t <= (ts == 8 ? be64s(times + 8 * (size_t)(i - 1))
				       : be32s(times + 4 * (size_t)(i - 1))))
			return BAD("transitions out of order");
	}
	if (ts == 8) { /* the footer: "\n" TZ "\n" */
		const char *f = (const char *)p + body, *e;
		size_t left = len - body;

		if (left < 2 || f[0] != '\n')
			return BAD("no footer");
		e = memchr(f + 1, '\n', left - 1);
		if (!e)
			return BAD("an unterminated footer");
		if (!quota__tz_rule_parse(f + 1, (size_t)(e - f - 1), &tz->rule,
					  &tz->r))
			return BAD("a bad footer rule");
	}
	tz->off0 = be32s(types);
	tz->rule_from = INT64_MIN;
	if (h.timecnt)
		tz->rule_from = ts == 8 ? be64s(times + 8 * (size_t)(h.timecnt - 1))
					: be32s(times + 4 * (size_t)(h.timecnt - 1));
	/* Count the transitions that change the offset, then keep them. */
	prev = tz->off0;
	for (i = 0; i < h.timecnt; i++) {
		int32_t o = be32s(types + 6 * (size_t)idx[i]);

		n += o != prev;
		prev = o;
	}
	if (n) {
		tz->at = quota__malloc(mem, (size_t)n * (sizeof *tz->at +
							 sizeof *tz->off));
		if (!tz->at)
			return snprintf(msg, 128, "out of memory"),
			       QUOTA_ENOMEM;
		tz->off = (int32_t *)(tz->at + n);
	}
	prev = tz->off0;
	for (i = 0; i < h.timecnt; i++) {
		int32_t o = be32s(types + 6 * (size_t)idx[i]);

		if (o != prev) {
			tz->at[tz->n] = ts == 8 ? be64s(times + 8 * (size_t)i)
						: be32s(times + 4 * (size_t)i);
			tz->off[tz->n++] = o;
		}
		prev = o;
	}
	msg[0] = '\0';
	return QUOTA_OK;
}
