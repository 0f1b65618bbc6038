/*
 * qsim.h - quota-sim: plans against usage traces (DESIGN.md §8).
 *
 * The program uses only the public API (quota.h).  Its parts:
 *   util.c       money and time: parsing, formatting, calendars
 *   plan.c       the plan file (quota-plan(5)) into a qs_plan
 *   trace.c      the usage trace (CSV), streamed, into rows
 *   sim.c        a plan made into a context, rows replayed, figures kept
 *   scale.c      --scale: a row's share, the keyed rows kept
 *   late.c       month-end figures and chart points kept in time order
 *   report.c     run and compare output: text, CSV, JSON
 *   recommend.c  the cheapest purchase schedule from a plan's catalog
 *   rec_search.c its search for one account (rec_int.h)
 *   svg.c        the chart
 *   main.c       command line, progress bar
 */
#ifndef QSIM_H
#define QSIM_H

#include <quota.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QS_EXIT_BAD 2  /* bad input: usage, plan, trace */
#define QS_EXIT_FAIL 1 /* anything else: I/O, memory, the library */

/* ------------------------------------------------------------- util.c */

/* An error found in an input: where, and why. */
typedef struct qs_err {
	const char *file;
	int64_t line, col; /* from 1; 0: unknown */
	char msg[384];
	int status;        /* exit status; 0: QS_EXIT_BAD */
} qs_err;

void qs_errf(qs_err *e, int64_t line, int64_t col, const char *fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 4, 5)))
#endif
	;

void *qs_alloc(size_t n);                 /* zeroed; exits on failure */
void *qs_grow(void *p, size_t *cap, size_t need, size_t size);
char *qs_strndup(const char *s, size_t n);

/* Decimal money "12.345678" (at most 6 decimals, optional sign) into
 * micros; false with *why set if malformed or out of range. */
bool qs_money_parse(const char *s, size_t n, int64_t *out, const char **why);
/* Exact decimal text of micros: at least 2 decimals, no trailing zeros
 * beyond them: 144000000 -> "144.00", 280 -> "0.00028". */
char *qs_money_fmt(char buf[32], int64_t micros);
/* A non-negative integer; false if malformed or above max. */
bool qs_int_parse(const char *s, size_t n, int64_t max, int64_t *out);

/* The times quota-sim acts at (trace rows, purchases, renewal marks,
 * top-ups) end before QS_TIME_END: three days before the library's
 * QUOTA_TIME_MAX (10000-01-01), as it settles every account two days
 * after the last of them (and a UTC offset moves a local day by up to
 * 18 hours). */
#define QS_TIME_END (QUOTA_TIME_MAX - 3 * 86400)
#define QS_TIME_END_WHY "after 9999-12-28T23:59:59Z, the last time " \
	"quota-sim replays (it settles two days after the last row)"
/* The most units a trace row may hold: 10^15, so that a month of rows
 * stays far from the 64-bit counters' limit. */
#define QS_UNITS_MAX INT64_C(1000000000000000)

/* ISO 8601 (2024-05-01, 2024-05-01T08:00[:00[.fff]][Z|+hh:mm]) or Unix
 * seconds; no zone means UTC.  *col: offset of the bad character. */
bool qs_time_parse(const char *s, size_t n, int64_t *out, size_t *col,
		   const char **why);
/* "2024-05-01T08:00:00Z", or with "+08:00" for a non-zero offset. */
char *qs_time_fmt(char buf[40], int64_t t, int32_t off);
/* "+08:00" */
char *qs_offset_fmt(char buf[16], int32_t off);

int64_t qs_days_from_civil(int64_t y, unsigned m, unsigned d);
void qs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Month number y * 12 + (m - 1) of local time t + off. */
int32_t qs_month_of(int64_t t, int32_t off);
/* First second (UTC) of month number mo in local offset off. */
int64_t qs_month_start(int32_t mo, int32_t off);
/* "2024-05" */
char *qs_month_fmt(char buf[16], int32_t mo);

/* checked arithmetic */
bool qs_add(int64_t a, int64_t b, int64_t *out);
bool qs_mul(int64_t a, int64_t b, int64_t *out);

/* ------------------------------------------------------------- plan.c */

#define QS_PLAN_VERSION 1

