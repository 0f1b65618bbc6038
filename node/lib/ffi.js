'use strict';
// lib/ffi.js - the C declarations of include/quota.h and quota_sqlite.h
// for koffi: structs field for field as the header lays them out (the
// layout test compares them with the C compiler's), and every function.
//
// The library is LIBQUOTA_PATH, else libquota.so.0 found by the loader;
// libquota-sqlite is LIBQUOTA_SQLITE_PATH, else libquota-sqlite.so.0,
// loaded on first use.  libquota-sqlite's own dependency on libquota.so.0
// resolves to the copy already loaded (same SONAME), so both work on the
// same contexts.

const koffi = require('koffi');

const RECEIPT_LINES = 16;

const T = {};
T.ctx = koffi.opaque('quota_ctx');
T.account = koffi.opaque('quota_account');
T.package = koffi.opaque('quota_package');
T.tariff = koffi.opaque('quota_tariff');
T.offer = koffi.opaque('quota_offer');
T.zone = koffi.opaque('quota_zone');
T.sqlite = koffi.opaque('quota_sqlite');

// One entry per public struct; the layout test walks this list.
const STRUCTS = {};
function struct(name, fields) {
  STRUCTS[name] = koffi.struct(name, fields);
  return STRUCTS[name];
}

struct('quota_usage', {
  category: 'uint32_t',
  units: 'int64_t',
  at: 'int64_t',
  key: 'const char *',
});

struct('quota_receipt_line', {
  source: 'int32_t',
  tier: 'uint32_t',
  package_id: 'const char *',
  package: 'const quota_package *',
  units: 'int64_t',
  unit_price_micros: 'int64_t',
  cost_micros: 'int64_t',
});

struct('quota_receipt', {
  units: 'int64_t',
  free_units: 'int64_t',
  package_units: 'int64_t',
  payg_units: 'int64_t',
  payg_cost_micros: 'int64_t',
  category: 'uint32_t',
  at: 'int64_t',
  nlines: 'uint32_t',
  lines_total: 'uint32_t',
  lines: koffi.array('quota_receipt_line', RECEIPT_LINES, 'Array'),
  kind: 'int32_t',
  replayed: 'int32_t',
  hold_id: 'uint64_t',
  fee_micros: 'int64_t',
  forfeited_units: 'int64_t',
  receipt_id: 'uint64_t',
  failure_reason: 'int32_t',
});

struct('quota_package_spec', {
  id: 'const char *',
  categories: 'uint64_t',
  units: 'int64_t',
  effective_at: 'int64_t',
  expires_at: 'int64_t',
  price_micros: 'int64_t',
  flags: 'uint32_t',
  priority: 'int32_t',
});

struct('quota_event', {
  kind: 'int32_t',
  category: 'uint32_t',
  account: 'const quota_account *',
  package: 'const quota_package *',
  remaining: 'int64_t',
  threshold: 'int64_t',
  at: 'int64_t',
  period: 'int32_t',
  outstanding_micros: 'int64_t',
  balance_micros: 'int64_t',
  receipt: 'const quota_receipt *',
  reason: 'const char *',
});

struct('quota_money', {
  balance_micros: 'int64_t',
  credit_limit_micros: 'int64_t',
  outstanding_micros: 'int64_t',
  topped_up_micros: 'int64_t',
  purchased_micros: 'int64_t',
  billed_micros: 'int64_t',
  suspended: 'int32_t',
  outstanding_bills: 'uint32_t',
  gift_micros: 'int64_t',
  gift_granted_micros: 'int64_t',
  gift_spent_micros: 'int64_t',
  gift_expired_micros: 'int64_t',
  pay_order: 'int32_t',
  pay_flags: 'uint32_t',
});

struct('quota_offer_spec', {
  id: 'const char *',
  categories: 'uint64_t',
  units: 'int64_t',
  price_micros: 'int64_t',
  unit_tariff: 'const quota_tariff *',
  min_units: 'int64_t',
  step_units: 'int64_t',
  max_units: 'int64_t',
  valid_months: 'int32_t',
  valid_days: 'int32_t',
  flags: 'uint32_t',
  priority: 'int32_t',
});

struct('quota_voucher', {
  kind: 'int32_t',
  value: 'int64_t',
  min_spend_micros: 'int64_t',
});

struct('quota_purchase', {
  units: 'int64_t',
  list_price_micros: 'int64_t',
  discount_micros: 'int64_t',
  price_micros: 'int64_t',
  effective_at: 'int64_t',
  expires_at: 'int64_t',
  package: 'const quota_package *',
  gift_micros: 'int64_t',
  cash_micros: 'int64_t',
  credit_micros: 'int64_t',
});

