from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.sql import create_index

# the call's contract, kept importable from here for the code that did
from ..const import (  # noqa: F401
    ATTRIBUTION_METHODS,
    CALL_BACK_STATUSES,
    CALL_STATUS,
    DEVICE_CLASS_SELECTION,
    EVENT_TYPES,
    FINAL_STATUSES,
    SPAM_REASONS,
)


class CallTrackingCall(models.Model):
    """One phone call reported by a provider.

    The model is split by job, each part an ``_inherit`` of it: this file
    holds the fields and the actions; ``call_tracking_call_ingest.py`` the
    provider events (the contract in ``const.py``), ``_attribution`` the
    match to a visit or channel, ``_spam`` the spam rules, ``_lead`` the
    lead, ``_note`` the lead's note and call-back activity."""

    _name = "call.tracking.call"
    _inherit = ["call.tracking.spam.mixin"]
    _description = "Tracked Call"
    # spam is hidden where the menu asks for it, not from code
    _spam_hidden = False
    _order = "start_at desc, id desc"
    _rec_name = "caller_number"

    provider_id = fields.Many2one(
        "call.tracking.provider", required=True, index=True, ondelete="restrict", readonly=True
    )
    provider_call_id = fields.Char(string="Provider Call ID", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    caller_number = fields.Char(string="Caller", index=True, readonly=True, help="E.164")
    called_number = fields.Char(readonly=True, help="E.164")
    number_id = fields.Many2one(
        "call.tracking.number", string="Tracking Number", index="btree_not_null", readonly=True
    )
    start_at = fields.Datetime(string="Start", index=True, readonly=True)
    answer_at = fields.Datetime(string="Answered At", readonly=True)
    end_at = fields.Datetime(string="End", readonly=True)
    duration = fields.Integer(string="Duration (s)", readonly=True, aggregator="sum")
    talk_duration = fields.Integer(string="Talk Time (s)", readonly=True, aggregator="sum")
    status = fields.Selection(CALL_STATUS, default="in_progress", index=True, readonly=True)
    recording_url = fields.Char(readonly=True)
    signed_key = fields.Char(
        readonly=True,
        copy=False,
        help="The values the provider signs for this call when it does not sign its call "
        "id (Zadarma: caller, called number and start), joined without ambiguity; "
        "events of the call must carry the same.",
    )
    # attribution
    session_id = fields.Many2one(
        "call.tracking.session", index="btree_not_null", readonly=True, ondelete="set null"
    )
    channel_id = fields.Many2one(
        "call.tracking.channel", index="btree_not_null", readonly=True, ondelete="set null"
    )
    attribution_method = fields.Selection(ATTRIBUTION_METHODS, index=True, readonly=True)
    attribution_confidence = fields.Selection(
        [("high", "High"), ("low", "Low"), ("none", "None")], readonly=True
    )
    attribution_probability = fields.Float(
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
        help="Probability (0 to 1) that the call's visit or channel is the right one: "
        "from how long after the visitor's last activity the call came and how many "
        "other visitors held the number (see README). 0 when not attributed.",
    )
    attribution_delay = fields.Float(
        string="Delay After Activity (min)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Minutes between the last activity of the attributed visitor and the call.",
    )
    is_spam = fields.Boolean(
        string="Spam",
        index=True,
        readonly=True,
        copy=False,
        help="A spam call creates no lead and is left out of the reports.",
    )
    spam_reason = fields.Selection(SPAM_REASONS, readonly=True, copy=False)
    spam_cleared = fields.Boolean(
        string="Marked Not Spam",
        readonly=True,
        copy=False,
        help="A manager marked the call as not spam: the spam rules leave it alone.",
    )
    source_id = fields.Many2one("utm.source", index="btree_not_null", readonly=True)
    medium_id = fields.Many2one("utm.medium", index="btree_not_null", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", index="btree_not_null", readonly=True)
    utm_term = fields.Char(string="Keyword", readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    device_class = fields.Selection(
        DEVICE_CLASS_SELECTION, readonly=True, help="Device of the visit, from its user agent."
    )
    os_name = fields.Char(string="Operating System", readonly=True)
    browser = fields.Char(readonly=True)
    visitor_id = fields.Many2one(
        "website.visitor",
        string="Website Visitor",
        related="session_id.visitor_id",
        readonly=True,
    )
    is_repeat = fields.Boolean(
        string="Repeat Call", readonly=True, help="The caller had called within the repeat window."
    )
    is_first_call = fields.Boolean(
        string="Unique Call", readonly=True, help="The first call ever received from this caller."
    )
    # CRM
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="set null")
    user_id = fields.Many2one("res.users", string="Salesperson", index="btree_not_null")
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    quality = fields.Selection(
        related="lead_id.call_quality", store=True, string="Quality", readonly=True
    )
    quality_reason_id = fields.Many2one(
        related="lead_id.call_quality_reason_id",
        store=True,
        readonly=True,
        help="Mirrored from the lead, like the quality, for the reports.",
    )
    is_test = fields.Boolean(
        string="Test Call",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Made with the Test call button: left out of the reports; "
        "Delete Test Calls removes it with its lead.",
    )
    webhook_event_ids = fields.One2many(
        "call.tracking.webhook.event",
        "call_id",
        string="Webhook Events",
        groups="call_tracking.call_tracking_group_manager",
    )

    _sql_constraints = [
        (
            "provider_call_uniq",
            "unique(provider_id, provider_call_id)",
            "A provider call is recorded only once.",
        ),
        (
            # NULLs never conflict: only calls of providers that sign a key
            "provider_signed_key_uniq",
            "unique(provider_id, signed_key)",
            "The same signed call cannot be reported under two call ids.",
        ),
    ]

    def init(self):
        # the delay model's latest live-lease calls (_get_delay_model), read
        # on every call to a pool number: an index walk of a few thousand
        # entries, not a sort of the company's whole call history
        create_index(
            self.env.cr,
            "call_tracking_call_live_lease_index",
            self._table,
            ["company_id", "start_at DESC NULLS LAST"],
            where="attribution_method = 'session' AND is_spam IS NOT TRUE",
        )

    @api.depends("caller_number", "start_at")
    def _compute_display_name(self):
        for call in self:
            caller = call.caller_number or self.env._("Unknown caller")
            call.display_name = (
                f"{caller} ({fields.Datetime.to_string(call.start_at)})"
                if call.start_at
                else caller
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_lead(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }

    def action_mark_not_spam(self):
        """A manager's verdict: the call is not spam. It gets its lead now,
        made as the webhook makes it (repeat caller's open lead or a new
        one, call note, call-back activity of a missed call)."""
        self.ensure_one()
        self.check_access("write")
        self._mark_not_spam()
        return True

    def action_block_caller(self):
        """A manager's verdict the other way: the caller goes on the
        company's blocklist, so that this call and their next ones are spam.
        A lead the call already made stays, for sales to close."""
        self.ensure_one()
        self.check_access("write")
        if not self.caller_number or not self.caller_number.startswith("+"):
            raise UserError(self.env._("This call has no caller number to block."))
        blocked = self.env["call.tracking.blocked.number"].with_context(active_test=False)
        existing = blocked.search(
            [("company_id", "=", self.company_id.id), ("number", "=", self.caller_number)]
        )
        if existing:
            existing.active = True
        else:
            blocked.create(
                {
                    "company_id": self.company_id.id,
                    "number": self.caller_number,
                    "note": self.env._("Blocked from call %s", self.display_name),
                }
            )
        # the calls are system records, read-only for people
        self.sudo().write({"is_spam": True, "spam_reason": "blocklist", "spam_cleared": False})
        return True

    def action_open_test_call(self):
        """The lead of a test call (its calls tab lists the call), else the
        call, with a notification saying where the call went."""
        self.ensure_one()
        self.check_access("read")
        channel = self.channel_id.name or self.env._("no channel")
        if self.session_id:
            message = self.env._(
                "Test call received and matched to the visitor who holds the number (channel %s).",
                channel,
            )
        else:
            message = self.env._("Test call received (channel %s).", channel)
        target = (
            self.action_open_lead()
            if self.lead_id
            else {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "view_mode": "form",
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "next": target},
        }

    @api.model
    def action_delete_test_calls(self):
        """Delete the test calls of the allowed companies, and their leads
        when a lead has no other call."""
        self.check_access("unlink")
        calls = self.search([("is_test", "=", True)])
        calls.check_access("unlink")
        kept = self.search([("lead_id", "in", calls.lead_id.ids), ("is_test", "=", False)])
        # the leads the test calls created, which no real call joined since
        leads_sudo = (calls.lead_id - kept.lead_id).sudo()
        count = len(calls)
        calls.unlink()
        leads_sudo.unlink()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("Test calls deleted: %s.", count),
                "type": "info",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
