'use strict';
// The whole API through the module: each group of quota.h in a test.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const q = require('..');

const MAY1 = 1714521600;  // 2024-05-01T00:00Z
const NOW = 1715000000;   // 2024-05-06T12:53:20Z
const DAY = 86400;

// A context with category 'sms', tariff 'std' (100 at 0.05, then 0.04)
// and account 'acme' on it.
function setup() {
  const ctx = new q.Context({ hashSeed: Buffer.alloc(16, 7) });
  const sms = ctx.addCategory('sms');
  const t = ctx.newTariff('std').addTier(100, 50000).addTier(q.UNLIMITED, 40000);
  const a = ctx.newAccount('acme').setTariff(sms, t);
  return { ctx, sms, t, a };
}

test('version, error names and the error hierarchy', () => {
  assert.strictEqual(q.version(), '0.1.0');
  assert.strictEqual(q.versionNumber(), q.VERSION_NUMBER);
  assert.strictEqual(q.errName(-7), 'QUOTA_ECAP');
  assert.strictEqual(q.strerror(-7), 'send cap reached');
  for (const [name, errno] of q.ERROR_TABLE) {
    const e = q.makeError(errno, '');
    assert.ok(e instanceof q[name] && e instanceof q.QuotaError && e instanceof Error);
    assert.strictEqual(e.code, q.errName(errno));
    assert.strictEqual(e.errno, errno);
    assert.strictEqual(e.name, name);
  }
  assert.strictEqual(q.makeError(-99, '').code, 'QUOTA_E?');
  assert.strictEqual(q.constants.QUOTA_NEVER, 0x7fffffffffffffffn);
  assert.strictEqual(q.mask(0, 2), 5n);
});

test('context: categories, errmsg, close, use after close', () => {
  const ctx = new q.Context();
  assert.strictEqual(ctx.addCategory('sms'), 0);
  assert.strictEqual(ctx.addCategory('email'), 1);
  assert.strictEqual(ctx.findCategory('email'), 1);
  assert.strictEqual(ctx.categoryName(1), 'email');
  assert.strictEqual(ctx.categoryName(9), null);
  assert.strictEqual(ctx.categoryCount, 2);
  assert.deepStrictEqual(ctx.categories(), [{ id: 0, name: 'sms' }, { id: 1, name: 'email' }]);
  assert.throws(() => ctx.addCategory('sms'), (e) => e instanceof q.ExistsError
    && e.code === 'QUOTA_EEXISTS' && e.errmsg.length > 0 && e.errmsg === ctx.errmsg);
  assert.throws(() => ctx.findCategory('fax'), q.NotFoundError);
  assert.throws(() => ctx.setHashSeed(Buffer.alloc(3)), RangeError);
  const a = ctx.newAccount('x');
  ctx.close();
  ctx.close();
  assert.strictEqual(ctx.closed, true);
  assert.throws(() => ctx.addCategory('y'), /closed/);
  assert.throws(() => a.balance, (e) => e instanceof q.InvalidError && /closed/.test(e.message));
  assert.strictEqual(ctx.errmsg, '');   // after close, as in Python
});

test('arguments are checked before C sees them', () => {
  const { ctx, sms, a } = setup();
  assert.throws(() => a.charge({ category: sms, units: 1.5, at: NOW }), TypeError);
  assert.throws(() => a.charge({ category: sms, units: 2 ** 60, at: NOW }), TypeError);
  assert.throws(() => a.charge({ category: sms, units: 1n << 63n, at: NOW }), RangeError);
  assert.throws(() => a.charge({ category: -1, units: 1, at: NOW }), RangeError);
  assert.throws(() => a.charge({ category: sms, units: '1', at: NOW }), TypeError);
  const other = new q.Context();
  assert.throws(() => a.setTariff(sms, other.newTariff('t')), q.InvalidError);
  other.close();
  ctx.close();
});

test('tariffs: tiers, modes, free allowance, price', () => {
  const { ctx, t } = setup();
  assert.strictEqual(ctx.findTariff('std'), t);
  assert.strictEqual(t.name, 'std');
  assert.strictEqual(t.price(0, 10), 500000n);
  assert.strictEqual(t.price(95, 10), 5n * 50000n + 5n * 40000n);
  const v = ctx.newTariff('vol').addTier(100, 50000).addTier(q.UNLIMITED, 40000).setMode(q.VOLUME);
  assert.strictEqual(v.price(95, 10), 10n * 40000n);
  v.setFree(100, q.PERIOD_MONTH).setFreeDailyLimit(10).setFailureFee(1000);
  assert.throws(() => t.addTier(50, 1), q.InvalidError);
  assert.throws(() => ctx.findTariff('none'), q.NotFoundError);
  ctx.close();
});

test('accounts and packages', () => {
  const { ctx, sms, a } = setup();
  assert.strictEqual(ctx.findAccount('acme'), a);
  assert.strictEqual(ctx.accountCount, 1);
  assert.strictEqual(ctx.accountAt(0), a);
  assert.strictEqual(ctx.accountAt(5), null);
  assert.deepStrictEqual(ctx.accounts(), [a]);
  a.setUtcOffset(8 * 3600).setOverage(sms, q.OVERAGE_PAYG).setCap(sms, q.PERIOD_DAY, -1);
  const p = a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1,
    expiresAt: MAY1 + 30 * DAY, priceMicros: 400000, priority: 1 });
  a.addPackage({ id: 'forever', categories: q.mask(sms), units: 5n, effectiveAt: MAY1 });
  assert.deepStrictEqual(p.spec(), { id: 'P1', categories: 1n, units: 10n, effectiveAt: MAY1,
    expiresAt: MAY1 + 30 * DAY, priceMicros: 400000n, flags: 0, priority: 1 });
  assert.strictEqual(a.findPackage('forever').spec().expiresAt, q.NEVER);
  assert.strictEqual(a.packageCount, 2);
  assert.deepStrictEqual(a.packages().map((x) => x.id), ['P1', 'forever']);
  assert.strictEqual(a.packageAt(2), null);
  assert.strictEqual(p.status(NOW), q.PACKAGE_ACTIVE);
  assert.strictEqual(p.status(MAY1 - 1), q.PACKAGE_PENDING);
  assert.strictEqual(a.remaining(sms, NOW), 15n);
  assert.throws(() => a.addPackage({ id: 'P1', categories: [sms], units: 1 }), q.ExistsError);
  assert.throws(() => a.findPackage('none'), q.NotFoundError);
  assert.throws(() => ctx.newAccount('acme'), q.ExistsError);
  const b = ctx.newAccount('gone');
  b.remove();
  assert.strictEqual(b.removed, true);
  assert.throws(() => b.balance, /removed/);
  assert.throws(() => ctx.findAccount('gone'), q.NotFoundError);
  // issue 13: many ids at once, null for those not found
  const many = ctx.findAccounts(['acme', 'gone', '', 'acme']);
  assert.strictEqual(many.length, 4);
  assert.strictEqual(many[1], null);
  assert.strictEqual(many[2], null);
  assert.strictEqual(many[0], a);
  assert.strictEqual(many[3], a);
  assert.deepStrictEqual(ctx.findAccounts([]), []);
  assert.throws(() => ctx.findAccounts(['acme', null]), TypeError);
  // an id with a NUL character is not cut short at it
  assert.deepStrictEqual(ctx.findAccounts(['acme\0x']), [null]);
  assert.throws(() => ctx.findAccount('acme\0x'), q.InvalidError);
  ctx.close();
});

