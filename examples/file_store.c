/*
 * file_store.c - a gateway day kept durable by a file store (file_store.h:
 * an append-only journal plus snapshot files, no database), then the
 * directory recovered into a new context, which must equal the old one
 * byte for byte.  On the way it shows unknown store outcomes (a failed
 * fsync, a write cut in half) and how an account is re-synchronised.
 *
 *   file_store [--no-fsync] [DIR]     the day (DIR: default a new
 *                                     directory under build/, removed
 *                                     when all went well)
 *   file_store --test-torn DIR        the journal cut at every byte of its
 *                                     last record recovers to the state
 *                                     before it, and appends again
 *   file_store --test-corrupt DIR     one bit flipped at every byte of the
 *                                     journal (and of a snapshot file) is
 *                                     refused, or is a torn last record
 *   file_store --bench [N]            N charges with and without fsync
 *
 * Exit status 0 when everything matched, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include "file_store.h"

#include <time.h>

#define DAY0 INT64_C(1732406400) /* 2024-11-24 00:00:00 UTC */
#define NACC 3

static const char *const ids[NACC] = {"acme-shop", "bolt-bank", "civic-news"};

static void die(quota_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "file_store: %s: %s (%s)\n", what, quota_strerror(rc),
		ctx ? quota_errmsg(ctx) : "");
	exit(1);
}

