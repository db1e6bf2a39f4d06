from urllib.parse import urlencode

from odoo.tests import tagged

from odoo.addons.call_tracking.models.call_tracking_provider_twilio import twilio_signature
from odoo.addons.call_tracking.models.call_tracking_provider_zadarma import zadarma_signature

from .webhook_common import CALLER, TRACKED, WebhookHttpCase

TWILIO_TOKEN = "12345678901234567890123456789012"
ZADARMA_SECRET = "zadarma-secret-abc"


@tagged("post_install", "-at_install")
class TestWebhookTwilio(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.twilio = cls.env["call.tracking.provider"].create(
            {"name": "Twilio test", "kind": "twilio", "secret": TWILIO_TOKEN}
        )

    def setUp(self):
        super().setUp()
        self.twilio.public_base_url = self.base_url()

    def _post_twilio(self, params, token=TWILIO_TOKEN, tamper=None):
        url = self.base_url() + self._url(self.twilio)
        signature = twilio_signature(token, url, params)
        if tamper:
            params = [(k, tamper.get(k, v)) for k, v in params]
        return self.url_open(
            url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
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

    def test_bad_values_400(self):
        response = self._post_twilio(self._params("exploded"))
        self.assertEqual(response.status_code, 400)
        response = self._post_twilio(self._params("completed", Timestamp="not a date"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._events(self.twilio).mapped("state"), ["error", "error"])


@tagged("post_install", "-at_install")
class TestWebhookZadarma(WebhookHttpCase):
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
            "call_start": "2026-11-22 12:15:00",
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
        self.assertFalse(self._events(self.zadarma))

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
        # 12:15 in Kyiv (UTC+2 in November) is 10:15 UTC
        self.assertEqual(call.start_at, self.call_time)
        self.assertTrue(call.lead_id)

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
