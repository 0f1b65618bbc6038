"""The libquota module against the built library: every area of the API
(tests/check-python.sh runs it with the module as pip installed it)."""

import ctypes
import gc
import os
import tempfile
import unittest
import weakref

import libquota as q

DAY = 86400
T0 = 1714521600          # 2024-05-01T00:00:00Z
NOW = T0 + 5 * DAY + 3600  # 2024-05-06T01:00:00Z


def world(ctx):
    """One category, a two-tier tariff and an account using it."""
    sms = ctx.category_add("sms")
    std = ctx.tariff_new("std", tiers=[(100, 50000), (q.QUOTA_UNLIMITED, 40000)])
    a = ctx.account_new("acme")
    a.set_tariff(sms, std)
    return sms, std, a


class Installed(unittest.TestCase):
    def test_imported_from_the_install(self):
        site = os.environ.get("LIBQUOTA_TEST_SITE")
        if not site:
            self.skipTest("LIBQUOTA_TEST_SITE not set (not run by check-python.sh)")
        self.assertTrue(os.path.realpath(q.__file__).startswith(
            os.path.realpath(site)), q.__file__)


class Errors(unittest.TestCase):
    def test_hierarchy(self):
        self.assertEqual(len(q.ERRORS), 24)
        for code, cls in q.ERRORS.items():
            self.assertTrue(issubclass(cls, q.QuotaError))
            self.assertEqual(cls.code, code)
            self.assertEqual(cls.name, q.err_name(code))
            self.assertEqual(getattr(q, cls.name), code)
        self.assertTrue(issubclass(q.InvalidArgument, ValueError))
        self.assertTrue(issubclass(q.NotFound, LookupError))
        self.assertTrue(issubclass(q.OutOfMemory, MemoryError))

    def test_blocked_has_its_class(self):
        # QUOTA_EBLOCKED (R25) is Blocked, as Node's BlockedError
        self.assertIs(q.ERRORS.get(q.QUOTA_EBLOCKED), q.Blocked)
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            a.block("fraud", at=NOW)
            with self.assertRaises(q.Blocked) as cm:
                a.charge(sms, 1, NOW + 1)
            self.assertEqual(cm.exception.name, "QUOTA_EBLOCKED")
            self.assertEqual(a.blocked, ("fraud", NOW))

    def test_instance_carries_name_and_errmsg(self):
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            with self.assertRaises(q.InvalidArgument) as cm:
                a.charge(sms, 0, NOW)
            e = cm.exception
            self.assertEqual((e.code, e.name), (q.QUOTA_EINVAL, "QUOTA_EINVAL"))
            self.assertEqual(e.strerror, "invalid argument")
            self.assertIn("units", e.errmsg)
            self.assertEqual(e.errmsg, ctx.errmsg)
            self.assertTrue(str(e).startswith("QUOTA_EINVAL: "))
            with self.assertRaises(q.NotFound):
                ctx.account_find("nobody")
            # issue 13: many ids at once, None for those not found
            found = ctx.account_find_many(["acme", "nobody", "", "acme"])
            self.assertEqual(found, [a, None, None, a])
            self.assertEqual(ctx.account_find_many([]), [])
            with self.assertRaises(q.InvalidArgument):
                ctx.account_find_many(["acme", None])
            # an id with a NUL character is not cut short at it
            self.assertEqual(ctx.account_find_many(["acme\0x"]), [None])
            with self.assertRaises(q.InvalidArgument):
                ctx.account_find("acme\0x")
            with self.assertRaises(TypeError):
                ctx.account_find_many("acme")
            with self.assertRaises(q.AlreadyExists):
                ctx.account_new("acme")

    def test_unknown_code(self):
        e = q.error(-999)
        self.assertIs(type(e), q.QuotaError)
        self.assertEqual(e.name, "QUOTA_E?")
        self.assertEqual(q.strerror(-999), e.strerror)

    def test_version(self):
        self.assertEqual(q.version(), "%d.%d.%d" % (
            q.QUOTA_VERSION_MAJOR, q.QUOTA_VERSION_MINOR, q.QUOTA_VERSION_PATCH))
        self.assertEqual(q.version_number(), q.QUOTA_VERSION_NUMBER)


class Lifetime(unittest.TestCase):
    def test_close_invalidates_children(self):
        ctx = q.Context()
        sms, std, a = world(ctx)
        p = a.package_add("P1", [sms], 10, T0)
        o = ctx.offer_add("o", [sms], units=5, price_micros=1)
        ctx.close()
        ctx.close()  # twice is fine
        self.assertTrue(ctx.closed)
        for use in (lambda: a.charge(sms, 1, NOW), lambda: p.remaining,
                    lambda: std.add_tier(5, 5), lambda: a.package_buy(o, at=NOW),
                    lambda: ctx.account_new("x")):
            with self.assertRaises(q.ClosedError):
                use()

    def test_with_block(self):
        with q.Context() as ctx:
            _, _, a = world(ctx)
        with self.assertRaises(q.ClosedError):
            a.balance

    def test_freed_when_collected(self):
        alloc = q.Allocator()
        ctx = q.Context(allocator=alloc)
        world(ctx)
        self.assertGreater(alloc.live, 0)
        ref = weakref.ref(ctx)
        ctx.set_event_hook(lambda ev: None)
        ctx.accounts()[0].packages()
        del ctx  # no cycle: freed at once, before any collection
        self.assertIsNone(ref())
        self.assertEqual(alloc.live, 0)
        ctx = q.Context(allocator=alloc)
        ctx.set_event_hook(lambda ev, c=ctx: c)  # a cycle through the hook
        ref = weakref.ref(ctx)
        del ctx
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(alloc.live, 0)

    def test_children_keep_context_alive(self):
        alloc = q.Allocator()
        a = world(q.Context(allocator=alloc))[2]
        gc.collect()
        self.assertEqual(a.id, "acme")
        self.assertIs(a.context(), a.ctx)
        del a
        gc.collect()
        self.assertEqual(alloc.live, 0)

    def test_remove_account(self):
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            b = ctx.account_new("bolt")
            p = a.package_add("P1", [sms], 10, T0)
            self.assertEqual([x.id for x in ctx.accounts()], ["acme", "bolt"])
            a.remove()
            with self.assertRaises(q.ClosedError):
                a.charge(sms, 1, NOW)
            with self.assertRaises(q.ClosedError):
                p.remaining
            self.assertEqual(ctx.account_count(), 1)
            self.assertIs(ctx.account_at(0), b)
            self.assertIsNone(ctx.account_at(1))

    def test_hash_seed(self):
        with q.Context(hash_seed=bytes(range(16))) as ctx:
            world(ctx)
            with self.assertRaises(q.InvalidArgument):
                ctx.set_hash_seed(bytes(16))

    def test_set_error(self):
        with q.Context() as ctx:
            self.assertEqual(ctx.set_error(q.QUOTA_ESTORE, "disk on fire"),
                             q.QUOTA_ESTORE)
            self.assertEqual(ctx.errmsg, "disk on fire")


