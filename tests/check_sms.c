/*
 * check_sms.c - unit tests for SMS segment counting and charging by text
 * (DESIGN.md §3, issue 3).  Test names cite the rule they check.
 */
#include "quota.h"
#include "testutil.h"
#include "sms_int.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GBTEST "/usr/share/unicode/auxiliary/GraphemeBreakTest.txt"

/* Build text from repeated pieces: rep(buf, "a", 152, "]", 1, NULL). */
static size_t rep(char *buf, ...)
{
	va_list ap;
	size_t n = 0;
	const char *piece;

	va_start(ap, buf);
	while ((piece = va_arg(ap, const char *)) != NULL) {
		int times = va_arg(ap, int);
		size_t k = strlen(piece);
		for (int i = 0; i < times; i++) {
			memcpy(buf + n, piece, k);
			n += k;
		}
	}
	va_end(ap);
	buf[n] = '\0';
	return n;
}

/* Every text counted from a block of exactly its size under
 * QUOTA_TEST_EXACT (tu_exact). */
static quota_sms_info count(const char *s, size_t n, uint32_t flags, int *rc)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info info;

	o.flags = flags;
	*rc = quota_sms_count(tu_exact(s, n), n, &o, &info);
	return info;
}

#define EXPECT(text, n, flags, e_enc, e_units, e_segs)                     \
	do {                                                               \
		int rc_;                                                   \
		quota_sms_info i_ = count((text), (n), (flags), &rc_);     \
		ck_assert_int_eq(rc_, QUOTA_OK);                           \
		ck_assert_int_eq(i_.encoding, (e_enc));                    \
		ck_assert_int_eq(i_.units, (e_units));                     \
		ck_assert_int_eq(i_.segments, (e_segs));                   \
	} while (0)

static char buf[8192];

/* ------------------------------------------------------------- GSM 7-bit */

START_TEST(test_s3_escape_pair_never_split_153_brackets)
{
	size_t n = rep(buf, "]", 153, NULL);
	/* 306 septets: division would say 2, greedy packing says 3. */
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 306, 3);
}
END_TEST

START_TEST(test_s3_gsm_160_single_161_concat)
{
	size_t n = rep(buf, "a", 160, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 160, 1);
	n = rep(buf, "a", 161, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 161, 2);
	n = rep(buf, "a", 306, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 306, 2);
	n = rep(buf, "a", 307, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 307, 3);
}
END_TEST

START_TEST(test_s3_extension_costs_two_septets)
{
	const char *ext[] = {"^", "{", "}", "\\", "[", "~", "]", "|", "€",
			     "\f"};
	for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
		size_t n = rep(buf, ext[k], 80, NULL);
		EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 160, 1);
		n = rep(buf, ext[k], 81, NULL);
		EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 162, 2);
	}
}
END_TEST

START_TEST(test_s3_escape_pair_never_split_at_153)
{
	size_t off[4];
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info info;
	/* 152 + 2 + 152 = 306 septets: the pair moves to segment 2, which
	 * then overflows into a third. */
	size_t n = rep(buf, "a", 152, "]", 1, "a", 152, NULL);

	o.segment_offsets = off;
	o.segment_offsets_cap = 4;
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &info), QUOTA_OK);
	ck_assert_int_eq(info.units, 306);
	ck_assert_int_eq(info.segments, 3);
	ck_assert_uint_eq(off[0], 0);
	ck_assert_uint_eq(off[1], 152); /* the ']' starts segment 2 */
	ck_assert_uint_eq(off[2], 152 + 1 + 151);
	/* One fewer: 305 septets fit two segments. */
	n = rep(buf, "a", 152, "]", 1, "a", 151, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 305, 2);
}
END_TEST

START_TEST(test_s3_only_capital_c_cedilla_is_gsm)
{
	EXPECT("Ç", 2, 0, QUOTA_SMS_GSM7, 1, 1);
	EXPECT("ç", 2, 0, QUOTA_SMS_UCS2, 1, 1);
}
END_TEST

