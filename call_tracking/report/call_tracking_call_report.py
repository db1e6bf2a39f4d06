from odoo import api, fields, models, tools
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..const import ATTRIBUTION_METHODS, CALL_STATUS, DEVICE_CLASS_SELECTION

HOURS = [(f"{hour:02d}", f"{hour:02d}:00") for hour in range(24)]
WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]
# Statuses counted as a call the company did not pick up.
MISSED_STATUSES = ("missed", "busy", "voicemail", "failed")


class CallTrackingCallReport(models.Model):
    """One row per tracked call, with its marketing context and the outcome of
    its lead, for the marketing and call-centre pivots.

    Lead measures (leads, won leads, won revenue, won share) are carried by the
    lead's *first* call only, so that summing them over any grouping counts
    each lead once: a lead's revenue is attributed to the channel, campaign
    and date of the call that created it (first touch). Shares are ratios
    of the sums of each cell (``call.tracking.report.ratio.mixin``): the
    targeted share is targeted / (targeted + untargeted) calls, the missed
    share missed / (missed + answered) calls, the won share won leads /
    leads. Their view columns hold each row's 0/100 value (NULL where the
    share does not apply: unqualified calls, calls in progress, later calls
    of a lead), for lists and exports.
    """

    _name = "call.tracking.call.report"
    _inherit = ["call.tracking.report.ratio.mixin", "call.tracking.spam.mixin"]
    _description = "Call Tracking Analysis"
    _auto = False
    _rec_name = "start_at"
    _order = "start_at desc, id desc"
    # what the view reads: pending writes of these fields are flushed before
    # any read of the report (a lead won a moment ago counts at once)
    _depends = {
        "call.tracking.call": [
            "company_id", "start_at", "channel_id", "source_id", "medium_id", "campaign_id",
            "utm_term", "landing_url", "device_class", "os_name", "browser", "user_id",
            "team_id", "provider_id", "status", "attribution_method", "quality",
            "quality_reason_id", "lead_id", "caller_number", "is_spam",
            "attribution_probability", "talk_duration", "is_test",
        ],
        "crm.lead": [
            "expected_revenue", "active", "stage_id", "type", "date_closed",
            "first_touch_channel_id", "first_touch_campaign_id",
            "last_touch_channel_id", "last_touch_campaign_id",
        ],
        "crm.stage": ["is_won"],
        "res.company": ["currency_id", "partner_id"],
        "res.partner": ["tz"],
    }  # fmt: skip
    _report_ratios = {
        "missed_rate": (["missed_count"], ["missed_count", "answered_count"], 100.0),
        "targeted_rate": (["targeted_count"], ["targeted_count", "untargeted_count"], 100.0),
        "won_rate": (["won_count"], ["lead_count"], 100.0),
        "days_to_close": (["days_to_won"], ["won_count"], 1.0),
        "avg_won_deal": (["won_revenue"], ["won_count"], 1.0),
        "targeted_win_rate": (["won_targeted_count"], ["targeted_lead_count"], 100.0),
        "revenue_per_call": (["won_revenue"], ["call_count"], 1.0),
    }

    call_id = fields.Many2one("call.tracking.call", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    start_at = fields.Datetime(string="Date", readonly=True)
    hour = fields.Selection(
        HOURS, readonly=True, help="Hour of the call in the company's time zone."
    )
    weekday = fields.Selection(
        WEEKDAYS, readonly=True, help="Day of the week in the company's time zone."
    )
    channel_id = fields.Many2one("call.tracking.channel", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    medium_id = fields.Many2one("utm.medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    # the lead's journey: group by these instead of the call's own channel
    # for a first-touch or last-touch view of the same calls
    first_touch_channel_id = fields.Many2one(
        "call.tracking.channel", string="First Touch Channel", readonly=True
    )
    first_touch_campaign_id = fields.Many2one(
        "utm.campaign", string="First Touch Campaign", readonly=True
    )
    last_touch_channel_id = fields.Many2one(
        "call.tracking.channel", string="Last Touch Channel", readonly=True
    )
    last_touch_campaign_id = fields.Many2one(
        "utm.campaign", string="Last Touch Campaign", readonly=True
    )
    utm_term = fields.Char(string="Keyword", readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    device_class = fields.Selection(DEVICE_CLASS_SELECTION, readonly=True)
    os_name = fields.Char(string="Operating System", readonly=True)
    browser = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    provider_id = fields.Many2one("call.tracking.provider", readonly=True)
    status = fields.Selection(CALL_STATUS, readonly=True)
    attribution_method = fields.Selection(ATTRIBUTION_METHODS, readonly=True)
    quality = fields.Selection(
        [("targeted", "Targeted"), ("untargeted", "Untargeted")], readonly=True
    )
    quality_reason_id = fields.Many2one("call.tracking.quality.reason", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    caller_number = fields.Char(string="Caller", readonly=True)
    is_spam = fields.Boolean(string="Spam", readonly=True)
    attribution_probability = fields.Float(
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
        help="Average probability that the attributed calls' visit or channel is the right "
        "one (calls not attributed are left out).",
    )
    # measures
    call_count = fields.Integer(string="Calls", readonly=True, aggregator="sum")
    caller_key = fields.Integer(
        string="Unique Callers",
        readonly=True,
        aggregator="count_distinct",
        help="Distinct caller numbers.",
    )
    answered_count = fields.Integer(string="Answered", readonly=True, aggregator="sum")
    missed_count = fields.Integer(
        string="Missed",
        readonly=True,
        aggregator="sum",
        help="Missed, busy, voicemail or failed calls.",
    )
    missed_rate = fields.Float(
        string="Missed (%)",
        readonly=True,
        aggregator="avg",
        help="Missed calls among finished calls.",
    )
    targeted_count = fields.Integer(string="Targeted", readonly=True, aggregator="sum")
    untargeted_count = fields.Integer(string="Untargeted", readonly=True, aggregator="sum")
    targeted_rate = fields.Float(
        string="Targeted (%)",
        readonly=True,
        aggregator="avg",
        help="Targeted calls among the qualified (targeted or untargeted) calls.",
    )
    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won Leads", readonly=True, aggregator="sum")
    won_revenue = fields.Monetary(
        readonly=True,
        aggregator="sum",
        currency_field="currency_id",
        help="Expected revenue of the won leads, counted once per lead.",
    )
    won_rate = fields.Float(
        string="Won (%)", readonly=True, aggregator="avg", help="Won leads among the leads."
    )
    # deals: the call-to-deal funnel (calls -> targeted -> opportunity ->
    # won) and how fast and how big the deals of a channel, campaign or
    # salesperson close; lead figures on the lead's first call, as above
    opportunity_count = fields.Integer(
        string="Opportunities",
        readonly=True,
        aggregator="sum",
        help="Leads of the calls that became opportunities (won ones included).",
    )
    targeted_lead_count = fields.Integer(
        string="Targeted Leads",
        readonly=True,
        aggregator="sum",
        help="Leads whose first call was marked targeted.",
    )
    won_targeted_count = fields.Integer(
        string="Won Targeted Leads",
        readonly=True,
        aggregator="sum",
        help="Won leads whose first call was marked targeted.",
    )
    targeted_win_rate = fields.Float(
        string="Win Rate of Targeted (%)",
        readonly=True,
        aggregator="avg",
        help="Won leads among the leads whose first call was targeted.",
    )
    days_to_won = fields.Float(
        string="Days to Won (total)",
        digits=(16, 1),
        readonly=True,
        aggregator="sum",
        help="Days from the first call to the won date, added up over the won leads.",
    )
    days_to_close = fields.Float(
        string="Days to Close",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Average days from a won lead's first call to its won date.",
    )
    avg_won_deal = fields.Monetary(
        string="Average Won Deal",
        readonly=True,
        aggregator="avg",
        currency_field="currency_id",
        help="Expected revenue of the won leads divided by their number.",
    )
    revenue_per_call = fields.Monetary(
        string="Revenue per Call",
        readonly=True,
        aggregator="avg",
        currency_field="currency_id",
        help="Expected revenue of the won leads divided by the calls.",
    )
    talk_duration = fields.Integer(string="Talk Time (s)", readonly=True, aggregator="sum")
    avg_talk_time = fields.Float(
        string="Average Talk Time (s)",
        readonly=True,
        aggregator="avg",
        help="Average talk time of the answered calls.",
    )

    def _query(self):
        """The view's SELECT, reused by the cost report."""
        return SQL(
            """
            SELECT
                c.id AS id,
                c.id AS call_id,
                c.company_id AS company_id,
                company.currency_id AS currency_id,
                c.start_at AS start_at,
                to_char(x.local_start, 'HH24') AS hour,
                extract(isodow FROM x.local_start)::varchar AS weekday,
                c.channel_id AS channel_id,
                c.source_id AS source_id,
                c.medium_id AS medium_id,
                c.campaign_id AS campaign_id,
                touch.first_touch_channel_id AS first_touch_channel_id,
                touch.first_touch_campaign_id AS first_touch_campaign_id,
                touch.last_touch_channel_id AS last_touch_channel_id,
                touch.last_touch_campaign_id AS last_touch_campaign_id,
                c.utm_term AS utm_term,
                c.landing_url AS landing_url,
                c.device_class AS device_class,
                c.os_name AS os_name,
                c.browser AS browser,
                c.user_id AS user_id,
                c.team_id AS team_id,
                c.provider_id AS provider_id,
                c.status AS status,
                c.attribution_method AS attribution_method,
                c.quality AS quality,
                c.quality_reason_id AS quality_reason_id,
                c.lead_id AS lead_id,
                c.caller_number AS caller_number,
                -- IS TRUE, not COALESCE: PostgreSQL estimates a boolean test
                -- from the column's statistics, but an expression's filter
                -- (the spam left out, below) at one half of the rows, which
                -- turns the main pivot's plan into a serial, disk-spilling one
                (c.is_spam IS TRUE) AS is_spam,
                CASE WHEN c.attribution_method IN %(attributed)s
                     THEN c.attribution_probability END AS attribution_probability,
                1 AS call_count,
                hashtextextended(c.caller_number, 0) AS caller_key,
                (c.status = 'answered')::int AS answered_count,
                (c.status IN %(missed)s)::int AS missed_count,
                CASE WHEN c.status IN %(missed)s THEN 100.0
                     WHEN c.status = 'answered' THEN 0.0 END AS missed_rate,
                (c.quality = 'targeted')::int AS targeted_count,
                (c.quality = 'untargeted')::int AS untargeted_count,
                CASE c.quality WHEN 'targeted' THEN 100.0
                     WHEN 'untargeted' THEN 0.0 END AS targeted_rate,
                x.first_of_lead::int AS lead_count,
                (x.first_of_lead AND x.lead_won)::int AS won_count,
                CASE WHEN x.first_of_lead AND x.lead_won
                     THEN lead.expected_revenue ELSE 0.0 END AS won_revenue,
                CASE WHEN x.first_of_lead
                     THEN CASE WHEN x.lead_won THEN 100.0 ELSE 0.0 END END AS won_rate,
                (x.first_of_lead AND (x.lead_won OR lead.type = 'opportunity'))::int
                    AS opportunity_count,
                (x.first_of_lead AND c.quality = 'targeted')::int AS targeted_lead_count,
                (x.first_of_lead AND x.lead_won AND c.quality = 'targeted')::int
                    AS won_targeted_count,
                CASE WHEN x.first_of_lead AND c.quality = 'targeted'
                     THEN CASE WHEN x.lead_won THEN 100.0 ELSE 0.0 END END AS targeted_win_rate,
                CASE WHEN x.first_of_lead AND x.lead_won
                     THEN GREATEST(
                         extract(epoch FROM COALESCE(lead.date_closed, c.start_at) - c.start_at)
                         / 86400.0, 0.0)
                     ELSE 0.0 END AS days_to_won,
                CASE WHEN x.first_of_lead AND x.lead_won
                     THEN GREATEST(
                         extract(epoch FROM COALESCE(lead.date_closed, c.start_at) - c.start_at)
                         / 86400.0, 0.0)
                     END AS days_to_close,
                CASE WHEN x.first_of_lead AND x.lead_won
                     THEN lead.expected_revenue END AS avg_won_deal,
                CASE WHEN x.first_of_lead AND x.lead_won
                     THEN lead.expected_revenue ELSE 0.0 END AS revenue_per_call,
                c.talk_duration AS talk_duration,
                CASE WHEN c.status = 'answered' THEN c.talk_duration END AS avg_talk_time
              FROM call_tracking_call c
         -- LEFT JOINs on primary keys (a call always has a company, a company
         -- its partner): PostgreSQL drops them when no column of theirs is
         -- read, as in the main pivot (no currency, hour or weekday)
         LEFT JOIN res_company company ON company.id = c.company_id
         LEFT JOIN res_partner company_partner ON company_partner.id = company.partner_id
         LEFT JOIN (
                SELECT min(id) AS call_id
                  FROM call_tracking_call
                 WHERE lead_id IS NOT NULL
              GROUP BY lead_id
            ) first_call ON first_call.call_id = c.id
         -- lead figures only on the lead's first call: 1 join per lead, not per call
         LEFT JOIN crm_lead lead ON lead.id = c.lead_id AND first_call.call_id IS NOT NULL
         LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
         -- the lead's first and last touch, on every call of the lead (dropped
         -- by the planner when no touch column is read)
         LEFT JOIN crm_lead touch ON touch.id = c.lead_id
        CROSS JOIN LATERAL (
                SELECT timezone(
                           COALESCE(company_partner.tz, 'UTC'), timezone('UTC', c.start_at)
                       ) AS local_start,
                       first_call.call_id IS NOT NULL AS first_of_lead,
                       COALESCE(lead.active AND stage.is_won, FALSE) AS lead_won
            ) x
             -- test calls (the Test call button) are no traffic
             WHERE c.is_test IS NOT TRUE
            """,
            missed=MISSED_STATUSES,
            attributed=("session", "session_expired", "static"),
        )

    @api.model
    def _read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        """Grouped reads without PostgreSQL's JIT compilation.

        A pivot over a million calls is a sort-bound query whose estimated
        cost (every call a group, as the planner cannot know how many months
        the calls span) passes ``jit_optimize_above_cost``: LLVM then spends
        longer optimising and inlining the expressions than the whole query
        takes to run. The setting is local to the transaction and restored
        after the read.
        """
        self.env.cr.execute(SQL("SET LOCAL jit = off"))
        try:
            return super()._read_group(
                domain, groupby, aggregates, having=having, offset=offset, limit=limit, order=order
            )
        finally:
            # restored even when the read fails inside a savepoint the
            # caller keeps using
            self.env.cr.execute(SQL("SET LOCAL jit TO DEFAULT"))

    def init(self):
        # the first call of each lead, read by an index-only scan
        create_index(
            self.env.cr,
            "call_tracking_call_lead_first_call_index",
            "call_tracking_call",
            ["lead_id", "id"],
            where="lead_id IS NOT NULL",
        )
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