class Catalogue(unittest.TestCase):
    def test_categories(self):
        with q.Context() as ctx:
            self.assertEqual(ctx.category_add("sms"), 0)
            self.assertEqual(ctx.category_add("email"), 1)
            self.assertEqual(ctx.category_find("email"), 1)
            self.assertEqual(ctx.category_name(1), "email")
            self.assertIsNone(ctx.category_name(7))
            self.assertEqual(ctx.categories(), ["sms", "email"])
            self.assertEqual(ctx.mask("sms", 1), 3)
            self.assertEqual(q.mask(0, 1), 3)
            with self.assertRaises(q.NotFound):
                ctx.category_find("fax")

    def test_tariff(self):
        with q.Context() as ctx:
            t = ctx.tariff_new("t").add_tier(100, 50000).add_tier(
                q.QUOTA_UNLIMITED, 40000)
            self.assertEqual(t.name, "t")
            self.assertIs(ctx.tariff_find("t"), t)
            self.assertEqual(t.price(120), 100 * 50000 + 20 * 40000)
            self.assertEqual(t.price(10, volume_before=95), 5 * 50000 + 5 * 40000)
            t.set_mode(q.QUOTA_VOLUME)
            self.assertEqual(t.price(120), 120 * 40000)
            with self.assertRaises(q.InvalidArgument):
                t.add_tier(50, 1)  # up_to must increase
            with self.assertRaises(q.InvalidArgument):
                t.set_mode(7)

    def test_free_allowance(self):
        with q.Context() as ctx:
            sms = ctx.category_add("sms")
            t = ctx.tariff_new("free", tiers=[(q.QUOTA_UNLIMITED, 10)],
                               free=(100, q.QUOTA_PERIOD_MONTH),
                               free_daily_limit=30)
            a = ctx.account_new("a")
            a.set_tariff("sms", t)
            r = a.charge("sms", 50, NOW)
            self.assertEqual((r.free_units, r.payg_units), (30, 20))
            self.assertEqual(r.lines[0].source, q.QUOTA_SOURCE_FREE)
            self.assertEqual(a.free_used(sms, NOW), 30)
            self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 50)
            self.assertEqual(a.used(q.QUOTA_ALL, q.QUOTA_PERIOD_MONTH, NOW), 50)


class Charging(unittest.TestCase):
    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_charge_and_receipt(self):
        a, sms = self.a, self.sms
        p = a.package_add("P1", [sms], 10, T0, T0 + 365 * DAY, price_micros=7)
        self.assertEqual(p.spec(), q.PackageSpec("P1", 1, 10, T0, T0 + 365 * DAY,
                                                 7, 0, 0))
        self.assertEqual(a.remaining(sms, NOW), 10)
        quote = a.quote("sms", 12, NOW)
        self.assertEqual(p.remaining, 10)
        r = a.charge("sms", 12, NOW)
        self.assertEqual(quote, r)
        self.assertIsInstance(r, q.Receipt)
        self.assertEqual((r.units, r.free_units, r.package_units, r.payg_units,
                          r.payg_cost_micros), (12, 0, 10, 2, 100000))
        self.assertEqual(r.kind, q.QUOTA_RECEIPT_CHARGE)
        self.assertEqual(len(r.lines), 2)
        self.assertEqual(r.lines[0], q.ReceiptLine(q.QUOTA_SOURCE_PACKAGE, 0, "P1",
                                                   p, 10, 0, 0))
        self.assertIs(r.lines[0].package, p)
        self.assertEqual(r.lines[1], q.ReceiptLine(q.QUOTA_SOURCE_PAYG, 0, None,
                                                   None, 2, 50000, 100000))
        self.assertEqual(p.status(NOW), q.QUOTA_PACKAGE_EXHAUSTED)
        later = a.package_add("P2", [sms], 5, NOW + DAY, NOW + 2 * DAY)
        self.assertEqual([later.status(t) for t in (NOW, NOW + DAY, NOW + 2 * DAY)],
                         [q.QUOTA_PACKAGE_PENDING, q.QUOTA_PACKAGE_ACTIVE,
                          q.QUOTA_PACKAGE_EXPIRED])
        self.assertIs(a.package_find("P1"), p)
        self.assertEqual(a.packages(), [p, later])

    def test_datetime_times(self):
        import datetime as dt
        r = self.a.charge(self.sms, 1, dt.datetime(2024, 5, 6, 1, 0))
        self.assertEqual(r.at, NOW)
        r = self.a.charge(self.sms, 1, dt.date(2024, 5, 6))
        self.assertEqual(r.at, T0 + 5 * DAY)

    def test_caps_and_overage(self):
        a, sms = self.a, self.sms
        a.set_cap(sms, q.QUOTA_PERIOD_DAY, 5)
        a.charge(sms, 5, NOW)
        with self.assertRaises(q.CapReached):
            a.charge(sms, 1, NOW)
        a.set_cap(sms, q.QUOTA_PERIOD_DAY, -1)
        a.set_overage(sms, q.QUOTA_OVERAGE_STOP)
        with self.assertRaises(q.Exhausted):
            a.charge(sms, 1, NOW)

    def test_idempotency_and_reverse(self):
        a, sms = self.a, self.sms
        a.set_key_window(1000, 7 * DAY)
        r1 = a.charge(sms, 3, NOW, key="m-1")
        r2 = a.charge(sms, 3, NOW, key="m-1")
        self.assertFalse(r1.replayed)
        self.assertTrue(r2.replayed)
        with self.assertRaises(q.KeyConflict):
            a.charge(sms, 4, NOW, key="m-1")
        rev = a.reverse("m-1", NOW + 10)
        self.assertEqual((rev.kind, rev.units, rev.payg_cost_micros),
                         (q.QUOTA_RECEIPT_REVERSAL, 3, 150000))
        with self.assertRaises(q.AlreadyReversed):
            a.reverse("m-1", NOW + 20)

    def test_holds(self):
        a, sms = self.a, self.sms
        fee = self.ctx.tariff_new("fee", tiers=[(q.QUOTA_UNLIMITED, 50000)],
                                  failure_fee_micros=1000)
        a.set_tariff(sms, fee)
        with self.assertRaises(q.InvalidArgument):  # in use: create a new one
            fee.set_failure_fee(2000)
        r = a.reserve(sms, 4, NOW, 60, key="h-1")
        self.assertEqual(r.kind, q.QUOTA_RECEIPT_RESERVE)
        self.assertGreater(r.hold_id, 0)
        self.assertEqual(a.hold_find("h-1"), r.hold_id)
        self.assertEqual((a.held(sms), a.held(), a.hold_count), (4, 4, 1))
        c = a.commit(r.hold_id, 3)
        self.assertEqual((c.kind, c.units), (q.QUOTA_RECEIPT_COMMIT, 3))
        with self.assertRaises(q.Resolved):
            a.commit(r.hold_id, 1)
        with self.assertRaises(q.Resolved):
            a.hold_find("h-1")
        r2 = a.reserve(sms, 2, NOW, 60)
        rel = a.release(r2.hold_id)
        self.assertEqual((rel.kind, rel.fee_micros), (q.QUOTA_RECEIPT_RELEASE, 2000))
        r3 = a.reserve(sms, 2, NOW, 60)
        self.assertEqual(a.tick(NOW + 59), 0)
        self.assertEqual(a.tick(NOW + 60), 1)
        self.assertEqual(a.hold_count, 0)
        a.reserve(sms, 1, NOW + 100, 10)
        self.assertEqual(self.ctx.tick(NOW + 200), 1)
        del r3

    def test_sms(self):
        info = q.sms_count("hello")
        self.assertEqual((info.encoding, info.units, info.segments),
                         (q.QUOTA_SMS_GSM7, 5, 1))
        info = q.sms_count("x" * 161, offsets=True)
        self.assertEqual((info.segments, info.segment_offsets), (2, [0, 153]))
        info = q.sms_count("привет")
        self.assertEqual((info.encoding, info.units), (q.QUOTA_SMS_UCS2, 6))
        with self.assertRaises(q.EncodingError) as cm:
            q.sms_count(b"ab\xffcd")
        self.assertEqual(cm.exception.offset, 2)
        with self.assertRaises(q.TooLong):
            q.sms_count("x" * 400, max_segments=2)
        cn = q.sms_count("验证码123456", flags=q.QUOTA_SMS_CN, signature="【华为云】")
        self.assertEqual(cn.segments, 1)
        r = self.a.charge_sms(self.sms, "y" * 200, NOW, key="s-1")
        self.assertEqual((r.units, r.sms.segments), (2, 2))
        with self.assertRaises(q.EncodingError) as cm:
            self.a.charge_sms(self.sms, b"\xc3", NOW)
        self.assertEqual(cm.exception.offset, 0)

    def test_utc_offset(self):
        a, sms = self.a, self.sms
        a.set_utc_offset(8 * 3600)
        a.charge(sms, 1, T0 + 5 * DAY - 3600)   # 07:00 the 5th, local
        a.charge(sms, 1, T0 + 5 * DAY - 8 * 3600)  # 00:00 the 5th, local
        self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, T0 + 5 * DAY - 3600), 2)
        with self.assertRaises(q.InvalidArgument):
            a.set_utc_offset(19 * 3600)

    def test_zone(self):
        # R26: Europe/Berlin from the system's tz database (tzdata), and
        # the same bytes passed by the host under another name.
        ctx, a, sms = self.ctx, self.a, self.sms
        berlin = ctx.zone_load("Europe/Berlin")
        self.assertEqual(berlin.name, "Europe/Berlin")
        self.assertIs(ctx.zone_find("Europe/Berlin"), berlin)
        self.assertEqual(berlin.offset(1719921600), 7200)   # July: CEST
        self.assertEqual(berlin.offset(1704067200), 3600)   # January: CET
        with open("/usr/share/zoneinfo/Europe/Berlin", "rb") as f:
            copy = ctx.zone_from_tzif("Test/Berlin", f.read())
        self.assertEqual(copy.offset(1719921600), 7200)
        with self.assertRaises(q.NotFound):
            ctx.zone_load("Mars/Olympus_Mons")
        self.assertIsNone(a.zone)
        a.set_zone(berlin)
        self.assertIs(a.zone, berlin)
        a.charge(sms, 1, 1719876600)   # 2024-07-01T23:30Z: 01:30 the 2nd
        a.charge(sms, 1, 1719921600)   # 2024-07-02T12:00Z
        self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, 1719921600), 2)
        with self.assertRaises(q.InvalidArgument):
            a.set_zone(None)           # usage: the calendar stays


