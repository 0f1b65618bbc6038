"""Helpers shared by the modules of the package, and the functions of the
API that need no context: versions, error names, money rounding, SMS
counting, journal and snapshot peeks."""

import ctypes as C
import datetime as _dt

from . import _ffi
from . import constants as K
from .errors import error
from .types import SmsInfo

P = C.c_void_p

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _t(x):
    """A time: Unix seconds as they are (an int of int64_t's range: a
    float, even time.time(), raises TypeError), or a datetime (naive
    means UTC) or date (midnight UTC)."""
    if type(x) is int and -2**63 <= x < 2**63:
        return x    # the common case, at once
    if isinstance(x, _dt.datetime):
        if x.tzinfo is None:
            x = x.replace(tzinfo=_dt.timezone.utc)
        return (x - _EPOCH) // _dt.timedelta(seconds=1)
    if isinstance(x, _dt.date):
        return _t(_dt.datetime(x.year, x.month, x.day))
    return _ffi.check_int(x, "time", C.c_int64)


def _n(v, what, ctype=C.c_int64):
    """An integer argument checked against its C type before C sees it
    (_ffi.check_int): TypeError for a value that is not an integer (a
    float, a str, a bool), InvalidArgument for one out of range."""
    return _ffi.check_int(v, what, ctype)


def _surrogate(s, e, what, code=K.QUOTA_EINVAL):
    """The error for a str with a lone surrogate (UnicodeEncodeError e):
    InvalidArgument, or EncodingError for a text (code), whose ``offset``
    is the byte offset in UTF-8 at which the surrogate would start."""
    off = len(s[:e.start].encode("utf-8"))
    err = error(code, "libquota: %s: lone surrogate U+%04X at index %d "
                "(not encodable in UTF-8)" % (what, ord(s[e.start]), e.start))
    if code == K.QUOTA_EENCODING:
        err.offset = off
    return err


def _b(s, what="string"):
    """A string argument as UTF-8 bytes (None stays None; bytes are taken
    as they are).  InvalidArgument for a NUL character (C would read the
    string cut short at it) or a lone surrogate (no UTF-8 for it)."""
    if s is None:
        return None
    if not isinstance(s, bytes):
        s = str(s)
        try:
            s = s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _surrogate(s, e, what) from None
    if b"\0" in s:
        raise error(K.QUOTA_EINVAL, "libquota: %s: contains a NUL character"
                    % what)
    return s


def _text(t):
    """An SMS text as UTF-8 bytes: a str is encoded (EncodingError for a
    lone surrogate, as C says for an encoded one), bytes taken as they
    are.  Its length goes with it: a NUL character is part of it."""
    if isinstance(t, bytes):
        return t
    if not isinstance(t, str):
        raise TypeError("libquota: text: expected a str or bytes, got %s"
                        % type(t).__name__)
    try:
        return t.encode("utf-8")
    except UnicodeEncodeError as e:
        raise _surrogate(t, e, "text", K.QUOTA_EENCODING) from None


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
    o = _ffi.new(_ffi.SmsOpts, version=K.QUOTA_SMS_OPTS_VERSION, flags=flags,
                 signature=_b(signature, "signature"),
                 max_segments=max_segments, max_units=max_units)
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
    (with ``offset``, the bad byte; for a str with a lone surrogate, where
    its UTF-8 would start) or TooLong."""
    data = _text(text)
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
    p = ctx._r if ctx is not None else None
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


def _guard(ctxref, fn, failcode, kind, signals=()):
    """Wrap a Python callback for C: its exception is kept on the context
    (raised again when the call that ran the callback returns) and
    failcode returned instead.  The exception is tagged with the callback
    depth of that call (Context._raise_pending): a call made from inside
    another callback raises its own callbacks' exceptions itself, and the
    outer call does not raise them again.  An exception of a class in
    signals is a QuotaError raised on purpose: its code is returned and
    it is not raised again (a store saying QUOTA_ECONFLICT, say).  A
    return other than None or an int of C's int range is failcode too,
    with a TypeError raised when the call returns.  While fn runs, the
    context knows a callback of that kind is running (Context._busy) and
    refuses what the C pages forbid there."""
    def tramp(*args):
        ctx = ctxref()
        if ctx is not None:
            depth = len(ctx._cb)
            ctx._cb.append(kind)
        try:
            r = fn(*args)
            if r is None:
                return 0
            if type(r) is int and -2**31 <= r < 2**31:
                return r
            raise TypeError("libquota: a %s callback returned %r: None or "
                            "a QUOTA_E* code" % (kind, r))
        except signals as e:
            return e.code
        except BaseException as e:  # noqa: B902 - must not reach C
            if ctx is not None:
                ctx._pending.append((depth, e))
            return failcode
        finally:
            if ctx is not None:
                ctx._cb.pop()
    return tramp
