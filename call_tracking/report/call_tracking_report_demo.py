import random
from datetime import timedelta

from odoo import api, fields, models

from ..tools.pool_sizing import erlang_b, offered_load

DEMO_SEED = 20260101
DEMO_CALLS = 400
DEMO_DAYS = 183
# channel xml id: (weight, targeted share, tracked with the paid pool, monthly cost)
DEMO_CHANNELS = {
    "demo_channel_google_ads": (30, 0.80, True, 1500.0),
    "demo_channel_facebook_ads": (18, 0.62, True, 800.0),
    "demo_channel_seo": (20, 0.85, False, 300.0),
    "demo_channel_direct": (12, 0.70, False, 0.0),
    "demo_channel_billboard": (10, 0.75, False, 1000.0),
    "demo_channel_radio": (10, 0.55, False, 700.0),
}
DEMO_KEYWORDS = ["plumber near me", "emergency plumber", "boiler repair", "leak repair", False]
DEMO_LANDINGS = ["/", "/services", "/pricing", "/contact", "/blog/boiler-tips"]
# hour (UTC) weights: the phone rings in business hours
DEMO_HOURS = [(6, 2), (7, 5), (8, 9), (9, 10), (10, 9), (11, 8), (12, 6), (13, 8), (14, 9),
              (15, 8), (16, 6), (17, 4), (18, 2)]  # fmt: skip
DEMO_STATUSES = [("answered", 74), ("missed", 16), ("busy", 5), ("voicemail", 5)]


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
        """Create demo calls, leads, costs and pool statistics in batches.

        Deterministic for a given day: a fixed seed, dates counted back from
        today so the reports show the last six months.
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
        pool_numbers = pool.number_ids
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
        callers = [f"+3805{rng.randrange(10**7, 10**8)}" for _i in range(260)]
        channel_keys = list(DEMO_CHANNELS)
        weights = [DEMO_CHANNELS[key][0] for key in channel_keys]

        # 1. the calls, in time order, grouped into leads per caller
        plans = []
        for _index in range(DEMO_CALLS):
            day = rng.randrange(DEMO_DAYS)
            hour = rng.choices([h for h, _w in DEMO_HOURS], [w for _h, w in DEMO_HOURS])[0]
            start_at = (start + timedelta(days=day)).replace(hour=hour) + timedelta(
                minutes=rng.randrange(60), seconds=rng.randrange(60)
            )
            if start_at >= now:
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

        # 2. the leads, judged and closed
        lead_vals = []
        for plan in lead_plans:
            channel = channels[plan["channel_key"]]
            targeted = rng.random() < DEMO_CHANNELS[plan["channel_key"]][1]
            quality = "targeted" if targeted else "untargeted"
            reason = reasons_by_quality[quality]
            lead_vals.append(
                {
                    "name": self.env._("Call from %(caller)s", caller=plan["caller"]),
                    "type": "opportunity",
                    "phone": plan["caller"],
                    "company_id": company.id,
                    "user_id": rng.choice(users).id,
                    "team_id": team.id if team else False,
                    "tracking_channel_id": channel.id,
                    "source_id": channel.source_id.id,
                    "medium_id": channel.medium_id.id,
                    "campaign_id": channel.campaign_id.id,
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

        # 3. the calls
        call_vals = []
        for index, plan in enumerate(plans):
            channel = channels[plan["channel_key"]]
            lead = lead_plans[plan["lead"]]["lead_record"]
            dynamic = DEMO_CHANNELS[plan["channel_key"]][2] and pool_numbers
            method = "static"
            number = channel.number_id
            if dynamic:
                number = rng.choice(pool_numbers)
                method = rng.choices(["session", "session_expired", "default"], [82, 10, 8])[0]
            answered = plan["status"] == "answered"
            ring = rng.randrange(5, 30)
            talk = rng.randrange(20, 600) if answered else 0
            start_at = plan["start_at"]
            call_vals.append(
                {
                    "provider_id": provider.id,
                    "provider_call_id": f"demo-report-{index:04d}",
                    "company_id": company.id,
                    "caller_number": plan["caller"],
                    "called_number": number.number if number else False,
                    "number_id": number.id if number else False,
                    "start_at": start_at,
                    "answer_at": start_at + timedelta(seconds=ring) if answered else False,
                    "end_at": start_at + timedelta(seconds=ring + talk),
                    "duration": ring + talk,
                    "talk_duration": talk,
                    "status": plan["status"],
                    "channel_id": channel.id if method != "default" else False,
                    "attribution_method": method,
                    "attribution_confidence": {
                        "session": "high",
                        "session_expired": "low",
                        "static": "high",
                        "default": "none",
                    }[method],
                    "source_id": channel.source_id.id,
                    "medium_id": channel.medium_id.id,
                    "campaign_id": channel.campaign_id.id,
                    "utm_term": rng.choice(DEMO_KEYWORDS) if dynamic else False,
                    "landing_url": rng.choice(DEMO_LANDINGS) if not channel.is_offline else False,
                    "is_repeat": plan["is_repeat"],
                    "is_first_call": not plan["is_repeat"],
                    "lead_id": lead.id,
                    "user_id": lead.user_id.id,
                    "team_id": lead.team_id.id,
                }
            )
        call_model.create(call_vals)

        # 4. the costs: one row per channel and month
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

        # 5. the paid pool's hourly statistics for the last 30 days: arrivals
        # follow the business hours; leases and exhaustions follow Erlang B
        # with the pool's hold time plus a 6-minute average visit
        size = len(pool_numbers) or 5
        stat_vals = []
        hour_at = now - timedelta(days=30)
        peak_weights = dict(DEMO_HOURS)
        while hour_at < now:
            weight = peak_weights.get(hour_at.hour, 0.5)
            arrivals = max(0, round(rng.gauss(weight * size * 0.16, 1.0)))
            load = offered_load(arrivals, pool.hold_minutes, 6.0)
            stat_vals.append(
                {
                    "pool_id": pool.id,
                    "hour": hour_at,
                    "arrivals": arrivals,
                    "exhaustions": round(arrivals * erlang_b(size, load)),
                    "peak_leases": min(size, max(0, round(load + rng.gauss(0, load**0.5)))),
                }
            )
            hour_at += timedelta(hours=1)
        env["call.tracking.pool.stat"].create(stat_vals)
        return True
