from odoo import fields, models, tools
from odoo.tools import SQL


class CallTrackingPoolReport(models.Model):
    """Pool health per hour, day or month: visitor arrivals, arrivals that
    found the pool full (exhaustions), peak of concurrent leases, and the
    calls to the pool's numbers (or its fallback number) that could not be
    matched to a visitor session.

    Rows come from the hourly pool statistics and from the calls; each row
    fills its own measures. Shares are computed from the sums of each pivot
    cell (see ``call.tracking.report.ratio.mixin``).
    """

    _name = "call.tracking.pool.report"
    _inherit = "call.tracking.report.ratio.mixin"
    _description = "Call Tracking Pool Health Analysis"
    _auto = False
    _rec_name = "date"
    _order = "date desc, pool_id"
    _report_ratios = {
        "exhaustion_rate": (["exhaustions"], ["arrivals"], 100.0),
        "unattributed_rate": (["unattributed_count"], ["call_count"], 100.0),
    }

    pool_id = fields.Many2one("call.tracking.pool", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Datetime(string="Hour", readonly=True)
    arrivals = fields.Integer(readonly=True, aggregator="sum", help="New visitors.")
    exhaustions = fields.Integer(
        readonly=True, aggregator="sum", help="Arrivals answered with the fallback number."
    )
    peak_leases = fields.Integer(
        string="Peak Concurrent Sessions",
        readonly=True,
        aggregator="max",
        help="Most numbers leased at the same time.",
    )
    exhaustion_rate = fields.Float(string="Exhaustions (%)", readonly=True, aggregator="avg")
    call_count = fields.Integer(string="Calls", readonly=True, aggregator="sum")
    unattributed_count = fields.Integer(
        string="Unattributed Calls",
        readonly=True,
        aggregator="sum",
        help="Calls to the pool's numbers or fallback number matched to no visitor session.",
    )
    unattributed_rate = fields.Float(string="Unattributed (%)", readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            SELECT row_number() OVER (ORDER BY pool_rows.date, pool_rows.pool_id) AS id, pool_rows.*
              FROM (
                    SELECT stat.pool_id AS pool_id,
                           pool.company_id AS company_id,
                           stat.hour AS date,
                           stat.arrivals AS arrivals,
                           stat.exhaustions AS exhaustions,
                           stat.peak_leases AS peak_leases,
                           CASE WHEN stat.arrivals > 0
                                THEN stat.exhaustions * 100.0 / stat.arrivals END
                               AS exhaustion_rate,
                           0 AS call_count,
                           0 AS unattributed_count,
                           NULL::numeric AS unattributed_rate
                      FROM call_tracking_pool_stat stat
                      JOIN call_tracking_pool pool ON pool.id = stat.pool_id
                 UNION ALL
                    SELECT pool.id,
                           pool.company_id,
                           date_trunc('hour', call.start_at),
                           0,
                           0,
                           NULL,
                           NULL,
                           1,
                           x.unattributed::int,
                           CASE WHEN x.unattributed THEN 100.0 ELSE 0.0 END
                      FROM call_tracking_call call
                 LEFT JOIN call_tracking_number num ON num.id = call.number_id
                      JOIN call_tracking_pool pool
                        ON pool.id = num.pool_id
                        OR (num.pool_id IS NULL AND pool.default_number = call.called_number
                            AND pool.company_id = call.company_id)
                CROSS JOIN LATERAL (
                           SELECT COALESCE(call.attribution_method NOT IN %(matched)s, TRUE)
                                  AS unattributed
                       ) x
                     WHERE call.start_at IS NOT NULL AND call.is_spam IS NOT TRUE
                       AND call.is_test IS NOT TRUE
              ) pool_rows
            """,
            matched=("session", "session_expired"),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
