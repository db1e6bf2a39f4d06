import secrets

from odoo import fields, models


class CallTrackingProvider(models.Model):
    """A telephony account that posts call webhooks."""

    _name = "call.tracking.provider"
    _description = "Call Tracking Provider"
    _order = "name, id"

    def _default_webhook_token(self):
        return secrets.token_urlsafe(32)

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [("generic", "Generic JSON"), ("twilio", "Twilio"), ("zadarma", "Zadarma")],
        required=True,
        default="generic",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    webhook_token = fields.Char(
        required=True,
        copy=False,
        default=_default_webhook_token,
        groups="call_tracking.call_tracking_group_manager",
    )
    secret = fields.Char(
        string="Signing Secret",
        copy=False,
        groups="call_tracking.call_tracking_group_manager",
        help="Twilio: the account's Auth Token. Zadarma: the API secret key. "
        "Generic: the HMAC-SHA256 key.",
    )
    public_base_url = fields.Char(
        string="Public Base URL",
        help="The URL the provider calls, when Odoo is behind a reverse proxy "
        "(e.g. https://crm.example.com); used to verify Twilio signatures.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    user_id = fields.Many2one("res.users", string="Salesperson", index="btree_not_null")
    number_ids = fields.One2many("call.tracking.number", "provider_id", string="Numbers")

    _sql_constraints = [
        ("webhook_token_uniq", "unique(webhook_token)", "The webhook token must be unique."),
    ]
