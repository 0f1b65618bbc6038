#!/bin/sh
# check-man.sh SHLIB MANDIR
#
# Every function the shared library (and each library named in the
# environment variable QUOTA_MAN_SHLIBS) exports is listed in the NAME section
# (the .Nm lines before .Nd) of exactly one page in MANDIR (STYLE 22), and:
#   - every quota_* name listed in a NAME section is an exported function
#     (no page for a function that does not exist);
#   - each such name appears in its page's SYNOPSIS as .Fn;
#   - each page has the sections NAME, LIBRARY, SYNOPSIS, DESCRIPTION,
#     RETURN VALUES, ERRORS, EXAMPLES and SEE ALSO;
#   - every .Xr to a libquota page (libquota, libquota-*, quota_*, quota-*),
#     in a page of any section, names a page file that exists in MANDIR;
#   - mandoc -Tlint reports no warning or error (skipped, with a message,
#     if mandoc is not installed; QUOTA_MANLINT=error only fails on errors).
# Prints what is wrong, naming the symbol or page; exits 1 if anything is.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 SHLIB MANDIR" >&2
	exit 2
fi
shlib=$1
mandir=$2
if [ ! -r "$shlib" ]; then
	echo "check-man: cannot read $shlib" >&2
	exit 2
fi
if [ ! -d "$mandir" ]; then
	echo "check-man: $mandir is not a directory" >&2
	exit 2
fi
command -v nm >/dev/null 2>&1 || { echo "check-man: nm not found" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

fail=0
err() {
	echo "check-man: $*"
	fail=1
}

# Cross-references to our own pages (.Xr anywhere on a macro line, as in
# ".Pq Xr libquota-rules 7 .") resolve to a page file in MANDIR.
check_xr() {
	sed -n '/^\./p' "$1" |
		grep -o -E '(^\.|[[:space:]])Xr[[:space:]]+[A-Za-z0-9_.-]+[[:space:]]+[0-9]' |
		awk '{ print $2, $3 }' | sort -u >"$tmp/page.xr"
	while read -r xname xsec; do
		case $xname in
		libquota | libquota-* | quota_* | quota-*)
			[ -e "$mandir/$xname.$xsec" ] ||
				err "${1##*/}: .Xr $xname $xsec: no page $mandir/$xname.$xsec (refer to the page that lists it in NAME)"
			;;
		esac
	done <"$tmp/page.xr"
}

set -- "$mandir"/*.3
if [ ! -e "$1" ]; then
	echo "check-man: FAIL: no *.3 page in $mandir"
	exit 1
fi

# Exported functions (T, W, i), as in check-exports.sh, of SHLIB and of
# the libraries in $QUOTA_MAN_SHLIBS (separate ones documented in the same
# MANDIR: libquota-sqlite, tests/sqlite.mk).
: >"$tmp/nm.out"
for lib in "$shlib" ${QUOTA_MAN_SHLIBS:-}; do
	if ! nm -D --defined-only "$lib" >>"$tmp/nm.out" 2>"$tmp/nm.err"; then
		echo "check-man: nm -D $lib failed:" >&2
		cat "$tmp/nm.err" >&2
		exit 2
	fi
done
awk 'NF >= 3 && ($2 == "T" || $2 == "W" || $2 == "i") { print $3 }' \
	"$tmp/nm.out" | sed 's/@.*//' |
	grep -v -x -E '_init|_fini' | sort -u >"$tmp/exported"

: >"$tmp/names"		# "name page" for every .Nm in a NAME section
for page in "$@"; do
	base=${page##*/}
	# .Nm lines of the NAME section, up to its .Nd.
	awk -v page="$base" '
		/^\.Sh[ \t]+NAME([ \t]|$)/ { inname = 1; next }
		inname && /^\.(Nd|Sh)([ \t]|$)/ { exit }
		inname && /^\.Nm[ \t]/ { print $2, page }
	' "$page" >"$tmp/page.names"
	if [ ! -s "$tmp/page.names" ]; then
		err "$base: no .Nm line in its NAME section"
	fi
	cat "$tmp/page.names" >>"$tmp/names"

	# Sections required by STYLE 22.
	for sec in NAME LIBRARY SYNOPSIS DESCRIPTION "RETURN VALUES" ERRORS \
	    EXAMPLES "SEE ALSO"; do
		grep -q -x "\\.Sh $sec" "$page" ||
			err "$base: no '.Sh $sec' section"
	done

	# Every function of the NAME section has its prototype in SYNOPSIS.
	awk '
		/^\.Sh[ \t]+SYNOPSIS([ \t]|$)/ { on = 1; next }
		on && /^\.Sh[ \t]/ { exit }
		on && /^\.(Fn|Fo)[ \t]/ { print $2 }
	' "$page" | sort -u >"$tmp/page.syn"
	awk '$1 ~ /^quota_/ { print $1 }' "$tmp/page.names" | sort -u |
		comm -23 - "$tmp/page.syn" >"$tmp/page.nosyn"
	while read -r fn; do
		err "$base: $fn is in NAME but has no .Fn in SYNOPSIS"
	done <"$tmp/page.nosyn"

	check_xr "$page"
done

# Pages of the other sections (programs, formats, topics): their
# cross-references too.
for page in "$mandir"/*.1 "$mandir"/*.5 "$mandir"/*.7; do
	[ -e "$page" ] && check_xr "$page"
done

# Each exported function is listed in exactly one NAME section.
sort -u "$tmp/names" >"$tmp/names.sorted"
awk '{ print $1 }' "$tmp/names.sorted" | sort | uniq -d >"$tmp/dups"
while read -r sym; do
	pages=$(awk -v s="$sym" '$1 == s { printf " %s", $2 }' "$tmp/names.sorted")
	err "$sym is listed in the NAME section of several pages:$pages"
done <"$tmp/dups"
awk '{ print $1 }' "$tmp/names.sorted" | sort -u >"$tmp/documented"
comm -23 "$tmp/exported" "$tmp/documented" >"$tmp/undocumented"
while read -r sym; do
	err "$sym is exported by ${shlib##*/} but listed in no NAME section in $mandir"
done <"$tmp/undocumented"
grep '^quota_' "$tmp/documented" | comm -23 - "$tmp/exported" >"$tmp/stale"
while read -r sym; do
	page=$(awk -v s="$sym" '$1 == s { print $2; exit }' "$tmp/names.sorted")
	err "$page: $sym is listed in NAME but not exported by ${shlib##*/}"
done <"$tmp/stale"

# mandoc's linter, when it is installed.
if command -v mandoc >/dev/null 2>&1; then
	level=${QUOTA_MANLINT:-warning}
	# Programs (1), file formats (5) and topics (7) are linted too.
	set -- "$@" $(ls "$mandir"/*.1 "$mandir"/*.5 "$mandir"/*.7 2>/dev/null)
	mandoc -Tlint -W "$level" "$@" >"$tmp/lint" 2>&1
	st=$?
	if [ $st -ne 0 ]; then
		sed 's/^/  /' "$tmp/lint"
		err "mandoc -Tlint -W $level reported problems (exit $st)"
	else
		echo "check-man: mandoc -Tlint -W $level: clean"
	fi
else
	echo "check-man: SKIP lint: mandoc is not installed (apt-get install mandoc)"
fi

nsym=$(wc -l <"$tmp/exported" | tr -d ' ')
if [ $fail -ne 0 ]; then
	echo "check-man: FAIL"
	exit 1
fi
echo "check-man: PASS ($nsym exported functions documented in $# pages)"
exit 0