START_TEST(test_s3_greek_capitals_not_lookalikes)
{
	EXPECT("ΔΦΓΛΩΠΨΣΘΞ", 20, 0, QUOTA_SMS_GSM7, 10, 1);
	EXPECT("α", 2, 0, QUOTA_SMS_UCS2, 1, 1);      /* lowercase */
	EXPECT("Α", 2, 0, QUOTA_SMS_UCS2, 1, 1);      /* U+0391 looks like A */
	EXPECT("Ω Ο", 5, 0, QUOTA_SMS_UCS2, 3, 1);    /* U+039F looks like O */
}
END_TEST

START_TEST(test_s3_crlf_is_two_gsm_characters)
{
	EXPECT("a\r\nb", 4, 0, QUOTA_SMS_GSM7, 4, 1);
	/* ... and may be split: 152 + CR | LF + 152. */
	size_t n = rep(buf, "a", 152, "\r\n", 1, "a", 152, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_GSM7, 306, 2);
	n = rep(buf, "ж", 66, "\r\n", 1, "ж", 66, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 134, 2);
}
END_TEST

START_TEST(test_s3_ascii_fast_path_matches_slow_path)
{
	/* Every printable ASCII char in every position of a word. */
	for (int c = 0; c < 128; c++) {
		for (int pos = 0; pos < 17; pos++) {
			int rc;
			size_t n = rep(buf, "a", 40, NULL);
			quota_sms_info fast, slow;
			quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
			size_t off[8];

			buf[pos] = (char)c;
			fast = count(buf, n, 0, &rc);
			ck_assert_int_eq(rc, QUOTA_OK);
			o.segment_offsets = off;
			o.segment_offsets_cap = 8;
			ck_assert_int_eq(quota_sms_count(buf, n, &o, &slow),
					 QUOTA_OK);
			ck_assert_int_eq(fast.units, slow.units);
			ck_assert_int_eq(fast.encoding, slow.encoding);
			bool gsm = (c == '\n' || c == '\r' || c == '\f' ||
				    (c >= 0x20 && c < 0x7F && c != '`'));
			ck_assert_int_eq(fast.encoding,
					 gsm ? QUOTA_SMS_GSM7 : QUOTA_SMS_UCS2);
		}
	}
}
END_TEST

/* --------------------------------------------------------------- UCS-2 */

START_TEST(test_s3_ucs2_70_single_71_concat)
{
	size_t n = rep(buf, "ж", 70, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 70, 1);
	n = rep(buf, "ж", 71, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 71, 2);
	n = rep(buf, "ж", 134, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 134, 2);
	n = rep(buf, "ж", 135, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 135, 3);
	/* Extension characters cost 1 unit in UCS-2. */
	n = rep(buf, "ж", 1, "]", 69, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 70, 1);
}
END_TEST

START_TEST(test_s3_surrogate_pair_never_split)
{
	size_t n = rep(buf, "ж", 66, "😀", 1, "ж", 65, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 133, 2);
	n = rep(buf, "ж", 66, "😀", 1, "ж", 66, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 134, 3);
	/* Even when splitting between code points. */
	EXPECT(buf, n, QUOTA_SMS_SPLIT_CODEPOINTS, QUOTA_SMS_UCS2, 134, 3);
	n = rep(buf, "😀", 35, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 70, 1);
}
END_TEST

START_TEST(test_s3_zwj_sequence_kept_whole_by_default)
{
	/* man ZWJ woman ZWJ girl: 8 units, one cluster. */
	size_t n = rep(buf, "ж", 60, "👨‍👩‍👧", 1, "ж", 60, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 128, 3);
	EXPECT(buf, n, QUOTA_SMS_SPLIT_CODEPOINTS, QUOTA_SMS_UCS2, 128, 2);
}
END_TEST

START_TEST(test_s3_flag_kept_whole_by_default)
{
	size_t n = rep(buf, "ж", 65, "🇫🇷", 1, "ж", 64, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 133, 3);
	EXPECT(buf, n, QUOTA_SMS_SPLIT_CODEPOINTS, QUOTA_SMS_UCS2, 133, 2);
}
END_TEST

