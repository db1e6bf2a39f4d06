import base64
import binascii
import hmac

from odoo import http
from odoo.http import request


class CallTrackingGoogleAdsController(http.Controller):
    """The CSV Google Ads fetches for its scheduled uploads of offline click
    conversions (one per destination), behind HTTP basic credentials: the
    destination's user name and password. Serve it over HTTPS (the reverse
    proxy's TLS) in production: basic credentials travel in clear otherwise.
    A logged-in Call Tracking administrator may download it by hand."""

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
        if not destination_sudo or not self._authorised(destination_sudo):
            # the same answer for an unknown destination: ids are not revealed
            return request.make_response(
                "authentication required",
                headers=[
                    ("WWW-Authenticate", 'Basic realm="call_tracking", charset="UTF-8"'),
                    ("Content-Type", "text/plain; charset=utf-8"),
                ],
                status=401,
            )
        body = destination_sudo._google_ads_csv()
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
    def _authorised(destination_sudo):
        if not destination_sudo.active:
            return False
        user = request.env.user
        if (
            not user._is_public()
            and user.has_group("call_tracking.call_tracking_group_manager")
            and destination_sudo.company_id in user.company_ids
        ):
            return True
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
        expected_password = destination_sudo.secret or ""
        if not sep or not expected_password:
            return False
        # both compared, in constant time
        name_ok = hmac.compare_digest(name.encode(), expected_name.encode())
        password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
        return name_ok and password_ok
