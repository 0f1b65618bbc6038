"""Plain result objects (dataclasses): what the library hands back.

They are copies: nothing in them points into the library, except the
``account`` and ``package`` fields, which are this module's handle objects
(Account, Package) and follow their rules.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Any

from . import constants as K


@dataclass
class ReceiptLine:
    """One line of a receipt (quota_receipt_line): where units came from.

    ``source`` is a QUOTA_SOURCE_*; PACKAGE lines name the package
    (``package_id``, ``package``), PAYG lines their tier and unit price."""
    source: int
    tier: int
    package_id: Optional[str]
    package: Any
    units: int
    unit_price_micros: int
    cost_micros: int


@dataclass
class SmsInfo:
    """What quota_sms_count found (quota_sms_count(3)): encoding
    (QUOTA_SMS_GSM7 or QUOTA_SMS_UCS2), units (septets or UTF-16 code
    units), segments, the shift tables used, and, when asked for, the byte
    offset of each segment's start."""
    encoding: int
    units: int
    segments: int
    shift_locking: int = 0
    shift_single: int = 0
    segment_offsets: Optional[List[int]] = None


@dataclass
class Receipt:
    """The outcome of a charge, quote, reservation, commit, release or
    reversal (quota_receipt; R1): units = free + package + payg units.

    ``kind`` is a QUOTA_RECEIPT_*; ``lines`` holds at most
    QUOTA_RECEIPT_LINES lines, ``lines_total`` how many the charge has.
    ``sms`` is set by Account.charge_sms.  R27: ``receipt_id`` is the id of
    a receipt the account keeps (Account.keep_receipts; else 0), for
    Account.reverse_receipt; ``failure_reason`` the QUOTA_FAIL_* of a
    release (Account.release_reason; else 0)."""
    units: int = 0
    free_units: int = 0
    package_units: int = 0
    payg_units: int = 0
    payg_cost_micros: int = 0
    category: int = 0
    at: int = 0
    lines: List[ReceiptLine] = field(default_factory=list)
    lines_total: int = 0
    kind: int = K.QUOTA_RECEIPT_CHARGE
    replayed: bool = False
    hold_id: int = 0
    fee_micros: int = 0
    forfeited_units: int = 0
    sms: Optional[SmsInfo] = None
    receipt_id: int = 0
    failure_reason: int = 0


@dataclass
class PackageSpec:
    """A package as added (quota_package_spec; R2-R7)."""
    id: str
    categories: int
    units: int
    effective_at: int
    expires_at: int = K.QUOTA_NEVER
    price_micros: int = 0
    flags: int = 0
    priority: int = 0


@dataclass
class Event:
    """One event (quota_event; R21), as the event hook sees it.

    ``kind`` is a QUOTA_EVENT_*; ``receipt`` is set for HOLD_EXPIRED;
    ``reason`` is the blocking reason of ACCOUNT_BLOCKED (or None)."""
    kind: int
    category: int
    account: Any
    package: Any
    remaining: int
    threshold: int
    at: int
    period: int
    outstanding_micros: int
    balance_micros: int
    receipt: Optional[Receipt] = None
    reason: Optional[str] = None


@dataclass
class Money:
    """Everything money about an account (quota_money; R17-R19)."""
    balance_micros: int
    credit_limit_micros: int
    outstanding_micros: int
    topped_up_micros: int
    purchased_micros: int
    billed_micros: int
    suspended: bool
    outstanding_bills: int
    # R24 gift money (quota_gift_grant)
    gift_micros: int = 0
    gift_granted_micros: int = 0
    gift_spent_micros: int = 0
    gift_expired_micros: int = 0
    pay_order: int = 0
    pay_flags: int = 0


@dataclass
class Voucher:
    """A discount voucher for a purchase (quota_voucher): kind
    QUOTA_VOUCHER_AMOUNT (value in micros) or QUOTA_VOUCHER_PERCENT
    (value in basis points, 1 % = 100)."""
    kind: int
    value: int
    min_spend_micros: int = 0

    @classmethod
    def amount(cls, micros, min_spend_micros=0):
        return cls(K.QUOTA_VOUCHER_AMOUNT, micros, min_spend_micros)

    @classmethod
    def percent(cls, basis_points, min_spend_micros=0):
        return cls(K.QUOTA_VOUCHER_PERCENT, basis_points, min_spend_micros)


@dataclass
class Purchase:
    """The price of a purchase and what it buys (quota_purchase);
    ``package`` is the new Package after Account.package_buy, None after
    Account.package_quote."""
    units: int
    list_price_micros: int
    discount_micros: int
    price_micros: int
    effective_at: int
    expires_at: int
    package: Any = None
    # R24: what each money bucket paid (Account.package_buy)
    gift_micros: int = 0
    cash_micros: int = 0
    credit_micros: int = 0


@dataclass
class BillLine:
    """One line of a bill (quota_bill_line): kind QUOTA_LINE_USAGE or
    QUOTA_LINE_FEE; ``late`` for usage of an already settled period."""
    category: int
    kind: int
    late: bool
    units: int
    receipts_micros: int
    adjustment_micros: int
    amount_micros: int
    rounded_micros: int


@dataclass
class Bill:
    """A settlement bill (quota_bill; R17): status QUOTA_BILL_PAID or
    QUOTA_BILL_OUTSTANDING."""
    account: Any
    seq: int
    period_start: int
    period_end: int
    status: int
    lines: List[BillLine]
    amount_micros: int
    total_micros: int
    balance_micros: int
    # R24: what each money bucket paid (0 while outstanding)
    gift_micros: int = 0
    cash_micros: int = 0
    credit_micros: int = 0


@dataclass
class ReportRow:
    """One report row (quota_report_row; R22): units of one source
    (QUOTA_SOURCE_*) in one period and category."""
    account: Any
    period: int
    start: int
    end: int
    category: int
    source: int
    package: Any
    units: int
    cost_micros: int
