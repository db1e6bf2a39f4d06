from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_tracking_default_number = fields.Char(
        related="company_id.call_tracking_default_number", readonly=False
    )
    call_tracking_company_phone = fields.Char(related="company_id.phone")
    call_tracking_display_format = fields.Selection(
        related="company_id.call_tracking_display_format", readonly=False
    )
    call_tracking_session_retention_days = fields.Integer(
        related="company_id.call_tracking_session_retention_days", readonly=False
    )
    call_tracking_webhook_retention_days = fields.Integer(
        related="company_id.call_tracking_webhook_retention_days", readonly=False
    )
    call_tracking_repeat_days = fields.Integer(
        related="company_id.call_tracking_repeat_days", readonly=False
    )
    call_tracking_targeted_goal = fields.Float(
        related="company_id.call_tracking_targeted_goal", readonly=False
    )
    call_tracking_exhaustion_target = fields.Float(
        related="company_id.call_tracking_exhaustion_target", readonly=False
    )
    call_tracking_health_days = fields.Integer(
        related="company_id.call_tracking_health_days", readonly=False
    )
    call_tracking_lease_cap_address = fields.Integer(
        related="company_id.call_tracking_lease_cap_address", readonly=False
    )
    call_tracking_lease_cap_network = fields.Integer(
        related="company_id.call_tracking_lease_cap_network", readonly=False
    )
    call_tracking_lease_lifetime_hours = fields.Float(
        related="company_id.call_tracking_lease_lifetime_hours", readonly=False
    )
    call_tracking_late_call_hours = fields.Integer(
        related="company_id.call_tracking_late_call_hours", readonly=False
    )
    call_tracking_attribution_target = fields.Float(
        related="company_id.call_tracking_attribution_target", readonly=False
    )
    call_tracking_spam_repeat_count = fields.Integer(
        related="company_id.call_tracking_spam_repeat_count", readonly=False
    )
    call_tracking_spam_repeat_minutes = fields.Integer(
        related="company_id.call_tracking_spam_repeat_minutes", readonly=False
    )
    call_tracking_spam_talk_seconds = fields.Integer(
        related="company_id.call_tracking_spam_talk_seconds", readonly=False
    )
    call_tracking_spam_no_caller_id = fields.Boolean(
        related="company_id.call_tracking_spam_no_caller_id", readonly=False
    )
    call_tracking_cors_origins = fields.Text(
        related="website_id.call_tracking_cors_origins", readonly=False
    )
    call_tracking_numbers = fields.Text(related="website_id.call_tracking_numbers", readonly=False)
    call_tracking_anti_flicker = fields.Boolean(
        related="website_id.call_tracking_anti_flicker", readonly=False
    )
    call_tracking_anti_flicker_ms = fields.Integer(
        related="website_id.call_tracking_anti_flicker_ms", readonly=False
    )
    call_tracking_cookie_days = fields.Integer(
        related="website_id.call_tracking_cookie_days", readonly=False
    )
    call_tracking_cookie_domain = fields.Char(
        related="website_id.call_tracking_cookie_domain", readonly=False
    )

    def action_call_tracking_use_company_phone(self):
        """The company phone becomes the default tracking number: nobody
        types the company number twice."""
        self.ensure_one()
        self.check_access("write")
        self.company_id.check_access("write")
        self.company_id.call_tracking_default_number = self.company_id.phone
        return {"type": "ir.actions.client", "tag": "reload"}
