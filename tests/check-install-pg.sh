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
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
root=$(cd "$here/.." && pwd) || exit 2
MAKE=${MAKE:-make}
CC=${CC:-cc}
command -v pkg-config >/dev/null 2>&1 || {
	echo "check-install-pg: pkg-config is not installed" >&2
	exit 2
}
pkg-config --exists libpq || {
	echo "check-install-pg: FAIL: no libpq for pkg-config" \
	     "(libpq-dev: tests/install-deps.sh)"
	exit 1
}
[ -n "${QUOTA_PG_CONNINFO:-}" ] || {
	echo "check-install-pg: FAIL: QUOTA_PG_CONNINFO is not set" \
	     "(run under tests/pg/with-pg.sh)"
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-install-pg.XXXXXX") || exit 2
cleanup() {
	if [ "${QUOTA_KEEP_TMP:-0}" = 1 ]; then
		echo "check-install-pg: left $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "check-install-pg: FAIL: $*"
	if [ -s "$tmp/log" ]; then
		echo "---- last output:"
		tail -n 30 "$tmp/log"
	fi
	exit 1
}
pass() {
	echo "check-install-pg: PASS $*"
}

vminor=$(sed -n 's/^#define QUOTA_VERSION_MINOR \([0-9]*\).*/\1/p' "$root/include/quota.h")
vpatch=$(sed -n 's/^#define QUOTA_VERSION_PATCH \([0-9]*\).*/\1/p' "$root/include/quota.h")
abi=$(sed -n 's/^ABI[ \t]*=[ \t]*\([0-9]*\).*/\1/p' "$root/Makefile")
[ -n "$abi" ] || abi=0
soname=libquota-pg.so.$abi
shlib=libquota-pg.so.$abi.$vminor.$vpatch

expected() {
	echo lib/libquota-pg.a
	echo "lib/$shlib"
	echo "lib/$soname"
	echo lib/libquota-pg.so
	echo lib/pkgconfig/libquota-pg.pc
	echo include/quota_pg.h
	[ -e "$root/man/quota_pg.3" ] && echo share/man/man3/quota_pg.3
	# Its link pages (man/links.sh): quota_pg_open.3 and the others.
	sh "$root/man/links.sh" "$root/man" |
		awk '$3 == "quota_pg" { print "share/man/man" $1 "/" $2 "." $1 }'
}

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

domake() {
	"$MAKE" -C "$root" "$@" >"$tmp/log" 2>&1
}

# -------------------------------------------------- 1. install to a prefix
prefix=$tmp/usr
domake install PREFIX="$prefix" DESTDIR= || fail "make install PREFIX=$prefix"
: >"$tmp/missing"
expected | while read -r f; do
	[ -e "$prefix/$f" ] || echo "$f" >>"$tmp/missing"
done
[ -s "$tmp/missing" ] && fail "not installed under $prefix: $(tr '\n' ' ' <"$tmp/missing")"
[ -L "$prefix/lib/$soname" ] || fail "lib/$soname is not a symlink"
readelf -d "$prefix/lib/$shlib" | grep -q "SONAME.*\[$soname\]" ||
	fail "$shlib has no SONAME $soname"
for need in libquota.so.$abi libpq; do
	readelf -d "$prefix/lib/$shlib" | grep -q "NEEDED.*\[$need" ||
		fail "$shlib does not need $need"
done
grep -q -x "prefix=$prefix" "$prefix/lib/pkgconfig/libquota-pg.pc" ||
	fail "libquota-pg.pc: prefix is not $prefix"
# Ours and the system's (for libpq.pc), ours first.
sys=$(pkg-config --variable pc_path pkg-config)
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig:$sys
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
unset PKG_CONFIG_SYSROOT_DIR
pkg-config --exists libquota-pg ||
	fail "pkg-config does not find libquota-pg in $PKG_CONFIG_PATH"
pass "make install PREFIX=$prefix ($(expected | wc -l | tr -d ' ') files of libquota-pg)"

# ------------------------------------------------ 2. shared consumer
cflags=$(pkg-config --cflags libquota-pg) || fail "pkg-config --cflags"
libs=$(pkg-config --libs libquota-pg) || fail "pkg-config --libs"
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -o "$tmp/app-shared" \
	"$tmp/app.c" $cflags $libs >"$tmp/log" 2>&1 ||
	fail "cc app.c $cflags $libs"
readelf -d "$tmp/app-shared" | grep -q "NEEDED.*\[$soname\]" ||
	fail "app-shared does not need $soname"
LD_LIBRARY_PATH=$prefix/lib "$tmp/app-shared" "$QUOTA_PG_CONNINFO" "shared-$$" >"$tmp/log" 2>&1 ||
	fail "app-shared did not run"
LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/app-shared" | grep -q "$soname => $prefix/lib/$soname" ||
	fail "app-shared does not load $prefix/lib/$soname"
# shellcheck disable=SC2086
shown=$(echo $cflags $libs)
pass "shared consumer: cc app.c $shown; keeps a charge on the server across a reopen"

# ------------------------------------------------ 3. static consumer
slibs=$(pkg-config --static --libs libquota-pg) || fail "pkg-config --static --libs"
# Ours are linked static, libpq shared: libpq.pc's Libs.private names
# static libraries Debian does not ship (libpgcommon.a, libpgport.a), so
# the words it adds for a static libpq are left out.
pq_plain=" $(pkg-config --libs libpq) "
pq_static=" $(pkg-config --static --libs libpq) "
static_libs=
for w in $slibs; do
	case $w in
	-lquota | -lquota-pg)
		static_libs="$static_libs -Wl,-Bstatic $w -Wl,-Bdynamic" ;;
	*)	case $pq_plain in
		*" $w "*) static_libs="$static_libs $w" ;;
		*)	case $pq_static in
			*" $w "*) ;;
			*) static_libs="$static_libs $w" ;;
			esac ;;
		esac ;;
	esac
done
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -o "$tmp/app-static" \
	"$tmp/app.c" $cflags $static_libs >"$tmp/log" 2>&1 ||
	fail "cc app.c $cflags $static_libs"
if readelf -d "$tmp/app-static" | grep -q 'NEEDED.*libquota'; then
	fail "app-static still needs a libquota .so"
fi
env -u LD_LIBRARY_PATH "$tmp/app-static" "$QUOTA_PG_CONNINFO" "static-$$" >"$tmp/log" 2>&1 ||
	fail "app-static did not run"
# shellcheck disable=SC2086
shown=$(echo $cflags $static_libs)
pass "static consumer: cc app.c $shown; needs no libquota .so, runs"

# ------------------------------------------------------- 4. uninstall
domake uninstall PREFIX="$prefix" DESTDIR= || fail "make uninstall PREFIX=$prefix"
left=$(find "$prefix" \( -type f -o -type l \) -print)
[ -z "$left" ] || fail "left after make uninstall: $left"
pass "make uninstall: no file or link of ours remains"

"$MAKE" -C "$root" libquota.pc libquota-pg.pc DESTDIR= >/dev/null 2>&1 || true
echo "check-install-pg: all steps passed"
exit 0
