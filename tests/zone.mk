# tests/zone.mk - time zones (R26): the TZif decoder's fuzz corpus replay
# and its libFuzzer run.  Included by the top-level Makefile (-include
# tests/*.mk), like journal.mk.
#
#   make check-tzif-fuzz   replay tests/fuzz/corpus/tzif (plain + ASan)
#   make fuzz-tzif         libFuzzer for FUZZ_SECONDS (default 60; set it
#                          higher for a long run, e.g. FUZZ_SECONDS=3600)
#   make tzif-seeds        rewrite the seed corpus from /usr/share/zoneinfo

CHECK_EXTRA += check-tzif-fuzz fuzz-tzif

FUZZ_SECONDS  ?= 60
TZ_LIB_SRCS   := $(sort $(wildcard lib/*.c))
TZ_ASAN        = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		 -fno-omit-frame-pointer

.PHONY: check-tzif-fuzz fuzz-tzif tzif-seeds

$(B)/fuzz/fuzz_tzif_replay: tests/fuzz/fuzz_tzif.c tests/fuzz/fuzz_alloc.h tests/fuzz/standalone.c $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) tests/fuzz/fuzz_tzif.c \
	    tests/fuzz/standalone.c $(B)/libquota.a -o $@

$(B)/fuzz/fuzz_tzif_replay_asan: tests/fuzz/fuzz_tzif.c tests/fuzz/fuzz_alloc.h tests/fuzz/standalone.c $(TZ_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) $(TZ_ASAN) tests/fuzz/fuzz_tzif.c \
	    tests/fuzz/standalone.c $(TZ_LIB_SRCS) -o $@

check-tzif-fuzz: $(B)/fuzz/fuzz_tzif_replay $(B)/fuzz/fuzz_tzif_replay_asan
	./$(B)/fuzz/fuzz_tzif_replay tests/fuzz/corpus/tzif
	./$(B)/fuzz/fuzz_tzif_replay_asan tests/fuzz/corpus/tzif

# libFuzzer, bounded; new inputs go to $(B)/fuzz/corpus-tzif.
$(B)/fuzz/fuzz_tzif: tests/fuzz/fuzz_tzif.c tests/fuzz/fuzz_alloc.h $(TZ_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all tests/fuzz/fuzz_tzif.c \
	    $(TZ_LIB_SRCS) -o $@

fuzz-tzif: $(B)/fuzz/fuzz_tzif
	@mkdir -p $(B)/fuzz/corpus-tzif
	./$(B)/fuzz/fuzz_tzif -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=8192 -print_final_stats=1 $(B)/fuzz/corpus-tzif \
	    tests/fuzz/corpus/tzif

tzif-seeds:
	sh tests/fuzz/tzif_seeds.sh tests/fuzz/corpus/tzif
