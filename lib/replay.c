/*
 * replay.c - quota_journal_apply: a record (quota_journal(5)) applied to a
 * context, the other half of the journal step (journal.c).
 *
 * A record carries its call's inputs and effects.  Charges and
 * reservations are applied from their recorded sources (free units,
 * package draws, pay-as-you-go lines) through the same steps as the live
 * call, so they are never priced again; a release applies its recorded
 * fee.  The other operations are deterministic given the state the
 * record applies to (tariffs in use never change, §5) and replay through
 * their own calls, with journaling and events off.
 *
 * With QUOTA_JOURNAL_CHECK the call is planned again from its inputs and
 * the plan compared with the recorded effects before anything applies.
 */
#include "journal.h"

#include <string.h>

typedef struct rec {
	quota__rbuf r;
	unsigned op;
	uint64_t seq;
	char id[QUOTA_ID_MAX + 1];
	size_t id_len;
	int64_t clock;
	bool check;
	uint8_t minor; /* the format's minor version that wrote it */
} rec;

/* A decoded value that a call takes as uint32_t or int: in range, or the
 * record is corrupt (never narrowed into another valid value). */
static bool u32_ok(int64_t v)
{
	return v >= 0 && v <= UINT32_MAX;
}
static bool int_ok(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static int corrupt(quota_ctx *ctx, const rec *x, const char *what)
{
	return quota__err(ctx, QUOTA_ECORRUPT,
			  "journal record %llu (op %u%s%s%s): %s",
			  (unsigned long long)x->seq, x->op,
			  x->id[0] ? ", account '" : "", x->id,
			  x->id[0] ? "'" : "", what);
}

/* A call that replay ran refused the record: the journal and the state
 * disagree (memory stays retryable). */
static int refused(quota_ctx *ctx, const rec *x, int rc)
{
	char msg[QUOTA__ERRMSG_MAX];

	if (rc == QUOTA_ENOMEM || rc == QUOTA_OK)
		return rc;
	memcpy(msg, ctx->errmsg, sizeof msg);
	msg[sizeof msg - 1] = '\0';
	return quota__err(ctx, QUOTA_ECORRUPT,
			  "journal record %llu (op %u): refused with %s: %s",
			  (unsigned long long)x->seq, x->op,
			  quota_err_name(rc), msg);
}

/* ---------------------------------------------------------- the frame */

int quota_journal_size(const void *p, size_t avail, size_t *size)
{
	const uint8_t *b = p;
	uint32_t body;

	if (size)
		*size = 0;
	if (!p || !size)
		return QUOTA_EINVAL;
	if (avail < QUOTA__FRAME)
		return QUOTA_ECORRUPT;
	body = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
	if (body < 5 || body > QUOTA_JOURNAL_RECORD_MAX)
		return QUOTA_ECORRUPT;
	*size = QUOTA__FRAME + (size_t)body;
	return avail < *size ? QUOTA_ECORRUPT : QUOTA_OK;
}

/* Frame and header: length, checksum, version, op, sequence, account,
 * clock.  On success x->r reads the op's own fields. */
static int open_rec(quota_ctx *ctx, const void *p, size_t len, rec *x)
{
	quota__rbuf *r = &x->r;
	size_t size;
	uint32_t crc;
	uint8_t major;

	x->op = 0;
	x->seq = 0;
	x->id[0] = '\0';
	x->id_len = 0;
	x->check = false;
	x->minor = 0;
	memset(&x->r, 0, sizeof x->r);
	if (quota_journal_size(p, len, &size) || size != len)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "journal record: bad length (%zu bytes)",
				  len);
	r->p = p;
	r->n = len;
	r->off = 4;
	crc = quota__get_u32(r);
	if (crc != quota__crc32c(0, r->p + QUOTA__FRAME, len - QUOTA__FRAME))
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "journal record: checksum mismatch");
	major = quota__get_u8(r);
	/* minor: fields 1.1 added (a settlement's forfeited gift money);
	 * a record of 1.0 is applied by 1.0's rules (settle.c, through
	 * ctx->rec_minor while it applies) */
	x->minor = quota__get_u8(r);
	if (major > QUOTA__JOURNAL_MAJOR)
		return quota__err(ctx, QUOTA_EVERSION,
				  "journal record: format version %u, this "
				  "library reads up to %u",
				  major, QUOTA__JOURNAL_MAJOR);
	if (major == 0)
		return quota__err(ctx, QUOTA_ECORRUPT,
				  "journal record: format version 0");
	x->op = quota__get_u8(r);
	x->seq = quota__get_uv(r);
	x->id_len = quota__get_str(r, x->id, QUOTA_ID_MAX);
	x->clock = quota__get_sv(r);
	if (r->bad || x->seq == 0)
		return corrupt(ctx, x, "bad header");
	if ((x->id[0] == '\0') != (x->op >= QUOTA__R_CATEGORY_ADD))
		return corrupt(ctx, x, "operation does not match its stream");
	/* quota_journal(5): a str is UTF-8; the configuration stream's
	 * clock is 0, and an account's first record has the clock of an
	 * account that has seen no time (every other is checked against
	 * the account's when applied) */
	if (x->id_len && !quota__utf8_valid(x->id, x->id_len, &size))
		return corrupt(ctx, x, "account id is not UTF-8");
	if (!x->id[0] ? x->clock != 0
		      : x->op == QUOTA__R_ACCOUNT_NEW && x->clock != INT64_MIN)
		return corrupt(ctx, x, "the clock is not the stream's");
	return QUOTA_OK;
}

