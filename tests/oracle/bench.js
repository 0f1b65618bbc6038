// bench.js - messages/s of sms-segments-calculator and of split-sms on the
// corpora that tests/bench_sms.c writes (one hex-encoded UTF-8 string per
// line), and how often split-sms agrees with the calculator's segments.
//   node bench.js FILE...
//   -> "<file> <calc msgs/s> <calc MB/s> <split msgs/s> <split MB/s> <agree %>"
// (medians of 3 runs of >= 0.5 s each)
'use strict';
const fs = require('fs');
const { SegmentedMessage } = require('sms-segments-calculator');
const splitSms = require('split-sms');

const counters = [
  (m) => new SegmentedMessage(m).segmentsCount,
  (m) => splitSms.split(m).parts.length || 1,
];

function rate(msgs, bytes, count) {
  let sink = 0;
  for (const m of msgs.slice(0, 50)) sink += count(m); // warm up
  const rates = [];
  for (let run = 0; run < 3; run++) {
    let n = 0, b = 0;
    const t0 = process.hrtime.bigint();
    let dt = 0;
    do {
      for (const m of msgs) sink += count(m);
      n += msgs.length;
      b += bytes;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (dt < 0.5);
    rates.push([n / dt, b / dt / 1e6]);
  }
  rates.sort((x, y) => x[0] - y[0]);
  if (sink <= 0) throw new Error('nothing counted');
  return rates[1];
}

for (const file of process.argv.slice(2)) {
  const msgs = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
    .map((h) => Buffer.from(h === '.' ? '' : h, 'hex').toString('utf8'));
  const bytes = msgs.reduce((a, m) => a + Buffer.byteLength(m, 'utf8'), 0);
  let agree = 0;
  for (const m of msgs) if (counters[0](m) === counters[1](m)) agree++;
  const [c, s] = counters.map((f) => rate(msgs, bytes, f));
  console.log(`${file} ${c[0].toFixed(1)} ${c[1].toFixed(3)} ` +
              `${s[0].toFixed(1)} ${s[1].toFixed(3)} ${(100 * agree / msgs.length).toFixed(1)}`);
}
