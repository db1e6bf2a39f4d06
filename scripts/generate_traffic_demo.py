"""Write the demo traffic (call_tracking_traffic_demo.csv) and the demo
channel costs (call_tracking_cost_demo.xml).

Only the traffic's shape, seeded: when visitors arrive and from where, how
long they stay, who of them calls and when, offline calls, and how sales
judge the calls. No lease, no attribution, no lead here: the demo loading
replays this file through the module's real code
(``call.tracking.replay._replay_traffic_file``).

The demo tells a sales story: four salespeople (demo/call_tracking_sales_demo.xml)
answer in their own hours and at their own rates (the PBX names the
``agent`` of each call), deals are won or lost days to weeks after the first
call, at a speed and size that depend on the channel and the salesperson, and
Monday morning is the rush the staffing advice must cover. The recording
ends on a Monday at 00:00 UTC (the demo loading counts it back from the last
one): its hours are UTC, the demo company's time zone.

Run it again (``python3 scripts/generate_traffic_demo.py``) only to change
the demo; the output is the same for the same seed. A development tool: it
is not shipped with the module (it lived in ``call_tracking/demo/`` before).
"""

import csv
import math
import random
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "call_tracking" / "demo"

SEED = 20260101
DAYS = 176  # six months, within the default session retention (180 days)
CALLS = 150
QUIET_HOURS = 3  # every visit has ended this long before the end
HOLD_MINUTES = 30  # the demo pool's hold time
SITE = "https://shop.example.com"
LANDINGS = ("/", "/services", "/pricing", "/contact", "/blog/boiler-tips")
# channel: (call weight, targeted share)
CHANNELS = {
    "google": (30, 0.80),
    "facebook": (18, 0.62),
    "seo": (20, 0.85),
    "direct": (12, 0.70),
    "billboard": (10, 0.75),
    "radio": (10, 0.55),
}
# channel xml id: monthly spend
COSTS = {
    "demo_channel_google_ads": 1500.0,
    "demo_channel_facebook_ads": 800.0,
    "demo_channel_seo": 300.0,
    "demo_channel_billboard": 1000.0,
    "demo_channel_radio": 700.0,
}
MONTHS = 7  # the months the six months of history touch, this one included
PAID = ("google", "facebook")
OFFLINE_NUMBERS = {"billboard": "+12125550133", "radio": "+12125550134"}
KEYWORDS = ("plumber near me", "emergency plumber", "boiler repair", "leak repair")
# weekday weights (0 is Monday): the week starts busy, the weekend is quiet
WEEKDAYS = (16, 11, 10, 10, 9, 4, 2)
# the Monday-morning rush (UTC hour: calls), on top of the calls above:
# the customers whose boiler broke over the weekend ring the numbers they
# know (the static numbers: no visit), the lines are busy
MONDAY_RUSH = {9: (2, 4), 10: (3, 5), 11: (2, 4)}
RUSH_NUMBERS = {"seo": 4, "direct": 3, "billboard": 2, "radio": 2}
STATIC_NUMBERS = {"seo": "+12125550131", "direct": "+12125550132"}
# salespeople: login: (their UTC hours by weekday set, answer rate, win
# factor, days-to-close factor, deal size factor)
WEEK, MONDAY = frozenset(range(5)), frozenset((0,))
AGENTS = {
    "olena.kovalenko@example.com": (((WEEK, range(7, 13)),), 0.93, 1.3, 0.6, 1.0),
    "taras.bondarenko@example.com": (((WEEK, range(11, 17)), (MONDAY, range(9, 12))),
                                     0.82, 1.0, 1.0, 1.1),
    "iryna.melnyk@example.com": (((WEEK, range(14, 19)), (frozenset((5, 6)), range(6, 19))),
                                 0.55, 0.6, 1.5, 0.8),
    "mark.davis@example.com": (((WEEK, range(6, 10)), (WEEK, range(16, 19)),
                                (MONDAY, range(10, 12))), 0.86, 0.9, 1.3, 1.5),
}  # fmt: skip
# deals per channel: (mean days from the call to the outcome, deal size factor)
DEALS = {
    "google": (7, 1.0),
    "facebook": (12, 0.7),
    "seo": (9, 1.2),
    "direct": (4, 1.1),
    "billboard": (20, 1.6),
    "radio": (15, 0.9),
}
# hour (UTC) weights: the phone rings in business hours
HOURS = ((6, 2), (7, 5), (8, 9), (9, 10), (10, 9), (11, 8), (12, 6), (13, 8), (14, 9),
         (15, 8), (16, 6), (17, 4), (18, 2))  # fmt: skip
