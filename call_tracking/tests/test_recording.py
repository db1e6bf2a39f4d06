"""Recordings stored in Odoo: fetched per provider kind from loopback
stand-ins of their recording APIs, checked (size, bytes), retried, refused
(forbidden hosts and addresses), deleted after the retention; the call and
its lead never affected by a failure."""

import base64
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlencode

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import _super_send

from odoo.addons.call_tracking.models import call_tracking_call_recording
from odoo.addons.call_tracking.models.call_tracking_provider_zadarma import zadarma_signature
from odoo.addons.call_tracking.tools import outbound, zadarma

from .common import CALLER, TRACKED, CallTrackingCommon, receive_webhook
from .recording_standin import MP3_BYTES, RecordingStandIn, make_wav

TWILIO_ACCOUNT = "AC" + "1" * 32
TWILIO_RECORDING = "RE" + "2" * 32
TWILIO_TOKEN = "twilio-auth-token-123"
ZADARMA_KEY = "zadarma-user-key"
ZADARMA_SECRET = "zadarma-secret-456"


class RecordingCase(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = RecordingStandIn()
        cls.addClassCleanup(cls.standin.close)
        cls.wav = make_wav(0.5)
        cls.env["ir.config_parameter"].sudo().set_param(
            outbound.ALLOWED_NETWORKS_PARAM, "127.0.0.0/8"
        )
        cls.provider.recording_base_url = f"{cls.standin.url}/files/"
        cls.Call = cls.env["call.tracking.call"].sudo()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # the guard pins connections to the loopback address it checked:
        # let them through as sent (Odoo's tests block other hosts)
        return _super_send(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.standin.requests.clear()
        self.standin.routes.clear()

    def _end_call(self, call_id="rec-1", provider=None, **values):
        calls = self._process(self._event("call_end", call_id=call_id, **values), provider=provider)
        return calls

    def _fetch(self):
        return self.Call._cron_fetch_recordings()


@tagged("post_install", "-at_install")
class TestRecordingFetch(RecordingCase):
    def test_generic_recording_fetched_and_stored(self):
        self.standin.route("/files/a.wav", 200, "audio/wav", self.wav)
        call = self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        self.assertEqual(call.recording_state, "pending")
        lead = call.lead_id
        self.assertTrue(lead)
        # the call's note points to the recording in Odoo, not the provider
        note = lead.message_ids.filtered(lambda m: "Phone call from" in (m.body or ""))
        self.assertIn(f"call_tracking.call_tracking_call_action/{call.id}", note.body)
        self.assertNotIn(self.standin.url, note.body)

        self.assertEqual(self._fetch(), call)
        self.assertEqual(call.recording_state, "done")
        attachment = call.recording_attachment_id
        self.assertEqual(attachment.res_model, "call.tracking.call")
        self.assertEqual(attachment.res_id, call.id)
        self.assertEqual(attachment.mimetype, "audio/wav")
        self.assertEqual(attachment.company_id, call.company_id)
        self.assertFalse(attachment.public)
        self.assertEqual(attachment.raw, self.wav)
        self.assertTrue(attachment.store_fname, "the audio is in the filestore")
        self.assertEqual(call.status, "answered")
        self.assertFalse(call.recording_error)
        # nothing left to fetch
        self.assertFalse(self._fetch())

    def test_upload_during_the_fetch_wins(self):
        """The downloads run with no call locked: a file stored meanwhile
        (an upload of the same call) is kept, the download dropped."""
        self.standin.route("/files/a.wav", 200, "audio/wav", self.wav)
        call = self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        Provider = type(self.env["call.tracking.provider"])
        fetch = Provider._fetch_recording

        def fetch_while_uploaded(provider, fetched_call):
            answer = fetch(provider, fetched_call)
            fetched_call._store_recording(MP3_BYTES, "audio/mpeg", "mp3")
            return answer

        with patch.object(Provider, "_fetch_recording", fetch_while_uploaded):
            self.assertEqual(self._fetch(), call)
        self.assertEqual(call.recording_state, "done")
        self.assertEqual(call.recording_attachment_id.mimetype, "audio/mpeg")
        files = self.env["ir.attachment"].search(
            [("res_model", "=", "call.tracking.call"), ("res_id", "=", call.id)]
        )
        self.assertEqual(files, call.recording_attachment_id, "the download was dropped")

    def test_event_triggers_the_cron(self):
        cron = self.env.ref("call_tracking.ir_cron_call_tracking_recording_fetch")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(after, before + 1)

    def test_no_recording_no_fetch(self):
        call = self._end_call()
        self.assertIn(call.recording_state, (False, "none"))
        self.assertFalse(self._fetch())
        self.assertFalse(self.standin.requests)

    def test_twilio_media_with_account_credentials(self):
        provider = self.env["call.tracking.provider"].create(
            {
                "name": "Twilio",
                "kind": "twilio",
                "secret": TWILIO_TOKEN,
                "api_base_url": self.standin.url,
            }
        )
        path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{TWILIO_RECORDING}"
        self.standin.route(f"{path}.mp3", 200, "audio/mpeg", MP3_BYTES)
        form = [
            ("AccountSid", TWILIO_ACCOUNT),
            ("CallSid", "CA" + "3" * 32),
            ("CallStatus", "completed"),
            ("CallDuration", "42"),
            ("From", CALLER),
            ("To", TRACKED),
            ("RecordingUrl", f"{self.standin.url}{path}"),
        ]
        events = provider._parse_webhook_events({"form": form})
        call = self.Call._process_webhook_events(provider, events)
        self.assertEqual(call.recording_state, "pending")
        self._fetch()
        self.assertEqual(call.recording_state, "done", call.recording_error)
        self.assertEqual(call.recording_attachment_id.mimetype, "audio/mpeg")
        [req] = self.standin.requests
        self.assertEqual(req["path"], f"{path}.mp3", "the MP3 media file")
        expected = base64.b64encode(f"{TWILIO_ACCOUNT}:{TWILIO_TOKEN}".encode()).decode()
        self.assertEqual(req["headers"]["Authorization"], f"Basic {expected}")

    def test_twilio_recording_status_callback(self):
        provider = self.env["call.tracking.provider"].create(
            {
                "name": "Twilio",
                "kind": "twilio",
                "secret": TWILIO_TOKEN,
                "api_base_url": self.standin.url,
            }
        )
        path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{TWILIO_RECORDING}"
        self.standin.route(f"{path}.mp3", 200, "audio/mpeg", MP3_BYTES)
        call_sid = "CA" + "4" * 32
        status_form = [
            ("AccountSid", TWILIO_ACCOUNT),
            ("CallSid", call_sid),
            ("CallStatus", "completed"),
            ("CallDuration", "42"),
            ("From", CALLER),
            ("To", TRACKED),
        ]
        call = self.Call._process_webhook_events(
            provider, provider._parse_webhook_events({"form": status_form})
        )
        self.assertIn(call.recording_state, (False, "none"))
        recording_form = [
            ("AccountSid", TWILIO_ACCOUNT),
            ("CallSid", call_sid),
            ("RecordingSid", TWILIO_RECORDING),
            ("RecordingUrl", f"{self.standin.url}{path}"),
            ("RecordingDuration", "40"),
        ]
        in_progress = [*recording_form, ("RecordingStatus", "in-progress")]
        events = provider._parse_webhook_events({"form": in_progress})
        self.assertEqual(events, [{"event": "call_update", "call_id": call_sid}])
        completed = [*recording_form, ("RecordingStatus", "completed")]
        events = provider._parse_webhook_events({"form": completed})
        self.assertEqual(self.Call._process_webhook_events(provider, events), call)
        self.assertEqual(call.recording_state, "pending")
        self.assertEqual(call.status, "answered")
        self._fetch()
        self.assertEqual(call.recording_state, "done", call.recording_error)
        self.assertEqual(call.recording_attachment_id.raw, MP3_BYTES)

    def test_twilio_refusal_is_parsed_and_redacted(self):
        provider = self.env["call.tracking.provider"].create(
            {
                "name": "Twilio",
                "kind": "twilio",
                "secret": TWILIO_TOKEN,
                "api_base_url": self.standin.url,
            }
        )
        path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{TWILIO_RECORDING}"
        self.standin.route(
            f"{path}.mp3",
            404,
            "application/json",
            '{"code": 20404, "message": "The requested resource was not found (token '
            + TWILIO_TOKEN
            + ')", "status": 404}',
        )
        call = self.Call._process_webhook_events(
            provider,
            [
                {
                    "event": "call_end",
                    "call_id": "CA-refused",
                    "from": CALLER,
                    "to": TRACKED,
                    "status": "answered",
                    "duration": 10,
                    "recording_url": f"{self.standin.url}{path}",
                }
            ],
        )
        self._fetch()
        self.assertEqual(call.recording_state, "failed", "a 404 is not retried")
        self.assertIn("HTTP 404", call.recording_error)
        self.assertIn("The requested resource was not found", call.recording_error)
        self.assertNotIn(TWILIO_TOKEN, call.recording_error)

    def test_twilio_url_that_is_not_a_recording(self):
        provider = self.env["call.tracking.provider"].create(
            {"name": "Twilio", "kind": "twilio", "secret": TWILIO_TOKEN}
        )
        call = self.Call._process_webhook_events(
            provider,
            [
                {
                    "event": "call_end",
                    "call_id": "CA-odd",
                    "status": "answered",
                    "recording_url": "https://api.twilio.com/elsewhere",
                }
            ],
        )
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("not a Twilio recording", call.recording_error)
        self.assertFalse(self.standin.requests)

    def _zadarma_provider(self):
        return self.env["call.tracking.provider"].create(
            {
                "name": "Zadarma",
                "kind": "zadarma",
                "secret": ZADARMA_SECRET,
                "api_key": ZADARMA_KEY,
                "api_base_url": self.standin.url,
            }
        )

    def _zadarma_notify_end(self, provider, rec_id="1700000000.123"):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=2)
        params = {
            "event": "NOTIFY_END",
            "call_start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "pbx_call_id": "in_zd_1",
            "caller_id": CALLER.lstrip("+"),
            "called_did": TRACKED.lstrip("+"),
            "duration": "60",
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "1",
            "call_id_with_rec": rec_id,
        }
        form = list(params.items())
        request_data = {
            "method": "POST",
            "url_base": "http://localhost",
            "url_path": f"/call_tracking/webhook/{provider.webhook_token}",
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                "Signature": zadarma_signature(ZADARMA_SECRET, params, "NOTIFY_END"),
            },
            "body": urlencode(form).encode(),
            "form": form,
            "query": [],
            "remote_addr": "127.0.0.1",
        }
        status, _type, body = receive_webhook(provider.sudo(), request_data)
        self.assertEqual(status, 200, body)
        return self.Call.search([("provider_id", "=", provider.id)])

    def test_zadarma_record_request_api(self):
        provider = self._zadarma_provider()
        self.standin.route(
            "/v1/pbx/record/request/",
            200,
            "application/json",
            '{"status": "success", "link": "' + self.standin.url + '/rec/in_zd_1.mp3",'
            ' "lifetime_till": "2026-12-05 12:00:00"}',
        )
        self.standin.route("/rec/in_zd_1.mp3", 200, "audio/mpeg", MP3_BYTES)
        call = self._zadarma_notify_end(provider)
        self.assertEqual(call.recording_ref, "1700000000.123")
        self.assertEqual(call.recording_state, "pending")
        self._fetch()
        self.assertEqual(call.recording_state, "done", call.recording_error)
        api_request, file_request = self.standin.requests
        self.assertEqual(api_request["path"], "/v1/pbx/record/request/")
        params = {k: v[0] for k, v in api_request["query"].items()}
        self.assertEqual(params, {"call_id": "1700000000.123", "format": "json", "lifetime": "180"})
        # Zadarma's documented algorithm computed by hand, outside Python:
        # q='call_id=1700000000.123&format=json&lifetime=180'
        # printf '%s' "/v1/pbx/record/request/$q$(printf '%s' "$q" | md5sum | cut -c1-32)" \
        #   | openssl dgst -sha1 -hmac zadarma-secret-456 -r | cut -c1-40 | tr -d '\n' | base64
        expected = f"{ZADARMA_KEY}:OGI5MzBhNTdkYTQzMDkxYjAzOWI4MzU2MjQ5ZGU1YTg2ZWFkMjcyNg=="
        self.assertEqual(api_request["headers"]["Authorization"], expected)
        self.assertEqual(
            zadarma.api_authorization(
                ZADARMA_KEY, ZADARMA_SECRET, "/v1/pbx/record/request/", params
            ),
            expected,
        )
        self.assertEqual(file_request["path"], "/rec/in_zd_1.mp3")
        self.assertNotIn("Authorization", file_request["headers"])

    def test_provider_form_one_api_key_and_one_api_url(self):
        arch = self.env["call.tracking.provider"].get_view(view_type="form")["arch"]
        for fname in ("api_key_input", "has_api_key", "api_base_url", "recording_base_url"):
            self.assertEqual(arch.count(f'name="{fname}"'), 1, fname)
        self.assertNotIn("zadarma_api_key", arch)

    def test_zadarma_error_answer(self):
        provider = self._zadarma_provider()
        self.standin.route(
            "/v1/pbx/record/request/",
            200,
            "application/json",
            '{"status": "error", "message": "Record not found"}',
        )
        call = self._zadarma_notify_end(provider)
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("Record not found", call.recording_error)
        self.assertEqual(call.status, "answered")

    def test_zadarma_without_api_key(self):
        provider = self._zadarma_provider()
        provider.api_key = False
        call = self._zadarma_notify_end(provider)
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("API key", call.recording_error)
        self.assertFalse(self.standin.requests)


