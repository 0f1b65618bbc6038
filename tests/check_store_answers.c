/*
 * check_store_answers.c - what each answer of the store does to the call
 * (§5, quota_store.h): every answer but OK leaves memory as it was and
 * delivers no event, and the store's own words reach quota_errmsg; an
 * unknown outcome stops the account until the host re-synchronises it
 * (a retried key then replays); a conflict is caught up and retried; a
 * refused record of the configuration stream adds nothing.
 *
 * The versioned struct, the fast paths' records and reading records back
 * are in check_store.c; the two share the store of
 * tests/support/mstore.h.
 */
#include <check.h>

#include "quota.h"
#include "quota_store.h"
#include "testutil.h"
#include "fixtures.h"
#include "mstore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600) /* 2026-01-01 */

static mstore *hooked;

static int on_event(const quota_event *e, void *ud)
{
	(void)e;
	(void)ud;
	hooked->at_event = hooked->n;
	return 0;
}

/* Version 2's errmsg: a database's own words reach quota_errmsg. */
static const char *m_says(void *ud)
{
	(void)ud;
	return "disk I/O error (from the store)";
}

static int m_commit_fails(void *ud)
{
	(void)ud;
	return QUOTA_ESTORE;
}

START_TEST(test_s5_store_words_reach_errmsg)
{
	quota_ctx *c = new_ctx();
	quota_store st = QUOTA_STORE_INIT;
	quota_account *a;
	quota_op op;
	mstore m;
	uint32_t sms;

	memset(&m, 0, sizeof m);
	st.ud = &m;
	st.append = m_append;
	st.errmsg = m_says;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	sms = add_cat(c, "sms");
	ck_assert_int_eq(quota_account_new(c, "acme", &a), QUOTA_OK);
	m.answer = QUOTA_ESTORE;
	ck_assert_int_eq(quota_account_topup(a, 1000, T0), QUOTA_ESTORE);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "refused it"));
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "QUOTA_ESTORE"));
	ck_assert_ptr_nonnull(
		strstr(quota_errmsg(c), ": disk I/O error (from the store)"));
	/* A batch whose commit fails says so too. */
	st.begin = m_begin;
	st.commit = m_commit_fails;
	ck_assert_int_eq(quota_ctx_set_store(c, &st), QUOTA_OK);
	memset(&op, 0, sizeof op);
	op.kind = QUOTA_OP_CHARGE;
	op.account = a;
	op.usage.category = sms;
	op.usage.units = 1;
	op.usage.at = T0;
	ck_assert_int_eq(quota_batch(c, &op, 1), QUOTA_ESTORE);
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "refused the batch"));
	ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "from the store"));
	/* A store library words its own failures the same way. */
	ck_assert_int_eq(quota_ctx_set_error(c, QUOTA_ECORRUPT,
					     "db 'x.db': not a libquota file"),
			 QUOTA_ECORRUPT);
	ck_assert_str_eq(quota_errmsg(c), "db 'x.db': not a libquota file");
	ck_assert_int_eq(quota_ctx_set_error(NULL, QUOTA_ESTORE, "x"),
			 QUOTA_ESTORE);
	ck_assert_int_eq(quota_ctx_set_error(c, QUOTA_ESTORE, NULL),
			 QUOTA_ESTORE);
	ck_assert_str_eq(quota_errmsg(c), "");
	m_free(&m);
	quota_ctx_free(c);
}
END_TEST

