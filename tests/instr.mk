# tests/instr.mk - instructions of SMS counting, of a plain charge and of
# a reserve + commit pair (with no store and a no-op one), of a late report
# and a keyed charge (against the plain charge, and with a no-op store),
# counted by valgrind (tests/bench-instr.sh; tests/bench.c's
# QUOTA_BENCH_INSTR and tests/bench_sms.c's QUOTA_BENCH_SMS_COUNT).
# Included by the top-level Makefile (-include tests/*.mk).
#
#   make bench-instr          (part of `make bench`): about half a minute here;
#                             needs valgrind (tests/install-deps.sh)

BENCH_EXTRA += bench-instr

.PHONY: bench-instr

bench-instr: $(B)/bench_sms/bench_sms $(B)/tests/bench
	sh tests/bench-instr.sh ./$(B)/bench_sms/bench_sms ./$(B)/tests/bench
