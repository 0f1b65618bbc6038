#!/bin/sh
# check-quota-sim-brute.sh QUOTA_SIM TMPDIR
#
# recommend against brute force (quota-sim(1), RECOMMEND), schedules
# replayed with `quota-sim run`, never with the search's own code:
#
#   - examples/plans/recommend/small.csv: every schedule of purchases at
#     the starts of its three months (0, 1 or 2 of the 3-month offer
#     "big", 0, 500 or 1000 units of "bulk", at each month: 3^6 = 729);
#   - small random cases (fixed seeds) of several shapes, among them the
#     UCloud sample's: two categories each with an offer priced by
#     quantity in volume tiers (min 100, step 100, valid 12 months; in
#     some the next tier so cheap that buying more than the demand pays),
#     pay-as-you-go at one price, the plan's own purchase with a
#     voucher (left out by recommend, so left out here too); fixed offers
#     valid a month or two; an offer covering two categories; graduated
#     pay-as-you-go tiers whose price falls; a free allowance; a package
#     the account owns, of an offer's kind, valid past the trace.  Every
#     schedule is enumerated: at each month of the traffic, each offer
#     from none up to the least allowed quantity covering all the trace's
#     demand of its categories, plus the least quantity of each higher
#     volume tier, a superset of the search's candidates; each schedule is
#     an account of one plan, replayed at once.
#
# QUOTA_SIM_BRUTE_SEEDS=N tries N seeds of each shape (default 3; 2N of
# the UCloud one).
#
# The cheapest must cost what `recommend` says, with its pruning, its
# merging and grouping, and without any (--exhaustive); the schedule it
# prints, replayed with `run`, must cost that too.  Needs python3
# (skipped, saying so, without it).
set -u
q=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd) || exit 2
src=$here/../examples/plans/recommend
if ! command -v python3 >/dev/null 2>&1; then
	echo "check-quota-sim-brute: SKIP (no python3)"
	exit 0
fi
mkdir -p "$dir" || exit 2
python3 - "$q" "$src/small.plan" "$src/small.csv" "$dir" <<'PY'
import itertools, json, os, random, subprocess, sys
from decimal import Decimal

q, plan, trace, d = sys.argv[1:5]


def micros(s):
    return int(Decimal(s) * 1000000)


def sh(args):
    r = subprocess.run([q] + args, capture_output=True, text=True)
    if r.returncode:
        print('check-quota-sim-brute: FAIL quota-sim %s exited %d: %s'
              % (' '.join(args), r.returncode, r.stderr.strip()))
        sys.exit(1)
    return r.stdout


def recommend(plan, trace):
    """cheapest (micros) with pruning, without, and the schedule printed"""
    got = []
    sched = None
    for flag in ([], ['--exhaustive']):
        j = json.loads(sh(['recommend', '--json'] + flag + [plan, trace]))
        got.append(micros(j['total']['cheapest']))
        if not flag:
            sched = [(a['id'], p) for a in j['accounts']
                     for p in a['purchases']]
    return got, sched


# ---------------------------------------------------- the fixed small case
base = open(plan).read()
months = ['2024-01-01', '2024-02-01', '2024-03-01']
best = None
n = 0
for choice in itertools.product(range(3), repeat=6):
    lines = []
    for i, m in enumerate(months):
        big, bulk = choice[2 * i], choice[2 * i + 1]
        if big:
            lines.append('  buy big at %s quantity %d' % (m, big))
        if bulk:
            lines.append('  buy bulk at %s quantity %d' % (m, 500 * bulk))
    p = '%s/s.plan' % d
    open(p, 'w').write(base + '\n'.join(lines) + '\n')
    out = sh(['run', '--json', p, trace])
    spent = json.loads(out)['totals']['spent']
    n += 1
    if best is None or micros(spent) < best[0]:
        best = (micros(spent), spent, lines)
(got, gotx), _ = recommend(plan, trace)
for g, flag in ((got, ''), (gotx, ' --exhaustive')):
    if g != best[0]:
        print('check-quota-sim-brute: FAIL recommend%s says %s, brute force '
              'found %s with %s' % (flag, Decimal(g) / 1000000, best[1],
                                    best[2]))
        sys.exit(1)
print('check-quota-sim-brute: PASS small.plan (%d schedules, cheapest %s: %s)'
      % (n, best[1], '; '.join(s.strip() for s in best[2])))

# ------------------------------------------------------ random small cases
# A case: categories, tariffs, offers (id, cats, kind, ...), the account's
# settings, and its trace rows (local month index, day, hour, cat, units).


