# tests/node.mk - the Node module (node/, koffi from npm) against the
# libraries just built.  Included by the top-level Makefile (-include
# tests/*.mk).
#
#   make check-node     node --test node/test/*.test.js

# tests/install-deps.sh installs these when missing (`make deps`).
export QUOTA_EXTRA_DEPS += cmd:node=nodejs cmd:npm=npm

CHECK_EXTRA += check-node

.PHONY: check-node

# npm ci from the pinned package-lock.json, again only when it changes;
# npm's cache under build/.
node/node_modules/.quota-stamp: node/package.json node/package-lock.json
	cd node && npm ci --no-audit --no-fund --loglevel=error \
	    --cache "$(CURDIR)/$(B)/npm-cache"
	@touch $@

check-node: $(B)/$(SHLIB) $(B)/$(SQL_SHLIB) node/node_modules/.quota-stamp
	cd node && LIBQUOTA_PATH="$(CURDIR)/$(B)/$(SONAME)" \
	    LIBQUOTA_SQLITE_PATH="$(CURDIR)/$(B)/$(SQL_SONAME)" \
	    QUOTA_INCLUDE="$(CURDIR)/include" \
	    node --expose-gc --test test/*.test.js
