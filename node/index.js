'use strict';
// libquota for Node: the C library through koffi (lib/ffi.js).
//
// A Context owns the C context and everything in it; close() frees it at
// once, and a FinalizationRegistry frees one that was dropped unclosed.
// Tariffs, accounts, packages and offers are views into their context:
// they keep it alive, and using any of them after close() throws.
// Failures throw a QuotaError subclass carrying the QUOTA_E* name
// (err.code) and quota_errmsg (err.errmsg).  See README.md "Node".

const { koffi, C, sqlite, libc, STRUCTS, BillFn, ReportFn, WriteFn, EventFn,
  AppendFn, TxFn, ErrmsgFn, MallocFn, ReallocFn, FreeFn } = require('./lib/ffi');
const K = require('./lib/constants');
const E = require('./lib/errors');
const V = require('./lib/convert');

const { makeError } = E;

// ------------------------------------------------------------ lifetime

// Callbacks that outlive a call (the event hook, a store's, an
// allocator's) are registered with koffi once for the module, not per
// context: koffi allows a few thousand registrations in a process.  C
// hands each its context's `ud`, a one-byte token whose address names
// the context's Route here.
const routes = new Map(); // token address (BigInt) -> Route

// What a shared callback reaches: the Context (through a WeakRef, so that
// a hook closing over its context does not keep it alive), and for a JS
// allocator the allocator and where its exception goes before there is a
// Context.
class Route {
  constructor() {
    this.token = koffi.alloc('uint8_t', 1);
    this.key = koffi.address(this.token);
    this.ctx = null;       // WeakRef to the Context
    this.alloc = null;     // the JS allocator
    this.pending = null;   // the allocator's exception before the Context
    routes.set(this.key, this);
  }

  // An exception of an allocator function, kept for when the C call
  // returns: on the context (tagged with the call's callback depth, as
  // keepPending does), or before there is one on the route.
  keep(e, depth) {
    const ctx = this.ctx?.deref();
    if (ctx) {
      keepPending(ctx, depth, e);
    } else if (!this.pending) {
      this.pending = e;
    }
  }

  drop() {
    routes.delete(this.key);
    koffi.free(this.token);
    this.token = null;
  }
}

const routeOf = (ud) => (ud ? routes.get(koffi.address(ud)) : undefined);
const contextOf = (ud) => routeOf(ud)?.ctx?.deref();

// What a dropped context needs freed.  Holds no reference to the Context
// (a held value that did would keep it alive forever).
class Core {
  constructor(ptr, route) {
    this.ptr = ptr;
    this.route = route;
    this.closed = false;
    this.storeMsg = null;   // koffi.alloc'd buffer for the store's errmsg
    this.sqlites = new Set(); // open quota_sqlite pointers
  }

  release() {
    if (this.closed) return;
    this.closed = true;
    // A SQLite store removes itself from the context: before the context.
    for (const db of this.sqlites) sqlite().sqlite_close(db);
    this.sqlites.clear();
    C.ctx_free(this.ptr);
    this.ptr = null;
    this.freeStoreMsg();
    // The route last: quota_ctx_free called the allocator through it.
    this.route.drop();
  }

  freeStoreMsg() {
    if (this.storeMsg) koffi.free(this.storeMsg);
    this.storeMsg = null;
  }
}

const finalizer = new FinalizationRegistry((core) => core.release());

function closedError(what) {
  return makeError(K.EINVAL, `${what} used after its context was closed`);
}

// An exception of a callback, kept on its context for the C call that
// ran the callback, tagged with that call's callback depth
// (ctx._cb.length when the callback started: 0 for a call made outside
// any callback, 1 for one made from inside an event hook...).  The call
// of that depth throws the first one when it returns (Context#_check);
// an outer call does not throw it again.
function keepPending(ctx, depth, e) {
  if (!ctx._pending.some((p) => p.depth === depth)) ctx._pending.push({ depth, e });
}

// A user callback called from C: an exception is kept on the context and
// rethrown when the C call that ran it returns (keepPending); C gets
// `rc`.  While fn runs, the context knows a callback of that kind is
// running (Context#_p, #_r).
function guard(ctx, fn, rc, kind) {
  return (...args) => {
    const depth = ctx._cb.length;
    ctx._cb.push(kind);
    try {
      fn(...args);
      return 0;
    } catch (e) {
      keepPending(ctx, depth, e);
      return rc;
    } finally {
      ctx._cb.pop();
    }
  };
}

// A store callback: what it returns is the code C gets.  undefined is
// QUOTA_OK and a Number an integer code (0, ECONFLICT, EUNKNOWN, ...);
// anything else (a BigInt, a string, null, a Promise: store callbacks
// are synchronous) is a refusal, QUOTA_ESTORE, never "stored".
function storeCall(ud, name, args) {
  const ctx = contextOf(ud);
  if (!ctx || !ctx._store) return K.ESTORE;
  ctx._storeNote = null;
  const depth = ctx._cb.length;
  ctx._cb.push('store');
  try {
    const rc = ctx._store[name](...args);
    if (rc === undefined) return 0;
    if (Number.isInteger(rc) && rc >= -(2 ** 31) && rc < 2 ** 31) return rc;
    let what = rc === null ? 'null' : typeof rc;
    if (rc !== null && typeof rc?.then === 'function') {
      what = 'a Promise (store callbacks are synchronous: it was not waited for)';
      try { rc.then(undefined, () => {}); } catch (e) { /* not ours to report */ }
    } else if (typeof rc === 'number') {
      what = `the Number ${rc}, not a QUOTA_* code`;
    }
    ctx._storeNote = `store.${name} returned ${what}: refused`;
    return K.ESTORE;
  } catch (e) {
    keepPending(ctx, depth, e);
    return K.ESTORE;
  } finally {
    ctx._cb.pop();
  }
}

let shared = null;

