from odoo import fields, models


class CallTrackingQualityReason(models.Model):
    """Why sales judged a call-lead targeted or untargeted (spam, wrong
    number, job seeker, existing customer...). Configurable list."""

    _name = "call.tracking.quality.reason"
    _description = "Call Quality Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    quality = fields.Selection(
        [("targeted", "Targeted"), ("untargeted", "Untargeted")],
        string="Applies To",
        help="Offered only for this quality. Empty: offered for both.",
    )
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Empty: shared by all companies.",
    )
