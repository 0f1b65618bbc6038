/*
 * node_verify.h - `node verify` (issue 12, DESIGN §6): the nodes' logs
 * (DIR/log.P) read into a table of intents by key, a killed node's work
 * finished as it would have after a restart, every acknowledged key
 * replayed against its receipt, then the units and the money of the 10
 * accounts checked, again from a fresh context.  bad() and errors are
 * also `node lease-verify`'s.  Included by node.c, one translation unit:
 * the world, the workload and fail()/die() are node.c's.
 */
#ifndef QUOTA_TEST_PG_NODE_VERIFY_H
#define QUOTA_TEST_PG_NODE_VERIFY_H

/* ----------------------------------------------------------- verify */

typedef struct entry {
	char *key;
	char kind;
	int acct, p;
	long i;
	int64_t units;
	char ref[64];
	int acked;
	uint64_t hold;
	int64_t r_units, r_pkg, r_payg, r_cost;
	struct entry *next;      /* intents in log order, first sighting */
} entry;

#define HSIZE (1u << 20)
static entry *table[HSIZE];
static long nentries;

static uint32_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return (uint32_t)(h & (HSIZE - 1));
}

static entry *lookup(const char *key, int add)
{
	uint32_t h = hash_str(key);

	while (table[h] && strcmp(table[h]->key, key))
		h = (h + 1) & (HSIZE - 1);
	if (!table[h] && add) {
		entry *e = calloc(1, sizeof *e);

		if (!e || !(e->key = strdup(key)) || ++nentries > HSIZE / 2)
			fail("out of memory", NULL, NULL);
		table[h] = e;
	}
	return table[h];
}

static int errors;

static void bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: FAIL: ", prog);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
	if (++errors > 20)
		exit(1);
}