// The registered callbacks, made on first use.
function callbacks() {
  if (shared) return shared;
  // An allocator function runs with its context busy ('allocator': every
  // call on it throws InvalidError, as in a store callback; C is in the
  // middle of changing it); an exception is a failed allocation, kept
  // for the call (Route#keep).
  const allocCall = (ud, fn) => {
    const r = routeOf(ud);
    if (!r || !r.alloc) return null;
    const ctx = r.ctx?.deref();
    const depth = ctx ? ctx._cb.length : 0;
    if (ctx) ctx._cb.push('allocator');
    try {
      return fn(r.alloc);
    } catch (e) {
      r.keep(e, depth);
      return null;
    } finally {
      if (ctx) ctx._cb.pop();
    }
  };
  const wrapAlloc = (fn) => (ud, ...args) => allocCall(ud, (al) => fn(al, ...args) || null);
  shared = {
    event: koffi.register((evp, ud) => {
      const ctx = contextOf(ud);
      if (!ctx || !ctx._onEvent) return 0;
      return guard(ctx, (q) => ctx._onEvent(ctx._event(q)), K.ESTORE, 'event hook')(evp);
    }, koffi.pointer(EventFn)),
    append: koffi.register((ud, account, seq, rec, len) => {
      const copy = Buffer.from(new Uint8Array(koffi.view(rec, Number(len))));
      return storeCall(ud, 'append', [account, V.big(seq), copy]);
    }, koffi.pointer(AppendFn)),
    begin: koffi.register((ud) => storeCall(ud, 'begin', []), koffi.pointer(TxFn)),
    commit: koffi.register((ud) => storeCall(ud, 'commit', []), koffi.pointer(TxFn)),
    errmsg: koffi.register((ud) => {
      const ctx = contextOf(ud);
      if (!ctx || !ctx._core.storeMsg) return null;
      let s = ctx._storeNote || '';
      ctx._storeNote = null;
      if (!s) {
        ctx._cb.push('store');
        try { s = String(ctx._store?.errmsg?.() ?? ''); } catch (e) { s = String(e); }
        ctx._cb.pop();
      }
      const b = Buffer.from(s, 'utf8').subarray(0, 255);
      koffi.encode(ctx._core.storeMsg, 'uint8_t', [...b, 0], b.length + 1);
      return ctx._core.storeMsg;
    }, koffi.pointer(ErrmsgFn)),
    malloc: koffi.register(wrapAlloc((al, size) => al.malloc(Number(size))),
      koffi.pointer(MallocFn)),
    realloc: koffi.register(wrapAlloc((al, ptr, size) => al.realloc(ptr, Number(size))),
      koffi.pointer(ReallocFn)),
    free: koffi.register((ud, ptr) => { allocCall(ud, (al) => al.free(ptr)); },
      koffi.pointer(FreeFn)),
  };
  return shared;
}

// ---------------------------------------------------------- allocators

// An allocator for new Context({allocator}) (quota_ctx_new_with,
// quota_allocator; STYLE 8): every allocation of that context goes
// through it.  Subclasses override malloc(size), realloc(ptr, size) and
// free(ptr), with koffi pointers (null for none or for failure);
// realloc(null, n) must behave as malloc, and free(null) must be harmless.
// This one uses libc's and counts: `allocations` (calls that returned
// memory) and `live` (blocks not freed yet); {failAt: N} makes the N-th
// allocation (from 1) fail, as the C tests' counting allocator does
// (STYLE 19).  An exception in one is QUOTA_ENOMEM to the library and is
// rethrown when the call returns (not by close(): one free throws while
// close() frees the context is dropped, the context being gone).  They run inside the library's calls on
// the context and may not call it on that context: every such call (a
// read, close()) throws InvalidError there (the context is busy with an
// 'allocator' callback: Context#_r).
class Allocator {
  constructor(opts = {}) {
    this.failAt = opts.failAt ?? null;
    this.allocations = 0;
    this.calls = 0;
    this.live = 0;
  }

  _fail() {
    this.calls += 1;
    return this.failAt !== null && this.calls === this.failAt;
  }

  malloc(size) {
    if (this._fail()) return null;
    const p = libc().malloc(size || 1);
    if (p !== null) {
      this.allocations += 1;
      this.live += 1;
    }
    return p;
  }

  realloc(ptr, size) {
    if (ptr === null) return this.malloc(size);
    if (this._fail()) return null;
    const p = libc().realloc(ptr, size || 1);
    if (p !== null) this.allocations += 1;
    return p;
  }

  free(ptr) {
    if (ptr === null) return;
    this.live -= 1;
    libc().free(ptr);
  }
}

// quota_ctx_new_with through a JS allocator, reached through route: the
// context's pointer.  An allocator's exception goes to the context once
// there is one (route.ctx), before that to route.pending.
function newWithAllocator(al, route) {
  for (const f of ['malloc', 'realloc', 'free']) {
    if (typeof al?.[f] !== 'function') throw new TypeError(`allocator.${f}: a function`);
  }
  const cb = callbacks();
  route.alloc = al;
  const a = { version: K.ALLOCATOR_VERSION, ud: route.token,
    malloc_fn: cb.malloc, realloc_fn: cb.realloc, free_fn: cb.free };
  const out = [null];
  const rc = C.ctx_new_with(a, out);
  if (rc < 0) throw route.pending ?? makeError(rc, '');
  return out[0];
}

// ------------------------------------------------------------- context

class Context {
  // opts: {hashSeed: 16 bytes, allocator: an Allocator}.
  constructor(opts = {}) {
    let ptr;
    const route = new Route();
    try {
      if (opts.allocator !== undefined && opts.allocator !== null) {
        ptr = newWithAllocator(opts.allocator, route);
      } else {
        const out = [null];
        const rc = C.ctx_new(out);
        if (rc < 0) throw makeError(rc, '');
        ptr = out[0];
      }
    } catch (e) {
      route.drop();
      throw e;
    }
    this._core = new Core(ptr, route);
    route.ctx = new WeakRef(this);
    // The kinds of this context's callbacks running now, innermost last
    // ('store', 'allocator', 'event hook', 'bill', 'report row', 'CSV writer').
    this._cb = [];
    this._storeNote = null;
    this._pending = [];       // {depth, e}: callbacks' exceptions (keepPending)
    this._onEvent = null;
    this._store = null;
    this._accounts = new Map(); // id -> Account
    this._tariffs = new Map();  // name -> Tariff
    this._zones = new Map();    // name -> Zone (R26)
    this._offers = new Map();   // id -> Offer
    finalizer.register(this, this._core, this._core);
    if (opts.hashSeed !== undefined) this.setHashSeed(opts.hashSeed);
  }

  // The C pointer for a call that changes the context or frees memory, or
  // a throw if closed, or if one of its callbacks is running: the C pages
  // forbid that there (quota_events(3), quota_report(3), quota_settle(3),
  // quota_store(3)), and it would free or change what C is working on.
  _p() {
    if (this._core.closed) throw closedError('context');
    if (this._cb.length) throw this._busy();
    return this._core.ptr;
  }

  // The C pointer for a call that only reads the context: allowed from
  // the event hook, a bill callback and a report's callbacks, not from a
  // store's (quota_store(3): none may call the library on the context)
  // nor from an allocator function (C is in the middle of changing it).
  _r() {
    if (this._core.closed) throw closedError('context');
    if (this._cb.length && (this._cb.includes('store') || this._cb.includes('allocator'))) {
      throw this._busy();
    }
    return this._core.ptr;
  }

  _busy() {
    if (this._cb.includes('allocator')) {
      return makeError(K.EINVAL, 'an allocator function (malloc, realloc, free) may not call '
        + 'the library on its context: C is in the middle of changing it');
    }
    if (this._cb.includes('store')) {
      return makeError(K.EINVAL, 'a store callback (append, begin, commit) may not call the '
        + 'library on its context (quota_store(3))');
    }
    return makeError(K.EINVAL, 'this call changes the context or frees memory, which its '
      + `${this._cb[this._cb.length - 1]} callback, running now, may not do: it may only read `
      + 'the context (quota_events(3), quota_report(3), quota_settle(3))');
  }

