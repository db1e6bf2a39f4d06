from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    call_ids = fields.One2many("call.tracking.call", "lead_id", string="Calls")
    tracking_channel_id = fields.Many2one(
        "call.tracking.channel", string="Tracking Channel", index="btree_not_null"
    )
    call_quality = fields.Selection(
        [("targeted", "Targeted"), ("untargeted", "Untargeted")],
        string="Call Quality",
        index="btree_not_null",
        tracking=True,
    )
    call_quality_reason_id = fields.Many2one(
        "call.tracking.quality.reason",
        string="Quality Reason",
        index="btree_not_null",
        tracking=True,
        domain="[('quality', 'in', [call_quality, False]), "
        "('company_id', 'in', [company_id, False])]",
        help="Why the call-lead was judged targeted or untargeted.",
    )

    def action_call_targeted(self):
        self.ensure_one()
        self._set_call_quality("targeted")
        return True

    def action_call_untargeted(self):
        self.ensure_one()
        self._set_call_quality("untargeted")
        return True

    def _set_call_quality(self, quality):
        """Judge the call-leads; a reason meant for the other quality is
        dropped. The calls follow through their stored related quality."""
        self.write({"call_quality": quality})
        self.filtered(
            lambda lead: lead.call_quality_reason_id.quality not in (False, quality)
        ).call_quality_reason_id = False
