from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    call_tracking_recording_retention_days = fields.Integer(
        string="Recording Retention (days)",
        default=0,
        help="The audio of calls is deleted this many days after it was stored; the "
        "calls are kept. 0 keeps recordings forever.",
    )
    call_tracking_recording_max_mb = fields.Integer(
        string="Largest Recording (MB)",
        default=50,
        help="Larger recordings are refused.",
    )

    _sql_constraints = [
        (
            "call_tracking_recording_retention_days_positive",
            "CHECK(call_tracking_recording_retention_days >= 0)",
            "The recording retention cannot be negative.",
        ),
        (
            "call_tracking_recording_max_mb_range",
            "CHECK(call_tracking_recording_max_mb > 0 AND call_tracking_recording_max_mb <= 500)",
            "The largest recording must be between 1 and 500 MB.",
        ),
    ]