  // After every C call on this context: the first exception of the
  // callbacks this call ran, then the call's own failure with
  // quota_errmsg.  A call throws only the exceptions of its own callback
  // depth (keepPending) and forgets those of deeper calls (made from its
  // callbacks, which had theirs to throw); those of outer calls wait for
  // them.  So an exception a hook caught from a call it made is not
  // thrown again by the call that ran the hook.
  _check(rc) {
    if (this._pending.length) {
      const d = this._cb.length;
      const mine = this._pending.find((p) => p.depth === d);
      this._pending = this._pending.filter((p) => p.depth < d);
      if (mine) throw mine.e;
    }
    if (rc < 0) throw makeError(Number(rc), C.errmsg(this._core.ptr));
    return rc;
  }

  get closed() { return this._core.closed; }

  // quota_ctx_free; a second close does nothing.  Refused (InvalidError)
  // from inside one of the context's callbacks.
  close() {
    if (this._core.closed) return;
    if (this._cb.length) throw this._busy();
    finalizer.unregister(this._core);
    this._core.release();
    this._accounts.clear();
    this._tariffs.clear();
    this._offers.clear();
    this._onEvent = null;
    this._store = null;
    this._pending = [];
  }

  // quota_errmsg: what was wrong with the last failed call; '' after
  // close().  A read of the context's message buffer, allowed anywhere,
  // callbacks included (as in Python).
  get errmsg() { return this._core.closed ? '' : C.errmsg(this._core.ptr); }

  // quota_ctx_set_error (quota_store.h): word a failure of a store's own
  // call on this context; returns code.
  setError(code, msg) {
    return C.ctx_set_error(this._r(), V.i32(code, 'code'), V.str(msg, 'msg'));
  }

  setHashSeed(seed) {
    const b = V.bytes(seed, 'seed');
    if (b.length !== 16) throw new RangeError('seed: 16 bytes');
    this._check(C.ctx_set_hash_seed(this._p(), b));
    return this;
  }

  // ---- categories
  addCategory(name) {
    const id = [0];
    this._check(C.category_add(this._p(), V.str(name, 'name'), id));
    return id[0];
  }

  findCategory(name) {
    const id = [0];
    this._check(C.category_find(this._r(), V.str(name, 'name'), id));
    return id[0];
  }

  categoryName(id) { return C.category_name(this._r(), V.u32(id, 'id')); }

  get categoryCount() { return C.category_count(this._r()); }

  // [{id, name}] of every category.
  categories() {
    const n = this.categoryCount;
    const out = [];
    for (let i = 0; i < n; i++) out.push({ id: i, name: this.categoryName(i) });
    return out;
  }

  // ---- tariffs
  newTariff(name) {
    const out = [null];
    this._check(C.tariff_new(this._p(), V.str(name, 'name'), out));
    return this._tariff(out[0]);
  }

  findTariff(name) {
    const out = [null];
    this._check(C.tariff_find(this._r(), V.str(name, 'name'), out));
    return this._tariff(out[0]);
  }

  _tariff(ptr) { return this._view(this._tariffs, Tariff, ptr, C.tariff_name(ptr)); }

  // The one wrapper of a named C handle (a tariff, a zone), made on first use.
  _view(map, Cls, ptr, name) {
    let v = map.get(name);
    if (!v) {
      v = new Cls(this, ptr, name);
      map.set(name, v);
    }
    return v;
  }

  // ---- R26 time zones (quota_zone(3)): from the system's tz database,
  // from TZif bytes the host passes, or one the context has.
  loadZone(name) {
    const out = [null];
    this._check(C.zone_load(this._p(), V.str(name, 'name'), out));
    return this._zone(out[0]);
  }

  zoneFromTzif(name, tzif) {
    const b = V.bytes(tzif, 'tzif');
    const out = [null];
    this._check(C.zone_from_tzif(this._p(), V.str(name, 'name'), b, b.length, out));
    return this._zone(out[0]);
  }

  findZone(name) {
    const out = [null];
    this._check(C.zone_find(this._r(), V.str(name, 'name'), out));
    return this._zone(out[0]);
  }

  _zone(ptr) { return this._view(this._zones, Zone, ptr, C.zone_name(ptr)); }

  // ---- accounts
  newAccount(id) {
    const out = [null];
    this._check(C.account_new(this._p(), V.str(id, 'id'), out));
    return this._account(out[0]);
  }

  findAccount(id) {
    const out = [null];
    // V.str: C would read an id with a NUL character cut short.
    this._check(C.account_find(this._r(), V.str(id, 'id'), out));
    return this._account(out[0]);
  }

  // quota_account_find_many: the Accounts of many ids at once, in their
  // order, null for an id no account has (issue 13: at scale, faster
  // than findAccount for each; then batch() charges them).
  findAccounts(ids) {
    if (!Array.isArray(ids)) throw new TypeError('findAccounts: an array of ids');
    const n = ids.length;
    if (!n) return [];
    const out = new Array(n).fill(null);
    // An id with a NUL character (C would read it cut short) or a lone
    // surrogate names no account: it goes as '', which none has.
    const c = ids.map((id) => {
      if (typeof id !== 'string') return V.str(id, 'id');
      return V.sendable(id) ? id : '';
    });
    const rc = C.account_find_many(this._r(), c, n, out);
    if (rc !== K.ENOTFOUND) this._check(rc);
    return out.map((p) => (p ? this._account(p) : null));
  }

  // The Account of a C pointer (one object per account).
  _account(ptr) {
    const id = C.account_id(ptr);
    let a = this._accounts.get(id);
    if (!a || a._ptr === null) {
      a = new Account(this, ptr, id);
      this._accounts.set(id, a);
    }
    return a;
  }

  get accountCount() { return C.ctx_account_count(this._r()); }

  accountAt(i) {
    const p = C.ctx_account_at(this._r(), V.u32(i, 'i'));
    return p ? this._account(p) : null;
  }

