"""Twilio voice status callbacks.

Followed Twilio's own documentation:

* "Webhooks security" (https://www.twilio.com/docs/usage/webhooks/webhooks-security):
  ``X-Twilio-Signature`` is base64(HMAC-SHA1(auth token, URL + every POST
  parameter sorted by name, each as name + value concatenated)), where URL is
  the full URL Twilio called (with its query string).

The URL Twilio called is the one pasted into its console: either the
configured public base URL or the URL the request reached (which Odoo
rebuilds from the proxy's X-Forwarded-* headers in ``proxy_mode``). Both
are tried; the request is accepted when either matches.
* "Voice Webhooks" / call status callbacks
  (https://www.twilio.com/docs/usage/webhooks/voice-webhooks and
  https://www.twilio.com/docs/voice/api/call-resource#statuscallback):
  form-encoded ``CallSid``, ``CallStatus`` (queued, initiated, ringing,
  in-progress, completed, busy, failed, no-answer, canceled), ``From``,
  ``To``, ``Direction``, ``Timestamp`` (RFC 2822), ``CallDuration`` (on
  completed), ``RecordingUrl`` (when recorded).
"""

import base64
import hashlib
import hmac
from datetime import UTC, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

from odoo import fields, models

from ..exceptions import WebhookPayloadError, WebhookSignatureError
from ..tools.webhook_parsing import parse_int, parse_rfc2822, parse_str, parse_url

TWILIO_API_URL = "https://api.twilio.com"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
# CallStatus -> (event, call status)
TWILIO_STATUSES = {
    "queued": ("call_start", None),
    "initiated": ("call_start", None),
    "ringing": ("call_start", None),
    "in-progress": ("call_update", None),
    "completed": ("call_end", "answered"),
    "busy": ("call_end", "busy"),
    "failed": ("call_end", "failed"),
    "no-answer": ("call_end", "missed"),
    "canceled": ("call_end", "missed"),
}


def twilio_signature(auth_token, url, params):
    """X-Twilio-Signature of a request to ``url`` with POST ``params``
    (list of (name, value) pairs)."""
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    kind = fields.Selection(
        selection_add=[("twilio", "Twilio")], ondelete={"twilio": "set default"}
    )

    def _build_test_request(self, call_values):
        if self.kind != "twilio":
            return super()._build_test_request(call_values)
        # a status callback of a completed inbound call (Twilio's parameters)
        form = [
            ("AccountSid", "AC" + "0" * 32),
            ("CallSid", "CA" + call_values["call_id"].removeprefix("test-")[:32]),
            ("CallStatus", "completed"),
            ("CallDuration", str(call_values["duration"])),
            ("Direction", "inbound"),
            ("From", call_values["from"]),
            ("To", call_values["to"]),
            ("Timestamp", format_datetime(call_values["end"].replace(tzinfo=UTC))),
        ]
        request_data = self._get_test_request_base(
            "application/x-www-form-urlencoded", urlencode(form).encode(), form
        )
        url = request_data["url_base"] + request_data["url_path"]
        request_data["headers"][TWILIO_SIGNATURE_HEADER] = twilio_signature(self.secret, url, form)
        return request_data

    def _verify_webhook(self, request_data):
        if self.kind != "twilio":
            return super()._verify_webhook(request_data)
        secret = self._get_webhook_secret()
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        received = (headers.get(TWILIO_SIGNATURE_HEADER.lower()) or "").strip().encode()
        path = request_data.get("url_path") or ""
        form = request_data.get("form") or []
        # every candidate is computed and compared (no early exit)
        matches = [
            hmac.compare_digest(received, twilio_signature(secret, base + path, form).encode())
            for base in self._get_webhook_url_bases(request_data)
        ]
        if not received or not any(matches):
            raise WebhookSignatureError(
                self.env._(
                    "Invalid or missing %s header (check the auth token and the public base URL).",
                    TWILIO_SIGNATURE_HEADER,
                )
            )

    def _parse_webhook_events(self, request_data):
        if self.kind != "twilio":
            return super()._parse_webhook_events(request_data)
        _ = self.env._
        form = request_data.get("form") or []
        params = dict(form)
        if not params:
            raise WebhookPayloadError(_("Twilio status callbacks are form-encoded POSTs."))
        call_status = params.get("CallStatus")
        if call_status not in TWILIO_STATUSES:
            raise WebhookPayloadError(_("Unknown CallStatus %r.", (call_status or "")[:32]))
        event_type, status = TWILIO_STATUSES[call_status]
        timestamp = parse_rfc2822(self.env, params, "Timestamp")
        duration = parse_int(self.env, params, "CallDuration")
        if status == "answered" and not duration:
            status = "missed"
        event = {
            "event": event_type,
            "call_id": parse_str(self.env, params, "CallSid", required=True),
            "from": parse_str(self.env, params, "From"),
            "to": parse_str(self.env, params, "To"),
            "status": status,
            "duration": duration,
            "recording_url": parse_url(self.env, params, "RecordingUrl"),
        }
        if event_type == "call_start":
            event["start"] = timestamp
        elif event_type == "call_update":
            event["answer"] = timestamp
        elif timestamp:
            event["end"] = timestamp
            if duration is not None:
                event["start"] = timestamp - timedelta(seconds=duration)
        return [event]

    def _get_webhook_answer(self, events):
        if self.kind != "twilio":
            return super()._get_webhook_answer(events)
        # Status callbacks ignore the body; an empty TwiML document is
        # harmless if the URL is also used as the voice URL.
        return "text/xml", '<?xml version="1.0" encoding="UTF-8"?><Response/>'
