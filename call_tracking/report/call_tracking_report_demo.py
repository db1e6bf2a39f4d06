import base64
import math
import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..models.call_tracking_call import UTM_FIELDS

DEMO_SEED = 20260101
DEMO_CALLS = 400
# six months, within the default session retention (180 days), so that no
# generated session is purged while its calls still point to it
DEMO_DAYS = 176
# channel xml id: (weight, targeted share, tracked with the paid pool, monthly cost)
DEMO_CHANNELS = {
    "demo_channel_google_ads": (30, 0.80, True, 1500.0),
    "demo_channel_facebook_ads": (18, 0.62, True, 800.0),
    "demo_channel_seo": (20, 0.85, False, 300.0),
    "demo_channel_direct": (12, 0.70, False, 0.0),
    "demo_channel_billboard": (10, 0.75, False, 1000.0),
    "demo_channel_radio": (10, 0.55, False, 700.0),
}
# the raw values of a dynamic channel's visits (as the website records them)
DEMO_VISITS = {
    "demo_channel_google_ads": {
        "utm_source": "google",
        "utm_medium": "cpc",
        "click_id": "gclid",
        "referrer": "https://www.google.com/",
        "keywords": ["plumber near me", "emergency plumber", "boiler repair", "leak repair"],
    },
    "demo_channel_facebook_ads": {
        "utm_source": "facebook",
        "utm_medium": "cpc",
        "click_id": "fbclid",
        "referrer": "https://m.facebook.com/",
        "keywords": [],
    },
}
DEMO_LANDINGS = ["/", "/services", "/pricing", "/contact", "/blog/boiler-tips"]
# hour (UTC) weights: the phone rings in business hours
DEMO_HOURS = [(6, 2), (7, 5), (8, 9), (9, 10), (10, 9), (11, 8), (12, 6), (13, 8), (14, 9),
              (15, 8), (16, 6), (17, 4), (18, 2)]  # fmt: skip
DEMO_STATUSES = [("answered", 74), ("missed", 16), ("busy", 5), ("voicemail", 5)]
# paid-ads visitors per hour and hour weight (weekdays; half on weekends,
# more on campaign days), who mostly browse without calling
DEMO_VISITORS_PER_WEIGHT = 0.75
DEMO_NIGHT_WEIGHT = 0.3
DEMO_CAMPAIGN_DAYS = 0.08  # share of days with a campaign push
DEMO_CAMPAIGN_BOOST = 1.7
# a caller of a dynamic channel calls during their lease, or a while after
# it lapsed
DEMO_LAPSED_SHARE = 0.12
# every generated session has expired this long before the demo is loaded
DEMO_QUIET_HOURS = 3


