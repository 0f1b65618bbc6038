/*
 * fuzz_sms.c - libFuzzer target for quota_sms_count (issue 3, STYLE 20).
 *
 * The first input byte picks the option flags, the rest is the text,
 * copied into an exact-size heap buffer so ASan catches any read past len.
 * Invariants: the call either succeeds or fails with QUOTA_EENCODING at an
 * offset inside the text that quota__utf8_valid agrees with; segments >= 1;
 * units fit the segments (single-message capacity iff one segment, never
 * more than segments x per-segment capacity); counting twice gives the
 * same answer, under every vector level the CPU has (issue 16); asking
 * for segment offsets does not change the answer and the offsets increase.
 *
 *   clang -fsanitize=fuzzer,address,undefined ...   (make fuzz-sms)
 *   without -fsanitize=fuzzer, standalone.c replays the seed corpus.
 */
#include "quota.h"
#include "sms_int.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c)                \
	do {                    \
		if (!(c))       \
			abort(); \
	} while (0)

static void caps(const quota_sms_info *i, uint32_t flags, int64_t *single,
		 int64_t *concat)
{
	int ies = (i->shift_locking != 0) + (i->shift_single != 0);

	if (flags & QUOTA_SMS_CN) {
		*single = 70;
		*concat = 67;
	} else if (i->encoding == QUOTA_SMS_UCS2) {
		*single = 70;
		*concat = 67;
	} else {
		*single = ies == 0 ? 160 : ies == 1 ? 155 : 152;
		*concat = ies == 0 ? 153 : ies == 1 ? 149 : 146;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info a, b, c;
	size_t offs[64];
	uint32_t flags = 0;
	char *text;
	size_t len;
	int rc, rc2;

	if (size > 0) {
		static const uint32_t pick[] = {
			0, QUOTA_SMS_SPLIT_CODEPOINTS, QUOTA_SMS_FORCE_UCS2,
			QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_CN,
			QUOTA_SMS_SHIFT_TABLES | QUOTA_SMS_SPLIT_CODEPOINTS,
			QUOTA_SMS_CN | QUOTA_SMS_FORCE_UCS2,
			QUOTA_SMS_FORCE_UCS2 | QUOTA_SMS_SPLIT_CODEPOINTS};
		flags = pick[data[0] & 7];
		data++;
		size--;
	}
	len = size;
	text = malloc(len ? len : 1);
	CHECK(text != NULL);
	if (len)
		memcpy(text, data, len);
	o.flags = flags;
	if (flags & QUOTA_SMS_CN)
		o.signature = "【华为云】";

	rc = quota_sms_count(text, len, &o, &a);
	rc2 = quota_sms_count(text, len, &o, &b);
	CHECK(rc == rc2);
	CHECK(memcmp(&a, &b, sizeof a) == 0);

	/* issue 16: every vector level this CPU has gives the portable
	 * answer (ASan sees any read past len by a kernel). */
	for (int l = QUOTA__SMS_PORTABLE; l <= QUOTA__SMS_NEON; l++) {
		if (quota__sms_force_simd(l) != l)
			continue;
		CHECK(quota_sms_count(text, len, &o, &b) == rc);
		CHECK(memcmp(&a, &b, sizeof a) == 0);
	}
	quota__sms_force_simd(-1);

	size_t bad = 0;
	bool valid = quota__utf8_valid(text, len, &bad);
	if (rc == QUOTA_EENCODING) {
		CHECK(!valid);
		CHECK(a.error_offset == bad && a.error_offset < len);
	} else {
		int64_t single, concat;

		CHECK(rc == QUOTA_OK && valid);
		CHECK(a.segments >= 1 && a.units >= 0);
		caps(&a, flags, &single, &concat);
		CHECK((a.segments == 1) == (a.units <= single));
		CHECK(a.segments == 1 || a.units <= a.segments * concat);
		CHECK(a.units >= a.segments - 1);
		if (flags & QUOTA_SMS_CN)
			CHECK(a.segments == (a.units <= 70 ? 1
						 : (a.units + 66) / 67));
		if (len == 0 && !(flags & QUOTA_SMS_CN))
			CHECK(a.units == 0 && a.segments == 1);

		/* Offsets: same answer, increasing, inside the text. */
		o.segment_offsets = offs;
		o.segment_offsets_cap = 64;
		CHECK(quota_sms_count(text, len, &o, &c) == QUOTA_OK);
		CHECK(c.units == a.units && c.segments == a.segments &&
		      c.encoding == a.encoding);
		CHECK(offs[0] == 0);
		for (int64_t k = 1; k < c.segments && k < 64; k++)
			CHECK(offs[k] >= offs[k - 1] && offs[k] <= len);

		/* max_segments refuses exactly what is longer. */
		o.segment_offsets = NULL;
		o.segment_offsets_cap = 0;
		o.max_segments = (uint32_t)a.segments;
		CHECK(quota_sms_count(text, len, &o, &c) == QUOTA_OK);
		if (a.segments > 1) {
			o.max_segments = (uint32_t)a.segments - 1;
			CHECK(quota_sms_count(text, len, &o, &c) ==
			      QUOTA_ETOOLONG);
		}
	}
	free(text);
	return 0;
}