typedef struct qs_tariff_def {
	char *name;
	int64_t line;
	size_t ntiers;
	int64_t up_to[32], price[32];
	int mode;              /* QUOTA_GRADUATED / QUOTA_VOLUME */
	int64_t free_units;    /* 0: none */
	int free_period;       /* QUOTA_PERIOD_* */
	int64_t free_daily;    /* 0: none */
	int64_t failure_fee;   /* micros per released unit */
} qs_tariff_def;

typedef struct qs_offer_def {
	char *id;
	int64_t line;
	uint64_t cats;         /* plan category indexes */
	int64_t units, price;  /* fixed */
	int tariff;            /* by quantity: tariff index, else -1 */
	int64_t min_units, step_units, max_units;
	int32_t valid_months, valid_days;
	uint32_t flags;
	int32_t priority;
} qs_offer_def;

typedef struct qs_pkg_def {
	char *id;
	uint64_t cats;
	int64_t units, from, until, price;
	uint32_t flags;
	int32_t priority;
	int64_t line, col, col_units; /* of the line, its id, its units */
} qs_pkg_def;

/* A scheduled action of an account: a purchase or a top-up. */
enum { QS_ACT_BUY = 1, QS_ACT_TOPUP = 2, QS_ACT_RENEW = 3 };
typedef struct qs_action {
	int kind;
	int64_t at;
	int64_t line, col;
	int offer;            /* BUY */
	int64_t quantity;     /* BUY */
	bool has_voucher;
	quota_voucher voucher;
	char *id;             /* BUY: package id, or NULL */
	int64_t micros;       /* TOPUP */
	int64_t units_left, within; /* RENEW (R23): -1 unused */
} qs_action;

typedef struct qs_cap_def {
	int cat; /* -1: all */
	int period;
	int64_t units;
	int64_t line;
} qs_cap_def;

typedef struct qs_alert_def {
	int cat;
	int64_t level;
	int unit;
	int64_t line, col;     /* of the level */
} qs_alert_def;

typedef struct qs_account_def {
	char *id;              /* "*": the template for unlisted accounts */
	int64_t line;
	int64_t utc_line, utc_col; /* of the offset given; 0: none */
	int32_t utc_offset;
	int tariff[QUOTA_MAX_CATEGORIES]; /* per category: index or -1 */
	int overage[QUOTA_MAX_CATEGORIES];
	qs_cap_def caps[16];
	size_t ncaps;
	qs_alert_def alerts[16];
	size_t nalerts;
	int settle_period;     /* QUOTA_PERIOD_HOUR / DAY */
	int64_t minor;
	int rounding;
	bool balance_set;      /* false: unlimited */
	int64_t balance, credit;
	bool on_success;       /* failed rows are released, not charged */
	quota_sms_opts sms;
	char *signature;
	qs_pkg_def *pkgs;
	size_t npkgs, cpkgs;
	qs_action *acts;       /* sorted by time, then file order */
	size_t nacts, cacts;
} qs_account_def;

typedef struct qs_plan {
	char *file;            /* as given */
	char *name;            /* its base name */
	char *currency;
	int64_t currency_line, currency_col;
	size_t ncats;
	char *cats[QUOTA_MAX_CATEGORIES];
	qs_tariff_def *tariffs;
	size_t ntariffs, ctariffs;
	qs_offer_def *offers;
	size_t noffers, coffers;
	qs_account_def *accounts;
	size_t naccounts, caccounts;
	int any;               /* index of "account *", or -1 */
	int history;           /* months kept before the latest; -1: all */
} qs_plan;

/* Parse a plan file; NULL with *err set on failure. */
qs_plan *qs_plan_load(const char *file, qs_err *err);
void qs_plan_free(qs_plan *p);
int qs_plan_cat(const qs_plan *p, const char *name, size_t n);

/* ------------------------------------------------------------ trace.c */

enum { QS_STATUS_NONE = 0, QS_STATUS_DELIVERED = 1, QS_STATUS_FAILED = 2 };

typedef struct qs_row {
	int64_t line;
	int64_t at;
	const char *account; size_t account_len;
	const char *category; size_t category_len;
	int64_t units;         /* -1: text */
	const char *text; size_t text_len;
	const char *key; size_t key_len; /* key_len 0: none */
	int status;
	/* columns of the fields, for error messages */
	int64_t col_account, col_category, col_units;
} qs_row;

typedef struct qs_trace qs_trace;
/* Progress: bytes read so far and the total (0 if unknown). */
typedef void (*qs_progress_fn)(void *ud, uint64_t done, uint64_t total,
			       int64_t rows);

