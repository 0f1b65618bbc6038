/*
 * sms_int.h - private interface of the SMS segment counter (DESIGN.md §3),
 * shared by lib/sms.c, lib/sms_grapheme.c, lib/sms_shift.c and the tests
 * (the oracle driver and check_sms.c link libquota.a and may call these).
 */
#ifndef QUOTA_SMS_INT_H
#define QUOTA_SMS_INT_H

#include "quota_int.h"
#include "grapheme_table.h"

#include <string.h>

/* Capacities in septets (GSM 7-bit) or UTF-16 code units (UCS-2), from
 * the 140-octet user data of 3GPP TS 23.040 9.2.3.24: a concatenated
 * message spends 6 octets of UDH (UDHL + 5-octet concatenation IE), each
 * national language shift IE 3 more (23.040 9.2.3.24.15/16). */
#define QUOTA__SMS_GSM_SINGLE 160
#define QUOTA__SMS_GSM_CONCAT 153
#define QUOTA__SMS_UCS2_SINGLE 70
#define QUOTA__SMS_UCS2_CONCAT 67
#define QUOTA__SMS_CN_SINGLE 70
#define QUOTA__SMS_CN_CONCAT 67

/* --------------------------------------------------------- UTF-8 decode */

/* quota__u8dec (one code point of UTF-8) is in quota_int.h. */

/*
 * sms.c's default UCS-2 count's decoder (quota__u8dec4, after its table
 * of lengths by lead byte).  One code point at s[0], with s[0..4)
 * readable: its length, *cp its value, or 0 when it is not a whole valid
 * one (then quota__u8dec tells).  Without branches on the length (issue
 * 16: clusters text mixes 1- to 4-byte forms, which a branch per form
 * mispredicts): the four bytes are read at once, and the lead byte's
 * length picks the masks.
 */
static const uint8_t quota__u8_len[256] = {
	/* 00 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 10 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 80..BF: continuation bytes, C0 C1: overlong */
	[0xC2] = 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* D0 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* E0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	/* F0 */ 4, 4, 4, 4, 4, /* F5..FF: beyond U+10FFFF */
};

