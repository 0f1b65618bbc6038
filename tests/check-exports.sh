#!/bin/sh
# check-exports.sh SHLIB HEADER
#
# The functions a shared library exports must be exactly the functions its
# public header declares with QUOTA_API (STYLE 13): nothing private leaks
# out (everything is built with -fvisibility=hidden), nothing declared is
# missing.  Exported data objects are reported too: the API has none.
# Prints both differences; exits 1 if there is any.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 SHLIB HEADER" >&2
	exit 2
fi
shlib=$1
header=$2
for f in "$shlib" "$header"; do
	if [ ! -r "$f" ]; then
		echo "check-exports: cannot read $f" >&2
		exit 2
	fi
done
command -v nm >/dev/null 2>&1 || { echo "check-exports: nm not found" >&2; exit 2; }
command -v perl >/dev/null 2>&1 || { echo "check-exports: perl not found" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-exports.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Dynamic symbols defined by the library.  T/W/i are functions (text, weak,
# indirect); the linker's own markers are not ours.
if ! nm -D --defined-only "$shlib" >"$tmp/nm.out" 2>"$tmp/nm.err"; then
	echo "check-exports: nm -D $shlib failed:" >&2
	cat "$tmp/nm.err" >&2
	exit 2
fi
awk 'NF >= 3 && ($2 == "T" || $2 == "W" || $2 == "i") { print $3 }' \
	"$tmp/nm.out" | sed 's/@.*//' |
	grep -v -x -E '_init|_fini' | sort -u >"$tmp/exported"
awk 'NF >= 3 && !($2 == "T" || $2 == "W" || $2 == "i") { print $2, $3 }' \
	"$tmp/nm.out" |
	grep -v -E ' (_edata|_end|__bss_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_)$' \
	>"$tmp/data" || true

# Functions declared QUOTA_API in the header: drop comments and
# preprocessor lines (with their continuations), then take the identifier
# just before the '(' that follows each QUOTA_API.
perl -0777 -ne '
	s{/\*.*?\*/}{ }gs;
	s{//[^\n]*}{}g;
	s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
	while (/\bQUOTA_API\b([^;{}]*?)\b([A-Za-z_]\w*)\s*\(/g) {
		print "$2\n";
	}
' "$header" | sort -u >"$tmp/declared"

if [ ! -s "$tmp/declared" ]; then
	echo "check-exports: no QUOTA_API function found in $header" >&2
	exit 2
fi

fail=0
comm -23 "$tmp/exported" "$tmp/declared" >"$tmp/extra"
comm -13 "$tmp/exported" "$tmp/declared" >"$tmp/missing"
if [ -s "$tmp/extra" ]; then
	echo "check-exports: exported by $shlib but not declared QUOTA_API in $header:"
	sed 's/^/  + /' "$tmp/extra"
	fail=1
fi
if [ -s "$tmp/missing" ]; then
	echo "check-exports: declared QUOTA_API in $header but not exported by $shlib:"
	sed 's/^/  - /' "$tmp/missing"
	fail=1
fi
if [ -s "$tmp/data" ]; then
	echo "check-exports: $shlib exports data symbols (the API has none):"
	sed 's/^/  ! /' "$tmp/data"
	fail=1
fi
n=$(wc -l <"$tmp/declared" | tr -d ' ')
if [ $fail -ne 0 ]; then
	echo "check-exports: FAIL"
	exit 1
fi
echo "check-exports: PASS ($n functions exported = declared)"
exit 0
