/*
 * check_faults_keyed.c - allocation failures in keyed calls at a new hour
 * (R8): a keyed charge, reservation, commit or release refused with
 * QUOTA_ENOMEM leaves no ledger row, no report row and no bill behind.
 * Each test name cites the rule it shows.
 *
 * The scenario sweep of STYLE 19 (single and persistent failures) is in
 * check_faults.c, the R23 auto-renewal sweep in check_faults_renewal.c;
 * the three share no helpers.
 */
#include <check.h>

#include <stdio.h>
#include <string.h>

#include "quota.h"
#include "testutil.h"

/* ------------------------------------------ R8: refused calls leave no trace */

/*
 * A keyed call at an hour the ledger has no rows for yet, refused because
 * an allocation failed (the key record's, or any other), must leave no
 * ledger row behind: no report row, no bill, and an account that had no
 * usage can still change its UTC offset (quota_account_new(3)).
 */
enum { K_CHARGE_HOOK, K_CHARGE, K_RESERVE, K_COMMIT, K_RELEASE, NKINDS };
static const char *const kind_names[NKINDS] = {
	"keyed charge (hook set)", "keyed charge", "keyed reserve",
	"keyed commit", "keyed release"};

#define TW_H0 tu_utc(2024, 6, 3, 9, 15, 0)
#define TW_H1 (TW_H0 + 2 * TU_HOUR) /* the new hour */

typedef struct twin {
	tu_alloc al;
	quota_ctx *ctx;
	quota_account *a;
	uint32_t c;
	uint64_t hold;
	int fresh; /* the account has no usage at all before the call */
} twin;

typedef struct trows {
	int n;
	quota_report_row r[32];
} trows;

static int noop_hook(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	return 0;
}

static int trow_cb(const quota_report_row *row, void *ud)
{
	trows *t = ud;

	ck_assert_int_lt(t->n, 32);
	t->r[t->n++] = *row;
	return 0;
}

static void trows_take(const quota_account *a, trows *t)
{
	memset(t, 0, sizeof *t);
	ck_assert_int_eq(quota_report(a, QUOTA_PERIOD_HOUR, QUOTA_TIME_MIN,
				      QUOTA_TIME_MAX, trow_cb, t),
			 QUOTA_OK);
}

static void trows_assert_eq(const trows *x, const trows *y, const char *what)
{
	int i;

	ck_assert_msg(x->n == y->n, "%s: %d report rows, %d before", what,
		      y->n, x->n);
	for (i = 0; i < x->n; i++)
		ck_assert_msg(x->r[i].start == y->r[i].start &&
				      x->r[i].category == y->r[i].category &&
				      x->r[i].source == y->r[i].source &&
				      x->r[i].package == y->r[i].package &&
				      x->r[i].units == y->r[i].units &&
				      x->r[i].cost_micros == y->r[i].cost_micros,
			      "%s: report row %d changed", what, i);
}

/* The world before the call: a package of 2 units, pay-as-you-go at 1000
 * a unit with a failure fee; with `used`, a charge at TW_H0; commit and
 * release get a 3-unit hold at the new hour TW_H1. */
static void twin_build(twin *w, int kind, int used)
{
	quota_tariff *t;
	quota_package_spec ps;
	quota_receipt r;

	memset(w, 0, sizeof *w);
	tu_alloc_init(&w->al);
	ck_assert_int_eq(quota_ctx_new_with(&w->al.a, &w->ctx), QUOTA_OK);
	ck_assert_int_eq(quota_category_add(w->ctx, "sms", &w->c), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(w->ctx, "std", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 1000),
			 QUOTA_OK);
	ck_assert_int_eq(quota_tariff_set_failure_fee(t, 300), QUOTA_OK);
	ck_assert_int_eq(quota_account_new(w->ctx, "a", &w->a), QUOTA_OK);
	ck_assert_int_eq(quota_account_set_tariff(w->a, w->c, t), QUOTA_OK);
	memset(&ps, 0, sizeof ps);
	ps.id = "P";
	ps.categories = QUOTA_MASK(w->c);
	ps.units = 2;
	ps.effective_at = TW_H0 - TU_DAY;
	ps.expires_at = QUOTA_NEVER;
	ck_assert_int_eq(quota_package_add(w->a, &ps, NULL), QUOTA_OK);
	if (kind == K_CHARGE_HOOK)
		ck_assert_int_eq(quota_ctx_set_event_hook(w->ctx, noop_hook,
							  NULL),
				 QUOTA_OK);
	if (used) {
		quota_usage u = {.category = w->c, .units = 1, .at = TW_H0};

		ck_assert_int_eq(quota_charge(w->a, &u, &r), QUOTA_OK);
	}
	if (kind == K_COMMIT || kind == K_RELEASE) {
		quota_usage u = {.category = w->c, .units = 3, .at = TW_H1};

		ck_assert_int_eq(quota_reserve(w->a, &u, 600, &r, &w->hold),
				 QUOTA_OK);
	}
	w->fresh = !used && kind != K_COMMIT && kind != K_RELEASE;
}

static int twin_call(twin *w, int kind)
{
	quota_usage u = {.category = w->c, .units = 3, .at = TW_H1,
			 .key = "k1"};
	quota_receipt r;
	uint64_t h;

	switch (kind) {
	case K_CHARGE_HOOK:
	case K_CHARGE:
		return quota_charge(w->a, &u, &r);
	case K_RESERVE:
		return quota_reserve(w->a, &u, 600, &r, &h);
	case K_COMMIT:
		return quota_commit(w->a, w->hold, 2, "k1", &r);
	default:
		return quota_release(w->a, w->hold, "k1", &r);
	}
}

