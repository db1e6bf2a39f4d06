import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..report.call_tracking_call_report import HOURS, WEEKDAYS
from ..tools.staffing import Unservable, agents_needed, service_level

_logger = logging.getLogger(__name__)

# statuses of a call nobody picked up, by reason
NO_ANSWER_STATUSES = ("missed", "voicemail", "failed")
BUSY_STATUSES = ("busy",)


class CallTrackingStaffing(models.Model):
    """How many people must answer the phone, per weekday and hour.

    One row per company, weekday and hour (168 a company), remade by
    :meth:`_refresh` (a daily cron and the Refresh button) from the calls of
    the last weeks (``res.company.call_tracking_staffing_weeks``):

    * the measured demand: calls per hour (the hour's calls divided by the
      weeks), the average handling time (talk plus the wrap-up) and the
      missed calls by reason: nobody answered, busy, or outside the
      company's working hours (its working schedule);
    * the advice: the agents that Erlang C (``tools/staffing.py``) needs for
      the company's service level at its maximum occupancy, shown against
      the salespeople who actually answered calls in that hour (on average
      over the weeks) and the service level they reach.
    """

    _name = "call.tracking.staffing"
    _inherit = ["call.tracking.report.ratio.mixin"]
    _description = "Call Tracking Staffing Advice"
    _order = "company_id, weekday, hour"
    _rec_name = "hour"
    _report_ratios = {
        "missed_rate": (["missed_count"], ["call_count"], 100.0),
    }

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    weekday = fields.Selection(WEEKDAYS, required=True, readonly=True)
    hour = fields.Selection(HOURS, required=True, readonly=True)
    in_working_hours = fields.Boolean(
        readonly=True, help="The hour is within the company's working schedule."
    )
    weeks = fields.Integer(readonly=True, aggregator="max", help="Weeks of calls measured.")
    call_count = fields.Integer(string="Calls", readonly=True, aggregator="sum")
    answered_count = fields.Integer(string="Answered", readonly=True, aggregator="sum")
    missed_count = fields.Integer(string="Missed", readonly=True, aggregator="sum")
    missed_no_answer_count = fields.Integer(
        string="Missed: No Answer", readonly=True, aggregator="sum"
    )
    missed_busy_count = fields.Integer(string="Missed: Busy", readonly=True, aggregator="sum")
    missed_outside_count = fields.Integer(
        string="Missed: Outside Working Hours", readonly=True, aggregator="sum"
    )
    missed_rate = fields.Float(string="Missed (%)", readonly=True, aggregator="avg")
    arrivals = fields.Float(
        string="Calls per Hour",
        digits=(16, 2),
        readonly=True,
        aggregator="sum",
        help="Calls of this weekday and hour, on average per week.",
    )
    handling_time = fields.Float(
        string="Average Handling Time (s)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Average talk time of the answered calls plus the wrap-up time.",
    )
    offered_load = fields.Float(
        string="Offered Load (Erlang)", digits=(16, 2), readonly=True, aggregator="sum"
    )
    agents_needed = fields.Integer(
        readonly=True,
        aggregator="max",
        help="People needed on the phone for the company's service level (Erlang C).",
    )
    agents_answering = fields.Float(
        string="Salespeople Answering",
        digits=(16, 2),
        readonly=True,
        aggregator="max",
        help="Salespeople who answered calls in this hour, on average over the weeks.",
    )
    staffing_gap = fields.Float(
        string="Missing Agents",
        digits=(16, 2),
        readonly=True,
        aggregator="max",
        help="Agents needed minus the salespeople who answered (negative: more than enough).",
    )
    advised_service_level = fields.Float(
        string="Service Level Advised (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="min",
        help="The share answered within the answer time with the advised agents.",
    )
    waiting_probability = fields.Float(
        string="Callers Waiting (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="max",
        help="The share of callers who wait with the advised agents.",
    )
    occupancy = fields.Float(
        string="Occupancy (%)", digits=(16, 1), readonly=True, aggregator="max"
    )
    current_service_level = fields.Float(
        string="Service Level Today (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="min",
        help="The share answered within the answer time with the salespeople who answered "
        "(empty when they cannot serve the load at all).",
    )
    advice = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "company_weekday_hour_unique",
            "UNIQUE(company_id, weekday, hour)",
            "One staffing row per company, weekday and hour.",
        ),
    ]

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.model
    def action_refresh(self):
        """Remake the advice of the user's companies (managers only)."""
        if not self.env.user.has_group("call_tracking.call_tracking_group_manager"):
            raise AccessError(self.env._("Only Call Tracking administrators can refresh it."))
        self.sudo()._refresh(self.env.companies)
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    @api.model
    def _cron_refresh(self):
        self._refresh(self.env["res.company"].search([]))

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _refresh(self, companies, now=None):
        """Remake the 168 rows of each company from its recent calls."""
        now = now or fields.Datetime.now()
        for company in companies:
            rows = self._measure(company, now)
            self.search([("company_id", "=", company.id)]).unlink()
            self.create(rows)
            _logger.info("staffing advice of %s: %d rows", company.name, len(rows))

    @api.model
    def _measure(self, company, now):
        weeks = company.call_tracking_staffing_weeks or 4
        self.env["call.tracking.call"].flush_model(
            ["company_id", "start_at", "status", "talk_duration", "user_id", "is_test", "is_spam"]
        )
        # one bulk read: the calls of each local weekday and hour
        self.env.cr.execute(
            SQL(
                """
                SELECT extract(isodow FROM x.local_start)::int AS weekday,
                       extract(hour FROM x.local_start)::int AS hour,
                       count(*) AS calls,
                       count(*) FILTER (WHERE c.status = 'answered') AS answered,
                       COALESCE(sum(c.talk_duration) FILTER (WHERE c.status = 'answered'), 0)
                           AS talk,
                       count(*) FILTER (WHERE c.status IN %(no_answer)s) AS no_answer,
                       count(*) FILTER (WHERE c.status IN %(busy)s) AS busy,
                       count(DISTINCT (x.local_start::date, c.user_id))
                           FILTER (WHERE c.status = 'answered' AND c.user_id IS NOT NULL)
                           AS agent_hours
                  FROM call_tracking_call c
            CROSS JOIN LATERAL (
                       SELECT timezone(%(tz)s, timezone('UTC', c.start_at)) AS local_start
                   ) x
                 WHERE c.company_id = %(company)s
                   AND c.start_at >= %(since)s
                   AND c.start_at < %(now)s
                   AND c.is_test IS NOT TRUE
                   AND c.is_spam IS NOT TRUE
              GROUP BY 1, 2
                """,
                no_answer=NO_ANSWER_STATUSES,
                busy=BUSY_STATUSES,
                tz=company.partner_id.tz or "UTC",
                company=company.id,
                since=now - timedelta(weeks=weeks),
                now=now,
            )
        )
        measured = {(row[0], row[1]): row for row in self.env.cr.fetchall()}
        working = self._working_hours(company)
        rows = []
        for weekday in range(1, 8):
            for hour in range(24):
                _wd, _h, calls, answered, talk, no_answer, busy, agent_hours = measured.get(
                    (weekday, hour), (weekday, hour, 0, 0, 0, 0, 0, 0)
                )
                inside = (weekday, hour) in working
                rows.append(
                    {
                        "company_id": company.id,
                        "weekday": str(weekday),
                        "hour": f"{hour:02d}",
                        "in_working_hours": inside,
                        "weeks": weeks,
                        "call_count": calls,
                        "answered_count": answered,
                        "missed_count": no_answer + busy,
                        "missed_no_answer_count": no_answer if inside else 0,
                        "missed_busy_count": busy if inside else 0,
                        "missed_outside_count": 0 if inside else no_answer + busy,
                        "missed_rate": 100.0 * (no_answer + busy) / calls if calls else None,
                        **self._advise(company, calls / weeks, answered, talk, agent_hours / weeks),
                    }
                )
        return rows

    @api.model
    def _advise(self, company, arrivals, answered, talk, answering):
        """The advice of one weekday and hour (Erlang C)."""
        handling = (talk / answered if answered else 0.0) + company.call_tracking_staffing_wrapup
        values = {
            "arrivals": arrivals,
            "handling_time": handling if arrivals else 0.0,
            "offered_load": arrivals * handling / 3600.0,
            "agents_answering": answering,
            "agents_needed": 0,
            "staffing_gap": -answering,
            "advised_service_level": 100.0,
            "waiting_probability": 0.0,
            "occupancy": 0.0,
            "current_service_level": 100.0 if not arrivals else None,
            "advice": False,
        }
        if not arrivals:
            return values
        level = company.call_tracking_staffing_service_level / 100.0
        answer_seconds = company.call_tracking_staffing_answer_seconds
        try:
            advice = agents_needed(
                arrivals,
                handling,
                interval_seconds=3600,
                target_level=level,
                answer_seconds=answer_seconds,
                max_occupancy=company.call_tracking_staffing_max_occupancy / 100.0,
            )
        except Unservable:
            values["advice"] = self.env._("Cannot be served")
            return values
        values.update(
            agents_needed=advice.agents,
            staffing_gap=advice.agents - answering,
            advised_service_level=100.0 * advice.service_level,
            waiting_probability=100.0 * advice.waiting_probability,
            occupancy=100.0 * advice.occupancy,
        )
        try:
            current = service_level(round(answering), advice.load, handling, answer_seconds)
            values["current_service_level"] = 100.0 * max(current, 0.0)
        except Unservable:
            values["advice"] = self.env._("Today's salespeople cannot serve this load")
        return values

    @api.model
    def _working_hours(self, company):
        """``{(isoweekday, hour)}`` within the company's working schedule (an
        hour counts when an attendance covers part of it); every hour when
        the company has no schedule."""
        calendar = company.resource_calendar_id
        if not calendar:
            return {(weekday, hour) for weekday in range(1, 8) for hour in range(24)}
        hours = set()
        for attendance in calendar.attendance_ids:
            if attendance.display_type or attendance.day_period == "lunch":
                continue
            weekday = int(attendance.dayofweek) + 1  # 0 = Monday in resource
            for hour in range(24):
                if attendance.hour_from < hour + 1 and attendance.hour_to > hour:
                    hours.add((weekday, hour))
        return hours
