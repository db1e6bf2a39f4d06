from odoo import fields, models


class CallTrackingScoreCriterion(models.Model):
    """One item of a company's call quality checklist, with its weight in
    the score and the phrases that suggest it from the transcript."""

    _name = "call.tracking.score.criterion"
    _description = "Call Scorecard Criterion"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True, help="What the salesperson is expected to do.")
    sequence = fields.Integer(default=10)
    weight = fields.Float(
        default=1.0,
        required=True,
        help="Share of this criterion in the call's score: the score is the weight of the "
        "ticked criteria over the weight of all criteria of the scorecard.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    phrase_ids = fields.One2many(
        "call.tracking.phrase",
        "criterion_id",
        string="Suggesting Phrases",
        help="When the transcript says one of these, the criterion is pre-ticked on new "
        "scorecards; the manager decides.",
    )

    _sql_constraints = [
        ("weight_positive", "CHECK(weight > 0)", "A criterion's weight must be positive."),
    ]