test('charge, quote, idempotency, caps and counters', () => {
  const { ctx, sms, a } = setup();
  const p = a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1 });
  assert.strictEqual(a.owner(), ctx);
  const u = { category: sms, units: 12, at: NOW, key: 'k1' };
  const quoted = a.quote(u);
  assert.strictEqual(p.remaining(), 10n);
  const r = a.charge(u);
  assert.deepStrictEqual(r, quoted);
  assert.strictEqual(r.kind, q.RECEIPT_CHARGE);
  assert.deepStrictEqual([r.units, r.freeUnits, r.packageUnits, r.paygUnits, r.paygCostMicros],
    [12n, 0n, 10n, 2n, 100000n]);
  assert.deepStrictEqual(r.lines, [
    { source: q.SOURCE_PACKAGE, tier: 0, packageId: 'P1', units: 10n, unitPriceMicros: 0n, costMicros: 0n },
    { source: q.SOURCE_PAYG, tier: 0, packageId: null, units: 2n, unitPriceMicros: 50000n, costMicros: 100000n },
  ]);
  assert.strictEqual(r.linesTotal, 2);
  assert.strictEqual(p.status(NOW), q.PACKAGE_EXHAUSTED);
  const again = a.charge(u);
  assert.strictEqual(again.replayed, true);
  assert.throws(() => a.charge({ ...u, units: 3 }), q.KeyConflictError);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 12n);
  assert.strictEqual(a.used(q.ALL, q.PERIOD_MONTH, NOW), 12n);
  assert.strictEqual(a.freeUsed(sms, NOW), 0n);
  a.setCap(sms, q.PERIOD_DAY, 13);
  a.charge({ category: sms, units: 1, at: NOW });
  assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }),
    (e) => e instanceof q.CapError && e.code === 'QUOTA_ECAP' && e.errmsg !== '');
  a.setKeyWindow(10, DAY);
  ctx.close();
});

test('reserve, commit, release, tick, reverse', () => {
  const { ctx, sms, a } = setup();
  a.setTariff(sms, ctx.newTariff('fees').setFailureFee(1000));
  a.addPackage({ id: 'P1', categories: [sms], units: 100, effectiveAt: MAY1 });
  const h = a.reserve({ category: sms, units: 5, at: NOW, key: 'r1' }, 60);
  assert.strictEqual(h.kind, q.RECEIPT_RESERVE);
  assert.ok(h.holdId > 0n);
  assert.strictEqual(a.findHold('r1'), h.holdId);
  assert.strictEqual(a.held(sms), 5n);
  assert.strictEqual(a.held(), 5n);
  assert.strictEqual(a.holdCount, 1);
  const c = a.commit(h.holdId, 3, 'c1');
  assert.strictEqual(c.kind, q.RECEIPT_COMMIT);
  assert.strictEqual(c.units, 3n);
  assert.throws(() => a.commit(h.holdId, 1), q.ResolvedError);
  assert.throws(() => a.findHold('r1'), q.ResolvedError);
  const h2 = a.reserve({ category: sms, units: 4, at: NOW }, 60);
  const rel = a.release(h2.holdId);
  assert.strictEqual(rel.kind, q.RECEIPT_RELEASE);
  const h3 = a.reserve({ category: sms, units: 2, at: NOW }, 60);
  assert.strictEqual(a.tick(NOW + 30), 0);
  assert.strictEqual(a.tick(NOW + 60), 1);
  assert.strictEqual(a.holdCount, 0);
  assert.throws(() => a.release(h3.holdId), q.ResolvedError);
  assert.strictEqual(ctx.tick(NOW + 61), 0);
  a.charge({ category: sms, units: 7, at: NOW, key: 'ch' });
  const before = a.remaining(sms, NOW);
  const rv = a.reverse('ch', NOW + 1);
  assert.strictEqual(rv.kind, q.RECEIPT_REVERSAL);
  assert.strictEqual(a.remaining(sms, NOW), before + 7n);
  assert.throws(() => a.reverse('ch', NOW + 2), q.ReversedError);
  ctx.close();
});

test('SMS counting and charging', () => {
  assert.deepStrictEqual(q.smsCount('hello'), { encoding: q.SMS_GSM7, units: 5, segments: 1, shiftLocking: 0, shiftSingle: 0 });
  const long = q.smsCount('a'.repeat(161), { offsets: true });
  assert.strictEqual(long.segments, 2);
  assert.deepStrictEqual(long.offsets, [0, 153]);
  const emoji = q.smsCount('😀'.repeat(40), { offsets: true });
  assert.strictEqual(emoji.encoding, q.SMS_UCS2);
  assert.strictEqual(emoji.units, 80);
  assert.deepStrictEqual(emoji.offsets, [0, 66]); // string indices: 33 emoji
  assert.strictEqual(q.smsCount('hello', { flags: q.SMS_FORCE_UCS2 }).encoding, q.SMS_UCS2);
  assert.throws(() => q.smsCount('a'.repeat(400), { maxSegments: 2 }), q.TooLongError);
  assert.throws(() => q.smsCount(Buffer.from([0x61, 0xff])),
    (e) => e instanceof q.EncodingError && e.offset === 1);
  const cn = q.smsCount('验证码123456', { flags: q.SMS_CN, signature: '【华为云】' });
  assert.strictEqual(cn.segments, 1);
  const { ctx, sms, a } = setup();
  const r = a.chargeSms(sms, 'x'.repeat(200), { at: NOW, key: 's1' });
  assert.strictEqual(r.units, 2n);
  assert.strictEqual(r.sms.segments, 2);
  ctx.close();
});

