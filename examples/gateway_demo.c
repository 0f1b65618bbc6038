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
 * Build and run from the top of the tree:  make demo
 */
#include <quota.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY0 INT64_C(1732406400) /* 2024-11-24 00:00:00 UTC */

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

/* Deterministic traffic: xorshift, so every run prints the same bill. */
static uint64_t rng = 88172645463325252u;
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
static long nbills[3];
static int64_t billed[3];
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
	snprintf(buf, n, "%" PRId64 ".%06" PRId64, micros / 1000000,
		 micros % 1000000);
}

int main(void)
{
	static const char *names[] = {"acme-shop", "bolt-bank", "civic-news"};
	enum { NACC = 3 };
	struct tally tally[NACC][2] = {{{0}}};
	quota_ctx *ctx;
	quota_account *acc[NACC];
	quota_tariff *sms_t, *mail_t;
	uint32_t sms, email, i;
	char buf[32], buf2[32];

	TRY(NULL, quota_ctx_new(&ctx));
	TRY(ctx, quota_category_add(ctx, "sms.notify", &sms));
	TRY(ctx, quota_category_add(ctx, "email", &email));

	/* SMS: 0.045 per segment up to 100k a month, 0.040 beyond. */
	TRY(ctx, quota_tariff_new(ctx, "sms-standard", &sms_t));
	TRY(ctx, quota_tariff_add_tier(sms_t, 100000, 45000));
	TRY(ctx, quota_tariff_add_tier(sms_t, QUOTA_UNLIMITED, 40000));
	/* Email: 1,000 free a month, then 0.00028 per email (280 micros). */
	TRY(ctx, quota_tariff_new(ctx, "email-payg", &mail_t));
	TRY(ctx, quota_tariff_add_tier(mail_t, QUOTA_UNLIMITED, 280));
	TRY(ctx, quota_tariff_set_free(mail_t, 1000, QUOTA_PERIOD_MONTH));
	/* A failed SMS costs 0.005 per segment (R10 release fee). */
	TRY(ctx, quota_tariff_set_failure_fee(sms_t, 5000));
	TRY(ctx, quota_ctx_set_event_hook(ctx, on_event, NULL));

	for (i = 0; i < NACC; i++) {
		TRY(ctx, quota_account_new(ctx, names[i], &acc[i]));
		TRY(ctx, quota_account_set_utc_offset(acc[i], 8 * 3600));
		TRY(ctx, quota_account_set_tariff(acc[i], sms, sms_t));
		TRY(ctx, quota_account_set_tariff(acc[i], email, mail_t));
		TRY(ctx, quota_account_add_alert(acc[i], sms, 10,
						 QUOTA_ALERT_PERCENT));
	}
	/* acme: a small SMS package that runs out during the day. */
	{
		quota_package_spec s = {.id = "acme-sms-2k",
					.categories = QUOTA_MASK(sms),
					.units = 2000,
					.effective_at = DAY0 - 86400 * 30,
					.expires_at = DAY0 + 86400 * 335,
					.price_micros = 80000000};
		TRY(ctx, quota_package_add(acc[0], &s, NULL));
	}
	/* bolt: two SMS packages, the sooner-expiring one burns first (R3),
	 * a daily SMS cap, and a general package covering both channels. */
	{
		quota_package_spec a = {.id = "bolt-sms-old",
					.categories = QUOTA_MASK(sms),
					.units = 1500,
					.effective_at = DAY0 - 86400 * 300,
					.expires_at = DAY0 + 86400 * 65,
					.price_micros = 60000000};
		quota_package_spec b = {.id = "bolt-sms-new",
					.categories = QUOTA_MASK(sms),
					.units = 50000,
					.effective_at = DAY0 - 86400 * 10,
					.expires_at = DAY0 + 86400 * 355,
					.price_micros = 1900000000};
		quota_package_spec g = {.id = "bolt-general",
					.categories = QUOTA_MASK(sms) |
						      QUOTA_MASK(email),
					.units = 3000,
					.effective_at = DAY0,
					.expires_at = QUOTA_NEVER,
					.price_micros = 100000000,
					.priority = 1};
		TRY(ctx, quota_package_add(acc[1], &a, NULL));
		TRY(ctx, quota_package_add(acc[1], &b, NULL));
		TRY(ctx, quota_package_add(acc[1], &g, NULL));
		TRY(ctx, quota_account_set_cap(acc[1], sms, QUOTA_PERIOD_DAY,
					       4000));
	}
	/* civic: email only, bought from the catalog yesterday with a
	 * voucher (R16, R19), and stop when its package is gone (R7). */
	{
		quota_offer_spec o = {.id = "mail-6k",
				      .categories = QUOTA_MASK(email),
				      .units = 6000,
				      .price_micros = 1440000,
				      .valid_months = 6,
				      .flags = QUOTA_PACKAGE_STOP};
		quota_voucher v = {QUOTA_VOUCHER_PERCENT, 1000, 1000000};
		quota_offer *offer;
		quota_purchase pu;

		TRY(ctx, quota_offer_add(ctx, &o, &offer));
		TRY(ctx, quota_account_topup(acc[2], 10000000, DAY0 - 86400));
		TRY(ctx, quota_package_buy(acc[2], offer, 1, &v, DAY0 - 86400,
					   "civic-mail-6k", &pu));
	}
	/* Balances (R17, R18): acme is settled hourly, the others daily;
	 * bolt's balance is too small for its first bill. */
	TRY(ctx, quota_account_topup(acc[0], 400000000, DAY0));
	TRY(ctx, quota_account_set_settlement(acc[0], QUOTA_PERIOD_HOUR, 10000,
					      QUOTA_ROUND_HALF_UP));
	TRY(ctx, quota_account_topup(acc[1], 500000, DAY0));

	/* A day of traffic: 20,000 messages at increasing times. */
	for (i = 0; i < 20000; i++) {
		uint32_t k = (uint32_t)(next() % NACC);
		int is_mail = (k == 2) || (next() % 3 == 0);
		quota_usage u = {
			.category = is_mail ? email : sms,
			.units = is_mail ? (int64_t)(1 + next() % 5)
					 : (int64_t)(1 + next() % 3),
			.at = DAY0 + (int64_t)i * 86400 / 20000,
		};
		quota_receipt r;
		struct tally *t = &tally[k][is_mail];
		uint64_t hold;
		int rc;

		/* Every hour on the hour, settle what is complete (R17); bolt
		 * tops up at 20:00 (local 04:00 next day) and resumes (R18). */
		if (i % (20000 / 24) == 0) {
			uint32_t j;

			for (j = 0; j < NACC; j++)
				if (quota_settle(acc[j], u.at, on_bill,
						 (void *)(intptr_t)j) < 0)
					die(ctx, "quota_settle", -1);
			if (i == 20 * (20000 / 24))
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

	printf("libquota %s - 24 h of gateway traffic from 2024-11-24 00:00 UTC "
	       "(accounts on UTC+8)\n\n",
	       quota_version());
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
		if (quota_settle(acc[i], DAY0 + 86400, on_bill,
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
			       st[quota_package_status(p, DAY0 + 86400)],
			       buf2);
		}
	}
	/* R22: the day's usage by source, as the CSV a billing system
	 * imports (days in the account's UTC+8). */
	printf("\nusage report, %s, by local day (CSV):\n", names[1]);
	TRY(ctx, quota_report_csv_file(acc[1], QUOTA_PERIOD_DAY, DAY0 - 86400,
				       DAY0 + 86400, stdout));
	quota_ctx_free(ctx);
	return 0;
}
