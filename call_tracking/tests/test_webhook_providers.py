from datetime import UTC, timedelta
from unittest.mock import patch
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.call_tracking.models.call_tracking_provider_twilio import twilio_signature
from odoo.addons.call_tracking.models.call_tracking_provider_zadarma import (
    zadarma_signature,
    zadarma_signed_key,
)

from .common import CALLER, TRACKED, CallTrackingHttpCommon

TWILIO_TOKEN = "12345678901234567890123456789012"
ZADARMA_SECRET = "zadarma-secret-abc"


@tagged("post_install", "-at_install")
class TestWebhookTwilio(CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.twilio = cls.env["call.tracking.provider"].create(
            {"name": "Twilio test", "kind": "twilio", "secret": TWILIO_TOKEN}
        )

    def setUp(self):
        super().setUp()
        self.twilio.public_base_url = self.base_url()

    def _post_twilio(self, params, token=TWILIO_TOKEN, tamper=None, signed_base=None, headers=None):
        """POST to the test server, signed as Twilio signs it for the URL
        pasted in its console: ``signed_base`` + the webhook path."""
        path = self._url(self.twilio)
        signature = twilio_signature(token, (signed_base or self.base_url()) + path, params)
        if tamper:
            params = [(k, tamper.get(k, v)) for k, v in params]
        return self.url_open(
            self.base_url() + path,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                **(headers or {}),
            },
        )

    def _params(self, status, **extra):
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": "CA" + "1" * 32,
            "CallStatus": status,
            "From": CALLER,
            "To": TRACKED,
            "Direction": "inbound",
            "Timestamp": "Sun, 22 Nov 2026 10:16:35 +0000",
            **extra,
        }
        return list(params.items())

    def test_signature_vector(self):
        # Example of Twilio's "Webhooks security" page.
        params = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        self.assertEqual(
            twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        )

    def test_ringing_then_completed(self):
        self.assertEqual(self._post_twilio(self._params("ringing")).status_code, 200)
        response = self._post_twilio(
            self._params(
                "completed", CallDuration="95", RecordingUrl="https://api.twilio.com/rec/RE1"
            )
        )
        self.assertEqual(response.status_code, 200, response.text)
        call = self._calls(self.twilio)
        self.assertEqual(len(call), 1)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.duration, 95)
        self.assertEqual(call.caller_number, CALLER)
        self.assertEqual(call.recording_url, "https://api.twilio.com/rec/RE1")
        self.assertTrue(call.lead_id)

    def test_no_answer(self):
        self._post_twilio(self._params("no-answer"))
        self.assertEqual(self._calls(self.twilio).status, "missed")

    def test_tampered(self):
        response = self._post_twilio(
            self._params("completed", CallDuration="95"), tamper={"CallDuration": "3600"}
        )
        self.assertEqual(response.status_code, 403)
        response = self._post_twilio(self._params("completed"), token="0" * 32)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self._calls(self.twilio))
        self.assertEqual(self._events(self.twilio).mapped("state"), ["rejected", "rejected"])

    def test_public_base_url_or_url_reached(self):
        """Signed for the configured public base URL, or for the URL the
        request reached: both are accepted; anything else is not."""
        self.twilio.public_base_url = "https://crm.example.com"
        params = self._params("ringing")
        for signed_base in ("https://crm.example.com", self.base_url()):
            with self.subTest(signed_base=signed_base):
                response = self._post_twilio(params, signed_base=signed_base)
                self.assertEqual(response.status_code, 200, response.text)
                self.assertIn("<Response/>", response.text)
                self.assertEqual(response.headers["Content-Type"].split(";")[0], "text/xml")
        response = self._post_twilio(params, signed_base="https://elsewhere.example.com")
        self.assertEqual(response.status_code, 403)

    def test_behind_proxy_in_proxy_mode(self):
        """Behind a reverse proxy with proxy_mode, Odoo rebuilds the URL the
        request reached from X-Forwarded-*: a signature for the public URL
        verifies without any public base URL configured."""
        self.twilio.public_base_url = False
        forwarded = {"X-Forwarded-Host": "calls.example.org", "X-Forwarded-Proto": "https"}
        params = self._params("ringing")
        with patch.dict(config.options, {"proxy_mode": True}):
            response = self._post_twilio(
                params, signed_base="https://calls.example.org", headers=forwarded
            )
        self.assertEqual(response.status_code, 200, response.text)
        event = self._events(self.twilio)
        self.assertEqual(event.url_base, "https://calls.example.org")
        self.assertEqual(event.url_path, self._url(self.twilio))
        # without proxy_mode the forwarded headers are not trusted
        response = self._post_twilio(
            self._params("completed", CallDuration="5"),
            signed_base="https://calls.example.org",
            headers=forwarded,
        )
        self.assertEqual(response.status_code, 403)

    def test_reprocess_after_fixing_the_public_url(self):
        """Requests rejected because of a wrong public base URL are recovered
        by reprocessing them once the administrator fixed it."""
        self.twilio.public_base_url = "https://wrong.example.com"
        response = self._post_twilio(
            self._params("completed", CallDuration="95"), signed_base="https://crm.example.com"
        )
        self.assertEqual(response.status_code, 403)
        event = self._events(self.twilio)
        self.assertEqual(event.state, "rejected")
        self.assertFalse(event.body_truncated)
        event.with_user(self.manager).action_reprocess()
        self.assertEqual(event.state, "rejected", "still the wrong URL")
        self.twilio.public_base_url = "https://crm.example.com"
        event.with_user(self.manager).action_reprocess()
        self.assertEqual(event.state, "processed", event.error_message)
        call = self._calls(self.twilio)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.duration, 95)
        self.assertEqual(event.call_id, call)

    def test_bad_values_400(self):
        response = self._post_twilio(self._params("exploded"))
        self.assertEqual(response.status_code, 400)
        response = self._post_twilio(self._params("completed", Timestamp="not a date"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._events(self.twilio).mapped("state"), ["error", "error"])


@tagged("post_install", "-at_install")
class TestWebhookZadarma(CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zadarma = cls.env["call.tracking.provider"].create(
            {
                "name": "Zadarma test",
                "kind": "zadarma",
                "secret": ZADARMA_SECRET,
                "zadarma_timezone": "Europe/Kyiv",
            }
        )

    def setUp(self):
        super().setUp()
        # a call started ten minutes ago, in the PBX's time zone
        self.start_utc = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=10)
        self.call_start = self._pbx_time(self.start_utc)

    @staticmethod
    def _pbx_time(utc):
        local = utc.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Kyiv"))
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def _post_zadarma(self, params, secret=ZADARMA_SECRET, tamper=None):
        signature = zadarma_signature(secret, params, params["event"])
        params = {**params, **(tamper or {})}
        return self.url_open(
            self._url(self.zadarma),
            data=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Signature": signature},
        )

    def _params(self, event, **extra):
        return {
            "event": event,
            "call_start": self.call_start,
            "pbx_call_id": "in_0123456789abcdef",
            "caller_id": CALLER.lstrip("+"),
            "called_did": TRACKED.lstrip("+"),
            **extra,
        }

    def test_signature_vector(self):
        """Zadarma's PHP example: base64_encode(hash_hmac('sha1', caller_id .
        called_did . call_start, secret)); hash_hmac returns the hex digest
        (2f7620d3...), so the header is base64 of that hex text."""
        params = {
            "event": "NOTIFY_START",
            "call_start": "2026-11-22 12:15:00",
            "pbx_call_id": "in_0123456789abcdef",
            "caller_id": "380501112233",
            "called_did": "380441234567",
        }
        self.assertEqual(
            zadarma_signature("zd-secret-key", params, "NOTIFY_START"),
            "MmY3NjIwZDM4NDFkYWYzYTUxYTg4NDExZTRkZTMyYjM4NDNjMzNmMA==",
        )
        # the call id is not signed on NOTIFY_START / NOTIFY_END
        params["pbx_call_id"] = "in_other"
        self.assertEqual(
            zadarma_signature("zd-secret-key", params, "NOTIFY_END"),
            "MmY3NjIwZDM4NDFkYWYzYTUxYTg4NDExZTRkZTMyYjM4NDNjMzNmMA==",
        )

    def test_zd_echo(self):
        response = self.url_open(self._url(self.zadarma) + "?zd_echo=abc123")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "abc123")
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "text/plain")
        self.assertFalse(self._events(self.zadarma))
        # a GET without zd_echo, or on a kind without URL checks: 405
        self.assertEqual(self.url_open(self._url(self.zadarma)).status_code, 405)
        self.assertEqual(self.url_open(self._url() + "?zd_echo=abc").status_code, 405)

    def test_start_end(self):
        self.assertEqual(self._post_zadarma(self._params("NOTIFY_START")).status_code, 200)
        end = self._params(
            "NOTIFY_END",
            duration="42",
            disposition="answered",
            status_code="16",
            is_recorded="1",
            call_id_with_rec="1585913205.75283",
        )
        self.assertEqual(self._post_zadarma(end).status_code, 200)
        call = self._calls(self.zadarma)
        self.assertEqual(len(call), 1)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.duration, 42)
        self.assertEqual(call.caller_number, CALLER)
        self.assertEqual(call.called_number, TRACKED)
        # read in the PBX's time zone
        self.assertEqual(call.start_at, self.start_utc)
        self.assertTrue(call.lead_id)
        self.assertEqual(call.signed_key, zadarma_signed_key(end))

    def test_signed_key_unambiguous(self):
        """Our key of the signed triple tells apart triples that the plain
        concatenation Zadarma signs cannot."""
        one = {"caller_id": "1", "called_did": "23", "call_start": "x"}
        other = {"caller_id": "12", "called_did": "3", "call_start": "x"}
        self.assertNotEqual(zadarma_signed_key(one), zadarma_signed_key(other))
        self.assertEqual(
            zadarma_signature("s", {**one, "event": "NOTIFY_START"}, "NOTIFY_START"),
            zadarma_signature("s", {**other, "event": "NOTIFY_START"}, "NOTIFY_START"),
        )

    def test_unsigned_call_id_cannot_be_moved(self):
        """The call id is not signed: a signed triple replayed under another
        call id, or a call id given another call's signed triple, is refused."""
        start = self._params("NOTIFY_START")
        self.assertEqual(self._post_zadarma(start).status_code, 200)
        # the same signed triple under another pbx_call_id: a second call
        response = self._post_zadarma({**start, "pbx_call_id": "in_forged"})
        self.assertEqual(response.status_code, 403)
        # the same call id with another caller's (validly signed) triple
        other = self._params("NOTIFY_END", caller_id="380671234567", duration="5",
                             disposition="answered")  # fmt: skip
        response = self._post_zadarma(other)
        self.assertEqual(response.status_code, 403)
        call = self._calls(self.zadarma)
        self.assertEqual(len(call), 1)
        self.assertEqual(call.caller_number, CALLER)
        self.assertEqual(call.status, "in_progress")
        self.assertEqual(
            self._events(self.zadarma).mapped("state"), ["processed", "rejected", "rejected"]
        )

    def test_duration_clamped_to_signed_start(self):
        """The duration is not signed: never longer than the time elapsed
        since the signed start."""
        end = self._params("NOTIFY_END", duration="86400", disposition="answered")
        self.assertEqual(self._post_zadarma(end).status_code, 200)
        call = self._calls(self.zadarma)
        self.assertGreaterEqual(call.duration, 600)
        self.assertLessEqual(call.duration, 600 + 120)

    def test_old_signed_start_refused(self):
        """A signed notification older than the provider's window (a replay)
        is refused; the window is configurable."""
        old = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=30)
        end = self._params("NOTIFY_END", call_start=self._pbx_time(old), duration="42",
                           disposition="answered")  # fmt: skip
        response = self._post_zadarma(end)
        self.assertEqual(response.status_code, 403)
        self.assertIn("older than the limit (24 h)", response.json()["error"])
        self.assertFalse(self._calls(self.zadarma))
        self.zadarma.zadarma_max_age_hours = 48
        self.assertEqual(self._post_zadarma(end).status_code, 200)
        self.assertEqual(self._calls(self.zadarma).duration, 42)

    def test_busy_and_tampered(self):
        end = self._params("NOTIFY_END", duration="0", disposition="busy", status_code="17")
        response = self._post_zadarma(end, tamper={"caller_id": "380671234567"})
        self.assertEqual(response.status_code, 403)
        response = self._post_zadarma(end, secret="other")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self._calls(self.zadarma))
        self.assertEqual(self._post_zadarma(end).status_code, 200)
        self.assertEqual(self._calls(self.zadarma).status, "busy")

    def test_bad_date_400(self):
        response = self._post_zadarma(self._params("NOTIFY_START", call_start="22/11/2026"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._events(self.zadarma).state, "error")
