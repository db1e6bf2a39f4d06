"""Binotel: form-encoded webhooks keyed by requestType, accepted from the
allow-list only, completed calls confirmed through Binotel's REST API (a
loopback stand-in following its documented format)."""

import json
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlencode

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from ..tools import binotel, outbound
from .common import (
    BILLBOARD,
    CALLER,
    TRACKED,
    CallTrackingCommon,
    CallTrackingHttpCommon,
    receive_webhook,
)
from .telephony_standin import AUDIO, BinotelApi, LoopbackMixin

API_KEY = "binotel-key-0123"
API_SECRET = "binotel-secret-4567"
UNKNOWN_NUMBER = "+12125550188"


class BinotelSetup(LoopbackMixin):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = BinotelApi(API_KEY, API_SECRET)
        cls.addClassCleanup(cls.api.stop)
        cls._allow_loopback(cls.env)
        cls.binotel = cls.env["call.tracking.provider"].create(
            {
                "name": "Binotel test",
                "kind": "binotel",
                "api_key": API_KEY,
                "secret": API_SECRET,
                "api_base_url": f"{cls.api.url}/api/4.0/",
                "team_id": cls.team.id,
                "reconcile_enabled": False,
            }
        )

    def setUp(self):
        super().setUp()
        self.api.reset()
        self.now = fields.Datetime.now().replace(microsecond=0)

    def _request(self, form, remote_addr="194.88.218.116", headers=None):
        return {
            "method": "POST",
            "url_base": "https://crm.example.com",
            "url_path": f"/call_tracking/webhook/{self.binotel.webhook_token}",
            "headers": {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            "body": urlencode(form).encode(),
            "form": list(form),
            "query": [],
            "remote_addr": remote_addr,
        }

    def _receive(self, form, **kw):
        return receive_webhook(self.binotel.sudo(), self._request(form, **kw))

    @staticmethod
    def _completed_form(details):
        """apiCallCompleted as Binotel posts it: PHP's nested names."""
        form = [("requestType", "apiCallCompleted")]
        for key, value in details.items():
            if isinstance(value, dict):
                form += [(f"callDetails[{key}][{k}]", str(v)) for k, v in value.items()]
            elif isinstance(value, list):
                continue
            else:
                form.append((f"callDetails[{key}]", str(value)))
        return form

    def _inbox(self):
        return self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", self.binotel.id)], order="id"
        )

    def _calls(self, provider=None):
        return self.env["call.tracking.call"].search([("provider_id", "=", self.binotel.id)])


@tagged("post_install", "-at_install")
class TestBinotelTools(CallTrackingCommon):
    def test_php_form(self):
        parsed = binotel.parse_php_form(
            [
                ("requestType", "apiCallCompleted"),
                ("callDetails[generalCallID]", "42"),
                ("callDetails[pbxNumberData][number]", "0441234567"),
                ("callDetails[historyData][0][waitsec]", "3"),
                ("list[]", "a"),
                ("list[]", "b"),
                ("bad[name", "kept flat"),
            ]
        )
        self.assertEqual(parsed["callDetails"]["generalCallID"], "42")
        self.assertEqual(parsed["callDetails"]["pbxNumberData"]["number"], "0441234567")
        self.assertEqual(parsed["callDetails"]["historyData"]["0"]["waitsec"], "3")
        self.assertEqual(parsed["list"], {"0": "a", "1": "b"})
        self.assertEqual(parsed["bad[name"], "kept flat")

    def test_allow_list(self):
        networks, invalid = binotel.parse_allow_list("194.88.218.116\n10.0.0.0/8, nonsense")
        self.assertEqual(invalid, ["nonsense"])
        self.assertTrue(binotel.address_allowed("194.88.218.116", networks))
        self.assertTrue(binotel.address_allowed("10.2.3.4", networks))
        self.assertTrue(binotel.address_allowed("::ffff:194.88.218.116", networks))
        self.assertFalse(binotel.address_allowed("194.88.218.115", networks))
        self.assertFalse(binotel.address_allowed("", networks))
        self.assertFalse(binotel.address_allowed("not an address", networks))

    def test_details_of_any_shape(self):
        """An API answer of any shape gives an event or None, never a crash."""
        for details in (
            None,
            [],
            "x",
            5,
            {},
            {"generalCallID": {"a": 1}},
            {
                "generalCallID": "1",
                "startTime": "99999999999999999999",
                "billsec": "-3",
                "callType": [1],
            },
        ):
            with self.subTest(details=details):
                event = binotel.details_to_event(details)
                self.assertTrue(event is None or event["call_id"])
        self.assertIsNone(binotel.details_to_event({"generalCallID": "9", "callType": "1"}))
        for payload in (
            None,
            [],
            {"status": "error", "message": "Wrong key"},
            {"status": "success", "callDetails": 5},
        ):
            with self.subTest(payload=payload), self.assertRaises(ValueError):
                binotel.api_call_details(payload)


