#!/bin/sh
# check-install-pg.sh - install, consume and uninstall libquota-pg
# (tests/pg.mk) under a scratch prefix, as check-install.sh does for
# libquota.  No root, no system path is touched.  Runs under
# tests/pg/with-pg.sh (the consumer needs a server: QUOTA_PG_CONNINFO).
#
#   1. make install PREFIX=$tmp/usr puts the header, both libraries, the
#      .pc (and quota_pg(3) once man/ has it) there; the .so carries its
#      SONAME and needs libquota.so and libpq;
#   2. a consumer built with `pkg-config --cflags --libs libquota-pg`
#      links, keeps a charge on the server, reopens it in a new context
#      and finds the charge again (and its idempotency key);
#   3. the same consumer with `pkg-config --static --libs` and both .a
#      (libpq itself shared);
#   4. make uninstall leaves no file or link of ours.
# Prints one PASS line per step; exits 1 on the first failure.
#
# The steps are tests/check-install-adapter.sh's, shared with
# check-install-sqlite.sh; what is PostgreSQL's own is here: the server,
# the consumer, and libpq linked shared into the static consumer.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
# The adapter and the library it is built on: its .pc, its package, the
# name the .so needs it by (check-install-adapter.sh says what for).
adapter=pg
dep=libpq
dep_dev=libpq-dev
dep_need=libpq
# quota_pg(3) is expected once man/ has it.
man_optional=1
# Ours are linked static, libpq shared: libpq.pc's Libs.private names
# static libraries Debian does not ship (libpgcommon.a, libpgport.a), so
# the words it adds for a static libpq are left out.
dep_shared=1
# shellcheck source-path=SCRIPTDIR source=check-install-adapter.sh
. "$here/check-install-adapter.sh"

adapter_require
[ -n "${QUOTA_PG_CONNINFO:-}" ] || {
	echo "$me: FAIL: QUOTA_PG_CONNINFO is not set" \
	     "(run under tests/pg/with-pg.sh)"
	exit 1
}
adapter_tmp

# The consumer: a charge, kept on the server argv[1] for the account
# argv[2] (the shared and the static consumer each have their own: both
# run against the same server), found again (and its key replayed) after
# a reopen in a new context.
cat >"$tmp/app.c" <<'EOF'
#include <quota_pg.h>

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
	quota_pg *db;
	quota_tariff *t;
	quota_account *a;
	quota_receipt r;
	uint32_t sms;
	quota_usage u = {.units = 3, .at = 1715000000, .key = "m-1"};

	if (argc != 3 || quota_ctx_new(&ctx) != QUOTA_OK)
		return 2;
	CHECK(quota_pg_open(ctx, argv[1], &db) == QUOTA_OK);
	/* The configuration is the server's: written by the first run. */
	if (quota_category_find(ctx, "sms", &sms) != QUOTA_OK) {
		CHECK(quota_category_add(ctx, "sms", &sms) == QUOTA_OK);
		CHECK(quota_tariff_new(ctx, "std", &t) == QUOTA_OK);
		CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000) ==
		      QUOTA_OK);
	}
	CHECK(quota_tariff_find(ctx, "std", &t) == QUOTA_OK);
	CHECK(quota_pg_account(db, argv[2], 1, &a) == QUOTA_OK);
	CHECK(quota_account_set_tariff(a, sms, t) == QUOTA_OK);
	u.category = sms;
	CHECK(quota_charge(a, &u, &r) == QUOTA_OK && !r.replayed);
	CHECK(quota_pg_snapshot(db, a) == QUOTA_OK);
	quota_pg_close(db);
	quota_ctx_free(ctx);

	if (quota_ctx_new(&ctx) != QUOTA_OK)
		return 2;
	CHECK(quota_pg_open(ctx, argv[1], &db) == QUOTA_OK);
	CHECK(quota_pg_account(db, argv[2], 0, &a) == QUOTA_OK);
	CHECK(quota_account_used(a, sms, QUOTA_PERIOD_DAY, u.at) == 3);
	CHECK(quota_charge(a, &u, &r) == QUOTA_OK && r.replayed);
	CHECK(quota_account_used(a, sms, QUOTA_PERIOD_DAY, u.at) == 3);
	quota_pg_close(db);
	quota_ctx_free(ctx);
	printf("app: libquota-pg ok\n");
	return 0;
}
EOF

adapter_install
adapter_shared "keeps a charge on the server across a reopen" \
	"$QUOTA_PG_CONNINFO" "shared-$$"
adapter_static "$QUOTA_PG_CONNINFO" "static-$$"
adapter_uninstall
adapter_done
