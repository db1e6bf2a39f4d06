from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users

from .common import CALLER, FALLBACK, STATIC, TRACKED, CallTrackingCommon, later


@tagged("post_install", "-at_install")
class TestWebhookAttribution(CallTrackingCommon):
    def test_provider_team_and_salesperson_of_its_company(self):
        other_team = self.env["crm.team"].create(
            {"name": "Other team", "company_id": self.company_2.id}
        )
        with self.assertRaises(UserError):
            self.provider.team_id = other_team
        with self.assertRaises(UserError):
            self.provider.user_id = self.manager_2
        self.provider.team_id = self.team  # same company: fine

    def test_live_session(self):
        session = self._create_session(
            later(self.call_time, minutes=-10), later(self.call_time, minutes=20)
        )
        call = self._process(self._event())
        self.assertEqual(call.session_id, session)
        self.assertEqual(call.attribution_method, "session")
        self.assertEqual(call.attribution_confidence, "high")
        self.assertEqual(call.landing_url, "https://shop.example/plumbing?utm_source=google")

    def test_lapsed_session(self):
        old = self._create_session(
            later(self.call_time, hours=-3), later(self.call_time, hours=-2), visitor_key="old"
        )
        last = self._create_session(
            later(self.call_time, hours=-1), later(self.call_time, minutes=-30), visitor_key="last"
        )
        # leased again after the call: not the caller's session
        self._create_session(
            later(self.call_time, minutes=5), later(self.call_time, minutes=35), visitor_key="new"
        )
        call = self._process(self._event())
        self.assertNotEqual(call.session_id, old)
        self.assertEqual(call.session_id, last)
        self.assertEqual(call.attribution_method, "session_expired")
        self.assertEqual(call.attribution_confidence, "low")

    def test_static_channel(self):
        call = self._process(self._event(to=STATIC))
        self.assertEqual(call.attribution_method, "static")
        self.assertEqual(call.channel_id, self.channel_static)
        self.assertEqual(call.source_id, self.source_billboard)
        self.assertEqual(call.medium_id, self.medium_offline)
        self.assertEqual(call.lead_id.source_id, self.source_billboard)
        self.assertEqual(call.lead_id.tracking_channel_id, self.channel_static)

    def test_default_and_unknown(self):
        call = self._process(self._event(call_id="d", to=FALLBACK))
        self.assertEqual(call.attribution_method, "default")
        call = self._process(self._event(call_id="u", to="+380449999999"))
        self.assertEqual(call.attribution_method, "unknown")
        # a national number is normalised with the company's country or the '+' rule
        call = self._process(self._event(call_id="n", to=TRACKED.lstrip("+")))
        self.assertEqual(call.called_number, TRACKED)

    def test_partner_matched_by_phone(self):
        partner = self.env["res.partner"].create({"name": "Olena", "phone": "+380 50 111 22 33"})
        call = self._process(self._event())
        self.assertEqual(call.lead_id.partner_id, partner)
        self.assertEqual(call.lead_id.phone, CALLER)

    def test_repeat_caller_reuses_open_lead(self):
        first = self._process(self._event(call_id="c1"))
        second = self._process(
            self._event(call_id="c2", start=later(self.call_time, days=2).isoformat() + "Z")
        )
        self.assertTrue(first.is_first_call)
        self.assertFalse(first.is_repeat)
        self.assertTrue(second.is_repeat)
        self.assertFalse(second.is_first_call)
        self.assertEqual(second.lead_id, first.lead_id)
        self.assertEqual(len(first.lead_id.call_ids), 2)
        # outside the window: a new lead
        self.company.call_tracking_repeat_days = 1
        third = self._process(
            self._event(call_id="c3", start=later(self.call_time, days=10).isoformat() + "Z")
        )
        self.assertFalse(third.is_repeat)
        self.assertNotEqual(third.lead_id, first.lead_id)

    def test_repeat_caller_won_lead_not_reused(self):
        first = self._process(self._event(call_id="c1"))
        first.lead_id.action_set_won()
        second = self._process(
            self._event(call_id="c2", start=later(self.call_time, hours=1).isoformat() + "Z")
        )
        self.assertTrue(second.is_repeat)
        self.assertNotEqual(second.lead_id, first.lead_id)

    def test_late_start_does_not_downgrade(self):
        call = self._process(self._event("call_end"), self._event("call_start"))
        self.assertEqual(len(call), 1)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.duration, 95)


@tagged("post_install", "-at_install")
class TestWebhookAccess(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        payload = {
            "event": "call_end",
            "call_id": "acc-1",
            "from": CALLER,
            "to": TRACKED,
            "start": "2026-11-22T10:15:00Z",
            "duration": 10,
            "status": "answered",
        }
        status, _content_type, answer = cls._receive_signed(payload)
        assert status == 200, answer
        cls.call = cls.env["call.tracking.call"].search([("provider_call_id", "=", "acc-1")])

    @users("ct_salesman")
    def test_salesperson_sees_calls_of_own_leads(self):
        calls = self.env["call.tracking.call"].search([])
        self.assertEqual(calls, self.call.with_env(self.env))
        self.assertEqual(self.call.lead_id.with_env(self.env).call_count, 1)

    @users("ct_salesman")
    def test_salesperson_cannot_change_calls_but_qualifies_leads(self):
        """Calls are written by the webhooks only: a salesperson cannot
        re-link them or change their salesperson or team, but qualifies the
        call-lead, which the call mirrors."""
        call = self.call.with_env(self.env)
        other_lead = self.env["crm.lead"].create({"name": "Another lead"})
        for vals in (
            {"lead_id": other_lead.id},
            {"user_id": self.salesman2.id},
            {"team_id": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                call.write(vals)
        with self.assertRaises(AccessError):
            call.unlink()
        call.lead_id.action_call_untargeted()
        self.assertEqual(call.quality, "untargeted")
        call.lead_id.action_call_targeted()
        self.assertEqual(call.quality, "targeted")

    @users("ct_salesman2")
    def test_other_salesperson_sees_nothing(self):
        self.assertFalse(self.env["call.tracking.call"].search([]))
        with self.assertRaises(AccessError):
            self.call.with_env(self.env).read(["caller_number"])
        with self.assertRaises(AccessError):
            self.env["call.tracking.webhook.event"].search([])
        with self.assertRaises(AccessError):
            self.provider.with_env(self.env).read(["secret"])

    @users("ct_manager")
    def test_manager_sees_all(self):
        self.assertIn(self.call.id, self.env["call.tracking.call"].search([]).ids)
        self.assertTrue(self.env["call.tracking.webhook.event"].search([]))
        # the signing secret is for Settings administrators only (write-only here)
        self.assertTrue(self.provider.with_env(self.env).has_secret)
        with self.assertRaises(AccessError):
            self.provider.with_env(self.env).read(["secret"])

    @users("ct_manager_2")
    def test_other_company_sees_nothing(self):
        self.assertFalse(self.env["call.tracking.call"].search([]))
        self.assertFalse(self.env["call.tracking.webhook.event"].search([]))
        with self.assertRaises(AccessError):
            self.call.with_env(self.env).read(["caller_number"])
