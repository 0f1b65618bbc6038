#!/bin/sh
# check-examples.sh EXDIR
#
# Runs every example program in EXDIR (examples/NAME.c is built to
# EXDIR/NAME) and checks how it ends (STYLE 21):
#   - a program whose name contains "_bad" is fed bad input and must fail
#     cleanly: exit status 2, an error message on stderr, no crash (no
#     signal, no sanitizer report);
#   - every other program must exit 0, with no sanitizer report.
# Standard input is examples/NAME.in when that file exists, else /dev/null.
# Each run is limited to QUOTA_EXAMPLE_TIMEOUT seconds (default 60).
# There must be at least one example and at least one _bad example.
# Prints a PASS or FAIL line per example; exits 1 if any failed.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 EXDIR" >&2
	exit 2
fi
exdir=$1
here=$(cd "$(dirname "$0")" && pwd) || exit 2
srcdir=$here/../examples
limit=${QUOTA_EXAMPLE_TIMEOUT:-60}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-examples.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

timeout_cmd=
command -v timeout >/dev/null 2>&1 && timeout_cmd="timeout $limit"

n=0
nbad=0
failed=0
for prog in "$exdir"/*; do
	[ -f "$prog" ] && [ -x "$prog" ] || continue
	name=${prog##*/}
	case $name in
	*.o | *.d | *.so | *.a) continue ;;
	esac
	# A binary left over from an example whose source is gone.
	if [ -d "$srcdir" ] && [ ! -f "$srcdir/$name.c" ]; then
		echo "check-examples: skip $name (no examples/$name.c)"
		continue
	fi
	n=$((n + 1))
	case $name in
	*_bad*) nbad=$((nbad + 1)) ;;
	esac
	input=/dev/null
	[ -f "$srcdir/$name.in" ] && input=$srcdir/$name.in

	$timeout_cmd "$prog" <"$input" >"$tmp/out" 2>"$tmp/err"
	st=$?

	why=
	if grep -q -E 'Sanitizer|runtime error:' "$tmp/err"; then
		why="sanitizer report on stderr"
	elif [ -n "$timeout_cmd" ] && [ $st -eq 124 ]; then
		why="still running after ${limit}s"
	elif [ $st -gt 128 ]; then
		why="killed by signal $((st - 128))"
	else
		case $name in
		*_bad*)
			if [ $st -ne 2 ]; then
				why="bad-input example exited $st, expected 2"
			elif [ ! -s "$tmp/err" ]; then
				why="bad-input example printed no error message on stderr"
			fi
			;;
		*)
			[ $st -eq 0 ] || why="exited $st, expected 0"
			;;
		esac
	fi

	if [ -n "$why" ]; then
		echo "check-examples: FAIL $name: $why"
		echo "---- stdout (last lines):"
		tail -n 10 "$tmp/out"
		echo "---- stderr (last lines):"
		tail -n 20 "$tmp/err"
		failed=$((failed + 1))
	else
		case $name in
		*_bad*) echo "check-examples: PASS $name (exit 2: $(head -n 1 "$tmp/err"))" ;;
		*) echo "check-examples: PASS $name (exit 0)" ;;
		esac
	fi
done

if [ $n -eq 0 ]; then
	echo "check-examples: FAIL: no example program in $exdir"
	exit 1
fi
if [ $nbad -eq 0 ]; then
	echo "check-examples: FAIL: no *_bad* example (STYLE 21 wants one fed bad input)"
	failed=$((failed + 1))
fi
if [ $failed -ne 0 ]; then
	echo "check-examples: FAIL ($failed of $n)"
	exit 1
fi
echo "check-examples: PASS ($n examples, $nbad with bad input)"
exit 0
