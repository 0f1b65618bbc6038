"""Tariffs, offers, packages, accounts and batch operations: the objects
a context owns (quota.h, "Conventions"; see context.py for the rules on
lifetimes and callbacks)."""

import ctypes as C
import os
import weakref

from . import _ffi
from . import constants as K
from .errors import ClosedError, error
from .types import (Money, PackageSpec, Purchase, Receipt, ReceiptLine,
                    ReportRow)
from .util import (P, _b, _encoding_error, _guard, _s, _sms_info, _sms_opts,
                   _t, _text)


class _Child:
    """Something owned by a context: every use checks the context."""

    _what = "object"

    @property
    def _p(self):
        """The C pointer, for a call that changes the object (refused
        while a callback of the context runs: Context._p)."""
        self._ctx._p
        if self._ptr is None:
            raise ClosedError("libquota: the %s was removed" % self._what)
        return self._ptr

    @property
    def _r(self):
        """The C pointer, for a call that only reads (Context._r)."""
        self._ctx._r
        if self._ptr is None:
            raise ClosedError("libquota: the %s was removed" % self._what)
        return self._ptr

    @property
    def ctx(self):
        return self._ctx


class Zone(_Child):
    """A time zone (quota_zone; quota_zone(3), R26): the rules of an IANA
    zone, from the system's tz database or from TZif bytes.  Owned by its
    context; accounts follow it with Account.set_zone."""

    _what = "zone"

    def __init__(self, ctx, ptr):
        self._ctx, self._ptr = ctx, ptr

    def __repr__(self):
        return "<libquota.Zone %r>" % (self.name if self._ptr and
                                        self._ctx._ptr else None)

    @property
    def name(self):
        """quota_zone_name."""
        return _s(self._ctx._lib.quota_zone_name(self._r))

    def offset(self, at):
        """quota_zone_offset: seconds east of UTC in force at UTC time at."""
        off = _ffi.i32()
        self._ctx._done(self._ctx._lib.quota_zone_offset(self._r, _t(at),
                                                         C.byref(off)))
        return off.value


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
        return _s(self._ctx._lib.quota_tariff_name(self._r))

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

    def set_failure_fee_reason(self, reason, micros_per_unit):
        """quota_tariff_set_failure_fee_reason (R27): fee for one reason."""
        self._ctx._done(self._ctx._lib.quota_tariff_set_failure_fee_reason(
            self._p, reason, micros_per_unit))
        return self

    def price(self, units, volume_before=0):
        """quota_tariff_price: the pay-as-you-go price of units whose
        positions in the month start after volume_before."""
        out = C.c_int64()
        self._ctx._done(self._ctx._lib.quota_tariff_price(
            self._r, volume_before, units, C.byref(out)))
        return out.value


class Offer(_Child):
    """A catalog entry (quota_offer; quota_package_buy(3)), owned by its
    context; bought with Account.package_buy."""

    _what = "offer"

    def __init__(self, ctx, ptr, id):
        self._ctx, self._ptr, self.id = ctx, ptr, id

    def __repr__(self):
        return "<libquota.Offer %r>" % self.id


def _spec_key(s):
    """What names a package besides its account and id: its spec as added
    (a quota_package_spec read by quota_package_get_spec), which the
    library never changes."""
    return (s.categories, s.units, s.effective_at, s.expires_at,
            s.price_micros, s.flags, s.priority)


