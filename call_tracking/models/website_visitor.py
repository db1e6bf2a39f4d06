from odoo import fields, models


class WebsiteVisitor(models.Model):
    _inherit = "website.visitor"

    call_tracking_session_ids = fields.One2many(
        "call.tracking.session", "visitor_id", string="Call Tracking Sessions"
    )