static inline size_t quota__u8dec4(const unsigned char *s, uint32_t *cp)
{
	/* by length 0..4: lead payload, continuation marks, shift, least */
	static const uint32_t lead[5] = {0, 0x7Fu << 18, 0x1Fu << 18,
					 0x0Fu << 18, 0x07u << 18};
	static const uint32_t cmask[5] = {0, 0, 0xC00000, 0xC0C000, 0xC0C0C0};
	static const uint32_t cval[5] = {1, 0, 0x800000, 0x808000, 0x808080};
	static const uint8_t shift[5] = {0, 18, 12, 6, 0};
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t x;
	unsigned n;

	memcpy(&x, s, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap32(x); /* s[0] in the top byte */
#elif !defined(__BYTE_ORDER__)
	x = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
#endif
	n = quota__u8_len[x >> 24];
	*cp = ((x >> 6 & lead[n]) | (x >> 4 & 0x3F000) | (x >> 2 & 0xFC0) |
	       (x & 0x3F)) >> shift[n];
	if (__builtin_expect((x & cmask[n]) != cval[n] || *cp < least[n] ||
				     *cp > 0x10FFFF || *cp - 0xD800u <= 0x7FFu,
			     0))
		return 0;
	return n;
}

/* ------------------------------------------------- UAX #29 (sms_grapheme) */

/* Grapheme cluster break state between code points. */
typedef struct quota__gb_state {
	uint8_t prev;  /* property of the previous code point, or 0xFF */
	uint8_t emoji; /* GB11: 1 = ExtPict Extend*, 2 = ... ZWJ */
	uint8_t ri;    /* GB12/13: regional indicators seen in a row */
} quota__gb_state;

#define QUOTA__GB_STATE_INIT {0xFF, 0, 0}

/* Grapheme_Cluster_Break property of cp (low 4 bits) | 0x10 if
 * Extended_Pictographic, from the generated lib/grapheme_table.h, for a
 * cp known to be at most U+10FFFF (the tables end there; a valid scalar
 * value always is): no range check, for sms.c's default UCS-2 count,
 * which asks once per code point it has just decoded. */
static inline unsigned quota__gb_prop_valid(uint32_t cp)
{
	unsigned blk = quota__gb_stage1[cp >> QUOTA__GB_BLOCK_SHIFT];

	return quota__gb_stage2[blk << QUOTA__GB_BLOCK_SHIFT |
				(cp & ((1u << QUOTA__GB_BLOCK_SHIFT) - 1))];
}

/* The same for any cp: QUOTA__GB_OTHER past U+10FFFF.  Inline because
 * the walkers ask once per code point. */
static inline unsigned quota__gb_prop(uint32_t cp)
{
	if (cp > 0x10FFFF)
		return QUOTA__GB_OTHER;
	return quota__gb_prop_valid(cp);
}

/* The UAX #29 decision between the previous code point and this one;
 * each rule reads as in the specification. */
static inline bool quota__gb_decide(const quota__gb_state *st, unsigned p,
				    bool pict)
{
	unsigned q = st->prev;

	if (q == 0xFF)
		return true; /* GB1 */
	if (q == QUOTA__GB_CR && p == QUOTA__GB_LF)
		return false; /* GB3 */
	if (q == QUOTA__GB_CONTROL || q == QUOTA__GB_CR || q == QUOTA__GB_LF)
		return true; /* GB4 */
	if (p == QUOTA__GB_CONTROL || p == QUOTA__GB_CR || p == QUOTA__GB_LF)
		return true; /* GB5 */
	if (q == QUOTA__GB_L &&
	    (p == QUOTA__GB_L || p == QUOTA__GB_V || p == QUOTA__GB_LV ||
	     p == QUOTA__GB_LVT))
		return false; /* GB6 */
	if ((q == QUOTA__GB_LV || q == QUOTA__GB_V) &&
	    (p == QUOTA__GB_V || p == QUOTA__GB_T))
		return false; /* GB7 */
	if ((q == QUOTA__GB_LVT || q == QUOTA__GB_T) && p == QUOTA__GB_T)
		return false; /* GB8 */
	if (p == QUOTA__GB_EXTEND || p == QUOTA__GB_ZWJ)
		return false; /* GB9 */
	if (p == QUOTA__GB_SPACINGMARK)
		return false; /* GB9a */
	if (q == QUOTA__GB_PREPEND)
		return false; /* GB9b */
	if (q == QUOTA__GB_ZWJ && pict && st->emoji == 2)
		return false; /* GB11 */
	if (q == QUOTA__GB_REGIONAL_INDICATOR &&
	    p == QUOTA__GB_REGIONAL_INDICATOR && (st->ri & 1))
		return false; /* GB12, GB13 */
	return true; /* GB999 */
}

/* True if there is a cluster boundary before a code point whose property
 * is prop (as returned by quota__gb_prop); updates st.  The first call on
 * a fresh state returns true (GB1). */
static inline bool quota__gb_break(quota__gb_state *st, unsigned prop)
{
	unsigned p = prop & 0x0F;
	bool pict = (prop & QUOTA__GB_EXTPICT) != 0;
	bool brk = quota__gb_decide(st, p, pict);

	/* GB11 context: ExtPict Extend* ZWJ. */
	if (pict)
		st->emoji = 1;
	else if (st->emoji == 1 && p == QUOTA__GB_EXTEND)
		st->emoji = 1;
	else if (st->emoji == 1 && p == QUOTA__GB_ZWJ)
		st->emoji = 2;
	else
		st->emoji = 0;
	/* GB12/13 context: regional indicators in a row. */
	if (p == QUOTA__GB_REGIONAL_INDICATOR)
		st->ri = (uint8_t)(brk ? 1 : st->ri + 1);
	else
		st->ri = 0;
	st->prev = (uint8_t)p;
	return brk;
}

/* The Unicode version of the tables, e.g. "15.0.0". */
const char *quota__gb_unicode_version(void);

/* ------------------------------------------- 23.038 tables (sms_shift) */

#define QUOTA__SMS_TABLES 14 /* language ids 0..13 of 23.038 Annex A */

/* Masks of the locking (bit t = table t holds cp as a 1-septet character)
 * and single shift tables (2 septets: ESC + code) holding cp. */
void quota__sms_nat_masks(uint32_t cp, uint32_t *lock, uint32_t *single);

/* ------------------------------------------- vector kernels (sms_simd) */

/* Dispatch levels, best first available; QUOTA_NO_SIMD builds have only
 * the portable one. */
#define QUOTA__SMS_PORTABLE 0
#define QUOTA__SMS_SSE2 1
#define QUOTA__SMS_AVX2 2
#define QUOTA__SMS_NEON 3 /* AArch64 */

/* The level in use: quota__sms_level, -1 until the first call detects it
 * (quota__sms_resolve, sms_simd.c).  Inline, so that a GSM run or a
 * skip (sms_gsm.c, sms_cluster.c) reads it without a call; atomic
 * (relaxed): threads that detect it at once store the same level. */
extern int quota__sms_level;
int quota__sms_resolve(void);

static inline int quota__sms_simd_level(void)
{
	int l = __atomic_load_n(&quota__sms_level, __ATOMIC_RELAXED);

	return l >= 0 ? l : quota__sms_resolve();
}

/* For tests: use `level` (or the best available one if it is not
 * available, or if level < 0); returns the level now in use. */
int quota__sms_force_simd(int level);

/* The UCS-2 packer of the fast path (sms.c's packer without segment
 * offsets): per-segment capacity, units in the current segment, segments
 * so far (the current one included), units of the whole text. */
typedef struct quota__sms_fill {
	int64_t cap;
	int64_t fill;
	int64_t segs;
	int64_t total;
} quota__sms_fill;

/*
 * The longest prefix of s[0..n) made of whole "plain" code points (see
 * sms_simd.c: each a grapheme cluster of its own, valid UTF-8): returns
 * its bytes (0: none) and *last the offset of its last code point.  When
 * there is one, the cluster still open before the run (*open units, 0:
 * none, at most f->cap) and every code point of the run but the last are
 * placed into *f greedily, as pk_put does (an item that does not fit, a
 * surrogate pair or a whole cluster, goes to the next segment); the last
 * code point is the one left open then (*open its units: 1, or 2 outside
 * the BMP), since a combining mark after the run may join it.  With no
 * run, nothing changes.
 */
size_t quota__sms_plain_pack(const unsigned char *s, size_t n,
			     quota__sms_fill *f, int64_t *open, size_t *last);

/* sms_gsm.c: the longest prefix of s[0..n) made of whole 1-septet GSM
 * characters (ascii: septets of each ASCII code point; two11: of each
 * 2-byte UTF-8 payload, as in sms.c) and of ASCII extension characters
 * (2 septets) that end within `room` septets of its start (so no segment
 * ends before one): returns its bytes, *sept its septets, *esc its
 * extension characters. */
size_t quota__sms_gsm_run(const unsigned char *s, size_t n,
			  const uint8_t *ascii, const uint8_t *two11,
			  int64_t room, size_t *sept, size_t *esc);

/* --------------------------------------- skipping the walk (sms_cluster) */

enum {
	QUOTA__SKIP_NONE, /* no ASCII code point within the room */
	QUOTA__SKIP_TO,   /* *at: the farthest one */
	QUOTA__SKIP_END,  /* all of s[0..n) fits the room */
	QUOTA__SKIP_BAD   /* invalid UTF-8 ahead: walk on (it reports it) */
};

/*
 * s[0..n) from a code point start: the farthest ASCII byte *at whose
 * offset in UTF-16 units, *units, is at most room (QUOTA__SKIP_TO), or
 * n when the whole of it fits (QUOTA__SKIP_END); the bytes before *at
 * are valid UTF-8.  Reads up to the 64-byte block where the room ends.
 */
int quota__sms_skip(const unsigned char *s, size_t n, int64_t room,
		    size_t *at, int64_t *units);

/* What sms.c's default UCS-2 count carries between code points: the
 * packer's counts (segments of QUOTA__SMS_UCS2_CONCAT units), the open
 * cluster s[start..) of `cost` units (0: none) and the state machine's
 * row (lib/grapheme_dfa.h). */
typedef struct quota__sms_walk {
	int64_t fill, segs, total, cost;
	size_t start;
	unsigned row;
} quota__sms_walk;

/*
 * Skip the walk *u from byte *i (a code point start, s[0..*i) valid) to
 * the farthest point within the room of the current segment where it can
 * resume: every cluster before it fits, so it only adds units.  Returns
 * false when the text ahead is not valid UTF-8 (the walk then reports
 * it); true otherwise, *i and *u moved or not.
 */
bool quota__sms_skip_walk(const unsigned char *s, size_t len, size_t *i,
			  quota__sms_walk *u);

/* ------------------------------------------------------- counting core */

/*
 * Count with explicit cluster boundaries instead of the UAX #29 ones: when
 * breaks is not NULL, breaks[i] != 0 means a cluster starts at byte i
 * (only read at code point starts; breaks has len entries).  Used by the
 * oracle driver to replay the reference calculator's own clusters and show
 * that a disagreement is due to the UAX #29 version alone.
 */
int quota__sms_count_with_breaks(const char *utf8, size_t len,
				 const quota_sms_opts *opts,
				 const unsigned char *breaks,
				 quota_sms_info *info);

/*
 * Bits set in x, for the vector kernels of sms_simd.c, sms_gsm.c and
 * sms_cluster.c: hw in their AVX2 instantiations, built with popcnt (the
 * AVX2 level is chosen only where the processor has popcnt: sms_simd.c's
 * sms_detect), which spares quota__popcount64's run-time check on each
 * call (issue 16: 7 to 9 % of the instructions of GSM text, 7 % of
 * emoji); elsewhere quota__popcount64.  always_inline: hw is a constant
 * of the caller.
 */
static inline __attribute__((always_inline)) unsigned
quota__sms_pop(uint64_t x, bool hw)
{
	return hw ? (unsigned)__builtin_popcountll(x) : quota__popcount64(x);
}

#endif /* QUOTA_SMS_INT_H */