START_TEST(test_s3_combining_mark_kept_with_base)
{
	size_t n = rep(buf, "ж", 66, "e\xCC\x81", 1, "ж", 66, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 134, 3);
	EXPECT(buf, n, QUOTA_SMS_SPLIT_CODEPOINTS, QUOTA_SMS_UCS2, 134, 2);
	/* A multi-code-point cluster forces UCS-2. */
	EXPECT("e\xCC\x81", 3, 0, QUOTA_SMS_UCS2, 2, 1);
}
END_TEST

START_TEST(test_s3_cluster_larger_than_segment_is_split)
{
	/* 'a' + 100 combining marks: 101 units, bigger than a segment;
	 * kept whole it could never be sent, so it is split (23.040: 140
	 * octets per segment). */
	size_t n = rep(buf, "a", 1, "\xCC\x81", 100, NULL);
	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 101, 2);
}
END_TEST

START_TEST(test_s3_force_ucs2)
{
	EXPECT("abc", 3, QUOTA_SMS_FORCE_UCS2, QUOTA_SMS_UCS2, 3, 1);
	size_t n = rep(buf, "a", 71, NULL);
	EXPECT(buf, n, QUOTA_SMS_FORCE_UCS2, QUOTA_SMS_UCS2, 71, 2);
}
END_TEST

START_TEST(test_s3_segment_offsets_ucs2_cluster)
{
	size_t off[4] = {9, 9, 9, 9};
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info info;
	size_t n = rep(buf, "ж", 60, "👨‍👩‍👧", 1, "ж", 60, NULL);

	o.segment_offsets = off;
	o.segment_offsets_cap = 2; /* fewer than the segments: truncated */
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &info), QUOTA_OK);
	ck_assert_int_eq(info.segments, 3);
	ck_assert_uint_eq(off[0], 0);
	ck_assert_uint_eq(off[1], 120); /* the family emoji */
	ck_assert_uint_eq(off[2], 9);   /* untouched */
}
END_TEST

/* ---------------------------------------------------------------- empty */

START_TEST(test_s3_empty_message_one_segment_zero_units)
{
	EXPECT("", 0, 0, QUOTA_SMS_GSM7, 0, 1);
	EXPECT(NULL, 0, 0, QUOTA_SMS_GSM7, 0, 1);
	EXPECT("", 0, QUOTA_SMS_FORCE_UCS2, QUOTA_SMS_UCS2, 0, 1);
	EXPECT("", 0, QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_GSM7, 0, 1);
}
END_TEST

/* ----------------------------------------------------------------- China */

static quota_sms_info count_cn(const char *sig, size_t chars, int *rc)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info info;
	size_t n = rep(buf, "短", (int)chars, NULL);

	o.flags = QUOTA_SMS_CN;
	o.signature = sig;
	*rc = quota_sms_count(buf, n, &o, &info);
	return info;
}

START_TEST(test_s3_china_68_134_135)
{
	int rc;
	quota_sms_info i = count_cn(NULL, 68, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(i.segments, 1);
	i = count_cn(NULL, 70, &rc);
	ck_assert_int_eq(i.segments, 1);
	i = count_cn(NULL, 71, &rc);
	ck_assert_int_eq(i.segments, 2);
	i = count_cn(NULL, 134, &rc);
	ck_assert_int_eq(i.segments, 2);
	i = count_cn(NULL, 135, &rc);
	ck_assert_int_eq(i.segments, 3);
	ck_assert_int_eq(i.units, 135);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_UCS2);
}
END_TEST

START_TEST(test_s3_china_signature_counts_with_brackets)
{
	int rc;
	quota_sms_info i = count_cn("【华为云】", 0, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(i.units, 5);
	i = count_cn("【华为云】", 63, &rc); /* 68 */
	ck_assert_int_eq(i.units, 68);
	ck_assert_int_eq(i.segments, 1);
	i = count_cn("【华为云】", 66, &rc); /* 71 */
	ck_assert_int_eq(i.segments, 2);
}
END_TEST

START_TEST(test_s3_china_ascii_and_astral)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info i;

	o.flags = QUOTA_SMS_CN;
	/* No GSM path: Latin letters count 1, an emoji 2. */
	ck_assert_int_eq(quota_sms_count("ab😀", 6, &o, &i), 0);
	ck_assert_int_eq(i.units, 4);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_UCS2);
}
END_TEST