#define TRY(ctx, call)                                  \
	do {                                            \
		int rc_ = (call);                       \
		if (rc_ != QUOTA_OK)                    \
			die((ctx), #call, rc_);         \
	} while (0)

static quota_account *acct(quota_ctx *ctx, const char *id)
{
	quota_account *a;

	TRY(ctx, quota_account_find(ctx, id, &a));
	return a;
}

static uint32_t cat(quota_ctx *ctx, const char *name)
{
	uint32_t c;

	TRY(ctx, quota_category_find(ctx, name, &c));
	return c;
}

/* -------------------------------------------------------------- the day */

/*
 * A small gateway day: configuration, accounts, packages, charges (some
 * keyed), a reservation committed and one released, a top-up, a
 * settlement; configuration added after accounts are busy.  With fs, a
 * snapshot round at noon.
 */
static void day(quota_ctx *ctx, file_store *fs)
{
	quota_tariff *sms_t, *mail_t, *push_t;
	quota_account *a[NACC];
	quota_offer *offer;
	quota_purchase pu;
	quota_receipt r;
	uint32_t sms, email, push;
	uint64_t hold;
	char key[32];

	TRY(ctx, quota_category_add(ctx, "sms", &sms));
	TRY(ctx, quota_category_add(ctx, "email", &email));
	TRY(ctx, quota_tariff_new(ctx, "sms-std", &sms_t));
	TRY(ctx, quota_tariff_add_tier(sms_t, 1000, 45000));
	TRY(ctx, quota_tariff_add_tier(sms_t, QUOTA_UNLIMITED, 40000));
	TRY(ctx, quota_tariff_set_failure_fee(sms_t, 5000));
	TRY(ctx, quota_tariff_new(ctx, "mail-payg", &mail_t));
	TRY(ctx, quota_tariff_add_tier(mail_t, QUOTA_UNLIMITED, 280));
	TRY(ctx, quota_tariff_set_free(mail_t, 20, QUOTA_PERIOD_DAY));
	{
		quota_offer_spec o = {.id = "sms-500",
				      .categories = QUOTA_MASK(sms),
				      .units = 500,
				      .price_micros = 20000000,
				      .valid_months = 1};
		TRY(ctx, quota_offer_add(ctx, &o, &offer));
	}
	for (int i = 0; i < NACC; i++) {
		TRY(ctx, quota_account_new(ctx, ids[i], &a[i]));
		TRY(ctx, quota_account_set_tariff(a[i], sms, sms_t));
		TRY(ctx, quota_account_set_tariff(a[i], email, mail_t));
		TRY(ctx, quota_account_topup(a[i], 50000000, DAY0));
	}
	{
		quota_package_spec p = {.id = "acme-sms-100",
					.categories = QUOTA_MASK(sms),
					.units = 100,
					.effective_at = DAY0 - 86400,
					.expires_at = DAY0 + 86400 * 30,
					.price_micros = 4000000};
		TRY(ctx, quota_package_add(a[0], &p, NULL));
	}
	TRY(ctx, quota_package_buy(a[1], offer, 1, NULL, DAY0 + 60,
				   "bolt-sms-500", &pu));
	TRY(ctx, quota_account_set_cap(a[2], sms, QUOTA_PERIOD_DAY, 40));
	TRY(ctx, quota_account_set_settlement(a[1], QUOTA_PERIOD_HOUR, 10000,
					      QUOTA_ROUND_HALF_UP));

	for (int i = 0; i < 60; i++) {
		quota_usage u = {.category = i % 3 == 2 ? email : sms,
				 .units = 1 + i % 4,
				 .at = DAY0 + 600 + (int64_t)i * 600};
		int rc;

		snprintf(key, sizeof key, "msg-%d", i);
		u.key = i % 2 ? key : NULL;
		rc = quota_charge(a[i % NACC], &u, &r);
		if (rc != QUOTA_OK && rc != QUOTA_ECAP)
			die(ctx, "quota_charge", rc);
		if (i == 30 && fs && (rc = fs_snapshot(fs, ctx))) {
			fprintf(stderr, "file_store: snapshot: %s\n",
				fs_errmsg(fs));
			exit(1);
		}
	}
	/* Configuration after the accounts are busy: a new channel. */
	TRY(ctx, quota_category_add(ctx, "push", &push));
	TRY(ctx, quota_tariff_new(ctx, "push-payg", &push_t));
	TRY(ctx, quota_tariff_add_tier(push_t, QUOTA_UNLIMITED, 100));
	TRY(ctx, quota_account_set_tariff(a[2], push, push_t));
	{
		quota_usage u = {.category = push, .units = 7,
				 .at = DAY0 + 40000, .key = "push-1"};
		TRY(ctx, quota_charge(a[2], &u, &r));
	}
	/* Charge on success: one delivered (4 of 5 units), one failed. */
	{
		quota_usage u = {.category = sms, .units = 5,
				 .at = DAY0 + 41000, .key = "res-1"};
		TRY(ctx, quota_reserve(a[0], &u, 3600, &r, &hold));
		TRY(ctx, quota_commit(a[0], hold, 4, "res-1-done", &r));
		u.key = "res-2";
		u.at += 60;
		TRY(ctx, quota_reserve(a[1], &u, 3600, &r, &hold));
		TRY(ctx, quota_release(a[1], hold, NULL, &r));
	}
	TRY(ctx, quota_account_topup(a[1], 10000000, DAY0 + 42000));
	if (quota_settle(a[1], DAY0 + 43200, NULL, NULL) < 0)
		die(ctx, "quota_settle", QUOTA_EINVAL);
	if (quota_ctx_tick(ctx, DAY0 + 43300) < 0)
		die(ctx, "quota_ctx_tick", QUOTA_EINVAL);
}

/* The day's last call: one keyed charge (one record). */
static int last_call(quota_ctx *ctx, quota_receipt *r)
{
	quota_usage u = {.category = cat(ctx, "sms"), .units = 3,
			 .at = DAY0 + 50000,
			 .key = "the-last-message-of-the-day"};

	return quota_charge(acct(ctx, ids[0]), &u, r);
}

/* ------------------------------------------------------------ snapshots */

typedef struct snapset {
	uint32_t n;
	char *id[16];
	void *p[16];
	size_t len[16];
} snapset;

static void snaps_take(quota_ctx *ctx, snapset *s)
{
	memset(s, 0, sizeof *s);
	s->n = quota_ctx_account_count(ctx);
	if (s->n > 16)
		die(ctx, "too many accounts", QUOTA_EOVERFLOW);
	for (uint32_t i = 0; i < s->n; i++) {
		quota_account *a = quota_ctx_account_at(ctx, i);
		void *p;

		TRY(ctx, quota_account_snapshot(a, &p, &s->len[i]));
		s->p[i] = malloc(s->len[i]);
		s->id[i] = malloc(strlen(quota_account_id(a)) + 1);
		if (!s->p[i] || !s->id[i])
			die(ctx, "malloc", QUOTA_ENOMEM);
		memcpy(s->p[i], p, s->len[i]);
		strcpy(s->id[i], quota_account_id(a));
		quota_free(ctx, p);
	}
}

static void snaps_free(snapset *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		free(s->p[i]);
		free(s->id[i]);
	}
	memset(s, 0, sizeof *s);
}

/* 0 if ctx holds exactly the accounts of s, each byte for byte equal;
 * else prints the first difference (when why) and returns 1. */
