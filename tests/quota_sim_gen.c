/*
 * quota_sim_gen.c - a usage trace for `make bench-quota-sim`: N lines of
 * time,account,category,units over a year from 2024-01-01, in time order,
 * 1,000 accounts, three categories, 1 to 5 units a row; the same N gives
 * the same bytes (a fixed xorshift generator).
 *
 *   quota_sim_gen N > trace.csv
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	static const char *const cats[] = {"sms.verify", "sms.notify",
					   "email"};
	static char buf[1 << 16];
	long long n, i;
	const long long t0 = 1704067200, year = 366LL * 86400;

	if (argc != 2 || (n = atoll(argv[1])) <= 0) {
		fputs("usage: quota_sim_gen LINES\n", stderr);
		return 2;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	fputs("time,account,category,units\n", stdout);
	for (i = 0; i < n; i++) {
		uint64_t r = next();

		printf("%lld,acct-%04u,%s,%u\n", t0 + i * year / n,
		       (unsigned)(r % 1000), cats[(r >> 10) % 3],
		       (unsigned)((r >> 20) % 5 + 1));
	}
	return fflush(stdout) ? 1 : 0;
}