START_TEST(test_s3_max_segments_too_long)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info i;
	size_t n = rep(buf, "a", 307, NULL);

	o.max_segments = 2;
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &i), QUOTA_ETOOLONG);
	ck_assert_int_eq(i.segments, 3); /* still reported */
	o.max_segments = 3;
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &i), QUOTA_OK);
	/* The China 500-character limit. */
	o.max_segments = 0;
	o.flags = QUOTA_SMS_CN;
	o.max_units = 500;
	n = rep(buf, "短", 501, NULL);
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &i), QUOTA_ETOOLONG);
	n = rep(buf, "短", 500, NULL);
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &i), QUOTA_OK);
	ck_assert_int_eq(i.segments, 8);
}
END_TEST

/* ------------------------------------------------------------- UTF-8 */

START_TEST(test_s3_invalid_utf8_reports_offset)
{
	static const struct {
		const char *s;
		size_t off;
	} bad[] = {
		{"ab\xC0\x80", 2},          /* overlong NUL */
		{"\xE0\x80\xAF", 0},        /* overlong '/' */
		{"xy\xF0\x82\x82\xAC", 2},  /* overlong euro */
		{"a\xED\xA0\x80z", 1},      /* surrogate U+D800 */
		{"\xED\xBF\xBF", 0},        /* surrogate U+DFFF */
		{"abc\xE2\x82", 3},         /* truncated at the end */
		{"abc\xE2\x82z", 3},        /* truncated in the middle */
		{"\xF4\x90\x80\x80", 0},    /* U+110000 */
		{"ok\xF5\x80\x80\x80", 2},  /* lead byte above F4 */
		{"ok\x80", 2},              /* stray continuation */
		{"ж\xFF", 2},               /* 0xFF */
		{"😀😀\xF0\x9F\x98", 8},     /* truncated emoji */
		{"ç]\xC3", 3},              /* after a non-GSM char */
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		uint32_t fl[] = {0, QUOTA_SMS_FORCE_UCS2, QUOTA_SMS_CN,
				 QUOTA_SMS_SHIFT_TABLES,
				 QUOTA_SMS_SPLIT_CODEPOINTS};
		for (size_t f = 0; f < 5; f++) {
			int rc;
			quota_sms_info i =
				count(bad[k].s, strlen(bad[k].s), fl[f], &rc);
			ck_assert_int_eq(rc, QUOTA_EENCODING);
			ck_assert_uint_eq(i.error_offset, bad[k].off);
		}
	}
}
END_TEST

START_TEST(test_s4_bad_arguments)
{
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info i;
	ck_assert_int_eq(quota_sms_count("a", 1, NULL, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_sms_count(NULL, 1, NULL, &i), QUOTA_EINVAL);
	ck_assert_int_eq(quota_sms_count("a", 1, NULL, &i), QUOTA_OK);
	o.version = 99;
	ck_assert_int_eq(quota_sms_count("a", 1, &o, &i), QUOTA_EINVAL);
	o.version = QUOTA_SMS_OPTS_VERSION;
	o.flags = 0x100;
	ck_assert_int_eq(quota_sms_count("a", 1, &o, &i), QUOTA_EINVAL);
	o.flags = QUOTA_SMS_CN | QUOTA_SMS_SHIFT_TABLES;
	ck_assert_int_eq(quota_sms_count("a", 1, &o, &i), QUOTA_EINVAL);
	o.flags = QUOTA_SMS_CN;
	o.signature = "\xC0\x80";
	ck_assert_int_eq(quota_sms_count("a", 1, &o, &i), QUOTA_EINVAL);
	o.signature = NULL;
	o.flags = 0;
	o.segment_offsets_cap = 3; /* without a buffer */
	ck_assert_int_eq(quota_sms_count("a", 1, &o, &i), QUOTA_EINVAL);
}
END_TEST

/* ---------------------------------------------------------- shift tables */

START_TEST(test_s3_shift_turkish_stays_gsm7)
{
	const char *t = "Güneş çok güzel, şimdi İstanbul'dayım.";
	int rc;
	quota_sms_info i = count(t, strlen(t), 0, &rc);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_UCS2);
	i = count(t, strlen(t), QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(rc, QUOTA_OK);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_GSM7);
	ck_assert_int_eq(i.shift_locking, 1); /* Turkish locking table */
	ck_assert_int_eq(i.shift_single, 0);
	ck_assert_int_eq(i.segments, 1);
	ck_assert_int_eq(i.units, 38);
}
END_TEST

