"""Contexts: categories, tariffs, accounts and offers made and found,
whole-context ticks and settlement, events, the journal, batches, Python
stores and allocators (include/quota.h, quota_store.h).

Ownership follows the C library (quota.h, "Conventions"): a Context owns
its accounts, tariffs and offers, an Account its packages.  The Python
objects keep a reference to their context, and every use checks that the
context is still open (ClosedError otherwise): closing a context - with
close(), a ``with`` block, or garbage collection - invalidates everything
in it.  Account.remove() invalidates the account and its packages;
Account.reset() (and SqliteStore.resync()) its packages (quota_account_reset).
A Package is named by its account, its id and its spec as added (read
when the handle is made) and looked up by id on every use: a package the
library dropped by itself (a prune with QUOTA_PRUNE_PACKAGES, in prune()
or a retention prune in settle) raises NotFound, also once a new package
takes its id - unless the new one has the very same spec, which a handle
cannot tell apart (account.Package).

Python callbacks (event hook, bill callback, report and CSV writers,
store, allocator) are kept alive as long as they are registered, and an
exception raised in one never crosses into C: the callback returns a
QUOTA_E* code (QUOTA_ESTORE for stores and writers, which stops the call;
a failure count for hooks, where the state change stands, R21) and the
exception is raised again when the call that ran the callback returns -
that call only: a call made from inside another callback (report_csv in
the event hook) raises its own callbacks' exceptions there, and the
outer call (the charge that fired the hook) does not raise them again;
if the hook catches one, the outer call returns normally.  Each pending
exception is tagged with the callback depth of its call
(Context._raise_pending).

The C pages forbid calling the library on the same context from inside
these callbacks, and the module enforces it (the C call would free or
change what it is working on): while a store callback runs (append,
begin, commit) or an allocator function (malloc, realloc, free), every
call on its context - reads and close() included - raises
InvalidArgument; while an event hook, bill callback or report row or CSV
writer runs, the calls that read the context work (quota_events(3),
quota_report(3)) and every call that changes it or frees memory -
close() included, account remove() and reset() - raises InvalidArgument.
Context.errmsg is a read of the message buffer and works anywhere ("" after
close()).  Other contexts are not concerned.

Times are ints (Unix seconds) or datetimes and dates; a float, even a
whole one, raises TypeError: pass int(time.time()), not time.time().
"""

import ctypes as C
import weakref

from . import _ffi
from . import constants as K
from .errors import (ClosedError, Conflict, InvalidArgument, OutcomeUnknown,
                     error)
from .types import Bill, BillLine, Event
from .util import P, _b, _guard, _n, _s, _t, journal_peek, snapshot_peek
from .account import Account, Offer, Tariff, Zone, _receipt