/* Every answer but OK leaves memory as it was; events only after OK. */
START_TEST(test_s5_store_answers)
{
	static const int answers[] = {QUOTA_ESTORE, QUOTA_ENOMEM, -99,
				      QUOTA_ECONFLICT};
	quota_ctx *c = new_ctx();
	quota_account *a;
	quota_receipt r;
	quota_usage u;
	mstore m;
	uint32_t sms;
	size_t i, n0, len;
	void *before, *after;

	set_store(c, &m);
	hooked = &m;
	ck_assert_int_eq(quota_ctx_set_event_hook(c, on_event, NULL),
			 QUOTA_OK);
	sms = add_cat(c, "sms");
	a = add_acct(c, "a");
	add_pkg(a, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0, 0);
	ck_assert_int_eq(quota_account_tick(a, T0 - 1), 0); /* in force */
	ck_assert_int_eq(quota_account_add_alert(a, sms, 5, QUOTA_ALERT_UNITS),
			 QUOTA_OK);
	u = (quota_usage){.category = sms, .units = 6, .at = T0, .key = "k"};
	for (i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		ck_assert_int_eq(quota_account_snapshot(a, &before, &len),
				 QUOTA_OK);
		n0 = m.n;
		m.answer = answers[i];
		m.at_event = (size_t)-1;
		ck_assert_int_eq(quota_charge(a, &u, &r),
				 answers[i] == QUOTA_ECONFLICT ? QUOTA_ECONFLICT
							       : QUOTA_ESTORE);
		ck_assert_int_eq(r.units, 0);
		ck_assert_uint_eq(m.n, n0);
		ck_assert_uint_eq(m.at_event, (size_t)-1); /* no event */
		ck_assert_ptr_nonnull(strstr(quota_errmsg(c), "record"));
		ck_assert_int_eq(quota_account_snapshot(a, &after, &len),
				 QUOTA_OK);
		ck_assert_msg(memcmp(before, after, len) == 0,
			      "answer %d changed the account", answers[i]);
		quota_free(c, before);
		quota_free(c, after);
	}
	/* The same call once the store takes it: applied, the alert fires
	 * after the record is stored, and the key is kept. */
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(r.package_units, 6);
	ck_assert_uint_eq(m.at_event, m.n);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(r.replayed, 1);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* Unknown outcome: the account stops; the host re-reads it; a retried
 * key then replays, so nothing is charged twice.  Another account goes
 * on meanwhile. */
START_TEST(test_s5_unknown_outcome_stops_the_account_until_resync)
{
	quota_ctx *c = new_ctx();
	quota_account *a, *b;
	quota_receipt r;
	quota_usage u;
	quota_package *p;
	mstore m;
	uint32_t sms;
	size_t i;

	set_store(c, &m);
	sms = add_cat(c, "sms");
	a = add_acct(c, "a");
	b = add_acct(c, "b");
	add_pkg(a, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0, 0);
	u = (quota_usage){.category = sms, .units = 4, .at = T0, .key = "m1"};
	m.answer = QUOTA_EUNKNOWN;
	m.keep_on_answer = 1; /* it was stored after all */
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNKNOWN);
	ck_assert_int_eq(quota_package_find(a, "p", &p), QUOTA_OK);
	ck_assert_int_eq(quota_package_remaining(p), 10); /* memory: not yet */
	ck_assert_int_eq(quota_account_unsynced(a), 1);
	ck_assert_int_eq(quota_account_unsynced(b), 0);
	ck_assert_int_eq(quota_account_unsynced(NULL), 0);
	/* Every change refused, reads still work. */
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_account_topup(a, 5, T0), QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_account_set_cap(a, sms, QUOTA_PERIOD_DAY, 9),
			 QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_account_remaining(a, sms, T0), 10);
	/* Never guess: no snapshot of what may not be the truth. */
	{
		void *snap = (void *)1;
		size_t len = 1;

		ck_assert_int_eq(quota_account_snapshot(a, &snap, &len),
				 QUOTA_EUNSYNCED);
		ck_assert_ptr_null(snap);
		ck_assert_uint_eq(len, 0);
		ck_assert_ptr_nonnull(strstr(quota_errmsg(c),
					     "re-synchronise"));
	}
	/* Another account is not affected. */
	u.key = NULL;
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_OK);
	/* Re-synchronise a from the store: back to before its first
	 * record, then its records. */
	ck_assert_int_eq(quota_account_reset(a, NULL, 0), QUOTA_OK);
	for (i = 0; i < m.n; i++)
		if (strcmp(m.acct[i], "a") == 0)
			ck_assert_msg(quota_journal_apply(c, m.rec[i], m.len[i],
							  QUOTA_JOURNAL_CHECK) ==
					      QUOTA_OK,
				      "%s", quota_errmsg(c));
	ck_assert_int_eq(quota_package_find(a, "p", &p), QUOTA_OK);
	ck_assert_int_eq(quota_package_remaining(p), 6);
	ck_assert_int_eq(quota_account_unsynced(a), 0);
	for (i = m.n; i-- > 0;) /* where a's stream stands: its last record */
		if (strcmp(m.acct[i], "a") == 0)
			break;
	ck_assert_uint_lt(i, m.n);
	ck_assert_uint_eq(quota_account_seq(a), m.seq[i]);
	ck_assert_uint_eq(quota_account_seq(NULL), 0);
	{ /* re-synchronised: its snapshot can be taken again */
		void *snap = NULL;
		size_t len = 0;

		ck_assert_int_eq(quota_account_snapshot(a, &snap, &len),
				 QUOTA_OK);
		quota_free(c, snap);
	}
	u.key = "m1";
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_OK);
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_int_eq(quota_package_remaining(p), 6);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* §5, never guess: once an outcome is unknown, every change is refused
 * with QUOTA_EUNSYNCED before the account's state is looked at: not
 * QUOTA_EBLOCKED after an unblock whose record may be stored, not
 * QUOTA_ECAP from a cap the stored records may have moved. */
