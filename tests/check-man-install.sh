#!/bin/sh
# check-man-install.sh SHLIB
#
# The manual as a user reaches it: installed with `make install-man
# PREFIX=$tmp/usr` (what `make install` installs of it) and read with man(1)
# from that prefix only (man -M $tmp/usr/share/man).  No root, no system
# path is touched.
#
#   1. every function SHLIB and the libraries in $QUOTA_MAN_SHLIBS export
#      (libquota-sqlite, libquota-pg: tests/sqlite.mk, tests/pg.mk) is found
#      by `man -w 3 NAME` (man-db) under the prefix, and `man 3 NAME`
#      renders a page that names it, with nothing on standard error;
#      mandoc's man (mman), when installed, finds it too;
#   2. every page named in QUOTA_MAN_PAGES (NAME.SECTION words: the
#      overview, the rules, file formats and programs' pages such as
#      quota-sim.1) is installed as a page of its own and `man SECTION NAME`
#      finds and renders it; every installed page file is found by its name;
#   3. the LIBRARY line of every page renders as libquota (libquota-sqlite,
#      libquota-pg) under man-db (groff) and under mandoc, never as another
#      system's library: mandoc's .Lb libquota prints NetBSD's "Disk Quota
#      Access and Control Library";
#   4. no installed page names a file outside the installed product: a file
#      of the source tree (by its path, or by its name when that has a
#      suffix: file_store.c, with-pg.sh, DESIGN.md), a header that is not
#      in include/ (.In), a relative path (.Pa dir/file) or a scratch or
#      build directory; every rule a page cites (R1...) is stated in the
#      installed libquota-rules(7).
# Needs man-db (tests/install-deps.sh installs it).  Prints what is wrong,
# naming the page or symbol; exits 1 if anything is, 2 if it cannot run.
set -u

