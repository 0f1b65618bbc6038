/*
 * sms_shift.c - membership in the 3GPP TS 23.038 Annex A national language
 * tables (QUOTA_SMS_SHIFT_TABLES, DESIGN.md §3).  The tables themselves
 * are in lib/sms_shift_tables.h.
 */
#include "sms_int.h"
#include "sms_shift_tables.h"

/* Binary search of the merged, sorted index: one lookup answers for all
 * 14 locking and 14 single shift tables at once. */
void quota__sms_nat_masks(uint32_t cp, uint32_t *lock, uint32_t *single)
{
	size_t lo = 0, hi = QUOTA__SMS_NAT_N;

	*lock = 0;
	*single = 0;
	if (cp > 0xFFFF)
		return;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (quota__sms_nat[mid].cp < cp) {
			lo = mid + 1;
		} else if (quota__sms_nat[mid].cp > cp) {
			hi = mid;
		} else {
			*lock = quota__sms_nat[mid].lock;
			*single = quota__sms_nat[mid].single;
			return;
		}
	}
}