class Allocator:
    """Base of Python allocators for Context(allocator=...)
    (quota_ctx_new_with, quota_allocator; STYLE 8).

    Subclasses implement malloc(size), realloc(ptr, size) and free(ptr)
    with addresses as ints (None or 0 for failure); realloc(None, n) must
    behave as malloc and free(None) must be harmless.  They run inside
    the library's calls on the context and may not call the library on
    it: every such call (a read, close()) raises InvalidArgument there.
    An exception in one is a failed allocation (QUOTA_ENOMEM) and is
    raised again when the call returns (but not by close(): an
    exception free raises while close() frees the context is dropped,
    the context being gone).  This one uses libc's
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
    other exception - a QuotaError subclass other than those two
    included - means nothing was stored: the call fails with QUOTA_ESTORE
    and the exception is raised again when it returns (the StoreError as
    its __context__).  Returning a QUOTA_E* code (an int) answers that
    code; returning anything else but None, 0 or an int is a refusal
    (QUOTA_ESTORE, and a TypeError raised when the call returns).
    begin() and commit() (both or neither) frame a batch (quota_batch)
    and answer the same way; errmsg() may say what went wrong.  These
    callbacks run inside the library's call and may not call the library
    on the same context (quota_store(3)): such a call raises
    InvalidArgument.  This base keeps records in memory in ``records`` (a
    list of (account, seq, rec)) and has no batches."""

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
        # The kinds of the callbacks of this context running now, innermost
        # last ("store", "allocator", "event hook", "bill", "report row",
        # "CSV writer").
        self._cb = []
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
        """Wrap an allocator function for C.  While it runs the context is
        busy with an "allocator" callback: every call on it (reads
        included, close() too) raises InvalidArgument, as inside a store
        callback; C is in the middle of changing it.  An exception becomes
        a failed allocation (NULL; ignored for free) and is raised again
        when the call that allocated returns (tagged with its callback
        depth, as _guard does)."""
        def tramp(ud, *args):
            ctx = ref()
            if ctx is not None:
                depth = len(ctx._cb)
                ctx._cb.append("allocator")
            try:
                r = fn(*args)
                return None if is_free else (r or None)
            except BaseException as e:  # noqa: B902 - must not reach C
                if ctx is not None:
                    ctx._pending.append((depth, e))
                return None
            finally:
                if ctx is not None:
                    ctx._cb.pop()
        return tramp

    # -- plumbing ---------------------------------------------------------

    @property
    def _p(self):
        """The C pointer, for a call that changes the context (or frees
        memory): refused while one of its callbacks runs."""
        if self._ptr is None:
            raise ClosedError("libquota: the context is closed")
        if self._cb:
            raise self._busy()
        return self._ptr

    @property
    def _r(self):
        """The C pointer, for a call that only reads the context: refused
        only while a store callback (quota_store(3)) or an allocator
        function runs."""
        if self._ptr is None:
            raise ClosedError("libquota: the context is closed")
        if self._cb and ("store" in self._cb or "allocator" in self._cb):
            raise self._busy()
        return self._ptr

    def _busy(self):
        if "allocator" in self._cb:
            msg = ("an allocator function (malloc, realloc, free) may not "
                   "call the library on its context: C is in the middle of "
                   "changing it")
        elif "store" in self._cb:
            msg = ("a store callback (append, begin, commit) may not call "
                   "the library on its context (quota_store(3))")
        else:
            msg = ("this call changes the context or frees memory, which "
                   "its %s callback, running now, may not do: it may only "
                   "read the context (quota_events(3), quota_report(3), "
                   "quota_settle(3))" % self._cb[-1])
        return error(K.QUOTA_EINVAL, "libquota: " + msg)

    def _raise_pending(self, rc=0):
        """After a call: raise the first exception of the callbacks this
        call ran.  Each pending exception is tagged with the callback
        depth of the call that ran its callback (len(_cb) then: 0 for a
        call from outside any callback, 1 for one from inside an event
        hook...).  A call raises only the exceptions of its own depth, and
        forgets those of deeper calls (made from its callbacks, which had
        theirs to raise); those of outer calls wait for them.  So an
        exception a hook caught from a call it made is not raised again
        by the call that ran the hook."""
        if not self._pending:
            return
        d = len(self._cb)
        exc = next((e for k, e in self._pending if k == d), None)
        self._pending[:] = [(k, e) for k, e in self._pending if k < d]
        if exc is not None:
            if rc < 0:
                exc.__context__ = error(rc, self.errmsg)
            raise exc

    def _done(self, rc):
        """After a call: a callback's exception first, then rc < 0 as its
        QUOTA_E* exception with quota_errmsg; else rc."""
        if self._pending:
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

    def _zone(self, ptr):
        if not ptr:
            return None
        z = self._objs.get(ptr)
        if z is None:
            z = self._objs[ptr] = Zone(self, ptr)
        return z

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
        if self._cb:
            raise self._busy()
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
        if self._cb:
            return "<libquota.Context in a callback>"
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
        """quota_errmsg: what was wrong with the last failed call; "" after
        close().  A read of the context's message buffer, allowed from
        every callback."""
        if self._ptr is None:
            return ""
        return self._lib.quota_errmsg(self._ptr).decode("utf-8", "replace")

    def set_error(self, code, msg):
        """quota_ctx_set_error (quota_store.h): word a failure of a store's
        own call on this context; returns code."""
        return self._lib.quota_ctx_set_error(self._r, code, _b(msg, "msg"))

    # -- categories -------------------------------------------------------

    def _cat(self, c):
        """A category id: a name, or an integer of uint32_t's range (the
        library refuses ids it has not made, and QUOTA_ALL fits)."""
        if type(c) is int and 0 <= c <= 0xFFFFFFFF:
            return c    # the common case, at once
        if isinstance(c, str):
            return self.category_find(c)
        return _n(c, "category", C.c_uint32)

    def _mask(self, cats):
        """A category mask: an integer mask (uint64_t), or category names
        and ids, each id in 0..63 (InvalidArgument otherwise)."""
        if isinstance(cats, (str, bytes)):
            cats = [cats]
        elif not hasattr(cats, "__iter__"):
            return _n(cats, "categories", C.c_uint64)
        m = 0
        for c in cats:
            cid = self._cat(c)
            if cid >= K.QUOTA_MAX_CATEGORIES:
                raise error(K.QUOTA_EINVAL, "libquota: categories: category "
                            "%d is not in 0..%d" % (cid, K.QUOTA_MAX_CATEGORIES - 1))
            m |= 1 << cid
        return m

    def category_add(self, name):
        """quota_category_add: register a category; returns its id (from 0).

        Wherever a method takes a category, its name may stand for its id."""
        out = C.c_uint32()
        self._done(self._lib.quota_category_add(self._p, _b(name, "name"),
                                                C.byref(out)))
        return out.value

    def category_find(self, name):
        """quota_category_find: a category's id by name (NotFound)."""
        out = C.c_uint32()
        self._done(self._lib.quota_category_find(self._r, _b(name, "name"),
                                                 C.byref(out)))
        return out.value

    def category_name(self, cid):
        """quota_category_name: the name of an id, or None."""
        return _s(self._lib.quota_category_name(self._r, cid))

    def category_count(self):
        """quota_category_count."""
        return self._lib.quota_category_count(self._r)

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
        self._done(self._lib.quota_tariff_new(self._p, _b(name, "name"),
                                              C.byref(out)))
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
        self._done(self._lib.quota_tariff_find(self._r, _b(name, "name"),
                                               C.byref(out)))
        return self._tariff(out.value)

    # -- time zones (R26) -------------------------------------------------

    def zone_load(self, name):
        """quota_zone_load: the IANA zone name from the system's tz
        database (NotFound without the file); the same Zone again for a
        name the context has."""
        out = P()
        self._done(self._lib.quota_zone_load(self._p, _b(name, "name"),
                                             C.byref(out)))
        return self._zone(out.value)

    def zone_from_tzif(self, name, tzif):
        """quota_zone_from_tzif: a zone from TZif bytes (RFC 8536)."""
        b = bytes(tzif)
        out = P()
        self._done(self._lib.quota_zone_from_tzif(self._p, _b(name, "name"), b,
                                                  len(b), C.byref(out)))
        return self._zone(out.value)

    def zone_find(self, name):
        """quota_zone_find (NotFound)."""
        out = P()
        self._done(self._lib.quota_zone_find(self._r, _b(name, "name"),
                                             C.byref(out)))
        return self._zone(out.value)

    # -- accounts ---------------------------------------------------------

    def account_new(self, aid):
        """quota_account_new: an account (ids unique per context)."""
        out = P()
        self._done(self._lib.quota_account_new(self._p, _b(aid, "account id"),
                                               C.byref(out)))
        return self._account(out.value)

    def account_find(self, aid):
        """quota_account_find (NotFound; InvalidArgument for an id with a
        NUL character, which C would read cut short, or a lone surrogate)."""
        out = P()
        self._done(self._lib.quota_account_find(self._r, _b(aid, "account id"),
                                                C.byref(out)))
        return self._account(out.value)

    def account_find_many(self, ids):
        """quota_account_find_many: the accounts of many ids at once, in
        their order, None for an id no account has (issue 13: at scale,
        faster than account_find for each; then batch() charges them)."""
        if isinstance(ids, (str, bytes)):
            raise TypeError("account_find_many: a sequence of ids, not an id")
        # An id with a NUL character (C would read it cut short) or a lone
        # surrogate (no UTF-8 for it) names no account: it goes as "",
        # which none has.
        keep = []
        for i in ids:
            try:
                keep.append(_b(i, "account id"))
            except InvalidArgument:
                keep.append(b"")
        n = len(keep)
        arr = (C.c_char_p * n)(*keep)
        out = (P * n)()
        rc = self._lib.quota_account_find_many(self._r, arr, n, out)
        if rc != K.QUOTA_ENOTFOUND:
            self._done(rc)
        return [self._account(out[i]) for i in range(n)]

    def account_count(self):
        """quota_ctx_account_count."""
        return self._lib.quota_ctx_account_count(self._r)

    def account_at(self, i):
        """quota_ctx_account_at: the i-th account in the order made, or None."""
        return self._account(self._lib.quota_ctx_account_at(self._r, i))

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
        spec = _ffi.new(
            _ffi.OfferSpec,
            id=_b(id, "id"), categories=self._mask(categories), units=units,
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
        self._done(self._lib.quota_offer_find(self._r, _b(id, "id"), C.byref(out)))
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
        each bill (it may read the context, not change it: InvalidArgument).
        Returns the number of bills."""
        return self._settle(self._lib.quota_ctx_settle, self._p, now, on_bill)

    def _settle(self, fn, p, now, on_bill):
        if on_bill is None:
            return self._done(fn(p, _t(now), _ffi.BILL_FN(), None))
        ref = weakref.ref(self)

        def call(bp, ud):
            on_bill(self._bill(bp.contents))
        cb = _ffi.BILL_FN(_guard(ref, call, K.QUOTA_EINVAL, "bill"))
        return self._done(fn(p, _t(now), cb, None))

    def _bill(self, b):
        lines = [BillLine(l.category, l.kind, bool(l.late), l.units,
                          l.receipts_micros, l.adjustment_micros,
                          l.amount_micros, l.rounded_micros)
                 for l in (b.lines[i] for i in range(b.nlines))]
        return Bill(self._account(b.account), b.seq, b.period_start,
                    b.period_end, b.status, lines, b.amount_micros,
                    b.total_micros, b.balance_micros, b.gift_micros,
                    b.cash_micros, b.credit_micros)

    # -- events -----------------------------------------------------------

    def set_event_hook(self, fn):
        """quota_ctx_set_event_hook: fn(Event) is called synchronously after
        each state change (R21); None removes it.  An exception in fn is
        counted (hook_failures), the state change stands, and the exception
        is raised when the call that fired the event returns.  A call fn
        makes raises its own callbacks' exceptions (a report_csv writer's)
        inside fn; one that fn catches is not raised again by the call that
        fired the event.  fn may read the context; a call that changes it
        or frees memory (close() included) raises InvalidArgument
        (quota_events(3))."""
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
        cb = _ffi.EVENT_FN(_guard(ref, call, K.QUOTA_EINVAL, "event hook"))
        self._done(self._lib.quota_ctx_set_event_hook(self._p, cb, None))
        self._keep["event"] = cb

    def _event(self, e):
        a = self._account(e.account)
        pkg = a._package(e.package) if (a is not None and e.package) else None
        rcpt = _receipt(a, e.receipt.contents) if e.receipt else None
        return Event(e.kind, e.category, a, pkg, e.remaining, e.threshold,
                     e.at, e.period, e.outstanding_micros, e.balance_micros,
                     rcpt, _s(e.reason))

    @property
    def hook_failures(self):
        """quota_ctx_hook_failures: hook and bill callbacks that did not
        return 0."""
        return self._lib.quota_ctx_hook_failures(self._r)

    # -- journal and batches ----------------------------------------------

    @property
    def config_seq(self):
        """quota_ctx_config_seq: the configuration stream's last record."""
        return self._lib.quota_ctx_config_seq(self._r)

    @property
    def config_unstored(self):
        """quota_ctx_config_unstored: the configuration changes made while
        the context had no store (in no journal: SqliteStore refuses such a
        context)."""
        return self._lib.quota_ctx_config_unstored(self._r)

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
        # Conflict and OutcomeUnknown answer their codes; anything else is
        # QUOTA_ESTORE, worded by errmsg below, and raised again when the
        # call returns (a QuotaError too: NotFound raised in append comes
        # out as NotFound, the StoreError as its __context__).
        signals = (Conflict, OutcomeUnknown)

        def noted(fn):
            def call(*args):
                try:
                    return fn(*args)
                except signals:
                    raise
                except BaseException as e:
                    last["msg"] = "%s: %s" % (type(e).__name__, e)
                    raise
            return call

        s.append = _ffi.APPEND_FN(_guard(
            ref, noted(lambda ud, account, seq, rec, n: store.append(
                _s(account), seq, C.string_at(rec, n))),
            K.QUOTA_ESTORE, "store", signals))
        begin, commit = _storefn(store, "begin"), _storefn(store, "commit")
        if begin and commit:
            s.begin = _ffi.BEGIN_FN(_guard(ref, noted(lambda ud: begin()),
                                           K.QUOTA_ESTORE, "store", signals))
            s.commit = _ffi.COMMIT_FN(_guard(ref, noted(lambda ud: commit()),
                                             K.QUOTA_ESTORE, "store", signals))
        own = _storefn(store, "errmsg")

        def errmsg(ud):
            ctx = ref()
            if ctx is not None:
                ctx._cb.append("store")
            try:
                msg = last["msg"] or (own() if own else None)
                last["msg"] = None
                if not msg:
                    return None
                data = str(msg).encode("utf-8", "replace").replace(b"\0", b" ")
            except BaseException:  # noqa: B902 - must not reach C
                return None
            finally:
                if ctx is not None:
                    ctx._cb.pop()
            buf = C.create_string_buffer(data)
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
