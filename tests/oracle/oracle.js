// oracle.js - run the reference peer, sms-segments-calculator (pinned in
// package.json), over a corpus written by oracle_sms (tests/oracle).
//
//   node oracle.js CORPUS OUT
//
// CORPUS: one hex-encoded UTF-8 string per line.  OUT: one line per
// string: "<G|U> <segments> <graphemes>" where graphemes is "-" when every
// grapheme is a single code point, else the UTF-8 byte offsets at which
// the calculator's graphemes start (after its CR LF split), comma
// separated.  The C side compares and, on disagreement, replays these
// boundaries through libquota to classify the difference.
'use strict';
const fs = require('fs');
const { SegmentedMessage } = require('sms-segments-calculator');

const [corpus, out] = process.argv.slice(2);
const lines = fs.readFileSync(corpus, 'utf8').split('\n');
const res = [];
for (const hex of lines) {
  if (hex === '' && res.length === lines.length - 1) break; // final newline
  const text = Buffer.from(hex === '.' ? '' : hex, 'hex').toString('utf8');
  const m = new SegmentedMessage(text);
  const enc = m.encodingName === 'GSM-7' ? 'G' : 'U';
  let g = '-';
  if (m.graphemes.length !== m.numberOfUnicodeScalars) {
    const offs = [];
    let at = 0;
    for (const gr of m.graphemes) {
      offs.push(at);
      at += Buffer.byteLength(gr, 'utf8');
    }
    g = offs.join(',');
  }
  res.push(`${enc} ${m.segmentsCount} ${g}`);
}
fs.writeFileSync(out, res.join('\n') + '\n');
