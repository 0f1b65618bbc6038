'use strict';
// A realistic month: the same SMS traffic on two plans, billed daily,
// and the month's cost of each compared.
//
//   payg    100 free a month, then 0.05 for the first 1,000 units of the
//           month and 0.04 beyond (graduated)
//   bundle  a 5,000-unit package bought for 120.00 on May 1 (valid one
//           month), overage at 0.03

const test = require('node:test');
const assert = require('node:assert');
const q = require('..');

const MAY1 = 1714521600; // 2024-05-01T00:00Z, a Wednesday
const DAY = 86400;
const JUN1 = MAY1 + 31 * DAY;

// Units per day: 300 on weekdays, 60 at weekends, a 1,500 campaign on
// May 15; sent in 10 hourly bursts from 08:00.
function traffic() {
  const out = [];
  for (let d = 0; d < 31; d++) {
    const wd = (3 + d) % 7; // 0 Sunday
    let units = wd === 0 || wd === 6 ? 60 : 300;
    if (d === 14) units += 1500;
    for (let h = 0; h < 10; h++) {
      out.push({ at: MAY1 + d * DAY + (8 + h) * 3600, units: units / 10, key: `d${d}h${h}` });
    }
  }
  return out;
}

test('a month of traffic on two plans', (t) => {
  const ctx = new q.Context();
  const sms = ctx.addCategory('sms');
  const payg = ctx.newTariff('payg').addTier(1000, 50000).addTier(q.UNLIMITED, 40000)
    .setFree(100, q.PERIOD_MONTH);
  const over = ctx.newTariff('overage').addTier(q.UNLIMITED, 30000);
  const bundleOffer = ctx.addOffer({ id: 'bundle-5000', categories: [sms], units: 5000,
    priceMicros: 120000000, validMonths: 1 });

  const A = ctx.newAccount('on-payg').setTariff(sms, payg).setCreditLimit(1000000000);
  const B = ctx.newAccount('on-bundle').setTariff(sms, over).setCreditLimit(1000000000);
  B.topup(120000000, MAY1);
  const bought = B.buyPackage(bundleOffer, 1, MAY1);
  assert.strictEqual(bought.expiresAt, JUN1);

  const events = [];
  ctx.onEvent((e) => events.push(e));
  B.addAlert(sms, 10, q.ALERT_PERCENT);

  const bills = { 'on-payg': [], 'on-bundle': [] };
  let total = 0n;
  for (const u of traffic()) {
    for (const acct of [A, B]) acct.charge({ category: sms, units: u.units, at: u.at, key: u.key });
    total += BigInt(u.units);
    // Settle at each midnight that passed (both accounts at once).
    if ((u.at - MAY1) % DAY === 17 * 3600) {
      ctx.settle(u.at - 17 * 3600 + DAY, (b) => bills[b.account.id].push(b));
    }
  }
  ctx.settle(JUN1, (b) => bills[b.account.id].push(b));
  assert.strictEqual(total, 8880n); // 23 weekdays, 8 weekend days, the campaign

  // What the plans say, worked out by hand.  Free units count toward the
  // month's volume (quota_tariff_new(3)): positions 1-100 are free,
  // 101-1,000 cost 0.05 and the rest 0.04.
  const wantA = (1000n - 100n) * 50000n + (total - 1000n) * 40000n; // 360.20
  const wantB = 120000000n + (total - 5000n) * 30000n;             // 236.40
  const billed = (id) => bills[id].reduce((s, b) => s + b.totalMicros, 0n);
  assert.strictEqual(billed('on-payg'), wantA);
  assert.strictEqual(billed('on-bundle') + B.money().purchasedMicros, wantB);
  assert.strictEqual(A.money().billedMicros, wantA);
  assert.strictEqual(bills['on-payg'].length, 31);

  // The month's report agrees: every unit once, by source.
  const sum = (rows, src) => rows.filter((r) => src === undefined || r.source === src)
    .reduce((s, r) => s + r.units, 0n);
  const ra = A.report(q.PERIOD_MONTH, MAY1, JUN1);
  const rb = B.report(q.PERIOD_MONTH, MAY1, JUN1);
  assert.strictEqual(sum(ra), total);
  assert.strictEqual(sum(ra, q.SOURCE_FREE), 100n);
  assert.strictEqual(sum(rb, q.SOURCE_PACKAGE), 5000n);
  assert.strictEqual(sum(rb, q.SOURCE_PAYG), total - 5000n);

  // The bundle ran low and out during the campaign month.
  const low = events.find((e) => e.kind === q.EVENT_LOW_QUOTA && e.account === B);
  const out = events.find((e) => e.kind === q.EVENT_PACKAGE_EXHAUSTED && e.account === B);
  assert.ok(low && out && low.at <= out.at);
  assert.strictEqual(out.package.id, bought.package.id);

  const cheaper = wantB < wantA ? 'bundle' : 'payg';
  assert.strictEqual(cheaper, 'bundle');
  const usd = (m) => (Number(m) / 1e6).toFixed(2);
  t.diagnostic(`May 2024, ${total} SMS: payg ${usd(wantA)}, bundle ${usd(wantB)}; saving ${usd(wantA - wantB)}`);
  ctx.close();
});