  accounts() {
    const n = this.accountCount;
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.accountAt(i));
    return out;
  }

  // quota_account_load: a new account from a snapshot.
  loadAccount(snapshot) {
    const b = V.bytes(snapshot, 'snapshot');
    const out = [null];
    this._check(C.account_load(this._p(), b, b.length, out));
    return this._account(out[0]);
  }

  // ---- ticks and settlement of every account
  tick(now) {
    return Number(this._check(C.ctx_tick(this._p(), V.i64(now, 'now'))));
  }

  // quota_ctx_settle; returns the bills, and onBill (optional) sees each.
  settle(now, onBill) {
    const bills = [];
    const cb = guard(this, (p) => {
      const b = this._bill(p);
      bills.push(b);
      if (onBill) onBill(b);
    }, K.ESTORE, 'bill');
    this._check(C.ctx_settle(this._p(), V.i64(now, 'now'), cb, null));
    return bills;
  }

  _bill(p) {
    const b = koffi.decode(p, STRUCTS.quota_bill);
    const lines = b.nlines ? koffi.decode(b.lines, STRUCTS.quota_bill_line, b.nlines) : [];
    return {
      account: this._account(b.account),
      seq: V.big(b.seq),
      periodStart: V.time(b.period_start),
      periodEnd: V.time(b.period_end),
      status: b.status,
      lines: lines.map(V.billLine),
      amountMicros: V.big(b.amount_micros),
      totalMicros: V.big(b.total_micros),
      balanceMicros: V.big(b.balance_micros),
      giftMicros: V.big(b.gift_micros),
      cashMicros: V.big(b.cash_micros),
      creditMicros: V.big(b.credit_micros),
    };
  }

  // ---- events
  // One function per context, fn(event) for each event; null removes it.
  // An exception thrown by fn is counted as a hook failure and rethrown
  // when the call that fired the event returns (its change stands).  A
  // call fn makes throws its own callbacks' exceptions (a report's row
  // callback's) inside fn, and one fn catches is not thrown again by the
  // call that fired the event.  fn may read the context; a call that
  // changes it or frees memory (close() included) throws InvalidError
  // (quota_events(3)).
  onEvent(fn) {
    if (fn !== null && typeof fn !== 'function') throw new TypeError('onEvent: a function or null');
    const p = this._p();
    if (fn === null) {
      this._check(C.ctx_set_event_hook(p, null, null));
      this._onEvent = null;
      return this;
    }
    if (!this._onEvent) {
      // The module's one registered hook, reaching this context through
      // its route (callbacks()).
      this._check(C.ctx_set_event_hook(p, callbacks().event, this._core.route.token));
    }
    this._onEvent = fn;
    return this;
  }

  _event(p) {
    const e = koffi.decode(p, STRUCTS.quota_event);
    const account = e.account ? this._account(e.account) : null;
    return {
      kind: e.kind,
      category: e.category,
      account,
      package: e.package && account ? account._package(e.package) : null,
      remaining: V.big(e.remaining),
      threshold: V.big(e.threshold),
      at: V.time(e.at),
      period: e.period,
      outstandingMicros: V.big(e.outstanding_micros),
      balanceMicros: V.big(e.balance_micros),
      receipt: e.receipt ? V.receipt(koffi.decode(e.receipt, STRUCTS.quota_receipt)) : null,
      reason: e.reason,   // ACCOUNT_BLOCKED: the blocking reason (or null)
    };
  }

  // quota_ctx_hook_failures: hook and bill callbacks that did not return
  // 0.  A count: a Number, as the README says of counts.
  get hookFailures() { return Number(C.ctx_hook_failures(this._r())); }

  // ---- catalog
  addOffer(spec) {
    const s = {
      id: V.str(spec.id, 'spec.id'),
      categories: V.mask(spec.categories, 'spec.categories'),
      units: V.i64(spec.units ?? 0, 'spec.units'),
      price_micros: V.i64(spec.priceMicros ?? 0, 'spec.priceMicros'),
      unit_tariff: spec.unitTariff ? this._own(spec.unitTariff, Tariff)._p() : null,
      min_units: V.i64(spec.minUnits ?? 0, 'spec.minUnits'),
      step_units: V.i64(spec.stepUnits ?? 0, 'spec.stepUnits'),
      max_units: V.i64(spec.maxUnits ?? 0, 'spec.maxUnits'),
      valid_months: V.i32(spec.validMonths ?? 0, 'spec.validMonths'),
      valid_days: V.i32(spec.validDays ?? 0, 'spec.validDays'),
      flags: V.u32(spec.flags ?? 0, 'spec.flags'),
      priority: V.i32(spec.priority ?? 0, 'spec.priority'),
    };
    const out = [null];
    this._check(C.offer_add(this._p(), s, out));
    const o = new Offer(this, out[0], s.id);
    this._offers.set(s.id, o);
    return o;
  }

  findOffer(id) {
    const out = [null];
    this._check(C.offer_find(this._r(), V.str(id, 'id'), out));
    let o = this._offers.get(id);
    if (!o) {
      o = new Offer(this, out[0], id);
      this._offers.set(id, o);
    }
    return o;
  }

  // An object of this context, of class cls.
  _own(obj, cls) {
    if (!(obj instanceof cls)) throw new TypeError(`expected a ${cls.name}`);
    if (obj.context !== this) throw makeError(K.EINVAL, `${cls.name} of another context`);
    return obj;
  }

  // ---- journal and store (quota_store.h)
  get configSeq() { return V.big(C.ctx_config_seq(this._r())); }
  // quota_ctx_config_unstored: configuration made while no store was set
  // (in no journal: SqliteStore.open refuses such a context).  A count: a
  // Number.
  get configUnstored() { return Number(C.ctx_config_unstored(this._r())); }

  // quota_journal_apply; opts.check: QUOTA_JOURNAL_CHECK.
  journalApply(record, opts = {}) {
    const b = V.bytes(record, 'record');
    this._check(C.journal_apply(this._p(), b, b.length, opts.check ? K.JOURNAL_CHECK : 0));
    return this;
  }

  journalPeek(record) { return peek(C.journal_peek, this, record); }

  snapshotPeek(snapshot) { return peek(C.snapshot_peek, this, snapshot); }

  // A store written in JS: {append(accountId|null, seq, record),
  // begin?(), commit?(), errmsg?()}.  append, begin and commit are
  // synchronous: they return nothing (QUOTA_OK) or a Number QUOTA_E*
  // code (ECONFLICT, EUNKNOWN, ...); any other return (a BigInt, a
  // string, null, a Promise) is a refusal, QUOTA_ESTORE, never "stored".
  // An exception is QUOTA_ESTORE to the library and rethrown when the
  // call returns.  They run inside the library's call and may not call it
  // on this context (quota_store(3)): that throws InvalidError.  The
  // record is a Buffer of its own.  null removes the store.
  setStore(store) {
    const p = this._p();
    if (store === null) {
      this._check(C.ctx_set_store(p, null));
      this._core.freeStoreMsg();
      this._store = null;
      return this;
    }
    if (typeof store?.append !== 'function') throw new TypeError('store.append: a function');
    if ((typeof store.begin === 'function') !== (typeof store.commit === 'function')) {
      throw new TypeError('store: begin and commit, both or neither');
    }
    const cb = callbacks();
    const msg = koffi.alloc('char', 256);
    const s = {
      version: 2, size: koffi.sizeof(STRUCTS.quota_store), ud: this._core.route.token,
      append: cb.append,
      begin: store.begin ? cb.begin : null,
      commit: store.begin ? cb.commit : null,
      errmsg: cb.errmsg,
    };
    const rc = C.ctx_set_store(p, s);
    if (rc < 0) {
      koffi.free(msg);
      this._check(rc);
    }
    this._core.freeStoreMsg();
    this._core.storeMsg = msg;
    this._store = store;
    return this;
  }

  // ---- batches
  // quota_batch.  ops: {op: 'charge'|'chargeSms'|'reserve'|'commit'|
  // 'release', account, ...}; returns one result per op:
  // {ok, error (a QuotaError or null), receipt, holdId}.
  batch(ops) {
    if (!Array.isArray(ops)) throw new TypeError('batch: an array of operations');
    const c = ops.map((o) => this._op(o));
    if (c.length) this._check(C.batch(this._p(), c, c.length));
    return c.map((o) => ({
      ok: o.rc === 0,
      error: o.rc === 0 ? null : makeError(o.rc, ''),
      receipt: o.rc === 0 ? V.receipt(o.receipt) : null,
      holdId: V.big(o.hold_id),
    }));
  }

  // quota_op_run: one operation as a batch runs it; returns its receipt
  // (with holdId for a reservation).
  run(op) {
    const o = this._op(op);
    this._check(C.op_run(o));
    return V.receipt(o.receipt);
  }

  _op(o) {
    const kinds = { charge: K.OP_CHARGE, chargeSms: K.OP_CHARGE_SMS,
      reserve: K.OP_RESERVE, commit: K.OP_COMMIT, release: K.OP_RELEASE };
    const kind = kinds[o?.op];
    if (!kind) throw new TypeError(`op: one of ${Object.keys(kinds).join(', ')}`);
    const a = this._own(o.account, Account);
    const sms = kind === K.OP_CHARGE_SMS;
    const text = sms ? V.textBytes(o.text) : null;
    const hasUsage = kind <= K.OP_RESERVE;
    return {
      kind,
      account: a._p(),
      usage: hasUsage
        ? { category: V.u32(o.category, 'op.category'),
            units: sms ? 0 : V.i64(o.units, 'op.units'),
            at: V.i64(o.at, 'op.at'), key: V.str(o.key, 'op.key', true) }
        : { category: 0, units: 0, at: 0, key: null },
      timeout_s: kind === K.OP_RESERVE ? V.i64(o.timeout, 'op.timeout') : 0,
      hold_id: kind >= K.OP_COMMIT ? V.u64(o.holdId, 'op.holdId') : 0,
      units_used: kind === K.OP_COMMIT ? V.i64(o.unitsUsed, 'op.unitsUsed') : 0,
      key: kind >= K.OP_COMMIT ? V.str(o.key, 'op.key', true) : null,
      text,
      text_len: text ? text.length : 0,
      sms_opts: sms ? V.smsOpts(o.sms) : null,
      rc: 0,
      receipt: {},
    };
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Context.prototype[Symbol.dispose] = Context.prototype.close;
}

