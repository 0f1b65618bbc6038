# tests/threads.mk - many threads, one context each (README "Threads"):
# the test's link flags, the benchmark and the ThreadSanitizer run.
# Included by the top-level Makefile (-include tests/*.mk).
#
#   make bench-threads   1, 2 and 4 threads on partitioned accounts
#                        (part of `make bench`)
#   make check-tsan      the threads test under ThreadSanitizer (clang;
#                        part of `make check`, about 20 s)

BENCH_EXTRA += bench-threads
CHECK_EXTRA += check-tsan

.PHONY: bench-threads

# tests/check_threads.c is built by the generic rule for tests/check_*.c.
$(B)/tests/check_threads: CHECK_LIBS += -pthread

$(B)/tests/bench_threads: tests/bench_threads.c $(B)/libquota.a include/quota.h
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) -O2 -g -pthread $< $(B)/libquota.a -o $@

bench-threads: $(B)/tests/bench_threads
	./$(B)/tests/bench_threads

# ThreadSanitizer (clang) on the threads test, plain and journaled: the
# workers must touch nothing another context's worker touches.
TSAN_FLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer

.PHONY: check-tsan
check-tsan:
	$(MAKE) B=build/tsan CC=clang WERROR=1 CFLAGS="$(TSAN_FLAGS)" \
	    LDFLAGS="-fsanitize=thread" build/tsan/tests/check_threads
	CK_FORK=no TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	    ./build/tsan/tests/check_threads
	CK_FORK=no QUOTA_TEST_JOURNAL=1 TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	    ./build/tsan/tests/check_threads
