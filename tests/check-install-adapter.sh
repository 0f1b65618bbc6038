# shellcheck shell=sh disable=SC2154
# check-install-adapter.sh - the steps check-install-sqlite.sh and
# check-install-pg.sh share: install, consume and uninstall a storage
# adapter's library, libquota-ADAPTER, under a scratch prefix, as
# check-install.sh does for libquota.  No root, no system path is touched.
#
# Not run but sourced, by a script that has set
#   here          its directory (tests/)
#   adapter       the adapter's name: sqlite, pg.  Its library is
#                 libquota-$adapter (.a, .so, .pc), its header
#                 quota_$adapter.h, its page quota_$adapter(3); every
#                 line printed starts "check-install-$adapter:"
#   dep           pkg-config's name for the library it is built on
#                 (sqlite3, libpq)
#   dep_dev       the package with dep's development files (libsqlite3-dev)
#   dep_need      the name the .so must NEED dep by (libsqlite3, libpq)
#   man_optional  1: quota_$adapter(3) is expected only once man/ has it
#   dep_shared    1: the static consumer links dep shared (the words
#                 `pkg-config --static` adds for dep are left out)
# (shellcheck, reading this file alone, cannot see those: SC2154 is off)
# and then calls, in this order:
#   adapter_require           pkg-config and dep are there
#   adapter_tmp               makes $tmp (removed on exit, left there
#                             with QUOTA_KEEP_TMP=1)
#   ... the script writes its consumer to $tmp/app.c: it takes the
#   arguments given below, keeps a charge and finds it again after a
#   reopen, exits 0 when all went as it expects
#   adapter_install           1. make install PREFIX=$tmp/usr
#   adapter_shared WHAT ARG.. 2. the consumer, shared, runs with ARG..;
#                                WHAT says what it checked
#   adapter_static ARG..      3. the consumer, static, runs with ARG..
#   adapter_uninstall         4. make uninstall
#   adapter_done              the last line; exits 0
# Each step prints its PASS line; a failure prints FAIL and the last
# output and exits 1.

root=$(cd "$here/.." && pwd) || exit 2
MAKE=${MAKE:-make}
CC=${CC:-cc}
me=check-install-$adapter
lib=libquota-$adapter

vminor=$(sed -n 's/^#define QUOTA_VERSION_MINOR \([0-9]*\).*/\1/p' "$root/include/quota.h")
vpatch=$(sed -n 's/^#define QUOTA_VERSION_PATCH \([0-9]*\).*/\1/p' "$root/include/quota.h")
abi=$(sed -n 's/^ABI[ \t]*=[ \t]*\([0-9]*\).*/\1/p' "$root/Makefile")
[ -n "$abi" ] || abi=0
soname=$lib.so.$abi
shlib=$lib.so.$abi.$vminor.$vpatch

# The tools, and the library the adapter is built on: without its .pc
# neither the adapter nor a consumer can be built.
adapter_require() {
	command -v pkg-config >/dev/null 2>&1 || {
		echo "$me: pkg-config is not installed" >&2
		exit 2
	}
	pkg-config --exists "$dep" || {
		echo "$me: FAIL: no $dep for pkg-config" \
		     "($dep_dev: tests/install-deps.sh)"
		exit 1
	}
}

cleanup() {
	if [ "${QUOTA_KEEP_TMP:-0}" = 1 ]; then
		echo "$me: left $tmp"
	else
		rm -rf "$tmp"
	fi
}

adapter_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX") || exit 2
	trap cleanup EXIT
	trap 'exit 1' INT TERM
}

fail() {
	echo "$me: FAIL: $*"
	if [ -s "$tmp/log" ]; then
		echo "---- last output:"
		tail -n 30 "$tmp/log"
	fi
	exit 1
}
pass() {
	echo "$me: PASS $*"
}

# What an install must hold of the adapter, relative to the prefix.
expected() {
	echo "lib/$lib.a"
	echo "lib/$shlib"
	echo "lib/$soname"
	echo "lib/$lib.so"
	echo "lib/pkgconfig/$lib.pc"
	echo "include/quota_$adapter.h"
	if [ "${man_optional:-0}" != 1 ] || [ -e "$root/man/quota_$adapter.3" ]; then
		echo "share/man/man3/quota_$adapter.3"
	fi
	# Its link pages (man/links.sh): quota_${adapter}_open.3 and the others.
	sh "$root/man/links.sh" "$root/man" |
		awk -v page="quota_$adapter" \
		    '$3 == page { print "share/man/man" $1 "/" $2 "." $1 }'
}

