/*
 * error.c - status codes (one X-macro list, STYLE 5), version, and the
 * per-context last error message (STYLE 6).
 */
#include "quota_int.h"
#include "quota_store.h"
#include "ctx.h"

#include <stdio.h>

const char *quota_strerror(int rc)
{
	switch (rc) {
#define QUOTA_ERR_STR_(name, value, msg) \
	case value:                      \
		return msg;
		QUOTA_ERRNO_MAP(QUOTA_ERR_STR_)
#undef QUOTA_ERR_STR_
	default:
		return "unknown error";
	}
}

const char *quota_err_name(int rc)
{
	switch (rc) {
#define QUOTA_ERR_NAME_(name, value, msg) \
	case value:                       \
		return "QUOTA_" #name;
		QUOTA_ERRNO_MAP(QUOTA_ERR_NAME_)
#undef QUOTA_ERR_NAME_
	default:
		return "QUOTA_E?";
	}
}

#define QUOTA__STR2(x) #x
#define QUOTA__STR(x) QUOTA__STR2(x)

const char *quota_version(void)
{
	return QUOTA__STR(QUOTA_VERSION_MAJOR) "." QUOTA__STR(
		QUOTA_VERSION_MINOR) "." QUOTA__STR(QUOTA_VERSION_PATCH);
}

uint32_t quota_version_number(void)
{
	return QUOTA_VERSION_NUMBER;
}

int quota__err(quota_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;

	if (ctx) {
		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int quota_ctx_set_error(quota_ctx *ctx, int code, const char *msg)
{
	return quota__err(ctx, code, "%s", msg ? msg : "");
}

void quota__ok(quota_ctx *ctx)
{
	if (ctx)
		ctx->errmsg[0] = '\0';
}

const char *quota_errmsg(const quota_ctx *ctx)
{
	return ctx ? ctx->errmsg : "no context";
}
