"""A month of SMS traffic priced under four plans, as one would explore it
in a notebook: which plan is cheapest for this customer?

    LIBQUOTA_PATH=build/libquota.so.0 python3 python/examples/month_and_plans.py

Each plan runs the same traffic (May 2024, hourly, a seeded generator) on
its own context with the same engine a gateway runs: charges, the
month's settlement (daily bills, rounded to the cent, R17) and package
purchases from the catalog (R19).
"""

import datetime as dt
import random

import libquota as q

MAY = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
JUNE = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
USD = 1_000_000  # micros


def month_of_traffic(seed=2024):
    """(time, messages) per hour of May 2024: busy weekdays, quiet nights
    and weekends."""
    rnd = random.Random(seed)
    out = []
    t = MAY
    while t < JUNE:
        weekday = t.weekday() < 5
        base = 70 if weekday and 8 <= t.hour < 20 else 12
        out.append((t, max(0, int(rnd.gauss(base, base / 4)))))
        t += dt.timedelta(hours=1)
    return out


# The plans: a tariff (tiers, mode, free allowance) and, maybe, a bundle
# bought from the catalog on the 1st.
PLANS = {
    "graduated": dict(tiers=[(10_000, 50_000), (30_000, 45_000),
                             (q.QUOTA_UNLIMITED, 40_000)]),
    "volume": dict(tiers=[(20_000, 50_000), (q.QUOTA_UNLIMITED, 30_000)],
                   mode=q.QUOTA_VOLUME),
    "bundle-25k": dict(tiers=[(q.QUOTA_UNLIMITED, 50_000)],
                       bundle=dict(units=25_000, price_micros=1_000 * USD)),
    "free-2k": dict(tiers=[(q.QUOTA_UNLIMITED, 50_000)],
                    free=(2_000, q.QUOTA_PERIOD_MONTH)),
}


def run_plan(name, plan, traffic):
    """Meter the traffic under one plan; a dict of what it cost."""
    with q.Context() as ctx:
        sms = ctx.category_add("sms")
        tariff = ctx.tariff_new(name, tiers=plan["tiers"],
                                mode=plan.get("mode"), free=plan.get("free"))
        acct = ctx.account_new("customer")
        acct.set_tariff(sms, tariff)
        acct.set_credit_limit(100_000 * USD)  # bills never suspend it here
        if "bundle" in plan:
            offer = ctx.offer_add("bundle", [sms], valid_months=1, **plan["bundle"])
            acct.topup(plan["bundle"]["price_micros"], MAY)
            acct.package_buy(offer, at=MAY)
        got = dict(free=0, package=0, payg=0)
        for t, n in traffic:
            if n:
                r = acct.charge(sms, n, t)
                got["free"] += r.free_units
                got["package"] += r.package_units
                got["payg"] += r.payg_units
        bills = []
        acct.settle(JUNE, bills.append)
        money = acct.money()
        return dict(plan=name, units=sum(got.values()), **got,
                    bills=len(bills), purchased=money.purchased_micros,
                    billed=money.billed_micros,
                    total=money.purchased_micros + money.billed_micros)


def compare(traffic, plans=PLANS):
    """One row per plan, cheapest first."""
    rows = [run_plan(name, plan, traffic) for name, plan in plans.items()]
    return sorted(rows, key=lambda r: r["total"])


def main():
    traffic = month_of_traffic()
    print("May 2024: %d messages in %d hours" % (sum(n for _, n in traffic),
                                                 len(traffic)))
    print("%-11s %7s %7s %7s %7s %5s %10s" % ("plan", "free", "package",
                                               "payg", "units", "bills",
                                               "cost USD"))
    rows = compare(traffic)
    for r in rows:
        print("%-11s %7d %7d %7d %7d %5d %10.2f" % (
            r["plan"], r["free"], r["package"], r["payg"], r["units"],
            r["bills"], r["total"] / USD))
    print("cheapest: %s" % rows[0]["plan"])
    return rows


if __name__ == "__main__":
    main()
