"""libquota for Python: the C library through ctypes (no compiler needed).

    import libquota as q
    with q.Context() as ctx:
        sms = ctx.category_add("sms")
        std = ctx.tariff_new("std", tiers=[(q.QUOTA_UNLIMITED, 50_000)])
        acme = ctx.account_new("acme")
        acme.set_tariff(sms, std)
        r = acme.charge(sms, 3, at=1_715_000_000)   # a Receipt
        r.payg_cost_micros                          # 150000

The library is found through $LIBQUOTA_PATH (the path of libquota.so.0),
else the standard name libquota.so.0, else ctypes.util.find_library.  The
SQLite store (SqliteStore) loads libquota-sqlite.so.0 the same way
($LIBQUOTA_SQLITE_PATH) when first used.

Errors raise QuotaError subclasses carrying the QUOTA_E* code and name and
quota_errmsg (libquota.errors); results are dataclasses (libquota.types);
every QUOTA_* constant of the headers is here under its C name.

Arguments are checked before C sees them: an integer argument or field
that is not an integer (a float, a str, a bool) raises TypeError; one out
of its C type's range (int32_t, uint32_t, int64_t, uint64_t), a category
id outside 0..63 in a list of categories, and a string with a NUL
character or a lone surrogate raise InvalidArgument (QUOTA_EINVAL) - C
would read them wrapped or cut short.  An SMS text (sms_count,
charge_sms) with a lone surrogate raises EncodingError instead, as C does
for an encoded one.
"""

from .constants import *  # noqa: F401,F403
from .constants import mask
from .errors import *  # noqa: F401,F403
from .errors import QuotaError, ClosedError, ERRORS, error
from .types import (Bill, BillLine, Event, Money, PackageSpec, Purchase,
                    Receipt, ReceiptLine, ReportRow, SmsInfo, Voucher)
from .util import (err_name, journal_peek, journal_size, money_round,
                   sms_count, snapshot_peek, strerror, version, version_number)
from .account import Account, Offer, Op, Package, Tariff, Zone
from .context import Allocator, Context, Store
from .sqlite import SqliteStore

__version__ = "0.1.0"

from . import constants as _constants, errors as _errors  # noqa: E402

__all__ = (_constants.__all__ + _errors.__all__ + [
    "mask", "Bill", "BillLine", "Event", "Money", "PackageSpec", "Purchase",
    "Receipt", "ReceiptLine", "ReportRow", "SmsInfo", "Voucher", "Account",
    "Allocator", "Context", "Offer", "Op", "Package", "Store", "Tariff",
    "Zone", "err_name", "journal_peek", "journal_size", "money_round", "sms_count",
    "snapshot_peek", "strerror", "version", "version_number", "SqliteStore"])
