from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_tracking_recording_retention_days = fields.Integer(
        related="company_id.call_tracking_recording_retention_days", readonly=False
    )
    call_tracking_recording_max_mb = fields.Integer(
        related="company_id.call_tracking_recording_max_mb", readonly=False
    )
