import json
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.call_tracking.tools import outbound

from .common import CALLER, TRACKED, CallTrackingCommon, CallTrackingHttpCommon, receive_webhook
from .telnyx_standin import TelnyxApiStandIn, TelnyxSender

API_KEY = "KEY0123456789ABCDEF_telnyx"


class TelnyxWorld:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender = TelnyxSender()
        cls.telnyx = cls.env["call.tracking.provider"].create(
            {
                "name": "Telnyx test",
                "kind": "telnyx",
                "secret": API_KEY,
                "telnyx_public_key": cls.sender.public_key,
            }
        )
        cls.number.provider_id = cls.telnyx

    def _receive(self, data, **kwargs):
        request_data = self.sender.request_data(data, self.telnyx.webhook_token, **kwargs)
        return receive_webhook(self.telnyx.sudo(), request_data)

    def _telnyx_calls(self):
        return self.env["call.tracking.call"].search([("provider_id", "=", self.telnyx.id)])

    def _telnyx_inbox(self):
        return self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", self.telnyx.id)], order="id"
        )


@tagged("post_install", "-at_install")
class TestWebhookTelnyx(TelnyxWorld, CallTrackingCommon):
    def test_call_flow(self):
        """initiated, answered, hangup, recording.saved: one call with its
        times, talk time, status, recording and lead; the agent's outgoing
        leg of the same session adds no call."""
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=2)
        initiated, answered, hangup = self.sender.call("sess-1", CALLER, TRACKED, start, talk=80)
        agent_leg = self.sender.event(
            "call.initiated",
            "sess-1",
            start + timedelta(seconds=6),
            call_leg_id="agent-leg",
            direction="outgoing",
            **{"from": TRACKED, "to": "+12125550777"},
        )
        recording = self.sender.event(
            "call.recording.saved",
            "sess-1",
            start + timedelta(seconds=90),
            recording_urls={"mp3": "https://s3.example.com/rec/sess-1.mp3?X-Amz-Expires=600"},
            format="mp3",
        )
        for data in (initiated, agent_leg, answered, hangup, recording):
            status, _type, body = self._receive(data)
            self.assertEqual(status, 200, body)
        call = self._telnyx_calls()
        self.assertEqual(len(call), 1)
        self.assertEqual(call.provider_call_id, "sess-1")
        self.assertEqual(call.caller_number, CALLER)
        self.assertEqual(call.called_number, TRACKED)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.start_at, start)
        self.assertEqual(call.answer_at, start + timedelta(seconds=5))
        self.assertEqual(call.end_at, start + timedelta(seconds=85))
        self.assertEqual(call.duration, 85)
        self.assertEqual(call.talk_duration, 80)
        self.assertEqual(call.recording_url, recording["payload"]["recording_urls"]["mp3"])
        self.assertTrue(call.lead_id)
        self.assertEqual(self._telnyx_inbox().mapped("state"), ["processed"] * 5)

    def test_out_of_order_and_missed(self):
        """The hangup before the answer still gives the talk time; a
        cancelled call is missed; other event types are acknowledged."""
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=3)
        _initiated, answered, hangup = self.sender.call("sess-2", CALLER, TRACKED, start, talk=30)
        for data in (hangup, answered):
            self.assertEqual(self._receive(data)[0], 200)
        call = self._telnyx_calls()
        self.assertEqual((call.status, call.talk_duration), ("answered", 30))
        missed = self.sender.call("sess-3", CALLER, TRACKED, start, cause="originator_cancel")
        for data in missed:
            self.assertEqual(self._receive(data)[0], 200)
        missed_call = self._telnyx_calls() - call
        self.assertEqual((missed_call.status, missed_call.talk_duration), ("missed", 0))
        bridged = self.sender.event("call.bridged", "sess-3", start)
        self.assertEqual(self._receive(bridged)[0], 200)
        self.assertEqual(len(self._telnyx_calls()), 2)

    def test_bad_signatures_are_refused_and_kept(self):
        """Another key, a tampered body, missing headers: 403, nothing but
        the rejected inbox entries."""
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        hangup = self.sender.call("sess-4", CALLER, TRACKED, start)[-1]
        forger = Ed25519PrivateKey.generate()
        status, _type, body = self._receive(hangup, key=forger)
        self.assertEqual(status, 403)
        self.assertIn("telnyx-signature-ed25519", json.loads(body)["error"])
        body, headers = self.sender.request(hangup)
        tampered = body.replace(b"normal_clearing", b"user_busy")
        request_data = self.sender.request_data(hangup, self.telnyx.webhook_token)
        request_data.update(body=tampered, headers=headers)
        self.assertEqual(receive_webhook(self.telnyx.sudo(), request_data)[0], 403)
        request_data = self.sender.request_data(hangup, self.telnyx.webhook_token)
        del request_data["headers"]["telnyx-timestamp"]
        self.assertEqual(receive_webhook(self.telnyx.sudo(), request_data)[0], 403)
        self.assertFalse(self._telnyx_calls())
        inbox = self._telnyx_inbox()
        self.assertEqual(inbox.mapped("state"), ["rejected"] * 3)
        self.assertTrue(all(inbox.mapped("error_message")))

    def test_old_or_future_timestamp_is_refused(self):
        """A request signed more than five minutes from its receipt is a
        replay: 403, kept as rejected; within five minutes it is accepted."""
        now = datetime.now(UTC)
        start = now.replace(tzinfo=None, microsecond=0) - timedelta(minutes=10)
        hangup = self.sender.call("sess-5", CALLER, TRACKED, start)[-1]
        for signed_at in (now - timedelta(minutes=6), now + timedelta(minutes=6)):
            status, _type, body = self._receive(hangup, signed_at=signed_at)
            self.assertEqual(status, 403, signed_at)
            self.assertIn("five minutes", json.loads(body)["error"])
        self.assertFalse(self._telnyx_calls())
        self.assertEqual(self._telnyx_inbox().mapped("state"), ["rejected"] * 2)
        self.assertEqual(self._receive(hangup, signed_at=now - timedelta(minutes=4))[0], 200)
        self.assertEqual(self._telnyx_calls().status, "answered")

    def test_reprocess_after_fixing_the_key(self):
        """An entry rejected for a wrong public key is verified again with
        the right one (its headers are kept), judged by its receipt time."""
        right_key = self.telnyx.telnyx_public_key
        self.telnyx.telnyx_public_key = TelnyxSender().public_key
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=2)
        hangup = self.sender.call("sess-6", CALLER, TRACKED, start)[-1]
        self.assertEqual(self._receive(hangup)[0], 403)
        entry = self._telnyx_inbox()
        self.assertEqual(entry.state, "rejected")
        self.assertIn("telnyx-signature-ed25519", entry.headers)
        self.telnyx.telnyx_public_key = right_key
        # later than five minutes after the signature: the receipt time counts
        entry.sudo().received_at = fields.Datetime.now()
        entry.action_reprocess()
        self.assertEqual(entry.state, "processed", entry.error_message)
        self.assertEqual(self._telnyx_calls().provider_call_id, "sess-6")

    def test_bad_payloads(self):
        """Bad JSON or shapes: 400 with a reason, the request kept."""
        request_data = self.sender.request_data({}, self.telnyx.webhook_token, body=b"not json")
        self.assertEqual(receive_webhook(self.telnyx.sudo(), request_data)[0], 400)
        for data in ({"event_type": "call.hangup", "payload": []}, [1, 2]):
            raw = json.dumps({"data": data})
            request_data = self.sender.request_data({}, self.telnyx.webhook_token, body=raw)
            self.assertEqual(receive_webhook(self.telnyx.sudo(), request_data)[0], 400)
        no_id = self.sender.event("call.hangup", "x", datetime.now(UTC))
        no_id["payload"].pop("call_session_id")
        no_id["payload"].pop("call_leg_id")
        self.assertEqual(self._receive(no_id)[0], 400)
        self.assertEqual(self._telnyx_inbox().mapped("state"), ["error"] * 4)

    def test_public_key_is_checked(self):
        with self.assertRaises(ValidationError):
            self.telnyx.telnyx_public_key = "not-a-key"
        self.telnyx.telnyx_public_key = False
        hangup = self.sender.event("call.hangup", "sess-7", datetime.now(UTC))
        status, _type, body = self._receive(hangup)
        self.assertEqual(status, 403)
        self.assertIn("public key", json.loads(body)["error"])

    def test_test_call(self):
        """The Test call button of a Telnyx number: a signed call.hangup
        through the real verification and processing, with its lead."""
        action = self.number.action_test_call()
        self.assertEqual(action["tag"], "display_notification")
        call = self.env["call.tracking.call"].search(
            [("is_test", "=", True), ("provider_id", "=", self.telnyx.id)]
        )
        self.assertEqual(len(call), 1)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.channel_id, self.channel_google)
        self.assertTrue(call.lead_id)
        self.assertEqual(self._telnyx_inbox().state, "processed")
        # without the account's public key there is no test call
        self.telnyx.telnyx_public_key = False
        with self.assertRaisesRegex(UserError, "public key"):
            self.number.action_test_call()

    def test_test_key_only_from_the_test_call(self):
        """The test call's own key is a key object: a stored or received
        request carrying anything else under that name is verified with the
        account's key."""
        forger = Ed25519PrivateKey.generate()
        hangup = self.sender.event("call.hangup", "sess-8", datetime.now(UTC))
        request_data = self.sender.request_data(hangup, self.telnyx.webhook_token, key=forger)
        request_data["telnyx_test_public_key"] = TelnyxSender().public_key  # a string
        self.assertEqual(receive_webhook(self.telnyx.sudo(), request_data)[0], 403)


