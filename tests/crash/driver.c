/*
 * driver.c - the crash test (`make check-crash`, DESIGN §9): start
 * tests/crash/charger.c on a SQLite file, SIGKILL it at random points,
 * start it again (it checks what it recovered against what it had
 * acknowledged, retries the operation in flight, then goes on), many
 * times; then one last start that only checks.
 *
 *   driver CHARGER WORKDIR
 *
 * QUOTA_CRASH_KILLS (default 500) kills; QUOTA_CRASH_SEED (default 1)
 * seeds the operations the charger runs and every choice here.  Kills
 * come two ways, turn about at random:
 *   - from outside, SIGKILL after a random delay: mostly 0-25 ms after the
 *     charger says its checks are done (inside SQLite's commit and fsync,
 *     a checkpoint, the ack write...), sometimes 0-40 ms after it started
 *     (during recovery).  Where these land depends on the machine's speed:
 *     the seed reproduces the delays, not the instants.
 *   - from inside, at a seeded op and point (the charger's OFF AT): right
 *     after SQLite stored the op's record, after a batch's COMMIT, after
 *     the call returned but before its ack, after the ack.  These are
 *     reproducible exactly.
 * WORKDIR is made with mkdtemp under the directory given (e.g. build/) and
 * removed at the end, also when the test fails or is interrupted
 * (QUOTA_CRASH_KEEP=1 keeps it).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[1024], db[1100], ackf[1100], lives_path[1100];
static volatile pid_t child;

static uint64_t rng;
static uint64_t rnd(void)
{
	uint64_t x = (rng += 0x9E3779B97F4A7C15u);

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec t = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void cleanup(void)
{
	const char *keep = getenv("QUOTA_CRASH_KEEP");
	const char *names[] = {"", "-wal", "-shm", "-journal"};
	char p[1200];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (!dir[0] || (keep && !strcmp(keep, "1")))
		return;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s%s", db, names[i]);
		unlink(p);
	}
	unlink(ackf);
	unlink(lives_path);
	rmdir(dir);
	dir[0] = 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Start the charger with argv; ready_fd >= 0: the pipe it reports on. */
static pid_t spawn(char *const argv[], int ready_w, int ready_r)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		char fd[16];

		if (ready_r >= 0)
			close(ready_r);
		if (ready_w >= 0) {
			snprintf(fd, sizeof fd, "%d", ready_w);
			setenv("QUOTA_CRASH_READY_FD", fd, 1);
		}
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	return pid;
}

/* Its status; after timeout_s (0: none) it is killed and reported. */
static int wait_child_for(pid_t pid, double timeout_s)
{
	double end = now_s() + timeout_s;
	pid_t got;
	int st;

	for (;;) {
		got = waitpid(pid, &st, timeout_s > 0 ? WNOHANG : 0);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
		if (got == 0 && now_s() > end) {
			fprintf(stderr, "crash test: the charger did not stop "
				"within %.0f s\n", timeout_s);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = 0; /* "stopped on its own": a failure */
			break;
		}
		if (got == 0)
			sleep_us(500);
	}
	child = 0;
	return st;
}

static int wait_child(pid_t pid)
{
	return wait_child_for(pid, 0);
}

/* Lives' figures from the charger's log.  0 when a long run never saw
 * both cases it exists for: an op in flight that was stored, and one
 * that was not (a bug calling every op one or the other would pass). */
