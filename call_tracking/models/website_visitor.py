from odoo import api, fields, models


class WebsiteVisitor(models.Model):
    _inherit = "website.visitor"

    # visitor sessions carry browsing data: call tracking managers only
    call_tracking_session_ids = fields.One2many(
        "call.tracking.session",
        "visitor_id",
        string="Call Tracking Sessions",
        groups="call_tracking.call_tracking_group_manager",
    )
    call_tracking_session_count = fields.Integer(
        string="Tracking Sessions",
        compute="_compute_call_tracking_session_count",
        groups="call_tracking.call_tracking_group_manager",
    )

    @api.depends("call_tracking_session_ids")
    def _compute_call_tracking_session_count(self):
        counts = {}
        if self.ids:
            groups = self.env["call.tracking.session"]._read_group(
                [("visitor_id", "in", self.ids)], ["visitor_id"], ["__count"]
            )
            counts = {visitor.id: count for visitor, count in groups}
        for visitor in self:
            visitor.call_tracking_session_count = counts.get(visitor.id, 0)
