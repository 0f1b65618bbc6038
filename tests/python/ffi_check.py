#!/usr/bin/env python3
"""ffi_check.py - libquota through Python ctypes, as an FFI user sees it.

Declares quota_usage, quota_receipt(_line) and quota_package_spec with
ctypes.Structure, field for field as in include/quota.h; checks that their
sizes and field offsets equal what the C compiler says (a small C program
is compiled and run for that); then creates a context, a category, a
tariff, an account with a package, charges and checks the receipt.

usage: ffi_check.py [LIBRARY] [INCLUDEDIR]
  LIBRARY     default: build/libquota.so.0 of the source tree
  INCLUDEDIR  default: include/ of the source tree
The C compiler is $CC, else cc.  Exit 0 on success, 1 on a failed check.
"""

import ctypes as C
import os
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

QUOTA_RECEIPT_LINES = 16
QUOTA_OK, QUOTA_EINVAL = 0, -1
QUOTA_SOURCE_FREE, QUOTA_SOURCE_PACKAGE, QUOTA_SOURCE_PAYG = 1, 2, 3
QUOTA_PACKAGE_ACTIVE, QUOTA_PACKAGE_EXHAUSTED = 1, 2
QUOTA_UNLIMITED = 2**63 - 1


class QuotaUsage(C.Structure):
    _fields_ = [
        ("category", C.c_uint32),
        ("units", C.c_int64),
        ("at", C.c_int64),
        ("key", C.c_char_p),
    ]


class QuotaReceiptLine(C.Structure):
    _fields_ = [
        ("source", C.c_int32),
        ("tier", C.c_uint32),
        ("package_id", C.c_char_p),
        ("package", C.c_void_p),
        ("units", C.c_int64),
        ("unit_price_micros", C.c_int64),
        ("cost_micros", C.c_int64),
    ]


class QuotaReceipt(C.Structure):
    _fields_ = [
        ("units", C.c_int64),
        ("free_units", C.c_int64),
        ("package_units", C.c_int64),
        ("payg_units", C.c_int64),
        ("payg_cost_micros", C.c_int64),
        ("category", C.c_uint32),
        ("at", C.c_int64),
        ("nlines", C.c_uint32),
        ("lines_total", C.c_uint32),
        ("lines", QuotaReceiptLine * QUOTA_RECEIPT_LINES),
        ("kind", C.c_int32),
        ("replayed", C.c_int32),
        ("hold_id", C.c_uint64),
        ("fee_micros", C.c_int64),
        ("forfeited_units", C.c_int64),
        # Appended for R27.
        ("receipt_id", C.c_uint64),
        ("failure_reason", C.c_int32),
    ]


class QuotaPackageSpec(C.Structure):
    _fields_ = [
        ("id", C.c_char_p),
        ("categories", C.c_uint64),
        ("units", C.c_int64),
        ("effective_at", C.c_int64),
        ("expires_at", C.c_int64),
        ("price_micros", C.c_int64),
        ("flags", C.c_uint32),
        ("priority", C.c_int32),
    ]


# Issue 5: money, catalog, settlement and reports (R16-R19, R22).
class QuotaMoney(C.Structure):
    _fields_ = [
        ("balance_micros", C.c_int64),
        ("credit_limit_micros", C.c_int64),
        ("outstanding_micros", C.c_int64),
        ("topped_up_micros", C.c_int64),
        ("purchased_micros", C.c_int64),
        ("billed_micros", C.c_int64),
        ("suspended", C.c_int32),
        ("outstanding_bills", C.c_uint32),
        ("gift_micros", C.c_int64),
        ("gift_granted_micros", C.c_int64),
        ("gift_spent_micros", C.c_int64),
        ("gift_expired_micros", C.c_int64),
        ("pay_order", C.c_int32),
        ("pay_flags", C.c_uint32),
    ]


class QuotaOfferSpec(C.Structure):
    _fields_ = [
        ("id", C.c_char_p),
        ("categories", C.c_uint64),
        ("units", C.c_int64),
        ("price_micros", C.c_int64),
        ("unit_tariff", C.c_void_p),
        ("min_units", C.c_int64),
        ("step_units", C.c_int64),
        ("max_units", C.c_int64),
        ("valid_months", C.c_int32),
        ("valid_days", C.c_int32),
        ("flags", C.c_uint32),
        ("priority", C.c_int32),
    ]


class QuotaVoucher(C.Structure):
    _fields_ = [
        ("kind", C.c_int32),
        ("value", C.c_int64),
        ("min_spend_micros", C.c_int64),
    ]


