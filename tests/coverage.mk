# tests/coverage.mk - line coverage of lib/*.c by the unit tests, with
# plain gcov (no gcovr or lcov needed).  Not part of `make check`.
# Included by the top-level Makefile (-include tests/*.mk).
#
#   make coverage     build the core with --coverage -O0 into build/cov,
#                     run every test in TESTS there (plain and journaled,
#                     as check-unit does), print lines run per file of
#                     lib/ and the total

.PHONY: coverage coverage-report

COV_B = build/cov

coverage:
	rm -f $(COV_B)/lib/*.gcda $(COV_B)/tests/*.gcda
	$(MAKE) B=$(COV_B) CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" \
	    $(COV_B)/libquota.a
	$(MAKE) B=$(COV_B) CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" \
	    check-unit-only
	$(MAKE) --no-print-directory B=$(COV_B) coverage-report

# gcov -n writes no files; each "File 'lib/x.c'" is followed by its
# "Lines executed:P% of N".  Lowest first, then the total.
coverage-report:
	@gcov -n -o $(COV_B)/lib $(LIB_SRCS) 2>/dev/null | awk ' \
	  /^File / { f = $$2; gsub(/\047/, "", f); next } \
	  /^Lines executed:/ && f ~ /^lib\/[^\/]*\.c$$/ { \
	    split($$2, a, /[:%]/); n = $$4; run = int(a[2] * n / 100 + 0.5); \
	    printf "%6.1f%% %6d of %6d  %s\n", a[2], run, n, f | "sort -n"; \
	    R += run; N += n; f = "" } \
	  END { close("sort -n"); if (!N) exit 1; \
	    printf("%6.1f%% %6d of %6d  total, lib/*.c (target >= 95%%: %s)\n", \
	      100 * R / N, R, N, (100 * R / N >= 95) ? "met" : "NOT met") }'
