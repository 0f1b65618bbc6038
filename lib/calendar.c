/*
 * calendar.c - civil dates from Unix days and back, proleptic Gregorian,
 * pure integer arithmetic: no TZ, no localtime (calendar periods R9, R13,
 * R15 are computed in the account's fixed UTC offset).
 * The algorithms are Howard Hinnant's "chrono-compatible low-level date
 * algorithms" (days_from_civil / civil_from_days).
 */
#include "ctx.h"

int64_t quota__days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void quota__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int64_t quota__month_of_day(int64_t day)
{
	int64_t y;
	unsigned m, d;

	quota__civil_from_days(day, &y, &m, &d);
	return y * 12 + (m - 1);
}
