/*
 * write_count.h - counts the general write path's runs (quota__write,
 * journal.c, DESIGN §5), for tests that check a call took a fast path
 * instead.  Include it in one file of a test binary that the Makefile
 * links with --wrap=quota__write (WRAP_FNS += quota__write), after
 * "journal.h" and "quota.h".  Also the hook that sends every charge down
 * the general path, for comparing the two.
 */
#ifndef QUOTA_WRITE_COUNT_H
#define QUOTA_WRITE_COUNT_H

/* quota__write's runs so far, on any context. */
static unsigned write_calls;

int __real_quota__write(quota_ctx *ctx, quota_account *a,
			const quota__step *st, void *op);
int __wrap_quota__write(quota_ctx *ctx, quota_account *a,
			const quota__step *st, void *op);
int __wrap_quota__write(quota_ctx *ctx, quota_account *a,
			const quota__step *st, void *op)
{
	write_calls++;
	return __real_quota__write(ctx, a, st, op);
}

/* An event hook sends every charge down the general path. */
static inline int quiet_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

#endif /* QUOTA_WRITE_COUNT_H */
