# tests/quota_sim.mk - quota-sim, the plan and trace simulator (issue 14;
# examples/quota-sim/, quota-sim(1), quota-plan(5)).  Included by the
# top-level Makefile (-include tests/*.mk).
#
#   make quota-sim          build $(B)/quota-sim
#   make check-quota-sim    the samples' expected outputs, bad input,
#                           recommend against brute force, again under
#                           ASan+UBSan (part of `make check`)
#   make bench-quota-sim    a generated 10,000,000-line trace replayed
#                           (part of `make bench`); QSIM_BENCH_LINES
#   make install / uninstall  also install the program and its pages

CHECK_EXTRA += check-quota-sim
BENCH_EXTRA += bench-quota-sim

QSIM_SRCS := $(sort $(wildcard examples/quota-sim/*.c))
QSIM_HDRS := $(wildcard examples/quota-sim/*.h)
QSIM      := $(B)/quota-sim
QSIM_BENCH_LINES ?= 10000000
BINDIR ?= $(EXEC_PREFIX)/bin

.PHONY: quota-sim check-quota-sim bench-quota-sim install-quota-sim \
	uninstall-quota-sim

quota-sim: $(QSIM)

$(QSIM): $(QSIM_SRCS) $(QSIM_HDRS) $(B)/libquota.a include/quota.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) $(CFLAGS) \
	    -Iinclude $(QSIM_SRCS) $(B)/libquota.a -o $@

$(B)/quota-sim-gen: tests/quota_sim_gen.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 $< -o $@

# The same checks again with the program and the library built with
# clang's AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer.
QSIM_ASAN := $(B)/quota-sim-asan
$(QSIM_ASAN): $(QSIM_SRCS) $(QSIM_HDRS) $(LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang -std=c11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -O1 -g \
	    -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer -Iinclude -Ilib -DQUOTA_BUILDING \
	    $(QSIM_SRCS) $(LIB_SRCS) -o $@

check-quota-sim: $(QSIM) $(QSIM_ASAN) $(B)/quota-sim-gen
	QUOTA_SIM_GEN=$(B)/quota-sim-gen sh tests/check-quota-sim.sh $(QSIM)
	QUOTA_SIM_BRUTE=0 sh tests/check-quota-sim.sh $(QSIM_ASAN)

bench-quota-sim: $(QSIM) $(B)/quota-sim-gen
	sh tests/bench-quota-sim.sh $(QSIM) $(B)/quota-sim-gen \
	    $(QSIM_BENCH_LINES) $(B)/bench_qsim

install: install-quota-sim
uninstall: uninstall-quota-sim

install-quota-sim: $(QSIM)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(QSIM) $(DESTDIR)$(BINDIR)/quota-sim
	install -m 644 man/quota-sim.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/quota-plan.5 $(DESTDIR)$(MANDIR)/man5/

uninstall-quota-sim:
	rm -f $(DESTDIR)$(BINDIR)/quota-sim \
	    $(DESTDIR)$(MANDIR)/man1/quota-sim.1 \
	    $(DESTDIR)$(MANDIR)/man5/quota-plan.5