class MoneyCatalogSettlement(unittest.TestCase):
    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_money(self):
        a = self.a
        self.assertEqual(a.balance, 0)
        a.topup(5000000, NOW)
        a.set_credit_limit(1000000)
        m = a.money()
        self.assertEqual(m, q.Money(5000000, 1000000, 0, 5000000, 0, 0, False, 0))
        self.assertFalse(a.suspended)
        self.assertEqual(q.money_round(12345, 10000), 10000)
        self.assertEqual(q.money_round(15000, 10000, q.QUOTA_ROUND_HALF_EVEN), 20000)
        self.assertEqual(q.money_round(25000, 10000, q.QUOTA_ROUND_HALF_EVEN), 20000)
        self.assertEqual(q.money_round(10001, 10000, q.QUOTA_ROUND_UP), 20000)
        with self.assertRaises(q.InvalidArgument):
            q.money_round(1, 0)

    def test_gift_money(self):
        # R24: UCloud's payment page - gift first, then cash.
        a, sms, ctx = self.a, self.sms, self.ctx
        o = ctx.offer_add("usms-100", [sms], units=100, price_micros=4400000)
        a.topup(2000000, NOW)
        a.gift_grant(3000000, NOW + DAY, NOW)
        self.assertEqual(a.gift_balance(NOW), 3000000)
        self.assertEqual(a.gift_balance(NOW + DAY), 0)
        pu = a.package_buy(o, at=NOW)
        self.assertEqual((pu.gift_micros, pu.cash_micros, pu.credit_micros),
                         (3000000, 1400000, 0))
        m = a.money()
        self.assertEqual((m.gift_micros, m.gift_granted_micros,
                          m.gift_spent_micros, m.balance_micros),
                         (0, 3000000, 3000000, 600000))
        a.set_pay_order(q.QUOTA_PAY_CASH_FIRST, q.QUOTA_PAY_CREDIT_PURCHASES)
        self.assertEqual(a.money().pay_order, q.QUOTA_PAY_CASH_FIRST)
        with self.assertRaises(q.InvalidArgument):
            a.set_pay_order(7)
        with self.assertRaises(q.InvalidArgument):
            a.gift_grant(0)

    def test_catalog(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        o = ctx.offer_add("sms-100", [sms], units=100, price_micros=4400000,
                          valid_months=12)
        self.assertIs(ctx.offer_find("sms-100"), o)
        with self.assertRaises(q.InsufficientFunds):
            a.package_buy(o, at=NOW)
        a.topup(5000000, NOW)
        v = q.Voucher.amount(400000)
        pq = a.package_quote(o, 1, v, NOW)
        self.assertIsNone(pq.package)
        pu = a.package_buy(o, 1, v, NOW, package_id="bought")
        self.assertEqual((pq.price_micros, pu.price_micros), (4000000, 4000000))
        self.assertEqual(pu.package.id, "bought")
        self.assertEqual(pu.package.remaining, 100)
        self.assertEqual(a.balance, 1000000)
        with self.assertRaises(q.VoucherError):
            a.package_quote(o, 1, q.Voucher.percent(1000, min_spend_micros=10**9), NOW)
        unit = ctx.tariff_new("unit", tiers=[(q.QUOTA_UNLIMITED, 30000)])
        byq = ctx.offer_add("by-qty", ["sms"], unit_tariff=unit, min_units=10,
                            step_units=10, valid_days=30)
        self.assertEqual(a.package_quote(byq, 20, at=NOW).list_price_micros, 600000)
        with self.assertRaises(q.InvalidArgument):
            a.package_quote(byq, 15, at=NOW)

    def test_r23_renewal(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        o = ctx.offer_add("koo", [sms], units=100, price_micros=1000000,
                          valid_days=30)
        kinds = []
        ctx.set_event_hook(lambda ev: kinds.append(ev.kind))
        a.topup(2000000, NOW)
        a.package_buy(o, at=NOW)
        self.assertIsNone(a.renewal(o))
        a.renewal_set(o, units_left_at_most=10, now=NOW)
        self.assertEqual(a.renewal(o), (10, None))
        a.charge(sms, 95, NOW + 60)       # 5 left: renewed, paid
        self.assertIn(q.QUOTA_EVENT_RENEWED, kinds)
        self.assertEqual(a.balance, 0)
        a.charge(sms, 100, NOW + 120)     # the renewal at 0: refused
        self.assertIn(q.QUOTA_EVENT_RENEWAL_FAILED, kinds)
        a.renewal_clear(o, NOW + 180)
        self.assertIsNone(a.renewal(o))
        with self.assertRaises(q.NotFound):
            a.renewal_clear(o, NOW + 180)
        with self.assertRaises(q.InvalidArgument):
            a.renewal_set(o, now=NOW)

    def test_settle_with_python_callback(self):
        a, sms = self.a, self.sms
        a.topup(1000000, NOW)
        a.charge(sms, 2, NOW)
        bills = []
        day_end = (NOW // DAY + 1) * DAY
        self.assertEqual(a.settle(day_end, bills.append), 1)
        b = bills[0]
        self.assertIsInstance(b, q.Bill)
        self.assertIs(b.account, a)
        self.assertEqual((b.status, b.total_micros, b.balance_micros, b.seq),
                         (q.QUOTA_BILL_PAID, 100000, 900000, 1))
        self.assertEqual(b.lines, [q.BillLine(sms, q.QUOTA_LINE_USAGE, False, 2,
                                              100000, 0, 100000, 100000)])
        self.assertEqual(a.settle(day_end), 0)
        self.assertEqual(a.money().billed_micros, 100000)

    def test_suspension_and_ctx_settle(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        events = []
        ctx.set_event_hook(events.append)
        a.set_settlement(q.QUOTA_PERIOD_HOUR, 10000, q.QUOTA_ROUND_UP)
        a.charge(sms, 3, NOW)
        self.assertEqual(ctx.settle(NOW + 3600), 1)
        self.assertTrue(a.suspended)
        self.assertEqual(a.money().outstanding_micros, 150000)
        self.assertIn(q.QUOTA_EVENT_SUSPENDED, [e.kind for e in events])
        with self.assertRaises(q.Suspended):
            a.charge(sms, 1, NOW + 3600)
        a.topup(1000000, NOW + 3600)
        self.assertFalse(a.suspended)
        self.assertEqual(events[-1].kind, q.QUOTA_EVENT_RESUMED)

    def test_bill_callback_exception(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        a.topup(1000000, NOW)
        a.charge(sms, 2, NOW)

        def boom(bill):
            raise KeyError("from the bill callback")
        with self.assertRaises(KeyError):
            a.settle(NOW + DAY, boom)
        # the settlement stands (quota_settle(3)); the failure is counted
        self.assertEqual(a.money().billed_micros, 100000)
        self.assertEqual(ctx.hook_failures, 1)
        self.assertEqual(a.settle(NOW + DAY), 0)


class ReportsAndEvents(unittest.TestCase):
    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)
        self.p = self.a.package_add("P1", [self.sms], 10, T0)
        self.a.charge(self.sms, 12, NOW)

    def tearDown(self):
        self.ctx.close()

    def test_report(self):
        rows = self.a.report(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY)
        self.assertEqual([(r.source, r.package, r.units, r.cost_micros)
                          for r in rows],
                         [(q.QUOTA_SOURCE_PACKAGE, self.p, 10, 0),
                          (q.QUOTA_SOURCE_PAYG, None, 2, 100000)])
        self.assertEqual(rows[0].start, T0 + 5 * DAY)
        self.assertIs(rows[0].account, self.a)

    def test_report_csv(self):
        text = self.a.report_csv(q.QUOTA_PERIOD_MONTH, T0, T0 + 31 * DAY)
        lines = text.splitlines()
        self.assertEqual(lines[0], "account,period,start,end,category,source,"
                         "package,units,cost_micros")
        self.assertEqual(len(lines), 3)
        pieces = []
        self.assertIsNone(self.a.report_csv(q.QUOTA_PERIOD_MONTH, T0,
                                            T0 + 31 * DAY, pieces.append))
        self.assertEqual("".join(pieces), text)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.csv")
            with open(path, "w") as f:
                f.write("# report\n")
                self.a.report_csv_file(q.QUOTA_PERIOD_MONTH, T0, T0 + 31 * DAY, f)
                f.write("# end\n")
            with open(path) as f:
                self.assertEqual(f.read(), "# report\n" + text + "# end\n")
            self.a.report_csv_file(q.QUOTA_PERIOD_MONTH, T0, T0 + 31 * DAY, path)
            with open(path) as f:
                self.assertEqual(f.read(), text)

    def test_writer_exception_stops_the_report(self):
        def bad(piece):
            raise RuntimeError("disk full")
        with self.assertRaises(RuntimeError) as cm:
            self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY, bad)
        self.assertIsInstance(cm.exception.__context__, q.StoreError)

    def test_events(self):
        ctx, a, sms = self.ctx, self.a, self.sms
        seen = []
        ctx.set_event_hook(seen.append)
        p2 = a.package_add("P2", [sms], 10, T0, NOW + 2 * DAY)
        a.add_alert(sms, 5)
        a.set_expiry_warning(DAY)
        a.charge(sms, 6, NOW)
        kinds = [e.kind for e in seen]
        self.assertEqual(kinds, [q.QUOTA_EVENT_LOW_QUOTA])
        e = seen[0]
        self.assertIsInstance(e, q.Event)
        self.assertEqual((e.account, e.category, e.remaining, e.threshold),
                         (a, sms, 4, 5))
        a.tick(NOW + DAY + 1)
        self.assertEqual(seen[-1].kind, q.QUOTA_EVENT_PACKAGE_EXPIRING)
        self.assertIs(seen[-1].package, p2)
        r = a.reserve(sms, 1, NOW + DAY + 1, 10)
        a.tick(NOW + DAY + 20)
        self.assertEqual(seen[-1].kind, q.QUOTA_EVENT_HOLD_EXPIRED)
        self.assertEqual(seen[-1].receipt.hold_id, r.hold_id)
        ctx.set_event_hook(None)
        n = len(seen)
        a.charge(sms, 3, NOW + 2 * DAY + 1)
        self.assertEqual(len(seen), n)

    def test_hook_exception(self):
        ctx, a, sms = self.ctx, self.a, self.sms
        a.package_add("P2", [sms], 10, T0)

        def hook(ev):
            raise ZeroDivisionError("in the hook")
        ctx.set_event_hook(hook)
        with self.assertRaises(ZeroDivisionError):
            a.charge(sms, 10, NOW)   # P2 runs out: PACKAGE_EXHAUSTED
        # the charge stands (R21), the failure is counted
        self.assertEqual(a.remaining(sms, NOW), 0)
        self.assertEqual(ctx.hook_failures, 1)

    def test_callbacks_stay_alive(self):
        seen = []
        self.ctx.set_event_hook(lambda ev: seen.append(ev.kind))
        gc.collect()
        self.a.package_add("P2", [self.sms], 1, T0)
        self.a.charge(self.sms, 1, NOW)
        self.assertEqual(seen, [q.QUOTA_EVENT_PACKAGE_EXHAUSTED])


class Journal(unittest.TestCase):
    def test_snapshot_load_reset(self):
        with q.Context() as ctx, q.Context() as other:
            sms, _, a = world(ctx)
            p = a.package_add("P1", [sms], 10, T0)
            a.charge(sms, 4, NOW)
            snap = a.snapshot()
            self.assertEqual(q.snapshot_peek(snap), ("acme", a.seq))
            with self.assertRaises(q.NotFound):   # no category there
                other.account_load(snap)
            world(other)[2].remove()
            b = other.account_load(snap)
            self.assertEqual(b.snapshot(), snap)
            self.assertEqual(b.package_find("P1").remaining, 6)
            a.charge(sms, 4, NOW)
            a.reset(snap)
            with self.assertRaises(q.ClosedError):
                p.remaining
            self.assertEqual(a.package_find("P1").remaining, 6)
            with self.assertRaises(q.Corrupt):
                other.account_load(snap[:-3])

    def test_config_unstored(self):
        # quota_ctx_config_unstored: configuration made with no store
        with q.Context() as ctx:
            ctx.category_add("sms")
            ctx.tariff_new("t")
            self.assertEqual(ctx.config_unstored, 2)
            self.assertEqual(ctx.config_seq, 0)

    def test_store_and_replay(self):
        store = q.Store()
        with q.Context() as ctx:
            ctx.set_store(store)
            sms, std, a = world(ctx)
            a.package_add("P1", [sms], 10, T0)
            a.charge(sms, 12, NOW, key="k1")
            self.assertGreater(ctx.config_seq, 0)
            self.assertEqual(ctx.config_unstored, 0)
            snap = a.snapshot()
            self.assertEqual(a.seq, sum(r[0] == "acme" for r in store.records))
        accounts = [r[0] for r in store.records]
        self.assertIn(None, accounts)
        self.assertIn("acme", accounts)
        with q.Context() as replay:
            for account, seq, rec in store.records:
                self.assertEqual(q.journal_size(rec + b"junk"), len(rec))
                self.assertEqual(replay.journal_peek(rec), (account or "", seq))
                replay.journal_apply(rec, check=True)
            self.assertEqual(replay.account_find("acme").snapshot(), snap)
            with self.assertRaises(q.SequenceError):
                replay.journal_apply(store.records[-1][2])
        with self.assertRaises(q.Corrupt):
            q.journal_size(store.records[0][2][:3])

    def test_store_failures(self):
        class Flaky(q.Store):
            mode = None

            def append(self, account, seq, rec):
                if self.mode == "conflict":
                    raise q.Conflict()
                if self.mode == "boom":
                    raise IOError("the disk said no")
                if self.mode == "unknown":
                    raise q.OutcomeUnknown()
                super().append(account, seq, rec)

        s = Flaky()
        with q.Context() as ctx:
            ctx.set_store(s)
            sms, _, a = world(ctx)
            s.mode = "conflict"
            with self.assertRaises(q.Conflict):
                a.charge(sms, 1, NOW)
            s.mode = "boom"
            with self.assertRaises(IOError) as cm:
                a.charge(sms, 1, NOW)
            self.assertIsInstance(cm.exception.__context__, q.StoreError)
            self.assertIn("the disk said no", cm.exception.__context__.errmsg)
            self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 0)
            s.mode = "unknown"
            with self.assertRaises(q.OutcomeUnknown):
                a.charge(sms, 1, NOW)
            self.assertTrue(a.unsynced)
            with self.assertRaises(q.Unsynced):
                a.charge(sms, 1, NOW)
            s.mode = None
            a.reset(None)
            self.assertFalse(a.unsynced)
            ctx.set_store(None)

    def test_batch(self):
        class Tx(q.Store):
            def __init__(self):
                super().__init__()
                self.log = []

            def begin(self):
                self.log.append("begin")

            def commit(self):
                self.log.append("commit")

        s = Tx()
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            ctx.set_store(s)
            ops = ctx.batch([q.Op.charge(a, sms, 2, NOW, key="b1"),
                             q.Op.charge(a, sms, 0, NOW),
                             q.Op.charge_sms(a, "sms", "hello", NOW),
                             q.Op.reserve(a, sms, 3, NOW, 60)])
            self.assertEqual([o.rc for o in ops], [0, q.QUOTA_EINVAL, 0, 0])
            self.assertIsInstance(ops[1].error, q.InvalidArgument)
            self.assertEqual(ops[0].receipt.payg_cost_micros, 100000)
            hold = ops[3].hold_id
            self.assertGreater(hold, 0)
            self.assertEqual(s.log, ["begin", "commit"])
            ops = ctx.batch([q.Op.commit(a, hold, 2, key="c1"),
                             q.Op.release(a, 12345)])
            self.assertEqual([o.rc for o in ops], [0, q.QUOTA_ENOTFOUND])
            r = q.Op.charge(a, sms, 1, NOW).run()
            self.assertEqual(r.units, 1)
            with self.assertRaises(q.InvalidArgument):
                q.Op.charge(a, sms, -1, NOW).run()

    def test_batch_commit_fails(self):
        class Tx(q.Store):
            fail = None

            def begin(self):
                pass

            def commit(self):
                if self.fail:
                    raise self.fail

        s = Tx()
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            ctx.set_store(s)
            s.fail = IOError("lost the disk")
            ops = [q.Op.charge(a, sms, 2, NOW), q.Op.charge(a, sms, 3, NOW)]
            with self.assertRaises(IOError):
                ctx.batch(ops)
            self.assertEqual([o.rc for o in ops], [q.QUOTA_ESTORE] * 2)
            self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 0)
            s.fail = q.OutcomeUnknown()
            with self.assertRaises(q.OutcomeUnknown):
                ctx.batch([q.Op.charge(a, sms, 2, NOW)])
            self.assertTrue(a.unsynced)

    def test_prune(self):
        with q.Context() as ctx:
            sms, _, a = world(ctx)
            self.assertIsNone(a.pruned_before)
            a.charge(sms, 1, T0 + 3600)
            a.settle(T0 + 2 * DAY)
            a.prune(T0 + DAY)
            self.assertIsNotNone(a.pruned_before)
            with self.assertRaises(q.Pruned):
                a.report(q.QUOTA_PERIOD_DAY, T0, T0 + DAY)
            a.set_retention(7 * DAY, q.QUOTA_PRUNE_LEDGER)
            with self.assertRaises(q.InvalidArgument):
                a.set_retention(DAY, 0)

class Arguments(unittest.TestCase):
    """Integers out of the C type's range and values that are not
    integers are refused before C sees them (ctypes would wrap them)."""

    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_integers_out_of_range(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        bad = [
            lambda: a.charge(sms, 2**64 + 3, NOW),          # int64_t units
            lambda: a.quote(sms, -2**63 - 1, NOW),
            lambda: a.topup(2**64 + 5, NOW),                # int64_t micros
            lambda: a.charge(2**32, 1, NOW),                # uint32_t category
            lambda: a.charge(-1, 1, NOW),
            lambda: a.charge(sms, 1, 2**63),                # int64_t time
            lambda: a.package_add("P", [sms, 64], 10, T0),  # ids 0..63
            lambda: a.package_add("P", [sms, -1], 10, T0),
            lambda: a.package_add("P", 2**64, 10, T0),      # uint64_t mask
            lambda: a.package_add("P", [sms], 10, T0, priority=2**31),
            lambda: ctx.offer_add("o", [sms, 2**32], units=1),
            lambda: ctx.mask(sms, 64),
            lambda: q.mask(0, 64),
            lambda: q.money_round(2**63, 10000),
            lambda: q.money_round(1, 10000, 2**32 + q.QUOTA_ROUND_UP),
            lambda: self.std.add_tier(2**64 + 200, 1),
            lambda: a.commit(2**64 + 1, 1),                 # uint64_t hold id
            lambda: a.release(-1),
            lambda: a.set_utc_offset(2**32 + 3600),         # int32_t
            lambda: a.set_cap(sms, q.QUOTA_PERIOD_DAY + 2**32, 5),
            lambda: a.set_key_window(2**32, DAY),
            lambda: a.reserve(sms, 1, NOW, 2**63),
            lambda: q.strerror(2**32 + q.QUOTA_ECAP),
            lambda: q.sms_count("hi", max_segments=2**32),
            lambda: a.package_quote(ctx.offer_add("o2", [sms], units=1),
                                    voucher=q.Voucher.amount(2**63)),
            lambda: q.Op.charge(a, sms, 2**64 + 1, NOW).run(),
            lambda: q.Op.commit(a, 2**64, 1).run(),
        ]
        for i, call in enumerate(bad):
            with self.subTest(i=i):
                with self.assertRaises(q.InvalidArgument) as cm:
                    call()
                self.assertRegex(cm.exception.errmsg, r"range|0\.\.63")
        self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 0)
        self.assertEqual((a.balance, a.package_count(), a.hold_count), (0, 0, 0))
        self.assertEqual(a.money().topped_up_micros, 0)

    def test_not_integers(self):
        a, sms = self.a, self.sms
        bad = [
            lambda: a.charge(sms, 1.0, NOW),
            lambda: a.charge(0.9, 1, NOW),                  # not category 0
            lambda: a.charge(sms, True, NOW),
            lambda: a.charge(sms, 1, "1715000000"),
            lambda: a.charge(sms, 1, 1715000000.5),
            lambda: a.package_add("P", [0.9], 10, T0),
            lambda: a.package_add("P", 1.0, 10, T0),
            lambda: a.topup(None, NOW),
            lambda: a.set_utc_offset(3600.0),
            lambda: q.money_round(1.5, 10000),
            lambda: q.Op.charge(a, sms, 1.0, NOW).run(),
        ]
        for i, call in enumerate(bad):
            with self.subTest(i=i):
                with self.assertRaises(TypeError):
                    call()
        self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 0)

        class Index:  # an integer type of another library (numpy's, say)
            def __init__(self, n):
                self.n = n

            def __index__(self):
                return self.n
        self.assertEqual(a.charge(Index(sms), Index(2), Index(NOW)).units, 2)

    def test_valid_fields_cost_no_message(self):
        # The checks' fast path: a valid field (an int in range, None or
        # bytes without a NUL for a C string) returns at once; the
        # error's wording (the struct's C name, looked up in STRUCTS) is
        # worked out only for a value that fails (charges ran 2.3-2.5x
        # slower when every valid field built it).
        from libquota import _ffi
        a, sms = self.a, self.sms

        class Watched(dict):
            looked_up = 0

            def items(self):
                Watched.looked_up += 1
                return super().items()
        saved = _ffi.STRUCTS
        _ffi.STRUCTS = Watched(saved)
        try:
            a.charge(sms, 1, NOW, key="k1")
            a.quote(sms, 1, NOW)
            a.package_add("P", [sms], 10, T0)
            _ffi.new(_ffi.Usage, category=0, units=2**63 - 1, at=-2**63,
                     key=None)
            _ffi.new(_ffi.Usage, key=b"abc")
            self.assertEqual(Watched.looked_up, 0)
            with self.assertRaises(q.InvalidArgument) as cm:
                _ffi.new(_ffi.Usage, units=2**63)
            self.assertIn("quota_usage.units", cm.exception.errmsg)
            with self.assertRaises(q.InvalidArgument) as cm:
                _ffi.new(_ffi.Usage, key=b"a\0b")
            self.assertIn("quota_usage.key", cm.exception.errmsg)
            with self.assertRaises(TypeError):
                _ffi.new(_ffi.Usage, category=1.0)
            self.assertGreater(Watched.looked_up, 0)
        finally:
            _ffi.STRUCTS = saved