@tagged("post_install", "-at_install")
class TestBinotelWebhook(BinotelSetup, CallTrackingCommon):
    def test_call_flow_confirmed_by_the_api(self):
        """receivedTheCall opens the call (its lead exists while it rings);
        the completed call takes the API's values, not the request's."""
        form = [
            ("requestType", "receivedTheCall"),
            ("generalCallID", "5001"),
            ("callType", "0"),
            ("companyID", "1"),
            ("externalNumber", CALLER),
            ("didNumber", TRACKED),
        ]
        status, content_type, body = self._receive(form)
        self.assertEqual((status, json.loads(body)), (200, {"status": "success"}), body)
        self.assertEqual(content_type, "application/json")
        call = self._calls()
        self.assertEqual(call.status, "in_progress")
        self.assertEqual(call.caller_number, CALLER)
        self.assertTrue(call.lead_id, "the lead exists while the call rings")
        self.assertEqual(self.api.requests, [], "an unfinished call needs no confirmation")
        self._receive([("requestType", "answeredTheCall"), ("generalCallID", "5001")])
        self.assertTrue(call.answer_at)

        self.api.calls.append(
            self.api.details(5001, self.now - timedelta(minutes=2), CALLER, TRACKED, billsec=80)
        )
        details = self.api.details(
            5001, self.now - timedelta(minutes=2), CALLER, TRACKED, billsec=999
        )
        status, _ct, body = self._receive(self._completed_form(details))
        self.assertEqual(status, 200, body)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.talk_duration, 80, "the API's billsec, not the request's")
        self.assertEqual(self._calls(), call, "one call")
        [confirm] = self.api.requests
        self.assertEqual(confirm["path"], "/api/4.0/stats/call-details.json")
        sent = json.loads(confirm["body"])
        self.assertEqual(sent["generalCallID"], ["5001"])
        self.assertEqual((sent["key"], sent["secret"]), (API_KEY, API_SECRET))
        self.assertEqual(self._inbox().mapped("state"), ["processed"] * 3)

    def test_hangup_confirmed_too(self):
        self.api.calls.append(
            self.api.details(5002, self.now, CALLER, TRACKED, billsec=0, disposition="NOANSWER")
        )
        form = [
            ("requestType", "hangupTheCall"),
            ("generalCallID", "5002"),
            ("billsec", "60"),
            ("disposition", "ANSWER"),
        ]
        status, _ct, body = self._receive(form)
        self.assertEqual(status, 200, body)
        self.assertEqual(self._calls().status, "missed", "the API's disposition")

    def test_call_unknown_to_the_api_rejected(self):
        """A completed call Binotel's API does not know: 403 with the
        reason, kept in the inbox, no call."""
        details = self.api.details(6001, self.now, CALLER, TRACKED)
        status, _ct, body = self._receive(self._completed_form(details))
        self.assertEqual(status, 403)
        self.assertIn("does not know", json.loads(body)["error"])
        entry = self._inbox()
        self.assertEqual(entry.state, "rejected")
        self.assertIn("6001", entry.error_message)
        self.assertIn("6001", entry.body)
        self.assertFalse(self._calls())

    def test_hangup_before_the_statistics_waits(self):
        """hangupTheCall may come before Binotel's statistics have the call:
        it waits for them (an hour at most), then is rejected."""
        form = [("requestType", "hangupTheCall"), ("generalCallID", "6003"), ("billsec", "5")]
        status, _ct, _body = self._receive(form)
        self.assertEqual(status, 200)
        entry = self._inbox()
        self.assertEqual(entry.state, "pending")
        self.assertIn("yet", entry.error_message)
        entry.sudo().received_at = self.now - timedelta(hours=2)
        self.env["call.tracking.webhook.event"]._cron_confirm_pending()
        self.assertEqual(entry.state, "rejected")
        self.assertFalse(self._calls())

    def test_other_caller_than_first_event_rejected(self):
        self._receive(
            [
                ("requestType", "receivedTheCall"),
                ("generalCallID", "6002"),
                ("callType", "0"),
                ("externalNumber", CALLER),
                ("didNumber", TRACKED),
            ]
        )
        self.api.calls.append(self.api.details(6002, self.now, "+380671234567", TRACKED))
        status, _ct, _body = self._receive(
            self._completed_form(self.api.details(6002, self.now, CALLER, TRACKED))
        )
        self.assertEqual(status, 403)
        self.assertEqual(self._inbox()[-1].state, "rejected")
        self.assertEqual(self._calls().status, "in_progress")
        # the same with another number called
        self.api.calls[0] = self.api.details(6002, self.now, CALLER, BILLBOARD)
        status, _ct, _body = self._receive(
            self._completed_form(self.api.details(6002, self.now, CALLER, TRACKED))
        )
        self.assertEqual(status, 403)
        self.assertIn("other numbers", self._inbox()[-1].error_message)
        # the API's numbers are those of the call: confirmed
        self.api.calls[0] = self.api.details(6002, self.now, CALLER, TRACKED)
        status, _ct, _body = self._receive(
            self._completed_form(self.api.details(6002, self.now, CALLER, TRACKED))
        )
        self.assertEqual(status, 200)
        self.assertEqual(self._calls().status, "answered")

    def test_api_down_pending_then_confirmed_by_the_cron(self):
        """The API cannot be reached: the call waits unconfirmed in the
        inbox (never dropped, never trusted), the cron confirms it later."""
        details = self.api.details(7001, self.now, CALLER, TRACKED, billsec=42)
        self.api.down = True
        status, _ct, _body = self._receive(self._completed_form(details))
        self.assertEqual(status, 200, "kept: Binotel need not send it again")
        entry = self._inbox()
        self.assertEqual(entry.state, "pending")
        self.assertEqual(entry.provider_call_id, "7001")
        self.assertIn("503", entry.error_message)
        self.assertFalse(self._calls(), "not trusted unconfirmed")
        Event = self.env["call.tracking.webhook.event"]
        Event._cron_confirm_pending()
        self.assertEqual(entry.state, "pending")
        self.assertEqual(entry.confirm_attempts, 2)
        self.api.down = False
        self.api.calls.append(details)
        Event._cron_confirm_pending()
        self.assertEqual(entry.state, "processed")
        call = self._calls()
        self.assertEqual(call.talk_duration, 42)
        self.assertTrue(call.lead_id)
        self.assertEqual(entry.call_id, call)

    def test_wrong_credentials_pending(self):
        """Refused credentials (the API answers an error): the call waits,
        with the API's message, until the key is fixed."""
        self.binotel.api_key = "wrong"
        self.api.calls.append(self.api.details(7002, self.now, CALLER, TRACKED))
        self._receive(self._completed_form(self.api.calls[0]))
        entry = self._inbox()
        self.assertEqual(entry.state, "pending")
        self.assertIn("Wrong key", entry.error_message)
        self.assertNotIn(API_SECRET, entry.error_message)
        self.binotel.api_key = API_KEY
        self.env["call.tracking.webhook.event"]._cron_confirm_pending()
        self.assertEqual(entry.state, "processed")

    def test_outside_allow_list_403_kept(self):
        details = self.api.details(8001, self.now, CALLER, TRACKED)
        self.api.calls.append(details)
        status, _ct, body = self._receive(self._completed_form(details), remote_addr="203.0.113.9")
        self.assertEqual(status, 403)
        self.assertIn("203.0.113.9", json.loads(body)["error"])
        entry = self._inbox()
        self.assertEqual(entry.state, "rejected")
        self.assertEqual(entry.remote_addr, "203.0.113.9")
        self.assertFalse(self._calls())
        self.assertEqual(self.api.requests, [], "the API is not even asked")
        # the administrator adds the address: reprocessing recovers the entry
        self.binotel.binotel_allowed_ips += "\n203.0.113.0/24"
        entry.action_reprocess()
        self.assertEqual(entry.state, "processed")
        self.assertTrue(self._calls())

    def test_outgoing_and_unknown_types(self):
        status, _ct, _body = self._receive(
            [
                ("requestType", "receivedTheCall"),
                ("generalCallID", "9"),
                ("callType", "1"),
                ("externalNumber", CALLER),
            ]
        )
        self.assertEqual(status, 200)
        self.assertFalse(self._calls(), "outgoing calls are not tracked")
        status, _ct, _body = self._receive(
            [("requestType", "answeredTheCall"), ("generalCallID", "9")]
        )
        self.assertEqual(status, 200)
        self.assertFalse(self._calls(), "an answer opens no call")
        status, _ct, body = self._receive([("requestType", "somethingElse")])
        self.assertEqual(status, 400)
        self.assertIn("requestType", json.loads(body)["error"])
        self.assertEqual(self._inbox()[-1].state, "error")

    def test_call_tracking_data_is_a_hint(self):
        """Binotel's callTrackingData credits a call none of our sessions or
        channels matched (attribution method: the provider's), and never
        overrides ours."""
        hint = {
            "utm_source": "binotel_google",
            "utm_medium": "cpc",
            "utm_campaign": "winter",
            "gaClientId": "111.222",
        }
        unknown = self.api.details(9101, self.now, CALLER, UNKNOWN_NUMBER, callTrackingData=hint)
        ours = self.api.details(9102, self.now, "+380671112233", BILLBOARD, callTrackingData=hint)
        self.api.calls += [unknown, ours]
        self._receive(
            self._completed_form(unknown)
            + [(f"callDetails[callTrackingData][{k}]", v) for k, v in hint.items()]
        )
        self._receive(self._completed_form(ours))
        calls = self._calls()
        hinted = calls.filtered(lambda c: c.provider_call_id == "9101")
        self.assertEqual(hinted.attribution_method, "provider")
        self.assertEqual(hinted.source_id.name, "binotel_google")
        self.assertEqual(hinted.campaign_id.name, "winter")
        self.assertEqual(hinted.lead_id.source_id.name, "binotel_google")
        self.assertEqual(json.loads(hinted.provider_tracking_data)["gaClientId"], "111.222")
        static = calls.filtered(lambda c: c.provider_call_id == "9102")
        self.assertEqual(static.attribution_method, "static")
        self.assertEqual(static.channel_id, self.channel_billboard)
        self.assertEqual(static.source_id, self.source_billboard, "our attribution kept")
        self.assertTrue(static.provider_tracking_data, "the hint is kept all the same")

    def test_recording_through_the_temporary_link(self):
        self.api.calls.append(self.api.details(9201, self.now, CALLER, TRACKED))
        self._receive(self._completed_form(self.api.calls[0]))
        call = self._calls()
        content, content_type = self.binotel.sudo()._fetch_recording(call)
        self.assertEqual((content, content_type), (AUDIO, "audio/mpeg"))
        self.assertEqual(
            [r["path"] for r in self.api.requests][-2:],
            ["/api/4.0/stats/call-record.json", "/rec/9201.mp3"],
        )

    def test_recording_failures_are_outbound_errors(self):
        """No record, an answer of another shape, a down API: each an
        OutboundError for the recordings' retries, never another crash."""
        self.api.calls.append(self.api.details(9202, self.now, CALLER, TRACKED))
        self._receive(self._completed_form(self.api.calls[0]))
        call = self._calls()
        call.sudo().provider_call_id = "9203"  # a call Binotel has no record of
        for override in (None, (200, b"[1, 2]"), (200, b"not json"), (503, b"down")):
            with self.subTest(override=override):
                self.api.override = override
                with self.assertRaises(outbound.OutboundError) as ctx:
                    self.binotel.sudo()._fetch_recording(call)
                self.assertNotIn(API_SECRET, ctx.exception.message)

    def test_test_call(self):
        """The Test call button for a Binotel provider: its request goes
        through the allow-list and the processing, with a lead."""
        number = self.env["call.tracking.number"].create(
            {"number": "+12125550177", "provider_id": self.binotel.id}
        )
        action = self.binotel.action_test_call()
        self.assertEqual(action["tag"], "display_notification")
        call = self._calls()
        self.assertTrue(call.is_test)
        self.assertEqual(call.number_id, number)
        self.assertEqual(call.status, "answered")
        self.assertTrue(call.lead_id)
        self.assertEqual(self._inbox().state, "processed")