/* For stores: a record checked as apply checks it first, not applied. */
int quota_journal_peek(quota_ctx *ctx, const void *p, size_t len, char *id,
		       uint64_t *seq)
{
	rec x;
	int rc;

	if (seq)
		*seq = 0;
	if (id)
		*id = '\0';
	if (!p || !id || !seq)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_journal_peek: NULL argument");
	if ((rc = open_rec(ctx, p, len, &x)))
		return rc;
	memcpy(id, x.id, strlen(x.id) + 1);
	*seq = x.seq;
	return QUOTA_OK;
}

/* ----------------------------------------------- charges and holds */

static void read_usage(quota__rbuf *r, quota_usage *u, char *key)
{
	memset(u, 0, sizeof *u);
	u->category = (uint32_t)quota__get_uv_max(r, QUOTA_MAX_CATEGORIES);
	u->units = quota__get_sv(r);
	u->at = quota__get_sv(r);
	u->key = quota__get_str(r, key, QUOTA_KEY_MAX) ? key : NULL;
}

/* The recorded sources as a plan (draws in ctx->scratch), checked
 * against the account so that apply cannot go wrong. */
static int read_plan(quota_account *a, const quota_usage *u, rec *x,
		     quota__plan *pl)
{
	quota__rbuf *r = &x->r;
	quota__src *s = &pl->s;
	uint64_t n;
	uint32_t i, j;

	memset(s, 0, sizeof *s); /* the rest of the plan is apply's scratch */
	s->paygs = pl->paygs;
	s->draws = a->ctx->scratch;
	s->cat = u->category;
	s->units = u->units;
	s->at = u->at;
	if (s->cat >= a->ctx->ncategories || s->units <= 0 ||
	    !quota__time_ok(s->at))
		return corrupt(a->ctx, x, "bad usage");
	s->day = quota__day_of(quota__local(a, s->at));
	s->month = quota__account_month(a, s->day);
	s->free = quota__get_sv(r);
	n = quota__get_uv_max(r, a->npackages);
	for (i = 0; i < n && !r->bad; i++) {
		uint64_t seq = quota__get_uv_max(r, a->npackages - 1);
		quota_package *pk = a->packages[seq];
		int64_t units = quota__get_sv(r);

		for (j = 0; j < i; j++)
			if (s->draws[j].pk == pk)
				r->bad = true;
		if (units <= 0 || units > pk->remaining ||
		    !(pk->categories & QUOTA_MASK(s->cat)) ||
		    quota__add_ovf(s->pkg, units, &s->pkg))
			r->bad = true;
		s->draws[i].pk = pk;
		s->draws[i].units = units;
	}
	s->ndraws = (uint32_t)n;
	n = quota__get_uv_max(r, QUOTA__MAX_TIERS);
	for (i = 0; i < n && !r->bad; i++) {
		quota__payg *l = &pl->paygs[i];
		int64_t cost;

		l->tier = (uint32_t)quota__get_uv_max(r, QUOTA__MAX_TIERS - 1);
		l->units = quota__get_sv(r);
		l->price = quota__get_sv(r);
		l->cost = quota__get_sv(r);
		if (l->units < 0 || l->price < 0 ||
		    quota__mul_ovf(l->units, l->price, &cost) ||
		    cost != l->cost || quota__add_ovf(s->payg, l->units, &s->payg) ||
		    quota__add_ovf(s->cost, l->cost, &s->cost))
			r->bad = true;
	}
	s->npayg = (uint32_t)n;
	if (r->bad || s->free < 0 || s->free > s->units ||
	    s->units - s->free != s->pkg + s->payg)
		return corrupt(a->ctx, x, "bad sources");
	return QUOTA_OK;
}

