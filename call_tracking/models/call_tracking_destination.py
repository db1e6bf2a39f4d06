import json
import re
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from ..tools import outbound
from ..tools.conversions import clip_answer
from ..tools.platform_versions import version_state

# seconds a platform may take to answer
REQUEST_TIMEOUT = 20
# the largest answer read from a platform
MAX_ANSWER_BYTES = 1_000_000
# the longest parsed answer kept on a conversion or shown after a test event
ANSWER_TEXT_MAX = 1000
TRIGGERS = [
    ("call", "Any attributed call"),
    ("first_call", "First-time callers only"),
    ("answered", "Answered for at least N seconds"),
    ("targeted", "Marked targeted"),
    ("won", "Lead won (won revenue as value)"),
]
# the triggers a finished call fires; the others follow the lead
CALL_TRIGGERS = ("call", "first_call", "answered")
CONSENT = [("granted", "Granted"), ("denied", "Denied"), ("unspecified", "Not sent")]


class PlatformError(Exception):
    """A platform refused or could not take a request. ``retry``: worth
    another try later (timeouts, 5xx, 429); ``answer``: what it said."""

    def __init__(self, answer, retry):
        super().__init__(answer)
        self.answer = answer
        self.retry = retry


class CallTrackingDestination(models.Model):
    """An ad or analytics platform that receives conversions of calls.

    Each ``kind`` lives in its own file (``call_tracking_destination_<kind>.py``)
    which adds itself to the ``kind`` selection and extends these methods,
    each guarded by its kind as Odoo's payment providers do
    (``if self.kind != 'ga4': return super()._send_conversions(...)``):

    * :meth:`_get_default_endpoint`: the platform's URL;
    * :meth:`_check_credentials`: raise ``ValidationError`` naming the field;
    * :meth:`_prepare_conversion`: the payload of one conversion, or the
      reason to skip it (the call lacks what the platform needs);
    * :meth:`_send_conversions`: send a batch; write each conversion's state;
    * :meth:`_poll_conversions`: follow an upload the platform processes later;
    * :meth:`_send_test_event`: the platform's answer to a test event.
    """

    _name = "call.tracking.destination"
    _inherit = ["mail.thread"]
    _description = "Call Tracking Conversion Destination"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    kind = fields.Selection([], required=True, tracking=True)
    endpoint_url = fields.Char(
        string="Endpoint URL",
        tracking=True,
        help="The platform's address; replace it only for a proxy or a test server. "
        "Only Settings administrators may set another address than the platform's: "
        "the credential is sent there.",
    )
    can_edit_endpoint = fields.Boolean(compute="_compute_can_edit_endpoint")
    api_version_warning = fields.Char(
        string="API Version Warning",
        compute="_compute_api_version_warning",
        help="The platform retires the API version of the endpoint URL.",
    )
    account_ref = fields.Char(
        string="Account",
        tracking=True,
        help="GA4: the measurement ID (G-...). Yandex Metrica: the counter ID. "
        "Meta: the pixel (dataset) ID. Google Ads: the user name of the CSV URL.",
    )
    # Readable by Settings administrators only; call tracking managers set
    # it through the write-only secret_input (as the providers' secret).
    secret = fields.Char(
        string="Credential",
        copy=False,
        groups="base.group_system",
        help="GA4: the Measurement Protocol API secret. Yandex Metrica: the OAuth "
        "token. Meta: the Conversions API access token. Google Ads: the password "
        "of the CSV URL.",
    )
    secret_input = fields.Char(
        string="New Credential",
        compute="_compute_secret_input",
        inverse="_inverse_secret_input",
        help="Write-only: sets the credential, which is never shown again.",
    )
    has_secret = fields.Boolean(string="Credential Set", compute="_compute_has_secret")
    trigger = fields.Selection(TRIGGERS, required=True, default="call", tracking=True)
    min_talk_seconds = fields.Integer(
        string="Minimum Talk Time (s)",
        default=30,
        help="For the trigger 'Answered for at least N seconds'.",
    )
    conversion_name = fields.Char(
        required=True,
        default="phone_call",
        tracking=True,
        help="GA4: the event name. Google Ads: the conversion action's name. "
        "Meta: the event name (e.g. Contact or Lead). Yandex: the goal name.",
    )
    default_value = fields.Float(
        help="Value of a conversion without won revenue (0: no value is sent)."
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    consent_ad_user_data = fields.Selection(
        CONSENT,
        string="Consent: Ad User Data",
        default="unspecified",
        help="Sent as GA4's consent.ad_user_data. Choose 'Granted' only when "
        "the website collects this consent before the number is shown.",
    )
    consent_ad_personalization = fields.Selection(
        CONSENT,
        string="Consent: Ad Personalization",
        default="unspecified",
        help="Sent as GA4's consent.ad_personalization.",
    )
    timezone = fields.Selection(
        _tz_get,
        default="UTC",
        help="Google Ads: the time zone of the CSV's conversion times.",
    )
    conversion_ids = fields.One2many("call.tracking.conversion", "destination_id")
    conversion_count = fields.Integer(compute="_compute_conversion_count")
    last_test_answer = fields.Text(readonly=True, copy=False)

    _sql_constraints = [
        (
            "min_talk_seconds_positive",
            "CHECK(min_talk_seconds >= 0)",
            "Talk time cannot be negative.",
        )
    ]

    def init(self):
        res = super().init()
        # answers an earlier version stored may hold the credential (the URL
        # of a connection error): redacted at install and update
        self.sudo().with_context(active_test=False).search(
            [("secret", "!=", False)]
        )._redact_stored_answers()
        return res

    def _redact_stored_answers(self):
        """Replace the destinations' credentials by ``***`` in the answers
        stored on their conversions and in their last test answer."""
        Conversion = self.env["call.tracking.conversion"].sudo()
        for destination_sudo in self.sudo():
            secret = destination_sudo.secret
            conversions = Conversion.search(
                [("destination_id", "=", destination_sudo.id), ("answer", "like", secret)]
            )
            # one write per distinct answer: failures of one kind share it
            for answer, same in conversions.grouped("answer").items():
                same.answer = outbound.redact(answer, (secret,))
            if secret in (destination_sudo.last_test_answer or ""):
                destination_sudo.last_test_answer = outbound.redact(
                    destination_sudo.last_test_answer, (secret,)
                )

    def _compute_secret_input(self):
        self.secret_input = False

    def _inverse_secret_input(self):
        for destination in self.filtered("secret_input"):
            # narrow sudo: the caller may write the destination (checked by
            # write()), the credential itself is for Settings admins only
            destination.sudo().secret = destination.secret_input.strip()

    def _compute_has_secret(self):
        for destination, destination_sudo in zip(self, self.sudo(), strict=True):
            destination.has_secret = bool(destination_sudo.secret)

    @api.depends("kind", "endpoint_url")
    def _compute_api_version_warning(self):
        today = fields.Date.context_today(self)
        for destination in self:
            version, end, state = version_state(destination.kind, destination.endpoint_url, today)
            if state == "expired":
                warning = self.env._(
                    "The platform retired API version %(version)s on %(date)s: requests to "
                    "this endpoint URL fail. Update the module, or set the endpoint URL to a "
                    "current version.",
                    version=version,
                    date=end,
                )
            elif state == "expiring":
                warning = self.env._(
                    "The platform retires API version %(version)s on %(date)s: update the "
                    "module, or set the endpoint URL to a current version, before then.",
                    version=version,
                    date=end,
                )
            elif state == "unknown":
                warning = self.env._(
                    "API version %s of the endpoint URL is not one this module knows.", version
                )
            else:
                warning = False
            destination.api_version_warning = warning

    @api.depends_context("uid")
    def _compute_can_edit_endpoint(self):
        self.can_edit_endpoint = self._may_set_endpoint()

    @api.model
    def _may_set_endpoint(self):
        """Whether the user may send the credentials to an address of their
        choice: Settings administrators only (as for the credentials)."""
        return self.env.su or self.env.user.has_group("base.group_system")

    def _compute_conversion_count(self):
        counts = dict(
            self.env["call.tracking.conversion"]._read_group(
                [("destination_id", "in", self.ids)], ["destination_id"], ["__count"]
            )
        )
        for destination in self:
            destination.conversion_count = counts.get(destination, 0)

    @api.constrains("endpoint_url")
    def _check_endpoint_url(self):
        for destination in self:
            url = destination.endpoint_url
            if url and not re.match(r"^https?://[^\s/?#]+", url):
                raise ValidationError(
                    self.env._(
                        "Endpoint URL of %(name)s: it must start with http:// or https:// "
                        "and name a host.",
                        name=destination.name,
                    )
                )

    @api.constrains("kind", "account_ref", "secret")
    def _check_account_ref(self):
        for destination in self.sudo():
            destination._check_credentials(require_secret=False)

    @api.onchange("kind")
    def _onchange_kind(self):
        self.endpoint_url = self._get_default_endpoint() or False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("kind"):
                draft = self.new({k: v for k, v in vals.items() if k in ("kind", "ga4_region")})
                default = draft._get_default_endpoint()
                if vals.get("endpoint_url") and vals["endpoint_url"] != default:
                    self._check_endpoint_access()
                vals["endpoint_url"] = vals.get("endpoint_url") or default
            elif vals.get("endpoint_url"):
                self._check_endpoint_access()
        destinations = super().create(vals_list)
        self.env.registry.clear_cache()  # _get_active_triggers
        # after the write-only credential was stored by its inverse
        for destination in destinations.sudo():
            destination._check_credentials()
        return destinations

    def write(self, vals):
        if not self._may_set_endpoint():
            vals = self._endpoint_vals_of_non_admin(vals)
        res = super().write(vals)
        if {"active", "trigger", "company_id"} & set(vals):
            self.env.registry.clear_cache()  # _get_active_triggers
        if "kind" in vals or "secret_input" in vals or "secret" in vals:
            for destination in self.sudo():
                destination._check_credentials()
        return res

    def _endpoint_vals_of_non_admin(self, vals):
        """``vals`` of a user who may not choose the address: the endpoint
        may only be the platform's own, and changing the kind (or the GA4
        region) puts the new platform's address back."""
        if not {"endpoint_url", "kind", "ga4_region"} & set(vals):
            return vals
        defaults = set()
        for destination in self:
            draft = destination.new(
                {
                    "kind": vals.get("kind", destination.kind),
                    "ga4_region": vals.get("ga4_region", destination.ga4_region),
                }
            )
            defaults.add(draft._get_default_endpoint() or False)
        if vals.get("endpoint_url") and {vals["endpoint_url"]} != defaults:
            self._check_endpoint_access()
        if ("kind" in vals or "ga4_region" in vals) and len(defaults) == 1:
            vals = {**vals, "endpoint_url": defaults.pop()}
        return vals

    @api.model
    def _check_endpoint_access(self):
        if not self._may_set_endpoint():
            raise AccessError(
                self.env._(
                    "Only Settings administrators may set a destination's endpoint URL to "
                    "another address than the platform's: the credential is sent there."
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_send_test_event(self):
        """Send one test event (the platform's validation endpoint when it
        has one) and show its answer."""
        self.ensure_one()
        self.check_access("write")
        destination_sudo = self.sudo()
        destination_sudo._check_credentials()
        try:
            answer = destination_sudo._send_test_event()
        except PlatformError as exc:
            answer = exc.answer
        self.last_test_answer = clip_answer(answer)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Answer of %s", self.name),
                "message": clip_answer(answer, 500),
                "sticky": True,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_conversions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_conversion_action"
        )
        action["domain"] = [("destination_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _get_active_triggers
        return res

    @api.model
    @tools.ormcache("company_id")
    def _get_active_triggers(self, company_id):
        """The triggers of the company's active destinations (cached: the
        webhook asks for every finished call, and most databases have no
        destination for most triggers)."""
        destinations = self.sudo().search_fetch([("company_id", "=", company_id)], ["trigger"])
        return frozenset(destinations.mapped("trigger"))

    def _trigger_matches(self, call):
        """The destination's trigger holds for ``call``; only attributed
        calls count (an unattributed call came from no platform); spam and
        test calls never do."""
        self.ensure_one()
        if call.is_spam or call.is_test:
            return False
        if call.attribution_method not in ("session", "session_expired", "static"):
            return False
        if self.trigger == "first_call":
            return bool(call.is_first_call)
        if self.trigger == "answered":
            return call.status == "answered" and (call.talk_duration or 0) >= (
                self.min_talk_seconds or 0
            )
        return True

    # ------------------------------------------------------------------
    # Kind hooks (extended by each kind, guarded by it)
    # ------------------------------------------------------------------

    def _get_default_endpoint(self):
        """The platform's endpoint URL for this kind (hook)."""
        return False

    def _check_credentials(self, require_secret=True):
        """Raise ``ValidationError`` naming the field when the account or the
        credential is missing or malformed (hook; called in sudo)."""
        self.ensure_one()
        if require_secret and not self.secret:
            raise ValidationError(
                self.env._(
                    "Credential of %(name)s: it is missing.",
                    name=self.name,
                )
            )

    def _prepare_conversion(self, call, trigger, value, event_time):
        """``(payload dict, skip reason)`` of one conversion of ``call``:
        exactly one of them is set (hook)."""
        self.ensure_one()
        return None, self.env._("Destination kind %s cannot build conversions.", self.kind)

    def _send_conversions(self, conversions):
        """Send ``conversions`` (pending, of this destination) and record
        each one's outcome with ``_mark_sent`` / ``_mark_failed`` (hook;
        raise ``PlatformError`` for a failure of the whole batch)."""
        self.ensure_one()
        raise PlatformError(
            self.env._("Destination kind %s cannot send conversions.", self.kind), retry=False
        )

    def _poll_conversions(self, conversions):
        """Follow conversions the platform accepted for later processing
        (hook; only kinds with asynchronous uploads)."""
        self.ensure_one()
        conversions.next_try_at = False

    def _send_test_event(self):
        """Send a test event and return the platform's answer as text."""
        self.ensure_one()
        raise UserError(self.env._("Destination kind %s has no test event.", self.kind))

    def _max_event_age(self):
        """How old an event the platform still accepts (a timedelta; False:
        no limit)."""
        return False

    # ------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------

    def _http(self, method, url, **kwargs):
        """One request to a platform through the outbound guard (internal
        addresses refused, redirects checked, answer size capped): the
        response when it answered 2xx; else ``PlatformError`` with the
        status and the platform's parsed error, the destination's
        credential redacted, to retry for timeouts, connection errors, 429
        and 5xx."""
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        kwargs.setdefault("max_bytes", MAX_ANSWER_BYTES)
        secrets = tuple(filter(None, self.sudo().mapped("secret")))
        try:
            return outbound.request(self.env, method, url, secrets=secrets, **kwargs)
        except outbound.OutboundError as exc:
            raise PlatformError(exc.message, retry=exc.retry) from None

    def _answer_text(self, response, keys):
        """What is kept of a platform's answer: its status and the listed
        keys of its JSON object (never a raw body), the credential redacted."""
        text = f"HTTP {response.status_code}"
        data = self._json_of(response)
        if isinstance(data, dict):
            kept = {key: data[key] for key in keys if key in data}
            if kept:
                text = f"{text} {json.dumps(kept, ensure_ascii=False)}"
        secrets = tuple(filter(None, self.sudo().mapped("secret")))
        return outbound.redact(text, secrets)[:ANSWER_TEXT_MAX]

    def _send_each(self, conversions, send_one):
        """Send conversions one request each (``send_one(conversion)`` returns
        the answer text). After a failure worth retrying (the platform is
        down or slow) the rest of the batch is not tried: it fails with the
        same answer and waits for its next try."""
        for index, conversion in enumerate(conversions):
            try:
                answer = send_one(conversion)
            except PlatformError as exc:
                if exc.retry:
                    conversions[index:]._mark_failed(exc.answer, retry=True)
                    return
                conversion._mark_failed(exc.answer, retry=False)
                continue
            conversion._mark_sent(answer)

    @api.model
    def _json_of(self, response):
        """The JSON of an answer, or None for any other shape."""
        try:
            return response.json()
        except ValueError:
            return None

    def _event_too_old(self, event_time, now=None):
        limit = self._max_event_age()
        if not limit or not event_time:
            return False
        return event_time < (now or fields.Datetime.now()) - limit

    @api.model
    def _age_text(self, limit):
        if limit >= timedelta(days=7):
            return self.env._("%s d", limit.days)
        return self.env._("%s h", int(limit.total_seconds() // 3600))