START_TEST(test_s5_unsynced_before_any_state_refusal)
{
	quota_ctx *c = new_ctx();
	quota_account *a, *b;
	quota_receipt r;
	quota_usage u;
	mstore m;
	uint32_t sms;

	set_store(c, &m);
	sms = add_cat(c, "sms");
	a = add_acct(c, "a");
	b = add_acct(c, "b");
	add_pkg(a, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0, 0);
	add_pkg(b, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0, 0);
	u = (quota_usage){.category = sms, .units = 1, .at = T0};
	/* a: blocked, then an unblock whose outcome is unknown */
	ck_assert_int_eq(quota_account_block(a, "audit", T0), QUOTA_OK);
	m.answer = QUOTA_EUNKNOWN;
	m.keep_on_answer = 1;
	ck_assert_int_eq(quota_account_unblock(a, T0 + 1), QUOTA_EUNKNOWN);
	ck_assert_int_eq(quota_account_unsynced(a), 1);
	ck_assert_int_eq(quota_charge(a, &u, &r), QUOTA_EUNSYNCED);
	ck_assert_int_eq(quota_account_block(a, "again", T0 + 2),
			 QUOTA_EUNSYNCED);
	/* b: at its day's cap, then a top-up whose outcome is unknown */
	ck_assert_int_eq(quota_account_set_cap(b, sms, QUOTA_PERIOD_DAY, 1),
			 QUOTA_OK);
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_OK);
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_ECAP);
	m.answer = QUOTA_EUNKNOWN;
	m.keep_on_answer = 0;
	ck_assert_int_eq(quota_account_topup(b, 5, T0), QUOTA_EUNKNOWN);
	ck_assert_int_eq(quota_charge(b, &u, &r), QUOTA_EUNSYNCED);
	/* nor QUOTA_EFUNDS from a balance the lost top-up may have raised,
	 * nor QUOTA_EBLOCKED to a purchase */
	{
		quota_offer_spec os = {.id = "o", .units = 10,
				       .price_micros = 5};
		quota_offer *o;
		quota_purchase pu;

		os.categories = QUOTA_MASK(sms);
		ck_assert_int_eq(quota_offer_add(c, &os, &o), QUOTA_OK);
		ck_assert_int_eq(quota_package_buy(b, o, 1, NULL, T0, NULL,
						   &pu),
				 QUOTA_EUNSYNCED);
		ck_assert_int_eq(quota_package_buy(a, o, 1, NULL, T0, NULL,
						   &pu),
				 QUOTA_EUNSYNCED);
	}
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* Conflict: another writer appended the account's next record.  The
 * host applies it, and the retry goes through with the next number. */
