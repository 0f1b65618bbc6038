/*
 * charge_sms.c - charge an SMS by its text (issue 3, DESIGN.md §3): count
 * the segments, then charge them through the public quota_charge, so that
 * every R-rule (R1-R11) applies exactly as for a host-supplied unit count.
 */
#include "quota_int.h"

#include <string.h>

/* Count first; a text that cannot be counted (invalid UTF-8, too long,
 * bad options) charges nothing (R8) and says why on the account's context.
 * The segments become usage.units; everything else is quota_charge's. */
int quota_charge_sms(quota_account *a, uint32_t category, const char *utf8,
		     size_t len, const quota_sms_opts *opts, int64_t at,
		     const char *key, quota_receipt *receipt,
		     quota_sms_info *info)
{
	quota_sms_info local;
	quota_sms_info *inf = info ? info : &local;
	quota_usage usage;
	int rc;

	if (receipt)
		memset(receipt, 0, sizeof *receipt);
	if (!a || !receipt) {
		if (info)
			memset(info, 0, sizeof *info);
		return a ? quota__err(quota_account_ctx(a), QUOTA_EINVAL,
				      "quota_charge_sms: receipt is NULL")
			 : QUOTA_EINVAL;
	}
	rc = quota_sms_count(utf8, len, opts, inf);
	switch (rc) {
	case QUOTA_OK:
		break;
	case QUOTA_EENCODING:
		return quota__err(quota_account_ctx(a), rc,
				  "SMS text: invalid UTF-8 at byte %zu",
				  inf->error_offset);
	case QUOTA_ETOOLONG:
		return quota__err(quota_account_ctx(a), rc,
				  "SMS text: %lld segments (%lld units) exceed "
				  "the limit",
				  (long long)inf->segments,
				  (long long)inf->units);
	default:
		return quota__err(quota_account_ctx(a), rc,
				  "SMS text: invalid arguments or options");
	}
	memset(&usage, 0, sizeof usage);
	usage.category = category;
	usage.units = inf->segments;
	usage.at = at;
	usage.key = key;
	return quota_charge(a, &usage, receipt);
}
