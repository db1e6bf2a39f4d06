"""Generic JSON webhooks (the public contract in README.rst, "Provider webhooks").

Body::

    {"event": "call_end", "call_id": "abc-123", "from": "+380501112233",
     "to": "+380441234567", "start": "2026-11-22T10:15:00Z", "duration": 95,
     "talk_duration": 80, "status": "answered", "recording_url": "https://..."}

Signed with ``X-Call-Tracking-Signature: sha256=<hex HMAC-SHA256 of the raw
body, keyed with the provider secret>``, compared in constant time.
"""

import hashlib
import hmac
import json

from odoo import models

from ..exceptions import WebhookPayloadError, WebhookSignatureError
from ..tools.webhook_parsing import parse_datetime, parse_int, parse_str, parse_url
from .call_tracking_call import EVENT_TYPES, FINAL_STATUSES

SIGNATURE_HEADER = "X-Call-Tracking-Signature"
GENERIC_STATUSES = FINAL_STATUSES | {"in_progress"}


def generic_signature(secret, body):
    """The header value a generic sender puts on ``body`` (bytes)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _build_test_request(self, call_values):
        if self.kind != "generic":
            return super()._build_test_request(call_values)
        payload = {
            "event": "call_end",
            "call_id": call_values["call_id"],
            "from": call_values["from"],
            "to": call_values["to"],
            "start": call_values["start"].isoformat() + "Z",
            "duration": call_values["duration"],
            "talk_duration": call_values["duration"],
            "status": "answered",
        }
        body = json.dumps(payload).encode()
        request_data = self._get_test_request_base("application/json", body)
        request_data["headers"][SIGNATURE_HEADER] = generic_signature(self.secret, body)
        return request_data

    def _verify_webhook(self, request_data):
        if self.kind != "generic":
            return super()._verify_webhook(request_data)
        self._verify_generic_signature(request_data)

    def _verify_generic_signature(self, request_data):
        """Raise ``WebhookSignatureError`` unless the body carries the
        generic signature (also the recording upload's, of every kind)."""
        self.ensure_one()
        secret = self._get_webhook_secret()
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        received = headers.get(SIGNATURE_HEADER.lower()) or ""
        expected = generic_signature(secret, request_data.get("body") or b"")
        if not hmac.compare_digest(received.strip().encode(), expected.encode()):
            raise WebhookSignatureError(
                self.env._("Invalid or missing %s header.", SIGNATURE_HEADER)
            )

    def _parse_webhook_events(self, request_data):
        if self.kind != "generic":
            return super()._parse_webhook_events(request_data)
        _ = self.env._
        try:
            payload = json.loads((request_data.get("body") or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookPayloadError(_("The body is not JSON: %s", exc)) from exc
        except RecursionError as exc:
            raise WebhookPayloadError(_("The body is nested too deeply.")) from exc
        if not isinstance(payload, dict):
            raise WebhookPayloadError(_("The body must be a JSON object."))
        event_type = payload.get("event")
        if event_type not in EVENT_TYPES:
            raise WebhookPayloadError(_("'event' must be one of %s.", ", ".join(EVENT_TYPES)))
        status = payload.get("status")
        if status is not None and status not in GENERIC_STATUSES:
            raise WebhookPayloadError(
                _("'status' must be one of %s.", ", ".join(sorted(GENERIC_STATUSES)))
            )
        call_id = parse_str(self.env, payload, "call_id", required=True)
        return [
            {
                "event": event_type,
                "call_id": call_id,
                "from": parse_str(self.env, payload, "from"),
                "to": parse_str(self.env, payload, "to"),
                "start": parse_datetime(self.env, payload, "start"),
                "answer": parse_datetime(self.env, payload, "answer"),
                "end": parse_datetime(self.env, payload, "end"),
                "duration": parse_int(self.env, payload, "duration"),
                "talk_duration": parse_int(self.env, payload, "talk_duration"),
                "status": status,
                "recording_url": parse_url(self.env, payload, "recording_url"),
            }
        ]
