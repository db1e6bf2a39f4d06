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
