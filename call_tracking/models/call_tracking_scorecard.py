from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import transcription

SCORECARD_STATES = [("draft", "To Review"), ("done", "Scored")]


class CallTrackingScorecard(models.Model):
    """A manager's quality score of one call against the company's criteria.

    Its lines are the company's active criteria when the call was first
    scored, with their weights then (later changes of the checklist leave
    given scores alone). A criterion whose phrases the transcript says is
    *suggested* and pre-ticked; the manager's tick is the answer. The score
    is the weight of the ticked lines over the weight of all lines, in
    percent; reports count the scorecards the manager marked scored.
    """

    _name = "call.tracking.scorecard"
    _description = "Call Scorecard"
    _order = "id desc"
    _rec_name = "call_id"

    call_id = fields.Many2one(
        "call.tracking.call", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="call_id.company_id", store=True, index=True)
    user_id = fields.Many2one(
        related="call_id.user_id", string="Salesperson", store=True, index="btree_not_null"
    )
    state = fields.Selection(SCORECARD_STATES, default="draft", required=True, readonly=True)
    line_ids = fields.One2many("call.tracking.scorecard.line", "scorecard_id", string="Criteria")
    score = fields.Float(
        string="Score (%)",
        compute="_compute_score",
        store=True,
        digits=(16, 1),
        aggregator="avg",
        help="Weight of the ticked criteria over the weight of all criteria, in percent.",
    )
    suggested_count = fields.Integer(
        string="Suggested", compute="_compute_score", store=True, aggregator="sum"
    )
    scorer_id = fields.Many2one("res.users", string="Scored By", readonly=True)
    scored_at = fields.Datetime(string="Scored On", readonly=True)
    note = fields.Text()

    _sql_constraints = [
        ("call_uniq", "UNIQUE(call_id)", "A call has one scorecard."),
    ]

    @api.depends("line_ids.checked", "line_ids.weight", "line_ids.suggested")
    def _compute_score(self):
        for scorecard in self:
            total = sum(scorecard.line_ids.mapped("weight"))
            ticked = sum(scorecard.line_ids.filtered("checked").mapped("weight"))
            scorecard.score = 100.0 * ticked / total if total else 0.0
            scorecard.suggested_count = len(scorecard.line_ids.filtered("suggested"))

    def action_done(self):
        """The manager's score is final: it counts in the reports."""
        self._check_scorer()
        self.write({"state": "done", "scorer_id": self.env.uid, "scored_at": fields.Datetime.now()})
        return True

    def action_reset(self):
        self._check_scorer()
        self.write({"state": "draft"})
        return True

    def _check_scorer(self):
        if not self.env.user.has_group("call_tracking.call_tracking_group_manager"):
            raise AccessError(self.env._("Only call tracking managers score calls."))
        self.check_access("write")

    @api.model
    def _create_for_calls(self, calls):
        """Scorecards of ``calls`` (the existing ones kept), with a line per active
        criterion of each call's company, suggested from the transcripts."""
        calls = calls - calls.scorecard_ids.call_id
        criteria = self.env["call.tracking.score.criterion"].search(
            [("company_id", "in", calls.company_id.ids)]
        )
        vals_list = []
        for call in calls:
            company_criteria = criteria.filtered(
                lambda c, call=call: c.company_id == call.company_id
            )
            if not company_criteria:
                raise UserError(
                    self.env._(
                        "The company %(company)s has no scorecard criteria: add them under "
                        "Call Tracking > Configuration > Scorecard Criteria.",
                        company=call.company_id.name,
                    )
                )
            suggestions = self._get_suggestions(call, company_criteria)
            vals_list.append(
                {
                    "call_id": call.id,
                    "line_ids": [
                        fields.Command.create(
                            {
                                "criterion_id": criterion.id,
                                "sequence": criterion.sequence,
                                "weight": criterion.weight,
                                "suggested": criterion in suggestions,
                                # pre-ticked; the manager decides
                                "checked": criterion in suggestions,
                                "suggested_phrase": suggestions.get(criterion),
                            }
                        )
                        for criterion in company_criteria
                    ],
                }
            )
        return self.create(vals_list)

    @api.model
    def _get_suggestions(self, call, criteria):
        """{criterion: first phrase said} for the ``criteria`` the call's transcript suggests."""
        if call.transcript_state != "done" or not call.transcript:
            return {}
        suggestions = {}
        for criterion in criteria:
            phrases = criterion.phrase_ids._matches_lang(call.transcript_lang).mapped("name")
            found = transcription.find_phrases(call.transcript, phrases)
            if found:
                suggestions[criterion] = found[0]
        return suggestions

    def _refresh_suggestions(self):
        """Suggestions of ``self`` from a new transcript; the managers' ticks stay as they are."""
        for scorecard in self:
            suggestions = self._get_suggestions(scorecard.call_id, scorecard.line_ids.criterion_id)
            for line in scorecard.line_ids:
                suggested = line.criterion_id in suggestions
                if line.suggested != suggested:
                    line.write(
                        {
                            "suggested": suggested,
                            "suggested_phrase": suggestions.get(line.criterion_id),
                        }
                    )
