/*
 * sms.c - exact SMS segment counting (DESIGN.md §3, quota_sms_count(3)).
 *
 * Rules, as the carriers and the sms-segments-calculator npm package count:
 *   - GSM 7-bit (3GPP TS 23.038 6.2.1) when every code point is in the
 *     default alphabet or its extension table; an extension character is
 *     ESC + code, 2 septets.  160 septets single, 153 per concatenated
 *     segment (23.040: 140 octets, 6 of them UDH).
 *   - UCS-2 otherwise, counted in UTF-16 code units: 70 single, 67 per
 *     segment; a code point outside the BMP is a surrogate pair (2 units).
 *   - Segments are filled greedily, never by division: an escape pair and a
 *     surrogate pair are never split, and by default neither is a grapheme
 *     cluster (UAX #29), unless the cluster is larger than a whole segment.
 *     CR LF are two characters and may be split (as the npm calculator
 *     does; 23.038 has no notion of clusters).
 *   - A text that fits the single-message capacity is one segment of no
 *     UDH; otherwise every segment carries the concatenation UDH.
 *   - China carrier counting (QUOTA_SMS_CN) and national language shift
 *     tables (QUOTA_SMS_SHIFT_TABLES) as documented in quota_sms_count(3).
 *
 * The default case reads the text once (issue 16): the GSM pass takes runs
 * of 1-septet characters with vector kernels, and on the first non-GSM
 * character the UCS-2 count goes on from there (ucs2_resume) instead of
 * starting over; UCS-2 takes runs of plain code points (one cluster each)
 * with vector kernels that also pack them into segments, and applies the
 * UAX #29 rules to the rest only (lib/sms_gsm.c, lib/sms_simd.c: SSE2 /
 * AVX2 / NEON chosen at run time, portable under QUOTA_NO_SIMD;
 * tests/check_sms_simd.c compares them all with a one-code-point-at-a-time
 * reference), and once
 * text has a code point that can join a cluster, to the end of each
 * segment only (lib/sms_cluster.c: what fits before only adds units).  Segment
 * offsets, explicit breaks (the oracle driver) and
 * QUOTA_SMS_SPLIT_CODEPOINTS use the general walker below.
 *
 * quota_sms_count allocates nothing and reads only utf8[0..len).
 */
#include "sms_int.h"
#include "grapheme_dfa.h"

#include <string.h>

#define SMS_FLAGS                                                   \
	(QUOTA_SMS_CN | QUOTA_SMS_FORCE_UCS2 | QUOTA_SMS_SPLIT_CODEPOINTS | \
	 QUOTA_SMS_SHIFT_TABLES)

/* ------------------------------------------------------- greedy packer */

/* Greedy segment filler: fill is what the current segment holds. */
typedef struct packer {
	int64_t cap;   /* per-segment capacity of a concatenated message */
	int64_t fill;  /* units in the current segment */
	int64_t segs;  /* segments so far, the current one included */
	int64_t total; /* units of the whole text */
	size_t *off;   /* optional: byte offset where each segment starts */
	size_t offcap;
} packer;

static void pk_init(packer *p, int64_t cap, size_t *off, size_t offcap)
{
	p->cap = cap;
	p->fill = 0;
	p->segs = 1;
	p->total = 0;
	p->off = off;
	p->offcap = off ? offcap : 0;
	if (p->offcap)
		p->off[0] = 0;
}

/* Open a new segment starting at byte `at` (offsets are reported for the
 * caller that builds the concatenated PDUs itself). */
static inline void pk_new(packer *p, size_t at)
{
	if ((uint64_t)p->segs < (uint64_t)p->offcap)
		p->off[p->segs] = at;
	p->segs++;
}

/* Place an indivisible item of `cost` units (an escape pair, a surrogate
 * pair, a whole cluster): it goes to the next segment if it does not fit. */
static inline void pk_put(packer *p, int64_t cost, size_t at)
{
	p->total += cost;
	if (p->fill + cost > p->cap) {
		pk_new(p, at);
		p->fill = cost;
	} else {
		p->fill += cost;
	}
}

/* Place k one-unit, one-byte characters starting at byte `at`: the ASCII
 * fast path hands over whole runs at once. */
static inline void pk_run(packer *p, int64_t k, size_t at)
{
	int64_t room = p->cap - p->fill;

	p->total += k;
	if (k <= room) {
		p->fill += k;
		return;
	}
	k -= room;
	at += (size_t)room;
	while (k > 0) {
		int64_t n = k < p->cap ? k : p->cap;
		pk_new(p, at);
		p->fill = n;
		k -= n;
		at += (size_t)n;
	}
}