function peek(fn, ctx, buf) {
  const b = V.bytes(buf, 'record');
  const id = Buffer.alloc(K.ID_MAX + 1);
  const seq = [0];
  const rc = fn(ctx ? ctx._r() : null, b, b.length, id, seq);
  if (ctx) ctx._check(rc);
  else if (rc < 0) throw makeError(rc, '');
  return { accountId: id.subarray(0, id.indexOf(0)).toString('utf8'), seq: V.big(seq[0]) };
}

// ------------------------------------------------------------- tariff

class Tariff {
  constructor(ctx, ptr, name) {
    this.context = ctx;
    this._ptr = ptr;
    this.name = name;
  }

  // For a change (refused inside a callback: Context#_p), or a read.
  _p() {
    if (this.context._core.closed) throw closedError('tariff');
    this.context._p();
    return this._ptr;
  }

  _r() {
    if (this.context._core.closed) throw closedError('tariff');
    this.context._r();
    return this._ptr;
  }

  _do(rc) { this.context._check(rc); return this; }

  // Positions (previous upTo, upTo] cost unitPriceMicros each; UNLIMITED last.
  addTier(upTo, unitPriceMicros) {
    return this._do(C.tariff_add_tier(this._p(), V.i64(upTo, 'upTo'),
      V.i64(unitPriceMicros, 'unitPriceMicros')));
  }

  setMode(mode) { return this._do(C.tariff_set_mode(this._p(), V.i32(mode, 'mode'))); }

  setFree(units, period) {
    return this._do(C.tariff_set_free(this._p(), V.i64(units, 'units'), V.i32(period, 'period')));
  }

  setFreeDailyLimit(units) {
    return this._do(C.tariff_set_free_daily_limit(this._p(), V.i64(units, 'units')));
  }

  setFailureFee(microsPerUnit) {
    return this._do(C.tariff_set_failure_fee(this._p(), V.i64(microsPerUnit, 'microsPerUnit')));
  }
  // R27: the failure fee a release for this reason pays per unit
  // (quota_tariff_set_failure_fee_reason); -1: the tariff's failure fee.
  setFailureFeeReason(reason, microsPerUnit) {
    return this._do(C.tariff_set_failure_fee_reason(this._p(), V.i32(reason, 'reason'),
      V.i64(microsPerUnit, 'microsPerUnit')));
  }


  // The one-shot price of `units` after volumeBefore units of the month.
  price(volumeBefore, units) {
    const out = [0];
    this.context._check(C.tariff_price(this._r(), V.i64(volumeBefore, 'volumeBefore'),
      V.i64(units, 'units'), out));
    return V.big(out[0]);
  }
}

// ------------------------------------------------------------- offer

// A time zone of a context (R26): its name and the UTC offset in force
// at an instant.
class Zone {
  constructor(ctx, ptr, name) {
    this.context = ctx;
    this._ptr = ptr;
    this.name = name;
  }

  _p() {
    if (this.context._core.closed) throw closedError('zone');
    return this._ptr;
  }

  // Seconds east of UTC at `at` (quota_zone_offset).
  offset(at) {
    const off = [0];
    this.context._check(C.zone_offset(this._p(), V.i64(at, 'at'), off));
    return off[0];
  }
}

class Offer {
  constructor(ctx, ptr, id) {
    this.context = ctx;
    this._ptr = ptr;
    this.id = id;
  }

  _p() {
    if (this.context._core.closed) throw closedError('offer');
    return this._ptr;
  }
}

// ------------------------------------------------------------ package

// What names a package besides its account and id: its spec as added
// (quota_package_get_spec's categories, units, effective_at, expires_at,
// price_micros, flags, priority), which the library never changes.
function specKey(s) {
  return [s.categories, s.units, s.effective_at, s.expires_at, s.price_micros, s.flags,
    s.priority].map(String).join(' ');
}

// A package, named by its account, its id and its spec as added
// (remembered when the handle is made), and looked up by id on each use,
// so a reset or resync of the account (which makes C package handles
// stale) or a prune that drops it cannot leave it dangling.  A use
// throws NotFoundError when the account has no package of that id, or
// has one whose spec differs: a dropped package stays gone for its
// handles when a new package takes its id (quota_account_prune(3)).  A
// new package of the same id and the very same spec cannot be told
// apart: the old handle reads it.  (The C pointer does not tell either:
// a reset re-creates the same package elsewhere, and malloc may give a
// freed package's address to a new one.)
class Package {
  constructor(account, id, key) {
    this.account = account;
    this.id = id;
    this._key = key;
  }

  // The package's pointer and its spec (raw), found by id now.  Only
  // reads: allowed where the context may be read (Context#_r).
  _find() {
    const ctx = this.account.context;
    const out = [null];
    ctx._check(C.package_find(this.account._r(), this.id, out));
    const s = {};
    ctx._check(C.package_get_spec(out[0], s));
    if (specKey(s) !== this._key) {
      throw makeError(K.ENOTFOUND, `package '${this.id}' was dropped; the account's package `
        + 'of that id now is another one');
    }
    return { ptr: out[0], spec: s };
  }

  _p() { return this._find().ptr; }

  remaining() { return V.big(C.package_remaining(this._p())); }

  status(now) { return C.package_status(this._p(), V.i64(now, 'now')); }

  spec() { return V.packageSpecOut(this._find().spec); }
}

// ------------------------------------------------------------ account

class Account {
  constructor(ctx, ptr, id) {
    this.context = ctx;
    this._ptr = ptr;
    this.id = id;
  }

