/*
 * store.h - `make bench`'s store cost (DESIGN §5): the stores it times
 * (none, no-op, buffered file, memory, the bare append call), the
 * configuration of their contexts (struct bconf, bconf_new, also used by
 * bench.c's QUOTA_BENCH_INSTR loops, replay and snapshots), plain charges
 * under each store (bench_store_charges) and reserve + commit pairs and
 * keyed charges with no store and a no-op one (bench_store_holds_keys),
 * each with its record sizes (tests/bench/records.h).
 *
 * Included only by tests/bench.c, at the place this code stood there, so
 * the bench stays one translation unit with the same functions (all
 * static) in the same order; it uses bench.c's includes and definitions
 * before that point (the timed loops run_lib, run_lib_call, run_hold and
 * run_keyed, make_account, the counting allocator, records.h) and is not a
 * header to include elsewhere.
 */
#ifndef QUOTA_TEST_BENCH_STORE_H
#define QUOTA_TEST_BENCH_STORE_H

/* ------------------------------------------------------- the store (§5) */

/*
 * What journaling costs a call (DESIGN §5): the same charges with no store,
 * with a store whose append does nothing (the cost of encoding a record and
 * of the write path that hands it over), with a buffered file (stdio, no
 * fsync: what a host's own log costs before durability) and with an
 * in-memory buffer.  Each store has a context of its own, configured and
 * warmed up alike; the rounds alternate between them.
 */
enum { ST_NONE, ST_NOOP, ST_FILE, ST_MEM, ST_CALL, NSTORES };
/* ST_CALL: no store, but the no-op append called after each charge with a
 * ready record of a plain charge's size: what handing over a record costs
 * before any record is made (the floor under the no-op store's figure). */
#define STORE_TARGET 1.5 /* no-op store vs none (the target) */
#define JOURNAL_FILE "build/tests/bench-journal.tmp"

static const quota_allocator counting_al = {QUOTA_ALLOCATOR_VERSION, NULL,
					    c_malloc, c_realloc, c_free};

struct mem_store {
	unsigned char *p;
	size_t n, cap;
	uint64_t nrec;
};

static int noop_append(void *ud, const char *account, uint64_t seq,
		       const void *rec, size_t len)
{
	(void)ud;
	(void)account;
	(void)seq;
	(void)rec;
	(void)len;
	return QUOTA_OK;
}

static int mem_append(void *ud, const char *account, uint64_t seq,
		      const void *rec, size_t len)
{
	struct mem_store *m = ud;

	(void)account;
	(void)seq;
	if (len > m->cap - m->n) {
		size_t cap = m->cap ? m->cap : 1 << 20;
		unsigned char *p;

		while (len > cap - m->n)
			cap *= 2;
		if (!(p = realloc(m->p, cap)))
			return QUOTA_ESTORE;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->n, rec, len);
	m->n += len;
	m->nrec++;
	return QUOTA_OK;
}

static int file_append(void *ud, const char *account, uint64_t seq,
		       const void *rec, size_t len)
{
	(void)account;
	(void)seq;
	return fwrite(rec, 1, len, (FILE *)ud) == len ? QUOTA_OK : QUOTA_ESTORE;
}

static struct mem_store mem_st; /* the memory store of the timed runs */
static FILE *file_st;

static void check(const char *what, quota_ctx *ctx, int rc)
{
	if (rc) {
		fprintf(stderr, "bench: %s failed: %s: %s\n", what,
			quota_strerror(rc), ctx ? quota_errmsg(ctx) : "");
		exit(1);
	}
}

/* The configuration of main()'s context (a store, if any, is set first so
 * that the configuration records reach it too). */
struct bconf {
	quota_ctx *ctx;
	uint32_t sms, other, mkt;
	quota_tariff *t;
};

/* Set (QUOTA_BENCH_INSTR): contexts hash ids and keys under this fixed
 * seed, not a random one, so that a keyed charge's instructions are the
 * same in every run (a random seed moves its table's probes). */
