# tests/sqlite.mk - libquota-sqlite, the SQLite store (lib/sqlite/,
# include/quota_sqlite.h; DESIGN section 5).  Included by the top-level
# Makefile (-include tests/*.mk).  A separate library: lib/*.c (the core)
# does not see lib/sqlite/.
#
#   make sqlite               build/libquota-sqlite.a, .so.0, .pc
#                             (part of `make` when pkg-config finds sqlite3)
#   make check-sqlite         the library, its exports, header and install
#                             (build/tests/check_sqlite, check_sqlite_refused
#                             and check_sqlite_faults run with the unit
#                             tests: check-unit, check-asan, check-valgrind)
#
# Without sqlite3's development files the library is left out of `make`,
# but every check that needs it fails, saying so: `make check` installs
# them first (tests/install-deps.sh: libsqlite3-dev).

SQL_HAVE   := $(shell pkg-config --exists sqlite3 2>/dev/null && echo 1)
SQL_CFLAGS := $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQL_LIBS   := $(shell pkg-config --libs sqlite3 2>/dev/null)
SQL_SRCS   := $(sort $(wildcard lib/sqlite/*.c))
SQL_OBJS   := $(SQL_SRCS:lib/sqlite/%.c=$(B)/lib/sqlite/%.o)
SQL_HDRS   := include/quota.h include/quota_store.h include/quota_sqlite.h \
	      $(wildcard lib/sqlite/*.h)
SQL_SONAME  = libquota-sqlite.so.$(ABI)
SQL_SHLIB   = libquota-sqlite.so.$(ABI).$(VMINOR).$(VPATCH)

CHECK_EXTRA += check-sqlite

.PHONY: sqlite sqlite-have check-sqlite check-exports-sqlite \
	check-headers-sqlite check-install-sqlite install-sqlite \
	uninstall-sqlite libquota-sqlite.pc

ifeq ($(SQL_HAVE),1)
all: sqlite
install: install-sqlite
endif
uninstall: uninstall-sqlite

sqlite: $(B)/libquota-sqlite.a $(B)/$(SQL_SHLIB) libquota-sqlite.pc

# Fails, saying why, when sqlite3's development files are missing.
sqlite-have:
	@pkg-config --exists sqlite3 || { echo "libquota-sqlite: pkg-config" \
	  "finds no sqlite3 (install libsqlite3-dev: tests/install-deps.sh)" >&2; \
	  exit 1; }

$(B)/lib/sqlite/%.o: lib/sqlite/%.c $(SQL_HDRS) $(B)/cflags | sqlite-have
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) $(SQL_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libquota-sqlite.a: $(SQL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/$(SQL_SHLIB): $(SQL_OBJS) $(B)/$(SHLIB)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SQL_SONAME) -o $@ $(SQL_OBJS) \
	    -L$(B) -lquota $(SQL_LIBS)
	ln -sf $(SQL_SHLIB) $(B)/$(SQL_SONAME)
	ln -sf $(SQL_SONAME) $(B)/libquota-sqlite.so

# Phony, as libquota.pc (PC_SUBST, in the Makefile).
libquota-sqlite.pc: lib/sqlite/libquota-sqlite.pc.in
	@mkdir -p $(B)
	$(PC_SUBST) $< > $(B)/libquota-sqlite.pc

# The unit tests (in TESTS, like every tests/check_*.c, so check-unit,
# check-asan and check-valgrind run them): check_sqlite (open, recovery,
# two writers), check_sqlite_refused (files refused, SQLITE_BUSY,
# SQLITE_FULL), check_sqlite_faults (a failed fsync, the store-fault
# sweep); each linked with the static library, which reaches libquota's
# through the same --wrap as the core's tests.
SQL_TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/check_sqlite*.c))
$(SQL_TESTS): $(B)/tests/%: tests/%.c $(TEST_SUPPORT) \
		$(wildcard tests/support/*.h) $(B)/libquota-sqlite.a \
		$(B)/libquota.a | sqlite-have
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $(CHECK_CFLAGS) $(SQL_CFLAGS) -Itests/support \
	    -Ilib/sqlite $< $(TEST_SUPPORT) $(B)/libquota-sqlite.a \
	    $(B)/libquota.a $(SQL_LIBS) $(CHECK_LIBS) -lm -lpthread \
	    $(WRAP_LDFLAGS) -o $@

check-sqlite: sqlite check-exports-sqlite check-headers-sqlite check-install-sqlite

# The core's checks take the SQLite library in too.
check-exports: check-exports-sqlite
check-headers: check-headers-sqlite
check-install: check-install-sqlite
check-man: $(B)/$(SQL_SHLIB)
check-man-install: $(B)/$(SQL_SHLIB)
export QUOTA_MAN_SHLIBS = $(B)/$(SQL_SHLIB)

# Its exports == the QUOTA_API functions of quota_sqlite.h.
check-exports-sqlite: $(B)/$(SQL_SHLIB)
	sh tests/check-exports.sh $(B)/$(SQL_SHLIB) include/quota_sqlite.h

check-headers-sqlite: | sqlite-have
	@mkdir -p $(B)/tests
	printf '#include "quota_sqlite.h"\nint main(void){return quota_sqlite_open(0,0,0)==0;}\n' > $(B)/tests/hdr_sqlite.c
	$(CC) -std=c11 $(WARN) -Werror -Iinclude -c $(B)/tests/hdr_sqlite.c -o $(B)/tests/hdr_sqlite_c.o
	printf '#include "quota_sqlite.h"\nint main(){return quota_sqlite_open(0,0,0)==0;}\n' > $(B)/tests/hdr_sqlite.cc
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c $(B)/tests/hdr_sqlite.cc -o $(B)/tests/hdr_sqlite_cc.o

check-install-sqlite: lib sqlite
	sh tests/check-install-sqlite.sh

install-sqlite: $(B)/libquota-sqlite.a $(B)/$(SQL_SHLIB)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(B)/libquota-sqlite.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/$(SQL_SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SQL_SHLIB) $(DESTDIR)$(LIBDIR)/$(SQL_SONAME)
	ln -sf $(SQL_SONAME) $(DESTDIR)$(LIBDIR)/libquota-sqlite.so
	install -m 644 include/quota_sqlite.h $(DESTDIR)$(INCLUDEDIR)/
	$(PC_SUBST) lib/sqlite/libquota-sqlite.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libquota-sqlite.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libquota-sqlite.pc

uninstall-sqlite:
	rm -f $(DESTDIR)$(LIBDIR)/libquota-sqlite.a $(DESTDIR)$(LIBDIR)/$(SQL_SHLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SQL_SONAME) $(DESTDIR)$(LIBDIR)/libquota-sqlite.so \
	    $(DESTDIR)$(INCLUDEDIR)/quota_sqlite.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libquota-sqlite.pc
