"""Contexts, categories, tariffs, accounts, packages, offers, batches and
stores: the objects of include/quota.h and quota_store.h.

Ownership follows the C library (quota.h, "Conventions"): a Context owns
its accounts, tariffs and offers, an Account its packages.  The Python
objects keep a reference to their context, and every use checks that the
context is still open (ClosedError otherwise): closing a context - with
close(), a ``with`` block, or garbage collection - invalidates everything
in it.  Account.remove() invalidates the account and its packages;
Account.reset() (and SqliteStore.resync()) its packages (quota_account_reset).

Python callbacks (event hook, bill callback, report and CSV writers,
store, allocator) are kept alive as long as they are registered, and an
exception raised in one never crosses into C: the callback returns a
QUOTA_E* code (QUOTA_ESTORE for stores and writers, which stops the call;
a failure count for hooks, where the state change stands, R21) and the
exception is raised again when the call returns.
"""

import ctypes as C
import datetime as _dt
import os
import weakref

from . import _ffi
from . import constants as K
from .errors import ClosedError, QuotaError, error
from .types import (Bill, BillLine, Event, Money, PackageSpec, Purchase,
                    Receipt, ReceiptLine, ReportRow, SmsInfo)

P = C.c_void_p

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _t(x):
    """A time: Unix seconds as they are, or a datetime (naive means UTC)
    or date (midnight UTC)."""
    if isinstance(x, _dt.datetime):
        if x.tzinfo is None:
            x = x.replace(tzinfo=_dt.timezone.utc)
        return (x - _EPOCH) // _dt.timedelta(seconds=1)
    if isinstance(x, _dt.date):
        return _t(_dt.datetime(x.year, x.month, x.day))
    return int(x)


def _b(s):
    """A string argument as UTF-8 bytes (None stays None)."""
    if s is None or isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def _s(b):
    return None if b is None else b.decode("utf-8", "replace")


def strerror(rc):
    """quota_strerror: the fixed English text of a status code."""
    return _ffi.core().quota_strerror(rc).decode()


def err_name(rc):
    """quota_err_name: the code's symbolic name, e.g. "QUOTA_ECAP"."""
    return _ffi.core().quota_err_name(rc).decode()


def version():
    """quota_version: the loaded library's "MAJOR.MINOR.PATCH"."""
    return _ffi.core().quota_version().decode()


def version_number():
    """quota_version_number: QUOTA_VERSION_NUMBER of the loaded library."""
    return _ffi.core().quota_version_number()


def _raise(rc, msg=""):
    if rc < 0:
        raise error(rc, msg)
    return rc


def money_round(micros, minor_micros=10000, mode=K.QUOTA_ROUND_HALF_UP):
    """quota_money_round: micros rounded to a multiple of minor_micros by a
    QUOTA_ROUND_* mode (R17)."""
    out = C.c_int64()
    _raise(_ffi.core().quota_money_round(micros, minor_micros, mode,
                                         C.byref(out)))
    return out.value


def _sms_opts(flags=0, signature=None, max_segments=0, max_units=0,
              offsets_cap=0):
    o = _ffi.SmsOpts(version=K.QUOTA_SMS_OPTS_VERSION, flags=flags,
                     signature=_b(signature), max_segments=max_segments,
                     max_units=max_units)
    buf = None
    if offsets_cap:
        buf = (C.c_size_t * offsets_cap)()
        o.segment_offsets = buf
        o.segment_offsets_cap = offsets_cap
    return o, buf


def _sms_info(info, buf):
    offs = None
    if buf is not None:
        offs = [buf[i] for i in range(min(info.segments, len(buf)))]
    return SmsInfo(info.encoding, info.units, info.segments,
                   info.shift_locking, info.shift_single, offs)


def _encoding_error(rc, info, msg=""):
    e = error(rc, msg)
    if rc == K.QUOTA_EENCODING:
        e.offset = info.error_offset
    return e


def sms_count(text, flags=0, signature=None, max_segments=0, max_units=0,
              offsets=False):
    """quota_sms_count: the segments of an SMS text (DESIGN §3).

    text is a str or UTF-8 bytes; flags QUOTA_SMS_*; offsets=True also
    returns each segment's starting byte offset.  Raises EncodingError
    (with ``offset``, the bad byte) or TooLong."""
    data = _b(text)
    o, buf = _sms_opts(flags, signature, max_segments, max_units,
                       len(data) + 1 if offsets else 0)
    info = _ffi.SmsInfo()
    rc = _ffi.core().quota_sms_count(data, len(data), C.byref(o), C.byref(info))
    if rc < 0:
        raise _encoding_error(rc, info)
    return _sms_info(info, buf)


def journal_size(rec):
    """quota_journal_size: the whole size of the record that starts rec
    (Corrupt if rec does not hold all of it)."""
    rec = bytes(rec)
    out = C.c_size_t()
    _raise(_ffi.core().quota_journal_size(rec, len(rec), C.byref(out)))
    return out.value


def _peek(fn, ctx, data):
    data = bytes(data)
    idbuf = C.create_string_buffer(K.QUOTA_ID_MAX + 1)
    seq = C.c_uint64()
    p = ctx._p if ctx is not None else None
    rc = fn(p, data, len(data), idbuf, C.byref(seq))
    if ctx is not None:
        ctx._done(rc)
    else:
        _raise(rc)
    return idbuf.value.decode(), seq.value


def journal_peek(rec, ctx=None):
    """quota_journal_peek: check a record without applying it; returns
    (account id, "" for the configuration stream; sequence number)."""
    return _peek(_ffi.core().quota_journal_peek, ctx, rec)


def snapshot_peek(snap, ctx=None):
    """quota_snapshot_peek: check a snapshot without loading it; returns
    (account id, sequence number)."""
    return _peek(_ffi.core().quota_snapshot_peek, ctx, snap)


def _guard(ctxref, fn, failcode, signals=False):
    """Wrap a Python callback for C: its exception is kept on the context
    (raised again when the call returns) and failcode returned instead.
    With signals, a QuotaError raised on purpose returns its code and is
    not raised again (a store saying QUOTA_ECONFLICT, say)."""
    def tramp(*args):
        try:
            r = fn(*args)
            return 0 if r is None else int(r)
        except QuotaError as e:
            if signals:
                return e.code
            ctx = ctxref()
            if ctx is not None:
                ctx._pending.append(e)
            return failcode
        except BaseException as e:  # noqa: B902 - must not reach C
            ctx = ctxref()
            if ctx is not None:
                ctx._pending.append(e)
            return failcode
    return tramp