START_TEST(test_s3_shift_header_cost_155_149)
{
	/* One table: 155 septets single, 149 per segment. */
	size_t n = rep(buf, "ş", 1, "a", 154, NULL);
	EXPECT(buf, n, QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_GSM7, 155, 1);
	n = rep(buf, "ş", 1, "a", 155, NULL);
	EXPECT(buf, n, QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_GSM7, 156, 2);
	n = rep(buf, "ş", 1, "a", 297, NULL);
	EXPECT(buf, n, QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_GSM7, 298, 2);
	n = rep(buf, "ş", 1, "a", 298, NULL);
	EXPECT(buf, n, QUOTA_SMS_SHIFT_TABLES, QUOTA_SMS_GSM7, 299, 3);
}
END_TEST

START_TEST(test_s3_shift_two_tables_152_146)
{
	/* Portuguese ê (locking) with ΦΓ kept in the default alphabet?
	 * Use Turkish locking (ş) + Spanish single shift (á): 2 IEs. */
	int rc;
	size_t n = rep(buf, "ş", 1, "á", 1, "a", 149, NULL); /* 1+2+149 */
	quota_sms_info i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_GSM7);
	ck_assert_int_eq(i.shift_locking, 1);
	ck_assert_int_eq(i.shift_single, 2);
	ck_assert_int_eq(i.units, 152);
	ck_assert_int_eq(i.segments, 1);
	n = rep(buf, "ş", 1, "á", 1, "a", 150, NULL); /* 153 > 152 */
	i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(i.segments, 2);
	n = rep(buf, "ş", 1, "á", 1, "a", 289, NULL); /* 292 = 2 x 146 */
	i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(i.segments, 2);
	n = rep(buf, "ş", 1, "á", 1, "a", 290, NULL);
	i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(i.segments, 3);
}
END_TEST

