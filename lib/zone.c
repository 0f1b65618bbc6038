/*
 * zone.c - time zones (R26): the context's zones (their only writer),
 * an account's choice of one, and the local time of an account's
 * calendar, fixed offset or zone.
 *
 * Durability (§5): creating a zone is a configuration record carrying the
 * zone's name and its TZif bytes, so replay anywhere rebuilds the same
 * rules whatever tz database the replaying machine has.  An account's
 * choice is an account record naming the zone and the hash of its bytes;
 * replay and snapshot loading refuse a context whose zone of that name
 * has other bytes.
 */
#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef QUOTA_ZONEINFO_DIR
#define QUOTA_ZONEINFO_DIR "/usr/share/zoneinfo"
#endif
/* Real TZif files are a few KB; a larger one is not one. */
#define TZIF_MAX (UINT32_C(1) << 20)

/* The hash records and snapshots name a zone's bytes by: SipHash-2-4
 * under a fixed key (not the context's secret one: it is stored). */
static uint64_t tzif_hash(const void *p, size_t n)
{
	static const quota__hkey k = {UINT64_C(0x52323620747a6966),
				      UINT64_C(0x6c6962716f746121)};

	return quota__siphash(&k, 2, 4, p, n);
}

quota_zone *quota__zone_get(const quota_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->nzones; i++)
		if (strcmp(ctx->zones[i]->name, name) == 0)
			return ctx->zones[i];
	return NULL;
}

static void zone_free(const quota__mem *mem, quota_zone *z)
{
	if (!z)
		return;
	quota__tz_free(mem, &z->tz);
	quota__free(mem, z->name);
	quota__free(mem, z);
}

void quota__zones_free(quota_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nzones; i++)
		zone_free(&ctx->mem, ctx->zones[i]);
	quota__free(&ctx->mem, ctx->zones);
	ctx->zones = NULL;
	ctx->nzones = ctx->cap_zones = 0;
}

/* quota_zone_from_tzif through the write path (§5). */
struct zone_op {
	quota_ctx *ctx;
	const char *name;
	const void *bytes;
	size_t len;
	quota_zone **out;
	quota_zone *z; /* prepare's zone, not yet linked */
};

static int zone_prepare(void *v)
{
	struct zone_op *op = v;
	quota_ctx *ctx = op->ctx;
	quota_zone *z, *old;
	quota__tz tz;
	char msg[128];
	int rc;

	if (!op->name || !op->bytes || !op->out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_zone_from_tzif: NULL argument");
	if ((rc = quota__check_name(ctx, "zone name", op->name,
				    QUOTA_ID_MAX)))
		return rc;
	if (op->len > TZIF_MAX)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "zone '%s': %zu bytes is no TZif file",
				  op->name, op->len);
	if ((old = quota__zone_get(ctx, op->name))) {
		if (old->hash != tzif_hash(op->bytes, op->len))
			return quota__err(ctx, QUOTA_EEXISTS,
					  "zone '%s': the context has it "
					  "with other rules",
					  op->name);
		*op->out = old; /* the same zone again: nothing to do */
		return QUOTA__NOTHING;
	}
	/* The bytes first: a refused file leaves nothing allocated. */
	if ((rc = quota__tzif_parse(&ctx->mem, op->bytes, op->len, &tz,
				    msg)))
		return quota__err(ctx, rc, "zone '%s': %s", op->name, msg);
	if (quota__grow(&ctx->mem, (void **)&ctx->zones, &ctx->cap_zones,
			ctx->nzones + 1, sizeof *ctx->zones) ||
	    !(z = quota__calloc(&ctx->mem, 1, sizeof *z))) {
		quota__tz_free(&ctx->mem, &tz);
		goto nomem;
	}
	z->tz = tz;
	z->name = quota__strdup(&ctx->mem, op->name);
	if (!z->name) {
		zone_free(&ctx->mem, z);
		goto nomem;
	}
	z->ctx = ctx;
	z->hash = tzif_hash(op->bytes, op->len);
	op->z = z;
	return QUOTA_OK;
nomem:
	return quota__err(ctx, QUOTA_ENOMEM, "zone '%s': out of memory",
			  op->name);
}

static void zone_encode(quota__wbuf *w, const void *v)
{
	const struct zone_op *op = v;

	quota__put_str(w, op->name);
	quota__put_uv(w, op->len);
	quota__put_bytes(w, op->bytes, op->len);
}

