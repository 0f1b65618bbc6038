#!/bin/sh
# bench-quota-sim.sh QUOTA_SIM GEN LINES DIR
#
# Replays a generated trace of LINES lines (tests/quota_sim_gen.c, 1,000
# accounts over a year) through quota-sim run with tests/quota_sim_bench.plan
# and prints the time and rate; the target (issue 14) is 10,000,000 lines
# in under 10 s.  The trace is written to DIR once and kept.
set -u
q=$1
gen=$2
lines=$3
dir=$4
here=$(cd "$(dirname "$0")" && pwd) || exit 2
mkdir -p "$dir" || exit 2
trace=$dir/trace-$lines.csv
if [ ! -s "$trace" ]; then
	echo "bench-quota-sim: writing $lines lines to $trace"
	"$gen" "$lines" >"$trace.tmp" && mv "$trace.tmp" "$trace" || exit 1
fi
bytes=$(wc -c <"$trace" | tr -d ' ')
start=$(date +%s.%N)
"$q" run -q --csv "$here/quota_sim_bench.plan" "$trace" >"$dir/out.csv" || exit 1
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$lines" -v b="$bytes" 'BEGIN {
	t = e - s
	printf "bench-quota-sim: %d lines (%.0f MB) in %.2f s: %.2f M lines/s, %.0f MB/s", n, b / 1e6, t, n / t / 1e6, b / t / 1e6
	if (n >= 10000000) printf "; target 10,000,000 lines < 10 s: %s", (t * 10000000 / n < 10 ? "met" : "NOT met")
	printf "\n"
}'
