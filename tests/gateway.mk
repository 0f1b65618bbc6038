# tests/gateway.mk - the SMS gateway example (examples/sms_gateway.c, built
# with libquota-sqlite by the Makefile's SQL_EXAMPLES rule): a scripted
# stream fed in one run, in runs ended by EOF, and in runs killed with
# SIGKILL, must end with the same final report.  Included by the
# top-level Makefile (-include tests/*.mk).
#
#   make check-gateway

CHECK_EXTRA += check-gateway

.PHONY: check-gateway

check-gateway: $(B)/examples/sms_gateway
	sh tests/check-gateway.sh $(B)/examples/sms_gateway