static void zone_apply(void *v)
{
	struct zone_op *op = v;

	op->ctx->zones[op->ctx->nzones++] = op->z;
	*op->out = op->z;
}

static void zone_undo(void *v)
{
	struct zone_op *op = v;

	zone_free(&op->ctx->mem, op->z);
}

static const quota__step zone_steps = {
	.rec = QUOTA__R_ZONE,
	.prepare = zone_prepare,
	.encode = zone_encode,
	.apply = zone_apply,
	.undo = zone_undo,
};

int quota_zone_from_tzif(quota_ctx *ctx, const char *name, const void *tzif,
			 size_t len, quota_zone **out)
{
	struct zone_op op = {ctx, name, tzif, len, out, NULL};
	int rc;

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	rc = quota__write(ctx, NULL, &zone_steps, &op);
	return rc == QUOTA__NOTHING ? QUOTA_OK : rc;
}

/* A tz database name: '/'-separated parts of letters, digits and
 * . _ + -, none empty, "." or "..": nothing outside the directory. */
static bool zone_name_ok(const char *s)
{
	size_t part = 0, dots = 0, n = 0;

	for (;; s++, n++) {
		char c = *s;

		if (c == '/' || c == '\0') {
			if (!part || dots == part)
				return false; /* empty, "." or ".." (or "...") */
			if (!c)
				return n <= QUOTA_ID_MAX;
			part = dots = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return false;
		part++;
		dots += c == '.';
	}
}

int quota_zone_load(quota_ctx *ctx, const char *name, quota_zone **out)
{
	char path[sizeof QUOTA_ZONEINFO_DIR + QUOTA_ID_MAX + 2];
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	quota_zone *z;
	FILE *f;
	int rc;

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	if (!name || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_zone_load: NULL argument");
	if (!zone_name_ok(name))
		return quota__err(ctx, QUOTA_EINVAL,
				  "zone name '%.*s': not a tz database name",
				  QUOTA_ID_MAX, name);
	if ((z = quota__zone_get(ctx, name))) { /* loaded already */
		*out = z;
		quota__ok(ctx);
		return QUOTA_OK;
	}
	snprintf(path, sizeof path, "%s/%s", QUOTA_ZONEINFO_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		return quota__err(ctx, QUOTA_ENOTFOUND, "zone '%s': %s: %s",
				  name, path, strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap &&
		    (cap >= TZIF_MAX ||
		     quota__grow(&ctx->mem, (void **)&buf, &cap,
				 cap ? cap * 2 : 4096, 1))) {
			fclose(f);
			quota__free(&ctx->mem, buf);
			return cap >= TZIF_MAX
				       ? quota__err(ctx, QUOTA_ECORRUPT,
						    "zone '%s': %s is too "
						    "large for a TZif file",
						    name, path)
				       : quota__err(ctx, QUOTA_ENOMEM,
						    "zone '%s': out of memory",
						    name);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	rc = ferror(f);
	fclose(f);
	if (rc) {
		quota__free(&ctx->mem, buf);
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "zone '%s': cannot read %s", name, path);
	}
	rc = quota_zone_from_tzif(ctx, name, buf, n, out);
	quota__free(&ctx->mem, buf);
	return rc;
}

int quota_zone_find(const quota_ctx *cctx, const char *name, quota_zone **out)
{
	quota_ctx *ctx = (quota_ctx *)cctx; /* errmsg is scratch */

	if (out)
		*out = NULL;
	if (!ctx)
		return QUOTA_EINVAL;
	if (!name || !out)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_zone_find: NULL argument");
	*out = quota__zone_get(ctx, name);
	if (!*out)
		return quota__err(ctx, QUOTA_ENOTFOUND, "no zone '%.*s'",
				  QUOTA_ID_MAX, name);
	quota__ok(ctx);
	return QUOTA_OK;
}

const char *quota_zone_name(const quota_zone *z)
{
	return z ? z->name : NULL;
}

int quota_zone_offset(const quota_zone *z, int64_t at, int32_t *offset)
{
	int64_t lo, hi;

	if (offset)
		*offset = 0;
	if (!z || !offset)
		return QUOTA_EINVAL;
	if (!quota__time_ok(at))
		return quota__err(z->ctx, QUOTA_EINVAL,
				  "zone '%s': time out of range", z->name);
	*offset = quota__tz_offset(&z->tz, at, &lo, &hi);
	quota__ok(z->ctx);
	return QUOTA_OK;
}

/* ------------------------------------------------- an account's zone */

/* quota_account_set_zone through the write path (§5). */
struct set_zone_op {
	quota_account *a;
	quota_zone *z;
};

static int set_zone_prepare(void *v)
{
	const struct set_zone_op *op = v;
	const quota_account *a = op->a;

	if (op->z && op->z->ctx != a->ctx)
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': zone '%s' is of another "
				  "context",
				  a->id, op->z->name);
	/* As with the offset (quota_account_set_utc_offset). */
	if ((op->z != a->x->zone || (!op->z && a->utc_offset)) &&
	    quota__has_usage(a))
		return quota__err(a->ctx, QUOTA_EINVAL,
				  "account '%s': has usage; set the zone "
				  "before charging or reserving",
				  a->id);
	return QUOTA_OK;
}

static void set_zone_encode(quota__wbuf *w, const void *v)
{
	const quota_zone *z = ((const struct set_zone_op *)v)->z;

	quota__put_str(w, z ? z->name : NULL);
	quota__put_u64(w, z ? z->hash : 0);
}

void quota__zone_attach(quota_account *a, const quota_zone *z)
{
	a->x->zone = z;
	a->zoned = z != NULL;
	a->utc_offset = 0;
	/* A zone's cache starts empty; an offset holds for all time. */
	a->off_lo = INT64_MIN;
	a->off_span = z ? 0 : UINT64_MAX;
	quota__ledger_uncache(a); /* cached hours begin at local hours */
}

static void set_zone_apply(void *v)
{
	struct set_zone_op *op = v;

	quota__zone_attach(op->a, op->z);
}

static const quota__step set_zone_steps = {
	.rec = QUOTA__R_ZONE_SET,
	.prepare = set_zone_prepare,
	.encode = set_zone_encode,
	.apply = set_zone_apply,
	.ext = true,
};

int quota_account_set_zone(quota_account *a, quota_zone *z)
{
	struct set_zone_op op = {a, z};

	if (!a)
		return QUOTA_EINVAL;
	return quota__write(a->ctx, a, &set_zone_steps, &op);
}

quota_zone *quota_account_zone(const quota_account *a)
{
	return a ? (quota_zone *)a->x->zone : NULL;
}

/* Replay and snapshots: the zone of ctx that name and hash say, or a
 * refusal saying why not. */
int quota__zone_named(quota_ctx *ctx, const char *name, uint64_t hash,
		      quota_zone **out)
{
	quota_zone *z = quota__zone_get(ctx, name);

	*out = z;
	if (!z)
		return quota__err(ctx, QUOTA_ENOTFOUND,
				  "no zone '%s' in the context (its "
				  "configuration records create it)",
				  name);
	if (z->hash != hash)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "zone '%s' of the context has other rules "
				  "than the account's",
				  name);
	return QUOTA_OK;
}

/* ------------------------------------------------------ local time */

int64_t quota__local_slow(const quota_account *ca, int64_t at)
{
	/* Only the cache moves: a context is used by one thread at a
	 * time (quota.h), so a read may refill it. */
	quota_account *a = (quota_account *)ca;
	int64_t lo, hi;
	int32_t off;

	if (!a->zoned)
		return at + a->utc_offset;
	off = quota__tz_offset(&a->x->zone->tz, at, &lo, &hi);
	a->utc_offset = off;
	a->off_lo = lo;
	a->off_span = (uint64_t)hi - (uint64_t)lo; /* lo < hi */
	return at + off;
}

int64_t quota__utc_of_local(const quota_account *a, int64_t local)
{
	if (!a->zoned)
		return local - a->utc_offset;
	return quota__tz_local_start(&a->x->zone->tz, local);
}

int64_t quota__zone_hour_of(const quota_account *a, int64_t at)
{
	int64_t day = quota__day_of(quota__local(a, at));

	return day * QUOTA__ZONE_HOURS + (at - quota__day_start(a, day)) / 3600;
}

int64_t quota__zone_hour_start(const quota_account *a, int64_t hour)
{
	int64_t day = quota__floor_div(hour, QUOTA__ZONE_HOURS);
	int64_t s = quota__day_start(a, day) +
		    (hour - day * QUOTA__ZONE_HOURS) * 3600;
	int64_t end = quota__day_start(a, day + 1);

	return s < end ? s : end;
}