/* Segments of the whole text: one when it fits a single message. */
static int64_t pk_segments(const packer *p, int64_t single)
{
	return p->total <= single ? 1 : p->segs;
}

/* ------------------------------------------------ GSM 03.38 default table */

/*
 * Septets of each ASCII code point in the default alphabet: 1 basic,
 * 2 extension table (23.038 6.2.1.1), 0 not representable.  '@' '$' '_'
 * are basic (at other code positions than ASCII), '`' and most controls
 * are not GSM; FF is in the extension table.
 */
static const uint8_t gsm_ascii[128] = {
	/* 00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0, 0,
	/* 10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
	/* 60 */ 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0,
};

/* Septets of a non-ASCII code point in the default alphabet / extension
 * table: Latin-1 letters, the Greek capitals that are not Latin
 * lookalikes, and the euro sign.  Only capital Ç is GSM (0x09). */
static int gsm_cost_nonascii(uint32_t cp)
{
	switch (cp) {
	case 0x00A1: case 0x00A3: case 0x00A4: case 0x00A5: case 0x00A7:
	case 0x00BF: case 0x00C4: case 0x00C5: case 0x00C6: case 0x00C7:
	case 0x00C9: case 0x00D1: case 0x00D6: case 0x00D8: case 0x00DC:
	case 0x00DF: case 0x00E0: case 0x00E4: case 0x00E5: case 0x00E6:
	case 0x00E8: case 0x00E9: case 0x00EC: case 0x00F1: case 0x00F2:
	case 0x00F6: case 0x00F8: case 0x00F9: case 0x00FC:
	case 0x0393: case 0x0394: case 0x0398: case 0x039B: case 0x039E:
	case 0x03A0: case 0x03A3: case 0x03A6: case 0x03A8: case 0x03A9:
		return 1;
	case 0x20AC:
		return 2;
	default:
		return 0;
	}
}

/* Septets of code points U+0000..U+07FF in their 2-byte UTF-8 form: the
 * Latin-1 letters and Greek capitals of the default alphabet cost 1, the
 * rest 0.  Indexed by the 11 payload bits of a 2-byte sequence, so any
 * byte pair indexes it safely (the fast loop reads it unconditionally). */
static const uint8_t gsm_2byte11[0x800] = {
	[0x0A0] = 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	[0x0C0] = 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1,
	[0x0E0] = 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0,
	[0x380] = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0,
	[0x3A0] = 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* 8 bytes, all ASCII and all 1-septet GSM? (the common case, checked a
 * word at a time so plain text runs at memory speed) */
static inline bool gsm_basic8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	if (w & UINT64_C(0x8080808080808080))
		return false;
	return (gsm_ascii[s[0]] & gsm_ascii[s[1]] & gsm_ascii[s[2]] &
		gsm_ascii[s[3]] & gsm_ascii[s[4]] & gsm_ascii[s[5]] &
		gsm_ascii[s[6]] & gsm_ascii[s[7]]) == 1;
}

enum { GSM_OK = 0, GSM_NOT = 1, GSM_BADUTF8 = 2 };

/*
 * Count as GSM 7-bit with the default tables.  Returns GSM_NOT at the
 * first code point that is not GSM, with *bad set to its offset and *esc
 * to the escape pairs before it (so the caller can go on in UCS-2 from
 * there: the code points before are p->total - *esc), or GSM_BADUTF8 with
 * *bad set.  Clusters need no care here: every
 * multi-code-point cluster contains a non-GSM code point, except CR LF,
 * which counts as two characters (see the file comment).
 */
