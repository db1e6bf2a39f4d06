import json
import random
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import mute_logger, tagged

from odoo.addons.call_tracking.models.call_tracking_call_ingest import CallTrackingCall

from ..models.call_tracking_provider_generic import generic_signature
from ..models.call_tracking_webhook_event import MAX_BODY_BYTES, REJECTED_BODY_BYTES
from .common import CALLER, SECRET, TRACKED, CallTrackingHttpCommon, later, signed_headers


@tagged("post_install", "-at_install")
class TestWebhookGeneric(CallTrackingHttpCommon):
    def test_start_then_end_one_call_one_lead(self):
        session = self._create_session(
            later(self.call_time, minutes=-5), later(self.call_time, minutes=25)
        )
        response = self._post_json(self._event("call_start"))
        self.assertEqual(response.status_code, 200, response.text)
        response = self._post_json(self._event("call_end"))
        self.assertEqual(response.status_code, 200, response.text)
        call = self._calls()
        self.assertEqual(len(call), 1)
        self.assertRecordValues(
            call,
            [
                {
                    "caller_number": CALLER,
                    "called_number": TRACKED,
                    "status": "answered",
                    "duration": 95,
                    "talk_duration": 80,
                    "session_id": session.id,
                    "attribution_method": "session",
                    "attribution_confidence": "high",
                    "channel_id": self.channel_ads.id,
                    "utm_term": "plumber kyiv",
                    "is_first_call": True,
                    "is_repeat": False,
                }
            ],
        )
        self.assertEqual(call.source_id.name.lower(), "google")
        self.assertEqual(call.campaign_id.name, "spring_sale_ct")
        lead = call.lead_id
        self.assertTrue(lead)
        self.assertEqual(self.env["crm.lead"].search_count([("call_ids", "in", call.ids)]), 1)
        self.assertEqual(lead.source_id, call.source_id)
        self.assertEqual(lead.medium_id, call.medium_id)
        self.assertEqual(lead.campaign_id, call.campaign_id)
        self.assertEqual(lead.visitor_ids, self.visitor)
        self.assertEqual(lead.tracking_channel_id, self.channel_ads)
        self.assertEqual(lead.user_id, self.salesman)
        self.assertEqual(lead.team_id, self.team)
        self.assertIn(CALLER, lead.name)
        self.assertIn(self.channel_ads.name, lead.name)
        self.assertIn("plumber kyiv", lead.description)
        self.assertEqual(self._events().mapped("state"), ["processed", "processed"])
        self.assertEqual(self._events().call_id, call)

    def test_end_alone_and_replay(self):
        payload = self._event("call_end", recording_url="https://rec.example/1.mp3")
        for _attempt in range(3):
            self.assertEqual(self._post_json(payload).status_code, 200)
        call = self._calls()
        self.assertEqual(len(call), 1)
        self.assertEqual(len(call.lead_id), 1)
        self.assertEqual(call.status, "answered")
        # the chatter message is posted once, with a link to the recording
        # in Odoo (the call's form and its player): the provider's own link
        # expires or needs the account's credentials
        recording_link = f'href="/odoo/action-call_tracking.call_tracking_call_action/{call.id}"'
        messages = call.lead_id.message_ids.filtered(lambda m: recording_link in (m.body or ""))
        self.assertEqual(len(messages), 1)
        self.assertNotIn("rec.example", messages.body)
        self.assertEqual(call.recording_state, "pending")
        self.assertEqual(len(self._events()), 3, "every delivery is kept in the inbox")

    def test_end_before_start_end_wins(self):
        self._post_json(self._event("call_end", status="missed", duration=30, talk_duration=0))
        self._post_json(self._event("call_start"))
        call = self._calls()
        self.assertEqual(len(call), 1)
        self.assertEqual(call.status, "missed")
        self.assertEqual(call.duration, 30)
        self.assertEqual(len(call.lead_id), 1)
        # a missed call asks the salesperson to call back
        activity = call.lead_id.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertIn("(Missed)", str(activity.note), "the status label, not its key")

    def test_bad_signature_rejected_nothing_written(self):
        payload = self._event("call_end")
        body = json.dumps(payload).encode()
        tampered = body.replace(b"95", b"96")
        response = self._post_json(None, raw=tampered, signature=generic_signature(SECRET, body))
        self.assertEqual(response.status_code, 403)
        response = self._post_json(payload, secret="wrong secret")
        self.assertEqual(response.status_code, 403)
        response = self._post_json(payload, secret=None)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self._calls())
        self.assertFalse(self.env["crm.lead"].search([("phone", "=", CALLER)]))
        events = self._events()
        self.assertEqual(events.mapped("state"), ["rejected"] * 3)
        self.assertFalse(events.call_id)

    def test_signature_vector(self):
        # openssl dgst -sha256 -hmac test-secret-1234 of the exact body bytes
        body = b'{"event": "call_end", "call_id": "abc-123"}'
        self.assertEqual(
            generic_signature(SECRET, body),
            "sha256=41f94a83766c83a527bb07c093767dc9fca780a0187ac6cae606a23d0e4e3054",
        )

    def test_unknown_token_404(self):
        response = self._post_json(self._event(), token="nope-" + "x" * 40)
        self.assertEqual(response.status_code, 404)
        self.provider.active = False
        response = self._post_json(self._event())
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.env["call.tracking.webhook.event"].search_count([]))

    def test_regenerated_token(self):
        old_token = self.provider.webhook_token
        self.provider.with_user(self.manager).action_regenerate_token()
        self.assertNotEqual(self.provider.webhook_token, old_token)
        self.assertEqual(self._post_json(self._event(), token=old_token).status_code, 404)
        self.assertEqual(self._post_json(self._event()).status_code, 200)

    def test_unreadable_body_400_raw_kept(self):
        raw = b"\xff\xfe not json {"
        response = self._post_json(None, raw=raw)
        self.assertEqual(response.status_code, 400)
        self.assertIn("error", response.json())
        event = self._events()
        self.assertEqual(event.state, "error")
        self.assertTrue(event.error_message)
        self.assertEqual(event._get_request_data()["body"], raw)
        self.assertFalse(self._calls())

    def test_unknown_number_still_logged(self):
        response = self._post_json(self._event(to="+380449999999"))
        self.assertEqual(response.status_code, 200)
        call = self._calls()
        self.assertEqual(call.attribution_method, "unknown")
        self.assertEqual(call.attribution_confidence, "none")
        self.assertFalse(call.channel_id)
        self.assertTrue(call.lead_id)

    def test_reprocess_error_entry(self):
        self._post_json(None, raw=b'{"event": "call_end"}')
        event = self._events()
        self.assertEqual(event.state, "error")
        event.with_user(self.manager).action_reprocess()
        self.assertEqual(event.state, "error", "still malformed")
        self.assertFalse(self._calls())

    def test_oversized_body_refused_unread(self):
        """A body announced larger than the route's limit is refused (413) by
        Odoo before it is read, so before the route runs: no inbox entry,
        no call."""
        raw = json.dumps(self._event(padding="x" * MAX_BODY_BYTES)).encode()
        response = self._post_json(None, raw=raw)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self._events())
        self.assertFalse(self._calls())
        # within the limit: read and processed as usual
        self.assertEqual(self._post_json(self._event(call_id="small")).status_code, 200)

    def test_oversized_body_without_content_type_refused_unread(self):
        """Without a Content-Type werkzeug parses no form, so its limit did
        not apply and a body of any size was read (the stress harness's
        fuzzing found it): refused (413) before it is read all the same."""
        raw = json.dumps(self._event(padding="x" * MAX_BODY_BYTES)).encode()
        for content_type in (None, ""):
            headers = {"X-Call-Tracking-Signature": generic_signature(SECRET, raw)}
            if content_type is not None:
                headers["Content-Type"] = content_type
            response = self.opener.post(
                self.base_url() + self._url(), data=raw, headers=headers, timeout=30
            )
            self.assertEqual(response.status_code, 413, content_type)
        self.assertFalse(self._events())
        self.assertFalse(self._calls())

    def test_only_post_is_read(self):
        """HEAD (routed as GET) and OPTIONS (which Odoo adds to every
        route) are not webhook deliveries: 405, nothing stored, even with
        a valid signature (the stress harness's fuzzing found them
        processed as POSTs)."""
        raw = json.dumps(self._event()).encode()
        headers = signed_headers(raw)
        for method in ("HEAD", "OPTIONS"):
            response = self.opener.request(
                method, self.base_url() + self._url(), data=raw, headers=headers, timeout=30
            )
            self.assertEqual(response.status_code, 405, method)
        self.assertFalse(self._events())
        self.assertFalse(self._calls())
        self.assertEqual(self._post_json(None, raw=raw).status_code, 200)

    def test_chunked_body_refused_unread(self):
        """A chunked body announces no length: refused (411) before anything
        is read, however large it would be."""

        def chunks():
            yield b'{"event": "call_end", "call_id": "chunked", "padding": "'
            for _chunk in range(MAX_BODY_BYTES // 1024 + 8):
                yield b"x" * 1024
            yield b'"}'

        response = self.opener.post(
            self.base_url() + self._url(),
            data=chunks(),
            headers={"Content-Type": "application/json", "X-Call-Tracking-Signature": "sha256=0"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 411)
        self.assertFalse(self._events())
        self.assertFalse(self._calls())

    def test_deeply_nested_json_400(self):
        """JSON nested deep enough to exhaust Python's recursion is a bad
        body (400), not a crash (500)."""
        raw = b"[" * 5000 + b"]" * 5000
        response = self._post_json(None, raw=raw)
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("nested", response.json()["error"])
        self.assertEqual(self._events().state, "error")

    def test_rejected_body_cut_to_a_few_kb(self):
        payload = self._event(padding="y" * (2 * REJECTED_BODY_BYTES))
        response = self._post_json(payload, secret="wrong secret")
        self.assertEqual(response.status_code, 403)
        event = self._events()
        self.assertEqual(event.state, "rejected")
        self.assertTrue(event.body_truncated)
        body = event._get_request_data()["body"]
        self.assertEqual(body, json.dumps(payload).encode()[:REJECTED_BODY_BYTES])
        # a cut body can neither be verified nor processed again
        event.with_user(self.manager).action_reprocess()
        self.assertEqual(event.state, "error")
        self.assertFalse(self._calls())

    def test_late_older_end_never_overwrites_a_newer_one(self):
        """Two ends of the same call delivered out of order: the one that
        ended last wins, whatever the order of delivery."""
        newer = self._event(duration=300, talk_duration=280, end="2026-11-22T10:20:00Z")
        older = self._event(
            duration=30, talk_duration=0, status="missed", end="2026-11-22T10:15:30Z"
        )
        for payload in (newer, older):
            self.assertEqual(self._post_json(payload).status_code, 200)
        call = self._calls()
        self.assertRecordValues(
            call, [{"status": "answered", "duration": 300, "talk_duration": 280}]
        )
        self.assertEqual(call.end_at, later(self.call_time, minutes=5))
        self.assertFalse(call.lead_id.activity_ids, "no call-back for a late, older end")
        # in order, the later end wins (end time from the start and duration)
        first = self._event(call_id="in-order", duration=30, talk_duration=0, status="missed")
        last = self._event(call_id="in-order", duration=90, talk_duration=70)
        for payload in (first, last):
            self.assertEqual(self._post_json(payload).status_code, 200)
        call = self._calls().filtered(lambda c: c.provider_call_id == "in-order")
        self.assertRecordValues(call, [{"status": "answered", "duration": 90}])

    def test_reprocess_managers_only(self):
        self._post_json(None, raw=b'{"event": "call_end"}')
        event = self._events()
        with self.assertRaises(AccessError):
            event.with_user(self.salesman).action_reprocess()
        self.assertEqual(event.state, "error")

    @mute_logger("odoo.addons.call_tracking.models.call_tracking_webhook_event")
    def test_500_answer_keeps_internals_in_the_inbox(self):
        """An unexpected failure answers 500 with a generic reason; the
        exception text stays in the inbox entry (and the log)."""
        with patch.object(
            CallTrackingCall,
            "_process_webhook_events",
            side_effect=RuntimeError("internal detail 42"),
        ):
            response = self._post_json(self._event())
        self.assertEqual(response.status_code, 500)
        self.assertNotIn("internal detail 42", response.text)
        self.assertEqual(response.json(), {"error": "Processing failed."})
        event = self._events()
        self.assertEqual(event.state, "error")
        self.assertIn("internal detail 42", event.error_message)
        self.assertFalse(self._calls())
        # reprocessing keeps the details too, and recovers once the cause is gone
        with patch.object(
            CallTrackingCall,
            "_process_webhook_events",
            side_effect=RuntimeError("internal detail 43"),
        ):
            event.with_user(self.manager).action_reprocess()
        self.assertIn("internal detail 43", event.error_message)
        event.with_user(self.manager).action_reprocess()
        self.assertEqual(event.state, "processed")
        self.assertTrue(self._calls())

    def test_fuzz_never_500_raw_kept(self):
        rng = random.Random(1234)
        bodies = [
            b"",
            b"null",
            b"[]",
            b'"call_end"',
            b"{}",
            b'{"event": "call_end"}',
            b'{"event": 1, "call_id": "x"}',
            b'{"event": "call_end", "call_id": ["x"]}',
            b'{"event": "call_end", "call_id": {"a": 1}}',
            b'{"event": "call_end", "call_id": "x", "duration": "long"}',
            b'{"event": "call_end", "call_id": "x", "duration": -5}',
            b'{"event": "call_end", "call_id": "x", "duration": 1e308}',
            b'{"event": "call_end", "call_id": "x", "duration": 99999999999999999999999}',
            b'{"event": "call_end", "call_id": "x", "duration": true}',
            b'{"event": "call_end", "call_id": "x", "start": "yesterday"}',
            b'{"event": "call_end", "call_id": "x", "start": "0001-01-01T00:00:00"}',
            b'{"event": "call_end", "call_id": "x", "start": "2026-13-45T99:00:00Z"}',
            b'{"event": "call_end", "call_id": "x", "start": 12345}',
            b'{"event": "call_end", "call_id": "x", "status": "exploded"}',
            b'{"event": "call_end", "call_id": "x", "recording_url": "javascript:alert(1)"}',
            b'{"event": "call_end", "call_id": "x", "from": {"nested": true}}',
            b'{"event": "call_end", "call_id": "' + b"x" * 5000 + b'"}',
            b'{"event": "call_end", "call_id": "x\\u0000y"}',
            b'{"event": "call_end", "call_id": "x", "from": "\\u0000"}',
            b'{"event": "call_end", "call_id": "NaN", "duration": NaN}',
            b"{" * 5000,
            b"[" * 50000,
        ]
        bodies += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(15)]
        for body in bodies:
            response = self._post_json(None, raw=body)
            # answered: a readable event (200) or a reason (400), never a crash
            self.assertIn(response.status_code, (200, 400), body[:80])
            if response.status_code == 400:
                self.assertTrue(response.json()["error"], body[:80])
        events = self._events()
        self.assertEqual(len(events), len(bodies), "every request is kept")
        self.assertFalse(events.filtered(lambda e: e.state == "received"))
        for event, body in zip(events, bodies, strict=True):
            self.assertEqual(event._get_request_data()["body"], body)
