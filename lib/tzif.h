/*
 * tzif.h - time zone rules (R26) decoded from TZif bytes (RFC 8536,
 * versions 1 to 3, and 4, which differs only in leap-second tables): a
 * table of UTC instants at which the offset changes, and the POSIX TZ
 * rule the file's footer gives for the times after the last of them.
 * Everything in int64_t seconds.  Owned by tzif.c.
 */
#ifndef QUOTA_TZIF_H
#define QUOTA_TZIF_H

#include "quota_int.h"

#include <stdbool.h>
#include <stdint.h>

/* The offsets libquota takes, zones and fixed offsets alike (+-18 h). */
#define QUOTA__OFF_MAX (18 * 3600)

/* A date of a POSIX TZ rule: Jn (1..365, no Feb 29), n (0..365), or
 * Mm.w.d; time: seconds after local midnight (-167 h..167 h). */
typedef struct quota__tzdate {
	uint8_t kind; /* 'J', 'n' or 'M' */
	uint16_t day; /* J, n */
	uint8_t m, w, d;
	int32_t time;
} quota__tzdate;

typedef struct quota__tzrule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool dst;                 /* has daylight saving time */
	quota__tzdate start, end; /* to DST (in standard time), back */
} quota__tzrule;

typedef struct quota__tz {
	uint32_t n;       /* transitions */
	int64_t *at;      /* their UTC instants, ascending (n of them) */
	int32_t *off;     /* the offset from at[i] on (in at's block) */
	int32_t off0;     /* before the first one */
	bool rule;        /* a footer rule for the times from rule_from on */
	int64_t rule_from; /* the file's last transition (INT64_MIN: none) */
	quota__tzrule r;
} quota__tz;

/*
 * Decode len bytes of TZif into *tz (allocated through mem; consecutive
 * transitions to the same offset merged).  QUOTA_ECORRUPT for bytes that
 * are not TZif, truncated or inconsistent, QUOTA_EINVAL for a file libquota
 * does not take (leap seconds, an offset beyond +-18 h), QUOTA_ENOMEM;
 * why in msg (room: 128 bytes).  On failure *tz holds nothing to free.
 */
int quota__tzif_parse(const quota__mem *mem, const void *bytes, size_t len,
		      quota__tz *tz, char *msg);
/* A POSIX TZ string (a footer's) into *r; false if malformed. */
bool quota__tz_rule_parse(const char *s, size_t n, bool *present,
			  quota__tzrule *r);
void quota__tz_free(const quota__mem *mem, quota__tz *tz);
/* The offset in force at UTC instant t, and the interval [*lo, *hi)
 * around t where it holds (lo <= t < hi). */
int32_t quota__tz_offset(const quota__tz *tz, int64_t t, int64_t *lo,
			 int64_t *hi);
/* The first UTC instant whose local time is at or after local (the
 * start of a local day when local is a midnight). */
int64_t quota__tz_local_start(const quota__tz *tz, int64_t local);

#endif /* QUOTA_TZIF_H */
