/*
 * oracle_sms.c - compare quota_sms_count with the public reference peer,
 * the npm package sms-segments-calculator (issue 3, DESIGN.md §3).
 *
 *   oracle_sms gen N CORPUS       write N generated strings (hex, 1/line)
 *   oracle_sms compare CORPUS OUT compare with node oracle.js's output
 *
 * Every disagreement in encoding or segment count is classified; the
 * program fails on any it cannot explain.  Classes and the rule that
 * decides them (also pinned by tests in tests/check_sms.c):
 *
 *   uax29-15.0-vs-10.0  The calculator's grapheme-splitter 1.0.4 implements
 *                       UAX #29 of Unicode 10.0 (E_Base, Glue_After_Zwj);
 *                       we use Unicode 15.0 (GB11 with
 *                       Extended_Pictographic, GB9/GB9a property updates).
 *                       Proven by replaying the calculator's own grapheme
 *                       boundaries through our packer: it then agrees.
 *   cluster-over-segment A grapheme cluster larger than a whole segment
 *                       (> 67 UTF-16 units): the calculator puts it in
 *                       one segment anyway, over the 140-octet user data
 *                       limit of 3GPP TS 23.040 9.2.3.24/9.2.3.16; we
 *                       split it between code points.
 */
#include "quota.h"
#include "sms_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- corpus */

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static const char *const gsm_basic[] = {
	"a", "b", "e", "o", "Z", " ", "1", ".", ",", "@", "$", "_", "!", "?",
	"é", "è", "ü", "Ö", "Ñ", "ß", "Å", "ø", "Ç", "£", "¥", "§", "¿", "¡",
	"à", "Δ", "Ω", "\n", "\r", "\r\n", "\"", "#", "%", "&", "'", "*"};
static const char *const gsm_ext[] = {"^", "{", "}", "\\", "[", "~", "]",
				      "|", "€", "\f"};
static const char *const greek[] = {"α", "β", "γ", "Α", "Β", "Ε", "Ζ", "Η",
				    "Ι", "Κ", "Μ", "Ν", "Ο", "Ρ", "Τ", "Υ",
				    "Χ", "Δ", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ",
				    "Σ", "Θ", "Ξ", "ά", "ώ"};
static const char *const cedilla[] = {"ç", "Ç", "c", "C", "ş", "ğ", "ı"};
static const char *const cjk[] = {"中", "文", "短", "信", "华", "为", "云",
				  "【", "】", "，", "。", "日", "本", "語",
				  "한", "국", "ж", "я", "ש", "ع", "ก", "𠀀",
				  "𪚥"};
static const char *const emoji[] = {"😀", "😂", "👍", "🎉", "❤", "❤️",
				    "👍🏽", "🙏🏿", "☺", "✌️", "🫠", "🥲",
				    "🪿", "⌚", "©", "™"};
static const char *const zwj[] = {
	"👨‍👩‍👧", "👩‍❤️‍👨", "🏳️‍🌈", "👨‍💻", "🧑‍🤝‍🧑",
	"👩🏽‍🚀", "🏴‍☠️", "🐕‍🦺", "😮‍💨", "❤️‍🔥", "🧔‍♀️",
	"👨‍👩‍👧‍👦", "🐦‍⬛", "🫱🏻‍🫲🏿"};
