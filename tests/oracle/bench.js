// bench.js - messages/s of sms-segments-calculator on the corpora that
// tests/bench_sms.c writes (one hex-encoded UTF-8 string per line).
//   node bench.js FILE...   ->  "<file> <msgs_per_s median of 3> <MB/s>"
'use strict';
const fs = require('fs');
const { SegmentedMessage } = require('sms-segments-calculator');

for (const file of process.argv.slice(2)) {
  const msgs = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
    .map((h) => Buffer.from(h === '.' ? '' : h, 'hex').toString('utf8'));
  const bytes = msgs.reduce((a, m) => a + Buffer.byteLength(m, 'utf8'), 0);
  let sink = 0;
  for (const m of msgs.slice(0, 50)) sink += new SegmentedMessage(m).segmentsCount; // warm up
  const rates = [];
  for (let run = 0; run < 3; run++) {
    let n = 0, b = 0;
    const t0 = process.hrtime.bigint();
    let dt = 0;
    do {
      for (const m of msgs) sink += new SegmentedMessage(m).segmentsCount;
      n += msgs.length;
      b += bytes;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (dt < 0.5);
    rates.push([n / dt, b / dt / 1e6]);
  }
  rates.sort((x, y) => x[0] - y[0]);
  console.log(`${file} ${rates[1][0].toFixed(1)} ${rates[1][1].toFixed(3)} ${sink > 0 ? '' : '!'}`);
}