class Strings(unittest.TestCase):
    """A NUL character (C would cut the string there) or a lone
    surrogate (no UTF-8 for it) in a string argument is refused."""

    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_nul_and_lone_surrogates(self):
        a, sms, ctx = self.a, self.sms, self.ctx
        a.set_key_window(100, DAY)
        for bad in ("msg\0one", b"msg\0one", "k\ud800", "k\udbff", "\udc00k"):
            for call in (lambda: a.charge(sms, 1, NOW, key=bad),
                         lambda: a.reserve(sms, 1, NOW, 60, key=bad),
                         lambda: a.charge_sms(sms, "hi", NOW, key=bad),
                         lambda: a.reverse(bad, NOW),
                         lambda: a.hold_find(bad),
                         lambda: ctx.account_new(bad),
                         lambda: ctx.account_find(bad),
                         lambda: ctx.category_add(bad),
                         lambda: ctx.category_find(bad),
                         lambda: ctx.tariff_new(bad),
                         lambda: ctx.zone_load(bad),
                         lambda: ctx.offer_add(bad, [sms], units=1),
                         lambda: a.package_add(bad, [sms], 1, T0),
                         lambda: a.package_find(bad),
                         lambda: a.block(bad, NOW),
                         lambda: ctx.set_error(q.QUOTA_ESTORE, bad),
                         lambda: q.sms_count("hi", signature=bad),
                         lambda: q.Op.charge(a, sms, 1, NOW, key=bad).run()):
                with self.subTest(bad=bad):
                    with self.assertRaises(q.InvalidArgument):
                        call()
        self.assertEqual(a.used(sms, q.QUOTA_PERIOD_DAY, NOW), 0)
        self.assertEqual((ctx.account_count(), ctx.category_count()), (1, 1))
        self.assertIsNone(a.blocked)
        # an id that cannot be sent names no account
        self.assertEqual(ctx.account_find_many(["acme\ud800", "acme"]), [None, a])
        # the two keys that C would have read as one are two charges
        a.charge(sms, 1, NOW, key="msg-one")
        self.assertFalse(a.charge(sms, 1, NOW, key="msg-two").replayed)

    def test_sms_text_with_a_lone_surrogate(self):
        # quota_sms_count(3): an encoded surrogate is QUOTA_EENCODING
        with self.assertRaises(q.EncodingError) as cm:
            q.sms_count("a\ud800b")
        self.assertEqual(cm.exception.offset, 1)
        with self.assertRaises(q.EncodingError) as cm:
            self.a.charge_sms(self.sms, "é\udc00", NOW)
        self.assertEqual(cm.exception.offset, 2)
        op = q.Op.charge_sms(self.a, self.sms, "\ud83d", NOW)
        with self.assertRaises(q.EncodingError):
            self.ctx.batch([op])
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 0)
        # a NUL character in a text is part of it (the length goes along)
        self.assertEqual(q.sms_count("a\0b").units, 3)


