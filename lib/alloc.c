/*
 * alloc.c - the context's allocator (STYLE 8): every allocation of a
 * context goes through these, so tests can fail the Nth one.
 */
#include "quota_int.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ud, size_t size)
{
	(void)ud;
	return malloc(size);
}

static void *libc_realloc(void *ud, void *ptr, size_t size)
{
	(void)ud;
	return realloc(ptr, size);
}

static void libc_free(void *ud, void *ptr)
{
	(void)ud;
	free(ptr);
}

void quota__mem_init(quota__mem *m, const quota_allocator *a)
{
	if (a) {
		m->ud = a->ud;
		m->malloc_fn = a->malloc_fn;
		m->realloc_fn = a->realloc_fn;
		m->free_fn = a->free_fn;
	} else {
		m->ud = NULL;
		m->malloc_fn = libc_malloc;
		m->realloc_fn = libc_realloc;
		m->free_fn = libc_free;
	}
}

void *quota__malloc(const quota__mem *m, size_t size)
{
	return m->malloc_fn(m->ud, size ? size : 1);
}

/* Zeroed array allocation with the n * size overflow check calloc does. */
void *quota__calloc(const quota__mem *m, size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	p = quota__malloc(m, total);
	if (p)
		memset(p, 0, total ? total : 1);
	return p;
}

void *quota__realloc(const quota__mem *m, void *p, size_t size)
{
	return m->realloc_fn(m->ud, p, size ? size : 1);
}

/*
 * Geometric growth keeps appends amortised O(1); on failure *p and *cap are
 * untouched, so callers can grow before changing anything (plan / apply).
 */
int quota__grow_to(const quota__mem *m, void **p, size_t *cap, size_t need,
		   size_t size)
{
	size_t ncap, bytes;
	void *np;

	if (need <= *cap)
		return QUOTA_OK;
	ncap = *cap ? *cap : 4;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return QUOTA_ENOMEM;
		ncap *= 2;
	}
	if (__builtin_mul_overflow(ncap, size, &bytes))
		return QUOTA_ENOMEM;
	np = quota__realloc(m, *p, bytes);
	if (!np)
		return QUOTA_ENOMEM;
	*p = np;
	*cap = ncap;
	return QUOTA_OK;
}

void quota__free(const quota__mem *m, void *p)
{
	if (p)
		m->free_fn(m->ud, p);
}

char *quota__strdup(const quota__mem *m, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = quota__malloc(m, n);

	if (d)
		memcpy(d, s, n);
	return d;
}