class Allocator:
    """Base of Python allocators for Context(allocator=...)
    (quota_ctx_new_with, quota_allocator; STYLE 8).

    Subclasses implement malloc(size), realloc(ptr, size) and free(ptr)
    with addresses as ints (None or 0 for failure); realloc(None, n) must
    behave as malloc and free(None) must be harmless.  This one uses libc's
    and counts: ``allocations`` (calls that returned memory), ``live``
    (blocks not freed yet); ``fail_at=N`` makes the N-th allocation (from
    1) fail, as the C tests' counting allocator does (STYLE 19)."""

    def __init__(self, fail_at=None):
        libc = C.CDLL(None)
        self._malloc, self._realloc, self._free = libc.malloc, libc.realloc, libc.free
        self._malloc.restype = P
        self._malloc.argtypes = [C.c_size_t]
        self._realloc.restype = P
        self._realloc.argtypes = [P, C.c_size_t]
        self._free.restype = None
        self._free.argtypes = [P]
        self.fail_at = fail_at
        self.allocations = 0
        self.calls = 0
        self.live = 0

    def _fail(self):
        self.calls += 1
        return self.fail_at is not None and self.calls == self.fail_at

    def malloc(self, size):
        if self._fail():
            return None
        p = self._malloc(size or 1)
        if p:
            self.allocations += 1
            self.live += 1
        return p

    def realloc(self, ptr, size):
        if not ptr:
            return self.malloc(size)
        if self._fail():
            return None
        p = self._realloc(ptr, size or 1)
        if p:
            self.allocations += 1
        return p

    def free(self, ptr):
        if ptr:
            self.live -= 1
            self._free(ptr)


class Store:
    """Base of Python stores for Context.set_store (quota_store.h,
    quota_store(3)).

    append(account, seq, rec) stores one record (account: the account id,
    None for the configuration stream; rec: bytes).  Return None (or 0)
    when stored; raise Conflict or OutcomeUnknown to answer
    QUOTA_ECONFLICT or QUOTA_EUNKNOWN (the call returns that code); any
    other exception means nothing was stored: the call fails with
    QUOTA_ESTORE and the exception is raised again when it returns.
    begin() and commit() (both or neither) frame a batch (quota_batch);
    errmsg() may say what went wrong.  This base keeps records in memory
    in ``records`` (a list of (account, seq, rec)) and has no batches."""

    def __init__(self):
        self.records = []

    def append(self, account, seq, rec):
        self.records.append((account, seq, rec))


def _storefn(obj, name):
    fn = getattr(obj, name, None)
    return fn if callable(fn) else None


