#!/bin/sh
# check-quota-sim-brute.sh QUOTA_SIM TMPDIR
#
# recommend against brute force: every schedule of purchases at the
# starts of the three months of examples/plans/recommend/small.csv (0, 1
# or 2 of the 3-month offer "big", 0, 500 or 1000 units of "bulk", at each
# month: 3^6 = 729 schedules) is written as a plan and replayed with
# `quota-sim run`, row by row; the cheapest must cost what `recommend`
# says, with and without its pruning (--exhaustive).  Needs python3
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
import itertools, json, re, subprocess, sys
q, plan, trace, d = sys.argv[1:5]
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
    out = subprocess.run([q, 'run', '--json', p, trace], check=True,
                         capture_output=True, text=True).stdout
    spent = json.loads(out)['totals']['spent']
    micros = round(float(spent) * 1e6)
    n += 1
    if best is None or micros < best[0]:
        best = (micros, spent, lines)
for flag in ([], ['--exhaustive']):
    out = subprocess.run([q, 'recommend'] + flag + [plan, trace], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r'cheapest: ([0-9.]+)', out)
    got = round(float(m.group(1)) * 1e6)
    if got != best[0]:
        print('check-quota-sim-brute: FAIL recommend %s says %s, brute force '
              'found %s with %s' % (' '.join(flag), m.group(1), best[1],
                                     best[2]))
        sys.exit(1)
print('check-quota-sim-brute: PASS (%d schedules, cheapest %s: %s)'
      % (n, best[1], '; '.join(s.strip() for s in best[2])))
PY
