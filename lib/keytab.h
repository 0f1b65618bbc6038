/*
 * keytab.h - the key window's table (R11, keys.c): slots of (hash,
 * record), 8 bytes each, and beside them a control byte per slot, 0 for
 * an empty slot, 1 for a deleted one, else 0x80 and 7 bits of the hash.
 * Private to keys.c, keytab.c (growing and rebuilding it) and keyview.c
 * (reading records back).
 *
 * The slots are probed in aligned groups of eight (issue 16): a key goes
 * in the first free slot of the first group from its home one that has
 * one, and a look-up ends at the first group with an empty slot.  So
 * forgetting a key moves nothing: its slot becomes empty if no key was
 * ever put past its group (the group has an empty slot, say), else
 * deleted, a slot a look-up goes on past and a new key may take.  At most
 * half full, a group is seldom full, and the table is rebuilt in place
 * when deleted slots are more than an eighth of it.  Backward-shift
 * deletion cost a fifth of a keyed charge in unpredictable branches.
 */
#ifndef QUOTA_KEYTAB_H
#define QUOTA_KEYTAB_H

#include "journal.h"

#include <string.h>

/* Where a compact record's key bytes begin in u.b, per operation: after
 * w[0] (the source) and the operation's own words (keys.c writes them,
 * keyview.c reads them). */
static const uint8_t quota__key_off[] = {40, 8, 24, 24, 32};

/* A stored record's receipt kind. */
static inline int32_t quota__kind_of(int32_t op)
{
	return op == QUOTA__OP_RESERVE	 ? QUOTA_RECEIPT_RESERVE
	       : op == QUOTA__OP_COMMIT	 ? QUOTA_RECEIPT_COMMIT
	       : op == QUOTA__OP_RELEASE ? QUOTA_RECEIPT_RELEASE
					 : QUOTA_RECEIPT_CHARGE;
}

/* The i-th record of the window's ring from its start (i < rcap). */
static inline uint32_t quota__ring_idx(const quota__keys *k, uint32_t start,
				       uint32_t i)
{
	uint32_t j = start + i;

	return j >= k->rcap ? j - k->rcap : j;
}

/* The home slot of hash h. */
static inline uint32_t quota__kt_home(uint32_t h, uint32_t cap)
{
	return h & (cap - 1);
}

/* The control byte of a full slot: the hash's top 7 bits, which the
 * home does not use in a table of up to 2^25 slots (a larger one shares
 * some with the home, and its tags filter less). */
static inline uint8_t quota__kt_tag_of(uint32_t h)
{
	return (uint8_t)(0x80 | h >> 25);
}

/* The control byte of a deleted slot (a full one has the high bit). */
enum { QUOTA__KT_DELETED = 0x01 };

#define QUOTA__KT_ONES UINT64_C(0x0101010101010101)
#define QUOTA__KT_HIGHS UINT64_C(0x8080808080808080)

/* The first slot of the group of slot i. */
static inline uint32_t quota__kt_group_of(uint32_t i)
{
	return i & ~UINT32_C(7);
}

/* The control bytes of the group at g, byte b in bits 8b to 8b + 7. */
static inline uint64_t quota__kt_group(const uint8_t *ctrl, uint32_t g)
{
	uint64_t w;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	!defined(QUOTA_NO_SIMD)
	memcpy(&w, ctrl + g, sizeof w);
#else
	int b;

	for (w = 0, b = 0; b < 8; b++)
		w |= (uint64_t)ctrl[g + b] << 8 * b;
#endif
	return w;
}

/* Bytes of w that are 0, as their high bits: exact for the lowest one,
 * and any other is a byte of 1 above a 0 (w is 0 only if none is). */
static inline uint64_t quota__kt_zero_bytes(uint64_t w)
{
	return (w - QUOTA__KT_ONES) & ~w & QUOTA__KT_HIGHS;
}

/* Bytes of w that are a free slot's (empty or deleted): exact. */
static inline uint64_t quota__kt_free_bytes(uint64_t w)
{
	return ~w & QUOTA__KT_HIGHS;
}

/* Bytes of w that may be tag: all that are, and only full slots' (a byte
 * quota__kt_zero_bytes adds is tag ^ 1). */
static inline uint64_t quota__kt_tag_bytes(uint64_t w, uint8_t tag)
{
	return quota__kt_zero_bytes(w ^ QUOTA__KT_ONES * tag);
}

/* The lowest byte marked in m (not 0). */
static inline uint32_t quota__kt_first(uint64_t m)
{
#ifdef __GNUC__
	return (uint32_t)__builtin_ctzll(m) >> 3;
#else
	uint32_t b;

	for (b = 0; !(m & 0x80); b++)
		m >>= 8;
	return b;
#endif
}

/* Put record i (hash h) in slot j (empty) of the table. */
static inline void quota__kt_place(quota__keyslot *tab, uint8_t *ctrl,
				   uint32_t j, uint32_t h, uint32_t i)
{
	ctrl[j] = quota__kt_tag_of(h);
	tab[j].hash = h;
	tab[j].rec = i;
}

/* Put record i (hash h) in the first free slot of its probe; whether
 * that was a deleted one. */
static inline bool quota__kt_put(quota__keyslot *tab, uint8_t *ctrl,
				 uint32_t cap, uint32_t h, uint32_t i)
{
	uint32_t g = quota__kt_group_of(quota__kt_home(h, cap)), j;
	uint64_t fr;
	bool del;

	while (!(fr = quota__kt_free_bytes(quota__kt_group(ctrl, g))))
		g = (g + 8) & (cap - 1);
	j = g + quota__kt_first(fr);
	del = ctrl[j] == QUOTA__KT_DELETED;
	quota__kt_place(tab, ctrl, j, h, i);
	return del;
}

/* Room in the table for one more key: grown, or rebuilt without its
 * deleted slots (quota__key_ready has the same bounds). */
int quota__keytab_reserve(const quota__mem *mem, quota__keys *k);

#endif