struct('quota_bill_line', {
  category: 'uint32_t',
  kind: 'int32_t',
  late: 'int32_t',
  units: 'int64_t',
  receipts_micros: 'int64_t',
  adjustment_micros: 'int64_t',
  amount_micros: 'int64_t',
  rounded_micros: 'int64_t',
});

struct('quota_bill', {
  account: 'const quota_account *',
  seq: 'uint64_t',
  period_start: 'int64_t',
  period_end: 'int64_t',
  status: 'int32_t',
  nlines: 'uint32_t',
  lines: 'const quota_bill_line *',
  amount_micros: 'int64_t',
  total_micros: 'int64_t',
  balance_micros: 'int64_t',
  gift_micros: 'int64_t',
  cash_micros: 'int64_t',
  credit_micros: 'int64_t',
});

struct('quota_report_row', {
  account: 'const quota_account *',
  period: 'int32_t',
  start: 'int64_t',
  end: 'int64_t',
  category: 'uint32_t',
  source: 'int32_t',
  package: 'const quota_package *',
  units: 'int64_t',
  cost_micros: 'int64_t',
});

struct('quota_sms_opts', {
  version: 'unsigned int',
  flags: 'uint32_t',
  signature: 'const char *',
  max_segments: 'uint32_t',
  segment_offsets: 'size_t *',
  segment_offsets_cap: 'size_t',
  max_units: 'uint32_t',
});

struct('quota_sms_info', {
  encoding: 'int',
  units: 'int64_t',
  segments: 'int64_t',
  error_offset: 'size_t',
  shift_locking: 'uint32_t',
  shift_single: 'uint32_t',
});

struct('quota_op', {
  kind: 'int32_t',
  account: 'quota_account *',
  usage: 'quota_usage',
  timeout_s: 'int64_t',
  hold_id: 'uint64_t',
  units_used: 'int64_t',
  key: 'const char *',
  text: 'const uint8_t *',
  text_len: 'size_t',
  sms_opts: 'const quota_sms_opts *',
  rc: 'int32_t',
  receipt: 'quota_receipt',
});

// Callback types.
const BillFn = koffi.proto('int quota_bill_fn(const quota_bill *bill, void *ud)');
const ReportFn = koffi.proto('int quota_report_fn(const quota_report_row *row, void *ud)');
const WriteFn = koffi.proto('int quota_write_fn(const uint8_t *buf, size_t len, void *ud)');
const EventFn = koffi.proto('int quota_event_fn(const quota_event *event, void *ud)');
const AppendFn = koffi.proto('int quota_store_append_fn(void *ud, const char *account, uint64_t seq, const uint8_t *rec, size_t len)');
const TxFn = koffi.proto('int quota_store_tx_fn(void *ud)');
const ErrmsgFn = koffi.proto('const char *quota_store_errmsg_fn(void *ud)');

// quota_allocator (quota.h): an allocator written in JS (Allocator).
const MallocFn = koffi.proto('void *quota_malloc_fn(void *ud, size_t size)');
const ReallocFn = koffi.proto('void *quota_realloc_fn(void *ud, void *ptr, size_t size)');
const FreeFn = koffi.proto('void quota_free_fn(void *ud, void *ptr)');
struct('quota_allocator', {
  version: 'unsigned int',
  ud: 'void *',
  malloc_fn: koffi.pointer(MallocFn),
  realloc_fn: koffi.pointer(ReallocFn),
  free_fn: koffi.pointer(FreeFn),
});

// quota_store.h: a store written in JS (Context#setStore).
struct('quota_store', {
  version: 'unsigned int',
  size: 'size_t',
  ud: 'void *',
  append: koffi.pointer(AppendFn),
  begin: koffi.pointer(TxFn),
  commit: koffi.pointer(TxFn),
  errmsg: koffi.pointer(ErrmsgFn),
});

// quota_sqlite.h (declared here so the layout test sees it too).
struct('quota_sqlite_options', {
  version: 'unsigned int',
  size: 'size_t',
  synchronous: 'int',
  busy_timeout_ms: 'int',
});

