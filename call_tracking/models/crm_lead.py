from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    call_ids = fields.One2many("call.tracking.call", "lead_id", string="Calls")
    call_count = fields.Integer(string="Calls Count", compute="_compute_call_count")
    tracking_channel_id = fields.Many2one("call.tracking.channel", index="btree_not_null")
    call_attribution_probability = fields.Float(
        string="Attribution Probability",
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
        help="Probability that the visit or channel of the call that created the lead is the "
        "right one (see the call).",
    )
    call_quality = fields.Selection(
        [("targeted", "Targeted"), ("untargeted", "Untargeted")],
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

    @api.depends("call_ids")
    def _compute_call_count(self):
        """One grouped read for all leads, filtered by the call record rules."""
        counts = {}
        if self.ids:
            groups = self.env["call.tracking.call"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
            counts = {lead.id: count for lead, count in groups}
        for lead in self:
            lead.call_count = counts.get(lead.id, 0)

    def action_view_calls(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_call_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_call_targeted(self):
        self.ensure_one()
        self.check_access("write")
        self._set_call_quality("targeted")
        return True

    def action_call_untargeted(self):
        self.ensure_one()
        self.check_access("write")
        self._set_call_quality("untargeted")
        return True

    def _merge_dependences(self, opportunities):
        """Merged leads hand their calls over to the kept lead (``self``):
        ``call.tracking.call.lead_id`` is ``ondelete='set null'``, so the
        calls would otherwise lose their lead when the others are deleted.

        The calls are moved in a named sudo: they are read-only system
        records for salespeople, who may also not see every call of a lead
        (record rules); whoever may merge the leads may move their calls.
        """
        res = super()._merge_dependences(opportunities)
        calls_sudo = (
            self.env["call.tracking.call"].sudo().search([("lead_id", "in", opportunities.ids)])
        )
        if calls_sudo:
            calls_sudo.write({"lead_id": self.id})
        return res

    def _call_tracking_log_note(self, body):
        """Log ``body`` on the lead as an internal note by OdooBot
        (``_message_log``: Odoo's automatic entries, no follower notified)."""
        self.ensure_one()
        return self.sudo()._message_log(body=body, author_id=self.env.ref("base.partner_root").id)

    def _set_call_quality(self, quality):
        """Judge the call-leads; a reason meant for the other quality is
        dropped. The calls follow through their stored related quality."""
        self.write({"call_quality": quality})
        self.filtered(
            lambda lead: lead.call_quality_reason_id.quality not in (False, quality)
        ).call_quality_reason_id = False