test('R24 gift money: gift first, then cash; the order is configurable', () => {
  const { ctx, sms, a } = setup();
  const offer = ctx.addOffer({ id: 'usms-100', categories: [sms], units: 100, priceMicros: 4400000 });
  a.topup(2000000, NOW);
  a.grantGift(3000000, NOW + DAY, NOW);
  assert.strictEqual(a.giftBalance(NOW), 3000000n);
  assert.strictEqual(a.giftBalance(NOW + DAY), 0n);
  const p = a.buyPackage(offer, 1, NOW);
  assert.deepStrictEqual([p.giftMicros, p.cashMicros, p.creditMicros], [3000000n, 1400000n, 0n]);
  const m = a.money();
  assert.deepStrictEqual([m.giftMicros, m.giftGrantedMicros, m.giftSpentMicros, m.balanceMicros],
    [0n, 3000000n, 3000000n, 600000n]);
  a.setPayOrder(q.PAY_CASH_FIRST, q.PAY_CREDIT_PURCHASES);
  assert.strictEqual(a.money().payOrder, q.PAY_CASH_FIRST);
  assert.throws(() => a.setPayOrder(7), q.InvalidError);
  assert.throws(() => a.grantGift(0, q.NEVER, NOW), q.InvalidError);
  ctx.close();
});

test('money, catalog, vouchers, settlement with a bill callback', () => {
  const { ctx, sms, a, t } = setup();
  assert.strictEqual(q.moneyRound(12345, 10000), 10000n);
  assert.strictEqual(q.moneyRound(15000, 10000, q.ROUND_HALF_EVEN), 20000n);
  assert.throws(() => q.moneyRound(1, 0), q.InvalidError);
  a.topup(5000000, NOW);
  assert.strictEqual(a.balance, 5000000n);
  const offer = ctx.addOffer({ id: 'sms-100', categories: [sms], units: 100, priceMicros: 4400000, validMonths: 12 });
  assert.strictEqual(ctx.findOffer('sms-100'), offer);
  const byQty = ctx.addOffer({ id: 'any', categories: [sms], unitTariff: t, minUnits: 10, stepUnits: 10 });
  assert.strictEqual(a.quotePackage(byQty, 20, NOW).priceMicros, 1000000n);
  const v = { kind: q.VOUCHER_AMOUNT, value: 400000 };
  const quoted = a.quotePackage(offer, 1, NOW, { voucher: v });
  assert.strictEqual(quoted.package, null);
  const bought = a.buyPackage(offer, 1, NOW, { voucher: v, packageId: 'bought' });
  assert.strictEqual(bought.priceMicros, 4000000n);
  assert.strictEqual(bought.discountMicros, 400000n);
  assert.strictEqual(bought.package.id, 'bought');
  assert.strictEqual(bought.package.remaining(), 100n);
  assert.throws(() => a.buyPackage(offer, 1, NOW), q.FundsError);
  assert.throws(() => a.buyPackage(offer, 1, NOW, { voucher: { kind: q.VOUCHER_AMOUNT, value: 1, minSpendMicros: 10 ** 9 } }), q.VoucherError);
  const m = a.money();
  assert.deepStrictEqual([m.balanceMicros, m.purchasedMicros, m.toppedUpMicros, m.suspended],
    [1000000n, 4000000n, 5000000n, false]);
  a.charge({ category: sms, units: 130, at: NOW }); // 100 package, 30 payg at 0.04: 1.20
  a.setSettlement(q.PERIOD_DAY, 10000, q.ROUND_HALF_UP).setCreditLimit(0);
  const seen = [];
  const dayEnd = (Math.floor(NOW / DAY) + 1) * DAY;
  const bills = a.settle(dayEnd, (b) => seen.push(b));
  assert.strictEqual(bills.length, 1);
  assert.strictEqual(seen[0], bills[0]);
  const b = bills[0];
  assert.strictEqual(b.account, a);
  assert.strictEqual(b.totalMicros, 1200000n);
  assert.strictEqual(b.status, q.BILL_OUTSTANDING);
  assert.strictEqual(b.periodEnd, dayEnd);
  assert.deepStrictEqual(b.lines.map((l) => [l.category, l.kind, l.units, l.roundedMicros]),
    [[sms, q.LINE_USAGE, 30n, 1200000n]]);
  assert.strictEqual(a.suspended, true);
  assert.throws(() => a.charge({ category: sms, units: 1, at: dayEnd }), q.SuspendedError);
  a.topup(1000000, dayEnd);
  assert.strictEqual(a.suspended, false);
  assert.deepStrictEqual(ctx.settle(dayEnd + DAY), []);
  ctx.close();
});

test('reports: rows, CSV, CSV file; a throwing callback stops the report', () => {
  const { ctx, sms, a } = setup();
  a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1 });
  a.charge({ category: sms, units: 12, at: NOW });
  const from = Math.floor(NOW / DAY) * DAY;
  const rows = a.report(q.PERIOD_DAY, from, from + DAY);
  assert.deepStrictEqual(rows.map((r) => [r.source, r.package && r.package.id, r.units, r.costMicros]),
    [[q.SOURCE_PACKAGE, 'P1', 10n, 0n], [q.SOURCE_PAYG, null, 2n, 100000n]]);
  assert.strictEqual(rows[0].account, a);
  assert.strictEqual(rows[0].start, from);
  const csv = a.reportCsv(q.PERIOD_DAY, from, from + DAY);
  const lines = csv.trim().split('\n');
  assert.strictEqual(lines[0], 'account,period,start,end,category,source,package,units,cost_micros');
  assert.strictEqual(lines.length, 3);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-node.')), 'r.csv');
  a.reportCsvFile(q.PERIOD_DAY, from, from + DAY, file);
  assert.strictEqual(fs.readFileSync(file, 'utf8'), csv);
  fs.rmSync(path.dirname(file), { recursive: true });
  let calls = 0;
  const boom = new Error('boom');
  assert.throws(() => a.report(q.PERIOD_DAY, from, from + DAY, () => { calls++; throw boom; }), (e) => e === boom);
  assert.strictEqual(calls, 1);
  // The context works on after a callback threw.
  assert.strictEqual(a.report(q.PERIOD_DAY, from, from + DAY).length, 2);
  assert.throws(() => a.report(q.PERIOD_DAY, from + DAY, from), q.InvalidError);
  ctx.close();
});