/* Read DIR/log.P; appends newly seen keys to the intent list. */
static void load_log(const char *dir, int p, entry ***tail, long *lines)
{
	char path[600], line[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/log.%d", dir, p);
	if (!(f = fopen(path, "r")))
		fail("%s: cannot open", path, NULL);
	while (fgets(line, sizeof line, f)) {
		char t, kind, key[64], ref[64];
		int acct, rep, kp;
		long long units, ru = 0, rpk = 0, rpy = 0, rc_ = 0;
		unsigned long long hold = 0;
		long ki;
		entry *e;
		opgen g;
		int nf;

		if (!strchr(line, '\n'))
			break; /* a killed node's torn last line */
		nf = sscanf(line, "%c %c %63s %d %lld %63s %llu %lld %lld %lld "
			    "%lld %d", &t, &kind, key, &acct, &units, ref,
			    &hold, &ru, &rpk, &rpy, &rc_, &rep);
		if ((t == 'I' && nf != 6) || (t == 'A' && nf != 12) ||
		    (t != 'I' && t != 'A') ||
		    sscanf(key + 2, "%d.%ld", &kp, &ki) != 2)
			fail("%s: bad line: %s", path, line);
		(*lines)++;
		g = gen(kp, ki);
		if (g.kind != kind || g.acct != acct || g.units != units ||
		    key[0] != kind)
			bad("%s: line does not match its key: %s", path, line);
		e = lookup(key, 1);
		if (!e->kind) {
			e->kind = kind;
			e->acct = acct;
			e->units = units;
			e->p = kp;
			e->i = ki;
			snprintf(e->ref, sizeof e->ref, "%s", ref);
			**tail = e;
			*tail = &e->next;
			if (t == 'A')
				bad("%s: ack without intent: %s", path, line);
		} else if (strcmp(e->ref, ref)) {
			bad("%s: key logged with another reservation: %s",
			    path, line);
		}
		if (t != 'A')
			continue;
		if (e->acked && (e->hold != hold || e->r_units != ru ||
				 e->r_pkg != rpk || e->r_payg != rpy ||
				 e->r_cost != rc_))
			bad("%s: another receipt for a repeated key: %s", path,
			    line);
		e->acked = 1;
		e->hold = hold;
		e->r_units = ru;
		e->r_pkg = rpk;
		e->r_payg = rpy;
		e->r_cost = rc_;
	}
	fclose(f);
}

static void snap_all(world *w, quota_account **acc, void **snap, size_t *len,
		     uint64_t *seq)
{
	for (int k = 0; k < NACC; k++) {
		int rc = quota_account_snapshot(acc[k], &snap[k], &len[k]);

		if (rc)
			die(w->ctx, "quota_account_snapshot", rc);
		seq[k] = quota_account_seq(acc[k]);
	}
}

static void op_of(world *w, quota_op *op, const entry *e, uint64_t hold)
{
	slot s;

	snprintf(s.key, sizeof s.key, "%s", e->key);
	s.g.kind = e->kind;
	s.g.acct = e->acct;
	s.g.units = e->units;
	op->hold_id = hold;
	op_fill(w, op, &s);
	/* The key is e's: s is gone once this returns. */
	if (e->kind == 'm')
		op->key = e->key;
	else
		op->usage.key = e->key;
}

/* The hold of reservation key rk as the server has it: the reservation
 * run again (it replays if stored, else it is made now). */
static uint64_t hold_of(world *w, const char *rk, long *applied)
{
	entry *r = lookup(rk, 0);
	quota_op op;

	if (!r)
		fail("no reservation %s", rk, NULL);
	op_of(w, &op, r, 0);
	run_ops(w, &op, 1, NULL);
	if (applied && op.receipt.replayed)
		(*applied)++;
	if (r->acked && op.receipt.hold_id != r->hold)
		bad("%s: the server's hold is not the acknowledged one", rk,
		    NULL);
	return op.receipt.hold_id;
}

static int cmd_verify(const char *conninfo, const char *dir, int nproc,
		      int killed)
{
	entry *list = NULL, **tail = &list, *e;
	quota_account *acc[NACC];
	void *snap0[NACC], *snap1[NACC];
	size_t len0[NACC], len1[NACC];
	uint64_t seq0[NACC], seq1[NACC];
	int64_t expect[NACC] = {0}, acked_sum[NACC] = {0};
	long lines = 0, unacked = 0, applied = 0, dangling = 0, replays = 0;
	long keys = 0;
	quota_op ops[100];
	entry *batch[100];
	size_t n = 0;
	long replay_batch = env_long("QUOTA_PG_REPLAY_BATCH", 100);
	world w;

	for (int p = 0; p < nproc; p++)
		load_log(dir, p, &tail, &lines);
	world_open(&w, conninfo);
	for (int k = 0; k < NACC; k++)
		acc[k] = account(&w, acct_id(k), 0);

	/* A killed node's work: its unacknowledged intents run again with
	 * their keys, and a reservation it acknowledged but never got to
	 * commit is committed, as the node would have done after a
	 * restart. */
	for (e = list; e; e = e->next) {
		if (e->acked)
			continue;
		unacked++;
		if (e->p != killed)
			bad("%s: intent of a node that was not killed is not "
			    "acknowledged", e->key, NULL);
		if (e->kind == 'm') {
			uint64_t h = hold_of(&w, e->ref, NULL);

			op_of(&w, &ops[0], e, h);
		} else {
			op_of(&w, &ops[0], e, 0);
		}
		run_ops(&w, ops, 1, NULL);
		applied += ops[0].receipt.replayed;
	}
	for (e = list; e; e = e->next) {
		char mk[32];
		entry *m;

		if (e->kind != 'r')
			continue;
		key_of(mk, sizeof mk, 'm', e->p, e->i + 1);
		if ((m = lookup(mk, 0)))
			continue;
		if (e->p != killed)
			bad("%s: reservation of a node that was not killed "
			    "never committed", e->key, NULL);
		m = lookup(mk, 1);
		m->kind = 'm';
		m->p = e->p;
		m->i = e->i + 1;
		m->acct = e->acct;
		m->units = gen(e->p, e->i + 1).units;
		snprintf(m->ref, sizeof m->ref, "%s", e->key);
		*tail = m;
		tail = &m->next;
		op_of(&w, &ops[0], m, hold_of(&w, e->key, NULL));
		run_ops(&w, ops, 1, NULL);
		dangling++;
	}

	/* What the accounts must hold: every operation once. */
	for (e = list; e; e = e->next) {
		keys++;
		if (e->kind == 'r')
			continue;
		expect[e->acct] += e->units;
		if (e->acked)
			acked_sum[e->acct] += e->units;
	}

	/* Every acknowledged key replays its receipt and changes nothing. */
	snap_all(&w, acc, snap0, len0, seq0);
	for (e = list;; e = e->next) {
		if (e && e->acked) {
			op_of(&w, &ops[n], e, e->hold);
			batch[n++] = e;
		}
		if ((long)n == replay_batch || (!e && n)) {
			run_ops(&w, ops, n, NULL);
			for (size_t k = 0; k < n; k++) {
				const quota_receipt *r = &ops[k].receipt;
				const entry *b = batch[k];
				uint64_t h = b->kind == 'm' ? ops[k].hold_id
							     : r->hold_id;

				if (!r->replayed || r->units != b->r_units ||
				    r->package_units != b->r_pkg ||
				    r->payg_units != b->r_payg ||
				    r->payg_cost_micros != b->r_cost ||
				    h != b->hold)
					bad("%s: replay differs from the "
					    "acknowledged receipt", b->key,
					    NULL);
				replays++;
			}
			n = 0;
		}
		if (!e)
			break;
	}
	snap_all(&w, acc, snap1, len1, seq1);
	for (int k = 0; k < NACC; k++) {
		if (seq0[k] != seq1[k] || len0[k] != len1[k] ||
		    memcmp(snap0[k], snap1[k], len0[k]))
			bad("%s: replays changed the account", acct_id(k),
			    NULL);
		quota_free(w.ctx, snap0[k]);
		quota_free(w.ctx, snap1[k]);
	}

	/* Units: the month's counter, the package, holds; then money. */
	{
		int64_t tot_used = 0, tot_billed = 0;

		for (int k = 0; k < NACC; k++) {
			quota_account *a = acc[k];
			quota_package *pk;
			quota_money m;
			int64_t used = quota_account_used(a, QUOTA_ALL,
							  QUOTA_PERIOD_MONTH,
							  T0);
			int64_t bought = prepaid(k) ? PRE_UNITS : SMALL_UNITS;
			int64_t pused, billed;
			char msg[200];

			if (quota_package_find(a, "p0", &pk))
				die(w.ctx, "quota_package_find", QUOTA_ENOTFOUND);
			pused = bought - quota_package_remaining(pk);
			snprintf(msg, sizeof msg,
				 "used %lld, package used %lld, held %lld, "
				 "expected %lld (acknowledged %lld)",
				 (long long)used, (long long)pused,
				 (long long)quota_account_held(a, QUOTA_ALL),
				 (long long)expect[k],
				 (long long)acked_sum[k]);
			if (used != expect[k] || pused > bought ||
			    (prepaid(k) && pused != expect[k]) ||
			    quota_account_held(a, QUOTA_ALL) != 0 ||
			    (killed < 0 && acked_sum[k] != expect[k]))
				bad("%s: %s", acct_id(k), msg);
			tot_used += used;
			if (quota_settle(a, SETTLE_AT, NULL, NULL) < 0)
				die(w.ctx, "quota_settle", QUOTA_ESTORE);
			quota_account_money(a, &m);
			billed = m.billed_micros;
			tot_billed += billed;
			/* What no package covered was billed, at 1 cent. */
			if (billed != (expect[k] - pused) * UNIT_PRICE ||
			    m.suspended ||
			    m.balance_micros + m.purchased_micros + billed !=
				    m.topped_up_micros ||
			    m.topped_up_micros != (prepaid(k) ? PRE_TOPUP
							      : PAYG_TOPUP))
				bad("%s: money not conserved or bills wrong "
				    "(%s)", acct_id(k), msg);
		}
		printf("verify: %ld log lines, %ld keys; %ld unacknowledged "
		       "intents run again (%ld had been applied), %ld "
		       "reservations committed for the killed node; %ld "
		       "acknowledged keys replayed unchanged; %lld units on "
		       "10 accounts, billed %lld micros\n", lines, keys,
		       unacked, applied, dangling, replays,
		       (long long)tot_used, (long long)tot_billed);
	}
	/* A second, fresh context sees the same after the settlement. */
	world_close(&w);
	world_open(&w, conninfo);
	for (int k = 0; k < NACC; k++) {
		quota_account *a = account(&w, acct_id(k), 0);
		quota_money m;

		quota_account_money(a, &m);
		if (quota_account_used(a, QUOTA_ALL, QUOTA_PERIOD_MONTH, T0) !=
			    expect[k] ||
		    m.balance_micros + m.purchased_micros + m.billed_micros !=
			    m.topped_up_micros)
			bad("%s: a fresh context sees another state",
			    acct_id(k), NULL);
	}
	world_close(&w);
	if (errors)
		return 1;
	printf("verify: ok\n");
	return 0;
}

#endif /* QUOTA_TEST_PG_NODE_VERIFY_H */