static int count_gsm_default(const unsigned char *s, size_t len, packer *p,
			     size_t *bad, int64_t *esc)
{
	size_t i = 0, run = 0;
	/* Runs are counted in septets; with segment offsets wanted, only
	 * 1-byte characters join a run (pk_run's offsets assume 1 byte). */
	bool track = p->offcap > 0;

	while (i < len) {
		if (!track) {
			/* Runs of 1-septet characters, and of extension
			 * characters that fit the current segment (so the
			 * run packs as 1-septet ones): vector kernels
			 * (sms_gsm.c), portable under QUOTA_NO_SIMD. */
			size_t sept = 0, e = 0;
			size_t adv = quota__sms_gsm_run(
				s + i, len - i, gsm_ascii, gsm_2byte11,
				p->cap - p->fill - (int64_t)run, &sept, &e);
			i += adv;
			run += sept;
			*esc += (int64_t)e;
		}
		/* With offsets: plain ASCII runs, a word at a time. */
		while (track && len - i >= 8 && gsm_basic8(s + i)) {
			i += 8;
			run += 8;
		}
		if (i >= len)
			break;

		/* One character the fast loops did not take. */
		unsigned c = s[i];
		int cost;
		size_t n;

		if (c < 0x80) {
			cost = gsm_ascii[c];
			n = 1;
			if (cost == 1) {
				i++;
				run++;
				continue;
			}
		} else if (c >= 0xC2 && c <= 0xCF && len - i >= 2 &&
			   (s[i + 1] & 0xC0) == 0x80) {
			/* 2-byte sequences: always valid from C2 on. */
			cost = gsm_2byte11[((c & 0x1Fu) << 6) |
					   (s[i + 1] & 0x3Fu)];
			n = 2;
			if (cost == 1 && !track) {
				i += 2;
				run++;
				continue;
			}
		} else {
			uint32_t cp;
			n = quota__u8dec(s, len, i, &cp);
			if (n == 0) {
				*bad = i;
				return GSM_BADUTF8;
			}
			cost = gsm_cost_nonascii(cp);
		}
		if (run) {
			pk_run(p, (int64_t)run, i - run); /* at: see track */
			run = 0;
		}
		if (cost == 0) {
			*bad = i;
			return GSM_NOT;
		}
		*esc += cost == 2;
		pk_put(p, cost, i);
		i += n;
	}
	if (run)
		pk_run(p, (int64_t)run, i - run);
	return GSM_OK;
}

/* ------------------------------------------------------ cluster walker */

/*
 * How a code point costs in the encoding being counted: UCS-2 (UTF-16
 * code units), or GSM 7-bit with locking shift table `lock` (1 septet if
 * the locking table holds it, else 2: ESC + single shift code).
 */
typedef struct costfn {
	bool ucs2;
	uint32_t lock;
} costfn;

static inline int64_t cp_cost(const costfn *f, uint32_t cp)
{
	uint32_t lm, sm;

	if (f->ucs2)
		return cp > 0xFFFF ? 2 : 1;
	if (cp < 0x80 && f->lock == 0)
		return gsm_ascii[cp] ? gsm_ascii[cp] : 2;
	quota__sms_nat_masks(cp, &lm, &sm);
	return (lm >> f->lock) & 1 ? 1 : 2;
}

/* Place a cluster s[a..b) of `cost` units.  One bigger than a whole
 * segment cannot be kept whole: it is split between code points (a
 * surrogate pair or escape pair still never is). */
static void place_cluster(packer *p, const costfn *f, const unsigned char *s,
			  size_t a, size_t b, int64_t cost)
{
	if (cost <= p->cap) {
		pk_put(p, cost, a);
		return;
	}
	while (a < b) {
		uint32_t cp = 0;
		size_t n = quota__u8dec(s, b, a, &cp);
		if (n == 0)
			n = 1; /* not reached: validated by the caller */
		pk_put(p, cp_cost(f, cp), a);
		a += n;
	}
}

/* Cluster boundary before the code point at byte i (UAX #29, or the
 * caller's own boundaries, or none with QUOTA_SMS_SPLIT_CODEPOINTS);
 * CR LF is always breakable (two characters). */
typedef struct walker {
	quota__gb_state gb;
	const unsigned char *breaks;
	bool split;
	bool prev_cr;
} walker;

static inline bool walk_break(walker *w, size_t i, uint32_t cp)
{
	bool brk;

	if (w->breaks) {
		brk = w->breaks[i] != 0;
	} else if (!w->split && cp >= 0x20 && cp < 0x7F) {
		/* Printable ASCII is Other and not ExtPict: only GB9b (after
		 * Prepend) joins it to what precedes. */
		brk = w->gb.prev != QUOTA__GB_PREPEND;
		w->gb.prev = QUOTA__GB_OTHER;
		w->gb.emoji = 0;
		w->gb.ri = 0;
	}
	else if (w->split)
		brk = true;
	else
		brk = quota__gb_break(&w->gb, quota__gb_prop(cp));
	if (w->prev_cr && cp == 0x0A)
		brk = true;
	w->prev_cr = cp == 0x0D;
	return brk || i == 0;
}

static void walk_init(walker *w, const unsigned char *breaks, bool split)
{
	quota__gb_state init = QUOTA__GB_STATE_INIT;

	w->gb = init;
	w->breaks = breaks;
	w->split = split;
	w->prev_cr = false;
}

/* Count the whole text with cost function f, clusters kept whole.
 * Returns false with *bad set on invalid UTF-8. */