const DECLS = [
  'const char *quota_strerror(int rc)',
  'const char *quota_err_name(int rc)',
  'const char *quota_version()',
  'uint32_t quota_version_number()',

  'int quota_ctx_new(_Out_ quota_ctx **out)',
  'int quota_ctx_new_with(const quota_allocator *alloc, _Out_ quota_ctx **out)',
  'void quota_ctx_free(quota_ctx *ctx)',
  'int quota_ctx_set_hash_seed(quota_ctx *ctx, const uint8_t *seed)',
  'const char *quota_errmsg(const quota_ctx *ctx)',

  'int quota_category_add(quota_ctx *ctx, const char *name, _Out_ uint32_t *id)',
  'int quota_category_find(const quota_ctx *ctx, const char *name, _Out_ uint32_t *id)',
  'const char *quota_category_name(const quota_ctx *ctx, uint32_t id)',
  'uint32_t quota_category_count(const quota_ctx *ctx)',

  'int quota_tariff_new(quota_ctx *ctx, const char *name, _Out_ quota_tariff **out)',
  'int quota_tariff_find(const quota_ctx *ctx, const char *name, _Out_ quota_tariff **out)',
  'int quota_tariff_add_tier(quota_tariff *t, int64_t up_to_units, int64_t unit_price_micros)',
  'int quota_tariff_set_mode(quota_tariff *t, int mode)',
  'int quota_tariff_set_free(quota_tariff *t, int64_t units, int period)',
  'int quota_tariff_set_free_daily_limit(quota_tariff *t, int64_t units)',
  'const char *quota_tariff_name(const quota_tariff *t)',
  'int quota_tariff_price(const quota_tariff *t, int64_t volume_before, int64_t units, _Out_ int64_t *cost_micros)',
  'int quota_tariff_set_failure_fee(quota_tariff *t, int64_t micros_per_unit)',

  'int quota_account_new(quota_ctx *ctx, const char *id, _Out_ quota_account **out)',
  'int quota_account_find(const quota_ctx *ctx, const char *id, _Out_ quota_account **out)',
  'int quota_account_find_many(const quota_ctx *ctx, const char **ids, size_t n, _Out_ quota_account **out)',
  'const char *quota_account_id(const quota_account *a)',
  'uint32_t quota_ctx_account_count(const quota_ctx *ctx)',
  'quota_account *quota_ctx_account_at(const quota_ctx *ctx, uint32_t i)',
  'int quota_account_remove(quota_account *a)',
  'quota_ctx *quota_account_ctx(const quota_account *a)',
  'int quota_account_set_utc_offset(quota_account *a, int32_t seconds)',
  // R26 time zones
  'int quota_zone_load(quota_ctx *ctx, const char *name, _Out_ quota_zone **out)',
  'int quota_zone_from_tzif(quota_ctx *ctx, const char *name, const uint8_t *tzif, size_t len, _Out_ quota_zone **out)',
  'int quota_zone_find(const quota_ctx *ctx, const char *name, _Out_ quota_zone **out)',
  'const char *quota_zone_name(const quota_zone *z)',
  'int quota_zone_offset(const quota_zone *z, int64_t at, _Out_ int32_t *offset)',
  'int quota_account_set_zone(quota_account *a, quota_zone *z)',
  'quota_zone *quota_account_zone(const quota_account *a)',
  'int quota_account_set_tariff(quota_account *a, uint32_t category, quota_tariff *t)',
  'int quota_account_set_cap(quota_account *a, uint32_t category, int period, int64_t units)',
  'int quota_account_set_overage(quota_account *a, uint32_t category, int policy)',
  'int64_t quota_account_remaining(const quota_account *a, uint32_t category, int64_t now)',
  'int64_t quota_account_used(const quota_account *a, uint32_t category, int period, int64_t at)',
  'int64_t quota_account_free_used(const quota_account *a, uint32_t category, int64_t at)',

  'int quota_package_add(quota_account *a, const quota_package_spec *spec, _Out_ quota_package **out)',
  'int quota_package_find(const quota_account *a, const char *id, _Out_ quota_package **out)',
  'int64_t quota_package_remaining(const quota_package *p)',
  'int quota_package_status(const quota_package *p, int64_t now)',
  'int quota_package_get_spec(const quota_package *p, _Out_ quota_package_spec *out)',
  'uint32_t quota_account_package_count(const quota_account *a)',
  'quota_package *quota_account_package_at(const quota_account *a, uint32_t i)',

  'int quota_charge(quota_account *a, const quota_usage *usage, _Out_ quota_receipt *receipt)',
  'int quota_quote(const quota_account *a, const quota_usage *usage, _Out_ quota_receipt *receipt)',
  'int quota_reserve(quota_account *a, const quota_usage *usage, int64_t timeout_s, _Out_ quota_receipt *receipt, _Out_ uint64_t *hold_id)',
  'int quota_commit(quota_account *a, uint64_t hold_id, int64_t units_used, const char *key, _Out_ quota_receipt *receipt)',
  'int quota_release(quota_account *a, uint64_t hold_id, const char *key, _Out_ quota_receipt *receipt)',
  'int64_t quota_account_tick(quota_account *a, int64_t now)',
  'int64_t quota_ctx_tick(quota_ctx *ctx, int64_t now)',
  'int64_t quota_account_held(const quota_account *a, uint32_t category)',
  'uint32_t quota_account_hold_count(const quota_account *a)',
  'int quota_hold_find(const quota_account *a, const char *key, _Out_ uint64_t *hold_id)',
  'int quota_account_set_key_window(quota_account *a, uint32_t max_keys, int64_t max_age_s)',
  'int quota_reverse(quota_account *a, const char *key, int64_t at, _Out_ quota_receipt *receipt)',
  'int quota_reverse_receipt(quota_account *a, uint64_t receipt_id, int64_t at, _Out_ quota_receipt *receipt)',
  'int quota_release_reason(quota_account *a, uint64_t hold_id, int32_t reason, const char *key, _Out_ quota_receipt *receipt)',
  'int quota_account_keep_receipts(quota_account *a, int on)',
  'int quota_account_block(quota_account *a, const char *reason, int64_t at)',
  'int quota_account_unblock(quota_account *a, int64_t at)',
  'int quota_account_blocked(const quota_account *a, _Out_ const char **reason, _Out_ int64_t *since)',
  'int quota_renewal_set(quota_account *a, const quota_offer *offer, int64_t units_left_at_most, int64_t expires_within_s, int64_t now)',
  'int quota_renewal_clear(quota_account *a, const quota_offer *offer, int64_t now)',
  'int quota_renewal_get(const quota_account *a, const quota_offer *offer, _Out_ int64_t *units_left_at_most, _Out_ int64_t *expires_within_s)',
  'int quota_tariff_set_failure_fee_reason(quota_tariff *t, int32_t reason, int64_t micros_per_unit)',

  'int quota_ctx_set_event_hook(quota_ctx *ctx, quota_event_fn *fn, void *ud)',
  'uint64_t quota_ctx_hook_failures(const quota_ctx *ctx)',
  'int quota_account_add_alert(quota_account *a, uint32_t category, int64_t level, int unit)',
  'int quota_account_set_expiry_warning(quota_account *a, int64_t seconds)',

  'int quota_account_topup(quota_account *a, int64_t micros, int64_t at)',
  'int64_t quota_account_balance(const quota_account *a)',
  'int quota_account_set_credit_limit(quota_account *a, int64_t micros)',
  'int quota_gift_grant(quota_account *a, int64_t micros, int64_t expires_at, int64_t now)',
  'int64_t quota_gift_balance(const quota_account *a, int64_t now)',
  'int quota_account_set_pay_order(quota_account *a, int32_t order, uint32_t flags)',
  'int quota_account_suspended(const quota_account *a)',
  'int quota_account_money(const quota_account *a, _Out_ quota_money *out)',
  'int quota_money_round(int64_t micros, int64_t minor_micros, int mode, _Out_ int64_t *out)',
  'int quota_account_set_settlement(quota_account *a, int period, int64_t minor_micros, int rounding)',

  'int quota_offer_add(quota_ctx *ctx, const quota_offer_spec *spec, _Out_ quota_offer **out)',
  'int quota_offer_find(const quota_ctx *ctx, const char *id, _Out_ quota_offer **out)',
  'int quota_package_quote(const quota_account *a, const quota_offer *offer, int64_t quantity, const quota_voucher *voucher, int64_t at, _Out_ quota_purchase *out)',
  'int quota_package_buy(quota_account *a, const quota_offer *offer, int64_t quantity, const quota_voucher *voucher, int64_t at, const char *package_id, _Out_ quota_purchase *out)',

  'int64_t quota_settle(quota_account *a, int64_t now, quota_bill_fn *on_bill, void *ud)',
  'int64_t quota_ctx_settle(quota_ctx *ctx, int64_t now, quota_bill_fn *on_bill, void *ud)',

  'int quota_account_prune(quota_account *a, int64_t before, uint32_t what)',
  'int64_t quota_account_pruned_before(const quota_account *a)',
  'int quota_account_set_retention(quota_account *a, int64_t seconds, uint32_t what)',

  'int quota_report(const quota_account *a, int period, int64_t from, int64_t to, quota_report_fn *fn, void *ud)',
  'int quota_report_csv(const quota_account *a, int period, int64_t from, int64_t to, quota_write_fn *write, void *ud)',
  'int quota_report_csv_file(const quota_account *a, int period, int64_t from, int64_t to, void *f)',

  'int quota_account_snapshot(const quota_account *a, _Out_ void **out, _Out_ size_t *len)',
  'void quota_free(quota_ctx *ctx, void *p)',
  'int quota_account_load(quota_ctx *ctx, const uint8_t *snap, size_t len, _Out_ quota_account **out)',
  'int quota_account_reset(quota_account *a, const uint8_t *snap, size_t len)',

  'int quota_sms_count(const uint8_t *utf8, size_t len, const quota_sms_opts *opts, _Out_ quota_sms_info *info)',
  'int quota_charge_sms(quota_account *a, uint32_t category, const uint8_t *utf8, size_t len, const quota_sms_opts *opts, int64_t at, const char *key, _Out_ quota_receipt *receipt, _Out_ quota_sms_info *info)',

  'int quota_journal_apply(quota_ctx *ctx, const uint8_t *rec, size_t len, uint32_t flags)',
  'uint64_t quota_account_seq(const quota_account *a)',
  'int quota_account_unsynced(const quota_account *a)',
  'uint64_t quota_ctx_config_seq(const quota_ctx *ctx)',
  'uint64_t quota_ctx_config_unstored(const quota_ctx *ctx)',
  'int quota_journal_size(const uint8_t *rec, size_t avail, _Out_ size_t *size)',
  'int quota_journal_peek(quota_ctx *ctx, const uint8_t *rec, size_t len, uint8_t *id, _Out_ uint64_t *seq)',
  'int quota_snapshot_peek(quota_ctx *ctx, const uint8_t *snap, size_t len, uint8_t *id, _Out_ uint64_t *seq)',

  'int quota_batch(quota_ctx *ctx, _Inout_ quota_op *ops, size_t n)',
  'int quota_op_run(_Inout_ quota_op *op)',

  // quota_store.h
  'int quota_ctx_set_store(quota_ctx *ctx, const quota_store *store)',
  'int quota_ctx_set_error(quota_ctx *ctx, int code, const char *msg)',
];

