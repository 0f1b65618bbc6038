/*
 * late.c - the figures kept in time order whatever order the trace's
 * rows come in: the package units left at each month's end (the
 * burn-down of `run`) and the chart's points (--svg).
 *
 * Both are taken from the library's state as time moves on: a month's
 * figures when a row of a later month comes, a chart point at the first
 * row of a day (and at each purchase).  A late row (one dated before a
 * month already closed, or before a point already taken) changes what
 * those figures should have held: what it took from each package, and
 * the money it cost, are added to every month that ends after it and to
 * every point after it.  A point stands for the state just before its
 * time; a late row adds no point of its own (the points stay in time
 * order) and shows from the next point on.
 */
#include "qsim.h"

#include <stdlib.h>
#include <string.h>

void qs_point(qs_sim *s, qs_acct *a, int64_t at)
{
	qs_sample *x;
	uint32_t n, i;

	if (!s->samples)
		return;
	n = quota_account_package_count(a->a);
	a->samples = qs_grow(a->samples, &a->csamples, a->nsamples + 1,
			     sizeof *a->samples);
	x = &a->samples[a->nsamples++];
	x->at = at;
	x->cost = a->cum;
	x->npk = n;
	x->left = qs_alloc((n ? n : 1) * sizeof *x->left);
	for (i = 0; i < n; i++)
		x->left[i] = quota_package_remaining(
			quota_account_package_at(a->a, i));
}

void qs_month_initial(const qs_acct *a, qs_month *m)
{
	uint32_t n = (uint32_t)a->def->npkgs, i;

	free(m->left);
	m->left = qs_alloc((n ? n : 1) * sizeof *m->left);
	for (i = 0; i < n; i++)
		m->left[i] = a->def->pkgs[i].units;
	m->nleft = n;
}

void qs_late_begin(qs_sim *s, qs_acct *a, int64_t at, int32_t mo,
		   qs_late *l)
{
	uint32_t i;

	l->months = a->nmonths && mo < a->cur;
	l->points = s->samples && a->nsamples &&
		    at < a->samples[a->nsamples - 1].at;
	if (!l->months && !l->points)
		return;
	l->a = a;
	l->at = at;
	l->mo = mo;
	l->cum = a->cum;
	l->npk = quota_account_package_count(a->a);
	s->late_left = qs_grow(s->late_left, &s->clate_left,
			       l->npk ? l->npk : 1, sizeof *s->late_left);
	for (i = 0; i < l->npk; i++)
		s->late_left[i] = quota_package_remaining(
			quota_account_package_at(a->a, i));
}

/* Packages bought during a late row (a renewal its units met, at the
 * row's time) join the figures after it: the n - have new ones at what
 * they hold now (what later rows would have taken from them first is
 * not known here). */
static void late_new(qs_acct *a, int64_t **left, uint32_t have, uint32_t n)
{
	int64_t *p = qs_alloc(n * sizeof *p);
	uint32_t j;

	if (have)
		memcpy(p, *left, have * sizeof *p);
	for (j = have; j < n; j++)
		p[j] = quota_package_remaining(quota_account_package_at(a->a, j));
	free(*left);
	*left = p;
}

void qs_late_end(qs_sim *s, const qs_late *l)
{
	qs_acct *a = l->a;
	int64_t *d = s->late_left, dc;
	uint32_t j, n;
	int32_t m;
	size_t i;

	if (!l->months && !l->points)
		return;
	dc = a->cum - l->cum;
	for (j = 0; j < l->npk; j++) /* <= 0: what the row took */
		d[j] = quota_package_remaining(
			       quota_account_package_at(a->a, j)) - d[j];
	n = quota_account_package_count(a->a);
	for (m = l->months ? l->mo : a->cur; m < a->cur; m++) {
		qs_month *x = &a->months[m - a->base];

		if (x->nleft == UINT32_MAX)
			continue;
		for (j = 0; j < x->nleft && j < l->npk; j++)
			x->left[j] += d[j];
		if (n > l->npk && x->nleft == l->npk) {
			late_new(a, &x->left, x->nleft, n);
			x->nleft = n;
		}
	}
	for (i = a->nsamples; l->points && i-- && a->samples[i].at > l->at;) {
		qs_sample *x = &a->samples[i];

		x->cost += dc;
		for (j = 0; j < x->npk && j < l->npk; j++)
			x->left[j] += d[j];
		if (n > l->npk && x->npk == l->npk) {
			late_new(a, &x->left, x->npk, n);
			x->npk = n;
		}
	}
}