/* Check mode: the call planned again from its inputs must give the
 * recorded sources (read from x->r in the same order). */
static int same_plan(quota_account *a, rec *x, const quota__plan *pl)
{
	quota__rbuf *r = &x->r;
	const quota__src *s = &pl->s;
	bool same = quota__get_sv(r) == s->free &&
		    quota__get_uv(r) == s->ndraws;
	uint32_t i;

	for (i = 0; same && i < s->ndraws; i++)
		same = quota__get_uv(r) == s->draws[i].pk->seq &&
		       quota__get_sv(r) == s->draws[i].units;
	same = same && quota__get_uv(r) == s->npayg;
	for (i = 0; same && i < s->npayg; i++)
		same = quota__get_uv(r) == s->paygs[i].tier &&
		       quota__get_sv(r) == s->paygs[i].units &&
		       quota__get_sv(r) == s->paygs[i].price &&
		       quota__get_sv(r) == s->paygs[i].cost;
	if (!same || r->bad)
		return corrupt(a->ctx, x,
			       "the call planned again does not give the "
			       "recorded effects");
	return QUOTA_OK;
}

static int replay_usage(quota_account *a, rec *x)
{
	char key[QUOTA_KEY_MAX + 1];
	quota__plan pl;
	quota_usage u;
	int64_t timeout = 0;
	uint64_t hold;
	int rc;

	read_usage(&x->r, &u, key);
	if (x->op == QUOTA__R_RESERVE) {
		timeout = quota__get_sv(&x->r);
		if (timeout <= 0 || !quota__time_ok(u.at) ||
		    u.at > QUOTA_TIME_MAX - timeout)
			return corrupt(a->ctx, x, "bad hold timeout");
	}
	if (x->r.bad)
		return corrupt(a->ctx, x, "truncated");
	if (quota__check_key_rec(a->ctx, u.key))
		return corrupt(a->ctx, x, "its key is not 1 to 64 bytes of UTF-8");
	if (u.key && quota__key_find(a, u.key))
		return corrupt(a->ctx, x, "its key is already stored");
	if (x->check) {
		if ((rc = quota__plan_usage(a, &u, &pl)))
			return refused(a->ctx, x, rc);
		if ((rc = same_plan(a, x, &pl)))
			return rc;
	} else if ((rc = read_plan(a, &u, x, &pl))) {
		return rc;
	}
	if (x->r.off != x->r.n)
		return corrupt(a->ctx, x, "trailing bytes");
	if (x->op == QUOTA__R_CHARGE)
		rc = quota__charge_planned(a, &u, &pl, NULL);
	else
		rc = quota__reserve_planned(a, &u, timeout, &pl, NULL, &hold);
	return refused(a->ctx, x, rc);
}

static int replay_resolve(quota_account *a, rec *x)
{
	char key[QUOTA_KEY_MAX + 1];
	uint64_t id = quota__get_uv(&x->r);
	int64_t used = quota__get_sv(&x->r), fee;
	const char *k = quota__get_str(&x->r, key, QUOTA_KEY_MAX) ? key
								  : NULL;
	bool release = x->op != QUOTA__R_COMMIT;
	int64_t reason = 0;
	int rc;

	fee = quota__get_sv(&x->r);
	if (x->op == QUOTA__R_RELEASE_REASON) { /* R27 */
		reason = quota__get_sv(&x->r);
		if (reason < 1 || reason > QUOTA_FAIL_REASON_MAX)
			return corrupt(a->ctx, x, "bad failure reason");
	}
	if (x->r.bad || x->r.off != x->r.n || fee < 0 ||
	    (release ? used != 0 : fee != 0))
		return corrupt(a->ctx, x, "bad fields");
	if (quota__check_key_rec(a->ctx, k))
		return corrupt(a->ctx, x, "its key is not 1 to 64 bytes of UTF-8");
	if (k && quota__key_find(a, k))
		return corrupt(a->ctx, x, "its key is already stored");
	if (x->check && release) {
		int64_t want;

		if ((rc = quota__release_fee(a, id, (int32_t)reason, &want)))
			return refused(a->ctx, x, rc);
		if (want != fee)
			return corrupt(a->ctx, x,
				       "the recorded fee is not the tariff's");
	}
	rc = quota__resolve(a, id, used, k, NULL, release, (int32_t)reason,
			    &fee);
	return refused(a->ctx, x, rc);
}