START_TEST(test_s5_conflict_catch_up_and_retry)
{
	quota_ctx *c1 = new_ctx(), *c2 = new_ctx();
	quota_account *a1, *a2;
	quota_receipt r;
	quota_usage u;
	mstore m1, m2;
	uint32_t sms;
	size_t i;

	/* Two nodes with the same history. */
	set_store(c1, &m1);
	sms = add_cat(c1, "sms");
	a1 = add_acct(c1, "a");
	add_pkg(a1, "p", QUOTA_MASK(sms), 10, T0 - 86400, T0 + 86400, 0, 0);
	tu_journal_skip(c2);
	for (i = 0; i < m1.n; i++)
		ck_assert_int_eq(quota_journal_apply(c2, m1.rec[i], m1.len[i],
						     0),
				 QUOTA_OK);
	ck_assert_int_eq(quota_account_find(c2, "a", &a2), QUOTA_OK);
	set_store(c2, &m2);
	/* Node 2 charges first: record 3 of "a". */
	u = (quota_usage){.category = sms, .units = 3, .at = T0};
	ck_assert_int_eq(quota_charge(a2, &u, &r), QUOTA_OK);
	ck_assert_uint_eq(m2.seq[0], 3);
	/* Node 1's store already holds 3: conflict, nothing changes. */
	m1.answer = QUOTA_ECONFLICT;
	u.units = 2;
	ck_assert_int_eq(quota_charge(a1, &u, &r), QUOTA_ECONFLICT);
	ck_assert_int_eq(quota_account_remaining(a1, sms, T0), 10);
	/* A record out of order is refused; the right one catches up. */
	ck_assert_int_eq(quota_journal_apply(c1, m1.rec[0], m1.len[0], 0),
			 QUOTA_ESEQUENCE);
	ck_assert_int_eq(quota_journal_apply(c1, m2.rec[0], m2.len[0],
					     QUOTA_JOURNAL_CHECK),
			 QUOTA_OK);
	ck_assert_int_eq(quota_journal_apply(c1, m2.rec[0], m2.len[0], 0),
			 QUOTA_ESEQUENCE); /* not twice */
	ck_assert_int_eq(quota_account_remaining(a1, sms, T0), 7);
	ck_assert_int_eq(quota_charge(a1, &u, &r), QUOTA_OK);
	ck_assert_uint_eq(m1.seq[m1.n - 1], 4);
	ck_assert_int_eq(quota_account_remaining(a1, sms, T0), 5);
	quota_ctx_free(c1);
	quota_ctx_free(c2);
	m_free(&m1);
	m_free(&m2);
}
END_TEST

/* The configuration stream: a refused record adds nothing. */
START_TEST(test_s5_configuration_stream)
{
	quota_ctx *c = new_ctx();
	quota_tariff *t;
	uint32_t id;
	mstore m;

	set_store(c, &m);
	m.answer = QUOTA_ESTORE;
	ck_assert_int_eq(quota_category_add(c, "sms", &id), QUOTA_ESTORE);
	ck_assert_uint_eq(quota_category_count(c), 0);
	m.answer = QUOTA_ESTORE;
	ck_assert_int_eq(quota_tariff_new(c, "t", &t), QUOTA_ESTORE);
	ck_assert_int_eq(quota_tariff_find(c, "t", &t), QUOTA_ENOTFOUND);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(quota_category_add(c, "sms", &id), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(c, "t", &t), QUOTA_OK);
	m.answer = QUOTA_ESTORE;
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 5),
			 QUOTA_ESTORE);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 5),
			 QUOTA_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.seq[2], 3);
	ck_assert_str_eq(m.acct[2], "");
	ck_assert_uint_eq(quota_ctx_config_seq(c), 3); /* refusals count not */
	ck_assert_uint_eq(quota_ctx_config_seq(NULL), 0);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* §5, R11: a reservation stored but answered QUOTA_EUNKNOWN, asked
 * again under its key and figure once the account caught up with the
 * store (reset to its snapshot, the records after it applied), replays
 * the hold that was stored: the same hold id, nothing more held, no new
 * record.  What quota_pg_lease_take's retry relies on (quota_pg(3)). */