static int snaps_differ(quota_ctx *ctx, const snapset *s, const char *why)
{
	snapset now;
	int differ = 0;

	snaps_take(ctx, &now);
	if (now.n != s->n) {
		differ = 1;
		if (why)
			fprintf(stderr, "%s: %u accounts, expected %u\n", why,
				now.n, s->n);
	}
	for (uint32_t i = 0; i < s->n && !differ; i++) {
		if (strcmp(now.id[i], s->id[i]) || now.len[i] != s->len[i] ||
		    memcmp(now.p[i], s->p[i], s->len[i])) {
			differ = 1;
			if (why)
				fprintf(stderr,
					"%s: account %u ('%s', %zu bytes) "
					"differs from '%s' (%zu bytes)\n",
					why, i, now.id[i], now.len[i],
					s->id[i], s->len[i]);
		}
	}
	snaps_free(&now);
	return differ;
}

/* A new context recovered from dir; NULL (rc set) if refused. */
static quota_ctx *recover(const char *dir, unsigned flags, file_store **fsp,
			  int *rc, bool quiet)
{
	quota_ctx *ctx;
	file_store *fs = fs_new(dir, flags);

	if (!fs)
		die(NULL, "fs_new", QUOTA_ENOMEM);
	TRY(NULL, quota_ctx_new(&ctx));
	if ((*rc = fs_recover(fs, ctx))) {
		if (!quiet)
			fprintf(stderr, "file_store: recovering %s: %s: %s\n",
				dir, quota_err_name(*rc), fs_errmsg(fs));
		quota_ctx_free(ctx);
		fs_close(fs);
		*fsp = NULL;
		return NULL;
	}
	*fsp = fs;
	return ctx;
}

static void done(quota_ctx *ctx, file_store *fs)
{
	quota_ctx_free(ctx);
	fs_close(fs);
}

static int read_all(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fs_read_file(fd, out, len);
	close(fd);
	return rc;
}

/* Make path hold p: written over in place, then cut to len (O_TRUNC
 * would make ext4 flush on every close, slowing the tests tenfold). */
static int write_all(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0)
		return -1;
	if (fs_write_fd(fd, p, len) || ftruncate(fd, (off_t)len)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* A fresh subdirectory for a test. */
static void fresh_dir(char *out, size_t cap, const char *dir,
		      const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
	rm_dir(out);
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "file_store: %s: %s\n", dir, strerror(errno));
		exit(1);
	}
}

/*
 * Run the day into a new directory (no fsync: tests) and return the
 * snapshots before and after its last call, and the journal's length
 * before and after it.
 */
static void build(const char *sub, bool with_snapshot, snapset *before,
		  snapset *after, uint64_t *l0, uint64_t *l1)
{
	quota_receipt r;
	file_store *fs;
	int rc;
	quota_ctx *ctx = recover(sub, FS_NO_FSYNC, &fs, &rc, false);

	if (!ctx)
		exit(1);
	day(ctx, with_snapshot ? fs : NULL);
	snaps_take(ctx, before);
	*l0 = fs->end;
	TRY(ctx, last_call(ctx, &r));
	snaps_take(ctx, after);
	*l1 = fs->end;
	done(ctx, fs);
}

/* ------------------------------------------------------ the torn tail */

static int test_torn(const char *dir)
{
	int failed = 0;

	for (int v = 0; v < 2; v++) {
		char sub[4096], jpath[4200];
		snapset before, after;
		uint64_t l0, l1;
		uint8_t *j;
		size_t jlen;
		unsigned n = 0;

		fresh_dir(sub, sizeof sub, dir, v ? "torn-snap" : "torn");
		build(sub, v, &before, &after, &l0, &l1);
		snprintf(jpath, sizeof jpath, "%s/journal", sub);
		if (read_all(jpath, &j, &jlen) || jlen != l1) {
			fprintf(stderr, "file_store: %s: cannot read\n", jpath);
			return 1;
		}
		/* Every cut from the record's first byte to its last. */
		for (uint64_t cut = l0; cut < l1; cut++, n++) {
			quota_receipt r;
			file_store *fs;
			char why[128];
			int rc;
			quota_ctx *ctx;

			snprintf(why, sizeof why, "torn tail at %llu",
				 (unsigned long long)cut);
			if (write_all(jpath, j, (size_t)cut))
				die(NULL, "write", QUOTA_ESTORE);
			if (!(ctx = recover(sub, FS_NO_FSYNC, &fs, &rc, false))) {
				failed++;
				continue;
			}
			if (fs->end != l0 || fs->torn != cut - l0 ||
			    snaps_differ(ctx, &before, why)) {
				fprintf(stderr, "%s: journal %llu bytes, cut "
					"%llu; expected %llu, %llu\n", why,
					(unsigned long long)fs->end,
					(unsigned long long)fs->torn,
					(unsigned long long)l0,
					(unsigned long long)(cut - l0));
				failed++;
			} else if ((rc = last_call(ctx, &r)) ||
				   fs->end != l1 ||
				   snaps_differ(ctx, &after, why)) {
				fprintf(stderr, "%s: appending again: %s\n",
					why, quota_strerror(rc));
				failed++;
			}
			done(ctx, fs);
			/* What was appended after the cut recovers too. */
			if (!(ctx = recover(sub, FS_NO_FSYNC, &fs, &rc, false)) ||
			    snaps_differ(ctx, &after, why))
				failed++;
			if (ctx)
				done(ctx, fs);
		}
		printf("torn tail%s: %u cuts inside the last record (%llu "
		       "bytes): each recovered to the state before it and "
		       "appended it again\n",
		       v ? " (with snapshots)" : "", n,
		       (unsigned long long)(l1 - l0));
		free(j);
		snaps_free(&before);
		snaps_free(&after);
		if (!failed)
			rm_dir(sub);
	}
	return failed != 0;
}

