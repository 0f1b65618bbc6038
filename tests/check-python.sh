#!/bin/sh
# check-python.sh LIBQUOTA LIBQUOTA_SQLITE
#
# The Python module (python/, package libquota) as a user gets it: pip
# installs it, without network or build isolation, into a scratch folder
# (--target), and the system python3 runs the tests in tests/python/
# (unittest) importing it from there, against the libraries just built.
# Needs python3, pip and setuptools (Debian: python3-pip,
# python3-setuptools, python3-wheel; tests/install-deps.sh) and a C
# compiler for the layout check ($CC, else cc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sqlib=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# The system interpreter, not a shim of a per-user Python on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
for f in "$lib" "$sqlib"; do
	[ -e "$f" ] || { echo "check-python: FAIL: no library $f (run make first)"; exit 1; }
done
if ! "$py" -m pip --version >/dev/null 2>&1 || \
   ! "$py" -c 'import setuptools' >/dev/null 2>&1; then
	echo "check-python: FAIL: $py has no pip or setuptools (tests/install-deps.sh installs python3-pip and python3-setuptools)"
	exit 1
fi
scratch=$(dirname "$lib")/python
rm -rf "$scratch"
mkdir -p "$scratch"
# pip builds in the source folder; a copy keeps python/ clean.
cp -R "$root/python" "$scratch/src"
rm -rf "$scratch/src/build" "$scratch/src"/*.egg-info
echo "check-python: pip install --no-build-isolation --no-index --target $scratch/site"
PIP_ROOT_USER_ACTION=ignore "$py" -m pip install -q --disable-pip-version-check --no-build-isolation \
	--no-index --target "$scratch/site" "$scratch/src"
cd "$scratch"
LIBQUOTA_PATH=$lib LIBQUOTA_SQLITE_PATH=$sqlib LIBQUOTA_INCLUDE=$root/include \
LIBQUOTA_TEST_SITE=$scratch/site LIBQUOTA_EXAMPLE=$root/python/examples/month_and_plans.py \
PYTHONPATH=$scratch/site PYTHONDONTWRITEBYTECODE=1 \
	exec "$py" -W error::ResourceWarning -m unittest discover -v \
	-s "$here/python" -p 'test_*.py' -t "$here/python"
