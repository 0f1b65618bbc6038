'use strict';
// lib/errors.js - QuotaError and one subclass per QUOTA_E* code
// (QUOTA_ERRNO_MAP in quota.h).  err.code is the symbolic name
// ("QUOTA_ECAP"), err.errno the number, err.errmsg quota_errmsg() of the
// context when there was one, err.strerror the fixed text.

const { C } = require('./ffi');

class QuotaError extends Error {
  constructor(errno, errmsg) {
    const strerror = C.strerror(errno);
    const code = C.err_name(errno);
    super(`${errmsg || strerror} (${code})`);
    this.name = new.target.name;
    this.code = code;
    this.errno = errno;
    this.errmsg = errmsg || '';
    this.strerror = strerror;
  }
}

// [class name, code]; the test checks every code against quota_err_name.
const TABLE = [
  ['InvalidError', -1],
  ['NoMemoryError', -2],
  ['NotFoundError', -3],
  ['ExistsError', -4],
  ['OverflowError', -5],
  ['ExhaustedError', -6],
  ['CapError', -7],
  ['SuspendedError', -8],
  ['FundsError', -9],
  ['StoreError', -10],
  ['EncodingError', -11],
  ['TooLongError', -12],
  ['ResolvedError', -13],
  ['KeyConflictError', -14],
  ['ReversedError', -15],
  ['VoucherError', -16],
  ['ConflictError', -17],
  ['CorruptError', -18],
  ['VersionError', -19],
  ['UnknownOutcomeError', -20],
  ['UnsyncedError', -21],
  ['SequenceError', -22],
  ['PrunedError', -23],
  ['BlockedError', -24],
];

const classes = { QuotaError };
const byErrno = new Map();
for (const [name, errno] of TABLE) {
  // A named class, so that stack traces and err.name say which.
  const cls = { [name]: class extends QuotaError {} }[name];
  classes[name] = cls;
  byErrno.set(errno, cls);
}

// The exception for a negative QUOTA_E* code.
function makeError(errno, errmsg) {
  const cls = byErrno.get(errno) || QuotaError;
  return new cls(errno, errmsg);
}

module.exports = { ...classes, makeError, ERROR_TABLE: TABLE };
