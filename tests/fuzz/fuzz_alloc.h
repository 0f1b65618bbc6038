/*
 * fuzz_alloc.h - what the fuzz targets share: CHECK (abort, which the
 * fuzzer reports, on a broken expectation) and an allocator that counts
 * the blocks alive, so each target can require that a refused input
 * leaves nothing allocated.  Included once per target.
 */
#ifndef QUOTA_FUZZ_ALLOC_H
#define QUOTA_FUZZ_ALLOC_H

#include <stdlib.h>

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static long live; /* blocks allocated and not freed */

static void *f_malloc(void *ud, size_t n)
{
	void *p = malloc(n ? n : 1);

	(void)ud;
	if (p)
		live++;
	return p;
}

static void *f_realloc(void *ud, void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	(void)ud;
	if (q && !p)
		live++;
	return q;
}

static void f_free(void *ud, void *p)
{
	(void)ud;
	if (p) {
		live--;
		free(p);
	}
}

#endif /* QUOTA_FUZZ_ALLOC_H */
