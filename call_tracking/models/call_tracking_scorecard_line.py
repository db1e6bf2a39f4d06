from odoo import fields, models


class CallTrackingScorecardLine(models.Model):
    """One criterion of a call's scorecard: the manager's tick and the transcript's suggestion."""

    _name = "call.tracking.scorecard.line"
    _description = "Call Scorecard Line"
    _order = "sequence, id"
    _rec_name = "criterion_id"

    scorecard_id = fields.Many2one(
        "call.tracking.scorecard", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="scorecard_id.company_id", store=True, index=True)
    criterion_id = fields.Many2one(
        "call.tracking.score.criterion", required=True, ondelete="restrict", readonly=True
    )
    description = fields.Text(related="criterion_id.description")
    sequence = fields.Integer(default=10)
    weight = fields.Float(
        required=True, readonly=True, help="The criterion's weight when the call was scored."
    )
    checked = fields.Boolean(string="Met", help="The manager's answer.")
    suggested = fields.Boolean(
        readonly=True, help="The transcript says one of the criterion's phrases."
    )
    suggested_phrase = fields.Char(string="Heard", readonly=True)
