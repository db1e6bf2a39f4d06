from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request


class CallTrackingWebhookController(http.Controller):
    """Provider webhooks: thin, everything happens in the provider model."""

    @http.route(
        "/call_tracking/webhook/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def call_tracking_webhook(self, token, **_params):
        provider_sudo = request.env["call.tracking.provider"].sudo()._get_by_webhook_token(token)
        if not provider_sudo:
            raise NotFound()
        # An oversized body is refused on its announced length, before it is
        # read (JSON bodies are read only below; form bodies have already
        # been parsed by Odoo, within its own form size limit). The inbox
        # still records the refused request, with its headers and without
        # its body: a cut body could neither be verified nor processed.
        content_length = request.httprequest.content_length
        if content_length and content_length > provider_sudo._webhook_max_body_bytes():
            request_data = self._get_request_data(provider_sudo, read_body=False)
            status, body, content_type = provider_sudo._reject_oversized_webhook(
                request_data, content_length
            )
            return request.make_response(
                body, headers=[("Content-Type", content_type)], status=status
            )
        request_data = self._get_request_data(provider_sudo)
        if request.httprequest.method == "GET":
            status, body, content_type = provider_sudo._handle_webhook_get(request_data)
        else:
            status, body, content_type = provider_sudo._receive_webhook(request_data)
        return request.make_response(body, headers=[("Content-Type", content_type)], status=status)

    @staticmethod
    def _get_request_data(provider_sudo, read_body=True):
        """The request as a plain dict for the provider's parser.

        Form bodies are parsed by Odoo before the route runs, which drains
        the stream: their body is rebuilt from the parsed pairs (same names,
        values and order). Other bodies (JSON) are kept byte for byte.
        Without ``read_body``, the body is left unread (empty).
        """
        httprequest = request.httprequest
        form = list(httprequest.form.items(multi=True)) if read_body else []
        body = httprequest.get_data(cache=True) if read_body else b""
        if not body and form:
            body = urlencode(form).encode()
        query_string = httprequest.query_string.decode("latin-1")
        base = provider_sudo._get_public_base_url()
        url = f"{base}{httprequest.path}" + (f"?{query_string}" if query_string else "")
        return {
            "method": httprequest.method,
            "url": url,
            "headers": dict(httprequest.headers.items()),
            "body": body,
            "form": form,
            "query": list(httprequest.args.items(multi=True)),
            "remote_addr": httprequest.remote_addr,
        }
