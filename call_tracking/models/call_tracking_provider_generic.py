"""Generic JSON webhooks (the public contract in README.rst, "Provider webhooks").

Body::

    {"event": "call_end", "call_id": "abc-123", "from": "+380501112233",
     "to": "+380441234567", "start": "2026-11-22T10:15:00Z", "duration": 95,
     "talk_duration": 80, "status": "answered", "recording_url": "https://...",
     "agent": "anna@example.com"}

``agent`` (optional) is the login or email of the Odoo user who answered,
or on whose phone the call rang: the call's salesperson (see ``const.py``).

Signed with ``X-Call-Tracking-Signature: sha256=<hex HMAC-SHA256 of the raw
body, keyed with the provider secret>``, compared in constant time.

Optionally with a signed timestamp, against replays (backward compatible: a
signature without ``t=`` still verifies)::

    X-Call-Tracking-Signature: t=<Unix time in seconds>,sha256=<hex HMAC-SHA256 of "<t>." + body>

The timestamp must be within :data:`SIGNATURE_TOLERANCE` seconds of the
server's clock when the request is received. A sender that always signs
with ``t=`` cannot be replayed after five minutes: its signatures cover
``"<t>." + body``, never the body alone, so no captured request gives an
attacker a signature of the old form.
"""

import hashlib
import hmac
import json
import re
from datetime import UTC

from odoo import fields, models

from ..exceptions import WebhookPayloadError, WebhookSignatureError
from ..tools.webhook_parsing import parse_datetime, parse_int, parse_str, parse_url
from .call_tracking_call import EVENT_TYPES, FINAL_STATUSES

SIGNATURE_HEADER = "X-Call-Tracking-Signature"
GENERIC_STATUSES = FINAL_STATUSES | {"in_progress"}
# how far a signed timestamp may be from the server's clock (seconds)
SIGNATURE_TOLERANCE = 300
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")


def generic_signature(secret, body, timestamp=None):
    """The header value a generic sender puts on ``body`` (bytes): with
    ``timestamp`` (Unix time in seconds, as sent), ``t=<timestamp>,sha256=<HMAC of
    "<timestamp>." + body>``; without, ``sha256=<HMAC of body>``."""
    if timestamp is None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def parse_generic_signature(header):
    """``{"t": ..., "sha256": ...}`` of a signature header (comma-separated
    ``key=value`` pairs; unknown keys are ignored, a repeated key keeps its
    first value)."""
    parts = {}
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep and key.strip() not in parts:
            parts[key.strip()] = value.strip()
    return parts


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
        received_at = request_data.get("received_at") or fields.Datetime.now()
        request_data["headers"][SIGNATURE_HEADER] = generic_signature(
            self.secret, body, timestamp=int(received_at.replace(tzinfo=UTC).timestamp())
        )
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
        received = parse_generic_signature(headers.get(SIGNATURE_HEADER.lower()))
        timestamp = received.get("t")
        if timestamp is not None and not _TIMESTAMP_RE.match(timestamp):
            raise WebhookSignatureError(
                self.env._(
                    "The timestamp (t=) of the %s header is not a Unix time.", SIGNATURE_HEADER
                )
            )
        expected = parse_generic_signature(
            generic_signature(secret, request_data.get("body") or b"", timestamp=timestamp)
        )["sha256"]
        if not hmac.compare_digest((received.get("sha256") or "").encode(), expected.encode()):
            raise WebhookSignatureError(
                self.env._("Invalid or missing %s header.", SIGNATURE_HEADER)
            )
        if timestamp is not None:
            received_at = request_data.get("received_at") or fields.Datetime.now()
            skew = received_at.replace(tzinfo=UTC).timestamp() - int(timestamp)
            if abs(skew) > SIGNATURE_TOLERANCE:
                raise WebhookSignatureError(
                    self.env._(
                        "The signed timestamp (t=) is more than five minutes away from the "
                        "server's clock: a replayed or delayed request is not accepted."
                    )
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
                "agent": parse_str(self.env, payload, "agent"),
            }
        ]
