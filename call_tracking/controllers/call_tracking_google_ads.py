import base64
import binascii
import hmac
import logging
from collections import defaultdict
from datetime import datetime

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class CallTrackingGoogleAdsController(http.Controller):
    """The CSV Google Ads fetches for its scheduled uploads of offline click
    conversions (one per destination), behind HTTP basic credentials: the
    destination's user name and password. Serve it over HTTPS (the reverse
    proxy's TLS) in production: basic credentials travel in clear otherwise.

    Failed attempts are throttled per client address as Odoo throttles
    logins (``res.users._on_login_cooldown``: after
    ``base.login_cooldown_after`` failures, ``base.login_cooldown_duration``
    seconds of 429 answers; counted per worker process, as Odoo's own).
    Google's fetch marks the pending conversions sent; a logged-in Call
    Tracking administrator may download the CSV by hand, which changes
    nothing."""

    @http.route(
        "/call_tracking/google_ads/<int:destination_id>/conversions.csv",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def google_ads_csv(self, destination_id, **_params):
        destination_sudo = (
            request.env["call.tracking.destination"]
            .sudo()
            .search([("id", "=", destination_id), ("kind", "=", "google_ads")], limit=1)
        )
        manager = bool(destination_sudo) and self._manager_may_read(destination_sudo)
        if not manager:
            source = (destination_id, request.httprequest.remote_addr)
            failures = self._failures()
            count, previous = failures[source]
            if request.env["res.users"]._on_login_cooldown(count, previous):
                _logger.warning(
                    "Google Ads CSV of destination %s: attempt from %s ignored after %d failures",
                    destination_id,
                    source[1],
                    count,
                )
                return request.make_response(
                    "too many failed attempts, try again later",
                    headers=[
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Retry-After", "60"),
                    ],
                    status=429,
                )
            if not destination_sudo or not self._authorised(destination_sudo):
                failures[source] = (count + 1, datetime.now())
                # the same answer for an unknown destination: ids are not revealed
                return request.make_response(
                    "authentication required",
                    headers=[
                        ("WWW-Authenticate", 'Basic realm="call_tracking", charset="UTF-8"'),
                        ("Content-Type", "text/plain; charset=utf-8"),
                    ],
                    status=401,
                )
            failures.pop(source, None)
        # Google's fetch marks the conversions sent; a person's download
        # (a GET) changes nothing
        body = destination_sudo._google_ads_csv(mark_fetched=not manager)
        return request.make_response(
            body,
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                (
                    "Content-Disposition",
                    f'attachment; filename="google_ads_conversions_{destination_id}.csv"',
                ),
                ("Cache-Control", "no-store"),
            ],
        )

    @staticmethod
    def _failures():
        """{(destination id, client address): (failures, last failure)} of
        this worker, kept on the registry as Odoo keeps its login failures."""
        registry = request.env.registry
        failures = getattr(registry, "_call_tracking_csv_failures", None)
        if failures is None:
            failures = registry._call_tracking_csv_failures = defaultdict(lambda: (0, datetime.min))
        return failures

    @staticmethod
    def _manager_may_read(destination_sudo):
        user = request.env.user
        return (
            not user._is_public()
            and user.has_group("call_tracking.call_tracking_group_manager")
            and destination_sudo.company_id in user.company_ids
        )

    @staticmethod
    def _authorised(destination_sudo):
        if not destination_sudo.active:
            return False
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        name, sep, password = decoded.partition(":")
        expected_name = destination_sudo.account_ref or ""
        if not sep:
            return False
        # the name in constant time, the password against its hash (both checked)
        name_ok = hmac.compare_digest(name.encode(), expected_name.encode())
        password_ok = destination_sudo._google_ads_check_password(password)
        return name_ok and password_ok