domake() {
	"$MAKE" -C "$root" "$@" >"$tmp/log" 2>&1
}

# -------------------------------------------------- 1. install to a prefix
# Every file of the adapter is there, the .so carries its SONAME and
# needs libquota.so and dep, the .pc names the prefix and pkg-config
# finds it there.
adapter_install() {
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
	for need in "libquota.so.$abi" "$dep_need"; do
		readelf -d "$prefix/lib/$shlib" | grep -q "NEEDED.*\[$need" ||
			fail "$shlib does not need $need"
	done
	grep -q -x "prefix=$prefix" "$prefix/lib/pkgconfig/$lib.pc" ||
		fail "$lib.pc: prefix is not $prefix"
	# Ours and the system's (for $dep.pc), ours first.
	sys=$(pkg-config --variable pc_path pkg-config)
	PKG_CONFIG_PATH=$prefix/lib/pkgconfig
	PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig:$sys
	export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
	unset PKG_CONFIG_SYSROOT_DIR
	pkg-config --exists "$lib" ||
		fail "pkg-config does not find $lib in $PKG_CONFIG_PATH"
	pass "make install PREFIX=$prefix ($(expected | wc -l | tr -d ' ') files of $lib)"
}

# ------------------------------------------------ 2. shared consumer
# Built with `pkg-config --cflags --libs`, it needs the adapter's .so,
# loads it from the prefix and runs with the arguments given.
adapter_shared() {
	what=$1
	shift
	cflags=$(pkg-config --cflags "$lib") || fail "pkg-config --cflags"
	libs=$(pkg-config --libs "$lib") || fail "pkg-config --libs"
	# shellcheck disable=SC2086
	"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -o "$tmp/app-shared" \
		"$tmp/app.c" $cflags $libs >"$tmp/log" 2>&1 ||
		fail "cc app.c $cflags $libs"
	readelf -d "$tmp/app-shared" | grep -q "NEEDED.*\[$soname\]" ||
		fail "app-shared does not need $soname"
	LD_LIBRARY_PATH=$prefix/lib "$tmp/app-shared" "$@" >"$tmp/log" 2>&1 ||
		fail "app-shared did not run"
	LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/app-shared" | grep -q "$soname => $prefix/lib/$soname" ||
		fail "app-shared does not load $prefix/lib/$soname"
	# shellcheck disable=SC2086,SC2116
	shown=$(echo $cflags $libs)
	pass "shared consumer: cc app.c $shown; $what"
}

# ------------------------------------------------ 3. static consumer
# Built with `pkg-config --static --libs` (and step 2's cflags) and both
# .a (libquota's and the adapter's), it needs no libquota .so and runs
# without one.
adapter_static() {
	slibs=$(pkg-config --static --libs "$lib") || fail "pkg-config --static --libs"
	if [ "${dep_shared:-0}" = 1 ]; then
		dep_plain=" $(pkg-config --libs "$dep") "
		dep_static=" $(pkg-config --static --libs "$dep") "
	else
		dep_plain=
		dep_static=
	fi
	static_libs=
	for w in $slibs; do
		case $w in
		-lquota | -lquota-"$adapter")
			static_libs="$static_libs -Wl,-Bstatic $w -Wl,-Bdynamic" ;;
		*)	case $dep_plain in
			*" $w "*) static_libs="$static_libs $w" ;;
			*)	case $dep_static in
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
	env -u LD_LIBRARY_PATH "$tmp/app-static" "$@" >"$tmp/log" 2>&1 ||
		fail "app-static did not run"
	# shellcheck disable=SC2086,SC2116
	shown=$(echo $cflags $static_libs)
	pass "static consumer: cc app.c $shown; needs no libquota .so, runs"
}

# ------------------------------------------------------- 4. uninstall
adapter_uninstall() {
	domake uninstall PREFIX="$prefix" DESTDIR= || fail "make uninstall PREFIX=$prefix"
	left=$(find "$prefix" \( -type f -o -type l \) -print)
	[ -z "$left" ] || fail "left after make uninstall: $left"
	pass "make uninstall: no file or link of ours remains"
}

adapter_done() {
	echo "$me: all steps passed"
	exit 0
}
