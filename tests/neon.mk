# tests/neon.mk - the SMS counter's NEON kernels (lib/sms_simd.c and
# lib/sms_gsm.c, issue 16) on AArch64.  `make check` runs on x86-64,
# where only the SSE2, AVX2 and portable paths exist; here the library
# and the SMS tests are built with the AArch64 cross compiler, linked
# statically (Check's libcheck.a and libsubunit.a from Debian's arm64
# packages), and run under qemu's user-mode emulator, so that
# check_sms_simd compares NEON and the portable path with its
# one-code-point-at-a-time reference as it does SSE2 and AVX2 on x86-64.
# Included by the top-level Makefile (-include tests/*.mk).
#
#   make check-neon   check_sms_simd and check_sms for AArch64 under
#                     qemu-aarch64 (part of `make check`)

# tests/install-deps.sh installs these when missing (`make deps`); the
# arm64 Check package makes it add that architecture to dpkg first.
export QUOTA_EXTRA_DEPS += cmd:aarch64-linux-gnu-gcc=gcc-aarch64-linux-gnu \
	cmd:qemu-aarch64=qemu-user \
	file:/usr/lib/aarch64-linux-gnu/libcheck.a=check:arm64

CHECK_EXTRA += check-neon

NEON_B      = build/neon
NEON_CC     = aarch64-linux-gnu-gcc
NEON_AR     = aarch64-linux-gnu-ar
NEON_QEMU   = qemu-aarch64
NEON_TESTS  = $(NEON_B)/tests/check_sms_simd $(NEON_B)/tests/check_sms
# Static, so that qemu needs no AArch64 root (-L) to run them.
NEON_LIBS   = -static -lcheck -lsubunit -lrt -lm -pthread

.PHONY: check-neon neon-have

# Fails, saying why, when the cross compiler, qemu or the arm64 Check
# library is missing (make check installs them first).
neon-have:
	@command -v $(NEON_CC) >/dev/null 2>&1 && \
	 command -v $(NEON_QEMU) >/dev/null 2>&1 && \
	 [ -e /usr/lib/aarch64-linux-gnu/libcheck.a ] || { \
	  echo "check-neon: needs $(NEON_CC), $(NEON_QEMU) and" \
	    "/usr/lib/aarch64-linux-gnu/libcheck.a (gcc-aarch64-linux-gnu," \
	    "qemu-user, check:arm64: run sh tests/install-deps.sh)" >&2; \
	  exit 1; }

# check_sms_simd makes no context, so it runs once; check_sms also
# journaled, as check-unit-only runs it.
check-neon: neon-have
	$(MAKE) B=$(NEON_B) CC=$(NEON_CC) AR=$(NEON_AR) WERROR=1 \
	    CFLAGS="-O2 -g" CHECK_CFLAGS= CHECK_LIBS="$(NEON_LIBS)" $(NEON_TESTS)
	CK_FORK=yes $(NEON_QEMU) ./$(NEON_B)/tests/check_sms_simd
	CK_FORK=yes $(NEON_QEMU) ./$(NEON_B)/tests/check_sms
	CK_FORK=yes QUOTA_TEST_JOURNAL=1 $(NEON_QEMU) ./$(NEON_B)/tests/check_sms
