'use strict';
// The koffi structs against the C compiler: sizeof and offsetof of every
// field of every public struct, and the value of every constant
// (a small C program is compiled with $CC, else cc, and run).

const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { koffi, STRUCTS, DECLS, SQLITE_DECLS } = require('../lib/ffi');
const K = require('../lib/constants');

const INCLUDE = process.env.QUOTA_INCLUDE || path.join(__dirname, '..', '..', 'include');

function cLayout() {
  const lines = ['#include "quota.h"', '#include "quota_store.h"', '#include "quota_sqlite.h"',
    '#include <stddef.h>', '#include <stdio.h>', 'int main(void)', '{'];
  for (const [name, type] of Object.entries(STRUCTS)) {
    lines.push(`\tprintf("${name} %zu\\n", sizeof(${name}));`);
    for (const m of Object.keys(koffi.introspect(type).members)) {
      lines.push(`\tprintf("${name}.${m} %zu\\n", offsetof(${name}, ${m}));`);
    }
  }
  for (const k of Object.keys(K)) {
    lines.push(`\tprintf("QUOTA_${k} %lld\\n", (long long)(QUOTA_${k}));`);
  }
  lines.push('\treturn 0;', '}');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-layout.'));
  try {
    const src = path.join(dir, 'layout.c');
    const exe = path.join(dir, 'layout');
    fs.writeFileSync(src, lines.join('\n') + '\n');
    const cc = (process.env.CC || 'cc').split(/\s+/).filter(Boolean);
    execFileSync(cc[0], [...cc.slice(1), '-std=c11', '-I', INCLUDE, src, '-o', exe], { stdio: 'inherit' });
    const out = execFileSync(exe, { encoding: 'utf8' });
    return new Map(out.trim().split('\n').map((l) => l.split(' ')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const want = cLayout();

for (const [name, type] of Object.entries(STRUCTS)) {
  test(`layout of ${name}`, () => {
    assert.strictEqual(koffi.sizeof(type), Number(want.get(name)), `sizeof(${name})`);
    for (const m of Object.keys(koffi.introspect(type).members)) {
      assert.strictEqual(koffi.offsetof(type, m), Number(want.get(`${name}.${m}`)), `offsetof(${name}, ${m})`);
    }
  });
}

test('every constant equals the header\'s', () => {
  for (const [k, v] of Object.entries(K)) {
    assert.strictEqual(BigInt(v), BigInt(want.get(`QUOTA_${k}`)), `QUOTA_${k}`);
  }
});

// Coverage: every function the public headers declare is declared to
// koffi, and every declared one is called by the module (index.js),
// so Node covers the whole API (nothing left for a user to declare).
const fname = (d) => /\b(quota_[a-z0-9_]+)\(/.exec(d)[1];

test('every header function is declared to koffi and called by the module', () => {
  const text = ['quota.h', 'quota_store.h', 'quota_sqlite.h']
    .map((h) => fs.readFileSync(path.join(INCLUDE, h), 'utf8')).join('\n');
  const header = new Set([...text.matchAll(/QUOTA_API[^;(]*?\b(quota_[a-z0-9_]+)\(/g)].map((m) => m[1]));
  assert.ok(header.size > 95, `${header.size} functions in the headers`);
  const core = DECLS.map(fname);
  const lite = SQLITE_DECLS.map(fname);
  const declared = new Set([...core, ...lite]);
  assert.deepStrictEqual([...header].filter((n) => !declared.has(n)).sort(), [], 'not declared');
  assert.deepStrictEqual([...declared].filter((n) => !header.has(n)).sort(), [], 'not in a header');
  const src = fs.readFileSync(path.join(__dirname, '..', 'index.js'), 'utf8');
  const unused = [
    ...core.filter((n) => !new RegExp(`\\bC\\.${n.slice(6)}\\b`).test(src)),
    ...lite.filter((n) => !new RegExp(`\\.${n.slice(6)}\\b`).test(src)),
  ].sort();
  assert.deepStrictEqual(unused, [], 'declared, never called');
});
