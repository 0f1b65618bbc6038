# tests/pg_nodes.mk - several gateway nodes on one PostgreSQL server
# (issue 12; DESIGN §6): tests/pg/node.c is one node process, its
# verifier (node_verify.h) and the benchmark (node_bench.h), one
# translation unit; tests/pg/check-nodes.sh drives 4 of them
# through a server restart, a killed node and leases on a hot account.
# The server is a throw-away one (tests/pg/with-pg.sh).  Included by the
# top-level Makefile (-include tests/*.mk); build/libquota-pg.a comes from
# tests/pg.mk.
#
#   make check-pg-nodes       (part of `make check`); QUOTA_PG_NODE_OPS
#                             operations per process, default 10,000
#   make bench-pg             (part of `make bench`); QUOTA_PG_BENCH_MS
#                             per run, default 2,000

CHECK_EXTRA += check-pg-nodes
BENCH_EXTRA += bench-pg

.PHONY: check-pg-nodes bench-pg

PGN_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PGN_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null)
PGN_DIR     = $(B)/pg_nodes

$(PGN_DIR)/node: tests/pg/node.c tests/pg/node_verify.h \
		tests/pg/node_bench.h $(B)/libquota-pg.a $(B)/libquota.a \
		include/quota.h include/quota_pg.h
	@mkdir -p $(dir $@)
	@pkg-config --exists libpq || { echo "check-pg-nodes: pkg-config" \
	  "finds no libpq (install libpq-dev: tests/install-deps.sh)" >&2; \
	  exit 1; }
	$(CC) $(QCFLAGS) -O2 -g $(PGN_CFLAGS) $< $(B)/libquota-pg.a \
	    $(B)/libquota.a $(PGN_LIBS) -o $@

check-pg-nodes: $(PGN_DIR)/node
	sh tests/pg/with-pg.sh 1 sh tests/pg/check-nodes.sh $(PGN_DIR)/node \
	    $(PGN_DIR)/work

bench-pg: $(PGN_DIR)/node
	sh tests/pg/with-pg.sh 1 sh -c '"$$0" bench "$$QUOTA_PG_CONNINFO"' \
	    $(PGN_DIR)/node