if [ $# -ne 1 ] || [ ! -r "$1" ]; then
	echo "usage: $0 SHLIB (a readable shared library)" >&2
	exit 2
fi
shlib=$1
here=$(cd "$(dirname "$0")" && pwd) || exit 2
root=$(cd "$here/.." && pwd) || exit 2
MAKE=${MAKE:-make}
pages=${QUOTA_MAN_PAGES:-libquota.3 libquota-rules.7}

# man-db, not another man(1): its -w and its .so handling are what is tested.
if ! man --version 2>/dev/null | grep -q '^man '; then
	echo "check-man-install: man-db's man is not installed (apt-get install man-db; tests/install-deps.sh)" >&2
	exit 2
fi
command -v nm >/dev/null 2>&1 || { echo "check-man-install: nm not found" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man-install.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

fail=0
err() {
	echo "check-man-install: $*"
	fail=1
}

# Only the prefix's pages, formatted plainly, never paged; no sandbox
# (man-db's seccomp filter cannot be loaded in some containers).  A UTF-8
# locale as a user's terminal has, so that the pages' CJK examples render;
# without one, groff's warnings about those characters are not counted.
unset MANPATH MANOPT MANSECT MANROFFOPT MAN_KEEP_FORMATTING LANG LANGUAGE
LC_ALL=C
for l in C.UTF-8 C.utf8 en_US.UTF-8 en_US.utf8; do
	if locale -a 2>/dev/null | grep -q -x "$l"; then
		LC_ALL=$l
		break
	fi
done
MANPAGER=cat PAGER=cat MANWIDTH=80 MAN_DISABLE_SECCOMP=1
export MANPAGER PAGER MANWIDTH LC_ALL MAN_DISABLE_SECCOMP
bs=$(printf '\b')
plain() { sed "s/.$bs//g"; }
# man's standard error, less what only a locale without UTF-8 causes.
manerr() {
	if [ "$LC_ALL" = C ]; then
		grep -v "warning: can't find special character" "$1"
	else
		cat "$1"
	fi
}

# ------------------------------------------------------------- install
prefix=$tmp/usr
mandir=$prefix/share/man
if ! "$MAKE" -C "$root" install-man PREFIX="$prefix" DESTDIR= >"$tmp/log" 2>&1; then
	echo "check-man-install: FAIL: make install-man PREFIX=$prefix"
	tail -n 30 "$tmp/log"
	exit 1
fi
[ -d "$mandir" ] || { echo "check-man-install: FAIL: no $mandir"; exit 1; }

# ------------------------------------------------ 1. every exported function
: >"$tmp/nm.out"
for lib in "$shlib" ${QUOTA_MAN_SHLIBS:-}; do
	nm -D --defined-only "$lib" >>"$tmp/nm.out" 2>/dev/null || {
		echo "check-man-install: nm -D $lib failed" >&2
		exit 2
	}
done
awk 'NF >= 3 && ($2 == "T" || $2 == "W" || $2 == "i") { print $3 }' \
	"$tmp/nm.out" | sed 's/@.*//' |
	grep -v -x -E '_init|_fini' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || err "no exported function in $shlib"

mman=
if command -v mman >/dev/null 2>&1 && command -v makewhatis >/dev/null 2>&1; then
	# mandoc's man reads its own index; a packager builds it the same way.
	makewhatis "$mandir" >/dev/null 2>&1 && mman=mman
fi
nsym=0
while read -r sym; do
	nsym=$((nsym + 1))
	where=$(man -M "$mandir" -w 3 "$sym" 2>/dev/null | head -n 1)
	case $where in
	"$mandir"/man3/*) ;;
	"") err "$sym: man -M $mandir -w 3 $sym finds no page"; continue ;;
	*) err "$sym: man -w finds $where, not a page under $mandir/man3"; continue ;;
	esac
	man -M "$mandir" 3 "$sym" 2>"$tmp/stderr" | plain >"$tmp/out"
	manerr "$tmp/stderr" >"$tmp/stderr2"
	if [ -s "$tmp/stderr2" ]; then
		err "$sym: man 3 $sym says: $(head -n 3 "$tmp/stderr2" | tr '\n' ' ')"
	elif ! grep -q -w -F "$sym" "$tmp/out"; then
		err "$sym: man 3 $sym renders ${where##*/}, which does not name $sym"
	fi
	if [ -n "$mman" ]; then
		w=$($mman -M "$mandir" -w 3 "$sym" 2>/dev/null | head -n 1)
		case $w in
		"$mandir"/man3/*) ;;
		*) err "$sym: mman -M $mandir -w 3 $sym (mandoc) finds ${w:-no page}" ;;
		esac
	fi
done <"$tmp/exported"
echo "check-man-install: $nsym exported functions: man -w and man 3 NAME checked${mman:+ (and mandoc's mman -w)}"

# ---------------------------------------- 2. named pages and every page file
for p in $pages; do
	name=${p%.*}
	sec=${p##*.}
	if [ ! -f "$mandir/man$sec/$p" ]; then
		err "$p: not installed as $mandir/man$sec/$p"
		continue
	fi
	if head -n 1 "$mandir/man$sec/$p" | grep -q '^\.so[ \t]'; then
		err "$p: installed as a link (.so), not a page of its own"
	fi
	where=$(man -M "$mandir" -w "$sec" "$name" 2>/dev/null | head -n 1)
	[ "$where" = "$mandir/man$sec/$p" ] ||
		err "$p: man -w $sec $name finds ${where:-no page}, not $mandir/man$sec/$p"
	man -M "$mandir" "$sec" "$name" 2>"$tmp/stderr" | plain >"$tmp/out"
	manerr "$tmp/stderr" >"$tmp/stderr2"
	if [ -s "$tmp/stderr2" ]; then
		err "$p: man $sec $name says: $(head -n 3 "$tmp/stderr2" | tr '\n' ' ')"
	elif ! grep -q -i -F "$name" "$tmp/out"; then
		err "$p: man $sec $name does not render a page naming $name"
	fi
done
npages=0
for f in "$mandir"/man*/*; do
	[ -f "$f" ] || continue
	case ${f##*/} in mandoc.db | index.db) continue ;; esac
	npages=$((npages + 1))
	base=${f##*/}
	sec=${base##*.}
	name=${base%.*}
	man -M "$mandir" -w "$sec" "$name" >/dev/null 2>&1 ||
		err "${f#"$mandir"/}: man -w $sec $name finds nothing"
done
echo "check-man-install: $npages installed page files found by name; named pages: $pages"

# Real pages (not .so links), for 3 and 4.
for f in "$mandir"/man*/*; do
	[ -f "$f" ] || continue
	case ${f##*/} in mandoc.db | index.db) continue ;; esac
	head -n 1 "$f" | grep -q '^\.so[ \t]' || echo "$f"
done >"$tmp/real"

# ------------------------------------------------------ 3. the LIBRARY line
# The first line of the LIBRARY section, as rendered.
libline() {
	awk '/^LIBRARY$/ { on = 1; next } on && NF { sub(/^[ \t]+/, ""); print; exit }'
}
while read -r f; do
	base=${f##*/}
	grep -q '^\.Sh LIBRARY' "$f" || continue
	man -M "$mandir" -l "$f" 2>/dev/null | plain >"$tmp/groff"
	for how in groff mandoc; do
		if [ $how = mandoc ]; then
			command -v mandoc >/dev/null 2>&1 || continue
			(cd "$mandir" && mandoc -Tascii "$f") 2>/dev/null | plain >"$tmp/mandoc"
		fi
		line=$(libline <"$tmp/$how")
		case $line in
		libquota | libquota[\ -]*) ;;
		*) err "$base: LIBRARY renders under $how as '$line', not libquota" ;;
		esac
		if grep -q -i 'Disk Quota' "$tmp/$how"; then
			err "$base: renders another system's library under $how: $(grep -i -m 1 'Disk Quota' "$tmp/$how")"
		fi
	done
done <"$tmp/real"

# ------------------------------------ 4. no file outside the installed product
# Files of the source tree that are not installed: their paths, and their
# names when those have a suffix (names such as 'truncated', a fuzz corpus
# file, are words of the text too).
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$root" ls-files >"$tmp/tree"
else
	(cd "$root" && find . -path ./build -prune -o -path ./.git -prune -o \
		-type f -print | sed 's|^\./||') >"$tmp/tree"
fi
# Installed: the manual, the public headers, and the libraries' files.
{
	(cd "$prefix" && find . -type f -o -type l) | sed 's|.*/||'
	(cd "$root/include" && ls)
} | sort -u >"$tmp/installed"
{
	cat "$tmp/tree"
	sed 's|.*/||' "$tmp/tree" | grep -E '\.[A-Za-z0-9]+$|^Makefile$'
	# Files of the project that are not in the tree a user builds.
	printf '%s\n' DESIGN.md STYLE.md
} | sort -u | comm -23 - "$tmp/installed" >"$tmp/outside"
while read -r f; do
	base=${f##*/}
	# Text of the page without its comment lines.
	grep -v '^\.\\"' "$f" >"$tmp/src"
	grep -n -o -w -F -f "$tmp/outside" "$tmp/src" >"$tmp/hits"
	while IFS=: read -r ln what; do
		err "$base:$ln: names $what, a file of the source tree that is not installed"
	done <"$tmp/hits"
	grep -n -E 'DESIGN|(^|[^A-Za-z0-9_])(/tmp/|/work/|shared/|build/)' "$tmp/src" >"$tmp/hits"
	while IFS=: read -r ln what; do
		err "$base:$ln: points outside the product: $what"
	done <"$tmp/hits"
	# .In headers are installed; .Pa paths are not relative to a tree.
	sed -n 's/^\.In[ \t][ \t]*\([^ \t]*\).*/\1/p' "$tmp/src" | while read -r h; do
		[ -e "$root/include/$h" ] ||
			echo "check-man-install: $base: .In $h is not a public header (include/)"
	done >>"$tmp/errs"
	grep -o -E '(^\.|[[:space:]])Pa[[:space:]]+[^[:space:]]+' "$tmp/src" | awk '{ print $2 }' |
		while read -r pa; do
			case $pa in
			/*) ;;
			*/*) echo "check-man-install: $base: .Pa $pa: a path relative to a tree the user does not have" ;;
			esac
		done >>"$tmp/errs"
	# Rules cited must be stated in libquota-rules(7).
	grep -o -E '(^|[^A-Za-z0-9_])R[0-9]+([^0-9]|$)' "$tmp/src" |
		sed 's/[^R0-9]//g' >>"$tmp/cited"
done <"$tmp/real"
if [ -s "$tmp/errs" ]; then
	cat "$tmp/errs"
	fail=1
fi
rules=$mandir/man7/libquota-rules.7
if [ -s "$tmp/cited" ]; then
	if [ ! -f "$rules" ]; then
		err "pages cite rules (R1...) but $rules is not installed"
	else
		sort -u "$tmp/cited" | while read -r r; do
			grep -q -x "\\.It $r" "$rules" ||
				echo "check-man-install: rule $r is cited but not stated in libquota-rules(7)"
		done >"$tmp/errs"
		if [ -s "$tmp/errs" ]; then
			cat "$tmp/errs"
			fail=1
		fi
	fi
fi
echo "check-man-install: $(wc -l <"$tmp/real" | tr -d ' ') pages: LIBRARY lines and references to files checked"

if [ $fail -ne 0 ]; then
	echo "check-man-install: FAIL"
	exit 1
fi
echo "check-man-install: PASS"
exit 0
