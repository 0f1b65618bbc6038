# tests/python.mk - the Python module (python/, package libquota; DESIGN
# section 8): pip-installed into build/python/site without network, then
# tested with the system python3 against the libraries just built
# (tests/check-python.sh, tests/python/test_*.py).  Included by the
# top-level Makefile (-include tests/*.mk); uses sqlite.mk's variables in
# recipes only.
#
#   make check-python

CHECK_EXTRA += check-python

.PHONY: check-python

check-python: lib $(B)/$(SQL_SHLIB)
	sh tests/check-python.sh $(B)/$(SONAME) $(B)/$(SQL_SONAME)
