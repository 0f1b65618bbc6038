/*
 * charge_bad_input.c - a gateway fed a malformed request must refuse it
 * cleanly: the charge returns a specific error, the account is unchanged
 * (R8), and the program exits with status 2 and a message on stderr.
 *
 * Requests are "category units unix-time" lines; the third one below has
 * negative units.
 */
#include <quota.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *requests[] = {
	"sms.verify 1 1732406400",
	"sms.verify 2 1732406460",
	"sms.verify -3 1732406520", /* bad: negative units */
	"sms.verify 1 1732406580",
};

int main(void)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_package_spec spec = {.id = "starter",
				   .units = 100,
				   .effective_at = 1732406400 - 86400,
				   .expires_at = QUOTA_NEVER};
	uint32_t cat;
	size_t i;

	if (quota_ctx_new(&ctx) || quota_category_add(ctx, "sms.verify", &cat) ||
	    quota_account_new(ctx, "acct-1", &a))
		return 1;
	spec.categories = QUOTA_MASK(cat);
	if (quota_package_add(a, &spec, NULL))
		return 1;
	for (i = 0; i < sizeof requests / sizeof *requests; i++) {
		char name[64];
		long long units, at;
		quota_usage u = {0};
		quota_receipt r;
		int64_t before = quota_account_remaining(a, cat, 1732406400);
		int rc;

		if (sscanf(requests[i], "%63s %lld %lld", name, &units, &at) != 3 ||
		    quota_category_find(ctx, name, &u.category)) {
			fprintf(stderr, "charge_bad_input: unparsable request '%s'\n",
				requests[i]);
			quota_ctx_free(ctx);
			return 2;
		}
		u.units = units;
		u.at = at;
		rc = quota_charge(a, &u, &r);
		if (rc != QUOTA_OK) {
			/* Nothing was charged: the package is as it was. */
			int64_t after = quota_account_remaining(a, cat, 1732406400);

			fprintf(stderr,
				"charge_bad_input: request %zu '%s' refused: %s: %s "
				"(remaining %" PRId64 " before, %" PRId64 " after)\n",
				i + 1, requests[i], quota_err_name(rc),
				quota_errmsg(ctx), before, after);
			quota_ctx_free(ctx);
			return after == before ? 2 : 1;
		}
		printf("request %zu: charged %" PRId64 " units (%" PRId64
		       " from packages)\n",
		       i + 1, r.units, r.package_units);
	}
	quota_ctx_free(ctx);
	return 0;
}
