#!/bin/sh
# check-install-sqlite.sh - install, consume and uninstall libquota-sqlite
# (tests/sqlite.mk) under a scratch prefix, as check-install.sh does for
# libquota.  No root, no system path is touched.
#
#   1. make install PREFIX=$tmp/usr puts the header, both libraries, the
#      .pc and quota_sqlite(3) there; the .so carries its SONAME and needs
#      libquota.so and libsqlite3;
#   2. a consumer built with `pkg-config --cflags --libs libquota-sqlite`
#      links, keeps a charge in a database, reopens it and finds the
#      charge again (and its idempotency key);
#   3. the same consumer with `pkg-config --static --libs` and both .a;
#   4. make uninstall leaves no file or link of ours.
# Prints one PASS line per step; exits 1 on the first failure.
#
# The steps are tests/check-install-adapter.sh's, shared with
# check-install-pg.sh; what is SQLite's own is here: the consumer, and
# its database file.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
# The adapter and the library it is built on: its .pc, its package, the
# name the .so needs it by (check-install-adapter.sh says what for).
adapter=sqlite
dep=sqlite3
dep_dev=libsqlite3-dev
dep_need=libsqlite3
# shellcheck source-path=SCRIPTDIR source=check-install-adapter.sh
. "$here/check-install-adapter.sh"

adapter_require
adapter_tmp

# The consumer: a charge, kept in the database file argv[1], found again
# (and its key replayed) after the file is reopened in a new context.
cat >"$tmp/app.c" <<'EOF'
#include <quota_sqlite.h>

#include <stdio.h>

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "app: %s failed (line %d): %s\n", \
				#x, __LINE__, quota_errmsg(ctx));        \
			return 1;                                        \
		}                                                        \
	} while (0)

int main(int argc, char **argv)
{
	quota_ctx *ctx;
	quota_sqlite *db;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	quota_usage u = {.units = 3, .at = 1715000000, .key = "m-1"};

	if (argc != 2 || quota_ctx_new(&ctx) != QUOTA_OK)
		return 2;
	CHECK(quota_sqlite_open(ctx, argv[1], &db) == QUOTA_OK);
	CHECK(quota_category_add(ctx, "sms", &sms) == QUOTA_OK);
	CHECK(quota_tariff_new(ctx, "std", &t) == QUOTA_OK);
	CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000) == QUOTA_OK);
	CHECK(quota_account_new(ctx, "acme", &a) == QUOTA_OK);
	CHECK(quota_account_set_tariff(a, sms, t) == QUOTA_OK);
	u.category = sms;
	CHECK(quota_charge(a, &u, &r) == QUOTA_OK && !r.replayed);
	CHECK(quota_sqlite_checkpoint(db) == QUOTA_OK);
	quota_sqlite_close(db);
	quota_ctx_free(ctx);

	if (quota_ctx_new(&ctx) != QUOTA_OK)
		return 2;
	CHECK(quota_sqlite_open(ctx, argv[1], &db) == QUOTA_OK);
	CHECK(quota_account_find(ctx, "acme", &a) == QUOTA_OK);
	CHECK(quota_account_used(a, sms, QUOTA_PERIOD_DAY, u.at) == 3);
	CHECK(quota_charge(a, &u, &r) == QUOTA_OK && r.replayed);
	CHECK(quota_account_used(a, sms, QUOTA_PERIOD_DAY, u.at) == 3);
	quota_sqlite_close(db);
	quota_ctx_free(ctx);
	printf("app: libquota-sqlite ok\n");
	return 0;
}
EOF

adapter_install
adapter_shared "keeps a charge across a reopen" "$tmp/shared.db"
adapter_static "$tmp/static.db"
adapter_uninstall
adapter_done
