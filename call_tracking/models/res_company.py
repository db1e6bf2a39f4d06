from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    call_tracking_repeat_days = fields.Integer(
        string="Repeat Call Window (days)",
        default=30,
        help="A call from a number that called within this many days is attached "
        "to the caller's open lead instead of creating a new one. 0 disables it.",
    )
