/*
 * node_bench.h - `node bench`, `make bench-pg` (issue 12, DESIGN §6):
 * 1, 2 or 4 forked processes charging 1 unit through quota_pg_run, one
 * operation a call or batches of 100, on one shared account or one
 * each, then 4 on leases of one hot account; the charges per second,
 * the server's settings and the targets.
 * Included by node.c, one translation unit: everything node.c defines
 * above the include (the world, config, run_ops(), lease_retry(), the
 * clock and error helpers) is used here.
 */
#ifndef QUOTA_TEST_PG_NODE_BENCH_H
#define QUOTA_TEST_PG_NODE_BENCH_H

/* ------------------------------------------------------------ bench */

#define BUNITS INT64_C(1000000000)

static void bench_account(world *w, const char *id)
{
	quota_package_spec ps = {0};
	quota_account *a = account(w, id, 1);
	quota_package *pk;
	int rc;

	ps.id = "p0";
	ps.categories = QUOTA_MASK(w->cat);
	ps.units = BUNITS;
	ps.effective_at = BUY_AT;
	ps.expires_at = QUOTA_NEVER;
	if ((rc = quota_account_set_overage(a, w->cat, QUOTA_OVERAGE_STOP)) ||
	    (rc = quota_package_add(a, &ps, &pk)))
		die(w->ctx, id, rc);
}

typedef struct bres {
	long long n;
	double secs;
	long retries;
} bres;

/* One child: charges of 1 unit (no keys) until the deadline, batch per
 * quota_pg_run, or on leases when batch is 0. */
static bres bench_child(const char *conninfo, const char *id, int batch,
			double secs, int go_fd)
{
	quota_op ops[100];
	bres r = {0, 0, 0};
	quota_account *a;
	counts c = {0, 0};
	double t0, end;
	char ch;
	world w;

	world_open(&w, conninfo);
	a = account(&w, id, 0);
	if (read(go_fd, &ch, 1) != 1)
		_exit(1);
	t0 = now_s();
	end = t0 + secs;
	if (batch == 0) {
		quota_pg_lease *l;
		int64_t pend;
		int rc;

		while ((rc = quota_pg_lease_take(w.pg, a, w.cat, 10000, T0,
						 3600, &l)))
			if (!retryable(rc))
				die(w.ctx, "quota_pg_lease_take", rc);
		for (;;) {
			while (quota_pg_lease_charge(l, 1) == QUOTA_OK)
				;
			pend = quota_pg_lease_pending(l);
			if (now_s() >= end)
				break;
			rc = lease_retry(quota_pg_lease_flush, l, &r.retries);
			if (rc)
				die(w.ctx, "quota_pg_lease_flush", rc);
			r.n += pend;
		}
		rc = lease_retry(quota_pg_lease_end, l, &r.retries);
		if (rc)
			die(w.ctx, "quota_pg_lease_end", rc);
		r.n += pend;
		r.secs = now_s() - t0;
	} else {
		while (now_s() < end) {
			for (int k = 0; k < batch; k++) {
				quota_op o = {0};

				o.kind = QUOTA_OP_CHARGE;
				o.account = a;
				o.usage.category = w.cat;
				o.usage.units = 1;
				o.usage.at = T0;
				ops[k] = o;
			}
			run_ops(&w, ops, (size_t)batch, &c);
			r.n += batch;
		}
		r.secs = now_s() - t0;
		r.retries = c.op_retries;
	}
	world_close(&w);
	return r;
}

/* nproc children on one shared account or one account each; the
 * aggregate rate in charges per second. */
