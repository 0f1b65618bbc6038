/*
 * trace.c - the usage trace: CSV with a header row naming the columns
 * (time, account, category, units or text, and optionally key and
 * status), read through a fixed buffer so a trace of any length streams
 * through in constant memory.  "-" is standard input.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUFSZ (1u << 20) /* also the longest line */
#define MAXCOL 16

enum { C_TIME, C_ACCOUNT, C_CATEGORY, C_UNITS, C_TEXT, C_KEY, C_STATUS, NC };
static const char *const colname[NC] = {"time", "account", "category",
					"units", "text", "key", "status"};

struct qs_trace {
	FILE *f;
	char *file;
	bool own;
	char *buf;    /* BUFSZ + 1 */
	size_t pos, end;
	bool eof;
	int64_t line;
	uint64_t consumed, total;
	int ncol;
	int col[MAXCOL]; /* column i is field C_* (or -1: ignored) */
	int where[NC];   /* field -> column, or -1 */
	char *scratch;   /* unquoted fields */
	qs_progress_fn progress;
	void *ud;
	int64_t rows;
};

typedef struct field {
	const char *s;
	size_t n;
	int64_t col;
} field;

/* Move what is left to the front and read more.  Returns false at the
 * end of input with nothing left, or on a read error (err set). */
static bool refill(qs_trace *t, qs_err *err)
{
	size_t n;

	if (t->pos) {
		memmove(t->buf, t->buf + t->pos, t->end - t->pos);
		t->end -= t->pos;
		t->pos = 0;
	}
	if (t->eof)
		return false;
	n = fread(t->buf + t->end, 1, BUFSZ - t->end, t->f);
	if (n == 0) {
		if (ferror(t->f)) {
			qs_errf(err, t->line + 1, 0, "read error: %s",
				strerror(errno));
			return false;
		}
		t->eof = true;
	}
	t->end += n;
	t->consumed += n;
	if (t->progress)
		t->progress(t->ud, t->consumed, t->total, t->rows);
	return true;
}

/* The next line, without its end; false at the end of input or on error
 * (err->msg non-empty). */
static bool next_line(qs_trace *t, char **line, size_t *len, qs_err *err)
{
	for (;;) {
		char *s = t->buf + t->pos;
		char *nl = memchr(s, '\n', t->end - t->pos);

		if (nl) {
			*line = s;
			*len = (size_t)(nl - s);
			t->pos += *len + 1;
			break;
		}
		if (t->eof && t->pos < t->end) { /* last line, no newline */
			*line = s;
			*len = t->end - t->pos;
			t->pos = t->end;
			break;
		}
		if (t->end - t->pos >= BUFSZ) {
			qs_errf(err, t->line + 1, 1,
				"line longer than %u bytes", BUFSZ);
			return false;
		}
		if (!refill(t, err))
			return false;
	}
	t->line++;
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	{
		const char *z = memchr(*line, 0, *len);

		if (z) {
			qs_errf(err, t->line, (int64_t)(z - *line) + 1,
				"NUL byte in the trace");
			return false;
		}
	}
	return true;
}

/* Split a CSV line (RFC 4180 quoting; a quoted field may not span
 * lines). */
