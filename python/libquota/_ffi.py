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
    "quota_ctx_config_unstored": (u64, [P]),
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


# name: the header's parameter names, for the messages of argument checks.
ARGNAMES = {
    "quota_strerror": "rc",
    "quota_err_name": "rc",
    "quota_version": "",
    "quota_version_number": "",
    "quota_ctx_new": "out",
    "quota_ctx_new_with": "alloc out",
    "quota_ctx_free": "ctx",
    "quota_ctx_set_hash_seed": "ctx seed",
    "quota_errmsg": "ctx",
    "quota_category_add": "ctx name id",
    "quota_category_find": "ctx name id",
    "quota_category_name": "ctx id",
    "quota_category_count": "ctx",
    "quota_tariff_new": "ctx name out",
    "quota_tariff_find": "ctx name out",
    "quota_tariff_add_tier": "t up_to_units unit_price_micros",
    "quota_tariff_set_mode": "t mode",
    "quota_tariff_set_free": "t units period",
    "quota_tariff_set_free_daily_limit": "t units",
    "quota_tariff_name": "t",
    "quota_tariff_price": "t volume_before units cost_micros",
    "quota_account_new": "ctx id out",
    "quota_account_find": "ctx id out",
    "quota_account_find_many": "ctx ids n out",
    "quota_account_id": "a",
    "quota_ctx_account_count": "ctx",
    "quota_ctx_account_at": "ctx i",
    "quota_account_remove": "a",
    "quota_account_ctx": "a",
    "quota_account_set_utc_offset": "a seconds",
    "quota_zone_load": "ctx name out",
    "quota_zone_from_tzif": "ctx name tzif len out",
    "quota_zone_find": "ctx name out",
    "quota_zone_name": "z",
    "quota_zone_offset": "z at offset",
    "quota_account_set_zone": "a z",
    "quota_account_zone": "a",
    "quota_account_set_tariff": "a category t",
    "quota_account_set_cap": "a category period units",
    "quota_account_set_overage": "a category policy",
    "quota_account_remaining": "a category now",
    "quota_account_used": "a category period at",
    "quota_account_free_used": "a category at",
    "quota_package_add": "a spec out",
    "quota_package_find": "a id out",
    "quota_package_remaining": "p",
    "quota_package_status": "p now",
    "quota_package_get_spec": "p out",
    "quota_account_package_count": "a",
    "quota_account_package_at": "a i",
    "quota_charge": "a usage receipt",
    "quota_quote": "a usage receipt",
    "quota_reserve": "a usage timeout_s receipt hold_id",
    "quota_commit": "a hold_id units_used key receipt",
    "quota_release": "a hold_id key receipt",
    "quota_account_tick": "a now",
    "quota_ctx_tick": "ctx now",
    "quota_account_held": "a category",
    "quota_account_hold_count": "a",
    "quota_hold_find": "a key hold_id",
    "quota_account_set_key_window": "a max_keys max_age_s",
    "quota_reverse": "a key at receipt",
    "quota_tariff_set_failure_fee": "t micros_per_unit",
    "quota_tariff_set_failure_fee_reason": "t reason micros_per_unit",
    "quota_release_reason": "a hold_id reason key receipt",
    "quota_account_keep_receipts": "a on",
    "quota_reverse_receipt": "a receipt_id at receipt",
    "quota_account_block": "a reason at",
    "quota_account_unblock": "a at",
    "quota_account_blocked": "a reason since",
    "quota_renewal_set": "a offer units_left_at_most expires_within_s now",
    "quota_renewal_clear": "a offer now",
    "quota_renewal_get": "a offer units_left_at_most expires_within_s",
    "quota_ctx_set_event_hook": "ctx fn ud",
    "quota_ctx_hook_failures": "ctx",
    "quota_account_add_alert": "a category level unit",
    "quota_account_set_expiry_warning": "a seconds",
    "quota_account_topup": "a micros at",
    "quota_account_balance": "a",
    "quota_account_set_credit_limit": "a micros",
    "quota_gift_grant": "a micros expires_at now",
    "quota_gift_balance": "a now",
    "quota_account_set_pay_order": "a order flags",
    "quota_account_suspended": "a",
    "quota_account_money": "a out",
    "quota_money_round": "micros minor_micros mode out",
    "quota_account_set_settlement": "a period minor_micros rounding",
    "quota_offer_add": "ctx spec out",
    "quota_offer_find": "ctx id out",
    "quota_package_quote": "a offer quantity voucher at out",
    "quota_package_buy": "a offer quantity voucher at package_id out",
    "quota_settle": "a now on_bill ud",
    "quota_ctx_settle": "ctx now on_bill ud",
    "quota_account_prune": "a before what",
    "quota_account_pruned_before": "a",
    "quota_account_set_retention": "a seconds what",
    "quota_report": "a period from to fn ud",
    "quota_report_csv": "a period from to write ud",
    "quota_report_csv_file": "a period from to f",
    "quota_account_snapshot": "a out len",
    "quota_free": "ctx p",
    "quota_account_load": "ctx snap len out",
    "quota_account_reset": "a snap len",
    "quota_sms_count": "utf8 len opts info",
    "quota_charge_sms": "a category utf8 len opts at key receipt info",
    "quota_journal_apply": "ctx rec len flags",
    "quota_account_seq": "a",
    "quota_account_unsynced": "a",
    "quota_ctx_config_seq": "ctx",
    "quota_ctx_config_unstored": "ctx",
    "quota_journal_size": "rec avail size",
    "quota_journal_peek": "ctx rec len id seq",
    "quota_snapshot_peek": "ctx snap len id seq",
    "quota_batch": "ctx ops n",
    "quota_op_run": "op",
    "quota_ctx_set_store": "ctx store",
    "quota_ctx_set_error": "ctx code msg",
    "quota_sqlite_open": "ctx path out",
    "quota_sqlite_open_with": "ctx path opts out",
    "quota_sqlite_close": "db",
    "quota_sqlite_checkpoint": "db",
    "quota_sqlite_resync": "db a",
}

