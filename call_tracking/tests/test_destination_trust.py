"""The destinations' requests go through the outbound guard, their endpoint
is chosen by Settings administrators only, what is stored of an answer is
parsed and free of secrets, the API versions they call are alive, and the
Google Ads CSV URL is hashed, throttled, read-only for people and free of
formulas (issue 25, findings 1, 3, 5 and 9)."""

import base64
import csv
import io
import logging
import socket
from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.call_tracking.models import call_tracking_destination
from odoo.addons.call_tracking.models.call_tracking_destination_google_ads import (
    GOOGLE_ADS_ROUTE,
)
from odoo.addons.call_tracking.tools import conversions as tools
from odoo.addons.call_tracking.tools import platform_versions
from odoo.addons.call_tracking.tools.outbound import ALLOWED_NETWORKS_PARAM

from .common import TRACKED, CallTrackingHttpCommon
from .test_conversions import ADS_PASSWORD, GA4_SECRET, YANDEX_TOKEN, ConversionCase


class _Capture(logging.Handler):
    """Every log record emitted while installed, formatted."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _closed_port():
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestDestinationOutbound(ConversionCase):
    def _no_internal_networks(self):
        self.env["ir.config_parameter"].set_param(ALLOWED_NETWORKS_PARAM, False)

    def test_internal_addresses_refused_with_a_reason(self):
        self._no_internal_networks()
        standin_port = self.standin.url.rsplit(":", 1)[1]
        for minutes_ago, (url, address) in zip(
            (60, 120, 180),
            (
                # a cloud metadata service; the '#' neutralises the appended path
                ("http://169.254.169.254/latest/meta-data/#", "169.254.169.254"),
                (f"http://127.0.0.1:{standin_port}/mp/collect?x=", "127.0.0.1"),
                ("http://10.1.2.3/mp/collect", "10.1.2.3"),
            ),
            strict=True,
        ):
            destination = self._destination("ga4", endpoint_url=url)
            destination.action_send_test_event()
            answer = destination.last_test_answer
            self.assertIn(f"internal address {address} refused", answer)
            self.assertNotIn(GA4_SECRET, answer)
            # the outbox: failed for good, with the same reason
            call = self._call(minutes_ago, call_id=f"internal-{address}", ga_client_id="5.5")
            conversion = call.sudo().conversion_ids.filtered(
                lambda c, d=destination: c.destination_id == d
            )
            self._send()
            self.assertEqual(conversion.state, "failed")
            self.assertFalse(conversion.next_try_at, "an internal address is never retried")
            self.assertIn("internal address", conversion.answer)
            destination.active = False
        self.assertFalse(self.standin.requests, "no request reached the loopback service")

    def test_redirect_to_internal_address_refused(self):
        # Yandex's test event is a GET: redirects are followed, each hop checked
        destination = self._destination("yandex_metrica")
        self.standin.answer((302, "", 0, {"Location": "http://169.254.169.254/latest/meta-data/"}))
        destination.action_send_test_event()
        self.assertIn("internal address 169.254.169.254 refused", destination.last_test_answer)
        self.assertNotIn(YANDEX_TOKEN, destination.last_test_answer)
        # GA4's is a POST: never followed, even to the same host
        ga4 = self._destination("ga4")
        self.standin.requests.clear()
        self.standin.answer((307, "", 0, {"Location": f"{self.standin.url}/elsewhere"}))
        ga4.action_send_test_event()
        self.assertIn("not followed", ga4.last_test_answer)
        self.assertEqual(len(self.standin.requests), 1)

    def test_answers_shown_parsed_never_raw(self):
        destination = self._destination("ga4")
        self.standin.answer((400, "<html>internal admin page, ssh key: abc</html>"))
        destination.action_send_test_event()
        self.assertIn("HTTP 400", destination.last_test_answer)
        self.assertNotIn("internal admin page", destination.last_test_answer)
        self.standin.answer((200, "root:x:0:0:root:/root:/bin/bash"))
        destination.action_send_test_event()
        self.assertEqual(destination.last_test_answer, "HTTP 200")
        self.standin.answer(
            (400, '{"error": {"message": "Invalid parameter", "code": 100}, "raw": "hidden"}')
        )
        destination.action_send_test_event()
        self.assertIn("Invalid parameter", destination.last_test_answer)
        self.assertNotIn("hidden", destination.last_test_answer)

    def test_secret_never_reaches_a_host_a_non_settings_admin_set(self):
        # a credential both GA4 and Yandex accept: the kind can change
        destination = self._destination(
            "ga4", endpoint_url=False, secret_input="shared-secret-123456"
        )
        platform_url = destination.endpoint_url
        as_ct_admin = destination.with_user(self.ct_admin)
        self.assertEqual(as_ct_admin.endpoint_url, platform_url, "the URL is shown")
        self.assertFalse(as_ct_admin.can_edit_endpoint)
        with self.assertRaises(AccessError):
            as_ct_admin.endpoint_url = f"{self.standin.url}/mp/collect"
        with self.assertRaises(AccessError):
            self.env["call.tracking.destination"].with_user(self.ct_admin).create(
                {
                    "name": "mine",
                    "kind": "meta",
                    "account_ref": "1234567890",
                    "endpoint_url": f"{self.standin.url}/steal",
                }
            )
        # choosing the kind (or the region) gives the platform's address
        as_ct_admin.ga4_region = "eu"
        self.assertEqual(
            destination.endpoint_url, "https://region1.google-analytics.com/mp/collect"
        )
        as_ct_admin.write({"kind": "yandex_metrica", "account_ref": "4455667"})
        self.assertEqual(destination.endpoint_url, "https://api-metrika.yandex.net")
        # what the form sends with a kind: the platform's own address
        created = (
            self.env["call.tracking.destination"]
            .with_user(self.ct_admin)
            .create(
                {
                    "name": "theirs",
                    "kind": "ga4",
                    "account_ref": "G-ADMIN1234",
                    "secret_input": GA4_SECRET,
                    "endpoint_url": platform_url,
                }
            )
        )
        self.assertEqual(created.endpoint_url, platform_url)
        # a Settings administrator may point it at a proxy
        destination.with_user(self.settings_admin).endpoint_url = f"{self.standin.url}/v26.0"
        self.assertTrue(destination.with_user(self.settings_admin).can_edit_endpoint)
        self.assertFalse(self.standin.requests)


@tagged("post_install", "-at_install")
class TestDestinationSecretsRedacted(ConversionCase):
    def _failures(self, destination, call_id):
        """Send a test event and a conversion; the texts stored and logged."""
        capture = _Capture()
        root = logging.getLogger()
        root.addHandler(capture)
        try:
            destination.action_send_test_event()
            call = self._call(call_id=call_id, ga_client_id="7.7")
            conversion = call.sudo().conversion_ids.filtered(
                lambda c: c.destination_id == destination
            )
            self._send()
        finally:
            root.removeHandler(capture)
        return destination.last_test_answer, conversion, capture.lines

    def _check(self, destination, call_id, reason):
        answer, conversion, logs = self._failures(destination, call_id)
        self.assertIn(reason, answer)
        self.assertIn(reason, conversion.answer)
        self.assertEqual(conversion.state, "failed")
        for text in (answer, conversion.answer, *logs):
            self.assertNotIn(GA4_SECRET, text)
            self.assertNotIn("api_secret", text)
        destination.active = False

    def test_connection_refused(self):
        port = _closed_port()
        destination = self._destination("ga4", endpoint_url=f"http://127.0.0.1:{port}/mp/collect")
        self._check(destination, "refused-1", "connection refused")

    def test_dns_failure(self):
        destination = self._destination(
            "ga4", endpoint_url="http://no-such-host.invalid/mp/collect"
        )
        self._check(destination, "dns-1", "host name not found")

    def test_timeout(self):
        destination = self._destination("ga4")
        self.standin.answer((200, "{}", 2), (200, "{}", 2))
        with patch.object(call_tracking_destination, "REQUEST_TIMEOUT", 0.5):
            self._check(destination, "timeout-1", "timeout")

    def test_answers_stored_by_an_earlier_version_are_redacted(self):
        destination = self._destination("ga4")
        leaked = (
            "connection error: HTTPConnectionPool(host='x', port=1): Max retries exceeded "
            f"with url: /mp/collect?measurement_id=G-TEST1234&api_secret={GA4_SECRET}"
        )
        call = self._call(call_id="leak-1", ga_client_id="8.8")
        conversion = call.sudo().conversion_ids
        conversion.write({"answer": leaked, "state": "failed"})
        destination.last_test_answer = leaked
        self.env["call.tracking.destination"].init()  # what a module update runs
        self.assertNotIn(GA4_SECRET, conversion.answer)
        self.assertIn("api_secret=***", conversion.answer)
        self.assertNotIn(GA4_SECRET, destination.last_test_answer)

    def test_secret_in_an_answer_is_redacted(self):
        destination = self._destination("ga4")
        self.standin.answer((400, f'{{"error": "bad api_secret {GA4_SECRET}"}}'))
        destination.action_send_test_event()
        self.assertIn("***", destination.last_test_answer)
        self.assertNotIn(GA4_SECRET, destination.last_test_answer)


@tagged("post_install", "-at_install")
class TestPlatformVersions(ConversionCase):
    def test_versions_in_use_are_alive(self):
        """Fails once a platform retires a version the module calls: update
        META_VERSION (and the table) from the platform's version history."""
        today = date.today()
        Destination = self.env["call.tracking.destination"]
        kinds = [kind for kind, _label in Destination._fields["kind"].selection]
        checked = []
        for kind in kinds:
            url = Destination.new({"kind": kind})._get_default_endpoint()
            version, end, state = platform_versions.version_state(kind, url, today)
            if version:
                checked.append(version)
                self.assertNotEqual(state, "unknown", f"{kind} {version} is not in the table")
                self.assertNotEqual(
                    state, "expired", f"{kind}: {version} reached its end of life on {end}"
                )
        self.assertIn(platform_versions.META_VERSION, checked)

    def test_table_dates(self):
        meta = platform_versions.END_OF_LIFE["meta"]
        self.assertEqual(meta["v21.0"], date(2025, 9, 9))
        state = platform_versions.version_state
        url = "https://graph.facebook.com/v21.0"
        self.assertEqual(state("meta", url, date(2025, 9, 9))[2], "expired")
        self.assertEqual(state("meta", url, date(2025, 8, 1))[2], "expiring")
        self.assertEqual(state("meta", url, date(2025, 1, 1))[2], "ok")
        self.assertEqual(
            state("meta", "https://graph.facebook.com/v99.0/", date.today())[2], "unknown"
        )
        self.assertEqual(
            state("ga4", "https://www.google-analytics.com/mp/collect", date.today()),
            (None, None, None),
        )

    def test_warning_on_the_destination(self):
        old = self._destination("meta", endpoint_url="https://graph.facebook.com/v21.0")
        self.assertIn("v21.0", old.api_version_warning)
        self.assertIn("2025-09-09", old.api_version_warning)
        current = self._destination("meta", endpoint_url=False)
        self.assertFalse(current.api_version_warning)


