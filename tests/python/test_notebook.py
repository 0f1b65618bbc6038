"""The notebook example (python/examples/month_and_plans.py): a month of
traffic under four plans, its figures checked against prices worked out
here by hand, independently of the library."""

import contextlib
import importlib.util
import io
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.environ.get("LIBQUOTA_EXAMPLE", os.path.join(
    HERE, "..", "..", "python", "examples", "month_and_plans.py"))


def load():
    spec = importlib.util.spec_from_file_location("month_and_plans", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def graduated(tiers, before, units):
    """Price of positions (before, before + units] over (up_to, price) tiers."""
    cost, lo = 0, 0
    for up_to, price in tiers:
        a, b = max(before, lo), min(before + units, up_to)
        if b > a:
            cost += (b - a) * price
        lo = up_to
    return cost


def round_half_up(micros, minor=10_000):
    return (micros + minor // 2) // minor * minor


class Notebook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ex = load()
        cls.traffic = cls.ex.month_of_traffic()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cls.rows = {r["plan"]: r for r in cls.ex.main()}
        cls.printed = out.getvalue()
        cls.n = sum(n for _, n in cls.traffic)

    def test_traffic(self):
        self.assertEqual(len(self.traffic), 31 * 24)
        self.assertGreater(self.n, 20_000)
        self.assertTrue(all(r["units"] == self.n for r in self.rows.values()))

    def test_graduated_daily_bills(self):
        tiers = self.ex.PLANS["graduated"]["tiers"]
        per_day, before, want = {}, 0, 0
        for t, n in self.traffic:
            per_day[t.date()] = per_day.get(t.date(), 0) + graduated(tiers, before, n)
            before += n
        want = sum(round_half_up(c) for c in per_day.values())
        r = self.rows["graduated"]
        self.assertEqual((r["billed"], r["purchased"], r["bills"]), (want, 0, 31))
        self.assertEqual(r["payg"], self.n)

    def test_volume(self):
        # R14: every unit of the month at the tier the month's volume reaches
        r = self.rows["volume"]
        price = 50_000 if self.n <= 20_000 else 30_000
        self.assertEqual(r["total"], self.n * price)

    def test_bundle(self):
        r = self.rows["bundle-25k"]
        over = max(0, self.n - 25_000)
        self.assertEqual((r["package"], r["payg"]), (self.n - over, over))
        self.assertEqual(r["purchased"], 1_000 * self.ex.USD)
        self.assertEqual(r["billed"], over * 50_000)

    def test_free_allowance(self):
        r = self.rows["free-2k"]
        self.assertEqual((r["free"], r["payg"]), (2_000, self.n - 2_000))
        self.assertEqual(r["total"], (self.n - 2_000) * 50_000)

    def test_comparison(self):
        totals = sorted(self.rows.values(), key=lambda r: r["total"])
        self.assertIn("cheapest: %s" % totals[0]["plan"], self.printed)
        self.assertEqual(totals[0]["plan"], "volume")


if __name__ == "__main__":
    unittest.main()