class Context:
    """A libquota context (quota_ctx; quota_ctx_new(3)): categories,
    tariffs, offers and accounts, and the hooks and store that go with them.

    ``Context()`` uses libc's allocator, ``Context(allocator=Allocator())``
    a Python one; ``hash_seed`` (16 bytes) sets the id hash key
    (quota_ctx_set_hash_seed).  A context manager: the ``with`` block
    closes it; it is also freed when garbage collected.  After close()
    every object from it raises ClosedError.  A context and its objects
    must not be used from two threads at once (quota.h, "Thread safety").
    """

    def __init__(self, allocator=None, hash_seed=None):
        self._ptr = None
        self._lib = lib = _ffi.core()
        # Handles by address, held weakly: a handle holds its context, not
        # the other way round, so a context nobody uses is freed at once.
        self._objs = weakref.WeakValueDictionary()
        self._pending = []
        self._keep = {}
        # Open SQLite stores, as [address, close function] (SqliteStore).
        self._stores = []
        out = P()
        if allocator is None:
            rc = lib.quota_ctx_new(C.byref(out))
        else:
            ref = weakref.ref(self)
            a = _ffi.Allocator(version=K.QUOTA_ALLOCATOR_VERSION)
            a.malloc_fn = _ffi.MALLOC_FN(self._alloc_guard(ref, allocator.malloc))
            a.realloc_fn = _ffi.REALLOC_FN(
                self._alloc_guard(ref, lambda p, n: allocator.realloc(p, n)))
            a.free_fn = _ffi.FREE_FN(self._alloc_guard(ref, allocator.free, True))
            self._keep["allocator"] = (allocator, a)
            rc = lib.quota_ctx_new_with(C.byref(a), C.byref(out))
        if rc < 0:
            self._raise_pending()
            raise error(rc)
        self._ptr = out.value
        if hash_seed is not None:
            self.set_hash_seed(hash_seed)

    @staticmethod
    def _alloc_guard(ref, fn, is_free=False):
        def tramp(ud, *args):
            try:
                r = fn(*args)
                return None if is_free else (r or None)
            except BaseException as e:  # noqa: B902 - must not reach C
                ctx = ref()
                if ctx is not None:
                    ctx._pending.append(e)
                return None
        return tramp

    # -- plumbing ---------------------------------------------------------

    @property
    def _p(self):
        if self._ptr is None:
            raise ClosedError("libquota: the context is closed")
        return self._ptr

    def _raise_pending(self, rc=0):
        if self._pending:
            exc = self._pending[0]
            del self._pending[:]
            if rc < 0:
                exc.__context__ = error(rc, self.errmsg)
            raise exc

    def _done(self, rc):
        """After a call: a callback's exception first, then rc < 0 as its
        QUOTA_E* exception with quota_errmsg; else rc."""
        self._raise_pending(rc)
        if rc < 0:
            raise error(rc, self.errmsg)
        return rc

    def _account(self, ptr):
        if not ptr:
            return None
        a = self._objs.get(ptr)
        if a is None:
            a = self._objs[ptr] = Account(self, ptr)
        return a

    def _tariff(self, ptr):
        if not ptr:
            return None
        t = self._objs.get(ptr)
        if t is None:
            t = self._objs[ptr] = Tariff(self, ptr)
        return t

    # -- lifetime ---------------------------------------------------------

    def close(self):
        """Free the context and everything in it (quota_ctx_free); open
        SQLite stores are closed first.  Calling it again does nothing."""
        if self._ptr is None:
            return
        for s in list(self._stores):
            s[1](s[0])
            s[0] = None
        del self._stores[:]
        ptr, self._ptr = self._ptr, None
        for o in list(self._objs.values()):
            o._ptr = None
        self._objs.clear()
        self._lib.quota_ctx_free(ptr)
        self._keep.clear()
        del self._pending[:]

    @property
    def closed(self):
        return self._ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._ptr is None:
            return "<libquota.Context closed>"
        return "<libquota.Context %d accounts>" % self.account_count()

    def set_hash_seed(self, seed):
        """quota_ctx_set_hash_seed: 16 bytes; only before any account,
        tariff or offer exists (InvalidArgument otherwise)."""
        seed = bytes(seed)
        if len(seed) != 16:
            raise ValueError("libquota: a hash seed is 16 bytes")
        arr = (C.c_uint8 * 16).from_buffer_copy(seed)
        self._done(self._lib.quota_ctx_set_hash_seed(self._p, C.byref(arr)))

    @property
    def errmsg(self):
        """quota_errmsg: what was wrong with the last failed call."""
        if self._ptr is None:
            return ""
        return self._lib.quota_errmsg(self._ptr).decode("utf-8", "replace")

    def set_error(self, code, msg):
        """quota_ctx_set_error (quota_store.h): word a failure of a store's
        own call on this context; returns code."""
        return self._lib.quota_ctx_set_error(self._p, code, _b(msg))

    # -- categories -------------------------------------------------------

    def _cat(self, c):
        if isinstance(c, str):
            return self.category_find(c)
        return int(c)

    def _mask(self, cats):
        if isinstance(cats, int):
            return cats
        if isinstance(cats, str):
            cats = [cats]
        m = 0
        for c in cats:
            m |= 1 << self._cat(c)
        return m

    def category_add(self, name):
        """quota_category_add: register a category; returns its id (from 0).

        Wherever a method takes a category, its name may stand for its id."""
        out = C.c_uint32()
        self._done(self._lib.quota_category_add(self._p, _b(name), C.byref(out)))
        return out.value

    def category_find(self, name):
        """quota_category_find: a category's id by name (NotFound)."""
        out = C.c_uint32()
        self._done(self._lib.quota_category_find(self._p, _b(name), C.byref(out)))
        return out.value

    def category_name(self, cid):
        """quota_category_name: the name of an id, or None."""
        return _s(self._lib.quota_category_name(self._p, cid))

    def category_count(self):
        """quota_category_count."""
        return self._lib.quota_category_count(self._p)

    def categories(self):
        """Every category name, by id."""
        return [self.category_name(i) for i in range(self.category_count())]

    def mask(self, *categories):
        """QUOTA_MASK of categories given by id or name."""
        return self._mask(categories)

    # -- tariffs ----------------------------------------------------------

    def tariff_new(self, name, tiers=(), mode=None, free=None,
                   free_daily_limit=None, failure_fee_micros=None):
        """quota_tariff_new: a tariff (names unique per context).

        Optional set-up in one call: tiers [(up_to_units, unit_price_micros),
        ...], mode (QUOTA_GRADUATED / QUOTA_VOLUME), free (units, period),
        free_daily_limit, failure_fee_micros.  Returns a Tariff."""
        out = P()
        self._done(self._lib.quota_tariff_new(self._p, _b(name), C.byref(out)))
        t = self._tariff(out.value)
        for up_to, price in tiers:
            t.add_tier(up_to, price)
        if mode is not None:
            t.set_mode(mode)
        if free is not None:
            t.set_free(*free)
        if free_daily_limit is not None:
            t.set_free_daily_limit(free_daily_limit)
        if failure_fee_micros is not None:
            t.set_failure_fee(failure_fee_micros)
        return t

    def tariff_find(self, name):
        """quota_tariff_find (NotFound)."""
        out = P()
        self._done(self._lib.quota_tariff_find(self._p, _b(name), C.byref(out)))
        return self._tariff(out.value)

    # -- accounts ---------------------------------------------------------

    def account_new(self, aid):
        """quota_account_new: an account (ids unique per context)."""
        out = P()
        self._done(self._lib.quota_account_new(self._p, _b(aid), C.byref(out)))
        return self._account(out.value)

    def account_find(self, aid):
        """quota_account_find (NotFound)."""
        out = P()
        self._done(self._lib.quota_account_find(self._p, _b(aid), C.byref(out)))
        return self._account(out.value)

    def account_count(self):
        """quota_ctx_account_count."""
        return self._lib.quota_ctx_account_count(self._p)

    def account_at(self, i):
        """quota_ctx_account_at: the i-th account in the order made, or None."""
        return self._account(self._lib.quota_ctx_account_at(self._p, i))

    def accounts(self):
        """Every account, in the order they were made (§7)."""
        return [self.account_at(i) for i in range(self.account_count())]

    def account_load(self, snap):
        """quota_account_load: create an account from a snapshot (bytes
        from Account.snapshot)."""
        snap = bytes(snap)
        out = P()
        self._done(self._lib.quota_account_load(self._p, snap, len(snap),
                                                C.byref(out)))
        return self._account(out.value)

    # -- catalog ----------------------------------------------------------

    def offer_add(self, id, categories, units=0, price_micros=0,
                  unit_tariff=None, min_units=0, step_units=0, max_units=0,
                  valid_months=0, valid_days=0, flags=0, priority=0):
        """quota_offer_add: a catalog entry (R16, R19), fixed price (units,
        price_micros) or priced by quantity (units=0, unit_tariff).
        categories: a mask, or a list of category ids or names."""
        spec = _ffi.OfferSpec(
            id=_b(id), categories=self._mask(categories), units=units,
            price_micros=price_micros,
            unit_tariff=unit_tariff._p if unit_tariff is not None else None,
            min_units=min_units, step_units=step_units, max_units=max_units,
            valid_months=valid_months, valid_days=valid_days, flags=flags,
            priority=priority)
        out = P()
        self._done(self._lib.quota_offer_add(self._p, C.byref(spec), C.byref(out)))
        return self._offer(out.value, id)

    def offer_find(self, id):
        """quota_offer_find (NotFound)."""
        out = P()
        self._done(self._lib.quota_offer_find(self._p, _b(id), C.byref(out)))
        return self._offer(out.value, id)

    def _offer(self, ptr, id):
        o = self._objs.get(ptr)
        if o is None:
            o = self._objs[ptr] = Offer(self, ptr, _s(_b(id)))
        return o

    # -- whole context ----------------------------------------------------

    def tick(self, now):
        """quota_ctx_tick: quota_account_tick for every account; returns
        the number of holds released."""
        return self._done(self._lib.quota_ctx_tick(self._p, _t(now)))

    def settle(self, now, on_bill=None):
        """quota_ctx_settle: settle every account (R17); on_bill(Bill) sees
        each bill.  Returns the number of bills."""
        return self._settle(self._lib.quota_ctx_settle, self._p, now, on_bill)

    def _settle(self, fn, p, now, on_bill):
        if on_bill is None:
            return self._done(fn(p, _t(now), _ffi.BILL_FN(), None))
        ref = weakref.ref(self)

        def call(bp, ud):
            on_bill(self._bill(bp.contents))
        cb = _ffi.BILL_FN(_guard(ref, call, K.QUOTA_EINVAL))
        return self._done(fn(p, _t(now), cb, None))

    def _bill(self, b):
        lines = [BillLine(l.category, l.kind, bool(l.late), l.units,
                          l.receipts_micros, l.adjustment_micros,
                          l.amount_micros, l.rounded_micros)
                 for l in (b.lines[i] for i in range(b.nlines))]
        return Bill(self._account(b.account), b.seq, b.period_start,
                    b.period_end, b.status, lines, b.amount_micros,
                    b.total_micros, b.balance_micros)

    # -- events -----------------------------------------------------------

    def set_event_hook(self, fn):
        """quota_ctx_set_event_hook: fn(Event) is called synchronously after
        each state change (R21); None removes it.  An exception in fn is
        counted (hook_failures), the state change stands, and the exception
        is raised when the call that fired the event returns."""
        if fn is None:
            self._done(self._lib.quota_ctx_set_event_hook(self._p, _ffi.EVENT_FN(),
                                                          None))
            self._keep.pop("event", None)
            return
        ref = weakref.ref(self)

        def call(ep, ud):
            ctx = ref()
            if ctx is not None:
                fn(ctx._event(ep.contents))
        cb = _ffi.EVENT_FN(_guard(ref, call, K.QUOTA_EINVAL))
        self._done(self._lib.quota_ctx_set_event_hook(self._p, cb, None))
        self._keep["event"] = cb

    def _event(self, e):
        a = self._account(e.account)
        pkg = a._package(e.package) if (a is not None and e.package) else None
        rcpt = _receipt(a, e.receipt.contents) if e.receipt else None
        return Event(e.kind, e.category, a, pkg, e.remaining, e.threshold,
                     e.at, e.period, e.outstanding_micros, e.balance_micros,
                     rcpt)

    @property
    def hook_failures(self):
        """quota_ctx_hook_failures: hook and bill callbacks that did not
        return 0."""
        return self._lib.quota_ctx_hook_failures(self._p)

    # -- journal and batches ----------------------------------------------

    @property
    def config_seq(self):
        """quota_ctx_config_seq: the configuration stream's last record."""
        return self._lib.quota_ctx_config_seq(self._p)

    def journal_apply(self, rec, check=False):
        """quota_journal_apply: apply one record (quota_journal(5));
        check=True plans it again and refuses a record whose effects
        differ (QUOTA_JOURNAL_CHECK)."""
        rec = bytes(rec)
        flags = K.QUOTA_JOURNAL_CHECK if check else 0
        self._done(self._lib.quota_journal_apply(self._p, rec, len(rec), flags))

    def journal_peek(self, rec):
        """quota_journal_peek with errors worded on this context."""
        return journal_peek(rec, self)

    def snapshot_peek(self, snap):
        """quota_snapshot_peek with errors worded on this context."""
        return snapshot_peek(snap, self)

    def batch(self, ops):
        """quota_batch: run Op objects in order, in one store transaction
        when the store has begin and commit.  Each op gets its rc, receipt
        and (RESERVE) hold_id; op.error is its exception or None.  Raises
        when the batch itself fails (the commit: StoreError or
        OutcomeUnknown; then no op stands)."""
        ops = list(ops)
        arr = (_ffi.Op * max(1, len(ops)))()
        keep = [op._fill(self, arr[i]) for i, op in enumerate(ops)]
        rc = self._lib.quota_batch(self._p, arr, len(ops))
        for i, op in enumerate(ops):
            op._read(arr[i])
        del keep
        self._done(rc)
        return ops

    # -- stores -----------------------------------------------------------

    def set_store(self, store):
        """quota_ctx_set_store: records go to a Python store object (see
        Store) before they apply; None removes the store."""
        if store is None:
            self._done(self._lib.quota_ctx_set_store(self._p, None))
            self._keep.pop("store", None)
            return
        ref = weakref.ref(self)
        s = _ffi.Store(version=K.QUOTA_STORE_VERSION, size=C.sizeof(_ffi.Store))
        last = {"msg": None}

        def append(ud, account, seq, rec, n):
            try:
                return store.append(_s(account), seq, C.string_at(rec, n))
            except QuotaError:
                raise
            except BaseException as e:
                last["msg"] = "%s: %s" % (type(e).__name__, e)
                raise

        s.append = _ffi.APPEND_FN(_guard(ref, append, K.QUOTA_ESTORE, True))
        begin, commit = _storefn(store, "begin"), _storefn(store, "commit")
        if begin and commit:
            s.begin = _ffi.BEGIN_FN(_guard(ref, lambda ud: begin(),
                                           K.QUOTA_ESTORE, True))
            s.commit = _ffi.COMMIT_FN(_guard(ref, lambda ud: commit(),
                                             K.QUOTA_ESTORE, True))
        own = _storefn(store, "errmsg")

        def errmsg(ud):
            try:
                msg = last["msg"] or (own() if own else None)
            except BaseException:
                msg = None
            last["msg"] = None
            if not msg:
                return None
            buf = C.create_string_buffer(_b(msg))
            last["buf"] = buf
            return C.addressof(buf)
        s.errmsg = _ffi.ERRMSG_FN(errmsg)
        self._done(self._lib.quota_ctx_set_store(self._p, C.byref(s)))
        self._keep["store"] = (store, s, last)

    def open_sqlite(self, path, synchronous=None, busy_timeout_ms=None):
        """Open (or create) a SQLite database as this context's store,
        recovering what it holds: SqliteStore(self, path, ...)."""
        from .sqlite import SqliteStore
        return SqliteStore(self, path, synchronous, busy_timeout_ms)


