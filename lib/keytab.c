/*
 * keytab.c - growing the key window's table, and rebuilding it without
 * its deleted slots (R11, issue 16; keytab.h).
 */
#include "keytab.h"

/*
 * The table without its deleted slots, in place (a full window allocates
 * nothing): every key is marked to place again, then each goes in the
 * first group of its probe with a slot empty or still to place, its own
 * group if that is the one, else swapped into that slot (and what was
 * there placed next).  A group that a key placed went past has no slot
 * left to place, so none of its slots becomes empty again.
 */
enum { TO_PLACE = 0x02 };

static void table_rebuild(quota__keys *k)
{
	quota__keyslot *const tab = k->tab;
	uint8_t *const ctrl = k->ctrl;
	const uint32_t mask = k->cap - 1;
	uint32_t i;

	for (i = 0; i < k->cap; i++)
		ctrl[i] = ctrl[i] & 0x80 ? TO_PLACE : 0;
	for (i = 0; i < k->cap; i++)
		while (ctrl[i] == TO_PLACE) {
			const uint32_t h = tab[i].hash;
			uint32_t g, j;
			uint64_t fr;
			quota__keyslot t;

			g = quota__kt_group_of(quota__kt_home(h, k->cap));
			while (!(fr = quota__kt_free_bytes(
					 quota__kt_group(ctrl, g))))
				g = (g + 8) & mask;
			j = g + quota__kt_first(fr);
			if (quota__kt_group_of(j) == quota__kt_group_of(i)) {
				ctrl[i] = quota__kt_tag_of(h);
			} else if (!ctrl[j]) {
				quota__kt_place(tab, ctrl, j, h, tab[i].rec);
				ctrl[i] = 0;
			} else {
				t = tab[j];
				tab[j] = tab[i];
				ctrl[j] = quota__kt_tag_of(h);
				tab[i] = t;
			}
		}
	k->ndel = 0;
}

/* Room in the table for one more key: at most half full (a small table
 * 3/8, quota__kt_room), and at most an eighth deleted slots (else it is
 * rebuilt without them: a look-up of a new key goes on to a group with an
 * empty slot). */
int quota__keytab_reserve(const quota__mem *mem, quota__keys *k)
{
	quota__keyslot *nt;
	uint8_t *nc;
	uint32_t ncap, i;

	if (k->n < quota__kt_room(k->cap)) {
		if (k->ndel > k->cap / 8)
			table_rebuild(k);
		return QUOTA_OK;
	}
	if (k->cap > UINT32_MAX / 4)
		return QUOTA_ENOMEM;
	ncap = k->cap ? k->cap * 2 : 64;
	/* The control bytes say which slots are full; slots need no zeroing. */
	nt = quota__malloc(mem, (size_t)ncap * sizeof *nt);
	nc = nt ? quota__calloc(mem, ncap, 1) : NULL;
	if (!nc) {
		quota__free(mem, nt);
		return QUOTA_ENOMEM;
	}
	for (i = 0; i < k->cap; i++)
		if (k->ctrl[i] & 0x80)
			quota__kt_put(nt, nc, ncap, k->tab[i].hash,
				      k->tab[i].rec);
	quota__free(mem, k->tab);
	quota__free(mem, k->ctrl);
	k->tab = nt;
	k->ctrl = nc;
	k->cap = ncap;
	k->ndel = 0;
	return QUOTA_OK;
}

uint64_t quota__keys_probes(const quota__keys *k)
{
	uint64_t total = 0;
	uint32_t i;

	/* groups read */
	for (i = 0; i < k->cap; i++)
		if (k->ctrl[i] & 0x80)
			total += ((i - quota__kt_group_of(quota__kt_home(
						k->tab[i].hash, k->cap))) &
				  (k->cap - 1)) / 8 + 1;
	return total;
}