static const uint8_t *bconf_seed;

static void bconf_new(struct bconf *b, int mode, struct mem_store *ms)
{
	quota_store st = QUOTA_STORE_INIT;

	memset(b, 0, sizeof *b);
	check("ctx", NULL, quota_ctx_new_with(&counting_al, &b->ctx));
	if (bconf_seed)
		check("hash seed", b->ctx,
		      quota_ctx_set_hash_seed(b->ctx, bconf_seed));
	if (mode != ST_NONE && mode != ST_CALL) {
		st.append = mode == ST_NOOP ? noop_append :
			    mode == ST_FILE ? file_append : mem_append;
		st.ud = mode == ST_FILE ? (void *)file_st : (void *)ms;
		check("set_store", b->ctx, quota_ctx_set_store(b->ctx, &st));
	}
	check("category", b->ctx, quota_category_add(b->ctx, "sms.notify",
						     &b->sms));
	check("category", b->ctx, quota_category_add(b->ctx, "email",
						     &b->other));
	check("tariff", b->ctx, quota_tariff_new(b->ctx, "sms", &b->t));
	check("tier", b->ctx, quota_tariff_add_tier(b->t, 100000, 45000));
	check("tier", b->ctx,
	      quota_tariff_add_tier(b->t, QUOTA_UNLIMITED, 40000));
	check("free", b->ctx,
	      quota_tariff_set_free(b->t, 100, QUOTA_PERIOD_MONTH));
}

static void store_reset(int mode)
{
	if (mode == ST_MEM)
		mem_st.n = 0;
	else if (mode == ST_FILE)
		rewind(file_st);
}

/* A file store's run ends with its buffer written out (counted). */
static double store_flush_ns(int mode)
{
	double t0;

	if (mode != ST_FILE)
		return 0;
	t0 = now_ns();
	if (fflush(file_st))
		die("fflush", QUOTA_ESTORE);
	return (now_ns() - t0) / CHARGES;
}

static void print_target(double ratio, double target)
{
	printf("%.2fx (target <= %.1fx: %s)", ratio, target,
	       ratio <= target ? "met" : "NOT met");
}

/* 1. A plain charge drawn from one package, in main()'s package mix and
 * both orders, under each store. */
