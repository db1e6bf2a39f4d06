from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id


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
        """One query for all leads, filtered by the call record rules."""
        counts = {}
        if self.ids:
            query = self.env["call.tracking.call"]._search([("lead_id", "in", self.ids)])
            rows = self.env.execute_query(
                SQL(
                    "%s GROUP BY call_tracking_call.lead_id",
                    query.select(SQL("call_tracking_call.lead_id"), SQL("COUNT(*)")),
                )
            )
            counts = dict(rows)
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

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """No notification template for the new followers when the context
        says they are not notified (``mail_auto_subscribe_no_notify``, see
        ``call.tracking.call._get_lead_create_context``): the template
        would only make mail read the salesperson's contact for its
        language before skipping the notification."""
        res = super()._message_auto_subscribe_followers(updated_values, default_subtype_ids)
        if self.env.context.get("mail_auto_subscribe_no_notify"):
            return [(partner_id, subtypes, False) for partner_id, subtypes, _template in res]
        return res

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
        """Log ``body`` on the lead as an internal note by OdooBot.

        The message ``_message_log`` writes for Odoo's automatic entries
        (``mail.mt_note``, type notification, no follower notified), created
        with all its values given: OdooBot's address is read alone, and serves
        as reply-to (a note is never emailed), so a call's end does not load
        the whole OdooBot contact, the current user and the company's alias
        domain as ``_message_log`` would. OdooBot's address is read once per
        worker (``res.partner._call_tracking_note_author``).
        """
        self.ensure_one()
        author_id, email_from = self.env["res.partner"]._call_tracking_note_author()
        return self.sudo()._message_create(
            [
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "reply_to": email_from,
                    "model": self._name,
                    "res_id": self.id,
                    "record_alias_domain_id": False,
                    "record_company_id": False,
                    "record_name": False,
                    "body": body,
                    "message_type": "notification",
                    "is_internal": True,
                    "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                    "email_add_signature": False,
                    "message_id": generate_tracking_message_id("message-notify"),
                }
            ]
        )

    def _set_call_quality(self, quality):
        """Judge the call-leads; a reason meant for the other quality is
        dropped. The calls follow through their stored related quality."""
        self.write({"call_quality": quality})
        self.filtered(
            lambda lead: lead.call_quality_reason_id.quality not in (False, quality)
        ).call_quality_reason_id = False