@tagged("post_install", "-at_install")
class TestGoogleAdsCsvTrust(CallTrackingHttpCommon):
    """The Google Ads CSV URL (issue 25, finding 5)."""

    def setUp(self):
        super().setUp()
        self.env.registry._call_tracking_csv_failures = None
        self.env["call.tracking.destination"].search([]).active = False
        self.destination = self.env["call.tracking.destination"].create(
            {
                "name": "Google Ads",
                "kind": "google_ads",
                "account_ref": "google",
                "secret_input": ADS_PASSWORD,
                "conversion_name": "Calls",
            }
        )
        self.url = f"{self.base_url()}{GOOGLE_ADS_ROUTE % self.destination.id}"

    def _get(self, user="google", password=ADS_PASSWORD):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return self.opener.get(self.url, headers={"Authorization": f"Basic {token}"}, timeout=30)

    def _conversion(self, gclid, call_id):
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=2)
        self._create_session(
            start - timedelta(minutes=5),
            start + timedelta(minutes=20),
            gclid=gclid,
            visitor_key=f"vk-{call_id}",
        )
        self._process(
            self._event(call_id=call_id, start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), to=TRACKED)
        )
        return self.destination.conversion_ids.filtered(
            lambda c: c.call_id.provider_call_id == call_id
        )

    def test_password_stored_as_a_hash(self):
        stored = self.destination.sudo().secret
        self.assertTrue(stored.startswith("$pbkdf2-sha512$"), stored)
        self.assertNotIn(ADS_PASSWORD, stored)
        self.assertEqual(self._get().status_code, 200)
        self.assertEqual(self._get(password=stored).status_code, 401, "the hash is no password")
        # a new password, set by a Call Tracking administrator, is hashed too
        self.destination.with_user(self.ct_admin).secret_input = "another-long-password"
        self.assertTrue(self.destination.sudo().secret.startswith("$pbkdf2-sha512$"))
        self.assertEqual(self._get(password="another-long-password").status_code, 200)
        # a password stored in clear before this version: verified, then hashed
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE call_tracking_destination SET secret = %s WHERE id = %s",
                ADS_PASSWORD,
                self.destination.id,
            )
        )
        self.env.invalidate_all()
        self.assertEqual(self._get().status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(self.destination.sudo().secret.startswith("$pbkdf2-sha512$"))
        # ... or when the module is updated
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE call_tracking_destination SET secret = %s WHERE id = %s",
                ADS_PASSWORD,
                self.destination.id,
            )
        )
        self.env.invalidate_all()
        self.env["call.tracking.destination"].init()
        self.assertTrue(self.destination.sudo().secret.startswith("$pbkdf2-sha512$"))

    def test_failed_attempts_throttled(self):
        # as Odoo's login cooldown, with its parameters
        after = int(self.env["ir.config_parameter"].get_param("base.login_cooldown_after", 5))
        for _attempt in range(after):
            self.assertEqual(self._get(password="wrong-password-x").status_code, 401)
        # on cooldown: even the right password waits
        refused = self._get()
        self.assertEqual(refused.status_code, 429)
        self.assertEqual(refused.headers["Retry-After"], "60")
        # the cooldown over (as Odoo's login cooldown: one minute)
        failures = self.env.registry._call_tracking_csv_failures
        for key, (count, _when) in list(failures.items()):
            failures[key] = (count, datetime.now() - timedelta(seconds=61))
        self.assertEqual(self._get().status_code, 200)
        self.assertFalse(failures, "a success forgets the failures")

    def test_manager_download_changes_nothing(self):
        conversion = self._conversion("EAIaIQ-gclid", "ads-manager")
        self.assertEqual(conversion.state, "pending")
        self.authenticate(self.ct_admin.login, self.ct_admin.login)
        response = self.url_open(GOOGLE_ADS_ROUTE % self.destination.id)
        self.assertEqual(response.status_code, 200)
        self.assertIn("EAIaIQ-gclid", response.text)
        conversion.invalidate_recordset()
        self.assertEqual(conversion.state, "pending", "a person's GET changes nothing")
        # Google's fetch marks it sent
        self.opener.cookies.clear()
        self.assertEqual(self._get().status_code, 200)
        conversion.invalidate_recordset()
        self.assertEqual(conversion.state, "sent")

    def test_formula_cells_escaped(self):
        self.assertEqual(tools.csv_text_cell("=1+1"), "'=1+1")
        for start in ("+", "-", "@", "\t", "\r"):
            self.assertEqual(tools.csv_text_cell(f"{start}x"), f"'{start}x")
        self.assertEqual(tools.csv_text_cell("EAIaIQ-gclid"), "EAIaIQ-gclid")
        self._conversion('=HYPERLINK("http://evil.example","x")', "ads-formula")
        response = self._get()
        self.assertEqual(response.status_code, 200)
        [row] = list(csv.reader(io.StringIO(response.text)))[2:]
        self.assertEqual(row[0], '\'=HYPERLINK("http://evil.example","x")')
