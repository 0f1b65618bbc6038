#!/bin/sh
# check-gateway.sh PROG
#
# The SMS gateway example (examples/sms_gateway.c) restarted in the middle
# of a stream loses and repeats nothing.  A scripted stream (made here,
# deterministically: three accounts and an unknown one, 300 submits and
# their delivery reports interleaved, some failed, some never reported,
# some submits and reports sent twice, a few contradicted or reusing an id,
# time lines over four days with a jump that times holds out) is fed
#   one     in one run;
#   split   in four runs, each ended by EOF;
#   crash   in four runs, the first three killed with SIGKILL by the
#           gateway itself at its crash points (SMS_GATEWAY_CRASH): after
#           a submit's row and before its reservation, after the
#           reservation and before the row has its hold, after a
#           delivery report's commit or release and before the answer;
#           each next run starts with the line that was in flight;
#   kill    in two runs, the first (synchronous = FULL, so it is slow)
#           killed from outside with SIGKILL once it has answered 200
#           lines; the next starts with the first line without an answer.
# Each must end with the same final report (units by source, holds,
# money), and the stream must have met the refusals it is there for.
# Scratch files live in a mktemp directory, removed on every exit.
# Prints a PASS or FAIL line per case; exits 1 if any failed.
set -u
LC_ALL=C
export LC_ALL

if [ $# -ne 1 ]; then
	echo "usage: $0 PROG" >&2
	exit 2
fi
prog=$1
limit=${QUOTA_GATEWAY_TIMEOUT:-120}
timeout_cmd=
command -v timeout >/dev/null 2>&1 && timeout_cmd="timeout $limit"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-gateway.XXXXXX") || exit 2
bgpid=
cleanup() {
	[ -n "$bgpid" ] && kill -9 "$bgpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

failed=0
fail() {
	echo "check-gateway: FAIL $*"
	failed=$((failed + 1))
}

# The stream: one request a line, every line answered with one line.
awk 'BEGIN {
	seed = 20241124
	t = 1732406400
	split("acme acme bolt bolt civic civic", acc, " ")
	words = "your code is order shipped parcel delivery meeting tomorrow " \
	    "at ten please confirm reply stop to opt out balance low"
	nw = split(words, w, " ")
	print "time " t
	nsub = 0; npend = 0; ndone = 0
	while (nsub < 300 || npend > 40) {
		if (++lines % 25 == 0) {
			t += 1800 + int(rnd() * 7200)
			if (lines == 200)       # unreported holds time out
				t += 2 * 86400
			print "time " t
			continue
		}
		r = rnd()
		if (npend > 0 && (r < 0.42 || nsub >= 300)) {
			i = 1 + int(rnd() * npend)
			id = pend[i]; pend[i] = pend[npend--]
			if (rnd() < 0.08)       # never reported: the hold expires
				continue
			how = rnd() < 0.12 ? "failed" : "delivered"
			print "dlr " id " " how
			done[++ndone] = "dlr " id " " how
		} else if (r < 0.45 && ndone > 0) {
			print done[1 + int(rnd() * ndone)]       # sent twice
		} else if (r < 0.46 && ndone > 0) {
			d = done[1 + int(rnd() * ndone)]         # contradicted
			sub(/delivered$/, "FAILED", d)
			sub(/failed$/, "delivered", d)
			sub(/FAILED$/, "failed", d)
			print d
		} else if (r < 0.49 && nsub > 0) {
			print sent[1 + int(rnd() * nsub)]        # sent twice
		} else if (r < 0.50 && nsub > 0) {
			print sent[1 + int(rnd() * nsub)] " (edited)"  # id reused
		} else if (r < 0.51) {
			print "dlr nosuch-" lines " delivered"
		} else {
			a = rnd() < 0.03 ? "dave" : acc[1 + int(rnd() * 6)]
			id = "m" (++nsub)
			n = 8 + int(rnd() * (rnd() < 0.2 ? 120 : 40))
			text = ""
			for (k = 0; k < n; k++)
				text = text (k ? " " : "") w[1 + int(rnd() * nw)]
			if (rnd() < 0.1) text = text " \342\202\254"   # euro: GSM7 ext
			if (rnd() < 0.1) text = text " \344\275\240"   # CJK: UCS-2
			sent[nsub] = "submit " a " " id " " text
			print sent[nsub]
			if (a != "dave") pend[++npend] = id
		}
	}
}
function rnd() {
	seed = (seed * 1103515245 + 12345) % 2147483648
	return seed / 2147483648
}' >"$tmp/stream"
total=$(wc -l <"$tmp/stream")

# Lines FROM..TO (1-based) of the stream, into $tmp/in.
lines() { sed -n "$1,$2p" "$tmp/stream" >"$tmp/in"; }

# The final report: the output's last "report at" line and what follows.
final() { awk '/^report at / { n = 0 } { r[++n] = $0 } END {
	for (i = 1; i <= n; i++) print r[i] }' "$1"; }

# gw OUT [ENV...]: one run of the gateway on $tmp/db fed $tmp/in, output
# appended to OUT; sets st to its exit status.
gw() {
	out=$1
	shift
	{ env "$@" $timeout_cmd "$prog" $mode "$tmp/db" <"$tmp/in" >>"$out"; } \
		2>>"$tmp/err"
	st=$?
}

fresh() { rm -f "$tmp"/db "$tmp"/db-* "$tmp"/db.msgs*; : >"$tmp/$1"; }
mode=--sync-normal

# one: the reference.
start=$(date +%s)
fresh one
lines 1 "$total"
gw "$tmp/one"
[ $st -eq 0 ] || fail "one: exit $st"
final "$tmp/one" >"$tmp/one.final"
for want in QUOTA_EEXHAUSTED QUOTA_ECAP QUOTA_ENOTFOUND QUOTA_EKEYCONFLICT \
    "(repeated)" "segments released, fee" "[1-9][0-9]* holds expired"; do
	grep -q -e "$want" "$tmp/one" ||
		fail "one: the stream met no '$want'"
done
grep -q "^  [a-z]* *segments: free 0, package [1-9]" "$tmp/one.final" ||
	fail "one: no package units in the final report"
echo "check-gateway: one run of $total lines: $(grep -c '^ok ' "$tmp/one") ok," \
	"$(grep -c '^refused ' "$tmp/one") refused ($(($(date +%s) - start)) s)"

# split: EOF after lines 150, 333 and 501.
fresh split
from=1
for to in 150 333 501 "$total"; do
	lines $from "$to"
	gw "$tmp/split"
	[ $st -eq 0 ] || fail "split: run ending at line $to: exit $st"
	from=$((to + 1))
done
final "$tmp/split" >"$tmp/split.final"
if cmp -s "$tmp/one.final" "$tmp/split.final"; then
	echo "check-gateway: PASS split (4 runs ended by EOF)"
else
	fail "split: final report differs from one run's:"
	diff "$tmp/one.final" "$tmp/split.final"
fi

# The first line after FROM that is a new submit of acme (its reservation
# always succeeds), or a report of a submitted message.
first_new_submit() {
	awk -v from="$1" 'NR > from && /^submit acme / && !seen[$3]++ {
		print NR; exit } /^submit / { seen[$3]++ }' "$tmp/stream"
}
first_dlr() {
	awk -v from="$1" '/^submit [a-z]* / { s[$3] = 1 }
	    NR > from && /^dlr / && s[$2] && !seen[$2]++ { print NR; exit }
	    /^dlr / { seen[$2]++ }' "$tmp/stream"
}

