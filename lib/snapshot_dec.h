/*
 * snapshot_dec.h - the snapshot decoder's state and checks, shared by
 * snapshot_load.c (the header, the sections of minor 0 and the entry
 * points) and snapshot_rules.c (the sections later minors added).
 * Private to those two files.
 */
#ifndef QUOTA_SNAPSHOT_DEC_H
#define QUOTA_SNAPSHOT_DEC_H

#include "snapshot.h"

typedef struct dec {
	quota__rbuf r;
	quota_ctx *ctx;
	quota_account *a;
	uint64_t known;     /* the categories of the snapshot's table */
	quota__draw *draws; /* room for cap_draws draws */
	size_t cap_draws;
	quota__payg paygs[QUOTA__MAX_TIERS];
	int rc;             /* the first error other than ECORRUPT */
} dec;

/* n items of at least `each` bytes fit in what is left (so a hostile
 * count allocates nothing); else the input is bad. */
static inline bool fits(dec *d, uint64_t n, size_t each)
{
	if (d->r.bad || n > (d->r.n - d->r.off) / each) {
		d->r.bad = true;
		return false;
	}
	return true;
}

/* A value the decoder refuses: the snapshot is corrupt. */
static inline bool bad(dec *d)
{
	d->r.bad = true;
	return false;
}

/* A failure of a restore step: ENOMEM and ENOTFOUND stand, anything
 * else means the input described a state the calls cannot make. */
static inline bool failed(dec *d, int rc)
{
	if (!rc)
		return false;
	if (rc == QUOTA_ENOMEM || rc == QUOTA_ENOTFOUND)
		d->rc = rc;
	d->r.bad = true;
	return true;
}

/* The sections of minors 1 to 5 (snapshot_rules.c), in the body's order
 * after the key window's and the bills': false when the input is bad
 * (d->rc set for ENOMEM or ENOTFOUND). */
bool quota__snap_get_pruning(dec *d);
bool quota__snap_get_block(dec *d);
bool quota__snap_get_zone(dec *d);
bool quota__snap_get_gift(dec *d);
bool quota__snap_get_renew(dec *d);

#endif /* QUOTA_SNAPSHOT_DEC_H */
