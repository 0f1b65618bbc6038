# tests/scale.mk - a million accounts in one context and what accounts,
# packages and idempotency keys cost in memory (issue 13;
# tests/bench_scale.c).  Included by the top-level Makefile
# (-include tests/*.mk).
#
#   make bench-scale          (part of `make bench`); QUOTA_SCALE_ACCOUNTS
#                             accounts, default 1,000,000: about
#                             2.1 GB resident at its peak, 20-35 s here;
#                             QUOTA_SCALE_CREATE_ONLY=1 stops after the
#                             creation figures

BENCH_EXTRA += bench-scale

.PHONY: bench-scale

$(B)/bench_scale/bench_scale: tests/bench_scale.c $(B)/libquota.a include/quota.h
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) -O2 -g $< $(B)/libquota.a -o $@

bench-scale: $(B)/bench_scale/bench_scale
	./$(B)/bench_scale/bench_scale
