import secrets
import uuid
from datetime import timedelta
from urllib.parse import quote

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..exceptions import WebhookError, WebhookPayloadError, WebhookSignatureError

WEBHOOK_ROUTE = "/call_tracking/webhook/"
# the length of a test call, at most (it ends when the button is pressed)
TEST_CALL_SECONDS = 42


class CallTrackingProvider(models.Model):
    """A telephony account that posts call webhooks.

    Each ``kind`` lives in its own file (``call_tracking_provider_<kind>.py``)
    which adds itself to the ``kind`` selection and extends the webhook
    methods below, each guarded by its kind as Odoo's payment providers do
    (``if self.kind != 'twilio': return super()._verify_webhook(...)``):

    * :meth:`_verify_webhook`: raise ``WebhookSignatureError`` unless the
      provider signed the request;
    * :meth:`_parse_webhook_events`: the normalised events of the request
      (see ``call.tracking.call._process_webhook_events``), or raise
      ``WebhookPayloadError``;
    * optionally :meth:`_get_webhook_get_answer` (URL checks such as
      Zadarma's ``zd_echo``) and :meth:`_get_webhook_answer` (the content
      the provider expects back, e.g. TwiML).

    The webhook controller builds every HTTP answer from these results and
    from the exceptions of ``call_tracking/exceptions.py``; the models never
    decide a status code.

    ``request_data`` is a plain dict built by the controller (or rebuilt
    from an inbox entry): ``method``, ``url_base`` (scheme and host the
    request reached, as Odoo sees it, honouring ``proxy_mode``), ``url_path``
    (path and query string), ``headers`` (dict), ``body`` (bytes), ``form``
    and ``query`` (lists of (name, value) pairs), ``remote_addr``,
    ``received_at`` (naive UTC datetime, server clock).
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
    # Readable by Settings administrators only; call tracking managers set
    # it through the write-only secret_input. The webhook reads it on the
    # provider it looked up in sudo.
    secret = fields.Char(
        string="Signing Secret",
        copy=False,
        groups="base.group_system",
        help="Twilio: the account's Auth Token. Zadarma: the API secret key. "
        "Generic: the HMAC-SHA256 key.",
    )
    secret_input = fields.Char(
        string="New Signing Secret",
        compute="_compute_secret_input",
        inverse="_inverse_secret_input",
        groups="call_tracking.call_tracking_group_manager",
        help="Write-only: sets the signing secret, which is never shown again.",
    )
    has_secret = fields.Boolean(
        string="Secret Set",
        compute="_compute_has_secret",
        groups="call_tracking.call_tracking_group_manager",
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

    def _compute_secret_input(self):
        self.secret_input = False

    def _inverse_secret_input(self):
        for provider in self.filtered("secret_input"):
            # narrow sudo: the caller may write the provider (checked by
            # write()), the secret field itself is for Settings admins only
            provider.sudo().secret = provider.secret_input.strip()

    def _compute_has_secret(self):
        for provider, provider_sudo in zip(self, self.sudo(), strict=True):
            provider.has_secret = bool(provider_sudo.secret)

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
        self.check_access("write")
        self.webhook_token = self._default_webhook_token()
        self.message_post(
            body=self.env._("Webhook URL regenerated: the previous URL no longer works.")
        )
        return True

    def action_test_call(self):
        """Send a signed sample call to the provider's first number."""
        self.ensure_one()
        # whoever may read the number may test it (salespeople too)
        self.check_access("read")
        number = self.number_ids.filtered("active")[:1]
        if not number:
            raise UserError(
                self.env._("Give the provider %s a tracking number first.", self.display_name)
            )
        return number.action_test_call()

    def action_view_calls(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_call_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        action["context"] = {"default_provider_id": self.id}
        return action

    def action_view_webhook_events(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_webhook_event_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Webhook: look-up, verification and parsing, extended by each kind
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
            [
                "kind",
                "company_id",
                "secret",
                "public_base_url",
                "team_id",
                "user_id",
                *self._get_webhook_fetch_fields(),
            ],
            limit=1,
        )

    @api.model
    def _get_webhook_fetch_fields(self):
        """Fields of the kinds read by every request (hook)."""
        return []

    def _get_webhook_secret(self):
        """The signing secret; a provider without one accepts nothing."""
        self.ensure_one()
        if not self.secret:
            raise WebhookSignatureError(
                self.env._("The provider has no signing secret: requests cannot be verified.")
            )
        return self.secret

    def _get_webhook_url_bases(self, request_data):
        """The base URLs a provider may have signed a request for: the
        configured public base URL (else the database's web.base.url), and
        the base the request reached (Odoo applies the proxy's
        X-Forwarded-* headers to it in proxy_mode)."""
        self.ensure_one()
        bases = [self._get_public_base_url()]
        received = (request_data.get("url_base") or "").rstrip("/")
        if received and received not in bases:
            bases.append(received)
        return bases

    def _verify_webhook(self, request_data):
        """Raise ``WebhookSignatureError`` unless the provider signed the
        request. Each kind extends it for its own records."""
        self.ensure_one()
        raise WebhookSignatureError(
            self.env._("Provider kind %s cannot verify webhooks.", self.kind)
        )

    def _parse_webhook_events(self, request_data):
        """The normalised events of a verified request. Each kind extends it
        for its own records; raise ``WebhookPayloadError`` on bad input."""
        self.ensure_one()
        raise WebhookPayloadError(self.env._("Provider kind %s cannot read webhooks.", self.kind))

    def _get_webhook_answer(self, events):
        """The content of the answer to an accepted request, as
        ``(mimetype, body)``, or None for the controller's plain JSON
        acknowledgement (hook)."""
        self.ensure_one()

    def _get_webhook_get_answer(self, request_data):
        """The content of the answer to a GET on the webhook URL (URL checks
        some providers make), as ``(mimetype, body)``; None when the kind
        expects no GET (the controller answers 405)."""
        self.ensure_one()

    # ------------------------------------------------------------------
    # Test calls: a signed sample request through the real processing
    # ------------------------------------------------------------------

    def _build_test_request(self, call_values):
        """The request this provider's kind would send for a finished call,
        as a ``request_data`` dict signed with the provider's secret. Each
        kind extends it for its own records.

        ``call_values``: ``call_id`` (str), ``from`` and ``to`` (E.164),
        ``start`` and ``end`` (naive UTC datetimes, whole seconds),
        ``duration`` (seconds).
        """
        self.ensure_one()
        raise UserError(self.env._("Provider kind %s cannot send test calls.", self.kind))

    def _get_test_request_base(self, content_type, body, form=()):
        """The parts of a test ``request_data`` every kind shares."""
        self.ensure_one()
        return {
            "method": "POST",
            "url_base": self._get_public_base_url(),
            "url_path": f"{WEBHOOK_ROUTE}{quote(self.webhook_token)}",
            "headers": {"Content-Type": content_type, "User-Agent": "Odoo call tracking test call"},
            "body": body,
            "form": list(form),
            "query": [],
            "remote_addr": "127.0.0.1",
            "received_at": fields.Datetime.now(),
        }

    def _make_test_call(self, number, caller):
        """Have ``number`` (a tracking number of this provider) called by
        ``caller`` now: the provider's signed request goes through the
        webhook's verification and the inbox's processing, as the webhook
        controller runs them. Return the call, flagged as a test.

        The call ends now and starts at most ``TEST_CALL_SECONDS`` earlier,
        never before the number's current lease (so a leased number's call
        is matched to that visitor)."""
        self.ensure_one()
        provider_sudo = self.sudo()
        if not provider_sudo.secret:
            raise UserError(
                self.env._(
                    "The provider %s has no signing secret: set it, then try again.",
                    self.display_name,
                )
            )
        end = fields.Datetime.now().replace(microsecond=0) + timedelta(seconds=1)
        start = end - timedelta(seconds=TEST_CALL_SECONDS)
        lease_sudo = number.sudo().lease_session_id
        if number.is_leased and lease_sudo.assigned_at:
            assigned = lease_sudo.assigned_at
            if assigned.microsecond:
                assigned = assigned.replace(microsecond=0) + timedelta(seconds=1)
            start = max(start, min(assigned, end))
        request_data = provider_sudo._build_test_request(
            {
                "call_id": f"test-{uuid.uuid4().hex}",
                "from": caller,
                "to": number.number,
                "start": start,
                "end": end,
                "duration": int((end - start).total_seconds()),
            }
        )
        Event = self.env["call.tracking.webhook.event"].sudo()
        try:
            provider_sudo._verify_webhook(request_data)
            entry, _events = Event.with_context(call_tracking_test_call=True)._create_and_process(
                provider_sudo, request_data
            )
        except WebhookError as exc:
            raise UserError(self.env._("The test call failed: %s", exc.reason)) from exc
        return entry.call_id.sudo(False)
