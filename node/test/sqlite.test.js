'use strict';
// libquota-sqlite through the module: state survives closing and
// reopening the database; checkpoint and resync.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const q = require('..');

const NOW = 1715000000;

test('SQLite store: recover after close, checkpoint, resync', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-node-sqlite.'));
  const file = path.join(dir, 'quota.db');
  try {
    let ctx = new q.Context();
    let db = q.SqliteStore.open(ctx, file, { synchronous: q.SQLITE_SYNC_NORMAL, busyTimeoutMs: 1000 });
    const sms = ctx.addCategory('sms');
    const t = ctx.newTariff('std').addTier(q.UNLIMITED, 30000);
    const a = ctx.newAccount('acme').setTariff(sms, t);
    a.addPackage({ id: 'P1', categories: [sms], units: 50, effectiveAt: NOW - 100 });
    a.charge({ category: sms, units: 60, at: NOW, key: 'k1' });
    db.checkpoint();
    a.charge({ category: sms, units: 1, at: NOW + 1 });
    const snap = a.snapshot();
    db.close();
    db.close();
    assert.strictEqual(db.closed, true);
    assert.throws(() => db.checkpoint(), /closed/);
    ctx.close();

    ctx = new q.Context();
    db = q.SqliteStore.open(ctx, file);
    const b = ctx.findAccount('acme');
    assert.deepStrictEqual(b.snapshot(), snap);
    assert.strictEqual(b.charge({ category: 0, units: 60, at: NOW, key: 'k1' }).replayed, true);
    db.resync(b);
    assert.strictEqual(b.findPackage('P1').remaining(), 0n);
    assert.throws(() => q.SqliteStore.open(ctx, file), q.InvalidError);
    // Closing the context closes its store.
    ctx.close();
    assert.strictEqual(db.closed, true);

    const busy = new q.Context();
    busy.addCategory('x');
    assert.throws(() => q.SqliteStore.open(busy, file), (e) => e instanceof q.InvalidError && e.errmsg !== '');
    busy.close();
    fs.writeFileSync(path.join(dir, 'junk.db'), 'not a database at all, not at all');
    const bad = new q.Context();
    assert.throws(() => q.SqliteStore.open(bad, path.join(dir, 'junk.db')), q.QuotaError);
    bad.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SQLite store: closing it from inside the event hook is refused, not a crash', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-node-sqlite.'));
  try {
    const ctx = new q.Context();
    const db = q.SqliteStore.open(ctx, path.join(dir, 'quota.db'));
    const sms = ctx.addCategory('sms');
    const a = ctx.newAccount('acme');
    a.addPackage({ id: 'P1', categories: [sms], units: 1, effectiveAt: NOW - 100 });
    ctx.onEvent(() => db.close());
    assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }), q.InvalidError);
    assert.strictEqual(db.closed, false);
    a.addPackage({ id: 'P2', categories: [sms], units: 1, effectiveAt: NOW - 100 });
    ctx.onEvent(() => db.checkpoint());
    assert.throws(() => a.charge({ category: sms, units: 1, at: NOW }), q.InvalidError);
    ctx.onEvent(null);
    db.checkpoint();
    ctx.close();
    assert.strictEqual(db.closed, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