START_TEST(test_s5_unknown_reservation_retried_under_its_key_replays)
{
	quota_ctx *c = new_ctx();
	quota_account *a;
	quota_receipt r;
	quota_usage u;
	mstore m;
	uint32_t sms;
	uint64_t h1 = 0, h2 = 0;
	void *snap;
	size_t len, i, mark, n;

	set_store(c, &m);
	sms = add_cat(c, "sms");
	a = add_acct(c, "a");
	add_pkg(a, "p", QUOTA_MASK(sms), 1000, T0 - 86400, QUOTA_NEVER, 0, 0);
	ck_assert_int_eq(quota_account_snapshot(a, &snap, &len), QUOTA_OK);
	mark = m.n;
	u = (quota_usage){.category = sms, .units = 100, .at = T0,
			  .key = "lease-K"};
	m.answer = QUOTA_EUNKNOWN;
	m.keep_on_answer = 1; /* it was stored after all */
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h1),
			 QUOTA_EUNKNOWN);
	ck_assert_int_eq(quota_account_held(a, sms), 0);
	/* catch up as a store does */
	ck_assert_int_eq(quota_account_reset(a, snap, len), QUOTA_OK);
	for (i = mark; i < m.n; i++)
		ck_assert_int_eq(quota_journal_apply(c, m.rec[i], m.len[i],
						     QUOTA_JOURNAL_CHECK),
				 QUOTA_OK);
	ck_assert_int_eq(quota_account_held(a, sms), 100);
	n = m.n;
	ck_assert_int_eq(quota_reserve(a, &u, 3600, &r, &h2), QUOTA_OK);
	ck_assert_int_eq(r.replayed, 1);
	ck_assert_uint_eq(h2, 1);
	ck_assert_int_eq(quota_account_held(a, sms), 100);
	ck_assert_uint_eq(quota_account_hold_count(a), 1);
	ck_assert_uint_eq(m.n, n);
	quota_free(c, snap);
	quota_ctx_free(c);
	m_free(&m);
}
END_TEST

/* §5: configuration made while the context had no store is in no
 * journal; quota_ctx_config_unstored counts it (calls only: refusals,
 * accounts and records applied do not count), so that a store that
 * recovers contexts from their journal can refuse such a context. */
START_TEST(test_s5_configuration_made_without_a_store)
{
	quota_ctx *c = new_ctx(), *c2 = new_ctx(), *c3 = new_ctx();
	quota_tariff *t;
	quota_account *a;
	uint32_t id;
	mstore m, m2;
	size_t i;

	/* journaled runs give every context a store: not this one */
	ck_assert_int_eq(quota_ctx_set_store(c, NULL), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_unstored(c), 0);
	ck_assert_int_eq(quota_category_add(c, "sms", &id), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(c, "t", &t), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 5),
			 QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_unstored(c), 3);
	ck_assert_int_eq(quota_category_add(c, "sms", &id), QUOTA_EEXISTS);
	ck_assert_int_eq(quota_account_new(c, "a", &a), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_unstored(c), 3);
	ck_assert_uint_eq(quota_ctx_config_seq(c), 0);
	/* a store set now: what comes after is journaled, the 3 stay */
	set_store(c, &m);
	ck_assert_int_eq(quota_category_add(c, "email", &id), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_unstored(c), 3);
	ck_assert_uint_eq(quota_ctx_config_seq(c), 1);
	/* the store set first: 0; its records applied elsewhere: 0 */
	set_store(c2, &m2);
	ck_assert_int_eq(quota_category_add(c2, "sms", &id), QUOTA_OK);
	ck_assert_int_eq(quota_tariff_new(c2, "t", &t), QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_unstored(c2), 0);
	ck_assert_int_eq(quota_ctx_set_store(c3, NULL), QUOTA_OK);
	for (i = 0; i < m2.n; i++)
		ck_assert_int_eq(quota_journal_apply(c3, m2.rec[i], m2.len[i],
						     QUOTA_JOURNAL_CHECK),
				 QUOTA_OK);
	ck_assert_uint_eq(quota_ctx_config_seq(c3), 2);
	ck_assert_uint_eq(quota_ctx_config_unstored(c3), 0);
	ck_assert_uint_eq(quota_ctx_config_unstored(NULL), 0);
	quota_ctx_free(c);
	quota_ctx_free(c2);
	quota_ctx_free(c3);
	m_free(&m);
	m_free(&m2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_answers");
	TCase *tc = tcase_create("s5");

	tcase_add_test(tc, test_s5_store_words_reach_errmsg);
	tcase_add_test(tc, test_s5_store_answers);
	tcase_add_test(tc, test_s5_unknown_outcome_stops_the_account_until_resync);
	tcase_add_test(tc, test_s5_unsynced_before_any_state_refusal);
	tcase_add_test(tc, test_s5_conflict_catch_up_and_retry);
	tcase_add_test(tc, test_s5_configuration_stream);
	tcase_add_test(tc, test_s5_configuration_made_without_a_store);
	tcase_add_test(tc, test_s5_unknown_reservation_retried_under_its_key_replays);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