def shape(rnd, kind, seed):
    c = {'off': '+08:00', 'settle': 'daily', 'extra': [], 'free': ''}
    if kind == 'ucloud':
        c['cats'] = ['sms.verify', 'sms.marketing']
        c['payg'] = {'sms.verify': ('graduated', [('rest', '0.05')]),
                     'sms.marketing': ('graduated', [('rest', '0.05')])}
        # even seeds: the next tier so cheap that 300 units for a demand
        # under 200 pay
        c['price'] = ('volume', [('199', '0.044'), ('rest', '0.040')]) \
            if seed % 2 else ('volume', [('299', '0.048'), ('rest', '0.030')])
        c['offers'] = [
            ('verify-custom', ['sms.verify'], 'by', 100, 100, 0, '12 months'),
            ('marketing-custom', ['sms.marketing'], 'by', 100, 100, 0,
             '12 months')]
        c['extra'] = ['  balance 100',
                      '  buy verify-custom at 2024-01-01T00:00:00+08:00 '
                      'quantity 100 voucher amount 1 min-spend 2']
        c['months'] = 3
        c['demand'] = (25, 65) if seed % 2 else (55, 65)
    elif kind == 'fixed':
        c['cats'] = ['email']
        c['off'] = '+00:00'
        c['payg'] = {'email': ('graduated', [('rest', '0.001')])}
        c['offers'] = [
            ('m1', ['email'], 'fixed', 100, '0.08', 0, '1 month'),
            ('m2', ['email'], 'fixed', 250, '0.19', 0, '2 months')]
        c['months'] = 3
        c['demand'] = (20, 140)
    elif kind == 'shared':
        # one offer covering both categories links them: no grouping
        c['cats'] = ['sms.verify', 'sms.notify']
        c['payg'] = {'sms.verify': ('graduated', [('rest', '0.045')]),
                     'sms.notify': ('graduated', [('rest', '0.045')])}
        c['offers'] = [
            ('industry', ['sms.verify', 'sms.notify'], 'fixed', 100, '4.00',
             0, '12 months'),
            ('verify', ['sms.verify'], 'fixed', 50, '2.10', 0, '1 month')]
        c['settle'] = 'hourly'
        c['months'] = 3
        c['demand'] = (5, 50)
    elif kind == 'owned':
        # an owned package of the offer's kind, valid past the trace
        # (one class with the purchases), paid for: it is in every cost
        c['cats'] = ['email']
        c['off'] = '+00:00'
        c['payg'] = {'email': ('graduated', [('rest', '0.01')])}
        c['offers'] = [('year', ['email'], 'fixed', 100, '0.80', 0,
                        '12 months')]
        c['pkgs'] = ['  package gift covers email units 30 from '
                     '2024-01-15T00:00:00+00:00 until 2025-06-01T00:00:00+00:00 '
                     'price 0.20']
        c['months'] = 3
        c['demand'] = (20, 80)
    else:  # 'tiers': graduated pay-as-you-go whose price falls, free units
        c['cats'] = ['email']
        c['payg'] = {'email': ('graduated', [('60', '0.002'),
                                             ('rest', '0.0013')])}
        c['free'] = '  free 10 month'
        c['price'] = ('graduated', [('150', '0.0014'), ('rest', '0.0011')])
        c['offers'] = [
            ('bulk', ['email'], 'by', 50, 50, 300, '12 months'),
            ('month', ['email'], 'fixed', 100, '0.15', 0, '1 month')]
        c['months'] = 3
        c['demand'] = (15, 60)
    rows = []
    for m in range(c['months']):
        for cat in c['cats']:
            left = rnd.randint(*c['demand'])
            while left > 0:
                u = min(left, rnd.randint(1, 25))
                rows.append((m, rnd.randint(1, 28), rnd.randint(0, 23), cat,
                             u))
                left -= u
    rows.sort()
    c['rows'] = rows
    return c


def plan_text(c, accounts):
    t = ['quota-plan 1', 'currency CNY', 'category ' + ' '.join(c['cats'])]
    for cat in c['cats']:
        mode, tiers = c['payg'][cat]
        t.append('tariff payg-%s' % cat.replace('.', '-'))
        t.append('  mode ' + mode)
        t += ['  tier %s %s' % x for x in tiers]
        if c['free']:
            t.append(c['free'])
    if 'price' in c:
        t.append('tariff by-quantity')
        t.append('  mode ' + c['price'][0])
        t += ['  tier %s %s' % x for x in c['price'][1]]
    for (oid, cats, kind, a, b, mx, valid) in c['offers']:
        t.append('offer ' + oid)
        t.append('  covers ' + ','.join(cats))
        if kind == 'fixed':
            t.append('  units %d price %s' % (a, b))
        else:
            t.append('  priced-by by-quantity min %d step %d%s'
                     % (a, b, ' max %d' % mx if mx else ''))
        t.append('  valid ' + valid)
    for name, buys, own in accounts:
        t.append('account ' + name)
        t.append('  utc-offset ' + c['off'])
        for cat in c['cats']:
            t.append('  tariff %s payg-%s' % (cat, cat.replace('.', '-')))
        t.append('  settle ' + c['settle'])
        t += c.get('pkgs', [])
        if own:
            t += c['extra']
        t += buys
    return '\n'.join(t) + '\n'