/* -------------------------------------------------------- corruption */

/* Flip bit `bit` of byte `at` of file path (whose bytes are orig), try to
 * recover; what happened: 0 refused with QUOTA_ECORRUPT, 1 recovered to
 * `torn_ok` (a torn last record), -1 anything else. */
static int flip_try(const char *sub, const char *path, const uint8_t *orig,
		    size_t len, size_t at, int bit, const snapset *torn_ok)
{
	uint8_t *b = malloc(len);
	uint8_t *back = NULL;
	size_t blen = 0;
	file_store *fs;
	quota_ctx *ctx;
	int rc, res;

	if (!b)
		die(NULL, "malloc", QUOTA_ENOMEM);
	memcpy(b, orig, len);
	b[at] ^= (uint8_t)(1u << bit);
	if (write_all(path, b, len))
		die(NULL, "write", QUOTA_ESTORE);
	ctx = recover(sub, FS_NO_FSYNC, &fs, &rc, true);
	if (ctx) {
		res = torn_ok && !snaps_differ(ctx, torn_ok, NULL) ? 1 : -1;
		done(ctx, fs);
	} else if (rc == QUOTA_ECORRUPT) {
		/* Refused: the file must be as it was. */
		res = read_all(path, &back, &blen) == 0 && blen == len &&
			      !memcmp(back, b, len)
		      ? 0
		      : -1;
		free(back);
	} else {
		res = -1;
	}
	if (res < 0)
		fprintf(stderr, "file_store: bit %d of byte %zu of %s: %s\n",
			bit, at, path,
			ctx ? "recovered to a different state"
			    : quota_err_name(rc));
	free(b);
	return res;
}

static int test_corrupt(const char *dir)
{
	char sub[4096], jpath[4200], spath[4200];
	snapset before, after;
	uint64_t l0, l1;
	uint8_t *j, *s;
	size_t jlen, slen;
	unsigned refused = 0, torn = 0, bad = 0, nsnap = 0;

	fresh_dir(sub, sizeof sub, dir, "corrupt");
	build(sub, true, &before, &after, &l0, &l1);
	snprintf(jpath, sizeof jpath, "%s/journal", sub);
	snprintf(spath, sizeof spath, "%s/snap-00000001", sub);
	if (read_all(jpath, &j, &jlen) || read_all(spath, &s, &slen)) {
		fprintf(stderr, "file_store: %s: cannot read\n", sub);
		return 1;
	}
	/* Every bit of every byte of the journal. */
	for (size_t at = 0; at < jlen; at++)
		for (int bit = 0; bit < 8; bit++) {
			int res = flip_try(sub, jpath, j, jlen, at, bit,
					   at >= l0 ? &before : NULL);

			if (res == 0 && at < l0)
				refused++;
			else if (res == 1 && at >= l0)
				torn++;
			else
				bad++;
		}
	if (write_all(jpath, j, jlen))
		die(NULL, "write", QUOTA_ESTORE);
	/* And one bit of every byte of a snapshot file. */
	for (size_t at = 0; at < slen; at++) {
		int res = flip_try(sub, spath, s, slen, at, (int)(at % 8), NULL);

		if (res == 0)
			nsnap++;
		else
			bad++;
	}
	if (write_all(spath, s, slen))
		die(NULL, "write", QUOTA_ESTORE);
	printf("corruption: %u bit flips before the last record refused "
	       "(QUOTA_ECORRUPT), %u in the last record recovered as a torn "
	       "tail, %u flips in a snapshot file refused; %u wrong\n",
	       refused, torn, nsnap, bad);
	free(j);
	free(s);
	snaps_free(&before);
	snaps_free(&after);
	if (!bad)
		rm_dir(sub);
	return bad != 0;
}

