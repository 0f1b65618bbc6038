/*
 * counters.c - per-account period counters (units per day / month for
 * caps R9 and tier volume R13; free units per day / month / lifetime R15).
 *
 * Usage can arrive late (R2), so counters are kept for every period seen,
 * keyed by (kind, category, period index) in an open-addressing table.
 * Capacity is reserved before a charge changes anything, so the apply step
 * cannot fail; the table only allocates when a charge opens new periods.
 */
#include "ctx.h"

static inline uint32_t slot_of(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) &
	       (cap - 1);
}

int64_t quota__cnt_get(const quota__counters *c, uint64_t key)
{
	uint32_t i, mask;

	if (!c->cap)
		return 0;
	mask = c->cap - 1;
	for (i = slot_of(key, c->cap);; i = (i + 1) & mask) {
		if (c->keys[i] == key)
			return c->vals[i];
		if (!c->keys[i])
			return 0;
	}
}

static void put(uint64_t *keys, int64_t *vals, uint32_t cap, uint64_t key,
		int64_t val)
{
	uint32_t i, mask = cap - 1;

	for (i = slot_of(key, cap); keys[i]; i = (i + 1) & mask)
		;
	keys[i] = key;
	vals[i] = val;
}

int quota__cnt_reserve(const quota__mem *mem, quota__counters *c,
		       uint32_t extra)
{
	uint64_t *nk;
	int64_t *nv;
	uint32_t ncap, i;

	/* Load at most 1/2 keeps probes short. */
	if ((uint64_t)(c->n + extra) * 2 <= c->cap)
		return QUOTA_OK;
	ncap = c->cap ? c->cap : 32;
	while ((uint64_t)(c->n + extra) * 2 > ncap) {
		if (ncap > UINT32_MAX / 2)
			return QUOTA_ENOMEM;
		ncap *= 2;
	}
	nk = quota__calloc(mem, ncap, sizeof *nk);
	if (!nk)
		return QUOTA_ENOMEM;
	nv = quota__calloc(mem, ncap, sizeof *nv);
	if (!nv) {
		quota__free(mem, nk);
		return QUOTA_ENOMEM;
	}
	for (i = 0; i < c->cap; i++)
		if (c->keys[i])
			put(nk, nv, ncap, c->keys[i], c->vals[i]);
	quota__free(mem, c->keys);
	quota__free(mem, c->vals);
	c->keys = nk;
	c->vals = nv;
	c->cap = ncap;
	return QUOTA_OK;
}

void quota__cnt_add(quota__counters *c, uint64_t key, int64_t delta)
{
	uint32_t i, mask = c->cap - 1;

	for (i = slot_of(key, c->cap);; i = (i + 1) & mask) {
		if (c->keys[i] == key) {
			c->vals[i] += delta;
			return;
		}
		if (!c->keys[i]) {
			c->keys[i] = key;
			c->vals[i] = delta;
			c->n++;
			return;
		}
	}
}

void quota__cnt_free(const quota__mem *mem, quota__counters *c)
{
	quota__free(mem, c->keys);
	quota__free(mem, c->vals);
	c->keys = NULL;
	c->vals = NULL;
	c->cap = c->n = 0;
}
