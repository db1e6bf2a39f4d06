from odoo import fields, models
from odoo.tools import SQL

from ..report.call_tracking_call_report import CallTrackingCallReport as BaseCallReport


class CallTrackingCallReport(models.Model):
    """The Call Analysis with the calls' quality scores and keyword tags.

    The average score is the sum of the scored calls' scores over the number
    of scored calls in each cell (a ratio of sums, like the other shares);
    calls not scored (or not yet marked scored) are left out of it. Tags are
    a filter here; grouping by tag is the Keyword Tags analysis (one row per
    call and tag).
    """

    _inherit = "call.tracking.call.report"
    # grouped reads flush these first (a score changed in the same transaction)
    _depends = {"call.tracking.scorecard": ["call_id", "state", "score"]}
    _report_ratios = {
        **BaseCallReport._report_ratios,
        "score": (["score_total"], ["scored_count"], 1.0),
    }

    score = fields.Float(
        string="Average Score (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Average quality score of the scored calls.",
    )
    score_total = fields.Float(string="Score Points", readonly=True, aggregator="sum")
    scored_count = fields.Integer(string="Scored Calls", readonly=True, aggregator="sum")
    tag_ids = fields.Many2many(related="call_id.tag_ids", string="Keyword Tags")

    def _query(self):
        # scorecards marked scored; call_id is unique, so PostgreSQL drops the
        # join where no score column is read
        return SQL(
            """
            SELECT report.*,
                   scorecard.score AS score,
                   COALESCE(scorecard.score, 0.0) AS score_total,
                   (scorecard.id IS NOT NULL)::int AS scored_count
              FROM (%s) report
         LEFT JOIN call_tracking_scorecard scorecard
                ON scorecard.call_id = report.call_id AND scorecard.state = 'done'
            """,
            super()._query(),
        )
