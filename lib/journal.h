/*
 * journal.h - the journal step of the one write path (DESIGN §5):
 * prepare -> journal -> apply -> events.
 *
 * Every call that changes state, after it has validated, planned and
 * allocated (changing nothing), writes one record here and hands it to the
 * store; only if the store accepted it does the call apply (which cannot
 * fail) and fire its events.  journal.c is the only writer of the
 * context's store fields and of the sequence numbers (a->seq,
 * ctx->config_seq); replay (quota_journal_apply) is its other half.
 *
 * The record format is quota_journal(5).
 */
#ifndef QUOTA_JOURNAL_H
#define QUOTA_JOURNAL_H

#include "ctx.h"

#define QUOTA__JOURNAL_MAJOR 1
/* 1: a settlement's record ends with the gift money it forfeits, and
 * settlement follows 1.1's rules (quota_journal(5), settle.c). */
#define QUOTA__JOURNAL_MINOR 1
/* Frame: u32 body length, u32 CRC-32C of the body. */
#define QUOTA__FRAME 8

/* Record operations (quota_journal(5) lists their fields). */
enum {
	/* an account's stream */
	QUOTA__R_ACCOUNT_NEW = 1,
	QUOTA__R_CHARGE = 2,
	QUOTA__R_RESERVE = 3,
	QUOTA__R_COMMIT = 4,
	QUOTA__R_RELEASE = 5,
	QUOTA__R_TICK = 6,
	QUOTA__R_REVERSE = 7,
	QUOTA__R_PACKAGE_ADD = 8,
	QUOTA__R_PACKAGE_BUY = 9,
	QUOTA__R_TOPUP = 10,
	QUOTA__R_CREDIT_LIMIT = 11,
	QUOTA__R_SETTLE = 12,
	QUOTA__R_UTC_OFFSET = 13,
	QUOTA__R_TARIFF = 14,
	QUOTA__R_CAP = 15,
	QUOTA__R_OVERAGE = 16,
	QUOTA__R_KEY_WINDOW = 17,
	QUOTA__R_ALERT = 18,
	QUOTA__R_EXPIRY_WARNING = 19,
	QUOTA__R_SETTLEMENT = 20,
	QUOTA__R_PRUNE = 21,
	QUOTA__R_RETENTION = 22,
	/* Issue 15 (R25, R27): */
	QUOTA__R_BLOCK = 23,
	QUOTA__R_UNBLOCK = 24,
	QUOTA__R_RELEASE_REASON = 25,
	QUOTA__R_RECEIPTS = 26,
	/* ---------------------------------------- R26 time zones */
	QUOTA__R_ZONE_SET = 27,
	/* Issue 15 (R24 gift money): */
	QUOTA__R_GIFT_GRANT = 28,
	QUOTA__R_PAY_ORDER = 29,
	QUOTA__R_PACKAGE_BUY_SPLIT = 30,
	/* Issue 15 (R23 auto-renewal, renew.c): */
	QUOTA__R_RENEWAL_SET = 32,
	QUOTA__R_RENEWAL_CLEAR = 33,
	QUOTA__R_RENEW = 34,
	QUOTA__R_RENEW_FAILED = 35,
	QUOTA__R_ACCOUNT_LAST = 35,
	/* the context's configuration stream */
	QUOTA__R_CATEGORY_ADD = 64,
	QUOTA__R_TARIFF_NEW = 65,
	QUOTA__R_TARIFF_TIER = 66,
	QUOTA__R_TARIFF_MODE = 67,
	QUOTA__R_TARIFF_FREE = 68,
	QUOTA__R_TARIFF_FREE_DAILY = 69,
	QUOTA__R_TARIFF_FAILURE_FEE = 70,
	QUOTA__R_OFFER_ADD = 71,
	QUOTA__R_TARIFF_FAILURE_FEE_REASON = 72, /* R27 */
	/* ---------------------------------------- R26 time zones */
	QUOTA__R_ZONE = 73,
	/* 74-75 R24 gift money, 76-77 R23 auto-renewal (issue 15) */
	QUOTA__R_CONFIG_LAST = 73
};

