/*
 * source.c - storage for copies of source records (quota__box): holds
 * (R10) and key records (R11) keep where a charge's units came from, and
 * most of them have one package draw and one pay-as-you-go line, so those
 * come in one fixed-size box per owner type, recycled through a free list.
 */
#include "ctx.h"

#include <string.h>

/* The owner's struct, rounded so the arrays after it are aligned. */
static size_t head_of(size_t size)
{
	return (size + 15) & ~(size_t)15;
}

/* Carve a block into owner head, draws and paygs. */
static quota__box *carve(char *b, size_t head, size_t ndraws, bool small)
{
	quota__box *box = (quota__box *)(void *)b;

	memset(b, 0, head);
	box->small = small;
	box->src.draws = (quota__draw *)(void *)(b + head);
	box->src.paygs = (quota__payg *)(void *)(b + head +
						 ndraws * sizeof(quota__draw));
	return box;
}

quota__box *quota__box_small(const quota__mem *mem, quota__box **free_list,
			     size_t size)
{
	quota__box *box = *free_list;
	size_t head = head_of(size);
	char *b;

	if (box) {
		*free_list = box->next_free;
		return box;
	}
	b = quota__malloc(mem, head + sizeof(quota__draw) +
				       sizeof(quota__payg));
	return b ? carve(b, head, 1, true) : NULL;
}

void quota__src_assign(quota__src *d, const quota__src *s)
{
	quota__draw *dd = d->draws;
	quota__payg *dp = d->paygs;

	*d = *s;
	d->draws = dd;
	d->paygs = dp;
	if (s->ndraws)
		memcpy(dd, s->draws, s->ndraws * sizeof *dd);
	if (s->npayg)
		memcpy(dp, s->paygs, s->npayg * sizeof *dp);
}

quota__box *quota__box_new(const quota__mem *mem, quota__box **free_list,
			   size_t size, const quota__src *src)
{
	size_t head = head_of(size), dsz, psz;
	quota__box *box;
	char *b;

	if (src->ndraws <= 1 && src->npayg <= 1) {
		box = quota__box_small(mem, free_list, size);
	} else {
		dsz = (size_t)src->ndraws * sizeof(quota__draw);
		psz = (size_t)src->npayg * sizeof(quota__payg);
		b = quota__malloc(mem, head + dsz + psz);
		box = b ? carve(b, head, src->ndraws, false) : NULL;
	}
	if (box)
		quota__src_assign(&box->src, src);
	return box;
}

void quota__box_free_list(const quota__mem *mem, quota__box **free_list)
{
	quota__box *b;

	while ((b = *free_list)) {
		*free_list = b->next_free;
		quota__free(mem, b);
	}
}