def _poisson(rng, mean):
    """Knuth's Poisson sampler (small means)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class CallTrackingCallReport(models.Model):
    _inherit = "call.tracking.call.report"

    @api.model
    def _demo_ref(self, xml_id):
        record = self.env.ref(f"call_tracking.{xml_id}", raise_if_not_found=False)
        if not record:
            raise ValueError(
                f"The report demo data needs call_tracking.{xml_id}: load the channel, "
                "number, pool and provider demo files before call_tracking_report_demo.xml."
            )
        return record

    @api.model
    def _generate_demo_data(self):
        """Create demo visitor sessions, calls, leads, costs and pool
        statistics in batches, as the real paths would have written them.

        Deterministic for a given day: a fixed seed, dates counted back from
        today so the reports show the last six months. The paid pool's
        sessions come from a simulation of its leases (the free number idle
        the longest; the fallback number when all are leased); the calls of
        its channels are attributed by the webhook's rule (the number's last
        session before the call, live or lapsed); the pool statistics are
        computed from the sessions by the statistics refresh.
        """
        rng = random.Random(DEMO_SEED)
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_notrack=True))
        channels = {xml_id: self._demo_ref(xml_id) for xml_id in DEMO_CHANNELS}
        pool = self._demo_ref("demo_pool_paid")
        provider = self._demo_ref("demo_provider_generic")
        company = provider.company_id
        call_model = env["call.tracking.call"]
        if call_model.search_count([("provider_call_id", "=like", "demo-report-%")], limit=1):
            return True  # generated already (the demo file is loaded again on update)
        pool_numbers = pool.number_ids.sorted(lambda n: (n.sequence, n.id))
        users = (
            env.ref("base.user_admin") | env.ref("base.user_demo", raise_if_not_found=False)
        ).filtered("active")
        team = env.ref("sales_team.team_sales_department", raise_if_not_found=False)
        reasons = env["call.tracking.quality.reason"].search([])
        reasons_by_quality = {
            quality: reasons.filtered(lambda r, q=quality: r.quality == q)
            for quality in ("targeted", "untargeted")
        }
        won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(days=DEMO_DAYS)
        quiet = now - timedelta(hours=DEMO_QUIET_HOURS)
        callers = [f"+3805{rng.randrange(10**7, 10**8)}" for _i in range(260)]
        channel_keys = list(DEMO_CHANNELS)
        weights = [DEMO_CHANNELS[key][0] for key in channel_keys]

        # 1. the calls, in time order
        plans = []
        for _index in range(DEMO_CALLS):
            day = rng.randrange(DEMO_DAYS)
            hour = rng.choices([h for h, _w in DEMO_HOURS], [w for _h, w in DEMO_HOURS])[0]
            start_at = (start + timedelta(days=day)).replace(hour=hour) + timedelta(
                minutes=rng.randrange(60), seconds=rng.randrange(60)
            )
            if start_at >= quiet:
                start_at -= timedelta(days=1)
            plans.append(
                {
                    "start_at": start_at,
                    "caller": rng.choice(callers),
                    "channel_key": rng.choices(channel_keys, weights)[0],
                    "status": rng.choices(*zip(*DEMO_STATUSES, strict=True))[0],
                }
            )
        plans.sort(key=lambda plan: plan["start_at"])

        # 2. the paid pool's visitor sessions and the attribution of its calls
        sessions = self._demo_pool_sessions(rng, pool, pool_numbers, plans, start, quiet)
        self._demo_attribute_calls(plans, sessions, pool_numbers, channels)

        # 3. the leads of the calls, grouped per caller (repeat callers within
        # 30 days join the open lead), judged and closed
        open_lead = {}  # caller -> (lead plan index, last call time)
        lead_plans = []
        for plan in plans:
            known = open_lead.get(plan["caller"])
            if known and plan["start_at"] - known[1] <= timedelta(days=30):
                plan["lead"] = known[0]
                plan["is_repeat"] = True
            else:
                plan["lead"] = len(lead_plans)
                plan["is_repeat"] = False
                lead_plans.append(plan)
            open_lead[plan["caller"]] = (plan["lead"], plan["start_at"])
        lead_vals = []
        for plan in lead_plans:
            channel = plan["channel"]
            targeted_share = DEMO_CHANNELS[plan["channel_key"]][1] if channel else 0.5
            quality = "targeted" if rng.random() < targeted_share else "untargeted"
            reason = reasons_by_quality[quality]
            lead_vals.append(
                {
                    "name": self.env._(
                        "Call from %(caller)s via %(channel)s",
                        caller=plan["caller"],
                        channel=channel.name or self.env._("an unknown channel"),
                    ),
                    "type": "opportunity",
                    "phone": plan["caller"],
                    "company_id": company.id,
                    "user_id": rng.choice(users).id,
                    "team_id": team.id if team else False,
                    "tracking_channel_id": channel.id,
                    "source_id": plan["utm"]["source_id"],
                    "medium_id": plan["utm"]["medium_id"],
                    "campaign_id": plan["utm"]["campaign_id"],
                    "expected_revenue": rng.randrange(5, 60) * 100.0,
                    "call_quality": quality,
                    "call_quality_reason_id": rng.choice(reason).id
                    if reason and rng.random() < 0.7
                    else False,
                }
            )
        leads = env["crm.lead"].create(lead_vals)
        for plan, lead in zip(lead_plans, leads, strict=True):
            plan["lead_record"] = lead
        old_enough = [
            lead
            for plan, lead in zip(lead_plans, leads, strict=True)
            if plan["start_at"] < now - timedelta(days=14)
        ]
        won = env["crm.lead"].browse(
            [
                lead.id
                for lead in old_enough
                if lead.call_quality == "targeted" and rng.random() < 0.35
            ]
        )
        lost = env["crm.lead"].browse(
            [lead.id for lead in old_enough if lead.id not in won.ids and rng.random() < 0.45]
        )
        if won_stage and won:
            won.write({"stage_id": won_stage.id, "probability": 100})
        if lost:
            lost.action_set_lost()

        # 4. the calls
        call_vals = []
        for index, plan in enumerate(plans):
            lead = lead_plans[plan["lead"]]["lead_record"]
            answered = plan["status"] == "answered"
            ring = rng.randrange(5, 30)
            talk = rng.randrange(20, 600) if answered else 0
            start_at = plan["start_at"]
            session = plan["session"]
            channel = plan["channel"]
            if session:
                landing = session["landing_url"]
            elif channel and not channel.is_offline:
                landing = rng.choice(DEMO_LANDINGS)
            else:
                landing = False
            call_vals.append(
                {
                    "provider_id": provider.id,
                    "provider_call_id": f"demo-report-{index:04d}",
                    "company_id": company.id,
                    "caller_number": plan["caller"],
                    "called_number": plan["called_number"],
                    "number_id": plan["number"].id,
                    "start_at": start_at,
                    "answer_at": start_at + timedelta(seconds=ring) if answered else False,
                    "end_at": start_at + timedelta(seconds=ring + talk),
                    "duration": ring + talk,
                    "talk_duration": talk,
                    "status": plan["status"],
                    "session_id": session["id"] if session else False,
                    "channel_id": channel.id,
                    "attribution_method": plan["method"],
                    "attribution_confidence": {
                        "session": "high",
                        "session_expired": "low",
                        "static": "high",
                        "default": "none",
                    }[plan["method"]],
                    **plan["utm"],
                    "utm_term": session["utm_term"] if session else False,
                    "landing_url": landing,
                    "is_repeat": plan["is_repeat"],
                    "is_first_call": not plan["is_repeat"],
                    "lead_id": lead.id,
                    "user_id": lead.user_id.id,
                    "team_id": lead.team_id.id,
                }
            )
        calls = call_model.create(call_vals)
        self._demo_log_calls(calls, leads, lead_plans)

        # 5. the costs: one row per channel and month
        cost_vals = []
        month = fields.Date.start_of(start.date(), "month")
        while month <= now.date():
            for key, (_w, _t, _d, monthly) in DEMO_CHANNELS.items():
                if monthly:
                    cost_vals.append(
                        {
                            "channel_id": channels[key].id,
                            "company_id": company.id,
                            "date_from": month,
                            "date_to": fields.Date.end_of(month, "month"),
                            "amount": round(monthly * rng.uniform(0.8, 1.2), 2),
                            "name": self.env._("Monthly spend"),
                        }
                    )
            month = fields.Date.add(month, months=1)
        env["call.tracking.cost"].create(cost_vals)

        # 6. the pool's hourly statistics, derived from its sessions by the
        # same refresh as the cron's, over the whole period
        first = min((session["assigned_at"] for session in sessions), default=start)
        env["call.tracking.pool.stat"]._refresh(pool, since=min(first, start))
        return True

    @api.model
    def _demo_visit(self, rng, channel_key, channel, assigned_at, visit_minutes, hold):
        """The raw facts of one paid-ads visit, as the website records them."""
        facts = DEMO_VISITS[channel_key]
        last_seen_at = assigned_at + timedelta(seconds=int(visit_minutes * 60))
        return {
            "visitor_key": base64.urlsafe_b64encode(rng.randbytes(18)).decode(),
            "channel_id": channel.id,
            "assigned_at": assigned_at,
            "last_seen_at": last_seen_at,
            # each page view extends the lease by the hold time
            "expires_at": last_seen_at + timedelta(minutes=hold),
            "utm_source": facts["utm_source"],
            "utm_medium": facts["utm_medium"],
            "utm_campaign": channel.campaign_id.name or False,
            "utm_term": rng.choice(facts["keywords"]) if facts["keywords"] else False,
            "gclid": facts["click_id"] == "gclid" and rng.randbytes(12).hex(),
            "fbclid": facts["click_id"] == "fbclid" and rng.randbytes(12).hex(),
            "referrer": facts["referrer"],
            "landing_url": rng.choice(DEMO_LANDINGS),
        }

    @api.model
    def _demo_pool_sessions(self, rng, pool, pool_numbers, plans, start, quiet):
        """Simulate the paid pool: visitors who browse and leave, and the
        visitors behind the calls of its channels (a few minutes before a
        call, or before a lapsed lease). Leases go to the free number idle
        the longest, as in ``call.tracking.session._lease_number``; when every
        number is leased the visitor gets the fallback number (a ``default``
        session of the pool, an exhaustion). Inserted in one statement;
        returns the session dicts with their ids."""
        dynamic_keys = [key for key, values in DEMO_CHANNELS.items() if values[2]]
        if not pool_numbers or not dynamic_keys:
            return []
        channels = {key: self._demo_ref(key) for key in dynamic_keys}
        key_weights = [DEMO_CHANNELS[key][0] for key in dynamic_keys]
        hold = pool.hold_minutes
        arrivals = []  # (time, channel key, visit minutes, call plan or None)
        for plan in plans:
            if plan["channel_key"] not in channels:
                continue
            if rng.random() < DEMO_LAPSED_SHARE:
                visit = rng.uniform(0.5, 6.0)
                before = visit + hold + rng.uniform(3, 45)
            else:
                before = rng.uniform(2, 20)
                visit = rng.uniform(0.3, before - 0.2)
            arrivals.append(
                (plan["start_at"] - timedelta(minutes=before), plan["channel_key"], visit, plan)
            )
        peak_weights = dict(DEMO_HOURS)
        day = start.replace(hour=0)
        while day < quiet:
            boost = DEMO_CAMPAIGN_BOOST if rng.random() < DEMO_CAMPAIGN_DAYS else 1.0
            if day.weekday() >= 5:
                boost *= 0.5
            for hour in range(24):
                hour_at = day + timedelta(hours=hour)
                weight = peak_weights.get(hour, DEMO_NIGHT_WEIGHT)
                for _i in range(_poisson(rng, weight * DEMO_VISITORS_PER_WEIGHT * boost)):
                    at = hour_at + timedelta(seconds=rng.randrange(3600))
                    visit = min(rng.expovariate(1 / 5.0), 60.0)
                    if start <= at and at + timedelta(minutes=visit + hold) < quiet:
                        key = rng.choices(dynamic_keys, key_weights)[0]
                        arrivals.append((at, key, visit, None))
            day += timedelta(days=1)
        arrivals.sort(key=lambda arrival: arrival[0])

        lease_ends = {number.id: None for number in pool_numbers}
        sessions = []
        for at, key, visit, plan in arrivals:
            at = at.replace(microsecond=0)
            session = self._demo_visit(rng, key, channels[key], at, visit, hold)
            free = [nid for nid, end in lease_ends.items() if end is None or end <= at]
            if free:
                number_id = min(free, key=lambda nid: (lease_ends[nid] is not None,
                                                       lease_ends[nid] or at, nid))  # fmt: skip
                lease_ends[number_id] = session["expires_at"]
                session.update(mode="dynamic", number_id=number_id)
            else:
                # the pool is full: the fallback number for the hold time
                session.update(
                    mode="default",
                    number_id=None,
                    last_seen_at=at,
                    expires_at=at + timedelta(minutes=hold),
                )
            if plan:
                plan["visit"] = session
            sessions.append(session)
        self._demo_insert_sessions(pool, sessions)
        return sessions

    @api.model
    def _demo_insert_sessions(self, pool, sessions):
        """Insert the sessions in one statement; point each pool number at its
        last (expired) lease, as the assignment leaves it."""
        if not sessions:
            return
        columns = [
            "visitor_key", "channel_id", "mode", "number_id", "assigned_at",
            "last_seen_at", "expires_at", "utm_source", "utm_medium", "utm_campaign",
            "utm_term", "gclid", "fbclid", "referrer", "landing_url",
        ]  # fmt: skip
        integers, stamps = SQL("int4[]"), SQL("timestamp[]")
        types = {
            "channel_id": integers, "number_id": integers, "assigned_at": stamps,
            "last_seen_at": stamps, "expires_at": stamps,
        }  # fmt: skip
        website = self.env["website"].search(
            [("company_id", "in", (pool.company_id.id, False))], limit=1
        )
        rows = self.env.execute_query(
            SQL(
                """
            INSERT INTO call_tracking_session (%(columns)s, company_id, website_id, pool_id,
                create_uid, create_date, write_uid, write_date)
            SELECT v.*, %(company)s, %(website)s, %(pool)s,
                   %(uid)s, v.assigned_at, %(uid)s, v.last_seen_at
              FROM unnest(%(arrays)s) AS v(%(columns)s)
         RETURNING id, visitor_key
                """,
                columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                arrays=SQL(", ").join(
                    SQL(
                        "%s::%s",
                        [session[c] or None for session in sessions],
                        types.get(c, SQL("varchar[]")),
                    )
                    for c in columns
                ),
                company=pool.company_id.id,
                website=website.id or None,
                pool=pool.id,
                uid=self.env.uid,
            )
        )
        ids = {key: session_id for session_id, key in rows}
        for session in sessions:
            session["id"] = ids[session["visitor_key"]]
        self.env.execute_query(
            SQL(
                """
            UPDATE call_tracking_number n
               SET lease_session_id = last.id, lease_expires_at = last.expires_at,
                   last_released_at = last.expires_at
              FROM (SELECT DISTINCT ON (number_id) number_id, id, expires_at
                      FROM call_tracking_session
                     WHERE pool_id = %(pool)s AND mode = 'dynamic'
                  ORDER BY number_id, assigned_at DESC) AS last
             WHERE n.id = last.number_id
                """,
                pool=pool.id,
            )
        )
        self.env["call.tracking.session"].invalidate_model()
        self.env["call.tracking.number"].invalidate_model(
            ["lease_session_id", "lease_expires_at", "last_released_at"]
        )

    @api.model
    def _demo_attribute_calls(self, plans, sessions, pool_numbers, channels):
        """Attribute each call as the webhook does (``_get_attribution_values``):
        a pool number's last session before the call (live or lapsed), a
        static channel's number, or a fallback number (the pool was full)."""
        pool = pool_numbers.pool_id[:1]
        fallback = pool.default_number or pool.company_id.call_tracking_default_number
        by_number = {}
        for session in sessions:
            if session["mode"] == "dynamic":
                by_number.setdefault(session["number_id"], []).append(session)
        numbers = {number.id: number for number in pool_numbers}
        channel_by_id = {channel.id: channel for channel in channels.values()}
        utm_mixin = self.env["utm.mixin"]
        utm_cache = {}
        no_channel = self.env["call.tracking.channel"]
        for plan in plans:
            visit = plan.get("visit")
            channel = channels[plan["channel_key"]]
            session = None
            if visit is None:
                plan.update(method="static", number=channel.number_id, channel=channel)
            elif visit["mode"] == "default":
                plan.update(method="default", number=pool_numbers.browse(), channel=no_channel)
            else:
                number_sessions = by_number[visit["number_id"]]
                session = max(
                    (s for s in number_sessions if s["assigned_at"] <= plan["start_at"]),
                    key=lambda s: s["assigned_at"],
                )
                live = session["expires_at"] >= plan["start_at"]
                plan.update(
                    method="session" if live else "session_expired",
                    number=numbers[visit["number_id"]],
                    channel=channel_by_id[session["channel_id"]],
                )
            plan["session"] = session
            plan["called_number"] = plan["number"].number or fallback or False
            plan["utm"] = {}
            for fname, model, session_field in UTM_FIELDS:
                raw = session and session[session_field]
                if raw:
                    if (model, raw) not in utm_cache:
                        utm_cache[model, raw] = utm_mixin._find_or_create_record(model, raw).id
                    plan["utm"][fname] = utm_cache[model, raw]
                else:
                    plan["utm"][fname] = plan["channel"][fname].id

    @api.model
    def _demo_log_calls(self, calls, leads, lead_plans):
        """The call note of each call on its lead, written by the webhook's
        own method, then dated when the call ended; the leads are dated
        by their first call."""
        messages = self.env["mail.message"]
        last_id = messages.search([], order="id desc", limit=1).id or 0
        for call in calls:
            call._post_call_message()
        notes = messages.search(
            [("id", ">", last_id), ("model", "=", "crm.lead"), ("res_id", "in", leads.ids)],
            order="id",
        )
        if len(notes) != len(calls):
            return
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
            UPDATE mail_message m SET date = v.date, create_date = v.date, write_date = v.date
              FROM unnest(%s::int4[], %s::timestamp[]) AS v(id, date)
             WHERE m.id = v.id
                """,
                notes.ids,
                [call.end_at for call in calls],
            )
        )
        self.env.execute_query(
            SQL(
                """
            UPDATE crm_lead l SET create_date = v.date
              FROM unnest(%s::int4[], %s::timestamp[]) AS v(id, date)
             WHERE l.id = v.id
                """,
                leads.ids,
                [plan["start_at"] for plan in lead_plans],
            )
        )
        self.env.invalidate_all()
