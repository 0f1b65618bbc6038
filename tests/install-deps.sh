#!/bin/sh
# Install what `make check` needs, only when it is missing (Debian).
#   install-deps.sh        everything `make check` uses
#   install-deps.sh demo   what `make demo` needs besides gcc and make:
#                          SQLite's development files and pkg-config
set -e
need=""
pkg-config --exists sqlite3 2>/dev/null || need="$need libsqlite3-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if [ "${1:-}" != demo ]; then
	pkg-config --exists check 2>/dev/null || need="$need check"
	command -v clang >/dev/null 2>&1 || need="$need clang"
	command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
	command -v c++ >/dev/null 2>&1 || need="$need g++"
	command -v mandoc >/dev/null 2>&1 || need="$need mandoc"
	# R26 time zones: tests/check_zone.c and the TZif fuzz seeds read the
	# system's tz database.
	[ -e /usr/share/zoneinfo/Europe/Berlin ] || need="$need tzdata"
	# check-man reads the installed manual with man-db's man (-w, .so).
	man --version 2>/dev/null | grep -q '^man ' || need="$need man-db"
	command -v python3 >/dev/null 2>&1 || need="$need python3"
	# The Python module (tests/python.mk): pip installs it offline with
	# the system interpreter's setuptools (and wheel, which setuptools
	# before 70.1 builds wheels with).
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"$py" -m pip --version >/dev/null 2>&1 || need="$need python3-pip"
	"$py" -c 'import setuptools' >/dev/null 2>&1 || need="$need python3-setuptools"
	"$py" -c 'import wheel' >/dev/null 2>&1 || need="$need python3-wheel"
	# libquota-pg and its tests (tests/pg.mk): libpq's development files
	# and a server the tests start themselves (tests/pg/with-pg.sh).
	pkg-config --exists libpq 2>/dev/null || need="$need libpq-dev"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| need="$need postgresql"
	[ -d /usr/lib/llvm-14/lib/clang ] && ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 \
		|| need="$need libclang-rt-dev"
	for extra in $QUOTA_EXTRA_DEPS; do
		case "$extra" in
		cmd:*) c=${extra#cmd:}; c=${c%%=*}; p=${extra#*=}
		       command -v "$c" >/dev/null 2>&1 || need="$need $p" ;;
		file:*) f=${extra#file:}; f=${f%%=*}; p=${extra#*=}
		       [ -e "$f" ] || need="$need $p" ;;
		esac
	done
fi
[ -z "$need" ] && exit 0
echo "install-deps: installing$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# A package named NAME:ARCH (tests/neon.mk: check:arm64) is for another
# architecture: dpkg is told about it once, before apt-get update fetches
# its package lists.  --no-remove: such a package must go in beside the
# native one, never replace it.
for p in $need; do
	case "$p" in
	*:*) a=${p#*:}
	     [ "$a" = "$(dpkg --print-architecture)" ] \
		     || dpkg --print-foreign-architectures | grep -qx "$a" \
		     || $SUDO dpkg --add-architecture "$a" ;;
	esac
done
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-remove $need >/dev/null