static double bench_run(const char *conninfo, world *w, int nproc, int shared,
			int batch, double secs, long *retries)
{
	static int serial;
	int go[2], res[2];
	pid_t pids[MAXPROC];
	char ids[MAXPROC][32];
	long long total = 0;
	double maxs = 0;

	serial++;
	for (int p = 0; p < nproc; p++) {
		snprintf(ids[p], sizeof ids[p], "b%d.%d", serial,
			 shared ? 0 : p);
		if (!shared || p == 0)
			bench_account(w, ids[p]);
	}
	if (pipe(go) || pipe(res))
		fail("pipe", NULL, NULL);
	fflush(stdout);
	for (int p = 0; p < nproc; p++) {
		if ((pids[p] = fork()) < 0)
			fail("fork", NULL, NULL);
		if (pids[p] == 0) {
			bres r;

			close(go[1]);
			close(res[0]);
			r = bench_child(conninfo, ids[p], batch, secs, go[0]);
			if (write(res[1], &r, sizeof r) != (ssize_t)sizeof r)
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	sleep_ms(300); /* the children connect and load their accounts */
	for (int p = 0; p < nproc; p++)
		if (write(go[1], "g", 1) != 1)
			fail("write", NULL, NULL);
	*retries = 0;
	for (int p = 0; p < nproc; p++) {
		bres r;

		if (read(res[0], &r, sizeof r) != (ssize_t)sizeof r)
			fail("a bench process failed", NULL, NULL);
		total += r.n;
		*retries += r.retries;
		if (r.secs > maxs)
			maxs = r.secs;
	}
	for (int p = 0; p < nproc; p++) {
		int st;

		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail("a bench process failed", NULL, NULL);
	}
	close(go[1]);
	close(res[0]);
	return maxs > 0 ? (double)total / maxs : 0;
}

static const char *server_setting(const char *conninfo, const char *name)
{
	static char out[4][64];
	static int k;
	char sql[100];
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	k = (k + 1) % 4;
	snprintf(out[k], sizeof out[k], "?");
	snprintf(sql, sizeof sql, "SHOW %s", name);
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			snprintf(out[k], sizeof out[k], "%s",
				 PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	PQfinish(c);
	return out[k];
}

static int cmd_bench(const char *conninfo)
{
	static const int procs[3] = {1, 2, 4};
	double secs = (double)env_long("QUOTA_PG_BENCH_MS", 2000) / 1000.0;
	double rate[3][2][2], lease;
	long retr[3][2][2], lretries;
	double t0 = now_s();
	world w;

	world_open(&w, conninfo);
	config(&w);
	for (int i = 0; i < 3; i++)
		for (int s = 0; s < 2; s++)
			for (int b = 0; b < 2; b++)
				rate[i][s][b] = bench_run(conninfo, &w,
							  procs[i], s,
							  b ? 100 : 1, secs,
							  &retr[i][s][b]);
	lease = bench_run(conninfo, &w, 4, 1, 0, secs, &lretries);
	world_close(&w);

	printf("\nPostgreSQL store (libquota-pg %s, server %s), several "
	       "processes (DESIGN §6);\nserver fsync=%s, synchronous_commit=%s "
	       "(durable: every acknowledged charge is on disk);\n1-unit "
	       "charges from one package, no keys, through quota_pg_run; "
	       "%.1f s per run\n\n", quota_version(),
	       server_setting(conninfo, "server_version"),
	       server_setting(conninfo, "fsync"),
	       server_setting(conninfo, "synchronous_commit"), secs);
	printf("| charges/s (conflicts retried) | distinct accounts, one per "
	       "call | distinct, batches of 100 | one shared account, one "
	       "per call | shared, batches of 100 |\n"
	       "|---|---:|---:|---:|---:|\n");
	for (int i = 0; i < 3; i++)
		printf("| %d process%s | %.0f (%ld) | %.0f (%ld) | %.0f (%ld) "
		       "| %.0f (%ld) |\n", procs[i], procs[i] > 1 ? "es" : "",
		       rate[i][0][0], retr[i][0][0], rate[i][0][1],
		       retr[i][0][1], rate[i][1][0], retr[i][1][0],
		       rate[i][1][1], retr[i][1][1]);
	printf("\nleases of 10,000 units on one hot account, 4 processes, "
	       "1-unit charges counted in memory, acknowledged by flushes: "
	       "%.0f charges/s (%ld store failures retried)\n", lease,
	       lretries);
	printf("target: one shared account, batches of 100, 4 processes >= "
	       "20,000 charges/s: %.0f, %s\n", rate[2][1][1],
	       rate[2][1][1] >= 20000 ? "met" : "NOT met");
	printf("target: leases on one hot account, 4 processes >= 500,000 "
	       "charges/s: %.0f, %s\n", lease,
	       lease >= 500000 ? "met" : "NOT met");
	printf("bench_pg: %.0f s\n", now_s() - t0);
	return 0;
}

#endif /* QUOTA_TEST_PG_NODE_BENCH_H */