static bool count_clusters(const unsigned char *s, size_t len,
			   const costfn *f, const unsigned char *breaks,
			   bool split, packer *p, size_t *bad)
{
	walker w;
	size_t i = 0, start = 0;
	int64_t cost = 0;

	walk_init(&w, breaks, split);
	while (i < len) {
		uint32_t cp;
		size_t n = quota__u8dec(s, len, i, &cp);

		if (n == 0) {
			*bad = i;
			return false;
		}
		if (walk_break(&w, i, cp) && i > 0) {
			place_cluster(p, f, s, start, i, cost);
			start = i;
			cost = 0;
		}
		cost += cp_cost(f, cp);
		i += n;
	}
	if (len > 0)
		place_cluster(p, f, s, start, len, cost);
	return true;
}

/* Can a plain run (sms_simd.c) start at s[i] (i < len)?  A cheap filter
 * on the lead byte (and after E2 the next, since only E2 80 xx is plain
 * there), so that text of other scripts does not call the kernel in
 * vain. */
static inline bool plain_lead(const unsigned char *s, size_t len, size_t i)
{
	unsigned c = s[i];

	if (c < 0x80u)
		return c - 0x20u <= 0x7Eu - 0x20u || c == 0x0Au || c == 0x0Du;
	if (c == 0xE2u)
		return len - i > 1 && s[i + 1] == 0x80u;
	return c - 0xC2u <= 1u || c - 0xCEu <= 3u || c - 0xE3u <= 0xEFu - 0xE3u ||
	       c == 0xF0u;
}

#define UCAP QUOTA__SMS_UCS2_CONCAT /* the fast path's segments */
#define SKIP_NOT_YET INT64_MAX       /* count_ucs2_fast's skip_at */
#define SKIP_NEVER (INT64_MAX - 1)

/* What count_ucs2_fast carries between code points (sms_int.h). */
typedef quota__sms_walk ucs2_walk;

/*
 * A run of plain code points from byte i (sms_simd.c), taken whole: each
 * is a cluster of its own when the code point before is not a Prepend
 * (GB9b), an L (GB6) or a ZWJ (GB11; the caller checks), so the kernel
 * places the open cluster and all but the last of the run into the
 * segments itself, however many segments the run spans (issue 16), and
 * the last stays open (a combining mark may follow).  Returns the run's
 * bytes, 0 if there is none (then *u is as it was).
 */
static inline size_t plain_try(const unsigned char *s, size_t len, size_t i,
			       ucs2_walk *u)
{
	quota__sms_fill f = {UCAP, u->fill, u->segs, u->total};
	int64_t open = u->cost;
	size_t last = 0, adv;

	/* A cluster larger than a segment is split between code points:
	 * place it here, take it back when no run follows (the fast path
	 * has no offsets). */
	if (u->cost > UCAP) {
		packer q = {UCAP, u->fill, u->segs, u->total, NULL, 0};
		place_cluster(&q, &(costfn){true, 0}, s, u->start, i, u->cost);
		f = (quota__sms_fill){q.cap, q.fill, q.segs, q.total};
		open = 0;
	}
	adv = quota__sms_plain_pack(s + i, len - i, &f, &open, &last);
	if (!adv)
		return 0;
	u->fill = f.fill;
	u->segs = f.segs;
	u->total = f.total;
	u->start = i + last;
	u->cost = open;
	/* Other, CR, LF, LV or LVT (sms_simd.c), no regional indicator
	 * before it */
	if (s[u->start] < 0x80) {
		unsigned c = s[u->start];
		u->row = quota__gb_dfa_enc[c == 0x0A   ? QUOTA__GB_LF
					   : c == 0x0D ? QUOTA__GB_CR
						       : QUOTA__GB_OTHER][0][0];
	} else {
		uint32_t cp;
		unsigned pr;
		quota__u8dec(s, len, u->start, &cp);
		pr = quota__gb_prop_valid(cp);
		u->row = quota__gb_dfa_enc[pr & 0x0F]
					  [(pr & QUOTA__GB_EXTPICT) != 0][0];
	}
	return adv;
}

/*
 * UCS-2 with UAX #29 clusters kept whole, the default case (no explicit
 * breaks, no splitting, no segment offsets), from byte i on with walker
 * state *w and the cluster s[start..i) of `cost` units still open (cost 0:
 * none).  Runs of plain code points go to the vector kernels (plain_try);
 * the rest is read one code point at a time, each decoded once
 * (quota__u8dec4), with the rules as a state machine (lib/grapheme_dfa.h,
 * issue 16: one table load instead of the rules' branches and a call,
 * which mispredict on text that mixes marks, joiners, flags and
 * letters), and from the first code point that can join a cluster on,
 * only near the end of each segment (quota__sms_skip_walk, issue 16).
 * Returns false with *bad set on invalid UTF-8.
 */