/* --------------------------------------------- the other operations */

static int replay_tick(quota_account *a, rec *x)
{
	int64_t now = quota__get_sv(&x->r), n;
	uint64_t count = quota__get_uv_max(&x->r, UINT32_MAX);
	int rc;

	if (x->r.bad || !quota__time_ok(now))
		return corrupt(a->ctx, x, "bad fields");
	if ((rc = quota__tick_check(a, now, (uint32_t)count, &x->r)))
		return corrupt(a->ctx, x,
			       "the holds it names are not the holds due");
	if (x->r.off != x->r.n)
		return corrupt(a->ctx, x, "trailing bytes");
	n = quota_account_tick(a, now);
	return refused(a->ctx, x, n < 0 ? (int)n : QUOTA_OK);
}

static void read_spec(quota__rbuf *r, quota_package_spec *s, char *id)
{
	memset(s, 0, sizeof *s);
	quota__get_str(r, id, QUOTA_ID_MAX);
	s->id = id;
	s->categories = quota__get_u64(r);
	s->units = quota__get_sv(r);
	s->effective_at = quota__get_sv(r);
	s->expires_at = quota__get_sv(r);
	s->price_micros = quota__get_sv(r);
	s->flags = (uint32_t)quota__get_uv_max(r, UINT32_MAX);
	s->priority = (int32_t)quota__get_sv(r);
}

static int replay_buy(quota_account *a, rec *x, quota_package_spec *s)
{
	char oid[QUOTA_ID_MAX + 1];
	quota_voucher v;
	quota__buy buy;
	quota_offer *o;
	quota__split rec_split = {0, 0, 0};
	bool has_split = false;
	int64_t purchased;
	int rc;

	memset(&buy, 0, sizeof buy);
	quota__get_str(&x->r, oid, QUOTA_ID_MAX);
	o = oid[0] ? quota__strmap_get(&a->ctx->offer_ids, &a->ctx->hkey,
				       oid)
		   : NULL;
	buy.o = o; /* R23: a package of an offer in the context */
	buy.offer = oid;
	buy.quantity = quota__get_sv(&x->r);
	buy.at = quota__get_sv(&x->r);
	buy.list_price = quota__get_sv(&x->r);
	buy.discount = quota__get_sv(&x->r);
	memset(&v, 0, sizeof v);
	v.kind = (int32_t)quota__get_sv(&x->r);
	v.value = quota__get_sv(&x->r);
	v.min_spend_micros = quota__get_sv(&x->r);
	buy.voucher = v.kind ? &v : NULL;
	if (x->op == QUOTA__R_RENEW) { /* R23: the package renewed */
		uint64_t i = quota__get_uv(&x->r);

		if (x->r.bad || !quota__renew_valid(a, i, o))
			return corrupt(a->ctx, x, "bad renewal");
		buy.renews = i + 1;
	}
	/* R24: the split, last: always in record 30, in a renewal's when
	 * gift money or credit paid part of it. */
	if (x->op == QUOTA__R_PACKAGE_BUY_SPLIT ||
	    (x->op == QUOTA__R_RENEW && x->r.off != x->r.n)) {
		has_split = true;
		rec_split.gift = quota__get_sv(&x->r);
		rec_split.cash = quota__get_sv(&x->r);
		rec_split.credit = quota__get_sv(&x->r);
	}
	/* R24: the buckets pay it now as they did (a cash purchase's record
	 * names no split: all cash). */
	if (x->r.bad || x->r.off != x->r.n || s->price_micros < 0 ||
	    quota__add_ovf(a->x->purchased, s->price_micros, &purchased) ||
	    !quota__time_ok(buy.at) ||
	    quota__money_buy_split(a, s->price_micros, buy.at, &buy.split) ||
	    buy.split.gift != rec_split.gift ||
	    buy.split.credit != rec_split.credit ||
	    (has_split &&
	     (buy.split.cash != rec_split.cash ||
	      !(rec_split.gift || rec_split.credit))))
		return corrupt(a->ctx, x, "bad purchase");
	if (x->check) {
		quota_purchase pu;

		if ((rc = quota_offer_find(a->ctx, oid, &o)) ||
		    (rc = quota_package_quote(a, o, buy.quantity, buy.voucher,
					      buy.at, &pu)))
			return refused(a->ctx, x, rc);
		if (pu.units != s->units || pu.price_micros != s->price_micros ||
		    pu.effective_at != s->effective_at ||
		    pu.expires_at != s->expires_at ||
		    pu.list_price_micros != buy.list_price ||
		    pu.discount_micros != buy.discount)
			return corrupt(a->ctx, x,
				       "the purchase quoted again differs");
	}
	return refused(a->ctx, x, quota__package_add(a, s, &buy, NULL));
}

