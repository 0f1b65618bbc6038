# tests/pg.mk - libquota-pg, the PostgreSQL store (lib/pg/,
# include/quota_pg.h; DESIGN sections 5 and 6).  Included by the top-level
# Makefile (-include tests/*.mk).  A separate library: lib/*.c (the core)
# does not see lib/pg/; every lib/pg/*.c is part of it.
#
#   make pg                   build/libquota-pg.a, .so.0, .pc
#                             (part of `make` when pkg-config finds libpq)
#   make check-pg             the library, its exports, header and install,
#                             and build/tests/check_pg against throw-away
#                             servers (tests/pg/with-pg.sh), also built with
#                             ASan+UBSan
#
# check_pg needs servers, so it is not in TESTS (check-unit, check-asan and
# check-valgrind run without them): check-pg runs it.  Without libpq's
# development files the library is left out of `make`, but every check
# that needs it fails, saying so: `make check` installs them first
# (tests/install-deps.sh: libpq-dev, postgresql).

PG_HAVE   := $(shell pkg-config --exists libpq 2>/dev/null && echo 1)
PG_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PG_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null)
PG_SRCS   := $(sort $(wildcard lib/pg/*.c))
PG_OBJS   := $(PG_SRCS:lib/pg/%.c=$(B)/lib/pg/%.o)
PG_HDRS   := include/quota.h include/quota_store.h include/quota_pg.h \
	     $(wildcard lib/pg/*.h)
PG_SONAME  = libquota-pg.so.$(ABI)
PG_SHLIB   = libquota-pg.so.$(ABI).$(VMINOR).$(VPATCH)
# The servers check_pg runs against (two: shards).
PG_RUN     = sh tests/pg/with-pg.sh 2
# The flags of every build under build/asan (the Makefile's ASAN_CFLAGS),
# so check-pg-asan and check-asan build the same library there.
PG_ASAN    = $(ASAN_CFLAGS)

CHECK_EXTRA += check-pg
# The tests that need servers (tests/check_pg*.c).
PG_TESTS  := $(patsubst tests/%.c,%,$(wildcard tests/check_pg*.c))
TESTS := $(filter-out $(PG_TESTS:%=$(B)/tests/%),$(TESTS))

.PHONY: pg pg-have check-pg check-pg-unit check-pg-asan check-pg-valgrind \
	check-exports-pg \
	check-headers-pg check-install-pg install-pg uninstall-pg \
	libquota-pg.pc

ifeq ($(PG_HAVE),1)
all: pg
install: install-pg
endif
uninstall: uninstall-pg

pg: $(B)/libquota-pg.a $(B)/$(PG_SHLIB) libquota-pg.pc

# Fails, saying why, when libpq's development files are missing.
pg-have:
	@pkg-config --exists libpq || { echo "libquota-pg: pkg-config" \
	  "finds no libpq (install libpq-dev: tests/install-deps.sh)" >&2; \
	  exit 1; }

$(B)/lib/pg/%.o: lib/pg/%.c $(PG_HDRS) $(B)/cflags | pg-have
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) $(PG_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libquota-pg.a: $(PG_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/$(PG_SHLIB): $(PG_OBJS) $(B)/$(SHLIB)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(PG_SONAME) -o $@ $(PG_OBJS) \
	    -L$(B) -lquota $(PG_LIBS)
	ln -sf $(PG_SHLIB) $(B)/$(PG_SONAME)
	ln -sf $(PG_SONAME) $(B)/libquota-pg.so

# Phony, as libquota.pc (PC_SUBST, in the Makefile).
libquota-pg.pc: lib/pg/libquota-pg.pc.in
	@mkdir -p $(B)
	$(PC_SUBST) $< > $(B)/libquota-pg.pc

# The unit test, linked with the static libraries (it reaches the
# library's internals through lib/pg/quota_pg_int.h).
$(PG_TESTS:%=$(B)/tests/%): $(B)/tests/check_pg%: tests/check_pg%.c \
		$(B)/libquota-pg.a $(B)/libquota.a $(PG_HDRS) \
		$(wildcard tests/support/*.h) | pg-have
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $(CHECK_CFLAGS) $(PG_CFLAGS) -Ilib/pg \
	    -Itests/support $< $(B)/libquota-pg.a $(B)/libquota.a \
	    $(PG_LIBS) $(CHECK_LIBS) -lm -lpthread $(LDFLAGS) \
	    $(PG_WRAP_$(notdir $@)) -o $@

# The store-fault sweep fails libpq's calls themselves.
PG_WRAP_check_pg_faults = $(foreach f,PQexec PQexecPrepared PQexecParams \
	PQstatus PQreset,-Wl,--wrap=$(f))

check-pg: pg check-exports-pg check-headers-pg check-install-pg \
	check-pg-unit check-pg-asan check-pg-valgrind

check-pg-unit: $(PG_TESTS:%=$(B)/tests/%)
	CK_FORK=yes $(PG_RUN) sh -c 'for t in $(PG_TESTS); do \
	    ./$(B)/tests/$$t || exit 1; done'

# The same test with AddressSanitizer + UndefinedBehaviorSanitizer.
check-pg-asan:
	$(MAKE) B=build/asan CC=clang WERROR=1 CFLAGS="$(PG_ASAN)" \
	    LDFLAGS="-fsanitize=address,undefined" \
	    $(PG_TESTS:%=build/asan/tests/%)
	CK_FORK=yes $(PG_RUN) sh -c 'for t in $(PG_TESTS); do \
	    ./build/asan/tests/$$t || exit 1; done'

# valgrind on the adapter's tests but the sweep (hundreds of runs: ASan
# covers it), without fork so valgrind sees the test bodies.
check-pg-valgrind: $(PG_TESTS:%=$(B)/tests/%)
	$(PG_RUN) sh -c 'for t in $(filter-out check_pg_faults,$(PG_TESTS)); do \
	    echo "== valgrind $$t"; CK_FORK=no valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    ./$(B)/tests/$$t || exit 1; done'

# The core's checks take the PostgreSQL library in too.
check-exports: check-exports-pg
check-headers: check-headers-pg
check-install: check-install-pg
check-man: $(B)/$(PG_SHLIB)
check-man: export QUOTA_MAN_SHLIBS += $(B)/$(PG_SHLIB)
check-man-install: $(B)/$(PG_SHLIB)
check-man-install: export QUOTA_MAN_SHLIBS += $(B)/$(PG_SHLIB)

# Its exports == the QUOTA_API functions of quota_pg.h.
check-exports-pg: $(B)/$(PG_SHLIB)
	sh tests/check-exports.sh $(B)/$(PG_SHLIB) include/quota_pg.h

check-headers-pg:
	@mkdir -p $(B)/tests
	printf '#include "quota_pg.h"\nint main(void){return quota_pg_open(0,0,0)==0;}\n' > $(B)/tests/hdr_pg.c
	$(CC) -std=c11 $(WARN) -Werror -Iinclude -c $(B)/tests/hdr_pg.c -o $(B)/tests/hdr_pg_c.o
	printf '#include "quota_pg.h"\nint main(){return quota_pg_open(0,0,0)==0;}\n' > $(B)/tests/hdr_pg.cc
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c $(B)/tests/hdr_pg.cc -o $(B)/tests/hdr_pg_cc.o

check-install-pg: lib pg
	$(PG_RUN) sh tests/check-install-pg.sh

install-pg: $(B)/libquota-pg.a $(B)/$(PG_SHLIB)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(B)/libquota-pg.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/$(PG_SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(PG_SHLIB) $(DESTDIR)$(LIBDIR)/$(PG_SONAME)
	ln -sf $(PG_SONAME) $(DESTDIR)$(LIBDIR)/libquota-pg.so
	install -m 644 include/quota_pg.h $(DESTDIR)$(INCLUDEDIR)/
	$(PC_SUBST) lib/pg/libquota-pg.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libquota-pg.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libquota-pg.pc

uninstall-pg:
	rm -f $(DESTDIR)$(LIBDIR)/libquota-pg.a $(DESTDIR)$(LIBDIR)/$(PG_SHLIB) \
	    $(DESTDIR)$(LIBDIR)/$(PG_SONAME) $(DESTDIR)$(LIBDIR)/libquota-pg.so \
	    $(DESTDIR)$(INCLUDEDIR)/quota_pg.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libquota-pg.pc