/*
 * The parts of a record as cursor encoders (codec.h): the general path's
 * writers and the fast path's straight-line record are both made of
 * these, so the two write the same bytes.
 *
 * Header (after the frame, which quota__rec_seal fills in): format
 * version, operation, sequence number, account id, account clock (by
 * quota__time_at: quota__sv_at's bytes, a usual time's 5 in one store,
 * within the room HEAD_MAX counts for a varint).  The general and the
 * fast paths' records both start with it.
 */
#define QUOTA__HEAD_MAX (QUOTA__FRAME + 3 + 3 * QUOTA__UV_MAX + QUOTA_ID_MAX)
static inline uint8_t *quota__rec_head_at(uint8_t *p, unsigned op,
					  uint64_t seq, const char *id,
					  size_t id_len, int64_t clock)
{
	p += QUOTA__FRAME;
	p[0] = QUOTA__JOURNAL_MAJOR;
	p[1] = QUOTA__JOURNAL_MINOR;
	p[2] = (uint8_t)op;
	p = quota__uv_at(p + 3, seq);
	p = quota__strn_at(p, id, id_len);
	return quota__time_at(p, clock);
}
/* A draw of a charge's sources: the package's number, the units. */
static inline uint8_t *quota__rec_draw_at(uint8_t *p, uint64_t pk_seq,
					  int64_t units)
{
	return quota__sv_at(quota__uv_at(p, pk_seq), units);
}
/* A pay-as-you-go line: tier, units, unit price, cost. */
static inline uint8_t *quota__rec_payg_at(uint8_t *p, uint32_t tier,
					  int64_t units, int64_t price,
					  int64_t cost)
{
	p = quota__uv_at(p, tier);
	p = quota__sv_at(p, units);
	p = quota__sv_at(p, price);
	return quota__sv_at(p, cost);
}
/* The usage of a charge or reservation: category, units, time, key (k
 * bytes). */
static inline uint8_t *quota__rec_usage_at(uint8_t *p, const quota_usage *u,
					   size_t k)
{
	p = quota__uv_at(p, u->category);
	p = quota__sv_at(p, u->units);
	p = quota__sv_at(p, u->at);
	return quota__strn_at(p, u->key, k);
}
/* The frame of a whole record of n bytes at rec: body length, CRC-32C. */
static inline void quota__rec_seal(uint8_t *rec, size_t n)
{
	uint32_t body = (uint32_t)(n - QUOTA__FRAME),
		 crc = quota__crc32c(0, rec + QUOTA__FRAME, body);

	for (int i = 0; i < 4; i++) {
		rec[i] = (uint8_t)(body >> (8 * i));
		rec[4 + i] = (uint8_t)(crc >> (8 * i));
	}
}

/*
 * Start the record of op for account a (NULL: the configuration stream).
 * *w is NULL when there is nothing to write (no store, or records are
 * being applied): the caller goes straight to apply.  QUOTA_EUNSYNCED if
 * a waits to be re-synchronised.
 */
int quota__rec_begin_slow(quota_ctx *ctx, quota_account *a, unsigned op,
			  quota__wbuf **w);
static inline int quota__rec_begin(quota_ctx *ctx, quota_account *a,
				   unsigned op, quota__wbuf **w)
{
	*w = NULL;
	if (__builtin_expect(!ctx->store_on, 1))
		return QUOTA_OK;
	return quota__rec_begin_slow(ctx, a, op, w);
}

/*
 * Close the record and hand it to the store.  QUOTA_OK: stored, the
 * stream's sequence number moved on, the caller applies.  Else the code
 * the call returns, with nothing changed: QUOTA_ENOMEM (the record could
 * not be encoded), QUOTA_ESTORE, QUOTA_ECONFLICT, or QUOTA_EUNKNOWN (and
 * a is now unsynced).  w == NULL: QUOTA_OK.
 */
int quota__rec_commit(quota_ctx *ctx, quota_account *a, quota__wbuf *w);

/* quota__err for a failed store call: the message, then the store's own
 * words for its last failure (quota_store's errmsg), if it has any. */
