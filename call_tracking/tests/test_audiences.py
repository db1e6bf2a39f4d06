"""Callers as ad audiences: each platform's normalisation and hashing, and
the sync of additions and removals against loopback stand-ins."""

import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import BaseCase

from ..tools import outbound
from ..tools.audiences import (
    google_csv,
    google_phone_hash,
    meta_payloads,
    meta_phone_hash,
    yandex_csv,
    yandex_phone_hash,
)
from .common import CallTrackingCommon
from .conversion_standin import StandIn

TOKEN = "audience-token-0123456789abcdef"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


class TestAudienceFormats(BaseCase):
    def test_phone_normalisation_per_platform(self):
        number = "+380 50 123-45-67"
        # Google: E.164 with its +; Meta: digits, country code, no +;
        # Yandex: digits with the country code
        self.assertEqual(google_phone_hash(number), sha("+380501234567"))
        self.assertEqual(meta_phone_hash(number), sha("380501234567"))
        self.assertEqual(yandex_phone_hash(number), sha("380501234567"))
        # Meta drops leading zeros (an international 00 prefix)
        self.assertEqual(meta_phone_hash("00380501234567"), sha("380501234567"))
        for hasher in (google_phone_hash, meta_phone_hash, yandex_phone_hash):
            self.assertEqual(hasher(""), "")
            self.assertEqual(hasher(None), "")
            self.assertRegex(hasher(number), r"^[0-9a-f]{64}$")

    def test_files(self):
        hashes = {sha("b"), sha("a")}
        self.assertEqual(google_csv(hashes).decode().splitlines(), ["Phone", *sorted(hashes)])
        self.assertEqual(yandex_csv(hashes).decode().splitlines(), ["phone", *sorted(hashes)])

    def test_meta_batches(self):
        hashes = {sha(str(index)) for index in range(10001)}
        payloads = list(meta_payloads(hashes))
        self.assertEqual([len(p["data"]) for p in payloads], [10000, 1])
        self.assertEqual(payloads[0]["schema"], ["PHONE"])
        self.assertEqual({row[0] for p in payloads for row in p["data"]}, hashes)


