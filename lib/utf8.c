/*
 * utf8.c - strict UTF-8 validation for ids, names and keys (RFC 3629:
 * no overlong forms, no encoded surrogates, nothing above U+10FFFF).
 */
#include "quota_int.h"

#include <string.h>

bool quota__utf8_valid(const char *str, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	uint32_t cp;
	uint64_t w;

	while (i < len) {
		/* Ids and keys are mostly ASCII: 8 bytes at a time while no
		 * byte has its high bit set (a keyed charge validates its
		 * key on every call). */
		if (len - i >= 8) {
			memcpy(&w, s + i, sizeof w);
			if (!(w & UINT64_C(0x8080808080808080))) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = quota__u8dec(s, len, i, &cp);
		if (!n) {
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += n;
	}
	return true;
}