# crash: the gateway kills itself at each crash point in turn.
fresh crash
from=1
l1=$(first_new_submit 250)
l2=$(first_new_submit 380)
l3=$(first_dlr 480)
for step in "$l1:intent" "$l2:reserve" "$l3:dlr" "$total:"; do
	at=${step%%:*}
	where=${step#*:}
	if [ -n "$where" ]; then
		lines $from "$at"
		gw "$tmp/crash" SMS_GATEWAY_CRASH=$((at - from + 1)):$where
		[ $st -eq 137 ] ||
			fail "crash: line $at ($where) did not end in SIGKILL (exit $st)"
		from=$at # the line in flight, again
	else
		lines $from "$at"
		gw "$tmp/crash"
		[ $st -eq 0 ] || fail "crash: last run: exit $st"
	fi
done
final "$tmp/crash" >"$tmp/crash.final"
if cmp -s "$tmp/one.final" "$tmp/crash.final"; then
	echo "check-gateway: PASS crash (SIGKILL at lines $l1 after the row," \
		"$l2 after the reservation, $l3 after the report's commit or release)"
else
	fail "crash: final report differs from one run's:"
	diff "$tmp/one.final" "$tmp/crash.final"
fi

# kill: SIGKILL from outside, synchronous = FULL.
fresh kill
mode=
lines 1 "$total"
"$prog" "$tmp/db" <"$tmp/in" >"$tmp/kill" 2>>"$tmp/err" &
bgpid=$!
# Mid-stream: once it has answered 200 lines (it is then busy with the
# next ones, each an fsync or three).
while [ "$(grep -c -v '^  ' "$tmp/kill")" -lt 200 ] &&
	kill -0 $bgpid 2>/dev/null; do
	sleep 0.01
done
kill -9 $bgpid 2>/dev/null
wait $bgpid 2>/dev/null
st=$?
bgpid=
answered=$(grep -c -v '^  ' "$tmp/kill")
if [ $st -eq 0 ]; then
	echo "check-gateway: note: kill: the run ended before the kill"
	: >"$tmp/kill"
	answered=$total
elif [ $st -ne 137 ]; then
	fail "kill: exit $st, expected SIGKILL"
fi
mode=--sync-normal
lines $((answered + 1)) "$total"
gw "$tmp/kill"
[ $st -eq 0 ] || fail "kill: second run: exit $st"
final "$tmp/kill" >"$tmp/kill.final"
if cmp -s "$tmp/one.final" "$tmp/kill.final"; then
	echo "check-gateway: PASS kill (SIGKILL after $answered answered lines," \
		"then line $((answered + 1)) on)"
else
	fail "kill: final report differs from one run's:"
	diff "$tmp/one.final" "$tmp/kill.final"
fi

if [ $failed -ne 0 ]; then
	echo "---- stderr (last lines):"
	tail -n 20 "$tmp/err"
	echo "check-gateway: FAIL ($failed)"
	exit 1
fi
echo "check-gateway: PASS (the same final report after one run, clean" \
	"restarts, crashes at each crash point and an outside SIGKILL;" \
	"$(($(date +%s) - start)) s)"
exit 0
