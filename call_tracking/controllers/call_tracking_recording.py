"""The recording upload of the Asterisk AGI program (and any sender that
records calls itself): an extension of the public webhook contract, see
docs/developer/contracts-recording-upload.rst."""

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import request

from ..exceptions import (
    RecordingNotAudioError,
    WebhookBodyTooLargeError,
    WebhookError,
    WebhookPayloadError,
    WebhookProcessingError,
    WebhookSignatureError,
)
from .call_tracking_webhook import CallTrackingWebhookController
from .limits import body_limit

# the route's own bound, above any company's limit (at most 500 MB, checked
# on the announced length before the body is read, with a reason)
MAX_UPLOAD_BYTES = 501 * 1024 * 1024
UPLOAD_ERROR_STATUSES = (
    (WebhookSignatureError, 403),
    (WebhookBodyTooLargeError, 413),
    (RecordingNotAudioError, 415),
    (WebhookPayloadError, 400),
    (WebhookProcessingError, 500),
    (WebhookError, 400),
)


class CallTrackingRecordingController(http.Controller):
    @http.route(
        "/call_tracking/webhook/<string:token>/recording/<string:call_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=body_limit(MAX_UPLOAD_BYTES),
    )
    def call_tracking_recording_upload(self, token, call_id, **_params):
        # sudo: the route is public, the provider's signature is the
        # authentication (as for the webhook itself)
        provider_sudo = request.env["call.tracking.provider"].sudo()._get_by_webhook_token(token)
        if not provider_sudo or not call_id or len(call_id) > 255:
            raise NotFound()
        provider_sudo = provider_sudo.with_company(provider_sudo.company_id)
        Event = provider_sudo.env["call.tracking.webhook.event"]
        httprequest = request.httprequest
        try:
            # a body larger than the company accepts is refused unread
            Event._check_recording_upload_length(
                provider_sudo, self._get_head_data(), httprequest.content_length
            )
            request_data = CallTrackingWebhookController._get_request_data()
            _entry, call = Event._receive_recording_upload(provider_sudo, call_id, request_data)
        except WebhookError as exc:
            status = next(code for kind, code in UPLOAD_ERROR_STATUSES if isinstance(exc, kind))
            return request.make_json_response({"error": exc.reason}, status=status)
        return request.make_json_response(
            {"status": "ok", "call_id": call_id, "recording_state": call.recording_state}
        )

    @staticmethod
    def _get_head_data():
        """The request without its body (not read)."""
        httprequest = request.httprequest
        query_string = httprequest.query_string.decode("latin-1")
        return {
            "method": httprequest.method,
            "url_base": httprequest.host_url.rstrip("/"),
            "url_path": httprequest.path + (f"?{query_string}" if query_string else ""),
            "headers": dict(httprequest.headers.items()),
            "body": b"",
            "form": [],
            "query": list(httprequest.args.items(multi=True)),
            "remote_addr": httprequest.remote_addr,
            "received_at": fields.Datetime.now(),
        }
