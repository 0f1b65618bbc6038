# libquota - plain GNU make.
#
#   make            libquota.a, libquota.so.X.Y.Z, libquota.pc
#   make demo       build and run the gateway demo (examples/): the next day
#   make demo-reset the next `make demo` starts over at day 1
#   make check      install test dependencies if missing, run every test
#   make bench      benchmarks (figures, not tests)
#   make install    PREFIX, DESTDIR, LIBDIR, INCLUDEDIR, MANDIR, PKGCONFIGDIR
#   make install-man  the manual only (PREFIX, DESTDIR, MANDIR)

PREFIX       ?= /usr/local
EXEC_PREFIX  ?= $(PREFIX)
LIBDIR       ?= $(EXEC_PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC      ?= cc
AR      ?= ar
CFLAGS  ?= -O2 -g
# Required flags live apart from the user's CFLAGS.
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
QCFLAGS  = -std=c11 $(WARN) -Iinclude -Ilib -DQUOTA_BUILDING
LIBCFLAGS = $(QCFLAGS) -fPIC -fvisibility=hidden
ifeq ($(WERROR),1)
QCFLAGS += -Werror
endif

# Version from the header only; the SONAME major is the ABI number.
VMAJOR := $(shell sed -n 's/^\#define QUOTA_VERSION_MAJOR \([0-9]*\).*/\1/p' include/quota.h)
VMINOR := $(shell sed -n 's/^\#define QUOTA_VERSION_MINOR \([0-9]*\).*/\1/p' include/quota.h)
VPATCH := $(shell sed -n 's/^\#define QUOTA_VERSION_PATCH \([0-9]*\).*/\1/p' include/quota.h)
VERSION := $(VMAJOR).$(VMINOR).$(VPATCH)
ABI      = 0
SONAME   = libquota.so.$(ABI)
SHLIB    = libquota.so.$(ABI).$(VMINOR).$(VPATCH)

B        = build
LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:lib/%.c=$(B)/lib/%.o)
HDRS     := include/quota.h include/quota_store.h $(wildcard lib/*.h)

.PHONY: all lib demo demo-run demo-reset check check-unit check-unit-only check-asan check-valgrind \
	check-valgrind-1 check-valgrind-2 \
	check-exports check-man check-headers check-examples check-install check-ffi \
	bench deps install install-man uninstall uninstall-man clean libquota.pc \
	check-man-install
.DEFAULT_GOAL := all

all: lib libquota.pc
lib: $(B)/libquota.a $(B)/$(SHLIB)

# The compiler and flags the objects under $(B) were built with, in
# $(B)/cflags: rewritten only when they change, so that `make CFLAGS=...`
# (or another CC) rebuilds the libraries, and what links them, instead
# of mixing objects of two builds.  -Werror is left out: it changes no
# object, and make check adds it.
BUILD_FLAGS = $(CC) $(filter-out -Werror,$(LIBCFLAGS) $(CFLAGS) $(LDFLAGS))
$(B)/cflags: FORCE
	@mkdir -p $(B)
	@printf '%s\n' '$(subst ','\'',$(BUILD_FLAGS))' | cmp -s - $@ || \
	  printf '%s\n' '$(subst ','\'',$(BUILD_FLAGS))' > $@
.PHONY: FORCE
FORCE:

$(B)/lib/%.o: lib/%.c $(HDRS) $(B)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libquota.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/$(SHLIB): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^
	ln -sf $(SHLIB) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/libquota.so

# A .pc.in made a .pc for this make's PREFIX (and the directories under
# it): `$(PC_SUBST) IN > OUT`.  Every .pc file, the core's and the
# adapters', the build's and the installed ones, is written by it.
PC_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@EXEC_PREFIX@|$(EXEC_PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

# Phony so that `make PREFIX=...` writes the prefix given.  make install
# writes the installed .pc itself and leaves the build's as it was.
libquota.pc: libquota.pc.in
	@mkdir -p $(B)
	$(PC_SUBST) $< > $(B)/libquota.pc

# ------------------------------------------------------------------ demo

EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))

$(B)/examples/%: examples/%.c $(B)/libquota.a include/quota.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) $(CFLAGS) -Iinclude $< $(B)/libquota.a -o $@

# The examples that keep their state in SQLite link libquota-sqlite
# (tests/sqlite.mk).
SQL_EXAMPLES := $(B)/examples/gateway_demo $(B)/examples/sms_gateway
$(SQL_EXAMPLES): $(B)/examples/%: examples/%.c $(B)/libquota-sqlite.a \
		$(B)/libquota.a include/quota.h include/quota_sqlite.h | sqlite-have
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) $(CFLAGS) -Iinclude $(SQL_CFLAGS) $< \
	    $(B)/libquota-sqlite.a $(B)/libquota.a $(SQL_LIBS) -o $@

# The demo keeps its state in $(B)/demo.db: each run meters the next day.
# SQLite's development files and pkg-config are installed first when
# missing (tests/install-deps.sh demo); make runs again to see them.
DEMO_DB = $(B)/demo.db
demo:
	@sh tests/install-deps.sh demo
	@$(MAKE) --no-print-directory demo-run

demo-run: $(B)/examples/gateway_demo
	./$(B)/examples/gateway_demo $(DEMO_DB)

# The next `make demo` starts over at day 1.
demo-reset:
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm

# ----------------------------------------------------------------- tests

# Check and pkg-config are installed by tests/install-deps.sh when missing.
deps:
	@sh tests/install-deps.sh

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
TEST_SRCS   := $(sort $(wildcard tests/check_*.c))
TEST_SUPPORT := $(wildcard tests/support/*.c)
TESTS       := $(TEST_SRCS:tests/%.c=$(B)/tests/%)

# Every test binary can also run with a recording store that replays and
# compares each context it frees (tests/support/journal_wrap.c, §5).
WRAP_FNS = quota_ctx_new quota_ctx_new_with quota_ctx_free quota_ctx_set_store \
	   quota_account_load quota_account_reset quota_ctx_set_event_hook \
	   quota_account_remove
WRAP_LDFLAGS = $(foreach f,$(WRAP_FNS),-Wl,--wrap=$(f))

# check_fast_record counts the keyed charges the fast path leaves to
# charge.c, and the reservations and commits it leaves to the general
# write path (calls from keys.c's and hold.c's objects to charge.c's and
# journal.c's, so --wrap sees them).
$(B)/tests/check_fast_record: WRAP_FNS += quota__charge_keyed_rest quota__write
# check_next_hour counts the charges it leaves to the general write path.
$(B)/tests/check_next_hour: WRAP_FNS += quota__write

$(B)/tests/%: tests/%.c $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -Itests/support $< \
	    $(TEST_SUPPORT) $(B)/libquota.a $(CHECK_LIBS) -lm $(WRAP_LDFLAGS) -o $@

# Fragments under tests/ add their own targets to these lists.
CHECK_EXTRA :=
BENCH_EXTRA :=
-include $(sort $(wildcard tests/*.mk))

# make check runs in two lanes at once, one test at a time in each (CI
# machines have 2 cores): lane 2 the unit tests under ASan+UBSan, then the
# SMS tests under them with the vector paths on (check-asan-simd), then
# long unit tests under valgrind (check-valgrind-2: check_sms_simd, the
# four check_faults*, check_journal_fuzz, check_journal); lane 1
# everything else: the unit tests, the checks of headers, exports, man
# pages, examples, install and FFI, every group of CHECK_EXTRA and the
# other unit tests under valgrind.  Lane 1 was the longer by 550 to 1,370
# s (2,013 and 1,463 s on 2026-12-06, 3,529 and 2,160 s on a slow
# 2026-12-07), and VALGRIND_LANE2 moves about 430 s of its valgrind pass
# (650 s; check_sms_simd 150, check_faults* 133, check_journal_fuzz 96,
# check_journal 46) to lane 2, which can now be the longer: 1,984 s and
# 2,162 s in the first run so (2026-12-07).  The library and
# the unit tests, plain and under ASan, and the SMS tests of
# check-asan-simd are built first; what the lanes build after that are
# files only one of them writes (lane 1's are the PostgreSQL adapter's,
# under build/asan too).  Each lane's make runs with -j1, whatever make
# check was given.  Lane 2 runs in a session of its own (setsid) and
# writes to $(B)/check-lane2.log, printed once both lanes have ended; make
# check fails if either does, and an interrupt of make check stops both.
CHECK_LANE1 = check-unit check-headers check-exports check-man \
	check-examples check-install check-ffi $(CHECK_EXTRA) check-valgrind-1
CHECK_LANE2 = check-asan check-asan-simd check-valgrind-2

check: deps
	$(MAKE) -j2 WERROR=1 lib $(TESTS)
	$(MAKE) check-asan-lib
	$(ASAN_MAKE) -j2 $(TESTS:$(B)/%=build/asan/%)
	$(ASAN_SIMD_MAKE) -j2 $(ASAN_SIMD_TESTS:%=build/asan-simd/tests/%)
	@echo "make check: lane 1 ($(CHECK_LANE1)) here;" \
	    "lane 2 ($(CHECK_LANE2)) beside it, into $(B)/check-lane2.log"
	@t0=$$(date +%s); export t0; \
	  setsid sh -c '$(MAKE) -j1 WERROR=1 $(CHECK_LANE2); s=$$?; \
	    echo "make check: lane 2 ended after $$(( $$(date +%s) - t0 )) s"; \
	    exit $$s' > $(B)/check-lane2.log 2>&1 & l2=$$!; \
	  trap 'kill -TERM -$$l2 2>/dev/null; exit 130' INT TERM HUP; \
	  $(MAKE) -j1 WERROR=1 $(CHECK_LANE1); s1=$$?; \
	  echo "make check: lane 1 ended after $$(( $$(date +%s) - t0 )) s"; \
	  wait $$l2; s2=$$?; \
	  echo "== lane 2 ($(CHECK_LANE2)), $(B)/check-lane2.log:"; \
	  cat $(B)/check-lane2.log; \
	  [ $$s1 = 0 ] || echo "make check: lane 1 FAILED (exit $$s1; its output is above lane 2's log)"; \
	  [ $$s2 = 0 ] || echo "make check: lane 2 FAILED (exit $$s2; the end of its log is above)"; \
	  [ $$s1 = 0 ] && [ $$s2 = 0 ]
	@echo "make check: all test groups passed"

check-unit: lib check-unit-only

# The same unit tests built with AddressSanitizer + UndefinedBehaviorSanitizer,
# and with QUOTA_NO_SIMD so the portable fallbacks are tested too.  Every
# build under build/asan (the PostgreSQL adapter's tests too) takes these
# flags, so whichever make builds the library there builds the same one.
ASAN_CFLAGS = -O1 -g -DQUOTA_NO_SIMD -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_MAKE = $(MAKE) B=build/asan CC=clang WERROR=1 CFLAGS="$(ASAN_CFLAGS)" \
	LDFLAGS="-fsanitize=address,undefined"
.PHONY: check-asan-lib
check-asan-lib:
	$(ASAN_MAKE) -j2 build/asan/libquota.a
# QUOTA_TEST_EXACT: the SMS tests hand every text over in a heap block of
# its exact size (tests/check_sms*.c), so that ASan reports a read past its
# end (elsewhere they use static buffers: valgrind's run is faster so).
check-asan: check-asan-lib
	QUOTA_TEST_EXACT=1 $(ASAN_MAKE) check-unit-only

# The SMS tests once more under ASan+UBSan, with the vector paths on (the
# build above has QUOTA_NO_SIMD, so SSE2 and AVX2 never ran under it):
# each level check_sms_simd can force, the texts of the tests' counting
# helpers (all but the literals passed straight) in a heap block of its
# exact size, so that a vector load past a message's last byte is
# reported (issue 16).
ASAN_SIMD_TESTS = check_sms check_sms_simd
ASAN_SIMD_MAKE = $(MAKE) B=build/asan-simd CC=clang WERROR=1 \
	CFLAGS="$(filter-out -DQUOTA_NO_SIMD,$(ASAN_CFLAGS))" \
	LDFLAGS="-fsanitize=address,undefined"
.PHONY: check-asan-simd
check-asan-simd:
	$(ASAN_SIMD_MAKE) $(ASAN_SIMD_TESTS:%=build/asan-simd/tests/%)
	@set -e; for t in $(ASAN_SIMD_TESTS); do \
	  echo "== build/asan-simd/tests/$$t"; \
	  CK_FORK=yes QUOTA_TEST_EXACT=1 ./build/asan-simd/tests/$$t; done

# Each test twice: as it is, and journaled (every context it frees is
# replayed from its records in check mode and compared snapshot by snapshot).
# Check's per-test timeout (4 s) is a guard against hangs, not a speed
# test: 4 times it, for sanitizer builds on a busy 2-core machine.
export CK_TIMEOUT_MULTIPLIER ?= 4
check-unit-only: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; CK_FORK=yes ./$$t; \
	  echo "== $$t (journaled)"; CK_FORK=yes QUOTA_TEST_JOURNAL=1 ./$$t; done

# valgrind on the unit tests (no fork so valgrind sees the test bodies):
# check-valgrind-2 the tests of VALGRIND_LANE2 (make check's lane 2),
# check-valgrind-1 the others, check-valgrind all of them.
VALGRIND_LANE2 = check_sms_simd check_faults check_faults_keyed \
	check_faults_reference check_faults_renewal check_journal_fuzz \
	check_journal
VALGRIND_2 := $(VALGRIND_LANE2:%=$(B)/tests/%)
VALGRIND_1 := $(filter-out $(VALGRIND_2),$(TESTS))
$(if $(filter-out $(TESTS),$(VALGRIND_2)),\
  $(error VALGRIND_LANE2 names no test of TESTS: $(filter-out $(TESTS),$(VALGRIND_2))))
VALGRIND_EACH = @set -e; for t in $(1); do echo "== valgrind $$t"; \
	  CK_FORK=no QUOTA_TEST_QUICK=1 valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect ./$$t; done
check-valgrind: check-valgrind-1 check-valgrind-2
check-valgrind-1: lib $(TESTS)
	$(call VALGRIND_EACH,$(VALGRIND_1))
check-valgrind-2: lib $(TESTS)
	$(call VALGRIND_EACH,$(VALGRIND_2))

# Exported symbols of the shared library == functions declared in quota.h.
check-exports: $(B)/$(SHLIB)
	@mkdir -p $(B)/tests
	cat include/quota.h include/quota_store.h > $(B)/tests/public.h
	sh tests/check-exports.sh $(B)/$(SHLIB) $(B)/tests/public.h

# Every exported function has a man page listing it in NAME; installed
# under a scratch prefix, `man NAME` finds it, and `man SECTION NAME` finds
# each page of MAN_PAGES (add a program's page, quota-sim.1, when it lands).
MAN_PAGES = libquota.3 libquota-rules.7 quota_journal.5 quota-sim.1 quota-plan.5
check-man: $(B)/$(SHLIB)
	sh tests/check-man.sh $(B)/$(SHLIB) man
	QUOTA_MAN_PAGES="$(MAN_PAGES)" sh tests/check-man-install.sh $(B)/$(SHLIB)

check-man-install: $(B)/$(SHLIB)
	QUOTA_MAN_PAGES="$(MAN_PAGES)" sh tests/check-man-install.sh $(B)/$(SHLIB)

# The public header compiles as C and as C++ with -pedantic -Werror.
check-headers:
	@mkdir -p $(B)/tests
	printf '#include "quota.h"\n#include "quota_store.h"\nint main(void){return quota_version()==0;}\n' > $(B)/tests/hdr.c
	$(CC) -std=c11 $(WARN) -Werror -Iinclude -c $(B)/tests/hdr.c -o $(B)/tests/hdr_c.o
	printf '#include "quota.h"\n#include "quota_store.h"\nint main(){return quota_version()==0;}\n' > $(B)/tests/hdr.cc
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c $(B)/tests/hdr.cc -o $(B)/tests/hdr_cc.o

# Examples run; the bad-input one must fail cleanly.
check-examples: $(EXAMPLES)
	sh tests/check-examples.sh $(B)/examples

# The library through Python ctypes (FFI): struct layouts and a charge.
check-ffi: lib
	sh tests/check-ffi.sh $(B)/$(SONAME)

# Install into a scratch prefix, build consumers with pkg-config (shared and
# --static), run them, uninstall.
check-install: lib
	sh tests/check-install.sh

# ------------------------------------------------------------- benchmark

$(B)/tests/bench: tests/bench.c $(wildcard tests/bench/*.h) $(B)/libquota.a
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) -O2 -g tests/bench.c $(B)/libquota.a -o $@

bench: $(B)/tests/bench $(BENCH_EXTRA)
	./$(B)/tests/bench

# --------------------------------------------------------------- install

install: lib install-man
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(B)/libquota.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/$(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libquota.so
	install -m 644 include/quota.h include/quota_store.h $(DESTDIR)$(INCLUDEDIR)/
	$(PC_SUBST) libquota.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libquota.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libquota.pc

# The manual: the pages of every section, and a link page for each other
# name a page lists in NAME, a one-line ".so man3/PAGE.3", so that
# `man quota_account_find` works (man/links.sh derives them from the pages
# and says why .so pages).
install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	for f in man/*.1; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(MANDIR)/man1/ || true; done
	sh man/links.sh -w $(DESTDIR)$(MANDIR) man

uninstall: uninstall-man
	rm -f $(DESTDIR)$(LIBDIR)/libquota.a $(DESTDIR)$(LIBDIR)/$(SHLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libquota.so \
	    $(DESTDIR)$(INCLUDEDIR)/quota.h $(DESTDIR)$(INCLUDEDIR)/quota_store.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libquota.pc

uninstall-man:
	for f in man/*.3; do rm -f $(DESTDIR)$(MANDIR)/man3/$$(basename $$f); done
	for f in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$f); done
	for f in man/*.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$$(basename $$f); done
	for f in man/*.1; do [ -e "$$f" ] && rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$f) || true; done
	sh man/links.sh man | while read -r sec name page; do \
	    rm -f $(DESTDIR)$(MANDIR)/man$$sec/$$name.$$sec; done

clean:
	rm -rf build