static int bill_count_cb(const quota_bill *b, void *ud)
{
	(void)b;
	++*(int *)ud;
	return 0;
}

/* Bills a settlement far ahead makes. */
static int64_t twin_bills(twin *w)
{
	int n = 0;
	int64_t rc = quota_settle(w->a, TW_H0 + 30 * TU_DAY, bill_count_cb, &n);

	ck_assert_int_ge(rc, 0);
	ck_assert_int_eq(rc, n);
	return rc;
}

static void twin_free(twin *w)
{
	quota_ctx_free(w->ctx);
	ck_assert_int_eq(w->al.live_blocks, 0);
}

/* After a refused call: the report as before, the offset still free on
 * an account without usage, and settlement bills what an untouched twin
 * bills. */
static void twin_assert_untouched(twin *w, int kind, int used,
				  const trows *before, const char *what)
{
	trows after;
	twin ref;

	trows_take(w->a, &after);
	trows_assert_eq(before, &after, what);
	if (w->fresh) {
		int rc = quota_account_set_utc_offset(w->a, 3600);

		ck_assert_msg(rc == QUOTA_OK,
			      "%s: set_utc_offset after the refused call: %s "
			      "(%s)",
			      what, quota_err_name(rc), quota_errmsg(w->ctx));
		ck_assert_int_eq(quota_account_set_utc_offset(w->a, 0),
				 QUOTA_OK);
	}
	twin_build(&ref, kind, used);
	ck_assert_msg(twin_bills(w) == twin_bills(&ref),
		      "%s: settlement bills an hour the call never charged",
		      what);
	twin_free(&ref);
}

/* R8: the key record of a keyed charge at a new hour cannot be allocated
 * (with a hook set, the charge takes the general path, where the key
 * record is the call's last allocation): nothing of the charge stays. */
START_TEST(test_r8_key_record_enomem_at_new_hour_leaves_no_ledger_row)
{
	twin w;
	trows before;
	long k, a0;
	int rc;

	/* How many allocations the call makes, on a twin. */
	twin_build(&w, K_CHARGE_HOOK, 0);
	a0 = w.al.attempts;
	ck_assert_int_eq(twin_call(&w, K_CHARGE_HOOK), QUOTA_OK);
	k = w.al.attempts - a0;
	ck_assert_int_gt(k, 0);
	twin_free(&w);

	twin_build(&w, K_CHARGE_HOOK, 0);
	trows_take(w.a, &before);
	ck_assert_int_eq(before.n, 0);
	tu_alloc_fail_in(&w.al, k); /* the last one: the key record */
	rc = twin_call(&w, K_CHARGE_HOOK);
	tu_alloc_disarm(&w.al);
	ck_assert_int_eq(rc, QUOTA_ENOMEM);
	ck_assert_int_eq(w.al.failures, 1);
	twin_assert_untouched(&w, K_CHARGE_HOOK, 0, &before,
			      "key record ENOMEM");
	/* And the retry is a charge, not a replay. */
	ck_assert_int_eq(twin_call(&w, K_CHARGE_HOOK), QUOTA_OK);
	trows_take(w.a, &before);
	ck_assert_int_gt(before.n, 0);
	twin_free(&w);
}
END_TEST

/* R8: every allocation of a keyed charge, reservation, commit or release
 * at a new hour fails in turn (once, or from then on); whenever the call
 * is refused, the account's report rows are unchanged and no trace of it
 * is left in the ledger. */
START_TEST(test_r8_alloc_sweep_keyed_calls_at_new_hour_leave_no_trace)
{
	int kind, used, mode;
	long refused = 0;

	for (kind = 0; kind < NKINDS; kind++)
		for (used = 0; used < 2; used++)
			for (mode = 0; mode < 2; mode++) {
				long n;

				for (n = 1;; n++) {
					char what[128];
					twin w;
					trows before;
					int rc;

					twin_build(&w, kind, used);
					trows_take(w.a, &before);
					if (mode == 0)
						tu_alloc_fail_in(&w.al, n);
					else {
						w.al.fail_at = w.al.attempts + n;
						w.al.fail_rest = 1;
					}
					rc = twin_call(&w, kind);
					tu_alloc_disarm(&w.al);
					snprintf(what, sizeof what,
						 "%s, %s, %s failure %ld",
						 kind_names[kind],
						 used ? "used account"
						      : "new account",
						 mode ? "persistent" : "single",
						 n);
					if (!w.al.failures) {
						ck_assert_msg(rc == QUOTA_OK,
							      "%s: %s", what,
							      quota_err_name(rc));
						twin_free(&w);
						break;
					}
					if (rc != QUOTA_OK) {
						ck_assert_msg(rc == QUOTA_ENOMEM,
							      "%s: %s", what,
							      quota_err_name(rc));
						twin_assert_untouched(
							&w, kind, used, &before,
							what);
						refused++;
					}
					twin_free(&w);
				}
			}
	ck_assert_int_gt(refused, 0);
}
END_TEST

static Suite *faults_keyed_suite(void)
{
	Suite *s = suite_create("faults_keyed");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc,
		       test_r8_key_record_enomem_at_new_hour_leaves_no_ledger_row);
	tcase_add_test(tc,
		       test_r8_alloc_sweep_keyed_calls_at_new_hour_leave_no_trace);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_keyed_suite());
}
