# tests/filestore.mk - the file store example (examples/file_store.c,
# file_store.h and file_store_read.h): torn tails and corruption of its
# journal.  Included by the top-level Makefile (-include tests/*.mk), like
# sms.mk.
#
#   make check-filestore   the day, the torn-tail test, the corruption test

CHECK_EXTRA += check-filestore

.PHONY: check-filestore

# The example includes its store; rebuild it when that changes.
$(B)/examples/file_store: examples/file_store.h examples/file_store_read.h \
		include/quota_store.h

check-filestore: $(B)/examples/file_store
	sh tests/check-filestore.sh $(B)/examples/file_store $(B)/filestore
