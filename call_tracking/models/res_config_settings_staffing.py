from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_tracking_staffing_weeks = fields.Integer(
        related="company_id.call_tracking_staffing_weeks", readonly=False
    )
    call_tracking_staffing_wrapup = fields.Integer(
        related="company_id.call_tracking_staffing_wrapup", readonly=False
    )
    call_tracking_staffing_service_level = fields.Float(
        related="company_id.call_tracking_staffing_service_level", readonly=False
    )
    call_tracking_staffing_answer_seconds = fields.Integer(
        related="company_id.call_tracking_staffing_answer_seconds", readonly=False
    )
    call_tracking_staffing_max_occupancy = fields.Float(
        related="company_id.call_tracking_staffing_max_occupancy", readonly=False
    )