static int summary(int kills, int outside, int inside, double secs)
{
	FILE *f = fopen(lives_path, "r");
	char line[512];
	long lives = 0, stored = 0, absent = 0, ops = 0, charges = 0;
	double open_max = 0, open_sum = 0, check_max = 0;

	while (f && fgets(line, sizeof line, f)) {
		double om, cm;
		long ao, ac;
		char what[16];

		if (sscanf(line, "life open_ms %lf check_ms %lf acked_ops %ld "
			   "acked_charges %ld inflight %15s", &om, &cm, &ao,
			   &ac, what) != 5)
			continue;
		lives++;
		open_sum += om;
		open_max = om > open_max ? om : open_max;
		check_max = cm > check_max ? cm : check_max;
		stored += !strcmp(what, "stored");
		absent += !strcmp(what, "absent");
		ops = ao;
		charges = ac;
	}
	if (f)
		fclose(f);
	printf("crash test: %d kills (%d from outside, %d at seeded points), "
	       "%ld starts checked, %.1f s\n", kills, outside, inside, lives,
	       secs);
	printf("crash test: %ld operations, %ld charges acknowledged; the op "
	       "in flight was\n  stored (replayed on retry) %ld times, absent "
	       "(charged on retry) %ld times\n", ops, charges, stored, absent);
	printf("crash test: recovery (quota_sqlite_open) mean %.1f ms, max "
	       "%.1f ms; checks max %.1f ms\n", lives ? open_sum / lives : 0,
	       open_max, check_max);
	if (kills >= 100 && (!stored || !absent || ops < kills / 2)) {
		fprintf(stderr, "crash test: %d kills saw the op in flight "
			"stored %ld and absent %ld times over %ld operations: "
			"both cases must occur\n", kills, stored, absent, ops);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *e;
	int kills = 500, outside = 0, inside = 0, done = 0;
	unsigned long long seed = 1;
	char seedstr[32], offs[16], ats[16];
	double t0 = now_s();

	if (argc != 3) {
		fprintf(stderr, "usage: driver CHARGER WORKDIR-PARENT\n");
		return 2;
	}
	if ((e = getenv("QUOTA_CRASH_KILLS")))
		kills = atoi(e);
	if ((e = getenv("QUOTA_CRASH_SEED")))
		seed = strtoull(e, NULL, 10);
	rng = seed * 0x2545F4914F6CDD1Du + 7;
	snprintf(seedstr, sizeof seedstr, "%llu", seed);
	snprintf(dir, sizeof dir, "%s/crash.XXXXXX", argv[2]);
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	snprintf(db, sizeof db, "%s/quota.db", dir);
	snprintf(ackf, sizeof ackf, "%s/acked", dir);
	snprintf(lives_path, sizeof lives_path, "%s/lives", dir);
	printf("crash test: seed %llu, %d kills, in %s\n", seed, kills, dir);
	fflush(stdout);

	{
		char *av[] = {argv[1], "init", db, NULL};
		int st = wait_child(child = spawn(av, -1, -1));

		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "crash test: charger init failed\n");
			return 1;
		}
	}
	for (int k = 0; k < kills; k++) {
		uint64_t r = rnd();
		int st, fds[2];

		if (r % 100 < 40) { /* from inside, at a seeded point */
			char *av[] = {argv[1], "run", db, ackf, lives_path, seedstr,
				      offs, ats, NULL};

			snprintf(offs, sizeof offs, "%d", (int)((r >> 8) % 6));
			snprintf(ats, sizeof ats, "%d", 1 + (int)((r >> 16) % 4));
			st = wait_child_for(child = spawn(av, -1, -1), 60);
			inside++;
		} else { /* from outside, after a delay */
			char *av[] = {argv[1], "run", db, ackf, lives_path, seedstr,
				      NULL};
			struct pollfd p;

			if (pipe(fds)) {
				perror("pipe");
				return 1;
			}
			child = spawn(av, fds[1], fds[0]);
			close(fds[1]);
			if ((r >> 8) % 100 < 15) {
				sleep_us((long)((r >> 16) % 40000));
			} else {
				char c;

				p.fd = fds[0];
				p.events = POLLIN;
				if (poll(&p, 1, 30000) != 1 ||
				    read(fds[0], &c, 1) != 1) {
					/* it exited (a failed check) or hung */
					kill(child, SIGKILL);
					st = wait_child(child);
					close(fds[0]);
					if (WIFSIGNALED(st))
						fprintf(stderr, "crash test: "
							"the charger hung\n");
					goto failed;
				}
				sleep_us((long)((r >> 16) % 25000));
			}
			kill(child, SIGKILL);
			st = wait_child(child);
			close(fds[0]);
			outside++;
		}
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			fprintf(stderr, "crash test: the charger stopped on its "
				"own (start %d)\n", k + 1);
			goto failed;
		}
		done++;
	}
	{
		char *av[] = {argv[1], "verify", db, ackf, lives_path, seedstr, NULL};
		int st = wait_child(child = spawn(av, -1, -1));

		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "crash test: the final check failed\n");
			goto failed;
		}
	}
	if (!summary(kills, outside, inside, now_s() - t0))
		goto failed_quiet;
	printf("crash test: passed\n");
	return 0;
failed:
	summary(done, outside, inside, now_s() - t0);
failed_quiet:
	fprintf(stderr, "crash test: FAILED (seed %llu; rerun with "
		"QUOTA_CRASH_SEED=%llu QUOTA_CRASH_KEEP=1)\n", seed, seed);
	return 1;
}