test('events: alerts, exhaustion, caps, hold expiry; a throwing hook is counted and rethrown', () => {
  const { ctx, sms, a } = setup();
  const events = [];
  ctx.onEvent((e) => events.push(e));
  const p = a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1 });
  a.tick(NOW); // alerts look at packages usable at the account clock
  a.addAlert(sms, 5, q.ALERT_UNITS).setCap(sms, q.PERIOD_DAY, 20).setExpiryWarning(DAY);
  a.charge({ category: sms, units: 6, at: NOW });
  assert.deepStrictEqual(events.map((e) => e.kind), [q.EVENT_LOW_QUOTA]);
  assert.strictEqual(events[0].account, a);
  assert.strictEqual(events[0].remaining, 4n);
  assert.strictEqual(events[0].threshold, 5n);
  a.charge({ category: sms, units: 4, at: NOW });
  const ex = events.find((e) => e.kind === q.EVENT_PACKAGE_EXHAUSTED);
  assert.ok(ex && ex.package.id === p.id);
  a.charge({ category: sms, units: 10, at: NOW });
  assert.ok(events.some((e) => e.kind === q.EVENT_CAP_REACHED && e.period === q.PERIOD_DAY));
  a.setCap(sms, q.PERIOD_DAY, -1);
  const h = a.reserve({ category: sms, units: 1, at: NOW }, 10);
  a.tick(NOW + 10);
  const he = events.find((e) => e.kind === q.EVENT_HOLD_EXPIRED);
  assert.strictEqual(he.receipt.holdId, h.holdId);
  assert.strictEqual(he.receipt.kind, q.RECEIPT_RELEASE);
  // A hook that throws: the charge stands, the error comes out of the call.
  const boom = new Error('hook');
  ctx.onEvent(() => { throw boom; });
  a.addPackage({ id: 'P2', categories: [sms], units: 5, effectiveAt: MAY1 });
  const used = a.used(sms, q.PERIOD_DAY, NOW);
  const failures = ctx.hookFailures;
  assert.throws(() => a.charge({ category: sms, units: 5, at: NOW + 20 }), (e) => e === boom);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), used + 5n);
  assert.ok(ctx.hookFailures > failures);
  assert.strictEqual(typeof ctx.hookFailures, 'number');   // a count: a Number
  ctx.onEvent(null);
  a.charge({ category: sms, units: 1, at: NOW + 20 });
  assert.throws(() => ctx.onEvent(42), TypeError);
  ctx.close();
});

test('snapshots: take, peek, load into another context, reset', () => {
  const { ctx, sms, a } = setup();
  a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1 });
  a.charge({ category: sms, units: 3, at: NOW });
  const snap = a.snapshot();
  assert.deepStrictEqual(q.snapshotPeek(snap), { accountId: 'acme', seq: 0n });
  const other = new q.Context();
  other.addCategory('sms');
  other.newTariff('std');
  const b = other.loadAccount(snap);
  assert.strictEqual(b.id, 'acme');
  assert.strictEqual(b.remaining(sms, NOW), 7n);
  assert.deepStrictEqual(b.snapshot(), snap);
  assert.throws(() => other.loadAccount(snap), q.ExistsError);
  const bad = Buffer.from(snap);
  bad[bad.length - 1] ^= 0xff;
  assert.throws(() => other.snapshotPeek(bad), q.CorruptError);
  a.charge({ category: sms, units: 2, at: NOW });
  const p = a.findPackage('P1');
  a.reset(snap);
  assert.strictEqual(a.remaining(sms, NOW), 7n);
  assert.strictEqual(p.remaining(), 7n); // found again after the reset
  a.reset(null);
  assert.strictEqual(a.packageCount, 0);
  assert.throws(() => p.remaining(), q.NotFoundError);
  other.close();
  ctx.close();
});

test('journal: a JS store records, another context replays and checks', () => {
  const records = [];
  let fail = null;
  const ctx = new q.Context();
  ctx.setStore({
    append(account, seq, rec) {
      if (fail) throw fail;
      records.push({ account, seq, rec });
    },
    errmsg: () => 'disk on fire',
  });
  const sms = ctx.addCategory('sms');
  ctx.newTariff('std').addTier(q.UNLIMITED, 10000);
  const a = ctx.newAccount('acme').setTariff(sms, ctx.findTariff('std'));
  a.charge({ category: sms, units: 4, at: NOW, key: 'j1' });
  a.charge({ category: sms, units: 1, at: NOW });
  assert.ok(records.length >= 5);
  assert.ok(records.every((r) => typeof r.seq === 'bigint' && Buffer.isBuffer(r.rec)));
  assert.strictEqual(a.seq, BigInt(records.filter((r) => r.account === 'acme').length));
  assert.strictEqual(ctx.configSeq, BigInt(records.filter((r) => r.account === null).length));
  assert.strictEqual(ctx.configUnstored, 0);   // a count: a Number
  const last = records[records.length - 1];
  assert.strictEqual(q.journalSize(Buffer.concat([last.rec, Buffer.alloc(9)])), last.rec.length);
  assert.deepStrictEqual(q.journalPeek(last.rec), { accountId: 'acme', seq: last.seq });
  assert.throws(() => q.journalSize(last.rec.subarray(0, 3)), q.CorruptError);
  // A failing store: the call fails with the store's exception, nothing changed.
  fail = new Error('store down');
  const before = a.remaining(sms, NOW);
  assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }), (e) => e === fail);
  assert.strictEqual(a.seq, BigInt(records.filter((r) => r.account === 'acme').length));
  assert.strictEqual(a.remaining(sms, NOW), before);
  fail = null;
  // Replay.
  const replica = new q.Context();
  for (const r of records) replica.journalApply(r.rec, { check: true });
  const b = replica.findAccount('acme');
  assert.deepStrictEqual(b.snapshot(), a.snapshot());
  assert.throws(() => replica.journalApply(records[0].rec), q.SequenceError);
  assert.strictEqual(a.unsynced, false);
  ctx.setStore(null);
  a.charge({ category: sms, units: 1, at: NOW });
  replica.close();
  ctx.close();
});