class Package(_Child):
    """A prepaid package of an account (quota_package; quota_package_add(3)).

    Named by its account, its id and its spec as added (categories, units,
    effective_at, expires_at, price_micros, flags, priority: remembered
    when the handle is made), and looked up by id (quota_package_find) on
    every use, so that nothing the library frees behind it (a batch whose
    store failed, which resets the account; a prune with
    QUOTA_PRUNE_PACKAGES or a retention prune in settle) leaves it
    pointing at freed memory.  A use raises NotFound when the account has
    no package of that id, or has one whose spec differs: a package the
    library dropped is gone for its handles even when a new package takes
    its id (quota_account_prune(3)), and Account hands out a new handle
    for the new one.  The one case it cannot tell apart is a new package
    of the same id and the very same spec: the old handle reads it.  (The
    C pointer does not tell either: a reset re-creates the same package
    elsewhere, and malloc may hand a freed package's address to a new
    one.)  Invalid once the account is removed or reset
    (quota_account_reset), or its context closed (ClosedError)."""

    _what = "package"

    def __init__(self, account, id, key):
        self.account = account
        self._ctx, self._id, self._gen = account._ctx, id, account._gen
        self._key = key

    def _find(self):
        """The package's C pointer and its spec (a _ffi.PackageSpec), found
        by id now; NotFound if it is gone."""
        a = self.account._r
        if self._gen != self.account._gen:
            raise ClosedError("libquota: the package's account was reset or "
                              "removed; find the package again")
        lib, out, s = self._ctx._lib, P(), _ffi.PackageSpec()
        self._ctx._done(lib.quota_package_find(a, _b(self._id, "package id"),
                                               C.byref(out)))
        self._ctx._done(lib.quota_package_get_spec(out.value, C.byref(s)))
        if _spec_key(s) != self._key:
            raise error(K.QUOTA_ENOTFOUND,
                        "libquota: package %r was dropped; the account's "
                        "package of that id now is another one" % self._id)
        return out.value, s

    @property
    def _p(self):
        return self._find()[0]

    _r = _p

    def __repr__(self):
        return "<libquota.Package %r>" % self._id

    def spec(self):
        """quota_package_get_spec: the package as added (PackageSpec)."""
        s = self._find()[1]
        return PackageSpec(_s(s.id), s.categories, s.units, s.effective_at,
                           s.expires_at, s.price_micros, s.flags, s.priority)

    @property
    def id(self):
        """The package's id (kept: it names the package)."""
        return self._id

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
        pid = _s(l.package_id)
        pkg = None
        if account is not None and l.package:
            # By id when the line has one: after a batch whose commit
            # failed, l.package is freed (the account was reset).
            pkg = (account._package_named(pid) if pid is not None
                   else account._package(l.package))
        lines.append(ReceiptLine(l.source, l.tier, pid, pkg,
                                 l.units, l.unit_price_micros, l.cost_micros))
    return Receipt(r.units, r.free_units, r.package_units, r.payg_units,
                   r.payg_cost_micros, r.category, r.at, lines, r.lines_total,
                   r.kind, bool(r.replayed), r.hold_id, r.fee_micros,
                   r.forfeited_units, None, r.receipt_id, r.failure_reason)


def _purchase(account, p, bought):
    return Purchase(p.units, p.list_price_micros, p.discount_micros,
                    p.price_micros, p.effective_at, p.expires_at,
                    account._package(p.package) if bought and p.package else None,
                    p.gift_micros, p.cash_micros, p.credit_micros)


def _voucher(v):
    if v is None:
        return None
    return C.byref(_ffi.new(_ffi.Voucher, kind=v.kind, value=v.value,
                            min_spend_micros=v.min_spend_micros))