/* Open a trace ("-": stdin) and read its header. */
qs_trace *qs_trace_open(const char *file, qs_err *err);
/* Next row: 1, 0 at the end, -1 on error (err set). */
int qs_trace_next(qs_trace *t, qs_row *row, qs_err *err);
void qs_trace_progress(qs_trace *t, qs_progress_fn fn, void *ud);
void qs_trace_close(qs_trace *t);
const char *qs_trace_file(const qs_trace *t);

/* ------------------------------------------------------------- feed.c */

typedef struct qs_sim qs_sim;
/* Replay a trace ("-": stdin) through n simulations; -1 with err set on
 * bad input (nothing is printed). */
int qs_feed(qs_sim *sims, size_t n, const char *trace,
	    qs_progress_fn progress, void *ud, qs_err *err);

/* -------------------------------------------------------------- sim.c */

enum {
	QS_REF_CAP = 0,       /* QUOTA_ECAP */
	QS_REF_STOP,          /* QUOTA_EEXHAUSTED */
	QS_REF_SUSPENDED,     /* QUOTA_ESUSPENDED */
	QS_REF_TOOLONG,       /* QUOTA_ETOOLONG */
	QS_REF_KEY,           /* QUOTA_EKEYCONFLICT: key reused, other usage */
	QS_REF_OTHER,
	QS_NREF
};
extern const char *const qs_ref_names[QS_NREF];

typedef struct qs_stat {
	int64_t rows, units, free, pkg, payg, cost, failed, fees, billed;
	int64_t dups;
	int64_t refused[QS_NREF];   /* rows */
	int64_t refused_units;
} qs_stat;

typedef struct qs_month {
	qs_stat *cat;          /* per plan category */
	int64_t purchased;     /* money paid for packages in the month */
	int64_t bills, bills_outstanding;
	int64_t *left;         /* package units left at the month's end */
	uint32_t nleft;        /* packages then; UINT32_MAX: not recorded */
} qs_month;

typedef struct qs_purchase {
	int64_t at;
	int offer;
	int64_t quantity, units, list, discount, price;
	char *package;         /* NULL: refused */
	int rc;
} qs_purchase;

/* A point of the chart: time, cumulative cost, package units left. */
typedef struct qs_sample {
	int64_t at;
	int64_t cost;
	uint32_t npk;
	int64_t *left;
} qs_sample;

/* --scale: a keyed row as first charged, so that a repeat of it is sent
 * at the same size (the library sees an exact retry, R11). */
typedef struct qs_keyent {
	const struct qs_acct *a;
	int cat;
	uint32_t klen;
	char key[QUOTA_KEY_MAX];
	int64_t at, raw, scaled;
} qs_keyent;

typedef struct qs_acct {
	quota_account *a;
	const qs_account_def *def;
	char *id;
	size_t idlen;
	int64_t mstart, mend;  /* the month `cur`, [mstart, mend) */
	size_t nact;           /* actions done */
	int64_t settled_to;    /* settlement done up to here */
	int64_t kept_from;     /* plan's history: rows before are refused */
	int32_t base;          /* month number of months[0] */
	qs_month *months;
	size_t nmonths, cmonths;
	int32_t cur;           /* latest month seen */
	qs_purchase *buys;
	size_t nbuys, cbuys;
	int64_t cum;           /* purchases + payg cost + fees so far */
	int64_t last_day;      /* of the last row that took a sample */
	qs_sample *samples;
	size_t nsamples, csamples;
	int64_t topped_up;
	int64_t scale_raw[QUOTA_MAX_CATEGORIES], scale_done[QUOTA_MAX_CATEGORIES];
	struct qs_acct *hnext;
} qs_acct;

struct qs_sim {
	const qs_plan *plan;
	quota_ctx *ctx;
	quota_tariff **tariffs;
	quota_offer **offers;
	uint32_t catid[QUOTA_MAX_CATEGORIES];
	qs_acct **accts;       /* in order of appearance */
	size_t naccts, caccts;
	qs_acct **htab;
	size_t hcap;
	qs_acct *last;
	qs_keyent *keys;       /* --scale only: keyed rows, by key */
	size_t nkeys, ckeys;
	uint32_t *ktab;        /* index + 1 into keys; 0: empty */
	size_t kcap;
	int64_t scale_micros;  /* 1,000,000 = 1x */
	bool samples;          /* keep chart samples */
	int64_t rows;
	int64_t first_at, last_at;
	bool any_at;
	int64_t *late_left;    /* late.c: packages' units before a row */
	size_t clate_left;
	/* Optional: told of every charge that stood (failed: released). */
	void (*on_use)(void *ud, const qs_acct *a, int cat, int64_t at,
		       int64_t units, bool failed);
	void *use_ud;
};