class _Child:
    """Something owned by a context: every use checks the context."""

    _what = "object"

    @property
    def _p(self):
        self._ctx._p
        if self._ptr is None:
            raise ClosedError("libquota: the %s was removed" % self._what)
        return self._ptr

    @property
    def ctx(self):
        return self._ctx


class Tariff(_Child):
    """A tariff (quota_tariff; quota_tariff_new(3)): tiered unit prices for
    pay-as-you-go (R13, R14), a free allowance (R15) and a failure fee.
    Owned by its context; setters return the tariff, so they chain."""

    _what = "tariff"

    def __init__(self, ctx, ptr):
        self._ctx, self._ptr = ctx, ptr

    def __repr__(self):
        return "<libquota.Tariff %r>" % (self.name if self._ptr and
                                          self._ctx._ptr else None)

    @property
    def name(self):
        """quota_tariff_name."""
        return _s(self._ctx._lib.quota_tariff_name(self._p))

    def add_tier(self, up_to_units, unit_price_micros):
        """quota_tariff_add_tier: positions (previous up_to, up_to] of the
        month cost unit_price_micros each; QUOTA_UNLIMITED closes the list."""
        self._ctx._done(self._ctx._lib.quota_tariff_add_tier(
            self._p, up_to_units, unit_price_micros))
        return self

    def set_mode(self, mode):
        """quota_tariff_set_mode: QUOTA_GRADUATED or QUOTA_VOLUME (R14)."""
        self._ctx._done(self._ctx._lib.quota_tariff_set_mode(self._p, mode))
        return self

    def set_free(self, units, period):
        """quota_tariff_set_free: units per QUOTA_PERIOD_DAY / MONTH /
        LIFETIME (R15)."""
        self._ctx._done(self._ctx._lib.quota_tariff_set_free(self._p, units,
                                                             period))
        return self

    def set_free_daily_limit(self, units):
        """quota_tariff_set_free_daily_limit (0: none)."""
        self._ctx._done(self._ctx._lib.quota_tariff_set_free_daily_limit(
            self._p, units))
        return self

    def set_failure_fee(self, micros_per_unit):
        """quota_tariff_set_failure_fee: fee per unit a release returns."""
        self._ctx._done(self._ctx._lib.quota_tariff_set_failure_fee(
            self._p, micros_per_unit))
        return self

    def price(self, units, volume_before=0):
        """quota_tariff_price: the pay-as-you-go price of units whose
        positions in the month start after volume_before."""
        out = C.c_int64()
        self._ctx._done(self._ctx._lib.quota_tariff_price(
            self._p, volume_before, units, C.byref(out)))
        return out.value