START_TEST(test_s3_shift_cheapest_combination_wins)
{
	/* 200 '|': 400 septets (3 segments) in the default tables; the
	 * Portuguese locking table has '|' as 1 septet: 200 in 2 x 149. */
	size_t n = rep(buf, "|", 200, NULL);
	int rc;
	quota_sms_info i = count(buf, n, 0, &rc);
	ck_assert_int_eq(i.segments, 3);
	i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(i.segments, 2);
	ck_assert_int_eq(i.shift_locking, 3);
	ck_assert_int_eq(i.units, 200);
	/* Plain GSM text keeps the default tables (no IE). */
	n = rep(buf, "a", 100, NULL);
	i = count(buf, n, QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(i.shift_locking, 0);
	ck_assert_int_eq(i.shift_single, 0);
	ck_assert_int_eq(i.units, 100);
}
END_TEST

START_TEST(test_s3_shift_hindi_clusters_are_gsm7)
{
	const char *t = "नमस्ते दुनिया";
	int rc;
	quota_sms_info i = count(t, strlen(t), QUOTA_SMS_SHIFT_TABLES, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(i.encoding, QUOTA_SMS_GSM7);
	ck_assert_int_eq(i.shift_locking, 6);
	ck_assert_int_eq(i.units, 13);
}
END_TEST

START_TEST(test_s3_shift_default_table_matches_fast_path)
{
	/* The default row of the 23.038 tables and the fast path agree on
	 * every BMP code point below U+3000. */
	for (uint32_t cp = 1; cp < 0x3000; cp++) {
		uint32_t lm, sm;
		char s[4];
		size_t n;
		int rc;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		if (cp < 0x80) {
			s[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			s[0] = (char)(0xC0 | (cp >> 6));
			s[1] = (char)(0x80 | (cp & 0x3F));
			n = 2;
		} else {
			s[0] = (char)(0xE0 | (cp >> 12));
			s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			s[2] = (char)(0x80 | (cp & 0x3F));
			n = 3;
		}
		quota__sms_nat_masks(cp, &lm, &sm);
		quota_sms_info i = count(s, n, 0, &rc);
		if (lm & 1) {
			ck_assert_int_eq(i.encoding, QUOTA_SMS_GSM7);
			ck_assert_int_eq(i.units, 1);
		} else if (sm & 1) {
			ck_assert_int_eq(i.encoding, QUOTA_SMS_GSM7);
			ck_assert_int_eq(i.units, 2);
		} else {
			ck_assert_msg(i.encoding == QUOTA_SMS_UCS2,
				      "U+%04X", (unsigned)cp);
		}
	}
}
END_TEST

/* --------------------------------------------------- UAX #29 test file */

START_TEST(test_s3_uax29_grapheme_break_test_replayed)
{
	FILE *f = fopen(GBTEST, "r");
	char line[4096];
	int cases = 0, lineno = 0;

	ck_assert_msg(f != NULL, "%s missing (unicode-data)", GBTEST);
	while (fgets(line, sizeof line, f)) {
		quota__gb_state st = QUOTA__GB_STATE_INIT;
		char *p = line;
		int want = -1, ncp = 0;

		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		while (*p) {
			if (!strncmp(p, "÷", 2)) {
				want = 1;
				p += 2;
			} else if (!strncmp(p, "×", 2)) {
				want = 0;
				p += 2;
			} else if ((*p >= '0' && *p <= '9') ||
				   (*p >= 'A' && *p <= 'F')) {
				char *end;
				uint32_t cp = (uint32_t)strtoul(p, &end, 16);
				bool brk = quota__gb_break(&st, quota__gb_prop(cp));
				ck_assert_msg(want >= 0, "line %d", lineno);
				ck_assert_msg(brk == (want == 1),
					      "GraphemeBreakTest line %d, "
					      "code point %d (U+%04X)",
					      lineno, ncp, (unsigned)cp);
				ncp++;
				p = end;
			} else {
				p++;
			}
		}
		if (ncp)
			cases++;
	}
	fclose(f);
	ck_assert_int_ge(cases, 600);
	ck_assert_str_eq(quota__gb_unicode_version(), "15.0.0");
}
END_TEST

/* ------------------------------------------------------ quota_charge_sms */

START_TEST(test_s3_charge_sms_charges_segments)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_receipt r;
	quota_sms_info info;
	uint32_t cat;
	size_t n = rep(buf, "]", 153, NULL);

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.notify", &cat), 0);
	ck_assert_int_eq(quota_account_new(ctx, "acme", &a), 0);
	ck_assert_int_eq(quota_charge_sms(a, cat, buf, n, NULL, 1714521600,
					  NULL, &r, &info), QUOTA_OK);
	ck_assert_int_eq(info.segments, 3);
	ck_assert_int_eq(r.units, 3);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_DAY,
					    1714521600), 3);
	/* info may be NULL. */
	ck_assert_int_eq(quota_charge_sms(a, cat, "hi", 2, NULL, 1714521600,
					  NULL, &r, NULL), QUOTA_OK);
	ck_assert_int_eq(r.units, 1);
	quota_ctx_free(ctx);
}
END_TEST

START_TEST(test_r8_charge_sms_uncountable_charges_nothing)
{
	quota_ctx *ctx;
	quota_account *a;
	quota_receipt r;
	quota_sms_info info;
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	uint32_t cat;

	ck_assert_int_eq(quota_ctx_new(&ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(ctx, "sms.verify", &cat), 0);
	ck_assert_int_eq(quota_account_new(ctx, "acme", &a), 0);
	ck_assert_int_eq(quota_charge_sms(a, cat, "abc\xC0\x80", 5, NULL,
					  1714521600, NULL, &r, &info),
			 QUOTA_EENCODING);
	ck_assert_int_eq(info.error_offset, 3);
	ck_assert_int_eq(r.units, 0);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(ctx), "byte 3"));
	o.max_segments = 1;
	size_t n = rep(buf, "a", 161, NULL);
	ck_assert_int_eq(quota_charge_sms(a, cat, buf, n, &o, 1714521600,
					  NULL, &r, &info), QUOTA_ETOOLONG);
	ck_assert_int_eq(quota_account_used(a, cat, QUOTA_PERIOD_DAY,
					    1714521600), 0);
	ck_assert_int_eq(quota_charge_sms(NULL, cat, "a", 1, NULL, 0, NULL,
					  &r, NULL), QUOTA_EINVAL);
	ck_assert_int_eq(quota_charge_sms(a, cat, "a", 1, NULL, 0, NULL,
					  NULL, NULL), QUOTA_EINVAL);
	quota_ctx_free(ctx);
}
END_TEST