static bool count_ucs2_fast(const unsigned char *s, size_t len, size_t i,
			    walker *w, size_t start, int64_t cost, packer *p,
			    size_t *bad)
{
	/* Plain code points read one at a time since the last run: a run
	 * ends before one that is not plain, so look for the next only once
	 * text looks plain again (at the start, or after `need` of them).
	 * In cluster text runs are short (a space, an emoji before its skin
	 * tone or ZWJ) and a call costs more than reading them here, so a
	 * look that takes less than 32 bytes doubles `need`, up to 128, and
	 * a longer run sets it back to 2 (issue 16: whatever ends the short
	 * run; in cluster text a Devanagari letter or a flag often does,
	 * and setting `need` back there cost more looks than they saved). */
	unsigned streak = 2, need = 2;
	/* The walker's state as a row of the state machine: the caller's
	 * states (fresh, or after a GSM character) all have one. */
	unsigned row = quota__gb_dfa_enc[w->gb.prev == 0xFF ? 14 : w->gb.prev]
					[w->gb.emoji][w->gb.ri];
	int64_t fill = p->fill, segs = p->segs, total = p->total;
	/* Skip to near the end of the segment (lib/sms_cluster.c) once per
	 * segment, from the first code point that can join a cluster on:
	 * before it the vector kernels take text of one cluster per code
	 * point faster than the skip reads it.  skip_at: the segment to skip
	 * in next (a plain run may pass several), SKIP_NOT_YET or
	 * SKIP_NEVER (invalid UTF-8 ahead); checked where a cluster or a
	 * plain run opens a segment, or the skip turns on (`goto skip`), not
	 * per code point.  A segment opened by a cluster larger than a
	 * segment (place_cluster) is walked whole: slower, not different. */
	int64_t skip_at = SKIP_NOT_YET;
	unsigned join_min = QUOTA__GB_EXTEND;

	while (i < len) {
		if (__builtin_expect(streak >= need, 0) &&
		    plain_lead(s, len, i)) {
			unsigned prev = quota__gb_dfa_prev[row >> 5];
			ucs2_walk u = {fill, segs, total, cost, start, row};
			size_t adv = 0;

			streak = 0;
			if (prev != QUOTA__GB_PREPEND && prev != QUOTA__GB_L &&
			    prev != QUOTA__GB_ZWJ)
				adv = plain_try(s, len, i, &u);
			need = adv >= 32 ? 2 : need < 128 ? need * 2 : 128;
			if (adv) {
				fill = u.fill;
				segs = u.segs;
				total = u.total;
				cost = u.cost;
				start = u.start;
				row = u.row;
				i += adv;
				if (segs >= skip_at)
					goto skip;
				continue;
			}
		}

		uint32_t cp;
		size_t n = 1;
		unsigned prop, e;

		if ((cp = s[i]) >= 0x80 &&
		    (len - i < 4 || (n = quota__u8dec4(s + i, &cp)) == 0) &&
		    (n = quota__u8dec(s, len, i, &cp)) == 0) {
			*bad = i;
			return false;
		}
		prop = quota__gb_prop_valid(cp);
		e = quota__gb_dfa[row + prop];
		row = e & ~31u;
		if ((e & 1) || !cost) { /* a cluster starts here */
			if (cost > UCAP) {
				packer q = {UCAP, fill, segs, total, NULL, 0};
				place_cluster(&q, &(costfn){true, 0}, s, start, i,
					      cost);
				fill = q.fill;
				segs = q.segs;
				total = q.total;
			} else if (cost) { /* pk_put */
				total += cost;
				if (fill + cost > UCAP) {
					segs++;
					fill = cost;
					if (segs >= skip_at) {
						start = i;
						cost = 1 + (int64_t)(n >> 2);
						i += n;
						goto skip;
					}
				} else {
					fill += cost;
				}
			}
			start = i;
			cost = 0;
		}
		cost += 1 + (int64_t)(n >> 2);
		i += n;
		/* Other, Extended_Pictographic or not, looks plain */
		streak = (prop & 0x0F) == QUOTA__GB_OTHER ? streak + 1 : 0;
		/* the first that joins clusters (Extend, ZWJ, regional
		 * indicators, Prepend, marks, jamo: 4..13), not a line break;
		 * then join_min is past them all */
		if (__builtin_expect((prop & 0x0F) < join_min, 1))
			continue;
		join_min = 16;
		skip_at = segs;
skip:
		{
			ucs2_walk u = {fill, segs, total, cost, start, row};

			skip_at = quota__sms_skip_walk(s, len, &i, &u)
					  ? segs + 1
					  : SKIP_NEVER;
			fill = u.fill;
			total = u.total;
			cost = u.cost;
			start = u.start;
			row = u.row;
		}
	}
	p->fill = fill;
	p->segs = segs;
	p->total = total;
	if (cost)
		place_cluster(p, &(costfn){true, 0}, s, start, len, cost);
	return true;
}