class Offer(_Child):
    """A catalog entry (quota_offer; quota_package_buy(3)), owned by its
    context; bought with Account.package_buy."""

    _what = "offer"

    def __init__(self, ctx, ptr, id):
        self._ctx, self._ptr, self.id = ctx, ptr, id

    def __repr__(self):
        return "<libquota.Offer %r>" % self.id


class Package(_Child):
    """A prepaid package of an account (quota_package; quota_package_add(3)).

    Owned by its account: invalid once the account is removed or reset
    (quota_account_reset), or its context closed (ClosedError)."""

    _what = "package"

    def __init__(self, account, ptr):
        self.account = account
        self._ctx, self._ptr, self._gen = account._ctx, ptr, account._gen

    @property
    def _p(self):
        self.account._p
        if self._ptr is None or self._gen != self.account._gen:
            raise ClosedError("libquota: the package's account was reset or "
                              "removed; find the package again")
        return self._ptr

    def __repr__(self):
        try:
            return "<libquota.Package %r>" % self.id
        except ClosedError:
            return "<libquota.Package invalid>"

    def spec(self):
        """quota_package_get_spec: the package as added (PackageSpec)."""
        s = _ffi.PackageSpec()
        self._ctx._done(self._ctx._lib.quota_package_get_spec(self._p,
                                                              C.byref(s)))
        return PackageSpec(_s(s.id), s.categories, s.units, s.effective_at,
                           s.expires_at, s.price_micros, s.flags, s.priority)

    @property
    def id(self):
        return self.spec().id

    @property
    def remaining(self):
        """quota_package_remaining: units left."""
        return self._ctx._done(self._ctx._lib.quota_package_remaining(self._p))

    def status(self, now):
        """quota_package_status: QUOTA_PACKAGE_* at now (R20)."""
        return self._ctx._lib.quota_package_status(self._p, _t(now))


def _receipt(account, r):
    lines = []
    for i in range(min(r.nlines, K.QUOTA_RECEIPT_LINES)):
        l = r.lines[i]
        pkg = account._package(l.package) if (account is not None and
                                              l.package) else None
        lines.append(ReceiptLine(l.source, l.tier, _s(l.package_id), pkg,
                                 l.units, l.unit_price_micros, l.cost_micros))
    return Receipt(r.units, r.free_units, r.package_units, r.payg_units,
                   r.payg_cost_micros, r.category, r.at, lines, r.lines_total,
                   r.kind, bool(r.replayed), r.hold_id, r.fee_micros,
                   r.forfeited_units)


def _purchase(account, p, bought):
    return Purchase(p.units, p.list_price_micros, p.discount_micros,
                    p.price_micros, p.effective_at, p.expires_at,
                    account._package(p.package) if bought and p.package else None)


def _voucher(v):
    if v is None:
        return None
    return C.byref(_ffi.Voucher(kind=v.kind, value=v.value,
                                min_spend_micros=v.min_spend_micros))