/* ---------------------------------------------------------- benchmark */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bench(long n)
{
	char tmpl[] = "/tmp/file_store_bench.XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	for (int mode = 0; mode < 2; mode++) {
		unsigned flags = mode ? FS_NO_FSYNC : 0;
		file_store *fs;
		quota_account *a;
		quota_receipt r;
		int rc;
		quota_ctx *ctx = recover(tmpl, flags, &fs, &rc, false);
		double t0;
		uint32_t sms;

		if (!ctx)
			return 1;
		if (mode == 0) {
			TRY(ctx, quota_category_add(ctx, "sms", &sms));
			TRY(ctx, quota_account_new(ctx, "bench", &a));
		} else {
			sms = cat(ctx, "sms");
			a = acct(ctx, "bench");
		}
		t0 = now_s();
		for (long i = 0; i < n; i++) {
			quota_usage u = {.category = sms, .units = 1,
					 .at = DAY0 + i};
			TRY(ctx, quota_charge(a, &u, &r));
		}
		printf("%-10s %ld charges: %.0f records/s (%llu fsyncs)\n",
		       mode ? "no-fsync" : "fsync", n,
		       (double)n / (now_s() - t0),
		       (unsigned long long)fs->nsyncs);
		done(ctx, fs);
	}
	rm_dir(tmpl);
	return 0;
}

/* ---------------------------------------------------------- the demo */

/* An unknown outcome on account id (fault: FS_FAULT_*), then reopen and
 * re-synchronise; returns the account's remaining sms units after. */
static int64_t unknown_outcome(quota_ctx *ctx, file_store *fs,
			       const char *id, int fault, const char *what)
{
	quota_account *a = acct(ctx, id), *other = acct(ctx, ids[1]);
	uint32_t sms = cat(ctx, "sms");
	quota_usage u = {.category = sms, .units = 2, .at = DAY0 + 60000};
	quota_receipt r;
	uint64_t cut = 0;
	int rc;

	fs->fault = fault;
	fs->fault_skip = 0;
	rc = quota_charge(a, &u, &r);
	if (rc != QUOTA_EUNKNOWN)
		die(ctx, "charge during a failing write: not EUNKNOWN", rc);
	rc = quota_charge(a, &u, &r);
	if (rc != QUOTA_EUNSYNCED)
		die(ctx, "the unsynced account: not EUNSYNCED", rc);
	rc = quota_account_topup(other, 1000, u.at);
	if (rc != QUOTA_ESTORE)
		die(ctx, "another account while the store is broken", rc);
	if ((rc = fs_reopen(fs)) == QUOTA_OK) {
		cut = fs->torn;
		/* The record reached the disk: the account lags the journal
		 * and must not be snapshotted as if it held it. */
		if (fault == FS_FAULT_FSYNC &&
		    fs_snapshot(fs, ctx) != QUOTA_EUNSYNCED)
			die(ctx, "snapshot of an unsynced account", rc);
		/* The configuration first (nothing to do here), then the
		 * account. */
		if (!(rc = fs_resync_config(fs, ctx)))
			rc = fs_resync_account(fs, ctx, id);
	}
	if (rc) {
		fprintf(stderr, "file_store: resync: %s\n", fs_errmsg(fs));
		exit(1);
	}
	printf("%s on '%s': QUOTA_EUNKNOWN, then QUOTA_EUNSYNCED; reopened "
	       "(%llu torn bytes cut), re-synchronised from %s\n",
	       what, id, (unsigned long long)cut,
	       fs->st[fs_stream_find(fs, id)].has_snap
		       ? "its snapshot and later records"
		       : "its records (no snapshot)");
	return quota_account_remaining(a, sms, u.at);
}

