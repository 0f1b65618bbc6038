/*
 * records.h - `make bench`'s journal record sizes (§3 of its store
 * section): a reader of quota_journal(5) records (rd_uv, rd_sv, rd_str,
 * one_package), the per-kind tallies of records a memory store kept
 * (record_sizes_add) and their table (record_sizes_print).
 *
 * Included only by tests/bench.c, at the place this code stood there, so
 * the bench stays one translation unit with the same functions (all
 * static) in the same order; it uses bench.c's includes and definitions
 * before that point (die) and is not a header to include elsewhere.
 */
#ifndef QUOTA_TEST_BENCH_RECORDS_H
#define QUOTA_TEST_BENCH_RECORDS_H


/*
 * 3. Record sizes, read from records a memory store kept.  The layout is
 * quota_journal(5)'s (lib/journal.c writes it): frame (u32 length, u32
 * CRC-32C), version (2 bytes), op, seq, account id (varint length +
 * bytes), clock; a charge then has its usage (category, units, time, key)
 * and sources (free units, draws: package number + units, pay-as-you-go
 * lines); a reserve, its usage, timeout and sources; a commit, hold id,
 * units used, key and fee.  Varints are LEB128, zigzag when signed.
 */
enum { REC_PLAIN, REC_KEYED, REC_RESERVE, REC_COMMIT, NREC };
static const char *const rec_names[NREC] = {
	"plain charge, one package", "keyed charge, one package",
	"reserve, one package", "commit"};

struct rec_stat {
	uint64_t n, bytes, noid;
	size_t min, max, max_noid, idlen, keylen;
};
static struct rec_stat rec_stats[NREC];

struct rd {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static uint64_t rd_uv(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (r->off < r->n && shift < 64) {
		unsigned char c = r->p[r->off++];

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
	}
	r->bad = 1;
	return 0;
}

static int64_t rd_sv(struct rd *r)
{
	uint64_t u = rd_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static size_t rd_str(struct rd *r)
{
	uint64_t n = rd_uv(r);

	if (n > r->n - r->off) {
		r->bad = 1;
		return 0;
	}
	r->off += n;
	return (size_t)n;
}

static size_t uv_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Usage and sources: is it drawn from exactly one package (no free units,
 * no pay-as-you-go)?  *keylen: the key's length. */
static int one_package(struct rd *r, int reserve, size_t *keylen)
{
	int64_t fr;
	uint64_t nd, i;

	rd_uv(r); /* category */
	rd_sv(r); /* units */
	rd_sv(r); /* time */
	*keylen = rd_str(r);
	if (reserve)
		rd_sv(r); /* timeout */
	fr = rd_sv(r);
	nd = rd_uv(r);
	for (i = 0; i < nd && !r->bad; i++) {
		rd_uv(r);
		rd_sv(r);
	}
	return !r->bad && fr == 0 && nd == 1 && rd_uv(r) == 0 && !r->bad;
}

static void record_sizes_add(const unsigned char *p, size_t n)
{
	size_t off = 0, len;

	while (off < n && !quota_journal_size(p + off, n - off, &len)) {
		struct rd r = {p + off, len, 8 + 2, 0};
		unsigned op = r.p[r.off++];
		size_t idlen, keylen = 0, noid;
		int k = -1;

		rd_uv(&r); /* seq */
		idlen = rd_str(&r);
		rd_sv(&r); /* clock */
		if (op == 2 && one_package(&r, 0, &keylen))
			k = keylen ? REC_KEYED : REC_PLAIN;
		else if (op == 3 && one_package(&r, 1, &keylen))
			k = REC_RESERVE;
		else if (op == 4)
			k = REC_COMMIT;
		noid = len - idlen - uv_len(idlen);
		if (k >= 0 && !r.bad) {
			struct rec_stat *st = &rec_stats[k];

			if (!st->n || len < st->min)
				st->min = len;
			if (len > st->max)
				st->max = len;
			if (noid > st->max_noid)
				st->max_noid = noid;
			if (idlen > st->idlen)
				st->idlen = idlen;
			if (keylen > st->keylen)
				st->keylen = keylen;
			st->n++;
			st->bytes += len;
			st->noid += noid;
		}
		off += len;
	}
	if (off != n)
		die("record sizes: a record", QUOTA_ECORRUPT);
}

#define RECORD_TARGET 64 /* bytes of a plain charge without the id */

static void record_sizes_print(void)
{
	const struct rec_stat *pl = &rec_stats[REC_PLAIN];
	int k;

	printf("\njournal record bytes (whole record: frame, header, inputs, "
	       "effects; \"w/o id\": less\nthe account id and its length "
	       "varint; keyed charges' keys up to %zu bytes):\n",
	       rec_stats[REC_KEYED].keylen);
	printf("%-27s %9s %4s %7s %5s %5s %11s %10s\n", "record", "records",
	       "id B", "mean", "min", "max", "mean w/o id", "max w/o id");
	for (k = 0; k < NREC; k++) {
		const struct rec_stat *st = &rec_stats[k];

		if (!st->n) {
			printf("%-27s %9s\n", rec_names[k], "none seen");
			continue;
		}
		printf("%-27s %9" PRIu64 " %4zu %7.1f %5zu %5zu %11.1f %10zu\n",
		       rec_names[k], st->n, st->idlen,
		       (double)st->bytes / (double)st->n,
		       st->min, st->max, (double)st->noid / (double)st->n,
		       st->max_noid);
	}
	if (pl->n)
		printf("plain charge from one package without the id: "
		       "mean %.1f B, max %zu B (target <= %d B: %s)\n",
		       (double)pl->noid / (double)pl->n, pl->max_noid,
		       RECORD_TARGET,
		       pl->max_noid <= RECORD_TARGET ? "met" : "NOT met");
}

#endif /* QUOTA_TEST_BENCH_RECORDS_H */
