import json
import secrets
from urllib.parse import quote

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

WEBHOOK_ROUTE = "/call_tracking/webhook/"
# Inbox limits: what is kept of one request.
MAX_BODY_BYTES = 256 * 1024
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Call-Tracking-Signature",
    "X-Twilio-Signature",
    "I-Twilio-Idempotency-Token",
    "Signature",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
)


class WebhookError(Exception):
    """A webhook request that cannot be accepted; ``status`` is the HTTP code."""

    status = 400

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class WebhookSignatureError(WebhookError):
    """The request is not signed by the provider (HTTP 403, nothing written)."""

    status = 403


class WebhookPayloadError(WebhookError):
    """The body cannot be read as the provider's events (HTTP 400)."""

    status = 400


class CallTrackingProvider(models.Model):
    """A telephony account that posts call webhooks.

    Each ``kind`` lives in its own file (``call_tracking_provider_<kind>.py``)
    which adds itself to the ``kind`` selection and implements:

    * ``_<kind>_verify_request(request_data)``: raise
      :class:`WebhookSignatureError` unless the provider signed the request;
    * ``_<kind>_parse_events(request_data)``: return a list of normalised
      event dicts (see :meth:`call.tracking.call._process_webhook_events`) or
      raise :class:`WebhookPayloadError`;
    * optionally ``_<kind>_handle_get(request_data)``: answer a GET (URL
      checks such as Zadarma's ``zd_echo``), return ``(status, body)``;
    * optionally ``_<kind>_webhook_response(events)``: the body to answer.

    ``request_data`` is a plain dict built by the controller: ``method``,
    ``url`` (as the provider called it), ``headers`` (dict), ``body`` (bytes),
    ``form`` (list of (name, value) pairs), ``query`` (list of pairs),
    ``remote_addr``.
    """

    _name = "call.tracking.provider"
    _inherit = ["mail.thread"]
    _description = "Call Tracking Provider"
    _order = "name, id"
    _check_company_auto = True

    def _default_webhook_token(self):
        return secrets.token_urlsafe(32)

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    kind = fields.Selection(
        [("generic", "Generic JSON")],
        required=True,
        default="generic",
        tracking=True,
        help="Decides how webhook bodies are read and how their signature is verified.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    webhook_token = fields.Char(
        required=True,
        copy=False,
        default=lambda self: self._default_webhook_token(),
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
        tracking=True,
        help="The URL the provider calls, when Odoo is behind a reverse proxy "
        "(e.g. https://crm.example.com); used to verify Twilio signatures.",
    )
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        groups="call_tracking.call_tracking_group_manager",
        help="Configure this URL in the provider's console.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        help="Sales team of the leads created from this provider's calls.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        help="Salesperson of the leads created from this provider's calls.",
    )
    number_ids = fields.One2many("call.tracking.number", "provider_id", string="Numbers")
    call_count = fields.Integer(compute="_compute_call_count")
    webhook_event_count = fields.Integer(
        compute="_compute_webhook_event_count",
        groups="call_tracking.call_tracking_group_manager",
    )

    _sql_constraints = [
        ("webhook_token_uniq", "unique(webhook_token)", "The webhook token must be unique."),
    ]

    @api.depends("webhook_token", "public_base_url")
    def _compute_webhook_url(self):
        for provider in self:
            base = provider._get_public_base_url()
            provider.webhook_url = (
                f"{base}{WEBHOOK_ROUTE}{quote(provider.webhook_token)}"
                if provider.webhook_token
                else False
            )

    def _compute_call_count(self):
        counts = dict(
            self.env["call.tracking.call"]._read_group(
                [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
            )
        )
        for provider in self:
            provider.call_count = counts.get(provider, 0)

    def _compute_webhook_event_count(self):
        counts = dict(
            self.env["call.tracking.webhook.event"]._read_group(
                [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
            )
        )
        for provider in self:
            provider.webhook_event_count = counts.get(provider, 0)

    @api.constrains("public_base_url")
    def _check_public_base_url(self):
        for provider in self:
            url = provider.public_base_url
            if url and not url.startswith(("http://", "https://")):
                raise ValidationError(
                    self.env._("The public base URL must start with http:// or https://.")
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_regenerate_token(self):
        """Give the provider a new webhook URL; the old one stops working."""
        self.ensure_one()
        self.webhook_token = self._default_webhook_token()
        self.message_post(
            body=self.env._("Webhook URL regenerated: the previous URL no longer works.")
        )
        return True

    def action_view_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_call_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        action["context"] = {"default_provider_id": self.id}
        return action

    def action_view_webhook_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_webhook_event_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Webhook: look-up, inbox, verification, dispatch by kind
    # ------------------------------------------------------------------

    def _get_public_base_url(self):
        self.ensure_one()
        return (self.public_base_url or self.get_base_url()).rstrip("/")

    @api.model
    def _get_by_webhook_token(self, token):
        """The active provider owning ``token`` (empty recordset otherwise)."""
        if not token or len(token) > 128:
            return self.browse()
        # the fields every request reads, fetched by the look-up itself
        return self.search_fetch(
            [("webhook_token", "=", token)],
            ["kind", "company_id", "secret", "public_base_url", "team_id", "user_id"],
            limit=1,
        )

    def _kind_method(self, suffix, required=True):
        self.ensure_one()
        method = getattr(self, f"_{self.kind}_{suffix}", None)
        if method is None and required:
            raise UserError(
                self.env._(
                    "Provider kind %(kind)s does not implement %(method)s.",
                    kind=self.kind,
                    method=suffix,
                )
            )
        return method

    def _verify_request(self, request_data):
        """Raise :class:`WebhookSignatureError` unless the request is signed."""
        if not self.secret:
            raise WebhookSignatureError(
                self.env._("The provider has no signing secret: requests cannot be verified.")
            )
        return self._kind_method("verify_request")(request_data)

    def _parse_events(self, request_data):
        events = self._kind_method("parse_events")(request_data)
        if not isinstance(events, list):
            raise WebhookPayloadError(self.env._("The parser returned no event list."))
        return events

    def _webhook_response(self, events):
        method = self._kind_method("webhook_response", required=False)
        if method:
            return method(events)
        return 200, json.dumps({"status": "ok"}), "application/json"

    def _handle_webhook_get(self, request_data):
        """Answer a GET on the webhook URL: (status, body, content type)."""
        method = self._kind_method("handle_get", required=False)
        if method:
            result = method(request_data)
            if result:
                return result
        return 405, json.dumps({"error": "POST expected"}), "application/json"

    @api.model
    def _webhook_max_body_bytes(self):
        """The largest webhook body accepted (bytes)."""
        return MAX_BODY_BYTES

    def _reject_oversized_webhook(self, request_data, content_length):
        """Record a request refused for its size (its body unread) in the
        inbox as rejected; return the 413 answer ``(status, body,
        content_type)``."""
        self.ensure_one()
        event_sudo = (
            self.env["call.tracking.webhook.event"].sudo()._create_from_request(self, request_data)
        )
        reason = self.env._(
            "The body is too large: %(size)s bytes, at most %(limit)s accepted.",
            size=content_length,
            limit=self._webhook_max_body_bytes(),
        )
        event_sudo.write({"state": "rejected", "error_message": reason, "body_truncated": True})
        return 413, json.dumps({"error": reason}), "application/json"

    def _receive_webhook(self, request_data):
        """Store the raw request, verify it, then process it in a savepoint.

        Returns ``(status, body, content_type)``. Called on the provider
        record in sudo by the controller (the route is public; the signature
        is the authentication).
        """
        self.ensure_one()
        event_sudo = (
            self.env["call.tracking.webhook.event"].sudo()._create_from_request(self, request_data)
        )
        try:
            self._verify_request(request_data)
        except WebhookSignatureError as exc:
            event_sudo._mark("rejected", exc.reason)
            return exc.status, json.dumps({"error": exc.reason}), "application/json"
        return event_sudo._process(request_data)
