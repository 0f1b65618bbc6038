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
# Examples that keep their state in a SQLite file get one under a scratch
# directory (never the tree's build/demo.db) as their argument:
#   - sms_gateway is fed examples/sms_gateway.in;
#   - gateway_demo runs twice on a fresh file, then once more on another
#     fresh one: the first run must say it starts fresh, the second that
#     it resumes at day 2, and its figures must go on from the first
#     run's (package units left, balances; its day's package units taken
#     from the units left; the CSV report's local day 2024-11-25, which
#     both days share, grown); the third run must print the first's output
#     again, byte for byte.
# Each run is limited to QUOTA_EXAMPLE_TIMEOUT seconds (default 60).
# There must be at least one example and at least one _bad example.
# Prints a PASS or FAIL line per example; exits 1 if any failed.
set -u
LC_ALL=C
export LC_ALL

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

# figures FILE: "account what value" lines from a gateway_demo output.
#   left N       headline: package units left when the day starts
#   balance0 M   headline: balance when the day starts
#   bought N     morning: units of a package bought
#   used N       the day's table: package units charged (sms + email)
#   end N        packages at end of day: units left
#   balance M    settlement: balance at the end of the day
figures() {
	awk '
	/^  [a-z-]+ +[0-9]+ package units left;/ {
		print $1, "left", $2
		for (i = 1; i < NF; i++)
			if ($i == "balance") { b = $(i + 1); sub(/,$/, "", b) }
		print $1, "balance0", b
	}
	/^morning: [a-z-]+ buys / { print $2, "bought", $(NF - 3) }
	/^packages at end of day:/ { pk = 1; next }
	/^$/ { pk = 0; st = 0 }
	pk && NF >= 5 && $4 == "of" { end[$1] += $3 }
	/^settlement / { st = 1; next }
	st && $3 == "bills" { print $1, "balance", $NF }
	/^[a-z-]+ +(sms|email) +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ / {
		used[$1] += $6
	}
	END {
		for (a in end) print a, "end", end[a]
		for (a in used) print a, "used", used[a]
	}' "$1" | sort
}

# get FIGURES ACCOUNT WHAT: one value of figures(), 0 when absent.
get() {
	awk -v a="$2" -v w="$3" 'BEGIN { v = 0 } $1 == a && $2 == w { v += $3 }
	    END { print v }' "$1"
}

# The CSV rows of the local day 2024-11-25, "category,source,package units".
csv_day2() {
	awk -F, '$1 == "bolt-bank" && $3 ~ /^2024-11-25T/ {
		print $5 "," $6 "," $7, $8 }' "$1" | sort
}

# run_demo PROG: gateway_demo twice on a fresh file, and once more.
run_demo() {
	db=$tmp/demo.db
	rm -f "$db" "$db-wal" "$db-shm"
	for run in 1 2; do
		$timeout_cmd "$1" "$db" >"$tmp/run$run" 2>"$tmp/err"
		st=$?
		[ $st -eq 0 ] || { why="run $run exited $st"; return; }
		grep -q -E 'Sanitizer|runtime error:' "$tmp/err" &&
			{ why="run $run: sanitizer report on stderr"; return; }
	done
	cp "$tmp/run2" "$tmp/out"
	head -n 1 "$tmp/run1" | grep -q "^gateway_demo: starting fresh in $db: day 1 (2024-11-24)" ||
		{ why="run 1 does not say it starts fresh: $(head -n 1 "$tmp/run1")"; return; }
	head -n 1 "$tmp/run2" | grep -q "^gateway_demo: resuming from $db: day 2 (2024-11-25)" ||
		{ why="run 2 does not say it resumes at day 2: $(head -n 1 "$tmp/run2")"; return; }
	figures "$tmp/run1" >"$tmp/fig1"
	figures "$tmp/run2" >"$tmp/fig2"
	for a in acme-shop bolt-bank civic-news; do
		end1=$(get "$tmp/fig1" $a end)
		bal1=$(get "$tmp/fig1" $a balance)
		left2=$(get "$tmp/fig2" $a left)
		bal2=$(get "$tmp/fig2" $a balance0)
		bought2=$(get "$tmp/fig2" $a bought)
		used2=$(get "$tmp/fig2" $a used)
		end2=$(get "$tmp/fig2" $a end)
		[ "$left2" = "$end1" ] ||
			{ why="$a: run 2 starts with $left2 package units left, run 1 ended with $end1"; return; }
		[ "$bal2" = "$bal1" ] ||
			{ why="$a: run 2 starts with balance $bal2, run 1 ended with $bal1"; return; }
		[ $((left2 + bought2 - used2)) -eq "$end2" ] ||
			{ why="$a: run 2: $left2 left + $bought2 bought - $used2 used != $end2 at the end"; return; }
	done
	csv_day2 "$tmp/run1" >"$tmp/csv1"
	csv_day2 "$tmp/run2" >"$tmp/csv2"
	[ -s "$tmp/csv1" ] || { why="run 1's CSV has no row of 2024-11-25"; return; }
	grown=$(join "$tmp/csv1" "$tmp/csv2" | awk '$3 < $2 { bad++ } $3 > $2 { up++ }
	    END { print (bad ? "shrank" : up ? "grown" : "same") }')
	[ "$grown" = grown ] ||
		{ why="run 2's CSV rows of 2024-11-25 did not continue run 1's ($grown)"; return; }
	rm -f "$db" "$db-wal" "$db-shm"
	$timeout_cmd "$1" "$db" >"$tmp/run3" 2>"$tmp/err" ||
		{ why="run 3 (fresh again) exited $?"; return; }
	cmp -s "$tmp/run1" "$tmp/run3" ||
		{ why="run 3 on a fresh file printed other output than run 1"; return; }
}

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

	why=
	if [ "$name" = gateway_demo ]; then
		run_demo "$prog"
		if [ -z "$why" ]; then
			echo "check-examples: PASS $name (exit 0 three times: fresh, resumed at day 2 with the first day's figures, fresh again with the same output)"
		else
			echo "check-examples: FAIL $name: $why"
			echo "---- stdout (first lines):"
			head -n 5 "$tmp/out" 2>/dev/null
			echo "---- stderr (last lines):"
			tail -n 20 "$tmp/err"
			failed=$((failed + 1))
		fi
		continue
	fi
	set --
	case $name in
	sms_gateway) rm -f "$tmp/gw.db"*; set -- "$tmp/gw.db" ;;
	esac
	$timeout_cmd "$prog" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
	st=$?

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
