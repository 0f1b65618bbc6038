/*
 * replay.h - `make bench`'s replay and snapshots (DESIGN §5): a recorded
 * stream of plain charges applied to a fresh context with and without
 * QUOTA_JOURNAL_CHECK (bench_replay, QUOTA_BENCH_REPLAY_ONLY=1), and
 * snapshot and load of an account in a realistic state (bench_snapshot);
 * same_state compares two accounts by their snapshots.
 *
 * Included only by tests/bench.c, at the place this code stood there, so
 * the bench stays one translation unit with the same functions (all
 * static) in the same order; it uses bench.c's includes and definitions
 * before that point (make_account, tests/bench/store.h's bconf and memory
 * store) and is not a header to include elsewhere.
 */
#ifndef QUOTA_TEST_BENCH_REPLAY_H
#define QUOTA_TEST_BENCH_REPLAY_H

/* Two accounts in the same state: their snapshots are equal (§5). */
static int same_state(quota_account *x, quota_account *y)
{
	void *p, *q;
	size_t n, m;
	int same;

	check("snapshot", quota_account_ctx(x),
	      quota_account_snapshot(x, &p, &n));
	check("snapshot", quota_account_ctx(y),
	      quota_account_snapshot(y, &q, &m));
	same = n == m && !memcmp(p, q, n);
	quota_free(quota_account_ctx(x), p);
	quota_free(quota_account_ctx(y), q);
	return same;
}

/*
 * 4. Replay: the records of CHARGES plain charges on accounts of 1, 8, 64
 * and 1,024 packages in main()'s mix (turn about; the first half in time
 * order, the second half late reports at random across the next month),
 * with the configuration and account records before them in the same
 * stream, applied to a fresh context.
 */
#define REPLAY_TARGET 5e6 /* records per second */

static void bench_replay(int64_t *sink)
{
	static const int sizes[] = {1, 8, 64, 1024};
	struct mem_store rec = {0};
	struct bconf b;
	quota_account *acct[4];
	size_t *off, nrec = 0, len, i;
	double ns[2][ROUNDS], rate[2];
	int s, f, k, round, same = 1;

	bconf_new(&b, ST_MEM, &rec);
	for (s = 0; s < 4; s++) {
		char id[16];

		snprintf(id, sizeof id, "acct%d", sizes[s]);
		acct[s] = make_account(b.ctx, id, sizes[s], b.sms, b.other,
				       b.t);
	}
	for (i = 0; i < (size_t)CHARGES; i++) {
		quota_usage u = {.category = b.sms, .units = 1};
		quota_receipt r;

		u.at = i < (size_t)CHARGES / 2 ?
			       T0 + MONTH + times_in_order[i] :
			       T0 + 2 * MONTH + times_random[i];
		check("charge", b.ctx, quota_charge(acct[i % 4], &u, &r));
		*sink += r.package_units;
	}
	off = malloc((rec.nrec + 1) * sizeof *off);
	if (!off)
		die("malloc", -1);
	for (off[0] = 0; off[nrec] < rec.n; nrec++) {
		check("journal_size", NULL,
		      quota_journal_size(rec.p + off[nrec],
					 rec.n - off[nrec], &len));
		off[nrec + 1] = off[nrec] + len;
	}
	for (round = 0; round < ROUNDS; round++)
		for (k = 0; k < 2; k++) { /* which goes first alternates */
			uint32_t flags;
			quota_ctx *c;
			double t0;

			f = (k + round) & 1;
			flags = f ? QUOTA_JOURNAL_CHECK : 0;
			check("ctx", NULL, quota_ctx_new_with(&counting_al, &c));
			t0 = now_ns();
			for (i = 0; i < nrec; i++) {
				int rc = quota_journal_apply(
					c, rec.p + off[i], off[i + 1] - off[i],
					flags);

				if (rc)
					check("journal_apply", c, rc);
			}
			ns[f][round] = now_ns() - t0;
			if (round == 0)
				for (s = 0; s < 4; s++) {
					quota_account *ra;

					check("account_find", c,
					      quota_account_find(
						      c, quota_account_id(acct[s]),
						      &ra));
					same &= same_state(acct[s], ra);
				}
			quota_ctx_free(c);
		}
	for (f = 0; f < 2; f++)
		rate[f] = (double)nrec / median(ns[f], ROUNDS) * 1e9;
	printf("\nreplay: quota_journal_apply of %zu records (%.1f MB: the "
	       "configuration, 4 accounts\nof 1, 8, 64 and 1,024 packages, "
	       "%d plain charges in main's mix) into a fresh\ncontext, %d "
	       "rounds, medians\n",
	       nrec, (double)rec.n / 1e6, CHARGES, ROUNDS);
	for (f = 0; f < 2; f++)
		printf("  %-24s %6.1f ms  %10.0f records/s  (target >= "
		       "%.0f: %s)\n",
		       f ? "QUOTA_JOURNAL_CHECK" : "no check",
		       median(ns[f], ROUNDS) / 1e6, rate[f], REPLAY_TARGET,
		       rate[f] >= REPLAY_TARGET ? "met" : "NOT met");
	printf("replayed state equals live state (snapshots byte for "
	       "byte): %s\n",
	       same ? "yes" : "NO");
	free(off);
	free(rec.p);
	quota_ctx_free(b.ctx);
}

/*
 * 5. Snapshot and load of an account in a realistic state: 256 packages in
 * main()'s mix, three categories (packages, free then pay-as-you-go, and
 * packages only), 120 days of charges every hour (1 to 3 units, keyed,
 * reserve + commit pairs too), daily settlement with bills, alerts, a full
 * 100,000-key window and 10,000 open holds.
 */