  // The C pointer for a change (refused inside a callback: Context#_p).
  _p() {
    if (this.context._core.closed) throw closedError('account');
    this.context._p();
    if (this._ptr === null) throw makeError(K.EINVAL, `account '${this.id}' was removed`);
    return this._ptr;
  }

  // The C pointer for a read (Context#_r).
  _r() {
    if (this.context._core.closed) throw closedError('account');
    this.context._r();
    if (this._ptr === null) throw makeError(K.EINVAL, `account '${this.id}' was removed`);
    return this._ptr;
  }

  _check(rc) { return this.context._check(rc); }

  // quota_account_ctx: the account's context, the Context it came from
  // (also account.context); checks the C side agrees.
  owner() {
    const p = C.account_ctx(this._r());
    if (koffi.address(p) !== koffi.address(this.context._r())) {
      throw makeError(K.EINVAL, `account '${this.id}' is not in its context`);
    }
    return this.context;
  }

  _do(rc) { this._check(rc); return this; }

  // A Package from a C package pointer of this account (valid now: its
  // spec is read at once).
  _package(ptr) {
    const s = {};
    this._check(C.package_get_spec(ptr, s));
    return new Package(this, s.id, specKey(s));
  }

  // quota_account_remove: the handle and its packages become invalid.
  remove() {
    this._check(C.account_remove(this._p()));
    this._ptr = null;
    this.context._accounts.delete(this.id);
  }

  get removed() { return this._ptr === null; }

  // ---- configuration
  setUtcOffset(seconds) { return this._do(C.account_set_utc_offset(this._p(), V.i32(seconds, 'seconds'))); }

  setTariff(category, tariff) {
    const t = tariff === null ? null : this.context._own(tariff, Tariff)._p();
    return this._do(C.account_set_tariff(this._p(), V.u32(category, 'category'), t));
  }

  setCap(category, period, units) {
    return this._do(C.account_set_cap(this._p(), V.u32(category, 'category'),
      V.i32(period, 'period'), V.i64(units, 'units')));
  }

  setOverage(category, policy) {
    return this._do(C.account_set_overage(this._p(), V.u32(category, 'category'), V.i32(policy, 'policy')));
  }

  setKeyWindow(maxKeys, maxAgeSeconds) {
    return this._do(C.account_set_key_window(this._p(), V.u32(maxKeys, 'maxKeys'),
      V.i64(maxAgeSeconds, 'maxAgeSeconds')));
  }

  addAlert(category, level, unit = K.ALERT_UNITS) {
    return this._do(C.account_add_alert(this._p(), V.u32(category, 'category'),
      V.i64(level, 'level'), V.i32(unit, 'unit')));
  }

  setExpiryWarning(seconds) {
    return this._do(C.account_set_expiry_warning(this._p(), V.i64(seconds, 'seconds')));
  }

  setCreditLimit(micros) {
    return this._do(C.account_set_credit_limit(this._p(), V.i64(micros, 'micros')));
  }

  setSettlement(period, minorMicros = 10000, rounding = K.ROUND_HALF_UP) {
    return this._do(C.account_set_settlement(this._p(), V.i32(period, 'period'),
      V.i64(minorMicros, 'minorMicros'), V.i32(rounding, 'rounding')));
  }

  setRetention(seconds, what) {
    return this._do(C.account_set_retention(this._p(), V.i64(seconds, 'seconds'), V.u32(what, 'what')));
  }

  // ---- counters
  remaining(category, now) {
    return V.big(this._check(C.account_remaining(this._r(), V.u32(category, 'category'), V.i64(now, 'now'))));
  }

  used(category, period, at) {
    return V.big(this._check(C.account_used(this._r(), V.u32(category, 'category'),
      V.i32(period, 'period'), V.i64(at, 'at'))));
  }

  freeUsed(category, at) {
    return V.big(this._check(C.account_free_used(this._r(), V.u32(category, 'category'), V.i64(at, 'at'))));
  }

  held(category = K.ALL) {
    return V.big(this._check(C.account_held(this._r(), V.u32(category, 'category'))));
  }

  get holdCount() { return C.account_hold_count(this._r()); }

  // ---- packages
  addPackage(spec) {
    const out = [null];
    this._check(C.package_add(this._p(), V.packageSpec(spec), out));
    return this._package(out[0]);
  }

  findPackage(id) {
    const out = [null];
    this._check(C.package_find(this._r(), V.str(id, 'id'), out));
    return this._package(out[0]);
  }

  get packageCount() { return C.account_package_count(this._r()); }

  packageAt(i) {
    const p = C.account_package_at(this._r(), V.u32(i, 'i'));
    return p ? this._package(p) : null;
  }