@tagged("post_install", "-at_install")
class TestAudienceSync(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            outbound.ALLOWED_NETWORKS_PARAM, "127.0.0.0/8"
        )
        cls.standin = StandIn()
        handler = cls.standin.server.RequestHandlerClass
        handler.do_DELETE = handler.do_POST
        cls.addClassCleanup(cls.standin.server.shutdown)
        Lead = cls.env["crm.lead"]
        cls.targeted_lead, cls.untargeted_lead = Lead.create(
            [
                {"name": "Good caller", "call_quality": "targeted", "phone": "+380501110001"},
                {"name": "Spammy caller", "call_quality": "untargeted", "phone": "+380501110002"},
            ]
        )
        cls.numbers = ["+380501110001", "+380501110003", "+380501110004", "+380501110002"]
        leads = [cls.targeted_lead, cls.targeted_lead, cls.targeted_lead, cls.untargeted_lead]
        cls.calls = cls.env["call.tracking.call"].create(
            [
                {
                    "provider_id": cls.provider.id,
                    "provider_call_id": f"audience-{index}",
                    "company_id": cls.company.id,
                    "caller_number": number,
                    "status": "answered",
                    "lead_id": lead.id,
                    "start_at": fields.Datetime.now() - timedelta(days=10),
                }
                for index, (number, lead) in enumerate(zip(cls.numbers, leads, strict=True))
            ]
        )
        # the caller of call 3 asked not to be contacted
        cls.env["phone.blacklist"].sudo().create({"number": "+380501110004"})

    def setUp(self):
        super().setUp()
        self.standin.requests.clear()
        self.standin.answers.clear()

    def _audience(self, platform, **values):
        return (
            self.env["call.tracking.audience"]
            .sudo()
            .create(
                {
                    "name": f"Targeted callers ({platform})",
                    "platform": platform,
                    "call_domain": (
                        f"[('quality', '=', 'targeted'), ('id', 'in', {self.calls.ids})]"
                    ),
                    "access_token": TOKEN,
                    "endpoint_url": f"{self.standin.url}/api",
                    **values,
                }
            )
        )

    def test_meta_additions_then_removals(self):
        audience = self._audience("meta", platform_audience_ref="6011")
        self.assertTrue(audience._sync())
        self.assertEqual(len(self.standin.requests), 1)
        request = self.standin.requests[0]
        self.assertEqual((request["method"], request["path"]), ("POST", "/api/6011/users"))
        form = parse_qs(request["body"].decode())
        self.assertEqual(form["access_token"], [TOKEN])
        payload = json.loads(form["payload"][0])
        self.assertEqual(payload["schema"], ["PHONE"])
        # targeted callers, the blacklisted one left out; digits without +
        expected = {sha("380501110001"), sha("380501110003")}
        self.assertEqual({row[0] for row in payload["data"]}, expected)
        self.assertEqual(audience.member_count, 2)
        self.assertTrue(audience.size_warning, "2 people: below the platforms' minimum of 100")
        # nothing changed: nothing sent
        self.standin.requests.clear()
        audience._sync()
        self.assertEqual(self.standin.requests, [])
        # the caller of call 2 turns out untargeted: removed, nothing re-added
        self.calls[1].lead_id = self.untargeted_lead
        audience._sync()
        self.assertEqual([r["method"] for r in self.standin.requests], ["DELETE"])
        payload = json.loads(parse_qs(self.standin.requests[0]["body"].decode())["payload"][0])
        self.assertEqual(payload["data"], [[sha("380501110003")]])
        self.assertEqual(audience.member_ids.phone_hash, sha("380501110001"))
        self.assertEqual((audience.last_sync_added, audience.last_sync_removed), (0, 1))

    def test_platform_refusal_sends_nothing_twice(self):
        audience = self._audience("meta", platform_audience_ref="6012")
        self.standin.answer((500, json.dumps({"error": {"message": "Service unavailable"}})))
        self.assertFalse(audience._sync())
        self.assertIn("Service unavailable", audience.last_error)
        self.assertNotIn(TOKEN, audience.last_error)
        self.assertEqual(audience.member_count, 0)
        self.assertFalse(audience.last_sync_at)
        # the next run sends the same people once, then records them
        audience._sync()
        self.assertFalse(audience.last_error)
        self.assertEqual(audience.member_count, 2)
        self.assertEqual(len(self.standin.requests), 2)

    def test_yandex_creates_then_modifies_the_segment(self):
        audience = self._audience("yandex")
        self.standin.answer((200, json.dumps({"segment": {"id": 777, "status": "uploaded"}})))
        audience._sync()
        upload, confirm = self.standin.requests
        self.assertEqual(upload["path"], "/api/segments/upload_csv_file")
        self.assertEqual(upload["headers"]["Authorization"], f"OAuth {TOKEN}")
        self.assertIn(b'name="file"', upload["body"])
        self.assertIn(
            b"phone\n" + min(sha("380501110001"), sha("380501110003")).encode(),
            upload["body"],
        )
        self.assertEqual(confirm["path"], "/api/segment/777/confirm")
        self.assertEqual(
            json.loads(confirm["body"])["segment"],
            {
                "id": 777,
                "name": audience.name,
                "hashed": True,
                "hashing_alg": "SHA256",
                "content_type": "crm",
            },
        )
        self.assertEqual(audience.platform_audience_ref, "777")
        # a new targeted caller: one addition
        self.standin.requests.clear()
        self.calls[3].lead_id = self.targeted_lead
        audience._sync()
        (modify,) = self.standin.requests
        self.assertEqual(modify["path"], "/api/segment/777/modify_data")
        self.assertEqual(modify["query"]["modification_type"], ["addition"])
        self.assertIn(sha("380501110002").encode(), modify["body"])
        self.assertNotIn(sha("380501110001").encode(), modify["body"])

    def test_google_ads_files(self):
        audience = self._audience("google_ads")
        audience._sync()
        self.assertEqual(self.standin.requests, [], "Customer Match is uploaded by hand")
        added = base64.b64decode(audience.added_csv).decode().splitlines()
        self.assertEqual(added, ["Phone", *sorted([sha("+380501110001"), sha("+380501110003")])])
        self.calls[1].lead_id = self.untargeted_lead
        audience._sync()
        removed = base64.b64decode(audience.removed_csv).decode().splitlines()
        self.assertEqual(removed, ["Phone", sha("+380501110003")])

    def test_lead_segment_leaves_out_blacklists(self):
        self.env["mail.blacklist"].sudo().create({"email": "no@example.com"})
        won = self.env["crm.lead"].create(
            [
                {"name": "Won 1", "phone": "+380671110001", "probability": 100},
                {"name": "Won 2", "phone": "+380671110002", "email_from": "no@example.com"},
            ]
        )
        audience = self._audience(
            "meta",
            source="lead",
            lead_domain=f"[('id', 'in', {won.ids})]",
            platform_audience_ref="6013",
        )
        self.assertEqual(audience._get_phone_numbers(), {"+380671110001"})

    def test_relative_dates(self):
        """A segment of the last 90 days, written as Odoo's filters are."""
        self.calls[0].start_at = "2020-01-01 10:00:00"
        audience = self._audience(
            "meta",
            platform_audience_ref="6016",
            call_domain=(
                "[('start_at', '>=', (context_today() - relativedelta(days=90))"
                f".strftime('%Y-%m-%d')), ('id', 'in', {self.calls.ids})]"
            ),
        )
        self.assertEqual(audience._get_phone_numbers(), {"+380501110003", "+380501110002"})

    def test_bad_domain_refused(self):
        with self.assertRaises(ValidationError):
            self._audience("meta", call_domain="[('no_such_field', '=', 1)]")
        with self.assertRaises(ValidationError):
            self._audience("meta", call_domain="[('quality', '=', ")

    def test_internal_endpoint_refused_at_sync(self):
        audience = self._audience("meta", platform_audience_ref="6014")
        audience.endpoint_url = "http://169.254.169.254/latest"
        self.env["ir.config_parameter"].sudo().set_param(outbound.ALLOWED_NETWORKS_PARAM, "")
        self.assertFalse(audience._sync())
        self.assertIn("refused", audience.last_error)
        self.assertEqual(audience.member_count, 0)

    def test_access(self):
        audience = self._audience("meta", platform_audience_ref="6015")
        with self.assertRaises(AccessError):
            audience.with_user(self.salesman).read(["name"])
        with self.assertRaises(AccessError):
            audience.with_user(self.salesman).action_sync()
        as_admin = audience.with_user(self.ct_admin)
        self.assertTrue(as_admin.has_access_token)
        with self.assertRaises(AccessError):
            as_admin.read(["access_token"])
        with self.assertRaises(AccessError):
            as_admin.read(["endpoint_url"])
        # a call tracking administrator sets a new token, never reads it
        as_admin.access_token_input = "new-token-0123456789"
        self.assertEqual(audience.sudo().access_token, "new-token-0123456789")
        as_admin.action_sync()
        self.assertEqual(audience.member_count, 2)