class Poison(q.Allocator):
    """libc's allocator that fills a block with 0xBE when it is freed and
    keeps it until release(): what reads freed memory reads 0xBE."""

    def __init__(self):
        super().__init__()
        self.sizes, self.kept = {}, []

    def malloc(self, size):
        p = super().malloc(size)
        if p:
            self.sizes[p] = size
        return p

    def realloc(self, ptr, size):
        if not ptr:
            return self.malloc(size)
        p = self.malloc(size)
        if p:
            ctypes.memmove(p, ptr, min(size, self.sizes[ptr]))
            self.free(ptr)
        return p

    def free(self, ptr):
        if ptr:
            ctypes.memset(ptr, 0xBE, self.sizes.pop(ptr) or 1)
            self.kept.append(ptr)

    def release(self):
        for p in self.kept:
            super().free(p)
        self.kept = []


class PackageHandles(unittest.TestCase):
    """A Package names its package by id: what the library frees behind it
    (a failed batch resets the account, a prune drops packages) is never
    read through it."""

    def setUp(self):
        self.alloc = Poison()
        self.ctx = q.Context(allocator=self.alloc)

    def tearDown(self):
        self.ctx.close()
        self.alloc.release()

    def test_after_a_failed_batch(self):
        ctx = self.ctx
        sms = ctx.category_add("sms")
        a = ctx.account_new("acme")
        p = a.package_add("P", [sms], 10, NOW - 10)
        line = a.charge(sms, 1, NOW).lines[0].package
        self.assertIs(line, p)

        class Tx(q.Store):
            def begin(self):
                pass

            def commit(self):
                raise RuntimeError("disk full")
        ctx.set_store(Tx())
        with self.assertRaises(RuntimeError):
            ctx.batch([q.Op.charge(a, sms, 3, NOW)])   # the account is reset
        self.assertEqual(p.remaining, 9)
        self.assertEqual(p.spec(), a.package_find("P").spec())
        self.assertEqual(p.spec().categories, 1)
        self.assertEqual(line.remaining, 9)
        self.assertEqual(p.status(NOW), q.QUOTA_PACKAGE_ACTIVE)

    def test_after_a_prune(self):
        ctx = self.ctx
        sms = ctx.category_add("sms")
        a = ctx.account_new("acme")
        p = a.package_add("P", [sms], 5, NOW - 10, NOW + DAY)
        line = a.charge(sms, 5, NOW).lines[0].package
        a.set_settlement(q.QUOTA_PERIOD_DAY)
        a.tick(NOW + 3 * DAY)
        a.charge(sms, 1, NOW + 3 * DAY)
        a.settle(NOW + 3 * DAY)
        a.prune(NOW + 3 * DAY, q.QUOTA_PRUNE_ALL | q.QUOTA_PRUNE_PACKAGES)
        for i in range(3):
            a.package_add("J%d" % i, [sms], 1000 + i, NOW + 3 * DAY)
        self.assertEqual(p.id, "P")
        for use in (lambda: p.remaining, p.spec, lambda: p.status(NOW),
                    lambda: line.remaining):
            with self.assertRaises(q.NotFound):
                use()
        self.assertEqual([x.id for x in a.packages()], ["J0", "J1", "J2"])

    def dropped(self, a, sms):
        """Package P of a, 5 units used up, then dropped by a prune."""
        p = a.package_add("P", [sms], 5, NOW - 10, NOW + DAY)
        line = a.charge(sms, 5, NOW).lines[0].package
        a.set_settlement(q.QUOTA_PERIOD_DAY)
        a.tick(NOW + 3 * DAY)
        a.charge(sms, 1, NOW + 3 * DAY)
        return p, line

    def test_id_used_again(self):
        # quota_account_prune(3): a dropped package's id may be used again
        # and its handles end; the old handle does not read the new one.
        ctx = self.ctx
        sms = ctx.category_add("sms")
        a = ctx.account_new("acme")
        p, line = self.dropped(a, sms)
        self.assertIs(line, p)
        a.settle(NOW + 3 * DAY)
        a.prune(NOW + 3 * DAY, q.QUOTA_PRUNE_ALL | q.QUOTA_PRUNE_PACKAGES)
        self.assertEqual(a.package_count(), 0)
        new = a.package_add("P", [sms], 1000, NOW + 3 * DAY)
        self.assertIsNot(new, p)
        for use in (lambda: p.remaining, p.spec, lambda: p.status(NOW),
                    lambda: line.remaining):
            with self.assertRaises(q.NotFound):
                use()
        self.assertEqual(new.remaining, 1000)
        self.assertIs(a.package_find("P"), new)
        self.assertIs(a.packages()[0], new)
        self.assertIs(a.charge(sms, 1, NOW + 3 * DAY).lines[0].package, new)
        with self.assertRaises(q.NotFound):
            p.remaining

    def test_id_used_again_after_a_retention_prune(self):
        ctx = self.ctx
        sms = ctx.category_add("sms")
        a = ctx.account_new("acme")
        p, _ = self.dropped(a, sms)
        a.set_retention(1, q.QUOTA_PRUNE_ALL | q.QUOTA_PRUNE_PACKAGES)
        a.settle(NOW + 3 * DAY)
        self.assertEqual(a.package_count(), 0)
        new = a.package_add("P", [sms], 7, NOW + 3 * DAY, NOW + 9 * DAY)
        with self.assertRaises(q.NotFound):
            p.remaining
        self.assertEqual(new.spec().units, 7)

    def test_id_used_again_with_the_same_spec(self):
        # The one case a handle cannot tell apart (documented): a new
        # package of the same id and the very same spec.
        ctx = self.ctx
        sms = ctx.category_add("sms")
        a = ctx.account_new("acme")
        p, _ = self.dropped(a, sms)
        a.settle(NOW + 3 * DAY)
        a.prune(NOW + 3 * DAY, q.QUOTA_PRUNE_ALL | q.QUOTA_PRUNE_PACKAGES)
        new = a.package_add("P", [sms], 5, NOW - 10, NOW + DAY)
        self.assertIs(new, p)