class Account(_Child):
    """An account (quota_account; quota_account_new(3)): packages, counters,
    holds, money, settlement.  Owned by its context; remove() frees it.

    Categories may be given by id or name, times as Unix seconds or
    datetimes (naive: UTC)."""

    _what = "account"

    def __init__(self, ctx, ptr):
        self._ctx, self._ptr = ctx, ptr
        self._pkgs = weakref.WeakValueDictionary()
        self._gen = 0

    def __repr__(self):
        try:
            return "<libquota.Account %r>" % self.id
        except ClosedError:
            return "<libquota.Account invalid>"

    def _package(self, ptr):
        if not ptr:
            return None
        p = self._pkgs.get(ptr)
        if p is None:
            p = self._pkgs[ptr] = Package(self, ptr)
        return p

    def _invalidate_packages(self):
        self._gen += 1
        self._pkgs.clear()

    def _do(self, rc):
        return self._ctx._done(rc)

    @property
    def _lib(self):
        return self._ctx._lib

    @property
    def id(self):
        """quota_account_id."""
        return _s(self._lib.quota_account_id(self._p))

    def remove(self):
        """quota_account_remove: free the account (§7); it and its packages
        become invalid.  With a store, the store keeps it."""
        self._do(self._lib.quota_account_remove(self._p))
        self._ctx._objs.pop(self._ptr, None)
        self._ptr = None
        self._invalidate_packages()

    def context(self):
        """quota_account_ctx: the account's context."""
        ptr = self._lib.quota_account_ctx(self._p)
        assert ptr == self._ctx._ptr
        return self._ctx

    # -- configuration ----------------------------------------------------

    def set_utc_offset(self, seconds):
        """quota_account_set_utc_offset: calendar offset, within +-18 h."""
        self._do(self._lib.quota_account_set_utc_offset(self._p, seconds))

    def set_tariff(self, category, tariff):
        """quota_account_set_tariff (tariff None: none)."""
        self._do(self._lib.quota_account_set_tariff(
            self._p, self._ctx._cat(category),
            tariff._p if tariff is not None else None))

    def set_cap(self, category, period, units):
        """quota_account_set_cap: units per QUOTA_PERIOD_DAY / MONTH for a
        category or QUOTA_ALL (R9); units < 0 removes the cap."""
        self._do(self._lib.quota_account_set_cap(self._p, self._ctx._cat(category),
                                                 period, units))

    def set_overage(self, category, policy):
        """quota_account_set_overage: QUOTA_OVERAGE_PAYG or _STOP (R7)."""
        self._do(self._lib.quota_account_set_overage(
            self._p, self._ctx._cat(category), policy))

    def set_key_window(self, max_keys, max_age_s):
        """quota_account_set_key_window: the idempotency window (R11)."""
        self._do(self._lib.quota_account_set_key_window(self._p, max_keys,
                                                        max_age_s))

    def add_alert(self, category, level, unit=K.QUOTA_ALERT_UNITS):
        """quota_account_add_alert: LOW_QUOTA at level (QUOTA_ALERT_UNITS
        or _PERCENT)."""
        self._do(self._lib.quota_account_add_alert(self._p,
                                                   self._ctx._cat(category),
                                                   level, unit))

    def set_expiry_warning(self, seconds):
        """quota_account_set_expiry_warning (0: never)."""
        self._do(self._lib.quota_account_set_expiry_warning(self._p, seconds))

    # -- reading ----------------------------------------------------------

    def remaining(self, category, now):
        """quota_account_remaining: package units usable at now."""
        return self._do(self._lib.quota_account_remaining(
            self._p, self._ctx._cat(category), _t(now)))

    def used(self, category, period, at):
        """quota_account_used: units counted in the DAY/MONTH containing at
        (category or QUOTA_ALL)."""
        return self._do(self._lib.quota_account_used(
            self._p, self._ctx._cat(category), period, _t(at)))

    def free_used(self, category, at):
        """quota_account_free_used: free units used in the free period."""
        return self._do(self._lib.quota_account_free_used(
            self._p, self._ctx._cat(category), _t(at)))

    # -- packages ---------------------------------------------------------

    def package_add(self, id, categories, units, effective_at,
                    expires_at=K.QUOTA_NEVER, price_micros=0, flags=0,
                    priority=0):
        """quota_package_add (R2-R7): categories a mask or a list of ids or
        names; expires_at QUOTA_NEVER by default.  Returns a Package."""
        spec = _ffi.PackageSpec(id=_b(id), categories=self._ctx._mask(categories),
                                units=units, effective_at=_t(effective_at),
                                expires_at=_t(expires_at),
                                price_micros=price_micros, flags=flags,
                                priority=priority)
        out = P()
        self._do(self._lib.quota_package_add(self._p, C.byref(spec), C.byref(out)))
        return self._package(out.value)

    def package_find(self, id):
        """quota_package_find (NotFound)."""
        out = P()
        self._do(self._lib.quota_package_find(self._p, _b(id), C.byref(out)))
        return self._package(out.value)

    def package_count(self):
        """quota_account_package_count."""
        return self._lib.quota_account_package_count(self._p)

    def package_at(self, i):
        """quota_account_package_at: the i-th package added, or None."""
        return self._package(self._lib.quota_account_package_at(self._p, i))

    def packages(self):
        """Every package, in the order added."""
        return [self.package_at(i) for i in range(self.package_count())]

    # -- charging ---------------------------------------------------------

    def _usage(self, category, units, at, key):
        kb = _b(key)
        return _ffi.Usage(category=self._ctx._cat(category), units=units,
                          at=_t(at), key=kb)

    def charge(self, category, units, at, key=None):
        """quota_charge (R1-R9, R13-R15): free allowance, packages, then
        pay-as-you-go; all or nothing.  Returns a Receipt."""
        u, r = self._usage(category, units, at, key), _ffi.Receipt()
        self._do(self._lib.quota_charge(self._p, C.byref(u), C.byref(r)))
        return _receipt(self, r)

    def quote(self, category, units, at, key=None):
        """quota_quote: what charge would return, changing nothing."""
        u, r = self._usage(category, units, at, key), _ffi.Receipt()
        self._do(self._lib.quota_quote(self._p, C.byref(u), C.byref(r)))
        return _receipt(self, r)

    def charge_sms(self, category, text, at, key=None, flags=0,
                   signature=None, max_segments=0, max_units=0):
        """quota_charge_sms: count a text's segments (str or UTF-8 bytes)
        and charge them; the receipt's ``sms`` says what was counted."""
        data = _b(text)
        o, _ = _sms_opts(flags, signature, max_segments, max_units)
        r, info = _ffi.Receipt(), _ffi.SmsInfo()
        rc = self._lib.quota_charge_sms(self._p, self._ctx._cat(category), data,
                                        len(data), C.byref(o), _t(at), _b(key),
                                        C.byref(r), C.byref(info))
        if rc == K.QUOTA_EENCODING:
            self._ctx._raise_pending(rc)
            raise _encoding_error(rc, info, self._ctx.errmsg)
        self._do(rc)
        out = _receipt(self, r)
        out.sms = _sms_info(info, None)
        return out

    def reserve(self, category, units, at, timeout_s, key=None):
        """quota_reserve (R10): hold units until commit, release or the
        deadline at + timeout_s.  Returns a Receipt; its hold_id is the
        hold."""
        u, r, h = self._usage(category, units, at, key), _ffi.Receipt(), C.c_uint64()
        self._do(self._lib.quota_reserve(self._p, C.byref(u), timeout_s,
                                         C.byref(r), C.byref(h)))
        out = _receipt(self, r)
        out.hold_id = h.value
        return out

    def commit(self, hold_id, units_used, key=None):
        """quota_commit: charge units_used of a hold; the rest goes back."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_commit(self._p, hold_id, units_used, _b(key),
                                        C.byref(r)))
        return _receipt(self, r)

    def release(self, hold_id, key=None):
        """quota_release: return a hold whole (the failure fee applies)."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_release(self._p, hold_id, _b(key), C.byref(r)))
        return _receipt(self, r)

    def reverse(self, key, at):
        """quota_reverse (R12): refund the charge or commit made with key."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_reverse(self._p, _b(key), _t(at), C.byref(r)))
        return _receipt(self, r)

    def tick(self, now):
        """quota_account_tick: advance the clock; returns holds released."""
        return self._do(self._lib.quota_account_tick(self._p, _t(now)))

    def held(self, category=K.QUOTA_ALL):
        """quota_account_held: units held for a category (QUOTA_ALL: all)."""
        return self._do(self._lib.quota_account_held(self._p,
                                                     self._ctx._cat(category)))

    @property
    def hold_count(self):
        """quota_account_hold_count."""
        return self._lib.quota_account_hold_count(self._p)

    def hold_find(self, key):
        """quota_hold_find: the open hold reserved with key (NotFound,
        Resolved)."""
        h = C.c_uint64()
        self._do(self._lib.quota_hold_find(self._p, _b(key), C.byref(h)))
        return h.value

    # -- money, catalog, settlement ---------------------------------------

    def topup(self, micros, at):
        """quota_account_topup (R18, R19)."""
        self._do(self._lib.quota_account_topup(self._p, micros, _t(at)))

    @property
    def balance(self):
        """quota_account_balance, micros (may be negative)."""
        return self._lib.quota_account_balance(self._p)

    def set_credit_limit(self, micros):
        """quota_account_set_credit_limit (R18)."""
        self._do(self._lib.quota_account_set_credit_limit(self._p, micros))

    @property
    def suspended(self):
        """quota_account_suspended (R18)."""
        return bool(self._do(self._lib.quota_account_suspended(self._p)))

    def money(self):
        """quota_account_money: a Money."""
        m = _ffi.Money()
        self._do(self._lib.quota_account_money(self._p, C.byref(m)))
        return Money(m.balance_micros, m.credit_limit_micros,
                     m.outstanding_micros, m.topped_up_micros,
                     m.purchased_micros, m.billed_micros, bool(m.suspended),
                     m.outstanding_bills)

    def set_settlement(self, period=K.QUOTA_PERIOD_DAY, minor_micros=10000,
                       rounding=K.QUOTA_ROUND_HALF_UP):
        """quota_account_set_settlement (R17)."""
        self._do(self._lib.quota_account_set_settlement(self._p, period,
                                                        minor_micros, rounding))

    def package_quote(self, offer, quantity=1, voucher=None, at=0):
        """quota_package_quote: the Purchase buying would make."""
        out = _ffi.Purchase()
        self._do(self._lib.quota_package_quote(self._p, offer._p, quantity,
                                               _voucher(voucher), _t(at),
                                               C.byref(out)))
        return _purchase(self, out, False)

    def package_buy(self, offer, quantity=1, voucher=None, at=0,
                    package_id=None):
        """quota_package_buy (R5, R19): debit the balance and add the
        package; InsufficientFunds or Suspended otherwise."""
        out = _ffi.Purchase()
        self._do(self._lib.quota_package_buy(self._p, offer._p, quantity,
                                             _voucher(voucher), _t(at),
                                             _b(package_id), C.byref(out)))
        return _purchase(self, out, True)

    def settle(self, now, on_bill=None):
        """quota_settle (R17): close every complete settlement period;
        on_bill(Bill) sees each bill.  Returns the number of bills."""
        return self._ctx._settle(self._lib.quota_settle, self._p, now, on_bill)

    # -- pruning ----------------------------------------------------------

    def prune(self, before, what=K.QUOTA_PRUNE_ALL):
        """quota_account_prune (DESIGN 7): drop history before `before`."""
        self._do(self._lib.quota_account_prune(self._p, _t(before), what))

    @property
    def pruned_before(self):
        """quota_account_pruned_before: the horizon, or None if nothing was
        pruned."""
        v = self._lib.quota_account_pruned_before(self._p)
        return None if v == -2**63 else v

    def set_retention(self, seconds, what=K.QUOTA_PRUNE_ALL):
        """quota_account_set_retention: prune after each settlement."""
        self._do(self._lib.quota_account_set_retention(self._p, seconds, what))

    # -- reports ----------------------------------------------------------

    def report(self, period, start, end):
        """quota_report (R22): ReportRow list for [start, end)."""
        rows = []
        ref = weakref.ref(self._ctx)

        def call(rp, ud):
            r = rp.contents
            rows.append(ReportRow(self._ctx._account(r.account), r.period,
                                  r.start, r.end, r.category, r.source,
                                  self._package(r.package), r.units,
                                  r.cost_micros))
        cb = _ffi.REPORT_FN(_guard(ref, call, 1))
        self._do(self._lib.quota_report(self._p, period, _t(start), _t(end),
                                        cb, None))
        return rows

    def report_csv(self, period, start, end, write=None):
        """quota_report_csv: the report as CSV text with a header row; with
        write(str) given, each piece goes there and None is returned."""
        parts = []
        ref = weakref.ref(self._ctx)

        def call(buf, n, ud):
            piece = C.string_at(buf, n)
            if write is None:
                parts.append(piece)
            else:
                write(piece.decode("utf-8"))
        cb = _ffi.WRITE_FN(_guard(ref, call, 1))
        self._do(self._lib.quota_report_csv(self._p, period, _t(start), _t(end),
                                            cb, None))
        return None if write is not None else b"".join(parts).decode("utf-8")

    def report_csv_file(self, period, start, end, file):
        """quota_report_csv_file: write the CSV to a file object with a
        fileno() (flushed first) or to a path."""
        if isinstance(file, (str, bytes, os.PathLike)):
            with open(file, "w") as f:
                return self.report_csv_file(period, start, end, f)
        file.flush()
        fp = _libc_fdopen(os.dup(file.fileno()))
        try:
            rc = self._lib.quota_report_csv_file(self._p, period, _t(start),
                                                 _t(end), fp)
        finally:
            _libc().fclose(fp)
        self._do(rc)

    # -- snapshots and the journal ----------------------------------------

    def snapshot(self):
        """quota_account_snapshot: the account's whole state as bytes."""
        out, n = P(), C.c_size_t()
        self._do(self._lib.quota_account_snapshot(self._p, C.byref(out),
                                                  C.byref(n)))
        try:
            return C.string_at(out.value, n.value)
        finally:
            self._lib.quota_free(self._ctx._p, out)

    def reset(self, snap=None):
        """quota_account_reset: replace the state with a snapshot of the
        same account (None: before its first record).  Package handles
        become invalid."""
        if snap is None:
            rc = self._lib.quota_account_reset(self._p, None, 0)
        else:
            snap = bytes(snap)
            rc = self._lib.quota_account_reset(self._p, snap, len(snap))
        if rc == 0:
            self._invalidate_packages()
        self._do(rc)

    @property
    def seq(self):
        """quota_account_seq: the last record written or applied."""
        return self._lib.quota_account_seq(self._p)

    @property
    def unsynced(self):
        """quota_account_unsynced: waits to be re-synchronised."""
        return bool(self._lib.quota_account_unsynced(self._p))


