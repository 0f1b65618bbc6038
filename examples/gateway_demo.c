/*
 * gateway_demo.c - a small gateway loop: three accounts with packages and
 * tariffs send a day of SMS and email traffic; libquota meters every
 * message and the demo prints what each account used and owes.  Email is
 * charged at once; SMS is reserved at submit and committed or released
 * when the delivery report comes (charge on success, R10); the operator
 * hears of low quota, exhausted packages and caps through events (R21).
 * Money (R16-R19, R22): accounts top up a balance, one buys its package
 * from the catalog, pay-as-you-go is settled hourly or daily from the
 * balance (an account that cannot pay is suspended until it tops up), and
 * the day ends with a CSV usage report.
 *
 * The state lives in a SQLite file through libquota-sqlite (DESIGN §5):
 *
 *   gateway_demo [DB]        DB: default build/demo.db
 *
 * The first run (no file, or an empty one) sets up the configuration
 * (categories, tariffs, an offer) and the accounts, and meters day 1,
 * 2024-11-24.  Every later run recovers the file, looks the configuration
 * and the accounts up by name, and meters the next day: the packages'
 * units, the month's volume (the tier position), balances and unpaid
 * bills go on from where the last run stopped.  Each day ends with a
 * checkpoint (a snapshot of every account), so a run recovers from
 * snapshots rather than from a day of records.  The output of run n is
 * the same every time: the traffic of day n comes from a generator seeded
 * with n.
 *
 * Which day comes next is read from the accounts themselves: the first
 * day on which no account used anything.  A run stopped in the middle of
 * its day (^C) leaves that day part-metered, and the next run goes on
 * with the day after; remove the file (make demo-reset) to start over.
 *
 * The database runs with QUOTA_SQLITE_SYNC_NORMAL: a day writes some
 * 21,000 records, each its own transaction, which with an fsync each
 * (SYNC_FULL) would take minutes here.  The file survives a crash of
 * the process; a power loss can take back the last commits.  A gateway that needs every call that
 * returned on disk keeps SYNC_FULL and groups its calls with quota_batch.
 *
 * Build and run from the top of the tree:  make demo   (make demo-reset)
 */
#include <quota.h>
#include <quota_sqlite.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DAY0 INT64_C(1732406400) /* 2024-11-24 00:00:00 UTC */
#define NACC 3
#define MSGS 20000 /* messages a day */

static const char *const names[NACC] = {"acme-shop", "bolt-bank",
					"civic-news"};

static void die(quota_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "gateway_demo: %s: %s (%s)\n", what,
		quota_strerror(rc), ctx ? quota_errmsg(ctx) : "");
	exit(1);
}