test('a store with begin/commit: batches and single operations', () => {
  const log = [];
  const ctx = new q.Context();
  ctx.setStore({ append: () => { log.push('append'); }, begin: () => { log.push('begin'); },
    commit: () => { log.push('commit'); } });
  const sms = ctx.addCategory('sms');
  const a = ctx.newAccount('acme');
  a.addPackage({ id: 'P1', categories: [sms], units: 100, effectiveAt: MAY1 });
  log.length = 0;
  const res = ctx.batch([
    { op: 'charge', account: a, category: sms, units: 2, at: NOW },
    { op: 'chargeSms', account: a, category: sms, text: 'a'.repeat(200), at: NOW, key: 's' },
    { op: 'reserve', account: a, category: sms, units: 3, at: NOW, timeout: 60, key: 'r' },
    { op: 'charge', account: a, category: sms, units: 0, at: NOW },
  ]);
  assert.deepStrictEqual(res.map((r) => r.ok), [true, true, true, false]);
  assert.ok(res[3].error instanceof q.InvalidError);
  assert.strictEqual(res[1].receipt.units, 2n);
  const hold = res[2].holdId;
  assert.ok(hold > 0n);
  assert.strictEqual(log[0], 'begin');
  assert.strictEqual(log[log.length - 1], 'commit');
  const res2 = ctx.batch([{ op: 'commit', account: a, holdId: hold, unitsUsed: 1, key: 'c' }]);
  assert.strictEqual(res2[0].receipt.kind, q.RECEIPT_COMMIT);
  const r = ctx.run({ op: 'reserve', account: a, category: sms, units: 1, at: NOW, timeout: 5 });
  assert.strictEqual(ctx.run({ op: 'release', account: a, holdId: r.holdId }).kind, q.RECEIPT_RELEASE);
  assert.throws(() => ctx.run({ op: 'fly', account: a }), TypeError);
  assert.throws(() => ctx.setStore({ append() {}, begin() {} }), TypeError);
  ctx.close();
});

test('pruning and retention', () => {
  const { ctx, sms, a } = setup();
  assert.strictEqual(a.prunedBefore, null);
  a.charge({ category: sms, units: 1, at: MAY1 + 3600 });
  a.settle(MAY1 + 10 * DAY);
  a.prune(MAY1 + 5 * DAY, q.PRUNE_ALL);
  assert.ok(a.prunedBefore > MAY1);
  assert.throws(() => a.report(q.PERIOD_DAY, MAY1, MAY1 + DAY), q.PrunedError);
  a.setRetention(30 * DAY, q.PRUNE_LEDGER);
  assert.throws(() => a.setRetention(DAY, 0), q.InvalidError);
  ctx.close();
});

test('a dropped context is freed by the finalizer', async (t) => {
  if (typeof global.gc !== 'function') {
    t.skip('needs node --expose-gc');
    return;
  }
  let freed = 0;
  const watch = new FinalizationRegistry(() => { freed++; });
  (() => {
    for (let i = 0; i < 20; i++) {
      const ctx = new q.Context();
      ctx.onEvent((e) => ctx.errmsg + e); // a hook closing over its context
      ctx.addCategory('sms');
      watch.register(ctx, i);
    }
  })();
  for (let i = 0; i < 20 && freed < 20; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.strictEqual(freed, 20);
});

test('R25 blocking, R27 reconciliation: block, release with a reason, reverse by receipt', () => {
  const { ctx, sms, t, a } = setup();
  const fee = ctx.newTariff('fees').addTier(q.UNLIMITED, 50000)
    .setFailureFee(1000).setFailureFeeReason(q.FAIL_REJECTED, 7000);
  assert.strictEqual(fee.name, 'fees');
  const b = ctx.newAccount('beta').setTariff(sms, fee);
  const id = b.reserve({ category: sms, units: 2, at: NOW }, 3600).holdId;
  const rel = b.releaseReason(id, q.FAIL_REJECTED);
  assert.strictEqual(rel.feeMicros, 14000n);
  assert.strictEqual(rel.failureReason, q.FAIL_REJECTED);
  a.keepReceipts(true);
  const r = a.charge({ category: sms, units: 3, at: NOW });
  assert.ok(r.receiptId > 0n);
  const back = a.reverseReceipt(r.receiptId, NOW + 10);
  assert.strictEqual(back.units, 3n);
  assert.throws(() => a.reverseReceipt(r.receiptId, NOW + 20), q.ReversedError);
  assert.strictEqual(a.blocked(), null);
  a.block('spam', NOW + 30);
  assert.deepStrictEqual(a.blocked(), { reason: 'spam', since: NOW + 30 }); // a time: a Number
  assert.throws(() => a.charge({ category: sms, units: 1, at: NOW + 40 }), q.BlockedError);
  a.unblock(NOW + 50);
  assert.strictEqual(a.blocked(), null);
  a.charge({ category: sms, units: 1, at: NOW + 60 });
  assert.ok(t);
  ctx.close();
});

test('R23 renewal marks: set, read, clear', () => {
  const { ctx, sms, a } = setup();
  const o = ctx.addOffer({ id: 'pack', categories: q.mask(sms), units: 100,
    priceMicros: 1000000, validMonths: 1 });
  assert.strictEqual(a.renewal(o), null);
  a.setRenewal(o, 10, q.RENEWAL_NONE, NOW);
  assert.deepStrictEqual(a.renewal(o), { unitsLeftAtMost: 10n, expiresWithinSeconds: -1 });
  a.setRenewal(o, q.RENEWAL_NONE, 3 * DAY, NOW);
  assert.deepStrictEqual(a.renewal(o), { unitsLeftAtMost: -1n, expiresWithinSeconds: 3 * DAY });
  a.clearRenewal(o, NOW + 1);
  assert.strictEqual(a.renewal(o), null);
  ctx.close();
});

test('R26 time zones: load, find, offset, an account following one', (t) => {
  const { ctx, a } = setup();
  let z;
  try {
    z = ctx.loadZone('Europe/Berlin');
  } catch (e) {
    t.skip(`no tz database: ${e.message}`);
    return;
  }
  assert.strictEqual(z.name, 'Europe/Berlin');
  assert.strictEqual(ctx.findZone('Europe/Berlin'), z);
  assert.strictEqual(z.offset(1704067200), 3600);  // 2024-01-01: CET
  assert.strictEqual(z.offset(1719792000), 7200);  // 2024-07-01: CEST
  const bytes = fs.readFileSync('/usr/share/zoneinfo/Europe/Berlin');
  const same = ctx.zoneFromTzif('Berlin-copy', bytes);
  assert.strictEqual(same.offset(1719792000), 7200);
  assert.strictEqual(a.zone, null);
  a.setZone(z);
  assert.strictEqual(a.zone, z);
  ctx.close();
});

test('allocators: every allocation failing in turn is ENOMEM and leaks nothing; an exception is rethrown', () => {
  // quota_ctx_new_with through a JS allocator (STYLE 8, 19)
  let n = 1;
  for (;;) {
    const alloc = new q.Allocator({ failAt: n });
    let ctx;
    try {
      ctx = new q.Context({ allocator: alloc });
    } catch (e) {
      assert.ok(e instanceof q.NoMemoryError, String(e));
      assert.strictEqual(alloc.live, 0);
      n += 1;
      continue;
    }
    let failed = false;
    try {
      const sms = ctx.addCategory('sms');
      const t = ctx.newTariff('std').addTier(100, 50000).addTier(q.UNLIMITED, 40000);
      const a = ctx.newAccount('acme').setTariff(sms, t);
      a.charge({ category: sms, units: 3, at: NOW });
      assert.strictEqual(a.used(sms, q.PERIOD_MONTH, NOW), 3n);
    } catch (e) {
      assert.ok(e instanceof q.NoMemoryError, String(e));
      failed = true;
    }
    assert.ok(alloc.live > 0);
    ctx.close();
    assert.strictEqual(alloc.live, 0);
    if (!failed) break;
    n += 1;
  }
  assert.ok(n > 3, `only ${n} allocations`);

  class Bad extends q.Allocator {
    malloc() { throw new Error('allocator bug'); }
  }
  assert.throws(() => new q.Context({ allocator: new Bad() }), /allocator bug/);
  assert.throws(() => new q.Context({ allocator: {} }), TypeError);
});

test('setError words a store failure on the context', () => {
  const { ctx } = setup();
  assert.strictEqual(ctx.setError(q.ESTORE, 'disk on fire'), q.ESTORE);
  assert.strictEqual(ctx.errmsg, 'disk on fire');
  ctx.close();
});

test('strings with a NUL character or a lone surrogate are refused before C sees them', () => {
  const { ctx, sms, a } = setup();
  a.setKeyWindow(100, DAY);
  const o = ctx.addOffer({ id: 'o', categories: [sms], units: 1, priceMicros: 1 });
  for (const bad of ['msg\0one', 'k\uD800', 'k\uDBFF', '\uDC00k']) {
    const calls = [
      () => a.charge({ category: sms, units: 1, at: NOW, key: bad }),
      () => a.quote({ category: sms, units: 1, at: NOW, key: bad }),
      () => a.reserve({ category: sms, units: 1, at: NOW, key: bad }, 60),
      () => a.chargeSms(sms, 'hi', { at: NOW, key: bad }),
      () => a.reverse(bad, NOW),
      () => a.findHold(bad),
      () => a.block(bad, NOW),
      () => a.addPackage({ id: bad, categories: [sms], units: 1 }),
      () => a.findPackage(bad),
      () => a.buyPackage(o, 1, NOW, { packageId: bad }),
      () => ctx.newAccount(bad),
      () => ctx.findAccount(bad),
      () => ctx.addCategory(bad),
      () => ctx.findCategory(bad),
      () => ctx.newTariff(bad),
      () => ctx.loadZone(bad),
      () => ctx.addOffer({ id: bad, categories: [sms], units: 1 }),
      () => ctx.setError(q.ESTORE, bad),
      () => q.smsCount('hi', { signature: bad }),
      () => ctx.run({ op: 'charge', account: a, category: sms, units: 1, at: NOW, key: bad }),
      () => a.reportCsvFile(q.PERIOD_DAY, NOW, NOW + DAY, `/tmp/${bad}`),
    ];
    calls.forEach((call, i) => assert.throws(call, (e) => e instanceof q.InvalidError
      && /NUL|surrogate/.test(e.errmsg), `${JSON.stringify(bad)} call ${i}`));
  }
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 0n);
  assert.strictEqual(ctx.accountCount, 1);
  assert.strictEqual(ctx.categoryCount, 1);
  assert.strictEqual(a.blocked(), null);
  // An id that cannot be sent names no account.
  assert.deepStrictEqual(ctx.findAccounts(['acme\uD800', 'acme']), [null, a]);
  // Keys that C would have read as one are two charges.
  a.charge({ category: sms, units: 1, at: NOW, key: 'msg-one' });
  assert.strictEqual(a.charge({ category: sms, units: 1, at: NOW, key: 'msg-two' }).replayed, false);
  // quota_sms_count(3): an encoded surrogate is QUOTA_EENCODING.
  assert.throws(() => q.smsCount('a\uD800b'), (e) => e instanceof q.EncodingError && e.offset === 1);
  assert.throws(() => a.chargeSms(sms, 'é\uDC00', { at: NOW }),
    (e) => e instanceof q.EncodingError && e.offset === 2);
  assert.throws(() => ctx.batch([{ op: 'chargeSms', account: a, category: sms, text: '\uD83D', at: NOW }]),
    q.EncodingError);
  assert.strictEqual(q.smsCount('😀').units, 2); // a pair is not lone
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 2n);
  ctx.close();
});

