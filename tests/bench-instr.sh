#!/bin/sh
# tests/bench-instr.sh - instructions, counted by valgrind, of what make
# bench times (make bench-instr, part of make bench): SMS counting a byte
# per class, the library's counter and main's before issue 16
# (tests/bench_sms.c with QUOTA_BENCH_SMS_COUNT), a plain charge and
# a reserve + commit pair with no store and with a no-op one
# (tests/bench.c with QUOTA_BENCH_INSTR, §5, issue 10), and a late report
# and a keyed charge against a plain charge (issue 16), each also with a
# no-op store against itself with none (issue 10).  The
# times of make bench move with the machine's load, by half on some days;
# these counts do not (the same binary gives the same count), so a change
# can be judged by them where the times cannot tell.  Each figure is a run
# doing the work less a run doing none of it, the same set-up.
#
#   sh tests/bench-instr.sh BENCH_SMS BENCH
set -eu
sms=$1
bench=$2
command -v valgrind >/dev/null || {
	echo "bench-instr: no valgrind (tests/install-deps.sh installs it)" >&2
	exit 1
}

# instructions of a command (callgrind's total; its stdout to $out); a
# command that fails stops the script
out=$(mktemp)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
trap 'exit 130' INT TERM HUP
instr() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		--log-file="$log" "$@" >"$out" ||
		{ cat "$log" >&2; echo "bench-instr: $* failed" >&2; exit 1; }
	n=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$log")
	[ -n "$n" ] || { echo "bench-instr: $* gave no count" >&2; exit 1; }
	echo "$n"
}

REPS=10
echo "bench-instr: instructions (valgrind), the same in every run of one build"
echo "SMS: each class's 1,000 messages counted $REPS times, instructions a byte"
printf '  %-13s %8s %8s %8s\n' class lib main "x main"
for c in gsm gsm_ext gsm_rare cjk cyr_greek emoji clusters mixed_heldout; do
	z=$(QUOTA_BENCH_SMS_COUNT=$c:0:lib instr "$sms")
	l=$(QUOTA_BENCH_SMS_COUNT=$c:$REPS:lib instr "$sms")
	bytes=$(sed -n 's/^\([0-9]*\) bytes.*/\1/p' "$out")
	[ -n "$bytes" ] && [ "$bytes" -gt 0 ] ||
		{ echo "bench-instr: $sms counted no bytes of $c" >&2; exit 1; }
	m=$(QUOTA_BENCH_SMS_COUNT=$c:$REPS:main instr "$sms")
	awk -v c="$c" -v z="$z" -v l="$l" -v m="$m" -v b="$bytes" 'BEGIN {
		printf "  %-13s %8.3f %8.3f %7.2fx\n", c, (l - z) / b,
		    (m - z) / b, (m - z) / (l - z) }'
done

# instructions of one of tests/bench.c's QUOTA_BENCH_INSTR loops, N
# times, with no store and with a no-op one, less the same set-up's (the
# no-op store's own: its set-up writes records too); PREFIX: "" or "hold-"
per_op() {
	z=$(QUOTA_BENCH_INSTR=${1}none:0 instr "$bench")
	a=$(QUOTA_BENCH_INSTR=${1}none:$2 instr "$bench")
	zn=$(QUOTA_BENCH_INSTR=${1}noop:0 instr "$bench")
	b=$(QUOTA_BENCH_INSTR=${1}noop:$2 instr "$bench")
	awk -v z="$z" -v a="$a" -v zn="$zn" -v b="$b" -v n="$2" 'BEGIN {
		printf "  no store %.1f, no-op store %.1f: %.2fx\n", (a - z) / n,
		    (b - zn) / n, (b - zn) / (a - z) }'
}

echo "plain charge, 1 unit, in time order, 8 packages (200000 charges): instructions a charge"
per_op "" 200000
echo "reserve + commit pair, 1 unit, in time order, 8 packages (100000 pairs): instructions a pair"
per_op hold- 100000
# issue 16: a late report and a keyed charge against a plain charge in
# time order, no store, 200000 of each, each less its own set-up (the
# keyed one's fills a window of 10,000 keys); and (issue 10, §5) each
# with a no-op store against itself with none: what journaling costs
# these fast paths, as per_op shows for the plain charge
z=$(QUOTA_BENCH_INSTR=none:0 instr "$bench")
a=$(QUOTA_BENCH_INSTR=none:200000 instr "$bench")
# vs_plain MODE NAME: NAME's instructions (QUOTA_BENCH_INSTR=MODE-none:N)
# against the plain charge's, then with a no-op store (MODE-noop:N)
# against those with none
vs_plain() {
	zm=$(QUOTA_BENCH_INSTR=$1-none:0 instr "$bench")
	m=$(QUOTA_BENCH_INSTR=$1-none:200000 instr "$bench")
	zs=$(QUOTA_BENCH_INSTR=$1-noop:0 instr "$bench")
	s=$(QUOTA_BENCH_INSTR=$1-noop:200000 instr "$bench")
	awk -v z="$z" -v a="$a" -v zm="$zm" -v m="$m" -v zs="$zs" -v s="$s" \
	    -v n=200000 -v w="$2" 'BEGIN {
		printf "  plain charge %.1f, %s %.1f: %.2fx\n",
		    (a - z) / n, w, (m - zm) / n, (m - zm) / (a - z)
		printf "  %s: no store %.1f, no-op store %.1f: %.2fx\n", w,
		    (m - zm) / n, (s - zs) / n, (s - zs) / (m - zm) }'
}
echo "late reports (random times of a month, 8 packages; 200000 charges): instructions a charge"
vs_plain late "late report"
echo "keyed charges (a new key each, window of 10000 keys, 8 packages; 200000 charges): instructions a charge"
vs_plain keyed "keyed charge"