#define TRY(ctx, call)                                  \
	do {                                            \
		int rc_ = (call);                       \
		if (rc_ != QUOTA_OK)                    \
			die((ctx), #call, rc_);         \
	} while (0)

/* Deterministic traffic: xorshift, seeded with the day, so every run
 * prints the same bill for the same day. */
static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct tally {
	int64_t sent, refused, free, pkg, payg, cost, failed, fees;
};

/* R17: what settlement billed each account. */
static long nbills[NACC];
static int64_t billed[NACC];
static int on_bill(const quota_bill *b, void *ud)
{
	int k = (int)(intptr_t)ud;

	nbills[k]++;
	billed[k] += b->total_micros;
	return 0;
}

/* R21: the operator hears about low quota, exhausted packages, caps,
 * suspension and resumption. */
static long events[8];
static int on_event(const quota_event *e, void *ud)
{
	(void)ud;
	if (e->kind > 0 && e->kind < 8)
		events[e->kind]++;
	return 0;
}

static void money(char *buf, size_t n, int64_t micros)
{
	int64_t m = micros < 0 ? -micros : micros;

	snprintf(buf, n, "%s%" PRId64 ".%06" PRId64, micros < 0 ? "-" : "",
		 m / 1000000, m % 1000000);
}

/* YYYY-MM-DD of a UTC time. */
static void date(char *buf, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm *tm = gmtime(&tt);

	strftime(buf, n, "%Y-%m-%d", tm);
}

/* What the demo works with: found by name in a recovered file, or made by
 * setup() on the first run. */
struct world {
	uint32_t sms, email;
	quota_tariff *sms_t, *mail_t;
	quota_offer *offer;
	quota_account *acc[NACC];
};

/* The first run: configuration, accounts, packages, balances. */
static void setup(quota_ctx *ctx, struct world *w)
{
	uint32_t i;

	TRY(ctx, quota_category_add(ctx, "sms.notify", &w->sms));
	TRY(ctx, quota_category_add(ctx, "email", &w->email));

	/* SMS: 0.045 per segment up to 100k a month, 0.040 beyond. */
	TRY(ctx, quota_tariff_new(ctx, "sms-standard", &w->sms_t));
	TRY(ctx, quota_tariff_add_tier(w->sms_t, 100000, 45000));
	TRY(ctx, quota_tariff_add_tier(w->sms_t, QUOTA_UNLIMITED, 40000));
	/* Email: 1,000 free a month, then 0.00028 per email (280 micros). */
	TRY(ctx, quota_tariff_new(ctx, "email-payg", &w->mail_t));
	TRY(ctx, quota_tariff_add_tier(w->mail_t, QUOTA_UNLIMITED, 280));
	TRY(ctx, quota_tariff_set_free(w->mail_t, 1000, QUOTA_PERIOD_MONTH));
	/* A failed SMS costs 0.005 per segment (R10 release fee). */
	TRY(ctx, quota_tariff_set_failure_fee(w->sms_t, 5000));

	for (i = 0; i < NACC; i++) {
		quota_account *a;

		TRY(ctx, quota_account_new(ctx, names[i], &a));
		TRY(ctx, quota_account_set_utc_offset(a, 8 * 3600));
		TRY(ctx, quota_account_set_tariff(a, w->sms, w->sms_t));
		TRY(ctx, quota_account_set_tariff(a, w->email, w->mail_t));
		TRY(ctx, quota_account_add_alert(a, w->sms, 10,
						 QUOTA_ALERT_PERCENT));
		w->acc[i] = a;
	}
	/* acme: a small SMS package that runs out during the day. */
	{
		quota_package_spec s = {.id = "acme-sms-2k",
					.categories = QUOTA_MASK(w->sms),
					.units = 2000,
					.effective_at = DAY0 - 86400 * 30,
					.expires_at = DAY0 + 86400 * 335,
					.price_micros = 80000000};
		TRY(ctx, quota_package_add(w->acc[0], &s, NULL));
	}
	/* bolt: two SMS packages, the sooner-expiring one burns first (R3),
	 * a daily SMS cap, and a general package covering both channels. */
	{
		quota_package_spec a = {.id = "bolt-sms-old",
					.categories = QUOTA_MASK(w->sms),
					.units = 1500,
					.effective_at = DAY0 - 86400 * 300,
					.expires_at = DAY0 + 86400 * 65,
					.price_micros = 60000000};
		quota_package_spec b = {.id = "bolt-sms-new",
					.categories = QUOTA_MASK(w->sms),
					.units = 50000,
					.effective_at = DAY0 - 86400 * 10,
					.expires_at = DAY0 + 86400 * 355,
					.price_micros = 1900000000};
		quota_package_spec g = {.id = "bolt-general",
					.categories = QUOTA_MASK(w->sms) |
						      QUOTA_MASK(w->email),
					.units = 3000,
					.effective_at = DAY0,
					.expires_at = QUOTA_NEVER,
					.price_micros = 100000000,
					.priority = 1};
		TRY(ctx, quota_package_add(w->acc[1], &a, NULL));
		TRY(ctx, quota_package_add(w->acc[1], &b, NULL));
		TRY(ctx, quota_package_add(w->acc[1], &g, NULL));
		TRY(ctx, quota_account_set_cap(w->acc[1], w->sms,
					       QUOTA_PERIOD_DAY, 4000));
	}
	/* civic: email only, bought from the catalog the day before with a
	 * voucher (R16, R19), and stop when its package is gone (R7). */
	{
		quota_offer_spec o = {.id = "mail-6k",
				      .categories = QUOTA_MASK(w->email),
				      .units = 6000,
				      .price_micros = 1440000,
				      .valid_months = 6,
				      .flags = QUOTA_PACKAGE_STOP};
		quota_voucher v = {QUOTA_VOUCHER_PERCENT, 1000, 1000000};
		quota_purchase pu;

		TRY(ctx, quota_offer_add(ctx, &o, &w->offer));
		TRY(ctx, quota_account_topup(w->acc[2], 10000000,
					     DAY0 - 86400));
		TRY(ctx, quota_package_buy(w->acc[2], w->offer, 1, &v,
					   DAY0 - 86400, "civic-mail-6k", &pu));
	}
	/* Balances (R17, R18): acme is settled hourly, the others daily;
	 * bolt's balance is too small for its first bill.  This is the
	 * setup's last step: a later run that finds no balance on bolt
	 * knows the first run stopped during its setup. */
	TRY(ctx, quota_account_topup(w->acc[0], 400000000, DAY0));
	TRY(ctx, quota_account_set_settlement(w->acc[0], QUOTA_PERIOD_HOUR,
					      10000, QUOTA_ROUND_HALF_UP));
	TRY(ctx, quota_account_topup(w->acc[1], 500000, DAY0));
}

/*
 * A later run: the recovered file already holds the configuration and the
 * accounts; look them up instead of adding them again (which the
 * configuration stream would refuse or duplicate).  0 if something is
 * missing (a first run that stopped during its setup).
 */
static int find(quota_ctx *ctx, struct world *w)
{
	quota_money m;
	uint32_t i;

	if (quota_category_find(ctx, "sms.notify", &w->sms) != QUOTA_OK ||
	    quota_category_find(ctx, "email", &w->email) != QUOTA_OK ||
	    quota_tariff_find(ctx, "sms-standard", &w->sms_t) != QUOTA_OK ||
	    quota_tariff_find(ctx, "email-payg", &w->mail_t) != QUOTA_OK ||
	    quota_offer_find(ctx, "mail-6k", &w->offer) != QUOTA_OK)
		return 0;
	for (i = 0; i < NACC; i++)
		if (quota_account_find(ctx, names[i], &w->acc[i]) != QUOTA_OK)
			return 0;
	TRY(ctx, quota_account_money(w->acc[1], &m));
	return m.topped_up_micros > 0;
}

/* Counts report rows. */
static int count_row(const quota_report_row *row, void *ud)
{
	(void)row;
	++*(long *)ud;
	return 0;
}

/* Days already metered: the first day (from DAY0) on whose 24 hours no
 * account has any usage in its ledger. */
static int days_done(quota_ctx *ctx, const struct world *w)
{
	int d, i;

	for (d = 0;; d++) {
		int64_t from = DAY0 + (int64_t)d * 86400;
		long rows = 0;

		for (i = 0; i < NACC; i++)
			TRY(ctx, quota_report(w->acc[i], QUOTA_PERIOD_HOUR,
					      from, from + 86400, count_row,
					      &rows));
		if (rows == 0)
			return d;
	}
}

/* Units left in an account's packages (usable or not yet). */
static int64_t package_units(const quota_account *a)
{
	uint32_t n = quota_account_package_count(a), j;
	int64_t sum = 0;

	for (j = 0; j < n; j++)
		sum += quota_package_remaining(quota_account_package_at(a, j));
	return sum;
}

/* The first lines of a run: where it starts, and for a resumed file what
 * each account brings from the days before. */
static void headline(quota_ctx *ctx, const struct world *w, const char *path,
		     int fresh, int day, int64_t start)
{
	char d[16], buf[32], buf2[32];
	int i;

	date(d, sizeof d, start);
	if (fresh) {
		printf("gateway_demo: starting fresh in %s: day 1 (%s), set up "
		       "2 categories, 2 tariffs, 1 offer, %d accounts\n",
		       path, d, NACC);
		return;
	}
	printf("gateway_demo: resuming from %s: day %d (%s), %d accounts; "
	       "configuration found (%" PRIu32 " categories, tariffs %s and "
	       "%s, offer mail-6k)\n",
	       path, day, d, NACC, quota_category_count(ctx),
	       quota_tariff_name(w->sms_t), quota_tariff_name(w->mail_t));
	for (i = 0; i < NACC; i++) {
		int64_t vol = quota_account_used(w->acc[i], w->sms,
						 QUOTA_PERIOD_MONTH, start);
		int64_t mail = quota_account_used(w->acc[i], w->email,
						  QUOTA_PERIOD_MONTH, start);
		int64_t price = 0;
		quota_money m;

		TRY(ctx, quota_account_money(w->acc[i], &m));
		TRY(ctx, quota_tariff_price(w->sms_t, vol, 1, &price));
		money(buf, sizeof buf, m.balance_micros);
		money(buf2, sizeof buf2, price);
		printf("  %-11s %6" PRId64 " package units left; month: %6" PRId64
		       " SMS (next at %s), %6" PRId64 " email; balance %s, "
		       "%" PRIu32 " unpaid bills%s\n",
		       names[i], package_units(w->acc[i]), vol, buf2, mail,
		       buf, m.outstanding_bills,
		       m.suspended ? " (suspended)" : "");
	}
}

/* Each later morning: acme-shop tops up (paying what it still owes, which
 * resumes it), and civic-news buys another mail-6k when its email is used
 * up and its balance can pay. */
static void morning(quota_ctx *ctx, const struct world *w, int day,
		    int64_t start)
{
	char buf[32], id[32];
	quota_purchase pu;
	int rc;

	TRY(ctx, quota_account_topup(w->acc[0], 300000000, start));
	money(buf, sizeof buf, quota_account_balance(w->acc[0]));
	printf("morning: %s tops up 300.000000, balance %s%s\n", names[0], buf,
	       quota_account_suspended(w->acc[0]) ? " (still suspended)" : "");
	if (quota_account_remaining(w->acc[2], w->email, start) > 0)
		return;
	snprintf(id, sizeof id, "civic-mail-6k-d%d", day);
	rc = quota_package_buy(w->acc[2], w->offer, 1, NULL, start, id, &pu);
	if (rc == QUOTA_EFUNDS) {
		printf("morning: %s cannot pay for mail-6k (%s)\n", names[2],
		       quota_err_name(rc));
		return;
	}
	if (rc != QUOTA_OK)
		die(ctx, "quota_package_buy", rc);
	money(buf, sizeof buf, pu.price_micros);
	printf("morning: %s buys mail-6k as %s: %" PRId64 " units for %s\n",
	       names[2], id, pu.units, buf);
}

/* Day `day` (1 = DAY0) of traffic, and its report. */
static void meter_day(quota_ctx *ctx, struct world *w, int day)
{
	const int64_t start = DAY0 + (int64_t)(day - 1) * 86400;
	struct tally tally[NACC][2] = {{{0}}};
	quota_account *const *acc = w->acc;
	char buf[32], buf2[32], d[16];
	uint32_t i;

	rng = UINT64_C(88172645463325252) ^
	      ((uint64_t)(day - 1) * UINT64_C(0x9E3779B97F4A7C15));
	/* A day of traffic: 20,000 messages at increasing times. */
	for (i = 0; i < MSGS; i++) {
		uint32_t k = (uint32_t)(next() % NACC);
		int is_mail = (k == 2) || (next() % 3 == 0);
		quota_usage u = {
			.category = is_mail ? w->email : w->sms,
			.units = is_mail ? (int64_t)(1 + next() % 5)
					 : (int64_t)(1 + next() % 3),
			.at = start + (int64_t)i * 86400 / MSGS,
		};
		quota_receipt r;
		struct tally *t = &tally[k][is_mail];
		uint64_t hold;
		int rc;

		/* Every hour on the hour, settle what is complete (R17); bolt
		 * tops up at 20:00 (local 04:00 next day) and resumes (R18). */
		if (i % (MSGS / 24) == 0) {
			uint32_t j;

			for (j = 0; j < NACC; j++)
				if (quota_settle(acc[j], u.at, on_bill,
						 (void *)(intptr_t)j) < 0)
					die(ctx, "quota_settle", -1);
			if (i == 20 * (MSGS / 24))
				TRY(ctx, quota_account_topup(acc[1], 30000000,
							     u.at));
		}
		/* Email is charged at once; SMS is held at submit and settled
		 * by the delivery report (R10): 96 % delivered, 4 % failed. */
		if (is_mail)
			rc = quota_charge(acc[k], &u, &r);
		else
			rc = quota_reserve(acc[k], &u, 3600, &r, &hold);
		if (rc == QUOTA_ECAP || rc == QUOTA_EEXHAUSTED ||
		    rc == QUOTA_ESUSPENDED) {
			t->refused += u.units;
			continue;
		}
		if (rc != QUOTA_OK)
			die(ctx, "quota_charge", rc);
		if (!is_mail && next() % 25 == 0) {
			TRY(ctx, quota_release(acc[k], hold, NULL, &r));
			t->failed += r.units;
			t->fees += r.fee_micros;
			t->cost += r.fee_micros;
			continue;
		}
		if (!is_mail)
			TRY(ctx, quota_commit(acc[k], hold, u.units, NULL, &r));
		t->sent += r.units;
		t->free += r.free_units;
		t->pkg += r.package_units;
		t->payg += r.payg_units;
		t->cost += r.payg_cost_micros;
	}

	date(d, sizeof d, start);
	printf("libquota %s - 24 h of gateway traffic from %s 00:00 UTC "
	       "(accounts on UTC+8)\n\n",
	       quota_version(), d);
	printf("%-11s %-6s %8s %8s %6s %8s %8s %14s\n", "account", "chan",
	       "sent", "refused", "free", "package", "payg", "owes");
	for (i = 0; i < NACC; i++) {
		int64_t total = 0;
		int ch;

		for (ch = 0; ch < 2; ch++) {
			struct tally *t = &tally[i][ch];

			total += t->cost;
			money(buf, sizeof buf, t->cost);
			printf("%-11s %-6s %8" PRId64 " %8" PRId64
			       " %6" PRId64 " %8" PRId64 " %8" PRId64
			       " %14s\n",
			       names[i], ch ? "email" : "sms", t->sent,
			       t->refused, t->free, t->pkg, t->payg, buf);
		}
		money(buf, sizeof buf, total);
		money(buf2, sizeof buf2, tally[i][0].fees);
		printf("%-11s %-6s %8" PRId64 " failed SMS segments, fees %s\n",
		       "", "", tally[i][0].failed, buf2);
		printf("%-11s %-6s %62s\n", "", "total", buf);
	}
	/* Close the day (R17): the last period of each account. */
	for (i = 0; i < NACC; i++)
		if (quota_settle(acc[i], start + 86400, on_bill,
				 (void *)(intptr_t)i) < 0)
			die(ctx, "quota_settle", -1);
	printf("\nsettlement (pay-as-you-go and fees, rounded to the cent):\n");
	for (i = 0; i < NACC; i++) {
		quota_money m;

		TRY(ctx, quota_account_money(acc[i], &m));
		money(buf, sizeof buf, billed[i]);
		money(buf2, sizeof buf2, m.balance_micros);
		printf("  %-11s %3ld bills %14s   balance %12s%s\n", names[i],
		       nbills[i], buf, buf2,
		       m.suspended ? "   SUSPENDED" : "");
	}
	printf("\nevents: %ld low-quota alerts, %ld packages exhausted, "
	       "%ld caps reached, %ld suspensions, %ld resumptions\n",
	       events[QUOTA_EVENT_LOW_QUOTA],
	       events[QUOTA_EVENT_PACKAGE_EXHAUSTED],
	       events[QUOTA_EVENT_CAP_REACHED], events[QUOTA_EVENT_SUSPENDED],
	       events[QUOTA_EVENT_RESUMED]);
	printf("\npackages at end of day:\n");
	for (i = 0; i < NACC; i++) {
		uint32_t n = quota_account_package_count(acc[i]), j;

		for (j = 0; j < n; j++) {
			const quota_package *p = quota_account_package_at(acc[i], j);
			static const char *st[] = {"pending", "active",
						   "exhausted", "expired"};
			quota_package_spec s;

			quota_package_get_spec(p, &s);
			money(buf2, sizeof buf2, s.price_micros);
			printf("  %-11s %-16s %7" PRId64 " of %7" PRId64
			       " left  %-9s (paid %s)\n",
			       names[i], s.id, quota_package_remaining(p),
			       s.units,
			       st[quota_package_status(p, start + 86400)],
			       buf2);
		}
	}
	/* R22: the day's usage by source, as the CSV a billing system
	 * imports (days in the account's UTC+8: the local day before
	 * holds this day's first sixteen hours). */
	printf("\nusage report, %s, by local day (CSV):\n", names[1]);
	TRY(ctx, quota_report_csv_file(acc[1], QUOTA_PERIOD_DAY,
				       start - 86400, start + 86400, stdout));
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "build/demo.db";
	quota_sqlite_options opts = QUOTA_SQLITE_OPTIONS_INIT;
	quota_ctx *ctx;
	quota_sqlite *db;
	struct world w;
	int64_t start;
	int day, fresh, rc;

	if (argc > 2) {
		fprintf(stderr, "usage: gateway_demo [DB]\n");
		return 2;
	}
	TRY(NULL, quota_ctx_new(&ctx));
	/* The hook first: whether alerts are armed depends on it, also for
	 * the accounts recovered from the file. */
	TRY(ctx, quota_ctx_set_event_hook(ctx, on_event, NULL));
	opts.synchronous = QUOTA_SQLITE_SYNC_NORMAL;
	if ((rc = quota_sqlite_open_with(ctx, path, &opts, &db)) != QUOTA_OK)
		die(ctx, "quota_sqlite_open", rc);

	fresh = quota_category_count(ctx) == 0 &&
		quota_ctx_account_count(ctx) == 0;
	if (fresh) {
		setup(ctx, &w);
		day = 1;
	} else if (find(ctx, &w)) {
		day = days_done(ctx, &w) + 1;
	} else {
		fprintf(stderr, "gateway_demo: %s: the configuration is "
				"incomplete (did the first run stop during its "
				"setup?); remove the file (make demo-reset)\n",
			path);
		quota_sqlite_close(db);
		quota_ctx_free(ctx);
		return 1;
	}
	start = DAY0 + (int64_t)(day - 1) * 86400;
	headline(ctx, &w, path, fresh, day, start);
	if (day > 1)
		morning(ctx, &w, day, start);
	printf("\n");
	meter_day(ctx, &w, day);

	/* End of the day: a snapshot of every account, so the next run
	 * recovers from it rather than from the day's records. */
	TRY(ctx, quota_sqlite_checkpoint(db));
	quota_sqlite_close(db);
	quota_ctx_free(ctx);
	return 0;
}
