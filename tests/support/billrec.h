/*
 * billrec.h - copies of the bills quota_settle hands out (R17), for
 * settlement tests: pass keep_bill and a billrec as quota_settle's
 * callback and ud.  MAXB bills of MAXL lines each (32 and 8 unless the
 * test defines them first).  Include after <check.h> and "quota.h".
 */
#ifndef QUOTA_BILLREC_H
#define QUOTA_BILLREC_H

#include <string.h>

#ifndef MAXB
#define MAXB 32
#endif
#ifndef MAXL
#define MAXL 8
#endif

/* The bills' copies (their lines are borrowed for the call only). */
typedef struct billrec {
	int n;
	int rc; /* what the callback returns */
	quota_bill b[MAXB];
	quota_bill_line l[MAXB][MAXL];
} billrec;

static inline int keep_bill(const quota_bill *b, void *ud)
{
	billrec *r = ud;

	ck_assert_int_lt(r->n, MAXB);
	ck_assert_uint_le(b->nlines, MAXL);
	r->b[r->n] = *b;
	memcpy(r->l[r->n], b->lines, b->nlines * sizeof *b->lines);
	r->b[r->n].lines = r->l[r->n];
	r->n++;
	return r->rc;
}

#endif /* QUOTA_BILLREC_H */