/*
 * The signed fields of the records that are a call's inputs, in order,
 * and the range its call takes each in: A any int64_t, U uint32_t, I int
 * (QUOTA_ALL is a uint32_t).  Out of range is corrupt, never narrowed.
 */
static const char *const setter_fields[QUOTA__R_ACCOUNT_LAST + 1] = {
	[QUOTA__R_REVERSE] = "A",        /* after the key: time */
	[QUOTA__R_TOPUP] = "AA",         /* amount, time */
	[QUOTA__R_CREDIT_LIMIT] = "A",   /* amount */
	[QUOTA__R_UTC_OFFSET] = "I",     /* seconds */
	[QUOTA__R_CAP] = "UIA",          /* category, period, units */
	[QUOTA__R_OVERAGE] = "UI",       /* category, policy */
	[QUOTA__R_KEY_WINDOW] = "UA",    /* keys, age */
	[QUOTA__R_ALERT] = "UAI",        /* category, level, unit */
	[QUOTA__R_EXPIRY_WARNING] = "A", /* seconds */
	[QUOTA__R_SETTLEMENT] = "IAI",   /* period, minor unit, rounding */
	[QUOTA__R_RETENTION] = "AU",     /* seconds, what */
	[QUOTA__R_BLOCK] = "A",          /* after the reason: time */
	[QUOTA__R_UNBLOCK] = "A",        /* time */
	[QUOTA__R_RECEIPTS] = "I",       /* on */
	[QUOTA__R_GIFT_GRANT] = "AAAA",  /* amount, expiry, time, forfeit */
	[QUOTA__R_PAY_ORDER] = "IU",     /* order, flags */
};

