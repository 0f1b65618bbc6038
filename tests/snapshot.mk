# tests/snapshot.mk - account snapshots (DESIGN section 5): the fuzz
# corpus replay and the libFuzzer run of quota_account_load / _reset.
# Included by the top-level Makefile (-include tests/*.mk), like sms.mk.
#
#   make check-snapshot-fuzz  replay tests/fuzz/corpus/snapshot (plain + ASan)
#   make fuzz-snapshot        libFuzzer for FUZZ_SECONDS (default 60)
#   make snapshot-seeds       rewrite the seed corpus from check_snapshot

CHECK_EXTRA += check-snapshot-fuzz fuzz-snapshot

SNAP_LIB_SRCS := $(sort $(wildcard lib/*.c))
SNAP_ASAN     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer

.PHONY: check-snapshot-fuzz fuzz-snapshot snapshot-seeds

$(B)/fuzz/fuzz_snapshot_replay: tests/fuzz/fuzz_snapshot.c tests/fuzz/fuzz_alloc.h tests/fuzz/standalone.c $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) tests/fuzz/fuzz_snapshot.c \
	    tests/fuzz/standalone.c $(B)/libquota.a -o $@

$(B)/fuzz/fuzz_snapshot_replay_asan: tests/fuzz/fuzz_snapshot.c tests/fuzz/fuzz_alloc.h tests/fuzz/standalone.c $(SNAP_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) $(SNAP_ASAN) tests/fuzz/fuzz_snapshot.c \
	    tests/fuzz/standalone.c $(SNAP_LIB_SRCS) -o $@

check-snapshot-fuzz: $(B)/fuzz/fuzz_snapshot_replay $(B)/fuzz/fuzz_snapshot_replay_asan
	./$(B)/fuzz/fuzz_snapshot_replay tests/fuzz/corpus/snapshot
	./$(B)/fuzz/fuzz_snapshot_replay_asan tests/fuzz/corpus/snapshot

# libFuzzer, bounded; new inputs go to $(B)/fuzz/corpus-snapshot.
$(B)/fuzz/fuzz_snapshot: tests/fuzz/fuzz_snapshot.c tests/fuzz/fuzz_alloc.h $(SNAP_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(QCFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all tests/fuzz/fuzz_snapshot.c \
	    $(SNAP_LIB_SRCS) -o $@

fuzz-snapshot: $(B)/fuzz/fuzz_snapshot
	@mkdir -p $(B)/fuzz/corpus-snapshot
	./$(B)/fuzz/fuzz_snapshot -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=16384 -print_final_stats=1 $(B)/fuzz/corpus-snapshot \
	    tests/fuzz/corpus/snapshot

# The seeds: check_snapshot's scenario snapshots, each twice (a first
# byte of 0 keeps the checksum, 1 reseals after mutation).
snapshot-seeds: $(B)/tests/check_snapshot
	@mkdir -p $(B)/seeds tests/fuzz/corpus/snapshot
	SNAPSHOT_SEEDS=$(B)/seeds CK_RUN_CASE=faults CK_FORK=no \
	    ./$(B)/tests/check_snapshot
	for f in $(B)/seeds/*.qsnp; do b=$$(basename $$f .qsnp); \
	  { printf '\000'; cat $$f; } > tests/fuzz/corpus/snapshot/$$b-crc; \
	  { printf '\001'; cat $$f; } > tests/fuzz/corpus/snapshot/$$b-seal; \
	done