@tagged("post_install", "-at_install")
class TestRecordingBadInput(RecordingCase):
    def _assert_unaffected(self, call):
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.duration, 95)
        self.assertTrue(call.lead_id)
        self.assertTrue(call.lead_id.active)
        self.assertFalse(call.recording_attachment_id)

    def test_oversized_recording(self):
        self.company.call_tracking_recording_max_mb = 1
        self.standin.route("/files/big.wav", 200, "audio/wav", make_wav(70, rate=8000))
        call = self._end_call(recording_url=f"{self.standin.url}/files/big.wav")
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("larger than the limit", call.recording_error)
        self._assert_unaffected(call)

    def test_non_audio_bytes_with_audio_header(self):
        self.standin.route("/files/fake.wav", 200, "audio/wav", b"<html>login page</html>")
        call = self._end_call(recording_url=f"{self.standin.url}/files/fake.wav")
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("its bytes are no known audio format", call.recording_error)
        self._assert_unaffected(call)

    def test_audio_bytes_with_html_header(self):
        self.standin.route("/files/page", 200, "text/html", self.wav)
        call = self._end_call(recording_url=f"{self.standin.url}/files/page")
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("Content-Type: text/html", call.recording_error)
        self._assert_unaffected(call)

    def test_provider_error_retried_with_backoff_then_failed(self):
        self.standin.route("/files/a.wav", 503, "application/json", '{"message": "Busy"}')
        call = self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        for attempt, minutes in enumerate(call_tracking_call_recording.RETRY_MINUTES, 1):
            before = fields.Datetime.now()
            self.assertEqual(self._fetch(), call)
            self.assertEqual(call.recording_state, "pending")
            self.assertEqual(call.recording_attempts, attempt)
            self.assertIn("HTTP 503", call.recording_error)
            self.assertIn("Busy", call.recording_error)
            self.assertGreaterEqual(
                call.recording_next_try_at, before + timedelta(minutes=minutes, seconds=-1)
            )
            # not due yet: the next run skips it
            self.assertFalse(self._fetch())
            call.sudo().recording_next_try_at = fields.Datetime.now() - timedelta(seconds=1)
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self._assert_unaffected(call)

    def test_provider_timeout_is_retried(self):
        self.standin.route("/files/slow.wav", 200, "audio/wav", self.wav, delay=2)
        call = self._end_call(recording_url=f"{self.standin.url}/files/slow.wav")
        with patch.object(call_tracking_call_recording, "RECORDING_TIMEOUT", 0.5):
            self._fetch()
        self.assertEqual(call.recording_state, "pending")
        self.assertIn("timeout", call.recording_error)
        self.assertEqual(call.recording_attempts, 1)
        self._assert_unaffected(call)

    def test_host_not_of_the_provider_refused_and_logged(self):
        self.standin.route("/files/a.wav", 200, "audio/wav", self.wav)
        call = self._end_call(recording_url="http://127.0.0.2:1/files/a.wav")
        with self.assertLogs(call_tracking_call_recording.__name__, "WARNING") as logs:
            self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("Refused to download a recording from 127.0.0.2", call.recording_error)
        self.assertTrue(any("127.0.0.2" in line for line in logs.output))
        self.assertFalse(self.standin.requests)
        self._assert_unaffected(call)

    def test_generic_without_recording_url_setting_refused(self):
        self.provider.recording_base_url = False
        call = self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        self._fetch()
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("Refused", call.recording_error)
        self.assertFalse(self.standin.requests)

    def test_base_urls_the_guard_refuses_are_refused(self):
        for fname in ("api_base_url", "recording_base_url"):
            for url in ("ftp://files.example.com/", "https://user:pw@api.example.com", "https://"):
                with self.subTest(field=fname, url=url), self.assertRaises(ValidationError):
                    self.provider.write({fname: url})
        self.provider.write(
            {"api_base_url": "https://api.example.com", "recording_base_url": self.standin.url}
        )

    def test_internal_address_refused_by_the_guard(self):
        self.env["ir.config_parameter"].sudo().set_param(outbound.ALLOWED_NETWORKS_PARAM, "")
        self.standin.route("/files/a.wav", 200, "audio/wav", self.wav)
        call = self._end_call(recording_url=f"{self.standin.url}/files/a.wav")
        with self.assertLogs(outbound.__name__, "WARNING") as logs:
            self._fetch()
        self.assertEqual(call.recording_state, "failed", "a forbidden address is not retried")
        self.assertIn("internal address 127.0.0.1 refused", call.recording_error)
        self.assertTrue(any("refused" in line for line in logs.output))
        self.assertFalse(self.standin.requests)
        self._assert_unaffected(call)

    def test_fetch_again_after_a_failure(self):
        call = self._end_call(recording_url=f"{self.standin.url}/files/late.wav")
        self._fetch()
        self.assertEqual(call.recording_state, "failed", "404: not there yet")
        self.standin.route("/files/late.wav", 200, "audio/wav", self.wav)
        # a salesperson may not; a call tracking administrator may
        with self.assertRaises(AccessError):
            call.with_user(self.salesman).action_fetch_recording()
        call.with_user(self.ct_admin).action_fetch_recording()
        self.assertEqual(call.recording_state, "pending")
        self._fetch()
        self.assertEqual(call.recording_state, "done")

    def test_one_failure_does_not_stop_the_batch(self):
        self.standin.route("/files/a.wav", 200, "audio/wav", self.wav)
        bad = self._end_call("rec-bad", recording_url=f"{self.standin.url}/files/missing.wav")
        good = self._end_call("rec-good", recording_url=f"{self.standin.url}/files/a.wav")
        self.assertEqual(self._fetch(), bad | good)
        self.assertEqual(bad.recording_state, "failed")
        self.assertEqual(good.recording_state, "done")