static int replay_account(quota_ctx *ctx, quota_account *a, rec *x)
{
	quota__rbuf *r = &x->r;
	char name[QUOTA_ID_MAX + 1], why[QUOTA_REASON_MAX + 1];
	quota_package_spec spec;
	int64_t v[4] = {0, 0, 0, 0};
	uint64_t u1 = 0;
	uint32_t k;
	quota_tariff *t = NULL;
	int rc;

	switch (x->op) {
	case QUOTA__R_CHARGE:
	case QUOTA__R_RESERVE:
		return replay_usage(a, x);
	case QUOTA__R_COMMIT:
	case QUOTA__R_RELEASE:
	case QUOTA__R_RELEASE_REASON:
		return replay_resolve(a, x);
	case QUOTA__R_TICK:
		return replay_tick(a, x);
	case QUOTA__R_RENEWAL_SET: /* R23 */
	case QUOTA__R_RENEWAL_CLEAR:
	case QUOTA__R_RENEW_FAILED:
		rc = quota__renew_replay(a, x->op, r, x->check);
		if (rc == QUOTA_ECORRUPT)
			return corrupt(ctx, x, "bad fields");
		return refused(ctx, x, rc);
	case QUOTA__R_PACKAGE_ADD:
	case QUOTA__R_PACKAGE_BUY:
	case QUOTA__R_PACKAGE_BUY_SPLIT:
	case QUOTA__R_RENEW:
		read_spec(r, &spec, name);
		if (x->op != QUOTA__R_PACKAGE_ADD)
			return replay_buy(a, x, &spec);
		if (r->bad || r->off != r->n)
			return corrupt(ctx, x, "bad fields");
		return refused(ctx, x, quota_package_add(a, &spec, NULL));
	case QUOTA__R_SETTLE: {
		int64_t n;

		v[0] = quota__get_sv(r);
		if (r->bad || !quota__time_ok(v[0]))
			return corrupt(ctx, x, "bad fields");
		n = quota__settle(a, v[0], NULL, NULL, r);
		if (n >= 0 && r->off != r->n)
			return corrupt(ctx, x, "trailing bytes");
		return refused(ctx, x, n < 0 ? (int)n : QUOTA_OK);
	}
	case QUOTA__R_ZONE_SET: { /* R26: the zone's name, its bytes' hash */
		quota_zone *z = NULL;
		size_t n = quota__get_str(r, name, QUOTA_ID_MAX);

		u1 = quota__get_u64(r);
		if (r->bad || r->off != r->n || (!n && u1))
			return corrupt(ctx, x, "bad fields");
		if (n && (rc = quota__zone_named(ctx, name, u1, &z)))
			return refused(ctx, x, rc);
		return refused(ctx, x, quota_account_set_zone(a, z));
	}
	case QUOTA__R_PRUNE: {
		int64_t before = quota__get_sv(r);
		uint64_t what = quota__get_uv(r);

		if (r->bad || what > UINT32_MAX)
			return corrupt(ctx, x, "bad fields");
		return refused(ctx, x,
			       quota__prune(a, before, (uint32_t)what, r));
	}
	default:
		break;
	}
	/* The rest: the record is the call's inputs (a key or a tariff
	 * name first, for two of them), then signed fields. */
	if (x->op == QUOTA__R_TARIFF)
		u1 = quota__get_uv_max(r, QUOTA_MAX_CATEGORIES);
	if (x->op == QUOTA__R_TARIFF || x->op == QUOTA__R_REVERSE)
		quota__get_str(r, name, QUOTA_ID_MAX);
	if (x->op == QUOTA__R_BLOCK)
		quota__get_str(r, why, QUOTA_REASON_MAX);
	for (k = 0; setter_fields[x->op] && setter_fields[x->op][k]; k++) {
		char f = setter_fields[x->op][k];

		v[k] = quota__get_sv(r);
		if ((f == 'U' && !u32_ok(v[k])) || (f == 'I' && !int_ok(v[k])))
			return corrupt(ctx, x, "a field out of range");
	}
	if (r->bad || r->off != r->n)
		return corrupt(ctx, x, "bad fields");
	switch (x->op) {
	case QUOTA__R_REVERSE:
		rc = quota__reverse(a, name, v[0], NULL);
		break;
	case QUOTA__R_BLOCK: /* R25; an empty reason is none */
		rc = quota_account_block(a, why[0] ? why : NULL, v[0]);
		break;
	case QUOTA__R_UNBLOCK:
		rc = quota_account_unblock(a, v[0]);
		break;
	case QUOTA__R_RECEIPTS: /* R27 */
		rc = quota_account_keep_receipts(a, (int)v[0]);
		break;
	case QUOTA__R_GIFT_GRANT: /* R24: the forfeit is checked */
		rc = quota__gift_grant(a, v[0], v[1], v[2], &v[3]);
		if (rc == QUOTA_ECORRUPT)
			return corrupt(ctx, x, "the grant forfeits otherwise");
		break;
	case QUOTA__R_PAY_ORDER:
		rc = quota_account_set_pay_order(a, (int32_t)v[0],
						 (uint32_t)v[1]);
		break;
	case QUOTA__R_TOPUP:
		rc = quota_account_topup(a, v[0], v[1]);
		break;
	case QUOTA__R_CREDIT_LIMIT:
		rc = quota_account_set_credit_limit(a, v[0]);
		break;
	case QUOTA__R_UTC_OFFSET:
		rc = quota_account_set_utc_offset(a, (int32_t)v[0]);
		break;
	case QUOTA__R_TARIFF:
		rc = name[0] ? quota_tariff_find(ctx, name, &t) : QUOTA_OK;
		if (!rc)
			rc = quota_account_set_tariff(a, (uint32_t)u1, t);
		break;
	case QUOTA__R_CAP: /* (category or QUOTA_ALL, period, units) */
		rc = quota_account_set_cap(a, (uint32_t)v[0], (int)v[1], v[2]);
		break;
	case QUOTA__R_OVERAGE:
		rc = quota_account_set_overage(a, (uint32_t)v[0], (int)v[1]);
		break;
	case QUOTA__R_KEY_WINDOW:
		rc = quota_account_set_key_window(a, (uint32_t)v[0], v[1]);
		break;
	case QUOTA__R_ALERT:
		rc = quota_account_add_alert(a, (uint32_t)v[0], v[1], (int)v[2]);
		break;
	case QUOTA__R_EXPIRY_WARNING:
		rc = quota_account_set_expiry_warning(a, v[0]);
		break;
	case QUOTA__R_SETTLEMENT:
		rc = quota_account_set_settlement(a, (int)v[0], v[1], (int)v[2]);
		break;
	case QUOTA__R_RETENTION:
		rc = quota_account_set_retention(a, v[0], (uint32_t)v[1]);
		break;
	default:
		return corrupt(ctx, x, "unknown operation");
	}
	return refused(ctx, x, rc);
}

