/*
 * quota_int.h - private declarations shared between lib/ files.
 * Nothing here is exported; helpers are named quota__x.
 */
#ifndef QUOTA_INT_H
#define QUOTA_INT_H

#include "quota.h"

#include <stdarg.h>
#include <stdbool.h>

/* ------------------------------------------------------------ allocation */

typedef struct quota__mem {
	void *ud;
	void *(*malloc_fn)(void *ud, size_t size);
	void *(*realloc_fn)(void *ud, void *ptr, size_t size);
	void (*free_fn)(void *ud, void *ptr);
} quota__mem;

void quota__mem_init(quota__mem *m, const quota_allocator *a);
void *quota__malloc(const quota__mem *m, size_t size);
void *quota__calloc(const quota__mem *m, size_t n, size_t size);
void *quota__realloc(const quota__mem *m, void *p, size_t size);
/* Grow *p to hold at least need elements of size; doubles. */
int quota__grow(const quota__mem *m, void **p, size_t *cap, size_t need,
		size_t size);
void quota__free(const quota__mem *m, void *p);
char *quota__strdup(const quota__mem *m, const char *s);

/* ---------------------------------------------------------------- errors */

#define QUOTA__ERRMSG_MAX 256

/* Record what went wrong on ctx and return rc (so: return quota__err(...)). */
int quota__err(quota_ctx *ctx, int rc, const char *fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* Forget the last error (successful calls on ctx). */
void quota__ok(quota_ctx *ctx);

/* ------------------------------------------------------------------ utf8 */

/*
 * Validate UTF-8 (no overlongs, surrogates or values above U+10FFFF).
 * Returns true if valid; else false and *bad_offset is the offset of the
 * first byte of the bad sequence.
 */
bool quota__utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Checked arithmetic: return true on overflow. */
static inline bool quota__add_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}
static inline bool quota__mul_ovf(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

#endif /* QUOTA_INT_H */
