"""ctypes declarations of include/quota.h, quota_store.h and quota_sqlite.h.

Private to the package.  Every struct is declared field for field as in the
headers (the tests compare sizes and offsets with the C compiler's); every
function gets its argtypes and restype here, once.
"""

import ctypes as C
import ctypes.util
import os

P = C.c_void_p
i32, u32, i64, u64 = C.c_int32, C.c_uint32, C.c_int64, C.c_uint64
sz = C.c_size_t
cstr = C.c_char_p

RECEIPT_LINES = 16


class Allocator(C.Structure):
    pass


MALLOC_FN = C.CFUNCTYPE(P, P, sz)
REALLOC_FN = C.CFUNCTYPE(P, P, P, sz)
FREE_FN = C.CFUNCTYPE(None, P, P)
Allocator._fields_ = [
    ("version", C.c_uint),
    ("ud", P),
    ("malloc_fn", MALLOC_FN),
    ("realloc_fn", REALLOC_FN),
    ("free_fn", FREE_FN),
]


class Usage(C.Structure):
    _fields_ = [("category", u32), ("units", i64), ("at", i64), ("key", cstr)]


class ReceiptLine(C.Structure):
    _fields_ = [
        ("source", i32),
        ("tier", u32),
        ("package_id", cstr),
        ("package", P),
        ("units", i64),
        ("unit_price_micros", i64),
        ("cost_micros", i64),
    ]


class Receipt(C.Structure):
    _fields_ = [
        ("units", i64),
        ("free_units", i64),
        ("package_units", i64),
        ("payg_units", i64),
        ("payg_cost_micros", i64),
        ("category", u32),
        ("at", i64),
        ("nlines", u32),
        ("lines_total", u32),
        ("lines", ReceiptLine * RECEIPT_LINES),
        ("kind", i32),
        ("replayed", i32),
        ("hold_id", u64),
        ("fee_micros", i64),
        ("forfeited_units", i64),
        ("receipt_id", u64),
        ("failure_reason", i32),
    ]


class PackageSpec(C.Structure):
    _fields_ = [
        ("id", cstr),
        ("categories", u64),
        ("units", i64),
        ("effective_at", i64),
        ("expires_at", i64),
        ("price_micros", i64),
        ("flags", u32),
        ("priority", i32),
    ]


class Event(C.Structure):
    _fields_ = [
        ("kind", i32),
        ("category", u32),
        ("account", P),
        ("package", P),
        ("remaining", i64),
        ("threshold", i64),
        ("at", i64),
        ("period", i32),
        ("outstanding_micros", i64),
        ("balance_micros", i64),
        ("receipt", C.POINTER(Receipt)),
        ("reason", C.c_char_p),
    ]


class Money(C.Structure):
    _fields_ = [
        ("balance_micros", i64),
        ("credit_limit_micros", i64),
        ("outstanding_micros", i64),
        ("topped_up_micros", i64),
        ("purchased_micros", i64),
        ("billed_micros", i64),
        ("suspended", i32),
        ("outstanding_bills", u32),
        ("gift_micros", i64),
        ("gift_granted_micros", i64),
        ("gift_spent_micros", i64),
        ("gift_expired_micros", i64),
        ("pay_order", i32),
        ("pay_flags", u32),
    ]


class OfferSpec(C.Structure):
    _fields_ = [
        ("id", cstr),
        ("categories", u64),
        ("units", i64),
        ("price_micros", i64),
        ("unit_tariff", P),
        ("min_units", i64),
        ("step_units", i64),
        ("max_units", i64),
        ("valid_months", i32),
        ("valid_days", i32),
        ("flags", u32),
        ("priority", i32),
    ]


class Voucher(C.Structure):
    _fields_ = [("kind", i32), ("value", i64), ("min_spend_micros", i64)]