static int replay_config(quota_ctx *ctx, rec *x)
{
	quota__rbuf *r = &x->r;
	char name[QUOTA_ID_MAX + 1], tname[QUOTA_ID_MAX + 1];
	quota_tariff *t = NULL;
	quota_offer_spec os;
	quota_offer *o;
	int64_t v1 = 0, v2 = 0;
	int rc;

	quota__get_str(r, name, QUOTA_ID_MAX);
	if (x->op == QUOTA__R_ZONE) { /* R26: name, then the TZif bytes */
		quota_zone *z;
		uint64_t n = quota__get_uv(r);

		if (r->bad || n != r->n - r->off)
			return corrupt(ctx, x, "bad fields");
		return refused(ctx, x,
			       quota_zone_from_tzif(ctx, name, r->p + r->off,
						    (size_t)n, &z));
	}
	if (x->op == QUOTA__R_OFFER_ADD) {
		memset(&os, 0, sizeof os);
		os.id = name;
		os.categories = quota__get_u64(r);
		os.units = quota__get_sv(r);
		os.price_micros = quota__get_sv(r);
		quota__get_str(r, tname, QUOTA_ID_MAX);
		os.min_units = quota__get_sv(r);
		os.step_units = quota__get_sv(r);
		os.max_units = quota__get_sv(r);
		os.valid_months = (int32_t)quota__get_sv(r);
		os.valid_days = (int32_t)quota__get_sv(r);
		os.flags = (uint32_t)quota__get_uv_max(r, UINT32_MAX);
		os.priority = (int32_t)quota__get_sv(r);
		if (r->bad || r->off != r->n)
			return corrupt(ctx, x, "bad fields");
		if (tname[0] && (rc = quota_tariff_find(ctx, tname, &t)))
			return refused(ctx, x, rc);
		os.unit_tariff = t;
		return refused(ctx, x, quota_offer_add(ctx, &os, &o));
	}
	if (x->op != QUOTA__R_CATEGORY_ADD && x->op != QUOTA__R_TARIFF_NEW)
		v1 = quota__get_sv(r);
	if (x->op == QUOTA__R_TARIFF_TIER || x->op == QUOTA__R_TARIFF_FREE ||
	    x->op == QUOTA__R_TARIFF_FAILURE_FEE_REASON)
		v2 = quota__get_sv(r);
	if (r->bad || r->off != r->n)
		return corrupt(ctx, x, "bad fields");
	if ((x->op == QUOTA__R_TARIFF_MODE && !int_ok(v1)) ||
	    (x->op == QUOTA__R_TARIFF_FAILURE_FEE_REASON && !int_ok(v1)) ||
	    (x->op == QUOTA__R_TARIFF_FREE && !int_ok(v2)))
		return corrupt(ctx, x, "a field out of range");
	if (x->op == QUOTA__R_CATEGORY_ADD) {
		uint32_t id;

		return refused(ctx, x, quota_category_add(ctx, name, &id));
	}
	if (x->op == QUOTA__R_TARIFF_NEW)
		return refused(ctx, x, quota_tariff_new(ctx, name, &t));
	if ((rc = quota_tariff_find(ctx, name, &t)))
		return refused(ctx, x, rc);
	switch (x->op) {
	case QUOTA__R_TARIFF_TIER:
		rc = quota_tariff_add_tier(t, v1, v2);
		break;
	case QUOTA__R_TARIFF_MODE:
		rc = quota_tariff_set_mode(t, (int)v1);
		break;
	case QUOTA__R_TARIFF_FREE:
		rc = quota_tariff_set_free(t, v1, (int)v2);
		break;
	case QUOTA__R_TARIFF_FREE_DAILY:
		rc = quota_tariff_set_free_daily_limit(t, v1);
		break;
	case QUOTA__R_TARIFF_FAILURE_FEE:
		rc = quota_tariff_set_failure_fee(t, v1);
		break;
	case QUOTA__R_TARIFF_FAILURE_FEE_REASON: /* R27: reason, fee */
		rc = quota_tariff_set_failure_fee_reason(t, (int32_t)v1, v2);
		break;
	default:
		return corrupt(ctx, x, "unknown operation");
	}
	return refused(ctx, x, rc);
}