/*
 * Go on in UCS-2 from the first non-GSM code point, at byte i, of a text
 * whose prefix s[0..i) the GSM pass has read: those are GSM characters,
 * each a cluster of its own of 1 UTF-16 unit (none is Extend, ZWJ,
 * Prepend, ExtPict or a regional indicator; CR LF are two characters), so
 * the UCS-2 packing of the prefix is a run of `ncp` units, the last one
 * left open since the code point at i may join it.
 */
static bool ucs2_resume(const unsigned char *s, size_t len, size_t i,
			int64_t ncp, packer *p, size_t *bad)
{
	walker w;
	size_t j = i;
	uint32_t cp = 0;

	walk_init(&w, NULL, false);
	pk_init(p, QUOTA__SMS_UCS2_CONCAT, NULL, 0);
	if (i == 0)
		return count_ucs2_fast(s, len, 0, &w, 0, 0, p, bad);
	while (j > 0 && (s[j - 1] & 0xC0u) == 0x80u)
		j--;
	j--; /* the last code point of the prefix (valid UTF-8) */
	quota__u8dec(s, len, j, &cp);
	w.gb.prev = (uint8_t)(quota__gb_prop(cp) & 0x0F);
	w.prev_cr = cp == 0x0D;
	if (ncp > 1)
		pk_run(p, ncp - 1, 0);
	return count_ucs2_fast(s, len, i, &w, j, 1, p, bad);
}

/* ------------------------------------------------ national shift tables */

/* One 7-bit candidate: locking table L with the single shift table S. */
typedef struct cand {
	packer pk;
	int64_t cluster; /* cost of the cluster being read */
	bool valid;
	uint32_t single; /* chosen single shift table */
	int ies;         /* national language IEs in the UDH: 0, 1 or 2 */
} cand;

/* Capacities with n national language IEs of 3 octets each:
 * (1120 - 8 * udh) / 7 septets, udh = UDHL + IEs (+ 5 concatenation). */
static int64_t nat_single(int ies)
{
	return ies == 0 ? QUOTA__SMS_GSM_SINGLE : ies == 1 ? 155 : 152;
}
static int64_t nat_concat(int ies)
{
	return ies == 0 ? QUOTA__SMS_GSM_CONCAT : ies == 1 ? 149 : 146;
}

/*
 * QUOTA_SMS_SHIFT_TABLES: try every locking table (23.038 A.2) with the
 * single shift tables (A.3) that cover what it lacks, and keep the
 * cheapest: fewest segments, then fewest IEs (0, 1, 2), then fewest
 * septets, then the lowest table numbers.  For a given locking table every
 * covering single shift table gives the same septets, so the default
 * extension table is preferred (no IE), else the lowest number.
 * Returns 1 if some 7-bit combination fits (info filled in), 0 if none
 * does, -1 on invalid UTF-8 (*bad set).
 */