class QuotaPurchase(C.Structure):
    _fields_ = [
        ("units", C.c_int64),
        ("list_price_micros", C.c_int64),
        ("discount_micros", C.c_int64),
        ("price_micros", C.c_int64),
        ("effective_at", C.c_int64),
        ("expires_at", C.c_int64),
        ("package", C.c_void_p),
        ("gift_micros", C.c_int64),
        ("cash_micros", C.c_int64),
        ("credit_micros", C.c_int64),
    ]


class QuotaBillLine(C.Structure):
    _fields_ = [
        ("category", C.c_uint32),
        ("kind", C.c_int32),
        ("late", C.c_int32),
        ("units", C.c_int64),
        ("receipts_micros", C.c_int64),
        ("adjustment_micros", C.c_int64),
        ("amount_micros", C.c_int64),
        ("rounded_micros", C.c_int64),
    ]


class QuotaBill(C.Structure):
    _fields_ = [
        ("account", C.c_void_p),
        ("seq", C.c_uint64),
        ("period_start", C.c_int64),
        ("period_end", C.c_int64),
        ("status", C.c_int32),
        ("nlines", C.c_uint32),
        ("lines", C.POINTER(QuotaBillLine)),
        ("amount_micros", C.c_int64),
        ("total_micros", C.c_int64),
        ("balance_micros", C.c_int64),
        ("gift_micros", C.c_int64),
        ("cash_micros", C.c_int64),
        ("credit_micros", C.c_int64),
    ]


class QuotaReportRow(C.Structure):
    _fields_ = [
        ("account", C.c_void_p),
        ("period", C.c_int32),
        ("start", C.c_int64),
        ("end", C.c_int64),
        ("category", C.c_uint32),
        ("source", C.c_int32),
        ("package", C.c_void_p),
        ("units", C.c_int64),
        ("cost_micros", C.c_int64),
    ]


BILL_FN = C.CFUNCTYPE(C.c_int, C.POINTER(QuotaBill), C.c_void_p)
WRITE_FN = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_char), C.c_size_t, C.c_void_p)

STRUCTS = {
    "quota_usage": QuotaUsage,
    "quota_receipt_line": QuotaReceiptLine,
    "quota_receipt": QuotaReceipt,
    "quota_package_spec": QuotaPackageSpec,
    "quota_money": QuotaMoney,
    "quota_offer_spec": QuotaOfferSpec,
    "quota_voucher": QuotaVoucher,
    "quota_purchase": QuotaPurchase,
    "quota_bill_line": QuotaBillLine,
    "quota_bill": QuotaBill,
    "quota_report_row": QuotaReportRow,
}

failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
        print("ffi: ok   %s" % what)
    else:
        print("ffi: FAIL %s" % what)
        failures += 1