class Purchase(C.Structure):
    _fields_ = [
        ("units", i64),
        ("list_price_micros", i64),
        ("discount_micros", i64),
        ("price_micros", i64),
        ("effective_at", i64),
        ("expires_at", i64),
        ("package", P),
        ("gift_micros", i64),
        ("cash_micros", i64),
        ("credit_micros", i64),
    ]


class BillLine(C.Structure):
    _fields_ = [
        ("category", u32),
        ("kind", i32),
        ("late", i32),
        ("units", i64),
        ("receipts_micros", i64),
        ("adjustment_micros", i64),
        ("amount_micros", i64),
        ("rounded_micros", i64),
    ]


class Bill(C.Structure):
    _fields_ = [
        ("account", P),
        ("seq", u64),
        ("period_start", i64),
        ("period_end", i64),
        ("status", i32),
        ("nlines", u32),
        ("lines", C.POINTER(BillLine)),
        ("amount_micros", i64),
        ("total_micros", i64),
        ("balance_micros", i64),
        ("gift_micros", i64),
        ("cash_micros", i64),
        ("credit_micros", i64),
    ]


class ReportRow(C.Structure):
    _fields_ = [
        ("account", P),
        ("period", i32),
        ("start", i64),
        ("end", i64),
        ("category", u32),
        ("source", i32),
        ("package", P),
        ("units", i64),
        ("cost_micros", i64),
    ]


class SmsOpts(C.Structure):
    _fields_ = [
        ("version", C.c_uint),
        ("flags", u32),
        ("signature", cstr),
        ("max_segments", u32),
        ("segment_offsets", C.POINTER(sz)),
        ("segment_offsets_cap", sz),
        ("max_units", u32),
    ]


class SmsInfo(C.Structure):
    _fields_ = [
        ("encoding", C.c_int),
        ("units", i64),
        ("segments", i64),
        ("error_offset", sz),
        ("shift_locking", u32),
        ("shift_single", u32),
    ]


class Op(C.Structure):
    _fields_ = [
        ("kind", i32),
        ("account", P),
        ("usage", Usage),
        ("timeout_s", i64),
        ("hold_id", u64),
        ("units_used", i64),
        ("key", cstr),
        ("text", cstr),
        ("text_len", sz),
        ("sms_opts", C.POINTER(SmsOpts)),
        ("rc", i32),
        ("receipt", Receipt),
    ]


APPEND_FN = C.CFUNCTYPE(C.c_int, P, cstr, u64, P, sz)
BEGIN_FN = C.CFUNCTYPE(C.c_int, P)
COMMIT_FN = C.CFUNCTYPE(C.c_int, P)
ERRMSG_FN = C.CFUNCTYPE(P, P)


class Store(C.Structure):
    _fields_ = [
        ("version", C.c_uint),
        ("size", sz),
        ("ud", P),
        ("append", APPEND_FN),
        ("begin", BEGIN_FN),
        ("commit", COMMIT_FN),
        ("errmsg", ERRMSG_FN),
    ]


class SqliteOptions(C.Structure):
    _fields_ = [
        ("version", C.c_uint),
        ("size", sz),
        ("synchronous", C.c_int),
        ("busy_timeout_ms", C.c_int),
    ]


EVENT_FN = C.CFUNCTYPE(C.c_int, C.POINTER(Event), P)
BILL_FN = C.CFUNCTYPE(C.c_int, C.POINTER(Bill), P)
REPORT_FN = C.CFUNCTYPE(C.c_int, C.POINTER(ReportRow), P)
WRITE_FN = C.CFUNCTYPE(C.c_int, P, sz, P)

# C name -> ctypes class: what the layout test compares with the compiler.
STRUCTS = {
    "quota_allocator": Allocator,
    "quota_usage": Usage,
    "quota_receipt_line": ReceiptLine,
    "quota_receipt": Receipt,
    "quota_package_spec": PackageSpec,
    "quota_event": Event,
    "quota_money": Money,
    "quota_offer_spec": OfferSpec,
    "quota_voucher": Voucher,
    "quota_purchase": Purchase,
    "quota_bill_line": BillLine,
    "quota_bill": Bill,
    "quota_report_row": ReportRow,
    "quota_sms_opts": SmsOpts,
    "quota_sms_info": SmsInfo,
    "quota_op": Op,
    "quota_store": Store,
    "quota_sqlite_options": SqliteOptions,
}