static int count_shift(const unsigned char *s, size_t len, bool split,
		       const unsigned char *breaks, quota_sms_info *best,
		       size_t *bad)
{
	uint32_t valid_single[QUOTA__SMS_TABLES];
	cand c[QUOTA__SMS_TABLES];
	walker w;
	size_t i = 0;
	int found = -1;

	/* Pass 1: which (locking, single) pairs encode every code point. */
	for (unsigned t = 0; t < QUOTA__SMS_TABLES; t++)
		valid_single[t] = (UINT32_C(1) << QUOTA__SMS_TABLES) - 1;
	while (i < len) {
		uint32_t cp, lm, sm;
		size_t n = quota__u8dec(s, len, i, &cp);

		if (n == 0) {
			*bad = i;
			return -1;
		}
		quota__sms_nat_masks(cp, &lm, &sm);
		for (unsigned t = 0; t < QUOTA__SMS_TABLES; t++)
			if (!((lm >> t) & 1))
				valid_single[t] &= sm;
		i += n;
	}
	for (unsigned t = 0; t < QUOTA__SMS_TABLES; t++) {
		uint32_t vs = valid_single[t];
		c[t].valid = vs != 0 && (t != 2); /* Spanish: no locking table */
		if (!c[t].valid)
			continue;
		c[t].single = (vs & 1) ? 0 : (uint32_t)__builtin_ctz(vs);
		c[t].ies = (t != 0) + (c[t].single != 0);
		pk_init(&c[t].pk, nat_concat(c[t].ies), NULL, 0);
		c[t].cluster = 0;
	}

	/* Pass 2: pack every candidate at once, clusters kept whole. */
	walk_init(&w, breaks, split);
	size_t start = 0;
	for (i = 0; i < len;) {
		uint32_t cp, lm, sm;
		size_t n = quota__u8dec(s, len, i, &cp);

		quota__sms_nat_masks(cp, &lm, &sm);
		bool brk = walk_break(&w, i, cp) && i > 0;
		for (unsigned t = 0; t < QUOTA__SMS_TABLES; t++) {
			if (!c[t].valid)
				continue;
			if (brk) {
				costfn f = {false, t};
				place_cluster(&c[t].pk, &f, s, start, i,
					      c[t].cluster);
				c[t].cluster = 0;
			}
			c[t].cluster += (lm >> t) & 1 ? 1 : 2;
		}
		if (brk)
			start = i;
		i += n;
	}
	for (unsigned t = 0; t < QUOTA__SMS_TABLES; t++) {
		if (!c[t].valid)
			continue;
		if (len > 0) {
			costfn f = {false, t};
			place_cluster(&c[t].pk, &f, s, start, len, c[t].cluster);
		}
		int64_t segs = pk_segments(&c[t].pk, nat_single(c[t].ies));
		if (found < 0 || segs < best->segments ||
		    (segs == best->segments &&
		     (c[t].ies < c[found].ies ||
		      (c[t].ies == c[found].ies &&
		       c[t].pk.total < best->units)))) {
			found = (int)t;
			best->segments = segs;
			best->units = c[t].pk.total;
			best->shift_locking = t;
			best->shift_single = c[t].single;
		}
	}
	if (found < 0)
		return 0;
	best->encoding = QUOTA_SMS_GSM7;
	return 1;
}

/* --------------------------------------------------------- China mode */

/*
 * China carrier counting: signature + body, a BMP character counts 1 and
 * one outside the BMP 2 (UTF-16 units); <= 70 is one message, else
 * ceil(n / 67) - by division, as the carriers bill.  Segment offsets are
 * the body bytes where units 67, 134, ... of the combined text fall.
 */
static int count_cn(const unsigned char *s, size_t len, const char *sig,
		    size_t *off, size_t offcap, quota_sms_info *info)
{
	int64_t n = 0;
	size_t siglen = sig ? strlen(sig) : 0;
	size_t bad;

	if (sig && !quota__utf8_valid(sig, siglen, &bad))
		return QUOTA_EINVAL;
	for (size_t i = 0; i < siglen;) {
		uint32_t cp;
		size_t k = quota__u8dec((const unsigned char *)sig, siglen, i,
					&cp);
		n += cp > 0xFFFF ? 2 : 1;
		i += k;
	}
	int64_t sigunits = n;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = quota__u8dec(s, len, i, &cp);
		if (k == 0) {
			info->error_offset = i;
			return QUOTA_EENCODING;
		}
		n += cp > 0xFFFF ? 2 : 1;
		i += k;
	}
	info->encoding = QUOTA_SMS_UCS2;
	info->units = n;
	info->segments = n <= QUOTA__SMS_CN_SINGLE
				 ? 1
				 : (n + QUOTA__SMS_CN_CONCAT - 1) /
					   QUOTA__SMS_CN_CONCAT;
	if (off && offcap) {
		size_t k = 1, i = 0;
		int64_t u = sigunits;

		off[0] = 0;
		while (k < offcap && (int64_t)k < info->segments) {
			int64_t at = (int64_t)k * QUOTA__SMS_CN_CONCAT;
			/* The body code point holding unit `at` (0 while it
			 * is still inside the signature). */
			while (i < len) {
				uint32_t cp;
				size_t c = quota__u8dec(s, len, i, &cp);
				int64_t w = cp > 0xFFFF ? 2 : 1;
				if (u + w > at)
					break;
				u += w;
				i += c;
			}
			off[k++] = i;
		}
	}
	return QUOTA_OK;
}

/* ------------------------------------------------------------ the API */