/* ----------------------------------------------------------- the call */

int quota_journal_apply(quota_ctx *ctx, const void *p, size_t len,
			uint32_t flags)
{
	quota_account *a = NULL;
	bool was;
	rec x;
	int rc;

	if (!ctx || !p)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_journal_apply: NULL argument");
	if (flags & ~(uint32_t)QUOTA_JOURNAL_CHECK)
		return quota__err(ctx, QUOTA_EINVAL,
				  "quota_journal_apply: unknown flags 0x%x",
				  (unsigned)flags);
	if ((rc = open_rec(ctx, p, len, &x)))
		return rc;
	x.check = flags & QUOTA_JOURNAL_CHECK;
	if (x.id[0]) {
		a = quota__account_get_hint(ctx, x.id, x.id_len);
		if (!a && x.op != QUOTA__R_ACCOUNT_NEW)
			return quota__err(ctx, QUOTA_ENOTFOUND,
					  "journal record %llu: no account "
					  "'%s' (its records start with its "
					  "creation, or load a snapshot "
					  "first)",
					  (unsigned long long)x.seq, x.id);
		if ((a ? a->seq + 1 : 1) != x.seq)
			return quota__err(ctx, QUOTA_ESEQUENCE,
					  "journal record %llu of account "
					  "'%s': the account is at %llu",
					  (unsigned long long)x.seq, x.id,
					  (unsigned long long)(a ? a->seq
								 : 0));
		if (a && a->clock != x.clock)
			return corrupt(ctx, &x,
				       "the account's clock is not the "
				       "recorded one");
		if (x.op > QUOTA__R_ACCOUNT_LAST)
			return corrupt(ctx, &x, "unknown operation");
	} else {
		if (ctx->config_seq + 1 != x.seq)
			return quota__err(ctx, QUOTA_ESEQUENCE,
					  "journal record %llu of the "
					  "configuration: it is at %llu",
					  (unsigned long long)x.seq,
					  (unsigned long long)ctx->config_seq);
		if (x.op > QUOTA__R_CONFIG_LAST)
			return corrupt(ctx, &x, "unknown operation");
	}
	was = ctx->replaying;
	ctx->replaying = true;
	ctx->rec_minor = x.minor;
	if (a && x.op == QUOTA__R_ACCOUNT_NEW) {
		/* an account reset to before its first record (seq 0) */
		rc = x.r.off != x.r.n ? corrupt(ctx, &x, "trailing bytes")
				      : QUOTA_OK;
	} else if (!a && x.id[0]) {
		if (x.r.off != x.r.n)
			rc = corrupt(ctx, &x, "trailing bytes");
		else
			rc = refused(ctx, &x,
				     quota_account_new(ctx, x.id, &a));
	} else if (a) {
		rc = replay_account(ctx, a, &x);
	} else {
		rc = replay_config(ctx, &x);
	}
	ctx->replaying = was;
	if (rc)
		return rc;
	if (a)
		a->seq = x.seq;
	else
		ctx->config_seq = x.seq;
	quota__ok(ctx);
	return QUOTA_OK;
}
