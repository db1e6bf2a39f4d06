"""The inbox keeps the recording uploads too (``POST
/call_tracking/webhook/<token>/recording/<call_id>``, see
``controllers/call_tracking_recording.py`` and
docs/developer/contracts-recording-upload.rst).

An accepted upload gets an entry without its body (the audio is the call's
attachment); a refused one keeps its headers, its reason and the first few
KB of its body, as a webhook refused for its signature does.
"""

from odoo import api, models

from ..exceptions import WebhookBodyTooLargeError, WebhookError, WebhookSignatureError
from .call_tracking_webhook_event import REJECTED_BODY_BYTES

UPLOAD_EVENT_TYPE = "recording_upload"


class CallTrackingWebhookEvent(models.Model):
    _inherit = "call.tracking.webhook.event"

    @api.model
    def _check_recording_upload_length(self, provider, request_data, content_length):
        """Refuse an upload announcing more bytes than the company accepts,
        before its body is read: the entry keeps the request's headers."""
        max_bytes = provider._get_recording_upload_max_bytes()
        if content_length is not None and content_length > max_bytes:
            error = WebhookBodyTooLargeError(
                self.env._(
                    "The recording is too large: %(size)s bytes, the limit is %(limit)s bytes.",
                    size=content_length,
                    limit=max_bytes,
                )
            )
            self._create_upload_entry(provider, request_data, "error", error.reason)
            raise error

    @api.model
    def _receive_recording_upload(self, provider, provider_call_id, request_data):
        """Verify and store an uploaded recording; return ``(entry, call)``
        or raise the ``WebhookError`` to answer (the entry is kept)."""
        try:
            provider._verify_recording_upload(request_data)
        except WebhookSignatureError as exc:
            self._create_upload_entry(provider, request_data, "rejected", exc.reason)
            raise
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        Call = self.env["call.tracking.call"]
        try:
            with self.env.cr.savepoint():
                call = Call._receive_recording_upload(
                    provider,
                    provider_call_id,
                    request_data.get("body") or b"",
                    headers.get("content-type"),
                )
        except WebhookError as exc:
            self._create_upload_entry(
                provider, request_data, "error", exc.reason, provider_call_id=provider_call_id
            )
            raise
        entry = self._create_upload_entry(
            provider, request_data, "processed", False, provider_call_id, call, max_body=0
        )
        return entry, call

    @api.model
    def _create_upload_entry(
        self,
        provider,
        request_data,
        state,
        reason,
        provider_call_id=None,
        call=None,
        max_body=REJECTED_BODY_BYTES,
    ):
        values = self._prepare_request_values(provider, request_data, max_body=max_body)
        return self.create(
            {
                **values,
                "state": state,
                "error_message": reason or False,
                "event_type": UPLOAD_EVENT_TYPE,
                "provider_call_id": (provider_call_id or "")[:255] or False,
                "call_id": call.id if call else False,
                "processed_at": request_data.get("received_at") if state == "processed" else False,
            }
        )