/* ------------------------------------ oracle disagreement classes pinned */

/*
 * Class "uax29-15.0-vs-10.0" of tests/oracle: sms-segments-calculator's
 * grapheme-splitter 1.0.4 implements UAX #29 of Unicode 10.0, where GB11
 * joins after ZWJ only Glue_After_Zwj / E_Base_GAZ; Unicode 15.0's GB11
 * (ExtPict Extend* ZWJ x ExtPict) also joins newer emoji such as
 * U+1F9BA (service dog = dog ZWJ safety vest).  We follow Unicode 15.0;
 * replaying the 10.0 boundaries reproduces the calculator's count.
 */
START_TEST(test_oracle_class_uax29_15_gb11_vs_10)
{
	unsigned char brk[512];
	quota_sms_info i;
	size_t n = rep(buf, "ж", 63, "🐕‍🦺", 1, "ж", 63, NULL);

	EXPECT(buf, n, 0, QUOTA_SMS_UCS2, 131, 3);
	/* Unicode 10.0 boundaries: a break before U+1F9BA. */
	memset(brk, 1, sizeof brk);
	brk[126 + 4] = 0; /* the ZWJ joins the dog (GB9) */
	ck_assert_int_eq(quota__sms_count_with_breaks(buf, n, NULL, brk, &i),
			 QUOTA_OK);
	ck_assert_int_eq(i.segments, 2);
}
END_TEST

/*
 * Class "cluster-over-segment": a cluster of more than 67 UTF-16 units
 * (stacked combining marks) is put by the calculator into one segment,
 * beyond the 140-octet user data of 3GPP TS 23.040 9.2.3.16/9.2.3.24; we
 * split it between code points (see test_s3_cluster_larger_than_segment).
 */
START_TEST(test_oracle_class_cluster_over_segment_23040)
{
	size_t off[4];
	quota_sms_opts o = QUOTA_SMS_OPTS_INIT;
	quota_sms_info i;
	size_t n = rep(buf, "ж", 10, "a", 1, "\xCC\x81", 80, NULL);

	o.segment_offsets = off;
	o.segment_offsets_cap = 4;
	ck_assert_int_eq(quota_sms_count(buf, n, &o, &i), QUOTA_OK);
	ck_assert_int_eq(i.units, 91);
	ck_assert_int_eq(i.segments, 2);
	/* Segment 1 is full (67 units): the cluster was split. */
	ck_assert_uint_eq(off[1], 20 + 1 + 2 * 56);
}
END_TEST

/*
 * §3 greedy packing, differential: random GSM texts mixing plain ASCII,
 * extension characters (2 septets) and 2-byte Latin-1/Greek letters, of
 * every length around the 153/160 boundaries, against a one-character-at-
 * a-time reference packer written here.  Guards the word-at-a-time and
 * 16-byte block fast paths in lib/sms.c.
 */