# The range and C name of each integer type of an argument or a field.
# ctypes would wrap a value outside it silently (2**64 + 3 becomes 3).
_RANGES = {
    C.c_int32: (-2**31, 2**31 - 1, "int32_t"),
    C.c_uint32: (0, 2**32 - 1, "uint32_t"),
    C.c_int64: (-2**63, 2**63 - 1, "int64_t"),
    C.c_uint64: (0, 2**64 - 1, "uint64_t"),
    C.c_uint8: (0, 255, "uint8_t"),
}
_RANGES[C.c_int] = _RANGES[C.c_int32]
_RANGES[C.c_uint] = _RANGES[C.c_uint32]
_RANGES[sz] = _RANGES[C.c_uint64] if C.sizeof(sz) == 8 else _RANGES[C.c_uint32]


def _einval(msg):
    from .errors import error
    return error(-1, "libquota: " + msg)  # QUOTA_EINVAL


def check_int(v, what, ctype):
    """v as an int in the range of ctype (an integer ctypes type): an int,
    or an object with __index__ other than a bool; TypeError otherwise,
    InvalidArgument (QUOTA_EINVAL) for a value out of the range."""
    if type(v) is not int:
        if isinstance(v, bool) or not hasattr(type(v), "__index__"):
            raise TypeError("libquota: %s: expected an integer, got %s"
                            % (what, type(v).__name__))
        v = v.__index__()
    lo, hi, cname = _RANGES[ctype]
    if not lo <= v <= hi:
        raise _einval("%s: %d is out of the range of %s" % (what, v, cname))
    return v


def check_cstr(v, what):
    """A C string argument (bytes, or None): InvalidArgument for a NUL
    character, where C would read it cut short."""
    if isinstance(v, bytes) and b"\0" in v:
        raise _einval("%s: contains a NUL character" % what)
    return v


def _field_types(cls):
    types = cls.__dict__.get("_types_")
    if types is None:
        types = dict(cls._fields_)
        cls._types_ = types
    return types


def check_field(cls, name, v):
    """v checked for field name of struct cls (the ctypes class).

    The common case returns at once: an int in the range of an integer
    field, None or bytes without a NUL for a C string.  The field's name
    for the message is worked out only when the value fails that (then
    check_int or check_cstr words the error, or converts an __index__
    object)."""
    t = _field_types(cls)[name]
    r = _RANGES.get(t)
    if r is not None:
        if type(v) is int and r[0] <= v <= r[1]:
            return v
    elif t is cstr:
        if v is None or (type(v) is bytes and b"\0" not in v):
            return v
    else:
        return v
    what = "%s.%s" % (next((c for c, k in STRUCTS.items() if k is cls),
                           cls.__name__), name)
    return check_int(v, what, t) if t is not cstr else check_cstr(v, what)


def new(cls, **fields):
    """A struct cls with fields set, each checked (check_field)."""
    for name, v in fields.items():
        fields[name] = check_field(cls, name, v)
    return cls(**fields)


def _checked(name, fn, args):
    """fn with every integer argument checked against its C type and
    every C string (a const char * not followed by its length) checked
    for NUL characters, before C sees them."""
    pnames = ARGNAMES[name].split()
    ints, strs = [], []
    for i, t in enumerate(args):
        what = "%s: %s" % (name, pnames[i])
        if t in _RANGES:
            ints.append((i, what, t) + _RANGES[t][:2])
        elif t is cstr and not (i + 1 < len(args) and args[i + 1] is sz):
            strs.append((i, what))
    if not ints and not strs:
        return fn

    def call(*a):
        if len(a) != len(args):
            return fn(*a)   # ctypes words the error
        fixed = None
        for i, what, t, lo, hi in ints:
            v = a[i]
            if type(v) is not int or not lo <= v <= hi:
                v = check_int(v, what, t)
                if fixed is None:
                    fixed = list(a)
                fixed[i] = v
        for i, what in strs:
            check_cstr(a[i], what)
        return fn(*(a if fixed is None else fixed))
    call.__name__ = name
    call.raw = fn
    return call


class _Lib:
    """A loaded library whose functions check their arguments (_checked);
    fn.raw is the ctypes function itself."""

    def __init__(self, dll, table):
        self._dll = dll
        for name, (res, args) in table.items():
            fn = getattr(dll, name)
            fn.restype = res
            fn.argtypes = args
            setattr(self, name, _checked(name, fn, args))


def _declare(lib, table):
    return _Lib(lib, table)


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