  packages() {
    const n = this.packageCount;
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.packageAt(i));
    return out;
  }

  // ---- charging: each returns a receipt (a plain object)
  charge(usage) {
    const r = {};
    this._check(C.charge(this._p(), V.usage(usage), r));
    return V.receipt(r);
  }

  quote(usage) {
    const r = {};
    this._check(C.quote(this._r(), V.usage(usage), r));
    return V.receipt(r);
  }

  // The receipt's holdId names the hold.
  reserve(usage, timeoutSeconds) {
    const r = {};
    const id = [0];
    this._check(C.reserve(this._p(), V.usage(usage), V.i64(timeoutSeconds, 'timeoutSeconds'), r, id));
    return V.receipt(r);
  }

  commit(holdId, unitsUsed, key = null) {
    const r = {};
    this._check(C.commit(this._p(), V.u64(holdId, 'holdId'), V.i64(unitsUsed, 'unitsUsed'),
      V.str(key, 'key', true), r));
    return V.receipt(r);
  }

  release(holdId, key = null) {
    const r = {};
    this._check(C.release(this._p(), V.u64(holdId, 'holdId'), V.str(key, 'key', true), r));
    return V.receipt(r);
  }

  reverse(key, at) {
    const r = {};
    this._check(C.reverse(this._p(), V.str(key, 'key'), V.i64(at, 'at'), r));
    return V.receipt(r);
  }

  // R27: a release that says why the message failed (FAIL_*), paying
  // the tariff's fee for that reason.
  releaseReason(holdId, reason, key = null) {
    const r = {};
    this._check(C.release_reason(this._p(), V.u64(holdId, 'holdId'), V.i32(reason, 'reason'),
      V.str(key, 'key', true), r));
    return V.receipt(r);
  }

  // R27: reverse a keyless charge or commit by the receipt id it got
  // while the account kept receipts (keepReceipts).
  reverseReceipt(receiptId, at) {
    const r = {};
    this._check(C.reverse_receipt(this._p(), V.u64(receiptId, 'receiptId'), V.i64(at, 'at'), r));
    return V.receipt(r);
  }

  keepReceipts(on = true) { return this._do(C.account_keep_receipts(this._p(), on ? 1 : 0)); }

  // ---- R25 blocking: new business refused (BlockedError), the rest goes on.
  block(reason, at) {
    return this._do(C.account_block(this._p(), V.str(reason, 'reason', true), V.i64(at, 'at')));
  }

  unblock(at) { return this._do(C.account_unblock(this._p(), V.i64(at, 'at'))); }

  // null when not blocked, else {reason (or null), since}.
  blocked() {
    const why = [null];
    const since = [0];
    if (this._check(C.account_blocked(this._r(), why, since)) !== 1) return null;
    return { reason: why[0], since: V.time(since[0]) };
  }

  // ---- R23 auto-renewal (quota_renewal_set(3)); RENEWAL_NONE: no such trigger.
  setRenewal(offer, unitsLeftAtMost, expiresWithinSeconds, now) {
    const o = this.context._own(offer, Offer)._p();
    return this._do(C.renewal_set(this._p(), o, V.i64(unitsLeftAtMost, 'unitsLeftAtMost'),
      V.i64(expiresWithinSeconds, 'expiresWithinSeconds'), V.i64(now, 'now')));
  }

  clearRenewal(offer, now) {
    const o = this.context._own(offer, Offer)._p();
    return this._do(C.renewal_clear(this._p(), o, V.i64(now, 'now')));
  }

  // The offer's renewal mark {unitsLeftAtMost (units: a BigInt),
  // expiresWithinSeconds (a duration: a Number)}, each RENEWAL_NONE (-1)
  // when unused, or null if it is not marked.
  renewal(offer) {
    const o = this.context._own(offer, Offer)._p();
    const units = [0];
    const within = [0];
    const rc = C.renewal_get(this._r(), o, units, within);
    if (rc === K.ENOTFOUND) return null;
    this._check(rc);
    return { unitsLeftAtMost: V.big(units[0]), expiresWithinSeconds: Number(within[0]) };
  }

  // ---- R26 time zones: the account's calendar follows the zone.
  setZone(zone) {
    const z = zone === null ? null : this.context._own(zone, Zone)._p();
    return this._do(C.account_set_zone(this._p(), z));
  }

  // The account's Zone, or null on a fixed UTC offset.
  get zone() {
    const p = C.account_zone(this._r());
    return p ? this.context._zone(p) : null;
  }

  // The hold a reservation with this key made (quota_hold_find).
  findHold(key) {
    const id = [0];
    this._check(C.hold_find(this._r(), V.str(key, 'key'), id));
    return V.big(id[0]);
  }

  // Holds released by the clock moving to now.
  tick(now) { return Number(this._check(C.account_tick(this._p(), V.i64(now, 'now')))); }

  // Count a text's segments and charge them: the receipt, with the
  // count in receipt.sms.  opts: {at, key, sms: smsCount options}.
  chargeSms(category, text, opts = {}) {
    const b = V.textBytes(text);
    const r = {};
    const info = {};
    this._check(C.charge_sms(this._p(), V.u32(category, 'category'), b, b.length,
      V.smsOpts(opts.sms), V.i64(opts.at, 'at'), V.str(opts.key, 'key', true), r, info));
    const out = V.receipt(r);
    out.sms = smsInfo(info);
    return out;
  }

  // ---- money
  topup(micros, at) { return this._do(C.account_topup(this._p(), V.i64(micros, 'micros'), V.i64(at, 'at'))); }

  get balance() { return V.big(C.account_balance(this._r())); }

  // R24 gift money: granted by the host, spent soonest expiry first,
  // never refunded (quota_gift_grant(3)).
  grantGift(micros, expiresAt, now) {
    return this._do(C.gift_grant(this._p(), V.i64(micros, 'micros'),
      V.i64(expiresAt, 'expiresAt'), V.i64(now, 'now')));
  }

  giftBalance(now) { return V.big(C.gift_balance(this._r(), V.i64(now, 'now'))); }

  // R24: PAY_GIFT_FIRST or PAY_CASH_FIRST; flags PAY_CREDIT_PURCHASES.
  setPayOrder(order, flags = 0) {
    return this._do(C.account_set_pay_order(this._p(), V.i32(order, 'order'),
      V.u32(flags, 'flags')));
  }

  get suspended() { return this._check(C.account_suspended(this._r())) === 1; }

  money() {
    const m = {};
    this._check(C.account_money(this._r(), m));
    return V.money(m);
  }

  // What `quantity` of an offer costs at `at`: {voucher}.
  quotePackage(offer, quantity, at, opts = {}) {
    const o = this.context._own(offer, Offer)._p();
    const out = {};
    this._check(C.package_quote(this._r(), o, V.i64(quantity, 'quantity'),
      V.voucher(opts.voucher), V.i64(at, 'at'), out));
    return purchase(out, null);
  }

  // Buy: {voucher, packageId}; the purchase, with its Package.
  buyPackage(offer, quantity, at, opts = {}) {
    const o = this.context._own(offer, Offer)._p();
    const out = {};
    this._check(C.package_buy(this._p(), o, V.i64(quantity, 'quantity'),
      V.voucher(opts.voucher), V.i64(at, 'at'), V.str(opts.packageId, 'packageId', true), out));
    return purchase(out, this._package(out.package));
  }

  // quota_settle: the bills; onBill (optional) sees each.
  settle(now, onBill) {
    const ctx = this.context;
    const bills = [];
    const cb = guard(ctx, (p) => {
      const b = ctx._bill(p);
      bills.push(b);
      if (onBill) onBill(b);
    }, K.ESTORE, 'bill');
    this._check(C.settle(this._p(), V.i64(now, 'now'), cb, null));
    return bills;
  }

  // ---- pruning
  prune(before, what = K.PRUNE_ALL) {
    return this._do(C.account_prune(this._p(), V.i64(before, 'before'), V.u32(what, 'what')));
  }

  // The horizon: null if nothing was pruned.
  get prunedBefore() {
    const t = BigInt(C.account_pruned_before(this._r()));
    return t === -(1n << 63n) ? null : Number(t);
  }

  // ---- reports
  // The rows of quota_report as plain objects; onRow (optional) sees each.
  report(period, from, to, onRow) {
    const ctx = this.context;
    const rows = [];
    const cb = guard(ctx, (p) => {
      const r = koffi.decode(p, STRUCTS.quota_report_row);
      const row = {
        account: this,
        period: r.period,
        start: V.time(r.start),
        end: V.time(r.end),
        category: r.category,
        source: r.source,
        package: r.package ? this._package(r.package) : null,
        units: V.big(r.units),
        costMicros: V.big(r.cost_micros),
      };
      rows.push(row);
      if (onRow) onRow(row);
    }, 1, 'report row');
    this._check(C.report(this._r(), V.i32(period, 'period'), V.i64(from, 'from'), V.i64(to, 'to'), cb, null));
    return rows;
  }

  // The report as CSV text (quota_report_csv).
  reportCsv(period, from, to) {
    const chunks = [];
    const cb = guard(this.context, (buf, len) => {
      chunks.push(Buffer.from(new Uint8Array(koffi.view(buf, Number(len)))));
    }, 1, 'CSV writer');
    this._check(C.report_csv(this._r(), V.i32(period, 'period'), V.i64(from, 'from'), V.i64(to, 'to'), cb, null));
    return Buffer.concat(chunks).toString('utf8');
  }

  // The report as CSV into a file (quota_report_csv_file), created or
  // truncated.
  reportCsvFile(period, from, to, path) {
    const p = this._r();
    const args = [V.i32(period, 'period'), V.i64(from, 'from'), V.i64(to, 'to')];
    const f = libc().fopen(V.str(path, 'path'), 'w');
    if (!f) throw new Error(`libquota: cannot open ${path} for writing`);
    let rc;
    try {
      rc = C.report_csv_file(p, ...args, f);
    } finally {
      if (libc().fclose(f) !== 0 && rc === 0) rc = K.ESTORE;
    }
    this._check(rc);
  }

  // ---- snapshots and the journal
  snapshot() {
    const out = [null];
    const len = [0];
    this._check(C.account_snapshot(this._r(), out, len));
    try {
      return Buffer.from(new Uint8Array(koffi.view(out[0], Number(len[0]))));
    } finally {
      C.free(this.context._r(), out[0]);
    }
  }

  // Back to a snapshot of this account, or with null to before its first
  // record.
  reset(snapshot) {
    const b = snapshot === null ? null : V.bytes(snapshot, 'snapshot');
    return this._do(C.account_reset(this._p(), b, b ? b.length : 0));
  }

  get seq() { return V.big(C.account_seq(this._r())); }

  get unsynced() { return C.account_unsynced(this._r()) === 1; }
}

