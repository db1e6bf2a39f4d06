from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users

from .common import GOOGLE_ADS_URL, CallTrackingCommon


@tagged("post_install", "-at_install")
class TestTestCall(CallTrackingCommon):
    """The Test call button: a signed sample request of the number's
    provider goes through the real verification and processing, and makes a
    call flagged as a test, with its lead, left out of the reports."""

    def _test_call(self, number):
        action = number.action_test_call()
        self.assertEqual(action["tag"], "display_notification")
        calls = self.env["call.tracking.call"].search(
            [("is_test", "=", True), ("number_id", "=", number.id)], order="id desc", limit=1
        )
        self.assertTrue(calls, "the test call is visible to whoever pressed the button")
        self.assertEqual(action["params"]["next"]["res_model"], "crm.lead")
        self.assertEqual(action["params"]["next"]["res_id"], calls.lead_id.id)
        return calls

    @users("ct_salesman2")
    def test_leased_number_as_salesperson(self):
        """A leased pool number: the call is matched to the visitor's lease,
        the lead goes to the salesperson who pressed the button."""
        answer = self.assign(url=GOOGLE_ADS_URL, key=None)
        self.assertEqual(answer["mode"], "dynamic")
        number = self.env["call.tracking.number"].search([("number", "=", answer["number"])])
        call = self._test_call(number)
        self.assertEqual(call.attribution_method, "session")
        self.assertEqual(call.channel_id, self.channel_google)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.lead_id.user_id, self.env.user)
        self.assertEqual(call.lead_id.tracking_channel_id, self.channel_google)
        self.assertIn("Test call", call.lead_id.name)
        inbox = self.env["call.tracking.webhook.event"].sudo().search([("call_id", "=", call.id)])
        self.assertEqual(inbox.state, "processed", "the request went through the inbox")
        # salespeople cannot delete calls
        with self.assertRaises(AccessError):
            self.env["call.tracking.call"].action_delete_test_calls()

    @users("ct_manager")
    def test_static_number_as_manager(self):
        """A static number: the call goes to its channel; the reports leave it out."""
        call = self._test_call(self.number_billboard.with_env(self.env))
        self.assertEqual(call.attribution_method, "static")
        self.assertEqual(call.channel_id, self.channel_billboard)
        self.assertEqual(call.lead_id.user_id, self.env.user)
        self.env.flush_all()
        Report = self.env["call.tracking.call.report"]
        self.assertFalse(Report.search_count([("call_id", "=", call.id)]))
        # the same call, made real, is in the report
        call.sudo().is_test = False
        self.env.flush_all()
        self.assertEqual(Report.search_count([("call_id", "=", call.id)]), 1)

    @users("ct_manager")
    def test_pool_number_not_leased(self):
        """A pool number nobody holds: the call goes to the pool's channel
        (the first by sequence), without a visit."""
        number = self.pool_numbers[-1].with_env(self.env)
        self.assertFalse(number.sudo().lease_session_id, "not leased")
        call = self._test_call(number)
        self.assertFalse(call.session_id)
        self.assertEqual(call.channel_id, self.channel_google)
        self.assertTrue(call.lead_id)

    @users("ct_manager")
    def test_provider_button_and_delete(self):
        """The provider's button calls its first number; Delete Test Calls
        removes the test calls and their leads, never a real call."""
        real = self._process(self._event(call_id="real-1", to=self.number_seo.number))
        action = self.provider.with_env(self.env).action_test_call()
        self.assertEqual(action["tag"], "display_notification")
        tests = self.env["call.tracking.call"].search([("is_test", "=", True)])
        self.assertEqual(len(tests), 1)
        lead = tests.lead_id
        # a real call from the test caller does not join the test lead
        caller = {"from": tests.caller_number}
        seo = self.number_seo.number
        later_real = self._process(self._event(call_id="real-2", to=seo, **caller))
        self.assertNotEqual(later_real.lead_id, lead)
        self.env["call.tracking.call"].action_delete_test_calls()
        self.assertFalse(tests.exists())
        self.assertFalse(lead.exists())
        self.assertTrue(real.exists() and real.lead_id.exists())
        self.assertTrue(later_real.exists())

    def test_each_provider_kind(self):
        """Twilio and Zadarma test calls are signed as those providers sign."""
        for kind, extra in (("twilio", {}), ("zadarma", {"zadarma_timezone": "Europe/Kyiv"})):
            with self.subTest(kind=kind):
                provider = self.env["call.tracking.provider"].create(
                    {"name": kind, "kind": kind, "secret": f"{kind}-secret-0123456789", **extra}
                )
                self.number_direct.provider_id = provider
                call = self._test_call(self.number_direct)
                self.assertEqual(call.provider_id, provider)
                self.assertEqual(call.status, "answered")
                self.assertEqual(call.channel_id, self.channel_direct)
                self.assertTrue(call.lead_id)

    def test_refusals(self):
        """No provider, or a provider without its secret: a clear error."""
        self.number_direct.provider_id = False
        with self.assertRaisesRegex(UserError, "no provider"):
            self.number_direct.action_test_call()
        self.number_direct.provider_id = self.provider
        self.provider.sudo().secret = False
        with self.assertRaisesRegex(UserError, "no signing secret"):
            self.number_direct.action_test_call()
        self.assertFalse(self.env["call.tracking.call"].search([("is_test", "=", True)]))
