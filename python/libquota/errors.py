"""Exceptions: one class per QUOTA_E* code, all under QuotaError.

Each class carries its code and C name (``code``, ``name``); an instance
also carries the library's fixed text for the code (``strerror``, from
quota_strerror) and what was wrong with the call (``errmsg``, from
quota_errmsg of the context; "" for calls without a context).  Where a
Python base class fits, the class also derives from it (InvalidArgument
is a ValueError, NotFound a LookupError, ...).
"""

from . import constants as K


class QuotaError(Exception):
    """A libquota call returned a negative QUOTA_E* code.

    Attributes: ``code`` (the int), ``name`` ("QUOTA_EINVAL"),
    ``strerror`` (quota_strerror's fixed text) and ``errmsg`` (quota_errmsg
    of the context right after the call: what exactly was wrong).
    """

    code = None
    name = "QUOTA_E?"

    def __init__(self, code=None, errmsg="", strerror=None):
        if code is None:
            code = type(self).code
        self.code = code
        if type(self).code is None or type(self).code != code:
            self.name = _name(code)
        self.errmsg = errmsg or ""
        self.strerror = strerror if strerror is not None else _strerror(code)
        super().__init__(code, self.errmsg)

    def __str__(self):
        return "%s: %s" % (self.name, self.errmsg or self.strerror)


def _name(code):
    from . import _ffi
    return _ffi.core().quota_err_name(code).decode()


def _strerror(code):
    from . import _ffi
    return _ffi.core().quota_strerror(code).decode()


class ClosedError(ValueError):
    """An object was used after its context was closed, or after it was
    removed (an account) or invalidated (a package of a removed or reset
    account).  Not a QUOTA_E* code: the call never reached the library."""


def _make(pyname, cname, bases, doc):
    cls = type(pyname, (QuotaError,) + bases,
               {"code": getattr(K, cname), "name": cname, "__doc__": doc,
                "__module__": __name__})
    return cls


InvalidArgument = _make("InvalidArgument", "QUOTA_EINVAL", (ValueError,),
                        "QUOTA_EINVAL: invalid argument.")
OutOfMemory = _make("OutOfMemory", "QUOTA_ENOMEM", (MemoryError,),
                    "QUOTA_ENOMEM: out of memory (nothing changed).")
NotFound = _make("NotFound", "QUOTA_ENOTFOUND", (LookupError,),
                 "QUOTA_ENOTFOUND: not found.")
AlreadyExists = _make("AlreadyExists", "QUOTA_EEXISTS", (),
                      "QUOTA_EEXISTS: already exists.")
Overflow = _make("Overflow", "QUOTA_EOVERFLOW", (OverflowError,),
                 "QUOTA_EOVERFLOW: arithmetic overflow or capacity exceeded.")
Exhausted = _make("Exhausted", "QUOTA_EEXHAUSTED", (),
                  "QUOTA_EEXHAUSTED: quota exhausted and overage not allowed (R7).")
CapReached = _make("CapReached", "QUOTA_ECAP", (),
                   "QUOTA_ECAP: send cap reached (R9).")
Suspended = _make("Suspended", "QUOTA_ESUSPENDED", (),
                  "QUOTA_ESUSPENDED: account suspended (R18).")
InsufficientFunds = _make("InsufficientFunds", "QUOTA_EFUNDS", (),
                          "QUOTA_EFUNDS: insufficient funds (R19).")
StoreError = _make("StoreError", "QUOTA_ESTORE", (),
                   "QUOTA_ESTORE: a storage (or report/writer) callback failed.")
EncodingError = _make("EncodingError", "QUOTA_EENCODING", (ValueError,),
                      "QUOTA_EENCODING: invalid UTF-8; ``offset`` is the "
                      "offset of the bad byte.")
TooLong = _make("TooLong", "QUOTA_ETOOLONG", (ValueError,),
                "QUOTA_ETOOLONG: message too long.")
Resolved = _make("Resolved", "QUOTA_ERESOLVED", (),
                 "QUOTA_ERESOLVED: hold already committed, released or expired.")
KeyConflict = _make("KeyConflict", "QUOTA_EKEYCONFLICT", (),
                    "QUOTA_EKEYCONFLICT: idempotency key reused with other "
                    "parameters (R11).")
AlreadyReversed = _make("AlreadyReversed", "QUOTA_EREVERSED", (),
                        "QUOTA_EREVERSED: charge already reversed (R12).")
VoucherError = _make("VoucherError", "QUOTA_EVOUCHER", (),
                     "QUOTA_EVOUCHER: voucher does not apply to this purchase.")
Conflict = _make("Conflict", "QUOTA_ECONFLICT", (),
                 "QUOTA_ECONFLICT: another writer holds this sequence number.")
Corrupt = _make("Corrupt", "QUOTA_ECORRUPT", (),
                "QUOTA_ECORRUPT: corrupt or truncated record or snapshot.")
VersionError = _make("VersionError", "QUOTA_EVERSION", (),
                     "QUOTA_EVERSION: format version newer than this library.")
OutcomeUnknown = _make("OutcomeUnknown", "QUOTA_EUNKNOWN", (),
                       "QUOTA_EUNKNOWN: the store cannot tell whether the "
                       "record was stored; the account must be re-synchronised.")
Unsynced = _make("Unsynced", "QUOTA_EUNSYNCED", (),
                 "QUOTA_EUNSYNCED: account must be re-synchronised from the store.")
SequenceError = _make("SequenceError", "QUOTA_ESEQUENCE", (),
                      "QUOTA_ESEQUENCE: record out of sequence.")
Pruned = _make("Pruned", "QUOTA_EPRUNED", (),
               "QUOTA_EPRUNED: span reaches data pruned from the account.")
Blocked = _make("Blocked", "QUOTA_EBLOCKED", (),
                "QUOTA_EBLOCKED: account blocked by the host (R25): new "
                "business refused.")

# code -> class
ERRORS = {cls.code: cls for cls in (
    InvalidArgument, OutOfMemory, NotFound, AlreadyExists, Overflow,
    Exhausted, CapReached, Suspended, InsufficientFunds, StoreError,
    EncodingError, TooLong, Resolved, KeyConflict, AlreadyReversed,
    VoucherError, Conflict, Corrupt, VersionError, OutcomeUnknown, Unsynced,
    SequenceError, Pruned, Blocked)}


def error(code, errmsg=""):
    """The exception for a negative code: its class, or QuotaError for a
    code this module does not know."""
    return ERRORS.get(code, QuotaError)(code, errmsg)


__all__ = ["QuotaError", "ClosedError", "ERRORS", "error"] + \
    [c.__name__ for c in ERRORS.values()]
