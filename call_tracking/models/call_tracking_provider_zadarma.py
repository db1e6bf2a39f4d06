"""Zadarma PBX call notifications.

Followed Zadarma's API documentation, "Notifications about calls to the PBX"
(https://zadarma.com/en/support/api/#api_webhooks):

* the notification URL is checked first with a GET carrying ``zd_echo``;
  the answer must be that value;
* notifications are form-encoded POSTs; ``NOTIFY_START`` (start of an
  incoming call): ``event``, ``call_start`` (``YYYY-MM-DD HH:MM:SS``),
  ``pbx_call_id``, ``caller_id``, ``called_did``; ``NOTIFY_END``: the same
  plus ``duration``, ``disposition`` (answered, busy, cancel, no answer,
  failed, no money, unallocated number, no limit, no day limit, line limit,
  no money no limit), ``status_code``, ``is_recorded``,
  ``call_id_with_rec``;
* the ``Signature`` header is, per the documentation's PHP example,
  ``base64_encode(hash_hmac('sha1', caller_id . called_did . call_start,
  API_SECRET))`` for NOTIFY_START and NOTIFY_END. PHP's ``hash_hmac``
  returns the lowercase hex digest, so the header is base64 of the hex
  string (not of the raw digest). ``NOTIFY_RECORD`` signs
  ``pbx_call_id . call_id_with_rec``.

``call_start`` carries no time zone: it is read in the provider's
``zadarma_timezone`` (the PBX time zone set in the Zadarma account).

Only ``caller_id``, ``called_did`` and ``call_start`` are signed: the call
id, the duration and the disposition are not. So the signed triple is kept
on the call (``signed_key``, an unambiguous JSON join) and an event whose
triple differs from its call's, or a second call id for the same triple, is
refused; a duration is clamped to the time elapsed since the signed start
(server clock at receipt); an event whose signed start is older than
``zadarma_max_age_hours`` (a replay of an old signed request) is refused.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from ..exceptions import WebhookPayloadError, WebhookSignatureError
from ..tools.webhook_parsing import parse_int, parse_naive_local, parse_str

ZADARMA_SIGNED_FIELDS = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
# The longest accepted "refuse notifications older than" setting, in hours:
# Zadarma notifies while the call happens, so a signed call start older than
# three days is a replay, never a late delivery.
ZADARMA_MAX_AGE_LIMIT = 72
ZADARMA_DISPOSITIONS = {
    "answered": "answered",
    "busy": "busy",
    "cancel": "missed",
    "no answer": "missed",
}


def zadarma_signature(secret, params, event):
    """The ``Signature`` header Zadarma puts on a notification: the HMAC of
    the signed fields concatenated as they are (Zadarma's scheme)."""
    data = "".join(str(params.get(name, "")) for name in ZADARMA_SIGNED_FIELDS[event])
    hex_digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def zadarma_signed_key(params):
    """Our own, unambiguous join of the signed triple of a NOTIFY_START or
    NOTIFY_END (plain concatenation would make "1" + "23" equal "12" + "3")."""
    return json.dumps([str(params.get(name, "")) for name in ZADARMA_SIGNED_FIELDS["NOTIFY_START"]])


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    kind = fields.Selection(
        selection_add=[("zadarma", "Zadarma")], ondelete={"zadarma": "set default"}
    )
    zadarma_timezone = fields.Selection(
        _tz_get,
        string="PBX Time Zone",
        default="UTC",
        help="Zadarma sends call_start without a time zone: the one of the PBX.",
    )
    zadarma_max_age_hours = fields.Integer(
        string="Refuse Notifications Older Than (hours)",
        default=24,
        help="A notification whose signed call start is older than this is refused: "
        "the call id and duration are not signed, so an old signed request replayed "
        "must not create or change a call. In hours, between 1 and 72.",
    )

    _sql_constraints = [
        (
            "zadarma_max_age_hours_positive",
            "CHECK(zadarma_max_age_hours IS NULL OR zadarma_max_age_hours BETWEEN 1 AND 72)",
            "The age limit of Zadarma notifications (in hours) must be between 1 and 72.",
        ),
    ]

    @api.constrains("zadarma_max_age_hours")
    def _check_zadarma_max_age_hours(self):
        for provider in self:
            hours = provider.zadarma_max_age_hours
            if hours and not 0 < hours <= ZADARMA_MAX_AGE_LIMIT:
                raise ValidationError(
                    self.env._(
                        "Refuse Notifications Older Than (hours) must be between 1 and "
                        "%(limit)s; given: %(hours)s.",
                        limit=ZADARMA_MAX_AGE_LIMIT,
                        hours=hours,
                    )
                )

    def _get_zadarma_max_age_hours(self):
        """The age limit in force: the setting, never beyond
        :data:`ZADARMA_MAX_AGE_LIMIT` (a value stored before the bound
        existed is read as the bound)."""
        return min(self.zadarma_max_age_hours or 24, ZADARMA_MAX_AGE_LIMIT)

    def _get_webhook_fetch_fields(self):
        return [*super()._get_webhook_fetch_fields(), "zadarma_timezone", "zadarma_max_age_hours"]

    def _get_webhook_get_answer(self, request_data):
        if self.kind != "zadarma":
            return super()._get_webhook_get_answer(request_data)
        echo = dict(request_data.get("query") or []).get("zd_echo")
        if echo is not None:
            return "text/plain", echo[:256]
        return super()._get_webhook_get_answer(request_data)

    def _build_test_request(self, call_values):
        if self.kind != "zadarma":
            return super()._build_test_request(call_values)
        tz = ZoneInfo(self.zadarma_timezone or "UTC")
        local_start = call_values["start"].replace(tzinfo=UTC).astimezone(tz)
        # a NOTIFY_END as Zadarma sends it: numbers without their "+"
        params = {
            "event": "NOTIFY_END",
            "call_start": local_start.strftime("%Y-%m-%d %H:%M:%S"),
            "pbx_call_id": call_values["call_id"],
            "caller_id": call_values["from"].lstrip("+"),
            "called_did": call_values["to"].lstrip("+"),
            "duration": str(call_values["duration"]),
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "0",
        }
        form = list(params.items())
        request_data = self._get_test_request_base(
            "application/x-www-form-urlencoded", urlencode(form).encode(), form
        )
        request_data["headers"]["Signature"] = zadarma_signature(self.secret, params, "NOTIFY_END")
        return request_data

    def _verify_webhook(self, request_data):
        if self.kind != "zadarma":
            return super()._verify_webhook(request_data)
        secret = self._get_webhook_secret()
        params = dict(request_data.get("form") or [])
        event = params.get("event")
        if event not in ZADARMA_SIGNED_FIELDS:
            # Unsigned kinds of notification are not accepted.
            raise WebhookSignatureError(
                self.env._("Zadarma event %r is not supported.", (event or "")[:32])
            )
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        received = (headers.get("signature") or "").strip()
        expected = zadarma_signature(secret, params, event)
        if not received or not hmac.compare_digest(received.encode(), expected.encode()):
            raise WebhookSignatureError(self.env._("Invalid or missing Signature header."))

    def _parse_webhook_events(self, request_data):
        if self.kind != "zadarma":
            return super()._parse_webhook_events(request_data)
        _ = self.env._
        params = dict(request_data.get("form") or [])
        event = params.get("event")
        call_id = parse_str(self.env, params, "pbx_call_id", required=True)
        if event == "NOTIFY_RECORD":
            # The recording id only; the file is fetched through the API.
            return [{"event": "call_update", "call_id": call_id}]
        tz = ZoneInfo(self.zadarma_timezone or "UTC")
        start = parse_naive_local(self.env, params, "call_start", tz)
        if start is None:
            raise WebhookPayloadError(_("'call_start' is missing."))
        received_at = request_data.get("received_at") or fields.Datetime.now()
        max_age = timedelta(hours=self._get_zadarma_max_age_hours())
        if start < received_at - max_age:
            raise WebhookSignatureError(
                _(
                    "The signed call start %(start)s is older than the limit "
                    "(%(hours)s h): an old notification is not accepted again.",
                    start=params.get("call_start"),
                    hours=self._get_zadarma_max_age_hours(),
                )
            )
        values = {
            "call_id": call_id,
            "from": parse_str(self.env, params, "caller_id"),
            "to": parse_str(self.env, params, "called_did"),
            "start": start,
            "signed_key": zadarma_signed_key(params),
        }
        if event == "NOTIFY_START":
            return [{"event": "call_start", **values}]
        disposition = parse_str(self.env, params, "disposition")
        if disposition is None:
            raise WebhookPayloadError(_("'disposition' is missing."))
        duration = parse_int(self.env, params, "duration")
        if duration is not None:
            # the duration is not signed: no longer than the signed start allows
            elapsed = max(int((received_at - start).total_seconds()), 0)
            duration = min(duration, elapsed)
        status = ZADARMA_DISPOSITIONS.get(disposition.lower(), "failed")
        return [
            {
                "event": "call_end",
                **values,
                "duration": duration,
                "talk_duration": duration if status == "answered" else 0,
                "status": status,
            }
        ]