int quota__store_err(quota_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The one write path (DESIGN §5).  Every call that changes state hands its
 * operation (op: the call's arguments, plan and what prepare allocated) to
 * quota__write with the table of its steps:
 *
 *   prepare  validate, plan, allocate; changes nothing (NULL: nothing to
 *            do).  Its error is the call's.
 *   encode   the record's fields after the header (NULL: none), written
 *            through the cursor or puts of codec.h.
 *   apply    the state change itself; cannot fail.
 *   undo     when the store refused the record: give back what prepare
 *            allocated (NULL: nothing was).
 *   events   after apply: what the change hands the host besides events
 *            (settlement's bills; NULL: nothing).
 *   flush    after that, deliver the events the change queued on the
 *            account (quota__events_flush).
 *   created  only for a call whose prepare creates the account the record
 *            belongs to (quota_account_new): that account, read after
 *            prepare (a is NULL until then).
 *
 * quota__write runs them in that order: prepare, journal (the record to
 * the store, quota__rec_begin/commit), apply, events.  A refusal at any
 * step before apply leaves memory, store and journal as they were.
 * prepare may also answer QUOTA__NOTHING (> 0): the call changes nothing
 * (a tick with no hold due, a settlement with nothing to bill), so there
 * is no record and no apply, but the call succeeds: quota__write clears
 * the error message, runs events and flush (which find nothing new to
 * fire but what a tick's clock step may cause) and returns
 * QUOTA__NOTHING, for the caller to answer its own success.
 * Replay (ctx->replaying) runs the same steps with no record written.
 * The fast paths (charge_fast.h, hold.c's commit) keep their own
 * straight-line copy of these steps and write the same record through
 * the same encoders.
 */
#define QUOTA__NOTHING 1

typedef struct quota__step {
	unsigned rec; /* QUOTA__R_* */
	int (*prepare)(void *op);
	void (*encode)(quota__wbuf *w, const void *op);
	void (*apply)(void *op);
	void (*undo)(void *op);
	void (*events)(void *op);
	quota_account *(*created)(void *op);
	bool flush;
	bool ext; /* writes the account's ext: quota__write makes it first */
} quota__step;

/* Run op's steps for account a (NULL: the configuration stream). */
int quota__write(quota_ctx *ctx, quota_account *a, const quota__step *st,
		 void *op);
/* The same from after prepare, whose answer (0, QUOTA__NOTHING or an
 * error) is rc: for a context-wide call that prepares every account
 * before any of them applies (quota_ctx_settle), so that without a store
 * it is all or nothing. */
int quota__write_from(quota_ctx *ctx, quota_account *a,
		      const quota__step *st, void *op, int rc);

/* The fields of a charge (op QUOTA__R_CHARGE) or a reservation
 * (QUOTA__R_RESERVE, with its timeout): usage, then sources. */
void quota__rec_planned(quota__wbuf *w, unsigned op, const quota_usage *u,
			int64_t timeout, const quota__src *s);
/* The fields of a commit or release (the general path's encode step;
 * the fast commit's record, quota__fast_commit_rec, writes the same). */
static inline void quota__rec_resolve_fields(quota__wbuf *w, uint64_t id,
					     int64_t used, const char *key,
					     int64_t fee)
{
	quota__put_uv(w, id);
	quota__put_sv(w, used);
	quota__put_str(w, key);
	quota__put_sv(w, fee);
}

/* A charge's or reservation's sources: free units, the draws (package
 * numbers in order added) and the pay-as-you-go lines. */
void quota__rec_src(quota__wbuf *w, const quota__src *s);

/* The usage of a charge or reservation, through a writer. */
static inline void quota__rec_usage(quota__wbuf *w, const quota_usage *u)
{
	size_t k = u->key ? strlen(u->key) : 0; /* checked: <= 64 bytes */
	uint8_t *p = quota__wbuf_at(w, 4 * QUOTA__UV_MAX + k);

	if (p)
		quota__wbuf_end(w, quota__rec_usage_at(p, u, k));
}

/*
 * The fast paths' records (DESIGN §5): a charge (with keys.c's key, klen
 * bytes, among its inputs, or none) or a keyless reservation (op;
 * timeout: a reservation's) with one draw at most (take units of pk) and
 * one pay-as-you-go line, in the fields and order of quota__rec_planned,
 * so byte for byte the record the general path writes (check_store and
 * check_fast_record compare them), through the same encoders but for
 * the usual values (issue 10: times by quota__time_at, one-byte fields
 * several to a store), straight into the context's record buffer; sealed
 * and handed to the store in line, with no call but the store's.
 * 0: stored (or nothing to write: replay), the caller applies; else the
 * call's refusal, nothing changed.
 *
 * hw: quota__crc_hw(), a constant in each caller's copy.
 */
#define QUOTA__FAST_REC_ROOM                                                 \
	(QUOTA__HEAD_MAX + 5 * QUOTA__UV_MAX + 2 * QUOTA__UV_MAX +           \
	 4 * QUOTA__UV_MAX + QUOTA_KEY_MAX + 3 + 8)
/* The room above counts a key's length in the 3 one-byte fields. */
_Static_assert(QUOTA_KEY_MAX < 128, "a key's length is one varint byte");
/* The unusual starts (replay, an unsynced account, a buffer to grow)
 * and the store's refusal, out of the fast path's line: 1 when replay
 * writes nothing, 0 to go on, else the call's refusal (a QUOTA_E* code,
 * negative, as quota__fast relies on). */
int quota__fast_rec_start(quota_account *a, unsigned op);
/* The store's answer rc (not QUOTA_OK) to record seq, as the call's
 * refusal: a QUOTA_E* code, never 0 or positive (quota__fast). */
/* §5: QUOTA_EUNSYNCED, worded: the refusal of every change to an account
 * whose last store outcome is unknown, before its state is looked at
 * (quota__write; the charge's and the reservation's plans, which run
 * before it). */
int quota__unsynced_err(quota_ctx *ctx, const quota_account *a);
/* 0, or that refusal for an account waiting to be re-synchronised (not
 * while replaying). */
static inline int quota__synced(const quota_account *a)
{
	return a->unsynced && !a->ctx->replaying
		       ? quota__unsynced_err(a->ctx, a)
		       : QUOTA_OK;
}
int quota__rec_refused(quota_ctx *ctx, quota_account *a, uint64_t seq,
		       int rc);

/*
 * The usual fast record (issue 10): a charge or reservation of one draw,
 * no key and no pay-as-you-go line, sequence number below 2^28, id
 * shorter than 128 bytes, times of 5 bytes, a reservation's timeout of
 * one byte or two and the rest one byte each.  The body is made
 * of 8-byte words in registers, each stored once and fed from its
 * register to the CRC-32C.  Read back from memory straight after the
 * stores of other sizes and places that wrote it, a word waited for them
 * to reach the cache (a store does not forward to a load that spans
 * several): a quarter of a journaled charge's time, by its profile.
 *
 * The body: the header (01 01 op seq: h = 4 + b bytes); S (m bytes):
 * the id's length byte, the id, the clock's first two bytes u0; then e1
 * and e2, 8 bytes each (the rest of the clock, category, units, time,
 * a reservation's timeout, sources), and a reservation's last n3 bytes
 * (1 or 2) in e3.  The length byte and the id are read from the account
 * (ctx.h keeps them side by side) in words that end where S ends, so that
 * only S's first r = m mod 8 bytes (all of it when m < 8) are a part
 * word.
 * Each store is of 8 bytes and the next writes over those past its own;
 * the bytes read before the account's id_len are the account's own,
 * shifted out.  Returns the body's length, the frame written.
 */
static inline __attribute__((always_inline)) size_t
quota__fast_rec_words(uint8_t *rec, const quota_account *a, unsigned op,
		      uint64_t seq, uint64_t u0, uint64_t e1, uint64_t e2,
		      uint64_t e3, unsigned n3, const bool hw)
{
	const uint8_t *s = (const uint8_t *)a + offsetof(quota_account, id_len);
	size_t m = (size_t)a->id_len + 3, r = m & 7, n;
	uint8_t *body = rec + QUOTA__FRAME, *p;
	uint64_t w, c;
	unsigned b;

	w = QUOTA__JOURNAL_MAJOR | QUOTA__JOURNAL_MINOR << 8 |
	    (uint64_t)op << 16 | quota__uv4_word(seq, &b) << 24;
	quota__store_le64(body, w);
	/* with the instruction, the header as the last 4 + b bytes of a
	 * word, from quota__crc_pre (as quota__crc32c_front) */
	c = hw ? quota__crc_word(quota__crc_pre[4 - b], w << (32 - 8 * b), hw)
	       : quota__crc_bytes(0xFFFFFFFF, w, 4 + b, hw);
	p = body + 4 + b;
	if (m < 8) { /* S is one part word */
		w = quota__le64(s + m - 10) >> (80 - 8 * m) | u0 << (8 * m - 16);
		quota__store_le64(p, w);
		c = quota__crc_bytes((uint32_t)c, w, (unsigned)m, hw);
		p += m;
	} else {
		if (r) {
			w = quota__le64(s + r - 8) >> (64 - 8 * r);
			quota__store_le64(p, w);
			c = quota__crc_bytes((uint32_t)c, w, (unsigned)r, hw);
			p += r;
		}
		for (size_t j = r; j + 8 < m; j += 8, p += 8) {
			w = quota__le64(s + j);
			quota__store_le64(p, w);
			c = quota__crc_word(c, w, hw);
		}
		w = quota__le64(s + m - 10) >> 16 | u0 << 48;
		quota__store_le64(p, w);
		c = quota__crc_word(c, w, hw);
		p += 8;
	}
	quota__store_le64(p, e1);
	quota__store_le64(p + 8, e2);
	c = quota__crc_word(c, e1, hw);
	c = quota__crc_word(c, e2, hw);
	if (n3) { /* a reservation's last 1 or 2 bytes */
		quota__store_le64(p + 16, e3);
		c = quota__crc_bytes((uint32_t)c, e3, n3, hw);
	}
	n = (size_t)(p + 16 + n3 - body);
	quota__store_le64(rec, (uint64_t)n | (uint64_t)~(uint32_t)c << 32);
	return n;
}

/* The start of a fast record of op: 0 to write it in the context's
 * record buffer, with room for QUOTA__FAST_REC_ROOM bytes; else
 * quota__fast_rec_start's answer (1: replay, nothing to write; < 0: the
 * call's refusal). */
static inline __attribute__((always_inline)) int
quota__fast_rec_open(quota_account *a, unsigned op)
{
	const quota_ctx *ctx = a->ctx;

	if (__builtin_expect(ctx->replaying || a->unsynced ||
				     ctx->jbuf.cap < QUOTA__FAST_REC_ROOM,
			     0))
		return quota__fast_rec_start(a, op);
	return 0;
}

/* A fast record (n bytes at rec, sequence number seq) to the store: the
 * store's refusal is the call's, nothing changed. */
static inline __attribute__((always_inline)) int
quota__fast_rec_put(quota_account *a, const uint8_t *rec, size_t n,
		    uint64_t seq)
{
	quota_ctx *ctx = a->ctx;
	int rc;

	ctx->jbuf.n = n;
	rc = ctx->store.append(ctx->store.ud, a->id, seq, rec, n);
	if (__builtin_expect(rc == QUOTA_OK, 1)) {
		a->seq = seq;
		return QUOTA_OK;
	}
	return quota__rec_refused(ctx, a, seq, rc);
}

/* The frame (quota__rec_seal's: body length, CRC-32C) of the fast
 * record at rec whose body ends at end; its whole length. */
static inline __attribute__((always_inline)) size_t
quota__fast_rec_frame(uint8_t *rec, const uint8_t *end, const bool hw)
{
	uint8_t *body = rec + QUOTA__FRAME;
	size_t n = (size_t)(end - body);

	quota__store_le64(rec, (uint64_t)n |
				       (uint64_t)quota__crc32c_front(body, n, hw)
					       << 32);
	return QUOTA__FRAME + n;
}

static inline __attribute__((always_inline)) int
quota__fast_rec(quota_account *a, const quota_usage *u, unsigned op,
		int64_t timeout, int64_t free, const quota_package *pk,
		int64_t take, int64_t need, uint32_t tier, int64_t price,
		int64_t cost, const char *key, size_t klen, const bool hw)
{
	quota_ctx *ctx = a->ctx;
	uint8_t *rec, *p;
	uint64_t seq = a->seq + 1, zu, zf, zt;
	size_t n;
	int rc;

	if ((rc = quota__fast_rec_open(a, op)))
		return rc > 0 ? 0 : rc;
	rec = ctx->jbuf.p;
	/* The usual record in registers: units, free units and the draw
	 * below 64 and times from 1974 to 2514, so that each zigzags by
	 * doubling (quota__zigzag) to one byte or to 5; category and
	 * package number below 128, sequence number below 2^28 and id
	 * length below 128 (2^7 << 21 = 2^28), one byte or to 4.  Doubling
	 * is the zigzag of a time from 1970 only: a time before it, from
	 * QUOTA_TIME_MIN (quota__time_ok), doubles to 2^64 - 2^37 or more
	 * and the clock's INT64_MIN to 0, both outside quota__time5. */
	if (__builtin_expect((op == QUOTA__R_CHARGE ||
			      (uint64_t)timeout < 8192) &&
				     !klen && take && !need &&
				     ((uint64_t)(u->units | free | take) |
				      (u->category | pk->seq) >> 1) < 0x40 &&
				     (seq | (uint64_t)a->id_len << 21) <
					     UINT64_C(1) << 28 &&
				     quota__time5((uint64_t)a->clock << 1) &&
				     quota__time5((uint64_t)u->at << 1),
			     1)) {
		uint64_t tc = quota__time_word((uint64_t)a->clock << 1),
			 ta = quota__time_word((uint64_t)u->at << 1),
			 /* free units, one draw, no pay-as-you-go */
			 src = (uint64_t)free << 1 | UINT64_C(1) << 8 |
			       (uint64_t)pk->seq << 16 | (uint64_t)take << 25,
			 e2, e3 = 0, z = (uint64_t)timeout << 1;
		unsigned n3 = 0;

		/* after the time's last two bytes, no key (0), then a
		 * reservation's timeout: 1 to 8191 seconds, zigzagged to
		 * one byte or two (reserve_fast passes only positive ones) */
		if (op == QUOTA__R_CHARGE) {
			e2 = ta >> 24 | src << 24;
		} else if (z < 0x80) {
			e2 = ta >> 24 | z << 24 | src << 32;
			e3 = src >> 32;
			n3 = 1;
		} else {
			e2 = ta >> 24 | ((z & 0x7F) | 0x80) << 24 | z >> 7 << 32 |
			     src << 40;
			e3 = src >> 24;
			n3 = 2;
		}
		n = QUOTA__FRAME + quota__fast_rec_words(
			rec, a, op, seq, tc & 0xFFFF,
			tc >> 16 | (uint64_t)u->category << 24 |
				(uint64_t)u->units << 33 | ta << 40,
			e2, e3, n3, hw);
		goto store;
	}
	zu = quota__zigzag(u->units);
	zf = quota__zigzag(free);
	zt = quota__zigzag(take);
	/* §5, issue 10: quota__rec_head_at, quota__rec_usage_at (the key,
	 * or none), quota__rec_draw_at and quota__rec_payg_at, with the
	 * usual values (times of 5 bytes, one byte for the rest) written
	 * several bytes to a store. */
	p = quota__rec_head_at(rec, op, seq, a->id, a->id_len, a->clock);
	if ((u->category | zu) < 0x80) {
		quota__store_le64(p, u->category | zu << 8);
		p += 2;
	} else {
		p = quota__uv_at(quota__uv_at(p, u->category), zu);
	}
	p = quota__time_at(p, u->at);
	/* the key (keys.c's, checked: 1 to QUOTA_KEY_MAX bytes), or a 0 */
	p = quota__strn_at(p, key, klen);
	if (op != QUOTA__R_RESERVE && take && !need &&
	    (zf | pk->seq | zt) < 0x80) {
		/* free units, one draw, no pay-as-you-go */
		quota__store_le64(p, zf | UINT64_C(1) << 8 |
					     (uint64_t)pk->seq << 16 |
					     zt << 24);
		p += 5;
	} else {
		if (op == QUOTA__R_RESERVE)
			p = quota__sv_at(p, timeout);
		p = quota__uv_at(p, zf);
		*p++ = take ? 1 : 0;
		if (take)
			p = quota__uv_at(quota__uv_at(p, pk->seq), zt);
		*p++ = need ? 1 : 0;
		if (need)
			p = quota__rec_payg_at(p, tier, need, price, cost);
	}
	n = quota__fast_rec_frame(rec, p, hw);
store:
	return quota__fast_rec_put(a, rec, n, seq);
}

/*
 * The record of a keyless commit of a whole hold with no fee (hold.c's
 * fast commit, issue 10): after the header, the fields of
 * quota__rec_resolve_fields (hold id, units used, no key, fee 0), so
 * byte for byte the general commit's record (check_fast_record), written
 * and handed to the store as quota__fast_rec's.
 */
static inline __attribute__((always_inline)) int
quota__fast_commit_rec(quota_account *a, uint64_t id, int64_t used,
		       const bool hw)
{
	uint64_t seq = a->seq + 1;
	uint8_t *rec, *p;
	int rc;

	if ((rc = quota__fast_rec_open(a, QUOTA__R_COMMIT)))
		return rc > 0 ? 0 : rc;
	rec = a->ctx->jbuf.p;
	p = quota__rec_head_at(rec, QUOTA__R_COMMIT, seq, a->id, a->id_len,
			       a->clock);
	p = quota__sv_at(quota__uv_at(p, id), used);
	p[0] = 0; /* no key */
	p[1] = 0; /* fee 0 */
	return quota__fast_rec_put(a, rec, quota__fast_rec_frame(rec, p + 2, hw),
				   seq);
}

/* ------------------------------------------------------------ replay */

/*
 * The operations' own steps from prepare on, for a plan that was computed
 * (live) or decoded from a record (replay, replay.c): the same code
 * applies both, so a replayed record changes state exactly as the call.
 */
int quota__charge_planned(quota_account *a, const quota_usage *u,
			  quota__plan *pl, quota_receipt *r);
int quota__reserve_planned(quota_account *a, const quota_usage *u,
			   int64_t timeout_s, quota__plan *pl,
			   quota_receipt *r, uint64_t *hold_id);
int quota__resolve(quota_account *a, uint64_t id, int64_t used,
		   const char *key, quota_receipt *r, bool release,
		   int32_t reason, const int64_t *fee_in);
int quota__release_fee(const quota_account *a, uint64_t id, int32_t reason,
		       int64_t *fee);
/* quota_reverse without the check of a caller's key: also by a kept
 * receipt's key (R27). */
int quota__reverse(quota_account *a, const char *key, int64_t at,
		   quota_receipt *r);
/* quota_settle; expect: replay's record, whose bills must match. */
int64_t quota__settle(quota_account *a, int64_t now, quota_bill_fn on_bill,
		      void *ud, quota__rbuf *expect);
/* quota_account_prune; expect: replay's record, whose horizon and
 * counts must match (prune.c). */
int quota__prune(quota_account *a, int64_t before, uint32_t what,
		 quota__rbuf *expect);
/* R23 (renew.c): may a RENEW record renew the package at index i from
 * offer o; the records of marks and refusals, replayed (QUOTA_ECORRUPT
 * for bad fields, else the call's answer). */
bool quota__renew_valid(const quota_account *a, uint64_t i,
			const quota_offer *o);
int quota__renew_replay(quota_account *a, unsigned rec, quota__rbuf *r,
			bool check);
/* A tick record names exactly the holds due at now (ids read from r). */
int quota__tick_check(const quota_account *a, int64_t now, uint32_t n,
		      quota__rbuf *r);

#endif /* QUOTA_JOURNAL_H */
