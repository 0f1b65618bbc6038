"""libquota-sqlite (include/quota_sqlite.h, quota_sqlite(3)): a context
kept in one SQLite database file."""

import ctypes as C

from . import _ffi
from . import constants as K
from .util import _b
from .errors import ClosedError


class SqliteStore:
    """A SQLite database as a context's store (quota_sqlite).

    ``SqliteStore(ctx, path)`` (or ``ctx.open_sqlite(path)``) opens or
    creates the file, recovers everything it holds into ctx - which must
    hold no categories or accounts yet - and sets itself as ctx's store, so
    every call that changes state is in the database before it applies.
    synchronous: QUOTA_SQLITE_SYNC_FULL (default) or _NORMAL;
    busy_timeout_ms: wait for another connection's lock (default 5000).
    A context manager; close() removes the store and closes the file, and
    closing the context closes it first (quota_sqlite(3): close before
    quota_ctx_free).  Needs libquota-sqlite.so.0 (LIBQUOTA_SQLITE_PATH, or
    next to LIBQUOTA_PATH, or the standard name)."""

    def __init__(self, ctx, path, synchronous=None, busy_timeout_ms=None):
        self._lib = _ffi.sqlite()
        self.ctx = ctx
        self.path = path
        out = C.c_void_p()
        if synchronous is None and busy_timeout_ms is None:
            rc = self._lib.quota_sqlite_open(ctx._p, _b(str(path), "path"),
                                             C.byref(out))
        else:
            o = _ffi.new(_ffi.SqliteOptions,
                         version=K.QUOTA_SQLITE_OPTIONS_VERSION,
                         size=C.sizeof(_ffi.SqliteOptions),
                         synchronous=(K.QUOTA_SQLITE_SYNC_FULL
                                      if synchronous is None else synchronous),
                         busy_timeout_ms=(5000 if busy_timeout_ms is None
                                          else busy_timeout_ms))
            rc = self._lib.quota_sqlite_open_with(ctx._p, _b(str(path), "path"),
                                                  C.byref(o), C.byref(out))
        ctx._done(rc)
        # Shared with the context, which closes the database before it
        # frees itself even when this object is gone.
        self._handle = [out.value, self._lib.quota_sqlite_close]
        ctx._stores.append(self._handle)

    @property
    def _ptr(self):
        return self._handle[0] if hasattr(self, "_handle") else None

    @property
    def closed(self):
        return self._ptr is None

    @property
    def _p(self):
        self.ctx._p
        if self._ptr is None:
            raise ClosedError("libquota: the SQLite store is closed")
        return self._ptr

    def close(self):
        """quota_sqlite_close: remove the store from its context and close
        the database.  Calling it again does nothing."""
        ptr = self._ptr
        if ptr is None:
            return
        if not self.ctx.closed:
            self.ctx._p  # refused inside a callback of the context
        self._handle[0] = None
        self._lib.quota_sqlite_close(ptr)
        if self._handle in self.ctx._stores:
            self.ctx._stores.remove(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def checkpoint(self):
        """quota_sqlite_checkpoint: snapshot every account and drop the
        records the snapshots cover."""
        self.ctx._done(self._lib.quota_sqlite_checkpoint(self._p))

    def resync(self, account):
        """quota_sqlite_resync: re-read an account from the database
        (after OutcomeUnknown or Conflict); its package handles become
        invalid."""
        rc = self._lib.quota_sqlite_resync(self._p, account._p)
        account._invalidate_packages()
        self.ctx._done(rc)
