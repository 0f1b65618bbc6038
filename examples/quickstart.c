/*
 * quickstart.c - the README's first program, built and run by
 * `make check` so the README cannot drift from the API.
 */
#include <quota.h>
#include <stdio.h>

int main(void)
{
	quota_ctx *ctx;  quota_account *a;  quota_tariff *t;  uint32_t sms;
	quota_ctx_new(&ctx);
	quota_category_add(ctx, "sms.notify", &sms);
	quota_tariff_new(ctx, "std", &t);
	quota_tariff_add_tier(t, QUOTA_UNLIMITED, 45000);      /* 0.045 per segment */
	quota_account_new(ctx, "acme", &a);
	quota_account_set_tariff(a, sms, t);
	quota_package_spec p = { .id = "10k", .categories = QUOTA_MASK(sms), .units = 10000,
	                         .effective_at = 1714521600, .expires_at = 1746057600 };
	quota_package_add(a, &p, NULL);
	quota_usage u = { .category = sms, .units = 3, .at = 1714608000 };
	quota_receipt r;
	if (quota_charge(a, &u, &r) != QUOTA_OK) fprintf(stderr, "%s\n", quota_errmsg(ctx));
	/* r.package_units == 3, r.payg_units == 0 */
	printf("charged %lld units: %lld from packages, %lld pay-as-you-go\n",
	       (long long)r.units, (long long)r.package_units, (long long)r.payg_units);
	int ok = r.package_units == 3 && r.payg_units == 0;
	quota_ctx_free(ctx);
	return ok ? 0 : 1;
}
