# tests/sqlite_bench.mk - the SQLite store's figures in `make bench`
# (tests/bench_sqlite.c): durable charges per second, one per transaction
# and in batches of 10, 100 and 1,000, where the time goes, recovery of
# 1,000,000 records and of a snapshot plus 100,000, bytes per charge.
# Included by the top-level Makefile (-include tests/*.mk).
#
#   make bench-sqlite         (part of `make bench`)

BENCH_EXTRA += bench-sqlite

.PHONY: bench-sqlite

BSQL_LIBS = $(B)/libquota-sqlite.a $(B)/libquota.a
BSQL_HDRS = include/quota.h include/quota_store.h include/quota_sqlite.h \
	    lib/sqlite/quota_sqlite_int.h

$(B)/bench_sqlite/bench_sqlite: tests/bench_sqlite.c $(BSQL_LIBS) $(BSQL_HDRS) | sqlite-have
	@mkdir -p $(dir $@)
	$(CC) $(QCFLAGS) -O2 -g $(SQL_CFLAGS) -Ilib/sqlite $< $(BSQL_LIBS) \
	    $(SQL_LIBS) -o $@

bench-sqlite: $(B)/bench_sqlite/bench_sqlite
	./$(B)/bench_sqlite/bench_sqlite $(B)/bench_sqlite/files