class CallbackReentry(unittest.TestCase):
    """Calls on a context from inside its own callbacks: the C pages
    forbid changing (or freeing) the context there, and every change is
    refused with InvalidArgument instead of crashing; the event hook,
    bill callback and report writer may read it; a store callback may
    not call it at all."""

    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)
        self.p = self.a.package_add("P1", [self.sms], 10, T0)

    def tearDown(self):
        self.ctx.close()

    def changes(self):
        ctx, a, sms = self.ctx, self.a, self.sms
        return [ctx.close, a.remove, lambda: a.reset(None),
                lambda: a.charge(sms, 1, NOW), lambda: a.tick(NOW + 1),
                lambda: ctx.set_event_hook(None), lambda: ctx.set_store(None),
                lambda: ctx.category_add("x"), lambda: self.std.add_tier(10**6, 1),
                lambda: a.package_add("X", [sms], 1, T0),
                lambda: ctx.batch([q.Op.charge(a, sms, 1, NOW)])]

    def refused(self, calls):
        out = []
        for call in calls:
            try:
                call()
                out.append("ran")
            except q.InvalidArgument as e:
                out.append("refused" if "callback" in e.errmsg else repr(e))
        return out

    def test_event_hook(self):
        seen = []

        def hook(ev):
            # reads are allowed (quota_events(3))
            seen.append((self.a.remaining(self.sms, NOW), self.p.remaining,
                         self.a.balance, self.ctx.account_find("acme") is self.a))
            seen.append(self.refused(self.changes()))
        self.ctx.set_event_hook(hook)
        self.a.add_alert(self.sms, 5)
        self.a.charge(self.sms, 6, NOW)           # LOW_QUOTA
        self.assertEqual(seen[0], (4, 4, 0, True))
        self.assertEqual(seen[1], ["refused"] * len(self.changes()))
        self.assertFalse(self.ctx.closed)
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 6)
        self.ctx.set_event_hook(lambda ev: self.ctx.close())
        with self.assertRaises(q.InvalidArgument):
            self.a.charge(self.sms, 4, NOW)       # PACKAGE_EXHAUSTED
        self.assertFalse(self.ctx.closed)
        self.assertEqual(self.p.remaining, 0)

    def test_store_callbacks(self):
        seen = []
        ctx = self.ctx

        class Reentrant(q.Store):
            what = "append"

            def append(inner, account, seq, rec):
                if inner.what == "append":
                    seen.append(self.refused(self.changes() + [
                        lambda: self.a.balance, lambda: ctx.account_find("acme")]))
                    ctx.close()
                super().append(account, seq, rec)

            def begin(inner):
                if inner.what == "begin":
                    ctx.close()

            def commit(inner):
                if inner.what == "commit":
                    self.a.remove()

        s = Reentrant()
        ctx.set_store(s)
        with self.assertRaises(q.InvalidArgument) as cm:
            self.a.charge(self.sms, 1, NOW)
        self.assertIsInstance(cm.exception.__context__, q.StoreError)
        self.assertEqual(seen, [["refused"] * (len(self.changes()) + 2)])
        for what in ("begin", "commit"):
            s.what = what
            with self.assertRaises(q.InvalidArgument):
                ctx.batch([q.Op.charge(self.a, self.sms, 1, NOW)])
        self.assertFalse(ctx.closed)
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 0)
        s.what = None
        self.a.charge(self.sms, 1, NOW)
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 1)
        self.assertEqual(s.records[-1][:2], ("acme", self.a.seq))

    def test_report_writer(self):
        seen = []

        def write(piece):
            seen.append(self.a.balance)
            seen.append(self.refused(self.changes()))
        self.a.charge(self.sms, 1, NOW)
        self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY, write)
        self.assertEqual(seen[:2], [0, ["refused"] * len(self.changes())])
        with self.assertRaises(q.InvalidArgument):
            self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY,
                              lambda s: self.ctx.close())
        self.assertFalse(self.ctx.closed)
        self.assertEqual(len(self.a.report(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY)), 1)

    def test_bill_callback(self):
        seen = []
        a = self.a

        def on_bill(bill):
            seen.append(a.money().billed_micros)
            seen.append(self.refused(self.changes()))
        a.topup(1000000, NOW)
        a.charge(self.sms, 12, NOW)
        a.set_settlement(q.QUOTA_PERIOD_DAY)
        self.assertEqual(a.settle(NOW + DAY, on_bill), 1)
        self.assertEqual(seen, [100000, ["refused"] * len(self.changes())])
        a.charge(self.sms, 1, NOW + DAY)
        with self.assertRaises(q.InvalidArgument):
            self.ctx.settle(NOW + 2 * DAY, lambda b: self.ctx.close())
        self.assertFalse(self.ctx.closed)

    def test_exception_caught_in_an_outer_callback(self):
        # A call made inside the hook raises its own callback's exception
        # there; the hook catches it, and the outer charge (which stands)
        # does not raise it again: a caller retrying on exceptions would
        # charge twice.
        class WriterFull(Exception):
            pass
        seen = []

        def w(piece):
            raise WriterFull("disk full")

        def hook(ev):
            try:
                self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + DAY, write=w)
                seen.append("returned")
            except WriterFull as e:
                seen.append(e)
        self.ctx.set_event_hook(hook)
        self.a.add_alert(self.sms, 5)
        r = self.a.charge(self.sms, 6, NOW)       # LOW_QUOTA: the hook runs
        self.assertEqual(r.units, 6)
        self.assertEqual(len(seen), 1)
        self.assertIsInstance(seen[0], WriterFull)
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 6)
        self.assertEqual(self.a.charge(self.sms, 1, NOW).units, 1)

        # Not caught, it is the hook's exception: the outer call raises it
        # (once), the charge standing.
        def hook2(ev):
            self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + 31 * DAY, write=w)
        self.ctx.set_event_hook(hook2)
        with self.assertRaises(WriterFull):
            self.a.charge(self.sms, 3, NOW)       # PACKAGE_EXHAUSTED
        self.assertEqual(self.a.used(self.sms, q.QUOTA_PERIOD_DAY, NOW), 10)
        self.ctx.set_event_hook(None)
        self.assertEqual(self.a.charge(self.sms, 1, NOW).units, 1)

        # The hook's own exception, raised after it caught an inner one,
        # is the outer call's.
        def hook3(ev):
            try:
                self.a.report_csv(q.QUOTA_PERIOD_DAY, T0, T0 + DAY, write=w)
            except WriterFull:
                raise KeyError("the hook's own")
        self.ctx.set_event_hook(hook3)
        self.a.add_alert(self.sms, 2, q.QUOTA_ALERT_UNITS)
        self.a.package_add("P2", [self.sms], 3, T0)
        with self.assertRaises(KeyError):
            self.a.charge(self.sms, 1, NOW)       # LOW_QUOTA at 2 left

    def test_sqlite_close_in_hook(self):
        with tempfile.TemporaryDirectory() as d:
            with q.Context() as ctx:
                db = ctx.open_sqlite(os.path.join(d, "q.db"))
                sms, _, a = world(ctx)
                a.package_add("P1", [sms], 1, T0)
                ctx.set_event_hook(lambda ev: db.close())
                with self.assertRaises(q.InvalidArgument):
                    a.charge(sms, 1, NOW)
                self.assertFalse(db.closed)
                db.checkpoint()