def month_start(c, m):
    return '2024-%02d-01T00:00:00%s' % (m + 1, c['off'])


def trace_text(c, names):
    t = ['time,account,category,units']
    for (m, day, hour, cat, u) in c['rows']:
        for name in names:
            t.append('2024-%02d-%02dT%02d:00:00%s,%s,%s,%d'
                     % (m + 1, day, hour, c['off'], name, cat, u))
    return '\n'.join(t) + '\n'


def choices(c, offer):
    """every quantity worth trying at a month (a superset of the search's)"""
    oid, cats, kind, a, b, mx, valid = offer
    w = sum(r[4] for r in c['rows'] if r[3] in cats)
    if kind == 'fixed':
        return list(range(0, (w + a - 1) // a + 1))
    qs = [0]
    x = a
    while (not mx or x <= mx):
        qs.append(x)
        if x >= w:
            break
        x += b
    if c['price'][0] == 'volume':
        for up, _ in c['price'][1]:
            if up == 'rest':
                continue
            s = int(up) + 1
            s = a if s <= a else a + (s - a + b - 1) // b * b
            if s > qs[-1] and (not mx or s <= mx):
                qs.append(s)
    return qs


nseeds = int(os.environ.get('QUOTA_SIM_BRUTE_SEEDS', '3'))
cases = [('ucloud', s) for s in range(1, 2 * nseeds + 1)] + \
        [(k, s) for k in ('fixed', 'shared', 'tiers', 'owned')
         for s in range(1, nseeds + 1)]
total = 0
for kind, seed in cases:
    c = shape(random.Random(seed * 7919 + len(kind)), kind, seed)
    slots = sorted({r[0] for r in c['rows']})
    slots = list(range(slots[0], slots[-1] + 1))
    per = [(o, qq) for o in c['offers'] for qq in [choices(c, o)]]
    axes = [(m, o, qq) for m in slots for (o, qq) in per]
    accounts = []
    for i, pick in enumerate(itertools.product(*[qq for (_, _, qq) in axes])):
        buys = ['  buy %s at %s quantity %d' % (o[0], month_start(c, m), x)
                for (m, o, _), x in zip(axes, pick) if x]
        accounts.append(('s%d' % i, buys, False))
    p, t = '%s/b.plan' % d, '%s/b.csv' % d
    open(p, 'w').write(plan_text(c, accounts))
    open(t, 'w').write(trace_text(c, [a[0] for a in accounts]))
    j = json.loads(sh(['run', '--json', p, t]))
    spent = {a['id']: micros(a['totals']['spent']) for a in j['accounts']}
    bi = min(range(len(accounts)), key=lambda i: (spent['s%d' % i], i))
    bcost = spent['s%d' % bi]
    # the case as a plan of one account, with its own purchase and voucher
    p1, t1 = '%s/c.plan' % d, '%s/c.csv' % d
    open(p1, 'w').write(plan_text(c, [('a', [], True)]))
    open(t1, 'w').write(trace_text(c, ['a']))
    (got, gotx), sched = recommend(p1, t1)
    # its schedule replayed
    buys = ['  buy %s at %s quantity %d' % (x['offer'], x['at'], x['quantity'])
            for _, x in sched]
    open(p, 'w').write(plan_text(c, [('a', buys, False)]))
    replay = micros(json.loads(sh(['run', '--json', p, t1]))['accounts'][0]
                    ['totals']['spent'])
    name = '%s seed %d' % (kind, seed)
    if got != bcost or gotx != bcost or replay != bcost:
        print('check-quota-sim-brute: FAIL %s: recommend %s, --exhaustive '
              '%s, its schedule replayed %s; brute force %s with %s'
              % (name, Decimal(got) / 1000000, Decimal(gotx) / 1000000,
                 Decimal(replay) / 1000000, Decimal(bcost) / 1000000,
                 '; '.join(s.strip() for s in accounts[bi][1]) or 'nothing'))
        open('%s/failed.plan' % d, 'w').write(plan_text(c, [('a', [], True)]))
        sys.exit(1)
    total += len(accounts)
    print('check-quota-sim-brute: PASS %s (%d schedules, cheapest %s: %s)'
          % (name, len(accounts), Decimal(bcost) / 1000000,
             '; '.join(s.strip() for s in accounts[bi][1]) or 'nothing'))
print('check-quota-sim-brute: PASS (%d random cases, %d schedules)'
      % (len(cases), total))
PY
