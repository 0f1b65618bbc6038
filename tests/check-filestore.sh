#!/bin/sh
# check-filestore.sh PROG DIR
#
# The file store example (examples/file_store.c): the gateway day with
# fsync (recovered into a new context, equal byte for byte), the torn-tail
# test (the journal cut at every byte of its last record) and the
# corruption test (one bit flipped at every bit of the journal and every
# byte of a snapshot file).  DIR is scratch space, emptied first.
# Prints a PASS or FAIL line per part; exits 1 if any failed.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 PROG DIR" >&2
	exit 2
fi
prog=$1
dir=$2
limit=${QUOTA_FILESTORE_TIMEOUT:-120}
timeout_cmd=
command -v timeout >/dev/null 2>&1 && timeout_cmd="timeout $limit"

rm -rf "$dir" && mkdir -p "$dir" || exit 2
failed=0
run() {
	name=$1
	shift
	if $timeout_cmd "$prog" "$@"; then
		echo "check-filestore: PASS $name"
	else
		echo "check-filestore: FAIL $name (exit $?)"
		failed=$((failed + 1))
	fi
}

run day "$dir/day"
run "day (--no-fsync)" --no-fsync "$dir/day-nofsync"
run torn-tail --test-torn "$dir"
run corruption --test-corrupt "$dir"

if [ $failed -ne 0 ]; then
	echo "check-filestore: FAIL ($failed)"
	exit 1
fi
rm -rf "$dir"
echo "check-filestore: PASS"
exit 0
