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
"""

import base64
import hashlib
import hmac
from zoneinfo import ZoneInfo

from odoo import fields, models

from odoo.addons.base.models.res_partner import _tz_get

from .call_tracking_provider import WebhookPayloadError, WebhookSignatureError
from .webhook_parsing import parse_int, parse_naive_local, parse_str

ZADARMA_SIGNED_FIELDS = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
ZADARMA_DISPOSITIONS = {
    "answered": "answered",
    "busy": "busy",
    "cancel": "missed",
    "no answer": "missed",
}


def zadarma_signature(secret, params, event):
    """The ``Signature`` header Zadarma puts on a notification."""
    data = "".join(str(params.get(name, "")) for name in ZADARMA_SIGNED_FIELDS[event])
    hex_digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


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

    def _zadarma_handle_get(self, request_data):
        echo = dict(request_data.get("query") or []).get("zd_echo")
        if echo is not None:
            return 200, echo[:256], "text/plain"
        return None

    def _zadarma_verify_request(self, request_data):
        params = dict(request_data.get("form") or [])
        event = params.get("event")
        if event not in ZADARMA_SIGNED_FIELDS:
            # Unsigned kinds of notification are not accepted.
            raise WebhookSignatureError(
                self.env._("Zadarma event %r is not supported.", (event or "")[:32])
            )
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        received = (headers.get("signature") or "").strip()
        expected = zadarma_signature(self.secret, params, event)
        if not received or not hmac.compare_digest(received.encode(), expected.encode()):
            raise WebhookSignatureError(self.env._("Invalid or missing Signature header."))

    def _zadarma_parse_events(self, request_data):
        _ = self.env._
        params = dict(request_data.get("form") or [])
        event = params.get("event")
        call_id = parse_str(self.env, params, "pbx_call_id", required=True)
        if event == "NOTIFY_RECORD":
            # The recording id only; the file is fetched through the API.
            return [{"event": "call_update", "call_id": call_id}]
        tz = ZoneInfo(self.zadarma_timezone or "UTC")
        values = {
            "call_id": call_id,
            "from": parse_str(self.env, params, "caller_id"),
            "to": parse_str(self.env, params, "called_did"),
            "start": parse_naive_local(self.env, params, "call_start", tz),
        }
        if event == "NOTIFY_START":
            return [{"event": "call_start", **values}]
        disposition = parse_str(self.env, params, "disposition")
        if disposition is None:
            raise WebhookPayloadError(_("'disposition' is missing."))
        duration = parse_int(self.env, params, "duration")
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