function purchase(p, pkg) {
  return {
    units: V.big(p.units),
    listPriceMicros: V.big(p.list_price_micros),
    discountMicros: V.big(p.discount_micros),
    priceMicros: V.big(p.price_micros),
    effectiveAt: V.time(p.effective_at),
    expiresAt: V.time(p.expires_at),
    package: pkg,
    giftMicros: V.big(p.gift_micros),
    cashMicros: V.big(p.cash_micros),
    creditMicros: V.big(p.credit_micros),
  };
}

function smsInfo(i) {
  return {
    encoding: i.encoding,
    units: Number(i.units),
    segments: Number(i.segments),
    shiftLocking: i.shift_locking,
    shiftSingle: i.shift_single,
  };
}

// ---------------------------------------------------------- functions

// quota_sms_count.  opts: {flags, signature, maxSegments, maxUnits,
// offsets: true for where each segment starts (string indices for a
// string, byte offsets for bytes)}.  EncodingError carries err.offset.
function smsCount(text, opts = {}) {
  const b = V.textBytes(text);
  const o = V.smsOpts(opts) || V.smsOpts({});
  let mem = null;
  const info = {};
  try {
    if (opts.offsets) {
      o.segment_offsets_cap = b.length + 1;
      mem = koffi.alloc('size_t', o.segment_offsets_cap);
      o.segment_offsets = mem;
    }
    const rc = C.sms_count(b, b.length, o, info);
    if (rc < 0) {
      const off = Number(info.error_offset);
      const e = makeError(rc, rc === K.EENCODING ? `invalid UTF-8 at byte ${off}` : '');
      if (rc === K.EENCODING) e.offset = off;
      throw e;
    }
    const out = smsInfo(info);
    if (mem) {
      const n = Math.min(out.segments, o.segment_offsets_cap);
      const raw = Array.from(koffi.decode(mem, 'size_t', n), Number);
      out.offsets = typeof text === 'string'
        ? raw.map((x) => b.subarray(0, x).toString('utf8').length) : raw;
    }
    return out;
  } finally {
    if (mem) koffi.free(mem);
  }
}

function moneyRound(micros, minorMicros, mode = K.ROUND_HALF_UP) {
  const out = [0];
  const rc = C.money_round(V.i64(micros, 'micros'), V.i64(minorMicros, 'minorMicros'), V.i32(mode, 'mode'), out);
  if (rc < 0) throw makeError(rc, '');
  return V.big(out[0]);
}

// The size of the record at the start of buf (quota_journal_size).
function journalSize(buf) {
  const b = V.bytes(buf, 'record');
  const out = [0];
  const rc = C.journal_size(b, b.length, out);
  if (rc < 0) throw makeError(rc, '');
  return Number(out[0]);
}

// ------------------------------------------------------------- SQLite

// libquota-sqlite (quota_sqlite.h): SqliteStore.open(ctx, path, opts)
// recovers the database into ctx and makes it ctx's store.  close()
// removes it; closing the context closes it too.
class SqliteStore {
  constructor(ctx, ptr, path) {
    this.context = ctx;
    this._ptr = ptr;
    this.path = path;
  }

  // opts: {synchronous: SQLITE_SYNC_FULL | SQLITE_SYNC_NORMAL, busyTimeoutMs};
  // without them quota_sqlite_open (its defaults: full, 5000 ms).
  static open(ctx, path, opts) {
    if (!(ctx instanceof Context)) throw new TypeError('SqliteStore.open: a Context');
    const S = sqlite();
    const out = [null];
    if (opts === undefined) {
      ctx._check(S.sqlite_open(ctx._p(), V.str(path, 'path'), out));
      ctx._core.sqlites.add(out[0]);
      return new SqliteStore(ctx, out[0], path);
    }
    const o = {
      version: 1,
      size: koffi.sizeof(STRUCTS.quota_sqlite_options),
      synchronous: V.i32(opts.synchronous ?? K.SQLITE_SYNC_FULL, 'synchronous'),
      busy_timeout_ms: V.i32(opts.busyTimeoutMs ?? 5000, 'busyTimeoutMs'),
    };
    ctx._check(S.sqlite_open_with(ctx._p(), V.str(path, 'path'), o, out));
    ctx._core.sqlites.add(out[0]);
    return new SqliteStore(ctx, out[0], path);
  }

  // Checkpoint, resync and close change the context: refused inside one
  // of its callbacks (Context#_p).
  _p() {
    if (this.context._core.closed || this._ptr === null) throw closedError('SQLite store');
    this.context._p();
    return this._ptr;
  }

  get closed() { return this._ptr === null || this.context._core.closed; }

  close() {
    if (this._ptr === null) return;
    if (!this.context._core.closed) {
      this.context._p();
      this.context._core.sqlites.delete(this._ptr);
      sqlite().sqlite_close(this._ptr);
    }
    this._ptr = null;
  }

  checkpoint() {
    this.context._check(sqlite().sqlite_checkpoint(this._p()));
    return this;
  }

  resync(account) {
    const a = this.context._own(account, Account);
    this.context._check(sqlite().sqlite_resync(this._p(), a._p()));
    return this;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  SqliteStore.prototype[Symbol.dispose] = SqliteStore.prototype.close;
}

// A category mask from ids: mask(0, 2) === 5n.
function mask(...ids) { return V.mask(ids, 'mask'); }

module.exports = {
  ...K,
  constants: Object.fromEntries(Object.entries(K).map(([k, v]) => [`QUOTA_${k}`, v])),
  ...E,
  Context, Allocator, Tariff, Account, Package, Offer, Zone, SqliteStore,
  version: () => C.version(),
  versionNumber: () => C.version_number(),
  strerror: (rc) => C.strerror(V.i32(rc, 'rc')),
  errName: (rc) => C.err_name(V.i32(rc, 'rc')),
  smsCount, moneyRound, journalSize, mask,
  journalPeek: (record) => peek(C.journal_peek, null, record),
  snapshotPeek: (snapshot) => peek(C.snapshot_peek, null, snapshot),
};