// Every call of the list throws InvalidError naming the callback: 'refused'.
function refused(calls) {
  return calls.map((call) => {
    try {
      call();
      return 'ran';
    } catch (e) {
      return e instanceof q.InvalidError && /callback/.test(e.errmsg) ? 'refused' : String(e);
    }
  });
}

test('calls from inside a callback: the C pages forbid changes there, and they throw instead of crashing', () => {
  const { ctx, sms, t, a } = setup();
  const p = a.addPackage({ id: 'P1', categories: [sms], units: 10, effectiveAt: MAY1 });
  const changes = () => [() => ctx.close(), () => a.remove(), () => a.reset(null),
    () => a.charge({ category: sms, units: 1, at: NOW }), () => a.tick(NOW + 1),
    () => ctx.onEvent(null), () => ctx.setStore(null), () => ctx.addCategory('x'),
    () => t.addTier(10 ** 6, 1), () => a.addPackage({ id: 'X', categories: [sms], units: 1 }),
    () => ctx.batch([{ op: 'charge', account: a, category: sms, units: 1, at: NOW }])];
  const n = changes().length;
  const all = Array(n).fill('refused');
  // The event hook: reads allowed (quota_events(3)), changes refused.
  const seen = [];
  ctx.onEvent(() => {
    seen.push([a.remaining(sms, NOW), p.remaining(), a.balance, ctx.findAccount('acme') === a]);
    seen.push(refused(changes()));
  });
  a.addAlert(sms, 5);
  a.charge({ category: sms, units: 6, at: NOW });
  assert.deepStrictEqual(seen, [[4n, 4n, 0n, true], all]);
  ctx.onEvent(() => ctx.close());
  assert.throws(() => a.charge({ category: sms, units: 4, at: NOW }), q.InvalidError);
  assert.strictEqual(ctx.closed, false);
  assert.strictEqual(p.remaining(), 0n);
  ctx.onEvent(null);
  // A report's row callback and a bill callback: the same.
  seen.length = 0;
  const from = Math.floor(NOW / DAY) * DAY;
  a.report(q.PERIOD_DAY, from, from + DAY, () => { seen.push(a.balance, refused(changes())); });
  assert.deepStrictEqual(seen.slice(0, 2), [0n, all]);
  assert.throws(() => a.report(q.PERIOD_DAY, from, from + DAY, () => ctx.close()), q.InvalidError);
  seen.length = 0;
  a.charge({ category: sms, units: 2, at: NOW }); // pay-as-you-go: 0.10
  a.topup(10000000, NOW);
  a.setSettlement(q.PERIOD_DAY);
  a.settle(from + DAY, () => { seen.push(a.money().billedMicros, refused(changes())); });
  assert.deepStrictEqual(seen, [100000n, all]);
  a.charge({ category: sms, units: 1, at: from + DAY });
  assert.throws(() => ctx.settle(from + 2 * DAY, () => a.remove()), q.InvalidError);
  assert.strictEqual(a.removed, false);
  // A store's callbacks may not call the library on the context at all.
  let what = 'append';
  seen.length = 0;
  ctx.setStore({
    append() {
      if (what === 'append') {
        seen.push(refused([...changes(), () => a.balance, () => ctx.findAccount('acme')]));
        ctx.close();
      }
    },
    begin() { if (what === 'begin') ctx.close(); },
    commit() { if (what === 'commit') a.remove(); },
  });
  const used = a.used(sms, q.PERIOD_DAY, from + DAY);
  assert.throws(() => a.charge({ category: sms, units: 1, at: from + DAY }), q.InvalidError);
  assert.deepStrictEqual(seen, [Array(n + 2).fill('refused')]);
  for (what of ['begin', 'commit']) {
    assert.throws(() => ctx.batch([{ op: 'charge', account: a, category: sms, units: 1, at: from + DAY }]),
      q.InvalidError, what);
  }
  assert.strictEqual(ctx.closed, false);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, from + DAY), used);
  what = null;
  a.charge({ category: sms, units: 1, at: from + DAY });
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, from + DAY), used + 1n);
  ctx.close();
});

