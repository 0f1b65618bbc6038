/*
 * utf8.c - strict UTF-8 validation for ids, names and keys (RFC 3629:
 * no overlong forms, no encoded surrogates, nothing above U+10FFFF).
 */
#include "quota_int.h"

bool quota__utf8_valid(const char *str, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) { /* ids and keys are mostly ASCII */
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