static const char *const flags[] = {"🇫🇷", "🇺🇸", "🇨🇳", "🇯🇵", "🇩🇪",
				    "🇺", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"};
static const char *const combining[] = {
	"e\xCC\x81", "a\xCC\x88", "n\xCC\x83\xCC\x81", "o\xCC\xB8",
	"\xCC\x81", "क्ष", "नमस्ते", "ก\xE0\xB8\xB3", "각", "\xE1\x84\x80\xE1\x85\xA1",
	"a\xE2\x83\x9D", "1\xEF\xB8\x8F\xE2\x83\xA3", "ञ्ज", "ß\xCC\xA3"};

#define POOL(x) {x, sizeof x / sizeof x[0]}
static const struct pool {
	const char *const *atoms;
	size_t n;
} pools[] = {POOL(gsm_basic), POOL(gsm_ext), POOL(greek), POOL(cedilla),
	     POOL(cjk), POOL(emoji), POOL(zwj), POOL(flags), POOL(combining)};
enum { P_GSM, P_EXT, P_GREEK, P_CED, P_CJK, P_EMOJI, P_ZWJ, P_FLAG, P_COMB,
       NPOOLS };

static size_t put(char *b, size_t n, const char *atom)
{
	size_t k = strlen(atom);
	memcpy(b + n, atom, k);
	return n + k;
}

static const char *pick(int pool)
{
	return pools[pool].atoms[rnd((uint32_t)pools[pool].n)];
}

/* One generated string into b (size >= 16 KiB); returns its length. */
static size_t gen_one(char *b, uint64_t k)
{
	size_t n = 0;
	uint32_t kind = (uint32_t)(k % 20);

	if (k % 97 == 0)
		return 0; /* empty */
	if (k % 997 == 1) {
		/* A cluster larger than a segment (stacked combining marks). */
		for (int i = (int)rnd(40); i > 0; i--)
			n = put(b, n, "ж");
		n = put(b, n, "a");
		for (int i = 60 + (int)rnd(60); i > 0; i--)
			n = put(b, n, rnd(2) ? "\xCC\x81" : "\xCD\x93");
		return n;
	}
	if (kind < 4) {
		/* GSM, an extension character at every segment boundary. */
		static const int base[] = {150, 303, 456};
		int fill = base[rnd(3)] + (int)rnd(14) - 2;
		for (int i = 0; i < fill; i++)
			n = put(b, n, rnd(8) ? "a" : pick(P_GSM));
		n = put(b, n, pick(P_EXT));
		for (int i = (int)rnd(12); i > 0; i--)
			n = put(b, n, rnd(3) ? pick(P_GSM) : pick(P_EXT));
		return n;
	}
	if (kind < 8) {
		/* UCS-2 filler, then an emoji / cluster at 67 or 70. */
		static const int base[] = {62, 129, 196};
		int fill = base[rnd(3)] + (int)rnd(10);
		int fp = rnd(2) ? P_CJK : P_GREEK;
		for (int i = 0; i < fill; i++)
			n = put(b, n, rnd(6) ? "ж" : pick(fp));
		static const int hot[] = {P_EMOJI, P_ZWJ, P_FLAG, P_COMB,
					  P_EXT, P_CED};
		for (int i = 1 + (int)rnd(3); i > 0; i--)
			n = put(b, n, pick(hot[rnd(6)]));
		for (int i = (int)rnd(10); i > 0; i--)
			n = put(b, n, rnd(2) ? "ж" : pick(P_GSM));
		return n;
	}
	/* A profile: 1-3 pools, 0..140 atoms. */
	int use[3];
	int npool = 1 + (int)rnd(3);
	for (int i = 0; i < npool; i++)
		use[i] = (int)rnd(NPOOLS);
	if (kind < 12)
		use[0] = P_GSM; /* mostly GSM */
	int atoms = (int)rnd(k % 3 ? 80 : 170);
	for (int i = 0; i < atoms; i++)
		n = put(b, n, pick(use[rnd((uint32_t)npool)]));
	return n;
}

static int gen(long count, const char *path)
{
	FILE *f = fopen(path, "w");
	static char b[16384];

	if (!f)
		return perror(path), 2;
	for (long k = 0; k < count; k++) {
		size_t n = gen_one(b, (uint64_t)k);
		if (n == 0)
			fputc('.', f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%02x", (unsigned char)b[i]);
		fputc('\n', f);
	}
	return fclose(f) ? 2 : 0;
}

/* ------------------------------------------------------------- compare */

static int hexval(int c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Largest calculator grapheme in UTF-16 units. */
static int64_t max_cluster(const char *s, size_t len,
			   const unsigned char *brk)
{
	int64_t best = 0, cur = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = quota__u8dec((const unsigned char *)s, len, i, &cp);
		if (brk[i] && i > 0) {
			best = cur > best ? cur : best;
			cur = 0;
		}
		cur += cp > 0xFFFF ? 2 : 1;
		i += k ? k : 1;
	}
	return cur > best ? cur : best;
}

static int compare(const char *cpath, const char *opath)
{
	FILE *fc = fopen(cpath, "r"), *fo = fopen(opath, "r");
	static char hex[65536], line[400000], s[32768];
	static unsigned char brk[32768];
	int verbose = getenv("ORACLE_VERBOSE") != NULL;
	long total = 0, agree = 0, cls_uax = 0, cls_big = 0, unexplained = 0;

	if (!fc || !fo)
		return perror("open"), 2;
	while (fgets(hex, sizeof hex, fc)) {
		size_t n = 0;
		char enc;
		long segs;
		int pos;
		quota_sms_info info;

		if (!fgets(line, sizeof line, fo)) {
			fprintf(stderr, "oracle: output too short\n");
			return 2;
		}
		for (char *p = hex; p[0] && p[0] != '\n' && p[0] != '.'; p += 2)
			s[n++] = (char)(hexval(p[0]) * 16 + hexval(p[1]));
		if (sscanf(line, "%c %ld %n", &enc, &segs, &pos) != 2) {
			fprintf(stderr, "oracle: bad line %ld\n", total + 1);
			return 2;
		}
		total++;
		if (quota_sms_count(s, n, NULL, &info) != QUOTA_OK) {
			fprintf(stderr, "oracle: string %ld: count failed\n",
				total);
			unexplained++;
			continue;
		}
		int ours_enc = enc == 'G' ? QUOTA_SMS_GSM7 : QUOTA_SMS_UCS2;
		if (info.encoding == ours_enc && info.segments == segs) {
			agree++;
			continue;
		}
		/* The calculator's boundaries: "-" = every code point. */
		memset(brk, 0, n + 1);
		if (line[pos] == '-') {
			memset(brk, 1, n + 1);
		} else {
			char *p = line + pos;
			while (*p && *p != '\n') {
				long off = strtol(p, &p, 10);
				if (off >= 0 && (size_t)off <= n)
					brk[off] = 1;
				if (*p == ',')
					p++;
			}
		}
		quota_sms_info replay;
		quota__sms_count_with_breaks(s, n, NULL, brk, &replay);
		if (replay.encoding == ours_enc && replay.segments == segs) {
			cls_uax++;
			if (verbose && cls_uax <= 5) {
				fprintf(stderr, "oracle: uax29 string %ld: npm "
					"%c/%ld, libquota %c/%lld: ", total,
					enc, segs, info.encoding ? 'U' : 'G',
					(long long)info.segments);
				fwrite(s, 1, n, stderr);
				fputc('\n', stderr);
			}
		} else if (max_cluster(s, n, brk) > QUOTA__SMS_UCS2_CONCAT) {
			cls_big++;
		} else {
			unexplained++;
			if (unexplained <= 10) {
				fprintf(stderr,
					"oracle: UNEXPLAINED string %ld: npm %c/%ld,"
					" libquota %c/%lld: ",
					total, enc, segs,
					info.encoding ? 'U' : 'G',
					(long long)info.segments);
				fwrite(s, 1, n < 200 ? n : 200, stderr);
				fputc('\n', stderr);
			}
		}
	}
	printf("oracle: %ld strings, %ld agree, %ld explained "
	       "(uax29-15.0-vs-10.0: %ld, cluster-over-segment: %ld), "
	       "%ld unexplained\n",
	       total, agree, cls_uax + cls_big, cls_uax, cls_big, unexplained);
	fclose(fc);
	fclose(fo);
	if (total < 100000) {
		fprintf(stderr, "oracle: corpus too small\n");
		return 1;
	}
	return unexplained ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(atol(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "compare"))
		return compare(argv[2], argv[3]);
	fprintf(stderr, "usage: oracle_sms gen N CORPUS | compare CORPUS OUT\n");
	return 2;
}