class Reconciliation(unittest.TestCase):
    """What the pages say each object carries or raises."""

    def setUp(self):
        self.ctx = q.Context()
        self.sms, self.std, self.a = world(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_receipt_id_and_failure_reason(self):
        a, sms = self.a, self.sms
        a.keep_receipts(True)
        r = a.charge(sms, 3, NOW)
        self.assertGreater(r.receipt_id, 0)
        self.assertEqual(a.reverse_receipt(r.receipt_id, NOW + 1).units, 3)
        h = a.reserve(sms, 2, NOW, 60)
        rel = a.release_reason(h.hold_id, q.QUOTA_FAIL_REJECTED)
        self.assertEqual(rel.failure_reason, q.QUOTA_FAIL_REJECTED)

    def test_blocked_event_reason(self):
        seen = []
        self.ctx.set_event_hook(seen.append)
        self.a.block("fraud", NOW)
        self.a.unblock(NOW + 1)
        self.assertEqual([(e.kind, e.reason) for e in seen],
                         [(q.QUOTA_EVENT_ACCOUNT_BLOCKED, "fraud"),
                          (q.QUOTA_EVENT_ACCOUNT_UNBLOCKED, None)])

    def test_store_exceptions_are_raised_again(self):
        class S(q.Store):
            exc = None
            ret = None

            def append(self, account, seq, rec):
                if self.exc is not None:
                    raise self.exc
                if self.ret is not None:
                    return self.ret
                super().append(account, seq, rec)
        s = S()
        a, sms = self.a, self.sms
        self.ctx.set_store(s)
        for exc in (q.NotFound(errmsg="no such shard"),
                    q.StoreError(errmsg="full"), q.InvalidArgument()):
            s.exc = exc
            with self.assertRaises(type(exc)) as cm:
                a.charge(sms, 1, NOW)
            self.assertIs(cm.exception, exc)
            self.assertIsInstance(cm.exception.__context__, q.StoreError)
        s.exc = None
        for ret in ("0", 2**32, 0.0, [], True + 2**40):
            s.ret = ret
            with self.assertRaises(TypeError):
                a.charge(sms, 1, NOW)
        s.ret = q.QUOTA_ECONFLICT
        with self.assertRaises(q.Conflict):
            a.charge(sms, 1, NOW)
        self.assertEqual((a.used(sms, q.QUOTA_PERIOD_DAY, NOW), s.records), (0, []))

    def test_renewal_raises_its_errors(self):
        with q.Context() as other:
            other.category_add("sms")
            o = other.offer_add("o", [0], units=10, price_micros=1)
            with self.assertRaises(q.InvalidArgument):
                self.a.renewal(o)
        mine = self.ctx.offer_add("mine", [self.sms], units=10, price_micros=1)
        self.assertIsNone(self.a.renewal(mine))


class Allocators(unittest.TestCase):
    def test_counting_allocator_failures(self):
        # every allocation failing in turn: OutOfMemory, nothing changed
        n = 1
        while True:
            alloc = q.Allocator(fail_at=n)
            try:
                ctx = q.Context(allocator=alloc)
            except q.OutOfMemory:
                n += 1
                continue
            with ctx:
                try:
                    sms, _, a = world(ctx)
                    a.charge(sms, 3, NOW)
                except q.OutOfMemory:
                    n += 1
                    continue
            self.assertEqual(alloc.live, 0)
            break
        self.assertGreater(n, 3)

    def test_allocator_calls_its_context(self):
        # An allocator function runs inside the library's call: every call
        # on its context is refused there (reads too), close() above all
        # (it freed the context under C).
        class Reentrant(q.Allocator):
            ctx = None
            armed = False
            seen = []

            def malloc(self, size):
                if self.armed:
                    self.armed = False
                    for call in (lambda: self.ctx.account_count(),
                                 lambda: self.ctx.account_find("acme"),
                                 lambda: self.ctx.category_add("x")):
                        try:
                            call()
                            self.seen.append("ran")
                        except q.InvalidArgument as e:
                            self.seen.append("refused" if "allocator" in
                                             e.errmsg else repr(e))
                    if self.seen == ["refused"] * 3:
                        self.ctx.close()
                return super().malloc(size)
        al = Reentrant()
        ctx = al.ctx = q.Context(allocator=al)
        try:
            sms = ctx.category_add("sms")
            a = ctx.account_new("acme")
            al.armed = True
            with self.assertRaises(q.InvalidArgument) as cm:
                a.package_add("P", [sms], 10, 0)
            self.assertIn("allocator", cm.exception.errmsg)
            self.assertEqual(al.seen, ["refused"] * 3)
            self.assertFalse(ctx.closed)
            self.assertEqual(a.package_count(), 0)
            self.assertEqual(a.package_add("P", [sms], 10, 0).remaining, 10)
        finally:
            ctx.close()
        self.assertEqual(al.live, 0)

    def test_allocator_exception(self):
        class Bad(q.Allocator):
            def malloc(self, size):
                raise RuntimeError("allocator bug")
        with self.assertRaises(RuntimeError):
            q.Context(allocator=Bad())


class Sqlite(unittest.TestCase):
    def test_recovery(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "q.db")
            with q.Context() as ctx:
                db = ctx.open_sqlite(path)
                sms, _, a = world(ctx)
                a.package_add("P1", [sms], 10, T0)
                a.charge(sms, 12, NOW, key="k1")
                db.checkpoint()
                a.charge(sms, 1, NOW)
                want = a.snapshot()
            self.assertTrue(db.closed)  # closing the context closed it
            with q.Context() as ctx:
                with q.SqliteStore(ctx, path, synchronous=q.QUOTA_SQLITE_SYNC_NORMAL,
                                   busy_timeout_ms=100) as db:
                    a = ctx.account_find("acme")
                    self.assertEqual(a.snapshot(), want)
                    self.assertTrue(a.charge("sms", 12, NOW, key="k1").replayed)
                    p = a.package_find("P1")
                    db.resync(a)
                    with self.assertRaises(q.ClosedError):
                        p.remaining
                    self.assertEqual(a.snapshot(), want)
                with self.assertRaises(q.ClosedError):
                    db.checkpoint()
            with q.Context() as ctx:
                ctx.open_sqlite(path)  # not kept: its context keeps it open
                gc.collect()
                ctx.account_find("acme").charge("sms", 1, NOW)
            with q.Context() as ctx:
                ctx.open_sqlite(path)
                a = ctx.account_find("acme")
                self.assertEqual(a.used("sms", q.QUOTA_PERIOD_DAY, NOW), 14)

    def test_refused(self):
        with tempfile.TemporaryDirectory() as d:
            with q.Context() as ctx:
                ctx.category_add("sms")
                with self.assertRaises(q.InvalidArgument) as cm:
                    ctx.open_sqlite(os.path.join(d, "q.db"))
                self.assertTrue(cm.exception.errmsg)
            bad = os.path.join(d, "bad.db")
            with open(bad, "wb") as f:
                f.write(b"not a database" * 100)
            with q.Context() as ctx:
                with self.assertRaises(q.Corrupt) as cm:
                    ctx.open_sqlite(bad)
                self.assertIn("not a SQLite database", cm.exception.errmsg)


if __name__ == "__main__":
    unittest.main()