static void bench_store_charges(int64_t *sink)
{
	static const int sizes[] = {8, 1024};
	enum { NS = sizeof sizes / sizeof sizes[0] };
	struct bconf b[NSTORES];
	quota_account *acct[NSTORES][NS];
	double ns[NS][2][NSTORES][ROUNDS], med[NS][2][NSTORES];
	long allocs = 0;
	int m, s, o, round;

	if (!(file_st = fopen(JOURNAL_FILE, "w+b")))
		die("fopen " JOURNAL_FILE, QUOTA_ESTORE);
	bare_append = noop_append;
	for (m = 0; m < NSTORES; m++) {
		bconf_new(&b[m], m, &mem_st);
		for (s = 0; s < NS; s++) {
			char id[16];

			snprintf(id, sizeof id, "acct%d", sizes[s]);
			acct[m][s] = make_account(b[m].ctx, id, sizes[s],
						  b[m].sms, b[m].other, b[m].t);
			window = T0;
			store_reset(m);
			run_lib(acct[m][s], b[m].sms, times_random, sink);
			store_flush_ns(m);
		}
	}
	for (round = 0; round < ROUNDS; round++)
		for (s = 0; s < NS; s++)
			for (o = 0; o < 2; o++)
				for (m = 0; m < NSTORES; m++) {
					long before = n_allocs;

					window = T0 + (1 + 2 * round + o) * MONTH;
					store_reset(m);
					ns[s][o][m][round] = (m == ST_CALL
								      ? run_lib_call
								      : run_lib)(
						acct[m][s], b[m].sms,
						o ? times_random : times_in_order,
						sink);
					ns[s][o][m][round] += store_flush_ns(m);
					if (m != ST_NONE && m != ST_CALL)
						allocs += n_allocs - before;
				}
	for (s = 0; s < NS; s++)
		for (o = 0; o < 2; o++)
			for (m = 0; m < NSTORES; m++)
				med[s][o][m] = median(ns[s][o][m], ROUNDS);

	printf("\nstore cost (§5): quota_charge, 1 unit drawn from one "
	       "package, main's package mix,\n%d charges x %d rounds, "
	       "medians; one context per store, same rounds\n",
	       CHARGES, ROUNDS);
	printf("  stores: none; no-op (append returns QUOTA_OK); file "
	       "(fwrite to " JOURNAL_FILE ",\n  stdio-buffered, no fsync, "
	       "flush counted); memory (memcpy to a growing buffer);\n"
	       "  call: no store, the no-op append called after each "
	       "charge with a ready 40-byte record\n");
	printf("%9s %-9s %8s %8s %7s %8s %7s %8s %7s %8s %7s\n", "packages",
	       "order", "none ns", "no-op", "x none", "file", "x none",
	       "memory", "x none", "call", "x none");
	for (s = 0; s < NS; s++)
		for (o = 0; o < 2; o++) {
			double *v = med[s][o];

			printf("%9d %-9s %8.1f %8.1f %7.2f %8.1f %7.2f %8.1f "
			       "%7.2f %8.1f %7.2f\n",
			       sizes[s], o ? "random" : "in order", v[ST_NONE],
			       v[ST_NOOP], v[ST_NOOP] / v[ST_NONE], v[ST_FILE],
			       v[ST_FILE] / v[ST_NONE], v[ST_MEM],
			       v[ST_MEM] / v[ST_NONE], v[ST_CALL],
			       v[ST_CALL] / v[ST_NONE]);
		}
	for (s = 0; s < NS; s++)
		for (o = 0; o < 2; o++) {
			printf("no-op store vs none, %d packages, %s: "
			       "+%.1f ns, ",
			       sizes[s], o ? "random order" : "in order",
			       med[s][o][ST_NOOP] - med[s][o][ST_NONE]);
			print_target(med[s][o][ST_NOOP] / med[s][o][ST_NONE],
				     STORE_TARGET);
			printf("; the store call alone +%.1f ns, %.2fx\n",
			       med[s][o][ST_CALL] - med[s][o][ST_NONE],
			       med[s][o][ST_CALL] / med[s][o][ST_NONE]);
		}
	printf("allocations during timed charges with a store: %ld\n",
	       allocs);

	/* 3. Record sizes: one more run of each order on the memory store's
	 * 8-package account, every record kept. */
	{
		struct mem_store keep = {0};
		quota_store st = QUOTA_STORE_INIT;

		st.append = mem_append;
		st.ud = &keep;
		check("set_store", b[ST_MEM].ctx,
		      quota_ctx_set_store(b[ST_MEM].ctx, &st));
		for (o = 0; o < 2; o++) {
			window = T0 + (1 + 2 * ROUNDS + o) * MONTH;
			run_lib(acct[ST_MEM][0], b[ST_MEM].sms,
				o ? times_random : times_in_order, sink);
		}
		record_sizes_add(keep.p, keep.n);
		free(keep.p);
	}
	for (m = 0; m < NSTORES; m++)
		quota_ctx_free(b[m].ctx);
	fclose(file_st);
	remove(JOURNAL_FILE);
	free(mem_st.p);
	memset(&mem_st, 0, sizeof mem_st);
}

/* 2. Reserve + commit pairs and keyed charges on 8-package accounts like
 * main()'s R10 / R11 ones, every key new; no-op store vs none. */
static const uint32_t store_key_windows[] = {1000, 100000};
#define NKW (int)(sizeof store_key_windows / sizeof store_key_windows[0])