test('a store answers undefined or a Number code; anything else is a refusal, never stored', async () => {
  const { ctx, sms, a } = setup();
  let ret;
  let stored = 0;
  ctx.setStore({
    append() { if (ret === undefined) stored++; return ret; },
    begin() {},
    commit() { return ret; },
    errmsg: () => 'the store',
  });
  let rejected = 0;
  const bad = [0n, 1n, '0', '', null, 0.5, -0.5, 2 ** 32, NaN, {}, Promise.resolve(),
    (async () => {})(), Promise.reject(new Error('later')).finally(() => { rejected++; })];
  for (const r of bad) {
    ret = r;
    assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }),
      (e) => e instanceof q.StoreError && /refused/.test(e.errmsg), String(r));
    assert.throws(() => ctx.batch([{ op: 'charge', account: a, category: sms, units: 1, at: NOW }]),
      q.StoreError, String(r));
  }
  ret = (async () => {})();
  assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }), /synchronous/);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 0n);
  ret = q.ECONFLICT;
  assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }), q.ConflictError);
  ret = undefined;
  a.charge({ category: sms, units: 1, at: NOW });
  ret = 0;
  a.charge({ category: sms, units: 1, at: NOW });
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 2n);
  await new Promise((r) => setImmediate(r)); // the rejected Promise is not unhandled
  assert.strictEqual(rejected, 1);
  ctx.close();
});

test('events carry the blocking reason', () => {
  const { ctx, a } = setup();
  const seen = [];
  ctx.onEvent((e) => seen.push([e.kind, e.reason]));
  a.block('fraud', NOW);
  a.unblock(NOW + 1);
  assert.deepStrictEqual(seen, [[q.EVENT_ACCOUNT_BLOCKED, 'fraud'], [q.EVENT_ACCOUNT_UNBLOCKED, null]]);
  ctx.close();
});

test('thousands of contexts with a JS store and hook: koffi registrations are shared', () => {
  const ctxs = [];
  const records = [];
  const events = [];
  for (let i = 0; i < 5000; i++) {
    const ctx = new q.Context();
    ctx.setStore({ append: (account, seq) => { records.push([i, account, seq]); }, begin() {}, commit() {} });
    ctx.onEvent((e) => events.push([i, e.kind]));
    ctxs.push(ctx);
  }
  for (const i of [0, 4999]) {
    const ctx = ctxs[i];
    const sms = ctx.addCategory('sms');
    const a = ctx.newAccount('acme');
    a.addPackage({ id: 'P', categories: [sms], units: 1, effectiveAt: MAY1 });
    a.charge({ category: sms, units: 1, at: NOW });
    ctx.batch([{ op: 'charge', account: a, category: sms, units: 1, at: NOW }]);
    assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 2n);
  }
  assert.deepStrictEqual([...new Set(records.map((r) => r[0]))], [0, 4999]);
  assert.deepStrictEqual(events, [[0, q.EVENT_PACKAGE_EXHAUSTED], [4999, q.EVENT_PACKAGE_EXHAUSTED]]);
  for (const ctx of ctxs) ctx.close();
  // Allocators too, and transient callbacks (reports, bills) leave nothing.
  for (let i = 0; i < 3000; i++) new q.Context({ allocator: new q.Allocator() }).close();
  const { ctx, sms, a } = setup();
  a.charge({ category: sms, units: 1, at: NOW });
  for (let i = 0; i < 10000; i++) a.report(q.PERIOD_DAY, MAY1, NOW + DAY, () => {});
  ctx.close();
});

test('an exception a hook caught from its own call is not thrown again by the outer call', () => {
  const { ctx, sms, a } = setup();
  a.addPackage({ id: 'P', categories: [sms], units: 10, effectiveAt: MAY1 });
  a.addAlert(sms, 5);
  const from = Math.floor(NOW / DAY) * DAY;
  const full = new Error('row sink full');
  const seen = [];
  ctx.onEvent(() => {
    try {
      a.report(q.PERIOD_DAY, from, from + DAY, () => { throw full; });
      seen.push('returned');
    } catch (e) { seen.push(e); }
  });
  // The report inside the hook throws its row callback's error there; the
  // hook catches it; the charge (which stands) returns: a caller retrying
  // on exceptions would charge twice.
  assert.strictEqual(a.charge({ category: sms, units: 6, at: NOW }).units, 6n);
  assert.deepStrictEqual(seen, [full]);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 6n);
  assert.strictEqual(a.charge({ category: sms, units: 1, at: NOW }).units, 1n);
  // Not caught, it is the hook's exception: the outer call throws it.
  ctx.onEvent(() => { a.report(q.PERIOD_DAY, from, from + DAY, () => { throw full; }); });
  assert.throws(() => a.charge({ category: sms, units: 3, at: NOW }), (e) => e === full);
  assert.strictEqual(a.used(sms, q.PERIOD_DAY, NOW), 10n);
  ctx.onEvent(null);
  assert.strictEqual(a.charge({ category: sms, units: 1, at: NOW }).units, 1n);
  ctx.close();
});