static int demo(const char *dir, unsigned flags, bool made)
{
	quota_receipt r, again;
	snapset ref;
	file_store *fs;
	quota_ctx *ctx;
	int64_t left0, left;
	quota_money m0, m1;
	uint64_t records;
	int rc, failed = 0;

	if (!(ctx = recover(dir, flags, &fs, &rc, false)))
		return 1;
	if (quota_ctx_account_count(ctx)) {
		fprintf(stderr, "file_store: %s already holds a day\n", dir);
		done(ctx, fs);
		return 1;
	}
	day(ctx, fs);
	TRY(ctx, last_call(ctx, &r));
	printf("day written to %s/journal: %llu records, %llu bytes, %llu "
	       "fsyncs%s; snapshots at noon\n",
	       dir, (unsigned long long)fs->nappends,
	       (unsigned long long)fs->end, (unsigned long long)fs->nsyncs,
	       flags & FS_NO_FSYNC ? " (--no-fsync)" : "");

	/* fsync fails after the record was written: it is on disk. */
	left0 = quota_account_remaining(acct(ctx, ids[0]), cat(ctx, "sms"),
					DAY0 + 60000);
	left = unknown_outcome(ctx, fs, ids[0], FS_FAULT_FSYNC,
			       "fsync failure");
	if (left != left0 - 2) {
		fprintf(stderr, "file_store: after resync %lld units left, "
			"expected %lld (the record reached the disk)\n",
			(long long)left, (long long)(left0 - 2));
		failed = 1;
	}
	/* The write is cut in half: a torn tail, the charge did not happen.
	 * The account made after noon has no snapshot. */
	{
		quota_account *late;
		snapset pre;

		TRY(ctx, quota_account_new(ctx, "late-comer", &late));
		TRY(ctx, quota_account_topup(late, 1000000, DAY0 + 59000));
		snaps_take(ctx, &pre);
		(void)unknown_outcome(ctx, fs, "late-comer", FS_FAULT_WRITE,
				      "torn write");
		if (snaps_differ(ctx, &pre, "after the torn write"))
			failed = 1;
		snaps_free(&pre);
	}

	/* Close, and recover into a new context. */
	snaps_take(ctx, &ref);
	TRY(ctx, quota_account_money(acct(ctx, ids[0]), &m0));
	records = fs->st[0].seq;
	done(ctx, fs);
	if (!(ctx = recover(dir, flags, &fs, &rc, false)))
		return 1;
	if (snaps_differ(ctx, &ref, "recovered"))
		failed = 1;
	else
		printf("recovered into a new context: %u accounts, each "
		       "snapshot equal byte for byte; %llu configuration "
		       "records replayed\n",
		       ref.n, (unsigned long long)records);

	/* A retry of the last message after the restart: replayed. */
	TRY(ctx, last_call(ctx, &again));
	TRY(ctx, quota_account_money(acct(ctx, ids[0]), &m1));
	if (!again.replayed || again.units != r.units ||
	    again.payg_cost_micros != r.payg_cost_micros ||
	    snaps_differ(ctx, &ref, "after the retried charge") ||
	    m1.balance_micros != m0.balance_micros) {
		fprintf(stderr, "file_store: the retried charge was not a "
			"replay (replayed=%d)\n", (int)again.replayed);
		failed = 1;
	} else {
		printf("retried keyed charge after recovery: replayed=1, "
		       "%lld units, nothing charged twice\n",
		       (long long)again.units);
	}
	snaps_free(&ref);
	done(ctx, fs);
	if (failed)
		return 1;
	if (made)
		rm_dir(dir);
	printf("file_store: OK\n");
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: file_store [--no-fsync] [DIR]\n"
			"       file_store --test-torn DIR\n"
			"       file_store --test-corrupt DIR\n"
			"       file_store --bench [N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned flags = 0;
	int i = 1;
	char tmpl[4096];

	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench(argc > 2 ? atol(argv[2]) : 2000);
	if (argc == 3 && !strcmp(argv[1], "--test-torn"))
		return test_torn(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--test-corrupt"))
		return test_corrupt(argv[2]);
	if (i < argc && !strcmp(argv[i], "--no-fsync")) {
		flags |= FS_NO_FSYNC;
		i++;
	}
	if (i < argc && argv[i][0] == '-')
		return usage();
	if (i + 1 < argc)
		return usage();
	if (i < argc)
		return demo(argv[i], flags, false);
	/* A new directory under build/ (make check runs from the top). */
	snprintf(tmpl, sizeof tmpl, "%s/file_store.XXXXXX",
		 access("build", W_OK) == 0 ? "build"
		 : getenv("TMPDIR")          ? getenv("TMPDIR")
					     : "/tmp");
	if (!mkdtemp(tmpl)) {
		perror("file_store: mkdtemp");
		return 1;
	}
	return demo(tmpl, flags, true);
}