_libc_handle = None


def _libc():
    global _libc_handle
    if _libc_handle is None:
        libc = C.CDLL(None)
        libc.fdopen.restype = P
        libc.fdopen.argtypes = [C.c_int, C.c_char_p]
        libc.fclose.restype = C.c_int
        libc.fclose.argtypes = [P]
        _libc_handle = libc
    return _libc_handle


def _libc_fdopen(fd):
    fp = _libc().fdopen(fd, b"w")
    if not fp:
        os.close(fd)
        raise OSError(C.get_errno(), "fdopen failed")
    return fp


class Op:
    """One operation of a batch (quota_op; quota_batch(3)).  Make them with
    Op.charge, Op.charge_sms, Op.reserve, Op.commit, Op.release; after
    Context.batch (or run()), ``rc``, ``receipt``, ``hold_id`` (RESERVE)
    and ``error`` (the exception for rc, or None) are set."""

    def __init__(self, kind, account, category=0, units=0, at=0, key=None,
                 timeout_s=0, hold_id=0, units_used=0, text=None, sms=None):
        self.kind, self.account = kind, account
        self.category, self.units, self.at, self.key = category, units, at, key
        self.timeout_s, self.hold_id, self.units_used = timeout_s, hold_id, units_used
        self.text, self.sms = text, sms or {}
        self.rc, self.receipt, self.error = None, None, None

    @classmethod
    def charge(cls, account, category, units, at, key=None):
        return cls(K.QUOTA_OP_CHARGE, account, category, units, at, key)

    @classmethod
    def charge_sms(cls, account, category, text, at, key=None, **sms):
        return cls(K.QUOTA_OP_CHARGE_SMS, account, category, 0, at, key,
                   text=text, sms=sms)

    @classmethod
    def reserve(cls, account, category, units, at, timeout_s, key=None):
        return cls(K.QUOTA_OP_RESERVE, account, category, units, at, key,
                   timeout_s=timeout_s)

    @classmethod
    def commit(cls, account, hold_id, units_used, key=None):
        return cls(K.QUOTA_OP_COMMIT, account, key=key, hold_id=hold_id,
                   units_used=units_used)

    @classmethod
    def release(cls, account, hold_id, key=None):
        return cls(K.QUOTA_OP_RELEASE, account, key=key, hold_id=hold_id)

    def __repr__(self):
        return "<libquota.Op kind=%d rc=%r>" % (self.kind, self.rc)

    def _fill(self, ctx, c):
        keep = []
        c.kind = self.kind
        c.account = self.account._p if self.account is not None else None
        key = _b(self.key)
        keep.append(key)
        usage_kinds = (K.QUOTA_OP_CHARGE, K.QUOTA_OP_CHARGE_SMS,
                       K.QUOTA_OP_RESERVE)
        if self.kind in usage_kinds:
            c.usage.category = ctx._cat(self.category)
            c.usage.units = self.units
            c.usage.at = _t(self.at)
            c.usage.key = key
        else:
            c.key = key
        c.timeout_s = self.timeout_s
        c.hold_id = self.hold_id
        c.units_used = self.units_used
        if self.text is not None:
            data = _b(self.text)
            keep.append(data)
            c.text = data
            c.text_len = len(data)
            o, _ = _sms_opts(**self.sms)
            keep.append(o)
            c.sms_opts = C.pointer(o)
        return keep

    def _read(self, c):
        self.rc = c.rc
        self.hold_id = c.hold_id
        self.receipt = _receipt(self.account, c.receipt) if c.rc == 0 else None
        self.error = (error(c.rc, "") if c.rc < 0 else None)

    def run(self):
        """quota_op_run: run this one operation, no transaction; raises
        its error."""
        ctx = self.account._ctx
        c = _ffi.Op()
        keep = self._fill(ctx, c)
        rc = ctx._lib.quota_op_run(C.byref(c))
        self._read(c)
        del keep
        ctx._done(rc)
        return self.receipt