PP = C.POINTER(P)
pu32 = C.POINTER(u32)
pi64 = C.POINTER(i64)
pu64 = C.POINTER(u64)
prc = C.POINTER(Receipt)

# name: (restype, argtypes) for every function of quota.h and quota_store.h.
CORE = {
    "quota_strerror": (cstr, [C.c_int]),
    "quota_err_name": (cstr, [C.c_int]),
    "quota_version": (cstr, []),
    "quota_version_number": (u32, []),
    "quota_ctx_new": (C.c_int, [PP]),
    "quota_ctx_new_with": (C.c_int, [C.POINTER(Allocator), PP]),
    "quota_ctx_free": (None, [P]),
    "quota_ctx_set_hash_seed": (C.c_int, [P, C.POINTER(C.c_uint8 * 16)]),
    "quota_errmsg": (cstr, [P]),
    "quota_category_add": (C.c_int, [P, cstr, pu32]),
    "quota_category_find": (C.c_int, [P, cstr, pu32]),
    "quota_category_name": (cstr, [P, u32]),
    "quota_category_count": (u32, [P]),
    "quota_tariff_new": (C.c_int, [P, cstr, PP]),
    "quota_tariff_find": (C.c_int, [P, cstr, PP]),
    "quota_tariff_add_tier": (C.c_int, [P, i64, i64]),
    "quota_tariff_set_mode": (C.c_int, [P, C.c_int]),
    "quota_tariff_set_free": (C.c_int, [P, i64, C.c_int]),
    "quota_tariff_set_free_daily_limit": (C.c_int, [P, i64]),
    "quota_tariff_name": (cstr, [P]),
    "quota_tariff_price": (C.c_int, [P, i64, i64, pi64]),
    "quota_account_new": (C.c_int, [P, cstr, PP]),
    "quota_account_find": (C.c_int, [P, cstr, PP]),
    "quota_account_find_many": (C.c_int, [P, C.POINTER(cstr), sz, PP]),
    "quota_account_id": (cstr, [P]),
    "quota_ctx_account_count": (u32, [P]),
    "quota_ctx_account_at": (P, [P, u32]),
    "quota_account_remove": (C.c_int, [P]),
    "quota_account_ctx": (P, [P]),
    "quota_account_set_utc_offset": (C.c_int, [P, i32]),
    # R26 time zones
    "quota_zone_load": (C.c_int, [P, cstr, PP]),
    "quota_zone_from_tzif": (C.c_int, [P, cstr, C.c_void_p, sz, PP]),
    "quota_zone_find": (C.c_int, [P, cstr, PP]),
    "quota_zone_name": (cstr, [P]),
    "quota_zone_offset": (C.c_int, [P, i64, C.POINTER(i32)]),
    "quota_account_set_zone": (C.c_int, [P, P]),
    "quota_account_zone": (P, [P]),
    "quota_account_set_tariff": (C.c_int, [P, u32, P]),
    "quota_account_set_cap": (C.c_int, [P, u32, C.c_int, i64]),
    "quota_account_set_overage": (C.c_int, [P, u32, C.c_int]),
    "quota_account_remaining": (i64, [P, u32, i64]),
    "quota_account_used": (i64, [P, u32, C.c_int, i64]),
    "quota_account_free_used": (i64, [P, u32, i64]),
    "quota_package_add": (C.c_int, [P, C.POINTER(PackageSpec), PP]),
    "quota_package_find": (C.c_int, [P, cstr, PP]),
    "quota_package_remaining": (i64, [P]),
    "quota_package_status": (C.c_int, [P, i64]),
    "quota_package_get_spec": (C.c_int, [P, C.POINTER(PackageSpec)]),
    "quota_account_package_count": (u32, [P]),
    "quota_account_package_at": (P, [P, u32]),
    "quota_charge": (C.c_int, [P, C.POINTER(Usage), prc]),
    "quota_quote": (C.c_int, [P, C.POINTER(Usage), prc]),
    "quota_reserve": (C.c_int, [P, C.POINTER(Usage), i64, prc, pu64]),
    "quota_commit": (C.c_int, [P, u64, i64, cstr, prc]),
    "quota_release": (C.c_int, [P, u64, cstr, prc]),
    "quota_account_tick": (i64, [P, i64]),
    "quota_ctx_tick": (i64, [P, i64]),
    "quota_account_held": (i64, [P, u32]),
    "quota_account_hold_count": (u32, [P]),
    "quota_hold_find": (C.c_int, [P, cstr, pu64]),
    "quota_account_set_key_window": (C.c_int, [P, u32, i64]),
    "quota_reverse": (C.c_int, [P, cstr, i64, prc]),
    "quota_tariff_set_failure_fee": (C.c_int, [P, i64]),
    "quota_tariff_set_failure_fee_reason": (C.c_int, [P, i32, i64]),
    "quota_release_reason": (C.c_int, [P, u64, i32, cstr, prc]),
    "quota_account_keep_receipts": (C.c_int, [P, C.c_int]),
    "quota_reverse_receipt": (C.c_int, [P, u64, i64, prc]),
    "quota_account_block": (C.c_int, [P, cstr, i64]),
    "quota_account_unblock": (C.c_int, [P, i64]),
    "quota_account_blocked": (C.c_int, [P, C.POINTER(C.c_char_p),
                                        C.POINTER(i64)]),
    "quota_renewal_set": (C.c_int, [P, P, i64, i64, i64]),
    "quota_renewal_clear": (C.c_int, [P, P, i64]),
    "quota_renewal_get": (C.c_int, [P, P, C.POINTER(i64), C.POINTER(i64)]),
    "quota_ctx_set_event_hook": (C.c_int, [P, EVENT_FN, P]),
    "quota_ctx_hook_failures": (u64, [P]),
    "quota_account_add_alert": (C.c_int, [P, u32, i64, C.c_int]),
    "quota_account_set_expiry_warning": (C.c_int, [P, i64]),
    "quota_account_topup": (C.c_int, [P, i64, i64]),
    "quota_account_balance": (i64, [P]),
    "quota_account_set_credit_limit": (C.c_int, [P, i64]),
    "quota_gift_grant": (C.c_int, [P, i64, i64, i64]),
    "quota_gift_balance": (i64, [P, i64]),
    "quota_account_set_pay_order": (C.c_int, [P, i32, u32]),
    "quota_account_suspended": (C.c_int, [P]),
    "quota_account_money": (C.c_int, [P, C.POINTER(Money)]),
    "quota_money_round": (C.c_int, [i64, i64, C.c_int, pi64]),
    "quota_account_set_settlement": (C.c_int, [P, C.c_int, i64, C.c_int]),
    "quota_offer_add": (C.c_int, [P, C.POINTER(OfferSpec), PP]),
    "quota_offer_find": (C.c_int, [P, cstr, PP]),
    "quota_package_quote": (C.c_int, [P, P, i64, C.POINTER(Voucher), i64,
                                      C.POINTER(Purchase)]),
    "quota_package_buy": (C.c_int, [P, P, i64, C.POINTER(Voucher), i64, cstr,
                                    C.POINTER(Purchase)]),
    "quota_settle": (i64, [P, i64, BILL_FN, P]),
    "quota_ctx_settle": (i64, [P, i64, BILL_FN, P]),
    "quota_account_prune": (C.c_int, [P, i64, u32]),
    "quota_account_pruned_before": (i64, [P]),
    "quota_account_set_retention": (C.c_int, [P, i64, u32]),
    "quota_report": (C.c_int, [P, C.c_int, i64, i64, REPORT_FN, P]),
    "quota_report_csv": (C.c_int, [P, C.c_int, i64, i64, WRITE_FN, P]),
    "quota_report_csv_file": (C.c_int, [P, C.c_int, i64, i64, P]),
    "quota_account_snapshot": (C.c_int, [P, PP, C.POINTER(sz)]),
    "quota_free": (None, [P, P]),
    "quota_account_load": (C.c_int, [P, cstr, sz, PP]),
    "quota_account_reset": (C.c_int, [P, cstr, sz]),
    "quota_sms_count": (C.c_int, [cstr, sz, C.POINTER(SmsOpts),
                                  C.POINTER(SmsInfo)]),
    "quota_charge_sms": (C.c_int, [P, u32, cstr, sz, C.POINTER(SmsOpts), i64,
                                   cstr, prc, C.POINTER(SmsInfo)]),
    "quota_journal_apply": (C.c_int, [P, cstr, sz, u32]),
    "quota_account_seq": (u64, [P]),
    "quota_account_unsynced": (C.c_int, [P]),
    "quota_ctx_config_seq": (u64, [P]),
    "quota_journal_size": (C.c_int, [cstr, sz, C.POINTER(sz)]),
    "quota_journal_peek": (C.c_int, [P, cstr, sz, C.c_char_p, pu64]),
    "quota_snapshot_peek": (C.c_int, [P, cstr, sz, C.c_char_p, pu64]),
    "quota_batch": (C.c_int, [P, C.POINTER(Op), sz]),
    "quota_op_run": (C.c_int, [C.POINTER(Op)]),
    # quota_store.h
    "quota_ctx_set_store": (C.c_int, [P, C.POINTER(Store)]),
    "quota_ctx_set_error": (C.c_int, [P, C.c_int, cstr]),
}

