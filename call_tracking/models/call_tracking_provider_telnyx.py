"""Telnyx Call Control (API v2) webhooks, call history and recordings.

Followed Telnyx's own documentation:

* "Receiving webhooks" / signature verification
  (https://developers.telnyx.com/docs/development/sdk/python/webhooks and
  the headers of every callback page, e.g.
  https://developers.telnyx.com/api-reference/callbacks/call-hangup):
  ``telnyx-signature-ed25519`` is the base64 Ed25519 signature of
  ``<telnyx-timestamp>|<raw body>``, made with the account's key; it is
  verified against the account's **public key** (Mission Control, Keys &
  Credentials, Public Key, base64). ``telnyx-timestamp`` is the Unix time
  the webhook was sent, "for replay attack prevention": a request signed
  more than :data:`TELNYX_TOLERANCE` from the time we received it is
  refused, so a captured request cannot be replayed later.
* the Call Control callbacks ``call.initiated``, ``call.answered``,
  ``call.hangup`` (https://developers.telnyx.com/api-reference/callbacks/call-hangup)
  and ``call.recording.saved``
  (https://developers.telnyx.com/api-reference/callbacks/call-recording-saved):
  a JSON body ``{"data": {"event_type", "id", "occurred_at", "payload":
  {...}}}``; the payload carries ``call_control_id``, ``call_leg_id``,
  ``call_session_id``, ``from``, ``to``, ``direction`` (``incoming`` or
  ``outgoing``, on call.initiated), ``start_time``, ``end_time`` and
  ``hangup_cause`` (call_rejected, normal_clearing, originator_cancel,
  timeout, time_limit, user_busy, not_found, no_answer, unspecified) on
  call.hangup, and ``recording_urls`` / ``public_recording_urls``
  (``{"mp3": ..., "wav": ...}``, "valid for 10 minutes") on
  call.recording.saved.
* "List call events" (https://developers.telnyx.com/api-reference/debugging/list-call-events):
  ``GET /v2/call_events`` with ``filter[type]=webhook``,
  ``filter[product]=call_control``, one ``filter[occurred_at][gte]``,
  ``page[number]`` / ``page[size]``; each record has ``name`` (the event
  type), ``event_timestamp``, ``call_leg_id``, ``call_session_id`` and
  ``metadata`` ("includes raw event"); the answer's ``meta`` has
  ``total_pages``. Without a leg or session filter it only covers the last
  24 hours. It is the call history reconciliation reads.
* "List all call recordings"
  (https://developers.telnyx.com/api-reference/call-recordings/list-all-call-recordings):
  ``GET /v2/recordings?filter[call_session_id]=...``, each record with
  ``download_urls`` (``mp3``, ``wav``): the recording once the webhook's
  ten-minute link has expired.

A call is Telnyx's **call session** (``call_session_id``): "a group of
related call legs that logically belong to the same phone call, e.g. an
inbound and outbound leg of a transferred call", so the agent's leg of a
bridged call never makes a second call or lead. The outgoing leg's
call.initiated is ignored (its numbers are the agent's).
"""

import base64
import binascii
import json
import logging
import mimetypes
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..exceptions import WebhookPayloadError, WebhookSignatureError
from ..tools import outbound
from ..tools.webhook_parsing import parse_datetime, parse_str, parse_url

_logger = logging.getLogger(__name__)

TELNYX_SIGNATURE_HEADER = "telnyx-signature-ed25519"
TELNYX_TIMESTAMP_HEADER = "telnyx-timestamp"
TELNYX_TOLERANCE = timedelta(minutes=5)
TELNYX_API_URL = "https://api.telnyx.com/v2"
TELNYX_EVENTS = ("call.initiated", "call.answered", "call.hangup", "call.recording.saved")
# hangup_cause -> call status (normal_clearing / time_limit: the call was up)
TELNYX_HANGUP_STATUSES = {
    "normal_clearing": "answered",
    "time_limit": "answered",
    "originator_cancel": "missed",
    "timeout": "missed",
    "no_answer": "missed",
    "call_rejected": "missed",
    "user_busy": "busy",
    "not_found": "failed",
    "unspecified": "failed",
}
# call history: pages read per reconciliation run, records per page
TELNYX_PAGE_SIZE = 100
TELNYX_MAX_PAGES = 50
TELNYX_API_MAX_BYTES = 5_000_000
# a recording is read whole into memory: an hour of 8 kHz 16-bit WAV is ~58 MB
AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