static void bench_store_holds_keys(int64_t *sink)
{
	struct bconf b[2]; /* [0] no store, [1] no-op store */
	quota_account *hold[2], *kacct[2][NKW];
	double hold_ns[2][ROUNDS], key_ns[2][NKW][ROUNDS], h[2], k[2][NKW];
	int64_t w0 = T0 + 20 * MONTH;
	int m, w, i, round;

	keys = malloc((size_t)CHARGES * sizeof *keys);
	if (!keys)
		die("malloc", -1);
	memset(keys, 'k', (size_t)CHARGES * sizeof *keys);
	for (m = 0; m < 2; m++) {
		bconf_new(&b[m], m ? ST_NOOP : ST_NONE, NULL);
		hold[m] = make_account(b[m].ctx, "holds", 8, b[m].sms,
				       b[m].other, b[m].t);
		window = w0;
		run_hold(hold[m], b[m].sms, times_in_order, sink);
		for (w = 0; w < NKW; w++) {
			char id[24];

			snprintf(id, sizeof id, "keys%u", store_key_windows[w]);
			kacct[m][w] = make_account(b[m].ctx, id, 8, b[m].sms,
						   b[m].other, b[m].t);
			check("key window", b[m].ctx,
			      quota_account_set_key_window(
				      kacct[m][w], store_key_windows[w],
				      INT64_C(1) << 40));
			for (i = 0; i < (int)store_key_windows[w] || i == 0;
			     i += CHARGES) {
				window = w0;
				run_keyed(kacct[m][w], b[m].sms,
					  times_in_order, sink);
			}
		}
	}
	for (round = 0; round < ROUNDS; round++)
		for (m = 0; m < 2; m++) {
			window = w0 + (1 + round) * MONTH;
			hold_ns[m][round] = run_hold(hold[m], b[m].sms,
						     times_in_order, sink);
			for (w = 0; w < NKW; w++) {
				window = w0 + (1 + round) * MONTH;
				key_ns[m][w][round] =
					run_keyed(kacct[m][w], b[m].sms,
						  times_in_order, sink);
			}
		}
	for (m = 0; m < 2; m++) {
		h[m] = median(hold_ns[m], ROUNDS);
		for (w = 0; w < NKW; w++)
			k[m][w] = median(key_ns[m][w], ROUNDS);
	}
	printf("\nstore cost, 8 packages, in order, every key new (same "
	       "rounds):\n");
	printf("%-34s %8s %8s\n", "", "none ns", "no-op");
	printf("%-34s %8.1f %8.1f  ", "reserve + commit pair", h[0], h[1]);
	print_target(h[1] / h[0], STORE_TARGET);
	printf("\n");
	for (w = 0; w < NKW; w++) {
		char what[48];

		snprintf(what, sizeof what, "keyed charge, %u-key window",
			 store_key_windows[w]);
		printf("%-34s %8.1f %8.1f  ", what, k[0][w], k[1][w]);
		print_target(k[1][w] / k[0][w], STORE_TARGET);
		printf("\n");
	}

	/* 3. Record sizes of keyed charges, reserves and commits: one more
	 * run of each on the no-op store's accounts, every record kept. */
	{
		struct mem_store keep = {0};
		quota_store st = QUOTA_STORE_INIT;

		st.append = mem_append;
		st.ud = &keep;
		check("set_store", b[1].ctx, quota_ctx_set_store(b[1].ctx, &st));
		window = w0 + (1 + ROUNDS) * MONTH;
		run_keyed(kacct[1][NKW - 1], b[1].sms, times_in_order, sink);
		window = w0 + (1 + ROUNDS) * MONTH;
		run_hold(hold[1], b[1].sms, times_in_order, sink);
		record_sizes_add(keep.p, keep.n);
		free(keep.p);
	}
	record_sizes_print();
	for (m = 0; m < 2; m++)
		quota_ctx_free(b[m].ctx);
	free(keys);
	keys = NULL;
}

#endif /* QUOTA_TEST_BENCH_STORE_H */
