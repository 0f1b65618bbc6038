#!/bin/sh
# check-ffi.sh [LIBRARY]
#
# The library as a foreign-function user sees it (STYLE 11): Python ctypes
# declares the public structs field for field, checks their layout against
# the C compiler's, and charges an account (tests/python/ffi_check.py).
# Skipped, with a message, when python3 is not installed.
set -u
here=$(cd "$(dirname "$0")" && pwd) || exit 2
lib=${1:-$here/../build/libquota.so.0}
if ! command -v python3 >/dev/null 2>&1; then
	echo "check-ffi: SKIP: python3 is not installed"
	exit 0
fi
if [ ! -e "$lib" ]; then
	echo "check-ffi: FAIL: no library $lib (run make first)"
	exit 1
fi
exec python3 "$here/python/ffi_check.py" "$lib" "$here/../include"