test('a package handle ends with its package, also when a new package takes its id', () => {
  const ctx = new q.Context();
  const sms = ctx.addCategory('sms');
  const a = ctx.newAccount('acme');
  // quota_account_prune(3): a dropped package's id may be used again and
  // its handles end.
  const p = a.addPackage({ id: 'P', categories: [sms], units: 5, effectiveAt: NOW - 10, expiresAt: NOW + DAY });
  a.charge({ category: sms, units: 5, at: NOW });
  a.setSettlement(q.PERIOD_DAY);
  a.tick(NOW + 3 * DAY);
  a.charge({ category: sms, units: 1, at: NOW + 3 * DAY });
  a.settle(NOW + 3 * DAY);
  a.prune(NOW + 3 * DAY, q.PRUNE_ALL | q.PRUNE_PACKAGES);
  assert.strictEqual(a.packageCount, 0);
  const n = a.addPackage({ id: 'P', categories: [sms], units: 1000, effectiveAt: NOW + 3 * DAY });
  for (const use of [() => p.remaining(), () => p.spec(), () => p.status(NOW)]) {
    assert.throws(use, (e) => e instanceof q.NotFoundError && /dropped/.test(e.errmsg));
  }
  assert.strictEqual(n.remaining(), 1000n);
  assert.strictEqual(a.findPackage('P').spec().units, 1000n);
  assert.strictEqual(a.packages()[0].remaining(), 1000n);
  // The one case it cannot tell apart (the README says so): a new package
  // of the same id and the very same spec.
  const ctx3 = new q.Context();
  const s3 = ctx3.addCategory('sms');
  const c = ctx3.newAccount('c');
  const spec = { id: 'R', categories: [s3], units: 5, effectiveAt: NOW - 10, expiresAt: NOW + DAY };
  const p3 = c.addPackage(spec);
  c.charge({ category: s3, units: 5, at: NOW });
  c.setSettlement(q.PERIOD_DAY);
  c.tick(NOW + 3 * DAY);
  c.charge({ category: s3, units: 1, at: NOW + 3 * DAY });
  c.settle(NOW + 3 * DAY);
  c.prune(NOW + 3 * DAY, q.PRUNE_ALL | q.PRUNE_PACKAGES);
  assert.strictEqual(c.packageCount, 0);
  c.addPackage(spec);
  assert.strictEqual(p3.remaining(), 5n);
  ctx3.close();
  // A retention prune in settle, the same.
  const ctx2 = new q.Context();
  const sms2 = ctx2.addCategory('sms');
  const b = ctx2.newAccount('b');
  const p2 = b.addPackage({ id: 'Q', categories: [sms2], units: 5, effectiveAt: NOW - 10, expiresAt: NOW + DAY });
  b.charge({ category: sms2, units: 5, at: NOW });
  b.setSettlement(q.PERIOD_DAY).setRetention(1, q.PRUNE_ALL | q.PRUNE_PACKAGES);
  b.tick(NOW + 3 * DAY);
  b.charge({ category: sms2, units: 1, at: NOW + 3 * DAY });
  b.settle(NOW + 3 * DAY);
  assert.strictEqual(b.packageCount, 0);
  b.addPackage({ id: 'Q', categories: [sms2], units: 7, effectiveAt: NOW + 3 * DAY });
  assert.throws(() => p2.remaining(), q.NotFoundError);
  ctx2.close();
  ctx.close();
});

test('an allocator may not call the library on its context: close() there is refused', () => {
  class Reentrant extends q.Allocator {
    malloc(n) {
      if (this.armed) {
        this.armed = false;
        this.seen = [() => this.ctx.accountCount, () => this.ctx.findAccount('acme'),
          () => this.ctx.addCategory('x')].map((call) => {
          try { call(); return 'ran'; } catch (e) {
            return e instanceof q.InvalidError && /allocator/.test(e.errmsg) ? 'refused' : String(e);
          }
        });
        if (this.seen.every((x) => x === 'refused')) this.ctx.close();
      }
      return super.malloc(n);
    }
  }
  const al = new Reentrant();
  const ctx = new q.Context({ allocator: al });
  al.ctx = ctx;
  const sms = ctx.addCategory('sms');
  const a = ctx.newAccount('acme');
  al.armed = true;
  assert.throws(() => a.addPackage({ id: 'P', categories: [sms], units: 10, effectiveAt: 0 }),
    (e) => e instanceof q.InvalidError && /allocator/.test(e.errmsg));
  assert.deepStrictEqual(al.seen, ['refused', 'refused', 'refused']);
  assert.strictEqual(ctx.closed, false);
  assert.strictEqual(a.packageCount, 0);
  assert.strictEqual(a.addPackage({ id: 'P', categories: [sms], units: 10, effectiveAt: 0 }).remaining(), 10n);
  ctx.close();
  assert.strictEqual(al.live, 0);
});

test('errmsg is a read: allowed in the event hook, a bill and a report callback; counts are Numbers', () => {
  const { ctx, sms, a } = setup();
  a.addPackage({ id: 'P', categories: [sms], units: 10, effectiveAt: MAY1 });
  assert.throws(() => ctx.findCategory('fax'), q.NotFoundError);
  const msg = ctx.errmsg;
  assert.ok(msg.length > 0);
  const seen = [];
  ctx.onEvent(() => { seen.push(ctx.errmsg); });
  a.addAlert(sms, 5);
  a.charge({ category: sms, units: 6, at: NOW });
  ctx.onEvent(null);
  const from = Math.floor(NOW / DAY) * DAY;
  a.report(q.PERIOD_DAY, from, from + DAY, () => { seen.push(ctx.errmsg); });
  a.charge({ category: sms, units: 6, at: NOW });   // 2 pay-as-you-go
  a.topup(10000000, NOW);
  a.setSettlement(q.PERIOD_DAY);
  a.settle(from + DAY, () => { seen.push(ctx.errmsg); });
  assert.ok(seen.length >= 3);
  assert.ok(seen.every((m) => typeof m === 'string'), seen.map(String).join());
  assert.strictEqual(typeof ctx.hookFailures, 'number');
  assert.strictEqual(typeof ctx.configUnstored, 'number');
  assert.ok(ctx.configUnstored > 0);   // made with no store set
  ctx.close();
  assert.strictEqual(ctx.errmsg, '');
});
