/*
 * scale.c - quota-sim's --scale (quota-sim(1)): a row's share of the
 * scaled traffic, and the keyed rows kept to tell a retry from more
 * traffic (a repeat is sent at its first occurrence's size, R11), for
 * qs_sim_row in sim.c.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

/* floor(raw * scale / 1e6) without overflow for raw, scale < 2^62. */
bool qs_scaled(int64_t raw, int64_t sc, int64_t *out)
{
	int64_t q = raw / 1000000, r = raw % 1000000, a, b;

	if (!qs_mul(q, sc, &a) || !qs_mul(r, sc / 1000000, &b) ||
	    !qs_add(a, b, &a) ||
	    !qs_add(a, r * (sc % 1000000) / 1000000, out))
		return false;
	return true;
}

/* --scale: the keyed row of account a with that key, or NULL. */
qs_keyent *qs_key_find(const qs_sim *s, const qs_acct *a, const char *k,
		       size_t n, size_t *slot)
{
	size_t h;

	if (!s->kcap)
		return NULL;
	for (h = (qs_hash(k, n) ^ (uintptr_t)a) & (s->kcap - 1); s->ktab[h];
	     h = (h + 1) & (s->kcap - 1)) {
		qs_keyent *e = &s->keys[s->ktab[h] - 1];

		if (e->a == a && e->klen == n && !memcmp(e->key, k, n))
			return e;
	}
	if (slot)
		*slot = h;
	return NULL;
}

/* --scale: remember (or update) a keyed row as charged. */
void qs_key_put(qs_sim *s, const qs_acct *a, const qs_row *row, int cat,
		int64_t raw, int64_t scaled)
{
	qs_keyent *e;
	size_t slot = 0, i;

	if (2 * (s->nkeys + 1) > s->kcap) {
		size_t cap = s->kcap ? s->kcap * 2 : 1024;

		free(s->ktab);
		s->ktab = qs_alloc(cap * sizeof *s->ktab);
		s->kcap = cap;
		for (i = 0; i < s->nkeys; i++) {
			const qs_keyent *x = &s->keys[i];
			size_t h = (qs_hash(x->key, x->klen) ^ (uintptr_t)x->a) &
				   (cap - 1);

			while (s->ktab[h])
				h = (h + 1) & (cap - 1);
			s->ktab[h] = (uint32_t)i + 1;
		}
	}
	if (!(e = qs_key_find(s, a, row->key, row->key_len, &slot))) {
		s->keys = qs_grow(s->keys, &s->ckeys, s->nkeys + 1,
				  sizeof *s->keys);
		e = &s->keys[s->nkeys++];
		e->a = a;
		e->klen = (uint32_t)row->key_len;
		memcpy(e->key, row->key, row->key_len);
		s->ktab[slot] = (uint32_t)s->nkeys;
	}
	e->cat = cat;
	e->at = row->at;
	e->raw = raw;
	e->scaled = scaled;
}

/* --scale: a repeat of a key that the library charged anew (the key had
 * left its window, R11) is more traffic after all: the running totals
 * take it (the next rows' share is never below 0, qs_sim_row). */
void qs_scale_more(qs_acct *a, int c, int64_t raw, int64_t units)
{
	int64_t x;

	if (qs_add(a->scale_raw[c], raw, &x))
		a->scale_raw[c] = x;
	if (qs_add(a->scale_done[c], units, &x))
		a->scale_done[c] = x;
}

