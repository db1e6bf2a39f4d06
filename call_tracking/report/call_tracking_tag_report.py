from odoo import fields, models, tools
from odoo.tools import SQL

from .call_tracking_call_report import MISSED_STATUSES


class CallTrackingTagReport(models.Model):
    """One row per call and keyword tag, so that tags are a pivot dimension.

    A call with several tags counts once under each of them: totals across
    tags count such a call more than once (the pivot's total of a tag row is
    right). Calls without a tag are left out.
    """

    _name = "call.tracking.tag.report"
    _inherit = ["call.tracking.report.ratio.mixin"]
    _description = "Call Keyword Tag Analysis"
    _auto = False
    _rec_name = "tag_id"
    _order = "start_at desc, id desc"
    _depends = {
        "call.tracking.call": [
            "tag_ids",
            "company_id",
            "start_at",
            "channel_id",
            "user_id",
            "team_id",
            "transcript_lang",
            "status",
            "talk_duration",
            "is_test",
        ],
        "call.tracking.scorecard": ["call_id", "state", "score"],
    }
    _report_ratios = {
        "missed_rate": (["missed_count"], ["missed_count", "answered_count"], 100.0),
        "score": (["score_total"], ["scored_count"], 1.0),
    }

    tag_id = fields.Many2one("call.tracking.tag", string="Keyword Tag", readonly=True)
    call_id = fields.Many2one("call.tracking.call", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    start_at = fields.Datetime(string="Date", readonly=True)
    channel_id = fields.Many2one("call.tracking.channel", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    transcript_lang = fields.Char(string="Spoken Language", readonly=True)
    call_count = fields.Integer(string="Calls", readonly=True, aggregator="sum")
    answered_count = fields.Integer(string="Answered", readonly=True, aggregator="sum")
    missed_count = fields.Integer(string="Missed", readonly=True, aggregator="sum")
    missed_rate = fields.Float(string="Missed (%)", readonly=True, aggregator="avg")
    talk_duration = fields.Integer(string="Talk Time (s)", readonly=True, aggregator="sum")
    score = fields.Float(
        string="Average Score (%)", readonly=True, aggregator="avg", digits=(16, 1)
    )
    score_total = fields.Float(string="Score Points", readonly=True, aggregator="sum")
    scored_count = fields.Integer(string="Scored Calls", readonly=True, aggregator="sum")

    def _query(self):
        return SQL(
            """
            SELECT
                row_number() OVER (ORDER BY rel.call_id, rel.tag_id) AS id,
                rel.tag_id AS tag_id,
                c.id AS call_id,
                c.company_id AS company_id,
                c.start_at AS start_at,
                c.channel_id AS channel_id,
                c.user_id AS user_id,
                c.team_id AS team_id,
                c.transcript_lang AS transcript_lang,
                1 AS call_count,
                (c.status = 'answered')::int AS answered_count,
                (c.status IN %(missed)s)::int AS missed_count,
                CASE WHEN c.status IN %(missed)s THEN 100.0
                     WHEN c.status = 'answered' THEN 0.0 END AS missed_rate,
                c.talk_duration AS talk_duration,
                scorecard.score AS score,
                COALESCE(scorecard.score, 0.0) AS score_total,
                (scorecard.id IS NOT NULL)::int AS scored_count
              FROM call_tracking_call_tag_rel rel
              JOIN call_tracking_call c ON c.id = rel.call_id
         LEFT JOIN call_tracking_scorecard scorecard
                ON scorecard.call_id = c.id AND scorecard.state = 'done'
             WHERE c.is_test IS NOT TRUE
            """,
            missed=MISSED_STATUSES,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