/* Shared by quota_sms_count and the oracle driver (explicit breaks). */
int quota__sms_count_with_breaks(const char *utf8, size_t len,
				 const quota_sms_opts *opts,
				 const unsigned char *breaks,
				 quota_sms_info *info)
{
	const unsigned char *s = (const unsigned char *)utf8;
	uint32_t flags = 0;
	size_t *off = NULL, offcap = 0, bad = 0;
	packer p;
	int rc;

	if (!info)
		return QUOTA_EINVAL;
	memset(info, 0, sizeof *info);
	info->segments = 1;
	if (!utf8 && len > 0)
		return QUOTA_EINVAL;
	if (!utf8)
		s = (const unsigned char *)"";
	if (opts) {
		if (opts->version != QUOTA_SMS_OPTS_VERSION ||
		    (opts->flags & ~SMS_FLAGS) ||
		    ((opts->flags & QUOTA_SMS_CN) &&
		     (opts->flags & QUOTA_SMS_SHIFT_TABLES)) ||
		    (opts->segment_offsets == NULL &&
		     opts->segment_offsets_cap > 0))
			return QUOTA_EINVAL;
		flags = opts->flags;
		off = opts->segment_offsets;
		offcap = opts->segment_offsets_cap;
	}
	if (len > (size_t)INT64_MAX / 4)
		return QUOTA_ETOOLONG;

	if (flags & QUOTA_SMS_CN) {
		rc = count_cn(s, len, opts->signature, off, offcap, info);
		if (rc != QUOTA_OK)
			return rc;
		goto limit;
	}

	if (!(flags & QUOTA_SMS_FORCE_UCS2)) {
		if (flags & QUOTA_SMS_SHIFT_TABLES) {
			rc = count_shift(s, len,
					 (flags & QUOTA_SMS_SPLIT_CODEPOINTS) != 0,
					 breaks, info, &bad);
			if (rc < 0)
				goto badutf8;
			if (rc > 0) {
				if (off && offcap) {
					/* Rerun the winner for its offsets. */
					costfn f = {false, info->shift_locking};
					int ies = (info->shift_locking != 0) +
						  (info->shift_single != 0);
					pk_init(&p, nat_concat(ies), off, offcap);
					count_clusters(s, len, &f, breaks,
						       (flags & QUOTA_SMS_SPLIT_CODEPOINTS) != 0,
						       &p, &bad);
					if (info->segments == 1)
						off[0] = 0;
				}
				goto limit;
			}
		} else {
			int64_t esc = 0;

			pk_init(&p, QUOTA__SMS_GSM_CONCAT, off, offcap);
			rc = count_gsm_default(s, len, &p, &bad, &esc);
			if (rc == GSM_BADUTF8)
				goto badutf8;
			if (rc == GSM_OK) {
				info->encoding = QUOTA_SMS_GSM7;
				info->units = p.total;
				info->segments =
					pk_segments(&p, QUOTA__SMS_GSM_SINGLE);
				goto limit;
			}
			/* One pass: UCS-2 goes on where GSM stopped (issue
			 * 16), unless offsets or explicit breaks are asked
			 * for, which recount from the start below. */
			if (!breaks && !(flags & QUOTA_SMS_SPLIT_CODEPOINTS) &&
			    !(off && offcap)) {
				if (!ucs2_resume(s, len, bad, p.total - esc, &p,
						 &bad))
					goto badutf8;
				goto ucs2_done;
			}
		}
	}
	if (!breaks && !(flags & QUOTA_SMS_SPLIT_CODEPOINTS) &&
	    !(off && offcap)) {
		if (!ucs2_resume(s, len, 0, 0, &p, &bad))
			goto badutf8;
		goto ucs2_done;
	}

	/* UCS-2 (UTF-16 code units), clusters kept whole. */
	{
		costfn f = {true, 0};
		pk_init(&p, QUOTA__SMS_UCS2_CONCAT, off, offcap);
		if (!count_clusters(s, len, &f, breaks,
				    (flags & QUOTA_SMS_SPLIT_CODEPOINTS) != 0, &p,
				    &bad))
			goto badutf8;
	}
ucs2_done:
	info->encoding = QUOTA_SMS_UCS2;
	info->units = p.total;
	info->segments = pk_segments(&p, QUOTA__SMS_UCS2_SINGLE);
	info->shift_locking = 0;
	info->shift_single = 0;

limit:
	if (opts && opts->max_segments &&
	    info->segments > (int64_t)opts->max_segments)
		return QUOTA_ETOOLONG;
	if (opts && opts->max_units && info->units > (int64_t)opts->max_units)
		return QUOTA_ETOOLONG;
	return QUOTA_OK;

badutf8:
	memset(info, 0, sizeof *info);
	info->segments = 1;
	info->error_offset = bad;
	return QUOTA_EENCODING;
}

/* §3: the public entry point; UAX #29 clusters from the generated table. */
int quota_sms_count(const char *utf8, size_t len, const quota_sms_opts *opts,
		    quota_sms_info *info)
{
	return quota__sms_count_with_breaks(utf8, len, opts, NULL, info);
}
