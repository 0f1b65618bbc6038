/*
 * billbook.h - copies of the bills quota_settle hands out (R17), for the
 * billing tests (check_billing.c: the property test,
 * check_billing_providers.c: the providers' scenarios): pass keep_bill
 * and a billbook as quota_settle's callback and ud.  MAXBILLS bills of
 * MAXLINES lines each.  (billrec.h is the settlement tests' smaller
 * kind, whose callback can answer other than 0.)  Include after
 * <check.h> and "quota.h".
 */
#ifndef QUOTA_TEST_BILLBOOK_H
#define QUOTA_TEST_BILLBOOK_H

#define MAXBILLS 4096
#define MAXLINES 16

typedef struct billbook {
	int n;
	quota_bill bill[MAXBILLS];
	quota_bill_line line[MAXBILLS][MAXLINES];
} billbook;

static inline int keep_bill(const quota_bill *b, void *ud)
{
	billbook *bk = ud;
	uint32_t i;

	ck_assert_int_lt(bk->n, MAXBILLS);
	ck_assert_uint_le(b->nlines, MAXLINES);
	bk->bill[bk->n] = *b;
	for (i = 0; i < b->nlines; i++)
		bk->line[bk->n][i] = b->lines[i];
	bk->bill[bk->n].lines = bk->line[bk->n];
	bk->n++;
	return 0;
}

#endif /* QUOTA_TEST_BILLBOOK_H */