# a call not answered: how (the agent's answer rate decides whether)
UNANSWERED = (("missed", 16), ("busy", 5), ("voicemail", 5))
REASONS = {
    "targeted": ("New enquiry", "Price or availability request"),
    "untargeted": (
        "Spam or robocall",
        "Wrong number",
        "Job seeker",
        "Supplier or sales pitch",
        "Existing customer (support)",
    ),
}
# paid-ads visitors per hour and hour weight, who browse and leave (one page
# view each: a small demo that loads fast; their leases run the hold time)
VISITORS_PER_WEIGHT = 0.1
NIGHT_WEIGHT = 0.3
CAMPAIGN_DAYS = 0.08  # share of days with a campaign push
CAMPAIGN_BURST = 15  # extra visitors in one hour of a campaign day: the pool runs short
BURST_CALLERS = 3  # of whom call
LAPSED_SHARE = 0.12  # callers who call after their lease lapsed
# spam: a caller on the demo blocklist (demo/call_tracking_demo.xml) rings
# the printed numbers now and then; a robocaller dials the billboard number
# in bursts of short calls, the third of which the repeat rule catches
BLOCKED_CALLER = "+380443334455"
ROBOCALLER = "+380672223344"
BLOCKED_CALLS = 6
ROBOCALL_BURSTS = 2


def poisson(rng, mean):
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def paid_url(rng, channel):
    path = rng.choice(LANDINGS)
    if channel == "google":
        term = rng.choice(KEYWORDS).replace(" ", "+")
        query = (
            "utm_source=google&utm_medium=cpc&utm_campaign=spring"
            f"&utm_term={term}&gclid={rng.randbytes(6).hex()}"
        )
        return f"{SITE}{path}?{query}", "https://www.google.com/"
    query = f"utm_source=facebook&utm_medium=cpc&fbclid={rng.randbytes(6).hex()}"
    return f"{SITE}{path}?{query}", "https://m.facebook.com/"