int qs_sim_init(qs_sim *s, const qs_plan *plan, qs_err *err);
/* The account of that id, made from the plan (or its "account *") on
 * first use; NULL with err set if the plan has neither (no line), if the
 * library refuses the id (no file, no line: the caller names its row) or
 * an attribute of the template (the plan's line and column). */
qs_acct *qs_sim_account(qs_sim *s, const char *id, size_t n, qs_err *err);
/* Whether the plan has that account (a block, or "account *"). */
bool qs_sim_has_account(qs_sim *s, const char *id, size_t n);
/* One trace row; a bad row (unknown account or category, bad text)
 * returns -1 with err set. */
int qs_sim_row(qs_sim *s, const qs_row *row, qs_err *err);
/* After the last row: the remaining actions, the last settlements. */
int qs_sim_finish(qs_sim *s, qs_err *err);
void qs_sim_free(qs_sim *s);
/* Totals of an account or (a NULL) of the whole simulation. */
typedef struct qs_totals {
	qs_stat st;
	int64_t purchased, bills;
	int64_t spent;         /* purchased + bills */
} qs_totals;
void qs_sim_totals(const qs_sim *s, const qs_acct *a, qs_totals *out);
/* The library's error for rc, as a message. */
const char *qs_sim_errmsg(const qs_sim *s, int rc);

/* ------------------------------------------------------------- late.c */

/* A chart point of account a at time at (--svg only): its cost and
 * units left now, appended (the caller keeps the points in time order). */
void qs_point(qs_sim *s, qs_acct *a, int64_t at);
/* Month-end figures of a month before the account's first: the units of
 * the plan's packages (no row had come before it). */
void qs_month_initial(const qs_acct *a, qs_month *m);
/* A row of account a at time at (month mo) about to be charged: if it is
 * late (before a month closed or a point taken), what the packages held
 * before it; qs_late_end, once it stood, amends those figures. */
typedef struct qs_late {
	qs_acct *a;
	int64_t at, cum;
	int32_t mo;
	uint32_t npk;
	bool months, points;
} qs_late;
void qs_late_begin(qs_sim *s, qs_acct *a, int64_t at, int32_t mo,
		   qs_late *l);
void qs_late_end(qs_sim *s, const qs_late *l);

/* ----------------------------------------------------------- report.c */

enum { QS_OUT_TEXT = 0, QS_OUT_CSV = 1, QS_OUT_JSON = 2 };
void qs_report_run(FILE *f, const qs_sim *s, const char *trace, int format);
void qs_report_compare(FILE *f, qs_sim *const *sims, size_t n,
		       const char *trace, int format, int64_t scale);
void qs_json_str(FILE *f, const char *s);

/* -------------------------------------------------------------- svg.c */

int qs_svg_write(const char *file, const qs_sim *s, qs_err *err);

/* -------------------------------------------------------- recommend.c */

typedef struct qs_rec_opts {
	int format;
	int64_t max_evals;
	bool exhaustive;       /* no pruning (for tests) */
	qs_progress_fn progress;
	void *progress_ud;
} qs_rec_opts;

int qs_recommend(FILE *out, const qs_plan *plan, const char *trace,
		 const qs_rec_opts *o, qs_err *err);

/* sim.c: FNV-1a of n bytes (the simulator's tables). */
uint64_t qs_hash(const char *s, size_t n);
/* scale.c (--scale): floor(raw * scale / 1e6), false on overflow; the
 * keyed row of account a with key k (n bytes), or NULL (slot: where it
 * goes); remember or update a keyed row as charged; a repeat the library
 * charged anew added to the running totals. */
bool qs_scaled(int64_t raw, int64_t sc, int64_t *out);
qs_keyent *qs_key_find(const qs_sim *s, const qs_acct *a, const char *k,
		       size_t n, size_t *slot);
void qs_key_put(qs_sim *s, const qs_acct *a, const qs_row *row, int cat,
		int64_t raw, int64_t scaled);
void qs_scale_more(qs_acct *a, int c, int64_t raw, int64_t units);

#endif /* QSIM_H */
