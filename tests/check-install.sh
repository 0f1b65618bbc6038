#!/bin/sh
# check-install.sh - install, consume and uninstall libquota, all under a
# scratch directory (STYLE 15, 16).  No root, no system path is touched.
#
#   1. make install PREFIX=$tmp/usr: every file is where it belongs, the
#      .pc names that prefix, the .so carries its SONAME;
#   2. a consumer built with `pkg-config --cflags --libs libquota` links
#      libquota.so.0 and runs (LD_LIBRARY_PATH);
#   3. the same consumer built with `pkg-config --static --libs` and
#      libquota.a does not need libquota.so at all and runs without it;
#   4. make install DESTDIR=$tmp/stage PREFIX=/opt/q stages under
#      $tmp/stage/opt/q and the staged .pc says /opt/q, not the stage; a
#      consumer builds from the stage with PKG_CONFIG_SYSROOT_DIR;
#   5. make uninstall (both ways) leaves no file or link of ours.
# Prints one PASS line per step; exits 1 on the first failure.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
root=$(cd "$here/.." && pwd) || exit 2
MAKE=${MAKE:-make}
CC=${CC:-cc}
command -v pkg-config >/dev/null 2>&1 || {
	echo "check-install: pkg-config is not installed (tests/install-deps.sh)" >&2
	exit 2
}
command -v readelf >/dev/null 2>&1 || {
	echo "check-install: readelf is not installed (binutils)" >&2
	exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX") || exit 2
keep=${QUOTA_KEEP_TMP:-0}
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "check-install: left $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "check-install: FAIL: $*"
	if [ -s "$tmp/log" ]; then
		echo "---- last output:"
		tail -n 30 "$tmp/log"
	fi
	exit 1
}
pass() {
	echo "check-install: PASS $*"
}

vmajor=$(sed -n 's/^#define QUOTA_VERSION_MAJOR \([0-9]*\).*/\1/p' "$root/include/quota.h")
vminor=$(sed -n 's/^#define QUOTA_VERSION_MINOR \([0-9]*\).*/\1/p' "$root/include/quota.h")
vpatch=$(sed -n 's/^#define QUOTA_VERSION_PATCH \([0-9]*\).*/\1/p' "$root/include/quota.h")
version=$vmajor.$vminor.$vpatch
# The Makefile's ABI number is the SONAME major, not the version major.
abi=$(sed -n 's/^ABI[ \t]*=[ \t]*\([0-9]*\).*/\1/p' "$root/Makefile")
[ -n "$abi" ] || abi=0
soname=libquota.so.$abi
shlib=libquota.so.$abi.$vminor.$vpatch

# What an install must hold, relative to the prefix.
expected() {
	echo lib/libquota.a
	echo "lib/$shlib"
	echo "lib/$soname"
	echo lib/libquota.so
	echo lib/pkgconfig/libquota.pc
	echo include/quota.h
	echo include/quota_store.h
	for m in "$root"/man/*.3; do
		[ -e "$m" ] && echo "share/man/man3/${m##*/}"
	done
	for m in "$root"/man/*.5; do
		[ -e "$m" ] && echo "share/man/man5/${m##*/}"
	done
	for m in "$root"/man/*.7; do
		[ -e "$m" ] && echo "share/man/man7/${m##*/}"
	done
	# The link pages (man/links.sh): one per other name in a NAME section.
	sh "$root/man/links.sh" "$root/man" | while read -r sec name page; do
		echo "share/man/man$sec/$name.$sec"
	done
	for m in "$root"/man/*.1; do
		[ -e "$m" ] && echo "share/man/man1/${m##*/}"
	done
	echo bin/quota-sim # tests/quota_sim.mk
}

# A consumer: uses the API end to end and checks what it gets.
cat >"$tmp/app.c" <<'EOF'
#include <quota.h>

#include <stdio.h>
#include <string.h>

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "app: %s failed (line %d): %s\n", \
				#x, __LINE__,                            \
				ctx ? quota_errmsg(ctx) : "");           \
			return 1;                                        \
		}                                                        \
	} while (0)