# quota_sqlite.h, in libquota-sqlite.
SQLITE = {
    "quota_sqlite_open": (C.c_int, [P, cstr, PP]),
    "quota_sqlite_open_with": (C.c_int, [P, cstr, C.POINTER(SqliteOptions), PP]),
    "quota_sqlite_close": (None, [P]),
    "quota_sqlite_checkpoint": (C.c_int, [P]),
    "quota_sqlite_resync": (C.c_int, [P, P]),
}


def _declare(lib, table):
    for name, (res, args) in table.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


def _open(env, names, what):
    """Load a shared library: $env if set, else the standard names, else
    what ctypes.util.find_library finds."""
    path = os.environ.get(env)
    if path:
        return C.CDLL(path)
    errors = []
    for name in names:
        try:
            return C.CDLL(name)
        except OSError as e:
            errors.append(str(e))
    found = ctypes.util.find_library(what)
    if found:
        return C.CDLL(found)
    raise OSError("libquota: cannot load %s (set %s to its path): %s"
                  % (names[0], env, "; ".join(errors)))


_core = None
_sqlite = None


def core():
    """libquota.so.0, declared (loaded on first use)."""
    global _core
    if _core is None:
        _core = _declare(_open("LIBQUOTA_PATH", ["libquota.so.0"], "quota"),
                         CORE)
    return _core


def sqlite():
    """libquota-sqlite.so.0, declared; loaded after libquota so that its
    dependency on libquota.so.0 is the library already loaded."""
    global _sqlite
    if _sqlite is None:
        core()
        names = ["libquota-sqlite.so.0"]
        base = os.environ.get("LIBQUOTA_PATH")
        if base:
            names.insert(0, os.path.join(os.path.dirname(base),
                                         "libquota-sqlite.so.0"))
        _sqlite = _declare(_open("LIBQUOTA_SQLITE_PATH", names, "quota-sqlite"),
                           SQLITE)
    return _sqlite