@tagged("post_install", "-at_install")
class TestRecordingRetention(RecordingCase):
    def _stored_call(self, call_id):
        call = self._end_call(call_id)
        call._store_recording(self.wav, "audio/wav", "wav")
        return call

    def test_retention_deletes_the_audio_keeps_the_call(self):
        self.company.call_tracking_recording_retention_days = 30
        old = self._stored_call("rec-old")
        new = self._stored_call("rec-new")
        old_attachment = old.recording_attachment_id
        old.sudo().recording_fetched_at = fields.Datetime.now() - timedelta(days=31)
        purged = self.Call._cron_purge_recordings()
        self.assertEqual(purged, old)
        self.assertEqual(old.recording_state, "deleted")
        self.assertFalse(old.recording_attachment_id)
        self.assertFalse(old_attachment.exists())
        self.assertTrue(old.exists())
        self.assertTrue(old.lead_id)
        self.assertEqual(new.recording_state, "done")
        self.assertTrue(new.recording_attachment_id)

    def test_zero_keeps_forever(self):
        self.company.call_tracking_recording_retention_days = 0
        call = self._stored_call("rec-kept")
        call.sudo().recording_fetched_at = fields.Datetime.now() - timedelta(days=3000)
        self.assertFalse(self.Call._cron_purge_recordings())
        self.assertEqual(call.recording_state, "done")

    def test_deleting_a_call_deletes_its_audio(self):
        call = self._stored_call("rec-unlinked")
        attachment = call.recording_attachment_id
        call.unlink()
        # Odoo deletes the attachments of deleted records: an orphan one
        # would be readable by every internal user (ir.attachment.check)
        self.assertFalse(attachment.exists())

    def test_a_new_recording_replaces_the_previous_file(self):
        call = self._stored_call("rec-replaced")
        first = call.recording_attachment_id
        call._store_recording(MP3_BYTES, "audio/mpeg", "mp3")
        self.assertFalse(first.exists())
        self.assertEqual(call.recording_attachment_id.mimetype, "audio/mpeg")
