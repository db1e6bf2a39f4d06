from odoo import api, fields, models
from odoo.exceptions import AccessError


class CallTrackingCall(models.Model):
    _inherit = "call.tracking.call"

    scorecard_ids = fields.One2many("call.tracking.scorecard", "call_id", string="Scorecards")
    scorecard_id = fields.Many2one(
        "call.tracking.scorecard",
        compute="_compute_scorecard_id",
        search="_search_scorecard_id",
    )
    scorecard_line_ids = fields.One2many(
        related="scorecard_id.line_ids", readonly=False, string="Criteria"
    )
    scorecard_state = fields.Selection(related="scorecard_id.state", string="Scorecard State")
    # not stored: a stored float reads 0 for the calls nobody scored, and
    # averages would count them; the reports read the scorecards
    score = fields.Float(
        string="Score (%)",
        compute="_compute_score",
        digits=(16, 1),
        help="The manager's quality score of the call, once scored.",
    )

    @api.depends("scorecard_ids")
    def _compute_scorecard_id(self):
        for call in self:
            call.scorecard_id = call.scorecard_ids[:1]

    def _search_scorecard_id(self, operator, value):
        # one scorecard per call: the call's scorecard is its only one
        return [("scorecard_ids", operator, value)]

    @api.depends("scorecard_ids.state", "scorecard_ids.score")
    def _compute_score(self):
        for call in self:
            scorecard = call.scorecard_ids[:1]
            call.score = scorecard.score if scorecard.state == "done" else False

    def action_score(self):
        """Open the call's scorecard, made from the company's criteria on first use."""
        self.ensure_one()
        if not self.env.user.has_group("call_tracking.call_tracking_group_manager"):
            raise AccessError(self.env._("Only call tracking managers score calls."))
        self.check_access("write")
        self.env["call.tracking.scorecard"]._create_for_calls(self)
        return True

    def action_score_done(self):
        """Mark the call's scorecard scored (it then counts in the reports)."""
        self.ensure_one()
        return self.scorecard_id.action_done()

    def action_score_reset(self):
        self.ensure_one()
        return self.scorecard_id.action_reset()