const SQLITE_DECLS = [
  'int quota_sqlite_open(quota_ctx *ctx, const char *path, _Out_ quota_sqlite **out)',
  'int quota_sqlite_open_with(quota_ctx *ctx, const char *path, const quota_sqlite_options *opts, _Out_ quota_sqlite **out)',
  'void quota_sqlite_close(quota_sqlite *db)',
  'int quota_sqlite_checkpoint(quota_sqlite *db)',
  'int quota_sqlite_resync(quota_sqlite *db, quota_account *a)',
];

function declare(lib, decls) {
  const out = {};
  for (const d of decls) {
    const name = /\b(quota_[a-z0-9_]+)\(/.exec(d)[1];
    out[name.slice('quota_'.length)] = lib.func(d);
  }
  return out;
}

const libPath = process.env.LIBQUOTA_PATH || 'libquota.so.0';
const lib = koffi.load(libPath);
const C = declare(lib, DECLS);

let sqliteC = null;
// libquota-sqlite's functions, loaded on first use.
function sqlite() {
  if (!sqliteC) {
    const path = process.env.LIBQUOTA_SQLITE_PATH || 'libquota-sqlite.so.0';
    sqliteC = declare(koffi.load(path), SQLITE_DECLS);
  }
  return sqliteC;
}

let libcC = null;
// fopen/fclose for Account#reportCsvFile (quota_report_csv_file takes a FILE *).
function libc() {
  if (!libcC) {
    const l = koffi.load('libc.so.6');
    libcC = {
      fopen: l.func('void *fopen(const char *path, const char *mode)'),
      fclose: l.func('int fclose(void *f)'),
      malloc: l.func('void *malloc(size_t size)'),
      realloc: l.func('void *realloc(void *ptr, size_t size)'),
      free: l.func('void free(void *ptr)'),
    };
  }
  return libcC;
}

module.exports = {
  koffi, C, sqlite, libc, libPath, STRUCTS, RECEIPT_LINES, DECLS, SQLITE_DECLS,
  BillFn, ReportFn, WriteFn, EventFn, AppendFn, TxFn, ErrmsgFn,
  MallocFn, ReallocFn, FreeFn,
};
