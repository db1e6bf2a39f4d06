import json
import logging
import re
from urllib.parse import urlsplit

from odoo import http
from odoo.http import request

from ..const import VISIT_ID_FIELDS
from ..models.website import origin_of
from .limits import body_limit

_logger = logging.getLogger(__name__)

# Longest accepted strings: real URLs stay well below, anything longer is
# abuse (and would bloat the sessions table).
MAX_LENGTHS = {
    "visitor": 128,
    "url": 4096,
    "referrer": 4096,
    "ga_client_id": 128,
    # the ad platforms' cookies, for conversions (optional, like every key)
    "ga_session_id": 64,
    "ym_uid": 64,
    "fbp": 128,
    "fbc": 512,
}
MAX_BODY = 16 * 1024
# the first-party cookie mirroring the visitor key (the script's name for it)
VISITOR_COOKIE = "call_tracking_visitor"
VISITOR_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_USER_AGENT = 512
CORS_MAX_AGE = 86400


class CallTrackingController(http.Controller):
    """The number of a website visitor (the public contract in README.rst, ``POST
    /call_tracking/number``): parse and check the body, let
    ``call.tracking.session._assign_number`` decide, answer plain JSON with
    CORS headers for the origins the website allows."""

    @http.route(
        "/call_tracking/number",
        type="http",
        auth="public",
        methods=["POST", "OPTIONS"],
        csrf=False,
        save_session=False,
        # refused (413, or 411 when chunked) before Odoo reads the body
        max_content_length=body_limit(MAX_BODY),
    )
    def call_tracking_number(self, **_params):
        origin = request.httprequest.headers.get("Origin")
        if request.httprequest.method == "OPTIONS":
            return self._preflight(origin)
        try:
            if request.httprequest.form:
                raise ValueError("the body must be JSON, not a form")
            values = self._parse_body()
        except (TypeError, ValueError) as exc:
            return self._error(str(exc), 400, origin)
        website_sudo, company_id, allowed = self._get_website(values.get("website_id"))
        if website_sudo is None:
            return self._error("unknown website_id", 400, origin)
        cors_origin = self._check_origin(origin, allowed)
        if cors_origin is False:
            return self._error("origin not allowed", 403, None)
        # as the request's user (public): the assignment needs no sudo
        answer = request.env["call.tracking.session"]._assign_number(
            request.env["res.company"].browse(company_id),
            website=website_sudo,
            visitor_key=values.get("visitor"),
            url=values.get("url"),
            referrer=values.get("referrer"),
            ga_client_id=values.get("ga_client_id"),
            # always strings: an empty user agent is an automated client, an
            # unreadable address a client that cannot be told apart
            user_agent=(request.httprequest.headers.get("User-Agent") or "")[:MAX_USER_AGENT],
            # the address Odoo sees: the proxy's X-Forwarded-For with proxy_mode
            remote_addr=request.httprequest.remote_addr or "",
            visitor=self._get_website_visitor(website_sudo, origin),
            lang=request.env.lang,
            visit_ids={key: values.get(key) for key in VISIT_ID_FIELDS},
        )
        response = self._json(answer, 200, cors_origin)
        self._set_visitor_cookie(response, website_sudo, answer["visitor"])
        return response

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    @staticmethod
    def _parse_body():
        """The request body as a dict of checked values; ValueError or
        TypeError with a reason the caller may read."""
        httprequest = request.httprequest
        # (a larger announced body was refused by the route's
        # max_content_length before this runs)
        # cached: Odoo replays the request after a serialization failure
        raw = httprequest.get_data(cache=True, parse_form_data=False)
        if len(raw) > MAX_BODY:
            raise ValueError("request body too large")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("the body is not JSON") from None
        except RecursionError:
            raise ValueError("the body is nested too deeply") from None
        if not isinstance(body, dict):
            raise TypeError("the body must be a JSON object")
        values = {}
        for key, max_length in MAX_LENGTHS.items():
            value = body.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise TypeError(f"{key} must be a string")
            if len(value) > max_length:
                raise ValueError(f"{key} is too long (at most {max_length} characters)")
            if "\x00" in value:
                raise ValueError(f"{key} contains a NUL character")
            values[key] = value.strip()
        website_id = body.get("website_id")
        if website_id is not None:
            if (
                isinstance(website_id, bool)
                or not isinstance(website_id, int)
                or not 0 < website_id < 2**31
            ):
                raise ValueError("website_id must be a positive integer")
            values["website_id"] = website_id
        return values

    @staticmethod
    def _get_website(website_id):
        """(website as sudo, company id, allowed origins) of the request:
        the given website_id (it must exist) or the request's website."""
        website_model = request.env["website"]
        if not website_id:
            website_id = website_model.sudo().get_current_website().id
        setup = website_model._call_tracking_get_setup(website_id)
        if not setup:
            return None, None, None
        company_id, origins = setup
        own_origin = origin_of(request.httprequest.host_url)
        return website_model.sudo().browse(website_id), company_id, origins | {own_origin}

    @staticmethod
    def _check_origin(origin, allowed):
        """The origin to echo in Access-Control-Allow-Origin; None when the
        request carries no Origin (not a cross-site browser call); False when
        the origin is not allowed (the request is refused: a foreign page
        must not drain the pool)."""
        if not origin:
            return None
        normalised = origin_of(origin)
        if normalised and normalised in allowed:
            return origin
        return False

    @staticmethod
    def _get_website_visitor(website_sudo, origin):
        """The ``website.visitor`` of a request from the Odoo website itself
        (never created here; external sites have none)."""
        own_origin = origin_of(request.httprequest.host_url)
        if origin and origin_of(origin) != own_origin:
            return None
        if not request.httprequest.cookies.get("session_id"):
            return None
        visitor_sudo = (
            request.env["website.visitor"]
            .sudo()
            .with_context(website_id=website_sudo.id)
            ._get_visitor_from_request()
        )
        return visitor_sudo or None

    @staticmethod
    def _set_visitor_cookie(response, website_sudo, key):
        """The visitor key as a first-party cookie (SameSite=Lax, the
        website's lifetime and optional parent domain): Safari caps
        script-written storage at seven days, not server-set cookies. Not
        HttpOnly: the website script reads it first and sends it as the JSON
        ``visitor`` key (the key the endpoint reads, as the public contract
        in README.rst says), so every subdomain sharing the cookie sends the
        same key. An optional cookie refused on the website's cookie bar is
        not kept."""
        if not key or not VISITOR_KEY_RE.match(key):
            return
        days, domain = request.env["website"]._call_tracking_get_cookie_setup(website_sudo.id)
        host = (urlsplit("//" + request.httprequest.host).hostname or "").lower()
        if domain and host != domain and not host.endswith("." + domain):
            domain = None  # another host: the browser would refuse the cookie
        response.set_cookie(
            VISITOR_COOKIE,
            key,
            max_age=days * 86400,
            expires=None,
            path="/",
            domain=domain or None,
            secure=request.httprequest.scheme == "https",
            httponly=False,
            samesite="Lax",
            cookie_type="optional",
        )

    def _preflight(self, origin):
        allowed = self._get_all_origins()
        headers = [("Vary", "Origin")]
        if origin and origin_of(origin) in allowed:
            headers += [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", "POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Content-Type"),
                ("Access-Control-Max-Age", str(CORS_MAX_AGE)),
            ]
        return request.make_response("", headers=headers, status=204)

    @staticmethod
    def _cors_headers(cors_origin):
        headers = [("Vary", "Origin"), ("Cache-Control", "no-store")]
        if cors_origin:
            headers.append(("Access-Control-Allow-Origin", cors_origin))
        return headers

    def _json(self, data, status, cors_origin):
        return request.make_json_response(
            data, headers=self._cors_headers(cors_origin), status=status
        )

    def _error(self, message, status, origin):
        """An error answer; its reason is readable by the page that sent the
        request when some website allows that page's origin."""
        cors_origin = None
        if origin and origin_of(origin) in self._get_all_origins():
            cors_origin = origin
        return self._json({"error": message}, status, cors_origin)

    @staticmethod
    def _get_all_origins():
        return request.env["website"]._call_tracking_get_all_origins() | {
            origin_of(request.httprequest.host_url)
        }
