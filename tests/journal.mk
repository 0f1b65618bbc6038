# tests/journal.mk - journal records (DESIGN section 5): the fuzz corpus
# replay and the libFuzzer run of quota_journal_apply / quota_journal_size.
# Included by the top-level Makefile (-include tests/*.mk), like
# snapshot.mk.
#
#   make check-journal-fuzz   replay tests/fuzz/corpus/journal (plain + ASan)
#                             and tests/fuzz/regress/journal (inputs the
#                             fuzzer found, and v10-*: the seed corpus as
#                             format 1.0 wrote it, so that the decoder of
#                             1.0 records stays fuzzed; kept by hand:
#                             journal-seeds rewrites the corpus only)
#   make fuzz-journal         libFuzzer for FUZZ_SECONDS (default 60)
#   make journal-seeds        rewrite the seed corpus (tests/fuzz/journal_seeds.c)

CHECK_EXTRA += check-journal-fuzz fuzz-journal

JRN_LIB_SRCS := $(sort $(wildcard lib/*.c))
JRN_DEPS     := tests/fuzz/fuzz_journal.c tests/fuzz/fuzz_alloc.h tests/support/journal_world.h
JRN_CFLAGS    = $(QCFLAGS) -Itests/support
JRN_ASAN      = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer

.PHONY: check-journal-fuzz fuzz-journal journal-seeds

$(B)/fuzz/fuzz_journal_replay: $(JRN_DEPS) tests/fuzz/standalone.c $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(JRN_CFLAGS) $(CFLAGS) tests/fuzz/fuzz_journal.c \
	    tests/fuzz/standalone.c $(B)/libquota.a -o $@

$(B)/fuzz/fuzz_journal_replay_asan: $(JRN_DEPS) tests/fuzz/standalone.c $(JRN_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(JRN_CFLAGS) $(JRN_ASAN) tests/fuzz/fuzz_journal.c \
	    tests/fuzz/standalone.c $(JRN_LIB_SRCS) -o $@

check-journal-fuzz: $(B)/fuzz/fuzz_journal_replay $(B)/fuzz/fuzz_journal_replay_asan
	./$(B)/fuzz/fuzz_journal_replay tests/fuzz/corpus/journal tests/fuzz/regress/journal
	./$(B)/fuzz/fuzz_journal_replay_asan tests/fuzz/corpus/journal tests/fuzz/regress/journal

# libFuzzer, bounded; new inputs go to $(B)/fuzz/corpus-journal.
$(B)/fuzz/fuzz_journal: $(JRN_DEPS) $(JRN_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(JRN_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all tests/fuzz/fuzz_journal.c \
	    $(JRN_LIB_SRCS) -o $@

fuzz-journal: $(B)/fuzz/fuzz_journal
	@mkdir -p $(B)/fuzz/corpus-journal
	./$(B)/fuzz/fuzz_journal -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=16384 -print_final_stats=1 $(B)/fuzz/corpus-journal \
	    tests/fuzz/corpus/journal tests/fuzz/regress/journal

# The seeds: real records continuing the fixed world, each file twice (a
# first byte of 0 keeps the checksums, 1 reseals after mutation).
$(B)/fuzz/journal_seeds: tests/fuzz/journal_seeds.c tests/support/journal_world.h $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(JRN_CFLAGS) $(CFLAGS) tests/fuzz/journal_seeds.c \
	    $(B)/libquota.a -o $@

journal-seeds: $(B)/fuzz/journal_seeds
	rm -rf tests/fuzz/corpus/journal
	@mkdir -p tests/fuzz/corpus/journal
	./$(B)/fuzz/journal_seeds tests/fuzz/corpus/journal
