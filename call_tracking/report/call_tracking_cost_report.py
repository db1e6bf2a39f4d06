from odoo import fields, models, tools
from odoo.tools import SQL


class CallTrackingCostReport(models.Model):
    """Spend against results per channel and month: cost per call, cost per
    targeted call and return on marketing investment.

    Months are calendar months of the call time in UTC; a cost whose period
    spans several months is spread over them in proportion to its days. Won
    revenue is that of the call report (each won lead once, on the month and
    channel of its first call). Ratios are computed from the sums of each
    pivot cell (see ``call.tracking.report.ratio.mixin``).
    """

    _name = "call.tracking.cost.report"
    _inherit = "call.tracking.report.ratio.mixin"
    _description = "Call Tracking Cost and ROMI Analysis"
    _auto = False
    _rec_name = "month"
    _order = "month desc, channel_id"
    _depends = {
        "call.tracking.call.report": [],  # and what it reads
        "call.tracking.cost": ["company_id", "channel_id", "date_from", "date_to", "amount"],
    }
    _report_ratios = {
        "cost_per_call": (["cost"], ["call_count"], 1.0),
        "cost_per_targeted": (["cost"], ["targeted_count"], 1.0),
        "romi": (["margin"], ["cost"], 100.0),
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    channel_id = fields.Many2one("call.tracking.channel", readonly=True)
    month = fields.Date(readonly=True)
    call_count = fields.Integer(string="Calls", readonly=True, aggregator="sum")
    targeted_count = fields.Integer(string="Targeted Calls", readonly=True, aggregator="sum")
    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won Leads", readonly=True, aggregator="sum")
    won_revenue = fields.Monetary(readonly=True, aggregator="sum", currency_field="currency_id")
    cost = fields.Monetary(readonly=True, aggregator="sum", currency_field="currency_id")
    margin = fields.Monetary(
        string="Revenue - Cost", readonly=True, aggregator="sum", currency_field="currency_id"
    )
    cost_per_call = fields.Monetary(
        string="Cost per Call", readonly=True, aggregator="avg", currency_field="currency_id"
    )
    cost_per_targeted = fields.Monetary(
        string="Cost per Targeted Call",
        readonly=True,
        aggregator="avg",
        currency_field="currency_id",
    )
    romi = fields.Float(
        string="ROMI (%)",
        readonly=True,
        aggregator="avg",
        help="(Won revenue - cost) / cost, in percent.",
    )

    def _query(self):
        calls = self.env["call.tracking.call.report"]._query()
        return SQL(
            """
            WITH cost_month AS (
                SELECT cost.company_id,
                       cost.channel_id,
                       month.start::date AS month,
                       SUM(cost.amount
                           * (LEAST(cost.date_to, (month.start + interval '1 month')::date - 1)
                              - GREATEST(cost.date_from, month.start::date) + 1)
                           / (cost.date_to - cost.date_from + 1)) AS cost
                  FROM call_tracking_cost cost
            CROSS JOIN LATERAL generate_series(
                           date_trunc('month', cost.date_from), cost.date_to, interval '1 month'
                       ) AS month(start)
              GROUP BY cost.company_id, cost.channel_id, month.start
            ), call_month AS (
                SELECT company_id,
                       currency_id,
                       channel_id,
                       date_trunc('month', start_at)::date AS month,
                       SUM(call_count) AS call_count,
                       SUM(targeted_count) AS targeted_count,
                       SUM(lead_count) AS lead_count,
                       SUM(won_count) AS won_count,
                       SUM(won_revenue) AS won_revenue
                  FROM (%(calls)s) calls
                 -- spam calls count in no report
                 WHERE NOT calls.is_spam
              GROUP BY company_id, currency_id, channel_id, date_trunc('month', start_at)
            )
            SELECT row_number() OVER (
                       ORDER BY COALESCE(cm.month, co.month), COALESCE(cm.channel_id, co.channel_id)
                   ) AS id,
                   COALESCE(cm.company_id, co.company_id) AS company_id,
                   COALESCE(cm.currency_id, company.currency_id) AS currency_id,
                   COALESCE(cm.channel_id, co.channel_id) AS channel_id,
                   COALESCE(cm.month, co.month) AS month,
                   COALESCE(cm.call_count, 0) AS call_count,
                   COALESCE(cm.targeted_count, 0) AS targeted_count,
                   COALESCE(cm.lead_count, 0) AS lead_count,
                   COALESCE(cm.won_count, 0) AS won_count,
                   COALESCE(cm.won_revenue, 0.0) AS won_revenue,
                   COALESCE(co.cost, 0.0) AS cost,
                   COALESCE(cm.won_revenue, 0.0) - COALESCE(co.cost, 0.0) AS margin,
                   co.cost / NULLIF(cm.call_count, 0) AS cost_per_call,
                   co.cost / NULLIF(cm.targeted_count, 0) AS cost_per_targeted,
                   (COALESCE(cm.won_revenue, 0.0) - co.cost) * 100.0 / NULLIF(co.cost, 0)
                       AS romi
              FROM call_month cm
         FULL JOIN cost_month co
                ON co.company_id = cm.company_id
               AND co.channel_id = cm.channel_id
               AND co.month = cm.month
         LEFT JOIN res_company company ON company.id = co.company_id
            """,
            calls=calls,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