class Account(_Child):
    """An account (quota_account; quota_account_new(3)): packages, counters,
    holds, money, settlement.  Owned by its context; remove() frees it.

    Categories may be given by id or name, times as Unix seconds (an int:
    a float such as time.time() raises TypeError, int(time.time()) works)
    or datetimes (naive: UTC) and dates."""

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
        """The Package of a C package pointer the library just handed out
        (valid now: its spec is read at once)."""
        if not ptr:
            return None
        s = _ffi.PackageSpec()
        self._ctx._done(self._lib.quota_package_get_spec(ptr, C.byref(s)))
        return self._handle(_s(s.id), _spec_key(s))

    def _package_named(self, id):
        """The Package of the account's package of that id now (found by
        id: quota_package_find, quota_package_get_spec).  With none, a
        handle that raises NotFound (not kept).  Raises nothing of the
        call's own: a batch reads its receipts before it raises."""
        out, s = P(), _ffi.PackageSpec()
        lib = self._lib
        if (lib.quota_package_find(self._r, _b(id, "package id"),
                                   C.byref(out)) < 0 or
                lib.quota_package_get_spec(out.value, C.byref(s)) < 0):
            return Package(self, id, None)
        return self._handle(id, _spec_key(s))

    def _handle(self, id, key):
        """The one Package handle of a package (id and spec key) while it
        is in use; a cached handle of the id with another spec is an old
        package's, which the new one does not get."""
        p = self._pkgs.get(id)
        if p is None or p._key != key:
            p = self._pkgs[id] = Package(self, id, key)
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
        return _s(self._lib.quota_account_id(self._r))

    def remove(self):
        """quota_account_remove: free the account (§7); it and its packages
        become invalid.  With a store, the store keeps it."""
        self._do(self._lib.quota_account_remove(self._p))
        self._ctx._objs.pop(self._ptr, None)
        self._ptr = None
        self._invalidate_packages()

    def context(self):
        """quota_account_ctx: the account's context."""
        ptr = self._lib.quota_account_ctx(self._r)
        assert ptr == self._ctx._ptr
        return self._ctx

    # -- configuration ----------------------------------------------------

    def set_utc_offset(self, seconds):
        """quota_account_set_utc_offset: calendar offset, within +-18 h."""
        self._do(self._lib.quota_account_set_utc_offset(self._p, seconds))

    def set_zone(self, zone):
        """quota_account_set_zone (R26): follow zone's local days, hours
        and months (None: back to the fixed offset); before usage."""
        self._do(self._lib.quota_account_set_zone(
            self._p, zone._p if zone is not None else None))

    @property
    def zone(self):
        """quota_account_zone: the Zone followed, or None (fixed offset)."""
        return self._ctx._zone(self._lib.quota_account_zone(self._r))

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
            self._r, self._ctx._cat(category), _t(now)))

    def used(self, category, period, at):
        """quota_account_used: units counted in the DAY/MONTH containing at
        (category or QUOTA_ALL)."""
        return self._do(self._lib.quota_account_used(
            self._r, self._ctx._cat(category), period, _t(at)))

    def free_used(self, category, at):
        """quota_account_free_used: free units used in the free period."""
        return self._do(self._lib.quota_account_free_used(
            self._r, self._ctx._cat(category), _t(at)))

    # -- packages ---------------------------------------------------------

    def package_add(self, id, categories, units, effective_at,
                    expires_at=K.QUOTA_NEVER, price_micros=0, flags=0,
                    priority=0):
        """quota_package_add (R2-R7): categories a mask or a list of ids or
        names; expires_at QUOTA_NEVER by default.  Returns a Package."""
        spec = _ffi.new(_ffi.PackageSpec, id=_b(id, "id"),
                        categories=self._ctx._mask(categories),
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
        self._do(self._lib.quota_package_find(self._r, _b(id, "id"), C.byref(out)))
        return self._package(out.value)

    def package_count(self):
        """quota_account_package_count."""
        return self._lib.quota_account_package_count(self._r)

    def package_at(self, i):
        """quota_account_package_at: the i-th package added, or None."""
        return self._package(self._lib.quota_account_package_at(self._r, i))

    def packages(self):
        """Every package, in the order added."""
        return [self.package_at(i) for i in range(self.package_count())]

    # -- charging ---------------------------------------------------------

    def _usage(self, category, units, at, key):
        # _cat, _t and _b check their values for these fields already;
        # units is checked here (check_field: at once when valid).
        return _ffi.Usage(category=self._ctx._cat(category),
                          units=_ffi.check_field(_ffi.Usage, "units", units),
                          at=_t(at), key=_b(key, "key"))

    def charge(self, category, units, at, key=None):
        """quota_charge (R1-R9, R13-R15): free allowance, packages, then
        pay-as-you-go; all or nothing.  Returns a Receipt."""
        u, r = self._usage(category, units, at, key), _ffi.Receipt()
        self._do(self._lib.quota_charge(self._p, C.byref(u), C.byref(r)))
        return _receipt(self, r)

    def quote(self, category, units, at, key=None):
        """quota_quote: what charge would return, changing nothing."""
        u, r = self._usage(category, units, at, key), _ffi.Receipt()
        self._do(self._lib.quota_quote(self._r, C.byref(u), C.byref(r)))
        return _receipt(self, r)

    def charge_sms(self, category, text, at, key=None, flags=0,
                   signature=None, max_segments=0, max_units=0):
        """quota_charge_sms: count a text's segments (str or UTF-8 bytes)
        and charge them; the receipt's ``sms`` says what was counted.  A
        str with a lone surrogate raises EncodingError (sms_count)."""
        data = _text(text)
        o, _ = _sms_opts(flags, signature, max_segments, max_units)
        r, info = _ffi.Receipt(), _ffi.SmsInfo()
        rc = self._lib.quota_charge_sms(self._p, self._ctx._cat(category), data,
                                        len(data), C.byref(o), _t(at),
                                        _b(key, "key"),
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
        self._do(self._lib.quota_commit(self._p, hold_id, units_used,
                                        _b(key, "key"), C.byref(r)))
        return _receipt(self, r)

    def release(self, hold_id, key=None):
        """quota_release: return a hold whole (the failure fee applies)."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_release(self._p, hold_id, _b(key, "key"),
                                         C.byref(r)))
        return _receipt(self, r)

    def release_reason(self, hold_id, reason, key=None):
        """quota_release_reason (R27): release with a QUOTA_FAIL_* reason."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_release_reason(self._p, hold_id, reason,
                                                _b(key, "key"), C.byref(r)))
        return _receipt(self, r)

    def reverse_receipt(self, receipt_id, at):
        """quota_reverse_receipt (R27): refund by receipt id or hold id."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_reverse_receipt(self._p, receipt_id, _t(at),
                                                 C.byref(r)))
        return _receipt(self, r)

    def keep_receipts(self, on=True):
        """quota_account_keep_receipts (R27)."""
        self._do(self._lib.quota_account_keep_receipts(self._p, 1 if on else 0))

    def block(self, reason=None, at=0):
        """quota_account_block (R25)."""
        self._do(self._lib.quota_account_block(self._p, _b(reason, "reason"),
                                               _t(at)))

    def unblock(self, at=0):
        """quota_account_unblock (R25)."""
        self._do(self._lib.quota_account_unblock(self._p, _t(at)))

    @property
    def blocked(self):
        """quota_account_blocked (R25): None, or (reason, since)."""
        why = C.c_char_p()
        since = _ffi.i64()
        rc = self._do(self._lib.quota_account_blocked(self._r, C.byref(why),
                                                      C.byref(since)))
        if rc == 0:
            return None
        return (_s(why.value), since.value)

    def renewal_set(self, offer, units_left_at_most=None,
                    expires_within=None, now=0):
        """quota_renewal_set (R23): renew packages of offer when one has
        units_left_at_most units or fewer left and/or is expires_within
        seconds from its expiry (None: that trigger unused)."""
        none = -1  # QUOTA_RENEWAL_NONE
        self._do(self._lib.quota_renewal_set(
            self._p, offer._p,
            none if units_left_at_most is None else units_left_at_most,
            none if expires_within is None else expires_within, _t(now)))

    def renewal_clear(self, offer, now=0):
        """quota_renewal_clear (R23): stop renewing offer."""
        self._do(self._lib.quota_renewal_clear(self._p, offer._p, _t(now)))

    def renewal(self, offer):
        """quota_renewal_get (R23): None when offer is not marked, or
        (units_left_at_most, expires_within), each None when unused; its
        other errors raise (an offer of another context: InvalidArgument)."""
        u, w = _ffi.i64(), _ffi.i64()
        rc = self._lib.quota_renewal_get(self._r, offer._r, C.byref(u),
                                         C.byref(w))
        if rc == K.QUOTA_ENOTFOUND:
            return None
        self._do(rc)
        return (u.value if u.value >= 0 else None,
                w.value if w.value >= 0 else None)

    def reverse(self, key, at):
        """quota_reverse (R12): refund the charge or commit made with key."""
        r = _ffi.Receipt()
        self._do(self._lib.quota_reverse(self._p, _b(key, "key"), _t(at),
                                         C.byref(r)))
        return _receipt(self, r)

    def tick(self, now):
        """quota_account_tick: advance the clock; returns holds released."""
        return self._do(self._lib.quota_account_tick(self._p, _t(now)))

    def held(self, category=K.QUOTA_ALL):
        """quota_account_held: units held for a category (QUOTA_ALL: all)."""
        return self._do(self._lib.quota_account_held(self._r,
                                                     self._ctx._cat(category)))

    @property
    def hold_count(self):
        """quota_account_hold_count."""
        return self._lib.quota_account_hold_count(self._r)

    def hold_find(self, key):
        """quota_hold_find: the open hold reserved with key (NotFound,
        Resolved)."""
        h = C.c_uint64()
        self._do(self._lib.quota_hold_find(self._r, _b(key, "key"), C.byref(h)))
        return h.value

    # -- money, catalog, settlement ---------------------------------------

    def topup(self, micros, at):
        """quota_account_topup (R18, R19)."""
        self._do(self._lib.quota_account_topup(self._p, micros, _t(at)))

    @property
    def balance(self):
        """quota_account_balance, micros (may be negative)."""
        return self._lib.quota_account_balance(self._r)

    def set_credit_limit(self, micros):
        """quota_account_set_credit_limit (R18)."""
        self._do(self._lib.quota_account_set_credit_limit(self._p, micros))

    @property
    def suspended(self):
        """quota_account_suspended (R18)."""
        return bool(self._do(self._lib.quota_account_suspended(self._r)))

    def money(self):
        """quota_account_money: a Money."""
        m = _ffi.Money()
        self._do(self._lib.quota_account_money(self._r, C.byref(m)))
        return Money(m.balance_micros, m.credit_limit_micros,
                     m.outstanding_micros, m.topped_up_micros,
                     m.purchased_micros, m.billed_micros, bool(m.suspended),
                     m.outstanding_bills, m.gift_micros,
                     m.gift_granted_micros, m.gift_spent_micros,
                     m.gift_expired_micros, m.pay_order, m.pay_flags)

    def gift_grant(self, micros, expires_at=K.QUOTA_NEVER, now=0):
        """quota_gift_grant (R24): gift money beside the balance, spent
        soonest expiry first, never refunded."""
        self._do(self._lib.quota_gift_grant(self._p, micros, _t(expires_at),
                                            _t(now)))

    def gift_balance(self, now):
        """quota_gift_balance (R24): the gift money usable at now."""
        return self._lib.quota_gift_balance(self._r, _t(now))

    def set_pay_order(self, order=K.QUOTA_PAY_GIFT_FIRST, flags=0):
        """quota_account_set_pay_order (R24): QUOTA_PAY_GIFT_FIRST or
        QUOTA_PAY_CASH_FIRST; flags QUOTA_PAY_CREDIT_PURCHASES."""
        self._do(self._lib.quota_account_set_pay_order(self._p, order, flags))

    def set_settlement(self, period=K.QUOTA_PERIOD_DAY, minor_micros=10000,
                       rounding=K.QUOTA_ROUND_HALF_UP):
        """quota_account_set_settlement (R17)."""
        self._do(self._lib.quota_account_set_settlement(self._p, period,
                                                        minor_micros, rounding))

    def package_quote(self, offer, quantity=1, voucher=None, at=0):
        """quota_package_quote: the Purchase buying would make."""
        out = _ffi.Purchase()
        self._do(self._lib.quota_package_quote(self._r, offer._r, quantity,
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
                                             _b(package_id, "package_id"),
                                             C.byref(out)))
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
        v = self._lib.quota_account_pruned_before(self._r)
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
        cb = _ffi.REPORT_FN(_guard(ref, call, 1, "report row"))
        self._do(self._lib.quota_report(self._r, period, _t(start), _t(end),
                                        cb, None))
        return rows

    def report_csv(self, period, start, end, write=None):
        """quota_report_csv: the report as CSV text with a header row; with
        write(str) given, each piece goes there and None is returned (write
        may read the context, not change it: InvalidArgument).  An
        exception in write stops the report and is raised by this call,
        also when it is made from inside another callback (the event
        hook): the outer call does not raise it again."""
        parts = []
        ref = weakref.ref(self._ctx)

        def call(buf, n, ud):
            piece = C.string_at(buf, n)
            if write is None:
                parts.append(piece)
            else:
                write(piece.decode("utf-8"))
        cb = _ffi.WRITE_FN(_guard(ref, call, 1, "CSV writer"))
        self._do(self._lib.quota_report_csv(self._r, period, _t(start), _t(end),
                                            cb, None))
        return None if write is not None else b"".join(parts).decode("utf-8")

    def report_csv_file(self, period, start, end, file):
        """quota_report_csv_file: write the CSV to a file object with a
        fileno() (flushed first) or to a path."""
        if isinstance(file, (str, bytes, os.PathLike)):
            with open(file, "w") as f:
                return self.report_csv_file(period, start, end, f)
        file.flush()
        p, start, end = self._r, _t(start), _t(end)
        fp = _libc_fdopen(os.dup(file.fileno()))
        try:
            rc = self._lib.quota_report_csv_file(p, period, start, end, fp)
        finally:
            _libc().fclose(fp)
        self._do(rc)

    # -- snapshots and the journal ----------------------------------------

    def snapshot(self):
        """quota_account_snapshot: the account's whole state as bytes."""
        out, n = P(), C.c_size_t()
        self._do(self._lib.quota_account_snapshot(self._r, C.byref(out),
                                                  C.byref(n)))
        try:
            return C.string_at(out.value, n.value)
        finally:
            self._lib.quota_free(self._ctx._r, out)

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
        return self._lib.quota_account_seq(self._r)

    @property
    def unsynced(self):
        """quota_account_unsynced: waits to be re-synchronised."""
        return bool(self._lib.quota_account_unsynced(self._r))


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
        f = _ffi.check_field
        c.kind = f(_ffi.Op, "kind", self.kind)
        c.account = self.account._p if self.account is not None else None
        key = _b(self.key, "key")
        keep.append(key)
        usage_kinds = (K.QUOTA_OP_CHARGE, K.QUOTA_OP_CHARGE_SMS,
                       K.QUOTA_OP_RESERVE)
        if self.kind in usage_kinds:
            c.usage = _ffi.new(_ffi.Usage, category=ctx._cat(self.category),
                               units=self.units, at=_t(self.at), key=key)
        else:
            c.key = key
        c.timeout_s = f(_ffi.Op, "timeout_s", self.timeout_s)
        c.hold_id = f(_ffi.Op, "hold_id", self.hold_id)
        c.units_used = f(_ffi.Op, "units_used", self.units_used)
        if self.text is not None:
            data = _text(self.text)
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