START_TEST(test_s3_gsm_fast_paths_match_reference_packer)
{
	static const char *const atoms[] = {
		"a", "Z", " ", "0", "@", "$", "_", "\n", "\r", "[", "]", "{",
		"}", "~", "^", "|", "\\", "\f", "\xC3\xA9" /* é */,
		"\xC3\x9F" /* ß */, "\xC3\x84" /* Ä */, "\xCE\xA9" /* Ω */,
		"\xC2\xA3" /* £ */, "\xE2\x82\xAC" /* € */,
		"\xC3\x87" /* Ç */};
	static const int cost[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2,
				   2, 2, 2, 2, 1, 1, 1, 1, 1, 2, 1};
	const int natoms = (int)(sizeof atoms / sizeof *atoms);
	uint64_t r = 0x9E3779B97F4A7C15u;
	int iter, n = getenv("QUOTA_TEST_QUICK") ? 3000 : 30000;

	for (iter = 0; iter < n; iter++) {
		char text[2048];
		size_t len = 0;
		int64_t fill = 0, segs = 1, total = 0;
		int want_chars, k;
		quota_sms_info info;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		want_chars = (int)(r % 420);
		for (k = 0; k < want_chars; k++) {
			int a;

			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			/* mostly plain letters, so the fast paths get runs */
			a = (r >> 8) % 4 ? (int)((r >> 16) % 4)
					 : (int)((r >> 16) % (uint64_t)natoms);
			memcpy(text + len, atoms[a], strlen(atoms[a]));
			len += strlen(atoms[a]);
			total += cost[a];
			if (fill + cost[a] > 153) {
				segs++;
				fill = cost[a];
			} else {
				fill += cost[a];
			}
		}
		if (total <= 160)
			segs = 1;
		ck_assert_int_eq(quota_sms_count(text, len, NULL, &info), 0);
		ck_assert_int_eq(info.encoding, QUOTA_SMS_GSM7);
		ck_assert_int_eq(info.units, total);
		ck_assert_int_eq(info.segments, segs);
	}
}
END_TEST

static Suite *sms_suite(void)
{
	Suite *s = suite_create("sms");
	TCase *tc = tcase_create("count");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_s3_escape_pair_never_split_153_brackets);
	tcase_add_test(tc, test_s3_gsm_fast_paths_match_reference_packer);
	tcase_add_test(tc, test_s3_gsm_160_single_161_concat);
	tcase_add_test(tc, test_s3_extension_costs_two_septets);
	tcase_add_test(tc, test_s3_escape_pair_never_split_at_153);
	tcase_add_test(tc, test_s3_only_capital_c_cedilla_is_gsm);
	tcase_add_test(tc, test_s3_greek_capitals_not_lookalikes);
	tcase_add_test(tc, test_s3_crlf_is_two_gsm_characters);
	tcase_add_test(tc, test_s3_ascii_fast_path_matches_slow_path);
	tcase_add_test(tc, test_s3_ucs2_70_single_71_concat);
	tcase_add_test(tc, test_s3_surrogate_pair_never_split);
	tcase_add_test(tc, test_s3_zwj_sequence_kept_whole_by_default);
	tcase_add_test(tc, test_s3_flag_kept_whole_by_default);
	tcase_add_test(tc, test_s3_combining_mark_kept_with_base);
	tcase_add_test(tc, test_s3_cluster_larger_than_segment_is_split);
	tcase_add_test(tc, test_s3_force_ucs2);
	tcase_add_test(tc, test_s3_segment_offsets_ucs2_cluster);
	tcase_add_test(tc, test_s3_empty_message_one_segment_zero_units);
	tcase_add_test(tc, test_s3_china_68_134_135);
	tcase_add_test(tc, test_s3_china_signature_counts_with_brackets);
	tcase_add_test(tc, test_s3_china_ascii_and_astral);
	tcase_add_test(tc, test_s3_max_segments_too_long);
	tcase_add_test(tc, test_s3_invalid_utf8_reports_offset);
	tcase_add_test(tc, test_s4_bad_arguments);
	tcase_add_test(tc, test_s3_shift_turkish_stays_gsm7);
	tcase_add_test(tc, test_s3_shift_header_cost_155_149);
	tcase_add_test(tc, test_s3_shift_two_tables_152_146);
	tcase_add_test(tc, test_s3_shift_cheapest_combination_wins);
	tcase_add_test(tc, test_s3_shift_hindi_clusters_are_gsm7);
	tcase_add_test(tc, test_s3_shift_default_table_matches_fast_path);
	tcase_add_test(tc, test_s3_uax29_grapheme_break_test_replayed);
	tcase_add_test(tc, test_oracle_class_uax29_15_gb11_vs_10);
	tcase_add_test(tc, test_oracle_class_cluster_over_segment_23040);
	suite_add_tcase(s, tc);

	tc = tcase_create("charge");
	tcase_add_test(tc, test_s3_charge_sms_charges_segments);
	tcase_add_test(tc, test_r8_charge_sms_uncountable_charges_nothing);
	suite_add_tcase(s, tc);
	return s;
}


int main(void)
{
	return tu_run(sms_suite());
}
