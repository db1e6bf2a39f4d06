import base64
import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import _super_send

from odoo.addons.call_tracking.models import call_tracking_destination
from odoo.addons.call_tracking.tools import conversions as tools
from odoo.addons.call_tracking.tools.outbound import ALLOWED_NETWORKS_PARAM
from odoo.addons.call_tracking.tools.platform_versions import META_VERSION

from .common import CALLER, TRACKED, CallTrackingCommon, CallTrackingHttpCommon
from .conversion_standin import StandIn

GA4_SECRET = "ga4-secret-xyz"
META_TOKEN = "EAAB" + "x" * 40
YANDEX_TOKEN = "y0_AgAAAAtoken123456"
ADS_PASSWORD = "a-long-password-1"


class LoopbackMixin:
    """Requests to the loopback stand-ins go out as sent (Odoo's test
    runner would stretch short timeouts to 10 seconds)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)


class ConversionCase(LoopbackMixin, CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = StandIn()
        cls.addClassCleanup(cls.standin.stop)
        # the outbound guard lets the server reach the loopback stand-in
        cls.env["ir.config_parameter"].set_param(ALLOWED_NETWORKS_PARAM, "127.0.0.0/8")
        # the demo destination (if any) stays out of these tests
        cls.env["call.tracking.destination"].search([]).active = False

    def setUp(self):
        super().setUp()
        self.standin.requests.clear()
        self.standin.answers.clear()
        self.now = fields.Datetime.now().replace(microsecond=0)

    def _destination(self, kind, **vals):
        defaults = {
            "ga4": {
                "account_ref": "G-TEST1234",
                "secret_input": GA4_SECRET,
                "endpoint_url": f"{self.standin.url}/mp/collect",
            },
            "meta": {
                "account_ref": "1234567890",
                "secret_input": META_TOKEN,
                "endpoint_url": f"{self.standin.url}/{META_VERSION}",
            },
            "yandex_metrica": {
                "account_ref": "4455667",
                "secret_input": YANDEX_TOKEN,
                "endpoint_url": self.standin.url,
            },
            "google_ads": {"account_ref": "google", "secret_input": ADS_PASSWORD},
        }[kind]
        return self.env["call.tracking.destination"].create(
            {"name": f"{kind} test", "kind": kind, "conversion_name": "phone_call"}
            | defaults
            | vals
        )

    def _call(self, minutes_ago=60, call_id="conv-1", status="answered", talk=80, **session):
        """A call from CALLER to the tracked number ``minutes_ago``, during
        a Google Ads visit with ``session`` values."""
        start = self.now - timedelta(minutes=minutes_ago)
        self._create_session(
            start - timedelta(minutes=10),
            start + timedelta(minutes=20),
            visitor_key=f"vk-{call_id}",
            **session,
        )
        values = {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": status}
        values["talk_duration"] = talk
        values["duration"] = talk + 15
        return self._process(self._event(call_id=call_id, **values))

    def _send(self):
        self.env["call.tracking.conversion"]._cron_send()
        self.env.invalidate_all()

    def _due_now(self, conversions):
        conversions.write({"next_try_at": fields.Datetime.now() - timedelta(seconds=1)})


@tagged("post_install", "-at_install")
class TestConversionFormats(ConversionCase):
    def test_cookie_and_id_parsing(self):
        self.assertEqual(tools.parse_ga_client_id("GA1.1.111.222"), "111.222")
        self.assertEqual(tools.parse_ga_client_id("GA1.2.3"), "")
        self.assertEqual(
            tools.parse_ga_session_id("GS1.1.1700000000.3.1.1700000100.0.0.0"), "1700000000"
        )
        self.assertEqual(
            tools.parse_ga_session_id("GS2.1.s1712345678$o3$g1$t1712345700"), "1712345678"
        )
        self.assertEqual(tools.parse_ga_session_id("garbage"), "")
        click = datetime(2026, 11, 30, 12, 0, 0)
        self.assertEqual(tools.meta_fbc("", "IwAR0Abc", click), "fb.1.1796040000000.IwAR0Abc")
        self.assertEqual(tools.meta_fbc("fb.1.1.kept", "IwAR0Abc", click), "fb.1.1.kept")
        self.assertEqual(
            tools.meta_phone_hash("+380 50 111-22-33"),
            hashlib.sha256(b"380501112233").hexdigest(),
        )
        self.assertEqual(tools.ga4_name("Phone call: answered!"), "Phone_call__answered_")
        self.assertEqual(len(tools.ga4_name("x" * 80)), 40)
        params = tools.ga4_params({f"p{i}": "v" * 150 for i in range(30)})
        self.assertEqual(len(params), 25)
        self.assertEqual({len(v) for v in params.values()}, {100})

    def test_google_ads_csv_template(self):
        when = datetime(2026, 11, 30, 10, 5, 9, tzinfo=UTC)
        text = tools.google_ads_csv("UTC", [("gclid-1", "Calls", when, 12.5, "EUR")])
        lines = text.splitlines()
        self.assertEqual(lines[0], "Parameters:TimeZone=UTC")
        self.assertEqual(
            lines[1],
            "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency",
        )
        self.assertEqual(lines[2], "gclid-1,Calls,2026-11-30 10:05:09,12.50,EUR")


@tagged("post_install", "-at_install")
class TestConversionOutbox(ConversionCase):
    def test_session_keeps_the_platform_ids(self):
        """The number request's optional keys and the landing page's click
        ids reach the session; a later page view fills a cookie set late."""
        answer = self.assign(
            "https://shop.example.com/?utm_source=google&utm_medium=cpc&gbraid=GB1&wbraid=WB1",
            ga_client_id="111.222",
            visit_ids={"ga_session_id": "1712345678", "fbp": "fb.1.1.2"},
        )
        session = self.sessions(answer["visitor"])
        self.assertEqual(
            (session.gbraid, session.wbraid, session.ga_session_id, session.fbp, session.ym_uid),
            ("GB1", "WB1", "1712345678", "fb.1.1.2", False),
        )
        self.assign(
            "https://shop.example.com/contactus",
            key=answer["visitor"],
            visit_ids={"ym_uid": "170000000012345", "fbp": "fb.1.1.2"},
        )
        self.env.invalidate_all()
        self.assertEqual(len(self.sessions(answer["visitor"])), 1, "the same session")
        self.assertEqual(session.ym_uid, "170000000012345")

    def test_ga4_event_and_request(self):
        destination = self._destination(
            "ga4", trigger="answered", min_talk_seconds=30, consent_ad_user_data="granted"
        )
        call = self._call(ga_client_id="111.222", ga_session_id="1712345678")
        conversion = call.sudo().conversion_ids
        self.assertEqual((conversion.state, conversion.trigger), ("pending", "answered"))
        self._send()
        self.assertEqual(conversion.state, "sent", conversion.answer)
        [request] = self.standin.requests
        self.assertEqual(request["path"], "/mp/collect")
        self.assertEqual(request["query"]["measurement_id"], ["G-TEST1234"])
        self.assertEqual(request["query"]["api_secret"], [GA4_SECRET])
        body = StandIn.json_of(request)
        self.assertEqual(body["client_id"], "111.222")
        self.assertEqual(body["timestamp_micros"], tools.unix_micros(call.start_at))
        self.assertEqual(body["consent"], {"ad_user_data": "GRANTED"})
        [event] = body["events"]
        self.assertEqual(event["name"], "phone_call")
        params = event["params"]
        self.assertEqual(params["session_id"], 1712345678)
        self.assertEqual(params["engagement_time_msec"], 80000)
        self.assertEqual((params["source"], params["medium"]), ("google", "cpc"))
        self.assertLessEqual(len(params), 25)
        # the same call again never makes a second conversion
        self._process(self._event(call_id="conv-1", status="answered"))
        self.assertEqual(len(call.sudo().conversion_ids), 1)
        # too short for the trigger: nothing
        short = self._call(minutes_ago=5, call_id="conv-2", talk=10, ga_client_id="1.2")
        self.assertFalse(short.sudo().conversion_ids)
        self.assertTrue(destination.conversion_count)

    def test_skipped_with_reason(self):
        self._destination("ga4")
        self._destination("meta")
        self._destination("yandex_metrica")
        self._destination("google_ads")
        call = self._call()  # a Google visit without any cookie or click id
        reasons = {c.kind: c.skip_reason for c in call.sudo().conversion_ids}
        self.assertEqual(set(reasons), {"ga4", "meta", "yandex_metrica", "google_ads"})
        self.assertIn("_ga", reasons["ga4"])
        self.assertIn("fbclid", reasons["meta"])
        self.assertIn("yclid", reasons["yandex_metrica"])
        self.assertIn("gclid", reasons["google_ads"])
        self.assertEqual(set(call.sudo().conversion_ids.mapped("state")), {"skipped"})
        # older than GA4's 72 hours
        old = self._call(minutes_ago=4 * 24 * 60, call_id="old", ga_client_id="1.2")
        self.assertIn(
            "(limit: 72 h)",
            old.sudo().conversion_ids.filtered(lambda c: c.kind == "ga4").skip_reason,
        )
        self._send()
        self.assertFalse(self.standin.requests, "skipped conversions are never sent")

    def test_spam_and_test_calls_send_nothing(self):
        destination = self._destination("ga4")
        call = self._call(ga_client_id="1.2")
        self.assertEqual(len(call.sudo().conversion_ids), 1, "an attributed call is queued")
        self.assertTrue(destination._trigger_matches(call))
        call.sudo().is_test = True
        self.assertFalse(destination._trigger_matches(call), "a test call reaches no platform")
        self.env["call.tracking.blocked.number"].create({"number": CALLER})
        spam = self._call(minutes_ago=200, call_id="conv-spam", ga_client_id="1.3")
        self.assertTrue(spam.is_spam)
        self.assertFalse(spam.sudo().conversion_ids, "a spam call reaches no platform")

    def test_meta_event_on_won_lead(self):
        self._destination("meta", trigger="won", conversion_name="Purchase")
        call = self._call(fbclid="IwAR0Abc", fbp="fb.1.1700000000000.99")
        lead = call.lead_id
        self.assertTrue(lead)
        lead.expected_revenue = 1500
        lead.action_set_won()
        conversion = call.sudo().conversion_ids
        self.assertEqual((conversion.trigger, conversion.value), ("won", 1500))
        self.assertEqual(conversion.lead_id, lead)
        self._send()
        self.assertEqual(conversion.state, "sent", conversion.answer)
        [request] = self.standin.requests
        self.assertEqual(request["path"], f"/{META_VERSION}/1234567890/events")
        body = StandIn.json_of(request)
        self.assertEqual(body["access_token"], META_TOKEN)
        [event] = body["data"]
        self.assertEqual(event["action_source"], "phone_call")
        self.assertEqual(event["event_name"], "Purchase")
        self.assertEqual(event["event_id"], conversion.event_id)
        self.assertEqual(event["event_time"], tools.unix_seconds(conversion.event_time))
        digits = CALLER.lstrip("+").encode()
        self.assertEqual(event["user_data"]["ph"], [hashlib.sha256(digits).hexdigest()])
        session = call.session_id
        ms = int(session.assigned_at.replace(tzinfo=UTC).timestamp()) * 1000
        self.assertEqual(event["user_data"]["fbc"], f"fb.1.{ms}.IwAR0Abc")
        self.assertEqual(event["user_data"]["fbp"], "fb.1.1700000000000.99")
        self.assertEqual(
            event["custom_data"], {"value": 1500.0, "currency": self.company.currency_id.name}
        )

    def test_yandex_upload_and_status(self):
        destination = self._destination("yandex_metrica", default_value=10)
        call = self._call(ym_uid="170000000012345")
        conversion = call.sudo().conversion_ids
        self.standin.answer((200, '{"uploading": {"id": 77, "status": "UPLOADED"}}'))
        self._send()
        self.assertEqual(
            (conversion.state, conversion.upload_ref, conversion.platform_status),
            ("sent", "77", "UPLOADED"),
        )
        [upload] = self.standin.requests
        self.assertEqual(
            upload["path"], "/management/v1/counter/4455667/offline_conversions/upload_calls"
        )
        self.assertEqual(upload["headers"]["Authorization"], f"OAuth {YANDEX_TOKEN}")
        self.assertEqual(upload["query"]["new_goal_name"], ["phone_call"])
        parts = StandIn.multipart(upload)
        filename, _ctype, content = parts["file"]
        self.assertEqual(filename, "calls.csv")
        rows = list(csv.reader(io.StringIO(content.decode())))
        self.assertEqual(
            rows[0],
            ["ClientId", "DateTime", "StaticCall", "PhoneNumber", "TalkDuration", "HoldDuration",
             "CallMissed", "FirstTimeCaller", "Tag", "URL", "Price", "Currency"],
        )  # fmt: skip
        line = dict(zip(rows[0], rows[1], strict=True))
        self.assertEqual(line["ClientId"], "170000000012345")
        self.assertEqual(int(line["DateTime"]), tools.unix_seconds(call.start_at))
        self.assertEqual((line["TalkDuration"], line["HoldDuration"]), ("80", "15"))
        self.assertEqual((line["CallMissed"], line["StaticCall"]), ("0", "0"))
        self.assertEqual(line["PhoneNumber"], CALLER)
        self.assertEqual((line["Price"], line["Currency"]), ("10.0", destination.currency_id.name))
        # polled until Metrica reports it processed
        self.standin.answer(
            (200, '{"uploading": {"id": 77, "status": "UPLOADED"}}'),
            (200, '{"uploading": {"id": 77, "status": "PROCESSED"}}'),
        )
        self._due_now(conversion)
        self._send()
        self.assertTrue(conversion.next_try_at, "still processing: polled again")
        self._due_now(conversion)
        self._send()
        self.assertEqual(
            self.standin.requests[-1]["path"],
            "/management/v1/counter/4455667/offline_conversions/calls_uploading/77",
        )
        self.assertEqual((conversion.platform_status, conversion.next_try_at), ("PROCESSED", False))
        self.assertEqual(conversion.state, "sent")

    def test_platform_failures_lose_nothing(self):
        self._destination("ga4")
        calls = self._call(minutes_ago=120, call_id="f1", ga_client_id="1.1") | self._call(
            minutes_ago=60, call_id="f2", ga_client_id="2.2"
        )
        conversions = calls.sudo().conversion_ids
        self.assertEqual(len(conversions), 2)
        # 503 on the first: the batch stops, both wait for a retry
        self.standin.answer((503, "busy"))
        self._send()
        self.assertEqual(set(conversions.mapped("state")), {"failed"})
        self.assertEqual(set(conversions.mapped("attempts")), {1})
        self.assertIn("HTTP 503", conversions[0].answer)
        self.assertTrue(all(c.next_try_at > fields.Datetime.now() for c in conversions))
        self._send()
        self.assertEqual(len(self.standin.requests), 1, "not due yet: back-off")
        # a slow platform: timeout, retried later
        self._due_now(conversions)
        self.standin.answer((200, "{}", 2))
        with patch.object(call_tracking_destination, "REQUEST_TIMEOUT", 0.5):
            self._send()
        self.assertIn("timeout", conversions[0].answer)
        self.assertEqual(set(conversions.mapped("attempts")), {2})
        self.assertGreater(
            min(conversions.mapped("next_try_at")) - fields.Datetime.now(), timedelta(seconds=90)
        )
        # a 4xx for one, a 200 for the other: no automatic retry for the 4xx
        self._due_now(conversions)
        self.standin.answer((400, '{"error": "bad"}'), (200, "not json at all"))
        self._send()
        by_state = {c.state: c for c in conversions}
        self.assertEqual(set(by_state), {"failed", "sent"})
        self.assertFalse(by_state["failed"].next_try_at)
        self.assertIn("bad", by_state["failed"].answer)
        # retry button: sent with the next run
        by_state["failed"].action_retry()
        self._send()
        self.assertEqual(set(conversions.mapped("state")), {"sent"})
        # skip button
        other = self._call(minutes_ago=10, call_id="f3", ga_client_id="3.3").sudo().conversion_ids
        other.action_skip()
        self.assertEqual(other.state, "skipped")
        self.assertIn("Skipped by", other.skip_reason)

    def test_bad_destination_input(self):
        with self.assertRaisesRegex(ValidationError, "Endpoint URL"):
            self._destination("ga4", endpoint_url="ftp://example.com/mp/collect")
        with self.assertRaisesRegex(ValidationError, "Measurement ID"):
            self._destination("ga4", account_ref="UA-1234")
        with self.assertRaisesRegex(ValidationError, "API secret"):
            self._destination("ga4", secret_input=False)
        with self.assertRaisesRegex(ValidationError, "Pixel ID"):
            self._destination("meta", account_ref="pixel")
        with self.assertRaisesRegex(ValidationError, "Counter ID"):
            self._destination("yandex_metrica", account_ref="12ab")
        with self.assertRaisesRegex(ValidationError, "OAuth token"):
            self._destination("yandex_metrica", secret_input="has spaces in it, really")
        with self.assertRaisesRegex(ValidationError, "Password"):
            self._destination("google_ads", secret_input="short")
        destination = self._destination("ga4", ga4_region="eu", endpoint_url=False)
        self.assertEqual(
            destination.endpoint_url, "https://region1.google-analytics.com/mp/collect"
        )

    def test_send_test_event_uses_ga4_validation(self):
        destination = self._destination("ga4")
        self.standin.answer((200, '{"validationMessages": []}'))
        destination.action_send_test_event()
        [request] = self.standin.requests
        self.assertEqual(request["path"], "/debug/mp/collect")
        self.assertIn("validationMessages", destination.last_test_answer)
        self.standin.answer((403, "forbidden"))
        destination.action_send_test_event()
        self.assertIn("HTTP 403", destination.last_test_answer)

    def test_access_rights(self):
        destination = self._destination("ga4")
        with self.assertRaises(AccessError):
            destination.with_user(self.salesman).read(["name"])
        with self.assertRaises(AccessError):
            self.env["call.tracking.conversion"].with_user(self.salesman).search([])
        as_admin = destination.with_user(self.ct_admin)
        self.assertEqual(as_admin.name, destination.name)
        self.assertTrue(as_admin.has_secret)
        with self.assertRaises(AccessError):
            as_admin.read(["secret"])
        # a Call Tracking administrator replaces the secret without reading it
        as_admin.secret_input = "another-ga4-secret"
        self.assertEqual(destination.with_user(self.settings_admin).secret, "another-ga4-secret")


@tagged("post_install", "-at_install")
class TestConversionConcurrency(LoopbackMixin, CallTrackingCommon):
    """Two cron runs at once, in two transactions, never send a
    conversion twice: committed data, cleaned up afterwards."""

    def test_two_runs_at_once(self):
        standin = StandIn()
        self.addCleanup(standin.stop)
        registry = self.env.registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # the outbound guard lets the server reach the loopback stand-in
            env["ir.config_parameter"].set_param(ALLOWED_NETWORKS_PARAM, "127.0.0.0/8")
            company = env.ref("base.main_company")
            provider = env["call.tracking.provider"].create(
                {"name": "concurrency", "company_id": company.id}
            )
            destination = env["call.tracking.destination"].create(
                {
                    "name": "concurrency",
                    "kind": "ga4",
                    "company_id": company.id,
                    "account_ref": "G-CONC1234",
                    "secret_input": GA4_SECRET,
                    "endpoint_url": f"{standin.url}/mp/collect",
                }
            )
            now = fields.Datetime.now()
            calls = env["call.tracking.call"].create(
                [
                    {
                        "provider_id": provider.id,
                        "provider_call_id": f"conc-{i}",
                        "company_id": company.id,
                    }
                    for i in range(6)
                ]
            )
            env["call.tracking.conversion"].create(
                [
                    {
                        "call_id": call.id,
                        "destination_id": destination.id,
                        "company_id": company.id,
                        "trigger": "call",
                        "event_id": f"conc-{call.id}",
                        "payload": f'{{"client_id": "{call.id}.1", "events": []}}',
                        "next_try_at": now - timedelta(seconds=5),
                    }
                    for call in calls
                ]
            )
            ids = (provider.id, destination.id)

        def cleanup():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["ir.config_parameter"].set_param(ALLOWED_NETWORKS_PARAM, False)
                env["call.tracking.destination"].browse(ids[1]).unlink()
                env["call.tracking.call"].search([("provider_id", "=", ids[0])]).unlink()
                env["call.tracking.provider"].browse(ids[0]).unlink()

        self.addCleanup(cleanup)
        with registry.cursor() as cr_a, registry.cursor() as cr_b:
            # never wait for a lock: a run that would block fails instead
            for cr in (cr_a, cr_b):
                cr.execute("SET lock_timeout = '5s'")
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # run A has claimed its batch and is still sending it...
            claimed_a = env_a["call.tracking.conversion"]._claim_due(4)
            self.assertEqual(len(claimed_a), 4)
            # ...when run B starts: it takes only the rows A does not hold
            done_b = env_b["call.tracking.conversion"]._cron_send(batch_size=10)
            self.assertEqual(done_b, 2)
            cr_b.commit()
            for destination, batch in claimed_a.grouped("destination_id").items():
                env_a["call.tracking.conversion"]._send_batch(destination.sudo(), batch)
            cr_a.commit()
            # a third run finds nothing left
            self.assertFalse(env_b["call.tracking.conversion"]._claim_due(10))
        sent = [StandIn.json_of(r)["client_id"] for r in standin.requests]
        self.assertEqual(len(sent), 6, "six requests")
        self.assertEqual(len(set(sent)), 6, "each conversion sent once")
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            states = (
                env["call.tracking.conversion"]
                .search([("destination_id", "=", ids[1])])
                .mapped("state")
            )
        self.assertEqual(states, ["sent"] * 6)


@tagged("post_install", "-at_install")
class TestGoogleAdsCsvUrl(CallTrackingHttpCommon):
    def test_basic_credentials(self):
        self.env["call.tracking.destination"].search([]).active = False
        destination = self.env["call.tracking.destination"].create(
            {
                "name": "Google Ads",
                "kind": "google_ads",
                "account_ref": "google",
                "secret_input": ADS_PASSWORD,
                "conversion_name": "Calls",
                "timezone": "Europe/Kyiv",
                "default_value": 25,
            }
        )
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=2)
        self._create_session(
            start - timedelta(minutes=5), start + timedelta(minutes=20), gclid="EAIaIQ-gclid"
        )
        self._process(
            self._event(call_id="ads-1", start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), to=TRACKED)
        )
        conversion = destination.conversion_ids
        self.assertEqual(conversion.state, "pending")
        self.env["call.tracking.conversion"]._cron_send()
        self.assertEqual(conversion.state, "pending", "Google fetches it: never pushed")
        url = self.base_url() + destination.google_ads_url.split(destination.get_base_url(), 1)[1]

        def get(user, password):
            headers = {}
            if user is not None:
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            return self.opener.get(url, headers=headers, timeout=30)

        self.assertEqual(get(None, None).status_code, 401)
        self.assertEqual(get("google", "wrong-password").status_code, 401)
        self.assertEqual(get("other", ADS_PASSWORD).status_code, 401)
        response = get("google", ADS_PASSWORD)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/csv"))
        lines = response.text.splitlines()
        self.assertEqual(lines[0], "Parameters:TimeZone=Europe/Kyiv")
        self.assertEqual(lines[1].split(","), list(tools.GOOGLE_ADS_HEADER))
        row = lines[2].split(",")
        kyiv = start.replace(tzinfo=UTC).astimezone(__import__("pytz").timezone("Europe/Kyiv"))
        self.assertEqual(
            row,
            [
                "EAIaIQ-gclid",
                "Calls",
                kyiv.strftime("%Y-%m-%d %H:%M:%S"),
                "25.00",
                destination.currency_id.name,
            ],
        )
        conversion.invalidate_recordset()
        self.assertEqual(conversion.state, "sent")
        # another destination's id with these credentials: refused
        self.assertEqual(
            self.opener.get(url.replace(f"/{destination.id}/", "/999999/"), timeout=30).status_code,
            401,
        )