@tagged("post_install", "-at_install")
class TestBinotelHttp(BinotelSetup, CallTrackingHttpCommon):
    """Over real HTTP: the address is the one Odoo sees, X-Forwarded-For
    only behind a proxy in proxy_mode."""

    def _post(self, form, headers=None):
        return self.opener.post(
            self.base_url() + self._url(self.binotel),
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            timeout=30,
        )

    def test_allow_list_and_proxy_mode(self):
        form = [
            ("requestType", "receivedTheCall"),
            ("generalCallID", "10001"),
            ("callType", "0"),
            ("externalNumber", CALLER),
            ("didNumber", TRACKED),
        ]
        # from 127.0.0.1, not one of Binotel's servers
        response = self._post(form)
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(self._inbox().state, "rejected")
        forwarded = {
            "X-Forwarded-For": "194.88.218.116",
            "X-Forwarded-Host": "crm.example.com",
            "X-Forwarded-Proto": "https",
        }
        # without proxy_mode the forwarded address is not trusted
        response = self._post(form, forwarded)
        self.assertEqual(response.status_code, 403)
        with patch.dict(config.options, {"proxy_mode": True}):
            response = self._post(form, forwarded)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"status": "success"})
        self.assertEqual(self._inbox()[-1].remote_addr, "194.88.218.116")
        self.assertEqual(len(self._calls()), 1)
