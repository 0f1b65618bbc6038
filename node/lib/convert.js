'use strict';
// lib/convert.js - JS values to C arguments and C results to plain objects.
//
// Numbers where a value cannot exceed 2^53: times (QUOTA_TIME_MIN..MAX),
// durations, counts, ids of categories, enums.  BigInt where it can:
// units, money (micros), hold ids, sequence numbers, category masks.  An
// expiry of QUOTA_NEVER comes back as the BigInt NEVER.  Arguments take
// either a Number (a safe integer) or a BigInt; anything else, or a value
// out of the C type's range, throws TypeError or RangeError before C sees it.
// A string with a NUL character (C would read it cut short) or a lone
// surrogate (not UTF-8: koffi would replace it) throws the module's
// InvalidError (QUOTA_EINVAL); an SMS text with a lone surrogate its
// EncodingError (QUOTA_EENCODING).

const K = require('./constants');
const { makeError } = require('./errors');

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function integer(v, what, min, max) {
  let b;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new TypeError(`${what}: ${v} is not a safe integer (use a BigInt)`);
    }
    b = BigInt(v);
  } else {
    throw new TypeError(`${what}: expected an integer, got ${typeof v}`);
  }
  if (b < min || b > max) throw new RangeError(`${what}: ${v} out of range`);
  return typeof v === 'number' ? v : b;
}

const i64 = (v, what) => integer(v, what, INT64_MIN, INT64_MAX);
const u64 = (v, what) => integer(v, what, 0n, UINT64_MAX);
const i32 = (v, what) => Number(integer(v, what, -(1n << 31n), (1n << 31n) - 1n));
const u32 = (v, what) => Number(integer(v, what, 0n, (1n << 32n) - 1n));

// A category mask: a BigInt or Number mask, or an array of category ids.
function mask(v, what) {
  if (Array.isArray(v)) {
    let m = 0n;
    for (const id of v) {
      const n = u32(id, what);
      if (n >= K.MAX_CATEGORIES) throw new RangeError(`${what}: category ${n} >= 64`);
      m |= 1n << BigInt(n);
    }
    return m;
  }
  return u64(v, what);
}