static int split(qs_trace *t, char *s, size_t len, field *f, int max,
		 qs_err *err)
{
	size_t i = 0;
	int n = 0;
	char *o = t->scratch;

	for (;;) {
		if (n == max) {
			qs_errf(err, t->line, (int64_t)i + 1,
				"more than %d fields", max);
			return -1;
		}
		f[n].col = (int64_t)i + 1;
		if (i < len && s[i] == '"') {
			size_t start = i++;

			f[n].col++; /* the text starts after the quote */
			f[n].s = o;
			for (;;) {
				if (i >= len) {
					qs_errf(err, t->line,
						(int64_t)start + 1,
						"unterminated quoted field (a "
						"field may not span lines)");
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						*o++ = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				*o++ = s[i++];
			}
			f[n].n = (size_t)(o - f[n].s);
			if (i < len && s[i] != ',') {
				qs_errf(err, t->line, (int64_t)i + 1,
					"text after a closing quote");
				return -1;
			}
		} else {
			char *c = memchr(s + i, ',', len - i);
			size_t e = c ? (size_t)(c - s) : len;

			f[n].s = s + i;
			f[n].n = e - i;
			if (memchr(f[n].s, '"', f[n].n)) {
				qs_errf(err, t->line,
					(int64_t)((char *)memchr(f[n].s, '"',
								 f[n].n) -
						  s) + 1,
					"quote inside an unquoted field");
				return -1;
			}
			i = e;
		}
		n++;
		if (i >= len)
			return n;
		i++; /* the comma */
	}
}

qs_trace *qs_trace_open(const char *file, qs_err *err)
{
	qs_trace *t = qs_alloc(sizeof *t);
	field f[MAXCOL];
	char *line;
	size_t len;
	int n, i, k;
	struct stat st;

	memset(err, 0, sizeof *err);
	err->file = file;
	t->file = qs_strndup(file, strlen(file));
	if (strcmp(file, "-") == 0) {
		t->f = stdin;
		err->file = "(stdin)";
	} else if (!(t->f = fopen(file, "rb"))) {
		qs_errf(err, 0, 0, "cannot open: %s", strerror(errno));
		goto fail;
	} else
		t->own = true;
	if (fstat(fileno(t->f), &st) == 0 && S_ISREG(st.st_mode))
		t->total = (uint64_t)st.st_size;
	t->buf = qs_alloc(BUFSZ + 1);
	t->scratch = qs_alloc(BUFSZ + 1);
	for (i = 0; i < NC; i++)
		t->where[i] = -1;
	do {
		if (!next_line(t, &line, &len, err)) {
			if (!err->msg[0])
				qs_errf(err, t->line + 1, 1,
					"empty trace: it starts with a header "
					"row such as time,account,category,"
					"units");
			goto fail;
		}
	} while (len == 0);
	if (t->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
		line += 3; /* a byte order mark */
		len -= 3;
	}
	if ((n = split(t, line, len, f, MAXCOL, err)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		for (k = 0; k < NC; k++)
			if (f[i].n == strlen(colname[k]) &&
			    !memcmp(f[i].s, colname[k], f[i].n))
				break;
		if (k == NC) {
			qs_errf(err, t->line, f[i].col,
				"unknown column '%.*s' (time, account, "
				"category, units or text, key, status)",
				(int)f[i].n, f[i].s);
			goto fail;
		}
		if (t->where[k] >= 0) {
			qs_errf(err, t->line, f[i].col, "column '%s' twice",
				colname[k]);
			goto fail;
		}
		t->where[k] = i;
		t->col[i] = k;
	}
	t->ncol = n;
	for (k = 0; k < C_UNITS; k++)
		if (t->where[k] < 0) {
			qs_errf(err, t->line, 1, "the header has no '%s' column",
				colname[k]);
			goto fail;
		}
	if ((t->where[C_UNITS] < 0) == (t->where[C_TEXT] < 0)) {
		qs_errf(err, t->line, 1,
			"the header needs either a 'units' or a 'text' column, "
			"not %s", t->where[C_UNITS] < 0 ? "neither" : "both");
		goto fail;
	}
	return t;
fail:
	qs_trace_close(t);
	return NULL;
}

void qs_trace_progress(qs_trace *t, qs_progress_fn fn, void *ud)
{
	t->progress = fn;
	t->ud = ud;
}

const char *qs_trace_file(const qs_trace *t)
{
	return strcmp(t->file, "-") == 0 ? "(stdin)" : t->file;
}

int qs_trace_next(qs_trace *t, qs_row *r, qs_err *err)
{
	field f[MAXCOL];
	char *line;
	size_t len, col;
	const char *why;
	int n, i;

	do {
		if (!next_line(t, &line, &len, err))
			return err->msg[0] ? -1 : 0;
	} while (len == 0);
	if ((n = split(t, line, len, f, MAXCOL, err)) < 0)
		return -1;
	if (n != t->ncol) {
		qs_errf(err, t->line, n > t->ncol ? f[t->ncol].col
						  : (int64_t)len + 1,
			"%d fields, the header has %d", n, t->ncol);
		return -1;
	}
	memset(r, 0, sizeof *r);
	r->line = t->line;
	t->rows++;
	i = t->where[C_TIME];
	if (!qs_time_parse(f[i].s, f[i].n, &r->at, &col, &why)) {
		qs_errf(err, t->line, f[i].col + (int64_t)col, "time '%.*s': %s",
			(int)f[i].n, f[i].s, why);
		return -1;
	}
	if (r->at >= QS_TIME_END) {
		qs_errf(err, t->line, f[i].col, "time '%.*s': %s",
			(int)f[i].n, f[i].s, QS_TIME_END_WHY);
		return -1;
	}
	i = t->where[C_ACCOUNT];
	r->account = f[i].s;
	r->account_len = f[i].n;
	r->col_account = f[i].col;
	if (f[i].n == 0 || f[i].n > QUOTA_ID_MAX) {
		qs_errf(err, t->line, f[i].col,
			"account id must be 1 to %d bytes", QUOTA_ID_MAX);
		return -1;
	}
	if (f[i].n == 1 && f[i].s[0] == '*') {
		qs_errf(err, t->line, f[i].col,
			"account id '*' is reserved (the totals' row of the "
			"CSV output; a plan's template)");
		return -1;
	}
	i = t->where[C_CATEGORY];
	r->category = f[i].s;
	r->category_len = f[i].n;
	r->col_category = f[i].col;
	if ((i = t->where[C_UNITS]) >= 0) {
		r->col_units = f[i].col;
		if (!qs_int_parse(f[i].s, f[i].n, QS_UNITS_MAX, &r->units) ||
		    r->units == 0) {
			size_t k = 0;
			bool nz = false;

			for (; k < f[i].n && f[i].s[k] >= '0' &&
			       f[i].s[k] <= '9'; k++)
				nz |= f[i].s[k] != '0';
			qs_errf(err, t->line, f[i].col, "units '%.*s': %s",
				(int)f[i].n, f[i].s,
				k == f[i].n && nz
					? "more than 10^15, the most a row "
					  "may hold"
					: "not a whole number above 0");
			return -1;
		}
	} else {
		i = t->where[C_TEXT];
		r->units = -1;
		r->text = f[i].s;
		r->text_len = f[i].n;
		r->col_units = f[i].col;
	}
	if ((i = t->where[C_KEY]) >= 0) {
		r->key = f[i].s;
		r->key_len = f[i].n;
		if (f[i].n > QUOTA_KEY_MAX) {
			qs_errf(err, t->line, f[i].col,
				"key longer than %d bytes", QUOTA_KEY_MAX);
			return -1;
		}
	}
	if ((i = t->where[C_STATUS]) >= 0) {
		if (f[i].n == 0)
			r->status = QS_STATUS_NONE;
		else if (f[i].n == 9 && !memcmp(f[i].s, "delivered", 9))
			r->status = QS_STATUS_DELIVERED;
		else if (f[i].n == 6 && !memcmp(f[i].s, "failed", 6))
			r->status = QS_STATUS_FAILED;
		else {
			qs_errf(err, t->line, f[i].col,
				"status '%.*s' is not delivered, failed or "
				"empty", (int)f[i].n, f[i].s);
			return -1;
		}
	}
	return 1;
}

void qs_trace_close(qs_trace *t)
{
	if (!t)
		return;
	if (t->own && t->f)
		fclose(t->f);
	free(t->buf);
	free(t->scratch);
	free(t->file);
	free(t);
}