def c_layout(includedir):
    """Sizes and offsets of the structs as the C compiler lays them out."""
    lines = ['#include "quota.h"', "#include <stddef.h>", "#include <stdio.h>",
             "int main(void)", "{"]
    for cname, py in STRUCTS.items():
        lines.append('\tprintf("%s %%zu\\n", sizeof(%s));' % (cname, cname))
        for fname, _ in py._fields_:
            lines.append('\tprintf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (cname, fname, cname, fname))
    lines += ["\treturn 0;", "}"]
    cc = shlex.split(os.environ.get("CC") or "cc")
    with tempfile.TemporaryDirectory(prefix="ffi_check.") as d:
        src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(cc + ["-std=c11", "-I", includedir, src, "-o", exe],
                       check=True)
        out = subprocess.run([exe], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    return dict(line.split() for line in out.splitlines())


def check_layout(includedir):
    want = c_layout(includedir)
    for cname, py in STRUCTS.items():
        check(int(want[cname]) == C.sizeof(py),
              "sizeof(%s): C %s, ctypes %d" % (cname, want[cname], C.sizeof(py)))
        bad = []
        for fname, _ in py._fields_:
            off = getattr(py, fname).offset
            key = "%s.%s" % (cname, fname)
            if int(want[key]) != off:
                bad.append("%s: C %s, ctypes %d" % (fname, want[key], off))
        check(not bad, "offsets of the %d fields of %s%s"
              % (len(py._fields_), cname, (": " + "; ".join(bad)) if bad else ""))


def declare(lib):
    P = C.c_void_p
    sigs = {
        "quota_version": (C.c_char_p, []),
        "quota_version_number": (C.c_uint32, []),
        "quota_strerror": (C.c_char_p, [C.c_int]),
        "quota_err_name": (C.c_char_p, [C.c_int]),
        "quota_ctx_new": (C.c_int, [C.POINTER(P)]),
        "quota_ctx_free": (None, [P]),
        "quota_errmsg": (C.c_char_p, [P]),
        "quota_category_add": (C.c_int, [P, C.c_char_p, C.POINTER(C.c_uint32)]),
        "quota_tariff_new": (C.c_int, [P, C.c_char_p, C.POINTER(P)]),
        "quota_tariff_add_tier": (C.c_int, [P, C.c_int64, C.c_int64]),
        "quota_account_new": (C.c_int, [P, C.c_char_p, C.POINTER(P)]),
        "quota_account_set_tariff": (C.c_int, [P, C.c_uint32, P]),
        "quota_account_remaining": (C.c_int64, [P, C.c_uint32, C.c_int64]),
        "quota_package_add": (C.c_int, [P, C.POINTER(QuotaPackageSpec), C.POINTER(P)]),
        "quota_package_remaining": (C.c_int64, [P]),
        "quota_package_status": (C.c_int, [P, C.c_int64]),
        "quota_package_get_spec": (C.c_int, [P, C.POINTER(QuotaPackageSpec)]),
        "quota_charge": (C.c_int, [P, C.POINTER(QuotaUsage), C.POINTER(QuotaReceipt)]),
        "quota_quote": (C.c_int, [P, C.POINTER(QuotaUsage), C.POINTER(QuotaReceipt)]),
        "quota_account_topup": (C.c_int, [P, C.c_int64, C.c_int64]),
        "quota_account_money": (C.c_int, [P, C.POINTER(QuotaMoney)]),
        "quota_offer_add": (C.c_int, [P, C.POINTER(QuotaOfferSpec), C.POINTER(P)]),
        "quota_package_buy": (C.c_int, [P, P, C.c_int64, C.POINTER(QuotaVoucher),
                                        C.c_int64, C.c_char_p, C.POINTER(QuotaPurchase)]),
        "quota_settle": (C.c_int64, [P, C.c_int64, BILL_FN, C.c_void_p]),
        "quota_report_csv": (C.c_int, [P, C.c_int, C.c_int64, C.c_int64, WRITE_FN,
                                       C.c_void_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def run(lib):
    P = C.c_void_p
    print("ffi: libquota %s (%d)" % (lib.quota_version().decode(),
                                     lib.quota_version_number()))
    check(lib.quota_err_name(-7) == b"QUOTA_ECAP", "quota_err_name(-7) == QUOTA_ECAP")

    ctx = P()
    check(lib.quota_ctx_new(C.byref(ctx)) == QUOTA_OK and ctx.value, "quota_ctx_new")
    try:
        sms = C.c_uint32(99)
        check(lib.quota_category_add(ctx, b"sms.notify", C.byref(sms)) == QUOTA_OK
              and sms.value == 0, "quota_category_add -> id 0")

        t, a, p = P(), P(), P()
        check(lib.quota_tariff_new(ctx, b"std", C.byref(t)) == QUOTA_OK, "quota_tariff_new")
        check(lib.quota_tariff_add_tier(t, 100, 50000) == QUOTA_OK
              and lib.quota_tariff_add_tier(t, QUOTA_UNLIMITED, 40000) == QUOTA_OK,
              "quota_tariff_add_tier x2")
        check(lib.quota_account_new(ctx, b"acme", C.byref(a)) == QUOTA_OK, "quota_account_new")
        check(lib.quota_account_set_tariff(a, sms, t) == QUOTA_OK, "quota_account_set_tariff")

        spec = QuotaPackageSpec(id=b"P1", categories=1 << sms.value, units=10,
                                effective_at=1714521600, expires_at=1746057600)
        check(lib.quota_package_add(a, C.byref(spec), C.byref(p)) == QUOTA_OK,
              "quota_package_add")
        back = QuotaPackageSpec()
        check(lib.quota_package_get_spec(p, C.byref(back)) == QUOTA_OK
              and back.id == b"P1" and back.units == 10
              and back.expires_at == 1746057600 and back.priority == 0,
              "quota_package_get_spec round trip")
        now = 1715000000
        check(lib.quota_account_remaining(a, sms, now) == 10, "quota_account_remaining == 10")

        # 10 units from the package, then 2 pay-as-you-go at positions
        # 11 and 12 of the month: tier 0, 0.05 each.
        u = QuotaUsage(category=sms, units=12, at=now, key=None)
        r = QuotaReceipt()
        check(lib.quota_quote(a, C.byref(u), C.byref(r)) == QUOTA_OK
              and r.payg_cost_micros == 100000
              and lib.quota_package_remaining(p) == 10,
              "quota_quote prices and changes nothing")
        r = QuotaReceipt()
        rc = lib.quota_charge(a, C.byref(u), C.byref(r))
        check(rc == QUOTA_OK, "quota_charge -> %s" % lib.quota_err_name(rc).decode())
        check((r.units, r.free_units, r.package_units, r.payg_units)
              == (12, 0, 10, 2), "receipt units 12 = 0 free + 10 package + 2 payg")
        check(r.payg_cost_micros == 100000, "receipt payg_cost_micros == 100000")
        check(r.category == sms.value and r.at == now, "receipt category and at")
        check(r.nlines == 2 and r.lines_total == 2, "receipt has 2 lines")
        l0, l1 = r.lines[0], r.lines[1]
        check(l0.source == QUOTA_SOURCE_PACKAGE and l0.package_id == b"P1"
              and l0.package == p.value and l0.units == 10,
              "line 0: package P1, 10 units")
        check(l1.source == QUOTA_SOURCE_PAYG and l1.tier == 0 and l1.units == 2
              and l1.unit_price_micros == 50000 and l1.cost_micros == 100000,
              "line 1: payg tier 0, 2 x 50000")
        check(lib.quota_package_remaining(p) == 0
              and lib.quota_package_status(p, now) == QUOTA_PACKAGE_EXHAUSTED,
              "package exhausted")

        # A refused charge: zeroed receipt, a message, nothing changed.
        bad = QuotaUsage(category=sms, units=0, at=now)
        r = QuotaReceipt(units=77)
        rc = lib.quota_charge(a, C.byref(bad), C.byref(r))
        msg = lib.quota_errmsg(ctx)
        check(rc == QUOTA_EINVAL and r.units == 0 and msg,
              "units 0 -> QUOTA_EINVAL, receipt zeroed, errmsg %r" % msg)
        money(lib, ctx, a, sms.value, now)
    finally:
        lib.quota_ctx_free(ctx)


def money(lib, ctx, a, sms, now):
    """Top up, buy from the catalog with a voucher, settle a day with a
    Python callback, and read the CSV report through a Python writer."""
    P = C.c_void_p
    check(lib.quota_account_topup(a, 5000000, now) == QUOTA_OK, "quota_account_topup 5.00")
    offer = P()
    spec = QuotaOfferSpec(id=b"sms-100", categories=1 << sms, units=100,
                          price_micros=4400000, valid_months=12)
    check(lib.quota_offer_add(ctx, C.byref(spec), C.byref(offer)) == QUOTA_OK,
          "quota_offer_add")
    v = QuotaVoucher(kind=1, value=400000, min_spend_micros=0)
    pu = QuotaPurchase()
    rc = lib.quota_package_buy(a, offer, 1, C.byref(v), now, b"bought", C.byref(pu))
    check(rc == QUOTA_OK and pu.price_micros == 4000000 and pu.package,
          "quota_package_buy: 4.40 less a 0.40 voucher")
    m = QuotaMoney()
    check(lib.quota_account_money(a, C.byref(m)) == QUOTA_OK
          and m.balance_micros == 1000000 and m.purchased_micros == 4000000,
          "quota_account_money: balance 1.00, purchased 4.00")
    bills = []

    def on_bill(bill, ud):
        b = bill.contents
        bills.append((b.status, b.total_micros,
                      [(b.lines[i].units, b.lines[i].rounded_micros)
                       for i in range(b.nlines)]))
        return 0

    cb = BILL_FN(on_bill)
    day_end = (now // 86400 + 1) * 86400
    n = lib.quota_settle(a, day_end, cb, None)
    # The charge of the main run: 2 units pay-as-you-go at 0.05.
    check(n == 1 and bills == [(0, 100000, [(2, 100000)])],
          "quota_settle through a Python callback: %r" % bills)
    out = []

    def write(buf, n, ud):
        out.append(C.string_at(buf, n))
        return 0

    wcb = WRITE_FN(write)
    rc = lib.quota_report_csv(a, 1, day_end - 86400, day_end, wcb, None)  # DAY
    text = b"".join(out).decode()
    rows = text.splitlines()
    check(rc == QUOTA_OK and rows[0] == "account,period,start,end,category,"
          "source,package,units,cost_micros" and len(rows) == 3,
          "quota_report_csv through a Python writer: %d rows" % (len(rows) - 1))


def main(argv):
    libpath = argv[1] if len(argv) > 1 else os.path.join(ROOT, "build", "libquota.so.0")
    includedir = argv[2] if len(argv) > 2 else os.path.join(ROOT, "include")
    lib = C.CDLL(os.path.abspath(libpath))
    declare(lib)
    check_layout(includedir)
    run(lib)
    print("ffi: %d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