// A lone surrogate: a high one not followed by a low one, or a low one
// not preceded by a high one (JS strings are UTF-16, unchecked).
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Whether a string reaches C as it is: no NUL character (C would read it
// cut short) and no lone surrogate (koffi would send U+FFFD for it).
const sendable = (v) => !v.includes('\0') && !LONE.test(v);

// A C string argument: TypeError if not a string, the module's
// InvalidError (QUOTA_EINVAL) for a NUL character or a lone surrogate.
function str(v, what, nullable) {
  if (v === undefined || v === null) {
    if (nullable) return null;
    throw new TypeError(`${what}: expected a string`);
  }
  if (typeof v !== 'string') throw new TypeError(`${what}: expected a string`);
  if (v.includes('\0')) throw makeError(K.EINVAL, `${what}: contains a NUL character`);
  const m = LONE.exec(v);
  if (m) {
    throw makeError(K.EINVAL, `${what}: lone surrogate U+${m[0].charCodeAt(0).toString(16).toUpperCase()}`
      + ` at index ${m.index} (no UTF-8 for it)`);
  }
  return v;
}

const big = (v) => BigInt(v);
// A time: a Number, or NEVER (BigInt) for INT64_MAX.
const time = (v) => (BigInt(v) === INT64_MAX ? K.NEVER : Number(v));

function receiptLine(l) {
  return {
    source: l.source,
    tier: l.tier,
    packageId: l.package_id,
    units: big(l.units),
    unitPriceMicros: big(l.unit_price_micros),
    costMicros: big(l.cost_micros),
  };
}

// quota_receipt -> a plain object.
function receipt(r) {
  return {
    kind: r.kind,
    category: r.category,
    at: time(r.at),
    units: big(r.units),
    freeUnits: big(r.free_units),
    packageUnits: big(r.package_units),
    paygUnits: big(r.payg_units),
    paygCostMicros: big(r.payg_cost_micros),
    lines: r.lines.slice(0, r.nlines).map(receiptLine),
    linesTotal: r.lines_total,
    replayed: r.replayed !== 0,
    holdId: big(r.hold_id),
    feeMicros: big(r.fee_micros),
    forfeitedUnits: big(r.forfeited_units),
    receiptId: big(r.receipt_id),       // R27: kept receipts, else 0
    failureReason: r.failure_reason,    // R27: a release's FAIL_*, else 0
  };
}

// A JS usage {category, units, at, key} -> quota_usage.
function usage(u) {
  if (!u || typeof u !== 'object') throw new TypeError('usage: expected an object');
  return {
    category: u32(u.category, 'usage.category'),
    units: i64(u.units, 'usage.units'),
    at: i64(u.at, 'usage.at'),
    key: str(u.key, 'usage.key', true),
  };
}

function packageSpec(s) {
  if (!s || typeof s !== 'object') throw new TypeError('package spec: expected an object');
  return {
    id: str(s.id, 'spec.id'),
    categories: mask(s.categories, 'spec.categories'),
    units: i64(s.units, 'spec.units'),
    effective_at: i64(s.effectiveAt ?? 0, 'spec.effectiveAt'),
    expires_at: i64(s.expiresAt ?? K.NEVER, 'spec.expiresAt'),
    price_micros: i64(s.priceMicros ?? 0, 'spec.priceMicros'),
    flags: u32(s.flags ?? 0, 'spec.flags'),
    priority: i32(s.priority ?? 0, 'spec.priority'),
  };
}

function packageSpecOut(s) {
  return {
    id: s.id,
    categories: big(s.categories),
    units: big(s.units),
    effectiveAt: time(s.effective_at),
    expiresAt: time(s.expires_at),
    priceMicros: big(s.price_micros),
    flags: s.flags,
    priority: s.priority,
  };
}

function money(m) {
  return {
    balanceMicros: big(m.balance_micros),
    creditLimitMicros: big(m.credit_limit_micros),
    outstandingMicros: big(m.outstanding_micros),
    toppedUpMicros: big(m.topped_up_micros),
    purchasedMicros: big(m.purchased_micros),
    billedMicros: big(m.billed_micros),
    suspended: m.suspended !== 0,
    outstandingBills: m.outstanding_bills,
    giftMicros: big(m.gift_micros),
    giftGrantedMicros: big(m.gift_granted_micros),
    giftSpentMicros: big(m.gift_spent_micros),
    giftExpiredMicros: big(m.gift_expired_micros),
    payOrder: m.pay_order,
    payFlags: m.pay_flags,
  };
}

function voucher(v) {
  if (v === undefined || v === null) return null;
  return {
    kind: i32(v.kind, 'voucher.kind'),
    value: i64(v.value, 'voucher.value'),
    min_spend_micros: i64(v.minSpendMicros ?? 0, 'voucher.minSpendMicros'),
  };
}

function billLine(l) {
  return {
    category: l.category,
    kind: l.kind,
    late: l.late !== 0,
    units: big(l.units),
    receiptsMicros: big(l.receipts_micros),
    adjustmentMicros: big(l.adjustment_micros),
    amountMicros: big(l.amount_micros),
    roundedMicros: big(l.rounded_micros),
  };
}

// quota_sms_opts from {flags, signature, maxSegments, maxUnits}.
function smsOpts(o) {
  if (o === undefined || o === null) return null;
  return {
    version: 1,
    flags: u32(o.flags ?? 0, 'sms.flags'),
    signature: str(o.signature, 'sms.signature', true),
    max_segments: u32(o.maxSegments ?? 0, 'sms.maxSegments'),
    segment_offsets: null,
    segment_offsets_cap: 0,
    max_units: u32(o.maxUnits ?? 0, 'sms.maxUnits'),
  };
}

// A text as UTF-8 bytes: a string is encoded, a Buffer/Uint8Array taken.
// A string with a lone surrogate is the module's EncodingError, as C says
// for an encoded one (quota_sms_count(3)); err.offset is the byte offset
// where its UTF-8 would start.  A NUL character is part of a text (its
// length goes along).
function textBytes(t) {
  if (typeof t === 'string') {
    const m = LONE.exec(t);
    if (m) {
      const off = Buffer.byteLength(t.slice(0, m.index), 'utf8');
      const e = makeError(K.EENCODING, `text: lone surrogate U+${m[0].charCodeAt(0).toString(16)
        .toUpperCase()} at index ${m.index} (byte ${off})`);
      e.offset = off;
      throw e;
    }
    return Buffer.from(t, 'utf8');
  }
  if (t instanceof Uint8Array) return t;
  throw new TypeError('text: expected a string or a Uint8Array');
}

function bytes(b, what) {
  if (b instanceof Uint8Array) return b;
  throw new TypeError(`${what}: expected a Buffer or Uint8Array`);
}

module.exports = {
  i64, u64, i32, u32, mask, str, sendable, big, time, receipt, usage, packageSpec,
  packageSpecOut, money, voucher, billLine, smsOpts, textBytes, bytes,
  INT64_MAX,
};
