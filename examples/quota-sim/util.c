/*
 * util.c - money and time for quota-sim: exact decimal money in micros,
 * ISO 8601 and Unix times, the proleptic Gregorian calendar.
 */
#include "qsim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void qs_errf(qs_err *e, int64_t line, int64_t col, const char *fmt, ...)
{
	va_list ap;

	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

/* Out of memory ends the program: a simulation has nothing to keep. */
void *qs_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fputs("quota-sim: out of memory\n", stderr);
		exit(QS_EXIT_FAIL);
	}
	return p;
}

/* Grow an array to hold need elements, doubling. */
void *qs_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = realloc(p, c * size);
	if (!p) {
		fputs("quota-sim: out of memory\n", stderr);
		exit(QS_EXIT_FAIL);
	}
	memset((char *)p + *cap * size, 0, (c - *cap) * size);
	*cap = c;
	return p;
}

char *qs_strndup(const char *s, size_t n)
{
	char *d = qs_alloc(n + 1);

	memcpy(d, s, n);
	return d;
}

bool qs_add(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

bool qs_mul(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

bool qs_int_parse(const char *s, size_t n, int64_t max, int64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* 19 digits are below 10^19 < 2^64: no step can overflow, so the
	 * bound is one test at the end (a division a digit was a third of
	 * reading a trace line) */
	if (n == 0 || n > 19 || max < 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)((unsigned char)s[i] - '0');

		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	if (v > (uint64_t)max)
		return false;
	*out = (int64_t)v;
	return true;
}

bool qs_money_parse(const char *s, size_t n, int64_t *out, const char **why)
{
	size_t i = 0, ndig = 0, nfrac = 0;
	bool neg = false, dot = false;
	int64_t v = 0;

	*why = "not an amount (digits, optionally a point and up to 6 decimals)";
	if (n && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (dot && ++nfrac > 6) {
			*why = "more than 6 decimals (money is counted in "
			       "millionths)";
			return false;
		}
		ndig++;
		if (!qs_mul(v, 10, &v) || !qs_add(v, s[i] - '0', &v)) {
			*why = "amount out of range";
			return false;
		}
	}
	if (!ndig)
		return false;
	for (; nfrac < 6; nfrac++)
		if (!qs_mul(v, 10, &v)) {
			*why = "amount out of range";
			return false;
		}
	*out = neg ? -v : v;
	return true;
}

char *qs_money_fmt(char buf[32], int64_t m)
{
	uint64_t u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	char frac[8];
	int k;

	snprintf(frac, sizeof frac, "%06u", (unsigned)(u % 1000000));
	for (k = 6; k > 2 && frac[k - 1] == '0'; k--)
		;
	frac[k] = 0;
	snprintf(buf, 32, "%s%llu.%s", m < 0 ? "-" : "",
		 (unsigned long long)(u / 1000000), frac);
	return buf;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01. */
int64_t qs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void qs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int32_t qs_month_of(int64_t t, int32_t off)
{
	int64_t y;
	unsigned m, d;

	qs_civil_from_days(floordiv(t + off, 86400), &y, &m, &d);
	return (int32_t)(y * 12 + (m - 1));
}

int64_t qs_month_start(int32_t mo, int32_t off)
{
	int64_t y = floordiv(mo, 12);
	unsigned m = (unsigned)(mo - y * 12) + 1;

	return qs_days_from_civil(y, m, 1) * 86400 - off;
}

char *qs_month_fmt(char buf[16], int32_t mo)
{
	int64_t y = floordiv(mo, 12);

	snprintf(buf, 16, "%04d-%02d", (int)(y % 100000),
		 (int)(mo - y * 12) % 100 + 1);
	return buf;
}

char *qs_offset_fmt(char buf[16], int32_t off)
{
	int32_t a = off < 0 ? -off : off;

	snprintf(buf, 16, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600),
		 (int)(a % 3600 / 60));
	return buf;
}

char *qs_time_fmt(char buf[40], int64_t t, int32_t off)
{
	int64_t l, days, s, y;
	unsigned m, d;
	char z[16];

	/* before the addition: QUOTA_NEVER + a positive offset overflows */
	if (t == QUOTA_NEVER) {
		snprintf(buf, 40, "never");
		return buf;
	}
	l = t + off;
	days = floordiv(l, 86400);
	s = l - days * 86400;
	qs_civil_from_days(days, &y, &m, &d);
	if (off)
		qs_offset_fmt(z, off);
	else
		strcpy(z, "Z");
	snprintf(buf, 40, "%04lld-%02u-%02uT%02d:%02d:%02d%s", (long long)y, m,
		 d, (int)(s / 3600), (int)(s % 3600 / 60), (int)(s % 60), z);
	return buf;
}

/* n digits at s[*i] into *v; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *v)
{
	int k;

	*v = 0;
	for (k = 0; k < n; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return false;
		*v = *v * 10 + (s[*i] - '0');
	}
	return true;
}

static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30,
					31, 31, 30, 31, 30, 31};

bool qs_time_parse(const char *s, size_t n, int64_t *out, size_t *col,
		   const char **why)
{
	size_t i = 0;
	int y, mo, d, h = 0, mi = 0, se = 0, zh, zm;
	int64_t off = 0, t;

	*col = 0;
	*why = "not a time (ISO 8601 such as 2024-05-01T08:00:00Z, or Unix "
	       "seconds)";
	if (n == 0)
		return false;
	/* Unix seconds: all digits (a sign allowed), no dash after the
	 * first character. */
	for (i = (s[0] == '-'); i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n && n > (size_t)(s[0] == '-')) {
		int64_t v;

		if (!qs_int_parse(s + (s[0] == '-'), n - (s[0] == '-'),
				  INT64_MAX, &v) ||
		    v >= QUOTA_TIME_MAX) {
			*why = "time out of range";
			return false;
		}
		t = s[0] == '-' ? -v : v;
		if (t < QUOTA_TIME_MIN) {
			*why = "time out of range";
			return false;
		}
		*out = t;
		return true;
	}
	i = 0;
	if (!digits(s, n, &i, 4, &y) || i >= n || s[i] != '-')
		goto bad;
	i++;
	if (!digits(s, n, &i, 2, &mo) || i >= n || s[i] != '-')
		goto bad;
	i++;
	if (!digits(s, n, &i, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12) {
		*col = 5;
		*why = "month out of range";
		return false;
	}
	if (d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 &&
	     !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))) {
		*col = 8;
		*why = "day out of range for its month";
		return false;
	}
	if (i < n && (s[i] == 'T' || s[i] == ' ')) {
		i++;
		if (!digits(s, n, &i, 2, &h) || i >= n || s[i] != ':')
			goto bad;
		i++;
		if (!digits(s, n, &i, 2, &mi))
			goto bad;
		if (i < n && s[i] == ':') {
			i++;
			if (!digits(s, n, &i, 2, &se))
				goto bad;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				size_t f = ++i;

				while (i < n && s[i] >= '0' && s[i] <= '9')
					i++;
				if (i == f)
					goto bad;
			}
		}
		if (h > 23 || mi > 59 || se > 60) {
			*col = 11;
			*why = "hour, minute or second out of range";
			return false;
		}
		if (se == 60)
			se = 59; /* a leap second counts as the one before */
		if (i < n && s[i] == 'Z')
			i++;
		else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i] == '-' ? -1 : 1;

			i++;
			if (!digits(s, n, &i, 2, &zh))
				goto bad;
			if (i < n && s[i] == ':')
				i++;
			if (!digits(s, n, &i, 2, &zm))
				goto bad;
			if (zh > 18 || zm > 59) {
				*why = "UTC offset out of range";
				return false;
			}
			off = sign * (zh * 3600 + zm * 60);
		}
	}
	if (i != n)
		goto bad;
	t = qs_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se - off;
	if (t < QUOTA_TIME_MIN || t >= QUOTA_TIME_MAX) {
		*why = "time out of range";
		return false;
	}
	*out = t;
	return true;
bad:
	*col = i;
	return false;
}
