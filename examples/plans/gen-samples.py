#!/usr/bin/env python3
# gen-samples.py - writes the sample traces of examples/plans/ (their
# expected outputs are checked by tests/check-quota-sim.sh).  Seeded, so
# the files it writes are always the same.
import random, datetime

def iso(t, off=0):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=t)).strftime('%Y-%m-%dT%H:%M:%SZ')

def day0(y, m, d):
    return int((datetime.datetime(y, m, d) - datetime.datetime(1970, 1, 1)).total_seconds())

def ses():
    r = random.Random(14)
    rows = []
    start = day0(2024, 5, 1) - 8 * 3600
    for d in range(214):            # May to November
        for h in (1, 5, 9, 13):     # four batches a day (shop, UTC+8)
            rows.append((start + d * 86400 + h * 3600, 'shop', r.randint(800, 1200)))
        if d % 2 == 0:
            rows.append((day0(2024, 5, 1) + d * 86400 + 7 * 3600, 'newsletter', r.randint(2500, 4500)))
    rows.sort()
    with open('tencent-ses.csv', 'w') as f:
        f.write('time,account,category,units\n')
        for i, (t, a, u) in enumerate(rows):
            # half the rows in Unix seconds, half in ISO 8601
            f.write('%s,%s,email,%d\n' % (t if i % 2 else iso(t), a, u))

TEXTS = [
    ('sms.verify', '您的验证码是{n}，5分钟内有效。'),
    ('sms.notify', '您的订单{n}已发货，请注意查收。'),
    ('sms.notify', '尊敬的客户，您的账单已生成，本期应还金额为{n}元，请于到期日前还款，逾期将产生滞纳金，详情请登录手机银行查看。如有疑问请致电客服热线。'),
    ('sms.marketing', '双十一大促：全场满{n}减50，会员再享九折，点击链接领取优惠券，回T退订'),
]

def huawei():
    r = random.Random(15)
    rows = []
    start = day0(2024, 5, 1) - 8 * 3600
    n = 0
    for d in range(60):
        for k in range(12):
            t = start + d * 86400 + r.randint(0, 86399)
            acct = 'bank' if k < 8 else 'retail'
            cat, text = TEXTS[r.randrange(4) if acct == 'bank' else 3 if k % 2 else 0]
            reps = r.randint(50, 400) if acct == 'bank' else r.randint(100, 700)
            # one row stands for a batch of identical texts: split into
            # single messages would make the sample large; the row is
            # repeated with keys so a retried submission counts once.
            for j in range(3):
                n += 1
                st = 'failed' if r.random() < 0.05 else 'delivered'
                rows.append((t + j, acct, cat, text.format(n=reps + j), st, 'm%d' % n))
                if r.random() < 0.02:   # a retry of the same message
                    rows.append((t + j, acct, cat, text.format(n=reps + j), st, 'm%d' % n))
    rows.sort()
    with open('huawei-sms.csv', 'w') as f:
        f.write('time,account,category,text,status,key\n')
        for t, a, c, x, s, k in rows:
            f.write('%s,%s,%s,"%s",%s,%s\n' % (iso(t), a, c, x.replace('"', '""'), s, k))

def ucloud():
    r = random.Random(16)
    rows = []
    start = day0(2024, 1, 1) - 8 * 3600
    for d in range(366):
        for h in range(0, 24, 3):
            if r.random() < 0.6:
                rows.append((start + d * 86400 + h * 3600 + r.randint(0, 3599), 'game',
                             'sms.verify', r.randint(1, 30)))
        if d % 7 == 5:
            rows.append((start + d * 86400 + 10 * 3600, 'game', 'sms.marketing', r.randint(300, 900)))
    rows.sort()
    with open('ucloud-usms.csv', 'w') as f:
        f.write('time,account,category,units\n')
        for t, a, c, u in rows:
            f.write('%d,%s,%s,%d\n' % (t, a, c, u))

def koomessage():
    # R23: two KooMessage service accounts with auto-renewal, 100 days
    r = random.Random(23)
    rows = []
    start = day0(2025, 3, 1) - 8 * 3600
    for d in range(100):
        rows.append((start + d * 86400 + 10 * 3600, 'svc-busy', r.randint(600, 800)))
        if d % 3 == 0:
            rows.append((start + d * 86400 + 11 * 3600, 'svc-quiet', r.randint(50, 150)))
    rows.sort()
    with open('koomessage-renew.csv', 'w') as f:
        f.write('time,account,category,units\n')
        for t, a, u in rows:
            f.write('%d,%s,rich.click,%d\n' % (t, a, u))

ses()
huawei()
ucloud()
koomessage()
