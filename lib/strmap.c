/*
 * strmap.c - a small open-addressing map from borrowed strings to
 * pointers, for account, tariff and package ids.  Growth is separate from
 * insertion so callers can allocate first and mutate after (plan / apply).
 */
#include "ctx.h"

#include <string.h>

/* Ids come from the host's customers (account ids, package ids), so a
 * keyed hash: with an unkeyed one (FNV-1a until 0.1) anyone could pick
 * ids that all land in one slot and make every look-up walk them all. */
uint64_t quota__strhash(const quota__hkey *hk, const char *s)
{
	return quota__siphash13(hk, s, strlen(s));
}

void *quota__strmap_get(const quota__strmap *m, const quota__hkey *hk,
			const char *key)
{
	uint64_t h;
	size_t i, mask;

	if (!m->cap)
		return NULL;
	h = quota__strhash(hk, key);
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		const quota__strmap_entry *e = &m->e[i];

		if (!e->key)
			return NULL;
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e->val;
	}
}

static void put_entry(quota__strmap_entry *tab, size_t cap, uint64_t h,
		      const char *key, void *val)
{
	size_t i, mask = cap - 1;

	for (i = h & mask; tab[i].key; i = (i + 1) & mask)
		;
	tab[i].hash = h;
	tab[i].key = key;
	tab[i].val = val;
}

int quota__strmap_reserve(const quota__mem *mem, quota__strmap *m)
{
	quota__strmap_entry *ne;
	size_t ncap, i;

	/* Keep the load at most 1/2. */
	if ((m->n + 1) * 2 <= m->cap)
		return QUOTA_OK;
	ncap = m->cap ? m->cap * 2 : 16;
	ne = quota__calloc(mem, ncap, sizeof *ne);
	if (!ne)
		return QUOTA_ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->e[i].key)
			put_entry(ne, ncap, m->e[i].hash, m->e[i].key,
				  m->e[i].val);
	quota__free(mem, m->e);
	m->e = ne;
	m->cap = ncap;
	return QUOTA_OK;
}

void quota__strmap_put(quota__strmap *m, const quota__hkey *hk,
		       const char *key, void *val)
{
	put_entry(m->e, m->cap, quota__strhash(hk, key), key, val);
	m->n++;
}

/* Take key out (it must be in m), by backward shift: the entries after
 * it in its run move up to where a probe from their home still finds
 * them, so no tombstone is left and lookups stay as short as before.
 * Cannot fail; the key's memory is the caller's to free afterwards. */
void quota__strmap_del(quota__strmap *m, const quota__hkey *hk,
		       const char *key)
{
	uint64_t h;
	size_t i, j, mask;

	if (!m->cap)
		return;
	h = quota__strhash(hk, key);
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		if (!m->e[i].key)
			return; /* not there */
		if (m->e[i].hash == h && strcmp(m->e[i].key, key) == 0)
			break;
	}
	for (j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
		size_t k = m->e[j].hash & mask;

		/* j's home k lies cyclically in (i, j]: it stays. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->e[i] = m->e[j];
		i = j;
	}
	m->e[i].key = NULL;
	m->e[i].val = NULL;
	m->e[i].hash = 0;
	m->n--;
}

uint64_t quota__strmap_probes(const quota__strmap *m)
{
	uint64_t total = 0;
	size_t i, mask = m->cap - 1;

	for (i = 0; i < m->cap; i++)
		if (m->e[i].key)
			total += ((i - (size_t)m->e[i].hash) & mask) + 1;
	return total;
}

void quota__strmap_free(const quota__mem *mem, quota__strmap *m)
{
	quota__free(mem, m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}