int main(void)
{
	quota_ctx *ctx = NULL;
	quota_tariff *t;
	quota_account *a;
	quota_package *p;
	quota_receipt r;
	uint32_t sms;

	CHECK(quota_version_number() == QUOTA_VERSION_NUMBER);
	CHECK(strcmp(quota_strerror(QUOTA_ECAP), "") != 0);
	CHECK(quota_ctx_new(&ctx) == QUOTA_OK);
	CHECK(quota_category_add(ctx, "sms.notify", &sms) == QUOTA_OK);
	CHECK(quota_tariff_new(ctx, "std", &t) == QUOTA_OK);
	CHECK(quota_tariff_add_tier(t, QUOTA_UNLIMITED, 50000) == QUOTA_OK);
	CHECK(quota_account_new(ctx, "acme", &a) == QUOTA_OK);
	CHECK(quota_account_set_tariff(a, sms, t) == QUOTA_OK);
	{
		quota_package_spec spec = {
			.id = "P1",
			.categories = QUOTA_MASK(sms),
			.units = 2,
			.effective_at = 1714521600,
			.expires_at = 1746057600,
		};
		CHECK(quota_package_add(a, &spec, &p) == QUOTA_OK);
	}
	{
		quota_usage u = {.category = sms, .units = 3, .at = 1715000000};
		CHECK(quota_charge(a, &u, &r) == QUOTA_OK);
	}
	CHECK(r.units == 3 && r.package_units == 2 && r.payg_units == 1);
	CHECK(r.payg_cost_micros == 50000);
	CHECK(quota_package_remaining(p) == 0);
	quota_ctx_free(ctx);
	printf("app: libquota %s ok\n", quota_version());
	return 0;
}
EOF

# Run make in the tree; DESTDIR is always given so that one inherited from
# an outer make (MAKEFLAGS) cannot leak in.
domake() {
	"$MAKE" -C "$root" "$@" >"$tmp/log" 2>&1
}

# -------------------------------------------------- 1. install to a prefix
prefix=$tmp/usr
domake install PREFIX="$prefix" DESTDIR= || fail "make install PREFIX=$prefix"
expected | while read -r f; do
	if [ ! -e "$prefix/$f" ]; then
		echo "$f" >>"$tmp/missing"
	fi
done
[ -s "$tmp/missing" ] && fail "not installed under $prefix: $(tr '\n' ' ' <"$tmp/missing")"
[ -L "$prefix/lib/$soname" ] || fail "lib/$soname is not a symlink"
[ -L "$prefix/lib/libquota.so" ] || fail "lib/libquota.so is not a symlink"
cmp -s "$root/include/quota.h" "$prefix/include/quota.h" ||
	fail "installed quota.h differs from include/quota.h"
readelf -d "$prefix/lib/$shlib" | grep -q "SONAME.*\[$soname\]" ||
	fail "$shlib has no SONAME $soname"
pc=$prefix/lib/pkgconfig/libquota.pc
grep -q -x "prefix=$prefix" "$pc" || fail "libquota.pc: prefix is not $prefix: $(grep ^prefix= "$pc")"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig # only ours, never the system's
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
unset PKG_CONFIG_SYSROOT_DIR
pkg-config --exists libquota || fail "pkg-config does not find libquota in $PKG_CONFIG_PATH"
pcver=$(pkg-config --modversion libquota)
[ "$pcver" = "$version" ] || fail "pkg-config --modversion: $pcver, header says $version"
pass "make install PREFIX=$prefix ($(expected | wc -l | tr -d ' ') files, .pc prefix and version $version)"

# ------------------------------------------------ 2. shared consumer
cflags=$(pkg-config --cflags libquota) || fail "pkg-config --cflags"
libs=$(pkg-config --libs libquota) || fail "pkg-config --libs"
# shellcheck disable=SC2086 # word splitting of pkg-config output is wanted
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -o "$tmp/app-shared" \
	"$tmp/app.c" $cflags $libs >"$tmp/log" 2>&1 ||
	fail "cc app.c $cflags $libs"
readelf -d "$tmp/app-shared" | grep -q "NEEDED.*\[$soname\]" ||
	fail "app-shared does not need $soname"
LD_LIBRARY_PATH=$prefix/lib "$tmp/app-shared" >"$tmp/log" 2>&1 ||
	fail "app-shared did not run"
LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/app-shared" | grep -q "$soname => $prefix/lib/$soname" ||
	fail "app-shared does not load $prefix/lib/$soname: $(LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/app-shared" | grep quota)"
# shellcheck disable=SC2086
shown=$(echo $cflags $libs)
pass "shared consumer: cc app.c $shown; runs with $soname from the prefix"

# ------------------------------------------------ 3. static consumer
slibs=$(pkg-config --static --libs libquota) || fail "pkg-config --static --libs"
# libquota.a instead of the .so; Libs.private stay as they are.
static_libs=
for w in $slibs; do
	if [ "$w" = -lquota ]; then
		static_libs="$static_libs -Wl,-Bstatic -lquota -Wl,-Bdynamic"
	else
		static_libs="$static_libs $w"
	fi
done
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -o "$tmp/app-static" \
	"$tmp/app.c" $cflags $static_libs >"$tmp/log" 2>&1 ||
	fail "cc app.c $cflags $static_libs"
if readelf -d "$tmp/app-static" | grep -q 'NEEDED.*libquota'; then
	fail "app-static still needs libquota.so"
fi
env -u LD_LIBRARY_PATH "$tmp/app-static" >"$tmp/log" 2>&1 ||
	fail "app-static did not run"
# shellcheck disable=SC2086
shown=$(echo $cflags $static_libs)
pass "static consumer: cc app.c $shown; needs no libquota.so, runs"

# --------------------------------------- 4. DESTDIR staging for /opt/q
stage=$tmp/stage
sprefix=/opt/q
optq_before=no
[ -e "$sprefix/lib/libquota.a" ] && optq_before=yes
domake install DESTDIR="$stage" PREFIX="$sprefix" ||
	fail "make install DESTDIR=$stage PREFIX=$sprefix"
: >"$tmp/missing"
expected | while read -r f; do
	[ -e "$stage$sprefix/$f" ] || echo "$f" >>"$tmp/missing"
done
[ -s "$tmp/missing" ] && fail "not staged under $stage$sprefix: $(tr '\n' ' ' <"$tmp/missing")"
if [ $optq_before = no ] && [ -e "$sprefix/lib/libquota.a" ]; then
	fail "make install DESTDIR=... wrote to $sprefix itself"
fi
spc=$stage$sprefix/lib/pkgconfig/libquota.pc
grep -q -x "prefix=$sprefix" "$spc" || fail "staged libquota.pc: prefix is not $sprefix"
if grep -q "$stage" "$spc"; then
	fail "staged libquota.pc mentions the stage directory $stage"
fi
if grep -q "$stage" "$stage$sprefix/lib/$shlib"; then
	fail "staged $shlib mentions the stage directory $stage"
fi
# A cross-style consumer of the stage: pkg-config prefixes the sysroot.
scflags=$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$stage$sprefix/lib/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$stage pkg-config --cflags libquota) ||
	fail "pkg-config --cflags on the stage"
slibs=$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$stage$sprefix/lib/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$stage pkg-config --libs libquota) ||
	fail "pkg-config --libs on the stage"
# shellcheck disable=SC2086
"$CC" -std=c11 -o "$tmp/app-stage" "$tmp/app.c" $scflags $slibs \
	>"$tmp/log" 2>&1 || fail "cc app.c $scflags $slibs"
LD_LIBRARY_PATH=$stage$sprefix/lib "$tmp/app-stage" >"$tmp/log" 2>&1 ||
	fail "app-stage did not run"
pass "make install DESTDIR=$stage PREFIX=$sprefix: staged, .pc says prefix=$sprefix"

# ------------------------------------------------------- 5. uninstall
domake uninstall DESTDIR="$stage" PREFIX="$sprefix" ||
	fail "make uninstall DESTDIR=$stage PREFIX=$sprefix"
left=$(find "$stage" \( -type f -o -type l \) -print)
[ -z "$left" ] || fail "left after make uninstall DESTDIR: $left"
domake uninstall PREFIX="$prefix" DESTDIR= || fail "make uninstall PREFIX=$prefix"
left=$(find "$prefix" \( -type f -o -type l \) -print)
[ -z "$left" ] || fail "left after make uninstall: $left"
pass "make uninstall (PREFIX and DESTDIR): no file or link of ours remains"

echo "check-install: all steps passed"
exit 0
