import json
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import request

from ..exceptions import (
    WebhookBodyTooLargeError,
    WebhookError,
    WebhookPayloadError,
    WebhookProcessingError,
    WebhookSignatureError,
)
from ..models.call_tracking_webhook_event import MAX_BODY_BYTES
from .limits import body_limit

# the HTTP status of each refusal; the models raise, the controller answers
ERROR_STATUSES = (
    (WebhookSignatureError, 403),
    (WebhookPayloadError, 400),
    (WebhookBodyTooLargeError, 413),
    (WebhookProcessingError, 500),
)


class CallTrackingWebhookController(http.Controller):
    """Provider webhooks, laid out as Odoo's payment providers' webhooks:
    the controller finds the provider, reads the request, has the provider
    verify it, has the inbox store the entry with the outcome of its
    processing, and builds every answer from the results and exceptions of
    the models."""

    @http.route(
        "/call_tracking/webhook/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        # refused (413, or 411 when chunked) before Odoo reads the body
        max_content_length=body_limit(MAX_BODY_BYTES),
    )
    def call_tracking_webhook(self, token, **_params):
        # sudo: the route is public, the provider's signature is the
        # authentication (and only it reads the provider's secret)
        provider_sudo = request.env["call.tracking.provider"].sudo()._get_by_webhook_token(token)
        if not provider_sudo:
            raise NotFound()
        status, content_type, body = self._handle_webhook(provider_sudo, self._get_request_data())
        return request.make_response(body, headers=[("Content-Type", content_type)], status=status)

    @classmethod
    def _handle_webhook(cls, provider_sudo, request_data):
        """Answer one request as ``(status, content type, body)``; needs no
        HTTP request (the tests call it with a request_data dict)."""
        method = request_data.get("method") or "POST"
        if method in ("GET", "HEAD"):  # werkzeug routes HEAD as GET
            answer = provider_sudo._get_webhook_get_answer(request_data)
            if answer is None:
                return cls._json(405, {"error": "POST expected"})
            return (200, *answer)
        if method != "POST":  # Odoo routes OPTIONS to every route
            return cls._json(405, {"error": "POST expected"})
        request_data.setdefault("received_at", fields.Datetime.now())
        # processed in the provider's company (defaults, notifications), which
        # the superuser environment takes without reading the public user
        provider_sudo = provider_sudo.with_company(provider_sudo.company_id)
        Event = provider_sudo.env["call.tracking.webhook.event"]
        try:
            provider_sudo._verify_webhook(request_data)
        except WebhookSignatureError as exc:
            Event._create_rejected(provider_sudo, request_data, exc.reason)
            return cls._error(exc)
        try:
            _event_sudo, events = Event._create_and_process(provider_sudo, request_data)
        except WebhookError as exc:
            return cls._error(exc)
        answer = provider_sudo._get_webhook_answer(events)
        if answer is None:
            return cls._json(200, {"status": "ok"})
        return (200, *answer)

    @staticmethod
    def _json(status, data):
        return status, "application/json", json.dumps(data)

    @classmethod
    def _error(cls, exc):
        status = next(code for kind, code in ERROR_STATUSES if isinstance(exc, kind))
        return cls._json(status, {"error": exc.reason})

    @staticmethod
    def _get_request_data():
        """The request as a plain dict for the provider.

        Form bodies are parsed by Odoo before the route runs, which drains
        the stream: their body is rebuilt from the parsed pairs (same names,
        values and order). Other bodies (JSON) are kept byte for byte.
        ``url_base`` is the scheme and host the request reached as Odoo sees
        it: in ``proxy_mode`` Odoo applies the proxy's X-Forwarded-* headers.
        """
        httprequest = request.httprequest
        form = list(httprequest.form.items(multi=True))
        body = httprequest.get_data(cache=True)
        if not body and form:
            body = urlencode(form).encode()
        query_string = httprequest.query_string.decode("latin-1")
        return {
            "method": httprequest.method,
            "url_base": httprequest.host_url.rstrip("/"),
            "url_path": httprequest.path + (f"?{query_string}" if query_string else ""),
            "headers": dict(httprequest.headers.items()),
            "body": body,
            "form": form,
            "query": list(httprequest.args.items(multi=True)),
            "remote_addr": httprequest.remote_addr,
            "received_at": fields.Datetime.now(),
        }