class Traffic:
    """The seeded traffic, as (time in seconds from the start, row) pairs."""

    def __init__(self, seed=SEED):
        self.rng = random.Random(seed)
        self.end = DAYS * 86400
        self.quiet = self.end - QUIET_HOURS * 3600
        self.rows = []
        self.visitors = 0
        self.callers = [f"+3805{self.rng.randrange(10**7, 10**8)}" for _i in range(260)]
        self.episodes = {}  # caller -> time of their last call
        self.bursts = 0

    def visit(self, at, url, referrer, stay):
        self.visitors += 1
        label = f"v{self.visitors}"
        self.rows.append((at, {"kind": "visit", "visitor": label, "url": url,
                               "referrer": referrer, "stay": stay}))  # fmt: skip
        return label

    @staticmethod
    def weekday(at):
        """The weekday (0 is Monday) of a time: the recording ends on a Monday."""
        return (at // 86400 - DAYS) % 7

    def agent(self, at):
        """The salesperson whose phone rings at ``at``: one of those on duty
        (else none: the provider's salesperson gets the lead)."""
        weekday, hour = self.weekday(at), at % 86400 // 3600
        on_duty = [
            login
            for login, (shifts, *_rest) in AGENTS.items()
            if any(weekday in days and hour in hours for days, hours in shifts)
        ]
        return self.rng.choice(on_duty) if on_duty else None

    def call_plans(self):
        rng, plans = self.rng, []
        day_weights = [WEEKDAYS[self.weekday(day * 86400)] for day in range(DAYS)]
        for _index in range(CALLS):
            day = rng.choices(range(DAYS), day_weights)[0]
            hour = rng.choices([h for h, _w in HOURS], [w for _h, w in HOURS])[0]
            at = day * 86400 + hour * 3600 + rng.randrange(3600)
            if at >= self.quiet:
                at -= 86400
            channel = rng.choices(list(CHANNELS), [w for w, _t in CHANNELS.values()])[0]
            plans.append((at, channel))
        return sorted(plans)

    def caller_visit(self, at, channel):
        """The visit behind a website call: a few minutes before it, or
        (paid channels) before a lease that lapsed."""
        rng = self.rng
        if channel in PAID and rng.random() < LAPSED_SHARE:
            stay = rng.uniform(0.5, 6.0)
            before = stay + HOLD_MINUTES + rng.uniform(3, 45)
        else:
            before = rng.uniform(2, 20)
            stay = rng.uniform(0.3, before - 0.2)
        if channel in PAID:
            url, referrer = paid_url(rng, channel)
        elif channel == "seo":
            url, referrer = f"{SITE}{rng.choice(LANDINGS)}", "https://www.google.com/"
        else:
            url, referrer = f"{SITE}{rng.choice(LANDINGS)}", ""
        return self.visit(int(at - before * 60), url, referrer, int(stay * 60))

    def judge(self, at, call, channel):
        """How sales judge a caller's new episode (30 days without a call),
        and, days or weeks later, whether the deal was won or lost."""
        rng = self.rng
        last = self.episodes.get(call["caller"])
        self.episodes[call["caller"]] = at
        if last is not None and at - last <= 30 * 86400:
            return
        _shifts, _rate, wins, speed, size = AGENTS.get(call.get("agent"), ((), 0, 1.0, 1.0, 1.0))
        days, deal = DEALS[channel]
        quality = "targeted" if rng.random() < CHANNELS[channel][1] else "untargeted"
        judged = at + call["ring"] + call["talk"] + 60
        judge = {"kind": "judge", "call_id": call["call_id"], "quality": quality,
                 "revenue": max(3, round(rng.randrange(5, 60) * deal * size)) * 100}  # fmt: skip
        if rng.random() < 0.7:
            judge["reason"] = rng.choice(REASONS[quality])
        self.rows.append((judged, judge))
        if quality == "targeted" and rng.random() < 0.35 * wins:
            outcome = "won"
        elif rng.random() < 0.45:
            outcome = "lost"
        else:
            return
        closed = judged + int(rng.expovariate(1 / (days * speed)) * 86400) + 3600
        if closed < self.quiet:  # else the deal is still open
            self.rows.append((closed, {"kind": "judge", "call_id": call["call_id"],
                                       "outcome": outcome}))  # fmt: skip

    def add_call(self, at, channel, call_id, visitor=None, dialled=None, rush=False):
        rng = self.rng
        call = {"kind": "call", "call_id": call_id}
        if visitor:
            call["visitor"] = visitor
        elif dialled:
            call["to"] = dialled
        elif channel in OFFLINE_NUMBERS:
            call["to"] = OFFLINE_NUMBERS[channel]
        else:
            call["visitor"] = self.caller_visit(at, channel)
        agent = self.agent(at)
        rate = AGENTS[agent][1] if agent else 0.74
        if rush:
            rate *= 0.8  # the lines are busy
        if rng.random() < rate:
            status = "answered"
        else:
            status = rng.choices(*zip(*UNANSWERED, strict=True))[0]
            if rush and status == "missed" and rng.random() < 0.5:
                status = "busy"
        if agent:
            call["agent"] = agent
        call.update(
            caller=rng.choice(self.callers),
            ring=rng.randrange(5, 30),
            talk=rng.randrange(20, 600) if status == "answered" else 0,
            status=status,
        )
        self.rows.append((at, call))
        self.judge(at, call, channel)

    def calls(self):
        for index, (at, channel) in enumerate(self.call_plans()):
            self.add_call(at, channel, f"demo-call-{index:04d}")

    def monday_rush(self):
        """The Monday-morning calls to the numbers the callers know."""
        rng, index = self.rng, 0
        for day in range(DAYS):
            if self.weekday(day * 86400):
                continue
            for hour, (low, high) in MONDAY_RUSH.items():
                for _call in range(rng.randint(low, high)):
                    at = day * 86400 + hour * 3600 + rng.randrange(3600)
                    if at >= self.quiet:
                        continue
                    channel = rng.choices(list(RUSH_NUMBERS), list(RUSH_NUMBERS.values()))[0]
                    number = STATIC_NUMBERS.get(channel) or OFFLINE_NUMBERS[channel]
                    index += 1
                    self.add_call(at, channel, f"demo-call-m{index:03d}", dialled=number, rush=True)

    def browsers(self):
        """The paid-ads visitors who do not call."""
        rng = self.rng
        for day in range(DAYS):
            burst_hour = rng.choice(HOURS)[0] if rng.random() < CAMPAIGN_DAYS else None
            boost = 0.5 if day % 7 >= 5 else 1.0
            for hour in range(24):
                weight = dict(HOURS).get(hour, NIGHT_WEIGHT)
                count = poisson(rng, weight * VISITORS_PER_WEIGHT * boost)
                callers = ()
                if hour == burst_hour:
                    count += CAMPAIGN_BURST
                    # a few of the campaign's visitors call: some of them
                    # were shown the fallback number
                    callers = rng.sample(range(count), BURST_CALLERS)
                for index in range(count):
                    at = day * 86400 + hour * 3600 + rng.randrange(3600)
                    if at + HOLD_MINUTES * 60 >= self.quiet:
                        continue
                    channel = rng.choices(PAID, (30, 18))[0]
                    url, referrer = paid_url(rng, channel)
                    if index not in callers:
                        self.visit(at, url, referrer, 0)
                        continue
                    stay = rng.randrange(30, 300)
                    visitor = self.visit(at, url, referrer, stay)
                    self.bursts += 1
                    call_at = at + stay + rng.randrange(30, 300)
                    self.add_call(call_at, channel, f"demo-call-b{self.bursts:03d}", visitor)

    def spam(self):
        """Spam calls, drawn from their own seed so that the rest of the
        traffic stays as it was."""
        rng = random.Random(SEED + 2)
        for index in range(BLOCKED_CALLS):
            at = rng.randrange(DAYS) * 86400 + rng.randrange(8, 18) * 3600
            at = min(at, self.quiet - 3600)
            talk = rng.randrange(0, 4)
            self.rows.append((at, {"kind": "call", "call_id": f"demo-spam-{index:02d}",
                                   "caller": BLOCKED_CALLER,
                                   "to": rng.choice(list(OFFLINE_NUMBERS.values())),
                                   "ring": rng.randrange(3, 10), "talk": talk,
                                   "status": "answered" if talk else "missed"}))  # fmt: skip
        for burst in range(ROBOCALL_BURSTS):
            at = (burst + 1) * DAYS // (ROBOCALL_BURSTS + 1) * 86400 + 11 * 3600
            for index in range(3):
                at += rng.randrange(60, 150)
                self.rows.append((at, {"kind": "call", "call_id": f"demo-spam-r{burst}{index}",
                                       "caller": ROBOCALLER, "to": OFFLINE_NUMBERS["billboard"],
                                       "ring": 2, "talk": rng.randrange(1, 4),
                                       "status": "answered"}))  # fmt: skip


def generate():
    """The traffic rows in time order, their time as ``ago`` (seconds
    before the end)."""
    traffic = Traffic()
    traffic.calls()
    traffic.monday_rush()
    traffic.browsers()
    traffic.spam()
    traffic.rows.sort(key=lambda item: item[0])
    return [dict(row, ago=traffic.end - at) for at, row in traffic.rows]


def costs():
    """The demo costs: one row per channel and month, dated relative to the
    day the demo is loaded."""
    rng = random.Random(SEED + 1)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<odoo>",
        "    <!-- Written by scripts/generate_traffic_demo.py: the monthly spend of each",
        "         paid channel over the months of the demo history. -->",
    ]
    for back in range(MONTHS - 1, -1, -1):
        for xml_id, monthly in COSTS.items():
            start = f"(DateTime.today() - relativedelta(months={back}, day=1))"
            lines += [
                f'    <record id="demo_cost_{xml_id[13:]}_{back}" model="call.tracking.cost">',
                f'        <field name="channel_id" ref="{xml_id}"/>',
                '        <field name="company_id" ref="base.main_company"/>',
                f'        <field name="date_from" eval="{start}.strftime(\'%Y-%m-%d\')"/>',
                (
                    f'        <field name="date_to" eval="({start} + relativedelta(day=31))'
                    ".strftime('%Y-%m-%d')\"/>"
                ),
                f'        <field name="amount">{round(monthly * rng.uniform(0.8, 1.2), 2)}</field>',
                '        <field name="name">Monthly spend</field>',
                "    </record>",
            ]
    lines.append("</odoo>")
    return "\n".join(lines) + "\n"


def main():
    (DEMO / "call_tracking_cost_demo.xml").write_text(costs())
    path = DEMO / "call_tracking_traffic_demo.csv"
    columns = ("ago", "kind", "visitor", "url", "referrer", "stay", "call_id", "caller", "to",
               "ring", "talk", "status", "quality", "reason", "outcome", "revenue",
               "agent")  # fmt: skip
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(generate())


if __name__ == "__main__":
    main()