def telnyx_signed_message(timestamp, body):
    """The bytes Telnyx signs: ``<timestamp>|<raw body>``."""
    return str(timestamp).encode() + b"|" + body


def telnyx_sign(private_key, timestamp, body):
    """The ``telnyx-signature-ed25519`` header value of ``body`` (tests and
    test calls sign with a key pair of their own)."""
    signature = private_key.sign(telnyx_signed_message(timestamp, body))
    return base64.b64encode(signature).decode()


def telnyx_public_key_b64(public_key):
    """The base64 form Telnyx shows a public key in (raw 32 bytes)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_telnyx_public_key(value):
    """The Ed25519 public key of its base64 form; ValueError if it is none."""
    try:
        raw = base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("not 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_telnyx_signature(public_key, signature, timestamp, body):
    """Whether ``signature`` (base64) signs ``timestamp|body`` for ``public_key``."""
    try:
        raw_signature = base64.b64decode(signature or "", validate=True)
        public_key.verify(raw_signature, telnyx_signed_message(timestamp, body))
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _iso(value):
    return value.replace(microsecond=0).isoformat() + "Z"


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    kind = fields.Selection(
        selection_add=[("telnyx", "Telnyx")], ondelete={"telnyx": "set default"}
    )
    # public configuration (it verifies, it cannot sign): readable by the
    # call tracking administrators who set the provider up
    telnyx_public_key = fields.Char(
        tracking=True,
        groups="call_tracking.call_tracking_group_manager",
        help="The account's public key (Mission Control: Keys & Credentials, Public Key), "
        "in base64: every webhook's telnyx-signature-ed25519 is verified with it.",
    )
    telnyx_api_url = fields.Char(
        string="Telnyx API URL",
        default=TELNYX_API_URL,
        groups="call_tracking.call_tracking_group_manager",
        help="Base URL of the Telnyx API v2, read with the API key (the signing secret "
        "field) for reconciliation.",
    )

    @api.constrains("telnyx_public_key")
    def _check_telnyx_public_key(self):
        for provider in self:
            if not provider.telnyx_public_key:
                continue
            try:
                load_telnyx_public_key(provider.telnyx_public_key)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "The Telnyx public key must be the base64 Ed25519 key shown in "
                        "Mission Control (Keys & Credentials, Public Key)."
                    )
                ) from exc

    @api.constrains("telnyx_api_url")
    def _check_telnyx_api_url(self):
        for provider in self:
            url = provider.telnyx_api_url
            if url and not url.startswith(("http://", "https://")):
                raise ValidationError(
                    self.env._("The Telnyx API URL must start with http:// or https://.")
                )

    def _get_webhook_fetch_fields(self):
        return [*super()._get_webhook_fetch_fields(), "telnyx_public_key"]

    # ------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------

    def _get_telnyx_public_key(self):
        self.ensure_one()
        if not self.telnyx_public_key:
            raise WebhookSignatureError(
                self.env._("The provider has no Telnyx public key: requests cannot be verified.")
            )
        try:
            return load_telnyx_public_key(self.telnyx_public_key)
        except ValueError as exc:
            raise WebhookSignatureError(
                self.env._("The provider's Telnyx public key is not a valid Ed25519 key.")
            ) from exc

    def _verify_webhook(self, request_data):
        if self.kind != "telnyx":
            return super()._verify_webhook(request_data)
        _ = self.env._
        # a test call is signed with a key pair of its own (see
        # _build_test_request): a key object, which no HTTP request and no
        # stored inbox entry can carry
        test_key = request_data.get("telnyx_test_public_key")
        if isinstance(test_key, Ed25519PublicKey):
            public_key = test_key
        else:
            public_key = self._get_telnyx_public_key()
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        signature = (headers.get(TELNYX_SIGNATURE_HEADER) or "").strip()
        timestamp = (headers.get(TELNYX_TIMESTAMP_HEADER) or "").strip()
        if not signature or not timestamp:
            raise WebhookSignatureError(
                _(
                    "Missing %(signature)s or %(timestamp)s header.",
                    signature=TELNYX_SIGNATURE_HEADER,
                    timestamp=TELNYX_TIMESTAMP_HEADER,
                )
            )
        if not timestamp.isdigit() or len(timestamp) > 10:
            raise WebhookSignatureError(
                _("The %s header is not a Unix time.", TELNYX_TIMESTAMP_HEADER)
            )
        if not verify_telnyx_signature(
            public_key, signature, timestamp, request_data.get("body") or b""
        ):
            raise WebhookSignatureError(
                _(
                    "Invalid %s header (check the Telnyx public key).",
                    TELNYX_SIGNATURE_HEADER,
                )
            )
        # the signed time against the time of receipt (kept on the inbox
        # entry, so a reprocessed entry is judged by when it arrived)
        received_at = request_data.get("received_at") or fields.Datetime.now()
        signed_at = datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)
        if abs(received_at - signed_at) > TELNYX_TOLERANCE:
            raise WebhookSignatureError(
                _(
                    "The request was signed at %(signed)s UTC, more than five minutes from "
                    "its receipt at %(received)s UTC: an old or replayed request is refused.",
                    signed=signed_at,
                    received=received_at.replace(microsecond=0),
                )
            )

    def _parse_webhook_events(self, request_data):
        if self.kind != "telnyx":
            return super()._parse_webhook_events(request_data)
        _ = self.env._
        try:
            body = json.loads((request_data.get("body") or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookPayloadError(_("The body is not JSON: %s", exc)) from exc
        except RecursionError as exc:
            raise WebhookPayloadError(_("The body is nested too deeply.")) from exc
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise WebhookPayloadError(_("The body must be a JSON object with a 'data' object."))
        return self._telnyx_events(data)

    def _telnyx_events(self, data):
        """The normalised events of one Telnyx event (the ``data`` object of
        a webhook): one event, or none for the event types and the legs a
        call does not need."""
        _ = self.env._
        event_type = data.get("event_type")
        if event_type not in TELNYX_EVENTS:
            return []  # call.bridged, call.playback.ended...: acknowledged, nothing to do
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise WebhookPayloadError(_("'payload' must be a JSON object."))
        if event_type == "call.initiated" and payload.get("direction") == "outgoing":
            return []  # the agent's leg of a session: not the caller's call
        call_id = parse_str(self.env, payload, "call_session_id") or parse_str(
            self.env, payload, "call_leg_id", required=True
        )
        occurred_at = parse_datetime(self.env, data, "occurred_at")
        event = {
            "call_id": call_id,
            "from": parse_str(self.env, payload, "from"),
            "to": parse_str(self.env, payload, "to"),
            "start": parse_datetime(self.env, payload, "start_time"),
        }
        if event_type == "call.initiated":
            event.update(event="call_start", start=event["start"] or occurred_at)
        elif event_type == "call.answered":
            event.update(event="call_update", answer=occurred_at)
        elif event_type == "call.hangup":
            end = parse_datetime(self.env, payload, "end_time") or occurred_at
            cause = parse_str(self.env, payload, "hangup_cause") or "unspecified"
            event.update(
                event="call_end",
                end=end,
                status=TELNYX_HANGUP_STATUSES.get(cause, "failed"),
            )
            if end and event["start"]:
                event["duration"] = max(int((end - event["start"]).total_seconds()), 0)
        else:  # call.recording.saved
            event.update(event="call_update", recording_url=self._telnyx_recording_url(payload))
        return [event]

    def _telnyx_recording_url(self, payload):
        """The recording's URL (MP3 preferred, else WAV), or None."""
        for key in ("recording_urls", "public_recording_urls"):
            urls = payload.get(key)
            if not isinstance(urls, dict):
                continue
            for fmt in ("mp3", "wav"):
                url = parse_url(self.env, urls, fmt)
                if url:
                    return url
        return None

    # ------------------------------------------------------------------
    # Test calls
    # ------------------------------------------------------------------

    def _build_test_request(self, call_values):
        if self.kind != "telnyx":
            return super()._build_test_request(call_values)
        # the account's key must be usable before anything else: only Telnyx
        # can sign with the account's own key, so the test request is signed
        # with a key pair made for it (see _verify_webhook)
        try:
            load_telnyx_public_key(self.telnyx_public_key)
        except ValueError as exc:
            raise UserError(
                self.env._(
                    "Paste the Telnyx public key of the account on the provider %s first.",
                    self.display_name,
                )
            ) from exc
        private_key = Ed25519PrivateKey.generate()
        session = call_values["call_id"]
        body = json.dumps(
            {
                "data": {
                    "record_type": "event",
                    "event_type": "call.hangup",
                    "id": session,
                    "occurred_at": _iso(call_values["end"]),
                    "payload": {
                        "call_control_id": f"v3:{session}",
                        "call_leg_id": session,
                        "call_session_id": session,
                        "from": call_values["from"],
                        "to": call_values["to"],
                        "start_time": _iso(call_values["start"]),
                        "end_time": _iso(call_values["end"]),
                        "state": "hangup",
                        "hangup_cause": "normal_clearing",
                        "hangup_source": "caller",
                    },
                },
                "meta": {"attempt": 1},
            }
        ).encode()
        request_data = self._get_test_request_base("application/json", body)
        timestamp = str(int(request_data["received_at"].replace(tzinfo=UTC).timestamp()))
        request_data["headers"].update(
            {
                TELNYX_TIMESTAMP_HEADER: timestamp,
                TELNYX_SIGNATURE_HEADER: telnyx_sign(private_key, timestamp, body),
            }
        )
        request_data["telnyx_test_public_key"] = private_key.public_key()
        return request_data

    # ------------------------------------------------------------------
    # Reconciliation: Telnyx's call events as the second source of truth
    # ------------------------------------------------------------------

    def _telnyx_api_headers(self):
        self.ensure_one()
        if not self.secret:
            raise outbound.OutboundError(
                self.env._("The provider %s has no Telnyx API key.", self.display_name)
            )
        return {"Authorization": f"Bearer {self.secret}", "Accept": "application/json"}

    def _reconcile_fetch(self, since, until):
        """The normalised events of the calls of the Telnyx account between
        ``since`` and ``until`` (naive UTC), read page by page from "List
        call events" (webhook events of Call Control), in the shape of
        :meth:`_parse_webhook_events`. Raise ``outbound.OutboundError``
        when the API cannot be read; a record of an unexpected shape is
        skipped (logged), never fatal."""
        if self.kind != "telnyx":
            return super()._reconcile_fetch(since, until)
        self.ensure_one()
        provider = self.sudo()
        headers = provider._telnyx_api_headers()
        url = (provider.telnyx_api_url or TELNYX_API_URL).rstrip("/") + "/call_events"
        events = []
        page = 1
        while page <= TELNYX_MAX_PAGES:
            response = outbound.request(
                self.env,
                "GET",
                url,
                params={
                    "filter[type]": "webhook",
                    "filter[product]": "call_control",
                    # the API takes one filter[occurred_at]: the end is ours
                    "filter[occurred_at][gte]": _iso(since),
                    "page[number]": page,
                    "page[size]": TELNYX_PAGE_SIZE,
                },
                headers=headers,
                timeout=30,
                max_bytes=TELNYX_API_MAX_BYTES,
                secrets=(provider.secret,),
            )
            try:
                answer = response.json()
            except ValueError as exc:
                raise outbound.OutboundError(
                    self.env._("Telnyx answered something that is not JSON."), retry=True
                ) from exc
            records = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(records, list):
                raise outbound.OutboundError(
                    self.env._("Telnyx's call events answer has no 'data' list."), retry=True
                )
            for record in records:
                events.extend(self._telnyx_history_events(record, since, until))
            meta = answer.get("meta") if isinstance(answer.get("meta"), dict) else {}
            total_pages = meta.get("total_pages")
            if not records or not isinstance(total_pages, int) or page >= total_pages:
                break
            page += 1
        return events

    def _telnyx_history_events(self, record, since, until):
        """The normalised events of one record of "List call events"."""
        if not isinstance(record, dict) or record.get("name") not in TELNYX_EVENTS:
            return []
        try:
            occurred_at = parse_datetime(self.env, record, "event_timestamp")
            if occurred_at is None or not since <= occurred_at <= until:
                return []
            payload = self._telnyx_history_payload(record)
            data = {
                "event_type": record["name"],
                "occurred_at": record["event_timestamp"],
                "payload": payload,
            }
            return self._telnyx_events(data)
        except WebhookPayloadError as exc:
            _logger.warning(
                "call_tracking: Telnyx call event of provider %s skipped: %s", self.id, exc.reason
            )
            return []

    @api.model
    def _telnyx_history_payload(self, record):
        """The webhook payload a call event's ``metadata`` carries ("includes
        raw event"): the raw event itself, its ``payload``, or its ``data``
        envelope's; else the ids of the record alone."""
        metadata = record.get("metadata")
        candidates = []
        if isinstance(metadata, dict):
            candidates.append(metadata.get("payload"))
            for key in ("event", "raw_event", "data"):
                inner = metadata.get(key)
                if isinstance(inner, dict):
                    candidates.extend((inner.get("payload"), inner))
            candidates.append(metadata)
        for candidate in candidates:
            if isinstance(candidate, dict) and (
                candidate.get("call_session_id") or candidate.get("call_leg_id")
            ):
                return candidate
        return {
            "call_session_id": record.get("call_session_id"),
            "call_leg_id": record.get("call_leg_id"),
        }

    # ------------------------------------------------------------------
    # Recordings
    # ------------------------------------------------------------------

    def _fetch_recording(self, call):
        """The audio of a Telnyx call, as ``(content, content type)``: from
        the link of its call.recording.saved (pre-signed, valid for ten
        minutes: fetch it as soon as the event arrives); once that link has
        expired, from the links "List all call recordings" gives for the
        call session (with the API key)."""
        if self.kind != "telnyx":
            return super()._fetch_recording(call)
        self.ensure_one()
        if call.recording_url:
            try:
                return self._telnyx_download(call.recording_url, call._get_recording_max_bytes())
            except outbound.OutboundError as exc:
                if exc.retry or not self.sudo().secret:
                    raise
                _logger.info(
                    "call_tracking: recording link of call %s unusable (%s), asking the API",
                    call.id,
                    exc.message,
                )
        elif not self.sudo().secret:
            raise outbound.OutboundError(self.env._("The call has no recording URL."))
        return self._telnyx_download(
            self._telnyx_recording_api_url(call), call._get_recording_max_bytes()
        )

    def _telnyx_download(self, url, max_bytes):
        """``(content, content type)`` of a recording link (pre-signed: no
        credentials of ours go with it), of ``max_bytes`` at most."""
        response = outbound.request(self.env, "GET", url, timeout=60, max_bytes=max_bytes)
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not content_type.startswith("audio/"):
            path = url.split("?", 1)[0].lower()
            extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
            content_type = AUDIO_TYPES.get(extension) or mimetypes.guess_type(path)[0] or ""
        if not content_type.startswith("audio/"):
            raise outbound.OutboundError(
                self.env._("The Telnyx recording link did not answer with audio.")
            )
        return response.content, content_type

    def _telnyx_recording_api_url(self, call):
        """A download link of the call's recording from "List all call
        recordings" (``GET /v2/recordings?filter[call_session_id]=...``)."""
        provider = self.sudo()
        url = (provider.telnyx_api_url or TELNYX_API_URL).rstrip("/") + "/recordings"
        response = outbound.request(
            self.env,
            "GET",
            url,
            params={"filter[call_session_id]": call.provider_call_id, "page[size]": 20},
            headers=provider._telnyx_api_headers(),
            timeout=30,
            max_bytes=TELNYX_API_MAX_BYTES,
            secrets=(provider.secret,),
        )
        try:
            records = response.json().get("data")
        except (ValueError, AttributeError) as exc:
            raise outbound.OutboundError(
                self.env._("Telnyx answered something that is not JSON."), retry=True
            ) from exc
        for record in records if isinstance(records, list) else []:
            urls = record.get("download_urls") if isinstance(record, dict) else None
            for fmt in ("mp3", "wav"):
                link = urls.get(fmt) if isinstance(urls, dict) else None
                if isinstance(link, str) and link.startswith(("https://", "http://")):
                    return link
        raise outbound.OutboundError(
            self.env._("Telnyx has no recording of the call %s.", call.provider_call_id)
        )


class CallTrackingCall(models.Model):
    _inherit = "call.tracking.call"

    def _get_event_values(self, event, is_end):
        """Telnyx reports the answer (call.answered) and the end
        (call.hangup) apart, never the talk time: it is the time between
        them, once both are known, in whichever order they arrived."""
        vals = super()._get_event_values(event, is_end)
        if self.provider_id.kind != "telnyx" or event.get("talk_duration") is not None:
            return vals
        answer = vals.get("answer_at") or self.answer_at
        end = vals.get("end_at") or self.end_at
        status = vals.get("status") or self.status
        if answer and end and status == "answered" and not self.talk_duration:
            vals["talk_duration"] = max(int((end - answer).total_seconds()), 0)
        return vals