@tagged("post_install", "-at_install")
class TestTelnyxApi(TelnyxWorld, CallTrackingCommon):
    """Reconciliation and recordings against Telnyx's API on loopback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = TelnyxApiStandIn(api_key=API_KEY)
        cls.addClassCleanup(cls.api.stop)
        cls.telnyx.telnyx_api_url = cls.api.api_url
        cls.env["ir.config_parameter"].sudo().set_param(
            outbound.ALLOWED_NETWORKS_PARAM, "127.0.0.0/8"
        )

    def setUp(self):
        super().setUp()
        self.api.events = []
        self.api.requests.clear()
        self.api.fail_next.clear()

    def _process(self, events):
        return (
            self.env["call.tracking.call"]
            .sudo()
            ._process_webhook_events(self.telnyx.sudo(), events)
        )

    def test_reconcile_fetch_pages_and_window(self):
        """Every call of the window, page after page, in the events the
        webhooks give; the calls it gives make each call once, with its lead."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        sender = TelnyxSender()
        for index in range(120):  # 3 events a call: 4 pages of 100
            caller = f"+3805011{index:05d}"
            sender.call(f"hist-{index:03d}", caller, TRACKED, now - timedelta(minutes=300 - index))
        old = sender.call("too-old", CALLER, TRACKED, now - timedelta(hours=30))
        self.api.events = sender.sent
        since, until = now - timedelta(hours=6), now
        events = self.telnyx._reconcile_fetch(since, until)
        self.assertEqual(len(self.api.requests), 4)
        query = self.api.requests[0]["query"]
        self.assertEqual(query["filter[type]"], "webhook")
        self.assertEqual(query["filter[product]"], "call_control")
        self.assertEqual(self.api.requests[0]["headers"]["Authorization"], f"Bearer {API_KEY}")
        self.assertEqual(len(events), 360)
        self.assertNotIn(old[0]["payload"]["call_session_id"], {e["call_id"] for e in events})
        webhook_events = self.telnyx._telnyx_events(sender.sent[2])
        self.assertIn(webhook_events[0], events, "the same shape as the webhooks")
        self.assertEqual(webhook_events[0]["event"], "call_end")
        calls = self._process(events)
        self.assertEqual(len(calls), 120)
        self.assertEqual(set(calls.mapped("status")), {"answered"})
        self.assertEqual(set(calls.mapped("talk_duration")), {80})
        self.assertEqual(len(calls.lead_id), 120, "each call with its lead")
        # a second run changes nothing
        self.assertEqual(self._process(self.telnyx._reconcile_fetch(since, until)), calls)
        self.assertEqual(len(self._telnyx_calls()), 120)

    def test_reconcile_any_answer_shape(self):
        """A failing or malformed API answer raises OutboundError (the run
        is retried later); odd records are skipped, never fatal."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        since = now - timedelta(hours=1)
        for failure, retry in ((500, True), (429, True), (401, False), (b"<html>", True)):
            with self.subTest(failure=failure):
                self.api.fail_next.append(failure)
                with self.assertRaises(outbound.OutboundError) as caught:
                    self.telnyx._reconcile_fetch(since, now)
                self.assertEqual(caught.exception.retry, retry)
                self.assertNotIn(API_KEY, caught.exception.message)
        self.api.fail_next.append(b'{"data": {"not": "a list"}}')
        with self.assertRaises(outbound.OutboundError):
            self.telnyx._reconcile_fetch(since, now)
        good = self.sender.call("shape-ok", CALLER, TRACKED, now - timedelta(minutes=5))
        odd = [
            1,
            None,
            {"name": "call.hangup"},
            {"name": "call.hangup", "event_timestamp": "yesterday"},
            {"name": "call.hangup", "event_timestamp": good[-1]["occurred_at"], "metadata": 7},
            {
                "name": "call.hangup",
                "event_timestamp": good[-1]["occurred_at"],
                "metadata": {"payload": {"call_session_id": ["x"]}},
            },
        ]
        self.api.events = good
        page = self.api.page({})
        page["data"] = odd + page["data"]
        self.api.fail_next.append(json.dumps(page).encode())
        events = self.telnyx._reconcile_fetch(since, now)
        self.assertEqual({e["call_id"] for e in events}, {"shape-ok"})
        # without the API key: a clear error, no request
        self.telnyx.secret = False
        with self.assertRaisesRegex(outbound.OutboundError, "API key"):
            self.telnyx._reconcile_fetch(since, now)

    def test_fetch_recording(self):
        """The recording link of call.recording.saved is fetched as audio;
        once it has expired, the link the recordings API gives."""
        self.api.recordings["/recordings/sess-r.mp3"] = ("audio/mpeg", b"ID3fake-mp3")
        self.api.recordings["/recordings/sess-w.wav"] = ("binary/octet-stream", b"RIFFfake")
        call = self._process(
            [
                {"event": "call_end", "call_id": "sess-r", "from": CALLER, "to": TRACKED,
                 "status": "answered",
                 "recording_url": f"{self.api.url}/recordings/sess-r.mp3?X-Amz-Expires=600"},
            ]
        )  # fmt: skip
        self.assertEqual(self.telnyx._fetch_recording(call), (b"ID3fake-mp3", "audio/mpeg"))
        call.recording_url = f"{self.api.url}/recordings/sess-w.wav?sig=1"
        self.assertEqual(self.telnyx._fetch_recording(call), (b"RIFFfake", "audio/wav"))
        self.assertNotIn("Authorization", self.api.requests[-1]["headers"])
        # the link expired (403): the recording of the session, from the API
        call.recording_url = f"{self.api.url}/recordings/expired.mp3?sig=2"
        self.api.session_recordings["sess-r"] = "/recordings/sess-r.mp3"
        self.assertEqual(self.telnyx._fetch_recording(call), (b"ID3fake-mp3", "audio/mpeg"))
        listing = next(r for r in self.api.requests if r["path"] == "/v2/recordings")
        self.assertEqual(listing["query"]["filter[call_session_id]"], "sess-r")
        self.assertEqual(listing["headers"]["Authorization"], f"Bearer {API_KEY}")
        # no recording at Telnyx either: an OutboundError
        self.api.session_recordings.clear()
        with self.assertRaisesRegex(outbound.OutboundError, "no recording"):
            self.telnyx._fetch_recording(call)
        # without an API key, the expired link's error
        self.telnyx.secret = False
        with self.assertRaises(outbound.OutboundError) as caught:
            self.telnyx._fetch_recording(call)
        self.assertEqual(caught.exception.status, 403)


@tagged("post_install", "-at_install")
class TestWebhookTelnyxHttp(TelnyxWorld, CallTrackingHttpCommon):
    """Over HTTP: header names as a server receives them."""

    def test_signed_post(self):
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
        hangup = self.sender.call("sess-http", CALLER, TRACKED, start)[-1]
        body, headers = self.sender.request(hangup)
        url = self.base_url() + self._url(self.telnyx)
        response = self.opener.post(url, data=body, headers=headers, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self._calls(self.telnyx).status, "answered")
        body, headers = self.sender.request(
            hangup, signed_at=datetime.now(UTC) - timedelta(hours=1)
        )
        response = self.opener.post(url, data=body, headers=headers, timeout=30)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._events(self.telnyx).mapped("state"), ["processed", "rejected"])
