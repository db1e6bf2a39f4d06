from werkzeug.exceptions import LengthRequired, RequestEntityTooLarge

from odoo.http import request


def body_limit(limit):
    """The ``max_content_length`` of a public route, in bytes.

    Odoo applies it before the body is read: a larger announced body is
    refused with 413 by werkzeug's form parser, before the route runs. A
    chunked body announces no length, and werkzeug 2 would read it whole
    whatever the limit: it is refused (411 Length Required) before anything
    is read. Webhook senders and browsers send a Content-Length.

    werkzeug's form parser only runs (and so only enforces the limit) when
    the request has a Content-Type: a larger body without one, or with an
    empty one, is refused here too, before it is read.
    """

    def max_content_length(_controller):
        httprequest = request.httprequest
        transfer_encoding = (httprequest.headers.get("Transfer-Encoding") or "").lower()
        if httprequest.content_length is None and "chunked" in transfer_encoding:
            raise LengthRequired()
        if httprequest.content_length is not None and httprequest.content_length > limit:
            raise RequestEntityTooLarge()
        return limit

    return max_content_length