#define SNAP_DAYS 120
#define SNAP_PER_HOUR 40
#define SNAP_PAIRS_PER_HOUR 4
#define SNAP_HOLDS 10000
#define SNAP_KEYS 100000

static void snap_conf(struct bconf *b)
{
	bconf_new(b, ST_NONE, NULL);
	check("category", b->ctx,
	      quota_category_add(b->ctx, "sms.marketing", &b->mkt));
	check("failure fee", b->ctx, quota_tariff_set_failure_fee(b->t, 1000));
}

static void bench_snapshot(int64_t *sink)
{
	struct bconf b;
	quota_account *a;
	quota_receipt r;
	void *snap;
	size_t len;
	double sns[ROUNDS], lns[ROUNDS], ms;
	long nkeyed = 0, npairs = 0, nbills = 0;
	int hour, j, round, same = 1;
	char key[32];

	snap_conf(&b);
	a = make_account(b.ctx, "acct-snapshot", 256, b.sms, b.other, b.t);
	check("tariff", b.ctx, quota_account_set_tariff(a, b.mkt, b.t));
	check("utc offset", b.ctx, quota_account_set_utc_offset(a, 3 * 3600));
	check("key window", b.ctx,
	      quota_account_set_key_window(a, SNAP_KEYS, 365 * 86400));
	check("alert", b.ctx,
	      quota_account_add_alert(a, b.sms, 1000, QUOTA_ALERT_UNITS));
	check("alert", b.ctx,
	      quota_account_add_alert(a, b.other, 10, QUOTA_ALERT_PERCENT));
	check("expiry warning", b.ctx,
	      quota_account_set_expiry_warning(a, 7 * 86400));
	check("credit limit", b.ctx,
	      quota_account_set_credit_limit(a, INT64_C(1000000000)));
	check("topup", b.ctx,
	      quota_account_topup(a, INT64_C(1000000000000), T0));
	for (hour = 0; hour < SNAP_DAYS * 24; hour++) {
		int64_t h0 = T0 + (int64_t)hour * 3600;

		for (j = 0; j < SNAP_PER_HOUR; j++) {
			uint64_t x = rnd();
			uint32_t cats[] = {b.sms, b.sms, b.sms, b.mkt, b.other};
			quota_usage u = {.category = cats[x % 5],
					 .units = 1 + (int64_t)(x >> 8) % 3,
					 .at = h0 + j * (3600 / SNAP_PER_HOUR),
					 .key = key};

			snprintf(key, sizeof key, "snap-%ld", nkeyed++);
			check("charge", b.ctx, quota_charge(a, &u, &r));
			*sink += r.units;
		}
		for (j = 0; j < SNAP_PAIRS_PER_HOUR; j++) {
			quota_usage u = {.category = b.sms, .units = 2,
					 .at = h0 + j * 900 + 7};
			uint64_t id;

			check("reserve", b.ctx,
			      quota_reserve(a, &u, 3600, &r, &id));
			check("commit", b.ctx, quota_commit(a, id, 1, NULL, &r));
			npairs++;
		}
		if (hour % 24 == 23) {
			int64_t n = quota_settle(a, h0 + 3600, NULL, NULL);

			if (n < 0)
				check("settle", b.ctx, (int)n);
			nbills += (long)n;
		}
	}
	for (j = 0; j < SNAP_HOLDS; j++) {
		quota_usage u = {.category = j % 4 ? b.sms : b.mkt, .units = 1,
				 .at = T0 + SNAP_DAYS * 86400 - 3600 +
				       j * 3600 / SNAP_HOLDS};
		uint64_t id;

		check("reserve", b.ctx,
		      quota_reserve(a, &u, 2 * 86400, &r, &id));
	}
	check("snapshot", b.ctx, quota_account_snapshot(a, &snap, &len));
	for (round = 0; round < ROUNDS; round++) {
		void *p;
		size_t n;
		double t0 = now_ns();

		check("snapshot", b.ctx, quota_account_snapshot(a, &p, &n));
		sns[round] = now_ns() - t0;
		if (n != len || memcmp(p, snap, n))
			same = 0;
		quota_free(b.ctx, p);
	}
	for (round = 0; round < ROUNDS; round++) {
		struct bconf c;
		quota_account *la;
		double t0;

		snap_conf(&c);
		t0 = now_ns();
		check("load", c.ctx, quota_account_load(c.ctx, snap, len, &la));
		lns[round] = now_ns() - t0;
		if (round == 0)
			same &= same_state(a, la);
		quota_ctx_free(c.ctx);
	}
	printf("\nsnapshot of a realistic account: %u packages, %d days of "
	       "hourly charges in 3 categories\n(%ld keyed charges, %ld "
	       "reserve + commit pairs, %ld bills), %u open holds,\n"
	       "%d keys in the window: %.2f MB; %d rounds, medians\n",
	       quota_account_package_count(a), SNAP_DAYS, nkeyed, npairs,
	       nbills, quota_account_hold_count(a), SNAP_KEYS,
	       (double)len / 1e6, ROUNDS);
	ms = median(sns, ROUNDS) / 1e6;
	printf("  quota_account_snapshot: %7.2f ms %8.0f MB/s\n", ms,
	       (double)len / 1e3 / ms);
	ms = median(lns, ROUNDS) / 1e6;
	printf("  quota_account_load:     %7.2f ms %8.0f MB/s  (into a fresh "
	       "context, same configuration)\n",
	       ms, (double)len / 1e3 / ms);
	printf("snapshots repeat, and the loaded account's equals the "
	       "original: %s\n",
	       same ? "yes" : "NO");
	quota_free(b.ctx, snap);
	quota_ctx_free(b.ctx);
}

#endif /* QUOTA_TEST_BENCH_REPLAY_H */
