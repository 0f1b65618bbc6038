# tests/crash.mk - the crash test of the SQLite store (DESIGN section 9):
# a charger killed with SIGKILL at random points and started again, each
# start checking that every acknowledged charge is stored exactly once and
# that units and money add up.  Included by the top-level Makefile
# (-include tests/*.mk); uses sqlite.mk's variables in recipes only (this
# file is read first).
#
#   make check-crash          QUOTA_CRASH_KILLS kills (default 500, about 15 s),
#                             QUOTA_CRASH_SEED (default 1)
#
# See tests/crash/charger.c (what is checked, what "acknowledged" means)
# and tests/crash/driver.c (how and where it is killed).

CHECK_EXTRA += check-crash

.PHONY: check-crash

CRASH_LIBS = $(B)/libquota-sqlite.a $(B)/libquota.a
CRASH_HDRS = include/quota.h include/quota_store.h include/quota_sqlite.h \
	     lib/sqlite/quota_sqlite_int.h

$(B)/crash/charger: tests/crash/charger.c $(CRASH_LIBS) $(CRASH_HDRS) | sqlite-have
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $(SQL_CFLAGS) -Ilib/sqlite $< \
	    $(CRASH_LIBS) $(SQL_LIBS) -o $@

$(B)/crash/driver: tests/crash/driver.c $(B)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) $(CFLAGS) $< -o $@

check-crash: $(B)/crash/charger $(B)/crash/driver
	./$(B)/crash/driver ./$(B)/crash/charger $(B)/crash
