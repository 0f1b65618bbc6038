# tests/sms.mk - SMS segment counting (issue 3): the npm oracle, the fuzz
# corpus replay, the libFuzzer run and the benchmark.  Included by the
# top-level Makefile (-include tests/*.mk).
#
#   make check-sms-oracle     compare with sms-segments-calculator (npm)
#   make check-sms-fuzz       replay tests/fuzz/corpus/sms (plain + ASan)
#   make fuzz-sms             libFuzzer for FUZZ_SECONDS (default 60)
#   make bench-sms            throughput per class, with the npm calculator,
#                             split-sms and main's counter, same run

# tests/install-deps.sh installs these when missing (`make deps`).
export QUOTA_EXTRA_DEPS += cmd:node=nodejs cmd:npm=npm \
	file:/usr/share/unicode/auxiliary/GraphemeBreakTest.txt=unicode-data

CHECK_EXTRA += check-sms-oracle check-sms-fuzz fuzz-sms
BENCH_EXTRA += bench-sms

ORACLE_N     ?= 100000
FUZZ_SECONDS ?= 60
SMS_LIB_SRCS := $(sort $(wildcard lib/*.c))
SMS_ASAN     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	       -fno-omit-frame-pointer

.PHONY: check-sms-oracle check-sms-fuzz fuzz-sms bench-sms

# npm ci from the pinned package-lock.json, once.
tests/oracle/node_modules/.quota-stamp: tests/oracle/package.json tests/oracle/package-lock.json
	cd tests/oracle && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(B)/oracle/oracle_sms: tests/oracle/oracle_sms.c $(B)/libquota.a lib/sms_int.h
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $< $(B)/libquota.a -o $@

# Corpus -> node (two workers) -> compare; fails on any unexplained
# disagreement and prints the agreement figure.
check-sms-oracle: $(B)/oracle/oracle_sms tests/oracle/node_modules/.quota-stamp
	./$(B)/oracle/oracle_sms gen $(ORACLE_N) $(B)/oracle/corpus.hex
	cd $(B)/oracle && rm -f part.* out.* && split -n l/2 -d corpus.hex part. && \
	  { node $(CURDIR)/tests/oracle/oracle.js part.00 out.00 & \
	    node $(CURDIR)/tests/oracle/oracle.js part.01 out.01 & \
	    wait %1 && wait %2; } && cat out.00 out.01 > out.txt
	./$(B)/oracle/oracle_sms compare $(B)/oracle/corpus.hex $(B)/oracle/out.txt

# The fuzz target without libFuzzer, replaying the committed corpus:
# with the library as built, and with clang's ASan+UBSan.
$(B)/fuzz/fuzz_sms_replay: tests/fuzz/fuzz_sms.c tests/fuzz/standalone.c $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) tests/fuzz/fuzz_sms.c tests/fuzz/standalone.c \
	    $(B)/libquota.a -o $@

$(B)/fuzz/fuzz_sms_replay_asan: tests/fuzz/fuzz_sms.c tests/fuzz/standalone.c $(SMS_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) $(SMS_ASAN) tests/fuzz/fuzz_sms.c tests/fuzz/standalone.c \
	    $(SMS_LIB_SRCS) -o $@

check-sms-fuzz: $(B)/fuzz/fuzz_sms_replay $(B)/fuzz/fuzz_sms_replay_asan
	./$(B)/fuzz/fuzz_sms_replay tests/fuzz/corpus/sms
	./$(B)/fuzz/fuzz_sms_replay_asan tests/fuzz/corpus/sms

# libFuzzer, bounded; new inputs go to $(B)/fuzz/corpus, seeds stay put.
$(B)/fuzz/fuzz_sms: tests/fuzz/fuzz_sms.c $(SMS_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all tests/fuzz/fuzz_sms.c $(SMS_LIB_SRCS) -o $@

fuzz-sms: $(B)/fuzz/fuzz_sms
	@mkdir -p $(B)/fuzz/corpus
	./$(B)/fuzz/fuzz_sms -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -print_final_stats=1 $(B)/fuzz/corpus tests/fuzz/corpus/sms

# The benchmark links the counter of main before issue 16 as its
# baseline (tests/bench_sms_main.c); built like the library (no -march).
$(B)/bench_sms/bench_sms: tests/bench_sms.c tests/bench_sms_main.c $(B)/libquota.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) -Ilib tests/bench_sms.c tests/bench_sms_main.c \
	    $(B)/libquota.a -o $@

bench-sms: $(B)/bench_sms/bench_sms tests/oracle/node_modules/.quota-stamp
	./$(B)/bench_sms/bench_sms $(B)/bench_sms
